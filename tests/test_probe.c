/* test_probe.c - dn_probe: every layer's output against the kernels run by
 * hand and the last against the net's own logits; input gradients against
 * central finite differences on small nets of every layer kind; integrated
 * gradients' completeness; the net's training state byte for byte
 * untouched; 1 thread against 2; bad arguments refused. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/net.h"
#include "digitnet/ops.h"
#include "digitnet/probe.h"
#include "test_util.h"

static dn_rng rng;

static size_t volume(const int s[3]) { return (size_t)s[0] * s[1] * s[2]; }

static size_t input_volume(const dn_net *net)
{
    int s[3];
    dn_net_input_shape(net, s);
    return volume(s);
}

/* A net of spec with random weights and, for its batchnorms, random affine
 * parameters and running statistics, as a trained net has. */
static dn_net *make_net(const char *spec, uint64_t seed)
{
    dn_net *net = NULL;
    if (dn_net_new(&net, spec, seed) != DN_OK) {
        CHECK(false, "dn_net_new(%s): %s", spec, dn_last_error());
        return NULL;
    }
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        if (dn_net_get_param(net, t, &p) != DN_OK)
            continue;
        size_t n = p.value.size;
        if (strstr(p.name, "running_var"))
            dn_test_fill_uniform(&rng, p.value.data, n, 0.3f, 2.0f);
        else if (strstr(p.name, "running_mean") || (strncmp(p.name, "bn", 2) == 0 && strstr(p.name, ".bias")))
            dn_test_fill_uniform(&rng, p.value.data, n, -0.5f, 0.5f);
        else if (strncmp(p.name, "bn", 2) == 0 && strstr(p.name, ".weight"))
            dn_test_fill_uniform(&rng, p.value.data, n, 0.5f, 1.5f);
    }
    return net;
}

/* ---- layer outputs against the kernels ---- */

/* Statement i + 1 of the canonical spec ("input 1x28x28; conv 32 3; ..."):
 * the words of layer i. */
static void layer_statement(const dn_net *net, int layer, char *text, size_t cap)
{
    const char *p = dn_net_spec(net);
    for (int i = 0; i <= layer && p; i++) {
        p = strstr(p, "; ");
        if (p)
            p += 2;
    }
    size_t len = p ? strcspn(p, ";") : 0;
    snprintf(text, cap, "%.*s", (int)len, p ? p : "");
}

static int option(const char *statement, const char *key, int fallback)
{
    const char *at = strstr(statement, key);
    return at ? atoi(at + strlen(key)) : fallback;
}

static float *tensor(dn_net *net, const char *layer, const char *suffix)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", layer, suffix);
    dn_net_param p;
    int index = dn_net_find_param(net, name);
    return index >= 0 && dn_net_get_param(net, index, &p) == DN_OK ? p.value.data : NULL;
}

/* out = layer i of net applied to in (n samples) with the public kernels. */
static bool run_layer_by_hand(dn_net *net, int i, const float *in, int n, float *out, int counters[3])
{
    int is[3], os[3];
    dn_net_layer_shapes(net, i, is, os);
    const char *kind = dn_net_layer_kind(net, i);
    char statement[256], name[16];
    layer_statement(net, i, statement, sizeof statement);
    size_t in_count = (size_t)n * volume(is);
    if (strcmp(kind, "conv") == 0) {
        snprintf(name, sizeof name, "conv%d", ++counters[0]);
        char wname[32];
        snprintf(wname, sizeof wname, "%s.weight", name);
        dn_net_param p; /* the kernel's size from the weight's shape (OC, C, KH, KW) */
        float *b = tensor(net, name, "bias");
        if (dn_net_get_param(net, dn_net_find_param(net, wname), &p) != DN_OK || !b)
            return false;
        float *w = p.value.data;
        int kernel_h = (int)p.value.shape[2], kernel_w = (int)p.value.shape[3];
        dn_conv2d_dims d = {.n = n, .in_c = is[0], .in_h = is[1], .in_w = is[2], .out_c = os[0],
                            .kernel_h = kernel_h, .kernel_w = kernel_w, .stride = option(statement, "stride=", 1),
                            .pad = option(statement, "pad=", 0)};
        if (dn_conv2d_dims_init(&d) != DN_OK || d.out_h != os[1] || d.out_w != os[2])
            return false;
        float *work = malloc(dn_conv2d_workspace_size(&d) * sizeof(float));
        dn_conv2d_forward(out, in, w, b, work, &d, false);
        free(work);
    } else if (strcmp(kind, "linear") == 0) {
        snprintf(name, sizeof name, "fc%d", ++counters[1]);
        dn_linear_forward(out, in, tensor(net, name, "weight"), tensor(net, name, "bias"), n, (int)volume(is), os[0],
                          false);
    } else if (strcmp(kind, "batchnorm") == 0) {
        snprintf(name, sizeof name, "bn%d", ++counters[2]);
        double eps = 1e-5;
        const char *at = strstr(statement, "eps=");
        if (at)
            eps = strtod(at + 4, NULL);
        dn_batchnorm_forward_eval(out, in, tensor(net, name, "weight"), tensor(net, name, "bias"),
                                  tensor(net, name, "running_mean"), tensor(net, name, "running_var"), n, is[0],
                                  is[1] * is[2], (float)eps);
    } else if (strcmp(kind, "relu") == 0) {
        dn_relu_forward(out, in, in_count);
    } else if (strcmp(kind, "maxpool") == 0) {
        int k = 0;
        sscanf(statement, "maxpool %d", &k);
        dn_maxpool2d_forward(out, NULL, in, n, is[0], is[1], is[2], k, option(statement, "stride=", k));
    } else if (strcmp(kind, "dropout") == 0 || strcmp(kind, "flatten") == 0) {
        memcpy(out, in, in_count * sizeof *in); /* evaluation: the identity */
    } else {
        return false;
    }
    return true;
}

