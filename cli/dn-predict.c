/* dn-predict.c - recognises digits and numbers in images (PNG, JPEG or PGM,
 * told apart by content) with a trained model, or evaluates a model on a
 * whole IDX test set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "digitnet.h"
#include "digitnet/image.h"
#include "digitnet/number.h"

typedef struct predict_options {
    const char *model;
    const char *idx_images, *idx_labels;
    const char *onnx;   /* --export-onnx */
    bool json, raw, single;
    long threads;
    double threshold; /* below it, "not a digit"; < 0: the model's own */
    long bench_runs;
    int first_image; /* index in argv of the first image */
} predict_options;

static void usage(FILE *out)
{
    fputs("usage: dn-predict [options] IMAGE...\n"
          "       dn-predict [options] --idx IMAGES --labels LABELS\n"
          "       dn-predict --model FILE --export-onnx OUT.onnx\n"
          "Recognises the digit or the number in each image, or measures accuracy on an\n"
          "IDX set (raw or .gz). Images are PNG (any colour type and bit depth;\n"
          "transparency is composited on white, colour becomes gray), JPEG (baseline or\n"
          "progressive, EXIF orientation honoured) or PGM (P5, P2), of any size, told\n"
          "apart by their content, not their name.\n"
          "An image holding one digit prints 'FILE: DIGIT (PROB%)', or 'not a digit'\n"
          "when the model is not sure it is one; one holding several parts prints\n"
          "'FILE: NUMBER (' then each part left to right, a digit as 'DIGIT PROB%',\n"
          "anything else as '[KIND]', then ')'.\n"
          "\n"
          "  --model FILE     model file (default models/cnn.safetensors)\n"
          "  --json           one JSON object per image: file, digit (null when refused),\n"
          "                   reason (\"no ink\", \"not a digit\"), score, threshold, best,\n"
          "                   probs;\n"
          "                   for several parts: file, number (the digits as a string),\n"
          "                   parts (kind, digit, box [x,y,w,h] in image pixels, probs)\n"
          "  --single         read each image as one digit (no number reading)\n"
          "  --threshold X    refuse as \"not a digit\" when the top probability is below X\n"
          "                   (default: the model's own, calibrated by dn-train, else 0.5;\n"
          "                   0 never refuses; docs/results.md)\n"
          "  --raw            use 28x28 images as they are (light digit on black, like MNIST)\n"
          "                   instead of finding, centring and scaling the digit\n"
          "  --idx FILE       images of an IDX set to evaluate\n"
          "  --labels FILE    its labels\n"
          "  --threads N      OpenMP threads\n"
          "  --export-onnx OUT  write the model as ONNX (opset 13: input raw pixels in\n"
          "                   [0,1], outputs logits and probabilities; docs/onnx.md)\n"
          "                   and exit\n"
          "  --bench N        time N single-image predictions (1 thread) and batched\n"
          "                   throughput; --model may name a preset (cnn, mlp)\n"
          "  --help\n",
          out);
}

static bool parse_args(int argc, char **argv, predict_options *o)
{
    *o = (predict_options){.model = "models/cnn.safetensors", .first_image = argc,
                           .threshold = -1};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL, *value;
        if (strcmp(arg, "--") == 0) {
            o->first_image = i + 1;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            o->first_image = i;
            break;
        }
        bool ok = true;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(arg, "--json") == 0) {
            o->json = true;
        } else if (strcmp(arg, "--raw") == 0) {
            o->raw = true;
        } else if (strcmp(arg, "--single") == 0) {
            o->single = true;
        } else if (tool_match(arg, "--model", &v)) {
            ok = (o->model = tool_value(argc, argv, &i, v)) != NULL;
        } else if (tool_match(arg, "--idx", &v)) {
            ok = (o->idx_images = tool_value(argc, argv, &i, v)) != NULL;
        } else if (tool_match(arg, "--export-onnx", &v)) {
            ok = (o->onnx = tool_value(argc, argv, &i, v)) != NULL;
        } else if (tool_match(arg, "--labels", &v)) {
            ok = (o->idx_labels = tool_value(argc, argv, &i, v)) != NULL;
        } else if (tool_match(arg, "--bench", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_int(arg, value, 10, 10000000, &o->bench_runs);
        } else if (tool_match(arg, "--threshold", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_float(arg, value, 0, 1, &o->threshold);
        } else if (tool_match(arg, "--threads", &v)) {
            ok = (value = tool_value(argc, argv, &i, v)) && tool_parse_int(arg, value, 1, 1024, &o->threads);
        } else {
            tool_error("unknown option '%s' (see --help)", arg);
            ok = false;
        }
        if (!ok)
            return false;
    }
    if (!o->idx_images != !o->idx_labels) {
        tool_error("--idx and --labels go together");
        return false;
    }
    if (o->onnx && (o->idx_images || o->bench_runs || o->first_image < argc)) {
        tool_error("--export-onnx writes a file and exits: no images, --idx or --bench with it");
        return false;
    }
    if (!o->onnx && !o->idx_images && !o->bench_runs && o->first_image >= argc) {
        tool_error("no images given (see --help)");
        return false;
    }
    return true;
}

