/* The vm_event rings in a run (runner/ring.h): the hypervisor's rings
 * bound to the machine, the ring scenario ops, the helper's consumer and
 * foreign producers, and the EV_RING / EV_RING_STALL events.
 *
 * Time: a vCPU woken (from the wait queue, a flag, or by the response
 * that unpauses it) cannot run before the waker's clock; its pCPU's clock
 * moves up to that point when it next runs. The helper, blocked after
 * its final check for requests, runs again when the hypervisor's event
 * channel notification arrives.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hv/vm_event/vm_event.h"
#include "runner/platform.h"
#include "runner/ring.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"

/* Cost of the helper's resume hypercall and of draining per response. */
#define RESUME_CYCLES 500u
#define DRAIN_CYCLES 100u

struct vstate {
	bool used;
	bool stalled;
	unsigned stall_kind, ring;
	uint64_t from, room;
	uint64_t ready_at; /* woken or unpaused at */
	uint64_t paused_at; /* pause count went from 0 to 1 */
};

struct helper_ring {
	bool used;
	uint64_t gen;                    /* enables so far: which ring page */
	uint32_t req_cons, rsp_prod_pvt; /* back ring (the helper's) */
	uint64_t notified_at;
};

struct cpu_prog {
	const struct op *op;
	uint64_t done, next_at, served;
	/* helper: a request taken and being handled (answered at next_at),
	 * and responses written since the last resume hypercall. */
	bool handling;
	uint64_t words[4];
	uint64_t batch;
	uint64_t gen;       /* the ring (helper_ring.gen) the request came from */
	int phase;
	uint32_t retries;
	bool stalled;
	uint64_t stall_from;
};

struct ring_world {
	struct platform *p;
	struct machine *m;
	struct hv_vm_event ve;
	struct vstate v[HV_MAX_DOMAINS][HV_MAX_VCPUS];
	struct helper_ring h[HV_MAX_DOMAINS][VM_EVENT_NKINDS];
	struct cpu_prog *cp;
	struct ring_stats st;
};

static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static uint64_t ring_code(const struct vm_event_ring *r)
{
	return (uint64_t)r->d->id << 8 | r->kind;
}

static uint64_t vcpu_code(const struct hv_vcpu *v)
{
	return v ? (uint64_t)v->d->id << 8 | v->id : RING_NOBODY;
}

static void emit(struct ring_world *w, unsigned cpu, unsigned sub, const struct vm_event_ring *r,
                 const struct hv_vcpu *v, uint64_t arg)
{
	struct event ev = machine_event(w->m, EV_RING, (int)cpu);
	ev.sub = (uint16_t)sub;
	ev.a = ring_code(r);
	ev.b = vcpu_code(v);
	ev.c = (uint64_t)(int64_t)vm_event_free_requests(r);
	ev.d = (uint64_t)(int64_t)r->target_producers;
	ev.e = (uint64_t)(int64_t)r->foreign_producers;
	ev.f = arg;
	machine_emit(w->m, &ev);
}

static void emit_stall(struct ring_world *w, unsigned cpu, unsigned kind, uint64_t ring,
                       uint64_t who, uint64_t from, uint64_t to, uint64_t room, bool unfinished)
{
	struct event ev = machine_event(w->m, EV_RING_STALL, (int)cpu);
	ev.sub = (uint16_t)kind;
	ev.a = ring;
	ev.b = who;
	ev.c = from;
	ev.d = to;
	ev.e = room;
	ev.f = unfinished;
	ev.cycle = to;
	machine_emit(w->m, &ev);
	if (kind != STALL_FOREIGN) {
		w->st.stalls++;
		w->st.stall_cycles += to - from;
		if (to - from > w->st.stall_max)
			w->st.stall_max = to - from;
	} else {
		w->st.foreign_stall_cycles += to - from;
	}
}

static void stall_begin(struct ring_world *w, unsigned cpu, const struct vm_event_ring *r,
                        const struct hv_vcpu *v, unsigned kind)
{
	struct vstate *s = &w->v[v->d->id][v->id];
	s->stalled = true;
	s->stall_kind = kind;
	s->ring = r->kind;
	s->from = w->m->cpus[cpu].clock;
	s->room = UINT64_MAX;
	w->st.sleeps++;
}

