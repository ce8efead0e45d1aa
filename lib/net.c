/* net.c - a network as a sequence of layers: building it from a spec, flat
 * parameter and gradient buffers, forward, loss and backward passes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/net.h"
#include "digitnet/clock.h"
#include "internal.h"
#include "layer.h"
#include "net_spec.h"

/* Largest class count: labels are uint8_t. */
enum { DN_MAX_CLASSES = 256 };

/* Bounds that keep a short spec from asking for absurd memory: 2^28
 * parameters (1 GiB) in all, 2^24 floats (64 MiB) per sample per layer. */
#define DN_MAX_PARAMS ((size_t)1 << 28)
#define DN_MAX_SAMPLE_FLOATS ((size_t)1 << 24)

struct dn_net {
    char *spec;
    int input_shape[3];
    int classes;
    int layer_count;
    dn_layer *layers;

    size_t param_count;
    float *params;
    float *grads;
    int tensor_count;

    dn_rng dropout_rng;
    int threads;
    size_t memory_limit; /* bytes; see dn_net_set_memory_limit */

    /* Activation slot j is the output of layer j-1 (slot 0 is the input).
     * A view layer's slot shares the buffer of the slot before it: owner[j]
     * names the slot whose buffer slot j uses. */
    int *owner;
    int capacity;       /* samples the buffers hold */
    float **act_buf;    /* [slot], owned for owner[j] == j > 0 */
    float **grad_buf;
    const float **act;  /* [slot], set by forward */
    int batch;          /* n of the last forward, 0 before any */
    bool training;      /* mode of the last forward */
    float *probs;       /* capacity x classes */

    bool profiling;
    double *forward_seconds;  /* [layer] */
    double *backward_seconds;
};

/* Layers the net never runs: views, and relus folded into the layer before. */
static bool skipped(const dn_layer *layer) { return layer->ops->is_view || layer->folded; }

