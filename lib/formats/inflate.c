/* inflate.c - DEFLATE decompression (RFC 1951): stored, fixed-Huffman and
 * dynamic-Huffman blocks, with a 10-bit look-up table per Huffman code. */
#include <string.h>

#include "digitnet/gzip.h"
#include "inflate.h"
#include "internal.h"

enum {
    FAST_BITS = 10,     /* codes up to this long decode with one table look-up */
    MAX_CODE_BITS = 15, /* longest code DEFLATE allows */
    MAX_LITLEN = 288,   /* 286 usable literal/length symbols + 2 only the fixed code names */
    MAX_DIST = 32,      /* 30 usable distance symbols + 2 only the fixed code names */
    NUM_CODELEN = 19,   /* symbols of the code-length code */
    END_OF_BLOCK = 256,
};

/* A canonical Huffman code. fast[] is indexed by the next FAST_BITS input
 * bits and holds (symbol << 4) | code length, or 0 when those bits begin a
 * longer code (or no code); longer codes are decoded from count[] and
 * symbol[], one bit at a time. */
typedef struct huffman {
    uint16_t fast[1 << FAST_BITS];
    uint16_t count[MAX_CODE_BITS + 1]; /* number of codes of each length */
    uint16_t symbol[MAX_LITLEN];       /* symbols in canonical code order */
} huffman;

/* Input bits, least significant first. Bits of `bits` above `count` are either
 * zero or already the next input bits (a refill may load a byte early), so
 * OR-ing a byte in again never changes them. */
typedef struct bit_reader {
    const uint8_t *in;
    size_t len;
    size_t pos; /* next byte of in to load */
    uint64_t bits;
    unsigned count; /* number of valid bits in `bits` */
} bit_reader;

static const uint16_t length_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,
                                         15, 17, 19, 23, 27, 31, 35, 43, 51,  59,
                                         67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t length_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                         2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,
                                       17,   25,   33,   49,   65,   97,    129,   193,
                                       257,  385,  513,  769,  1025, 1537,  2049,  3073,
                                       4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
static const uint8_t codelen_order[NUM_CODELEN] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                   11, 4,  12, 3, 13, 2, 14, 1, 15};

