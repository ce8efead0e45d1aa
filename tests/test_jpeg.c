/* test_jpeg.c - the JPEG reader on JPEG files built byte by byte: known
 * pixel values, every kind of malformed or truncated input, sizes and
 * limits, EXIF orientation; and `test_jpeg --decode IN OUT` for
 * tests/jpeg/check_jpeg.py, which compares it with PIL on many real files. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digitnet/image.h"
#include "digitnet/status.h"
#include "internal.h"
#include "test_util.h"

/* ---- a JPEG writer for tests: flat images with chosen DC values ---- */

typedef struct jbuf {
    uint8_t b[1 << 16];
    size_t n;
} jbuf;

static void put(jbuf *j, const void *bytes, size_t n)
{
    if (j->n + n <= sizeof j->b) {
        memcpy(j->b + j->n, bytes, n);
        j->n += n;
    }
}

static void put8(jbuf *j, int v)
{
    uint8_t c = (uint8_t)v;
    put(j, &c, 1);
}

static void put16(jbuf *j, int v)
{
    put8(j, v >> 8);
    put8(j, v & 255);
}

/* What a test JPEG holds: no AC coefficients, and DC values chosen per
 * block of component 0 (block_dc, in the order of its scan, or else dc for
 * every block), 0 for the other components; quantisation table 0 is all q,
 * so a sample is 128 + DC * q / 8. */
typedef struct jspec {
    int width, height, ncomp;
    int h[4], v[4];
    int sof;              /* 0xC0, 0xC1 or 0xC2 */
    int dc;
    int q;                /* above 255: a 16-bit table */
    int restart;          /* DRI interval in MCUs, 0 for none */
    int orientation;      /* APP1 Exif orientation, 0 for none */
    bool exif_big_endian;
    bool dc_only;         /* progressive: only the DC scan (no AC scans) */
    const int *block_dc;
} jspec;

typedef struct bitw {
    jbuf *j;
    unsigned acc;
    int n;
} bitw;

static void bits_put(bitw *w, unsigned value, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        w->acc = w->acc << 1 | ((value >> i) & 1);
        if (++w->n == 8) {
            put8(w->j, (int)w->acc);
            if (w->acc == 0xFF)
                put8(w->j, 0);
            w->acc = 0;
            w->n = 0;
        }
    }
}

static void bits_flush(bitw *w)
{
    while (w->n != 0)
        bits_put(w, 1, 1);
}

/* A DC difference: its category as the 4-bit code of the DC table below,
 * then the category's bits. */
static void put_dc(bitw *w, int diff)
{
    int cat = 0;
    while ((diff < 0 ? -diff : diff) >> cat)
        cat++;
    bits_put(w, (unsigned)cat, 4);
    if (cat)
        bits_put(w, (unsigned)(diff > 0 ? diff : diff + (1 << cat) - 1), cat);
}

static void app1_exif(jbuf *j, int orientation, bool big)
{
    uint8_t e[64] = "Exif\0\0";
    uint8_t *t = e + 6;
    memcpy(t, big ? "MM\0*" : "II*\0", 4);
    /* IFD0 at 8: one entry, orientation SHORT 1 */
    uint8_t le[] = {8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t)orientation, 0, 0, 0, 0, 0, 0, 0};
    uint8_t be[] = {0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (uint8_t)orientation, 0, 0, 0, 0, 0, 0};
    memcpy(t + 4, big ? be : le, sizeof le);
    size_t n = 6 + 4 + sizeof le;
    put16(j, 0xFFE1);
    put16(j, (int)n + 2);
    put(j, e, n);
}

enum scan_kind { SEQUENTIAL, DC_FIRST, AC_FIRST };

