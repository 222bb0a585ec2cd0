/* Hypervisor time: calibration, records, the periodic update, NOW()
 * (hv/time/time.h). Seed 002 and Xen's xen/arch/x86/time.c (hw-facts §5
 * [S70]) are the models; names follow Xen's where there is one. */
#include "hv/time/time.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

#define NS_PER_SEC 1000000000ull
#define US_PER_SEC 1000000u

enum { REC_GLOBAL = 0, REC_CPU = 1, REC_VCPU = 2 }; /* time_record kinds */

static uint64_t platform_ns(const struct hv_time *t, uint64_t count)
{
	return (uint64_t)((u128)count * NS_PER_SEC / t->arch->platform_hz);
}

static uint64_t ns_to_platform(const struct hv_time *t, uint64_t ns)
{
	return (uint64_t)(((u128)ns * t->arch->platform_hz + NS_PER_SEC - 1) / NS_PER_SEC);
}

static uint64_t rdtsc(struct hv_time *t, unsigned cpu)
{
	return t->arch->rdtsc(t->arch->ctx, cpu);
}

/* --- the version protocol: odd while the record is written ------------ */

static void rec_begin(struct hv_time *t, struct hv_time_rec *r)
{
	if (!(t->cfg.inject & HV_TIME_INJECT_NO_VERSION))
		r->version++;
	assert((r->version & 1) || (t->cfg.inject & HV_TIME_INJECT_NO_VERSION));
}

static void rec_end(struct hv_time *t, unsigned cpu, unsigned kind, unsigned id,
                    struct hv_time_rec *r)
{
	if (!(t->cfg.inject & HV_TIME_INJECT_NO_VERSION))
		r->version++;
	assert(!(r->version & 1));
	t->updates++;
	if (t->arch->time_record)
		t->arch->time_record(t->arch->ctx, cpu, kind, id, r);
}

/* Wall clock at system time st: the boot wall clock plus st. */
void hv_time_wallclock(const struct hv_time *t, uint64_t st, uint64_t *sec, uint32_t *usec)
{
	*sec = t->cfg.wallclock_sec + st / NS_PER_SEC;
	*usec = (uint32_t)(st % NS_PER_SEC / 1000);
}

/* The wall-clock fields of r for its new system time (old_st: the system
 * time the record held before). */
static void set_wallclock(const struct hv_time *t, struct hv_time_rec *r, uint64_t old_st)
{
	if (!(t->cfg.inject & HV_TIME_INJECT_SEED_WALLCLOCK)) {
		hv_time_wallclock(t, r->system_time, &r->wc_sec, &r->wc_usec);
		return;
	}
	/* The seed's percpu_ticks: microseconds carried by hand, with the
	 * comparison and the constant it got wrong. */
	r->wc_usec += (uint32_t)((r->system_time - old_st) / 1000);
	if (r->wc_usec > US_PER_SEC) {
		r->wc_sec += 1;
		r->wc_usec -= 10000000u;
	}
}

/* --- calibration ------------------------------------------------------ */

/* calibrate_tsc: TSC ticks over a platform-timer window. */
static int calibrate_cpu(struct hv_time *t, unsigned cpu)
{
	const struct hv_arch *a = t->arch;
	uint64_t p0 = a->platform_timer(a->ctx, cpu);
	uint64_t t0 = rdtsc(t, cpu);
	a->wait_platform(a->ctx, cpu, p0 + ns_to_platform(t, t->cfg.calibrate_ns));
	uint64_t p1 = a->platform_timer(a->ctx, cpu);
	uint64_t t1 = rdtsc(t, cpu);
	struct hv_time_rec *r = &t->cpu[cpu];
	if (t1 <= t0 || p1 <= p0 ||
	    !hv_time_scale_ratio(&r->scale, platform_ns(t, p1 - p0), t1 - t0))
		return -EINVAL;
	rec_begin(t, r);
	r->tsc_stamp = t1;
	r->system_time = platform_ns(t, p1);
	hv_time_wallclock(t, r->system_time, &r->wc_sec, &r->wc_usec);
	rec_end(t, cpu, REC_CPU, cpu, r);
	t->cal[cpu] = (struct hv_time_cal){.prev_tsc = t1, .prev_master = r->system_time};
	return 0;
}

