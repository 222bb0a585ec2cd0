/* Recording throughput: N synthetic events through bus_emit() into the
 * SQLite recorder, beside a baseline measured in the same run: the plain
 * best way to put the same rows into the same table (prepared single-row
 * INSERT, transactions of REC_COMMIT_ROWS, the recorder's pragmas), once
 * binding seq and once letting SQLite assign it as the rowid (as the
 * recorder's batches do), and the bus alone (event generation + digest, no
 * sink) for scale. The ratio is against the faster baseline.
 *
 *   bench_record [N [DIR [REPS]]]   N events (default 3000000), files in
 *                                   DIR (default $TMPDIR or /tmp), best
 *                                   of REPS runs (default 2)
 *
 * Wall-clock time is allowed here and nowhere in the simulator. */
#include <inttypes.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record/recorder.h"
#include "sim/bus.h"

/* The recorder's pragmas and its events table (record/schema.sql). */
static const char baseline_schema[] =
	"PRAGMA page_size = 65536;"
	"PRAGMA locking_mode = EXCLUSIVE;"
	"PRAGMA journal_mode = MEMORY;"
	"PRAGMA synchronous = OFF;"
	"PRAGMA temp_store = MEMORY;"
	"PRAGMA cache_spill = OFF;"
	"CREATE TABLE events (seq INTEGER PRIMARY KEY, cycle INTEGER,"
	" cpu INTEGER, type INTEGER, sub INTEGER, a INTEGER, b INTEGER,"
	" c INTEGER, d INTEGER, e INTEGER, f INTEGER, caller INTEGER);";

/* A deterministic, run-like mix: mostly accesses, some fills and walks,
 * a few flushes and PTE writes; realistic magnitudes for the varints. */
struct gen {
	uint64_t x, cycle;
};

static uint64_t rnd(struct gen *g)
{
	g->x ^= g->x << 13;
	g->x ^= g->x >> 7;
	g->x ^= g->x << 17;
	return g->x;
}

