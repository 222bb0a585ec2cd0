/* Concrete TLB and paging-structure caches (see tlb.h).
 *
 * Invariants (asserted):
 * - a valid entry's vpn is va >> size_log2 and its pa_base is aligned to
 *   its size;
 * - a set never holds two valid entries for the same (vpn, size, pcid,
 *   global): a fill replaces a matching entry in place;
 * - replacement takes an invalid way first, then the least recently used
 *   (lowest lru stamp, lowest way index on a tie): no randomness.
 */
#include "sim/tlb/tlb.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/event.h"
#include "sim/tlb/pte.h"

static int array_init(struct tlb_array *a, uint8_t structure, uint32_t entries,
                      uint32_t ways)
{
	memset(a, 0, sizeof(*a));
	a->structure = structure;
	if (entries == 0)
		return 0;
	assert(ways > 0 && entries % ways == 0);
	a->ways = ways;
	a->sets = entries / ways;
	assert((a->sets & (a->sets - 1)) == 0);
	a->set_mask = a->sets - 1;
	a->e = calloc(entries, sizeof(*a->e));
	return a->e ? 0 : -1;
}

static int psc_init(struct psc_array *a, uint8_t structure, uint8_t level, uint32_t n)
{
	memset(a, 0, sizeof(*a));
	a->structure = structure;
	a->level = level;
	a->n = n;
	if (n == 0)
		return 0;
	a->e = calloc(n, sizeof(*a->e));
	return a->e ? 0 : -1;
}

int tlb_init(struct tlb *t, const struct profile *p)
{
	memset(t, 0, sizeof(*t));
	t->unified_l1d = p->l1d_unified != 0;
	t->l2_smash_1g = p->l2_1g_entries == 0;
	int rc = array_init(&t->l1d[0], TLBL_L1D, p->l1d_4k_entries, p->l1d_4k_ways);
	if (!t->unified_l1d) {
		rc |= array_init(&t->l1d[1], TLBL_L1D, p->l1d_2m_entries, p->l1d_2m_ways);
		rc |= array_init(&t->l1d[2], TLBL_L1D, p->l1d_1g_entries, p->l1d_1g_ways);
	}
	rc |= array_init(&t->l1i, TLBL_L1I, p->l1i_entries, p->l1i_ways);
	rc |= array_init(&t->l2, TLBL_L2, p->l2_entries, p->l2_ways);
	rc |= array_init(&t->l2_1g, TLBL_L2, p->l2_1g_entries, p->l2_1g_ways);
	rc |= psc_init(&t->psc[0], TLBL_PSC_PML4E, 4, p->psc_pml4e);
	rc |= psc_init(&t->psc[1], TLBL_PSC_PDPTE, 3, p->psc_pdpte);
	rc |= psc_init(&t->psc[2], TLBL_PSC_PDE, 2, p->psc_pde);
	if (rc)
		tlb_fini(t);
	return rc ? -1 : 0;
}

void tlb_fini(struct tlb *t)
{
	for (int i = 0; i < 3; i++) {
		free(t->l1d[i].e);
		free(t->psc[i].e);
	}
	free(t->l1i.e);
	free(t->l2.e);
	free(t->l2_1g.e);
	memset(t, 0, sizeof(*t));
}

static inline unsigned size_index(uint8_t size_log2)
{
	return size_log2 == 12 ? 0 : size_log2 == 21 ? 1 : 2;
}

/* The set an entry of this size lives in. Sizes share an array (L2, the
 * unified L1) by indexing with their own page number, as hardware does
 * for the 4K/2M STLB. */
static inline struct tlb_entry *set_of(struct tlb_array *a, uint64_t vpn)
{
	return &a->e[(size_t)(vpn & a->set_mask) * a->ways];
}

/* The vpn is compared first: it is what differs in almost every way
 * probed, so a miss costs one compare per way. (The fields are plain
 * reads; the order of the tests changes nothing but speed.) */
