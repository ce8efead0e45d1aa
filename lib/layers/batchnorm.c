/* batchnorm.c - the batchnorm layer: "batchnorm [momentum=M] [eps=E]",
 * PyTorch's BatchNorm2d after a conv (per channel over N, H, W) and
 * BatchNorm1d after a linear layer (per feature over N), with its tensors
 * named as PyTorch names them: weight, bias, running_mean, running_var,
 * num_batches_tracked. Training normalises with the batch's statistics and
 * updates the running ones; evaluation uses the running ones. It can
 * compute the relu after it, in the same pass, and in its backward pass the
 * bias gradient of the conv before it (kernels/batchnorm.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "digitnet/ops.h"
#include "batchnorm.h"
#include "internal.h"
#include "layers/kinds.h"
#include "number.h"
#include "onnx_graph.h"

typedef struct batchnorm_config {
    float momentum, eps;
    /* what the last forward normalised with, for the backward pass */
    float *mean, *inv_std;  /* [channels] */
    bool batch_statistics;  /* the last forward was in training mode */
} batchnorm_config;

enum { WEIGHT, BIAS, RUNNING_MEAN, RUNNING_VAR, BATCHES };

/* A number in (0, 1], or (0, 1) without allow_one, checked as the float
 * it is stored as: 1e-60 would become 0 and 0.9999999999 would become 1. */
static bool parse_unit_interval(const char *text, float *value, bool allow_one)
{
    double v;
    if (!dn_parse_double(text, &v))
        return false;
    float f = (float)v;
    if (!(f > 0.0f) || f > 1.0f || (!allow_one && f == 1.0f))
        return false;
    *value = f;
    return true;
}

static dn_status batchnorm_parse(dn_layer *layer, char *const *args, int count)
{
    batchnorm_config *c = layer->config;
    c->momentum = 0.1f; /* PyTorch's defaults */
    c->eps = 1e-5f;
    for (int i = 0; i < count; i++) {
        const char *word = args[i];
        bool ok = strncmp(word, "momentum=", 9) == 0 ? parse_unit_interval(word + 9, &c->momentum, true)
                  : strncmp(word, "eps=", 4) == 0    ? parse_unit_interval(word + 4, &c->eps, false)
                                                     : false;
        if (!ok)
            return dn_fail(DN_ERR_FORMAT, "spec: batchnorm: unknown or bad option '%s' (%s, M in (0, 1], E in (0, 1))",
                           word, dn_batchnorm_kind.usage);
    }
    return DN_OK;
}

/* key and the fewest digits that read back as the same float ("0.2", not
 * "0.200000003"), so specs stay short and round trips exact. */
static void shortest(const char *key, float value, char *text, size_t capacity)
{
    for (int digits = 6; digits <= 9; digits++) {
        dn_snprintf(text, capacity, "%s%.*g", key, digits, (double)value);
        double back;
        if (dn_parse_double(text + strlen(key), &back) && (float)back == value)
            return;
    }
}

static int batchnorm_format(const dn_layer *layer, char *text, size_t capacity)
{
    const batchnorm_config *c = layer->config;
    char momentum[32] = "", eps[32] = "";
    if (c->momentum != 0.1f)
        shortest("momentum=", c->momentum, momentum, sizeof momentum);
    if (c->eps != 1e-5f)
        shortest("eps=", c->eps, eps, sizeof eps);
    return snprintf(text, capacity, "%s%s%s", momentum, momentum[0] && eps[0] ? " " : "", eps);
}

static dn_status batchnorm_configure(dn_layer *layer)
{
    const int channels = layer->in_shape[0];
    memcpy(layer->out_shape, layer->in_shape, sizeof layer->out_shape);
    layer->param_count = 5;
    const dn_layer_param vector = {.ndim = 1, .shape = {channels}, .size = (size_t)channels};
    layer->params[WEIGHT] = vector;
    layer->params[WEIGHT].suffix = "weight";
    layer->params[WEIGHT].init = DN_INIT_ONE;
    layer->params[BIAS] = vector;
    layer->params[BIAS].suffix = "bias";
    layer->params[BIAS].init = DN_INIT_ZERO;
    layer->params[RUNNING_MEAN] = vector;
    layer->params[RUNNING_MEAN].suffix = "running_mean";
    layer->params[RUNNING_MEAN].init = DN_INIT_ZERO;
    layer->params[RUNNING_MEAN].buffer = true;
    layer->params[RUNNING_VAR] = vector;
    layer->params[RUNNING_VAR].suffix = "running_var";
    layer->params[RUNNING_VAR].init = DN_INIT_ONE;
    layer->params[RUNNING_VAR].buffer = true;
    layer->params[BATCHES] = (dn_layer_param){.suffix = "num_batches_tracked", .ndim = 0, .size = 1,
                                              .init = DN_INIT_ZERO, .buffer = true};
    return DN_OK;
}

static bool batchnorm_can_fuse_relu(const dn_layer *layer)
{
    (void)layer;
    return true;
}

static size_t batchnorm_reserve_bytes(const dn_layer *layer, const dn_fusion *fusion, int batch)
{
    (void)fusion;
    (void)batch;
    return 2 * (size_t)layer->in_shape[0] * sizeof(float);
}

