/* im2col.c - patch unfolding for convolution as matrix multiplication, and
 * its adjoint. Rows are written contiguously so the GEMM reads them in order. */
#include <string.h>

#include "im2col.h"

void dn_im2col(float *col, const float *in, const dn_conv2d_dims *d)
{
    const int oh = d->out_h, ow = d->out_w, s = d->stride, p = d->pad;
    for (int c = 0; c < d->in_c; c++) {
        const float *plane = in + (size_t)c * d->in_h * d->in_w;
        for (int i = 0; i < d->kernel_h; i++) {
            for (int j = 0; j < d->kernel_w; j++) {
                float *row = col + ((size_t)(c * d->kernel_h + i) * d->kernel_w + j) * oh * ow;
                for (int y = 0; y < oh; y++) {
                    int iy = y * s + i - p;
                    float *dst = row + (size_t)y * ow;
                    if (iy < 0 || iy >= d->in_h) {
                        memset(dst, 0, (size_t)ow * sizeof *dst);
                        continue;
                    }
                    const float *src = plane + (size_t)iy * d->in_w;
                    if (s == 1 && p == 0) {
                        memcpy(dst, src + j, (size_t)ow * sizeof *dst);
                        continue;
                    }
                    for (int x = 0; x < ow; x++) {
                        int ix = x * s + j - p;
                        dst[x] = (ix >= 0 && ix < d->in_w) ? src[ix] : 0.0f;
                    }
                }
            }
        }
    }
}

void dn_col2im(float *img, const float *col, const dn_conv2d_dims *d)
{
    const int oh = d->out_h, ow = d->out_w, s = d->stride, p = d->pad;
    memset(img, 0, (size_t)d->in_c * d->in_h * d->in_w * sizeof *img);
    for (int c = 0; c < d->in_c; c++) {
        float *plane = img + (size_t)c * d->in_h * d->in_w;
        for (int i = 0; i < d->kernel_h; i++) {
            for (int j = 0; j < d->kernel_w; j++) {
                const float *row =
                    col + ((size_t)(c * d->kernel_h + i) * d->kernel_w + j) * oh * ow;
                for (int y = 0; y < oh; y++) {
                    int iy = y * s + i - p;
                    if (iy < 0 || iy >= d->in_h)
                        continue;
                    float *dst = plane + (size_t)iy * d->in_w;
                    const float *src = row + (size_t)y * ow;
                    for (int x = 0; x < ow; x++) {
                        int ix = x * s + j - p;
                        if (ix >= 0 && ix < d->in_w)
                            dst[ix] += src[x];
                    }
                }
            }
        }
    }
}