static size_t add_saturating(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static size_t mul_saturating(size_t a, size_t b)
{
    size_t product;
    return dn_mul_size(a, b, &product) ? product : SIZE_MAX;
}

/* Bytes reserve(net, n) allocates: an activation and its gradient for every
 * layer the net runs, the probabilities, and each layer's own caches. */
static size_t batch_bytes(const dn_net *net, int n)
{
    size_t bytes = mul_saturating((size_t)n * net->classes, sizeof(float));
    for (int i = 0; i < net->layer_count; i++) {
        const dn_layer *layer = &net->layers[i];
        if (!skipped(layer))
            bytes = add_saturating(bytes, mul_saturating((size_t)n * dn_sample_size(layer->out_shape),
                                                         2 * sizeof(float)));
        if (layer->ops->reserve_bytes)
            bytes = add_saturating(bytes, layer->ops->reserve_bytes(layer, n));
    }
    return bytes;
}

static size_t parameter_bytes(const dn_net *net) { return mul_saturating(net->param_count, 2 * sizeof(float)); }

size_t dn_net_memory(const dn_net *net, int batch)
{
    return add_saturating(parameter_bytes(net), batch_bytes(net, batch > 0 ? batch : 1));
}

/* The limit from DN_MEMORY_LIMIT ("1073741824", "512M", "4G"; K, M, G and T
 * are powers of 1024), else the default. */
static dn_status limit_from_environment(size_t *limit)
{
    *limit = DN_NET_DEFAULT_MEMORY_LIMIT;
    const char *text = getenv("DN_MEMORY_LIMIT");
    if (!text || !*text)
        return DN_OK;
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    int shift = 0;
    if (*end && !end[1]) {
        const char *units = "KMGT", *unit = strchr(units, *end == 'k' ? 'K' : *end);
        shift = unit && *unit ? 10 * (int)(unit - units + 1) : -1;
        end += shift > 0;
    }
    if (errno || end == text || *end || *text == '-' || shift < 0 || value == 0 ||
        value > (SIZE_MAX >> shift))
        return dn_fail(DN_ERR_ARG, "DN_MEMORY_LIMIT='%.40s' is not a size such as 512M, 4G or a number of bytes",
                       text);
    *limit = (size_t)value << shift;
    return DN_OK;
}

/* "12.3 MiB" */
static const char *human_bytes(char *text, size_t cap, size_t bytes)
{
    if (bytes == SIZE_MAX)
        snprintf(text, cap, "more than 16 EiB");
    else if (bytes >= ((size_t)1 << 30))
        snprintf(text, cap, "%.1f GiB", (double)bytes / (1 << 30));
    else
        snprintf(text, cap, "%.1f MiB", (double)bytes / (1 << 20));
    return text;
}

/* DN_ERR_LIMIT when a batch of n would take the net over its memory limit. */
static dn_status check_memory(const dn_net *net, int n)
{
    size_t params = parameter_bytes(net), batch = batch_bytes(net, n);
    size_t total = add_saturating(params, batch);
    if (total <= net->memory_limit)
        return DN_OK;
    char t[32], p[32], b[32], l[32];
    return dn_fail(DN_ERR_LIMIT,
                   "a batch of %d would need %s (parameters and gradients %s, activations and workspaces %s), "
                   "over the memory limit of %s (raise it with DN_MEMORY_LIMIT=8G or dn_net_set_memory_limit)",
                   n, human_bytes(t, sizeof t, total), human_bytes(p, sizeof p, params),
                   human_bytes(b, sizeof b, batch), human_bytes(l, sizeof l, net->memory_limit));
}

static dn_status configure_layers(dn_net *net)
{
    const int *shape = net->input_shape;
    size_t offset = 0;
    for (int i = 0; i < net->layer_count; i++) {
        dn_layer *layer = &net->layers[i];
        memcpy(layer->in_shape, shape, sizeof layer->in_shape);
        dn_status status = layer->ops->configure(layer);
        if (status != DN_OK)
            return dn_fail_context(status, "layer %d (%s)", i + 1, layer->ops->kind);
        if (dn_sample_size(layer->out_shape) > DN_MAX_SAMPLE_FLOATS)
            return dn_fail(DN_ERR_SHAPE,
                           "layer %d (%s): output of %zu floats per sample is over the limit of %zu",
                           i + 1, layer->ops->kind, dn_sample_size(layer->out_shape),
                           DN_MAX_SAMPLE_FLOATS);
        for (int p = 0; p < layer->param_count; p++) {
            layer->params[p].offset = offset;
            if (layer->params[p].size > DN_MAX_PARAMS - offset)
                return dn_fail(DN_ERR_SHAPE, "layer %d (%s): the network would have more than %zu parameters",
                               i + 1, layer->ops->kind, DN_MAX_PARAMS);
            offset += layer->params[p].size;
        }
        net->tensor_count += layer->param_count;
        shape = layer->out_shape;
    }
    for (int i = 0; i + 1 < net->layer_count; i++) {
        dn_layer *layer = &net->layers[i], *next = &net->layers[i + 1];
        if ((layer->ops == &dn_conv2d_layer_ops || layer->ops == &dn_linear_layer_ops) &&
            next->ops == &dn_relu_layer_ops) {
            layer->fuse_relu = true;
            next->folded = true;
            /* a max-pool after the relu may be taken on by the layer;
             * otherwise a max-pool or a conv after the relu does its
             * backward pass on the way (maxpool2d.c, conv2d.c) */
            dn_layer *third = i + 2 < net->layer_count ? &net->layers[i + 2] : NULL;
            const dn_layer_ops *after = third ? third->ops : NULL;
            if (after == &dn_maxpool2d_layer_ops && layer->ops->absorb_pool &&
                layer->ops->absorb_pool(layer, third)) {
                third->folded = true;
            } else if (after == &dn_maxpool2d_layer_ops || after == &dn_conv2d_layer_ops) {
                layer->relu_by_next = true;
                net->layers[i + 2].relu_before = true;
            }
        }
    }
    if (shape[1] != 1 || shape[2] != 1 || shape[0] < 2 || shape[0] > DN_MAX_CLASSES)
        return dn_fail(DN_ERR_SHAPE,
                       "the last layer must output a flat vector of 2 to %d class scores, got %dx%dx%d",
                       DN_MAX_CLASSES, shape[0], shape[1], shape[2]);
    net->classes = shape[0];
    net->param_count = offset;
    return DN_OK;
}

static dn_status allocate_params(dn_net *net)
{
    net->params = dn_calloc(net->param_count ? net->param_count : 1, sizeof(float));
    net->grads = dn_calloc(net->param_count ? net->param_count : 1, sizeof(float));
    if (!net->params || !net->grads)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate %zu parameters", net->param_count);
    for (int i = 0; i < net->layer_count; i++) {
        dn_layer *layer = &net->layers[i];
        if (layer->param_count == 2) {
            layer->weight = net->params + layer->params[0].offset;
            layer->dweight = net->grads + layer->params[0].offset;
            layer->bias = net->params + layer->params[1].offset;
            layer->dbias = net->grads + layer->params[1].offset;
        }
    }
    return DN_OK;
}


static dn_status allocate_slots(dn_net *net)
{
    int slots = net->layer_count + 1;
    net->owner = calloc((size_t)slots, sizeof *net->owner);
    net->act_buf = calloc((size_t)slots, sizeof *net->act_buf);
    net->grad_buf = calloc((size_t)slots, sizeof *net->grad_buf);
    net->act = calloc((size_t)slots, sizeof *net->act);
    net->forward_seconds = calloc((size_t)slots, sizeof *net->forward_seconds);
    net->backward_seconds = calloc((size_t)slots, sizeof *net->backward_seconds);
    if (!net->owner || !net->act_buf || !net->grad_buf || !net->act || !net->forward_seconds ||
        !net->backward_seconds)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate the network's buffer table");
    for (int j = 1; j < slots; j++)
        net->owner[j] = skipped(&net->layers[j - 1]) ? net->owner[j - 1] : j;
    return DN_OK;
}

dn_status dn_net_spec_param_count(const char *spec, size_t *count)
{
    dn_net probe = {0};
    dn_status status = dn_spec_parse(spec, probe.input_shape, &probe.layers, &probe.layer_count);
    if (status == DN_OK)
        status = configure_layers(&probe);
    if (status == DN_OK && count)
        *count = probe.param_count;
    free(probe.layers);
    return status;
}

dn_status dn_net_spec_memory(const char *spec, int batch, size_t *bytes)
{
    dn_net probe = {0};
    dn_status status = dn_spec_parse(spec, probe.input_shape, &probe.layers, &probe.layer_count);
    if (status == DN_OK)
        status = configure_layers(&probe);
    if (status == DN_OK && bytes)
        *bytes = dn_net_memory(&probe, batch);
    free(probe.layers);
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
    dn_status status = limit_from_environment(&net->memory_limit);
    if (status == DN_OK)
        status = dn_spec_parse(spec, net->input_shape, &net->layers, &net->layer_count);
    if (status == DN_OK)
        status = configure_layers(net);
    if (status == DN_OK)
        status = check_memory(net, 1); /* before anything large is allocated */
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

void dn_layer_release(dn_layer *layer)
{
    dn_free(layer->argmax);
    dn_free(layer->mask);
    dn_free(layer->workspace);
    dn_free(layer->transformed_from);
    dn_free(layer->bias_sums);
    layer->argmax = NULL;
    layer->mask = NULL;
    layer->workspace = NULL;
    layer->transformed_from = NULL;
    layer->transformed_valid = false;
    layer->bias_sums = NULL;
    layer->capacity = 0;
}

static void release_buffers(dn_net *net)
{
    for (int j = 0; j <= net->layer_count; j++) {
        dn_free(net->act_buf[j]);
        dn_free(net->grad_buf[j]);
        net->act_buf[j] = net->grad_buf[j] = NULL;
    }
    for (int i = 0; i < net->layer_count; i++)
        dn_layer_release(&net->layers[i]);
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
    free(net->layers);
    dn_free(net->params);
    dn_free(net->grads);
    free(net->spec);
    free(net);
}

/* Grows every per-batch buffer to hold n samples; nothing is allocated when
 * n fits, so a training loop allocates once. */
static dn_status reserve(dn_net *net, int n)
{
    if (n <= net->capacity)
        return DN_OK;
    dn_status status = check_memory(net, n);
    if (status != DN_OK)
        return status;
    release_buffers(net);
    for (int j = 1; j <= net->layer_count; j++) {
        if (net->owner[j] != j)
            continue;
        size_t count = (size_t)n * dn_sample_size(net->layers[j - 1].out_shape);
        net->act_buf[j] = dn_alloc(count * sizeof(float));
        net->grad_buf[j] = dn_alloc(count * sizeof(float));
        if (!net->act_buf[j] || !net->grad_buf[j]) {
            release_buffers(net);
            return dn_fail(DN_ERR_NOMEM, "cannot allocate activations for a batch of %d", n);
        }
    }
    for (int i = 0; i < net->layer_count; i++) {
        status = net->layers[i].ops->reserve(&net->layers[i], n);
        if (status != DN_OK) {
            release_buffers(net);
            return status;
        }
        net->layers[i].capacity = n;
    }
    net->probs = dn_alloc((size_t)n * net->classes * sizeof(float));
    if (!net->probs) {
        release_buffers(net);
        return dn_fail(DN_ERR_NOMEM, "cannot allocate probabilities for a batch of %d", n);
    }
    net->capacity = n;
    return DN_OK;
}

/* Switches OpenMP to the net's thread count and returns the caller's, which
 * leave_threads restores: the count belongs to the net, not the process. */
static int enter_threads(const dn_net *net)
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

static void leave_threads(int saved)
{
#ifdef _OPENMP
    omp_set_num_threads(saved);
#else
    (void)saved;
#endif
}

dn_status dn_net_forward(dn_net *net, const float *input, int n, bool training)
{
    if (!net || !input || n < 1)
        return dn_fail(DN_ERR_ARG, "dn_net_forward: need a network, an input and n >= 1 (n = %d)", n);
    dn_status status = reserve(net, n);
    if (status != DN_OK)
        return status;
    int saved = enter_threads(net);
    net->act[0] = input;
    for (int i = 0; i < net->layer_count; i++) {
        dn_layer *layer = &net->layers[i];
        int slot = i + 1;
        if (skipped(layer) || (!training && layer->ops->identity_in_eval)) {
            net->act[slot] = net->act[i];
            continue;
        }
        double start = net->profiling ? dn_seconds() : 0;
        layer->ops->forward(layer, net->act_buf[slot], net->act[i], n, training, &net->dropout_rng);
        if (net->profiling)
            net->forward_seconds[i] += dn_seconds() - start;
        net->act[slot] = net->act_buf[slot];
    }
    leave_threads(saved);
    net->batch = n;
    net->training = training;
    return DN_OK;
}

const float *dn_net_logits(const dn_net *net)
{
    return net->batch ? net->act[net->layer_count] : NULL;
}

/* DN_ERR_NUMERIC unless every logit of the last forward pass is finite:
 * weights that are finite but huge overflow to infinity, and softmax turns
 * that into NaN probabilities, which must never leave the library. */
static dn_status check_logits(const dn_net *net)
{
    const float *logits = net->act[net->layer_count];
    size_t count = (size_t)net->batch * net->classes;
    size_t bad = dn_find_non_finite(logits, count);
    if (bad == count)
        return DN_OK;
    return dn_fail(DN_ERR_NUMERIC,
                   "the network's output is not finite (%g for class %zu of sample %zu): "
                   "its weights or its input are out of the range float can compute with",
                   (double)logits[bad], bad % (size_t)net->classes, bad / (size_t)net->classes);
}

dn_status dn_net_backward(dn_net *net, const uint8_t *labels, float *loss, int *correct)
{
    if (!net || !labels)
        return dn_fail(DN_ERR_ARG, "dn_net_backward: network and labels must not be NULL");
    const int n = net->batch, classes = net->classes, last = net->layer_count;
    if (n == 0)
        return dn_fail(DN_ERR_ARG, "dn_net_backward: call dn_net_forward first");
    if (net->owner[last] == 0)
        return dn_fail(DN_ERR_ARG, "dn_net_backward: the network has no layer to train");
    for (int b = 0; b < n; b++)
        if (labels[b] >= classes)
            return dn_fail(DN_ERR_ARG, "label %d of sample %d is not below %d classes", labels[b],
                           b, classes);
    dn_status status = check_logits(net);
    if (status != DN_OK)
        return dn_fail_context(status, "training diverged");
    const float *logits = net->act[last];
    float mean_loss = dn_cross_entropy_forward(net->probs, logits, labels, n, classes);
    if (loss)
        *loss = mean_loss;
    if (correct) {
        int right = 0;
        for (int b = 0; b < n; b++) {
            const float *p = net->probs + (size_t)b * classes;
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (p[k] > p[best])
                    best = k;
            right += best == labels[b];
        }
        *correct = right;
    }
    /* the logits' slot may be an alias (a folded relu or a flatten at the end) */
    dn_cross_entropy_backward(net->grad_buf[net->owner[last]], net->probs, labels, n, classes);

    int saved = enter_threads(net);
    for (int i = last - 1; i >= 0; i--) {
        dn_layer *layer = &net->layers[i];
        if (skipped(layer))
            continue;
        float *din = net->owner[i] == 0 ? NULL : net->grad_buf[net->owner[i]];
        if (!net->training && layer->ops->identity_in_eval) {
            if (din)
                memcpy(din, net->grad_buf[i + 1], (size_t)n * dn_sample_size(layer->out_shape) * sizeof(float));
            continue;
        }
        double start = net->profiling ? dn_seconds() : 0;
        layer->ops->backward(layer, din, net->grad_buf[i + 1], net->act[i], net->act[i + 1], n);
        if (net->profiling)
            net->backward_seconds[i] += dn_seconds() - start;
    }
    leave_threads(saved);
    return DN_OK;
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
    dn_softmax_forward(probs, net->act[net->layer_count], n, net->classes);
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
            /* PyTorch: kaiming_uniform_(a=sqrt(5)) for weights, and the same
             * bound for biases, both 1/sqrt(fan_in). */
            float bound = 1.0f / sqrtf((float)param->fan_in);
            float *values = net->params + param->offset;
            for (size_t k = 0; k < param->size; k++)
                values[k] = dn_rng_range(&rng, -bound, bound);
        }
    }
}

