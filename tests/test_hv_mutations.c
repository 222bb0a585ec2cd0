/* Mutation tests for seed 000's two map_pages_to_xen fixes (hv/hv.h,
 * enum hv_inject): each injected bug must be reported, by the property or
 * the count that exists to catch it, and the same scenario without the
 * injection must be clean.
 *
 *  (a) HV_INJECT_MERGE_FLUSH_PAST: after a re-merge of 512 4 KiB entries
 *      into a 2 MiB page, the flush is aimed at `virt`, which the loop has
 *      already advanced past the merged area. Then the old L1 table is
 *      freed. Under flush_policy ranged with a ceiling >= 512, the flush is
 *      one INVLPG per page of the WRONG 2 MiB area. On zen3 (TCE,
 *      psc_inval_covering=1) an INVLPG drops only the paging-structure-
 *      cache entries that cover its address. The PDE-cache entries that
 *      point at the freed L1 table survive on every CPU that walked
 *      through it: psc-freed-table (and quiescent-stale at the check after
 *      the operation).
 *  (b) HV_INJECT_SKIP_ONE_PAGE: an unchanged superpage met by the map
 *      loop is skipped one page at a time instead of up to its next
 *      boundary. The map loop's step count (EV_HV_OP.c, the hv_ops view's
 *      map_steps) becomes the number of pages, not 1.
 *
 * Scenarios are built in memory and run with the in-process checker
 * attached, plus a sink that keeps every EV_HV_OP (the pattern of
 * tests/test_litmus.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/checker.h"
#include "runner/run.h"
#include "scenario/scenario.h"
#include "sim/event.h"
#include "tests/testutil.h"

#define MAX_OPS 16

struct hvops {
	unsigned n;
	struct event ev[MAX_OPS];
};

static int hvop_event(void *ctx, const struct event *ev)
{
	struct hvops *h = ctx;
	if (ev->type == EV_HV_OP && h->n < MAX_OPS)
		h->ev[h->n++] = *ev;
	return 0;
}

struct result {
	int rc;
	struct run_summary sum;
	struct hvops ops;
	size_t nviol;          /* checker violations */
	size_t by_prop_psc;    /* of them psc-freed-table */
	size_t by_prop_qstale; /* of them quiescent-stale */
	size_t by_prop_other;
	char first_prop[32];
};

static void run_text(const char *text, struct result *r)
{
	memset(r, 0, sizeof(*r));
	struct scenario sc;
	struct sc_error e;
	ck_assert_msg(scenario_load_string("mutation.yaml", text, strlen(text), &sc, &e) == 0,
	              "%s\n%s", e.msg, text);
	struct checker *ck = checker_new(false);
	ck_assert_ptr_nonnull(ck);
	struct sink s[2] = {
		checker_sink(ck),
		{.name = "hv_ops", .mask = 1ull << EV_HV_OP, .ctx = &r->ops, .event = hvop_event},
	};
	struct run_opts o = {.extra = s, .nextra = 2};
	char err[512];
	r->rc = run_scenario(&sc, &o, &r->sum, err, sizeof(err));
	ck_assert_msg(r->rc != 2, "bad input: %s", err);
	ck_assert_uint_eq(r->sum.expect_failures, 0);
	r->nviol = checker_count(ck);
	ck_assert_uint_eq(r->nviol, checker_total(ck));
	for (size_t i = 0; i < r->nviol; i++) {
		const char *p = checker_get(ck, i)->property;
		if (i == 0)
			snprintf(r->first_prop, sizeof(r->first_prop), "%s", p);
		if (!strcmp(p, "psc-freed-table"))
			r->by_prop_psc++;
		else if (!strcmp(p, "quiescent-stale"))
			r->by_prop_qstale++;
		else
			r->by_prop_other++;
	}
	checker_free(ck);
	scenario_free(&sc);
}

/* ---- (a) the re-merge flush aimed past the merged area ---------------- */

