/* Simulated system calls per second of host time for seed 003's
 * syscall-heavy PV workload, with and without SQLite recording.
 *
 *   bench_pv [FILE [RUNS]]   FILE: a seed-003 workload scenario (default
 *                            scenarios/seed-003-xpti-pcid.yaml, also looked
 *                            for in ../, ../../ and ../../../ so that the
 *                            bench runs from a build directory); RUNS:
 *                            scenario runs per timed sample (default 20),
 *                            best of 3 samples. `bench_pv FILE 1` is a
 *                            smoke run (one run per sample, well under 1 s).
 *
 * The scenario is loaded once and run with run_scenario() as `hvsim run`
 * does (every event generated, properties checked in process): first with
 * no recording, then with db_path set to a file in a mkdtemp directory
 * (removed before each run). The system calls are the scenario's syscall
 * ops (each runs once per run). Printed: syscalls/s of host time for both,
 * the ratio (recorded/bare), and the simulated cycles per syscall.
 * Wall-clock time is allowed here and nowhere in the simulator. No timed
 * assertions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/run.h"
#include "scenario/scenario.h"

#define DEFAULT_FILE "scenarios/seed-003-xpti-pcid.yaml"
#define SAMPLES 3

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_pv: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* Loads path, or for the default, the first of it, ../it, ../../it, ... */
static void load(const char *path, bool search, struct scenario *sc, char *used, size_t len)
{
	static const char *const up[] = {"", "../", "../../", "../../../"};
	struct sc_error e = {{0}};
	for (size_t i = 0; i < (search ? sizeof(up) / sizeof(up[0]) : 1); i++) {
		snprintf(used, len, "%s%s", up[i], path);
		if (access(used, R_OK) != 0)
			continue;
		if (scenario_load(used, sc, &e) != 0)
			die("cannot load the scenario", e.msg);
		return;
	}
	die("cannot open the scenario (give its path as the first argument)", path);
}

/* One timed sample: `runs` runs; returns seconds, fills *last. */
static double sample(const struct scenario *sc, const char *db, unsigned runs,
                     struct run_summary *last)
{
	double t0 = now();
	for (unsigned r = 0; r < runs; r++) {
		struct run_opts o;
		memset(&o, 0, sizeof(o));
		o.db_path = db;
		if (db && unlink(db) != 0 && errno != ENOENT)
			die("cannot remove the old recording", db);
		char err[512] = "";
		int rc = run_scenario(sc, &o, last, err, sizeof(err));
		if (rc != 0)
			die("the scenario did not pass", rc == 2 ? err : last->first);
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	const char *file = argc > 1 ? argv[1] : DEFAULT_FILE;
	unsigned runs = 20;
	if (argc > 2) {
		char *end;
		unsigned long v = strtoul(argv[2], &end, 10);
		if (*end || v == 0 || v > 1000000)
			die("RUNS must be 1..1000000", argv[2]);
		runs = (unsigned)v;
	}
	struct scenario sc;
	char used[4096];
	load(file, argc <= 1, &sc, used, sizeof(used));
	uint64_t syscalls = 0;
	for (uint32_t i = 0; i < sc.nops; i++)
		syscalls += sc.ops[i].kind == OP_SYSCALL;
	if (syscalls == 0)
		die("the scenario makes no system calls", used);

	char dir[] = "/tmp/bench_pv.XXXXXX";
	if (!mkdtemp(dir))
		die("mkdtemp failed", strerror(errno));
	char db[sizeof(dir) + 16];
	snprintf(db, sizeof(db), "%s/run.db", dir);

	double best_bare = 1e30, best_rec = 1e30;
	struct run_summary s;
	for (int k = 0; k < SAMPLES; k++) {
		double t = sample(&sc, NULL, runs, &s);
		if (t < best_bare)
			best_bare = t;
		t = sample(&sc, db, runs, &s);
		if (t < best_rec)
			best_rec = t;
	}
	unlink(db);
	rmdir(dir);

	double n = (double)syscalls * runs;
	double bare = n / best_bare, rec = n / best_rec;
	printf("bench_pv: %s (%s): %" PRIu64 " syscalls, %" PRIu64 " events, %" PRIu64
	       " simulated cycles per run (%.0f cycles/syscall); %u run(s) per sample, best of %d\n",
	       sc.name, used, syscalls, s.events, s.cycles, (double)s.cycles / (double)syscalls,
	       runs, SAMPLES);
	printf("  baseline (no recording): %12.0f simulated syscalls/s of host time (%.3f s)\n",
	       bare, best_bare);
	printf("  recorded (SQLite):       %12.0f simulated syscalls/s of host time (%.3f s)\n",
	       rec, best_rec);
	printf("  ratio recorded/baseline: %.3f\n", rec / bare);
	scenario_free(&sc);
	return 0;
}
