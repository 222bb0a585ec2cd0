/* Scenario ops as hardware-level actions: stores to paging structures
 * (with a small page-table builder for `map`), control-register writes,
 * invalidations, accesses and cache flushes. Expectations are checked
 * here; a failed one is recorded as EV_EXPECT and reported once.
 */
#include "runner/ops.h"

#include "runner/ring.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runner/timeops.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/tlb/pte.h"

/* Flags given to intermediate tables the builder creates: the most
 * permissive, so the leaf decides (and A set, as hardware would). */
#define BUILDER_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_A)

int op_input_error(struct op_ctx *x, const struct op *op, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, sizeof(x->err), "%s:%u:%u: %s: %s", x->sc->path ? x->sc->path : "?",
	         op->line, op->col, op_kind_name(op->kind), msg);
	return 2;
}

int op_expect_fail(struct op_ctx *x, const struct op *op, unsigned cpu, uint64_t actual,
                       uint64_t expected, const char *fmt, ...)
{
	struct event ev = machine_event(x->m, EV_EXPECT, (int)cpu);
	ev.sub = 1;
	ev.a = (uint64_t)(op - x->sc->ops);
	ev.b = actual;
	ev.c = expected;
	uint64_t seq = machine_emit(x->m, &ev);
	if (x->expect_failures++ == 0) {
		char msg[300];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(x->first_failure, sizeof(x->first_failure),
		         "expectation failed at %s:%u:%u (%s on cpu %u, event %" PRIu64
		         ", cycle %" PRIu64 "): %s",
		         x->sc->path ? x->sc->path : "?", op->line, op->col, op_kind_name(op->kind),
		         cpu, seq, x->m->cpus[cpu].clock, msg);
	}
	return 1;
}

static const char *fault_name(int v)
{
	switch (v) {
	case 0:
		return "none";
	case VEC_PF:
		return "#PF";
	case VEC_GP:
		return "#GP";
	case VEC_UD:
		return "#UD";
	default:
		return "?";
	}
}

/* A fault is expected only where the scenario says so; an unexpected #GP
 * or #UD from an instruction is a failure (the sequence was invalid), an
 * unexpected #PF from an access is an ordinary outcome. */
static int check_fault(struct op_ctx *x, const struct op *op, unsigned cpu, int vec)
{
	if (op->expect.has & EXP_FAULT) {
		if (vec != op->expect.fault)
			return op_expect_fail(x, op, cpu, (uint64_t)vec, (uint64_t)op->expect.fault,
			                   "fault %s, expected %s", fault_name(vec),
			                   fault_name(op->expect.fault));
		return 0;
	}
	if (vec == VEC_GP || vec == VEC_UD)
		return op_expect_fail(x, op, cpu, (uint64_t)vec, 0, "unexpected %s", fault_name(vec));
	return 0;
}

static uint64_t root_pa(struct op_ctx *x, const struct op *op)
{
	return x->root_pfn[op->root] << PAGE_SHIFT;
}

static int need_root(struct op_ctx *x, const struct op *op)
{
	if (!op->has_root || op->root >= x->sc->nroots)
		return op_input_error(x, op, "no root table named");
	if (!x->root_pfn[op->root])
		return op_input_error(x, op, "root '%s' has not been created yet",
		                   x->sc->roots[op->root]);
	return 0;
}

static void store(struct op_ctx *x, unsigned cpu, uint64_t pa, uint64_t val)
{
	cpu_charge(&x->m->cpus[cpu], x->m->prof.pte_write);
	machine_store64(x->m, (int)cpu, pa, val, false);
}

/* Physical address of the entry at `level` for va, creating tables on the
 * way if `build`. Returns 0 with *epa set, or 2 (input error). */
static int entry_at(struct op_ctx *x, const struct op *op, unsigned cpu, unsigned level,
                    bool build, uint64_t *epa)
{
	uint64_t table = root_pa(x, op);
	for (unsigned l = 4; l > level; l--) {
		uint64_t pa = table + 8ull * LEVEL_INDEX(op->va, l);
		uint64_t e = mem_read64(&x->m->mem, pa);
		if (!pte_present(e)) {
			if (!build)
				return op_input_error(x, op, "va 0x%" PRIx64 " has no level-%u table", op->va,
				                   l - 1);
			uint64_t pfn = machine_alloc_frame(x->m, (int)cpu);
			if (pfn == UINT64_MAX)
				return op_input_error(x, op, "out of simulated frames (machine.memory_frames)");
			e = (pfn << PAGE_SHIFT) | BUILDER_TABLE_FLAGS;
			store(x, cpu, pa, e);
		} else if (pte_is_leaf(e, l)) {
			return op_input_error(x, op,
			                   "va 0x%" PRIx64 " is mapped by a level-%u page; unmap it first",
			                   op->va, l);
		}
		table = pte_addr(e, l);
	}
	*epa = table + 8ull * LEVEL_INDEX(op->va, level);
	return 0;
}

