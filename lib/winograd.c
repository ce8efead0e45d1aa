/* winograd.c - 3x3 stride-1 convolution as Winograd F(2x2, 3x3): weight,
 * input-tile and output-tile transforms around 16 GEMMs, forward and input gradient. */
#include <string.h>

#include "gemm.h"
#include "winograd.h"

/* Tiles per block, roughly: a block is this many tiles' worth of whole
 * images (at least one). V and M of a block stay in L2 between the
 * transforms and the GEMMs: conv2 of the cnn preset (144 tiles an image,
 * 96 channels in and out together) takes about 900 KiB. */
enum { DN_WINO_BLOCK_TILES = 96 };

/* The transforms run on WV tiles at a time in GCC vector extensions (any
 * target: the compiler splits or lowers them); a tile row is rounded up to
 * whole vectors, and the extra lanes compute on zeros or on scratch values
 * nothing reads back. */
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

/* The even and the odd columns of the 2 * DN_WV floats at p. */
static inline void wload_split(const float *p, dn_wv *even, dn_wv *odd)
{
    dn_wv lo = wload(p), hi = wload(p + DN_WV);
#if DN_WV == 8
    *even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
    *odd = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
#else
    *even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
    *odd = __builtin_shufflevector(lo, hi, 1, 3, 5, 7);
#endif
}

/* One 3x3 stride-1 convolution seen by the tile machinery: cin planes of
 * h x w in, cout planes of oh x ow out, output (0,0) reading input (-pad,-pad). */
typedef struct wino_shape {
    int cin, h, w;
    int cout, oh, ow;
    int pad;
    int th, tw;   /* tile rows and columns per image */
    int twv;      /* tw rounded up to whole vectors */
    int images;   /* whole images per block */
    int pw;       /* row stride of a padded plane: 2 * twv + 2 */
} wino_shape;

static wino_shape make_shape(int cin, int h, int w, int cout, int oh, int ow, int pad)
{
    wino_shape s = {.cin = cin, .h = h, .w = w, .cout = cout, .oh = oh, .ow = ow, .pad = pad};
    s.th = (oh + 1) / 2;
    s.tw = (ow + 1) / 2;
    s.twv = (s.tw + DN_WV - 1) / DN_WV * DN_WV;
    s.images = DN_WINO_BLOCK_TILES / (s.th * s.tw);
    if (s.images < 1)
        s.images = 1;
    s.pw = 2 * s.twv + 2;
    return s;
}

static wino_shape forward_shape(const dn_conv2d_dims *d)
{
    return make_shape(d->in_c, d->in_h, d->in_w, d->out_c, d->out_h, d->out_w, d->pad);
}

/* din[c,u,v] = sum_{o,i,j} rot180(w)[c,o,i,j] dout[o, u+i-(2-p), v+j-(2-p)]. */
static wino_shape backward_shape(const dn_conv2d_dims *d)
{
    return make_shape(d->out_c, d->out_h, d->out_w, d->in_c, d->in_h, d->in_w, 2 - d->pad);
}

/* Tile columns of a block (with room for the last row's extra lanes), a
 * multiple of 16: V and M rows have this stride. */
static size_t block_width(const wino_shape *s)
{
    return ((size_t)s->images * s->th * s->tw + (size_t)(s->twv - s->tw) + 15) / 16 * 16;
}

/* A padded input plane: the 2 * th + 2 rows the tiles read, pw floats each. */
static size_t padded_floats(const wino_shape *s) { return (size_t)(2 * s->th + 2) * s->pw; }

/* V [cin][16][width], M [cout][16][width] (the 16 rows of a channel
 * together, so the transforms touch one compact region per channel) and two
 * padded planes (inputs, and output gradients for the weight gradient). */
static size_t shape_scratch(const wino_shape *s)
{
    return 16 * (size_t)(s->cin + s->cout) * block_width(s) + 2 * padded_floats(s);
}

bool dn_winograd_supported(const dn_conv2d_dims *d)
{
    return d->kernel_h == 3 && d->kernel_w == 3 && d->stride == 1;
}

size_t dn_winograd_weight_floats(const dn_conv2d_dims *d)
{
    return 16 * (size_t)d->out_c * d->in_c;
}

