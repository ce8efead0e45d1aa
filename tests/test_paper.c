/* test_paper.c - the photo path of the preprocessing (lib/image/paper.c):
 * the paper's brightness under uneven light, polarity, ruled and squared
 * lines, a sheet with a desk around it, and clean pictures left exactly as
 * the flat path makes them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/image.h"
#include "digitnet/rng.h"
#include "digitnet/status.h"
#include "ink.h"
#include "paper.h"
#include "test_util.h"

typedef struct pt {
    float x, y;
} pt;

/* A "2" and a "7" in a unit box (x right, y down). */
static const pt TWO[] = {{0.10f, 0.22f}, {0.30f, 0.03f}, {0.68f, 0.02f}, {0.88f, 0.20f}, {0.82f, 0.45f},
                         {0.45f, 0.75f}, {0.08f, 0.97f}, {0.92f, 0.97f}};
static const pt SEVEN[] = {{0.05f, 0.02f}, {0.95f, 0.02f}, {0.40f, 1.0f}};

/* Coverage of a round pen along the polyline, max-combined into cov. */
static void stroke(float *cov, int w, int h, const pt *pts, int n, float ox, float oy, float size, float radius)
{
    for (int s = 0; s + 1 < n; s++) {
        float ax = ox + pts[s].x * size * 0.75f, ay = oy + pts[s].y * size;
        float bx = ox + pts[s + 1].x * size * 0.75f, by = oy + pts[s + 1].y * size;
        float dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float px = x + 0.5f - ax, py = y + 0.5f - ay;
                float t = len2 > 0 ? fmaxf(0, fminf(1, (px * dx + py * dy) / len2)) : 0;
                float ex = px - t * dx, ey = py - t * dy;
                float c = fmaxf(0, fminf(1, radius + 0.5f - sqrtf(ex * ex + ey * ey)));
                cov[y * w + x] = fmaxf(cov[y * w + x], c);
            }
        }
    }
}

/* Coverage of a straight line y = y0 + slope * x (thick pixels) or, with
 * vertical, x = y0 + slope * y. */
static void rule(float *cov, int w, int h, float y0, float slope, float thick, bool vertical)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float along = vertical ? y + 0.5f : x + 0.5f, across = vertical ? x + 0.5f : y + 0.5f;
            float dist = fabsf(across - (y0 + slope * along)) / sqrtf(1 + slope * slope);
            float c = fmaxf(0, fminf(1, thick / 2 + 0.5f - dist));
            cov[y * w + x] = fmaxf(cov[y * w + x], c);
        }
    }
}

static double correlation(const float *a, const float *b, int n)
{
    double ma = 0, mb = 0, ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= n;
    mb /= n;
    for (int i = 0; i < n; i++) {
        ab += (a[i] - ma) * (b[i] - mb);
        aa += (a[i] - ma) * (a[i] - ma);
        bb += (b[i] - mb) * (b[i] - mb);
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* The paper's light: a gradient across, vignetting and a soft shadow. */
static float light_at(int x, int y, int w, int h)
{
    float u = (x + 0.5f) / w - 0.5f, v = (y + 0.5f) / h - 0.5f;
    float light = 0.9f * (1 + 0.4f * (0.8f * u + 0.6f * v)) * (1 - 0.6f * (u * u + v * v));
    float edge = 0.7f * u - 0.7f * v - 0.15f; /* a shadow over one corner */
    return light * (1 - 0.35f / (1 + expf(-edge / 0.06f)));
}

/* A photo of the ink in cov on paper lit by light_at: dark ink (reflectance
 * 0.15 of the paper's), lines (reflectance 0.7) where lines > 0, noise. */
static dn_image photo(const float *cov, const float *lines, int w, int h, dn_rng *rng, float noise)
{
    dn_image img;
    if (dn_image_new(&img, w, h) != DN_OK)
        return img;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int i = y * w + x;
            float r = 0.92f * (1 - 0.3f * (lines ? lines[i] : 0)) * (1 - 0.85f * cov[i]);
            img.pixels[i] = r * light_at(x, y, w, h) + noise * dn_rng_normal(rng);
        }
    }
    return img;
}

