/* fuzz_predict_body.c - libFuzzer harness for the body of dn-canvas's POST
 * /api/predict (image_body_decode: raw pixels with ?w=&h=, or a PGM), then
 * the MNIST preprocessing and the number reading (with an untrained MLP) of
 * every image that decodes. */
#include <stddef.h>
#include <stdint.h>

#include "digitnet/image.h"
#include "digitnet/number.h"
#include "fuzz_common.h"
#include "http.h"
#include "image_body.h"

#define QUERY_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The query is what comes before the first newline (at most 64 bytes;
     * none: no query), as the server hands it over: a C string. */
    char query[QUERY_MAX + 1] = "";
    const uint8_t *newline = memchr(data, '\n', size < QUERY_MAX + 1 ? size : QUERY_MAX + 1);
    const uint8_t *body = data;
    if (newline) {
        size_t n = (size_t)(newline - data);
        memcpy(query, data, n);
        query[n] = '\0';
        body = newline + 1;
    }
    size_t len = size - (size_t)(body - data);
    uint8_t *copy = malloc(len ? len : 1); /* exactly len bytes, so ASan sees overreads */
    if (len)
        memcpy(copy, body, len);

    dn_image img;
    image_body_error error;
    memset(&img, 0xA5, sizeof img);
    dn_clear_error();
    bool ok = image_body_decode(query, copy, len, &img, &error);
    if (!ok) {
        DN_FUZZ_CHECK(error.status == 400 || error.status == 422);
        DN_FUZZ_CHECK(error.message[0] != '\0');
        DN_FUZZ_CHECK(img.pixels == NULL && img.width == 0 && img.height == 0);
        free(copy);
        return 0;
    }
    DN_FUZZ_CHECK(img.width >= 1 && img.height >= 1 && img.width <= DN_IMAGE_MAX_SIDE &&
                  img.height <= DN_IMAGE_MAX_SIDE && img.pixels != NULL);
    size_t n = (size_t)img.width * (size_t)img.height;
    if (http_query_has(query, "w") || http_query_has(query, "h"))
        DN_FUZZ_CHECK(n == len); /* raw pixels: one byte each */
    for (size_t i = 0; i < n; i++)
        DN_FUZZ_CHECK(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f);

    float out[DN_MNIST_PIXELS];
    dn_preprocess_info info;
    DN_FUZZ_CHECK(dn_preprocess_mnist(&img, out, &info) == DN_OK);
    for (int i = 0; i < DN_MNIST_PIXELS; i++)
        DN_FUZZ_CHECK(out[i] >= 0.0f && out[i] <= 1.0f);

    static dn_net *net; /* made once, kept for the process */
    if (!net)
        DN_FUZZ_CHECK(dn_net_new(&net, "mlp", 1) == DN_OK);
    dn_number num, again;
    DN_FUZZ_CHECK(dn_read_number(&num, &img, net, NULL) == DN_OK);
    /* as the server reads: the single-digit input from the same ink, which
     * must be dn_preprocess_mnist's and leave the reading as it was */
    float whole[DN_MNIST_PIXELS];
    dn_preprocess_info whole_info;
    dn_number_options opt = dn_number_options_default();
    opt.whole = whole;
    opt.whole_info = &whole_info;
    DN_FUZZ_CHECK(dn_read_number(&again, &img, net, &opt) == DN_OK);
    DN_FUZZ_CHECK(memcmp(whole, out, sizeof whole) == 0 && whole_info.has_ink == info.has_ink &&
                  whole_info.box_x == info.box_x && whole_info.box_w == info.box_w &&
                  whole_info.box_y == info.box_y && whole_info.box_h == info.box_h);
    DN_FUZZ_CHECK(memcmp(&num, &again, sizeof num) == 0);
    DN_FUZZ_CHECK(num.count >= 0 && num.count <= DN_NUMBER_MAX_PARTS && num.digits <= num.count);
    DN_FUZZ_CHECK(strlen(num.text) == (size_t)num.digits && (num.count > 0) == info.has_ink);
    for (int i = 0; i < num.count; i++) {
        const dn_number_part *p = &num.parts[i];
        DN_FUZZ_CHECK(p->x >= 0 && p->y >= 0 && p->w >= 1 && p->h >= 1 && p->x + p->w <= img.width &&
                      p->y + p->h <= img.height && p->digit >= 0 && p->digit <= 9);
        DN_FUZZ_CHECK(i == 0 || 2 * p->x + p->w >= 2 * num.parts[i - 1].x + num.parts[i - 1].w);
    }
    dn_image_free(&img);
    free(copy);
    return 0;
}
