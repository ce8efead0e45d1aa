/* sheet.c - the sheet of paper in a photo that shows the desk around it:
 * the sheet's straight, sharp edges near the frame's, and the mask inside. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "paper.h"

enum {
    STEP = 3,              /* pixels: the windows either side of an edge are STEP rows deep */
    ALONG = 2,             /* pixels either way along an edge averaged first */
    SHEET_ANGLES = 301,    /* edge directions tried: -15..15 degrees ... */
    SHEET_CANDIDATES = 8,  /* peaks looked at for one side, at most */
    NOISE_BINS = 4096,     /* resolution of the noise's median */
    MARGIN_MIN = 4         /* pixels: the edge's blur, left out of the sheet */
};

static const double SHEET_MAX_ANGLE = 15.0;  /* ... in steps of 0.1 degree */
static const double SHEET_REACH = 0.4;       /* of the frame: farthest a side lies from its edge of the frame */
static const double SHEET_COVER = 0.5;       /* share of its length in the frame along which a side is a sharp step */
static const double SHEET_MIN_LENGTH = 0.25; /* of the frame's side: a side's length in the frame, at least */
static const float STEP_MIN = 0.02f;         /* smallest step across an edge */
static const float STEP_SIGMAS = 5.0f;       /* ... and in noise deviations of the step */
static const float FAR_MIN = 0.75f, FAR_MAX = 2.0f; /* the step farther out over the step near: a plateau each side */
static const double DESK_SHARE = 0.7;        /* of the pixels beyond a side nearer the desk's level than the sheet's */
static const double SHEET_MIN_AREA = 0.25;   /* of the frame: the least a sheet found covers */
static const double MARGIN = 0.005;          /* of the longer side (at least MARGIN_MIN): the edge's blur */
static const double SHEET_DEGREE = 0.017453292519943295; /* pi / 180 */

/* The slope of edge direction k of SHEET_ANGLES. */
static double sheet_slope(int k) { return tan((-SHEET_MAX_ANGLE + 0.1 * k) * SHEET_DEGREE); }

/* One side of the sheet in the coordinates it was looked for in: the edge
 * between desk (above) and sheet (below) at y = a + b x, y on pixel edges. */
typedef struct side {
    bool found;
    double a, b;
} side;

/* A point on a step up from the desk to the sheet: column centre, row edge. */
typedef struct step_point {
    float x, y;
} step_point;

/* Buffers for one search, w x h (the larger of the two orientations). */
typedef struct sheet_work {
    float *s;         /* the picture averaged over 2 ALONG + 1 pixels along rows */
    double *sums;     /* (h + 1) x w: column prefix sums of s */
    float *near;      /* h: the step at each row of one column */
    step_point *pts;  /* the step points found, capacity cap */
    size_t cap;
    float *acc;       /* SHEET_ANGLES x bins votes */
    size_t acc_cap;
    int h;            /* rows of s */
} sheet_work;

/* Mean of s over rows [y0, y1) of column x, from the prefix sums. */
static float rows_mean(const sheet_work *k, int w, int x, int y0, int y1)
{
    return (float)((k->sums[(size_t)y1 * (size_t)w + (size_t)x] - k->sums[(size_t)y0 * (size_t)w + (size_t)x]) /
                   (y1 - y0));
}

/* The level beyond an edge at row y of column x: rows y - 3 STEP to
 * y - STEP, or as many of them as the frame holds, or when it holds none
 * of them, the rows above y. */
static float beyond_mean(const sheet_work *k, int w, int x, int y)
{
    if (y - STEP < 1)
        return rows_mean(k, w, x, 0, y);
    return rows_mean(k, w, x, y - 3 * STEP < 0 ? 0 : y - 3 * STEP, y - STEP);
}

/* Length (in columns) of the line y = a + b x inside the w x h picture. */
static double length_inside(double a, double b, int w, int h)
{
    double x0 = 0, x1 = w;
    if (b != 0.0) {
        double xa = -a / b, xb = (h - a) / b;
        x0 = fmax(x0, fmin(xa, xb));
        x1 = fmin(x1, fmax(xa, xb));
    } else if (a < 0 || a >= h) {
        return 0;
    }
    return x1 > x0 ? x1 - x0 : 0;
}

