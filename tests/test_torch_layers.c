/* test_torch_layers.c - every layer kernel against PyTorch reference values
 * (tests/fixtures/torch_layers.txt): forward within 1e-4 absolute, gradients
 * within 1e-3 relative. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/ops.h"
#include "fixture.h"
#include "internal.h"
#include "test_util.h"

static dn_fixture fx;

static const float *get(const char *case_name, const char *key, size_t *size)
{
    char name[128];
    snprintf(name, sizeof name, "%s.%s", case_name, key);
    const dn_fixture_tensor *t = dn_fixture_get(&fx, name);
    if (!t)
        return NULL;
    if (size)
        *size = t->size;
    return t->data;
}

/* Largest |got - want| relative to max(|want|) of the tensor (at least 1). */
static double relative_error(const float *got, const float *want, size_t n)
{
    double scale = 1.0, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        worst = isnan(d) ? INFINITY : fmax(worst, d);
    }
    return worst / scale;
}

static void check_forward(const char *what, const float *got, const float *want, size_t n)
{
    double err = dn_test_max_abs_diff(got, want, n);
    CHECK(err <= 1e-4, "%s: max abs error %g > 1e-4", what, err);
}

static void check_gradient(const char *what, const float *got, const float *want, size_t n)
{
    double err = relative_error(got, want, n);
    CHECK(err <= 1e-3, "%s: relative error %g > 1e-3", what, err);
}

/* The tensors of a conv or linear case: its config, the inputs, and
 * PyTorch's output and gradients for the upstream gradient dout. */
typedef struct layer_case {
    const float *config, *in, *weight, *bias, *dout, *want_out, *want_din, *want_dw, *want_db;
    size_t in_size, out_size, w_size;
} layer_case;

/* Fetches every tensor of case name; false (a failed check) if one is missing. */
static bool get_layer_case(const char *name, layer_case *c)
{
    c->config = get(name, "config", NULL);
    c->in = get(name, "input", &c->in_size);
    c->weight = get(name, "weight", &c->w_size);
    c->bias = get(name, "bias", NULL);
    c->dout = get(name, "dout", &c->out_size);
    c->want_out = get(name, "out", NULL);
    c->want_din = get(name, "din", NULL);
    c->want_dw = get(name, "dweight", NULL);
    c->want_db = get(name, "dbias", NULL);
    bool complete = c->config && c->in && c->weight && c->bias && c->dout && c->want_out && c->want_din &&
                    c->want_dw && c->want_db;
    if (!complete)
        CHECK(0, "%s: fixture incomplete", name);
    return complete;
}

/* Checks a case's output and its three gradients (the bias has bias_size). */
static void check_layer(const char *name, const layer_case *c, const float *out, const float *din, const float *dw,
                        const float *db, size_t bias_size)
{
    char what[64];
    snprintf(what, sizeof what, "%s forward", name);
    check_forward(what, out, c->want_out, c->out_size);
    snprintf(what, sizeof what, "%s din", name);
    check_gradient(what, din, c->want_din, c->in_size);
    snprintf(what, sizeof what, "%s dweight", name);
    check_gradient(what, dw, c->want_dw, c->w_size);
    snprintf(what, sizeof what, "%s dbias", name);
    check_gradient(what, db, c->want_db, bias_size);
}

static void test_conv(const char *name)
{
    layer_case c;
    if (!get_layer_case(name, &c))
        return;
    const float *config = c.config;
    dn_conv2d_dims d = {.n = (int)config[0], .in_c = (int)config[1], .in_h = (int)config[2],
                        .in_w = (int)config[3], .out_c = (int)config[4], .kernel_h = (int)config[5],
                        .kernel_w = (int)config[6], .stride = (int)config[7], .pad = (int)config[8]};
    CHECK(dn_conv2d_dims_init(&d) == DN_OK, "%s: dims valid", name);
    CHECK((size_t)d.n * d.out_c * d.out_h * d.out_w == c.out_size, "%s: output size %dx%d matches PyTorch",
          name, d.out_h, d.out_w);
    float *out = calloc(c.out_size, sizeof *out), *din = calloc(c.in_size, sizeof *din);
    float *dw = calloc(c.w_size, sizeof *dw), *db = calloc((size_t)d.out_c, sizeof *db);
    float *work = dn_alloc(dn_conv2d_workspace_size(&d) * sizeof(float));
    dn_conv2d_forward(out, c.in, c.weight, c.bias, work, &d, false);
    dn_conv2d_backward(din, dw, db, c.dout, c.in, c.weight, work, &d);
    check_layer(name, &c, out, din, dw, db, (size_t)d.out_c);

    /* The fused conv+relu forward is max(0, PyTorch's output). */
    char what[64];
    dn_conv2d_forward(out, c.in, c.weight, c.bias, work, &d, true);
    float *want_relu = malloc(c.out_size * sizeof *want_relu);
    for (size_t i = 0; i < c.out_size; i++)
        want_relu[i] = c.want_out[i] > 0 ? c.want_out[i] : 0;
    snprintf(what, sizeof what, "%s forward with relu", name);
    check_forward(what, out, want_relu, c.out_size);
    free(want_relu);

    /* Parameter gradients accumulate: a second backward doubles them. */
    dn_conv2d_backward(din, dw, db, c.dout, c.in, c.weight, work, &d);
    for (size_t i = 0; i < c.w_size; i++)
        dw[i] *= 0.5f;
    snprintf(what, sizeof what, "%s dweight accumulates", name);
    check_gradient(what, dw, c.want_dw, c.w_size);
    free(out);
    free(din);
    free(dw);
    free(db);
    dn_free(work);
}

