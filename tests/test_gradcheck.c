/* test_gradcheck.c - finite-difference gradient checks for every layer, the
 * loss and a whole small network: central differences of a scalar loss in
 * double precision against the analytic backward pass. Inputs stay away from
 * the kinks of relu and max-pool, so the differences are exact there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/net.h"
#include "digitnet/ops.h"
#include "internal.h"
#include "test_util.h"

typedef double (*loss_fn)(void *ctx);

/* Checks up to 80 spread-out elements of x: analytic[i] against
 * (loss(x + h e_i) - loss(x - h e_i)) / 2h. */
static void gradcheck(const char *what, float *x, const float *analytic, size_t n, float h,
                      loss_fn loss, void *ctx)
{
    size_t step = n <= 80 ? 1 : n / 80;
    int bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i += step) {
        float saved = x[i];
        x[i] = saved + h;
        double up = loss(ctx);
        x[i] = saved - h;
        double down = loss(ctx);
        x[i] = saved;
        double numeric = (up - down) / (2.0 * (double)h);
        double err = fabs(numeric - analytic[i]) / fmax(1e-2, fabs(numeric) + fabs(analytic[i]));
        worst = fmax(worst, err);
        bad += !(err <= 2e-3);
    }
    CHECK(bad == 0, "%s: %d elements disagree with finite differences, worst relative error %g",
          what, bad, worst);
}

/* L = sum_i r_i * out_i, the loss whose gradient wrt out is r. */
static double project(const float *out, const float *r, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)out[i] * r[i];
    return sum;
}

static dn_rng rng;

/* ---- conv2d ---- */

typedef struct conv_ctx {
    dn_conv2d_dims d;
    float *in, *weight, *bias, *out, *r, *work;
    size_t out_size;
} conv_ctx;

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    dn_conv2d_forward(c->out, c->in, c->weight, c->bias, c->work, &c->d, false);
    return project(c->out, c->r, c->out_size);
}

static void check_conv(int n, int ch, int h, int w, int oc, int kh, int kw, int stride, int pad)
{
    conv_ctx c = {.d = {.n = n, .in_c = ch, .in_h = h, .in_w = w, .out_c = oc, .kernel_h = kh,
                        .kernel_w = kw, .stride = stride, .pad = pad}};
    CHECK(dn_conv2d_dims_init(&c.d) == DN_OK, "conv dims valid");
    size_t in_size = (size_t)n * ch * h * w, w_size = (size_t)oc * ch * kh * kw;
    c.out_size = (size_t)n * oc * c.d.out_h * c.d.out_w;
    c.in = malloc(in_size * 4);
    c.weight = malloc(w_size * 4);
    c.bias = malloc((size_t)oc * 4);
    c.out = malloc(c.out_size * 4);
    c.r = malloc(c.out_size * 4);
    c.work = dn_alloc(dn_conv2d_workspace_size(&c.d) * 4);
    float *din = malloc(in_size * 4), *dw = calloc(w_size, 4), *db = calloc((size_t)oc, 4);
    dn_test_fill_uniform(&rng, c.in, in_size, -1, 1);
    dn_test_fill_uniform(&rng, c.weight, w_size, -0.5f, 0.5f);
    dn_test_fill_uniform(&rng, c.bias, (size_t)oc, -0.5f, 0.5f);
    dn_test_fill_uniform(&rng, c.r, c.out_size, -1, 1);
    conv_loss(&c);
    dn_conv2d_backward(din, dw, db, c.r, c.in, c.weight, c.work, &c.d);
    char what[96];
    snprintf(what, sizeof what, "conv n%d c%d %dx%d oc%d k%dx%d s%d p%d", n, ch, h, w, oc, kh, kw,
             stride, pad);
    char part[128];
    snprintf(part, sizeof part, "%s input", what);
    gradcheck(part, c.in, din, in_size, 0.05f, conv_loss, &c);
    snprintf(part, sizeof part, "%s weight", what);
    gradcheck(part, c.weight, dw, w_size, 0.05f, conv_loss, &c);
    snprintf(part, sizeof part, "%s bias", what);
    gradcheck(part, c.bias, db, (size_t)oc, 0.05f, conv_loss, &c);
    free(c.in), free(c.weight), free(c.bias), free(c.out), free(c.r), dn_free(c.work);
    free(din), free(dw), free(db);
}

/* ---- maxpool ---- */

typedef struct pool_ctx {
    int n, c, h, w, k, s;
    float *in, *out, *r;
    int32_t *argmax;
    size_t out_size;
} pool_ctx;

static double pool_loss(void *p)
{
    pool_ctx *c = p;
    dn_maxpool2d_forward(c->out, c->argmax, c->in, c->n, c->c, c->h, c->w, c->k, c->s);
    return project(c->out, c->r, c->out_size);
}

