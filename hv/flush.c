/* TLB and cache flushing (flush_area_local / flush_mask / flush_area).
 *
 * flags = FLUSH_TLB | FLUSH_TLB_GLOBAL | FLUSH_CACHE | FLUSH_ORDER(n): the
 * page range is the naturally aligned 2^n pages containing va; no order
 * means "everything".
 *
 * Two local policies (hv_config.flush_policy):
 *  - HV_FLUSH_XEN: order 0 is one INVLPG, anything larger a full flush
 *    (a CR4.PGE toggle when globals must go, else a CR3 reload) -- a flush
 *    at the wrong address of a large area is then invisible;
 *  - HV_FLUSH_RANGED: INVLPG of every page of the range while it has at
 *    most flush_ceiling pages (Linux's tlb_single_page_flush_ceiling, 33),
 *    a full flush above -- so a flush aimed at the wrong range shows.
 */
#include <stddef.h>

#include "hv/hv.h"
#include "hv/mm/page.h"
#include "hv/mm/pt.h"

#define X86_CR4_PGE (1ull << 7)
#define CACHE_LINE 64u
/* Above this many pages a cache flush is a WBINVD (Xen compares with the
 * cache size; 1 MiB here). */
#define CLFLUSH_MAX_PAGES 256u

#define X86_CR4_PCIDE (1ull << 17)
/* PCID values of seed 003 (hv/pv/pcid.h). */
#define PCID_PRIV 0u
#define PCID_USER 1u
#define PCID_XPTI 2u

static void full_tlb_flush(struct hv *hv, unsigned cpu, bool globals)
{
	const struct hv_arch *a = hv->arch;
	hv->pt.full_flushes++;
	uint64_t cr4 = a->read_cr4(a->ctx, cpu);
	if (cr4 & X86_CR4_PCIDE) {
		/* A CR3 reload would flush only the current PCID: every PCID
		 * goes with INVPCID (globals are off whenever PCIDE is on). */
		a->invpcid(a->ctx, cpu, globals ? 2 : 3, 0, 0);
	} else if (globals && (cr4 & X86_CR4_PGE)) {
		/* Toggling PGE flushes everything, globals included. */
		a->write_cr4(a->ctx, cpu, cr4 & ~X86_CR4_PGE);
		a->write_cr4(a->ctx, cpu, cr4);
	} else {
		a->write_cr3(a->ctx, cpu, a->read_cr3(a->ctx, cpu));
	}
}

/* The physical address of va in the hypervisor's own tables, or
 * HV_NO_FRAME when unmapped (cache flushes are by frame here). */
static uint64_t virt_to_maddr(const struct hv *hv, uint64_t va)
{
	uint64_t table = hv->root_pfn;
	static const unsigned shift[5] = {0, 12, 21, 30, 39};
	for (unsigned l = 4; l >= 1; l--) {
		uint64_t e = pt_read(hv, pt_entry_pa(table, table_offset(va, shift[l])));
		if (!pte_present(e))
			return HV_NO_FRAME;
		if (l == 1)
			return (pte_pfn(e) << PAGE_SHIFT) | (va & (PAGE_SIZE - 1));
		if (l <= 3 && pte_pse(e))
			return (pte_large_pfn(e) << PAGE_SHIFT) | (va & ((1ull << shift[l]) - 1));
		table = pte_pfn(e);
	}
	return HV_NO_FRAME;
}

static void cache_flush(struct hv *hv, unsigned cpu, uint64_t va, unsigned order, bool ranged)
{
	const struct hv_arch *a = hv->arch;
	hv->pt.cache_flushes++;
	if (!ranged || order >= 32 || (1ull << order) > CLFLUSH_MAX_PAGES) {
		a->wbinvd(a->ctx, cpu);
		return;
	}
	uint64_t start = va & ~((PAGE_SIZE << order) - 1);
	for (uint64_t p = 0; p < (1ull << order); p++) {
		uint64_t pa = virt_to_maddr(hv, start + p * PAGE_SIZE);
		if (pa == HV_NO_FRAME)
			continue;
		for (uint64_t off = 0; off < PAGE_SIZE; off += CACHE_LINE)
			a->clflush(a->ctx, cpu, (pa & ~(PAGE_SIZE - 1)) + off);
	}
}

