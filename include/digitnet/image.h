/* digitnet/image.h - grayscale images, image files (PGM, PNG and JPEG, told
 * apart by their content), and turning a free-form drawing, scan or photo of
 * one digit into an MNIST-style 28x28 input.
 *
 * Usage:
 *     dn_image img;
 *     float x[DN_MNIST_PIXELS];
 *     dn_preprocess_info info;
 *     if (dn_image_read(&img, "digit.png") != DN_OK ||
 *         dn_preprocess_mnist(&img, x, &info) != DN_OK) {
 *         fprintf(stderr, "%s\n", dn_last_error());
 *         ...
 *     }
 *     dn_image_free(&img);
 *     if (!info.has_ink)
 *         puts("no digit");
 *     dn_normalize(x, DN_MNIST_PIXELS, DN_MNIST_MEAN, DN_MNIST_STD);
 *     ... x is one 1x28x28 network input ...
 *
 * Readers validate everything and fail with DN_ERR_FORMAT and a message naming
 * the file and what is wrong (DN_ERR_IO when it cannot be read at all).
 * File readers refuse anything but a regular file without blocking
 * (DN_ERR_IO) and files over 1 GiB (DN_ERR_UNSUPPORTED). Every image made
 * here is the caller's, released with dn_image_free. Conventions (errors,
 * ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: nothing here keeps state between calls. Functions taking a
 * const dn_image only read it and may run on one image at once; making,
 * drawing into or freeing an image needs it to itself. */
#ifndef DIGITNET_IMAGE_H
#define DIGITNET_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest image accepted anywhere in this module: each side at most
 * DN_IMAGE_MAX_SIDE and at most DN_IMAGE_MAX_PIXELS pixels in all (64
 * megapixels, 256 MB of floats). Larger images are DN_ERR_UNSUPPORTED. */
#define DN_IMAGE_MAX_SIDE 16384
#define DN_IMAGE_MAX_PIXELS ((size_t)1 << 26)

/* Side and pixel count of an MNIST image. */
#define DN_MNIST_SIDE 28
#define DN_MNIST_PIXELS (DN_MNIST_SIDE * DN_MNIST_SIDE)

/* A grayscale image: pixels[y * width + x], row-major, top row first, each
 * value in [0,1] with 0 = black and 1 = white (the file's own brightness, not
 * ink). pixels is owned by the struct (64-byte aligned) and released by
 * dn_image_free. */
typedef struct dn_image {
    int width, height;
    float *pixels;
} dn_image;

/* A new width x height image, all black (0). Sizes must be 1..DN_IMAGE_MAX_SIDE
 * with at most DN_IMAGE_MAX_PIXELS pixels: DN_ERR_ARG for a size below 1 or
 * a NULL img, DN_ERR_UNSUPPORTED beyond the limits, DN_ERR_NOMEM. On failure
 * *img is zeroed. */
DN_API dn_status dn_image_new(dn_image *img, int width, int height);

/* A new image from width*height 8-bit samples (row-major, 0 = black, 255 =
 * white), each divided by 255: for raw canvas buffers. The caller keeps
 * pixels. Errors as dn_image_new (DN_ERR_ARG for NULL pixels too). */
DN_API dn_status dn_image_from_gray8(dn_image *img, const uint8_t *pixels, int width, int height);

/* Releases img->pixels and zeroes *img; safe on NULL and on a zeroed or
 * freed image. */
DN_API void dn_image_free(dn_image *img);

/* Parses a PGM image held in memory: binary P5 (one byte per sample when
 * maxval < 256, else two bytes big-endian) or ASCII P2. The header is the
 * magic, width, height and maxval (1..65535) separated by whitespace, with
 * '#' comments (to the end of the line) allowed before and between them; in
 * P5 exactly one whitespace character (or a comment ending in a newline)
 * follows maxval and the raster starts after it. P2 samples are decimal
 * numbers separated by whitespace, comments allowed there too. Samples are
 * divided by maxval; one above maxval is an error. A width or height of 0,
 * numbers that are missing, not decimal or too large, and a raster shorter
 * than width*height samples are DN_ERR_FORMAT; images beyond the size limits
 * above and the other Netpbm types (P1, P3, P4, P6, P7) are DN_ERR_UNSUPPORTED.
 * Bytes after the raster are ignored: a PGM file may hold several images and
 * this reads the first. name is used only in messages. On failure *img is
 * zeroed. */
