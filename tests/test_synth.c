/* test_synth.c - pen strokes, drawn digits and non-digits made by program,
 * and training towards "no class" (DN_LABEL_NONE): its loss and gradient,
 * and how datasets, training and evaluation treat such samples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "digitnet.h"
#include "test_util.h"

static float pixel(const dn_image *img, int x, int y) { return img->pixels[y * img->width + x]; }

static void test_stroke(void)
{
    dn_image img;
    CHECK_OK(dn_image_new(&img, 64, 64));
    const float line[] = {10, 20, 50, 20};
    CHECK_OK(dn_draw_stroke(&img, line, 2, 5.0f, 1.0f));
    CHECK(pixel(&img, 30, 19) == 1.0f && pixel(&img, 30, 20) == 1.0f, "the stroke's core is full ink");
    CHECK(pixel(&img, 30, 25) == 0.0f && pixel(&img, 30, 14) == 0.0f, "nothing beyond half the pen width");
    CHECK(pixel(&img, 8, 19) == 1.0f, "round end: ink just before the first point");
    CHECK(pixel(&img, 55, 19) == 0.0f, "nothing well past the last point");
    float edge = pixel(&img, 30, 22); /* centre 22.5: 2.5 from the line, the pen's edge */
    CHECK(fabsf(edge - 0.5f) < 1e-6f, "anti-aliased edge, got %g", edge);
    /* ink only ever rises: a fainter stroke over the line changes nothing there */
    const float cross[] = {30, 0, 30, 63};
    CHECK_OK(dn_draw_stroke(&img, cross, 2, 2.0f, 0.5f));
    CHECK(pixel(&img, 30, 20) == 1.0f && fabsf(pixel(&img, 30, 40) - 0.5f) < 1e-6f, "strokes overlap as ink");
    const float dot[] = {60, 60};
    CHECK_OK(dn_draw_stroke(&img, dot, 1, 3.0f, 1.0f));
    CHECK(pixel(&img, 60, 60) == 1.0f, "a single point is a dot");
    const float off[] = {-100, -100, 200, 300};
    CHECK_OK(dn_draw_stroke(&img, off, 2, 2.0f, 1.0f)); /* clipped, no out-of-bounds write (ASan) */
    const float bad[] = {1, NAN};
    CHECK(dn_draw_stroke(&img, bad, 1, 2.0f, 1.0f) == DN_ERR_ARG, "a NaN coordinate is refused");
    CHECK(dn_draw_stroke(&img, line, 2, 0.0f, 1.0f) == DN_ERR_ARG, "a pen of width 0 is refused");
    CHECK(dn_draw_stroke(&img, line, 2, 1.0f, 1.5f) == DN_ERR_ARG, "ink above 1 is refused");
    CHECK(dn_draw_stroke(&img, line, 0, 1.0f, 1.0f) == DN_ERR_ARG, "no points is refused");
    dn_image_free(&img);
}

static void test_styles(void)
{
    for (int d = 0; d < 10; d++) {
        int n = dn_synth_style_count(d);
        CHECK(n >= 1, "digit %d has styles", d);
        for (int s = 0; s < n; s++)
            CHECK(dn_synth_style_name(d, s) != NULL, "digit %d style %d has a name", d, s);
        CHECK(dn_synth_style_name(d, n) == NULL && dn_synth_style_name(d, -1) == NULL, "no style %d of %d", n, d);
    }
    CHECK(dn_synth_style_count(1) >= 3 && dn_synth_style_count(7) >= 2 && dn_synth_style_count(4) >= 2,
          "the styles MNIST lacks: 1 with a flag and a base, 7 with a bar, open 4");
    CHECK(dn_synth_style_count(10) == 0 && dn_synth_style_count(-1) == 0, "only digits have styles");

    dn_image img;
    dn_rng rng;
    dn_rng_seed(&rng, 3);
    CHECK_OK(dn_image_new(&img, 96, 96));
    CHECK(dn_synth_digit(&img, 10, -1, &rng) == DN_ERR_ARG, "digit 10 is refused");
    CHECK(dn_synth_digit(&img, 1, 99, &rng) == DN_ERR_ARG, "style 99 is refused");
    CHECK(dn_synth_other_drawing(&img, DN_SYNTH_OTHER_KINDS, &rng) == DN_ERR_ARG, "unknown kind is refused");
    for (int kind = 0; kind < DN_SYNTH_OTHER_KINDS; kind++) {
        CHECK_OK(dn_synth_other_drawing(&img, (dn_synth_other)kind, &rng));
        float ink = 0;
        for (int i = 0; i < 96 * 96; i++)
            ink += img.pixels[i];
        CHECK(ink > 1.0f, "kind %d draws something", kind);
    }
    dn_image_free(&img);
    dn_image tiny;
    CHECK_OK(dn_image_new(&tiny, 4, 4));
    CHECK(dn_synth_digit(&tiny, 3, -1, &rng) == DN_ERR_ARG, "a 4x4 canvas is too small");
    dn_image_free(&tiny);
}

