/* The byte source every fuzz generator draws its choices from.
 *
 * One decoder per target turns bytes into a scenario; the bytes come either
 * from libFuzzer (a buffer: once it is exhausted every draw is 0, so any
 * input, even empty, decodes to a valid case) or from the campaign's PRNG
 * (sim/prng), seeded from (campaign seed, case index) alone. Both feed the
 * same decoder, so a libFuzzer input and a PRNG case explore the same
 * space and the built-in generator is the decoder.
 */
#ifndef HVSIM_FUZZ_GEN_BYTESRC_H
#define HVSIM_FUZZ_GEN_BYTESRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/prng.h"

struct bytesrc {
	const uint8_t *data; /* NULL: draw from prng */
	size_t len, pos;
	struct prng prng;
	uint64_t draws;      /* choices taken (bounds the decoders' loops) */
};

/* A PRNG-backed source for case `index` of the campaign `seed`: the same
 * pair always gives the same bytes, whatever ran before. */
void bytesrc_case(struct bytesrc *b, uint64_t seed, uint64_t index);
/* A source over a buffer (libFuzzer input); zeros after its end. */
void bytesrc_buffer(struct bytesrc *b, const uint8_t *data, size_t len);

/* Uniform-ish in [0, bound) (bound 0 or 1: 0). From a buffer: as many
 * bytes as bound needs, little-endian, reduced modulo bound. */
uint64_t bs_below(struct bytesrc *b, uint64_t bound);
/* true with probability percent/100. */
bool bs_chance(struct bytesrc *b, unsigned percent);
/* One of n weighted choices (weights sum > 0): its index. */
unsigned bs_weighted(struct bytesrc *b, const unsigned *weights, unsigned n);
/* True when a buffer source has been read to its end (a decoder may stop
 * adding ops then). Never for a PRNG source. */
bool bs_exhausted(const struct bytesrc *b);

#endif
