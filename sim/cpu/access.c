/* A memory access: TLB lookup, page walk with accessed/dirty updates and
 * cache fills, permission checks and page faults (SDM Vol. 3A §4.5-4.8,
 * §4.10.2-4.10.3).
 *
 * Correctness information rides along: when the envelope says cached
 * state may differ from the tables (env_dirty), the access is compared
 * with a reference walk (concrete staleness) and with everything the
 * envelope allows (ACCF_MAY_STALE). Otherwise the fast path costs one
 * branch.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/machine.h"
#include "sim/tlb/inval.h"
#include "sim/tlb/pte.h"

/* The access in progress: the context of the eviction callback, and what
 * the slow paths need (kept in memory so that the fast path has fewer
 * values to keep live across its calls). */
struct access_ctx {
	struct machine *m;
	unsigned cpu;
	uint64_t start; /* the CPU's clock when the access began */
};

/* cpu_pcid() without the call: CR3 and CR4 do not change during an
 * access, so it is computed once per access and passed down. (Checked
 * against cpu_pcid() on the walk and slow hit paths in debug builds.) */
static inline uint16_t access_pcid(const struct cpu *c)
{
	return (c->cr4 & CR4_PCIDE) ? (uint16_t)(c->cr3 & CR3_PCID_MASK) : 0;
}

static void on_evict(void *ctx, const struct tlb_entry *v, uint8_t structure)
{
	const struct access_ctx *ec = ctx;
	if (!bus_wants(&ec->m->bus, EV_EVICT))
		return;
	struct event ev = machine_event(ec->m, EV_EVICT, (int)ec->cpu);
	ev.sub = structure;
	ev.a = v->vpn << v->size_log2;
	ev.b = v->pa_base;
	ev.c = v->pcid;
	ev.d = v->size_log2;
	ev.e = v->global;
	ev.f = v->level;
	machine_emit(ec->m, &ev);
}

static void entry_to_xlate(const struct tlb_entry *e, struct xlate *x)
{
	memset(x, 0, sizeof(*x));
	x->present = 1;
	x->pa_base = e->pa_base;
	x->size_log2 = e->size_log2;
	x->level = e->level;
	x->perm = e->perm;
}

static void fill_event(struct machine *m, unsigned cpu, uint8_t structure, uint64_t va,
                       uint64_t pa, uint16_t pcid, unsigned log2, bool global,
                       unsigned level)
{
	if (!bus_wants(&m->bus, EV_FILL)) {
		m->bus.counts[EV_FILL]++; /* counted for summaries regardless */
		return;
	}
	struct event ev = machine_event(m, EV_FILL, (int)cpu);
	ev.sub = structure;
	ev.a = va;
	ev.b = pa;
	ev.c = pcid;
	ev.d = log2;
	ev.e = global;
	ev.f = level;
	machine_emit(m, &ev);
}

/* Sets A (and D on a leaf written through) the way the processor does:
 * a locked update of the entry in memory (§4.8). */
static uint64_t set_ad(struct machine *m, unsigned cpu, uint64_t pa, uint64_t e, uint64_t bits)
{
	if ((e & bits) == bits)
		return e;
	machine_store64(m, (int)cpu, pa, e | bits, true);
	return e | bits;
}

/* Starts loading a paging-structure entry from host memory so that the
 * read a little later (after the cache fill of the level above) does not
 * wait for it. No effect on the model. */
static inline void prefetch_entry(struct mem *mem, uint64_t pa)
{
	const uint64_t *d = mem_frame_peek(mem, pa >> PAGE_SHIFT);
	if (d)
		__builtin_prefetch(&d[(pa & (PAGE_SIZE - 1)) >> 3]);
}

struct walk_out {
	struct xlate x;
	uint32_t pfec;
	bool fault;
	unsigned levels_read;
};

/* The hardware walk: from the deepest paging-structure-cache hit down,
 * filling the caches on the way. */
