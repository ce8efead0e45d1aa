/* answer.c - from a network's probabilities to an answer: the digit, or a
 * refusal when there is no ink or the network is not sure enough. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* The threshold of both calibrations: the scores of data's labelled
 * samples (those the net reads right only, when right_only), sorted; the
 * k-th smallest is the largest threshold that refuses at most k of them.
 * (all of them when it reads none right). *answered (may be NULL) gets
 * the share of all labelled samples whose score reaches it. */
static dn_status calibrate(dn_net *net, const dn_dataset *data, double answer_rate, bool right_only,
                           float *threshold, double *answered, const char *name)
{
    if (!net || !data || !threshold || !(answer_rate > 0.0 && answer_rate <= 1.0))
        return dn_fail(DN_ERR_ARG, "%s: need a net, data, a threshold and a rate in (0,1]", name);
    const int classes = dn_net_num_classes(net), batch = 256;
    const size_t sample = (size_t)data->channels * data->height * data->width;
    const size_t count = (size_t)(data->count > 0 ? data->count : 1);
    float *all = malloc(count * sizeof *all), *kept = malloc(count * sizeof *kept);
    float *probs = malloc((size_t)batch * (size_t)classes * sizeof *probs);
    dn_status status = all && kept && probs ? DN_OK : dn_fail(DN_ERR_NOMEM, "%s: out of memory", name);
    int labelled = 0, counted = 0;
    for (int done = 0; status == DN_OK && done < data->count; done += batch) {
        int n = data->count - done < batch ? data->count - done : batch;
        status = dn_net_predict(net, data->images + (size_t)done * sample, n, probs, (size_t)batch * classes);
        for (int b = 0; status == DN_OK && b < n; b++)
            if (data->labels[done + b] < classes) {
                const float *p = probs + (size_t)b * classes;
                const int best = dn_argmax(p, classes);
                all[labelled++] = p[best];
                if (!right_only || best == data->labels[done + b])
                    kept[counted++] = p[best];
            }
    }
    if (status == DN_OK && labelled == 0)
        status = dn_fail(DN_ERR_ARG, "%s: the set has no sample of a class", name);
    if (status == DN_OK && counted == 0) { /* a net that reads nothing right: every sample counts */
        memcpy(kept, all, (size_t)labelled * sizeof *kept);
        counted = labelled;
    }
    if (status == DN_OK) {
        /* answered = score >= threshold: the k-th smallest score, k refused */
        qsort(kept, (size_t)counted, sizeof *kept, compare_floats);
        int refused = (int)floor((1.0 - answer_rate) * counted + 1e-9); /* 1 - 0.9 is 0.0999... */
        *threshold = kept[refused];
        if (answered) {
            int reach = 0;
            for (int i = 0; i < labelled; i++)
                reach += all[i] >= *threshold;
            *answered = (double)reach / labelled;
        }
    }
    free(all);
    free(kept);
    free(probs);
    return status;
}

dn_status dn_answer_calibrate(dn_net *net, const dn_dataset *data, double answer_rate, float *threshold)
{
    return calibrate(net, data, answer_rate, false, threshold, NULL, "dn_answer_calibrate");
}

dn_status dn_answer_calibrate_right(dn_net *net, const dn_dataset *data, double answer_rate, float *threshold,
                                    double *answered)
{
    return calibrate(net, data, answer_rate, true, threshold, answered, "dn_answer_calibrate_right");
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
