/* layer.h - what a layer kind is: one file in lib/layers/ that keeps its
 * settings and caches in a struct of its own and fills in one dn_layer_kind
 * table; lib/layers/registry.c lists the kinds. net.c, the spec parser and
 * the fusion plan (plan.c) only ever talk to layers through this table.
 * Adding a layer kind: docs/design.md, "Adding a layer". */
#ifndef DN_LAYER_H
#define DN_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/rng.h"
#include "digitnet/status.h"

typedef struct dn_layer dn_layer;
typedef struct dn_onnx_graph dn_onnx_graph; /* onnx_graph.h */

enum { DN_LAYER_MAX_PARAMS = 5 };

/* How a tensor starts out (dn_net_init_params): PyTorch's default for
 * weights and biases, uniform in +-1/sqrt(fan_in), or a constant. */
typedef enum dn_layer_init { DN_INIT_FAN_IN, DN_INIT_ZERO, DN_INIT_ONE } dn_layer_init;

/* One tensor of a layer, saved in model files as "<layer name>.<suffix>":
 * a learnable parameter (in the net's params and grads), or, with
 * `buffer`, state the layer updates itself and no optimizer touches (a
 * batchnorm's running statistics, in the net's buffers). */
typedef struct dn_layer_param {
    const char *suffix; /* "weight", "bias", "running_mean" */
    int ndim;           /* 0 for a scalar */
    int shape[4];
    size_t offset;      /* in floats, into the net's params/grads or buffers; set by net.c */
    size_t size;
    size_t fan_in;      /* for DN_INIT_FAN_IN */
    dn_layer_init init;
    bool buffer;
} dn_layer_param;

/* What the fusion plan (plan.c) asks of a layer's step besides the layer's
 * own computation. A kind only ever sees the requests its capabilities
 * allowed (dn_layer_kind's can_* functions). */
typedef struct dn_fusion {
    /* forward: apply a relu to the output (the relu layer after this one is
     * folded into the step) */
    bool relu;
    /* forward: the output is this max-pool of the relu'd output, which the
     * step computes too (then the step's output has the pool's shape) */
    const dn_layer *pool;
    /* backward: the output gradient arrives already zero where the relu'd
     * output is 0, because the next step did the relu's backward pass */
    bool relu_grad_done;
    /* backward: zero the input gradient where the input is not > 0: the
     * backward pass of the relu that made the input, done on the way */
    bool relu_input_grad;
    /* backward: also add the input gradient's sum over each channel (per
     * image dn_sum over the plane, then the images in order) to this
     * layer's per-channel bias gradient (its channel_bias_grad): the step
     * before, whose output this step's input is, then skips that pass over
     * its output gradient, which this step has just written (a batchnorm
     * after a conv) */
    const dn_layer *bias_grad_of;
    /* backward: the bias gradient is added by the next step (bias_grad_of) */
    bool bias_grad_done;
    /* evaluation (call->fold): this batchnorm, the layer right after, is
     * folded into the layer's weights, and so is the relu after the
     * batchnorm when fold_relu */
    const dn_layer *fold;
    bool fold_relu;
    /* evaluation (call->fold): this step's layer is folded into the step
     * before, so the step only passes its input on */
    bool folded_away;
} dn_fusion;

/* One call of a step. */
typedef struct dn_layer_call {
    int n;                /* samples */
    bool training;
    dn_rng *rng;          /* dropout's generator */
    uint64_t generation;  /* the net's weight generation: changes whenever
                             the parameters or a batchnorm's running
                             statistics may have changed (caches of
                             transformed or folded weights compare it) */
    bool fold;            /* evaluation with batchnorms folded (dn_fusion) */
} dn_layer_call;