size_t dn_winograd_scratch_floats(const dn_conv2d_dims *d)
{
    wino_shape f = forward_shape(d), b = backward_shape(d);
    size_t sf = shape_scratch(&f), sb = shape_scratch(&b);
    return sf > sb ? sf : sb;
}

/* ---- weights: U = G g G^T, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] */

/* u[k * stride] for k < 16 from the 3x3 kernel g (rotated by 180 degrees with flip). */
static void transform_kernel(float *u, size_t stride, const float *g, bool flip)
{
    float k[3][3], t[4][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            k[i][j] = flip ? g[(2 - i) * 3 + (2 - j)] : g[i * 3 + j];
    for (int j = 0; j < 3; j++) {
        t[0][j] = k[0][j];
        t[1][j] = 0.5f * (k[0][j] + k[1][j] + k[2][j]);
        t[2][j] = 0.5f * (k[0][j] - k[1][j] + k[2][j]);
        t[3][j] = k[2][j];
    }
    for (int i = 0; i < 4; i++) {
        u[(size_t)(i * 4 + 0) * stride] = t[i][0];
        u[(size_t)(i * 4 + 1) * stride] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        u[(size_t)(i * 4 + 2) * stride] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        u[(size_t)(i * 4 + 3) * stride] = t[i][2];
    }
}

void dn_winograd_weight_forward(float *u, const float *weight, const dn_conv2d_dims *d)
{
    const int OC = d->out_c, C = d->in_c;
    const size_t stride = (size_t)OC * C;
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++)
            transform_kernel(u + (size_t)o * C + c, stride, weight + ((size_t)o * C + c) * 9, false);
}

void dn_winograd_weight_backward(float *u, const float *weight, const dn_conv2d_dims *d)
{
    const int OC = d->out_c, C = d->in_c;
    const size_t stride = (size_t)OC * C;
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++)
            transform_kernel(u + (size_t)c * OC + o, stride, weight + ((size_t)o * C + c) * 9, true);
}

/* ---- padded planes */

/* pad[y + oy][x + ox] = plane[y][x] (h x w) wherever that lands inside pad
 * (rows x pw); the rest of pad is left as it is: zero, when pad was cleared
 * before the first plane of a call and every plane lands on the same cells. */
static void pad_plane(float *restrict pad, int rows, int pw, const float *restrict plane, int h,
                      int w, int oy, int ox)
{
    int y0 = oy < 0 ? -oy : 0, y1 = h < rows - oy ? h : rows - oy;
    int x0 = ox < 0 ? -ox : 0, x1 = w < pw - ox ? w : pw - ox;
    for (int y = y0; y < y1; y++) {
        float *dst = pad + (size_t)(y + oy) * pw + ox;
        const float *src = plane + (size_t)y * w;
        int x = x0; /* whole vectors, then the rest: rows this short lose to a memcpy call */
        for (; x + DN_WV <= x1; x += DN_WV)
            wstore(dst + x, wload(src + x));
        for (; x < x1; x++)
            dst[x] = src[x];
    }
}

/* ---- input tiles: V = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] */

/* The 16 transformed values of the tiles of one tile row of one channel,
 * v[k * kstride + tx] for tx < twv, from the 4 rows of a padded plane at p
 * (row stride pw): tile tx reads columns 2tx to 2tx+3. */
static void transform_input_row(float *restrict v, size_t kstride, const float *restrict p,
                                int pw, int twv)
{
    for (int tx = 0; tx < twv; tx += DN_WV) {
        dn_wv h[4][4];
        for (int r = 0; r < 4; r++) {
            const float *q = p + (size_t)r * pw + 2 * tx;
            dn_wv e0, o0, e1, o1;
            wload_split(q, &e0, &o0);
            wload_split(q + 2, &e1, &o1);
            /* d B: [x0 - x2, x1 + x2, x2 - x1, x1 - x3] along the row */
            h[r][0] = e0 - e1;
            h[r][1] = o0 + e1;
            h[r][2] = e1 - o0;
            h[r][3] = o0 - o1;
        }
        /* B^T (d B) down the columns */
        for (int j = 0; j < 4; j++) {
            wstore(v + (size_t)j * kstride + tx, h[0][j] - h[2][j]);
            wstore(v + (size_t)(4 + j) * kstride + tx, h[1][j] + h[2][j]);
            wstore(v + (size_t)(8 + j) * kstride + tx, h[2][j] - h[1][j]);
            wstore(v + (size_t)(12 + j) * kstride + tx, h[1][j] - h[3][j]);
        }
    }
}

