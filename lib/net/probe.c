/* probe.c - a network's insides: every layer's output and the input gradient
 * of a chosen score, computed by a view of the net (net.c) that reads its
 * parameters and owns everything else. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/probe.h"
#include "internal.h"
#include "net_internal.h"

struct dn_probe {
    const dn_net *net;  /* read, never written */
    dn_net *view;       /* net's layers unfused, over net's parameters */
    int batch;          /* samples of the last successful run, 0: none */
    bool finite;        /* the last run's logits were all finite */
    float *input;       /* a copy of the last run's input: layers and their
                           backward passes read it after the call */
    size_t input_floats;
    float *path;        /* integrated gradients: the points' gradients and weights */
    size_t path_floats;
};

dn_status dn_probe_new(dn_probe **out, const dn_net *net)
{
    if (!out || !net)
        return dn_fail(DN_ERR_ARG, "dn_probe_new: need somewhere to put the probe and a network");
    *out = NULL;
    dn_probe *probe = calloc(1, sizeof *probe);
    if (!probe)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate a probe");
    probe->net = net;
    dn_status status = dn_net_new_view(&probe->view, net);
    if (status != DN_OK) {
        free(probe);
        return dn_fail_context(status, "dn_probe_new");
    }
    *out = probe;
    return DN_OK;
}

void dn_probe_free(dn_probe *probe)
{
    if (!probe)
        return;
    dn_net_free(probe->view);
    dn_free(probe->input);
    dn_free(probe->path);
    free(probe);
}

void dn_probe_set_threads(dn_probe *probe, int threads) { dn_net_set_threads(probe->view, threads); }

int dn_probe_batch(const dn_probe *probe) { return probe->batch; }

static size_t input_size(const dn_net *net) { return dn_sample_size(net->input_shape); }

/* The memory limit covers the view's buffers for n samples and the
 * probe's own: the copy of the input and an integration path. */
static dn_status check_memory(const dn_net *view, int n, size_t own_floats)
{
    dn_status status = dn_net_check_memory(view, n);
    if (status != DN_OK)
        return status;
    size_t used = dn_net_batch_bytes(view, n);
    if (own_floats > (view->memory_limit - used) / sizeof(float))
        return dn_fail(DN_ERR_LIMIT, "a probe of %d samples would need %zu MiB, over the memory limit of %zu MiB "
                       "(dn_net_set_memory_limit)", n, (used >> 20) + (own_floats * sizeof(float) >> 20),
                       view->memory_limit >> 20);
    return DN_OK;
}

/* Makes *buffer (of *have floats) hold at least need floats; the contents
 * are not kept. */
static dn_status grow(float **buffer, size_t *have, size_t need, const char *what)
{
    if (*have >= need)
        return DN_OK;
    float *bigger = dn_alloc(need * sizeof *bigger);
    if (!bigger)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate %zu floats for %s", need, what);
    dn_free(*buffer);
    *buffer = bigger;
    *have = need;
    return DN_OK;
}

dn_status dn_probe_run(dn_probe *probe, const float *input, int n)
{
    if (!probe || !input || n < 1)
        return dn_fail(DN_ERR_ARG, "dn_probe_run: need a probe, an input and n >= 1 (n = %d)", n);
    dn_net *view = probe->view;
    probe->batch = 0;
    size_t floats = (size_t)n * input_size(view);
    dn_status status = check_memory(view, n, floats);
    if (status == DN_OK && input != probe->input)
        status = grow(&probe->input, &probe->input_floats, floats, "the probe's input");
    if (status != DN_OK)
        return status;
    if (input != probe->input)
        memcpy(probe->input, input, floats * sizeof *input);
    view->generation = probe->net->generation; /* caches of older weights are made again */
    status = dn_net_run_forward(view, probe->input, n, false, false);
    if (status != DN_OK)
        return status;
    probe->batch = n;
    const float *logits = view->act[view->plan.count];
    size_t count = (size_t)n * view->classes, bad = dn_find_non_finite(logits, count);
    probe->finite = bad == count;
    if (!probe->finite)
        return dn_fail(DN_ERR_NUMERIC,
                       "the network's output is not finite (%g for class %zu of sample %zu): its weights or "
                       "its input are out of the range float can compute with",
                       (double)logits[bad], bad % (size_t)view->classes, bad / (size_t)view->classes);
    return DN_OK;
}

dn_status dn_probe_layer_output(const dn_probe *probe, int layer, const float **out, int shape[3])
{
    if (!probe || !out)
        return dn_fail(DN_ERR_ARG, "dn_probe_layer_output: need a probe and somewhere to put the output");
    *out = NULL;
    const dn_net *view = probe->view;
    if (layer < 0 || layer >= view->layer_count)
        return dn_fail(DN_ERR_ARG, "layer %d does not exist (the network has %d)", layer, view->layer_count);
    if (!probe->batch)
        return dn_fail(DN_ERR_ARG, "dn_probe_layer_output: run the probe first (dn_probe_run)");
    /* unfused: layer i is step i, and its output is slot i + 1 */
    *out = view->act[layer + 1];
    if (shape)
        memcpy(shape, view->layers[layer].out_shape, sizeof view->layers[layer].out_shape);
    return DN_OK;
}

