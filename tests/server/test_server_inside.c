/* test_server_inside.c - POST /api/predict?inside=1 of dn-canvas: each
 * model's maps, kernels and saliency map (the gradient, and integrated
 * gradients with &saliency=ig) decoded and compared with what a dn_probe
 * computes here from the same models and the same preprocessing; GET
 * /api/weights against the models' own weights; a blank drawing, hostile
 * values of ?inside=, ?saliency= and of every /api/weights parameter,
 * concurrent clients, and the server time and size of an answer.
 * usage: test_server_inside DN_CANVAS CNN_MODEL MLP_MODEL MNIST_DIR [REQUESTS [IG_REQUESTS]]
 * REQUESTS (default 200) answers are timed, IG_REQUESTS (default 20) with
 * integrated gradients (each costs some 32 passes of the CNN); exits 77
 * (skipped) without MNIST or the models. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "client.h"
#include "digitnet/idx.h"
#include "digitnet/image.h"
#include "digitnet/model.h"
#include "digitnet/net.h"
#include "digitnet/ops.h"
#include "digitnet/probe.h"
#include "proc.h"

enum { DIGITS = 4 };

static uint8_t digits[DIGITS][784];

static bool load_digits(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    dn_idx images = {0};
    bool ok = dn_idx_read(&images, path) == DN_OK && images.type == DN_IDX_U8 && images.ndim == 3 &&
              images.dims[0] >= DIGITS && images.dims[1] == 28 && images.dims[2] == 28;
    for (int i = 0; ok && i < DIGITS; i++)
        memcpy(digits[i], images.data + (size_t)i * 784, 784);
    dn_idx_free(&images);
    return ok;
}

/* ---- a little JSON: the end of a value, a key of an object ---- */

/* The character after the value starting at p (an object, array, string,
 * number or word), or NULL if it does not end. */
static const char *skip_value(const char *p)
{
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && p[1])
                p++;
        return *p ? p + 1 : NULL;
    }
    if (*p != '{' && *p != '[') {
        while (*p && *p != ',' && *p != '}' && *p != ']')
            p++;
        return p;
    }
    int depth = 0;
    for (; *p; p++) {
        if (*p == '"') {
            p = skip_value(p);
            if (!p)
                return NULL;
            p--;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if ((*p == '}' || *p == ']') && --depth == 0) {
            return p + 1;
        }
    }
    return NULL;
}

/* The value of key in the object at obj ('{'), or NULL. */
static const char *member(const char *obj, const char *key)
{
    if (!obj || *obj != '{')
        return NULL;
    const char *p = obj + 1;
    size_t len = strlen(key);
    while (*p == '"') {
        const char *name = p + 1, *end = skip_value(p);
        if (!end || *end != ':')
            return NULL;
        if ((size_t)(end - 1 - name) == len && strncmp(name, key, len) == 0)
            return end + 1;
        p = skip_value(end + 1);
        if (!p || *p != ',')
            return NULL;
        p++;
    }
    return NULL;
}

/* Element i of the array at arr, or NULL. */
static const char *element(const char *arr, int i)
{
    if (!arr || *arr != '[')
        return NULL;
    const char *p = arr + 1;
    for (int k = 0; *p && *p != ']'; k++) {
        if (k == i)
            return p;
        p = skip_value(p);
        if (!p || *p != ',')
            return NULL;
        p++;
    }
    return NULL;
}

static int numbers(const char *arr, double *out, int max)
{
    int n = 0;
    for (const char *e; n < max && (e = element(arr, n)); n++)
        out[n] = strtod(e, NULL);
    return n;
}

/* Base64 of a JSON string into bytes (at most cap); -1 if not base64. */
static long base64(const char *str, uint8_t *out, size_t cap)
{
    if (!str || *str != '"')
        return -1;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *p = str + 1; *p != '"'; p++) {
        if (*p == '=')
            continue;
        const char *digits64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *at = *p ? strchr(digits64, *p) : NULL;
        if (!at)
            return -1;
        acc = acc << 6 | (uint32_t)(at - digits64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)n;
}

/* Base64, then zero runs undone: exactly `want` bytes, or false. */
static bool runs(const char *str, uint8_t *out, size_t want)
{
    static __thread uint8_t raw[1 << 20];
    long n = base64(str, raw, sizeof raw);
    if (n < 0)
        return false;
    size_t got = 0;
    for (long i = 0; i < n; i++) {
        size_t count = raw[i] ? 1 : (i + 1 < n ? (size_t)raw[i + 1] + 1 : 0);
        if (!count || got + count > want)
            return false;
        memset(out + got, raw[i], count);
        got += count;
        i += raw[i] ? 0 : 1;
    }
    return got == want;
}

/* ---- requests ---- */

static int post(int port, const char *query, const void *body, size_t len, tc_response *r)
{
    char *request = malloc(len + 512);
    int head = snprintf(request, 512,
                        "POST /api/predict%s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                        query, len);
    memcpy(request + head, body, len);
    int status = tc_exchange(port, request, (size_t)head + len, r);
    free(request);
    return status;
}

static int get(int port, const char *target, const char *method, tc_response *r)
{
    char request[8192];
    int n = snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method,
                     target);
    if (n < 0 || (size_t)n >= sizeof request)
        return -1;
    return tc_exchange(port, request, (size_t)n, r);
}

/* ---- what the server says against a probe here ---- */

typedef struct local {
    dn_net *net;
    dn_model_info info;
    const char *name;
} local;

/* Compares one model's "inside" answer with a probe of the same model on
 * the same preprocessed drawing. */
