/* Seed 002: TSC arithmetic (sim/tsc), TSC-to-ns scaling (hv/time/scale),
 * record updates and the version protocol, each time mode, migration, the
 * mutation tests that re-introduce the seed's and other plausible time
 * bugs and see the properties report them, and a randomized test over
 * skews, drifts, read rates and migrations with the properties on. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/time/scale.h"
#include "record/checker.h"
#include "runner/run.h"
#include "runner/timegen.h"
#include "scenario/scenario.h"
#include "sim/embedded.h"
#include "sim/event.h"
#include "sim/prng.h"
#include "sim/tsc/tsc.h"
#include "tests/testutil.h"

/* --- sim/tsc ------------------------------------------------------------ */

static void model(struct tsc_model *t, uint32_t n, const int64_t *off, const int64_t *drift,
                  int64_t host_ppb, bool invariant)
{
	ck_assert_int_eq(tsc_init(t, n, 3000000000ull), 0);
	struct tsc_config c = {.enabled = true, .invariant = invariant, .host_ppb = host_ppb,
	                       .offset = off, .drift_ppb = drift};
	tsc_configure(t, &c);
}

START_TEST(tsc_identity_when_disabled)
{
	struct tsc_model t;
	ck_assert_int_eq(tsc_init(&t, 2, 3000000000ull), 0);
	for (uint64_t ref = 0; ref < (1ull << 62); ref = ref * 3 + 7)
		ck_assert_uint_eq(tsc_at(&t, 1, ref), ref);
	tsc_fini(&t);
}
END_TEST

START_TEST(tsc_offsets_and_rates)
{
	struct tsc_model t;
	const int64_t off[3] = {0, 1040, 3000000}, drift[3] = {0, 50000, -50000};
	model(&t, 3, off, drift, 25000, true);
	/* One second of reference time: +25 ppm host, +-50 ppm per core. */
	ck_assert_uint_eq(tsc_at(&t, 0, 3000000000ull), 3000000000ull + 75000);
	ck_assert_uint_eq(tsc_at(&t, 1, 3000000000ull), 1040 + 3000000000ull + 225000);
	ck_assert_uint_eq(tsc_at(&t, 2, 3000000000ull), 3000000 + 3000000000ull - 75000);
	/* Negative rates round down and stay monotonic. */
	uint64_t prev = 0;
	for (uint64_t r = 0; r < 100000; r += 7) {
		uint64_t v = tsc_at(&t, 2, r);
		ck_assert_uint_ge(v, prev);
		prev = v;
	}
	tsc_fini(&t);
}
END_TEST

START_TEST(tsc_scale_no_overflow)
{
	/* d * (1e9 + ppb) needs more than 64 bits; the result does not. */
	uint64_t d = 10000000000000000000ull; /* 1e19 */
	ck_assert_uint_eq(tsc_scale_ref(d, 0), d);
	ck_assert_uint_eq(tsc_scale_ref(d, -100000000), d - d / 10);
	ck_assert_uint_eq(tsc_scale_ref(d / 2, 100000000), d / 2 + d / 20);
	ck_assert_uint_eq(tsc_scale_ref(1000000000, -25000), 1000000000 - 25000);
	ck_assert_uint_eq(tsc_scale_ref(999, 1000), 999); /* floor */
}
END_TEST

START_TEST(tsc_writes_adjust_cstate_freq)
{
	struct tsc_model t;
	model(&t, 2, NULL, NULL, 0, false);
	/* A write: the counter restarts from the value, TSC_ADJUST follows
	 * (SDM Vol. 3B §17.17.3). */
	ck_assert_uint_eq(tsc_write(&t, 0, 1000, 500), 1000);
	ck_assert_uint_eq(tsc_at(&t, 0, 1000), 500);
	ck_assert_uint_eq(tsc_at(&t, 0, 1100), 600);
	ck_assert_int_eq(t.core[0].adjust, -500);
	ck_assert_uint_eq(tsc_adjust(&t, 0, 2000, 4000), 1500);
	ck_assert_uint_eq(tsc_at(&t, 0, 2000), 5500);
	ck_assert_int_eq(t.core[0].adjust, 3500);
	/* Not invariant: stopped in a C-state, then counting on. */
	ck_assert_uint_eq(tsc_cstate(&t, 1, 10000, 5000), 10000);
	ck_assert_uint_eq(tsc_at(&t, 1, 12000), 10000);
	ck_assert_uint_eq(tsc_at(&t, 1, 15000), 10000);
	ck_assert_uint_eq(tsc_at(&t, 1, 16000), 11000);
	/* Half the frequency: half the rate. */
	tsc_set_freq(&t, 1, 20000, -500000000);
	ck_assert_uint_eq(tsc_at(&t, 1, 22000), 15000 + 1000);
	tsc_fini(&t);
	/* Invariant: C-states and frequency changes leave it alone. */
	model(&t, 1, NULL, NULL, 0, true);
	tsc_cstate(&t, 0, 10000, 5000);
	tsc_set_freq(&t, 0, 10000, -500000000);
	ck_assert_uint_eq(tsc_at(&t, 0, 16000), 16000);
	tsc_fini(&t);
}
END_TEST

