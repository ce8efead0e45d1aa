/* net.c - a network as a sequence of layers run as the steps of its fusion
 * plan: building it from a spec, flat parameter and gradient buffers, the
 * forward pass, the loss and the backward pass. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/clock.h"
#include "digitnet/idx.h"
#include "digitnet/ops.h"
#include "internal.h"
#include "net_internal.h"
#include "net_spec.h"

/* Largest class count: labels are uint8_t. */
enum { DN_MAX_CLASSES = 256 };

/* Bounds that keep a short spec from asking for absurd memory: 2^28
 * parameters (1 GiB) in all, 2^24 floats (64 MiB) per sample per layer. */
#define DN_MAX_PARAMS ((size_t)1 << 28)
#define DN_MAX_SAMPLE_FLOATS ((size_t)1 << 24)

/* Infers every layer's shapes and parameter offsets, then plans the steps. */
static dn_status configure_layers(dn_net *net)
{
    const int *shape = net->input_shape;
    size_t offset = 0, buffers = 0;
    for (int i = 0; i < net->layer_count; i++) {
        dn_layer *layer = &net->layers[i];
        memcpy(layer->in_shape, shape, sizeof layer->in_shape);
        dn_status status = layer->kind->configure(layer);
        if (status != DN_OK)
            return dn_fail_context(status, "layer %d (%s)", i + 1, layer->kind->name);
        if (dn_sample_size(layer->out_shape) > DN_MAX_SAMPLE_FLOATS)
            return dn_fail(DN_ERR_SHAPE, "layer %d (%s): output of %zu floats per sample is over the limit of %zu",
                           i + 1, layer->kind->name, dn_sample_size(layer->out_shape), DN_MAX_SAMPLE_FLOATS);
        for (int p = 0; p < layer->param_count; p++) {
            size_t *used = layer->params[p].buffer ? &buffers : &offset;
            layer->params[p].offset = *used;
            if (layer->params[p].size > DN_MAX_PARAMS - *used)
                return dn_fail(DN_ERR_SHAPE, "layer %d (%s): the network would have more than %zu parameters",
                               i + 1, layer->kind->name, DN_MAX_PARAMS);
            *used += layer->params[p].size;
        }
        net->tensor_count += layer->param_count;
        shape = layer->out_shape;
    }
    if (shape[1] != 1 || shape[2] != 1 || shape[0] < 2 || shape[0] > DN_MAX_CLASSES)
        return dn_fail(DN_ERR_SHAPE, "the last layer must output a flat vector of 2 to %d class scores, got %dx%dx%d",
                       DN_MAX_CLASSES, shape[0], shape[1], shape[2]);
    net->classes = shape[0];
    net->param_count = offset;
    net->buffer_count = buffers;
    return dn_plan_make(&net->plan, net->layers, net->layer_count, !net->view);
}

static dn_status allocate_params(dn_net *net)
{
    net->params = dn_calloc(net->param_count ? net->param_count : 1, sizeof(float));
    net->grads = dn_calloc(net->param_count ? net->param_count : 1, sizeof(float));
    net->buffers = dn_calloc(net->buffer_count ? net->buffer_count : 1, sizeof(float));
    if (!net->params || !net->grads || !net->buffers)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate %zu parameters", net->param_count);
    for (int i = 0; i < net->layer_count; i++) {
        dn_layer *layer = &net->layers[i];
        for (int p = 0; p < layer->param_count; p++) {
            const dn_layer_param *param = &layer->params[p];
            layer->values[p] = (param->buffer ? net->buffers : net->params) + param->offset;
            layer->grads[p] = param->buffer ? NULL : net->grads + param->offset;
        }
    }
    net->generation = 1;
    return DN_OK;
}

static dn_status allocate_slots(dn_net *net)
{
    int slots = net->plan.count + 1;
    net->owner = calloc((size_t)slots, sizeof *net->owner);
    net->act_buf = calloc((size_t)slots, sizeof *net->act_buf);
    net->grad_buf = calloc((size_t)slots, sizeof *net->grad_buf);
    net->act = calloc((size_t)slots, sizeof *net->act);
    net->forward_seconds = calloc((size_t)net->layer_count, sizeof *net->forward_seconds);
    net->backward_seconds = calloc((size_t)net->layer_count, sizeof *net->backward_seconds);
    if (!net->owner || !net->act_buf || !net->grad_buf || !net->act || !net->forward_seconds ||
        !net->backward_seconds)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate the network's buffer table");
    for (int j = 1; j < slots; j++)
        net->owner[j] = net->plan.steps[j - 1].alias ? net->owner[j - 1] : j;
    return DN_OK;
}

/* A net with its layers parsed and configured and its plan made, nothing
 * large allocated: for dn_net_new and the spec queries. */