/* 511 of the 512 pages of a 2 MiB area mapped with 4 KiB pages
 * (MAP_SMALL_PAGES: no merge yet); three CPUs walk through the L1 table
 * (each caches a PDE-cache entry pointing at it); then the 512th page is
 * mapped: the area is contiguous with identical flags, so map_pages_to_xen
 * re-merges it into a 2 MiB page, flushes, and frees the L1 table. */
static void merge_scenario(char *buf, size_t cap, const char *profile, const char *policy,
                           bool inject)
{
	snprintf(buf, cap,
	         "hvsim: 1\n"
	         "name: mutation-merge-flush-past\n"
	         "machine: {profile: %s, cpus: 3}\n"
	         "hv: {%s, inject: [%s]}\n"
	         "ops:\n"
	         "  - {op: hv_map, va: 0xffff820000000000, pa: 0x200000000, count: 511, small: true}\n"
	         "  - {op: barrier}\n"
	         "  - {op: access, cpu: 0, va: 0xffff820000003000}\n"
	         "  - {op: access, cpu: 1, va: 0xffff820000005000}\n"
	         "  - {op: access, cpu: 2, va: 0xffff820000007000, kind: write}\n"
	         "  - {op: barrier}\n"
	         "  - {op: hv_map, va: 0xffff8200001ff000, pa: 0x2001ff000, count: 1}\n"
	         "  - {op: barrier}\n"
	         "  - {op: access, cpu: 1, va: 0xffff820000005008, expect: {pa: 0x200005008}}\n"
	         "  - {op: quiesce}\n",
	         profile, policy, inject ? "merge_flush_past" : "");
}

#define RANGED "flush_policy: ranged, flush_ceiling: 512"
#define XEN "flush_policy: xen"

/* The merge really happened: the second hv_map re-merged once and freed
 * one table (otherwise the tests below would prove nothing). */
static void assert_merged(const struct result *r)
{
	ck_assert_uint_eq(r->ops.n, 2);
	const struct event *m = &r->ops.ev[1];
	ck_assert_uint_eq(m->c, 1);                  /* map steps */
	ck_assert_uint_eq(m->d & 0xffffffffu, 1);    /* merges */
	ck_assert_uint_eq(m->e & 0xffffffffu, 1);    /* tables freed */
}

START_TEST(merge_flush_past_reported_on_zen3_ranged)
{
	static char text[4096];
	struct result r;
	merge_scenario(text, sizeof(text), "zen3", RANGED, true);
	run_text(text, &r);
	assert_merged(&r);
	ck_assert_int_eq(r.rc, 1);
	/* The first report is the free of the L1 table that three CPUs'
	 * PDE caches still point at. */
	ck_assert_str_eq(r.first_prop, "psc-freed-table");
	ck_assert_uint_eq(r.by_prop_psc, 1); /* one table freed too early */
	ck_assert_uint_ge(r.by_prop_qstale, 1);
	ck_assert_uint_eq(r.by_prop_other, 0);
	ck_assert_str_eq(r.sum.props, "psc-freed-table,quiescent-stale");
}
END_TEST

START_TEST(merge_flush_correct_is_clean_on_zen3_ranged)
{
	static char text[4096];
	struct result r;
	merge_scenario(text, sizeof(text), "zen3", RANGED, false);
	run_text(text, &r);
	assert_merged(&r);
	ck_assert_msg(r.rc == 0, "%s", r.sum.first);
	ck_assert_uint_eq(r.nviol, 0);
	ck_assert_str_eq(r.sum.props, "");
}
END_TEST

/* The xen policy flushes everything for any order > 0, so a flush at the
 * wrong address of a large area is invisible: the run passes, and the
 * event stream is the same with and without the bug. That blindness is why
 * the ranged policy exists. */