START_TEST(platform_timer)
{
	struct tsc_model t;
	model(&t, 1, NULL, NULL, 78000, true);
	/* The platform timer runs from the reference, not the TSC. */
	ck_assert_uint_eq(tsc_platform_at(&t, 3000000000ull), 14318180);
	ck_assert_uint_eq(tsc_platform_at(&t, 3600ull * 3000000000ull), 3600ull * 14318180);
	tsc_fini(&t);
}
END_TEST

/* --- hv/time/scale ---------------------------------------------------- */

START_TEST(scale_conversion)
{
	struct hv_time_scale s;
	/* 3 GHz: a third of a nanosecond per tick. */
	ck_assert(hv_time_scale_ratio(&s, 1000000000, 3000000000ull));
	ck_assert_uint_ge(s.mul_frac, 1u << 31);
	uint64_t ns = hv_time_scale_delta(3000000000ull, &s);
	ck_assert_uint_le(1000000000 - ns, 1);
	/* An hour of ticks, and 2^63 ticks (no 64-bit overflow inside). */
	ns = hv_time_scale_delta(3600ull * 3000000000ull, &s);
	ck_assert_uint_le(3600ull * 1000000000 - ns, 3600);
	ns = hv_time_scale_delta(1ull << 63, &s);
	uint64_t want = (1ull << 63) / 3;
	ck_assert_uint_le(want - ns, want / 1000000000);
	/* Slower than 1 GHz: several ns per tick (positive shift). */
	ck_assert(hv_time_scale_ratio(&s, 1000000000, 14318180));
	ck_assert_int_gt(s.shift, 0);
	ns = hv_time_scale_delta(14318180, &s);
	ck_assert_uint_le(1000000000 - ns, 70);
	/* Out of range ratios are refused and leave the scale alone. */
	struct hv_time_scale keep = s;
	ck_assert(!hv_time_scale_ratio(&s, 1ull << 40, 1));
	ck_assert(!hv_time_scale_ratio(&s, 0, 1));
	ck_assert_uint_eq(s.mul_frac, keep.mul_frac);
}
END_TEST

START_TEST(scale_negative_delta)
{
	struct hv_time_scale s;
	ck_assert(hv_time_scale_ratio(&s, 1000000000, 3000000000ull));
	/* A TSC behind the stamp (read on a CPU whose TSC lags): time before
	 * the record's, not the huge value an unsigned delta would give. */
	uint64_t st = 5000000000ull, stamp = 15000000000ull;
	uint64_t v = hv_time_extrapolate(st, stamp, stamp - 3000, &s);
	ck_assert_uint_le(st - v, 1000);
	ck_assert_uint_ge(st - v, 999);
	uint64_t naive = st + hv_time_scale_delta((stamp - 3000) - stamp, &s);
	ck_assert_uint_gt(naive, st + 1000000000000ull);
	/* Never below zero. */
	ck_assert_uint_eq(hv_time_extrapolate(10, stamp, 0, &s), 0);
	v = hv_time_extrapolate(st, stamp, stamp + 3000, &s);
	ck_assert_uint_ge(v - st, 999);
	ck_assert_uint_le(v - st, 1000);
}
END_TEST

/* --- runs ------------------------------------------------------------- */

#define MAX_EV 200000

struct collect {
	struct event *ev;
	size_t n;
};

static int collect_ev(void *ctx, const struct event *ev)
{
	struct collect *c = ctx;
	if (c->n < MAX_EV)
		c->ev[c->n++] = *ev;
	return 0;
}

struct result {
	int rc;
	struct run_summary sum;
	struct collect col;
	struct checker *ck; /* a second checker: every violation */
};

static void run_sc(struct scenario *sc, uint64_t seed, struct result *r)
{
	char err[512];
	memset(r, 0, sizeof(*r));
	r->col.ev = malloc(MAX_EV * sizeof(struct event));
	ck_assert_ptr_nonnull(r->col.ev);
	r->ck = checker_new(false);
	struct sink sinks[2] = {
		{.name = "collect", .mask = 1ull << EV_TIME_UPDATE | 1ull << EV_TIME_READ |
		                            1ull << EV_TIME_MSG | 1ull << EV_TSC,
		 .ctx = &r->col, .event = collect_ev},
		checker_sink(r->ck),
	};
	struct run_opts o = {.seed = seed, .has_seed = true, .extra = sinks, .nextra = 2};
	r->rc = run_scenario(sc, &o, &r->sum, err, sizeof(err));
	ck_assert_msg(r->rc != 2, "%s", err);
}

