/* fuzz_pgm.c - libFuzzer harness for PGM images (P2 and P5, dn_pgm_parse)
 * followed by the MNIST preprocessing (dn_preprocess_mnist) of every image
 * that parses: output in [0,1], info consistent with the image. */
#include <stddef.h>
#include <stdint.h>

#include "digitnet/image.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dn_image img;
    memset(&img, 0xA5, sizeof img);
    dn_clear_error();
    dn_status status = dn_pgm_parse(&img, data, size, "fuzz.pgm");
    dn_fuzz_check_failure(status);
    if (status != DN_OK) {
        DN_FUZZ_CHECK(img.pixels == NULL && img.width == 0 && img.height == 0);
        return 0;
    }
    DN_FUZZ_CHECK(img.width >= 1 && img.height >= 1 && img.width <= DN_IMAGE_MAX_SIDE &&
                  img.height <= DN_IMAGE_MAX_SIDE);
    size_t n = (size_t)img.width * (size_t)img.height;
    DN_FUZZ_CHECK(n <= DN_IMAGE_MAX_PIXELS && img.pixels != NULL);
    for (size_t i = 0; i < n; i++)
        DN_FUZZ_CHECK(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f);

    float out[DN_MNIST_PIXELS];
    dn_preprocess_info info;
    memset(&info, 0xA5, sizeof info);
    dn_clear_error();
    status = dn_preprocess_mnist(&img, out, &info);
    dn_fuzz_check_failure(status);
    DN_FUZZ_CHECK(status == DN_OK); /* a parsed image is always a valid argument */
    float max = 0;
    for (int i = 0; i < DN_MNIST_PIXELS; i++) {
        DN_FUZZ_CHECK(out[i] >= 0.0f && out[i] <= 1.0f); /* also false for NaN */
        if (out[i] > max)
            max = out[i];
    }
    DN_FUZZ_CHECK(info.ink_fraction >= 0.0f && info.ink_fraction <= 1.0f);
    if (!info.has_ink) {
        DN_FUZZ_CHECK(max == 0.0f);
        DN_FUZZ_CHECK(info.box_w == 0 && info.box_h == 0);
    } else {
        DN_FUZZ_CHECK(info.box_w >= 1 && info.box_h >= 1 && info.box_x >= 0 && info.box_y >= 0);
        DN_FUZZ_CHECK(info.box_x + info.box_w <= img.width && info.box_y + info.box_h <= img.height);
    }
    dn_image_free(&img);
    DN_FUZZ_CHECK(img.pixels == NULL);
    return 0;
}
