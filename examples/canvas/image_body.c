/* image_body.c - turns a request body into a dn_image: raw gray pixels sized
 * by ?w=&h=, or an image file (PNG, PGM) read by content by the library;
 * every failure says why. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "image_body.h"

static bool refuse(image_body_error *error, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool refuse(image_body_error *error, int status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    error->status = status;
    vsnprintf(error->message, sizeof error->message, fmt, args);
    va_end(args);
    return false;
}

/* A whole decimal number in 1..DN_IMAGE_MAX_SIDE, or 0. */
static int parse_side(const char *text)
{
    if (!*text || strlen(text) > 5)
        return 0;
    int v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    return v <= DN_IMAGE_MAX_SIDE ? v : 0;
}

static bool decode_raw(const char *query, const uint8_t *body, size_t len, dn_image *img,
                       image_body_error *error)
{
    char w_text[16], h_text[16];
    bool has_w = http_query_get(query, "w", w_text, sizeof w_text);
    bool has_h = http_query_get(query, "h", h_text, sizeof h_text);
    int w = has_w ? parse_side(w_text) : 0, h = has_h ? parse_side(h_text) : 0;
    if (!w || !h)
        return refuse(error, 400, "raw pixels need ?w=W&h=H, whole numbers from 1 to %d",
                      DN_IMAGE_MAX_SIDE);
    size_t pixels = (size_t)w * (size_t)h;
    if (pixels != len)
        return refuse(error, 400, "the body has %zu bytes but w*h = %d*%d = %zu", len, w, h, pixels);
    if (dn_image_from_gray8(img, body, w, h) != DN_OK)
        return refuse(error, 422, "%s", dn_last_error());
    return true;
}

bool image_body_decode(const char *query, const uint8_t *body, size_t len, dn_image *img,
                       image_body_error *error)
{
    *img = (dn_image){0};
    *error = (image_body_error){0};
    if (http_query_has(query, "w") || http_query_has(query, "h"))
        return decode_raw(query, body, len, img, error);
    if (len == 0)
        return refuse(error, 400,
                      "empty body: send a PNG or PGM image, or raw 8-bit pixels with ?w=W&h=H");
    if (dn_image_parse(img, body, len, "request body") != DN_OK)
        return refuse(error, 422, "%s", dn_last_error());
    return true;
}