static void run_text(const char *text, struct result *r)
{
	struct scenario sc;
	struct sc_error e;
	ck_assert_msg(scenario_load_string("time.yaml", text, strlen(text), &sc, &e) == 0, "%s",
	              e.msg);
	run_sc(&sc, 1, r);
	scenario_free(&sc);
}

static void done(struct result *r)
{
	free(r->col.ev);
	checker_free(r->ck);
}

/* Violations of a property, optionally only by guest (or only hv) readers. */
static size_t count_prop(const struct result *r, const char *prop, int guest)
{
	size_t n = 0;
	for (size_t i = 0; i < checker_count(r->ck); i++) {
		const struct violation *v = checker_get(r->ck, i);
		if (strcmp(v->property, prop) != 0)
			continue;
		bool is_hv = strncmp(v->explanation, "hypervisor", 10) == 0;
		if (guest < 0 || (guest == 1) == !is_hv)
			n++;
	}
	return n;
}

static bool has_prop(const struct result *r, const char *p)
{
	return count_prop(r, p, -1) > 0;
}

#define HDR "hvsim: 1\nname: t\nmachine: {cpus: 2}\nhv: {}\n"
/* With jitter: reads do not stay in step with the period. */
#define HDRJ "hvsim: 1\nname: t\nmachine: {cpus: 2, costs: {op_jitter: 300}}\nhv: {}\n"

/* Two vCPUs, reads on both CPUs, a migration and messages both ways. */
#define WORKLOAD                                                        \
	"ops:\n"                                                        \
	"  - {op: time_sched, cpu: 0, vcpu: 0}\n"                      \
	"  - {op: time_sched, cpu: 1, vcpu: 1}\n"                      \
	"  - {op: time_read, cpu: 0, count: 40, every: 1000}\n"        \
	"  - {op: time_read, cpu: 0, who: hv, count: 5, every: 100}\n" \
	"  - {op: time_msg, cpu: 0, vcpu: 1}\n"                        \
	"  - {op: time_msg, cpu: 0, hv_to: 1}\n"                       \
	"  - {op: delay, cpu: 1, cycles: 44000}\n"                     \
	"  - {op: time_read, cpu: 1, count: 40, every: 1000}\n"        \
	"  - {op: time_read, cpu: 1, who: hv, count: 5, every: 100}\n" \
	"  - {op: time_msg, cpu: 1, vcpu: 0}\n"                        \
	"  - {op: delay, cpu: 0, cycles: 100000}\n"                    \
	"  - {op: time_read, cpu: 0, count: 4}\n"                      \
	"  - {op: barrier}\n"                                          \
	"  - {op: time_sched, cpu: 1, vcpu: 0}\n"                      \
	"  - {op: time_read, cpu: 1, count: 4}\n"                      \
	"  - {op: delay, cpu: 1, cycles: 3000000000}\n"                \
	"  - {op: time_read, cpu: 1, count: 4}\n"

START_TEST(record_versions)
{
	struct result r;
	run_text(HDR "time: {mode: percpu, vcpus: 2, period_ms: 100}\n" WORKLOAD, &r);
	ck_assert_int_eq(r.rc, 0);
	/* Every write of a record takes its version up by exactly 2 and
	 * leaves it even; readers used even versions. */
	uint64_t last[3][64];
	memset(last, 0, sizeof(last));
	size_t updates = 0;
	for (size_t i = 0; i < r.col.n; i++) {
		const struct event *e = &r.col.ev[i];
		if (e->type == EV_TIME_UPDATE) {
			ck_assert_uint_lt(e->sub, 3);
			ck_assert_uint_eq(e->d, last[e->sub][e->a] + 2);
			last[e->sub][e->a] = e->d;
			updates++;
		} else if (e->type == EV_TIME_READ) {
			ck_assert_uint_eq(e->c & 1, 0);
		}
	}
	/* ~1 s with a 100 ms period on 2 CPUs. */
	ck_assert_uint_ge(updates, 20);
	ck_assert_uint_eq(updates, r.sum.time.updates);
	done(&r);
	/* Injected: the version never moves. */
	run_text(HDR "time: {mode: percpu, vcpus: 2, period_ms: 100, inject: [no-version-bump]}\n"
	         WORKLOAD, &r);
	for (size_t i = 0; i < r.col.n; i++)
		if (r.col.ev[i].type == EV_TIME_UPDATE)
			ck_assert_uint_eq(r.col.ev[i].d, 0);
	done(&r);
}
END_TEST

