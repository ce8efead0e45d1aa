/* test_net.c - networks from specs: presets and their shapes, parameter names
 * and initialisation, spec errors, batch independence, bit-identical training
 * with 1 and 2 threads, and small problems learned to 100%. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/net.h"
#include "digitnet/optim.h"
#include "net_internal.h"
#include "test_util.h"

static void test_cnn_preset(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "cnn", 1));
    if (!net)
        return;
    static const int want_out[][3] = {{32, 26, 26}, {32, 26, 26}, {64, 24, 24}, {64, 24, 24},
                                      {64, 12, 12}, {9216, 1, 1},  {128, 1, 1},  {128, 1, 1},
                                      {10, 1, 1}};
    CHECK(dn_net_layer_count(net) == 9, "cnn has 9 layers, got %d", dn_net_layer_count(net));
    for (int i = 0; i < 9 && i < dn_net_layer_count(net); i++) {
        int in[3], out[3];
        dn_net_layer_shapes(net, i, in, out);
        CHECK(memcmp(out, want_out[i], sizeof out) == 0, "layer %d (%s) outputs %dx%dx%d", i,
              dn_net_layer_kind(net, i), out[0], out[1], out[2]);
    }
    CHECK(dn_net_param_count(net) == 1199882, "cnn parameter count %zu", dn_net_param_count(net));
    static const char *names[] = {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                  "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
    static const int shapes[][4] = {{32, 1, 3, 3}, {32}, {64, 32, 3, 3}, {64}, {128, 9216}, {128},
                                    {10, 128}, {10}};
    CHECK(dn_net_param_tensor_count(net) == 8, "8 parameter tensors");
    for (int t = 0; t < 8; t++) {
        dn_net_param p;
        CHECK_OK(dn_net_get_param(net, t, &p));
        CHECK(strcmp(p.name, names[t]) == 0, "tensor %d is %s, expected %s", t, p.name, names[t]);
        CHECK(memcmp(p.value.shape, shapes[t], (size_t)p.value.ndim * sizeof(int)) == 0,
              "%s shape", names[t]);
        CHECK(dn_net_find_param(net, names[t]) == t, "find %s", names[t]);
        /* PyTorch's default init: uniform within +-1/sqrt(fan_in) */
        float bound = 1.0f / sqrtf((float)(t < 2 ? 9 : t < 4 ? 288 : t < 6 ? 9216 : 128));
        float lo = 0, hi = 0;
        for (size_t j = 0; j < p.value.size; j++) {
            lo = fminf(lo, p.value.data[j]);
            hi = fmaxf(hi, p.value.data[j]);
        }
        CHECK(lo >= -bound && hi <= bound && hi > 0.7f * bound && lo < -0.7f * bound,
              "%s initialised in [%g, %g], bound %g", names[t], (double)lo, (double)hi, (double)bound);
    }
    CHECK(dn_net_find_param(net, "fc3.weight") == -1, "no fc3 in the cnn");
    CHECK(dn_net_find_param(net, "conv1") == -1, "a layer name alone is not a tensor");
    dn_net_free(net);
}

static void test_mlp_and_round_trip(void)
{
    dn_net *net, *again;
    CHECK_OK(dn_net_new(&net, "mlp", 1));
    if (!net)
        return;
    CHECK(dn_net_param_count(net) == 136074, "mlp parameter count %zu", dn_net_param_count(net));
    CHECK_OK(dn_net_new(&again, dn_net_spec(net), 1));
    if (again) {
        CHECK(strcmp(dn_net_spec(net), dn_net_spec(again)) == 0, "canonical spec round-trips: %s",
              dn_net_spec(again));
        CHECK(memcmp(dn_net_params(net), dn_net_params(again), dn_net_param_count(net) * 4) == 0,
              "same seed, same weights");
        dn_net_init_params(again, 2);
        CHECK(memcmp(dn_net_params(net), dn_net_params(again), dn_net_param_count(net) * 4) != 0,
              "another seed, other weights");
        dn_net_free(again);
    }
    dn_net_free(net);
}

