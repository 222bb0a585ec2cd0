/* The litmus suite (scenarios/litmus): every scenario passes, every twin
 * (negative: PROPERTY) is reported with its property, and the in-process
 * checker and the shipped SQL queries report exactly the same violations
 * (property, event seq) on every recording. */
#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/checker.h"
#include "runner/run.h"
#include "scenario/scenario.h"
#include "sim/embedded.h"
#include "tests/testutil.h"

#define MAXV 4096

struct pv {
	char prop[32];
	uint64_t seq;
};

static int pv_cmp(const void *a, const void *b)
{
	const struct pv *x = a, *y = b;
	int c = strcmp(x->prop, y->prop);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The property name from a query's "-- property: NAME" line. */
static void query_property(const char *sql, char *out, size_t cap)
{
	const char *p = strstr(sql, "-- property:");
	ck_assert_ptr_nonnull(p);
	p += strlen("-- property:");
	while (*p == ' ')
		p++;
	size_t n = strcspn(p, " \r\n");
	snprintf(out, cap, "%.*s", (int)n, p);
}

static size_t sql_violations(const char *db, struct pv *v)
{
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	size_t n = 0;
	for (const struct hvsim_embedded *q = hvsim_checks; q->name; q++) {
		char prop[32];
		query_property(q->text, prop, sizeof(prop));
		sqlite3_stmt *st;
		ck_assert_msg(sqlite3_prepare_v2(h, q->text, -1, &st, NULL) == SQLITE_OK, "%s: %s",
		              q->name, sqlite3_errmsg(h));
		while (sqlite3_step(st) == SQLITE_ROW) {
			ck_assert_uint_lt(n, MAXV);
			snprintf(v[n].prop, sizeof(v[n].prop), "%s", prop);
			v[n++].seq = (uint64_t)sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	qsort(v, n, sizeof(*v), pv_cmp);
	return n;
}

static size_t checker_violations(const struct checker *ck, struct pv *v)
{
	size_t n = checker_count(ck);
	ck_assert_uint_eq(n, checker_total(ck)); /* none dropped */
	ck_assert_uint_le(n, MAXV);
	for (size_t i = 0; i < n; i++) {
		const struct violation *x = checker_get(ck, i);
		snprintf(v[i].prop, sizeof(v[i].prop), "%s", x->property);
		v[i].seq = x->seq;
	}
	qsort(v, n, sizeof(*v), pv_cmp);
	return n;
}

static unsigned nfiles, ntwins, npos;

static void run_file(const char *path)
{
	struct scenario sc;
	struct sc_error e;
	ck_assert_msg(scenario_load(path, &sc, &e) == 0, "%s", e.msg);
	char db[512], err[512];
	snprintf(db, sizeof(db), "%s/litmus-%u.db", testutil_tmpdir(), nfiles++);
	struct checker *ck = checker_new(false);
	struct sink s = checker_sink(ck);
	struct run_opts o = {.db_path = db, .extra = &s, .nextra = 1, .self_check = true};
	struct run_summary sum;
	int rc = run_scenario(&sc, &o, &sum, err, sizeof(err));
	ck_assert_msg(rc != 2, "%s: %s", path, err);
	if (sc.negative) {
		ntwins++;
		ck_assert_msg(rc == 1, "%s: twin not reported (exit %d)", path, rc);
		ck_assert_msg(sum.expect_failures == 0, "%s: %s", path, sum.first);
		ck_assert_msg(strstr(sum.props, sc.negative), "%s: expected %s, got '%s'", path,
		              sc.negative, sum.props);
	} else {
		npos++;
		ck_assert_msg(rc == 0, "%s: %s", path, sum.first);
	}
	static struct pv a[MAXV], b[MAXV];
	size_t na = checker_violations(ck, a), nb = sql_violations(db, b);
	ck_assert_msg(na == nb, "%s: in-process %zu violations, SQL %zu", path, na, nb);
	for (size_t i = 0; i < na; i++)
		ck_assert_msg(pv_cmp(&a[i], &b[i]) == 0, "%s: in-process %s@%llu vs SQL %s@%llu",
		              path, a[i].prop, (unsigned long long)a[i].seq, b[i].prop,
		              (unsigned long long)b[i].seq);
	checker_free(ck);
	scenario_free(&sc);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	struct dirent *de;
	char *names[512];
	unsigned n = 0;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".yaml") && n < 512)
			names[n++] = strdup(de->d_name);
	closedir(d);
	for (unsigned i = 0; i < n; i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		run_file(path);
		free(names[i]);
	}
}

START_TEST(litmus_suite)
{
	run_dir(HVSIM_SOURCE_DIR "/scenarios/litmus");
	run_dir(HVSIM_SOURCE_DIR "/scenarios/litmus/twins");
	/* The IOMMU scenarios and twins (issue 6): same SQL/in-process
	 * agreement. */
	run_dir(HVSIM_SOURCE_DIR "/scenarios/iommu");
	run_dir(HVSIM_SOURCE_DIR "/scenarios/iommu/twins");
	/* Every rule has a positive scenario and the twins outnumber none of
	 * them: the suite is not empty and each side is exercised. */
	ck_assert_uint_ge(npos, 15);
	ck_assert_uint_ge(ntwins, 15);
}
END_TEST

/* The properties can fail: every shipped property is caught by at least
 * one twin (otherwise a property could be dead code). */
START_TEST(every_property_has_a_twin)
{
	const char *const *names = checker_property_names();
	const char *dir = HVSIM_SOURCE_DIR "/scenarios";
	for (unsigned i = 0; names[i]; i++) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), "grep -rlq '^negative: %s$' %s", names[i], dir);
		ck_assert_msg(system(cmd) == 0, "no twin scenario for property %s", names[i]);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("litmus");
	TCase *tc = tcase_create("litmus");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, litmus_suite);
	tcase_add_test(tc, every_property_has_a_twin);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
