/* digitnet/memory.h - releasing buffers the library hands out.
 *
 * Objects come with their own release function (dn_net_free, dn_image_free,
 * dn_idx_free, dn_safetensors_free, ...). A plain buffer the library returns
 * (dn_inflate's and dn_gunzip's output) is 64-byte aligned memory of the
 * library's allocator: release it with dn_free, never free().
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: dn_free may run in any thread, on a buffer made in another. */
#ifndef DIGITNET_MEMORY_H
#define DIGITNET_MEMORY_H

#include "digitnet/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Releases a buffer the library returned; dn_free(NULL) does nothing.
 * Cannot fail. */
DN_API void dn_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
