/* Fuzz throughput: cases per second of each built fuzz target, on one
 * core (--jobs 1) and with two worker processes (--jobs 2), beside a
 * baseline measured in the same run: the decoder alone (cases generated
 * and freed, not run), which bounds what running them can reach.
 *
 * usage: bench_fuzz [CASES]   (default 20000 per measurement)
 * Every case is run to its end (no stop at a failure, no shrinking): the
 * campaign's count_only mode. Issue 9 aims at 5,000 pt cases/s on one
 * core. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fuzz/engine/campaign.h"
#include "fuzz/gen/bytesrc.h"
#include "fuzz/gen/target.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double decode_rate(const struct fz_target *t, uint64_t n)
{
	double t0 = now_s();
	uint64_t ops = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct scenario sc;
		if (fz_case_scenario(t, 1, i, 0, &sc) != 0) {
			fprintf(stderr, "bench_fuzz: out of memory\n");
			exit(2);
		}
		ops += sc.nops;
		scenario_free(&sc);
	}
	double dt = now_s() - t0;
	printf("  %-6s decode only (baseline): %10.0f cases/s  (%.1f ops per case)\n", t->name,
	       (double)n / dt, (double)ops / (double)n);
	return (double)n / dt;
}

static double run_rate(const struct fz_target *t, uint64_t n, unsigned jobs)
{
	struct fz_campaign_opts o = {.t = t, .seed = 1, .iters = n, .jobs = jobs,
	                             .count_only = true};
	struct fz_campaign_result *r = calloc(1, sizeof(*r));
	if (!r || fz_campaign(&o, r) == 2) {
		fprintf(stderr, "bench_fuzz: %s\n", r ? r->err : "out of memory");
		exit(2);
	}
	double rate = (double)r->cases / r->seconds;
	printf("  %-6s run, %u job%s:            %10.0f cases/s  (%" PRIu64 " cases in %.2f s, "
	       "%" PRIu64 " failing, %" PRIu64 " invalid)\n",
	       t->name, jobs, jobs > 1 ? "s" : " ", rate, r->cases, r->seconds, r->failing,
	       r->invalid);
	free(r);
	return rate;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;
	if (n == 0)
		n = 1;
	printf("bench_fuzz: %" PRIu64 " cases of seed 1 per measurement\n", n);
	for (unsigned k = 0; fz_targets[k]; k++) {
		const struct fz_target *t = fz_targets[k];
		if (!t->built)
			continue;
		double base = decode_rate(t, n);
		double one = run_rate(t, n, 1);
		double two = run_rate(t, n, 2);
		printf("  %-6s running costs %.1fx the decoding; 2 jobs: %.2fx of 1 job\n", t->name,
		       base / one, two / one);
	}
	return 0;
}