static void batchnorm_release(dn_layer *layer)
{
    batchnorm_config *c = layer->config;
    dn_free(c->mean);
    dn_free(c->inv_std);
    c->mean = c->inv_std = NULL;
}

static dn_status batchnorm_reserve(dn_layer *layer, const dn_fusion *fusion, int batch)
{
    (void)fusion;
    (void)batch;
    batchnorm_config *c = layer->config;
    batchnorm_release(layer);
    c->mean = dn_alloc((size_t)layer->in_shape[0] * sizeof(float));
    c->inv_std = dn_alloc((size_t)layer->in_shape[0] * sizeof(float));
    if (!c->mean || !c->inv_std) {
        batchnorm_release(layer);
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate its statistics", layer->name);
    }
    return DN_OK;
}

static void batchnorm_forward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *out,
                              const float *in)
{
    batchnorm_config *c = layer->config;
    const int channels = layer->in_shape[0], plane = layer->in_shape[1] * layer->in_shape[2];
    float *const *v = layer->values;
    if (call->training) {
        dn_batchnorm_relu_forward_train(out, c->mean, c->inv_std, v[RUNNING_MEAN], v[RUNNING_VAR], in, v[WEIGHT],
                                        v[BIAS], call->n, channels, plane, c->momentum, c->eps, fusion->relu);
        v[BATCHES][0] += 1.0f;
    } else {
        dn_batchnorm_relu_forward_eval(out, in, v[WEIGHT], v[BIAS], v[RUNNING_MEAN], v[RUNNING_VAR], call->n,
                                       channels, plane, c->eps, fusion->relu);
        for (int ch = 0; ch < channels; ch++) {
            c->mean[ch] = v[RUNNING_MEAN][ch];
            c->inv_std[ch] = 1.0f / sqrtf(v[RUNNING_VAR][ch] + c->eps);
        }
    }
    c->batch_statistics = call->training;
}

static void batchnorm_backward(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *din,
                               float *dout, const float *in, const float *out)
{
    batchnorm_config *c = layer->config;
    if (fusion->relu && !fusion->relu_grad_done)
        dn_relu_mask(dout, out, (size_t)call->n * dn_sample_size(layer->out_shape));
    /* the conv before's bias gradient, from din while each plane is in cache */
    float *din_sums = fusion->bias_grad_of ? fusion->bias_grad_of->kind->channel_bias_grad(fusion->bias_grad_of)
                                           : NULL;
    dn_batchnorm_backward_sums(din, din_sums, layer->grads[WEIGHT], layer->grads[BIAS], dout, in,
                               layer->values[WEIGHT], c->mean, c->inv_std, c->batch_statistics, call->n,
                               layer->in_shape[0], layer->in_shape[1] * layer->in_shape[2]);
}

static bool batchnorm_can_sum_input_grad(const dn_layer *layer)
{
    (void)layer;
    return true;
}

bool dn_is_batchnorm(const dn_layer *layer) { return layer->kind == &dn_batchnorm_kind; }

void dn_batchnorm_fold(const dn_layer *bn, const float *weight, const float *bias, size_t per_channel,
                       float *folded_weight, float *folded_bias)
{
    const batchnorm_config *c = bn->config;
    float *const *v = bn->values;
    for (int ch = 0; ch < bn->in_shape[0]; ch++) {
        float scale = v[WEIGHT][ch] / sqrtf(v[RUNNING_VAR][ch] + c->eps);
        for (size_t k = 0; k < per_channel; k++)
            folded_weight[(size_t)ch * per_channel + k] = weight[(size_t)ch * per_channel + k] * scale;
        folded_bias[ch] = ((bias ? bias[ch] : 0.0f) - v[RUNNING_MEAN][ch]) * scale + v[BIAS][ch];
    }
}

/* ONNX: BatchNormalization in inference mode, with the running statistics
 * (on [N, C, H, W] after a conv, [N, C] after a linear layer). */
static dn_status batchnorm_onnx(const dn_layer *layer, dn_onnx_graph *g)
{
    const batchnorm_config *c = layer->config;
    char names[4][DN_ONNX_NAME_MAX];
    for (int p = WEIGHT; p <= RUNNING_VAR; p++)
        dn_onnx_param(g, layer, p, names[p]);
    dn_onnx_node(g, "BatchNormalization", 0, 0, (const char *const[]){names[0], names[1], names[2], names[3]}, 4);
    dn_onnx_attr_float(g, "epsilon", c->eps);
    dn_onnx_attr_float(g, "momentum", 1.0f - c->momentum);
    return dn_onnx_status(g);
}

const dn_layer_kind dn_batchnorm_kind = {
    .name = "batchnorm",
    .usage = "batchnorm [momentum=M] [eps=E]",
    .param_prefix = "bn",
    .config_size = sizeof(batchnorm_config),
    .parse = batchnorm_parse,
    .format = batchnorm_format,
    .configure = batchnorm_configure,
    .can_fuse_relu = batchnorm_can_fuse_relu,
    .can_sum_input_grad = batchnorm_can_sum_input_grad,
    .reserve_bytes = batchnorm_reserve_bytes,
    .reserve = batchnorm_reserve,
    .release = batchnorm_release,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
    .onnx = batchnorm_onnx,
};