static bool same_set(const dn_dataset *a, const dn_dataset *b)
{
    return a->count == b->count && memcmp(a->labels, b->labels, (size_t)a->count) == 0 &&
           memcmp(a->images, b->images, (size_t)a->count * DN_MNIST_PIXELS * sizeof(float)) == 0;
}

static void test_dataset(void)
{
    dn_dataset a, b, c;
    CHECK_OK(dn_synth_dataset(&a, 40, 20, 11, 0.0f, 1.0f));
    CHECK(a.count == 60 && a.channels == 1 && a.height == 28 && a.width == 28 && a.num_classes == 10, "shape");
    bool labels_ok = true, inked = true, ranged = true;
    for (int i = 0; i < a.count; i++) {
        labels_ok &= a.labels[i] == (i < 40 ? i % 10 : DN_LABEL_NONE);
        float max = 0;
        for (int p = 0; p < DN_MNIST_PIXELS; p++) {
            float v = a.images[(size_t)i * DN_MNIST_PIXELS + p];
            ranged &= v >= 0.0f && v <= 1.0f;
            max = v > max ? v : max;
        }
        inked &= max == 1.0f; /* dn_preprocess_mnist scales the strongest ink to 1 */
    }
    CHECK(labels_ok, "digits are labelled 0..9 in turn, then DN_LABEL_NONE");
    CHECK(inked && ranged, "every drawing has ink, values in [0,1]");

    CHECK_OK(dn_synth_dataset(&b, 40, 20, 11, 0.0f, 1.0f));
    CHECK(same_set(&a, &b), "the same seed gives the same drawings");
    dn_dataset_free(&b);
    CHECK_OK(dn_synth_dataset(&b, 40, 20, 12, 0.0f, 1.0f));
    CHECK(!same_set(&a, &b), "another seed gives other drawings");
    dn_dataset_free(&b);
#ifdef _OPENMP
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK_OK(dn_synth_dataset(&b, 40, 20, 11, 0.0f, 1.0f));
    omp_set_num_threads(threads > 1 ? threads : 2);
    CHECK(same_set(&a, &b), "the same drawings for 1 thread and %d", threads > 1 ? threads : 2);
    omp_set_num_threads(threads);
    dn_dataset_free(&b);
#endif
    CHECK_OK(dn_synth_dataset(&b, 3, 0, 11, 0.5f, 2.0f));
    CHECK(fabsf(b.images[0] - (a.images[0] - 0.5f) / 2.0f) < 1e-6f, "normalised with mean and std");

    CHECK_OK(dn_dataset_concat(&c, &a, &b));
    CHECK(c.count == 63 && c.labels[60] == 0 && c.labels[59] == DN_LABEL_NONE, "concatenated in order");
    CHECK(memcmp(c.images + 60 * DN_MNIST_PIXELS, b.images, 3 * DN_MNIST_PIXELS * sizeof(float)) == 0,
          "the second set's images follow the first's");
    dn_dataset_free(&c);
    dn_dataset other = a;
    other.width = 27;
    CHECK(dn_dataset_concat(&c, &a, &other) == DN_ERR_SHAPE && c.images == NULL, "shapes must match");
    CHECK(dn_synth_dataset(&c, 0, 0, 1, 0.0f, 1.0f) == DN_ERR_ARG, "an empty set is refused");
    CHECK(dn_synth_dataset(&c, 1, 0, 1, 0.0f, 0.0f) == DN_ERR_ARG, "std 0 is refused");
    dn_dataset_free(&a);
    dn_dataset_free(&b);
}

