/* api.c - the endpoints of dn-canvas: serves the compiled-in page, reports the
 * loaded models, and runs a drawing through preprocessing and both nets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_inside.h"
#include "assets.h"
#include "digitnet/answer.h"
#include "digitnet/image.h"
#include "digitnet/json.h"
#include "digitnet/clock.h"
#include "image_body.h"

static bool load_model(api_model *m, const char *name, const char *path, char *error, size_t cap)
{
    *m = (api_model){.name = name};
    if (dn_model_load(&m->net, &m->info, path) != DN_OK) {
        snprintf(error, cap, "%s", dn_last_error());
        m->net = NULL;
        return false;
    }
    int shape[3];
    dn_net_input_shape(m->net, shape);
    if (shape[0] != 1 || shape[1] != DN_MNIST_SIDE || shape[2] != DN_MNIST_SIDE ||
        dn_net_num_classes(m->net) != 10) {
        snprintf(error, cap, "%s: takes %dx%dx%d inputs and %d classes; the demo needs 1x28x28 and 10",
                 path, shape[0], shape[1], shape[2], dn_net_num_classes(m->net));
        dn_net_free(m->net);
        m->net = NULL;
        return false;
    }
    dn_net_set_threads(m->net, 1);
    pthread_mutex_init(&m->lock, NULL);
    return true;
}

bool api_init(api *a, const char *cnn_path, const char *mlp_path, char *error, size_t cap)
{
    *a = (api){.threshold = -1.0f};
    if (!load_model(&a->models[0], "cnn", cnn_path, error, cap))
        return false;
    if (!load_model(&a->models[1], "mlp", mlp_path, error, cap)) {
        api_free(a);
        return false;
    }
    return true;
}

void api_free(api *a)
{
    for (int i = 0; i < 2; i++) {
        if (a->models[i].net) {
            dn_net_free(a->models[i].net);
            pthread_mutex_destroy(&a->models[i].lock);
        }
    }
    *a = (api){0};
}

/* Appends src as a JSON string. */
static void append_json_string(strbuf *out, const char *src)
{
    size_t need = dn_json_escape(NULL, 0, src);
    char *quoted = malloc(need + 1);
    if (!quoted) {
        out->failed = true;
        return;
    }
    dn_json_escape(quoted, need + 1, src);
    strbuf_append(out, quoted, need);
    free(quoted);
}

static void fail(http_response *res, strbuf *out, int status, const char *message)
{
    strbuf_reset(out);
    strbuf_printf(out, "{\"error\":");
    append_json_string(out, message);
    strbuf_printf(out, "}\n");
    res->status = status;
    res->content_type = "application/json";
}

/* Appends value with `decimals` digits after the point; false, appending
 * nothing, for NaN or infinity (JSON has neither). dn_json_format_number
 * writes '.' in any locale (and nothing in dn-canvas calls setlocale, so
 * strbuf_printf's "%d" stays plain too). */
static bool append_number(strbuf *out, double value, int decimals)
{
    char text[400];
    if (!isfinite(value) || dn_json_format_number(text, sizeof text, value, decimals) != DN_OK)
        return false;
    strbuf_append(out, text, strlen(text));
    return true;
}

static void health(api *a, http_response *res, strbuf *out)
{
    strbuf_printf(out, "{\"status\":\"ok\",\"models\":{");
    for (int i = 0; i < 2; i++) {
        strbuf_printf(out, "%s\"%s\":", i ? "," : "", a->models[i].name);
        append_json_string(out, dn_net_spec(a->models[i].net));
    }
    strbuf_printf(out, "},\"accuracy\":{");
    for (int i = 0; i < 2; i++) {
        float acc = a->models[i].info.test_accuracy;
        strbuf_printf(out, "%s\"%s\":", i ? "," : "", a->models[i].name);
        if (!(acc >= 0 && append_number(out, acc, 4)))
            strbuf_printf(out, "null");
    }
    strbuf_printf(out, "}}\n");
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}

/* One model's answer for the preprocessed drawing; probs all 0 and ms 0
 * when there is no ink. */
