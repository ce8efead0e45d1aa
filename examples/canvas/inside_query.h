/* inside_query.h - the query parameters of the page's "inside the networks"
 * requests, read strictly: ?inside= and ?saliency= of POST /api/predict, and
 * the whole query of GET /api/weights. No model, no socket: thread-safe, and
 * fuzzed alone (tests/fuzz/fuzz_inside_query.c). No percent-decoding: the
 * values are plain words and numbers, so "%63nn" is refused, not read. */
#ifndef CANVAS_INSIDE_QUERY_H
#define CANVAS_INSIDE_QUERY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum inside_saliency {
    INSIDE_SALIENCY_GRADIENT, /* |d logit / d input| (?saliency=grad, the default) */
    INSIDE_SALIENCY_IG        /* integrated gradients from a blank drawing (?saliency=ig) */
} inside_saliency;

typedef struct inside_options {
    bool wanted;              /* ?inside=1 */
    inside_saliency saliency; /* only asked for with ?inside=1 */
} inside_options;

/* Reads inside= and saliency= of a predict query (other keys are left to
 * their readers): inside absent or 0 = no insides, 1 = insides; saliency
 * absent or grad = the gradient, ig = integrated gradients. False, with
 * why[0..cap) saying what is wrong (a 400), for any other value, either key
 * given twice, or saliency without inside=1. */
bool inside_query_predict(const char *query, inside_options *o, char *why, size_t cap);

/* Largest map (output channel or unit) index a weights query may name. */
#define WEIGHTS_MAX_MAP 65535

typedef struct weights_query {
    int model;      /* 0: cnn, 1: mlp (the order of api.models) */
    char layer[8];  /* "conv1".."conv99", "fc1".."fc99" */
    int map;        /* 0..WEIGHTS_MAX_MAP: the output channel or unit */
} weights_query;

/* Reads the whole query of GET /api/weights: exactly the keys model (cnn or
 * mlp), layer (conv or fc and a number 1..99 without leading zeros) and map
 * (a whole number 0..WEIGHTS_MAX_MAP in plain digits, no leading zeros),
 * each once, in any order, nothing else, no empty pieces. False with
 * why[0..cap) for anything else (a 400). Whether the model has that layer
 * and map is the handler's business. */
bool inside_query_weights(const char *query, weights_query *q, char *why, size_t cap);

#endif
