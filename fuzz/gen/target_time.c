/* Fuzz target `time`: skewed TSCs and per-CPU time (issue 7, seed 002;
 * docs/seed-002.md).
 *
 * The ops come from the time generator of runner/timegen.c (the one the
 * randomized test uses), fed by the fuzz byte source instead of a PRNG,
 * so `hvsim fuzz --target time`, its libFuzzer harness and the test
 * explore through one generator. The decoder draws its parameters (the
 * swarm): mode, clamp, CPUs and vCPUs, TSC offsets, per-core drift, host
 * frequency error, invariant TSC or not, TSC events (writes, adjusts,
 * C-state stops, frequency changes), read pacing, idle stretches, the
 * update period; the generator draws time_read (guest and hypervisor),
 * time_sched (migrations, each after a barrier), time_msg and delays.
 *
 * Only configurations in which every time property must hold are drawn.
 * The seed's point is that some do not: the global base (pre-seed) goes
 * backwards under any skew or drift, per-CPU records under drift, and
 * even the rendezvous when a TSC stops in a C-state without an invariant
 * TSC (docs/seed-002.md's warp table); and without the guest clamp the
 * rendezvous and the global base step a vCPU's time back by up to a few
 * microseconds when it is rescheduled (docs/fuzzing.md, "findings"):
 * what seed 002 leaves to the guest clamp, not bugs for a fuzzer to
 * report again. So a case is one of:
 *   - percpu (the seed), invariant TSC, no drift, no TSC events, offsets
 *     any, clamp on or off, guest and hypervisor readers;
 *   - any mode (global and rendezvous included) with the guest clamp and
 *     only guest reads and messages to guests: the clamp covers every
 *     reader then, and the TSC may be non-invariant, stop in C-states, be
 *     written or adjusted, change frequency or drift.
 * In both time-version, time-wallclock, time-monotonic and time-causal
 * must hold, so a clean build fuzzes clean and each injected bug
 * (time.inject) shows as its property: no-version-bump as time-version,
 * seed-wallclock as time-wallclock, stale-stamp as time-monotonic (the
 * percpu cases without the clamp, which would hide it).
 *
 * Reads interrupted by an update (the version protocol) need a read that
 * lasts long against the period: some cases load slowly (load_cycles up
 * to 440), use 1-20 ms periods, jitter the ops (machine.costs op_jitter)
 * and have one busy reader (1,000-6,000 back-to-back guest reads), as
 * tests/test_time.c's version_protocol_retries does.
 *
 * Cost: time_scenario_cost() bounds the reads and periodic updates a case
 * runs; above TIME_BUDGET the decoder shortens its delays and read
 * spacing until it fits (deterministically).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/gen/scbuild.h"
#include "fuzz/gen/target.h"
#include "runner/timegen.h"

#define TIME_BUDGET 20000u /* reads + periodic updates per case */

enum { K_PERCPU, K_CLAMPED, NKINDS };

static uint64_t src_below(void *ctx, uint64_t n)
{
	return bs_below(ctx, n);
}

static void draw_params(struct bytesrc *b, struct timegen_params *p)
{
	static const uint64_t every[] = {100, 1000000, 30000000};
	static const uint64_t delay[] = {1000000, 100000000, 2000000000};
	static const unsigned kw[NKINDS] = {1, 1};
	unsigned kind = bs_weighted(b, kw, NKINDS);
	*p = (struct timegen_params){
		.ncpus = 1 + (uint32_t)bs_below(b, 4),
		.vcpus = 1 + (uint32_t)bs_below(b, 4),
		.nops = 3 + (uint32_t)bs_below(b, 20) +
		        (bs_chance(b, 20) ? (uint32_t)bs_below(b, 60) : 0),
		.clamp = bs_chance(b, 40),
		.offset_max = bs_chance(b, 60) ? bs_below(b, 6000001) : 0,
		.drift_max_ppm = bs_chance(b, 40) ? (int64_t)bs_below(b, 101) : 0,
		.host_ppm = (int64_t)bs_below(b, 157) - 78,
		.invariant = true,
		.max_every = every[bs_below(b, 3)],
		.max_delay = delay[bs_below(b, 3)],
		.period_ms = bs_chance(b, 50) ? 250 : 1 + (uint32_t)bs_below(b, 20),
		.profile = bs_chance(b, 50) ? "skylake" : "zen3",
	};
	if (kind == K_PERCPU) {
		p->mode = SC_TIME_PERCPU;
		p->drift_max_ppm = 0;
	} else {
		p->mode = (int)bs_below(b, 3);
		p->clamp = true;
		p->guest_only = true;
		p->invariant = bs_chance(b, 50);
		p->tsc_events = bs_chance(b, 50);
	}
}

