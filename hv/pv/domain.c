/* 64-bit PV domains, context switches, guest mode toggling, guest entry
 * and exit with XPTI, the system-call path and guest page-table updates
 * (seed 003; Xen's pv/domain.c, mm.c write_ptbase, flushtlb.c). */
#include "hv/pv/pv.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hv/mm/page.h"
#include "hv/mm/pt.h"

static bool guest_slot(unsigned i)
{
	return i < HV_SLOT_FIRST || i > HV_SLOT_LAST;
}

static uint64_t frame(struct hv *hv, unsigned cpu)
{
	uint64_t pfn = hv->arch->alloc_frame(hv->arch->ctx, cpu);
	if (pfn == HV_NO_FRAME)
		hv->error = -ENOMEM;
	return pfn;
}

/* A guest L4: empty guest slots, the hypervisor's slots shared. */
static uint64_t new_guest_l4(struct hv *hv, unsigned cpu)
{
	uint64_t l4 = frame(hv, cpu);
	if (l4 == HV_NO_FRAME)
		return l4;
	for (unsigned i = HV_SLOT_FIRST; i <= HV_SLOT_LAST; i++)
		pt_write(hv, cpu, pt_entry_pa(l4, i), pt_read(hv, pt_entry_pa(hv->root_pfn, i)));
	return l4;
}

int hv_pv_init(struct hv *hv, struct hv_pv *pv, enum hv_pcid_policy policy, bool xpti)
{
	memset(pv, 0, sizeof(*pv));
	pv->policy = policy;
	pv->xpti_default = xpti;
	pv->stub_pfn = HV_NO_FRAME;
	(void)hv;
	return 0;
}

/* XPTI's entry stub and per-CPU restricted roots, made when the first
 * domain subject to XPTI is created. */
static int xpti_setup(struct hv *hv, struct hv_pv *pv)
{
	if (pv->stub_pfn != HV_NO_FRAME)
		return 0;
	hv->cfg.xpti = true; /* single-address flushes must reach XPTI PCIDs */
	hv->arch->caller(hv->arch->ctx, "xpti_init");
	pv->stub_pfn = frame(hv, 0);
	int rc = pv->stub_pfn == HV_NO_FRAME ? -ENOMEM
	                                     : hv_map_pages(hv, 0, XPTI_STUB_VA, pv->stub_pfn, 1,
	                                                    __PAGE_HYPERVISOR_RW & ~_PAGE_NX);
	/* The per-CPU restricted roots: the entry stub's slot and nothing
	 * else of the hypervisor (the stub's L4 slot holds only the stub). */
	for (unsigned c = 0; c < hv->arch->ncpus && !rc; c++) {
		pv->pcpu[c].root_pgt = pt_alloc(hv, 0);
		if (pv->pcpu[c].root_pgt == HV_NO_FRAME) {
			rc = -ENOMEM;
			break;
		}
		hv->pt.live--; /* permanent, like the idle root */
		unsigned slot = table_offset(XPTI_STUB_VA, L4_PAGETABLE_SHIFT);
		pt_write(hv, 0, pt_entry_pa(pv->pcpu[c].root_pgt, slot),
		         pt_read(hv, pt_entry_pa(hv->root_pfn, slot)));
	}
	hv->arch->caller(hv->arch->ctx, NULL);
	return rc;
}

int hv_domain_create(struct hv *hv, struct hv_pv *pv, unsigned cpu, unsigned nvcpus, bool xpti)
{
	if (pv->ndomains == HV_MAX_DOMAINS || nvcpus == 0 || nvcpus > HV_MAX_VCPUS)
		return -EINVAL;
	struct hv_domain *d = &pv->dom[pv->ndomains];
	memset(d, 0, sizeof(*d));
	d->id = pv->ndomains;
	d->xpti = xpti;
	d->pcid = hv_pcid_domain_uses(hv, pv->policy, xpti);
	if (xpti) {
		int rc = xpti_setup(hv, pv);
		if (rc)
			return rc;
	}
	d->nvcpus = nvcpus;
	hv->arch->caller(hv->arch->ctx, "domain_create");
	for (unsigned i = 0; i < nvcpus; i++) {
		struct hv_vcpu *v = &d->vcpu[i];
		v->d = d;
		v->id = i;
		v->cpu = -1;
		hv_vcpu_sched_init(&v->run);
		v->kernel_root = new_guest_l4(hv, cpu);
		v->user_root = new_guest_l4(hv, cpu);
		if (v->kernel_root == HV_NO_FRAME || v->user_root == HV_NO_FRAME) {
			hv->arch->caller(hv->arch->ctx, NULL);
			return -ENOMEM;
		}
	}
	hv->arch->caller(hv->arch->ctx, NULL);
	return (int)pv->ndomains++;
}

