/* The guest side of the rings: what a vCPU's fault handler does when it
 * needs the helper (Xen's p2m_mem_paging_populate, p2m_mem_paging_drop_page,
 * p2m_mem_access_check, mem_sharing_notify_helper as of the seed). In Xen
 * a vCPU that must wait sleeps inside wait_event on its own stack; here
 * the event's state is kept in ve->cont and the platform calls again when
 * the vCPU may run. */
#include "hv/vm_event/vm_event.h"

#include <assert.h>

static enum vm_event_rc claim_phase(struct hv_vm_event *ve, unsigned cpu,
                                    struct vm_event_ring *r, struct hv_vcpu *v,
                                    struct vm_event_cont *c)
{
	int rc = vm_event_claim_slot(ve, cpu, r, v);
	if (rc < 0) {
		if (r->kind != VM_EVENT_ACCESS) {
			c->phase = VE_PHASE_IDLE; /* no pager: nothing to do */
			return VE_NO_RING;
		}
		/* No listener: the vCPU sleeps until a ring appears and
		 * retries the access (mem_event_mark_and_sleep). */
		vm_event_mark_and_sleep(ve, cpu, r, v);
		return VE_AGAIN;
	}
	if (rc > 0 && c->req.type == VM_EVENT_TYPE_DROP) {
		/* Before the seed p2m_mem_paging_drop_page sent nothing when
		 * the ring was full ("a full ring will lead to harmless
		 * inconsistency in the pager"): the notification is lost. */
		c->phase = VE_PHASE_IDLE;
		return VE_LOST;
	}
	if (rc > 0)
		return VE_AGAIN; /* before the seed: paused, retries the claim */
	if (c->req.type == VM_EVENT_TYPE_POPULATE_BACK) {
		vm_event_release_slot(ve, cpu, r, v);
		c->phase = VE_PHASE_IDLE;
		return VE_RELEASED;
	}
	c->phase = VE_PHASE_PUT;
	if (c->req.type != VM_EVENT_TYPE_DROP) {
		c->req.flags |= VM_EVENT_FLAG_VCPU_PAUSED;
		if (ve->inject & VM_EVENT_INJECT_DOUBLE_PAUSE) {
			/* The bug of v1: paused before put_request. */
			vm_event_vcpu_pause(ve, cpu, r, v);
			c->paused_early = true;
		}
	}
	return VE_DONE;
}

enum vm_event_rc vm_event_guest(struct hv_vm_event *ve, unsigned cpu, struct hv_vcpu *v,
                                unsigned kind, enum vm_event_type type, uint64_t gfn)
{
	assert(kind < VM_EVENT_NKINDS);
	struct vm_event_ring *r = &ve->ring[v->d->id][kind];
	struct vm_event_cont *c = &ve->cont[v->d->id][v->id];
	if (c->phase == VE_PHASE_IDLE) {
		c->req = (struct vm_event_req){.type = type, .gfn = gfn, .vcpu_id = v->id};
		if (type == VM_EVENT_TYPE_DROP)
			c->req.flags = VM_EVENT_FLAG_DROP_PAGE;
		c->phase = VE_PHASE_CLAIM;
		c->paused_early = false;
	}
	if (c->phase == VE_PHASE_CLAIM) {
		enum vm_event_rc rc = claim_phase(ve, cpu, r, v, c);
		if (rc == VE_RELEASED)
			return VE_DONE;
		if (rc != VE_DONE)
			return rc;
	}
	assert(c->phase == VE_PHASE_PUT);
	int rc = vm_event_put_request(ve, cpu, r, v, &c->req);
	if (rc == 1)
		return VE_AGAIN; /* asleep on the wait queue */
	c->phase = VE_PHASE_IDLE;
	if (rc < 0) {
		/* The ring went away (or, before the seed, was full after
		 * all): the request is lost; a vCPU paused early stays so. */
		return VE_NO_RING;
	}
	/* After put_request: paused until the helper's response names it. */
	if (c->req.type != VM_EVENT_TYPE_DROP && !c->paused_early)
		vm_event_vcpu_pause(ve, cpu, r, v);
	c->paused_early = false;
	return VE_DONE;
}