static dn_status run_model(api_model *m, const float *ink, bool has_ink, float probs[10], double *ms)
{
    memset(probs, 0, 10 * sizeof *probs);
    *ms = 0;
    if (!has_ink)
        return DN_OK;
    float x[DN_MNIST_PIXELS];
    memcpy(x, ink, sizeof x);
    dn_normalize(x, DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
    pthread_mutex_lock(&m->lock);
    double t0 = dn_seconds();
    dn_status status = dn_net_predict(m->net, x, 1, probs, 10);
    *ms = (dn_seconds() - t0) * 1000;
    pthread_mutex_unlock(&m->lock);
    return status;
}

/* "name":{"digit":D,"reason":R,"score":S,"threshold":T,"best":B,
 * "probs":[...],"ms":T}; false when a number is not finite. */
static bool append_model(strbuf *out, const char *name, bool has_ink, const float probs[10], double ms,
                         float threshold)
{
    dn_answer a = dn_answer_from_probs(probs, 10, has_ink, threshold);
    strbuf_printf(out, "\"%s\":{\"digit\":", name);
    if (a.digit >= 0)
        strbuf_printf(out, "%d,\"reason\":null", a.digit);
    else
        strbuf_printf(out, "null,\"reason\":\"%s\"", dn_refusal_reason(a.refusal));
    strbuf_printf(out, ",\"score\":");
    if (!append_number(out, a.score, 6))
        return false;
    strbuf_printf(out, ",\"threshold\":");
    if (!append_number(out, a.threshold, 6))
        return false;
    if (a.best >= 0)
        strbuf_printf(out, ",\"best\":%d", a.best);
    else
        strbuf_printf(out, ",\"best\":null");
    strbuf_printf(out, ",\"probs\":[");
    for (int k = 0; k < 10; k++) {
        if (k)
            strbuf_printf(out, ",");
        if (!append_number(out, probs[k], 6))
            return false;
    }
    strbuf_printf(out, "],\"ms\":");
    if (!append_number(out, ms, 3))
        return false;
    strbuf_printf(out, "},");
    return true;
}

/* The preprocessed 28x28 as integers 0-255, ink = 255. */
static void append_input(strbuf *out, const float *ink)
{
    strbuf_printf(out, "\"input\":[");
    for (int i = 0; i < DN_MNIST_PIXELS; i++) {
        float v = ink[i] < 0 ? 0 : ink[i] > 1 ? 1 : ink[i];
        strbuf_printf(out, "%s%d", i ? "," : "", (int)lrintf(v * 255));
    }
    strbuf_printf(out, "]");
}

static void predict(api *a, const server_request *req, http_response *res, strbuf *out)
{
    double begin = dn_seconds();
    char message[600];
    bool inside;
    if (!api_inside_wanted(req->head->query, &inside, message, sizeof message)) {
        fail(res, out, 400, message);
        return;
    }
    dn_image img;
    image_body_error error;
    if (!image_body_decode(req->head->query, req->body, req->body_len, &img, &error)) {
        fail(res, out, error.status, error.message);
        return;
    }
    float ink[DN_MNIST_PIXELS];
    dn_preprocess_info info;
    double start = dn_seconds();
    dn_status status = dn_preprocess_mnist(&img, ink, &info);
    double preprocess_ms = (dn_seconds() - start) * 1000;
    dn_image_free(&img);
    if (status != DN_OK) {
        fail(res, out, 422, dn_last_error());
        return;
    }

    strbuf_printf(out, "{");
    for (int i = 0; i < 2; i++) {
        api_model *m = &a->models[i];
        float probs[10];
        double ms;
        status = run_model(m, ink, info.has_ink, probs, &ms);
        if (status != DN_OK) {
            snprintf(message, sizeof message, "the %s model failed: %s", m->name, dn_last_error());
            fail(res, out, 500, message);
            return;
        }
        float threshold = a->threshold >= 0.0f                ? a->threshold
                          : m->info.answer_threshold >= 0.0f ? m->info.answer_threshold
                                                             : DN_ANSWER_THRESHOLD;
        if (!append_model(out, m->name, info.has_ink, probs, ms, threshold)) {
            snprintf(message, sizeof message, "the %s model gave a number that is not finite", m->name);
            fail(res, out, 500, message);
            return;
        }
    }
    if (inside) {
        if (!api_inside_append(out, a->models, 2, ink, info.has_ink, message, sizeof message)) {
            fail(res, out, 500, message);
            return;
        }
        strbuf_printf(out, ",");
    }
    append_input(out, ink);
    strbuf_printf(out, ",\"preprocess_ms\":");
    append_number(out, preprocess_ms, 3);
    strbuf_printf(out, ",\"inverted\":%s,\"server_ms\":", info.inverted ? "true" : "false");
    append_number(out, (dn_seconds() - begin) * 1000, 3);
    strbuf_printf(out, "}\n");
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}

void api_handle(void *ctx, const server_request *request, http_response *res, strbuf *out)
{
    api *a = ctx;
    const http_request *req = request->head;
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    const asset *page = assets_find(req->path);
    if (page || strcmp(req->path, "/api/health") == 0) {
        if (!get) {
            res->allow = "GET, HEAD";
            fail(res, out, 405, "this path answers GET and HEAD only");
        } else if (page) {
            res->status = 200;
            res->content_type = page->content_type;
            res->body = page->data;
            res->body_len = page->size;
            res->cache_control = "no-cache";
        } else {
            health(a, res, out);
        }
    } else if (strcmp(req->path, "/api/predict") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            res->allow = "POST";
            fail(res, out, 405, "POST a drawing here (PNG or PGM, or raw 8-bit pixels with ?w=W&h=H)");
        } else {
            predict(a, request, res, out);
        }
    } else {
        fail(res, out, 404, "not found");
    }
}
