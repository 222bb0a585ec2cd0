/* vm_event rings (seed 004, Xen's mem_event after "use wait queue when
 * ring is full"): one shared page per ring in guest memory laid out as
 * Xen's public io/ring.h shared ring -- producer and consumer indices
 * with event thresholds, then the slots -- through which the hypervisor
 * sends requests to a helper domain's consumer and gets its responses.
 *
 * The hypervisor is the front end: it produces requests (req_prod_pvt,
 * pushed to req_prod) and consumes responses (rsp_cons). A producer
 * first claims a slot, then puts a request or releases the slot. Claims
 * are counted per kind of producer: target (a vCPU of the ring's own
 * domain, which can sleep) and foreign (hypervisor context on behalf of
 * another domain, which cannot sleep and must therefore always get the
 * slot it claimed). With the wait queue (after the seed) a target vCPU
 * whose put finds no room sleeps on the ring's wait queue and is woken,
 * as many as there are free slots, when responses free them; before the
 * seed (mode pause) a claim that finds the ring full pauses the target
 * vCPU with the ring's pause flag and every flagged vCPU is woken by the
 * next response.
 */
#ifndef HVSIM_HV_VM_EVENT_VM_EVENT_H
#define HVSIM_HV_VM_EVENT_VM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/hv.h"
#include "hv/pv/pv.h"

/* The rings of a domain, each with its own pause-flag bit (the seed's
 * _VPF_mem_paging, _VPF_mem_access; sharing gets the next one). */
enum vm_event_kind {
	VM_EVENT_PAGING = 0,
	VM_EVENT_ACCESS = 1,
	VM_EVENT_SHARING = 2,
	VM_EVENT_NKINDS = 3
};
#define VM_EVENT_PAUSE_BIT(kind) (4u + (unsigned)(kind)) /* _VPF_mem_paging = 4 */

enum vm_event_mode {
	VM_EVENT_MODE_WAITQ = 0, /* after the seed */
	VM_EVENT_MODE_PAUSE = 1, /* before: mark-and-pause when full */
};

/* Test-only bug injection: each re-introduces a bug the seed's changelog
 * or review names, so the tests can show that a property reports it. */
enum vm_event_inject {
	/* v4: "fix off-by-one bug in _mem_event_put_request": a target put
	 * allowed while free == foreign claims (free < claimed instead of
	 * free <= claimed) takes a slot a foreign producer claimed. */
	VM_EVENT_INJECT_PUT_OFF_BY_ONE = 1 << 0,
	/* v2: "move vcpu_pause after put_request, otherwise the vcpu will
	 * not wake_up after a wait_event because the pause_count was
	 * increased twice. Fixes guest hangs." */
	VM_EVENT_INJECT_DOUBLE_PAUSE = 1 << 1,
	/* The foreign claim check off by one (<= for <): the last free slot
	 * goes to a foreign producer, none is left for the target guest. */
	VM_EVENT_INJECT_CLAIM_OFF_BY_ONE = 1 << 2,
	/* Resume frees slots but wakes no requester (a lost wake-up). */
	VM_EVENT_INJECT_NO_WAKE_REQUESTERS = 1 << 3,
	/* Enable/access resume do not wake vCPUs that slept for want of a
	 * listener (the reviewer's "why do we need wake_waiters?"). */
	VM_EVENT_INJECT_NO_WAKE_WAITERS = 1 << 4,
	/* Release decrements the foreign count whoever releases (the single
	 * req_producers counter before v5). */
	VM_EVENT_INJECT_RELEASE_FOREIGN = 1 << 5,
	/* A put that does not check for a free slot at all. */
	VM_EVENT_INJECT_NO_FULL_CHECK = 1 << 6,
	/* The seed's disable check alone: refused only while the wait queue
	 * is not empty (docs/seed-004.md: vCPUs woken but not yet run, and
	 * vCPUs waiting for a response, are left behind). */
	VM_EVENT_INJECT_DISABLE_WQ_ONLY = 1 << 7,
	/* The seed's mem_event_release_slot, which wakes nobody: a vCPU that
	 * sleeps because foreign producers claimed the free slots is not
	 * woken when they release them (later Xen: "Kick any waiters"). */
	VM_EVENT_INJECT_RELEASE_NO_WAKE = 1 << 8,
};

