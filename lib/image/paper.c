/* paper.c - ink from photos of paper: the paper's brightness under uneven
 * light from block medians, ink relative to it, ruled and squared lines out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ink.h"
#include "internal.h"
#include "paper.h"

enum {
    COARSE_BLOCKS = 16, /* blocks on the longer side: first pass */
    FINE_BLOCKS = 32,   /* second pass, with the ink left out */
    MIN_BLOCK = 8,      /* pixels on a block's side, at least */
    MEDIAN_BINS = 1024, /* resolution of a block's median */
    ANGLES = 201,       /* line directions tried: -10..10 degrees ... */
    LINE_MIN_COUNT = 2, /* lines in one direction needed to call it ruled */
    MAX_CANDIDATES = 256, /* peaks looked at in one direction, at most (bounds the time) */
    ENVELOPE_BLOCKS = 128, /* small blocks on the longer side: the paper under bold ink */
    ENVELOPE_MIN_BLOCK = 2
};

static const double MAX_ANGLE = 10.0;      /* ... in steps of 0.1 degree */
static const double LINE_COVER = 0.6;      /* share of its length a line must run through */
static const double LINE_THIN = 0.015;     /* of the shorter side: thickest line */
static const double LINE_CUT_MIN = 0.1;    /* of the picture's length: shortest line cut by the frame */
static const double LINE_FAMILY_ANGLE = 1.0; /* degrees: a line cut short runs as close to a found one */
static const double LINE_FAMILY_COVER = 0.3; /* ... and through this share of its length (writing hides the rest) */
static const float LINE_STRONGER = 0.25f;  /* ink this much stronger than a line is kept */
static const float GATE_MIN = 0.05f;       /* as step 3: deviation counted as ink */
static const float GATE_SIGMAS = 3.0f;
static const float LOCAL_SIGMAS = 4.0f;    /* as step 4's floor, with the local noise */
static const double ENVELOPE_REACH = 0.05; /* of the longer side: widest ink, half of it */
static const double DEGREE = 0.017453292519943295; /* pi / 180 */

/* The slope of line direction k of ANGLES. */
static double slope_of(int k) { return tan((-MAX_ANGLE + 0.1 * k) * DEGREE); }

/* ---- the paper's brightness ---- */

/* Median of one block's values (those where ink is NULL or 0), or -1 when
 * fewer than a quarter of its pixels count. */
static float block_median(const float *p, int w, int x0, int y0, int x1, int y1, const float *ink, uint32_t *hist)
{
    memset(hist, 0, MEDIAN_BINS * sizeof *hist);
    size_t count = 0, all = (size_t)(x1 - x0) * (size_t)(y1 - y0);
    for (int y = y0; y < y1; y++) {
        for (int x = x0; x < x1; x++) {
            size_t i = (size_t)y * (size_t)w + (size_t)x;
            if (ink && ink[i] > 0.0f)
                continue;
            int b = (int)(p[i] * MEDIAN_BINS);
            hist[b < 0 ? 0 : b >= MEDIAN_BINS ? MEDIAN_BINS - 1 : b]++;
            count++;
        }
    }
    if (count == 0 || 4 * count < all)
        return -1.0f;
    size_t seen = 0;
    int b = 0;
    while (2 * (seen + hist[b]) < count)
        seen += hist[b++];
    return ((float)b + 0.5f) / MEDIAN_BINS;
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Blocks without a value (< 0) take the mean of their valid 8-neighbours,
 * repeatedly, until all have one (all 0.5 when none has). */
static void fill_blocks(float *g, int gw, int gh, float *scratch)
{
    size_t n = (size_t)gw * (size_t)gh;
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any = any || g[i] >= 0.0f;
    if (!any) {
        for (size_t i = 0; i < n; i++)
            g[i] = 0.5f;
        return;
    }
    for (bool missing = true; missing;) {
        missing = false;
        memcpy(scratch, g, n * sizeof *g);
        for (int y = 0; y < gh; y++) {
            for (int x = 0; x < gw; x++) {
                if (scratch[(size_t)y * (size_t)gw + (size_t)x] >= 0.0f)
                    continue;
                double sum = 0;
                int count = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int nx = x + dx, ny = y + dy;
                        if (nx < 0 || ny < 0 || nx >= gw || ny >= gh)
                            continue;
                        float v = scratch[(size_t)ny * (size_t)gw + (size_t)nx];
                        if (v >= 0.0f) {
                            sum += v;
                            count++;
                        }
                    }
                if (count)
                    g[(size_t)y * (size_t)gw + (size_t)x] = (float)(sum / count);
                else
                    missing = true;
            }
        }
    }
}

