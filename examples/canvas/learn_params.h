/* learn_params.h - the body of POST /api/train: a flat JSON object such as
 * {"model":"cnn","epochs":2,"limit":6000}, read strictly (no model, no socket:
 * thread-safe and testable alone). */
#ifndef CANVAS_LEARN_PARAMS_H
#define CANVAS_LEARN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEARN_MAX_EPOCHS 10
#define LEARN_MIN_LIMIT 500
#define LEARN_MAX_PARAMS_BODY 1024 /* bytes; a longer body is 413 */

typedef struct learn_params {
    int model;  /* 0: cnn, 1: mlp (the order of api.models) */
    int epochs; /* 1..LEARN_MAX_EPOCHS */
    int limit;  /* training images per epoch: LEARN_MIN_LIMIT..60000, 0 = all */
} learn_params;

/* Reads body[0..len): an object with "model" ("cnn" or "mlp", required),
 * "epochs" (a whole number 1..LEARN_MAX_EPOCHS, default 1) and "limit" (a
 * whole number, 0 or LEARN_MIN_LIMIT..1000000, default 0), nothing else,
 * each key at most once. An empty body is {}: then "model" is missing.
 * False with why[0..cap) saying what is wrong (for a 400). */
bool learn_params_parse(const uint8_t *body, size_t len, learn_params *p, char *why, size_t cap);

#endif