/* Shortens the case's stretches until its cost fits the budget. */
static void fit_budget(struct scenario *sc)
{
	for (unsigned round = 0; round < 16 && time_scenario_cost(sc) > TIME_BUDGET; round++)
		for (uint32_t i = 0; i < sc->nops; i++) {
			struct op *op = &sc->ops[i];
			bool stretch = op->kind == OP_DELAY || op->kind == OP_TIME_READ ||
			               (op->kind == OP_TSC && op->type == TSCE_CSTATE);
			if (stretch && op->cycles > 1)
				op->cycles = op->kind == OP_TIME_READ ? op->cycles / 4
				                                      : 1 + op->cycles / 4;
			if (op->kind == OP_TIME_READ && round >= 8 && op->count > 1)
				op->count /= 2;
		}
}

static int time_decode(struct bytesrc *b, struct scenario *sc)
{
	struct timegen_params p;
	draw_params(b, &p);
	/* The profile parsed once per process, not per case. */
	p.resolved = scb_profile(p.profile);
	if (!p.resolved)
		return -1;
	uint64_t seed = 1 + bs_below(b, 1u << 16);
	bool slow = bs_chance(b, 30);
	uint32_t load = slow ? 40 + (uint32_t)bs_below(b, 401) : 4;
	bool jitter = bs_chance(b, 30);
	/* A busy reader (back-to-back reads, as version_protocol_retries):
	 * what makes an update fall in the middle of a read. */
	uint64_t busy = bs_chance(b, 12) ? 1000 + bs_below(b, 5001) : 0;
	struct timegen_src src = {.below = src_below, .ctx = b};
	struct scenario gen;
	if (timegen_scenario_src(&gen, &p, &src) != 0)
		return -1;
	/* The fuzz framework's layout (scbuild.h: ops in a power-of-two
	 * array), its name and path. */
	int rc = scb_copy(sc, &gen);
	scenario_free(&gen);
	if (rc)
		return -1;
	free(sc->name);
	free(sc->path);
	sc->name = strdup("fuzz-time");
	sc->path = strdup("fuzz-case.yaml");
	if (!sc->name || !sc->path) {
		scenario_free(sc);
		return -1;
	}
	sc->seed = seed;
	sc->has_seed = true;
	sc->time.load_cycles = load;
	for (uint32_t i = 0; i < sc->nops && busy; i++)
		if (sc->ops[i].kind == OP_TIME_READ && sc->ops[i].acc == SC_READ_GUEST) {
			sc->ops[i].count = busy;
			sc->ops[i].cycles = 0;
			busy = 0;
		}
	if (jitter && (scb_override(sc, "op_jitter", 300) || profile_validate(&sc->profile))) {
		scenario_free(sc);
		return -1;
	}
	fit_budget(sc);
	return 0;
}

/* ---- states and the observer ---------------------------------------------- */

enum {
	S_MIGRATE_SKEWED, S_VERSION_RETRY, S_CSTATE_NONINV, S_RENDEZVOUS_TICK, S_CLAMPED,
	S_MSG, S_HV_READ, S_TSC_WRITE, S_TSC_ADJUST, S_TSC_FREQ, S_WC_SECOND, S_GLOBAL_READ,
	S_COUNT
};

static const struct fz_state time_states[] = {
	[S_MIGRATE_SKEWED] = {"migration-skewed", "a vCPU's record refreshed on another CPU "
	                                          "whose TSC is skewed or drifts"},
	[S_VERSION_RETRY] = {"version-retry", "a guest read retried: the version was odd or "
	                                      "changed (an update in the middle)"},
	[S_CSTATE_NONINV] = {"cstate-stop-noninvariant", "a TSC stopped in a C-state (no "
	                                                 "invariant TSC)"},
	[S_RENDEZVOUS_TICK] = {"rendezvous-tick", "a periodic rendezvous recalibrated a CPU's "
	                                          "record"},
	[S_CLAMPED] = {"clamp-raised-read", "the guest clamp raised a read to the last value "
	                                    "returned"},
	[S_MSG] = {"message-ordered", "a message ordered two agents' reads"},
	[S_HV_READ] = {"hv-read", "the hypervisor read NOW()"},
	[S_TSC_WRITE] = {"tsc-write", "a TSC was written"},
	[S_TSC_ADJUST] = {"tsc-adjust", "TSC_ADJUST changed a TSC"},
	[S_TSC_FREQ] = {"tsc-freq-change", "a TSC changed frequency (no invariant TSC)"},
	[S_WC_SECOND] = {"wallclock-second", "a record's wall clock carried into the next "
	                                     "second"},
	[S_GLOBAL_READ] = {"global-base-read", "a read extrapolated the global base (pre-seed "
	                                       "mode)"},
};