/* Request/response flags and types (mem_event.h). */
#define VM_EVENT_FLAG_VCPU_PAUSED (1u << 0)
#define VM_EVENT_FLAG_DROP_PAGE (1u << 1)
enum vm_event_type {
	VM_EVENT_TYPE_POPULATE = 1, /* paging: page the gfn in */
	VM_EVENT_TYPE_DROP = 2,     /* paging: the gfn was dropped */
	VM_EVENT_TYPE_ACCESS = 3,   /* access: a permission fault */
	VM_EVENT_TYPE_SHARED = 4,   /* sharing: unshare found no memory */
	/* Not a request: a populate that, after claiming its slot, finds the
	 * gfn already on its way back and releases the slot (Xen's
	 * p2m_mem_paging_populate, "gfn is already on its way back"). */
	VM_EVENT_TYPE_POPULATE_BACK = 5,
};

/* One slot: 4 x 64 bits (type<<32|flags, gfn, vcpu, request id). */
struct vm_event_req {
	uint32_t type, flags;
	uint64_t gfn;
	uint32_t vcpu_id;
	uint64_t id;
};

/* The shared page (public io/ring.h): req_prod, req_event, rsp_prod,
 * rsp_event (one 64-bit word each here: the platform moves 64-bit words),
 * private padding to 64 bytes, then the slots. */
#define VM_EVENT_SRING_REQ_PROD 0u
#define VM_EVENT_SRING_REQ_EVENT 8u
#define VM_EVENT_SRING_RSP_PROD 16u
#define VM_EVENT_SRING_RSP_EVENT 24u
#define VM_EVENT_SRING_SLOTS 64u
#define VM_EVENT_SLOT_BYTES 32u
/* __RING_SIZE: the largest power of two of slots that fit the page. */
#define VM_EVENT_MAX_SLOTS 64u

/* The wait queue holds only vCPUs of the ring's own domain. */
#define VM_EVENT_WQ_MAX HV_MAX_VCPUS

struct vm_event_ring {
	struct hv_domain *d;
	unsigned kind;
	bool enabled;
	uint64_t page;          /* the shared page's frame */
	uint32_t size;          /* slots, a power of two */
	uint32_t req_prod_pvt;  /* front ring: next request index */
	uint32_t rsp_cons;      /* front ring: responses consumed */
	int target_producers;   /* signed: the accounting bugs show as < 0 */
	int foreign_producers;
	unsigned bit;           /* pause-flag bit of this ring */
	struct hv_vcpu *wq[VM_EVENT_WQ_MAX]; /* FIFO of sleeping requesters */
	unsigned nwq;
	int woken;              /* woken from wq, not yet back in put */
	uint64_t next_id;       /* request ids */
	uint64_t claims, releases, puts, gets, notifies;
};

/* What the observer is told (the platform records each as an event). */
enum vm_event_what {
	VE_ENABLE = 1, VE_DISABLE, VE_DISABLE_BUSY,
	VE_CLAIM, VE_CLAIM_FULL, VE_CLAIM_NORING, VE_RELEASE,
	VE_PUT, VE_PUT_FAIL, VE_PUT_SLEEP, VE_GET,
	VE_WAKE_REQUESTERS, VE_WAKE_WAITERS, VE_MARK_SLEEP, VE_PAUSE_FULL,
	VE_PAUSE, VE_UNPAUSE, VE_NOTIFY,
	VE_WOKEN,  /* one vCPU woken (arg: 0 from the wait queue, 1 a flag) */
	VE_ROOM,   /* a sleeping vCPU now has room (or a listener) */
	VE__COUNT
};

typedef void (*vm_event_observer)(void *ctx, unsigned cpu, enum vm_event_what what,
                                  const struct vm_event_ring *r, const struct hv_vcpu *v,
                                  uint64_t arg);

/* Where a guest vCPU's event stands while it sleeps (Xen keeps this on
 * the sleeping vCPU's stack inside wait_event). */
enum vm_event_phase { VE_PHASE_IDLE = 0, VE_PHASE_CLAIM, VE_PHASE_PUT };

