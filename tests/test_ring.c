/* The vm_event rings (hv/vm_event, seed 004) against a fake arch of
 * their own: a few pages of memory the ring lives in, read back here
 * with the io/ring.h layout (never with the ring's helpers), and an
 * observer that logs what the hypervisor reports. One test per ring
 * operation, accounting rule and wake path; the helper's side (taking
 * requests, writing responses) is written here as a consumer would. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hv/vm_event/vm_event.h"
#include "tests/testutil.h"

#define NPAGES 8
#define PAGE 4096u
#define LOGMAX 512

struct fake {
	struct hv_arch arch;
	struct hv hv;
	struct hv_pv pv;
	struct hv_vm_event ve;
	uint64_t mem[NPAGES][PAGE / 8];
	bool used[NPAGES];
	unsigned nlog;
	struct {
		enum vm_event_what what;
		int vcpu; /* -1 none */
		uint64_t arg;
	} log[LOGMAX];
};

static struct fake F;

static uint64_t f_read64(void *ctx, uint64_t pa)
{
	(void)ctx;
	ck_assert_uint_lt(pa / PAGE, NPAGES);
	return F.mem[pa / PAGE][(pa % PAGE) / 8];
}

static void f_write64(void *ctx, unsigned cpu, uint64_t pa, uint64_t v)
{
	(void)ctx;
	(void)cpu;
	ck_assert_uint_lt(pa / PAGE, NPAGES);
	ck_assert_uint_eq(pa % 8, 0);
	F.mem[pa / PAGE][(pa % PAGE) / 8] = v;
}

static uint64_t f_alloc(void *ctx, unsigned cpu)
{
	(void)ctx;
	(void)cpu;
	for (unsigned i = 0; i < NPAGES; i++)
		if (!F.used[i]) {
			F.used[i] = true;
			memset(F.mem[i], 0xa5, PAGE); /* not zeroed: init must write */
			return i;
		}
	return HV_NO_FRAME;
}

static void f_free(void *ctx, unsigned cpu, uint64_t pfn)
{
	(void)ctx;
	(void)cpu;
	ck_assert(F.used[pfn]);
	F.used[pfn] = false;
}

static void f_caller(void *ctx, const char *fn)
{
	(void)ctx;
	(void)fn;
}

static void f_observe(void *ctx, unsigned cpu, enum vm_event_what what,
                      const struct vm_event_ring *r, const struct hv_vcpu *v, uint64_t arg)
{
	(void)ctx;
	(void)cpu;
	(void)r;
	ck_assert_uint_lt(F.nlog, LOGMAX);
	F.log[F.nlog].what = what;
	F.log[F.nlog].vcpu = v ? (int)(v->d->id * 16 + v->id) : -1;
	F.log[F.nlog].arg = arg;
	F.nlog++;
}

/* dom0 (1 vCPU) and domain 1 with 4 vCPUs, set up by hand: the rings
 * need only the domain/vCPU notions of hv/pv. */
static void setup_mode(enum vm_event_mode mode, unsigned inject)
{
	memset(&F, 0, sizeof(F));
	F.arch.read64 = f_read64;
	F.arch.write64 = f_write64;
	F.arch.alloc_frame = f_alloc;
	F.arch.free_frame = f_free;
	F.arch.caller = f_caller;
	F.hv.arch = &F.arch;
	F.pv.ndomains = 2;
	for (unsigned d = 0; d < 2; d++) {
		struct hv_domain *dom = &F.pv.dom[d];
		dom->id = d;
		dom->nvcpus = d ? 4 : 1;
		for (unsigned i = 0; i < dom->nvcpus; i++) {
			dom->vcpu[i].d = dom;
			dom->vcpu[i].id = i;
			dom->vcpu[i].cpu = -1;
			hv_vcpu_sched_init(&dom->vcpu[i].run);
		}
	}
	vm_event_init(&F.ve, &F.hv, &F.pv, mode, inject);
	F.ve.observe = f_observe;
}

static void setup(void)
{
	setup_mode(VM_EVENT_MODE_WAITQ, 0);
}

static struct vm_event_ring *ring(unsigned kind)
{
	return vm_event_ring_of(&F.ve, 1, kind);
}

static struct hv_vcpu *V(unsigned i)
{
	return &F.pv.dom[1].vcpu[i];
}

static struct hv_vcpu *dom0(void)
{
	return &F.pv.dom[0].vcpu[0];
}

