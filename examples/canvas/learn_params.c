/* learn_params.c - reads the small JSON object that starts a training from
 * the page; anything but the three known keys with sane values is refused. */
#include <stdio.h>
#include <string.h>

#include "learn_params.h"

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static void skip_space(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool take(reader *r, char c)
{
    skip_space(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

/* A string of plain printable ASCII without escapes (all a valid request
 * needs) into out[0..cap); false for anything else or a longer one. */
static bool read_string(reader *r, char *out, size_t cap)
{
    if (!take(r, '"'))
        return false;
    size_t n = 0;
    while (r->p < r->end && *r->p != '"') {
        if (*r->p < 0x20 || *r->p >= 0x7f || *r->p == '\\' || n + 1 >= cap)
            return false;
        out[n++] = (char)*r->p++;
    }
    if (r->p == r->end)
        return false;
    r->p++;
    out[n] = '\0';
    return true;
}

/* A JSON number that is a whole number (no fraction, no exponent, as JSON
 * writes integers) of at most 9 digits: so 1e9, 2.5, NaN, "3" and -0 are all
 * refused by the caller's range or here. */
static bool read_whole(reader *r, long *value)
{
    skip_space(r);
    bool negative = r->p < r->end && *r->p == '-';
    if (negative)
        r->p++;
    long v = 0;
    int digits = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        if (++digits > 9)
            return false;
        v = v * 10 + (*r->p++ - '0');
    }
    if (digits == 0 || (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E')))
        return false;
    *value = negative ? -v : v;
    return true;
}

bool learn_params_parse(const uint8_t *body, size_t len, learn_params *p, char *why, size_t cap)
{
    *p = (learn_params){.model = -1, .epochs = 1, .limit = 0};
    reader r = {body, body + len};
    bool seen[3] = {false, false, false};
    static const char *const keys[3] = {"model", "epochs", "limit"};
    if (len == 0) {
        snprintf(why, cap, "send a JSON object: {\"model\":\"cnn\"|\"mlp\",\"epochs\":1-%d,\"limit\":N}",
                 LEARN_MAX_EPOCHS);
        return false;
    }
    if (!take(&r, '{')) {
        snprintf(why, cap, "the body is not a JSON object");
        return false;
    }
    bool first = true;
    while (!take(&r, '}')) {
        char key[16], text[16];
        if ((!first && !take(&r, ',')) || !read_string(&r, key, sizeof key) || !take(&r, ':')) {
            snprintf(why, cap, "the body is not a JSON object of the form {\"model\":\"cnn\",\"epochs\":2}");
            return false;
        }
        first = false;
        int k = 0;
        while (k < 3 && strcmp(key, keys[k]) != 0)
            k++;
        if (k == 3) {
            snprintf(why, cap, "unknown key \"%s\" (expected model, epochs, limit)", key);
            return false;
        }
        if (seen[k]) {
            snprintf(why, cap, "\"%s\" is given twice", key);
            return false;
        }
        seen[k] = true;
        long v;
        if (k == 0) {
            if (!read_string(&r, text, sizeof text) || (strcmp(text, "cnn") != 0 && strcmp(text, "mlp") != 0)) {
                snprintf(why, cap, "\"model\" must be \"cnn\" or \"mlp\"");
                return false;
            }
            p->model = strcmp(text, "cnn") == 0 ? 0 : 1;
        } else if (k == 1) {
            if (!read_whole(&r, &v) || v < 1 || v > LEARN_MAX_EPOCHS) {
                snprintf(why, cap, "\"epochs\" must be a whole number from 1 to %d", LEARN_MAX_EPOCHS);
                return false;
            }
            p->epochs = (int)v;
        } else {
            if (!read_whole(&r, &v) || (v != 0 && (v < LEARN_MIN_LIMIT || v > 1000000))) {
                snprintf(why, cap, "\"limit\" must be 0 (all images) or a whole number from %d to 1000000",
                         LEARN_MIN_LIMIT);
                return false;
            }
            p->limit = (int)v;
        }
    }
    skip_space(&r);
    if (r.p != r.end) {
        snprintf(why, cap, "unexpected bytes after the JSON object");
        return false;
    }
    if (p->model < 0) {
        snprintf(why, cap, "\"model\" is missing: \"cnn\" or \"mlp\"");
        return false;
    }
    return true;
}
