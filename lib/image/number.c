/* number.c - reading a number from a picture: its ink components joined into
 * digits, touching digits cut apart where the classifier agrees, each part
 * made MNIST-style (ink.h) and classified. The steps are in digitnet/number.h. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "digitnet/idx.h"
#include "digitnet/number.h"
#include "digitnet/ops.h"
#include "ink.h"
#include "internal.h"

static const char WHO[] = "dn_read_number";

enum {
    MAX_COMPONENTS = 256, /* components beyond the heaviest this many are treated as specks */
    PIECE_SIDE = 64,      /* working pixels: larger cut pieces are shaped on a coarser grid */
    LIGHT_CUTS = 5,       /* candidate cuts where the least ink crosses, ... */
    MAX_CUTS = LIGHT_CUTS + 1, /* ... and one where the outline dips between two round digits */
    MAX_PIECES = (MAX_CUTS + 2) * (MAX_CUTS + 1) / 2 /* pieces between any two of its cut points */
};

static const double SPECK_FRACTION = 0.03;  /* of the largest component's mass (as preprocess.c) */
static const double TALL_FRACTION = 0.5;    /* of the tallest: components that set the digit height */
static const double FRAGMENT_HEIGHT = 0.75; /* of the digit height: shorter components may be joined */
static const double JOIN_OVERLAP = 0.5;     /* of the narrower width: shared columns needed to join */
static const double JOIN_GAP = 0.3;         /* digit heights: largest vertical gap between joined boxes */
static const double JOIN_HEIGHT = 1.35;     /* digit heights: tallest a joined part may be */
static const double SPLIT_ASPECT = 0.75;    /* width / height from which cuts are tried, ... */
static const double UNSURE_SPLIT_ASPECT = 0.6; /* ... or this in a part read under min_confidence, ... */
static const double MIN_SPLIT_HEIGHT = 0.5; /* ... in parts at least this share of the digit height */
static const double PATH_BAND = 0.1;        /* of the part's height: how far a cut path may leave its line */
static const double PATH_STEP = 0.05;       /* ink a cut path pays per pixel it moves sideways */
static const double UNSURE_COST = 1.0;      /* log-probability units a piece under min_confidence pays */
static const double MIN_PIECE = 0.08;       /* of the part's height: narrowest piece a cut leaves */
static const double CUT_SPACING = 0.1;      /* of the part's height: candidate cuts at least this apart */
static const double VALLEY_REACH = 0.25;    /* of the part's height: the outline looked at beside a dip */
static const double VALLEY_DEPTH = 0.15;    /* of the part's height: the dip and the rise together, at least */
static const double MIN_PIECE_HEIGHT = 0.7; /* of the part's height: a piece's own ink at least this tall */
static const double CUT_COST = 0.2;         /* log-probability units per cut ... */
static const double CUT_INK_COST = 5.0;     /* ... plus this times the ink crossed / part height */
static const double WIDE_ASPECT = 0.6;      /* pieces with a larger width / height ... */
static const double WIDE_COST = 8.0;        /* ... cost this times the square of the excess */
static const double WIDE_OF_MEDIAN = 1.0;   /* ... or than this times the parts' median, if larger, ... */
static const double WIDE_CAP = 0.8;         /* ... up to this (other parts may be touching pairs too) */
static const double WHOLE_WIDE = 0.7;       /* ... and a part read whole only beyond this, or that */
static const double ONE_SPAN = 0.8;         /* of the part's (or digit) height: a 1's straight edge spans this, */
static const double ONE_PEN = 0.2;          /* ... its pen (median first run) at most this of the height, */
static const double ONE_SLANT = 0.5;        /* ... its slope at most this (x per y), */
static const double ONE_STRAIGHT = 0.04;    /* ... its edge this close to a line (root mean square, of the height); */
static const double ONE_RUN = 1.6;          /* a row's run no longer than this many pens is the 1 alone */
static const double ONE_SURE = 0.9;         /* a peeled 1 is read as 1 at least this surely, ... */
static const double ONE_REST = 0.75;        /* ... the rest at least this share of the part's height, */
static const double ONE_UNSURE_REST = 0.99; /* ... and this surely read if the whole was not read surely */
enum { ONE_MAX = 2 };                       /* 1s peeled off each end of a part */
static const double SURE_ALONE = 0.99;      /* best probability from which the only part of a picture ... */
static const double SURE_ASPECT = 1.1;      /* ... no wider than this for its height is not tried cut */
static const double SMALL_SIZE = 0.4;       /* digit heights: a part smaller both ways is DN_PART_SMALL */
static const double FLAT_HEIGHT = 0.3;      /* digit heights: a lower part wider than tall is DN_PART_FLAT */
static const double IN_NUMBER_CONFIDENCE = 0.5;   /* a part of a number among confident digits is one from this ... */
static const double IN_NUMBER_HEIGHT = 0.75;      /* ... when its height is at least this share of theirs (and at most
                                               its inverse) ... */
static const double IN_NUMBER_ASPECT = 1.25;      /* ... and its width / height at most this */

/* A box on the working grid, x1 and y1 exclusive. */
typedef struct box {
    int x0, y0, x1, y1;
} box;

static box box_union(box a, box b)
{
    return (box){a.x0 < b.x0 ? a.x0 : b.x0, a.y0 < b.y0 ? a.y0 : b.y0, a.x1 > b.x1 ? a.x1 : b.x1,
                 a.y1 > b.y1 ? a.y1 : b.y1};
}

/* Components joined so far into one part. */
typedef struct group {
    box b;
    double mass;
    int pieces;
    bool alive;
} group;

/* One part as classified: its group, the ink it takes from it, its input,
 * reading and box. */
typedef struct part {
    int group;
    /* The group's ink at x with left[y - y0] <= x < right[y - y0] in row y
     * (y0 the top of the group's box); NULL: no bound on that side. Only
     * valid while the cuts they point to are (cut_group). */
    const int *left, *right;
    bool cut;
    float input[DN_MNIST_PIXELS];
    float probs[10];
    dn_preprocess_info info;
} part;

/* Everything one reading works with; freed by reader_free. */
typedef struct reader {
    dn_ink ink, scratch; /* the picture's ink; one part's ink alone */
    uint32_t *labels;    /* component of each working pixel, 0 = none */
    int *group_of;       /* group of each component (label - 1), -1 = speck */
    group *groups;
    size_t components;
    dn_net *net;
    const dn_number_options *opt;
    /* The picture made into one digit (options.whole); its input is also the
     * input of a part holding all the ink that is not specks (step 6). */
    bool has_whole;
    float whole[DN_MNIST_PIXELS];
    dn_preprocess_info whole_info;
    bool plain_specks; /* specks are exactly what dn_ink_shape erases (no MAX_COMPONENTS cap) */
    size_t kept;       /* components that are not specks */
    double height; /* the digit height, working pixels */
    double wide;   /* width / height from which a piece pays for being wide */
    int parts;     /* parts of the picture (live groups read) */
} reader;

