/* synth.c - drawings made by program: pen paths from glyphs.c or made up
 * (shapes, scribbles, blobs), distorted the way hands distort them, drawn
 * with a pen, and whole datasets of them put through the MNIST preprocessing. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/synth.h"
#include "glyphs.h"
#include "internal.h"

enum {
    MAX_POINTS = 2048,
    MAX_STROKES = 24,
    CANVAS_SIDE = 96 /* dn_synth_dataset's canvas */
};

static const float PI_F = 3.14159265f;
static const float STEP = 3.0f; /* longest segment, in glyph units, so wobble bends lines */

/* Strokes as point lists in glyph units (a 60 x 100 box, y down). */
typedef struct sketch {
    float x[MAX_POINTS], y[MAX_POINTS];
    int start[MAX_STROKES + 1]; /* stroke s is points start[s] .. start[s+1]-1 */
    int strokes, points;
    bool pen_down;              /* the next point joins the current stroke */
} sketch;

static void sketch_clear(sketch *k)
{
    k->strokes = k->points = 0;
    k->start[0] = 0;
    k->pen_down = false;
}

static void pen_up(sketch *k) { k->pen_down = false; }

/* Adds a point, starting a new stroke when the pen is up; full sketches drop points. */
static void add_point(sketch *k, float x, float y)
{
    if (k->points >= MAX_POINTS)
        return;
    if (!k->pen_down) {
        if (k->strokes >= MAX_STROKES)
            return;
        k->strokes++;
        k->pen_down = true;
    }
    k->x[k->points] = x;
    k->y[k->points] = y;
    k->points++;
    k->start[k->strokes] = k->points;
}

static bool last_point(const sketch *k, float *x, float *y)
{
    if (!k->pen_down || k->points == 0)
        return false;
    *x = k->x[k->points - 1];
    *y = k->y[k->points - 1];
    return true;
}

/* A straight line from the last point, cut into pieces no longer than STEP. */
static void line_to(sketch *k, float x, float y)
{
    float x0, y0;
    if (!last_point(k, &x0, &y0)) {
        add_point(k, x, y);
        return;
    }
    int pieces = (int)ceilf(hypotf(x - x0, y - y0) / STEP);
    for (int i = 1; i <= pieces; i++)
        add_point(k, x0 + (x - x0) * (float)i / (float)pieces, y0 + (y - y0) * (float)i / (float)pieces);
}

static void quad_to(sketch *k, float cx, float cy, float x, float y)
{
    float x0, y0;
    if (!last_point(k, &x0, &y0)) {
        add_point(k, x, y);
        return;
    }
    int pieces = (int)ceilf((hypotf(cx - x0, cy - y0) + hypotf(x - cx, y - cy)) / STEP);
    for (int i = 1; i <= pieces; i++) {
        float t = (float)i / (float)pieces, u = 1.0f - t;
        add_point(k, u * u * x0 + 2 * u * t * cx + t * t * x, u * u * y0 + 2 * u * t * cy + t * t * y);
    }
}

static void arc(sketch *k, float cx, float cy, float rx, float ry, float from_deg, float to_deg)
{
    float span = (to_deg - from_deg) * PI_F / 180.0f;
    float from = from_deg * PI_F / 180.0f;
    int pieces = (int)ceilf(fabsf(span) * fmaxf(rx, ry) / STEP);
    if (pieces < 1)
        pieces = 1;
    line_to(k, cx + rx * cosf(from), cy + ry * sinf(from));
    for (int i = 1; i <= pieces; i++) {
        float a = from + span * (float)i / (float)pieces;
        add_point(k, cx + rx * cosf(a), cy + ry * sinf(a));
    }
}

/* Reads the next integer of a path; false at the end or on anything else. */
static bool next_number(const char **s, float *value)
{
    const char *p = *s;
    while (*p == ' ')
        p++;
    bool negative = *p == '-';
    if (negative)
        p++;
    if (*p < '0' || *p > '9')
        return false;
    int v = 0;
    while (*p >= '0' && *p <= '9' && v < 100000)
        v = v * 10 + (*p++ - '0');
    *value = negative ? (float)-v : (float)v;
    *s = p;
    return true;
}

/* Follows a path of glyphs.c's language; the paths are the library's own, so
 * a malformed one stops at the mistake rather than failing. */
