/* conv2d.c - 2-D convolution, forward and backward, and the conv layer built
 * on it: Winograd (winograd.c) where the shape allows, else im2col + GEMM,
 * with the batch in chunks across threads. */
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "gemm.h"
#include "im2col.h"
#include "internal.h"
#include "layer.h"
#include "winograd.h"

/* The batch is cut into at most this many chunks, fixed by the batch size
 * alone. Each chunk has its own partial weight gradient, and the partials are
 * summed in chunk order, so the result does not depend on how many threads
 * share the chunks. Scratch (patches, Winograd's tiles) belongs to a thread
 * instead: a thread reuses its own while it is still in cache. */
enum { DN_CONV_MAX_CHUNKS = 16 };

static int chunk_count(int n) { return n < DN_CONV_MAX_CHUNKS ? n : DN_CONV_MAX_CHUNKS; }

static void chunk_range(int n, int chunks, int chunk, int *begin, int *end)
{
    *begin = (int)((long)n * chunk / chunks);
    *end = (int)((long)n * (chunk + 1) / chunks);
}

int dn_conv2d_dims_init(dn_conv2d_dims *d)
{
    if (d->n < 1 || d->in_c < 1 || d->in_h < 1 || d->in_w < 1 || d->out_c < 1 ||
        d->kernel_h < 1 || d->kernel_w < 1 || d->stride < 1 || d->pad < 0)
        return 0;
    long span_h = (long)d->in_h + 2L * d->pad - d->kernel_h;
    long span_w = (long)d->in_w + 2L * d->pad - d->kernel_w;
    if (span_h < 0 || span_w < 0)
        return 0;
    d->out_h = (int)(span_h / d->stride + 1);
    d->out_w = (int)(span_w / d->stride + 1);
    return 1;
}

static size_t patch_rows(const dn_conv2d_dims *d) { return (size_t)d->in_c * d->kernel_h * d->kernel_w; }
static size_t positions(const dn_conv2d_dims *d) { return (size_t)d->out_h * d->out_w; }

/* Winograd F(4x4, 3x3) (winograd.c) runs 3x3 stride-1 convolutions whose
 * channel counts, the GEMMs' inner dimensions, are at least this, forward
 * and backward; narrower ones (a first layer on a grey image) do less work
 * as im2col + GEMM. */
enum { DN_WINOGRAD_MIN_CHANNELS = 8 };

static bool use_winograd(const dn_conv2d_dims *d)
{
    return dn_winograd_supported(d) && d->in_c >= DN_WINOGRAD_MIN_CHANNELS &&
           d->out_c >= DN_WINOGRAD_MIN_CHANNELS;
}

/* Workspace: [transformed weights (Winograd only)], one scratch area per
 * thread slot (the patch matrix K x P, or Winograd's tiles if larger), then one weight-gradient partial per chunk
 * (OC x K, or 36 x OC x C in Winograd's domain). There are as many slots as
 * chunks, at most as many threads run, and pages of slots no thread uses are
 * never touched. */
static size_t weight_floats(const dn_conv2d_dims *d)
{
    return use_winograd(d) ? dn_winograd_weight_floats(d) : 0;
}

static size_t scratch_floats(const dn_conv2d_dims *d)
{
    size_t col = patch_rows(d) * positions(d);
    size_t tiles = use_winograd(d) ? dn_winograd_scratch_floats(d) : 0;
    return col > tiles ? col : tiles;
}

static size_t partial_floats(const dn_conv2d_dims *d)
{
    return use_winograd(d) ? dn_winograd_gradient_floats(d) : (size_t)d->out_c * patch_rows(d);
}

static float *thread_scratch(float *workspace, const dn_conv2d_dims *d)
{
#ifdef _OPENMP
    int slot = omp_get_thread_num();
#else
    int slot = 0;
#endif
    return workspace + weight_floats(d) + (size_t)slot * scratch_floats(d);
}

static float *chunk_partial(float *workspace, const dn_conv2d_dims *d, int chunk)
{
    return workspace + weight_floats(d) + (size_t)chunk_count(d->n) * scratch_floats(d) +
           (size_t)chunk * partial_floats(d);
}

#ifdef _OPENMP
/* Threads for a loop over the chunks: no more than there are scratch slots. */
static int chunk_threads(int chunks)
{
    int threads = omp_get_max_threads();
    return threads < chunks ? threads : chunks;
}
#endif

size_t dn_conv2d_workspace_size(const dn_conv2d_dims *d)
{
    return weight_floats(d) + (size_t)chunk_count(d->n) * (scratch_floats(d) + partial_floats(d));
}

