/* test_winograd.c - Winograd F(4x4, 3x3) (forward, input and weight
 * gradients) against plain convolution loops on
 * awkward shapes (odd sizes, partial tiles, padding 0-3, 1/3/33 channels),
 * directly and through dn_conv2d_*, and 1 vs 2 threads bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet/ops.h"
#include "test_util.h"
#include "winograd.h"

typedef struct conv_case {
    int n, c, h, w, oc, pad;
} conv_case;

static const conv_case cases[] = {
    {1, 1, 5, 5, 3, 0},   {5, 3, 7, 9, 1, 1},  {17, 33, 11, 6, 5, 2}, {1, 33, 3, 3, 33, 0},
    {5, 3, 4, 13, 33, 1}, {2, 1, 1, 1, 3, 2},  {2, 3, 6, 5, 4, 3},    {5, 33, 9, 10, 8, 1},
    {17, 8, 13, 12, 9, 0}, {1, 9, 28, 27, 12, 1},
    /* more than one vector of tiles in a row, and a row of exactly 8 tiles */
    {2, 8, 37, 70, 8, 1}, {3, 8, 30, 30, 8, 1}, {2, 8, 62, 62, 8, 1},
};

typedef struct conv_data {
    dn_conv2d_dims d;
    float *in, *weight, *bias, *dout;
    size_t in_size, out_size, weight_size;
} conv_data;

/* Random data for a case; with zero_bias, an output whose window lies in
 * the padding is exactly 0. */
static conv_data make_data(dn_rng *rng, conv_case t, bool zero_bias)
{
    conv_data x = {.d = {.n = t.n, .in_c = t.c, .in_h = t.h, .in_w = t.w, .out_c = t.oc,
                         .kernel_h = 3, .kernel_w = 3, .stride = 1, .pad = t.pad}};
    dn_conv2d_dims_init(&x.d);
    x.in_size = (size_t)t.n * t.c * t.h * t.w;
    x.out_size = (size_t)t.n * t.oc * x.d.out_h * x.d.out_w;
    x.weight_size = (size_t)t.oc * t.c * 9;
    x.in = malloc(x.in_size * sizeof(float));
    x.weight = malloc(x.weight_size * sizeof(float));
    x.bias = malloc((size_t)t.oc * sizeof(float));
    x.dout = malloc(x.out_size * sizeof(float));
    dn_test_fill_uniform(rng, x.in, x.in_size, -1.0f, 1.0f);
    dn_test_fill_uniform(rng, x.weight, x.weight_size, -1.0f, 1.0f);
    dn_test_fill_uniform(rng, x.bias, (size_t)t.oc, -1.0f, 1.0f);
    if (zero_bias)
        memset(x.bias, 0, (size_t)t.oc * sizeof *x.bias);
    dn_test_fill_uniform(rng, x.dout, x.out_size, -1.0f, 1.0f);
    return x;
}

static void free_data(conv_data *x)
{
    free(x->in);
    free(x->weight);
    free(x->bias);
    free(x->dout);
}

/* Largest |p[e]|, e < n. */
static double largest(const float *p, size_t n)
{
    double most = 0;
    for (size_t e = 0; e < n; e++)
        most = fmax(most, fabs(p[e]));
    return most;
}

/* Sum over channels of the largest |value| of a plane of `planes` (one
 * image, one channel per plane) times sum |w| of the kernel pairing it with
 * channel k: the magnitudes a Winograd tile mixes into an output of channel
 * k, whichever of its terms are zero (by_out: planes are output channels). */
static double spread(const conv_data *x, const float *planes, int count, size_t plane, int k,
                     bool by_out)
{
    double total = 0;
    for (int p = 0; p < count; p++) {
        size_t pair = by_out ? (size_t)p * x->d.in_c + k : (size_t)k * x->d.in_c + p;
        double weights = 0;
        for (int e = 0; e < 9; e++)
            weights += fabs(x->weight[pair * 9 + e]);
        total += largest(planes + (size_t)p * plane, plane) * weights;
    }
    return total;
}

/* Reference forward in double: out and scale per element (the sum of
 * |terms| and what the tile mixes in, see spread). */
