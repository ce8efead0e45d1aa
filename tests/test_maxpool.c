/* test_maxpool.c - max pooling's rules on awkward values, against a plain
 * loop: ties go to the first candidate in row-major order, NaN beats every
 * number (as in PyTorch) and the first NaN wins, -inf is a number. Widths
 * exercise the 2x2 path's vectors, its one-by-one tail and both together;
 * other kernels and strides go through the general loop. Backward routes
 * each gradient to the remembered position and nowhere else. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/ops.h"
#include "test_util.h"

/* The rule, one output at a time. */
static void ref_pool(float *out, int32_t *arg, const float *in, int h, int w, int kernel, int stride)
{
    const int oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int best = -1;
            for (int i = 0; i < kernel; i++)
                for (int j = 0; j < kernel; j++) {
                    int at = (y * stride + i) * w + x * stride + j;
                    if (best < 0 || (isnan(in[at]) && !isnan(in[best])) ||
                        (!isnan(in[best]) && in[at] > in[best]))
                        best = at;
                }
            out[y * ow + x] = in[best];
            arg[y * ow + x] = best;
        }
}

/* Values drawn from a small set, so ties, NaNs and infinities are common. */
static float awkward(dn_rng *rng)
{
    static const float values[] = {0.0f, -0.0f, 1.0f, 1.0f, -1.0f, 2.5f, -INFINITY, INFINITY, NAN};
    return values[dn_rng_next(rng) % (sizeof values / sizeof values[0])];
}

static void check_shape(dn_rng *rng, int n, int c, int h, int w, int kernel, int stride)
{
    const int oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1;
    const size_t planes = (size_t)n * c, in_size = planes * h * w, out_size = planes * oh * ow;
    float *in = malloc(in_size * sizeof *in), *out = malloc(out_size * sizeof *out);
    float *want = malloc((size_t)oh * ow * sizeof *want), *dout = malloc(out_size * sizeof *dout);
    float *din = malloc(in_size * sizeof *din);
    int32_t *arg = malloc(out_size * sizeof *arg), *want_arg = malloc((size_t)oh * ow * sizeof *arg);
    for (size_t e = 0; e < in_size; e++)
        in[e] = awkward(rng);
    for (size_t e = 0; e < out_size; e++)
        dout[e] = (float)(e % 7) + 1.0f;

    dn_maxpool2d_forward(out, arg, in, n, c, h, w, kernel, stride);
    size_t wrong = 0;
    for (size_t p = 0; p < planes; p++) {
        ref_pool(want, want_arg, in + p * h * w, h, w, kernel, stride);
        for (int e = 0; e < oh * ow; e++) {
            float got = out[p * oh * ow + e];
            bool same = (isnan(got) && isnan(want[e])) ||
                        (got == want[e] && signbit(got) == signbit(want[e]));
            if (!same || arg[p * oh * ow + e] != want_arg[e])
                wrong++;
        }
    }
    CHECK(wrong == 0, "maxpool %d/%d on %dx%d: %zu of %zu outputs or positions differ", kernel,
          stride, h, w, wrong, out_size);

    /* values alone and positions alone: the same as both together */
    float *values = malloc(out_size * sizeof *values);
    int32_t *positions = malloc(out_size * sizeof *positions);
    dn_maxpool2d_forward(values, NULL, in, n, c, h, w, kernel, stride);
    dn_maxpool2d_forward(NULL, positions, in, n, c, h, w, kernel, stride);
    CHECK(!memcmp(values, out, out_size * sizeof *out) &&
              !memcmp(positions, arg, out_size * sizeof *arg),
          "maxpool %d/%d on %dx%d: values or positions alone differ", kernel, stride, h, w);
    free(values);
    free(positions);

    for (size_t e = 0; e < in_size; e++)
        din[e] = NAN; /* every element must be written */
    dn_maxpool2d_backward(din, dout, arg, n, c, h, w, kernel, stride);
    float *routed = calloc(in_size, sizeof *routed);
    for (size_t p = 0; p < planes; p++)
        for (int e = 0; e < oh * ow; e++)
            routed[p * h * w + (size_t)arg[p * oh * ow + e]] += dout[p * oh * ow + e];
    CHECK(!memcmp(routed, din, in_size * sizeof *din), "maxpool %d/%d on %dx%d: backward routing",
          kernel, stride, h, w);

    free(in);
    free(out);
    free(want);
    free(dout);
    free(din);
    free(arg);
    free(want_arg);
    free(routed);
}

int main(void)
{
    dn_rng rng;
    dn_rng_seed(&rng, 7);
    const int widths[] = {2, 3, 7, 8, 9, 13, 16, 24, 25};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        check_shape(&rng, 3, 5, widths[i], widths[i], 2, 2);
        check_shape(&rng, 2, 3, 6, widths[i], 2, 2);
    }
    check_shape(&rng, 2, 3, 9, 11, 3, 2);
    check_shape(&rng, 2, 3, 10, 10, 2, 1);
    check_shape(&rng, 1, 2, 7, 7, 3, 3);
    return dn_test_finish();
}