static void trace_path(sketch *k, const char *path)
{
    const char *s = path;
    float a[6];
    for (;;) {
        while (*s == ' ')
            s++;
        char command = *s;
        if (command == '\0')
            return;
        s++;
        int needed = command == 'M' || command == 'L' ? 2 : command == 'Q' ? 4 : command == 'A' ? 6 : 0;
        for (int i = 0; i < needed; i++)
            if (!next_number(&s, &a[i]))
                return;
        switch (command) {
        case 'M': pen_up(k); add_point(k, a[0], a[1]); break;
        case 'L': line_to(k, a[0], a[1]); break;
        case 'Q': quad_to(k, a[0], a[1], a[2], a[3]); break;
        case 'A': arc(k, a[0], a[1], a[2], a[3], a[4], a[5]); break;
        case 'U': pen_up(k); break;
        default: return;
        }
    }
}

/* Typeset letters have serifs: a short bar across each end of each stroke. */
static void add_serifs(sketch *k)
{
    const int strokes = k->strokes;
    for (int st = 0; st < strokes; st++) {
        int first = k->start[st], last = k->start[st + 1] - 1;
        if (last - first < 1)
            continue;
        for (int end = 0; end < 2; end++) {
            int at = end ? last : first, next = end ? last - 1 : first + 1;
            float dx = k->x[at] - k->x[next], dy = k->y[at] - k->y[next];
            float length = hypotf(dx, dy);
            if (length <= 0.0f)
                continue;
            float nx = -dy / length * 8.0f, ny = dx / length * 8.0f;
            pen_up(k);
            add_point(k, k->x[at] - nx, k->y[at] - ny);
            line_to(k, k->x[at] + nx, k->y[at] + ny);
        }
    }
}

/* ---- made-up drawings, in the same 60 x 100 box ---- */

static void polygon(sketch *k, int corners, float inner, float turn)
{
    pen_up(k);
    int vertices = inner > 0.0f ? 2 * corners : corners;
    for (int i = 0; i <= vertices; i++) {
        float r = inner > 0.0f && i % 2 ? inner : 1.0f;
        float a = turn + 2.0f * PI_F * (float)i / (float)vertices - PI_F / 2.0f;
        line_to(k, 30.0f + 30.0f * r * cosf(a), 50.0f + 50.0f * r * sinf(a));
    }
}

static void heart(sketch *k)
{
    pen_up(k);
    for (int i = 0; i <= 64; i++) {
        float t = 2.0f * PI_F * (float)i / 64.0f, s = sinf(t);
        float x = 16.0f * s * s * s;
        float y = -(13.0f * cosf(t) - 5.0f * cosf(2 * t) - 2.0f * cosf(3 * t) - cosf(4 * t));
        line_to(k, 30.0f + 1.8f * x, 45.0f + 3.0f * y);
    }
}

static void spiral(sketch *k, dn_rng *rng)
{
    pen_up(k);
    float turns = dn_rng_range(rng, 2.0f, 3.5f), way = dn_rng_uniform(rng) < 0.5f ? 1.0f : -1.0f;
    for (int i = 0; i <= 120; i++) {
        float t = (float)i / 120.0f, a = way * 2.0f * PI_F * turns * t;
        line_to(k, 30.0f + 30.0f * t * cosf(a), 50.0f + 45.0f * t * sinf(a));
    }
}

/* A smooth random walk that turns often: what a hand does when it doodles. */
static void doodle(sketch *k, dn_rng *rng)
{
    pen_up(k);
    float x = dn_rng_range(rng, 10, 50), y = dn_rng_range(rng, 15, 85);
    float heading = dn_rng_range(rng, 0, 2 * PI_F), turn = 0.0f;
    int steps = 30 + (int)dn_rng_below(rng, 50);
    for (int i = 0; i < steps; i++) {
        turn = 0.7f * turn + dn_rng_range(rng, -0.9f, 0.9f);
        heading += turn;
        x += 5.0f * cosf(heading);
        y += 5.0f * sinf(heading);
        /* stay in the box: steer back towards the centre */
        if (x < 0 || x > 60 || y < 0 || y > 100)
            heading = atan2f(50.0f - y, 30.0f - x) + dn_rng_range(rng, -0.6f, 0.6f);
        line_to(k, fminf(fmaxf(x, 0), 60), fminf(fmaxf(y, 0), 100));
    }
}

static void hatching(sketch *k, dn_rng *rng)
{
    int lines = 3 + (int)dn_rng_below(rng, 5);
    float angle = dn_rng_range(rng, 0, PI_F), c = cosf(angle), s = sinf(angle);
    for (int i = 0; i < lines; i++) {
        float offset = -40.0f + 80.0f * ((float)i + 0.5f) / (float)lines;
        float half = dn_rng_range(rng, 25, 45);
        pen_up(k);
        add_point(k, 30 - s * offset - c * half, 50 + c * offset - s * half);
        line_to(k, 30 - s * offset + c * half, 50 + c * offset + s * half);
    }
}

