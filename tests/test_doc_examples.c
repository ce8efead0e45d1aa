/* test_doc_examples.c - the worked examples and figures of the "How it
 * works" pages (docs/how-it-works*.md), read out of the Markdown and
 * recomputed with the library's kernels: every number printed there must
 * be what the code computes, within the rounding of its printed digits, so
 * the pages cannot drift from the code without this test failing. Also the
 * not-a-digit gradient against finite differences of its loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/idx.h"
#include "digitnet/net.h"
#include "digitnet/ops.h"
#include "digitnet/optim.h"
#include "maxpool2d.h"
#include "test_util.h"

enum { MAX_VALUES = 32 };

/* The numbers of one line of a block, each with the tolerance its printed
 * digits allow: half a unit of its last decimal, plus a tenth of one for
 * float rounding, and at most 5e-6 (a value printed as "0.6" must be 0.6).
 * A changed last digit fails unless the true value lies within a tenth of
 * a unit of the rounding boundary on that side. */
typedef struct numbers {
    int count;
    double value[MAX_VALUES];
    double tolerance[MAX_VALUES];
} numbers;

/* A fenced code block of a page whose first line is its title. */
typedef struct block {
    const char *title;
    const char *begin, *end; /* the lines after the title, up to the closing fence */
    int lines_checked;
} block;

static bool find_block(const char *text, const char *title, block *b)
{
    *b = (block){.title = title};
    size_t title_len = strlen(title);
    for (const char *p = strstr(text, "```\n"); p; p = strstr(p + 1, "```\n")) {
        const char *line = p + 4;
        if (strncmp(line, title, title_len) == 0 && line[title_len] == '\n') {
            b->begin = line + title_len + 1;
            b->end = strstr(b->begin, "```");
            return b->end != NULL;
        }
    }
    return false;
}

/* Reads the numbers of a string such as "1 -0.5; 0.5 0" ("none" is
 * DN_LABEL_NONE) up to end; false on a word that is not a number. */
static bool parse_numbers(const char *p, const char *end, numbers *out)
{
    out->count = 0;
    while (p < end) {
        if (*p == ' ' || *p == ';' || *p == ',') {
            p++;
            continue;
        }
        if (out->count == MAX_VALUES)
            return false;
        const char *word = p;
        while (p < end && *p != ' ' && *p != ';' && *p != ',')
            p++;
        if (p - word == 4 && strncmp(word, "none", 4) == 0) {
            out->value[out->count] = DN_LABEL_NONE;
            out->tolerance[out->count++] = 0;
            continue;
        }
        char text[32];
        if ((size_t)(p - word) >= sizeof text)
            return false;
        memcpy(text, word, (size_t)(p - word));
        text[p - word] = '\0';
        char *stop;
        double v = strtod(text, &stop);
        if (*stop != '\0')
            return false;
        const char *dot = strchr(text, '.');
        int decimals = dot ? (int)strlen(dot + 1) : 0;
        double tolerance = 0.6 * pow(10.0, -decimals);
        out->value[out->count] = v;
        out->tolerance[out->count++] = tolerance < 5e-6 ? tolerance : 5e-6;
    }
    return true;
}

/* The numbers of the line "key = ..." of a block; a failed check if it is
 * missing or malformed. */
static bool get(block *b, const char *key, numbers *out)
{
    size_t key_len = strlen(key);
    for (const char *line = b->begin; line < b->end;) {
        const char *eol = memchr(line, '\n', (size_t)(b->end - line));
        if (!eol)
            eol = b->end;
        const char *eq = memchr(line, '=', (size_t)(eol - line));
        const char *k_end = eq;
        while (eq && k_end > line && k_end[-1] == ' ')
            k_end--;
        if (eq && (size_t)(k_end - line) == key_len && strncmp(line, key, key_len) == 0) {
            bool ok = parse_numbers(eq + 1, eol, out);
            CHECK(ok, "%s: the line '%s' has a word that is not a number", b->title, key);
            b->lines_checked++;
            return ok;
        }
        line = eol + 1;
    }
    CHECK(0, "%s: no line '%s ='", b->title, key);
    return false;
}

