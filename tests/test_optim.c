/* test_optim.c - SGD and Adam steps: hand-computed cases, four steps against
 * torch.optim on the same gradients, the clearing variant against the plain
 * one, and the step-decay schedule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/optim.h"
#include "fixture.h"
#include "test_util.h"

static void close_to(const char *what, double got, double want)
{
    CHECK(fabs(got - want) <= 1e-6 * fmax(1.0, fabs(want)), "%s: %.9g, expected %.9g", what, got, want);
}

static void test_hand_computed(void)
{
    dn_optim *opt;
    dn_optim_config sgd = dn_optim_defaults(DN_OPTIM_SGD);
    sgd.momentum = 0.9f;
    sgd.weight_decay = 0.1f;
    CHECK_OK(dn_optim_new(&opt, &sgd, 2));
    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, 0.25f};
    /* step 1: g' = g + 0.1 p = (0.6, 0.05); buf = g'; p -= 0.1 buf */
    CHECK_OK(dn_optim_step(opt, p, g, 2, 0.1f));
    close_to("sgd step 1 p0", p[0], 1.0 - 0.1 * 0.6);
    close_to("sgd step 1 p1", p[1], -2.0 - 0.1 * 0.05);
    /* step 2: g' = 0.5 + 0.1*0.94 = 0.594; buf = 0.9*0.6 + 0.594 = 1.134 */
    CHECK_OK(dn_optim_step(opt, p, g, 2, 0.1f));
    close_to("sgd step 2 p0", p[0], 0.94 - 0.1 * 1.134);
    const char *name;
    CHECK(dn_optim_state_count(opt) == 1 && dn_optim_state(opt, 0, &name) &&
          strcmp(name, "momentum_buffer") == 0, "SGD with momentum has one state buffer");
    dn_optim_free(opt);

    dn_optim_config adam = dn_optim_defaults(DN_OPTIM_ADAM);
    CHECK_OK(dn_optim_new(&opt, &adam, 1));
    float q = 3.0f, gq = -2.0f;
    /* first Adam step moves by lr * m_hat / (sqrt(v_hat) + eps) = lr * sign(g) */
    CHECK_OK(dn_optim_step(opt, &q, &gq, 1, 0.01f));
    close_to("adam step 1", q, 3.0 + 0.01 * 2.0 / (2.0 + 1e-8));
    CHECK(dn_optim_steps(opt) == 1, "one step counted");
    /* step 2 with g = 1: m = 0.9*-0.2 + 0.1 = -0.08, v = 0.999*0.004 + 0.001 = 0.004996 */
    float g1 = 1.0f;
    float before = q;
    CHECK_OK(dn_optim_step(opt, &q, &g1, 1, 0.01f));
    float kept = q;
    CHECK(dn_optim_step(opt, &q, &g1, 2, 0.01f) == DN_ERR_ARG && q == kept && dn_optim_steps(opt) == 2,
          "params of another size are refused, nothing changed: %s", dn_last_error());
    double m_hat = -0.08 / (1 - 0.81), v_hat = 0.004996 / (1 - 0.998001);
    close_to("adam step 2", q, before - 0.01 * m_hat / (sqrt(v_hat) + 1e-8));
    dn_optim_free(opt);

    dn_optim_config bad = dn_optim_defaults(DN_OPTIM_ADAM);
    bad.beta1 = 1.0f;
    CHECK(dn_optim_new(&opt, &bad, 1) == DN_ERR_ARG, "beta1 = 1 refused");
    bad = dn_optim_defaults(DN_OPTIM_SGD);
    bad.nesterov = true;
    CHECK(dn_optim_new(&opt, &bad, 1) == DN_ERR_ARG, "Nesterov without momentum refused");
}

static void test_against_torch(void)
{
    dn_fixture fx;
    if (!dn_fixture_load(&fx, "torch_optim.txt")) {
        CHECK(0, "torch_optim.txt loads");
        return;
    }
    struct {
        const char *name;
        dn_optim_kind kind;
        float lr, momentum, weight_decay, beta1, beta2, eps;
        bool nesterov;
    } cases[] = {
        {"sgd", DN_OPTIM_SGD, 0.1f, 0, 0, 0, 0, 0, false},
        {"sgd_momentum", DN_OPTIM_SGD, 0.05f, 0.9f, 0.01f, 0, 0, 0, false},
        {"sgd_nesterov", DN_OPTIM_SGD, 0.05f, 0.8f, 0, 0, 0, 0, true},
        {"adam", DN_OPTIM_ADAM, 0.01f, 0, 0, 0.9f, 0.999f, 1e-8f, false},
        {"adam_wd", DN_OPTIM_ADAM, 0.003f, 0, 0.1f, 0.8f, 0.99f, 1e-6f, false},
    };
    const dn_fixture_tensor *p0 = dn_fixture_get(&fx, "params");
    for (size_t c = 0; p0 && c < sizeof cases / sizeof cases[0]; c++) {
        dn_optim_config config = dn_optim_defaults(cases[c].kind);
        config.momentum = cases[c].momentum;
        config.weight_decay = cases[c].weight_decay;
        config.nesterov = cases[c].nesterov;
        if (cases[c].kind == DN_OPTIM_ADAM) {
            config.beta1 = cases[c].beta1;
            config.beta2 = cases[c].beta2;
            config.eps = cases[c].eps;
        }
        dn_optim *opt;
        CHECK_OK(dn_optim_new(&opt, &config, p0->size));
        float params[64];
        memcpy(params, p0->data, p0->size * sizeof(float));
        for (int step = 0; step < 4; step++) {
            char name[32];
            snprintf(name, sizeof name, "grad%d", step);
            const dn_fixture_tensor *g = dn_fixture_get(&fx, name);
            if (g)
                CHECK_OK(dn_optim_step(opt, params, g->data, p0->size, cases[c].lr));
        }
        char name[64];
        snprintf(name, sizeof name, "%s.result", cases[c].name);
        const dn_fixture_tensor *want = dn_fixture_get(&fx, name);
        double err = want ? dn_test_max_abs_diff(params, want->data, want->size) : INFINITY;
        CHECK(err <= 1e-6, "%s after 4 steps: max abs error %g against torch.optim", cases[c].name, err);
        dn_optim_free(opt);
    }
    dn_fixture_free(&fx);
}

