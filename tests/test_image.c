/* test_image.c - PGM reading and writing (valid, malformed, truncated, fuzzed)
 * and MNIST-style preprocessing of synthetic drawings and real MNIST digits. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "digitnet/gzip.h"
#include "digitnet/image.h"
#include "digitnet/rng.h"
#include "digitnet/status.h"
#include "internal.h"
#include "test_util.h"

enum { SIDE = DN_MNIST_SIDE, PIXELS = DN_MNIST_PIXELS };

/* ---- PGM ---- */

static dn_status parse_str(dn_image *img, const char *text, size_t len)
{
    return dn_pgm_parse(img, (const uint8_t *)text, len, "test.pgm");
}

static bool pixels_are(const dn_image *img, const float *want, int n)
{
    if (!img->pixels || img->width * img->height != n)
        return false;
    for (int i = 0; i < n; i++)
        if (fabsf(img->pixels[i] - want[i]) > 1e-6f)
            return false;
    return true;
}

static void test_pgm_valid(void)
{
    dn_image img;
    static const char p2[] = "P2\n3 2\n255\n0 128 255\n10 20 30\n";
    CHECK_OK(parse_str(&img, p2, sizeof p2 - 1));
    float want_p2[] = {0, 128 / 255.f, 1, 10 / 255.f, 20 / 255.f, 30 / 255.f};
    CHECK(img.width == 3 && img.height == 2 && pixels_are(&img, want_p2, 6), "P2 3x2");
    dn_image_free(&img);
    CHECK(img.pixels == NULL && img.width == 0, "dn_image_free zeroes");
    dn_image_free(&img);

    static const char p5[] = "P5\n2 2\n255\n\x00\x40\x80\xff";
    CHECK_OK(parse_str(&img, p5, sizeof p5 - 1));
    float want_p5[] = {0, 64 / 255.f, 128 / 255.f, 1};
    CHECK(img.width == 2 && img.height == 2 && pixels_are(&img, want_p5, 4), "P5 8-bit");
    dn_image_free(&img);

    static const char p5_16[] = "P5 3 1 65535\n\x00\x00\x12\x34\xff\xff";
    CHECK_OK(parse_str(&img, p5_16, sizeof p5_16 - 1));
    float want_16[] = {0, 0x1234 / 65535.f, 1};
    CHECK(pixels_are(&img, want_16, 3), "P5 16-bit big-endian");
    dn_image_free(&img);

    static const char p5_1000[] = "P5 2 1 1000\n\x01\xf4\x03\xe8";
    CHECK_OK(parse_str(&img, p5_1000, sizeof p5_1000 - 1));
    float want_1000[] = {0.5f, 1};
    CHECK(pixels_are(&img, want_1000, 2), "P5 maxval 1000 (two bytes)");
    dn_image_free(&img);

    static const char p2_16[] = "P2 2 1 65535 65535 1";
    CHECK_OK(parse_str(&img, p2_16, sizeof p2_16 - 1));
    float want_p2_16[] = {1, 1 / 65535.f};
    CHECK(pixels_are(&img, want_p2_16, 2), "P2 16-bit, no final newline");
    dn_image_free(&img);

    static const char comments[] = "P5#right after the magic\n# a line\n2#after width\n 1 # between\n#\n255#after maxval\n\x07\x09";
    CHECK_OK(parse_str(&img, comments, sizeof comments - 1));
    float want_c[] = {7 / 255.f, 9 / 255.f};
    CHECK(img.width == 2 && img.height == 1 && pixels_are(&img, want_c, 2), "comments in odd places");
    dn_image_free(&img);

    static const char p2_comments[] = "P2 # c\r\n2 2 # c\r1\n1 # c\n0\n# c\n1\n\t0 # trailing\n";
    CHECK_OK(parse_str(&img, p2_comments, sizeof p2_comments - 1));
    float want_bits[] = {1, 0, 1, 0};
    CHECK(pixels_are(&img, want_bits, 4), "P2 maxval 1, CR line ends, comments in the raster");
    dn_image_free(&img);

    static const char maxval1[] = "P5 4 1 1\n\x01\x00\x00\x01";
    CHECK_OK(parse_str(&img, maxval1, sizeof maxval1 - 1));
    float want_m1[] = {1, 0, 0, 1};
    CHECK(pixels_are(&img, want_m1, 4), "P5 maxval 1");
    dn_image_free(&img);

    /* Exactly one whitespace after maxval: with CRLF the LF is the first sample. */
    static const char crlf[] = "P5 2 1 255\r\n\x05";
    CHECK_OK(parse_str(&img, crlf, sizeof crlf - 1));
    float want_crlf[] = {10 / 255.f, 5 / 255.f};
    CHECK(pixels_are(&img, want_crlf, 2), "P5: one whitespace after maxval, then the raster");
    dn_image_free(&img);

    static const char trailing[] = "P5 1 1 255\n\x2aP5 1 1 255\n\x00 and more";
    CHECK_OK(parse_str(&img, trailing, sizeof trailing - 1));
    float want_t[] = {42 / 255.f};
    CHECK(pixels_are(&img, want_t, 1), "trailing bytes (a second image) are ignored");
    dn_image_free(&img);

    static const char p2_trailing[] = "P2 1 1 9 9 junk";
    CHECK_OK(parse_str(&img, p2_trailing, sizeof p2_trailing - 1));
    dn_image_free(&img);
}

typedef struct bad_case {
    const char *bytes;
    size_t len; /* 0: strlen */
    dn_status status;
    const char *why;
} bad_case;