/* The shared page as the consumer sees it (io/ring.h layout). */
static uint64_t sr(const struct vm_event_ring *r, unsigned off)
{
	return F.mem[r->page][off / 8];
}

static uint64_t slot_word(const struct vm_event_ring *r, uint32_t idx, unsigned w)
{
	return F.mem[r->page][(64 + (idx % r->size) * 32) / 8 + w];
}

/* The consumer: takes request idx and answers it into response slot
 * rsp (the same words), publishing rsp_prod = rsp + 1. */
static void respond(const struct vm_event_ring *r, uint32_t idx, uint32_t rsp)
{
	uint64_t w[4];
	for (unsigned i = 0; i < 4; i++)
		w[i] = slot_word(r, idx, i);
	for (unsigned i = 0; i < 4; i++)
		F.mem[r->page][(64 + (rsp % r->size) * 32) / 8 + i] = w[i];
	F.mem[r->page][16 / 8] = rsp + 1;
}

static unsigned count(enum vm_event_what what)
{
	unsigned n = 0;
	for (unsigned i = 0; i < F.nlog; i++)
		n += F.log[i].what == what;
	return n;
}

static struct vm_event_req req(uint32_t type, uint64_t gfn, uint32_t vcpu)
{
	return (struct vm_event_req){.type = type, .gfn = gfn, .vcpu_id = vcpu};
}

START_TEST(enable_lays_out_the_shared_ring)
{
	setup();
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	ck_assert_int_eq(vm_event_enable(&F.ve, 0, r, 3), -EINVAL);
	ck_assert_int_eq(vm_event_enable(&F.ve, 0, r, 128), -EINVAL);
	ck_assert_int_eq(vm_event_enable(&F.ve, 0, r, 8), 0);
	ck_assert_int_eq(vm_event_enable(&F.ve, 0, r, 8), -EEXIST);
	ck_assert(F.used[r->page]);
	/* SHARED_RING_INIT: producer indices 0, event thresholds 1. */
	ck_assert_uint_eq(sr(r, 0), 0);
	ck_assert_uint_eq(sr(r, 8), 1);
	ck_assert_uint_eq(sr(r, 16), 0);
	ck_assert_uint_eq(sr(r, 24), 1);
	ck_assert_int_eq(vm_event_free_requests(r), 8);
	ck_assert_uint_eq(count(VE_ENABLE), 1);
	/* Each ring its own pause flag; paging's is Xen's _VPF_mem_paging. */
	ck_assert_uint_eq(r->bit, 4);
	ck_assert_uint_ne(ring(VM_EVENT_ACCESS)->bit, r->bit);
	ck_assert_uint_ne(ring(VM_EVENT_SHARING)->bit, ring(VM_EVENT_ACCESS)->bit);
}
END_TEST

START_TEST(claim_counts_target_and_foreign)
{
	setup();
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	ck_assert_int_lt(vm_event_claim_slot(&F.ve, 0, r, V(0)), 0); /* no ring yet */
	ck_assert_uint_eq(count(VE_CLAIM_NORING), 1);
	vm_event_enable(&F.ve, 0, r, 4);
	/* A target vCPU always gets a claim: it sleeps in put if need be. */
	for (unsigned i = 0; i < 6; i++)
		ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, V(i % 4)), 0);
	ck_assert_int_eq(r->target_producers, 6);
	ck_assert_int_eq(r->foreign_producers, 0);
	/* A foreign one only while foreign + target + 1 < free. */
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 1);
	ck_assert_uint_eq(count(VE_CLAIM_FULL), 1);
	for (unsigned i = 0; i < 6; i++)
		vm_event_release_slot(&F.ve, 0, r, V(i % 4));
	ck_assert_int_eq(r->target_producers, 0);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 0);     /* 0+0+1 < 4 */
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, dom0()), 0);   /* 1+0+1 < 4 */
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 0);     /* 2+0+1 < 4 */
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 1);     /* 3+0+1 = 4: no */
	ck_assert_int_eq(r->foreign_producers, 3);
	/* One slot is always left for the guest. */
	ck_assert_int_eq(vm_event_free_requests(r) - r->foreign_producers - r->target_producers, 1);
	/* A target claim counts against foreign ones: 2+1+1 = 4, no. */
	vm_event_release_slot(&F.ve, 0, r, NULL);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, V(0)), 0);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 1);
	vm_event_release_slot(&F.ve, 0, r, V(0));
	vm_event_release_slot(&F.ve, 0, r, NULL);
	vm_event_release_slot(&F.ve, 0, r, dom0()); /* dom0 is foreign to domain 1 */
	ck_assert_int_eq(r->foreign_producers, 0);
	ck_assert_uint_eq(r->claims, 10);
	ck_assert_uint_eq(r->releases, 10);
}
END_TEST

