/* internal.h - helpers shared by the library's own files; never installed.
 * Error reporting, aligned allocation and small arithmetic guards. */
#ifndef DN_INTERNAL_H
#define DN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/memory.h"
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
/* dn_free is public: digitnet/memory.h */

/* *out = a * b, false if it overflows size_t. */
static inline bool dn_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* Sum of x[0..n) in an order fixed by n alone: 16 interleaved partial sums
 * (so the compiler can keep them in vector registers; a single running sum
 * is bound by the add latency), then those 16 in order. */
static inline float dn_sum(const float *x, size_t n)
{
    float partial[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++)
            partial[k] += x[i + k];
    float sum = 0.0f;
    for (; i < n; i++)
        sum += x[i];
    for (int k = 0; k < 16; k++)
        sum += partial[k];
    return sum;
}

/* Index of the first NaN or infinity in x[0..n), or n when all are finite. */
static inline size_t dn_find_non_finite(const float *x, size_t n)
{
    /* finite floats satisfy x - x == 0; NaN and infinities give NaN */
    float probe = 0.0f;
    for (size_t i = 0; i < n; i++)
        probe += (x[i] - x[i]);
    if (probe == 0.0f)
        return n;
    size_t i = 0;
    while (i < n && x[i] - x[i] == 0.0f)
        i++;
    return i;
}

/* x[i] = 0 where mask[i] is not > 0, for the backward pass of a relu folded
 * into the layer before it (mask is that layer's relu'd output). */
void dn_relu_mask(float *x, const float *mask, size_t n);

/* The same on the calling thread, for a piece of work inside a parallel loop. */
static inline void dn_relu_mask_here(float *restrict x, const float *restrict mask, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = mask[i] > 0.0f ? x[i] : 0.0f;
}

#endif