static dn_status describe(dn_net *net, const char *spec)
{
    dn_status status = dn_spec_parse(spec, net->input_shape, &net->layers, &net->layer_count);
    if (status == DN_OK)
        status = configure_layers(net);
    return status;
}

static void forget_description(dn_net *net)
{
    dn_spec_free_layers(net->layers, net->layer_count);
    dn_plan_free(&net->plan);
}

dn_status dn_net_spec_param_count(const char *spec, size_t *count)
{
    dn_net probe = {0};
    dn_status status = describe(&probe, spec);
    if (status == DN_OK && count)
        *count = probe.param_count;
    forget_description(&probe);
    return status;
}

dn_status dn_net_spec_memory(const char *spec, int batch, size_t *bytes)
{
    dn_net probe = {0};
    dn_status status = describe(&probe, spec);
    if (status == DN_OK && bytes)
        *bytes = dn_net_memory(&probe, batch);
    forget_description(&probe);
    return status;
}

dn_status dn_net_new(dn_net **out, const char *spec, uint64_t seed)
{
    if (!out)
        return dn_fail(DN_ERR_ARG, "dn_net_new: out is NULL");
    *out = NULL;
    dn_net *net = calloc(1, sizeof *net);
    if (!net)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate a network");
    dn_status status = dn_net_limit_from_environment(&net->memory_limit);
    if (status == DN_OK)
        status = describe(net, spec);
    if (status == DN_OK)
        status = dn_net_check_memory(net, 1); /* before anything large is allocated */
    if (status == DN_OK)
        status = allocate_params(net);
    if (status == DN_OK)
        status = allocate_slots(net);
    if (status == DN_OK) {
        net->spec = dn_spec_format(net->input_shape, net->layers, net->layer_count);
        if (!net->spec)
            status = dn_fail(DN_ERR_NOMEM, "cannot format the network spec");
    }
    if (status != DN_OK) {
        dn_net_free(net);
        return status;
    }
    dn_net_init_params(net, seed);
    dn_net_seed_dropout(net, seed);
    *out = net;
    return DN_OK;
}

dn_status dn_net_new_view(dn_net **out, const dn_net *source)
{
    *out = NULL;
    dn_net *net = calloc(1, sizeof *net);
    if (!net)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate a view of a network");
    net->view = true;
    net->memory_limit = source->memory_limit;
    net->threads = source->threads;
    dn_status status = describe(net, source->spec);
    if (status == DN_OK)
        status = allocate_slots(net);
    if (status == DN_OK && !(net->spec = strdup(source->spec)))
        status = dn_fail(DN_ERR_NOMEM, "cannot copy the network spec");
    if (status != DN_OK) {
        dn_net_free(net);
        return status;
    }
    /* the same spec gives the same layers and tensors: read the source's,
     * and compute no parameter gradient */
    for (int i = 0; i < net->layer_count; i++)
        for (int p = 0; p < net->layers[i].param_count; p++) {
            net->layers[i].values[p] = source->layers[i].values[p];
            net->layers[i].grads[p] = NULL;
        }
    net->generation = source->generation;
    *out = net;
    return DN_OK;
}

void dn_layer_destroy(dn_layer *layer)
{
    if (layer->kind && layer->kind->release && layer->config)
        layer->kind->release(layer);
    free(layer->config);
    layer->config = NULL;
}

static void release_buffers(dn_net *net)
{
    for (int j = 0; j <= net->plan.count; j++) {
        dn_free(net->act_buf[j]);
        dn_free(net->grad_buf[j]);
        net->act_buf[j] = net->grad_buf[j] = NULL;
    }
    for (int i = 0; i < net->layer_count; i++)
        if (net->layers[i].kind->release)
            net->layers[i].kind->release(&net->layers[i]);
    dn_free(net->probs);
    net->probs = NULL;
    net->capacity = 0;
    net->batch = 0;
}

void dn_net_free(dn_net *net)
{
    if (!net)
        return;
    if (net->act_buf && net->grad_buf && net->layers)
        release_buffers(net);
    free(net->owner);
    free(net->act_buf);
    free(net->grad_buf);
    free(net->act);
    free(net->forward_seconds);
    free(net->backward_seconds);
    forget_description(net);
    dn_free(net->params);
    dn_free(net->grads);
    dn_free(net->buffers);
    free(net->spec);
    free(net);
}

/* Grows every per-batch buffer to hold n samples; nothing is allocated when
 * n fits, so a training loop allocates once. */
