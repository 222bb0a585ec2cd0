/* Slot accounting, requests, responses, wait queue and wake-ups of the
 * vm_event rings (hv/vm_event/vm_event.h; Xen's mem_event.c as of the
 * seed, "mem_event: use wait queue when ring is full", v5). */
#include "hv/vm_event/vm_event.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "hv/vm_event/ring.h"

static void obs(struct hv_vm_event *ve, unsigned cpu, enum vm_event_what w,
                const struct vm_event_ring *r, const struct hv_vcpu *v, uint64_t arg)
{
	if (ve->observe)
		ve->observe(ve->observe_ctx, cpu, w, r, v, arg);
}

void vm_event_init(struct hv_vm_event *ve, struct hv *hv, struct hv_pv *pv,
                   enum vm_event_mode mode, unsigned inject)
{
	memset(ve, 0, sizeof(*ve));
	ve->hv = hv;
	ve->pv = pv;
	ve->mode = mode;
	ve->inject = inject;
	for (unsigned d = 0; d < HV_MAX_DOMAINS; d++)
		for (unsigned k = 0; k < VM_EVENT_NKINDS; k++) {
			struct vm_event_ring *r = &ve->ring[d][k];
			r->d = &pv->dom[d];
			r->kind = k;
			r->bit = VM_EVENT_PAUSE_BIT(k);
			r->page = HV_NO_FRAME;
		}
}

struct vm_event_ring *vm_event_ring_of(struct hv_vm_event *ve, unsigned domain, unsigned kind)
{
	if (domain >= HV_MAX_DOMAINS || kind >= VM_EVENT_NKINDS)
		return NULL;
	return &ve->ring[domain][kind];
}

int vm_event_free_requests(const struct vm_event_ring *r)
{
	return (int)r->size - (int)(uint32_t)(r->req_prod_pvt - r->rsp_cons);
}

static bool is_target(const struct vm_event_ring *r, const struct hv_vcpu *curr)
{
	return curr && curr->d == r->d;
}

static struct vm_event_cont *cont_of(struct hv_vm_event *ve, const struct hv_vcpu *v)
{
	return &ve->cont[v->d->id][v->id];
}

void vm_event_vcpu_pause(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                         struct hv_vcpu *v)
{
	int n = hv_vcpu_pause(&v->run);
	obs(ve, cpu, VE_PAUSE, r, v, (uint64_t)(int64_t)n);
}

void vm_event_vcpu_unpause(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                           struct hv_vcpu *v)
{
	int n = hv_vcpu_unpause(&v->run);
	obs(ve, cpu, VE_UNPAUSE, r, v, (uint64_t)(int64_t)n);
}

/* vCPUs of the ring's domain asleep with its flag. */
static unsigned flagged(const struct vm_event_ring *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->d->nvcpus; i++)
		n += (r->d->vcpu[i].run.pause_flags >> r->bit) & 1;
	return n;
}

/* Which sleepers now have what they wait for: the first (free - foreign
 * claims - already woken) on the wait queue; with the ring's flag, all
 * once there is a listener (and, before the seed, a slot). What the
 * ring-lost-wakeup property measures their wake-up against. */
static void note_room(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r)
{
	if (!r->enabled)
		return;
	int room = vm_event_free_requests(r) - r->foreign_producers - r->woken;
	for (unsigned i = 0; i < r->nwq && (int)i < room; i++)
		obs(ve, cpu, VE_ROOM, r, r->wq[i], 0);
	bool flag_room = ve->mode == VM_EVENT_MODE_WAITQ ||
	                 vm_event_free_requests(r) > r->target_producers + r->foreign_producers;
	for (unsigned i = 0; flag_room && i < r->d->nvcpus; i++)
		if ((r->d->vcpu[i].run.pause_flags >> r->bit) & 1)
			obs(ve, cpu, VE_ROOM, r, &r->d->vcpu[i], 1);
}

/* Every vCPU of the domain with the ring's flag (mem_event_unpause_vcpus
 * before the seed; mem_event_wake_waiters after). */
static unsigned wake_flagged(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->d->nvcpus; i++) {
		struct hv_vcpu *v = &r->d->vcpu[i];
		if (hv_vcpu_clear_wake(&v->run, r->bit)) {
			n++;
			obs(ve, cpu, VE_WOKEN, r, v, 1);
		}
	}
	return n;
}

void vm_event_wake_waiters(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r)
{
	unsigned n = (ve->inject & VM_EVENT_INJECT_NO_WAKE_WAITERS) ? 0 : wake_flagged(ve, cpu, r);
	obs(ve, cpu, VE_WAKE_WAITERS, r, NULL, n);
}

/* wake_up_nr(&wq, RING_FREE_REQUESTS): only as many as can place a
 * request; the first sleepers first. */
