/* hvsim: the command line.
 *
 * Exit status everywhere: 0 all expectations and properties hold, 1 a
 * property or expectation was violated (the first one is printed with its
 * event number and cycle), 2 bad input (a one-line message names the file
 * and line/column, or the option).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/check.h"
#include "record/diff.h"
#include "runner/run.h"
#include "runner/timegrid.h"
#include "runner/suite.h"
#include "scenario/scenario.h"
#include "trace/trace.h"
#include "fuzz/engine/cli.h"

static const char usage_main[] =
	"usage: hvsim COMMAND [ARGS]\n"
	"\n"
	"Deterministic, cycle-approximate simulator of x86 TLB/MMU behaviour for\n"
	"testing hypervisor flushing, paging and address-space switching.\n"
	"\n"
	"commands:\n"
	"  run SCENARIO.yaml [--db FILE] [--trace FILE] [--seed N] [--stop-at-first]\n"
	"                    [--self-check]\n"
	"                      run one scenario; record it into SQLite with --db,\n"
	"                      write a replayable trace with --trace\n"
	"  replay TRACE [--db FILE]\n"
	"                      re-execute a trace; exit 1 at the first divergence\n"
	"  check FILE.db [--sql FILE] [--list]\n"
	"                      run the shipped property queries over a recording\n"
	"  diff A.db B.db      compare two recordings: runs, flushes, TLB counters,\n"
	"                      properties, first divergent event\n"
	"  suite [DIR...] [--out DIR] [--seed N] [--twice]\n"
	"                      run every scenario under DIRs (default: scenarios),\n"
	"                      record each into --out, print a summary table\n"
	"  fuzz --target pt|pcid|iommu|time|ring [--seed N] [--iters N | --time S]\n"
	"       [--jobs N] [--out DIR]\n"
	"                      generate and run cases until one fails; shrink it and\n"
	"                      write it as a scenario and a trace\n"
	"\n"
	"  hvsim --version     print the version\n"
	"  hvsim COMMAND --help  help for one command\n"
	"\n"
	"exit status: 0 ok, 1 property or expectation violated, 2 bad input\n"
	"docs: docs/scenario-format.md, docs/recording.md, docs/models.md\n";

static const char usage_run[] =
	"usage: hvsim run SCENARIO.yaml [--db FILE] [--trace FILE] [--seed N]\n"
	"                 [--stop-at-first] [--self-check]\n"
	"\n"
	"Runs the scenario on the simulated machine it describes. Every property\n"
	"(stale-access, quiescent-stale, pge-pcide, psc-freed-table) is checked\n"
	"in-process as the run goes; expectations in the scenario are checked\n"
	"where they stand. A scenario with a time: section (seed 002) also\n"
	"prints its row of the warp table, or with time.compare the rows of every\n"
	"time configuration (global, percpu, rendezvous, rendezvous+clamp).\n"
	"\n"
	"  --db FILE        record every event into a SQLite database (replaced\n"
	"                   if it exists; runs.status says whether it finished)\n"
	"  --trace FILE     write a trace: the scenario, seed, configuration and\n"
	"                   every free choice, with every event (zlib chunks with\n"
	"                   checksums); `hvsim replay FILE` re-executes it\n"
	"  --seed N         seed of the run's PRNG (scheduling ties, jitter);\n"
	"                   default: the scenario's `seed`, else 1\n"
	"  --stop-at-first  stop the run at the first property violation\n"
	"  --self-check     also verify the models' own invariants on every\n"
	"                   access (the concrete TLB never holds a translation\n"
	"                   the envelope does not allow); slower\n"
	"\n"
	"Prints a summary line. Exit 0: all hold; 1: the first violation or\n"
	"failed expectation is printed with its event number and cycle; 2: bad\n"
	"input (file:line:column: message).\n";

static const char usage_check[] =
	"usage: hvsim check FILE.db [--sql FILE] [--list]\n"
	"\n"
	"Runs property queries over a recording made with `hvsim run --db`.\n"
	"Without --sql, every shipped property (checks/*.sql, built in) runs;\n"
	"with --sql, only the given query: one SELECT returning the violating\n"
	"rows as (seq, cycle, cpu, explanation) (docs/recording.md).\n"
	"\n"
	"  --sql FILE  run this query instead of the shipped ones\n"
	"  --list      list the shipped properties and exit\n"
	"\n"
	"Exit 0: no violating rows; 1: some; 2: bad input (missing or\n"
	"non-SQLite file, SQL error).\n";

static const char usage_diff[] =
	"usage: hvsim diff A.db B.db\n"
	"\n"
	"Compares two recordings made with `hvsim run --db`, typically one\n"
	"scenario under two configurations or two builds. Prints small tables\n"
	"(A, B, delta, %; lines that differ start with '*'): the runs rows;\n"
	"flushes by instruction and caller, necessary/redundant, entries\n"
	"removed; TLB accesses, hits, walks, fills, evictions, faults, cycles;\n"
	"violating rows of every shipped property; and the first event where\n"
	"the two event streams diverge (docs/diff.md).\n"
	"\n"
	"Exit 0: identical event streams; 1: they differ; 2: bad input\n"
	"(missing file, not a database, not an hvsim recording, SQL error).\n";

static const char usage_suite[] =
	"usage: hvsim suite [DIR...] [--out DIR] [--seed N] [--twice]\n"
	"\n"
	"Runs every *.yaml scenario under the directories (default: scenarios),\n"
	"in path order, each recorded into --out (the scenario's path below its\n"
	"directory with .db). Prints per scenario: TLB fills, misses, flushes\n"
	"(necessary/redundant), cycles, result and the properties that fired.\n"
	"A twin scenario (`negative: PROPERTY`) passes when that property\n"
	"is reported and no expectation failed (CAUGHT).\n"
	"\n"
	"  --out DIR   directory for the recordings (created)\n"
	"  --seed N    seed for every run (default: each scenario's)\n"
	"  --twice     determinism self-check: run every scenario a second time\n"
	"              with the same seed; a different event digest is a failure\n"
	"              (NONDET)\n"
	"\n"
	"Exit 0: all passed; 1: some failed; 2: bad input.\n";

static const char usage_replay[] =
	"usage: hvsim replay TRACE [--db FILE]\n"
	"\n"
	"Re-executes a trace written by `hvsim run --trace`: its scenario, seed\n"
	"and every free choice the run made (scheduling ties, jitter), and\n"
	"compares every event with the trace's (docs/trace-format.md).\n"
	"\n"
	"  --db FILE  record the replayed run into SQLite (complete even after a\n"
	"             divergence, so `hvsim diff` can show what changed)\n"
	"\n"
	"Exit 0: identical digest; 1: diverged, the first divergent event is\n"
	"printed (sequence number, cycle, CPU, expected and actual); 2: the\n"
	"trace is corrupt or truncated (byte offset and what is wrong) or its\n"
	"scenario no longer loads.\n";

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > ((size_t)1 << 30)) {
				errno = EFBIG;
				break;
			}
			char *nb = realloc(buf, cap);
			if (!nb) {
				errno = ENOMEM;
				break;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0) {
			bool ok = !ferror(f);
			fclose(f);
			if (!ok) {
				free(buf);
				errno = EIO;
				return NULL;
			}
			buf[n] = 0;
			*len = n;
			return buf;
		}
	}
	fclose(f);
	free(buf);
	return NULL;
}

static int bad_usage(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "hvsim %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (hvsim %s --help)\n", cmd);
	return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static bool is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static int cmd_run(int argc, char **argv)
{
	const char *file = NULL;
	struct run_opts o = {.out = stdout};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			fputs(usage_run, stdout);
			return 0;
		} else if (strcmp(a, "--db") == 0) {
			if (++i == argc)
				return bad_usage("run", "%s needs a file", a);
			o.db_path = argv[i];
		} else if (strcmp(a, "--trace") == 0) {
			if (++i == argc)
				return bad_usage("run", "%s needs a file", a);
			o.trace_path = argv[i];
		} else if (strcmp(a, "--seed") == 0) {
			if (++i == argc || !parse_u64(argv[i], &o.seed))
				return bad_usage("run", "--seed: '%s' is not an unsigned integer",
				                 i < argc ? argv[i] : "");
			o.has_seed = true;
		} else if (strcmp(a, "--stop-at-first") == 0) {
			o.stop_at_first = true;
		} else if (strcmp(a, "--self-check") == 0) {
			o.self_check = true;
		} else if (a[0] == '-') {
			return bad_usage("run", "unknown option '%s'", a);
		} else if (file) {
			return bad_usage("run", "more than one scenario ('%s')", a);
		} else {
			file = a;
		}
	}
	if (!file)
		return bad_usage("run", "%sno scenario file given", "");
	/* Read once: the same bytes are loaded and, with --trace, stored. */
	size_t len;
	char *text = read_file(file, &len);
	if (!text) {
		fprintf(stderr, "%s: cannot open: %s\n", file, strerror(errno));
		return 2;
	}
	struct scenario sc;
	struct sc_error e;
	if (scenario_load_string(file, text, len, &sc, &e) != 0) {
		fprintf(stderr, "%s\n", e.msg);
		free(text);
		return 2;
	}
	o.scenario_text = text;
	o.scenario_len = len;
	struct run_summary s;
	char err[512];
	int rc = run_scenario(&sc, &o, &s, err, sizeof(err));
	free(text);
	if (rc == 2) {
		fprintf(stderr, "%s\n", err);
		scenario_free(&sc);
		return 2;
	}
	printf("%s: seed %" PRIu64 ", %" PRIu64 " events, %" PRIu64 " cycles; accesses %" PRIu64
	       " (L1 %" PRIu64 ", L2 %" PRIu64 ", misses %" PRIu64 "), fills %" PRIu64
	       ", flushes %" PRIu64 " (%" PRIu64 " necessary, %" PRIu64 " redundant), faults %" PRIu64
	       ", quiescent points %" PRIu64 "\n",
	       sc.name, s.seed, s.events, s.cycles, s.accesses, s.hits_l1, s.hits_l2, s.misses,
	       s.fills, s.flushes, s.flushes_necessary, s.flushes_redundant, s.faults,
	       s.quiesce_points);
	fputs(s.report, stdout);
	if (s.rings.used) {
		/* Seed 004's figures: stall time and throughput of the rings. */
		const struct ring_stats *r = &s.rings;
		printf("seed-004: mode %s; guest events %" PRIu64 ", requests %" PRIu64
		       ", responses %" PRIu64 "; vCPU stalls %" PRIu64 ", stall cycles %" PRIu64
		       " (%" PRIu64 " per guest event, longest %" PRIu64 "); paused for responses %"
		       PRIu64 " cycles; foreign stall cycles %" PRIu64 "; throughput %" PRIu64
		       " responses per Mcycle; notifications %" PRIu64 "; disable refused %" PRIu64
		       ", gave up %" PRIu64 "; drops lost %" PRIu64 "\n",
		       r->mode ? "pause" : "waitq", r->guest_events, r->puts, r->responses, r->stalls,
		       r->stall_cycles, r->guest_events ? r->stall_cycles / r->guest_events : 0,
		       r->stall_max, r->response_wait, r->foreign_stall_cycles,
		       s.cycles ? r->responses * 1000000 / s.cycles : 0, r->notifies, r->disable_busy,
		       r->give_ups, r->lost_drops);
	}
	if (rc == 1) {
		printf("VIOLATION %s\n", s.first);
		if (s.violations > 1 || s.expect_failures)
			printf("(%" PRIu64 " property violations [%s], %" PRIu64
			       " failed expectations in all)\n",
			       s.violations, s.props, s.expect_failures);
	} else {
		printf("all properties hold; digest %016" PRIx64 "\n", s.digest);
	}
	/* Seed 002: the warp table, of this run or of every configuration. */
	if (s.has_time && sc.time.compare) {
		if (time_table(stdout, &sc, &o, err, sizeof(err)) == 2) {
			fprintf(stderr, "%s\n", err);
			rc = 2;
		}
	} else if (s.has_time) {
		time_table_header(stdout, &sc);
		time_table_row(stdout, time_config_of(&sc), &s);
	}
	scenario_free(&sc);
	return rc;
}

