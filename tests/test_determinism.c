/* Determinism: the same scenario and seed give identical recordings (a
 * digest over every row of every table but the run's own identity), and a
 * different seed gives another interleaving of a concurrent scenario. */
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/run.h"
#include "scenario/scenario.h"
#include "tests/testutil.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Digest of every row of a query, column by column, with types. */
static uint64_t query_digest(sqlite3 *h, const char *sql, uint64_t d, uint64_t *rows)
{
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(h));
	while (sqlite3_step(st) == SQLITE_ROW) {
		(*rows)++;
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			int t = sqlite3_column_type(st, c);
			d = fnv(d, &t, sizeof(t));
			if (t == SQLITE_INTEGER) {
				sqlite3_int64 v = sqlite3_column_int64(st, c);
				d = fnv(d, &v, sizeof(v));
			} else if (t != SQLITE_NULL) {
				d = fnv(d, sqlite3_column_blob(st, c), (size_t)sqlite3_column_bytes(st, c));
			}
		}
	}
	sqlite3_finalize(st);
	return d;
}

/* Every row of the recording. The runs row is included except the
 * scenario path, which names where the file was read from. */
static uint64_t db_digest(const char *db, uint64_t *rows)
{
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	uint64_t d = 0xcbf29ce484222325ull;
	*rows = 0;
	d = query_digest(h, "SELECT * FROM events ORDER BY seq", d, rows);
	d = query_digest(h, "SELECT * FROM strings ORDER BY id", d, rows);
	d = query_digest(h, "SELECT scenario, seed, profile, config, hvsim_version, ncpus, status, "
	                    "exit_code, events, digest, cycles FROM runs", d, rows);
	sqlite3_close(h);
	return d;
}

static int run_to(const char *file, const char *db, uint64_t seed, bool has_seed,
                  struct run_summary *sum)
{
	struct scenario sc;
	struct sc_error e;
	ck_assert_msg(scenario_load(file, &sc, &e) == 0, "%s", e.msg);
	struct run_opts o = {.db_path = db, .seed = seed, .has_seed = has_seed,
	                     .self_check = true};
	char err[512];
	int rc = run_scenario(&sc, &o, sum, err, sizeof(err));
	ck_assert_msg(rc != 2, "%s: %s", file, err);
	scenario_free(&sc);
	return rc;
}

static unsigned nchecked;

static void twice(const char *file)
{
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/det-a-%u.db", testutil_tmpdir(), nchecked);
	snprintf(b, sizeof(b), "%s/det-b-%u.db", testutil_tmpdir(), nchecked++);
	struct run_summary sa, sb;
	int ra = run_to(file, a, 0, false, &sa), rb = run_to(file, b, 0, false, &sb);
	ck_assert_int_eq(ra, rb);
	ck_assert_uint_eq(sa.digest, sb.digest);
	uint64_t na, nb;
	uint64_t da = db_digest(a, &na), db = db_digest(b, &nb);
	ck_assert_uint_gt(na, 0);
	ck_assert_uint_eq(na, nb);
	ck_assert_msg(da == db, "%s: recordings differ", file);
}

static void walk(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (strstr(e->d_name, ".yaml"))
			twice(path);
		else if (!strchr(e->d_name, '.'))
			walk(path);
	}
	closedir(d);
}

START_TEST(same_seed_same_recording)
{
	walk(HVSIM_SOURCE_DIR "/scenarios");
	ck_assert_uint_ge(nchecked, 20);
}
END_TEST

/* The order in which CPUs issued their accesses: the interleaving. */
static void cpu_order(const char *db, char *out, size_t cap)
{
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT cpu FROM events WHERE type = 1 ORDER BY seq",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	size_t n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n + 1 < cap)
		out[n++] = (char)('0' + sqlite3_column_int(st, 0));
	out[n] = 0;
	sqlite3_finalize(st);
	sqlite3_close(h);
}

START_TEST(other_seed_other_interleaving)
{
	const char *file = HVSIM_SOURCE_DIR "/scenarios/concurrent/shootdown-4cpu.yaml";
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/seed1.db", testutil_tmpdir());
	snprintf(b, sizeof(b), "%s/seed2.db", testutil_tmpdir());
	struct run_summary sa, sb;
	ck_assert_int_eq(run_to(file, a, 1, true, &sa), 0);
	ck_assert_int_eq(run_to(file, b, 2, true, &sb), 0);
	static char oa[8192], ob[8192];
	cpu_order(a, oa, sizeof(oa));
	cpu_order(b, ob, sizeof(ob));
	/* Same accesses, same outcome (both exit 0), another order. */
	ck_assert_uint_eq(strlen(oa), strlen(ob));
	ck_assert_uint_gt(strlen(oa), 50);
	ck_assert_str_ne(oa, ob);
	ck_assert_uint_gt(sa.sched_choices, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("determinism");
	TCase *tc = tcase_create("determinism");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, same_seed_same_recording);
	tcase_add_test(tc, other_seed_other_interleaving);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
