/* test_server_learn.c - training from the page against a real dn-canvas:
 * start, progress events (with conv1's kernels), a second start refused,
 * predictions answering during training (with their latency), cancel,
 * keep (the model file replaced and served) and discard (left alone),
 * hostile parameters, the cap on event streams, GET /api/sample, and
 * missing models: served as "still training" and trained with
 * --train-missing; no data: clear refusals.
 * usage: test_server_learn DN_CANVAS CNN_MODEL MLP_MODEL MNIST_DIR
 * Exits 77 (skipped) without MNIST or the models. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "digitnet/idx.h"
#include "digitnet/model.h"
#include "digitnet/net.h"
#include "proc.h"

/* ---- plumbing ---- */

/* One request on a new connection; the status (-1: none). */
static int http(int port, const char *method, const char *path, const char *body, tc_response *r)
{
    char request[8192];
    size_t len = body ? strlen(body) : 0;
    int n = snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n", method, path);
    if (body)
        n += snprintf(request + n, sizeof request - (size_t)n,
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n", len);
    n += snprintf(request + n, sizeof request - (size_t)n, "\r\n");
    if ((size_t)n + len >= sizeof request)
        return -1;
    memcpy(request + n, body ? body : "", len);
    *r = (tc_response){0};
    return tc_exchange(port, request, (size_t)n + len, r);
}

static int http_status(int port, const char *method, const char *path, const char *body)
{
    tc_response r;
    int status = http(port, method, path, body, &r);
    tc_response_free(&r);
    return status;
}

/* GET /api/train until its "state" is one of `states` ("|"-separated) or
 * timeout seconds pass; the body of the last answer in out. */
static bool wait_state(int port, const char *states, double timeout, char *out, size_t cap)
{
    double end = tc_now() + timeout;
    out[0] = '\0';
    do {
        tc_response r;
        if (http(port, "GET", "/api/train", NULL, &r) == 200 && r.body) {
            snprintf(out, cap, "%s", r.body);
            const char *s = strstr(r.body, "\"state\":\"");
            if (s) {
                s += 9;
                size_t n = strcspn(s, "\"");
                char want[128];
                snprintf(want, sizeof want, "|%s|", states);
                char got[40];
                snprintf(got, sizeof got, "|%.*s|", (int)(n < 30 ? n : 30), s);
                if (strstr(want, got)) {
                    tc_response_free(&r);
                    return true;
                }
            }
        }
        tc_response_free(&r);
        usleep(100 * 1000);
    } while (tc_now() < end);
    return false;
}

/* An open event stream: the socket and what came so far. */
typedef struct watcher {
    int fd;
    char *text;
    size_t len, cap;
} watcher;

static bool watch_open(int port, watcher *w)
{
    *w = (watcher){.fd = tc_connect(port)};
    static const char req[] = "GET /api/train/events HTTP/1.1\r\nHost: x\r\n\r\n";
    return w->fd >= 0 && tc_send(w->fd, req, sizeof req - 1);
}

/* Reads until needle appears after `from`, or timeout; where it starts, or NULL. */
static const char *watch_until(watcher *w, size_t from, const char *needle, double timeout)
{
    double end = tc_now() + timeout;
    for (;;) {
        if (w->text && w->len > from) {
            const char *at = strstr(w->text + from, needle);
            if (at)
                return at;
        }
        double left = end - tc_now();
        if (left <= 0)
            return NULL;
        if (w->len + 65536 + 1 > w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 1 << 17;
            char *text = realloc(w->text, cap);
            if (!text)
                return NULL;
            w->text = text;
            w->cap = cap;
        }
        long n = tc_recv(w->fd, w->text + w->len, 65536, left);
        if (n == 0)
            return NULL;
        if (n > 0) {
            w->len += (size_t)n;
            w->text[w->len] = '\0';
        }
    }
}

static void watch_close(watcher *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->text);
    *w = (watcher){.fd = -1};
}