static uint64_t vcpu_root(const struct hv_vcpu *v)
{
	return v->kernel_mode ? v->kernel_root : v->user_root;
}

uint64_t hv_vcpu_cr3(const struct hv_vcpu *v)
{
	uint64_t cr3 = vcpu_root(v) << PAGE_SHIFT;
	if (v->d->pcid)
		cr3 |= hv_pcid_bits(v->kernel_mode, false);
	return cr3;
}

/* Under XPTI the guest runs on the CPU's restricted root: its guest slots
 * refreshed from the vCPU's current L4, and the entry stub. */
static int exit_to_guest(struct hv *hv, struct hv_pv *pv, unsigned cpu)
{
	struct hv_pcpu *pc = &pv->pcpu[cpu];
	struct hv_vcpu *v = pc->curr;
	const struct hv_arch *a = hv->arch;
	pc->in_guest = true;
	if (!v->d->xpti)
		return 0; /* the guest runs on its own L4 (with the hv slots) */
	a->caller(a->ctx, "restore_all_guest");
	bool leak = hv->cfg.inject & HV_INJECT_XPTI_LEAK;
	for (unsigned i = 0; i < 512; i++) {
		if (!guest_slot(i) && !leak)
			continue;
		uint64_t want = pt_read(hv, pt_entry_pa(vcpu_root(v), i));
		uint64_t epa = pt_entry_pa(pc->root_pgt, i);
		if (pt_read(hv, epa) != want) {
			pt_write(hv, cpu, epa, want);
			pv->copies++;
		}
	}
	uint64_t cr3 = pc->root_pgt << PAGE_SHIFT;
	if (v->d->pcid)
		cr3 |= hv_pcid_bits(v->kernel_mode, true) | X86_CR3_NOFLUSH;
	int rc = a->write_cr3(a->ctx, cpu, cr3);
	a->caller(a->ctx, NULL);
	return rc;
}

/* From the guest into the hypervisor: under XPTI, onto the vCPU's full
 * address space (the guest's L4 with the hypervisor's slots). */
static int entry_from_guest(struct hv *hv, struct hv_pv *pv, unsigned cpu)
{
	struct hv_pcpu *pc = &pv->pcpu[cpu];
	struct hv_vcpu *v = pc->curr;
	pc->in_guest = false;
	if (!v->d->xpti)
		return 0;
	const struct hv_arch *a = hv->arch;
	a->caller(a->ctx, "xpti_entry");
	uint64_t cr3 = hv_vcpu_cr3(v) | (v->d->pcid ? X86_CR3_NOFLUSH : 0);
	int rc = a->write_cr3(a->ctx, cpu, cr3);
	a->caller(a->ctx, NULL);
	return rc;
}

/* _toggle_guest_pt: the other guest mode's page table, without flushing
 * (NOFLUSH with PCID; without, a plain CR3 write that keeps globals). */
static int toggle_guest_mode(struct hv *hv, unsigned cpu, struct hv_vcpu *v)
{
	const struct hv_arch *a = hv->arch;
	v->kernel_mode = !v->kernel_mode;
	a->caller(a->ctx, "toggle_guest_pt");
	uint64_t cr3 = hv_vcpu_cr3(v) | (v->d->pcid ? X86_CR3_NOFLUSH : 0);
	int rc = a->write_cr3(a->ctx, cpu, cr3);
	a->caller(a->ctx, NULL);
	return rc;
}

