/* maxpool2d.h - the max-pool backward pass the layer (layers/maxpool.c)
 * uses, which can also do the backward pass of a relu before the pool.
 * Internal, never installed. */
#ifndef DN_MAXPOOL2D_H
#define DN_MAXPOOL2D_H

#include <stdint.h>

#include "digitnet/ops.h"

/* din = dout routed to the argmax positions; with pooled (the forward
 * pass's output) not NULL, only where it is > 0, that is where the winning
 * input is: the backward pass of a relu before the pool (dn_relu_mask's
 * rule), done on the way, reading the small pooled output instead of the
 * input at scattered places. */
void dn_maxpool2d_route(float *din, const float *dout, const int32_t *argmax, const float *pooled, int n,
                        int c, int h, int w, int kernel, int stride);

#endif