static dn_status reserve(dn_net *net, int n)
{
    if (n <= net->capacity)
        return DN_OK;
    dn_status status = dn_net_check_memory(net, n);
    if (status != DN_OK)
        return status;
    release_buffers(net);
    for (int s = 0; s < net->plan.count && status == DN_OK; s++) {
        const dn_step *step = &net->plan.steps[s];
        dn_layer *layer = &net->layers[step->layer];
        if (step->alias)
            continue;
        size_t count = (size_t)n * dn_sample_size(step->out_shape);
        net->act_buf[s + 1] = dn_alloc(count * sizeof(float));
        net->grad_buf[s + 1] = dn_alloc(count * sizeof(float));
        if (!net->act_buf[s + 1] || !net->grad_buf[s + 1])
            status = dn_fail(DN_ERR_NOMEM, "cannot allocate activations for a batch of %d", n);
        else if (layer->kind->reserve)
            status = layer->kind->reserve(layer, &step->fusion, n);
    }
    if (status == DN_OK && !(net->probs = dn_alloc((size_t)n * net->classes * sizeof(float))))
        status = dn_fail(DN_ERR_NOMEM, "cannot allocate probabilities for a batch of %d", n);
    if (status != DN_OK) {
        release_buffers(net);
        return status;
    }
    net->capacity = n;
    return DN_OK;
}

int dn_net_enter_threads(const dn_net *net)
{
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    if (net->threads > 0)
        omp_set_num_threads(net->threads);
    return saved;
#else
    (void)net;
    return 1;
#endif
}

void dn_net_leave_threads(int saved)
{
#ifdef _OPENMP
    omp_set_num_threads(saved);
#else
    (void)saved;
#endif
}

/* Whether a step runs: not for views, nor in evaluation for layers that
 * are the identity then (dropout) or folded into the step before (a
 * batchnorm in a conv). */
static bool step_runs(const dn_net *net, const dn_step *step, const dn_layer_call *call)
{
    if (step->alias)
        return false;
    return call->training ||
           !(net->layers[step->layer].kind->identity_in_eval || (call->fold && step->fusion.folded_away));
}

dn_status dn_net_run_forward(dn_net *net, const float *input, int n, bool training, bool fold)
{
    dn_status status = reserve(net, n);
    if (status != DN_OK)
        return status;
    int saved = dn_net_enter_threads(net);
    const dn_layer_call call = {.n = n, .training = training, .rng = &net->dropout_rng,
                                .generation = net->generation, .fold = fold && !training};
    net->act[0] = input;
    for (int s = 0; s < net->plan.count; s++) {
        const dn_step *step = &net->plan.steps[s];
        if (!step_runs(net, step, &call)) {
            net->act[s + 1] = net->act[s];
            continue;
        }
        dn_layer *layer = &net->layers[step->layer];
        double start = net->profiling ? dn_seconds() : 0;
        layer->kind->forward(layer, &step->fusion, &call, net->act_buf[s + 1], net->act[s]);
        if (net->profiling)
            net->forward_seconds[step->layer] += dn_seconds() - start;
        net->act[s + 1] = net->act_buf[s + 1];
    }
    dn_net_leave_threads(saved);
    net->batch = n;
    net->training = training;
    net->folded = call.fold;
    if (training && net->buffer_count) /* batchnorms moved their running statistics */
        dn_net_mark_params_changed(net);
    return DN_OK;
}

dn_status dn_net_forward(dn_net *net, const float *input, int n, bool training)
{
    if (!net || !input || n < 1)
        return dn_fail(DN_ERR_ARG, "dn_net_forward: need a network, an input and n >= 1 (n = %d)", n);
    return dn_net_run_forward(net, input, n, training, true);
}

const float *dn_net_logits(const dn_net *net)
{
    return net->batch ? net->act[net->plan.count] : NULL;
}

/* DN_ERR_NUMERIC unless every logit of the last forward pass is finite:
 * weights that are finite but huge overflow to infinity, and softmax turns
 * that into NaN probabilities, which must never leave the library. */
static dn_status check_logits(const dn_net *net)
{
    const float *logits = dn_net_logits(net);
    size_t count = (size_t)net->batch * net->classes;
    size_t bad = dn_find_non_finite(logits, count);
    if (bad == count)
        return DN_OK;
    return dn_fail(DN_ERR_NUMERIC,
                   "the network's output is not finite (%g for class %zu of sample %zu): "
                   "its weights or its input are out of the range float can compute with",
                   (double)logits[bad], bad % (size_t)net->classes, bad / (size_t)net->classes);
}

/* How many of the batch's argmaxes are the labels (samples of no class are
 * never right). */
static int count_correct(const float *probs, const uint8_t *labels, int n, int classes)
{
    int right = 0;
    for (int b = 0; b < n; b++)
        right += labels[b] != DN_LABEL_NONE && dn_argmax(probs + (size_t)b * classes, classes) == labels[b];
    return right;
}