/* Every "key = ..." line of the block was read by a check. */
static void all_lines_checked(const block *b)
{
    int lines = 0;
    for (const char *p = b->begin; p < b->end; p++)
        lines += *p == '=';
    CHECK(lines == b->lines_checked, "%s: %d lines, %d of them checked", b->title, lines, b->lines_checked);
}

/* The page's inputs as floats: exactly `count` of them. */
static bool inputs(block *b, const char *key, float *values, int count)
{
    numbers n;
    if (!get(b, key, &n))
        return false;
    CHECK(n.count == count, "%s: '%s' has %d numbers, expected %d", b->title, key, n.count, count);
    for (int i = 0; i < n.count && i < count; i++)
        values[i] = (float)n.value[i];
    return n.count == count;
}

/* The page's printed results for key against what the library computed. */
static void compare(block *b, const char *key, const float *computed, int count)
{
    numbers n;
    if (!get(b, key, &n))
        return;
    CHECK(n.count == count, "%s: '%s' has %d numbers, the library computes %d", b->title, key, n.count, count);
    for (int i = 0; i < n.count && i < count; i++)
        CHECK(fabs(n.value[i] - computed[i]) <= n.tolerance[i],
              "%s: %s[%d] is printed as %.9g, the library computes %.9g", b->title, key, i, n.value[i],
              (double)computed[i]);
}

static char *read_page(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/%s", DN_SOURCE_DIR, name);
    char *text = dn_test_read_file(path, NULL);
    CHECK(text != NULL, "%s can be read", path);
    return text;
}

static bool open_block(const char *text, const char *title, block *b)
{
    bool found = text && find_block(text, title, b);
    CHECK(found, "a code block titled '%s'", title);
    return found;
}

/* Worked example 1: linear -> softmax cross-entropy, forward and backward;
 * the same logits shifted by 1000; a batch with a not-a-digit sample. */
static void example_linear_softmax(const char *page)
{
    block b;
    if (open_block(page, "worked example 1", &b)) {
        float x[2], w[6], bias[3], label_f[1];
        if (inputs(&b, "x", x, 2) && inputs(&b, "W", w, 6) && inputs(&b, "bias", bias, 3) &&
            inputs(&b, "label", label_f, 1)) {
            uint8_t label = (uint8_t)label_f[0];
            float z[3], p[3], dz[3], dx[2], dw[6] = {0}, dbias[3] = {0};
            dn_linear_forward(z, x, w, bias, 1, 2, 3, false);
            compare(&b, "z", z, 3);
            float loss = dn_cross_entropy_forward(p, z, &label, 1, 3);
            compare(&b, "p", p, 3);
            compare(&b, "loss", &loss, 1);
            dn_cross_entropy_backward(dz, p, &label, 1, 3);
            compare(&b, "dz", dz, 3);
            dn_linear_backward(dx, dw, dbias, dz, x, w, 1, 2, 3);
            compare(&b, "dW", dw, 6);
            compare(&b, "dbias", dbias, 3);
            compare(&b, "dx", dx, 2);
        }
        all_lines_checked(&b);
    }

    if (open_block(page, "worked example 1, shifted", &b)) {
        float z[3], p[3];
        uint8_t label = 0;
        if (inputs(&b, "z", z, 3)) {
            float loss = dn_cross_entropy_forward(p, z, &label, 1, 3);
            CHECK(isfinite(loss), "logits near 1000: a finite loss (%g)", (double)loss);
            compare(&b, "p", p, 3);
            compare(&b, "loss", &loss, 1);
        }
        all_lines_checked(&b);
    }

    if (open_block(page, "worked example 1, not a digit", &b)) {
        float z[6], label_f[2], p[6], dz[6];
        if (inputs(&b, "z", z, 6) && inputs(&b, "labels", label_f, 2)) {
            uint8_t labels[2] = {(uint8_t)label_f[0], (uint8_t)label_f[1]};
            CHECK(labels[1] == DN_LABEL_NONE, "the second sample is not a digit");
            float loss = dn_cross_entropy_forward(p, z, labels, 2, 3);
            compare(&b, "loss", &loss, 1);
            dn_cross_entropy_backward(dz, p, labels, 2, 3);
            compare(&b, "dz", dz, 6);

            /* the not-a-digit loss is DN_NONE_WEIGHT times the
             * cross-entropy against equal probabilities, -mean(log p) */
            float one[3];
            uint8_t none = DN_LABEL_NONE;
            float alone = dn_cross_entropy_forward(one, z + 3, &none, 1, 3);
            double uniform = 0;
            for (int k = 0; k < 3; k++)
                uniform -= log((double)one[k]) / 3;
            CHECK(fabs(alone - DN_NONE_WEIGHT * uniform) <= 1e-6,
                  "not-a-digit loss %.9g = %g * cross-entropy against 1/3 each (%.9g)", (double)alone,
                  (double)DN_NONE_WEIGHT, DN_NONE_WEIGHT * uniform);

            /* and its gradient is the derivative of that loss */
            for (int k = 0; k < 6; k++) {
                const float h = 1e-2f, saved = z[k];
                z[k] = saved + h;
                double up = dn_cross_entropy_forward(p, z, labels, 2, 3);
                z[k] = saved - h;
                double down = dn_cross_entropy_forward(p, z, labels, 2, 3);
                z[k] = saved;
                double numeric = (up - down) / (2.0 * h);
                double err = fabs(numeric - dz[k]) / fmax(1e-2, fabs(numeric) + fabs(dz[k]));
                CHECK(err <= 2e-3, "dlogits[%d] %.6g against finite differences %.6g", k, (double)dz[k], numeric);
            }
        }
        all_lines_checked(&b);
    }
}