/* 3x3 median of the grid, edges replicated. */
static void median_blocks(float *g, int gw, int gh, float *scratch)
{
    size_t n = (size_t)gw * (size_t)gh;
    memcpy(scratch, g, n * sizeof *g);
    for (int y = 0; y < gh; y++) {
        for (int x = 0; x < gw; x++) {
            float v[9];
            int k = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx < 0 ? 0 : x + dx >= gw ? gw - 1 : x + dx;
                    int ny = y + dy < 0 ? 0 : y + dy >= gh ? gh - 1 : y + dy;
                    v[k++] = scratch[(size_t)ny * (size_t)gw + (size_t)nx];
                }
            qsort(v, 9, sizeof *v, compare_float);
            g[(size_t)y * (size_t)gw + (size_t)x] = v[4];
        }
    }
}

/* Position of output pixel i among the centres of blocks of side b over n
 * pixels (g of them, g >= 2): the value is block k's plus t times the step
 * to block k + 1, with t outside [0,1] beyond the outer centres (linear
 * extrapolation: light keeps changing towards the picture's edges). */
static void interpolation(int i, int n, int b, int g, int *k, float *t)
{
    double u = (i + 0.5) / b - 0.5; /* in block units, block k's centre at k */
    /* The last block may be short: its centre is the middle of what it has. */
    double last = ((g - 1) * (double)b + n) / 2.0 / b - 0.5;
    int j = u < 0 ? 0 : (int)floor(u);
    j = j > g - 2 ? g - 2 : j;
    double next = j + 1 == g - 1 ? last : j + 1.0;
    *k = j;
    *t = (float)((u - j) / (next - j));
}

/* The w x h picture of the gw x gh grid g of b-pixel blocks: bilinear
 * between block centres, extrapolated beyond the outer ones. */
static void grid_to_pixels(const float *g, int gw, int gh, int b, int w, int h, float *out)
{
    for (int y = 0; y < h; y++) {
        int ky = 0;
        float ty = 0.0f;
        if (gh > 1)
            interpolation(y, h, b, gh, &ky, &ty);
        const float *r0 = g + (size_t)ky * (size_t)gw, *r1 = gh > 1 ? r0 + gw : r0;
        for (int x = 0; x < w; x++) {
            int kx = 0;
            float tx = 0.0f;
            if (gw > 1)
                interpolation(x, w, b, gw, &kx, &tx);
            float a = gw > 1 ? r0[kx] + tx * (r0[kx + 1] - r0[kx]) : r0[kx];
            float c = gw > 1 ? r1[kx] + tx * (r1[kx + 1] - r1[kx]) : r1[kx];
            out[(size_t)y * (size_t)w + (size_t)x] = a + ty * (c - a);
        }
    }
}

dn_status dn_paper_background(const float *p, int w, int h, const float *ink, int blocks, float *bg,
                              const char *who)
{
    int big = w > h ? w : h;
    blocks = blocks < 1 ? 1 : blocks;
    int b = (big + blocks - 1) / blocks;
    b = b < MIN_BLOCK ? MIN_BLOCK : b;
    int gw = (w + b - 1) / b, gh = (h + b - 1) / b;
    size_t cells = (size_t)gw * (size_t)gh;
    float *g = malloc(cells * sizeof *g), *scratch = malloc(cells * sizeof *scratch);
    uint32_t *hist = malloc(MEDIAN_BINS * sizeof *hist);
    if (!g || !scratch || !hist) {
        free(g);
        free(scratch);
        free(hist);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory estimating the paper", who);
    }
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++)
            g[(size_t)y * (size_t)gw + (size_t)x] =
                block_median(p, w, x * b, y * b, (x + 1) * b < w ? (x + 1) * b : w, (y + 1) * b < h ? (y + 1) * b : h,
                             ink, hist);
    fill_blocks(g, gw, gh, scratch);
    median_blocks(g, gw, gh, scratch);
    grid_to_pixels(g, gw, gh, b, w, h, bg);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        bg[i] = bg[i] < 0.0f ? 0.0f : bg[i] > 1.0f ? 1.0f : bg[i];
    free(g);
    free(scratch);
    free(hist);
    return DN_OK;
}