/* The forward pass; with weights_ready, Winograd's transformed weights are
 * already at the start of the workspace (the layer keeps them); with
 * argmax not NULL (Winograd and relu only), out is the 2x2 max-pool of the
 * output and argmax its winners (dn_winograd_forward_pooled). */
static void forward(float *out, int32_t *argmax, const float *in, const float *weight,
                    const float *bias, float *workspace, const dn_conv2d_dims *d, bool relu,
                    bool weights_ready)
{
    const int K = (int)patch_rows(d), P = (int)positions(d), OC = d->out_c;
    const size_t in_stride = (size_t)d->in_c * d->in_h * d->in_w, out_stride = (size_t)OC * P;
    const size_t pooled_stride = out_stride / 4;
    const int chunks = chunk_count(d->n);
    if (use_winograd(d)) {
        const float *u = workspace;
        if (!weights_ready)
            dn_winograd_weight_forward(workspace, weight, d);
#pragma omp parallel for schedule(static) if (chunks > 1) num_threads(chunk_threads(chunks))
        for (int chunk = 0; chunk < chunks; chunk++) {
            int begin, end;
            chunk_range(d->n, chunks, chunk, &begin, &end);
            if (argmax)
                dn_winograd_forward_pooled(out + begin * pooled_stride,
                                           argmax + begin * pooled_stride, in + begin * in_stride,
                                           u, bias, thread_scratch(workspace, d), d, end - begin);
            else
                dn_winograd_forward(out + begin * out_stride, in + begin * in_stride, u, bias,
                                    thread_scratch(workspace, d), d, end - begin, relu);
        }
        return;
    }
#pragma omp parallel for schedule(static) if (chunks > 1) num_threads(chunk_threads(chunks))
    for (int chunk = 0; chunk < chunks; chunk++) {
        float *col = thread_scratch(workspace, d);
        int begin, end;
        chunk_range(d->n, chunks, chunk, &begin, &end);
        for (int b = begin; b < end; b++) {
            float *o = out + b * out_stride;
            dn_im2col(col, in + b * in_stride, d);
            dn_sgemm(false, false, OC, P, K, 1.0f, weight, K, col, P, 0.0f, o, P);
            for (int oc = 0; oc < OC; oc++) {
                float *row = o + (size_t)oc * P, shift = bias ? bias[oc] : 0.0f;
                if (relu)
                    for (int p = 0; p < P; p++)
                        row[p] = row[p] + shift > 0.0f ? row[p] + shift : 0.0f;
                else
                    for (int p = 0; p < P; p++)
                        row[p] += shift;
            }
        }
    }
}

void dn_conv2d_forward(float *out, const float *in, const float *weight, const float *bias,
                       float *workspace, const dn_conv2d_dims *d, bool relu)
{
    forward(out, NULL, in, weight, bias, workspace, d, relu, false);
}

/* A forward pass with the pool fused in, for the backward pass: its pooled
 * output and winners, and room for n x OC bias sums. */
typedef struct conv_pooled {
    const float *pooled;
    const int32_t *argmax;
    float *bias_sums;
} conv_pooled;

/* The backward pass; weights_ready as for forward; with relu_input, din
 * is also 0 where in is not > 0 (the backward pass of the relu that made
 * in, done while din is in cache). With pooled not NULL, dout is the
 * gradient of the pooled output of such a forward pass (the relu and the
 * pool undone on the way, dbias summed as from the full gradient). */
