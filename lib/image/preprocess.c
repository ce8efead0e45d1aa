/* preprocess.c - MNIST-style 28x28 input from a free-form digit picture:
 * background and polarity, contrast, specks, stroke width, 20-pixel box, centring. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/image.h"
#include "ink.h"
#include "internal.h"
#include "paper.h"

enum {
    WORK_SIDE = 1024,              /* larger pictures are first reduced to this side */
    HIST_BINS = DN_INK_HIST_BINS,  /* resolution of the quantiles below */
    PEAK_MIN_PIXELS = 4            /* at least this many brightest pixels are set aside */
};

static const double BOX_SIDE = 20.0;       /* MNIST: larger side of the digit's box */
static const double CENTRE = 14.5;         /* continuous coordinate of index 14 */
static const float MIN_CONTRAST = 0.15f;   /* weaker ink than this is no ink */
static const float FLOOR_FRACTION = 0.15f; /* of the ink level: below is background */
static const float FLOOR_SIGMAS = 4.0f;    /* noise deviations below which is background */
static const float INK_SIGMAS = 6.0f;      /* ink level needed, in noise deviations */
static const double SPECK_FRACTION = 0.03; /* of the largest component's mass */
static const double THIN_STROKE = 1.25;    /* thinner at 28x28 than this is thickened */
static const double TARGET_STROKE = 2.0;   /* to this: MNIST's median (2*mass/perimeter) */
static const double THIN_MIN_SIDE = 40.0;  /* only digits shrunk by more than 2x are thickened */

/* A float image being worked on; pixels owned with dn_alloc. */
typedef struct plane_img {
    int w, h;
    float *p;
} plane_img;

/* ---- 1. working copy ---- */

/* Copies img into *work, reduced by an integer factor with area averaging
 * when a side exceeds WORK_SIDE, values clamped to [0,1]. */
static dn_status make_work_copy(const dn_image *img, plane_img *work, int *factor, const char *who)
{
    int big = img->width > img->height ? img->width : img->height;
    int f = (big + WORK_SIDE - 1) / WORK_SIDE;
    work->w = (img->width + f - 1) / f;
    work->h = (img->height + f - 1) / f;
    work->p = dn_alloc((size_t)work->w * (size_t)work->h * sizeof *work->p);
    if (!work->p)
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate a %d x %d working image", who, work->w, work->h);
    *factor = f;
    if (f == 1) { /* the common case: each working pixel is one input pixel */
        size_t n = (size_t)img->width * (size_t)img->height;
        for (size_t i = 0; i < n; i++) {
            float v = img->pixels[i];
            if (!isfinite(v))
                return dn_fail(DN_ERR_ARG, "%s: pixel (x %d, y %d) is not finite", who, (int)(i % (size_t)img->width),
                               (int)(i / (size_t)img->width));
            work->p[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
        return DN_OK;
    }
    for (int wy = 0; wy < work->h; wy++) {
        for (int wx = 0; wx < work->w; wx++) {
            double sum = 0;
            int count = 0;
            for (int y = wy * f; y < (wy + 1) * f && y < img->height; y++) {
                for (int x = wx * f; x < (wx + 1) * f && x < img->width; x++) {
                    float v = img->pixels[(size_t)y * (size_t)img->width + (size_t)x];
                    if (!isfinite(v))
                        return dn_fail(DN_ERR_ARG, "%s: pixel (x %d, y %d) is not finite", who, x, y);
                    sum += v < 0.0f ? 0.0 : v > 1.0f ? 1.0 : (double)v;
                    count++;
                }
            }
            work->p[(size_t)wy * (size_t)work->w + (size_t)wx] = (float)(sum / count);
        }
    }
    return DN_OK;
}

/* ---- 2. background ---- */

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Median of n values; sorts them. */
static float median_sorted(float *v, size_t n)
{
    qsort(v, n, sizeof *v, compare_float);
    return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
}

/* The value below which a share q of the histogram's count lies, for values
 * in [0,1] in HIST_BINS bins. */
static float hist_quantile(const size_t *hist, size_t total, double q)
{
    double target = q * (double)total, seen = 0;
    for (int b = 0; b < HIST_BINS; b++) {
        seen += (double)hist[b];
        if (seen >= target)
            return ((float)b + 0.5f) / HIST_BINS;
    }
    return 1.0f;
}

static int hist_bin(float v) { return dn_ink_hist_bin(v); }

/* hist[bin]++, but bin 0 (the background, most pixels) counted in *zeros:
 * incrementing one memory cell pixel after pixel waits for each store. */
static inline void count_bin(size_t *hist, size_t *zeros, int bin)
{
    if (bin == 0)
        ++*zeros;
    else
        hist[bin]++;
}

/* Background b(x,y) = c[0] + c[1] * x + c[2] * y. */
typedef struct bg_plane {
    double c[3];
} bg_plane;

static double plane_at(const bg_plane *bg, double x, double y) { return bg->c[0] + bg->c[1] * x + bg->c[2] * y; }

/* Least squares plane through the border pixels with |residual| <= tol;
 * false (plane unchanged) when they do not determine one. */
static bool fit_plane(const plane_img *im, const int *xs, const int *ys, size_t n, bg_plane *bg, double tol)
{
    double a[3][3] = {{0}}, r[3] = {0};
    for (size_t i = 0; i < n; i++) {
        double v = im->p[(size_t)ys[i] * (size_t)im->w + (size_t)xs[i]];
        if (fabs(v - plane_at(bg, xs[i], ys[i])) > tol)
            continue;
        double row[3] = {1.0, xs[i], ys[i]};
        for (int j = 0; j < 3; j++) {
            r[j] += row[j] * v;
            for (int k = 0; k < 3; k++)
                a[j][k] += row[j] * row[k];
        }
    }
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    if (a[0][0] < 8 || fabs(det) < 1e-9 * a[0][0] * a[1][1] * a[2][2])
        return false;
    bg_plane fitted;
    for (int j = 0; j < 3; j++) {
        double m[3][3];
        memcpy(m, a, sizeof m);
        for (int k = 0; k < 3; k++)
            m[k][j] = r[k];
        fitted.c[j] = (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                       m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])) / det;
    }
    *bg = fitted;
    return true;
}

