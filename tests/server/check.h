/* check.h - the server tests' checks: each prints "ok" or "FAIL" and what
 * was checked; check_finish prints "N passed, N failed" and gives the exit
 * status. Safe to call from several threads. */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdbool.h>

void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int check_finish(void);

#endif