static void test_layer_outputs(const char *spec, int n)
{
    dn_net *net = make_net(spec, 7);
    if (!net)
        return;
    size_t in_size = input_volume(net);
    float *x = malloc((size_t)n * in_size * sizeof *x);
    dn_test_fill_uniform(&rng, x, (size_t)n * in_size, -1.0f, 2.0f);
    dn_probe *probe;
    CHECK_OK(dn_probe_new(&probe, net));
    CHECK_OK(dn_probe_run(probe, x, n));
    CHECK(dn_probe_batch(probe) == n, "%s: the probe ran %d samples", spec, n);

    /* every layer from the previous one's output, by the kernels */
    const float *prev = x;
    int counters[3] = {0}, bad = 0, layers = dn_net_layer_count(net);
    double worst = 0;
    for (int i = 0; i < layers; i++) {
        const float *got;
        int shape[3], is[3], os[3];
        CHECK_OK(dn_probe_layer_output(probe, i, &got, shape));
        dn_net_layer_shapes(net, i, is, os);
        size_t count = (size_t)n * volume(os);
        float *want = malloc(count * sizeof *want);
        bool ran = run_layer_by_hand(net, i, prev, n, want, counters);
        double scale = 0;
        for (size_t k = 0; k < count; k++)
            scale = fmax(scale, fabs(want[k]));
        double diff = dn_test_max_abs_diff(got, want, count);
        worst = fmax(worst, diff / (1 + scale));
        /* Winograd rounds differently from im2col: within 1e-5 of the scale */
        if (!ran || memcmp(shape, os, sizeof os) != 0 || !(diff <= 1e-5 * (1 + scale))) {
            bad++;
            fprintf(stderr, "  layer %d (%s): ran %d, diff %g, scale %g\n", i, dn_net_layer_kind(net, i), ran, diff,
                    scale);
        }
        free(want);
        prev = got;
    }
    CHECK(bad == 0, "%s: each of %d layer outputs is the layer's kernel applied to the one before (worst %g)", spec,
          layers, worst);

    /* the last layer's output is the logits of the net's own forward pass */
    const float *logits;
    int shape[3];
    CHECK_OK(dn_probe_layer_output(probe, layers - 1, &logits, shape));
    CHECK_OK(dn_net_forward(net, x, n, false));
    size_t classes = (size_t)dn_net_num_classes(net);
    double diff = dn_test_max_abs_diff(logits, dn_net_logits(net), (size_t)n * classes);
    bool folds = strstr(dn_net_spec(net), "batchnorm") != NULL;
    if (folds) /* dn_net_forward folds a batchnorm into the conv before it: other rounding */
        CHECK(diff <= 1e-4, "%s: the last layer's output is dn_net_forward's logits within %g", spec, diff);
    else
        CHECK(diff == 0, "%s: the last layer's output is dn_net_forward's logits, bit for bit (%g)", spec, diff);
    dn_probe_free(probe);
    free(x);
    dn_net_free(net);
}

/* ---- input gradients against finite differences ---- */

/* sum_b sum_k w[b,k] logit[b,k] for the input x, in double */
static int last_layer;

static double score(dn_probe *probe, const float *x, int n, const float *w, size_t classes)
{
    if (dn_probe_run(probe, x, n) != DN_OK)
        return NAN;
    const float *logits;
    if (dn_probe_layer_output(probe, last_layer, &logits, NULL) != DN_OK)
        return NAN;
    double sum = 0;
    for (size_t k = 0; k < (size_t)n * classes; k++)
        sum += (double)w[k] * logits[k];
    return sum;
}

/* Every net here is piecewise linear in its input (batchnorm in evaluation
 * is affine), so a central difference is exact up to rounding unless the
 * step crosses a kink of a relu or a max-pool: then the one-sided
 * differences disagree beyond rounding, and the element is skipped. A
 * kink too small to see moves the central difference by at most half the
 * threshold (KINK / 2 = ATOL); tolerance is the relative error allowed
 * besides, for rounding in big nets. As rounding and a kink too small to
 * see can meet in one element, one element in 50 may be off; a wrong
 * gradient is off nearly everywhere, and the gradient as a whole (the
 * relative L2 distance) must be within the tolerance too. */