/* One scan's entropy data for the components comps[0..ncomp_scan). */
static void scan_data(jbuf *j, const jspec *s, int ncomp_scan, const int *comps, enum scan_kind kind)
{
    int hmax = 1, vmax = 1;
    for (int c = 0; c < s->ncomp; c++) {
        hmax = s->h[c] > hmax ? s->h[c] : hmax;
        vmax = s->v[c] > vmax ? s->v[c] : vmax;
    }
    int mx, my;
    if (ncomp_scan == 1) {
        int c = comps[0];
        int cw = (s->width * s->h[c] + hmax - 1) / hmax, ch = (s->height * s->v[c] + vmax - 1) / vmax;
        mx = (cw + 7) / 8;
        my = (ch + 7) / 8;
    } else {
        mx = (s->width + 8 * hmax - 1) / (8 * hmax);
        my = (s->height + 8 * vmax - 1) / (8 * vmax);
    }
    bitw w = {j, 0, 0};
    int rst = 0, block0 = 0, pred[4] = {0};
    for (int m = 0; m < mx * my; m++) {
        if (s->restart && m > 0 && m % s->restart == 0) {
            bits_flush(&w);
            put8(j, 0xFF);
            put8(j, 0xD0 + rst);
            rst = (rst + 1) & 7;
            memset(pred, 0, sizeof pred);
        }
        for (int i = 0; i < ncomp_scan; i++) {
            int c = comps[i];
            int nb = ncomp_scan == 1 ? 1 : s->h[c] * s->v[c];
            for (int b = 0; b < nb; b++) {
                if (kind != AC_FIRST) {
                    int want = c != 0 ? 0 : s->block_dc ? s->block_dc[block0] : s->dc;
                    put_dc(&w, want - pred[c]);
                    pred[c] = want;
                }
                if (kind != DC_FIRST)
                    bits_put(&w, 0, 1); /* AC code 0: EOB (EOB0 in a progressive scan) */
                if (c == 0)
                    block0++;
            }
        }
    }
    bits_flush(&w);
}

static void put_sos(jbuf *j, int n, const int *comps, int ss, int se, int ahal)
{
    put16(j, 0xFFDA);
    put16(j, 6 + 2 * n);
    put8(j, n);
    for (int i = 0; i < n; i++) {
        put8(j, comps[i] + 1);
        put8(j, 0x00);
    }
    put8(j, ss);
    put8(j, se);
    put8(j, ahal);
}

static size_t make_jpeg(jbuf *j, const jspec *s)
{
    j->n = 0;
    put16(j, 0xFFD8);
    if (s->orientation)
        app1_exif(j, s->orientation, s->exif_big_endian);
    put16(j, 0xFFDB);
    put16(j, s->q > 255 ? 131 : 67);
    put8(j, s->q > 255 ? 0x10 : 0x00);
    for (int k = 0; k < 64; k++) {
        if (s->q > 255)
            put8(j, s->q >> 8);
        put8(j, s->q & 255);
    }
    /* DC table 0: categories 0..11 as the 4-bit codes 0000..1011; AC table
     * 0: "0" -> EOB */
    static const uint8_t dht[] = {0xFF, 0xC4, 0, 2 + 17 + 12 + 17 + 1,
                                  0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                  0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00};
    put(j, dht, sizeof dht);
    if (s->restart) {
        put16(j, 0xFFDD);
        put16(j, 4);
        put16(j, s->restart);
    }
    put16(j, 0xFF00 | s->sof);
    put16(j, 8 + 3 * s->ncomp);
    put8(j, 8);
    put16(j, s->height);
    put16(j, s->width);
    put8(j, s->ncomp);
    for (int c = 0; c < s->ncomp; c++) {
        put8(j, c + 1);
        put8(j, s->h[c] << 4 | s->v[c]);
        put8(j, 0);
    }
    static const int all[4] = {0, 1, 2, 3};
    if (s->sof != 0xC2) {
        put_sos(j, s->ncomp, all, 0, 63, 0);
        scan_data(j, s, s->ncomp, all, SEQUENTIAL);
    } else {
        /* DC first scan of all components, then one AC scan each (all EOB) */
        put_sos(j, s->ncomp, all, 0, 0, 0);
        scan_data(j, s, s->ncomp, all, DC_FIRST);
        for (int c = 0; c < s->ncomp && !s->dc_only; c++) {
            put_sos(j, 1, all + c, 1, 63, 0);
            scan_data(j, s, 1, all + c, AC_FIRST);
        }
    }
    put16(j, 0xFFD9);
    return j->n;
}

