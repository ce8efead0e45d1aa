/* fuzz_net.h - runs a network the fuzzer managed to build: checks its
 * description is consistent and, when it is small enough to run quickly,
 * a training step and a prediction on a fixed input. */
#ifndef DN_FUZZ_NET_H
#define DN_FUZZ_NET_H

#include <stdint.h>

#include "digitnet/net.h"
#include "fuzz_common.h"

/* Budgets for actually running a fuzzed net (per sample). */
#define DN_FUZZ_MAX_FLOATS ((size_t)1 << 20) /* input + every layer's output */
#define DN_FUZZ_MAX_FLOPS 2e7                /* forward + backward */

static inline void dn_fuzz_exercise_net(dn_net *net)
{
    const char *spec = dn_net_spec(net);
    DN_FUZZ_CHECK(spec != NULL && strncmp(spec, "input ", 6) == 0);
    int in[3], out[3], shape[3];
    dn_net_input_shape(net, shape);
    int classes = dn_net_num_classes(net);
    DN_FUZZ_CHECK(classes >= 2 && classes <= 256);
    int layers = dn_net_layer_count(net);
    DN_FUZZ_CHECK(layers >= 1);
    size_t floats = (size_t)shape[0] * shape[1] * shape[2];
    double flops = 0;
    int prev[3] = {shape[0], shape[1], shape[2]};
    for (int i = 0; i < layers; i++) {
        DN_FUZZ_CHECK(dn_net_layer_kind(net, i) != NULL);
        dn_net_layer_shapes(net, i, in, out);
        DN_FUZZ_CHECK(memcmp(in, prev, sizeof in) == 0);
        for (int d = 0; d < 3; d++)
            DN_FUZZ_CHECK(out[d] >= 1);
        memcpy(prev, out, sizeof prev);
        floats += (size_t)out[0] * out[1] * out[2];
        double f, b;
        dn_net_layer_flops(net, i, &f, &b);
        DN_FUZZ_CHECK(f >= 0 && b >= 0);
        flops += f + b;
    }
    DN_FUZZ_CHECK(prev[0] == classes && prev[1] == 1 && prev[2] == 1);

    size_t params = dn_net_param_count(net), total = 0;
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        DN_FUZZ_CHECK(dn_net_get_param(net, t, &p) == DN_OK);
        DN_FUZZ_CHECK(dn_net_find_param(net, p.name) == t);
        if (!p.trainable) { /* a batchnorm's running statistics: the net's own state, no gradient */
            DN_FUZZ_CHECK(p.grad.data == NULL && p.value.data != NULL);
            continue;
        }
        DN_FUZZ_CHECK(p.value.data >= dn_net_params(net) &&
                      p.value.data + p.value.size <= dn_net_params(net) + params);
        total += p.value.size;
    }
    DN_FUZZ_CHECK(total == params);

    if (floats > DN_FUZZ_MAX_FLOATS || flops > DN_FUZZ_MAX_FLOPS || params > DN_FUZZ_MAX_FLOATS)
        return;
    enum { N = 2 };
    size_t sample = (size_t)shape[0] * shape[1] * shape[2];
    float *x = malloc(N * sample * sizeof *x);
    float *probs = malloc(N * (size_t)classes * sizeof *probs);
    DN_FUZZ_CHECK(x && probs);
    for (size_t i = 0; i < N * sample; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    uint8_t labels[N] = {0, (uint8_t)(classes - 1)};
    dn_net_set_threads(net, 1);
    dn_net_zero_grad(net);
    /* Weights that are finite but huge (a loaded model) overflow the
     * logits: then every call that returns outputs must say so
     * (DN_ERR_NUMERIC) rather than hand out NaN. */
    dn_clear_error();
    dn_status status = dn_net_forward(net, x, N, true);
    dn_fuzz_check_failure(status);
    DN_FUZZ_CHECK(status == DN_OK || status == DN_ERR_LIMIT);
    if (status == DN_OK) {
        float loss = -1;
        int correct = -1;
        dn_clear_error();
        status = dn_net_backward(net, labels, &loss, &correct);
        dn_fuzz_check_failure(status);
        /* A net of views only ("input 2x1x1; flatten") has nothing to train:
         * dn_net_backward refuses it by design. */
        DN_FUZZ_CHECK(status == DN_OK || status == DN_ERR_NUMERIC || (status == DN_ERR_ARG && params == 0));
        if (status == DN_OK)
            DN_FUZZ_CHECK(correct >= 0 && correct <= N && isfinite(loss) && loss >= 0);
    }
    dn_clear_error();
    status = dn_net_predict(net, x, 1, probs, N * (size_t)classes);
    dn_fuzz_check_failure(status);
    DN_FUZZ_CHECK(status == DN_OK || status == DN_ERR_NUMERIC);
    if (status == DN_OK) {
        float sum = 0;
        for (int c = 0; c < classes; c++) {
            DN_FUZZ_CHECK(isfinite(probs[c]) && probs[c] >= 0);
            sum += probs[c];
        }
        DN_FUZZ_CHECK(fabsf(sum - 1.0f) < 1e-3f);
    }
    free(x);
    free(probs);
}

#endif