#define KINK 2e-4
#define ATOL 1e-4
static void test_input_gradient(const char *spec, int n, float h, double tolerance)
{
    dn_net *net = make_net(spec, 11);
    if (!net)
        return;
    size_t in_size = input_volume(net), classes = (size_t)dn_net_num_classes(net);
    size_t total = (size_t)n * in_size;
    float *x = malloc(total * sizeof *x), *grad = malloc(total * sizeof *grad);
    float *w = malloc((size_t)n * classes * sizeof *w);
    dn_test_fill_uniform(&rng, x, total, -1.0f, 1.0f);
    dn_test_fill_uniform(&rng, w, (size_t)n * classes, -1.0f, 1.0f);
    dn_probe *probe;
    last_layer = dn_net_layer_count(net) - 1;
    CHECK_OK(dn_probe_new(&probe, net));
    CHECK_OK(dn_probe_run(probe, x, n));
    CHECK_OK(dn_probe_input_gradient(probe, w, (size_t)n * classes, grad, total));

    /* element by element: the central difference against the gradient,
     * skipping the few elements whose step crosses a kink of a relu or a
     * max-pool (the one-sided differences then disagree) */
    size_t stride = total <= 120 ? 1 : total / 120;
    int checked = 0, kinks = 0, bad = 0;
    double worst = 0, distance = 0, length = 0;
    double mid = score(probe, x, n, w, classes);
    for (size_t i = 0; i < total; i += stride) {
        float saved = x[i];
        x[i] = saved + h;
        double up = score(probe, x, n, w, classes);
        x[i] = saved - h;
        double down = score(probe, x, n, w, classes);
        x[i] = saved;
        double right = (up - mid) / h, left = (mid - down) / h, numeric = (up - down) / (2.0 * h);
        if (fabs(right - left) > KINK + 1e-3 * fabs(numeric)) {
            kinks++;
            continue;
        }
        checked++;
        double err = fabs(numeric - grad[i]);
        worst = fmax(worst, err / (fabs(numeric) + 1e-6));
        distance += err * err;
        length += numeric * numeric;
        if (!(err <= ATOL + tolerance * fabs(numeric))) {
            bad++;
            if (bad <= 3)
                fprintf(stderr, "  %s: element %zu: gradient %g, central difference %g\n", spec, i, grad[i], numeric);
        }
    }
    double l2 = sqrt(distance / fmax(length, 1e-30));
    CHECK(bad * 50 <= checked && l2 <= 2e-2 + tolerance && checked >= kinks,
          "%s: input gradient against central differences: %d checked (%d on a kink skipped), %d off (worst "
          "relative %g), relative L2 distance %g", spec, checked, kinks, bad, worst, l2);

    /* a random direction in 16 of the inputs (in all of them, more kinks
     * lie on the way): g . d against (s(x + e d) - s(x - e d)) / 2e, with
     * the largest step of 2h/2, 2h/4, ... that crosses no kink; the
     * score's own rounding, about a float epsilon of it, divided by the
     * step, allowed for */
    float *d = calloc(total, sizeof *d), *moved = malloc(total * sizeof *moved);
    for (int k = 0; k < 16; k++)
        d[dn_rng_below(&rng, total)] = dn_rng_range(&rng, -1.0f, 1.0f);
    double along = 0;
    for (size_t i = 0; i < total; i++)
        along += (double)grad[i] * d[i];
    bool smooth = false;
    double numeric = NAN, e = 2 * h, noise = 0;
    for (int tries = 0; tries < 8 && !smooth; tries++) {
        e /= 2;
        for (size_t i = 0; i < total; i++)
            moved[i] = x[i] + (float)e * d[i];
        double up = score(probe, moved, n, w, classes);
        for (size_t i = 0; i < total; i++)
            moved[i] = x[i] - (float)e * d[i];
        double down = score(probe, moved, n, w, classes);
        double right = (up - mid) / e, left = (mid - down) / e;
        numeric = (up - down) / (2.0 * e);
        noise = 8 * FLT_EPSILON * (1 + fabs(mid)) / e;
        smooth = fabs(right - left) <= KINK + noise + 1e-3 * fabs(numeric);
    }
    CHECK(smooth && fabs(numeric - along) <= ATOL + noise + tolerance * fabs(numeric),
          "%s: along a random direction: g.d %g, central difference %g (step %g%s)", spec, along, numeric, e,
          smooth ? "" : ", every step crosses a kink");
    free(d);
    free(moved);
    dn_probe_free(probe);
    free(x);
    free(grad);
    free(w);
    dn_net_free(net);
}

/* ---- integrated gradients ---- */