/* ---- the styles added for the CNN's last misses (a 4 in one stroke with no
 * stem above the bar, a 1 whose stem leans forward under its flag, ...):
 * found by name, so a style that is not there fails ---- */

static int style_named(int digit, const char *words)
{
    for (int s = 0; s < dn_synth_style_count(digit); s++)
        if (strstr(dn_synth_style_name(digit, s), words))
            return s;
    return -1;
}

typedef struct ink_box {
    int top, bottom, left, right; /* rows and columns holding ink above a half */
} ink_box;

static ink_box box_of(const dn_image *img)
{
    ink_box b = {img->height, -1, img->width, -1};
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++)
            if (pixel(img, x, y) > 0.5f) {
                b.top = y < b.top ? y : b.top;
                b.bottom = y > b.bottom ? y : b.bottom;
                b.left = x < b.left ? x : b.left;
                b.right = x > b.right ? x : b.right;
            }
    return b;
}

/* Separate pieces of ink (above a half) along row y. */
static int runs_in_row(const dn_image *img, int y)
{
    int runs = 0;
    for (int x = 0; x < img->width; x++)
        runs += pixel(img, x, y) > 0.5f && (x == 0 || pixel(img, x - 1, y) <= 0.5f);
    return runs;
}

/* The middle of the ink along row y, or -1 without ink. */
static float ink_middle(const dn_image *img, int y)
{
    double sum = 0, weight = 0;
    for (int x = 0; x < img->width; x++) {
        sum += (double)x * pixel(img, x, y);
        weight += pixel(img, x, y);
    }
    return weight > 0 ? (float)(sum / weight) : -1.0f;
}

/* How far the ink's middle moves right per row up, over rows from the
 * share `from` to `to` of the ink's height (0 = top): a stem leaning forward
 * gives a positive lean. Least squares. */
static double lean(const dn_image *img, ink_box b, double from, double to)
{
    double n = 0, sy = 0, sx = 0, syy = 0, sxy = 0;
    int height = b.bottom - b.top;
    for (int y = b.top + (int)(from * height); y <= b.top + (int)(to * height); y++) {
        float x = ink_middle(img, y);
        if (x < 0)
            continue;
        n++;
        sy += y;
        sx += x;
        syy += (double)y * y;
        sxy += (double)x * y;
    }
    return -(n * sxy - sx * sy) / (n * syy - sy * sy);
}

/* The mean of the ink's middles over rows from `from` to `to` of its height. */
static double band_middle(const dn_image *img, ink_box b, double from, double to)
{
    double sum = 0;
    int n = 0, height = b.bottom - b.top;
    for (int y = b.top + (int)(from * height); y <= b.top + (int)(to * height); y++) {
        float x = ink_middle(img, y);
        if (x >= 0) {
            sum += x;
            n++;
        }
    }
    return n ? sum / n : -1.0;
}

/* The share of rows from `from` to `to` of the ink's height that cross one
 * piece of ink only. */
static double one_piece_rows(const dn_image *img, ink_box b, double from, double to)
{
    int rows = 0, one = 0, height = b.bottom - b.top;
    for (int y = b.top + (int)(from * height); y <= b.top + (int)(to * height); y++) {
        rows++;
        one += runs_in_row(img, y) == 1;
    }
    return (double)one / rows;
}

/* Ink right of column x0 in the rows above `to` of the ink's height. */
static double ink_right_of(const dn_image *img, ink_box b, double x0, double to)
{
    double ink = 0;
    for (int y = b.top; y <= b.top + (int)(to * (b.bottom - b.top)); y++)
        for (int x = (int)ceil(x0); x < img->width; x++)
            ink += pixel(img, x, y);
    return ink;
}

/* Draws digit in style with the generator seeded with seed: a style drawn
 * from the same seed gets the same hand (slant, size, pen, wobble, place), so
 * two styles compare shape for shape. */
static ink_box draw_seeded(dn_image *img, int digit, int style, uint64_t seed)
{
    dn_rng rng;
    dn_rng_seed(&rng, seed);
    CHECK_OK(dn_synth_digit(img, digit, style, &rng));
    return box_of(img);
}

