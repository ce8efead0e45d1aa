/* digitnet/synth.h - drawings made by program: pen strokes, digits written the
 * way people write them (styles MNIST holds few of: a 1 with a flag and a
 * base, a 7 with a bar, an open 4, ...) and drawings that are not digits at
 * all (letters that look like no digit, symbols, shapes, scribbles, blobs).
 *
 * They exist to teach a network what MNIST does not: to read digits in every
 * common style, and to say "not a digit" (samples labelled DN_LABEL_NONE are
 * trained towards the uniform distribution, Outlier Exposure; see
 * dn_net_backward). Every drawing is made from a generator passed in, so a
 * seed gives the same drawings on every machine and for any thread count.
 *
 * Usage:
 *     dn_dataset extra;
 *     dn_synth_dataset(&extra, 10000, 12000, seed, DN_MNIST_MEAN, DN_MNIST_STD);
 *     ... concatenate with MNIST (dn_dataset_concat) and train ...
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: nothing is kept between calls; drawing changes the image and
 * the generator it is given, so calls may run at once in any threads as long
 * as they share neither. */
#ifndef DIGITNET_SYNTH_H
#define DIGITNET_SYNTH_H

#include <stdint.h>

#include "digitnet/export.h"
#include "digitnet/idx.h"
#include "digitnet/image.h"
#include "digitnet/rng.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Draws a pen stroke through points (x, y), xy[2*i] and xy[2*i+1] in pixel
 * units (pixel (x, y) covers [x, x+1) x [y, y+1)): straight segments of a pen
 * pen_width pixels wide with round ends and an anti-aliased edge. Each pixel
 * keeps the larger of its value and ink * coverage, so strokes overlap like
 * ink. DN_ERR_ARG for no points, a non-finite coordinate, pen_width <= 0 or
 * ink outside [0,1], or a NULL or empty image. Points outside the image are
 * clipped. */
DN_API dn_status dn_draw_stroke(dn_image *img, const float *xy, int points, float pen_width, float ink);

/* Number of drawing styles of a digit (0..9); 0 for any other number. */
DN_API int dn_synth_style_count(int digit);

/* The name of a style of a digit ("1 with a flag and a base", ...): the
 * static string of a valid pair, else NULL. */
DN_API const char *dn_synth_style_name(int digit, int style);

/* Kinds of drawings that are not digits. */
typedef enum dn_synth_other {
    DN_SYNTH_LETTER,   /* a letter or symbol that looks like no digit */
    DN_SYNTH_SHAPE,    /* star, polygon, heart, arrow, spiral, smiley, ... */
    DN_SYNTH_SCRIBBLE, /* random strokes, hatching, zigzags */
    DN_SYNTH_BLOB,     /* a dot, a tap, a filled patch */
    DN_SYNTH_OTHER_KINDS
} dn_synth_other;

/* Draws, light ink on black, into img (which should be at least 56 x 56; it
 * is cleared first), the digit in the given style (style < 0: one chosen by
 * rng) with random slant, rotation, proportions, wobble, size, position and
 * pen width. DN_ERR_ARG for a digit outside 0..9 or a style out of range,
 * an image smaller than 8 x 8 or a NULL argument. */
DN_API dn_status dn_synth_digit(dn_image *img, int digit, int style, dn_rng *rng);

/* Draws a random drawing of the given kind that is not a digit into img, as
 * dn_synth_digit does. DN_ERR_ARG for a kind out of range, an image smaller
 * than 8 x 8 or a NULL argument. */
DN_API dn_status dn_synth_other_drawing(dn_image *img, dn_synth_other kind, dn_rng *rng);

/* A dataset of `digits` drawn digits (labels 0..9, styles evenly spread)
 * followed by `others` drawings that are not digits (label DN_LABEL_NONE,
 * kinds evenly spread), each drawn on a 96 x 96 canvas, put through
 * dn_preprocess_mnist as a user's drawing would be, and normalised with mean
 * and std. The same seed gives the same set, for any thread count. *ds is
 * the caller's (dn_dataset_free); on failure it is zeroed. DN_ERR_ARG for
 * counts outside 0..2^24 (1 at least in all), a mean that is not finite or
 * a std that is not finite and > 0; DN_ERR_NOMEM. */
DN_API dn_status dn_synth_dataset(dn_dataset *ds, int digits, int others, uint64_t seed, float mean, float std);

#ifdef __cplusplus
}
#endif
#endif
