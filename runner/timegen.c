/* Random time scenarios (runner/timegen.h). */
#include "runner/timegen.h"

#include <stdlib.h>
#include <string.h>

#include "sim/event.h"

static uint64_t below(const struct timegen_src *r, uint64_t n)
{
	return r->below(r->ctx, n);
}

static struct op *add(struct scenario *sc, enum op_kind k, int cpu)
{
	struct op *op = &sc->ops[sc->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = k;
	op->cpu = cpu;
	op->line = sc->nops; /* a position for messages: the op's index */
	op->col = 1;
	op->pge = op->pcide = op->smep = op->wp = -1;
	op->xpti = -1;
	return op;
}

static void gen_tsc(struct scenario *sc, const struct timegen_src *r, int cpu)
{
	struct op *op = add(sc, OP_TSC, cpu);
	switch (below(r, 4)) {
	case 0:
		op->type = TSCE_WRITE;
		op->value = below(r, 1ull << 40);
		break;
	case 1:
		op->type = TSCE_ADJUST;
		op->value = (uint64_t)((int64_t)below(r, 2000001) - 1000000);
		break;
	case 2:
		op->type = TSCE_CSTATE;
		op->cycles = 1 + below(r, 10000000);
		break;
	default:
		op->type = TSCE_FREQ;
		op->value = (uint64_t)((int64_t)below(r, 200001) - 100000); /* ppm */
		break;
	}
}

static uint64_t prng_src(void *ctx, uint64_t n)
{
	return n ? prng_below(ctx, n) : 0; /* as before: a bound of 1 draws too */
}

int timegen_scenario(struct scenario *sc, const struct timegen_params *p, struct prng *rng)
{
	struct timegen_src src = {.below = prng_src, .ctx = rng};
	return timegen_scenario_src(sc, p, &src);
}

int timegen_scenario_src(struct scenario *sc, const struct timegen_params *p,
                         const struct timegen_src *r)
{
	struct sc_error e;
	memset(sc, 0, sizeof(*sc));
	uint32_t ncpus = p->ncpus ? p->ncpus : 1, nv = p->vcpus ? p->vcpus : 1;
	/* Each step may add a barrier and a sched before its op. */
	uint32_t cap = 3 * (p->nops ? p->nops : 1);
	sc->path = strdup("<timegen>");
	sc->name = strdup("timegen");
	sc->description = strdup("");
	sc->overrides = strdup("");
	sc->ops = calloc(cap, sizeof(*sc->ops));
	if (!sc->path || !sc->name || !sc->description || !sc->overrides || !sc->ops)
		goto fail;
	sc->version = SC_VERSION;
	const char *prof = p->profile ? p->profile : "skylake";
	if (strlen(prof) >= sizeof(sc->profile_name))
		goto fail;
	memcpy(sc->profile_name, prof, strlen(prof) + 1);
	if (p->resolved)
		sc->profile = *p->resolved;
	else if (profile_load_named(sc->profile_name, &sc->profile, &e) != 0)
		goto fail;
	sc->ncpus = ncpus;
	sc->mem_frames = 1u << 16;
	sc->hv = (struct sc_hv){.enabled = true, .page1gb = true, .superpages = true,
	                        .flush_policy = SC_FLUSH_XEN, .flush_ceiling = 33,
	                        .pcid = SC_PCID_XPTI};
	sc->time = (struct sc_time){
		.enabled = true, .mode = p->mode, .clamp = p->clamp,
		.period_ns = (uint64_t)(p->period_ms ? p->period_ms : 250) * 1000000,
		.calibrate_ns = 50000000, .wallclock_sec = 1120000000, .vcpus = nv,
		.platform_hz = 14318180, .platform_read = 1500, .load_cycles = 4,
		.invariant = p->invariant, .host_ppb = p->host_ppm * 1000,
		.offsets_random = true, .offset_max = p->offset_max, .drift_random = true,
		.drift_max_ppb = p->drift_max_ppm * 1000, .inject = p->inject};
	/* Where each vCPU runs (-1: nowhere) as the program will have it. */
	int32_t run_on[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
	int32_t on_cpu[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
	for (uint32_t i = 0; i < p->nops && sc->nops + 3 <= cap; i++) {
		int c = (int)below(r, ncpus);
		uint64_t k = below(r, 100);
		if (k < 15 || on_cpu[c] < 0) {
			/* Schedule (migrate) a vCPU here, after a barrier. */
			uint32_t v = (uint32_t)below(r, nv);
			add(sc, OP_BARRIER, 0);
			if (run_on[v] >= 0)
				on_cpu[run_on[v]] = -1;
			if (on_cpu[c] >= 0)
				run_on[on_cpu[c]] = -1;
			run_on[v] = c;
			on_cpu[c] = (int32_t)v;
			add(sc, OP_TIME_SCHED, c)->vcpu = v;
		} else if (k < 55) {
			struct op *op = add(sc, OP_TIME_READ, c);
			op->acc = SC_READ_GUEST;
			op->count = 1 + below(r, 8);
			op->cycles = below(r, p->max_every + 1);
		} else if (k < 70 && !p->guest_only) {
			struct op *op = add(sc, OP_TIME_READ, c);
			op->acc = SC_READ_HV;
			op->count = 1 + below(r, 4);
			op->cycles = below(r, p->max_every + 1);
		} else if (k < 82) {
			struct op *op = add(sc, OP_TIME_MSG, c);
			if (below(r, 4) == 0 && !p->guest_only) {
				op->has_value = true;
				op->value = below(r, ncpus);
			} else {
				op->vcpu = (uint32_t)below(r, nv);
			}
		} else if (k < 95 || !p->tsc_events) {
			add(sc, OP_DELAY, c)->cycles = 1 + below(r, p->max_delay ? p->max_delay : 1);
		} else {
			gen_tsc(sc, r, c);
		}
	}
	return 0;
fail:
	scenario_free(sc);
	return -1;
}

uint64_t time_scenario_cost(const struct scenario *sc)
{
	if (!sc->time.enabled)
		return 0;
	uint64_t reads = 0, span = 0;
	for (uint32_t i = 0; i < sc->nops; i++) {
		const struct op *op = &sc->ops[i];
		uint64_t c = op->kind == OP_TIME_READ ? op->count : 1;
		reads += c;
		uint64_t t = op->kind == OP_DELAY || (op->kind == OP_TSC && op->type == TSCE_CSTATE)
		                     ? op->cycles
		             : op->kind == OP_TIME_READ ? op->cycles * op->count
		                                        : 0;
		span = span + t < span ? UINT64_MAX : span + t; /* saturating */
	}
	uint64_t period = sc->time.period_ns * (sc->profile.clock_mhz ? sc->profile.clock_mhz : 1000) /
	                  1000;
	uint64_t ticks = (span / (period ? period : 1) + 1) * sc->ncpus;
	return reads + ticks < reads ? UINT64_MAX : reads + ticks;
}