/* V of every tile of one image's plane, tile (ty, tx) at column ty * tw + tx
 * of v; pad is the call's padded-plane area. */
static void transform_input_plane(float *restrict v, size_t kstride, float *restrict pad,
                                  const float *plane, const wino_shape *s)
{
    pad_plane(pad, 2 * s->th + 2, s->pw, plane, s->h, s->w, s->pad, s->pad);
    for (int ty = 0; ty < s->th; ty++)
        transform_input_row(v + (size_t)ty * s->tw, kstride, pad + (size_t)(2 * ty) * s->pw, s->pw,
                            s->twv);
}

/* ---- output tiles: Y = A^T M A, A^T = [1 1 1 0; 0 1 -1 -1] */

/* Output rows 2ty and 2ty+1 (the second only if row1 is not NULL) of one
 * plane from the 16 values m[k * kstride + tx] of each of its tw tiles, plus
 * shift, then max(0, .) with relu; the last tile of an odd width writes one
 * column. */
static void transform_output_row(float *restrict row0, float *restrict row1, const float *restrict m,
                                 size_t kstride, int tw, int ow, float shift, bool relu)
{
    for (int t0 = 0; t0 < tw; t0 += DN_WV) {
        dn_wv s0[4], s1[4];
        for (int j = 0; j < 4; j++) {
            dn_wv m0 = wload(m + (size_t)j * kstride + t0);
            dn_wv m1 = wload(m + (size_t)(4 + j) * kstride + t0);
            dn_wv m2 = wload(m + (size_t)(8 + j) * kstride + t0);
            dn_wv m3 = wload(m + (size_t)(12 + j) * kstride + t0);
            s0[j] = m0 + m1 + m2;
            s1[j] = m1 - m2 - m3;
        }
        dn_wv y[4] = {s0[0] + s0[1] + s0[2], s0[1] - s0[2] - s0[3], s1[0] + s1[1] + s1[2],
                      s1[1] - s1[2] - s1[3]};
        for (int q = 0; q < 4; q++) {
            y[q] += shift;
            if (relu) /* y > 0 ? y : 0, NaN to 0 like the im2col path */
                y[q] = (dn_wv)((dn_wvi)y[q] & (y[q] > 0.0f));
        }
        int count = tw - t0 < DN_WV ? tw - t0 : DN_WV;
        int pairs = ow / 2 - t0 < count ? ow / 2 - t0 : count;
        float *r0 = row0 + 2 * t0;
        if (pairs == DN_WV) { /* a whole vector of tiles: interleave in registers */
            float *r1 = row1 ? row1 + 2 * t0 : NULL;
#if DN_WV == 8
            wstore(r0, __builtin_shufflevector(y[0], y[1], 0, 8, 1, 9, 2, 10, 3, 11));
            wstore(r0 + DN_WV, __builtin_shufflevector(y[0], y[1], 4, 12, 5, 13, 6, 14, 7, 15));
            if (r1) {
                wstore(r1, __builtin_shufflevector(y[2], y[3], 0, 8, 1, 9, 2, 10, 3, 11));
                wstore(r1 + DN_WV, __builtin_shufflevector(y[2], y[3], 4, 12, 5, 13, 6, 14, 7, 15));
            }
#else
            wstore(r0, __builtin_shufflevector(y[0], y[1], 0, 4, 1, 5));
            wstore(r0 + DN_WV, __builtin_shufflevector(y[0], y[1], 2, 6, 3, 7));
            if (r1) {
                wstore(r1, __builtin_shufflevector(y[2], y[3], 0, 4, 1, 5));
                wstore(r1 + DN_WV, __builtin_shufflevector(y[2], y[3], 2, 6, 3, 7));
            }
#endif
            continue;
        }
        float out[4][DN_WV];
        for (int q = 0; q < 4; q++)
            wstore(out[q], y[q]);
        for (int i = 0; i < pairs; i++) {
            r0[2 * i] = out[0][i];
            r0[2 * i + 1] = out[1][i];
        }
        if (row1) {
            float *r1 = row1 + 2 * t0;
            for (int i = 0; i < pairs; i++) {
                r1[2 * i] = out[2][i];
                r1[2 * i + 1] = out[3][i];
            }
            if (pairs < count)
                r1[2 * pairs] = out[2][pairs];
        }
        if (pairs < count)
            r0[2 * pairs] = out[0][pairs];
    }
}

