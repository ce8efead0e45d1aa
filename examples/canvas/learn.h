/* learn.h - training from the page: one background thread trains an MLP or a
 * CNN on MNIST (from --data) with the library's dn_train_epoch, streams its
 * progress (loss, accuracy, conv1's kernels) to the page as Server-Sent
 * Events, and hands the trained net over to be served (kept) or drops it.
 * The same thread trains the served models that are missing at start (the
 * first run of the demo) and measures the test accuracy of served models
 * whose file does not record it.
 *
 * One training at a time: a second start is refused (409) until the first
 * is over. The trainer runs at a lower scheduling priority (nice +10) on
 * `threads` OpenMP threads (default: all cores but one), so the predictions
 * the worker threads answer keep their latency. Predictions by the net in
 * training come from a copy of its weights refreshed about once a second,
 * under a lock of its own: the training never waits for them.
 *
 * Routes (learn_handle answers these and nothing else):
 *   GET  /api/train          the state, as JSON (the "status" event below)
 *   GET  /api/train/events   Server-Sent Events: "status" (the whole state,
 *                            first and on every change), "progress" (a point
 *                            of the curves, with conv1's kernels now and then),
 *                            "epoch" (an epoch's losses and test accuracy),
 *                            "models" (a served model changed); at most
 *                            LEARN_MAX_WATCHERS at once (429 beyond)
 *   POST /api/train          {"model":"cnn"|"mlp","epochs":1-10,"limit":N}:
 *                            202 started; 409 one is running; 400 bad
 *                            parameters; 413 a body over 1 KiB; 503 no data
 *   POST /api/train/cancel   202; 409 nothing of the page's is running
 *   POST /api/train/keep     the trained net becomes the served model (swapped
 *                            under the model's lock) and is saved atomically to
 *                            its path; 409 nothing trained to keep; 500 when
 *                            saving fails (the net is then still waiting)
 *   POST /api/train/discard  drops it; 409 nothing to drop
 *   POST /api/train/predict  a drawing (as /api/predict) through the net in
 *                            training: {"digit","probs","epoch"}; 409 none
 *   GET  /api/sample[?index=N]  a test digit from --data: {"index","label",
 *                            "pixels":[784, 0-255, ink 255]}; 503 no test set */
#ifndef CANVAS_LEARN_H
#define CANVAS_LEARN_H

#include <stdbool.h>
#include <stddef.h>

#include "server.h"

#define LEARN_MAX_WATCHERS 16

struct api;
typedef struct learn learn;

typedef struct learn_config {
    const char *data_dir; /* MNIST's four IDX files (raw or .gz) */
    int threads;          /* OpenMP threads of the training, >= 1 */
    int missing_epochs;   /* epochs for training a missing served model; 0: leave it missing */
    int drawn, others;    /* drawn digits and non-digits added for 60,000 MNIST images (in
                             proportion for fewer), as dn-train's --drawn and --others */
} learn_config;

/* Reads the test set when it is there (for samples and accuracies), starts
 * the trainer thread and queues the missing models. The config's strings
 * must outlive the learn. False with error[0..cap) set when the thread
 * cannot start. */
bool learn_start(learn **out, struct api *a, const learn_config *config, char *error, size_t cap);

/* Cancels what runs, joins the thread, ends the event streams, frees. */
void learn_stop(learn *l);

/* Answers the routes above; false (touching nothing) for any other path. */
bool learn_handle(learn *l, const server_request *req, http_response *res, strbuf *out);

/* Why served model i (0 cnn, 1 mlp) is missing, for the predict answer:
 * "still training: epoch 2 of 5, 40%", "waiting to be trained", or no data. */
void learn_missing_note(learn *l, int model, char *out, size_t cap);

#endif
