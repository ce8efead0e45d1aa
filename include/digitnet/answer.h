/* digitnet/answer.h - a network's answer for one drawing: a digit, or a
 * refusal ("not a digit") when the network is not sure the drawing is any
 * digit at all.
 *
 * The score is the network's top softmax probability. A network trained
 * with drawings that are not digits labelled DN_LABEL_NONE (Outlier
 * Exposure: dn-train does it by default on digit data, see digitnet/synth.h)
 * learns to spread its probability evenly over the classes for such
 * drawings, so their top probability falls towards 1/classes while digits
 * keep one near 1. docs/results.md ("Not a digit") measures how well that
 * separates digits drawn by hand from letters, shapes, scribbles and dots,
 * and why the default threshold is what it is. A network trained without
 * such samples still gets a score, but refuses far fewer non-digits.
 *
 * Usage:
 *     float probs[10];
 *     dn_net_predict(net, x, 1, probs, 10);
 *     dn_answer a = dn_answer_from_probs(probs, 10, pre.has_ink, DN_ANSWER_THRESHOLD);
 *     if (a.digit < 0)
 *         printf("%s (score %.2f)\n", dn_refusal_reason(a.refusal), a.score);
 *
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: every function but the two dn_answer_calibrate* is a pure
 * function of its arguments and may run in any thread at any time; they
 * run the net, so they need the net to itself. */
#ifndef DIGITNET_ANSWER_H
#define DIGITNET_ANSWER_H

#include <stdbool.h>

#include "digitnet/export.h"
#include "digitnet/idx.h"
#include "digitnet/net.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default threshold on the score: below it the answer is a refusal. */
#define DN_ANSWER_THRESHOLD 0.5f

typedef enum dn_refusal {
    DN_ANSWERED = 0,        /* not refused: digit holds the answer */
    DN_REFUSED_NO_INK,      /* blank, uniform or only faint noise */
    DN_REFUSED_NOT_A_DIGIT  /* the score is below the threshold */
} dn_refusal;

typedef struct dn_answer {
    int digit;          /* the class answered, or -1 when refused */
    int best;           /* the most probable class, refused or not (-1 without ink) */
    float score;        /* the top probability, in [0,1] (0 without ink) */
    float threshold;    /* what the score was compared with */
    dn_refusal refusal;
} dn_answer;

/* The answer for one input's classes probabilities (classes >= 1, each
 * finite): refused as DN_REFUSED_NO_INK when has_ink is false, as
 * DN_REFUSED_NOT_A_DIGIT when the top probability is below threshold (a
 * NaN threshold counts as DN_ANSWER_THRESHOLD; 0 never refuses a drawing
 * with ink), else the most probable class (the first of equal ones). */
DN_API dn_answer dn_answer_from_probs(const float *probs, int classes, bool has_ink, float threshold);

/* Calibrates a threshold for net: the largest one at which at least
 * answer_rate (in (0,1], e.g. 0.98) of data's samples of a class (others
 * are skipped) are answered rather than refused, given their top
 * probabilities in evaluation mode. The data are a held-out set the net was
 * not trained on, normalised as its inputs. DN_ERR_ARG for a bad rate or a
 * set without labelled samples; the errors of dn_net_predict otherwise.
 * Not thread-safe on one net (it runs the net). */
DN_API dn_status dn_answer_calibrate(dn_net *net, const dn_dataset *data, double answer_rate, float *threshold);

/* Calibrates as dn_answer_calibrate, counting only the samples the net
 * reads right (its most probable class is the label): the largest
 * threshold at which at least answer_rate of them are answered. A digit the
 * net would misread is better refused than answered, so its refusal costs
 * nothing here, and the threshold is set by how sure the net is of the
 * digits it can read. This is dn-train's rule (docs/results.md, "Not a
 * digit": on a set that holds misread digits it refuses more than
 * 1 - answer_rate of the whole set). *answered (may be NULL) receives the
 * share of all the set's labelled samples that the threshold answers. A
 * net that reads no sample right (untrained) gets dn_answer_calibrate's
 * threshold. Errors as dn_answer_calibrate. Not thread-safe on one net (it
 * runs the net). */
DN_API dn_status dn_answer_calibrate_right(dn_net *net, const dn_dataset *data, double answer_rate,
                                           float *threshold, double *answered);

/* The threshold to compare with: override when it is >= 0, else the
 * model's own (a stored answer_threshold >= 0), else DN_ANSWER_THRESHOLD. */
DN_API float dn_answer_threshold(float model_threshold, float override);

/* A short English phrase for a refusal: "no ink", "not a digit", or
 * "answered"; never NULL. */
DN_API const char *dn_refusal_reason(dn_refusal refusal);

#ifdef __cplusplus
}
#endif
#endif
