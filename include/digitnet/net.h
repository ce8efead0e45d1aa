/* digitnet/net.h - a network: a sequence of layers built from a text spec.
 *
 * Usage:
 *     dn_net *net;
 *     if (dn_net_new(&net, "cnn", 42) != DN_OK) { puts(dn_last_error()); ... }
 *     dn_net_zero_grad(net);
 *     dn_net_forward(net, images, 64, true);          // images: 64 x 1x28x28
 *     float loss;
 *     dn_net_backward(net, labels, &loss, NULL);      // grads += d loss / d params
 *     dn_optim_step(opt, dn_net_params(net), dn_net_grads(net), dn_net_param_count(net), lr);
 *     dn_net_free(net);
 *
 * Spec grammar: statements separated by ';' or newlines, words by spaces.
 *     input CxHxW                     first statement; e.g. input 1x28x28
 *     conv OUT K[xK] [stride=S] [pad=P]   2-D convolution, OUT channels, K x K kernel
 *     maxpool K [stride=S]            max pooling, stride defaults to K
 *     linear OUT                      fully connected (input must be flat)
 *     relu | flatten
 *     dropout P                       drop probability P in [0, 1)
 *     batchnorm [momentum=M] [eps=E]  batch normalisation per channel (after a
 *                                     conv) or feature (after a linear layer);
 *                                     PyTorch's defaults 0.1 and 1e-5
 * The last layer's outputs are the class logits. Convolutions are named
 * conv1, conv2, ..., linear layers fc1, fc2, ... and batchnorms bn1, bn2, ...
 * in order, so tensor names match PyTorch's ("conv1.weight", "fc2.bias",
 * "bn1.running_var").
 * Presets (pass the name instead of a spec):
 *     mlp          input 1x28x28; flatten; linear 128; relu; linear 256; relu; linear 10
 *     cnn          input 1x28x28; conv 32 3; relu; conv 64 3; relu; maxpool 2; flatten;
 *                  linear 128; relu; linear 10
 *     cnn-dropout  cnn with dropout 0.25 after the pool and 0.5 after fc1
 *     cnn-bn       input 1x28x28; conv 32 3 pad=1; batchnorm; relu; conv 32 3;
 *                  batchnorm; relu; maxpool 2; conv 64 3 pad=1; batchnorm; relu;
 *                  conv 64 3; batchnorm; relu; maxpool 2; flatten; linear 128;
 *                  batchnorm; relu; linear 10 (docs/results.md)
 *
 * Parameters and their gradients each live in one flat float buffer owned by
 * the net (dn_net_params/dn_net_grads), with named views per tensor
 * (dn_net_get_param). Weights are initialised like PyTorch's defaults: every
 * weight and bias uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from
 * the net's own generator seeded by `seed`, layer by layer in order.
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: a net computes with OpenMP threads of its own
 * (dn_net_set_threads, 0 = OpenMP's default), with bit-identical results for
 * every thread count. Calls taking a const dn_net * only read it and may run
 * at the same time; every other call (dn_net_forward and dn_net_predict
 * too, which write the net's activations) needs the net to itself. Two nets
 * are independent. Probes (digitnet/probe.h) read a net's parameters and
 * may run in other threads while it predicts. So a program predicting in
 * several threads gives each its own net (load the model once per thread)
 * or holds a lock around each dn_net_predict on a shared one. */
#ifndef DIGITNET_NET_H
#define DIGITNET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/status.h"
#include "digitnet/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dn_net dn_net;

/* Memory: a net knows, from its spec alone, every byte it will need for a
 * batch (parameters and their gradients, activations and their gradients,
 * each layer's workspace), and refuses to go over its memory limit with
 * DN_ERR_LIMIT and a message saying how much it wanted: dn_net_new (and so
 * dn_model_load) when one sample would not fit, dn_net_forward when a
 * batch would not. The limit is DN_NET_DEFAULT_MEMORY_LIMIT unless the
 * environment variable DN_MEMORY_LIMIT gives another ("512M", "4G", or
 * bytes; read by dn_net_new), and dn_net_set_memory_limit changes it. */
#define DN_NET_DEFAULT_MEMORY_LIMIT ((size_t)1 << 30)

