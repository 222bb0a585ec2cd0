/* INVLPG, INVPCID, CLFLUSH, WBINVD, RDTSC (SDM Vol. 2 reference pages,
 * Vol. 3A §4.10.4.1; hw-facts §1.1). */
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/machine.h"
#include "sim/tlb/inval.h"
#include "sim/tlb/pte.h"

int cpu_invlpg(struct machine *m, unsigned cpu, uint64_t va)
{
	cpu_charge(&m->cpus[cpu], m->prof.invlpg);
	/* A non-canonical operand makes INVLPG a no-op [S2a]. */
	if (!CANONICAL(va))
		return 0;
	struct inval iv = {.scope = SCOPE_PAGE, .instr = INSTR_INVLPG, .globals = true,
	                   .pcid = cpu_pcid(m, cpu), .va = va};
	inval_apply(m, cpu, &iv);
	return 0;
}

static const uint8_t invpcid_instr[4] = {INSTR_INVPCID0, INSTR_INVPCID1, INSTR_INVPCID2,
                                         INSTR_INVPCID3};

int cpu_invpcid(struct machine *m, unsigned cpu, uint64_t type, uint64_t desc_pcid,
                uint64_t va)
{
	struct cpu *c = &m->cpus[cpu];
	if (!m->prof.has_invpcid)
		return cpu_fault(m, cpu, VEC_UD, type, 0, INSTR_INVPCID0);
	if (type > 3)
		return cpu_fault(m, cpu, VEC_GP, type, 0, INSTR_INVPCID0);
	const uint32_t costs[4] = {m->prof.invpcid0, m->prof.invpcid1, m->prof.invpcid2,
	                           m->prof.invpcid3};
	cpu_charge(c, costs[type]);
	unsigned instr = invpcid_instr[type];
	/* Descriptor bits 63:12 of the first quadword are reserved; type 0
	 * needs a canonical address; with PCIDE=0 only PCID 0 can be named
	 * by types 0 and 1 [S2b]. */
	if (desc_pcid > 0xfff)
		return cpu_fault(m, cpu, VEC_GP, desc_pcid, 0, instr);
	if (type == 0 && !CANONICAL(va))
		return cpu_fault(m, cpu, VEC_GP, va, 0, instr);
	if (type <= 1 && !(c->cr4 & CR4_PCIDE) && desc_pcid != 0)
		return cpu_fault(m, cpu, VEC_GP, desc_pcid, 0, instr);
	struct inval iv = {.instr = (uint8_t)instr, .pcid = (uint32_t)desc_pcid, .va = va};
	switch (type) {
	case 0:
		iv.scope = SCOPE_PAGE; /* globals are not required to go */
		break;
	case 1:
		iv.scope = SCOPE_PCID;
		break;
	case 2:
		iv.scope = SCOPE_ALL;
		iv.pcid = 0;
		iv.va = 0;
		break;
	default:
		iv.scope = SCOPE_ALL_NONGLOBAL;
		iv.pcid = 0;
		iv.va = 0;
		break;
	}
	inval_apply(m, cpu, &iv);
	return 0;
}

static void cache_event(struct machine *m, unsigned cpu, unsigned instr, uint64_t pa)
{
	struct event ev = machine_event(m, EV_CACHE_FLUSH, (int)cpu);
	ev.sub = (uint16_t)instr;
	ev.a = pa;
	machine_emit(m, &ev);
}

int cpu_clflush(struct machine *m, unsigned cpu, uint64_t pa)
{
	cpu_charge(&m->cpus[cpu], m->prof.clflush);
	cache_event(m, cpu, INSTR_CLFLUSH, pa & ~63ull);
	return 0;
}

int cpu_wbinvd(struct machine *m, unsigned cpu)
{
	cpu_charge(&m->cpus[cpu], m->prof.wbinvd);
	cache_event(m, cpu, INSTR_WBINVD, 0);
	return 0;
}

uint64_t cpu_rdtsc(struct machine *m, unsigned cpu)
{
	struct cpu *c = &m->cpus[cpu];
	cpu_charge(c, m->prof.rdtsc);
	return tsc_at(&m->tsc, cpu, c->clock);
}

uint64_t cpu_rdtscp(struct machine *m, unsigned cpu, uint32_t *aux)
{
	struct cpu *c = &m->cpus[cpu];
	cpu_charge(c, m->prof.rdtscp);
	if (aux)
		*aux = cpu;
	return tsc_at(&m->tsc, cpu, c->clock);
}