static inline bool match(const struct tlb_entry *e, uint64_t vpn, uint8_t size,
                         uint16_t pcid)
{
	return e->vpn == vpn && e->valid && e->size_log2 == size &&
	       (e->global || e->pcid == pcid);
}

/* The first way of the set holding vpn that matches, or NULL. No side
 * effects. */
static inline struct tlb_entry *set_find(const struct tlb_array *a, uint64_t vpn,
                                         uint8_t size, uint16_t pcid)
{
	struct tlb_entry *s = set_of((struct tlb_array *)a, vpn);
	for (uint32_t w = 0, n = a->ways; w < n; w++)
		if (match(&s[w], vpn, size, pcid))
			return &s[w];
	return NULL;
}

/* A hit makes the entry the most recently used of its array. */
static inline struct tlb_entry *array_find(struct tlb_array *a, uint64_t va, uint8_t size,
                                           uint16_t pcid)
{
	if (!a->e || !a->nvalid[size_index(size)])
		return NULL;
	struct tlb_entry *e = set_find(a, va >> size, size, pcid);
	if (e)
		e->lru = ++a->clock;
	return e;
}

/* Sizes probed in each structure, smallest first. */
static const uint8_t sizes_all[3] = {12, 21, 30};

/* The L1 probes in order: the 4 KiB probe (ITLB or L1 DTLB, size 12)
 * first, then the larger sizes. tlb_lookup() makes the first probe inline
 * and l1_find_large() the rest, so that an L1 4 KiB hit costs one set
 * scan and no call. */
static inline struct tlb_array *l1_first(struct tlb *t, bool exec)
{
	return exec ? &t->l1i : &t->l1d[0];
}

static struct tlb_entry *l1_find_large(struct tlb *t, uint64_t va, uint16_t pcid, bool exec)
{
	struct tlb_entry *e;
	if (exec)
		return array_find(&t->l1i, va, sizes_all[1], pcid);
	if (t->unified_l1d) {
		if ((e = array_find(&t->l1d[0], va, sizes_all[1], pcid)))
			return e;
		return array_find(&t->l1d[0], va, sizes_all[2], pcid);
	}
	if ((e = array_find(&t->l1d[1], va, sizes_all[1], pcid)))
		return e;
	return array_find(&t->l1d[2], va, sizes_all[2], pcid);
}

static inline struct tlb_entry *l2_find(struct tlb *t, uint64_t va, uint16_t pcid)
{
	struct tlb_entry *e = array_find(&t->l2, va, 12, pcid);
	if (!e)
		e = array_find(&t->l2, va, 21, pcid);
	if (!e)
		e = array_find(&t->l2_1g, va, 30, pcid);
	return e;
}

/* Replacement victim among n >= 1 entries: the first invalid one, else
 * the least recently used (lowest lru stamp, the lowest index on a tie).
 * The minimum is kept branch-free: the order of the stamps is data. */
#define DEFINE_VICTIM(name, type)                                        \
	static uint32_t name(const type *e, uint32_t n)                  \
	{                                                                \
		assert(n > 0);                                           \
		if (!e[0].valid)                                         \
			return 0;                                        \
		uint32_t best = 0, best_lru = e[0].lru;                  \
		for (uint32_t k = 1; k < n; k++) {                       \
			if (!e[k].valid)                                 \
				return k;                                \
			bool lower = e[k].lru < best_lru;                \
			best = lower ? k : best;                         \
			best_lru = lower ? e[k].lru : best_lru;          \
		}                                                        \
		return best;                                             \
	}
DEFINE_VICTIM(way_victim, struct tlb_entry)
DEFINE_VICTIM(psc_victim, struct psc_entry)

/* Returns the way now holding the entry (NULL if the array has none).
 * The victim is the way holding the same page and tag if any (refill in
 * place), else the first invalid way, else the valid way with the lowest
 * lru stamp (the lowest way index on a tie). */
