/* why_cnn.c - the measurements behind docs/why-cnn.md: for each model, its
 * MNIST test accuracy and mistakes; its accuracy on test digits moved,
 * scaled, rotated, thickened, thinned and drawn on a canvas, each given to it
 * shrunk to 28x28 only and through dn_preprocess_mnist; its saliency maps and
 * how much of them lies on the strokes; whether its first hidden layer moves
 * with the digit; its parameters and conv1's filters. Run by hand, by
 * docs/figures/make_figures.py:
 *
 *   build/tests/why_cnn NAME=MODEL.safetensors ... [--data DIR] [--count N]
 *       [--saliency N] [--threads N] [--out FILE]
 *
 * --count: test digits per rendering (default 1000); --saliency: test digits
 * for the saliency and equivariance figures (default 1000); --threads: for
 * the models (default 1: results are the same for any count, and on a busy
 * machine one thread is the quickest). Writes one JSON object to FILE
 * (default stdout). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digit_canvas.h"
#include "digitnet.h"

enum { CANVAS = 280, PX = CANVAS / 28, MAX_MODELS = 8, BATCH = 250, SHOW = 8, SHOW_SHIFT = 4, EQ_SHIFT = 3 };

/* One way of drawing the test digits. value: the shift in pixels of the 28x28
 * image, the scale factor, the angle or the pen in 28x28 pixels. */
typedef struct condition {
    char group[16], name[40];
    double value;
    int sx, sy; /* shift: direction */
    digit_pose pose;
} condition;

typedef struct model {
    const char *name, *path;
    dn_net *net;
    dn_model_info info;
    dn_probe *probe;
} model;

typedef struct run {
    model models[MAX_MODELS];
    int n_models;
    int count, saliency;
    dn_dataset test;  /* pixels in [0,1] */
    uint8_t *digits;  /* the same as bytes, for digit_render */
    FILE *out;
} run;

static void die(const char *what)
{
    fprintf(stderr, "why_cnn: %s: %s\n", what, dn_last_error());
    exit(1);
}

static int conditions_make(condition *c, int cap)
{
    int n = 0;
    static const struct {
        const char *name;
        int sx, sy;
    } dirs[] = {{"right", 1, 0}, {"left", -1, 0}, {"down", 0, 1}, {"up", 0, -1}};
    c[n++] = (condition){"shift", "as in MNIST", 0, 0, 0, {CANVAS, 0, 0, 0, 0, false}};
    for (int k = 1; k <= 8; k++)
        for (int d = 0; d < 4; d++) {
            condition *x = &c[n++];
            *x = (condition){"shift", "", k, dirs[d].sx, dirs[d].sy, {CANVAS, k * PX * dirs[d].sx, k * PX * dirs[d].sy, 0, 0, false}};
            snprintf(x->name, sizeof x->name, "%d px %s", k, dirs[d].name);
        }
    static const double scales[] = {0.5, 0.7, 0.85, 1.15, 1.3};
    for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++) {
        condition *x = &c[n++];
        *x = (condition){"scale", "", scales[i], 0, 0, {CANVAS * scales[i], 0, 0, 0, 0, false}};
        snprintf(x->name, sizeof x->name, "scaled x%.2f", scales[i]);
    }
    static const double angles[] = {-45, -30, -15, 15, 30, 45};
    for (size_t i = 0; i < sizeof angles / sizeof angles[0]; i++) {
        condition *x = &c[n++];
        *x = (condition){"rotate", "", angles[i], 0, 0, {CANVAS, 0, 0, angles[i], 0, false}};
        snprintf(x->name, sizeof x->name, "rotated %+.0f deg", angles[i]);
    }
    /* pen in canvas pixels per side; PX canvas pixels are one MNIST pixel */
    static const int pens[] = {PX, 2 * PX, -PX / 2};
    for (size_t i = 0; i < sizeof pens / sizeof pens[0]; i++) {
        condition *x = &c[n++];
        *x = (condition){"pen", "", (double)pens[i] / PX, 0, 0, {CANVAS, 0, 0, 0, pens[i], false}};
        snprintf(x->name, sizeof x->name, "%s by %.1f px a side", pens[i] > 0 ? "thickened" : "thinned",
                 fabs((double)pens[i] / PX));
    }
    /* eval_drawings' renderings: digits drawn as people draw on the demo's canvas */
    static const condition drawn[] = {
        {"canvas", "centred", 0, 0, 0, {200, 0, 0, 0, 0, false}},
        {"canvas", "off-centre", 0, 0, 0, {140, 60, -55, 0, 0, false}},
        {"canvas", "small", 0, 0, 0, {70, -20, 25, 0, 0, false}},
        {"canvas", "large", 0, 0, 0, {280, 0, 0, 0, 0, false}},
        {"canvas", "thick", 0, 0, 0, {200, 0, 0, 0, 5, false}},
        {"canvas", "thin", 0, 0, 0, {200, 0, 0, 0, -3, false}},
        {"canvas", "dark on light", 0, 0, 0, {200, 10, 10, 0, 0, true}},
    };
    for (size_t i = 0; i < sizeof drawn / sizeof drawn[0]; i++)
        c[n++] = drawn[i];
    if (n > cap)
        abort();
    return n;
}

