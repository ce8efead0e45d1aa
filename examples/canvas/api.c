/* api.c - the endpoints of dn-canvas: serves the compiled-in page, reports the
 * loaded models, and runs a drawing through preprocessing and both nets, and
 * reads it as a number with the CNN. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api.h"
#include "api_inside.h"
#include "assets.h"
#include "digitnet/answer.h"
#include "digitnet/image.h"
#include "digitnet/json.h"
#include "digitnet/number.h"
#include "digitnet/clock.h"
#include "image_body.h"
#include "inside_query.h"
#include "learn.h"

/* Checks that net fits the demo: 1x28x28 in, 10 classes out. */
static bool fits(dn_net *net, const char *path, char *error, size_t cap)
{
    int shape[3];
    dn_net_input_shape(net, shape);
    if (shape[0] != 1 || shape[1] != DN_MNIST_SIDE || shape[2] != DN_MNIST_SIDE || dn_net_num_classes(net) != 10) {
        snprintf(error, cap, "%s: takes %dx%dx%d inputs and %d classes; the demo needs 1x28x28 and 10", path,
                 shape[0], shape[1], shape[2], dn_net_num_classes(net));
        return false;
    }
    return true;
}

/* True when path does not exist but its folder does: a model yet to be
 * trained and saved there. */
static bool can_be_made(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 || errno != ENOENT)
        return false;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return true; /* the current folder */
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool load_model(api_model *m, const char *name, const char *path, unsigned long long version,
                       bool allow_missing, char *error, size_t cap)
{
    *m = (api_model){.name = name, .path = path, .version = version};
    pthread_mutex_init(&m->lock, NULL);
    m->info = dn_model_info_default();
    if (allow_missing && can_be_made(path))
        return true; /* missing: trained in the background (learn.c) */
    if (dn_model_load(&m->net, &m->info, path) != DN_OK) {
        snprintf(error, cap, "%s", dn_last_error());
        m->net = NULL;
        return false;
    }
    if (!fits(m->net, path, error, cap)) {
        dn_net_free(m->net);
        m->net = NULL;
        return false;
    }
    dn_net_set_threads(m->net, 1);
    return true;
}

bool api_init(api *a, const char *cnn_path, const char *mlp_path, bool allow_missing, char *error, size_t cap)
{
    *a = (api){.threshold = -1.0f};
    /* versions start at the wall clock's milliseconds, so that a page left
     * open while the server restarts with other models sees new versions */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    unsigned long long version = (unsigned long long)now.tv_sec * 1000 + (unsigned long long)now.tv_nsec / 1000000;
    bool ok = load_model(&a->models[0], "cnn", cnn_path, version, allow_missing, error, cap) &&
              load_model(&a->models[1], "mlp", mlp_path, version, allow_missing, error, cap);
    if (!ok)
        api_free(a);
    return ok;
}

void api_free(api *a)
{
    for (int i = 0; i < 2; i++) {
        if (!a->models[i].name)
            continue;
        dn_probe_free(a->models[i].probe);
        dn_net_free(a->models[i].net);
        pthread_mutex_destroy(&a->models[i].lock);
    }
    *a = (api){0};
}

void api_install_model(api *a, int i, dn_net *net, const dn_model_info *info)
{
    api_model *m = &a->models[i];
    dn_net_set_threads(net, 1);
    pthread_mutex_lock(&m->lock);
    dn_net *old = m->net;
    dn_probe *old_probe = m->probe; /* a probe of the old net */
    m->net = net;
    m->probe = NULL;
    m->info = *info;
    m->version++;
    pthread_mutex_unlock(&m->lock);
    dn_probe_free(old_probe);
    dn_net_free(old);
}

void api_append_string(strbuf *out, const char *src)
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

void api_fail(http_response *res, strbuf *out, int status, const char *message)
{
    strbuf_reset(out);
    strbuf_printf(out, "{\"error\":");
    api_append_string(out, message);
    strbuf_printf(out, "}\n");
    res->status = status;
    res->content_type = "application/json";
}

/* dn_json_format_number writes '.' in any locale (and nothing in dn-canvas
 * calls setlocale, so strbuf_printf's "%d" stays plain too). */
bool api_append_number(strbuf *out, double value, int decimals)
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
        api_model *m = &a->models[i];
        strbuf_printf(out, "%s\"%s\":", i ? "," : "", m->name);
        pthread_mutex_lock(&m->lock);
        if (m->net)
            api_append_string(out, dn_net_spec(m->net));
        else
            strbuf_printf(out, "null");
        pthread_mutex_unlock(&m->lock);
    }
    strbuf_printf(out, "},\"accuracy\":{");
    for (int i = 0; i < 2; i++) {
        api_model *m = &a->models[i];
        pthread_mutex_lock(&m->lock);
        float acc = m->net ? m->info.test_accuracy : -1;
        pthread_mutex_unlock(&m->lock);
        strbuf_printf(out, "%s\"%s\":", i ? "," : "", m->name);
        if (!(acc >= 0 && api_append_number(out, acc, 4)))
            strbuf_printf(out, "null");
    }
    strbuf_printf(out, "}}\n");
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
}