/* The background estimate follows uneven light and a shadow, and ink (even
 * where it is dense) does not pull it. */
static void test_background(void)
{
    enum { W = 480, H = 360 };
    float *cov = calloc(W * H, sizeof *cov), *bg = malloc(W * H * sizeof *bg);
    dn_rng rng;
    dn_rng_seed(&rng, 5);
    stroke(cov, W, H, TWO, 8, 150, 80, 200, 9);
    dn_image img = photo(cov, NULL, W, H, &rng, 0.01f);
    /* The first pass, with every pixel: thick strokes that fill much of a
     * block pull it a little towards the ink. */
    CHECK_OK(dn_paper_background(img.pixels, W, H, NULL, 16, bg, "test"));
    double mean_err = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            mean_err += fabs(bg[y * W + x] - 0.92 * light_at(x, y, W, H));
    mean_err /= W * H;
    CHECK(mean_err < 0.015, "mean background error with every pixel: %.4f", mean_err);
    /* The second, with the ink left out: close everywhere, under the ink too. */
    CHECK_OK(dn_paper_background(img.pixels, W, H, cov, 32, bg, "test"));
    double worst = 0, worst_ink = 0;
    mean_err = 0;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double err = fabs(bg[y * W + x] - 0.92 * light_at(x, y, W, H));
            mean_err += err;
            if (cov[y * W + x] > 0)
                worst_ink = fmax(worst_ink, err);
            else
                worst = fmax(worst, err);
        }
    }
    mean_err /= W * H;
    /* The shadow's edge is softer than a block, so a few hundredths at most. */
    CHECK(worst < 0.05 && worst_ink < 0.05 && mean_err < 0.01, "background error %.3f off the ink, %.3f under it, "
          "mean %.4f", worst, worst_ink, mean_err);
    /* A plane that the flat path fits exactly is found exactly too. */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            img.pixels[y * W + x] = 0.4f + 0.5f * x / W;
    CHECK_OK(dn_paper_background(img.pixels, W, H, NULL, 16, bg, "test"));
    double plane_err = 0;
    for (int y = 0; y < H; y++)
        for (int x = 30; x < W - 30; x++)
            plane_err = fmax(plane_err, fabs(bg[y * W + x] - img.pixels[y * W + x]));
    CHECK(plane_err < 0.003, "linear ramp: error %.4f", plane_err);
    dn_image_free(&img);
    free(cov);
    free(bg);
}

/* Dark ink on lit paper and light ink on a dark board both come out as ink,
 * with the polarity said; ink in a shadow is as strong as ink in full light. */
