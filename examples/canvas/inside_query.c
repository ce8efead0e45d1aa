/* inside_query.c - reads the query parameters of the insides and the weights
 * endpoint (inside_query.h): each piece of the query split at '&', its key
 * before the first '=', compared whole; values from closed sets or plain
 * digits. */
#include <stdio.h>
#include <string.h>

#include "inside_query.h"

/* One piece of a query: key[0..key_len), and the value after '=' (has_value)
 * value[0..value_len). */
typedef struct piece {
    const char *key, *value;
    size_t key_len, value_len;
    bool has_value;
} piece;

/* The next piece of a query, empty ones included ("a&" is "a" and ""):
 * *p is where it starts, NULL after the last; "" has none. */
static bool next_piece(const char **p, piece *out)
{
    const char *s = *p;
    if (!s)
        return false;
    size_t n = strcspn(s, "&");
    const char *eq = memchr(s, '=', n);
    out->key = s;
    out->key_len = eq ? (size_t)(eq - s) : n;
    out->has_value = eq != NULL;
    out->value = eq ? eq + 1 : s + n;
    out->value_len = eq ? n - (size_t)(eq + 1 - s) : 0;
    *p = s[n] == '&' ? s + n + 1 : NULL;
    return true;
}

static bool is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

bool inside_query_predict(const char *query, inside_options *o, char *why, size_t cap)
{
    *o = (inside_options){.wanted = false, .saliency = INSIDE_SALIENCY_GRADIENT};
    int insides = 0, saliencies = 0;
    bool inside_ok = true, saliency_ok = true;
    piece pc;
    for (const char *p = *query ? query : NULL; next_piece(&p, &pc);) {
        if (is(pc.key, pc.key_len, "inside")) {
            insides++;
            inside_ok = pc.has_value && (is(pc.value, pc.value_len, "0") || is(pc.value, pc.value_len, "1"));
            o->wanted = inside_ok && pc.value[0] == '1';
        } else if (is(pc.key, pc.key_len, "saliency")) {
            saliencies++;
            saliency_ok = pc.has_value && (is(pc.value, pc.value_len, "grad") || is(pc.value, pc.value_len, "ig"));
            if (saliency_ok)
                o->saliency = pc.value[0] == 'i' ? INSIDE_SALIENCY_IG : INSIDE_SALIENCY_GRADIENT;
        }
    }
    const char *error = NULL;
    if (insides > 1 || !inside_ok)
        error = insides > 1 ? "inside must be given once" : "inside must be 0 or 1 (?inside=1 adds every layer's maps "
                                                            "and the saliency maps)";
    else if (saliencies > 1 || !saliency_ok)
        error = saliencies > 1 ? "saliency must be given once"
                               : "saliency must be grad or ig (the gradient, or integrated gradients)";
    else if (saliencies && !o->wanted)
        error = "saliency is for the insides: it needs inside=1";
    if (error) {
        snprintf(why, cap, "%s", error);
        *o = (inside_options){.wanted = false, .saliency = INSIDE_SALIENCY_GRADIENT};
        return false;
    }
    return true;
}

/* layer: "conv" or "fc" and 1..99 without a leading zero. */
static bool read_layer(const char *s, size_t len, char out[8])
{
    size_t prefix = len > 4 && memcmp(s, "conv", 4) == 0 ? 4 : len > 2 && memcmp(s, "fc", 2) == 0 ? 2 : 0;
    size_t digits = len - prefix;
    if (!prefix || digits < 1 || digits > 2 || s[prefix] == '0')
        return false;
    for (size_t i = prefix; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

/* map: plain digits, no leading zero (but "0"), at most WEIGHTS_MAX_MAP. */
static bool read_map(const char *s, size_t len, int *map)
{
    if (len < 1 || len > 5 || (s[0] == '0' && len > 1))
        return false;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > WEIGHTS_MAX_MAP)
        return false;
    *map = (int)v;
    return true;
}

bool inside_query_weights(const char *query, weights_query *q, char *why, size_t cap)
{
    static const char usage[] = " (ask as ?model=cnn&layer=conv2&map=0)";
    *q = (weights_query){0};
    bool seen[3] = {false, false, false};
    const char *error = NULL;
    piece pc;
    const char *p = *query ? query : NULL;
    while (!error && next_piece(&p, &pc)) {
        int k = is(pc.key, pc.key_len, "model") ? 0 : is(pc.key, pc.key_len, "layer") ? 1
              : is(pc.key, pc.key_len, "map")   ? 2
                                                : -1;
        if (k < 0)
            error = pc.key_len ? "unknown key: only model, layer and map are read"
                               : "a piece of the query without a key";
        else if (seen[k])
            error = "model, layer and map are each given once";
        else if (!pc.has_value || pc.value_len == 0)
            error = "model, layer and map each need a value";
        else if (k == 0 && !is(pc.value, pc.value_len, "cnn") && !is(pc.value, pc.value_len, "mlp"))
            error = "model must be cnn or mlp";
        else if (k == 1 && !read_layer(pc.value, pc.value_len, q->layer))
            error = "layer must be conv or fc and a number 1 to 99, e.g. conv2 or fc1";
        else if (k == 2 && !read_map(pc.value, pc.value_len, &q->map))
            error = "map must be a whole number 0 to 65535 in plain digits";
        else if (k == 0)
            q->model = pc.value[0] == 'm';
        if (k >= 0)
            seen[k] = true;
    }
    if (!error && (!seen[0] || !seen[1] || !seen[2]))
        error = "model, layer and map are all needed";
    if (error) {
        snprintf(why, cap, "%s%s", error, usage);
        *q = (weights_query){0};
        return false;
    }
    return true;
}
