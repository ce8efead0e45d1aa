/* gemm.c - placeholder fast SGEMM: a cache-friendly i-k-j loop, parallel over
 * rows of C. The packed, register-tiled kernel replaces it. */
#include <stddef.h>

#include "gemm.h"

void dn_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc)
{
#pragma omp parallel for schedule(static) if ((long)m * n * k > 100000)
    for (int i = 0; i < m; i++) {
        float *ci = &c[(size_t)i * ldc];
        for (int j = 0; j < n; j++)
            ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
        for (int p = 0; p < k; p++) {
            float av = alpha * (trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]);
            if (trans_b)
                for (int j = 0; j < n; j++)
                    ci[j] += av * b[(size_t)j * ldb + p];
            else
                for (int j = 0; j < n; j++)
                    ci[j] += av * b[(size_t)p * ldb + j];
        }
    }
}