static void test_bad_specs(void)
{
    static const struct {
        const char *spec;
        dn_status want;
    } cases[] = {
        {"", DN_ERR_FORMAT},
        {"resnet", DN_ERR_FORMAT},
        {"conv 3 3; linear 10", DN_ERR_FORMAT},
        {"input 1x28; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28x3; flatten; linear 10", DN_ERR_FORMAT},
        {"input 0x28x28; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28", DN_ERR_FORMAT},
        {"input 1x28x28; input 1x28x28; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv 32; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv 32 3 stride=0; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv 32 3 dilation=2; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv -4 3; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv 4 3x; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv 4 29; flatten; linear 10", DN_ERR_SHAPE},
        {"input 1x28x28; maxpool 30; flatten; linear 10", DN_ERR_SHAPE},
        {"input 1x28x28; linear 10", DN_ERR_SHAPE},
        {"input 1x28x28; flatten; linear 10 20", DN_ERR_FORMAT},
        {"input 1x28x28; flatten; linear 99999999999", DN_ERR_FORMAT},
        {"input 1x28x28; flatten; dropout 1.0; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; flatten; dropout nan; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; flatten; relu 3; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv 4 3; batchnorm momentum=2; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv 4 3; batchnorm eps=0; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; conv 4 3; batchnorm eps=1e-60; flatten; linear 10", DN_ERR_FORMAT}, /* 0 as a float */
        {"input 1x28x28; flatten; dropout 0.99999999999; linear 10", DN_ERR_FORMAT},          /* 1 as a float */
        {"input 1x28x28; conv 4 3; batchnorm 3; flatten; linear 10", DN_ERR_FORMAT},
        {"input 1x28x28; flatten; linear 1", DN_ERR_SHAPE},
        {"input 1x28x28; flatten; linear 300", DN_ERR_SHAPE},
        {"input 1x28x28; conv 10 3", DN_ERR_SHAPE},
        {"input 1x28x28; flatten; softmax; linear 10", DN_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dn_net *net = (dn_net *)&net;
        dn_clear_error();
        dn_status status = dn_net_new(&net, cases[i].spec, 1);
        CHECK(status == cases[i].want && net == NULL && dn_last_error()[0] != '\0',
              "spec '%s': got %s (%s), expected %s", cases[i].spec, dn_status_name(status),
              dn_last_error(), dn_status_name(cases[i].want));
    }
    dn_net *net;
    CHECK_OK(dn_net_new(&net, " input 3x10x12 \n conv 4 3x5 stride=2 pad=1;;relu\nmaxpool 2 stride=1; "
                              "flatten; dropout 0.1; linear 5", 3));
    if (net) {
        int in[3], out[3];
        dn_net_layer_shapes(net, 0, in, out);
        CHECK(out[0] == 4 && out[1] == 5 && out[2] == 5, "conv 3x5 s2 p1 on 10x12 gives 4x5x5, got %dx%dx%d",
              out[0], out[1], out[2]);
        dn_net_layer_shapes(net, 2, in, out);
        CHECK(out[1] == 4 && out[2] == 4, "maxpool 2 stride 1 gives 4x4");
        CHECK(strcmp(dn_net_spec(net), "input 3x10x12; conv 4 3x5 stride=2 pad=1; relu; maxpool 2 "
                                       "stride=1; flatten; dropout 0.1; linear 5") == 0,
              "canonical spec: %s", dn_net_spec(net));
        dn_net_free(net);
    }
}

static void test_batch_independence(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "cnn", 7));
    if (!net)
        return;
    dn_rng rng;
    dn_rng_seed(&rng, 3);
    float input[5 * 784], probs5[50], probs1[10];
    dn_test_fill_uniform(&rng, input, 5 * 784, -0.4f, 2.8f);
    CHECK_OK(dn_net_predict(net, input, 2, probs5, 50));
    CHECK_OK(dn_net_predict(net, input, 5, probs5, 50));
    CHECK(dn_net_predict(net, input, 5, probs5, 49) == DN_ERR_ARG, "probs too small for 5 x 10 is refused");
    CHECK_OK(dn_net_predict(net, input + 3 * 784, 1, probs1, 10));
    double sum = 0;
    for (int k = 0; k < 10; k++)
        sum += probs5[30 + k];
    CHECK(fabs(sum - 1.0) < 1e-5, "probabilities sum to 1 (%g)", sum);
    CHECK(dn_test_max_abs_diff(probs1, probs5 + 30, 10) < 1e-6,
          "a sample's prediction does not depend on its batch");
    uint8_t labels[5] = {1, 2, 3, 4, 10};
    CHECK_OK(dn_net_forward(net, input, 5, true));
    CHECK(dn_net_backward(net, labels, NULL, NULL) == DN_ERR_ARG, "label 10 of 10 classes refused");
    CHECK(dn_net_forward(net, input, 0, false) == DN_ERR_ARG, "n = 0 refused");
    dn_net_free(net);
}