static void test_pgm_malformed(void)
{
    static const bad_case cases[] = {
        {"", 0, DN_ERR_FORMAT, "empty"},
        {"P", 0, DN_ERR_FORMAT, "one byte"},
        {"X5 1 1 255\n\x01", 0, DN_ERR_FORMAT, "bad magic letter"},
        {"P8 1 1 255\n\x01", 0, DN_ERR_FORMAT, "bad magic digit"},
        {"p5 1 1 255\n\x01", 0, DN_ERR_FORMAT, "lower-case magic"},
        {"P55 1 1 255\n\x01", 0, DN_ERR_FORMAT, "magic not followed by whitespace"},
        {"P5", 0, DN_ERR_FORMAT, "magic only"},
        {"P5\n", 0, DN_ERR_FORMAT, "no width"},
        {"P5 1", 0, DN_ERR_FORMAT, "no height"},
        {"P5 1 1", 0, DN_ERR_FORMAT, "no maxval"},
        {"P5 1 1 # comment only\n", 0, DN_ERR_FORMAT, "comment instead of maxval"},
        {"P5 1 1 255", 0, DN_ERR_FORMAT, "no whitespace after maxval"},
        {"P5 1 1 255#comment", 0, DN_ERR_FORMAT, "comment after maxval never ends"},
        {"P5 1 1 255\n", 0, DN_ERR_FORMAT, "no raster"},
        {"P5 0 1 255\n", 0, DN_ERR_FORMAT, "zero width"},
        {"P5 1 0 255\n", 0, DN_ERR_FORMAT, "zero height"},
        {"P5 -1 1 255\n\x01", 0, DN_ERR_FORMAT, "negative width"},
        {"P5 +1 1 255\n\x01", 0, DN_ERR_FORMAT, "plus sign"},
        {"P5 1x 1 255\n\x01", 0, DN_ERR_FORMAT, "letter after width"},
        {"P5 1.5 1 255\n\x01", 0, DN_ERR_FORMAT, "fractional width"},
        {"P5 0x10 1 255\n\x01", 0, DN_ERR_FORMAT, "hex width"},
        {"P5 1 1 0\n\x00", 0, DN_ERR_FORMAT, "maxval 0"},
        {"P5 1 1 65536\n\x00\x00", 0, DN_ERR_FORMAT, "maxval 65536"},
        {"P5 1 1 99999999999999999999999\n\x00\x00", 0, DN_ERR_FORMAT, "maxval overflowing"},
        {"P5 99999999999999999999 1 255\n\x01", 0, DN_ERR_FORMAT, "width overflowing 64 bits"},
        {"P5 4294967296 1 255\n\x01", 0, DN_ERR_FORMAT, "width overflowing 32 bits"},
        {"P5 3000000000 1 255\n\x01", 0, DN_ERR_FORMAT, "width overflowing int"},
        {"P5 1 1 100\n\xff", 0, DN_ERR_FORMAT, "8-bit sample above maxval"},
        {"P5 1 1 1000\n\x03\xe9", 0, DN_ERR_FORMAT, "16-bit sample above maxval"},
        {"P5 2 1 1000\n\x03\xe8\x01", 0, DN_ERR_FORMAT, "16-bit raster one byte short"},
        {"P5 2 2 255\n\x01\x02\x03", 0, DN_ERR_FORMAT, "8-bit raster one byte short"},
        {"P2 2 1 255\n1", 0, DN_ERR_FORMAT, "P2 one sample short"},
        {"P2 2 1 255\n1 2x", 0, DN_ERR_FORMAT, "P2 letter in a sample"},
        {"P2 2 1 255\n1 -2", 0, DN_ERR_FORMAT, "P2 negative sample"},
        {"P2 1 1 255\n256", 0, DN_ERR_FORMAT, "P2 sample above maxval"},
        {"P2 1 1 65535\n99999999999999999999", 0, DN_ERR_FORMAT, "P2 sample overflowing"},
        {"P2 1 1 255\n# only a comment", 0, DN_ERR_FORMAT, "P2 comment instead of the raster"},
        {"P2 1 1 255 \x00", 5 + 9 + 1, DN_ERR_FORMAT, "P2 NUL byte as the sample"},
        {"P6 1 1 255\n\x01\x02\x03", 0, DN_ERR_UNSUPPORTED, "PPM colour"},
        {"P3 1 1 255\n1 2 3", 0, DN_ERR_UNSUPPORTED, "plain PPM"},
        {"P4 8 1\n\x01", 0, DN_ERR_UNSUPPORTED, "PBM"},
        {"P1 1 1\n1", 0, DN_ERR_UNSUPPORTED, "plain PBM"},
        {"P7\nWIDTH 1\n", 0, DN_ERR_UNSUPPORTED, "PAM"},
        {"P5 16385 1 255\n\x01", 0, DN_ERR_UNSUPPORTED, "width above the side limit"},
        {"P5 1 20000 255\n\x01", 0, DN_ERR_UNSUPPORTED, "height above the side limit"},
        {"P5 16384 16384 255\n\x01", 0, DN_ERR_UNSUPPORTED, "256 megapixels"},
        {"P2 10000 10000 255\n1", 0, DN_ERR_UNSUPPORTED, "100 megapixels, P2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->bytes);
        dn_image img = {.width = 7};
        dn_clear_error();
        dn_status status = parse_str(&img, c->bytes, len);
        CHECK(status == c->status, "%s: got %s (%s), want %s", c->why, dn_status_name(status), dn_last_error(),
              dn_status_name(c->status));
        CHECK(strncmp(dn_last_error(), "test.pgm: ", 10) == 0, "%s: message names the file: \"%s\"", c->why,
              dn_last_error());
        CHECK(img.pixels == NULL && img.width == 0 && img.height == 0, "%s: image zeroed on failure", c->why);
        dn_image_free(&img);
    }
}

/* Every proper prefix of a valid P5 file is an error, never a crash. */
static void check_prefixes(const uint8_t *file, size_t len, const char *what)
{
    int wrong = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees overreads */
        memcpy(copy, file, cut);
        dn_image img;
        dn_status status = dn_pgm_parse(&img, copy, cut, "cut.pgm");
        if (status != DN_ERR_FORMAT || strncmp(dn_last_error(), "cut.pgm: ", 9) != 0) {
            if (wrong++ == 0)
                CHECK(false, "%s cut at %zu of %zu bytes: %s (%s)", what, cut, len, dn_status_name(status),
                      dn_last_error());
        }
        dn_image_free(&img);
        free(copy);
    }
    CHECK(wrong == 0, "%s: %d truncations not rejected", what, wrong);
}