/* Smooths p along rows into k->s and sums it down the columns; returns
 * the noise deviation of a row-averaged pixel (1.4826 times the median
 * |difference| of vertical neighbours, over sqrt 2). */
static float smooth_and_sum(const float *p, int w, int h, sheet_work *k, uint32_t *hist)
{
    for (int y = 0; y < h; y++) {
        const float *row = p + (size_t)y * (size_t)w;
        float *out = k->s + (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++) {
            int x0 = x - ALONG < 0 ? 0 : x - ALONG, x1 = x + ALONG >= w ? w - 1 : x + ALONG;
            float sum = 0.0f;
            for (int i = x0; i <= x1; i++)
                sum += row[i];
            out[x] = sum / (float)(x1 - x0 + 1);
        }
    }
    for (int x = 0; x < w; x++)
        k->sums[x] = 0.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            k->sums[(size_t)(y + 1) * (size_t)w + (size_t)x] =
                k->sums[(size_t)y * (size_t)w + (size_t)x] + k->s[(size_t)y * (size_t)w + (size_t)x];
    memset(hist, 0, NOISE_BINS * sizeof *hist);
    size_t n = 0;
    for (int y = 0; y + 1 < h; y++)
        for (int x = 0; x < w; x++) {
            float d = fabsf(k->s[(size_t)(y + 1) * (size_t)w + (size_t)x] - k->s[(size_t)y * (size_t)w + (size_t)x]);
            int b = (int)(d * NOISE_BINS);
            hist[b >= NOISE_BINS ? NOISE_BINS - 1 : b]++;
            n++;
        }
    size_t seen = 0;
    int b = 0;
    while (b < NOISE_BINS - 1 && 2 * (seen + hist[b]) < n)
        seen += hist[b++];
    return 1.4826f * ((float)b + 0.5f) / NOISE_BINS / sqrtf(2.0f);
}

/* The step points of the upper half or so: rows where the picture steps up
 * (downwards) by at least threshold, more than at the rows either side,
 * and steps up about as much between windows farther out (a plateau on
 * each side: not a thin line, not a soft shadow). */
static bool step_points(int w, int h, float threshold, sheet_work *k, size_t *count)
{
    int ymax = (int)(SHEET_REACH * h + tan(SHEET_MAX_ANGLE * SHEET_DEGREE) * w / 2.0) + 1;
    ymax = ymax > h - 3 * STEP ? h - 3 * STEP : ymax;
    size_t n = 0;
    for (int x = 0; x < w; x++) {
        for (int y = 1; y <= ymax && y < h - STEP; y++)
            k->near[y] = rows_mean(k, w, x, y, y + STEP) - rows_mean(k, w, x, y - STEP < 0 ? 0 : y - STEP, y);
        for (int y = 2; y < ymax; y++) {
            float v = k->near[y];
            if (v < threshold || v <= k->near[y - 1] || v < k->near[y + 1])
                continue;
            /* (the window beyond may be cut short by the frame) */
            float far = rows_mean(k, w, x, y + STEP, y + 3 * STEP) - beyond_mean(k, w, x, y);
            if (far < FAR_MIN * v || far > FAR_MAX * v)
                continue;
            if (n == k->cap) {
                size_t more = 2 * k->cap;
                step_point *bigger = realloc(k->pts, more * sizeof *bigger);
                if (!bigger)
                    return false;
                k->pts = bigger;
                k->cap = more;
            }
            k->pts[n++] = (step_point){(float)x + 0.5f, (float)y};
        }
    }
    *count = n;
    return true;
}

/* Least-squares refit of the line to the points within 2 pixels of it,
 * then within 1.5 of that fit; the points within 1.5 of the result are its
 * votes. False when too few points are near. */
static bool refit_side(const step_point *pts, size_t n, double *a, double *b, double *votes)
{
    for (int pass = 0; pass < 2; pass++) {
        dn_line_sums sums = {0};
        for (size_t i = 0; i < n; i++)
            if (fabs(pts[i].y - (*a + *b * pts[i].x)) <= (pass ? 1.5 : 2.0))
                dn_line_sums_add(&sums, pts[i].x, pts[i].y);
        if (!dn_line_sums_fit(&sums, a, b))
            return false;
    }
    *votes = 0;
    for (size_t i = 0; i < n; i++)
        *votes += fabs(pts[i].y - (*a + *b * pts[i].x)) <= 1.5;
    return true;
}

