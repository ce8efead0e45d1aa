/* make_exports.c - the ONNX files the onnxruntime and checker tests read,
 * with what digitnet computes for them.
 *
 * usage: make_exports OUT_DIR MNIST_DIR [MODEL.safetensors...]
 *
 * For every preset and a few specs that use the options and odd corners of
 * the spec language (conv stride/pad/non-square kernel, maxpool stride,
 * batchnorm eps and momentum in 1-D and 2-D, a linear layer on a 4-D input,
 * a conv after a linear layer, multi-channel input, other class counts),
 * it builds the net, trains it for a few steps so that every weight and
 * every batchnorm statistic is non-trivial, and writes into OUT_DIR:
 *     NAME.onnx          dn_onnx_export (with the probabilities output)
 *     NAME.input.f32     the raw inputs the ONNX model takes (pixels in [0,1])
 *     NAME.logits.f32    digitnet's logits for them (evaluation mode)
 * plus manifest.json listing the cases. 1x28x28 nets see MNIST test images
 * (compared on the first 256, trained on others); the rest uniform noise.
 * Model files given after MNIST_DIR are exported as they are (no
 * training), named model_1, model_2, ...
 * Exits 77 when MNIST is missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet.h"

enum { COMPARED = 256, TRAIN_STEPS = 15, BATCH = 64 };

typedef struct export_case {
    const char *name;
    const char *spec;
    float mean, std; /* input normalisation */
} export_case;

static const export_case cases[] = {
    {"mlp", "mlp", 0.1307f, 0.3081f},
    {"cnn", "cnn", 0.1307f, 0.3081f},
    {"cnn-dropout", "cnn-dropout", 0.1307f, 0.3081f},
    {"cnn-bn", "cnn-bn", 0.1307f, 0.3081f},
    {"conv-options",
     "input 1x28x28; conv 8 3x5 stride=2 pad=2; batchnorm eps=0.001 momentum=0.3; relu; maxpool 3 stride=2; "
     "conv 12 2 pad=1; relu; flatten; dropout 0.3; linear 32; batchnorm momentum=0.2; relu; linear 10",
     0.2f, 0.35f},
    {"color-input", "input 3x12x10; maxpool 2 stride=1; conv 6 3 stride=2; relu; flatten; linear 16; relu; linear 5",
     0.5f, 0.25f},
    {"linear-conv", "input 20x1x1; batchnorm; linear 8; relu; conv 6 1; batchnorm; relu; conv 4 1", 0.45f, 0.3f},
};

static int failures;

static void fail(const char *what)
{
    fprintf(stderr, "make_exports: %s: %s\n", what, dn_last_error());
    failures++;
}

static bool write_floats(const char *dir, const char *name, const char *suffix, const float *x, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(x, sizeof *x, n, f) == n;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "make_exports: cannot write %s\n", path);
    return ok;
}

/* count raw inputs of a sample size for the net: MNIST test images from
 * `first` on for 1x28x28 nets, uniform noise in [0, 1] otherwise. */
static void fill_inputs(float *x, uint8_t *labels, int count, int first, const int shape[3], int classes,
                        const dn_dataset *mnist, dn_rng *rng)
{
    size_t sample = (size_t)shape[0] * shape[1] * shape[2];
    bool is_mnist = shape[0] == 1 && shape[1] == 28 && shape[2] == 28 && classes == 10;
    for (int i = 0; i < count; i++) {
        int k = (first + i) % mnist->count;
        if (is_mnist) {
            memcpy(x + i * sample, mnist->images + (size_t)k * sample, sample * sizeof *x);
            labels[i] = mnist->labels[k];
        } else {
            for (size_t j = 0; j < sample; j++)
                x[i * sample + j] = dn_rng_uniform(rng);
            labels[i] = (uint8_t)dn_rng_below(rng, (uint64_t)classes);
        }
    }
}

static void normalize(float *dst, const float *src, size_t n, float mean, float std)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] - mean) / std;
}