/* Fits the background plane to the border ring, starting from its median and
 * refitting a few times without the pixels far from the current plane (ink
 * touching the border). Pictures under 4 pixels on a side get the median of
 * all pixels as a constant background. */
static dn_status fit_background(const plane_img *im, bg_plane *bg, const char *who)
{
    size_t n = (size_t)im->w * (size_t)im->h;
    bool ring = im->w >= 4 && im->h >= 4;
    size_t count = ring ? 2 * (size_t)im->w + 2 * (size_t)im->h - 4 : n;
    float *values = malloc(count * sizeof *values);
    int *xs = malloc(count * sizeof *xs), *ys = malloc(count * sizeof *ys);
    if (!values || !xs || !ys) {
        free(values);
        free(xs);
        free(ys);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory for the background fit", who);
    }
    size_t k = 0;
    for (int y = 0; y < im->h; y++) {
        for (int x = 0; x < im->w; x++) {
            if (ring && y != 0 && y != im->h - 1 && x != 0 && x != im->w - 1)
                continue;
            xs[k] = x;
            ys[k] = y;
            values[k++] = im->p[(size_t)y * (size_t)im->w + (size_t)x];
        }
    }
    *bg = (bg_plane){{median_sorted(values, count), 0.0, 0.0}};
    for (int iteration = 0; ring && iteration < 4; iteration++) {
        for (size_t i = 0; i < count; i++)
            values[i] = fabsf(im->p[(size_t)ys[i] * (size_t)im->w + (size_t)xs[i]] - (float)plane_at(bg, xs[i], ys[i]));
        double spread = 1.4826 * median_sorted(values, count);
        if (!fit_plane(im, xs, ys, count, bg, fmax(3.0 * spread, 0.02)))
            break;
    }
    free(values);
    free(xs);
    free(ys);
    return DN_OK;
}

/* ---- 2b. flat picture or photo ---- */

/* True when at least half of the pixels lie on the background plane (within
 * one histogram bin, 1/4096): a drawing on a flat canvas, MNIST, a clean
 * render. Anything else - noise, uneven light the plane cannot follow,
 * texture, lines - goes the paper path. */
static bool is_flat(const plane_img *im, const bg_plane *bg)
{
    size_t n = (size_t)im->w * (size_t)im->h, on = 0;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++)
            on += hist_bin(fabsf(im->p[(size_t)y * (size_t)im->w + (size_t)x] - (float)plane_at(bg, x, y))) == 0;
    return on * 2 >= n;
}

/* ---- 3. polarity ---- */