/* Builds a network from a spec or preset name and initialises its weights
 * from seed. *net is the caller's, to release with dn_net_free; NULL on
 * failure. DN_ERR_FORMAT for a bad spec (the message says where),
 * DN_ERR_SHAPE when its layers do not fit together, DN_ERR_LIMIT when it is
 * over the memory limit for one sample, DN_ERR_ARG when DN_MEMORY_LIMIT is
 * set but not a size, DN_ERR_NOMEM. */
DN_API dn_status dn_net_new(dn_net **net, const char *spec, uint64_t seed);

/* Releases net and everything it owns: pointers and views taken from it
 * (spec, logits, parameters, gradients) become invalid, and its probes must
 * be freed first. NULL does nothing. */
DN_API void dn_net_free(dn_net *net);

/* Checks a spec (or preset name) without building the network, and gives
 * the number of parameters it would have; fails as dn_net_new would on a
 * bad spec. Networks are limited to 2^28 parameters and 2^24 floats per
 * sample in any layer's output. */
DN_API dn_status dn_net_spec_param_count(const char *spec, size_t *count);

/* Bytes a net built from spec would need for batches of `batch` samples
 * (see "Memory" above; a batch below 1 counts as 1), without building it.
 * Fails as dn_net_spec_param_count does on a bad spec. */
DN_API dn_status dn_net_spec_memory(const char *spec, int batch, size_t *bytes);

/* The same for a built net (see "Memory" above). */
DN_API size_t dn_net_memory(const dn_net *net, int batch);

/* Sets the most bytes the net may use (see "Memory" above); buffers already
 * allocated are kept, the limit applies to the next growth. */
DN_API void dn_net_set_memory_limit(dn_net *net, size_t bytes);

/* The net's memory limit in bytes. */
DN_API size_t dn_net_memory_limit(const dn_net *net);

/* The spec of a preset name (a static string), or NULL if `name` is not a
 * preset. */
DN_API const char *dn_net_preset(const char *name);

/* Canonical spec text (one statement per layer), owned by the net and valid
 * until dn_net_free. */
DN_API const char *dn_net_spec(const dn_net *net);

/* Writes the input shape of one sample: shape = {C, H, W}. */
DN_API void dn_net_input_shape(const dn_net *net, int shape[3]);

/* Number of classes: the size of the last layer's output. */
DN_API int dn_net_num_classes(const dn_net *net);

/* Number of layers, counting relu, flatten and the like. */
DN_API int dn_net_layer_count(const dn_net *net);

/* The kind of layer i ("conv", "relu", ...), a static string; NULL when
 * i is not a layer. */
DN_API const char *dn_net_layer_kind(const dn_net *net, int i);

/* Writes layer i's input and output shapes (C, H, W of one sample; a flat
 * one is {features, 1, 1}); writes nothing when i is not a layer. */
DN_API void dn_net_layer_shapes(const dn_net *net, int i, int in_shape[3], int out_shape[3]);

/* Threads the net's computations use; 0 (the default) means OpenMP's default,
 * and without OpenMP everything runs on the calling thread. Changes no
 * result. */
DN_API void dn_net_set_threads(dn_net *net, int threads);

/* ---- parameters ---- */

/* A tensor of the net as model files name it: a learnable parameter, or
 * (trainable false) state a layer updates itself, such as a batchnorm's
 * running statistics, which no optimizer touches and which has no grad. */
typedef struct dn_net_param {
    char name[32];      /* "conv1.weight", "bn1.running_var" */
    dn_tensor value;    /* a view into dn_net_params(), or the net's own state */
    dn_tensor grad;     /* a view into dn_net_grads(); empty (data NULL) for state */
    bool trainable;
} dn_net_param;

/* Floats in all learnable parameters (dn_net_params' length). */
DN_API size_t dn_net_param_count(const dn_net *net);

/* The parameters, dn_net_param_count floats, owned by the net (valid until
 * dn_net_free), writable. Caches derived from them (a Winograd conv's
 * transformed weights) are kept while the weights stay the same, which the
 * net knows from being told: dn_net_params and dn_net_get_param count as
 * a change (whoever takes a writable pointer may write), and so does
 * dn_net_mark_params_changed, which is needed after writing through a
 * pointer taken before the net last ran. */
DN_API float *dn_net_params(dn_net *net);

