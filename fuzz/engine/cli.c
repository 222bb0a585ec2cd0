/* `hvsim fuzz` (fuzz/engine/cli.h). */
#include "fuzz/engine/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/engine/campaign.h"
#include "fuzz/gen/names.h"

static const char usage[] =
	"usage: hvsim fuzz --target NAME [--seed N] [--iters N | --time S] [--jobs N]\n"
	"                  [--out DIR]\n"
	"\n"
	"Generates valid operation sequences for one target, with the machine and\n"
	"configuration drawn per case (swarm: profile, CPU count, features,\n"
	"policies, which op kinds and how often), runs each in-process with every\n"
	"property on, and stops at the first case that violates one. That case is\n"
	"shrunk to a minimal one failing the same way (ops removed, values and\n"
	"configuration simplified) and both are written to DIR as a YAML scenario\n"
	"and a trace: `hvsim run` the .yaml, `hvsim replay` the .hvtrace.\n"
	"\n"
	"targets:\n"
	"%s"
	"\n"
	"  --target NAME  what to fuzz (above)\n"
	"  --seed N       campaign seed (default 1); case i is generated from\n"
	"                 (seed, i) alone, so a campaign is reproducible case by case\n"
	"  --iters N      run cases 0..N-1 at most (default 10000 unless --time)\n"
	"  --time S       run for S seconds (wall clock) at most\n"
	"  --jobs N       N worker processes on this machine, cases striped (worker\n"
	"                 j runs j, j+N, ...); the failure found is the lowest failing\n"
	"                 case index, as with --jobs 1 (default 1)\n"
	"  --out DIR      where the cases and campaign.db go (default fuzz-out)\n"
	"\n"
	"Files in DIR: TARGET-SEED-CASE.orig.yaml/.orig.hvtrace (the failing case),\n"
	"TARGET-SEED-CASE.yaml/.hvtrace (shrunk), campaign.db (SQLite: campaigns,\n"
	"states with the first case reaching each, failures; view never_reached).\n"
	"A progress line (cases/s, failures, states reached) is shown on a terminal.\n"
	"The summary names every interesting state of the target that no case\n"
	"reached. docs/fuzzing.md has the targets, their states and budgets.\n"
	"\n"
	"Exit 0: no failure; 1: a failure (shrunk, written); 2: bad usage or error.\n";

static void print_usage(FILE *f)
{
	char list[2048];
	size_t o = 0;
	list[0] = 0;
	for (unsigned i = 0; fz_targets[i]; i++) {
		const struct fz_target *t = fz_targets[i];
		int w = snprintf(list + o, sizeof(list) - o, "  %-6s %s%s\n", t->name,
		                 t->built ? "" : "(not built yet) ", t->summary);
		if (w > 0 && (size_t)w < sizeof(list) - o)
			o += (size_t)w;
	}
	fprintf(f, usage, list);
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "hvsim fuzz: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (hvsim fuzz --help)\n");
	return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static void print_result(const struct fz_campaign_opts *o, const struct fz_campaign_result *r)
{
	printf("fuzz %s: seed %" PRIu64 ", %" PRIu64 " cases in %.1f s (%.0f cases/s, %u job%s)",
	       o->t->name, o->seed, r->cases, r->seconds,
	       r->seconds > 0 ? (double)r->cases / r->seconds : 0.0, o->jobs, o->jobs > 1 ? "s" : "");
	if (r->invalid)
		printf(", %" PRIu64 " invalid (first: case %" PRIu64 ": %s)", r->invalid,
		       r->first_invalid_index, r->first_invalid);
	printf("\n");
	if (r->baseline_fail)
		printf("%" PRIu64 " cases fail without the injection too (first: case %" PRIu64
		       "): skipped as not the injected bug\n", r->baseline_fail, r->first_baseline);
	unsigned n = 0;
	for (unsigned i = 0; i < o->t->nstates; i++)
		n += (r->reached >> i) & 1;
	printf("states reached: %u of %u\n", n, o->t->nstates);
	for (unsigned i = 0; i < o->t->nstates; i++)
		if ((r->reached >> i) & 1)
			printf("  %-22s first at case %" PRIu64 "\n", o->t->states[i].name,
			       r->first_reached[i]);
	if (n < o->t->nstates) {
		printf("NEVER REACHED:\n");
		for (unsigned i = 0; i < o->t->nstates; i++)
			if (!((r->reached >> i) & 1))
				printf("  %-22s %s\n", o->t->states[i].name, o->t->states[i].what);
	}
	if (r->fail_index == FZ_NONE) {
		printf("no failure\n");
		return;
	}
	printf("FAILURE at case %" PRIu64 ": %s\n", r->fail_index, r->first);
	printf("shrunk from %u to %u ops (%u candidates run): %s\n", r->shrink.ops_before,
	       r->shrink.ops_after, r->shrink.runs, r->shrunk_first);
	for (unsigned i = 0; i < r->nfiles; i++)
		printf("  wrote %s\n", r->files[i]);
}