START_TEST(put_writes_the_slot_and_notifies)
{
	setup();
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	vm_event_enable(&F.ve, 0, r, 4);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, V(2)), 0);
	struct vm_event_req q = req(VM_EVENT_TYPE_POPULATE, 0x1234, 2);
	q.flags = VM_EVENT_FLAG_VCPU_PAUSED;
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, V(2), &q), 0);
	ck_assert_int_eq(r->target_producers, 0);
	ck_assert_uint_eq(sr(r, 0), 1); /* req_prod published */
	ck_assert_uint_eq(slot_word(r, 0, 0), (uint64_t)VM_EVENT_TYPE_POPULATE << 32 |
	                                          VM_EVENT_FLAG_VCPU_PAUSED);
	ck_assert_uint_eq(slot_word(r, 0, 1), 0x1234);
	ck_assert_uint_eq(slot_word(r, 0, 2), 2);
	ck_assert_uint_eq(slot_word(r, 0, 3), q.id);
	ck_assert_uint_eq(count(VE_NOTIFY), 1); /* req_prod crossed req_event 1 */
	/* The consumer has not asked for another notification (req_event
	 * still 1): the next request is not notified... */
	vm_event_claim_slot(&F.ve, 0, r, V(1));
	struct vm_event_req q2 = req(VM_EVENT_TYPE_DROP, 0x99, 1);
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, V(1), &q2), 0);
	ck_assert_uint_eq(count(VE_NOTIFY), 1);
	ck_assert_uint_eq(slot_word(r, 1, 1), 0x99);
	ck_assert_uint_gt(q2.id, q.id);
	/* ...until its final check sets req_event past what it consumed. */
	F.mem[r->page][1] = 3;
	vm_event_claim_slot(&F.ve, 0, r, NULL);
	struct vm_event_req q3 = req(VM_EVENT_TYPE_POPULATE, 0x77, 0);
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, NULL, &q3), 0);
	ck_assert_uint_eq(count(VE_NOTIFY), 2);
	ck_assert_int_eq(vm_event_free_requests(r), 1);
}
END_TEST

START_TEST(target_put_leaves_foreign_claims_their_slots)
{
	setup();
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	vm_event_enable(&F.ve, 0, r, 4);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 0);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 0);
	struct vm_event_req q = req(VM_EVENT_TYPE_DROP, 1, 0);
	/* free 4 > 2 claimed, 3 > 2: placed; free 2 <= 2: the vCPU sleeps. */
	for (unsigned i = 0; i < 2; i++) {
		vm_event_claim_slot(&F.ve, 0, r, V(i));
		ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, V(i), &q), 0);
	}
	vm_event_claim_slot(&F.ve, 0, r, V(2));
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, V(2), &q), 1);
	ck_assert_int_eq(V(2)->run.waitq, VM_EVENT_PAGING);
	ck_assert(!hv_vcpu_runnable(&V(2)->run));
	ck_assert_uint_eq(hv_vcpu_runstate(&V(2)->run), HV_BLOCKED);
	ck_assert_uint_eq(r->nwq, 1);
	/* Both foreign puts succeed: their slots were kept. */
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, NULL, &q), 0);
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, NULL, &q), 0);
	ck_assert_uint_eq(count(VE_PUT_FAIL), 0);
	ck_assert_int_eq(vm_event_free_requests(r), 0);
	/* A foreign put without a slot fails (it cannot sleep). */
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, NULL, &q), -ENOSPC);
	ck_assert_uint_eq(count(VE_PUT_FAIL), 1);
	ck_assert_int_eq(vm_event_free_requests(r), 0); /* never overflows */
}
END_TEST

