/* png.c - a strict PNG reader (PNG 1.2 / ISO 15948): signature, chunk CRCs
 * and order, IHDR, PLTE, tRNS, and the zlib stream of the IDAT chunks
 * through digitnet's own inflate; png_raster.c makes the pixels. */
#include <stdio.h>
#include <string.h>

#include "digitnet/gzip.h"
#include "digitnet/image.h"
#include "fileio.h"
#include "inflate.h"
#include "internal.h"
#include "png_raster.h"

/* Largest PNG file read: more than any image within the pixel limit needs
 * (64 megapixels of 16-bit RGBA stored uncompressed is 512 MB). */
#define DN_PNG_MAX_FILE_BYTES ((size_t)1 << 30)

enum {
    PNG_MAX_CHUNK = 0x7fffffff, /* chunk lengths and image sides are at most 2^31 - 1 */
    DEFLATE_MAX_RATIO = 1032,   /* DEFLATE cannot expand one byte into more than this */
};

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Adler-32 of data (RFC 1950), as the zlib trailer holds it. */
static uint32_t adler32(const uint8_t *data, size_t len)
{
    uint32_t a = 1, b = 0;
    while (len) {
        size_t n = len < 5552 ? len : 5552; /* the most that cannot overflow b before the modulo */
        len -= n;
        while (n--) {
            a += *data++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}

/* ---- chunks ---- */

typedef struct png_chunk {
    size_t at;           /* offset of its length field in the file */
    uint32_t length;     /* bytes of data */
    const uint8_t *data;
    char type[5];        /* four letters and a NUL */
} png_chunk;

static bool is_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

static bool chunk_is(const png_chunk *c, const char *type) { return memcmp(c->type, type, 4) == 0; }

/* Reads the chunk at *pos, checks its length and CRC, and moves *pos past it. */
static dn_status next_chunk(const uint8_t *bytes, size_t len, size_t *pos, png_chunk *c, const char *name)
{
    size_t at = *pos, left = len - at;
    if (left < 12)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated: the file ends at byte %zu, before the IEND chunk%s", name, len,
                       left ? " (the last chunk is cut short)" : "");
    const uint8_t *p = bytes + at;
    if (!is_letter(p[4]) || !is_letter(p[5]) || !is_letter(p[6]) || !is_letter(p[7]))
        return dn_fail(DN_ERR_FORMAT, "%s: the chunk at byte %zu has type %02x %02x %02x %02x, not four letters", name,
                       at, p[4], p[5], p[6], p[7]);
    c->at = at;
    c->length = be32(p);
    memcpy(c->type, p + 4, 4);
    c->type[4] = '\0';
    if (c->length > PNG_MAX_CHUNK)
        return dn_fail(DN_ERR_FORMAT, "%s: chunk %s at byte %zu declares %u bytes of data (at most 2^31 - 1)", name,
                       c->type, at, c->length);
    if (c->length > left - 12)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated: chunk %s at byte %zu declares %u bytes of data and its CRC, "
                       "the file has %zu after its header", name, c->type, at, c->length, left - 8);
    c->data = p + 8;
    uint32_t stored = be32(p + 8 + c->length), actual = dn_crc32(0, p + 4, (size_t)c->length + 4);
    if (stored != actual)
        return dn_fail(DN_ERR_FORMAT, "%s: chunk %s at byte %zu is corrupt: CRC mismatch (stored %08x, computed %08x)",
                       name, c->type, at, stored, actual);
    *pos = at + 12 + c->length;
    return DN_OK;
}

/* ---- IHDR, PLTE, tRNS ---- */

static const char *color_name(int color_type)
{
    switch (color_type) {
    case DN_PNG_GRAY: return "grayscale";
    case DN_PNG_RGB: return "RGB";
    case DN_PNG_PALETTE: return "palette";
    case DN_PNG_GRAY_ALPHA: return "gray+alpha";
    default: return "RGBA";
    }
}