/* One address. With PCIDE, INVLPG would reach only the current PCID, so
 * every PCID that may hold it is named by INVPCID -- possible because with
 * PCID on, global pages are off (seed 003). */
static void flush_one(struct hv *hv, unsigned cpu, uint64_t va)
{
	const struct hv_arch *a = hv->arch;
	if (!(a->read_cr4(a->ctx, cpu) & X86_CR4_PCIDE) ||
	    (hv->cfg.inject & HV_INJECT_INVLPG_UNDER_PCIDE)) {
		a->invlpg(a->ctx, cpu, va);
		return;
	}
	a->invpcid(a->ctx, cpu, 0, PCID_PRIV, va);
	a->invpcid(a->ctx, cpu, 0, PCID_USER, va);
	if (hv->cfg.xpti) {
		a->invpcid(a->ctx, cpu, 0, PCID_PRIV | PCID_XPTI, va);
		a->invpcid(a->ctx, cpu, 0, PCID_USER | PCID_XPTI, va);
	}
}

void hv_flush_area_local(struct hv *hv, unsigned cpu, uint64_t va, unsigned flags)
{
	bool ranged = (flags & FLUSH_ORDER_MASK) != 0;
	unsigned order = ranged ? (flags & FLUSH_ORDER_MASK) - 1 : 0;
	hv->pt.local_flushes++;
	if (flags & (FLUSH_TLB | FLUSH_TLB_GLOBAL)) {
		bool globals = flags & FLUSH_TLB_GLOBAL;
		if (ranged && order == 0) {
			hv->pt.page_flushes++;
			flush_one(hv, cpu, va);
		} else if (ranged && hv->cfg.flush_policy == HV_FLUSH_RANGED && order < 32 &&
		           (1ull << order) <= hv->cfg.flush_ceiling) {
			uint64_t start = va & ~((PAGE_SIZE << order) - 1);
			for (uint64_t p = 0; p < (1ull << order); p++) {
				hv->pt.page_flushes++;
				flush_one(hv, cpu, start + p * PAGE_SIZE);
			}
		} else {
			full_tlb_flush(hv, cpu, globals);
		}
	}
	if (flags & FLUSH_CACHE)
		cache_flush(hv, cpu, va, order, ranged);
}

struct flush_req {
	uint64_t va;
	unsigned flags;
};

static void flush_ipi(void *hvp, unsigned cpu, void *arg)
{
	struct hv *hv = hvp;
	const struct flush_req *r = arg;
	hv->arch->caller(hv->arch->ctx, "flush_area_local");
	hv_flush_area_local(hv, cpu, r->va, r->flags);
	hv->arch->caller(hv->arch->ctx, NULL);
}

void hv_flush_mask(struct hv *hv, unsigned cpu, const struct hv_cpumask *mask, uint64_t va,
                   unsigned flags)
{
	const struct hv_arch *a = hv->arch;
	if (hv_cpumask_test(mask, cpu)) {
		a->caller(a->ctx, "flush_area_local");
		hv_flush_area_local(hv, cpu, va, flags);
		a->caller(a->ctx, NULL);
	}
	struct hv_cpumask others = *mask;
	others.bits[cpu / 64] &= ~(1ull << (cpu % 64));
	bool any = false;
	for (unsigned i = 0; i < HV_MAX_CPUS / 64; i++)
		any |= others.bits[i] != 0;
	if (!any)
		return;
	struct flush_req r = {va, flags};
	hv->pt.remote_flushes++;
	a->caller(a->ctx, "flush_mask");
	a->call_ipi(a->ctx, cpu, &others, flush_ipi, hv, &r);
	a->caller(a->ctx, NULL);
}

void hv_flush_area(struct hv *hv, unsigned cpu, uint64_t va, unsigned flags)
{
	struct hv_cpumask all = {{0}};
	for (unsigned c = 0; c < hv->arch->ncpus; c++)
		hv_cpumask_set(&all, c);
	hv_flush_mask(hv, cpu, &all, va, flags);
}
