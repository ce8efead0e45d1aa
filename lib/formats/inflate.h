/* inflate.h - the growable output buffer shared by inflate.c and gzip.c, so
 * the members of a gzip file decompress one after another into one buffer. */
#ifndef DN_INFLATE_H
#define DN_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "digitnet/status.h"

/* data holds len bytes in a dn_alloc'd block of cap bytes; len never exceeds
 * max. Start from {NULL, 0, 0, max}; the owner releases data with dn_free. */
typedef struct dn_inflate_output {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
} dn_inflate_output;

/* Makes room for at least extra more bytes; fails with DN_ERR_UNSUPPORTED
 * when len + extra would exceed max, or DN_ERR_NOMEM. Grows geometrically. */
dn_status dn_inflate_reserve(dn_inflate_output *out, size_t extra);

/* Decompresses one raw DEFLATE stream from in, appending to out. Matches may
 * not reach back before the output this stream wrote. *in_used receives the
 * number of input bytes the stream occupied, rounded up to a whole byte. On
 * failure out->len may have grown; out->data stays owned by the caller. */
dn_status dn_inflate_append(dn_inflate_output *out, const uint8_t *in, size_t in_len,
                            size_t *in_used);

#endif
