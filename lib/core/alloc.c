/* alloc.c - the library's allocator: 64-byte aligned blocks (whole cache
 * lines, aligned vector loads), zero-filled on request, released by the
 * public dn_free. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void *dn_alloc(size_t bytes)
{
    if (bytes == 0)
        bytes = 1;
    if (bytes > SIZE_MAX - 63)
        return NULL;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, rounded);
}

void *dn_calloc(size_t count, size_t size)
{
    size_t bytes;
    if (!dn_mul_size(count, size, &bytes))
        return NULL;
    void *ptr = dn_alloc(bytes);
    if (ptr)
        memset(ptr, 0, bytes);
    return ptr;
}

void dn_free(void *ptr) { free(ptr); }
