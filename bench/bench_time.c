/* Seed 002: the cost of simulated time.
 *
 *   bench_time [HOURS [READS]]   HOURS of simulated time for the idle-heavy
 *                                run (default 4), READS guest time reads for
 *                                the read-heavy run (default 2000000).
 *                                `bench_time 0.01 5000` is a smoke run.
 *
 * Idle-heavy: 4 CPUs each running a vCPU that reads its clock 4 times a
 * minute and is otherwise idle, per-CPU records with the rendezvous every
 * 250 ms (the seed's period): printed as simulated seconds per host second,
 * beside a baseline in the same run, the same scenario's delays and reads
 * with no time: section (the scheduler alone, RDTSC for the reads).
 * Read-heavy: back-to-back guest time reads (the pvclock reader with its
 * version loop) printed as simulated reads per host second, beside RDTSC
 * ops per host second. Scenarios are run with run_scenario() as `hvsim
 * run` does (every event generated, properties checked in process).
 * Wall-clock time is allowed here and nowhere in the simulator. No timed
 * assertions.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner/run.h"
#include "scenario/scenario.h"

#define MINUTE_CYCLES UINT64_C(180000000000) /* at the profile's 3 GHz */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_time: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* Appends to a growing text. */
struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (w < 0)
			die("format", NULL);
		if (b->n + (size_t)w < b->cap) {
			b->n += (size_t)w;
			return;
		}
		b->cap = b->cap * 2 + (size_t)w + 1024;
		if (!(b->p = realloc(b->p, b->cap)))
			die("out of memory", NULL);
	}
}

/* The idle-heavy scenario: minutes of 4 reads (or RDTSCs) and a minute
 * idle, on every CPU. */
static void idle_text(struct buf *b, uint64_t minutes, bool timed, unsigned period_ms)
{
	put(b, "hvsim: 1\nname: bench-idle\nmachine: {cpus: 4}\nhv: {}\n");
	if (timed)
		put(b, "time: {mode: rendezvous, offsets: 1040, host_ppm: 25, period_ms: %u}\n",
		    period_ms);
	put(b, "ops:\n");
	for (unsigned c = 0; c < 4; c++)
		if (timed)
			put(b, "  - {op: time_sched, cpu: %u, vcpu: %u}\n", c, c);
	for (uint64_t m = 0; m < minutes; m++)
		for (unsigned c = 0; c < 4; c++) {
			if (timed)
				put(b, "  - {op: time_read, cpu: %u, count: 4}\n", c);
			else
				for (int i = 0; i < 4; i++)
					put(b, "  - {op: rdtsc, cpu: %u}\n", c);
			put(b, "  - {op: delay, cpu: %u, cycles: %" PRIu64 "}\n", c, MINUTE_CYCLES);
		}
}

static void read_text(struct buf *b, uint64_t reads, bool timed)
{
	put(b, "hvsim: 1\nname: bench-reads\nmachine: {cpus: 1}\nhv: {}\n");
	if (timed)
		put(b, "time: {mode: rendezvous}\nops:\n  - {op: time_sched, vcpu: 0}\n"
		       "  - {op: time_read, count: %" PRIu64 "}\n", reads);
	else
		for (uint64_t i = 0; i < reads; i++)
			put(b, "%s  - {op: rdtsc}\n", i ? "" : "ops:\n");
}

/* Runs the text once; returns host seconds, fills the summary. */
static double run_text(const char *name, struct buf *b, struct run_summary *s)
{
	struct scenario sc;
	struct sc_error e = {{0}};
	char err[512];
	if (scenario_load_string(name, b->p, b->n, &sc, &e) != 0)
		die("cannot load the scenario", e.msg);
	struct run_opts o = {0};
	double t0 = now();
	int rc = run_scenario(&sc, &o, s, err, sizeof(err));
	double t = now() - t0;
	scenario_free(&sc);
	if (rc != 0)
		die("the run failed", rc == 2 ? err : s->first);
	return t > 1e-9 ? t : 1e-9;
}

int main(int argc, char **argv)
{
	double hours = argc > 1 ? strtod(argv[1], NULL) : 4;
	uint64_t reads = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	uint64_t minutes = (uint64_t)(hours * 60);
	if (minutes < 1)
		minutes = 1;
	if (reads < 1 || reads > 1000000)
		die("READS must be 1..1000000 (one RDTSC op each in the baseline)", NULL);
	struct buf b = {0};
	struct run_summary s;

	idle_text(&b, minutes, false, 0);
	double tb = run_text("bench-idle-base", &b, &s);
	double simb = (double)s.cycles / 3e9;
	static const unsigned periods[] = {250, 1000};
	double tt = 0;
	for (int i = 0; i < 2; i++) {
		b.n = 0;
		idle_text(&b, minutes, true, periods[i]);
		tt = run_text("bench-idle", &b, &s);
		double sim = (double)s.time.sim_ns / 1e9;
		printf("idle-heavy, %u ms period: %.0f simulated s (%" PRIu64 " time reads, %" PRIu64
		       " record updates, %" PRIu64 " events) in %.3f host s: %.0f simulated s per host s\n",
		       periods[i], sim, s.time.reads, s.time.updates, s.events, tt, sim / tt);
	}
	printf("  baseline (no time: section, RDTSC for the reads): %.0f simulated s in %.3f host s:"
	       " %.0f simulated s per host s\n", simb, tb, simb / tb);

	b.n = 0;
	read_text(&b, reads, true);
	tt = run_text("bench-reads", &b, &s);
	uint64_t n = s.time.reads;
	printf("read-heavy: %" PRIu64 " guest time reads (%" PRIu64 " retries) in %.3f host s: %.0f"
	       " reads per host s\n", n, s.time.retries, tt, (double)n / tt);
	b.n = 0;
	read_text(&b, reads, false);
	tb = run_text("bench-rdtsc", &b, &s);
	printf("  baseline (RDTSC ops, no time: section): %" PRIu64 " in %.3f host s: %.0f per host s\n",
	       reads, tb, (double)reads / tb);
	free(b.p);
	return 0;
}
