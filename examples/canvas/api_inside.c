/* api_inside.c - each model's insides for a drawing (api_inside.h): a probe
 * runs it, every relu's and max-pool's output goes out as 8-bit maps, the
 * conv kernels as signed bytes and the saliency map (gradient or integrated
 * gradients) as magnitudes; and one map's weights for GET /api/weights. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_inside.h"
#include "digitnet/clock.h"
#include "digitnet/image.h"
#include "digitnet/json.h"
#include "digitnet/ops.h"
#include "digitnet/probe.h"
#include "http.h"

/* The second conv's strongest inputs sent per output channel. */
#define INSIDE_TOP_INPUTS 3
/* Kernels of more weights than this, or of more than 256 input channels,
 * are not sent (not the demo's nets). */
#define INSIDE_MAX_KERNEL_BYTES ((size_t)16 << 10)

static void append_base64(strbuf *out, const uint8_t *bytes, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char chunk[4 * 256];
    size_t used = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)bytes[i] << 16 | (i + 1 < n ? (uint32_t)bytes[i + 1] << 8 : 0) |
                     (i + 2 < n ? bytes[i + 2] : 0);
        chunk[used++] = digits[v >> 18];
        chunk[used++] = digits[(v >> 12) & 63];
        chunk[used++] = i + 1 < n ? digits[(v >> 6) & 63] : '=';
        chunk[used++] = i + 2 < n ? digits[v & 63] : '=';
        if (used == sizeof chunk) {
            strbuf_append(out, chunk, used);
            used = 0;
        }
    }
    strbuf_append(out, chunk, used);
}

/* Zero runs, for maps that are mostly 0 after a relu (96% of conv2's): a
 * 0 byte then a byte n stand for n + 1 zeros, any other byte for itself.
 * dst holds 2 * n bytes (the worst case, zeros one by one); returns the
 * length written. */
static size_t encode_zero_runs(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        if (src[i]) {
            dst[out++] = src[i++];
            continue;
        }
        size_t run = 1;
        while (run < 256 && i + run < n && src[i + run] == 0)
            run++;
        dst[out++] = 0;
        dst[out++] = (uint8_t)(run - 1);
        i += run;
    }
    return out;
}

/* "data":"..." of n bytes (at bytes, with 2n bytes of room after them),
 * zero-run encoded and base64. */
static void append_runs(strbuf *out, uint8_t *bytes, size_t n)
{
    size_t len = encode_zero_runs(bytes + n, bytes, n);
    strbuf_printf(out, "\"data\":\"");
    append_base64(out, bytes + n, len);
    strbuf_printf(out, "\"");
}

/* value with about five significant digits; false for NaN or infinity. */
static bool append_number(strbuf *out, double value)
{
    char text[64];
    double size = fabs(value);
    int decimals = size >= 1e4 || size == 0 ? 0 : 4 - (int)floor(log10(size));
    if (decimals > 12)
        decimals = 12;
    if (!isfinite(value) || dn_json_format_number(text, sizeof text, value, decimals) != DN_OK)
        return false;
    strbuf_append(out, text, strlen(text));
    return true;
}

static bool append_numbers(strbuf *out, const float *values, int n)
{
    strbuf_append(out, "[", 1);
    for (int i = 0; i < n; i++) {
        if (i)
            strbuf_append(out, ",", 1);
        if (!append_number(out, values[i]))
            return false;
    }
    strbuf_append(out, "]", 1);
    return true;
}

