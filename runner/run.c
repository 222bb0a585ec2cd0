/* The scenario runner and its discrete-event scheduler.
 *
 * Each CPU runs its own program: the scenario's ops for that CPU in file
 * order, with every barrier/quiesce op present in every program. The
 * scheduler always advances the CPU whose next action (its next op, or the
 * delivery of a pending IPI) has the smallest cycle time; ties are broken
 * by the run's one PRNG, and every op adds up to `op_jitter` cycles of
 * noise from the same PRNG, so a seed fixes one interleaving and another
 * seed gives another valid one. All loops are bounded by the op count and
 * the IPI queue capacity.
 */
#include "runner/run.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "record/checker.h"
#include "record/recorder.h"
#include "runner/ioworld.h"
#include "runner/ops.h"
#include "runner/platform.h"
#include "runner/timeops.h"
#include "runner/ring.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/machine.h"
#include "sim/vec.h"
#include "trace/trace.h"

#define IPI_QUEUE_MAX 4096
#define NEVER UINT64_MAX

struct ipi {
	uint64_t at;      /* delivery cycle */
	uint64_t order;   /* send order, breaks ties deterministically */
	uint32_t from;
	const struct op *op;
};

struct agent {
	uint32_t *prog;   /* op indices */
	uint32_t n, pc;
	bool waiting;     /* at a barrier/quiesce op */
	struct ipi *q;    /* sorted by (at, order), at most IPI_QUEUE_MAX */
	uint32_t nq, capq;
	/* Time scenarios (seed 002): a delay or a paced time_read sleeps
	 * until sleep_until, so that timers can fire meanwhile; rep counts
	 * the reads a time_read still has to do. */
	uint64_t sleep_until;
	uint64_t rep;
};

struct sched {
	struct machine *m;
	const struct scenario *sc;
	struct agent *a;
	struct op_ctx ox;
	uint64_t ipi_order;
	uint64_t choices;
	uint64_t quiesce_points, stale_at_quiesce;
};

static bool is_global(const struct op *op)
{
	return op->kind == OP_BARRIER || op->kind == OP_QUIESCE;
}

static int build_programs(struct sched *s)
{
	const struct scenario *sc = s->sc;
	s->a = calloc(sc->ncpus, sizeof(*s->a));
	if (!s->a)
		return -1;
	for (uint32_t c = 0; c < sc->ncpus; c++) {
		s->a[c].prog = calloc(sc->nops ? sc->nops : 1, sizeof(uint32_t));
		if (!s->a[c].prog)
			return -1;
	}
	for (uint32_t i = 0; i < sc->nops; i++) {
		const struct op *op = &sc->ops[i];
		for (uint32_t c = 0; c < sc->ncpus; c++)
			if (is_global(op) || (uint32_t)op->cpu == c)
				s->a[c].prog[s->a[c].n++] = i;
	}
	return 0;
}

static void free_programs(struct sched *s)
{
	if (!s->a)
		return;
	for (uint32_t c = 0; c < s->sc->ncpus; c++) {
		free(s->a[c].prog);
		free(s->a[c].q);
	}
	free(s->a);
}

static void jitter(struct sched *s, unsigned cpu)
{
	uint32_t j = s->m->prof.op_jitter;
	if (j)
		cpu_charge(&s->m->cpus[cpu], machine_choose(s->m, CHOICE_JITTER, (uint64_t)j + 1));
}

enum { ACT_OP = 0, ACT_IPI = 1, ACT_TIMER = 2 };

/* Next action time of a CPU: its op, or an IPI it can take now. */
static uint64_t next_time(const struct sched *s, unsigned c, int *kind)
{
	const struct agent *a = &s->a[c];
	uint64_t clk = s->m->cpus[c].clock;
	/* A sleep at the end of a program still has its wake-up to do. */
	uint64_t t_op = (!a->waiting && (a->pc < a->n || a->sleep_until)) ? clk : NEVER;
	if (t_op != NEVER && a->sleep_until > t_op)
		t_op = a->sleep_until;
	/* A ring op waits for its vCPU, the helper's notification or its
	 * retry time (runner/ring.h). */
	if (t_op != NEVER && !a->sleep_until && a->pc < a->n &&
	    ring_op_is(&s->sc->ops[a->prog[a->pc]]))
		t_op = ring_ready_at((struct op_ctx *)&s->ox, &s->sc->ops[a->prog[a->pc]], c);
	uint64_t t_ipi = a->nq ? (a->q[0].at > clk ? a->q[0].at : clk) : NEVER;
	bool is_ipi = t_ipi <= t_op && t_ipi != NEVER;
	*kind = is_ipi ? ACT_IPI : ACT_OP;
	return is_ipi ? t_ipi : t_op;
}