void vm_event_wake_requesters(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r)
{
	int free = vm_event_free_requests(r);
	unsigned n = free > 0 ? (unsigned)free : 0;
	if (ve->inject & VM_EVENT_INJECT_NO_WAKE_REQUESTERS)
		n = 0;
	if (n > r->nwq)
		n = r->nwq;
	for (unsigned i = 0; i < n; i++) {
		struct hv_vcpu *v = r->wq[i];
		assert(v->run.waitq == (int)r->kind);
		v->run.waitq = HV_NO_WAITQ;
		cont_of(ve, v)->woken = true;
		r->woken++;
		obs(ve, cpu, VE_WOKEN, r, v, 0);
	}
	memmove(&r->wq[0], &r->wq[n], (r->nwq - n) * sizeof(r->wq[0]));
	r->nwq -= n;
	obs(ve, cpu, VE_WAKE_REQUESTERS, r, NULL, n);
}

void vm_event_mark_and_sleep(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                             struct hv_vcpu *v)
{
	hv_vcpu_mark_sleep(&v->run, r->bit);
	obs(ve, cpu, VE_MARK_SLEEP, r, v, r->bit);
}

int vm_event_enable(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                    uint32_t slots)
{
	if (r->enabled)
		return -EEXIST;
	if (!slots || (slots & (slots - 1)) || slots > VM_EVENT_MAX_SLOTS)
		return -EINVAL;
	const struct hv_arch *a = ve->hv->arch;
	uint64_t pfn = a->alloc_frame(a->ctx, cpu);
	if (pfn == HV_NO_FRAME)
		return -ENOMEM;
	r->page = pfn;
	a->caller(a->ctx, "mem_event_enable");
	vm_ring_init(ve->hv, cpu, r, slots);
	a->caller(a->ctx, NULL);
	r->enabled = true;
	r->target_producers = r->foreign_producers = 0;
	r->woken = 0;
	obs(ve, cpu, VE_ENABLE, r, NULL, slots);
	note_room(ve, cpu, r);
	/* Wake any vCPUs asleep for want of this ring. */
	if (ve->mode == VM_EVENT_MODE_PAUSE)
		obs(ve, cpu, VE_WAKE_WAITERS, r, NULL, wake_flagged(ve, cpu, r));
	else
		vm_event_wake_waiters(ve, cpu, r);
	return 0;
}

/* The seed refuses while the wait queue is not empty. A vCPU woken from
 * the queue that has not run yet still holds a claim and will put into
 * the ring, and a vCPU whose request is unanswered stays paused until
 * its response, so outstanding claims, unanswered requests (and, before
 * the seed, vCPUs paused with the ring's flag) refuse too
 * (docs/seed-004.md): the caller answers what is there and retries. */
int vm_event_disable(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r)
{
	if (!r->enabled)
		return -ENOENT;
	bool busy = r->nwq || r->woken || r->target_producers || r->foreign_producers ||
	            flagged(r) || vm_event_free_requests(r) != (int)r->size;
	if (ve->inject & VM_EVENT_INJECT_DISABLE_WQ_ONLY)
		busy = r->nwq != 0;
	if (busy) {
		obs(ve, cpu, VE_DISABLE_BUSY, r, NULL, r->nwq);
		return -EBUSY;
	}
	const struct hv_arch *a = ve->hv->arch;
	a->free_frame(a->ctx, cpu, r->page);
	r->page = HV_NO_FRAME;
	r->enabled = false;
	obs(ve, cpu, VE_DISABLE, r, NULL, 0);
	return 0;
}

int vm_event_claim_slot(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                        struct hv_vcpu *curr)
{
	if (!r->enabled) {
		obs(ve, cpu, VE_CLAIM_NORING, r, curr, 0);
		return -ENOSYS;
	}
	int free = vm_event_free_requests(r);
	bool target = is_target(r, curr);
	bool ok;
	if (ve->mode == VM_EVENT_MODE_PAUSE) {
		/* Before the seed: one check for everyone. */
		ok = r->target_producers + r->foreign_producers < free;
	} else if (target) {
		ok = true; /* put_request sleeps until there is room */
	} else {
		/* Keep room for at least one guest request (v5). */
		int need = r->foreign_producers + r->target_producers + 1;
		ok = (ve->inject & VM_EVENT_INJECT_CLAIM_OFF_BY_ONE) ? need <= free : need < free;
	}
	if (!ok) {
		obs(ve, cpu, VE_CLAIM_FULL, r, curr, (uint64_t)(int64_t)free);
		if (target) {
			/* mem_event_mark_and_pause (before the seed only). */
			hv_vcpu_mark_sleep(&curr->run, r->bit);
			obs(ve, cpu, VE_PAUSE_FULL, r, curr, r->bit);
		}
		return 1;
	}
	if (target)
		r->target_producers++;
	else
		r->foreign_producers++;
	r->claims++;
	/* f: 1 target; 0 foreign, which must leave the target a slot; 2
	 * foreign before the seed, which kept none. */
	obs(ve, cpu, VE_CLAIM, r, curr, target ? 1 : ve->mode == VM_EVENT_MODE_PAUSE ? 2 : 0);
	return 0;
}

