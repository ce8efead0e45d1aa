/* dropout.c - the dropout layer: "dropout P", zeroing each element with
 * probability P in training and scaling the others by 1/(1-P); the
 * identity in evaluation (the net then aliases it). */
#include <stdio.h>

#include "digitnet/ops.h"
#include "internal.h"
#include "layers/kinds.h"
#include "number.h"
#include "onnx_graph.h"

typedef struct dropout_config {
    float probability;
    float *mask;        /* 0 or 1/(1-P) per element of the last training forward */
} dropout_config;

static dn_status dropout_parse(dn_layer *layer, char *const *args, int count)
{
    dropout_config *c = layer->config;
    double p;
    if (count != 1)
        return dn_fail(DN_ERR_FORMAT, "spec: expected '%s'", dn_dropout_kind.usage);
    /* checked as the float it is stored as: 0.9999999999 would become 1 */
    if (!dn_parse_double(args[0], &p) || !((float)p >= 0.0f && (float)p < 1.0f))
        return dn_fail(DN_ERR_FORMAT, "spec: dropout probability must be in [0, 1), got '%s'", args[0]);
    c->probability = (float)p;
    return DN_OK;
}

static int dropout_format(const dn_layer *layer, char *text, size_t capacity)
{
    const dropout_config *c = layer->config;
    return dn_snprintf(text, capacity, "%g", (double)c->probability);
}

static dn_status dropout_configure(dn_layer *layer)
{
    for (int i = 0; i < 3; i++)
        layer->out_shape[i] = layer->in_shape[i];
    return DN_OK;
}

static size_t dropout_reserve_bytes(const dn_layer *layer, const dn_fusion *fusion, int batch)
{
    (void)fusion;
    return (size_t)batch * dn_sample_size(layer->in_shape) * sizeof(float);
}

static void dropout_release(dn_layer *layer)
{
    dropout_config *c = layer->config;
    dn_free(c->mask);
    c->mask = NULL;
}

static dn_status dropout_reserve(dn_layer *layer, const dn_fusion *fusion, int batch)
{
    (void)fusion;
    dropout_config *c = layer->config;
    float *mask = dn_alloc((size_t)batch * dn_sample_size(layer->in_shape) * sizeof *mask);
    if (!mask)
        return dn_fail(DN_ERR_NOMEM, "dropout: cannot allocate its mask");
    dropout_release(layer);
    c->mask = mask;
    return DN_OK;
}

static void dropout_forward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *out,
                            const float *in)
{
    (void)fusion; /* the net never calls it in evaluation mode */
    dropout_config *c = layer->config;
    dn_dropout_forward(out, c->mask, in, (size_t)call->n * dn_sample_size(layer->in_shape), c->probability,
                       call->rng);
}

static void dropout_backward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *din,
                             float *dout, const float *in, const float *out)
{
    (void)fusion;
    (void)in;
    (void)out;
    dropout_config *c = layer->config;
    if (din)
        dn_dropout_backward(din, dout, c->mask, (size_t)call->n * dn_sample_size(layer->in_shape));
}

/* ONNX: nothing; the model is for inference, where dropout is the identity. */
static dn_status dropout_onnx(const dn_layer *layer, dn_onnx_graph *g)
{
    (void)layer;
    return dn_onnx_status(g);
}

const dn_layer_kind dn_dropout_kind = {
    .name = "dropout",
    .usage = "dropout P",
    .config_size = sizeof(dropout_config),
    .identity_in_eval = true,
    .parse = dropout_parse,
    .format = dropout_format,
    .configure = dropout_configure,
    .reserve_bytes = dropout_reserve_bytes,
    .reserve = dropout_reserve,
    .release = dropout_release,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .onnx = dropout_onnx,
};