static void test_polarity(void)
{
    enum { W = 400, H = 300 };
    float *cov = calloc(W * H, sizeof *cov);
    dn_rng rng;
    dn_rng_seed(&rng, 6);
    stroke(cov, W, H, SEVEN, 3, 180, 30, 220, 6);
    dn_image dark, light;
    CHECK_OK(dn_image_new(&dark, W, H));
    CHECK_OK(dn_image_new(&light, W, H));
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            /* Paper lit from below, half as bright right of x = 280 (soft). */
            float paper = (0.8f + 0.15f * y / H) * (1 - 0.5f / (1 + expf(-(x - 280.0f) / 6)));
            dark.pixels[y * W + x] = paper * (1 - 0.85f * cov[y * W + x]) + 0.015f * dn_rng_normal(&rng);
            light.pixels[y * W + x] = 0.1f + 0.1f * x / W + 0.7f * cov[y * W + x] + 0.02f * dn_rng_normal(&rng);
        }
    }
    dn_paper_result rd, rl;
    CHECK_OK(dn_paper_ink(dark.pixels, W, H, &rd, "test"));
    CHECK_OK(dn_paper_ink(light.pixels, W, H, &rl, "test"));
    CHECK(rd.has_ink && rd.inverted, "dark ink on paper: has_ink %d inverted %d", rd.has_ink, rd.inverted);
    CHECK(rl.has_ink && !rl.inverted, "light ink on a board: has_ink %d inverted %d", rl.has_ink, rl.inverted);
    double r1 = correlation(dark.pixels, cov, W * H), r2 = correlation(light.pixels, cov, W * H);
    CHECK(r1 > 0.95 && r2 > 0.95, "ink planes against the drawing: %.3f, %.3f", r1, r2);
    double lit = 0, shaded = 0;
    int nl = 0, ns = 0;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            if (cov[y * W + x] < 1.0f || (x >= 250 && x <= 310))
                continue;
            if (x > 310) {
                shaded += dark.pixels[y * W + x];
                ns++;
            } else {
                lit += dark.pixels[y * W + x];
                nl++;
            }
        }
    }
    CHECK(nl > 100 && ns > 100 && fabs(lit / nl - shaded / ns) < 0.1, "ink in light %.3f (%d), in shadow %.3f (%d)",
          lit / (nl ? nl : 1), nl, shaded / (ns ? ns : 1), ns);
    dn_image_free(&dark);
    dn_image_free(&light);
    free(cov);
}

/* Bold ink: strokes wider than a block of the fine grid (a felt pen, a
 * thick MNIST digit enlarged) come out full, not hollow: the envelope of
 * the paper is not taken in by blocks covered with ink, and the ink plane
 * holds the stroke's core. */
static void test_bold(void)
{
    enum { W = 480, H = 360 };
    float *cov = calloc(W * H, sizeof *cov), *env = malloc(W * H * sizeof *env);
    dn_rng rng;
    dn_rng_seed(&rng, 9);
    stroke(cov, W, H, TWO, 8, 120, 40, 280, 18);
    dn_image img = photo(cov, NULL, W, H, &rng, 0.015f);
    CHECK_OK(dn_paper_envelope(img.pixels, W, H, true, env, "test"));
    double worst_ink = 0, mean_err = 0;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            double err = env[y * W + x] - 0.92 * light_at(x, y, W, H);
            mean_err += fabs(err);
            if (cov[y * W + x] > 0)
                worst_ink = fmax(worst_ink, -err);
        }
    }
    mean_err /= W * H;
    /* Under the ink it stays far above it (the ink is 0.6 deep there);
     * elsewhere it follows the light as the block medians do. */
    CHECK(worst_ink < 0.15 && mean_err < 0.01, "envelope: %.3f below the paper under the ink, mean error %.4f",
          worst_ink, mean_err);
    dn_paper_result r;
    CHECK_OK(dn_paper_ink(img.pixels, W, H, &r, "test"));
    double core = 0, full = 0, stray = 0;
    for (int i = 0; i < W * H; i++) {
        if (cov[i] >= 1) {
            core++;
            full += img.pixels[i] >= 0.5f;
        }
        stray += cov[i] == 0 && img.pixels[i] > 0;
    }
    CHECK(r.has_ink && full >= 0.99 * core && stray < 0.002 * W * H,
          "bold strokes: %.0f of %.0f core pixels ink, %.0f ink pixels off the strokes", full, core, stray);
    dn_image_free(&img);
    free(cov);
    free(env);
}

/* Ruled and squared lines are taken out; the strokes crossing them stay,
 * and one long stroke alone is not a ruled page. */
