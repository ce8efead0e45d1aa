/* gemm.c - the fast SGEMM: Goto/BLIS-style packing of A and B panels, an
 * MR x NR register-tiled micro-kernel in GCC vector extensions, OpenMP over C. */
#include <stddef.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "gemm.h"

/* Vector width from the target: 16 floats with AVX-512, 8 with AVX, else 4
 * (SSE2, NEON or the compiler's generic lowering). A micro-tile is MR rows by
 * NR = 2 vectors; MR is as large as the register file allows: 2*MR
 * accumulators, 2 vectors of B and one broadcast of A must stay in registers. */
#if defined(__AVX512F__)
#define DN_VBYTES 64
#define DN_MR 8
#elif defined(__AVX__)
#define DN_VBYTES 32
#define DN_MR 6
#elif defined(__aarch64__)
#define DN_VBYTES 16
#define DN_MR 8
#else
#define DN_VBYTES 16
#define DN_MR 6
#endif

#define DN_VL (DN_VBYTES / (int)sizeof(float)) /* floats per vector */
#define DN_NR (2 * DN_VL)                      /* columns of a micro-tile */

/* Cache blocking. A packed KC x NC block of B (96 KiB) stays in L2 while the
 * kernel walks it once per MR rows; the MR x KC micro-panel of A stays in L1.
 * Packing buffers live on the stack of the thread that uses them (about
 * 100 KiB in all): no allocation in any call, nothing to free or to leak,
 * nothing shared between threads, and worker stacks (2 MiB or more in libgomp
 * and libomp) hold them comfortably. */
#define DN_KC 128
#define DN_NC (24576 / DN_KC / DN_NR * DN_NR)

/* Below this many multiply-adds a parallel region costs more than it saves. */
#define DN_GEMM_PARALLEL_MIN (1L << 17)

typedef float dn_vf __attribute__((vector_size(DN_VBYTES)));

/* Everything one call needs, shared read-only by the threads. */
typedef struct dn_gemm_job {
    bool trans_a, trans_b;
    int m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int lda, ldb, ldc;
} dn_gemm_job;

static inline int dn_min(int x, int y)
{
    return x < y ? x : y;
}

static inline int dn_ceil_div(int x, int y)
{
    return (x + y - 1) / y;
}