/* bytes[i] = (values[i] - lo) / (hi - lo) in 0..255, rounded. */
static void quantise(uint8_t *bytes, const float *values, size_t n, float lo, float hi)
{
    float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
    for (size_t i = 0; i < n; i++) {
        long b = lrintf((values[i] - lo) * scale);
        bytes[i] = (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
    }
}

/* Scratch for one model's answer, grown as needed and freed at the end. */
typedef struct scratch {
    uint8_t *bytes;
    float *lo, *hi;
    size_t bytes_cap, scales_cap;
} scratch;

static bool reserve(scratch *s, size_t bytes, size_t scales)
{
    if (bytes > s->bytes_cap) {
        uint8_t *b = realloc(s->bytes, bytes);
        if (!b)
            return false;
        s->bytes = b;
        s->bytes_cap = bytes;
    }
    if (scales > s->scales_cap) {
        float *lo = realloc(s->lo, scales * sizeof *lo);
        if (lo)
            s->lo = lo;
        float *hi = lo ? realloc(s->hi, scales * sizeof *hi) : NULL;
        if (!hi)
            return false;
        s->hi = hi;
        s->scales_cap = scales;
    }
    return true;
}

/* {"name":...,"shape":[C,H,W],"lo":[...],"hi":[...],"data":...} of one
 * layer output: a scale per channel of a map, one for a layer of units. */
static bool append_map(strbuf *out, scratch *s, const char *name, const float *values, const int shape[3])
{
    const size_t plane = (size_t)shape[1] * shape[2], total = (size_t)shape[0] * plane;
    const int scales = plane > 1 ? shape[0] : 1;
    const size_t per = total / (size_t)scales;
    if (!reserve(s, 3 * total, (size_t)scales))
        return false;
    for (int c = 0; c < scales; c++) {
        const float *v = values + (size_t)c * per;
        float lo = 0, hi = 0; /* 0 in range: a relu's zero is the map's floor */
        for (size_t i = 0; i < per; i++) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
        s->lo[c] = lo;
        s->hi[c] = hi;
        quantise(s->bytes + (size_t)c * per, v, per, lo, hi);
    }
    strbuf_printf(out, "{\"name\":\"%s\",\"shape\":[%d,%d,%d],\"lo\":", name, shape[0], shape[1], shape[2]);
    if (!append_numbers(out, s->lo, scales))
        return false;
    strbuf_printf(out, ",\"hi\":");
    if (!append_numbers(out, s->hi, scales))
        return false;
    strbuf_printf(out, ",");
    append_runs(out, s->bytes, total);
    strbuf_printf(out, "}");
    return true;
}

/* "maps":[...]: the output of every relu (named after the conv or linear
 * layer before it) and every max-pool, up to INSIDE_MAX_MAP_BYTES. */
static bool append_maps(strbuf *out, scratch *s, const dn_net *net, const dn_probe *probe)
{
    int convs = 0, linears = 0, pools = 0, shown = 0;
    size_t bytes = 0;
    char producer[16] = "", name[16];
    strbuf_printf(out, "\"maps\":[");
    for (int i = 0; i < dn_net_layer_count(net); i++) {
        const char *kind = dn_net_layer_kind(net, i);
        if (strcmp(kind, "conv") == 0)
            snprintf(producer, sizeof producer, "conv%d", ++convs);
        else if (strcmp(kind, "linear") == 0)
            snprintf(producer, sizeof producer, "fc%d", ++linears);
        if (strcmp(kind, "maxpool") == 0)
            snprintf(name, sizeof name, "pool%d", ++pools);
        else if (strcmp(kind, "relu") == 0)
            snprintf(name, sizeof name, "%s", producer[0] ? producer : "relu");
        else
            continue;
        const float *values;
        int shape[3];
        if (dn_probe_layer_output(probe, i, &values, shape) != DN_OK)
            return false;
        size_t size = (size_t)shape[0] * shape[1] * shape[2];
        if (size > INSIDE_MAX_MAP_BYTES - bytes) {
            strbuf_printf(out, "],\"truncated\":true,");
            return true;
        }
        bytes += size;
        if (shown++)
            strbuf_printf(out, ",");
        if (!append_map(out, s, name, values, shape))
            return false;
    }
    strbuf_printf(out, "],");
    return true;
}

/* Largest |w| of n weights. */
static float largest(const float *w, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabsf(w[i]) > m ? fabsf(w[i]) : m;
    return m;
}

/* bytes = 128 + w / scale * 127, rounded. */
static void quantise_signed(uint8_t *bytes, const float *w, size_t n, float scale)
{
    float k = scale > 0 ? 127.0f / scale : 0.0f;
    for (size_t i = 0; i < n; i++)
        bytes[i] = (uint8_t)(128 + lrintf(w[i] * k));
}

/* The first conv's kernels whole; of the second, per output channel the
 * INSIDE_TOP_INPUTS input channels with the largest kernels. */
static bool append_kernels(strbuf *out, scratch *s, const dn_probe *probe)
{
    strbuf_printf(out, "\"kernels\":[");
    for (int k = 1; k <= 2; k++) {
        char name[32];
        snprintf(name, sizeof name, "conv%d.weight", k);
        const float *w;
        size_t count;
        int ndim, shape[4];
        if (dn_probe_param(probe, name, &w, &count, &ndim, shape) != DN_OK || ndim != 4 || shape[1] > 256)
            break;
        const int oc = shape[0], ic = shape[1];
        const float scale = largest(w, count);
        const size_t area = (size_t)shape[2] * shape[3];
        const int top = k == 1 || ic <= INSIDE_TOP_INPUTS ? ic : INSIDE_TOP_INPUTS;
        size_t sent = (size_t)oc * top * area;
        if (sent > INSIDE_MAX_KERNEL_BYTES || !reserve(s, sent + (size_t)oc * top, 0))
            break;
        uint8_t *data = s->bytes, *inputs = s->bytes + sent;
        for (int o = 0; o < oc; o++) {
            const float *kernels = w + (size_t)o * ic * area;
            bool taken[256] = {false};
            for (int t = 0; t < top; t++) { /* the strongest input not taken yet */
                int best = -1;
                double best_norm = -1;
                for (int c = 0; c < ic; c++) {
                    double norm = 0;
                    for (size_t e = 0; e < area; e++)
                        norm += (double)kernels[c * area + e] * kernels[c * area + e];
                    if (!taken[c] && norm > best_norm) {
                        best = c;
                        best_norm = norm;
                    }
                }
                taken[best] = true;
                inputs[(size_t)o * top + t] = (uint8_t)best;
                quantise_signed(data + ((size_t)o * top + t) * area, kernels + (size_t)best * area, area, scale);
            }
        }
        strbuf_printf(out, "%s{\"name\":\"conv%d\",\"shape\":[%d,%d,%d,%d],", k > 1 ? "," : "", k, oc, ic, shape[2],
                      shape[3]);
        if (top < ic) {
            strbuf_printf(out, "\"top\":%d,\"inputs\":\"", top);
            append_base64(out, inputs, (size_t)oc * top);
            strbuf_printf(out, "\",");
        }
        strbuf_printf(out, "\"scale\":");
        if (!append_number(out, scale))
            return false;
        strbuf_printf(out, ",\"data\":\"");
        append_base64(out, data, sent);
        strbuf_printf(out, "\"}");
    }
    strbuf_printf(out, "],");
    return true;
}

/* "saliency":{"max":M,"data":...}: |d logit[digit] / d input|. */
static bool append_saliency(strbuf *out, scratch *s, dn_probe *probe, int digit, int classes)
{
    float weights[256] = {0}, grad[DN_MNIST_PIXELS];
    weights[digit] = 1;
    if (dn_probe_input_gradient(probe, weights, (size_t)classes, grad, DN_MNIST_PIXELS) != DN_OK ||
        !reserve(s, 3 * DN_MNIST_PIXELS, 0))
        return false;
    float max = 0;
    for (int i = 0; i < DN_MNIST_PIXELS; i++) {
        grad[i] = fabsf(grad[i]);
        max = grad[i] > max ? grad[i] : max;
    }
    quantise(s->bytes, grad, DN_MNIST_PIXELS, 0, max);
    strbuf_printf(out, "\"saliency\":{\"method\":\"grad\",\"max\":");
    if (!append_number(out, max))
        return false;
    strbuf_printf(out, ",");
    append_runs(out, s->bytes, DN_MNIST_PIXELS);
    strbuf_printf(out, "}");
    return true;
}

/* "saliency":{"method":"ig",...}: the integrated gradients of logit[digit]
 * from the blank drawing `blank` to x, whose logit is logit_x (the logits
 * are layer last_layer's output). Runs the probe on the path and then on
 * blank: its outputs are no longer x's afterwards. */
static bool append_ig(strbuf *out, scratch *s, dn_probe *probe, const float *x, const float *blank, int digit,
                      int classes, int last_layer, float logit_x)
{
    float weights[256] = {0}, attr[DN_MNIST_PIXELS] = {0}, from[DN_MNIST_PIXELS], to[DN_MNIST_PIXELS],
          part[DN_MNIST_PIXELS];
    const float *logits;
    weights[digit] = 1;
    /* the path in pieces of INSIDE_IG_CHUNK steps: the same midpoints as
     * one run of INSIDE_IG_STEPS, in a probe sized for a batch of the chunk */
    const int pieces = INSIDE_IG_STEPS / INSIDE_IG_CHUNK;
    for (int j = 0; j < pieces; j++) {
        for (int i = 0; i < DN_MNIST_PIXELS; i++) {
            from[i] = blank[i] + (x[i] - blank[i]) * (float)j / (float)pieces;
            to[i] = blank[i] + (x[i] - blank[i]) * (float)(j + 1) / (float)pieces;
        }
        if (dn_probe_integrated_gradients(probe, to, from, INSIDE_IG_CHUNK, weights, (size_t)classes, part,
                                          DN_MNIST_PIXELS) != DN_OK)
            return false;
        for (int i = 0; i < DN_MNIST_PIXELS; i++)
            attr[i] += part[i];
    }
    if (dn_probe_run(probe, blank, 1) != DN_OK ||
        dn_probe_layer_output(probe, last_layer, &logits, NULL) != DN_OK ||
        !reserve(s, 3 * DN_MNIST_PIXELS, 0))
        return false;
    uint8_t neg[(DN_MNIST_PIXELS + 7) / 8] = {0};
    float max = 0;
    double sum = 0;
    for (int i = 0; i < DN_MNIST_PIXELS; i++) {
        sum += attr[i];
        if (attr[i] < 0)
            neg[i / 8] |= (uint8_t)(1u << (i % 8));
        attr[i] = fabsf(attr[i]);
        max = attr[i] > max ? attr[i] : max;
    }
    quantise(s->bytes, attr, DN_MNIST_PIXELS, 0, max);
    strbuf_printf(out, "\"saliency\":{\"method\":\"ig\",\"steps\":%d,\"max\":", INSIDE_IG_STEPS);
    if (!append_number(out, max))
        return false;
    strbuf_printf(out, ",\"sum\":");
    if (!append_number(out, sum))
        return false;
    strbuf_printf(out, ",\"delta\":");
    if (!append_number(out, (double)logit_x - logits[digit]))
        return false;
    strbuf_printf(out, ",\"neg\":\"");
    append_base64(out, neg, sizeof neg);
    strbuf_printf(out, "\",");
    append_runs(out, s->bytes, DN_MNIST_PIXELS);
    strbuf_printf(out, "}");
    return true;
}

/* Makes m's probe if it has none yet; under m's lock, with m->net there. */
static dn_status model_probe(api_model *m)
{
    if (m->probe)
        return DN_OK;
    dn_status status = dn_probe_new(&m->probe, m->net);
    if (status == DN_OK)
        dn_probe_set_threads(m->probe, 1);
    return status;
}

/* "name":{...} of one model, under its lock (its probe kept for the next). */
static bool append_model(strbuf *out, scratch *s, api_model *m, const float *ink, inside_saliency saliency,
                         char *error, size_t cap)
{
    float x[DN_MNIST_PIXELS], blank[DN_MNIST_PIXELS] = {0};
    memcpy(x, ink, sizeof x);
    pthread_mutex_lock(&m->lock);
    dn_normalize(x, DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
    dn_normalize(blank, DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
    if (!m->net) { /* still training: nothing inside yet */
        pthread_mutex_unlock(&m->lock);
        strbuf_printf(out, "\"%s\":null", m->name);
        return true;
    }
    const float *logits = NULL;
    int classes = dn_net_num_classes(m->net), digit = 0;
    dn_status status = model_probe(m);
    dn_probe *probe = m->probe;
    if (status == DN_OK)
        status = dn_probe_run(probe, x, 1);
    if (status == DN_OK)
        status = dn_probe_layer_output(probe, dn_net_layer_count(m->net) - 1, &logits, NULL);
    bool ok = status == DN_OK && classes <= 256;
    if (ok) {
        digit = dn_argmax(logits, classes);
        float logit = logits[digit]; /* logits go with the next run */
        strbuf_printf(out, "\"%s\":{\"digit\":%d,\"version\":%llu,", m->name, digit, m->version);
        ok = append_maps(out, s, m->net, probe) && append_kernels(out, s, probe) &&
             (saliency == INSIDE_SALIENCY_IG ? append_ig(out, s, probe, x, blank, digit, classes,
                                                         dn_net_layer_count(m->net) - 1, logit)
                                             : append_saliency(out, s, probe, digit, classes));
        strbuf_printf(out, "}");
        if (!ok)
            snprintf(error, cap, "the %s model's insides: a number that is not finite, or out of memory", m->name);
    } else {
        snprintf(error, cap, "the %s model failed: %s", m->name, dn_last_error());
    }
    pthread_mutex_unlock(&m->lock);
    return ok;
}

bool api_inside_append(strbuf *out, api_model *models, int count, const float *ink, bool has_ink,
                       inside_saliency saliency, char *error, size_t cap)
{
    if (!has_ink) {
        strbuf_printf(out, "\"inside\":null");
        return true;
    }
    double start = dn_seconds();
    scratch s = {0};
    bool ok = true;
    strbuf_printf(out, "\"inside\":{");
    for (int i = 0; i < count && ok; i++) {
        ok = append_model(out, &s, &models[i], ink, saliency, error, cap);
        strbuf_printf(out, ",");
    }
    free(s.bytes);
    free(s.lo);
    free(s.hi);
    strbuf_printf(out, "\"ms\":");
    ok = ok && append_number(out, (dn_seconds() - start) * 1000);
    strbuf_printf(out, "}");
    if (ok && out->failed) {
        snprintf(error, cap, "out of memory for the insides of the networks");
        ok = false;
    }
    return ok;
}

/* ---- GET /api/weights ---- */

/* One map's weights as sent: signed bytes and what they stand for. */
typedef struct weights_row {
    uint8_t bytes[INSIDE_MAX_ROW];
    size_t n;
    float scale, bias;
    bool has_bias;
    int shape[3], ndim;
    unsigned long long version;
} weights_row;

/* Fills r with q's map of model m, read under the model's lock. 0 when
 * done, else the HTTP status, error[0..cap) saying why. */
static int read_row(api_model *m, const weights_query *q, weights_row *r, char *error, size_t cap)
{
    pthread_mutex_lock(&m->lock);
    if (!m->net) {
        pthread_mutex_unlock(&m->lock);
        snprintf(error, cap, "the %s model is still training: its weights come when it is ready", m->name);
        return 503;
    }
    char name[32];
    const float *w = NULL, *b = NULL;
    size_t count = 0, bias_count = 0;
    int wdim = 0, wshape[4] = {0}, bdim = 0, bshape[4], status = 0;
    const bool conv = strncmp(q->layer, "conv", 4) == 0;
    snprintf(name, sizeof name, "%s.weight", q->layer);
    dn_probe *probe = model_probe(m) == DN_OK ? m->probe : NULL;
    if (!probe) {
        snprintf(error, cap, "out of memory");
        status = 500;
    } else if (dn_probe_param(probe, name, &w, &count, &wdim, wshape) != DN_OK || wdim != (conv ? 4 : 2)) {
        snprintf(error, cap, "the %s has no %s layer called %s", m->name, conv ? "conv" : "linear", q->layer);
        status = 400;
    } else if (q->map >= wshape[0]) {
        snprintf(error, cap, "%s of the %s has %d %s: map must be 0 to %d", q->layer, m->name, wshape[0],
                 conv ? "maps" : "units", wshape[0] - 1);
        status = 400;
    } else if (count / (size_t)wshape[0] > INSIDE_MAX_ROW) {
        snprintf(error, cap, "%s's maps have %zu weights each, more than the %d sent", q->layer,
                 count / (size_t)wshape[0], INSIDE_MAX_ROW);
        status = 422;
    } else {
        r->n = count / (size_t)wshape[0];
        const float *row = w + (size_t)q->map * r->n;
        r->scale = largest(row, r->n);
        quantise_signed(r->bytes, row, r->n, r->scale);
        snprintf(name, sizeof name, "%s.bias", q->layer);
        r->has_bias = dn_probe_param(probe, name, &b, &bias_count, &bdim, bshape) == DN_OK && bdim == 1 &&
                      bias_count == (size_t)wshape[0];
        r->bias = r->has_bias ? b[q->map] : 0;
        r->ndim = conv ? 3 : 1;
        for (int k = 0; k < r->ndim; k++)
            r->shape[k] = wshape[k + 1];
        r->version = m->version;
    }
    pthread_mutex_unlock(&m->lock);
    return status;
}

void api_inside_weights(api *a, const server_request *req, http_response *res, strbuf *out)
{
    char error[300];
    weights_query q;
    if (!inside_query_weights(req->head->query, &q, error, sizeof error)) {
        api_fail(res, out, 400, error);
        return;
    }
    api_model *m = &a->models[q.model];
    weights_row *r = calloc(1, sizeof *r);
    if (!r) {
        api_fail(res, out, 500, "out of memory");
        return;
    }
    int status = read_row(m, &q, r, error, sizeof error);
    if (status) {
        free(r);
        api_fail(res, out, status, error);
        return;
    }
    strbuf_printf(out, "{\"model\":\"%s\",\"version\":%llu,\"layer\":\"%s\",\"map\":%d,\"kind\":\"%s\",\"shape\":[",
                  m->name, r->version, q.layer, q.map, r->ndim == 3 ? "conv" : "linear");
    for (int k = 0; k < r->ndim; k++)
        strbuf_printf(out, "%s%d", k ? "," : "", r->shape[k]);
    strbuf_printf(out, "],\"scale\":");
    bool ok = append_number(out, r->scale);
    strbuf_printf(out, ",\"bias\":");
    if (r->has_bias)
        ok = ok && append_number(out, r->bias);
    else
        strbuf_printf(out, "null");
    strbuf_printf(out, ",\"data\":\"");
    append_base64(out, r->bytes, r->n);
    strbuf_printf(out, "\"}\n");
    free(r);
    if (!ok || out->failed) {
        api_fail(res, out, 500, ok ? "out of memory" : "the model has a weight that is not finite");
        return;
    }
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}