static jspec gray_spec(int w, int h)
{
    jspec s = {w, h, 1, {1, 1, 1, 1}, {1, 1, 1, 1}, 0xC0, 0, 8, 0, 0, false, false, NULL};
    return s;
}

static dn_status parse(dn_image *img, const jbuf *j, size_t n) { return dn_jpeg_parse(img, j->b, n, "t.jpg"); }

/* Every pixel of img equals want (within float rounding). */
static bool flat(const dn_image *img, float want)
{
    if (!img->pixels)
        return false;
    for (size_t i = 0; i < (size_t)img->width * (size_t)img->height; i++)
        if (fabsf(img->pixels[i] - want) > 1e-6f)
            return false;
    return true;
}

/* ---- valid files ---- */

static void test_known_values(void)
{
    jbuf *j = malloc(sizeof *j);
    dn_image img;
    /* DC 0 -> sample 128; DC 12 * q 8 = 96, / 8 = 12 -> 140 */
    jspec s = gray_spec(8, 8);
    CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
    CHECK(img.width == 8 && img.height == 8 && flat(&img, 128 / 255.0f), "gray 8x8 DC 0 is 128");
    dn_image_free(&img);
    s.dc = 12;
    CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
    CHECK(flat(&img, 140 / 255.0f), "gray 8x8 DC 12 q 8 is 140");
    dn_image_free(&img);
    s.dc = 9;
    s.q = 255; /* 9 * 255 / 8 = 286.9 over 127: clamped to 255 */
    CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
    CHECK(flat(&img, 1.0f), "clamped to 255");
    dn_image_free(&img);

    /* a 16-bit quantisation table: DC 2 * 300 / 8 = 75 -> 203 */
    s = gray_spec(8, 8);
    s.dc = 2;
    s.q = 300;
    CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
    CHECK(flat(&img, 203 / 255.0f), "16-bit DQT");
    dn_image_free(&img);

    /* DC carries over between blocks: every block 140 in a 17 x 9 image */
    static const int sizes[][2] = {{1, 1}, {17, 9}, {99, 61}, {8, 16}, {640, 1}};
    for (int sof = 0xC0; sof <= 0xC2; sof++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            s = gray_spec(sizes[i][0], sizes[i][1]);
            s.dc = 12;
            s.sof = sof;
            CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
            CHECK(img.width == sizes[i][0] && img.height == sizes[i][1] && flat(&img, 140 / 255.0f),
                  "SOF%d gray %d x %d", sof - 0xC0, sizes[i][0], sizes[i][1]);
            dn_image_free(&img);
            s.restart = 1 + (int)i;
            CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
            CHECK(flat(&img, 140 / 255.0f), "SOF%d gray %d x %d restart %d", sof - 0xC0, sizes[i][0], sizes[i][1],
                  s.restart);
            dn_image_free(&img);
        }

    /* colour: the gray is Y whatever the sampling */
    static const int factors[][6] = {{1, 1, 1, 1, 1, 1}, {2, 1, 1, 1, 1, 1}, {2, 2, 1, 1, 1, 1},
                                     {4, 1, 1, 1, 1, 1}, {1, 2, 1, 1, 1, 1}, {1, 1, 2, 2, 1, 1},
                                     {3, 2, 1, 1, 1, 1}, {1, 4, 1, 1, 1, 2}, {2, 2, 1, 2, 2, 1}};
    for (int sof = 0xC0; sof <= 0xC2; sof += 2)
        for (size_t i = 0; i < sizeof factors / sizeof factors[0]; i++) {
            s = gray_spec(37, 19);
            s.ncomp = 3;
            s.sof = sof;
            for (int c = 0; c < 3; c++) {
                s.h[c] = factors[i][2 * c];
                s.v[c] = factors[i][2 * c + 1];
            }
            s.dc = 12;
            s.restart = (int)i % 3;
            CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
            CHECK(img.width == 37 && img.height == 19 && flat(&img, 140 / 255.0f),
                  "SOF%d YCbCr sampling %dx%d,%dx%d,%dx%d", sof - 0xC0, s.h[0], s.v[0], s.h[1], s.v[1], s.h[2],
                  s.v[2]);
            dn_image_free(&img);
        }
    free(j);
}

