/* net_internal.h - the dn_net object, shared by net.c (building and
 * running it), net_memory.c (what it needs) and net_access.c (parameters,
 * shapes, profiling). Internal, never installed. */
#ifndef DN_NET_INTERNAL_H
#define DN_NET_INTERNAL_H

#include "digitnet/net.h"
#include "layer.h"
#include "plan.h"

struct dn_net {
    char *spec;
    int input_shape[3];
    int classes;
    int layer_count;
    dn_layer *layers;
    dn_plan plan;       /* the steps the layers run as (plan.c) */

    size_t param_count;
    float *params;
    float *grads;
    size_t buffer_count; /* floats of state that is saved but not trained */
    float *buffers;
    int tensor_count;    /* parameter and buffer tensors */
    uint64_t generation; /* bumped whenever the parameters may have changed */
    bool view;           /* reads another net's parameters (dn_net_new_view):
                            owns none, computes no gradient of them, runs
                            every layer as a step of its own */

    dn_rng dropout_rng;
    int threads;
    size_t memory_limit; /* bytes; see dn_net_set_memory_limit */

    /* Slot 0 is the input; slot s + 1 is the output of step s. An alias
     * step (a view) shares the buffer of the slot before it: owner[j] names
     * the slot whose buffer slot j uses. */
    int *owner;
    int capacity;       /* samples the buffers hold */
    float **act_buf;    /* [slot], owned for owner[j] == j > 0 */
    float **grad_buf;
    const float **act;  /* [slot], set by forward */
    int batch;          /* n of the last forward, 0 before any */
    bool training;      /* mode of the last forward */
    bool folded;        /* the last forward ran with batchnorms folded into convs */
    float *probs;       /* capacity x classes */

    bool profiling;
    double *forward_seconds;  /* [layer]: a step's time goes to its first layer */
    double *backward_seconds;
};

/* A net of source's spec whose layers read source's parameters and
 * running statistics (which must outlive it) and have no gradients, with
 * no fusion: slot i + 1 holds layer i's output (lib/net/probe.c). It owns
 * its activations and caches, so it runs while source is used elsewhere;
 * set its generation to source's before each run. */
dn_status dn_net_new_view(dn_net **out, const dn_net *source);

/* The forward pass (dn_net_forward without the checks); fold: in
 * evaluation, batchnorms folded into the convs before them. */
dn_status dn_net_run_forward(dn_net *net, const float *input, int n, bool training, bool fold);

/* The backward pass of the last forward from the gradient in the logits'
 * buffer (grad_buf[owner[plan.count]]); parameter gradients accumulate.
 * input_grad gets the gradient of the input (n x input size), unless NULL. */
void dn_net_run_backward(dn_net *net, float *input_grad);

/* Switches OpenMP to the net's thread count and returns the caller's, which
 * dn_net_leave_threads restores: the count belongs to the net, not the
 * process, and governs every parallel loop run on the net's behalf
 * (dn_train_epoch's augmentation and optimizer steps too). */
int dn_net_enter_threads(const dn_net *net);
void dn_net_leave_threads(int saved);

/* net_memory.c: bytes of the parameters and their gradients, and of the
 * buffers and caches for a batch of n; DN_ERR_LIMIT when over the limit. */
size_t dn_net_parameter_bytes(const dn_net *net);
size_t dn_net_batch_bytes(const dn_net *net, int n);
dn_status dn_net_check_memory(const dn_net *net, int n);
dn_status dn_net_limit_from_environment(size_t *limit);

#endif