static void test_pgm_truncated(void)
{
    uint8_t file[64];
    int header = snprintf((char *)file, sizeof file, "P5 # c\n5 4\n255\n");
    for (int i = 0; i < 20; i++)
        file[header + i] = (uint8_t)(i * 13);
    check_prefixes(file, (size_t)header + 20, "P5 8-bit");

    header = snprintf((char *)file, sizeof file, "P5 3 2 4095\n");
    for (int i = 0; i < 6; i++) {
        file[header + 2 * i] = (uint8_t)(i & 15);
        file[header + 2 * i + 1] = (uint8_t)(i * 40);
    }
    check_prefixes(file, (size_t)header + 12, "P5 16-bit");

    /* P2: cutting inside the last number leaves a valid shorter number, so
     * only cuts before it must fail. */
    static const char p2[] = "P2 3 2 255 1 22 133 4 55 166";
    int wrong = 0;
    for (size_t cut = 0; cut + 3 <= sizeof p2 - 1 - 1; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, p2, cut);
        dn_image img;
        if (parse_str(&img, copy, cut) != DN_ERR_FORMAT)
            wrong++;
        dn_image_free(&img);
        free(copy);
    }
    CHECK(wrong == 0, "P2: %d truncations not rejected", wrong);
}

/* Random corruptions of valid files: any status, but never a crash, and a
 * consistent image on success. */
static void test_pgm_fuzz(void)
{
    dn_rng rng;
    dn_rng_seed(&rng, 7);
    static const char *const seeds[] = {"P5 # c\n4 3\n255\n0123456789ab", "P5 2 2 65535\n\x01\x02\x03\x04\x05\x06\x07\x08",
                                        "P2\n3 2\n# c\n255\n1 2 3\n4 5 6\n"};
    int bad = 0;
    for (int round = 0; round < 3000; round++) {
        const char *seed = seeds[round % 3];
        size_t len = strlen(seed);
        uint8_t *copy = malloc(len);
        memcpy(copy, seed, len);
        int edits = 1 + (int)dn_rng_below(&rng, 3);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)dn_rng_below(&rng, len);
            static const uint8_t interesting[] = {'0', '9', ' ', '\n', '#', 'P', 0, 0xff, '-', '5', '2'};
            copy[at] = dn_rng_below(&rng, 2) ? interesting[dn_rng_below(&rng, sizeof interesting)]
                                            : (uint8_t)dn_rng_below(&rng, 256);
        }
        size_t use = dn_rng_below(&rng, 4) ? len : (size_t)dn_rng_below(&rng, len + 1);
        dn_image img;
        dn_status status = dn_pgm_parse(&img, copy, use, "fuzz.pgm");
        if (status == DN_OK) {
            size_t n = (size_t)img.width * (size_t)img.height;
            for (size_t i = 0; i < n; i++)
                if (!(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f))
                    bad++;
        } else if ((status != DN_ERR_FORMAT && status != DN_ERR_UNSUPPORTED) ||
                   strncmp(dn_last_error(), "fuzz.pgm: ", 10) != 0) {
            bad++;
        }
        dn_image_free(&img);
        free(copy);
    }
    CHECK(bad == 0, "fuzzing: %d bad outcomes", bad);
}

static bool dir_is_empty_but(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, name))
            ok = false;
    closedir(d);
    return ok;
}

static void test_pgm_files(void)
{
    char dir[] = "/tmp/dn_test_image.XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(false, "mkdtemp failed");
        return;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/out.pgm", dir);

    dn_image img, back;
    CHECK_OK(dn_image_new(&img, 37, 11));
    for (int i = 0; i < 37 * 11; i++)
        img.pixels[i] = (float)((i * 7) % 256) / 255.0f;
    img.pixels[0] = -3.0f;
    img.pixels[1] = 7.0f;
    img.pixels[2] = NAN;
    CHECK_OK(dn_pgm_write(&img, path));
    CHECK_OK(dn_pgm_read(&back, path));
    img.pixels[0] = 0.0f;
    img.pixels[1] = 1.0f;
    img.pixels[2] = 0.0f;
    CHECK(back.width == 37 && back.height == 11 && pixels_are(&back, img.pixels, 37 * 11),
          "write/read round trip (clamped, NaN as 0)");
    dn_image_free(&back);

    size_t len;
    char *raw = dn_test_read_file(path, &len);
    CHECK(raw && len == 13 + 37 * 11 && memcmp(raw, "P5\n37 11\n255\n", 13) == 0, "P5 8-bit header on disk");
    free(raw);

    dn_image small;
    static const uint8_t gray[] = {0, 255, 51, 102};
    CHECK_OK(dn_image_from_gray8(&small, gray, 2, 2));
    float want[] = {0, 1, 0.2f, 0.4f};
    CHECK(pixels_are(&small, want, 4), "dn_image_from_gray8");
    CHECK_OK(dn_pgm_write(&small, path));
    CHECK_OK(dn_pgm_read(&back, path));
    CHECK(back.width == 2 && pixels_are(&back, want, 4), "overwriting an existing file");
    dn_image_free(&back);
    CHECK(dir_is_empty_but(dir, "out.pgm"), "no temporary file left behind");

    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.pgm", dir);
    CHECK(dn_pgm_write(&small, missing) == DN_ERR_IO, "write into a missing directory is DN_ERR_IO");
    CHECK(dn_pgm_read(&back, missing) == DN_ERR_IO && strstr(dn_last_error(), missing), "missing file: %s",
          dn_last_error());
    CHECK(dn_pgm_read(&back, dir) == DN_ERR_IO, "a directory is not a PGM file");

    FILE *f = fopen(path, "wb");
    if (f) {
        fputs("P5 3 3 255\n\x01\x02", f);
        fclose(f);
    }
    CHECK(dn_pgm_read(&back, path) == DN_ERR_FORMAT && strstr(dn_last_error(), path), "truncated file: %s",
          dn_last_error());

    CHECK(dn_image_from_gray8(&back, gray, 0, 2) == DN_ERR_ARG, "zero width");
    CHECK(dn_image_from_gray8(&back, NULL, 2, 2) == DN_ERR_ARG, "NULL pixels");
    CHECK(dn_image_new(&back, 20000, 1) == DN_ERR_UNSUPPORTED && back.pixels == NULL, "too wide");
    CHECK(dn_pgm_parse(NULL, gray, 4, "x") == DN_ERR_ARG, "NULL image");
    CHECK(dn_pgm_write(NULL, path) == DN_ERR_ARG, "write NULL image");

    unlink(path);
    rmdir(dir);
    dn_image_free(&small);
    dn_image_free(&img);
}