/* Tops `bits` up to at least 57 bits, or with everything left of the input. */
static inline void refill(bit_reader *br)
{
    if (br->len - br->pos >= 8) {
        const uint8_t *p = br->in + br->pos;
        uint64_t word = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                        (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
                        (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
        br->bits |= word << br->count;
        br->pos += (63 - br->count) >> 3;
        br->count |= 56;
        return;
    }
    while (br->count <= 56 && br->pos < br->len) {
        br->bits |= (uint64_t)br->in[br->pos++] << br->count;
        br->count += 8;
    }
}

static inline void drop(bit_reader *br, unsigned n)
{
    br->bits >>= n;
    br->count -= n;
}

/* Reads n <= 16 bits; false when the input ends first. */
static inline bool take(bit_reader *br, unsigned n, uint32_t *value)
{
    if (br->count < n) {
        refill(br);
        if (br->count < n)
            return false;
    }
    *value = (uint32_t)(br->bits & ((1u << n) - 1));
    drop(br, n);
    return true;
}

/* Offset of the input byte holding the next unread bit. */
static size_t byte_position(const bit_reader *br) { return br->pos - br->count / 8; }

static dn_status truncated(const bit_reader *br)
{
    return dn_fail(DN_ERR_FORMAT, "deflate: truncated stream (input ends after %zu bytes, in the middle of a block)",
                   br->len);
}

static unsigned reverse_bits(unsigned code, unsigned len)
{
    unsigned reversed = 0;
    for (unsigned i = 0; i < len; i++) {
        reversed = (reversed << 1) | (code & 1);
        code >>= 1;
    }
    return reversed;
}

/* Builds h from n code lengths (0 = symbol unused). Returns NULL, or what is
 * wrong: an over-subscribed code, or an incomplete one (allowed only for a
 * single code of length 1, or for no codes at all, as zlib does). */
static const char *build(huffman *h, const uint8_t *lengths, int n)
{
    memset(h->count, 0, sizeof h->count);
    for (int s = 0; s < n; s++)
        h->count[lengths[s]]++;
    int left = 1;
    for (int len = 1; len <= MAX_CODE_BITS; len++) {
        left = 2 * left - h->count[len];
        if (left < 0)
            return "over-subscribed";
    }
    int codes = n - h->count[0];
    if (left > 0 && codes != 0 && !(codes == 1 && h->count[1] == 1))
        return "incomplete";

    uint16_t offset[MAX_CODE_BITS + 1];
    offset[1] = 0;
    for (int len = 1; len < MAX_CODE_BITS; len++)
        offset[len + 1] = (uint16_t)(offset[len] + h->count[len]);
    for (int s = 0; s < n; s++) {
        if (lengths[s])
            h->symbol[offset[lengths[s]]++] = (uint16_t)s;
    }

    memset(h->fast, 0, sizeof h->fast);
    unsigned code = 0, index = 0;
    for (unsigned len = 1; len <= FAST_BITS; len++) {
        for (unsigned k = 0; k < h->count[len]; k++, code++, index++) {
            uint16_t entry = (uint16_t)(h->symbol[index] << 4 | len);
            for (unsigned j = reverse_bits(code, len); j < (1u << FAST_BITS); j += 1u << len)
                h->fast[j] = entry;
        }
        code <<= 1;
    }
    return NULL;
}

/* Canonical decoding one bit at a time, for codes longer than FAST_BITS.
 * Returns the symbol and its length, or -1 if the bits form no code. */
static int decode_long(const huffman *h, uint64_t bits, unsigned *length)
{
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= MAX_CODE_BITS; len++) {
        code |= (int)(bits & 1);
        bits >>= 1;
        int count = h->count[len];
        if (code >= first && code < first + count) {
            *length = len;
            return h->symbol[index + code - first];
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

/* Next symbol of h; -1 if the input bits form no code of h, -2 if the input
 * ends in the middle of a code. */
static inline int decode(bit_reader *br, const huffman *h)
{
    if (br->count < MAX_CODE_BITS)
        refill(br);
    unsigned entry = h->fast[br->bits & ((1u << FAST_BITS) - 1)];
    unsigned len = entry & 15;
    int symbol = (int)(entry >> 4);
    if (len == 0) {
        symbol = decode_long(h, br->bits, &len);
        if (symbol < 0)
            return br->count < MAX_CODE_BITS ? -2 : -1;
    }
    if (len > br->count)
        return -2;
    drop(br, len);
    return symbol;
}

static dn_status bad_symbol(const bit_reader *br, int symbol, const char *what)
{
    if (symbol == -2)
        return truncated(br);
    return dn_fail(DN_ERR_FORMAT, "deflate: invalid %s code at input byte %zu", what, byte_position(br));
}

dn_status dn_inflate_reserve(dn_inflate_output *out, size_t extra)
{
    if (out->cap - out->len >= extra)
        return DN_OK;
    if (extra > out->max - out->len)
        return dn_fail(DN_ERR_UNSUPPORTED, "deflate: output exceeds the limit of %zu bytes", out->max);
    size_t need = out->len + extra;
    size_t cap = out->cap < 4096 ? 4096 : out->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : 2 * cap;
    if (cap > out->max)
        cap = out->max;
    uint8_t *data = dn_alloc(cap);
    if (!data)
        return dn_fail(DN_ERR_NOMEM, "deflate: cannot allocate %zu bytes of output", cap);
    if (out->len)
        memcpy(data, out->data, out->len);
    dn_free(out->data);
    out->data = data;
    out->cap = cap;
    return DN_OK;
}

static dn_status stored_block(bit_reader *br, dn_inflate_output *out)
{
    drop(br, br->count & 7);
    br->pos -= br->count / 8;
    br->bits = 0;
    br->count = 0;
    if (br->len - br->pos < 4)
        return truncated(br);
    const uint8_t *p = br->in + br->pos;
    unsigned len = p[0] | (unsigned)p[1] << 8;
    unsigned nlen = p[2] | (unsigned)p[3] << 8;
    if (len != (~nlen & 0xffff))
        return dn_fail(DN_ERR_FORMAT,
                       "deflate: stored block length %u does not match its complement %u at input byte %zu",
                       len, nlen, br->pos);
    br->pos += 4;
    if (br->len - br->pos < len)
        return truncated(br);
    if (len) {
        dn_status status = dn_inflate_reserve(out, len);
        if (status != DN_OK)
            return status;
        memcpy(out->data + out->len, br->in + br->pos, len);
        out->len += len;
        br->pos += len;
    }
    return DN_OK;
}

/* Decodes literals and matches until the end-of-block code. base is where
 * this stream's output starts: matches may not reach before it. Works on
 * local copies of the reader and the buffer so they stay in registers. */
static dn_status huffman_block(bit_reader *reader, dn_inflate_output *output, size_t base,
                               const huffman *litlen, const huffman *dist)
{
    bit_reader br = *reader;
    dn_inflate_output out = *output;
    dn_status status = DN_OK;
    for (;;) {
        int symbol = decode(&br, litlen);
        if (symbol < 256) {
            if (symbol < 0) {
                status = bad_symbol(&br, symbol, "literal/length");
                break;
            }
            if (out.len == out.cap && (status = dn_inflate_reserve(&out, 1)) != DN_OK)
                break;
            out.data[out.len++] = (uint8_t)symbol;
            continue;
        }
        if (symbol == END_OF_BLOCK)
            break;
        symbol -= 257;
        if (symbol >= 29) {
            status = dn_fail(DN_ERR_FORMAT, "deflate: invalid literal/length symbol %d at input byte %zu",
                             symbol + 257, byte_position(&br));
            break;
        }
        uint32_t extra;
        if (!take(&br, length_extra[symbol], &extra)) {
            status = truncated(&br);
            break;
        }
        size_t length = length_base[symbol] + extra;
        symbol = decode(&br, dist);
        if (symbol < 0 || symbol >= 30) {
            status = symbol < 0 ? bad_symbol(&br, symbol, "distance")
                                : dn_fail(DN_ERR_FORMAT, "deflate: invalid distance symbol %d at input byte %zu",
                                          symbol, byte_position(&br));
            break;
        }
        if (!take(&br, dist_extra[symbol], &extra)) {
            status = truncated(&br);
            break;
        }
        size_t distance = dist_base[symbol] + extra;
        if (distance > out.len - base) {
            status = dn_fail(DN_ERR_FORMAT,
                             "deflate: distance %zu too far back (only %zu bytes of output) at input byte %zu",
                             distance, out.len - base, byte_position(&br));
            break;
        }
        if (out.cap - out.len < length && (status = dn_inflate_reserve(&out, length)) != DN_OK)
            break;
        uint8_t *dst = out.data + out.len;
        const uint8_t *src = dst - distance;
        for (size_t i = 0; i < length; i++)
            dst[i] = src[i];
        out.len += length;
    }
    *reader = br;
    *output = out;
    return status;
}

static void fixed_codes(huffman *litlen, huffman *dist)
{
    uint8_t lengths[MAX_LITLEN];
    memset(lengths, 8, 144);
    memset(lengths + 144, 9, 256 - 144);
    memset(lengths + 256, 7, 280 - 256);
    memset(lengths + 280, 8, MAX_LITLEN - 280);
    build(litlen, lengths, MAX_LITLEN);
    memset(lengths, 5, MAX_DIST);
    build(dist, lengths, MAX_DIST);
}

static dn_status bad_lengths(const bit_reader *br, const char *what, const char *problem)
{
    return dn_fail(DN_ERR_FORMAT, "deflate: invalid code lengths: %s %s code in the block header ending at input byte %zu",
                   problem, what, byte_position(br));
}

/* Reads a dynamic block's header: the code-length code, then the lengths of
 * the literal/length and distance codes, run-length coded. */
static dn_status dynamic_codes(bit_reader *br, huffman *litlen, huffman *dist)
{
    uint32_t hlit, hdist, hclen;
    if (!take(br, 5, &hlit) || !take(br, 5, &hdist) || !take(br, 4, &hclen))
        return truncated(br);
    unsigned nlen = hlit + 257, ndist = hdist + 1, ncodelen = hclen + 4;
    if (nlen > 286 || ndist > 30)
        return dn_fail(DN_ERR_FORMAT,
                       "deflate: invalid code lengths: block header declares %u literal/length and %u "
                       "distance codes (at most 286 and 30) at input byte %zu",
                       nlen, ndist, byte_position(br));

    uint8_t codelen_lengths[NUM_CODELEN] = {0};
    for (unsigned i = 0; i < ncodelen; i++) {
        uint32_t value;
        if (!take(br, 3, &value))
            return truncated(br);
        codelen_lengths[codelen_order[i]] = (uint8_t)value;
    }
    huffman codelen;
    const char *problem = build(&codelen, codelen_lengths, NUM_CODELEN);
    if (problem)
        return bad_lengths(br, "code-length", problem);

    uint8_t lengths[MAX_LITLEN + MAX_DIST];
    unsigned total = nlen + ndist, i = 0;
    while (i < total) {
        int symbol = decode(br, &codelen);
        if (symbol < 0)
            return bad_symbol(br, symbol, "code-length");
        if (symbol < 16) {
            lengths[i++] = (uint8_t)symbol;
            continue;
        }
        uint32_t repeat;
        uint8_t value = 0;
        if (symbol == 16) {
            if (i == 0)
                return dn_fail(DN_ERR_FORMAT,
                               "deflate: invalid code lengths: repeat of the previous length with no previous "
                               "length at input byte %zu",
                               byte_position(br));
            value = lengths[i - 1];
            if (!take(br, 2, &repeat))
                return truncated(br);
            repeat += 3;
        } else if (symbol == 17) {
            if (!take(br, 3, &repeat))
                return truncated(br);
            repeat += 3;
        } else {
            if (!take(br, 7, &repeat))
                return truncated(br);
            repeat += 11;
        }
        if (repeat > total - i)
            return dn_fail(DN_ERR_FORMAT,
                           "deflate: invalid code lengths: a repeat runs past the %u declared lengths at input byte %zu",
                           total, byte_position(br));
        memset(lengths + i, value, repeat);
        i += repeat;
    }
    if (lengths[END_OF_BLOCK] == 0)
        return dn_fail(DN_ERR_FORMAT, "deflate: invalid code lengths: no end-of-block code (block header ending at input byte %zu)",
                       byte_position(br));
    if ((problem = build(litlen, lengths, (int)nlen)) != NULL)
        return bad_lengths(br, "literal/length", problem);
    if ((problem = build(dist, lengths + nlen, (int)ndist)) != NULL)
        return bad_lengths(br, "distance", problem);
    return DN_OK;
}

dn_status dn_inflate_append(dn_inflate_output *out, const uint8_t *in, size_t in_len, size_t *in_used)
{
    bit_reader br = {in, in_len, 0, 0, 0};
    size_t base = out->len;
    huffman litlen, dist;
    uint32_t final = 0;
    while (!final) {
        uint32_t type;
        if (!take(&br, 1, &final) || !take(&br, 2, &type))
            return truncated(&br);
        dn_status status;
        if (type == 0) {
            status = stored_block(&br, out);
        } else if (type == 1) {
            fixed_codes(&litlen, &dist);
            status = huffman_block(&br, out, base, &litlen, &dist);
        } else if (type == 2) {
            status = dynamic_codes(&br, &litlen, &dist);
            if (status == DN_OK)
                status = huffman_block(&br, out, base, &litlen, &dist);
        } else {
            return dn_fail(DN_ERR_FORMAT, "deflate: invalid block type 3 at input byte %zu", byte_position(&br));
        }
        if (status != DN_OK)
            return status;
    }
    drop(&br, br.count & 7);
    *in_used = byte_position(&br);
    return DN_OK;
}

dn_status dn_inflate(uint8_t **out, size_t *out_len, size_t *in_used, const uint8_t *in, size_t in_len,
                     size_t max_out)
{
    if (!out || !out_len || (!in && in_len))
        return dn_fail(DN_ERR_ARG, "dn_inflate: NULL buffer");
    *out = NULL;
    *out_len = 0;
    dn_inflate_output buffer = {NULL, 0, 0, max_out};
    size_t used = 0;
    dn_status status = dn_inflate_append(&buffer, in, in_len, &used);
    if (status == DN_OK && !buffer.data && !(buffer.data = dn_alloc(1)))
        status = dn_fail(DN_ERR_NOMEM, "dn_inflate: out of memory");
    if (status != DN_OK) {
        dn_free(buffer.data);
        return status;
    }
    *out = buffer.data;
    *out_len = buffer.len;
    if (in_used)
        *in_used = used;
    return DN_OK;
}