/* A CPU's timer (time scenarios only), due no earlier than its clock. */
static uint64_t timer_time(const struct sched *s, unsigned c)
{
	uint64_t t = time_timer_at(s->ox.plat, c);
	uint64_t clk = s->m->cpus[c].clock;
	return t == NEVER ? NEVER : t > clk ? t : clk;
}

static int queue_ipi(struct sched *s, unsigned from, unsigned to, const struct op *op)
{
	struct agent *a = &s->a[to];
	if (a->nq == IPI_QUEUE_MAX) {
		snprintf(s->ox.err, sizeof(s->ox.err),
		         "%s:%u:%u: ipi: more than %d IPIs pending on cpu %u",
		         s->sc->path, op->line, op->col, IPI_QUEUE_MAX, to);
		return 2;
	}
	VEC_RESERVE(a->q, a->capq, a->nq, 8);
	struct machine *m = s->m;
	uint64_t at = m->cpus[from].clock + m->prof.ipi_latency;
	struct ipi ip = {at, ++s->ipi_order, from, op};
	uint32_t i = a->nq;
	while (i > 0 && (a->q[i - 1].at > at ||
	                 (a->q[i - 1].at == at && a->q[i - 1].order > ip.order))) {
		a->q[i] = a->q[i - 1];
		i--;
	}
	a->q[i] = ip;
	a->nq++;
	struct event ev = machine_event(m, EV_IPI, (int)from);
	ev.sub = IPI_SEND;
	ev.a = from;
	ev.b = to;
	ev.c = ip.order;
	ev.d = m->prof.ipi_latency;
	machine_emit(m, &ev);
	return 0;
}

static int send_ipi(struct sched *s, unsigned cpu, const struct op *op)
{
	cpu_charge(&s->m->cpus[cpu], s->m->prof.ipi_send);
	for (unsigned t = 0; t < s->sc->ncpus; t++)
		if ((op->to[t / 64] >> (t % 64)) & 1) {
			int rc = queue_ipi(s, cpu, t, op);
			if (rc)
				return rc;
			/* An IPI orders the target's later time reads after
			 * the sender's (seed 002). */
			if (s->ox.plat && s->ox.plat->time &&
			    time_send(s->ox.plat, TIME_AGENT_HV + cpu, cpu, TIME_AGENT_HV + t) != 0)
				return op_input_error(&s->ox, op, "more than %d time messages pending",
				                      TIME_MSG_MAX);
		}
	return 0;
}

static int deliver_ipi(struct sched *s, unsigned cpu)
{
	struct agent *a = &s->a[cpu];
	struct machine *m = s->m;
	struct ipi ip = a->q[0];
	memmove(&a->q[0], &a->q[1], (a->nq - 1) * sizeof(a->q[0]));
	a->nq--;
	struct cpu *c = &m->cpus[cpu];
	if (c->clock < ip.at)
		c->clock = ip.at;
	struct event ev = machine_event(m, EV_IPI, (int)cpu);
	ev.sub = IPI_DELIVER;
	ev.a = ip.from;
	ev.b = cpu;
	ev.c = ip.order;
	machine_emit(m, &ev);
	cpu_charge(c, m->prof.ipi_handler);
	int worst = 0;
	for (uint32_t i = 0; i < ip.op->nsub; i++) {
		int rc = op_exec(&s->ox, &ip.op->sub[i], cpu);
		if (rc == 2)
			return rc;
		if (rc > worst)
			worst = rc;
	}
	return worst;
}

static void quiesce(struct sched *s, const struct op *op)
{
	struct machine *m = s->m;
	uint64_t stale = 0;
	for (uint32_t c = 0; c < m->ncpus; c++)
		stale += env_quiesce(m, c);
	struct event ev = machine_event(m, EV_QUIESCE, -1);
	ev.a = ++s->quiesce_points;
	ev.b = stale;
	ev.cycle = m->cpus[0].clock;
	machine_emit(m, &ev);
	s->stale_at_quiesce += stale;
	(void)op;
}

/* Every CPU is at the same barrier (or finished): align clocks, check,
 * and let them go on. */