static int cmd_replay(int argc, char **argv)
{
	const char *trace = NULL, *db = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			fputs(usage_replay, stdout);
			return 0;
		} else if (strcmp(a, "--db") == 0) {
			if (++i == argc)
				return bad_usage("replay", "%s needs a file", a);
			db = argv[i];
		} else if (a[0] == '-') {
			return bad_usage("replay", "unknown option '%s'", a);
		} else if (trace) {
			return bad_usage("replay", "more than one trace ('%s')", a);
		} else {
			trace = a;
		}
	}
	if (!trace)
		return bad_usage("replay", "%sno trace given", "");
	struct replay_result r;
	char err[600];
	int rc = trace_replay(trace, db, &r, err, sizeof(err));
	if (rc == 2) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (rc == 1) {
		printf("DIVERGED at event %" PRIu64 " (cycle %" PRIu64 ", cpu %d)\n"
		       "  expected: %s\n"
		       "  actual:   %s\n"
		       "trace: %" PRIu64 " events, digest %016" PRIx64 "; replay: %" PRIu64
		       " events, digest %016" PRIx64 "\n",
		       r.seq, r.cycle, r.cpu, r.expected, r.actual, r.trace_events, r.trace_digest,
		       r.events, r.digest);
		return 1;
	}
	printf("identical: %" PRIu64 " events, digest %016" PRIx64 "%s\n", r.events, r.digest,
	       r.run_exit ? " (the run itself reports property violations, as recorded)" : "");
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	const char *db = NULL, *sql = NULL;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			fputs(usage_check, stdout);
			return 0;
		} else if (strcmp(a, "--list") == 0) {
			check_list(stdout);
			return 0;
		} else if (strcmp(a, "--sql") == 0) {
			if (++i == argc)
				return bad_usage("check", "%s needs a file", a);
			sql = argv[i];
		} else if (a[0] == '-') {
			return bad_usage("check", "unknown option '%s'", a);
		} else if (db) {
			return bad_usage("check", "more than one database ('%s')", a);
		} else {
			db = a;
		}
	}
	if (!db)
		return bad_usage("check", "%sno database given", "");
	char err[512];
	int rc = check_db(db, sql, stdout, err, sizeof(err));
	if (rc == CHECK_BAD_INPUT)
		fprintf(stderr, "%s\n", err);
	return rc;
}

