/* eval_drawings.c - how a model copes with digits drawn the way people draw
 * on the demo's canvas rather than the way MNIST was made: MNIST test digits
 * rendered onto a 280x280 canvas off-centre, small, large, with thick or thin
 * strokes, or dark on light, then through dn_preprocess_mnist as the demo
 * does. Run by hand (docs/results.md):
 *
 *   build/tests/eval_drawings MODEL.safetensors [MODEL ...] [--data DIR] [--count N]
 *
 * Prints the accuracy of each model on each rendering, one table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet.h"

enum { CANVAS = 280 };

typedef struct rendering {
    const char *name;
    double size;    /* the digit's 28x28 square, in canvas pixels */
    double dx, dy;  /* offset of its centre from the canvas centre, in canvas pixels */
    int pen;        /* > 0: strokes thickened by this many pixels; < 0: thinned */
    bool dark_ink;  /* dark digit on a light canvas */
} rendering;

static const rendering renderings[] = {
    {"centred", 200, 0, 0, 0, false},
    {"off-centre", 140, 60, -55, 0, false},
    {"small", 70, -20, 25, 0, false},
    {"large", 280, 0, 0, 0, false},
    {"thick", 200, 0, 0, 5, false},
    {"thin", 200, 0, 0, -3, false},
    {"dark on light", 200, 10, 10, 0, true},
};

/* Bilinear sample of a 28x28 digit at (u, v) in its pixel units; 0 outside. */
static float sample(const uint8_t *digit, double u, double v)
{
    int x0 = (int)floor(u), y0 = (int)floor(v);
    double fx = u - x0, fy = v - y0, sum = 0;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int x = x0 + i, y = y0 + j;
            double w = (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
            if (x >= 0 && x < 28 && y >= 0 && y < 28)
                sum += w * digit[y * 28 + x];
        }
    return (float)sum;
}

/* One pass of a 3x3 max (grow) or min (shrink) filter. */
static void morph(float *dst, const float *src, bool grow)
{
    for (int y = 0; y < CANVAS; y++)
        for (int x = 0; x < CANVAS; x++) {
            float v = src[y * CANVAS + x];
            for (int j = -1; j <= 1; j++)
                for (int i = -1; i <= 1; i++) {
                    int xx = x + i, yy = y + j;
                    float u = xx >= 0 && xx < CANVAS && yy >= 0 && yy < CANVAS ? src[yy * CANVAS + xx] : 0.0f;
                    v = grow ? fmaxf(v, u) : fminf(v, u);
                }
            dst[y * CANVAS + x] = v;
        }
}

/* The digit on the canvas as the rendering says, as an image of [0,1]. */
static void render(dn_image *img, const uint8_t *digit, const rendering *r, float *scratch)
{
    float *ink = img->pixels;
    double scale = 28.0 / r->size;
    for (int y = 0; y < CANVAS; y++)
        for (int x = 0; x < CANVAS; x++) {
            double u = (x - CANVAS / 2.0 - r->dx) * scale + 14.0 - 0.5;
            double v = (y - CANVAS / 2.0 - r->dy) * scale + 14.0 - 0.5;
            ink[y * CANVAS + x] = sample(digit, u, v) / 255.0f;
        }
    for (int k = 0; k < abs(r->pen); k++) {
        morph(scratch, ink, r->pen > 0);
        memcpy(ink, scratch, sizeof(float) * CANVAS * CANVAS);
    }
    if (r->dark_ink)
        for (int i = 0; i < CANVAS * CANVAS; i++)
            ink[i] = 1.0f - ink[i];
}

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
            render(&canvas, images + 16 + (size_t)i * 784, &renderings[r], scratch);
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