static inline dn_vf dn_vload(const float *p)
{
    dn_vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void dn_vstore(float *p, dn_vf v)
{
    memcpy(p, &v, sizeof v);
}

/* The micro-kernel: c[MR x nv vectors] = alpha * ap^T bp + beta * c, where
 * ap is a packed kc x MR panel of A (MR values per k) and bp a packed kc x NR
 * panel of B (nv is 2, or 1 for a panel of at most one vector's columns).
 * beta == 0 does not read c. Every element is the sum over p in order,
 * whatever nv. */
static inline __attribute__((always_inline)) void
dn_gemm_micro(int kc, const float *restrict ap, const float *restrict bp, float alpha, float beta,
              float *restrict c, int ldc, int nv)
{
    dn_vf acc[DN_MR][2] = {{{0}}};
    for (int p = 0; p < kc; p++) {
        dn_vf b0 = dn_vload(bp + (size_t)p * DN_NR);
        dn_vf b1 = nv == 2 ? dn_vload(bp + (size_t)p * DN_NR + DN_VL) : b0;
#pragma GCC unroll 16
        for (int i = 0; i < DN_MR; i++) {
            float ai = ap[(size_t)p * DN_MR + i];
            acc[i][0] += ai * b0;
            if (nv == 2)
                acc[i][1] += ai * b1;
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < DN_MR; i++) {
#pragma GCC unroll 2
        for (int v = 0; v < nv; v++) {
            float *cp = c + (size_t)i * ldc + v * DN_VL;
            dn_vf r = alpha * acc[i][v];
            if (beta != 0.0f)
                r += beta * dn_vload(cp);
            dn_vstore(cp, r);
        }
    }
}

/* A partial tile (mr < MR, or nr not a whole number of vectors) goes through
 * a full-size scratch tile, so it runs exactly the arithmetic of a full one. */
static void dn_gemm_edge(int kc, const float *restrict ap, const float *restrict bp, float alpha,
                         float beta, float *restrict c, int ldc, int mr, int nr)
{
    _Alignas(64) float tile[DN_MR * DN_NR];
    if (beta != 0.0f) { /* the kernel reads the tile: zeros where c has nothing */
        memset(tile, 0, sizeof tile);
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++)
                tile[i * DN_NR + j] = c[(size_t)i * ldc + j];
    }
    if (nr <= DN_VL)
        dn_gemm_micro(kc, ap, bp, alpha, beta, tile, DN_NR, 1);
    else
        dn_gemm_micro(kc, ap, bp, alpha, beta, tile, DN_NR, 2);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[(size_t)i * ldc + j] = tile[i * DN_NR + j];
}

/* dst[p * ldd + r] = src[r * lds + p] for r < rows, p < cols: the transpose
 * that packing A (not transposed) and B (transposed) needs. Whole 4 x 4
 * blocks go through 128-bit shuffles, the rest element by element. */
static void dn_gemm_transpose(const float *restrict src, int lds, int rows, int cols,
                              float *restrict dst, int ldd)
{
    int r = 0, p = 0;
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
    typedef float dn_v4 __attribute__((vector_size(16)));
    for (; r + 4 <= rows; r += 4) {
        const float *s = src + (size_t)r * lds;
        for (p = 0; p + 4 <= cols; p += 4) {
            dn_v4 x0, x1, x2, x3;
            memcpy(&x0, s + p, sizeof x0);
            memcpy(&x1, s + (size_t)lds + p, sizeof x1);
            memcpy(&x2, s + 2 * (size_t)lds + p, sizeof x2);
            memcpy(&x3, s + 3 * (size_t)lds + p, sizeof x3);
            dn_v4 t0 = __builtin_shufflevector(x0, x1, 0, 4, 1, 5);
            dn_v4 t1 = __builtin_shufflevector(x0, x1, 2, 6, 3, 7);
            dn_v4 t2 = __builtin_shufflevector(x2, x3, 0, 4, 1, 5);
            dn_v4 t3 = __builtin_shufflevector(x2, x3, 2, 6, 3, 7);
            dn_v4 y0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
            dn_v4 y1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
            dn_v4 y2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
            dn_v4 y3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
            float *d = dst + (size_t)p * ldd + r;
            memcpy(d, &y0, sizeof y0);
            memcpy(d + ldd, &y1, sizeof y1);
            memcpy(d + 2 * (size_t)ldd, &y2, sizeof y2);
            memcpy(d + 3 * (size_t)ldd, &y3, sizeof y3);
        }
        for (; p < cols; p++)
            for (int i = r; i < r + 4; i++)
                dst[(size_t)p * ldd + i] = src[(size_t)i * lds + p];
    }
#endif
#endif
    for (; r < rows; r++)
        for (p = 0; p < cols; p++)
            dst[(size_t)p * ldd + r] = src[(size_t)r * lds + p];
}

/* Packs op(A)[i0 .. i0+mr, p0 .. p0+kc] as kc rows of MR values; rows past mr
 * are zero. */
static void dn_gemm_pack_a(const dn_gemm_job *g, int i0, int mr, int p0, int kc,
                           float *restrict dst)
{
    if (mr < DN_MR)
        memset(dst, 0, (size_t)kc * DN_MR * sizeof(float));
    if (!g->trans_a) {
        dn_gemm_transpose(g->a + (size_t)i0 * g->lda + p0, g->lda, mr, kc, dst, DN_MR);
        return;
    }
    const float *src = g->a + (size_t)p0 * g->lda + i0;
    if (mr == DN_MR) /* a constant size: the compiler copies it inline */
        for (int p = 0; p < kc; p++)
            memcpy(dst + (size_t)p * DN_MR, src + (size_t)p * g->lda, DN_MR * sizeof(float));
    else
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < mr; i++)
                dst[(size_t)p * DN_MR + i] = src[(size_t)p * g->lda + i];
}

/* Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] as consecutive kc x NR panels;
 * columns past nc are zero. */
static void dn_gemm_pack_b(const dn_gemm_job *g, int p0, int kc, int j0, int nc,
                           float *restrict dst)
{
    for (int jr = 0; jr < nc; jr += DN_NR) {
        int nr = dn_min(DN_NR, nc - jr);
        float *panel = dst + (size_t)jr * kc;
        if (nr < DN_NR)
            memset(panel, 0, (size_t)kc * DN_NR * sizeof(float));
        if (g->trans_b) {
            dn_gemm_transpose(g->b + (size_t)(j0 + jr) * g->ldb + p0, g->ldb, nr, kc, panel, DN_NR);
            continue;
        }
        const float *src = g->b + (size_t)p0 * g->ldb + j0 + jr;
        if (nr == DN_NR)
            for (int p = 0; p < kc; p++) {
                const float *row = src + (size_t)p * g->ldb;
                dn_vstore(panel + (size_t)p * DN_NR, dn_vload(row));
                dn_vstore(panel + (size_t)p * DN_NR + DN_VL, dn_vload(row + DN_VL));
            }
        else if (nr == DN_VL)
            for (int p = 0; p < kc; p++)
                dn_vstore(panel + (size_t)p * DN_NR, dn_vload(src + (size_t)p * g->ldb));
        else
            for (int p = 0; p < kc; p++)
                for (int j = 0; j < nr; j++)
                    panel[(size_t)p * DN_NR + j] = src[(size_t)p * g->ldb + j];
    }
}