static dn_status read_ihdr(const png_chunk *c, dn_png_info *info, const char *name)
{
    if (c->length != 13)
        return dn_fail(DN_ERR_FORMAT, "%s: the IHDR chunk has %u bytes of data, not 13", name, c->length);
    const uint8_t *d = c->data;
    uint32_t width = be32(d), height = be32(d + 4);
    unsigned depth = d[8], color = d[9], compression = d[10], filter = d[11], interlace = d[12];
    if (width == 0 || height == 0)
        return dn_fail(DN_ERR_FORMAT, "%s: image size %u x %u is empty", name, width, height);
    if (width > PNG_MAX_CHUNK || height > PNG_MAX_CHUNK)
        return dn_fail(DN_ERR_FORMAT, "%s: image size %u x %u: a side is over PNG's limit of 2^31 - 1", name, width,
                       height);
    static const char *const allowed[7] = {"1, 2, 4, 8 or 16", "", "8 or 16", "1, 2, 4 or 8", "8 or 16", "",
                                           "8 or 16"};
    static const int channels[7] = {1, 0, 3, 1, 2, 0, 4};
    if (color > 6 || color == 1 || color == 5)
        return dn_fail(DN_ERR_FORMAT, "%s: colour type %u is not defined (0, 2, 3, 4 and 6 are)", name, color);
    bool depth_ok = depth == 8 || (depth == 16 && color != DN_PNG_PALETTE) ||
                    ((depth == 1 || depth == 2 || depth == 4) && (color == DN_PNG_GRAY || color == DN_PNG_PALETTE));
    if (!depth_ok)
        return dn_fail(DN_ERR_FORMAT, "%s: bit depth %u is not allowed for colour type %u (%s: %s)", name, depth, color,
                       color_name((int)color), allowed[color]);
    if (compression != 0)
        return dn_fail(DN_ERR_FORMAT, "%s: compression method %u is not defined (only 0, deflate)", name, compression);
    if (filter != 0)
        return dn_fail(DN_ERR_FORMAT, "%s: filter method %u is not defined (only 0)", name, filter);
    if (interlace > 1)
        return dn_fail(DN_ERR_FORMAT, "%s: interlace method %u is not defined (0 none, 1 Adam7)", name, interlace);
    if (width > DN_IMAGE_MAX_SIDE || height > DN_IMAGE_MAX_SIDE ||
        (size_t)width * (size_t)height > DN_IMAGE_MAX_PIXELS)
        return dn_fail(DN_ERR_UNSUPPORTED, "%s: image size %u x %u is beyond digitnet's limit (%d per side, %zu pixels)",
                       name, width, height, DN_IMAGE_MAX_SIDE, DN_IMAGE_MAX_PIXELS);
    info->width = (int)width;
    info->height = (int)height;
    info->depth = (int)depth;
    info->color_type = (int)color;
    info->channels = channels[color];
    info->interlaced = interlace == 1;
    return DN_OK;
}

/* PLTE: 1 to 256 RGB entries. A palette image may hold more entries than its
 * bit depth can index (they are unused); only the indices used are checked. */
static dn_status read_plte(const png_chunk *c, dn_png_info *info, const char *name)
{
    if (info->color_type == DN_PNG_GRAY || info->color_type == DN_PNG_GRAY_ALPHA)
        return dn_fail(DN_ERR_FORMAT, "%s: a PLTE chunk in a %s image (only colour images may have one)", name,
                       color_name(info->color_type));
    if (c->length == 0 || c->length % 3 != 0 || c->length > 3 * 256)
        return dn_fail(DN_ERR_FORMAT, "%s: the PLTE chunk has %u bytes; it must hold 1 to 256 entries of 3", name,
                       c->length);
    info->palette_size = (int)(c->length / 3);
    for (int i = 0; i < info->palette_size; i++) {
        memcpy(info->palette[i], c->data + 3 * i, 3);
        info->palette[i][3] = 255;
    }
    return DN_OK;
}

