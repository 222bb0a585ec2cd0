#include "sim/prng.h"

#include <assert.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void prng_seed(struct prng *p, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix64(&x);
	p->draws = 0;
	/* xoshiro must not start from the all-zero state; splitmix64 output
	 * cannot produce four zero words in a row. */
	assert(p->s[0] | p->s[1] | p->s[2] | p->s[3]);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(struct prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	p->draws++;
	return result;
}

uint64_t prng_below(struct prng *p, uint64_t bound)
{
	assert(bound > 0);
	uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
	for (int i = 0; i < 64; i++) {
		uint64_t r = prng_next(p);
		if (r < limit)
			return r % bound;
	}
	return prng_next(p) % bound;
}
