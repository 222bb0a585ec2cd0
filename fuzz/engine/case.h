/* Running one fuzz case in-process: the runner with the properties on
 * (record/checker.c), the target's observer attached, no SQLite. */
#ifndef HVSIM_FUZZ_ENGINE_CASE_H
#define HVSIM_FUZZ_ENGINE_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz/gen/target.h"
#include "scenario/scenario.h"

enum { FZ_PASS = 0, FZ_FAIL = 1, FZ_INVALID = 2 };

struct fz_result {
	int rc;              /* FZ_PASS, FZ_FAIL, FZ_INVALID (input error) */
	char sig[64];        /* FZ_FAIL: the first property (or target oracle)
	                        violated, or "expectation" */
	char first[600];     /* its one-line explanation; FZ_INVALID: the error */
	uint32_t reached;    /* the target's states reached */
	uint64_t events, digest;
};

struct fz_case_opts {
	bool stop_at_first;        /* stop at the first violation (fast) */
	const char *trace_path;    /* write a trace (needs scenario_text) */
	const char *scenario_text; /* the case as YAML, for the trace */
	size_t scenario_len;
};

/* Returns r->rc. */
int fz_run_case(const struct fz_target *t, const struct scenario *sc,
                const struct fz_case_opts *o, struct fz_result *r);

#endif