static void test_lines(void)
{
    enum { W = 500, H = 400 };
    float *ink = calloc(W * H, sizeof *ink), *lines = calloc(W * H, sizeof *lines);
    float *digit = calloc(W * H, sizeof *digit);
    stroke(digit, W, H, SEVEN, 3, 180, 90, 220, 5);
    for (int k = 0; k < 8; k++)
        rule(lines, W, H, 20.0f + 48.0f * k, 0.035f, 2.0f, false); /* turned 2 degrees */
    for (int i = 0; i < W * H; i++)
        ink[i] = fmaxf(digit[i], 0.4f * lines[i]);
    int found = 0;
    CHECK_OK(dn_paper_remove_lines(ink, W, H, NULL, &found, "test"));
    CHECK(found == 8, "ruled lines found: %d of 8", found);
    double left = 0, kept = 0, total = 0, line_pixels = 0;
    for (int i = 0; i < W * H; i++) {
        if (digit[i] == 0 && lines[i] > 0) {
            left += ink[i] > 0;
            line_pixels++;
        }
        if (digit[i] >= 1) {
            kept += ink[i] >= 1;
            total++;
        }
    }
    CHECK(left < 0.01 * line_pixels && kept == total, "ruled: %.0f of %.0f line pixels left, %.0f of %.0f stroke "
          "pixels kept", left, line_pixels, kept, total);

    /* Squared paper in the same grey as the pen: geometry alone decides. */
    memset(lines, 0, W * H * sizeof *lines);
    for (int k = 0; k < 9; k++) {
        rule(lines, W, H, 10.0f + 45.0f * k, -0.02f, 2.5f, false);
        rule(lines, W, H, 12.0f + 45.0f * k + (k > 4 ? 60 : 0), 0.03f, 2.5f, true);
    }
    for (int i = 0; i < W * H; i++)
        ink[i] = fmaxf(digit[i], lines[i]);
    CHECK_OK(dn_paper_remove_lines(ink, W, H, NULL, &found, "test"));
    CHECK(found == 18, "squared lines found: %d of 18", found);
    left = 0;
    kept = 0;
    for (int i = 0; i < W * H; i++) {
        if (digit[i] == 0 && lines[i] > 0)
            left += ink[i] > 0;
        kept += digit[i] >= 1 && ink[i] >= 1;
    }
    CHECK(left < 0.02 * (W + H) * 9 && kept > 0.95 * total, "squared: %.0f line pixels left, %.0f of %.0f kept", left,
          kept, total);

    /* A ruled page turned so that the frame cuts its last line short: that
     * line goes too, and the digit stays. */
    memset(lines, 0, W * H * sizeof *lines);
    for (int k = 0; k < 7; k++)
        rule(lines, W, H, 40.0f + 48.0f * k, 0.035f, 2.0f, false);
    rule(lines, W, H, -14.0f, 0.035f, 2.0f, false); /* inside over x > 400 only */
    for (int i = 0; i < W * H; i++)
        ink[i] = fmaxf(digit[i], 0.4f * lines[i]);
    CHECK_OK(dn_paper_remove_lines(ink, W, H, NULL, &found, "test"));
    double cut_left = 0;
    left = 0;
    kept = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            if (digit[i] == 0 && lines[i] > 0 && ink[i] > 0)
                *(y < 12 ? &cut_left : &left) += 1;
            kept += digit[i] >= 1 && ink[i] >= 1;
        }
    CHECK(found == 8 && cut_left == 0 && left < 0.01 * 7 * W && kept == total,
          "a line cut by the frame: %d lines found, %.0f of its pixels left, %.0f of the others, %.0f of %.0f kept",
          found, cut_left, left, kept, total);

    /* A row of writing along one of the lines hides 60% of it (strokes
     * across it every 16 pixels over most of the page): that line goes
     * too, between the strokes, and the strokes stay whole. */
    static const pt BAR[] = {{0.5f, 0.0f}, {0.5f, 1.0f}};
    memset(lines, 0, W * H * sizeof *lines);
    memset(digit, 0, W * H * sizeof *digit);
    for (int k = 0; k < 8; k++)
        rule(lines, W, H, 20.0f + 48.0f * k, 0.035f, 2.0f, false);
    for (int x = 50; x < 450; x += 16)
        stroke(digit, W, H, BAR, 2, (float)x - 30, 164.0f + 0.035f * x - 30, 60, 6);
    for (int i = 0; i < W * H; i++)
        ink[i] = fmaxf(digit[i], 0.4f * lines[i]);
    CHECK_OK(dn_paper_remove_lines(ink, W, H, NULL, &found, "test"));
    double hidden_left = 0, row_total = 0;
    left = 0;
    kept = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            bool written = fabsf(y + 0.5f - (164.0f + 0.035f * (x + 0.5f))) < 3;
            if (digit[i] == 0 && lines[i] > 0 && ink[i] > 0)
                *(written ? &hidden_left : &left) += 1;
            kept += digit[i] >= 1 && ink[i] >= 1;
            row_total += digit[i] >= 1;
        }
    CHECK(found == 8 && hidden_left < 0.01 * W && left < 0.01 * 7 * W && kept == row_total,
          "a line under a row of writing: %d lines found, %.0f of its pixels left, %.0f of the others, "
          "%.0f of %.0f kept", found, hidden_left, left, kept, row_total);

    /* One long straight stroke (a dash across the page) is not a ruled page. */
    memset(ink, 0, W * H * sizeof *ink);
    rule(ink, W, H, 200, 0.0f, 3.0f, false);
    CHECK_OK(dn_paper_remove_lines(ink, W, H, NULL, &found, "test"));
    double mass = 0;
    for (int i = 0; i < W * H; i++)
        mass += ink[i];
    CHECK(found == 0 && mass > 2.5 * W, "one line alone: %d found, mass %.0f", found, mass);
    free(ink);
    free(lines);
    free(digit);
}

