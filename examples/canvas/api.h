/* api.h - what dn-canvas answers: the compiled-in page, GET /api/health and
 * POST /api/predict (a drawing in, both models' predictions out). */
#ifndef CANVAS_API_H
#define CANVAS_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "digitnet/image.h"
#include "digitnet/model.h"
#include "digitnet/net.h"
#include "digitnet/probe.h"
#include "server.h"

/* Largest accepted request body. */
#define API_MAX_BODY ((size_t)2 << 20)

/* Request bodies held in memory at once, all connections together. */
#define API_MAX_BUFFERED ((size_t)256 << 20)

/* One served model; a dn_net is not thread-safe, so lock guards net, info,
 * version and probe (and a swap of the net for a newly trained one). */
typedef struct api_model {
    const char *name; /* "cnn" or "mlp": its key in the JSON */
    const char *path; /* its file: read at start, written when a trained net is kept */
    dn_net *net;      /* NULL while missing (being trained) */
    dn_model_info info;
    unsigned long long version; /* changes whenever net does (api_install_model); unique
                                   across runs (starts at the wall clock's milliseconds) */
    dn_probe *probe;  /* net's probe for the insides (api_inside.c), made on first use and
                         kept (its buffers and Winograd weights stay warm); freed with net */
    pthread_mutex_t lock;
} api_model;

struct learn;

typedef struct api {
    api_model models[2]; /* cnn, mlp */
    float threshold;     /* below this top probability a model answers "not a digit";
                            < 0: each model's own (dn_model_info.answer_threshold) */
    struct learn *learn; /* training from the page (learn.h); NULL: none */
} api;

/* Loads both models (each must take 1x28x28 inputs and give 10 classes) and
 * sets them to one thread each; the threshold starts at -1 (each model's own,
 * else DN_ANSWER_THRESHOLD). A file that does not exist, in a folder that
 * does, leaves its model missing (net NULL) when allow_missing is set. On
 * failure everything is released, false is returned and error[0..cap) says
 * which file and what is wrong. */
bool api_init(api *a, const char *cnn_path, const char *mlp_path, bool allow_missing, char *error, size_t cap);
void api_free(api *a);

/* Serves net (which must fit, as api_init checks) as model i from now on:
 * swapped in under the model's lock, set to one thread, its version moved
 * on; the old net is freed. Takes ownership of net. Thread-safe. */
void api_install_model(api *a, int i, dn_net *net, const dn_model_info *info);

/* The drawing in a predict request's body, preprocessed to 28x28 (ink 1,
 * not yet normalised); with keep, the decoded image too (the caller frees it
 * with dn_image_free). False after filling in the error answer. */
bool api_read_drawing(const server_request *req, float ink[DN_MNIST_PIXELS], bool *has_ink, bool *inverted,
                      double *preprocess_ms, dn_image *keep, http_response *res, strbuf *out);

/* Answers {"error": message} with status. */
void api_fail(http_response *res, strbuf *out, int status, const char *message);

/* Appends src as a JSON string. */
void api_append_string(strbuf *out, const char *src);

/* Appends value with `decimals` digits after the point; false, appending
 * nothing, for NaN or infinity. */
bool api_append_number(strbuf *out, double value, int decimals);

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
 * answered digit has "reason":null. A model that is missing (still
 * training) answers {"digit":null,"ready":false,"note":WHY} and no probs;
 * the other answers as usual.

 * With ?inside=1, "inside":{...} before "input": each model's maps, kernels
 * and saliency map (api_inside.h; null for a model that is still training),
 * the saliency map integrated gradients with &saliency=ig; ?inside= anything
 * but 0 or 1, ?saliency= anything but grad or ig, or without inside=1, is a
 * 400 (inside_query.h).
 *   GET|HEAD /api/weights?model=M&layer=L&map=K   one map's or unit's weights
 *                           (api_inside.h)
 *   /api/train..., /api/sample  see learn.h
 * Errors: 404 unknown path, 405 wrong method (with Allow), 400 bad w/h or a
 * body length that does not match, 422 a body that is not a usable image,
 * 500 a model that fails or gives a number that is not finite (never a 200
 * with NaN in it); each with {"error":MESSAGE}. */
void api_handle(void *ctx, const server_request *req, http_response *res, strbuf *out);

#endif