typedef struct ink_levels {
    bool has_ink, inverted;
    float floor, level; /* of the deviation from the background, ink side */
} ink_levels;

/* Replaces each pixel by its deviation from the background (ink side
 * positive), decides the polarity and the ink level. */
static ink_levels find_ink(plane_img *im, const bg_plane *bg, size_t *hist)
{
    size_t n = (size_t)im->w * (size_t)im->h;
    memset(hist, 0, HIST_BINS * sizeof *hist);
    size_t zeros = 0;
    for (int y = 0; y < im->h; y++) {
        for (int x = 0; x < im->w; x++) {
            float *v = &im->p[(size_t)y * (size_t)im->w + (size_t)x];
            *v -= (float)plane_at(bg, x, y);
            count_bin(hist, &zeros, hist_bin(fabsf(*v)));
        }
    }
    hist[0] += zeros;
    float sigma = 1.4826f * hist_quantile(hist, n, 0.5);
    if (hist[0] * 2 >= n)
        sigma = 0.0f;
    float gate = fmaxf(0.05f, 3.0f * sigma);
    double dark = 0, light = 0;
    for (size_t i = 0; i < n; i++) {
        float d = -im->p[i] - gate, l = im->p[i] - gate;
        dark += d > 0.0f ? d : 0.0f;
        light += l > 0.0f ? l : 0.0f;
    }
    ink_levels levels = {.inverted = dark > light};
    for (size_t i = 0; i < n; i++) {
        float v = levels.inverted ? -im->p[i] : im->p[i];
        im->p[i] = v > 0.0f ? v : 0.0f;
    }
    dn_ink_levels found = dn_ink_levels_of(im->p, n, sigma, hist);
    levels.has_ink = found.has_ink;
    levels.floor = found.floor;
    levels.level = found.level;
    return levels;
}

/* ---- 4. contrast ---- */

dn_ink_levels dn_ink_levels_of(const float *v, size_t n, float sigma, size_t *hist)
{
    dn_ink_levels levels;
    memset(hist, 0, HIST_BINS * sizeof *hist);
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++)
        count_bin(hist, &zeros, hist_bin(v[i]));
    hist[0] += zeros;
    /* A robust maximum: the brightest 1 in 10000 pixels (at least 4) set aside. */
    size_t keep = n / 10000 > PEAK_MIN_PIXELS ? n / 10000 : PEAK_MIN_PIXELS, seen = 0;
    int top = HIST_BINS - 1;
    while (top > 0 && (seen += hist[top]) < keep)
        top--;
    /* The ink level: the median of the pixels at least half that strong. */
    size_t strong = 0, below = 0;
    for (int k = top / 2; k < HIST_BINS; k++)
        strong += hist[k];
    int mid = top / 2;
    while (mid < HIST_BINS - 1 && 2 * (below + hist[mid]) < strong)
        below += hist[mid++];
    levels.level = ((float)mid + 0.5f) / HIST_BINS;
    levels.floor = fmaxf(FLOOR_FRACTION * levels.level, FLOOR_SIGMAS * sigma);
    levels.has_ink = levels.level >= MIN_CONTRAST && levels.level >= INK_SIGMAS * sigma && levels.floor < levels.level;
    return levels;
}

/* ---- 5. specks ---- */

dn_status dn_ink_components(const float *p, int w, int h, uint32_t *labels, size_t *count, double **mass_out,
                            const char *who)
{
    size_t n = (size_t)w * (size_t)h, found = 0, capacity = 64;
    double *mass = malloc(capacity * sizeof *mass);
    uint32_t *stack = malloc(n * sizeof *stack);
    *mass_out = NULL;
    *count = 0;
    if (!mass || !stack) {
        free(mass);
        free(stack);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory labelling ink", who);
    }
    memset(labels, 0, n * sizeof *labels);
    for (size_t start = 0; start < n; start++) {
        if (p[start] <= 0.0f || labels[start])
            continue;
        if (found == capacity) {
            double *bigger = realloc(mass, 2 * capacity * sizeof *mass);
            if (!bigger) {
                free(mass);
                free(stack);
                return dn_fail(DN_ERR_NOMEM, "%s: out of memory labelling ink", who);
            }
            mass = bigger;
            capacity *= 2;
        }
        uint32_t label = (uint32_t)++found;
        double sum = 0;
        size_t top = 0;
        labels[start] = label;
        stack[top++] = (uint32_t)start;
        while (top > 0) {
            uint32_t i = stack[--top];
            sum += p[i];
            /* 32-bit division: a 64-bit one per pixel was most of the cost */
            int y = (int)(i / (uint32_t)w), x = (int)i - y * w;
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                        continue;
                    size_t j = (size_t)ny * (size_t)w + (size_t)nx;
                    if (p[j] > 0.0f && !labels[j]) {
                        labels[j] = label;
                        stack[top++] = (uint32_t)j;
                    }
                }
            }
        }
        mass[found - 1] = sum;
    }
    free(stack);
    *count = found;
    *mass_out = mass;
    return DN_OK;
}

