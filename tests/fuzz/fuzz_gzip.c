/* fuzz_gzip.c - libFuzzer harness for the DEFLATE and gzip decoders.
 * Byte 0 picks the entry point (bit 0: dn_gunzip or dn_inflate) and the output
 * bound (bits 1..5: 2^k bytes, k <= 24, or no bound); the rest is the stream. */
#include <stddef.h>
#include <stdint.h>

#include "digitnet/gzip.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    const uint8_t *in = data + 1;
    size_t in_len = size - 1;
    unsigned k = (mode >> 1) & 31;
    /* k > 24: "no limit" (SIZE_MAX), bounded in practice by the input length and libFuzzer's -rss_limit. */
    size_t max_out = k > 24 ? SIZE_MAX : (size_t)1 << k;

    uint8_t *out = (uint8_t *)1;
    size_t out_len = 12345, used = 54321;
    dn_clear_error();
    dn_status status;
    bool gzip = mode & 1;
    if (gzip)
        status = dn_gunzip(&out, &out_len, in, in_len, max_out);
    else
        status = dn_inflate(&out, &out_len, &used, in, in_len, max_out);
    dn_fuzz_check_failure(status);
    if (status != DN_OK) {
        DN_FUZZ_CHECK(out == NULL && out_len == 0);
        DN_FUZZ_CHECK(status == DN_ERR_FORMAT || status == DN_ERR_UNSUPPORTED || status == DN_ERR_NOMEM);
        return 0;
    }
    DN_FUZZ_CHECK(out != NULL);
    DN_FUZZ_CHECK(out_len <= max_out);
    DN_FUZZ_CHECK(((uintptr_t)out & 63) == 0);
    if (!gzip)
        DN_FUZZ_CHECK(used >= 1 && used <= in_len);
    /* Reads every output byte, so ASan sees a short buffer. */
    uint32_t crc = dn_crc32(0, out, out_len);
    /* The bound is exact: the same stream fits in out_len bytes and not in one fewer. */
    if (out_len <= (1u << 20)) {
        uint8_t *again = NULL;
        size_t again_len = 0;
        status = gzip ? dn_gunzip(&again, &again_len, in, in_len, out_len)
                      : dn_inflate(&again, &again_len, NULL, in, in_len, out_len);
        DN_FUZZ_CHECK(status == DN_OK && again_len == out_len);
        DN_FUZZ_CHECK(dn_crc32(0, again, again_len) == crc && memcmp(again, out, out_len) == 0);
        free(again);
        if (out_len > 0) {
            status = gzip ? dn_gunzip(&again, &again_len, in, in_len, out_len - 1)
                          : dn_inflate(&again, &again_len, NULL, in, in_len, out_len - 1);
            DN_FUZZ_CHECK(status == DN_ERR_UNSUPPORTED && again == NULL);
        }
    }
    free(out);
    return 0;
}