/* ---- drawing ---- */

typedef struct pt {
    float x, y;
} pt;

/* A "2": a polyline in a unit box (x right, y down). */
static const pt TWO[] = {{0.10f, 0.22f}, {0.30f, 0.03f}, {0.68f, 0.02f}, {0.88f, 0.20f}, {0.82f, 0.45f},
                         {0.45f, 0.75f}, {0.08f, 0.97f}, {0.92f, 0.97f}};
/* A "4", in two strokes. */
static const pt FOUR_A[] = {{0.62f, 0.0f}, {0.05f, 0.65f}, {0.95f, 0.65f}};
static const pt FOUR_B[] = {{0.68f, 0.30f}, {0.68f, 1.0f}};

/* Coverage of a round pen of the given radius moved along the polyline,
 * max-combined into cov (w x h), anti-aliased over one pixel. */
static void stroke(float *cov, int w, int h, const pt *pts, int n, float ox, float oy, float sx, float sy, float radius)
{
    for (int s = 0; s + 1 < n; s++) {
        float ax = ox + pts[s].x * sx, ay = oy + pts[s].y * sy;
        float bx = ox + pts[s + 1].x * sx, by = oy + pts[s + 1].y * sy;
        int x0 = (int)floorf(fminf(ax, bx) - radius - 2), x1 = (int)ceilf(fmaxf(ax, bx) + radius + 2);
        int y0 = (int)floorf(fminf(ay, by) - radius - 2), y1 = (int)ceilf(fmaxf(ay, by) + radius + 2);
        float dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
        for (int y = y0 < 0 ? 0 : y0; y < h && y <= y1; y++) {
            for (int x = x0 < 0 ? 0 : x0; x < w && x <= x1; x++) {
                float px = x + 0.5f - ax, py = y + 0.5f - ay;
                float t = len2 > 0 ? fmaxf(0, fminf(1, (px * dx + py * dy) / len2)) : 0;
                float ex = px - t * dx, ey = py - t * dy;
                float c = fmaxf(0, fminf(1, radius + 0.5f - sqrtf(ex * ex + ey * ey)));
                cov[y * w + x] = fmaxf(cov[y * w + x], c);
            }
        }
    }
}

typedef struct drawing {
    float ox, oy, size, radius; /* the glyph's box origin, height and pen radius */
    int glyph;                  /* 0: "2", 1: "4" */
} drawing;

/* A w x h picture: background bg, the drawing in colour ink. */
static dn_image paint(int w, int h, const drawing *d, float bg, float ink)
{
    dn_image img;
    float *cov = calloc((size_t)w * (size_t)h, sizeof *cov);
    if (dn_image_new(&img, w, h) != DN_OK || !cov) {
        free(cov);
        return img;
    }
    float sx = d->size * 0.75f, sy = d->size;
    if (d->glyph == 0) {
        stroke(cov, w, h, TWO, sizeof TWO / sizeof TWO[0], d->ox, d->oy, sx, sy, d->radius);
    } else {
        stroke(cov, w, h, FOUR_A, 3, d->ox, d->oy, sx, sy, d->radius);
        stroke(cov, w, h, FOUR_B, 2, d->ox, d->oy, sx, sy, d->radius);
    }
    for (int i = 0; i < w * h; i++)
        img.pixels[i] = bg + (ink - bg) * cov[i];
    free(cov);
    return img;
}

/* ---- measuring a 28x28 result ---- */

typedef struct shape {
    double cx, cy, mass;
    int w, h;      /* extent of pixels above 0.05 */
    double stroke; /* 2 * mass / perimeter at 0.5, as preprocess.c estimates it */
} shape;

