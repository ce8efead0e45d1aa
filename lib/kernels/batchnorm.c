/* batchnorm.c - batch normalisation over the channels of (N, C, S) data (S =
 * H*W, or 1 after a linear layer), forward in training and evaluation mode
 * and backward, with PyTorch's BatchNorm conventions. The layer:
 * layers/batchnorm.c. Every per-channel sum runs over images in order and
 * over each plane with dn_sum, so the result is the same for any thread
 * count. */
#include <math.h>

#include "digitnet/ops.h"
#include "batchnorm.h"
#include "internal.h"

/* Sums over one plane in 16 interleaved float partials (vectorisable, an
 * order fixed by s alone), of x - shift and of (x - shift)^2. */
static void plane_moments(const float *restrict x, int s, float shift, double *sum, double *squares)
{
    float partial[16] = {0}, partial_sq[16] = {0};
    int i = 0;
    for (; i + 16 <= s; i += 16)
        for (int k = 0; k < 16; k++) {
            float d = x[i + k] - shift;
            partial[k] += d;
            partial_sq[k] += d * d;
        }
    double total = 0, total_sq = 0;
    for (; i < s; i++) {
        float d = x[i] - shift;
        total += d;
        total_sq += (double)d * d;
    }
    for (int k = 0; k < 16; k++) {
        total += partial[k];
        total_sq += partial_sq[k];
    }
    *sum += total;
    *squares += total_sq;
}

/* y = x * scale + offset over one plane, and the relu after it when relu:
 * the same values as a separate relu pass, without reading the plane again. */
static void normalise_plane(float *restrict y, const float *restrict x, int s, float scale, float offset, bool relu)
{
    if (relu)
        for (int i = 0; i < s; i++) {
            float v = x[i] * scale + offset;
            y[i] = v > 0.0f ? v : 0.0f;
        }
    else
        for (int i = 0; i < s; i++)
            y[i] = x[i] * scale + offset;
}

void dn_batchnorm_relu_forward_train(float *out, float *saved_mean, float *saved_inv_std, float *running_mean,
                                     float *running_var, const float *in, const float *gamma, const float *beta,
                                     int n, int c, int s, float momentum, float eps, bool relu)
{
    const double count = (double)n * s;
#pragma omp parallel for schedule(dynamic, 1) if ((long)n * c * s > 65536)
    for (int ch = 0; ch < c; ch++) {
        /* moments about the first value, so that a large mean costs no
         * precision: var = E[(x - k)^2] - (E[x - k])^2 */
        const float shift = in[(size_t)ch * s];
        double sum = 0, squares = 0;
        for (int b = 0; b < n; b++)
            plane_moments(in + ((size_t)b * c + ch) * s, s, shift, &sum, &squares);
        double mean_shifted = sum / count;
        double var = squares / count - mean_shifted * mean_shifted; /* biased: what normalises the batch */
        if (var < 0)
            var = 0;
        double mean = shift + mean_shifted;
        float inv_std = (float)(1.0 / sqrt(var + eps));
        float scale = gamma[ch] * inv_std, offset = beta[ch] - (float)mean * scale;
        for (int b = 0; b < n; b++)
            normalise_plane(out + ((size_t)b * c + ch) * s, in + ((size_t)b * c + ch) * s, s, scale, offset, relu);
        saved_mean[ch] = (float)mean;
        saved_inv_std[ch] = inv_std;
        /* the running variance is the unbiased one, as in PyTorch */
        double unbiased = count > 1 ? var * count / (count - 1) : var;
        running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * (float)mean;
        running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * (float)unbiased;
    }
}

void dn_batchnorm_forward_train(float *out, float *saved_mean, float *saved_inv_std, float *running_mean,
                                float *running_var, const float *in, const float *gamma, const float *beta, int n,
                                int c, int s, float momentum, float eps)
{
    dn_batchnorm_relu_forward_train(out, saved_mean, saved_inv_std, running_mean, running_var, in, gamma, beta, n, c,
                                    s, momentum, eps, false);
}

void dn_batchnorm_relu_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                                    const float *running_mean, const float *running_var, int n, int c, int s,
                                    float eps, bool relu)
{
#pragma omp parallel for schedule(static) if ((long)n * c * s > 65536)
    for (int ch = 0; ch < c; ch++) {
        float scale = gamma[ch] / sqrtf(running_var[ch] + eps);
        float shift = beta[ch] - running_mean[ch] * scale;
        for (int b = 0; b < n; b++)
            normalise_plane(out + ((size_t)b * c + ch) * s, in + ((size_t)b * c + ch) * s, s, scale, shift, relu);
    }
}