static void test_integrated_gradients(void)
{
    dn_net *net = make_net("input 1x10x10; conv 4 3; relu; maxpool 2; flatten; linear 12; relu; linear 3", 5);
    if (!net)
        return;
    float x[100], base[100], ig[100], ig1[100], grad[100], mid[100], w[3] = {0, 1, 0};
    dn_test_fill_uniform(&rng, x, 100, 0.0f, 1.0f);
    dn_test_fill_uniform(&rng, base, 100, -0.2f, 0.2f);
    dn_probe *probe;
    last_layer = dn_net_layer_count(net) - 1;
    CHECK_OK(dn_probe_new(&probe, net));
    CHECK_OK(dn_probe_integrated_gradients(probe, x, base, 200, w, 3, ig, 100));
    double total = 0;
    for (int k = 0; k < 100; k++)
        total += ig[k];
    double s_x = score(probe, x, 1, w, 3), s_base = score(probe, base, 1, w, 3);
    CHECK(fabs(total - (s_x - s_base)) <= 0.02 * fmax(0.1, fabs(s_x - s_base)),
          "integrated gradients add up to score(x) - score(baseline): %g against %g", total, s_x - s_base);

    /* one step: (x - baseline) * the gradient at the midpoint */
    CHECK_OK(dn_probe_integrated_gradients(probe, x, base, 1, w, 3, ig1, 100));
    for (int k = 0; k < 100; k++)
        mid[k] = base[k] + 0.5f * (x[k] - base[k]);
    CHECK_OK(dn_probe_run(probe, mid, 1));
    CHECK_OK(dn_probe_input_gradient(probe, w, 3, grad, 100));
    int bad = 0;
    for (int k = 0; k < 100; k++)
        bad += fabsf(ig1[k] - (x[k] - base[k]) * grad[k]) > 1e-6f * (1 + fabsf(ig1[k]));
    CHECK(bad == 0, "integrated gradients with one step: (x - baseline) * the gradient at the midpoint (%d off)",
          bad);
    /* a NULL baseline is zeros */
    float zeros[100] = {0}, a[100], b[100];
    CHECK_OK(dn_probe_integrated_gradients(probe, x, NULL, 16, w, 3, a, 100));
    CHECK_OK(dn_probe_integrated_gradients(probe, x, zeros, 16, w, 3, b, 100));
    CHECK(memcmp(a, b, sizeof a) == 0, "integrated gradients: a NULL baseline is all zeros");
    dn_probe_free(probe);
    dn_net_free(net);
}

/* ---- training state ---- */

typedef struct snapshot {
    float *params, *grads;
    size_t count;
    float *state; /* every tensor that is not trainable (running statistics) */
    size_t state_count;
} snapshot;

static snapshot take(dn_net *net, float *const *state_views, const size_t *state_sizes, int states)
{
    snapshot s = {.count = dn_net_param_count(net)};
    s.params = malloc(s.count * sizeof(float));
    s.grads = malloc(s.count * sizeof(float));
    memcpy(s.params, dn_net_params(net), s.count * sizeof(float));
    memcpy(s.grads, dn_net_grads(net), s.count * sizeof(float));
    for (int i = 0; i < states; i++)
        s.state_count += state_sizes[i];
    s.state = malloc((s.state_count + 1) * sizeof(float));
    size_t at = 0;
    for (int i = 0; i < states; i++) {
        memcpy(s.state + at, state_views[i], state_sizes[i] * sizeof(float));
        at += state_sizes[i];
    }
    return s;
}

static bool same(const snapshot *a, const snapshot *b)
{
    return a->count == b->count && a->state_count == b->state_count &&
           memcmp(a->params, b->params, a->count * sizeof(float)) == 0 &&
           memcmp(a->grads, b->grads, a->count * sizeof(float)) == 0 &&
           memcmp(a->state, b->state, a->state_count * sizeof(float)) == 0;
}

static void release(snapshot *s)
{
    free(s->params);
    free(s->grads);
    free(s->state);
}

static void training_step(dn_net *net, const float *x, const uint8_t *labels, int n, float *loss)
{
    CHECK_OK(dn_net_forward(net, x, n, true));
    CHECK_OK(dn_net_backward(net, labels, loss, NULL));
}