/* ---- the convolution */

static void convolve(float *out, const float *in, const float *u, const float *bias,
                     float *scratch, const wino_shape *s, int images, bool relu)
{
    const size_t width = block_width(s), tiles = (size_t)s->th * s->tw;
    const size_t in_plane = (size_t)s->h * s->w, out_plane = (size_t)s->oh * s->ow;
    float *v = scratch, *m = v + 16 * (size_t)s->cin * width;
    float *pad = m + 16 * (size_t)s->cout * width;
    memset(pad, 0, padded_floats(s) * sizeof *pad);

    for (int i0 = 0; i0 < images; i0 += s->images) {
        int i1 = i0 + s->images < images ? i0 + s->images : images;
        int n = (int)((size_t)(i1 - i0) * tiles);

        for (int image = i0; image < i1; image++)
            for (int c = 0; c < s->cin; c++)
                transform_input_plane(v + (size_t)c * 16 * width + (size_t)(image - i0) * tiles,
                                      width, pad, in + ((size_t)image * s->cin + c) * in_plane, s);

        for (int k = 0; k < 16; k++)
            dn_sgemm(false, false, s->cout, n, s->cin, 1.0f, u + (size_t)k * s->cout * s->cin,
                     s->cin, v + (size_t)k * width, 16 * (int)width, 0.0f, m + (size_t)k * width,
                     16 * (int)width);

        for (int image = i0; image < i1; image++)
            for (int o = 0; o < s->cout; o++) {
                float *plane = out + ((size_t)image * s->cout + o) * out_plane;
                const float *mo = m + (size_t)o * 16 * width + (size_t)(image - i0) * tiles;
                for (int ty = 0; ty < s->th; ty++) {
                    float *row0 = plane + (size_t)(2 * ty) * s->ow;
                    float *row1 = 2 * ty + 1 < s->oh ? row0 + s->ow : NULL;
                    transform_output_row(row0, row1, mo + (size_t)ty * s->tw, width, s->tw, s->ow,
                                         bias ? bias[o] : 0.0f, relu);
                }
            }
    }
}

void dn_winograd_forward(float *out, const float *in, const float *u, const float *bias,
                         float *scratch, const dn_conv2d_dims *d, int images, bool relu)
{
    wino_shape s = forward_shape(d);
    convolve(out, in, u, bias, scratch, &s, images, relu);
}

void dn_winograd_backward_data(float *din, const float *dout, const float *u, float *scratch,
                               const dn_conv2d_dims *d, int images)
{
    wino_shape s = backward_shape(d);
    convolve(din, dout, u, NULL, scratch, &s, images, false);
}

/* ---- the weight gradient
 *
 * A tile's output is Y = A^T (U ⊙ V) A, so the gradient of U is
 * (A dY A^T) ⊙ V summed over the tiles, and that of the kernel
 * G^T [sum (A dY A^T) ⊙ V] G. The sum over tiles of each of the 16
 * positions is one GEMM: [OC x tiles] times [tiles x C]. */

/* Z = A dY A^T of the 2x2 output-gradient tiles of one tile row of one
 * channel, z[k * kstride + tx] for tx < twv, from the 2 rows of a padded
 * plane at p (row stride pw). */
