/* winograd.c - 3x3 stride-1 convolution as Winograd F(4x4, 3x3): weight,
 * tile and gradient transforms around 36 GEMMs, for the forward pass, the
 * input gradient and the weight gradient. */
#include <string.h>

#include "gemm.h"
#include "internal.h"
#include "winograd.h"

/* Tiles per block, roughly: a block is this many tiles' worth of whole
 * images (at least one). Two of conv2's 24x24 images (72 tiles): V and M
 * of a block, 36 points x 96 channels x 72 tiles, just fit a 1 MiB L2
 * between the transforms and the GEMMs. Measured on Zen 4 with 2 threads
 * training: 72 beat 144 by about 8% and 36 (GEMMs too narrow) by 20%. */
enum { DN_WINO_BLOCK_TILES = 72 };

/* Tile size in, tile size out, and the 36 points of a tile. */
enum { ALPHA = 6, OUT = 4, POINTS = ALPHA * ALPHA };

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

/* ---- the transform matrices (Lavin and Gray, points 0, 1, -1, 2, -2, inf) */

/* G (6 x 3): kernel to tile. */
static const float G[ALPHA][3] = {
    {1.0f / 4, 0, 0},
    {-1.0f / 6, -1.0f / 6, -1.0f / 6},
    {-1.0f / 6, 1.0f / 6, -1.0f / 6},
    {1.0f / 24, 1.0f / 12, 1.0f / 6},
    {1.0f / 24, -1.0f / 12, 1.0f / 6},
    {0, 0, 1},
};

/* x B, one row x of 6 values: B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0;
 * 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]. */
static inline void apply_bt(dn_wv t[ALPHA], const dn_wv x[ALPHA])
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
static inline void apply_b(dn_wv y[ALPHA], const dn_wv x[ALPHA])
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
static inline void apply_at(dn_wv y[OUT], const dn_wv m[ALPHA])
{
    dn_wv s1 = m[1] + m[2], d1 = m[1] - m[2], s2 = m[3] + m[4], d2 = m[3] - m[4];
    y[0] = m[0] + s1 + s2;
    y[1] = d1 + 2.0f * d2;
    y[2] = s1 + 4.0f * s2;
    y[3] = d1 + 8.0f * d2 + m[5];
}

/* A g, g of 4 values: the adjoint of apply_at. */
static inline void apply_a(dn_wv z[ALPHA], const dn_wv g[OUT])
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

static wino_shape make_shape(int cin, int h, int w, int cout, int oh, int ow, int pad)
{
    wino_shape s = {.cin = cin, .h = h, .w = w, .cout = cout, .oh = oh, .ow = ow, .pad = pad};
    s.th = (oh + OUT - 1) / OUT;
    s.tw = (ow + OUT - 1) / OUT;
    s.twv = (s.tw + DN_WV - 1) / DN_WV * DN_WV;
    s.images = DN_WINO_BLOCK_TILES / (s.th * s.tw);
    if (s.images < 1)
        s.images = 1;
    s.lane = s.twv + DN_WV; /* twv + 1 needed, whole vectors kept */
    return s;
}

static wino_shape forward_shape(const dn_conv2d_dims *d)
{
    return make_shape(d->in_c, d->in_h, d->in_w, d->out_c, d->out_h, d->out_w, d->pad);
}

/* Tile columns of a block (with room for the last row's extra lanes), a
 * multiple of 16: V and M rows have this stride. */
static size_t block_width(const wino_shape *s)
{
    return ((size_t)s->images * s->th * s->tw + (size_t)(s->twv - s->tw) + 15) / 16 * 16;
}

/* A padded plane holds the OUT * th + 2 rows the tiles read, each as four
 * column phases: padded column 4k + r at r * lane + k. */
static size_t padded_rows(const wino_shape *s) { return (size_t)OUT * s->th + 2; }
static size_t padded_floats(const wino_shape *s) { return padded_rows(s) * OUT * s->lane; }

/* A padded plane and the line it is built through. */
static size_t pad_area_floats(const wino_shape *s) { return padded_floats(s) + OUT * (size_t)s->lane; }

/* V [cin][36][width], M or Z [cout][36][width] (the 36 rows of a channel
 * together, so the transforms touch one compact region per channel), three
 * padded planes (inputs, output gradients, input gradients) and one output
 * plane (an output gradient made from a pooled one). */
