/* What the runner checks after every hypervisor operation (seed 000's
 * properties), each failure an EV_CHECK event read by checks/hv_*.sql and
 * by the in-process checker:
 *  - the envelope of every CPU holds nothing stale (quiescent point);
 *  - every address of the operation's range translates, in the page
 *    tables and in every CPU's concrete TLB, to what the reference map
 *    says was requested (frame and flags);
 *  - the page-table pages the hypervisor counts live are exactly those
 *    reachable from its root (no leak);
 *  - every frame whose memory type changed left the caches (CLFLUSH of
 *    all its lines, or a WBINVD) before the operation completed.
 */
#include <string.h>

#include "runner/platform.h"
#include "sim/event.h"
#include "sim/tlb/pte.h"
#include "sim/tlb/walk.h"

#define MAX_REPORTS 8 /* mapping differences reported per operation */
#define NOTHING UINT64_MAX

struct check {
	struct platform *p;
	unsigned cpu;
	uint32_t op;
	unsigned reported;
	uint32_t found;
};

static void report(struct check *k, unsigned kind, uint64_t va, uint64_t expected,
                   uint64_t actual, uint64_t who, uint64_t count)
{
	k->found++;
	if (k->reported++ >= MAX_REPORTS)
		return;
	struct event ev = machine_event(k->p->m, EV_CHECK, (int)k->cpu);
	ev.sub = (uint16_t)kind;
	ev.a = va;
	ev.b = expected;
	ev.c = actual;
	ev.d = k->op;
	ev.e = who;
	ev.f = count;
	machine_emit(k->p->m, &ev);
}

/* Requested 4 KiB-form flags as the translation bits a TLB entry holds.
 * US is left out: the hypervisor's own tables are supervisor-only. */
static uint8_t requested_perm(uint64_t f)
{
	uint8_t p = 0;
	if (f & PTE_RW)
		p |= XP_RW;
	if (f & PTE_NX)
		p |= XP_NX;
	if (f & PTE_PWT)
		p |= XP_PWT;
	if (f & PTE_PCD)
		p |= XP_PCD;
	if (f & PTE_PAT4K)
		p |= XP_PAT;
	if (f & PTE_G)
		p |= XP_G;
	return p;
}

#define PERM_CMP (XP_RW | XP_NX | XP_PWT | XP_PCD | XP_PAT | XP_G)

/* Compares [lo, hi] translated by x (NULL: not mapped) with the reference. */
static void cmp_piece(struct check *k, uint64_t lo, uint64_t hi, const struct xlate *x,
                      unsigned kind, uint64_t who)
{
	const struct refmap *r = &k->p->ref;
	uint64_t v = lo;
	for (uint32_t i = refmap_lower(r, lo); v <= hi; i++) {
		const struct ref_iv *iv = i < r->n ? &r->v[i] : NULL;
		uint64_t gap_end = iv && iv->va <= hi ? iv->va - 1 : hi;
		if (!iv || iv->va > v) { /* no request for [v, gap_end] */
			if (x && x->present) {
				report(k, kind, v, NOTHING, xlate_pa(x, v), who, 0);
				return;
			}
			if (gap_end >= hi)
				return;
			v = gap_end + 1;
		}
		if (!iv)
			return;
		uint64_t want = iv->pa + (v - iv->va);
		if (!x || !x->present) {
			report(k, kind, v, want, NOTHING, who, 0);
			return;
		}
		if (xlate_pa(x, v) != want ||
		    (x->perm & PERM_CMP) != requested_perm(iv->flags)) {
			report(k, kind, v, want, xlate_pa(x, v), who, 0);
			return;
		}
		if (iv->end - 1 >= hi)
			return;
		v = iv->end;
	}
}