static void reader_free(reader *r)
{
    dn_ink_free(&r->ink);
    dn_ink_free(&r->scratch);
    free(r->labels);
    free(r->group_of);
    free(r->groups);
}

/* ---- 2 and 3. components, specks, the digit height ---- */

static int compare_double_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static int compare_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Labels the ink, makes one group per component that is not a speck. */
static dn_status find_components(reader *r, dn_number *number)
{
    const dn_ink *ink = &r->ink;
    size_t n = (size_t)ink->w * (size_t)ink->h;
    double *mass = NULL;
    r->labels = malloc(n * sizeof *r->labels);
    if (!r->labels)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory labelling ink", WHO);
    dn_status status = dn_ink_components(ink->p, ink->w, ink->h, r->labels, &r->components, &mass, WHO);
    if (status != DN_OK)
        return status;
    size_t count = r->components;
    r->group_of = malloc((count ? count : 1) * sizeof *r->group_of);
    r->groups = malloc((count ? count : 1) * sizeof *r->groups);
    double *sorted = malloc((count ? count : 1) * sizeof *sorted);
    if (!r->group_of || !r->groups || !sorted) {
        free(mass);
        free(sorted);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory for %zu ink components", WHO, count);
    }
    /* A component is kept when it has at least SPECK_FRACTION of the largest
     * mass and is heavier than the (MAX_COMPONENTS+1)-th heaviest: at most
     * MAX_COMPONENTS are kept (fewer when masses tie). */
    memcpy(sorted, mass, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_double_desc);
    double keep = count ? SPECK_FRACTION * sorted[0] : 0;
    r->plain_specks = true;
    if (count > MAX_COMPONENTS && sorted[MAX_COMPONENTS] >= keep) {
        keep = nextafter(sorted[MAX_COMPONENTS], HUGE_VAL);
        r->plain_specks = false;
    }
    for (size_t k = 0; k < count; k++) {
        bool kept = mass[k] >= keep && mass[k] > 0;
        r->group_of[k] = kept ? (int)k : -1;
        r->groups[k] = (group){{ink->w, ink->h, 0, 0}, mass[k], 1, kept};
        number->specks += !kept;
        r->kept += kept;
    }
    free(sorted);
    free(mass);
    for (int y = 0; y < ink->h; y++)
        for (int x = 0; x < ink->w; x++) {
            uint32_t label = r->labels[(size_t)y * (size_t)ink->w + (size_t)x];
            if (!label)
                continue;
            group *g = &r->groups[label - 1];
            g->b = box_union(g->b, (box){x, y, x + 1, y + 1});
        }
    return DN_OK;
}

/* The median height of the groups at least TALL_FRACTION as tall as the tallest. */
static double digit_height(const reader *r)
{
    int tallest = 0, heights[MAX_COMPONENTS], n = 0;
    for (size_t k = 0; k < r->components; k++)
        if (r->groups[k].alive && r->groups[k].b.y1 - r->groups[k].b.y0 > tallest)
            tallest = r->groups[k].b.y1 - r->groups[k].b.y0;
    for (size_t k = 0; k < r->components && n < MAX_COMPONENTS; k++) {
        int h = r->groups[k].b.y1 - r->groups[k].b.y0;
        if (r->groups[k].alive && h >= TALL_FRACTION * tallest)
            heights[n++] = h;
    }
    if (n == 0)
        return 1.0;
    qsort(heights, (size_t)n, sizeof *heights, compare_int);
    return n % 2 ? heights[n / 2] : 0.5 * (heights[n / 2 - 1] + heights[n / 2]);
}

/* The width / height from which a piece of group gi counts as wide:
 * WIDE_ASPECT, or WIDE_OF_MEDIAN times the median of the other parts' (of
 * at least half the digit height) when that is larger, up to WIDE_CAP: a
 * writer of wide digits writes them all wide, while digits that touch are
 * wide among narrower ones - and when most parts are touching pairs, their
 * median says nothing of one digit's width, hence the cap. */
static double wide_aspect(const reader *r, const int *live, int n, int gi)
{
    double aspects[DN_NUMBER_MAX_PARTS];
    int k = 0;
    for (int i = 0; i < n; i++) {
        const group *g = &r->groups[live[i]];
        int w = g->b.x1 - g->b.x0, h = g->b.y1 - g->b.y0;
        if (live[i] != gi && h >= MIN_SPLIT_HEIGHT * r->height)
            aspects[k++] = w / fmax(h, r->height);
    }
    if (k == 0)
        return WIDE_ASPECT;
    qsort(aspects, (size_t)k, sizeof *aspects, compare_double_desc);
    double median = k % 2 ? aspects[k / 2] : 0.5 * (aspects[k / 2 - 1] + aspects[k / 2]);
    return fmax(WIDE_ASPECT, fmin(WIDE_CAP, WIDE_OF_MEDIAN * median));
}

/* ---- 4. joining fragments ---- */

/* How well b would take fragment a: the share of the narrower width they
 * have in common, or 0 when they may not be joined. */
static double join_score(const reader *r, const group *a, const group *b)
{
    double H = r->height;
    int ha = a->b.y1 - a->b.y0, hb = b->b.y1 - b->b.y0;
    int wa = a->b.x1 - a->b.x0, wb = b->b.x1 - b->b.x0;
    if ((ha < hb ? ha : hb) >= FRAGMENT_HEIGHT * H)
        return 0;
    int overlap = (a->b.x1 < b->b.x1 ? a->b.x1 : b->b.x1) - (a->b.x0 > b->b.x0 ? a->b.x0 : b->b.x0);
    double share = (double)overlap / (wa < wb ? wa : wb);
    int gap = (a->b.y0 > b->b.y0 ? a->b.y0 : b->b.y0) - (a->b.y1 < b->b.y1 ? a->b.y1 : b->b.y1);
    box u = box_union(a->b, b->b);
    if (share < JOIN_OVERLAP || gap > JOIN_GAP * H || u.y1 - u.y0 > JOIN_HEIGHT * H)
        return 0;
    return share;
}

/* Joins the best-fitting pair until no pair may be joined. */
static void join_fragments(reader *r)
{
    size_t n = r->components;
    for (;;) {
        double best = 0;
        size_t bi = 0, bj = 0;
        for (size_t i = 0; i < n; i++) {
            if (!r->groups[i].alive)
                continue;
            for (size_t j = i + 1; j < n; j++) {
                if (!r->groups[j].alive)
                    continue;
                double s = join_score(r, &r->groups[i], &r->groups[j]);
                if (s > best) {
                    best = s;
                    bi = i;
                    bj = j;
                }
            }
        }
        if (best <= 0)
            return;
        group *a = &r->groups[bi], *b = &r->groups[bj];
        a->b = box_union(a->b, b->b);
        a->mass += b->mass;
        a->pieces += b->pieces;
        b->alive = false;
        for (size_t k = 0; k < n; k++)
            if (r->group_of[k] == (int)bj)
                r->group_of[k] = (int)bi;
    }
}