DN_API dn_status dn_pgm_parse(dn_image *img, const uint8_t *bytes, size_t len, const char *name);

/* Reads and parses the PGM file at path (see dn_pgm_parse): its errors, and
 * DN_ERR_IO / DN_ERR_UNSUPPORTED for the file itself (see above). */
DN_API dn_status dn_pgm_read(dn_image *img, const char *path);

/* Parses a PNG image held in memory (PNG 1.2, ISO/IEC 15948): every colour
 * type (gray, RGB, palette, gray+alpha, RGBA) at every bit depth it allows
 * (1, 2, 4, 8, 16), PLTE, tRNS and Adam7 interlacing. Colour becomes gray
 * as Rec. 601 luma, 0.299 R + 0.587 G + 0.114 B; alpha (an alpha channel,
 * palette alpha from tRNS, or the tRNS transparent colour, which is alpha 0)
 * is composited on white: a * luma + (1 - a). Samples are divided by
 * 2^depth - 1, so pixels are in [0,1]. Gamma, colour profiles and the other
 * ancillary chunks are ignored (their CRCs are still checked); the image is
 * taken as stored.
 * Checked, each failure DN_ERR_FORMAT with a message naming the file (name)
 * and what is wrong: the signature; every chunk's length, type letters and
 * CRC; the order (IHDR first and once, PLTE and tRNS at most once and before
 * the image data, tRNS after PLTE, the IDAT chunks one unbroken run, IEND
 * last with nothing after it); IHDR's fields (size not 0, bit depth allowed
 * for the colour type, compression, filter and interlace methods defined);
 * PLTE present for a palette image and absent from gray ones, 1..256
 * entries; tRNS's length and values; the zlib header (deflate, no preset
 * dictionary), the DEFLATE data, the Adler-32 and the exact decompressed
 * size the image needs; filter types 0..4; palette indices inside the
 * palette. An image beyond DN_IMAGE_MAX_SIDE / DN_IMAGE_MAX_PIXELS and an
 * unknown critical chunk (upper-case first letter) are DN_ERR_UNSUPPORTED.
 * Sizes are checked before anything is allocated, and nothing larger than
 * what DEFLATE can make of the file's bytes (1032 to 1) is allocated.
 * On failure *img is zeroed. Thread-safe. */
DN_API dn_status dn_png_parse(dn_image *img, const uint8_t *bytes, size_t len, const char *name);

/* Reads and parses the PNG file at path (see dn_png_parse). Anything but a
 * regular file (a FIFO, a directory, a device) is refused without blocking
 * (DN_ERR_IO), as are files over 1 GiB (DN_ERR_UNSUPPORTED). */
DN_API dn_status dn_png_read(dn_image *img, const char *path);

/* Parses an image held in memory by what it is, whatever it is called: a
 * Netpbm magic (P1..P7) goes to dn_pgm_parse, the PNG signature to
 * dn_png_parse, the JPEG start (FF D8 FF) to dn_jpeg_parse; anything else
 * is DN_ERR_FORMAT with a message naming the formats read. name is used
 * only in messages. On failure *img is zeroed. */
DN_API dn_status dn_image_parse(dn_image *img, const uint8_t *bytes, size_t len, const char *name);

/* Reads the image file at path and parses it by content (dn_image_parse),
 * with the same refusals as dn_png_read. Errors: those of the parser its
 * content picks, DN_ERR_FORMAT when it is none of the three, DN_ERR_IO and
 * DN_ERR_UNSUPPORTED for the file itself. */
DN_API dn_status dn_image_read(dn_image *img, const char *path);

/* Writes img as an 8-bit binary PGM (P5, maxval 255): each value clamped to
 * [0,1] and rounded to the nearest of 256 levels, NaN written as 0. The file
 * is written beside path under a temporary name and renamed over it, so
 * readers see either the old file or the whole new one. DN_ERR_ARG for a
 * NULL or empty image, DN_ERR_UNSUPPORTED for one beyond the size limits,
 * DN_ERR_IO when the file cannot be written (path is then unchanged),
 * DN_ERR_NOMEM. */
DN_API dn_status dn_pgm_write(const dn_image *img, const char *path);

