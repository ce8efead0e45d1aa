/* softmax.c - softmax for inference and the softmax cross-entropy loss,
 * computed with log-sum-exp so large logits neither overflow nor underflow. */
#include <math.h>
#include <stdbool.h>

#include "digitnet/idx.h"
#include "digitnet/ops.h"

/* Writes probs for one row and returns log(sum(exp(logits - max))) + max. */
static double softmax_row(float *probs, const float *logits, int classes)
{
    float max = logits[0];
    for (int k = 1; k < classes; k++)
        if (logits[k] > max)
            max = logits[k];
    double sum = 0.0;
    for (int k = 0; k < classes; k++)
        sum += exp((double)logits[k] - max);
    for (int k = 0; k < classes; k++)
        probs[k] = (float)(exp((double)logits[k] - max) / sum);
    return log(sum) + max;
}

void dn_softmax_forward(float *probs, const float *logits, int n, int classes)
{
    for (int b = 0; b < n; b++)
        softmax_row(probs + (size_t)b * classes, logits + (size_t)b * classes, classes);
}

float dn_cross_entropy_forward(float *probs, const float *logits, const uint8_t *labels, int n,
                               int classes)
{
    double total = 0.0;
    for (int b = 0; b < n; b++) {
        const float *row = logits + (size_t)b * classes;
        double log_sum = softmax_row(probs + (size_t)b * classes, row, classes);
        if (labels[b] == DN_LABEL_NONE) {
            double mean_logit = 0.0;
            for (int k = 0; k < classes; k++)
                mean_logit += row[k];
            total += DN_NONE_WEIGHT * (log_sum - mean_logit / classes);
        } else {
            total += log_sum - row[labels[b]];
        }
    }
    return (float)(total / n);
}

void dn_cross_entropy_backward(float *dlogits, const float *probs, const uint8_t *labels, int n,
                               int classes)
{
    const float scale = 1.0f / (float)n;
    for (int b = 0; b < n; b++) {
        const bool none = labels[b] == DN_LABEL_NONE;
        const float weight = none ? DN_NONE_WEIGHT * scale : scale;
        for (int k = 0; k < classes; k++) {
            float target = none ? 1.0f / (float)classes : k == labels[b] ? 1.0f : 0.0f;
            dlogits[(size_t)b * classes + k] = (probs[(size_t)b * classes + k] - target) * weight;
        }
    }
}

int dn_argmax(const float *values, int count)
{
    int best = 0;
    for (int k = 1; k < count; k++)
        if (values[k] > values[best])
            best = k;
    return best;
}