static void test_added_styles(void)
{
    const int stemless = style_named(4, "no stem above the bar"), up_and_down = style_named(4, "up from the end of");
    const int open = style_named(4, "open at the top"), closed = style_named(4, "closed");
    const int forward = style_named(1, "leaning forward"), flag = style_named(1, "with a flag");
    const int curved = style_named(1, "flag curving up");
    CHECK(stemless >= 0 && up_and_down >= 0 && forward >= 0 && curved >= 0,
          "the styles exist: a 4 in one stroke with no stem above the bar (%d), one up from the bar's end and "
          "down the stem (%d), a 1 leaning forward (%d), one with a curved flag (%d)",
          stemless, up_and_down, forward, curved);
    if (stemless < 0 || up_and_down < 0 || forward < 0 || curved < 0 || open < 0 || closed < 0 || flag < 0)
        return;
    enum { SEEDS = 200 };
    dn_image img;
    CHECK_OK(dn_image_new(&img, 96, 96));
    int no_upper_stem = 0, open_two_pieces = 0, bar_runs_on = 0, leans_forward = 0;
    double wedge = 0, closed_wedge = 0;
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        /* a 4 with no stem above the bar: above it, rows cross the slanting
         * line only (an open 4 in the same hand crosses two lines there); below
         * it, the stem stands well left of where the bar ends */
        ink_box b = draw_seeded(&img, 4, stemless, seed);
        double width = b.right - b.left, stem = band_middle(&img, b, 0.85, 0.97);
        no_upper_stem += one_piece_rows(&img, b, 0.1, 0.45) >= 0.9;
        bar_runs_on += (b.right - stem) / width > 0.06 && (stem - b.left) / width > 0.2;
        ink_box o = draw_seeded(&img, 4, open, seed);
        open_two_pieces += one_piece_rows(&img, o, 0.1, 0.45) <= 0.5;
        /* up from the end of the bar and down the stem: ink right of the stem
         * above the bar, the wedge a closed 4 does not have */
        ink_box u = draw_seeded(&img, 4, up_and_down, seed);
        wedge += ink_right_of(&img, u, band_middle(&img, u, 0.85, 0.97), 0.55);
        ink_box c = draw_seeded(&img, 4, closed, seed);
        closed_wedge += ink_right_of(&img, c, band_middle(&img, c, 0.85, 0.97), 0.55);
        /* a 1 leaning forward: below its flag, the stem leans further forward
         * than the flagged 1's drawn by the same hand */
        ink_box f = draw_seeded(&img, 1, forward, seed);
        double forward_lean = lean(&img, f, 0.35, 0.95);
        ink_box g = draw_seeded(&img, 1, flag, seed);
        leans_forward += forward_lean > lean(&img, g, 0.35, 0.95) + 0.03;
    }
    CHECK(no_upper_stem == SEEDS, "the stemless 4 has no stem above the bar in %d of %d hands", no_upper_stem, SEEDS);
    CHECK(open_two_pieces == SEEDS, "(the measure sees the open 4's stem in %d of %d)", open_two_pieces, SEEDS);
    CHECK(bar_runs_on == SEEDS, "its bar runs on past the stem in %d of %d hands", bar_runs_on, SEEDS);
    CHECK(wedge > 1.1 * closed_wedge, "the 4 drawn up from the bar's end has ink right of its stem: %.0f against "
          "%.0f for the closed 4, over %d hands", wedge, closed_wedge, SEEDS);
    CHECK(leans_forward == SEEDS, "the 1 leaning forward leans further than the flagged 1 in %d of %d hands",
          leans_forward, SEEDS);
    dn_image_free(&img);

    /* the training set draws every style, the added ones too, as
     * dn_synth_digit does, and the same for any thread count */
    const int digits = 60; /* 10 x the most styles of a digit: every style of every digit */
    for (int d = 0; d < 10; d++)
        CHECK(dn_synth_style_count(d) <= digits / 10, "digit %d's %d styles all drawn", d, dn_synth_style_count(d));
    dn_dataset a;
    CHECK_OK(dn_synth_dataset(&a, digits, 0, 21, 0.0f, 1.0f));
    const int picks[4][2] = {{4, stemless}, {4, up_and_down}, {1, forward}, {1, curved}};
    dn_image canvas;
    CHECK_OK(dn_image_new(&canvas, 96, 96));
    for (int p = 0; p < 4; p++) {
        int digit = picks[p][0], style = picks[p][1], i = 10 * style + digit; /* dn_synth_dataset's order */
        dn_rng rng;
        dn_rng_seed(&rng, 21 + (uint64_t)i * 0x9e3779b97f4a7c15ULL);
        float expected[DN_MNIST_PIXELS];
        dn_preprocess_info info = {0};
        CHECK_OK(dn_synth_digit(&canvas, digit, style, &rng));
        CHECK_OK(dn_preprocess_mnist(&canvas, expected, &info));
        CHECK(info.has_ink && a.labels[i] == digit &&
                  memcmp(a.images + (size_t)i * DN_MNIST_PIXELS, expected, sizeof expected) == 0,
              "drawing %d of the set is a %d in style %d (%s)", i, digit, style, dn_synth_style_name(digit, style));
    }
    dn_image_free(&canvas);