static void stall_end(struct ring_world *w, unsigned cpu, const struct vm_event_ring *r,
                      const struct hv_vcpu *v)
{
	struct vstate *s = &w->v[v->d->id][v->id];
	uint64_t now = w->m->cpus[cpu].clock;
	s->ready_at = max64(s->ready_at, now);
	if (!s->stalled)
		return;
	s->stalled = false;
	emit_stall(w, cpu, s->stall_kind, ring_code(r), vcpu_code(v), s->from, max64(now, s->from),
	           s->room, false);
}

/* hv/vm_event's observer: every ring operation becomes an EV_RING
 * (the sub values follow enum vm_event_what one for one). */
static void observe(void *ctx, unsigned cpu, enum vm_event_what what,
                    const struct vm_event_ring *r, const struct hv_vcpu *v, uint64_t arg)
{
	static const unsigned sub[VE__COUNT] = {
		[VE_ENABLE] = RING_ENABLE, [VE_DISABLE] = RING_DISABLE,
		[VE_DISABLE_BUSY] = RING_DISABLE_BUSY, [VE_CLAIM] = RING_CLAIM,
		[VE_CLAIM_FULL] = RING_CLAIM_FULL, [VE_CLAIM_NORING] = RING_CLAIM_NORING,
		[VE_RELEASE] = RING_RELEASE, [VE_PUT] = RING_PUT, [VE_PUT_FAIL] = RING_PUT_FAIL,
		[VE_PUT_SLEEP] = RING_PUT_SLEEP, [VE_GET] = RING_GET,
		[VE_WAKE_REQUESTERS] = RING_WAKE_REQUESTERS, [VE_WAKE_WAITERS] = RING_WAKE_WAITERS,
		[VE_MARK_SLEEP] = RING_MARK_SLEEP, [VE_PAUSE_FULL] = RING_PAUSE_FULL,
		[VE_PAUSE] = RING_PAUSE, [VE_UNPAUSE] = RING_UNPAUSE, [VE_NOTIFY] = RING_NOTIFY,
		[VE_WOKEN] = RING_WOKEN, [VE_ROOM] = RING_ROOM,
	};
	struct ring_world *w = ctx;
	uint64_t now = w->m->cpus[cpu].clock;
	emit(w, cpu, sub[what], r, v, arg);
	switch (what) {
	case VE_PUT_SLEEP:
		stall_begin(w, cpu, r, v, STALL_WAITQ);
		break;
	case VE_PAUSE_FULL:
		stall_begin(w, cpu, r, v, STALL_PAUSED_FULL);
		break;
	case VE_MARK_SLEEP:
		stall_begin(w, cpu, r, v, STALL_NO_LISTENER);
		break;
	case VE_ROOM: {
		struct vstate *s = &w->v[v->d->id][v->id];
		if (s->stalled && s->room == UINT64_MAX)
			s->room = max64(now, s->from);
		break;
	}
	case VE_WOKEN:
		stall_end(w, cpu, r, v);
		break;
	case VE_PAUSE:
		if (arg == 1)
			w->v[v->d->id][v->id].paused_at = now;
		break;
	case VE_UNPAUSE: {
		struct vstate *s = &w->v[v->d->id][v->id];
		s->ready_at = max64(s->ready_at, now);
		if (arg == 0)
			w->st.response_wait += now > s->paused_at ? now - s->paused_at : 0;
		break;
	}
	case VE_NOTIFY:
		w->h[r->d->id][r->kind].notified_at = now;
		w->st.notifies++;
		break;
	case VE_PUT:
		w->st.puts++;
		break;
	case VE_GET:
		w->st.responses++;
		w->st.last_response = now;
		break;
	case VE_DISABLE_BUSY:
		w->st.disable_busy++;
		break;
	default:
		break;
	}
}

