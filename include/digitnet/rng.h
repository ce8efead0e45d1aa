/* digitnet/rng.h - the library's seeded pseudo-random generator.
 *
 * xoshiro256** seeded through splitmix64: fast, good statistical quality and
 * the same sequence on every platform. There is no global generator; every
 * function that needs randomness takes a dn_rng, so a run is reproducible
 * from its seed. A dn_rng is a plain value the caller owns (no release
 * needed); none of these functions can fail.
 *
 * Conventions (errors, ownership, threads) are those of digitnet.h.
 *
 * Thread-safety: a dn_rng is changed by every draw, so one generator must
 * not be used by two threads at once; give each thread its own. */
#ifndef DIGITNET_RNG_H
#define DIGITNET_RNG_H

#include <stdint.h>

#include "digitnet/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dn_rng {
    uint64_t state[4];
} dn_rng;

/* Seeds the generator; every seed, 0 included, gives a usable state. */
DN_API void dn_rng_seed(dn_rng *rng, uint64_t seed);

/* Next 64 random bits. */
DN_API uint64_t dn_rng_next(dn_rng *rng);

/* Uniform integer in [0, bound), without modulo bias; bound must be >= 1. */
DN_API uint64_t dn_rng_below(dn_rng *rng, uint64_t bound);

/* Uniform float in [0, 1), 24 random bits. */
DN_API float dn_rng_uniform(dn_rng *rng);

/* Uniform float in [low, high). */
DN_API float dn_rng_range(dn_rng *rng, float low, float high);

/* Standard normal (Box-Muller, double precision internally). */
DN_API float dn_rng_normal(dn_rng *rng);

/* Fisher-Yates shuffle of count ints. */
DN_API void dn_rng_shuffle(dn_rng *rng, int *items, int count);

#ifdef __cplusplus
}
#endif
#endif
