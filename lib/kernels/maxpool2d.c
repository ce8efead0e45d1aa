/* maxpool2d.c - max pooling without padding, forward (remembering the argmax)
 * and backward (routing the gradient to it). The layer: layers/maxpool.c. */
#include <string.h>

#include "internal.h"
#include "maxpool2d.h"

/* The common 2x2, stride 2 case: the same comparisons in the same order as
 * the general loop, 4 outputs at a time in vector extensions, then one by
 * one. Candidate u replaces the best v when u > v, or when u is NaN and v is
 * not (NaN propagates, as in PyTorch). */
typedef float dn_pool_v __attribute__((vector_size(16)));
typedef int32_t dn_pool_vi __attribute__((vector_size(16)));

static inline dn_pool_v pool_load(const float *p)
{
    dn_pool_v v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void pool_take(dn_pool_v *v, dn_pool_vi *best, dn_pool_v u, dn_pool_vi at)
{
    dn_pool_vi take = (u > *v) | ((u != u) & (*v == *v));
    *v = (dn_pool_v)(((dn_pool_vi)u & take) | ((dn_pool_vi)*v & ~take));
    *best = (at & take) | (*best & ~take);
}

/* dst and arg may each be NULL (not written); the callers' tests on them do
 * not depend on the loop, so the compiler keeps them out of it. */
static void maxpool_2x2(float *dst, int32_t *arg, const float *src, int h, int w)
{
    const int oh = h / 2, ow = w / 2;
    for (int y = 0; y < oh; y++) {
        const float *top = src + (size_t)2 * y * w, *bottom = top + w;
        int x = 0;
        for (; x + 4 <= ow; x += 4) {
            dn_pool_v t0 = pool_load(top + 2 * x), t1 = pool_load(top + 2 * x + 4);
            dn_pool_v b0 = pool_load(bottom + 2 * x), b1 = pool_load(bottom + 2 * x + 4);
            dn_pool_vi at = 2 * y * w + 2 * x + (dn_pool_vi){0, 2, 4, 6};
            dn_pool_v v = __builtin_shufflevector(t0, t1, 0, 2, 4, 6);
            dn_pool_vi best = at;
            pool_take(&v, &best, __builtin_shufflevector(t0, t1, 1, 3, 5, 7), at + 1);
            pool_take(&v, &best, __builtin_shufflevector(b0, b1, 0, 2, 4, 6), at + w);
            pool_take(&v, &best, __builtin_shufflevector(b0, b1, 1, 3, 5, 7), at + w + 1);
            if (dst)
                memcpy(dst + y * ow + x, &v, sizeof v);
            if (arg)
                memcpy(arg + y * ow + x, &best, sizeof best);
        }
        for (; x < ow; x++) {
            int best = 2 * y * w + 2 * x;
            float v = top[2 * x];
            const float candidates[3] = {top[2 * x + 1], bottom[2 * x], bottom[2 * x + 1]};
            const int offsets[3] = {1, w, w + 1};
            for (int k = 0; k < 3; k++) {
                float u = candidates[k];
                if (u > v || (u != u && v == v)) {
                    v = u;
                    best = 2 * y * w + 2 * x + offsets[k];
                }
            }
            if (dst)
                dst[y * ow + x] = v;
            if (arg)
                arg[y * ow + x] = best;
        }
    }
}

void dn_maxpool2d_forward(float *out, int32_t *argmax, const float *in, int n, int c, int h,
                          int w, int kernel, int stride)
{
    const int oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1;
    const long planes = (long)n * c;
#pragma omp parallel for schedule(static) if (planes * oh * ow > 32768)
    for (long plane = 0; plane < planes; plane++) {
        const float *src = in + plane * h * w;
        float *dst = out ? out + plane * oh * ow : NULL;
        int32_t *arg = argmax ? argmax + plane * oh * ow : NULL;
        if (kernel == 2 && stride == 2) {
            maxpool_2x2(dst, arg, src, h, w);
            continue;
        }
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int best = y * stride * w + x * stride;
                float best_value = src[best];
                for (int i = 0; i < kernel; i++) {
                    for (int j = 0; j < kernel; j++) {
                        int at = (y * stride + i) * w + x * stride + j;
                        /* NaN propagates, as in PyTorch: a NaN beats everything. */
                        if (src[at] > best_value || (src[at] != src[at] && best_value == best_value)) {
                            best = at;
                            best_value = src[at];
                        }
                    }
                }
                if (dst)
                    dst[y * ow + x] = best_value;
                if (arg)
                    arg[y * ow + x] = best;
            }
        }
    }
}

