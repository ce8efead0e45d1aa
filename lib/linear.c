/* linear.c - fully connected layer y = x W^T + b with PyTorch's [out, in]
 * weight layout, forward and backward as three GEMMs. */
#include "gemm.h"
#include "internal.h"
#include "layer.h"

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

/* ---- the layer ---- */

static dn_status linear_configure(dn_layer *layer)
{
    size_t in_features = dn_sample_size(layer->in_shape);
    if (layer->in_shape[1] != 1 || layer->in_shape[2] != 1)
        return dn_fail(DN_ERR_SHAPE, "linear needs a flat input, got %dx%dx%d (add flatten)",
                       layer->in_shape[0], layer->in_shape[1], layer->in_shape[2]);
    if (layer->units < 1)
        return dn_fail(DN_ERR_SHAPE, "linear needs at least one output, got %d", layer->units);
    layer->out_shape[0] = layer->units;
    layer->out_shape[1] = layer->out_shape[2] = 1;
    layer->param_count = 2;
    layer->params[0] = (dn_layer_param){.suffix = "weight", .ndim = 2,
        .shape = {layer->units, (int)in_features},
        .size = (size_t)layer->units * in_features, .fan_in = in_features};
    layer->params[1] = (dn_layer_param){.suffix = "bias", .ndim = 1, .shape = {layer->units},
        .size = (size_t)layer->units, .fan_in = in_features};
    return DN_OK;
}

static dn_status linear_reserve(dn_layer *layer, int batch)
{
    (void)layer;
    (void)batch;
    return DN_OK;
}

static void linear_forward(dn_layer *layer, float *out, const float *in, int n, bool training,
                           dn_rng *rng)
{
    (void)training;
    (void)rng;
    dn_linear_forward(out, in, layer->weight, layer->bias, n, layer->in_shape[0], layer->units,
                      layer->fuse_relu);
}

static void linear_backward(dn_layer *layer, float *din, float *dout, const float *in,
                            const float *out, int n)
{
    if (layer->fuse_relu && !layer->relu_by_next)
        dn_relu_mask(dout, out, (size_t)n * layer->units);
    dn_linear_backward(din, layer->dweight, layer->dbias, dout, in, layer->weight, n,
                       layer->in_shape[0], layer->units);
}

const dn_layer_ops dn_linear_layer_ops = {
    .kind = "linear",
    .configure = linear_configure,
    .reserve = linear_reserve,
    .forward = linear_forward,
    .backward = linear_backward,
};
