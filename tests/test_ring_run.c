/* The rings inside a run (runner/ringops.c): what the events say about
 * stalls, wake-ups, the helper and the time model, read from the event
 * stream of shipped seed-004 scenarios by a sink of our own. */
#include <stdio.h>
#include <string.h>

#include "runner/run.h"
#include "scenario/scenario.h"
#include "sim/event.h"
#include "tests/testutil.h"

#define MAXEV 8192

struct cap {
	unsigned n;
	struct event ev[MAXEV];
};

static struct cap C;

static int grab(void *ctx, const struct event *ev)
{
	struct cap *c = ctx;
	ck_assert_uint_lt(c->n, MAXEV);
	c->ev[c->n++] = *ev;
	return 0;
}

static void run(const char *rel, struct run_summary *s)
{
	char path[1024], err[512];
	struct scenario sc;
	struct sc_error e;
	snprintf(path, sizeof(path), "%s/scenarios/%s", HVSIM_SOURCE_DIR, rel);
	ck_assert_msg(scenario_load(path, &sc, &e) == 0, "%s", e.msg);
	memset(&C, 0, sizeof(C));
	struct sink k = {.name = "test", .mask = 1ull << EV_RING | 1ull << EV_RING_STALL, .ctx = &C,
	                 .event = grab};
	struct run_opts o = {.extra = &k, .nextra = 1};
	ck_assert_int_eq(run_scenario(&sc, &o, s, err, sizeof(err)), 0);
	scenario_free(&sc);
}

static unsigned count(unsigned type, unsigned sub)
{
	unsigned n = 0;
	for (unsigned i = 0; i < C.n; i++)
		n += C.ev[i].type == type && C.ev[i].sub == sub;
	return n;
}

/* Every stall ends at a wake-up of the same vCPU on the same ring, at the
 * same cycle; it started when the vCPU went to sleep. */
START_TEST(stalls_are_sleep_to_wake)
{
	struct run_summary s;
	run("seed-004-wake-both.yaml", &s);
	unsigned stalls = 0, waitq = 0, nolistener = 0;
	for (unsigned i = 0; i < C.n; i++) {
		const struct event *st = &C.ev[i];
		if (st->type != EV_RING_STALL)
			continue;
		stalls++;
		ck_assert_uint_eq(st->f, 0); /* none unfinished in a healthy run */
		ck_assert_uint_le(st->c, st->d);
		ck_assert_uint_eq(st->cycle, st->d);
		ck_assert_uint_ne(st->b, RING_NOBODY);
		ck_assert_uint_eq(st->b >> 8, 1); /* the guest domain */
		/* The wake-up that ended it: the event just before. */
		ck_assert_uint_gt(i, 0);
		const struct event *w = &C.ev[i - 1];
		ck_assert_uint_eq(w->type, EV_RING);
		ck_assert_uint_eq(w->sub, RING_WOKEN);
		ck_assert_uint_eq(w->b, st->b);
		ck_assert_uint_eq(w->a, st->a);
		/* Had room no later than it was woken, and within the bound. */
		ck_assert_uint_ne(st->e, UINT64_MAX);
		ck_assert_uint_le(st->e, st->d);
		ck_assert_uint_le(st->d - st->e, RING_WAKE_BOUND);
		/* The sleep that began it. */
		unsigned sleep = 0;
		for (unsigned j = i; j-- > 0;)
			if (C.ev[j].type == EV_RING && C.ev[j].b == st->b &&
			    (C.ev[j].sub == RING_PUT_SLEEP || C.ev[j].sub == RING_MARK_SLEEP)) {
				sleep = j;
				break;
			}
		ck_assert_uint_eq(C.ev[sleep].cycle, st->c);
		if (st->sub == STALL_WAITQ) {
			waitq++;
			ck_assert_uint_eq(st->a & 255, RING_KIND_PAGING);
			ck_assert_uint_eq(w->f, 0);
		} else {
			ck_assert_uint_eq(st->sub, STALL_NO_LISTENER);
			nolistener++;
			ck_assert_uint_eq(st->a & 255, RING_KIND_ACCESS);
			ck_assert_uint_eq(w->f, 1);
		}
	}
	ck_assert_uint_eq(stalls, s.rings.stalls);
	ck_assert_uint_gt(waitq, 0);
	ck_assert_uint_eq(nolistener, 4); /* each vCPU's first access fault */
	ck_assert_uint_eq(count(EV_RING, RING_WOKEN), stalls);
}
END_TEST

