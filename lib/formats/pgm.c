/* pgm.c - grayscale images: allocation, 8-bit buffers, and a validating reader
 * for PGM files (P2 and P5, 8- and 16-bit) with an atomic 8-bit P5 writer. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "digitnet/image.h"
#include "fileio.h"
#include "internal.h"

/* Largest PGM file read: a P2 raster at the pixel limit with short numbers. */
#define DN_PGM_MAX_FILE_BYTES ((size_t)1 << 30)

/* ---- images ---- */

static dn_status check_size(int width, int height, const char *who)
{
    if (width < 1 || height < 1)
        return dn_fail(DN_ERR_ARG, "%s: image size %d x %d is empty", who, width, height);
    if (width > DN_IMAGE_MAX_SIDE || height > DN_IMAGE_MAX_SIDE ||
        (size_t)width * (size_t)height > DN_IMAGE_MAX_PIXELS)
        return dn_fail(DN_ERR_UNSUPPORTED, "%s: image size %d x %d is beyond digitnet's limit (%d per side, %zu pixels)",
                       who, width, height, DN_IMAGE_MAX_SIDE, DN_IMAGE_MAX_PIXELS);
    return DN_OK;
}

dn_status dn_image_new(dn_image *img, int width, int height)
{
    if (!img)
        return dn_fail(DN_ERR_ARG, "dn_image_new: img is NULL");
    memset(img, 0, sizeof *img);
    dn_status status = check_size(width, height, "dn_image_new");
    if (status != DN_OK)
        return status;
    img->pixels = dn_calloc((size_t)width * (size_t)height, sizeof *img->pixels);
    if (!img->pixels)
        return dn_fail(DN_ERR_NOMEM, "dn_image_new: cannot allocate a %d x %d image", width, height);
    img->width = width;
    img->height = height;
    return DN_OK;
}

dn_status dn_image_from_gray8(dn_image *img, const uint8_t *pixels, int width, int height)
{
    if (!img || !pixels) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_image_from_gray8: %s is NULL", img ? "pixels" : "img");
    }
    dn_status status = dn_image_new(img, width, height);
    if (status != DN_OK)
        return dn_fail_context(status, "dn_image_from_gray8");
    size_t n = (size_t)width * (size_t)height;
    for (size_t i = 0; i < n; i++)
        img->pixels[i] = (float)pixels[i] / 255.0f;
    return DN_OK;
}

void dn_image_free(dn_image *img)
{
    if (!img)
        return;
    dn_free(img->pixels);
    memset(img, 0, sizeof *img);
}

/* ---- PGM parsing ---- */