static int cmd_diff(int argc, char **argv)
{
	const char *db[2];
	int n = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			fputs(usage_diff, stdout);
			return 0;
		} else if (a[0] == '-') {
			return bad_usage("diff", "unknown option '%s'", a);
		} else if (n == 2) {
			return bad_usage("diff", "more than two databases ('%s')", a);
		} else {
			db[n++] = a;
		}
	}
	if (n < 2)
		return bad_usage("diff", "%stwo databases needed (A.db B.db)", "");
	char err[512];
	int rc = diff_db(db[0], db[1], stdout, err, sizeof(err));
	if (rc == DIFF_BAD_INPUT)
		fprintf(stderr, "%s\n", err);
	return rc;
}

static int cmd_suite(int argc, char **argv)
{
	const char *dirs[64];
	struct suite_opts o = {.dirs = dirs, .out = stdout};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			fputs(usage_suite, stdout);
			return 0;
		} else if (strcmp(a, "--out") == 0) {
			if (++i == argc)
				return bad_usage("suite", "%s needs a directory", a);
			o.out_dir = argv[i];
		} else if (strcmp(a, "--twice") == 0) {
			o.twice = true;
		} else if (strcmp(a, "--seed") == 0) {
			if (++i == argc || !parse_u64(argv[i], &o.seed))
				return bad_usage("suite", "--seed: '%s' is not an unsigned integer",
				                 i < argc ? argv[i] : "");
			o.has_seed = true;
		} else if (a[0] == '-') {
			return bad_usage("suite", "unknown option '%s'", a);
		} else if (o.ndirs == 64) {
			return bad_usage("suite", "too many directories ('%s')", a);
		} else {
			dirs[o.ndirs++] = a;
		}
	}
	if (o.ndirs == 0)
		dirs[o.ndirs++] = "scenarios";
	return suite_run(&o);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_main, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (is_help(cmd) || strcmp(cmd, "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("hvsim %s\n", HVSIM_VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(cmd, "replay") == 0)
		return cmd_replay(argc - 2, argv + 2);
	if (strcmp(cmd, "diff") == 0)
		return cmd_diff(argc - 2, argv + 2);
	if (strcmp(cmd, "suite") == 0)
		return cmd_suite(argc - 2, argv + 2);
	if (strcmp(cmd, "fuzz") == 0)
		return fz_cli_main(argc - 2, argv + 2);
	fprintf(stderr, "hvsim: unknown command '%s' (hvsim --help)\n", cmd);
	return 2;
}