/* Erases 8-connected components of ink holding less than SPECK_FRACTION of
 * the largest one's mass. */
static dn_status remove_specks(plane_img *im, const char *who)
{
    size_t n = (size_t)im->w * (size_t)im->h, count;
    uint32_t *labels = malloc(n * sizeof *labels);
    double *mass = NULL;
    dn_status status = labels ? dn_ink_components(im->p, im->w, im->h, labels, &count, &mass, who)
                              : dn_fail(DN_ERR_NOMEM, "%s: out of memory labelling ink", who);
    if (status == DN_OK) {
        double largest = 0;
        for (size_t k = 0; k < count; k++)
            largest = fmax(largest, mass[k]);
        for (size_t i = 0; i < n; i++)
            if (labels[i] && mass[labels[i] - 1] < SPECK_FRACTION * largest)
                im->p[i] = 0.0f;
    }
    free(labels);
    free(mass);
    return status;
}

/* ---- measuring ink ---- */

typedef struct ink_stats {
    int x0, y0, x1, y1;   /* bounding box, x1 and y1 exclusive */
    double mass, cx, cy;  /* sum of ink and its centre (pixel centres at +0.5) */
    size_t pixels;        /* pixels with any ink */
    double stroke;        /* width: 2 * mass / perimeter of the ink >= 0.5 */
} ink_stats;

static ink_stats measure(const plane_img *im)
{
    ink_stats s = {.x0 = im->w, .y0 = im->h};
    double perimeter = 0, sx = 0, sy = 0;
    for (int y = 0; y < im->h; y++) {
        for (int x = 0; x < im->w; x++) {
            const float *v = &im->p[(size_t)y * (size_t)im->w + (size_t)x];
            if (*v <= 0.0f)
                continue;
            s.pixels++;
            s.mass += *v;
            sx += (x + 0.5) * *v;
            sy += (y + 0.5) * *v;
            s.x0 = x < s.x0 ? x : s.x0;
            s.y0 = y < s.y0 ? y : s.y0;
            s.x1 = x >= s.x1 ? x + 1 : s.x1;
            s.y1 = y >= s.y1 ? y + 1 : s.y1;
            if (*v < 0.5f)
                continue;
            perimeter += (x == 0 || v[-1] < 0.5f) + (x == im->w - 1 || v[1] < 0.5f) +
                         (y == 0 || v[-im->w] < 0.5f) + (y == im->h - 1 || v[im->w] < 0.5f);
        }
    }
    if (s.mass > 0) {
        s.cx = sx / s.mass;
        s.cy = sy / s.mass;
    }
    s.stroke = perimeter > 0 ? 2.0 * s.mass / perimeter : 1.0;
    return s;
}

/* ---- 6. thin strokes ---- */

/* Squared distance to the nearest seed along one line (Felzenszwalb and
 * Huttenlocher's lower envelope of parabolas): d[q] = min_p (q-p)^2 + f[p]. */
static void distance_line(const double *f, double *d, int n, int *v, double *z)
{
    int k = 0;
    v[0] = 0;
    z[0] = -HUGE_VAL;
    z[1] = HUGE_VAL;
    for (int q = 1; q < n; q++) {
        double s;
        for (;;) {
            int p = v[k];
            s = ((f[q] + (double)q * q) - (f[p] + (double)p * p)) / (2.0 * (q - p));
            if (s > z[k])
                break;
            k--;
        }
        k++;
        v[k] = q;
        z[k] = s;
        z[k + 1] = HUGE_VAL;
    }
    k = 0;
    for (int q = 0; q < n; q++) {
        while (z[k + 1] < q)
            k++;
        d[q] = (double)(q - v[k]) * (q - v[k]) + f[v[k]];
    }
}