typedef struct pgm_cursor {
    const uint8_t *bytes;
    size_t len, pos;
    const char *name;
} pgm_cursor;

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* "'x'" for a printable byte, "byte 0xNN" otherwise, for messages. */
static const char *show_byte(char buf[static 16], uint8_t c)
{
    if (c >= 0x21 && c < 0x7F)
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

/* Skips whitespace and '#' comments (each runs to the next CR or LF). */
static void skip_blanks(pgm_cursor *c)
{
    while (c->pos < c->len) {
        uint8_t ch = c->bytes[c->pos];
        if (is_space(ch)) {
            c->pos++;
        } else if (ch == '#') {
            while (c->pos < c->len && c->bytes[c->pos] != '\n' && c->bytes[c->pos] != '\r')
                c->pos++;
        } else {
            break;
        }
    }
}

/* Reads one decimal number at the cursor (no sign) into *value, which is
 * capped at limit + 1 so that overflow is detected without wrapping. The
 * number must end at whitespace, a comment or the end of the data. */
static dn_status read_number(pgm_cursor *c, const char *what, uint32_t limit, uint32_t *value)
{
    char shown[16];
    skip_blanks(c);
    if (c->pos >= c->len)
        return dn_fail(DN_ERR_FORMAT, "%s: the data ends before the %s", c->name, what);
    if (!is_digit(c->bytes[c->pos]))
        return dn_fail(DN_ERR_FORMAT, "%s: the %s is not a decimal number (found %s at byte %zu)", c->name, what,
                       show_byte(shown, c->bytes[c->pos]), c->pos);
    uint32_t v = 0;
    while (c->pos < c->len && is_digit(c->bytes[c->pos])) {
        uint32_t digit = (uint32_t)(c->bytes[c->pos] - '0');
        v = v > (limit - digit) / 10 ? limit + 1 : v * 10 + digit;
        c->pos++;
    }
    if (c->pos < c->len && !is_space(c->bytes[c->pos]) && c->bytes[c->pos] != '#')
        return dn_fail(DN_ERR_FORMAT, "%s: the %s is not a decimal number (found %s at byte %zu)", c->name, what,
                       show_byte(shown, c->bytes[c->pos]), c->pos);
    *value = v;
    return DN_OK;
}

static dn_status read_magic(pgm_cursor *c, bool *binary)
{
    char a[16], b[16];
    if (c->len < 2)
        return dn_fail(DN_ERR_FORMAT, "%s: %zu bytes is too short for a PGM file", c->name, c->len);
    uint8_t p = c->bytes[0], kind = c->bytes[1];
    if (p != 'P' || kind < '1' || kind > '7')
        return dn_fail(DN_ERR_FORMAT, "%s: not a PGM file (starts with %s %s, expected P5 or P2)", c->name,
                       show_byte(a, p), show_byte(b, kind));
    if (kind != '2' && kind != '5') {
        static const char *const kinds[] = {"P1 (plain PBM bitmap)", "", "P3 (plain PPM colour)",
                                            "P4 (PBM bitmap)", "", "P6 (PPM colour)", "P7 (PAM)"};
        return dn_fail(DN_ERR_UNSUPPORTED, "%s: %s images are not supported; digitnet reads grayscale P5 and P2",
                       c->name, kinds[kind - '1']);
    }
    if (c->len > 2 && !is_space(c->bytes[2]) && c->bytes[2] != '#')
        return dn_fail(DN_ERR_FORMAT, "%s: not a PGM file (magic P%c is followed by %s, not whitespace)", c->name,
                       kind, show_byte(a, c->bytes[2]));
    *binary = kind == '5';
    c->pos = 2;
    return DN_OK;
}

static dn_status read_header(pgm_cursor *c, bool *binary, int *width, int *height, uint32_t *maxval)
{
    dn_status status = read_magic(c, binary);
    uint32_t w = 0, h = 0;
    if (status == DN_OK)
        status = read_number(c, "width", UINT32_MAX - 1, &w);
    if (status == DN_OK)
        status = read_number(c, "height", UINT32_MAX - 1, &h);
    if (status == DN_OK)
        status = read_number(c, "maxval", 65535, maxval);
    if (status != DN_OK)
        return status;
    if (w == 0 || h == 0)
        return dn_fail(DN_ERR_FORMAT, "%s: image size %u x %u is empty", c->name, w, h);
    if (w > INT_MAX || h > INT_MAX)
        return dn_fail(DN_ERR_FORMAT, "%s: image size overflows (width or height above %d)", c->name, INT_MAX);
    if (*maxval == 0 || *maxval > 65535)
        return dn_fail(DN_ERR_FORMAT, "%s: maxval %s is out of range (1..65535)", c->name,
                       *maxval ? "above 65535" : "0");
    status = check_size((int)w, (int)h, c->name);
    if (status != DN_OK)
        return status;
    *width = (int)w;
    *height = (int)h;
    return DN_OK;
}

/* P5: after maxval comes exactly one whitespace byte (or a comment, whose
 * line end is that byte), then width*height big-endian samples. */
static dn_status read_binary_raster(pgm_cursor *c, dn_image *img, uint32_t maxval)
{
    if (c->pos >= c->len)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated: the file ends right after maxval, with no raster", c->name);
    if (c->bytes[c->pos] == '#') {
        while (c->pos < c->len && c->bytes[c->pos] != '\n' && c->bytes[c->pos] != '\r')
            c->pos++;
        if (c->pos >= c->len)
            return dn_fail(DN_ERR_FORMAT, "%s: truncated: the file ends in the comment after maxval", c->name);
    }
    c->pos++;
    size_t bytes_per_sample = maxval < 256 ? 1 : 2;
    size_t n = (size_t)img->width * (size_t)img->height, need = n * bytes_per_sample;
    size_t have = c->len - c->pos;
    if (have < need)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated raster: %d x %d samples of %zu byte%s need %zu bytes after the "
                       "header, the file has %zu", c->name, img->width, img->height, bytes_per_sample,
                       bytes_per_sample == 1 ? "" : "s", need, have);
    const uint8_t *raster = c->bytes + c->pos;
    float scale = 1.0f / (float)maxval;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = bytes_per_sample == 1 ? raster[i] : (uint32_t)raster[2 * i] << 8 | raster[2 * i + 1];
        if (v > maxval)
            return dn_fail(DN_ERR_FORMAT, "%s: sample %u at (x %zu, y %zu) is above maxval %u", c->name, v,
                           i % (size_t)img->width, i / (size_t)img->width, maxval);
        img->pixels[i] = (float)v * scale;
    }
    return DN_OK;
}

