/* gzip.c - the gzip container (RFC 1952) around inflate.c: member headers,
 * CRC-32 and length trailers, concatenated members; and CRC-32 itself. */
#include <string.h>

#include "digitnet/gzip.h"
#include "inflate.h"
#include "internal.h"

enum {
    GZIP_FHCRC = 0x02,
    GZIP_FEXTRA = 0x04,
    GZIP_FNAME = 0x08,
    GZIP_FCOMMENT = 0x10,
    GZIP_FRESERVED = 0xe0,
    GZIP_METHOD_DEFLATE = 8,
    GZIP_MAX_RATIO = 1032, /* DEFLATE cannot expand one byte into more than this */
};

static const uint32_t crc_polynomial = 0xEDB88320u;

/* One byte of CRC-32 division, one bit at a time. */
static inline uint32_t crc_byte_bitwise(uint32_t crc)
{
    for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (crc_polynomial & (0u - (crc & 1u)));
    return crc;
}

/* Long inputs go through a 256-entry table built on the stack for the call
 * (a few microseconds), which keeps the library free of global state; short
 * ones go bit by bit. */
uint32_t dn_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    if (len < 1024) {
        for (size_t i = 0; i < len; i++)
            crc = crc_byte_bitwise(crc ^ data[i]);
        return ~crc;
    }
    uint32_t table[256];
    for (uint32_t n = 0; n < 256; n++)
        table[n] = crc_byte_bitwise(n);
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

bool dn_gzip_detect(const uint8_t *data, size_t len)
{
    return data && len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static dn_status truncated_header(size_t start, const char *where)
{
    return dn_fail(DN_ERR_FORMAT, "gzip: truncated header of the member at byte %zu (input ends in %s)", start,
                   where);
}

/* Checks the member header at in[start] and sets *data to the offset of its
 * DEFLATE stream. */
static dn_status read_header(const uint8_t *in, size_t len, size_t start, size_t *data)
{
    if (len - start < 10)
        return truncated_header(start, "the fixed fields");
    const uint8_t *h = in + start;
    if (h[2] != GZIP_METHOD_DEFLATE)
        return dn_fail(DN_ERR_UNSUPPORTED, "gzip: compression method %u in the member at byte %zu is not deflate (8)",
                       h[2], start);
    unsigned flags = h[3];
    if (flags & GZIP_FRESERVED)
        return dn_fail(DN_ERR_FORMAT, "gzip: reserved header flags 0x%02x set in the member at byte %zu",
                       flags & GZIP_FRESERVED, start);
    size_t p = start + 10;
    if (flags & GZIP_FEXTRA) {
        if (len - p < 2)
            return truncated_header(start, "the extra field length");
        size_t xlen = in[p] | (size_t)in[p + 1] << 8;
        p += 2;
        if (len - p < xlen)
            return truncated_header(start, "the extra field");
        p += xlen;
    }
    if (flags & GZIP_FNAME) {
        const uint8_t *end = memchr(in + p, 0, len - p);
        if (!end)
            return truncated_header(start, "the file name");
        p = (size_t)(end - in) + 1;
    }
    if (flags & GZIP_FCOMMENT) {
        const uint8_t *end = memchr(in + p, 0, len - p);
        if (!end)
            return truncated_header(start, "the comment");
        p = (size_t)(end - in) + 1;
    }
    if (flags & GZIP_FHCRC) {
        if (len - p < 2)
            return truncated_header(start, "the header CRC");
        unsigned stored = in[p] | (unsigned)in[p + 1] << 8;
        unsigned actual = dn_crc32(0, h, p - start) & 0xffff;
        if (stored != actual)
            return dn_fail(DN_ERR_FORMAT, "gzip: header CRC mismatch in the member at byte %zu: stored %04x, computed %04x",
                           start, stored, actual);
        p += 2;
    }
    *data = p;
    return DN_OK;
}

/* Decompresses the member at in[start] onto out; *end receives the offset
 * just past its trailer. */
static dn_status read_member(const uint8_t *in, size_t len, size_t start, dn_inflate_output *out, size_t *end)
{
    size_t data = 0;
    dn_status status = read_header(in, len, start, &data);
    if (status != DN_OK)
        return status;
    size_t first = out->len, used = 0;
    status = dn_inflate_append(out, in + data, len - data, &used);
    if (status != DN_OK)
        return dn_fail_context(status, "gzip: member at byte %zu (deflate data from byte %zu)", start, data);
    size_t p = data + used;
    if (len - p < 8)
        return dn_fail(DN_ERR_FORMAT, "gzip: truncated trailer of the member at byte %zu (need 8 bytes of CRC-32 and "
                       "length at byte %zu, have %zu)", start, p, len - p);
    size_t produced = out->len - first;
    uint32_t stored_crc = le32(in + p), stored_size = le32(in + p + 4);
    uint32_t actual_crc = produced ? dn_crc32(0, out->data + first, produced) : 0;
    if (stored_crc != actual_crc)
        return dn_fail(DN_ERR_FORMAT, "gzip: CRC-32 mismatch in the member at byte %zu: trailer says %08x, data gives %08x",
                       start, stored_crc, actual_crc);
    if (stored_size != (uint32_t)produced)
        return dn_fail(DN_ERR_FORMAT, "gzip: length mismatch in the member at byte %zu: trailer says %u bytes (mod 2^32), "
                       "data has %zu", start, stored_size, produced);
    *end = p + 8;
    return DN_OK;
}

dn_status dn_gunzip(uint8_t **out, size_t *out_len, const uint8_t *in, size_t in_len, size_t max_out)
{
    if (!out || !out_len || (!in && in_len))
        return dn_fail(DN_ERR_ARG, "dn_gunzip: NULL buffer");
    *out = NULL;
    *out_len = 0;
    if (in_len == 0)
        return dn_fail(DN_ERR_FORMAT, "gzip: empty input");
    if (!dn_gzip_detect(in, in_len))
        return dn_fail(DN_ERR_FORMAT, "gzip: not gzip data (starts with %02x %02x, expected 1f 8b)", in[0],
                       in_len > 1 ? in[1] : 0u);

    dn_inflate_output buffer = {NULL, 0, 0, max_out};
    dn_status status = DN_OK;
    /* The last member's ISIZE is a good first guess of the size, unless it
     * claims more than DEFLATE could produce from this input. */
    if (in_len >= 18) {
        size_t hint = le32(in + in_len - 4);
        if (hint <= max_out && hint / GZIP_MAX_RATIO <= in_len)
            status = dn_inflate_reserve(&buffer, hint);
    }
    size_t pos = 0;
    while (status == DN_OK && pos < in_len) {
        if (!dn_gzip_detect(in + pos, in_len - pos))
            status = dn_fail(DN_ERR_FORMAT, "gzip: %zu bytes of trailing garbage after the last member (from byte %zu)",
                             in_len - pos, pos);
        else
            status = read_member(in, in_len, pos, &buffer, &pos);
    }
    if (status == DN_OK && !buffer.data && !(buffer.data = dn_alloc(1)))
        status = dn_fail(DN_ERR_NOMEM, "dn_gunzip: out of memory");
    if (status != DN_OK) {
        dn_free(buffer.data);
        return status;
    }
    *out = buffer.data;
    *out_len = buffer.len;
    return DN_OK;
}