/* ---- 6. one part's input and reading ---- */

/* p's input and info: the ink of its group in its columns, alone, through
 * steps 5-7 of the preprocessing. A whole group is shaped on a plane the
 * size of the picture, so a picture of one component gives exactly
 * dn_preprocess_mnist's input; a piece cut from a group on a plane just
 * around the group (the same up to rounding, and its cost bounded by the
 * group's size rather than the picture's). */
static dn_status shape_part(reader *r, part *p)
{
    const group *g = &r->groups[p->group];
    /* All the ink but specks, uncut: exactly the whole picture's shaping,
     * which dn_ink_shape erases the same specks for. */
    if (r->has_whole && !p->cut && r->plain_specks && (size_t)g->pieces == r->kept) {
        memcpy(p->input, r->whole, sizeof p->input);
        p->info = r->whole_info;
        return DN_OK;
    }
    dn_ink s = r->scratch;
    int ox = 0, oy = 0;
    if (p->cut) { /* a plane around the piece's columns, not the whole picture */
        int x0 = g->b.x1, x1 = g->b.x0;
        for (int row = 0; row < g->b.y1 - g->b.y0; row++) {
            int from = p->left && p->left[row] > g->b.x0 ? p->left[row] : g->b.x0;
            int to = p->right && p->right[row] < g->b.x1 ? p->right[row] : g->b.x1;
            if (from < to) {
                x0 = from < x0 ? from : x0;
                x1 = to > x1 ? to : x1;
            }
        }
        if (x0 >= x1) /* no column: an empty piece */
            x0 = g->b.x0, x1 = g->b.x0 + 1;
        ox = x0 > 0 ? x0 - 1 : 0;
        oy = g->b.y0 > 0 ? g->b.y0 - 1 : 0;
        s.w = (x1 < r->ink.w ? x1 + 1 : x1) - ox;
        s.h = (g->b.y1 < r->ink.h ? g->b.y1 + 1 : g->b.y1) - oy;
        s.width = r->ink.width - ox * r->ink.factor;
        s.height = r->ink.height - oy * r->ink.factor;
    }
    /* A cut piece is shaped on a coarser grid when its plane is large: the
     * trial reads up to 80 pieces, and MNIST's 20-pixel box needs no more
     * than PIECE_SIDE pixels of source. A part read whole keeps the full
     * grid (and so exactly dn_preprocess_mnist's input). */
    int longer = s.w > s.h ? s.w : s.h, k = p->cut ? (longer + PIECE_SIDE - 1) / PIECE_SIDE : 1;
    if (k > 1) {
        s.w = (s.w + k - 1) / k;
        s.h = (s.h + k - 1) / k;
        s.factor = r->ink.factor * k;
    }
    memset(s.p, 0, (size_t)s.w * (size_t)s.h * sizeof *s.p);
    float share = 1.0f / (float)(k * k);
    for (int y = g->b.y0; y < g->b.y1; y++) {
        int row = y - g->b.y0;
        int x0 = p->left && p->left[row] > g->b.x0 ? p->left[row] : g->b.x0;
        int x1 = p->right && p->right[row] < g->b.x1 ? p->right[row] : g->b.x1;
        float *out = s.p + (size_t)((y - oy) / k) * (size_t)s.w;
        for (int x = x0; x < x1; x++) {
            size_t i = (size_t)y * (size_t)r->ink.w + (size_t)x;
            uint32_t label = r->labels[i];
            if (!label || r->group_of[label - 1] != p->group)
                continue;
            if (k == 1)
                out[x - ox] = r->ink.p[i];
            else
                out[(x - ox) / k] += share * r->ink.p[i];
        }
    }
    dn_status status = dn_ink_shape(&s, p->input, &p->info);
    if (p->info.has_ink) {
        p->info.box_x += ox * r->ink.factor;
        p->info.box_y += oy * r->ink.factor;
    }
    return status;
}

/* Shapes and classifies parts[0..n) in one batch. */
static dn_status read_parts(reader *r, part *parts, int n)
{
    if (n == 0)
        return DN_OK;
    float *x = calloc((size_t)n * DN_MNIST_PIXELS, sizeof *x), *probs = malloc((size_t)n * 10 * sizeof *probs);
    dn_status status = x && probs ? DN_OK : dn_fail(DN_ERR_NOMEM, "%s: out of memory for %d inputs", WHO, n);
    for (int i = 0; i < n && status == DN_OK; i++) {
        status = shape_part(r, &parts[i]);
        if (status != DN_OK)
            break;
        memcpy(x + (size_t)i * DN_MNIST_PIXELS, parts[i].input, sizeof parts[i].input);
        dn_normalize(x + (size_t)i * DN_MNIST_PIXELS, DN_MNIST_PIXELS, r->opt->input_mean, r->opt->input_std);
    }
    if (status == DN_OK)
        status = dn_net_predict(r->net, x, n, probs, (size_t)n * 10);
    for (int i = 0; i < n && status == DN_OK; i++)
        memcpy(parts[i].probs, probs + (size_t)i * 10, sizeof parts[i].probs);
    free(x);
    free(probs);
    return status;
}

/* ---- 5. cutting touching digits ---- */

/* The score of reading p as one digit: its log-probability, less the cost of
 * being much wider than tall (than the digit height, when that is larger:
 * a short wide digit among taller ones is not two digits; a part read whole
 * is allowed up to WHOLE_WIDE, the prior against cutting one wide digit
 * whose halves the net reads as digits), less UNSURE_COST
 * when the net is less sure of it than options.min_confidence (the model's
 * "not a digit" threshold, for its callers): half a digit or two digits
 * together are what the net learnt to refuse. Pieces without ink score
 * -inf; every score is at most 0. */
static double piece_score(const reader *r, const part *p)
{
    if (!p->info.has_ink)
        return -HUGE_VAL;
    double best = p->probs[dn_argmax(p->probs, 10)];
    double aspect = p->info.box_w / fmax(p->info.box_h, r->height * r->ink.factor);
    double wide = fmax(0.0, aspect - (p->cut ? r->wide : fmax(r->wide, WHOLE_WIDE)));
    double unsure = best < r->opt->min_confidence ? UNSURE_COST : 0.0;
    return log(fmax(best, 1e-30)) - WIDE_COST * wide * wide - unsure;
}

/* Two round digits side by side (00, 69) touch where both are thickest:
 * the least ink crosses their middles, not between them. What shows the
 * join is the outline: its top dips and its bottom rises there. top and
 * bottom hold the outline of each sheared column u (index u - lo; INT_MAX
 * and INT_MIN where there is no ink); the dip of a column is measured
 * against the highest outline within VALLEY_REACH of the part's height h on
 * either side (the lower of the two), the rise likewise. Returns the column
 * between first + margin and last + 1 - margin, at least spacing from the
 * n cuts taken, where both are there and add up most, if to more than
 * VALLEY_DEPTH of h; else INT_MIN. */