START_TEST(merge_flush_past_invisible_under_xen_policy)
{
	static char text[4096];
	struct result bug, ok;
	merge_scenario(text, sizeof(text), "zen3", XEN, true);
	run_text(text, &bug);
	merge_scenario(text, sizeof(text), "zen3", XEN, false);
	run_text(text, &ok);
	assert_merged(&bug);
	ck_assert_msg(bug.rc == 0, "%s", bug.sum.first);
	ck_assert_uint_eq(bug.nviol, 0);
	ck_assert_int_eq(ok.rc, 0);
	ck_assert_uint_eq(bug.sum.digest, ok.sum.digest);
	ck_assert_uint_eq(bug.sum.events, ok.sum.events);
	/* So is the ranged policy at Linux's default ceiling (33 pages): a
	 * 512-page range is above it, and becomes a full flush too. */
	merge_scenario(text, sizeof(text), "zen3", "flush_policy: ranged", true);
	run_text(text, &bug);
	assert_merged(&bug);
	ck_assert_msg(bug.rc == 0, "%s", bug.sum.first);
	ck_assert_uint_eq(bug.nviol, 0);
}
END_TEST

/* On Intel (skylake, psc_inval_covering=0), INVLPG of ANY address
 * invalidates every paging-structure-cache entry of the current PCID (SDM
 * 4.10.4.1). So even the INVLPGs of the wrong 2 MiB area remove the PDE-
 * cache entries that point at the L1 table about to be freed, and the bug is
 * benign for the PSCs. The 4 KiB TLB entries of the merged area do survive,
 * but they translate exactly as the new 2 MiB page does (same frames,
 * same flags), so nothing stale is used. The bug only bites where INVLPG
 * is precise about PSC entries: AMD with TCE, the zen3 profile. */
START_TEST(merge_flush_past_benign_on_skylake)
{
	static char text[4096];
	struct result r;
	merge_scenario(text, sizeof(text), "skylake", RANGED, true);
	run_text(text, &r);
	assert_merged(&r);
	ck_assert_msg(r.rc == 0, "%s", r.sum.first);
	ck_assert_uint_eq(r.nviol, 0);
}
END_TEST

/* ---- (b) skipping an unchanged superpage one page at a time ----------- */

static void run_skip(const char *hv, const char *ops, bool inject, struct result *r)
{
	static char text[4096];
	snprintf(text, sizeof(text),
	         "hvsim: 1\n"
	         "name: mutation-skip-one-page\n"
	         "machine: {cpus: 2}\n"
	         "hv: {%s, inject: [%s]}\n"
	         "ops:\n"
	         "  - {op: access, cpu: 1, va: 0xffff830000201000}\n"
	         "%s"
	         "  - {op: barrier}\n"
	         "  - {op: access, cpu: 1, va: 0xffff830000201008, expect: {pa: 0x201008}}\n"
	         "  - {op: quiesce}\n",
	         hv, inject ? "skip_one_page" : "", ops);
	run_text(text, r);
	ck_assert_msg(r->rc == 0, "%s", r->sum.first);
	ck_assert_uint_eq(r->nviol, 0);
}

/* The map steps of the last hv op, with the op's page count checked. */
static uint64_t last_steps(const struct result *r, uint64_t pages)
{
	ck_assert_uint_ge(r->ops.n, 1);
	const struct event *ev = &r->ops.ev[r->ops.n - 1];
	ck_assert_uint_eq(ev->b, pages);
	ck_assert_uint_eq(ev->d, 0); /* no shatter, no merge: really unchanged */
	ck_assert_uint_eq(ev->e, 0); /* no table allocated or freed */
	return ev->c;
}

/* A 1 GiB direct-map page: map one of its 2 MiB pieces again, unchanged.
 * The loop meets the 1 GiB leaf, finds the same frame and flags, and skips
 * to the end of the request (the next 1 GiB boundary is farther). */
#define DM1G "directmap: 0x40000000"
#define REMAP_2M "  - {op: hv_map, cpu: 0, va: 0xffff830000200000, pa: 0x200000, count: 512}\n"