/* Back-to-back reads with a 1 ms period: timers land inside reads. */
#define BUSY                                                       \
	"ops:\n"                                                   \
	"  - {op: time_sched, cpu: 0, vcpu: 0}\n"                 \
	"  - {op: time_read, cpu: 0, count: 60000}\n"

START_TEST(version_protocol_retries)
{
	struct result r;
	run_text(HDRJ "time: {mode: rendezvous, vcpus: 1, period_ms: 1, load_cycles: 40}\n" BUSY,
	         &r);
	ck_assert_int_eq(r.rc, 0);
	/* Updates interrupted some reads; they retried and none used a torn
	 * record. */
	ck_assert_uint_gt(r.sum.time.retries, 0);
	ck_assert_uint_eq(r.sum.time.torn, 0);
	ck_assert(!has_prop(&r, "time-version"));
	done(&r);
}
END_TEST

/* Mutation: the version not bumped around an update. */
START_TEST(mutation_no_version_bump)
{
	struct result r;
	run_text(HDRJ "time: {mode: rendezvous, vcpus: 1, period_ms: 1, load_cycles: 40,"
	             " inject: [no-version-bump]}\n" BUSY, &r);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_uint_eq(r.sum.time.retries, 0);
	ck_assert_uint_gt(r.sum.time.torn, 0);
	ck_assert(has_prop(&r, "time-version"));
	/* A torn read pairs an old stamp with a new system time: the guest's
	 * time jumps ahead and then steps back. */
	ck_assert(has_prop(&r, "time-monotonic"));
	done(&r);
}
END_TEST

/* A vCPU read every 10 ms on CPU 0 and, after a migration, on CPU 1,
 * across the periodic updates. */
#define PACED                                                        \
	"ops:\n"                                                     \
	"  - {op: time_sched, cpu: 0, vcpu: 0}\n"                   \
	"  - {op: time_read, cpu: 0, count: 40, every: 30000000}\n" \
	"  - {op: barrier}\n"                                       \
	"  - {op: time_sched, cpu: 1, vcpu: 0}\n"                   \
	"  - {op: time_read, cpu: 1, count: 40, every: 30000000}\n"

/* Mutation: a stale TSC stamp paired with a new system time on schedule. */
START_TEST(mutation_stale_stamp)
{
	struct result r;
	const char *ok = HDR "time: {mode: percpu, vcpus: 2}\n" PACED;
	run_text(ok, &r);
	ck_assert_int_eq(r.rc, 0);
	done(&r);
	run_text(HDR "time: {mode: percpu, vcpus: 2, inject: [stale-stamp]}\n" PACED, &r);
	ck_assert_int_eq(r.rc, 1);
	ck_assert(has_prop(&r, "time-monotonic"));
	ck_assert_uint_gt(r.sum.time.warp_same_ns + r.sum.time.warp_cross_ns, 1000);
	done(&r);
}
END_TEST

/* Mutation: the seed's own wall-clock carry. */
START_TEST(mutation_seed_wallclock)
{
	struct result r;
	run_text(HDR "time: {mode: percpu, vcpus: 2, inject: [seed-wallclock]}\n" WORKLOAD, &r);
	ck_assert_int_eq(r.rc, 1);
	ck_assert(has_prop(&r, "time-wallclock"));
	/* The sub-second field left its range (the seed's -= 10000000). */
	bool range = false;
	for (size_t i = 0; i < r.col.n; i++)
		if (r.col.ev[i].type == EV_TIME_UPDATE && r.col.ev[i].f >= 1000000)
			range = true;
	ck_assert(range);
	done(&r);
	run_text(HDR "time: {mode: percpu, vcpus: 2}\n" WORKLOAD, &r);
	ck_assert(!has_prop(&r, "time-wallclock"));
	for (size_t i = 0; i < r.col.n; i++)
		if (r.col.ev[i].type == EV_TIME_UPDATE)
			ck_assert_uint_lt(r.col.ev[i].f, 1000000);
	done(&r);
}
END_TEST

/* Each mode under a large skew: CPU 1's TSC 1 ms ahead of CPU 0's. */
START_TEST(modes_under_skew)
{
	static const char *const modes[] = {"global", "percpu", "rendezvous"};
	struct result r[3];
	char text[4096];
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text),
		         HDR "time: {mode: %s, vcpus: 2, offsets: [3000000, 0]}\n" WORKLOAD, modes[i]);
		run_text(text, &r[i]);
	}
	/* The global base: CPU 1 extrapolates CPU 0's stamp with a TSC 1 ms
	 * behind, so a read there after a message from CPU 0 is smaller. */
	ck_assert(has_prop(&r[0], "time-causal"));
	ck_assert_uint_gt(r[0].sum.time.warp_cross_ns, 900000);
	/* Per-CPU records (with or without the rendezvous) absorb offsets. */
	for (int i = 1; i < 3; i++) {
		ck_assert_int_eq(r[i].rc, 0);
		ck_assert_uint_eq(r[i].sum.time.back_cross + r[i].sum.time.back_same, 0);
	}
	for (int i = 0; i < 3; i++)
		done(&r[i]);
}
END_TEST

