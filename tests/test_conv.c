/* test_conv.c - convolutions of one input channel (a first layer on grey
 * images; im2col + GEMM behind dn_conv2d_*, Winograd needing 8 channels)
 * against plain loops in double: kernels from 1x1 to 8x8, padding 0-3,
 * widths off the vector width, batches larger than the chunk count; 1 vs 2
 * threads bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/ops.h"
#include "test_util.h"

typedef struct direct_case {
    int n, h, w, oc, kh, kw, pad;
} direct_case;

static const direct_case cases[] = {
    {1, 28, 28, 32, 3, 3, 0}, {3, 5, 5, 3, 3, 3, 1},   {17, 13, 11, 9, 3, 3, 0},
    {2, 9, 26, 8, 1, 1, 0},   {2, 7, 10, 5, 2, 3, 1},  {4, 12, 12, 16, 5, 5, 2},
    {1, 9, 9, 7, 7, 7, 3},    {2, 10, 10, 4, 8, 8, 0}, {5, 3, 4, 17, 3, 3, 2},
};

typedef struct results {
    float *out, *din, *dw, *db;
} results;

static results run(const dn_conv2d_dims *d, const float *in, const float *w, const float *b,
                   const float *dout, bool relu, int threads)
{
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    size_t in_size = (size_t)d->n * d->in_h * d->in_w, out_size = (size_t)d->n * d->out_c * d->out_h * d->out_w;
    results r = {malloc(out_size * sizeof(float)), malloc(in_size * sizeof(float)),
                 calloc((size_t)d->out_c * d->kernel_h * d->kernel_w, sizeof(float)),
                 calloc((size_t)d->out_c, sizeof(float))};
    size_t ws = dn_conv2d_workspace_size(d);
    float *work = malloc((ws ? ws : 1) * sizeof(float));
    for (size_t e = 0; e < ws; e++)
        work[e] = NAN; /* nothing unwritten may reach the output */
    dn_conv2d_forward(r.out, in, w, b, work, d, relu);
    dn_conv2d_backward(r.din, r.dw, r.db, dout, in, w, work, d);
    free(work);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    return r;
}

static void release(results *r)
{
    free(r->out);
    free(r->din);
    free(r->dw);
    free(r->db);
}

static size_t count_far(const float *got, const double *want, const double *scale, size_t n)
{
    size_t bad = 0;
    for (size_t e = 0; e < n; e++)
        if (!(fabs((double)got[e] - want[e]) <= 1e-5 * (scale[e] + 1e-3)))
            bad++;
    return bad;
}

static void check_case(dn_rng *rng, direct_case t)
{
    dn_conv2d_dims d = {.n = t.n, .in_c = 1, .in_h = t.h, .in_w = t.w, .out_c = t.oc,
                        .kernel_h = t.kh, .kernel_w = t.kw, .stride = 1, .pad = t.pad};
    CHECK(dn_conv2d_dims_init(&d) == DN_OK, "case dims");
    const int oh = d.out_h, ow = d.out_w, taps = t.kh * t.kw;
    size_t in_size = (size_t)t.n * t.h * t.w, out_size = (size_t)t.n * t.oc * oh * ow;
    float *in = malloc(in_size * sizeof *in), *w = malloc((size_t)t.oc * taps * sizeof *w);
    float *b = malloc((size_t)t.oc * sizeof *b), *dout = malloc(out_size * sizeof *dout);
    dn_test_fill_uniform(rng, in, in_size, -1, 1);
    dn_test_fill_uniform(rng, w, (size_t)t.oc * taps, -1, 1);
    dn_test_fill_uniform(rng, b, (size_t)t.oc, -1, 1);
    dn_test_fill_uniform(rng, dout, out_size, -1, 1);

    size_t most = out_size > (size_t)t.oc * taps ? out_size : (size_t)t.oc * taps;
    double *want = malloc(most * sizeof *want), *scale = malloc(most * sizeof *scale);
    for (int relu = 0; relu < 2; relu++) {
        results one = run(&d, in, w, b, dout, relu, 1), two = run(&d, in, w, b, dout, relu, 2);
        /* forward */
        size_t at = 0;
        for (int n = 0; n < t.n; n++)
            for (int o = 0; o < t.oc; o++)
                for (int y = 0; y < oh; y++)
                    for (int x = 0; x < ow; x++, at++) {
                        double sum = b[o], abs_sum = fabs(b[o]);
                        for (int i = 0; i < t.kh; i++)
                            for (int j = 0; j < t.kw; j++) {
                                int iy = y + i - t.pad, ix = x + j - t.pad;
                                if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w)
                                    continue;
                                double term = (double)w[o * taps + i * t.kw + j] *
                                              in[((size_t)n * t.h + iy) * t.w + ix];
                                sum += term;
                                abs_sum += fabs(term);
                            }
                        want[at] = relu && !(sum > 0) ? 0 : sum;
                        scale[at] = abs_sum;
                    }
        CHECK(count_far(one.out, want, scale, out_size) == 0,
              "%dx%d kernel, pad %d, %dx%d, n=%d, relu=%d: forward", t.kh, t.kw, t.pad, t.h, t.w,
              t.n, relu);
        /* weight gradient */
        for (int o = 0; o < t.oc; o++)
            for (int i = 0; i < t.kh; i++)
                for (int j = 0; j < t.kw; j++) {
                    double sum = 0, abs_sum = 0;
                    for (int n = 0; n < t.n; n++)
                        for (int y = 0; y < oh; y++)
                            for (int x = 0; x < ow; x++) {
                                int iy = y + i - t.pad, ix = x + j - t.pad;
                                if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w)
                                    continue;
                                double term = (double)dout[(((size_t)n * t.oc + o) * oh + y) * ow + x] *
                                              in[((size_t)n * t.h + iy) * t.w + ix];
                                sum += term;
                                abs_sum += fabs(term);
                            }
                    want[o * taps + i * t.kw + j] = sum;
                    scale[o * taps + i * t.kw + j] = abs_sum;
                }
        CHECK(count_far(one.dw, want, scale, (size_t)t.oc * taps) == 0,
              "%dx%d kernel, pad %d, %dx%d, n=%d: weight gradient", t.kh, t.kw, t.pad, t.h, t.w, t.n);
        bool same = !memcmp(one.out, two.out, out_size * sizeof(float)) &&
                    !memcmp(one.din, two.din, in_size * sizeof(float)) &&
                    !memcmp(one.dw, two.dw, (size_t)t.oc * taps * sizeof(float)) &&
                    !memcmp(one.db, two.db, (size_t)t.oc * sizeof(float));
        CHECK(same, "%dx%d kernel, pad %d, %dx%d, n=%d, relu=%d: 1 and 2 threads differ", t.kh,
              t.kw, t.pad, t.h, t.w, t.n, relu);
        release(&one);
        release(&two);
    }
    free(want);
    free(scale);
    free(in);
    free(w);
    free(b);
    free(dout);
}

int main(void)
{
    dn_rng rng;
    dn_rng_seed(&rng, 99);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&rng, cases[i]);
    return dn_test_finish();
}