/* A 24 x 16 gray image of 3 x 2 flat blocks A B C / D E F, shown as each
 * EXIF orientation defines it (TIFF 6.0, tag 274: where row 0 and column 0
 * of the stored image go). */
static void test_exif(void)
{
    static const int dc[6] = {8, 16, 24, 32, 40, 48}; /* A..F: samples 136, 144, .. 176 */
    static const char *const shown[9] = {
        NULL,      "ABC/DEF", "CBA/FED", "FED/CBA", "DEF/ABC",
        "AD/BE/CF", "DA/EB/FC", "FC/EB/DA", "CF/BE/AD",
    };
    jbuf *j = malloc(sizeof *j);
    dn_image img;
    jspec s = gray_spec(24, 16);
    s.block_dc = dc;
    for (int o = 1; o <= 8; o++)
        for (int big = 0; big < 2; big++) {
            s.orientation = o;
            s.exif_big_endian = big;
            CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
            bool swap = o >= 5;
            bool ok = img.width == (swap ? 16 : 24) && img.height == (swap ? 24 : 16);
            /* each 8x8 block of the output, against the letters */
            int bx = 0, by = 0;
            for (const char *p = shown[o]; ok && *p; p++) {
                if (*p == '/') {
                    by++;
                    bx = 0;
                    continue;
                }
                float want = (128.0f + (float)dc[*p - 'A']) / 255.0f;
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++)
                        ok &= fabsf(img.pixels[(size_t)(by * 8 + y) * (size_t)img.width + (size_t)(bx * 8 + x)] -
                                    want) < 1e-6f;
                bx++;
            }
            CHECK(ok, "orientation %d (%s endian) shows %s", o, big ? "big" : "little", shown[o]);
            dn_image_free(&img);
        }
    /* a malformed EXIF block is ignored: IFD offset out of the block */
    s.orientation = 0;
    size_t n = make_jpeg(j, &s);
    jbuf *k = malloc(sizeof *k);
    k->n = 0;
    put16(k, 0xFFD8);
    static const uint8_t bad[] = {0xFF, 0xE1, 0, 16, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, '*', 0xFF, 0xFF, 0xFF, 0xF0};
    put(k, bad, sizeof bad);
    put(k, j->b + 2, n - 2);
    CHECK_OK(parse(&img, k, k->n));
    CHECK(img.width == 24 && img.height == 16 && fabsf(img.pixels[0] - 136 / 255.0f) < 1e-6f,
          "a broken EXIF IFD offset is ignored");
    dn_image_free(&img);
    /* orientation 9 and a LONG instead of a SHORT are ignored too */
    s.exif_big_endian = false;
    for (int t = 0; t < 2; t++) {
        s.orientation = 6;
        n = make_jpeg(j, &s);
        for (size_t i = 0; i + 1 < n; i++)
            if (j->b[i] == 0x12 && j->b[i + 1] == 0x01) { /* the little-endian tag */
                if (t == 0)
                    j->b[i + 8] = 9;
                else
                    j->b[i + 2] = 4;
                break;
            }
        CHECK_OK(parse(&img, j, n));
        CHECK(img.width == 24 && img.height == 16, "EXIF %s ignored", t ? "orientation of type LONG" : "orientation 9");
        dn_image_free(&img);
    }
    free(k);
    free(j);
}

/* ---- malformed input ---- */

static void expect(const jbuf *j, size_t n, dn_status want, const char *what)
{
    dn_image img;
    memset(&img, 0x5A, sizeof img);
    dn_clear_error();
    dn_status got = parse(&img, j, n);
    CHECK(got == want && img.pixels == NULL && img.width == 0 && dn_last_error()[0] != '\0',
          "%s: got %s (%s), want %s", what, dn_status_name(got), dn_last_error(), dn_status_name(want));
    if (got == DN_OK)
        dn_image_free(&img);
}