/* A TSC that stops in a C-state (no invariant TSC): per-CPU records lose
 * the stopped time for good; the rendezvous recovers it at the next
 * period; the guest clamp hides what is left from the guest. */
START_TEST(modes_under_cstate)
{
	const char *ops =
		"ops:\n"
		"  - {op: time_sched, cpu: 0, vcpu: 0}\n"
		"  - {op: time_sched, cpu: 1, vcpu: 1}\n"
		"  - {op: tsc, cpu: 1, cstate: 30000000}\n"
		"  - {op: delay, cpu: 0, cycles: 60000000}\n"
		"  - {op: time_read, cpu: 0, count: 2}\n"
		"  - {op: time_msg, cpu: 0, vcpu: 1}\n"
		"  - {op: delay, cpu: 1, cycles: 30010000}\n"
		"  - {op: time_read, cpu: 1, count: 2}\n"
		"  - {op: barrier}\n"
		"  - {op: delay, cpu: 0, cycles: 1500000000}\n"
		"  - {op: time_read, cpu: 0, count: 2}\n"
		"  - {op: time_msg, cpu: 0, vcpu: 1}\n"
		"  - {op: delay, cpu: 1, cycles: 1500010000}\n"
		"  - {op: time_read, cpu: 1, count: 2}\n";
	static const char *const cfg[] = {"mode: percpu", "mode: rendezvous",
	                                  "mode: rendezvous, clamp: true"};
	struct result r[3];
	char text[4096];
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), HDR "time: {%s, vcpus: 2, invariant: false}\n%s", cfg[i],
		         ops);
		run_text(text, &r[i]);
	}
	/* 10 ms stopped: percpu lags ~10 ms at both message reads. */
	ck_assert_uint_ge(r[0].sum.time.back_cross, 2);
	ck_assert_uint_gt(r[0].sum.time.warp_cross_ns, 9000000);
	/* The rendezvous: the first read (before a rendezvous) lags, the one
	 * 0.5 s later does not. */
	ck_assert_uint_eq(r[1].sum.time.back_cross, 2);
	ck_assert_uint_lt(r[1].sum.time.warp_cross_ns, r[0].sum.time.warp_cross_ns);
	ck_assert_uint_eq(count_prop(&r[1], "time-causal", 1), 2);
	/* With the clamp the guest never sees it. */
	ck_assert_uint_eq(count_prop(&r[2], "time-causal", 1), 0);
	ck_assert_uint_gt(r[2].sum.time.clamped, 0);
	for (int i = 0; i < 3; i++)
		done(&r[i]);
}
END_TEST

/* Migration: the vCPU's record is refreshed from the CPU it now runs on. */
START_TEST(migration_refreshes_record)
{
	static const char *const modes[] = {"percpu", "global"};
	for (int m = 0; m < 2; m++) {
		struct result r;
		char text[4096];
		snprintf(text, sizeof(text),
		         HDR "time: {mode: %s, vcpus: 2, offsets: [0, 3000000]}\n" WORKLOAD, modes[m]);
		run_text(text, &r);
		uint64_t stamp[2] = {0, 0}, gstamp = 0;
		size_t checked = 0;
		for (size_t i = 0; i < r.col.n; i++) {
			const struct event *e = &r.col.ev[i];
			if (e->type != EV_TIME_UPDATE)
				continue;
			if (e->sub == TREC_CPU)
				stamp[e->a] = e->c;
			else if (e->sub == TREC_GLOBAL)
				gstamp = e->c;
			else {
				/* A vCPU record written on cpu carries that CPU's
				 * stamp (the global one in global mode). */
				ck_assert_uint_eq(e->c, m == 0 ? stamp[e->cpu] : gstamp);
				checked++;
			}
		}
		ck_assert_uint_ge(checked, 3);
		done(&r);
	}
}
END_TEST

/* TSC events are recorded with the counter before and after. */
START_TEST(tsc_events_recorded)
{
	struct result r;
	run_text(HDR "time: {vcpus: 1, invariant: false}\nops:\n"
	             "  - {op: tsc, cpu: 1, write: 1000}\n"
	             "  - {op: tsc, cpu: 1, adjust: -200}\n"
	             "  - {op: tsc, cpu: 0, freq_ppm: -50000}\n"
	             "  - {op: tsc, cpu: 0, cstate: 3000}\n",
	         &r);
	size_t n = 0;
	for (size_t i = 0; i < r.col.n; i++) {
		const struct event *e = &r.col.ev[i];
		if (e->type != EV_TSC)
			continue;
		n++;
		if (e->sub == TSCE_WRITE)
			ck_assert_uint_eq(e->b, 1000);
		if (e->sub == TSCE_ADJUST)
			ck_assert_uint_eq(e->b, e->a - 200);
		if (e->sub == TSCE_FREQ || e->sub == TSCE_CSTATE)
			ck_assert_uint_eq(e->b, e->a);
	}
	ck_assert_uint_eq(n, 4);
	done(&r);
}
END_TEST

