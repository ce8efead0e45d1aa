/* fuzz_spec.c - libFuzzer harness for architecture spec strings: dn_net_new
 * on an arbitrary NUL-terminated string; a net that builds must print a
 * canonical spec that builds the same net again and export as ONNX, and
 * small nets are run. */
#include <stddef.h>
#include <stdint.h>

#include "digitnet/net.h"
#include "digitnet/onnx.h"
#include "fuzz_common.h"
#include "fuzz_net.h"

/* Longer strings only slow the fuzzer down: the grammar has 256 statements of
 * at most 8 words, and every number is at most 7 digits. */
enum { SPEC_FUZZ_MAX_LEN = 4096 };
/* 2^26 parameters: 512 MB with the gradients, well inside -rss_limit_mb=2048. */
#define SPEC_FUZZ_MAX_PARAMS ((size_t)1 << 26)
/* The ONNX export holds the weights about three times over while encoding. */
#define SPEC_FUZZ_MAX_ONNX_PARAMS ((size_t)1 << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SPEC_FUZZ_MAX_LEN)
        return 0;
    char *spec = malloc(size + 1);
    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';

    /* dn_net_spec_param_count must agree with dn_net_new without building.
     * Nets the library allows but that would cost more than the fuzzer's
     * memory budget (2^28 parameters is 2 GB with the gradients) are only
     * counted: their allocation is the documented behaviour. */
    size_t predicted = 0;
    dn_clear_error();
    dn_status counted = dn_net_spec_param_count(spec, &predicted);
    dn_fuzz_check_failure(counted);
    if (counted == DN_OK && predicted > SPEC_FUZZ_MAX_PARAMS) {
        free(spec);
        return 0;
    }

    dn_net *net = (dn_net *)1;
    dn_clear_error();
    dn_status status = dn_net_new(&net, spec, 7);
    dn_fuzz_check_failure(status);
    /* A spec that counts builds (unless short of memory, or over the net's
     * memory limit for one sample), and one that does not count does not build. */
    DN_FUZZ_CHECK((counted == DN_OK) == (status == DN_OK || status == DN_ERR_NOMEM || status == DN_ERR_LIMIT));
    if (status == DN_ERR_LIMIT) { /* the limit is what the spec says it needs */
        size_t bytes = 0;
        DN_FUZZ_CHECK(dn_net_spec_memory(spec, 1, &bytes) == DN_OK && bytes > DN_NET_DEFAULT_MEMORY_LIMIT);
    }
    if (status == DN_OK)
        DN_FUZZ_CHECK(dn_net_param_count(net) == predicted);
    if (status != DN_OK) {
        DN_FUZZ_CHECK(net == NULL);
        free(spec);
        return 0;
    }
    DN_FUZZ_CHECK(net != NULL);

    /* The canonical spec is a fixed point. */
    const char *canon = dn_net_spec(net);
    dn_net *again = NULL;
    status = dn_net_new(&again, canon, 7);
    if (status != DN_OK)
        fprintf(stderr, "canonical spec '%s' does not build: %s\n", canon, dn_last_error());
    DN_FUZZ_CHECK(status == DN_OK);
    DN_FUZZ_CHECK(strcmp(dn_net_spec(again), canon) == 0);
    DN_FUZZ_CHECK(dn_net_param_count(again) == dn_net_param_count(net));
    DN_FUZZ_CHECK(memcmp(dn_net_params(again), dn_net_params(net),
                         dn_net_param_count(net) * sizeof(float)) == 0); /* same seed, same weights */
    dn_net_free(again);

    /* Every net the spec language builds exports as ONNX. */
    if (predicted <= SPEC_FUZZ_MAX_ONNX_PARAMS) {
        uint8_t *onnx = NULL;
        size_t onnx_len = 0;
        status = dn_onnx_encode(&onnx, &onnx_len, net, NULL, &(dn_onnx_options){.probabilities = true});
        if (status != DN_OK && status != DN_ERR_NOMEM)
            fprintf(stderr, "'%s' does not export as ONNX: %s\n", canon, dn_last_error());
        DN_FUZZ_CHECK(status == DN_OK || status == DN_ERR_NOMEM);
        if (status == DN_OK) /* ir_version first, and every weight in it */
            DN_FUZZ_CHECK(onnx_len > 4 * predicted && onnx[0] == 0x08 && onnx[1] == DN_ONNX_IR_VERSION);
        dn_free(onnx);
    }

    dn_fuzz_exercise_net(net);
    dn_net_free(net);
    free(spec);
    return 0;
}