/* A few Adam steps on random data; returns the parameters (malloc'd). */
static float *train_steps(const char *spec, int threads, size_t *count)
{
    dn_net *net;
    if (dn_net_new(&net, spec, 11) != DN_OK)
        return NULL;
    dn_net_set_threads(net, threads);
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt;
    dn_optim_new(&opt, &config, dn_net_param_count(net));
    dn_rng rng;
    dn_rng_seed(&rng, 5);
    enum { N = 20 };
    static float input[N * 784];
    uint8_t labels[N];
    for (int step = 0; step < 3; step++) {
        dn_test_fill_uniform(&rng, input, N * 784, -0.4f, 2.8f);
        for (int b = 0; b < N; b++)
            labels[b] = (uint8_t)dn_rng_below(&rng, 10);
        dn_net_zero_grad(net);
        dn_net_forward(net, input, N, true);
        dn_net_backward(net, labels, NULL, NULL);
        dn_optim_step(opt, dn_net_params(net), dn_net_grads(net), dn_net_param_count(net), 1e-3f);
    }
    *count = dn_net_param_count(net);
    float *params = malloc(*count * sizeof *params);
    memcpy(params, dn_net_params(net), *count * sizeof *params);
    dn_optim_free(opt);
    dn_net_free(net);
    return params;
}

/* The gradients of an evaluation-mode forward pass (where max-pool keeps no
 * argmax and finds it again for the backward pass) are those of a training
 * forward pass, for a net whose layers all act the same in both modes. */
static void test_backward_after_evaluation(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "cnn", 13));
    if (!net)
        return;
    enum { N = 5 };
    static float input[N * 784];
    uint8_t labels[N] = {3, 1, 4, 1, 5};
    dn_rng rng;
    dn_rng_seed(&rng, 17);
    dn_test_fill_uniform(&rng, input, N * 784, -0.4f, 2.8f);
    size_t count = dn_net_param_count(net);
    float *trained = malloc(count * sizeof *trained);
    float loss_train = 0, loss_eval = 0;
    dn_net_zero_grad(net);
    CHECK_OK(dn_net_forward(net, input, N, true));
    CHECK_OK(dn_net_backward(net, labels, &loss_train, NULL));
    memcpy(trained, dn_net_grads(net), count * sizeof *trained);
    /* a different batch first, so a stale argmax would route wrongly */
    static float other[N * 784];
    dn_test_fill_uniform(&rng, other, N * 784, -0.4f, 2.8f);
    CHECK_OK(dn_net_forward(net, other, N, true));
    dn_net_zero_grad(net);
    CHECK_OK(dn_net_forward(net, input, N, false));
    CHECK_OK(dn_net_backward(net, labels, &loss_eval, NULL));
    CHECK(loss_train == loss_eval && !memcmp(trained, dn_net_grads(net), count * sizeof *trained),
          "cnn: gradients after an evaluation forward pass equal those after a training one");
    free(trained);
    dn_net_free(net);
}

/* A Winograd conv layer keeps its transformed weights between calls: a
 * changed weight must be noticed by the next forward pass (and so by the
 * backward pass after it), giving what a net fresh from the same
 * parameters gives. */
static bool same_as_fresh(dn_net *kept, const char *spec, const float *input, int n,
                          const uint8_t *labels)
{
    dn_net *fresh;
    if (dn_net_new(&fresh, spec, 4) != DN_OK)
        return false;
    size_t count = dn_net_param_count(kept);
    memcpy(dn_net_params(fresh), dn_net_params(kept), count * sizeof(float));
    float got[8 * 3], want[8 * 3];
    bool same = dn_net_predict(kept, input, n, got, 8 * 3) == DN_OK &&
                dn_net_predict(fresh, input, n, want, 8 * 3) == DN_OK &&
                !memcmp(got, want, (size_t)n * 3 * sizeof(float));
    dn_net_zero_grad(kept);
    dn_net_zero_grad(fresh);
    same = same && dn_net_forward(kept, input, n, true) == DN_OK &&
           dn_net_backward(kept, labels, NULL, NULL) == DN_OK &&
           dn_net_forward(fresh, input, n, true) == DN_OK &&
           dn_net_backward(fresh, labels, NULL, NULL) == DN_OK &&
           !memcmp(dn_net_grads(kept), dn_net_grads(fresh), count * sizeof(float));
    dn_net_free(fresh);
    return same;
}

