/* The shared ring page in guest memory (Xen public io/ring.h): the front
 * end's side. Requests are written into slot (index & (size - 1)) and
 * published by moving req_prod; the consumer is notified when req_prod
 * passes its req_event threshold (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY).
 * Responses are read from the slots up to rsp_prod, and rsp_event is set
 * one past the last consumed (RING_FINAL_CHECK_FOR_RESPONSES). */
#include <assert.h>

#include "hv/mm/page.h"
#include "hv/vm_event/ring.h"

static uint64_t sring_pa(const struct vm_event_ring *r, uint32_t off)
{
	return (r->page << PAGE_SHIFT) + off;
}

uint64_t vm_ring_slot_pa(const struct vm_event_ring *r, uint32_t idx)
{
	return sring_pa(r, VM_EVENT_SRING_SLOTS + (idx & (r->size - 1)) * VM_EVENT_SLOT_BYTES);
}

uint64_t vm_ring_read(struct hv *hv, const struct vm_event_ring *r, uint32_t off)
{
	return hv->arch->read64(hv->arch->ctx, sring_pa(r, off));
}

void vm_ring_write(struct hv *hv, unsigned cpu, const struct vm_event_ring *r, uint32_t off,
                   uint64_t v)
{
	hv->arch->write64(hv->arch->ctx, cpu, sring_pa(r, off), v);
}

/* SHARED_RING_INIT + FRONT_RING_INIT: indices 0, both thresholds 1. */
void vm_ring_init(struct hv *hv, unsigned cpu, struct vm_event_ring *r, uint32_t slots)
{
	assert(slots && (slots & (slots - 1)) == 0 && slots <= VM_EVENT_MAX_SLOTS);
	r->size = slots;
	r->req_prod_pvt = r->rsp_cons = 0;
	vm_ring_write(hv, cpu, r, VM_EVENT_SRING_REQ_PROD, 0);
	vm_ring_write(hv, cpu, r, VM_EVENT_SRING_RSP_PROD, 0);
	vm_ring_write(hv, cpu, r, VM_EVENT_SRING_REQ_EVENT, 1);
	vm_ring_write(hv, cpu, r, VM_EVENT_SRING_RSP_EVENT, 1);
}

void vm_ring_write_slot(struct hv *hv, unsigned cpu, const struct vm_event_ring *r,
                        uint32_t idx, const struct vm_event_req *q)
{
	uint64_t pa = vm_ring_slot_pa(r, idx);
	const struct hv_arch *a = hv->arch;
	a->write64(a->ctx, cpu, pa, (uint64_t)q->type << 32 | q->flags);
	a->write64(a->ctx, cpu, pa + 8, q->gfn);
	a->write64(a->ctx, cpu, pa + 16, q->vcpu_id);
	a->write64(a->ctx, cpu, pa + 24, q->id);
}

void vm_ring_read_slot(struct hv *hv, const struct vm_event_ring *r, uint32_t idx,
                       struct vm_event_req *q)
{
	uint64_t pa = vm_ring_slot_pa(r, idx);
	const struct hv_arch *a = hv->arch;
	uint64_t w = a->read64(a->ctx, pa);
	q->type = (uint32_t)(w >> 32);
	q->flags = (uint32_t)w;
	q->gfn = a->read64(a->ctx, pa + 8);
	q->vcpu_id = (uint32_t)a->read64(a->ctx, pa + 16);
	q->id = a->read64(a->ctx, pa + 24);
}

/* RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish, and notify when the new
 * requests cross the consumer's req_event. */
bool vm_ring_push_requests(struct hv *hv, unsigned cpu, struct vm_event_ring *r)
{
	uint32_t old = (uint32_t)vm_ring_read(hv, r, VM_EVENT_SRING_REQ_PROD);
	uint32_t new = r->req_prod_pvt;
	vm_ring_write(hv, cpu, r, VM_EVENT_SRING_REQ_PROD, new);
	uint32_t ev = (uint32_t)vm_ring_read(hv, r, VM_EVENT_SRING_REQ_EVENT);
	return (uint32_t)(new - ev) < (uint32_t)(new - old);
}

uint32_t vm_ring_rsp_prod(struct hv *hv, const struct vm_event_ring *r)
{
	return (uint32_t)vm_ring_read(hv, r, VM_EVENT_SRING_RSP_PROD);
}
