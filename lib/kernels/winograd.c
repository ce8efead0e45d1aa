/* winograd.c - 3x3 stride-1 convolution as Winograd F(4x4, 3x3): the
 * weight transforms, the forward pass (optionally with a 2x2 max-pool
 * fused in) and the weight gradient's way back to 3x3 kernels. The tile
 * machinery is in winograd_tile.h, the backward pass in
 * winograd_backward.c. */
#include <string.h>

#include "gemm.h"
#include "winograd.h"
#include "winograd_tile.h"

/* G (6 x 3): kernel to tile. */
static const float G[DN_WG_ALPHA][3] = {
    {1.0f / 4, 0, 0},
    {-1.0f / 6, -1.0f / 6, -1.0f / 6},
    {-1.0f / 6, 1.0f / 6, -1.0f / 6},
    {1.0f / 24, 1.0f / 12, 1.0f / 6},
    {1.0f / 24, -1.0f / 12, 1.0f / 6},
    {0, 0, 1},
};

bool dn_winograd_supported(const dn_conv2d_dims *d)
{
    return d->kernel_h == 3 && d->kernel_w == 3 && d->stride == 1;
}

size_t dn_winograd_weight_floats(const dn_conv2d_dims *d)
{
    return DN_WG_POINTS * (size_t)d->out_c * d->in_c;
}

size_t dn_winograd_scratch_floats(const dn_conv2d_dims *d)
{
    wino_shape s = forward_shape(d);
    return shape_scratch(&s);
}

/* ---- weights: U = G g G^T */

