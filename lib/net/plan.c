/* plan.c - the fusion plan: which layers run together as one step. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "layers/kinds.h"
#include "plan.h"

static bool is_relu(const dn_layer *layer) { return layer->kind == &dn_relu_kind; }

/* A step of the layer alone: what the layer computes, with nothing fused. */
static dn_step plain_step(const dn_layer *layers, int i)
{
    dn_step step = {.layer = i, .count = 1, .alias = layers[i].kind->is_view};
    memcpy(step.out_shape, layers[i].out_shape, sizeof step.out_shape);
    return step;
}

/* A step from layers[i]: the layer alone, or with the relu after it, and
 * maybe the max-pool after that. */
static dn_step plan_step(const dn_layer *layers, int count, int i)
{
    const dn_layer *layer = &layers[i];
    const dn_layer_kind *kind = layer->kind;
    dn_step step = plain_step(layers, i);
    /* in evaluation a batchnorm right after it can become part of its weights */
    if (i + 1 < count && dn_is_batchnorm(&layers[i + 1]) && kind->can_fold_batchnorm &&
        kind->can_fold_batchnorm(layer, &layers[i + 1]))
        step.fusion.fold = &layers[i + 1];
    if (!(i + 1 < count && is_relu(&layers[i + 1]) && kind->can_fuse_relu && kind->can_fuse_relu(layer)))
        return step;
    step.count = 2;
    step.fusion.relu = true;
    const dn_layer *third = i + 2 < count ? &layers[i + 2] : NULL;
    if (third && kind->can_fuse_pool && kind->can_fuse_pool(layer, third)) {
        step.count = 3;
        step.fusion.pool = third;
        memcpy(step.out_shape, third->out_shape, sizeof step.out_shape);
    } else if (third && third->kind->can_do_relu_input_grad && third->kind->can_do_relu_input_grad(third)) {
        /* the next step masks its input gradient, which is this relu's
         * backward pass, while that gradient is in cache anyway */
        step.fusion.relu_grad_done = true;
    }
    return step;
}

/* Whether the step after `before` can add the per-channel bias gradient
 * of before's layer (a batchnorm after a conv): before is that layer alone,
 * so the step's input gradient is that layer's output gradient. */
static bool can_sum_bias_grad(const dn_layer *layers, const dn_step *before, const dn_step *step)
{
    const dn_layer *prev = &layers[before->layer], *layer = &layers[step->layer];
    return before->count == 1 && !before->alias && !step->alias && prev->kind->channel_bias_grad &&
           layer->kind->can_sum_input_grad && layer->kind->can_sum_input_grad(layer);
}

dn_status dn_plan_make(dn_plan *plan, const dn_layer *layers, int count, bool fuse)
{
    *plan = (dn_plan){0};
    dn_step *steps = calloc((size_t)(count > 0 ? count : 1), sizeof *steps);
    if (!steps)
        return dn_fail(DN_ERR_NOMEM, "cannot allocate the network's plan");
    int n = 0;
    for (int i = 0; i < count; i += steps[n - 1].count) {
        steps[n] = fuse ? plan_step(layers, count, i) : plain_step(layers, i);
        if (n > 0 && steps[n - 1].fusion.relu_grad_done)
            steps[n].fusion.relu_input_grad = true;
        if (fuse && n > 0 && can_sum_bias_grad(layers, &steps[n - 1], &steps[n])) {
            steps[n].fusion.bias_grad_of = &layers[steps[n - 1].layer];
            steps[n - 1].fusion.bias_grad_done = true;
        }
        if (n > 0 && steps[n - 1].fusion.fold) { /* this step is the batchnorm */
            steps[n].fusion.folded_away = true;
            steps[n - 1].fusion.fold_relu = steps[n].fusion.relu;
        }
        n++;
    }
    plan->steps = steps;
    plan->count = n;
    return DN_OK;
}

void dn_plan_free(dn_plan *plan)
{
    free(plan->steps);
    *plan = (dn_plan){0};
}

int dn_plan_step_of(const dn_plan *plan, int layer)
{
    for (int s = 0; s < plan->count; s++)
        if (plan->steps[s].layer == layer)
            return s;
    return -1;
}
