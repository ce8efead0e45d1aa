/* fuzz_learn_params.c - libFuzzer harness for the body of dn-canvas's POST
 * /api/train (learn_params_parse): every input is either refused with a
 * reason or gives parameters in their ranges. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "learn_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes, so ASan sees overreads */
    if (size)
        memcpy(copy, data, size);
    learn_params p;
    char why[256];
    why[0] = '\0';
    if (learn_params_parse(copy, size, &p, why, sizeof why)) {
        DN_FUZZ_CHECK(p.model == 0 || p.model == 1);
        DN_FUZZ_CHECK(p.epochs >= 1 && p.epochs <= LEARN_MAX_EPOCHS);
        DN_FUZZ_CHECK(p.limit == 0 || (p.limit >= LEARN_MIN_LIMIT && p.limit <= 1000000));
        DN_FUZZ_CHECK(size >= 15); /* {"model":"cnn"} at least */
    } else {
        DN_FUZZ_CHECK(why[0] != '\0' && memchr(why, '\0', sizeof why) != NULL);
    }
    free(copy);
    return 0;
}