static bool copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in && out;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out)
        ok = fclose(out) == 0 && ok;
    return ok;
}

static bool same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    int ca, cb;
    while (same && ((ca = getc(fa)) != EOF || (cb = getc(fb)) != EOF))
        same = ca == getc(fb) && ca != EOF;
    if (same)
        same = getc(fb) == EOF;
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* The first MNIST test image (a 7), raw. */
static bool first_digit(const char *dir, uint8_t pixels[784])
{
    char path[4096];
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    dn_idx images = {0};
    bool ok = dn_idx_read(&images, path) == DN_OK && images.type == DN_IDX_U8 && images.ndim == 3 &&
              images.dims[0] >= 1 && images.dims[1] == 28 && images.dims[2] == 28;
    if (ok)
        memcpy(pixels, images.data, 784);
    dn_idx_free(&images);
    return ok;
}

/* POSTs the digit to path; the status, the time in ms, the body's "digit". */
static int post_digit(int port, const char *path, const uint8_t pixels[784], double *ms, int *digit)
{
    char request[2048];
    int n = snprintf(request, sizeof request,
                     "POST %s?w=28&h=28 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 784\r\n\r\n",
                     path);
    memcpy(request + n, pixels, 784);
    tc_response r = {0};
    double t0 = tc_now();
    int status = tc_exchange(port, request, (size_t)n + 784, &r);
    *ms = (tc_now() - t0) * 1000;
    const char *d = r.body ? strstr(r.body, "\"digit\":") : NULL;
    *digit = d ? atoi(d + 8) : -1;
    tc_response_free(&r);
    return status;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- the checks ---- */

static void test_sample(int port)
{
    tc_response r;
    int status = http(port, "GET", "/api/sample?index=0", NULL, &r);
    int commas = 0;
    for (const char *p = r.body ? strstr(r.body, "\"pixels\":[") : NULL; p && *p && *p != ']'; p++)
        commas += *p == ',';
    check(status == 200 && r.body && strstr(r.body, "\"index\":0,\"label\":7,") && commas == 783,
          "GET /api/sample?index=0: test digit 0, labelled 7, 784 pixels (%d)", status);
    tc_response_free(&r);
    status = http(port, "GET", "/api/sample", NULL, &r);
    check(status == 200 && r.body && strstr(r.body, "\"label\":"), "GET /api/sample: a random one (%d)", status);
    tc_response_free(&r);
    const char *bad[] = {"/api/sample?index=-1", "/api/sample?index=10000", "/api/sample?index=abc",
                         "/api/sample?index=", "/api/sample?index=99999999999999999999", "/api/sample?x=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        status = http_status(port, "GET", bad[i], NULL);
        check(status == 400, "GET %s: 400 (%d)", bad[i], status);
    }
    status = http_status(port, "POST", "/api/sample", "");
    check(status == 405, "POST /api/sample: 405 (%d)", status);
}

static void test_hostile(int port)
{
    static const char *const bodies[] = {
        "{\"model\":\"cnn\",\"epochs\":0}", "{\"model\":\"cnn\",\"epochs\":1e9}", "{\"model\":\"cnn\",\"epochs\":1000000000}",
        "{\"model\":\"cnn\",\"epochs\":NaN}", "{\"model\":\"cnn\",\"epochs\":\"3\"}", "{\"model\":\"cnn\",\"epochs\":2.5}",
        "{\"model\":\"cnn\",\"epochs\":-1}", "{\"model\":\"cnn\",\"epochs\":11}", "{\"model\":\"rnn\"}",
        "{\"model\":\"CNN\"}", "{\"epochs\":1}", "{\"model\":\"mlp\",\"model\":\"cnn\"}", "{\"model\":\"mlp\",\"lr\":1}",
        "{\"model\":\"mlp\",\"limit\":10}", "{\"model\":\"mlp\",\"limit\":1e6}", "{model:\"mlp\"}", "{\"model\":\"mlp\"",
        "{\"model\":\"mlp\"} x", "[\"mlp\"]", "", "null", "{\"model\":\"ml\\u0070\"}", "{\"model\":\"mlp\",}",
    };
    int refused = 0, count = (int)(sizeof bodies / sizeof bodies[0]);
    for (int i = 0; i < count; i++) {
        tc_response r;
        int status = http(port, "POST", "/api/train", bodies[i], &r);
        bool ok = status == 400 && r.body && strstr(r.body, "\"error\":");
        refused += ok;
        if (!ok)
            check(false, "POST /api/train %s: 400 with a reason, not %d", bodies[i], status);
        tc_response_free(&r);
    }
    check(refused == count, "%d hostile training parameters (epochs 0, 1e9, NaN, text; unknown model; bad JSON; ...) "
                            "each get 400 with a reason", refused);
    char big[1400];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "{\"model\":\"mlp\"}", 15);
    int status = http_status(port, "POST", "/api/train", big);
    check(status == 413, "a training body of 1.4 KB: 413 (%d)", status);
    check(http_status(port, "PUT", "/api/train", "{}") == 405 && http_status(port, "GET", "/api/train/cancel", NULL) == 405 &&
              http_status(port, "GET", "/api/train/keep", NULL) == 405,
          "wrong methods: 405");
    check(http_status(port, "POST", "/api/train/keep", "") == 409 && http_status(port, "POST", "/api/train/discard", "") == 409 &&
              http_status(port, "POST", "/api/train/cancel", "") == 409,
          "keep, discard and cancel with nothing to act on: 409");
    char state[4096];
    check(wait_state(port, "idle", 1, state, sizeof state), "and nothing started: idle");
}

