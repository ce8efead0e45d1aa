/* png_raster.c - a PNG's decompressed rows to gray pixels: the five row
 * filters, Adam7 passes, every bit depth and colour type, alpha on white. */
#include <stdio.h>

#include "internal.h"
#include "png_raster.h"

/* An Adam7 pass (or the whole image): first pixel and step in x and y. */
typedef struct png_pass {
    int x0, y0, dx, dy;
} png_pass;

static const png_pass adam7[7] = {
    {0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2},
};
static const png_pass whole = {0, 0, 1, 1};

/* Pixels of a pass along a side of n pixels starting at first, every step. */
static size_t pass_count(int n, int first, int step)
{
    return n > first ? (size_t)(n - first + step - 1) / (size_t)step : 0;
}

/* Bytes of one row of w pixels, without its filter byte. */
static size_t row_bytes(const dn_png_info *info, size_t w)
{
    return (w * (size_t)info->channels * (size_t)info->depth + 7) / 8;
}

size_t dn_png_raw_size(const dn_png_info *info)
{
    int passes = info->interlaced ? 7 : 1;
    size_t total = 0;
    for (int p = 0; p < passes; p++) {
        const png_pass *pass = info->interlaced ? &adam7[p] : &whole;
        size_t w = pass_count(info->width, pass->x0, pass->dx), h = pass_count(info->height, pass->y0, pass->dy);
        if (w && h)
            total += h * (1 + row_bytes(info, w));
    }
    return total;
}

/* ---- filters ---- */

static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c)
{
    int p = (int)a + (int)b - (int)c;
    int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p, pc = p > c ? p - c : c - p;
    if (pa <= pb && pa <= pc)
        return a;
    return pb <= pc ? b : c;
}

/* Undoes filter `type` on row[0..n) given the previous row of the pass
 * (prev, or NULL for the first) and bpp, the bytes of a whole pixel (at least 1). */
static void unfilter(uint8_t *row, const uint8_t *prev, size_t n, size_t bpp, int type)
{
    switch (type) {
    case 1: /* Sub: x + left */
        for (size_t i = bpp; i < n; i++)
            row[i] = (uint8_t)(row[i] + row[i - bpp]);
        break;
    case 2: /* Up: x + above */
        if (prev)
            for (size_t i = 0; i < n; i++)
                row[i] = (uint8_t)(row[i] + prev[i]);
        break;
    case 3: /* Average: x + floor((left + above) / 2) */
        for (size_t i = 0; i < n; i++) {
            unsigned left = i >= bpp ? row[i - bpp] : 0, up = prev ? prev[i] : 0;
            row[i] = (uint8_t)(row[i] + ((left + up) >> 1));
        }
        break;
    case 4: /* Paeth: x + whichever of left, above, upper-left is nearest left + above - upper-left */
        for (size_t i = 0; i < n; i++) {
            uint8_t left = i >= bpp ? row[i - bpp] : 0, up = prev ? prev[i] : 0;
            uint8_t corner = prev && i >= bpp ? prev[i - bpp] : 0;
            row[i] = (uint8_t)(row[i] + paeth(left, up, corner));
        }
        break;
    default: /* None */
        break;
    }
}

/* ---- pixels ---- */

/* Sample k (in row order) of a row at the image's bit depth. */
static inline unsigned sample(const uint8_t *row, size_t k, int depth)
{
    if (depth == 8)
        return row[k];
    if (depth == 16)
        return (unsigned)row[2 * k] << 8 | row[2 * k + 1];
    size_t bit = k * (size_t)depth;
    unsigned shift = 8u - (unsigned)depth - (unsigned)(bit & 7);
    return (unsigned)(row[bit >> 3] >> shift) & ((1u << depth) - 1);
}

/* Luma and alpha, each in [0,1], composited on white: a*y + (1 - a). */
static inline float on_white(double y, double a)
{
    return (float)(a * y + (1.0 - a));
}

static inline double luma(double r, double g, double b)
{
    return 0.299 * r + 0.587 * g + 0.114 * b;
}