static int valley_cut(const int *top, const int *bottom, int lo, int first, int last, int margin, int h,
                      const int *cuts, int n, int spacing)
{
    int reach = (int)ceil(VALLEY_REACH * h), best = INT_MIN;
    double best_depth = VALLEY_DEPTH * h;
    for (int u = first + margin; u <= last + 1 - margin; u++) {
        if (top[u - lo] == INT_MAX)
            continue;
        int top_l = INT_MAX, top_r = INT_MAX, bot_l = INT_MIN, bot_r = INT_MIN;
        for (int v = u - reach; v <= u + reach; v++) {
            if (v < first || v > last || v == u || top[v - lo] == INT_MAX)
                continue;
            int *t = v < u ? &top_l : &top_r, *b = v < u ? &bot_l : &bot_r;
            *t = top[v - lo] < *t ? top[v - lo] : *t;
            *b = bottom[v - lo] > *b ? bottom[v - lo] : *b;
        }
        if (top_l == INT_MAX || top_r == INT_MAX)
            continue;
        double dip = top[u - lo] - fmax(top_l, top_r), rise = fmin(bot_l, bot_r) - bottom[u - lo];
        bool near = false;
        for (int k = 0; k < n && !near; k++)
            near = abs(cuts[k] - u) < spacing;
        if (!near && dip > 0 && rise > 0 && dip + rise > best_depth) {
            best_depth = dip + rise;
            best = u;
        }
    }
    return best;
}

/* Candidate cuts of group gi along lines slanted by shear: sheared columns
 * u = floor(x + shear * (y - yc)). Up to LIGHT_CUTS columns where the ink's
 * projection on u is least, and the valley_cut, go to cuts, sorted; a cut at u crosses column u
 * and leaves columns < u on its left. Returns their number, -1 out of memory. */
static int find_cuts(const reader *r, int gi, double shear, double yc, int *cuts)
{
    const group *g = &r->groups[gi];
    int h = g->b.y1 - g->b.y0;
    int lo = (int)floor(fmin(g->b.x0 + shear * (g->b.y0 - yc), g->b.x0 + shear * (g->b.y1 - 1 - yc)));
    int hi = (int)floor(fmax(g->b.x1 - 1 + shear * (g->b.y0 - yc), g->b.x1 - 1 + shear * (g->b.y1 - 1 - yc)));
    int w = hi - lo + 1;
    double *profile = calloc((size_t)w, sizeof *profile);
    int *top = malloc(2 * (size_t)w * sizeof *top), *bottom = top ? top + w : NULL;
    if (!profile || !top) {
        free(profile);
        free(top);
        return -1;
    }
    for (int u = 0; u < w; u++) {
        top[u] = INT_MAX;
        bottom[u] = INT_MIN;
    }
    int first = hi, last = lo;
    for (int y = g->b.y0; y < g->b.y1; y++)
        for (int x = g->b.x0; x < g->b.x1; x++) {
            size_t i = (size_t)y * (size_t)r->ink.w + (size_t)x;
            if (!r->labels[i] || r->group_of[r->labels[i] - 1] != gi)
                continue;
            int u = (int)floor(x + shear * (y - yc));
            profile[u - lo] += r->ink.p[i];
            top[u - lo] = y < top[u - lo] ? y : top[u - lo];
            bottom[u - lo] = y > bottom[u - lo] ? y : bottom[u - lo];
            first = u < first ? u : first;
            last = u > last ? u : last;
        }
    int margin = (int)ceil(MIN_PIECE * h), spacing = (int)ceil(CUT_SPACING * h), n = 0;
    margin = margin < 1 ? 1 : margin;
    /* Greedily the lightest columns, each at least spacing from those taken. */
    while (n < LIGHT_CUTS) {
        int best = 0;
        double best_ink = HUGE_VAL;
        for (int u = first + margin; u <= last + 1 - margin; u++) {
            bool near = false;
            for (int k = 0; k < n && !near; k++)
                near = abs(cuts[k] - u) < spacing;
            if (!near && profile[u - lo] < best_ink) {
                best = u;
                best_ink = profile[u - lo];
            }
        }
        if (best_ink == HUGE_VAL)
            break;
        cuts[n++] = best;
    }
    int valley = valley_cut(top, bottom, lo, first, last, margin, h, cuts, n, spacing);
    if (valley != INT_MIN)
        cuts[n++] = valley;
    free(profile);
    free(top);
    for (int i = 1; i < n; i++) /* sort by column */
        for (int j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            int c = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = c;
        }
    return n;
}

/* The slants tried for cuts (x shift per pixel up): upright, and leaning
 * right as most handwriting does, or slightly left. */
static const double SHEARS[] = {0.0, 0.2, 0.4, -0.15};
enum { SHEAR_COUNT = sizeof SHEARS / sizeof SHEARS[0] };

/* The ink of group gi at working pixel (x, y), 0 outside it. */
static double group_ink(const reader *r, int gi, int x, int y)
{
    const group *g = &r->groups[gi];
    if (x < g->b.x0 || x >= g->b.x1)
        return 0.0;
    size_t i = (size_t)y * (size_t)r->ink.w + (size_t)x;
    return r->labels[i] && r->group_of[r->labels[i] - 1] == gi ? r->ink.p[i] : 0.0;
}

/* Turns the cut at sheared column u into a path through group gi: edge[row]
 * (row = y - y0 over the group's box) is the first column of the right-hand
 * side. The path starts as the line floor(x + shear * (y - yc)) = u and may
 * leave it by up to band pixels, one pixel per row at most, to cross the
 * least ink (each pixel sideways costing PATH_STEP): a least-ink path found
 * by dynamic programming over the rows. Returns the ink its pixels cross;
 * cost and from are scratch of h * (2 * band + 1). */
static double cut_path(const reader *r, int gi, double shear, double yc, int u, int band, int *edge, double *cost,
                       signed char *from)
{
    const group *g = &r->groups[gi];
    int h = g->b.y1 - g->b.y0, span = 2 * band + 1;
    for (int row = 0; row < h; row++)
        edge[row] = (int)ceil(u - shear * (g->b.y0 + row - yc));
    if (band == 0) {
        double ink = 0;
        for (int row = 0; row < h; row++)
            ink += group_ink(r, gi, edge[row], g->b.y0 + row);
        return ink;
    }
    /* cost[row * span + k]: the least cost of a path from the top row to
     * column edge[row] - band + k of row; from: the step taken into it. */
    for (int row = 0; row < h; row++) {
        int base = edge[row] - band, prev = row ? edge[row - 1] - band : 0;
        for (int k = 0; k < span; k++) {
            int x = base + k;
            double here = group_ink(r, gi, x, g->b.y0 + row), best = row ? HUGE_VAL : 0.0;
            signed char step = 0;
            for (int d = -1; row && d <= 1; d++) {
                int j = x + d - prev;
                if (j < 0 || j >= span)
                    continue;
                double c = cost[(size_t)(row - 1) * span + j] + PATH_STEP * abs(d);
                if (c < best) {
                    best = c;
                    step = (signed char)d;
                }
            }
            cost[(size_t)row * span + k] = best + here;
            from[(size_t)row * span + k] = step;
        }
    }
    int k = 0;
    for (int j = 1; j < span; j++)
        if (cost[(size_t)(h - 1) * span + j] < cost[(size_t)(h - 1) * span + k])
            k = j;
    double ink = 0;
    for (int row = h - 1; row >= 0; row--) {
        int x = edge[row] - band + k;
        ink += group_ink(r, gi, x, g->b.y0 + row);
        if (row > 0)
            k = x + from[(size_t)row * span + k] - (edge[row - 1] - band);
        edge[row] = x;
    }
    return ink;
}

