/* maxpool.c - the maxpool layer: "maxpool K [stride=S]" (stride K unless
 * given), no padding, PyTorch's MaxPool2d. It can do the backward pass of a
 * relu before it. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "layers/kinds.h"
#include "maxpool2d.h"
#include "onnx_graph.h"

typedef struct maxpool_config {
    int kernel, stride;
    int32_t *argmax;    /* winners of the last training forward, for batches of `capacity` */
    bool argmax_stale;  /* the last forward (evaluation) did not set it */
} maxpool_config;

bool dn_maxpool_is_2x2(const dn_layer *layer)
{
    const maxpool_config *c = layer->config;
    return layer->kind == &dn_maxpool_kind && c->kernel == 2 && c->stride == 2;
}

static dn_status maxpool_parse(dn_layer *layer, char *const *args, int count)
{
    maxpool_config *c = layer->config;
    if (count < 1 || !dn_spec_extent(args[0], 1, &c->kernel))
        return dn_fail(DN_ERR_FORMAT, "spec: expected '%s' with K from 1 to %d", dn_maxpool_kind.usage,
                       DN_SPEC_MAX_EXTENT);
    c->stride = c->kernel;
    for (int i = 1; i < count; i++)
        if (strncmp(args[i], "stride=", 7) != 0 || !dn_spec_extent(args[i] + 7, 1, &c->stride))
            return dn_fail(DN_ERR_FORMAT, "spec: maxpool: unknown or bad option '%s'", args[i]);
    return DN_OK;
}

static int maxpool_format(const dn_layer *layer, char *text, size_t capacity)
{
    const maxpool_config *c = layer->config;
    if (c->stride != c->kernel)
        return snprintf(text, capacity, "%d stride=%d", c->kernel, c->stride);
    return snprintf(text, capacity, "%d", c->kernel);
}

static dn_status maxpool_configure(dn_layer *layer)
{
    const maxpool_config *c = layer->config;
    const int *in = layer->in_shape;
    if (c->kernel > in[1] || c->kernel > in[2])
        return dn_fail(DN_ERR_SHAPE, "maxpool %d stride %d does not fit an input of %dx%dx%d", c->kernel,
                       c->stride, in[0], in[1], in[2]);
    layer->out_shape[0] = in[0];
    layer->out_shape[1] = (in[1] - c->kernel) / c->stride + 1;
    layer->out_shape[2] = (in[2] - c->kernel) / c->stride + 1;
    return DN_OK;
}

static bool maxpool_can_do_relu_input_grad(const dn_layer *layer)
{
    (void)layer;
    return true;
}

static size_t maxpool_reserve_bytes(const dn_layer *layer, const dn_fusion *fusion, int batch)
{
    (void)fusion;
    return (size_t)batch * dn_sample_size(layer->out_shape) * sizeof(int32_t);
}

static void maxpool_release(dn_layer *layer)
{
    maxpool_config *c = layer->config;
    dn_free(c->argmax);
    c->argmax = NULL;
}

static dn_status maxpool_reserve(dn_layer *layer, const dn_fusion *fusion, int batch)
{
    (void)fusion;
    maxpool_config *c = layer->config;
    int32_t *argmax = dn_alloc((size_t)batch * dn_sample_size(layer->out_shape) * sizeof *argmax);
    if (!argmax)
        return dn_fail(DN_ERR_NOMEM, "maxpool: cannot allocate its argmax cache");
    maxpool_release(layer);
    c->argmax = argmax;
    return DN_OK;
}

/* Evaluation needs no argmax: it is found again if a backward pass follows. */
static void maxpool_forward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *out,
                            const float *in)
{
    (void)fusion;
    maxpool_config *c = layer->config;
    dn_maxpool2d_forward(out, call->training ? c->argmax : NULL, in, call->n, layer->in_shape[0],
                         layer->in_shape[1], layer->in_shape[2], c->kernel, c->stride);
    c->argmax_stale = !call->training;
}

static void maxpool_backward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *din,
                             float *dout, const float *in, const float *out)
{
    maxpool_config *c = layer->config;
    if (!din)
        return;
    const int *s = layer->in_shape;
    if (c->argmax_stale) {
        dn_maxpool2d_forward(NULL, c->argmax, in, call->n, s[0], s[1], s[2], c->kernel, c->stride);
        c->argmax_stale = false;
    }
    dn_maxpool2d_route(din, dout, c->argmax, fusion->relu_input_grad ? out : NULL, call->n, s[0], s[1], s[2],
                       c->kernel, c->stride);
}

/* ONNX: MaxPool without padding, rounding the output size down (ceil_mode 0). */
static dn_status maxpool_onnx(const dn_layer *layer, dn_onnx_graph *g)
{
    const maxpool_config *c = layer->config;
    dn_onnx_node(g, "MaxPool", 4, 4, NULL, 0);
    dn_onnx_attr_ints(g, "kernel_shape", (const int64_t[]){c->kernel, c->kernel}, 2);
    dn_onnx_attr_ints(g, "strides", (const int64_t[]){c->stride, c->stride}, 2);
    return dn_onnx_status(g);
}

const dn_layer_kind dn_maxpool_kind = {
    .name = "maxpool",
    .usage = "maxpool K [stride=S]",
    .config_size = sizeof(maxpool_config),
    .parse = maxpool_parse,
    .format = maxpool_format,
    .configure = maxpool_configure,
    .can_do_relu_input_grad = maxpool_can_do_relu_input_grad,
    .reserve_bytes = maxpool_reserve_bytes,
    .reserve = maxpool_reserve,
    .release = maxpool_release,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .onnx = maxpool_onnx,
};
