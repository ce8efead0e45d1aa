/* conv2d.h - the convolution kernels behind digitnet/ops.h's public
 * dn_conv2d_forward/backward, with what the conv layer (layers/conv.c)
 * needs besides: fused relu and 2x2 max-pool, transformed weights kept from
 * call to call, and the relu backward of the input done on the way.
 * Internal, never installed. */
#ifndef DN_CONV2D_H
#define DN_CONV2D_H

#include <stdbool.h>
#include <stdint.h>

#include "digitnet/ops.h"

/* Whether d runs as Winograd F(4x4, 3x3) (else im2col + GEMM). */
bool dn_conv2d_uses_winograd(const dn_conv2d_dims *d);

/* The forward pass. With weights_ready, Winograd's transformed weights are
 * already at the start of the workspace (the layer keeps them); with argmax
 * not NULL (Winograd with relu only), out is the 2x2 max-pool of the relu'd
 * output and argmax its winners. */
void dn_conv2d_run_forward(float *out, int32_t *argmax, const float *in, const float *weight,
                           const float *bias, float *workspace, const dn_conv2d_dims *d, bool relu,
                           bool weights_ready);

/* What a forward pass with the pool fused in left for the backward pass:
 * its pooled output and winners, and room for n x OC bias sums. */
typedef struct dn_conv2d_pooled {
    const float *pooled;
    const int32_t *argmax;
    float *bias_sums;
} dn_conv2d_pooled;

/* The backward pass; weights_ready as for forward. dweight and dbias
 * accumulate; a NULL one is not computed (with neither, only din is). With
 * relu_input, din is also 0 where in is not > 0 (the backward pass of the
 * relu that made in, done while din is in cache). With pooled not NULL, dout is the gradient
 * of the pooled output of such a forward pass (the relu and the pool undone
 * on the way, dbias summed as from the full gradient). */
void dn_conv2d_run_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                            const float *weight, float *workspace, const dn_conv2d_dims *d,
                            bool weights_ready, bool relu_input, const dn_conv2d_pooled *pooled);

#endif
