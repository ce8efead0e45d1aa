/* bench_conv.c - the pieces of the cnn preset's conv2 (32 -> 64 channels,
 * 3x3 on 26x26, batch 64) timed one by one on one thread: Winograd forward
 * and backward next to im2col + GEMM. The best of
 * several runs is printed, which a busy shared machine disturbs least.
 * `bench_conv [TEXT [THREADS]]` runs only the pieces whose name contains
 * TEXT, the layer pieces on THREADS threads. Not a test: it never fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/ops.h"
#include "digitnet/rng.h"
#include "gemm.h"
#include "im2col.h"
#include "winograd.h"

enum { BATCH = 64 };

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *filled(dn_rng *rng, size_t n)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        x[i] = dn_rng_range(rng, -1.0f, 1.0f);
    return x;
}

typedef struct conv_bench {
    dn_conv2d_dims d;
    float *in, *out, *dout, *din, *weight, *u, *grad, *dweight, *scratch, *col, *workspace;
} conv_bench;

typedef void (*bench_fn)(conv_bench *b);

/* The public layer kernels (chunked over the batch, with the threads OpenMP
 * allows); they transform the weights on every call, as a training step's
 * layer does when its weights have just changed. */
static void layer_forward(conv_bench *b)
{
    dn_conv2d_forward(b->out, b->in, b->weight, NULL, b->workspace, &b->d, true);
}

static void layer_backward(conv_bench *b)
{
    dn_conv2d_backward(b->din, b->dweight, NULL, b->dout, b->in, b->weight, b->workspace, &b->d);
}

static void wino_forward(conv_bench *b)
{
    dn_winograd_weight_forward(b->u, b->weight, &b->d);
    dn_winograd_forward(b->out, b->in, b->u, NULL, b->scratch, &b->d, BATCH, false);
}

static void wino_backward(conv_bench *b)
{
    dn_winograd_weight_forward(b->u, b->weight, &b->d);
    dn_winograd_backward(b->grad, b->din, b->dout, b->in, b->u, b->scratch, &b->d, BATCH, false, NULL);
    dn_winograd_weight_gradient(b->dweight, b->grad, &b->d);
}

static void wino_backward_weight(conv_bench *b)
{
    dn_winograd_backward(b->grad, NULL, b->dout, b->in, b->u, b->scratch, &b->d, BATCH, false, NULL);
    dn_winograd_weight_gradient(b->dweight, b->grad, &b->d);
}

static void gemm_backward_weight(conv_bench *b)
{
    const dn_conv2d_dims *d = &b->d;
    const int K = d->in_c * 9, P = d->out_h * d->out_w;
    for (int i = 0; i < BATCH; i++) {
        dn_im2col(b->col, b->in + (size_t)i * d->in_c * d->in_h * d->in_w, d);
        dn_sgemm(false, true, d->out_c, K, P, 1.0f, b->dout + (size_t)i * d->out_c * P, P, b->col,
                 P, i == 0 ? 0.0f : 1.0f, b->dweight, K);
    }
}

static void gemm_forward(conv_bench *b)
{
    const dn_conv2d_dims *d = &b->d;
    const int K = d->in_c * 9, P = d->out_h * d->out_w;
    for (int i = 0; i < BATCH; i++) {
        dn_im2col(b->col, b->in + (size_t)i * d->in_c * d->in_h * d->in_w, d);
        dn_sgemm(false, false, d->out_c, P, K, 1.0f, b->weight, K, b->col, P, 0.0f,
                 b->out + (size_t)i * d->out_c * P, P);
    }
}

static const char *only; /* argv[1]: run only the pieces whose name contains it */
static int threads = 1;  /* argv[2]: threads of the layer pieces (the others use 1) */

static void report(const char *name, bench_fn fn, conv_bench *b)
{
    if (only && !strstr(name, only))
        return;
    const double flops = 2.0 * BATCH * b->d.out_c * b->d.in_c * 9 * b->d.out_h * b->d.out_w;
    double best = 1e30;
    fn(b);
    for (int run = 0; run < 15; run++) {
        double t0 = now_seconds();
        fn(b);
        double t = now_seconds() - t0;
        if (t < best)
            best = t;
    }
    printf("%-28s %8.2f ms  %7.1f GFLOP/s (direct-convolution FLOPs)\n", name, best * 1e3,
           flops / best * 1e-9);
}

int main(int argc, char **argv)
{
    only = argc > 1 && argv[1][0] ? argv[1] : NULL;
    threads = argc > 2 ? atoi(argv[2]) : 1;
    if (threads < 1)
        threads = 1;
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    dn_rng rng;
    dn_rng_seed(&rng, 1);
    conv_bench b = {.d = {.n = BATCH, .in_c = 32, .in_h = 26, .in_w = 26, .out_c = 64,
                          .kernel_h = 3, .kernel_w = 3, .stride = 1, .pad = 0}};
    dn_conv2d_dims_init(&b.d);
    const size_t in_size = (size_t)BATCH * 32 * 26 * 26, out_size = (size_t)BATCH * 64 * 24 * 24;
    b.in = filled(&rng, in_size);
    b.din = filled(&rng, in_size);
    b.out = filled(&rng, out_size);
    b.dout = filled(&rng, out_size);
    b.weight = filled(&rng, 64 * 32 * 9);
    b.dweight = filled(&rng, 64 * 32 * 9);
    b.u = filled(&rng, dn_winograd_weight_floats(&b.d));
    b.grad = filled(&rng, dn_winograd_gradient_floats(&b.d));
    b.scratch = filled(&rng, dn_winograd_scratch_floats(&b.d));
    b.col = filled(&rng, (size_t)32 * 9 * 24 * 24);
    b.workspace = filled(&rng, dn_conv2d_workspace_size(&b.d));
    if (!b.in || !b.din || !b.out || !b.dout || !b.weight || !b.dweight || !b.u || !b.grad ||
        !b.scratch || !b.col || !b.workspace) {
        fprintf(stderr, "bench_conv: out of memory\n");
        return 1;
    }
    printf("conv2 of the cnn preset, batch %d, 1 thread, best of 15\n", BATCH);
    report("winograd forward", wino_forward, &b);
    report("winograd both gradients", wino_backward, &b);
    report("winograd weight gradient only", wino_backward_weight, &b);
    report("im2col+gemm forward", gemm_forward, &b);
    report("im2col+gemm weight gradient", gemm_backward_weight, &b);
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    printf("the layer (dn_conv2d_*), %d thread%s:\n", threads, threads > 1 ? "s" : "");
    report("layer forward+relu", layer_forward, &b);
    report("layer backward", layer_backward, &b);
    return 0;
}