/* One way of cutting group gi: along paths near lines of the given shear,
 * at the best non-empty subset of its candidate cuts. The pieces go to
 * out[0..*count) (none when there is no way, or none can score above
 * to_beat; their left and right are NULL), *score gets the way's score. */
static dn_status cut_group(reader *r, int gi, double shear, double to_beat, part *out, int room, int *count,
                           double *score)
{
    const group *g = &r->groups[gi];
    int h = g->b.y1 - g->b.y0;
    double yc = 0.5 * (g->b.y0 + g->b.y1 - 1);
    int cuts[MAX_CUTS];
    double ink[MAX_CUTS];
    *count = 0;
    *score = -HUGE_VAL;
    int nc = find_cuts(r, gi, shear, yc, cuts);
    if (nc < 0)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory cutting a part", WHO);
    if (nc == 0)
        return DN_OK;
    int band = (int)lround(PATH_BAND * h), span = 2 * band + 1;
    int *edges = malloc((size_t)nc * (size_t)h * sizeof *edges);
    double *cost = malloc((size_t)h * (size_t)span * sizeof *cost);
    signed char *steps = malloc((size_t)h * (size_t)span);
    part *pieces = malloc(MAX_PIECES * sizeof *pieces);
    if (!edges || !cost || !steps || !pieces) {
        free(edges);
        free(cost);
        free(steps);
        free(pieces);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory cutting a part", WHO);
    }
    /* The paths, left to right (cuts are sorted), kept from crossing: each
     * at least as far right as the one before it in every row. */
    for (int k = 0; k < nc; k++) {
        int *e = edges + (size_t)k * h;
        ink[k] = cut_path(r, gi, shear, yc, cuts[k], band, e, cost, steps) / h;
        for (int row = 0; k > 0 && row < h; row++)
            e[row] = e[row] > e[row - h] ? e[row] : e[row - h];
    }
    free(cost);
    free(steps);
    /* Pieces score at most 0, so a way scores at most minus the cost of its
     * cuts: a cut costing -to_beat or more is in no way that could win, and
     * is dropped before any piece is read. */
    int kept = 0;
    for (int k = 0; k < nc; k++) {
        if (-(CUT_COST + CUT_INK_COST * ink[k]) <= to_beat)
            continue;
        if (kept != k)
            memmove(edges + (size_t)kept * h, edges + (size_t)k * h, (size_t)h * sizeof *edges);
        ink[kept++] = ink[k];
    }
    nc = kept;
    if (nc == 0) {
        free(edges);
        free(pieces);
        return DN_OK;
    }
    /* Nodes: the left edge, the cuts, the right edge; piece (i, j) spans
     * nodes i..j. best[j]: the best score of reading nodes 0..j as pieces;
     * from[j] the node the last piece starts at. */
    const int *nodes[MAX_CUTS + 2];
    int nn = nc + 2;
    nodes[0] = NULL;
    for (int k = 0; k < nc; k++)
        nodes[k + 1] = edges + (size_t)k * h;
    nodes[nn - 1] = NULL;
    int index[MAX_CUTS + 2][MAX_CUTS + 2], np = 0;
    double best[MAX_CUTS + 2];
    int from[MAX_CUTS + 2];
    best[0] = 0;
    dn_status status = DN_OK;
    for (int j = 1; j < nn && status == DN_OK; j++) {
        /* Only pieces starting where a way can reach are read (a way needs
         * every piece a digit): an unsure digit, whose left pieces are all
         * refused, reads nc pieces instead of (nc + 1)(nc + 2) / 2 - 1. The
         * pieces ending at j are read in one batch. */
        int first = np;
        for (int i = 0; i < j; i++) {
            index[i][j] = -1;
            if (best[i] == -HUGE_VAL || (i == 0 && j == nn - 1))
                continue; /* unreachable, or the whole part, scored by the caller */
            pieces[np] = (part){.group = gi, .left = nodes[i], .right = nodes[j], .cut = true};
            index[i][j] = np++;
        }
        status = read_parts(r, pieces + first, np - first);
        best[j] = -HUGE_VAL;
        from[j] = -1;
        for (int i = 0; i < j && status == DN_OK; i++) {
            if (index[i][j] < 0)
                continue;
            const part *p = &pieces[index[i][j]];
            if (p->info.has_ink && p->info.box_h < MIN_PIECE_HEIGHT * h * r->ink.factor)
                continue;
            /* a cut must explain the part: every piece answered as a digit
             * (else a star would be cut into a "not a digit" and an 8) */
            if (p->probs[dn_argmax(p->probs, 10)] < r->opt->min_confidence)
                continue;
            double s = best[i] + piece_score(r, p) - (i > 0 ? CUT_COST + CUT_INK_COST * ink[i - 1] : 0.0);
            if (s > best[j]) {
                best[j] = s;
                from[j] = i;
            }
        }
    }
    free(edges);
    for (int k = 0; k < np; k++)
        pieces[k].left = pieces[k].right = NULL;
    if (status != DN_OK) {
        free(pieces);
        return status;
    }
    int chain[MAX_CUTS + 2], links = 0;
    for (int j = nn - 1; j > 0 && from[j] >= 0; j = from[j])
        chain[links++] = j;
    if (from[nn - 1] > 0 && links <= room) { /* from 0 would be the whole */
        *score = best[nn - 1];
        for (int k = links - 1, i = 0; k >= 0; k--) {
            int j = chain[k];
            out[(*count)++] = pieces[index[i][j]];
            i = j;
        }
    }
    free(pieces);
    return DN_OK;
}

/* ---- 5b. a 1 touching its neighbour ---- */

/* A 1 touching the digit beside it makes a part hardly wider than one
 * digit, which the net reads surely as the other digit (16 as 6, 18 as 8):
 * no cut of the trial above pays for itself. What gives it away is its
 * shape: a thin, nearly straight stroke as tall as the part at one end of
 * it, beside ink as tall as a digit. */