dn_status dn_probe_param(const dn_probe *probe, const char *name, const float **values, size_t *count, int *ndim,
                         int shape[4])
{
    if (!probe || !name || !values || !count)
        return dn_fail(DN_ERR_ARG, "dn_probe_param: need a probe, a name, values and count");
    *values = NULL;
    *count = 0;
    const dn_net *view = probe->view;
    for (int i = 0; i < view->layer_count; i++) {
        const dn_layer *layer = &view->layers[i];
        size_t len = strlen(layer->name);
        if (!len || strncmp(name, layer->name, len) != 0 || name[len] != '.')
            continue;
        for (int p = 0; p < layer->param_count; p++) {
            const dn_layer_param *param = &layer->params[p];
            if (strcmp(name + len + 1, param->suffix) != 0)
                continue;
            *values = layer->values[p]; /* the net's: the view only points at them */
            *count = param->size;
            if (ndim)
                *ndim = param->ndim;
            if (shape)
                memcpy(shape, param->shape, sizeof param->shape);
            return DN_OK;
        }
    }
    return dn_fail(DN_ERR_ARG, "the network has no tensor called '%.64s'", name);
}

dn_status dn_probe_input_gradient(dn_probe *probe, const float *weights, size_t count, float *grad,
                                  size_t capacity)
{
    if (!probe || !weights || !grad)
        return dn_fail(DN_ERR_ARG, "dn_probe_input_gradient: need a probe, weights and grad");
    dn_net *view = probe->view;
    const int n = probe->batch, last = view->plan.count;
    if (!n)
        return dn_fail(DN_ERR_ARG, "dn_probe_input_gradient: run the probe first (dn_probe_run)");
    if (!probe->finite)
        return dn_fail(DN_ERR_ARG, "dn_probe_input_gradient: the last run's output was not finite");
    size_t scores = (size_t)n * view->classes, inputs = (size_t)n * input_size(view);
    if (count != scores)
        return dn_fail(DN_ERR_ARG, "dn_probe_input_gradient: %zu weights for %d samples of %d classes (need %zu)",
                       count, n, view->classes, scores);
    if (capacity < inputs)
        return dn_fail(DN_ERR_ARG, "dn_probe_input_gradient: grad holds %zu floats, %d inputs need %zu", capacity, n,
                       inputs);
    size_t bad = dn_find_non_finite(weights, count);
    if (bad != count)
        return dn_fail(DN_ERR_ARG, "dn_probe_input_gradient: weight %zu is not finite", bad);
    if (view->owner[last] == 0) { /* only views: the logits are the input */
        memcpy(grad, weights, scores * sizeof *grad);
        return DN_OK;
    }
    memcpy(view->grad_buf[view->owner[last]], weights, scores * sizeof *weights);
    dn_net_run_backward(view, grad);
    return DN_OK;
}

dn_status dn_probe_integrated_gradients(dn_probe *probe, const float *input, const float *baseline, int steps,
                                        const float *weights, size_t count, float *out, size_t capacity)
{
    if (!probe || !input || !weights || !out)
        return dn_fail(DN_ERR_ARG, "dn_probe_integrated_gradients: need a probe, an input, weights and out");
    const dn_net *view = probe->view;
    const size_t size = input_size(view), classes = (size_t)view->classes;
    if (steps < 1 || steps > DN_PROBE_MAX_STEPS)
        return dn_fail(DN_ERR_ARG, "dn_probe_integrated_gradients: steps = %d, not from 1 to %d", steps,
                       DN_PROBE_MAX_STEPS);
    if (count != classes)
        return dn_fail(DN_ERR_ARG, "dn_probe_integrated_gradients: %zu weights for %zu classes", count, classes);
    if (capacity < size)
        return dn_fail(DN_ERR_ARG, "dn_probe_integrated_gradients: out holds %zu floats, the input has %zu",
                       capacity, size);
    /* the points go straight into the probe's input; the path holds their
     * gradients, then the weights repeated per point */
    dn_status status = check_memory(view, steps, (size_t)steps * (2 * size + classes));
    if (status == DN_OK)
        status = grow(&probe->input, &probe->input_floats, (size_t)steps * size, "an integration path");
    if (status == DN_OK)
        status = grow(&probe->path, &probe->path_floats, (size_t)steps * (size + classes), "an integration path");
    if (status != DN_OK)
        return status;
    float *points = probe->input, *grads = probe->path, *w = grads + (size_t)steps * size;
    for (int i = 0; i < steps; i++) {
        float alpha = ((float)i + 0.5f) / (float)steps;
        for (size_t k = 0; k < size; k++) {
            float base = baseline ? baseline[k] : 0.0f;
            points[(size_t)i * size + k] = base + alpha * (input[k] - base);
        }
        memcpy(w + (size_t)i * classes, weights, classes * sizeof *w);
    }
    status = dn_probe_run(probe, points, steps);
    if (status == DN_OK)
        status = dn_probe_input_gradient(probe, w, (size_t)steps * classes, grads, (size_t)steps * size);
    if (status != DN_OK)
        return dn_fail_context(status, "integrated gradients");
    for (size_t k = 0; k < size; k++) {
        double sum = 0; /* in step order: the same for any thread count */
        for (int i = 0; i < steps; i++)
            sum += grads[(size_t)i * size + k];
        float base = baseline ? baseline[k] : 0.0f;
        out[k] = (float)((double)(input[k] - base) * sum / steps);
    }
    return DN_OK;
}