/* Tells the net its parameters were written (see dn_net_params). */
DN_API void dn_net_mark_params_changed(dn_net *net);

/* The gradients, dn_net_param_count floats in the order of dn_net_params,
 * owned by the net (valid until dn_net_free), writable. */
DN_API float *dn_net_grads(dn_net *net);

/* Number of named tensors: parameters and layer state (dn_net_param). */
DN_API int dn_net_param_tensor_count(const dn_net *net);

/* Fills *param with views of tensor i (0 <= i < dn_net_param_tensor_count),
 * in model-file order; the views point into the net and are valid until
 * dn_net_free. Counts as a change of the parameters (dn_net_params).
 * DN_ERR_ARG when there is no tensor i. */
DN_API dn_status dn_net_get_param(dn_net *net, int i, dn_net_param *param);
/* Index of the tensor called name ("fc1.weight"), or -1. */
DN_API int dn_net_find_param(const dn_net *net, const char *name);

/* Re-initialises every tensor as dn_net_new does: weights and biases drawn
 * from a generator seeded by seed, batchnorm scales 1 and shifts 0, running
 * statistics 0 (means) and 1 (variances). */
DN_API void dn_net_init_params(dn_net *net, uint64_t seed);

/* Seeds the generator dropout masks are drawn from. */
DN_API void dn_net_seed_dropout(dn_net *net, uint64_t seed);

/* ---- running ---- */

/* Runs the network on n samples (n * C*H*W floats, NCHW); in training mode
 * dropout is active and batchnorm uses and updates batch statistics. The
 * input is borrowed: it must stay unchanged until dn_net_backward.
 * DN_ERR_ARG for a NULL input or n < 1, DN_ERR_LIMIT when the batch would go
 * over the memory limit, DN_ERR_NOMEM if growing the buffers for a larger n
 * fails. */
DN_API dn_status dn_net_forward(dn_net *net, const float *input, int n, bool training);

/* The logits of the last forward (n x classes), owned by the net and valid
 * until its next forward, predict or free; NULL before any forward. */
DN_API const float *dn_net_logits(const dn_net *net);

/* Softmax cross-entropy of the last forward's logits against labels (each
 * < classes, or DN_LABEL_NONE for a sample of no class: see
 * dn_cross_entropy_forward in digitnet/ops.h), then back-propagation:
 * parameter gradients ACCUMULATE. labels holds n bytes (the last forward's
 * n). Writes the mean loss and, if correct is not NULL, how many argmaxes
 * were right. DN_ERR_ARG before any forward or for a label out of range;
 * DN_ERR_NUMERIC, with nothing accumulated, when a logit is not finite
 * (training diverged); DN_ERR_NOMEM. */
DN_API dn_status dn_net_backward(dn_net *net, const uint8_t *labels, float *loss, int *correct);

/* Sets every parameter gradient to zero. */
DN_API void dn_net_zero_grad(dn_net *net);

/* Evaluation-mode forward and softmax: probs gets n x classes probabilities;
 * capacity is how many floats probs holds (DN_ERR_ARG when fewer than
 * n x classes). DN_ERR_NUMERIC when an output is not finite (weights or
 * input out of range): no probability is then written. Errors of
 * dn_net_forward otherwise. Writes the net's activations (one predict at a
 * time per net). */
DN_API dn_status dn_net_predict(dn_net *net, const float *input, int n, float *probs, size_t capacity);

/* ---- profiling ---- */

/* When on, forward and backward add each layer's wall time to its counters. */
DN_API void dn_net_set_profiling(dn_net *net, bool on);

/* Sets every layer's time counters to zero. */
DN_API void dn_net_reset_profile(dn_net *net);
/* Seconds spent in layer i's forward and backward passes since the reset
 * (0 when i is not a layer). */
DN_API void dn_net_layer_times(const dn_net *net, int i, double *forward_s, double *backward_s);
/* Floating-point operations (a multiply-add counts 2) of layer i for one
 * sample: forward, and backward (weight gradient plus, except for the first
 * layer with parameters, input gradient). 0 for layers without arithmetic
 * worth counting (relu, pooling, dropout, flatten). */
DN_API void dn_net_layer_flops(const dn_net *net, int i, double *forward, double *backward);

#ifdef __cplusplus
}
#endif
#endif