static void test_training_state_untouched(const char *spec)
{
    enum { N = 4 };
    dn_net *a = make_net(spec, 3), *b = make_net(spec, 3);
    if (!a || !b) {
        dn_net_free(a);
        dn_net_free(b);
        return;
    }
    for (int t = 0; t < dn_net_param_tensor_count(a); t++) { /* b a twin of a */
        dn_net_param pa, pb;
        if (dn_net_get_param(a, t, &pa) == DN_OK && dn_net_get_param(b, t, &pb) == DN_OK)
            memcpy(pb.value.data, pa.value.data, pa.value.size * sizeof(float));
    }
    size_t in_size = input_volume(a);
    float *x = malloc(N * in_size * sizeof *x), *grad = malloc(N * in_size * sizeof *grad), loss_a, loss_b;
    dn_test_fill_uniform(&rng, x, N * in_size, -1.0f, 1.0f);
    uint8_t labels[N] = {1, 0, 2, 1};
    /* both nets one training step in: gradients, running statistics and
     * the dropout generator all moved */
    training_step(a, x, labels, N, &loss_a);
    training_step(b, x, labels, N, &loss_b);

    float *views[16];
    size_t sizes[16];
    int states = 0;
    for (int t = 0; t < dn_net_param_tensor_count(a) && states < 16; t++) {
        dn_net_param p;
        if (dn_net_get_param(a, t, &p) == DN_OK && !p.trainable) {
            views[states] = p.value.data;
            sizes[states++] = p.value.size;
        }
    }
    size_t classes = (size_t)dn_net_num_classes(a);
    float *logits_before = malloc(N * classes * sizeof(float));
    memcpy(logits_before, dn_net_logits(a), N * classes * sizeof(float));
    snapshot before = take(a, views, sizes, states);

    dn_probe *probe;
    CHECK_OK(dn_probe_new(&probe, a));
    float *w = calloc(N * classes, sizeof *w), ig[4096];
    for (int i = 0; i < N; i++)
        w[(size_t)i * classes + labels[i]] = 1;
    CHECK_OK(dn_probe_run(probe, x, N));
    CHECK_OK(dn_probe_input_gradient(probe, w, N * classes, grad, N * in_size));
    if (in_size <= 4096)
        CHECK_OK(dn_probe_integrated_gradients(probe, x, NULL, 8, w, classes, ig, in_size));

    snapshot after = take(a, views, sizes, states);
    CHECK(same(&before, &after) && (states > 0) == (strstr(spec, "batchnorm") != NULL),
          "%s: parameters, gradients and %d running statistics byte for byte the same after probing", spec, states);
    CHECK(memcmp(logits_before, dn_net_logits(a), N * classes * sizeof(float)) == 0,
          "%s: the net's own last outputs are untouched", spec);

    /* and the net goes on exactly as its twin that was never probed:
     * the same dropout masks, batch statistics and gradients */
    training_step(a, x, labels, N, &loss_a);
    training_step(b, x, labels, N, &loss_b);
    snapshot ta = take(a, views, sizes, 0), tb = take(b, views, sizes, 0);
    CHECK(loss_a == loss_b && same(&ta, &tb), "%s: the next training step is bit for bit its unprobed twin's (%g, %g)",
          spec, loss_a, loss_b);
    release(&before);
    release(&after);
    release(&ta);
    release(&tb);
    dn_probe_free(probe);
    free(w);
    free(x);
    free(grad);
    free(logits_before);
    dn_net_free(a);
    dn_net_free(b);
}

/* ---- threads ---- */

static void probe_all(dn_net *net, int threads, const float *x, int n, float **outputs, float *grad, float *ig)
{
    dn_probe *probe;
    CHECK_OK(dn_probe_new(&probe, net));
    dn_probe_set_threads(probe, threads);
    size_t classes = (size_t)dn_net_num_classes(net), in_size = input_volume(net);
    float *w = malloc((size_t)n * classes * sizeof *w);
    for (size_t k = 0; k < (size_t)n * classes; k++)
        w[k] = (float)((k * 7) % 5) - 2.0f;
    CHECK_OK(dn_probe_run(probe, x, n));
    for (int i = 0; i < dn_net_layer_count(net); i++) {
        const float *out;
        int shape[3];
        CHECK_OK(dn_probe_layer_output(probe, i, &out, shape));
        memcpy(outputs[i], out, (size_t)n * volume(shape) * sizeof *out);
    }
    CHECK_OK(dn_probe_input_gradient(probe, w, (size_t)n * classes, grad, (size_t)n * in_size));
    CHECK_OK(dn_probe_integrated_gradients(probe, x, NULL, 20, w, classes, ig, in_size));
    free(w);
    dn_probe_free(probe);
}

static void test_threads(const char *spec, int n)
{
    dn_net *net = make_net(spec, 9);
    if (!net)
        return;
    size_t in_size = input_volume(net);
    int layers = dn_net_layer_count(net);
    float *x = malloc((size_t)n * in_size * sizeof *x);
    dn_test_fill_uniform(&rng, x, (size_t)n * in_size, -0.5f, 1.5f);
    float **one = calloc((size_t)layers, sizeof *one), **two = calloc((size_t)layers, sizeof *two);
    for (int i = 0; i < layers; i++) {
        int is[3], os[3];
        dn_net_layer_shapes(net, i, is, os);
        one[i] = malloc((size_t)n * volume(os) * sizeof(float));
        two[i] = malloc((size_t)n * volume(os) * sizeof(float));
    }
    float *g1 = malloc((size_t)n * in_size * sizeof(float)), *g2 = malloc((size_t)n * in_size * sizeof(float));
    float *ig1 = malloc(in_size * sizeof(float)), *ig2 = malloc(in_size * sizeof(float));
    probe_all(net, 1, x, n, one, g1, ig1);
    probe_all(net, 2, x, n, two, g2, ig2);
    int differ = 0;
    for (int i = 0; i < layers; i++) {
        int is[3], os[3];
        dn_net_layer_shapes(net, i, is, os);
        differ += memcmp(one[i], two[i], (size_t)n * volume(os) * sizeof(float)) != 0;
        free(one[i]);
        free(two[i]);
    }
    CHECK(differ == 0 && memcmp(g1, g2, (size_t)n * in_size * sizeof(float)) == 0 &&
              memcmp(ig1, ig2, in_size * sizeof(float)) == 0,
          "%s: layer outputs (%d differ), input gradients and integrated gradients bit-identical with 1 and 2 "
          "threads", spec, differ);
    free(one);
    free(two);
    free(g1);
    free(g2);
    free(ig1);
    free(ig2);
    free(x);
    dn_net_free(net);
}

/* ---- probes in other threads while the net predicts ---- */

