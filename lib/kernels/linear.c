/* linear.c - fully connected y = x W^T + b with PyTorch's [out, in] weight
 * layout, forward and backward as three GEMMs. The layer: layers/linear.c. */
#include "digitnet/ops.h"
#include "gemm.h"
#include "internal.h"

void dn_linear_forward(float *out, const float *in, const float *weight, const float *bias, int n,
                       int in_features, int out_features, bool relu)
{
    /* out (N x O) = in (N x I) * weight^T (I x O) */
    dn_sgemm(false, true, n, out_features, in_features, 1.0f, in, in_features, weight,
             in_features, 0.0f, out, out_features);
    for (int b = 0; b < n; b++) {
        float *row = out + (size_t)b * out_features;
        for (int o = 0; o < out_features; o++) {
            float v = row[o] + (bias ? bias[o] : 0.0f);
            row[o] = relu && !(v > 0.0f) ? 0.0f : v;
        }
    }
}

void dn_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                        const float *in, const float *weight, int n, int in_features,
                        int out_features)
{
    /* dweight (O x I) += dout^T (O x N) * in (N x I) */
    if (dweight)
        dn_sgemm(true, false, out_features, in_features, n, 1.0f, dout, out_features, in, in_features,
                 1.0f, dweight, in_features);
    if (dbias)
        for (int o = 0; o < out_features; o++) {
            float sum = 0.0f;
            for (int b = 0; b < n; b++)
                sum += dout[(size_t)b * out_features + o];
            dbias[o] += sum;
        }
    /* din (N x I) = dout (N x O) * weight (O x I) */
    if (din)
        dn_sgemm(false, false, n, in_features, out_features, 1.0f, dout, out_features, weight,
                 in_features, 0.0f, din, in_features);
}
