/* relu.c - the relu layer: "relu", max(x, 0) element-wise. Usually folded
 * into the conv or linear before it by the fusion plan (plan.c). */
#include "digitnet/ops.h"
#include "internal.h"
#include "layers/kinds.h"
#include "onnx_graph.h"

static dn_status relu_parse(dn_layer *layer, char *const *args, int count)
{
    (void)layer;
    (void)args;
    return dn_spec_no_arguments(&dn_relu_kind, count);
}

static dn_status same_shape(dn_layer *layer)
{
    for (int i = 0; i < 3; i++)
        layer->out_shape[i] = layer->in_shape[i];
    return DN_OK;
}

static void relu_forward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *out,
                         const float *in)
{
    (void)fusion;
    dn_relu_forward(out, in, (size_t)call->n * dn_sample_size(layer->in_shape));
}

static void relu_backward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *din,
                          float *dout, const float *in, const float *out)
{
    (void)fusion;
    (void)in;
    if (din)
        dn_relu_backward(din, dout, out, (size_t)call->n * dn_sample_size(layer->in_shape));
}

static dn_status relu_onnx(const dn_layer *layer, dn_onnx_graph *g)
{
    (void)layer;
    dn_onnx_node(g, "Relu", 0, 0, NULL, 0);
    return dn_onnx_status(g);
}

const dn_layer_kind dn_relu_kind = {
    .name = "relu",
    .usage = "relu",
    .parse = relu_parse,
    .configure = same_shape,
    .forward = relu_forward,
    .backward = relu_backward,
    .onnx = relu_onnx,
};
