/* Randomized ring runs (seed 004): interleaved guest vCPUs, foreign
 * producers, helpers with stalls, and rings enabled and disabled, both
 * modes, from runner/ring_gen.c; every property on (in process, and the
 * SQL queries over a recording of some of the runs), plus what must hold
 * of the run's own counts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "record/check.h"
#include "runner/ring_gen.h"
#include "runner/run.h"
#include "scenario/scenario.h"
#include "tests/testutil.h"

#define RUNS 60
#define TEXT_MAX (64 * 1024)

static int gen_run(uint64_t seed, const char *inject, const char *db, struct run_summary *s,
                   char *text)
{
	struct prng p;
	prng_seed(&p, seed);
	size_t len = ring_gen_scenario(&p, inject, text, TEXT_MAX);
	ck_assert_uint_gt(len, 0);
	struct scenario sc;
	struct sc_error e;
	ck_assert_msg(scenario_load_string("ring-random", text, len, &sc, &e) == 0, "%s\n%s",
	              e.msg, text);
	struct run_opts o = {.seed = seed, .has_seed = true, .db_path = db};
	char err[512];
	int rc = run_scenario(&sc, &o, s, err, sizeof(err));
	ck_assert_msg(rc != 2, "seed %" PRIu64 ": %s\n%s", seed, err, text);
	scenario_free(&sc);
	return rc;
}

START_TEST(random_runs_hold_every_property)
{
	static char text[TEXT_MAX];
	uint64_t puts = 0, stalls = 0, busy = 0;
	for (uint64_t seed = 1; seed <= RUNS; seed++) {
		struct run_summary s;
		char db[600];
		snprintf(db, sizeof(db), "%s/random-%" PRIu64 ".db", testutil_tmpdir(), seed);
		bool record = seed % 10 == 0;
		int rc = gen_run(seed, NULL, record ? db : NULL, &s, text);
		ck_assert_msg(rc == 0, "seed %" PRIu64 ": %s\n%s", seed, s.first, text);
		/* Every request placed was answered and consumed. */
		ck_assert_uint_eq(s.rings.puts, s.rings.responses);
		puts += s.rings.puts;
		stalls += s.rings.stalls;
		busy += s.rings.disable_busy;
		if (record) {
			char err[512];
			FILE *devnull = fopen("/dev/null", "w");
			ck_assert_int_eq(check_db(db, NULL, devnull, err, sizeof(err)), CHECK_OK);
			fclose(devnull);
		}
	}
	fprintf(stderr, "ring_random: %d runs, %" PRIu64 " requests, %" PRIu64 " stalls, %" PRIu64
	        " refused disables\n", RUNS, puts, stalls, busy);
	/* The runs exercised the rings: requests, sleepers, refused disables. */
	ck_assert_uint_gt(puts, 100);
	ck_assert_uint_gt(stalls, 10);
	ck_assert_uint_gt(busy, 0);
}
END_TEST

/* The same generator with a bug in: some run reports it. */
static const struct {
	const char *inject, *property;
} bugs[] = {
	{"double_pause", "ring-hang"},
	{"no_wake_requesters", "ring-lost-wakeup"},
	{"no_full_check", "ring-accounting"},
	{"release_foreign", "ring-accounting"},
	{"disable_wq_only", "ring-hang"},
};

START_TEST(random_runs_catch_injected_bugs)
{
	static char text[TEXT_MAX];
	unsigned caught = 0;
	for (uint64_t seed = 1; seed <= RUNS && !caught; seed++) {
		struct run_summary s;
		if (gen_run(seed, bugs[_i].inject, NULL, &s, text) == 1 &&
		    strstr(s.props, bugs[_i].property))
			caught++;
	}
	ck_assert_msg(caught, "%s: no run reported %s", bugs[_i].inject, bugs[_i].property);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring_random");
	TCase *tc = tcase_create("random");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, random_runs_hold_every_property);
	tcase_add_loop_test(tc, random_runs_catch_injected_bugs, 0, sizeof(bugs) / sizeof(bugs[0]));
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
