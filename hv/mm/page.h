/* Page-table entry bits as the hypervisor core uses them (x86-64, Intel
 * SDM Vol. 3A §4.5). hv/ keeps its own definitions: it is hypervisor code
 * and does not include the simulator's headers. */
#ifndef HVSIM_HV_MM_PAGE_H
#define HVSIM_HV_MM_PAGE_H

#include <stdint.h>

#define _PAGE_PRESENT (1ull << 0)
#define _PAGE_RW (1ull << 1)
#define _PAGE_USER (1ull << 2)
#define _PAGE_PWT (1ull << 3)
#define _PAGE_PCD (1ull << 4)
#define _PAGE_ACCESSED (1ull << 5)
#define _PAGE_DIRTY (1ull << 6)
#define _PAGE_PSE (1ull << 7)     /* levels 2 and 3 */
#define _PAGE_PAT (1ull << 7)     /* level 1 */
#define _PAGE_GLOBAL (1ull << 8)
#define _PAGE_AVAIL0 (1ull << 9)  /* software bit: never in a real entry */
#define _PAGE_PSE_PAT (1ull << 12) /* PAT of a 2 MiB / 1 GiB page */
#define _PAGE_NX (1ull << 63)

/* Map with 4 KiB pages only (Xen's MAP_SMALL_PAGES is _PAGE_AVAIL0). */
#define MAP_SMALL_PAGES _PAGE_AVAIL0

/* The memory-type bits whose change needs a cache flush (seed 000). */
#define PAGE_CACHE_ATTRS (_PAGE_PAT | _PAGE_PCD | _PAGE_PWT)

#define __PAGE_HYPERVISOR_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)
#define PAGE_HYPERVISOR (__PAGE_HYPERVISOR_RW | _PAGE_GLOBAL)
/* What an intermediate table entry gets: the leaf decides. */
#define __PAGE_HYPERVISOR_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGETABLE_ORDER 9
#define L1_PAGETABLE_ENTRIES 512
#define L2_PAGETABLE_ENTRIES 512
#define L3_PAGETABLE_ENTRIES 512
#define L1_PAGETABLE_SHIFT 12
#define L2_PAGETABLE_SHIFT 21
#define L3_PAGETABLE_SHIFT 30
#define L4_PAGETABLE_SHIFT 39

#define PADDR_MASK 0x000ffffffffff000ull
#define PFN_MASK_2M (~((1ull << 9) - 1))

static inline unsigned table_offset(uint64_t va, unsigned shift)
{
	return (unsigned)((va >> shift) & 511);
}

/* Flag conversion between 4 KiB and superpage entries: PSE is set on a
 * present superpage, and the PAT bit moves between bit 7 and bit 12
 * (a flag set for a non-present entry is left alone). */
static inline uint64_t l1f_to_lNf(uint64_t f)
{
	if (!(f & _PAGE_PRESENT))
		return f;
	uint64_t pat = (f & _PAGE_PAT) ? _PAGE_PSE_PAT : 0;
	return (f & ~_PAGE_PAT) | _PAGE_PSE | pat;
}

static inline uint64_t lNf_to_l1f(uint64_t f)
{
	if (!(f & _PAGE_PRESENT))
		return f;
	uint64_t pat = (f & _PAGE_PSE_PAT) ? _PAGE_PAT : 0;
	return (f & ~(_PAGE_PSE | _PAGE_PSE_PAT)) | pat;
}

/* Entry construction and decomposition. Flags of an entry are every bit
 * outside the frame number. */
#define PTE_FLAGS_MASK (~PADDR_MASK)

static inline uint64_t pte_from_pfn(uint64_t pfn, uint64_t flags)
{
	return (pfn << PAGE_SHIFT) | (flags & PTE_FLAGS_MASK & ~MAP_SMALL_PAGES);
}

static inline uint64_t pte_flags(uint64_t e) { return e & PTE_FLAGS_MASK; }
static inline uint64_t pte_pfn(uint64_t e) { return (e & PADDR_MASK) >> PAGE_SHIFT; }

/* Superpage entries: bit 12 is PAT there, not address. */
static inline uint64_t pte_large_pfn(uint64_t e)
{
	return ((e & PADDR_MASK) & ~_PAGE_PSE_PAT) >> PAGE_SHIFT;
}

static inline uint64_t pte_large_flags(uint64_t e)
{
	return (e & PTE_FLAGS_MASK) | (e & _PAGE_PSE_PAT);
}

static inline uint64_t pte_large_from_pfn(uint64_t pfn, uint64_t flags)
{
	return (pfn << PAGE_SHIFT) |
	       (flags & (PTE_FLAGS_MASK | _PAGE_PSE_PAT) & ~MAP_SMALL_PAGES);
}

#endif
