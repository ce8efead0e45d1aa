/* fuzz_png.c - libFuzzer harness for the PNG reader (dn_png_parse, and
 * dn_image_parse, which must agree with it on anything with the PNG
 * signature). Byte 0 picks the mode:
 *   even: the rest is a PNG file, as it is (CRCs, zlib and DEFLATE must be
 *         right for the fuzzer to get further: it reaches the checks of the
 *         container and the compressed data);
 *   odd:  the rest is a list of chunks without CRCs (4-byte length, clamped to
 *         what is left, 4-byte type, data): the harness adds the signature
 *         and every CRC, and treats the IDAT chunks' data as the decompressed
 *         image data, which it wraps into one zlib stream of stored blocks
 *         (right Adler-32) cut into as many IDAT chunks at the same places.
 *         So mutations reach the chunk order, IHDR, PLTE, tRNS, the exact
 *         size, filters, Adam7 and every pixel format. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "digitnet/gzip.h"
#include "digitnet/image.h"
#include "fuzz_common.h"

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t adler32(const uint8_t *data, size_t len)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < len; i++) {
        a = (a + data[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

/* raw[0..n) as a zlib stream of stored blocks into z (room for
 * n + 11 + 5 * (n / 65535 + 1) bytes); returns its length. */
static size_t zlib_stored(uint8_t *z, const uint8_t *raw, size_t n)
{
    size_t len = 0, pos = 0;
    z[len++] = 0x78;
    z[len++] = 0x01;
    do {
        size_t piece = n - pos < 65535 ? n - pos : 65535;
        z[len++] = pos + piece == n; /* BFINAL, BTYPE 00 */
        z[len++] = (uint8_t)piece;
        z[len++] = (uint8_t)(piece >> 8);
        z[len++] = (uint8_t)~piece;
        z[len++] = (uint8_t)(~piece >> 8);
        memcpy(z + len, raw + pos, piece);
        len += piece;
        pos += piece;
    } while (pos < n);
    put32(z + len, adler32(raw, n));
    return len + 4;
}

/* Builds the PNG of an odd-mode input; *out is malloc'd. */
static size_t build_png(const uint8_t *in, size_t size, uint8_t **out)
{
    /* First pass: the IDAT data, joined. */
    uint8_t *raw = malloc(size + 1);
    size_t raw_len = 0, chunks = 0;
    for (size_t pos = 0; size - pos >= 8;) {
        size_t len = get32(in + pos);
        if (len > size - pos - 8)
            len = size - pos - 8;
        if (memcmp(in + pos + 4, "IDAT", 4) == 0) {
            memcpy(raw + raw_len, in + pos + 8, len);
            raw_len += len;
        }
        chunks++;
        pos += 8 + len;
    }
    size_t z_cap = raw_len + 16 + 5 * (raw_len / 65535 + 1);
    uint8_t *z = malloc(z_cap);
    size_t z_len = zlib_stored(z, raw, raw_len), z_pos = 0;
    free(raw);

    /* Second pass: the file, with the compressed stream cut where the raw data was. */
    uint8_t *png = malloc(8 + 12 * chunks + size + z_len);
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(png, signature, 8);
    size_t n = 8, idat_left = raw_len;
    for (size_t pos = 0; size - pos >= 8;) {
        size_t len = get32(in + pos);
        if (len > size - pos - 8)
            len = size - pos - 8;
        const uint8_t *data = in + pos + 8;
        size_t data_len = len;
        if (memcmp(in + pos + 4, "IDAT", 4) == 0) {
            idat_left -= len;
            data = z + z_pos;
            data_len = idat_left == 0 ? z_len - z_pos : len; /* the last IDAT takes the rest */
            if (data_len > z_len - z_pos)
                data_len = z_len - z_pos;
            z_pos += data_len;
        }
        put32(png + n, (uint32_t)data_len);
        memcpy(png + n + 4, in + pos + 4, 4);
        memcpy(png + n + 8, data, data_len);
        put32(png + n + 8 + data_len, dn_crc32(0, png + n + 4, data_len + 4));
        n += 12 + data_len;
        pos += 8 + len;
    }
    free(z);
    *out = png;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t *built = NULL;
    const uint8_t *bytes = data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        len = build_png(data + 1, size - 1, &built);
        bytes = built;
    }

    dn_image img;
    memset(&img, 0xA5, sizeof img);
    dn_clear_error();
    dn_status status = dn_png_parse(&img, bytes, len, "fuzz.png");
    dn_fuzz_check_failure(status);
    DN_FUZZ_CHECK(status == DN_OK || status == DN_ERR_FORMAT || status == DN_ERR_UNSUPPORTED);

    /* Sniffing by content picks the PNG reader for anything with its
     * signature (other inputs are left alone: fuzz_pgm covers PGM, and
     * coverage found there would only pull this corpus away from PNG). */
    dn_image again;
    memset(&again, 0, sizeof again);
    dn_status by_content = status;
    if (len >= 4 && memcmp(bytes, "\x89PNG", 4) == 0) {
        memset(&again, 0x5A, sizeof again);
        by_content = dn_image_parse(&again, bytes, len, "fuzz.png");
        DN_FUZZ_CHECK(by_content == status);
    }

    if (status != DN_OK) {
        DN_FUZZ_CHECK(img.pixels == NULL && img.width == 0 && img.height == 0);
    } else {
        DN_FUZZ_CHECK(img.width >= 1 && img.height >= 1 && img.width <= DN_IMAGE_MAX_SIDE &&
                      img.height <= DN_IMAGE_MAX_SIDE && img.pixels != NULL);
        size_t n = (size_t)img.width * (size_t)img.height;
        DN_FUZZ_CHECK(n <= DN_IMAGE_MAX_PIXELS);
        /* Nothing unpaid-for: at most 8 pixels a decompressed byte, at most
         * 1032 decompressed bytes a compressed one. */
        DN_FUZZ_CHECK(n / 8 <= (size_t)1032 * len);
        for (size_t i = 0; i < n; i++)
            DN_FUZZ_CHECK(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f); /* also false for NaN */
        DN_FUZZ_CHECK(again.width == img.width && again.height == img.height &&
                      memcmp(again.pixels, img.pixels, n * sizeof *img.pixels) == 0);
    }
    if (by_content != DN_OK)
        DN_FUZZ_CHECK(again.pixels == NULL && again.width == 0);
    dn_image_free(&img);
    dn_image_free(&again);
    free(built);
    return 0;
}
