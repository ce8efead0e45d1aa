/* jpeg_internal.h - the JPEG decoder's shared state, split over jpeg.c
 * (markers), jpeg_huffman.c (entropy decoding), jpeg_idct.c, jpeg_color.c
 * and jpeg_exif.c; never installed. */
#ifndef DN_JPEG_INTERNAL_H
#define DN_JPEG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/image.h"
#include "digitnet/status.h"

enum {
    DN_JPEG_MAX_COMPONENTS = 4,
    DN_JPEG_MAX_SCANS = 256,   /* a real progressive file has about 10 */
    DN_JPEG_FAST_BITS = 9,     /* Huffman codes this short are decoded by one lookup */
};

/* How the components become gray. */
typedef enum jpeg_color {
    DN_JPEG_GRAY,  /* one component */
    DN_JPEG_YCC,   /* YCbCr: the luma component is the gray image */
    DN_JPEG_RGB,   /* R, G, B: gray = 0.299 R + 0.587 G + 0.114 B */
} jpeg_color;

/* A Huffman table, canonical codes of 1..16 bits (ITU T.81 annex C). */
typedef struct jpeg_huffman {
    bool defined;
    uint8_t fast_len[1 << DN_JPEG_FAST_BITS]; /* 0: code longer than FAST_BITS */
    uint8_t fast_sym[1 << DN_JPEG_FAST_BITS];
    int32_t maxcode[17];  /* largest code of each length, -1 when none */
    int32_t mincode[17];
    int32_t valptr[17];   /* index in symbols of the first code of each length */
    uint8_t symbols[256];
} jpeg_huffman;

typedef struct jpeg_component {
    int id, h, v, tq;           /* as the frame header gives them */
    int width, height;          /* samples: ceil(image size * h / hmax) */
    int blocks_w, blocks_h;     /* 8x8 blocks covering the samples */
    int stride_blocks, rows_blocks; /* blocks of whole MCUs (>= the above) */
    bool needed;                /* its samples make the gray output */
    uint8_t *plane;             /* needed: stride_blocks*8 x rows_blocks*8 samples */
    int16_t *coefs;             /* needed, progressive: 64 per block, natural order */
    uint16_t quant[64];         /* natural order, latched at the component's first scan */
    bool quant_latched;
    bool scanned;               /* sequential: its one scan has been decoded */
    int8_t coef_bits[64];       /* progressive: -1 before the first scan, else the last Al */
    int dc_pred;                /* DC predictor of the current scan */
    int dc_table, ac_table;     /* of the current scan */
} jpeg_component;

/* One scan header (SOS). */
typedef struct jpeg_scan {
    int n;                           /* components in the scan */
    int index[DN_JPEG_MAX_COMPONENTS]; /* into the frame's components */
    int ss, se, ah, al;              /* spectral selection, successive approximation */
    int number;                      /* 1-based, for messages */
} jpeg_scan;

typedef struct jpeg_decoder {
    const uint8_t *bytes;
    size_t len, pos;
    const char *name;
    uint16_t quant[4][64]; /* natural order */
    bool quant_defined[4];
    jpeg_huffman dc[4], ac[4];
    int restart_interval;
    /* the frame (SOF) */
    bool have_frame, progressive;
    int width, height, ncomp, hmax, vmax, mcus_x, mcus_y;
    jpeg_component comp[DN_JPEG_MAX_COMPONENTS];
    int scans;
    /* from APPn markers */
    bool jfif, adobe;
    int adobe_transform;
    int orientation; /* EXIF, 1..8 (1 when absent or unreadable) */
    jpeg_color color;
} jpeg_decoder;

/* Natural (row-major) index of the k-th coefficient in zigzag order. */
extern const uint8_t dn_jpeg_zigzag[64];

/* Builds t from a DHT table's 16 code counts and its symbols; fails with
 * DN_ERR_FORMAT when the lengths are not a valid prefix code (over-subscribed,
 * or using the all-ones code, as libjpeg refuses). what names the table. */
dn_status dn_jpeg_huffman_build(jpeg_huffman *t, const uint8_t counts[16], const uint8_t *symbols,
                                const char *name, const char *what);

/* Decodes the entropy-coded data of scan s starting at d->pos, leaving d->pos
 * at the marker that follows it. Sequential scans write the needed
 * components' planes, progressive ones their coefficients. Every loop is
 * bounded by the scan's block count and 64 coefficients a block; data that
 * runs out (the bits of a block reach into a marker) is DN_ERR_FORMAT. */
dn_status dn_jpeg_decode_scan(jpeg_decoder *d, const jpeg_scan *s);

/* Skips the entropy-coded data of a scan whose output is not needed (a
 * chroma AC scan): d->pos moves to the next marker other than RSTn. */
dn_status dn_jpeg_skip_scan(jpeg_decoder *d, const jpeg_scan *s);

/* Dequantises coef[64] (natural order) with quant, inverse-DCTs it and
 * writes the 8x8 samples, level-shifted by 128, rounded and clamped to
 * 0..255, at out with stride bytes between rows. */
void dn_jpeg_idct_block(uint8_t *out, size_t stride, const int32_t coef[64], const uint16_t quant[64]);

/* A progressive component's stored coefficients into its plane. */
void dn_jpeg_idct_component(jpeg_component *c);

/* The gray image (before orientation) from the decoded planes: *img new. */
dn_status dn_jpeg_to_gray(dn_image *img, const jpeg_decoder *d);

/* EXIF orientation (1..8) from an APP1 segment's payload (after the length),
 * or 0 when it is not EXIF or holds no usable orientation tag. Never fails:
 * a malformed block is ignored. */
int dn_jpeg_exif_orientation(const uint8_t *data, size_t len);

/* Replaces *img by its rotation or flip for EXIF orientation 2..8 (1 leaves
 * it as it is). */
dn_status dn_jpeg_orient(dn_image *img, int orientation);

#endif
