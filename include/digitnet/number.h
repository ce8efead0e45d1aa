/* digitnet/number.h - reading a number (several digits side by side) from a
 * picture: the ink cut into digits, each made MNIST-style and classified.
 *
 * Usage:
 *     dn_number num;
 *     dn_number_options opt = dn_number_options_default();
 *     opt.input_mean = info.input_mean;      (the model's dn_model_info)
 *     opt.input_std = info.input_std;
 *     if (dn_read_number(&num, &img, net, &opt) != DN_OK)
 *         fprintf(stderr, "%s\n", dn_last_error());
 *     else
 *         printf("%s\n", num.text);           ("2026"; "" when no digit)
 *     for (int i = 0; i < num.count; i++)     (left to right)
 *         ... num.parts[i].kind, .digit, .probs, .x, .y, .w, .h ...
 *
 * How the picture is cut (constants in lib/image/number.c):
 *   1. Ink: steps 1-4 of dn_preprocess_mnist (digitnet/image.h) on the whole
 *      picture: background, polarity, contrast.
 *   2. Components: 8-connected ink. Components holding less than 3% of the
 *      largest one's ink mass are specks and ignored (counted in specks).
 *   3. The digit height is the median height of the components at least
 *      half as tall as the tallest.
 *   4. Joining: a component shorter than 3/4 of the digit height (a 5's
 *      detached top bar, a stroke of a 4 or an 8 drawn apart, a 1's base) is
 *      joined to the part whose columns overlap it most, when they share at
 *      least half the narrower one's width, lie at most 0.3 digit heights
 *      apart vertically and are together at most 1.35 digit heights tall.
 *   5. Splitting: a part at least 3/4 as wide as it is tall (0.6 when the
 *      net reads it under options.min_confidence: 11, 17 or 61 touching
 *      leave the net unsure of a narrow part) may be two or more touching
 *      digits. Candidate cuts start from lines upright and
 *      slanted as handwriting leans (x shifted by 0.2 and 0.4 pixels per
 *      pixel up, and -0.15): for each slant, up to 5 columns where the
 *      least ink crosses, and the column where the outline's top dips and
 *      its bottom rises most (together at least 0.15 of the part's height,
 *      against the outline within 0.25 of the height on either side: two
 *      round digits touching, 00 or 69, are joined where both are thickest,
 *      which the least ink misses); each becomes a least-ink path (dynamic
 *      programming over the rows, straying up to 0.1 of the part's height
 *      from its line, one pixel per row at most, 0.05 ink per pixel
 *      sideways), so a cut can wind between digits that overlap. Every way
 *      of cutting at some of one slant's paths is scored by the
 *      classifier: a way with a piece under options.min_confidence (the
 *      net refuses half a digit, or two digits together, or part of a star,
 *      as not a digit) is no way at all, since a cut must explain the whole
 *      part as digits, and so is one with a piece whose ink is under 0.7 of
 *      the part's height (an h's arch, which reads as a 7); the others score the sum over their pieces of the
 *      log of the piece's best probability (the part whole pays 1 when it
 *      is under options.min_confidence),
 *      less a cost for pieces wide for their height (or the digit height,
 *      if larger): 8 times the square of the excess of width / height over
 *      0.6, or over the median of the other parts' when that is larger, up
 *      to 0.8 (a writer of wide digits writes them all wide; other parts
 *      may be touching pairs themselves); the part whole pays only beyond
 *      0.7, or that median (a round 0 a little wider than tall is one
 *      digit, though its halves read as digits); less a cost per cut of 0.2 plus
 *      5 times the ink the path crosses over the part's height (the prior
 *      against cutting one wide digit, a 0 or a 2, in two). The best way
 *      wins over the part whole (scored the same way) only when it scores
 *      higher. Parts under half the digit height are never cut; a whole
 *      read so surely that no cut could pay for itself is not tried, nor
 *      the only part of a picture read at least 0.99 surely (and at least
 *      min_confidence) and at most 1.1 times as wide as tall, and
 *      cuts that cost more than the whole's score are dropped before any
 *      piece is read, which keeps the cost low for clear drawings.
 *      A part left whole (of any width; not the sure lone part above)
 *      may still hold a 1 touching its neighbour, which the net reads as
 *      the other digit (16 as 6): a 1 is peeled off either end, up to
 *      two from each, when the first ink from that end in each row lies
 *      along a line (root mean square distance at most 0.04 of the part's
 *      height, slope at most 0.5 x per y) over at least 0.8 of the
 *      part's height (or the digit height, if smaller), the pen is at most
 *      0.2 of the height, and the stroke has a free end (no ink within a
 *      pen of the line beyond it at its top or its bottom: the straight
 *      side of a narrow 0 goes on round at both ends); the cut follows the
 *      stroke's own edge where it stands alone and the line, half a pen
 *      beyond its centre, where it touches. The 1 must be read as 1 at
 *      least 0.9 surely (and min_confidence), the rest as a digit at least
 *      min_confidence surely, with ink at least 0.75 of the part's height
 *      tall, and as the same digit as the part, not 1 (a 1 beside a 6 is
 *      ink the net ignores; a 0 whose side comes off leaves a 1 or a 6).
 *      A part read under min_confidence (a 1 crossing a 4 leaves the net
 *      unsure) is peeled only when the rest reads at least 0.99 surely: a
 *      letter's or a star's straight side would otherwise come off as a 1.
 *   6. Each part's ink alone (the rest of the picture blank) goes through
 *      steps 5-7 of dn_preprocess_mnist and the net. A picture whose ink is
 *      one component therefore gives exactly dn_preprocess_mnist's input.
 *   7. Parts that are not digits are marked, not forced into a digit: much
 *      smaller than the digit height (a dot, a comma), low and flat (a dash),
 *      or read with a best probability under options.min_confidence - but
 *      a part among parts read at least that surely (a number) is a digit
 *      from a best probability of 0.5 when it is as tall as they are (within
 *      3/4 to 4/3 of their median height) and at most 1.25 times as wide
 *      as tall: min_confidence is set for a drawing alone, where a person
 *      may have drawn anything; a digit-sized part of a number is most
 *      likely a digit (a star or a letter there is still mostly refused:
 *      the net puts well under half its probability on any digit for it).
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: dn_read_number runs the net, so calls sharing a net must
 * not overlap; anything else is independent. */