static void test_pool(const char *name)
{
    size_t in_size, out_size;
    const float *config = get(name, "config", NULL), *in = get(name, "input", &in_size);
    const float *dout = get(name, "dout", &out_size), *want_out = get(name, "out", NULL);
    const float *want_din = get(name, "din", NULL);
    if (!config || !in || !dout || !want_out || !want_din) {
        CHECK(0, "%s: fixture incomplete", name);
        return;
    }
    int n = (int)config[0], c = (int)config[1], h = (int)config[2], w = (int)config[3];
    int k = (int)config[4], s = (int)config[5];
    float *out = calloc(out_size, sizeof *out), *din = malloc(in_size * sizeof *din);
    int32_t *argmax = calloc(out_size, sizeof *argmax);
    for (size_t i = 0; i < in_size; i++)
        din[i] = NAN; /* backward must overwrite every element */
    dn_maxpool2d_forward(out, argmax, in, n, c, h, w, k, s);
    dn_maxpool2d_backward(din, dout, argmax, n, c, h, w, k, s);
    char what[64];
    snprintf(what, sizeof what, "%s forward", name);
    check_forward(what, out, want_out, out_size);
    snprintf(what, sizeof what, "%s din", name);
    check_gradient(what, din, want_din, in_size);
    free(out);
    free(din);
    free(argmax);
}

static void test_linear(const char *name)
{
    layer_case c;
    if (!get_layer_case(name, &c))
        return;
    int n = (int)c.config[0], i_f = (int)c.config[1], o_f = (int)c.config[2];
    float *out = calloc(c.out_size, sizeof *out), *din = calloc(c.in_size, sizeof *din);
    float *dw = calloc(c.w_size, sizeof *dw), *db = calloc((size_t)o_f, sizeof *db);
    dn_linear_forward(out, c.in, c.weight, c.bias, n, i_f, o_f, false);
    dn_linear_backward(din, dw, db, c.dout, c.in, c.weight, n, i_f, o_f);
    check_layer(name, &c, out, din, dw, db, (size_t)o_f);
    dn_linear_forward(out, c.in, c.weight, c.bias, n, i_f, o_f, true);
    for (size_t i = 0; i < c.out_size; i++)
        out[i] -= c.want_out[i] > 0 ? c.want_out[i] : 0;
    char what[64];
    snprintf(what, sizeof what, "%s forward with relu", name);
    CHECK(dn_test_max_abs_diff(out, (float[256]){0}, c.out_size) <= 1e-4, "%s", what);
    free(out);
    free(din);
    free(dw);
    free(db);
}

static void test_cross_entropy(void)
{
    size_t size, n;
    const float *logits = get("xent", "logits", &size), *labels_f = get("xent", "labels", &n);
    const float *want_loss = get("xent", "loss", NULL), *want_probs = get("xent", "probs", NULL);
    const float *want_dlogits = get("xent", "dlogits", NULL);
    if (!logits || !labels_f || !want_loss || !want_probs || !want_dlogits) {
        CHECK(0, "xent: fixture incomplete");
        return;
    }
    int classes = (int)(size / n);
    uint8_t labels[16];
    for (size_t i = 0; i < n; i++)
        labels[i] = (uint8_t)labels_f[i];
    float probs[160], dlogits[160], probs2[160];
    float loss = dn_cross_entropy_forward(probs, logits, labels, (int)n, classes);
    CHECK(isfinite(loss) && fabs(loss - want_loss[0]) <= 1e-4 * fmax(1.0, fabs(want_loss[0])),
          "xent loss %.7g vs PyTorch %.7g", loss, want_loss[0]);
    check_forward("xent probs", probs, want_probs, size);
    dn_softmax_forward(probs2, logits, (int)n, classes);
    check_forward("softmax", probs2, want_probs, size);
    dn_cross_entropy_backward(dlogits, probs, labels, (int)n, classes);
    check_gradient("xent dlogits", dlogits, want_dlogits, size);
}

