/* bench.c - measured performance of training and inference next to the
 * machine's own measured FMA peak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench.h"
#include "digitnet/clock.h"
#include "digitnet/optim.h"
#include "digitnet/rng.h"

#if defined(__AVX512F__)
#define BENCH_VBYTES 64
#elif defined(__AVX__)
#define BENCH_VBYTES 32
#else
#define BENCH_VBYTES 16
#endif

typedef float bench_vf __attribute__((vector_size(BENCH_VBYTES)));
enum { BENCH_CHAINS = 12, BENCH_LANES = BENCH_VBYTES / 4 };

/* One thread's share: 12 independent multiply-add chains, enough to cover
 * the FMA latency on current cores. Returns a value so nothing is elided. */
static float fma_chains(long iterations)
{
    bench_vf acc[BENCH_CHAINS], mul, add;
    for (int k = 0; k < BENCH_LANES; k++) {
        mul[k] = 0.999999f;
        add[k] = 1e-7f;
    }
    for (int c = 0; c < BENCH_CHAINS; c++)
        for (int k = 0; k < BENCH_LANES; k++)
            acc[c][k] = (float)c;
    for (long i = 0; i < iterations; i++)
        for (int c = 0; c < BENCH_CHAINS; c++)
            acc[c] = acc[c] * mul + add;
    float sum = 0;
    for (int c = 0; c < BENCH_CHAINS; c++)
        for (int k = 0; k < BENCH_LANES; k++)
            sum += acc[c][k];
    return sum;
}

double bench_peak_gflops(int threads)
{
    const long iterations = 20000000;
    volatile float sink = 0;
    double start = dn_seconds();
#pragma omp parallel num_threads(threads)
    {
        float s = fma_chains(iterations);
#pragma omp atomic
        sink += s;
    }
    double seconds = dn_seconds() - start;
    (void)sink;
    return (double)threads * iterations * BENCH_CHAINS * BENCH_LANES * 2 / seconds / 1e9;
}

static void print_row(const char *name, double ms_forward, double ms_backward, double flops,
                      double peak)
{
    double ms = ms_forward + ms_backward;
    printf("%-14s %9.3f %9.3f %9.3f", name, ms_forward, ms_backward, ms);
    if (flops > 0)
        printf(" %9.1f %6.1f%%\n", flops / (ms * 1e-3) / 1e9, 100 * flops / (ms * 1e-3) / 1e9 / peak);
    else
        printf(" %9s %7s\n", "-", "-");
}

/* count random inputs for net, in the range of normalised MNIST pixels
 * (malloc'd; NULL when out of memory). */
static float *random_inputs(const dn_net *net, int count, uint64_t seed)
{
    int shape[3];
    dn_net_input_shape(net, shape);
    size_t floats = (size_t)count * shape[0] * shape[1] * shape[2];
    float *images = malloc(floats * sizeof *images);
    dn_rng rng;
    dn_rng_seed(&rng, seed);
    for (size_t i = 0; images && i < floats; i++)
        images[i] = dn_rng_range(&rng, -0.42f, 2.8f);
    return images;
}

