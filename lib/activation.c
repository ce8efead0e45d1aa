/* activation.c - element-wise layers: relu, dropout, and flatten (a pure
 * reshape the net resolves by aliasing buffers). */
#include "internal.h"
#include "layer.h"

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

/* ---- layers ---- */

static dn_status same_shape_configure(dn_layer *layer)
{
    for (int i = 0; i < 3; i++)
        layer->out_shape[i] = layer->in_shape[i];
    return DN_OK;
}

static dn_status no_reserve(dn_layer *layer, int batch)
{
    (void)layer;
    (void)batch;
    return DN_OK;
}

static void relu_forward(dn_layer *layer, float *out, const float *in, int n, bool training,
                         dn_rng *rng)
{
    (void)training;
    (void)rng;
    dn_relu_forward(out, in, (size_t)n * dn_sample_size(layer->in_shape));
}

static void relu_backward(dn_layer *layer, float *din, float *dout, const float *in,
                          const float *out, int n)
{
    (void)in;
    if (din)
        dn_relu_backward(din, dout, out, (size_t)n * dn_sample_size(layer->in_shape));
}

const dn_layer_ops dn_relu_layer_ops = {
    .kind = "relu",
    .configure = same_shape_configure,
    .reserve = no_reserve,
    .forward = relu_forward,
    .backward = relu_backward,
};

static dn_status flatten_configure(dn_layer *layer)
{
    layer->out_shape[0] = (int)dn_sample_size(layer->in_shape);
    layer->out_shape[1] = layer->out_shape[2] = 1;
    return DN_OK;
}

const dn_layer_ops dn_flatten_layer_ops = {
    .kind = "flatten",
    .is_view = true,
    .configure = flatten_configure,
    .reserve = no_reserve,
};

static dn_status dropout_configure(dn_layer *layer)
{
    if (!(layer->drop_prob >= 0.0f && layer->drop_prob < 1.0f))
        return dn_fail(DN_ERR_ARG, "dropout probability must be in [0, 1), got %g",
                       (double)layer->drop_prob);
    return same_shape_configure(layer);
}

static size_t dropout_reserve_bytes(const dn_layer *layer, int batch)
{
    return (size_t)batch * dn_sample_size(layer->in_shape) * sizeof(float);
}

static dn_status dropout_reserve(dn_layer *layer, int batch)
{
    float *mask = dn_alloc((size_t)batch * dn_sample_size(layer->in_shape) * sizeof *mask);
    if (!mask)
        return dn_fail(DN_ERR_NOMEM, "dropout: cannot allocate its mask");
    dn_free(layer->mask);
    layer->mask = mask;
    return DN_OK;
}

static void dropout_forward(dn_layer *layer, float *out, const float *in, int n, bool training,
                            dn_rng *rng)
{
    (void)training; /* the net never calls it in evaluation mode */
    dn_dropout_forward(out, layer->mask, in, (size_t)n * dn_sample_size(layer->in_shape),
                       layer->drop_prob, rng);
}

static void dropout_backward(dn_layer *layer, float *din, float *dout, const float *in,
                             const float *out, int n)
{
    (void)in;
    (void)out;
    if (din)
        dn_dropout_backward(din, dout, layer->mask, (size_t)n * dn_sample_size(layer->in_shape));
}

const dn_layer_ops dn_dropout_layer_ops = {
    .kind = "dropout",
    .identity_in_eval = true,
    .configure = dropout_configure,
    .reserve = dropout_reserve,
    .reserve_bytes = dropout_reserve_bytes,
    .forward = dropout_forward,
    .backward = dropout_backward,
};