int hv_time_init(struct hv_time *t, const struct hv_arch *arch, const struct hv_time_config *cfg)
{
	memset(t, 0, sizeof(*t));
	t->arch = arch;
	t->cfg = *cfg;
	if (!arch->platform_timer || !arch->wait_platform || !arch->set_timer ||
	    !arch->rendezvous || !arch->platform_hz || !cfg->period_ns || !cfg->calibrate_ns ||
	    cfg->nvcpus > HV_TIME_MAX_VCPUS || arch->ncpus > HV_MAX_CPUS || cfg->mode > 2)
		return -EINVAL;
	for (unsigned c = 0; c < arch->ncpus; c++) {
		t->running[c] = HV_TIME_NO_VCPU;
		int rc = calibrate_cpu(t, c);
		if (rc)
			return rc;
	}
	for (uint32_t v = 0; v < cfg->nvcpus; v++)
		t->vcpu_cpu[v] = HV_TIME_NO_VCPU;
	/* The global base starts as CPU 0's record. */
	rec_begin(t, &t->global);
	uint32_t ver = t->global.version;
	t->global = t->cpu[0];
	t->global.version = ver;
	rec_end(t, 0, REC_GLOBAL, 0, &t->global);
	for (unsigned c = 0; c < arch->ncpus; c++)
		arch->set_timer(arch->ctx, c, cfg->period_ns);
	return 0;
}

/* --- updates ---------------------------------------------------------- */

const struct hv_time_rec *hv_time_cpu_record(const struct hv_time *t, unsigned cpu)
{
	return t->cfg.mode == HV_TIME_GLOBAL ? &t->global : &t->cpu[cpu];
}

/* GLOBAL: CPU 0 stamps the one record with its TSC and the platform time
 * (Xen's timer_interrupt: full_tsc_irq, stime_irq). */
static void update_global(struct hv_time *t, unsigned cpu)
{
	const struct hv_arch *a = t->arch;
	struct hv_time_rec *r = &t->global;
	uint64_t p = a->platform_timer(a->ctx, cpu);
	uint64_t tsc = rdtsc(t, cpu);
	rec_begin(t, r);
	uint64_t old = r->system_time;
	r->tsc_stamp = tsc;
	r->system_time = platform_ns(t, p);
	set_wallclock(t, r, old);
	rec_end(t, cpu, REC_GLOBAL, 0, r);
}

/* PERCPU: carry the CPU's own time forward from its own TSC (the seed's
 * percpu_ticks, without the quarter-second quantisation). */
static void update_percpu(struct hv_time *t, unsigned cpu)
{
	struct hv_time_rec *r = &t->cpu[cpu];
	uint64_t tsc = rdtsc(t, cpu);
	uint64_t now = hv_time_extrapolate(r->system_time, r->tsc_stamp, tsc, &r->scale);
	rec_begin(t, r);
	uint64_t old = r->system_time;
	r->tsc_stamp = tsc;
	r->system_time = now;
	set_wallclock(t, r, old);
	rec_end(t, cpu, REC_CPU, cpu, r);
}

struct rdv {
	struct hv_time *t;
	uint64_t master; /* platform system time at the rendezvous */
};