static void ref_forward(double *out, double *scale, const conv_data *x, bool relu)
{
    const dn_conv2d_dims *d = &x->d;
    const size_t in_plane = (size_t)d->in_h * d->in_w;
    size_t at = 0;
    for (int b = 0; b < d->n; b++)
        for (int o = 0; o < d->out_c; o++) {
            double mixed = spread(x, x->in + (size_t)b * d->in_c * in_plane, d->in_c, in_plane, o,
                                  false);
            for (int y = 0; y < d->out_h; y++)
                for (int xx = 0; xx < d->out_w; xx++, at++) {
                    double sum = x->bias[o], abs_sum = fabs(x->bias[o]) + mixed;
                    for (int c = 0; c < d->in_c; c++)
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++) {
                                int iy = y + i - d->pad, ix = xx + j - d->pad;
                                if (iy < 0 || iy >= d->in_h || ix < 0 || ix >= d->in_w)
                                    continue;
                                double term =
                                    (double)x->weight[((size_t)o * d->in_c + c) * 9 + i * 3 + j] *
                                    x->in[(((size_t)b * d->in_c + c) * d->in_h + iy) * d->in_w + ix];
                                sum += term;
                                abs_sum += fabs(term);
                            }
                    out[at] = relu && !(sum > 0.0) ? 0.0 : sum;
                    scale[at] = abs_sum;
                }
        }
}

/* Reference input gradient: din[b,c,u,v] = sum dout[b,o,u+p-i,v+p-j] w[o,c,i,j]. */
static void ref_backward_data(double *din, double *scale, const conv_data *x)
{
    const dn_conv2d_dims *d = &x->d;
    const size_t out_plane = (size_t)d->out_h * d->out_w;
    size_t at = 0;
    for (int b = 0; b < d->n; b++)
        for (int c = 0; c < d->in_c; c++) {
            double mixed = spread(x, x->dout + (size_t)b * d->out_c * out_plane, d->out_c,
                                  out_plane, c, true);
            for (int u = 0; u < d->in_h; u++)
                for (int v = 0; v < d->in_w; v++, at++) {
                    double sum = 0, abs_sum = mixed;
                    for (int o = 0; o < d->out_c; o++)
                        for (int i = 0; i < 3; i++)
                            for (int j = 0; j < 3; j++) {
                                int y = u + d->pad - i, xx = v + d->pad - j;
                                if (y < 0 || y >= d->out_h || xx < 0 || xx >= d->out_w)
                                    continue;
                                double term =
                                    (double)x->weight[((size_t)o * d->in_c + c) * 9 + i * 3 + j] *
                                    x->dout[(((size_t)b * d->out_c + o) * d->out_h + y) * d->out_w + xx];
                                sum += term;
                                abs_sum += fabs(term);
                            }
                    din[at] = sum;
                    scale[at] = abs_sum;
                }
        }
}

/* Reference weight gradient: dw[o,c,i,j] = sum dout[b,o,y,x] in[b,c,y+i-p,x+j-p].
 * Its scale also counts sum |dout[b,o]| times the largest |in[b,c]|: the
 * transforms combine every input of a tile with each output gradient, and
 * those combinations cancel exactly but their rounding errors do not. */