/* Computes the block C[i0 .. i1, j0 .. j1] completely (all of k); i0 is a
 * multiple of MR and j0 of NR, so the micro-tile grid, and with it every
 * element's arithmetic, is the same whichever thread owns the block. */
static void dn_gemm_block(const dn_gemm_job *g, int i0, int i1, int j0, int j1)
{
    _Alignas(64) float bpack[DN_KC * DN_NC];
    _Alignas(64) float apack[DN_MR * DN_KC];
    int nblocks = dn_ceil_div(j1 - j0, DN_NC);
    int width = dn_ceil_div(dn_ceil_div(j1 - j0, nblocks), DN_NR) * DN_NR;
    int kblocks = dn_ceil_div(g->k, DN_KC);
    int depth = dn_ceil_div(g->k, kblocks);
    for (int jc = j0; jc < j1; jc += width) {
        int nc = dn_min(width, j1 - jc);
        for (int pc = 0; pc < g->k; pc += depth) {
            int kc = dn_min(depth, g->k - pc);
            float beta = pc == 0 ? g->beta : 1.0f;
            dn_gemm_pack_b(g, pc, kc, jc, nc, bpack);
            for (int ic = i0; ic < i1; ic += DN_MR) {
                int mr = dn_min(DN_MR, i1 - ic);
                dn_gemm_pack_a(g, ic, mr, pc, kc, apack);
                for (int jr = 0; jr < nc; jr += DN_NR) {
                    int nr = dn_min(DN_NR, nc - jr);
                    float *c = g->c + (size_t)ic * g->ldc + jc + jr;
                    const float *bp = bpack + (size_t)jr * kc;
                    if (mr == DN_MR && nr == DN_NR)
                        dn_gemm_micro(kc, apack, bp, g->alpha, beta, c, g->ldc, 2);
                    else if (mr == DN_MR && nr == DN_VL)
                        dn_gemm_micro(kc, apack, bp, g->alpha, beta, c, g->ldc, 1);
                    else
                        dn_gemm_edge(kc, apack, bp, g->alpha, beta, c, g->ldc, mr, nr);
                }
            }
        }
    }
}

/* Rough cost, in cycles of one vector FMA, of the busiest thread when the
 * micro-tiles are split into a grid_m x grid_n grid of blocks. */
static double dn_gemm_grid_cost(const dn_gemm_job *g, int grid_m, int grid_n)
{
    int tiles_m = dn_ceil_div(dn_ceil_div(g->m, DN_MR), grid_m);
    int tiles_n = dn_ceil_div(dn_ceil_div(g->n, DN_NR), grid_n);
    double compute = (double)tiles_m * tiles_n * DN_MR * 2 * g->k;
    double pack_b = (double)tiles_n * DN_NR * g->k;
    double pack_a = (double)tiles_m * DN_MR * g->k * dn_ceil_div(tiles_n * DN_NR, DN_NC);
    return compute + 0.5 * (pack_a + pack_b);
}

/* The work is cut into two pieces per thread, handed to whichever thread is
 * free, so that a thread slowed by another process does not hold the other
 * up for a whole half. Each element of C is computed whole by one piece, in
 * an order fixed by the sizes, so the cut never changes a result. (More
 * pieces pack the same panels more often: three per thread measured slower.) */
enum { DN_GEMM_PIECES_PER_THREAD = 2 };

/* Computes piece `piece` of `pieces`: the grid minimising the largest
 * piece's cost, then an even share of micro-tiles in each direction. */
