/* plan.h - the fusion plan: the one place that looks at a net's sequence of
 * layers and decides which run together as one step (a conv or linear with
 * the relu after it; a Winograd conv with its relu and 2x2 max-pool; a relu
 * whose backward pass the next step does on the way). Everything else in
 * the library runs steps and knows nothing of which layers were fused. */
#ifndef DN_PLAN_H
#define DN_PLAN_H

#include "layer.h"

typedef struct dn_step {
    int layer;          /* index of the layer whose kind computes the step */
    int count;          /* layers it covers: layer .. layer + count - 1 */
    bool alias;         /* a view (flatten): its output is its input, nothing runs */
    dn_fusion fusion;   /* what the layer's kind is asked to do besides its own work */
    int out_shape[3];   /* what the step really outputs (a fused pool's shape) */
} dn_step;

typedef struct dn_plan {
    dn_step *steps;     /* malloc'd */
    int count;
} dn_plan;

/* Plans layers[0..count) (configured: shapes known). Without fuse, every
 * layer is a step of its own that the plan asks nothing more of (what a
 * probe needs to see each layer's output, lib/net/probe.c). On failure
 * (out of memory) *plan is empty. */
dn_status dn_plan_make(dn_plan *plan, const dn_layer *layers, int count, bool fuse);
void dn_plan_free(dn_plan *plan);

/* The step that computes layer i, or -1 for a layer folded into a step. */
int dn_plan_step_of(const dn_plan *plan, int layer);

#endif