#ifdef _OPENMP
    int threads = omp_get_max_threads();
    for (int t = 1; t <= 3; t += 2) {
        dn_dataset b;
        omp_set_num_threads(t);
        CHECK_OK(dn_synth_dataset(&b, digits, 0, 21, 0.0f, 1.0f));
        CHECK(same_set(&a, &b), "every style drawn the same with %d threads as with %d", t, threads);
        dn_dataset_free(&b);
    }
    omp_set_num_threads(threads);
#endif
    dn_dataset_free(&a);
}

/* The loss of a sample of no class is DN_NONE_WEIGHT * cross-entropy against
 * equal probabilities; its gradient agrees with central differences. */
static void test_none_loss(void)
{
    enum { N = 3, K = 10 };
    float logits[N * K], probs[N * K], grad[N * K];
    dn_rng rng;
    dn_rng_seed(&rng, 5);
    dn_test_fill_uniform(&rng, logits, N * K, -3.0f, 3.0f);
    const uint8_t labels[N] = {4, DN_LABEL_NONE, 9};

    float flat[K] = {0}, flat_probs[K];
    const uint8_t none = DN_LABEL_NONE;
    float loss = dn_cross_entropy_forward(flat_probs, flat, &none, 1, K);
    CHECK(fabsf(loss - DN_NONE_WEIGHT * logf((float)K)) < 1e-6f, "equal logits cost weight * log K, got %g", loss);

    dn_cross_entropy_forward(probs, logits, labels, N, K);
    dn_cross_entropy_backward(grad, probs, labels, N, K);
    double worst = 0, row_sum = 0;
    for (int i = 0; i < N * K; i++) {
        const float h = 1e-2f, saved = logits[i];
        logits[i] = saved + h;
        double up = dn_cross_entropy_forward(probs, logits, labels, N, K);
        logits[i] = saved - h;
        double down = dn_cross_entropy_forward(probs, logits, labels, N, K);
        logits[i] = saved;
        double numeric = (up - down) / (2.0 * h);
        double err = fabs(numeric - grad[i]) / fmax(1e-3, fabs(numeric) + fabs(grad[i]));
        worst = err > worst ? err : worst;
    }
    for (int k = 0; k < K; k++)
        row_sum += grad[K + k];
    CHECK(worst < 2e-2, "gradient against central differences, worst relative error %g", worst);
    CHECK(fabs(row_sum) < 1e-6, "a no-class row's gradient sums to 0");
}

/* Training and evaluation accept DN_LABEL_NONE and count only labelled
 * samples as right or wrong. */
