/* digitnet/optim.h - optimizers over a flat parameter buffer, and
 * learning-rate schedules.
 *
 * The optimizer updates params[i] from grads[i] for i < count: one loop,
 * element-wise, so it is independent of the thread count. The formulas are
 * PyTorch's (torch.optim.SGD and torch.optim.Adam), so the same gradients
 * give the same steps:
 *   SGD:  g = grad + wd*p;  buf = momentum*buf + g (buf = g on the first step);
 *         g = nesterov ? g + momentum*buf : buf (when momentum > 0);  p -= lr*g
 *   Adam: g = grad + wd*p;  m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;
 *         p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 * The optimizer owns its state buffers; expose them for checkpoints with
 * dn_optim_state. Conventions (errors, ownership, threads) are those of
 * digitnet.h.
 *
 * Thread-safety: a step changes the optimizer's state, so one optimizer
 * takes one call at a time (and its step must not overlap with anything that
 * reads or writes the parameters and gradients it is given); two optimizers
 * are independent. A step itself runs OpenMP threads (dn_optim_set_threads)
 * with the same result for any count. The schedules are pure functions. */
#ifndef DIGITNET_OPTIM_H
#define DIGITNET_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

#include "digitnet/export.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dn_optim_kind { DN_OPTIM_SGD, DN_OPTIM_ADAM } dn_optim_kind;

typedef struct dn_optim_config {
    dn_optim_kind kind;
    float momentum;      /* SGD; 0 disables momentum */
    bool nesterov;       /* SGD, needs momentum > 0 */
    float beta1, beta2;  /* Adam */
    float eps;           /* Adam */
    float weight_decay;  /* L2 penalty added to the gradient, both */
} dn_optim_config;

/* PyTorch's defaults: SGD momentum 0; Adam betas (0.9, 0.999), eps 1e-8;
 * no weight decay. Cannot fail. */
DN_API dn_optim_config dn_optim_defaults(dn_optim_kind kind);

typedef struct dn_optim dn_optim;

/* An optimizer for `count` parameters, its state zeroed; *opt is the
 * caller's (dn_optim_free), NULL on failure. DN_ERR_ARG for a NULL argument,
 * an unknown kind, SGD momentum outside [0, 1) (or 0 with nesterov), Adam
 * betas outside [0, 1) or eps <= 0, a negative weight decay; DN_ERR_NOMEM. */
DN_API dn_status dn_optim_new(dn_optim **opt, const dn_optim_config *config, size_t count);

/* Releases the optimizer and its state; NULL does nothing. */
DN_API void dn_optim_free(dn_optim *opt);

/* One update of params from grads (count floats each, which must be the
 * optimizer's count: DN_ERR_ARG otherwise, nothing written) with learning
 * rate lr. */
DN_API dn_status dn_optim_step(dn_optim *opt, float *params, const float *grads, size_t count, float lr);

/* The same update, setting grads to 0 on the way: the next step's
 * gradients then accumulate from zero without a separate pass over them
 * (dn_net_zero_grad), which for a large model is a pass over megabytes.
 * Errors as dn_optim_step. */
DN_API dn_status dn_optim_step_clear(dn_optim *opt, float *params, float *grads, size_t count, float lr);

/* Threads a step uses; 0 (the default) means OpenMP's current default,
 * which inside dn_train_epoch is the net's thread count. The split never
 * changes a result. */
DN_API void dn_optim_set_threads(dn_optim *opt, int threads);

/* Parameters the optimizer updates (its `count`). */
DN_API size_t dn_optim_count(const dn_optim *opt);

/* Steps taken so far (Adam's t). */
DN_API long dn_optim_steps(const dn_optim *opt);

/* Sets the step count, when resuming from a checkpoint; negative counts as 0. */
DN_API void dn_optim_set_steps(dn_optim *opt, long steps);

/* Number of state buffers: SGD with momentum has one ("momentum_buffer"),
 * Adam two ("exp_avg", "exp_avg_sq"), plain SGD none. */
DN_API int dn_optim_state_count(const dn_optim *opt);

/* State buffer i (`count` floats, owned by the optimizer, writable, valid
 * until dn_optim_free) and, if name is not NULL, its static name; NULL when
 * there is no buffer i. */
DN_API float *dn_optim_state(dn_optim *opt, int i, const char **name);

/* Step decay: base_lr * gamma^floor(epoch / step_size), epochs from 0. */
DN_API float dn_lr_step_decay(float base_lr, float gamma, int step_size, int epoch);

/* Cosine annealing with linear warm-up, at `progress` in [0,1] of the whole
 * run: rises linearly from 0.1 * base_lr to base_lr over the first `warmup`
 * fraction, then follows a half cosine down to final_scale * base_lr. */
DN_API float dn_lr_cosine(float base_lr, float warmup, float final_scale, double progress);

#ifdef __cplusplus
}
#endif
#endif