/* Offset of marker FF m (the first one) in j, or 0. */
static size_t find_marker(const jbuf *j, size_t n, int m)
{
    for (size_t i = 2; i + 1 < n; i++)
        if (j->b[i] == 0xFF && j->b[i + 1] == m)
            return i;
    return 0;
}

static void test_truncated(void)
{
    jbuf *j = malloc(sizeof *j);
    static const int sofs[] = {0xC0, 0xC2};
    for (int t = 0; t < 4; t++) {
        jspec s = gray_spec(40, 24);
        s.sof = sofs[t & 1];
        if (t >= 2) {
            s.ncomp = 3;
            s.h[0] = s.v[0] = 2;
            s.restart = 2;
        }
        s.dc = 12;
        size_t n = make_jpeg(j, &s);
        int wrong = 0;
        for (size_t cut = 0; cut < n; cut++) {
            dn_image img;
            dn_status st = parse(&img, j, cut);
            if (st != DN_ERR_FORMAT || img.pixels || dn_last_error()[0] == '\0') {
                wrong++;
                if (wrong < 4)
                    fprintf(stderr, "  cut at %zu of %zu: %s %s\n", cut, n, dn_status_name(st), dn_last_error());
            }
            dn_image_free(&img);
        }
        CHECK(wrong == 0, "SOF%d %d components: every truncation (%zu) is DN_ERR_FORMAT: %d are not", s.sof - 0xC0,
              s.ncomp, n, wrong);
    }
    free(j);
}