/* tRNS: alpha per palette entry, or the one transparent gray or RGB colour. */
static dn_status read_trns(const png_chunk *c, dn_png_info *info, const char *name)
{
    int color = info->color_type;
    if (color == DN_PNG_GRAY_ALPHA || color == DN_PNG_RGBA)
        return dn_fail(DN_ERR_FORMAT, "%s: a tRNS chunk in %s image, which has an alpha channel already", name,
                       color == DN_PNG_RGBA ? "an RGBA" : "a gray+alpha");
    if (color == DN_PNG_PALETTE) {
        if (c->length > (uint32_t)info->palette_size)
            return dn_fail(DN_ERR_FORMAT, "%s: the tRNS chunk has %u alpha values for a palette of %d entries", name,
                           c->length, info->palette_size);
        for (uint32_t i = 0; i < c->length; i++)
            info->palette[i][3] = c->data[i];
        return DN_OK;
    }
    uint32_t need = color == DN_PNG_GRAY ? 2 : 6;
    if (c->length != need)
        return dn_fail(DN_ERR_FORMAT, "%s: the tRNS chunk of %s image has %u bytes, not %u", name,
                       color == DN_PNG_GRAY ? "a grayscale" : "an RGB", c->length, need);
    unsigned top = (1u << info->depth) - 1;
    for (uint32_t k = 0; k < need / 2; k++) {
        unsigned v = (unsigned)c->data[2 * k] << 8 | c->data[2 * k + 1];
        if (v > top)
            return dn_fail(DN_ERR_FORMAT, "%s: the tRNS chunk's transparent colour has a sample %u, above %u for "
                           "bit depth %d", name, v, top, info->depth);
        info->key[k] = (uint16_t)v;
    }
    info->has_key = true;
    return DN_OK;
}

/* ---- the chunk sequence ---- */

/* Where the image data is: the first IDAT chunk and the bytes of all of them. */
typedef struct png_layout {
    size_t first_idat;
    size_t idat_bytes;
} png_layout;

/* Walks every chunk from after the signature to IEND, checking CRCs and the
 * order (IHDR first; PLTE and tRNS once each, before the image data; IDAT
 * chunks in one unbroken run; IEND last, at the end of the file). */
static dn_status read_chunks(const uint8_t *bytes, size_t len, dn_png_info *info, png_layout *layout,
                             const char *name)
{
    enum { NO_IDAT, IN_IDAT, AFTER_IDAT } idat = NO_IDAT;
    bool plte = false, trns = false, first = true;
    size_t pos = sizeof png_signature;
    png_chunk c;
    for (;;) {
        dn_status status = next_chunk(bytes, len, &pos, &c, name);
        if (status != DN_OK)
            return status;
        if (first != chunk_is(&c, "IHDR"))
            return first ? dn_fail(DN_ERR_FORMAT, "%s: the first chunk is %s, not IHDR", name, c.type)
                         : dn_fail(DN_ERR_FORMAT, "%s: a second IHDR chunk at byte %zu", name, c.at);
        if (idat == IN_IDAT && !chunk_is(&c, "IDAT"))
            idat = AFTER_IDAT;
        if (first) {
            status = read_ihdr(&c, info, name);
            first = false;
        } else if (chunk_is(&c, "IDAT")) {
            if (idat == AFTER_IDAT)
                return dn_fail(DN_ERR_FORMAT, "%s: the IDAT chunks are not contiguous (another one at byte %zu)", name,
                               c.at);
            if (info->color_type == DN_PNG_PALETTE && !plte)
                return dn_fail(DN_ERR_FORMAT, "%s: a palette image without a PLTE chunk before its image data", name);
            if (idat == NO_IDAT)
                layout->first_idat = c.at;
            idat = IN_IDAT;
            layout->idat_bytes += c.length;
        } else if (chunk_is(&c, "IEND")) {
            if (c.length != 0)
                return dn_fail(DN_ERR_FORMAT, "%s: the IEND chunk has %u bytes of data, not 0", name, c.length);
            if (idat == NO_IDAT)
                return dn_fail(DN_ERR_FORMAT, "%s: no IDAT chunk: the file has no image data", name);
            if (pos != len)
                return dn_fail(DN_ERR_FORMAT, "%s: %zu bytes after the IEND chunk (from byte %zu)", name, len - pos,
                               pos);
            return DN_OK;
        } else if (chunk_is(&c, "PLTE") || chunk_is(&c, "tRNS")) {
            bool is_plte = c.type[0] == 'P';
            if (is_plte ? plte : trns)
                return dn_fail(DN_ERR_FORMAT, "%s: a second %s chunk at byte %zu", name, c.type, c.at);
            if (idat != NO_IDAT)
                return dn_fail(DN_ERR_FORMAT, "%s: the %s chunk at byte %zu comes after the image data", name, c.type,
                               c.at);
            if (is_plte && trns)
                return dn_fail(DN_ERR_FORMAT, "%s: the PLTE chunk at byte %zu comes after tRNS", name, c.at);
            if (!is_plte && info->color_type == DN_PNG_PALETTE && !plte)
                return dn_fail(DN_ERR_FORMAT, "%s: the tRNS chunk at byte %zu comes before PLTE", name, c.at);
            status = is_plte ? read_plte(&c, info, name) : read_trns(&c, info, name);
            plte |= is_plte;
            trns |= !is_plte;
        } else if (!(c.type[0] & 0x20)) {
            return dn_fail(DN_ERR_UNSUPPORTED, "%s: unknown critical chunk %s at byte %zu: the image cannot be "
                           "decoded without it", name, c.type, c.at);
        } /* else an ancillary chunk (gAMA, tEXt, pHYs, ...): its CRC is checked, its content skipped */
        if (status != DN_OK)
            return status;
    }
}

