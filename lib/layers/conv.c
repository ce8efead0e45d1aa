/* conv.c - the conv layer: "conv OUT K [stride=S] [pad=P]", PyTorch's
 * Conv2d (weight [OUT, IN, KH, KW], bias [OUT]) on the kernels of conv2d.c.
 * It can compute the relu after it, and a Winograd conv also a 2x2 max-pool
 * after that relu; it can do the backward pass of a relu before it; in
 * evaluation it takes a batchnorm after it (and that one's relu) into its
 * weights. */
#include <stdio.h>
#include <string.h>

#include "conv2d.h"
#include "internal.h"
#include "layers/kinds.h"
#include "onnx_graph.h"
#include "winograd.h"

typedef struct conv_config {
    int out_channels, kernel_h, kernel_w, stride, pad;
    /* caches for batches of up to `capacity` samples */
    int capacity;
    float *workspace;           /* dn_conv2d_workspace_size floats */
    uint64_t transformed_generation; /* Winograd weights in the workspace are
                                        of this weight generation; 0: none */
    int32_t *argmax;            /* with a fused pool: its winners */
    float *bias_sums;           /* with a fused pool: per image and channel */
    bool transformed_folded;    /* the transformed weights are the folded ones */
    /* with a batchnorm folded in (evaluation): the folded weights and bias,
     * made for this weight generation (0: not yet) */
    float *folded_weight, *folded_bias;
    uint64_t folded_generation;
} conv_config;

static dn_status conv_parse(dn_layer *layer, char *const *args, int count)
{
    conv_config *c = layer->config;
    int kernel[2];
    c->stride = 1;
    if (count < 2 || !dn_spec_extent(args[0], 1, &c->out_channels) || !dn_spec_dims(args[1], 2, kernel))
        return dn_fail(DN_ERR_FORMAT, "spec: expected '%s' with OUT and K from 1 to %d", dn_conv_kind.usage,
                       DN_SPEC_MAX_EXTENT);
    c->kernel_h = kernel[0];
    c->kernel_w = kernel[1];
    for (int i = 2; i < count; i++) {
        const char *word = args[i];
        bool ok = strncmp(word, "stride=", 7) == 0   ? dn_spec_extent(word + 7, 1, &c->stride)
                  : strncmp(word, "pad=", 4) == 0    ? dn_spec_extent(word + 4, 0, &c->pad)
                                                     : false;
        if (!ok)
            return dn_fail(DN_ERR_FORMAT, "spec: conv: unknown or bad option '%s'", word);
    }
    return DN_OK;
}

static int conv_format(const dn_layer *layer, char *text, size_t capacity)
{
    const conv_config *c = layer->config;
    char kernel[32], stride[24] = "", pad[24] = "";
    if (c->kernel_h == c->kernel_w)
        snprintf(kernel, sizeof kernel, "%d", c->kernel_h);
    else
        snprintf(kernel, sizeof kernel, "%dx%d", c->kernel_h, c->kernel_w);
    if (c->stride != 1)
        snprintf(stride, sizeof stride, " stride=%d", c->stride);
    if (c->pad != 0)
        snprintf(pad, sizeof pad, " pad=%d", c->pad);
    return snprintf(text, capacity, "%d %s%s%s", c->out_channels, kernel, stride, pad);
}

static dn_conv2d_dims layer_dims(const dn_layer *layer, int n)
{
    const conv_config *c = layer->config;
    dn_conv2d_dims d = {
        .n = n, .in_c = layer->in_shape[0], .in_h = layer->in_shape[1], .in_w = layer->in_shape[2],
        .out_c = c->out_channels, .kernel_h = c->kernel_h, .kernel_w = c->kernel_w,
        .stride = c->stride, .pad = c->pad,
    };
    dn_conv2d_dims_init(&d);
    return d;
}

static dn_status conv_configure(dn_layer *layer)
{
    const conv_config *c = layer->config;
    dn_conv2d_dims d = layer_dims(layer, 1);
    if (dn_conv2d_dims_init(&d) != DN_OK)
        return dn_fail(DN_ERR_SHAPE, "conv %dx%d stride %d pad %d does not fit an input of %dx%dx%d",
                       c->kernel_h, c->kernel_w, c->stride, c->pad, layer->in_shape[0], layer->in_shape[1],
                       layer->in_shape[2]);
    layer->out_shape[0] = d.out_c;
    layer->out_shape[1] = d.out_h;
    layer->out_shape[2] = d.out_w;
    size_t fan_in = (size_t)d.in_c * d.kernel_h * d.kernel_w;
    layer->param_count = 2;
    layer->params[0] = (dn_layer_param){.suffix = "weight", .ndim = 4,
        .shape = {d.out_c, d.in_c, d.kernel_h, d.kernel_w},
        .size = (size_t)d.out_c * fan_in, .fan_in = fan_in};
    layer->params[1] = (dn_layer_param){.suffix = "bias", .ndim = 1, .shape = {d.out_c},
        .size = (size_t)d.out_c, .fan_in = fan_in};
    return DN_OK;
}