static void test_malformed(void)
{
    jbuf *j = malloc(sizeof *j);
    jspec s = gray_spec(16, 16);
    s.dc = 12;
    size_t n = make_jpeg(j, &s);
    size_t sof = find_marker(j, n, 0xC0), dht = find_marker(j, n, 0xC4), dqt = find_marker(j, n, 0xDB),
           sos = find_marker(j, n, 0xDA);
    CHECK(sof && dht && dqt && sos, "test file has its markers");
    jbuf *k = malloc(sizeof *k);

#define MUTATE(offset, value, status, what)  \
    do {                                     \
        *k = *j;                             \
        k->b[(offset)] = (uint8_t)(value);   \
        expect(k, n, (status), (what));      \
    } while (0)

    expect(j, 0, DN_ERR_FORMAT, "empty");
    MUTATE(0, 0x89, DN_ERR_FORMAT, "PNG-like start");
    MUTATE(1, 0xD9, DN_ERR_FORMAT, "FF D9 start");
    /* SOF: precision at +4, height +5, width +7, ncomp +9, comp +10.. */
    MUTATE(sof + 4, 12, DN_ERR_UNSUPPORTED, "12-bit");
    MUTATE(sof + 4, 9, DN_ERR_FORMAT, "9-bit");
    MUTATE(sof + 6, 0, DN_ERR_UNSUPPORTED, "height 0 (DNL)");
    MUTATE(sof + 8, 0, DN_ERR_FORMAT, "width 0");
    MUTATE(sof + 11, 0x01, DN_ERR_FORMAT, "sampling factor 0");
    MUTATE(sof + 11, 0x51, DN_ERR_FORMAT, "sampling factor 5");
    MUTATE(sof + 11, 0x15, DN_ERR_FORMAT, "vertical sampling factor 5");
    MUTATE(sof + 12, 4, DN_ERR_FORMAT, "quantisation table 4");
    MUTATE(sof + 12, 1, DN_ERR_FORMAT, "quantisation table 1 never defined");
    MUTATE(sof + 1, 0xC3, DN_ERR_UNSUPPORTED, "lossless SOF3");
    MUTATE(sof + 1, 0xC9, DN_ERR_UNSUPPORTED, "arithmetic SOF9");
    MUTATE(sof + 1, 0xC5, DN_ERR_UNSUPPORTED, "hierarchical SOF5");
    MUTATE(sof + 1, 0xC8, DN_ERR_FORMAT, "reserved JPG marker");
    MUTATE(sof + 3, 12, DN_ERR_FORMAT, "SOF length too long");
    /* huge dimensions in a tiny file */
    *k = *j;
    k->b[sof + 5] = k->b[sof + 6] = k->b[sof + 7] = k->b[sof + 8] = 0x1F;
    expect(k, n, DN_ERR_FORMAT, "7967 x 7967 in 200 bytes");
    *k = *j;
    k->b[sof + 5] = k->b[sof + 7] = 0xFF;
    expect(k, n, DN_ERR_UNSUPPORTED, "65535 x 65535");
    /* DQT: value 0, precision 2, table 4 */
    MUTATE(dqt + 5, 0, DN_ERR_FORMAT, "quantisation value 0");
    MUTATE(dqt + 4, 0x20, DN_ERR_FORMAT, "DQT precision 2");
    MUTATE(dqt + 4, 0x10, DN_ERR_FORMAT, "16-bit DQT longer than its segment");
    MUTATE(dqt + 4, 0x04, DN_ERR_FORMAT, "DQT table 4");
    /* DHT: counts at dht+5.., over-subscribed: three 1-bit codes, or the
     * all-ones code (two 1-bit codes) */
    MUTATE(dht + 5, 3, DN_ERR_FORMAT, "over-subscribed DC table");
    *k = *j;
    k->b[dht + 5] = 2;
    k->b[dht + 8] = 0;
    expect(k, n, DN_ERR_FORMAT, "DC table using the all-ones code");
    MUTATE(dht + 4, 0x20, DN_ERR_FORMAT, "DHT class 2");
    MUTATE(dht + 4, 0x04, DN_ERR_FORMAT, "DHT table 4");
    MUTATE(dht + 20, 200, DN_ERR_FORMAT, "DHT counts beyond its segment");
    /* SOS: ncomp at +4, comp id +5, tables +6, Ss +7, Se +8, AhAl +9 */
    MUTATE(sos + 5, 7, DN_ERR_FORMAT, "scan of a component not in the frame");
    MUTATE(sos + 6, 0x11, DN_ERR_FORMAT, "scan using undefined Huffman tables");
    MUTATE(sos + 6, 0x44, DN_ERR_FORMAT, "Huffman table 4");
    MUTATE(sos + 8, 0x3E, DN_ERR_FORMAT, "sequential scan with Se 62");
    MUTATE(sos + 9, 0x01, DN_ERR_FORMAT, "sequential scan with Al 1");
    MUTATE(sos + 4, 2, DN_ERR_FORMAT, "scan of 2 components in a gray frame");
    MUTATE(sos + 1, 0xCC, DN_ERR_UNSUPPORTED, "arithmetic conditioning DAC");
    MUTATE(sos + 1, 0xDC, DN_ERR_UNSUPPORTED, "DNL");
    MUTATE(sos + 1, 0xD0, DN_ERR_FORMAT, "RST0 outside a scan");
    MUTATE(sos + 1, 0xD8, DN_ERR_FORMAT, "a second SOI");
    MUTATE(sos + 1, 0x02, DN_ERR_FORMAT, "reserved marker 02");
    MUTATE(sos + 1, 0xD9, DN_ERR_FORMAT, "EOI before any scan");
    /* the entropy data: a byte of garbage where the first code is (1111...:
     * not a code of the DC table) */
    MUTATE(sos + 10, 0xFE, DN_ERR_FORMAT, "a code the DC table does not have");
    /* missing tables: the DHT or the DQT turned into a COM segment */
    MUTATE(dht + 1, 0xFE, DN_ERR_FORMAT, "no DHT");
    MUTATE(dqt + 1, 0xFE, DN_ERR_FORMAT, "no DQT");
    MUTATE(sof + 1, 0xFE, DN_ERR_FORMAT, "no SOF");
    /* data after the scan and before EOI */
    *k = *j;
    memmove(k->b + n - 1, k->b + n - 2, 2);
    k->b[n - 2] = 0x00;
    expect(k, n + 1, DN_ERR_FORMAT, "a byte of entropy data too many");
    /* no EOI */
    expect(j, n - 2, DN_ERR_FORMAT, "no EOI");
    /* garbage between markers */
    *k = *j;
    k->n = 0;
    put(k, j->b, sof);
    put8(k, 0x42);
    put(k, j->b + sof, n - sof);
    expect(k, k->n, DN_ERR_FORMAT, "a stray byte before SOF");
    /* a second SOF */
    k->n = 0;
    put(k, j->b, sos);
    put(k, j->b + sof, (size_t)(j->b[sof + 2] << 8 | j->b[sof + 3]) + 2);
    put(k, j->b + sos, n - sos);
    expect(k, k->n, DN_ERR_FORMAT, "two SOFs");

    /* 4 components (CMYK) and 2 are refused as unsupported */
    s = gray_spec(8, 8);
    s.ncomp = 4;
    expect(j, make_jpeg(j, &s), DN_ERR_UNSUPPORTED, "CMYK");
    s.ncomp = 2;
    expect(j, make_jpeg(j, &s), DN_ERR_UNSUPPORTED, "2 components");
    /* more than 10 blocks in an interleaved MCU */
    s = gray_spec(32, 32);
    s.ncomp = 3;
    s.h[0] = s.v[0] = 3;
    s.h[1] = 2;
    expect(j, make_jpeg(j, &s), DN_ERR_FORMAT, "11 blocks per MCU");

    /* restart markers: wrong number, missing */
    s = gray_spec(32, 8);
    s.restart = 1;
    n = make_jpeg(j, &s);
    size_t rst = find_marker(j, n, 0xD1);
    CHECK(rst != 0, "RST1 present");
    MUTATE(rst + 1, 0xD3, DN_ERR_FORMAT, "RST3 where RST1 is due");
    MUTATE(rst + 1, 0x00, DN_ERR_FORMAT, "RST turned into data");
    *k = *j;
    k->b[find_marker(j, n, 0xDD) + 5] = 3; /* interval 3 while the data has markers every MCU */
    expect(k, n, DN_ERR_FORMAT, "RST where the interval says none");

    /* progressive: AC before DC; a scan repeated; refinement out of order */
    s = gray_spec(16, 8);
    s.sof = 0xC2;
    n = make_jpeg(j, &s);
    sos = find_marker(j, n, 0xDA);
    size_t sos2 = 0;
    for (size_t i = sos + 2; i + 1 < n; i++)
        if (j->b[i] == 0xFF && j->b[i + 1] == 0xDA) {
            sos2 = i;
            break;
        }
    CHECK(sos2 != 0, "second scan found");
    MUTATE(sos + 7, 1, DN_ERR_FORMAT, "progressive DC scan with Ss 1 of 1 component and Se 0");
    MUTATE(sos2 + 7, 0, DN_ERR_FORMAT, "progressive AC scan with Ss 0");
    MUTATE(sos2 + 8, 64, DN_ERR_FORMAT, "progressive Se 64");
    MUTATE(sos2 + 9, 0x10, DN_ERR_FORMAT, "AC refinement before any first scan");
    MUTATE(sos2 + 9, 0x0E, DN_ERR_FORMAT, "Al 14");
    MUTATE(sos + 9, 0x21, DN_ERR_FORMAT, "Ah 2 with Al 1 in a first DC scan");
    /* the AC scan first: swap the two scans' order by making the DC scan an
     * AC one */
    *k = *j;
    k->b[sos + 7] = 1;
    k->b[sos + 8] = 5;
    expect(k, n, DN_ERR_FORMAT, "AC before DC");
    /* a progressive file with only its DC scan is complete enough */
    s.dc_only = true;
    dn_image img;
    CHECK_OK(parse(&img, j, make_jpeg(j, &s)));
    dn_image_free(&img);
    free(k);
    free(j);
#undef MUTATE
}