/* ---- the paper under bold ink ---- */

/* Median of n > 0 values (the mean of the middle two when n is even);
 * reorders them (a quickselect: this runs for every small block). Pixels
 * laid out against the middle pivot could make it quadratic, so after 64
 * rounds the rest is sorted: n log n whatever the picture holds. */
static float median_of(float *v, size_t n)
{
    size_t k = n / 2, lo = 0, hi = n - 1;
    for (int round = 0; lo < hi; round++) {
        if (round == 64) {
            qsort(v + lo, hi - lo + 1, sizeof *v, compare_float);
            break;
        }
        float pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i++] = v[j];
                v[j] = t;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    if (n % 2)
        return v[k];
    float below = v[0];
    for (size_t i = 1; i < k; i++)
        below = fmaxf(below, v[i]);
    return 0.5f * (below + v[k]);
}

/* Grey-scale erosion (take_max false) or dilation of the gw x gh grid g by a
 * square of radius r cells, in two 1-D passes, through scratch. */
static void min_max_filter(float *g, int gw, int gh, int r, bool take_max, float *scratch)
{
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++) {
            float v = g[(size_t)y * (size_t)gw + (size_t)x];
            for (int k = x - r < 0 ? 0 : x - r; k <= x + r && k < gw; k++) {
                float u = g[(size_t)y * (size_t)gw + (size_t)k];
                v = take_max ? fmaxf(v, u) : fminf(v, u);
            }
            scratch[(size_t)y * (size_t)gw + (size_t)x] = v;
        }
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++) {
            float v = scratch[(size_t)y * (size_t)gw + (size_t)x];
            for (int k = y - r < 0 ? 0 : y - r; k <= y + r && k < gh; k++) {
                float u = scratch[(size_t)k * (size_t)gw + (size_t)x];
                v = take_max ? fmaxf(v, u) : fminf(v, u);
            }
            g[(size_t)y * (size_t)gw + (size_t)x] = v;
        }
}

/* The gw x gh grid g into the (gw + 2r) x (gh + 2r) grid pad, extended by
 * r cells on every side by odd reflection about the outer cells
 * (2 g[edge] - g[edge -+ j]): a trend across the edge goes on beyond it, so
 * that the opening of a picture darker towards its edges (vignetting) does
 * not flatten it there. */
static void pad_grid(const float *g, int gw, int gh, int r, float *pad)
{
    int pw = gw + 2 * r;
    for (int y = 0; y < gh; y++) {
        const float *row = g + (size_t)y * (size_t)gw;
        float *out = pad + (size_t)(y + r) * (size_t)pw;
        for (int x = 0; x < gw; x++)
            out[x + r] = row[x];
        for (int j = 1; j <= r; j++) {
            out[r - j] = 2.0f * row[0] - row[j < gw ? j : gw - 1];
            out[r + gw - 1 + j] = 2.0f * row[gw - 1] - row[gw - 1 - (j < gw ? j : gw - 1)];
        }
    }
    for (int j = 1; j <= r; j++) {
        const float *top = pad + (size_t)r * (size_t)pw, *bottom = pad + (size_t)(r + gh - 1) * (size_t)pw;
        const float *in_top = pad + (size_t)(r + (j < gh ? j : gh - 1)) * (size_t)pw;
        const float *in_bottom = pad + (size_t)(r + gh - 1 - (j < gh ? j : gh - 1)) * (size_t)pw;
        float *above = pad + (size_t)(r - j) * (size_t)pw, *below = pad + (size_t)(r + gh - 1 + j) * (size_t)pw;
        for (int x = 0; x < pw; x++) {
            above[x] = 2.0f * top[x] - in_top[x];
            below[x] = 2.0f * bottom[x] - in_bottom[x];
        }
    }
}