static size_t shape_scratch(const wino_shape *s)
{
    return POINTS * (size_t)(s->cin + s->cout) * block_width(s) + 3 * pad_area_floats(s) +
           (size_t)s->oh * s->ow;
}

/* dense (oh x ow) = the output gradient of one plane that pool describes:
 * the pooled gradient at each winner whose pooled value is > 0. */
static void unpool_plane(float *restrict dense, const dn_winograd_pool *pool, size_t at, int oh,
                         int ow)
{
    const int count = (oh / 2) * (ow / 2);
    const float *restrict grad = pool->grad + at, *restrict pooled = pool->pooled + at;
    const int32_t *restrict argmax = pool->argmax + at;
    memset(dense, 0, (size_t)oh * ow * sizeof *dense);
    for (int i = 0; i < count; i++)
        if (pooled[i] > 0.0f)
            dense[argmax[i]] = grad[i];
}

bool dn_winograd_supported(const dn_conv2d_dims *d)
{
    return d->kernel_h == 3 && d->kernel_w == 3 && d->stride == 1;
}

size_t dn_winograd_weight_floats(const dn_conv2d_dims *d)
{
    return POINTS * (size_t)d->out_c * d->in_c;
}

size_t dn_winograd_scratch_floats(const dn_conv2d_dims *d)
{
    wino_shape s = forward_shape(d);
    return shape_scratch(&s);
}

/* ---- weights: U = G g G^T */

/* G k for a column k of 3 values: the 6 rows of G times k. */
static inline void apply_g(dn_wv t[ALPHA], dn_wv k0, dn_wv k1, dn_wv k2)
{
    for (int i = 0; i < ALPHA; i++)
        t[i] = G[i][0] * k0 + G[i][1] * k1 + G[i][2] * k2;
}

/* Kernels pairs p0 .. p0+WV at once, one per lane (pairs past `pairs` are
 * zero and not stored): u[k * pairs + p] for k < 36. */
static void transform_kernels(float *u, size_t pairs, const float *weight, size_t p0)
{
    float g[9][DN_WV];
    for (int l = 0; l < DN_WV; l++)
        for (int e = 0; e < 9; e++)
            g[e][l] = p0 + l < pairs ? weight[(p0 + l) * 9 + e] : 0.0f;
    dn_wv t[ALPHA][3]; /* G g, column by column */
    for (int j = 0; j < 3; j++) {
        dn_wv col[ALPHA];
        apply_g(col, wload(g[j]), wload(g[3 + j]), wload(g[6 + j]));
        for (int i = 0; i < ALPHA; i++)
            t[i][j] = col[i];
    }
    const int live = pairs - p0 < DN_WV ? (int)(pairs - p0) : DN_WV;
    for (int i = 0; i < ALPHA; i++) { /* (G g) G^T, row by row */
        dn_wv row[ALPHA];
        apply_g(row, t[i][0], t[i][1], t[i][2]);
        for (int j = 0; j < ALPHA; j++) {
            float *dst = u + (size_t)(i * ALPHA + j) * pairs + p0;
            if (live == DN_WV) {
                wstore(dst, row[j]);
            } else {
                float lanes[DN_WV];
                wstore(lanes, row[j]);
                memcpy(dst, lanes, (size_t)live * sizeof *dst);
            }
        }
    }
}

void dn_winograd_weight_forward(float *u, const float *weight, const dn_conv2d_dims *d)
{
    const size_t pairs = (size_t)d->out_c * d->in_c;
    const long blocks = (long)((pairs + DN_WV - 1) / DN_WV);
#pragma omp parallel for schedule(static) if (pairs > 8192)
    for (long block = 0; block < blocks; block++)
        transform_kernels(u, pairs, weight, (size_t)block * DN_WV);
}

/* ---- padded planes */

