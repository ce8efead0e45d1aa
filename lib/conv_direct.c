/* conv_direct.c - stride-1 convolution of a single-channel input, computed
 * directly: a first layer on grey images, where im2col + GEMM would multiply
 * by matrices only kernel_h * kernel_w deep and spend most of its time
 * writing results. Vectors run along output rows. */
#include <string.h>

#include "conv_direct.h"

#if defined(__AVX__)
#define DN_DV 8
#else
#define DN_DV 4
#endif
typedef float dn_dv __attribute__((vector_size(DN_DV * sizeof(float))));
typedef int dn_dvi __attribute__((vector_size(DN_DV * sizeof(int))));

/* Output channels computed together, each input vector loaded once for all. */
enum { GROUP = 8 };

static inline dn_dv dload(const float *p)
{
    dn_dv v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void dstore(float *p, dn_dv v) { memcpy(p, &v, sizeof v); }

/* Output columns rounded up to whole vectors. */
static int row_width(const dn_conv2d_dims *d) { return (d->out_w + DN_DV - 1) / DN_DV * DN_DV; }

/* A padded image: pad + h + pad rows of pad + w + pad columns and more, so
 * that a whole vector starting at any output column stays inside. */
static int padded_stride(const dn_conv2d_dims *d) { return row_width(d) + d->kernel_w - 1; }
static int padded_rows(const dn_conv2d_dims *d) { return d->out_h + d->kernel_h - 1; }

/* The weight gradient keeps one sum vector per tap in registers or close. */
enum { MAX_TAPS = 49 };

bool dn_conv_direct_supported(const dn_conv2d_dims *d)
{
    return d->in_c == 1 && d->stride == 1 && d->kernel_h * d->kernel_w <= MAX_TAPS;
}

size_t dn_conv_direct_scratch_floats(const dn_conv2d_dims *d)
{
    return (size_t)padded_rows(d) * padded_stride(d);
}

/* pad = the image with d->pad zeros around it (and zeros to the right). */
static void pad_image(float *restrict pad, const float *restrict image, const dn_conv2d_dims *d)
{
    const int stride = padded_stride(d), rows = padded_rows(d);
    memset(pad, 0, (size_t)rows * stride * sizeof *pad);
    const int width = d->in_w < stride - d->pad ? d->in_w : stride - d->pad;
    for (int y = 0; y < d->in_h && y + d->pad < rows; y++)
        memcpy(pad + (size_t)(y + d->pad) * stride + d->pad, image + (size_t)y * d->in_w,
               (size_t)width * sizeof *pad);
}

/* out[o0 + g] row y, columns x .. x+DN_DV (only `columns` of them), for
 * g < group: the kh x kw taps of weight against the padded image. Inlined
 * with constant group, kh and kw for the common case, so the sums stay in
 * registers. */
static inline __attribute__((always_inline)) void
forward_vector(float *out, size_t out_plane, const float *pad, int stride, const float *weight,
               const float *bias, int o0, int group, int kh, int kw, int x, int columns,
               bool relu)
{
    dn_dv sum[GROUP];
    for (int g = 0; g < group; g++)
        sum[g] = (dn_dv){0} + (bias ? bias[o0 + g] : 0.0f);
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
            dn_dv v = dload(pad + (size_t)i * stride + x + j);
            for (int g = 0; g < group; g++)
                sum[g] += weight[(size_t)(o0 + g) * kh * kw + i * kw + j] * v;
        }
    for (int g = 0; g < group; g++) {
        dn_dv s = sum[g];
        if (relu) /* s > 0 ? s : 0, NaN to 0 like the GEMM path */
            s = (dn_dv)((dn_dvi)s & (s > 0.0f));
        float *dst = out + (size_t)(o0 + g) * out_plane + x;
        if (columns == DN_DV) {
            dstore(dst, s);
        } else {
            float lanes[DN_DV];
            dstore(lanes, s);
            for (int l = 0; l < columns; l++)
                dst[l] = lanes[l];
        }
    }
}

