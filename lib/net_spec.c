/* net_spec.c - the architecture spec language: "input 1x28x28; conv 32 3;
 * relu; ..." parsed into layers, and layers printed back canonically. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/net.h"
#include "internal.h"
#include "net_spec.h"
#include "number.h"

enum { DN_SPEC_MAX_WORDS = 8, DN_SPEC_MAX_LAYERS = 256, DN_SPEC_MAX_EXTENT = 1 << 20 };

static const struct {
    const char *name;
    const char *spec;
} presets[] = {
    {"mlp", "input 1x28x28; flatten; linear 128; relu; linear 256; relu; linear 10"},
    {"cnn", "input 1x28x28; conv 32 3; relu; conv 64 3; relu; maxpool 2; flatten; "
            "linear 128; relu; linear 10"},
    {"cnn-dropout", "input 1x28x28; conv 32 3; relu; conv 64 3; relu; maxpool 2; dropout 0.25; "
                    "flatten; linear 128; relu; dropout 0.5; linear 10"},
};

const char *dn_net_preset(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0)
            return presets[i].spec;
    return NULL;
}

/* Parses a whole word as an integer in [1, DN_SPEC_MAX_EXTENT] (or [0, ...] if allow_zero). */
static bool parse_extent(const char *word, bool allow_zero, int *value)
{
    if (*word < '0' || *word > '9')
        return false;
    char *end;
    errno = 0;
    long v = strtol(word, &end, 10);
    if (errno || *end || v > DN_SPEC_MAX_EXTENT || v < (allow_zero ? 0 : 1))
        return false;
    *value = (int)v;
    return true;
}

/* "AxB" or "AxBxC" with exactly `parts` parts; a single "K" counts as KxK when parts == 2. */
static bool parse_dims(const char *word, int parts, int *dims)
{
    char buf[64];
    size_t len = strlen(word);
    if (len == 0 || len >= sizeof buf || word[0] == 'x' || word[len - 1] == 'x' || strstr(word, "xx"))
        return false;
    strcpy(buf, word);
    int found = 0;
    char *save = NULL;
    for (char *part = strtok_r(buf, "x", &save); part; part = strtok_r(NULL, "x", &save)) {
        if (found == parts || !parse_extent(part, false, &dims[found]))
            return false;
        found++;
    }
    if (found == 1 && parts == 2) {
        dims[1] = dims[0];
        return !strchr(word, 'x');
    }
    return found == parts;
}

/* Reads "key=value" options into stride/pad; returns false on an unknown key. */
static bool parse_option(const char *word, dn_layer *layer, bool allow_pad)
{
    const char *eq = strchr(word, '=');
    if (!eq)
        return false;
    size_t key_len = (size_t)(eq - word);
    if (key_len == 6 && strncmp(word, "stride", 6) == 0)
        return parse_extent(eq + 1, false, &layer->stride);
    if (allow_pad && key_len == 3 && strncmp(word, "pad", 3) == 0)
        return parse_extent(eq + 1, true, &layer->pad);
    return false;
}

static dn_status parse_statement(char **words, int count, int index, int input_shape[3],
                                 bool *have_input, dn_layer *layer, bool *is_layer)
{
    const char *kind = words[0];
    *is_layer = true;
    if (strcmp(kind, "input") == 0) {
        if (*have_input || index != 0)
            return dn_fail(DN_ERR_FORMAT, "spec: 'input' must be the first statement, once");
        if (count != 2 || !parse_dims(words[1], 3, input_shape))
            return dn_fail(DN_ERR_FORMAT, "spec: expected 'input CxHxW' with each from 1 to %d, e.g. input 1x28x28",
                           DN_SPEC_MAX_EXTENT);
        *have_input = true;
        *is_layer = false;
        return DN_OK;
    }
    if (!*have_input)
        return dn_fail(DN_ERR_FORMAT, "spec: must start with 'input CxHxW'");
    layer->stride = 1;
    if (strcmp(kind, "conv") == 0) {
        int kernel[2];
        if (count < 3 || !parse_extent(words[1], false, &layer->units) ||
            !parse_dims(words[2], 2, kernel))
            return dn_fail(DN_ERR_FORMAT, "spec: expected 'conv OUT K [stride=S] [pad=P]' with OUT and K from 1 to %d",
                           DN_SPEC_MAX_EXTENT);
        layer->kernel_h = kernel[0];
        layer->kernel_w = kernel[1];
        for (int i = 3; i < count; i++)
            if (!parse_option(words[i], layer, true))
                return dn_fail(DN_ERR_FORMAT, "spec: conv: unknown option '%s'", words[i]);
        layer->ops = &dn_conv2d_layer_ops;
    } else if (strcmp(kind, "maxpool") == 0) {
        if (count < 2 || !parse_extent(words[1], false, &layer->kernel_h))
            return dn_fail(DN_ERR_FORMAT, "spec: expected 'maxpool K [stride=S]' with K from 1 to %d",
                           DN_SPEC_MAX_EXTENT);
        layer->kernel_w = layer->kernel_h;
        layer->stride = layer->kernel_h;
        for (int i = 2; i < count; i++)
            if (!parse_option(words[i], layer, false))
                return dn_fail(DN_ERR_FORMAT, "spec: maxpool: unknown option '%s'", words[i]);
        layer->ops = &dn_maxpool2d_layer_ops;
    } else if (strcmp(kind, "linear") == 0) {
        if (count != 2 || !parse_extent(words[1], false, &layer->units))
            return dn_fail(DN_ERR_FORMAT, "spec: expected 'linear OUT' with OUT from 1 to %d", DN_SPEC_MAX_EXTENT);
        layer->ops = &dn_linear_layer_ops;
    } else if (strcmp(kind, "dropout") == 0) {
        if (count != 2)
            return dn_fail(DN_ERR_FORMAT, "spec: expected 'dropout P'");
        double p;
        if (!dn_parse_double(words[1], &p) || !(p >= 0.0 && p < 1.0))
            return dn_fail(DN_ERR_FORMAT, "spec: dropout probability must be in [0, 1), got '%s'",
                           words[1]);
        layer->drop_prob = (float)p;
        layer->ops = &dn_dropout_layer_ops;
    } else if (strcmp(kind, "relu") == 0 || strcmp(kind, "flatten") == 0) {
        if (count != 1)
            return dn_fail(DN_ERR_FORMAT, "spec: '%s' takes no arguments", kind);
        layer->ops = kind[0] == 'r' ? &dn_relu_layer_ops : &dn_flatten_layer_ops;
    } else {
        return dn_fail(DN_ERR_FORMAT,
                       "spec: unknown layer '%s' (conv, maxpool, linear, relu, flatten, dropout)",
                       kind);
    }
    return DN_OK;
}