static void release_barrier(struct sched *s)
{
	struct machine *m = s->m;
	uint64_t t = 0;
	const struct op *op = NULL;
	for (uint32_t c = 0; c < m->ncpus; c++) {
		if (m->cpus[c].clock > t)
			t = m->cpus[c].clock;
		if (s->a[c].waiting)
			op = &s->sc->ops[s->a[c].prog[s->a[c].pc]];
	}
	assert(op);
	for (uint32_t c = 0; c < m->ncpus; c++) {
		m->cpus[c].clock = t;
		struct agent *a = &s->a[c];
		if (a->waiting) {
			/* Programs are built so that all CPUs meet the same op. */
			assert(&s->sc->ops[a->prog[a->pc]] == op);
			a->waiting = false;
			a->pc++;
		}
	}
	if (op->kind == OP_QUIESCE)
		quiesce(s, op);
}

/* Time scenarios: delays sleep (timers fire meanwhile) and a time_read
 * repeats `count` times, `every` cycles apart. Returns -1 when the op is
 * not one of these. */
static int step_time(struct sched *s, unsigned cpu, const struct op *op)
{
	struct agent *a = &s->a[cpu];
	struct cpu *c = &s->m->cpus[cpu];
	if (op->kind == OP_DELAY) {
		a->pc++;
		a->sleep_until = c->clock + op->cycles;
		return 0;
	}
	if (op->kind == OP_TIME_READ) {
		if (a->rep == 0)
			a->rep = op->count;
		int rc = op_exec(&s->ox, op, cpu);
		if (--a->rep == 0)
			a->pc++;
		else
			a->sleep_until = c->clock + op->cycles;
		jitter(s, cpu);
		return rc;
	}
	if (op->kind == OP_TSC && op->type == TSCE_CSTATE) {
		int rc = op_exec(&s->ox, op, cpu);
		a->pc++;
		a->sleep_until = c->clock + op->cycles;
		return rc;
	}
	return -1;
}

static int step_op(struct sched *s, unsigned cpu)
{
	struct agent *a = &s->a[cpu];
	if (a->sleep_until) {
		struct cpu *c = &s->m->cpus[cpu];
		if (c->clock < a->sleep_until)
			c->clock = a->sleep_until;
		a->sleep_until = 0;
		if (a->pc == a->n)
			return 0; /* the last op's sleep is over */
	}
	const struct op *op = &s->sc->ops[a->prog[a->pc]];
	if (is_global(op)) {
		a->waiting = true;
		return 0;
	}
	if (s->sc->time.enabled) {
		int rc = step_time(s, cpu, op);
		if (rc >= 0)
			return rc;
	}
	a->pc++;
	int rc = op->kind == OP_IPI ? send_ipi(s, cpu, op) : op_exec(&s->ox, op, cpu);
	if (s->ox.again) { /* a multi-step op: the same op is next again */
		s->ox.again = false;
		a->pc--;
	}
	if (rc == RING_OP_AGAIN) {
		a->pc--; /* not finished: the scheduler comes back to it */
		rc = 0;
	}
	jitter(s, cpu);
	return rc;
}

static const char *sc_path(const struct scenario *sc)
{
	return sc->path ? sc->path : "?";
}

/* Every CPU but `cpu` has finished its program, waits at a barrier (the
 * helper must get there too), or waits in a helper that runs until idle
 * and has nothing to do. */
static bool others_done(void *ctx, unsigned cpu)
{
	struct sched *s = ctx;
	for (unsigned c = 0; c < s->sc->ncpus; c++) {
		const struct agent *a = &s->a[c];
		if (c == cpu || a->pc >= a->n || a->waiting)
			continue;
		if (!ring_helper_idle(&s->ox, &s->sc->ops[a->prog[a->pc]]))
			return false;
	}
	return true;
}