/* Random bit flips of valid files never crash and always either decode
 * within the limits or fail with a message (the fuzzer does this at scale). */
static void test_random_damage(void)
{
    jbuf *j = malloc(sizeof *j), *k = malloc(sizeof *k);
    dn_rng rng;
    dn_rng_seed(&rng, 12);
    int failed = 0, decoded = 0;
    for (int round = 0; round < 3000; round++) {
        jspec s = gray_spec(1 + (int)((uint32_t)dn_rng_next(&rng) % 40), 1 + (int)((uint32_t)dn_rng_next(&rng) % 40));
        s.sof = 0xC0 + (int)((uint32_t)dn_rng_next(&rng) % 3);
        if (round & 1) {
            s.ncomp = 3;
            s.h[0] = 1 + (int)((uint32_t)dn_rng_next(&rng) % 2);
            s.v[0] = 1 + (int)((uint32_t)dn_rng_next(&rng) % 2);
        }
        s.restart = (int)((uint32_t)dn_rng_next(&rng) % 3);
        s.dc = 12;
        size_t n = make_jpeg(j, &s);
        *k = *j;
        int flips = 1 + (int)((uint32_t)dn_rng_next(&rng) % 4);
        for (int f = 0; f < flips; f++)
            k->b[(uint32_t)dn_rng_next(&rng) % n] ^= (uint8_t)(1u << ((uint32_t)dn_rng_next(&rng) % 8));
        dn_image img;
        dn_clear_error();
        dn_status st = parse(&img, k, n);
        if (st == DN_OK) {
            decoded++;
            for (size_t i = 0; i < (size_t)img.width * (size_t)img.height; i++)
                if (!(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f)) {
                    failed++;
                    break;
                }
        } else if (dn_last_error()[0] == '\0' || img.pixels) {
            failed++;
        }
        dn_image_free(&img);
    }
    CHECK(failed == 0, "damaged files: %d misbehaved (%d decoded)", failed, decoded);
    free(j);
    free(k);
}