static void zigzag(sketch *k, dn_rng *rng)
{
    pen_up(k);
    int peaks = 3 + (int)dn_rng_below(rng, 6);
    bool round = dn_rng_uniform(rng) < 0.5f;
    for (int i = 0; i <= 2 * peaks; i++) {
        float x = 60.0f * (float)i / (float)(2 * peaks), y = i % 2 ? 20.0f : 80.0f;
        if (round && i > 0)
            quad_to(k, x - 30.0f / (float)(2 * peaks), i % 2 ? 0.0f : 100.0f, x, 50.0f);
        else
            line_to(k, x, y);
    }
}

/* Loops in a row, like a cursive "eeee" or a telephone cord. */
static void loops(sketch *k, dn_rng *rng)
{
    pen_up(k);
    int count = 3 + (int)dn_rng_below(rng, 4);
    float r = dn_rng_range(rng, 0.5f, 1.6f);
    for (int i = 0; i <= 40 * count; i++) {
        float t = 2.0f * PI_F * (float)i / 40.0f;
        float x = 60.0f * (t - r * sinf(t)) / (2.0f * PI_F * (float)count + 2.0f);
        line_to(k, 2.0f + x, 50.0f - 30.0f * cosf(t));
    }
}

static void random_strokes(sketch *k, dn_rng *rng)
{
    int strokes = 3 + (int)dn_rng_below(rng, 4);
    for (int i = 0; i < strokes; i++) {
        pen_up(k);
        float x = dn_rng_range(rng, 0, 60), y = dn_rng_range(rng, 0, 100);
        add_point(k, x, y);
        quad_to(k, dn_rng_range(rng, 0, 60), dn_rng_range(rng, 0, 100), dn_rng_range(rng, 0, 60),
                dn_rng_range(rng, 0, 100));
    }
}

/* A short straight line: a dash, a minus, a hyphen. */
static void dash(sketch *k, dn_rng *rng)
{
    pen_up(k);
    float y = dn_rng_range(rng, 40, 60), tilt = dn_rng_range(rng, -6, 6);
    add_point(k, 0, y - tilt);
    line_to(k, 60, y + tilt);
}

static void dots(sketch *k, dn_rng *rng)
{
    int count = 1 + (int)dn_rng_below(rng, 5);
    for (int i = 0; i < count; i++) {
        pen_up(k);
        add_point(k, dn_rng_range(rng, 0, 60), dn_rng_range(rng, 0, 100));
    }
}

static void make_shape(sketch *k, dn_rng *rng)
{
    switch (dn_rng_below(rng, 6)) {
    case 0: polygon(k, 5 + (int)dn_rng_below(rng, 3), dn_rng_range(rng, 0.35f, 0.55f), 0.0f); break;
    case 1: /* more corners than 4 and a shaky hand make a 0 */
        polygon(k, 3 + (int)dn_rng_below(rng, 2), 0.0f, dn_rng_range(rng, 0, 2 * PI_F));
        break;
    case 2: heart(k); break;
    case 3: spiral(k, rng); break;
    case 4: { /* a five-pointed star in one stroke */
        pen_up(k);
        for (int i = 0; i <= 5; i++) {
            float a = 4.0f * PI_F * (float)i / 5.0f - PI_F / 2.0f;
            line_to(k, 30.0f + 30.0f * cosf(a), 52.0f + 48.0f * sinf(a));
        }
        break;
    }
    default: /* the drawn shapes at the end of glyphs.c's list, from the check mark on */
        trace_path(k, dn_other_glyph(dn_other_glyph_count() - 1 - (int)dn_rng_below(rng, 10))->path);
        break;
    }
}

static void make_scribble(sketch *k, dn_rng *rng)
{
    switch (dn_rng_below(rng, 5)) {
    case 0: doodle(k, rng); break;
    case 1: hatching(k, rng); break;
    case 2: zigzag(k, rng); break;
    case 3: loops(k, rng); break;
    default: random_strokes(k, rng); break;
    }
}

/* ---- from sketch to pixels ---- */

/* How a hand and a pen distort a sketch. */
typedef struct hand {
    float slant, rotation, aspect; /* shear of x by height, radians, width factor */
    float wobble[4], phase[4];     /* amplitude and phase of slow sine drifts */
    float jitter;                  /* random shift of each stroke, glyph units */
    float height, pen;             /* pixels */
    float cx, cy;                  /* where the centre of the box lands */
} hand;