typedef struct dn_layer_kind {
    const char *name;         /* the spec keyword: "conv" */
    const char *usage;        /* for messages: "conv OUT K [stride=S] [pad=P]" */
    const char *param_prefix; /* layers with parameters are named prefix1, prefix2, ... ("fc"); NULL: none */
    size_t config_size;       /* bytes of the kind's private struct (layer->config) */
    /* Only reinterprets its input (flatten): its output aliases its input
     * and it is never called. */
    bool is_view;
    /* Passes its input through unchanged in evaluation (dropout): aliased then. */
    bool identity_in_eval;

    /* Reads the words after the keyword into layer->config (zeroed);
     * DN_ERR_FORMAT with a message naming the problem. */
    dn_status (*parse)(dn_layer *layer, char *const *args, int count);
    /* Writes the canonical words after the keyword ("32 3 stride=2"), ""
     * when there are none; returns what snprintf would. */
    int (*format)(const dn_layer *layer, char *text, size_t capacity);
    /* From in_shape: out_shape, param_count and params[] (sizes, shapes,
     * suffixes); DN_ERR_SHAPE when the input does not fit. */
    dn_status (*configure)(dn_layer *layer);

    /* Capabilities the fusion plan may use; NULL means no. */
    bool (*can_fuse_relu)(const dn_layer *layer);
    bool (*can_fuse_pool)(const dn_layer *layer, const dn_layer *pool);
    bool (*can_do_relu_input_grad)(const dn_layer *layer);
    bool (*can_fold_batchnorm)(const dn_layer *layer, const dn_layer *batchnorm);
    /* The gradient of a bias added to each output channel, which is the
     * output gradient summed over each channel (per image dn_sum over the
     * plane, then the images in order), or NULL when it is not computed (a
     * probe's view); a kind without this entry has no such bias. */
    float *(*channel_bias_grad)(const dn_layer *layer);
    /* Whether its backward can compute that sum of its input gradient for
     * the layer before (dn_fusion.bias_grad_of). */
    bool (*can_sum_input_grad)(const dn_layer *layer);

    /* Bytes reserve() allocates for batches of `batch`, from the shapes
     * alone (the net's memory budget); NULL: nothing. */
    size_t (*reserve_bytes)(const dn_layer *layer, const dn_fusion *fusion, int batch);
    /* Makes the caches ready for batches of up to `batch` samples; NULL: none. */
    dn_status (*reserve)(dn_layer *layer, const dn_fusion *fusion, int batch);
    /* Frees the caches (not the configuration); NULL: none. */
    void (*release)(dn_layer *layer);

    void (*forward)(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *out,
                    const float *in);
    /* din may be NULL (the net's input needs no gradient); parameter
     * gradients accumulate, into grads[p], and are not computed where
     * grads[p] is NULL (a probe's view of a net, lib/net/probe.c). dout
     * may be overwritten. */
    void (*backward)(dn_layer *layer, const dn_fusion *fusion, const dn_layer_call *call, float *din,
                     float *dout, const float *in, const float *out);

    /* Writes the layer, as it computes in evaluation, into an ONNX graph
     * (lib/formats/onnx_graph.h); NULL: the kind has no ONNX form and
     * exporting a net with it fails (DN_ERR_UNSUPPORTED). */
    dn_status (*onnx)(const dn_layer *layer, dn_onnx_graph *g);
} dn_layer_kind;

struct dn_layer {
    const dn_layer_kind *kind;
    void *config;               /* the kind's private struct, config_size bytes, owned */
    char name[16];              /* "conv1", "fc2"; "" for layers without parameters */
    int in_shape[3];            /* C, H, W of one sample (features, 1, 1 for vectors) */
    int out_shape[3];
    int param_count;
    dn_layer_param params[DN_LAYER_MAX_PARAMS];
    float *values[DN_LAYER_MAX_PARAMS]; /* views into the net's flat buffers, set by net.c */
    float *grads[DN_LAYER_MAX_PARAMS];  /* NULL for buffers, and in a probe's view */
};

/* The registry (lib/layers/registry.c): the kind with this keyword, or NULL. */
const dn_layer_kind *dn_layer_kind_find(const char *name);
/* Writes "conv, maxpool, linear, ..." into text[0..capacity), for messages. */
void dn_layer_kind_names(char *text, size_t capacity);

/* Frees a layer's caches and configuration. */
void dn_layer_destroy(dn_layer *layer);

/* Number of floats in one sample of a C,H,W shape. */
static inline size_t dn_sample_size(const int shape[3])
{
    return (size_t)shape[0] * shape[1] * shape[2];
}

#endif
