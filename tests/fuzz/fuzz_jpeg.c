/* fuzz_jpeg.c - libFuzzer harness for the JPEG reader (dn_jpeg_parse): a
 * failure leaves a message and a zeroed image; a success gives an image
 * within the size limits, no larger than the input can pay for (every 8x8
 * block costs at least a bit), with every pixel in [0,1]. */
#include <stddef.h>
#include <stdint.h>

#include "digitnet/image.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dn_image img;
    memset(&img, 0xA5, sizeof img);
    dn_clear_error();
    dn_status status = dn_jpeg_parse(&img, data, size, "fuzz.jpg");
    dn_fuzz_check_failure(status);
    if (status != DN_OK) {
        DN_FUZZ_CHECK(img.pixels == NULL && img.width == 0 && img.height == 0);
        DN_FUZZ_CHECK(status == DN_ERR_FORMAT || status == DN_ERR_UNSUPPORTED);
        return 0;
    }
    DN_FUZZ_CHECK(img.width >= 1 && img.height >= 1 && img.width <= DN_IMAGE_MAX_SIDE &&
                  img.height <= DN_IMAGE_MAX_SIDE);
    size_t n = (size_t)img.width * (size_t)img.height;
    DN_FUZZ_CHECK(n <= DN_IMAGE_MAX_PIXELS && img.pixels != NULL);
    DN_FUZZ_CHECK(n <= 64 * 8 * size);
    for (size_t i = 0; i < n; i++)
        DN_FUZZ_CHECK(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f); /* also false for NaN */
    dn_image_free(&img);
    DN_FUZZ_CHECK(img.pixels == NULL);
    return 0;
}
