/* hvsim fuzz (issue 9): the YAML writer's round trip, the decoders on any
 * bytes, each injected bug of hv/hv.h found from scratch by a campaign
 * that is not told which one is on and shrunk to a short case, shrinking
 * deterministic with a result that fails and replays, --jobs finding the
 * same case as one job, the target registry.
 *
 * Budgets are case counts (never time): each injection must be found
 * within INJECT_BUDGET cases of seed 1. docs/fuzzing.md lists the cases
 * and seconds each takes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/engine/campaign.h"
#include "fuzz/engine/case.h"
#include "fuzz/engine/shrink.h"
#include "fuzz/gen/bytesrc.h"
#include "fuzz/gen/emit.h"
#include "fuzz/gen/target.h"
#include "runner/run.h"
#include "trace/trace.h"
#include "tests/testutil.h"

#define INJECT_BUDGET 20000 /* cases */
#define SHRUNK_MAX_OPS 8

static const struct fz_target *target(const char *name)
{
	const struct fz_target *t = fz_target_find(name);
	ck_assert_ptr_nonnull(t);
	ck_assert(t->built);
	return t;
}

static char *emit(const struct scenario *sc)
{
	size_t len;
	char *text = scenario_emit_yaml(sc, "test", &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

/* Generated case -> YAML -> loader -> YAML: the same text, and the loaded
 * scenario runs to the same events as the generated one. */
static void round_trip(const char *name, unsigned ncases)
{
	const struct fz_target *t = target(name);
	for (unsigned i = 0; i < ncases; i++) {
		struct scenario sc, back;
		ck_assert_int_eq(fz_case_scenario(t, 7, i, 0, &sc), 0);
		ck_assert_uint_gt(sc.nops, 0);
		char *a = emit(&sc);
		struct sc_error e;
		ck_assert_msg(scenario_load_string("rt.yaml", a, strlen(a), &back, &e) == 0,
		              "%s case %u: %s\n%s", name, i, e.msg, a);
		char *b = emit(&back);
		ck_assert_str_eq(a, b);
		ck_assert_uint_eq(back.nops, sc.nops);
		ck_assert_uint_eq(back.ncpus, sc.ncpus);
		ck_assert_str_eq(back.overrides, sc.overrides);
		struct fz_case_opts o = {0};
		struct fz_result r1, r2;
		fz_run_case(t, &sc, &o, &r1);
		fz_run_case(t, &back, &o, &r2);
		ck_assert_msg(r1.rc != FZ_INVALID, "%s case %u invalid: %s", name, i, r1.first);
		ck_assert_uint_eq(r1.digest, r2.digest);
		ck_assert_uint_eq(r1.events, r2.events);
		ck_assert_uint_eq(r1.reached, r2.reached);
		free(a);
		free(b);
		scenario_free(&sc);
		scenario_free(&back);
	}
}

START_TEST(emit_round_trip_pt) { round_trip("pt", 300); }
END_TEST

START_TEST(emit_round_trip_pcid) { round_trip("pcid", 300); }
END_TEST

START_TEST(emit_round_trip_iommu) { round_trip("iommu", 300); }
END_TEST

START_TEST(emit_round_trip_time) { round_trip("time", 300); }
END_TEST

START_TEST(emit_round_trip_ring) { round_trip("ring", 300); }
END_TEST

/* Every shipped scenario through the writer: the loader reads the text
 * back to a scenario that writes the same text and runs to the same
 * events (named as the original file, so relative input files resolve). */
static unsigned nshipped;

static void shipped_one(const char *path)
{
	struct scenario sc, back;
	struct sc_error e;
	ck_assert_msg(scenario_load(path, &sc, &e) == 0, "%s", e.msg);
	char *a = emit(&sc);
	ck_assert_msg(scenario_load_string(path, a, strlen(a), &back, &e) == 0, "%s: %s\n%s", path,
	              e.msg, a);
	char *b = emit(&back);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(back.nops, sc.nops);
	ck_assert_uint_eq(back.nroots, sc.nroots);
	if (sc.ncpus <= 16) { /* the 256-CPU scale scenarios only load */
		struct run_opts o = {0};
		struct run_summary s1, s2;
		char err[512];
		int r1 = run_scenario(&sc, &o, &s1, err, sizeof(err));
		int r2 = run_scenario(&back, &o, &s2, err, sizeof(err));
		ck_assert_int_eq(r1, r2);
		ck_assert_msg(s1.digest == s2.digest, "%s: the written scenario runs differently", path);
	}
	nshipped++;
	free(a);
	free(b);
	scenario_free(&sc);
	scenario_free(&back);
}

static void shipped_walk(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	struct dirent *ent;
	while ((ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
		size_t n = strlen(ent->d_name);
		if (n > 5 && !strcmp(ent->d_name + n - 5, ".yaml"))
			shipped_one(path);
		else if (!strchr(ent->d_name, '.'))
			shipped_walk(path);
	}
	closedir(d);
}

START_TEST(emit_round_trip_shipped)
{
	shipped_walk(HVSIM_SOURCE_DIR "/scenarios");
	ck_assert_uint_ge(nshipped, 60);
}
END_TEST

/* Strings the writer must quote survive too. */
START_TEST(emit_quotes_strings)
{
	const struct fz_target *t = target("pt");
	struct scenario sc, back;
	ck_assert_int_eq(fz_case_scenario(t, 1, 0, 0, &sc), 0);
	free(sc.name);
	sc.name = strdup("on: \"x\" \\ y\tz");
	char *a = emit(&sc);
	struct sc_error e;
	ck_assert_msg(scenario_load_string("q.yaml", a, strlen(a), &back, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(back.name, sc.name);
	free(a);
	scenario_free(&sc);
	scenario_free(&back);
}
END_TEST

/* Any bytes decode to a valid case (libFuzzer's inputs): empty, zeros,
 * ones, and some patterns. */
START_TEST(decoders_take_any_bytes)
{
	static uint8_t buf[256];
	for (unsigned k = 0; fz_targets[k]; k++) {
		const struct fz_target *t = fz_targets[k];
		if (!t->built)
			continue;
		for (unsigned pat = 0; pat < 6; pat++) {
			for (unsigned i = 0; i < sizeof(buf); i++)
				buf[i] = pat == 0 ? 0 : pat == 1 ? 0xff : (uint8_t)(i * (pat * 37 + 1));
			struct bytesrc b;
			bytesrc_buffer(&b, pat == 5 ? NULL : buf, pat == 5 ? 0 : sizeof(buf) / (pat + 1));
			struct scenario sc;
			ck_assert_int_eq(t->decode(&b, &sc), 0);
			struct fz_case_opts o = {.stop_at_first = true};
			struct fz_result r;
			fz_run_case(t, &sc, &o, &r);
			ck_assert_msg(r.rc != FZ_INVALID, "%s pattern %u: %s", t->name, pat, r.first);
			scenario_free(&sc);
		}
	}
}
END_TEST

/* Each injection: found within the budget by a campaign that only turns
 * it on (the decoder does not know), with the property that exists to
 * catch it, the failing case passing without it, shrunk to a short case. */
struct inject_case {
	const char *target, *inject, *property;
};

static const struct inject_case injects[] = {
	{"pt", "merge_flush_past", "psc-freed-table"},
	{"pt", "skip_one_page", "hv-map-steps"},
	{"pt", "no_cache_flush", "cache-flush"},
	{"pt", "leak_table", "pt-accounting"},
	{"pt", "skip_last_page", "hv-mapping"},
	{"pcid", "no_old_pcid_flush", "quiescent-stale"},
	{"pcid", "invlpg_under_pcide", "quiescent-stale"},
	{"pcid", "xpti_leak", "xpti-isolation"},
	/* iommu.inject (seed 001): after each operation the envelope check
	 * sees the translation the missed flush left before any DMA uses it. */
	{"iommu", "modified_as_added", "iotlb-envelope"},
	{"iommu", "modified_as_none", "iotlb-envelope"},
	{"iommu", "dont_flush_left_set", "iotlb-envelope"},
	{"iommu", "flush_type_min", "iotlb-envelope"},
	{"iommu", "flush_first_page", "iotlb-envelope"},
	{"iommu", "pte_flush_kept", "iommu-one-flush"},
	{"iommu", "ignore_cm", "iotlb-envelope"},
	/* time.inject (seed 002). */
	{"time", "no-version-bump", "time-version"},
	{"time", "stale-stamp", "time-monotonic"},
	{"time", "seed-wallclock", "time-wallclock"},
	/* rings.inject (seed 004; tests/test_ring_mutations.c's twins). */
	{"ring", "put_off_by_one", "ring-accounting"},
	{"ring", "double_pause", "ring-hang"},
	{"ring", "claim_off_by_one", "ring-accounting"},
	{"ring", "no_wake_requesters", "ring-lost-wakeup"},
	{"ring", "no_wake_waiters", "ring-lost-wakeup"},
	{"ring", "release_foreign", "ring-accounting"},
	{"ring", "no_full_check", "ring-accounting"},
	{"ring", "disable_wq_only", "ring-hang"},
	{"ring", "release_no_wake", "ring-lost-wakeup"},
};

/* A ring case carries its scaffolding: the helper's and the guest's
 * domains, a ring enabled and a barrier before anyone uses it, the
 * helper serving it (5 ops) -- the bug takes a few more. */
static unsigned shrunk_max(const char *target)
{
	return strcmp(target, "ring") ? SHRUNK_MAX_OPS : SHRUNK_MAX_OPS + 4;
}

#include "fuzz/gen/names.h"

START_TEST(injection_found_and_shrunk)
{
	const struct inject_case *c = &injects[_i];
	struct fz_campaign_opts o = {.t = target(c->target), .seed = 1, .iters = INJECT_BUDGET,
	                             .jobs = 1, .inject = fz_inject_bit(c->inject),
	                             .shrink_runs = 4000};
	ck_assert_uint_ne(o.inject, 0);
	struct fz_campaign_result *r = calloc(1, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	int rc = fz_campaign(&o, r);
	ck_assert_msg(rc == 1, "%s: not found in %d cases (rc %d: %s)", c->inject, INJECT_BUDGET,
	              rc, r->err);
	ck_assert_str_eq(r->sig, c->property);
	ck_assert_uint_le(r->shrink.ops_after, shrunk_max(c->target));
	ck_assert_uint_ge(r->shrink.ops_before, r->shrink.ops_after);
	fprintf(stderr, "%s/%s: found at case %llu (%s), shrunk %u -> %u ops\n", c->target,
	        c->inject, (unsigned long long)r->fail_index, r->sig, r->shrink.ops_before,
	        r->shrink.ops_after);
	/* Without the injection the same case passes. */
	struct scenario sc;
	ck_assert_int_eq(fz_case_scenario(o.t, 1, r->fail_index, 0, &sc), 0);
	struct fz_case_opts co = {.stop_at_first = true};
	struct fz_result res;
	fz_run_case(o.t, &sc, &co, &res);
	ck_assert_int_eq(res.rc, FZ_PASS);
	scenario_free(&sc);
	free(r);
}
END_TEST

/* The ring target draws only configurations where every ring property
 * must hold (fuzz/gen/target_ring.c): both modes, foreign releases after
 * the seed only (before it they hang by design: pause-release-hang), and
 * a clean build runs clean while reaching every state. */
START_TEST(ring_draws_what_must_hold)
{
	const struct fz_target *t = target("ring");
	unsigned modes[2] = {0}, releases = 0;
	for (uint64_t i = 0; i < 2000; i++) {
		struct scenario sc;
		ck_assert_int_eq(fz_case_scenario(t, 1, i, 0, &sc), 0);
		ck_assert(sc.rings.enabled);
		modes[sc.rings.mode == 1]++;
		for (uint32_t k = 0; k < sc.nops; k++)
			if (sc.ops[k].kind == OP_FOREIGN && sc.ops[k].release) {
				ck_assert_int_eq(sc.rings.mode, 0);
				releases++;
			}
		scenario_free(&sc);
	}
	ck_assert_uint_gt(modes[0], 0);
	ck_assert_uint_gt(modes[1], 0);
	ck_assert_uint_gt(releases, 0);
	struct fz_campaign_opts o = {.t = t, .seed = 1, .iters = 3000, .jobs = 1,
	                             .count_only = true};
	struct fz_campaign_result *r = calloc(1, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(fz_campaign(&o, r), 0);
	ck_assert_uint_eq(r->cases, 3000);
	ck_assert_uint_eq(r->failing, 0);
	ck_assert_uint_eq(r->invalid, 0);
	ck_assert_uint_eq(r->reached, (1u << t->nstates) - 1);
	free(r);
}
END_TEST

/* Shrinking twice gives the same text; the shrunk case fails the same
 * way from its file; its trace replays identically. */
START_TEST(shrink_deterministic_fails_replays)
{
	const struct fz_target *t = target("pt");
	uint64_t inject = fz_inject_bit("leak_table");
	struct scenario sc, s1, s2;
	struct fz_case_opts co = {.stop_at_first = true};
	struct fz_result r = {.rc = FZ_PASS};
	/* The first failing case of seed 1. */
	for (uint64_t i = 0; i < INJECT_BUDGET && r.rc != FZ_FAIL; i++) {
		if (i)
			scenario_free(&sc);
		ck_assert_int_eq(fz_case_scenario(t, 1, i, inject, &sc), 0);
		fz_run_case(t, &sc, &co, &r);
	}
	ck_assert_int_eq(r.rc, FZ_FAIL);
	struct fz_shrink_stats st1, st2;
	char why[600];
	ck_assert_int_eq(fz_shrink(t, &sc, r.sig, 4000, &s1, &st1, why, sizeof(why)), 0);
	ck_assert_int_eq(fz_shrink(t, &sc, r.sig, 4000, &s2, &st2, why, sizeof(why)), 0);
	char *a = emit(&s1), *b = emit(&s2);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(st1.runs, st2.runs);
	ck_assert_uint_lt(s1.nops, sc.nops);
	/* It still fails, from its text, and writes a trace that replays. */
	char path[512];
	snprintf(path, sizeof(path), "%s/shrunk.hvtrace", testutil_tmpdir());
	struct scenario loaded;
	struct sc_error e;
	ck_assert_int_eq(scenario_load_string("shrunk.yaml", a, strlen(a), &loaded, &e), 0);
	struct fz_case_opts to = {.trace_path = path, .scenario_text = a,
	                          .scenario_len = strlen(a)};
	struct fz_result rt;
	ck_assert_int_eq(fz_run_case(t, &loaded, &to, &rt), FZ_FAIL);
	ck_assert_str_eq(rt.sig, r.sig);
	struct replay_result rr;
	char err[512];
	ck_assert_msg(trace_replay(path, NULL, &rr, err, sizeof(err)) == 0, "%s", err);
	ck_assert(!rr.diverged);
	ck_assert_int_eq(rr.run_exit, 1);
	ck_assert_uint_eq(rr.digest, rt.digest);
	free(a);
	free(b);
	scenario_free(&loaded);
	scenario_free(&sc);
	scenario_free(&s1);
	scenario_free(&s2);
}
END_TEST

/* Case i depends on (seed, i) only: two jobs find the same first failing
 * case as one, and the same states first reached. */
START_TEST(jobs_find_the_same_case)
{
	struct fz_campaign_opts o = {.t = target("pt"), .seed = 3, .iters = INJECT_BUDGET,
	                             .jobs = 1, .inject = fz_inject_bit("merge_flush_past"),
	                             .shrink_runs = 200};
	struct fz_campaign_result *r1 = calloc(1, sizeof(*r1)), *r2 = calloc(1, sizeof(*r2));
	ck_assert_ptr_nonnull(r1);
	ck_assert_ptr_nonnull(r2);
	ck_assert_int_eq(fz_campaign(&o, r1), 1);
	o.jobs = 2;
	ck_assert_int_eq(fz_campaign(&o, r2), 1);
	ck_assert_uint_eq(r1->fail_index, r2->fail_index);
	ck_assert_str_eq(r1->first, r2->first);
	ck_assert_uint_eq(r1->shrink.ops_after, r2->shrink.ops_after);
	free(r1);
	free(r2);
}
END_TEST

START_TEST(registry_lists_every_target_built)
{
	/* No target is left "not built yet": each decodes and observes. */
	for (unsigned k = 0; fz_targets[k]; k++) {
		const struct fz_target *t = fz_targets[k];
		ck_assert_msg(t->built, "%s not built", t->name);
		ck_assert_ptr_nonnull(t->decode);
		ck_assert_ptr_nonnull(t->obs_event);
		ck_assert_uint_gt(t->nstates, 0);
	}
	ck_assert_ptr_null(fz_target_find("nope"));
	char names[128];
	fz_target_names(names, sizeof(names), true);
	ck_assert_str_eq(names, "pt, pcid, iommu, time, ring");
	fz_target_names(names, sizeof(names), false);
	ck_assert_str_eq(names, "");
	/* Each built target names its states, all distinct. */
	for (unsigned k = 0; fz_targets[k]; k++) {
		const struct fz_target *t = fz_targets[k];
		ck_assert_uint_le(t->nstates, FZ_MAX_STATES);
		for (unsigned i = 0; i < t->nstates; i++)
			for (unsigned j = i + 1; j < t->nstates; j++)
				ck_assert_str_ne(t->states[i].name, t->states[j].name);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fuzz");
	TCase *tc = tcase_create("emit");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, emit_round_trip_pt);
	tcase_add_test(tc, emit_round_trip_pcid);
	tcase_add_test(tc, emit_round_trip_iommu);
	tcase_add_test(tc, emit_round_trip_time);
	tcase_add_test(tc, emit_round_trip_ring);
	tcase_add_test(tc, emit_quotes_strings);
	tcase_add_test(tc, emit_round_trip_shipped);
	tcase_add_test(tc, decoders_take_any_bytes);
	tcase_add_test(tc, registry_lists_every_target_built);
	suite_add_tcase(s, tc);
	TCase *ti = tcase_create("inject");
	tcase_set_timeout(ti, 600);
	tcase_add_loop_test(ti, injection_found_and_shrunk, 0,
	                    (int)(sizeof(injects) / sizeof(injects[0])));
	tcase_add_test(ti, shrink_deterministic_fails_replays);
	tcase_add_test(ti, ring_draws_what_must_hold);
	tcase_add_test(ti, jobs_find_the_same_case);
	suite_add_tcase(s, ti);
	return testutil_run(s);
}
