/* api.c - the endpoints of dn-canvas: serves the compiled-in page, reports the
 * loaded models, and runs a drawing through preprocessing and both nets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "assets.h"
#include "digitnet/image.h"
#include "digitnet/json.h"
#include "digitnet/clock.h"

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
    *a = (api){0};
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
        if (acc >= 0 && isfinite(acc))
            strbuf_printf(out, "%.4f", (double)acc);
        else
            strbuf_printf(out, "null");
    }
    strbuf_printf(out, "}}\n");
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}

/* A whole decimal number in 1..DN_IMAGE_MAX_SIDE, or 0. */
static int parse_side(const char *text)
{
    if (!*text || strlen(text) > 5)
        return 0;
    int v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    return v <= DN_IMAGE_MAX_SIDE ? v : 0;
}

/* The request body as an image; false after filling in the error response. */
static bool decode_image(const http_request *req, const uint8_t *body, size_t body_len,
                         dn_image *img, http_response *res, strbuf *out)
{
    char w_text[16], h_text[16];
    bool has_w = http_query_get(req->query, "w", w_text, sizeof w_text);
    bool has_h = http_query_get(req->query, "h", h_text, sizeof h_text);
    char message[256];
    if (http_query_has(req->query, "w") || http_query_has(req->query, "h")) {
        int w = has_w ? parse_side(w_text) : 0, h = has_h ? parse_side(h_text) : 0;
        if (!w || !h) {
            snprintf(message, sizeof message,
                     "raw pixels need ?w=W&h=H, whole numbers from 1 to %d", DN_IMAGE_MAX_SIDE);
            fail(res, out, 400, message);
            return false;
        }
        if ((size_t)w * (size_t)h != body_len) {
            snprintf(message, sizeof message, "the body has %zu bytes but w*h = %d*%d = %zu",
                     body_len, w, h, (size_t)w * (size_t)h);
            fail(res, out, 400, message);
            return false;
        }
        if (dn_image_from_gray8(img, body, w, h) != DN_OK) {
            fail(res, out, 422, dn_last_error());
            return false;
        }
        return true;
    }
    if (body_len == 0) {
        fail(res, out, 400, "empty body: send a PGM image (P5 or P2), or raw 8-bit pixels with ?w=W&h=H");
        return false;
    }
    if (dn_pgm_parse(img, body, body_len, "request body") != DN_OK) {
        fail(res, out, 422, dn_last_error());
        return false;
    }
    return true;
}

static void predict(api *a, const http_request *req, const uint8_t *body, size_t body_len,
                    http_response *res, strbuf *out)
{
    dn_image img;
    if (!decode_image(req, body, body_len, &img, res, out))
        return;
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
        float probs[10] = {0};
        double ms = 0;
        if (info.has_ink) {
            float x[DN_MNIST_PIXELS];
            memcpy(x, ink, sizeof x);
            dn_normalize(x, DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
            pthread_mutex_lock(&m->lock);
            double t0 = dn_seconds();
            status = dn_net_predict(m->net, x, 1, probs, sizeof probs / sizeof probs[0]);
            ms = (dn_seconds() - t0) * 1000;
            pthread_mutex_unlock(&m->lock);
            if (status != DN_OK) {
                fail(res, out, 500, dn_last_error());
                return;
            }
        }
        int best = 0;
        for (int k = 1; k < 10; k++)
            if (probs[k] > probs[best])
                best = k;
        strbuf_printf(out, "\"%s\":{\"digit\":", m->name);
        if (info.has_ink)
            strbuf_printf(out, "%d", best);
        else
            strbuf_printf(out, "null");
        strbuf_printf(out, ",\"probs\":[");
        for (int k = 0; k < 10; k++)
            strbuf_printf(out, "%s%.6g", k ? "," : "", (double)probs[k]);
        strbuf_printf(out, "],\"ms\":%.3f},", ms);
    }
    strbuf_printf(out, "\"input\":[");
    for (int i = 0; i < DN_MNIST_PIXELS; i++) {
        float v = ink[i] < 0 ? 0 : ink[i] > 1 ? 1 : ink[i];
        strbuf_printf(out, "%s%d", i ? "," : "", (int)lrintf(v * 255));
    }
    strbuf_printf(out, "],\"preprocess_ms\":%.3f,\"inverted\":%s}\n", preprocess_ms,
                  info.inverted ? "true" : "false");
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}

void api_handle(void *ctx, const http_request *req, const uint8_t *body, size_t body_len,
                http_response *res, strbuf *out)
{
    api *a = ctx;
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
            fail(res, out, 405, "POST a drawing here (PGM, or raw 8-bit pixels with ?w=W&h=H)");
        } else {
            predict(a, req, body, body_len, res, out);
        }
    } else {
        fail(res, out, 404, "not found");
    }
}
