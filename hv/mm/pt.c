#include "hv/mm/pt.h"

#include <assert.h>
#include <errno.h>

uint64_t pt_alloc(struct hv *hv, unsigned cpu)
{
	uint64_t pfn = hv->arch->alloc_frame(hv->arch->ctx, cpu);
	if (pfn == HV_NO_FRAME) {
		hv->error = -ENOMEM;
		return HV_NO_FRAME;
	}
	hv->pt.allocated++;
	hv->pt.live++;
	if (hv->pt.live > hv->pt.peak)
		hv->pt.peak = hv->pt.live;
	return pfn;
}

void pt_free(struct hv *hv, unsigned cpu, uint64_t pfn)
{
	assert(hv->pt.live > 0);
	assert(pfn != hv->root_pfn);
	hv->pt.freed++;
	hv->pt.live--;
	hv->arch->free_frame(hv->arch->ctx, cpu, pfn);
}

int pt_shatter(struct hv *hv, unsigned cpu, uint64_t epa, uint64_t ol, unsigned level)
{
	assert(level == 3 || level == 2);
	uint64_t t = pt_alloc(hv, cpu);
	if (t == HV_NO_FRAME)
		return -ENOMEM;
	uint64_t base = pte_large_pfn(ol), f = pte_large_flags(ol);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = level == 3 ? pte_large_from_pfn(base + ((uint64_t)i << PAGETABLE_ORDER), f)
		                        : pte_from_pfn(base + i, lNf_to_l1f(f));
		pt_write(hv, cpu, pt_entry_pa(t, i), e);
	}
	pt_write(hv, cpu, epa, pte_from_pfn(t, __PAGE_HYPERVISOR_TABLE));
	hv->pt.shatters++;
	return 0;
}

static const unsigned level_shift[5] = {0, L1_PAGETABLE_SHIFT, L2_PAGETABLE_SHIFT,
                                        L3_PAGETABLE_SHIFT, L4_PAGETABLE_SHIFT};

uint64_t pt_entry_for(struct hv *hv, unsigned cpu, uint64_t va, unsigned level, bool alloc,
                      bool *blocked)
{
	assert(level >= 1 && level <= 4);
	*blocked = false;
	uint64_t table = hv->root_pfn;
	for (unsigned l = 4; l > level; l--) {
		uint64_t epa = pt_entry_pa(table, table_offset(va, level_shift[l]));
		uint64_t e = pt_read(hv, epa);
		if (!pte_present(e)) {
			if (!alloc)
				return 0;
			uint64_t pfn = pt_alloc(hv, cpu);
			if (pfn == HV_NO_FRAME)
				return 0;
			e = pte_from_pfn(pfn, __PAGE_HYPERVISOR_TABLE);
			pt_write(hv, cpu, epa, e);
		} else if (l <= 3 && pte_pse(e)) {
			*blocked = true;
			return 0;
		}
		table = pte_pfn(e);
	}
	return pt_entry_pa(table, table_offset(va, level_shift[level]));
}