/* P2: width*height decimal samples separated by whitespace or comments. */
static dn_status read_ascii_raster(pgm_cursor *c, dn_image *img, uint32_t maxval)
{
    size_t n = (size_t)img->width * (size_t)img->height, width = (size_t)img->width;
    float scale = 1.0f / (float)maxval;
    char shown[16];
    for (size_t i = 0; i < n; i++) {
        skip_blanks(c);
        if (c->pos >= c->len)
            return dn_fail(DN_ERR_FORMAT, "%s: truncated raster: it ends after %zu of %zu samples", c->name, i, n);
        uint32_t v = 0;
        size_t start = c->pos;
        while (c->pos < c->len && is_digit(c->bytes[c->pos])) {
            v = v > 65535 ? v : v * 10 + (uint32_t)(c->bytes[c->pos] - '0');
            c->pos++;
        }
        if (c->pos == start || (c->pos < c->len && !is_space(c->bytes[c->pos]) && c->bytes[c->pos] != '#'))
            return dn_fail(DN_ERR_FORMAT, "%s: the sample at (x %zu, y %zu) is not a decimal number (found %s at "
                           "byte %zu)", c->name, i % width, i / width, show_byte(shown, c->bytes[c->pos]), c->pos);
        if (v > maxval)
            return dn_fail(DN_ERR_FORMAT, "%s: the sample at (x %zu, y %zu) is above maxval %u", c->name, i % width,
                           i / width, maxval);
        img->pixels[i] = (float)v * scale;
    }
    return DN_OK;
}

dn_status dn_pgm_parse(dn_image *img, const uint8_t *bytes, size_t len, const char *name)
{
    if (!img || (!bytes && len)) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_pgm_parse: %s is NULL", img ? "bytes" : "img");
    }
    memset(img, 0, sizeof *img);
    pgm_cursor c = {bytes, len, 0, name ? name : "(memory)"};
    bool binary = false;
    int width = 0, height = 0;
    uint32_t maxval = 0;
    dn_status status = read_header(&c, &binary, &width, &height, &maxval);
    if (status != DN_OK)
        return status;
    /* Refuse a raster that cannot fit in what is left before allocating
     * for it: a 20-byte header must not cost 256 MB. A binary sample takes 1
     * or 2 bytes, an ASCII one at least a digit and a separator. */
    size_t samples = (size_t)width * (size_t)height, left = len - c.pos;
    size_t least = binary ? samples * (maxval < 256 ? 1 : 2) : 2 * samples - 1;
    if (left < least)
        return dn_fail(DN_ERR_FORMAT, "%s: truncated raster: %d x %d samples need at least %zu bytes "
                       "after the header, the file has %zu", c.name, width, height, least, left);
    status = dn_image_new(img, width, height);
    if (status != DN_OK)
        return dn_fail_context(status, "%s", c.name);
    status = binary ? read_binary_raster(&c, img, maxval) : read_ascii_raster(&c, img, maxval);
    if (status != DN_OK)
        dn_image_free(img);
    return status;
}

/* ---- files ---- */

dn_status dn_pgm_read(dn_image *img, const char *path)
{
    if (!img || !path) {
        if (img)
            memset(img, 0, sizeof *img);
        return dn_fail(DN_ERR_ARG, "dn_pgm_read: %s is NULL", img ? "path" : "img");
    }
    memset(img, 0, sizeof *img);
    uint8_t *bytes;
    size_t len;
    dn_status status = dn_read_file(path, DN_PGM_MAX_FILE_BYTES, "a PGM file", &bytes, &len);
    if (status != DN_OK)
        return status;
    status = dn_pgm_parse(img, bytes, len, path);
    dn_free(bytes);
    return status;
}

static uint8_t quantize(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return 255;
    return (uint8_t)lrintf(v * 255.0f);
}

/* The whole P5 file in one buffer. */
static uint8_t *encode_p5(const dn_image *img, size_t *len)
{
    char header[48];
    int header_len = snprintf(header, sizeof header, "P5\n%d %d\n255\n", img->width, img->height);
    size_t n = (size_t)img->width * (size_t)img->height;
    uint8_t *buffer = dn_alloc((size_t)header_len + n);
    if (!buffer)
        return NULL;
    memcpy(buffer, header, (size_t)header_len);
    for (size_t i = 0; i < n; i++)
        buffer[(size_t)header_len + i] = quantize(img->pixels[i]);
    *len = (size_t)header_len + n;
    return buffer;
}

dn_status dn_pgm_write(const dn_image *img, const char *path)
{
    if (!img || !path || !img->pixels)
        return dn_fail(DN_ERR_ARG, "dn_pgm_write: %s is NULL", !img ? "img" : !path ? "path" : "img->pixels");
    dn_status status = check_size(img->width, img->height, path);
    if (status != DN_OK)
        return status;
    size_t len;
    uint8_t *data = encode_p5(img, &len);
    if (!data)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory encoding a %d x %d image", path, img->width, img->height);
    status = dn_write_file_atomic(path, data, len);
    dn_free(data);
    return status;
}