typedef struct worker {
    dn_net *net;
    const float *x;
    float logits[10], grad[784];
    bool ok;
} worker;

static void *probe_in_thread(void *arg)
{
    worker *job = arg;
    dn_probe *probe;
    job->ok = dn_probe_new(&probe, job->net) == DN_OK;
    float w[10] = {0, 0, 0, 1};
    for (int r = 0; job->ok && r < 20; r++) {
        const float *logits;
        job->ok = dn_probe_run(probe, job->x, 1) == DN_OK &&
                  dn_probe_layer_output(probe, dn_net_layer_count(job->net) - 1, &logits, NULL) == DN_OK &&
                  dn_probe_input_gradient(probe, w, 10, job->grad, 784) == DN_OK;
        if (job->ok)
            memcpy(job->logits, logits, sizeof job->logits);
    }
    if (job->ok)
        dn_probe_free(probe);
    return NULL;
}

static void test_concurrent(void)
{
    dn_net *net = make_net("cnn", 4);
    if (!net)
        return;
    float x[784], probs[10];
    dn_test_fill_uniform(&rng, x, 784, -0.4f, 2.8f);
    worker alone = {.net = net, .x = x};
    probe_in_thread(&alone);
    worker jobs[2] = {{.net = net, .x = x}, {.net = net, .x = x}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&threads[i], NULL, probe_in_thread, &jobs[i]);
    int predicted = 0;
    for (int r = 0; r < 20; r++)
        predicted += dn_net_predict(net, x, 1, probs, 10) == DN_OK;
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    bool ok = alone.ok && predicted == 20;
    for (int i = 0; i < 2; i++)
        ok = ok && jobs[i].ok && memcmp(jobs[i].logits, alone.logits, sizeof alone.logits) == 0 &&
             memcmp(jobs[i].grad, alone.grad, sizeof alone.grad) == 0;
    CHECK(ok, "two probes in two threads while the net predicts in a third: the results of a probe alone");
    dn_net_free(net);
}

/* ---- the weights change between runs ---- */

static void test_weights_change(void)
{
    dn_net *net = make_net("input 8x10x10; conv 8 3; relu; conv 8 3; relu; maxpool 2; flatten; linear 3", 2);
    if (!net)
        return;
    float x[800];
    dn_test_fill_uniform(&rng, x, 800, -1.0f, 1.0f);
    dn_probe *probe;
    CHECK_OK(dn_probe_new(&probe, net));
    CHECK_OK(dn_probe_run(probe, x, 1));
    float *params = dn_net_params(net);
    for (size_t k = 0; k < dn_net_param_count(net); k++)
        params[k] *= -1.5f;
    CHECK_OK(dn_probe_run(probe, x, 1));
    const float *logits;
    CHECK_OK(dn_probe_layer_output(probe, dn_net_layer_count(net) - 1, &logits, NULL));
    CHECK_OK(dn_net_forward(net, x, 1, false));
    CHECK(dn_test_max_abs_diff(logits, dn_net_logits(net), 3) == 0,
          "new weights: the probe's Winograd conv uses them, not its cached transform of the old ones");
    dn_probe_free(probe);
    dn_net_free(net);
}

/* ---- the kernels asked for the input gradient alone ---- */

/* dn_conv2d_backward and dn_linear_backward without parameter gradients
 * (what a probe asks) give the input gradient of the full call, bit for
 * bit: im2col and Winograd convs, several images. */
static void test_input_gradient_only(void)
{
    static const dn_conv2d_dims shapes[] = {
        {.n = 3, .in_c = 2, .in_h = 9, .in_w = 7, .out_c = 5, .kernel_h = 3, .kernel_w = 3, .stride = 2, .pad = 1},
        {.n = 5, .in_c = 8, .in_h = 12, .in_w = 12, .out_c = 16, .kernel_h = 3, .kernel_w = 3, .stride = 1, .pad = 1},
    };
    for (int t = 0; t < 2; t++) {
        dn_conv2d_dims d = shapes[t];
        CHECK_OK(dn_conv2d_dims_init(&d));
        size_t in = (size_t)d.n * d.in_c * d.in_h * d.in_w, out = (size_t)d.n * d.out_c * d.out_h * d.out_w;
        size_t wsize = (size_t)d.out_c * d.in_c * 9;
        float *x = malloc(in * 4), *w = malloc(wsize * 4), *dout = malloc(out * 4), *full = malloc(in * 4);
        float *alone = malloc(in * 4), *dw = calloc(wsize, 4), *db = calloc((size_t)d.out_c, 4);
        float *work = malloc(dn_conv2d_workspace_size(&d) * 4);
        dn_test_fill_uniform(&rng, x, in, -1, 1);
        dn_test_fill_uniform(&rng, w, wsize, -1, 1);
        dn_test_fill_uniform(&rng, dout, out, -1, 1);
        dn_conv2d_backward(full, dw, db, dout, x, w, work, &d);
        dn_conv2d_backward(alone, NULL, NULL, dout, x, w, work, &d);
        CHECK(memcmp(full, alone, in * 4) == 0, "conv %s: the input gradient alone is the full call's, bit for bit",
              t ? "(Winograd)" : "(im2col)");
        free(x);
        free(w);
        free(dout);
        free(full);
        free(alone);
        free(dw);
        free(db);
        free(work);
    }
    float x[3 * 7], w[4 * 7], dout[3 * 4], full[3 * 7], alone[3 * 7], dw[4 * 7] = {0}, db[4] = {0};
    dn_test_fill_uniform(&rng, x, 21, -1, 1);
    dn_test_fill_uniform(&rng, w, 28, -1, 1);
    dn_test_fill_uniform(&rng, dout, 12, -1, 1);
    dn_linear_backward(full, dw, db, dout, x, w, 3, 7, 4);
    dn_linear_backward(alone, NULL, NULL, dout, x, w, 3, 7, 4);
    CHECK(memcmp(full, alone, sizeof full) == 0, "linear: the input gradient alone is the full call's, bit for bit");
}