static void hw_walk(struct machine *m, unsigned cpu, uint64_t va, unsigned acc,
                    uint16_t pcid, struct access_ctx *ec, struct walk_out *w)
{
	struct cpu *c = &m->cpus[cpu];
	uint64_t table = c->cr3 & CR3_ADDR_MASK;
	uint8_t perm = XP_RW | XP_US;
	unsigned level = 4;
	uint64_t psc_table;
	uint8_t psc_perm;
	unsigned hit = psc_lookup(&c->tlb, va, pcid, &psc_table, &psc_perm);
	if (hit) {
		table = psc_table;
		perm = psc_perm;
		level = hit - 1;
	}
	memset(w, 0, sizeof(*w));
	bool wp = c->cr0 & CR0_WP, nxe = c->efer & EFER_NXE;
	for (; level >= 1; level--) {
		uint64_t epa = table + 8ull * LEVEL_INDEX(va, level);
		uint64_t e = mem_read64(&m->mem, epa);
		w->levels_read++;
		if (!pte_present(e) || pte_reserved(e, level, &m->wenv)) {
			w->x.rsvd = pte_present(e);
			w->fault = xlate_check(&w->x, acc, wp, nxe, &w->pfec);
			assert(w->fault);
			return;
		}
		if (pte_is_leaf(e, level)) {
			xlate_from_leaf(e, level, perm, &w->x);
			if ((w->fault = xlate_check(&w->x, acc, wp, nxe, &w->pfec)))
				return; /* no fill, no A/D for a faulting access */
			uint64_t bits = PTE_A | ((acc & ACC_WRITE) ? PTE_D : 0);
			uint64_t ad = set_ad(m, cpu, epa, e, bits);
			if (ad != e) /* else w->x is already what this would give */
				xlate_from_leaf(ad, level, perm, &w->x);
			return;
		}
		e = set_ad(m, cpu, epa, e, PTE_A);
		perm = perm_combine(perm, e);
		table = pte_addr(e, level);
		prefetch_entry(&m->mem, table + 8ull * LEVEL_INDEX(va, level - 1));
		psc_fill(&c->tlb, level, va, pcid, table, perm, m->bus.seq, on_evict, ec);
		fill_event(m, cpu, (uint8_t)(TLBL_PSC_PML4E + 4 - level), va, table, pcid,
		           LEVEL_SHIFT(level), false, level);
	}
}

static void fill_tlb(struct machine *m, unsigned cpu, uint64_t va, unsigned acc,
                     uint16_t pcid, const struct xlate *x, struct access_ctx *ec)
{
	struct cpu *c = &m->cpus[cpu];
	bool global = (x->perm & XP_G) && (c->cr4 & CR4_PGE);
	struct tlb_entry proto = {
		.vpn = va >> x->size_log2,
		.pa_base = x->pa_base,
		.fill_seq = m->bus.seq,
		.pcid = pcid,
		.global = global,
		.size_log2 = x->size_log2,
		.page_log2 = x->size_log2,
		.perm = x->perm,
		.level = x->level,
	};
	bool exec = acc & ACC_EXEC;
	tlb_fill(&c->tlb, &proto, va, exec, on_evict, ec);
	/* The ITLB holds a 1 GiB page as the 2 MiB piece around va. */
	unsigned log2 = exec && proto.size_log2 == 30 ? 21 : proto.size_log2;
	uint64_t mask = (1ull << log2) - 1;
	fill_event(m, cpu, exec ? TLBL_L1I : TLBL_L1D, va & ~mask,
	           proto.pa_base + ((va & ~mask) & ((1ull << proto.size_log2) - 1)), pcid, log2,
	           global, proto.level);
}

static void walk_event(struct machine *m, unsigned cpu, uint64_t va, uint16_t pcid,
                       const struct walk_out *w, uint64_t cycles)
{
	if (!bus_wants(&m->bus, EV_WALK)) {
		m->bus.counts[EV_WALK]++;
		return;
	}
	struct event ev = machine_event(m, EV_WALK, (int)cpu);
	ev.sub = w->fault;
	ev.a = va;
	ev.b = w->fault ? 0 : xlate_pa(&w->x, va);
	ev.c = pcid;
	ev.d = w->levels_read;
	ev.e = w->fault ? w->pfec : 0;
	ev.f = cycles;
	machine_emit(m, &ev);
}

static void __attribute__((noinline))
access_event_emit(struct machine *m, unsigned cpu, uint64_t va, unsigned acc, uint16_t pcid,
                  const struct access_result *r)
{
	struct event ev = machine_event(m, EV_ACCESS, (int)cpu);
	ev.sub = (uint16_t)acc;
	ev.a = va;
	ev.b = r->pa;
	ev.c = pcid;
	ev.d = (uint64_t)r->path;
	ev.e = r->flags;
	ev.f = r->cycles;
	machine_emit(m, &ev);
}

static inline void access_event(struct machine *m, unsigned cpu, uint64_t va, unsigned acc,
                                uint16_t pcid, const struct access_result *r)
{
	if (!bus_wants(&m->bus, EV_ACCESS) && !r->flags) {
		m->bus.counts[EV_ACCESS]++;
		return;
	}
	access_event_emit(m, cpu, va, acc, pcid, r);
}