void dn_conv_direct_forward(float *out, const float *in, const float *weight, const float *bias,
                            float *scratch, const dn_conv2d_dims *d, int images, bool relu)
{
    const int kh = d->kernel_h, kw = d->kernel_w, oh = d->out_h, ow = d->out_w;
    const int stride = padded_stride(d);
    const size_t in_plane = (size_t)d->in_h * d->in_w, out_plane = (size_t)oh * ow;
    const bool three = kh == 3 && kw == 3;

    for (int image = 0; image < images; image++) {
        pad_image(scratch, in + (size_t)image * in_plane, d);
        float *planes = out + (size_t)image * d->out_c * out_plane;
        for (int o0 = 0; o0 < d->out_c; o0 += GROUP) {
            const int group = d->out_c - o0 < GROUP ? d->out_c - o0 : GROUP;
            for (int y = 0; y < oh; y++) {
                const float *rows = scratch + (size_t)y * stride;
                float *row = planes + (size_t)y * ow;
                for (int x = 0; x < ow; x += DN_DV) {
                    int columns = ow - x < DN_DV ? ow - x : DN_DV;
                    if (group == GROUP && three)
                        forward_vector(row, out_plane, rows, stride, weight, bias, o0, GROUP, 3,
                                       3, x, columns, relu);
                    else
                        forward_vector(row, out_plane, rows, stride, weight, bias, o0, group, kh,
                                       kw, x, columns, relu);
                }
            }
        }
    }
}

/* sum[i * kw + j] += g * the padded image's vector at (i, x + j). */
static inline __attribute__((always_inline)) void
accumulate_taps(dn_dv *sum, dn_dv g, const float *pad, int stride, int kh, int kw, int x)
{
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++)
            sum[i * kw + j] += g * dload(pad + (size_t)i * stride + x + j);
}

/* The gradient of one output channel's kernel over one image: one sum
 * vector per tap over the rows in order, then its lanes in order, an order
 * fixed by the sizes alone. */
static inline __attribute__((always_inline)) void
kernel_gradient(float *dw, const float *grad, const float *pad, int stride, int oh, int ow,
                int kh, int kw)
{
    dn_dv sum[MAX_TAPS];
    for (int t = 0; t < kh * kw; t++)
        sum[t] = (dn_dv){0};
    for (int y = 0; y < oh; y++) {
        const float *row = grad + (size_t)y * ow, *rows = pad + (size_t)y * stride;
        int x = 0;
        for (; x + DN_DV <= ow; x += DN_DV)
            accumulate_taps(sum, dload(row + x), rows, stride, kh, kw, x);
        if (x < ow) { /* the last columns, the lanes past them zero */
            float lanes[DN_DV] = {0};
            for (int l = 0; l < ow - x; l++)
                lanes[l] = row[x + l];
            accumulate_taps(sum, dload(lanes), rows, stride, kh, kw, x);
        }
    }
    for (int t = 0; t < kh * kw; t++) {
        float lanes[DN_DV], total = 0.0f;
        dstore(lanes, sum[t]);
        for (int l = 0; l < DN_DV; l++)
            total += lanes[l];
        dw[t] += total;
    }
}

void dn_conv_direct_backward_weight(float *dweight, const float *dout, const float *in,
                                    float *scratch, const dn_conv2d_dims *d, int images)
{
    const int kh = d->kernel_h, kw = d->kernel_w, oh = d->out_h, ow = d->out_w;
    const int stride = padded_stride(d), taps = kh * kw;
    const size_t in_plane = (size_t)d->in_h * d->in_w, out_plane = (size_t)oh * ow;
    memset(dweight, 0, (size_t)d->out_c * taps * sizeof *dweight);
    for (int image = 0; image < images; image++) {
        pad_image(scratch, in + (size_t)image * in_plane, d);
        const float *grads = dout + (size_t)image * d->out_c * out_plane;
        for (int o = 0; o < d->out_c; o++) {
            float *dw = dweight + (size_t)o * taps;
            const float *grad = grads + (size_t)o * out_plane;
            if (kh == 3 && kw == 3)
                kernel_gradient(dw, grad, scratch, stride, oh, ow, 3, 3);
            else
                kernel_gradient(dw, grad, scratch, stride, oh, ow, kh, kw);
        }
    }
}