/* Worked example 2: a 2x2 max-pool, its routing backward pass, and the
 * routing that also does the backward pass of a relu before the pool. */
static void example_maxpool(const char *page)
{
    block b;
    if (!open_block(page, "worked example 2", &b))
        return;
    float in[16], dout[4];
    if (inputs(&b, "in", in, 16) && inputs(&b, "dout", dout, 4)) {
        float out[4], argmax_f[4], din[16], din_relu[16], masked[16];
        int32_t argmax[4];
        dn_maxpool2d_forward(out, argmax, in, 1, 1, 4, 4, 2, 2);
        compare(&b, "out", out, 4);
        for (int i = 0; i < 4; i++)
            argmax_f[i] = (float)argmax[i];
        compare(&b, "argmax", argmax_f, 4);
        dn_maxpool2d_backward(din, dout, argmax, 1, 1, 4, 4, 2, 2);
        compare(&b, "din", din, 16);
        dn_maxpool2d_route(din_relu, dout, argmax, out, 1, 1, 4, 4, 2, 2);
        compare(&b, "din relu", din_relu, 16);
        dn_relu_backward(masked, din, in, 16); /* in is the relu's output */
        CHECK(!memcmp(masked, din_relu, sizeof masked),
              "the relu-fused route is the route followed by the relu's backward pass");
    }
    all_lines_checked(&b);
}

/* Worked example 3: batchnorm over one channel of four values, a training
 * step from fresh running statistics, and its backward pass. */
static void example_batchnorm(const char *page)
{
    block b;
    if (!open_block(page, "worked example 3", &b))
        return;
    float x[4], gamma, beta, dy[4];
    if (inputs(&b, "x", x, 4) && inputs(&b, "gamma", &gamma, 1) && inputs(&b, "beta", &beta, 1) &&
        inputs(&b, "dy", dy, 4)) {
        float y[4], mean, inv_std, running_mean = 0.0f, running_var = 1.0f;
        dn_batchnorm_forward_train(y, &mean, &inv_std, &running_mean, &running_var, x, &gamma, &beta, 4, 1, 1, 0.1f,
                                   1e-5f);
        compare(&b, "mean", &mean, 1);
        compare(&b, "inv_std", &inv_std, 1);
        float xhat[4];
        for (int i = 0; i < 4; i++)
            xhat[i] = (x[i] - mean) * inv_std;
        compare(&b, "xhat", xhat, 4);
        compare(&b, "y", y, 4);
        float dx[4], dgamma = 0.0f, dbeta = 0.0f;
        dn_batchnorm_backward(dx, &dgamma, &dbeta, dy, x, &gamma, &mean, &inv_std, true, 4, 1, 1);
        compare(&b, "dbeta", &dbeta, 1);
        compare(&b, "dgamma", &dgamma, 1);
        compare(&b, "dx", dx, 4);
        CHECK(fabs((double)dx[0] + dx[1] + dx[2] + dx[3]) <= 1e-6, "the input gradients of a channel sum to 0");
        compare(&b, "running_mean", &running_mean, 1);
        compare(&b, "running_var", &running_var, 1);
    }
    all_lines_checked(&b);
}

