/* net_spec.c - the architecture spec language: "input 1x28x28; conv 32 3;
 * relu; ..." split into statements and words, each layer's words handed to
 * its kind (lib/layers/) to parse, and layers printed back canonically. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/net.h"
#include "internal.h"
#include "layers/kinds.h"
#include "net_spec.h"

enum { DN_SPEC_MAX_WORDS = 8, DN_SPEC_MAX_LAYERS = 256 };

static const struct {
    const char *name;
    const char *spec;
} presets[] = {
    {"mlp", "input 1x28x28; flatten; linear 128; relu; linear 256; relu; linear 10"},
    {"cnn", "input 1x28x28; conv 32 3; relu; conv 64 3; relu; maxpool 2; flatten; "
            "linear 128; relu; linear 10"},
    {"cnn-bn", "input 1x28x28; conv 32 3 pad=1; batchnorm; relu; conv 32 3; batchnorm; relu; maxpool 2; "
               "conv 64 3 pad=1; batchnorm; relu; conv 64 3; batchnorm; relu; maxpool 2; flatten; linear 128; "
               "batchnorm; relu; linear 10"},
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

bool dn_spec_extent(const char *word, int low, int *value)
{
    if (*word < '0' || *word > '9')
        return false;
    char *end;
    errno = 0;
    long v = strtol(word, &end, 10);
    if (errno || *end || v > DN_SPEC_MAX_EXTENT || v < low)
        return false;
    *value = (int)v;
    return true;
}

bool dn_spec_dims(const char *word, int parts, int *dims)
{
    char buf[64];
    size_t len = strlen(word);
    if (len == 0 || len >= sizeof buf || word[0] == 'x' || word[len - 1] == 'x' || strstr(word, "xx"))
        return false;
    strcpy(buf, word);
    int found = 0;
    char *save = NULL;
    for (char *part = strtok_r(buf, "x", &save); part; part = strtok_r(NULL, "x", &save)) {
        if (found == parts || !dn_spec_extent(part, 1, &dims[found]))
            return false;
        found++;
    }
    if (found == 1 && parts == 2) {
        dims[1] = dims[0];
        return !strchr(word, 'x');
    }
    return found == parts;
}

dn_status dn_spec_no_arguments(const dn_layer_kind *kind, int count)
{
    return count == 0 ? DN_OK : dn_fail(DN_ERR_FORMAT, "spec: '%s' takes no arguments", kind->name);
}

/* The layer a statement (words[0] is its keyword) describes: its kind and
 * configuration. */
static dn_status parse_layer(char **words, int count, dn_layer *layer)
{
    const dn_layer_kind *kind = dn_layer_kind_find(words[0]);
    if (!kind) {
        char names[128];
        dn_layer_kind_names(names, sizeof names);
        return dn_fail(DN_ERR_FORMAT, "spec: unknown layer '%s' (%s)", words[0], names);
    }
    layer->kind = kind;
    layer->config = kind->config_size ? calloc(1, kind->config_size) : NULL;
    if (kind->config_size && !layer->config)
        return dn_fail(DN_ERR_NOMEM, "spec: out of memory");
    return kind->parse(layer, words + 1, count - 1);
}

/* Names the layers that have parameters as PyTorch's modules are named in
 * the seed's models: conv1, conv2, fc1, ... counted per prefix. */
static void name_layers(dn_layer *layers, int count)
{
    for (int i = 0; i < count; i++) {
        const char *prefix = layers[i].kind->param_prefix;
        if (!prefix)
            continue;
        int same = 0;
        for (int j = 0; j <= i; j++)
            same += layers[j].kind->param_prefix && strcmp(layers[j].kind->param_prefix, prefix) == 0;
        snprintf(layers[i].name, sizeof layers[i].name, "%s%d", prefix, same);
    }
}

void dn_spec_free_layers(dn_layer *layers, int count)
{
    if (!layers)
        return;
    for (int i = 0; i < count; i++)
        dn_layer_destroy(&layers[i]);
    free(layers);
}

/* Splits one statement into words (in place); false when there are too many. */
static bool split_words(char *statement, char **words, int *count)
{
    *count = 0;
    char *save = NULL;
    for (char *w = strtok_r(statement, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
        if (*count == DN_SPEC_MAX_WORDS)
            return false;
        words[(*count)++] = w;
    }
    return true;
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
    int layer_count = 0, statement = 0;
    char *save = NULL;
    for (char *stmt = strtok_r(text, ";\n", &save); stmt && status == DN_OK; stmt = strtok_r(NULL, ";\n", &save)) {
        char *words[DN_SPEC_MAX_WORDS];
        int word_count;
        if (!split_words(stmt, words, &word_count)) {
            status = dn_fail(DN_ERR_FORMAT, "spec: too many words in statement %d", statement + 1);
            break;
        }
        if (word_count == 0)
            continue;
        if (strcmp(words[0], "input") == 0) {
            if (have_input || statement != 0)
                status = dn_fail(DN_ERR_FORMAT, "spec: 'input' must be the first statement, once");
            else if (word_count != 2 || !dn_spec_dims(words[1], 3, input_shape))
                status = dn_fail(DN_ERR_FORMAT, "spec: expected 'input CxHxW' with each from 1 to %d, e.g. input 1x28x28",
                                 DN_SPEC_MAX_EXTENT);
            have_input = true;
        } else if (!have_input) {
            status = dn_fail(DN_ERR_FORMAT, "spec: must start with 'input CxHxW'");
        } else if (layer_count == DN_SPEC_MAX_LAYERS) {
            status = dn_fail(DN_ERR_FORMAT, "spec: more than %d layers", DN_SPEC_MAX_LAYERS);
        } else {
            status = parse_layer(words, word_count, &parsed[layer_count++]);
        }
        statement++;
    }
    free(text);
    if (status == DN_OK && !have_input)
        status = dn_fail(DN_ERR_FORMAT, "spec: empty, or not a preset (mlp, cnn, cnn-dropout, cnn-bn)");
    if (status == DN_OK && layer_count == 0)
        status = dn_fail(DN_ERR_FORMAT, "spec: no layers after 'input'");
    if (status != DN_OK) {
        dn_spec_free_layers(parsed, layer_count);
        return status;
    }
    name_layers(parsed, layer_count);
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
    size_t len = (size_t)snprintf(text, cap, "input %dx%dx%d", input_shape[0], input_shape[1], input_shape[2]);
    for (int i = 0; i < count; i++) {
        const dn_layer *layer = &layers[i];
        char args[48] = "";
        if (layer->kind->format)
            layer->kind->format(layer, args, sizeof args);
        len += (size_t)snprintf(text + len, cap - len, "; %s%s%s", layer->kind->name, args[0] ? " " : "", args);
    }
    return text;
}
