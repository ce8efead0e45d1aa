/* test_augment.c - the random distortion of training images, and the digit
 * version that never leans a 7 back and bends strokes elastically. */
#include <math.h>
#include <string.h>

#include "digitnet.h"
#include "test_util.h"

enum { SIDE = 28, PIXELS = SIDE * SIDE, DRAWS = 400 };

/* An upright bar two pixels wide, rows 6..21, ink 1 on background 0. */
static void upright_bar(float *img)
{
    memset(img, 0, PIXELS * sizeof *img);
    for (int y = 6; y <= 21; y++)
        img[y * SIDE + 13] = img[y * SIDE + 14] = 1.0f;
}

/* How far right the ink's top is of its bottom per row of height: minus the
 * slope of x against y (y grows downwards) of the ink-weighted regression. */
static double lean_of(const float *img)
{
    double sw = 0, sx = 0, sy = 0, sxy = 0, syy = 0;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            double w = img[y * SIDE + x];
            sw += w;
            sx += w * x;
            sy += w * y;
            sxy += w * x * y;
            syy += w * y * y;
        }
    double cov = sxy / sw - (sx / sw) * (sy / sw), var = syy / sw - (sy / sw) * (sy / sw);
    return -cov / var;
}

/* With no bend, any label but 7 is distorted exactly as by dn_augment_image,
 * from the same random numbers; a 7 uses up the same numbers too. */
static void test_same_draws(void)
{
    float in[PIXELS], plain[PIXELS], digit[PIXELS];
    dn_rng fill;
    dn_rng_seed(&fill, 3);
    dn_test_fill_uniform(&fill, in, PIXELS, 0.0f, 1.0f);
    const int labels[] = {-1, 0, 1, 2, 3, 4, 5, 6, 8, 9, DN_LABEL_NONE, 7};
    for (size_t l = 0; l < sizeof labels / sizeof *labels; l++) {
        for (uint64_t seed = 0; seed < 20; seed++) {
            dn_rng a, b;
            dn_rng_seed(&a, seed);
            dn_rng_seed(&b, seed);
            dn_augment_image(plain, in, SIDE, SIDE, -0.4f, &a);
            dn_augment_digit(digit, in, SIDE, SIDE, -0.4f, labels[l], 0.0f, &b);
            CHECK(dn_rng_next(&a) == dn_rng_next(&b), "label %d, seed %d: the same random numbers used",
                  labels[l], (int)seed);
            if (labels[l] != 7)
                CHECK(memcmp(plain, digit, sizeof plain) == 0, "label %d, seed %d: the same image", labels[l],
                      (int)seed);
        }
    }
}

/* The distortion leans an upright bar both ways, a 7 only forward, by as
 * much as the draw would have leaned it either way. */
static void test_lean(void)
{
    float bar[PIXELS], plain[PIXELS], seven[PIXELS];
    upright_bar(bar);
    CHECK(fabs(lean_of(bar)) < 1e-9, "the bar stands upright");
    double most_back = 0, most_forward = 0, worst_seven = 0, worst_size = 0;
    int unchanged = 0, turned = 0;
    for (uint64_t seed = 0; seed < DRAWS; seed++) {
        dn_rng a, b;
        dn_rng_seed(&a, seed);
        dn_rng_seed(&b, seed);
        dn_augment_image(plain, bar, SIDE, SIDE, 0.0f, &a);
        dn_augment_digit(seven, bar, SIDE, SIDE, 0.0f, 7, 0.0f, &b);
        double lp = lean_of(plain), l7 = lean_of(seven);
        most_back = fmin(most_back, lp);
        most_forward = fmax(most_forward, lp);
        worst_seven = fmin(worst_seven, l7);
        worst_size = fmax(worst_size, fabs(l7 - fabs(lp)));
        if (lp >= 0.01) {
            /* a draw that already leans forward is used as it is */
            CHECK(memcmp(plain, seven, sizeof plain) == 0, "seed %d: a 7 leaning forward is not changed", (int)seed);
            unchanged++;
        } else if (lp <= -0.01) {
            turned++;
        }
    }
    CHECK(most_back < -0.3 && most_forward > 0.3, "the plain distortion leans both ways (%.3f .. %.3f)",
          most_back, most_forward);
    CHECK(turned > DRAWS / 3 && unchanged > DRAWS / 3, "about half the draws lean back (%d, %d forward, of %d)",
          turned, unchanged, DRAWS);
    CHECK(worst_seven > -0.01, "a 7 is never leaned back (%.4f)", worst_seven);
    CHECK(worst_size < 0.02, "a turned draw keeps the size of its lean (off by %.4f at most)", worst_size);
}