static void backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                     const float *weight, float *workspace, const dn_conv2d_dims *d,
                     bool weights_ready, bool relu_input, const conv_pooled *pooled)
{
    const int K = (int)patch_rows(d), P = (int)positions(d), OC = d->out_c;
    const size_t in_stride = (size_t)d->in_c * d->in_h * d->in_w, out_stride = (size_t)OC * P;
    const size_t pooled_stride = out_stride / 4;
    const int chunks = chunk_count(d->n);

    if (dbias && !pooled) {
#pragma omp parallel for schedule(static) if ((long)OC * P * d->n > 65536)
        for (int oc = 0; oc < OC; oc++) {
            float sum = 0.0f;
            for (int b = 0; b < d->n; b++)
                sum += dn_sum(dout + b * out_stride + (size_t)oc * P, (size_t)P);
            dbias[oc] += sum;
        }
    }

    const bool winograd = use_winograd(d);
    const float *u = workspace;
    if (winograd && din && !weights_ready)
        dn_winograd_weight_forward(workspace, weight, d);

#pragma omp parallel for schedule(static) if (chunks > 1) num_threads(chunk_threads(chunks))
    for (int chunk = 0; chunk < chunks; chunk++) {
        float *col = thread_scratch(workspace, d);
        float *partial = chunk_partial(workspace, d, chunk);
        int begin, end;
        chunk_range(d->n, chunks, chunk, &begin, &end);
        if (winograd && pooled) {
            dn_winograd_pool pool = {
                .grad = dout + begin * pooled_stride,
                .pooled = pooled->pooled + begin * pooled_stride,
                .argmax = pooled->argmax + begin * pooled_stride,
                .bias_sums = dbias ? pooled->bias_sums + (size_t)begin * OC : NULL,
            };
            dn_winograd_backward(partial, din ? din + begin * in_stride : NULL, NULL,
                                 in + begin * in_stride, u, col, d, end - begin, relu_input, &pool);
            continue;
        }
        if (winograd) {
            dn_winograd_backward(partial, din ? din + begin * in_stride : NULL,
                                 dout + begin * out_stride, in + begin * in_stride, u, col, d,
                                 end - begin, relu_input, NULL);
            continue;
        }
        for (int b = begin; b < end; b++) {
            const float *g = dout + b * out_stride;
            /* partial (OC x K) += dout_b (OC x P) * col_b^T (P x K) */
            dn_im2col(col, in + b * in_stride, d);
            dn_sgemm(false, true, OC, K, P, 1.0f, g, P, col, P, b == begin ? 0.0f : 1.0f,
                     partial, K);
            if (din) {
                /* dcol (K x P) = weight^T (K x OC) * dout_b (OC x P), reusing col */
                dn_sgemm(true, false, K, P, OC, 1.0f, weight, K, g, P, 0.0f, col, P);
                dn_col2im(din + b * in_stride, col, d);
                if (relu_input)
                    dn_relu_mask_here(din + b * in_stride, in + b * in_stride, in_stride);
            }
        }
    }

    /* The partials summed in chunk order: into dweight, or first into chunk
     * 0's partial and then out of Winograd's domain into dweight. */
    const size_t partial_size = partial_floats(d), partial_stride = partial_size;
    float *partials = chunk_partial(workspace, d, 0);
    float *sums = winograd ? partials : dweight;
    const int first = winograd ? 1 : 0;
#pragma omp parallel for schedule(static) if (partial_size > 4096)
    for (size_t e = 0; e < partial_size; e++) {
        float sum = sums[e];
        for (int chunk = first; chunk < chunks; chunk++)
            sum += partials[(size_t)chunk * partial_stride + e];
        sums[e] = sum;
    }
    if (winograd)
        dn_winograd_weight_gradient(dweight, partials, d);
    if (dbias && pooled) /* in the order the unpooled sums take above */
        for (int oc = 0; oc < OC; oc++) {
            float sum = 0.0f;
            for (int b = 0; b < d->n; b++)
                sum += pooled->bias_sums[(size_t)b * OC + oc];
            dbias[oc] += sum;
        }
}

void dn_conv2d_backward(float *din, float *dweight, float *dbias, const float *dout,
                        const float *in, const float *weight, float *workspace,
                        const dn_conv2d_dims *d)
{
    backward(din, dweight, dbias, dout, in, weight, workspace, d, false, false, NULL);
}

/* ---- the layer ---- */

static dn_conv2d_dims layer_dims(const dn_layer *layer, int n)
{
    dn_conv2d_dims d = {
        .n = n, .in_c = layer->in_shape[0], .in_h = layer->in_shape[1], .in_w = layer->in_shape[2],
        .out_c = layer->units, .kernel_h = layer->kernel_h, .kernel_w = layer->kernel_w,
        .stride = layer->stride, .pad = layer->pad,
    };
    dn_conv2d_dims_init(&d);
    return d;
}

static dn_status conv_configure(dn_layer *layer)
{
    dn_conv2d_dims d = layer_dims(layer, 1);
    if (!dn_conv2d_dims_init(&d))
        return dn_fail(DN_ERR_SHAPE,
                       "conv %dx%d stride %d pad %d does not fit an input of %dx%dx%d",
                       layer->kernel_h, layer->kernel_w, layer->stride, layer->pad,
                       layer->in_shape[0], layer->in_shape[1], layer->in_shape[2]);
    layer->out_shape[0] = d.out_c;
    layer->out_shape[1] = d.out_h;
    layer->out_shape[2] = d.out_w;
    size_t fan_in = patch_rows(&d);
    layer->param_count = 2;
    layer->params[0] = (dn_layer_param){.suffix = "weight", .ndim = 4,
        .shape = {d.out_c, d.in_c, d.kernel_h, d.kernel_w},
        .size = (size_t)d.out_c * fan_in, .fan_in = fan_in};
    layer->params[1] = (dn_layer_param){.suffix = "bias", .ndim = 1, .shape = {d.out_c},
        .size = (size_t)d.out_c, .fan_in = fan_in};
    return DN_OK;
}