int bench_training(dn_net *net, int batch, int threads, int steps)
{
    float *images = random_inputs(net, batch, 1);
    uint8_t *labels = malloc((size_t)batch);
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt = NULL;
    if (!images || !labels || dn_optim_new(&opt, &config, dn_net_param_count(net)) != DN_OK) {
        free(images);
        free(labels);
        return 1;
    }
    dn_rng rng;
    dn_rng_seed(&rng, 1);
    for (int b = 0; b < batch; b++)
        labels[b] = (uint8_t)dn_rng_below(&rng, (uint64_t)dn_net_num_classes(net));
    dn_net_set_threads(net, threads);
    double peak = bench_peak_gflops(threads);

    double start = 0, optimizer_seconds = 0;
    dn_net_zero_grad(net); /* then each optimizer step clears them for the next */
    for (int step = -3; step < steps; step++) {
        if (step == 0) {
            dn_net_reset_profile(net);
            dn_net_set_profiling(net, true);
            start = dn_seconds();
        }
        dn_net_forward(net, images, batch, true);
        dn_net_backward(net, labels, NULL, NULL);
        double before = dn_seconds();
        dn_optim_step_clear(opt, dn_net_params(net), dn_net_grads(net), dn_net_param_count(net), 1e-4f);
        if (step >= 0)
            optimizer_seconds += dn_seconds() - before;
    }
    double seconds = dn_seconds() - start;

    printf("training: %s\nbatch %d, %d thread%s, %d steps; measured FMA peak %.1f GFLOP/s\n\n",
           dn_net_spec(net), batch, threads, threads == 1 ? "" : "s", steps, peak);
    printf("%-14s %9s %9s %9s %9s %7s\n", "layer", "fwd ms", "bwd ms", "total ms", "GFLOP/s", "peak");
    double total_flops = 0, layer_ms = 0;
    int convs = 0, linears = 0;
    for (int i = 0; i < dn_net_layer_count(net); i++) {
        double fwd_s, bwd_s, fwd_flops, bwd_flops;
        dn_net_layer_times(net, i, &fwd_s, &bwd_s);
        dn_net_layer_flops(net, i, &fwd_flops, &bwd_flops);
        const char *kind = dn_net_layer_kind(net, i);
        char name[32];
        if (strcmp(kind, "conv") == 0)
            snprintf(name, sizeof name, "conv%d", ++convs);
        else if (strcmp(kind, "linear") == 0)
            snprintf(name, sizeof name, "fc%d", ++linears);
        else
            snprintf(name, sizeof name, "%s", kind);
        if (strcmp(kind, "flatten") == 0)
            continue;
        double flops = (fwd_flops + bwd_flops) * batch;
        total_flops += flops;
        layer_ms += (fwd_s + bwd_s) * 1e3 / steps;
        print_row(name, fwd_s * 1e3 / steps, bwd_s * 1e3 / steps, flops, peak);
    }
    double step_ms = seconds * 1e3 / steps;
    print_row("optimizer", 0, optimizer_seconds * 1e3 / steps, 0, peak);
    print_row("other", 0, step_ms - layer_ms - optimizer_seconds * 1e3 / steps, 0, peak);
    print_row("step", 0, step_ms, total_flops, peak);
    printf("\n%.0f training images/s (%.1f s per 60,000-image epoch), %.1f MFLOP per image\n",
           batch * steps / seconds, 60000.0 / (batch * steps / seconds), total_flops / batch / 1e6);
    printf("(GFLOP/s count a direct convolution's operations; 3x3 stride-1 convolutions of 8 or\n"
           "more channels run as Winograd F(4x4, 3x3) with 4x fewer multiplications, so their\n"
           "rate, and the step's, can pass the peak.)\n");
    dn_net_set_profiling(net, false);
    dn_optim_free(opt);
    free(images);
    free(labels);
    return 0;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_inference(dn_net *net, int runs, int threads)
{
    int shape[3];
    dn_net_input_shape(net, shape);
    size_t sample = (size_t)shape[0] * shape[1] * shape[2];
    const int batch = 1000, classes = dn_net_num_classes(net);
    float *images = random_inputs(net, batch, 2);
    float *probs = malloc((size_t)batch * classes * sizeof *probs);
    double *latency = malloc((size_t)runs * sizeof *latency);
    if (!images || !probs || !latency) {
        free(images);
        free(probs);
        free(latency);
        return 1;
    }
    dn_net_set_threads(net, 1);
    for (int r = 0; r < 10; r++)
        dn_net_predict(net, images, 1, probs, (size_t)batch * classes);
    dn_net_reset_profile(net);
    dn_net_set_profiling(net, true);
    for (int r = 0; r < runs; r++) {
        double start = dn_seconds();
        dn_net_predict(net, images + (size_t)(r % batch) * sample, 1, probs, (size_t)batch * classes);
        latency[r] = dn_seconds() - start;
    }
    dn_net_set_profiling(net, false);
    qsort(latency, (size_t)runs, sizeof *latency, compare_doubles);
    double mean = 0;
    for (int r = 0; r < runs; r++)
        mean += latency[r] / runs;

    dn_net_set_threads(net, threads);
    dn_net_predict(net, images, batch, probs, (size_t)batch * classes);
    int rounds = 5;
    double start = dn_seconds();
    for (int r = 0; r < rounds; r++)
        dn_net_predict(net, images, batch, probs, (size_t)batch * classes);
    double batched = dn_seconds() - start;

    double fwd_flops = 0;
    for (int i = 0; i < dn_net_layer_count(net); i++) {
        double f, b;
        dn_net_layer_flops(net, i, &f, &b);
        fwd_flops += f;
    }
    printf("inference: %s (%.1f MFLOP per image)\n", dn_net_spec(net), fwd_flops / 1e6);
    printf("single image, 1 thread, %d runs: median %.3f ms, mean %.3f ms, p99 %.3f ms\n", runs,
           latency[runs / 2] * 1e3, mean * 1e3, latency[runs * 99 / 100] * 1e3);
    printf("batch %d, %d thread%s: %.0f images/s (%.1f GFLOP/s)\n", batch, threads,
           threads == 1 ? "" : "s", rounds * batch / batched,
           rounds * batch * fwd_flops / batched / 1e9);
    printf("single image by layer (mean ms):");
    for (int i = 0; i < dn_net_layer_count(net); i++) {
        double f, b;
        dn_net_layer_times(net, i, &f, &b);
        if (f > 0)
            printf(" %s %.3f", dn_net_layer_kind(net, i), f * 1e3 / runs);
    }
    putchar('\n');
    free(images);
    free(probs);
    free(latency);
    return 0;
}