dn_status dn_paper_envelope(const float *p, int w, int h, bool dark_ink, float *env, const char *who)
{
    int big = w > h ? w : h;
    int b = (big + ENVELOPE_BLOCKS - 1) / ENVELOPE_BLOCKS;
    b = b < ENVELOPE_MIN_BLOCK ? ENVELOPE_MIN_BLOCK : b;
    int gw = (w + b - 1) / b, gh = (h + b - 1) / b;
    int r = (int)ceil(ENVELOPE_REACH * big / b);
    int pw = gw + 2 * r, ph = gh + 2 * r;
    size_t cells = (size_t)pw * (size_t)ph;
    float *g = malloc((size_t)gw * (size_t)gh * sizeof *g), *pad = malloc(cells * sizeof *pad);
    float *scratch = malloc(cells * sizeof *scratch), *values = malloc((size_t)b * (size_t)b * sizeof *values);
    if (!g || !pad || !scratch || !values) {
        free(g);
        free(pad);
        free(scratch);
        free(values);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory estimating the paper under the ink", who);
    }
    /* The ink side up: ink is a narrow peak above the paper, which an
     * opening (erosion, then dilation) wider than the ink takes off. */
    float sign = dark_ink ? -1.0f : 1.0f;
    for (int gy = 0; gy < gh; gy++)
        for (int gx = 0; gx < gw; gx++) {
            size_t k = 0;
            for (int y = gy * b; y < (gy + 1) * b && y < h; y++)
                for (int x = gx * b; x < (gx + 1) * b && x < w; x++)
                    values[k++] = sign * p[(size_t)y * (size_t)w + (size_t)x];
            g[(size_t)gy * (size_t)gw + (size_t)gx] = median_of(values, k);
        }
    pad_grid(g, gw, gh, r, pad);
    min_max_filter(pad, pw, ph, r, false, scratch);
    min_max_filter(pad, pw, ph, r, true, scratch);
    for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++)
            g[(size_t)y * (size_t)gw + (size_t)x] = pad[(size_t)(y + r) * (size_t)pw + (size_t)(x + r)];
    grid_to_pixels(g, gw, gh, b, w, h, env);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
        env[i] *= sign;
    free(g);
    free(pad);
    free(scratch);
    free(values);
    return DN_OK;
}

/* ---- ruled and squared lines ---- */

/* A thin run of ink across a row direction: column x, centre y, length. */
typedef struct run_point {
    float x, y, len, peak;
} run_point;

/* One found line: y = a + b * x, its thickness and the strength of its ink. */
typedef struct line_fit {
    double a, b;
    float thick, level;
    double votes;
} line_fit;

/* The thin runs down each column of q (w x h): at most thin pixels long. */
static run_point *thin_runs(const float *q, int w, int h, int thin, size_t *count)
{
    size_t capacity = 1024, n = 0;
    run_point *pts = malloc(capacity * sizeof *pts);
    if (!pts)
        return NULL;
    for (int x = 0; x < w; x++) {
        int y = 0;
        while (y < h) {
            if (q[(size_t)y * (size_t)w + (size_t)x] <= 0.0f) {
                y++;
                continue;
            }
            int start = y;
            float peak = 0.0f;
            while (y < h && q[(size_t)y * (size_t)w + (size_t)x] > 0.0f)
                peak = fmaxf(peak, q[(size_t)y++ * (size_t)w + (size_t)x]);
            if (y - start > thin)
                continue;
            if (n == capacity) {
                run_point *bigger = realloc(pts, 2 * capacity * sizeof *pts);
                if (!bigger) {
                    free(pts);
                    return NULL;
                }
                pts = bigger;
                capacity *= 2;
            }
            pts[n++] = (run_point){(float)x + 0.5f, 0.5f * (float)(start + y), (float)(y - start), peak};
        }
    }
    *count = n;
    return pts;
}

/* Length (in columns) of the line y = a + b x inside the w x h picture and
 * the sheet (NULL: the whole picture). */