int ring_world_init(struct platform *p, const struct sc_rings *cfg)
{
	struct ring_world *w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	w->cp = calloc(p->m->ncpus, sizeof(*w->cp));
	if (!w->cp) {
		free(w);
		return -1;
	}
	w->p = p;
	w->m = p->m;
	vm_event_init(&w->ve, &p->hv, &p->pv,
	              cfg->mode ? VM_EVENT_MODE_PAUSE : VM_EVENT_MODE_WAITQ, cfg->inject);
	w->ve.observe = observe;
	w->ve.observe_ctx = w;
	w->st.mode = cfg->mode;
	p->rw = w;
	return 0;
}

void ring_world_fini(struct platform *p)
{
	if (!p->rw)
		return;
	free(p->rw->cp);
	free(p->rw);
	p->rw = NULL;
}

bool ring_op_is(const struct op *op)
{
	return op->kind >= OP_RING_ENABLE && op->kind <= OP_HELPER_STALL;
}

static struct vm_event_ring *ring_for(struct ring_world *w, const struct op *op)
{
	return vm_event_ring_of(&w->ve, op->domain, op->ring);
}

static struct cpu_prog *prog(struct ring_world *w, const struct op *op, unsigned cpu)
{
	struct cpu_prog *c = &w->cp[cpu];
	if (c->op != op)
		*c = (struct cpu_prog){.op = op};
	return c;
}

/* Requests the helper has not taken yet. */
static uint32_t avail(struct ring_world *w, const struct vm_event_ring *r)
{
	const struct helper_ring *h = &w->h[r->d->id][r->kind];
	if (!r->enabled)
		return 0;
	uint32_t prod = (uint32_t)mem_read64(&w->m->mem, (r->page << 12) + VM_EVENT_SRING_REQ_PROD);
	return prod - h->req_cons;
}

bool ring_helper_idle(struct op_ctx *x, const struct op *op)
{
	struct ring_world *w = x->plat ? x->plat->rw : NULL;
	if (!w || op->kind != OP_HELPER || op->count)
		return false;
	return avail(w, ring_for(w, op)) == 0;
}

static struct hv_vcpu *vcpu_of(struct ring_world *w, const struct op *op)
{
	struct hv_pv *pv = &w->p->pv;
	if (op->domain >= pv->ndomains || op->vcpu >= pv->dom[op->domain].nvcpus)
		return NULL;
	return &pv->dom[op->domain].vcpu[op->vcpu];
}

uint64_t ring_ready_at(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ring_world *w = x->plat ? x->plat->rw : NULL;
	uint64_t clk = x->m->cpus[cpu].clock;
	if (!w)
		return clk; /* ring_op_exec reports the missing setup */
	struct cpu_prog *c = &w->cp[cpu];
	uint64_t next = c->op == op ? c->next_at : 0;
	switch (op->kind) {
	case OP_VM_EVENT: {
		struct hv_vcpu *v = vcpu_of(w, op);
		if (!v)
			return clk;
		if (!hv_vcpu_runnable(&v->run))
			return RING_NEVER;
		return max64(max64(clk, next), w->v[op->domain][op->vcpu].ready_at);
	}
	case OP_HELPER: {
		struct vm_event_ring *r = ring_for(w, op);
		if (c->op == op && (c->handling || c->batch))
			return max64(clk, next); /* answering, or the resume is due */
		if (avail(w, r))
			return max64(max64(clk, next), w->h[op->domain][op->ring].notified_at);
		if (!op->count && x->others_done && x->others_done(x->sched, cpu))
			return max64(clk, next);
		return RING_NEVER; /* blocked on the event channel */
	}
	default:
		return max64(clk, next);
	}
}

static int ring_enable(struct ring_world *w, struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct vm_event_ring *r = ring_for(w, op);
	int rc = vm_event_enable(&w->ve, cpu, r, op->slots);
	if (rc == -EEXIST)
		return 0; /* already there: nothing to do */
	if (rc == -ENOMEM)
		return op_input_error(x, op, "out of simulated frames (machine.memory_frames)");
	if (rc)
		return op_input_error(x, op, "the hypervisor refused the ring (%s)", strerror(-rc));
	uint64_t gen = w->h[op->domain][op->ring].gen + 1;
	w->h[op->domain][op->ring] = (struct helper_ring){.used = true, .gen = gen};
	return 0;
}

static uint64_t slot_pa(const struct vm_event_ring *r, uint32_t idx)
{
	return (r->page << 12) + VM_EVENT_SRING_SLOTS + (idx & (r->size - 1)) * VM_EVENT_SLOT_BYTES;
}