/* True when the picture beyond the edge (above it) is desk: of the pixels
 * between the frame and the edge (less the windows by the edge), at least
 * DESK_SHARE are nearer the level just outside the edge than the level
 * just inside, column by column. */
static bool desk_beyond(int w, const sheet_work *k, double a, double b)
{
    size_t near_desk = 0, all = 0;
    for (int x = 0; x < w; x++) {
        int y = (int)floor(a + b * (x + 0.5));
        if (y < 2 || y + 3 * STEP > k->h)
            continue;
        float out = beyond_mean(k, w, x, y), in = rows_mean(k, w, x, y + STEP, y + 3 * STEP);
        for (int yy = 0; yy < (y - STEP < 1 ? 1 : y - STEP); yy++) {
            float v = k->s[(size_t)yy * (size_t)w + (size_t)x];
            near_desk += fabsf(v - out) < fabsf(v - in);
            all++;
        }
    }
    return all > 0 && (double)near_desk >= DESK_SHARE * (double)all;
}

/* The top side of the sheet in p (w x h): the best-supported straight
 * step up from a darker desk, within SHEET_MAX_ANGLE of horizontal, its
 * middle in the top SHEET_REACH of the frame, a step along SHEET_COVER of
 * its length, with desk beyond it. */
static dn_status top_side(const float *p, int w, int h, sheet_work *k, uint32_t *hist, side *found,
                          const char *who)
{
    memset(found, 0, sizeof *found);
    if (h < 8 * STEP || w < 8 * STEP)
        return DN_OK;
    k->h = h;
    float sigma = smooth_and_sum(p, w, h, k, hist);
    float threshold = fmaxf(STEP_MIN, STEP_SIGMAS * sigma * sqrtf(2.0f / STEP));
    size_t n = 0;
    if (!step_points(w, h, threshold, k, &n))
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory looking for the sheet's edges", who);
    if (n < 8)
        return DN_OK;
    double slope_max = tan(SHEET_MAX_ANGLE * SHEET_DEGREE);
    int offset = (int)ceil(slope_max * w) + 2, bins = h + 2 * offset + 2;
    size_t need = (size_t)SHEET_ANGLES * (size_t)bins;
    if (need > k->acc_cap) {
        float *bigger = realloc(k->acc, need * sizeof *bigger);
        if (!bigger)
            return dn_fail(DN_ERR_NOMEM, "%s: out of memory looking for the sheet's edges", who);
        k->acc = bigger;
        k->acc_cap = need;
    }
    memset(k->acc, 0, need * sizeof *k->acc);
    /* Votes: each point for the lines through it, rho = the line's height
     * at x = 0 (bin b holds rho = b - offset), split between two bins. */
    for (int a = 0; a < SHEET_ANGLES; a++) {
        double slope = sheet_slope(a);
        float *row = k->acc + (size_t)a * (size_t)bins;
        for (size_t i = 0; i < n; i++) {
            double rho = k->pts[i].y - slope * k->pts[i].x + offset;
            int b = (int)floor(rho);
            float t = (float)(rho - b);
            if (b >= 0 && b + 1 < bins) {
                row[b] += 1.0f - t;
                row[b + 1] += t;
            }
        }
    }
    for (int candidate = 0; candidate < SHEET_CANDIDATES; candidate++) {
        double best = 0;
        int ba = -1, bb = -1;
        for (int a = 0; a < SHEET_ANGLES; a++) {
            double slope = sheet_slope(a);
            const float *row = k->acc + (size_t)a * (size_t)bins;
            for (int b = 1; b + 1 < bins; b++) {
                double votes = (double)row[b - 1] + row[b] + row[b + 1];
                if (votes <= best)
                    continue;
                double middle = b - offset + slope * w / 2.0, len = length_inside(b - offset, slope, w, h);
                if (middle > SHEET_REACH * h || len < SHEET_MIN_LENGTH * w || votes < SHEET_COVER * len)
                    continue;
                best = votes;
                ba = a;
                bb = b;
            }
        }
        if (ba < 0)
            break;
        double la = bb - offset, lb = sheet_slope(ba), votes = 0;
        /* This peak and everything describing nearly the same line are done. */
        for (int a = 0; a < SHEET_ANGLES; a++) {
            double s = sheet_slope(a);
            float *row = k->acc + (size_t)a * (size_t)bins;
            for (int b = 0; b < bins; b++)
                if (fabs(b - offset - la) < 2 * STEP && fabs(b - offset + s * w - (la + lb * w)) < 2 * STEP)
                    row[b] = 0.0f;
        }
        if (!refit_side(k->pts, n, &la, &lb, &votes) || fabs(lb) > slope_max)
            continue;
        double middle = la + lb * w / 2.0, len = length_inside(la, lb, w, h);
        if (middle > SHEET_REACH * h || len < SHEET_MIN_LENGTH * w || votes < SHEET_COVER * len)
            continue;
        if (!desk_beyond(w, k, la, lb))
            continue;
        *found = (side){true, la, lb};
        break;
    }
    return DN_OK;
}