static double inside_length(double a, double b, int w, int h, const dn_sheet *sheet)
{
    double x0 = 0, x1 = w;
    if (b != 0.0) {
        double xa = (0 - a) / b, xb = (h - a) / b;
        double lo = xa < xb ? xa : xb, hi = xa < xb ? xb : xa;
        x0 = fmax(x0, lo);
        x1 = fmin(x1, hi);
    } else if (a < 0 || a >= h) {
        return 0;
    }
    for (int i = 0; sheet && i < sheet->sides; i++) {
        /* c0 + cx x + cy (a + b x) >= 0 */
        const double *e = sheet->edge[i];
        double k0 = e[0] + e[2] * a, k1 = e[1] + e[2] * b;
        if (k1 > 0)
            x0 = fmax(x0, -k0 / k1);
        else if (k1 < 0)
            x1 = fmin(x1, -k0 / k1);
        else if (k0 < 0)
            return 0;
    }
    return x1 > x0 ? x1 - x0 : 0;
}

/* Least-squares refit of a line to the points near it (within 2.5 pixels of
 * the guess, then 1.5 of the first fit), with the median run length of the
 * points within 1.5 as its thickness and their median peak as its level. */
static bool refit(const run_point *pts, size_t n, line_fit *line, float *scratch)
{
    for (int pass = 0; pass < 3; pass++) {
        dn_line_sums sums = {0};
        for (size_t i = 0; i < n; i++)
            if (fabs(pts[i].y - (line->a + line->b * pts[i].x)) <= (pass ? 1.5 : 2.5))
                dn_line_sums_add(&sums, pts[i].x, pts[i].y);
        if (!dn_line_sums_fit(&sums, &line->a, &line->b))
            return false;
        line->votes = sums.s1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(pts[i].y - (line->a + line->b * pts[i].x)) <= 1.5)
            scratch[k++] = pts[i].len;
    qsort(scratch, k, sizeof *scratch, compare_float);
    line->thick = scratch[k / 2];
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(pts[i].y - (line->a + line->b * pts[i].x)) <= 1.5)
            scratch[k++] = pts[i].peak;
    qsort(scratch, k, sizeof *scratch, compare_float);
    line->level = scratch[k / 2];
    return true;
}

/* Erases, in every column, the run of ink through the line when it is the
 * line alone: no thicker than the line plus 2 pixels, no stronger than the
 * line's level plus LINE_STRONGER. */
static void erase_line(float *q, int w, int h, const line_fit *line)
{
    int reach = (int)ceil(line->thick / 2.0f) + 1;
    for (int x = 0; x < w; x++) {
        double yc = line->a + line->b * (x + 0.5);
        int y0 = (int)floor(yc) - reach, y1 = (int)floor(yc) + reach;
        for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < h; y++) {
            if (q[(size_t)y * (size_t)w + (size_t)x] <= 0.0f)
                continue;
            int start = y, end = y;
            while (start > 0 && q[(size_t)(start - 1) * (size_t)w + (size_t)x] > 0.0f)
                start--;
            while (end + 1 < h && q[(size_t)(end + 1) * (size_t)w + (size_t)x] > 0.0f)
                end++;
            float peak = 0.0f;
            for (int k = start; k <= end; k++)
                peak = fmaxf(peak, q[(size_t)k * (size_t)w + (size_t)x]);
            if (end - start + 1 <= line->thick + 2.0f && peak <= line->level + LINE_STRONGER)
                for (int k = start; k <= end; k++)
                    q[(size_t)k * (size_t)w + (size_t)x] = 0.0f;
            y = end;
        }
    }
}

/* True when a line of this slope runs within LINE_FAMILY_ANGLE of one of
 * the lines found. */
static bool in_family(const line_fit *lines, size_t nlines, double slope)
{
    for (size_t i = 0; i < nlines; i++)
        if (fabs(atan(slope) - atan(lines[i].b)) <= LINE_FAMILY_ANGLE * DEGREE)
            return true;
    return false;
}

/* The lines within MAX_ANGLE of horizontal in q, erased when there are at
 * least LINE_MIN_COUNT of them; once they are found, the lines of the same
 * family (within LINE_FAMILY_ANGLE of one of them) are looked for again,
 * running through only LINE_FAMILY_COVER of their length, and erased too:
 * those the frame cuts short (near an edge, inside the picture over at least
 * LINE_CUT_MIN of it) and those a row of writing hides - a line through a
 * number loses to the strokes, and to the blur beside them, more than the
 * 60% a lone line needs, and left whole it joins the digits. */