static void compare_model(const char *json, local *m, const float *ink, const char *what, int predicted)
{
    float x[784];
    memcpy(x, ink, sizeof x);
    dn_normalize(x, 784, m->info.input_mean, m->info.input_std);
    dn_probe *probe;
    if (dn_probe_new(&probe, m->net) != DN_OK || dn_probe_run(probe, x, 1) != DN_OK) {
        check(false, "%s: a local probe of the %s", what, m->name);
        return;
    }
    const char *model = member(json, m->name);
    const float *logits;
    dn_probe_layer_output(probe, dn_net_layer_count(m->net) - 1, &logits, NULL);
    int digit = dn_argmax(logits, 10);
    const char *d = member(model, "digit");
    check(d && atoi(d) == digit && digit == predicted, "%s, %s: \"digit\" %d is the model's answer (%d)", what,
          m->name, d ? atoi(d) : -1, predicted);

    /* the maps: every relu's and max-pool's output in layer order */
    const char *maps = member(model, "maps");
    int index = 0, matched = 0, convs = 0, linears = 0, pools = 0, bad_decode = 0, off = 0;
    char producer[16] = "";
    for (int i = 0; i < dn_net_layer_count(m->net); i++) {
        const char *kind = dn_net_layer_kind(m->net, i);
        char name[16];
        if (strcmp(kind, "conv") == 0)
            snprintf(producer, sizeof producer, "conv%d", ++convs);
        if (strcmp(kind, "linear") == 0)
            snprintf(producer, sizeof producer, "fc%d", ++linears);
        if (strcmp(kind, "relu") == 0)
            snprintf(name, sizeof name, "%s", producer);
        else if (strcmp(kind, "maxpool") == 0)
            snprintf(name, sizeof name, "pool%d", ++pools);
        else
            continue;
        const char *map = element(maps, index++);
        const float *want;
        int shape[3];
        dn_probe_layer_output(probe, i, &want, shape);
        const char *got_name = member(map, "name");
        double got_shape[3] = {0}, lo[256], hi[256];
        numbers(member(map, "shape"), got_shape, 3);
        size_t plane = (size_t)shape[1] * shape[2], total = plane * shape[0];
        int scales = plane > 1 ? shape[0] : 1;
        bool named = got_name && strncmp(got_name + 1, name, strlen(name)) == 0 && got_name[strlen(name) + 1] == '"';
        bool shaped = got_shape[0] == shape[0] && got_shape[1] == shape[1] && got_shape[2] == shape[2];
        uint8_t *bytes = malloc(total);
        bool decoded = numbers(member(map, "lo"), lo, 256) == scales && numbers(member(map, "hi"), hi, 256) == scales &&
                       runs(member(map, "data"), bytes, total);
        bad_decode += !decoded;
        /* each byte within half a level (and rounding) of the probe's value */
        for (size_t k = 0; decoded && k < total; k++) {
            int c = (int)(k / (total / (size_t)scales));
            double level = (hi[c] - lo[c]) / 255, value = lo[c] + bytes[k] * level;
            off += !(fabs(value - want[k]) <= 0.5 * level + 1e-4 * (1 + fabs(hi[c])));
        }
        matched += named && shaped && decoded;
        free(bytes);
    }
    check(matched == index && index > 0 && !element(maps, index) && bad_decode == 0 && off == 0,
          "%s, %s: %d maps named, shaped and decoded (%d not), %d values off by more than half a level", what,
          m->name, matched, index - matched, off);

    /* the saliency map: |d logit[digit] / d x| within half a level */
    float w[10] = {0}, grad[784];
    w[digit] = 1;
    dn_probe_input_gradient(probe, w, 10, grad, 784);
    const char *saliency = member(model, "saliency");
    double max = 0;
    uint8_t bytes[784];
    bool decoded = runs(member(saliency, "data"), bytes, 784);
    const char *mx = member(saliency, "max");
    max = mx ? strtod(mx, NULL) : -1;
    int wrong = 0;
    float largest = 0;
    for (int k = 0; k < 784; k++)
        largest = fabsf(grad[k]) > largest ? fabsf(grad[k]) : largest;
    for (int k = 0; decoded && k < 784; k++)
        /* max comes through JSON with a few significant digits: allow for its rounding */
        wrong += !(fabs(bytes[k] * max / 255 - fabsf(grad[k])) <= 0.5 * max / 255 + 1e-4 * max);
    check(decoded && fabs(max - largest) <= 1e-4 * largest && wrong == 0 && largest > 0,
          "%s, %s: the saliency map is |d logit[%d] / d input| (max %g, %d pixels off)", what, m->name, digit, max,
          wrong);

    /* conv kernels: conv1 whole, conv2 as its strongest inputs */
    const char *kernels = member(model, "kernels");
    if (convs == 0) {
        check(kernels && element(kernels, 0) == NULL, "%s, %s: no conv, no kernels", what, m->name);
    } else {
        const float *w1;
        size_t count;
        int ndim, shape[4];
        dn_probe_param(probe, "conv1.weight", &w1, &count, &ndim, shape);
        const char *k1 = element(kernels, 0);
        const char *scale_text = member(k1, "scale");
        double scale = scale_text ? strtod(scale_text, NULL) : 0;
        uint8_t kb[288];
        long n = base64(member(k1, "data"), kb, sizeof kb);
        int bad = n == (long)count ? 0 : -1;
        for (long k = 0; k < n && bad >= 0; k++)
            /* scale comes through JSON with a few significant digits: allow for its rounding */
            bad += !(fabs((kb[k] - 128) / 127.0 * scale - w1[k]) <= 0.5 * scale / 127 + 1e-4 * scale);
        check(bad == 0 && scale > 0, "%s, %s: conv1's %zu weights as signed bytes (%d off)", what, m->name, count, bad);
        const char *k2 = element(kernels, 1);
        const float *w2;
        dn_probe_param(probe, "conv2.weight", &w2, &count, &ndim, shape);
        const char *top = member(k2, "top");
        uint8_t inputs[64 * 3];
        long got = base64(member(k2, "inputs"), inputs, sizeof inputs);
        int strongest = 0;
        for (int o = 0; o < shape[0] && got == shape[0] * 3; o++) {
            /* the first input named has the largest kernel of all */
            double best = 0, named = 0;
            for (int c = 0; c < shape[1]; c++) {
                double norm = 0;
                for (int e = 0; e < 9; e++)
                    norm += (double)w2[((size_t)o * shape[1] + c) * 9 + e] * w2[((size_t)o * shape[1] + c) * 9 + e];
                best = fmax(best, norm);
                if (c == inputs[o * 3])
                    named = norm;
            }
            strongest += named == best;
        }
        check(top && atoi(top) == 3 && got == shape[0] * 3 && strongest == shape[0],
              "%s, %s: conv2 summarised by each map's 3 strongest inputs (%d of %d maps right)", what, m->name,
              strongest, shape[0]);
    }
    dn_probe_free(probe);
}