/* The 2x2, stride 2 case of route_gradient for one plane: every input
 * element is written once (the window's winner gets the gradient, the other
 * three 0; a last odd row or column, in no window, 0), 4 windows at a time,
 * instead of clearing the whole plane and then scattering. */
static void route_2x2(float *dst, const float *g, const int32_t *arg, const float *pooled, int h,
                      int w)
{
    const int oh = h / 2, ow = w / 2;
    for (int y = 0; y < oh; y++) {
        float *top = dst + (size_t)2 * y * w, *bottom = top + w;
        int x = 0;
        for (; x + 4 <= ow; x += 4) {
            dn_pool_v grad = pool_load(g + y * ow + x);
            dn_pool_vi at, base = 2 * y * w + 2 * x + (dn_pool_vi){0, 2, 4, 6};
            memcpy(&at, arg + y * ow + x, sizeof at);
            if (pooled) { /* max > 0 ? grad : 0 */
                dn_pool_v max = pool_load(pooled + y * ow + x);
                grad = (dn_pool_v)((dn_pool_vi)grad & (max > 0.0f));
            }
            dn_pool_vi off = at - base; /* 0, 1, w or w + 1 */
            dn_pool_vi bits = (dn_pool_vi)grad;
            dn_pool_v t0 = (dn_pool_v)(bits & (off == 0)), t1 = (dn_pool_v)(bits & (off == 1));
            dn_pool_v b0 = (dn_pool_v)(bits & (off == w)), b1 = (dn_pool_v)(bits & (off == w + 1));
            dn_pool_v lo = __builtin_shufflevector(t0, t1, 0, 4, 1, 5);
            dn_pool_v hi = __builtin_shufflevector(t0, t1, 2, 6, 3, 7);
            memcpy(top + 2 * x, &lo, sizeof lo);
            memcpy(top + 2 * x + 4, &hi, sizeof hi);
            lo = __builtin_shufflevector(b0, b1, 0, 4, 1, 5);
            hi = __builtin_shufflevector(b0, b1, 2, 6, 3, 7);
            memcpy(bottom + 2 * x, &lo, sizeof lo);
            memcpy(bottom + 2 * x + 4, &hi, sizeof hi);
        }
        for (; x < ow; x++) {
            float grad = !pooled || pooled[y * ow + x] > 0.0f ? g[y * ow + x] : 0.0f;
            int off = arg[y * ow + x] - (2 * y * w + 2 * x);
            top[2 * x] = off == 0 ? grad : 0.0f;
            top[2 * x + 1] = off == 1 ? grad : 0.0f;
            bottom[2 * x] = off == w ? grad : 0.0f;
            bottom[2 * x + 1] = off == w + 1 ? grad : 0.0f;
        }
        if (w % 2) {
            top[w - 1] = 0.0f;
            bottom[w - 1] = 0.0f;
        }
    }
    if (h % 2)
        memset(dst + (size_t)(h - 1) * w, 0, (size_t)w * sizeof *dst);
}

void dn_maxpool2d_route(float *din, const float *dout, const int32_t *argmax, const float *pooled, int n,
                        int c, int h, int w, int kernel, int stride)
{
    const int oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1;
    const long planes = (long)n * c;
#pragma omp parallel for schedule(static) if (planes * h * w > 32768)
    for (long plane = 0; plane < planes; plane++) {
        float *dst = din + plane * h * w;
        const float *g = dout + plane * oh * ow;
        const int32_t *arg = argmax + plane * oh * ow;
        if (kernel == 2 && stride == 2) {
            route_2x2(dst, g, arg, pooled ? pooled + plane * oh * ow : NULL, h, w);
            continue;
        }
        memset(dst, 0, (size_t)h * w * sizeof *dst);
        if (pooled) {
            const float *max = pooled + plane * oh * ow;
            for (int i = 0; i < oh * ow; i++)
                if (max[i] > 0.0f)
                    dst[arg[i]] += g[i];
        } else {
            for (int i = 0; i < oh * ow; i++)
                dst[arg[i]] += g[i];
        }
    }
}

void dn_maxpool2d_backward(float *din, const float *dout, const int32_t *argmax, int n, int c,
                           int h, int w, int kernel, int stride)
{
    dn_maxpool2d_route(din, dout, argmax, NULL, n, c, h, w, kernel, stride);
}