/* The 1 at one end of group gi between the bounds lo and hi (as part's left
 * and right; NULL: the group's box), from the first run of ink from that
 * end in each row (runs: scratch of 3h ints). The run's outer end (its
 * first pixel from that end, whether or not the row touches the
 * neighbour) must lie along a line, fitted three times, each time to the
 * rows within two pens of the last fit: the longest stretch of rows within
 * a pen of it spans at least ONE_SPAN of the part's height (or the digit
 * height, if smaller), at most ONE_STRAIGHT of the height from it (root
 * mean square), slope at most ONE_SLANT, pen (the median run) at most
 * ONE_PEN of the height; and one end of the stroke is free (no ink within
 * a pen of the line beyond the stretch). The cut goes along the stroke:
 * edge[row] the first column of the far side, the run's own end where the
 * 1 stands alone (a run of at most ONE_RUN pens), the line half a pen
 * beyond the stroke's centre where it touches. Returns whether such a
 * stroke is there. */
static bool find_one(const reader *r, int gi, const int *lo, const int *hi, bool from_left, int *edge, int *runs)
{
    const group *g = &r->groups[gi];
    int h = g->b.y1 - g->b.y0, n = 0;
    int *start = runs, *end = runs + h, *len = runs + 2 * h;
    for (int row = 0; row < h; row++) {
        int y = g->b.y0 + row;
        int x0 = lo && lo[row] > g->b.x0 ? lo[row] : g->b.x0, x1 = hi && hi[row] < g->b.x1 ? hi[row] : g->b.x1;
        start[row] = end[row] = -1;
        if (from_left) {
            int x = x0;
            while (x < x1 && group_ink(r, gi, x, y) <= 0)
                x++;
            if (x == x1)
                continue;
            start[row] = x;
            while (x < x1 && group_ink(r, gi, x, y) > 0)
                x++;
            end[row] = x;
        } else {
            int x = x1 - 1;
            while (x >= x0 && group_ink(r, gi, x, y) <= 0)
                x--;
            if (x < x0)
                continue;
            end[row] = x + 1;
            while (x >= x0 && group_ink(r, gi, x, y) > 0)
                x--;
            start[row] = x + 1;
        }
        len[n++] = end[row] - start[row];
    }
    double tall = ONE_SPAN * fmin(h, r->height);
    if (n < tall)
        return false;
    qsort(len, (size_t)n, sizeof *len, compare_int);
    double pen = len[n / 2];
    if (pen > ONE_PEN * h)
        return false;
    /* the line x = a + b * row along the stroke's outer edge (the first ink
     * from that end, whether or not the row touches the neighbour), fitted
     * to the rows within 2 pens of the previous fit */
    double a = 0, b = 0, limit = HUGE_VAL, rms = 0;
    int first = h, last = -1, m = 0;
    for (int pass = 0; pass < 3; pass++) {
        double sy = 0, sx = 0, syy = 0, sxy = 0;
        m = 0;
        for (int row = 0; row < h; row++) {
            if (start[row] < 0)
                continue;
            double x = from_left ? start[row] : end[row];
            if (fabs(x - (a + b * row)) > limit)
                continue;
            sy += row;
            sx += x;
            syy += (double)row * row;
            sxy += row * x;
            m++;
        }
        if (m < tall)
            return false;
        double var = syy - sy * sy / m;
        b = var > 0 ? (sxy - sx * sy / m) / var : 0;
        a = (sx - b * sy) / m;
        limit = 2 * pen;
    }
    /* the stroke: the longest run of rows within a pen of the line */
    double rss = 0;
    for (int row = 0, run0 = 0; row <= h; row++) {
        bool on = row < h && start[row] >= 0 && fabs((from_left ? start[row] : end[row]) - (a + b * row)) <= pen;
        if (!on) {
            if (row - run0 > last - first + 1) {
                first = run0;
                last = row - 1;
            }
            run0 = row + 1;
        }
    }
    if (last - first + 1 < tall || fabs(b) > ONE_SLANT)
        return false;
    for (int row = first; row <= last; row++) {
        double d = (from_left ? start[row] : end[row]) - (a + b * row);
        rss += d * d;
    }
    rms = sqrt(rss / (last - first + 1));
    if (rms > ONE_STRAIGHT * h)
        return false;
    if (from_left)
        a += 0.5 * pen;
    else
        a -= 0.5 * pen;
    /* a free end: beyond the lone runs at the top or at the bottom, no ink
     * within a pen of the line (the sides of a narrow 0 are straight too,
     * but its ink goes on round at both ends) */
    bool free_top = true, free_bottom = true;
    for (int row = 0; row < h && (free_top || free_bottom); row++) {
        if (row >= first && row <= last)
            continue;
        double line = a + b * row;
        bool ink = false;
        for (int x = (int)floor(line - pen); x <= (int)ceil(line + pen) && !ink; x++)
            ink = (!lo || x >= lo[row]) && (!hi || x < hi[row]) && group_ink(r, gi, x, g->b.y0 + row) > 0;
        if (ink && row < first)
            free_top = false;
        if (ink && row > last)
            free_bottom = false;
    }
    if (!free_top && !free_bottom)
        return false;
    for (int row = 0; row < h; row++) {
        bool alone = row >= first && row <= last && end[row] - start[row] <= ONE_RUN * pen;
        double line = a + b * row;
        if (from_left)
            edge[row] = alone ? end[row] : (int)ceil(line + 0.5 * pen);
        else
            edge[row] = alone ? start[row] : (int)floor(line - 0.5 * pen) + 1;
    }
    return true;
}

/* Peels 1s off the ends of group gi, read whole as out[0]: from the left,
 * then from the right, while find_one sees a stroke there, the net reads
 * it as 1 at least ONE_SURE surely (and at least min_confidence) and the
 * rest as a digit at least min_confidence surely, its ink at least
 * ONE_REST of the part's height tall, and the same digit as the ink it was
 * cut from, and not 1: the net reads a 1 touching a 6 as 6, and the 6
 * alone as 6; the straight side of a narrow 0 comes off leaving a 1 or a
 * 6. The ink it was cut from must have been read at least min_confidence
 * surely too, or else the rest at least ONE_UNSURE_REST surely: a 1
 * crossing a 4 leaves the net unsure of the pair, leaning to 4, and the 4
 * alone sure; a letter the net is unsure of (an H, a U, a star's side)
 * would otherwise lose a straight side as a 1 and leave a digit read
 * surely enough for the threshold (docs/results.md). The pieces go to
 * out[0..*count), left to right, at most room; out is unchanged when no 1
 * comes off. */