dn_status dn_net_backward(dn_net *net, const uint8_t *labels, float *loss, int *correct)
{
    if (!net || !labels)
        return dn_fail(DN_ERR_ARG, "dn_net_backward: network and labels must not be NULL");
    const int n = net->batch, classes = net->classes, last = net->plan.count;
    if (n == 0)
        return dn_fail(DN_ERR_ARG, "dn_net_backward: call dn_net_forward first");
    if (net->owner[last] == 0)
        return dn_fail(DN_ERR_ARG, "dn_net_backward: the network has no layer to train");
    for (int b = 0; b < n; b++)
        if (labels[b] >= classes && labels[b] != DN_LABEL_NONE)
            return dn_fail(DN_ERR_ARG, "label %d of sample %d is not below %d classes (nor DN_LABEL_NONE)",
                           labels[b], b, classes);
    /* folded weights have no gradient of their own: go through the layers */
    if (net->folded && dn_net_run_forward(net, net->act[0], n, false, false) != DN_OK)
        return dn_fail_context(DN_ERR_NOMEM, "dn_net_backward");
    dn_status status = check_logits(net);
    if (status != DN_OK)
        return dn_fail_context(status, "training diverged");
    float mean_loss = dn_cross_entropy_forward(net->probs, net->act[last], labels, n, classes);
    if (loss)
        *loss = mean_loss;
    if (correct)
        *correct = count_correct(net->probs, labels, n, classes);
    /* the logits' slot may be an alias (a flatten at the end) */
    dn_cross_entropy_backward(net->grad_buf[net->owner[last]], net->probs, labels, n, classes);
    dn_net_run_backward(net, NULL);
    return DN_OK;
}

void dn_net_run_backward(dn_net *net, float *input_grad)
{
    const int n = net->batch;
    int saved = dn_net_enter_threads(net);
    const dn_layer_call call = {.n = n, .training = net->training, .rng = &net->dropout_rng,
                                .generation = net->generation};
    for (int s = net->plan.count - 1; s >= 0; s--) {
        const dn_step *step = &net->plan.steps[s];
        if (step->alias)
            continue;
        float *din = net->owner[s] == 0 ? input_grad : net->grad_buf[net->owner[s]];
        if (!step_runs(net, step, &call)) {
            if (din)
                memcpy(din, net->grad_buf[s + 1], (size_t)n * dn_sample_size(step->out_shape) * sizeof(float));
            continue;
        }
        dn_layer *layer = &net->layers[step->layer];
        double start = net->profiling ? dn_seconds() : 0;
        layer->kind->backward(layer, &step->fusion, &call, din, net->grad_buf[s + 1], net->act[s], net->act[s + 1]);
        if (net->profiling)
            net->backward_seconds[step->layer] += dn_seconds() - start;
    }
    dn_net_leave_threads(saved);
}

void dn_net_zero_grad(dn_net *net) { memset(net->grads, 0, net->param_count * sizeof(float)); }

dn_status dn_net_predict(dn_net *net, const float *input, int n, float *probs, size_t capacity)
{
    if (!net || !probs || n < 1)
        return dn_fail(DN_ERR_ARG, "dn_net_predict: need a network, probs and n >= 1");
    if (capacity / (size_t)net->classes < (size_t)n)
        return dn_fail(DN_ERR_ARG, "dn_net_predict: probs holds %zu floats, %d samples of %d classes need %zu",
                       capacity, n, net->classes, (size_t)n * net->classes);
    dn_status status = dn_net_forward(net, input, n, false);
    if (status == DN_OK)
        status = check_logits(net);
    if (status != DN_OK)
        return status;
    dn_softmax_forward(probs, dn_net_logits(net), n, net->classes);
    return DN_OK;
}

void dn_net_init_params(dn_net *net, uint64_t seed)
{
    dn_rng rng;
    dn_rng_seed(&rng, seed);
    for (int i = 0; i < net->layer_count; i++) {
        const dn_layer *layer = &net->layers[i];
        for (int p = 0; p < layer->param_count; p++) {
            const dn_layer_param *param = &layer->params[p];
            float *values = layer->values[p];
            if (param->init != DN_INIT_FAN_IN) {
                for (size_t k = 0; k < param->size; k++)
                    values[k] = param->init == DN_INIT_ONE ? 1.0f : 0.0f;
                continue;
            }
            /* PyTorch: kaiming_uniform_(a=sqrt(5)) for weights, and the same
             * bound for biases, both 1/sqrt(fan_in). */
            float bound = 1.0f / sqrtf((float)param->fan_in);
            for (size_t k = 0; k < param->size; k++)
                values[k] = dn_rng_range(&rng, -bound, bound);
        }
    }
    dn_net_mark_params_changed(net);
}

void dn_net_seed_dropout(dn_net *net, uint64_t seed)
{
    dn_rng_seed(&net->dropout_rng, seed ^ 0x64726f706f7574ULL);
}
