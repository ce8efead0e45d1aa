/* api.h - what dn-canvas answers: the compiled-in page, GET /api/health and
 * POST /api/predict (a drawing in, both models' predictions out). */
#ifndef CANVAS_API_H
#define CANVAS_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "digitnet/model.h"
#include "digitnet/net.h"
#include "server.h"

/* Largest accepted request body. */
#define API_MAX_BODY ((size_t)2 << 20)

/* Request bodies held in memory at once, all connections together. */
#define API_MAX_BUFFERED ((size_t)256 << 20)

/* One loaded model; a dn_net is not thread-safe, so lock guards net. */
typedef struct api_model {
    const char *name; /* "cnn" or "mlp": its key in the JSON */
    dn_net *net;
    dn_model_info info;
    pthread_mutex_t lock;
} api_model;

typedef struct api {
    api_model models[2]; /* cnn, mlp */
    float threshold;     /* below this top probability a model answers "not a digit";
                            < 0: each model's own (dn_model_info.answer_threshold) */
} api;

/* Loads both models (each must take 1x28x28 inputs and give 10 classes) and
 * sets them to one thread each; the threshold starts at -1 (each model's own,
 * else DN_ANSWER_THRESHOLD). On failure everything is released, false is
 * returned and error[0..cap) says which file and what is wrong. */
bool api_init(api *a, const char *cnn_path, const char *mlp_path, char *error, size_t cap);
void api_free(api *a);

/* The server_handler of dn-canvas; ctx is an api. Routes:
 *   GET|HEAD /, /index.html, /style.css, /app.js   the page
 *   GET|HEAD /api/health    {"status":"ok","models":{"cnn":SPEC,"mlp":SPEC}}
 *   POST     /api/predict   body: a PNG or PGM image (by content), or raw 8-bit gray pixels
 *                           with ?w=W&h=H (body length W*H), 0 = black
 * answered with {"cnn":{"digit":D,"reason":R,"score":S,"threshold":T,
 * "best":B,"probs":[10],"ms":T},"mlp":{...},"input":[784 ints 0-255],
 * "preprocess_ms":T,"inverted":B,"server_ms":T} (server_ms: the whole
 * answer's time in the handler). A refusal is an answer: "digit" is null
 * and "reason" says why: "not a digit" when the model's top probability
 * (score, the probability of class best) is below threshold, "no ink" for a
 * blank drawing (then best is null and probs, score and ms are 0); an
 * answered digit has "reason":null. With ?inside=1, "inside":{...} before
 * "input": each model's maps, kernels and saliency map (api_inside.h);
 * ?inside= anything but 0 or 1 is a 400.
 * Errors: 404 unknown path, 405 wrong method (with Allow), 400 bad w/h or a
 * body length that does not match, 422 a body that is not a usable image,
 * 500 a model that fails or gives a number that is not finite (never a 200
 * with NaN in it); each with {"error":MESSAGE}. */
void api_handle(void *ctx, const server_request *req, http_response *res, strbuf *out);

#endif