static dn_status peel_ones(reader *r, int gi, part *out, int room, int *count)
{
    const group *g = &r->groups[gi];
    int h = g->b.y1 - g->b.y0;
    int *edges = malloc((size_t)(2 * ONE_MAX + 3) * (size_t)h * sizeof *edges);
    if (!edges)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory looking for a 1", WHO);
    int *runs = edges + (size_t)2 * ONE_MAX * h;
    part left[ONE_MAX], right[ONE_MAX], rest = out[0], pair[2];
    int nl = 0, nr = 0, used = 0;
    const int *lo = NULL, *hi = NULL;
    double thr = r->opt->min_confidence, need = fmax(ONE_SURE, thr);
    dn_status status = DN_OK;
    for (int side = 0; side < 2 && status == DN_OK; side++)
        while (status == DN_OK && (side ? nr : nl) < ONE_MAX && nl + nr + 2 <= room) {
            int *edge = edges + (size_t)used * h;
            if (!find_one(r, gi, lo, hi, side == 0, edge, runs))
                break;
            if (side == 0) {
                pair[0] = (part){.group = gi, .left = lo, .right = edge, .cut = true};
                pair[1] = (part){.group = gi, .left = edge, .right = hi, .cut = true};
            } else {
                pair[0] = (part){.group = gi, .left = edge, .right = hi, .cut = true};
                pair[1] = (part){.group = gi, .left = lo, .right = edge, .cut = true};
            }
            status = read_parts(r, pair, 2);
            if (status != DN_OK)
                break;
            const part *one = &pair[0], *other = &pair[1];
            int d = dn_argmax(other->probs, 10);
            int was = dn_argmax(rest.probs, 10);
            if (!one->info.has_ink || !other->info.has_ink || dn_argmax(one->probs, 10) != 1 ||
                one->probs[1] < need || other->probs[d] < thr || other->info.box_h < ONE_REST * h * r->ink.factor ||
                (rest.probs[was] < thr && other->probs[d] < fmax(ONE_UNSURE_REST, thr)) || d != was || was == 1)
                break;
            used++;
            rest = *other;
            if (side == 0) {
                left[nl++] = *one;
                lo = edge;
            } else {
                right[nr++] = *one;
                hi = edge;
            }
        }
    if (status == DN_OK && nl + nr > 0) {
        *count = 0;
        for (int k = 0; k < nl; k++)
            out[(*count)++] = left[k];
        out[(*count)++] = rest;
        for (int k = nr - 1; k >= 0; k--)
            out[(*count)++] = right[k];
        for (int k = 0; k < *count; k++)
            out[k].left = out[k].right = NULL;
    }
    free(edges);
    return status;
}

/* The best way to read group gi: whole (already read in *whole) or cut
 * along one of the SHEARS. The pieces go to out[0..*count), at most room. */
static dn_status split_group(reader *r, int gi, const part *whole, part *out, int room, int *count)
{
    const group *g = &r->groups[gi];
    out[0] = *whole;
    *count = 1;
    int w = g->b.x1 - g->b.x0, h = g->b.y1 - g->b.y0;
    if (r->opt->no_split || h < MIN_SPLIT_HEIGHT * r->height || room < 2)
        return DN_OK;
    /* The only part of the picture, read very surely and not much wider
     * than tall: a single digit as drawn in the demo, most often a wide 0,
     * 2 or 4 paying for its width above. Cutting it would cost up to 80
     * readings and mostly cuts a digit in two (MNIST test digits, 280x280:
     * 5 of 1000 read as two digits, 3 when not tried; reading numbers of
     * 2-5 digits on the tuning seeds: not one answer changed). */
    if (r->parts == 1 && w <= SURE_ASPECT * h &&
        whole->probs[dn_argmax(whole->probs, 10)] >= fmax(SURE_ALONE, r->opt->min_confidence))
        return DN_OK;
    /* Every way of cutting scores at most -CUT_COST (pieces score <= 0, each
     * cut costs more): a whole that scores as well needs no trial. */
    double best = piece_score(r, whole);
    bool sure = whole->probs[dn_argmax(whole->probs, 10)] >= r->opt->min_confidence;
    if (w < (sure ? SPLIT_ASPECT : UNSURE_SPLIT_ASPECT) * h || best >= -CUT_COST)
        return peel_ones(r, gi, out, room, count);
    part *trial = malloc((MAX_CUTS + 1) * sizeof *trial);
    if (!trial)
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory cutting a part", WHO);
    dn_status status = DN_OK;
    for (int k = 0; k < SHEAR_COUNT && status == DN_OK; k++) {
        int got = 0;
        double score;
        status = cut_group(r, gi, SHEARS[k], best, trial, room, &got, &score);
        if (status == DN_OK && got > 1 && score > best) {
            best = score;
            memcpy(out, trial, (size_t)got * sizeof *trial);
            *count = got;
        }
    }
    free(trial);
    if (status == DN_OK && *count == 1)
        status = peel_ones(r, gi, out, room, count);
    return status;
}

/* ---- 7. digit or not: the one place a part is judged ---- */

/* Whether p is a digit, from its size against the digit height H (input
 * pixels) and the net's confidence. A general "not a digit" score belongs
 * here too. */
static dn_part_kind judge_part(const part *p, double H, const dn_number_options *opt)
{
    int w = p->info.box_w, h = p->info.box_h;
    if (h < FLAT_HEIGHT * H && w > h)
        return DN_PART_FLAT;
    if (h < SMALL_SIZE * H && w < SMALL_SIZE * H)
        return DN_PART_SMALL;
    if (p->probs[dn_argmax(p->probs, 10)] < opt->min_confidence)
        return DN_PART_UNSURE;
    return DN_PART_DIGIT;
}

/* The second look at parts judged DN_PART_UNSURE (kinds[k] for
 * chosen[order[k]]) beside parts judged digits: min_confidence is the
 * threshold for a drawing alone, where a person may well have drawn
 * something else; a part as tall as the confident digits of the same number
 * (within IN_NUMBER_HEIGHT of their median height), no wider than
 * IN_NUMBER_ASPECT of its height, is far more likely a digit, so it is one
 * when the net's best probability is at least IN_NUMBER_CONFIDENCE (a
 * majority of the probability; under that the net has no clear reading).
 * A part alone, or among parts none of which is a sure digit, is judged
 * as before. */
static void judge_in_number(const part *chosen, const int *order, int n, dn_part_kind *kinds,
                            const dn_number_options *opt)
{
    double heights[DN_NUMBER_MAX_PARTS];
    int sure = 0;
    for (int k = 0; k < n; k++)
        if (kinds[k] == DN_PART_DIGIT)
            heights[sure++] = chosen[order[k]].info.box_h;
    if (sure == 0 || opt->min_confidence <= IN_NUMBER_CONFIDENCE)
        return;
    qsort(heights, (size_t)sure, sizeof *heights, compare_double_desc);
    double median = sure % 2 ? heights[sure / 2] : 0.5 * (heights[sure / 2 - 1] + heights[sure / 2]);
    for (int k = 0; k < n; k++) {
        const part *p = &chosen[order[k]];
        double h = p->info.box_h;
        if (kinds[k] == DN_PART_UNSURE && h >= IN_NUMBER_HEIGHT * median && h * IN_NUMBER_HEIGHT <= median &&
            p->info.box_w <= IN_NUMBER_ASPECT * h && p->probs[dn_argmax(p->probs, 10)] >= IN_NUMBER_CONFIDENCE)
            kinds[k] = DN_PART_DIGIT;
    }
}

/* ---- the whole reading ---- */

/* The centre of p's box, doubled (an integer). */
static long centre2(const part *p) { return 2L * p->info.box_x + p->info.box_w; }

/* Fills number from the chosen parts: the ones with ink, left to right by
 * the centre of their box, each judged. */
