/* png_raster.h - what png.c learns from a PNG's chunks, and png_raster.c's
 * unfiltering, de-interlacing and gray conversion of the decompressed rows;
 * never installed. */
#ifndef DN_PNG_RASTER_H
#define DN_PNG_RASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/image.h"
#include "digitnet/status.h"

enum {
    DN_PNG_GRAY = 0,
    DN_PNG_RGB = 2,
    DN_PNG_PALETTE = 3,
    DN_PNG_GRAY_ALPHA = 4,
    DN_PNG_RGBA = 6,
};

/* The image as IHDR, PLTE and tRNS describe it (already validated). */
typedef struct dn_png_info {
    int width, height;       /* within DN_IMAGE_MAX_SIDE / DN_IMAGE_MAX_PIXELS */
    int depth;               /* bits per sample: 1, 2, 4, 8 or 16 */
    int color_type;          /* DN_PNG_GRAY ... DN_PNG_RGBA */
    int channels;            /* samples per pixel: 1, 3, 1, 2, 4 */
    bool interlaced;         /* Adam7 */
    int palette_size;        /* PLTE entries, 0..256 */
    uint8_t palette[256][4]; /* R, G, B and alpha (tRNS, else 255) */
    bool has_key;            /* tRNS of a gray or RGB image: this colour is transparent */
    uint16_t key[3];         /* its samples at the image's bit depth (gray uses key[0]) */
} dn_png_info;

/* Bytes of decompressed image data the image must have: for each pass (one
 * without interlacing, seven with Adam7) that is not empty, its rows, each a
 * filter-type byte and the packed samples. Never overflows for an image
 * within the size limits. */
size_t dn_png_raw_size(const dn_png_info *info);

/* Undoes the row filters of raw (dn_png_raw_size(info) bytes, modified in
 * place), scatters Adam7 passes to their pixels, and writes each pixel into
 * img (already info->width x info->height) as Rec. 601 luma (0.299 R +
 * 0.587 G + 0.114 B) composited on white by its alpha. Fails with
 * DN_ERR_FORMAT on a filter type above 4 or a palette index outside the
 * palette, naming the file (name), the row or pixel and the pass. */
dn_status dn_png_decode_raster(const dn_png_info *info, uint8_t *raw, dn_image *img, const char *name);

#endif
