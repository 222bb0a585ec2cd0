/* map_pages_to_xen (seed 000): map a range of frames with the largest
 * pages the alignment, the length and the configuration allow; shatter a
 * superpage when part of it changes; skip an unchanged superpage up to its
 * next boundary; re-merge 4 KiB entries into a 2 MiB page, and 2 MiB
 * entries into a 1 GiB page, once they are contiguous with identical
 * flags.
 *
 * Ordering (as Linux's include/asm-generic/tlb.h documents it): an entry
 * that referenced a table is replaced (unhooked) first, the translations
 * and paging-structure entries are flushed on every CPU second, and only
 * then is the old table freed. Every flush here goes to all CPUs.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>

#include "hv/mm/pt.h"

#define L1_PAGES (1ull << PAGETABLE_ORDER)       /* 4 KiB pages in 2 MiB */
#define L2_PAGES (1ull << (2 * PAGETABLE_ORDER)) /* 4 KiB pages in 1 GiB */
#define A_D (_PAGE_ACCESSED | _PAGE_DIRTY)

static bool use_1g(const struct hv *hv)
{
	return hv->cfg.superpages && hv->cfg.page1gb && hv->arch->has_page1gb;
}

static bool aligned(uint64_t virt, uint64_t mfn, uint64_t pages)
{
	return !(((virt >> PAGE_SHIFT) | mfn) & (pages - 1));
}

static bool superpage_ok(uint64_t flags)
{
	return !(flags & (_PAGE_PAT | MAP_SMALL_PAGES));
}

/* Flush flags needed when a leaf with flags `old` (4 KiB form) is
 * replaced by one with `flags`: the global bit, and a cache flush when
 * the memory type changes. */
static unsigned leaf_flush_flags(uint64_t old, uint64_t flags)
{
	unsigned f = 0;
	if (old & _PAGE_GLOBAL)
		f |= FLUSH_TLB_GLOBAL;
	if ((old ^ flags) & PAGE_CACHE_ATTRS)
		f |= FLUSH_CACHE;
	return f;
}

/* Test-only: the injected bugs that strip or skip work (hv/hv.h). */
static unsigned injected_flush(const struct hv *hv, unsigned ff)
{
	return (hv->cfg.inject & HV_INJECT_NO_CACHE_FLUSH) ? ff & ~FLUSH_CACHE : ff;
}

/* What replacing a whole L1 table's mappings needs flushed. */
static unsigned l1_table_flush_flags(const struct hv *hv, uint64_t l1, uint64_t flags)
{
	unsigned f = 0;
	for (unsigned j = 0; j < L1_PAGETABLE_ENTRIES; j++) {
		uint64_t e = pt_read(hv, pt_entry_pa(l1, j));
		if (pte_present(e))
			f |= leaf_flush_flags(pte_flags(e), flags);
	}
	return f;
}

/* A 1 GiB mapping replaces whatever was there. */
static void replace_l3(struct hv *hv, unsigned cpu, uint64_t virt, uint64_t ol3e,
                       uint64_t flags)
{
	unsigned ff = FLUSH_TLB | FLUSH_ORDER(2 * PAGETABLE_ORDER);
	if (pte_pse(ol3e)) {
		ff |= leaf_flush_flags(lNf_to_l1f(pte_large_flags(ol3e)), flags);
		hv_flush_area(hv, cpu, virt, injected_flush(hv, ff));
		return;
	}
	uint64_t l2 = pte_pfn(ol3e);
	for (unsigned i = 0; i < L2_PAGETABLE_ENTRIES; i++) {
		uint64_t e = pt_read(hv, pt_entry_pa(l2, i));
		if (!pte_present(e))
			continue;
		if (pte_pse(e))
			ff |= leaf_flush_flags(lNf_to_l1f(pte_large_flags(e)), flags);
		else
			ff |= l1_table_flush_flags(hv, pte_pfn(e), flags);
	}
	hv_flush_area(hv, cpu, virt, injected_flush(hv, ff)); /* unhooked above, flushed, then freed */
	/* The L2 table goes first: freeing it drops its links to the L1
	 * tables, which are then freed unlinked. */
	uint64_t l1s[L2_PAGETABLE_ENTRIES];
	unsigned n = 0;
	for (unsigned i = 0; i < L2_PAGETABLE_ENTRIES; i++) {
		uint64_t e = pt_read(hv, pt_entry_pa(l2, i));
		if (pte_present(e) && !pte_pse(e))
			l1s[n++] = pte_pfn(e);
	}
	pt_free(hv, cpu, l2);
	for (unsigned i = 0; i < n; i++)
		pt_free(hv, cpu, l1s[i]);
}

