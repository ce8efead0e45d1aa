/* test_server_api.c - starts dn-canvas on a free loopback port and checks its
 * API (MNIST digits raw, as PGM, as PNG and drawn on a big canvas), its HTTP limits and
 * error codes, keep-alive, concurrency, and a clean exit on SIGTERM.
 * usage: test_server_api DN_CANVAS CNN_MODEL MLP_MODEL MNIST_DIR
 * Exits 77 (skipped) when the models are missing and MNIST is absent. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "proc.h"
#include "digitnet/gzip.h"
#include "digitnet/idx.h"
#include "digitnet/model.h"
#include "digitnet/net.h"

#define TEST_DIGITS 10
#define SERVER_TIMEOUT "2"


/* Runs dn-canvas with args to completion; its exit status, its stderr in err. */
static int run_cli(const char *exe, const char *const args[], char *err, size_t cap)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return -1;
    const char *argv[16] = {exe};
    int argc = 1;
    for (int i = 0; args[i] && argc < 15; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, STDOUT_FILENO);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(pipefd[0], err + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- images ---- */

typedef struct digits {
    uint8_t pixels[TEST_DIGITS][28 * 28]; /* MNIST: light ink on black */
    int labels[TEST_DIGITS];
} digits;

static bool load_digits(const char *dir, digits *d)
{
    char images_path[4096], labels_path[4096];
    snprintf(images_path, sizeof images_path, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(labels_path, sizeof labels_path, "%s/t10k-labels-idx1-ubyte", dir);
    dn_idx images = {0}, labels = {0};
    bool ok = dn_idx_read(&images, images_path) == DN_OK && dn_idx_read(&labels, labels_path) == DN_OK &&
              images.type == DN_IDX_U8 && images.ndim == 3 && images.dims[1] == 28 &&
              images.dims[2] == 28 && images.dims[0] >= TEST_DIGITS && labels.count >= TEST_DIGITS;
    if (ok) {
        /* The first ten test images: 7 2 1 0 4 1 4 9 5 9. */
        for (int i = 0; i < TEST_DIGITS; i++) {
            memcpy(d->pixels[i], images.data + (size_t)i * 784, 784);
            d->labels[i] = (int)dn_idx_get(&labels, (size_t)i);
        }
    }
    dn_idx_free(&images);
    dn_idx_free(&labels);
    return ok;
}

/* The digit enlarged 6x (nearest neighbour), dark on light, off-centre on a
 * 400x300 canvas. */
static void draw_on_canvas(const uint8_t *digit, uint8_t *canvas)
{
    memset(canvas, 235, 400 * 300);
    for (int y = 0; y < 28 * 6; y++)
        for (int x = 0; x < 28 * 6; x++)
            canvas[(y + 110) * 400 + (x + 210)] = (uint8_t)(235 - digit[(y / 6) * 28 + x / 6] * 215 / 255);
}

/* ---- requests and the JSON they answer ---- */

typedef struct model_answer {
    bool has_digit; /* false: "digit":null */
    int digit;
    int best;         /* the most probable class, -1 for null */
    char reason[32];  /* "" for null */
    double score, threshold;
    double probs[10];
    int prob_count;
} model_answer;

typedef struct prediction {
    int status;
    model_answer cnn, mlp;
    int input[784];
    int input_count;
    bool input_in_range;
} prediction;

static int parse_numbers(const char *p, double *out, int max)
{
    int n = 0;
    while (*p && *p != ']') {
        char *end;
        double v = strtod(p, &end);
        if (end == p)
            return -1;
        if (n < max)
            out[n] = v;
        n++;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return *p == ']' ? n : -1;
}

static void parse_model(const char *json, const char *name, model_answer *m)
{
    *m = (model_answer){.prob_count = -1};
    char key[16];
    snprintf(key, sizeof key, "\"%s\":{", name);
    const char *obj = strstr(json, key);
    if (!obj)
        return;
    const char *digit = strstr(obj, "\"digit\":");
    const char *probs = strstr(obj, "\"probs\":[");
    if (!digit || !probs)
        return;
    digit += strlen("\"digit\":");
    m->has_digit = strncmp(digit, "null", 4) != 0;
    m->digit = m->has_digit ? atoi(digit) : -1;
    m->prob_count = parse_numbers(probs + strlen("\"probs\":["), m->probs, 10);
    const char *best = strstr(obj, "\"best\":"), *reason = strstr(obj, "\"reason\":\"");
    const char *score = strstr(obj, "\"score\":"), *threshold = strstr(obj, "\"threshold\":");
    m->best = best && strncmp(best + 7, "null", 4) != 0 ? atoi(best + 7) : -1;
    m->score = score ? strtod(score + 8, NULL) : -1;
    m->threshold = threshold ? strtod(threshold + 12, NULL) : -1;
    if (reason && reason < probs)
        sscanf(reason + 10, "%31[^\"]", m->reason);
}

/* The answer agrees with itself: best is the argmax of probs and score its
 * probability, and the digit is null exactly when the score is below the
 * threshold ("not a digit") or there is no ink ("no ink"). */
static bool answer_consistent(const model_answer *m)
{
    if (m->prob_count != 10)
        return false;
    if (strcmp(m->reason, "no ink") == 0)
        return !m->has_digit && m->best == -1 && m->score == 0;
    int argmax = 0;
    for (int k = 1; k < 10; k++)
        argmax = m->probs[k] > m->probs[argmax] ? k : argmax;
    bool refused = m->score < m->threshold;
    return m->best == argmax && fabs(m->score - m->probs[argmax]) < 1e-5 && m->has_digit == !refused &&
           (refused ? strcmp(m->reason, "not a digit") == 0 && m->digit == -1
                    : m->reason[0] == '\0' && m->digit == m->best);
}

static void parse_prediction(const tc_response *r, prediction *p)
{
    *p = (prediction){.status = r->status, .input_count = -1};
    if (!r->body)
        return;
    parse_model(r->body, "cnn", &p->cnn);
    parse_model(r->body, "mlp", &p->mlp);
    const char *input = strstr(r->body, "\"input\":[");
    if (input) {
        static __thread double values[1000];
        p->input_count = parse_numbers(input + strlen("\"input\":["), values, 1000);
        p->input_in_range = true;
        for (int i = 0; i < p->input_count && i < 784; i++) {
            p->input[i] = (int)values[i];
            if (values[i] != floor(values[i]) || values[i] < 0 || values[i] > 255)
                p->input_in_range = false;
        }
    }
}

static void predict_body(int port, const char *query, const void *body, size_t len, prediction *p)
{
    size_t cap = len + 512;
    char *request = malloc(cap);
    int head = snprintf(request, cap,
                        "POST /api/predict%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
                        "Connection: close\r\n\r\n",
                        query, len);
    memcpy(request + head, body, len);
    tc_response r = {0};
    tc_exchange(port, request, (size_t)head + len, &r);
    parse_prediction(&r, p);
    tc_response_free(&r);
    free(request);
}

/* An 8-bit RGBA PNG of a 28x28 MNIST digit as drawing programs export one:
 * black ink whose alpha is the digit's intensity on a transparent background
 * (image data in stored DEFLATE blocks). Returns its length (at most 3300). */
static size_t rgba_png(const uint8_t *digit, uint8_t *out)
{
    uint8_t raw[28 * (1 + 28 * 4)];
    size_t n = 0;
    for (int y = 0; y < 28; y++) {
        raw[n++] = 0;
        for (int x = 0; x < 28; x++) {
            raw[n++] = 0, raw[n++] = 0, raw[n++] = 0;
            raw[n++] = digit[y * 28 + x];
        }
    }
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    uint32_t adler = b << 16 | a;
    uint8_t *p = out;
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    p += 8;
    /* chunk(type, data, len): length, type, data, CRC of type and data */
#define PUT32(v) (p[0] = (uint8_t)((v) >> 24), p[1] = (uint8_t)((v) >> 16), p[2] = (uint8_t)((v) >> 8), \
                  p[3] = (uint8_t)(v), p += 4)
    uint8_t ihdr[17] = {'I', 'H', 'D', 'R', 0, 0, 0, 28, 0, 0, 0, 28, 8, 6, 0, 0, 0};
    PUT32(13u);
    memcpy(p, ihdr, 17);
    p += 17;
    PUT32(dn_crc32(0, ihdr, 17));
    size_t zlen = 2 + 5 + n + 4;
    PUT32((uint32_t)zlen);
    uint8_t *type = p;
    memcpy(p, "IDAT\x78\x01\x01", 7);
    p += 7;
    *p++ = (uint8_t)n, *p++ = (uint8_t)(n >> 8), *p++ = (uint8_t)~n, *p++ = (uint8_t)(~n >> 8);
    memcpy(p, raw, n);
    p += n;
    PUT32(adler);
    PUT32(dn_crc32(0, type, (size_t)(p - type)));
    PUT32(0u);
    memcpy(p, "IEND\xae\x42\x60\x82", 8);
    p += 8;
#undef PUT32
    return (size_t)(p - out);
}

static void predict_raw(int port, const uint8_t *pixels, int w, int h, prediction *p)
{
    char query[64];
    snprintf(query, sizeof query, "?w=%d&h=%d", w, h);
    predict_body(port, query, pixels, (size_t)w * h, p);
}

static bool model_shape_ok(const model_answer *m)
{
    if (m->prob_count != 10)
        return false;
    double sum = 0;
    for (int k = 0; k < 10; k++) {
        if (!(m->probs[k] >= 0 && m->probs[k] <= 1))
            return false;
        sum += m->probs[k];
    }
    if (!m->has_digit && strcmp(m->reason, "no ink") == 0)
        return sum == 0;
    int answer = m->has_digit ? m->digit : m->best; /* refused as "not a digit": still the probabilities */
    if (answer < 0 || answer > 9)
        return false;
    for (int k = 0; k < 10; k++)
        if (m->probs[k] > m->probs[answer])
            return false;
    return fabs(sum - 1) < 1e-3;
}

static bool shape_ok(const prediction *p)
{
    return p->status == 200 && model_shape_ok(&p->cnn) && model_shape_ok(&p->mlp) &&
           answer_consistent(&p->cnn) && answer_consistent(&p->mlp) && p->input_count == 784 &&
           p->input_in_range;
}

/* ---- the checks ---- */

static void test_health(int port)
{
    static const char req[] = "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    tc_response r = {0};
    int status = tc_exchange(port, req, sizeof req - 1, &r);
    check(status == 200 && r.body && strstr(r.body, "\"status\":\"ok\"") &&
              strstr(r.body, "\"cnn\":\"input 1x28x28; conv") &&
              strstr(r.body, "\"mlp\":\"input 1x28x28; flatten"),
          "GET /api/health: 200 with both models' specs (%d)", status);
    tc_response_free(&r);
}

static void test_digits(int port, const digits *d)
{
    int cnn_raw = 0, mlp_raw = 0, cnn_pgm = 0, cnn_png = 0, cnn_canvas = 0, mlp_canvas = 0, shapes = 0;
    static uint8_t canvas[400 * 300];
    for (int i = 0; i < TEST_DIGITS; i++) {
        int label = d->labels[i];
        prediction p;
        predict_raw(port, d->pixels[i], 28, 28, &p);
        shapes += shape_ok(&p);
        cnn_raw += p.cnn.best == label;
        mlp_raw += p.mlp.best == label;

        /* The same image as PGM: binary P5 for even i, ASCII P2 for odd. */
        char pgm[8192];
        int n;
        if (i % 2 == 0) {
            n = snprintf(pgm, sizeof pgm, "P5\n# MNIST test image %d\n28 28\n255\n", i);
            memcpy(pgm + n, d->pixels[i], 784);
            n += 784;
        } else {
            n = snprintf(pgm, sizeof pgm, "P2\n28 28\n255\n");
            for (int k = 0; k < 784; k++)
                n += snprintf(pgm + n, sizeof pgm - (size_t)n, "%d%c", d->pixels[i][k], k % 28 == 27 ? '\n' : ' ');
        }
        prediction q;
        predict_body(port, "", pgm, (size_t)n, &q);
        shapes += shape_ok(&q);
        cnn_pgm += q.cnn.best == label;

        static uint8_t png[4096];
        size_t png_len = rgba_png(d->pixels[i], png);
        predict_body(port, "", png, png_len, &q);
        shapes += shape_ok(&q);
        cnn_png += q.cnn.best == label;

        draw_on_canvas(d->pixels[i], canvas);
        prediction c;
        predict_raw(port, canvas, 400, 300, &c);
        shapes += shape_ok(&c);
        cnn_canvas += c.cnn.best == label;
        mlp_canvas += c.mlp.best == label;
    }
    check(shapes == 4 * TEST_DIGITS,
          "JSON shape (both models, 10 probs summing to 1, digit, reason, score, best consistent, 784 inputs "
          "0-255): %d/%d",
          shapes, 4 * TEST_DIGITS);
    check(cnn_raw >= 9, "CNN on 28x28 raw MNIST digits: %d/%d right", cnn_raw, TEST_DIGITS);
    check(mlp_raw >= 8, "MLP on 28x28 raw MNIST digits: %d/%d right", mlp_raw, TEST_DIGITS);
    check(cnn_pgm >= 9, "CNN on the same digits as PGM (P5 and P2): %d/%d right", cnn_pgm, TEST_DIGITS);
    check(cnn_png >= 9, "CNN on the same digits as RGBA PNGs (black ink, transparent paper): %d/%d right", cnn_png,
          TEST_DIGITS);
    check(cnn_canvas >= 9, "CNN on the digits drawn 6x, dark on light, off-centre on 400x300: %d/%d",
          cnn_canvas, TEST_DIGITS);
    check(mlp_canvas >= 7, "MLP on the same canvases: %d/%d", mlp_canvas, TEST_DIGITS);
}

static void test_blank(int port)
{
    static uint8_t canvas[400 * 300];
    memset(canvas, 240, sizeof canvas);
    prediction p;
    predict_raw(port, canvas, 400, 300, &p);
    int ink = 0;
    for (int i = 0; i < p.input_count && i < 784; i++)
        ink += p.input[i];
    check(shape_ok(&p) && !p.cnn.has_digit && !p.mlp.has_digit && ink == 0 &&
              strcmp(p.cnn.reason, "no ink") == 0 && strcmp(p.mlp.reason, "no ink") == 0,
          "blank canvas: 200, \"digit\":null and \"reason\":\"no ink\" for both, probs 0, input all 0 (status %d)",
          p.status);
}

/* The "number" object of a predict answer: its text, how many parts, the x
 * of each part's box (left to right) and the picture's size (-1 if absent). */
typedef struct number_answer {
    int status;
    char text[40];
    int parts;
    int x[8];
    int width, height;
} number_answer;

static void predict_number(int port, const uint8_t *canvas, int w, int h, number_answer *n)
{
    char query[64], *request;
    size_t len = (size_t)w * h, cap = len + 512;
    snprintf(query, sizeof query, "?w=%d&h=%d", w, h);
    request = malloc(cap);
    int head = snprintf(request, cap,
                        "POST /api/predict%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
                        "Connection: close\r\n\r\n",
                        query, len);
    memcpy(request + head, canvas, len);
    tc_response r = {0};
    tc_exchange(port, request, (size_t)head + len, &r);
    *n = (number_answer){.status = r.status, .parts = -1, .width = -1, .height = -1};
    const char *num = r.body ? strstr(r.body, "\"number\":{\"model\":\"cnn\",\"text\":\"") : NULL;
    if (num) {
        num += strlen("\"number\":{\"model\":\"cnn\",\"text\":\"");
        size_t k = 0;
        while (num[k] >= '0' && num[k] <= '9' && k + 1 < sizeof n->text) {
            n->text[k] = num[k];
            k++;
        }
        n->text[k] = '\0';
        n->parts = 0;
        for (const char *b = strstr(num, "\"box\":["); b; b = strstr(b + 1, "\"box\":["))
            if (n->parts < 8)
                n->x[n->parts++] = atoi(b + strlen("\"box\":["));
        const char *size = strstr(num, "\"width\":");
        if (size)
            n->width = atoi(size + strlen("\"width\":"));
        size = strstr(num, "\"height\":");
        if (size)
            n->height = atoi(size + strlen("\"height\":"));
    }
    tc_response_free(&r);
    free(request);
}

/* Two MNIST digits drawn 4x apart on a 400x300 canvas (dark on light): the
 * answer reads them as a two-digit number, boxes left to right; one digit
 * alone is a one-part number agreeing with the CNN's single answer. */
static void test_number(int port, const digits *d)
{
    static uint8_t canvas[400 * 300];
    int right = 0, ordered = 0, pairs = 0, sized = 0;
    for (int i = 0; i + 1 < TEST_DIGITS; i += 2) {
        memset(canvas, 235, sizeof canvas);
        for (int k = 0; k < 2; k++)
            for (int y = 0; y < 28 * 4; y++)
                for (int x = 0; x < 28 * 4; x++) {
                    int v = d->pixels[i + k][(y / 4) * 28 + x / 4];
                    canvas[(y + 80 + 20 * k) * 400 + (x + 50 + 170 * k)] = (uint8_t)(235 - v * 215 / 255);
                }
        number_answer n;
        predict_number(port, canvas, 400, 300, &n);
        char want[3] = {(char)('0' + d->labels[i]), (char)('0' + d->labels[i + 1]), 0};
        pairs++;
        right += n.status == 200 && strcmp(n.text, want) == 0;
        ordered += n.parts == 2 && n.x[0] < 50 + 112 && n.x[1] >= 50 + 170;
        sized += n.width == 400 && n.height == 300;
    }
    check(ordered == pairs, "two digits apart: two parts, boxes left to right (%d/%d)", ordered, pairs);
    check(sized == pairs, "the number gives the picture's size, 400x300, for its boxes (%d/%d)", sized, pairs);
    check(right >= pairs - 1, "two digits apart read as the number (%d/%d)", right, pairs);

    draw_on_canvas(d->pixels[0], canvas);
    number_answer n;
    predict_number(port, canvas, 400, 300, &n);
    prediction p;
    predict_raw(port, canvas, 400, 300, &p);
    check(n.status == 200 && n.parts == 1 && n.text[0] == '0' + p.cnn.digit && n.text[1] == 0,
          "one digit: a one-part number, the CNN's digit (\"%s\", %d)", n.text, p.cnn.digit);
    memset(canvas, 235, sizeof canvas);
    predict_number(port, canvas, 400, 300, &n);
    check(n.status == 200 && n.parts == 0 && n.text[0] == 0, "blank: an empty number (%d parts)", n.parts);
}

typedef struct expectation {
    const char *what;
    const char *request;
    int status;
    const char *allow; /* expected Allow header, or NULL */
} expectation;

static void test_errors(int port)
{
    static const expectation cases[] = {
        {"unknown path", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, NULL},
        {"path traversal", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 404, NULL},
        {"encoded traversal", "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 404, NULL},
        {"file path", "GET /examples/canvas/page/app.js HTTP/1.1\r\nHost: x\r\n\r\n", 404, NULL},
        {"POST to the page", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, "GET, HEAD"},
        {"GET /api/predict", "GET /api/predict HTTP/1.1\r\nHost: x\r\n\r\n", 405, "POST"},
        {"DELETE /api/health", "DELETE /api/health HTTP/1.1\r\nHost: x\r\n\r\n", 405, "GET, HEAD"},
        {"garbage request line", "HELLO\r\n\r\n", 400, NULL},
        {"absolute-form target", "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL},
        {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 400, NULL},
        {"header without colon", "GET / HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n", 400, NULL},
        {"folded header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n", 400, NULL},
        {"bad Content-Length", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 400, NULL},
        {"negative Content-Length", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, NULL},
        {"conflicting Content-Length",
         "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400, NULL},
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, NULL},
        {"POST without Content-Length", "POST /api/predict HTTP/1.1\r\nHost: x\r\n\r\n", 411, NULL},
        {"chunked body",
         "POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", 501, NULL},
        {"Content-Length over 2 MiB", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2097153\r\n\r\n", 413, NULL},
        {"huge Content-Length",
         "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413, NULL},
        {"empty body", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 400, NULL},
        {"w*h != body length", "POST /api/predict?w=4&h=4 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde", 400, NULL},
        {"w=0", "POST /api/predict?w=0&h=4 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 400, NULL},
        {"w not a number", "POST /api/predict?w=abc&h=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 400, NULL},
        {"w without h", "POST /api/predict?w=3 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 400, NULL},
        {"w too large", "POST /api/predict?w=99999999999&h=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na", 400, NULL},
        {"body not an image", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 422, NULL},
        {"colour PPM", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nP6 1 1 255\n", 422, NULL},
        {"truncated PGM", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\n\r\nP5 4 4 255\nabc", 422, NULL},
        {"PGM of 0 width", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nP5 0 4 255\n", 422, NULL},
        {"JPEG", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n\xff\xd8\xff\xe0", 422, NULL},
        {"Expect: something", "GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417, NULL},
    };
    int n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) {
        tc_response r = {0};
        int status = tc_exchange(port, cases[i].request, strlen(cases[i].request), &r);
        char allow[64] = "";
        bool allow_ok = !cases[i].allow ||
                        (tc_header(&r, "Allow", allow, sizeof allow) && strcmp(allow, cases[i].allow) == 0);
        bool json = r.body && strncmp(r.body, "{\"error\":\"", 10) == 0;
        check(status == cases[i].status && allow_ok && json, "%s: %d (got %d%s%s)%s", cases[i].what,
              cases[i].status, status, *allow ? ", Allow: " : "", allow, json ? "" : " [no JSON error]");
        tc_response_free(&r);
    }

    /* A PNG whose IHDR fails its CRC (the bytes hold NULs, so not in the table). */
    static const char bad_png[] = "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\n\r\n"
                                  "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\0\0\0\0\0\0\0\0";
    tc_response bad = {0};
    int bad_status = tc_exchange(port, bad_png, sizeof bad_png - 1, &bad);
    check(bad_status == 422 && bad.body && strstr(bad.body, "CRC mismatch"), "PNG with a bad CRC: 422 (got %d: %s)",
          bad_status, bad.body ? bad.body : "");
    tc_response_free(&bad);

    /* 431: a 9000-byte header. */
    size_t big = 9100;
    char *request = malloc(big + 64);
    int len = snprintf(request, big + 64, "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: ");
    memset(request + len, 'a', 9000);
    len += 9000;
    len += snprintf(request + len, 64, "\r\n\r\n");
    tc_response r = {0};
    int status = tc_exchange(port, request, (size_t)len, &r);
    check(status == 431, "9 KB of headers: 431 (got %d)", status);
    tc_response_free(&r);
    free(request);

    /* 413 is decided from Content-Length alone: the body is never sent. */
    int fd = tc_connect(port);
    static const char huge[] = "POST /api/predict?w=2000&h=2000 HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n";
    double t0 = tc_now();
    status = fd >= 0 && tc_send(fd, huge, sizeof huge - 1) ? tc_read_response(fd, &r, false, 10) : -1;
    check(status == 413 && tc_now() - t0 < 1.5 && tc_closed(fd, 5),
          "413 answered before the body arrives, then the connection closes (%d)", status);
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);

    /* HEAD: the GET's headers, no body. */
    static const char head[] = "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    tc_response rh = {0}, rg = {0};
    int sh = tc_exchange(port, head, sizeof head - 1, &rh);
    int sg = tc_exchange(port, get, sizeof get - 1, &rg);
    char lh[32] = "", lg[32] = "";
    tc_header(&rh, "Content-Length", lh, sizeof lh);
    tc_header(&rg, "Content-Length", lg, sizeof lg);
    check(sh == 200 && sg == 200 && rh.body_len == 0 && strcmp(lh, lg) == 0 && (size_t)atol(lg) == rg.body_len &&
              rg.body && strstr(rg.body, "<canvas"),
          "HEAD / gives GET's Content-Length (%s) without a body; GET / is the page", lg);
    tc_response_free(&rh);
    tc_response_free(&rg);
    static const char *paths[] = {"/style.css", "/app.js", "/index.html"};
    for (int i = 0; i < 3; i++) {
        char req[128];
        int n2 = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", paths[i]);
        int s = tc_exchange(port, req, (size_t)n2, &r);
        char type[64] = "";
        tc_header(&r, "Content-Type", type, sizeof type);
        check(s == 200 && r.body_len > 100, "GET %s (HTTP/1.0): 200, %zu bytes, %s", paths[i], r.body_len, type);
        tc_response_free(&r);
    }
}

static void test_timeouts(int port)
{
    tc_response r = {0};
    int fd = tc_connect(port);
    static const char partial[] = "GET /api/health HTTP/1.1\r\nHost: x\r\n";
    double t0 = tc_now();
    int status = fd >= 0 && tc_send(fd, partial, sizeof partial - 1) ? tc_read_response(fd, &r, false, 15) : -1;
    double waited = tc_now() - t0;
    check(status == 408 && waited > 1 && waited < 8 && tc_closed(fd, 5),
          "unfinished head: 408 after the %ss timeout, then closed (%d after %.1fs)", SERVER_TIMEOUT, status, waited);
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);

    fd = tc_connect(port);
    static const char short_body[] = "POST /api/predict?w=10&h=10 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789";
    status = fd >= 0 && tc_send(fd, short_body, sizeof short_body - 1) ? tc_read_response(fd, &r, false, 15) : -1;
    check(status == 408, "body shorter than Content-Length: 408 (%d)", status);
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);

    fd = tc_connect(port);
    t0 = tc_now();
    bool closed = fd >= 0 && tc_closed(fd, 15);
    waited = tc_now() - t0;
    check(closed && waited < 8, "a connection that sends nothing is closed without a response (%.1fs)", waited);
    if (fd >= 0)
        close(fd);
}

static void test_garbage(int port)
{
    uint64_t state = 12345;
    int answered = 0, total = 20;
    for (int i = 0; i < total; i++) {
        uint8_t junk[2048];
        size_t len = 1 + (size_t)(i * 97) % sizeof junk;
        for (size_t k = 0; k < len; k++) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            junk[k] = (uint8_t)(state >> 56);
        }
        if (i % 2) /* half of them end like a head, so the parser sees all of it */
            memcpy(junk + (len > 4 ? len - 4 : 0), "\r\n\r\n", len > 4 ? 4 : len);
        tc_response r = {0};
        int status = tc_exchange(port, junk, len, &r);
        answered += status == -1 || status == 400 || status == 408 || status == 431 || status == 505;
        tc_response_free(&r);
    }
    check(answered == total, "random bytes: each answered 400/431/505 or closed (%d/%d)", answered, total);
}

static void test_byte_by_byte(int port, const digits *d)
{
    static const char req[] = "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = tc_connect(port);
    bool sent = fd >= 0;
    for (size_t i = 0; sent && i < sizeof req - 1; i++) {
        sent = tc_send(fd, req + i, 1);
        usleep(2000);
    }
    tc_response r = {0};
    int status = sent ? tc_read_response(fd, &r, false, 10) : -1;
    check(status == 200 && r.body && strstr(r.body, "\"ok\""), "request written 1 byte at a time: 200 (%d)", status);
    tc_response_free(&r);

    /* Then a prediction on the same connection: head and body bytewise. */
    char head[256];
    int n = snprintf(head, sizeof head, "POST /api/predict?w=28&h=28 HTTP/1.1\r\nHost: x\r\nContent-Length: 784\r\n\r\n");
    for (int i = 0; sent && i < n; i++)
        sent = tc_send(fd, head + i, 1);
    for (int i = 0; sent && i < 784; i++)
        sent = tc_send(fd, d->pixels[0] + i, 1);
    status = sent ? tc_read_response(fd, &r, false, 10) : -1;
    prediction p;
    parse_prediction(&r, &p);
    check(shape_ok(&p) && p.cnn.digit == d->labels[0], "prediction sent 1 byte at a time on a kept-alive connection: %d, digit %d",
          status, p.cnn.digit);
    tc_response_free(&r);
    if (fd >= 0)
        close(fd);
}

static void test_keep_alive(int port, const digits *d)
{
    int fd = tc_connect(port);
    int good = 0, rounds = 6;
    for (int i = 0; i < rounds && fd >= 0; i++) {
        char req[2048];
        int n;
        bool is_head = i == 2;
        if (i % 2 == 1) {
            n = snprintf(req, sizeof req, "POST /api/predict?w=28&h=28 HTTP/1.1\r\nHost: x\r\nContent-Length: 784\r\n\r\n");
            memcpy(req + n, d->pixels[i], 784);
            n += 784;
        } else {
            n = snprintf(req, sizeof req, "%s / HTTP/1.1\r\nHost: x\r\n\r\n", is_head ? "HEAD" : "GET");
        }
        tc_response r = {0};
        int status = tc_send(fd, req, (size_t)n) ? tc_read_response(fd, &r, is_head, 10) : -1;
        char conn[32] = "";
        tc_header(&r, "Connection", conn, sizeof conn);
        prediction p;
        parse_prediction(&r, &p);
        if (status == 200 && strcmp(conn, "keep-alive") == 0 && (i % 2 == 0 || p.cnn.digit == d->labels[i]))
            good++;
        tc_response_free(&r);
    }
    check(good == rounds, "keep-alive: %d/%d requests answered on one connection", good, rounds);

    /* Two requests in one write (pipelined), then one with Connection: close. */
    static const char two[] = "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET /app.js HTTP/1.1\r\nHost: x\r\n\r\n";
    tc_response a = {0}, b = {0};
    int sa = fd >= 0 && tc_send(fd, two, sizeof two - 1) ? tc_read_response(fd, &a, false, 10) : -1;
    int sb = sa > 0 ? tc_read_response(fd, &b, false, 10) : -1;
    check(sa == 200 && sb == 200 && a.body && strstr(a.body, "\"ok\"") && b.body_len > 100,
          "two pipelined requests: both answered in order (%d, %d)", sa, sb);
    tc_response_free(&a);
    if (sa > 0)
        tc_response_free(&b);
    static const char last[] = "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int sc = fd >= 0 && tc_send(fd, last, sizeof last - 1) ? tc_read_response(fd, &a, false, 10) : -1;
    char conn[32] = "";
    tc_header(&a, "Connection", conn, sizeof conn);
    check(sc == 200 && strcmp(conn, "close") == 0 && tc_closed(fd, 5),
          "Connection: close is honoured (%d, Connection: %s)", sc, conn);
    tc_response_free(&a);
    if (fd >= 0)
        close(fd);

    fd = tc_connect(port);
    static const char old[] = "GET /api/health HTTP/1.0\r\n\r\n";
    int so = fd >= 0 && tc_send(fd, old, sizeof old - 1) ? tc_read_response(fd, &a, false, 10) : -1;
    check(so == 200 && tc_closed(fd, 5), "HTTP/1.0 closes by default (%d)", so);
    tc_response_free(&a);
    if (fd >= 0)
        close(fd);
}

typedef struct client_job {
    int port;
    const digits *d;
    const int *sequential; /* the CNN's answer for each digit, one request at a time */
    int index;
    int right, answered;
} client_job;

static void *client_main(void *arg)
{
    client_job *job = arg;
    for (int i = 0; i < 8; i++) {
        int k = (job->index + i) % TEST_DIGITS;
        prediction p;
        predict_raw(job->port, job->d->pixels[k], 28, 28, &p);
        job->answered += shape_ok(&p);
        job->right += p.cnn.best == job->sequential[k];
    }
    return NULL;
}

static void test_concurrent(int port, const digits *d)
{
    enum { CLIENTS = 10 };
    int sequential[TEST_DIGITS];
    for (int k = 0; k < TEST_DIGITS; k++) {
        prediction p;
        predict_raw(port, d->pixels[k], 28, 28, &p);
        sequential[k] = p.cnn.best;
    }
    client_job jobs[CLIENTS];
    pthread_t threads[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        jobs[i] = (client_job){.port = port, .d = d, .sequential = sequential, .index = i};
        pthread_create(&threads[i], NULL, client_main, &jobs[i]);
    }
    /* Meanwhile, idle keep-alive connections must not starve them. */
    int idle[3];
    for (int i = 0; i < 3; i++) {
        idle[i] = tc_connect(port);
        static const char req[] = "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n";
        tc_response r = {0};
        if (idle[i] >= 0 && tc_send(idle[i], req, sizeof req - 1))
            tc_read_response(idle[i], &r, false, 10);
        tc_response_free(&r);
    }
    int answered = 0, right = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        answered += jobs[i].answered;
        right += jobs[i].right;
    }
    for (int i = 0; i < 3; i++)
        if (idle[i] >= 0)
            close(idle[i]);
    check(answered == CLIENTS * 8, "%d concurrent clients: %d/%d predictions answered", CLIENTS, answered, CLIENTS * 8);
    check(right == answered && answered > 0, "concurrent answers match the sequential ones (%d/%d right)", right, answered);
}

/* An MLP whose every parameter is 1e30 and whose inputs are not centred:
 * a valid, finite file, but any drawing with ink overflows its logits. */
static bool write_overflowing_model(const char *path)
{
    dn_net *net;
    if (dn_net_new(&net, "mlp", 1) != DN_OK)
        return false;
    float *params = dn_net_params(net);
    for (size_t i = 0; i < dn_net_param_count(net); i++)
        params[i] = 1e30f;
    dn_model_info info = dn_model_info_default();
    info.input_mean = 0;
    info.input_std = 1;
    bool ok = dn_model_save(net, &info, path) == DN_OK;
    dn_net_free(net);
    return ok;
}

static void test_non_finite_model(const char *exe, const char *cnn, const digits *d)
{
    char dir[] = "/tmp/dn-canvas-test-XXXXXX", path[64];
    if (!mkdtemp(dir)) {
        check(false, "a temporary directory for the overflowing model");
        return;
    }
    snprintf(path, sizeof path, "%s/mlp-1e30.safetensors", dir);
    server_proc s = {.pid = -1};
    char *argv[] = {(char *)exe, "--port", "0", "--cnn", (char *)cnn, "--mlp", path, NULL};
    bool started = write_overflowing_model(path) && proc_start(&s, argv);
    prediction p = {.status = -1};
    tc_response r = {0};
    if (started) {
        char query[32] = "?w=28&h=28", request[2048];
        int n = snprintf(request, sizeof request,
                         "POST /api/predict%s HTTP/1.1\r\nHost: x\r\nContent-Length: 784\r\n"
                         "Connection: close\r\n\r\n", query);
        memcpy(request + n, d->pixels[0], 784);
        p.status = tc_exchange(s.port, request, (size_t)n + 784, &r);
    }
    /* {"error":"..."} and nothing else: no number at all, so none that is NaN. */
    size_t len = r.body ? strlen(r.body) : 0;
    bool json_error = len > 13 && strncmp(r.body, "{\"error\":\"", 10) == 0 &&
                      strcmp(r.body + len - 3, "\"}\n") == 0 && strstr(r.body, "mlp");
    check(started && p.status == 500 && json_error,
          "a model whose outputs overflow: 500 with a JSON error naming it, never a 200 with NaN (%d: %.120s)",
          p.status, r.body ? r.body : "");
    tc_response_free(&r);
    static const char health[] = "GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    int status = started ? tc_exchange(s.port, health, sizeof health - 1, &r) : -1;
    check(status == 200, "and the server goes on serving (%d)", status);
    tc_response_free(&r);
    proc_stop(&s, 20, NULL);
    unlink(path);
    rmdir(dir);
}

static void test_cli(const char *exe, const char *cnn, const char *mlp, const char *mnist_dir)
{
    char err[4096];
    int status = run_cli(exe, (const char *[]){"--bogus", NULL}, err, sizeof err);
    check(status == 2 && strstr(err, "unknown option '--bogus'"), "unknown flag: exit 2, one-line error (%d)", status);
    status = run_cli(exe, (const char *[]){"--port", "70000", NULL}, err, sizeof err);
    check(status == 2 && strstr(err, "--port"), "--port 70000: exit 2 (%d)", status);
    status = run_cli(exe, (const char *[]){"--threshold", "1.5", NULL}, err, sizeof err);
    check(status == 2 && strstr(err, "--threshold"), "--threshold 1.5: exit 2 (%d)", status);
    status = run_cli(exe, (const char *[]){"--threshold", "nan", NULL}, err, sizeof err);
    check(status == 2 && strstr(err, "--threshold"), "--threshold nan: exit 2 (%d)", status);
    status = run_cli(exe, (const char *[]){"--threads", "x", NULL}, err, sizeof err);
    check(status == 2 && strstr(err, "--threads"), "--threads x: exit 2 (%d)", status);
    status = run_cli(exe, (const char *[]){"--cnn", "/nonexistent/cnn.safetensors", "--mlp", mlp, NULL}, err, sizeof err);
    check(status == 1 && strstr(err, "/nonexistent/cnn.safetensors"), "missing model file: exit 1 naming it (%d)", status);
    char labels[4096];
    snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte", mnist_dir);
    status = run_cli(exe, (const char *[]){"--cnn", cnn, "--mlp", labels, NULL}, err, sizeof err);
    check(status == 1 && strstr(err, "t10k-labels"), "a file that is not a model: exit 1 (%d)", status);
    status = run_cli(exe, (const char *[]){"--help", NULL}, err, sizeof err);
    check(status == 0, "--help: exit 0 (%d)", status);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: test_server_api DN_CANVAS CNN MLP MNIST_DIR\n");
        return 2;
    }
    const char *exe = argv[1], *cnn = argv[2], *mlp = argv[3], *mnist_dir = argv[4];
    signal(SIGPIPE, SIG_IGN);
    digits d;
    bool have_mnist = load_digits(mnist_dir, &d);
    struct stat st;
    bool have_models = stat(cnn, &st) == 0 && stat(mlp, &st) == 0;
    if (!have_mnist || !have_models) {
        printf("skipped: needs the MNIST test set in %s and models %s, %s "
               "(bash datasets/fetch-mnist.sh; the canvas_train_models test trains them)\n",
               mnist_dir, cnn, mlp);
        return have_mnist ? 1 : 77;
    }

    test_cli(exe, cnn, mlp, mnist_dir);
    test_non_finite_model(exe, cnn, &d);

    server_proc s;
    char *server_argv[] = {(char *)exe, "--port", "0", "--cnn", (char *)cnn, "--mlp", (char *)mlp,
                           "--threads", "4", "--timeout", SERVER_TIMEOUT, NULL};
    if (!proc_start(&s, server_argv)) {
        check(false, "dn-canvas starts and prints its port");
        proc_kill(&s);
        return 1;
    }
    printf("dn-canvas pid %d on port %d\n", (int)s.pid, s.port);

    test_health(s.port);
    test_digits(s.port, &d);
    test_blank(s.port);
    test_number(s.port, &d);
    test_errors(s.port);
    test_garbage(s.port);
    test_byte_by_byte(s.port, &d);
    test_keep_alive(s.port, &d);
    test_concurrent(s.port, &d);
    test_timeouts(s.port);
    test_health(s.port);

    int status;
    bool clean = proc_stop(&s, 20, &status);
    check(clean, "SIGTERM: dn-canvas exits with status 0 (%d)", status);

    return check_finish();
}