START_TEST(get_response_consumes_in_order)
{
	setup();
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	vm_event_enable(&F.ve, 0, r, 4);
	struct vm_event_req q = req(VM_EVENT_TYPE_POPULATE, 0x10, 1), rsp;
	for (unsigned i = 0; i < 3; i++) {
		vm_event_claim_slot(&F.ve, 0, r, V(1));
		q.gfn = 0x10 + i;
		vm_event_put_request(&F.ve, 0, r, V(1), &q);
	}
	ck_assert_int_eq(vm_event_get_response(&F.ve, 0, r, &rsp), 0); /* none yet */
	respond(r, 0, 0);
	respond(r, 1, 1);
	ck_assert_int_eq(vm_event_get_response(&F.ve, 0, r, &rsp), 1);
	ck_assert_uint_eq(rsp.gfn, 0x10);
	ck_assert_uint_eq(rsp.vcpu_id, 1);
	ck_assert_int_eq(vm_event_get_response(&F.ve, 0, r, &rsp), 1);
	ck_assert_uint_eq(rsp.gfn, 0x11);
	ck_assert_int_eq(vm_event_get_response(&F.ve, 0, r, &rsp), 0);
	ck_assert_uint_eq(r->rsp_cons, 2);
	ck_assert_uint_eq(sr(r, 24), 3); /* rsp_event: one past consumed */
	ck_assert_int_eq(vm_event_free_requests(r), 3);
}
END_TEST

/* Fill a 2-slot ring and put n more vCPUs to sleep on its wait queue. */
static void fill_and_sleep(struct vm_event_ring *r, unsigned n)
{
	struct vm_event_req q = req(VM_EVENT_TYPE_DROP, 1, 0);
	for (unsigned i = 0; i < 2 + n; i++) {
		vm_event_claim_slot(&F.ve, 0, r, V(i));
		int rc = vm_event_put_request(&F.ve, 0, r, V(i), &q);
		ck_assert_int_eq(rc, i < 2 ? 0 : 1);
	}
	ck_assert_uint_eq(r->nwq, n);
}

START_TEST(wake_requesters_wakes_only_as_many_as_free_slots)
{
	setup();
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	vm_event_enable(&F.ve, 0, r, 2);
	fill_and_sleep(r, 2);
	vm_event_wake_requesters(&F.ve, 0, r); /* no free slot: nobody */
	ck_assert_uint_eq(r->nwq, 2);
	respond(r, 0, 0);
	struct vm_event_req rsp;
	vm_event_get_response(&F.ve, 0, r, &rsp);
	vm_event_wake_requesters(&F.ve, 0, r); /* one slot: the first sleeper */
	ck_assert_uint_eq(r->nwq, 1);
	ck_assert(hv_vcpu_runnable(&V(2)->run));
	ck_assert(!hv_vcpu_runnable(&V(3)->run));
	ck_assert_uint_eq(F.log[F.nlog - 2].what, VE_WOKEN);
	ck_assert_int_eq(F.log[F.nlog - 2].vcpu, 16 + 2);
	/* The woken vCPU retries its put and gets the slot. */
	struct vm_event_req q = req(VM_EVENT_TYPE_DROP, 2, 2);
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, V(2), &q), 0);
	ck_assert_int_eq(r->woken, 0);
	ck_assert_int_eq(r->target_producers, 1); /* V(3)'s claim */
}
END_TEST

START_TEST(wake_waiters_wakes_every_flagged_vcpu_of_its_ring)
{
	setup();
	struct vm_event_ring *acc = ring(VM_EVENT_ACCESS);
	/* No listener: access faults mark and sleep. */
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(i), VM_EVENT_ACCESS, VM_EVENT_TYPE_ACCESS,
		                                0x100 + i), VE_AGAIN);
	/* Another ring's flag is not woken by this ring. */
	hv_vcpu_mark_sleep(&V(3)->run, ring(VM_EVENT_SHARING)->bit);
	ck_assert_uint_eq(count(VE_MARK_SLEEP), 3);
	for (unsigned i = 0; i < 4; i++)
		ck_assert(!hv_vcpu_runnable(&V(i)->run));
	/* Enabling the ring wakes them (mem_event_enable -> wake_waiters). */
	ck_assert_int_eq(vm_event_enable(&F.ve, 0, acc, 4), 0);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(hv_vcpu_runnable(&V(i)->run));
	ck_assert(!hv_vcpu_runnable(&V(3)->run));
	ck_assert_uint_eq(count(VE_ROOM), 3);
	/* They retry the access: now a request each, then paused. */
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(i), VM_EVENT_ACCESS, VM_EVENT_TYPE_ACCESS,
		                                0x100 + i), VE_DONE);
		ck_assert_int_eq(V(i)->run.pause_count, 1);
	}
	ck_assert_uint_eq(sr(acc, 0), 3);
}
END_TEST

