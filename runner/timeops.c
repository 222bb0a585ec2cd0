/* Time on the simulated machine (runner/timeops.h). */
#include "runner/timeops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/ops.h"
#include "runner/platform.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/vec.h"

__extension__ typedef unsigned __int128 u128;

static struct platform *P(void *ctx) { return ctx; }

uint64_t time_ns_to_cycles(const struct platform *p, uint64_t ns)
{
	return (uint64_t)((u128)ns * p->m->tsc.ref_hz / 1000000000u);
}

/* --- the arch hooks hv/time needs --------------------------------------- */

static uint64_t a_platform_timer(void *ctx, unsigned cpu)
{
	struct platform *p = P(ctx);
	struct cpu *c = &p->m->cpus[cpu];
	cpu_charge(c, p->time->cfg.platform_read);
	return tsc_platform_at(&p->m->tsc, c->clock);
}

static void a_wait_platform(void *ctx, unsigned cpu, uint64_t count)
{
	struct platform *p = P(ctx);
	const struct tsc_model *t = &p->m->tsc;
	/* The first reference cycle at which the counter reads `count`. */
	uint64_t at = (uint64_t)(((u128)count * t->ref_hz + t->platform_hz - 1) / t->platform_hz);
	struct cpu *c = &p->m->cpus[cpu];
	if (c->clock < at)
		c->clock = at;
}

static void a_rendezvous(void *ctx, unsigned from, hv_ipi_fn fn, void *hv, void *arg)
{
	struct machine *m = P(ctx)->m;
	cpu_charge(&m->cpus[from], m->prof.ipi_send);
	uint64_t t = m->cpus[from].clock + m->prof.ipi_latency;
	for (unsigned c = 0; c < m->ncpus; c++)
		if (m->cpus[c].clock > t)
			t = m->cpus[c].clock;
	/* Every CPU spins until the last has arrived: they leave together. */
	for (unsigned c = 0; c < m->ncpus; c++)
		m->cpus[c].clock = t;
	for (unsigned c = 0; c < m->ncpus; c++) {
		fn(hv, c, arg);
		if (c != from)
			cpu_charge(&m->cpus[c], m->prof.ipi_handler);
	}
}

static void a_set_timer(void *ctx, unsigned cpu, uint64_t delay_ns)
{
	struct platform *p = P(ctx);
	p->time->timer_at[cpu] = p->m->cpus[cpu].clock + time_ns_to_cycles(p, delay_ns);
}

static void a_time_record(void *ctx, unsigned cpu, unsigned kind, unsigned id,
                          const struct hv_time_rec *r)
{
	struct platform *p = P(ctx);
	struct event ev = machine_event(p->m, EV_TIME_UPDATE, (int)cpu);
	ev.sub = (uint16_t)kind;
	ev.a = id;
	ev.b = r->system_time;
	ev.c = r->tsc_stamp;
	ev.d = r->version;
	ev.e = r->wc_sec;
	ev.f = r->wc_usec;
	machine_emit(p->m, &ev);
	p->time->st.updates++;
}

/* --- set-up --------------------------------------------------------------- */

static int tsc_setup(struct platform *p, const struct sc_time *tc)
{
	struct machine *m = p->m;
	int64_t *off = calloc(m->ncpus, sizeof(*off)), *drift = calloc(m->ncpus, sizeof(*drift));
	if (!off || !drift) {
		free(off);
		free(drift);
		return -1;
	}
	/* Random per-core figures are free choices of the run (replayable). */
	for (uint32_t c = 0; c < m->ncpus; c++) {
		if (tc->offsets)
			off[c] = tc->offsets[c];
		else if (tc->offsets_random && tc->offset_max)
			off[c] = (int64_t)machine_choose(m, CHOICE_JITTER, tc->offset_max + 1);
		if (tc->drift_ppb)
			drift[c] = tc->drift_ppb[c];
		else if (tc->drift_random && tc->drift_max_ppb)
			drift[c] = (int64_t)machine_choose(m, CHOICE_JITTER,
			                                   2 * (uint64_t)tc->drift_max_ppb + 1) -
			           tc->drift_max_ppb;
	}
	struct tsc_config cfg = {.enabled = true, .invariant = tc->invariant,
	                         .host_ppb = tc->host_ppb, .platform_hz = tc->platform_hz,
	                         .offset = off, .drift_ppb = drift};
	tsc_configure(&m->tsc, &cfg);
	free(off);
	free(drift);
	return 0;
}