/* An IPI orders the target hypervisor's later reads after the sender's. */
START_TEST(ipi_orders_reads)
{
	const char *ops = "ops:\n"
	                  "  - {op: time_read, cpu: 0, who: hv}\n"
	                  "  - {op: ipi, cpu: 0, to: [1], run: [{op: rdtsc}]}\n"
	                  "  - {op: delay, cpu: 1, cycles: 20000}\n"
	                  "  - {op: time_read, cpu: 1, who: hv}\n";
	static const char *const modes[] = {"global", "percpu"};
	for (int i = 0; i < 2; i++) {
		char text[1024];
		struct result r;
		snprintf(text, sizeof(text), HDR "time: {mode: %s, offsets: [3000000, 0]}\n%s",
		         modes[i], ops);
		run_text(text, &r);
		size_t sent = 0, recv = 0;
		for (size_t k = 0; k < r.col.n; k++)
			if (r.col.ev[k].type == EV_TIME_MSG) {
				*(r.col.ev[k].sub == TMSG_SEND ? &sent : &recv) += 1;
				ck_assert_uint_eq(r.col.ev[k].c, TIME_AGENT_HV + 1);
			}
		ck_assert_uint_eq(sent, 1);
		ck_assert_uint_eq(recv, 1);
		/* Global: CPU 1 extrapolates CPU 0's stamp 1 ms behind. */
		ck_assert_uint_eq(count_prop(&r, "time-causal", 0), i == 0 ? 1 : 0);
		done(&r);
	}
}
END_TEST

/* Run-time input errors: exit 2 with the scenario's position. */
START_TEST(runtime_errors)
{
	struct scenario sc;
	struct sc_error e;
	char err[512];
	struct run_summary sum;
	const char *t = HDR "time: {}\nops:\n  - {op: time_read, cpu: 1}\n";
	ck_assert_int_eq(scenario_load_string("t.yaml", t, strlen(t), &sc, &e), 0);
	struct run_opts o = {0};
	ck_assert_int_eq(run_scenario(&sc, &o, &sum, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "t.yaml:7:5: time_read: no time vCPU runs on cpu 1"), "%s", err);
	scenario_free(&sc);
	/* The budget of periodic updates. */
	t = HDR "time: {period_ms: 1}\nops:\n  - {op: delay, cycles: 3000000000}\n";
	ck_assert_int_eq(scenario_load_string("t.yaml", t, strlen(t), &sc, &e), 0);
	o.time_max_ticks = 100;
	ck_assert_int_eq(run_scenario(&sc, &o, &sum, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "t.yaml: time: more than 100 periodic updates"), "%s", err);
	o.time_max_ticks = 3000;
	ck_assert_int_eq(run_scenario(&sc, &o, &sum, err, sizeof(err)), 0);
	scenario_free(&sc);
}
END_TEST

/* On recordings of real runs, the time queries (checks/time_*.sql) report
 * exactly the events and texts the in-process checker does. */