static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_training_with_none(void)
{
    dn_net *net;
    CHECK_OK(dn_net_new(&net, "input 1x28x28; flatten; linear 10", 1));
    dn_dataset ds;
    CHECK_OK(dn_synth_dataset(&ds, 20, 20, 2, DN_MNIST_MEAN, DN_MNIST_STD));
    CHECK_OK(dn_net_forward(net, ds.images, 2, true));
    const uint8_t bad[2] = {3, 200};
    CHECK(dn_net_backward(net, bad, NULL, NULL) == DN_ERR_ARG, "label 200 is neither a class nor no class");
    dn_optim_config config = dn_optim_defaults(DN_OPTIM_ADAM);
    dn_optim *opt;
    CHECK_OK(dn_optim_new(&opt, &config, dn_net_param_count(net)));
    dn_train_config train = {.batch = 8, .lr = 0.01f, .seed = 1};
    dn_epoch_stats stats;
    for (int epoch = 0; epoch < 30; epoch++)
        CHECK_OK(dn_train_epoch(net, opt, &ds, &train, epoch, NULL, NULL, &stats));
    CHECK(stats.accuracy > 0.5 && stats.accuracy <= 1.0, "accuracy over the 20 digits, got %g", stats.accuracy);

    /* what it learnt: sure about the digits, unsure about the rest */
    float probs[40 * 10];
    CHECK_OK(dn_net_predict(net, ds.images, 40, probs, 40 * 10));
    double digit_top = 0, other_top = 0;
    for (int i = 0; i < 40; i++) {
        float top = probs[i * 10 + dn_argmax(probs + i * 10, 10)];
        *(i < 20 ? &digit_top : &other_top) += top / 20.0;
    }
    CHECK(other_top < digit_top - 0.3, "non-digits end up unsure (%.2f) and digits sure (%.2f)", other_top,
          digit_top);
    double accuracy;
    int confusion[100];
    CHECK_OK(dn_evaluate(net, &ds, 0, 16, &accuracy, confusion, 100));
    int counted = 0;
    for (int i = 0; i < 100; i++)
        counted += confusion[i];
    CHECK(counted == 20, "the confusion matrix counts the 20 digits only, got %d", counted);

    /* the calibrated threshold answers at least the share asked for, and
     * is the largest that does: a hair above it answers fewer */
    dn_dataset digits = ds;
    digits.count = 20;
    float threshold;
    CHECK_OK(dn_answer_calibrate(net, &digits, 0.9, &threshold));
    CHECK_OK(dn_net_predict(net, digits.images, 20, probs, 40 * 10)); /* the same batch, the same bits */
    int answered = 0, above = 0;
    for (int i = 0; i < 20; i++) {
        dn_answer a = dn_answer_from_probs(probs + i * 10, 10, true, threshold);
        dn_answer b = dn_answer_from_probs(probs + i * 10, 10, true, nextafterf(threshold, 2.0f));
        answered += a.digit >= 0;
        above += b.digit >= 0;
    }
    CHECK(answered >= 18 && above < 18, "calibrated for 90%%: %d/20 answered, %d just above it", answered, above);
    CHECK(dn_answer_calibrate(net, &digits, 0.0, &threshold) == DN_ERR_ARG, "rate 0 is refused");
    dn_dataset none = ds;
    none.images += 20 * DN_MNIST_PIXELS;
    none.labels += 20;
    none.count = 20;
    CHECK(dn_answer_calibrate(net, &none, 0.9, &threshold) == DN_ERR_ARG, "a set of no class is refused");

    /* dn-train's rule counts only the digits the net reads right: the
     * largest threshold answering 90% of them, whatever it refuses of the
     * misread ones; *answered is the share of all it answers */
    uint8_t relabelled[20];
    float tops[20];
    for (int i = 0; i < 20; i++)
        tops[i] = probs[i * 10 + dn_argmax(probs + i * 10, 10)];
    qsort(tops, 20, sizeof *tops, compare_floats);
    int wrong = 0;
    for (int i = 0; i < 20; i++) {
        int best = dn_argmax(probs + i * 10, 10);
        relabelled[i] = digits.labels[i];
        if (probs[i * 10 + best] <= tops[4]) /* the least sure are misread, as they tend to be */
            relabelled[i] = (uint8_t)((best + 1) % 10);
        wrong += best != relabelled[i];
    }
    CHECK(wrong >= 5 && wrong < 20, "some digits misread, some read right (%d misread)", wrong);
    dn_dataset misread = digits;
    misread.labels = relabelled;
    double answered_share = -1;
    CHECK_OK(dn_answer_calibrate_right(net, &misread, 0.9, &threshold, &answered_share));
    int right = 0, right_answered = 0, right_above = 0, all_answered = 0;
    float lowest_right = 2.0f;
    for (int i = 0; i < 20; i++) {
        float top = probs[i * 10 + dn_argmax(probs + i * 10, 10)];
        all_answered += top >= threshold;
        if (dn_argmax(probs + i * 10, 10) == relabelled[i]) {
            right++;
            right_answered += top >= threshold;
            right_above += top >= nextafterf(threshold, 2.0f);
            lowest_right = top < lowest_right ? top : lowest_right;
        }
    }
    int need = right - (int)floor(0.1 * right + 1e-9);
    CHECK(right_answered >= need && right_above < need,
          "calibrated for 90%% of the %d read right: %d answered, %d just above it", right, right_answered,
          right_above);
    CHECK(answered_share == all_answered / 20.0, "answered is the share of all 20 (%g, counted %d)", answered_share,
          all_answered);
    CHECK_OK(dn_answer_calibrate_right(net, &misread, 1.0, &threshold, NULL));
    CHECK(threshold == lowest_right, "rate 1 answers every digit read right: %g, the lowest of them %g",
          (double)threshold, (double)lowest_right);
    for (int i = 0; i < 20; i++)
        relabelled[i] = (uint8_t)((dn_argmax(probs + i * 10, 10) + 1) % 10);
    float every;
    CHECK_OK(dn_answer_calibrate_right(net, &misread, 0.9, &threshold, NULL));
    CHECK_OK(dn_answer_calibrate(net, &misread, 0.9, &every));
    CHECK(threshold == every, "a net that reads nothing right counts every digit (%g, %g)", (double)threshold,
          (double)every);
    CHECK(dn_answer_calibrate_right(net, &none, 0.9, &threshold, NULL) == DN_ERR_ARG, "a set of no class is refused");
    CHECK(dn_answer_calibrate_right(net, &misread, 1.5, &threshold, NULL) == DN_ERR_ARG, "rate 1.5 is refused");

    /* the threshold travels in the model file */
    char path[] = "/tmp/dn-test-synth-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "a temporary file");
    close(fd);
    dn_model_info info = dn_model_info_default(), loaded;
    CHECK(info.answer_threshold < 0, "no threshold by default");
    info.answer_threshold = 0.625f;
    CHECK_OK(dn_model_save(net, &info, path));
    dn_net *back = NULL;
    CHECK_OK(dn_model_load(&back, &loaded, path));
    CHECK(loaded.answer_threshold == 0.625f, "answer_threshold saved and loaded, got %g",
          (double)loaded.answer_threshold);
    dn_net_free(back);
    unlink(path);
    dn_optim_free(opt);
    dn_dataset_free(&ds);
    dn_net_free(net);
}

