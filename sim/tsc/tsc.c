/* Per-core TSCs as piecewise-linear functions of reference time
 * (sim/tsc/tsc.h). */
#include "sim/tsc/tsc.h"

#include <assert.h>
#include <stdlib.h>

__extension__ typedef unsigned __int128 u128;

int tsc_init(struct tsc_model *t, uint32_t ncpus, uint64_t ref_hz)
{
	*t = (struct tsc_model){.invariant = true, .ncpus = ncpus, .ref_hz = ref_hz,
	                        .platform_hz = 14318180};
	t->core = calloc(ncpus ? ncpus : 1, sizeof(*t->core));
	return t->core ? 0 : -1;
}

void tsc_fini(struct tsc_model *t)
{
	free(t->core);
	t->core = NULL;
}

uint64_t tsc_scale_ref(uint64_t d, int64_t ppb)
{
	assert(ppb > -TSC_PPB_ONE);
	/* d * (1e9 + ppb) / 1e9 without overflow: d < 2^64, factor < 2^31. */
	u128 v = (u128)d * (uint64_t)(TSC_PPB_ONE + ppb) / (uint64_t)TSC_PPB_ONE;
	return (uint64_t)v;
}

static int64_t core_rate(const struct tsc_model *t, const struct tsc_core *c)
{
	int64_t r = t->host_ppb + c->drift_ppb + (t->invariant ? 0 : c->freq_ppb);
	assert(r > -TSC_PPB_ONE);
	return r;
}

void tsc_configure(struct tsc_model *t, const struct tsc_config *c)
{
	t->enabled = c->enabled;
	t->invariant = c->invariant;
	t->host_ppb = c->host_ppb;
	if (c->platform_hz)
		t->platform_hz = c->platform_hz;
	for (uint32_t i = 0; i < t->ncpus; i++) {
		struct tsc_core *k = &t->core[i];
		*k = (struct tsc_core){0};
		int64_t off = c->offset ? c->offset[i] : 0;
		k->base_tsc = off > 0 ? (uint64_t)off : 0;
		k->drift_ppb = c->drift_ppb ? c->drift_ppb[i] : 0;
		k->rate_ppb = core_rate(t, k);
	}
}

uint64_t tsc_at(const struct tsc_model *t, unsigned cpu, uint64_t ref)
{
	assert(cpu < t->ncpus);
	if (!t->enabled)
		return ref;
	const struct tsc_core *k = &t->core[cpu];
	/* Before the segment's start the counter holds (a C-state stop). */
	if (ref <= k->base_ref)
		return k->base_tsc;
	return k->base_tsc + tsc_scale_ref(ref - k->base_ref, k->rate_ppb);
}

uint64_t tsc_platform_at(const struct tsc_model *t, uint64_t ref)
{
	assert(t->ref_hz);
	return (uint64_t)((u128)ref * t->platform_hz / t->ref_hz);
}

/* Starts a new segment at ref with the TSC at `value`. */
static void rebase(struct tsc_model *t, unsigned cpu, uint64_t ref, uint64_t value)
{
	struct tsc_core *k = &t->core[cpu];
	k->base_ref = ref;
	k->base_tsc = value;
	k->rate_ppb = core_rate(t, k);
}

uint64_t tsc_write(struct tsc_model *t, unsigned cpu, uint64_t ref, uint64_t value)
{
	uint64_t old = tsc_at(t, cpu, ref);
	/* SDM Vol. 3B §17.17.3: a WRMSR to IA32_TIME_STAMP_COUNTER also
	 * changes IA32_TSC_ADJUST by the same amount. */
	t->core[cpu].adjust += (int64_t)(value - old);
	rebase(t, cpu, ref, value);
	return old;
}

uint64_t tsc_adjust(struct tsc_model *t, unsigned cpu, uint64_t ref, int64_t delta)
{
	uint64_t old = tsc_at(t, cpu, ref);
	t->core[cpu].adjust += delta;
	rebase(t, cpu, ref, old + (uint64_t)delta);
	return old;
}

uint64_t tsc_cstate(struct tsc_model *t, unsigned cpu, uint64_t ref, uint64_t cycles)
{
	uint64_t old = tsc_at(t, cpu, ref);
	if (t->enabled && !t->invariant)
		rebase(t, cpu, ref + cycles, old); /* held until the wake-up */
	return old;
}

uint64_t tsc_set_freq(struct tsc_model *t, unsigned cpu, uint64_t ref, int64_t freq_ppb)
{
	uint64_t old = tsc_at(t, cpu, ref);
	assert(freq_ppb > -TSC_PPB_ONE);
	t->core[cpu].freq_ppb = freq_ppb;
	rebase(t, cpu, ref, old);
	return old;
}