static bool conv_can_fuse_relu(const dn_layer *layer)
{
    (void)layer;
    return true;
}

/* The relu and a 2x2, stride-2 max-pool after it can be computed in the
 * output transform of a Winograd convolution whose output sides are even:
 * conv2's output (9.4 MB at batch 64) is then never written nor read back. */
static bool conv_can_fuse_pool(const dn_layer *layer, const dn_layer *pool)
{
    dn_conv2d_dims d = layer_dims(layer, 1);
    return dn_maxpool_is_2x2(pool) && dn_conv2d_uses_winograd(&d) && d.out_h % 2 == 0 && d.out_w % 2 == 0;
}

static bool conv_can_do_relu_input_grad(const dn_layer *layer)
{
    (void)layer;
    return true;
}

static bool conv_can_fold_batchnorm(const dn_layer *layer, const dn_layer *batchnorm)
{
    (void)layer;
    (void)batchnorm;
    return true;
}

/* With a fused pool: the winners (a quarter of the output) and the bias
 * sums of each image. */
static size_t pooled_floats(const dn_layer *layer, const dn_fusion *fusion, int batch)
{
    return fusion->pool ? (size_t)batch * dn_sample_size(layer->out_shape) / 4 : 0;
}

static size_t folded_floats(const dn_layer *layer, const dn_fusion *fusion)
{
    return fusion->fold ? layer->params[0].size + layer->params[1].size : 0;
}

static size_t conv_reserve_bytes(const dn_layer *layer, const dn_fusion *fusion, int batch)
{
    dn_conv2d_dims d = layer_dims(layer, batch);
    size_t pooled = pooled_floats(layer, fusion, batch);
    size_t floats = dn_conv2d_workspace_size(&d) + pooled + (pooled ? (size_t)batch * d.out_c : 0) +
                    folded_floats(layer, fusion);
    return floats * sizeof(float);
}

static void conv_release(dn_layer *layer)
{
    conv_config *c = layer->config;
    dn_free(c->workspace);
    dn_free(c->argmax);
    dn_free(c->bias_sums);
    dn_free(c->folded_weight);
    c->workspace = NULL;
    c->argmax = NULL;
    c->bias_sums = NULL;
    c->folded_weight = c->folded_bias = NULL;
    c->transformed_generation = c->folded_generation = 0;
    c->capacity = 0;
}

static dn_status conv_reserve(dn_layer *layer, const dn_fusion *fusion, int batch)
{
    conv_config *c = layer->config;
    dn_conv2d_dims d = layer_dims(layer, batch);
    size_t pooled = pooled_floats(layer, fusion, batch);
    float *workspace = dn_alloc(dn_conv2d_workspace_size(&d) * sizeof(float));
    int32_t *argmax = pooled ? dn_alloc(pooled * sizeof *argmax) : NULL;
    float *sums = pooled ? dn_alloc((size_t)batch * d.out_c * sizeof *sums) : NULL;
    size_t folded = folded_floats(layer, fusion);
    float *folded_weight = folded ? dn_alloc(folded * sizeof(float)) : NULL;
    if (!workspace || (pooled && (!argmax || !sums)) || (folded && !folded_weight)) {
        dn_free(workspace);
        dn_free(argmax);
        dn_free(sums);
        dn_free(folded_weight);
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate the convolution workspace", layer->name);
    }
    conv_release(layer);
    c->workspace = workspace;
    c->argmax = argmax;
    c->bias_sums = sums;
    c->folded_weight = folded_weight;
    c->folded_bias = folded ? folded_weight + layer->params[0].size : NULL;
    c->capacity = batch;
    return DN_OK;
}

/* Whether the workspace holds Winograd's transform of the current weights,
 * making it if not. The transform survives from call to call while the
 * net's weight generation stays the same; one image after another would
 * otherwise spend a fifth of its time transforming weights that have not
 * changed. */
static bool transformed_weights_ready(dn_layer *layer, const dn_conv2d_dims *d, const float *weight, bool folded,
                                      uint64_t generation)
{
    conv_config *c = layer->config;
    if (!dn_conv2d_uses_winograd(d))
        return false;
    if (c->transformed_generation != generation || c->transformed_folded != folded) {
        dn_winograd_weight_forward(c->workspace, weight, d);
        c->transformed_generation = generation;
        c->transformed_folded = folded;
    }
    return true;
}

