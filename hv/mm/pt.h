/* Page-table plumbing of the hypervisor core (hv/mm only): entry access
 * through the arch interface, the page-table page allocator with its
 * accounting, and the walk to the entry for an address. */
#ifndef HVSIM_HV_MM_PT_H
#define HVSIM_HV_MM_PT_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/hv.h"
#include "hv/mm/page.h"

static inline uint64_t pt_read(const struct hv *hv, uint64_t pa)
{
	return hv->arch->read64(hv->arch->ctx, pa);
}

static inline void pt_write(const struct hv *hv, unsigned cpu, uint64_t pa, uint64_t v)
{
	hv->arch->write64(hv->arch->ctx, cpu, pa, v);
}

/* Physical address of entry `idx` of the table at frame pfn. */
static inline uint64_t pt_entry_pa(uint64_t pfn, unsigned idx)
{
	return (pfn << PAGE_SHIFT) + 8ull * idx;
}

static inline bool pte_present(uint64_t e) { return e & _PAGE_PRESENT; }
static inline bool pte_pse(uint64_t e) { return e & _PAGE_PSE; }

/* alloc_xen_pagetable / free_xen_pagetable: a zeroed frame, counted. */
uint64_t pt_alloc(struct hv *hv, unsigned cpu);
void pt_free(struct hv *hv, unsigned cpu, uint64_t pfn);

/* Replaces the superpage entry `ol` at epa (level 3 or 2) by a new table
 * of the next smaller pages with the same frames and flags (no flush:
 * callers flush as their operation needs). 0 or -ENOMEM. */
int pt_shatter(struct hv *hv, unsigned cpu, uint64_t epa, uint64_t ol, unsigned level);

/* The physical address of the level-`level` entry (3 or 2) for va,
 * allocating the tables above it if `alloc`. Returns 0 when a table is
 * missing (and !alloc) or memory ran out (hv->error = -ENOMEM), or when
 * a superpage maps va above that level (*blocked set). */
uint64_t pt_entry_for(struct hv *hv, unsigned cpu, uint64_t va, unsigned level, bool alloc,
                      bool *blocked);

#endif
