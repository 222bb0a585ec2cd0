/* Byte sources for the fuzz decoders (fuzz/gen/bytesrc.h). */
#include "fuzz/gen/bytesrc.h"

#include <assert.h>
#include <string.h>

/* splitmix64 finaliser: (seed, index) -> the case's PRNG seed, so that
 * case i never depends on cases before it (--jobs stripes cases). */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void bytesrc_case(struct bytesrc *b, uint64_t seed, uint64_t index)
{
	memset(b, 0, sizeof(*b));
	prng_seed(&b->prng, mix(seed + 0x9e3779b97f4a7c15ull) ^ mix(index * 0xd1b54a32d192ed03ull + 1));
}

void bytesrc_buffer(struct bytesrc *b, const uint8_t *data, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->data = data ? data : (const uint8_t *)"";
	b->len = data ? len : 0;
}

uint64_t bs_below(struct bytesrc *b, uint64_t bound)
{
	b->draws++;
	if (bound <= 1)
		return 0;
	if (!b->data)
		return prng_below(&b->prng, bound);
	uint64_t v = 0;
	unsigned shift = 0;
	/* Only as many bytes as the bound needs: short inputs stay meaningful
	 * and libFuzzer's byte-level mutations map to single choices. */
	for (uint64_t need = bound - 1; need && shift < 64; need >>= 8, shift += 8)
		v |= (uint64_t)(b->pos < b->len ? b->data[b->pos++] : 0) << shift;
	return v % bound;
}

bool bs_chance(struct bytesrc *b, unsigned percent)
{
	return bs_below(b, 100) < percent;
}

unsigned bs_weighted(struct bytesrc *b, const unsigned *weights, unsigned n)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += weights[i];
	assert(total > 0);
	uint64_t r = bs_below(b, total);
	for (unsigned i = 0; i < n; i++) {
		if (r < weights[i])
			return i;
		r -= weights[i];
	}
	return n - 1;
}

bool bs_exhausted(const struct bytesrc *b)
{
	return b->data && b->pos >= b->len;
}
