/* Running a scenario: build the machine, attach the sinks, interleave the
 * CPUs' programs with the discrete-event scheduler, check expectations
 * and properties, and summarise.
 */
#ifndef HVSIM_RUNNER_RUN_H
#define HVSIM_RUNNER_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "runner/timeops.h"
#include "runner/ring.h"
#include "scenario/scenario.h"
#include "sim/bus.h"
#include "sim/machine.h"

struct run_opts {
	uint64_t seed;      /* used when has_seed, else the scenario's, else 1 */
	bool has_seed;
	const char *db_path; /* NULL: no SQLite recording */
	FILE *out;          /* violations and messages; NULL: silent */
	bool stop_at_first; /* stop the run at the first violation */
	bool self_check;    /* check the models' own invariants (slow) */
	const struct choice_hooks *choices; /* replay hooks, or NULL */
	const char *trace_path; /* write a trace of the run (trace/format.h) */
	const char *scenario_text; /* the scenario's source, for the trace */
	size_t scenario_len;
	/* Replay: the input files a scenario reads, from the trace. */
	const void *(*file_get)(void *ctx, const char *name, size_t *len);
	void *file_ctx;
	const struct sink *extra; /* more sinks to attach (tests, tools) */
	unsigned nextra;
	uint64_t time_max_ticks; /* periodic updates allowed (0: TIME_MAX_TICKS) */
};

struct run_summary {
	uint64_t seed;
	uint64_t events;
	uint64_t digest;    /* FNV-1a over every event's fields (sim/bus.h) */
	uint64_t cycles;    /* largest CPU clock at the end */
	uint64_t accesses, hits_l1, hits_l2, misses, walks, fills, evictions;
	                    /* hits: accesses served by the L1/L2 TLB; misses:
	                       page walks (misses and dirty assists) */
	uint64_t flushes, flushes_necessary, flushes_redundant, faults;
	uint64_t quiesce_points, stale_at_quiesce;
	uint64_t sched_choices; /* scheduling decisions drawn from the PRNG */
	uint64_t violations;    /* in-process property violations */
	uint64_t expect_failures;
	char first[512];        /* first violation or failure, one line */
	char props[256];        /* "stale-access,..." that fired, or "" */
	char report[4096];      /* subsystem summary lines ("iommu ...\n"),
	                           or "" */
	int exit_code;          /* 0 ok, 1 violation/expectation, 2 bad input */
	bool has_time;          /* a time scenario (seed 002): */
	struct time_stats time; /* its reads, backward steps and warps */
	struct ring_stats rings; /* vm_event rings (seed 004), if any */
};

/* Returns the exit code (also in sum->exit_code). On exit 2, err holds a
 * one-line message naming the file and line or the field. */
int run_scenario(const struct scenario *sc, const struct run_opts *o,
                 struct run_summary *sum, char *err, size_t errlen);

#endif