/* The network input for one image; false (after printing why) on error. */
static bool load_input(const predict_options *o, const char *path, const dn_image *img, const dn_model_info *info,
                       float *input, bool *has_ink)
{
    bool ok = true;
    *has_ink = true;
    if (o->raw) {
        if (img->width != DN_MNIST_SIDE || img->height != DN_MNIST_SIDE) {
            tool_error("%s: --raw needs a 28x28 image, this one is %dx%d", path, img->width, img->height);
            ok = false;
        } else {
            memcpy(input, img->pixels, DN_MNIST_PIXELS * sizeof(float));
        }
    } else {
        dn_preprocess_info pre;
        if (dn_preprocess_mnist(img, input, &pre) != DN_OK) {
            tool_error("%s: %s", path, dn_last_error());
            ok = false;
        }
        *has_ink = pre.has_ink;
    }
    if (ok)
        dn_normalize(input, DN_MNIST_PIXELS, info->input_mean, info->input_std);
    return ok;
}

/* Prints a JSON number, or null for one that JSON cannot hold. */
static void print_json_number(double value, int decimals)
{
    char text[400];
    fputs(dn_json_format_number(text, sizeof text, value, decimals) == DN_OK ? text : "null", stdout);
}

/* A refusal is an answer, not an error: it is printed like a digit. */
/* --threshold, else the model's own, else the library's default. */
static float answer_threshold(const predict_options *o, const dn_model_info *info)
{
    return dn_answer_threshold(info->answer_threshold, (float)o->threshold);
}

static void print_result(const predict_options *o, const dn_model_info *info, const char *path, bool has_ink,
                         const float *probs)
{
    float threshold = answer_threshold(o, info);
    dn_answer a = dn_answer_from_probs(probs, 10, has_ink, threshold);
    if (o->json) {
        fputs("{\"file\":", stdout);
        dn_json_write_string(stdout, path);
        if (a.digit >= 0)
            printf(",\"digit\":%d,\"reason\":null", a.digit);
        else
            printf(",\"digit\":null,\"reason\":\"%s\"", dn_refusal_reason(a.refusal));
        fputs(",\"score\":", stdout);
        print_json_number(a.score, 6);
        fputs(",\"threshold\":", stdout);
        print_json_number(a.threshold, 6);
        if (a.best >= 0)
            printf(",\"best\":%d,\"probs\":[", a.best);
        else
            fputs(",\"best\":null,\"probs\":[", stdout);
        for (int k = 0; k < 10; k++) {
            fputs(k ? "," : "", stdout);
            print_json_number(has_ink ? (double)probs[k] : 0.0, 6);
        }
        puts("]}");
    } else if (a.refusal == DN_ANSWERED) {
        printf("%s: %d (%.1f%%)\n", path, a.digit, 100.0 * a.score);
    } else if (a.refusal == DN_REFUSED_NOT_A_DIGIT) {
        printf("%s: not a digit (top probability %.1f%% for %d, below %.0f%%)\n", path, 100.0 * a.score,
               a.best, 100.0 * a.threshold);
    } else {
        printf("%s: no digit (no ink)\n", path);
    }
}