void dn_net_seed_dropout(dn_net *net, uint64_t seed)
{
    dn_rng_seed(&net->dropout_rng, seed ^ 0x64726f706f7574ULL);
}

/* ---- accessors ---- */

const char *dn_net_spec(const dn_net *net) { return net->spec; }

void dn_net_input_shape(const dn_net *net, int shape[3])
{
    memcpy(shape, net->input_shape, sizeof net->input_shape);
}

int dn_net_num_classes(const dn_net *net) { return net->classes; }
int dn_net_layer_count(const dn_net *net) { return net->layer_count; }

const char *dn_net_layer_kind(const dn_net *net, int i)
{
    return (i >= 0 && i < net->layer_count) ? net->layers[i].ops->kind : NULL;
}

void dn_net_layer_shapes(const dn_net *net, int i, int in_shape[3], int out_shape[3])
{
    if (i < 0 || i >= net->layer_count)
        return;
    memcpy(in_shape, net->layers[i].in_shape, sizeof net->layers[i].in_shape);
    memcpy(out_shape, net->layers[i].out_shape, sizeof net->layers[i].out_shape);
}

void dn_net_set_threads(dn_net *net, int threads) { net->threads = threads > 0 ? threads : 0; }

void dn_net_set_memory_limit(dn_net *net, size_t bytes) { net->memory_limit = bytes; }
size_t dn_net_memory_limit(const dn_net *net) { return net->memory_limit; }

