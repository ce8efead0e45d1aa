/* digit_canvas.h - MNIST digits drawn onto a square canvas the way a person
 * might draw them: moved, scaled, rotated, with thicker or thinner strokes,
 * dark on light; and a canvas taken back to 28x28 by area averaging alone
 * (no MNIST-style preprocessing). For the tools that measure models on such
 * digits (eval_drawings.c, why_cnn.c); not part of the library. */
#ifndef DN_TESTS_DIGIT_CANVAS_H
#define DN_TESTS_DIGIT_CANVAS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct digit_pose {
    double size;    /* the digit's 28x28 square, in canvas pixels */
    double dx, dy;  /* offset of its centre from the canvas centre, in canvas pixels */
    double angle;   /* rotation in degrees, clockwise on the screen */
    int pen;        /* > 0: strokes grown by this many canvas pixels on each side; < 0: shrunk */
    bool dark_ink;  /* dark digit on a light canvas */
} digit_pose;

/* Draws the 28x28 digit (bytes, 255 = full ink) onto canvas (side x side
 * floats in [0,1], 1 = white) as pose says: bilinear sampling, then the pen
 * as a (2|pen|+1)-pixel square max (grow) or min (shrink) filter, zero
 * outside the canvas. scratch holds side x side floats. */
void digit_render(float *canvas, int side, const uint8_t *digit, const digit_pose *pose, float *scratch);

/* out[28x28] = canvas (side x side, side a multiple of 28) reduced by
 * averaging each (side/28)^2 block: what a model is given when the canvas is
 * only shrunk, without dn_preprocess_mnist. */
void digit_downsample(float *out, const float *canvas, int side);

#endif
