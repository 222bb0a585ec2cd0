/* The instructions a hypervisor issues, with the semantics of the Intel
 * SDM Vol. 3A (§4.10.4 for invalidation, MOV CR / INVLPG / INVPCID
 * reference pages for faults) as summarised in hw-facts §1.1.
 *
 * Each returns 0, or the vector of the fault it raised (VEC_GP, VEC_UD,
 * VEC_PF); a fault is also recorded as EV_FAULT and leaves the register
 * state unchanged. Each charges its profile cost to the CPU's clock.
 */
#ifndef HVSIM_SIM_CPU_CPU_H
#define HVSIM_SIM_CPU_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

int cpu_mov_cr0(struct machine *m, unsigned cpu, uint64_t val);
int cpu_mov_cr3(struct machine *m, unsigned cpu, uint64_t val);
int cpu_mov_cr4(struct machine *m, unsigned cpu, uint64_t val);
int cpu_invlpg(struct machine *m, unsigned cpu, uint64_t va);
/* desc_pcid is the descriptor's first quadword (bits 63:12 must be 0). */
int cpu_invpcid(struct machine *m, unsigned cpu, uint64_t type, uint64_t desc_pcid,
                uint64_t va);
int cpu_clflush(struct machine *m, unsigned cpu, uint64_t pa);
int cpu_wbinvd(struct machine *m, unsigned cpu);
/* RDTSC: the core's TSC (sim/tsc/tsc.h) at the CPU's clock once the
 * instruction's profile cost is charged; the identity (the cycle clock)
 * unless the scenario configures the TSCs. RDTSCP also returns
 * IA32_TSC_AUX, which holds the CPU number here (as Linux and Xen set it). */
uint64_t cpu_rdtsc(struct machine *m, unsigned cpu);
uint64_t cpu_rdtscp(struct machine *m, unsigned cpu, uint32_t *aux);

struct access_result {
	uint64_t pa;
	uint32_t pfec;   /* #PF error code when fault == VEC_PF */
	int fault;       /* 0, VEC_PF or VEC_GP */
	int path;        /* PATH_* */
	uint32_t flags;  /* ACCF_* */
	uint64_t cycles;
};

/* A data or instruction access of one byte at va (acc: ACC_* bits). */
int cpu_access(struct machine *m, unsigned cpu, uint64_t va, unsigned acc,
               struct access_result *r);

/* Current PCID (0 when CR4.PCIDE=0) and root frame. */
uint32_t cpu_pcid(const struct machine *m, unsigned cpu);
uint64_t cpu_root_pfn(const struct machine *m, unsigned cpu);

/* Records a fault event. */
int cpu_fault(struct machine *m, unsigned cpu, int vector, uint64_t operand,
              uint32_t errcode, unsigned instr);

#endif