/* Runs to completion. Returns 0, 1 (an expectation failed) or 2. */
static int schedule(struct sched *s)
{
	struct machine *m = s->m;
	uint32_t n = m->ncpus;
	unsigned *tied = calloc(n, sizeof(*tied));
	int *tied_ipi = calloc(n, sizeof(*tied_ipi));
	int worst = 0;
	if (!tied || !tied_ipi) {
		free(tied);
		free(tied_ipi);
		return 2;
	}
	while (!m->bus.stop) {
		uint64_t best = NEVER;
		unsigned nt = 0;
		bool timers = s->sc->time.enabled;
		for (unsigned c = 0; c < n; c++) {
			int kind;
			uint64_t t = next_time(s, c, &kind);
			if (t == NEVER || t > best)
				continue;
			if (t < best) {
				best = t;
				nt = 0;
			}
			tied_ipi[nt] = kind;
			tied[nt++] = c;
		}
		/* Timers fire while work is pending (not when every CPU waits at
		 * a barrier): at most one action per CPU, the timer first. */
		if (timers && best != NEVER) {
			unsigned nt2 = 0;
			uint64_t best2 = best;
			for (unsigned c = 0; c < n; c++) {
				uint64_t t = timer_time(s, c);
				if (t < best2) {
					best2 = t;
					nt2 = 0;
				}
				if (t == best2 && t != NEVER)
					nt2++;
			}
			if (nt2) {
				/* Rebuild the tie list at best2: the timers there and,
				 * if best2 == best, the other CPUs' actions. */
				unsigned k = 0;
				for (unsigned c = 0; c < n; c++) {
					int kind;
					uint64_t tt = timer_time(s, c), t = next_time(s, c, &kind);
					if (tt == best2) {
						tied_ipi[k] = ACT_TIMER;
						tied[k++] = c;
					} else if (t == best2) {
						tied_ipi[k] = kind;
						tied[k++] = c;
					}
				}
				nt = k;
				best = best2;
			}
		}
		if (best == NEVER) {
			bool any_waiting = false;
			for (unsigned c = 0; c < n; c++)
				any_waiting |= s->a[c].waiting;
			if (!any_waiting)
				break;
			release_barrier(s);
			continue;
		}
		unsigned k = 0;
		if (nt > 1) {
			k = (unsigned)machine_choose(m, CHOICE_SCHED, nt);
			s->choices++;
		}
		int rc;
		if (tied_ipi[k] == ACT_TIMER) {
			rc = time_timer_fire(s->ox.plat, tied[k]);
			if (rc)
				snprintf(s->ox.err, sizeof(s->ox.err),
				         "%s: time: more than %" PRIu64 " periodic updates (a shorter run "
				         "or a longer time.period_ms)",
				         sc_path(s->sc), s->ox.plat->time->max_ticks);
		} else {
			rc = tied_ipi[k] == ACT_IPI ? deliver_ipi(s, tied[k]) : step_op(s, tied[k]);
		}
		if (rc == 2) {
			worst = 2;
			break;
		}
		if (rc > worst)
			worst = rc;
	}
	free(tied);
	free(tied_ipi);
	return worst;
}

static void summarise(struct sched *s, struct run_summary *sum)
{
	struct machine *m = s->m;
	sum->events = m->bus.seq;
	sum->digest = m->bus.digest;
	for (uint32_t c = 0; c < m->ncpus; c++) {
		const struct cpu *cp = &m->cpus[c];
		if (cp->clock > sum->cycles)
			sum->cycles = cp->clock;
		sum->faults += cp->nfaults;
	}
	sum->accesses = m->bus.counts[EV_ACCESS];
	sum->walks = m->bus.counts[EV_WALK];
	sum->misses = sum->walks; /* every walk is a TLB miss or a dirty assist */
	sum->fills = m->bus.counts[EV_FILL];
	sum->evictions = m->bus.counts[EV_EVICT];
	sum->flushes = m->bus.counts[EV_FLUSH];
	sum->quiesce_points = s->quiesce_points;
	sum->stale_at_quiesce = s->stale_at_quiesce;
	sum->sched_choices = s->choices;
}

/* Summary counters taken from the events themselves, so that the summary,
 * the recording and `hvsim diff` count the same things: flushes by
 * EV_FLUSH.f bit 8, accesses by the path that served them. */
struct stats {
	uint64_t necessary, redundant;
	uint64_t path[4]; /* PATH_L1, PATH_L2, PATH_WALK, PATH_FAULT */
};

static int stats_event(void *ctx, const struct event *ev)
{
	struct stats *st = ctx;
	if (ev->type == EV_FLUSH) {
		if ((ev->f >> 8) & 1)
			st->necessary++;
		else
			st->redundant++;
	} else if (ev->d < 4) {
		st->path[ev->d]++;
	}
	return 0;
}

static void config_text(const struct scenario *sc, char *buf, size_t cap)
{
	snprintf(buf, cap, "cpus=%u memory_frames=%" PRIu64 " overrides=%s", sc->ncpus,
	         sc->mem_frames, sc->overrides ? sc->overrides : "");
}