static void replace_l2(struct hv *hv, unsigned cpu, uint64_t virt, uint64_t ol2e,
                       uint64_t flags)
{
	unsigned ff = FLUSH_TLB | FLUSH_ORDER(PAGETABLE_ORDER);
	if (pte_pse(ol2e)) {
		ff |= leaf_flush_flags(lNf_to_l1f(pte_large_flags(ol2e)), flags);
		hv_flush_area(hv, cpu, virt, injected_flush(hv, ff));
		return;
	}
	ff |= l1_table_flush_flags(hv, pte_pfn(ol2e), flags);
	hv_flush_area(hv, cpu, virt, injected_flush(hv, ff));
	pt_free(hv, cpu, pte_pfn(ol2e));
}

/* Pages from mfn to the end of the superpage of `pages` holding it:
 * how far an unchanged superpage lets the loop skip (the seed: "skip to
 * the next larger page boundary", not a single page). */
static uint64_t skip_len(const struct hv *hv, uint64_t mfn, uint64_t pages, uint64_t nr)
{
	uint64_t i = pages - (mfn & (pages - 1));
	if (hv->cfg.inject & HV_INJECT_SKIP_ONE_PAGE)
		i = 1;
	return i < nr ? i : nr;
}

/* Replaces a superpage entry at epa (level 3 or 2) by a table of the next
 * smaller pages with the same frames and flags, then flushes. */
static int shatter(struct hv *hv, unsigned cpu, uint64_t epa, uint64_t ol, unsigned level,
                   uint64_t virt)
{
	int rc = pt_shatter(hv, cpu, epa, ol, level);
	if (rc)
		return rc;
	unsigned ff = FLUSH_TLB | FLUSH_ORDER(level == 3 ? 2 * PAGETABLE_ORDER : PAGETABLE_ORDER);
	if (pte_large_flags(ol) & _PAGE_GLOBAL)
		ff |= FLUSH_TLB_GLOBAL;
	/* Same translations, another page size: §4.10.4.2 wants a flush. */
	hv_flush_area(hv, cpu, virt, injected_flush(hv, ff));
	return 0;
}

/* If the superpage entry `ol` (of `pages` 4 KiB pages) already maps
 * virt to mfn with these flags, skip to its end: true. */
static bool try_skip(const struct hv *hv, uint64_t ol, uint64_t pages, uint64_t *virt,
                     uint64_t *mfn, uint64_t *nr, uint64_t flags)
{
	uint64_t want = pte_large_pfn(ol) + ((*virt >> PAGE_SHIFT) & (pages - 1));
	if (want != *mfn || ((lNf_to_l1f(pte_large_flags(ol)) ^ flags) & ~A_D))
		return false;
	uint64_t i = skip_len(hv, *mfn, pages, *nr);
	*virt += i << PAGE_SHIFT;
	*mfn += i;
	*nr -= i;
	return true;
}

/* All 512 entries of the L1 table under the L2 entry at l2pa contiguous
 * with identical flags: replace the table by a 2 MiB page, flush, free.
 * virt has already moved PAST the area: the flush is for virt - 4K. */
