/* optim.c - SGD (momentum, Nesterov, weight decay) and Adam with bias
 * correction over flat buffers, and the step-decay learning-rate schedule. */
#include <math.h>
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/optim.h"
#include "internal.h"

struct dn_optim {
    dn_optim_config config;
    size_t count;
    int threads;    /* 0: OpenMP's current default */
    long steps;
    int state_count;
    float *state[2];
};

dn_optim_config dn_optim_defaults(dn_optim_kind kind)
{
    return (dn_optim_config){
        .kind = kind, .momentum = 0.0f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
    };
}

dn_status dn_optim_new(dn_optim **out, const dn_optim_config *config, size_t count)
{
    if (!out || !config)
        return dn_fail(DN_ERR_ARG, "dn_optim_new: out and config must not be NULL");
    *out = NULL;
    const dn_optim_config *c = config;
    if (c->kind != DN_OPTIM_SGD && c->kind != DN_OPTIM_ADAM)
        return dn_fail(DN_ERR_ARG, "unknown optimizer kind %d", (int)c->kind);
    if (!(c->weight_decay >= 0.0f) || !(c->momentum >= 0.0f && c->momentum < 1.0f) ||
        (c->nesterov && c->momentum == 0.0f))
        return dn_fail(DN_ERR_ARG, "SGD needs momentum in [0, 1) (> 0 for Nesterov) and weight decay >= 0");
    if (c->kind == DN_OPTIM_ADAM && !(c->beta1 >= 0.0f && c->beta1 < 1.0f && c->beta2 >= 0.0f &&
                                      c->beta2 < 1.0f && c->eps > 0.0f))
        return dn_fail(DN_ERR_ARG, "Adam needs betas in [0, 1) and eps > 0");
    dn_optim *opt = calloc(1, sizeof *opt);
    if (!opt)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate an optimizer");
    opt->config = *c;
    opt->count = count;
    opt->state_count = c->kind == DN_OPTIM_ADAM ? 2 : (c->momentum > 0.0f ? 1 : 0);
    for (int i = 0; i < opt->state_count; i++) {
        opt->state[i] = dn_calloc(count ? count : 1, sizeof(float));
        if (!opt->state[i]) {
            dn_optim_free(opt);
            return dn_fail(DN_ERR_NOMEM, "cannot allocate optimizer state for %zu parameters", count);
        }
    }
    *out = opt;
    return DN_OK;
}

void dn_optim_free(dn_optim *opt)
{
    if (!opt)
        return;
    for (int i = 0; i < 2; i++)
        dn_free(opt->state[i]);
    free(opt);
}

/* The update is element-wise, so it is cut into pieces of this many
 * elements handed to whichever thread is free: a thread slowed by another
 * process does not hold the others up, and no result depends on who did
 * which piece. */
enum { DN_OPTIM_PIECE = 1 << 14 };

/* The updates of elements [begin, end). They read grads and, with clear,
 * set them to 0 on the way; each caller passes a constant, so the loop is
 * compiled (and vectorised) once for each. */
static inline __attribute__((always_inline)) void
sgd_range(const dn_optim *opt, float *restrict params, float *restrict grads, float lr,
          size_t begin, size_t end, bool clear)
{
    const float momentum = opt->config.momentum, wd = opt->config.weight_decay;
    const bool nesterov = opt->config.nesterov, first = opt->steps == 0;
    float *restrict buf = opt->state[0];
    for (size_t i = begin; i < end; i++) {
        float g = grads[i] + wd * params[i];
        if (clear)
            grads[i] = 0.0f;
        if (buf) {
            buf[i] = first ? g : momentum * buf[i] + g;
            g = nesterov ? g + momentum * buf[i] : buf[i];
        }
        params[i] -= lr * g;
    }
}

static inline __attribute__((always_inline)) void
adam_range(const dn_optim *opt, float *restrict params, float *restrict grads, float lr,
           size_t begin, size_t end, bool clear)
{
    const float beta1 = opt->config.beta1, beta2 = opt->config.beta2, eps = opt->config.eps;
    const float wd = opt->config.weight_decay;
    const double t = (double)opt->steps + 1.0;
    const float step_size = (float)(lr / (1.0 - pow(beta1, t)));
    const float sqrt_correction2 = (float)sqrt(1.0 - pow(beta2, t));
    float *restrict m = opt->state[0], *restrict v = opt->state[1];
    for (size_t i = begin; i < end; i++) {
        float g = grads[i] + wd * params[i];
        if (clear)
            grads[i] = 0.0f;
        m[i] = beta1 * m[i] + (1.0f - beta1) * g;
        v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
        params[i] -= step_size * m[i] / (sqrtf(v[i]) / sqrt_correction2 + eps);
    }
}