static void test_changed_weights(void)
{
    /* conv2 has 8 channels in and out: Winograd; it needs its input gradient */
    const char *spec = "input 1x10x10; conv 8 3; relu; conv 8 3; relu; flatten; linear 3";
    dn_net *kept;
    CHECK_OK(dn_net_new(&kept, spec, 3));
    if (!kept)
        return;
    enum { N = 2 };
    static float input[N * 100];
    uint8_t labels[N] = {2, 0};
    dn_rng rng;
    dn_rng_seed(&rng, 23);
    dn_test_fill_uniform(&rng, input, N * 100, -1, 1);
    float probs[N * 3];
    CHECK_OK(dn_net_predict(kept, input, N, probs, N * 3));
    dn_net_param conv2;
    CHECK_OK(dn_net_get_param(kept, 2, &conv2));
    CHECK(!strcmp(conv2.name, "conv2.weight"), "tensor 2 is conv2.weight, got %s", conv2.name);
    float *w = conv2.value.data;
    w[300] = -3.0f * w[300]; /* far from the first element the check could stop at */
    CHECK(same_as_fresh(kept, spec, input, N, labels),
          "conv2.weight[300] changed: the same predictions and gradients as a fresh net");
    w[0] = -w[0];
    CHECK(same_as_fresh(kept, spec, input, N, labels),
          "conv2.weight[0] changed: the same predictions and gradients as a fresh net");

    /* Changes are signalled, not found by comparing memory: written through
     * a pointer taken before the net ran, they are seen once announced. */
    float before[N * 3], stale[N * 3], after[N * 3];
    CHECK_OK(dn_net_predict(kept, input, N, before, N * 3));
    w[7] = 5.0f * w[7] + 0.5f;
    CHECK_OK(dn_net_predict(kept, input, N, stale, N * 3));
    CHECK(!memcmp(before, stale, sizeof before), "an unannounced change keeps the transformed weights");
    dn_net_mark_params_changed(kept);
    CHECK_OK(dn_net_predict(kept, input, N, after, N * 3));
    CHECK(memcmp(before, after, sizeof before) != 0 && same_as_fresh(kept, spec, input, N, labels),
          "dn_net_mark_params_changed: the same as a fresh net with the new weights");
    dn_net_free(kept);
}

/* A relu fused into a layer before a max-pool or a conv has its backward
 * pass done by that next layer on the way, and a Winograd conv computes a
 * relu + 2x2 max-pool after it itself; with a layer in between (dropout 0,
 * an exact identity) none of that happens. Both must give the same
 * predictions, loss and gradients, bit for bit. */
/* Nets a and b (the same parameters) give the same loss and gradients, bit
 * for bit, after a training forward pass and after an evaluation one. */
static void check_same_gradients(dn_net *a, dn_net *b, const char *what, const float *input, int n,
                                 const uint8_t *labels)
{
    size_t count = dn_net_param_count(a);
    float loss_a = 0, loss_b = 0;
    dn_net_zero_grad(a);
    dn_net_zero_grad(b);
    CHECK_OK(dn_net_forward(a, input, n, true));
    CHECK_OK(dn_net_backward(a, labels, &loss_a, NULL));
    CHECK_OK(dn_net_forward(b, input, n, true));
    CHECK_OK(dn_net_backward(b, labels, &loss_b, NULL));
    CHECK(loss_a == loss_b && !memcmp(dn_net_grads(a), dn_net_grads(b), count * sizeof(float)),
          "%s: the same loss and gradients as with the layers apart", what);
    /* a backward pass after an evaluation forward pass too */
    dn_net_zero_grad(a);
    dn_net_zero_grad(b);
    CHECK_OK(dn_net_forward(a, input, n, false));
    CHECK_OK(dn_net_backward(a, labels, NULL, NULL));
    CHECK_OK(dn_net_forward(b, input, n, false));
    CHECK_OK(dn_net_backward(b, labels, NULL, NULL));
    CHECK(!memcmp(dn_net_grads(a), dn_net_grads(b), count * sizeof(float)),
          "%s: the same gradients after an evaluation forward pass", what);
}

/* Two nets from specs fused and apart with the same parameters, and a
 * batch of N random inputs of side x side; false if they cannot be made. */
enum { SAME_N = 4 };
static bool make_pair(const char *fused, const char *apart, int side, dn_net **a, dn_net **b, float *input)
{
    CHECK(side <= 32, "an input of at most 32x32");
    CHECK_OK(dn_net_new(a, fused, 8));
    CHECK_OK(dn_net_new(b, apart, 8));
    if (!*a || !*b || side > 32) {
        dn_net_free(*a);
        dn_net_free(*b);
        return false;
    }
    dn_rng rng;
    dn_rng_seed(&rng, 31);
    dn_test_fill_uniform(&rng, input, (size_t)SAME_N * side * side, -1, 1);
    size_t count = dn_net_param_count(*a);
    CHECK(count == dn_net_param_count(*b), "same parameters");
    memcpy(dn_net_params(*b), dn_net_params(*a), count * sizeof(float));
    return true;
}