static int do_map(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	unsigned level = op->size_log2 == 30 ? 3 : op->size_log2 == 21 ? 2 : 1;
	uint64_t epa;
	int rc = entry_at(x, op, cpu, level, true, &epa);
	if (rc)
		return rc;
	uint64_t flags = op->flags & ~PTE_PAT_LARGE;
	if (op->flags & PTE_PAT_LARGE)
		flags |= level == 1 ? PTE_PAT4K : PTE_PAT_LARGE;
	if (level > 1)
		flags |= PTE_PS;
	store(x, cpu, epa, op->pa | flags);
	return 0;
}

static int do_unmap(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	uint64_t table = root_pa(x, op);
	for (unsigned l = 4; l >= 1; l--) {
		uint64_t pa = table + 8ull * LEVEL_INDEX(op->va, l);
		uint64_t e = mem_read64(&x->m->mem, pa);
		if (!pte_present(e))
			return op_input_error(x, op, "va 0x%" PRIx64 " is not mapped", op->va);
		if (pte_is_leaf(e, l)) {
			store(x, cpu, pa, 0);
			return 0;
		}
		table = pte_addr(e, l);
	}
	return op_input_error(x, op, "va 0x%" PRIx64 " is not mapped", op->va);
}

static void free_subtree(struct op_ctx *x, unsigned cpu, uint64_t table_pa, unsigned level)
{
	if (level > 1)
		for (unsigned i = 0; i < 512; i++) {
			uint64_t e = mem_read64(&x->m->mem, table_pa + 8ull * i);
			if (pte_present(e) && !pte_is_leaf(e, level))
				free_subtree(x, cpu, pte_addr(e, level), level - 1);
		}
	machine_free_frame(x->m, (int)cpu, table_pa >> PAGE_SHIFT);
}

static int do_unlink(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	uint64_t epa;
	int rc = entry_at(x, op, cpu, op->level, false, &epa);
	if (rc)
		return rc;
	uint64_t e = mem_read64(&x->m->mem, epa);
	if (!pte_present(e) || pte_is_leaf(e, op->level))
		return op_input_error(x, op, "the level-%u entry for va 0x%" PRIx64
		                   " does not reference a table", op->level, op->va);
	store(x, cpu, epa, 0);
	if (op->has_save)
		x->root_pfn[op->save] = pte_addr(e, op->level) >> PAGE_SHIFT;
	if (op->free_tables)
		free_subtree(x, cpu, pte_addr(e, op->level), op->level - 1);
	return 0;
}

static int do_cr3(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	uint64_t v = op->value;
	if (!op->has_value) {
		int rc = need_root(x, op);
		if (rc)
			return rc;
		v = root_pa(x, op) | op->pcid | (op->noflush ? CR3_NOFLUSH : 0);
	}
	return check_fault(x, op, cpu, cpu_mov_cr3(x->m, cpu, v));
}

static int do_cr4(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	uint64_t v = x->m->cpus[cpu].cr4;
	if (op->pge >= 0)
		v = op->pge ? v | CR4_PGE : v & ~CR4_PGE;
	if (op->pcide >= 0)
		v = op->pcide ? v | CR4_PCIDE : v & ~CR4_PCIDE;
	if (op->smep >= 0)
		v = op->smep ? v | CR4_SMEP : v & ~CR4_SMEP;
	return check_fault(x, op, cpu, cpu_mov_cr4(x->m, cpu, v));
}

static int do_cr0(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	uint64_t v = x->m->cpus[cpu].cr0;
	if (op->wp >= 0)
		v = op->wp ? v | CR0_WP : v & ~CR0_WP;
	return check_fault(x, op, cpu, cpu_mov_cr0(x->m, cpu, v));
}

static const char *path_name(int p)
{
	static const char *const n[] = {"l1", "l2", "walk", "fault"};
	return p >= 0 && p <= 3 ? n[p] : "?";
}

static int do_access(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct access_result r;
	int vec = cpu_access(x->m, cpu, op->va, op->acc, &r);
	int rc = check_fault(x, op, cpu, vec);
	if (rc)
		return rc;
	const struct sc_expect *ex = &op->expect;
	if ((ex->has & EXP_PA) && (vec || r.pa != ex->pa))
		return op_expect_fail(x, op, cpu, r.pa, ex->pa,
		                   "va 0x%" PRIx64 " translated to pa 0x%" PRIx64 "%s, expected 0x%" PRIx64,
		                   op->va, r.pa, vec ? " (faulted)" : "", ex->pa);
	if ((ex->has & EXP_PFEC) && r.pfec != ex->pfec)
		return op_expect_fail(x, op, cpu, r.pfec, ex->pfec,
		                   "page-fault error code 0x%x, expected 0x%x", r.pfec, ex->pfec);
	if ((ex->has & EXP_PATH) && r.path != ex->path)
		return op_expect_fail(x, op, cpu, (uint64_t)r.path, (uint64_t)ex->path,
		                   "translated by %s, expected %s", path_name(r.path),
		                   path_name(ex->path));
	return 0;
}