/* dst = src (28x28) moved by (dx, dy) pixels, zeros coming in. */
static void shift28(float *dst, const float *src, int dx, int dy)
{
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            int u = x - dx, v = y - dy;
            dst[y * 28 + x] = u >= 0 && u < 28 && v >= 0 && v < 28 ? src[v * 28 + u] : 0.0f;
        }
}

/* right[i] = whether the model's answer for input i (n x 784, pixels in
 * [0,1]) is labels[i]; answers[i] and probs[i] (may be NULL) its answer and
 * that answer's probability. Returns how many are right. */
static int classify(model *m, const float *xs, int n, const uint8_t *labels, uint8_t *answers, float *top)
{
    static float x[BATCH * DN_MNIST_PIXELS], probs[BATCH * 10];
    int right = 0;
    for (int start = 0; start < n; start += BATCH) {
        int b = n - start < BATCH ? n - start : BATCH;
        memcpy(x, xs + (size_t)start * DN_MNIST_PIXELS, sizeof(float) * (size_t)b * DN_MNIST_PIXELS);
        dn_normalize(x, (size_t)b * DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
        if (dn_net_predict(m->net, x, b, probs, sizeof probs / sizeof probs[0]) != DN_OK)
            die(m->name);
        for (int i = 0; i < b; i++) {
            int a = dn_argmax(probs + i * 10, 10);
            right += a == labels[start + i];
            if (answers)
                answers[start + i] = (uint8_t)a;
            if (top)
                top[start + i] = probs[i * 10 + a];
        }
    }
    return right;
}

static void json_floats(FILE *f, const float *v, size_t n, const char *format)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        fprintf(f, format, v[i]);
    }
    fputc(']', f);
}

/* The 28x28 image as integers 0..255. */
static void json_image(FILE *f, const float *v)
{
    fputc('[', f);
    for (int i = 0; i < DN_MNIST_PIXELS; i++) {
        float p = v[i] < 0 ? 0 : v[i] > 1 ? 1 : v[i];
        fprintf(f, i ? ",%d" : "%d", (int)lrintf(p * 255));
    }
    fputc(']', f);
}

