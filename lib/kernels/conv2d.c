/* conv2d.c - 2-D convolution, forward and backward: Winograd (winograd.c)
 * where the shape allows, else im2col + GEMM, with the batch in chunks across
 * threads. The conv layer (layers/conv.c) is built on it. */
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "gemm.h"
#include "im2col.h"
#include "internal.h"
#include "conv2d.h"
#include "winograd.h"

/* The batch is cut into at most this many chunks, fixed by the batch size
 * alone. Each chunk has its own partial weight gradient, and the partials are
 * summed in chunk order, so the result does not depend on how many threads
 * share the chunks nor on which thread takes which: chunks go to whichever
 * thread is free (schedule(dynamic)), so a thread slowed by another process
 * does not hold the others up. Scratch (patches, Winograd's tiles) belongs
 * to a thread instead: a thread reuses its own while it is still in cache. */
enum { DN_CONV_MAX_CHUNKS = 16 };

static int chunk_count(int n) { return n < DN_CONV_MAX_CHUNKS ? n : DN_CONV_MAX_CHUNKS; }

static void chunk_range(int n, int chunks, int chunk, int *begin, int *end)
{
    *begin = (int)((long)n * chunk / chunks);
    *end = (int)((long)n * (chunk + 1) / chunks);
}

dn_status dn_conv2d_dims_init(dn_conv2d_dims *d)
{
    if (d->n < 1 || d->in_c < 1 || d->in_h < 1 || d->in_w < 1 || d->out_c < 1 || d->kernel_h < 1 ||
        d->kernel_w < 1 || d->stride < 1 || d->pad < 0)
        return dn_fail(DN_ERR_SHAPE, "conv: sizes must be positive (n %d, %dx%dx%d in, %d out, kernel %dx%d, "
                       "stride %d) and pad not negative (%d)", d->n, d->in_c, d->in_h, d->in_w, d->out_c,
                       d->kernel_h, d->kernel_w, d->stride, d->pad);
    long span_h = (long)d->in_h + 2L * d->pad - d->kernel_h;
    long span_w = (long)d->in_w + 2L * d->pad - d->kernel_w;
    if (span_h < 0 || span_w < 0)
        return dn_fail(DN_ERR_SHAPE, "conv: a %dx%d kernel does not fit a %dx%d input padded by %d", d->kernel_h,
                       d->kernel_w, d->in_h, d->in_w, d->pad);
    d->out_h = (int)(span_h / d->stride + 1);
    d->out_w = (int)(span_w / d->stride + 1);
    return DN_OK;
}

static size_t patch_rows(const dn_conv2d_dims *d) { return (size_t)d->in_c * d->kernel_h * d->kernel_w; }
static size_t positions(const dn_conv2d_dims *d) { return (size_t)d->out_h * d->out_w; }

/* Winograd F(4x4, 3x3) (winograd.c) runs 3x3 stride-1 convolutions whose
 * channel counts, the GEMMs' inner dimensions, are at least this, forward
 * and backward; narrower ones (a first layer on a grey image) do less work
 * as im2col + GEMM. */
enum { DN_WINOGRAD_MIN_CHANNELS = 8 };

bool dn_conv2d_uses_winograd(const dn_conv2d_dims *d)
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
    return dn_conv2d_uses_winograd(d) ? dn_winograd_weight_floats(d) : 0;
}

static size_t scratch_floats(const dn_conv2d_dims *d)
{
    size_t col = patch_rows(d) * positions(d);
    size_t tiles = dn_conv2d_uses_winograd(d) ? dn_winograd_scratch_floats(d) : 0;
    return col > tiles ? col : tiles;
}

static size_t partial_floats(const dn_conv2d_dims *d)
{
    return dn_conv2d_uses_winograd(d) ? dn_winograd_gradient_floats(d) : (size_t)d->out_c * patch_rows(d);
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

void dn_conv2d_run_forward(float *out, int32_t *argmax, const float *in, const float *weight,
                           const float *bias, float *workspace, const dn_conv2d_dims *d, bool relu,
                           bool weights_ready)
{
    const int K = (int)patch_rows(d), P = (int)positions(d), OC = d->out_c;
    const size_t in_stride = (size_t)d->in_c * d->in_h * d->in_w, out_stride = (size_t)OC * P;
    const size_t pooled_stride = out_stride / 4;
    const int chunks = chunk_count(d->n);
    if (dn_conv2d_uses_winograd(d)) {
        const float *u = workspace;
        if (!weights_ready)
            dn_winograd_weight_forward(workspace, weight, d);
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1) num_threads(chunk_threads(chunks))
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
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1) num_threads(chunk_threads(chunks))
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
    dn_conv2d_run_forward(out, NULL, in, weight, bias, workspace, d, relu, false);
}