/* BatchNorm (2-D and 1-D): three training steps whose outputs and running
 * statistics must follow PyTorch's, the third one's gradients, and an
 * evaluation forward with the running statistics. */
static void test_batchnorm(const char *name)
{
    const float *config = get(name, "config", NULL), *weight = get(name, "weight", NULL);
    const float *bias = get(name, "bias", NULL);
    CHECK(config && weight && bias, "%s: fixture present", name);
    if (!config || !weight || !bias)
        return;
    size_t dims;
    get(name, "config", &dims);
    const int n = (int)config[0], c = (int)config[1];
    int plane = 1; /* H*W for BatchNorm2d, 1 for BatchNorm1d */
    for (size_t d = 2; d < dims; d++)
        plane *= (int)config[d];
    size_t size = (size_t)n * c * plane;
    float *out = malloc(size * 4), *din = malloc(size * 4), mean[16], inv_std[16];
    float running_mean[16] = {0}, running_var[16], dweight[16] = {0}, dbias[16] = {0};
    for (int ch = 0; ch < c; ch++)
        running_var[ch] = 1.0f;
    const float *in = NULL;
    char what[64];
    for (int step = 0; step < 3; step++) {
        char key[16];
        snprintf(key, sizeof key, "input%d", step);
        in = get(name, key, NULL);
        snprintf(key, sizeof key, "out%d", step);
        const float *want = get(name, key, NULL);
        if (!in || !want)
            break;
        dn_batchnorm_forward_train(out, mean, inv_std, running_mean, running_var, in, weight, bias, n, c, plane,
                                   0.1f, 1e-5f);
        snprintf(what, sizeof what, "%s training step %d output", name, step + 1);
        check_forward(what, out, want, size);
    }
    const float *dout = get(name, "dout", NULL), *want_din = get(name, "din", NULL);
    const float *want_dw = get(name, "dweight", NULL), *want_db = get(name, "dbias", NULL);
    const float *want_rm = get(name, "running_mean", NULL), *want_rv = get(name, "running_var", NULL);
    const float *eval_in = get(name, "eval_input", NULL), *eval_out = get(name, "eval_out", NULL);
    CHECK(in && dout && want_din && want_dw && want_db && want_rm && want_rv && eval_in && eval_out,
          "%s: every tensor present", name);
    if (in && dout && want_din && want_dw && want_db && want_rm && want_rv && eval_in && eval_out) {
        dn_batchnorm_backward(din, dweight, dbias, dout, in, weight, mean, inv_std, true, n, c, plane);
        snprintf(what, sizeof what, "%s din", name);
        check_gradient(what, din, want_din, size);
        snprintf(what, sizeof what, "%s dweight", name);
        check_gradient(what, dweight, want_dw, (size_t)c);
        snprintf(what, sizeof what, "%s dbias", name);
        check_gradient(what, dbias, want_db, (size_t)c);
        snprintf(what, sizeof what, "%s running mean after 3 steps", name);
        check_forward(what, running_mean, want_rm, (size_t)c);
        snprintf(what, sizeof what, "%s running variance after 3 steps", name);
        check_forward(what, running_var, want_rv, (size_t)c);
        dn_batchnorm_forward_eval(out, eval_in, weight, bias, running_mean, running_var, n, c, plane, 1e-5f);
        snprintf(what, sizeof what, "%s evaluation output", name);
        check_forward(what, out, eval_out, size);
    }
    free(out);
    free(din);
}

int main(void)
{
    if (!dn_fixture_load(&fx, "torch_layers.txt"))
        return 1;
    test_conv("conv_a");
    test_conv("conv_b");
    test_conv("conv_c");
    test_pool("pool_a");
    test_pool("pool_b");
    test_pool("pool_c");
    test_linear("linear_a");
    test_linear("linear_b");
    test_cross_entropy();
    dn_fixture_free(&fx);
    if (!dn_fixture_load(&fx, "torch_batchnorm.txt"))
        return 1;
    test_batchnorm("bn2d");
    test_batchnorm("bn1d");
    dn_fixture_free(&fx);
    return dn_test_finish();
}