/* A clean drawing goes the flat path and comes out bit for bit as the flat
 * path makes it; the same drawing photographed goes the paper path, which
 * reads it as the clean drawing where the flat path does not. */
static void test_clean_identity_and_photo(void)
{
    enum { W = 420, H = 320 };
    float *cov = calloc(W * H, sizeof *cov), *lines = calloc(W * H, sizeof *lines);
    stroke(cov, W, H, TWO, 8, 150, 70, 190, 7);
    for (int k = 0; k < 7; k++)
        rule(lines, W, H, 15.0f + 45.0f * k, -0.025f, 2.0f, false);
    dn_rng rng;
    dn_rng_seed(&rng, 8);
    static const float backgrounds[][2] = {{1.0f, 17.0f / 255}, {0.0f, 1.0f}, {0.93f, 0.2f}};
    float clean[DN_MNIST_PIXELS];
    for (int k = 0; k < 3; k++) {
        dn_image img;
        CHECK_OK(dn_image_new(&img, W, H));
        for (int i = 0; i < W * H; i++)
            img.pixels[i] = backgrounds[k][0] + (backgrounds[k][1] - backgrounds[k][0]) * cov[i];
        dn_ink a, b;
        CHECK_OK(dn_ink_extract_as(&a, &img, DN_INK_AUTO, "test"));
        CHECK_OK(dn_ink_extract_as(&b, &img, DN_INK_FLAT, "test"));
        CHECK(!a.paper && !b.paper && a.w == b.w && a.h == b.h && a.inverted == b.inverted &&
                  memcmp(a.p, b.p, (size_t)a.w * (size_t)a.h * sizeof *a.p) == 0,
              "clean drawing %d: the flat path, bit for bit", k);
        float out_a[DN_MNIST_PIXELS], out_b[DN_MNIST_PIXELS];
        dn_preprocess_info ia, ib;
        CHECK_OK(dn_ink_shape(&a, out_a, &ia));
        CHECK_OK(dn_ink_shape(&b, out_b, &ib));
        CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "clean drawing %d: same 28x28", k);
        if (k == 0)
            memcpy(clean, out_a, sizeof clean);
        dn_ink_free(&a);
        dn_ink_free(&b);
        dn_image_free(&img);
    }

    dn_image img = photo(cov, lines, W, H, &rng, 0.02f);
    dn_ink a, b;
    float out_a[DN_MNIST_PIXELS], out_b[DN_MNIST_PIXELS];
    dn_preprocess_info ia, ib;
    CHECK_OK(dn_ink_extract_as(&a, &img, DN_INK_AUTO, "test"));
    CHECK(a.paper && a.inverted && a.has_ink, "photo: paper %d inverted %d has_ink %d", a.paper, a.inverted,
          a.has_ink);
    CHECK_OK(dn_ink_shape(&a, out_a, &ia));
    CHECK_OK(dn_ink_extract_as(&b, &img, DN_INK_FLAT, "test"));
    memset(out_b, 0, sizeof out_b);
    if (b.has_ink)
        CHECK_OK(dn_ink_shape(&b, out_b, &ib));
    double ra = correlation(out_a, clean, DN_MNIST_PIXELS), rb = correlation(out_b, clean, DN_MNIST_PIXELS);
    CHECK(ra > 0.9, "photo through the paper path against the clean drawing: correlation %.3f", ra);
    CHECK(rb < ra - 0.2, "the flat path on the photo does much worse: %.3f (paper path %.3f)", rb, ra);
    /* The public entry point takes the paper path for it. */
    float out[DN_MNIST_PIXELS];
    dn_preprocess_info info;
    CHECK_OK(dn_preprocess_mnist(&img, out, &info));
    CHECK(memcmp(out, out_a, sizeof out) == 0 && info.inverted, "dn_preprocess_mnist takes the paper path");
    dn_ink_free(&a);
    dn_ink_free(&b);
    dn_image_free(&img);

    /* A blank photo of unevenly lit paper holds no digit. */
    memset(cov, 0, W * H * sizeof *cov);
    img = photo(cov, NULL, W, H, &rng, 0.02f);
    CHECK_OK(dn_preprocess_mnist(&img, out, &info));
    CHECK(!info.has_ink, "blank lit paper: no ink");
    dn_image_free(&img);
    free(cov);
    free(lines);
}

