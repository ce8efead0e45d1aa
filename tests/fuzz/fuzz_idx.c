/* fuzz_idx.c - libFuzzer harness for IDX files, raw (dn_idx_parse) and gzip
 * (dn_gunzip with a small output bound, then dn_idx_parse on the result). */
#include <stddef.h>
#include <stdint.h>

#include "digitnet/gzip.h"
#include "digitnet/idx.h"
#include "fuzz_common.h"

/* Output bound for the gzip path: IDX files in the corpus are tiny. */
enum { IDX_FUZZ_MAX_OUT = 1 << 20 };

static void parse_and_check(const uint8_t *bytes, size_t len)
{
    dn_idx idx;
    memset(&idx, 0xA5, sizeof idx); /* the parser must initialise it */
    dn_clear_error();
    dn_status status = dn_idx_parse(&idx, bytes, len, "fuzz.idx");
    dn_fuzz_check_failure(status);
    if (status != DN_OK) {
        dn_idx_free(&idx); /* documented safe after a failure */
        return;
    }
    DN_FUZZ_CHECK(idx.ndim >= 1 && idx.ndim <= DN_IDX_MAX_DIMS);
    DN_FUZZ_CHECK(idx.elem_size == dn_idx_type_size((int)idx.type) && idx.elem_size > 0);
    size_t count = 1;
    for (int d = 0; d < idx.ndim; d++) {
        DN_FUZZ_CHECK(idx.dims[d] >= 1);
        count *= (size_t)idx.dims[d];
    }
    DN_FUZZ_CHECK(count == idx.count);
    /* The data must cover the file exactly: header 4 + 4*ndim bytes, then the elements. */
    DN_FUZZ_CHECK(4 + 4 * (size_t)idx.ndim + idx.count * idx.elem_size == len);
    DN_FUZZ_CHECK(idx.data != NULL);
    double sum = 0;
    for (size_t i = 0; i < idx.count; i++)
        sum += dn_idx_get(&idx, i);
    (void)sum;
    dn_idx_free(&idx);
    DN_FUZZ_CHECK(idx.data == NULL);
    dn_idx_free(&idx); /* twice is fine */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dn_gzip_detect(data, size)) {
        uint8_t *raw = NULL;
        size_t raw_len = 0;
        dn_clear_error();
        dn_status status = dn_gunzip(&raw, &raw_len, data, size, IDX_FUZZ_MAX_OUT);
        dn_fuzz_check_failure(status);
        if (status == DN_OK) {
            DN_FUZZ_CHECK(raw != NULL && raw_len <= IDX_FUZZ_MAX_OUT);
            parse_and_check(raw, raw_len);
        } else {
            DN_FUZZ_CHECK(raw == NULL && raw_len == 0);
        }
        free(raw); /* dn_free is free() */
        return 0;
    }
    parse_and_check(data, size);
    return 0;
}
