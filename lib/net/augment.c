/* augment.c - random affine distortions of training images (rotation,
 * scale, shear, shift) resampled bilinearly. */
#include <math.h>

#include "digitnet/train.h"

static float sample(const float *in, int h, int w, float background, float y, float x)
{
    int x0 = (int)floorf(x), y0 = (int)floorf(y);
    float fx = x - (float)x0, fy = y - (float)y0;
    float v[2][2];
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int yy = y0 + dy, xx = x0 + dx;
            v[dy][dx] = (yy >= 0 && yy < h && xx >= 0 && xx < w) ? in[yy * w + xx] : background;
        }
    return (1 - fy) * ((1 - fx) * v[0][0] + fx * v[0][1]) + fy * ((1 - fx) * v[1][0] + fx * v[1][1]);
}

void dn_augment_image(float *out, const float *in, int h, int w, float background, dn_rng *rng)
{
    const float pi = 3.14159265f;
    float angle = dn_rng_range(rng, -12.0f, 12.0f) * pi / 180.0f;
    float scale = dn_rng_range(rng, 0.9f, 1.1f);
    float shear = dn_rng_range(rng, -0.15f, 0.15f);
    float shift_x = dn_rng_range(rng, -2.5f, 2.5f), shift_y = dn_rng_range(rng, -2.5f, 2.5f);
    /* Forward map p' = S R H p + t about the centre; sample with its inverse. */
    float c = cosf(angle), s = sinf(angle);
    float a = scale * c, b = scale * (c * shear - s);
    float d = scale * s, e = scale * (s * shear + c);
    float det = a * e - b * d;
    float ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
    float cy = (float)(h - 1) / 2, cx = (float)(w - 1) / 2;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float px = (float)x - cx - shift_x, py = (float)y - cy - shift_y;
            float sx = ia * px + ib * py + cx, sy = id * px + ie * py + cy;
            out[y * w + x] = sample(in, h, w, background, sy, sx);
        }
    }
}
