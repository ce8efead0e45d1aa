/* layer.h - the private layer object dn_net is a sequence of.
 * Each layer file (conv2d.c, linear.c, ...) fills in a dn_layer_ops table;
 * net.c only talks to layers through it. */
#ifndef DN_LAYER_H
#define DN_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/ops.h"
#include "digitnet/rng.h"
#include "digitnet/status.h"

typedef struct dn_layer dn_layer;

/* One learnable tensor of a layer: where it sits in the net's flat buffers. */
typedef struct dn_layer_param {
    const char *suffix; /* "weight" or "bias" */
    int ndim;
    int shape[4];
    size_t offset;      /* in floats, into dn_net's params/grads */
    size_t size;
    size_t fan_in;      /* for PyTorch's default initialisation */
} dn_layer_param;

typedef struct dn_layer_ops {
    const char *kind;
    /* True for layers that only reinterpret their input (flatten): the net
     * aliases their output to their input and never calls forward/backward. */
    bool is_view;
    /* True for layers that pass their input through unchanged in evaluation
     * mode (dropout): the net then aliases instead of calling forward. */
    bool identity_in_eval;
    /* From in_shape and the configuration, sets out_shape and params[];
     * fails with a message when the configuration does not fit the input. */
    dn_status (*configure)(dn_layer *layer);
    /* Makes the caches ready for batches of up to `batch` samples. */
    dn_status (*reserve)(dn_layer *layer, int batch);
    /* Bytes reserve(layer, batch) allocates, for the net's memory budget
     * (computed before anything is allocated). NULL: nothing. */
    size_t (*reserve_bytes)(const dn_layer *layer, int batch);
    void (*forward)(dn_layer *layer, float *out, const float *in, int n, bool training,
                    dn_rng *rng);
    /* din may be NULL; parameter gradients accumulate. dout may be
     * overwritten (a folded relu masks it in place). */
    void (*backward)(dn_layer *layer, float *din, float *dout, const float *in, const float *out,
                     int n);
    /* Optional: whether the layer (with a fused relu) takes on the max-pool
     * `pool` that follows the relu, computing the pooled output itself from
     * now on (then its output and output gradient have the pool's shape). */
    bool (*absorb_pool)(dn_layer *layer, const dn_layer *pool);
} dn_layer_ops;

struct dn_layer {
    const dn_layer_ops *ops;
    char name[16];              /* "conv1", "fc2"; "" for layers without parameters */
    int in_shape[3];            /* C, H, W of one sample (features, 1, 1 for vectors) */
    int out_shape[3];

    /* configuration from the spec */
    int units;                  /* conv: out channels; linear: out features */
    int kernel_h, kernel_w, stride, pad;
    float drop_prob;

    /* A conv or linear layer directly followed by relu computes the relu
     * itself (fuse_relu); that relu layer is then `folded`: the net aliases
     * its buffers like a view and never calls it. */
    bool fuse_relu;
    bool folded;
    /* A fused relu followed by a max-pool or a conv: that layer's backward
     * pass zeroes the gradient of non-positive inputs on the way
     * (relu_before), which is the relu's backward pass, so the layer with
     * the relu skips its own (relu_by_next). */
    bool relu_by_next;
    bool relu_before;
    /* A layer that computes the relu and max-pool after it itself (see
     * absorb_pool); that max-pool is then folded like the relu. */
    bool fuse_pool;

    int param_count;            /* 0 or 2 */
    dn_layer_param params[2];
    float *weight, *bias;       /* views into the net's buffers, set by net.c */
    float *dweight, *dbias;

    /* caches owned by the layer, sized for `capacity` samples */
    int capacity;
    int32_t *argmax;            /* maxpool, conv with fuse_pool */
    bool argmax_stale;          /* maxpool: the last forward (evaluation) did not set it */
    float *mask;                /* dropout */
    float *workspace;           /* conv */
    /* conv (Winograd): the weights the workspace's transformed weights were
     * made from, and whether it holds any yet */
    float *transformed_from;
    bool transformed_valid;
    float *bias_sums;           /* conv with fuse_pool: per image and channel */
};

extern const dn_layer_ops dn_conv2d_layer_ops;
extern const dn_layer_ops dn_maxpool2d_layer_ops;
extern const dn_layer_ops dn_linear_layer_ops;
extern const dn_layer_ops dn_relu_layer_ops;
extern const dn_layer_ops dn_flatten_layer_ops;
extern const dn_layer_ops dn_dropout_layer_ops;

/* Frees a layer's caches (not its parameters, which the net owns). */
void dn_layer_release(dn_layer *layer);

/* Number of floats in one sample of a C,H,W shape. */
static inline size_t dn_sample_size(const int shape[3])
{
    return (size_t)shape[0] * shape[1] * shape[2];
}

#endif
