/* winograd.h - 3x3 stride-1 convolution as Winograd F(4x4, 3x3): each 4x4
 * block of outputs from a 6x6 input tile with 36 multiplies per channel pair
 * instead of 144, the multiplies done as 36 GEMMs over every tile of a block.
 *
 *   U = G g G^T      (weights: [36][OC][C]; the conv layer keeps them while
 *                     its weights do not change)
 *   V = B^T d B      (input tiles: [C][36][tiles of a block])
 *   M_k = U_k V_k    (36 dn_sgemm calls, OC x C times C x tiles)
 *   Y = A^T M A      (+ bias, + relu) written straight into the NCHW output
 *
 * The backward pass is the adjoint of those steps: Z = A dY A^T from each
 * 4x4 tile of the output gradient, then 36 GEMMs Z_k V_k^T summed over the
 * tiles (G^T (.) G turns them into 3x3 kernel gradients) and 36 GEMMs
 * U_k^T Z_k whose tiles, B (.) B^T, add up to the input gradient.
 *
 * Accuracy: the transforms (points 0, +-1, +-2) mix all 36 inputs of a tile
 * before the products cancel back, so an output's rounding error follows the
 * magnitudes of its whole tile, not of its own 9 terms: within 1e-5 of the
 * tile's inputs times the kernel's weights (tests/test_winograd.c bounds
 * those by each plane's largest input times the weights). An output
 * whose window lies in the padding comes out as rounding noise around its
 * bias, not exactly the bias.
 *
 * A call's images are cut into blocks of whole images, the block size fixed
 * by the sizes alone; every element of the output is computed by one fixed
 * sequence of operations whatever the thread count. The functions own no
 * memory and run on the calling thread, except that called outside a
 * parallel region, dn_winograd_weight_forward and the GEMMs use the threads
 * they may. images must be at least 1. */
#ifndef DN_WINOGRAD_H
#define DN_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/ops.h"

/* Whether the shape is one F(4x4, 3x3) handles: a 3x3 kernel with stride 1. */
bool dn_winograd_supported(const dn_conv2d_dims *d);

/* Floats of the transformed weights (36 * OC * C, both directions). */
size_t dn_winograd_weight_floats(const dn_conv2d_dims *d);

/* Floats of scratch one call of dn_winograd_forward or dn_winograd_backward
 * needs, for any number of images. */
size_t dn_winograd_scratch_floats(const dn_conv2d_dims *d);

/* u [36][OC][C] = G weight[o,c] G^T, weight (OC,C,3,3). */
void dn_winograd_weight_forward(float *u, const float *weight, const dn_conv2d_dims *d);

/* out (images,OC,OH,OW) = conv(in (images,C,H,W)) + bias (OC, or NULL),
 * max(0, .) with relu; u from dn_winograd_weight_forward. */
void dn_winograd_forward(float *out, const float *in, const float *u, const float *bias,
                         float *scratch, const dn_conv2d_dims *d, int images, bool relu);

/* The forward pass with relu and a 2x2, stride-2 max-pool fused in (OH and
 * OW even): pooled (images,OC,OH/2,OW/2) = the pool of max(0, conv + bias)
 * and argmax the winners' indices within their OH x OW plane, the rule of
 * dn_maxpool2d_forward; the convolution's own output is never stored. */
void dn_winograd_forward_pooled(float *pooled, int32_t *argmax, const float *in, const float *u,
                                const float *bias, float *scratch, const dn_conv2d_dims *d,
                                int images);

/* The output gradient of a forward pass with the pool fused in, given as
 * the pooled output's gradient: dout is grad routed to argmax where pooled
 * is > 0 (the relu's backward), 0 elsewhere. bias_sums, if not NULL, gets
 * for each image and output channel dn_sum of that plane of dout. Planes
 * are (images,OC,OH/2,OW/2) and bias_sums (images,OC). */
typedef struct dn_winograd_pool {
    const float *grad;
    const float *pooled;
    const int32_t *argmax;
    float *bias_sums;
} dn_winograd_pool;

/* Floats of the transform-domain weight gradient (36 * OC * C). */
size_t dn_winograd_gradient_floats(const dn_conv2d_dims *d);

/* For dout (images,OC,OH,OW), the output gradient of in (images,C,H,W)
 * (or, with pool not NULL and dout NULL, the one pool describes):
 * grad [36][OC][C] = the weight gradient in the transform domain
 * (overwritten; sums of several calls become the kernels' gradient with
 * dn_winograd_weight_gradient; NULL: not computed) and, unless din is NULL, din (images,C,H,W)
 * = the input gradient (overwritten), with relu_input 0 where in is not
 * > 0 (the backward pass of the relu that made in); u from
 * dn_winograd_weight_forward. */
void dn_winograd_backward(float *grad, float *din, const float *dout, const float *in,
                          const float *u, float *scratch, const dn_conv2d_dims *d, int images,
                          bool relu_input, const dn_winograd_pool *pool);

/* dweight (OC,C,3,3) += G^T grad[o,c] G, grad from dn_winograd_backward. */
void dn_winograd_weight_gradient(float *dweight, const float *grad, const dn_conv2d_dims *d);

#endif