/* The 4 column phases of the 4 * DN_WV floats at p: phase[r][k] = p[4k + r]. */
static inline void split4(dn_wv phase[OUT], const float *p)
{
    dn_wv x0 = wload(p), x1 = wload(p + DN_WV), x2 = wload(p + 2 * DN_WV), x3 = wload(p + 3 * DN_WV);
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
static void pad_plane(float *restrict pad, float *restrict line, int rows, int lane,
                      const float *restrict plane, int h, int w, int oy, int ox)
{
    int y0 = oy < 0 ? -oy : 0, y1 = h < rows - oy ? h : rows - oy;
    int x0 = ox < 0 ? -ox : 0, x1 = w < OUT * lane - ox ? w : OUT * lane - ox;
    for (int y = y0; y < y1; y++) {
        const float *src = plane + (size_t)y * w;
        if (x1 > x0)
            copy_row(line + ox + x0, src + x0, x1 - x0);
        float *row = pad + (size_t)(y + oy) * OUT * lane;
        for (int k = 0; k < lane; k += DN_WV) {
            dn_wv phase[OUT];
            split4(phase, line + OUT * k);
            for (int r = 0; r < OUT; r++)
                wstore(row + r * lane + k, phase[r]);
        }
    }
}

/* dst[k * kstride] = x[k] for the 36 points: one running pointer, where
 * 36 addresses kept at once would not fit in registers. */
static inline void store_points(float *dst, size_t kstride, const dn_wv x[POINTS])
{
#pragma GCC unroll 4
    for (int k = 0; k < POINTS; k++, dst += kstride)
        wstore(dst, x[k]);
}

static inline void load_points(dn_wv x[POINTS], const float *src, size_t kstride)
{
#pragma GCC unroll 4
    for (int k = 0; k < POINTS; k++, src += kstride)
        x[k] = wload(src);
}

/* ---- input tiles: V = B^T d B */

/* The 36 transformed values of the tiles of one tile row of one channel,
 * v[k * kstride + tx] for tx < twv, from the 6 padded rows at p: tile tx
 * reads padded columns 4tx to 4tx+5. */
static void transform_input_row(float *restrict v, size_t kstride, const float *restrict p,
                                int lane, int twv)
{
    const size_t row = (size_t)OUT * lane;
    for (int tx = 0; tx < twv; tx += DN_WV) {
        dn_wv t[ALPHA][ALPHA], out[POINTS];
        for (int r = 0; r < ALPHA; r++) {
            const float *q = p + r * row + tx;
            dn_wv xs[ALPHA] = {wload(q), wload(q + lane), wload(q + 2 * lane),
                              wload(q + 3 * lane), wload(q + 1), wload(q + lane + 1)};
            apply_bt(t[r], xs);
        }
        for (int j = 0; j < ALPHA; j++) {
            dn_wv col[ALPHA], y[ALPHA];
            for (int r = 0; r < ALPHA; r++)
                col[r] = t[r][j];
            apply_bt(y, col);
            for (int i = 0; i < ALPHA; i++)
                out[i * ALPHA + j] = y[i];
        }
        store_points(v + tx, kstride, out);
    }
}

/* V of every tile of one image's plane, tile (ty, tx) at column ty * tw + tx
 * of v; pad is a pad area (pad_area_floats). */
static void transform_input_plane(float *restrict v, size_t kstride, float *restrict pad,
                                  const float *plane, const wino_shape *s)
{
    pad_plane(pad, pad + padded_floats(s), (int)padded_rows(s), s->lane, plane, s->h, s->w,
              s->pad, s->pad);
    for (int ty = 0; ty < s->th; ty++)
        transform_input_row(v + (size_t)ty * s->tw, kstride,
                            pad + (size_t)(OUT * ty) * OUT * s->lane, s->lane, s->twv);
}

/* ---- output tiles: Y = A^T M A */

/* The 4 values y[q] of each of a vector's tiles, interleaved: out[4t + q]. */
static void interleave4(float out[OUT * DN_WV], const dn_wv y[OUT])
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

/* The 4x4 outputs of the WV tiles from t0 of a tile row, y[p][q] (row p,
 * column q of each tile, a lane per tile), from the 36 values
 * m[k * kstride + t] of each tile, plus shift, then max(0, .) with relu. */
static inline void output_tiles(dn_wv y[OUT][OUT], const float *restrict m, size_t kstride, int t0,
                                float shift, bool relu)
{
    dn_wv u[ALPHA][OUT], x[POINTS]; /* (M A) of each tile row i */
    load_points(x, m + t0, kstride);
    for (int i = 0; i < ALPHA; i++)
        apply_at(u[i], x + i * ALPHA);
    for (int q = 0; q < OUT; q++) { /* A^T (M A), column q: rows p of the output tile */
        dn_wv col[ALPHA], out[OUT];
        for (int i = 0; i < ALPHA; i++)
            col[i] = u[i][q];
        apply_at(out, col);
        for (int p = 0; p < OUT; p++) {
            out[p] += shift;
            if (relu) /* y > 0 ? y : 0, NaN to 0 like the im2col path */
                out[p] = (dn_wv)((dn_wvi)out[p] & (out[p] > 0.0f));
            y[p][q] = out[p];
        }
    }
}

/* Output rows 4ty .. 4ty+3 of one plane (rows of ow floats from row0, only
 * `rows` of them) from the tile row's 36 values per tile (see output_tiles);
 * a partial last tile writes only the columns inside ow. */
static void transform_output_row(float *restrict row0, int rows, const float *restrict m,
                                 size_t kstride, int tw, int ow, float shift, bool relu)
{
    for (int t0 = 0; t0 < tw; t0 += DN_WV) {
        dn_wv y[OUT][OUT];
        output_tiles(y, m, kstride, t0, shift, relu);
        const int columns = ow - OUT * t0 < OUT * DN_WV ? ow - OUT * t0 : OUT * DN_WV;
        for (int p = 0; p < rows; p++) {
            float out[OUT * DN_WV];
            interleave4(out, y[p]);
            copy_row(row0 + (size_t)p * ow + OUT * t0, out, columns);
        }
    }
}

/* a[0] b[0] a[1] b[1] ... into out (2 * DN_WV values). */
static inline void interleave2(float out[2 * DN_WV], dn_wv a, dn_wv b)
{
#if DN_WV == 8
    wstore(out, __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11));
    wstore(out + 8, __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15));
