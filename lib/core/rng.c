/* rng.c - xoshiro256** (Blackman and Vigna) seeded by splitmix64. */
#include <math.h>

#include "digitnet/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void dn_rng_seed(dn_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->state[i] = splitmix64(&seed);
}

uint64_t dn_rng_next(dn_rng *rng)
{
    uint64_t *s = rng->state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t dn_rng_below(dn_rng *rng, uint64_t bound)
{
    /* Rejection sampling keeps every value equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
        x = dn_rng_next(rng);
    } while (x >= limit);
    return x % bound;
}

float dn_rng_uniform(dn_rng *rng) { return (float)(dn_rng_next(rng) >> 40) * 0x1.0p-24f; }

float dn_rng_range(dn_rng *rng, float low, float high)
{
    return low + (high - low) * dn_rng_uniform(rng);
}

float dn_rng_normal(dn_rng *rng)
{
    double u1 = ((double)(dn_rng_next(rng) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double u2 = (double)(dn_rng_next(rng) >> 11) * 0x1.0p-53;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void dn_rng_shuffle(dn_rng *rng, int *items, int count)
{
    for (int i = count - 1; i > 0; i--) {
        int j = (int)dn_rng_below(rng, (uint64_t)i + 1);
        int tmp = items[i];
        items[i] = items[j];
        items[j] = tmp;
    }
}
