/* fuzz_safetensors.c - libFuzzer harness for dn_safetensors_parse: checks a
 * parsed object is self-consistent, then writes it (to /dev/shm), reads it
 * back and compares the two bit for bit. */
#include <stddef.h>
#include <stdint.h>

#include "digitnet/safetensors.h"
#include "fuzz_common.h"

static void check_object(const dn_safetensors *st)
{
    DN_FUZZ_CHECK(st->count >= 0 && st->meta_count >= 0);
    DN_FUZZ_CHECK(st->count == 0 || st->tensors != NULL);
    DN_FUZZ_CHECK(st->meta_count == 0 || st->meta != NULL);
    for (int i = 0; i < st->count; i++) {
        const dn_st_tensor *t = &st->tensors[i];
        DN_FUZZ_CHECK(t->name != NULL && t->data != NULL);
        DN_FUZZ_CHECK(t->ndim >= 0 && t->ndim <= DN_ST_MAX_DIMS);
        size_t size = 1;
        for (int d = 0; d < DN_ST_MAX_DIMS; d++) {
            if (d < t->ndim) {
                DN_FUZZ_CHECK(t->shape[d] >= 0);
                size *= (size_t)t->shape[d];
            } else {
                DN_FUZZ_CHECK(t->shape[d] == 0);
            }
        }
        DN_FUZZ_CHECK(size == t->size);
        DN_FUZZ_CHECK(((uintptr_t)t->data & 63) == 0);
        uint32_t acc = 0; /* every element must be readable */
        for (size_t k = 0; k < t->size; k++) {
            uint32_t bits;
            memcpy(&bits, &t->data[k], 4);
            acc ^= bits;
        }
        (void)acc;
        DN_FUZZ_CHECK(strcmp(t->name, "__metadata__") != 0);
        DN_FUZZ_CHECK(dn_safetensors_find(st, t->name) == t); /* names are unique */
    }
    for (int i = 0; i < st->meta_count; i++) {
        DN_FUZZ_CHECK(st->meta[i].key != NULL && st->meta[i].value != NULL);
        DN_FUZZ_CHECK(dn_safetensors_meta(st, st->meta[i].key) == st->meta[i].value);
    }
}

static void check_same(const dn_safetensors *a, const dn_safetensors *b)
{
    DN_FUZZ_CHECK(a->count == b->count && a->meta_count == b->meta_count);
    for (int i = 0; i < a->count; i++) {
        const dn_st_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        DN_FUZZ_CHECK(strcmp(x->name, y->name) == 0 && x->ndim == y->ndim && x->size == y->size);
        DN_FUZZ_CHECK(memcmp(x->shape, y->shape, sizeof x->shape) == 0);
        DN_FUZZ_CHECK(memcmp(x->data, y->data, x->size * sizeof(float)) == 0);
    }
    for (int i = 0; i < a->meta_count; i++) {
        const char *v = dn_safetensors_meta(b, a->meta[i].key);
        DN_FUZZ_CHECK(v != NULL && strcmp(v, a->meta[i].value) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dn_safetensors st;
    memset(&st, 0xA5, sizeof st); /* parse must initialise it */
    dn_clear_error();
    dn_status status = dn_safetensors_parse(&st, data, size, "fuzz.safetensors");
    dn_fuzz_check_failure(status);
    if (status != DN_OK) {
        DN_FUZZ_CHECK(st.count == 0 && st.meta_count == 0);
        dn_safetensors_free(&st);
        return 0;
    }
    check_object(&st);

    /* Round trip: what was read can be written, and reads back the same. */
    char path[256];
    snprintf(path, sizeof path, "%s/digitnet-fuzz-st-%ld.safetensors",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
    dn_clear_error();
    status = dn_safetensors_write(&st, path);
    dn_fuzz_check_failure(status);
    DN_FUZZ_CHECK(status == DN_OK);
    dn_safetensors back;
    status = dn_safetensors_read(&back, path);
    if (status != DN_OK)
        fprintf(stderr, "re-read failed: %s\n", dn_last_error());
    DN_FUZZ_CHECK(status == DN_OK);
    check_same(&st, &back);
    dn_safetensors_free(&back);
    unlink(path);

    dn_safetensors_free(&st);
    DN_FUZZ_CHECK(st.count == 0 && st.tensors == NULL);
    dn_safetensors_free(&st);
    return 0;
}
