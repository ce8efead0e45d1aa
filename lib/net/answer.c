/* answer.c - from a network's probabilities to an answer: the digit, or a
 * refusal when there is no ink or the network is not sure enough. */
#include <math.h>
#include <stddef.h>

#include "digitnet/answer.h"
#include "digitnet/ops.h"

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

const char *dn_refusal_reason(dn_refusal refusal)
{
    switch (refusal) {
    case DN_ANSWERED: return "answered";
    case DN_REFUSED_NO_INK: return "no ink";
    case DN_REFUSED_NOT_A_DIGIT: return "not a digit";
    }
    return "not a digit";
}