static void ref_backward_weight(double *dw, double *scale, const conv_data *x)
{
    const dn_conv2d_dims *d = &x->d;
    const size_t in_plane = (size_t)d->in_h * d->in_w, out_plane = (size_t)d->out_h * d->out_w;
    for (int o = 0; o < d->out_c; o++)
        for (int c = 0; c < d->in_c; c++) {
            double spread = 0;
            for (int b = 0; b < d->n; b++) {
                const float *g = x->dout + ((size_t)b * d->out_c + o) * out_plane;
                const float *in = x->in + ((size_t)b * d->in_c + c) * in_plane;
                double grad_sum = 0, in_max = 0;
                for (size_t e = 0; e < out_plane; e++)
                    grad_sum += fabs(g[e]);
                for (size_t e = 0; e < in_plane; e++)
                    in_max = fmax(in_max, fabs(in[e]));
                spread += grad_sum * in_max;
            }
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) {
                    double sum = 0, abs_sum = 0;
                    for (int b = 0; b < d->n; b++)
                        for (int y = 0; y < d->out_h; y++)
                            for (int xx = 0; xx < d->out_w; xx++) {
                                int iy = y + i - d->pad, ix = xx + j - d->pad;
                                if (iy < 0 || iy >= d->in_h || ix < 0 || ix >= d->in_w)
                                    continue;
                                double term =
                                    (double)x->dout[(((size_t)b * d->out_c + o) * d->out_h + y) * d->out_w + xx] *
                                    x->in[(((size_t)b * d->in_c + c) * d->in_h + iy) * d->in_w + ix];
                                sum += term;
                                abs_sum += fabs(term);
                            }
                    size_t at = (((size_t)o * d->in_c + c) * 3 + i) * 3 + j;
                    dw[at] = sum;
                    scale[at] = abs_sum + spread;
                }
        }
}

/* Relative error allowed against the scale (plus a floor). */
#define TOLERANCE 1e-5

/* got within TOLERANCE times the scale (plus a floor) of want. */
static void check_close(const char *what, const conv_case *t, const float *got, const double *want,
                        const double *scale, size_t n)
{
    size_t bad = 0, first = 0;
    double worst = 0;
    for (size_t e = 0; e < n; e++) {
        double err = fabs((double)got[e] - want[e]);
        worst = fmax(worst, err / (scale[e] + 1e-3));
        if (!(err <= TOLERANCE * (scale[e] + 1e-3))) {
            if (!bad)
                first = e;
            bad++;
        }
    }
    CHECK(bad == 0,
          "%s n=%d c=%d %dx%d oc=%d pad=%d: %zu of %zu wrong (first at %zu: %g, want %g), "
          "worst relative error %g",
          what, t->n, t->c, t->h, t->w, t->oc, t->pad, bad, n, first, bad ? got[first] : 0.0,
          bad ? want[first] : 0.0, worst);
}

