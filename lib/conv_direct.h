/* conv_direct.h - stride-1 convolution of a single-channel input (a first
 * layer on grey images) computed directly, vectors along output rows: the
 * forward pass and the weight gradient. The input gradient, which a first
 * layer does not need, stays with im2col + GEMM.
 *
 * Every element is computed by a sequence of operations fixed by the sizes;
 * the functions own no memory and run on the calling thread. */
#ifndef DN_CONV_DIRECT_H
#define DN_CONV_DIRECT_H

#include <stdbool.h>
#include <stddef.h>

#include "digitnet/ops.h"

/* One input channel, stride 1, at most 49 kernel taps (7x7). */
bool dn_conv_direct_supported(const dn_conv2d_dims *d);

/* Floats of scratch one call needs (a padded image), for any number of images. */
size_t dn_conv_direct_scratch_floats(const dn_conv2d_dims *d);

/* out (images,OC,OH,OW) = conv(in (images,1,H,W)) + bias (OC, or NULL),
 * max(0, .) with relu. */
void dn_conv_direct_forward(float *out, const float *in, const float *weight, const float *bias,
                            float *scratch, const dn_conv2d_dims *d, int images, bool relu);

/* dweight (OC,1,KH,KW) = the weight gradient over the images (overwritten). */
void dn_conv_direct_backward_weight(float *dweight, const float *dout, const float *in,
                                    float *scratch, const dn_conv2d_dims *d, int images);

#endif
