/* winograd_tile.h - the tile machinery winograd.c (forward pass, weights)
 * and winograd_backward.c share: vector helpers, the F(4x4, 3x3) transform
 * matrices, the shape of a call, zero-padded planes split into column
 * phases, and the input-tile transform. Private to the library; everything
 * here is static inline. */
#ifndef DN_WINOGRAD_TILE_H
#define DN_WINOGRAD_TILE_H

#include <string.h>

#include "winograd.h"

/* Tiles per block, roughly: a block is this many tiles' worth of whole
 * images (at least one). Two of conv2's 24x24 images (72 tiles): V and M
 * of a block, 36 points x 96 channels x 72 tiles, just fit a 1 MiB L2
 * between the transforms and the GEMMs. Measured on Zen 4 with 2 threads
 * training: 72 beat 144 by about 8% and 36 (GEMMs too narrow) by 20%. */
enum { DN_WINO_BLOCK_TILES = 72 };

/* Tile size in, tile size out, and the 36 points of a tile. */
enum { DN_WG_ALPHA = 6, DN_WG_OUT = 4, DN_WG_POINTS = DN_WG_ALPHA * DN_WG_ALPHA };

/* The transforms run on WV tiles at a time in GCC vector extensions (any
 * target: the compiler splits or lowers them); a tile row is rounded up to
 * whole vectors, and the extra lanes compute on zeros or on scratch values
 * nothing reads back. Their stores land on the first columns of the next
 * tile row (or past the block's last tile): tile rows must therefore be
 * transformed in ascending order, each overwriting its predecessor's
 * spill, which the loops below do. */
#if defined(__AVX__)
#define DN_WV 8
#else
#define DN_WV 4 /* one 128-bit register (SSE2, NEON or generic lowering) */
#endif
typedef float dn_wv __attribute__((vector_size(DN_WV * sizeof(float))));
typedef int dn_wvi __attribute__((vector_size(DN_WV * sizeof(int))));

