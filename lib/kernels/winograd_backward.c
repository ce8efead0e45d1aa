/* winograd_backward.c - the backward pass of a Winograd F(4x4, 3x3)
 * convolution: both gradients from one transform of the output gradient. */
#include <string.h>

#include "gemm.h"
#include "internal.h"
#include "winograd.h"
#include "winograd_tile.h"

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
    const size_t row = (size_t)DN_WG_OUT * lane;
    for (int tx = 0; tx < twv; tx += DN_WV) {
        dn_wv t[DN_WG_OUT][DN_WG_ALPHA]; /* dY A^T, row by row */
        for (int r = 0; r < DN_WG_OUT; r++) {
            const float *q = p + r * row + tx;
            dn_wv g[DN_WG_OUT] = {wload(q), wload(q + lane), wload(q + 2 * lane), wload(q + 3 * lane)};
            apply_a(t[r], g);
        }
        dn_wv out[DN_WG_POINTS];
        for (int j = 0; j < DN_WG_ALPHA; j++) {
            dn_wv col[DN_WG_OUT] = {t[0][j], t[1][j], t[2][j], t[3][j]}, y[DN_WG_ALPHA];
            apply_a(y, col);
            for (int i = 0; i < DN_WG_ALPHA; i++)
                out[i * DN_WG_ALPHA + j] = y[i];
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
    const size_t row = (size_t)DN_WG_OUT * lane;
    for (int tx = 0; tx < twv; tx += DN_WV) {
        dn_wv in[DN_WG_POINTS], t[DN_WG_ALPHA][DN_WG_ALPHA];
        load_points(in, x + tx, kstride);
        /* lanes past the last tile hold another row's values */
        const dn_wvi live = (tx + lane_numbers()) < tw;
        for (int i = 0; i < DN_WG_ALPHA; i++) /* X B^T, row by row */
            apply_b(t[i], in + i * DN_WG_ALPHA);
        for (int q = 0; q < DN_WG_ALPHA; q++) { /* B (X B^T), column q */
            dn_wv col[DN_WG_ALPHA], y[DN_WG_ALPHA];
            for (int i = 0; i < DN_WG_ALPHA; i++)
                col[i] = t[i][q];
            apply_b(y, col);
            /* padded column 4tx + q: phase q % 4 at tx + q / 4 */
            const size_t at = (size_t)(q % DN_WG_OUT) * lane + tx + q / DN_WG_OUT;
            for (int r = 0; r < DN_WG_ALPHA; r++) {
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
        const float *phases = pad + (size_t)(y + oy) * DN_WG_OUT * lane;
        for (int k = 0; k < lane; k += DN_WV) {
            dn_wv y4[DN_WG_OUT] = {wload(phases + k), wload(phases + lane + k),
                             wload(phases + 2 * lane + k), wload(phases + 3 * lane + k)};
            interleave4(line + DN_WG_OUT * k, y4);
        }
        if (ox >= 0 && ox + w <= DN_WG_OUT * lane) { /* the usual case: all of the row is there */
            copy_row(dst, line + ox, w);
            continue;
        }
        for (int x = 0; x < w; x++) {
            int col = x + ox;
            dst[x] = col >= 0 && col < DN_WG_OUT * lane ? line[col] : 0.0f;
        }
    }
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

void dn_winograd_backward(float *grad, float *din, const float *dout, const float *in,
                          const float *u, float *scratch, const dn_conv2d_dims *d, int images,
                          bool relu_input, const dn_winograd_pool *pool)
{
    const wino_shape s = forward_shape(d);
    const size_t width = block_width(&s), tiles = (size_t)s.th * s.tw;
    const size_t in_plane = (size_t)s.h * s.w, out_plane = (size_t)s.oh * s.ow;
    const int ld = DN_WG_POINTS * (int)width, rows = (int)padded_rows(&s);
    float *v = scratch, *z = v + DN_WG_POINTS * (size_t)s.cin * width;
    float *pad = z + DN_WG_POINTS * (size_t)s.cout * width, *pad_grad = pad + pad_area_floats(&s);
    float *pad_din = pad_grad + pad_area_floats(&s), *line = pad_din + padded_floats(&s);
    float *dense = pad_din + pad_area_floats(&s);
    memset(pad, 0, 2 * pad_area_floats(&s) * sizeof *pad);

    for (int i0 = 0; i0 < images; i0 += s.images) {
        int i1 = i0 + s.images < images ? i0 + s.images : images;
        int n = (int)((size_t)(i1 - i0) * tiles);

        for (int image = i0; image < i1; image++) {
            size_t col = (size_t)(image - i0) * tiles;
            for (int c = 0; grad && c < s.cin; c++) /* V only for the weight gradient */
                transform_input_plane(v + (size_t)c * DN_WG_POINTS * width + col, width, pad,
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
                    transform_gradient_row(z + (size_t)o * DN_WG_POINTS * width + col + (size_t)ty * s.tw,
                                           width, pad_grad + (size_t)(DN_WG_OUT * ty) * DN_WG_OUT * s.lane,
                                           s.lane, s.twv);
            }
        }

        for (int k = 0; grad && k < DN_WG_POINTS; k++)
            dn_sgemm(false, true, s.cout, s.cin, n, 1.0f, z + (size_t)k * width, ld,
                     v + (size_t)k * width, ld, i0 == 0 ? 0.0f : 1.0f,
                     grad + (size_t)k * s.cout * s.cin, s.cin);
        if (!din)
            continue;

        /* V is spent: it takes U^T Z, the tiles' gradients */
        for (int k = 0; k < DN_WG_POINTS; k++)
            dn_sgemm(true, false, s.cin, n, s.cout, 1.0f, u + (size_t)k * s.cout * s.cin, s.cin,
                     z + (size_t)k * width, ld, 0.0f, v + (size_t)k * width, ld);

        for (int image = i0; image < i1; image++)
            for (int c = 0; c < s.cin; c++) {
                const float *x = v + (size_t)c * DN_WG_POINTS * width + (size_t)(image - i0) * tiles;
                memset(pad_din, 0, padded_floats(&s) * sizeof *pad_din);
                for (int ty = 0; ty < s.th; ty++)
                    add_input_gradient_row(pad_din + (size_t)(DN_WG_OUT * ty) * DN_WG_OUT * s.lane, s.lane,
                                           x + (size_t)ty * s.tw, width, s.tw, s.twv);
                float *plane = din + ((size_t)image * s.cin + c) * in_plane;
                unpad_plane(plane, line, pad_din, rows, s.lane, s.h, s.w, s.pad, s.pad);
                if (relu_input) /* while the plane is still in cache */
                    dn_relu_mask_here(plane, in + ((size_t)image * s.cin + c) * in_plane,
                                      in_plane);
            }
    }
}