void vm_event_release_slot(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                           struct hv_vcpu *curr)
{
	bool target = is_target(r, curr) && !(ve->inject & VM_EVENT_INJECT_RELEASE_FOREIGN);
	if (target)
		r->target_producers--;
	else
		r->foreign_producers--;
	r->releases++;
	obs(ve, cpu, VE_RELEASE, r, curr, is_target(r, curr));
	/* A released claim is room for a sleeper. Kick the waiters, as
	 * later Xen's vm_event_release_slot does; the seed's wakes nobody,
	 * and neither did release before it (mode pause). */
	note_room(ve, cpu, r);
	if (ve->mode == VM_EVENT_MODE_WAITQ && !(ve->inject & VM_EVENT_INJECT_RELEASE_NO_WAKE))
		vm_event_wake_requesters(ve, cpu, r);
}

int vm_event_put_request(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                         struct hv_vcpu *curr, struct vm_event_req *req)
{
	bool target = is_target(r, curr);
	if (target && cont_of(ve, curr)->woken) {
		cont_of(ve, curr)->woken = false;
		r->woken--;
	}
	if (!r->enabled) {
		obs(ve, cpu, VE_PUT_FAIL, r, curr, target);
		return -ENOENT;
	}
	int free = vm_event_free_requests(r);
	int claimed = r->foreign_producers;
	/* Foreign requests must succeed: their vCPUs cannot sleep, so the
	 * target leaves the slots foreign producers claimed. */
	bool target_blocked = (ve->inject & VM_EVENT_INJECT_PUT_OFF_BY_ONE) ? free < claimed
	                                                                     : free <= claimed;
	bool no_room = free <= 0 || (target && ve->mode == VM_EVENT_MODE_WAITQ && target_blocked);
	if (ve->inject & VM_EVENT_INJECT_NO_FULL_CHECK)
		no_room = false;
	if (no_room) {
		if (target && ve->mode == VM_EVENT_MODE_WAITQ) {
			assert(r->nwq < VM_EVENT_WQ_MAX && curr->run.waitq == HV_NO_WAITQ);
			curr->run.waitq = (int)r->kind;
			r->wq[r->nwq++] = curr;
			obs(ve, cpu, VE_PUT_SLEEP, r, curr, (uint64_t)(int64_t)free);
			return 1;
		}
		obs(ve, cpu, VE_PUT_FAIL, r, curr, target);
		return -ENOSPC;
	}
	const struct hv_arch *a = ve->hv->arch;
	a->caller(a->ctx, "mem_event_put_request");
	req->id = ++r->next_id;
	vm_ring_write_slot(ve->hv, cpu, r, r->req_prod_pvt, req);
	r->req_prod_pvt++;
	if (target)
		r->target_producers--;
	else
		r->foreign_producers--;
	r->puts++;
	bool notify = vm_ring_push_requests(ve->hv, cpu, r);
	a->caller(a->ctx, NULL);
	obs(ve, cpu, VE_PUT, r, curr, req->id);
	if (notify) {
		r->notifies++;
		obs(ve, cpu, VE_NOTIFY, r, NULL, 0);
	}
	return 0;
}

int vm_event_get_response(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                          struct vm_event_req *rsp)
{
	if (!r->enabled || r->rsp_cons == vm_ring_rsp_prod(ve->hv, r))
		return 0;
	vm_ring_read_slot(ve->hv, r, r->rsp_cons, rsp);
	r->rsp_cons++;
	const struct hv_arch *a = ve->hv->arch;
	a->caller(a->ctx, "mem_event_get_response");
	vm_ring_write(ve->hv, cpu, r, VM_EVENT_SRING_RSP_EVENT, r->rsp_cons + 1);
	a->caller(a->ctx, NULL);
	r->gets++;
	obs(ve, cpu, VE_GET, r, NULL, rsp->id);
	return 1;
}

unsigned vm_event_resume(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r)
{
	struct vm_event_req rsp;
	unsigned n = 0;
	while (n < VM_EVENT_MAX_SLOTS && vm_event_get_response(ve, cpu, r, &rsp)) {
		n++;
		if ((rsp.flags & VM_EVENT_FLAG_VCPU_PAUSED) && rsp.vcpu_id < r->d->nvcpus)
			vm_event_vcpu_unpause(ve, cpu, r, &r->d->vcpu[rsp.vcpu_id]);
	}
	note_room(ve, cpu, r);
	if (ve->mode == VM_EVENT_MODE_PAUSE) {
		/* Before the seed: every vCPU paused because the ring was full
		 * (or had no listener) is unpaused, and retries. */
		obs(ve, cpu, VE_WAKE_WAITERS, r, NULL, wake_flagged(ve, cpu, r));
		return n;
	}
	vm_event_wake_requesters(ve, cpu, r);
	/* Only the access ring puts vCPUs to sleep for want of a listener
	 * (p2m_mem_access_check), so only its resume wakes waiters. */
	if (r->kind == VM_EVENT_ACCESS)
		vm_event_wake_waiters(ve, cpu, r);
	return n;
}