static hand random_hand(dn_rng *rng, int side, bool printed)
{
    hand h;
    h.slant = printed ? 0.0f : dn_rng_range(rng, -0.15f, 0.4f);
    h.rotation = dn_rng_range(rng, -0.14f, 0.14f) * (printed ? 0.3f : 1.0f);
    h.aspect = dn_rng_range(rng, 0.65f, 1.3f);
    for (int i = 0; i < 4; i++) {
        h.wobble[i] = printed ? 0.0f : dn_rng_range(rng, 0.0f, 3.0f);
        h.phase[i] = dn_rng_range(rng, 0, 2 * PI_F);
    }
    h.jitter = printed ? 0.0f : dn_rng_range(rng, 0.0f, 3.0f);
    h.height = (float)side * dn_rng_range(rng, 0.3f, 0.8f);
    float thin = printed ? 0.08f : 0.03f, thick = printed ? 0.2f : 0.16f;
    h.pen = fmaxf(1.5f, h.height * dn_rng_range(rng, thin, thick));
    float margin = 0.5f * h.height + h.pen;
    float free = fmaxf(0.0f, 0.5f * (float)side - margin);
    h.cx = 0.5f * (float)side + dn_rng_range(rng, -free, free);
    h.cy = 0.5f * (float)side + dn_rng_range(rng, -free, free);
    return h;
}

/* Distorts the sketch by h and draws it into img (cleared first). */
static dn_status render(dn_image *img, const sketch *k, const hand *h, dn_rng *rng)
{
    memset(img->pixels, 0, (size_t)img->width * (size_t)img->height * sizeof *img->pixels);
    static const float wavelength[4] = {37.0f, 23.0f, 41.0f, 29.0f};
    float c = cosf(h->rotation), s = sinf(h->rotation), scale = h->height / 100.0f;
    float xy[2 * MAX_POINTS];
    for (int st = 0; st < k->strokes; st++) {
        float shift_x = dn_rng_range(rng, -h->jitter, h->jitter);
        float shift_y = dn_rng_range(rng, -h->jitter, h->jitter);
        int first = k->start[st], count = k->start[st + 1] - first;
        float travelled = 0.0f;
        for (int i = 0; i < count; i++) {
            int p = first + i;
            if (i > 0)
                travelled += hypotf(k->x[p] - k->x[p - 1], k->y[p] - k->y[p - 1]);
            float gx = k->x[p] + shift_x + h->wobble[0] * sinf(travelled / wavelength[0] + h->phase[0]) +
                       h->wobble[1] * sinf(travelled / wavelength[1] + h->phase[1]);
            float gy = k->y[p] + shift_y + h->wobble[2] * sinf(travelled / wavelength[2] + h->phase[2]) +
                       h->wobble[3] * sinf(travelled / wavelength[3] + h->phase[3]);
            float x = (gx - 30.0f) * h->aspect + h->slant * (50.0f - gy), y = gy - 50.0f;
            xy[2 * i] = h->cx + scale * (c * x - s * y);
            xy[2 * i + 1] = h->cy + scale * (s * x + c * y);
        }
        dn_status status = dn_draw_stroke(img, xy, count, h->pen, 1.0f);
        if (status != DN_OK)
            return status;
    }
    return DN_OK;
}

static dn_status check_canvas(const dn_image *img, const char *caller)
{
    if (!img || !img->pixels || img->width < 8 || img->height < 8)
        return dn_fail(DN_ERR_ARG, "%s: need an image of at least 8 x 8 pixels", caller);
    return DN_OK;
}

static int canvas_side(const dn_image *img) { return img->width < img->height ? img->width : img->height; }

dn_status dn_synth_digit(dn_image *img, int digit, int style, dn_rng *rng)
{
    dn_status status = check_canvas(img, "dn_synth_digit");
    if (status != DN_OK)
        return status;
    if (!rng || digit < 0 || digit > 9 || style >= dn_synth_style_count(digit))
        return dn_fail(DN_ERR_ARG, "dn_synth_digit: digit %d style %d does not exist", digit, style);
    if (style < 0)
        style = (int)dn_rng_below(rng, (uint64_t)dn_synth_style_count(digit));
    sketch k;
    sketch_clear(&k);
    trace_path(&k, dn_digit_glyph(digit, style)->path);
    hand h = random_hand(rng, canvas_side(img), dn_rng_uniform(rng) < 0.15f);
    return render(img, &k, &h, rng);
}