/* Parses a JPEG image held in memory into a gray image (values/255).
 * Supported: baseline (SOF0), extended sequential with Huffman coding and
 * 8-bit samples (SOF1) and progressive (SOF2: spectral selection and
 * successive approximation, first and refinement scans, EOB runs); 1
 * component (gray) or 3: YCbCr, whose gray is its luma Y as decoded (no
 * conversion to RGB and back), or RGB (told by an Adobe APP14 transform of 0
 * or, without JFIF or Adobe markers, component ids 'R' 'G' 'B'), whose gray
 * is 0.299 R + 0.587 G + 0.114 B; sampling factors 1..4 in any combination
 * (a component sampled less than the image is replicated); any size;
 * restart intervals; several scans; 8- and 16-bit quantisation tables. The
 * inverse DCT is a separable float one, rounded and clamped to 8 bits: on
 * ~1000 test files no sample differs from libjpeg's (integer IDCT) by more
 * than one level (tests/jpeg/check_jpeg.py). An
 * EXIF orientation (APP1, tag 0x0112, values 1-8, either byte order) is
 * applied, so the image comes out upright (sizes swapped for 5-8); an
 * unreadable EXIF block is ignored.
 * Refused with DN_ERR_UNSUPPORTED: arithmetic coding, lossless (SOF3),
 * hierarchical, 12-bit samples, a height left to a DNL marker, 2 or 4
 * components (CMYK, YCCK), more than 256 scans, and images beyond the size
 * limits above.
 * Everything else that is not valid JPEG is DN_ERR_FORMAT, where libjpeg
 * often warns and goes on: markers out of order or unknown, segments whose
 * lengths disagree with their contents, Huffman tables that are not prefix
 * codes (over-subscribed or using the all-ones code), quantisation values
 * of 0, sampling factors outside 1..4, tables used before they are defined,
 * an invalid progression (AC before DC, a coefficient refined out of
 * order), a code not in its table, a missing or wrong RSTn, entropy-coded
 * data that ends inside a block (truncation is an error, never gray fill),
 * data left over after a scan, and a file without EOI. A file too short for
 * its declared size is refused before anything is allocated for it: every
 * block takes at least one bit. Work is bounded by the file length: a
 * sequential block costs at least two bits, and in a progressive file each
 * coefficient is in one first scan and at most 13 refinements, so all scans
 * together visit at most about 900 coefficients per block, whatever EOB runs
 * skip. Memory is bounded by the image size (progressive: 2 bytes of
 * coefficients per sample). Bytes after EOI are ignored. name is used only
 * in messages. On failure *img is zeroed. */
DN_API dn_status dn_jpeg_parse(dn_image *img, const uint8_t *bytes, size_t len, const char *name);

/* Reads and parses the JPEG file at path (see dn_jpeg_parse) through the
 * same reader as dn_pgm_read: a regular file only (a FIFO or device is
 * refused without blocking), at most 1 GiB. Errors of dn_jpeg_parse, and
 * DN_ERR_IO / DN_ERR_UNSUPPORTED for the file itself. */
DN_API dn_status dn_jpeg_read(dn_image *img, const char *path);

/* What dn_preprocess_mnist found in the image. */
typedef struct dn_preprocess_info {
    bool has_ink;       /* false: blank, uniform or only faint noise */
    bool inverted;      /* true: dark ink on a light background was flipped */
    int box_x, box_y;   /* the ink's bounding box in the input image's pixels */
    int box_w, box_h;   /* (0 when has_ink is false) */
    float ink_fraction; /* share of the input's pixels counted as ink, 0..1 */
} dn_preprocess_info;

