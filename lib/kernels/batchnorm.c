/* batchnorm.c - batch normalisation over the channels of (N, C, S) data (S =
 * H*W, or 1 after a linear layer), forward in training and evaluation mode
 * and backward, with PyTorch's BatchNorm conventions. The layer:
 * layers/batchnorm.c. Every per-channel sum runs over images in order and
 * over each plane with dn_sum, so the result is the same for any thread
 * count. */
#include <math.h>

#include "digitnet/ops.h"
#include "internal.h"

/* Sum over the batch of one channel's planes. */
static double channel_sum(const float *x, int n, int c, int s, int channel)
{
    double sum = 0;
    for (int b = 0; b < n; b++)
        sum += dn_sum(x + ((size_t)b * c + channel) * s, (size_t)s);
    return sum;
}

void dn_batchnorm_forward_train(float *out, float *saved_mean, float *saved_inv_std, float *running_mean,
                                float *running_var, const float *in, const float *gamma, const float *beta, int n,
                                int c, int s, float momentum, float eps)
{
    const double count = (double)n * s;
#pragma omp parallel for schedule(dynamic, 1) if ((long)n * c * s > 65536)
    for (int ch = 0; ch < c; ch++) {
        double mean = channel_sum(in, n, c, s, ch) / count;
        double squares = 0;
        for (int b = 0; b < n; b++) {
            const float *x = in + ((size_t)b * c + ch) * s;
            double plane = 0;
            for (int i = 0; i < s; i++)
                plane += ((double)x[i] - mean) * ((double)x[i] - mean);
            squares += plane;
        }
        double var = squares / count; /* biased: what normalises the batch */
        float inv_std = (float)(1.0 / sqrt(var + eps));
        float scale = gamma[ch] * inv_std, shift = beta[ch] - (float)mean * scale;
        for (int b = 0; b < n; b++) {
            const float *x = in + ((size_t)b * c + ch) * s;
            float *y = out + ((size_t)b * c + ch) * s;
            for (int i = 0; i < s; i++)
                y[i] = x[i] * scale + shift;
        }
        saved_mean[ch] = (float)mean;
        saved_inv_std[ch] = inv_std;
        /* the running variance is the unbiased one, as in PyTorch */
        double unbiased = count > 1 ? squares / (count - 1) : var;
        running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * (float)mean;
        running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * (float)unbiased;
    }
}

void dn_batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                               const float *running_mean, const float *running_var, int n, int c, int s, float eps)
{
#pragma omp parallel for schedule(static) if ((long)n * c * s > 65536)
    for (int ch = 0; ch < c; ch++) {
        float scale = gamma[ch] / sqrtf(running_var[ch] + eps);
        float shift = beta[ch] - running_mean[ch] * scale;
        for (int b = 0; b < n; b++) {
            const float *x = in + ((size_t)b * c + ch) * s;
            float *y = out + ((size_t)b * c + ch) * s;
            for (int i = 0; i < s; i++)
                y[i] = x[i] * scale + shift;
        }
    }
}

void dn_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                           const float *gamma, const float *mean, const float *inv_std, bool batch_statistics,
                           int n, int c, int s)
{
    const double count = (double)n * s;
#pragma omp parallel for schedule(dynamic, 1) if ((long)n * c * s > 65536)
    for (int ch = 0; ch < c; ch++) {
        /* sums of dy and of dy * x_hat over the channel */
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int b = 0; b < n; b++) {
            const float *x = in + ((size_t)b * c + ch) * s, *dy = dout + ((size_t)b * c + ch) * s;
            double plane_dy = 0, plane_dy_xhat = 0;
            for (int i = 0; i < s; i++) {
                plane_dy += dy[i];
                plane_dy_xhat += (double)dy[i] * ((x[i] - mean[ch]) * inv_std[ch]);
            }
            sum_dy += plane_dy;
            sum_dy_xhat += plane_dy_xhat;
        }
        dbeta[ch] += (float)sum_dy;
        dgamma[ch] += (float)sum_dy_xhat;
        if (!din)
            continue;
        /* with batch statistics the mean and variance depend on x too:
         * dx = gamma * inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)) */
        float k = gamma[ch] * inv_std[ch];
        float mean_dy = batch_statistics ? (float)(sum_dy / count) : 0.0f;
        float mean_dy_xhat = batch_statistics ? (float)(sum_dy_xhat / count) : 0.0f;
        for (int b = 0; b < n; b++) {
            const float *x = in + ((size_t)b * c + ch) * s, *dy = dout + ((size_t)b * c + ch) * s;
            float *dx = din + ((size_t)b * c + ch) * s;
            for (int i = 0; i < s; i++) {
                float xhat = (x[i] - mean[ch]) * inv_std[ch];
                dx[i] = k * (dy[i] - mean_dy - xhat * mean_dy_xhat);
            }
        }
    }
}
