/* api_inside.h - what each network computes for a drawing, for the page's
 * "inside the networks" view: POST /api/predict?inside=1 adds to the answer
 *
 *   "inside":{"cnn":MODEL,"mlp":MODEL,"ms":T}     (null for a blank drawing)
 *
 * MODEL = {"digit":D,                   the class the saliency map is for
 *          "maps":[MAP...],             the output of every relu and max-pool
 *          "kernels":[KERNELS...],      the first conv's kernels, and the second's strongest
 *          "saliency":{"max":M,"data":B64}}   |d logit[D] / d input|, 28x28
 *   MAP = {"name":"conv1"|"pool1"|"fc1"...,"shape":[C,H,W],
 *          "lo":[...],"hi":[...],"data":B64}
 *         C*H*W bytes, channel by channel; byte b of a channel stands for
 *         lo + b / 255 * (hi - lo), one lo and hi per channel (per layer when
 *         H = W = 1: a hidden layer of units);
 *   KERNELS = {"name":"conv1","shape":[OC,C,KH,KW],"scale":S,"data":B64}
 *         every weight, byte b standing for (b - 128) / 127 * S; or, for
 *         the second conv, {"name":"conv2","shape":[OC,C,KH,KW],"top":K,
 *         "inputs":B64,"scale":S,"data":B64}: per output channel the K input
 *         channels whose kernels are largest (L2), their indices (bytes) and
 *         those K kernels;
 * data and inputs base64; the data of maps and of the saliency map is
 * zero-run encoded first: a 0 byte then a byte n stand for n + 1 zeros,
 * any other byte for itself (a relu's maps are mostly zeros). A model's maps stop at INSIDE_MAX_MAP_BYTES, with
 * "truncated":true. T is the milliseconds spent on all of it. The maps are
 * computed by a dn_probe per request, under the model's lock; nothing of
 * the model changes. */
#ifndef CANVAS_API_INSIDE_H
#define CANVAS_API_INSIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "strbuf.h"

/* Bytes of maps per model at most (a model bigger than the demo's). */
#define INSIDE_MAX_MAP_BYTES ((size_t)256 << 10)

/* Whether the query asks for the insides: ?inside=1 yes, absent or
 * ?inside=0 no; false (400) for any other value, with a message. */
bool api_inside_wanted(const char *query, bool *wanted, char *error, size_t cap);

/* Appends "inside":{...} (see above) for the preprocessed drawing ink
 * (28x28, ink 1), or "inside":null without ink. False when a model fails
 * or gives a number that is not finite, with a message; out is then to be
 * discarded. */
bool api_inside_append(strbuf *out, api_model *models, int count, const float *ink, bool has_ink, char *error,
                       size_t cap);

#endif
