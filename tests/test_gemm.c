/* test_gemm.c - the fast SGEMM against the reference: all transposes, awkward
 * shapes and strides, alpha and beta, exact integer sums, thread determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/rng.h"
#include "gemm.h"
#include "test_util.h"

#define SENTINEL 12345.0f

typedef struct gemm_case {
    bool trans_a, trans_b;
    int m, n, k;
    int pad; /* extra elements per row in lda, ldb and ldc */
    float alpha, beta;
    bool integers; /* small integer data: every sum is exact, so bits must match */
} gemm_case;

/* Stored operand (rows x cols) with row stride ld: random values in
 * [-1, 1) or integers in [-4, 4]; the padding holds the sentinel. */
static float *new_operand(dn_rng *rng, int rows, int cols, int ld, bool integers)
{
    float *x = malloc(((size_t)rows * ld + 1) * sizeof *x);
    for (int r = 0; r < rows; r++)
        for (int col = 0; col < ld; col++)
            x[(size_t)r * ld + col] = col >= cols   ? SENTINEL
                                      : integers ? (float)((int)dn_rng_below(rng, 9) - 4)
                                                 : dn_rng_range(rng, -1.0f, 1.0f);
    return x;
}

/* One comparison of dn_sgemm with dn_sgemm_ref. Random data: each element
 * within 8 sqrt(k+1) eps of the sum of |terms| (a lost or doubled product is
 * about 1/k of it). Integer data: bit-identical. Padding of C untouched. */
static void check_case(dn_rng *rng, gemm_case t)
{
    int lda = (t.trans_a ? t.m : t.k) + t.pad, ldb = (t.trans_b ? t.k : t.n) + t.pad;
    int ldc = t.n + t.pad;
    float *a = new_operand(rng, t.trans_a ? t.k : t.m, t.trans_a ? t.m : t.k, lda, t.integers);
    float *b = new_operand(rng, t.trans_b ? t.n : t.k, t.trans_b ? t.k : t.n, ldb, t.integers);
    float *c = new_operand(rng, t.m, t.n, ldc, t.integers);
    if (t.beta == 0.0f)
        for (int i = 0; i < t.m; i++)
            for (int j = 0; j < t.n; j++)
                c[(size_t)i * ldc + j] = NAN;
    size_t csize = (size_t)t.m * ldc;
    float *want = malloc(csize * sizeof *want), *c0 = malloc(csize * sizeof *c0);
    memcpy(want, c, csize * sizeof *c);
    memcpy(c0, c, csize * sizeof *c);

    dn_sgemm(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, a, lda, b, ldb, t.beta, c, ldc);
    dn_sgemm_ref(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, a, lda, b, ldb, t.beta, want, ldc);

    double worst = 0;
    int bad = 0, bad_i = -1, bad_j = -1, pad_touched = 0;
    for (int i = 0; i < t.m; i++) {
        for (int j = 0; j < ldc; j++) {
            size_t at = (size_t)i * ldc + j;
            if (j >= t.n) {
                pad_touched += c[at] != SENTINEL;
                continue;
            }
            double scale = t.beta == 0.0f ? 0.0 : fabs((double)t.beta * c0[at]);
            for (int p = 0; p < t.k; p++) {
                float av = t.trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                float bv = t.trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                scale += fabs((double)t.alpha * av * bv);
            }
            double err = fabs((double)c[at] - (double)want[at]);
            double tol = t.integers ? 0.0 : 8.0 * sqrt(t.k + 1.0) * 1.1920929e-7 * (scale + 1e-30);
            if (!(err <= tol)) {
                if (!bad)
                    bad_i = i, bad_j = j;
                bad++;
            }
            if (err > worst || isnan(err))
                worst = isnan(err) ? INFINITY : err;
        }
    }
    CHECK(bad == 0,
          "ta=%d tb=%d m=%d n=%d k=%d pad=%d alpha=%g beta=%g int=%d: %d wrong, first (%d,%d), "
          "max err %g",
          t.trans_a, t.trans_b, t.m, t.n, t.k, t.pad, t.alpha, t.beta, t.integers, bad, bad_i,
          bad_j, worst);
    CHECK(pad_touched == 0, "m=%d n=%d ldc=%d: %d padding elements of C written", t.m, t.n, ldc,
          pad_touched);
    free(a);
    free(b);
    free(c);
    free(want);
    free(c0);
}