struct vm_event_cont {
	enum vm_event_phase phase;
	bool paused_early; /* VM_EVENT_INJECT_DOUBLE_PAUSE */
	bool woken;        /* woken from the wait queue, not yet back in put */
	struct vm_event_req req;
};

struct hv_vm_event {
	struct hv *hv;
	struct hv_pv *pv;
	enum vm_event_mode mode;
	unsigned inject;
	struct vm_event_ring ring[HV_MAX_DOMAINS][VM_EVENT_NKINDS];
	struct vm_event_cont cont[HV_MAX_DOMAINS][HV_MAX_VCPUS];
	vm_event_observer observe;
	void *observe_ctx;
};

/* Guest event outcomes. */
enum vm_event_rc {
	VE_DONE = 0,     /* request placed (and the vCPU paused if it must be) */
	VE_AGAIN = 1,    /* the vCPU sleeps; call again when it may run */
	VE_NO_RING = 2,  /* no listener: nothing sent (paging, sharing) */
	VE_LOST = 3,     /* before the seed: a drop not sent, the ring full */
	VE_RELEASED = 4, /* internal: the claimed slot was released */
};

void vm_event_init(struct hv_vm_event *ve, struct hv *hv, struct hv_pv *pv,
                   enum vm_event_mode mode, unsigned inject);
struct vm_event_ring *vm_event_ring_of(struct hv_vm_event *ve, unsigned domain, unsigned kind);

/* mem_event_enable: a zeroed page laid out as the shared ring of `slots`
 * (a power of two up to VM_EVENT_MAX_SLOTS); wakes the waiters. 0,
 * -EEXIST, -EINVAL, -ENOMEM. */
int vm_event_enable(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                    uint32_t slots);
/* mem_event_disable: -EBUSY while vCPUs wait on the queue, claimed
 * slots are outstanding or requests are unanswered; -ENOENT when not
 * enabled. */
int vm_event_disable(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r);

/* RING_FREE_REQUESTS of the front ring (negative only after a bug). */
int vm_event_free_requests(const struct vm_event_ring *r);

/* curr: the vCPU the hypervisor runs on behalf of; NULL or a vCPU of
 * another domain: a foreign producer. claim: < 0 no ring, 0 claimed,
 * > 0 full (a foreign caller tries again; before the seed a target vCPU
 * is paused with the ring's flag). */
int vm_event_claim_slot(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                        struct hv_vcpu *curr);
void vm_event_release_slot(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                           struct hv_vcpu *curr);
/* 0 placed; 1 no room, target: curr now sleeps on the wait queue;
 * -ENOSPC no room, foreign (the seed's "Failed to put memreq"); -ENOENT
 * the ring is gone. */
int vm_event_put_request(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                         struct hv_vcpu *curr, struct vm_event_req *req);
/* 1 and *rsp, or 0 when no response is waiting. */
int vm_event_get_response(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                          struct vm_event_req *rsp);
/* wake_up_nr(wq, free requests); every vCPU with the ring's flag. */
void vm_event_wake_requesters(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r);
void vm_event_wake_waiters(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r);
void vm_event_mark_and_sleep(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                             struct hv_vcpu *v);
/* The helper's resume hypercall (p2m_mem_paging_resume and friends):
 * every response consumed, the vCPUs they name unpaused, requesters
 * woken, and on the access ring the waiters too. Returns responses. */
unsigned vm_event_resume(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r);

/* A guest vCPU's event, as its fault handler raises it (populate: the
 * gfn is paged out; access: a permission fault; share: unsharing found
 * no memory; drop: the gfn was dropped while paged out). */
enum vm_event_rc vm_event_guest(struct hv_vm_event *ve, unsigned cpu, struct hv_vcpu *v,
                                unsigned kind, enum vm_event_type type, uint64_t gfn);
/* Pause/unpause through the observer (their counts are recorded). */
void vm_event_vcpu_pause(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                         struct hv_vcpu *v);
void vm_event_vcpu_unpause(struct hv_vm_event *ve, unsigned cpu, struct vm_event_ring *r,
                           struct hv_vcpu *v);

#endif
