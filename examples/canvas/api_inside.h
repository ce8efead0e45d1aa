/* api_inside.h - what each network computes for a drawing, for the page's
 * "inside the networks" view: POST /api/predict?inside=1 adds to the answer
 *
 *   "inside":{"cnn":MODEL,"mlp":MODEL,"ms":T}     (null for a blank drawing)
 *
 * MODEL = {"digit":D,                   the class the saliency map is for
 *          "version":V,                 the served model's version (api_model.version):
 *                                       the weights below and /api/weights's are V's
 *          "maps":[MAP...],             the output of every relu and max-pool
 *          "kernels":[KERNELS...],      the first conv's kernels, and the second's strongest
 *          "saliency":SALIENCY}         28x28
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
 *         those K kernels (all of them: GET /api/weights);
 *   SALIENCY = {"method":"grad","max":M,"data":B64}: |d logit[D] / d input|,
 *         byte b standing for b / 255 * M; with &saliency=ig
 *         {"method":"ig","steps":N,"max":M,"sum":S,"delta":E,"neg":B64,
 *         "data":B64}: integrated gradients of logit[D] from a blank drawing
 *         (the probe's input for no ink) to this one, N midpoint steps
 *         (dn_probe_integrated_gradients); data their magnitudes as above,
 *         neg a bitmask of the negative ones (bit i % 8 of byte i / 8, 98
 *         bytes), S their sum and E = logit[D](drawing) - logit[D](blank),
 *         which S approaches as N grows;
 * data and inputs base64; the data of maps and of the saliency map is
 * zero-run encoded first: a 0 byte then a byte n stand for n + 1 zeros,
 * any other byte for itself (a relu's maps are mostly zeros). A model's maps stop at INSIDE_MAX_MAP_BYTES, with
 * "truncated":true. T is the milliseconds spent on all of it. The maps are
 * computed by the model's dn_probe (api_model.probe, kept from one request
 * to the next), under the model's lock; nothing of the model changes.
 *
 * GET /api/weights?model=cnn&layer=conv2&map=12 (inside_query.h) answers
 * the weights of one output channel of a conv, or one unit of a linear
 * layer, of the model as it is served now:
 *   {"model":"cnn","version":V,"layer":"conv2","map":12,"kind":"conv",
 *    "shape":[C,KH,KW],"scale":S,"bias":B,"data":B64}
 * ("kind":"linear","shape":[IN] for a linear layer's unit): the C*KH*KW
 * (IN) weights as signed bytes, b standing for (b - 128) / 127 * S, S the
 * largest |weight| of the map; B its bias (null without one). Errors: 400
 * for a query inside_query_weights refuses, a layer the model does not have
 * (or without weights) or a map past its last; 503 while the model is
 * still training; 422 for a map of more than INSIDE_MAX_ROW weights. The
 * answer is no-store: the page caches it by version. */
#ifndef CANVAS_API_INSIDE_H
#define CANVAS_API_INSIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "inside_query.h"
#include "strbuf.h"

/* Bytes of maps per model at most (a model bigger than the demo's). */
#define INSIDE_MAX_MAP_BYTES ((size_t)256 << 10)

/* Steps of the integrated gradients (?saliency=ig), computed in pieces of
 * INSIDE_IG_CHUNK steps (a sub-path each, with the same midpoints), so that
 * the model's probe, which is kept, holds buffers for a batch of 8, not 32. */
#define INSIDE_IG_STEPS 32
#define INSIDE_IG_CHUNK 8

/* Weights of one map or unit at most that /api/weights sends (the demo's
 * largest, a unit of the CNN's fc1, has 9216). */
#define INSIDE_MAX_ROW 65536

/* Appends "inside":{...} (see above) for the preprocessed drawing ink
 * (28x28, ink 1), or "inside":null without ink, with the saliency maps of
 * the method asked for. False when a model fails or gives a number that is
 * not finite, with a message; out is then to be discarded. */
bool api_inside_append(strbuf *out, api_model *models, int count, const float *ink, bool has_ink,
                       inside_saliency saliency, char *error, size_t cap);

/* Answers GET /api/weights (see above); a handler of api_handle's. */
void api_inside_weights(api *a, const server_request *req, http_response *res, strbuf *out);

#endif