/* The weights and bias with the batchnorm after the conv folded in, made
 * again when the weights or the batchnorm's statistics have changed. */
static void fold_batchnorm(dn_layer *layer, const dn_layer *batchnorm, uint64_t generation)
{
    conv_config *c = layer->config;
    if (c->folded_generation == generation)
        return;
    dn_batchnorm_fold(batchnorm, layer->values[0], layer->values[1], layer->params[0].size / (size_t)c->out_channels,
                      c->folded_weight, c->folded_bias);
    c->folded_generation = generation;
}

static void conv_forward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *out,
                         const float *in)
{
    conv_config *c = layer->config;
    dn_conv2d_dims d = layer_dims(layer, call->n);
    if (fusion->fold && call->fold) { /* evaluation: conv, batchnorm and maybe its relu in one */
        fold_batchnorm(layer, fusion->fold, call->generation);
        bool ready = transformed_weights_ready(layer, &d, c->folded_weight, true, call->generation);
        dn_conv2d_run_forward(out, NULL, in, c->folded_weight, c->folded_bias, c->workspace, &d, fusion->fold_relu,
                              ready);
        return;
    }
    bool ready = transformed_weights_ready(layer, &d, layer->values[0], false, call->generation);
    dn_conv2d_run_forward(out, fusion->pool ? c->argmax : NULL, in, layer->values[0], layer->values[1],
                          c->workspace, &d, fusion->relu, ready);
}

static void conv_backward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *din,
                          float *dout, const float *in, const float *out)
{
    conv_config *c = layer->config;
    dn_conv2d_dims d = layer_dims(layer, call->n);
    if (fusion->relu && !fusion->relu_grad_done && !fusion->pool)
        dn_relu_mask(dout, out, (size_t)call->n * dn_sample_size(layer->out_shape));
    bool ready = din && transformed_weights_ready(layer, &d, layer->values[0], false, call->generation);
    dn_conv2d_pooled pooled = {.pooled = out, .argmax = c->argmax, .bias_sums = c->bias_sums};
    float *dbias = fusion->bias_grad_done ? NULL : layer->grads[1];
    dn_conv2d_run_backward(din, layer->grads[0], dbias, dout, in, layer->values[0], c->workspace, &d, ready,
                           fusion->relu_input_grad, fusion->pool ? &pooled : NULL);
}

/* The bias gradient is the output gradient summed per channel, in the order
 * of dn_conv2d_run_backward's: the layer after may add it (a batchnorm). */
static float *conv_channel_bias_grad(const dn_layer *layer) { return layer->grads[1]; }

/* ONNX: Conv with the same kernel, stride and padding on every side. */
static dn_status conv_onnx(const dn_layer *layer, dn_onnx_graph *g)
{
    const conv_config *c = layer->config;
    char weight[DN_ONNX_NAME_MAX], bias[DN_ONNX_NAME_MAX];
    dn_onnx_param(g, layer, 0, weight);
    dn_onnx_param(g, layer, 1, bias);
    dn_onnx_node(g, "Conv", 4, 4, (const char *const[]){weight, bias}, 2);
    dn_onnx_attr_ints(g, "kernel_shape", (const int64_t[]){c->kernel_h, c->kernel_w}, 2);
    dn_onnx_attr_ints(g, "strides", (const int64_t[]){c->stride, c->stride}, 2);
    dn_onnx_attr_ints(g, "pads", (const int64_t[]){c->pad, c->pad, c->pad, c->pad}, 4);
    return dn_onnx_status(g);
}

const dn_layer_kind dn_conv_kind = {
    .name = "conv",
    .usage = "conv OUT K [stride=S] [pad=P]",
    .param_prefix = "conv",
    .config_size = sizeof(conv_config),
    .parse = conv_parse,
    .format = conv_format,
    .configure = conv_configure,
    .can_fuse_relu = conv_can_fuse_relu,
    .can_fuse_pool = conv_can_fuse_pool,
    .can_do_relu_input_grad = conv_can_do_relu_input_grad,
    .can_fold_batchnorm = conv_can_fold_batchnorm,
    .channel_bias_grad = conv_channel_bias_grad,
    .reserve_bytes = conv_reserve_bytes,
    .reserve = conv_reserve,
    .release = conv_release,
    .forward = conv_forward,
    .backward = conv_backward,
    .onnx = conv_onnx,
};