static void check_pool(int n, int ch, int h, int w, int k, int s)
{
    pool_ctx c = {.n = n, .c = ch, .h = h, .w = w, .k = k, .s = s};
    size_t in_size = (size_t)n * ch * h * w;
    c.out_size = (size_t)n * ch * ((h - k) / s + 1) * ((w - k) / s + 1);
    c.in = malloc(in_size * 4);
    c.out = malloc(c.out_size * 4);
    c.r = malloc(c.out_size * 4);
    c.argmax = malloc(c.out_size * 4);
    float *din = malloc(in_size * 4);
    /* distinct values 0.02 apart: a perturbation of 0.005 never changes a max */
    int *order = malloc(in_size * sizeof *order);
    for (size_t i = 0; i < in_size; i++)
        order[i] = (int)i;
    dn_rng_shuffle(&rng, order, (int)in_size);
    for (size_t i = 0; i < in_size; i++)
        c.in[i] = 0.02f * (float)order[i] - 1.0f;
    dn_test_fill_uniform(&rng, c.r, c.out_size, -1, 1);
    pool_loss(&c);
    dn_maxpool2d_backward(din, c.r, c.argmax, n, ch, h, w, k, s);
    char what[64];
    snprintf(what, sizeof what, "maxpool n%d c%d %dx%d k%d s%d", n, ch, h, w, k, s);
    gradcheck(what, c.in, din, in_size, 0.005f, pool_loss, &c);
    free(c.in), free(c.out), free(c.r), free(c.argmax), free(din), free(order);
}

/* ---- linear ---- */

typedef struct linear_ctx {
    int n, in_f, out_f;
    float *in, *weight, *bias, *out, *r;
} linear_ctx;

static double linear_loss(void *p)
{
    linear_ctx *c = p;
    dn_linear_forward(c->out, c->in, c->weight, c->bias, c->n, c->in_f, c->out_f, false);
    return project(c->out, c->r, (size_t)c->n * c->out_f);
}

static void check_linear(int n, int in_f, int out_f)
{
    linear_ctx c = {.n = n, .in_f = in_f, .out_f = out_f};
    size_t in_size = (size_t)n * in_f, w_size = (size_t)in_f * out_f, out_size = (size_t)n * out_f;
    c.in = malloc(in_size * 4);
    c.weight = malloc(w_size * 4);
    c.bias = malloc((size_t)out_f * 4);
    c.out = malloc(out_size * 4);
    c.r = malloc(out_size * 4);
    float *din = malloc(in_size * 4), *dw = calloc(w_size, 4), *db = calloc((size_t)out_f, 4);
    dn_test_fill_uniform(&rng, c.in, in_size, -1, 1);
    dn_test_fill_uniform(&rng, c.weight, w_size, -0.5f, 0.5f);
    dn_test_fill_uniform(&rng, c.bias, (size_t)out_f, -0.5f, 0.5f);
    dn_test_fill_uniform(&rng, c.r, out_size, -1, 1);
    linear_loss(&c);
    dn_linear_backward(din, dw, db, c.r, c.in, c.weight, n, in_f, out_f);
    char what[64];
    snprintf(what, sizeof what, "linear n%d %d->%d input", n, in_f, out_f);
    gradcheck(what, c.in, din, in_size, 0.05f, linear_loss, &c);
    snprintf(what, sizeof what, "linear n%d %d->%d weight", n, in_f, out_f);
    gradcheck(what, c.weight, dw, w_size, 0.05f, linear_loss, &c);
    snprintf(what, sizeof what, "linear n%d %d->%d bias", n, in_f, out_f);
    gradcheck(what, c.bias, db, (size_t)out_f, 0.05f, linear_loss, &c);
    free(c.in), free(c.weight), free(c.bias), free(c.out), free(c.r);
    free(din), free(dw), free(db);
}

/* ---- relu and dropout ---- */

typedef struct elementwise_ctx {
    size_t n;
    float *in, *out, *r, *mask;
    float p;
    uint64_t seed;
    bool dropout;
} elementwise_ctx;

static double elementwise_loss(void *p)
{
    elementwise_ctx *c = p;
    if (c->dropout) {
        dn_rng mask_rng;
        dn_rng_seed(&mask_rng, c->seed); /* the same mask every time */
        dn_dropout_forward(c->out, c->mask, c->in, c->n, c->p, &mask_rng);
    } else {
        dn_relu_forward(c->out, c->in, c->n);
    }
    return project(c->out, c->r, c->n);
}

