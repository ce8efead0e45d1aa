/* flatten.c - the flatten layer: "flatten", C x H x W read as C*H*W
 * features in that order (PyTorch's flatten of NCHW). A view: the net
 * aliases its output to its input and never calls it. */
#include "internal.h"
#include "layers/kinds.h"
#include "onnx_graph.h"

static dn_status flatten_parse(dn_layer *layer, char *const *args, int count)
{
    (void)layer;
    (void)args;
    return dn_spec_no_arguments(&dn_flatten_kind, count);
}

static dn_status flatten_configure(dn_layer *layer)
{
    layer->out_shape[0] = (int)dn_sample_size(layer->in_shape);
    layer->out_shape[1] = layer->out_shape[2] = 1;
    return DN_OK;
}

/* ONNX: Flatten from axis 1, [N, C, H, W] to [N, C*H*W] in C, H, W order. */
static dn_status flatten_onnx(const dn_layer *layer, dn_onnx_graph *g)
{
    (void)layer;
    dn_onnx_node(g, "Flatten", 0, 2, NULL, 0);
    dn_onnx_attr_int(g, "axis", 1);
    return dn_onnx_status(g);
}

const dn_layer_kind dn_flatten_kind = {
    .name = "flatten",
    .usage = "flatten",
    .is_view = true,
    .parse = flatten_parse,
    .configure = flatten_configure,
    .onnx = flatten_onnx,
};
