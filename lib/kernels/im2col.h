/* im2col.h - unfold an image into convolution patches and fold them back.
 * col is (C*KH*KW) x (OH*OW): row (c,i,j) holds in[c, y*s+i-p, x*s+j-p] for
 * every output position (y,x), zero where the patch hangs over the edge. */
#ifndef DN_IM2COL_H
#define DN_IM2COL_H

#include "digitnet/ops.h"

/* col (C*KH*KW, OH*OW) from one image in (C,H,W). */
void dn_im2col(float *col, const float *in, const dn_conv2d_dims *d);

/* img (C,H,W) = the sum of every patch element of col at its source pixel
 * (overwrites img). The adjoint of dn_im2col. */
void dn_col2im(float *img, const float *col, const dn_conv2d_dims *d);

#endif