START_TEST(skip_2m_inside_1g_page)
{
	struct result ok, bug;
	run_skip(DM1G, REMAP_2M, false, &ok);
	run_skip(DM1G, REMAP_2M, true, &bug);
	ck_assert_uint_eq(last_steps(&ok, 512), 1);
	ck_assert_uint_eq(last_steps(&bug, 512), 512);
}
END_TEST

/* The whole 1 GiB page again. An aligned 1 GiB request with superpage-
 * capable flags is simply rewritten (one step, no skip), so the test uses
 * flags that map_pages_to_xen will not put in a superpage (PAT, the
 * superpage_ok() rule). hv_modify has already given the 1 GiB leaf those
 * flags, and the map then meets an unchanged superpage covering its whole
 * range: one skip of 262144 pages, or 262144 steps with the bug. */
#define PAT_FLAGS "[P, RW, A, D, NX, G, PAT]"
#define MODIFY_1G_PAT \
	"  - {op: hv_modify, cpu: 0, va: 0xffff830000000000, count: 262144, flags: " PAT_FLAGS "}\n"
#define REMAP_1G_PAT                                                                     \
	"  - {op: hv_map, cpu: 0, va: 0xffff830000000000, pa: 0x0, count: 262144, flags: " \
	PAT_FLAGS "}\n"

START_TEST(skip_whole_1g_page)
{
	struct result ok, bug;
	run_skip(DM1G, MODIFY_1G_PAT REMAP_1G_PAT, false, &ok);
	run_skip(DM1G, MODIFY_1G_PAT REMAP_1G_PAT, true, &bug);
	ck_assert_uint_eq(ok.ops.n, 2);
	ck_assert_uint_eq(last_steps(&ok, 262144), 1);
	ck_assert_uint_eq(last_steps(&bug, 262144), 262144);
}
END_TEST

/* The same one level down, with 2 MiB direct-map pages (page1gb: false):
 * the 2 MiB leaf given PAT by hv_modify, then mapped again with the same
 * flags. map_4k meets the unchanged 2 MiB page: one skip of 512 pages, or
 * 512 steps with the bug. */
#define DM2M "directmap: 0x40000000, page1gb: false"
#define MODIFY_2M_PAT \
	"  - {op: hv_modify, cpu: 0, va: 0xffff830000200000, count: 512, flags: " PAT_FLAGS "}\n"
#define REMAP_2M_PAT                                                                        \
	"  - {op: hv_map, cpu: 0, va: 0xffff830000200000, pa: 0x200000, count: 512, flags: " \
	PAT_FLAGS "}\n"

START_TEST(skip_whole_2m_page)
{
	struct result ok, bug;
	run_skip(DM2M, MODIFY_2M_PAT REMAP_2M_PAT, false, &ok);
	run_skip(DM2M, MODIFY_2M_PAT REMAP_2M_PAT, true, &bug);
	ck_assert_uint_eq(last_steps(&ok, 512), 1);
	ck_assert_uint_eq(last_steps(&bug, 512), 512);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hv_mutations");
	TCase *tc = tcase_create("merge_flush_past");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, merge_flush_past_reported_on_zen3_ranged);
	tcase_add_test(tc, merge_flush_correct_is_clean_on_zen3_ranged);
	tcase_add_test(tc, merge_flush_past_invisible_under_xen_policy);
	tcase_add_test(tc, merge_flush_past_benign_on_skylake);
	suite_add_tcase(s, tc);
	TCase *tk = tcase_create("skip_one_page");
	tcase_set_timeout(tk, 120);
	tcase_add_test(tk, skip_2m_inside_1g_page);
	tcase_add_test(tk, skip_whole_1g_page);
	tcase_add_test(tk, skip_whole_2m_page);
	suite_add_tcase(s, tk);
	return testutil_run(s);
}