static void check_relu_done_by_next(const char *fused, const char *apart, int side)
{
    dn_net *a, *b;
    static float input[SAME_N * 32 * 32];
    const uint8_t labels[SAME_N] = {0, 1, 2, 1};
    if (!make_pair(fused, apart, side, &a, &b, input))
        return;
    float probs_a[SAME_N * 3], probs_b[SAME_N * 3];
    CHECK_OK(dn_net_predict(a, input, SAME_N, probs_a, SAME_N * 3));
    CHECK_OK(dn_net_predict(b, input, SAME_N, probs_b, SAME_N * 3));
    CHECK(!memcmp(probs_a, probs_b, sizeof probs_a), "%s: the same predictions", fused);
    check_same_gradients(a, b, fused, input, SAME_N, labels);
    dn_net_free(a);
    dn_net_free(b);
}

static void test_relu_done_by_next(void)
{
    /* conv2 + relu + max-pool in one: conv2 outputs of 10x10 and 14x14 (a
     * partial last tile) and 12x12 (whole tiles) */
    for (int side = 14; side <= 18; side += 2) {
        char fused[160], apart[160];
        snprintf(fused, sizeof fused,
                 "input 1x%dx%d; conv 8 3; relu; conv 9 3; relu; maxpool 2; flatten; linear 3",
                 side, side);
        snprintf(apart, sizeof apart,
                 "input 1x%dx%d; conv 8 3; relu; conv 9 3; relu; dropout 0; maxpool 2; flatten; "
                 "linear 3",
                 side, side);
        check_relu_done_by_next(fused, apart, side);
    }
    check_relu_done_by_next("input 1x12x12; conv 4 3; relu; maxpool 2; flatten; linear 3",
                            "input 1x12x12; conv 4 3; relu; dropout 0; maxpool 2; flatten; linear 3",
                            12);
    /* the next conv by Winograd (8 channels in and out) and by im2col + GEMM */
    check_relu_done_by_next(
        "input 1x16x16; conv 8 3; relu; conv 8 3 pad=1; relu; conv 8 3; flatten; linear 3",
        "input 1x16x16; conv 8 3; relu; dropout 0; conv 8 3 pad=1; relu; dropout 0; conv 8 3; "
        "flatten; linear 3",
        16);
    /* batchnorm computes the relu after it; a max-pool or conv after that
     * relu does its backward pass */
    check_relu_done_by_next(
        "input 1x12x12; conv 6 3; batchnorm; relu; maxpool 2; flatten; linear 8; batchnorm; relu; linear 3",
        "input 1x12x12; conv 6 3; batchnorm; dropout 0; relu; dropout 0; maxpool 2; flatten; linear 8; "
        "batchnorm; dropout 0; relu; linear 3",
        12);
    check_relu_done_by_next("input 1x16x16; conv 4 3; relu; conv 5 3; flatten; linear 3",
                            "input 1x16x16; conv 4 3; relu; dropout 0; conv 5 3; flatten; linear 3",
                            16);
}

/* Gradients only: a batchnorm after a conv is folded into it for
 * predictions, which a layer between them prevents. */
static void check_bias_grad_by_next(const char *fused, const char *apart, int side)
{
    dn_net *a, *b;
    static float input[SAME_N * 32 * 32];
    const uint8_t labels[SAME_N] = {0, 1, 2, 1};
    if (!make_pair(fused, apart, side, &a, &b, input))
        return;
    check_same_gradients(a, b, fused, input, SAME_N, labels);
    dn_net_free(a);
    dn_net_free(b);
}

/* A batchnorm right after a conv adds the conv's bias gradient from the
 * input gradient it has just written (plan.c, dn_fusion.bias_grad_of), and
 * the conv skips its own pass; with dropout 0 between them each does its
 * own. The same gradients, bit for bit, Winograd (8 channels in and out) or
 * im2col + GEMM, with a partial last Winograd tile or not. */