#else
    wstore(out, __builtin_shufflevector(a, b, 0, 4, 1, 5));
    wstore(out + 4, __builtin_shufflevector(a, b, 2, 6, 3, 7));
#endif
}

/* The 2x2 max-pool of output rows 4ty .. 4ty+3 (see transform_output_row):
 * pooled rows 2ty and 2ty+1 (only `rows` of them) of pw values from
 * pooled0, and the winners' indices within the oh x ow output plane. The
 * rule of dn_maxpool2d_forward: candidates in row-major order, a later one
 * wins if it is larger, or NaN where the best so far is not. */
static void transform_output_row_pooled(float *restrict pooled0, int32_t *restrict arg0, int rows,
                                        int ty, const float *restrict m, size_t kstride, int tw,
                                        int ow, int pw, float shift)
{
    for (int t0 = 0; t0 < tw; t0 += DN_WV) {
        dn_wv y[OUT][OUT];
        output_tiles(y, m, kstride, t0, shift, true);
        const dn_wvi tx = t0 + lane_numbers(); /* tile column of each lane */
        const int columns = pw - 2 * t0 < 2 * DN_WV ? pw - 2 * t0 : 2 * DN_WV;
        for (int pr = 0; pr < rows; pr++) {
            dn_wv best[2];
            dn_wvi at[2];
            for (int pc = 0; pc < 2; pc++) {
                dn_wvi corner = (OUT * ty + 2 * pr) * ow + OUT * tx + 2 * pc;
                best[pc] = y[2 * pr][2 * pc];
                at[pc] = corner;
                for (int k = 1; k < 4; k++) {
                    int dy = k / 2, dx = k % 2;
                    dn_wv v = y[2 * pr + dy][2 * pc + dx];
                    dn_wvi take = (v > best[pc]) | ((v != v) & (best[pc] == best[pc]));
                    best[pc] = (dn_wv)(((dn_wvi)v & take) | ((dn_wvi)best[pc] & ~take));
                    at[pc] = ((corner + dy * ow + dx) & take) | (at[pc] & ~take);
                }
            }
            float values[2 * DN_WV], where[2 * DN_WV];
            interleave2(values, best[0], best[1]);
            interleave2(where, (dn_wv)at[0], (dn_wv)at[1]);
            float *dst = pooled0 + (size_t)pr * pw + 2 * t0;
            int32_t *dst_arg = arg0 + (size_t)pr * pw + 2 * t0;
            memcpy(dst, values, (size_t)columns * sizeof *dst);
            memcpy(dst_arg, where, (size_t)columns * sizeof *dst_arg);
        }
    }
}

/* ---- the convolution */

/* out = the convolution (+ bias, relu); or, with argmax not NULL, out =
 * the 2x2 max-pool of its relu and argmax the winners (pooled planes of
 * oh/2 x ow/2, oh and ow even). */