/* G k for a column k of 3 values: the 6 rows of G times k. */
static inline void apply_g(dn_wv t[DN_WG_ALPHA], dn_wv k0, dn_wv k1, dn_wv k2)
{
    for (int i = 0; i < DN_WG_ALPHA; i++)
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
    dn_wv t[DN_WG_ALPHA][3]; /* G g, column by column */
    for (int j = 0; j < 3; j++) {
        dn_wv col[DN_WG_ALPHA];
        apply_g(col, wload(g[j]), wload(g[3 + j]), wload(g[6 + j]));
        for (int i = 0; i < DN_WG_ALPHA; i++)
            t[i][j] = col[i];
    }
    const int live = pairs - p0 < DN_WV ? (int)(pairs - p0) : DN_WV;
    for (int i = 0; i < DN_WG_ALPHA; i++) { /* (G g) G^T, row by row */
        dn_wv row[DN_WG_ALPHA];
        apply_g(row, t[i][0], t[i][1], t[i][2]);
        for (int j = 0; j < DN_WG_ALPHA; j++) {
            float *dst = u + (size_t)(i * DN_WG_ALPHA + j) * pairs + p0;
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

/* ---- output tiles: Y = A^T M A */

/* The 4x4 outputs of the WV tiles from t0 of a tile row, y[p][q] (row p,
 * column q of each tile, a lane per tile), from the 36 values
 * m[k * kstride + t] of each tile, plus shift, then max(0, .) with relu. */
static inline void output_tiles(dn_wv y[DN_WG_OUT][DN_WG_OUT], const float *restrict m, size_t kstride, int t0,
                                float shift, bool relu)
{
    dn_wv u[DN_WG_ALPHA][DN_WG_OUT], x[DN_WG_POINTS]; /* (M A) of each tile row i */
    load_points(x, m + t0, kstride);
    for (int i = 0; i < DN_WG_ALPHA; i++)
        apply_at(u[i], x + i * DN_WG_ALPHA);
    for (int q = 0; q < DN_WG_OUT; q++) { /* A^T (M A), column q: rows p of the output tile */
        dn_wv col[DN_WG_ALPHA], out[DN_WG_OUT];
        for (int i = 0; i < DN_WG_ALPHA; i++)
            col[i] = u[i][q];
        apply_at(out, col);
        for (int p = 0; p < DN_WG_OUT; p++) {
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
        dn_wv y[DN_WG_OUT][DN_WG_OUT];
        output_tiles(y, m, kstride, t0, shift, relu);
        const int columns = ow - DN_WG_OUT * t0 < DN_WG_OUT * DN_WV ? ow - DN_WG_OUT * t0 : DN_WG_OUT * DN_WV;
        for (int p = 0; p < rows; p++) {
            float out[DN_WG_OUT * DN_WV];
            interleave4(out, y[p]);
            copy_row(row0 + (size_t)p * ow + DN_WG_OUT * t0, out, columns);
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
        dn_wv y[DN_WG_OUT][DN_WG_OUT];
        output_tiles(y, m, kstride, t0, shift, true);
        const dn_wvi tx = t0 + lane_numbers(); /* tile column of each lane */
        const int columns = pw - 2 * t0 < 2 * DN_WV ? pw - 2 * t0 : 2 * DN_WV;
        for (int pr = 0; pr < rows; pr++) {
            dn_wv best[2];
            dn_wvi at[2];
            for (int pc = 0; pc < 2; pc++) {
                dn_wvi corner = (DN_WG_OUT * ty + 2 * pr) * ow + DN_WG_OUT * tx + 2 * pc;
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
    const int ld = DN_WG_POINTS * (int)width;
    float *v = scratch, *m = v + DN_WG_POINTS * (size_t)s->cin * width;
    float *pad = m + DN_WG_POINTS * (size_t)s->cout * width;
    memset(pad, 0, pad_area_floats(s) * sizeof *pad);

    for (int i0 = 0; i0 < images; i0 += s->images) {
        int i1 = i0 + s->images < images ? i0 + s->images : images;
        int n = (int)((size_t)(i1 - i0) * tiles);

        for (int image = i0; image < i1; image++)
            for (int c = 0; c < s->cin; c++)
                transform_input_plane(v + (size_t)c * DN_WG_POINTS * width + (size_t)(image - i0) * tiles,
                                      width, pad, in + ((size_t)image * s->cin + c) * in_plane, s);

        for (int k = 0; k < DN_WG_POINTS; k++)
            dn_sgemm(false, false, s->cout, n, s->cin, 1.0f, u + (size_t)k * s->cout * s->cin,
                     s->cin, v + (size_t)k * width, ld, 0.0f, m + (size_t)k * width, ld);

        for (int image = i0; image < i1; image++)
            for (int o = 0; o < s->cout; o++) {
                const float *mo = m + (size_t)o * DN_WG_POINTS * width + (size_t)(image - i0) * tiles;
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
                    int rows = s->oh - DN_WG_OUT * ty < DN_WG_OUT ? s->oh - DN_WG_OUT * ty : DN_WG_OUT;
                    transform_output_row(plane + (size_t)(DN_WG_OUT * ty) * s->ow, rows,
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

size_t dn_winograd_gradient_floats(const dn_conv2d_dims *d)
{
    return DN_WG_POINTS * (size_t)d->out_c * d->in_c;
}

/* dweight[o,c] += G^T m G, m the 36 values grad[k * stride] of the pair. */
void dn_winograd_weight_gradient(float *dweight, const float *grad, const dn_conv2d_dims *d)
{
    const size_t stride = (size_t)d->out_c * d->in_c;
    for (size_t pair = 0; pair < stride; pair++) {
        const float *m = grad + pair;
        float t[3][DN_WG_ALPHA]; /* G^T m */
        for (int a = 0; a < 3; a++)
            for (int j = 0; j < DN_WG_ALPHA; j++) {
                float sum = 0.0f;
                for (int i = 0; i < DN_WG_ALPHA; i++)
                    sum += G[i][a] * m[(size_t)(i * DN_WG_ALPHA + j) * stride];
                t[a][j] = sum;
            }
        float *w = dweight + pair * 9;
        for (int a = 0; a < 3; a++) /* (G^T m) G */
            for (int b = 0; b < 3; b++) {
                float sum = 0.0f;
                for (int j = 0; j < DN_WG_ALPHA; j++)
                    sum += t[a][j] * G[j][b];
                w[a * 3 + b] += sum;
            }
    }
}