/* The helper answers every request it took, in order; a response comes no
 * earlier than latency after the request was taken; the stall shows as a
 * gap of at least its length between two responses. */
START_TEST(helper_latency_and_stall)
{
	struct run_summary s;
	run("seed-004-stall-waitq.yaml", &s);
	uint64_t taken[512], ntaken = 0, nresp = 0, last_resp = 0, max_gap = 0;
	for (unsigned i = 0; i < C.n; i++) {
		const struct event *e = &C.ev[i];
		if (e->type != EV_RING)
			continue;
		if (e->sub == RING_CONSUME) {
			ck_assert_uint_lt(ntaken, 512);
			taken[ntaken++] = e->cycle;
		} else if (e->sub == RING_RESPOND) {
			ck_assert_uint_lt(nresp, ntaken);
			ck_assert_uint_ge(e->cycle, taken[nresp] + 1500); /* latency 1500 */
			if (nresp && e->cycle - last_resp > max_gap)
				max_gap = e->cycle - last_resp;
			last_resp = e->cycle;
			nresp++;
		}
	}
	ck_assert_uint_eq(ntaken, nresp);
	ck_assert_uint_eq(nresp, s.rings.responses);
	ck_assert_uint_ge(max_gap, 150000);
	ck_assert_uint_eq(count(EV_RING, RING_HELPER_STALL), 1);
	/* Every request put was answered: puts = gets. */
	ck_assert_uint_eq(count(EV_RING, RING_PUT), count(EV_RING, RING_GET));
}
END_TEST

/* A vCPU paused for its response runs again no earlier than the response
 * that unpaused it: its next ring event is not before the unpause. */
START_TEST(woken_vcpus_run_after_their_waker)
{
	struct run_summary s;
	run("seed-004-burst-waitq.yaml", &s);
	uint64_t ready[16][8] = {{0}};
	unsigned checked = 0;
	for (unsigned i = 0; i < C.n; i++) {
		const struct event *e = &C.ev[i];
		if (e->type != EV_RING || e->b == RING_NOBODY || e->sub == RING_VCPU_END)
			continue;
		unsigned d = (unsigned)(e->b >> 8) & 15, v = (unsigned)e->b & 7;
		if (e->sub == RING_UNPAUSE || e->sub == RING_WOKEN) {
			ready[d][v] = e->cycle;
		} else if (e->sub == RING_CLAIM || e->sub == RING_PUT) {
			ck_assert_uint_ge(e->cycle, ready[d][v]);
			checked++;
		}
	}
	ck_assert_uint_gt(checked, 100);
	/* Every vCPU free at the end. */
	unsigned ends = 0;
	for (unsigned i = 0; i < C.n; i++)
		if (C.ev[i].type == EV_RING && C.ev[i].sub == RING_VCPU_END) {
			ends++;
			ck_assert_uint_eq(C.ev[i].c, 0);
			ck_assert_uint_eq(C.ev[i].d, 0);
			ck_assert_uint_eq(C.ev[i].e, UINT64_MAX);
		}
	ck_assert_uint_eq(ends, 8);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring_run");
	TCase *tc = tcase_create("run");
	tcase_add_test(tc, stalls_are_sleep_to_wake);
	tcase_add_test(tc, helper_latency_and_stall);
	tcase_add_test(tc, woken_vcpus_run_after_their_waker);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
