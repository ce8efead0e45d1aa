/* answer.c - from a network's probabilities to an answer: the digit, or a
 * refusal when there is no ink or the network is not sure enough. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "digitnet/answer.h"
#include "digitnet/ops.h"
#include "internal.h"

dn_answer dn_answer_from_probs(const float *probs, int classes, bool has_ink, float threshold)
{
    dn_answer a = {.digit = -1, .best = -1, .score = 0.0f,
                   .threshold = isnan(threshold) ? DN_ANSWER_THRESHOLD : threshold};
    if (!has_ink || !probs || classes < 1) {
        a.refusal = DN_REFUSED_NO_INK;
        return a;
    }
    a.best = dn_argmax(probs, classes);
    a.score = probs[a.best];
    if (a.score < a.threshold) {
        a.refusal = DN_REFUSED_NOT_A_DIGIT;
        return a;
    }
    a.digit = a.best;
    a.refusal = DN_ANSWERED;
    return a;
}

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

dn_status dn_answer_calibrate(dn_net *net, const dn_dataset *data, double answer_rate, float *threshold)
{
    if (!net || !data || !threshold || !(answer_rate > 0.0 && answer_rate <= 1.0))
        return dn_fail(DN_ERR_ARG, "dn_answer_calibrate: need a net, data, a threshold and a rate in (0,1]");
    const int classes = dn_net_num_classes(net), batch = 256;
    const size_t sample = (size_t)data->channels * data->height * data->width;
    float *scores = malloc((size_t)(data->count > 0 ? data->count : 1) * sizeof *scores);
    float *probs = malloc((size_t)batch * (size_t)classes * sizeof *probs);
    dn_status status = scores && probs ? DN_OK : dn_fail(DN_ERR_NOMEM, "dn_answer_calibrate: out of memory");
    int labelled = 0;
    for (int done = 0; status == DN_OK && done < data->count; done += batch) {
        int n = data->count - done < batch ? data->count - done : batch;
        status = dn_net_predict(net, data->images + (size_t)done * sample, n, probs, (size_t)batch * classes);
        for (int b = 0; status == DN_OK && b < n; b++)
            if (data->labels[done + b] < classes) {
                const float *p = probs + (size_t)b * classes;
                scores[labelled++] = p[dn_argmax(p, classes)];
            }
    }
    if (status == DN_OK && labelled == 0)
        status = dn_fail(DN_ERR_ARG, "dn_answer_calibrate: the set has no sample of a class");
    if (status == DN_OK) {
        /* answered = score >= threshold: the k-th smallest score, k refused */
        qsort(scores, (size_t)labelled, sizeof *scores, compare_floats);
        int refused = (int)floor((1.0 - answer_rate) * labelled + 1e-9); /* 1 - 0.9 is 0.0999... */
        *threshold = scores[refused];
    }
    free(scores);
    free(probs);
    return status;
}

float dn_answer_threshold(float model_threshold, float override)
{
    return override >= 0.0f ? override : model_threshold >= 0.0f ? model_threshold : DN_ANSWER_THRESHOLD;
}

const char *dn_refusal_reason(dn_refusal refusal)
{
    switch (refusal) {
    case DN_ANSWERED: return "answered";
    case DN_REFUSED_NO_INK: return "no ink";
    case DN_REFUSED_NOT_A_DIGIT: return "not a digit";
    }
    return "not a digit";
}
