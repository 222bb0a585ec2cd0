/* 64-bit PV domains (seed 003): vCPUs with a guest kernel and a guest
 * user page table that share the hypervisor's slots; context switches
 * (write_ptbase), guest kernel/user toggling, guest entry and exit, and
 * XPTI's per-CPU restricted root page table used while a guest runs. */
#ifndef HVSIM_HV_PV_PV_H
#define HVSIM_HV_PV_PV_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/hv.h"
#include "hv/pv/pcid.h"
#include "hv/sched.h"

#define HV_MAX_DOMAINS 16
#define HV_MAX_VCPUS 8

/* The hypervisor's L4 slots (Xen reserves 256..271: 0xffff800000000000 up
 * to 0xffff87ffffffffff); every guest L4 carries copies of them. */
#define HV_SLOT_FIRST 256u
#define HV_SLOT_LAST 271u
/* Where XPTI keeps the entry stub: the only hypervisor page the
 * restricted root maps (Xen's entry trampoline). */
#define XPTI_STUB_VA 0xffff82d080000000ull

struct hv_domain;

struct hv_vcpu {
	struct hv_domain *d;
	unsigned id;
	uint64_t kernel_root, user_root; /* guest L4 tables (pfn) */
	bool kernel_mode;
	int cpu;                         /* where it runs, -1 if not */
	struct hv_vcpu_sched run;        /* pause count and flags (seed 004) */
};

struct hv_domain {
	unsigned id;
	bool xpti; /* subject to XPTI */
	bool pcid; /* uses PCID (pcid_domain_init) */
	unsigned nvcpus;
	struct hv_vcpu vcpu[HV_MAX_VCPUS];
	struct hv_cpumask dirty; /* CPUs that ran it since its last flush */
};

struct hv_pcpu {
	uint64_t root_pgt;   /* XPTI restricted root (pfn) */
	struct hv_vcpu *curr; /* NULL: idle */
	bool in_guest;
};

struct hv_pv {
	enum hv_pcid_policy policy;
	bool xpti_default;
	uint64_t stub_pfn;  /* the entry stub's frame */
	unsigned ndomains;
	struct hv_domain dom[HV_MAX_DOMAINS];
	struct hv_pcpu pcpu[HV_MAX_CPUS];
	uint64_t syscalls, switches, copies;
};

int hv_pv_init(struct hv *hv, struct hv_pv *pv, enum hv_pcid_policy policy, bool xpti);
/* A domain of nvcpus vCPUs (all in user mode). Returns its id or < 0. */
int hv_domain_create(struct hv *hv, struct hv_pv *pv, unsigned cpu, unsigned nvcpus, bool xpti);
/* Context switch of `cpu` to v (write_ptbase) and entry into the guest. */
int hv_vcpu_run(struct hv *hv, struct hv_pv *pv, unsigned cpu, struct hv_vcpu *v);
/* Context switch to the idle page table. */
int hv_switch_idle(struct hv *hv, struct hv_pv *pv, unsigned cpu);
/* The running guest's system call: user -> kernel -> user, each way
 * through the hypervisor (entry, toggle_guest_mode, exit). Between the two
 * halves the guest kernel runs (the caller's accesses). half: 0 = the
 * call (user -> kernel), 1 = the return (kernel -> user). */
int hv_syscall(struct hv *hv, struct hv_pv *pv, unsigned cpu, int half);
/* mmu_update: the running guest maps va -> pa in its kernel (or user)
 * table, then the domain's dirty CPUs flush va. */
int hv_guest_map(struct hv *hv, struct hv_pv *pv, unsigned cpu, uint64_t va, uint64_t pa,
                 uint64_t flags, bool user);

/* The CR3 value a vCPU's hypervisor-side address space has (make_cr3). */
uint64_t hv_vcpu_cr3(const struct hv_vcpu *v);

#endif
