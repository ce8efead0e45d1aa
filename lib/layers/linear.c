/* linear.c - the linear layer: "linear OUT", PyTorch's Linear (weight
 * [OUT, IN], bias [OUT]) on a flat input. It can compute the relu after it. */
#include <stdio.h>

#include "digitnet/ops.h"
#include "internal.h"
#include "layers/kinds.h"
#include "onnx_graph.h"

typedef struct linear_config {
    int out_features;
} linear_config;

static dn_status linear_parse(dn_layer *layer, char *const *args, int count)
{
    linear_config *c = layer->config;
    if (count != 1 || !dn_spec_extent(args[0], 1, &c->out_features))
        return dn_fail(DN_ERR_FORMAT, "spec: expected '%s' with OUT from 1 to %d", dn_linear_kind.usage,
                       DN_SPEC_MAX_EXTENT);
    return DN_OK;
}

static int linear_format(const dn_layer *layer, char *text, size_t capacity)
{
    const linear_config *c = layer->config;
    return snprintf(text, capacity, "%d", c->out_features);
}

static dn_status linear_configure(dn_layer *layer)
{
    const linear_config *c = layer->config;
    size_t in_features = dn_sample_size(layer->in_shape);
    if (layer->in_shape[1] != 1 || layer->in_shape[2] != 1)
        return dn_fail(DN_ERR_SHAPE, "linear needs a flat input, got %dx%dx%d (add flatten)", layer->in_shape[0],
                       layer->in_shape[1], layer->in_shape[2]);
    layer->out_shape[0] = c->out_features;
    layer->out_shape[1] = layer->out_shape[2] = 1;
    layer->param_count = 2;
    layer->params[0] = (dn_layer_param){.suffix = "weight", .ndim = 2,
        .shape = {c->out_features, (int)in_features},
        .size = (size_t)c->out_features * in_features, .fan_in = in_features};
    layer->params[1] = (dn_layer_param){.suffix = "bias", .ndim = 1, .shape = {c->out_features},
        .size = (size_t)c->out_features, .fan_in = in_features};
    return DN_OK;
}

static bool linear_can_fuse_relu(const dn_layer *layer)
{
    (void)layer;
    return true;
}

static void linear_forward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *out,
                           const float *in)
{
    const linear_config *c = layer->config;
    dn_linear_forward(out, in, layer->values[0], layer->values[1], call->n, layer->in_shape[0], c->out_features,
                      fusion->relu);
}

static void linear_backward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *din,
                            float *dout, const float *in, const float *out)
{
    const linear_config *c = layer->config;
    if (fusion->relu && !fusion->relu_grad_done)
        dn_relu_mask(dout, out, (size_t)call->n * c->out_features);
    dn_linear_backward(din, layer->grads[0], layer->grads[1], dout, in, layer->values[0], call->n,
                       layer->in_shape[0], c->out_features);
}

/* ONNX: Gemm, x W^T + b, on the input flattened to [N, IN]. */
static dn_status linear_onnx(const dn_layer *layer, dn_onnx_graph *g)
{
    char weight[DN_ONNX_NAME_MAX], bias[DN_ONNX_NAME_MAX];
    dn_onnx_param(g, layer, 0, weight);
    dn_onnx_param(g, layer, 1, bias);
    dn_onnx_node(g, "Gemm", 2, 2, (const char *const[]){weight, bias}, 2);
    dn_onnx_attr_int(g, "transB", 1);
    return dn_onnx_status(g);
}

const dn_layer_kind dn_linear_kind = {
    .name = "linear",
    .usage = "linear OUT",
    .param_prefix = "fc",
    .config_size = sizeof(linear_config),
    .parse = linear_parse,
    .format = linear_format,
    .configure = linear_configure,
    .can_fuse_relu = linear_can_fuse_relu,
    .forward = linear_forward,
    .backward = linear_backward,
    .onnx = linear_onnx,
};
