/* digit_canvas.c - MNIST digits rendered onto a canvas (moved, scaled,
 * rotated, thickened, thinned, inverted) and canvases shrunk back to 28x28. */
#include "digit_canvas.h"

#include <math.h>
#include <string.h>

/* Bilinear sample of a 28x28 digit at (u, v) in its pixel units; 0 outside. */
static float sample(const uint8_t *digit, double u, double v)
{
    int x0 = (int)floor(u), y0 = (int)floor(v);
    double fx = u - x0, fy = v - y0, sum = 0;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
            int x = x0 + i, y = y0 + j;
            double w = (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
            if (x >= 0 && x < 28 && y >= 0 && y < 28)
                sum += w * digit[y * 28 + x];
        }
    return (float)sum;
}

/* dst = the max (grow) or min (shrink) of src over a (2r+1)-wide window
 * along one axis (step 1: rows, step side: columns), 0 outside. */
static void morph_line(float *dst, const float *src, int side, int r, bool grow, bool columns)
{
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            float v = src[y * side + x];
            for (int k = -r; k <= r; k++) {
                int xx = columns ? x : x + k, yy = columns ? y + k : y;
                float u = xx >= 0 && xx < side && yy >= 0 && yy < side ? src[yy * side + xx] : 0.0f;
                v = grow ? fmaxf(v, u) : fminf(v, u);
            }
            dst[y * side + x] = v;
        }
}

void digit_render(float *canvas, int side, const uint8_t *digit, const digit_pose *pose, float *scratch)
{
    double scale = 28.0 / pose->size, a = pose->angle * 3.14159265358979323846 / 180.0, c = cos(a), s = sin(a);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            double px = x - side / 2.0 - pose->dx, py = y - side / 2.0 - pose->dy;
            double rx = pose->angle == 0 ? px : c * px + s * py, ry = pose->angle == 0 ? py : -s * px + c * py;
            canvas[y * side + x] = sample(digit, rx * scale + 14.0 - 0.5, ry * scale + 14.0 - 0.5) / 255.0f;
        }
    if (pose->pen != 0) {
        int r = pose->pen > 0 ? pose->pen : -pose->pen;
        morph_line(scratch, canvas, side, r, pose->pen > 0, false);
        morph_line(canvas, scratch, side, r, pose->pen > 0, true);
    }
    if (pose->dark_ink)
        for (int i = 0; i < side * side; i++)
            canvas[i] = 1.0f - canvas[i];
}

void digit_downsample(float *out, const float *canvas, int side)
{
    int f = side / 28;
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            double sum = 0;
            for (int j = 0; j < f; j++)
                for (int i = 0; i < f; i++)
                    sum += canvas[(y * f + j) * side + x * f + i];
            out[y * 28 + x] = (float)(sum / (f * f));
        }
}