/* The 28x28 the server's models see for a 28x28 gray digit: the same
 * preprocessing, here. */
static void preprocess_like_server(const uint8_t *digit, float ink[784])
{
    dn_image img;
    dn_preprocess_info info;
    dn_image_from_gray8(&img, digit, 28, 28);
    dn_preprocess_mnist(&img, ink, &info);
    dn_image_free(&img);
}

static void test_inside(int port, local *models)
{
    for (int i = 0; i < DIGITS; i++) {
        tc_response r = {0};
        int status = post(port, "?w=28&h=28&inside=1", digits[i], 784, &r);
        char what[64];
        snprintf(what, sizeof what, "MNIST test digit %d", i);
        const char *inside = r.body ? member(r.body, "inside") : NULL;
        check(status == 200 && inside && *inside == '{', "%s with ?inside=1: 200 with \"inside\" (%d)", what, status);
        if (!inside) {
            tc_response_free(&r);
            continue;
        }
        float ink[784];
        preprocess_like_server(digits[i], ink);
        for (int k = 0; k < 2; k++) {
            const char *model = member(r.body, models[k].name);
            const char *digit = member(model, "best"); /* "digit" is null when the model refuses */
            if (!digit)
                digit = member(model, "digit");
            compare_model(inside, &models[k], ink, what, digit ? atoi(digit) : -1);
        }
        const char *ms = member(inside, "ms");
        check(ms && strtod(ms, NULL) > 0, "%s: the insides took %.3f ms", what, ms ? strtod(ms, NULL) : -1.0);
        tc_response_free(&r);
    }

    /* different drawings, different maps and saliency */
    tc_response a = {0}, b = {0};
    post(port, "?w=28&h=28&inside=1", digits[0], 784, &a);
    post(port, "?w=28&h=28&inside=1", digits[1], 784, &b);
    for (int k = 0; k < 2; k++) {
        const char *sa = member(member(member(a.body ? a.body : "", "inside"), models[k].name), "saliency");
        const char *sb = member(member(member(b.body ? b.body : "", "inside"), models[k].name), "saliency");
        uint8_t ba[784], bb[784];
        bool differ = sa && sb && runs(member(sa, "data"), ba, 784) && runs(member(sb, "data"), bb, 784) &&
                      memcmp(ba, bb, 784) != 0;
        check(differ, "%s: a 7 and a 2 give different saliency maps", models[k].name);
    }
    tc_response_free(&a);
    tc_response_free(&b);

    /* without ?inside=1 or with ?inside=0: no insides */
    static const char *without[] = {"?w=28&h=28", "?w=28&h=28&inside=0"};
    for (int i = 0; i < 2; i++) {
        tc_response r = {0};
        int status = post(port, without[i], digits[0], 784, &r);
        check(status == 200 && r.body && !strstr(r.body, "\"inside\"") && member(r.body, "server_ms"),
              "%s: 200 without \"inside\", with \"server_ms\" (%d)", without[i], status);
        tc_response_free(&r);
    }

    /* a blank drawing: "inside":null */
    static uint8_t blank[200 * 150];
    memset(blank, 250, sizeof blank);
    tc_response r = {0};
    int status = post(port, "?w=200&h=150&inside=1", blank, sizeof blank, &r);
    const char *inside = r.body ? member(r.body, "inside") : NULL;
    check(status == 200 && inside && strncmp(inside, "null", 4) == 0, "a blank drawing: \"inside\":null (%d)", status);
    tc_response_free(&r);
}

