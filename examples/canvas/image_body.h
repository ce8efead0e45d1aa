/* image_body.h - the body of POST /api/predict as an image: an image file
 * told apart by its content (PNG or PGM, see dn_image_parse), or raw 8-bit
 * gray pixels with ?w=W&h=H in the query (0 = black). Needs no model and no
 * socket, so it can be fuzzed alone; thread-safe. */
#ifndef CANVAS_IMAGE_BODY_H
#define CANVAS_IMAGE_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digitnet/image.h"

typedef struct image_body_error {
    int status;        /* 400: bad w/h, a length that is not w*h, an empty body;
                          422: bytes that are not a usable image */
    char message[512]; /* what is wrong, for {"error": message} */
} image_body_error;

/* Decodes body[0..len) the way query ("w=28&h=28", or "" for an image file) says.
 * True with *img filled in (release it with dn_image_free); false with
 * *error set and *img zeroed. */
bool image_body_decode(const char *query, const uint8_t *body, size_t len, dn_image *img,
                       image_body_error *error);

#endif
