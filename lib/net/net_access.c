/* net_access.c - what a net tells about itself (spec, shapes, layers), its
 * parameters by name, its thread count and its profile. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "net_internal.h"

const char *dn_net_spec(const dn_net *net) { return net->spec; }

void dn_net_input_shape(const dn_net *net, int shape[3])
{
    memcpy(shape, net->input_shape, sizeof net->input_shape);
}

int dn_net_num_classes(const dn_net *net) { return net->classes; }
int dn_net_layer_count(const dn_net *net) { return net->layer_count; }

const char *dn_net_layer_kind(const dn_net *net, int i)
{
    return (i >= 0 && i < net->layer_count) ? net->layers[i].kind->name : NULL;
}

void dn_net_layer_shapes(const dn_net *net, int i, int in_shape[3], int out_shape[3])
{
    if (i < 0 || i >= net->layer_count)
        return;
    memcpy(in_shape, net->layers[i].in_shape, sizeof net->layers[i].in_shape);
    memcpy(out_shape, net->layers[i].out_shape, sizeof net->layers[i].out_shape);
}

void dn_net_set_threads(dn_net *net, int threads) { net->threads = threads > 0 ? threads : 0; }

/* ---- parameters ---- */

size_t dn_net_param_count(const dn_net *net) { return net->param_count; }

/* Whoever takes a writable pointer to the parameters may change them:
 * caches derived from the weights (a Winograd conv's transformed weights)
 * are made again on their next use. */
float *dn_net_params(dn_net *net)
{
    dn_net_mark_params_changed(net);
    return net->params;
}

float *dn_net_grads(dn_net *net) { return net->grads; }
int dn_net_param_tensor_count(const dn_net *net) { return net->tensor_count; }

void dn_net_mark_params_changed(dn_net *net) { net->generation++; }

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
            param->trainable = !lp->buffer;
            param->grad = (dn_tensor){0};
            dn_status status = dn_tensor_view(&param->value, layer->values[p], lp->ndim, lp->shape);
            if (status == DN_OK && !lp->buffer)
                status = dn_tensor_view(&param->grad, layer->grads[p], lp->ndim, lp->shape);
            dn_net_mark_params_changed(net);
            return status;
        }
    }
    return dn_fail(DN_ERR_ARG, "parameter tensor %d does not exist (the net has %d)", index, net->tensor_count);
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
    /* every weight meets every output position once: 2 flops per use; the
     * backward pass computes the input gradient too unless the input is the net's */
    double positions = (double)layer->out_shape[1] * layer->out_shape[2];
    *forward = 2.0 * (double)layer->params[0].size * positions;
    int step = dn_plan_step_of(&net->plan, i);
    *backward = step >= 0 && net->owner[step] == 0 ? *forward : 2.0 * *forward;
}
