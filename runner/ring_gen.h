/* Random vm_event ring scenarios (seed 004): interleaved guest vCPUs,
 * foreign producers, helpers with latency, bursts and stalls, and rings
 * enabled and disabled, as scenario YAML -- for the randomized test and
 * for a fuzzer's ring target. Every generated scenario ends with all its
 * rings enabled and helpers serving them until idle, so a correct
 * hypervisor holds every property on it. */
#ifndef HVSIM_RUNNER_RING_GEN_H
#define HVSIM_RUNNER_RING_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "sim/prng.h"

/* Writes a scenario into buf (NUL-terminated); returns its length, or 0
 * when cap is too small. inject: rings.inject names, comma-separated, or
 * NULL. */
size_t ring_gen_scenario(struct prng *p, const char *inject, char *buf, size_t cap);

#endif
