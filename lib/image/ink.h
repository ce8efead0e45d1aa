/* ink.h - the two halves of dn_preprocess_mnist, shared with dn_read_number:
 * a picture's ink plane (steps 1-4 of digitnet/image.h) and the MNIST 28x28
 * made from ink (steps 5-7). Internal, never installed. */
#ifndef DN_IMAGE_INK_H
#define DN_IMAGE_INK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/image.h"

/* The ink of a picture on the working grid of step 1: p[y * w + x] in [0,1],
 * 1 = full ink, 0 = background (below the floor of step 4). One working pixel
 * covers factor x factor input pixels (1 unless a side exceeds 1024); width
 * and height are the input's. p is owned (dn_alloc) and released by
 * dn_ink_free. who names the public caller in messages. */
typedef struct dn_ink {
    int w, h, factor;
    int width, height;
    bool has_ink, inverted;
    bool paper; /* made by the photo path (step 2b), not the flat one */
    float *p;
    const char *who;
} dn_ink;

/* Steps 1-4 of dn_preprocess_mnist on img: checks img (DN_ERR_ARG for NULL,
 * empty, oversized or non-finite), fills *ink. When there is no ink,
 * has_ink is false and p is all zeros. On failure *ink is released. */
dn_status dn_ink_extract(dn_ink *ink, const dn_image *img, const char *who);

/* Which background step 2 uses: DN_INK_AUTO decides as digitnet/image.h
 * says (a flat picture: the plane; anything else: the paper path of
 * paper.h); the other two force one, for tests. */
typedef enum dn_ink_mode { DN_INK_AUTO, DN_INK_FLAT, DN_INK_PAPER } dn_ink_mode;

/* dn_ink_extract with the background step chosen by mode. */
dn_status dn_ink_extract_as(dn_ink *ink, const dn_image *img, dn_ink_mode mode, const char *who);

/* Step 4's levels, shared by both background paths. */
enum { DN_INK_HIST_BINS = 4096 };

typedef struct dn_ink_levels {
    bool has_ink;
    float floor, level; /* of the deviation, ink side */
} dn_ink_levels;

/* The histogram bin of a value in [0,1] (clamped). */
static inline int dn_ink_hist_bin(float v)
{
    int b = (int)(v * DN_INK_HIST_BINS);
    return b < 0 ? 0 : b >= DN_INK_HIST_BINS ? DN_INK_HIST_BINS - 1 : b;
}

/* The ink level and floor of step 4 for v (n pixels, the deviation on the
 * ink side, >= 0) with noise deviation sigma; hist is scratch of
 * DN_INK_HIST_BINS counts. */
dn_ink_levels dn_ink_levels_of(const float *v, size_t n, float sigma, size_t *hist);

/* A new ink plane with ink's geometry and all pixels 0. */
dn_status dn_ink_blank(dn_ink *blank, const dn_ink *ink);

void dn_ink_free(dn_ink *ink);

/* Steps 5-7: out and info from the ink in ink->p (specks are erased from it
 * in place). Ink that is all 0 gives has_ink false and out all zeros. */
dn_status dn_ink_shape(dn_ink *ink, float out[DN_MNIST_PIXELS], dn_preprocess_info *info);

/* dn_preprocess_mnist's out and info from ink already extracted: steps 5-7,
 * or all zeros when there is no ink (info->inverted too, as
 * dn_preprocess_mnist says). Erases specks from ink->p in place. */
dn_status dn_ink_mnist(dn_ink *ink, float out[DN_MNIST_PIXELS], dn_preprocess_info *info);

/* Labels the 8-connected components of the pixels of p (w x h) above 0:
 * labels[i] = 1..*count, 0 for background. *mass (malloc, the caller frees)
 * gets each component's sum of p, mass[k - 1] for label k. who names the
 * caller in messages. */
dn_status dn_ink_components(const float *p, int w, int h, uint32_t *labels, size_t *count, double **mass,
                            const char *who);

#endif
