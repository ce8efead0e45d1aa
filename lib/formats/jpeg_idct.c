/* jpeg_idct.c - JPEG dequantisation and the 8x8 inverse DCT (separable, in
 * float, T.81 A.3.3), rounded and clamped to 8-bit samples. */
#include <math.h>

#include "jpeg_internal.h"

/* idct_basis[x][u] = C(u)/2 * cos((2x + 1) u pi / 16), C(0) = 1/sqrt(2), else 1. */
static const float idct_basis[8][8] = {
    {0.353553391f, 0.490392640f, 0.461939766f, 0.415734806f, 0.353553391f, 0.277785117f, 0.191341716f, 0.097545161f},
    {0.353553391f, 0.415734806f, 0.191341716f, -0.097545161f, -0.353553391f, -0.490392640f, -0.461939766f,
     -0.277785117f},
    {0.353553391f, 0.277785117f, -0.191341716f, -0.490392640f, -0.353553391f, 0.097545161f, 0.461939766f,
     0.415734806f},
    {0.353553391f, 0.097545161f, -0.461939766f, -0.277785117f, 0.353553391f, 0.415734806f, -0.191341716f,
     -0.490392640f},
    {0.353553391f, -0.097545161f, -0.461939766f, 0.277785117f, 0.353553391f, -0.415734806f, -0.191341716f,
     0.490392640f},
    {0.353553391f, -0.277785117f, -0.191341716f, 0.490392640f, -0.353553391f, -0.097545161f, 0.461939766f,
     -0.415734806f},
    {0.353553391f, -0.415734806f, 0.191341716f, 0.097545161f, -0.353553391f, 0.490392640f, -0.461939766f,
     0.277785117f},
    {0.353553391f, -0.490392640f, 0.461939766f, -0.415734806f, 0.353553391f, -0.277785117f, 0.191341716f,
     -0.097545161f},
};

static inline uint8_t to_sample(float v)
{
    /* level shift, round to nearest, clamp; NaN cannot occur (finite inputs) */
    float s = v + 128.0f;
    if (!(s > 0.0f))
        return 0;
    if (s >= 255.0f)
        return 255;
    return (uint8_t)lrintf(s);
}

/* out(x, y) = sum_u sum_v C(u)C(v)/4 F(v, u) cos((2x+1)u pi/16) cos((2y+1)v pi/16) */
void dn_jpeg_idct_block(uint8_t *out, size_t stride, const int32_t coef[64], const uint16_t quant[64])
{
    float f[64];
    bool ac = false;
    for (int i = 0; i < 64; i++) {
        f[i] = (float)coef[i] * (float)quant[i];
        ac |= i > 0 && coef[i] != 0;
    }
    if (!ac) {
        uint8_t v = to_sample(f[0] * 0.125f);
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
                out[(size_t)y * stride + (size_t)x] = v;
        return;
    }
    /* columns: t[y][u] = sum_v basis[y][v] F[v][u] */
    float t[64];
    for (int u = 0; u < 8; u++) {
        for (int y = 0; y < 8; y++) {
            float sum = 0.0f;
            for (int v = 0; v < 8; v++)
                sum += idct_basis[y][v] * f[v * 8 + u];
            t[y * 8 + u] = sum;
        }
    }
    /* rows: out[y][x] = sum_u basis[x][u] t[y][u] */
    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
            float sum = 0.0f;
            for (int u = 0; u < 8; u++)
                sum += idct_basis[x][u] * t[y * 8 + u];
            out[(size_t)y * stride + (size_t)x] = to_sample(sum);
        }
    }
}

void dn_jpeg_idct_component(jpeg_component *c)
{
    size_t stride = (size_t)c->stride_blocks * 8;
    int32_t coef[64];
    for (int row = 0; row < c->rows_blocks; row++) {
        for (int col = 0; col < c->stride_blocks; col++) {
            const int16_t *src = c->coefs + ((size_t)row * (size_t)c->stride_blocks + (size_t)col) * 64;
            for (int i = 0; i < 64; i++)
                coef[i] = src[i];
            dn_jpeg_idct_block(c->plane + (size_t)row * 8 * stride + (size_t)col * 8, stride, coef, c->quant);
        }
    }
}