dn_status dn_synth_other_drawing(dn_image *img, dn_synth_other kind, dn_rng *rng)
{
    dn_status status = check_canvas(img, "dn_synth_other_drawing");
    if (status != DN_OK)
        return status;
    if (!rng || kind < 0 || kind >= DN_SYNTH_OTHER_KINDS)
        return dn_fail(DN_ERR_ARG, "dn_synth_other_drawing: kind %d does not exist", (int)kind);
    sketch k;
    sketch_clear(&k);
    bool printed = false;
    float blob_pen = 0.0f; /* > 0: the pen's width as a share of the drawing's height */
    switch (kind) {
    case DN_SYNTH_LETTER:
        trace_path(&k, dn_other_glyph((int)dn_rng_below(rng, (uint64_t)dn_other_glyph_count()))->path);
        printed = dn_rng_uniform(rng) < 0.35f;
        if (printed && dn_rng_uniform(rng) < 0.5f)
            add_serifs(&k);
        break;
    case DN_SYNTH_SHAPE: make_shape(&k, rng); break;
    case DN_SYNTH_SCRIBBLE: make_scribble(&k, rng); break;
    default: { /* a tap, a dash, or a pen pressed down and moved about */
        float pick = dn_rng_uniform(rng);
        if (pick < 0.25f) {
            dash(&k, rng);
        } else if (pick < 0.6f) {
            doodle(&k, rng);
            blob_pen = dn_rng_range(rng, 0.25f, 0.5f);
        } else {
            dots(&k, rng);
            blob_pen = dn_rng_range(rng, 0.05f, 0.6f);
        }
        break;
    }
    }
    hand h = random_hand(rng, canvas_side(img), printed);
    if (blob_pen > 0.0f)
        h.pen = h.height * blob_pen;
    return render(img, &k, &h, rng);
}

dn_status dn_synth_dataset(dn_dataset *ds, int digits, int others, uint64_t seed, float mean, float std)
{
    if (ds)
        *ds = (dn_dataset){0};
    if (!ds || digits < 0 || others < 0 || digits + others < 1 || digits > (1 << 24) || others > (1 << 24) ||
        !(std > 0.0f) || !isfinite(std) || !isfinite(mean))
        return dn_fail(DN_ERR_ARG, "dn_synth_dataset: need 1 to 2^24 drawings of each kind, finite mean, std > 0");
    const int total = digits + others;
    float *images = dn_alloc((size_t)total * DN_MNIST_PIXELS * sizeof *images);
    uint8_t *labels = dn_alloc((size_t)total);
    if (!images || !labels) {
        dn_free(images);
        dn_free(labels);
        return dn_fail(DN_ERR_NOMEM, "dn_synth_dataset: cannot allocate %d images", total);
    }
    dn_status status = DN_OK;
    char reason[256] = ""; /* a worker's error message: dn_last_error is per thread */
#pragma omp parallel for schedule(dynamic, 64)
    for (int i = 0; i < total; i++) {
        dn_image canvas;
        dn_status own = dn_image_new(&canvas, CANVAS_SIDE, CANVAS_SIDE);
        /* each drawing has its own generator, so the set is the same for any thread count */
        dn_rng rng;
        dn_rng_seed(&rng, seed + (uint64_t)i * 0x9e3779b97f4a7c15ULL);
        float *out = images + (size_t)i * DN_MNIST_PIXELS;
        dn_preprocess_info info = {0};
        for (int attempt = 0; own == DN_OK && attempt < 8 && !info.has_ink; attempt++) {
            if (i < digits) {
                int digit = i % 10, styles = dn_synth_style_count(digit);
                own = dn_synth_digit(&canvas, digit, (i / 10) % styles, &rng);
            } else {
                own = dn_synth_other_drawing(&canvas, (dn_synth_other)((i - digits) % DN_SYNTH_OTHER_KINDS), &rng);
            }
            if (own == DN_OK)
                own = dn_preprocess_mnist(&canvas, out, &info);
        }
        dn_image_free(&canvas);
        if (own == DN_OK)
            dn_normalize(out, DN_MNIST_PIXELS, mean, std);
        labels[i] = i < digits ? (uint8_t)(i % 10) : DN_LABEL_NONE;
        if (own != DN_OK) {
#pragma omp critical(dn_synth_status)
            {
                if (status == DN_OK) {
                    snprintf(reason, sizeof reason, "%s", dn_last_error());
                    status = own;
                }
            }
        }
    }
    if (status != DN_OK) {
        dn_free(images);
        dn_free(labels);
        return dn_fail(status, "dn_synth_dataset: %s", reason);
    }
    *ds = (dn_dataset){.count = total, .channels = 1, .height = DN_MNIST_SIDE, .width = DN_MNIST_SIDE,
                       .images = images, .labels = labels, .num_classes = 10};
    return DN_OK;
}