static struct tlb_entry *array_insert(struct tlb_array *a, const struct tlb_entry *proto,
                                      tlb_evict_fn cb, void *ctx)
{
	if (!a->e)
		return NULL;
	assert((proto->pa_base & ((1ull << proto->size_log2) - 1)) == 0);
	struct tlb_entry *s = set_of(a, proto->vpn);
	struct tlb_entry *victim = NULL;
	for (uint32_t w = 0, n = a->ways; w < n; w++) {
		struct tlb_entry *e = &s[w];
		/* Same page, same tag: refill in place (never two copies). */
		if (e->vpn == proto->vpn && e->valid && e->size_log2 == proto->size_log2 &&
		    e->global == proto->global && (e->global || e->pcid == proto->pcid)) {
			victim = e;
			break;
		}
	}
	if (!victim)
		victim = &s[way_victim(s, a->ways)];
	if (victim->valid && cb &&
	    !(victim->vpn == proto->vpn && victim->size_log2 == proto->size_log2))
		cb(ctx, victim, a->structure);
	if (victim->valid)
		a->nvalid[size_index(victim->size_log2)]--;
	a->nvalid[size_index(proto->size_log2)]++;
	*victim = *proto;
	victim->valid = 1;
	victim->lru = ++a->clock;
	return victim;
}

/* A 1 GiB translation as the 2 MiB piece containing va (Zen's L2 "smashes"
 * 1G pages, hw-facts §2; Skylake's ITLB has no 1G entries). */
static struct tlb_entry smash_to_2m(const struct tlb_entry *e, uint64_t va)
{
	struct tlb_entry s = *e;
	uint64_t off = (va & ((1ull << 30) - 1)) & ~((1ull << 21) - 1);
	assert(e->size_log2 == 30 && (va >> 30) == e->vpn);
	s.size_log2 = 21;
	s.page_log2 = 30;
	s.vpn = va >> 21;
	s.pa_base = e->pa_base + off;
	return s;
}

/* Everything after an L1 4 KiB miss. */
static bool __attribute__((noinline))
lookup_rest(struct tlb *t, uint64_t va, uint16_t pcid, bool exec, struct tlb_hit *hit,
            tlb_evict_fn cb, void *ctx)
{
	struct tlb_entry *e = l1_find_large(t, va, pcid, exec);
	if (e) {
		t->hits_l1++;
		hit->e = e;
		hit->where = PATH_L1;
		return true;
	}
	e = l2_find(t, va, pcid);
	if (!e) {
		t->misses++;
		return false;
	}
	t->hits_l2++;
	/* Promote to L1 so the next access hits there. */
	struct tlb_entry copy = *e;
	struct tlb_array *l1;
	if (exec) {
		l1 = &t->l1i;
		if (copy.size_log2 == 30)
			copy = smash_to_2m(&copy, va);
	} else {
		l1 = t->unified_l1d ? &t->l1d[0] : &t->l1d[size_index(copy.size_log2)];
	}
	struct tlb_entry *l1e = array_insert(l1, &copy, cb, ctx);
	/* An L1 lookup now finds exactly the entry just inserted: the first
	 * lookup matched nothing in L1, and the insertion changed only that
	 * way (copy matches va under pcid as e did). The lookup's side
	 * effect, a second LRU stamp, is applied directly. */
	if (l1e) {
		assert(l1e == set_find(l1, va >> l1e->size_log2, l1e->size_log2, pcid));
		l1e->lru = ++l1->clock;
	}
	hit->e = l1e ? l1e : e;
	hit->where = PATH_L2;
	return true;
}

bool tlb_lookup(struct tlb *t, uint64_t va, uint16_t pcid, bool exec,
                struct tlb_hit *hit, tlb_evict_fn cb, void *ctx)
{
	struct tlb_entry *e = array_find(l1_first(t, exec), va, sizes_all[0], pcid);
	if (e) {
		t->hits_l1++;
		hit->e = e;
		hit->where = PATH_L1;
		return true;
	}
	return lookup_rest(t, va, pcid, exec, hit, cb, ctx);
}