static void report_models(run *r)
{
    FILE *f = r->out;
    fprintf(f, "\"models\":[");
    uint8_t *answers = malloc((size_t)r->test.count);
    float *top = malloc(sizeof(float) * (size_t)r->test.count);
    for (int k = 0; k < r->n_models; k++) {
        model *m = &r->models[k];
        fprintf(f, "%s{\"name\":\"%s\",\"path\":\"%s\",\"arch\":\"%s\",\"params\":%zu,\"tensors\":[", k ? "," : "",
                m->name, m->path, dn_net_spec(m->net), dn_net_param_count(m->net));
        for (int t = 0; t < dn_net_param_tensor_count(m->net); t++) {
            dn_net_param p;
            if (dn_net_get_param(m->net, t, &p) != DN_OK)
                die(m->name);
            fprintf(f, "%s{\"name\":\"%s\",\"shape\":[", t ? "," : "", p.name);
            for (int d = 0; d < p.value.ndim; d++)
                fprintf(f, d ? ",%d" : "%d", p.value.shape[d]);
            fprintf(f, "],\"size\":%zu}", p.value.size);
        }
        fprintf(f, "],\"layers\":[");
        for (int l = 0; l < dn_net_layer_count(m->net); l++) {
            int in[3], out[3];
            dn_net_layer_shapes(m->net, l, in, out);
            fprintf(f, "%s{\"kind\":\"%s\",\"out\":[%d,%d,%d]}", l ? "," : "", dn_net_layer_kind(m->net, l), out[0],
                    out[1], out[2]);
        }
        int right = classify(m, r->test.images, r->test.count, r->test.labels, answers, top);
        fprintf(f, "],\"mnist_test\":{\"count\":%d,\"right\":%d,\"mistakes\":[", r->test.count, right);
        for (int i = 0, first = 1; i < r->test.count; i++)
            if (answers[i] != r->test.labels[i]) {
                fprintf(f, "%s[%d,%d,%d,%.3f]", first ? "" : ",", i, r->test.labels[i], answers[i], top[i]);
                first = 0;
            }
        fprintf(f, "]}}");
        fprintf(stderr, "why_cnn: %s: %d of %d MNIST test digits right\n", m->name, right, r->test.count);
    }
    fprintf(f, "],\n");
    free(answers);
    free(top);
}

/* Share of the ink of digit (bytes) still inside the 28x28 frame when it is
 * moved by (dx, dy). */
static double ink_kept(const uint8_t *digit, int dx, int dy)
{
    double all = 0, kept = 0;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            all += digit[y * 28 + x];
            if (x + dx >= 0 && x + dx < 28 && y + dy >= 0 && y + dy < 28)
                kept += digit[y * 28 + x];
        }
    return all > 0 ? kept / all : 1;
}

static void report_conditions(run *r)
{
    FILE *f = r->out;
    condition conds[64];
    int n_conds = conditions_make(conds, 64), n = r->count;
    dn_image img;
    if (dn_image_new(&img, CANVAS, CANVAS) != DN_OK)
        die("canvas");
    float *canvas = img.pixels, *scratch = malloc(sizeof(float) * CANVAS * CANVAS);
    float *raw = malloc(sizeof(float) * (size_t)n * DN_MNIST_PIXELS), *pre = malloc(sizeof(float) * (size_t)n * DN_MNIST_PIXELS);
    uint8_t *answers = malloc((size_t)n), *has_ink = malloc((size_t)n);
    fprintf(f, "\"conditions\":[");
    for (int c = 0; c < n_conds; c++) {
        double kept = 0;
        for (int i = 0; i < n; i++) {
            const uint8_t *digit = r->digits + (size_t)i * DN_MNIST_PIXELS;
            digit_render(canvas, CANVAS, digit, &conds[c].pose, scratch);
            digit_downsample(raw + (size_t)i * DN_MNIST_PIXELS, canvas, CANVAS);
            dn_preprocess_info info;
            if (dn_preprocess_mnist(&img, pre + (size_t)i * DN_MNIST_PIXELS, &info) != DN_OK)
                die("dn_preprocess_mnist");
            has_ink[i] = info.has_ink;
            kept += ink_kept(digit, (int)conds[c].value * conds[c].sx, (int)conds[c].value * conds[c].sy);
        }
        fprintf(f, "%s\n{\"group\":\"%s\",\"name\":\"%s\",\"value\":%g,\"dir\":[%d,%d],\"count\":%d,\"ink_kept\":%.4f,",
                c ? "," : "", conds[c].group, conds[c].name, conds[c].value, conds[c].sx, conds[c].sy, n, kept / n);
        for (int pass = 0; pass < 2; pass++) {
            fprintf(f, "\"%s\":[", pass ? "preprocessed" : "shrunk");
            for (int k = 0; k < r->n_models; k++) {
                int right = 0;
                classify(&r->models[k], pass ? pre : raw, n, r->test.labels, answers, NULL);
                for (int i = 0; i < n; i++)
                    right += answers[i] == r->test.labels[i] && (!pass || has_ink[i]);
                fprintf(f, k ? ",%d" : "%d", right);
            }
            fprintf(f, "],");
        }
        fprintf(f, "\"example\":{\"shrunk\":");
        json_image(f, raw);
        fprintf(f, ",\"preprocessed\":");
        json_image(f, pre);
        fprintf(f, "}}");
        fprintf(stderr, "why_cnn: %s done\n", conds[c].name);
    }
    fprintf(f, "],\n");
    dn_image_free(&img);
    free(scratch);
    free(raw);
    free(pre);
    free(answers);
    free(has_ink);
}