/* The helper takes the next request (RING_GET_REQUEST, req_cons++). */
static void take(struct ring_world *w, unsigned cpu, struct vm_event_ring *r, uint64_t words[4])
{
	struct helper_ring *h = &w->h[r->d->id][r->kind];
	uint64_t pa = slot_pa(r, h->req_cons);
	for (unsigned i = 0; i < 4; i++)
		words[i] = mem_read64(&w->m->mem, pa + 8 * i);
	h->req_cons++;
	emit(w, cpu, RING_CONSUME, r, NULL, words[3]);
}

/* Its response: same type, flags, gfn, vCPU and id, into the next
 * response slot (rsp_prod_pvt++). */
static void answer(struct ring_world *w, unsigned cpu, struct vm_event_ring *r,
                   const uint64_t words[4])
{
	struct helper_ring *h = &w->h[r->d->id][r->kind];
	const struct hv_arch *a = &w->p->arch;
	uint64_t pa = slot_pa(r, h->rsp_prod_pvt);
	for (unsigned i = 0; i < 4; i++)
		a->write64(a->ctx, cpu, pa + 8 * i, words[i]);
	h->rsp_prod_pvt++;
	emit(w, cpu, RING_RESPOND, r, NULL, words[3]);
}

/* RING_PUSH_RESPONSES and the resume hypercall: the hypervisor consumes
 * the responses, unpauses the vCPUs they name and wakes sleepers. */
static void resume(struct ring_world *w, unsigned cpu, struct vm_event_ring *r)
{
	const struct hv_arch *a = &w->p->arch;
	a->write64(a->ctx, cpu, (r->page << 12) + VM_EVENT_SRING_RSP_PROD,
	           w->h[r->d->id][r->kind].rsp_prod_pvt);
	cpu_charge(&w->m->cpus[cpu], RESUME_CYCLES);
	a->caller(a->ctx, "mem_event_resume");
	vm_event_resume(&w->ve, cpu, r);
	a->caller(a->ctx, NULL);
}

/* Everything on the ring answered at once (draining before a retried
 * disable), at `each` cycles per request. */
static uint64_t drain(struct ring_world *w, unsigned cpu, struct vm_event_ring *r, uint64_t each)
{
	uint64_t n = 0, words[4];
	for (; n < VM_EVENT_MAX_SLOTS && avail(w, r); n++) {
		take(w, cpu, r, words);
		cpu_charge(&w->m->cpus[cpu], each);
		answer(w, cpu, r, words);
	}
	if (n)
		resume(w, cpu, r);
	return n;
}

/* One step of the helper: answer the request in hand (it is due now),
 * make the resume hypercall after a burst (or when nothing is left),
 * take the next request (answered latency cycles later), or block on
 * the event channel after RING_FINAL_CHECK_FOR_REQUESTS. */
static int helper(struct ring_world *w, struct op_ctx *x, const struct op *op, unsigned cpu,
                  struct cpu_prog *c)
{
	struct vm_event_ring *r = ring_for(w, op);
	if ((c->handling || c->batch) &&
	    (!r->enabled || c->gen != w->h[op->domain][op->ring].gen)) {
		/* The ring went away under the helper (only the seed's disable
		 * check lets it, rings.inject disable_wq_only): what it held
		 * is lost with it. */
		c->handling = false;
		c->batch = 0;
	}
	if (c->handling) {
		answer(w, cpu, r, c->words);
		c->handling = false;
		c->batch++;
		c->served++;
	}
	bool quota = op->count && c->served >= op->count;
	if (c->batch && (c->batch >= op->burst || quota || !avail(w, r))) {
		resume(w, cpu, r);
		c->batch = 0;
	}
	if (quota)
		return 0;
	if (avail(w, r)) {
		take(w, cpu, r, c->words);
		c->handling = true;
		c->gen = w->h[op->domain][op->ring].gen;
		c->next_at = w->m->cpus[cpu].clock + op->latency;
		return RING_OP_AGAIN;
	}
	if (!op->count && x->others_done && x->others_done(x->sched, cpu))
		return 0;
	if (r->enabled)
		w->p->arch.write64(w->p->arch.ctx, cpu, (r->page << 12) + VM_EVENT_SRING_REQ_EVENT,
		                   w->h[op->domain][op->ring].req_cons + 1);
	return RING_OP_AGAIN;
}