/* "name = count": each preset's learnable parameters. */
static void parameter_counts(const char *page)
{
    block b;
    if (!open_block(page, "parameter counts", &b))
        return;
    const char *presets[] = {"mlp", "cnn", "cnn-dropout", "cnn-bn"};
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        size_t count = 0;
        CHECK_OK(dn_net_spec_param_count(presets[i], &count));
        numbers n;
        if (get(&b, presets[i], &n))
            CHECK(n.count == 1 && n.value[0] == (double)count, "%s: the page says %.0f parameters, the net has %zu",
                  presets[i], n.count ? n.value[0] : -1.0, count);
    }
    all_lines_checked(&b);
}

/* ---- the layer tables of the presets */

/* Reads "1x28x28" or "784" (a vector: 784x1x1) from [p, end). */
static bool parse_shape(const char *p, const char *end, int shape[3])
{
    int dims[3], count = 0;
    while (p < end && *p == ' ')
        p++;
    while (p < end && count < 3) {
        char *stop;
        long v = strtol(p, &stop, 10);
        if (stop == p)
            return false;
        dims[count++] = (int)v;
        p = stop;
        if (p < end && *p == 'x')
            p++;
        else
            break;
    }
    while (p < end && *p == ' ')
        p++;
    if (p != end || (count != 1 && count != 3))
        return false;
    shape[0] = dims[0];
    shape[1] = count == 3 ? dims[1] : 1;
    shape[2] = count == 3 ? dims[2] : 1;
    return true;
}

/* The number after the last '=' of a cell, or the whole cell, without
 * thousands separators and bold marks. */
static long cell_number(const char *p, const char *end)
{
    char text[64];
    size_t len = 0;
    for (const char *q = p; q < end; q++)
        if (*q == '=')
            p = q + 1;
    for (; p < end && len + 1 < sizeof text; p++)
        if (*p != ',' && *p != '*' && *p != ' ')
            text[len++] = *p;
    text[len] = '\0';
    char *stop;
    long v = strtol(text, &stop, 10);
    return len > 0 && *stop == '\0' ? v : -1;
}

/* Learnable floats of the tensors named "<layer>.<suffix>". */
static size_t layer_params(dn_net *net, const char *layer)
{
    size_t sum = 0, len = strlen(layer);
    for (int t = 0; t < dn_net_param_tensor_count(net); t++) {
        dn_net_param p;
        if (dn_net_get_param(net, t, &p) == DN_OK && p.trainable && strncmp(p.name, layer, len) == 0 &&
            p.name[len] == '.')
            sum += p.value.size;
    }
    return sum;
}

/* The table after the marker "<!-- layers of PRESET, ... -->": one row per
 * layer of the preset, "| name = kind ... | in → out | parameters |", then
 * a total row. */