static void cmp_tables(struct check *k, uint64_t table_pa, unsigned level, uint8_t perm,
                       uint64_t lo, uint64_t hi)
{
	struct mem *mem = &k->p->m->mem;
	unsigned shift = LEVEL_SHIFT(level);
	uint64_t base = shift + 9 >= 48 ? (lo & ~((1ull << 48) - 1)) : (lo & ~((1ull << (shift + 9)) - 1));
	for (unsigned i = LEVEL_INDEX(lo, level); i <= LEVEL_INDEX(hi, level); i++) {
		uint64_t e = mem_read64(mem, table_pa + 8ull * i);
		uint64_t ebase = base | ((uint64_t)i << shift);
		uint64_t elo = ebase > lo ? ebase : lo;
		uint64_t elast = ebase + ((1ull << shift) - 1);
		uint64_t ehi = elast < hi ? elast : hi;
		if (!pte_present(e) || pte_is_leaf(e, level)) {
			struct xlate x;
			memset(&x, 0, sizeof(x));
			if (pte_present(e))
				xlate_from_leaf(e, level, perm, &x);
			cmp_piece(k, elo, ehi, &x, CHECK_MAPPING, k->cpu);
		} else {
			cmp_tables(k, pte_addr(e, level), level - 1, perm_combine(perm, e), elo, ehi);
		}
	}
}

static void check_tlbs(struct check *k, uint64_t lo, uint64_t hi)
{
	struct machine *m = k->p->m;
	for (uint32_t c = 0; c < m->ncpus; c++) {
		struct tlb *t = &m->cpus[c].tlb;
		struct tlb_array *arrays[] = {&t->l1d[0], &t->l1d[1], &t->l1d[2], &t->l1i, &t->l2,
		                              &t->l2_1g};
		for (unsigned a = 0; a < 6; a++) {
			struct tlb_array *ar = arrays[a];
			size_t total = (size_t)ar->sets * ar->ways;
			for (size_t i = 0; ar->e && i < total; i++) {
				const struct tlb_entry *e = &ar->e[i];
				if (!e->valid)
					continue;
				uint64_t elo = e->vpn << e->size_log2;
				uint64_t ehi = elo + ((1ull << e->size_log2) - 1);
				if (ehi < lo || elo > hi)
					continue;
				struct xlate x = {.pa_base = e->pa_base, .present = 1,
				                  .size_log2 = e->size_log2, .perm = e->perm};
				cmp_piece(k, elo > lo ? elo : lo, ehi < hi ? ehi : hi, &x, CHECK_TLB, c);
			}
		}
	}
}

/* Page-table pages reachable from the root, the root excluded. */
static uint64_t count_tables(struct mem *mem, uint64_t table_pa, unsigned level)
{
	if (level == 1)
		return 0;
	uint64_t n = 0;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = mem_read64(mem, table_pa + 8ull * i);
		if (pte_present(e) && !pte_is_leaf(e, level))
			n += 1 + count_tables(mem, pte_addr(e, level), level - 1);
	}
	return n;
}

static void check_cache(struct check *k)
{
	struct platform *p = k->p;
	if (p->wbinvd_seen)
		return;
	for (uint32_t i = 0; i < p->npend; i++) {
		const struct cache_pending *c = &p->pend[i];
		for (uint64_t f = 0; f < c->npages; f++) {
			uint32_t idx;
			if (u64map_get(&p->lines, c->first_pfn + f, &idx) && p->line_masks[idx] == ~0ull)
				continue;
			report(k, CHECK_CACHE, c->first_pfn << 12, 0, 0, k->cpu, c->npages);
			break;
		}
	}
}

uint32_t platform_check(struct platform *p, unsigned cpu, uint64_t va, uint64_t count,
                        uint32_t op_index)
{
	struct machine *m = p->m;
	struct check k = {.p = p, .cpu = cpu, .op = op_index};
	/* The quiescent point: nothing stale may remain in any envelope. */
	uint64_t stale = 0;
	for (uint32_t c = 0; c < m->ncpus; c++)
		stale += env_quiesce(m, c);
	struct event ev = machine_event(m, EV_QUIESCE, -1);
	ev.a = 0; /* 0: after a hypervisor operation, not a scenario quiesce op */
	ev.b = stale;
	ev.cycle = m->cpus[cpu].clock;
	machine_emit(m, &ev);

	uint64_t lo = va, hi = va + (count << 12) - 1;
	cmp_tables(&k, p->hv.root_pfn << 12, 4, XP_RW | XP_US, lo, hi);
	k.reported = 0;
	check_tlbs(&k, lo, hi);
	k.reported = 0;
	uint64_t reach = count_tables(&m->mem, p->hv.root_pfn << 12, 4);
	if (reach != p->hv.pt.live)
		report(&k, CHECK_PT_LEAK, 0, p->hv.pt.live, reach, cpu, 0);
	check_cache(&k);
	return k.found + (uint32_t)stale;
}
