/* fuzz_common.h - small helpers shared by the libFuzzer harnesses.
 * A broken invariant aborts, which libFuzzer reports as a crash with the input. */
#ifndef DN_FUZZ_COMMON_H
#define DN_FUZZ_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digitnet/status.h"

#define DN_FUZZ_CHECK(cond)                                                                    \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* A failing call must say why. */
static inline void dn_fuzz_check_failure(dn_status status)
{
    if (status != DN_OK && dn_last_error()[0] == '\0') {
        fprintf(stderr, "status %d (%s) with an empty dn_last_error()\n", (int)status,
                dn_status_name(status));
        abort();
    }
}

/* Writes bytes to a per-process file in /dev/shm (or $TMPDIR); returns its path
 * in path[size] or false. The file is rewritten on every call. */
static inline int dn_fuzz_write_temp(char *path, size_t size, const char *suffix,
                                     const unsigned char *data, size_t len)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(path, size, "%s/digitnet-fuzz-%ld%s", dir ? dir : "/tmp", (long)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(data, 1, len, f) == len;
    ok &= fclose(f) == 0;
    return ok;
}

#endif