/* A few Adam steps in training mode (dropout, batch statistics). */
static bool train_briefly(dn_net *net, const dn_model_info *info, const dn_dataset *mnist, dn_rng *rng)
{
    int shape[3];
    dn_net_input_shape(net, shape);
    size_t sample = (size_t)shape[0] * shape[1] * shape[2];
    float *raw = malloc(BATCH * sample * sizeof *raw), *x = malloc(BATCH * sample * sizeof *x);
    uint8_t labels[BATCH];
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt = NULL;
    bool ok = raw && x && dn_optim_new(&opt, &config, dn_net_param_count(net)) == DN_OK;
    for (int step = 0; ok && step < TRAIN_STEPS; step++) {
        fill_inputs(raw, labels, BATCH, COMPARED + step * BATCH, shape, dn_net_num_classes(net), mnist, rng);
        normalize(x, raw, BATCH * sample, info->input_mean, info->input_std);
        float loss;
        dn_net_zero_grad(net);
        ok = dn_net_forward(net, x, BATCH, true) == DN_OK && dn_net_backward(net, labels, &loss, NULL) == DN_OK &&
             dn_optim_step(opt, dn_net_params(net), dn_net_grads(net), dn_net_param_count(net), 2e-3f) == DN_OK;
    }
    if (!ok)
        fail("training");
    dn_optim_free(opt);
    free(raw);
    free(x);
    return ok;
}

/* Writes NAME.onnx, NAME.input.f32 and NAME.logits.f32, and the case's
 * line of the manifest. */
static bool export_case_files(dn_net *net, const dn_model_info *info, const char *name, const char *dir,
                              const dn_dataset *mnist, dn_rng *rng, FILE *manifest, bool *first)
{
    int shape[3];
    dn_net_input_shape(net, shape);
    const int classes = dn_net_num_classes(net);
    size_t sample = (size_t)shape[0] * shape[1] * shape[2];
    float *raw = malloc(COMPARED * sample * sizeof *raw), *x = malloc(COMPARED * sample * sizeof *x);
    uint8_t *labels = malloc(COMPARED);
    bool ok = raw && x && labels;
    if (ok) {
        fill_inputs(raw, labels, COMPARED, 0, shape, classes, mnist, rng);
        normalize(x, raw, COMPARED * sample, info->input_mean, info->input_std);
        ok = dn_net_forward(net, x, COMPARED, false) == DN_OK;
        if (!ok)
            fail(name);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    if (ok && dn_onnx_export(net, info, &(dn_onnx_options){.probabilities = true}, path) != DN_OK) {
        fail(path);
        ok = false;
    }
    ok = ok && write_floats(dir, name, ".input.f32", raw, COMPARED * sample) &&
         write_floats(dir, name, ".logits.f32", dn_net_logits(net), (size_t)COMPARED * classes);
    if (ok) {
        fprintf(manifest, "%s\n  {\"name\": \"%s\", \"input_shape\": [%d, %d, %d, %d], \"classes\": %d}",
                *first ? "" : ",", name, COMPARED, shape[0], shape[1], shape[2], classes);
        *first = false;
        printf("%-12s %s\n", name, dn_net_spec(net));
    }
    free(raw);
    free(x);
    free(labels);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: make_exports OUT_DIR MNIST_DIR [MODEL.safetensors...]\n");
        return 2;
    }
    const char *dir = argv[1];
    dn_dataset mnist;
    if (dn_dataset_load_dir(&mnist, argv[2], false, 0.0f, 1.0f) != DN_OK) {
        fprintf(stderr, "make_exports: MNIST test set not found (%s): skipped\n", dn_last_error());
        return 77;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *manifest = fopen(path, "w");
    if (!manifest) {
        fprintf(stderr, "make_exports: cannot write %s\n", path);
        dn_dataset_free(&mnist);
        return 1;
    }
    fputs("{\"cases\": [", manifest);
    bool first = true;
    dn_rng rng;
    dn_rng_seed(&rng, 7);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        dn_net *net;
        if (dn_net_new(&net, cases[c].spec, 100 + c) != DN_OK) {
            fail(cases[c].spec);
            continue;
        }
        dn_net_seed_dropout(net, 3);
        dn_model_info info = dn_model_info_default();
        info.input_mean = cases[c].mean;
        info.input_std = cases[c].std;
        info.seed = (int64_t)(100 + c);
        if (train_briefly(net, &info, &mnist, &rng))
            export_case_files(net, &info, cases[c].name, dir, &mnist, &rng, manifest, &first);
        dn_net_free(net);
    }
    for (int i = 3; i < argc; i++) {
        dn_net *net;
        dn_model_info info;
        char name[32];
        snprintf(name, sizeof name, "model_%d", i - 2);
        if (dn_model_load(&net, &info, argv[i]) != DN_OK) {
            fail(argv[i]);
            continue;
        }
        printf("%s: %s\n", name, argv[i]);
        export_case_files(net, &info, name, dir, &mnist, &rng, manifest, &first);
        dn_net_free(net);
    }
    fputs("\n]}\n", manifest);
    if (fclose(manifest) != 0)
        failures++;
    dn_dataset_free(&mnist);
    return failures ? 1 : 0;
}