static void transform_gradient_row(float *restrict z, size_t kstride, const float *restrict p,
                                   int pw, int twv)
{
    for (int tx = 0; tx < twv; tx += DN_WV) {
        dn_wv a, b, c, d;
        wload_split(p + 2 * tx, &a, &b);
        wload_split(p + (size_t)pw + 2 * tx, &c, &d);
        /* A [a b; c d]: rows (a, b), (a + c, b + d), (a - c, b - d), (-c, -d) */
        dn_wv row_p[4] = {a, a + c, a - c, -c}, row_q[4] = {b, b + d, b - d, -d};
        for (int i = 0; i < 4; i++) { /* each row times A^T: (p, p + q, p - q, -q) */
            wstore(z + (size_t)(4 * i + 0) * kstride + tx, row_p[i]);
            wstore(z + (size_t)(4 * i + 1) * kstride + tx, row_p[i] + row_q[i]);
            wstore(z + (size_t)(4 * i + 2) * kstride + tx, row_p[i] - row_q[i]);
            wstore(z + (size_t)(4 * i + 3) * kstride + tx, -row_q[i]);
        }
    }
}

size_t dn_winograd_gradient_floats(const dn_conv2d_dims *d)
{
    return 16 * (size_t)d->out_c * d->in_c;
}

void dn_winograd_backward_weight(float *grad, const float *dout, const float *in, float *scratch,
                                 const dn_conv2d_dims *d, int images)
{
    const wino_shape s = forward_shape(d);
    const size_t width = block_width(&s), tiles = (size_t)s.th * s.tw;
    const size_t in_plane = (size_t)s.h * s.w, out_plane = (size_t)s.oh * s.ow;
    float *v = scratch, *z = v + 16 * (size_t)s.cin * width;
    float *pad = z + 16 * (size_t)s.cout * width, *pad_grad = pad + padded_floats(&s);
    memset(pad, 0, 2 * padded_floats(&s) * sizeof *pad);

    for (int i0 = 0; i0 < images; i0 += s.images) {
        int i1 = i0 + s.images < images ? i0 + s.images : images;
        int n = (int)((size_t)(i1 - i0) * tiles);

        for (int image = i0; image < i1; image++) {
            size_t col = (size_t)(image - i0) * tiles;
            for (int c = 0; c < s.cin; c++)
                transform_input_plane(v + (size_t)c * 16 * width + col, width, pad,
                                      in + ((size_t)image * s.cin + c) * in_plane, &s);
            for (int o = 0; o < s.cout; o++) {
                /* rows and columns past the output stay zero: no gradient there */
                pad_plane(pad_grad, 2 * s.th, s.pw, dout + ((size_t)image * s.cout + o) * out_plane,
                          s.oh, s.ow, 0, 0);
                for (int ty = 0; ty < s.th; ty++)
                    transform_gradient_row(z + (size_t)o * 16 * width + col + (size_t)ty * s.tw,
                                           width, pad_grad + (size_t)(2 * ty) * s.pw, s.pw, s.twv);
            }
        }

        for (int k = 0; k < 16; k++)
            dn_sgemm(false, true, s.cout, s.cin, n, 1.0f, z + (size_t)k * width, 16 * (int)width,
                     v + (size_t)k * width, 16 * (int)width, i0 == 0 ? 0.0f : 1.0f,
                     grad + (size_t)k * s.cout * s.cin, s.cin);
    }
}

/* dweight[o,c] += G^T m G, m the 16 values grad[k * stride] of the pair. */
void dn_winograd_weight_gradient(float *dweight, const float *grad, const dn_conv2d_dims *d)
{
    const size_t stride = (size_t)d->out_c * d->in_c;
    for (size_t pair = 0; pair < stride; pair++) {
        const float *m = grad + pair;
        float t[3][4];
        for (int b = 0; b < 4; b++) { /* G^T m, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1] */
            float m0 = m[(size_t)b * stride], m1 = m[(size_t)(4 + b) * stride];
            float m2 = m[(size_t)(8 + b) * stride], m3 = m[(size_t)(12 + b) * stride];
            t[0][b] = m0 + 0.5f * (m1 + m2);
            t[1][b] = 0.5f * (m1 - m2);
            t[2][b] = 0.5f * (m1 + m2) + m3;
        }
        float *w = dweight + pair * 9;
        for (int i = 0; i < 3; i++) { /* (G^T m) G */
            w[i * 3 + 0] += t[i][0] + 0.5f * (t[i][1] + t[i][2]);
            w[i * 3 + 1] += 0.5f * (t[i][1] - t[i][2]);
            w[i * 3 + 2] += 0.5f * (t[i][1] + t[i][2]) + t[i][3];
        }
    }
}
