/* fuzz_inside_query.c - libFuzzer harness for the query readers of
 * dn-canvas's insides (inside_query_predict for POST /api/predict's inside=
 * and saliency=, inside_query_weights for GET /api/weights): byte 0 picks
 * the reader, the rest is the query. Every query is either refused with a
 * reason or read into values in their ranges that the canonical query reads
 * back the same. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "http.h"
#include "inside_query.h"

static void check_layer(const char *layer)
{
    size_t prefix = strncmp(layer, "conv", 4) == 0 ? 4 : strncmp(layer, "fc", 2) == 0 ? 2 : 0;
    size_t len = strlen(layer);
    DN_FUZZ_CHECK(prefix > 0 && len > prefix && len <= prefix + 2 && layer[prefix] != '0');
    for (size_t i = prefix; i < len; i++)
        DN_FUZZ_CHECK(layer[i] >= '0' && layer[i] <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *query = malloc(size); /* the rest and a NUL: exactly what is read */
    memcpy(query, data + 1, size - 1);
    query[size - 1] = '\0';
    char why[256], value[8];
    why[0] = '\0';
    if (data[0] & 1) {
        weights_query q, again;
        if (inside_query_weights(query, &q, why, sizeof why)) {
            DN_FUZZ_CHECK(q.model == 0 || q.model == 1);
            DN_FUZZ_CHECK(q.map >= 0 && q.map <= WEIGHTS_MAX_MAP);
            check_layer(q.layer);
            char canonical[64];
            snprintf(canonical, sizeof canonical, "map=%d&layer=%s&model=%s", q.map, q.layer, q.model ? "mlp" : "cnn");
            DN_FUZZ_CHECK(inside_query_weights(canonical, &again, why, sizeof why));
            DN_FUZZ_CHECK(again.model == q.model && again.map == q.map && strcmp(again.layer, q.layer) == 0);
            DN_FUZZ_CHECK(http_query_get(query, "layer", value, sizeof value) && strcmp(value, q.layer) == 0);
        } else {
            DN_FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', sizeof why) != NULL);
        }
    } else {
        inside_options o;
        if (inside_query_predict(query, &o, why, sizeof why)) {
            DN_FUZZ_CHECK(o.saliency == INSIDE_SALIENCY_GRADIENT || o.saliency == INSIDE_SALIENCY_IG);
            DN_FUZZ_CHECK(!http_query_has(query, "saliency") || o.wanted);
            bool one = http_query_get(query, "inside", value, sizeof value) && strcmp(value, "1") == 0;
            DN_FUZZ_CHECK(o.wanted == one);
        } else {
            DN_FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', sizeof why) != NULL);
            DN_FUZZ_CHECK(!o.wanted);
        }
    }
    free(query);
    return 0;
}