/* ---- the image data ---- */

/* The IDAT chunks' data (already checked by read_chunks) in one new buffer. */
static uint8_t *join_idat(const uint8_t *bytes, const png_layout *layout)
{
    uint8_t *joined = dn_alloc(layout->idat_bytes ? layout->idat_bytes : 1);
    if (!joined)
        return NULL;
    size_t pos = layout->first_idat, n = 0;
    while (memcmp(bytes + pos + 4, "IDAT", 4) == 0) {
        uint32_t length = be32(bytes + pos);
        memcpy(joined + n, bytes + pos + 8, length);
        n += length;
        pos += 12 + (size_t)length;
    }
    return joined;
}

/* Checks the zlib wrapper (RFC 1950) of z[0..n) and inflates it into a new
 * buffer *raw of exactly `expected` bytes. */
static dn_status inflate_zlib(const uint8_t *z, size_t n, size_t expected, uint8_t **raw, const char *name,
                              const char *what)
{
    *raw = NULL;
    if (n < 6)
        return dn_fail(DN_ERR_FORMAT, "%s: the image data is %zu bytes, too short for a zlib stream (at least 6)",
                       name, n);
    unsigned cmf = z[0], flg = z[1];
    if ((cmf & 15) != 8 || cmf >> 4 > 7)
        return dn_fail(DN_ERR_FORMAT, "%s: the image data is not a zlib deflate stream (header byte %02x: method %u, "
                       "window 2^%u; PNG uses method 8 with a window up to 2^15)", name, cmf, cmf & 15, (cmf >> 4) + 8);
    if ((cmf << 8 | flg) % 31 != 0)
        return dn_fail(DN_ERR_FORMAT, "%s: the zlib header of the image data fails its check (%02x %02x is not a "
                       "multiple of 31)", name, cmf, flg);
    if (flg & 0x20)
        return dn_fail(DN_ERR_FORMAT, "%s: the zlib stream of the image data asks for a preset dictionary, which "
                       "PNG does not allow", name);
    /* A 100-byte file must not make us allocate a gigabyte: refuse what
     * DEFLATE could not produce from this many bytes before allocating. */
    if (expected / DEFLATE_MAX_RATIO > n)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated image data: %zu compressed bytes cannot hold the %zu bytes %s "
                       "needs", name, n, expected, what);
    dn_inflate_output out = {NULL, 0, 0, expected};
    size_t used = 0;
    dn_status status = dn_inflate_reserve(&out, expected);
    if (status == DN_OK)
        status = dn_inflate_append(&out, z + 2, n - 2, &used);
    if (status == DN_ERR_UNSUPPORTED)
        status = dn_fail(DN_ERR_FORMAT, "%s: the image data decompresses to more than the %zu bytes %s needs", name,
                         expected, what);
    else if (status != DN_OK)
        status = dn_fail_context(status, "%s: image data", name);
    else if (out.len != expected)
        status = dn_fail(DN_ERR_FORMAT, "%s: the image data decompresses to %zu bytes, but %s needs %zu", name,
                         out.len, what, expected);
    else if (n - 2 - used < 4)
        status = dn_fail(DN_ERR_FORMAT, "%s: truncated image data: the zlib stream ends without its Adler-32", name);
    else if (be32(z + 2 + used) != adler32(out.data, out.len))
        status = dn_fail(DN_ERR_FORMAT, "%s: the image data is corrupt: Adler-32 mismatch (stored %08x, computed "
                         "%08x)", name, be32(z + 2 + used), adler32(out.data, out.len));
    else if (n - 2 - used > 4)
        status = dn_fail(DN_ERR_FORMAT, "%s: %zu bytes of image data after the end of the zlib stream", name,
                         n - 2 - used - 4);
    if (status != DN_OK) {
        dn_free(out.data);
        return status;
    }
    *raw = out.data;
    return DN_OK;
}