static void merge_l1(struct hv *hv, unsigned cpu, uint64_t l2pa, uint64_t virt)
{
	uint64_t l2e = pt_read(hv, l2pa);
	if (!pte_present(l2e) || pte_pse(l2e))
		return;
	uint64_t l1 = pte_pfn(l2e);
	uint64_t e0 = pt_read(hv, pt_entry_pa(l1, 0));
	uint64_t base = pte_pfn(e0), f0 = pte_flags(e0) & ~A_D;
	if (!pte_present(e0) || (base & (L1_PAGES - 1)) || !superpage_ok(f0))
		return;
	for (unsigned i = 1; i < L1_PAGETABLE_ENTRIES; i++) {
		uint64_t e = pt_read(hv, pt_entry_pa(l1, i));
		if (pte_pfn(e) != base + i || (pte_flags(e) & ~A_D) != f0)
			return;
	}
	pt_write(hv, cpu, l2pa, pte_large_from_pfn(base, l1f_to_lNf(f0)));
	uint64_t at = (hv->cfg.inject & HV_INJECT_MERGE_FLUSH_PAST) ? virt : virt - PAGE_SIZE;
	hv_flush_area(hv, cpu, at, FLUSH_TLB_GLOBAL | FLUSH_ORDER(PAGETABLE_ORDER));
	pt_free(hv, cpu, l1);
	hv->pt.merges++;
}

/* The same one level up: 512 2 MiB pages into one 1 GiB page. */
static void merge_l2(struct hv *hv, unsigned cpu, uint64_t l3pa, uint64_t virt)
{
	uint64_t l3e = pt_read(hv, l3pa);
	if (!pte_present(l3e) || pte_pse(l3e))
		return;
	uint64_t l2 = pte_pfn(l3e);
	uint64_t e0 = pt_read(hv, pt_entry_pa(l2, 0));
	uint64_t base = pte_large_pfn(e0), f0 = pte_large_flags(e0) & ~A_D;
	if (!pte_present(e0) || !pte_pse(e0) || (base & (L2_PAGES - 1)))
		return;
	for (unsigned i = 1; i < L2_PAGETABLE_ENTRIES; i++) {
		uint64_t e = pt_read(hv, pt_entry_pa(l2, i));
		if (!pte_present(e) || !pte_pse(e) ||
		    pte_large_pfn(e) != base + ((uint64_t)i << PAGETABLE_ORDER) ||
		    (pte_large_flags(e) & ~A_D) != f0)
			return;
	}
	pt_write(hv, cpu, l3pa, pte_large_from_pfn(base, f0));
	uint64_t at = (hv->cfg.inject & HV_INJECT_MERGE_FLUSH_PAST) ? virt : virt - PAGE_SIZE;
	hv_flush_area(hv, cpu, at, FLUSH_TLB_GLOBAL | FLUSH_ORDER(2 * PAGETABLE_ORDER));
	pt_free(hv, cpu, l2);
	hv->pt.merges++;
}

/* One step at level 1 (after the L3 and L2 steps found no superpage to
 * write): the 4 KiB entry, shattering a 2 MiB page first if needed. */
static int map_4k(struct hv *hv, unsigned cpu, uint64_t l2pa, uint64_t *virt, uint64_t *mfn,
                  uint64_t *nr, uint64_t flags, bool *skipped)
{
	uint64_t ol2e = pt_read(hv, l2pa);
	*skipped = false;
	if (!pte_present(ol2e)) {
		uint64_t l1 = pt_alloc(hv, cpu);
		if (l1 == HV_NO_FRAME)
			return -ENOMEM;
		pt_write(hv, cpu, l2pa, pte_from_pfn(l1, __PAGE_HYPERVISOR_TABLE));
	} else if (pte_pse(ol2e)) {
		if (try_skip(hv, ol2e, L1_PAGES, virt, mfn, nr, flags)) {
			*skipped = true;
			return 0;
		}
		int rc = shatter(hv, cpu, l2pa, ol2e, 2, *virt);
		if (rc)
			return rc;
	}
	uint64_t l1 = pte_pfn(pt_read(hv, l2pa));
	uint64_t l1pa = pt_entry_pa(l1, table_offset(*virt, L1_PAGETABLE_SHIFT));
	uint64_t ol1e = pt_read(hv, l1pa);
	pt_write(hv, cpu, l1pa, pte_from_pfn(*mfn, flags));
	if (pte_present(ol1e))
		hv_flush_area(hv, cpu, *virt,
		              injected_flush(hv, FLUSH_TLB | FLUSH_ORDER(0) |
		                                     leaf_flush_flags(pte_flags(ol1e), flags)));
	*virt += PAGE_SIZE;
	*mfn += 1;
	*nr -= 1;
	return 0;
}