/* ---- bad arguments ---- */

static void test_errors(void)
{
    dn_net *net = make_net("mlp", 1);
    if (!net)
        return;
    dn_probe *probe = NULL;
    CHECK(dn_probe_new(NULL, net) == DN_ERR_ARG && dn_probe_new(&probe, NULL) == DN_ERR_ARG && !probe,
          "dn_probe_new: NULL arguments refused");
    CHECK_OK(dn_probe_new(&probe, net));
    float x[784] = {0}, grad[784], w[10] = {1}, big[2 * 784];
    const float *out;
    int shape[3];
    CHECK(dn_probe_layer_output(probe, 0, &out, shape) == DN_ERR_ARG && !out, "a layer output before a run: refused");
    CHECK(dn_probe_input_gradient(probe, w, 10, grad, 784) == DN_ERR_ARG, "an input gradient before a run: refused");
    CHECK(dn_probe_run(probe, x, 0) == DN_ERR_ARG && dn_probe_run(probe, NULL, 1) == DN_ERR_ARG,
          "a run of 0 samples or of no input: refused");
    CHECK_OK(dn_probe_run(probe, x, 1));
    int layers = dn_net_layer_count(net);
    CHECK(dn_probe_layer_output(probe, -1, &out, shape) == DN_ERR_ARG &&
              dn_probe_layer_output(probe, layers, &out, shape) == DN_ERR_ARG,
          "layers -1 and %d do not exist", layers);
    CHECK_OK(dn_probe_layer_output(probe, 1, &out, shape));
    CHECK(shape[0] == 128 && shape[1] == 1 && shape[2] == 1, "mlp layer 1 is 128 features");
    CHECK(dn_probe_input_gradient(probe, w, 9, grad, 784) == DN_ERR_ARG &&
              dn_probe_input_gradient(probe, w, 20, grad, 784) == DN_ERR_ARG,
          "weights that are not n x classes: refused");
    grad[783] = 12345;
    CHECK(dn_probe_input_gradient(probe, w, 10, grad, 783) == DN_ERR_ARG && grad[783] == 12345,
          "a gradient buffer one float short: refused, nothing written");
    w[3] = NAN;
    CHECK(dn_probe_input_gradient(probe, w, 10, grad, 784) == DN_ERR_ARG, "a NaN weight: refused");
    w[3] = INFINITY;
    CHECK(dn_probe_input_gradient(probe, w, 10, grad, 784) == DN_ERR_ARG, "an infinite weight: refused");
    w[3] = 0;
    CHECK(dn_probe_integrated_gradients(probe, x, NULL, 0, w, 10, grad, 784) == DN_ERR_ARG &&
              dn_probe_integrated_gradients(probe, x, NULL, DN_PROBE_MAX_STEPS + 1, w, 10, grad, 784) == DN_ERR_ARG &&
              dn_probe_integrated_gradients(probe, x, NULL, 4, w, 9, grad, 784) == DN_ERR_ARG &&
              dn_probe_integrated_gradients(probe, x, NULL, 4, w, 10, grad, 700) == DN_ERR_ARG,
          "integrated gradients: 0 or %d steps, 9 weights, a short buffer: refused", DN_PROBE_MAX_STEPS + 1);

    /* an input that overflows: DN_ERR_NUMERIC, and no gradient of it */
    for (int k = 0; k < 784; k++)
        big[k] = 3e38f;
    CHECK(dn_probe_run(probe, big, 1) == DN_ERR_NUMERIC, "an input that overflows the logits: DN_ERR_NUMERIC");
    CHECK(dn_probe_input_gradient(probe, w, 10, grad, 784) == DN_ERR_ARG, "  and its gradient is refused");
    dn_probe_free(probe);

    /* the memory limit holds for the probe's batches */
    dn_net_set_memory_limit(net, (size_t)4 << 20);
    CHECK_OK(dn_probe_new(&probe, net));
    static float many[2000 * 784];
    CHECK(dn_probe_run(probe, many, 2000) == DN_ERR_LIMIT, "a batch over the memory limit: DN_ERR_LIMIT (%s)",
          dn_last_error());
    CHECK_OK(dn_probe_run(probe, many, 1));
    dn_probe_free(probe);
    dn_probe_free(NULL);
    dn_net_free(net);
}