static void test_hostile(int port)
{
    static const char *bad[] = {"?w=28&h=28&inside=2", "?w=28&h=28&inside=", "?w=28&h=28&inside",
                                "?w=28&h=28&inside=yes", "?w=28&h=28&inside=1x", "?w=28&h=28&inside=%31",
                                "?w=28&h=28&inside=-1", "?w=28&h=28&inside=01",
                                "?w=28&h=28&inside=111111111111111111111111111111111111111111111111"};
    int refused = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_response r = {0};
        int status = post(port, bad[i], digits[0], 784, &r);
        bool ok = status == 400 && r.body && strncmp(r.body, "{\"error\":\"inside must be 0 or 1", 31) == 0;
        if (!ok)
            fprintf(stderr, "  %s: %d %.80s\n", bad[i], status, r.body ? r.body : "");
        refused += ok;
        tc_response_free(&r);
    }
    check(refused == (int)(sizeof bad / sizeof bad[0]), "?inside= anything but 0 or 1: 400 with a JSON error (%d/%zu)",
          refused, sizeof bad / sizeof bad[0]);

    /* the image is still checked first-hand with ?inside=1 */
    tc_response r = {0};
    int status = post(port, "?w=28&h=27&inside=1", digits[0], 784, &r);
    check(status == 400, "?inside=1 with w*h not the body length: 400 (%d)", status);
    tc_response_free(&r);
    status = post(port, "?inside=1", "hello", 5, &r);
    check(status == 422, "?inside=1 with a body that is not an image: 422 (%d)", status);
    tc_response_free(&r);

    /* a big drawing: the same bounded answer */
    enum { W = 1500, H = 1300 };
    uint8_t *big = malloc((size_t)W * H);
    for (size_t k = 0; k < (size_t)W * H; k++) {
        int x = (int)(k % W), y = (int)(k / W);
        big[k] = (abs(x - 700) < 60 && y > 200 && y < 1100) ? 10 : 245; /* a fat 1 */
    }
    char query[64];
    snprintf(query, sizeof query, "?w=%d&h=%d&inside=1", W, H);
    status = post(port, query, big, (size_t)W * H, &r);
    check(status == 200 && r.body && member(r.body, "inside") && r.body_len < 100000,
          "a %dx%d drawing with ?inside=1: 200, %zu bytes", W, H, r.body_len);
    tc_response_free(&r);
    free(big);
}

/* ---- GET /api/weights ---- */

/* One map of a layer through /api/weights against the model's own weights:
 * every byte within half a level, the scale the largest |weight|, the bias,
 * the shape and the version. */
static void compare_weights(int port, local *m, const char *layer, int map, unsigned long long version)
{
    char target[128], name[32];
    snprintf(target, sizeof target, "/api/weights?model=%s&layer=%s&map=%d", m->name, layer, map);
    tc_response r = {0};
    int status = get(port, target, "GET", &r);
    dn_probe *probe = NULL;
    const float *w = NULL, *b = NULL;
    size_t count = 0, bias_count = 0;
    int ndim = 0, wshape[4] = {0}, bdim = 0, bshape[4];
    snprintf(name, sizeof name, "%s.weight", layer);
    bool have = dn_probe_new(&probe, m->net) == DN_OK &&
                dn_probe_param(probe, name, &w, &count, &ndim, wshape) == DN_OK;
    snprintf(name, sizeof name, "%s.bias", layer);
    have = have && dn_probe_param(probe, name, &b, &bias_count, &bdim, bshape) == DN_OK;
    if (status != 200 || !r.body || !have) {
        check(false, "GET %s: 200 (%d) for a layer the model has (%d)", target, status, have);
        dn_probe_free(probe);
        tc_response_free(&r);
        return;
    }
    size_t per = count / (size_t)wshape[0];
    const float *row = w + (size_t)map * per;
    float largest = 0;
    for (size_t k = 0; k < per; k++)
        largest = fabsf(row[k]) > largest ? fabsf(row[k]) : largest;
    double shape[3] = {0};
    int dims = numbers(member(r.body, "shape"), shape, 3);
    bool shaped = ndim == 4 ? dims == 3 && shape[0] == wshape[1] && shape[1] == wshape[2] && shape[2] == wshape[3]
                            : dims == 1 && shape[0] == wshape[1];
    const char *sc = member(r.body, "scale"), *bias = member(r.body, "bias"), *v = member(r.body, "version"),
               *mp = member(r.body, "map"), *kind = member(r.body, "kind");
    double scale = sc ? strtod(sc, NULL) : -1;
    uint8_t *bytes = malloc(per + 4);
    long n = base64(member(r.body, "data"), bytes, per + 4);
    int off = n == (long)per ? 0 : -1;
    for (long k = 0; k < n && off >= 0; k++)
        off += !(fabs((bytes[k] - 128) / 127.0 * scale - row[k]) <= 0.5 * scale / 127 + 1e-4 * scale);
    bool scaled = fabs(scale - largest) <= 1e-4 * largest && largest > 0;
    bool biased = bias && fabs(strtod(bias, NULL) - b[map]) <= 1e-4 * (fabs(b[map]) + 1e-3);
    bool same_version = v && strtoull(v, NULL, 10) == version;
    bool right_kind = kind && strncmp(kind, ndim == 4 ? "\"conv\"" : "\"linear\"", ndim == 4 ? 6 : 8) == 0;
    check(off == 0 && scaled && biased && shaped && same_version && mp && atoi(mp) == map && right_kind,
          "GET %s: %zu weights within half a level (%d off), scale %s, bias %s, shape %s, kind %s, version %s", target,
          per, off, scaled ? "ok" : "wrong", biased ? "ok" : "wrong", shaped ? "ok" : "wrong",
          right_kind ? "ok" : "wrong", same_version ? "the inside answer's" : "wrong");
    free(bytes);
    dn_probe_free(probe);
    tc_response_free(&r);
}