static void test_against_reference(void)
{
    static const int sizes[][3] = {
        {1, 1, 1},    {1, 1, 7},      {2, 3, 1},     {13, 17, 31},  {7, 31, 5},   {9, 33, 3},
        {8, 32, 8},   {6, 16, 4},     {17, 65, 19},  {15, 47, 2},   {5, 40, 600}, {33, 70, 1000},
        {19, 300, 40}, {9, 1000, 20}, {64, 10, 128}, {10, 128, 64}, {64, 128, 10}, {3, 257, 513},
        {50, 50, 257}, {1, 200, 30},  {200, 1, 30},  {37, 41, 0},   {1, 13, 47},  {1, 129, 9216},
        {24, 20, 9},  {24, 40, 37},   {24, 48, 37}, /* one-vector column tails for 4, 8, 16 lanes */
    };
    static const float alphas[] = {1.0f, -0.75f, 2.5f};
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    int variant = 0;
    dn_rng rng;
    dn_rng_seed(&rng, 42);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int tr = 0; tr < 4; tr++) {
            variant++;
            gemm_case t = {
                .trans_a = tr & 1,
                .trans_b = tr >> 1,
                .m = sizes[s][0],
                .n = sizes[s][1],
                .k = sizes[s][2],
                .pad = (variant % 3) * 3,
                .alpha = alphas[variant % 3],
                .beta = betas[(variant / 3) % 3],
            };
            check_case(&rng, t);
            t.integers = true;
            t.alpha = 1.0f;
            t.beta = (float)(variant % 2);
            t.pad = 5 - t.pad / 3 * 2;
            check_case(&rng, t);
        }
    }
    /* Big enough to run on several threads, large k and n, and the CNN shapes. */
    check_case(&rng, (gemm_case){false, false, 131, 517, 301, 2, 1.0f, 0.0f, false});
    check_case(&rng, (gemm_case){true, true, 131, 517, 301, 0, -1.5f, 0.5f, false});
    check_case(&rng, (gemm_case){false, false, 64, 576, 288, 0, 1.0f, 0.0f, true});
    check_case(&rng, (gemm_case){false, true, 64, 288, 576, 0, 1.0f, 1.0f, true});
    check_case(&rng, (gemm_case){true, false, 288, 576, 64, 0, 1.0f, 0.0f, true});
    check_case(&rng, (gemm_case){false, true, 64, 128, 9216, 0, 1.0f, 0.0f, false});
    check_case(&rng, (gemm_case){true, false, 128, 1100, 64, 1, 1.0f, 1.0f, true});
}

/* Hand-computed: [1 2; 3 4] [5 6; 7 8] = [19 22; 43 50], then alpha and beta. */
static void test_tiny_by_hand(void)
{
    const float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
    float c[4] = {1, 1, 1, 1};
    dn_sgemm(false, false, 2, 2, 2, 2.0f, a, 2, b, 2, 0.5f, c, 2);
    CHECK(c[0] == 38.5f && c[1] == 44.5f && c[2] == 86.5f && c[3] == 100.5f,
          "2x2: got %g %g %g %g", c[0], c[1], c[2], c[3]);
    dn_sgemm(true, true, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    /* A^T B^T = [1 3; 2 4] [5 7; 6 8] = [23 31; 34 46] */
    CHECK(c[0] == 23 && c[1] == 31 && c[2] == 34 && c[3] == 46, "2x2 transposed: got %g %g %g %g",
          c[0], c[1], c[2], c[3]);
}

/* Same inputs, different thread counts (and a call from inside a parallel
 * region, which must run serially): the bits of C must not change. */
static void test_thread_determinism(void)
{
#ifdef _OPENMP
    static const int shapes[][5] = {
        {0, 0, 300, 517, 700}, {1, 0, 288, 576, 64}, {0, 1, 64, 128, 9216}, {0, 1, 64, 288, 576},
    };
    dn_rng rng;
    dn_rng_seed(&rng, 7);
    int saved = omp_get_max_threads();
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        bool ta = shapes[s][0], tb = shapes[s][1];
        int m = shapes[s][2], n = shapes[s][3], k = shapes[s][4];
        size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
        float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
        float *c[4];
        dn_test_fill_uniform(&rng, a, na, -1.0f, 1.0f);
        dn_test_fill_uniform(&rng, b, nb, -1.0f, 1.0f);
        for (int t = 0; t < 4; t++) {
            c[t] = malloc(nc * sizeof *c[t]);
            for (size_t i = 0; i < nc; i++)
                c[t][i] = (float)i * 1e-3f;
        }
        for (int t = 0; t < 3; t++) {
            omp_set_num_threads(t + 1);
            dn_sgemm(ta, tb, m, n, k, 0.7f, a, ta ? m : k, b, tb ? k : n, 0.3f, c[t], n);
        }
        omp_set_num_threads(2);
#pragma omp parallel
        {
#pragma omp single
            dn_sgemm(ta, tb, m, n, k, 0.7f, a, ta ? m : k, b, tb ? k : n, 0.3f, c[3], n);
        }
        CHECK(memcmp(c[0], c[1], nc * sizeof(float)) == 0, "m=%d n=%d k=%d: 1 and 2 threads differ",
              m, n, k);
        CHECK(memcmp(c[0], c[2], nc * sizeof(float)) == 0, "m=%d n=%d k=%d: 1 and 3 threads differ",
              m, n, k);
        CHECK(memcmp(c[0], c[3], nc * sizeof(float)) == 0,
              "m=%d n=%d k=%d: call inside a parallel region differs", m, n, k);
        for (int t = 0; t < 4; t++)
            free(c[t]);
        free(a);
        free(b);
    }
    omp_set_num_threads(saved);
#endif
}

int main(void)
{
    test_tiny_by_hand();
    test_against_reference();
    test_thread_determinism();
    return dn_test_finish();
}
