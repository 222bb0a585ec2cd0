/* MOV to CR0, CR3 and CR4 (SDM Vol. 3A §2.5, §4.10.4.1; hw-facts §1.1). */
#include <assert.h>

#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/machine.h"
#include "sim/tlb/inval.h"
#include "sim/tlb/pte.h"

/* CR4 bits that exist (0..24 less reserved bit 15): writing any other bit
 * raises #GP. */
#define CR4_KNOWN (((1ull << 25) - 1) & ~(1ull << 15))
#define CR4_LA57 (1ull << 12)
/* CR3 bits 62:52 are reserved with MAXPHYADDR = 52. */
#define CR3_RSVD (0x7ffull << 52)

uint32_t cpu_pcid(const struct machine *m, unsigned cpu)
{
	const struct cpu *c = &m->cpus[cpu];
	return (c->cr4 & CR4_PCIDE) ? (uint32_t)(c->cr3 & CR3_PCID_MASK) : 0;
}

uint64_t cpu_root_pfn(const struct machine *m, unsigned cpu)
{
	return (m->cpus[cpu].cr3 & CR3_ADDR_MASK) >> PAGE_SHIFT;
}

int cpu_fault(struct machine *m, unsigned cpu, int vector, uint64_t operand,
              uint32_t errcode, unsigned instr)
{
	struct event ev = machine_event(m, EV_FAULT, (int)cpu);
	ev.sub = (uint16_t)vector;
	ev.a = operand;
	ev.b = errcode;
	ev.c = instr;
	machine_emit(m, &ev);
	m->cpus[cpu].nfaults++;
	return vector;
}

static void cr_event(struct machine *m, unsigned cpu, unsigned reg, uint64_t old,
                     uint64_t nw, bool faulted)
{
	struct event ev = machine_event(m, EV_CR_WRITE, (int)cpu);
	ev.sub = (uint16_t)reg;
	ev.a = old;
	ev.b = nw;
	ev.c = faulted;
	machine_emit(m, &ev);
}

static void flush(struct machine *m, unsigned cpu, uint8_t scope, uint8_t instr,
                  uint32_t pcid)
{
	struct inval iv = {.scope = scope, .instr = instr, .pcid = pcid};
	inval_apply(m, cpu, &iv);
}

int cpu_mov_cr0(struct machine *m, unsigned cpu, uint64_t val)
{
	struct cpu *c = &m->cpus[cpu];
	cpu_charge(c, m->prof.mov_cr0);
	/* Leaving paging or protected mode from 64-bit mode is not modelled
	 * and raises #GP as in long mode; reserved high bits raise #GP. */
	bool gp = !(val & CR0_PG) || !(val & CR0_PE) || (val >> 32);
	cr_event(m, cpu, 0, c->cr0, val, gp);
	if (gp)
		return cpu_fault(m, cpu, VEC_GP, val, 0, INSTR_MOV_CR0);
	/* CR0.WP is evaluated at each access against the cached R/W bit, so
	 * toggling it needs no invalidation. */
	c->cr0 = val;
	return 0;
}

int cpu_mov_cr3(struct machine *m, unsigned cpu, uint64_t val)
{
	struct cpu *c = &m->cpus[cpu];
	bool pcide = c->cr4 & CR4_PCIDE;
	bool noflush = pcide && (val & CR3_NOFLUSH);
	cpu_charge(c, noflush ? m->prof.mov_cr3_noflush : m->prof.mov_cr3_flush);
	/* Bit 63 is reserved when PCIDE=0 (hw-facts §1.1 [S4]); bits 62:52
	 * are reserved always. */
	bool gp = (val & CR3_RSVD) || (!pcide && (val & CR3_NOFLUSH));
	uint64_t nw = val & ~CR3_NOFLUSH; /* bit 63 reads back as 0 [S5] */
	cr_event(m, cpu, 3, c->cr3, nw, gp);
	if (gp)
		return cpu_fault(m, cpu, VEC_GP, val, 0, INSTR_MOV_CR3);
	c->cr3 = nw;
	uint64_t root = (nw & CR3_ADDR_MASK) >> PAGE_SHIFT;
	if (!ptm_register(&m->pt, &m->mem, root, 4))
		m->pt.conflicts++;
	uint32_t pcid = pcide ? (uint32_t)(nw & CR3_PCID_MASK) : 0;
	/* §4.10.4.1: without NOFLUSH the NEW PCID's non-global entries and
	 * paging-structure caches go (with PCIDE=0 that is PCID 000H). */
	if (!noflush)
		flush(m, cpu, SCOPE_PCID, INSTR_MOV_CR3, pcid);
	env_sync_current(m, cpu);
	return 0;
}

int cpu_mov_cr4(struct machine *m, unsigned cpu, uint64_t val)
{
	struct cpu *c = &m->cpus[cpu];
	uint64_t old = c->cr4, chg = old ^ val;
	bool gp = (val & ~CR4_KNOWN) || !(val & CR4_PAE) || (chg & CR4_LA57) ||
	          ((val & CR4_PGE) && !m->prof.has_pge) ||
	          ((val & CR4_PCIDE) && !m->prof.has_pcid);
	/* PCIDE may be set only with CR3[11:0] = 0 in IA-32e mode
	 * (hw-facts §1.1; the Bareflank triple fault [S3]). */
	if ((chg & val & CR4_PCIDE) && ((c->cr3 & CR3_PCID_MASK) || !(c->efer & EFER_LMA)))
		gp = true;
	uint8_t scope = SCOPE_NONE;
	if (!gp && ((chg & CR4_PGE) || (chg & old & CR4_PCIDE)))
		scope = SCOPE_ALL; /* PGE change, or PCIDE 1->0: everything */
	else if (!gp && (chg & val & CR4_SMEP))
		scope = SCOPE_PCID; /* SMEP 0->1: current PCID */
	cpu_charge(c, scope == SCOPE_NONE ? m->prof.mov_cr4 : m->prof.mov_cr4_flush);
	cr_event(m, cpu, 4, old, val, gp);
	if (gp)
		return cpu_fault(m, cpu, VEC_GP, val, 0, INSTR_MOV_CR4);
	uint32_t pcid = cpu_pcid(m, cpu);
	c->cr4 = val;
	if (scope != SCOPE_NONE)
		flush(m, cpu, scope, INSTR_MOV_CR4, pcid);
	env_sync_current(m, cpu);
	return 0;
}