/* One iteration of the loop: at most one superpage, or one 4 KiB page, or
 * one skip. Returns 0 or -ENOMEM. */
static int map_step(struct hv *hv, unsigned cpu, uint64_t *virt, uint64_t *mfn, uint64_t *nr,
                    uint64_t flags)
{
	bool blocked;
	uint64_t l3pa = pt_entry_for(hv, cpu, *virt, 3, true, &blocked);
	if (!l3pa)
		return -ENOMEM;
	uint64_t ol3e = pt_read(hv, l3pa);
	if (use_1g(hv) && aligned(*virt, *mfn, L2_PAGES) && *nr >= L2_PAGES && superpage_ok(flags)) {
		pt_write(hv, cpu, l3pa, pte_large_from_pfn(*mfn, l1f_to_lNf(flags)));
		if (pte_present(ol3e))
			replace_l3(hv, cpu, *virt, ol3e, flags);
		*virt += L2_PAGES << PAGE_SHIFT;
		*mfn += L2_PAGES;
		*nr -= L2_PAGES;
		return 0;
	}
	if (pte_present(ol3e) && pte_pse(ol3e)) {
		if (try_skip(hv, ol3e, L2_PAGES, virt, mfn, nr, flags))
			return 0;
		int rc = shatter(hv, cpu, l3pa, ol3e, 3, *virt);
		if (rc)
			return rc;
	}
	uint64_t l2pa = pt_entry_for(hv, cpu, *virt, 2, true, &blocked);
	if (!l2pa)
		return -ENOMEM;
	uint64_t ol2e = pt_read(hv, l2pa);
	if (hv->cfg.superpages && aligned(*virt, *mfn, L1_PAGES) && *nr >= L1_PAGES &&
	    superpage_ok(flags)) {
		pt_write(hv, cpu, l2pa, pte_large_from_pfn(*mfn, l1f_to_lNf(flags)));
		if (pte_present(ol2e))
			replace_l2(hv, cpu, *virt, ol2e, flags);
		*virt += L1_PAGES << PAGE_SHIFT;
		*mfn += L1_PAGES;
		*nr -= L1_PAGES;
	} else {
		bool skipped;
		int rc = map_4k(hv, cpu, l2pa, virt, mfn, nr, flags, &skipped);
		if (rc)
			return rc;
		if (!skipped && hv->cfg.superpages && superpage_ok(flags) &&
		    (*nr == 0 || aligned(*virt, *mfn, L1_PAGES)))
			merge_l1(hv, cpu, l2pa, *virt);
	}
	/* check_l3: the 1 GiB area just completed may now merge. */
	if (use_1g(hv) && superpage_ok(flags) && (*nr == 0 || aligned(*virt, *mfn, L2_PAGES)))
		merge_l2(hv, cpu, l3pa, *virt);
	return 0;
}

int hv_map_pages(struct hv *hv, unsigned cpu, uint64_t virt, uint64_t mfn, uint64_t nr,
                 uint64_t flags)
{
	if ((virt & (PAGE_SIZE - 1)) || (mfn >> 40) || !nr)
		return -EINVAL;
	hv->arch->caller(hv->arch->ctx, "map_pages_to_xen");
	if ((hv->cfg.inject & HV_INJECT_SKIP_LAST_PAGE) && nr > 1)
		nr--;
	int rc = 0;
	while (nr && !rc) {
		hv->pt.map_steps++;
		rc = map_step(hv, cpu, &virt, &mfn, &nr, flags);
	}
	hv->arch->caller(hv->arch->ctx, NULL);
	return rc;
}