START_TEST(resume_unpauses_and_balances_pause_counts)
{
	setup();
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	vm_event_enable(&F.ve, 0, r, 4);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(i), VM_EVENT_PAGING,
		                                VM_EVENT_TYPE_POPULATE, 0x10 + i), VE_DONE);
	/* A drop does not pause. */
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(3), VM_EVENT_PAGING, VM_EVENT_TYPE_DROP, 0x99),
	                 VE_DONE);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(hv_vcpu_runstate(&V(i)->run), HV_PAUSED);
	ck_assert(hv_vcpu_runnable(&V(3)->run));
	for (unsigned i = 0; i < 4; i++)
		respond(r, i, i);
	ck_assert_uint_eq(vm_event_resume(&F.ve, 0, r), 4);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(V(i)->run.pause_count, 0);
		ck_assert(hv_vcpu_runnable(&V(i)->run));
	}
	ck_assert_uint_eq(count(VE_PAUSE), 3);
	ck_assert_uint_eq(count(VE_UNPAUSE), 3);
	/* Populate with the gfn already on its way back: claim, release. */
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(0), VM_EVENT_PAGING,
	                                VM_EVENT_TYPE_POPULATE_BACK, 0x10), VE_DONE);
	ck_assert_int_eq(r->target_producers, 0);
	ck_assert_uint_eq(r->claims, r->puts + r->releases);
	ck_assert(hv_vcpu_runnable(&V(0)->run));
}
END_TEST

START_TEST(share_and_populate_without_a_listener_do_not_sleep)
{
	setup();
	/* Only an access fault sleeps for want of a listener; a populate or
	 * an unshare with no ring simply sends nothing. */
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(0), VM_EVENT_SHARING, VM_EVENT_TYPE_SHARED, 7),
	                 VE_NO_RING);
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(1), VM_EVENT_PAGING, VM_EVENT_TYPE_POPULATE, 8),
	                 VE_NO_RING);
	ck_assert(hv_vcpu_runnable(&V(0)->run));
	ck_assert(hv_vcpu_runnable(&V(1)->run));
	ck_assert_uint_eq(count(VE_MARK_SLEEP), 0);
	/* With the sharing ring: a request with VCPU_PAUSED, the vCPU paused
	 * after the put (mem_sharing_notify_helper). */
	struct vm_event_ring *r = ring(VM_EVENT_SHARING);
	vm_event_enable(&F.ve, 0, r, 2);
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(0), VM_EVENT_SHARING, VM_EVENT_TYPE_SHARED, 7),
	                 VE_DONE);
	ck_assert_uint_eq(slot_word(r, 0, 0), (uint64_t)VM_EVENT_TYPE_SHARED << 32 |
	                                          VM_EVENT_FLAG_VCPU_PAUSED);
	ck_assert_uint_eq(slot_word(r, 0, 1), 7);
	ck_assert_uint_eq(hv_vcpu_runstate(&V(0)->run), HV_PAUSED);
	respond(r, 0, 0);
	vm_event_resume(&F.ve, 0, r);
	ck_assert(hv_vcpu_runnable(&V(0)->run));
	/* The other rings were never touched. */
	ck_assert_uint_eq(ring(VM_EVENT_PAGING)->claims, 0);
	ck_assert(!ring(VM_EVENT_ACCESS)->enabled);
}
END_TEST

START_TEST(disable_refused_while_anyone_waits)
{
	setup();
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	ck_assert_int_eq(vm_event_disable(&F.ve, 0, r), -ENOENT);
	vm_event_enable(&F.ve, 0, r, 2);
	uint64_t page = r->page;
	fill_and_sleep(r, 1);
	ck_assert_int_eq(vm_event_disable(&F.ve, 0, r), -EBUSY); /* a sleeper */
	respond(r, 0, 0);
	respond(r, 1, 1);
	vm_event_resume(&F.ve, 0, r); /* wakes V(2), which still holds a claim */
	ck_assert_uint_eq(r->nwq, 0);
	ck_assert_int_eq(vm_event_disable(&F.ve, 0, r), -EBUSY); /* its claim */
	struct vm_event_req q = req(VM_EVENT_TYPE_DROP, 3, 2);
	ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, V(2), &q), 0);
	ck_assert_int_eq(vm_event_disable(&F.ve, 0, r), -EBUSY); /* unanswered */
	respond(r, 2, 2);
	vm_event_resume(&F.ve, 0, r);
	ck_assert_int_eq(vm_event_disable(&F.ve, 0, r), 0);
	ck_assert(!F.used[page]);
	ck_assert(!r->enabled);
	ck_assert_uint_eq(count(VE_DISABLE_BUSY), 3);
	ck_assert_int_lt(vm_event_claim_slot(&F.ve, 0, r, V(0)), 0);
}
END_TEST

