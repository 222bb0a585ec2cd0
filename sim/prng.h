/* The one seeded PRNG of a run (xoshiro256**, seeded through splitmix64).
 *
 * Determinism rule: every free choice the simulation makes (scheduling ties,
 * latency jitter, fuzz generation) draws from a struct prng that is passed
 * explicitly. Nothing reads time, addresses or hash order. */
#ifndef HVSIM_SIM_PRNG_H
#define HVSIM_SIM_PRNG_H

#include <stdint.h>

struct prng {
	uint64_t s[4];
	uint64_t draws; /* number of 64-bit outputs taken, for traces */
};

void prng_seed(struct prng *p, uint64_t seed);
uint64_t prng_next(struct prng *p);
/* Uniform in [0, bound); bound > 0. Unbiased (rejection sampling, bounded
 * to a fixed number of retries before falling back to a modulo, which the
 * 2^-64-scale bias makes unobservable). */
uint64_t prng_below(struct prng *p, uint64_t bound);

#endif