static void test_weights(int port, local *models)
{
    /* the version the inside answers carry */
    unsigned long long versions[2] = {0, 0};
    tc_response r = {0};
    post(port, "?w=28&h=28&inside=1", digits[0], 784, &r);
    for (int k = 0; k < 2; k++) {
        const char *v = member(member(member(r.body ? r.body : "", "inside"), models[k].name), "version");
        versions[k] = v ? strtoull(v, NULL, 10) : 0;
    }
    tc_response_free(&r);
    check(versions[0] > 0 && versions[1] > 0, "the inside answer gives each model's version (%llu, %llu)", versions[0],
          versions[1]);
    static const struct {
        int model;
        const char *layer;
        int map;
    } rows[] = {{0, "conv1", 0}, {0, "conv1", 31}, {0, "conv2", 0}, {0, "conv2", 12}, {0, "conv2", 63},
                {0, "fc1", 127}, {0, "fc2", 9},    {1, "fc1", 5},    {1, "fc2", 255}, {1, "fc3", 0}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        compare_weights(port, &models[rows[i].model], rows[i].layer, rows[i].map, versions[rows[i].model]);

    /* HEAD: the head of the same answer */
    int status = get(port, "/api/weights?model=cnn&layer=conv2&map=3", "HEAD", &r);
    char type[64];
    check(status == 200 && r.body_len == 0 && tc_header(&r, "Content-Type", type, sizeof type) &&
              strcmp(type, "application/json") == 0,
          "HEAD /api/weights: 200, no body (%d)", status);
    tc_response_free(&r);
}

static void test_weights_hostile(int port)
{
    static const char *bad[] = {
        "", "?", "?model=cnn", "?model=cnn&layer=conv2", "?layer=conv2&map=1", "?model=cnn&map=1",
        "?model=cnn&layer=conv2&map=64",         /* past the last map */
        "?model=cnn&layer=conv1&map=32", "?model=mlp&layer=fc1&map=128", "?model=mlp&layer=fc3&map=10",
        "?model=mlp&layer=conv1&map=0",          /* no conv in the MLP */
        "?model=cnn&layer=fc3&map=0", "?model=cnn&layer=conv3&map=0", "?model=cnn&layer=conv99&map=0",
        "?model=cnn&layer=conv2&map=-1", "?model=cnn&layer=conv2&map=01", "?model=cnn&layer=conv2&map=1e3",
        "?model=cnn&layer=conv2&map=65536", "?model=cnn&layer=conv2&map=99999999999999999999999",
        "?model=cnn&layer=conv2&map=+1", "?model=cnn&layer=conv2&map=1.0", "?model=cnn&layer=conv2&map=0x1",
        "?model=cnn&layer=conv2&map=%31", "?model=cnn&layer=conv2&map=", "?model=cnn&layer=conv2&map",
        "?model=CNN&layer=conv2&map=1", "?model=cnn%00&layer=conv2&map=1", "?model=&layer=conv2&map=1",
        "?model=rnn&layer=conv2&map=1", "?model=cnn&layer=conv02&map=1", "?model=cnn&layer=conv123&map=1",
        "?model=cnn&layer=conv&map=1", "?model=cnn&layer=CONV2&map=1", "?model=cnn&layer=conv2;&map=1",
        "?model=cnn&layer=relu1&map=1", "?model=cnn&layer=..%2fconv2&map=1", "?model=cnn&layer=conv2&map=1&",
        "?&model=cnn&layer=conv2&map=1", "?model=cnn&&layer=conv2&map=1", "?model=cnn&layer=conv2&map=1&map=2",
        "?model=cnn&model=mlp&layer=fc1&map=1", "?model=cnn&layer=conv2&map=1&x=1", "?model=cnn&layer=conv2&map=1&=1",
        "?model=cnn&layer=conv2&map=1&inside=1", "?model==cnn&layer=conv2&map=1", "?model=cnn=&layer=conv2&map=1",
        "?Model=cnn&layer=conv2&map=1", "?model=cnn&layer=fc1&map=4294967297",
    };
    int refused = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char target[256];
        snprintf(target, sizeof target, "/api/weights%s", bad[i]);
        tc_response r = {0};
        int status = get(port, target, "GET", &r);
        bool ok = status == 400 && r.body && strncmp(r.body, "{\"error\":\"", 10) == 0 && !member(r.body, "data");
        if (!ok)
            fprintf(stderr, "  %s: %d %.100s\n", target, status, r.body ? r.body : "");
        refused += ok;
        tc_response_free(&r);
    }
    check(refused == (int)(sizeof bad / sizeof bad[0]), "hostile /api/weights queries: 400 with a JSON error (%d/%zu)",
          refused, sizeof bad / sizeof bad[0]);

    /* a query as long as a head allows */
    char *target = malloc(8000);
    int n = snprintf(target, 8000, "/api/weights?model=cnn&layer=conv2&map=1&");
    memset(target + n, 'a', 7000 - (size_t)n);
    memcpy(target + 7000, "=1", 3);
    tc_response r = {0};
    int status = get(port, target, "GET", &r);
    check(status == 400, "a 7000-byte /api/weights query: 400 (%d)", status);
    tc_response_free(&r);
    free(target);

    /* only GET and HEAD */
    static const char head[] = "POST /api/weights?model=cnn&layer=conv2&map=1 HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 0\r\nConnection: close\r\n\r\n";
    status = tc_exchange(port, head, sizeof head - 1, &r);
    char allow[64];
    check(status == 405 && tc_header(&r, "Allow", allow, sizeof allow) && strcmp(allow, "GET, HEAD") == 0,
          "POST /api/weights: 405, Allow: GET, HEAD (%d)", status);
    tc_response_free(&r);
}

