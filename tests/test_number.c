/* test_number.c - dn_read_number on drawn and composited pictures: digits
 * apart and touching, a 5 with a detached bar, specks, a dash and a dot, and
 * single digits, which must give dn_preprocess_mnist's input bit for bit.
 * Digits are MNIST test images enlarged onto a canvas, read by an MLP
 * trained here for one epoch; skipped (77) without MNIST. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet.h"
#include "ink.h"
#include "test_util.h"

enum { SCALE = 4, TILE = 28 * SCALE };

static dn_dataset test_set;
static float net_mean = DN_MNIST_MEAN, net_std = DN_MNIST_STD, net_threshold;

/* MNIST test image i enlarged SCALE times (bilinear), ink in [0,1]. */
static void tile_of(float *tile, int i)
{
    const float *src = test_set.images + (size_t)i * DN_MNIST_PIXELS;
    for (int y = 0; y < TILE; y++)
        for (int x = 0; x < TILE; x++) {
            double u = (x + 0.5) / SCALE - 0.5, v = (y + 0.5) / SCALE - 0.5, sum = 0;
            int x0 = (int)floor(u), y0 = (int)floor(v);
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 2; k++) {
                    int sx = x0 + k, sy = y0 + j;
                    double w = (k ? u - x0 : 1 - (u - x0)) * (j ? v - y0 : 1 - (v - y0));
                    if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28)
                        sum += w * (src[sy * 28 + sx] * net_std + net_mean);
                }
            tile[y * TILE + x] = (float)fmin(1.0, fmax(0.0, sum));
        }
}

/* A canvas: ink in [0,1] while drawing; dark on white when finished. */
typedef struct canvas {
    int w, h;
    float *ink;
} canvas;

static canvas canvas_new(int w, int h)
{
    return (canvas){w, h, calloc((size_t)w * (size_t)h, sizeof(float))};
}

static void paste(canvas *c, const float *tile, int ox, int oy)
{
    for (int y = 0; y < TILE; y++)
        for (int x = 0; x < TILE; x++) {
            int cx = ox + x, cy = oy + y;
            if (cx >= 0 && cy >= 0 && cx < c->w && cy < c->h)
                c->ink[cy * c->w + cx] = fmaxf(c->ink[cy * c->w + cx], tile[y * TILE + x]);
        }
}

/* A round pen of radius r from (x0,y0) to (x1,y1), anti-aliased. */
static void line(canvas *c, double x0, double y0, double x1, double y1, double r)
{
    double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            double px = x + 0.5 - x0, py = y + 0.5 - y0;
            double t = len2 > 0 ? fmax(0, fmin(1, (px * dx + py * dy) / len2)) : 0;
            double d = hypot(px - t * dx, py - t * dy), v = fmin(1, fmax(0, r + 0.5 - d));
            c->ink[y * c->w + x] = fmaxf(c->ink[y * c->w + x], (float)v);
        }
}

/* The canvas as a picture: dark ink on white, as the demo's page draws. */
static dn_image picture(const canvas *c)
{
    dn_image img;
    if (dn_image_new(&img, c->w, c->h) != DN_OK)
        abort();
    for (int i = 0; i < c->w * c->h; i++)
        img.pixels[i] = 1.0f - c->ink[i];
    return img;
}

/* Columns of a tile's ink (> 0.5) per row: leftmost and rightmost, -1 none. */
static void row_extents(const float *tile, int *left, int *right)
{
    for (int y = 0; y < TILE; y++) {
        left[y] = right[y] = -1;
        for (int x = 0; x < TILE; x++)
            if (tile[y * TILE + x] > 0.5f) {
                left[y] = left[y] < 0 ? x : left[y];
                right[y] = x;
            }
    }
}

/* The x offset of tile b (drawn on the rows of tile a, which is at offset
 * 0) at which their inks come within `gap` pixels (gap -1: they share a
 * column) and no closer, ink counting within 15% of the height of its rows
 * (so b cannot slide under a's bar). */
static int offset_for_gap(const float *a, const float *b, int gap)
{
    int la[TILE], ra[TILE], lb[TILE], rb[TILE], best = -TILE, band = TILE * 15 / 100;
    row_extents(a, la, ra);
    row_extents(b, lb, rb);
    for (int y = 0; y < TILE; y++)
        for (int z = y - band; z <= y + band; z++)
            if (z >= 0 && z < TILE && ra[y] >= 0 && lb[z] >= 0 && ra[y] + 1 + gap - lb[z] > best)
                best = ra[y] + 1 + gap - lb[z];
    return best;
}

/* Tiles a and b side by side on the rows of a, their inks `gap` pixels
 * apart (offset_for_gap: -1 touching, less crossing), on a canvas with
 * room around. */
static canvas pair_at_gap(const float *a, const float *b, int gap)
{
    canvas c = canvas_new(2 * TILE + 40, TILE + 20);
    paste(&c, a, 10, 10);
    paste(&c, b, 10 + offset_for_gap(a, b, gap), 10);
    return c;
}

static canvas touching_pair(const float *a, const float *b) { return pair_at_gap(a, b, -1); }

static dn_net *net;

static dn_number_options options(void)
{
    dn_number_options o = dn_number_options_default();
    o.input_mean = net_mean;
    o.input_std = net_std;
    return o;
}

