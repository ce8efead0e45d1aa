/* augment.c - random distortions of training images: affine (rotation,
 * scale, shear, shift) and, for digits, elastic; resampled bilinearly. */
#include <math.h>

#include "digitnet/train.h"

enum { GRID = 4 }; /* cells on a side of the elastic distortion's grid */

/* An elastic distortion: displacements (pixels) drawn at the corners of a
 * GRID x GRID grid laid over the image, blended smoothly in between. */
typedef struct bend_field {
    float dx[GRID + 1][GRID + 1], dy[GRID + 1][GRID + 1];
} bend_field;

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

/* The displacement at pixel (x, y): the four surrounding corners' blended
 * with smoothstep weights, so strokes bend without kinks or breaks. */
static void displacement(const bend_field *f, int h, int w, int x, int y, float *dx, float *dy)
{
    float u = (float)x * GRID / (float)(w > 1 ? w - 1 : 1), v = (float)y * GRID / (float)(h > 1 ? h - 1 : 1);
    int i = (int)u < GRID ? (int)u : GRID - 1, j = (int)v < GRID ? (int)v : GRID - 1;
    float fu = u - (float)i, fv = v - (float)j;
    fu = fu * fu * (3 - 2 * fu);
    fv = fv * fv * (3 - 2 * fv);
    *dx = (1 - fv) * ((1 - fu) * f->dx[j][i] + fu * f->dx[j][i + 1]) +
          fv * ((1 - fu) * f->dx[j + 1][i] + fu * f->dx[j + 1][i + 1]);
    *dy = (1 - fv) * ((1 - fu) * f->dy[j][i] + fu * f->dy[j][i + 1]) +
          fv * ((1 - fu) * f->dy[j + 1][i] + fu * f->dy[j + 1][i + 1]);
}

/* Resamples in through the forward map p' = S R H p + t about the centre
 * (S scale, R rotation by angle, H shear of x by y), by its inverse, after
 * moving each output pixel by the bend (NULL: none). */
static void warp(float *out, const float *in, int h, int w, float background, float angle, float scale,
                 float shear, float shift_x, float shift_y, const bend_field *bend)
{
    float c = cosf(angle), s = sinf(angle);
    float a = scale * c, b = scale * (c * shear - s);
    float d = scale * s, e = scale * (s * shear + c);
    float det = a * e - b * d;
    float ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
    float cy = (float)(h - 1) / 2, cx = (float)(w - 1) / 2;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float dx = 0.0f, dy = 0.0f;
            if (bend)
                displacement(bend, h, w, x, y, &dx, &dy);
            float px = (float)x + dx - cx - shift_x, py = (float)y + dy - cy - shift_y;
            float sx = ia * px + ib * py + cx, sy = id * px + ie * py + cy;
            out[y * w + x] = sample(in, h, w, background, sy, sx);
        }
    }
}

/* The affine draw, in the order both functions take it from the generator. */
typedef struct affine {
    float angle, scale, shear, shift_x, shift_y;
} affine;

static affine random_affine(dn_rng *rng)
{
    const float pi = 3.14159265f;
    affine t;
    t.angle = dn_rng_range(rng, -12.0f, 12.0f) * pi / 180.0f;
    t.scale = dn_rng_range(rng, 0.9f, 1.1f);
    t.shear = dn_rng_range(rng, -0.15f, 0.15f);
    t.shift_x = dn_rng_range(rng, -2.5f, 2.5f);
    t.shift_y = dn_rng_range(rng, -2.5f, 2.5f);
    return t;
}

void dn_augment_image(float *out, const float *in, int h, int w, float background, dn_rng *rng)
{
    affine t = random_affine(rng);
    warp(out, in, h, w, background, t.angle, t.scale, t.shear, t.shift_x, t.shift_y, NULL);
}

void dn_augment_digit(float *out, const float *in, int h, int w, float background, int label, float bend,
                      dn_rng *rng)
{
    affine t = random_affine(rng);
    /* The lean: how far right the map moves the top of an upright stroke
     * per unit of height (y grows downwards), (sin - shear cos) / (cos +
     * shear sin); the denominator is positive for these ranges, so the sign
     * is that of the numerator. Negating the angle and the shear together
     * negates the lean and keeps its size. */
    if (label == 7 && sinf(t.angle) - t.shear * cosf(t.angle) < 0.0f) {
        t.angle = -t.angle;
        t.shear = -t.shear;
    }
    if (!(bend > 0.0f)) {
        warp(out, in, h, w, background, t.angle, t.scale, t.shear, t.shift_x, t.shift_y, NULL);
        return;
    }
    bend_field f;
    float side = (float)(h < w ? h : w);
    for (int j = 0; j <= GRID; j++)
        for (int i = 0; i <= GRID; i++) {
            f.dx[j][i] = bend * side * dn_rng_normal(rng);
            f.dy[j][i] = bend * side * dn_rng_normal(rng);
        }
    warp(out, in, h, w, background, t.angle, t.scale, t.shear, t.shift_x, t.shift_y, &f);
}
