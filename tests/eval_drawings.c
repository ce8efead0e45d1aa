/* eval_drawings.c - how a model copes with digits drawn the way people draw
 * on the demo's canvas rather than the way MNIST was made: MNIST test digits
 * rendered onto a 280x280 canvas off-centre, small, large, with thick or thin
 * strokes, or dark on light, then through dn_preprocess_mnist as the demo
 * does. Run by hand (docs/results.md):
 *
 *   build/tests/eval_drawings MODEL.safetensors [MODEL ...] [--data DIR] [--count N]
 *
 * Prints the accuracy of each model on each rendering, one table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digit_canvas.h"
#include "digitnet.h"

enum { CANVAS = 280 };

typedef struct rendering {
    const char *name;
    digit_pose pose;
} rendering;

/* The digit's square in canvas pixels, its centre's offset, rotation, pen, polarity. */
static const rendering renderings[] = {
    {"centred", {200, 0, 0, 0, 0, false}},
    {"off-centre", {140, 60, -55, 0, 0, false}},
    {"small", {70, -20, 25, 0, 0, false}},
    {"large", {280, 0, 0, 0, 0, false}},
    {"thick", {200, 0, 0, 0, 5, false}},
    {"thin", {200, 0, 0, 0, -3, false}},
    {"dark on light", {200, 10, 10, 0, 0, true}},
};

static uint8_t *read_idx(const char *path, size_t header, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)size);
    if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *count = data ? ((size_t)size - header) : 0;
    return data;
}

int main(int argc, char **argv)
{
    const char *dir = "datasets/mnist";
    int count = 2000, models = 0;
    const char *paths[8];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (models < 8)
            paths[models++] = argv[i];
    }
    if (models == 0 || count < 1) {
        fprintf(stderr, "usage: eval_drawings MODEL... [--data DIR] [--count N]\n");
        return 2;
    }
    char images_path[1024], labels_path[1024];
    snprintf(images_path, sizeof images_path, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(labels_path, sizeof labels_path, "%s/t10k-labels-idx1-ubyte", dir);
    size_t pixel_bytes, label_bytes;
    uint8_t *images = read_idx(images_path, 16, &pixel_bytes), *labels = read_idx(labels_path, 8, &label_bytes);
    if (!images || !labels) {
        fprintf(stderr, "cannot read %s and %s\n", images_path, labels_path);
        return 1;
    }
    if ((size_t)count > label_bytes)
        count = (int)label_bytes;
    dn_net *nets[8];
    dn_model_info infos[8];
    for (int m = 0; m < models; m++)
        if (dn_model_load(&nets[m], &infos[m], paths[m]) != DN_OK) {
            fprintf(stderr, "%s\n", dn_last_error());
            return 1;
        }
    dn_image canvas;
    if (dn_image_new(&canvas, CANVAS, CANVAS) != DN_OK)
        return 1;
    float *scratch = malloc(sizeof(float) * CANVAS * CANVAS);
    printf("%-14s", "rendering");
    for (int m = 0; m < models; m++)
        printf("  %24.24s", strrchr(paths[m], '/') ? strrchr(paths[m], '/') + 1 : paths[m]);
    printf("\n");
    for (size_t r = 0; r < sizeof renderings / sizeof renderings[0]; r++) {
        int right[8] = {0};
        for (int i = 0; i < count; i++) {
            digit_render(canvas.pixels, CANVAS, images + 16 + (size_t)i * 784, &renderings[r].pose, scratch);
            float input[DN_MNIST_PIXELS];
            dn_preprocess_info info;
            if (dn_preprocess_mnist(&canvas, input, &info) != DN_OK || !info.has_ink)
                continue;
            for (int m = 0; m < models; m++) {
                float x[DN_MNIST_PIXELS], probs[10];
                memcpy(x, input, sizeof x);
                dn_normalize(x, DN_MNIST_PIXELS, infos[m].input_mean, infos[m].input_std);
                if (dn_net_predict(nets[m], x, 1, probs, 10) == DN_OK && dn_argmax(probs, 10) == labels[8 + i])
                    right[m]++;
            }
        }
        printf("%-14s", renderings[r].name);
        for (int m = 0; m < models; m++)
            printf("  %23.2f%%", 100.0 * right[m] / count);
        printf("\n");
    }
    for (int m = 0; m < models; m++)
        dn_net_free(nets[m]);
    dn_image_free(&canvas);
    free(scratch);
    free(images);
    free(labels);
    return 0;
}
