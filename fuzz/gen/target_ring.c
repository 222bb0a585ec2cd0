/* Fuzz target `ring`: vm_event rings with wait queues (issue 8, seed 004;
 * docs/seed-004.md).
 *
 * The ops come from the ring generator of runner/ring_gen.c (the one
 * tests/test_ring_random.c uses), fed by the fuzz byte source instead of
 * a PRNG, so `hvsim fuzz --target ring`, its libFuzzer harness and the
 * test explore through one generator. The decoder draws the generator's
 * ranges (the swarm): the mode (pause, before the seed, or waitq, after
 * it), ring sizes (1-64 slots), 1-6 guest vCPUs, which rings the domain
 * has at the start, helper latency, bursts, finite rounds and stalls,
 * foreign producers (how many, their counts, hold times, releases), the
 * admin's enables and disables (on EBUSY: retry or drain), and which
 * guest events (populate, drop, access, share, populate_back) vCPUs raise
 * how densely. The generator draws the ops within those ranges.
 *
 * Only configurations in which every ring property must hold are drawn,
 * so a clean build fuzzes clean. The generator's scenarios end with every
 * ring enabled and its helper serving until idle (nobody is left waiting
 * for a ring or a response), each vCPU has its own CPU, and before the
 * seed (mode: pause) foreign producers never release a claim: there a
 * vCPU paused because foreign claims filled the ring is unpaused only by
 * a response, and when the claims are released instead no request is in
 * flight -- it hangs by design (rings/twins/pause-release-hang.yaml, the
 * seed's point, not a bug for the fuzzer to report again). Foreign
 * releases are drawn after the seed (waitq) only.
 *
 * Each injected bug (rings.inject) shows as its property in the
 * configurations where it is a bug (tests/test_ring_mutations.c):
 * put_off_by_one, claim_off_by_one, release_foreign and no_full_check as
 * ring-accounting, double_pause and disable_wq_only as ring-hang (or
 * ring-lost-request), no_wake_requesters, no_wake_waiters and
 * release_no_wake as ring-lost-wakeup.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/gen/scbuild.h"
#include "fuzz/gen/target.h"
#include "runner/ring_gen.h"

#define RING_TEXT_MAX (64 * 1024)

static uint64_t src_below(void *ctx, uint64_t n)
{
	return bs_below(ctx, n);
}

static uint64_t one_of(struct bytesrc *b, const uint64_t *v, unsigned n)
{
	return v[bs_below(b, n)];
}

/* The swarm: the generator's ranges for this case. */
static void draw_params(struct bytesrc *b, struct ring_gen_params *p)
{
	static const uint64_t latency[] = {0, 500, 3000, 20000};
	static const uint64_t stall[] = {2000, 60000, 200000};
	static const uint64_t gaps[] = {2000, 40000};
	static const uint64_t hold[] = {0, 2000, 20000};
	static const unsigned release_in[] = {0, 1, 2, 4};
	static const uint64_t vgap[] = {500, 20000};
	static const uint64_t egap[] = {0, 500, 5000};
	ring_gen_defaults(p);
	p->mode = bs_chance(b, 40) ? 1 : 0;
	p->max_vcpus = 1 + (unsigned)bs_below(b, RING_GEN_MAX_VCPUS);
	p->slots_lo = (unsigned)bs_below(b, 4);
	p->slots_hi = p->slots_lo + (unsigned)bs_below(b, 7 - p->slots_lo);
	p->start_rings = bs_chance(b, 80) ? 1 | (int)bs_below(b, 4) << 1 : (int)bs_below(b, 8);
	p->max_stalls = (unsigned)bs_below(b, 4);
	p->max_latency = one_of(b, latency, 4);
	p->max_burst = 1 + bs_below(b, 8);
	p->max_round = 1 + bs_below(b, 10);
	p->max_stall = one_of(b, stall, 3);
	p->max_admin = (unsigned)bs_below(b, 7);
	p->max_admin_gap = one_of(b, gaps, 2);
	p->max_foreign = bs_chance(b, 25) ? 0 : 1 + (unsigned)bs_below(b, 6);
	p->max_foreign_count = 1 + bs_below(b, 6);
	p->max_hold = one_of(b, hold, 3);
	p->release_in = release_in[bs_below(b, 4)];
	p->max_vcpu_ops = 1 + (unsigned)bs_below(b, 8);
	p->delay_in = 2 + (unsigned)bs_below(b, 5);
	p->max_vcpu_gap = one_of(b, vgap, 2);
	p->max_events = 1 + bs_below(b, 8);
	p->max_gap = one_of(b, egap, 3);
	/* A non-empty subset of the guest events (populate when none). */
	unsigned mask = (unsigned)bs_below(b, 32);
	p->nkinds = 0;
	for (unsigned k = 0; k < 5; k++)
		if ((mask >> k) & 1)
			p->kinds[p->nkinds++] = (uint8_t)k;
	if (!p->nkinds)
		p->kinds[p->nkinds++] = 0;
}

