/* digitnet/probe.h - looking inside a network: the output of every layer for
 * an input, and the gradient of a chosen combination of the class scores
 * with respect to the input (saliency maps, integrated gradients), with no
 * training state touched.
 *
 * Usage:
 *     dn_probe *probe;
 *     if (dn_probe_new(&probe, net) != DN_OK) { puts(dn_last_error()); ... }
 *     dn_probe_run(probe, x, 1);                  // x: 1 x C*H*W, like dn_net_forward
 *     const float *maps;
 *     int shape[3];
 *     dn_probe_layer_output(probe, 1, &maps, shape);  // layer 1 ("relu" after conv1): 32x26x26
 *     float pick[10] = {0};
 *     pick[digit] = 1;                            // d logit[digit] / d x
 *     dn_probe_input_gradient(probe, pick, 10, grad, 784);
 *     dn_probe_free(probe);
 *
 * What a probe computes is the network in evaluation mode, layer by layer:
 * dropout passes its input on, batchnorm uses its running statistics, and
 * no layer is fused with another, so every layer's output exists (a conv
 * whose relu and max-pool the net computes in one step when it predicts
 * has its own output here, and the relu's and the pool's). The logits
 * equal dn_net_predict's up to rounding (the same arithmetic, except that
 * dn_net_predict folds a batchnorm into the conv before it).
 *
 * No training state is touched: the probe reads the net's parameters and
 * running statistics and writes nothing of the net's: no parameter
 * gradient (none is even computed), no running statistic, no dropout
 * generator, no activation or cache of the net. Everything it computes is
 * in buffers of its own, sized for the largest batch it has run and bounded
 * by the net's memory limit (dn_net_set_memory_limit) at dn_probe_new.
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: a probe is used by one thread at a time. Several
 * probes of one net may run at the same time in different threads, and
 * alongside evaluation-mode use of the net itself (dn_net_predict,
 * dn_net_forward with training false, dn_net_logits), none of which write
 * what a probe reads. Not alongside anything that changes the parameters or
 * the running statistics: dn_net_forward in training mode, an optimizer
 * step, dn_net_init_params, dn_net_params and dn_net_get_param (which count
 * as a change), dn_net_free. The net must outlive its probes. A probe sees
 * the parameters as they are when it runs; caches derived from them (a
 * Winograd conv's transformed weights) are made again when the net's weight
 * generation has moved on (see dn_net_mark_params_changed). Its parallel
 * loops use its own thread count (dn_probe_set_threads), the net's when it
 * was made; results are bit-identical for every thread count. */
#ifndef DIGITNET_PROBE_H
#define DIGITNET_PROBE_H

#include <stddef.h>

#include "digitnet/export.h"
#include "digitnet/net.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dn_probe dn_probe;

/* A probe of net, which it reads and never writes, and which must outlive
 * it. *probe is the caller's (dn_probe_free), NULL on failure.
 * DN_ERR_NOMEM when out of memory, DN_ERR_ARG when net is NULL. */
DN_API dn_status dn_probe_new(dn_probe **probe, const dn_net *net);

/* Releases the probe and its buffers (the net is left alone); NULL does
 * nothing. */
DN_API void dn_probe_free(dn_probe *probe);

/* Threads the probe's computations use; 0 means OpenMP's default. Changes no
 * result. */
DN_API void dn_probe_set_threads(dn_probe *probe, int threads);

/* Runs the net in evaluation mode on n samples (n * C*H*W floats, NCHW,
 * read during the call only) and keeps every layer's output. DN_ERR_ARG
 * for a NULL input or n < 1, DN_ERR_LIMIT when the batch would go over the
 * memory limit, DN_ERR_NOMEM, and DN_ERR_NUMERIC (the outputs then kept
 * all the same, for a look at where it went wrong) when a logit is not
 * finite. */
DN_API dn_status dn_probe_run(dn_probe *probe, const float *input, int n);

/* Samples of the last successful dn_probe_run, 0 before any. */
DN_API int dn_probe_batch(const dn_probe *probe);

/* *out = the output of layer `layer` (0 <= layer < dn_net_layer_count) for
 * the samples of the last run, n x shape[0] x shape[1] x shape[2] floats
 * (the layer's out_shape of dn_net_layer_shapes), owned by the probe and
 * valid until its next run or free. The last layer's output is the
 * logits. DN_ERR_ARG for a layer that does not exist or before a run. */
DN_API dn_status dn_probe_layer_output(const dn_probe *probe, int layer, const float **out, int shape[3]);

/* The values of the net's tensor called name ("conv1.weight",
 * "bn1.running_mean"; see dn_net_get_param), read-only: *values holds
 * *count floats of shape[0..*ndim) (ndim, shape may be NULL), owned by
 * the net. Unlike dn_net_get_param it writes nothing, so it is no change of
 * the parameters and may run alongside evaluation-mode use of the net.
 * DN_ERR_ARG when the net has no tensor of that name. */
DN_API dn_status dn_probe_param(const dn_probe *probe, const char *name, const float **values, size_t *count,
                                int *ndim, int shape[4]);

/* The gradient, with respect to the input of the last run, of
 * sum_k weights[b * classes + k] * logit[b][k] for each sample b: a
 * one-hot row asks for one class's score (a saliency map), a row of
 * softmax probabilities minus a one-hot for the loss, and so on. weights
 * has count = n x classes floats; grad gets n x C*H*W, and capacity is
 * how many floats it holds. Relu and max-pool are differentiated as the
 * forward pass went (a max-pool's gradient goes to its first maximum; a
 * relu passes it where its output is > 0). DN_ERR_ARG (nothing written)
 * before a run, for a count that is not n x classes, a capacity below
 * n x C*H*W or a weight that is not finite. */
DN_API dn_status dn_probe_input_gradient(dn_probe *probe, const float *weights, size_t count, float *grad,
                                         size_t capacity);

/* Most path points dn_probe_integrated_gradients takes. */
#define DN_PROBE_MAX_STEPS 256

/* Integrated gradients (Sundararajan et al., 2017) of one sample: for the
 * score sum_k weights[k] * logit[k] (count = classes floats),
 *     out = (input - baseline) * mean over the path of d score / d x,
 * the mean taken at `steps` points baseline + (i + 0.5) / steps * (input -
 * baseline), i < steps (the midpoint rule), run as one batch of `steps`.
 * baseline NULL means all zeros; 1 <= steps <= DN_PROBE_MAX_STEPS; out
 * gets C*H*W floats (capacity). The attributions add up to about
 * score(input) - score(baseline), closer with more steps. The probe's
 * outputs are then those of the path's points. Errors as
 * dn_probe_run and dn_probe_input_gradient, DN_ERR_ARG for steps out of
 * range. */
DN_API dn_status dn_probe_integrated_gradients(dn_probe *probe, const float *input, const float *baseline,
                                               int steps, const float *weights, size_t count, float *out,
                                               size_t capacity);

#ifdef __cplusplus
}
#endif
#endif