/* ---- integrated gradients: ?inside=1&saliency=ig ---- */

/* One model's "saliency" with &saliency=ig against the integrated gradients
 * a probe computes here, from a blank drawing to this one. */
static void compare_ig(const char *json, local *m, const float *ink, const char *what)
{
    float x[784], blank[784] = {0}, attr[784];
    memcpy(x, ink, sizeof x);
    dn_normalize(x, 784, m->info.input_mean, m->info.input_std);
    dn_normalize(blank, 784, m->info.input_mean, m->info.input_std);
    const char *saliency = member(member(json, m->name), "saliency");
    const char *method = member(saliency, "method"), *steps_text = member(saliency, "steps");
    int steps = steps_text ? atoi(steps_text) : 0;
    dn_probe *probe;
    const float *logits;
    if (!method || strncmp(method, "\"ig\"", 4) != 0 || steps < 1 || steps > DN_PROBE_MAX_STEPS ||
        dn_probe_new(&probe, m->net) != DN_OK) {
        check(false, "%s, %s: \"saliency\" says method \"ig\" and its steps (%.20s)", what, m->name,
              saliency ? saliency : "none");
        return;
    }
    dn_probe_run(probe, x, 1);
    dn_probe_layer_output(probe, dn_net_layer_count(m->net) - 1, &logits, NULL);
    int digit = dn_argmax(logits, 10);
    float logit = logits[digit], w[10] = {0};
    w[digit] = 1;
    dn_status st = dn_probe_integrated_gradients(probe, x, blank, steps, w, 10, attr, 784);
    dn_probe_run(probe, blank, 1);
    dn_probe_layer_output(probe, dn_net_layer_count(m->net) - 1, &logits, NULL);
    double delta = (double)logit - logits[digit], sum = 0;
    float largest = 0;
    for (int k = 0; k < 784; k++) {
        sum += attr[k];
        largest = fabsf(attr[k]) > largest ? fabsf(attr[k]) : largest;
    }
    uint8_t bytes[784], neg[98 + 4];
    bool decoded = runs(member(saliency, "data"), bytes, 784) && base64(member(saliency, "neg"), neg, sizeof neg) == 98;
    const char *mx = member(saliency, "max"), *sm = member(saliency, "sum"), *dl = member(saliency, "delta");
    double max = mx ? strtod(mx, NULL) : -1;
    int wrong = 0, signs = 0, off_ink = 0;
    for (int k = 0; decoded && k < 784; k++) {
        wrong += !(fabs(bytes[k] * max / 255 - fabsf(attr[k])) <= 0.5 * max / 255 + 1e-4 * max);
        /* the server adds up the path in pieces: an attribution within
         * rounding of 0 may come out with the other sign */
        signs += ((neg[k / 8] >> (k % 8)) & 1) != (attr[k] < 0) && fabsf(attr[k]) > 1e-5f * largest;
        off_ink += ink[k] == 0 && bytes[k] != 0; /* no ink, no difference from blank, no attribution */
    }
    bool sums = sm && dl && fabs(strtod(sm, NULL) - sum) <= 1e-4 * fabs(sum) + 1e-6 &&
                fabs(strtod(dl, NULL) - delta) <= 1e-4 * fabs(delta) + 1e-6;
    check(st == DN_OK && decoded && fabs(max - largest) <= 1e-4 * largest && largest > 0 && wrong == 0 &&
              signs == 0 && off_ink == 0 && sums,
          "%s, %s: integrated gradients of logit[%d] in %d steps (max %g, %d pixels off, %d signs wrong, %d lit "
          "without ink; sum %.4f of the rise %.4f)",
          what, m->name, digit, steps, max, wrong, signs, off_ink, sum, delta);
    dn_probe_free(probe);
}

static void test_ig(int port, local *models)
{
    for (int i = 0; i < 2; i++) {
        tc_response r = {0}, g = {0};
        int status = post(port, "?w=28&h=28&inside=1&saliency=ig", digits[i], 784, &r);
        post(port, "?w=28&h=28&inside=1&saliency=grad", digits[i], 784, &g);
        char what[64];
        snprintf(what, sizeof what, "MNIST test digit %d with &saliency=ig", i);
        const char *inside = r.body ? member(r.body, "inside") : NULL;
        check(status == 200 && inside && *inside == '{', "%s: 200 with \"inside\" (%d)", what, status);
        if (!inside) {
            tc_response_free(&r);
            tc_response_free(&g);
            continue;
        }
        float ink[784];
        preprocess_like_server(digits[i], ink);
        for (int k = 0; k < 2; k++) {
            compare_ig(inside, &models[k], ink, what);
            /* the maps are the same as without it; the saliency is not */
            const char *mi = member(member(inside, models[k].name), "maps");
            const char *mg = member(member(member(g.body ? g.body : "", "inside"), models[k].name), "maps");
            const char *si = member(member(member(inside, models[k].name), "saliency"), "data");
            const char *sg = member(member(member(member(g.body ? g.body : "", "inside"), models[k].name), "saliency"),
                                    "data");
            const char *method = member(member(member(member(g.body ? g.body : "", "inside"), models[k].name),
                                               "saliency"), "method");
            bool same_maps = mi && mg && skip_value(mi) - mi == skip_value(mg) - mg &&
                             strncmp(mi, mg, (size_t)(skip_value(mi) - mi)) == 0;
            bool other_saliency = si && sg && (skip_value(si) - si != skip_value(sg) - sg ||
                                               strncmp(si, sg, (size_t)(skip_value(si) - si)) != 0);
            check(same_maps && other_saliency && method && strncmp(method, "\"grad\"", 6) == 0,
                  "%s, %s: the same maps as &saliency=grad (method \"grad\"), another saliency map", what,
                  models[k].name);
        }
        tc_response_free(&r);
        tc_response_free(&g);
    }

    static const char *bad[] = {"?w=28&h=28&inside=1&saliency=IG", "?w=28&h=28&inside=1&saliency=",
                                "?w=28&h=28&inside=1&saliency", "?w=28&h=28&inside=1&saliency=ig&saliency=ig",
                                "?w=28&h=28&inside=1&saliency=gradient", "?w=28&h=28&saliency=ig",
                                "?w=28&h=28&inside=0&saliency=ig", "?w=28&h=28&inside=1&saliency=%69g",
                                "?w=28&h=28&inside=1&inside=1", "?w=28&h=28&inside=1&saliency=ig2"};
    int refused = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_response r = {0};
        int status = post(port, bad[i], digits[0], 784, &r);
        bool ok = status == 400 && r.body && strncmp(r.body, "{\"error\":\"", 10) == 0;
        if (!ok)
            fprintf(stderr, "  %s: %d %.80s\n", bad[i], status, r.body ? r.body : "");
        refused += ok;
        tc_response_free(&r);
    }
    check(refused == (int)(sizeof bad / sizeof bad[0]),
          "?saliency= anything but grad or ig, twice, or without inside=1: 400 with a JSON error (%d/%zu)", refused,
          sizeof bad / sizeof bad[0]);
}

