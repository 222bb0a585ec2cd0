/* The shared ring page's layout and index moves (hv/vm_event/ring.c);
 * private to hv/vm_event. */
#ifndef HVSIM_HV_VM_EVENT_RING_H
#define HVSIM_HV_VM_EVENT_RING_H

#include "hv/vm_event/vm_event.h"

uint64_t vm_ring_slot_pa(const struct vm_event_ring *r, uint32_t idx);
uint64_t vm_ring_read(struct hv *hv, const struct vm_event_ring *r, uint32_t off);
void vm_ring_write(struct hv *hv, unsigned cpu, const struct vm_event_ring *r, uint32_t off,
                   uint64_t v);
void vm_ring_init(struct hv *hv, unsigned cpu, struct vm_event_ring *r, uint32_t slots);
void vm_ring_write_slot(struct hv *hv, unsigned cpu, const struct vm_event_ring *r,
                        uint32_t idx, const struct vm_event_req *q);
void vm_ring_read_slot(struct hv *hv, const struct vm_event_ring *r, uint32_t idx,
                       struct vm_event_req *q);
bool vm_ring_push_requests(struct hv *hv, unsigned cpu, struct vm_event_ring *r);
uint32_t vm_ring_rsp_prod(struct hv *hv, const struct vm_event_ring *r);

#endif