static void collect_violations(struct checker *ck, struct run_summary *sum)
{
	sum->violations = checker_total(ck);
	size_t n = checker_count(ck);
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		const struct violation *v = checker_get(ck, i);
		if (i == 0 && !sum->first[0])
			snprintf(sum->first, sizeof(sum->first),
			         "%s violated at event %" PRIu64 ", cycle %" PRIu64 ", cpu %d: %s",
			         v->property, v->seq, v->cycle, v->cpu, v->explanation);
		if (strstr(sum->props, v->property))
			continue;
		int w = snprintf(sum->props + used, sizeof(sum->props) - used, "%s%s",
		                 used ? "," : "", v->property);
		if (w > 0 && (size_t)w < sizeof(sum->props) - used)
			used += (size_t)w;
	}
}

/* The trace writer: a sink for every event and the recorder of every free
 * choice (chained after a replay hook if there is one). */
static int open_trace(const struct scenario *sc, const struct run_opts *o, uint64_t seed,
                      struct machine *m, struct trace_writer **tw, char *err, size_t errlen)
{
	struct trace_header h;
	memset(&h, 0, sizeof(h));
	h.version = 1;
	snprintf(h.hvsim_version, sizeof(h.hvsim_version), "%s", HVSIM_VERSION);
	snprintf(h.profile, sizeof(h.profile), "%s", sc->profile_name);
	config_text(sc, h.config, sizeof(h.config));
	h.seed = seed;
	h.ncpus = sc->ncpus;
	snprintf(h.scenario_name, sizeof(h.scenario_name), "%s", sc->name ? sc->name : "");
	snprintf(h.scenario_path, sizeof(h.scenario_path), "%s", sc->path ? sc->path : "");
	if (!o->scenario_text) {
		snprintf(err, errlen, "%s: a trace needs the scenario's text", o->trace_path);
		return -1;
	}
	if (trace_writer_open(o->trace_path, &h, o->scenario_text, o->scenario_len, tw, err,
	                      errlen) != 0)
		return -1;
	struct sink ts = trace_writer_sink(*tw);
	if (bus_attach(&m->bus, &ts) != 0) {
		snprintf(err, errlen, "%s: too many sinks", o->trace_path);
		return -1;
	}
	struct choice_hooks rec = trace_writer_choices(*tw);
	m->choices.record = rec.record;
	if (!m->choices.replay)
		m->choices.ctx = rec.ctx;
	else
		return snprintf(err, errlen, "%s: cannot write a trace while replaying one",
		                o->trace_path), -1;
	return 0;
}