static void convolve(float *out, int32_t *argmax, const float *in, const float *u,
                     const float *bias, float *scratch, const wino_shape *s, int images, bool relu)
{
    const size_t width = block_width(s), tiles = (size_t)s->th * s->tw;
    const size_t in_plane = (size_t)s->h * s->w, out_plane = (size_t)s->oh * s->ow;
    const int ld = POINTS * (int)width;
    float *v = scratch, *m = v + POINTS * (size_t)s->cin * width;
    float *pad = m + POINTS * (size_t)s->cout * width;
    memset(pad, 0, pad_area_floats(s) * sizeof *pad);

    for (int i0 = 0; i0 < images; i0 += s->images) {
        int i1 = i0 + s->images < images ? i0 + s->images : images;
        int n = (int)((size_t)(i1 - i0) * tiles);

        for (int image = i0; image < i1; image++)
            for (int c = 0; c < s->cin; c++)
                transform_input_plane(v + (size_t)c * POINTS * width + (size_t)(image - i0) * tiles,
                                      width, pad, in + ((size_t)image * s->cin + c) * in_plane, s);

        for (int k = 0; k < POINTS; k++)
            dn_sgemm(false, false, s->cout, n, s->cin, 1.0f, u + (size_t)k * s->cout * s->cin,
                     s->cin, v + (size_t)k * width, ld, 0.0f, m + (size_t)k * width, ld);

        for (int image = i0; image < i1; image++)
            for (int o = 0; o < s->cout; o++) {
                const float *mo = m + (size_t)o * POINTS * width + (size_t)(image - i0) * tiles;
                const float shift = bias ? bias[o] : 0.0f;
                if (argmax) {
                    const int ph = s->oh / 2, pw = s->ow / 2;
                    const size_t at = ((size_t)image * s->cout + o) * ph * pw;
                    for (int ty = 0; ty < s->th; ty++) {
                        int rows = ph - 2 * ty < 2 ? ph - 2 * ty : 2;
                        transform_output_row_pooled(out + at + (size_t)(2 * ty) * pw,
                                                    argmax + at + (size_t)(2 * ty) * pw, rows, ty,
                                                    mo + (size_t)ty * s->tw, width, s->tw, s->ow,
                                                    pw, shift);
                    }
                    continue;
                }
                float *plane = out + ((size_t)image * s->cout + o) * out_plane;
                for (int ty = 0; ty < s->th; ty++) {
                    int rows = s->oh - OUT * ty < OUT ? s->oh - OUT * ty : OUT;
                    transform_output_row(plane + (size_t)(OUT * ty) * s->ow, rows,
                                         mo + (size_t)ty * s->tw, width, s->tw, s->ow, shift,
                                         relu);
                }
            }
    }
}

void dn_winograd_forward(float *out, const float *in, const float *u, const float *bias,
                         float *scratch, const dn_conv2d_dims *d, int images, bool relu)
{
    wino_shape s = forward_shape(d);
    convolve(out, NULL, in, u, bias, scratch, &s, images, relu);
}

void dn_winograd_forward_pooled(float *pooled, int32_t *argmax, const float *in, const float *u,
                                const float *bias, float *scratch, const dn_conv2d_dims *d,
                                int images)
{
    wino_shape s = forward_shape(d);
    convolve(pooled, argmax, in, u, bias, scratch, &s, images, true);
}

/* ---- the backward pass
 *
 * A tile's output is Y = A^T (U ⊙ V) A with V = B^T d B. For the output
 * gradient's tile, Z = A dY A^T:
 *   - the gradient of U is Z ⊙ V summed over the tiles, and that of the
 *     kernel G^T [sum Z ⊙ V] G: per point, one GEMM [OC x tiles] [tiles x C];
 *   - the gradient of the tile d is B (U ⊙ Z) B^T summed over the output
 *     channels, one GEMM [C x OC] [OC x tiles] per point, and the input
 *     gradient is those 6x6 tiles added up where they overlap.
 * So dY is transformed once for both. */

/* Z = A dY A^T of the 4x4 output-gradient tiles of one tile row of one
 * channel, z[k * kstride + tx] for tx < twv, from the 4 padded rows at p. */