int hv_vcpu_run(struct hv *hv, struct hv_pv *pv, unsigned cpu, struct hv_vcpu *v)
{
	struct hv_pcpu *pc = &pv->pcpu[cpu];
	if (v->cpu >= 0 && v->cpu != (int)cpu)
		return -EBUSY; /* running elsewhere */
	if (pc->curr && pc->curr != v)
		pc->curr->cpu = -1;
	const struct hv_arch *a = hv->arch;
	a->caller(a->ctx, "write_ptbase");
	uint64_t cr4 = hv_guest_real_cr4(a->read_cr4(a->ctx, cpu), v->d->xpti, v->d->pcid);
	int rc = hv_write_cr3_cr4(hv, cpu, hv_vcpu_cr3(v), cr4);
	a->caller(a->ctx, NULL);
	if (rc)
		return rc;
	pc->curr = v;
	v->cpu = (int)cpu;
	hv_cpumask_set(&v->d->dirty, cpu);
	pv->switches++;
	return exit_to_guest(hv, pv, cpu);
}

int hv_switch_idle(struct hv *hv, struct hv_pv *pv, unsigned cpu)
{
	struct hv_pcpu *pc = &pv->pcpu[cpu];
	const struct hv_arch *a = hv->arch;
	if (pc->curr)
		pc->curr->cpu = -1;
	pc->curr = NULL;
	pc->in_guest = false;
	a->caller(a->ctx, "write_ptbase");
	uint64_t cr4 = a->read_cr4(a->ctx, cpu) & ~X86_CR4_PCIDE;
	if (hv->use_pge)
		cr4 |= X86_CR4_PGE;
	int rc = hv_write_cr3_cr4(hv, cpu, hv->root_pfn << PAGE_SHIFT, cr4);
	a->caller(a->ctx, NULL);
	pv->switches++;
	return rc;
}

int hv_syscall(struct hv *hv, struct hv_pv *pv, unsigned cpu, int half)
{
	struct hv_vcpu *v = pv->pcpu[cpu].curr;
	if (!v || !pv->pcpu[cpu].in_guest || v->kernel_mode != (half != 0))
		return -EINVAL;
	int rc = entry_from_guest(hv, pv, cpu);
	if (!rc)
		rc = toggle_guest_mode(hv, cpu, v);
	if (!rc)
		rc = exit_to_guest(hv, pv, cpu);
	if (half == 0)
		pv->syscalls++;
	return rc;
}

int hv_guest_map(struct hv *hv, struct hv_pv *pv, unsigned cpu, uint64_t va, uint64_t pa,
                 uint64_t flags, bool user)
{
	struct hv_vcpu *v = pv->pcpu[cpu].curr;
	if (!v || !pv->pcpu[cpu].in_guest)
		return -EINVAL;
	static const unsigned shift[5] = {0, 12, 21, 30, 39};
	const struct hv_arch *a = hv->arch;
	int rc = entry_from_guest(hv, pv, cpu);
	if (rc)
		return rc;
	a->caller(a->ctx, "do_mmu_update");
	uint64_t table = user ? v->user_root : v->kernel_root;
	for (unsigned l = 4; l > 1; l--) {
		uint64_t epa = pt_entry_pa(table, table_offset(va, shift[l]));
		uint64_t e = pt_read(hv, epa);
		if (!pte_present(e)) {
			uint64_t t = frame(hv, cpu);
			if (t == HV_NO_FRAME) {
				a->caller(a->ctx, NULL);
				return -ENOMEM;
			}
			e = pte_from_pfn(t, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
			                        _PAGE_DIRTY);
			pt_write(hv, cpu, epa, e);
		}
		table = pte_pfn(e);
	}
	uint64_t epa = pt_entry_pa(table, table_offset(va, L1_PAGETABLE_SHIFT));
	uint64_t old = pt_read(hv, epa);
	pt_write(hv, cpu, epa, (pa & PADDR_MASK) | (flags & PTE_FLAGS_MASK));
	/* A present entry changed: every CPU that ran the domain flushes va
	 * (a not-present entry is never cached). */
	if (pte_present(old))
		hv_flush_mask(hv, cpu, &v->d->dirty, va, FLUSH_TLB | FLUSH_ORDER(0));
	a->caller(a->ctx, NULL);
	return exit_to_guest(hv, pv, cpu);
}