static void test_answers(void)
{
    const float probs[4] = {0.1f, 0.6f, 0.2f, 0.1f};
    dn_answer a = dn_answer_from_probs(probs, 4, true, 0.5f);
    CHECK(a.digit == 1 && a.best == 1 && a.score == 0.6f && a.refusal == DN_ANSWERED, "0.6 >= 0.5 answers 1");
    a = dn_answer_from_probs(probs, 4, true, 0.7f);
    CHECK(a.digit == -1 && a.best == 1 && a.refusal == DN_REFUSED_NOT_A_DIGIT, "0.6 < 0.7 is not a digit");
    CHECK(strcmp(dn_refusal_reason(a.refusal), "not a digit") == 0, "the reason says so");
    a = dn_answer_from_probs(probs, 4, false, 0.5f);
    CHECK(a.digit == -1 && a.best == -1 && a.score == 0 && a.refusal == DN_REFUSED_NO_INK, "no ink");
    a = dn_answer_from_probs(probs, 4, true, NAN);
    CHECK(a.threshold == DN_ANSWER_THRESHOLD && a.digit == 1, "a NaN threshold is the default");
    a = dn_answer_from_probs(probs, 4, true, 0.0f);
    CHECK(a.digit == 1, "threshold 0 never refuses");
}

int main(void)
{
    test_stroke();
    test_styles();
    test_dataset();
    test_added_styles();
    test_none_loss();
    test_training_with_none();
    test_answers();
    return dn_test_finish();
}