/* Writes pixel i of a row (of a pass) to *out; false for a palette index
 * outside the palette (*bad_index receives it). */
static inline bool convert_pixel(const dn_png_info *info, const uint8_t *row, size_t i, double scale, float *out,
                                 unsigned *bad_index)
{
    int depth = info->depth;
    size_t k = i * (size_t)info->channels;
    switch (info->color_type) {
    case DN_PNG_GRAY: {
        unsigned v = sample(row, k, depth);
        *out = info->has_key && v == info->key[0] ? 1.0f : (float)(v * scale);
        return true;
    }
    case DN_PNG_RGB: {
        unsigned r = sample(row, k, depth), g = sample(row, k + 1, depth), b = sample(row, k + 2, depth);
        if (info->has_key && r == info->key[0] && g == info->key[1] && b == info->key[2])
            *out = 1.0f;
        else
            *out = (float)luma(r * scale, g * scale, b * scale);
        return true;
    }
    case DN_PNG_PALETTE: {
        unsigned index = sample(row, k, depth);
        if (index >= (unsigned)info->palette_size) {
            *bad_index = index;
            return false;
        }
        const uint8_t *c = info->palette[index];
        *out = on_white(luma(c[0] / 255.0, c[1] / 255.0, c[2] / 255.0), c[3] / 255.0);
        return true;
    }
    case DN_PNG_GRAY_ALPHA:
        *out = on_white(sample(row, k, depth) * scale, sample(row, k + 1, depth) * scale);
        return true;
    default: /* DN_PNG_RGBA */
        *out = on_white(luma(sample(row, k, depth) * scale, sample(row, k + 1, depth) * scale,
                             sample(row, k + 2, depth) * scale),
                        sample(row, k + 3, depth) * scale);
        return true;
    }
}

/* Where a message says a row or pixel is: "row 3" or "row 3 of Adam7 pass 5". */
static const char *pass_name(char buf[static 24], const dn_png_info *info, int p)
{
    if (info->interlaced)
        snprintf(buf, 24, " of Adam7 pass %d", p + 1);
    else
        buf[0] = '\0';
    return buf;
}

dn_status dn_png_decode_raster(const dn_png_info *info, uint8_t *raw, dn_image *img, const char *name)
{
    int passes = info->interlaced ? 7 : 1;
    size_t bpp = ((size_t)info->channels * (size_t)info->depth + 7) / 8;
    double scale = 1.0 / (double)((1u << info->depth) - 1);
    size_t width = (size_t)info->width;
    char where[24];
    for (int p = 0; p < passes; p++) {
        const png_pass *pass = info->interlaced ? &adam7[p] : &whole;
        size_t w = pass_count(info->width, pass->x0, pass->dx), h = pass_count(info->height, pass->y0, pass->dy);
        if (!w || !h)
            continue;
        size_t n = row_bytes(info, w);
        const uint8_t *prev = NULL;
        for (size_t r = 0; r < h; r++, raw += 1 + n) {
            uint8_t *row = raw + 1;
            if (raw[0] > 4)
                return dn_fail(DN_ERR_FORMAT, "%s: row %zu%s has filter type %u (0 to 4 are defined)", name, r,
                               pass_name(where, info, p), raw[0]);
            unfilter(row, prev, n, bpp, raw[0]);
            prev = row;
            size_t y = (size_t)pass->y0 + r * (size_t)pass->dy;
            float *out = img->pixels + y * width + (size_t)pass->x0;
            for (size_t i = 0; i < w; i++, out += pass->dx) {
                unsigned bad = 0;
                if (!convert_pixel(info, row, i, scale, out, &bad))
                    return dn_fail(DN_ERR_FORMAT, "%s: pixel (x %zu, y %zu) has palette index %u, but the palette "
                                   "has %d entr%s", name, (size_t)pass->x0 + i * (size_t)pass->dx, y, bad,
                                   info->palette_size, info->palette_size == 1 ? "y" : "ies");
            }
        }
    }
    return DN_OK;
}