static void test_bias_grad_by_batchnorm(void)
{
    check_bias_grad_by_next(
        "input 1x16x16; conv 8 3 pad=1; batchnorm; relu; conv 8 3; batchnorm; relu; maxpool 2; flatten; "
        "linear 3",
        "input 1x16x16; conv 8 3 pad=1; dropout 0; batchnorm; relu; conv 8 3; dropout 0; batchnorm; relu; "
        "maxpool 2; flatten; linear 3",
        16);
    check_bias_grad_by_next("input 1x13x13; conv 9 3; batchnorm; relu; conv 10 3 pad=1; batchnorm; flatten; linear 3",
                            "input 1x13x13; conv 9 3; dropout 0; batchnorm; relu; conv 10 3 pad=1; dropout 0; "
                            "batchnorm; flatten; linear 3",
                            13);
    /* and the plan asks for it exactly there: cnn-bn's four convs */
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "cnn-bn", 1));
    if (!net)
        return;
    int asked = 0;
    for (int s = 0; s < net->plan.count; s++) {
        const dn_step *step = &net->plan.steps[s];
        bool done = step->fusion.bias_grad_done;
        if (step->fusion.bias_grad_of) {
            asked++;
            const dn_step *before = &net->plan.steps[s - 1];
            CHECK(s > 0 && before->fusion.bias_grad_done && step->fusion.bias_grad_of == &net->layers[before->layer] &&
                      strcmp(net->layers[before->layer].kind->name, "conv") == 0 &&
                      strcmp(net->layers[step->layer].kind->name, "batchnorm") == 0,
                  "step %d: a batchnorm adds the bias gradient of the conv before it", s);
        }
        CHECK(!done || (s + 1 < net->plan.count && net->plan.steps[s + 1].fusion.bias_grad_of),
              "step %d skips its bias gradient only when the next step adds it", s);
    }
    CHECK(asked == 4, "cnn-bn: the batchnorm after each of the 4 convs adds its bias gradient (%d)", asked);
    dn_net_free(net);
    /* with a layer in between, nothing of the kind */
    CHECK_OK(dn_net_new(&net, "input 1x8x8; conv 4 3; dropout 0; batchnorm; flatten; linear 3", 1));
    if (net) {
        for (int s = 0; s < net->plan.count; s++)
            CHECK(!net->plan.steps[s].fusion.bias_grad_of && !net->plan.steps[s].fusion.bias_grad_done,
                  "with a layer in between, no step adds the conv's bias gradient");
        dn_net_free(net);
    }
}

static void test_thread_determinism(const char *spec)
{
    size_t n1 = 0, n2 = 0;
    float *one = train_steps(spec, 1, &n1), *two = train_steps(spec, 2, &n2);
    CHECK(one && two && n1 == n2, "%s trains", spec);
    if (one && two) {
        CHECK(memcmp(one, two, n1 * sizeof *one) == 0,
              "%s: 3 training steps give bit-identical parameters with 1 and 2 threads", spec);
        size_t n3;
        float *again = train_steps(spec, 2, &n3);
        CHECK(again && memcmp(two, again, n1 * sizeof *one) == 0, "%s: and run to run", spec);
        free(again);
    }
#ifdef _OPENMP
    CHECK(omp_get_max_threads() >= 1, "threads restored");
#endif
    free(one);
    free(two);
}

/* Trains spec on (inputs, labels) with Adam until every sample is right. */
static void test_learns(const char *what, const char *spec, const float *inputs,
                        const uint8_t *labels, int n, int max_steps)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, spec, 1));
    if (!net)
        return;
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt;
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(net)));
    int correct = 0, step;
    float loss = 0;
    for (step = 0; step < max_steps && correct < n; step++) {
        dn_net_zero_grad(net);
        dn_net_forward(net, inputs, n, true);
        dn_net_backward(net, labels, &loss, &correct);
        dn_optim_step(opt, dn_net_params(net), dn_net_grads(net), dn_net_param_count(net), 0.01f);
    }
    CHECK(correct == n, "%s: %d of %d right after %d steps (loss %g)", what, correct, n, step,
          (double)loss);
    dn_optim_free(opt);
    dn_net_free(net);
}

