/* maxpool2d.c - max pooling without padding, forward (remembering the argmax)
 * and backward (routing the gradient to it), and the maxpool layer. */
#include <string.h>

#include "internal.h"
#include "layer.h"

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

/* din = dout routed to the argmax positions; with pooled (the forward
 * pass's output) not NULL, only where it is > 0, that is where the winning
 * input is: the backward pass of a relu before the pool (dn_relu_mask's
 * rule), done on the way, reading the small pooled output instead of the
 * input at scattered places. */
static void route_gradient(float *din, const float *dout, const int32_t *argmax,
                           const float *pooled, int n, int c, int h, int w, int kernel, int stride)
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
    route_gradient(din, dout, argmax, NULL, n, c, h, w, kernel, stride);
}

/* ---- the layer ---- */

static dn_status pool_configure(dn_layer *layer)
{
    const int *in = layer->in_shape;
    if (layer->kernel_h < 1 || layer->stride < 1 || layer->kernel_h > in[1] ||
        layer->kernel_h > in[2])
        return dn_fail(DN_ERR_SHAPE, "maxpool %d stride %d does not fit an input of %dx%dx%d",
                       layer->kernel_h, layer->stride, in[0], in[1], in[2]);
    layer->out_shape[0] = in[0];
    layer->out_shape[1] = (in[1] - layer->kernel_h) / layer->stride + 1;
    layer->out_shape[2] = (in[2] - layer->kernel_h) / layer->stride + 1;
    return DN_OK;
}

static size_t pool_reserve_bytes(const dn_layer *layer, int batch)
{
    return layer->folded ? 0 : (size_t)batch * dn_sample_size(layer->out_shape) * sizeof(int32_t);
}

static dn_status pool_reserve(dn_layer *layer, int batch)
{
    if (layer->folded) /* the layer before computes the pool */
        return DN_OK;
    size_t count = (size_t)batch * dn_sample_size(layer->out_shape);
    int32_t *argmax = dn_alloc(count * sizeof *argmax);
    if (!argmax)
        return dn_fail(DN_ERR_NOMEM, "maxpool: cannot allocate its argmax cache");
    dn_free(layer->argmax);
    layer->argmax = argmax;
    return DN_OK;
}

/* Evaluation needs no argmax: it is found again if a backward pass follows. */
static void pool_forward(dn_layer *layer, float *out, const float *in, int n, bool training,
                         dn_rng *rng)
{
    (void)rng;
    dn_maxpool2d_forward(out, training ? layer->argmax : NULL, in, n, layer->in_shape[0],
                         layer->in_shape[1], layer->in_shape[2], layer->kernel_h, layer->stride);
    layer->argmax_stale = !training;
}

static void pool_backward(dn_layer *layer, float *din, float *dout, const float *in,
                          const float *out, int n)
{
    if (din && layer->argmax_stale) {
        dn_maxpool2d_forward(NULL, layer->argmax, in, n, layer->in_shape[0], layer->in_shape[1],
                             layer->in_shape[2], layer->kernel_h, layer->stride);
        layer->argmax_stale = false;
    }
    if (din)
        route_gradient(din, dout, layer->argmax, layer->relu_before ? out : NULL, n,
                       layer->in_shape[0], layer->in_shape[1], layer->in_shape[2],
                       layer->kernel_h, layer->stride);
}

const dn_layer_ops dn_maxpool2d_layer_ops = {
    .kind = "maxpool",
    .configure = pool_configure,
    .reserve = pool_reserve,
    .reserve_bytes = pool_reserve_bytes,
    .forward = pool_forward,
    .backward = pool_backward,
};