START_TEST(pause_mode_pauses_on_full_and_wakes_all)
{
	setup_mode(VM_EVENT_MODE_PAUSE, 0);
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	vm_event_enable(&F.ve, 0, r, 2);
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(0), 0, VM_EVENT_TYPE_POPULATE, 1), VE_DONE);
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(1), 0, VM_EVENT_TYPE_POPULATE, 2), VE_DONE);
	/* Full: the claim pauses the vCPU with the ring's flag. */
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(2), 0, VM_EVENT_TYPE_POPULATE, 3), VE_AGAIN);
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(3), 0, VM_EVENT_TYPE_POPULATE, 4), VE_AGAIN);
	ck_assert_uint_eq(count(VE_PAUSE_FULL), 2);
	ck_assert_uint_eq(V(2)->run.pause_flags, 1u << r->bit);
	ck_assert_uint_eq(r->nwq, 0); /* no wait queue before the seed */
	/* A dropped page with a full ring is lost ("harmless inconsistency
	 * in the pager"), and the vCPU paused too. */
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, dom0(), 0, VM_EVENT_TYPE_DROP, 5), VE_NO_RING);
	/* One response: every flagged vCPU is unpaused, and races. */
	respond(r, 0, 0);
	vm_event_resume(&F.ve, 0, r);
	ck_assert(hv_vcpu_runnable(&V(2)->run));
	ck_assert(hv_vcpu_runnable(&V(3)->run));
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(2), 0, VM_EVENT_TYPE_POPULATE, 3), VE_DONE);
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(3), 0, VM_EVENT_TYPE_POPULATE, 4), VE_AGAIN);
	/* A foreign producer may take the last slot: no room kept. */
	setup_mode(VM_EVENT_MODE_PAUSE, 0);
	r = ring(VM_EVENT_PAGING);
	vm_event_enable(&F.ve, 0, r, 2);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 0);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 0);
	ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, V(0)), 1);
}
END_TEST

/* The changelog's bugs, injected at this level: what each does to the
 * ring (the properties' reports are in tests/test_ring_mutations.c). */
START_TEST(mutation_put_off_by_one_takes_a_foreign_slot)
{
	for (unsigned bug = 0; bug < 2; bug++) {
		setup_mode(VM_EVENT_MODE_WAITQ, bug ? VM_EVENT_INJECT_PUT_OFF_BY_ONE : 0);
		struct vm_event_ring *r = ring(VM_EVENT_PAGING);
		vm_event_enable(&F.ve, 0, r, 4);
		vm_event_claim_slot(&F.ve, 0, r, NULL);
		vm_event_claim_slot(&F.ve, 0, r, NULL);
		struct vm_event_req q = req(VM_EVENT_TYPE_DROP, 1, 0);
		for (unsigned i = 0; i < 3; i++) {
			vm_event_claim_slot(&F.ve, 0, r, V(i));
			vm_event_put_request(&F.ve, 0, r, V(i), &q);
		}
		int a = vm_event_put_request(&F.ve, 0, r, NULL, &q);
		int b = vm_event_put_request(&F.ve, 0, r, NULL, &q);
		ck_assert_int_eq(a, 0);
		ck_assert_int_eq(b, bug ? -ENOSPC : 0); /* the claimed slot was taken */
		ck_assert_uint_eq(count(VE_PUT_FAIL), bug);
	}
}
END_TEST

