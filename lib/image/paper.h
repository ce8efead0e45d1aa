/* paper.h - ink from photos of paper (step 2b of dn_preprocess_mnist in
 * digitnet/image.h): the paper's brightness under uneven light, ink relative
 * to it, and ruled or squared lines taken out. Internal, never installed. */
#ifndef DN_IMAGE_PAPER_H
#define DN_IMAGE_PAPER_H

#include <stdbool.h>
#include <stddef.h>

#include "digitnet/status.h"

/* What dn_paper_ink found. */
typedef struct dn_paper_result {
    bool has_ink, inverted; /* as in dn_ink */
    float sigma;            /* noise, in units of the normalised ink */
    float level;            /* the ink level (step 4) on the normalised image */
    int lines;              /* ruled or squared lines taken out */
    int sheet_sides;        /* sides of a sheet found with a desk beyond them (dn_paper_find_sheet) */
} dn_paper_result;

/* A sheet of paper with a desk around it, as dn_paper_find_sheet found it:
 * the sheet is where c0 + cx x + cy y >= 0 for each edge[i] = {c0, cx, cy},
 * i < sides, x and y on pixel edges (pixel (i, j) covers [i, i + 1) x
 * [j, j + 1)); the frame bounds it on the other sides. sides is 0 when no
 * sheet was found (the whole picture is the sheet). */
typedef struct dn_sheet {
    int sides;
    double edge[4][3];
} dn_sheet;

/* The paper's brightness at every pixel of p (w x h, values in [0,1]), into
 * bg (w x h; may be p itself): the median of each block of a grid of about
 * `blocks` blocks on the longer side (each at least 8 pixels), the grid
 * smoothed by a 3x3 median (edges replicated) and interpolated bilinearly
 * between block centres (extrapolated linearly beyond the outer ones). With
 * ink (w x h, or NULL) the pixels where ink[i] > 0 are left out of their
 * block's median; a block with less than a quarter of its pixels left takes
 * the mean of its neighbours that have enough. Ink as dark or as light as
 * the paper, covering less than half of a block, does not move the
 * estimate. */
dn_status dn_paper_background(const float *p, int w, int h, const float *ink, int blocks, float *bg,
                              const char *who);

/* The paper's brightness under ink as wide as a tenth of the longer side,
 * into env (w x h; not p): the median of each block of a grid of 128 blocks
 * on the longer side (each at least 2 pixels), then a grey-scale opening of
 * that grid on the ink's side (dark_ink: a closing of the brightness) by a
 * square reaching 5% of the longer side each way, interpolated bilinearly
 * between block centres as dn_paper_background. Unlike a block median it
 * is not taken in by a block full of ink; it follows the light only where
 * it changes more slowly than over the square, so it serves to find the
 * ink, not to measure it. */
dn_status dn_paper_envelope(const float *p, int w, int h, bool dark_ink, float *env, const char *who);

/* Takes ruled and squared lines out of an ink plane q (w x h, ink in [0,1],
 * 0 = none): straight lines within 10 degrees of horizontal (then of
 * vertical) that run thin (at most max(4, 1.5% of the shorter side) pixels
 * across) through at least 60% of the picture, when there are at least two
 * of them in that direction, and then the lines within 1 degree of one of
 * them that the frame cuts short (inside the picture over 10-50% of its
 * length, 60% of that inked). Along each line, every run of ink across it
 * no thicker than the line (plus 2 pixels) and no stronger than the line's
 * own ink (plus 0.25) is erased; thicker or stronger runs - a stroke
 * crossing or following the line - are kept. *lines gets the count. With
 * a sheet (or NULL), lengths are those inside the sheet, not the frame. */
dn_status dn_paper_remove_lines(float *q, int w, int h, const dn_sheet *sheet, int *lines, const char *who);

/* The sheet of paper in a photo that shows the desk around it, in p (w x h,
 * values in [0,1]): each side of the frame is looked at for a straight edge
 * within 15 degrees of it whose middle lies in the outer 40% of the frame,
 * a sharp step up from a darker desk to the sheet (a step of at least
 * max(0.02, 5 noise deviations) between 3-pixel windows either side that
 * holds between windows 3-9 pixels away: not a thin line, not a soft
 * shadow) along at least half of its length in the frame, with desk beyond
 * it (70% of the pixels between the frame and the edge nearer the level
 * just outside the edge than the level just inside). Each side found is
 * moved in by a margin (0.5% of the longer side, at least 4 pixels: the
 * edge's blur). *sheet gets the sides, or none when none is found or the
 * sheet would cover less than a quarter of the frame; outside (w x h)
 * gets 1 beyond the sides, else 0. */
dn_status dn_paper_find_sheet(const float *p, int w, int h, dn_sheet *sheet, float *outside, const char *who);

/* The ink plane of a photo of paper, in place: p (w x h, values in [0,1])
 * becomes ink in [0,1] as steps 2-4 make it for a flat picture, but against
 * the paper of dn_paper_background: first on a coarse grid (16 blocks) with
 * every pixel, then on a finer one (32) without the pixels that the first
 * pass, or dn_paper_envelope, found far from it on the ink's side (and
 * their neighbours). The
 * polarity is step 3's on the first pass's deviation. The deviation is then
 * divided by how far the paper could go towards the ink (its brightness for
 * dark ink, 1 minus it for light ink), so ink in shadow is as strong as ink
 * in full light; the levels of step 4 follow, with the floor raised to four
 * local noise deviations where the noise is larger than over the whole
 * picture (1.4826 times the median |deviation| of the paper, on the fine
 * grid); then the lines of dn_paper_remove_lines. When dn_paper_find_sheet
 * finds a sheet with a desk around it, what lies outside the sheet is
 * neither paper nor ink: left out of every estimate (filled with the first
 * pass's paper for the envelope) and 0 in the ink. */
dn_status dn_paper_ink(float *p, int w, int h, dn_paper_result *result, const char *who);

/* Sums for a least-squares line y = a + b * x through points (the ruled
 * lines of paper.c, the sheet's sides of sheet.c). */
typedef struct dn_line_sums {
    double s1, sx, sy, sxx, sxy;
} dn_line_sums;

static inline void dn_line_sums_add(dn_line_sums *s, float x, float y)
{
    s->s1++;
    s->sx += x;
    s->sy += y;
    s->sxx += (double)x * x;
    s->sxy += (double)x * y;
}

/* The line through the summed points in *a and *b; false (both untouched)
 * with fewer than 8 points or all in one column. */
static inline bool dn_line_sums_fit(const dn_line_sums *s, double *a, double *b)
{
    double det = s->s1 * s->sxx - s->sx * s->sx;
    if (s->s1 < 8 || det <= 0)
        return false;
    *b = (s->s1 * s->sxy - s->sx * s->sy) / det;
    *a = (s->sy - *b * s->sx) / s->s1;
    return true;
}

#endif
