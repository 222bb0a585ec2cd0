/* Random vm_event ring scenarios (seed 004): interleaved guest vCPUs,
 * foreign producers, helpers with latency, bursts and stalls, and rings
 * enabled and disabled, as scenario YAML -- for the randomized test
 * (tests/test_ring_random.c) and the fuzzer's ring target
 * (fuzz/gen/target_ring.c, `hvsim fuzz --target ring` and its libFuzzer
 * harness), which share this one generator. Every generated scenario ends
 * with all its rings enabled and helpers serving them until idle, so a
 * correct hypervisor holds every property on it. */
#ifndef HVSIM_RUNNER_RING_GEN_H
#define HVSIM_RUNNER_RING_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/prng.h"

/* Where the generator's choices come from: below(ctx, n) in [0, n) (n 0
 * or 1: 0). The PRNG for the test; a fuzz byte source for the ring
 * target. */
struct ring_gen_src {
	uint64_t (*below)(void *ctx, uint64_t n);
	void *ctx;
};

/* The ranges the generator draws from (the fuzz target's swarm). Each
 * "max" bounds a uniform draw 0..max (or 1..max); ring_gen_defaults() are
 * the ranges of ring_gen_scenario(). */
struct ring_gen_params {
	int mode;               /* -1 drawn; 0 waitq (the seed); 1 pause (before) */
	unsigned max_vcpus;     /* guest vCPUs drawn 1..max (<= RING_GEN_MAX_VCPUS) */
	unsigned slots_lo, slots_hi; /* ring sizes 2^lo..2^hi slots (hi <= 6) */
	int start_rings;        /* -1: paging, each other ring 1 in 2; else a
	                           mask of the rings enabled at the start */
	unsigned max_stalls;    /* helper: finite rounds, each then a stall */
	uint64_t max_latency;   /* helper response latency (cycles) */
	uint64_t max_burst;     /* responses per resume hypercall, 1..max */
	uint64_t max_round;     /* requests per finite helper round, 1..max */
	uint64_t max_stall;     /* stall length, 1..max cycles */
	unsigned max_admin;     /* enable/disable ops before the final enables */
	uint64_t max_admin_gap; /* admin delay before each, 1..max cycles */
	unsigned max_foreign;   /* foreign producer ops */
	uint64_t max_foreign_count, max_hold;
	unsigned release_in;    /* a waitq foreign op releases 1 time in N (0 never) */
	unsigned max_vcpu_ops;  /* per vCPU, 1..max ops */
	unsigned delay_in;      /* a vCPU op is a delay 1 time in N */
	uint64_t max_vcpu_gap;  /* vCPU delay, 1..max cycles */
	uint64_t max_events;    /* events per vm_event op, 1..max */
	uint64_t max_gap;       /* cycles between them, 0..max */
	unsigned nkinds;        /* vm_event kinds drawn from kinds[0..n) */
	uint8_t kinds[5];       /* 0 populate, 1 drop, 2 access, 3 share,
	                           4 populate_back */
};

#define RING_GEN_MAX_VCPUS 6

void ring_gen_defaults(struct ring_gen_params *p);

/* Writes a scenario into buf (NUL-terminated); returns its length, or 0
 * when cap is too small. inject: rings.inject names, comma-separated, or
 * NULL. */
size_t ring_gen_scenario(struct prng *p, const char *inject, char *buf, size_t cap);
/* The same with the given ranges, from any source of choices. */
size_t ring_gen_scenario_src(const struct ring_gen_params *gp, const struct ring_gen_src *src,
                             const char *inject, char *buf, size_t cap);

#endif