int time_platform_init(struct platform *p, const struct scenario *sc, char *err, size_t errlen)
{
	const struct sc_time *tc = &sc->time;
	struct time_state *ts = calloc(1, sizeof(*ts));
	if (!ts)
		goto oom;
	p->time = ts;
	ts->max_ticks = TIME_MAX_TICKS;
	ts->cfg = *tc;
	ts->cfg.offsets = ts->cfg.drift_ppb = NULL; /* owned by the scenario */
	ts->timer_at = malloc(p->m->ncpus * sizeof(*ts->timer_at));
	ts->vag = calloc(tc->vcpus, sizeof(*ts->vag));
	ts->hag = calloc(p->m->ncpus, sizeof(*ts->hag));
	if (!ts->timer_at || !ts->vag || !ts->hag)
		goto oom;
	for (uint32_t c = 0; c < p->m->ncpus; c++) {
		ts->timer_at[c] = TIME_NEVER;
		ts->hag[c].last_cpu = ts->hag[c].known_cpu = -1;
	}
	for (uint32_t v = 0; v < tc->vcpus; v++)
		ts->vag[v].last_cpu = ts->vag[v].known_cpu = -1;
	if (tsc_setup(p, tc) != 0)
		goto oom;
	struct hv_arch *a = &p->arch;
	a->platform_hz = p->m->tsc.platform_hz;
	a->platform_timer = a_platform_timer;
	a->wait_platform = a_wait_platform;
	a->rendezvous = a_rendezvous;
	a->set_timer = a_set_timer;
	a->time_record = a_time_record;
	static const enum hv_time_mode modes[] = {HV_TIME_GLOBAL, HV_TIME_PERCPU,
	                                          HV_TIME_RENDEZVOUS};
	struct hv_time_config hc = {.mode = modes[tc->mode % 3], .period_ns = tc->period_ns,
	                            .calibrate_ns = tc->calibrate_ns,
	                            .wallclock_sec = tc->wallclock_sec, .nvcpus = tc->vcpus,
	                            .inject = tc->inject};
	if (hv_time_init(&ts->ht, a, &hc) != 0) {
		snprintf(err, errlen, "%s: time: the hypervisor could not calibrate its TSCs",
		         sc->path ? sc->path : "?");
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", sc->path ? sc->path : "?");
	return -1;
}

void time_platform_fini(struct platform *p)
{
	struct time_state *ts = p->time;
	if (!ts)
		return;
	free(ts->timer_at);
	free(ts->vag);
	free(ts->hag);
	free(ts->msgs);
	free(ts);
	p->time = NULL;
}

/* --- timers ----------------------------------------------------------------- */

uint64_t time_timer_at(const struct platform *p, unsigned cpu)
{
	return p && p->time ? p->time->timer_at[cpu] : TIME_NEVER;
}

int time_timer_fire(struct platform *p, unsigned cpu)
{
	struct time_state *ts = p->time;
	if (++ts->ticks > ts->max_ticks)
		return 2;
	struct cpu *c = &p->m->cpus[cpu];
	uint64_t at = ts->timer_at[cpu];
	if (c->clock < at)
		c->clock = at;
	ts->timer_at[cpu] = TIME_NEVER;
	machine_set_caller(p->m, "time_tick");
	hv_time_tick(&ts->ht, cpu);
	p->m->caller = p->m->caller_scenario;
	return 0;
}

/* A timer that falls due in the middle of a reader interrupts it there. */
static void interrupt_point(struct platform *p, unsigned cpu)
{
	if (p->time->timer_at[cpu] <= p->m->cpus[cpu].clock)
		(void)time_timer_fire(p, cpu); /* over the budget: the scheduler stops next */
}

/* --- readers and messages --------------------------------------------------- */

static struct time_agent *agent(struct time_state *ts, uint32_t id)
{
	return id >= TIME_AGENT_HV ? &ts->hag[id - TIME_AGENT_HV] : &ts->vag[id];
}

/* Messages to `to` that have arrived by now are received before its read. */
static void receive(struct platform *p, unsigned cpu, uint32_t to)
{
	struct time_state *ts = p->time;
	uint64_t now = p->m->cpus[cpu].clock;
	uint32_t k = 0;
	for (uint32_t i = 0; i < ts->nmsgs; i++) {
		struct time_msg *mg = &ts->msgs[i];
		if (mg->to != to || mg->arrival > now) {
			ts->msgs[k++] = *mg;
			continue;
		}
		struct event ev = machine_event(p->m, EV_TIME_MSG, (int)cpu);
		ev.sub = TMSG_RECV;
		ev.a = mg->id;
		ev.c = to;
		ev.d = mg->stamp;
		ev.e = (uint64_t)(int64_t)mg->from_cpu;
		machine_emit(p->m, &ev);
		struct time_agent *ag = agent(ts, to);
		if (mg->stamp > ag->known) {
			ag->known = mg->stamp;
			ag->known_cpu = mg->from_cpu;
		}
	}
	ts->nmsgs = k;
}

/* The warp-table figures of one read (the same relations as the
 * time-monotonic and time-causal properties). */
static void account(struct time_state *ts, struct time_agent *ag, unsigned cpu, uint64_t v)
{
	struct time_stats *st = &ts->st;
	st->reads++;
	if (ag->last_cpu >= 0 && v < ag->last) {
		uint64_t w = ag->last - v;
		if (ag->last_cpu == (int32_t)cpu) {
			st->back_same++;
			if (w > st->warp_same_ns)
				st->warp_same_ns = w;
		} else {
			st->back_cross++;
			if (w > st->warp_cross_ns)
				st->warp_cross_ns = w;
		}
	} else if (ag->known_cpu >= 0 && v < ag->known && ag->known_cpu != (int32_t)cpu) {
		uint64_t w = ag->known - v;
		st->back_cross++;
		if (w > st->warp_cross_ns)
			st->warp_cross_ns = w;
	}
	ag->last = v;
	ag->last_cpu = (int32_t)cpu;
	if (v >= ag->known) {
		ag->known = v;
		ag->known_cpu = (int32_t)cpu;
	}
}

static void emit_read(struct platform *p, unsigned cpu, unsigned who, uint32_t id, uint64_t v,
                      uint32_t version, unsigned retries, unsigned flags, uint64_t tsc)
{
	struct event ev = machine_event(p->m, EV_TIME_READ, (int)cpu);
	ev.sub = (uint16_t)who;
	ev.a = id;
	ev.b = v;
	ev.c = version;
	ev.d = retries;
	ev.e = flags;
	ev.f = tsc;
	machine_emit(p->m, &ev);
}

static void hv_read(struct platform *p, unsigned cpu)
{
	struct time_state *ts = p->time;
	uint32_t id = TIME_AGENT_HV + cpu;
	receive(p, cpu, id);
	uint64_t v = hv_time_now(&ts->ht, cpu);
	emit_read(p, cpu, TREAD_HV, id, v, hv_time_cpu_record(&ts->ht, cpu)->version, 0, 0, 0);
	ts->st.hv_reads++;
	account(ts, agent(ts, id), cpu, v);
}

static bool same_fields(const struct hv_time_rec *a, const struct hv_time_rec *b)
{
	return a->tsc_stamp == b->tsc_stamp && a->system_time == b->system_time &&
	       a->scale.mul_frac == b->scale.mul_frac && a->scale.shift == b->scale.shift;
}

/* The guest's pvclock read of its vCPU record: version, stamp, (a timer
 * interrupt may come here), system time and scale, RDTSCP, version again;
 * retried while the version was odd or changed (Linux
 * pvclock_clocksource_read, the seed's __get_time_values_from_xen). */
static void guest_read(struct platform *p, unsigned cpu, uint32_t vcpu)
{
	struct time_state *ts = p->time;
	struct cpu *c = &p->m->cpus[cpu];
	const struct hv_time_rec *r = &ts->ht.vcpu[vcpu];
	uint32_t load = ts->cfg.load_cycles;
	receive(p, cpu, vcpu);
	uint64_t v = 0, tsc = 0;
	uint32_t v1 = 0;
	unsigned tries, flags = 0;
	for (tries = 0; tries < TIME_READ_TRIES; tries++) {
		struct hv_time_rec before = *r;
		v1 = r->version;
		uint64_t stamp = r->tsc_stamp;
		cpu_charge(c, 2 * load);
		interrupt_point(p, cpu);
		uint64_t st = r->system_time;
		struct hv_time_scale sc = r->scale;
		cpu_charge(c, 2 * load);
		/* rdtsc_ordered: RDTSCP where the CPU has it (Linux's vDSO). */
		tsc = cpu_rdtscp(p->m, cpu, NULL);
		uint32_t v2 = r->version;
		cpu_charge(c, load);
		flags = same_fields(&before, r) ? 0 : TREADF_TORN;
		v = hv_time_extrapolate(st, stamp, tsc, &sc);
		if (!(v1 & 1) && v1 == v2)
			break;
	}
	if (tries == TIME_READ_TRIES)
		tries--; /* gave up: used the last attempt */
	ts->st.retries += tries;
	if (ts->cfg.clamp) {
		/* The guest's global last_value (PVCLOCK_TSC_STABLE_BIT clear). */
		if (v < ts->last_value) {
			v = ts->last_value;
			flags |= TREADF_CLAMPED;
			ts->st.clamped++;
		}
		ts->last_value = v;
	}
	if (flags & TREADF_TORN)
		ts->st.torn++;
	emit_read(p, cpu, TREAD_GUEST, vcpu, v, v1, tries, flags, tsc);
	ts->st.guest_reads++;
	account(ts, agent(ts, vcpu), cpu, v);
}

int time_send(struct platform *p, uint32_t from, unsigned from_cpu, uint32_t to)
{
	struct time_state *ts = p->time;
	if (ts->nmsgs == TIME_MSG_MAX)
		return -1;
	VEC_RESERVE(ts->msgs, ts->capmsgs, ts->nmsgs, 16);
	struct time_agent *ag = agent(ts, from);
	struct time_msg mg = {.id = ++ts->next_msg,
	                      .arrival = p->m->cpus[from_cpu].clock + p->m->prof.ipi_latency,
	                      .stamp = ag->known, .to = to, .from_cpu = ag->known_cpu};
	ts->msgs[ts->nmsgs++] = mg;
	struct event ev = machine_event(p->m, EV_TIME_MSG, (int)from_cpu);
	ev.sub = TMSG_SEND;
	ev.a = mg.id;
	ev.b = from;
	ev.c = to;
	ev.d = mg.stamp;
	ev.e = (uint64_t)(int64_t)mg.from_cpu;
	machine_emit(p->m, &ev);
	ts->st.msgs++;
	return 0;
}

static int send_msg(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct platform *p = x->plat;
	struct time_state *ts = p->time;
	uint32_t from = TIME_AGENT_HV + cpu, to;
	if (op->has_value) {
		to = TIME_AGENT_HV + (uint32_t)op->value;
	} else {
		from = ts->ht.running[cpu];
		if (from == HV_TIME_NO_VCPU)
			return op_input_error(x, op, "no time vCPU runs on cpu %u (time_sched first)",
			                      cpu);
		to = op->vcpu;
	}
	cpu_charge(&p->m->cpus[cpu], p->m->prof.ipi_send);
	if (time_send(p, from, cpu, to) != 0)
		return op_input_error(x, op, "more than %d messages pending", TIME_MSG_MAX);
	return 0;
}

static void tsc_event(struct platform *p, const struct op *op, unsigned cpu)
{
	struct machine *m = p->m;
	uint64_t now = m->cpus[cpu].clock, before;
	switch (op->type) {
	case TSCE_WRITE:
		before = tsc_write(&m->tsc, cpu, now, op->value);
		break;
	case TSCE_ADJUST:
		before = tsc_adjust(&m->tsc, cpu, now, (int64_t)op->value);
		break;
	case TSCE_CSTATE:
		before = tsc_cstate(&m->tsc, cpu, now, op->cycles);
		break;
	default:
		before = tsc_set_freq(&m->tsc, cpu, now, (int64_t)op->value * 1000);
		break;
	}
	struct event ev = machine_event(m, EV_TSC, (int)cpu);
	ev.sub = (uint16_t)op->type;
	ev.a = before;
	ev.b = tsc_at(&m->tsc, cpu, now);
	ev.c = op->type == TSCE_CSTATE ? op->cycles : op->value;
	machine_emit(m, &ev);
}

int time_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct platform *p = x->plat;
	if (!p || !p->time)
		return op_input_error(x, op, "the scenario has no time: section");
	struct time_state *ts = p->time;
	switch (op->kind) {
	case OP_TIME_READ:
		if (op->acc == SC_READ_HV) {
			hv_read(p, cpu);
			return 0;
		}
		if (ts->ht.running[cpu] == HV_TIME_NO_VCPU)
			return op_input_error(x, op, "no time vCPU runs on cpu %u (time_sched first)",
			                      cpu);
		guest_read(p, cpu, ts->ht.running[cpu]);
		return 0;
	case OP_TIME_SCHED:
		hv_time_schedule(&ts->ht, cpu, op->vcpu);
		return 0;
	case OP_TIME_MSG:
		return send_msg(x, op, cpu);
	case OP_TSC:
		tsc_event(p, op, cpu);
		return 0;
	default:
		return op_input_error(x, op, "internal: not a time op");
	}
}