/* Mean |a - b| over the image. */
static double mean_abs_diff(const float *a, const float *b)
{
    double sum = 0;
    for (int i = 0; i < PIXELS; i++)
        sum += fabs((double)a[i] - b[i]);
    return sum / PIXELS;
}

/* The elastic bend moves ink a little and smoothly: a horizontal line stays
 * one unbroken line near where it was, and more bend moves it more. */
static void test_bend(void)
{
    float line[PIXELS], flat[PIXELS], bent[PIXELS], again[PIXELS], more[PIXELS];
    memset(line, 0, sizeof line);
    for (int x = 6; x <= 21; x++)
        line[13 * SIDE + x] = line[14 * SIDE + x] = 1.0f;
    double moved = 0, moved_more = 0;
    int differ = 0;
    for (uint64_t seed = 0; seed < DRAWS; seed++) {
        dn_rng a, b, c, d;
        dn_rng_seed(&a, seed);
        dn_rng_seed(&b, seed);
        dn_rng_seed(&c, seed);
        dn_rng_seed(&d, seed);
        dn_augment_digit(flat, line, SIDE, SIDE, 0.0f, 3, 0.0f, &a);
        dn_augment_digit(bent, line, SIDE, SIDE, 0.0f, 3, DN_AUGMENT_BEND, &b);
        dn_augment_digit(again, line, SIDE, SIDE, 0.0f, 3, DN_AUGMENT_BEND, &c);
        dn_augment_digit(more, line, SIDE, SIDE, 0.0f, 3, 3 * DN_AUGMENT_BEND, &d);
        CHECK(memcmp(bent, again, sizeof bent) == 0, "seed %d: the same seed bends the same way", (int)seed);
        differ += memcmp(flat, bent, sizeof flat) != 0;
        moved += mean_abs_diff(flat, bent);
        moved_more += mean_abs_diff(flat, more);
        /* The bend stretches and squeezes strokes locally, within a factor
         * of two; the columns the line's middle crosses (it spans columns
         * 6..21 before the affine part moves it by up to 2.5 + 2 pixels)
         * each hold ink - no break - but not several strokes' worth. */
        double mass = 0, flat_mass = 0;
        for (int i = 0; i < PIXELS; i++) {
            mass += bent[i];
            flat_mass += flat[i];
        }
        CHECK(mass > 0.5 * flat_mass && mass < 2.0 * flat_mass,
              "seed %d: the bend neither loses nor doubles the ink (%.1f against %.1f)", (int)seed, mass, flat_mass);
        int xs[3] = {SIDE / 2 - 3, SIDE / 2, SIDE / 2 + 3};
        for (int k = 0; k < 3; k++) {
            double column = 0;
            for (int y = 0; y < SIDE; y++)
                column += bent[y * SIDE + xs[k]];
            CHECK(column > 0.8 && column < 4.0, "seed %d: column %d holds the line's ink once (%.2f)", (int)seed,
                  xs[k], column);
        }
    }
    CHECK(differ == DRAWS, "every draw bends (%d of %d)", differ, DRAWS);
    moved /= DRAWS;
    moved_more /= DRAWS;
    CHECK(moved > 0.005 && moved < moved_more, "more bend moves more ink (%.4f, then %.4f)", moved, moved_more);
}

int main(void)
{
    test_same_draws();
    test_lean();
    test_bend();
    return dn_test_finish();
}