static int do_pt_new(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	uint64_t pfn = machine_alloc_frame(x->m, (int)cpu);
	if (pfn == UINT64_MAX)
		return op_input_error(x, op, "out of simulated frames (machine.memory_frames)");
	x->root_pfn[op->root] = pfn;
	/* Declared a root by the scenario: stores into it and the tables it
	 * links are paging-structure writes (recorded) from now on, not only
	 * once a CPU loads it. */
	ptm_register(&x->m->pt, &x->m->mem, pfn, 4);
	return 0;
}

static int do_free(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	if (op->has_root) {
		int rc = need_root(x, op);
		if (rc)
			return rc;
		uint64_t pfn = x->root_pfn[op->root];
		if (!machine_free_frame(x->m, (int)cpu, pfn))
			return op_input_error(x, op, "table '%s' (frame 0x%" PRIx64
			                   ") is not allocated (double free?)",
			                   x->sc->roots[op->root], pfn << PAGE_SHIFT);
		return 0;
	}
	if (!machine_free_frame(x->m, (int)cpu, op->pa >> PAGE_SHIFT))
		return op_input_error(x, op, "frame 0x%" PRIx64 " is not allocated (double free?)",
		                   op->pa);
	return 0;
}

int op_exec(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct machine *m = x->m;
	switch (op->kind) {
	case OP_PT_NEW:
		return do_pt_new(x, op, cpu);
	case OP_MAP:
	case OP_UNMAP:
	case OP_WRITE_PTE:
	case OP_UNLINK: {
		int rc = need_root(x, op);
		if (rc)
			return rc;
		if (op->kind == OP_MAP)
			return do_map(x, op, cpu);
		if (op->kind == OP_UNMAP)
			return do_unmap(x, op, cpu);
		if (op->kind == OP_UNLINK)
			return do_unlink(x, op, cpu);
		uint64_t epa;
		rc = entry_at(x, op, cpu, op->level, false, &epa);
		if (!rc)
			store(x, cpu, epa, op->value);
		return rc;
	}
	case OP_FREE:
		return do_free(x, op, cpu);
	case OP_CR0:
		return do_cr0(x, op, cpu);
	case OP_CR3:
		return do_cr3(x, op, cpu);
	case OP_CR4:
		return do_cr4(x, op, cpu);
	case OP_INVLPG:
		return check_fault(x, op, cpu, cpu_invlpg(m, cpu, op->va));
	case OP_INVPCID:
		return check_fault(x, op, cpu, cpu_invpcid(m, cpu, op->type, op->pcid, op->va));
	case OP_CLFLUSH:
		return check_fault(x, op, cpu, cpu_clflush(m, cpu, op->pa));
	case OP_WBINVD:
		return check_fault(x, op, cpu, cpu_wbinvd(m, cpu));
	case OP_RDTSC:
		cpu_rdtsc(m, cpu);
		return 0;
	case OP_ACCESS:
		return do_access(x, op, cpu);
	case OP_DELAY:
		cpu_charge(&m->cpus[cpu], op->cycles);
		return 0;
	case OP_HV_MAP:
	case OP_HV_MODIFY:
	case OP_HV_DESTROY:
		return hv_op_exec(x, op, cpu);
	case OP_DOMAIN:
	case OP_VCPU_RUN:
	case OP_IDLE:
	case OP_SYSCALL:
	case OP_GUEST_MAP:
	case OP_LACKEY:
		return pv_op_exec(x, op, cpu);
	case OP_IO_DOMAIN:
	case OP_IO_ASSIGN:
	case OP_IO_MAP:
	case OP_IO_UNMAP:
	case OP_IO_REASSIGN:
	case OP_IO_HWDOM_INIT:
	case OP_IO_FLUSH:
	case OP_DMA:
	case OP_DMA_STREAM:
	case OP_IO_WORKLOAD:
		return io_op_exec(x, op, cpu);
	case OP_TIME_READ:
	case OP_TIME_SCHED:
	case OP_TIME_MSG:
	case OP_TSC:
		return time_op_exec(x, op, cpu);
	case OP_RING_ENABLE:
	case OP_RING_DISABLE:
	case OP_VM_EVENT:
	case OP_FOREIGN:
	case OP_HELPER:
	case OP_HELPER_STALL:
		return ring_op_exec(x, op, cpu);
	case OP_IPI:
	case OP_BARRIER:
	case OP_QUIESCE:
	case OP__COUNT:
		break; /* the scheduler handles these */
	}
	return op_input_error(x, op, "internal: op not executable here");
}