/* Side r of p (w x h) as a top side: 0 the top itself, 1 the bottom (rows
 * reversed), 2 the left (transposed), 3 the right (transposed, rows
 * reversed). view gets the picture so turned; its sizes are *vw x *vh. */
static void view_of(const float *p, int w, int h, int r, float *view, int *vw, int *vh)
{
    *vw = r < 2 ? w : h;
    *vh = r < 2 ? h : w;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int vx = r < 2 ? x : y, vy = r == 0 ? y : r == 1 ? h - 1 - y : r == 2 ? x : w - 1 - x;
            view[(size_t)vy * (size_t)*vw + (size_t)vx] = p[(size_t)y * (size_t)w + (size_t)x];
        }
}

dn_status dn_paper_find_sheet(const float *p, int w, int h, dn_sheet *sheet, float *outside, const char *who)
{
    memset(sheet, 0, sizeof *sheet);
    size_t n = (size_t)w * (size_t)h;
    int big = w > h ? w : h;
    sheet_work k = {0};
    k.s = malloc(n * sizeof *k.s);
    k.sums = malloc((n + (size_t)big) * sizeof *k.sums); /* (h + 1) x w in either orientation */
    k.near = malloc((size_t)big * sizeof *k.near);
    k.cap = 1024;
    k.pts = malloc(k.cap * sizeof *k.pts);
    float *view = malloc(n * sizeof *view);
    uint32_t *hist = malloc(NOISE_BINS * sizeof *hist);
    dn_status status = DN_OK;
    side found[4] = {{0}};
    if (!k.s || !k.sums || !k.near || !k.pts || !view || !hist)
        status = dn_fail(DN_ERR_NOMEM, "%s: out of memory looking for the sheet's edges", who);
    for (int r = 0; r < 4 && status == DN_OK; r++) {
        int vw, vh;
        view_of(p, w, h, r, view, &vw, &vh);
        status = top_side(view, vw, vh, &k, hist, &found[r], who);
    }
    if (status == DN_OK) {
        /* Each side as a half-plane c0 + cx x + cy y >= 0 of the picture's
         * own coordinates (pixel edges), moved in by the margin: the view's
         * y - a - b x >= margin * |(1, b)| with the view's x and y put back. */
        double margin = fmax(MARGIN_MIN, MARGIN * big);
        for (int r = 0; r < 4; r++) {
            if (!found[r].found)
                continue;
            double a = found[r].a, b = found[r].b, m = margin * sqrt(1 + b * b);
            double *e = sheet->edge[sheet->sides++];
            e[0] = r == 0 ? -a - m : r == 1 ? h - a - m : r == 2 ? -a - m : w - a - m;
            e[1] = r == 0 ? -b : r == 1 ? -b : r == 2 ? 1.0 : -1.0;
            e[2] = r == 0 ? 1.0 : r == 1 ? -1.0 : -b;
        }
        size_t out = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                bool beyond = false;
                for (int i = 0; i < sheet->sides && !beyond; i++) {
                    const double *e = sheet->edge[i];
                    beyond = e[0] + e[1] * (x + 0.5) + e[2] * (y + 0.5) < 0.0;
                }
                outside[(size_t)y * (size_t)w + (size_t)x] = beyond ? 1.0f : 0.0f;
                out += beyond;
            }
        if ((double)(n - out) < SHEET_MIN_AREA * (double)n)
            memset(sheet, 0, sizeof *sheet);
    }
    free(k.s);
    free(k.sums);
    free(k.near);
    free(k.pts);
    free(k.acc);
    free(view);
    free(hist);
    return status;
}
