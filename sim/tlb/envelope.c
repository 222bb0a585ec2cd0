/* The envelope (see envelope.h for the model and its invariants).
 *
 * Invariants:
 * - every record's pcid is ENV_GLOBAL or the pcid of a slot that held
 *   rec->root_pfn when the record was made;
 * - a record is dropped only by an invalidation that covers it (inval.c),
 *   never by time or capacity: the envelope may only over-approximate;
 * - a VIEW record with a snapshot is dropped by single-page invalidation
 *   only when every leaf of the snapshot has been carved out.
 */
#include "sim/tlb/envelope.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/event.h"
#include "sim/machine.h"
#include "sim/tlb/pte.h"
#include "sim/tlb/walk.h"
#include "sim/vec.h"

static inline uint64_t range_last(uint64_t va, unsigned level)
{
	return va + ((1ull << LEVEL_SHIFT(level)) - 1);
}

void env_cpu_init(struct env_cpu *e)
{
	memset(e, 0, sizeof(*e));
	e->gslot.pcid = ENV_GLOBAL;
}

static void snap_put(struct env_snap *s)
{
	if (s && --s->refs == 0) {
		free(s->leaves);
		free(s);
	}
}

static void rec_release(struct env_rec *r)
{
	snap_put(r->snap);
	free(r->carved);
	r->snap = NULL;
	r->carved = NULL;
}

void env_cpu_fini(struct env_cpu *e)
{
	for (uint32_t i = 0; i < e->nrecs; i++)
		rec_release(&e->recs[i]);
	free(e->recs);
	free(e->slots);
	memset(e, 0, sizeof(*e));
}

void env_global_fini(struct env_global *g)
{
	free(g->drops);
	memset(g, 0, sizeof(*g));
}


/* Slots ------------------------------------------------------------------- */

static struct env_slot *slot_find(struct env_cpu *e, uint32_t pcid, bool create)
{
	uint32_t lo = 0, hi = e->nslots;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (e->slots[mid].pcid < pcid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < e->nslots && e->slots[lo].pcid == pcid)
		return &e->slots[lo];
	if (!create)
		return NULL;
	VEC_RESERVE(e->slots, e->capslots, e->nslots, 4);
	memmove(&e->slots[lo + 1], &e->slots[lo], (e->nslots - lo) * sizeof(e->slots[0]));
	e->nslots++;
	memset(&e->slots[lo], 0, sizeof(e->slots[lo]));
	e->slots[lo].pcid = pcid;
	return &e->slots[lo];
}

static const struct env_root *slot_root(const struct env_slot *s, uint64_t pfn)
{
	for (uint32_t i = 0; i < s->nroots; i++)
		if (s->roots[i].pfn == pfn)
			return &s->roots[i];
	return NULL;
}

static void slot_set_count(struct env_cpu *e, struct env_slot *s, uint32_t n)
{
	bool was = s->nroots > 1, now = n > 1;
	s->nroots = n;
	if (was != now)
		e->nmulti = now ? e->nmulti + 1 : e->nmulti - 1;
}

static void slot_add(struct machine *m, unsigned cpu, struct env_cpu *e,
                     struct env_slot *s, uint64_t pfn, bool pge0)
{
	for (uint32_t i = 0; i < s->nroots; i++)
		if (s->roots[i].pfn == pfn) {
			s->roots[i].pge0 |= pge0;
			return;
		}
	if (s->nroots == ENV_MAX_ROOTS) {
		/* Out of room: forget the oldest root. This under-approximates,
		 * so say so in the recording (docs/models.md). */
		struct event ev = machine_event(m, EV_NOTE, (int)cpu);
		ev.a = s->roots[0].pfn << PAGE_SHIFT;
		ev.sub = 1;
		machine_emit(m, &ev);
		memmove(&s->roots[0], &s->roots[1], (ENV_MAX_ROOTS - 1) * sizeof(s->roots[0]));
		s->overflowed = true;
		s->roots[ENV_MAX_ROOTS - 1] = (struct env_root){.pfn = pfn, .pge0 = pge0};
		return;
	}
	s->roots[s->nroots] = (struct env_root){.pfn = pfn, .pge0 = pge0};
	slot_set_count(e, s, s->nroots + 1);
}