size_t dn_net_param_count(const dn_net *net) { return net->param_count; }
float *dn_net_params(dn_net *net) { return net->params; }
float *dn_net_grads(dn_net *net) { return net->grads; }
int dn_net_param_tensor_count(const dn_net *net) { return net->tensor_count; }

dn_status dn_net_get_param(dn_net *net, int index, dn_net_param *param)
{
    int seen = 0;
    for (int i = 0; i < net->layer_count; i++) {
        const dn_layer *layer = &net->layers[i];
        for (int p = 0; p < layer->param_count; p++, seen++) {
            if (seen != index)
                continue;
            const dn_layer_param *lp = &layer->params[p];
            snprintf(param->name, sizeof param->name, "%s.%s", layer->name, lp->suffix);
            dn_status status =
                dn_tensor_view(&param->value, net->params + lp->offset, lp->ndim, lp->shape);
            if (status == DN_OK)
                status = dn_tensor_view(&param->grad, net->grads + lp->offset, lp->ndim, lp->shape);
            return status;
        }
    }
    return dn_fail(DN_ERR_ARG, "parameter tensor %d does not exist (the net has %d)", index,
                   net->tensor_count);
}

int dn_net_find_param(const dn_net *net, const char *name)
{
    int seen = 0;
    for (int i = 0; i < net->layer_count; i++) {
        const dn_layer *layer = &net->layers[i];
        size_t len = strlen(layer->name);
        for (int p = 0; p < layer->param_count; p++, seen++)
            if (len && strncmp(name, layer->name, len) == 0 && name[len] == '.' &&
                strcmp(name + len + 1, layer->params[p].suffix) == 0)
                return seen;
    }
    return -1;
}

/* ---- profiling ---- */

void dn_net_set_profiling(dn_net *net, bool on) { net->profiling = on; }

void dn_net_reset_profile(dn_net *net)
{
    for (int i = 0; i < net->layer_count; i++)
        net->forward_seconds[i] = net->backward_seconds[i] = 0;
}

void dn_net_layer_times(const dn_net *net, int i, double *forward_s, double *backward_s)
{
    bool valid = i >= 0 && i < net->layer_count;
    *forward_s = valid ? net->forward_seconds[i] : 0;
    *backward_s = valid ? net->backward_seconds[i] : 0;
}

void dn_net_layer_flops(const dn_net *net, int i, double *forward, double *backward)
{
    *forward = *backward = 0;
    if (i < 0 || i >= net->layer_count || net->layers[i].param_count == 0)
        return;
    const dn_layer *layer = &net->layers[i];
    /* every weight meets every output position once: 2 flops per use */
    double positions = (double)layer->out_shape[1] * layer->out_shape[2];
    *forward = 2.0 * (double)layer->params[0].size * positions;
    *backward = net->owner[i] == 0 ? *forward : 2.0 * *forward;
}