static void dn_gemm_piece(const dn_gemm_job *g, int piece, int pieces)
{
    int grid_m = 1, grid_n = pieces;
    double best = dn_gemm_grid_cost(g, grid_m, grid_n);
    for (int gm = 2; gm <= pieces; gm++) {
        if (pieces % gm)
            continue;
        double cost = dn_gemm_grid_cost(g, gm, pieces / gm);
        if (cost < best) {
            best = cost;
            grid_m = gm;
            grid_n = pieces / gm;
        }
    }
    int tiles_m = dn_ceil_div(g->m, DN_MR), tiles_n = dn_ceil_div(g->n, DN_NR);
    int r = piece / grid_n, s = piece % grid_n;
    int i0 = (int)((long)tiles_m * r / grid_m) * DN_MR;
    int i1 = dn_min(g->m, (int)((long)tiles_m * (r + 1) / grid_m) * DN_MR);
    int j0 = (int)((long)tiles_n * s / grid_n) * DN_NR;
    int j1 = dn_min(g->n, (int)((long)tiles_n * (s + 1) / grid_n) * DN_NR);
    if (i0 < i1 && j0 < j1)
        dn_gemm_block(g, i0, i1, j0, j1);
}

/* One row of A against rows of B (m == 1, B transposed: a linear layer on a
 * single sample). Packing would read and write all of B to use it once, so
 * take dot products straight from memory: each output is 16 interleaved
 * partial sums in a fixed order, and DN_GEMV_ROWS outputs are computed side
 * by side so that several independent multiply-add chains are in flight (one
 * chain waits on the adder's latency) without spilling registers; parallel
 * over groups of outputs. */
#define DN_GEMV_ROWS (DN_VBYTES / 8) /* 8 with AVX-512, 4 with AVX: 8 chains in registers */
#define DN_GEMV_VECTORS (16 / DN_VL)   /* vectors holding one output's 16 partial sums */

/* c[j] for rows j0 .. j0+rows of B, rows <= DN_GEMV_ROWS. */
static inline __attribute__((always_inline)) void
dn_gemv_group(int j0, int rows, int k, float alpha, const float *restrict a,
              const float *restrict b, int ldb, float beta, float *restrict c)
{
    dn_vf partial[DN_GEMV_ROWS][DN_GEMV_VECTORS] = {{{0}}};
    int p = 0;
    for (; p + 16 <= k; p += 16)
        for (int v = 0; v < DN_GEMV_VECTORS; v++) {
            dn_vf x = dn_vload(a + p + v * DN_VL);
            for (int r = 0; r < rows; r++)
                partial[r][v] += x * dn_vload(b + (size_t)(j0 + r) * ldb + p + v * DN_VL);
        }
    for (int r = 0; r < rows; r++) {
        const float *row = b + (size_t)(j0 + r) * ldb;
        float sum = 0.0f, lanes[16];
        for (int q = p; q < k; q++)
            sum += a[q] * row[q];
        memcpy(lanes, partial[r], sizeof lanes);
        for (int q = 0; q < 16; q++)
            sum += lanes[q];
        int j = j0 + r;
        c[j] = alpha * sum + (beta == 0.0f ? 0.0f : beta * c[j]);
    }
}

static void dn_gemv_rows(int n, int k, float alpha, const float *a, const float *b, int ldb,
                         float beta, float *c)
{
    const int groups = dn_ceil_div(n, DN_GEMV_ROWS);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (!omp_in_parallel() && (long)n * k >= DN_GEMM_PARALLEL_MIN * 8)
#endif
    for (int group = 0; group < groups; group++) {
        int j0 = group * DN_GEMV_ROWS;
        if (n - j0 >= DN_GEMV_ROWS)
            dn_gemv_group(j0, DN_GEMV_ROWS, k, alpha, a, b, ldb, beta, c);
        else
            dn_gemv_group(j0, n - j0, k, alpha, a, b, ldb, beta, c);
    }
}

void dn_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float *cij = &c[(size_t)i * ldc + j];
                *cij = beta == 0.0f ? 0.0f : beta * *cij;
            }
        return;
    }
    if (m == 1 && !trans_a && trans_b) {
        dn_gemv_rows(n, k, alpha, a, b, ldb, beta, c);
        return;
    }
    dn_gemm_job g = {trans_a, trans_b, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc};
#ifdef _OPENMP
    int nthreads = 1;
    long tiles = (long)dn_ceil_div(m, DN_MR) * dn_ceil_div(n, DN_NR);
    if (!omp_in_parallel() && (double)m * n * k >= (double)DN_GEMM_PARALLEL_MIN)
        nthreads = (int)(tiles < omp_get_max_threads() ? tiles : omp_get_max_threads());
    if (nthreads > 1) {
        const int pieces = (int)(tiles < (long)nthreads * DN_GEMM_PIECES_PER_THREAD ? tiles
                                                                                     : nthreads * DN_GEMM_PIECES_PER_THREAD);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
        for (int piece = 0; piece < pieces; piece++)
            dn_gemm_piece(&g, piece, pieces);
        return;
    }
#endif
    dn_gemm_piece(&g, 0, 1);
}