static dn_status horizontal_lines(float *q, int w, int h, const dn_sheet *sheet, int *found, const char *who)
{
    *found = 0;
    int shorter = w < h ? w : h;
    int thin = (int)fmax(4.0, LINE_THIN * shorter);
    size_t n = 0;
    run_point *pts = thin_runs(q, w, h, thin, &n);
    if (!pts)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory looking for ruled lines", who);
    double slope_max = tan(MAX_ANGLE * DEGREE);
    int offset = (int)ceil(slope_max * w) + 2, bins = h + 2 * offset + 2;
    float *acc = calloc((size_t)ANGLES * (size_t)bins, sizeof *acc);
    float *scratch = malloc((n ? n : 1) * sizeof *scratch);
    line_fit *lines = NULL;
    size_t nlines = 0, capacity = 0;
    dn_status status = DN_OK;
    if (!acc || !scratch) {
        status = dn_fail(DN_ERR_NOMEM, "%s: out of memory looking for ruled lines", who);
        goto done;
    }
    /* Votes: each thin run for the lines through its centre, rho = the line's
     * height at x = 0 (bin b holds rho = b - offset), split linearly between
     * the two nearest bins. */
    for (int k = 0; k < ANGLES; k++) {
        double slope = slope_of(k);
        float *row = acc + (size_t)k * (size_t)bins;
        for (size_t i = 0; i < n; i++) {
            double rho = pts[i].y - slope * pts[i].x + offset;
            int b = (int)floor(rho);
            float t = (float)(rho - b);
            if (b >= 0 && b + 1 < bins) {
                row[b] += 1.0f - t;
                row[b + 1] += t;
            }
        }
    }
    /* Peaks: three adjacent bins holding LINE_COVER of the line's length,
     * best first; a candidate close to an accepted line at both ends of the
     * picture is the same line. */
    bool cut_ones = false; /* looking for the family's lines: cut short by the frame, or hidden by writing */
    for (int candidate = 0; candidate < MAX_CANDIDATES; candidate++) {
        double cover = cut_ones ? LINE_FAMILY_COVER : LINE_COVER;
        double best = 0;
        int bk = -1, bb = -1;
        for (int k = 0; k < ANGLES; k++) {
            double slope = slope_of(k);
            if (cut_ones && !in_family(lines, nlines, slope))
                continue;
            const float *row = acc + (size_t)k * (size_t)bins;
            for (int b = 1; b + 1 < bins; b++) {
                double votes = (double)row[b - 1] + row[b] + row[b + 1];
                if (votes <= best)
                    continue;
                double len = inside_length(b - offset, slope, w, h, sheet);
                if (len < (cut_ones ? LINE_CUT_MIN : 0.5) * w || votes < cover * len)
                    continue;
                best = votes;
                bk = k;
                bb = b;
            }
        }
        if (bk < 0 && !cut_ones && nlines >= LINE_MIN_COUNT) {
            cut_ones = true;
            continue;
        }
        if (bk < 0)
            break;
        double slope = slope_of(bk);
        line_fit line = {.a = bb - offset, .b = slope};
        /* Suppress this peak and everything describing nearly the same line. */
        for (int k = 0; k < ANGLES; k++) {
            double s = slope_of(k);
            float *row = acc + (size_t)k * (size_t)bins;
            for (int b = 0; b < bins; b++) {
                double a = b - offset;
                if (fabs(a - line.a) < thin + 3 && fabs(a + s * w - (line.a + line.b * w)) < thin + 3)
                    row[b] = 0.0f;
            }
        }
        if (!refit(pts, n, &line, scratch))
            continue;
        double len = inside_length(line.a, line.b, w, h, sheet);
        if (len <= 0 || line.votes < cover * len)
            continue;
        bool again = false; /* the refit may land on a line already found */
        for (size_t i = 0; i < nlines && !again; i++)
            again = fabs(lines[i].a - line.a) < thin && fabs(lines[i].a + lines[i].b * w - (line.a + line.b * w)) < thin;
        if (again)
            continue;
        if (nlines == capacity) {
            size_t more = capacity ? 2 * capacity : 16;
            line_fit *bigger = realloc(lines, more * sizeof *lines);
            if (!bigger) {
                status = dn_fail(DN_ERR_NOMEM, "%s: out of memory looking for ruled lines", who);
                goto done;
            }
            lines = bigger;
            capacity = more;
        }
        lines[nlines++] = line;
    }
    if (nlines >= LINE_MIN_COUNT) {
        for (size_t i = 0; i < nlines; i++)
            erase_line(q, w, h, &lines[i]);
        *found = (int)nlines;
    }
done:
    free(pts);
    free(acc);
    free(scratch);
    free(lines);
    return status;
}