static void slot_clear(struct env_cpu *e, struct env_slot *s)
{
	slot_set_count(e, s, 0);
	s->overflowed = false;
}

void env_load_root(struct machine *m, unsigned cpu, uint32_t pcid, uint64_t root_pfn,
                   bool pge)
{
	struct env_cpu *e = &m->cpus[cpu].env;
	slot_add(m, cpu, e, slot_find(e, pcid, true), root_pfn, !pge);
	if (pge)
		slot_add(m, cpu, e, &e->gslot, root_pfn, false);
}

void env_sync_current(struct machine *m, unsigned cpu)
{
	const struct cpu *c = &m->cpus[cpu];
	if ((c->cr3 & CR3_ADDR_MASK) == 0)
		return; /* no root loaded yet */
	uint32_t pcid = (c->cr4 & CR4_PCIDE) ? (uint32_t)(c->cr3 & CR3_PCID_MASK) : 0;
	env_load_root(m, cpu, pcid, (c->cr3 & CR3_ADDR_MASK) >> PAGE_SHIFT,
	              (c->cr4 & CR4_PGE) != 0);
}

/* Snapshots ---------------------------------------------------------------- */

static void snap_push(struct env_snap *s, uint32_t *cap, uint64_t va, uint64_t e,
                      unsigned level, uint8_t perm)
{
	if (s->n == ENV_SNAP_MAX_LEAVES) {
		s->truncated = true;
		return;
	}
	VEC_RESERVE(s->leaves, *cap, s->n, 16);
	s->leaves[s->n++] = (struct env_leaf){.va = va, .entry = e, .level = (uint8_t)level,
	                                      .perm_above = perm};
	if (e & PTE_G)
		s->has_global = true;
}

/* Appends the present leaves under table_pa (of level) in va order. */
static void snap_collect(struct machine *m, struct env_snap *s, uint32_t *cap,
                         uint64_t table_pa, unsigned level, uint8_t perm, uint64_t va_base,
                         unsigned depth)
{
	if (depth > 4)
		return;
	const uint64_t *d = mem_frame_peek(&m->mem, table_pa >> PAGE_SHIFT);
	if (!d)
		return;
	for (unsigned i = 0; i < 512 && !s->truncated; i++) {
		uint64_t e = d[i];
		if (!pte_present(e) || pte_reserved(e, level, &m->wenv))
			continue;
		uint64_t va = canonical_va(va_base | ((uint64_t)i << LEVEL_SHIFT(level)));
		if (pte_is_leaf(e, level))
			snap_push(s, cap, va, e, level, perm);
		else
			snap_collect(m, s, cap, pte_addr(e, level), level - 1,
			             perm_combine(perm, e), va, depth + 1);
	}
}

static struct env_snap *snap_build(struct machine *m, uint64_t old, unsigned level,
                                   uint64_t va, uint8_t perm_above)
{
	struct env_snap *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->refs = 1;
	uint32_t cap = 0;
	snap_collect(m, s, &cap, pte_addr(old, level), level - 1,
	             perm_combine(perm_above, old), va, 0);
	return s;
}

/* Finds the snapshot leaf whose range contains va, or -1. */
static long snap_find(const struct env_snap *s, uint64_t va)
{
	long lo = 0, hi = (long)s->n - 1;
	while (lo <= hi) {
		long mid = (lo + hi) / 2;
		const struct env_leaf *l = &s->leaves[mid];
		if (va < l->va)
			hi = mid - 1;
		else if (va > range_last(l->va, l->level))
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

static bool carved(const struct env_rec *r, long i)
{
	return r->carved && ((r->carved[i / 64] >> (i % 64)) & 1);
}

/* Records ----------------------------------------------------------------- */

static void rec_add(struct machine *m, unsigned cpu, const struct env_rec *proto)
{
	struct env_cpu *e = &m->cpus[cpu].env;
	assert(m->envg.live_records < ENV_MAX_RECORDS);
	VEC_RESERVE(e->recs, e->caprecs, e->nrecs, 16);
	struct env_rec *r = &e->recs[e->nrecs++];
	*r = *proto;
	r->id = ++m->envg.next_id;
	if (r->snap)
		r->snap->refs++;
	m->envg.live_records++;

	struct event ev = machine_event(m, EV_ENV_ADD, (int)cpu);
	ev.sub = r->kind;
	ev.a = r->id;
	ev.b = r->pcid;
	ev.c = r->va;
	ev.d = LEVEL_SHIFT(r->level);
	ev.e = (uint64_t)r->level << 8;
	ev.f = (r->kind == ENVK_PSC || r->snap) ? r->table_pfn << PAGE_SHIFT : r->old;
	machine_emit(m, &ev);
}

/* Does the write change anything a CPU may have cached? Only present
 * entries are cached (SDM §4.10.2.3: no negative caching on Intel), and
 * changes to A, D and software bits alter no translation. */
static bool write_matters(uint64_t old, uint64_t nw, unsigned level)
{
	if (!pte_present(old))
		return false;
	if (!pte_present(nw))
		return true;
	return pte_addr(old, level) != pte_addr(nw, level) ||
	       ((old ^ nw) & (PTE_XLATE_FLAGS | PTE_PAT_LARGE)) != 0;
}

void env_note_write(struct machine *m, uint64_t table_pfn, unsigned index,
                    unsigned level, uint64_t old, uint64_t nw, uint64_t seq)
{
	if (!write_matters(old, nw, level))
		return;
	struct pt_path paths[PT_MAX_PATHS];
	unsigned np = ptm_paths(&m->pt, &m->mem, table_pfn, paths, PT_MAX_PATHS);
	bool leaf = pte_is_leaf(old, level);
	for (unsigned k = 0; k < np; k++) {
		uint64_t va = canonical_va(paths[k].va | ((uint64_t)index << LEVEL_SHIFT(level)));
		struct env_rec proto = {
			.seq = seq,
			.va = va,
			.root_pfn = paths[k].root_pfn,
			.old = old,
			.table_pfn = leaf ? 0 : pte_addr(old, level) >> PAGE_SHIFT,
			.kind = ENVK_VIEW,
			.level = (uint8_t)level,
			.perm_above = paths[k].perm,
		};
		/* The snapshot is shared by every CPU's record for this path. */
		if (!leaf)
			proto.snap = snap_build(m, old, level, va, paths[k].perm);
		bool globals = leaf ? (old & PTE_G) != 0 : proto.snap->has_global;
		for (uint32_t c = 0; c < m->ncpus; c++) {
			struct env_cpu *e = &m->cpus[c].env;
			for (uint32_t s = 0; s < e->nslots; s++) {
				const struct env_root *r = slot_root(&e->slots[s], proto.root_pfn);
				if (!r)
					continue;
				/* A G=1 leaf is cached non-globally only if it
				 * was filled while CR4.PGE=0. */
				if (leaf && (old & PTE_G) && !r->pge0)
					continue;
				proto.pcid = e->slots[s].pcid;
				proto.kind = ENVK_VIEW;
				rec_add(m, c, &proto);
				if (!leaf) {
					proto.kind = ENVK_PSC;
					struct env_snap *keep = proto.snap;
					proto.snap = NULL;
					rec_add(m, c, &proto);
					proto.snap = keep;
				}
			}
			if (globals && slot_root(&e->gslot, proto.root_pfn)) {
				proto.pcid = ENV_GLOBAL;
				proto.kind = ENVK_VIEW;
				rec_add(m, c, &proto);
			}
		}
		snap_put(proto.snap);
	}
}

/* Comparisons ---------------------------------------------------------------- */

/* Compares the old translation o over [lo, hi] with the current tree below
 * table_pa (of level, perm accumulated above). Both map linearly over any
 * common sub-range, so one point per current leaf decides. */
static int cmp_range(struct machine *m, uint64_t table_pa, unsigned level, uint8_t perm,
                     uint64_t lo, uint64_t hi, const struct xlate *o, unsigned depth)
{
	if (depth > 4)
		return ENV_STALE;
	int cls = ENV_BENIGN;
	unsigned shift = LEVEL_SHIFT(level);
	uint64_t table_base = shift + 9 >= 48 ? (lo & ~((1ull << 48) - 1)) :
	                                        (lo & ~((1ull << (shift + 9)) - 1));
	for (unsigned i = LEVEL_INDEX(lo, level); i <= LEVEL_INDEX(hi, level); i++) {
		uint64_t e = mem_read64(&m->mem, table_pa + 8ull * i);
		uint64_t ebase = table_base | ((uint64_t)i << shift);
		uint64_t elo = ebase > lo ? ebase : lo;
		uint64_t elast = ebase + ((1ull << shift) - 1);
		uint64_t ehi = elast < hi ? elast : hi;
		if (!pte_present(e) || pte_reserved(e, level, &m->wenv))
			return ENV_STALE; /* o was present */
		if (pte_is_leaf(e, level)) {
			struct xlate x;
			xlate_from_leaf(e, level, perm, &x);
			int xc = xlate_cmp_at(o, &x, elo);
			if (xc == XC_STALE)
				return ENV_STALE;
			/* Only spurious faults (weaker), or a page-size change the
			 * SDM says to invalidate for (§4.10.4.2): needed, not stale. */
			if (xc == XC_WEAKER || x.size_log2 != o->size_log2)
				cls = ENV_NEEDED;
		} else {
			int c = cmp_range(m, pte_addr(e, level), level - 1, perm_combine(perm, e),
			                  elo, ehi, o, depth + 1);
			if (c == ENV_STALE)
				return c;
			if (c > cls)
				cls = c;
		}
	}
	return cls;
}

/* Old translation o (covering [lo, hi]) against the current tree of root. */
static int cmp_root(struct machine *m, uint64_t root_pfn, uint64_t lo, uint64_t hi,
                    const struct xlate *o)
{
	if (!ptm_is_table(&m->pt, root_pfn))
		return ENV_STALE; /* the root itself is gone */
	return cmp_range(m, root_pfn << PAGE_SHIFT, 4, XP_RW | XP_US, lo, hi, o, 0);
}

static int leaf_class(struct machine *m, uint64_t root_pfn, const struct env_leaf *l)
{
	struct xlate o;
	xlate_from_leaf(l->entry, l->level, l->perm_above, &o);
	return cmp_root(m, root_pfn, l->va, range_last(l->va, l->level), &o);
}

/* Compares, leaf by leaf, what a walk through the (possibly stale) table
 * table_pa would give with what the current tree of root gives. */
struct psc_cmp {
	struct machine *m;
	uint64_t root_pfn;
	int cls;
	uint32_t budget;
};

static void psc_cmp_rec(struct psc_cmp *pc, uint64_t table_pa, unsigned level, uint8_t perm,
                        uint64_t va_base, unsigned depth)
{
	if (depth > 4)
		return;
	const uint64_t *d = mem_frame_peek(&pc->m->mem, table_pa >> PAGE_SHIFT);
	if (!d)
		return;
	for (unsigned i = 0; i < 512 && pc->cls != ENV_STALE && pc->budget; i++) {
		uint64_t e = d[i];
		if (!pte_present(e) || pte_reserved(e, level, &pc->m->wenv))
			continue;
		uint64_t va = canonical_va(va_base | ((uint64_t)i << LEVEL_SHIFT(level)));
		if (pte_is_leaf(e, level)) {
			pc->budget--;
			struct env_leaf l = {.va = va, .entry = e, .level = (uint8_t)level,
			                     .perm_above = perm};
			if (leaf_class(pc->m, pc->root_pfn, &l) == ENV_STALE)
				pc->cls = ENV_STALE;
		} else {
			psc_cmp_rec(pc, pte_addr(e, level), level - 1, perm_combine(perm, e), va,
			            depth + 1);
		}
	}
}

static int rec_class(struct machine *m, const struct env_rec *r, int *reason)
{
	*reason = STALE_DIFFERS;
	if (r->kind == ENVK_PSC) {
		if (!ptm_is_table(&m->pt, r->table_pfn)) {
			*reason = STALE_NOT_TABLE;
			return ENV_STALE;
		}
		struct psc_cmp pc = {m, r->root_pfn, ENV_NEEDED, ENV_SNAP_MAX_LEAVES};
		psc_cmp_rec(&pc, r->table_pfn << PAGE_SHIFT, r->level - 1u,
		            perm_combine(r->perm_above, r->old), r->va, 0);
		return pc.cls;
	}
	if (!r->snap) {
		struct xlate o;
		xlate_from_leaf(r->old, r->level, r->perm_above, &o);
		return cmp_root(m, r->root_pfn, r->va, range_last(r->va, r->level), &o);
	}
	if (r->snap->truncated)
		return ENV_STALE; /* unknown leaves: conservative */
	int cls = ENV_BENIGN;
	for (uint32_t i = 0; i < r->snap->n; i++) {
		if (carved(r, i))
			continue;
		if (r->pcid == ENV_GLOBAL && !(r->snap->leaves[i].entry & PTE_G))
			continue;
		int c = leaf_class(m, r->root_pfn, &r->snap->leaves[i]);
		if (c == ENV_STALE)
			return c;
		if (c > cls)
			cls = c;
	}
	return cls;
}

/* Invalidation ---------------------------------------------------------------- */

static void drop_note(struct machine *m, uint64_t id, int cls, struct env_inv_result *res)
{
	struct env_global *g = &m->envg;
	VEC_RESERVE(g->drops, g->capdrops, g->ndrops, 64);
	g->drops[g->ndrops++] = (struct env_drop){.id = id, .cls = (uint8_t)cls};
	res->removed++;
	if (cls == ENV_STALE)
		res->stale++;
	else if (cls == ENV_NEEDED)
		res->needed++;
}

typedef bool (*rec_pred)(const struct env_rec *r, const void *arg);

/* Drops every record pred selects, keeping the others in order. */
static void drop_where(struct machine *m, unsigned cpu, rec_pred pred, const void *arg,
                       struct env_inv_result *res)
{
	struct env_cpu *e = &m->cpus[cpu].env;
	uint32_t keep = 0;
	for (uint32_t i = 0; i < e->nrecs; i++) {
		struct env_rec *r = &e->recs[i];
		if (pred(r, arg)) {
			int reason;
			/* A PSC record is needed at least: its table is
			 * unlinked, so it must go before the table is freed. */
			int cls = rec_class(m, r, &reason);
			if (r->kind == ENVK_PSC && cls == ENV_BENIGN)
				cls = ENV_NEEDED;
			drop_note(m, r->id, cls, res);
			rec_release(r);
			assert(m->envg.live_records > 0);
			m->envg.live_records--;
		} else {
			e->recs[keep++] = *r;
		}
	}
	e->nrecs = keep;
}

struct page_arg {
	uint32_t pcid;
	uint64_t va;
	bool globals;
	bool covering; /* AMD TCE: only PSC entries covering va go */
};

static bool covers(const struct env_rec *r, uint64_t va)
{
	return va >= r->va && va <= range_last(r->va, r->level);
}

/* Carves the snapshot leaf holding va out of a subtree VIEW. Returns true
 * when nothing is left and the record should go. */
static bool carve(struct machine *m, struct env_rec *r, uint64_t va, struct env_inv_result *res)
{
	long i = snap_find(r->snap, va);
	if (i < 0 || carved(r, i))
		return false;
	if (!r->carved) {
		r->carved = calloc((r->snap->n + 63) / 64, sizeof(uint64_t));
		if (!r->carved)
			abort();
	}
	int cls = leaf_class(m, r->root_pfn, &r->snap->leaves[i]);
	res->removed++;
	if (cls == ENV_STALE)
		res->stale++;
	else if (cls == ENV_NEEDED)
		res->needed++;
	r->carved[i / 64] |= 1ull << (i % 64);
	r->ncarved++;
	return !r->snap->truncated && r->ncarved == r->snap->n;
}

static bool pred_page(const struct env_rec *r, const void *arg)
{
	const struct page_arg *p = arg;
	if (r->kind == ENVK_PSC) /* §4.10.4.1: all PSC entries of the PCID */
		return r->pcid == p->pcid && (!p->covering || covers(r, p->va));
	if (!(r->pcid == p->pcid || (p->globals && r->pcid == ENV_GLOBAL)))
		return false;
	return covers(r, p->va) && !r->snap;
}

void env_inv_page(struct machine *m, unsigned cpu, uint32_t pcid, uint64_t va,
                  bool globals, struct env_inv_result *res)
{
	struct env_cpu *e = &m->cpus[cpu].env;
	/* Subtree VIEWs lose one leaf (of whatever size holds va). */
	for (uint32_t i = 0; i < e->nrecs; i++) {
		struct env_rec *r = &e->recs[i];
		if (r->kind != ENVK_VIEW || !r->snap || !covers(r, va))
			continue;
		if (!(r->pcid == pcid || (globals && r->pcid == ENV_GLOBAL)))
			continue;
		if (carve(m, r, va, res)) {
			/* Everything carved: the record itself goes (counted
			 * already, leaf by leaf). */
			struct env_inv_result dummy = {0};
			drop_note(m, r->id, ENV_BENIGN, &dummy);
			rec_release(r);
			m->envg.live_records--;
			r->kind = 0; /* marked for compaction below */
		}
	}
	uint32_t keep = 0;
	for (uint32_t i = 0; i < e->nrecs; i++)
		if (e->recs[i].kind)
			e->recs[keep++] = e->recs[i];
	e->nrecs = keep;
	struct page_arg arg = {pcid, va, globals, m->prof.psc_inval_covering != 0};
	drop_where(m, cpu, pred_page, &arg, res);
}

static bool pred_pcid(const struct env_rec *r, const void *arg)
{
	return r->pcid == *(const uint32_t *)arg;
}

void env_inv_pcid(struct machine *m, unsigned cpu, uint32_t pcid, struct env_inv_result *res)
{
	drop_where(m, cpu, pred_pcid, &pcid, res);
	struct env_cpu *e = &m->cpus[cpu].env;
	struct env_slot *s = slot_find(e, pcid, false);
	if (s)
		slot_clear(e, s);
}

static bool pred_all(const struct env_rec *r, const void *arg)
{
	return *(const bool *)arg || r->pcid != ENV_GLOBAL;
}

void env_inv_all(struct machine *m, unsigned cpu, bool globals, struct env_inv_result *res)
{
	drop_where(m, cpu, pred_all, &globals, res);
	struct env_cpu *e = &m->cpus[cpu].env;
	for (uint32_t s = 0; s < e->nslots; s++)
		slot_clear(e, &e->slots[s]);
	if (globals)
		slot_clear(e, &e->gslot);
}

/* Checks --------------------------------------------------------------------- */

static bool rec_may_stale_at(struct machine *m, const struct env_rec *r, uint64_t va,
                             const struct xlate *cur)
{
	struct xlate o;
	if (r->kind == ENVK_PSC) {
		walk_peek_from(&m->mem, r->table_pfn << PAGE_SHIFT, r->level - 1u,
		               perm_combine(r->perm_above, r->old), va, &m->wenv, &o);
		return o.present && xlate_differs_at(&o, cur, va);
	}
	if (!r->snap) {
		xlate_from_leaf(r->old, r->level, r->perm_above, &o);
		return xlate_differs_at(&o, cur, va);
	}
	long i = snap_find(r->snap, va);
	if (i < 0)
		return r->snap->truncated;
	if (carved(r, i))
		return false;
	const struct env_leaf *l = &r->snap->leaves[i];
	if (r->pcid == ENV_GLOBAL && !(l->entry & PTE_G))
		return false;
	xlate_from_leaf(l->entry, l->level, l->perm_above, &o);
	return xlate_differs_at(&o, cur, va);
}

static bool alias_may_stale(struct machine *m, const struct env_slot *s, uint64_t root_pfn,
                            uint64_t va, const struct xlate *cur, bool globals_only)
{
	for (uint32_t i = 0; i < s->nroots; i++) {
		if (s->roots[i].pfn == root_pfn)
			continue;
		struct xlate o;
		walk_peek(&m->mem, s->roots[i].pfn << PAGE_SHIFT, va, &m->wenv, &o);
		if (!o.present || (globals_only && !(o.perm & XP_G)))
			continue;
		if (xlate_differs_at(&o, cur, va))
			return true;
	}
	return false;
}

bool env_may_stale(struct machine *m, unsigned cpu, uint32_t pcid, uint64_t root_pfn,
                   uint64_t va, const void *cur_xlate)
{
	const struct xlate *cur = cur_xlate;
	struct env_cpu *e = &m->cpus[cpu].env;
	for (uint32_t i = 0; i < e->nrecs; i++) {
		const struct env_rec *r = &e->recs[i];
		if (r->pcid != pcid && r->pcid != ENV_GLOBAL)
			continue;
		if (covers(r, va) && rec_may_stale_at(m, r, va, cur))
			return true;
	}
	if (e->nmulti) {
		const struct env_slot *s = slot_find(e, pcid, false);
		if (s && s->nroots > 1 && alias_may_stale(m, s, root_pfn, va, cur, false))
			return true;
		if (e->gslot.nroots > 1 && alias_may_stale(m, &e->gslot, root_pfn, va, cur, true))
			return true;
	}
	return false;
}

/* Does any translation in A's tree (globals only, if asked) differ from B's
 * at the same address? Identical entries prune whole shared subtrees. */
static bool trees_differ(struct machine *m, uint64_t a_pa, uint64_t b_pa, unsigned level,
                         uint8_t pa_perm, uint8_t pb_perm, uint64_t va_base,
                         bool globals_only, unsigned depth)
{
	if (depth > 4)
		return false;
	const uint64_t *da = mem_frame_peek(&m->mem, a_pa >> PAGE_SHIFT);
	if (!da)
		return false;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t ea = da[i];
		uint64_t eb = mem_read64(&m->mem, b_pa + 8ull * i);
		if (!pte_present(ea) || pte_reserved(ea, level, &m->wenv))
			continue;
		if (((ea ^ eb) & ~(PTE_A | PTE_D)) == 0 && pa_perm == pb_perm)
			continue;
		uint64_t va = canonical_va(va_base | ((uint64_t)i << LEVEL_SHIFT(level)));
		if (pte_is_leaf(ea, level)) {
			if (globals_only && !(ea & PTE_G))
				continue;
			struct xlate o;
			xlate_from_leaf(ea, level, pa_perm, &o);
			if (cmp_range(m, b_pa, level, pb_perm, va, range_last(va, level), &o, 0) ==
			    ENV_STALE)
				return true;
		} else if (pte_present(eb) && !pte_is_leaf(eb, level)) {
			if (trees_differ(m, pte_addr(ea, level), pte_addr(eb, level), level - 1,
			                 perm_combine(pa_perm, ea), perm_combine(pb_perm, eb), va,
			                 globals_only, depth + 1))
				return true;
		} else {
			/* A table in A where B has a leaf or nothing: compare
			 * A's leaves below against B. */
			struct env_snap *s = snap_build(m, ea, level, va, pa_perm);
			bool differs = s->truncated;
			for (uint32_t k = 0; k < s->n && !differs; k++) {
				const struct env_leaf *l = &s->leaves[k];
				if (globals_only && !(l->entry & PTE_G))
					continue;
				struct xlate o;
				xlate_from_leaf(l->entry, l->level, l->perm_above, &o);
				differs = cmp_range(m, b_pa, level, pb_perm, l->va,
				                    range_last(l->va, l->level), &o, 0) == ENV_STALE;
			}
			snap_put(s);
			if (differs)
				return true;
		}
	}
	return false;
}

static uint32_t alias_report(struct machine *m, unsigned cpu, const struct env_slot *s,
                             uint64_t cur_root, bool is_cur)
{
	uint32_t n = 0;
	bool globals_only = s->pcid == ENV_GLOBAL;
	for (uint32_t i = 0; i < s->nroots; i++)
		for (uint32_t j = 0; j < s->nroots; j++) {
			uint64_t a = s->roots[i].pfn, b = s->roots[j].pfn;
			if (i == j || (is_cur && b != cur_root))
				continue;
			if (!ptm_is_table(&m->pt, a) || !ptm_is_table(&m->pt, b) ||
			    trees_differ(m, a << PAGE_SHIFT, b << PAGE_SHIFT, 4, XP_RW | XP_US,
			                 XP_RW | XP_US, 0, globals_only, 0)) {
				struct event ev = machine_event(m, EV_ENV_STALE, (int)cpu);
				ev.sub = ENVK_ALIAS;
				ev.b = s->pcid;
				ev.d = 48;
				ev.e = STALE_ALIAS;
				ev.f = a << PAGE_SHIFT;
				ev.c = b << PAGE_SHIFT;
				machine_emit(m, &ev);
				n++;
			}
		}
	return n;
}

uint32_t env_quiesce(struct machine *m, unsigned cpu)
{
	struct cpu *c = &m->cpus[cpu];
	struct env_cpu *e = &c->env;
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->nrecs; i++) {
		const struct env_rec *r = &e->recs[i];
		int reason;
		if (rec_class(m, r, &reason) != ENV_STALE)
			continue;
		struct event ev = machine_event(m, EV_ENV_STALE, (int)cpu);
		ev.sub = r->kind;
		ev.a = r->id;
		ev.b = r->pcid;
		ev.c = r->va;
		ev.d = LEVEL_SHIFT(r->level);
		ev.e = (uint64_t)reason;
		ev.f = r->kind == ENVK_PSC ? r->table_pfn << PAGE_SHIFT : r->old;
		machine_emit(m, &ev);
		n++;
	}
	if (e->nmulti) {
		uint64_t cur_root = (c->cr3 & CR3_ADDR_MASK) >> PAGE_SHIFT;
		uint32_t cur_pcid = (c->cr4 & CR4_PCIDE) ? (uint32_t)(c->cr3 & CR3_PCID_MASK) : 0;
		for (uint32_t s = 0; s < e->nslots; s++)
			if (e->slots[s].nroots > 1)
				n += alias_report(m, cpu, &e->slots[s], cur_root,
				                  e->slots[s].pcid == cur_pcid);
		if (e->gslot.nroots > 1)
			n += alias_report(m, cpu, &e->gslot, cur_root, false);
	}
	return n;
}

uint32_t env_table_refs(struct machine *m, uint64_t pfn)
{
	uint32_t n = 0;
	for (uint32_t c = 0; c < m->ncpus; c++) {
		const struct env_cpu *e = &m->cpus[c].env;
		for (uint32_t i = 0; i < e->nrecs; i++)
			if (e->recs[i].table_pfn == pfn && e->recs[i].kind == ENVK_PSC)
				n++;
	}
	return n;
}