/* One model's answer for the preprocessed drawing; probs all 0 and ms 0
 * when there is no ink. */
static dn_status run_model(api_model *m, const float *ink, bool has_ink, float probs[10], double *ms,
                           bool *ready, float *threshold)
{
    memset(probs, 0, 10 * sizeof *probs);
    *ms = 0;
    pthread_mutex_lock(&m->lock);
    *ready = m->net != NULL;
    *threshold = m->info.answer_threshold;
    if (!has_ink || !m->net) {
        pthread_mutex_unlock(&m->lock);
        return DN_OK;
    }
    float x[DN_MNIST_PIXELS];
    memcpy(x, ink, sizeof x);
    dn_normalize(x, DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
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
    if (!api_append_number(out, a.score, 6))
        return false;
    strbuf_printf(out, ",\"threshold\":");
    if (!api_append_number(out, a.threshold, 6))
        return false;
    if (a.best >= 0)
        strbuf_printf(out, ",\"best\":%d", a.best);
    else
        strbuf_printf(out, ",\"best\":null");
    strbuf_printf(out, ",\"probs\":[");
    for (int k = 0; k < 10; k++) {
        if (k)
            strbuf_printf(out, ",");
        if (!api_append_number(out, probs[k], 6))
            return false;
    }
    strbuf_printf(out, "],\"ms\":");
    if (!api_append_number(out, ms, 3))
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

/* The drawing, read: its 28x28 for both models and, by the CNN, the number. */
typedef struct drawing {
    dn_image img;
    float ink[DN_MNIST_PIXELS]; /* preprocessed, ink 1, not normalised */
    dn_preprocess_info info;
    double ms;                  /* the time to make ink (and read the number, when read) */
    bool read;                  /* the number was read (the CNN was there) */
    dn_number number;
} drawing;

/* Reads d->img: with the CNN, as a number, which makes the 28x28 from the
 * same ink (dn_number_options.whole); while the CNN is missing, the 28x28
 * alone. */
static dn_status read_drawing(api_model *cnn, float override, drawing *d)
{
    dn_number_options opt = dn_number_options_default();
    opt.whole = d->ink;
    opt.whole_info = &d->info;
    double t0 = dn_seconds();
    pthread_mutex_lock(&cnn->lock);
    d->read = cnn->net != NULL;
    dn_status status = DN_OK;
    if (d->read) {
        opt.input_mean = cnn->info.input_mean;
        opt.input_std = cnn->info.input_std;
        /* a part the model would answer "not a digit" for is marked unsure */
        opt.min_confidence = dn_answer_threshold(cnn->info.answer_threshold, override);
        status = dn_read_number(&d->number, &d->img, cnn->net, &opt);
    }
    pthread_mutex_unlock(&cnn->lock);
    if (!d->read)
        status = dn_preprocess_mnist(&d->img, d->ink, &d->info);
    d->ms = (dn_seconds() - t0) * 1000;
    return status;
}

/* ,"number":{"model":M,"text":T,"parts":[{"kind":K,"digit":D,"prob":P,
 * "box":[x,y,w,h]},...],"ms":T,"width":W,"height":H}: the drawing read as a
 * number by the CNN (boxes in the drawing's pixels, left to right; W x H the
 * drawing's size, so a page showing it scaled can place the boxes);
 * "number":null while the CNN is not there yet. */
static void append_number_reading(strbuf *out, const drawing *d)
{
    if (!d->read) {
        strbuf_printf(out, ",\"number\":null");
        return;
    }
    const dn_number *num = &d->number;
    strbuf_printf(out, ",\"number\":{\"model\":\"cnn\",\"text\":");
    api_append_string(out, num->text);
    strbuf_printf(out, ",\"parts\":[");
    for (int i = 0; i < num->count; i++) {
        const dn_number_part *p = &num->parts[i];
        strbuf_printf(out, "%s{\"kind\":\"%s\",\"digit\":%d,\"prob\":", i ? "," : "", dn_part_kind_name(p->kind),
                      p->digit);
        if (!api_append_number(out, p->probs[p->digit], 6))
            strbuf_printf(out, "null");
        strbuf_printf(out, ",\"box\":[%d,%d,%d,%d]}", p->x, p->y, p->w, p->h);
    }
    strbuf_printf(out, "],\"ms\":");
    api_append_number(out, d->ms, 3);
    strbuf_printf(out, ",\"width\":%d,\"height\":%d}", d->img.width, d->img.height);
}

bool api_read_drawing(const server_request *req, float ink[DN_MNIST_PIXELS], bool *has_ink, bool *inverted,
                      double *preprocess_ms, dn_image *keep, http_response *res, strbuf *out)
{
    dn_image img;
    image_body_error error;
    if (!image_body_decode(req->head->query, req->body, req->body_len, &img, &error)) {
        api_fail(res, out, error.status, error.message);
        return false;
    }
    dn_preprocess_info info;
    double start = dn_seconds();
    dn_status status = dn_preprocess_mnist(&img, ink, &info);
    *preprocess_ms = (dn_seconds() - start) * 1000;
    if (status != DN_OK) {
        dn_image_free(&img);
        api_fail(res, out, 422, dn_last_error());
        return false;
    }
    if (keep)
        *keep = img;
    else
        dn_image_free(&img);
    *has_ink = info.has_ink;
    *inverted = info.inverted;
    return true;
}

/* Both models' answers for the drawing, and the drawing read as a number by the CNN. */
static void predict(api *a, const server_request *req, http_response *res, strbuf *out)
{
    double begin = dn_seconds();
    char message[600];
    inside_options inside;
    if (!inside_query_predict(req->head->query, &inside, message, sizeof message)) {
        api_fail(res, out, 400, message);
        return;
    }
    image_body_error error;
    drawing d = {0};
    if (!image_body_decode(req->head->query, req->body, req->body_len, &d.img, &error)) {
        api_fail(res, out, error.status, error.message);
        return;
    }
    dn_status status = read_drawing(&a->models[0], a->threshold, &d);
    if (status != DN_OK) { /* a picture the preprocessing rejects, or the CNN failing */
        snprintf(message, sizeof message, "%s", dn_last_error());
        api_fail(res, out, status == DN_ERR_ARG ? 422 : 500, message);
        goto done;
    }
    bool has_ink = d.info.has_ink;

    strbuf_printf(out, "{");
    for (int i = 0; i < 2; i++) {
        api_model *m = &a->models[i];
        float probs[10];
        double ms;
        bool ready;
        float model_threshold;
        status = run_model(m, d.ink, has_ink, probs, &ms, &ready, &model_threshold);
        if (status != DN_OK) {
            snprintf(message, sizeof message, "the %s model failed: %s", m->name, dn_last_error());
            api_fail(res, out, 500, message);
            goto done;
        }
        if (!ready) {
            if (a->learn)
                learn_missing_note(a->learn, i, message, sizeof message);
            else
                snprintf(message, sizeof message, "no model file at %s", m->path);
            strbuf_printf(out, "\"%s\":{\"digit\":null,\"ready\":false,\"note\":", m->name);
            api_append_string(out, message);
            strbuf_printf(out, "},");
            continue;
        }
        float threshold = dn_answer_threshold(model_threshold, a->threshold);
        if (!append_model(out, m->name, has_ink, probs, ms, threshold)) {
            snprintf(message, sizeof message, "the %s model gave a number that is not finite", m->name);
            api_fail(res, out, 500, message);
            goto done;
        }
    }
    if (inside.wanted) {
        if (!api_inside_append(out, a->models, 2, d.ink, has_ink, inside.saliency, message, sizeof message)) {
            api_fail(res, out, 500, message);
            goto done;
        }
        strbuf_printf(out, ",");
    }
    append_input(out, d.ink);
    strbuf_printf(out, ",\"preprocess_ms\":");
    api_append_number(out, d.ms, 3);
    strbuf_printf(out, ",\"inverted\":%s", d.info.inverted ? "true" : "false");
    append_number_reading(out, &d);
    strbuf_printf(out, ",\"server_ms\":");
    api_append_number(out, (dn_seconds() - begin) * 1000, 3);
    strbuf_printf(out, "}\n");
    res->status = 200;
    res->content_type = "application/json";
    res->cache_control = "no-store";
done:
    dn_image_free(&d.img);
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
            api_fail(res, out, 405, "this path answers GET and HEAD only");
        } else if (page) {
            res->status = 200;
            res->content_type = page->content_type;
            res->body = page->data;
            res->body_len = page->size;
            res->cache_control = "no-cache";
        } else {
            health(a, res, out);
        }
    } else if (a->learn && learn_handle(a->learn, request, res, out)) {
        return;
    } else if (strcmp(req->path, "/api/weights") == 0) {
        if (!get) {
            res->allow = "GET, HEAD";
            api_fail(res, out, 405, "this path answers GET and HEAD only");
        } else {
            api_inside_weights(a, request, res, out);
        }
    } else if (strcmp(req->path, "/api/predict") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            res->allow = "POST";
            api_fail(res, out, 405, "POST a drawing here (PNG, JPEG or PGM, or raw 8-bit pixels with ?w=W&h=H)");
        } else {
            predict(a, request, res, out);
        }
    } else {
        api_fail(res, out, 404, "not found");
    }
}
