/* modify_xen_mappings and destroy_xen_mappings (seed 000): walk [s, e),
 * shatter a superpage that the range covers only in part, change or clear
 * the entries, and (destroy) free every L1 and L2 table the range empties:
 * unhook it, flush on every CPU, and only then free it. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>

#include "hv/mm/pt.h"

#define L1_BYTES (1ull << L2_PAGETABLE_SHIFT) /* what an L1 table maps */
#define L2_BYTES (1ull << L3_PAGETABLE_SHIFT)
#define L3_BYTES (1ull << L4_PAGETABLE_SHIFT)

static uint64_t next_boundary(uint64_t v, uint64_t size)
{
	return (v | (size - 1)) + 1;
}

static bool table_empty(const struct hv *hv, uint64_t pfn)
{
	for (unsigned i = 0; i < 512; i++)
		if (pt_read(hv, pt_entry_pa(pfn, i)))
			return false;
	return true;
}

/* The new value of a present leaf: frame kept, flags replaced (nf in
 * 4 KiB form; A and D kept as hardware set them). */
static uint64_t modified(uint64_t e, uint64_t nf, bool large)
{
	uint64_t ad = e & (_PAGE_ACCESSED | _PAGE_DIRTY);
	if (large)
		return pte_large_from_pfn(pte_large_pfn(e), l1f_to_lNf(nf) | ad);
	return pte_from_pfn(pte_pfn(e), nf | ad);
}

struct walk_op {
	bool destroy;
	uint64_t nf;
	bool cache_changed; /* a memory type changed: caches must be flushed */
};

static void note_leaf(struct walk_op *w, uint64_t old_l1f)
{
	if (!w->destroy && ((old_l1f ^ w->nf) & PAGE_CACHE_ATTRS))
		w->cache_changed = true;
}

/* Frees the table under the non-leaf entry at epa if the range emptied
 * it: unhook, flush on every CPU, then free. */
static void free_empty(struct hv *hv, unsigned cpu, uint64_t epa, uint64_t v)
{
	uint64_t e = pt_read(hv, epa);
	if (!pte_present(e) || pte_pse(e) || !table_empty(hv, pte_pfn(e)))
		return;
	pt_write(hv, cpu, epa, 0);
	hv_flush_area(hv, cpu, v, FLUSH_TLB_GLOBAL); /* flush before free */
	if (!(hv->cfg.inject & HV_INJECT_LEAK_TABLE))
		pt_free(hv, cpu, pte_pfn(e));
}

/* One step over [v, e): returns the next v (0 past the top of the address
 * space); an error is left in hv->error. */
static uint64_t step(struct hv *hv, unsigned cpu, uint64_t v, uint64_t e, struct walk_op *w)
{
	bool blocked;
	uint64_t l3pa = pt_entry_for(hv, cpu, v, 3, false, &blocked);
	if (!l3pa)
		return next_boundary(v, L3_BYTES); /* no L3 table: nothing mapped */
	uint64_t l3e = pt_read(hv, l3pa);
	if (!pte_present(l3e)) {
		if (w->destroy && l3e)
			pt_write(hv, cpu, l3pa, 0); /* a non-present entry with bits */
		return next_boundary(v, L2_BYTES);
	}
	if (pte_pse(l3e)) {
		if (!(v & (L2_BYTES - 1)) && e - v >= L2_BYTES) {
			note_leaf(w, lNf_to_l1f(pte_large_flags(l3e)));
			pt_write(hv, cpu, l3pa, w->destroy ? 0 : modified(l3e, w->nf, true));
			return v + L2_BYTES;
		}
		if (pt_shatter(hv, cpu, l3pa, l3e, 3))
			return v;
	}
	uint64_t l2pa = pt_entry_for(hv, cpu, v, 2, false, &blocked);
	assert(l2pa && !blocked);
	uint64_t l2e = pt_read(hv, l2pa);
	uint64_t next;
	if (!pte_present(l2e)) {
		if (w->destroy && l2e)
			pt_write(hv, cpu, l2pa, 0);
		next = next_boundary(v, L1_BYTES);
	} else if (pte_pse(l2e) && !(v & (L1_BYTES - 1)) && e - v >= L1_BYTES) {
		note_leaf(w, lNf_to_l1f(pte_large_flags(l2e)));
		pt_write(hv, cpu, l2pa, w->destroy ? 0 : modified(l2e, w->nf, true));
		next = v + L1_BYTES;
	} else {
		if (pte_pse(l2e) && pt_shatter(hv, cpu, l2pa, l2e, 2))
			return v;
		uint64_t l1pa = pt_entry_pa(pte_pfn(pt_read(hv, l2pa)),
		                            table_offset(v, L1_PAGETABLE_SHIFT));
		uint64_t l1e = pt_read(hv, l1pa);
		if (pte_present(l1e)) {
			note_leaf(w, pte_flags(l1e));
			pt_write(hv, cpu, l1pa, w->destroy ? 0 : modified(l1e, w->nf, false));
		} else if (w->destroy && l1e) {
			pt_write(hv, cpu, l1pa, 0); /* as Xen: every L1 entry emptied */
		}
		next = v + PAGE_SIZE;
		/* Done with this L1 table (end of range or of its 2 MiB)? */
		if (w->destroy && (next >= e || !(next & (L1_BYTES - 1))))
			free_empty(hv, cpu, l2pa, v);
	}
	/* Done with this L2 table? */
	if (w->destroy && (next >= e || !(next & (L2_BYTES - 1))))
		free_empty(hv, cpu, l3pa, v);
	return next;
}

static int walk(struct hv *hv, unsigned cpu, uint64_t s, uint64_t e, struct walk_op *w)
{
	if ((s | e) & (PAGE_SIZE - 1) || e < s)
		return -EINVAL;
	hv->error = 0;
	/* Bounded: every step advances v by at least one page, or reaches
	 * the top of the address space (next wraps to 0). */
	for (uint64_t v = s; v < e;) {
		uint64_t next = step(hv, cpu, v, e, w);
		if (hv->error)
			return hv->error;
		if (next <= v)
			break;
		v = next;
	}
	unsigned ff = FLUSH_TLB_GLOBAL | (w->cache_changed ? FLUSH_CACHE : 0);
	if (hv->cfg.inject & HV_INJECT_NO_CACHE_FLUSH)
		ff &= ~FLUSH_CACHE;
	hv_flush_area(hv, cpu, s, ff);
	return 0;
}

int hv_modify_mappings(struct hv *hv, unsigned cpu, uint64_t s, uint64_t e, uint64_t nf)
{
	if (!(nf & _PAGE_PRESENT))
		return -EINVAL; /* clearing mappings is destroy's job */
	hv->arch->caller(hv->arch->ctx, "modify_xen_mappings");
	struct walk_op w = {.destroy = false, .nf = nf & ~MAP_SMALL_PAGES};
	int rc = walk(hv, cpu, s, e, &w);
	hv->arch->caller(hv->arch->ctx, NULL);
	return rc;
}

int hv_destroy_mappings(struct hv *hv, unsigned cpu, uint64_t s, uint64_t e)
{
	hv->arch->caller(hv->arch->ctx, "destroy_xen_mappings");
	struct walk_op w = {.destroy = true};
	int rc = walk(hv, cpu, s, e, &w);
	hv->arch->caller(hv->arch->ctx, NULL);
	return rc;
}
