/* digitnet/ops.h - the layer kernels: plain functions over float arrays.
 *
 * These are the building blocks dn_net uses, public so a program can run a
 * single layer on its own buffers. Conventions (after llm.c):
 *  - outputs first, then inputs, then caches the backward needs, then sizes;
 *  - gradient arrays start with d; every tensor is float32, NCHW, contiguous;
 *  - forward overwrites its output; backward OVERWRITES the input gradient
 *    (din) and ACCUMULATES (+=) into parameter gradients (dweight, dbias), so
 *    gradients of several batches add up until the caller zeroes them;
 *  - din may be NULL when the caller does not need it (the first layer);
 *  - kernels allocate nothing: buffers a kernel needs are passed in, with a
 *    _workspace_size function saying how many floats;
 *  - kernels may run OpenMP threads, and give bit-identical results for every
 *    thread count (fixed reduction order).
 * None of these functions can fail on valid sizes; they check nothing, so the
 * caller validates shapes (dn_net does). Only dn_conv2d_dims_init returns a
 * status. They own nothing: every pointer is the caller's, read or written
 * during the call only.
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: the kernels keep no state; calls may run at once in any
 * threads as long as no buffer one of them writes is read or written by
 * another (dropout's generator counts as written). */
#ifndef DIGITNET_OPS_H
#define DIGITNET_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/status.h"
#include "digitnet/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- conv2d: out[n,o,y,x] = bias[o] + sum_{c,i,j} weight[o,c,i,j] * in[n,c,y*s+i-p,x*s+j-p] */

typedef struct dn_conv2d_dims {
    int n, in_c, in_h, in_w; /* input  (N, C, H, W) */
    int out_c, kernel_h, kernel_w;
    int stride, pad;         /* same in both directions; zero padding */
    int out_h, out_w;        /* filled by dn_conv2d_dims_init */
} dn_conv2d_dims;

/* Computes out_h/out_w; DN_ERR_SHAPE, with a message, when the
 * configuration is invalid (kernel larger than the padded input, stride < 1,
 * pad < 0, non-positive sizes). */
DN_API dn_status dn_conv2d_dims_init(dn_conv2d_dims *d);

/* Floats of scratch space dn_conv2d_forward/backward need. */
DN_API size_t dn_conv2d_workspace_size(const dn_conv2d_dims *d);

/* out (N,OC,OH,OW); in (N,C,H,W); weight (OC,C,KH,KW); bias (OC) or NULL.
 * With relu, out = max(0, conv + bias): the conv+relu pair in one pass. */
DN_API void dn_conv2d_forward(float *out, const float *in, const float *weight, const float *bias,
                       float *workspace, const dn_conv2d_dims *d, bool relu);

/* din (N,C,H,W) or NULL; dweight, dbias (+=; either may be NULL: not
 * computed); dout (N,OC,OH,OW). */
DN_API void dn_conv2d_backward(float *din, float *dweight, float *dbias, const float *dout,
                        const float *in, const float *weight, float *workspace,
                        const dn_conv2d_dims *d);

/* ---- maxpool2d: out[n,c,y,x] = max_{i,j < k} in[n,c,y*s+i,x*s+j] (no padding) */

/* out and argmax (N,C,OH,OW) with OH = (H-k)/s + 1; argmax holds the index of
 * the winning input element within its (H,W) plane (first maximum wins; a
 * NaN beats every number). Either may be NULL: it is then not written. */
DN_API void dn_maxpool2d_forward(float *out, int32_t *argmax, const float *in, int n, int c, int h,
                          int w, int kernel, int stride);

/* din (N,C,H,W) = dout routed to the argmax positions (overwrites din). */
DN_API void dn_maxpool2d_backward(float *din, const float *dout, const int32_t *argmax, int n, int c,
                           int h, int w, int kernel, int stride);

/* ---- linear: out[n,o] = bias[o] + sum_i weight[o,i] * in[n,i] (PyTorch's [out,in] layout) */

/* With relu, out = max(0, linear): the linear+relu pair in one pass. */
DN_API void dn_linear_forward(float *out, const float *in, const float *weight, const float *bias, int n,
                       int in_features, int out_features, bool relu);

/* din (N,I) or NULL; dweight (O,I) and dbias (O) accumulate; either may be
 * NULL: not computed. */
DN_API void dn_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                        const float *in, const float *weight, int n, int in_features,
                        int out_features);

