#include "sim/machine.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/tlb/pte.h"

int machine_init(struct machine *m, const struct profile *p, uint32_t ncpus,
                 uint64_t mem_frames, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	if (ncpus == 0 || ncpus > MACHINE_MAX_CPUS || profile_validate(p))
		return -1;
	m->prof = *p;
	m->ncpus = ncpus;
	bus_init(&m->bus);
	prng_seed(&m->prng, seed);
	ptm_init(&m->pt);
	/* Frames start at 1 MiB: frame 0 stays unused so that a zero entry
	 * can never look like a link to a real table. */
	if (mem_init(&m->mem, 0x100, mem_frames) != 0)
		goto fail;
	m->wenv.page1gb = p->has_page1gb;
	m->wenv.nxe = p->has_nx;
	m->cpus = calloc(ncpus, sizeof(*m->cpus));
	if (!m->cpus)
		goto fail;
	/* Identity TSCs until a scenario configures them (seed 002). */
	if (tsc_init(&m->tsc, ncpus, (uint64_t)(p->clock_mhz ? p->clock_mhz : 1000) * 1000000u) != 0)
		goto fail;
	for (uint32_t i = 0; i < ncpus; i++) {
		struct cpu *c = &m->cpus[i];
		c->id = i;
		c->cr0 = CR0_PE | CR0_PG | CR0_WP;
		c->cr4 = CR4_PAE;
		c->efer = EFER_LMA | (p->has_nx ? EFER_NXE : 0);
		env_cpu_init(&c->env);
		if (tlb_init(&c->tlb, p) != 0)
			goto fail;
	}
	m->caller_scenario = bus_intern(&m->bus, "scenario");
	m->caller_hw = bus_intern(&m->bus, "hw");
	m->caller = m->caller_scenario;
	return 0;
fail:
	machine_fini(m);
	return -1;
}

void machine_fini(struct machine *m)
{
	if (m->cpus)
		for (uint32_t i = 0; i < m->ncpus; i++) {
			tlb_fini(&m->cpus[i].tlb);
			env_cpu_fini(&m->cpus[i].env);
		}
	free(m->cpus);
	tsc_fini(&m->tsc);
	env_global_fini(&m->envg);
	ptm_fini(&m->pt);
	mem_fini(&m->mem);
	bus_fini(&m->bus);
	memset(m, 0, sizeof(*m));
}

uint64_t machine_choose(struct machine *m, unsigned kind, uint64_t bound)
{
	assert(bound > 0);
	uint64_t v;
	const struct choice_hooks *h = &m->choices;
	if (!h->replay || !h->replay(h->ctx, kind, bound, &v) || v >= bound)
		v = prng_below(&m->prng, bound);
	assert(v < bound);
	if (h->record)
		h->record(h->ctx, kind, bound, v);
	m->nchoices++;
	return v;
}

void machine_set_caller(struct machine *m, const char *name)
{
	m->caller = bus_intern(&m->bus, name);
}

struct event machine_event(struct machine *m, unsigned type, int cpu)
{
	struct event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = (uint16_t)type;
	ev.cpu = cpu;
	ev.cycle = cpu >= 0 ? m->cpus[cpu].clock : 0;
	ev.caller = m->caller;
	return ev;
}

uint64_t machine_emit(struct machine *m, struct event *ev)
{
	return bus_emit(&m->bus, ev);
}

static uint64_t first_va(struct machine *m, uint64_t pfn, unsigned index, unsigned level)
{
	struct pt_path p;
	if (ptm_paths(&m->pt, &m->mem, pfn, &p, 1) == 0)
		return UINT64_MAX;
	return canonical_va(p.va | ((uint64_t)index << LEVEL_SHIFT(level)));
}

uint64_t machine_store64(struct machine *m, int cpu, uint64_t pa, uint64_t val, bool hw_ad)
{
	assert(pa < PA_LIMIT && (pa & 7) == 0);
	uint64_t pfn = pa >> PAGE_SHIFT;
	uint64_t old = mem_read64(&m->mem, pa);
	mem_write64(&m->mem, pa, val);
	struct pt_info *t = ptm_get(&m->pt, pfn);
	if (!t || !t->live)
		return old;
	unsigned level = t->level;
	unsigned index = (unsigned)((pa & (PAGE_SIZE - 1)) >> 3);
	struct event ev = machine_event(m, EV_PTE_WRITE, cpu);
	if (hw_ad)
		ev.caller = m->caller_hw;
	ev.sub = (uint16_t)level;
	ev.a = pa;
	ev.b = old;
	ev.c = val;
	ev.d = first_va(m, pfn, index, level);
	bool xl = pte_present(old) || pte_present(val);
	xl = xl && (pte_present(old) != pte_present(val) ||
	            pte_addr(old, level) != pte_addr(val, level) ||
	            ((old ^ val) & (PTE_XLATE_FLAGS | PTE_PAT_LARGE)));
	ev.e = (hw_ad ? PTEW_HW_AD : 0) | (xl ? PTEW_TRANSLATION : 0);
	ev.f = pfn << PAGE_SHIFT;
	uint64_t seq = machine_emit(m, &ev);
	ptm_on_write(&m->pt, &m->mem, pfn, index, level, old, val);
	env_note_write(m, pfn, index, level, old, val, seq);
	return old;
}

uint64_t machine_alloc_frame(struct machine *m, int cpu)
{
	(void)cpu;
	return mem_alloc_frame(&m->mem);
}

bool machine_free_frame(struct machine *m, int cpu, uint64_t pfn)
{
	if (!mem_is_allocated(&m->mem, pfn))
		return false;
	struct pt_info *t = ptm_get(&m->pt, pfn);
	if (t && t->live) {
		unsigned level = t->level;
		uint32_t links = ptm_unregister(&m->pt, &m->mem, pfn);
		struct event ev = machine_event(m, EV_TABLE, cpu);
		ev.sub = TBL_FREE;
		ev.a = pfn << PAGE_SHIFT;
		ev.b = level;
		ev.c = links;
		ev.d = env_table_refs(m, pfn);
		machine_emit(m, &ev);
	}
	return mem_free_frame(&m->mem, pfn);
}