/* As dn-predict and the server read numbers: parts the net would refuse as
 * "not a digit" are unsure. */
static dn_number_options options_refusing(void)
{
    dn_number_options o = options();
    o.min_confidence = net_threshold;
    return o;
}

/* The single-digit path's answer for test image i drawn alone, and its
 * best probability in *best. */
static int single_reading(int i, float *best)
{
    float tile[TILE * TILE], x[DN_MNIST_PIXELS], probs[10];
    canvas c = canvas_new(TILE + 40, TILE + 40);
    tile_of(tile, i);
    paste(&c, tile, 20, 20);
    dn_image img = picture(&c);
    dn_preprocess_info info;
    int answer = -1;
    *best = 0;
    if (dn_preprocess_mnist(&img, x, &info) == DN_OK && info.has_ink) {
        dn_normalize(x, DN_MNIST_PIXELS, net_mean, net_std);
        if (dn_net_predict(net, x, 1, probs, 10) == DN_OK) {
            answer = dn_argmax(probs, 10);
            *best = probs[answer];
        }
    }
    dn_image_free(&img);
    free(c.ink);
    return answer;
}

/* The single-digit path's answer for test image i drawn alone. */
static int single_answer(int i)
{
    float best;
    return single_reading(i, &best);
}

/* Test images the single-digit path reads right, in order. */
static int good[200], good_count;

static void find_good(void)
{
    for (int i = 0; i < test_set.count && good_count < 200; i++)
        if (single_answer(i) == test_set.labels[i])
            good[good_count++] = i;
}

/* Two digits apart, given in right-to-left order of drawing: two boxes,
 * left to right, each over its own digit, read right. */
static void test_apart(void)
{
    int right = 0, total = 0;
    for (int k = 0; k + 1 < 40; k += 2) {
        int a = good[k], b = good[k + 1];
        float ta[TILE * TILE], tb[TILE * TILE];
        tile_of(ta, a);
        tile_of(tb, b);
        canvas c = canvas_new(2 * TILE + 60, TILE + 30);
        paste(&c, tb, TILE + 40, 10); /* the right digit drawn first */
        paste(&c, ta, 10, 15);
        dn_image img = picture(&c);
        dn_number num;
        dn_number_options o = options();
        CHECK_OK(dn_read_number(&num, &img, net, &o));
        char want[3] = {(char)('0' + test_set.labels[a]), (char)('0' + test_set.labels[b]), 0};
        total++;
        right += strcmp(num.text, want) == 0;
        if (k == 0) {
            CHECK(num.count == 2 && num.digits == 2, "two digits apart: %d parts", num.count);
            CHECK(num.count == 2 && num.parts[0].x < TILE + 10 && num.parts[1].x >= TILE + 40 &&
                      num.parts[0].x + num.parts[0].w <= TILE + 10 && !num.parts[0].cut && !num.parts[1].cut,
                  "boxes left to right over their digits: x %d w %d, x %d w %d", num.parts[0].x, num.parts[0].w,
                  num.parts[1].x, num.parts[1].w);
        }
        dn_image_free(&img);
        free(c.ink);
    }
    /* Each digit alone is read right by construction; apart, one may be cut
     * when it is far wider than tall (MNIST has 4s of aspect 1.2). */
    CHECK(right >= total - 1, "pairs apart read right: %d of %d", right, total);
}