static shape measure(const float *x)
{
    shape s = {0};
    int x0 = SIDE, x1 = -1, y0 = SIDE, y1 = -1, perimeter = 0;
    for (int y = 0; y < SIDE; y++) {
        for (int i = 0; i < SIDE; i++) {
            float v = x[y * SIDE + i];
            s.mass += v;
            s.cx += i * v;
            s.cy += y * v;
            if (v > 0.05f) {
                x0 = i < x0 ? i : x0;
                x1 = i > x1 ? i : x1;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
            if (v >= 0.5f) {
                perimeter += (i == 0 || x[y * SIDE + i - 1] < 0.5f) + (i == SIDE - 1 || x[y * SIDE + i + 1] < 0.5f) +
                             (y == 0 || x[(y - 1) * SIDE + i] < 0.5f) + (y == SIDE - 1 || x[(y + 1) * SIDE + i] < 0.5f);
            }
        }
    }
    if (s.mass > 0) {
        s.cx /= s.mass;
        s.cy /= s.mass;
    }
    s.w = x1 - x0 + 1;
    s.h = y1 - y0 + 1;
    s.stroke = perimeter ? 2.0 * s.mass / perimeter : 0;
    return s;
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

static bool all_zero(const float *x)
{
    for (int i = 0; i < PIXELS; i++)
        if (x[i] != 0.0f)
            return false;
    return true;
}

/* Preprocesses a picture that must hold a digit; checks the MNIST framing:
 * the box (pixels above 0.05) at most 20 + slack on each side, the longer
 * side at least 19. */
static void framed(const dn_image *img, float *out, dn_preprocess_info *info, const char *what, int slack)
{
    dn_status status = dn_preprocess_mnist(img, out, info);
    CHECK(status == DN_OK && info->has_ink, "%s: %s %s", what, dn_status_name(status), dn_last_error());
    shape s = measure(out);
    int longer = s.w > s.h ? s.w : s.h;
    CHECK(fabs(s.cx - 14.0) < 0.5 && fabs(s.cy - 14.0) < 0.5, "%s: centre of mass (%.2f, %.2f)", what, s.cx, s.cy);
    CHECK(s.w <= 20 + slack && s.h <= 20 + slack && longer >= 19, "%s: box %d x %d", what, s.w, s.h);
    float top = 0;
    for (int i = 0; i < PIXELS; i++)
        top = fmaxf(top, out[i]);
    CHECK(top == 1.0f, "%s: strongest ink %g", what, top);
}

/* ---- preprocessing ---- */

static void test_centring_and_polarity(void)
{
    drawing d = {.ox = 40, .oy = 180, .size = 80, .radius = 5, .glyph = 0};
    dn_image light_on_dark = paint(400, 300, &d, 0.0f, 1.0f);
    dn_image dark_on_light = paint(400, 300, &d, 1.0f, 0.0f);
    dn_image grey = paint(400, 300, &d, 0.8f, 0.25f);
    float a[PIXELS], b[PIXELS], c[PIXELS];
    dn_preprocess_info ia, ib, ic;
    framed(&light_on_dark, a, &ia, "light on dark", 1);
    framed(&dark_on_light, b, &ib, "dark on light", 1);
    framed(&grey, c, &ic, "grey on grey", 1);
    CHECK(!ia.inverted && ib.inverted && ic.inverted, "polarity: %d %d %d", ia.inverted, ib.inverted, ic.inverted);
    CHECK(dn_test_max_abs_diff(a, b, PIXELS) < 1e-4, "inverted drawing: max diff %g",
          dn_test_max_abs_diff(a, b, PIXELS));
    CHECK(dn_test_max_abs_diff(a, c, PIXELS) < 0.02, "low-contrast drawing: max diff %g",
          dn_test_max_abs_diff(a, c, PIXELS));
    /* The drawn box: x from 40 - 5 to 40 + 60 + 5, y from 180 - 5 to 260 + 5. */
    CHECK(abs(ia.box_x - 40) <= 6 && abs(ia.box_y - 176) <= 3 && abs(ia.box_w - 67) <= 6 && abs(ia.box_h - 90) <= 3,
          "box %d %d %d %d", ia.box_x, ia.box_y, ia.box_w, ia.box_h);
    CHECK(ia.ink_fraction > 0.005f && ia.ink_fraction < 0.05f, "ink fraction %g", ia.ink_fraction);
    CHECK(ia.box_x == ib.box_x && ia.box_w == ib.box_w && ia.box_h == ib.box_h, "same box either polarity");
    dn_image_free(&light_on_dark);
    dn_image_free(&dark_on_light);
    dn_image_free(&grey);
}

static void test_no_ink(void)
{
    dn_rng rng;
    dn_rng_seed(&rng, 3);
    dn_image img;
    float out[PIXELS];
    dn_preprocess_info info;
    static const float levels[] = {0.0f, 1.0f, 0.5f, 0.93f};
    for (int k = 0; k < 4; k++) {
        CHECK_OK(dn_image_new(&img, 200, 150));
        for (int i = 0; i < 200 * 150; i++)
            img.pixels[i] = levels[k];
        out[5] = 0.7f;
        CHECK_OK(dn_preprocess_mnist(&img, out, &info));
        CHECK(!info.has_ink && all_zero(out) && info.box_w == 0, "uniform %g: no ink", levels[k]);
        dn_image_free(&img);
    }
    /* Faint noise around a light and a dark level, uniform and Gaussian. */
    for (int k = 0; k < 4; k++) {
        CHECK_OK(dn_image_new(&img, 280, 280));
        for (int i = 0; i < 280 * 280; i++) {
            float base = k % 2 ? 0.9f : 0.08f;
            float noise = k < 2 ? dn_rng_range(&rng, -0.06f, 0.06f) : 0.03f * dn_rng_normal(&rng);
            img.pixels[i] = base + noise;
        }
        CHECK_OK(dn_preprocess_mnist(&img, out, &info));
        CHECK(!info.has_ink && all_zero(out), "faint noise %d: no ink", k);
        dn_image_free(&img);
    }
    /* Strong Gaussian noise (sigma 0.1): its extremes pass the contrast
     * threshold, but not six noise deviations. */
    CHECK_OK(dn_image_new(&img, 300, 300));
    for (int i = 0; i < 300 * 300; i++)
        img.pixels[i] = 0.5f + 0.1f * dn_rng_normal(&rng);
    CHECK_OK(dn_preprocess_mnist(&img, out, &info));
    CHECK(!info.has_ink && all_zero(out), "strong noise: no ink");
    dn_image_free(&img);
    /* A few stray dots are not a digit. */
    CHECK_OK(dn_image_new(&img, 400, 400));
    for (int i = 0; i < 400 * 400; i++)
        img.pixels[i] = 1.0f;
    for (int k = 0; k < 5; k++)
        img.pixels[(37 + 71 * k) * 400 + 13 + 53 * k] = 0.0f;
    CHECK_OK(dn_preprocess_mnist(&img, out, &info));
    CHECK(!info.has_ink, "five stray dots: no ink");
    /* A faint smudge: 0.1 of contrast is not ink. */
    for (int y = 100; y < 200; y++)
        for (int x = 150; x < 170; x++)
            img.pixels[y * 400 + x] = 0.9f;
    CHECK_OK(dn_preprocess_mnist(&img, out, NULL));
    CHECK(all_zero(out), "faint smudge: no ink");
    dn_image_free(&img);
}

static void test_thin_one(void)
{
    /* A "1": a 3-pixel pen, 250 pixels tall, slightly slanted, on 400x400. */
    dn_image img;
    float out[PIXELS];
    dn_preprocess_info info;
    static const pt ONE[] = {{0.55f, 0.0f}, {0.45f, 1.0f}};
    CHECK_OK(dn_image_new(&img, 400, 400));
    float *cov = calloc(400 * 400, sizeof *cov);
    stroke(cov, 400, 400, ONE, 2, 250, 60, 40, 250, 1.5f);
    for (int i = 0; i < 400 * 400; i++)
        img.pixels[i] = 1.0f - cov[i];
    framed(&img, out, &info, "thin 1", 1);
    shape s = measure(out);
    CHECK(s.h >= 19 && s.w <= 7, "thin 1 stays thin: %d x %d", s.w, s.h);
    CHECK(s.stroke > 1.6 && s.stroke < 2.6, "thin 1 stroke width %.2f (MNIST: median 2.0)", s.stroke);
    CHECK(info.box_h >= 250 && info.box_h <= 256 && info.box_w < 60, "thin 1 box %d x %d", info.box_w, info.box_h);
    free(cov);
    dn_image_free(&img);
}

static void test_thin_pen_and_scale(void)
{
    drawing thick = {.ox = 30, .oy = 20, .size = 60, .radius = 4.5f, .glyph = 1};
    drawing big = {.ox = 100, .oy = 50, .size = 240, .radius = 18, .glyph = 1};
    drawing thin = {.ox = 60, .oy = 40, .size = 300, .radius = 1.5f, .glyph = 1};
    dn_image a = paint(120, 100, &thick, 1, 0), b = paint(480, 360, &big, 1, 0), c = paint(400, 400, &thin, 1, 0);
    float xa[PIXELS], xb[PIXELS], xc[PIXELS];
    dn_preprocess_info info;
    framed(&a, xa, &info, "4 at 60 px", 1);
    framed(&b, xb, &info, "4 at 240 px", 1);
    framed(&c, xc, &info, "4 with a thin pen", 1);
    double r = correlation(xa, xb, PIXELS), diff = dn_test_max_abs_diff(xa, xb, PIXELS);
    CHECK(r > 0.97 && diff < 0.25, "two sizes: correlation %.3f, max diff %.3f", r, diff);
    shape sa = measure(xa), sc = measure(xc);
    CHECK(sc.stroke > 1.6 && sc.stroke < 2.6, "thin pen: stroke width %.2f (MNIST: median 2.0)", sc.stroke);
    r = correlation(xa, xc, PIXELS);
    CHECK(r > 0.8, "thin pen vs thick pen: correlation %.3f (widths %.2f, %.2f)", r, sc.stroke, sa.stroke);
    dn_image_free(&a);
    dn_image_free(&b);
    dn_image_free(&c);
}

static void test_specks_light_and_size(void)
{
    drawing d = {.ox = 150, .oy = 60, .size = 120, .radius = 6, .glyph = 0};
    dn_image clean = paint(360, 240, &d, 1, 0), dirty = paint(360, 240, &d, 1, 0);
    for (int k = 0; k < 6; k++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++)
                dirty.pixels[(20 + 35 * k + y) * 360 + 10 + 23 * k + x] = 0.0f;
    float a[PIXELS], b[PIXELS];
    dn_preprocess_info ia, ib;
    framed(&clean, a, &ia, "clean", 1);
    framed(&dirty, b, &ib, "with specks", 1);
    CHECK(ia.box_x == ib.box_x && ia.box_y == ib.box_y && ia.box_w == ib.box_w && ia.box_h == ib.box_h,
          "specks ignored: box %d %d %d %d vs %d %d %d %d", ia.box_x, ia.box_y, ia.box_w, ia.box_h, ib.box_x, ib.box_y,
          ib.box_w, ib.box_h);
    CHECK(dn_test_max_abs_diff(a, b, PIXELS) < 1e-5, "specks do not change the result");

    /* Uneven light: paper from 0.55 to 0.95 across the picture, grey ink, noise. */
    dn_rng rng;
    dn_rng_seed(&rng, 11);
    dn_image lit = paint(360, 240, &d, 1, 0);
    for (int y = 0; y < 240; y++) {
        for (int x = 0; x < 360; x++) {
            float paper = 0.55f + 0.4f * (x + 0.5f * y) / 480.0f, *v = &lit.pixels[y * 360 + x];
            *v = paper + (0.12f - paper) * (1.0f - *v) + 0.01f * dn_rng_normal(&rng);
        }
    }
    framed(&lit, b, &ib, "uneven light", 1);
    double r = correlation(a, b, PIXELS);
    CHECK(ib.inverted && r > 0.95, "uneven light: correlation %.3f", r);

    /* The same on a noisy background (sigma 0.05, about a tenth of the contrast). */
    dn_image noisy = paint(360, 240, &d, 0, 1);
    for (int i = 0; i < 360 * 240; i++)
        noisy.pixels[i] = 0.85f - 0.6f * noisy.pixels[i] + 0.05f * dn_rng_normal(&rng);
    framed(&noisy, b, &ib, "noisy background", 1);
    r = correlation(a, b, PIXELS);
    CHECK(ib.inverted && r > 0.95, "noisy background: correlation %.3f", r);
    dn_image_free(&noisy);

    /* A tiny drawing, enlarged; and a picture larger than the working size. */
    drawing tiny_d = {.ox = 9, .oy = 6, .size = 12, .radius = 0.75f, .glyph = 0};
    dn_image tiny = paint(32, 24, &tiny_d, 0, 1);
    framed(&tiny, b, &ib, "12-pixel drawing", 3); /* enlarged bilinearly: softer edges */
    r = correlation(a, b, PIXELS);
    CHECK(r > 0.8, "12-pixel drawing vs large: correlation %.3f (it holds less detail)", r);
    drawing huge_d = {.ox = 900, .oy = 300, .size = 900, .radius = 30, .glyph = 0};
    dn_image huge = paint(2400, 1300, &huge_d, 0.9f, 0.1f);
    framed(&huge, b, &ib, "2400x1300 photo", 1);
    r = correlation(a, b, PIXELS);
    CHECK(r > 0.95, "2400x1300 vs small: correlation %.3f", r);
    /* The "2" spans x 0.08..0.92 of 675 and y 0.02..0.97 of 900, plus the pen. */
    CHECK(abs(ib.box_x - 924) <= 4 && abs(ib.box_y - 288) <= 4 && abs(ib.box_w - 627) <= 4 && abs(ib.box_h - 915) <= 4,
          "box in input pixels: %d %d %d %d", ib.box_x, ib.box_y, ib.box_w, ib.box_h);
    dn_image_free(&clean);
    dn_image_free(&dirty);
    dn_image_free(&lit);
    dn_image_free(&tiny);
    dn_image_free(&huge);
}

/* Digits that fill the canvas or run off its edges: the background must
 * still be found from the border. */
static void test_edges(void)
{
    drawing d = {.ox = 40, .oy = 30, .size = 120, .radius = 6, .glyph = 0};
    dn_image ref = paint(200, 200, &d, 1, 0);
    float a[PIXELS], b[PIXELS];
    dn_preprocess_info ia, ib;
    framed(&ref, a, &ia, "reference", 1);

    drawing fill = {.ox = -2, .oy = 3, .size = 194, .radius = 10, .glyph = 0};
    dn_image full = paint(140, 200, &fill, 0.95f, 0.05f);
    framed(&full, b, &ib, "digit touching all edges", 1);
    double r = correlation(a, b, PIXELS);
    CHECK(ib.inverted && ib.box_x == 0 && ib.box_y == 0 && ib.box_w == 140 && ib.box_h == 200 && r > 0.9,
          "touching the edges: box %d %d %d %d, correlation %.3f", ib.box_x, ib.box_y, ib.box_w, ib.box_h, r);

    drawing bold = {.ox = 30, .oy = 20, .size = 150, .radius = 22, .glyph = 0};
    dn_image heavy = paint(180, 190, &bold, 0, 1);
    framed(&heavy, b, &ib, "very bold pen", 1);
    CHECK(!ib.inverted && ib.ink_fraction > 0.25f, "bold: ink fraction %.2f", ib.ink_fraction);
    dn_image_free(&ref);
    dn_image_free(&full);
    dn_image_free(&heavy);
}

static void test_preprocess_args(void)
{
    float out[PIXELS];
    dn_image img;
    CHECK(dn_preprocess_mnist(NULL, out, NULL) == DN_ERR_ARG, "NULL image");
    CHECK_OK(dn_image_new(&img, 3, 3));
    CHECK(dn_preprocess_mnist(&img, NULL, NULL) == DN_ERR_ARG, "NULL out");
    img.pixels[4] = NAN;
    CHECK(dn_preprocess_mnist(&img, out, NULL) == DN_ERR_ARG, "NaN pixel");
    img.pixels[4] = 1.0f;
    dn_preprocess_info info;
    CHECK_OK(dn_preprocess_mnist(&img, out, &info));
    dn_image_free(&img);
    dn_image one = {1, 1, (float[]){0.5f}};
    CHECK_OK(dn_preprocess_mnist(&one, out, &info));
    CHECK(!info.has_ink, "1x1 picture has no ink");

    float x[3] = {0.1307f, 1.0f, 0.0f};
    dn_normalize(x, 3, 0.1307f, 0.3081f);
    CHECK(fabsf(x[0]) < 1e-6f && fabsf(x[1] - 2.8214865f) < 1e-5f && fabsf(x[2] + 0.4242129f) < 1e-5f,
          "dn_normalize");
}

/* ---- real MNIST digits ---- */

/* The first count test images, raw or gzip, from DN_MNIST_DIR or the
 * source tree's datasets/mnist; NULL when absent. */
static uint8_t *load_mnist(int count)
{
    const char *dir = getenv("DN_MNIST_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir ? dir : DN_SOURCE_DIR "/datasets/mnist");
    size_t len;
    uint8_t *file = (uint8_t *)dn_test_read_file(path, &len);
    if (!file) {
        strcat(path, ".gz");
        uint8_t *packed = (uint8_t *)dn_test_read_file(path, &len);
        if (!packed)
            return NULL;
        uint8_t *raw;
        dn_status status = dn_gunzip(&raw, &len, packed, len, SIZE_MAX);
        free(packed);
        if (status != DN_OK) {
            CHECK(false, "%s: %s", path, dn_last_error());
            return NULL;
        }
        file = malloc(len);
        memcpy(file, raw, len);
        dn_free(raw);
    }
    static const uint8_t header[] = {0, 0, 8, 3, 0, 0, 0x27, 0x10, 0, 0, 0, 28, 0, 0, 0, 28};
    if (len != 16 + 10000 * 784 || memcmp(file, header, 16) != 0) {
        CHECK(false, "%s: not the MNIST test images", path);
        free(file);
        return NULL;
    }
    uint8_t *images = malloc((size_t)count * 784);
    memcpy(images, file + 16, (size_t)count * 784);
    free(file);
    return images;
}

/* Bilinear sample of a 28x28 byte image at continuous (x, y), 0 outside. */
static float sample28(const uint8_t *d, float x, float y)
{
    float u = x - 0.5f, v = y - 0.5f;
    int i = (int)floorf(u), j = (int)floorf(v);
    float fu = u - i, fv = v - j, sum = 0;
    for (int b = 0; b < 2; b++)
        for (int a = 0; a < 2; a++)
            if (i + a >= 0 && i + a < 28 && j + b >= 0 && j + b < 28)
                sum += (a ? fu : 1 - fu) * (b ? fv : 1 - fv) * d[(j + b) * 28 + i + a] / 255.0f;
    return sum;
}

/* Best correlation of out with the digit moved by up to one pixel in quarter
 * steps: MNIST centred its digits by whole-pixel shifts, so their centres of
 * mass sit up to half a pixel from (14,14), where ours are put exactly. */
static double shifted_correlation(const float *out, const uint8_t *d)
{
    double best = -1;
    for (int sy = -4; sy <= 4; sy++) {
        for (int sx = -4; sx <= 4; sx++) {
            float moved[PIXELS];
            for (int y = 0; y < SIDE; y++)
                for (int x = 0; x < SIDE; x++)
                    moved[y * SIDE + x] = sample28(d, x + 0.5f + 0.25f * sx, y + 0.5f + 0.25f * sy);
            best = fmax(best, correlation(out, moved, PIXELS));
        }
    }
    return best;
}

/* MNIST test digits enlarged zoom times (bilinear) at off-centre spots of a
 * w x h canvas, every other one inverted, must come back as themselves. At
 * 5x the thinnest MNIST digits (1-pixel strokes) come back thickened on
 * purpose, so the worst single correlation is lower than the mean. */
static void round_trip(const uint8_t *digits, int count, int zoom, int w, int h, double min_worst, double min_mean)
{
    dn_image img;
    CHECK_OK(dn_image_new(&img, w, h));
    double worst = 1, sum = 0, raw_sum = 0;
    int worst_index = -1;
    for (int k = 0; k < count && img.pixels; k++) {
        const uint8_t *d = digits + (size_t)k * 784;
        int ox = 3 + (k * 37) % (w - 28 * zoom - 6), oy = 3 + (k * 23) % (h - 28 * zoom - 6);
        bool invert = k % 2;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float v = sample28(d, (float)(x - ox + 0.5f) / zoom, (float)(y - oy + 0.5f) / zoom);
                img.pixels[y * w + x] = invert ? 1.0f - v : v;
            }
        }
        float out[PIXELS], orig[PIXELS];
        for (int i = 0; i < PIXELS; i++)
            orig[i] = d[i] / 255.0f;
        dn_preprocess_info info;
        CHECK_OK(dn_preprocess_mnist(&img, out, &info));
        CHECK(info.has_ink && info.inverted == invert, "MNIST %d at %dx: ink %d, inverted %d", k, zoom,
              info.has_ink, info.inverted);
        shape s = measure(out);
        CHECK(fabs(s.cx - 14.0) < 0.5 && fabs(s.cy - 14.0) < 0.5, "MNIST %d at %dx: centre of mass (%.2f, %.2f)", k,
              zoom, s.cx, s.cy);
        raw_sum += correlation(out, orig, PIXELS);
        double r = shifted_correlation(out, d);
        sum += r;
        if (r < worst) {
            worst = r;
            worst_index = k;
        }
    }
    printf("MNIST round trip of %d digits at %dx: mean correlation %.3f as they are, %.3f allowing a sub-pixel "
           "shift (worst %.3f, test image %d)\n", count, zoom, raw_sum / count, sum / count, worst, worst_index);
    CHECK(raw_sum / count > 0.9, "MNIST at %dx: mean correlation %.3f", zoom, raw_sum / count);
    CHECK(worst > min_worst && sum / count > min_mean,
          "MNIST at %dx allowing a shift: mean %.3f, worst %.3f (image %d)", zoom, sum / count, worst, worst_index);
    dn_image_free(&img);
}

static void test_mnist(void)
{
    enum { COUNT = 100 };
    uint8_t *digits = load_mnist(COUNT);
    if (!digits) {
        printf("MNIST t10k images not found in datasets/mnist: skipping the MNIST round trip\n");
        return;
    }
    round_trip(digits, COUNT, 5, 260, 210, 0.85, 0.95);
    round_trip(digits, COUNT, 1, 60, 45, 0.95, 0.98);
    free(digits);
}

int main(void)
{
    test_pgm_valid();
    test_pgm_malformed();
    test_pgm_truncated();
    test_pgm_fuzz();
    test_pgm_files();
    test_centring_and_polarity();
    test_no_ink();
    test_thin_one();
    test_thin_pen_and_scale();
    test_specks_light_and_size();
    test_edges();
    test_preprocess_args();
    test_mnist();
    return dn_test_finish();
}