static void layer_table(const char *page, const char *preset)
{
    char marker[64];
    snprintf(marker, sizeof marker, "<!-- layers of %s,", preset);
    const char *p = page ? strstr(page, marker) : NULL;
    CHECK(p != NULL, "a table of the layers of %s", preset);
    dn_net *net = NULL;
    CHECK_OK(dn_net_new(&net, preset, 1));
    if (!p || !net) {
        dn_net_free(net);
        return;
    }
    p = strstr(p, "\n|");
    for (int skip = 0; p && skip < 2; skip++) /* the header and the separator */
        p = strchr(p + 1, '\n');
    const char *arrow = "\xe2\x86\x92"; /* → */
    int row = 0;
    bool total_seen = false;
    while (p && p[1] == '|') {
        const char *line = p + 1, *eol = strchr(line, '\n');
        if (!eol)
            break;
        const char *cell[5];
        int cells = 0;
        for (const char *q = line; q < eol && cells < 5; q++)
            if (*q == '|')
                cell[cells++] = q;
        if (cells != 4) {
            CHECK(0, "%s table: a row without 3 cells", preset);
            break;
        }
        char name[48] = "", kind[48] = "";
        const char *eq = memchr(cell[0], '=', (size_t)(cell[1] - cell[0]));
        if (strstr(cell[0], "**total**") && strstr(cell[0], "**total**") < cell[1]) {
            CHECK(cell_number(cell[2] + 1, cell[3]) == (long)dn_net_param_count(net),
                  "%s table: total %ld, the net has %zu", preset, cell_number(cell[2] + 1, cell[3]),
                  dn_net_param_count(net));
            total_seen = true;
            break;
        }
        if (eq) {
            sscanf(cell[0] + 1, "%47s", name);
            sscanf(eq + 1, "%47s", kind);
        } else {
            sscanf(cell[0] + 1, "%47s", kind);
        }
        const char *to = strstr(cell[1], arrow);
        int in[3], out[3], want_in[3] = {0}, want_out[3] = {0};
        bool shapes = to && to < cell[2] && parse_shape(cell[1] + 1, to, in) &&
                      parse_shape(to + strlen(arrow), cell[2], out);
        CHECK(row < dn_net_layer_count(net), "%s table: row %d, the net has %d layers", preset, row + 1,
              dn_net_layer_count(net));
        if (row < dn_net_layer_count(net)) {
            dn_net_layer_shapes(net, row, want_in, want_out);
            CHECK(strcmp(kind, dn_net_layer_kind(net, row)) == 0, "%s table: row %d is '%s', the layer is %s",
                  preset, row + 1, kind, dn_net_layer_kind(net, row));
            CHECK(shapes && !memcmp(in, want_in, sizeof in) && !memcmp(out, want_out, sizeof out),
                  "%s table: row %d (%s): the shapes are %dx%dx%d -> %dx%dx%d", preset, row + 1, kind, want_in[0],
                  want_in[1], want_in[2], want_out[0], want_out[1], want_out[2]);
            long params = cell_number(cell[2] + 1, cell[3]);
            size_t expected = name[0] ? layer_params(net, name) : 0;
            CHECK(params == (long)expected, "%s table: row %d (%s %s): %ld parameters printed, %zu in the net",
                  preset, row + 1, name, kind, params, expected);
        }
        row++;
        p = eol;
    }
    CHECK(total_seen && row == dn_net_layer_count(net), "%s table: %d layer rows and a total, the net has %d layers",
          preset, row, dn_net_layer_count(net));
    dn_net_free(net);
}

/* "progress = lr" lines under a title giving the base rate and warm-up. */
static void cosine_schedule(const char *page)
{
    const char *title = "cosine schedule, base 0.002, warm-up 0.05";
    block b;
    if (!open_block(page, title, &b))
        return;
    double base, warmup;
    CHECK(sscanf(title, "cosine schedule, base %lf, warm-up %lf", &base, &warmup) == 2, "the title's rates");
    int lines = 0;
    for (const char *line = b.begin; line < b.end;) {
        const char *eol = memchr(line, '\n', (size_t)(b.end - line));
        if (!eol)
            eol = b.end;
        const char *eq = memchr(line, '=', (size_t)(eol - line));
        numbers progress, lr;
        if (eq && parse_numbers(line, eq, &progress) && parse_numbers(eq + 1, eol, &lr) && progress.count == 1 &&
            lr.count == 1) {
            float computed = dn_lr_cosine((float)base, (float)warmup, 0.0f, progress.value[0]);
            CHECK(fabs(lr.value[0] - computed) <= lr.tolerance[0],
                  "cosine schedule at progress %g: printed %.9g, dn_lr_cosine gives %.9g", progress.value[0],
                  lr.value[0], (double)computed);
            lines++;
        } else {
            CHECK(!eq, "cosine schedule: a line that is not 'progress = lr'");
        }
        line = eol + 1;
    }
    CHECK(lines >= 5, "cosine schedule: %d points", lines);
}

int main(void)
{
    char *overview = read_page("how-it-works.md");
    char *dense = read_page("how-it-works-dense.md");
    char *conv = read_page("how-it-works-conv.md");
    char *training = read_page("how-it-works-training.md");
    parameter_counts(overview);
    layer_table(overview, "mlp");
    layer_table(overview, "cnn");
    example_linear_softmax(dense);
    example_maxpool(conv);
    example_batchnorm(conv);
    cosine_schedule(training);
    free(overview);
    free(dense);
    free(conv);
    free(training);
    return dn_test_finish();
}