#ifndef DIGITNET_NUMBER_H
#define DIGITNET_NUMBER_H

#include <stdbool.h>
#include <stddef.h>

#include "digitnet/export.h"
#include "digitnet/image.h"
#include "digitnet/net.h"
#include "digitnet/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most parts reported for one picture. */
#define DN_NUMBER_MAX_PARTS 32

/* What a part of the picture is. */
typedef enum dn_part_kind {
    DN_PART_DIGIT = 0, /* a digit: digit and probs are its reading */
    DN_PART_SMALL,     /* much smaller than the digits (a dot, a comma, a stray mark) */
    DN_PART_FLAT,      /* low and wide (a dash, an underline) */
    DN_PART_UNSURE,    /* digit-sized, but the net's best probability is under min_confidence */
} dn_part_kind;

/* Short name of a kind: "digit", "small", "flat", "unsure". */
DN_API const char *dn_part_kind_name(dn_part_kind kind);

/* One part of the picture. */
typedef struct dn_number_part {
    dn_part_kind kind;
    int digit;         /* the net's most probable class, for every kind */
    float probs[10];   /* the net's probabilities */
    int x, y, w, h;    /* the part's ink box in the input picture's pixels */
    int pieces;        /* ink components joined in it (a 5 with a detached bar: 2) */
    bool cut;          /* cut out of ink it shares with a neighbour */
} dn_number_part;

/* The reading of a picture. */
typedef struct dn_number {
    int count;                            /* parts, left to right by the centre of their box */
    dn_number_part parts[DN_NUMBER_MAX_PARTS];
    int digits;                           /* parts that are DN_PART_DIGIT */
    char text[DN_NUMBER_MAX_PARTS + 1];   /* their digits left to right, NUL-terminated; "" if none */
    int specks;                           /* ink components ignored as specks */
    bool inverted;                        /* dark ink on a light background */
    bool truncated;                       /* more parts than DN_NUMBER_MAX_PARTS: the lightest left out */
} dn_number;

/* How to read. */
typedef struct dn_number_options {
    float input_mean, input_std; /* the net's input normalisation (dn_model_info's) */
    float min_confidence;        /* a best probability under this makes a part DN_PART_UNSURE,
                                    and rules out a cut leaving such a piece (step 5): pass the
                                    model's not-a-digit threshold (digitnet/answer.h) */
    bool no_split;               /* never cut touching ink apart */
    /* When not NULL, each part's 28x28 input (ink in [0,1], before
     * normalisation) is copied to inputs + i * DN_MNIST_PIXELS for the first
     * inputs_capacity parts. */
    float *inputs;
    int inputs_capacity;
    /* When not NULL, whole (DN_MNIST_PIXELS floats) receives the picture
     * made into one digit, exactly what dn_preprocess_mnist(img, whole,
     * whole_info) gives, and whole_info (when not NULL) its info: a caller
     * that wants the single-digit input as well as the number (the canvas
     * demo, dn-predict) finds the ink once, and a picture that is one part
     * is shaped once. Written on success only. */
    float *whole;
    dn_preprocess_info *whole_info;
} dn_number_options;

/* MNIST's mean and standard deviation, min_confidence 0 (no part is
 * unsure), splitting on, no inputs copied, no whole. */
DN_API dn_number_options dn_number_options_default(void);

/* Reads the number in img with net (a 1x28x28-input, 10-class model) as the
 * steps above say; options may be NULL for the defaults. A picture without
 * ink gives count 0 and text "". Errors: DN_ERR_ARG for a NULL number, img
 * or net, and the image errors of dn_preprocess_mnist; DN_ERR_SHAPE for a net
 * of another shape; DN_ERR_NOMEM; the net's own errors. On failure *number is
 * zeroed. */
DN_API dn_status dn_read_number(dn_number *number, const dn_image *img, dn_net *net,
                                const dn_number_options *options);

#ifdef __cplusplus
}
#endif
#endif