static inline dn_wv wload(const float *p)
{
    dn_wv v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void wstore(float *p, dn_wv v) { memcpy(p, &v, sizeof v); }

/* 0, 1, ..., DN_WV - 1. */
static inline dn_wvi lane_numbers(void)
{
#if DN_WV == 8
    return (dn_wvi){0, 1, 2, 3, 4, 5, 6, 7};
#else
    return (dn_wvi){0, 1, 2, 3};
#endif
}

/* dst[0..n) = src[0..n), the buffers apart: whole vectors, the last one
 * overlapping the one before. Rows this short lose to a memcpy call, which
 * is what compilers turn a plain copy loop into; the empty asm hides the
 * loop's trip count from them. */
static inline void copy_row(float *restrict dst, const float *restrict src, int n)
{
    if (n < DN_WV) {
        for (int x = 0; x < n; x++) {
            __asm__("" : "+r"(x));
            dst[x] = src[x];
        }
        return;
    }
    for (int x = 0; x + DN_WV <= n; x += DN_WV) {
        __asm__("" : "+r"(x));
        wstore(dst + x, wload(src + x));
    }
    wstore(dst + n - DN_WV, wload(src + n - DN_WV));
}

/* ---- the transform matrices (Lavin and Gray, points 0, 1, -1, 2, -2, inf);
 * G, kernel to tile, is in winograd.c */

/* x B, one row x of 6 values: B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0;
 * 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]. */
static inline void apply_bt(dn_wv t[DN_WG_ALPHA], const dn_wv x[DN_WG_ALPHA])
{
    dn_wv a = x[4] - 4.0f * x[2], b = x[3] - 4.0f * x[1];
    dn_wv c = x[4] - x[2], d = 2.0f * (x[3] - x[1]);
    t[0] = 4.0f * x[0] - 5.0f * x[2] + x[4];
    t[1] = a + b;
    t[2] = a - b;
    t[3] = c + d;
    t[4] = c - d;
    t[5] = 4.0f * x[1] - 5.0f * x[3] + x[5];
}

/* B x, x of 6 values: the adjoint of apply_bt. */
static inline void apply_b(dn_wv y[DN_WG_ALPHA], const dn_wv x[DN_WG_ALPHA])
{
    dn_wv s12 = x[1] + x[2], d12 = x[2] - x[1], s34 = x[3] + x[4], d34 = x[4] - x[3];
    y[0] = 4.0f * x[0];
    y[1] = 4.0f * d12 + 2.0f * d34 + 4.0f * x[5];
    y[2] = -5.0f * x[0] - 4.0f * s12 - s34;
    y[3] = -d12 - 2.0f * d34 - 5.0f * x[5];
    y[4] = x[0] + s12 + s34;
    y[5] = x[5];
}

/* A^T m, m of 6 values: A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0;
 * 0 1 -1 8 -8 1]. */
static inline void apply_at(dn_wv y[DN_WG_OUT], const dn_wv m[DN_WG_ALPHA])
{
    dn_wv s1 = m[1] + m[2], d1 = m[1] - m[2], s2 = m[3] + m[4], d2 = m[3] - m[4];
    y[0] = m[0] + s1 + s2;
    y[1] = d1 + 2.0f * d2;
    y[2] = s1 + 4.0f * s2;
    y[3] = d1 + 8.0f * d2 + m[5];
}

/* A g, g of 4 values: the adjoint of apply_at. */
static inline void apply_a(dn_wv z[DN_WG_ALPHA], const dn_wv g[DN_WG_OUT])
{
    dn_wv e1 = g[0] + g[2], o1 = g[1] + g[3];
    dn_wv e2 = g[0] + 4.0f * g[2], o2 = 2.0f * g[1] + 8.0f * g[3];
    z[0] = g[0];
    z[1] = e1 + o1;
    z[2] = e1 - o1;
    z[3] = e2 + o2;
    z[4] = e2 - o2;
    z[5] = g[3];
}

/* ---- shapes */

/* One 3x3 stride-1 convolution seen by the tile machinery: cin planes of
 * h x w in, cout planes of oh x ow out, output (0,0) reading input (-pad,-pad). */
typedef struct wino_shape {
    int cin, h, w;
    int cout, oh, ow;
    int pad;
    int th, tw;   /* tile rows and columns per image */
    int twv;      /* tw rounded up to whole vectors */
    int images;   /* whole images per block */
    int lane;     /* floats of one column phase of a padded row: twv + DN_WV */
} wino_shape;

static inline wino_shape make_shape(int cin, int h, int w, int cout, int oh, int ow, int pad)
{
    wino_shape s = {.cin = cin, .h = h, .w = w, .cout = cout, .oh = oh, .ow = ow, .pad = pad};
    s.th = (oh + DN_WG_OUT - 1) / DN_WG_OUT;
    s.tw = (ow + DN_WG_OUT - 1) / DN_WG_OUT;
    s.twv = (s.tw + DN_WV - 1) / DN_WV * DN_WV;
    s.images = DN_WINO_BLOCK_TILES / (s.th * s.tw);
    if (s.images < 1)
        s.images = 1;
    s.lane = s.twv + DN_WV; /* twv + 1 needed, whole vectors kept */
    return s;
}

static inline wino_shape forward_shape(const dn_conv2d_dims *d)
{
    return make_shape(d->in_c, d->in_h, d->in_w, d->out_c, d->out_h, d->out_w, d->pad);
}

/* Tile columns of a block (with room for the last row's extra lanes), a
 * multiple of 16: V and M rows have this stride. */
static inline size_t block_width(const wino_shape *s)
{
    return ((size_t)s->images * s->th * s->tw + (size_t)(s->twv - s->tw) + 15) / 16 * 16;
}

/* A padded plane holds the DN_WG_OUT * th + 2 rows the tiles read, each as four
 * column phases: padded column 4k + r at r * lane + k. */
static inline size_t padded_rows(const wino_shape *s) { return (size_t)DN_WG_OUT * s->th + 2; }
static inline size_t padded_floats(const wino_shape *s) { return padded_rows(s) * DN_WG_OUT * s->lane; }

/* A padded plane and the line it is built through. */
static inline size_t pad_area_floats(const wino_shape *s)
{
    return padded_floats(s) + DN_WG_OUT * (size_t)s->lane;
}

/* V [cin][36][width], M or Z [cout][36][width] (the 36 rows of a channel
 * together, so the transforms touch one compact region per channel), three
 * padded planes (inputs, output gradients, input gradients) and one output
 * plane (an output gradient made from a pooled one). */
static inline size_t shape_scratch(const wino_shape *s)
{
    return DN_WG_POINTS * (size_t)(s->cin + s->cout) * block_width(s) + 3 * pad_area_floats(s) +
           (size_t)s->oh * s->ow;
}

/* ---- padded planes */

/* The 4 column phases of the 4 * DN_WV floats at p: phase[r][k] = p[4k + r]. */
static inline void split4(dn_wv phase[DN_WG_OUT], const float *p)
{
    dn_wv x0 = wload(p), x1 = wload(p + DN_WV);
    dn_wv x2 = wload(p + 2 * DN_WV), x3 = wload(p + 3 * DN_WV);
#if DN_WV == 8
    dn_wv e0 = __builtin_shufflevector(x0, x1, 0, 2, 4, 6, 8, 10, 12, 14);
    dn_wv o0 = __builtin_shufflevector(x0, x1, 1, 3, 5, 7, 9, 11, 13, 15);
    dn_wv e1 = __builtin_shufflevector(x2, x3, 0, 2, 4, 6, 8, 10, 12, 14);
    dn_wv o1 = __builtin_shufflevector(x2, x3, 1, 3, 5, 7, 9, 11, 13, 15);
    phase[0] = __builtin_shufflevector(e0, e1, 0, 2, 4, 6, 8, 10, 12, 14);
    phase[2] = __builtin_shufflevector(e0, e1, 1, 3, 5, 7, 9, 11, 13, 15);
    phase[1] = __builtin_shufflevector(o0, o1, 0, 2, 4, 6, 8, 10, 12, 14);
    phase[3] = __builtin_shufflevector(o0, o1, 1, 3, 5, 7, 9, 11, 13, 15);
#else
    dn_wv e0 = __builtin_shufflevector(x0, x1, 0, 2, 4, 6);
    dn_wv o0 = __builtin_shufflevector(x0, x1, 1, 3, 5, 7);
    dn_wv e1 = __builtin_shufflevector(x2, x3, 0, 2, 4, 6);
    dn_wv o1 = __builtin_shufflevector(x2, x3, 1, 3, 5, 7);
    phase[0] = __builtin_shufflevector(e0, e1, 0, 2, 4, 6);
    phase[2] = __builtin_shufflevector(e0, e1, 1, 3, 5, 7);
    phase[1] = __builtin_shufflevector(o0, o1, 0, 2, 4, 6);
    phase[3] = __builtin_shufflevector(o0, o1, 1, 3, 5, 7);
#endif
}

/* Padded row y + oy, column x + ox gets plane[y][x] (h x w) wherever that
 * lands inside pad (rows of 4 lanes, column phases split as padded_floats
 * says). line (4 * lane floats) holds a padded row before its split. The
 * cells no plane value lands on keep what they had: zero, when pad and line
 * were cleared before the first plane of a call (every plane of a call lands
 * on the same cells). */
static inline void pad_plane(float *restrict pad, float *restrict line, int rows, int lane,
                      const float *restrict plane, int h, int w, int oy, int ox)
{
    int y0 = oy < 0 ? -oy : 0, y1 = h < rows - oy ? h : rows - oy;
    int x0 = ox < 0 ? -ox : 0, x1 = w < DN_WG_OUT * lane - ox ? w : DN_WG_OUT * lane - ox;
    for (int y = y0; y < y1; y++) {
        const float *src = plane + (size_t)y * w;
        if (x1 > x0)
            copy_row(line + ox + x0, src + x0, x1 - x0);
        float *row = pad + (size_t)(y + oy) * DN_WG_OUT * lane;
        for (int k = 0; k < lane; k += DN_WV) {
            dn_wv phase[DN_WG_OUT];
            split4(phase, line + DN_WG_OUT * k);
            for (int r = 0; r < DN_WG_OUT; r++)
                wstore(row + r * lane + k, phase[r]);
        }
    }
}

/* dst[k * kstride] = x[k] for the 36 points: one running pointer, where
 * 36 addresses kept at once would not fit in registers. */
static inline void store_points(float *dst, size_t kstride, const dn_wv x[DN_WG_POINTS])
{
#pragma GCC unroll 4
    for (int k = 0; k < DN_WG_POINTS; k++, dst += kstride)
        wstore(dst, x[k]);
}

static inline void load_points(dn_wv x[DN_WG_POINTS], const float *src, size_t kstride)
{
#pragma GCC unroll 4
    for (int k = 0; k < DN_WG_POINTS; k++, src += kstride)
        x[k] = wload(src);
}

/* ---- input tiles: V = B^T d B */

/* The 36 transformed values of the tiles of one tile row of one channel,
 * v[k * kstride + tx] for tx < twv, from the 6 padded rows at p: tile tx
 * reads padded columns 4tx to 4tx+5. */
static inline void transform_input_row(float *restrict v, size_t kstride, const float *restrict p,
                                int lane, int twv)
{
    const size_t row = (size_t)DN_WG_OUT * lane;
    for (int tx = 0; tx < twv; tx += DN_WV) {
        dn_wv t[DN_WG_ALPHA][DN_WG_ALPHA], out[DN_WG_POINTS];
        for (int r = 0; r < DN_WG_ALPHA; r++) {
            const float *q = p + r * row + tx;
            dn_wv xs[DN_WG_ALPHA] = {wload(q), wload(q + lane), wload(q + 2 * lane),
                              wload(q + 3 * lane), wload(q + 1), wload(q + lane + 1)};
            apply_bt(t[r], xs);
        }
        for (int j = 0; j < DN_WG_ALPHA; j++) {
            dn_wv col[DN_WG_ALPHA], y[DN_WG_ALPHA];
            for (int r = 0; r < DN_WG_ALPHA; r++)
                col[r] = t[r][j];
            apply_bt(y, col);
            for (int i = 0; i < DN_WG_ALPHA; i++)
                out[i * DN_WG_ALPHA + j] = y[i];
        }
        store_points(v + tx, kstride, out);
    }
}

/* V of every tile of one image's plane, tile (ty, tx) at column ty * tw + tx
 * of v; pad is a pad area (pad_area_floats). */
static inline void transform_input_plane(float *restrict v, size_t kstride, float *restrict pad,
                                  const float *plane, const wino_shape *s)
{
    pad_plane(pad, pad + padded_floats(s), (int)padded_rows(s), s->lane, plane, s->h, s->w,
              s->pad, s->pad);
    for (int ty = 0; ty < s->th; ty++)
        transform_input_row(v + (size_t)ty * s->tw, kstride,
                            pad + (size_t)(DN_WG_OUT * ty) * DN_WG_OUT * s->lane, s->lane, s->twv);
}

/* The 4 values y[q] of each of a vector's tiles, interleaved: out[4t + q]
 * (the output transform's rows, and padded rows joined back from phases). */
static inline void interleave4(float out[DN_WG_OUT * DN_WV], const dn_wv y[DN_WG_OUT])
{
#if DN_WV == 8
    dn_wv a_lo = __builtin_shufflevector(y[0], y[1], 0, 8, 1, 9, 2, 10, 3, 11);
    dn_wv a_hi = __builtin_shufflevector(y[0], y[1], 4, 12, 5, 13, 6, 14, 7, 15);
    dn_wv b_lo = __builtin_shufflevector(y[2], y[3], 0, 8, 1, 9, 2, 10, 3, 11);
    dn_wv b_hi = __builtin_shufflevector(y[2], y[3], 4, 12, 5, 13, 6, 14, 7, 15);
    wstore(out, __builtin_shufflevector(a_lo, b_lo, 0, 1, 8, 9, 2, 3, 10, 11));
    wstore(out + 8, __builtin_shufflevector(a_lo, b_lo, 4, 5, 12, 13, 6, 7, 14, 15));
    wstore(out + 16, __builtin_shufflevector(a_hi, b_hi, 0, 1, 8, 9, 2, 3, 10, 11));
    wstore(out + 24, __builtin_shufflevector(a_hi, b_hi, 4, 5, 12, 13, 6, 7, 14, 15));
#else
    dn_wv a_lo = __builtin_shufflevector(y[0], y[1], 0, 4, 1, 5);
    dn_wv a_hi = __builtin_shufflevector(y[0], y[1], 2, 6, 3, 7);
    dn_wv b_lo = __builtin_shufflevector(y[2], y[3], 0, 4, 1, 5);
    dn_wv b_hi = __builtin_shufflevector(y[2], y[3], 2, 6, 3, 7);
    wstore(out, __builtin_shufflevector(a_lo, b_lo, 0, 1, 4, 5));
    wstore(out + 4, __builtin_shufflevector(a_lo, b_lo, 2, 3, 6, 7));
    wstore(out + 8, __builtin_shufflevector(a_hi, b_hi, 0, 1, 4, 5));
    wstore(out + 12, __builtin_shufflevector(a_hi, b_hi, 2, 3, 6, 7));
#endif
}

#endif
