/* test_digit_canvas.c - the renderer behind eval_drawings and why_cnn
 * (docs/why-cnn.md): a digit drawn at 10x and shrunk back keeps its ink and
 * place; moving it by 10k canvas pixels moves the shrunk digit by exactly k
 * pixels; a quarter turn is a quarter turn; the pen grows and shrinks
 * strokes as a square max/min filter; dark ink is the inverse. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digit_canvas.h"
#include "test_util.h"

enum { SIDE = 280 };

static double mass(const float *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}

/* Centre of mass along x (axis 0) or y (axis 1) of a 28x28 image. */
static double centre(const float *x, int axis)
{
    double s = 0, m = 0;
    for (int y = 0; y < 28; y++)
        for (int i = 0; i < 28; i++) {
            s += x[y * 28 + i] * (axis ? y : i);
            m += x[y * 28 + i];
        }
    return s / m;
}

int main(void)
{
    /* a digit-like shape: a ring and a bar, inside MNIST's 20x20 box, not symmetric */
    uint8_t digit[784] = {0};
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            double r = hypot(x - 12.0, y - 10.0);
            if ((r > 4 && r < 7) || (x >= 15 && x <= 17 && y >= 10 && y <= 23))
                digit[y * 28 + x] = (uint8_t)(r > 4.5 && r < 6.5 ? 255 : 160);
        }
    float original[784];
    for (int i = 0; i < 784; i++)
        original[i] = digit[i] / 255.0f;
    float *canvas = malloc(sizeof(float) * SIDE * SIDE), *scratch = malloc(sizeof(float) * SIDE * SIDE);
    float same[784], moved[784], turned[784], expect[784];

    /* drawn at 10x and shrunk: same ink, same place (each canvas pixel
     * samples the digit half a canvas pixel up and left of its centre, so
     * the shrunk digit sits 0.05 px right and down) */
    digit_pose pose = {SIDE, 0, 0, 0, 0, false};
    digit_render(canvas, SIDE, digit, &pose, scratch);
    digit_downsample(same, canvas, SIDE);
    CHECK(fabs(mass(same, 784) / mass(original, 784) - 1) < 0.01, "ink kept: %g vs %g", mass(same, 784),
          mass(original, 784));
    for (int axis = 0; axis < 2; axis++)
        CHECK(fabs(centre(same, axis) - centre(original, axis) - 0.05) < 0.02, "centre %d: %g vs %g", axis,
              centre(same, axis), centre(original, axis));
    CHECK(dn_test_max_abs_diff(same, original, 784) < 0.5, "shrunk image near the digit: %g",
          dn_test_max_abs_diff(same, original, 784));

    /* moved by whole pixels of the 28x28 image: exactly the shrunk digit moved */
    static const int moves[][2] = {{1, 0}, {-3, 0}, {0, 2}, {0, -5}, {4, 4}, {8, 0}};
    for (size_t m = 0; m < sizeof moves / sizeof moves[0]; m++) {
        int dx = moves[m][0], dy = moves[m][1];
        pose = (digit_pose){SIDE, 10.0 * dx, 10.0 * dy, 0, 0, false};
        digit_render(canvas, SIDE, digit, &pose, scratch);
        digit_downsample(moved, canvas, SIDE);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) {
                int u = x - dx, v = y - dy;
                expect[y * 28 + x] = u >= 0 && u < 28 && v >= 0 && v < 28 ? same[v * 28 + u] : 0.0f;
            }
        /* what left the frame is lost, except the sub-pixel blur at its edge */
        double diff = dn_test_max_abs_diff(moved, expect, 784);
        CHECK(diff < 1e-6 || (dx == 8 && diff < 0.1), "moved (%d,%d): max difference %g", dx, dy, diff);
    }

    /* a quarter turn clockwise: (x, y) -> (27 - y, x) up to resampling */
    pose = (digit_pose){SIDE, 0, 0, 90, 0, false};
    digit_render(canvas, SIDE, digit, &pose, scratch);
    digit_downsample(turned, canvas, SIDE);
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++)
            expect[y * 28 + (27 - x)] = same[x * 28 + y];
    CHECK(fabs(mass(turned, 784) / mass(same, 784) - 1) < 0.01, "turned: ink kept");
    CHECK(fabs(centre(turned, 0) - centre(expect, 0)) < 0.15 && fabs(centre(turned, 1) - centre(expect, 1)) < 0.15,
          "turned: centre (%g,%g) vs (%g,%g)", centre(turned, 0), centre(turned, 1), centre(expect, 0),
          centre(expect, 1));

    /* the pen: a square max (min) filter of radius |pen| on the drawn canvas */
    float *plain = malloc(sizeof(float) * SIDE * SIDE);
    pose = (digit_pose){SIDE, 0, 0, 0, 0, false};
    digit_render(plain, SIDE, digit, &pose, scratch);
    for (int pen = -3; pen <= 3; pen += 6) {
        pose.pen = pen;
        digit_render(canvas, SIDE, digit, &pose, scratch);
        int bad = 0, r = abs(pen);
        for (int y = 0; y < SIDE; y += 7)
            for (int x = 0; x < SIDE; x += 3) {
                float v = pen > 0 ? 0.0f : 1.0f;
                for (int j = -r; j <= r; j++)
                    for (int i = -r; i <= r; i++) {
                        int xx = x + i, yy = y + j;
                        float u = xx >= 0 && xx < SIDE && yy >= 0 && yy < SIDE ? plain[yy * SIDE + xx] : 0.0f;
                        v = pen > 0 ? fmaxf(v, u) : fminf(v, u);
                    }
                bad += canvas[y * SIDE + x] != v;
            }
        CHECK(bad == 0, "pen %d: %d pixels differ from the square filter", pen, bad);
        CHECK(pen > 0 ? mass(canvas, SIDE * SIDE) > mass(plain, SIDE * SIDE) * 1.05
                      : mass(canvas, SIDE * SIDE) < mass(plain, SIDE * SIDE) * 0.95,
              "pen %d changes the ink", pen);
    }

    /* dark ink: the same drawing inverted */
    pose = (digit_pose){SIDE, 0, 0, 0, 0, true};
    digit_render(canvas, SIDE, digit, &pose, scratch);
    int bad = 0;
    for (int i = 0; i < SIDE * SIDE; i++)
        bad += canvas[i] != 1.0f - plain[i];
    CHECK(bad == 0, "dark ink: %d pixels are not the inverse", bad);

    free(canvas);
    free(scratch);
    free(plain);
    return dn_test_finish();
}