/* Elements the chunks' partials are summed over at a time: each element's
 * sum runs over the chunks in order, so the block size changes no bit. */
enum { DN_CONV_SUM_BLOCK = 256 };

/* sums[e] += the partials of chunks [first, chunks) at e, in chunk order,
 * for e in [begin, end): a block of running sums (vectorised across e)
 * takes one chunk after another. */
static void sum_partials_block(float *sums, const float *partials, size_t stride, int first, int chunks,
                               size_t begin, size_t end)
{
    float block[DN_CONV_SUM_BLOCK];
    const size_t count = end - begin;
    memcpy(block, sums + begin, count * sizeof *block);
    for (int chunk = first; chunk < chunks; chunk++) {
        const float *restrict p = partials + (size_t)chunk * stride + begin;
        for (size_t k = 0; k < count; k++)
            block[k] += p[k];
    }
    memcpy(sums + begin, block, count * sizeof *block);
}

/* dweight += the chunks' partial weight gradients, added in chunk order (in
 * Winograd's domain first, into chunk 0's partial, then transformed). */
static void sum_partials(float *dweight, float *workspace, const dn_conv2d_dims *d, int chunks)
{
    const bool winograd = dn_conv2d_uses_winograd(d);
    const size_t partial_size = partial_floats(d), partial_stride = partial_size;
    float *partials = chunk_partial(workspace, d, 0);
    float *sums = winograd ? partials : dweight;
    const int first = winograd ? 1 : 0;
    const long blocks = (long)((partial_size + DN_CONV_SUM_BLOCK - 1) / DN_CONV_SUM_BLOCK);
#pragma omp parallel for schedule(static) if (partial_size > 4096)
    for (long b = 0; b < blocks; b++) {
        size_t begin = (size_t)b * DN_CONV_SUM_BLOCK;
        size_t end = begin + DN_CONV_SUM_BLOCK < partial_size ? begin + DN_CONV_SUM_BLOCK : partial_size;
        sum_partials_block(sums, partials, partial_stride, first, chunks, begin, end);
    }
    if (winograd)
        dn_winograd_weight_gradient(dweight, partials, d);
}

void dn_conv2d_run_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                            const float *weight, float *workspace, const dn_conv2d_dims *d,
                            bool weights_ready, bool relu_input, const dn_conv2d_pooled *pooled)
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

    const bool winograd = dn_conv2d_uses_winograd(d);
    const float *u = workspace;
    if (winograd && din && !weights_ready)
        dn_winograd_weight_forward(workspace, weight, d);

#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1) num_threads(chunk_threads(chunks))
    for (int chunk = 0; chunk < chunks; chunk++) {
        float *col = thread_scratch(workspace, d);
        float *partial = dweight ? chunk_partial(workspace, d, chunk) : NULL;
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
            if (partial) {
                dn_im2col(col, in + b * in_stride, d);
                dn_sgemm(false, true, OC, K, P, 1.0f, g, P, col, P, b == begin ? 0.0f : 1.0f,
                         partial, K);
            }
            if (din) {
                /* dcol (K x P) = weight^T (K x OC) * dout_b (OC x P), reusing col */
                dn_sgemm(true, false, K, P, OC, 1.0f, weight, K, g, P, 0.0f, col, P);
                dn_col2im(din + b * in_stride, col, d);
                if (relu_input)
                    dn_relu_mask_here(din + b * in_stride, in + b * in_stride, in_stride);
            }
        }
    }

    if (dweight)
        sum_partials(dweight, workspace, d, chunks);
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
    dn_conv2d_run_backward(din, dweight, dbias, dout, in, weight, workspace, d, false, false, NULL);
}
