/* test_util.h - the tiny harness every test program uses.
 * CHECK records a failure and goes on; a test's main ends with
 * `return dn_test_finish();`, which prints "N passed, N failed" and returns
 * non-zero when anything failed. */
#ifndef DN_TEST_UTIL_H
#define DN_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "digitnet/rng.h"

#define DN_TEST_SKIP 77

void dn_test_record(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int dn_test_finish(void);

#define CHECK(cond, ...) dn_test_record((cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_OK(expr)                                                                          \
    do {                                                                                        \
        dn_status check_status_ = (expr);                                                      \
        dn_test_record(check_status_ == DN_OK, __FILE__, __LINE__, "%s -> %s: %s", #expr,       \
                       dn_status_name(check_status_), dn_last_error());                         \
    } while (0)

/* Largest |a[i] - b[i]|. */
double dn_test_max_abs_diff(const float *a, const float *b, size_t n);

/* Fills x with uniform values in [low, high). */
void dn_test_fill_uniform(dn_rng *rng, float *x, size_t n, float low, float high);

/* Reads a whole file into a malloc'd buffer (NUL-terminated); NULL on failure. */
char *dn_test_read_file(const char *path, size_t *length);

#endif