/* SDM §4.10.4.1: a page fault invalidates the TLB and paging-structure
 * cache entries that would be used for the faulting address. */
static void fault_invalidate(struct machine *m, unsigned cpu, uint64_t va)
{
	struct inval iv = {.scope = SCOPE_PAGE, .instr = INSTR_PF, .globals = true,
	                   .pcid = cpu_pcid(m, cpu), .va = va};
	inval_apply(m, cpu, &iv);
}

/* Staleness of what the access used (concrete) and could have used
 * (envelope), against the current tables. */
static void __attribute__((noinline))
staleness_check(struct machine *m, unsigned cpu, uint64_t va, uint16_t pcid,
                const struct xlate *used, struct access_result *r)
{
	struct cpu *c = &m->cpus[cpu];
	struct xlate cur;
	walk_peek(&m->mem, c->cr3 & CR3_ADDR_MASK, va, &m->wenv, &cur);
	if (used && xlate_differs_at(used, &cur, va))
		r->flags |= ACCF_STALE;
	if (env_may_stale(m, cpu, pcid, cpu_root_pfn(m, cpu), va, &cur))
		r->flags |= ACCF_MAY_STALE;
	/* Model invariant: the concrete TLB never holds what the envelope
	 * does not allow (they share one invalidation path). */
	if (m->self_check && (r->flags & ACCF_STALE) && !(r->flags & ACCF_MAY_STALE)) {
		fprintf(stderr, "hvsim: model error: cpu %u served a stale translation of va "
		                "0x%llx that the envelope does not allow (event %llu)\n",
		        cpu, (unsigned long long)va, (unsigned long long)m->bus.seq);
		abort();
	}
}

/* Skipped, at the cost of one call, while the envelope says no cached
 * state can differ from the tables. */
static inline void staleness(struct machine *m, unsigned cpu, uint64_t va, uint16_t pcid,
                             const struct xlate *used, struct access_result *r)
{
	if (env_dirty(&m->cpus[cpu].env) || m->self_check)
		staleness_check(m, cpu, va, pcid, used, r);
}

static int finish(struct machine *m, unsigned cpu, uint64_t va, unsigned acc, uint16_t pcid,
                  struct access_result *r, uint64_t start)
{
	r->cycles = m->cpus[cpu].clock - start;
	access_event(m, cpu, va, acc, pcid, r);
	if (r->fault == VEC_PF) {
		cpu_fault(m, cpu, VEC_PF, va, r->pfec, INSTR_ACCESS);
		fault_invalidate(m, cpu, va);
	}
	return r->fault;
}

static int __attribute__((noinline))
walk_path(struct access_ctx *ax, uint64_t va, unsigned acc, struct access_result *r)
{
	struct machine *m = ax->m;
	unsigned cpu = ax->cpu;
	uint64_t start = ax->start;
	struct cpu *c = &m->cpus[cpu];
	uint16_t pcid = access_pcid(c);
	assert(pcid == cpu_pcid(m, cpu));
	struct walk_out w;
	hw_walk(m, cpu, va, acc, pcid, ax, &w);
	uint64_t cost = m->prof.walk_base +
	                (w.levels_read > 1 ? (w.levels_read - 1) * (uint64_t)m->prof.walk_level : 0);
	cpu_charge(c, cost);
	walk_event(m, cpu, va, pcid, &w, cost);
	if (w.fault) {
		r->fault = VEC_PF;
		r->pfec = w.pfec;
		r->path = PATH_FAULT;
		staleness(m, cpu, va, pcid, NULL, r);
		return finish(m, cpu, va, acc, pcid, r, start);
	}
	fill_tlb(m, cpu, va, acc, pcid, &w.x, ax);
	r->path = PATH_WALK;
	r->pa = xlate_pa(&w.x, va);
	staleness(m, cpu, va, pcid, &w.x, r);
	return finish(m, cpu, va, acc, pcid, r, start);
}

/* True if the cached entry grants every right the access needs (then
 * xlate_check() cannot fault, SDM §4.6) and, for a write, is dirty (no
 * dirty assist). Used only to pick the fast path in cpu_access();
 * xlate_check() alone decides faults and error codes, and debug builds
 * check that it agrees on every fast-path access (fast_hit_ok()). A new
 * way for a TLB hit to fault (SMEP, SMAP, protection keys) must be
 * reflected here as well as in hit_path(). */
static inline bool fast_ok(uint8_t perm, unsigned acc)
{
	unsigned need = ((acc & ACC_USER) ? XP_US : 0) | ((acc & ACC_WRITE) ? XP_RW | XP_D : 0);
	unsigned deny = (acc & ACC_EXEC) ? XP_NX : 0;
	return (perm & need) == need && !(perm & deny);
}

static int __attribute__((noinline))
gp_path(struct machine *m, unsigned cpu, uint64_t va, unsigned acc, struct access_result *r)
{
	r->fault = VEC_GP;
	r->path = PATH_FAULT;
	access_event(m, cpu, va, acc, access_pcid(&m->cpus[cpu]), r);
	return cpu_fault(m, cpu, VEC_GP, va, 0, INSTR_ACCESS);
}

/* An access that hit in the TLB: permission check against the cached
 * entry, dirty assist, staleness. */
static int __attribute__((noinline))
hit_path(struct access_ctx *ax, uint64_t va, unsigned acc, const struct tlb_hit *hit,
         struct access_result *r)
{
	struct machine *m = ax->m;
	unsigned cpu = ax->cpu;
	uint64_t start = ax->start;
	struct cpu *c = &m->cpus[cpu];
	uint16_t pcid = access_pcid(c);
	assert(pcid == cpu_pcid(m, cpu));
	cpu_charge(c, hit->where == PATH_L1 ? m->prof.tlb_l1_hit : m->prof.tlb_l2_hit);
	struct xlate used;
	entry_to_xlate(hit->e, &used);
	bool wp = c->cr0 & CR0_WP, nxe = c->efer & EFER_NXE;
	uint32_t pfec;
	if (xlate_check(&used, acc, wp, nxe, &pfec)) {
		/* A cached, more restrictive entry: the fault is taken without
		 * a re-walk; if the tables would allow the access it is the
		 * spurious fault of §4.10.4.3. */
		r->fault = VEC_PF;
		r->pfec = pfec;
		r->path = PATH_FAULT;
		struct xlate cur;
		uint32_t dummy;
		walk_peek(&m->mem, c->cr3 & CR3_ADDR_MASK, va, &m->wenv, &cur);
		if (!xlate_check(&cur, acc, wp, nxe, &dummy))
			r->flags |= ACCF_SPURIOUS_PF;
		staleness(m, cpu, va, pcid, &used, r);
		return finish(m, cpu, va, acc, pcid, r, start);
	}
	if ((acc & ACC_WRITE) && !(used.perm & XP_D)) {
		/* A write through an entry cached with D=0 must set D in
		 * memory: the processor re-walks (§4.8). */
		r->flags |= ACCF_DIRTY_ASSIST;
		return walk_path(ax, va, acc, r);
	}
	r->path = hit->where;
	r->pa = xlate_pa(&used, va);
	staleness(m, cpu, va, pcid, &used, r);
	return finish(m, cpu, va, acc, pcid, r, start);
}

#ifndef NDEBUG
/* fast_ok() implies that hit_path()'s xlate_check() would not fault. */
static bool fast_hit_ok(const struct cpu *c, const struct tlb_entry *e, unsigned acc)
{
	struct xlate used;
	uint32_t pfec;
	entry_to_xlate(e, &used);
	return !xlate_check(&used, acc, c->cr0 & CR0_WP, c->efer & EFER_NXE, &pfec);
}
#endif

int cpu_access(struct machine *m, unsigned cpu, uint64_t va, unsigned acc,
               struct access_result *r)
{
	assert(cpu < m->ncpus);
	struct cpu *c = &m->cpus[cpu];
	memset(r, 0, sizeof(*r));
	struct access_ctx ax = {m, cpu, c->clock};
	if (!CANONICAL(va))
		return gp_path(m, cpu, va, acc, r);
	struct tlb_hit hit;
	if (!tlb_lookup(&c->tlb, va, access_pcid(c), acc & ACC_EXEC, &hit, on_evict, &ax))
		return walk_path(&ax, va, acc, r);

	/* Fast path: the entry grants the access, needs no dirty assist, and
	 * the envelope is clean. What hit_path() would do then: charge the
	 * hit, translate, count the access. */
	const struct tlb_entry *e = hit.e;
	uint16_t pcid = access_pcid(c);
	if (!fast_ok(e->perm, acc) || env_dirty(&c->env) || m->self_check)
		return hit_path(&ax, va, acc, &hit, r);
	assert(fast_hit_ok(c, e, acc));
	cpu_charge(c, hit.where == PATH_L1 ? m->prof.tlb_l1_hit : m->prof.tlb_l2_hit);
	r->path = hit.where;
	r->pa = e->pa_base | (va & ((1ull << e->size_log2) - 1));
	r->cycles = c->clock - ax.start;
	access_event(m, cpu, va, acc, pcid, r);
	return 0;
}