static int step_threads(const dn_optim *opt)
{
#ifdef _OPENMP
    return opt->threads > 0 ? opt->threads : omp_get_max_threads();
#else
    (void)opt;
    return 1;
#endif
}

/* One step over all elements. */
static void step(dn_optim *opt, float *params, float *grads, float lr, bool clear)
{
    const bool adam = opt->config.kind == DN_OPTIM_ADAM;
    const long pieces = (long)((opt->count + DN_OPTIM_PIECE - 1) / DN_OPTIM_PIECE);
    (void)step_threads; /* read by the pragma only, which a build without OpenMP drops */
#pragma omp parallel for schedule(dynamic, 1) if (pieces > 4) num_threads(step_threads(opt))
    for (long piece = 0; piece < pieces; piece++) {
        size_t begin = (size_t)piece * DN_OPTIM_PIECE;
        size_t end = begin + DN_OPTIM_PIECE < opt->count ? begin + DN_OPTIM_PIECE : opt->count;
        if (adam && clear)
            adam_range(opt, params, grads, lr, begin, end, true);
        else if (adam)
            adam_range(opt, params, grads, lr, begin, end, false);
        else if (clear)
            sgd_range(opt, params, grads, lr, begin, end, true);
        else
            sgd_range(opt, params, grads, lr, begin, end, false);
    }
    opt->steps++;
}

static dn_status check_count(const dn_optim *opt, const float *params, const float *grads, size_t count)
{
    if (!opt || !params || !grads)
        return dn_fail(DN_ERR_ARG, "dn_optim_step: opt, params and grads must not be NULL");
    if (count != opt->count)
        return dn_fail(DN_ERR_ARG, "dn_optim_step: the optimizer is for %zu parameters, given %zu", opt->count,
                       count);
    return DN_OK;
}

dn_status dn_optim_step(dn_optim *opt, float *params, const float *grads, size_t count, float lr)
{
    dn_status status = check_count(opt, params, grads, count);
    if (status == DN_OK)
        step(opt, params, (float *)grads, lr, false); /* grads written only with clear */
    return status;
}

dn_status dn_optim_step_clear(dn_optim *opt, float *params, float *grads, size_t count, float lr)
{
    dn_status status = check_count(opt, params, grads, count);
    if (status == DN_OK)
        step(opt, params, grads, lr, true);
    return status;
}

size_t dn_optim_count(const dn_optim *opt) { return opt->count; }
void dn_optim_set_threads(dn_optim *opt, int threads) { opt->threads = threads > 0 ? threads : 0; }
long dn_optim_steps(const dn_optim *opt) { return opt->steps; }
void dn_optim_set_steps(dn_optim *opt, long steps) { opt->steps = steps >= 0 ? steps : 0; }
int dn_optim_state_count(const dn_optim *opt) { return opt->state_count; }

float *dn_optim_state(dn_optim *opt, int i, const char **name)
{
    static const char *const sgd_names[] = {"momentum_buffer"};
    static const char *const adam_names[] = {"exp_avg", "exp_avg_sq"};
    if (i < 0 || i >= opt->state_count)
        return NULL;
    if (name)
        *name = opt->config.kind == DN_OPTIM_ADAM ? adam_names[i] : sgd_names[i];
    return opt->state[i];
}

float dn_lr_cosine(float base_lr, float warmup, float final_scale, double progress)
{
    if (progress < 0)
        progress = 0;
    if (progress > 1)
        progress = 1;
    if (warmup > 0 && progress < warmup)
        return base_lr * (float)(0.1 + 0.9 * progress / warmup);
    double t = warmup < 1 ? (progress - warmup) / (1.0 - warmup) : 1.0;
    double scale = final_scale + (1.0 - final_scale) * 0.5 * (1.0 + cos(M_PI * t));
    return base_lr * (float)scale;
}

float dn_lr_step_decay(float base_lr, float gamma, int step_size, int epoch)
{
    if (step_size < 1 || epoch < 0)
        return base_lr;
    return base_lr * powf(gamma, (float)(epoch / step_size));
}