/* ---- concurrency ---- */

typedef struct job {
    int port, index, same;
    char *first;
} job;

/* The answer without its timings ("ms" and "server_ms" and the like). */
static void drop_timings(char *body)
{
    for (char *p = body; (p = strstr(p, "ms\":")); p += 4) {
        char *q = p + 4;
        while (*q && *q != ',' && *q != '}')
            q++;
        memmove(p + 4, q, strlen(q) + 1);
    }
}

static void *client(void *arg)
{
    job *j = arg;
    for (int i = 0; i < 6; i++) {
        tc_response r = {0};
        int status = post(j->port, "?w=28&h=28&inside=1", digits[j->index % DIGITS], 784, &r);
        if (status == 200 && r.body) {
            drop_timings(r.body);
            if (!j->first)
                j->first = strdup(r.body);
            else
                j->same += strcmp(j->first, r.body) == 0;
        }
        tc_response_free(&r);
    }
    return NULL;
}

static void test_concurrent(int port)
{
    enum { CLIENTS = 6 };
    job jobs[CLIENTS] = {{0}};
    pthread_t threads[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        jobs[i] = (job){.port = port, .index = i % 2};
        pthread_create(&threads[i], NULL, client, &jobs[i]);
    }
    int same = 0, answered = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        same += jobs[i].same;
        answered += jobs[i].first != NULL;
    }
    bool agree = answered == CLIENTS && jobs[0].first && jobs[2].first && strcmp(jobs[0].first, jobs[2].first) == 0;
    check(answered == CLIENTS && same == CLIENTS * 5 && agree,
          "%d clients at once with ?inside=1: every answer the same for the same drawing (%d/%d)", CLIENTS, same,
          CLIENTS * 5);
    for (int i = 0; i < CLIENTS; i++)
        free(jobs[i].first);
}