dn_status dn_paper_remove_lines(float *q, int w, int h, const dn_sheet *sheet, int *lines, const char *who)
{
    int across = 0, down = 0;
    *lines = 0;
    dn_status status = horizontal_lines(q, w, h, sheet, &across, who);
    if (status != DN_OK)
        return status;
    size_t n = (size_t)w * (size_t)h;
    float *t = malloc(n * sizeof *t);
    if (!t)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory looking for ruled lines", who);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            t[(size_t)x * (size_t)h + (size_t)y] = q[(size_t)y * (size_t)w + (size_t)x];
    dn_sheet turned = {0}; /* the sheet with x and y swapped */
    if (sheet) {
        turned.sides = sheet->sides;
        for (int i = 0; i < sheet->sides; i++) {
            turned.edge[i][0] = sheet->edge[i][0];
            turned.edge[i][1] = sheet->edge[i][2];
            turned.edge[i][2] = sheet->edge[i][1];
        }
    }
    status = horizontal_lines(t, h, w, sheet ? &turned : NULL, &down, who);
    if (status == DN_OK && down > 0)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                q[(size_t)y * (size_t)w + (size_t)x] = t[(size_t)x * (size_t)h + (size_t)y];
    free(t);
    *lines = across + down;
    return status;
}

/* ---- the whole photo path ---- */

/* Noise: 1.4826 times the median of |d| (0 when most of d is exactly 0),
 * over the pixels not outside the sheet (outside NULL: all of them). */
static float noise_sigma(const float *d, size_t all, const float *outside, size_t *hist)
{
    memset(hist, 0, DN_INK_HIST_BINS * sizeof *hist);
    size_t n = 0;
    for (size_t i = 0; i < all; i++)
        if (!outside || outside[i] == 0.0f) {
            hist[dn_ink_hist_bin(fabsf(d[i]))]++;
            n++;
        }
    if (n == 0 || hist[0] * 2 >= n)
        return 0.0f;
    double seen = 0;
    for (int b = 0; b < DN_INK_HIST_BINS; b++) {
        seen += (double)hist[b];
        if (2 * seen >= (double)n)
            return 1.4826f * ((float)b + 0.5f) / DN_INK_HIST_BINS;
    }
    return 1.4826f;
}

/* mask = 1 where m or one of its 8 neighbours is > 0, else 0. */
static void grow(const float *m, int w, int h, float *mask)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float v = 0.0f;
            for (int dy = -1; dy <= 1 && v == 0.0f; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx, ny = y + dy;
                    if (nx >= 0 && ny >= 0 && nx < w && ny < h && m[(size_t)ny * (size_t)w + (size_t)nx] > 0.0f) {
                        v = 1.0f;
                        break;
                    }
                }
            mask[(size_t)y * (size_t)w + (size_t)x] = v;
        }
    }
}

/* dn_paper_ink with its buffers: bg, d, mask and out of w x h, hist of
 * DN_INK_HIST_BINS. */
