/* A fuzz campaign: cases 0, 1, 2 ... of one target, each generated from
 * (seed, case index) alone and run in-process; --jobs N forks N workers
 * that take the cases striped (worker j runs j, j+N, ...). The campaign
 * stops at its first failing case -- the lowest failing index, whatever
 * the number of jobs -- shrinks it, and writes both cases (YAML and trace)
 * and a SQLite summary (campaign.db) to the output directory. */
#ifndef HVSIM_FUZZ_ENGINE_CAMPAIGN_H
#define HVSIM_FUZZ_ENGINE_CAMPAIGN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz/engine/shrink.h"
#include "fuzz/gen/target.h"

#define FZ_MAX_JOBS 64
#define FZ_NONE UINT64_MAX

struct fz_campaign_opts {
	const struct fz_target *t;
	uint64_t seed;
	uint64_t iters;        /* cases at most (0: unbounded, needs seconds) */
	double seconds;        /* wall-clock budget (0: none) */
	unsigned jobs;         /* 1..FZ_MAX_JOBS */
	const char *out_dir;   /* NULL: write nothing */
	uint64_t inject;       /* injection set (fuzz/gen/names.h) in every case
	                          (test-only); a
	                          case that fails without it too is skipped */
	bool progress;         /* progress line on stderr */
	unsigned shrink_runs;  /* candidate budget of the shrinker */
	bool count_only;       /* benchmarks: run every case, count failures,
	                          neither stop nor shrink */
};

struct fz_campaign_result {
	uint64_t cases, invalid;       /* run; of them invalid (input errors) */
	uint64_t failing;              /* count_only: cases that failed */
	uint64_t fail_index;           /* FZ_NONE: no failure */
	uint64_t baseline_fail;        /* with inject: cases that fail without it too
	                                  (skipped: not the injected bug) */
	uint64_t first_baseline;
	char sig[64], first[600];      /* the failure (original case) */
	char config[600];              /* its machine and configuration */
	char first_invalid[600];       /* the first invalid case's error */
	uint64_t first_invalid_index;
	uint32_t reached;
	uint64_t first_reached[FZ_MAX_STATES]; /* FZ_NONE: never */
	double seconds;
	struct fz_shrink_stats shrink;
	char shrunk_first[600];        /* the shrunk case's violation */
	char files[4][512];            /* orig yaml, orig trace, yaml, trace */
	unsigned nfiles;
	char err[600];                 /* campaign error (exit 2) */
};

/* 0 clean, 1 a failure found (shrunk and written), 2 error (r->err). */
int fz_campaign(const struct fz_campaign_opts *o, struct fz_campaign_result *r);

/* Case `index` of a campaign: decoded and given the injection. 0 or -1. */
int fz_case_scenario(const struct fz_target *t, uint64_t seed, uint64_t index, uint64_t inject,
                     struct scenario *sc);

#endif
