/* gemm.h - single-precision matrix multiply used by linear and conv layers.
 *
 * Row-major: C[m,n] = alpha * sum_k op(A)[m,k] * op(B)[k,n] + beta * C[m,n],
 * where op(A) is A (m x k, row stride lda) or, with trans_a, the transpose of
 * A stored k x m. Same for B. beta == 0 means C is overwritten (never read,
 * so NaN garbage in C does not leak through).
 *
 * Determinism: for every element of C the products are summed in an order
 * that depends only on the sizes, never on the number of threads, so results
 * are bit-identical for any OpenMP thread count. dn_sgemm parallelises
 * internally unless called from inside a parallel region. */
#ifndef DN_GEMM_H
#define DN_GEMM_H

#include <stdbool.h>

void dn_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);

/* The plain triple loop, kept as the reference the fast one is tested against. */
void dn_sgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif
