/* The 4-level x86-64 page walk (SDM Vol. 3A §4.5) over real entries in
 * simulated memory.
 *
 * walk_peek() is the reference walk: no side effects, used to decide what
 * the current page tables say (staleness checks, expectations).
 * The hardware walk in sim/cpu/access.c uses walk_step() level by level so
 * that it can start from a paging-structure-cache hit, set accessed and
 * dirty bits through the machine's store path, and fill the caches.
 */
#ifndef HVSIM_SIM_TLB_WALK_H
#define HVSIM_SIM_TLB_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/mem.h"

/* A translation: what a TLB entry would hold. */
struct xlate {
	uint64_t pa_base;  /* physical base of the page */
	uint8_t present;
	uint8_t size_log2; /* 12, 21, 30 */
	uint8_t level;     /* level of the leaf (1..3) */
	uint8_t perm;      /* XP_* (tlb.h), including XP_G and XP_D */
	uint32_t rsvd;     /* nonzero if a reserved bit was set on the path */
};

struct walk_env {
	bool page1gb; /* PS=1 in a PDPTE is legal */
	bool nxe;     /* EFER.NXE: bit 63 is NX rather than reserved */
};

/* Reserved-bit check of one entry at level (SDM §4.5, Table 4-20 notes):
 * returns true if a reserved bit is set. */
bool pte_reserved(uint64_t e, unsigned level, const struct walk_env *env);

/* Walks from the table at `table_pa` (of `level`) down to the leaf for va,
 * with `perm` accumulated above it. No side effects. */
void walk_peek_from(struct mem *m, uint64_t table_pa, unsigned level, uint8_t perm,
                    uint64_t va, const struct walk_env *env, struct xlate *out);

static inline void walk_peek(struct mem *m, uint64_t root_pa, uint64_t va,
                             const struct walk_env *env, struct xlate *out)
{
	walk_peek_from(m, root_pa, 4, 0x3 /* XP_RW|XP_US */, va, env, out);
}

/* Physical address of va inside translation x. */
static inline uint64_t xlate_pa(const struct xlate *x, uint64_t va)
{
	return x->pa_base | (va & ((1ull << x->size_log2) - 1));
}

/* How a translation that may be cached compares with the current one at
 * va. Page size alone is no difference (SDM §4.10.2.3 allows several sizes
 * for one address as long as they agree).
 *   XC_SAME    same frame, permissions and memory type;
 *   XC_STALE   the cached one maps a frame the tables no longer map there,
 *              with another memory type, or grants an access (write, user,
 *              execute, global) the tables no longer grant: using it is a
 *              correctness bug;
 *   XC_WEAKER  the cached one only grants less: using it raises a spurious
 *              #PF, which itself invalidates the entry (§4.10.4.1). */
enum { XC_SAME = 0, XC_STALE = 1, XC_WEAKER = 2 };
int xlate_cmp_at(const struct xlate *cached, const struct xlate *cur, uint64_t va);

static inline bool xlate_differs_at(const struct xlate *cached, const struct xlate *cur,
                                    uint64_t va)
{
	return xlate_cmp_at(cached, cur, va) == XC_STALE;
}

/* Permission check of an access against a translation (SDM §4.6, error
 * code §4.7). Returns true on a fault, with the #PF error code in *pfec. */
bool xlate_check(const struct xlate *x, unsigned acc, bool wp, bool nxe, uint32_t *pfec);

/* Combines an entry's permission bits into perm accumulated above it. */
uint8_t perm_combine(uint8_t above, uint64_t entry);

/* Leaf translation from a leaf entry at level with accumulated perm. */
void xlate_from_leaf(uint64_t e, unsigned level, uint8_t above, struct xlate *out);

#endif