int run_scenario(const struct scenario *sc, const struct run_opts *o,
                 struct run_summary *sum, char *err, size_t errlen)
{
	memset(sum, 0, sizeof(*sum));
	err[0] = 0;
	uint64_t seed = o->has_seed ? o->seed : sc->has_seed ? sc->seed : 1;
	sum->seed = seed;
	struct machine m;
	if (machine_init(&m, &sc->profile, sc->ncpus, sc->mem_frames, seed) != 0) {
		snprintf(err, errlen, "%s: machine: cannot create %u cpus with %" PRIu64 " frames",
		         sc->path, sc->ncpus, sc->mem_frames);
		return sum->exit_code = 2;
	}
	/* A run's event stream is always complete, whichever sinks listen:
	 * sequence numbers and the digest must not depend on --db or --trace
	 * (the fast path that skips unwanted events is for model benchmarks
	 * and direct users of sim/). */
	m.bus.mask = ~0ull;
	m.self_check = o->self_check;
	if (o->choices)
		m.choices = *o->choices;
	struct sched s = {.m = &m, .sc = sc};
	struct checker *ck = checker_new(o->stop_at_first);
	struct recorder *rec = NULL;
	struct trace_writer *tw = NULL;
	struct platform *plat = NULL;
	struct stats st;
	memset(&st, 0, sizeof(st));
	int rc = 2;
	s.ox.m = &m;
	s.ox.sc = sc;
	s.ox.others_done = others_done;
	s.ox.sched = &s;
	s.ox.root_pfn = calloc(sc->nroots ? sc->nroots : 1, sizeof(uint64_t));
	if (!ck || !s.ox.root_pfn || build_programs(&s) != 0) {
		snprintf(err, errlen, "%s: out of memory", sc->path);
		goto out;
	}
	struct sink cs = checker_sink(ck);
	bus_attach(&m.bus, &cs);
	struct sink fs = {.name = "stats", .mask = 1ull << EV_FLUSH | 1ull << EV_ACCESS,
	                  .ctx = &st, .event = stats_event};
	bus_attach(&m.bus, &fs);
	for (unsigned i = 0; i < o->nextra; i++)
		if (bus_attach(&m.bus, &o->extra[i]) != 0) {
			snprintf(err, errlen, "%s: too many sinks", sc->path);
			goto out;
		}
	if (o->trace_path && open_trace(sc, o, seed, &m, &tw, err, errlen) != 0)
		goto out;
	s.ox.tw = tw;
	s.ox.file_get = o->file_get;
	s.ox.file_ctx = o->file_ctx;
	if (o->db_path) {
		char cfg[512];
		config_text(sc, cfg, sizeof(cfg));
		struct run_info info = {sc->name, sc->path, seed, sc->profile_name,
		                        cfg, HVSIM_VERSION, sc->ncpus};
		if (recorder_open(o->db_path, &info, &rec, err, errlen) != 0)
			goto out;
		struct sink rs = recorder_sink(rec);
		bus_attach(&m.bus, &rs);
	}
	if (sc->hv.enabled) {
		plat = calloc(1, sizeof(*plat));
		if (!plat || platform_init(plat, &m, &sc->hv, err, errlen) != 0) {
			if (plat && !err[0])
				snprintf(err, errlen, "%s: hv: cannot boot", sc->path);
			else if (!plat)
				snprintf(err, errlen, "%s: out of memory", sc->path);
			rc = 2;
			goto out;
		}
		s.ox.plat = plat;
		if (sc->iommu.enabled && platform_iommu_init(plat, &sc->iommu, err, errlen) != 0) {
			rc = 2;
			goto out;
		}
		if (sc->time.enabled) {
			if (time_platform_init(plat, sc, err, errlen) != 0) {
				rc = 2;
				goto out;
			}
			if (o->time_max_ticks)
				plat->time->max_ticks = o->time_max_ticks;
		}
		if (sc->rings.enabled && ring_world_init(plat, &sc->rings) != 0) {
			snprintf(err, errlen, "%s: out of memory", sc->path);
			rc = 2;
			goto out;
		}
	}
	rc = schedule(&s);
	if (plat && rc != 2) {
		ring_finish(plat);
		ring_stats_get(plat, &sum->rings);
	}
	summarise(&s, sum);
	if (plat && plat->io) {
		ioworld_report(plat->io, m.prof.clock_mhz, sum->report, sizeof(sum->report));
	}
	if (plat && plat->time) {
		sum->time = plat->time->st;
		sum->has_time = true;
		sum->time.sim_ns = sum->cycles * 1000 / (m.prof.clock_mhz ? m.prof.clock_mhz : 1000);
	}
	sum->flushes_necessary = st.necessary;
	sum->flushes_redundant = st.redundant;
	sum->hits_l1 = st.path[PATH_L1];
	sum->hits_l2 = st.path[PATH_L2];
	sum->expect_failures = s.ox.expect_failures;
	if (s.ox.expect_failures)
		snprintf(sum->first, sizeof(sum->first), "%s", s.ox.first_failure);
	collect_violations(ck, sum);
	if (rc == 2)
		snprintf(err, errlen, "%s", s.ox.err[0] ? s.ox.err : "scheduler: out of memory");
	else if (sum->violations || sum->expect_failures)
		rc = 1;
	if (tw) {
		char terr[512];
		if (trace_writer_close(tw, rc != 2, sum->digest, terr, sizeof(terr)) != 0 && rc != 2) {
			snprintf(err, errlen, "%s", terr);
			rc = 2;
		}
		tw = NULL;
	}
	if (rec) {
		const char *status = rc == 0 ? "complete" : rc == 1 ? "violation" : "aborted";
		char rerr[512];
		if (recorder_close(rec, status, rc, sum->events, sum->digest, sum->cycles, rerr,
		                   sizeof(rerr)) != 0 && rc != 2) {
			snprintf(err, errlen, "%s", rerr);
			rc = 2;
		}
		rec = NULL;
	}
out:
	if (tw)
		trace_writer_close(tw, false, 0, NULL, 0);
	if (rec) {
		char rerr[512];
		recorder_close(rec, "aborted", 2, m.bus.seq, m.bus.digest, 0, rerr, sizeof(rerr));
	}
	if (plat) {
		time_platform_fini(plat);
		platform_fini(plat);
		free(plat);
	}
	if (ck)
		checker_free(ck);
	free(s.ox.root_pfn);
	free_programs(&s);
	machine_fini(&m);
	return sum->exit_code = rc;
}