/* The signed distance (pixels, positive inside) of pixel (x, y) from the
 * sheet of test_desk: a quadrilateral turned and in slight perspective. */
static float sheet_distance(int x, int y)
{
    float px = x + 0.5f, py = y + 0.5f;
    float top = py - (40.0f + 0.02f * px), bottom = (322.0f - 0.015f * px) - py;
    float left = px - (52.0f + 0.02f * py), right = (436.0f - 0.025f * py) - px;
    return fminf(fminf(top, bottom), fminf(left, right));
}

/* A photo of a sheet on a desk: the sheet's edges found, the desk outside
 * neither paper nor ink, the ink inside kept whole; a frame-filling sheet
 * with a bold bar near its edge is not a sheet on a desk. */
static void test_desk(void)
{
    enum { W = 480, H = 360 };
    float *cov = calloc(W * H, sizeof *cov), *outside = malloc(W * H * sizeof *outside);
    dn_rng rng;
    dn_rng_seed(&rng, 9);
    stroke(cov, W, H, TWO, 8, 160, 85, 190, 7);
    dn_image img;
    CHECK_OK(dn_image_new(&img, W, H));
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            float in = fmaxf(0.0f, fminf(1.0f, 0.5f + sheet_distance(x, y)));
            float desk = 0.35f * (1 + 0.08f * sinf((x + 0.3f * y) / 9.0f)); /* grained wood */
            float r = in * 0.92f * (1 - 0.85f * cov[i]) + (1 - in) * desk;
            img.pixels[i] = r * light_at(x, y, W, H) + 0.01f * dn_rng_normal(&rng);
        }
    }
    dn_sheet sheet;
    CHECK_OK(dn_paper_find_sheet(img.pixels, W, H, &sheet, outside, "test"));
    CHECK(sheet.sides == 4, "sheet on a desk: %d sides found", sheet.sides);
    size_t desk_in = 0, sheet_out = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float dist = sheet_distance(x, y);
            desk_in += dist < -2.0f && outside[y * W + x] == 0.0f;
            sheet_out += dist > 10.0f && outside[y * W + x] != 0.0f;
        }
    CHECK(desk_in == 0 && sheet_out == 0, "the mask: %zu desk pixels inside, %zu sheet pixels outside", desk_in,
          sheet_out);
    dn_ink ink;
    CHECK_OK(dn_ink_extract_as(&ink, &img, DN_INK_AUTO, "test"));
    CHECK(ink.paper && ink.inverted && ink.has_ink && ink.sheet_sides == 4 && ink.w == W && ink.h == H,
          "sheet on a desk: paper %d inverted %d has_ink %d sides %d", ink.paper, ink.inverted, ink.has_ink,
          ink.sheet_sides);
    size_t core = 0, kept = 0, stray = 0;
    for (int y = 0; y < H && ink.p; y++)
        for (int x = 0; x < W; x++) {
            int i = y * W + x;
            if (cov[i] >= 0.5f) {
                core++;
                kept += ink.p[i] > 0.0f;
            }
            bool near_ink = false;
            for (int dy = -3; dy <= 3 && !near_ink; dy++)
                for (int dx = -3; dx <= 3; dx++)
                    if (x + dx >= 0 && x + dx < W && y + dy >= 0 && y + dy < H && cov[(y + dy) * W + x + dx] > 0)
                        near_ink = true;
            stray += !near_ink && ink.p[i] > 0.0f;
        }
    CHECK(core > 0 && kept == core, "the stroke kept: %zu of %zu core pixels", kept, core);
    CHECK(stray == 0, "the sheet's edge and the desk are not ink: %zu ink pixels away from the stroke", stray);
    float out[DN_MNIST_PIXELS], clean[DN_MNIST_PIXELS];
    dn_preprocess_info info;
    CHECK_OK(dn_ink_shape(&ink, out, &info));
    dn_ink_free(&ink);
    for (int i = 0; i < W * H; i++)
        img.pixels[i] = 1.0f - cov[i] * (1.0f - 17.0f / 255);
    CHECK_OK(dn_preprocess_mnist(&img, clean, NULL));
    double r = correlation(out, clean, DN_MNIST_PIXELS);
    CHECK(r > 0.95, "sheet on a desk against the clean drawing: correlation %.3f", r);

    /* The sheet fills the frame; a bold bar (a 1) runs down near its left
     * edge: straight, sharp and long, but paper lies beyond it. */
    static const pt BAR[] = {{0.0f, 0.0f}, {0.0f, 1.0f}};
    memset(cov, 0, W * H * sizeof *cov);
    stroke(cov, W, H, BAR, 2, 52, 25, 310, 15);
    dn_image_free(&img);
    img = photo(cov, NULL, W, H, &rng, 0.01f);
    CHECK_OK(dn_paper_find_sheet(img.pixels, W, H, &sheet, outside, "test"));
    CHECK(sheet.sides == 0, "a bold bar near the edge is not a desk: %d sides", sheet.sides);
    CHECK_OK(dn_ink_extract_as(&ink, &img, DN_INK_AUTO, "test"));
    core = kept = 0;
    for (int i = 0; i < W * H && ink.p; i++)
        if (cov[i] >= 0.5f) {
            core++;
            kept += ink.p[i] > 0.0f;
        }
    CHECK(ink.sheet_sides == 0 && core > 0 && kept == core, "the bar is ink: %zu of %zu core pixels", kept, core);
    dn_ink_free(&ink);
    dn_image_free(&img);
    free(cov);
    free(outside);
}

int main(void)
{
    test_background();
    test_polarity();
    test_bold();
    test_lines();
    test_clean_identity_and_photo();
    test_desk();
    return dn_test_finish();
}