static void test_learning(void)
{
    const float xor_in[] = {0, 0, 0, 1, 1, 0, 1, 1};
    const uint8_t xor_labels[] = {0, 1, 1, 0};
    test_learns("xor", "input 2x1x1; flatten; linear 8; relu; linear 2", xor_in, xor_labels, 4, 2000);

    /* three Gaussian blobs in 2-D */
    enum { BLOBS = 150 };
    float blobs[BLOBS * 2];
    uint8_t blob_labels[BLOBS];
    const float centres[3][2] = {{-2, -2}, {2, -1}, {0, 2.5f}};
    dn_rng rng;
    dn_rng_seed(&rng, 8);
    for (int i = 0; i < BLOBS; i++) {
        blob_labels[i] = (uint8_t)(i % 3);
        blobs[2 * i] = centres[i % 3][0] + 0.5f * dn_rng_normal(&rng);
        blobs[2 * i + 1] = centres[i % 3][1] + 0.5f * dn_rng_normal(&rng);
    }
    test_learns("blobs", "input 2x1x1; flatten; linear 16; relu; linear 3", blobs, blob_labels,
                BLOBS, 2000);
    /* logits that come out of a folded relu or a flatten: aliased slots */
    test_learns("blobs, relu last", "input 2x1x1; flatten; linear 16; relu; linear 3; relu", blobs,
                blob_labels, BLOBS, 3000);
    test_learns("blobs, flatten last", "input 2x1x1; conv 16 1; relu; conv 3 1; flatten", blobs,
                blob_labels, BLOBS, 3000);

    /* 8x8 images of a horizontal or vertical bar at random places, via conv and pool */
    enum { BARS = 40 };
    static float bars[BARS * 64];
    uint8_t bar_labels[BARS];
    memset(bars, 0, sizeof bars);
    for (int i = 0; i < BARS; i++) {
        int at = (int)dn_rng_below(&rng, 8), from = (int)dn_rng_below(&rng, 4);
        bar_labels[i] = (uint8_t)(i % 2);
        for (int k = from; k < from + 4; k++)
            bars[i * 64 + (bar_labels[i] ? k * 8 + at : at * 8 + k)] = 1.0f;
    }
    test_learns("bars", "input 1x8x8; conv 4 3 pad=1; relu; maxpool 2; flatten; linear 2", bars,
                bar_labels, BARS, 2000);
}

/* batchnorm's spec text, PyTorch's tensor names, its state apart from the
 * trained parameters, and the running statistics a training pass moves. */
static void test_batchnorm_spec(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "input 2x6x6; conv 4 3; batchnorm momentum=0.3 eps=0.001; relu; flatten; "
                              "linear 5; batchnorm; linear 3", 1));
    if (!net)
        return;
    CHECK(strcmp(dn_net_spec(net), "input 2x6x6; conv 4 3; batchnorm momentum=0.3 eps=0.001; relu; flatten; "
                                    "linear 5; batchnorm; linear 3") == 0,
          "canonical spec: %s", dn_net_spec(net));
    static const char *const names[] = {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                        "bn1.running_var", "bn1.num_batches_tracked", "fc1.weight", "fc1.bias",
                                        "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var",
                                        "bn2.num_batches_tracked", "fc2.weight", "fc2.bias"};
    CHECK(dn_net_param_tensor_count(net) == 16, "16 tensors: %d", dn_net_param_tensor_count(net));
    size_t trainable = 0;
    for (int t = 0; t < dn_net_param_tensor_count(net) && t < 16; t++) {
        dn_net_param p;
        CHECK_OK(dn_net_get_param(net, t, &p));
        CHECK(strcmp(p.name, names[t]) == 0, "tensor %d is %s, got %s", t, names[t], p.name);
        if (p.trainable)
            trainable += p.value.size;
        else
            CHECK(p.grad.data == NULL, "%s has no gradient", p.name);
    }
    CHECK(trainable == dn_net_param_count(net), "the optimizer's parameters are the trainable tensors only");
    dn_net_param running_var, batches;
    CHECK_OK(dn_net_get_param(net, 5, &running_var));
    CHECK_OK(dn_net_get_param(net, 6, &batches));
    CHECK(running_var.value.data[0] == 1.0f && batches.value.ndim == 0 && batches.value.data[0] == 0.0f,
          "running variance starts at 1, the batch count at 0");
    static float input[3 * 72];
    dn_rng rng;
    dn_rng_seed(&rng, 3);
    dn_test_fill_uniform(&rng, input, 3 * 72, 0.5f, 2.5f);
    CHECK_OK(dn_net_forward(net, input, 3, true));
    CHECK(running_var.value.data[0] != 1.0f && batches.value.data[0] == 1.0f,
          "a training pass moves the running statistics and counts the batch");
    float before = running_var.value.data[0];
    CHECK_OK(dn_net_forward(net, input, 3, false));
    CHECK(running_var.value.data[0] == before && batches.value.data[0] == 1.0f, "an evaluation pass does not");
    dn_net_free(net);
}