static void gen_event(struct gen *g, struct event *ev)
{
	static const uint16_t types[16] = {
		EV_ACCESS, EV_ACCESS, EV_ACCESS, EV_ACCESS, EV_ACCESS,
		EV_ACCESS, EV_ACCESS, EV_ACCESS, EV_ACCESS, EV_ACCESS,
		EV_FILL,   EV_FILL,   EV_WALK,   EV_EVICT,  EV_FLUSH,
		EV_PTE_WRITE,
	};
	uint64_t r = rnd(g);

	memset(ev, 0, sizeof(*ev));
	g->cycle += 1 + (r & 63);
	ev->cycle = g->cycle;
	ev->cpu = (int32_t)((r >> 6) & 1);
	ev->type = types[(r >> 8) & 15];
	ev->sub = (uint16_t)((r >> 12) & 3);
	ev->a = 0x7f0000000000ull | ((r >> 16) & 0xffffff) << 12;
	ev->b = ((r >> 20) & 0xfffff) << 12;
	ev->c = (r >> 40) & 7;
	ev->d = (r >> 44) & 3;
	ev->e = (r >> 46) & 1;
	ev->f = 1 + ((r >> 48) & 31);
	ev->caller = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t s64(uint64_t v)
{
	int64_t r;
	memcpy(&r, &v, sizeof(r));
	return r;
}

static void die_db(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench_record: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static double run_bus_only(uint64_t n)
{
	struct gen g = { .x = 88172645463325252ull };
	struct event ev;
	struct bus b;
	double t0 = now();

	bus_init(&b);
	for (uint64_t i = 0; i < n; i++) {
		gen_event(&g, &ev);
		bus_emit(&b, &ev);
	}
	bus_fini(&b);
	return now() - t0;
}

/* implicit_seq: seq left to SQLite (rowid = max + 1 = the event's seq). */
static double run_baseline(uint64_t n, const char *path, bool implicit_seq)
{
	static const char *const sql[2] = {
		"INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
		"INSERT INTO events (cycle, cpu, type, sub, a, b, c, d, e, f,"
		" caller) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	};
	const int o = implicit_seq ? -1 : 0;
	struct gen g = { .x = 88172645463325252ull };
	struct event ev;
	sqlite3 *db;
	sqlite3_stmt *st;
	double t0 = now();

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die_db(db, path);
	if (sqlite3_exec(db, baseline_schema, NULL, NULL, NULL) != SQLITE_OK)
		die_db(db, "schema");
	if (sqlite3_prepare_v2(db, sql[implicit_seq], -1, &st, NULL) !=
	    SQLITE_OK)
		die_db(db, "prepare");
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (uint64_t i = 0; i < n; i++) {
		gen_event(&g, &ev);
		ev.seq = i + 1;
		if (!implicit_seq)
			sqlite3_bind_int64(st, 1, s64(ev.seq));
		sqlite3_bind_int64(st, o + 2, s64(ev.cycle));
		sqlite3_bind_int64(st, o + 3, ev.cpu);
		sqlite3_bind_int64(st, o + 4, ev.type);
		sqlite3_bind_int64(st, o + 5, ev.sub);
		sqlite3_bind_int64(st, o + 6, s64(ev.a));
		sqlite3_bind_int64(st, o + 7, s64(ev.b));
		sqlite3_bind_int64(st, o + 8, s64(ev.c));
		sqlite3_bind_int64(st, o + 9, s64(ev.d));
		sqlite3_bind_int64(st, o + 10, s64(ev.e));
		sqlite3_bind_int64(st, o + 11, s64(ev.f));
		sqlite3_bind_int64(st, o + 12, ev.caller);
		if (sqlite3_step(st) != SQLITE_DONE)
			die_db(db, "insert");
		sqlite3_reset(st);
		if ((i + 1) % REC_COMMIT_ROWS == 0 &&
		    sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			die_db(db, "commit");
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die_db(db, "commit");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return now() - t0;
}

static double run_recorder(uint64_t n, const char *path)
{
	static const struct run_info info = {
		.scenario = "bench_record", .profile = "synthetic",
		.version = HVSIM_VERSION, .ncpus = 2,
	};
	struct gen g = { .x = 88172645463325252ull };
	struct recorder *r;
	struct event ev;
	struct bus b;
	char err[512];
	double t0 = now();

	bus_init(&b);
	if (recorder_open(path, &info, &r, err, sizeof(err))) {
		fprintf(stderr, "bench_record: %s\n", err);
		exit(1);
	}
	struct sink s = recorder_sink(r);
	bus_attach(&b, &s);
	bus_intern(&b, "hw");
	for (uint64_t i = 0; i < n; i++) {
		gen_event(&g, &ev);
		bus_emit(&b, &ev);
	}
	if (b.stop || recorder_close(r, "complete", 0, b.seq, b.digest,
	                             g.cycle, err, sizeof(err))) {
		fprintf(stderr, "bench_record: %s\n", err);
		exit(1);
	}
	bus_fini(&b);
	return now() - t0;
}

static double best(double a, double b)
{
	return a < b ? a : b;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 3000000;
	const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
	int reps = argc > 3 ? atoi(argv[3]) : 2;
	char base_path[4096], rec_path[4096];
	double t_bus = 1e30, t_base = 1e30, t_base2 = 1e30, t_rec = 1e30;
	struct stat sb;

	if (!dir || !*dir)
		dir = "/tmp";
	if (n == 0 || reps < 1) {
		fprintf(stderr, "usage: bench_record [N [DIR [REPS]]]\n");
		return 2;
	}
	snprintf(base_path, sizeof(base_path), "%s/bench_record_base.%d.db",
	         dir, (int)getpid());
	snprintf(rec_path, sizeof(rec_path), "%s/bench_record_rec.%d.db", dir,
	         (int)getpid());
	for (int i = 0; i < reps; i++) {
		t_bus = best(t_bus, run_bus_only(n));
		t_base = best(t_base, run_baseline(n, base_path, false));
		t_base2 = best(t_base2, run_baseline(n, base_path, true));
		t_rec = best(t_rec, run_recorder(n, rec_path));
	}
	printf("bench_record: %" PRIu64 " events, best of %d, SQLite %s, "
	       "batch %d rows, commit every %d rows\n",
	       n, reps, sqlite3_libversion(), REC_BATCH, REC_COMMIT_ROWS);
	printf("  bus only (no sink):          %8.3f s  %12.0f events/s\n",
	       t_bus, (double)n / t_bus);
	printf("  baseline, bare insert:       %8.3f s  %12.0f rows/s\n",
	       t_base, (double)n / t_base);
	printf("  baseline, seq as rowid:      %8.3f s  %12.0f rows/s\n",
	       t_base2, (double)n / t_base2);
	printf("  recorder (bus_emit + sink):  %8.3f s  %12.0f rows/s\n",
	       t_rec, (double)n / t_rec);
	printf("  ratio recorder/faster baseline time: %.2f\n",
	       t_rec / best(t_base, t_base2));
	if (stat(rec_path, &sb) == 0)
		printf("  recording size: %.1f MB (%.1f bytes/event)\n",
		       (double)sb.st_size / 1e6, (double)sb.st_size / (double)n);
	unlink(base_path);
	unlink(rec_path);
	return 0;
}