static_assert(sizeof(time_states) / sizeof(time_states[0]) == S_COUNT, "one per state");

#define OBS_VCPUS 8
#define OBS_CPUS 8

struct time_obs {
	int mode;
	bool invariant, skewed;
	int vcpu_cpu[OBS_VCPUS];     /* CPU of the vCPU's last refresh, -1 */
	uint32_t cpu_updates[OBS_CPUS];
	uint64_t wc_sec0;
	bool has_wc;
};

static void time_obs_init(void *o, const struct scenario *sc)
{
	struct time_obs *p = o;
	p->mode = sc->time.mode;
	p->invariant = sc->time.invariant;
	p->skewed = sc->time.offset_max || sc->time.drift_max_ppb || sc->time.offsets ||
	            sc->time.drift_ppb;
	for (unsigned i = 0; i < OBS_VCPUS; i++)
		p->vcpu_cpu[i] = -1;
}

static void time_update(struct time_obs *p, const struct event *ev, struct fz_verdict *v)
{
	/* a = record id, e = wall-clock seconds. */
	if (!p->has_wc) {
		p->wc_sec0 = ev->e;
		p->has_wc = true;
	} else if (ev->e > p->wc_sec0) {
		v->reached |= 1u << S_WC_SECOND;
	}
	if (ev->sub == TREC_VCPU && ev->a < OBS_VCPUS && ev->cpu >= 0) {
		int last = p->vcpu_cpu[ev->a];
		if (last >= 0 && last != ev->cpu && p->skewed)
			v->reached |= 1u << S_MIGRATE_SKEWED;
		p->vcpu_cpu[ev->a] = ev->cpu;
	}
	if (ev->sub == TREC_CPU && ev->cpu >= 0 && ev->cpu < OBS_CPUS &&
	    ++p->cpu_updates[ev->cpu] > 1 && p->mode == SC_TIME_RENDEZVOUS)
		v->reached |= 1u << S_RENDEZVOUS_TICK;
}

static int time_obs_event(void *o, const struct event *ev, struct fz_verdict *v)
{
	struct time_obs *p = o;
	switch (ev->type) {
	case EV_TIME_READ:
		/* d = retries, e = TREADF_* flags. */
		if (ev->sub == TREAD_GUEST && ev->d)
			v->reached |= 1u << S_VERSION_RETRY;
		if (ev->e & TREADF_CLAMPED)
			v->reached |= 1u << S_CLAMPED;
		if (ev->sub == TREAD_HV)
			v->reached |= 1u << S_HV_READ;
		if (p->mode == SC_TIME_GLOBAL)
			v->reached |= 1u << S_GLOBAL_READ;
		break;
	case EV_TIME_UPDATE:
		time_update(p, ev, v);
		break;
	case EV_TIME_MSG:
		if (ev->sub == TMSG_RECV)
			v->reached |= 1u << S_MSG;
		break;
	case EV_TSC:
		if (ev->sub == TSCE_CSTATE && !p->invariant)
			v->reached |= 1u << S_CSTATE_NONINV;
		if (ev->sub == TSCE_WRITE)
			v->reached |= 1u << S_TSC_WRITE;
		if (ev->sub == TSCE_ADJUST)
			v->reached |= 1u << S_TSC_ADJUST;
		if (ev->sub == TSCE_FREQ && !p->invariant)
			v->reached |= 1u << S_TSC_FREQ;
		break;
	default:
		break;
	}
	return 0;
}

const struct fz_target fz_target_time = {
	.name = "time",
	.summary = "time reads, migrations, messages and TSC events under skew, drift and "
	           "C-states, in the configurations where time must hold",
	.built = true,
	.decode = time_decode,
	.states = time_states,
	.nstates = S_COUNT,
	.obs_size = sizeof(struct time_obs),
	.obs_mask = 1ull << EV_TIME_READ | 1ull << EV_TIME_UPDATE | 1ull << EV_TIME_MSG |
	            1ull << EV_TSC,
	.obs_init = time_obs_init,
	.obs_event = time_obs_event,
};