/* dn_probe_param: the net's own values, read without counting as a change */
static void test_param(void)
{
    dn_net *net = make_net("cnn-bn", 8);
    if (!net)
        return;
    dn_probe *probe;
    CHECK_OK(dn_probe_new(&probe, net));
    int index = dn_net_find_param(net, "conv1.weight"), ndim = 0, shape[4] = {0};
    dn_net_param p;
    CHECK_OK(dn_net_get_param(net, index, &p));
    const float *values;
    size_t count;
    CHECK_OK(dn_probe_param(probe, "conv1.weight", &values, &count, &ndim, shape));
    CHECK(values == p.value.data && count == 288 && ndim == 4 && shape[0] == 32 && shape[1] == 1 && shape[2] == 3 &&
              shape[3] == 3, "dn_probe_param(conv1.weight): the net's 32x1x3x3 weights");
    CHECK_OK(dn_probe_param(probe, "bn2.running_var", &values, &count, NULL, NULL));
    CHECK(count == 32, "dn_probe_param(bn2.running_var): 32 floats");
    CHECK(dn_probe_param(probe, "conv9.weight", &values, &count, NULL, NULL) == DN_ERR_ARG && !values && !count &&
              dn_probe_param(probe, "conv1", &values, &count, NULL, NULL) == DN_ERR_ARG &&
              dn_probe_param(probe, "conv1.weights", &values, &count, NULL, NULL) == DN_ERR_ARG &&
              dn_probe_param(probe, "", &values, &count, NULL, NULL) == DN_ERR_ARG,
          "dn_probe_param: conv9.weight, conv1, conv1.weights and \"\" do not exist");
    dn_probe_free(probe);
    dn_net_free(net);
}

int main(void)
{
    dn_rng_seed(&rng, 2026);
    static const char *every_kind[] = {
        "mlp",
        "cnn",
        "cnn-dropout",
        "cnn-bn",
        /* im2col conv with padding and stride, maxpool 3 stride 2, batchnorm after a conv and a linear layer */
        ("input 2x13x13; conv 5 3 stride=2 pad=1; batchnorm; relu; conv 4 2; relu; maxpool 3 stride=2; flatten; "
         "dropout 0.3; linear 9; batchnorm eps=0.001; relu; linear 4"),
        /* Winograd convs (8 channels in and out), one with the fused pool in the net */
        "input 8x12x12; conv 8 3 pad=1; relu; conv 8 3; relu; maxpool 2; flatten; linear 5",
    };
    for (size_t i = 0; i < sizeof every_kind / sizeof every_kind[0]; i++)
        test_layer_outputs(every_kind[i], 3);

    static const struct {
        const char *spec;
        int n;
        float h;
        double tolerance;
    } small[] = {
        {"input 1x6x6; conv 3 3 pad=1; flatten; linear 4", 2, 1e-2f, 2e-3}, /* no kink at all */
        {"input 1x6x6; conv 3 3 pad=1; relu; flatten; linear 4", 2, 1e-2f, 2e-3},
        {"input 2x9x9; conv 4 3 stride=2; relu; flatten; linear 3", 1, 1e-2f, 2e-3},
        {"input 8x8x8; conv 8 3 pad=1; relu; conv 8 3; flatten; linear 3", 1, 1e-2f, 2e-3},
        {"input 2x8x8; conv 4 3 pad=1; relu; maxpool 2; flatten; linear 3", 2, 1e-2f, 2e-3},
        {"input 1x9x9; conv 3 2; relu; maxpool 3 stride=2; flatten; linear 3", 1, 1e-2f, 2e-3},
        {"input 8x10x10; conv 8 3; relu; maxpool 2; flatten; linear 3", 1, 1e-2f, 2e-3},
        {"input 1x8x8; conv 4 3; batchnorm; relu; flatten; linear 6; batchnorm; relu; linear 3", 2, 1e-2f, 2e-3},
        {"input 1x8x8; flatten; dropout 0.5; linear 5; relu; dropout 0.3; linear 3", 2, 1e-2f, 2e-3},
        {"input 3x1x1; flatten; linear 4; batchnorm; linear 2", 1, 1e-2f, 2e-3},
        {"mlp", 1, 3e-3f, 2e-3},
        /* rounding in sums of thousands of terms: a few percent of gradients
         * of 1e-3 (a wrong gradient is off by its own size) */
        {"cnn", 1, 1e-3f, 3e-2},
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        test_input_gradient(small[i].spec, small[i].n, small[i].h, small[i].tolerance);

    test_integrated_gradients();
    test_training_state_untouched("cnn-dropout");
    test_training_state_untouched("input 1x10x10; conv 4 3; batchnorm; relu; maxpool 2; flatten; dropout 0.5; "
                                  "linear 8; batchnorm; relu; linear 3");
    test_threads("cnn", 5);
    test_threads("input 1x12x12; conv 8 3; batchnorm; relu; conv 8 3; relu; maxpool 2; flatten; linear 4", 3);
    test_concurrent();
    test_weights_change();
    test_input_gradient_only();
    test_param();
    test_errors();
    return dn_test_finish();
}
