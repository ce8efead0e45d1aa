/* internal.h - helpers shared by the library's own files; never installed.
 * Error reporting, aligned allocation and small arithmetic guards. */
#ifndef DN_INTERNAL_H
#define DN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/status.h"

#if defined(__GNUC__)
#define DN_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DN_PRINTF(fmt_index, first_arg)
#endif

/* Records a formatted message for dn_last_error() and returns status, so a
 * failure reads: return dn_fail(DN_ERR_FORMAT, "%s: bad magic", path); */
dn_status dn_fail(dn_status status, const char *fmt, ...) DN_PRINTF(2, 3);

/* Prefixes the current message with "context: " and returns status unchanged. */
dn_status dn_fail_context(dn_status status, const char *fmt, ...) DN_PRINTF(2, 3);

/* 64-byte aligned allocation (zero-filled by dn_calloc). Sizes are rounded up
 * to a multiple of 64. Both return NULL on failure or on a size overflow;
 * dn_free(NULL) is a no-op. */
void *dn_alloc(size_t bytes);
void *dn_calloc(size_t count, size_t size);
void dn_free(void *ptr);

/* *out = a * b, false if it overflows size_t. */
static inline bool dn_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

#endif