static int ring_decode(struct bytesrc *b, struct scenario *sc)
{
	static char text[RING_TEXT_MAX];
	struct ring_gen_params p;
	draw_params(b, &p);
	uint64_t seed = 1 + bs_below(b, 1u << 16);
	struct ring_gen_src src = {.below = src_below, .ctx = b};
	size_t len = ring_gen_scenario_src(&p, &src, NULL, text, sizeof(text));
	if (!len)
		return -1;
	struct scenario gen;
	struct sc_error e;
	if (scenario_load_string("fuzz-case.yaml", text, len, &gen, &e) != 0)
		return -1;
	/* The fuzz framework's layout (scbuild.h: ops in a power-of-two
	 * array), its name. */
	int rc = scb_copy(sc, &gen);
	scenario_free(&gen);
	if (rc)
		return -1;
	free(sc->name);
	sc->name = strdup("fuzz-ring");
	if (!sc->name) {
		scenario_free(sc);
		return -1;
	}
	sc->seed = seed;
	sc->has_seed = true;
	return 0;
}

/* ---- states and the observer ---------------------------------------------- */

enum {
	S_FULL, S_WAITQ_SLEEP, S_WAKE_SOME, S_FOREIGN_WAIT, S_DISABLE_BUSY_OK, S_STALL_RESTART,
	S_MARK_SLEEP, S_PAUSE_FULL, S_RESLEEP, S_FOREIGN_RELEASE, S_FLAG_WOKEN, S_COUNT
};

static const struct fz_state ring_states[] = {
	[S_FULL] = {"ring-full", "a request took the ring's last free slot"},
	[S_WAITQ_SLEEP] = {"waitq-sleep", "a vCPU's put found no room and slept on the wait "
	                                  "queue"},
	[S_WAKE_SOME] = {"wake-some-not-all", "wake_requesters woke some sleepers and left others "
	                                      "on the wait queue (wake_up_nr)"},
	[S_FOREIGN_WAIT] = {"foreign-claim-waits", "a foreign producer's claim was refused and "
	                                           "it waited"},
	[S_DISABLE_BUSY_OK] = {"disable-busy-then-done", "a disable was refused (EBUSY), then "
	                                                 "the ring was disabled"},
	[S_STALL_RESTART] = {"helper-stall-restart", "a helper stalled, then consumed requests "
	                                             "again"},
	[S_MARK_SLEEP] = {"mark-sleep-no-listener", "a vCPU marked itself and slept: the ring "
	                                            "had no listener"},
	[S_PAUSE_FULL] = {"pause-full", "before the seed: a vCPU was paused, the ring full"},
	[S_RESLEEP] = {"woken-sleeps-again", "a vCPU woken from the wait queue found no room "
	                                     "and slept again"},
	[S_FOREIGN_RELEASE] = {"foreign-release", "a foreign producer released its claim"},
	[S_FLAG_WOKEN] = {"flag-woken", "a vCPU asleep with the ring's flag was woken "
	                                "(wake_waiters)"},
};

static_assert(sizeof(ring_states) / sizeof(ring_states[0]) == S_COUNT, "one per state");

