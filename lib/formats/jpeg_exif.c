/* jpeg_exif.c - the EXIF orientation tag of a JPEG's APP1 segment, and the
 * rotation or flip that shows the image upright. */
#include <string.h>

#include "internal.h"
#include "jpeg_internal.h"

static unsigned read16(const uint8_t *p, bool big)
{
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t read32(const uint8_t *p, bool big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* "Exif\0\0", then a TIFF header (II*\0 or MM\0*, the offset of IFD0), then
 * IFD0: a count and 12-byte entries (tag, type, count, value). Orientation
 * is tag 0x0112, one SHORT (type 3) held in the entry itself. */
int dn_jpeg_exif_orientation(const uint8_t *data, size_t len)
{
    if (len < 6 || memcmp(data, "Exif\0\0", 6) != 0)
        return 0;
    const uint8_t *tiff = data + 6;
    size_t n = len - 6;
    if (n < 8)
        return 0;
    bool big;
    if (memcmp(tiff, "II*\0", 4) == 0)
        big = false;
    else if (memcmp(tiff, "MM\0*", 4) == 0)
        big = true;
    else
        return 0;
    uint32_t ifd = read32(tiff + 4, big);
    if (ifd < 8 || ifd > n || n - ifd < 2)
        return 0;
    unsigned entries = read16(tiff + ifd, big);
    if ((size_t)entries * 12 > n - ifd - 2)
        return 0;
    for (unsigned i = 0; i < entries; i++) {
        const uint8_t *e = tiff + ifd + 2 + (size_t)i * 12;
        if (read16(e, big) != 0x0112)
            continue;
        if (read16(e + 2, big) != 3 || read32(e + 4, big) != 1)
            return 0;
        unsigned v = read16(e + 8, big);
        return v >= 1 && v <= 8 ? (int)v : 0;
    }
    return 0;
}

dn_status dn_jpeg_orient(dn_image *img, int orientation)
{
    if (orientation <= 1 || orientation > 8)
        return DN_OK;
    size_t w = (size_t)img->width, h = (size_t)img->height;
    bool swap = orientation >= 5;
    dn_image out;
    dn_status status = dn_image_new(&out, swap ? img->height : img->width, swap ? img->width : img->height);
    if (status != DN_OK)
        return status;
    size_t ow = (size_t)out.width, oh = (size_t)out.height;
    const float *src = img->pixels;
    for (size_t oy = 0; oy < oh; oy++) {
        float *row = out.pixels + oy * ow;
        for (size_t ox = 0; ox < ow; ox++) {
            size_t sx, sy;
            switch (orientation) {
            case 2: sx = w - 1 - ox; sy = oy; break;           /* mirrored left-right */
            case 3: sx = w - 1 - ox; sy = h - 1 - oy; break;   /* rotated 180 */
            case 4: sx = ox; sy = h - 1 - oy; break;           /* mirrored top-bottom */
            case 5: sx = oy; sy = ox; break;                   /* transposed */
            case 6: sx = oy; sy = h - 1 - ox; break;           /* shown rotated 90 clockwise */
            case 7: sx = w - 1 - oy; sy = h - 1 - ox; break;   /* transversed */
            default: sx = w - 1 - oy; sy = ox; break;          /* 8: rotated 90 counter-clockwise */
            }
            row[ox] = src[sy * w + sx];
        }
    }
    dn_image_free(img);
    *img = out;
    return DN_OK;
}