/* ---- relu: out = max(0, in); din = dout where out > 0, else 0 */

/* out[i] = max(0, in[i]) for i < count; out may be in (in place). */
DN_API void dn_relu_forward(float *out, const float *in, size_t count);

/* din[i] = out[i] > 0 ? dout[i] : 0, from the forward's output; din may be
 * dout. */
DN_API void dn_relu_backward(float *din, const float *dout, const float *out, size_t count);

/* ---- dropout (inverted): in training out = in * mask with mask = 0 with
 * probability p, else 1/(1-p); in evaluation out = in. The mask is drawn from
 * rng in element order, so it does not depend on the thread count. */

/* Training-mode dropout of count elements: mask gets 0 or 1/(1-p) for each
 * (p in [0, 1), taken to the nearest multiple of 1/65536), out = in * mask;
 * out may be in. rng advances by one draw per 4 elements. */
DN_API void dn_dropout_forward(float *out, float *mask, const float *in, size_t count, float p,
                        dn_rng *rng);

/* din = dout * mask (the forward's mask); din may be dout. */
DN_API void dn_dropout_backward(float *din, const float *dout, const float *mask, size_t count);

/* ---- batch normalisation over the channels of (n, c, s) data, s = H*W (1
 * after a linear layer), PyTorch's BatchNorm1d/2d:
 *   y = (x - mean_c) / sqrt(var_c + eps) * gamma_c + beta_c
 * In training mean_c and var_c are the batch's (var biased, over n*s
 * values), saved for the backward pass as mean and 1/sqrt(var + eps), and
 * the running statistics move by momentum: r = (1 - momentum) r + momentum
 * stat, with the unbiased variance. In evaluation the running statistics
 * are used.
 * Training forward: out (n, c, s) from in; writes saved_mean and
 * saved_inv_std (c each) and moves running_mean and running_var (c each). */
DN_API void dn_batchnorm_forward_train(float *out, float *saved_mean, float *saved_inv_std, float *running_mean,
                                       float *running_var, const float *in, const float *gamma, const float *beta,
                                       int n, int c, int s, float momentum, float eps);

/* Evaluation forward: out (n, c, s) normalised with the running statistics,
 * which are only read. */
DN_API void dn_batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                                      const float *running_mean, const float *running_var, int n, int c, int s,
                                      float eps);
/* din (if not NULL) = dL/dx; dgamma and dbeta accumulate (either may be
 * NULL: not computed). mean and inv_std
 * are what the forward pass normalised with: the batch's (saved, with
 * batch_statistics) or the running ones (mean = running_mean, inv_std =
 * 1/sqrt(running_var + eps)), which do not depend on x. */
DN_API void dn_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                                  const float *gamma, const float *mean, const float *inv_std,
                                  bool batch_statistics, int n, int c, int s);

/* Index of the largest of values[0..count), the first of equal ones: the
 * predicted class of a row of logits or probabilities. */
DN_API int dn_argmax(const float *values, int count);

/* ---- softmax and cross-entropy over rows of `classes` logits */

/* probs[n,k] = exp(logits[n,k] - max) / sum_j exp(logits[n,j] - max). */
DN_API void dn_softmax_forward(float *probs, const float *logits, int n, int classes);

/* Weight of the loss of a sample labelled DN_LABEL_NONE (Outlier Exposure,
 * Hendrycks et al. 2019, use 0.5). */
#define DN_NONE_WEIGHT 0.5f

/* Mean over the batch of -log softmax(logits)[label], computed stably with
 * log-sum-exp; also writes probs. labels are 0 <= label < classes, or
 * DN_LABEL_NONE (digitnet/idx.h) for a sample of no class, whose loss is
 * DN_NONE_WEIGHT times the cross-entropy against equal probabilities,
 * -(1/classes) sum_k log softmax(logits)[k]: it teaches the network to be
 * unsure of what belongs to no class. */
DN_API float dn_cross_entropy_forward(float *probs, const float *logits, const uint8_t *labels, int n,
                               int classes);

/* dlogits = (probs - onehot(label)) / n: the gradient of the mean loss; for
 * a DN_LABEL_NONE sample DN_NONE_WEIGHT * (probs - 1/classes) / n. */
DN_API void dn_cross_entropy_backward(float *dlogits, const float *probs, const uint8_t *labels, int n,
                               int classes);

#ifdef __cplusplus
}
#endif
#endif
