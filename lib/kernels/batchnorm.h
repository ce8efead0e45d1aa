/* batchnorm.h - the batchnorm kernels of digitnet/ops.h with the relu that
 * follows a batchnorm computed in the same pass (the fusion plan's
 * batchnorm+relu step): out = max(batchnorm(in), 0), the same values as
 * the plain kernel followed by dn_relu_forward, with one pass over the
 * output fewer. relu false is the plain kernel. The backward pass can also
 * sum its input gradient per channel for the conv before it. */
#ifndef DN_KERNELS_BATCHNORM_H
#define DN_KERNELS_BATCHNORM_H

#include <stdbool.h>

void dn_batchnorm_relu_forward_train(float *out, float *saved_mean, float *saved_inv_std, float *running_mean,
                                     float *running_var, const float *in, const float *gamma, const float *beta,
                                     int n, int c, int s, float momentum, float eps, bool relu);
void dn_batchnorm_relu_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                                    const float *running_mean, const float *running_var, int n, int c, int s,
                                    float eps, bool relu);

/* dn_batchnorm_backward, and, with din_sums (c) not NULL and din not NULL,
 * din_sums[ch] += the sum of din over channel ch: dn_sum over each image's
 * plane, then over the images in order, the order in which a conv adds up
 * its bias gradient (conv2d.c). A conv before a batchnorm then skips its own
 * pass over that gradient; the planes are summed here just after they are
 * written, in cache. */
void dn_batchnorm_backward_sums(float *din, float *din_sums, float *dgamma, float *dbeta, const float *dout,
                                const float *in, const float *gamma, const float *mean, const float *inv_std,
                                bool batch_statistics, int n, int c, int s);

#endif