/* Two digits whose inks touch: cut apart and read right most of the time. */
static void test_touching(void)
{
    int split = 0, right = 0, total = 0, cut = 0;
    for (int k = 40; k + 1 < 100; k += 2) {
        int a = good[k], b = good[k + 1];
        float ta[TILE * TILE], tb[TILE * TILE];
        tile_of(ta, a);
        tile_of(tb, b);
        canvas c = touching_pair(ta, tb);
        dn_image img = picture(&c);
        /* touching: one ink component */
        dn_ink ink;
        size_t components = 0;
        double *mass = NULL;
        uint32_t *labels = malloc((size_t)c.w * (size_t)c.h * sizeof *labels);
        if (dn_ink_extract(&ink, &img, "test") == DN_OK &&
            dn_ink_components(ink.p, ink.w, ink.h, labels, &components, &mass, "test") == DN_OK) {
            double largest = 0, kept = 0;
            for (size_t q = 0; q < components; q++)
                largest = fmax(largest, mass[q]);
            for (size_t q = 0; q < components; q++)
                kept += mass[q] >= 0.03 * largest;
            if (kept == 1) {
                total++;
                dn_number num;
                dn_number_options o = options();
                CHECK_OK(dn_read_number(&num, &img, net, &o));
                        char want[3] = {(char)('0' + test_set.labels[a]), (char)('0' + test_set.labels[b]), 0};
                split += num.count == 2;
                cut += num.count == 2 && num.parts[0].cut && num.parts[1].cut;
                right += strcmp(num.text, want) == 0;
                o.no_split = true;
                CHECK_OK(dn_read_number(&num, &img, net, &o));
                CHECK(num.count == 1, "no_split: touching digits stay one part (%d)", num.count);
            }
        }
        free(mass);
        free(labels);
        dn_ink_free(&ink);
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(total >= 20, "touching pairs made: %d", total);
    CHECK(cut == split, "split parts are marked cut (%d of %d)", cut, split);
    CHECK(split >= 0.8 * total, "touching pairs cut in two: %d of %d", split, total);
    CHECK(right >= 0.7 * total, "touching pairs read right: %d of %d", right, total);
}

/* A 1 touching its neighbour, on either side: a pair hardly wider than one
 * digit, which the net reads confidently as one digit when left whole
 * (16 as 6, 71 as 7): cut in two and read right most of the time. */
static void test_one_touching(void)
{
    int ones[40], others[40], n1 = 0, n2 = 0;
    for (int k = 0; k < good_count; k++) {
        if (test_set.labels[good[k]] == 1 && n1 < 40)
            ones[n1++] = good[k];
        else if (test_set.labels[good[k]] != 1 && n2 < 40)
            others[n2++] = good[k];
    }
    int total = 0, split = 0, right = 0;
    for (int k = 0; k < n1 && k < n2; k++)
        for (int side = 0; side < 2; side++) {
            int a = side ? others[k] : ones[k], b = side ? ones[k] : others[k];
            float ta[TILE * TILE], tb[TILE * TILE];
            tile_of(ta, a);
            tile_of(tb, b);
            canvas c = touching_pair(ta, tb);
            dn_image img = picture(&c);
            dn_number num;
            dn_number_options o = options_refusing();
            CHECK_OK(dn_read_number(&num, &img, net, &o));
            char want[3] = {(char)('0' + test_set.labels[a]), (char)('0' + test_set.labels[b]), 0};
            total++;
            split += num.count == 2;
            right += strcmp(num.text, want) == 0;
            dn_image_free(&img);
            free(c.ink);
        }
    CHECK(total >= 30, "pairs of a 1 and a digit touching: %d", total);
    CHECK(split >= 0.8 * total, "a 1 touching its neighbour cut apart: %d of %d", split, total);
    CHECK(right >= 0.7 * total, "a 1 touching its neighbour read right: %d of %d", right, total);
}

/* A 1 drawn with a pen (a straight stroke, as the page's users and
 * strokes.py draw it) as tall as an MNIST digit and touching it, on either
 * side: the pair is hardly wider than one digit, so the cut trial is not
 * even tried, and the net reads it surely as the other digit (16 as 6).
 * The 1 is peeled off the end of the part (find_one in
 * lib/image/number.c): 33-35 cut and 31-32 read right of these 40 with
 * this test's MLP (main, ASan and portable builds train slightly
 * different ones); the reader before that (main at 16566ac) cut 26 and
 * read 24 right, and fails both checks. */
/* A 1 drawn with a pen as tall as the ink of digit tile td, into t1: the
 * k-th leans more or less and has one of three pens. */
static void drawn_one_beside(const float *td, int k, float *t1)
{
    int top = TILE, bottom = -1;
    for (int y = 0; y < TILE; y++)
        for (int x = 0; x < TILE; x++)
            if (td[y * TILE + x] > 0.5f) {
                top = y < top ? y : top;
                bottom = y;
            }
    canvas one = canvas_new(TILE, TILE);
    double lean = 0.06 * (k % 4) * (bottom - top); /* upright to leaning right */
    line(&one, TILE / 2.0 + lean / 2, top + 2, TILE / 2.0 - lean / 2, bottom - 2, 3.5 + k % 3);
    memcpy(t1, one.ink, TILE * TILE * sizeof *t1);
    free(one.ink);
}

/* The text of a 1 beside digit: "1d" with the 1 on the left (side 0),
 * "d1" with it on the right. */
static void one_beside_text(char want[3], int digit, int side)
{
    want[0] = side ? (char)('0' + digit) : '1';
    want[1] = side ? '1' : (char)('0' + digit);
    want[2] = '\0';
}

static void test_drawn_one_touching(void)
{
    int total = 0, right = 0, split = 0;
    for (int k = 0, used = 0; k < good_count && used < 20; k++) {
        int d = good[k];
        if (test_set.labels[d] == 1)
            continue;
        used++;
        float td[TILE * TILE], t1[TILE * TILE];
        tile_of(td, d);
        drawn_one_beside(td, used, t1);
        for (int side = 0; side < 2; side++) {
            const float *ta = side ? td : t1, *tb = side ? t1 : td;
            canvas c = touching_pair(ta, tb);
            dn_image img = picture(&c);
            dn_number num;
            dn_number_options o = options_refusing();
            CHECK_OK(dn_read_number(&num, &img, net, &o));
            char want[3];
            one_beside_text(want, test_set.labels[d], side);
            total++;
            split += num.count == 2;
            right += strcmp(num.text, want) == 0;
            dn_image_free(&img);
            free(c.ink);
        }
    }
    printf("a drawn 1 touching a digit: cut in two %d, read right %d, of %d\n", split, right, total);
    CHECK(total == 40, "pairs of a drawn 1 and a digit touching: %d", total);
    CHECK(split >= 0.75 * total, "a drawn 1 touching its neighbour cut apart: %d of %d", split, total);
    CHECK(right >= 0.7 * total, "a drawn 1 touching its neighbour read right: %d of %d", right, total);
}

/* A drawn 1 touching or crossing (by 2 px) a digit the net reads at least
 * 0.99 surely alone, where the pair read whole is under the threshold (the
 * 1 leaves the net unsure) but leans to that digit: the 1 comes off (step 5
 * of number.h). 52 of 59 read right with this test's MLP; 43 when only
 * pairs read surely are peeled (the cut trial finds the others), so the
 * check at 80% fails without the rule. */
static void test_one_beside_unsure(void)
{
    int cases = 0, right = 0;
    for (int k = 0, used = 0; k < good_count && used < 150; k++) {
        int d = good[k];
        float alone;
        if (test_set.labels[d] == 1 || single_reading(d, &alone) != test_set.labels[d] || alone < 0.99f)
            continue;
        used++;
        float td[TILE * TILE], t1[TILE * TILE];
        tile_of(td, d);
        drawn_one_beside(td, used, t1);
        for (int variant = 0; variant < 4; variant++) {
            int side = variant & 1, gap = variant < 2 ? -1 : -3;
            canvas c = pair_at_gap(side ? td : t1, side ? t1 : td, gap);
            dn_image img = picture(&c);
            dn_number whole, num;
            dn_number_options o = options_refusing();
            o.no_split = true;
            CHECK_OK(dn_read_number(&whole, &img, net, &o));
            if (whole.count == 1) {
                const float *p = whole.parts[0].probs;
                int lean_to = dn_argmax(p, 10);
                if (p[lean_to] < net_threshold && lean_to == test_set.labels[d]) {
                    o.no_split = false;
                    CHECK_OK(dn_read_number(&num, &img, net, &o));
                    char want[3];
                    one_beside_text(want, lean_to, side);
                    cases++;
                    right += strcmp(num.text, want) == 0;
                }
            }
            dn_image_free(&img);
            free(c.ink);
        }
    }
    printf("a drawn 1 beside a digit read surely, the pair unsurely: %d read right of %d\n", right, cases);
    CHECK(cases >= 20, "pairs of a 1 and a sure digit that the net is unsure of: %d", cases);
    CHECK(right >= 0.8 * cases, "a 1 peeled off a pair the net is unsure of: %d of %d", right, cases);
}

/* A single 0 drawn wide (0.8 to 1.1 times as wide as tall) with a pen:
 * one part, not cut into two digits (its halves read as digits: "52"); the
 * reader before the whole's own width allowance (WHOLE_WIDE) cut them from
 * 0.98 times as wide as tall. The widest 0s of MNIST alone: a guard
 * against cutting real wide digits wholesale (most kept; how many depends
 * on the test's MLP, which differs between builds: 15 to 17 of 20). */
static void test_wide_zero(void)
{
    int zeros = 0, total = 0;
    for (int k = 0; k < 6; k++) {
        double H = 120, W = H * (0.8 + 0.06 * k), cx = 30 + W / 2, cy = 30 + H / 2, r = 4 + k % 3;
        canvas c = canvas_new((int)W + 60, (int)H + 60);
        double px = cx + W / 2, py = cy;
        for (int s = 1; s <= 48; s++) {
            double a = 6.283185307179586 * s / 48, nx = cx + W / 2 * cos(a), ny = cy + H / 2 * sin(a);
            line(&c, px, py, nx, ny, r);
            px = nx;
            py = ny;
        }
        dn_image img = picture(&c);
        dn_number num;
        dn_number_options o = options_refusing();
        CHECK_OK(dn_read_number(&num, &img, net, &o));
        total++;
        zeros += strcmp(num.text, "0") == 0;
        CHECK(num.count == 1, "a drawn 0 %.2f times as wide as tall is one part (%d, \"%s\")", W / H, num.count,
              num.text);
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(zeros >= total - 1, "drawn wide 0s read as 0: %d of %d", zeros, total);
    /* MNIST 0s the single-digit path reads right, at least 0.85 as wide as tall */
    int wide = 0, kept = 0;
    for (int i = 0; i < test_set.count && wide < 20; i++) {
        if (test_set.labels[i] != 0)
            continue;
        float tile[TILE * TILE];
        tile_of(tile, i);
        int x0 = TILE, x1 = -1, y0 = TILE, y1 = -1;
        for (int y = 0; y < TILE; y++)
            for (int x = 0; x < TILE; x++)
                if (tile[y * TILE + x] > 0.5f) {
                    x0 = x < x0 ? x : x0;
                    x1 = x > x1 ? x : x1;
                    y0 = y < y0 ? y : y0;
                    y1 = y > y1 ? y : y1;
                }
        if (x1 < 0 || x1 - x0 < 0.85 * (y1 - y0) || single_answer(i) != 0)
            continue;
        canvas c = canvas_new(TILE + 40, TILE + 40);
        paste(&c, tile, 20, 20);
        dn_image img = picture(&c);
        dn_number num;
        dn_number_options o = options_refusing();
        CHECK_OK(dn_read_number(&num, &img, net, &o));
        wide++;
        kept += num.count == 1 && strcmp(num.text, "0") == 0;
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(wide >= 10 && kept >= 2 * wide / 3, "wide MNIST 0s alone stay one 0: %d of %d", kept, wide);
}

/* A 5 drawn with its top bar apart from the rest: one part of 2 pieces. */
static void test_detached_bar(void)
{
    canvas c = canvas_new(200, 200);
    double H = 120, x0 = 60, y0 = 40, r = 6;
    line(&c, x0, y0, x0 - 4, y0 + 0.45 * H, r);
    double px = x0 - 4, py = y0 + 0.45 * H;
    for (int k = 1; k <= 24; k++) { /* the belly: most of a circle, open on the left */
        double a = -2.3 + 4.2 * k / 24.0, cx = x0 + 0.22 * H, cy = y0 + 0.7 * H, rad = 0.3 * H;
        double nx = cx + rad * cos(a), ny = cy + rad * sin(a);
        line(&c, px, py, nx, ny, r);
        px = nx;
        py = ny;
    }
    line(&c, x0 + 0.12 * H, y0 - 6, x0 + 0.55 * H, y0 - 8, r); /* the bar, 0.1 H to the right */
    dn_image img = picture(&c);
    dn_number num;
    dn_number_options o = options();
    CHECK_OK(dn_read_number(&num, &img, net, &o));
    CHECK(num.count == 1 && num.parts[0].pieces == 2, "5 with a detached bar: %d parts, %d pieces", num.count,
          num.count ? num.parts[0].pieces : 0);
    CHECK(num.count == 1 && num.parts[0].y <= (int)y0 - 8 && num.parts[0].x + num.parts[0].w >= x0 + 0.55 * H,
          "its box takes the bar in");
    CHECK(num.count == 1 && num.digits == 1 && strcmp(num.text, "5") == 0, "read as 5: \"%s\"", num.text);
    dn_image_free(&img);
    free(c.ink);
}

/* A speck beside a digit is ignored; a dash between digits and a dot are
 * marked, not read as digits. */
static void test_marks(void)
{
    int a = good[0], b = good[1];
    float ta[TILE * TILE], tb[TILE * TILE];
    tile_of(ta, a);
    tile_of(tb, b);
    char want[3] = {(char)('0' + test_set.labels[a]), (char)('0' + test_set.labels[b]), 0};

    canvas c = canvas_new(TILE + 60, TILE + 40);
    paste(&c, ta, 20, 20);
    line(&c, 8, 8, 8, 8, 1.0); /* a speck */
    dn_image img = picture(&c);
    dn_number num;
    dn_number_options o = options();
    CHECK_OK(dn_read_number(&num, &img, net, &o));
    CHECK(num.count == 1 && num.specks >= 1 && num.text[0] == want[0] && num.text[1] == 0,
          "digit and a speck: %d parts, %d specks, \"%s\"", num.count, num.specks, num.text);
    dn_image_free(&img);
    free(c.ink);

    c = canvas_new(2 * TILE + 120, TILE + 20);
    paste(&c, ta, 10, 10);
    paste(&c, tb, TILE + 110, 10);
    line(&c, TILE + 30, 10 + TILE / 2, TILE + 80, 10 + TILE / 2, 4); /* a dash */
    line(&c, 2 * TILE + 112, TILE + 2, 2 * TILE + 112, TILE + 2, 6); /* a dot after */
    img = picture(&c);
    CHECK_OK(dn_read_number(&num, &img, net, &o));
    CHECK(num.count == 4, "two digits, a dash and a dot: %d parts", num.count);
    if (num.count == 4) {
        CHECK(num.parts[1].kind == DN_PART_FLAT, "the dash is flat: %s", dn_part_kind_name(num.parts[1].kind));
        CHECK(num.parts[3].kind == DN_PART_SMALL, "the dot is small: %s", dn_part_kind_name(num.parts[3].kind));
        CHECK(num.digits == 2 && strcmp(num.text, want) == 0, "text \"%s\", want \"%s\"", num.text, want);
    }
    /* min_confidence 1.01: every digit-sized part is unsure */
    o.min_confidence = 1.01f;
    CHECK_OK(dn_read_number(&num, &img, net, &o));
    CHECK(num.count == 4 && num.digits == 0 && num.text[0] == 0 && num.parts[0].kind == DN_PART_UNSURE,
          "min_confidence above 1: no digits, \"%s\"", num.text);
    dn_image_free(&img);
    free(c.ink);
}

/* Good digits 2k and 2k + 1 with a digit's width and more between them,
 * for something drawn there. */
static canvas two_digits_apart(int k)
{
    float ta[TILE * TILE], tb[TILE * TILE];
    tile_of(ta, good[2 * k]);
    tile_of(tb, good[2 * k + 1]);
    canvas c = canvas_new(3 * TILE + 100, TILE + 20);
    paste(&c, ta, 10, 10);
    paste(&c, tb, 2 * TILE + 90, 10);
    return c;
}

/* A digit the net reads right but less surely than its not-a-digit
 * threshold (at least half the probability on its label), drawn alone: refused
 * (unsure); drawn between two digits it reads surely, as tall as they are:
 * a digit, and the number read right. A star drawn the same way between
 * two digits stays out of the number. */
static void test_unsure_in_number(void)
{
    const float threshold = 0.9f; /* a strict one, as the CNN's (0.888) */
    const double pi = 3.14159265358979;
    dn_number_options o = options();
    o.min_confidence = threshold;
    /* digits read alone as one part, unsure, its best the label's at >= 0.5 */
    int doubtful[20], n = 0;
    for (int i = 0; i < test_set.count && i < 3000 && n < 20; i++) {
        float best, td[TILE * TILE];
        if (single_reading(i, &best) != test_set.labels[i] || best < 0.5f || best >= threshold)
            continue;
        tile_of(td, i);
        canvas c = canvas_new(TILE + 40, TILE + 40);
        paste(&c, td, 20, 20);
        dn_image img = picture(&c);
        dn_number num;
        CHECK_OK(dn_read_number(&num, &img, net, &o));
        if (num.count == 1 && num.parts[0].kind == DN_PART_UNSURE && num.text[0] == 0 &&
            num.parts[0].digit == test_set.labels[i])
            doubtful[n++] = i;
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(n >= 10, "digits read right alone but under the threshold %.3f, refused: %d", threshold, n);
    int right = 0, middle = 0;
    for (int k = 0; k < n; k++) {
        int a = good[2 * k], b = good[2 * k + 1], d = doubtful[k];
        float ta[TILE * TILE], tb[TILE * TILE], td[TILE * TILE];
        tile_of(ta, a);
        tile_of(tb, b);
        tile_of(td, d);
        dn_number num;
        canvas c = canvas_new(3 * TILE + 100, TILE + 20);
        paste(&c, ta, 10, 10);
        paste(&c, td, TILE + 50, 10);
        paste(&c, tb, 2 * TILE + 90, 10);
        dn_image img = picture(&c);
        CHECK_OK(dn_read_number(&num, &img, net, &o));
        char want[4] = {(char)('0' + test_set.labels[a]), (char)('0' + test_set.labels[d]),
                        (char)('0' + test_set.labels[b]), 0};
        right += strcmp(num.text, want) == 0;
        middle += num.count == 3 && num.parts[1].kind == DN_PART_DIGIT;
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(middle >= 0.8 * n && right >= 0.7 * n,
          "doubtful digits between two digits: digits %d, numbers right %d, of %d", middle, right, n);

    /* a five-pointed star the digits' height, between two of them, in
     * twelve pens and turns. This MLP had one epoch and refuses shapes less
     * surely than the real models do (docs/results.md): 9 or 10 of the 12
     * stay out, depending on the build's rounding (gcc, ASan, clang without
     * OpenMP train slightly different nets); a rule that took every piece
     * of a number's height would let them all in. */
    int stars = 0, kept_out = 0;
    for (int k = 0; k < 12; k++) {
        canvas c = two_digits_apart(k);
        double cx = 1.5 * TILE + 50, cy = 10 + TILE / 2.0, R = 0.42 * TILE, pen = 3 + k % 3;
        for (int p = 0; p < 5; p++) {
            double a0 = -pi / 2 + p * 4 * pi / 5 + 0.05 * k, a1 = a0 + 4 * pi / 5;
            line(&c, cx + R * cos(a0), cy + R * sin(a0), cx + R * cos(a1), cy + R * sin(a1), pen);
        }
        dn_image img = picture(&c);
        dn_number num;
        CHECK_OK(dn_read_number(&num, &img, net, &o));
        bool digit = false; /* a part over the star read as a digit */
        for (int q = 0; q < num.count; q++)
            digit |= num.parts[q].kind == DN_PART_DIGIT && fabs(num.parts[q].x + num.parts[q].w / 2.0 - cx) < R;
        stars++;
        kept_out += num.count == 3 && !digit;
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(kept_out >= 2 * stars / 3, "a star between two digits is no digit: %d of %d", kept_out, stars);
}

/* A letter h between two digits, as tall as they are, in twelve pens and
 * widths: its arch, about half its height, is too short to be a digit of its
 * own, so the h is never cut into two digits (a 1 and a 7, for the real
 * models: docs/results.md, "Sixth version"). */
static void test_letter_not_cut(void)
{
    const double pi = 3.14159265358979;
    dn_number_options o = options();
    o.min_confidence = 0.9f;
    int letters = 0, whole = 0;
    for (int k = 0; k < 12; k++) {
        canvas c = two_digits_apart(k);
        double top = 14, bottom = 6 + TILE, height = bottom - top, x0 = 1.5 * TILE + 40, pen = 3 + k % 3;
        double rx = (0.32 + 0.02 * (k % 4)) * height, ry = 0.2 * height;
        double start = top + (0.5 + 0.04 * (k % 2)) * height + ry; /* the arch tops out half-way down */
        line(&c, x0, top, x0, bottom, pen); /* the stem */
        double px = x0, py = start;        /* the arch: half an ellipse from the stem ... */
        for (int s = 1; s <= 16; s++) {
            double t = pi * s / 16, qx = x0 + rx - rx * cos(t), qy = start - ry * sin(t);
            line(&c, px, py, qx, qy, pen);
            px = qx;
            py = qy;
        }
        line(&c, px, py, px, bottom, pen); /* ... and down to the line */
        dn_image img = picture(&c);
        dn_number num;
        CHECK_OK(dn_read_number(&num, &img, net, &o));
        letters++;
        whole += num.count == 3;
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(whole == letters, "an h between two digits is not cut into two parts: %d of %d", whole, letters);
}

/* One-component pictures: the part's input is dn_preprocess_mnist's, bit for
 * bit, and its probabilities those of the net on it; a speck added changes
 * neither. */
static void test_single_is_unchanged(void)
{
    int compared = 0, same = 0;
    for (int k = 0; k < 60; k++) {
        float tile[TILE * TILE];
        tile_of(tile, k);
        canvas c = canvas_new(TILE + 70, TILE + 50);
        paste(&c, tile, 10 + k % 50, 10 + k % 30);
        if (k % 3 == 0)
            line(&c, c.w - 5, c.h - 5, c.w - 5, c.h - 5, 0.8); /* a speck */
        dn_image img = picture(&c);
        dn_ink ink;
        size_t components = 0;
        double *mass = NULL;
        uint32_t *labels = malloc((size_t)c.w * (size_t)c.h * sizeof *labels);
        double largest = 0, kept = 0;
        if (dn_ink_extract(&ink, &img, "test") == DN_OK &&
            dn_ink_components(ink.p, ink.w, ink.h, labels, &components, &mass, "test") == DN_OK) {
            for (size_t q = 0; q < components; q++)
                largest = fmax(largest, mass[q]);
            for (size_t q = 0; q < components; q++)
                kept += mass[q] >= 0.03 * largest;
        }
        free(mass);
        free(labels);
        dn_ink_free(&ink);
        if (kept == 1) {
            float single[DN_MNIST_PIXELS], inputs[2 * DN_MNIST_PIXELS], probs[10];
            dn_preprocess_info info;
            CHECK_OK(dn_preprocess_mnist(&img, single, &info));
            dn_number num;
            dn_number_options o = options();
            o.inputs = inputs;
            o.inputs_capacity = 2;
            CHECK_OK(dn_read_number(&num, &img, net, &o));
            compared++;
            if (num.count == 1) {
                float x[DN_MNIST_PIXELS];
                memcpy(x, single, sizeof x);
                dn_normalize(x, DN_MNIST_PIXELS, net_mean, net_std);
                CHECK_OK(dn_net_predict(net, x, 1, probs, 10));
                bool equal = memcmp(inputs, single, sizeof single) == 0 &&
                             memcmp(num.parts[0].probs, probs, sizeof probs) == 0 && num.parts[0].x == info.box_x &&
                             num.parts[0].y == info.box_y && num.parts[0].w == info.box_w &&
                             num.parts[0].h == info.box_h;
                same += equal;
                CHECK(equal, "image %d: same input, probabilities and box as the single-digit path", k);
            }
        }
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(compared >= 50, "one-component pictures compared: %d", compared);
    CHECK(same >= compared - 2, "read as one part identical to the single-digit path: %d of %d", same, compared);
}

/* options.whole: the picture made into one digit comes out exactly as
 * dn_preprocess_mnist makes it, and the reading is the one without it - for
 * digits alone (with and without specks), numbers apart and touching, marks,
 * light ink on dark, no ink, and more components than the reader keeps. */
static void test_whole(void)
{
    int pictures = 0;
    for (int k = 0; k < 24; k++) {
        float a[TILE * TILE], b[TILE * TILE];
        tile_of(a, good[k]);
        tile_of(b, good[k + 24]);
        canvas c = canvas_new(3 * TILE, TILE + 40);
        switch (k % 8) {
        case 0: /* a digit alone */
            paste(&c, a, 20 + k, 20);
            break;
        case 1: /* with specks */
            paste(&c, a, 30, 10);
            line(&c, 10, 10, 10, 10, 0.8);
            line(&c, c.w - 12, c.h - 8, c.w - 12, c.h - 8, 2.5);
            break;
        case 2: /* two digits apart */
            paste(&c, a, 5, 20);
            paste(&c, b, 5 + TILE + 20, 20);
            break;
        case 3: /* touching */
            paste(&c, a, 5, 20);
            paste(&c, b, 5 + offset_for_gap(a, b, -1), 20);
            break;
        case 4: /* a digit and a dash */
            paste(&c, a, 10, 10);
            line(&c, TILE + 30, TILE / 2 + 10, TILE + 70, TILE / 2 + 10, 3);
            break;
        case 5: /* nothing */
            break;
        case 6: /* 300 dots alike: more components than the reader keeps */
            for (int d = 0; d < 300; d++)
                line(&c, 4 + (d % 30) * 7, 4 + (d / 30) * 7, 4 + (d % 30) * 7, 4 + (d / 30) * 7, 1.2);
            break;
        case 7: /* a digit with a second stroke drawn apart */
            paste(&c, a, 20, 20);
            line(&c, TILE + 40, 25, TILE + 40, TILE + 10, 2.5);
            break;
        }
        dn_image img = picture(&c);
        if (k % 2) /* light on dark, too */
            for (int i = 0; i < c.w * c.h; i++)
                img.pixels[i] = 1.0f - img.pixels[i];
        float single[DN_MNIST_PIXELS], whole[DN_MNIST_PIXELS];
        dn_preprocess_info info, whole_info;
        dn_number plain, with_whole;
        dn_number_options o = options_refusing();
        CHECK_OK(dn_preprocess_mnist(&img, single, &info));
        CHECK_OK(dn_read_number(&plain, &img, net, &o));
        memset(whole, 0xff, sizeof whole);
        memset(&whole_info, 0xff, sizeof whole_info);
        o.whole = whole;
        o.whole_info = &whole_info;
        CHECK_OK(dn_read_number(&with_whole, &img, net, &o));
        bool same_info = whole_info.has_ink == info.has_ink && whole_info.inverted == info.inverted &&
                         whole_info.box_x == info.box_x && whole_info.box_y == info.box_y &&
                         whole_info.box_w == info.box_w && whole_info.box_h == info.box_h &&
                         whole_info.ink_fraction == info.ink_fraction;
        CHECK(memcmp(whole, single, sizeof single) == 0 && same_info,
              "picture %d: options.whole is dn_preprocess_mnist's input and info", k);
        CHECK(memcmp(&plain, &with_whole, sizeof plain) == 0, "picture %d: the same reading with options.whole", k);
        pictures++;
        dn_image_free(&img);
        free(c.ink);
    }
    CHECK(pictures == 24, "pictures read: %d", pictures);
}

static void test_errors(void)
{
    dn_number num;
    dn_image img;
    CHECK_OK(dn_image_new(&img, 30, 20));
    for (int i = 0; i < 600; i++)
        img.pixels[i] = 1.0f;
    CHECK(dn_read_number(NULL, &img, net, NULL) == DN_ERR_ARG, "NULL number");
    CHECK(dn_read_number(&num, NULL, net, NULL) == DN_ERR_ARG && num.count == 0, "NULL image");
    CHECK(dn_read_number(&num, &img, NULL, NULL) == DN_ERR_ARG, "NULL net");
    CHECK_OK(dn_read_number(&num, &img, net, NULL));
    CHECK(num.count == 0 && num.digits == 0 && num.text[0] == 0, "blank picture: nothing (%d parts)", num.count);
    dn_number_options o = options();
    o.input_std = 0;
    CHECK(dn_read_number(&num, &img, net, &o) == DN_ERR_ARG, "std 0");
    o = options();
    o.inputs_capacity = 3;
    CHECK(dn_read_number(&num, &img, net, &o) == DN_ERR_ARG, "capacity without inputs");
    img.pixels[7] = NAN;
    CHECK(dn_read_number(&num, &img, net, NULL) == DN_ERR_ARG && strstr(dn_last_error(), "dn_read_number"),
          "NaN pixel: %s", dn_last_error());
    dn_net *other;
    CHECK_OK(dn_net_new(&other, "input 1x8x8; flatten; linear 10", 1));
    CHECK(dn_read_number(&num, &img, other, NULL) == DN_ERR_SHAPE, "8x8 net: %s", dn_last_error());
    dn_net_free(other);
    CHECK(strcmp(dn_part_kind_name(DN_PART_FLAT), "flat") == 0, "kind names");
    dn_image_free(&img);
}

int main(void)
{
    dn_dataset train;
    const char *dir = DN_SOURCE_DIR "/datasets/mnist";
    if (dn_dataset_load_dir(&train, dir, true, DN_MNIST_MEAN, DN_MNIST_STD) != DN_OK ||
        dn_dataset_load_dir(&test_set, dir, false, DN_MNIST_MEAN, DN_MNIST_STD) != DN_OK) {
        printf("skipped: %s (run datasets/fetch-mnist.sh)\n", dn_last_error());
        return DN_TEST_SKIP;
    }
    /* An MLP, one epoch on 30000 MNIST images, 4000 drawn digits and 6000
     * drawings that are not digits (taught "not a digit" as dn-train
     * teaches it): about 96% on MNIST, and a threshold calibrated as
     * dn-train does (98% of MNIST test answered). */
    dn_optim *opt;
    dn_optim_config oc = dn_optim_defaults(DN_OPTIM_ADAM);
    if (dn_net_new(&net, dn_net_preset("mlp"), 1) != DN_OK || dn_optim_new(&opt, &oc, dn_net_param_count(net)) != DN_OK) {
        printf("%s\n", dn_last_error());
        return 1;
    }
    dn_dataset drawn, mixed;
    CHECK_OK(dn_synth_dataset(&drawn, 4000, 6000, 5, DN_MNIST_MEAN, DN_MNIST_STD));
    CHECK_OK(dn_dataset_concat(&mixed, &drawn, &train));
    dn_train_config tc = {.batch = 64, .lr = 0.002f, .seed = 1, .limit = drawn.count + 30000,
                          .background = -DN_MNIST_MEAN / DN_MNIST_STD};
    CHECK_OK(dn_train_epoch(net, opt, &mixed, &tc, 0, NULL, NULL, NULL));
    CHECK_OK(dn_answer_calibrate(net, &test_set, 0.98, &net_threshold));
    dn_optim_free(opt);
    dn_dataset_free(&mixed);
    dn_dataset_free(&drawn);
    dn_dataset_free(&train);
    find_good();
    CHECK(good_count >= 150, "the MLP reads %d of the first test digits drawn alone", good_count);

    test_apart();
    test_touching();
    test_one_touching();
    test_drawn_one_touching();
    test_one_beside_unsure();
    test_wide_zero();
    test_detached_bar();
    test_marks();
    test_unsure_in_number();
    test_letter_not_cut();
    test_single_is_unchanged();
    test_whole();
    test_errors();
    dn_net_free(net);
    dn_dataset_free(&test_set);
    return dn_test_finish();
}
