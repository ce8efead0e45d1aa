/* digitnet/gzip.h - the library's own DEFLATE (RFC 1951) and gzip (RFC 1952)
 * decoder, so that compressed datasets load without zlib.
 *
 * Usage:
 *     uint8_t *raw;
 *     size_t raw_len;
 *     if (dn_gunzip(&raw, &raw_len, bytes, n, SIZE_MAX) != DN_OK)
 *         fprintf(stderr, "%s\n", dn_last_error());
 *     ...
 *     dn_free(raw);
 *
 * Everything here only decompresses and works on whole buffers in memory.
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: the functions keep no state between calls and only read
 * their input, so any of them may run in any thread at any time, on the
 * same input too.
 *
 * Errors: malformed input
 * never crashes: it gives DN_ERR_FORMAT and a message saying what is wrong
 * (truncated stream, bad block type, invalid code lengths, distance too far
 * back, CRC-32 or length mismatch, ...) and at which input byte. Output larger
 * than the caller's max_out gives DN_ERR_UNSUPPORTED (a bound against
 * decompression bombs). */
#ifndef DIGITNET_GZIP_H
#define DIGITNET_GZIP_H
#include "digitnet/export.h"
#include "digitnet/memory.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Updates a CRC-32 (the one of gzip, zlib and PNG: reflected polynomial
 * 0xEDB88320) with len bytes. Start from crc = 0; chunks may be chained:
 * dn_crc32(dn_crc32(0, a, n), b, m) == CRC of a followed by b. */
DN_API uint32_t dn_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* True when the buffer starts with the gzip magic bytes 1f 8b. */
DN_API bool dn_gzip_detect(const uint8_t *data, size_t len);

/* Decompresses one raw DEFLATE stream (no zlib or gzip wrapper) from in.
 * Stored, fixed-Huffman and dynamic-Huffman blocks are supported. On success
 * *out is a new buffer of *out_len bytes (64-byte aligned, release it with
 * dn_free; non-NULL even when *out_len is 0) and, if in_used is not NULL,
 * *in_used is the number of input bytes the stream occupied (bytes after the
 * final block are left alone). Output beyond max_out bytes is refused; pass
 * SIZE_MAX for no limit. On failure *out is NULL and *out_len is 0: DN_ERR_ARG
 * for a NULL out or out_len (or in, with in_len > 0), DN_ERR_FORMAT for a
 * malformed stream,
 * DN_ERR_UNSUPPORTED beyond max_out, DN_ERR_NOMEM. */
DN_API dn_status dn_inflate(uint8_t **out, size_t *out_len, size_t *in_used, const uint8_t *in, size_t in_len,
                            size_t max_out);

/* Decompresses a gzip file held in memory: one or more concatenated members
 * (their outputs are concatenated, as gzip -d does), header fields FEXTRA,
 * FNAME, FCOMMENT and FHCRC (the header CRC is verified), and each member's
 * CRC-32 and ISIZE verified. Bytes after the last member that are not another
 * member are an error, as is an empty input. Output, ownership and errors as
 * for dn_inflate. */
DN_API dn_status dn_gunzip(uint8_t **out, size_t *out_len, const uint8_t *in, size_t in_len, size_t max_out);

#ifdef __cplusplus
}
#endif
#endif