/* Ink = max(ink, a round pen of the given radius around every pixel with ink
 * >= 0.5), the pen's edge anti-aliased over one pixel. */
static dn_status dilate(plane_img *im, double radius, const char *who)
{
    int side = im->w > im->h ? im->w : im->h;
    size_t n = (size_t)im->w * (size_t)im->h;
    double *sq = malloc(n * sizeof *sq);
    double *f = calloc((size_t)side, sizeof *f), *d = malloc((size_t)side * sizeof *d);
    double *z = malloc(((size_t)side + 1) * sizeof *z);
    int *v = malloc((size_t)side * sizeof *v);
    dn_status status = DN_OK;
    if (!sq || !f || !d || !z || !v) {
        status = dn_fail(DN_ERR_NOMEM, "%s: out of memory thickening strokes", who);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        sq[i] = im->p[i] >= 0.5f ? 0.0 : 1e20;
    for (int x = 0; x < im->w; x++) {
        for (int y = 0; y < im->h; y++)
            f[y] = sq[(size_t)y * (size_t)im->w + (size_t)x];
        distance_line(f, d, im->h, v, z);
        for (int y = 0; y < im->h; y++)
            sq[(size_t)y * (size_t)im->w + (size_t)x] = d[y];
    }
    for (int y = 0; y < im->h; y++) {
        double *row = sq + (size_t)y * (size_t)im->w;
        memcpy(f, row, (size_t)im->w * sizeof *f);
        distance_line(f, row, im->w, v, z);
    }
    for (size_t i = 0; i < n; i++) {
        double pen = radius + 0.5 - sqrt(sq[i]);
        pen = pen < 0 ? 0 : pen > 1 ? 1 : pen;
        im->p[i] = im->p[i] > (float)pen ? im->p[i] : (float)pen;
    }
done:
    free(sq);
    free(f);
    free(d);
    free(z);
    free(v);
    return status;
}

/* The ink's box with a margin of pad pixels on each side (zeros beyond the
 * picture), as a new image. */
static dn_status crop(const plane_img *im, const ink_stats *s, int pad, plane_img *out, const char *who)
{
    out->w = s->x1 - s->x0 + 2 * pad;
    out->h = s->y1 - s->y0 + 2 * pad;
    out->p = dn_calloc((size_t)out->w * (size_t)out->h, sizeof *out->p);
    if (!out->p)
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate a %d x %d crop", who, out->w, out->h);
    for (int y = s->y0; y < s->y1; y++)
        memcpy(out->p + (size_t)(y - s->y0 + pad) * (size_t)out->w + pad, im->p + (size_t)y * (size_t)im->w + s->x0,
               (size_t)(s->x1 - s->x0) * sizeof *out->p);
    return DN_OK;
}

/* ---- 7. resampling ---- */

/* Weights taking a line of n input pixels to the 28 outputs: output k covers
 * input [c + (k - CENTRE) / scale, c + (k + 1 - CENTRE) / scale); w is
 * 28 x n, first[k] and last[k] bound its non-zero entries. */
static void axis_weights(int n, double c, double scale, float *w, int *first, int *last)
{
    memset(w, 0, (size_t)DN_MNIST_SIDE * (size_t)n * sizeof *w);
    for (int k = 0; k < DN_MNIST_SIDE; k++) {
        float *row = w + (size_t)k * (size_t)n;
        first[k] = n;
        last[k] = -1;
        if (scale <= 1.0) {
            double a = c + (k - CENTRE) / scale, b = a + 1.0 / scale;
            for (int i = (int)floor(a) > 0 ? (int)floor(a) : 0; i < n && i < b; i++) {
                double overlap = fmin(b, i + 1.0) - fmax(a, (double)i);
                if (overlap > 0)
                    row[i] = (float)(overlap * scale);
            }
        } else {
            double u = c + (k + 0.5 - CENTRE) / scale - 0.5;
            int i = (int)floor(u);
            double t = u - i;
            if (i >= 0 && i < n)
                row[i] = (float)(1.0 - t);
            if (i + 1 >= 0 && i + 1 < n)
                row[i + 1] = (float)t;
        }
        for (int i = 0; i < n; i++) {
            if (row[i] != 0.0f) {
                first[k] = i < first[k] ? i : first[k];
                last[k] = i;
            }
        }
    }
}

/* out = Wy * im * Wx^T, scaled so its largest value is 1. */
static dn_status resample(const plane_img *im, const ink_stats *s, float out[DN_MNIST_PIXELS], const char *who)
{
    double scale = BOX_SIDE / (s->x1 - s->x0 > s->y1 - s->y0 ? s->x1 - s->x0 : s->y1 - s->y0);
    float *wx = malloc((size_t)DN_MNIST_SIDE * (size_t)im->w * sizeof *wx);
    float *wy = malloc((size_t)DN_MNIST_SIDE * (size_t)im->h * sizeof *wy);
    float *rows = malloc((size_t)im->h * DN_MNIST_SIDE * sizeof *rows);
    if (!wx || !wy || !rows) {
        free(wx);
        free(wy);
        free(rows);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory resampling", who);
    }
    int fx[DN_MNIST_SIDE], lx[DN_MNIST_SIDE], fy[DN_MNIST_SIDE], ly[DN_MNIST_SIDE];
    axis_weights(im->w, s->cx, scale, wx, fx, lx);
    axis_weights(im->h, s->cy, scale, wy, fy, ly);
    for (int y = 0; y < im->h; y++) {
        const float *src = im->p + (size_t)y * (size_t)im->w;
        for (int k = 0; k < DN_MNIST_SIDE; k++) {
            const float *w = wx + (size_t)k * (size_t)im->w;
            double sum = 0;
            for (int x = fx[k]; x <= lx[k]; x++)
                sum += (double)w[x] * src[x];
            rows[(size_t)y * DN_MNIST_SIDE + (size_t)k] = (float)sum;
        }
    }
    float top = 0.0f;
    for (int j = 0; j < DN_MNIST_SIDE; j++) {
        const float *w = wy + (size_t)j * (size_t)im->h;
        for (int k = 0; k < DN_MNIST_SIDE; k++) {
            double sum = 0;
            for (int y = fy[j]; y <= ly[j]; y++)
                sum += (double)w[y] * rows[(size_t)y * DN_MNIST_SIDE + (size_t)k];
            out[j * DN_MNIST_SIDE + k] = (float)sum;
            top = fmaxf(top, (float)sum);
        }
    }
    for (int i = 0; i < DN_MNIST_PIXELS && top > 0.0f; i++)
        out[i] = fminf(1.0f, out[i] / top);
    free(wx);
    free(wy);
    free(rows);
    return DN_OK;
}

/* ---- the whole pipeline ---- */

dn_status dn_ink_shape(dn_ink *ink, float out[DN_MNIST_PIXELS], dn_preprocess_info *info)
{
    memset(info, 0, sizeof *info);
    memset(out, 0, DN_MNIST_PIXELS * sizeof *out);
    info->inverted = ink->inverted;
    plane_img work = {ink->w, ink->h, ink->p};
    size_t n = (size_t)work.w * (size_t)work.h;
    dn_status status = remove_specks(&work, ink->who);
    if (status != DN_OK)
        return status;
    ink_stats s = measure(&work);
    if (s.mass <= 0)
        return DN_OK;
    int factor = ink->factor;
    info->has_ink = true;
    info->box_x = s.x0 * factor;
    info->box_y = s.y0 * factor;
    info->box_w = (s.x1 * factor < ink->width ? s.x1 * factor : ink->width) - info->box_x;
    info->box_h = (s.y1 * factor < ink->height ? s.y1 * factor : ink->height) - info->box_y;
    info->ink_fraction = (float)((double)s.pixels / (double)n);

    double longest = s.x1 - s.x0 > s.y1 - s.y0 ? s.x1 - s.x0 : s.y1 - s.y0;
    double radius = 0;
    if (longest > THIN_MIN_SIDE && s.stroke * BOX_SIDE / longest < THIN_STROKE)
        radius = (TARGET_STROKE * longest / BOX_SIDE - s.stroke) / (2.0 * (1.0 - TARGET_STROKE / BOX_SIDE));
    plane_img digit = {0};
    status = crop(&work, &s, (int)ceil(radius) + 1, &digit, ink->who);
    if (status == DN_OK && radius > 0)
        status = dilate(&digit, radius, ink->who);
    if (status == DN_OK) {
        ink_stats d = measure(&digit);
        if (d.mass > 0)
            status = resample(&digit, &d, out, ink->who);
    }
    dn_free(digit.p);
    return status;
}

void dn_ink_free(dn_ink *ink)
{
    dn_free(ink->p);
    ink->p = NULL;
}

dn_status dn_ink_blank(dn_ink *blank, const dn_ink *ink)
{
    *blank = *ink;
    blank->p = dn_calloc((size_t)ink->w * (size_t)ink->h, sizeof *blank->p);
    return blank->p ? DN_OK : dn_fail(DN_ERR_NOMEM, "%s: cannot allocate a %d x %d ink plane", ink->who, ink->w, ink->h);
}

dn_status dn_ink_extract(dn_ink *ink, const dn_image *img, const char *who)
{
    return dn_ink_extract_as(ink, img, DN_INK_AUTO, who);
}

/* v / level, at most 1 (fminf is a library call here; v is finite). */
static inline float ink_share(float v, float level)
{
    float r = v / level;
    return r < 1.0f ? r : 1.0f;
}

dn_status dn_ink_extract_as(dn_ink *ink, const dn_image *img, dn_ink_mode mode, const char *who)
{
    memset(ink, 0, sizeof *ink);
    ink->who = who;
    if (!img || !img->pixels)
        return dn_fail(DN_ERR_ARG, "%s: %s is NULL", who, !img ? "img" : "img->pixels");
    if (img->width < 1 || img->height < 1 || img->width > DN_IMAGE_MAX_SIDE || img->height > DN_IMAGE_MAX_SIDE)
        return dn_fail(DN_ERR_ARG, "%s: image size %d x %d is empty or too large", who, img->width, img->height);
    ink->width = img->width;
    ink->height = img->height;
    plane_img work = {0};
    bg_plane bg = {{0.0, 0.0, 0.0}};
    size_t *hist = malloc(HIST_BINS * sizeof *hist);
    dn_status status = hist ? make_work_copy(img, &work, &ink->factor, who)
                            : dn_fail(DN_ERR_NOMEM, "%s: out of memory for a histogram", who);
    if (status == DN_OK)
        status = fit_background(&work, &bg, who);
    if (status == DN_OK && (mode == DN_INK_PAPER || (mode == DN_INK_AUTO && !is_flat(&work, &bg)))) {
        dn_paper_result paper;
        status = dn_paper_ink(work.p, work.w, work.h, &paper, who);
        ink->paper = true;
        ink->inverted = paper.inverted;
        ink->has_ink = paper.has_ink;
    } else if (status == DN_OK) {
        ink_levels levels = find_ink(&work, &bg, hist);
        ink->inverted = levels.inverted;
        ink->has_ink = levels.has_ink;
        size_t n = (size_t)work.w * (size_t)work.h;
        for (size_t i = 0; i < n; i++)
            work.p[i] = !levels.has_ink || work.p[i] < levels.floor ? 0.0f : ink_share(work.p[i], levels.level);
    }
    free(hist);
    ink->w = work.w;
    ink->h = work.h;
    ink->p = work.p;
    if (status != DN_OK)
        dn_ink_free(ink);
    return status;
}

dn_status dn_preprocess_mnist(const dn_image *img, float out[DN_MNIST_PIXELS], dn_preprocess_info *info)
{
    if (!out)
        return dn_fail(DN_ERR_ARG, "dn_preprocess_mnist: out is NULL");
    dn_preprocess_info scratch;
    info = info ? info : &scratch;
    memset(info, 0, sizeof *info);
    memset(out, 0, DN_MNIST_PIXELS * sizeof *out);
    dn_ink ink;
    dn_status status = dn_ink_extract(&ink, img, "dn_preprocess_mnist");
    if (status == DN_OK)
        status = dn_ink_mnist(&ink, out, info);
    if (status != DN_OK) {
        memset(info, 0, sizeof *info);
        memset(out, 0, DN_MNIST_PIXELS * sizeof *out);
    }
    dn_ink_free(&ink);
    return status;
}

dn_status dn_ink_mnist(dn_ink *ink, float out[DN_MNIST_PIXELS], dn_preprocess_info *info)
{
    memset(info, 0, sizeof *info);
    info->inverted = ink->inverted;
    dn_status status = ink->has_ink ? dn_ink_shape(ink, out, info) : DN_OK;
    if (status != DN_OK || !info->has_ink) {
        memset(info, 0, sizeof *info);
        memset(out, 0, DN_MNIST_PIXELS * sizeof *out);
    }
    return status;
}

void dn_normalize(float *pixels, size_t n, float mean, float std)
{
    float inv = 1.0f / std;
    for (size_t i = 0; i < n; i++)
        pixels[i] = (pixels[i] - mean) * inv;
}
