/* net_memory.c - every byte a net needs, from its shapes and plan alone,
 * and the limit it must stay under. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "net_internal.h"

static size_t add_saturating(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static size_t mul_saturating(size_t a, size_t b)
{
    size_t product;
    return dn_mul_size(a, b, &product) ? product : SIZE_MAX;
}

size_t dn_net_parameter_bytes(const dn_net *net)
{
    if (net->view) /* it reads another net's */
        return 0;
    return add_saturating(mul_saturating(net->param_count, 2 * sizeof(float)),
                          mul_saturating(net->buffer_count, sizeof(float)));
}

/* What reserve() in net.c allocates: an output and its gradient for every
 * step that is not an alias, the probabilities, and each step's caches. */
size_t dn_net_batch_bytes(const dn_net *net, int n)
{
    size_t bytes = mul_saturating((size_t)n * net->classes, sizeof(float));
    for (int s = 0; s < net->plan.count; s++) {
        const dn_step *step = &net->plan.steps[s];
        const dn_layer *layer = &net->layers[step->layer];
        if (step->alias)
            continue;
        bytes = add_saturating(bytes, mul_saturating((size_t)n * dn_sample_size(step->out_shape), 2 * sizeof(float)));
        if (layer->kind->reserve_bytes)
            bytes = add_saturating(bytes, layer->kind->reserve_bytes(layer, &step->fusion, n));
    }
    return bytes;
}

size_t dn_net_memory(const dn_net *net, int batch)
{
    return add_saturating(dn_net_parameter_bytes(net), dn_net_batch_bytes(net, batch > 0 ? batch : 1));
}

dn_status dn_net_limit_from_environment(size_t *limit)
{
    *limit = DN_NET_DEFAULT_MEMORY_LIMIT;
    const char *text = getenv("DN_MEMORY_LIMIT");
    if (!text || !*text)
        return DN_OK;
    /* "1073741824", "512M", "4G": K, M, G and T are powers of 1024 */
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    int shift = 0;
    if (*end && !end[1]) {
        const char *units = "KMGT", *unit = strchr(units, *end == 'k' ? 'K' : *end);
        shift = unit && *unit ? 10 * (int)(unit - units + 1) : -1;
        end += shift > 0;
    }
    if (errno || end == text || *end || *text == '-' || shift < 0 || value == 0 || value > (SIZE_MAX >> shift))
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

dn_status dn_net_check_memory(const dn_net *net, int n)
{
    size_t params = dn_net_parameter_bytes(net), batch = dn_net_batch_bytes(net, n);
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

void dn_net_set_memory_limit(dn_net *net, size_t bytes) { net->memory_limit = bytes; }
size_t dn_net_memory_limit(const dn_net *net) { return net->memory_limit; }