/* The kernels of winograd.h called directly, on any channel count. */
static void check_direct(dn_rng *rng, conv_case t, bool zero_bias)
{
    conv_data x = make_data(rng, t, zero_bias);
    const dn_conv2d_dims *d = &x.d;
    CHECK(dn_winograd_supported(d), "3x3 stride 1 is supported");
    size_t scratch_floats = dn_winograd_scratch_floats(d);
    float *u = malloc(dn_winograd_weight_floats(d) * sizeof(float));
    float *scratch = malloc(scratch_floats * sizeof(float));
    float *out = malloc(x.out_size * sizeof(float)), *din = malloc(x.in_size * sizeof(float));
    size_t most = x.out_size > x.in_size ? x.out_size : x.in_size;
    if (x.weight_size > most)
        most = x.weight_size;
    double *want = malloc(most * sizeof(double)), *scale = malloc(most * sizeof(double));

    dn_winograd_weight_forward(u, x.weight, d);
    for (int relu = 0; relu < 2; relu++) {
        for (size_t e = 0; e < scratch_floats; e++)
            scratch[e] = NAN; /* nothing unwritten may reach the output */
        for (size_t e = 0; e < x.out_size; e++)
            out[e] = NAN;
        dn_winograd_forward(out, x.in, u, relu ? x.bias : NULL, scratch, d, d->n, relu);
        if (!relu) /* the reference adds the bias: compare against out + 0 bias */
            for (int b = 0; b < d->n; b++)
                for (int o = 0; o < d->out_c; o++)
                    for (int p = 0; p < d->out_h * d->out_w; p++)
                        out[((size_t)b * d->out_c + o) * d->out_h * d->out_w + p] += x.bias[o];
        ref_forward(want, scale, &x, relu);
        check_close(relu ? "winograd forward+relu" : "winograd forward", &t, out, want, scale,
                    x.out_size);
    }

    /* both gradients, over the images in two calls (the weight gradients
     * summed); then the weight gradient alone, which must agree */
    float *grad = malloc(2 * dn_winograd_gradient_floats(d) * sizeof(float));
    float *dweight = malloc(x.weight_size * sizeof(float));
    float *second = grad + dn_winograd_gradient_floats(d);
    const int split = d->n / 2, first_images = d->n - split;
    const size_t in_image = x.in_size / d->n, out_image = x.out_size / d->n;
    for (size_t e = 0; e < 2 * dn_winograd_gradient_floats(d); e++)
        grad[e] = NAN; /* overwritten, never read */
    for (size_t e = 0; e < x.in_size; e++)
        din[e] = NAN;
    for (size_t e = 0; e < scratch_floats; e++)
        scratch[e] = NAN;
    dn_winograd_backward(grad, din, x.dout, x.in, u, scratch, d, first_images, false, NULL);
    if (split > 0) {
        dn_winograd_backward(second, din + first_images * in_image,
                             x.dout + first_images * out_image, x.in + first_images * in_image, u,
                             scratch, d, split, false, NULL);
        for (size_t e = 0; e < dn_winograd_gradient_floats(d); e++)
            grad[e] += second[e];
    }
    ref_backward_data(want, scale, &x);
    check_close("winograd input gradient", &t, din, want, scale, x.in_size);
    for (size_t e = 0; e < x.weight_size; e++)
        dweight[e] = 0.0f;
    dn_winograd_weight_gradient(dweight, grad, d);
    ref_backward_weight(want, scale, &x);
    check_close("winograd weight gradient", &t, dweight, want, scale, x.weight_size);

    dn_winograd_backward(second, NULL, x.dout, x.in, u, scratch, d, d->n, false, NULL);
    dn_winograd_backward(grad, din, x.dout, x.in, u, scratch, d, d->n, false, NULL);
    /* relu_input: the same din, 0 where the input is not > 0 */
    float *masked = malloc(x.in_size * sizeof(float));
    dn_winograd_backward(grad, masked, x.dout, x.in, u, scratch, d, d->n, true, NULL);
    size_t wrong = 0;
    for (size_t e = 0; e < x.in_size; e++) {
        float want_e = x.in[e] > 0.0f ? din[e] : 0.0f;
        wrong += memcmp(&masked[e], &want_e, sizeof want_e) != 0;
    }
    CHECK(wrong == 0, "n=%d c=%d %dx%d oc=%d pad=%d: relu_input masks din (%zu wrong)", t.n, t.c,
          t.h, t.w, t.oc, t.pad, wrong);
    free(masked);
    CHECK(!memcmp(grad, second, dn_winograd_gradient_floats(d) * sizeof(float)),
          "n=%d c=%d %dx%d oc=%d pad=%d: the weight gradient without din differs", t.n, t.c, t.h,
          t.w, t.oc, t.pad);

    free(grad);
    free(dweight);
    free(u);
    free(scratch);
    free(out);
    free(din);
    free(want);
    free(scale);
    free_data(&x);
}

/* Everything dn_conv2d_forward/backward produce, for the thread comparison. */
typedef struct conv_result {
    float *out, *din, *dweight, *dbias;
} conv_result;

static conv_result run_layer(const conv_data *x, bool relu)
{
    const dn_conv2d_dims *d = &x->d;
    conv_result r = {malloc(x->out_size * sizeof(float)), malloc(x->in_size * sizeof(float)),
                     calloc(x->weight_size, sizeof(float)), calloc((size_t)d->out_c, sizeof(float))};
    size_t ws = dn_conv2d_workspace_size(d);
    float *workspace = malloc((ws ? ws : 1) * sizeof(float));
    for (size_t e = 0; e < ws; e++)
        workspace[e] = NAN;
    dn_conv2d_forward(r.out, x->in, x->weight, x->bias, workspace, d, relu);
    dn_conv2d_backward(r.din, r.dweight, r.dbias, x->dout, x->in, x->weight, workspace, d);
    free(workspace);
    return r;
}

static void free_result(conv_result *r)
{
    free(r->out);
    free(r->din);
    free(r->dweight);
    free(r->dbias);
}

/* The dispatching layer kernels (Winograd where the channels allow) against
 * the references, and 1 vs 2 threads bit for bit. */
