/* test_torch_nets.c - the cnn and mlp presets against PyTorch twins
 * (tests/torch/make_fixtures.py): same deterministic weights, same input;
 * logits within 1e-4, loss and every parameter gradient within 1e-3. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "digitnet/net.h"
#include "fixture.h"
#include "test_util.h"

static dn_fixture fx;

/* The fixture's weights: tensor t, element j = sin(0.618 j + 1.3 t) / sqrt(fan_in). */
static void set_formula_params(dn_net *net)
{
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        dn_net_get_param(net, t, &p);
        /* fan_in: weights are [out, in...], a bias shares its weight's fan_in */
        dn_net_param weight;
        dn_net_get_param(net, t - (t % 2), &weight);
        size_t fan_in = weight.value.size / (size_t)weight.value.shape[0];
        for (size_t j = 0; j < p.value.size; j++)
            p.value.data[j] = (float)(sin(0.618 * (double)j + 1.3 * t) / sqrt((double)fan_in));
    }
}

static void check_preset(const char *kind)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, kind, 1));
    if (!net)
        return;
    const dn_fixture_tensor *input = dn_fixture_get(&fx, "input");
    const dn_fixture_tensor *labels_f = dn_fixture_get(&fx, "labels");
    char name[128];
    snprintf(name, sizeof name, "%s.logits", kind);
    const dn_fixture_tensor *want_logits = dn_fixture_get(&fx, name);
    snprintf(name, sizeof name, "%s.loss", kind);
    const dn_fixture_tensor *want_loss = dn_fixture_get(&fx, name);
    if (!input || !labels_f || !want_logits || !want_loss) {
        CHECK(0, "%s: fixture incomplete", kind);
        dn_net_free(net);
        return;
    }
    int n = input->shape[0];
    uint8_t labels[16];
    for (int b = 0; b < n; b++)
        labels[b] = (uint8_t)labels_f->data[b];

    set_formula_params(net);
    dn_net_zero_grad(net);
    CHECK_OK(dn_net_forward(net, input->data, n, true));
    double err = dn_test_max_abs_diff(dn_net_logits(net), want_logits->data, want_logits->size);
    CHECK(err <= 1e-4, "%s logits: max abs error %g", kind, err);
    float loss;
    CHECK_OK(dn_net_backward(net, labels, &loss, NULL));
    CHECK(fabs(loss - want_loss->data[0]) <= 1e-3 * fabs(want_loss->data[0]), "%s loss %.7g vs %.7g",
          kind, loss, want_loss->data[0]);

    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        dn_net_get_param(net, t, &p);
        snprintf(name, sizeof name, "%s.gradidx.%s", kind, p.name);
        const dn_fixture_tensor *idx = dn_fixture_get(&fx, name);
        snprintf(name, sizeof name, "%s.grad.%s", kind, p.name);
        const dn_fixture_tensor *want = dn_fixture_get(&fx, name);
        if (!idx || !want) {
            CHECK(0, "%s: no reference gradient for %s", kind, p.name);
            continue;
        }
        double scale = 0, worst = 0;
        for (size_t k = 0; k < want->size; k++)
            scale = fmax(scale, fabs(want->data[k]));
        for (size_t k = 0; k < want->size; k++) {
            float got = p.grad.data[(size_t)idx->data[k]];
            worst = fmax(worst, fabs((double)got - want->data[k]) / fmax(scale, 1e-8));
        }
        CHECK(scale > 0 && worst <= 1e-3, "%s %s gradient: relative error %g", kind, p.name, worst);
    }
    dn_net_free(net);
}

int main(void)
{
    if (!dn_fixture_load(&fx, "torch_nets.txt"))
        return 1;
    check_preset("cnn");
    check_preset("mlp");
    dn_fixture_free(&fx);
    return dn_test_finish();
}