static int ring_disable(struct ring_world *w, const struct op *op, unsigned cpu,
                        struct cpu_prog *c)
{
	struct vm_event_ring *r = ring_for(w, op);
	int rc = vm_event_disable(&w->ve, cpu, r);
	if (rc != -EBUSY || op->on_busy == SC_BUSY_FAIL)
		return 0;
	if (++c->retries > op->retries) {
		emit(w, cpu, RING_GIVE_UP, r, NULL, c->retries - 1);
		w->st.give_ups++;
		return 0;
	}
	/* drain: answer what is there, which frees slots and wakes the
	 * waiters, then try again; retry: only try again. */
	if (op->on_busy == SC_BUSY_DRAIN)
		drain(w, cpu, r, DRAIN_CYCLES);
	c->next_at = w->m->cpus[cpu].clock + op->retry;
	return RING_OP_AGAIN;
}

static int vm_event_op(struct ring_world *w, const struct op *op, unsigned cpu,
                       struct cpu_prog *c)
{
	struct hv_vcpu *v = vcpu_of(w, op);
	w->v[op->domain][op->vcpu].used = true;
	const struct hv_arch *a = &w->p->arch;
	a->caller(a->ctx, op->ring == RING_KIND_PAGING ? "p2m_mem_paging"
	                  : op->ring == RING_KIND_ACCESS ? "p2m_mem_access_check"
	                                                 : "mem_sharing_notify_helper");
	enum vm_event_rc rc = vm_event_guest(&w->ve, cpu, v, op->ring, (enum vm_event_type)op->ev_type,
	                                     op->gfn + c->done);
	a->caller(a->ctx, NULL);
	if (rc == VE_AGAIN)
		return RING_OP_AGAIN;
	if (rc == VE_DONE)
		w->st.guest_events++;
	else if (rc == VE_LOST)
		w->st.lost_drops++;
	c->next_at = w->m->cpus[cpu].clock + op->gap;
	return ++c->done < op->count ? RING_OP_AGAIN : 0;
}

static int foreign(struct ring_world *w, const struct op *op, unsigned cpu, struct cpu_prog *c)
{
	static const uint32_t type[] = {VM_EVENT_TYPE_POPULATE, VM_EVENT_TYPE_ACCESS,
	                                VM_EVENT_TYPE_SHARED};
	struct vm_event_ring *r = ring_for(w, op);
	uint64_t now = w->m->cpus[cpu].clock;
	const struct hv_arch *a = &w->p->arch;
	if (c->phase == 0) {
		a->caller(a->ctx, "foreign_claim");
		int rc = vm_event_claim_slot(&w->ve, cpu, r, NULL);
		a->caller(a->ctx, NULL);
		if (rc > 0) {
			/* "the caller must try again until there is room" */
			if (!c->stalled)
				c->stall_from = now;
			c->stalled = true;
			if (++c->retries > op->retries) {
				emit(w, cpu, RING_GIVE_UP, r, NULL, c->retries - 1);
				w->st.give_ups++;
				emit_stall(w, cpu, STALL_FOREIGN, ring_code(r), RING_NOBODY, c->stall_from,
				           now, UINT64_MAX, true);
				c->stalled = false;
				return 0;
			}
			c->next_at = now + op->retry;
			return RING_OP_AGAIN;
		}
		if (c->stalled)
			emit_stall(w, cpu, STALL_FOREIGN, ring_code(r), RING_NOBODY, c->stall_from, now,
			           UINT64_MAX, false);
		c->stalled = false;
		c->retries = 0;
		if (rc < 0)
			return ++c->done < op->count ? RING_OP_AGAIN : 0; /* no ring */
		c->phase = 1;
		c->next_at = now + op->hold;
		if (op->hold)
			return RING_OP_AGAIN;
	}
	a->caller(a->ctx, "foreign_put");
	if (op->release) {
		vm_event_release_slot(&w->ve, cpu, r, NULL);
	} else {
		struct vm_event_req req = {.type = type[op->ring], .gfn = op->gfn + c->done};
		vm_event_put_request(&w->ve, cpu, r, NULL, &req);
	}
	a->caller(a->ctx, NULL);
	c->phase = 0;
	return ++c->done < op->count ? RING_OP_AGAIN : 0;
}