START_TEST(mutation_double_pause_hangs_the_vcpu)
{
	for (unsigned bug = 0; bug < 2; bug++) {
		setup_mode(VM_EVENT_MODE_WAITQ, bug ? VM_EVENT_INJECT_DOUBLE_PAUSE : 0);
		struct vm_event_ring *r = ring(VM_EVENT_PAGING);
		vm_event_enable(&F.ve, 0, r, 2);
		vm_event_guest(&F.ve, 0, V(0), 0, VM_EVENT_TYPE_POPULATE, 1);
		vm_event_guest(&F.ve, 0, V(1), 0, VM_EVENT_TYPE_POPULATE, 2);
		ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(2), 0, VM_EVENT_TYPE_POPULATE, 3),
		                 VE_AGAIN); /* asleep on the wait queue */
		respond(r, 0, 0);
		vm_event_resume(&F.ve, 0, r);
		ck_assert_int_eq(V(2)->run.waitq, HV_NO_WAITQ); /* woken either way */
		/* With the bug its pause count is up: it cannot run to put. */
		ck_assert_int_eq(hv_vcpu_runnable(&V(2)->run), !bug);
		ck_assert_int_eq(V(2)->run.pause_count, bug);
	}
}
END_TEST

/* A released foreign claim is room for a sleeper: later Xen kicks the
 * waiters; the seed's release_slot did not (VM_EVENT_INJECT_RELEASE_NO_WAKE). */
START_TEST(release_wakes_requesters)
{
	for (unsigned bug = 0; bug < 2; bug++) {
		setup_mode(VM_EVENT_MODE_WAITQ, bug ? VM_EVENT_INJECT_RELEASE_NO_WAKE : 0);
		struct vm_event_ring *r = ring(VM_EVENT_PAGING);
		vm_event_enable(&F.ve, 0, r, 4);
		for (unsigned i = 0; i < 3; i++)
			ck_assert_int_eq(vm_event_claim_slot(&F.ve, 0, r, NULL), 0);
		struct vm_event_req q = req(VM_EVENT_TYPE_DROP, 1, 0);
		vm_event_claim_slot(&F.ve, 0, r, V(0));
		ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, V(0), &q), 0);
		vm_event_claim_slot(&F.ve, 0, r, V(0));
		ck_assert_int_eq(vm_event_put_request(&F.ve, 0, r, V(0), &q), 1); /* 3 <= 3 */
		vm_event_release_slot(&F.ve, 0, r, NULL);
		ck_assert_uint_eq(count(VE_ROOM), 1);
		ck_assert_int_eq(hv_vcpu_runnable(&V(0)->run), !bug);
		ck_assert_uint_eq(r->nwq, bug);
	}
	/* Before the seed a release unpauses nobody either. */
	setup_mode(VM_EVENT_MODE_PAUSE, 0);
	struct vm_event_ring *r = ring(VM_EVENT_PAGING);
	vm_event_enable(&F.ve, 0, r, 2);
	vm_event_claim_slot(&F.ve, 0, r, NULL);
	vm_event_claim_slot(&F.ve, 0, r, NULL);
	ck_assert_int_eq(vm_event_guest(&F.ve, 0, V(1), 0, VM_EVENT_TYPE_POPULATE, 1), VE_AGAIN);
	vm_event_release_slot(&F.ve, 0, r, NULL);
	vm_event_release_slot(&F.ve, 0, r, NULL);
	ck_assert(!hv_vcpu_runnable(&V(1)->run));
	ck_assert_uint_eq(count(VE_ROOM), 2); /* it had room, twice */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ops");
	tcase_add_test(tc, enable_lays_out_the_shared_ring);
	tcase_add_test(tc, claim_counts_target_and_foreign);
	tcase_add_test(tc, put_writes_the_slot_and_notifies);
	tcase_add_test(tc, target_put_leaves_foreign_claims_their_slots);
	tcase_add_test(tc, get_response_consumes_in_order);
	tcase_add_test(tc, wake_requesters_wakes_only_as_many_as_free_slots);
	tcase_add_test(tc, wake_waiters_wakes_every_flagged_vcpu_of_its_ring);
	tcase_add_test(tc, resume_unpauses_and_balances_pause_counts);
	tcase_add_test(tc, share_and_populate_without_a_listener_do_not_sleep);
	tcase_add_test(tc, disable_refused_while_anyone_waits);
	tcase_add_test(tc, pause_mode_pauses_on_full_and_wakes_all);
	tcase_add_test(tc, release_wakes_requesters);
	tcase_add_test(tc, mutation_put_off_by_one_takes_a_foreign_slot);
	tcase_add_test(tc, mutation_double_pause_hangs_the_vcpu);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(suite());
}