/* Turns a picture of one digit - a canvas drawing of any size, dark on light
 * or light on dark, a scan or a photo - into out[28*28] the way MNIST itself
 * was made: ink intensity in [0,1] (1 = full ink, background 0), the digit
 * scaled so the larger side of its bounding box is 20 pixels with the aspect
 * ratio kept, and its centre of mass at pixel (14,14) (sum x*v / sum v over
 * column indices x, as in MNIST). The steps:
 *   1. Images larger than 1024 pixels on a side are first reduced by an
 *      integer factor with area averaging (bounds time and memory).
 *   2. The background is a plane fitted to the border pixels (robust to ink
 *      that touches the border); the noise level is the median absolute
 *      deviation from it. When at least half of the pixels lie on that
 *      plane (within 1/4096) - a drawing on a flat canvas, MNIST, a clean
 *      render - steps 3 and 4 follow as written (such pictures come out
 *      exactly as they did before step 2b existed); anything else goes
 *      through step 2b.
 *   2b. Photos and scans of paper (noise, texture, light a plane cannot
 *      follow, shadows, ruled lines): first, when the photo shows the desk
 *      around the sheet, the sheet is found - on each side of the frame a
 *      straight edge within 15 degrees of it, in the outer 40% of the
 *      frame, that is a sharp step up from a darker desk along at least
 *      half its length, with desk beyond it - and everything beyond its
 *      edges (and 0.5% of the longer side inside them) is neither paper
 *      nor ink: left out of what follows and never ink. The paper's
 *      brightness is the median
 *      of each block of a grid (about 16 blocks on the longer side, a 3x3
 *      median across blocks, bilinear between them), estimated again
 *      without the pixels the first estimate put on the ink's side (the
 *      polarity as in step 3), nor those beyond that gate from the paper's
 *      envelope (block medians on a 128-block grid opened on the ink's side
 *      by a square reaching 5% of the longer side each way), so a block
 *      covered by a bold stroke does not take the ink for paper. The ink
 *      is the deviation from the paper divided by how far the paper could
 *      go towards the ink (its brightness for dark ink, 1 minus it for light
 *      ink), so ink in shadow counts as much as ink in full light; step 4
 *      follows on that. Then ruled and
 *      squared lines are taken out: at least two straight lines within 10
 *      degrees of horizontal (or of vertical), thin (at most 1.5% of the
 *      shorter side, at least 4 pixels), each running through 60% of the
 *      picture (of the sheet, when a desk was found), and then the lines
 *      of the same direction (within 1 degree) that the frame or the
 *      sheet's edge cuts short (inside over at least 10% of the picture's
 *      length) or a row of writing hides, running through 30% of their
 *      length;
 *      where a stroke crosses or follows a line (a run across it
 *      thicker than the line by 2 pixels, or stronger by a quarter of the
 *      ink level) the stroke is kept.
 *   3. Polarity: whichever of darker- or lighter-than-background holds more
 *      ink mass is the ink; dark ink is flipped (info->inverted).
 *   4. Contrast: the ink level is the median deviation of the pixels at
 *      least half as strong as the strongest (the brightest 1 in 10000, at
 *      least 4, set aside); ink is the deviation divided by that level,
 *      clamped to 1 (stroke cores saturate as in MNIST), and 0 below 15% of
 *      the level or below four noise deviations. There is no ink when the
 *      level is under 0.15 (in units of black to white) or under six noise
 *      deviations.
 *   5. Specks: 8-connected ink components holding less than 3% of the ink
 *      mass of the largest component are erased before the bounding box and
 *      the centre of mass are taken.
 *   6. Thin strokes: the stroke width is estimated as 2 * ink mass / perimeter
 *      (of the ink >= 0.5). If it would come out under 1.25 pixels at 28x28
 *      (MNIST's 5th percentile is 1.3, its median 2.0) - a thin pen on a big
 *      canvas - the ink is dilated with a round pen (an exact distance
 *      transform, anti-aliased edge) just enough to reach 2.0 pixels with the
 *      box refitted to 20. Strokes are never thinned, and digits at most 40
 *      pixels tall and wide are left alone: shrunk by 2x or less, a pen at
 *      least a pixel wide stays MNIST-like, and 28x28 MNIST images themselves
 *      pass through almost unchanged.
 *   7. Resampling: area averaging when shrinking, bilinear when enlarging a
 *      tiny drawing, with the sub-pixel shift that puts the centre of mass at
 *      (14,14); the result is finally scaled so its largest value is 1.
 * An image without ink gives has_ink = false and out all zeros, so callers can
 * say "no digit" instead of guessing. Returns DN_ERR_ARG for a NULL argument,
 * an empty image or a non-finite pixel; info may be NULL. */
DN_API dn_status dn_preprocess_mnist(const dn_image *img, float out[DN_MNIST_PIXELS], dn_preprocess_info *info);

/* pixels[i] = (pixels[i] - mean) / std for i < n; std must not be 0.
 * Cannot fail. */
DN_API void dn_normalize(float *pixels, size_t n, float mean, float std);

#ifdef __cplusplus
}
#endif
#endif