int ring_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ring_world *w = x->plat ? x->plat->rw : NULL;
	if (!w)
		return op_input_error(x, op, "the scenario has no rings: section");
	if (op->domain >= w->p->pv.ndomains)
		return op_input_error(x, op, "domain %u has not been created yet", op->domain);
	uint64_t t = ring_ready_at(x, op, cpu);
	struct cpu *cp = &x->m->cpus[cpu];
	if (t != RING_NEVER && t > cp->clock)
		cp->clock = t;
	struct cpu_prog *c = prog(w, op, cpu);
	switch (op->kind) {
	case OP_RING_ENABLE:
		return ring_enable(w, x, op, cpu);
	case OP_RING_DISABLE:
		return ring_disable(w, op, cpu, c);
	case OP_VM_EVENT:
		return vm_event_op(w, op, cpu, c);
	case OP_FOREIGN:
		return foreign(w, op, cpu, c);
	case OP_HELPER:
		return helper(w, x, op, cpu, c);
	default: { /* OP_HELPER_STALL */
		struct vm_event_ring *r = ring_for(w, op);
		emit(w, cpu, RING_HELPER_STALL, r, NULL, op->cycles);
		cpu_charge(cp, op->cycles);
		return 0;
	}
	}
}

void ring_finish(struct platform *p)
{
	struct ring_world *w = p->rw;
	if (!w)
		return;
	struct machine *m = w->m;
	uint64_t end = 0;
	for (unsigned c = 0; c < m->ncpus; c++)
		end = max64(end, m->cpus[c].clock);
	for (unsigned c = 0; c < m->ncpus; c++) {
		struct cpu_prog *cp = &w->cp[c];
		if (cp->stalled && cp->op)
			emit_stall(w, c, STALL_FOREIGN, (uint64_t)cp->op->domain << 8 | cp->op->ring,
			           RING_NOBODY, cp->stall_from, end, UINT64_MAX, true);
	}
	for (unsigned d = 0; d < p->pv.ndomains; d++)
		for (unsigned i = 0; i < p->pv.dom[d].nvcpus; i++) {
			struct vstate *s = &w->v[d][i];
			const struct hv_vcpu *v = &p->pv.dom[d].vcpu[i];
			if (!s->used)
				continue;
			if (s->stalled)
				emit_stall(w, 0, s->stall_kind, (uint64_t)d << 8 | s->ring, vcpu_code(v),
				           s->from, max64(end, s->from), s->room, true);
			struct event ev = machine_event(m, EV_RING, -1);
			ev.sub = RING_VCPU_END;
			ev.a = (uint64_t)d << 8 | 0xff;
			ev.b = vcpu_code(v);
			ev.c = (uint64_t)(int64_t)v->run.pause_count;
			ev.d = v->run.pause_flags;
			ev.e = (uint64_t)(int64_t)v->run.waitq;
			ev.cycle = end;
			machine_emit(m, &ev);
		}
	for (unsigned d = 0; d < p->pv.ndomains; d++)
		for (unsigned k = 0; k < VM_EVENT_NKINDS; k++) {
			struct vm_event_ring *r = &w->ve.ring[d][k];
			if (!w->h[d][k].used)
				continue;
			struct event ev = machine_event(m, EV_RING, -1);
			ev.sub = RING_END;
			ev.a = ring_code(r);
			ev.b = RING_NOBODY;
			ev.c = (uint64_t)(int64_t)vm_event_free_requests(r);
			ev.d = (uint64_t)(int64_t)r->target_producers;
			ev.e = (uint64_t)(int64_t)r->foreign_producers;
			ev.f = avail(w, r);
			ev.cycle = end;
			machine_emit(m, &ev);
		}
	w->st.used = true;
}

void ring_stats_get(const struct platform *p, struct ring_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (p && p->rw)
		*st = p->rw->st;
}