/* A CNN training on all images: progress with kernels, a second start
 * refused, predictions answering meanwhile, then cancelled. */
static void test_cancel(int port, const uint8_t digit[784], double *median_ms, double *max_ms)
{
    watcher w;
    check(watch_open(port, &w) && watch_until(&w, 0, "event: status", 10) &&
              strstr(w.text, "Content-Type: text/event-stream") && strstr(w.text, "\"state\":\"idle\""),
          "GET /api/train/events: an event stream, the state first");
    tc_response r;
    int status = http(port, "POST", "/api/train", "{\"model\":\"cnn\",\"epochs\":3}", &r);
    check(status == 202 && r.body && strstr(r.body, "\"state\":\"running\""), "POST /api/train cnn: 202 running (%d)",
          status);
    tc_response_free(&r);
    status = http(port, "POST", "/api/train", "{\"model\":\"mlp\"}", &r);
    check(status == 409 && r.body && strstr(r.body, "one at a time"), "a second start: 409 (%d)", status);
    tc_response_free(&r);

    const char *p = watch_until(&w, 0, "event: progress", 60);
    check(p != NULL, "progress events arrive");
    const char *f = p ? watch_until(&w, (size_t)(p - w.text), "\"filters\":{\"count\":32,\"size\":3,\"weights\":[", 30)
                      : NULL;
    check(f != NULL, "with conv1's 32 kernels of 3x3");
    const char *p2 = p ? watch_until(&w, (size_t)(p - w.text) + 10, "event: progress", 30) : NULL;
    check(p2 != NULL, "and more of them as it goes");

    /* Predictions keep answering while it trains. */
    enum { N = 40 };
    double ms[N];
    int ok = 0, right = 0;
    for (int i = 0; i < N; i++) {
        int d;
        ok += post_digit(port, "/api/predict", digit, &ms[i], &d) == 200;
        right += d == 7;
    }
    qsort(ms, N, sizeof ms[0], compare_doubles);
    *median_ms = ms[N / 2];
    *max_ms = ms[N - 1];
    check(ok == N && right == N && ms[N / 2] < 250,
          "during training %d of %d predictions answer 200 and read the 7; median %.1f ms, slowest %.1f ms", ok, N,
          ms[N / 2], ms[N - 1]);
    double t;
    int d;
    status = post_digit(port, "/api/train/predict", digit, &t, &d);
    check(status == 200 && d >= 0 && d <= 9, "POST /api/train/predict: the CNN in training reads it as %d (%d)", d,
          status);

    status = http_status(port, "POST", "/api/train/cancel", "");
    check(status == 202, "POST /api/train/cancel: 202 (%d)", status);
    char state[1 << 16];
    check(wait_state(port, "cancelled", 30, state, sizeof state), "the training ends cancelled");
    check(watch_until(&w, 0, "\"state\":\"cancelled\"", 10) != NULL, "and the stream says so");
    check(http_status(port, "POST", "/api/train/cancel", "") == 409, "cancel again: 409");
    check(http_status(port, "POST", "/api/train/keep", "") == 409, "a cancelled training leaves nothing to keep: 409");
    watch_close(&w);
}