static void transform_gradient_row(float *restrict z, size_t kstride, const float *restrict p,
                                   int lane, int twv)
{
    const size_t row = (size_t)OUT * lane;
    for (int tx = 0; tx < twv; tx += DN_WV) {
        dn_wv t[OUT][ALPHA]; /* dY A^T, row by row */
        for (int r = 0; r < OUT; r++) {
            const float *q = p + r * row + tx;
            dn_wv g[OUT] = {wload(q), wload(q + lane), wload(q + 2 * lane), wload(q + 3 * lane)};
            apply_a(t[r], g);
        }
        dn_wv out[POINTS];
        for (int j = 0; j < ALPHA; j++) {
            dn_wv col[OUT] = {t[0][j], t[1][j], t[2][j], t[3][j]}, y[ALPHA];
            apply_a(y, col);
            for (int i = 0; i < ALPHA; i++)
                out[i * ALPHA + j] = y[i];
        }
        store_points(z + tx, kstride, out);
    }
}

/* Adds B X B^T of each of the tiles of one tile row (X the 36 values
 * x[k * kstride + tx], only tx < tw) into the 6 padded rows at p, tile tx
 * at padded columns 4tx to 4tx+5: neighbouring tiles overlap by 2. */
static void add_input_gradient_row(float *restrict p, int lane, const float *restrict x,
                                   size_t kstride, int tw, int twv)
{
    const size_t row = (size_t)OUT * lane;
    for (int tx = 0; tx < twv; tx += DN_WV) {
        dn_wv in[POINTS], t[ALPHA][ALPHA];
        load_points(in, x + tx, kstride);
        /* lanes past the last tile hold another row's values */
        const dn_wvi live = (tx + lane_numbers()) < tw;
        for (int i = 0; i < ALPHA; i++) /* X B^T, row by row */
            apply_b(t[i], in + i * ALPHA);
        for (int q = 0; q < ALPHA; q++) { /* B (X B^T), column q */
            dn_wv col[ALPHA], y[ALPHA];
            for (int i = 0; i < ALPHA; i++)
                col[i] = t[i][q];
            apply_b(y, col);
            /* padded column 4tx + q: phase q % 4 at tx + q / 4 */
            const size_t at = (size_t)(q % OUT) * lane + tx + q / OUT;
            for (int r = 0; r < ALPHA; r++) {
                float *dst = p + r * row + at;
                wstore(dst, wload(dst) + (dn_wv)((dn_wvi)y[r] & live));
            }
        }
    }
}

/* plane (h x w) = padded row y + oy, column x + ox of pad (the layout of
 * pad_plane); rows and columns pad does not hold are zero. line is 4 * lane
 * floats of room. */
static void unpad_plane(float *restrict plane, float *restrict line, const float *restrict pad,
                        int rows, int lane, int h, int w, int oy, int ox)
{
    for (int y = 0; y < h; y++) {
        float *dst = plane + (size_t)y * w;
        if (y + oy < 0 || y + oy >= rows) {
            memset(dst, 0, (size_t)w * sizeof *dst);
            continue;
        }
        const float *phases = pad + (size_t)(y + oy) * OUT * lane;
        for (int k = 0; k < lane; k += DN_WV) {
            dn_wv y4[OUT] = {wload(phases + k), wload(phases + lane + k),
                             wload(phases + 2 * lane + k), wload(phases + 3 * lane + k)};
            interleave4(line + OUT * k, y4);
        }
        if (ox >= 0 && ox + w <= OUT * lane) { /* the usual case: all of the row is there */
            copy_row(dst, line + ox, w);
            continue;
        }
        for (int x = 0; x < w; x++) {
            int col = x + ox;
            dst[x] = col >= 0 && col < OUT * lane ? line[col] : 0.0f;
        }
    }
}

size_t dn_winograd_gradient_floats(const dn_conv2d_dims *d)
{
    return POINTS * (size_t)d->out_c * d->in_c;
}

