/* bench_gemm.c - GFLOP/s of dn_sgemm on square sizes and on the shapes the
 * MNIST CNN trains with, for 1 and 2 threads. Not a test: it never fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/rng.h"
#include "gemm.h"

typedef struct bench_shape {
    const char *name;
    bool trans_a, trans_b;
    int m, n, k;
    float beta;
} bench_shape;

static const bench_shape shapes[] = {
    {"square 256", false, false, 256, 256, 256, 0.0f},
    {"square 512", false, false, 512, 512, 512, 0.0f},
    {"square 1024", false, false, 1024, 1024, 1024, 0.0f},
    {"square 512 TN", true, false, 512, 512, 512, 0.0f},
    {"square 512 NT", false, true, 512, 512, 512, 0.0f},
    {"conv1 fwd", false, false, 32, 676, 9, 0.0f},
    {"conv1 dW", false, true, 32, 9, 676, 1.0f},
    {"conv2 fwd", false, false, 64, 576, 288, 0.0f},
    {"conv2 dW", false, true, 64, 288, 576, 1.0f},
    {"conv2 dX", true, false, 288, 576, 64, 0.0f},
    {"conv2 winograd fwd", false, false, 64, 144, 32, 0.0f},
    {"conv2 winograd dX", false, false, 32, 196, 64, 0.0f},
    {"conv2 winograd dW", false, true, 64, 32, 144, 1.0f},
    {"fc1 fwd", false, true, 64, 128, 9216, 0.0f},
    {"fc1 dW", true, false, 128, 9216, 64, 1.0f},
    {"fc1 dX", false, false, 64, 9216, 128, 0.0f},
    {"fc2 fwd", false, true, 64, 10, 128, 0.0f},
    {"fc2 dW", true, false, 10, 128, 64, 1.0f},
    {"fc2 dX", false, false, 64, 128, 10, 0.0f},
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fill(dn_rng *rng, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = dn_rng_range(rng, -1.0f, 1.0f);
}

/* Best GFLOP/s over several timed batches, each long enough to time. */
static double bench(const bench_shape *s, const float *a, const float *b, float *c)
{
    int lda = s->trans_a ? s->m : s->k, ldb = s->trans_b ? s->k : s->n;
    double flops = 2.0 * s->m * s->n * s->k, best = 0;
    int reps = 1 + (int)(2e8 / flops);
    dn_sgemm(s->trans_a, s->trans_b, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, s->beta, c, s->n);
    for (int trial = 0; trial < 5; trial++) {
        double t0 = now_seconds();
        for (int r = 0; r < reps; r++)
            dn_sgemm(s->trans_a, s->trans_b, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, s->beta, c,
                     s->n);
        double rate = flops * reps / (now_seconds() - t0) / 1e9;
        if (rate > best)
            best = rate;
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    int max_threads = 1;
#ifdef _OPENMP
    max_threads = omp_get_max_threads() < 2 ? omp_get_max_threads() : 2;
#endif
    dn_rng rng;
    dn_rng_seed(&rng, 1);
    printf("%-16s %5s %5s %5s %10s %10s\n", "shape", "m", "n", "k", "1 thread", "2 threads");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const bench_shape *s = &shapes[i];
        if (only && !strstr(s->name, only))
            continue;
        size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
        float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
        if (!a || !b || !c) {
            fprintf(stderr, "bench_gemm: out of memory\n");
            return 1;
        }
        fill(&rng, a, na);
        fill(&rng, b, nb);
        fill(&rng, c, nc);
        printf("%-16s %5d %5d %5d", s->name, s->m, s->n, s->k);
        for (int t = 1; t <= 2; t++) {
            if (t > max_threads) {
                printf(" %10s", "-");
                continue;
            }
#ifdef _OPENMP
            omp_set_num_threads(t);
#endif
            printf(" %10.1f", bench(s, a, b, c));
            fflush(stdout);
        }
        printf("\n");
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