static void report(const reader *r, const part *chosen, int count, dn_number *number)
{
    int order[DN_NUMBER_MAX_PARTS], n = 0;
    for (int i = 0; i < count; i++) {
        if (!chosen[i].info.has_ink)
            continue;
        int j = n++;
        for (; j > 0 && centre2(&chosen[order[j - 1]]) > centre2(&chosen[i]); j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    double H = r->height * r->ink.factor;
    dn_part_kind kinds[DN_NUMBER_MAX_PARTS];
    for (int k = 0; k < n; k++)
        kinds[k] = judge_part(&chosen[order[k]], H, r->opt);
    judge_in_number(chosen, order, n, kinds, r->opt);
    for (int k = 0; k < n; k++) {
        const part *p = &chosen[order[k]];
        dn_number_part *q = &number->parts[number->count++];
        q->kind = kinds[k];
        q->digit = dn_argmax(p->probs, 10);
        memcpy(q->probs, p->probs, sizeof q->probs);
        q->x = p->info.box_x;
        q->y = p->info.box_y;
        q->w = p->info.box_w;
        q->h = p->info.box_h;
        q->pieces = r->groups[p->group].pieces;
        q->cut = p->cut;
        if (r->opt->inputs && k < r->opt->inputs_capacity)
            memcpy(r->opt->inputs + (size_t)k * DN_MNIST_PIXELS, p->input, sizeof p->input);
        if (q->kind == DN_PART_DIGIT)
            number->text[number->digits++] = (char)('0' + q->digit);
    }
    number->text[number->digits] = '\0';
}

/* Indices of the live groups, heaviest first, in *live; their number. */
static int live_groups(const reader *r, int *live)
{
    int n = 0;
    for (size_t k = 0; k < r->components; k++)
        if (r->groups[k].alive)
            live[n++] = (int)k;
    for (int i = 1; i < n; i++) /* insertion sort: heaviest first, then by index */
        for (int j = i; j > 0 && r->groups[live[j - 1]].mass < r->groups[live[j]].mass; j--) {
            int t = live[j];
            live[j] = live[j - 1];
            live[j - 1] = t;
        }
    return n;
}

static dn_status read_number(reader *r, dn_number *number)
{
    dn_status status = find_components(r, number);
    if (status != DN_OK)
        return status;
    r->height = digit_height(r);
    join_fragments(r);
    status = dn_ink_blank(&r->scratch, &r->ink);
    if (status != DN_OK)
        return status;

    int live[MAX_COMPONENTS], n = live_groups(r, live);
    if (n > DN_NUMBER_MAX_PARTS) {
        number->truncated = true;
        n = DN_NUMBER_MAX_PARTS;
    }
    if (n == 0)
        return DN_OK;
    part *wholes = malloc((size_t)n * sizeof *wholes), *chosen = malloc(DN_NUMBER_MAX_PARTS * sizeof *chosen);
    if (!wholes || !chosen) {
        free(wholes);
        free(chosen);
        return dn_fail(DN_ERR_NOMEM, "%s: out of memory for %d parts", WHO, n);
    }
    r->parts = n;
    for (int i = 0; i < n; i++)
        wholes[i] = (part){.group = live[i]};
    status = read_parts(r, wholes, n);
    int count = 0;
    for (int i = 0; i < n && status == DN_OK; i++) {
        int got = 0, room = DN_NUMBER_MAX_PARTS - count - (n - 1 - i);
        r->wide = wide_aspect(r, live, n, live[i]);
        status = split_group(r, live[i], &wholes[i], chosen + count, room, &got);
        count += got;
    }
    if (status == DN_OK)
        report(r, chosen, count, number);
    free(wholes);
    free(chosen);
    return status;
}

/* r->whole from a copy of the ink (dn_ink_mnist erases its specks). */
static dn_status shape_whole(reader *r)
{
    dn_ink copy = r->ink;
    size_t bytes = (size_t)r->ink.w * (size_t)r->ink.h * sizeof *copy.p;
    copy.p = dn_alloc(bytes);
    if (!copy.p)
        return dn_fail(DN_ERR_NOMEM, "%s: cannot allocate a %d x %d ink plane", WHO, r->ink.w, r->ink.h);
    memcpy(copy.p, r->ink.p, bytes);
    dn_status status = dn_ink_mnist(&copy, r->whole, &r->whole_info);
    dn_ink_free(&copy);
    r->has_whole = status == DN_OK;
    return status;
}

dn_status dn_read_number(dn_number *number, const dn_image *img, dn_net *net, const dn_number_options *options)
{
    if (!number)
        return dn_fail(DN_ERR_ARG, "%s: number is NULL", WHO);
    memset(number, 0, sizeof *number);
    if (!img || !net)
        return dn_fail(DN_ERR_ARG, "%s: %s is NULL", WHO, !img ? "img" : "net");
    int shape[3];
    dn_net_input_shape(net, shape);
    if (shape[0] != 1 || shape[1] != DN_MNIST_SIDE || shape[2] != DN_MNIST_SIDE || dn_net_num_classes(net) != 10)
        return dn_fail(DN_ERR_SHAPE, "%s: the net takes %dx%dx%d inputs and %d classes, not 1x28x28 and 10", WHO,
                       shape[0], shape[1], shape[2], dn_net_num_classes(net));
    dn_number_options defaults = dn_number_options_default();
    const dn_number_options *opt = options ? options : &defaults;
    if (!(opt->input_std > 0.0f) || !isfinite(opt->input_std) || !isfinite(opt->input_mean))
        return dn_fail(DN_ERR_ARG, "%s: input_std must be positive and finite", WHO);
    if (opt->inputs_capacity < 0 || (opt->inputs_capacity > 0 && !opt->inputs))
        return dn_fail(DN_ERR_ARG, "%s: inputs_capacity %d without inputs", WHO, opt->inputs_capacity);
    reader r = {.net = net, .opt = opt};
    dn_status status = dn_ink_extract(&r.ink, img, WHO);
    if (status == DN_OK && opt->whole)
        status = shape_whole(&r);
    if (status == DN_OK) {
        number->inverted = r.ink.inverted;
        if (r.ink.has_ink)
            status = read_number(&r, number);
    }
    if (status == DN_OK && opt->whole) {
        memcpy(opt->whole, r.whole, sizeof r.whole);
        if (opt->whole_info)
            *opt->whole_info = r.whole_info;
    }
    reader_free(&r);
    if (status != DN_OK)
        memset(number, 0, sizeof *number);
    return status;
}

dn_number_options dn_number_options_default(void)
{
    return (dn_number_options){.input_mean = DN_MNIST_MEAN, .input_std = DN_MNIST_STD};
}

const char *dn_part_kind_name(dn_part_kind kind)
{
    switch (kind) {
    case DN_PART_DIGIT:
        return "digit";
    case DN_PART_SMALL:
        return "small";
    case DN_PART_FLAT:
        return "flat";
    case DN_PART_UNSURE:
        return "unsure";
    }
    return "unknown";
}