/* local_time_calibration on one CPU at the rendezvous. */
static void calibrate_local(void *hv, unsigned cpu, void *arg)
{
	struct rdv *d = arg;
	struct hv_time *t = d->t;
	struct hv_time_rec *r = &t->cpu[cpu];
	struct hv_time_cal *c = &t->cal[cpu];
	uint64_t period = t->cfg.period_ns;
	uint64_t tsc = rdtsc(t, cpu);
	uint64_t local = hv_time_extrapolate(r->system_time, r->tsc_stamp, tsc, &r->scale);
	/* Local time warps forward if it lags behind master time. */
	if (local < d->master)
		local = d->master;
	struct hv_time_scale sc = r->scale;
	uint64_t st_el = d->master - c->prev_master;
	if (tsc > c->prev_tsc && st_el >= period / 2) {
		/* ns per tick over the last period, slowed so that a fast local
		 * clock meets master time over the next one (error factor
		 * period / (period + err), err clamped to a period). */
		uint64_t err = local - d->master;
		if (err > period)
			err = period;
		u128 ns = (u128)st_el * period, ticks = (u128)(tsc - c->prev_tsc) * (period + err);
		hv_time_scale_set(&sc, (uint64_t)(ns >> 64), (uint64_t)ns, (uint64_t)(ticks >> 64),
		                  (uint64_t)ticks);
	}
	rec_begin(t, r);
	uint64_t old = r->system_time;
	r->tsc_stamp = tsc;
	r->system_time = local;
	r->scale = sc;
	set_wallclock(t, r, old);
	rec_end(t, cpu, REC_CPU, cpu, r);
	c->prev_tsc = tsc;
	c->prev_master = d->master;
	(void)hv;
}

static void update_rendezvous(struct hv_time *t, unsigned cpu)
{
	const struct hv_arch *a = t->arch;
	struct rdv d = {t, 0};
	/* The master reads the platform timer; every CPU then snapshots its
	 * TSC at that moment (time_calibration_std_rendezvous). The platform
	 * timer read comes first, so its cost is what every TSC snapshot
	 * lags it by. */
	d.master = platform_ns(t, a->platform_timer(a->ctx, cpu));
	a->rendezvous(a->ctx, cpu, calibrate_local, t, &d);
	t->rendezvous++;
}

/* The guest record of vcpu from the record cpu's reads use. */
static void refresh_vcpu(struct hv_time *t, unsigned cpu, uint32_t vcpu, bool on_schedule)
{
	assert(vcpu < t->cfg.nvcpus);
	const struct hv_time_rec *src = hv_time_cpu_record(t, cpu);
	struct hv_time_rec *g = &t->vcpu[vcpu];
	rec_begin(t, g);
	if (!(on_schedule && (t->cfg.inject & HV_TIME_INJECT_STALE_STAMP)))
		g->tsc_stamp = src->tsc_stamp;
	g->system_time = src->system_time;
	g->scale = src->scale;
	g->wc_sec = src->wc_sec;
	g->wc_usec = src->wc_usec;
	rec_end(t, cpu, REC_VCPU, vcpu, g);
}

void hv_time_tick(struct hv_time *t, unsigned cpu)
{
	assert(cpu < t->arch->ncpus);
	switch (t->cfg.mode) {
	case HV_TIME_GLOBAL:
		if (cpu == 0)
			update_global(t, cpu);
		break;
	case HV_TIME_PERCPU:
		update_percpu(t, cpu);
		break;
	case HV_TIME_RENDEZVOUS:
		if (cpu == 0)
			update_rendezvous(t, cpu);
		break;
	}
	if (t->running[cpu] != HV_TIME_NO_VCPU)
		refresh_vcpu(t, cpu, t->running[cpu], false);
	t->arch->set_timer(t->arch->ctx, cpu, t->cfg.period_ns);
}

uint64_t hv_time_now(struct hv_time *t, unsigned cpu)
{
	const struct hv_time_rec *r = hv_time_cpu_record(t, cpu);
	uint64_t tsc = rdtsc(t, cpu);
	return hv_time_extrapolate(r->system_time, r->tsc_stamp, tsc, &r->scale);
}

void hv_time_schedule(struct hv_time *t, unsigned cpu, uint32_t vcpu)
{
	assert(vcpu < t->cfg.nvcpus && cpu < t->arch->ncpus);
	uint32_t prev = t->vcpu_cpu[vcpu];
	if (prev != HV_TIME_NO_VCPU && t->running[prev] == vcpu)
		t->running[prev] = HV_TIME_NO_VCPU; /* migrated away */
	if (t->running[cpu] != HV_TIME_NO_VCPU)
		t->vcpu_cpu[t->running[cpu]] = cpu; /* descheduled, still here */
	t->running[cpu] = vcpu;
	t->vcpu_cpu[vcpu] = cpu;
	refresh_vcpu(t, cpu, vcpu, true);
}
