/* bench_number.c - dn_read_number on single MNIST test digits, as the canvas
 * server reads every drawing: the time of each call (wall and this thread's
 * CPU time, which a busy machine disturbs less), its median, p99 and
 * maximum, the slowest digits, and how the digits were read (one digit
 * right, one digit wrong, refused, cut into several parts). Run by hand
 * (docs/results.md, "Reading numbers"):
 *
 *     bench_number MODEL MNIST_DIR [COUNT] [SCALE]
 *
 * COUNT test digits from the first (default 1000); SCALE 1 sends the 28x28
 * digit as it is (light on dark), 10 (the default) a 280x280 drawing dark on
 * white as the page sends it (each pixel a 10x10 block), like
 * tests/server/test_server_inside.c. One thread, the model's own
 * not-a-digit threshold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digitnet/answer.h"
#include "digitnet/clock.h"
#include "digitnet/idx.h"
#include "digitnet/image.h"
#include "digitnet/model.h"
#include "digitnet/net.h"
#include "digitnet/number.h"

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summary(const char *what, double *ms, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += ms[i];
    qsort(ms, (size_t)n, sizeof *ms, compare);
    printf("%s: mean %.3f ms, median %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n", what, sum / n, ms[n / 2],
           ms[(n * 9) / 10], ms[(n * 99) / 100], ms[n - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_number MODEL MNIST_DIR [COUNT] [SCALE]\n");
        return 2;
    }
    int count = argc > 3 ? atoi(argv[3]) : 1000, scale = argc > 4 ? atoi(argv[4]) : 10;
    if (count < 1 || scale < 1 || scale > 40) {
        fprintf(stderr, "bench_number: COUNT must be positive and SCALE 1 to 40\n");
        return 2;
    }
    dn_net *net;
    dn_model_info info;
    if (dn_model_load(&net, &info, argv[1]) != DN_OK) {
        fprintf(stderr, "%s\n", dn_last_error());
        return 1;
    }
    dn_net_set_threads(net, 1);
    char path[4096];
    dn_idx images = {0}, labels = {0};
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", argv[2]);
    dn_status st = dn_idx_read(&images, path);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", argv[2]);
    if (st == DN_OK)
        st = dn_idx_read(&labels, path);
    if (st != DN_OK || images.ndim != 3 || images.dims[1] != 28 || images.dims[2] != 28 || labels.ndim != 1 ||
        labels.dims[0] != images.dims[0]) {
        fprintf(stderr, "bench_number: no MNIST test set in %s (%s)\n", argv[2], st != DN_OK ? dn_last_error() : "");
        return 1;
    }
    if (count > images.dims[0])
        count = (int)images.dims[0];
    dn_number_options opt = dn_number_options_default();
    opt.input_mean = info.input_mean;
    opt.input_std = info.input_std;
    opt.min_confidence = dn_answer_threshold(info.answer_threshold, -1);
    int side = 28 * scale;
    uint8_t *pixels = malloc((size_t)side * side);
    double *wall = malloc((size_t)count * sizeof *wall), *cpu = malloc((size_t)count * sizeof *cpu);
    int *slow = calloc(5, sizeof *slow);
    double slow_ms[5] = {0};
    int right = 0, wrong = 0, refused = 0, several = 0, none = 0;
    for (int i = 0; i < count; i++) {
        const uint8_t *d = images.data + (size_t)i * 784;
        for (int k = 0; k < side * side; k++) {
            uint8_t v = d[(k / side / scale) * 28 + (k % side) / scale];
            pixels[k] = scale == 1 ? v : (uint8_t)(255 - v * 240 / 255);
        }
        dn_image img;
        dn_number num;
        if (dn_image_from_gray8(&img, pixels, side, side) != DN_OK) {
            fprintf(stderr, "%s\n", dn_last_error());
            return 1;
        }
        double t0 = dn_seconds(), c0 = cpu_seconds();
        st = dn_read_number(&num, &img, net, &opt);
        cpu[i] = 1000 * (cpu_seconds() - c0);
        wall[i] = 1000 * (dn_seconds() - t0);
        dn_image_free(&img);
        if (st != DN_OK) {
            fprintf(stderr, "%s\n", dn_last_error());
            return 1;
        }
        int label = labels.data[i];
        if (num.digits > 1)
            several++;
        else if (num.digits == 1)
            num.text[0] - '0' == label ? right++ : wrong++;
        else if (num.count > 0)
            refused++;
        else
            none++;
        for (int k = 0; k < 5; k++)
            if (cpu[i] > slow_ms[k]) {
                memmove(slow_ms + k + 1, slow_ms + k, (size_t)(4 - k) * sizeof *slow_ms);
                memmove(slow + k + 1, slow + k, (size_t)(4 - k) * sizeof *slow);
                slow_ms[k] = cpu[i];
                slow[k] = i;
                break;
            }
    }
    printf("%d MNIST test digits, %dx%d, model %s (threshold %.3f), one thread\n", count, side, side, argv[1],
           opt.min_confidence);
    printf("read as one digit, right: %d (%.2f%%); wrong: %d; refused: %d; several digits: %d; nothing: %d\n", right,
           100.0 * right / count, wrong, refused, several, none);
    summary("dn_read_number CPU time", cpu, count);
    summary("dn_read_number wall time", wall, count);
    printf("slowest (CPU):");
    for (int k = 0; k < 5 && k < count; k++)
        printf(" digit %d %.2f ms%s", slow[k], slow_ms[k], k < 4 ? "," : "\n");
    free(pixels);
    free(wall);
    free(cpu);
    free(slow);
    dn_idx_free(&images);
    dn_idx_free(&labels);
    dn_net_free(net);
    return 0;
}