/* grad[i * 784 ...] = |d logit[answer] / d x| for the n inputs of the last
 * run of the probe, answers[i] its most probable class. */
static void saliency_maps(model *m, int n, float *grad, uint8_t *answers)
{
    const float *logits;
    int shape[3];
    if (dn_probe_layer_output(m->probe, dn_net_layer_count(m->net) - 1, &logits, shape) != DN_OK)
        die(m->name);
    float *weights = calloc((size_t)n * 10, sizeof(float));
    for (int i = 0; i < n; i++) {
        answers[i] = (uint8_t)dn_argmax(logits + i * 10, 10);
        weights[i * 10 + answers[i]] = 1;
    }
    if (dn_probe_input_gradient(m->probe, weights, (size_t)n * 10, grad, (size_t)n * DN_MNIST_PIXELS) != DN_OK)
        die(m->name);
    for (size_t i = 0; i < (size_t)n * DN_MNIST_PIXELS; i++)
        grad[i] = fabsf(grad[i]);
    free(weights);
}

/* Share of the saliency s on the strokes (bytes > 60, the page's rule) or a
 * pixel from them; *area = the share of the image they cover. */
static double on_strokes(const float *s, const uint8_t *digit, double *area)
{
    double on = 0, all = 0;
    int near_count = 0;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            bool near = false;
            for (int dy = -1; dy <= 1 && !near; dy++)
                for (int dx = -1; dx <= 1 && !near; dx++) {
                    int yy = y + dy, xx = x + dx;
                    near = yy >= 0 && yy < 28 && xx >= 0 && xx < 28 && digit[yy * 28 + xx] > 60;
                }
            all += s[y * 28 + x];
            if (near) {
                on += s[y * 28 + x];
                near_count++;
            }
        }
    *area = near_count / 784.0;
    return all > 0 ? on / all : 0;
}