static void print_number(const predict_options *o, const char *path, const dn_number *num)
{
    if (o->json) {
        fputs("{\"file\":", stdout);
        dn_json_write_string(stdout, path);
        fputs(",\"number\":", stdout);
        dn_json_write_string(stdout, num->text);
        fputs(",\"parts\":[", stdout);
        for (int i = 0; i < num->count; i++) {
            const dn_number_part *p = &num->parts[i];
            printf("%s{\"kind\":\"%s\",\"digit\":%d,\"box\":[%d,%d,%d,%d],\"probs\":[", i ? "," : "",
                   dn_part_kind_name(p->kind), p->digit, p->x, p->y, p->w, p->h);
            for (int k = 0; k < 10; k++) {
                fputs(k ? "," : "", stdout);
                print_json_number(p->probs[k], 6);
            }
            fputs("]}", stdout);
        }
        puts("]}");
        return;
    }
    printf("%s: %s (", path, num->digits ? num->text : "no digit");
    for (int i = 0; i < num->count; i++) {
        const dn_number_part *p = &num->parts[i];
        if (p->kind == DN_PART_DIGIT)
            printf("%s%d %.1f%%", i ? ", " : "", p->digit, 100.0 * p->probs[p->digit]);
        else
            printf("%s[%s]", i ? ", " : "", dn_part_kind_name(p->kind));
    }
    puts(")");
}

/* Reads img as a number; true (with *num) when it holds more than one part
 * and the number is the answer, false when it is one digit or none (and the
 * single-digit path answers, as it always has) or on error (*failed). When
 * it was read, *whole_read is set and whole holds the single-digit input
 * (dn_preprocess_mnist's, from the same ink). */
static bool read_number(const predict_options *o, const char *path, const dn_image *img, dn_net *net,
                        const dn_model_info *info, dn_number *num, float *whole, dn_preprocess_info *whole_info,
                        bool *whole_read, bool *failed)
{
    *failed = false;
    *whole_read = false;
    if (o->raw || o->single)
        return false;
    dn_number_options opt = dn_number_options_default();
    opt.input_mean = info->input_mean;
    opt.input_std = info->input_std;
    opt.min_confidence = answer_threshold(o, info); /* "not a digit" parts are unsure */
    opt.whole = whole;
    opt.whole_info = whole_info;
    if (dn_read_number(num, img, net, &opt) != DN_OK) {
        tool_error("%s: %s", path, dn_last_error());
        *failed = true;
        return false;
    }
    *whole_read = true;
    return num->count > 1;
}

static int predict_images(const predict_options *o, dn_net *net, const dn_model_info *info,
                          int argc, char **argv)
{
    int failures = 0;
    for (int i = o->first_image; i < argc; i++) {
        float input[DN_MNIST_PIXELS], probs[10];
        bool has_ink, failed, whole_read;
        dn_image img;
        dn_number num;
        dn_preprocess_info whole_info;
        if (dn_image_read(&img, argv[i]) != DN_OK) {
            tool_error("%s", dn_last_error());
            failures++;
            continue;
        }
        if (read_number(o, argv[i], &img, net, info, &num, input, &whole_info, &whole_read, &failed)) {
            print_number(o, argv[i], &num);
            dn_image_free(&img);
            continue;
        }
        bool ok = !failed;
        if (ok && whole_read) { /* the number reading made the single-digit input too */
            has_ink = whole_info.has_ink;
            dn_normalize(input, DN_MNIST_PIXELS, info->input_mean, info->input_std);
        } else if (ok) {
            ok = load_input(o, argv[i], &img, info, input, &has_ink);
        }
        dn_image_free(&img);
        if (!ok) {
            failures++;
            continue;
        }
        if (has_ink && dn_net_predict(net, input, 1, probs, 10) != DN_OK) {
            tool_error("%s: %s", argv[i], dn_last_error());
            failures++;
            continue;
        }
        print_result(o, info, argv[i], has_ink, probs);
    }
    fflush(stdout);
    return failures ? 1 : 0;
}

static void print_confusion_json(const dn_dataset *data, double accuracy, const int *confusion, int classes)
{
    printf("{\"images\":%d,\"accuracy\":", data->count);
    print_json_number(accuracy, 6);
    fputs(",\"per_class\":[", stdout);
    for (int k = 0; k < classes; k++) {
        int total = 0;
        for (int j = 0; j < classes; j++)
            total += confusion[k * classes + j];
        fputs(k ? "," : "", stdout);
        print_json_number(total ? (double)confusion[k * classes + k] / total : 0.0, 6);
    }
    fputs("],\"confusion\":[", stdout);
    for (int k = 0; k < classes; k++) {
        printf("%s[", k ? "," : "");
        for (int j = 0; j < classes; j++)
            printf("%s%d", j ? "," : "", confusion[k * classes + j]);
        putchar(']');
    }
    puts("]}");
}