void dn_winograd_backward(float *grad, float *din, const float *dout, const float *in,
                          const float *u, float *scratch, const dn_conv2d_dims *d, int images,
                          bool relu_input, const dn_winograd_pool *pool)
{
    const wino_shape s = forward_shape(d);
    const size_t width = block_width(&s), tiles = (size_t)s.th * s.tw;
    const size_t in_plane = (size_t)s.h * s.w, out_plane = (size_t)s.oh * s.ow;
    const int ld = POINTS * (int)width, rows = (int)padded_rows(&s);
    float *v = scratch, *z = v + POINTS * (size_t)s.cin * width;
    float *pad = z + POINTS * (size_t)s.cout * width, *pad_grad = pad + pad_area_floats(&s);
    float *pad_din = pad_grad + pad_area_floats(&s), *line = pad_din + padded_floats(&s);
    float *dense = pad_din + pad_area_floats(&s);
    memset(pad, 0, 2 * pad_area_floats(&s) * sizeof *pad);

    for (int i0 = 0; i0 < images; i0 += s.images) {
        int i1 = i0 + s.images < images ? i0 + s.images : images;
        int n = (int)((size_t)(i1 - i0) * tiles);

        for (int image = i0; image < i1; image++) {
            size_t col = (size_t)(image - i0) * tiles;
            for (int c = 0; c < s.cin; c++)
                transform_input_plane(v + (size_t)c * POINTS * width + col, width, pad,
                                      in + ((size_t)image * s.cin + c) * in_plane, &s);
            for (int o = 0; o < s.cout; o++) {
                const float *plane = dout ? dout + ((size_t)image * s.cout + o) * out_plane : dense;
                if (pool) {
                    size_t at = ((size_t)image * s.cout + o) * (size_t)(s.oh / 2) * (s.ow / 2);
                    unpool_plane(dense, pool, at, s.oh, s.ow);
                    if (pool->bias_sums)
                        pool->bias_sums[(size_t)image * s.cout + o] = dn_sum(dense, out_plane);
                }
                /* rows and columns past the output stay zero: no gradient there */
                pad_plane(pad_grad, pad_grad + padded_floats(&s), rows, s.lane, plane, s.oh, s.ow,
                          0, 0);
                for (int ty = 0; ty < s.th; ty++)
                    transform_gradient_row(z + (size_t)o * POINTS * width + col + (size_t)ty * s.tw,
                                           width, pad_grad + (size_t)(OUT * ty) * OUT * s.lane,
                                           s.lane, s.twv);
            }
        }

        for (int k = 0; k < POINTS; k++)
            dn_sgemm(false, true, s.cout, s.cin, n, 1.0f, z + (size_t)k * width, ld,
                     v + (size_t)k * width, ld, i0 == 0 ? 0.0f : 1.0f,
                     grad + (size_t)k * s.cout * s.cin, s.cin);
        if (!din)
            continue;

        /* V is spent: it takes U^T Z, the tiles' gradients */
        for (int k = 0; k < POINTS; k++)
            dn_sgemm(true, false, s.cin, n, s.cout, 1.0f, u + (size_t)k * s.cout * s.cin, s.cin,
                     z + (size_t)k * width, ld, 0.0f, v + (size_t)k * width, ld);

        for (int image = i0; image < i1; image++)
            for (int c = 0; c < s.cin; c++) {
                const float *x = v + (size_t)c * POINTS * width + (size_t)(image - i0) * tiles;
                memset(pad_din, 0, padded_floats(&s) * sizeof *pad_din);
                for (int ty = 0; ty < s.th; ty++)
                    add_input_gradient_row(pad_din + (size_t)(OUT * ty) * OUT * s.lane, s.lane,
                                           x + (size_t)ty * s.tw, width, s.tw, s.twv);
                float *plane = din + ((size_t)image * s.cin + c) * in_plane;
                unpad_plane(plane, line, pad_din, rows, s.lane, s.h, s.w, s.pad, s.pad);
                if (relu_input) /* while the plane is still in cache */
                    dn_relu_mask_here(plane, in + ((size_t)image * s.cin + c) * in_plane,
                                      in_plane);
            }
    }
}

/* dweight[o,c] += G^T m G, m the 36 values grad[k * stride] of the pair. */
void dn_winograd_weight_gradient(float *dweight, const float *grad, const dn_conv2d_dims *d)
{
    const size_t stride = (size_t)d->out_c * d->in_c;
    for (size_t pair = 0; pair < stride; pair++) {
        const float *m = grad + pair;
        float t[3][ALPHA]; /* G^T m */
        for (int a = 0; a < 3; a++)
            for (int j = 0; j < ALPHA; j++) {
                float sum = 0.0f;
                for (int i = 0; i < ALPHA; i++)
                    sum += G[i][a] * m[(size_t)(i * ALPHA + j) * stride];
                t[a][j] = sum;
            }
        float *w = dweight + pair * 9;
        for (int a = 0; a < 3; a++) /* (G^T m) G */
            for (int b = 0; b < 3; b++) {
                float sum = 0.0f;
                for (int j = 0; j < ALPHA; j++)
                    sum += t[a][j] * G[j][b];
                w[a * 3 + b] += sum;
            }
    }
}