static dn_status paper_ink(float *p, int w, int h, float *bg, float *d, float *mask, float *out, size_t *hist,
                           dn_paper_result *result, const char *who)
{
    size_t n = (size_t)w * (size_t)h;
    /* A desk around the sheet: outside it is neither paper nor ink. */
    dn_sheet sheet;
    dn_status status = dn_paper_find_sheet(p, w, h, &sheet, out, who);
    if (status != DN_OK)
        return status;
    result->sheet_sides = sheet.sides;
    const float *outside = sheet.sides ? out : NULL;
    /* First pass: every pixel of the sheet; the polarity from the deviation. */
    status = dn_paper_background(p, w, h, outside, COARSE_BLOCKS, bg, who);
    if (status != DN_OK)
        return status;
    if (outside)
        for (size_t i = 0; i < n; i++)
            p[i] = outside[i] > 0.0f ? bg[i] : p[i]; /* the paper goes on under the desk */
    for (size_t i = 0; i < n; i++)
        d[i] = p[i] - bg[i];
    float gate = fmaxf(GATE_MIN, GATE_SIGMAS * noise_sigma(d, n, outside, hist));
    double dark = 0, light = 0;
    for (size_t i = 0; i < n; i++) {
        dark += fmax(0.0, -d[i] - gate);
        light += fmax(0.0, d[i] - gate);
    }
    result->inverted = dark > light;
    /* Second pass, on a finer grid: the paper without what the first pass
     * took for ink (and a pixel around it, the blur of its edge). */
    float sign = result->inverted ? -1.0f : 1.0f;
    for (size_t i = 0; i < n; i++)
        d[i] = sign * d[i] > gate ? 1.0f : 0.0f;
    /* A block mostly covered by bold ink has the ink as its median: what
     * lies beyond the gate from the paper's envelope is ink too. */
    status = dn_paper_envelope(p, w, h, result->inverted, bg, who);
    if (status != DN_OK)
        return status;
    for (size_t i = 0; i < n; i++)
        d[i] = d[i] > 0.0f || sign * (p[i] - bg[i]) > gate ? 1.0f : 0.0f;
    grow(d, w, h, mask);
    if (outside)
        for (size_t i = 0; i < n; i++)
            mask[i] = fmaxf(mask[i], outside[i]);
    status = dn_paper_background(p, w, h, mask, FINE_BLOCKS, bg, who);
    if (status != DN_OK)
        return status;
    /* Ink relative to how far the paper could go towards it. */
    for (size_t i = 0; i < n; i++) {
        float room = result->inverted ? bg[i] : 1.0f - bg[i];
        d[i] = sign * (p[i] - bg[i]) / fmaxf(room, 0.05f);
    }
    if (outside)
        for (size_t i = 0; i < n; i++)
            d[i] = outside[i] > 0.0f ? 0.0f : d[i];
    result->sigma = noise_sigma(d, n, outside, hist);
    /* The noise where each pixel is (it is larger in the dark, once divided):
     * the median |deviation| of the paper around it, as the paper was found. */
    for (size_t i = 0; i < n; i++)
        bg[i] = fabsf(d[i]);
    status = dn_paper_background(bg, w, h, mask, FINE_BLOCKS, bg, who);
    if (status != DN_OK)
        return status;
    for (size_t i = 0; i < n; i++)
        p[i] = fmaxf(0.0f, fminf(1.0f, d[i]));
    dn_ink_levels levels = dn_ink_levels_of(p, n, result->sigma, hist);
    result->has_ink = levels.has_ink;
    result->level = levels.level;
    for (size_t i = 0; i < n; i++) {
        float floor = fmaxf(levels.floor, LOCAL_SIGMAS * 1.4826f * bg[i]);
        p[i] = !levels.has_ink || p[i] < floor ? 0.0f : fminf(1.0f, p[i] / levels.level);
    }
    return levels.has_ink ? dn_paper_remove_lines(p, w, h, sheet.sides ? &sheet : NULL, &result->lines, who) : DN_OK;
}

dn_status dn_paper_ink(float *p, int w, int h, dn_paper_result *result, const char *who)
{
    memset(result, 0, sizeof *result);
    size_t n = (size_t)w * (size_t)h;
    float *bg = malloc(n * sizeof *bg), *d = calloc(n, sizeof *d), *mask = calloc(n, sizeof *mask);
    float *out = malloc(n * sizeof *out);
    size_t *hist = malloc(DN_INK_HIST_BINS * sizeof *hist);
    dn_status status = bg && d && mask && out && hist
                           ? paper_ink(p, w, h, bg, d, mask, out, hist, result, who)
                           : dn_fail(DN_ERR_NOMEM, "%s: out of memory for a %d x %d photo", who, w, h);
    free(bg);
    free(d);
    free(mask);
    free(out);
    free(hist);
    return status;
}