int fz_cli_main(int argc, char **argv)
{
	struct fz_campaign_opts o = {.seed = 1, .jobs = 1, .out_dir = "fuzz-out",
	                             .shrink_runs = 4000};
	const char *target = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		uint64_t v;
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_usage(stdout);
			return 0;
		} else if (!strcmp(a, "--target")) {
			if (!val)
				return bad("%s needs a name", a);
			target = argv[++i];
		} else if (!strcmp(a, "--seed")) {
			if (parse_u64(val, &o.seed))
				return bad("--seed: '%s' is not an unsigned integer", val ? val : "");
			i++;
		} else if (!strcmp(a, "--iters")) {
			if (parse_u64(val, &o.iters) || !o.iters)
				return bad("--iters: '%s' is not a positive integer", val ? val : "");
			i++;
		} else if (!strcmp(a, "--time")) {
			char *end;
			errno = 0;
			double s = val ? strtod(val, &end) : 0;
			if (!val || errno || *end || !(s > 0) || s > 1e7)
				return bad("--time: '%s' is not a positive number of seconds",
				           val ? val : "");
			o.seconds = s;
			i++;
		} else if (!strcmp(a, "--jobs")) {
			if (parse_u64(val, &v) || v < 1 || v > FZ_MAX_JOBS)
				return bad("--jobs: '%s' is not in 1..64", val ? val : "");
			o.jobs = (unsigned)v;
			i++;
		} else if (!strcmp(a, "--out")) {
			if (!val || !*val)
				return bad("%s needs a directory", a);
			o.out_dir = argv[++i];
		} else if (!strcmp(a, "--inject")) {
			/* Test-only, not in --help: turns one of hv/hv.h's injected
			 * bugs on in every case (the system under test, not a
			 * generator choice), to show the fuzzer finds it. */
			uint64_t bit = val ? fz_inject_bit(val) : 0;
			if (!bit)
				return bad("--inject: unknown injection '%s'", val ? val : "");
			o.inject |= bit;
			i++;
		} else if (!strcmp(a, "--shrink-runs")) {
			if (parse_u64(val, &v) || v > 1000000)
				return bad("--shrink-runs: '%s' is not in 0..1000000", val ? val : "");
			o.shrink_runs = (unsigned)v;
			i++;
		} else {
			return bad("unknown argument '%s'", a);
		}
	}
	if (!target)
		return bad("%sno --target given", "");
	o.t = fz_target_find(target);
	if (!o.t) {
		char names[256];
		fz_target_names(names, sizeof(names), true);
		fprintf(stderr, "hvsim fuzz: --target: unknown target '%s' (built: %s)\n", target,
		        names);
		return 2;
	}
	if (!o.t->built) {
		fprintf(stderr, "hvsim fuzz: --target %s: not built yet (%s); available: ", target,
		        o.t->summary);
		char names[256];
		fz_target_names(names, sizeof(names), true);
		fprintf(stderr, "%s\n", names);
		return 2;
	}
	if (o.iters && o.seconds > 0)
		return bad("%s--iters and --time exclude each other", "");
	if (!o.iters && o.seconds <= 0)
		o.iters = 10000;
	o.progress = isatty(2) != 0;
	struct fz_campaign_result *r = calloc(1, sizeof(*r));
	if (!r)
		return fprintf(stderr, "hvsim fuzz: out of memory\n"), 2;
	int rc = fz_campaign(&o, r);
	if (rc == 2)
		fprintf(stderr, "hvsim fuzz: %s\n", r->err);
	else
		print_result(&o, r);
	free(r);
	return rc;
}