/* Runs an MLP on 3000 images to the end; true when it finished. */
static bool train_small_mlp(int port, char *state, size_t cap)
{
    int status = http_status(port, "POST", "/api/train", "{\"model\":\"mlp\",\"epochs\":1,\"limit\":3000}");
    return status == 202 && wait_state(port, "finished|failed", 120, state, cap) &&
           strstr(state, "\"state\":\"finished\"") && strstr(state, "\"pending\":true");
}

/* The "version" and "data" of GET /api/weights for the MLP's fc1 unit 0
 * (data into out[0..cap)); the version, 0 when there is no answer. */
static unsigned long long weights_version(int port, char *out, size_t cap)
{
    tc_response r;
    unsigned long long version = 0;
    out[0] = '\0';
    if (http(port, "GET", "/api/weights?model=mlp&layer=fc1&map=0", NULL, &r) == 200 && r.body) {
        const char *v = strstr(r.body, "\"version\":"), *d = strstr(r.body, "\"data\":\"");
        version = v ? strtoull(v + 10, NULL, 10) : 0;
        if (d)
            snprintf(out, cap, "%.*s", (int)strcspn(d + 8, "\""), d + 8);
    }
    tc_response_free(&r);
    return version;
}

static void test_keep_discard(int port, const char *mlp_path, const char *scratch, const uint8_t digit[784])
{
    char weights_before[2048], weights_after[2048];
    unsigned long long version_before = weights_version(port, weights_before, sizeof weights_before);
    char state[1 << 16];
    char before[4096];
    snprintf(before, sizeof before, "%s/before.safetensors", scratch);
    copy_file(mlp_path, before);

    check(train_small_mlp(port, state, sizeof state), "an MLP epoch on 3000 images finishes, waiting for keep/discard");
    const char *acc = strstr(state, "\"test_accuracy\":");
    double test_acc = acc ? atof(acc + 16) : -1;
    check(test_acc > 0.7 && test_acc < 1, "its test accuracy is measured: %.4f", test_acc);
    check(http_status(port, "POST", "/api/train/discard", "") == 200, "POST /api/train/discard: 200");
    check(same_file(mlp_path, before), "discarding leaves the model file alone");
    check(http_status(port, "POST", "/api/train/discard", "") == 409, "discard again: 409");
    check(version_before > 0 && weights_version(port, weights_after, sizeof weights_after) == version_before &&
              strcmp(weights_before, weights_after) == 0,
          "after a discard, /api/weights gives the same version (%llu) and weights", version_before);

    check(train_small_mlp(port, state, sizeof state), "trained again");
    tc_response r;
    int status = http(port, "POST", "/api/train/keep", "", &r);
    check(status == 200 && r.body && strstr(r.body, "\"state\":\"kept\""), "POST /api/train/keep: 200 kept (%d)",
          status);
    tc_response_free(&r);
    dn_net *net = NULL;
    dn_model_info info;
    bool loads = dn_model_load(&net, &info, mlp_path) == DN_OK;
    /* 3000 MNIST images and, in proportion to --train-drawn 2000 and
     * --train-others 3000 for 60000: 100 drawn digits and 150 non-digits */
    check(loads && info.epochs == 1 && info.train_images == 3250 && info.test_accuracy > 0.7 &&
              info.answer_threshold > 0 && info.answer_threshold < 1 && !same_file(mlp_path, before),
          "the kept model replaced the file: 1 epoch on %lld images (3000 + 250 drawn), test accuracy %.4f and a "
          "calibrated 'not a digit' threshold %.3f in its metadata",
          loads ? (long long)info.train_images : -1LL, loads ? (double)info.test_accuracy : -1.0,
          loads ? (double)info.answer_threshold : -1.0);
    dn_net_free(net);
    status = http(port, "GET", "/api/health", NULL, &r);
    char want[64];
    snprintf(want, sizeof want, "\"mlp\":%.4f", loads ? (double)info.test_accuracy : -1.0);
    check(status == 200 && r.body && strstr(r.body, want), "and is served: /api/health gives its accuracy (%s)", want);
    tc_response_free(&r);
    double ms;
    int d;
    check(post_digit(port, "/api/predict", digit, &ms, &d) == 200, "predictions go on with the new MLP");
    check(http_status(port, "POST", "/api/train/keep", "") == 409, "keep again: 409");
    unsigned long long version_after = weights_version(port, weights_after, sizeof weights_after);
    check(version_after > version_before && weights_after[0] && strcmp(weights_before, weights_after) != 0,
          "the kept model has a new version for /api/weights (%llu after %llu) and other weights", version_after,
          version_before);
}