static void check_elementwise(bool dropout, size_t n)
{
    elementwise_ctx c = {.n = n, .p = 0.3f, .seed = 99, .dropout = dropout};
    c.in = malloc(n * 4);
    c.out = malloc(n * 4);
    c.r = malloc(n * 4);
    c.mask = malloc(n * 4);
    float *din = malloc(n * 4);
    for (size_t i = 0; i < n; i++) { /* |x| >= 0.1: away from relu's kink */
        float magnitude = dn_rng_range(&rng, 0.1f, 1.0f);
        c.in[i] = dn_rng_uniform(&rng) < 0.5f ? -magnitude : magnitude;
    }
    dn_test_fill_uniform(&rng, c.r, n, -1, 1);
    elementwise_loss(&c);
    if (dropout) {
        dn_dropout_backward(din, c.r, c.mask, n);
        size_t dropped = 0;
        for (size_t i = 0; i < n; i++)
            dropped += c.mask[i] == 0.0f;
        CHECK(dropped > n / 5 && dropped < n * 2 / 5, "dropout p=0.3 dropped %zu of %zu", dropped, n);
    } else {
        dn_relu_backward(din, c.r, c.out, n);
    }
    gradcheck(dropout ? "dropout" : "relu", c.in, din, n, 0.01f, elementwise_loss, &c);
    free(c.in), free(c.out), free(c.r), free(c.mask), free(din);
}

/* ---- batch normalisation ---- */

typedef struct bn_ctx {
    int n, c, s;
    bool training;
    float *in, *gamma, *beta, *out, *r, *mean, *inv_std, *running_mean, *running_var;
} bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *b = p;
    size_t size = (size_t)b->n * b->c * b->s;
    if (b->training) {
        /* running statistics are state, not part of the loss: use copies */
        float rm[16], rv[16];
        memcpy(rm, b->running_mean, (size_t)b->c * 4);
        memcpy(rv, b->running_var, (size_t)b->c * 4);
        dn_batchnorm_forward_train(b->out, b->mean, b->inv_std, rm, rv, b->in, b->gamma, b->beta, b->n, b->c, b->s,
                                   0.1f, 1e-5f);
    } else {
        dn_batchnorm_forward_eval(b->out, b->in, b->gamma, b->beta, b->running_mean, b->running_var, b->n, b->c,
                                  b->s, 1e-5f);
    }
    return project(b->out, b->r, size);
}

static void check_batchnorm(int n, int c, int s, bool training)
{
    bn_ctx b = {.n = n, .c = c, .s = s, .training = training};
    size_t size = (size_t)n * c * s;
    b.in = malloc(size * 4), b.out = malloc(size * 4), b.r = malloc(size * 4);
    b.gamma = malloc((size_t)c * 4), b.beta = malloc((size_t)c * 4), b.mean = malloc((size_t)c * 4);
    b.inv_std = malloc((size_t)c * 4), b.running_mean = malloc((size_t)c * 4), b.running_var = malloc((size_t)c * 4);
    float *din = malloc(size * 4), *dgamma = calloc((size_t)c, 4), *dbeta = calloc((size_t)c, 4);
    dn_test_fill_uniform(&rng, b.in, size, -2, 3);
    dn_test_fill_uniform(&rng, b.r, size, -1, 1);
    dn_test_fill_uniform(&rng, b.gamma, (size_t)c, 0.5f, 1.5f);
    dn_test_fill_uniform(&rng, b.beta, (size_t)c, -0.5f, 0.5f);
    dn_test_fill_uniform(&rng, b.running_mean, (size_t)c, -0.3f, 0.3f);
    dn_test_fill_uniform(&rng, b.running_var, (size_t)c, 0.5f, 2.0f);
    bn_loss(&b);
    if (!training)
        for (int ch = 0; ch < c; ch++) {
            b.mean[ch] = b.running_mean[ch];
            b.inv_std[ch] = 1.0f / sqrtf(b.running_var[ch] + 1e-5f);
        }
    dn_batchnorm_backward(din, dgamma, dbeta, b.r, b.in, b.gamma, b.mean, b.inv_std, training, n, c, s);
    char what[96];
    snprintf(what, sizeof what, "batchnorm %s n%d c%d s%d", training ? "train" : "eval", n, c, s);
    char part[128];
    snprintf(part, sizeof part, "%s input", what);
    gradcheck(part, b.in, din, size, 0.01f, bn_loss, &b);
    snprintf(part, sizeof part, "%s gamma", what);
    gradcheck(part, b.gamma, dgamma, (size_t)c, 0.01f, bn_loss, &b);
    snprintf(part, sizeof part, "%s beta", what);
    gradcheck(part, b.beta, dbeta, (size_t)c, 0.01f, bn_loss, &b);
    free(b.in), free(b.out), free(b.r), free(b.gamma), free(b.beta), free(b.mean), free(b.inv_std);
    free(b.running_mean), free(b.running_var), free(din), free(dgamma), free(dbeta);
}

