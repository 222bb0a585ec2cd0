/* Per-core time-stamp counters and the platform timer (seed 002).
 *
 * Every core's TSC is a function of the machine's reference time, which is
 * the CPUs' integer cycle clock (struct cpu.clock, the nominal core clock
 * that stands for wall-clock time). A core's TSC is piecewise linear in
 * that reference time: a segment starts at (base_ref, base_tsc) and runs
 * at 1 + rate_ppb/1e9 TSC ticks per reference cycle. Nothing is stepped
 * cycle by cycle: a read evaluates the segment, and only events (TSC
 * writes, TSC_ADJUST, C-state stops, rate changes) start a new segment, so
 * hours of simulated time cost nothing.
 *
 * The rate is the per-host frequency error against the reference clock
 * (hw-facts §5: all cores of one host with an invariant TSC share it) plus,
 * only as an opt-in "broken platform", a per-core drift. Offsets differ per
 * core (reset skew, firmware, TSC_ADJUST writes; hw-facts §5 "Offsets").
 * Without an invariant TSC (CPUID.80000007H:EDX[8] clear, SDM Vol. 3B
 * §17.17.1) the counter stops in deep C-states and follows frequency
 * changes; with one, both are no-ops for the counter.
 *
 * The platform timer is an HPET-like counter driven by the reference clock
 * itself at platform_hz: the clock the hypervisor calibrates against.
 *
 * Disabled (the default, no `time:` in the scenario) the model is the
 * identity: TSC == reference cycles, as cpu_rdtsc() always returned.
 */
#ifndef HVSIM_SIM_TSC_TSC_H
#define HVSIM_SIM_TSC_TSC_H

#include <stdbool.h>
#include <stdint.h>

#define TSC_PPB_ONE 1000000000ll /* rates are in parts per billion */
#define TSC_MAX_PPB 100000000ll  /* |rate error| <= 10 % (sanity bound) */

struct tsc_core {
	uint64_t base_ref; /* reference cycle where the segment starts */
	uint64_t base_tsc; /* TSC at base_ref (held before it: a stop) */
	int64_t rate_ppb;  /* extra ticks per 1e9 reference cycles */
	int64_t drift_ppb; /* this core's own drift (broken platform) */
	int64_t freq_ppb;  /* frequency change (non-invariant TSC only) */
	int64_t adjust;    /* IA32_TSC_ADJUST (SDM Vol. 3B §17.17.3) */
};

struct tsc_model {
	bool enabled;
	bool invariant;     /* stops and frequency changes leave it alone */
	uint32_t ncpus;
	int64_t host_ppb;   /* per-host error against the reference clock */
	uint64_t ref_hz;    /* reference cycles per second (clock_mhz * 1e6) */
	uint64_t platform_hz; /* platform timer frequency (HPET: 14.31818 MHz) */
	struct tsc_core *core;
};

/* The machine's configuration of the model (scenario `time.tsc`). */
struct tsc_config {
	bool enabled;
	bool invariant;
	int64_t host_ppb;
	uint64_t platform_hz;
	const int64_t *offset;   /* per core, TSC ticks at reference 0 (may be NULL) */
	const int64_t *drift_ppb; /* per core (NULL: none) */
};

/* Identity model (disabled) for ncpus cores. Returns 0 or -1 (memory). */
int tsc_init(struct tsc_model *t, uint32_t ncpus, uint64_t ref_hz);
/* Applies a configuration at reference time 0. Offsets below zero are
 * clamped so that no TSC starts negative. */
void tsc_configure(struct tsc_model *t, const struct tsc_config *c);
void tsc_fini(struct tsc_model *t);

/* The TSC of core `cpu` at reference time ref. */
uint64_t tsc_at(const struct tsc_model *t, unsigned cpu, uint64_t ref);
/* Platform timer count at reference time ref. */
uint64_t tsc_platform_at(const struct tsc_model *t, uint64_t ref);

/* Events that start a new segment at reference time ref. Each returns the
 * TSC value just before the event. */
uint64_t tsc_write(struct tsc_model *t, unsigned cpu, uint64_t ref, uint64_t value);
uint64_t tsc_adjust(struct tsc_model *t, unsigned cpu, uint64_t ref, int64_t delta);
/* The core sleeps in a deep C-state over [ref, ref + cycles): without an
 * invariant TSC the counter holds still meanwhile. */
uint64_t tsc_cstate(struct tsc_model *t, unsigned cpu, uint64_t ref, uint64_t cycles);
/* A frequency change (P-state): without an invariant TSC the counter's rate
 * follows it (ppb relative to nominal). */
uint64_t tsc_set_freq(struct tsc_model *t, unsigned cpu, uint64_t ref, int64_t freq_ppb);

/* Ticks elapsed over d reference cycles at rate ppb (floor; d >= 0). */
uint64_t tsc_scale_ref(uint64_t d, int64_t ppb);

#endif