START_TEST(sql_agrees_on_real_runs)
{
	static const char *const files[] = {
		"scenarios/seed-002-cstate.yaml", "scenarios/seed-002-offsets-small.yaml",
		"scenarios/time/twins/migrate.stale-stamp.yaml",
		"scenarios/time/twins/busy-reader.no-version-bump.yaml",
		"scenarios/time/twins/wallclock.seed-carry.yaml",
		"scenarios/time/twins/message.global-base.yaml",
	};
	char path[512], db[512], err[512];
	struct scenario sc;
	struct sc_error e;
	snprintf(path, sizeof(path), HVSIM_SOURCE_DIR "/%s", files[_i]);
	snprintf(db, sizeof(db), "%s/real%d.db", testutil_tmpdir(), _i);
	ck_assert_msg(scenario_load(path, &sc, &e) == 0, "%s", e.msg);
	if (_i == 1)
		sc.time.mode = SC_TIME_GLOBAL; /* the row that goes backwards */
	struct checker *ck = checker_new(false);
	struct sink cs = checker_sink(ck);
	struct run_opts o = {.db_path = db, .extra = &cs, .nextra = 1};
	struct run_summary sum;
	ck_assert_int_eq(run_scenario(&sc, &o, &sum, err, sizeof(err)), 1);
	scenario_free(&sc);
	sqlite3 *h;
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	size_t total = 0;
	for (const struct hvsim_embedded *q = hvsim_checks; q->name; q++) {
		if (strncmp(q->name, "time_", 5) != 0)
			continue;
		char prop[64];
		snprintf(prop, sizeof(prop), "%s", q->name);
		for (char *c = prop; *c; c++)
			if (*c == '_')
				*c = '-';
		sqlite3_stmt *st;
		ck_assert_msg(sqlite3_prepare_v2(h, q->text, -1, &st, NULL) == SQLITE_OK, "%s: %s",
		              q->name, sqlite3_errmsg(h));
		size_t k = 0, n = checker_count(ck);
		while (sqlite3_step(st) == SQLITE_ROW) {
			while (k < n && strcmp(checker_get(ck, k)->property, prop) != 0)
				k++;
			ck_assert_msg(k < n, "%s: SQL row seq %lld not in process", prop,
			              (long long)sqlite3_column_int64(st, 0));
			const struct violation *v = checker_get(ck, k++);
			ck_assert_uint_eq(v->seq, (uint64_t)sqlite3_column_int64(st, 0));
			char text[256];
			snprintf(text, sizeof(text), "%s", (const char *)sqlite3_column_text(st, 3));
			ck_assert_str_eq(v->explanation, text);
			total++;
		}
		while (k < n && strcmp(checker_get(ck, k)->property, prop) != 0)
			k++;
		ck_assert_msg(k == n, "%s: in-process seq %" PRIu64 " not in SQL", prop,
		              k < n ? checker_get(ck, k)->seq : 0);
		sqlite3_finalize(st);
	}
	ck_assert_uint_eq(total, checker_count(ck));
	ck_assert_uint_gt(total, 0);
	sqlite3_close(h);
	checker_free(ck);
}
END_TEST

/* The time: section and the time ops as loaded. */
START_TEST(loads_time_section)
{
	const char *t = HDR "time: {mode: global, clamp: true, period_ms: 1000, calibrate_ms: 20,"
	                " wallclock: 5, vcpus: 3, platform_hz: 1000000, platform_read: 7,"
	                " invariant: false, host_ppm: -78, offsets: [0, 1040],"
	                " drift_ppm: 50, inject: [stale-stamp, seed-wallclock], load_cycles: 9}\n"
	                "ops:\n"
	                "  - {op: time_read, cpu: 1, who: hv, count: 4, every: 10}\n"
	                "  - {op: time_msg, vcpu: 2}\n"
	                "  - {op: time_msg, hv_to: 1}\n"
	                "  - {op: tsc, adjust: -5}\n"
	                "  - {op: tsc, freq_ppm: -100}\n";
	struct scenario sc;
	struct sc_error e;
	ck_assert_msg(scenario_load_string("t.yaml", t, strlen(t), &sc, &e) == 0, "%s", e.msg);
	const struct sc_time *tm = &sc.time;
	ck_assert(tm->enabled && tm->clamp && !tm->invariant && !tm->compare);
	ck_assert_int_eq(tm->mode, SC_TIME_GLOBAL);
	ck_assert_uint_eq(tm->period_ns, 1000000000);
	ck_assert_uint_eq(tm->calibrate_ns, 20000000);
	ck_assert_uint_eq(tm->wallclock_sec, 5);
	ck_assert_uint_eq(tm->vcpus, 3);
	ck_assert_uint_eq(tm->platform_hz, 1000000);
	ck_assert_uint_eq(tm->platform_read, 7);
	ck_assert_uint_eq(tm->load_cycles, 9);
	ck_assert_int_eq(tm->host_ppb, -78000);
	ck_assert(!tm->offsets_random && tm->offsets && tm->offsets[1] == 1040);
	ck_assert(tm->drift_random && !tm->drift_ppb && tm->drift_max_ppb == 50000);
	ck_assert_uint_eq(tm->inject, SC_TIME_INJECT_STALE_STAMP | SC_TIME_INJECT_SEED_WALLCLOCK);
	ck_assert_uint_eq(sc.nops, 5);
	ck_assert(sc.ops[0].kind == OP_TIME_READ && sc.ops[0].acc == SC_READ_HV);
	ck_assert_uint_eq(sc.ops[0].count, 4);
	ck_assert_uint_eq(sc.ops[0].cycles, 10);
	ck_assert(sc.ops[1].kind == OP_TIME_MSG && !sc.ops[1].has_value && sc.ops[1].vcpu == 2);
	ck_assert(sc.ops[2].has_value && sc.ops[2].value == 1);
	ck_assert(sc.ops[3].type == TSCE_ADJUST && (int64_t)sc.ops[3].value == -5);
	ck_assert(sc.ops[4].type == TSCE_FREQ && (int64_t)sc.ops[4].value == -100);
	scenario_free(&sc);
	/* Defaults: the seed's 250 ms, Xen's 50 ms calibration, rendezvous. */
	t = HDR "time:\nops: []\n";
	ck_assert_msg(scenario_load_string("t.yaml", t, strlen(t), &sc, &e) == 0, "%s", e.msg);
	ck_assert(sc.time.enabled && sc.time.invariant);
	ck_assert_int_eq(sc.time.mode, SC_TIME_RENDEZVOUS);
	ck_assert_uint_eq(sc.time.period_ns, 250000000);
	ck_assert_uint_eq(sc.time.calibrate_ns, 50000000);
	ck_assert_uint_eq(sc.time.vcpus, 2);
	scenario_free(&sc);
}
END_TEST

