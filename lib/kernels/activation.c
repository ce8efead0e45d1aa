/* activation.c - element-wise kernels: relu and dropout, forward and
 * backward. The layers: layers/relu.c, layers/dropout.c. */
#include "internal.h"
#include "digitnet/ops.h"

void dn_relu_forward(float *out, const float *in, size_t count)
{
#pragma omp parallel for schedule(static) if (count > 65536)
    for (size_t i = 0; i < count; i++)
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void dn_relu_mask(float *x, const float *mask, size_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++)
        x[i] = mask[i] > 0.0f ? x[i] : 0.0f;
}

void dn_relu_backward(float *din, const float *dout, const float *out, size_t count)
{
#pragma omp parallel for schedule(static) if (count > 65536)
    for (size_t i = 0; i < count; i++)
        din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

void dn_dropout_forward(float *out, float *mask, const float *in, size_t count, float p,
                        dn_rng *rng)
{
    /* Each 64-bit draw decides four elements with 16 bits each, so p is
     * taken to the nearest multiple of 1/65536. */
    const float keep_scale = 1.0f / (1.0f - p);
    const uint32_t threshold = (uint32_t)(p * 65536.0f + 0.5f);
    uint64_t bits = 0;
    for (size_t i = 0; i < count; i++) {
        if (i % 4 == 0)
            bits = dn_rng_next(rng);
        mask[i] = (uint32_t)(bits & 0xffff) < threshold ? 0.0f : keep_scale;
        bits >>= 16;
        out[i] = in[i] * mask[i];
    }
}

void dn_dropout_backward(float *din, const float *dout, const float *mask, size_t count)
{
    for (size_t i = 0; i < count; i++)
        din[i] = dout[i] * mask[i];
}