static void print_confusion_table(const dn_dataset *data, double accuracy, double seconds, const int *confusion,
                                  int classes)
{
    printf("%d images: accuracy %.2f%% (%.2fs, %.0f images/s)\n\n", data->count, 100 * accuracy, seconds,
           data->count / seconds);
    printf("true\\pred");
    for (int j = 0; j < classes; j++)
        printf(" %5d", j);
    printf("   accuracy\n");
    for (int k = 0; k < classes; k++) {
        int total = 0;
        printf("%9d", k);
        for (int j = 0; j < classes; j++) {
            printf(" %5d", confusion[k * classes + j]);
            total += confusion[k * classes + j];
        }
        printf("   %6.2f%%\n", total ? 100.0 * confusion[k * classes + k] / total : 0.0);
    }
}

static int evaluate_idx(const predict_options *o, dn_net *net, const dn_model_info *info)
{
    dn_dataset data;
    if (dn_dataset_load(&data, o->idx_images, o->idx_labels, info->input_mean, info->input_std) != DN_OK) {
        tool_error("%s", dn_last_error());
        return 1;
    }
    const int classes = dn_net_num_classes(net);
    const size_t cells = (size_t)classes * classes;
    int *confusion = malloc(cells * sizeof *confusion);
    double accuracy = 0, start = dn_seconds();
    dn_status status = confusion ? dn_evaluate(net, &data, 0, 500, &accuracy, confusion, cells) : DN_ERR_NOMEM;
    double seconds = dn_seconds() - start;
    if (status != DN_OK)
        tool_error("%s", confusion ? dn_last_error() : "out of memory");
    else if (o->json)
        print_confusion_json(&data, accuracy, confusion, classes);
    else
        print_confusion_table(&data, accuracy, seconds, confusion, classes);
    free(confusion);
    dn_dataset_free(&data);
    return status == DN_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    tool_set_program("dn-predict");
    predict_options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    dn_net *net;
    dn_model_info info;
    if (o.bench_runs && dn_net_preset(o.model)) {
        if (dn_net_new(&net, o.model, 1) != DN_OK) {
            tool_error("%s", dn_last_error());
            return 1;
        }
        int status = bench_inference(net, (int)o.bench_runs,
                                     o.threads > 0 ? (int)o.threads : cli_default_threads());
        dn_net_free(net);
        return status;
    }
    if (dn_model_load(&net, &info, o.model) != DN_OK) {
        tool_error("%s", dn_last_error());
        if (strcmp(o.model, "models/cnn.safetensors") == 0)
            tool_error("train one first: dn-train --model cnn (or pass --model FILE)");
        return 1;
    }
    if (o.onnx) {
        dn_status exported = dn_onnx_export(net, &info, &(dn_onnx_options){.probabilities = true}, o.onnx);
        if (exported == DN_OK)
            printf("wrote %s (ONNX opset %d)\n", o.onnx, DN_ONNX_OPSET);
        else
            tool_error("%s", dn_last_error());
        dn_net_free(net);
        return exported == DN_OK ? 0 : 1;
    }
    int shape[3];
    dn_net_input_shape(net, shape);
    int status;
    if (!o.idx_images && (shape[0] != 1 || shape[1] != DN_MNIST_SIDE || shape[2] != DN_MNIST_SIDE ||
                          dn_net_num_classes(net) != 10)) {
        tool_error("%s: takes %dx%dx%d inputs and %d classes; images need a 1x28x28, 10-class model",
                  o.model, shape[0], shape[1], shape[2], dn_net_num_classes(net));
        status = 1;
    } else {
        if (o.threads > 0)
            dn_net_set_threads(net, (int)o.threads);
        if (o.bench_runs)
            status = bench_inference(net, (int)o.bench_runs,
                                     o.threads > 0 ? (int)o.threads : cli_default_threads());
        else if (o.idx_images)
            status = evaluate_idx(&o, net, &info);
        else
            status = predict_images(&o, net, &info, argc, argv);
    }
    dn_net_free(net);
    return status;
}