static size_t conv_reserve_bytes(const dn_layer *layer, int batch)
{
    dn_conv2d_dims d = layer_dims(layer, batch);
    size_t floats = dn_conv2d_workspace_size(&d) + (use_winograd(&d) ? layer->params[0].size : 0);
    if (layer->fuse_pool) /* argmax and bias sums, below */
        floats += (size_t)batch * dn_sample_size(layer->out_shape) / 4 + (size_t)batch * d.out_c;
    return floats * sizeof(float);
}

static dn_status conv_reserve(dn_layer *layer, int batch)
{
    dn_conv2d_dims d = layer_dims(layer, batch);
    float *workspace = dn_alloc(dn_conv2d_workspace_size(&d) * sizeof(float));
    float *kernels = use_winograd(&d) ? dn_alloc(layer->params[0].size * sizeof(float)) : NULL;
    /* with the pool fused in: the winners, and the bias sums of each image */
    size_t pooled = layer->fuse_pool ? (size_t)batch * dn_sample_size(layer->out_shape) / 4 : 0;
    int32_t *argmax = pooled ? dn_alloc(pooled * sizeof *argmax) : NULL;
    float *sums = pooled ? dn_alloc((size_t)batch * d.out_c * sizeof *sums) : NULL;
    if (!workspace || (use_winograd(&d) && !kernels) || (pooled && (!argmax || !sums))) {
        dn_free(workspace);
        dn_free(kernels);
        dn_free(argmax);
        dn_free(sums);
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate the convolution workspace", layer->name);
    }
    dn_layer_release(layer);
    layer->workspace = workspace;
    layer->transformed_from = kernels;
    layer->argmax = argmax;
    layer->bias_sums = sums;
    return DN_OK;
}

/* Whether the workspace holds Winograd's transform of the current weights,
 * making it if not. A layer's workspace is its own, so the transform
 * survives from call to call; one image after another would otherwise spend
 * a fifth of its time transforming weights that have not changed. */
static bool transformed_weights_ready(dn_layer *layer, const dn_conv2d_dims *d)
{
    if (!use_winograd(d))
        return false;
    const size_t bytes = layer->params[0].size * sizeof(float);
    if (!layer->transformed_valid || memcmp(layer->transformed_from, layer->weight, bytes) != 0) {
        dn_winograd_weight_forward(layer->workspace, layer->weight, d);
        memcpy(layer->transformed_from, layer->weight, bytes);
        layer->transformed_valid = true;
    }
    return true;
}

static void conv_forward(dn_layer *layer, float *out, const float *in, int n, bool training,
                         dn_rng *rng)
{
    (void)training;
    (void)rng;
    dn_conv2d_dims d = layer_dims(layer, n);
    bool ready = transformed_weights_ready(layer, &d);
    forward(out, layer->fuse_pool ? layer->argmax : NULL, in, layer->weight, layer->bias,
            layer->workspace, &d, layer->fuse_relu, ready);
}

static void conv_backward(dn_layer *layer, float *din, float *dout, const float *in,
                          const float *out, int n)
{
    dn_conv2d_dims d = layer_dims(layer, n);
    if (layer->fuse_relu && !layer->relu_by_next && !layer->fuse_pool)
        dn_relu_mask(dout, out, (size_t)n * dn_sample_size(layer->out_shape));
    bool ready = din && transformed_weights_ready(layer, &d);
    conv_pooled pooled = {.pooled = out, .argmax = layer->argmax, .bias_sums = layer->bias_sums};
    backward(din, layer->dweight, layer->dbias, dout, in, layer->weight, layer->workspace, &d,
             ready, layer->relu_before, layer->fuse_pool ? &pooled : NULL);
}

/* The relu and a 2x2, stride-2 max-pool after it can be computed in the
 * output transform of a Winograd convolution whose output sides are even:
 * conv2's output (9.4 MB at batch 64) is then never written nor read back. */
static bool conv_absorb_pool(dn_layer *layer, const dn_layer *pool)
{
    dn_conv2d_dims d = layer_dims(layer, 1);
    if (!layer->fuse_relu || !use_winograd(&d) || pool->kernel_h != 2 || pool->stride != 2 ||
        d.out_h % 2 || d.out_w % 2)
        return false;
    layer->fuse_pool = true;
    return true;
}

const dn_layer_ops dn_conv2d_layer_ops = {
    .kind = "conv",
    .configure = conv_configure,
    .reserve = conv_reserve,
    .reserve_bytes = conv_reserve_bytes,
    .forward = conv_forward,
    .backward = conv_backward,
    .absorb_pool = conv_absorb_pool,
};