void tlb_fill(struct tlb *t, const struct tlb_entry *proto, uint64_t va, bool exec,
              tlb_evict_fn cb, void *ctx)
{
	assert(proto->size_log2 == 12 || proto->size_log2 == 21 || proto->size_log2 == 30);
	assert(proto->page_log2 == proto->size_log2 && (va >> proto->size_log2) == proto->vpn);
	t->fills++;
	if (exec) {
		struct tlb_entry c = proto->size_log2 == 30 ? smash_to_2m(proto, va) : *proto;
		array_insert(&t->l1i, &c, cb, ctx);
	} else if (t->unified_l1d) {
		array_insert(&t->l1d[0], proto, cb, ctx);
	} else {
		array_insert(&t->l1d[size_index(proto->size_log2)], proto, cb, ctx);
	}
	if (proto->size_log2 == 30) {
		if (t->l2_smash_1g) {
			struct tlb_entry c = smash_to_2m(proto, va);
			array_insert(&t->l2, &c, cb, ctx);
		} else {
			array_insert(&t->l2_1g, proto, cb, ctx);
		}
	} else {
		array_insert(&t->l2, proto, cb, ctx);
	}
}

/* Paging-structure caches ------------------------------------------------ */

unsigned psc_lookup(struct tlb *t, uint64_t va, uint16_t pcid, uint64_t *table_pa,
                    uint8_t *perm)
{
	/* Deepest first: a PDE-cache hit leaves only the PTE to read. A
	 * (pcid, prefix) is held at most once per array (psc_fill refills in
	 * place), so the first match is the only one. */
	for (int i = 2; i >= 0; i--) {
		struct psc_array *a = &t->psc[i];
		uint64_t prefix = va >> LEVEL_SHIFT(a->level);
		struct psc_entry *e = a->e;
		for (uint32_t k = 0, n = a->n; k < n; k++, e++) {
			if (e->prefix == prefix && e->valid && e->pcid == pcid) {
				e->lru = ++a->clock;
				*table_pa = e->table_pa;
				*perm = e->perm;
				return a->level;
			}
		}
	}
	return 0;
}

/* Victim choice as in array_insert(): the entry for the same (pcid,
 * prefix), else the first invalid one, else the least recently used
 * (lowest index on a tie). */
void psc_fill(struct tlb *t, unsigned level, uint64_t va, uint16_t pcid,
              uint64_t table_pa, uint8_t perm, uint64_t seq, tlb_evict_fn cb,
              void *ctx)
{
	assert(level >= 2 && level <= 4);
	struct psc_array *a = &t->psc[4 - level];
	if (a->n == 0)
		return;
	uint64_t prefix = va >> LEVEL_SHIFT(level);
	struct psc_entry *victim = NULL;
	for (uint32_t k = 0, n = a->n; k < n; k++) {
		struct psc_entry *e = &a->e[k];
		if (e->prefix == prefix && e->valid && e->pcid == pcid) {
			victim = e;
			break;
		}
	}
	if (!victim)
		victim = &a->e[psc_victim(a->e, a->n)];
	if (victim->valid && cb && !(victim->pcid == pcid && victim->prefix == prefix)) {
		struct tlb_entry v = {
			.vpn = victim->prefix,
			.pa_base = victim->table_pa,
			.pcid = victim->pcid,
			.valid = 1,
			.size_log2 = (uint8_t)LEVEL_SHIFT(level),
			.level = (uint8_t)level,
		};
		cb(ctx, &v, a->structure);
	}
	*victim = (struct psc_entry){
		.prefix = prefix,
		.table_pa = table_pa,
		.fill_seq = seq,
		.lru = ++a->clock,
		.pcid = pcid,
		.valid = 1,
		.perm = perm,
	};
}

/* Invalidation primitives -------------------------------------------------- */

typedef bool (*entry_pred)(const struct tlb_entry *e, const void *arg);