dn_status dn_png_parse(dn_image *img, const uint8_t *bytes, size_t len, const char *name)
{
    if (!img || (!bytes && len)) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_png_parse: %s is NULL", img ? "bytes" : "img");
    }
    memset(img, 0, sizeof *img);
    name = name ? name : "(memory)";
    size_t head = len < sizeof png_signature ? len : sizeof png_signature;
    if (len == 0 || memcmp(bytes, png_signature, head) != 0) {
        char shown[40] = "";
        for (size_t i = 0, at = 0; i < head; i++)
            at += (size_t)snprintf(shown + at, sizeof shown - at, "%s%02x", i ? " " : "", bytes[i]);
        return dn_fail(DN_ERR_FORMAT, "%s: not a PNG file (%s%s, expected 89 50 4e 47 0d 0a 1a 0a)", name,
                       len ? "starts with " : "empty", shown);
    }
    if (len < sizeof png_signature)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated: %zu bytes, less than the 8-byte PNG signature", name, len);

    dn_png_info info;
    memset(&info, 0, sizeof info);
    png_layout layout = {0, 0};
    dn_status status = read_chunks(bytes, len, &info, &layout, name);
    if (status != DN_OK)
        return status;

    char what[96];
    snprintf(what, sizeof what, "the %d x %d %d-bit %s%s image", info.width, info.height, info.depth,
             color_name(info.color_type), info.interlaced ? " interlaced" : "");
    uint8_t *z = join_idat(bytes, &layout), *raw = NULL;
    if (!z)
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate %zu bytes for the image data", name, layout.idat_bytes);
    status = inflate_zlib(z, layout.idat_bytes, dn_png_raw_size(&info), &raw, name, what);
    dn_free(z);
    if (status == DN_OK && (status = dn_image_new(img, info.width, info.height)) != DN_OK)
        status = dn_fail_context(status, "%s", name);
    if (status == DN_OK && (status = dn_png_decode_raster(&info, raw, img, name)) != DN_OK)
        dn_image_free(img);
    dn_free(raw);
    return status;
}

dn_status dn_png_read(dn_image *img, const char *path)
{
    if (!img || !path) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_png_read: %s is NULL", img ? "path" : "img");
    }
    memset(img, 0, sizeof *img);
    uint8_t *bytes;
    size_t len;
    dn_status status = dn_read_file(path, DN_PNG_MAX_FILE_BYTES, "a PNG file", &bytes, &len);
    if (status != DN_OK)
        return status;
    status = dn_png_parse(img, bytes, len, path);
    dn_free(bytes);
    return status;
}