#define OBS_DOMS 4
#define OBS_VCPUS 8

struct ring_obs {
	uint32_t nwq[OBS_DOMS][3];       /* sleepers on each ring's wait queue */
	bool busy[OBS_DOMS][3];          /* a disable was refused */
	bool stalled[OBS_DOMS][3];       /* its helper stalled */
	bool woken[OBS_DOMS][OBS_VCPUS]; /* woken from a wait queue, not yet put */
};

static void ring_obs_init(void *o, const struct scenario *sc)
{
	(void)o;
	(void)sc;
}

static void on_vcpu(struct ring_obs *p, const struct event *ev, struct fz_verdict *v)
{
	uint64_t d = ev->b >> 8, id = ev->b & 0xff;
	if (ev->b == RING_NOBODY || d >= OBS_DOMS || id >= OBS_VCPUS)
		return;
	bool *woken = &p->woken[d][id];
	if (ev->sub == RING_WOKEN && ev->f == 0)
		*woken = true;
	else if (ev->sub == RING_PUT_SLEEP && *woken)
		v->reached |= 1u << S_RESLEEP;
	if (ev->sub == RING_PUT || ev->sub == RING_PUT_SLEEP || ev->sub == RING_PUT_FAIL)
		*woken = false;
}

static int ring_obs_event(void *o, const struct event *ev, struct fz_verdict *v)
{
	struct ring_obs *p = o;
	if (ev->type == EV_RING_STALL) {
		if (ev->sub == STALL_FOREIGN)
			v->reached |= 1u << S_FOREIGN_WAIT;
		return 0;
	}
	uint64_t d = ev->a >> 8, k = ev->a & 0xff;
	if (d >= OBS_DOMS || k >= 3)
		return 0;
	on_vcpu(p, ev, v);
	switch (ev->sub) {
	case RING_PUT:
		if ((int64_t)ev->c == 0)
			v->reached |= 1u << S_FULL;
		break;
	case RING_PUT_SLEEP:
		p->nwq[d][k]++;
		v->reached |= 1u << S_WAITQ_SLEEP;
		break;
	case RING_WOKEN:
		if (ev->f == 0 && p->nwq[d][k])
			p->nwq[d][k]--;
		if (ev->f == 1)
			v->reached |= 1u << S_FLAG_WOKEN;
		break;
	case RING_WAKE_REQUESTERS:
		/* The woken are off the queue already (their RING_WOKEN first). */
		if (ev->f > 0 && p->nwq[d][k] > 0)
			v->reached |= 1u << S_WAKE_SOME;
		break;
	case RING_DISABLE_BUSY:
		p->busy[d][k] = true;
		break;
	case RING_DISABLE:
		if (p->busy[d][k])
			v->reached |= 1u << S_DISABLE_BUSY_OK;
		p->busy[d][k] = false;
		break;
	case RING_HELPER_STALL:
		p->stalled[d][k] = true;
		break;
	case RING_CONSUME:
		if (p->stalled[d][k])
			v->reached |= 1u << S_STALL_RESTART;
		break;
	case RING_MARK_SLEEP:
		v->reached |= 1u << S_MARK_SLEEP;
		break;
	case RING_PAUSE_FULL:
		v->reached |= 1u << S_PAUSE_FULL;
		break;
	case RING_RELEASE:
		if (ev->f == 0)
			v->reached |= 1u << S_FOREIGN_RELEASE;
		break;
	default:
		break;
	}
	return 0;
}

const struct fz_target fz_target_ring = {
	.name = "ring",
	.summary = "vm_event rings: guest vCPUs, foreign producers, helpers with stalls, "
	           "enable/disable, in both modes",
	.built = true,
	.decode = ring_decode,
	.states = ring_states,
	.nstates = S_COUNT,
	.obs_size = sizeof(struct ring_obs),
	.obs_mask = 1ull << EV_RING | 1ull << EV_RING_STALL,
	.obs_init = ring_obs_init,
	.obs_event = ring_obs_event,
};