/* --- randomized ------------------------------------------------------- */

START_TEST(randomized)
{
	struct prng rng;
	prng_seed(&rng, 0x7157 + (uint64_t)_i);
	for (int iter = 0; iter < 6; iter++) {
		struct timegen_params p = {
			.ncpus = 1 + (uint32_t)prng_below(&rng, 4),
			.vcpus = 1 + (uint32_t)prng_below(&rng, 4),
			.nops = 150 + (uint32_t)prng_below(&rng, 150),
			.mode = (int)prng_below(&rng, 3),
			.clamp = prng_below(&rng, 2),
			.offset_max = prng_below(&rng, 2) ? prng_below(&rng, 6000000) : 0,
			.drift_max_ppm = prng_below(&rng, 2) ? (int64_t)prng_below(&rng, 100) : 0,
			.host_ppm = (int64_t)prng_below(&rng, 157) - 78,
			.invariant = prng_below(&rng, 4) != 0,
			.tsc_events = prng_below(&rng, 4) == 0,
			.max_every = prng_below(&rng, 2) ? 100 : 1000000,
			.max_delay = prng_below(&rng, 2) ? 10000000 : 1000000000,
			.period_ms = prng_below(&rng, 2) ? 250 : 1 + (uint32_t)prng_below(&rng, 20),
		};
		struct scenario sc;
		ck_assert_int_eq(timegen_scenario(&sc, &p, &rng), 0);
		struct result r, r2;
		run_sc(&sc, 1 + (uint64_t)iter, &r);
		/* The version protocol and the wall clock hold in every
		 * configuration. */
		ck_assert(!has_prop(&r, "time-version"));
		ck_assert(!has_prop(&r, "time-wallclock"));
		ck_assert_uint_gt(r.sum.time.reads, 0);
		/* The clamp: no guest read is ever below one before it. */
		if (p.clamp) {
			ck_assert_uint_eq(count_prop(&r, "time-monotonic", 1), 0);
			ck_assert_uint_eq(count_prop(&r, "time-causal", 1), 0);
		}
		/* Per-CPU records carry each CPU's time forward from its own
		 * counter: with an invariant TSC that nothing rewrites, NOW() on
		 * one CPU never steps back. */
		if (p.mode != SC_TIME_GLOBAL && p.invariant && !p.tsc_events)
			ck_assert_uint_eq(count_prop(&r, "time-monotonic", 0), 0);
		/* Same seed, same run. */
		run_sc(&sc, 1 + (uint64_t)iter, &r2);
		ck_assert_uint_eq(r.sum.digest, r2.sum.digest);
		ck_assert_uint_eq(r.sum.events, r2.sum.events);
		done(&r);
		done(&r2);
		scenario_free(&sc);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, tsc_identity_when_disabled);
	tcase_add_test(tc, tsc_offsets_and_rates);
	tcase_add_test(tc, tsc_scale_no_overflow);
	tcase_add_test(tc, tsc_writes_adjust_cstate_freq);
	tcase_add_test(tc, platform_timer);
	tcase_add_test(tc, scale_conversion);
	tcase_add_test(tc, scale_negative_delta);
	tcase_add_test(tc, record_versions);
	tcase_add_test(tc, version_protocol_retries);
	tcase_add_test(tc, mutation_no_version_bump);
	tcase_add_test(tc, mutation_stale_stamp);
	tcase_add_test(tc, mutation_seed_wallclock);
	tcase_add_test(tc, modes_under_skew);
	tcase_add_test(tc, modes_under_cstate);
	tcase_add_test(tc, migration_refreshes_record);
	tcase_add_test(tc, tsc_events_recorded);
	tcase_add_test(tc, loads_time_section);
	tcase_add_test(tc, ipi_orders_reads);
	tcase_add_test(tc, runtime_errors);
	tcase_add_loop_test(tc, sql_agrees_on_real_runs, 0, 6);
	tcase_add_loop_test(tc, randomized, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(suite());
}