dn_status dn_spec_parse(const char *spec, int input_shape[3], dn_layer **layers, int *count)
{
    if (!spec)
        return dn_fail(DN_ERR_ARG, "spec is NULL");
    const char *preset = dn_net_preset(spec);
    if (preset)
        spec = preset;
    char *text = strdup(spec);
    dn_layer *parsed = calloc(DN_SPEC_MAX_LAYERS, sizeof *parsed);
    if (!text || !parsed) {
        free(text);
        free(parsed);
        return dn_fail(DN_ERR_NOMEM, "spec: out of memory");
    }
    dn_status status = DN_OK;
    bool have_input = false;
    int layer_count = 0, statement = 0, convs = 0, linears = 0;
    char *save_statement = NULL;
    for (char *stmt = strtok_r(text, ";\n", &save_statement); stmt && status == DN_OK;
         stmt = strtok_r(NULL, ";\n", &save_statement)) {
        char *words[DN_SPEC_MAX_WORDS];
        int word_count = 0;
        char *save_word = NULL;
        for (char *w = strtok_r(stmt, " \t\r", &save_word); w; w = strtok_r(NULL, " \t\r", &save_word)) {
            if (word_count == DN_SPEC_MAX_WORDS) {
                status = dn_fail(DN_ERR_FORMAT, "spec: too many words in statement %d", statement + 1);
                break;
            }
            words[word_count++] = w;
        }
        if (status != DN_OK || word_count == 0)
            continue;
        if (layer_count == DN_SPEC_MAX_LAYERS) {
            status = dn_fail(DN_ERR_FORMAT, "spec: more than %d layers", DN_SPEC_MAX_LAYERS);
            break;
        }
        dn_layer *layer = &parsed[layer_count];
        bool is_layer;
        status = parse_statement(words, word_count, statement, input_shape, &have_input, layer,
                                 &is_layer);
        statement++;
        if (status != DN_OK || !is_layer)
            continue;
        if (layer->ops == &dn_conv2d_layer_ops)
            snprintf(layer->name, sizeof layer->name, "conv%d", ++convs);
        else if (layer->ops == &dn_linear_layer_ops)
            snprintf(layer->name, sizeof layer->name, "fc%d", ++linears);
        layer_count++;
    }
    free(text);
    if (status == DN_OK && !have_input)
        status = dn_fail(DN_ERR_FORMAT, "spec: empty, or not a preset (mlp, cnn, cnn-dropout)");
    if (status == DN_OK && layer_count == 0)
        status = dn_fail(DN_ERR_FORMAT, "spec: no layers after 'input'");
    if (status != DN_OK) {
        free(parsed);
        return status;
    }
    *layers = parsed;
    *count = layer_count;
    return DN_OK;
}

char *dn_spec_format(const int input_shape[3], const dn_layer *layers, int count)
{
    size_t cap = 64 + (size_t)count * 64;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    size_t len = (size_t)snprintf(text, cap, "input %dx%dx%d", input_shape[0], input_shape[1],
                                  input_shape[2]);
    for (int i = 0; i < count; i++) {
        const dn_layer *l = &layers[i];
        const char *kind = l->ops->kind;
        char item[64];
        if (l->ops == &dn_conv2d_layer_ops) {
            if (l->kernel_h == l->kernel_w)
                snprintf(item, sizeof item, "conv %d %d", l->units, l->kernel_h);
            else
                snprintf(item, sizeof item, "conv %d %dx%d", l->units, l->kernel_h, l->kernel_w);
            if (l->stride != 1)
                snprintf(item + strlen(item), sizeof item - strlen(item), " stride=%d", l->stride);
            if (l->pad != 0)
                snprintf(item + strlen(item), sizeof item - strlen(item), " pad=%d", l->pad);
        } else if (l->ops == &dn_maxpool2d_layer_ops) {
            snprintf(item, sizeof item, "maxpool %d", l->kernel_h);
            if (l->stride != l->kernel_h)
                snprintf(item + strlen(item), sizeof item - strlen(item), " stride=%d", l->stride);
        } else if (l->ops == &dn_linear_layer_ops) {
            snprintf(item, sizeof item, "linear %d", l->units);
        } else if (l->ops == &dn_dropout_layer_ops) {
            dn_snprintf(item, sizeof item, "dropout %g", (double)l->drop_prob);
        } else {
            snprintf(item, sizeof item, "%s", kind);
        }
        len += (size_t)snprintf(text + len, cap - len, "; %s", item);
    }
    return text;
}
