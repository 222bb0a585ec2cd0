/* Which frames are page tables, at which level, and where they are linked.
 *
 * Hardware has no such registry; the models need one to know that a store
 * is a paging-structure write, which linear addresses and roots a changed
 * entry affects (for the envelope), and whether a frame that a cached
 * paging-structure entry points at is still a page table. A frame becomes
 * a table when loaded into CR3 (level 4) or linked by a present non-leaf
 * entry of a known table; it stops being one when freed.
 *
 * Simplification (docs/models.md): a frame is a table at one level only.
 * A link that would make a known table a table at a second level (e.g. a
 * recursive PML4 slot) is counted in `conflicts` and not followed.
 */
#ifndef HVSIM_SIM_TLB_PTMETA_H
#define HVSIM_SIM_TLB_PTMETA_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/mem.h"
#include "sim/u64map.h"

#define PT_MAX_PATHS 64

struct pt_link {
	uint64_t parent_pfn;
	uint32_t index;
	uint32_t pad;
};

struct pt_info {
	uint64_t pfn;
	uint8_t level; /* 1..4 */
	uint8_t live;
	uint16_t pad;
	uint32_t nlinks, caplinks;
	struct pt_link *links; /* present non-leaf entries pointing here */
};

/* One way a table is reached: from root_pfn, covering linear addresses
 * from va (canonical), with permissions accumulated above it. */
struct pt_path {
	uint64_t root_pfn;
	uint64_t va;
	uint8_t perm; /* XP_RW | XP_US | XP_NX of the entries above */
};

struct ptmeta {
	struct u64map idx; /* pfn -> index into v */
	struct pt_info *v;
	uint32_t n, cap;
	uint64_t conflicts;
};

void ptm_init(struct ptmeta *p);
void ptm_fini(struct ptmeta *p);

struct pt_info *ptm_get(struct ptmeta *p, uint64_t pfn);
static inline bool ptm_is_table(struct ptmeta *p, uint64_t pfn)
{
	struct pt_info *i = ptm_get(p, pfn);
	return i && i->live;
}

/* Registers pfn as a table of `level`, discovering the tables it links.
 * Returns false on a level conflict. */
bool ptm_register(struct ptmeta *p, struct mem *m, uint64_t pfn, unsigned level);

/* Keeps links in step with a store of `nw` over `old` at entry index of
 * table table_pfn (a known table of `level`). */
void ptm_on_write(struct ptmeta *p, struct mem *m, uint64_t table_pfn, unsigned index,
                  unsigned level, uint64_t old, uint64_t nw);

/* The frame stops being a table (it is being freed). Its own links to
 * children are dropped. Returns the number of live links that still
 * point at it (nonzero means it was freed while linked). */
uint32_t ptm_unregister(struct ptmeta *p, struct mem *m, uint64_t pfn);

/* Every (root, va) under which table pfn is reachable; at most max.
 * Returns the count (0 if pfn is not a live table or unreachable). */
unsigned ptm_paths(struct ptmeta *p, struct mem *m, uint64_t pfn,
                   struct pt_path *out, unsigned max);

#endif
