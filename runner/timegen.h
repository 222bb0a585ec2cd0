/* Random time scenarios, built in-process (no YAML): the generator the
 * randomized test uses and a fuzzer can drive (`hvsim fuzz --target time`,
 * issue 9). A generated scenario is valid by construction: vCPUs are only
 * read or messaged from where they run, and every migration is preceded by
 * a barrier so that program order across CPUs is time order there. Run it
 * with run_scenario(): the time properties are checked in-process and
 * reported in the summary (violations, props). */
#ifndef HVSIM_RUNNER_TIMEGEN_H
#define HVSIM_RUNNER_TIMEGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario/scenario.h"
#include "sim/prng.h"

struct timegen_params {
	uint32_t ncpus;        /* 1..8 */
	uint32_t vcpus;        /* 1..8 */
	uint32_t nops;         /* ops to generate (barriers included) */
	int mode;              /* SC_TIME_* */
	bool clamp;
	uint64_t offset_max;   /* per-core TSC offsets drawn 0..offset_max */
	int64_t drift_max_ppm; /* per-core drift drawn +-max (broken platform) */
	int64_t host_ppm;
	bool invariant;
	bool tsc_events;       /* also TSC writes, adjusts, C-states, freq changes */
	uint64_t max_every;    /* largest spacing of paced reads (cycles) */
	uint64_t max_delay;    /* largest idle stretch (cycles) */
	uint32_t period_ms;
	uint32_t inject;       /* SC_TIME_INJECT_* */
	bool guest_only;       /* no hypervisor reads, no messages to a
	                          hypervisor (what the guest clamp covers) */
	const char *profile;   /* NULL: skylake */
	const struct profile *resolved; /* that profile, already loaded (NULL:
	                                   loaded from its YAML here) */
};

/* Where the generator's choices come from: below(ctx, n) in [0, n) (n 0
 * or 1: 0). The PRNG for tests; a fuzz byte source for `hvsim fuzz
 * --target time` and its libFuzzer harness (fuzz/gen/target_time.c), so
 * both explore through this one generator. */
struct timegen_src {
	uint64_t (*below)(void *ctx, uint64_t n);
	void *ctx;
};

/* Fills sc (free with scenario_free). Returns 0, or -1 (memory/profile). */
int timegen_scenario(struct scenario *sc, const struct timegen_params *p, struct prng *rng);
/* The same from any source of choices. */
int timegen_scenario_src(struct scenario *sc, const struct timegen_params *p,
                         const struct timegen_src *src);

/* A bound on the work a time scenario's run does: its reads plus the
 * periodic updates over the longest span its ops can cover. Fuzzing
 * harnesses skip running inputs above their budget (0 when no time:). */
uint64_t time_scenario_cost(const struct scenario *sc);

#endif