static void test_schedule(void)
{
    close_to("epoch 0", dn_lr_step_decay(0.1f, 0.5f, 2, 0), 0.1);
    close_to("epoch 1", dn_lr_step_decay(0.1f, 0.5f, 2, 1), 0.1);
    close_to("epoch 2", dn_lr_step_decay(0.1f, 0.5f, 2, 2), 0.05);
    close_to("epoch 5", dn_lr_step_decay(0.1f, 0.5f, 2, 5), 0.025);
    close_to("cosine start of warm-up", dn_lr_cosine(0.1f, 0.2f, 0.0f, 0.0), 0.01);
    close_to("cosine mid warm-up", dn_lr_cosine(0.1f, 0.2f, 0.0f, 0.1), 0.055);
    close_to("cosine peak", dn_lr_cosine(0.1f, 0.2f, 0.0f, 0.2), 0.1);
    close_to("cosine halfway down", dn_lr_cosine(0.1f, 0.2f, 0.0f, 0.6), 0.05);
    close_to("cosine end", dn_lr_cosine(0.1f, 0.2f, 0.1f, 1.0), 0.01);
    close_to("cosine, no warm-up", dn_lr_cosine(0.1f, 0.0f, 0.0f, 0.0), 0.1);
}

/* dn_optim_step_clear: the same parameters and state as dn_optim_step, bit
 * for bit, over several steps, and the gradients left at 0. */
static void test_step_clear(void)
{
    enum { COUNT = 70001, STEPS = 3 }; /* past the size that goes parallel */
    const dn_optim_kind kinds[] = {DN_OPTIM_ADAM, DN_OPTIM_SGD};
    float *p1 = malloc(COUNT * sizeof *p1), *p2 = malloc(COUNT * sizeof *p2);
    float *g1 = malloc(COUNT * sizeof *g1), *g2 = malloc(COUNT * sizeof *g2);
    for (int k = 0; k < 2; k++) {
        dn_optim_config config = dn_optim_defaults(kinds[k]);
        config.weight_decay = 0.01f;
        if (kinds[k] == DN_OPTIM_SGD)
            config.momentum = 0.9f;
        dn_optim *plain, *clearing;
        CHECK_OK(dn_optim_new(&plain, &config, COUNT));
        CHECK_OK(dn_optim_new(&clearing, &config, COUNT));
        dn_rng rng;
        dn_rng_seed(&rng, 77);
        dn_test_fill_uniform(&rng, p1, COUNT, -1, 1);
        memcpy(p2, p1, COUNT * sizeof *p1);
        bool cleared = true;
        for (int step = 0; step < STEPS; step++) {
            dn_test_fill_uniform(&rng, g1, COUNT, -1, 1);
            memcpy(g2, g1, COUNT * sizeof *g1);
            CHECK_OK(dn_optim_step(plain, p1, g1, COUNT, 0.01f));
            CHECK_OK(dn_optim_step_clear(clearing, p2, g2, COUNT, 0.01f));
            for (size_t i = 0; i < COUNT; i++)
                cleared = cleared && g2[i] == 0.0f;
        }
        bool same = !memcmp(p1, p2, COUNT * sizeof *p1);
        for (int s = 0; s < dn_optim_state_count(plain); s++)
            same = same && !memcmp(dn_optim_state(plain, s, NULL),
                                   dn_optim_state(clearing, s, NULL), COUNT * sizeof(float));
        CHECK(same, "%s: step_clear updates like step", k == 0 ? "adam" : "sgd");
        CHECK(cleared, "%s: step_clear leaves the gradients at 0", k == 0 ? "adam" : "sgd");
        CHECK(dn_optim_steps(clearing) == STEPS, "steps counted");
        dn_optim_free(plain);
        dn_optim_free(clearing);
    }
    free(p1);
    free(p2);
    free(g1);
    free(g2);
}

int main(void)
{
    test_hand_computed();
    test_step_clear();
    test_against_torch();
    test_schedule();
    return dn_test_finish();
}
