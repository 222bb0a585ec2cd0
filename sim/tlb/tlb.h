/* The concrete TLB of one logical processor: finite, set-associative,
 * deterministic LRU replacement, geometry from the profile (hw-facts §2).
 *
 * Structures: L1 DTLB per page size (or one unified array), L1 ITLB, a
 * second-level TLB for 4 KiB and 2 MiB pages and an optional 1 GiB array,
 * and the paging-structure caches for PML4Es, PDPTEs and PDEs (SDM Vol. 3A
 * §4.10.3). Entries are tagged with the PCID current at fill time; a leaf
 * with G=1 filled while CR4.PGE=1 is global and matches any PCID
 * (§4.10.2.4). PSC entries are never global (§4.10.3.1).
 *
 * This view produces hits, misses, fills, evictions and cycle costs. It is
 * NOT used to decide correctness: the envelope (envelope.h) is. Both are
 * updated by the one invalidation path in inval.c.
 */
#ifndef HVSIM_SIM_TLB_TLB_H
#define HVSIM_SIM_TLB_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/profile.h"

/* Cached permission bits (struct tlb_entry.perm, struct xlate.perm). */
enum {
	XP_RW = 1 << 0, /* writable at every level */
	XP_US = 1 << 1, /* user at every level */
	XP_NX = 1 << 2, /* execute-disable at some level */
	XP_D = 1 << 3,  /* dirty (leaf D bit was set when cached) */
	XP_PWT = 1 << 4,
	XP_PCD = 1 << 5,
	XP_PAT = 1 << 6,
	XP_G = 1 << 7,  /* leaf G bit */
};
#define XP_XLATE_MASK (XP_RW | XP_US | XP_NX | XP_PWT | XP_PCD | XP_PAT)

struct tlb_entry {
	uint64_t vpn;      /* va >> size_log2 */
	uint64_t pa_base;  /* physical base of the page */
	uint64_t fill_seq; /* event seq of the fill, for staleness reports */
	uint32_t lru;
	uint16_t pcid;
	uint8_t valid;
	uint8_t global;
	uint8_t size_log2; /* 12, 21, 30 */
	uint8_t perm;      /* XP_* */
	uint8_t level;     /* level of the leaf entry (1..3) */
	uint8_t page_log2; /* size of the page it came from: 30 for a 1 GiB
	                      page held as a 2 MiB piece, else size_log2 */
};

struct tlb_array {
	uint8_t structure; /* TLBL_* */
	uint32_t sets, ways, set_mask;
	uint32_t clock;    /* LRU clock */
	uint32_t nvalid[3]; /* valid entries by size (4K, 2M, 1G): a probe for
	                       a size the array holds none of is skipped */
	struct tlb_entry *e; /* sets * ways */
};

/* A paging-structure-cache entry: the non-leaf entry at `level` for the
 * linear-address prefix va >> LEVEL_SHIFT(level), pointing at the next
 * table, with the permissions accumulated down to it. */
struct psc_entry {
	uint64_t prefix;
	uint64_t table_pa;
	uint64_t fill_seq;
	uint32_t lru;
	uint16_t pcid;
	uint8_t valid;
	uint8_t perm; /* XP_RW|XP_US|XP_NX accumulated */
};

struct psc_array {
	uint8_t structure; /* TLBL_PSC_* */
	uint8_t level;     /* 4, 3 or 2 */
	uint32_t n;
	uint32_t clock;
	struct psc_entry *e;
};

struct tlb {
	bool unified_l1d;
	bool l2_smash_1g; /* 1 GiB pages held as 2 MiB entries in L2 */
	struct tlb_array l1d[3]; /* by size: 0 4K (or unified), 1 2M, 2 1G */
	struct tlb_array l1i;
	struct tlb_array l2;
	struct tlb_array l2_1g;
	struct psc_array psc[3]; /* 0: PML4E (level 4), 1: PDPTE, 2: PDE */
	/* Statistics (also derivable from events). */
	uint64_t hits_l1, hits_l2, misses, fills, evictions;
};

int tlb_init(struct tlb *t, const struct profile *p);
void tlb_fini(struct tlb *t);

/* Result of a lookup: the entry that matched and where. */
struct tlb_hit {
	struct tlb_entry *e;
	int where; /* PATH_L1 or PATH_L2 */
};

/* Victim notification, so the caller can emit EV_EVICT. */
typedef void (*tlb_evict_fn)(void *ctx, const struct tlb_entry *victim,
                             uint8_t structure);

/* Finds a translation for va usable under pcid. exec selects the ITLB.
 * An L2 hit is copied into L1 (evictions reported through cb). */
bool tlb_lookup(struct tlb *t, uint64_t va, uint16_t pcid, bool exec,
                struct tlb_hit *hit, tlb_evict_fn cb, void *ctx);

/* Inserts a leaf translation (L1 of the right kind, and L2) for an
 * access to va: a structure that cannot hold a 1 GiB entry keeps the
 * 2 MiB piece containing va. */
void tlb_fill(struct tlb *t, const struct tlb_entry *proto, uint64_t va, bool exec,
              tlb_evict_fn cb, void *ctx);

/* Deepest PSC hit for va under pcid: returns the level of the cached
 * entry (4, 3 or 2) with the table it points to, or 0 if none. */
unsigned psc_lookup(struct tlb *t, uint64_t va, uint16_t pcid,
                    uint64_t *table_pa, uint8_t *perm);
void psc_fill(struct tlb *t, unsigned level, uint64_t va, uint16_t pcid,
              uint64_t table_pa, uint8_t perm, uint64_t seq,
              tlb_evict_fn cb, void *ctx);

/* Invalidation primitives (called only from inval.c). Each returns the
 * number of entries removed. */
uint32_t tlb_inv_page(struct tlb *t, uint64_t va, uint16_t pcid, bool globals);
uint32_t tlb_inv_pcid(struct tlb *t, uint16_t pcid);
uint32_t tlb_inv_all(struct tlb *t, bool globals);
uint32_t psc_inv_pcid(struct tlb *t, uint16_t pcid);
/* AMD TCE: only the PSC entries of pcid whose range covers va. */
uint32_t psc_inv_covering(struct tlb *t, uint64_t va, uint16_t pcid);
uint32_t psc_inv_all(struct tlb *t);

#endif