/* ---- time and size ---- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_timing(int port, int requests, int ig_requests)
{
    double *server = calloc((size_t)requests, sizeof *server), *plain = calloc((size_t)requests, sizeof *plain);
    size_t bytes = 0, plain_bytes = 0;
    int answered = 0;
    for (int i = 0; i < requests; i++) {
        tc_response r = {0};
        post(port, "?w=28&h=28&inside=1", digits[i % DIGITS], 784, &r);
        const char *ms = r.body ? member(r.body, "server_ms") : NULL;
        if (r.status == 200 && ms) {
            server[answered++] = strtod(ms, NULL);
            bytes += r.body_len;
        }
        tc_response_free(&r);
        post(port, "?w=28&h=28", digits[i % DIGITS], 784, &r);
        ms = r.body ? member(r.body, "server_ms") : NULL;
        plain[i] = ms ? strtod(ms, NULL) : 0;
        plain_bytes += r.body_len;
        tc_response_free(&r);
    }
    /* as the page sends it: a 280x280 drawing, dark on white */
    static uint8_t page[280 * 280];
    double *drawn = calloc((size_t)requests, sizeof *drawn);
    size_t drawn_bytes = 0;
    for (int i = 0; i < requests; i++) {
        for (int k = 0; k < 280 * 280; k++)
            page[k] = (uint8_t)(255 - digits[i % DIGITS][(k / 280 / 10) * 28 + (k % 280) / 10] * 240 / 255);
        tc_response r = {0};
        post(port, "?w=280&h=280&inside=1", page, sizeof page, &r);
        const char *ms = r.body ? member(r.body, "server_ms") : NULL;
        drawn[i] = ms ? strtod(ms, NULL) : 0;
        drawn_bytes += r.body_len;
        tc_response_free(&r);
    }
    qsort(drawn, (size_t)requests, sizeof *drawn, compare_doubles);
    printf("a 280x280 drawing as the page sends it, with ?inside=1: median %.3f ms, p99 %.3f ms; %.0f bytes per "
           "answer\n", drawn[requests / 2], drawn[(requests * 99) / 100], (double)drawn_bytes / requests);
    /* the same with integrated gradients, and the 28x28 digits likewise */
    double *ig = calloc((size_t)ig_requests, sizeof *ig), *ig28 = calloc((size_t)ig_requests, sizeof *ig28);
    size_t ig_bytes = 0;
    for (int i = 0; i < ig_requests; i++) {
        for (int k = 0; k < 280 * 280; k++)
            page[k] = (uint8_t)(255 - digits[i % DIGITS][(k / 280 / 10) * 28 + (k % 280) / 10] * 240 / 255);
        tc_response r = {0};
        post(port, "?w=280&h=280&inside=1&saliency=ig", page, sizeof page, &r);
        const char *ms = r.body ? member(r.body, "server_ms") : NULL;
        ig[i] = ms ? strtod(ms, NULL) : 0;
        ig_bytes += r.body_len;
        tc_response_free(&r);
        post(port, "?w=28&h=28&inside=1&saliency=ig", digits[i % DIGITS], 784, &r);
        ms = r.body ? member(r.body, "server_ms") : NULL;
        ig28[i] = ms ? strtod(ms, NULL) : 0;
        tc_response_free(&r);
    }
    qsort(ig, (size_t)ig_requests, sizeof *ig, compare_doubles);
    qsort(ig28, (size_t)ig_requests, sizeof *ig28, compare_doubles);
    printf("a 280x280 drawing with ?inside=1&saliency=ig, %d requests: median %.3f ms, p99 %.3f ms; %.0f bytes per "
           "answer\n", ig_requests, ig[ig_requests / 2], ig[(ig_requests * 99) / 100], (double)ig_bytes / ig_requests);
    printf("a 28x28 digit with ?inside=1&saliency=ig, %d requests: median %.3f ms, p99 %.3f ms\n", ig_requests,
           ig28[ig_requests / 2], ig28[(ig_requests * 99) / 100]);
    free(drawn);
    qsort(server, (size_t)answered, sizeof *server, compare_doubles);
    qsort(plain, (size_t)requests, sizeof *plain, compare_doubles);
    double median = answered ? server[answered / 2] : 0, p99 = answered ? server[(answered * 99) / 100] : 0;
    printf("server time per answer with ?inside=1 over %d requests: median %.3f ms, p99 %.3f ms, max %.3f ms; "
           "%.0f bytes per answer\n",
           answered, median, p99, answered ? server[answered - 1] : 0, answered ? (double)bytes / answered : 0);
    printf("without ?inside=1: median %.3f ms, p99 %.3f ms; %.0f bytes per answer\n", plain[requests / 2],
           plain[(requests * 99) / 100], (double)plain_bytes / requests);
    /* the budget is 5 ms on the demo's machine; a loaded machine is
     * slower, so the check here is only against 25 ms, and a sanitizer
     * build (ten to fifty times slower) is not checked */
#ifdef DN_TEST_SANITIZED
    const bool sanitized = true;
#else
    const bool sanitized = false;
#endif
    check(answered == requests && median > 0 && (sanitized || median < 25),
          "%d answers with ?inside=1 timed: median %.2f ms of server time (budget 5 ms; %s)", answered, median,
          sanitized ? "not checked in a sanitizer build" : "checked < 25");
    /* asked for on demand: no budget, and a build without vector code or
     * OpenMP takes a second each on a loaded machine */
    check(ig[0] > 0 && ig28[0] > 0, "%d answers with ?inside=1&saliency=ig timed: median %.2f ms (no budget)",
          ig_requests, ig[ig_requests / 2]);
    free(ig);
    free(ig28);
    free(server);
    free(plain);
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7) {
        fprintf(stderr, "usage: test_server_inside DN_CANVAS CNN MLP MNIST_DIR [REQUESTS [IG_REQUESTS]]\n");
        return 2;
    }
    const char *exe = argv[1], *cnn = argv[2], *mlp = argv[3];
    int requests = argc >= 6 ? atoi(argv[5]) : 200, ig_requests = argc == 7 ? atoi(argv[6]) : 20;
    signal(SIGPIPE, SIG_IGN);
    struct stat st;
    if (!load_digits(argv[4]) || stat(cnn, &st) != 0 || stat(mlp, &st) != 0) {
        printf("skipped: needs the MNIST test set in %s and models %s, %s\n", argv[4], cnn, mlp);
        return 77;
    }
    local models[2] = {{.name = "cnn"}, {.name = "mlp"}};
    const char *paths[2] = {cnn, mlp};
    for (int k = 0; k < 2; k++)
        if (dn_model_load(&models[k].net, &models[k].info, paths[k]) != DN_OK) {
            fprintf(stderr, "%s: %s\n", paths[k], dn_last_error());
            return 1;
        }
    server_proc s;
    char *server_argv[] = {(char *)exe, "--port", "0", "--cnn", (char *)cnn, "--mlp", (char *)mlp, NULL};
    if (!proc_start(&s, server_argv)) {
        check(false, "dn-canvas starts");
        proc_kill(&s);
        return check_finish();
    }
    test_inside(s.port, models);
    test_hostile(s.port);
    test_weights(s.port, models);
    test_weights_hostile(s.port);
    test_ig(s.port, models);
    test_concurrent(s.port);
    test_timing(s.port, requests < 1 ? 1 : requests, ig_requests < 1 ? 1 : ig_requests);
    int status;
    check(proc_stop(&s, 20, &status), "SIGTERM: dn-canvas exits with status 0 (%d)", status);
    for (int k = 0; k < 2; k++)
        dn_net_free(models[k].net);
    return check_finish();
}