static void check_layer(dn_rng *rng, conv_case t)
{
    conv_data x = make_data(rng, t, false);
    size_t most = x.out_size > x.in_size ? x.out_size : x.in_size;
    if (x.weight_size > most)
        most = x.weight_size;
    double *want = malloc(most * sizeof(double)), *scale = malloc(most * sizeof(double));
    for (int relu = 0; relu < 2; relu++) {
#ifdef _OPENMP
        int saved = omp_get_max_threads();
        omp_set_num_threads(1);
#endif
        conv_result one = run_layer(&x, relu);
#ifdef _OPENMP
        omp_set_num_threads(2);
#endif
        conv_result two = run_layer(&x, relu);
#ifdef _OPENMP
        omp_set_num_threads(saved);
#endif
        ref_forward(want, scale, &x, relu);
        check_close(relu ? "dn_conv2d_forward+relu" : "dn_conv2d_forward", &t, one.out, want, scale,
                    x.out_size);
        if (!relu) {
            ref_backward_data(want, scale, &x);
            check_close("dn_conv2d_backward din", &t, one.din, want, scale, x.in_size);
            ref_backward_weight(want, scale, &x);
            check_close("dn_conv2d_backward dweight", &t, one.dweight, want, scale,
                        x.weight_size);
        }
        bool same = !memcmp(one.out, two.out, x.out_size * sizeof(float)) &&
                    !memcmp(one.din, two.din, x.in_size * sizeof(float)) &&
                    !memcmp(one.dweight, two.dweight, x.weight_size * sizeof(float)) &&
                    !memcmp(one.dbias, two.dbias, (size_t)x.d.out_c * sizeof(float));
        CHECK(same, "n=%d c=%d %dx%d oc=%d pad=%d relu=%d: 1 and 2 threads differ", t.n, t.c, t.h,
              t.w, t.oc, t.pad, relu);
        free_result(&one);
        free_result(&two);
    }
    free(want);
    free(scale);
    free_data(&x);
}

/* One workspace shared by two different convolutions (the public functions
 * keep nothing in it between calls): the first again gives what a fresh
 * workspace gives. */
static void check_shared_workspace(dn_rng *rng)
{
    conv_data a = make_data(rng, (conv_case){2, 8, 9, 9, 8, 1}, false);
    conv_data b = make_data(rng, (conv_case){3, 1, 7, 7, 2, 0}, false);
    size_t wa = dn_conv2d_workspace_size(&a.d), wb = dn_conv2d_workspace_size(&b.d);
    size_t ws = wa > wb ? wa : wb;
    float *shared = malloc(ws * sizeof(float)), *fresh = malloc(wa * sizeof(float));
    float *out = malloc(a.out_size * sizeof(float)), *want = malloc(a.out_size * sizeof(float));
    float *out_b = malloc(b.out_size * sizeof(float));
    for (size_t e = 0; e < ws; e++)
        shared[e] = NAN;
    for (size_t e = 0; e < wa; e++)
        fresh[e] = NAN;
    dn_conv2d_forward(out, a.in, a.weight, a.bias, shared, &a.d, false);
    dn_conv2d_forward(out_b, b.in, b.weight, b.bias, shared, &b.d, false);
    a.weight[5] = nextafterf(a.weight[5], INFINITY);
    dn_conv2d_forward(out, a.in, a.weight, a.bias, shared, &a.d, false);
    dn_conv2d_forward(want, a.in, a.weight, a.bias, fresh, &a.d, false);
    CHECK(!memcmp(out, want, a.out_size * sizeof(float)),
          "a workspace shared with another convolution: as with a fresh one");
    free(shared);
    free(fresh);
    free(out);
    free(want);
    free(out_b);
    free_data(&a);
    free_data(&b);
}

int main(void)
{
    dn_rng rng;
    dn_rng_seed(&rng, 2024);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_direct(&rng, cases[i], false);
        check_direct(&rng, cases[i], true);
        check_layer(&rng, cases[i]);
    }
    /* conv2 of the cnn preset in miniature: 32 -> 64 channels, 16 chunks. */
    check_layer(&rng, (conv_case){17, 32, 10, 10, 64, 0});
    check_shared_workspace(&rng);
    return dn_test_finish();
}