static uint32_t array_inv(struct tlb_array *a, entry_pred pred, const void *arg)
{
	uint32_t n = 0;
	/* Nothing to scan in an empty array (most of them, most of the time:
	 * a page-by-page flush of a 2 MiB range scans every array 512 times). */
	if (!(a->nvalid[0] | a->nvalid[1] | a->nvalid[2]))
		return 0;
	size_t total = (size_t)a->sets * a->ways;
	for (size_t i = 0; i < total; i++) {
		struct tlb_entry *e = &a->e[i];
		if (e->valid && pred(e, arg)) {
			e->valid = 0;
			assert(a->nvalid[size_index(e->size_log2)] > 0);
			a->nvalid[size_index(e->size_log2)]--;
			n++;
		}
	}
	return n;
}

static uint32_t all_arrays_inv(struct tlb *t, entry_pred pred, const void *arg)
{
	uint32_t n = 0;
	for (int i = 0; i < 3; i++)
		if (t->l1d[i].e)
			n += array_inv(&t->l1d[i], pred, arg);
	if (t->l1i.e)
		n += array_inv(&t->l1i, pred, arg);
	if (t->l2.e)
		n += array_inv(&t->l2, pred, arg);
	if (t->l2_1g.e)
		n += array_inv(&t->l2_1g, pred, arg);
	return n;
}

struct page_arg {
	uint64_t va;
	uint16_t pcid;
	bool globals;
};

/* SDM §4.10.4.1: INVLPG/INVPCID-0 remove every entry, of any page size,
 * whose range contains the address (hw-facts §1.1 "Page sizes"). */
static bool pred_page(const struct tlb_entry *e, const void *arg)
{
	const struct page_arg *p = arg;
	/* By the size of the PAGE: every 2 MiB piece of a smashed 1 GiB page
	 * goes, whichever piece holds the address. */
	if (((e->vpn << e->size_log2) ^ p->va) >> e->page_log2)
		return false;
	return e->global ? p->globals : e->pcid == p->pcid;
}

uint32_t tlb_inv_page(struct tlb *t, uint64_t va, uint16_t pcid, bool globals)
{
	struct page_arg arg = {va, pcid, globals};
	/* Only the sets that can hold va need scanning, but a full scan keeps
	 * one code path for every geometry; invalidations are rare next to
	 * lookups, and the arrays are small. */
	return all_arrays_inv(t, pred_page, &arg);
}

static bool pred_pcid(const struct tlb_entry *e, const void *arg)
{
	return !e->global && e->pcid == *(const uint16_t *)arg;
}

uint32_t tlb_inv_pcid(struct tlb *t, uint16_t pcid)
{
	return all_arrays_inv(t, pred_pcid, &pcid);
}

static bool pred_all(const struct tlb_entry *e, const void *arg)
{
	return *(const bool *)arg || !e->global;
}

uint32_t tlb_inv_all(struct tlb *t, bool globals)
{
	return all_arrays_inv(t, pred_all, &globals);
}

uint32_t psc_inv_pcid(struct tlb *t, uint16_t pcid)
{
	uint32_t n = 0;
	for (int i = 0; i < 3; i++)
		for (uint32_t k = 0; k < t->psc[i].n; k++) {
			struct psc_entry *e = &t->psc[i].e[k];
			if (e->valid && e->pcid == pcid) {
				e->valid = 0;
				n++;
			}
		}
	return n;
}

uint32_t psc_inv_covering(struct tlb *t, uint64_t va, uint16_t pcid)
{
	uint32_t n = 0;
	for (int i = 0; i < 3; i++) {
		struct psc_array *a = &t->psc[i];
		uint64_t prefix = va >> LEVEL_SHIFT(a->level);
		for (uint32_t k = 0; k < a->n; k++) {
			struct psc_entry *e = &a->e[k];
			if (e->valid && e->pcid == pcid && e->prefix == prefix) {
				e->valid = 0;
				n++;
			}
		}
	}
	return n;
}

uint32_t psc_inv_all(struct tlb *t)
{
	uint32_t n = 0;
	for (int i = 0; i < 3; i++)
		for (uint32_t k = 0; k < t->psc[i].n; k++)
			if (t->psc[i].e[k].valid) {
				t->psc[i].e[k].valid = 0;
				n++;
			}
	return n;
}