void dn_batchnorm_forward_eval(float *out, const float *in, const float *gamma, const float *beta,
                               const float *running_mean, const float *running_var, int n, int c, int s, float eps)
{
    dn_batchnorm_relu_forward_eval(out, in, gamma, beta, running_mean, running_var, n, c, s, eps, false);
}

/* Sums over one plane of dy and of dy * (x - mean), 16 float partials each. */
static void plane_gradient_sums(const float *restrict x, const float *restrict dy, int s, float mean, double *sum_dy,
                                double *sum_dy_centred)
{
    float partial[16] = {0}, partial_c[16] = {0};
    int i = 0;
    for (; i + 16 <= s; i += 16)
        for (int k = 0; k < 16; k++) {
            partial[k] += dy[i + k];
            partial_c[k] += dy[i + k] * (x[i + k] - mean);
        }
    double total = 0, total_c = 0;
    for (; i < s; i++) {
        total += dy[i];
        total_c += (double)dy[i] * (x[i] - mean);
    }
    for (int k = 0; k < 16; k++) {
        total += partial[k];
        total_c += partial_c[k];
    }
    *sum_dy += total;
    *sum_dy_centred += total_c;
}

/* What turns a plane's output gradient into its input gradient. */
typedef struct input_gradient {
    float k, mean_dy, mean, inv_std, mean_dy_xhat;
} input_gradient;

/* dx = k * (dy - mean_dy - (x - mean) * inv_std * mean_dy_xhat) over one
 * plane; returns the sum of dx in dn_sum's order (16 interleaved partials,
 * then the tail, then the partials), added up as it is written. */
static float input_gradient_plane(float *dx, const float *dy, const float *x, int s, const input_gradient *g)
{
    const float k = g->k, mean_dy = g->mean_dy, m = g->mean, is = g->inv_std, mean_dy_xhat = g->mean_dy_xhat;
    float partial[16] = {0};
    int i = 0;
    for (; i + 16 <= s; i += 16)
        for (int j = 0; j < 16; j++) {
            float v = k * (dy[i + j] - mean_dy - (x[i + j] - m) * is * mean_dy_xhat);
            dx[i + j] = v;
            partial[j] += v;
        }
    float sum = 0.0f;
    for (; i < s; i++) {
        float v = k * (dy[i] - mean_dy - (x[i] - m) * is * mean_dy_xhat);
        dx[i] = v;
        sum += v;
    }
    for (int j = 0; j < 16; j++)
        sum += partial[j];
    return sum;
}

void dn_batchnorm_backward_sums(float *din, float *din_sums, float *dgamma, float *dbeta, const float *dout,
                                const float *in, const float *gamma, const float *mean, const float *inv_std,
                                bool batch_statistics, int n, int c, int s)
{
    const double count = (double)n * s;
#pragma omp parallel for schedule(dynamic, 1) if ((long)n * c * s > 65536)
    for (int ch = 0; ch < c; ch++) {
        /* sums of dy and of dy * x_hat over the channel (x_hat = (x - mean) * inv_std) */
        double sum_dy = 0, sum_dy_centred = 0;
        if (dgamma || dbeta || batch_statistics)
            for (int b = 0; b < n; b++)
                plane_gradient_sums(in + ((size_t)b * c + ch) * s, dout + ((size_t)b * c + ch) * s, s, mean[ch],
                                    &sum_dy, &sum_dy_centred);
        double sum_dy_xhat = sum_dy_centred * inv_std[ch];
        if (dbeta)
            dbeta[ch] += (float)sum_dy;
        if (dgamma)
            dgamma[ch] += (float)sum_dy_xhat;
        if (!din)
            continue;
        /* with batch statistics the mean and variance depend on x too:
         * dx = gamma * inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)) */
        const input_gradient g = {
            .k = gamma[ch] * inv_std[ch], .mean = mean[ch], .inv_std = inv_std[ch],
            .mean_dy = batch_statistics ? (float)(sum_dy / count) : 0.0f,
            .mean_dy_xhat = batch_statistics ? (float)(sum_dy_xhat / count) : 0.0f,
        };
        float din_sum = 0.0f; /* over the images in order, as conv2d.c adds its bias gradient */
        for (int b = 0; b < n; b++) {
            size_t at = ((size_t)b * c + ch) * s;
            din_sum += input_gradient_plane(din + at, dout + at, in + at, s, &g);
        }
        if (din_sums)
            din_sums[ch] += din_sum;
    }
}

void dn_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                           const float *gamma, const float *mean, const float *inv_std, bool batch_statistics,
                           int n, int c, int s)
{
    dn_batchnorm_backward_sums(din, NULL, dgamma, dbeta, dout, in, gamma, mean, inv_std, batch_statistics, n, c, s);
}