/* ---- softmax cross-entropy ---- */

typedef struct xent_ctx {
    int n, classes;
    float *logits, *probs;
    uint8_t *labels;
} xent_ctx;

static double xent_loss(void *p)
{
    xent_ctx *c = p;
    return dn_cross_entropy_forward(c->probs, c->logits, c->labels, c->n, c->classes);
}

static void check_cross_entropy(int n, int classes, float scale)
{
    xent_ctx c = {.n = n, .classes = classes};
    size_t size = (size_t)n * classes;
    c.logits = malloc(size * 4);
    c.probs = malloc(size * 4);
    c.labels = malloc((size_t)n);
    float *dlogits = malloc(size * 4);
    dn_test_fill_uniform(&rng, c.logits, size, -scale, scale);
    for (int b = 0; b < n; b++)
        c.labels[b] = (uint8_t)dn_rng_below(&rng, (uint64_t)classes);
    xent_loss(&c);
    dn_cross_entropy_backward(dlogits, c.probs, c.labels, n, classes);
    char what[64];
    snprintf(what, sizeof what, "cross-entropy n%d classes%d scale%g", n, classes, (double)scale);
    gradcheck(what, c.logits, dlogits, size, 1e-2f, xent_loss, &c);
    free(c.logits), free(c.probs), free(c.labels), free(dlogits);
}

/* ---- a whole network ---- */

typedef struct net_ctx {
    dn_net *net;
    const float *input;
    const uint8_t *labels;
    int n;
} net_ctx;

static double net_loss(void *p)
{
    net_ctx *c = p;
    dn_net_forward(c->net, c->input, c->n, false);
    const float *logits = dn_net_logits(c->net);
    int classes = dn_net_num_classes(c->net);
    float *probs = malloc((size_t)c->n * classes * 4);
    double loss = dn_cross_entropy_forward(probs, logits, c->labels, c->n, classes);
    free(probs);
    return loss;
}

/* A network without relu or max-pool is smooth, so every element can be
 * checked; the kinked layers are checked on their own above and, inside the
 * presets, against PyTorch (test_torch_nets). Dropout is active in training
 * mode, so the check runs in evaluation mode where it is the identity. */
static void check_network(const char *spec)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, spec, 5));
    if (!net)
        return;
    enum { N = 3 };
    float input[N * 2 * 9 * 9];
    uint8_t labels[N] = {0, 2, 1};
    dn_test_fill_uniform(&rng, input, sizeof input / sizeof *input, -1, 1);
    net_ctx c = {.net = net, .input = input, .labels = labels, .n = N};
    dn_net_zero_grad(net);
    CHECK_OK(dn_net_forward(net, input, N, false));
    CHECK_OK(dn_net_backward(net, labels, NULL, NULL));
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param param;
        CHECK_OK(dn_net_get_param(net, t, &param));
        char what[64];
        snprintf(what, sizeof what, "network %s %s", spec, param.name);
        gradcheck(what, param.value.data, param.grad.data, param.value.size, 1e-2f, net_loss, &c);
    }
    dn_net_free(net);
}

int main(void)
{
    dn_rng_seed(&rng, 2024);
    check_conv(1, 1, 5, 5, 1, 3, 3, 1, 0);
    check_conv(2, 3, 7, 6, 4, 3, 2, 1, 0);
    check_conv(3, 2, 8, 9, 5, 3, 3, 2, 1);
    check_conv(2, 4, 6, 6, 3, 1, 1, 1, 0);
    check_conv(17, 2, 5, 5, 2, 2, 2, 1, 2); /* more images than conv chunks */
    check_pool(2, 3, 8, 6, 2, 2);
    check_pool(2, 2, 9, 7, 3, 2);
    check_pool(1, 1, 7, 7, 2, 1);
    check_linear(1, 7, 3);
    check_linear(4, 33, 9);
    check_elementwise(false, 500);
    check_elementwise(true, 500);
    check_batchnorm(4, 3, 10, true);
    check_batchnorm(7, 5, 1, true);  /* after a linear layer */
    check_batchnorm(3, 2, 12, false);
    check_cross_entropy(4, 10, 3.0f);
    check_cross_entropy(3, 2, 30.0f);
    check_network("input 2x9x9; conv 3 3 pad=1; conv 4 2 stride=2; dropout 0.5; flatten; "
                  "linear 6; linear 3");
    check_network("input 1x5x4; flatten; linear 7; linear 4");
    return dn_test_finish();
}