/* In evaluation a batchnorm after a conv is folded into the conv's weights
 * (and its relu with it): the same predictions as the batchnorm run apart
 * (a dropout 0 in between stops the folding), within float rounding, also
 * after training has moved the running statistics; a backward pass after
 * such a prediction is the unfolded one's, bit for bit. */
static void test_batchnorm_folding(void)
{
    const char *folded = "input 1x12x12; conv 8 3; batchnorm; relu; conv 8 3; batchnorm; maxpool 2; flatten; linear 3";
    const char *apart = "input 1x12x12; conv 8 3; dropout 0; batchnorm; relu; conv 8 3; dropout 0; batchnorm; "
                        "maxpool 2; flatten; linear 3";
    dn_net *a, *b;
    CHECK_OK(dn_net_new(&a, folded, 4));
    CHECK_OK(dn_net_new(&b, apart, 4));
    if (!a || !b) {
        dn_net_free(a);
        dn_net_free(b);
        return;
    }
    enum { N = 5 };
    static float input[N * 144];
    uint8_t labels[N] = {0, 1, 2, 1, 0};
    dn_rng rng;
    dn_rng_seed(&rng, 17);
    dn_test_fill_uniform(&rng, input, N * 144, -1, 2);
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt_a, *opt_b;
    CHECK_OK(dn_optim_new(&opt_a, &config, dn_net_param_count(a)));
    CHECK_OK(dn_optim_new(&opt_b, &config, dn_net_param_count(b)));
    for (int round = 0; round < 3; round++) {
        float pa[N * 3], pb[N * 3];
        CHECK_OK(dn_net_predict(a, input, N, pa, N * 3));
        CHECK_OK(dn_net_predict(b, input, N, pb, N * 3));
        double err = dn_test_max_abs_diff(pa, pb, N * 3);
        CHECK(err < 2e-6, "round %d: folded predictions within %g of the batchnorm run apart", round, err);
        dn_net_zero_grad(a);
        dn_net_zero_grad(b);
        CHECK_OK(dn_net_backward(a, labels, NULL, NULL));
        CHECK_OK(dn_net_backward(b, labels, NULL, NULL));
        CHECK(!memcmp(dn_net_grads(a), dn_net_grads(b), dn_net_param_count(a) * sizeof(float)),
              "round %d: a backward pass after a folded prediction is the unfolded one's", round);
        /* a training step moves weights and running statistics */
        dn_net_zero_grad(a);
        dn_net_zero_grad(b);
        CHECK_OK(dn_net_forward(a, input, N, true));
        CHECK_OK(dn_net_backward(a, labels, NULL, NULL));
        CHECK_OK(dn_net_forward(b, input, N, true));
        CHECK_OK(dn_net_backward(b, labels, NULL, NULL));
        CHECK_OK(dn_optim_step(opt_a, dn_net_params(a), dn_net_grads(a), dn_net_param_count(a), 0.05f));
        CHECK_OK(dn_optim_step(opt_b, dn_net_params(b), dn_net_grads(b), dn_net_param_count(b), 0.05f));
    }
    /* the batchnorm layers of the folded net do not run in evaluation */
    dn_net_set_profiling(a, true);
    dn_net_set_profiling(b, true);
    float probs[N * 3];
    CHECK_OK(dn_net_predict(a, input, N, probs, N * 3));
    CHECK_OK(dn_net_predict(b, input, N, probs, N * 3));
    double fa, fb, unused;
    dn_net_layer_times(a, 1, &fa, &unused);
    dn_net_layer_times(b, 2, &fb, &unused);
    CHECK(!strcmp(dn_net_layer_kind(a, 1), "batchnorm") && fa == 0.0 && fb > 0.0,
          "folded: the batchnorm takes no time of its own (%g s), apart it does (%g s)", fa, fb);
    dn_optim_free(opt_a);
    dn_optim_free(opt_b);
    dn_net_free(a);
    dn_net_free(b);
}

int main(void)
{
    test_cnn_preset();
    test_mlp_and_round_trip();
    test_bad_specs();
    test_batch_independence();
    test_backward_after_evaluation();
    test_changed_weights();
    test_relu_done_by_next();
    test_bias_grad_by_batchnorm();
    test_thread_determinism("cnn");
    test_thread_determinism("cnn-dropout");
    test_thread_determinism("mlp");
    test_thread_determinism("input 1x28x28; conv 8 3; batchnorm; relu; conv 16 3; batchnorm; relu; maxpool 2; "
                            "flatten; linear 32; batchnorm; relu; linear 10");
    test_batchnorm_spec();
    test_batchnorm_folding();
    test_learning();
    return dn_test_finish();
}