static void test_watcher_cap(int port)
{
    enum { EXTRA = 20 };
    watcher w[EXTRA];
    int opened = 0, refused = 0, first_refused = -1;
    for (int i = 0; i < EXTRA; i++) {
        if (!watch_open(port, &w[i])) {
            w[i].fd = -1;
            continue;
        }
        if (watch_until(&w[i], 0, "event: status", 5)) {
            opened++;
        } else if (w[i].text && strstr(w[i].text, "HTTP/1.1 429")) {
            refused++;
            if (first_refused < 0)
                first_refused = i;
        }
    }
    check(opened == 16 && refused == EXTRA - 16 && first_refused == 16,
          "16 event streams at once, the 17th and later get 429 (%d open, %d refused)", opened, refused);
    for (int i = 0; i < EXTRA; i++)
        watch_close(&w[i]);
    usleep(300 * 1000);
    watcher again;
    check(watch_open(port, &again) && watch_until(&again, 0, "event: status", 5),
          "once they are closed, a new one is accepted");
    watch_close(&again);
}

/* Zero models and no data, then a missing MLP trained by --train-missing. */
static void test_missing(const char *exe, const char *cnn, const char *scratch, const uint8_t digit[784],
                         const char *mnist)
{
    char empty_cnn[4096], empty_mlp[4096];
    snprintf(empty_cnn, sizeof empty_cnn, "%s/none/cnn.safetensors", scratch);
    snprintf(empty_mlp, sizeof empty_mlp, "%s/none/mlp.safetensors", scratch);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/none", scratch);
    mkdir(dir, 0777);
    server_proc s;
    char *argv1[] = {(char *)exe, "--port", "0", "--cnn", empty_cnn, "--mlp", empty_mlp, "--data", "/nonexistent-mnist",
                     NULL};
    if (!proc_start(&s, argv1)) {
        check(false, "dn-canvas starts with no model files");
        proc_kill(&s);
        return;
    }
    check(true, "dn-canvas starts and serves with no model at all");
    tc_response r;
    int status = http(s.port, "GET", "/", NULL, &r);
    check(status == 200 && r.body && strstr(r.body, "Watch it learn"), "the page is served (%d)", status);
    tc_response_free(&r);
    status = http(s.port, "GET", "/api/health", NULL, &r);
    check(status == 200 && r.body && strstr(r.body, "\"cnn\":null") && strstr(r.body, "\"mlp\":null"),
          "/api/health: both models null (%d)", status);
    tc_response_free(&r);
    char request[2048];
    int n = snprintf(request, sizeof request,
                     "POST /api/predict?w=28&h=28 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 784\r\n\r\n");
    memcpy(request + n, digit, 784);
    status = tc_exchange(s.port, request, (size_t)n + 784, &r);
    check(status == 200 && r.body && strstr(r.body, "\"cnn\":{\"digit\":null,\"ready\":false,\"note\":\"missing") &&
              strstr(r.body, "\"mlp\":{\"digit\":null,\"ready\":false"),
          "predict without models: 200, each model 'ready':false with a note (%d)", status);
    tc_response_free(&r);
    status = http(s.port, "POST", "/api/train", "{\"model\":\"mlp\"}", &r);
    check(status == 503 && r.body && strstr(r.body, "--data"), "no MNIST: POST /api/train is 503 naming --data (%d)",
          status);
    tc_response_free(&r);
    check(http_status(s.port, "GET", "/api/sample", NULL) == 503, "no MNIST: GET /api/sample is 503");
    int code;
    check(proc_stop(&s, 20, &code), "and it stops cleanly");

    /* The CNN there, the MLP missing: trained in the background and served.
     * The CNN's file does not say its accuracy: the server measures it. */
    char have_cnn[4096];
    snprintf(have_cnn, sizeof have_cnn, "%s/none/cnn.safetensors", scratch);
    dn_net *cnn_net = NULL;
    dn_model_info cnn_info;
    float cnn_accuracy = -1;
    if (dn_model_load(&cnn_net, &cnn_info, cnn) == DN_OK) {
        cnn_accuracy = cnn_info.test_accuracy;
        cnn_info.test_accuracy = -1;
        if (dn_model_save(cnn_net, &cnn_info, have_cnn) != DN_OK)
            cnn_accuracy = -1;
    }
    dn_net_free(cnn_net);
    check(cnn_accuracy > 0.5, "a copy of the CNN without its accuracy in the file (it was %.4f)", (double)cnn_accuracy);
    char *argv2[] = {(char *)exe, "--port", "0", "--cnn", have_cnn, "--mlp", empty_mlp, "--data", (char *)mnist,
                     "--train-missing", "1", "--train-threads", "1", "--train-drawn", "2000",
                     "--train-others", "3000", NULL};
    if (!proc_start(&s, argv2)) {
        check(false, "dn-canvas starts with the MLP missing");
        proc_kill(&s);
        return;
    }
    status = tc_exchange(s.port, request, (size_t)n + 784, &r);
    bool early = status == 200 && r.body && strstr(r.body, "\"cnn\":{\"digit\":7") &&
                 strstr(r.body, "\"mlp\":{\"digit\":null,\"ready\":false,\"note\":\"still training");
    tc_response_free(&r);
    int refused = http_status(s.port, "POST", "/api/train", "{\"model\":\"cnn\"}");
    double end = tc_now() + 180;
    bool served = false;
    while (!served && tc_now() < end) {
        usleep(250 * 1000);
        status = http(s.port, "GET", "/api/health", NULL, &r);
        served = status == 200 && r.body && strstr(r.body, "\"mlp\":\"input 1x28x28; flatten");
        tc_response_free(&r);
    }
    check(early, "while the MLP trains, predict answers the CNN's 7 and 'still training' for the MLP");
    check(refused == 409 || served, "and a start from the page waits for it (409: %d)", refused);
    check(served, "the missing MLP is trained in the background and served");
    status = tc_exchange(s.port, request, (size_t)n + 784, &r);
    check(status == 200 && r.body && strstr(r.body, "\"mlp\":{\"digit\":7"), "then it reads the 7 (%d)", status);
    tc_response_free(&r);
    dn_net *net = NULL;
    dn_model_info info;
    bool saved = dn_model_load(&net, &info, empty_mlp) == DN_OK;
    check(saved && info.epochs == 1 && info.test_accuracy > 0.8, "and saved to its file (test accuracy %.4f)",
          saved ? (double)info.test_accuracy : -1.0);
    dn_net_free(net);
    char want[64];
    snprintf(want, sizeof want, "\"cnn\":%.4f", (double)cnn_accuracy);
    bool measured = false;
    end = tc_now() + 180;
    while (!measured && tc_now() < end) {
        status = http(s.port, "GET", "/api/health", NULL, &r);
        measured = status == 200 && r.body && strstr(r.body, want);
        tc_response_free(&r);
        if (!measured)
            usleep(250 * 1000);
    }
    check(measured, "the CNN's test accuracy is measured by the server on MNIST's test set: %s, as dn-train measured", want);
    check(proc_stop(&s, 30, &code), "it stops cleanly");
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: test_server_learn DN_CANVAS CNN MLP MNIST_DIR\n");
        return 2;
    }
    const char *exe = argv[1], *cnn = argv[2], *mlp = argv[3], *mnist = argv[4];
    signal(SIGPIPE, SIG_IGN);
    uint8_t digit[784];
    struct stat st;
    char train_path[4096];
    snprintf(train_path, sizeof train_path, "%s/train-images-idx3-ubyte", mnist);
    if (!first_digit(mnist, digit) || stat(train_path, &st) != 0 || stat(cnn, &st) != 0 || stat(mlp, &st) != 0) {
        printf("skipped: needs MNIST (raw IDX) in %s and the models %s, %s\n", mnist, cnn, mlp);
        return 77;
    }
    char scratch[] = "/tmp/dn-learn-test-XXXXXX";
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    /* Copies: keeping a trained model replaces the served file. */
    char my_cnn[4096], my_mlp[4096];
    snprintf(my_cnn, sizeof my_cnn, "%s/cnn.safetensors", scratch);
    snprintf(my_mlp, sizeof my_mlp, "%s/mlp.safetensors", scratch);
    if (!copy_file(cnn, my_cnn) || !copy_file(mlp, my_mlp)) {
        check(false, "copying the models to %s", scratch);
        return check_finish();
    }

    server_proc s;
    char *server_argv[] = {(char *)exe, "--port", "0", "--cnn", my_cnn, "--mlp", my_mlp, "--data", (char *)mnist,
                           "--threads", "4", "--train-threads", "1", "--train-drawn", "2000",
                           "--train-others", "3000", NULL};
    if (!proc_start(&s, server_argv)) {
        check(false, "dn-canvas starts and prints its port");
        proc_kill(&s);
        return 1;
    }
    printf("dn-canvas pid %d on port %d\n", (int)s.pid, s.port);
    double median = 0, slowest = 0;
    test_sample(s.port);
    test_hostile(s.port);
    test_cancel(s.port, digit, &median, &slowest);
    test_keep_discard(s.port, my_mlp, scratch, digit);
    test_watcher_cap(s.port);
    int status;
    check(proc_stop(&s, 30, &status), "SIGTERM: dn-canvas exits with status 0 (%d)", status);
    printf("predict latency during a CNN training: median %.1f ms, slowest %.1f ms (40 requests)\n", median, slowest);

    test_missing(exe, cnn, scratch, digit, mnist);

    char cleanup[8192];
    snprintf(cleanup, sizeof cleanup, "rm -rf '%s'", scratch);
    if (system(cleanup) != 0)
        fprintf(stderr, "could not remove %s\n", scratch);
    return check_finish();
}