static void test_args_and_files(void)
{
    dn_image img;
    CHECK(dn_jpeg_parse(NULL, NULL, 0, "x") == DN_ERR_ARG, "NULL img");
    CHECK(dn_jpeg_parse(&img, NULL, 5, "x") == DN_ERR_ARG && img.pixels == NULL, "NULL bytes");
    CHECK(dn_jpeg_read(&img, NULL) == DN_ERR_ARG, "NULL path");
    CHECK(dn_jpeg_read(&img, "/nonexistent/x.jpg") == DN_ERR_IO, "missing file");
    char dir[] = "/tmp/dn-test-jpeg-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(false, "mkdtemp");
        return;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/fifo.jpg", dir);
    if (mkfifo(path, 0600) == 0) {
        CHECK(dn_jpeg_read(&img, path) == DN_ERR_IO && strstr(dn_last_error(), "FIFO"), "FIFO refused: %s",
              dn_last_error());
        unlink(path);
    }
    jbuf *j = malloc(sizeof *j);
    jspec s = gray_spec(9, 7);
    s.dc = 12;
    size_t n = make_jpeg(j, &s);
    snprintf(path, sizeof path, "%s/a.jpg", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(j->b, 1, n, f);
        fclose(f);
        CHECK_OK(dn_jpeg_read(&img, path));
        CHECK(img.width == 9 && img.height == 7 && flat(&img, 140 / 255.0f), "read from a file");
        dn_image_free(&img);
        unlink(path);
    }
    rmdir(dir);
    free(j);
}

/* ---- --decode for check_jpeg.py ---- */

/* OUT: "W H\n" then W*H float32 values (little-endian on the machines we
 * run), or the error message and exit 1. */
static int decode_mode(const char *in, const char *out)
{
    dn_image img;
    if (dn_jpeg_read(&img, in) != DN_OK) {
        fprintf(stderr, "%s\n", dn_last_error());
        return 1;
    }
    FILE *f = fopen(out, "wb");
    if (!f) {
        dn_image_free(&img);
        return 2;
    }
    fprintf(f, "%d %d\n", img.width, img.height);
    fwrite(img.pixels, sizeof(float), (size_t)img.width * (size_t)img.height, f);
    int rc = fclose(f) == 0 ? 0 : 2;
    dn_image_free(&img);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--decode") == 0)
        return decode_mode(argv[2], argv[3]);
    test_known_values();
    test_exif();
    test_truncated();
    test_malformed();
    test_random_damage();
    test_args_and_files();
    return dn_test_finish();
}
