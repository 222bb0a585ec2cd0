/* `hvsim suite`: every scenario under some directories, one recording
 * each, and a summary table. Negative scenarios (`negative: PROPERTY`, the
 * litmus twins without their invalidation) pass when that property is
 * reported and no expectation failed. */
#ifndef HVSIM_RUNNER_SUITE_H
#define HVSIM_RUNNER_SUITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct suite_opts {
	const char *const *dirs;
	unsigned ndirs;
	const char *out_dir; /* NULL: no recordings */
	uint64_t seed;
	bool has_seed;
	bool twice;          /* determinism self-check: run each scenario a
	                        second time and compare the event digests */
	FILE *out;
};

/* 0 all passed, 1 some failed, 2 bad input (no scenarios, bad file,
 * unwritable output directory). */
int suite_run(const struct suite_opts *o);

#endif