static double cosine(const float *a, const float *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* The first layer after the input that is a relu: the first hidden features. */
static int first_relu(const dn_net *net)
{
    for (int l = 0; l < dn_net_layer_count(net); l++)
        if (strcmp(dn_net_layer_kind(net, l), "relu") == 0)
            return l;
    return -1;
}

static void report_saliency(run *r)
{
    FILE *f = r->out;
    int n = r->saliency, B = 100;
    float *x = malloc(sizeof(float) * (size_t)B * DN_MNIST_PIXELS), *grad = malloc(sizeof(float) * (size_t)B * DN_MNIST_PIXELS);
    uint8_t answers[100];
    fprintf(f, "\"saliency\":{\"count\":%d,\"show\":[", n);
    for (int i = 0; i < SHOW; i++)
        fprintf(f, i ? ",%d" : "%d", i);
    fprintf(f, "],\"show_shift\":%d,\"eq_shift\":%d,\"models\":[", SHOW_SHIFT, EQ_SHIFT);
    for (int k = 0; k < r->n_models; k++) {
        model *m = &r->models[k];
        double share_sum = 0, share_min = 1, area_sum = 0, cos_same = 0, cos_moved = 0;
        int relu = first_relu(m->net), in_shape[3], shape[3];
        if (relu < 0) {
            fprintf(stderr, "why_cnn: %s has no relu\n", m->name);
            exit(1);
        }
        dn_net_layer_shapes(m->net, relu, in_shape, shape);
        size_t feat = (size_t)shape[0] * shape[1] * shape[2];
        float *h0 = malloc(sizeof(float) * (size_t)B * feat), *moved = malloc(sizeof(float) * feat);
        float *shares = malloc(sizeof(float) * (size_t)n);
        for (int start = 0; start < n; start += B) {
            int b = n - start < B ? n - start : B;
            memcpy(x, r->test.images + (size_t)start * DN_MNIST_PIXELS, sizeof(float) * (size_t)b * DN_MNIST_PIXELS);
            dn_normalize(x, (size_t)b * DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
            if (dn_probe_run(m->probe, x, b) != DN_OK)
                die(m->name);
            saliency_maps(m, b, grad, answers);
            for (int i = 0; i < b; i++) {
                double area, share = on_strokes(grad + (size_t)i * DN_MNIST_PIXELS,
                                                 r->digits + (size_t)(start + i) * DN_MNIST_PIXELS, &area);
                shares[start + i] = (float)share;
                share_sum += share;
                area_sum += area;
                share_min = share < share_min ? share : share_min;
            }
            /* the first hidden features of the digits and of the digits moved EQ_SHIFT px right */
            const float *h;
            if (dn_probe_layer_output(m->probe, relu, &h, shape) != DN_OK)
                die(m->name);
            memcpy(h0, h, sizeof(float) * (size_t)b * feat);
            for (int i = 0; i < b; i++)
                shift28(x + (size_t)i * DN_MNIST_PIXELS, r->test.images + (size_t)(start + i) * DN_MNIST_PIXELS, EQ_SHIFT, 0);
            dn_normalize(x, (size_t)b * DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
            if (dn_probe_run(m->probe, x, b) != DN_OK || dn_probe_layer_output(m->probe, relu, &h, shape) != DN_OK)
                die(m->name);
            for (int i = 0; i < b; i++) {
                const float *a = h0 + (size_t)i * feat, *s = h + (size_t)i * feat;
                cos_same += cosine(a, s, feat);
                /* a's maps moved right as far as the digit was (spatial maps only) */
                for (int c = 0; c < shape[0]; c++)
                    for (int y = 0; y < shape[1]; y++)
                        for (int xx = 0; xx < shape[2]; xx++) {
                            int u = shape[2] > 1 ? xx - EQ_SHIFT : xx;
                            moved[((size_t)c * shape[1] + y) * shape[2] + xx] =
                                u >= 0 ? a[((size_t)c * shape[1] + y) * shape[2] + u] : 0.0f;
                        }
                cos_moved += cosine(moved, s, feat);
            }
        }
        fprintf(f, "%s{\"name\":\"%s\",\"on_strokes_mean\":%.4f,\"on_strokes_min\":%.4f,\"stroke_area\":%.4f,"
                   "\"hidden_layer\":%d,\"hidden_shape\":[%d,%d,%d],\"cos_same_place\":%.4f,\"cos_moved_along\":%.4f",
                k ? "," : "", m->name, share_sum / n, share_min, area_sum / n, relu, shape[0], shape[1], shape[2],
                cos_same / n, cos_moved / n);
        fprintf(f, ",\"on_strokes\":");
        json_floats(f, shares, (size_t)n, "%.4f");
        /* maps of the first SHOW digits, as they are and moved SHOW_SHIFT px right and down */
        for (int moved_too = 0; moved_too < 2; moved_too++) {
            for (int i = 0; i < SHOW; i++) {
                float *xi = x + (size_t)i * DN_MNIST_PIXELS;
                if (moved_too)
                    shift28(xi, r->test.images + (size_t)i * DN_MNIST_PIXELS, SHOW_SHIFT, SHOW_SHIFT);
                else
                    memcpy(xi, r->test.images + (size_t)i * DN_MNIST_PIXELS, sizeof(float) * DN_MNIST_PIXELS);
            }
            fprintf(f, ",\"%s\":{\"inputs\":[", moved_too ? "moved" : "as_is");
            for (int i = 0; i < SHOW; i++) {
                if (i)
                    fputc(',', f);
                json_image(f, x + (size_t)i * DN_MNIST_PIXELS);
            }
            dn_normalize(x, (size_t)SHOW * DN_MNIST_PIXELS, m->info.input_mean, m->info.input_std);
            if (dn_probe_run(m->probe, x, SHOW) != DN_OK)
                die(m->name);
            saliency_maps(m, SHOW, grad, answers);
            fprintf(f, "],\"answers\":[");
            for (int i = 0; i < SHOW; i++)
                fprintf(f, i ? ",%d" : "%d", answers[i]);
            fprintf(f, "],\"maps\":[");
            for (int i = 0; i < SHOW; i++) {
                if (i)
                    fputc(',', f);
                json_floats(f, grad + (size_t)i * DN_MNIST_PIXELS, DN_MNIST_PIXELS, "%.4g");
            }
            /* the first hidden features of the first digit */
            const float *h;
            if (dn_probe_layer_output(m->probe, relu, &h, shape) != DN_OK)
                die(m->name);
            fprintf(f, "],\"hidden\":");
            json_floats(f, h, feat, "%.4g");
            fprintf(f, "}");
        }
        const float *w;
        size_t count;
        int ndim, wshape[4];
        if (dn_probe_param(m->probe, "conv1.weight", &w, &count, &ndim, wshape) == DN_OK) {
            fprintf(f, ",\"conv1_weight\":{\"shape\":[%d,%d,%d,%d],\"values\":", wshape[0], wshape[1], wshape[2],
                    wshape[3]);
            json_floats(f, w, count, "%.6g");
            fprintf(f, "}");
        }
        /* an mlp's first weights are one 28x28 template per unit: the first 16 */
        if (dn_probe_param(m->probe, "fc1.weight", &w, &count, &ndim, wshape) == DN_OK && ndim == 2 &&
            wshape[1] == DN_MNIST_PIXELS && wshape[0] >= 16) {
            fprintf(f, ",\"fc1_templates\":");
            json_floats(f, w, (size_t)16 * DN_MNIST_PIXELS, "%.4g");
        }
        fprintf(f, "}");
        fprintf(stderr, "why_cnn: %s: saliency on the strokes %.1f%%\n", m->name, 100 * share_sum / n);
        free(h0);
        free(moved);
        free(shares);
    }
    fprintf(f, "]}\n");
    free(x);
    free(grad);
}

int main(int argc, char **argv)
{
    run r = {.count = 1000, .saliency = 1000, .out = stdout};
    int threads = 1;
    const char *dir = "datasets/mnist", *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            r.count = atoi(argv[++i]);
        else if (strcmp(argv[i], "--saliency") == 0 && i + 1 < argc)
            r.saliency = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out_path = argv[++i];
        else if (strchr(argv[i], '=') && r.n_models < MAX_MODELS) {
            model *m = &r.models[r.n_models++];
            char *eq = strchr(argv[i], '=');
            *eq = '\0';
            m->name = argv[i];
            m->path = eq + 1;
        } else {
            fprintf(stderr, "why_cnn: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (r.n_models == 0 || r.count < SHOW || r.saliency < SHOW) {
        fprintf(stderr, "usage: why_cnn NAME=MODEL.safetensors ... [--data DIR] [--count N] [--saliency N] [--threads N] [--out FILE]\n");
        return 2;
    }
    if (dn_dataset_load_dir(&r.test, dir, false, 0.0f, 1.0f) != DN_OK)
        die(dir);
    if (r.count > r.test.count)
        r.count = r.test.count;
    if (r.saliency > r.test.count)
        r.saliency = r.test.count;
    r.digits = malloc((size_t)r.test.count * DN_MNIST_PIXELS);
    for (size_t i = 0; i < (size_t)r.test.count * DN_MNIST_PIXELS; i++)
        r.digits[i] = (uint8_t)lrintf(r.test.images[i] * 255);
    for (int k = 0; k < r.n_models; k++) {
        model *m = &r.models[k];
        if (dn_model_load(&m->net, &m->info, m->path) != DN_OK)
            die(m->path);
        if (dn_net_num_classes(m->net) != 10) {
            fprintf(stderr, "why_cnn: %s: a model with 10 classes is needed\n", m->path);
            return 1;
        }
        if (dn_probe_new(&m->probe, m->net) != DN_OK)
            die(m->path);
        dn_net_set_threads(m->net, threads);
        dn_probe_set_threads(m->probe, threads);
    }
    if (out_path && !(r.out = fopen(out_path, "w"))) {
        perror(out_path);
        return 1;
    }
    fprintf(r.out, "{\"data\":\"%s\",\"test_count\":%d,\n", dir, r.test.count);
    report_models(&r);
    report_conditions(&r);
    report_saliency(&r);
    fprintf(r.out, "}\n");
    if (r.out != stdout && fclose(r.out) != 0) {
        perror(out_path);
        return 1;
    }
    for (int k = 0; k < r.n_models; k++) {
        dn_probe_free(r.models[k].probe);
        dn_net_free(r.models[k].net);
    }
    dn_dataset_free(&r.test);
    free(r.digits);
    return 0;
}
