/* The PV guest ops (seed 003) over the hypervisor core, and the XPTI
 * isolation check after every entry into a guest: while a guest subject
 * to XPTI runs, no hypervisor-private address may be translatable from
 * its address space -- neither through the page tables it runs on nor
 * through anything the envelope says the CPU may still hold under its
 * PCID or globally (what XPTI exists to guarantee). */
#include <errno.h>
#include <string.h>

#include "runner/ops.h"
#include "runner/platform.h"
#include "sim/event.h"
#include "sim/tlb/pte.h"
#include "sim/tlb/walk.h"

/* A hypervisor-private address: the first mapped page of each of the
 * hypervisor's L4 slots other than the entry stub's. */
static unsigned probes(struct platform *p, uint64_t *out, unsigned max)
{
	struct mem *mem = &p->m->mem;
	uint64_t root = p->hv.root_pfn << 12;
	unsigned n = 0, stub = LEVEL_INDEX(XPTI_STUB_VA, 4);
	for (unsigned s = HV_SLOT_FIRST; s <= HV_SLOT_LAST && n < max; s++) {
		uint64_t e = mem_read64(mem, root + 8ull * s);
		if (s == stub || !pte_present(e))
			continue;
		uint64_t va = 0xffff000000000000ull | ((uint64_t)s << 39);
		uint64_t table = pte_addr(e, 4);
		for (unsigned l = 3; l >= 1; l--) {
			unsigned i = 0;
			for (e = 0; i < 512; i++)
				if (pte_present(e = mem_read64(mem, table + 8ull * i)))
					break;
			if (i == 512)
				break;
			va |= (uint64_t)i << LEVEL_SHIFT(l);
			if (pte_is_leaf(e, l)) {
				out[n++] = va;
				break;
			}
			table = pte_addr(e, l);
		}
	}
	return n;
}

static void leak(struct op_ctx *x, unsigned cpu, uint64_t va, uint64_t root, uint64_t pcid)
{
	struct event ev = machine_event(x->m, EV_CHECK, (int)cpu);
	ev.sub = CHECK_XPTI;
	ev.a = va;
	ev.b = root;
	ev.c = pcid;
	ev.e = cpu;
	machine_emit(x->m, &ev);
}

static bool translatable(struct platform *p, uint64_t root_pfn, uint64_t va, bool globals_only)
{
	struct xlate t;
	walk_peek(&p->m->mem, root_pfn << 12, va, &p->m->wenv, &t);
	return t.present && (!globals_only || (t.perm & XP_G));
}

static void xpti_check(struct op_ctx *x, unsigned cpu)
{
	struct platform *p = x->plat;
	const struct hv_pcpu *pc = &p->pv.pcpu[cpu];
	if (!pc->curr || !pc->in_guest || !pc->curr->d->xpti)
		return;
	uint64_t va[HV_SLOT_LAST - HV_SLOT_FIRST + 1];
	unsigned n = probes(p, va, sizeof(va) / sizeof(va[0]));
	const struct cpu *c = &x->m->cpus[cpu];
	uint32_t pcid = (c->cr4 & CR4_PCIDE) ? (uint32_t)(c->cr3 & CR3_PCID_MASK) : 0;
	const struct env_cpu *e = &c->env;
	for (unsigned k = 0; k < n; k++) {
		/* The page tables the guest runs on. */
		if (translatable(p, (c->cr3 & CR3_ADDR_MASK) >> 12, va[k], false)) {
			leak(x, cpu, va[k], c->cr3 & CR3_ADDR_MASK, pcid);
			continue;
		}
		/* Every root this PCID may still hold translations of, and
		 * every root whose global entries may still be held. */
		for (uint32_t s = 0; s < e->nslots; s++)
			if (e->slots[s].pcid == pcid)
				for (uint32_t r = 0; r < e->slots[s].nroots; r++)
					if (translatable(p, e->slots[s].roots[r].pfn, va[k], false))
						leak(x, cpu, va[k], e->slots[s].roots[r].pfn << 12, pcid);
		for (uint32_t r = 0; r < e->gslot.nroots; r++)
			if (translatable(p, e->gslot.roots[r].pfn, va[k], true))
				leak(x, cpu, va[k], e->gslot.roots[r].pfn << 12, ENV_GLOBAL);
	}
}

int pv_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct platform *p = x->plat;
	if (!p || !p->booted)
		return op_input_error(x, op, "the scenario has no hv: section");
	struct hv *hv = &p->hv;
	struct hv_pv *pv = &p->pv;
	int rc;
	switch (op->kind) {
	case OP_DOMAIN:
		rc = hv_domain_create(hv, pv, cpu, op->vcpu,
		                      op->xpti >= 0 ? op->xpti != 0 : pv->xpti_default);
		if (rc >= 0)
			rc = 0;
		break;
	case OP_VCPU_RUN:
		if (op->domain >= pv->ndomains || op->vcpu >= pv->dom[op->domain].nvcpus)
			return op_input_error(x, op, "no vcpu %u of domain %u", op->vcpu, op->domain);
		rc = hv_vcpu_run(hv, pv, cpu, &pv->dom[op->domain].vcpu[op->vcpu]);
		if (rc == -EBUSY)
			return op_input_error(x, op, "vcpu %u of domain %u runs on another cpu",
			                      op->vcpu, op->domain);
		break;
	case OP_IDLE:
		rc = hv_switch_idle(hv, pv, cpu);
		break;
	case OP_SYSCALL: {
		struct hv_vcpu *v = pv->pcpu[cpu].curr;
		if (!v || !pv->pcpu[cpu].in_guest)
			return op_input_error(x, op, "no guest runs on cpu %u", cpu);
		/* The call, and (in the same op) its return. */
		rc = hv_syscall(hv, pv, cpu, v->kernel_mode ? 1 : 0);
		if (!rc)
			rc = hv_syscall(hv, pv, cpu, v->kernel_mode ? 1 : 0);
		break;
	}
	default: /* OP_GUEST_MAP */
		if (!pv->pcpu[cpu].curr || !pv->pcpu[cpu].in_guest)
			return op_input_error(x, op, "no guest runs on cpu %u", cpu);
		rc = hv_guest_map(hv, pv, cpu, op->va, op->pa, op->flags, op->user);
		break;
	}
	if (rc == -ENOMEM)
		return op_input_error(x, op, "out of simulated frames (machine.memory_frames)");
	if (rc)
		return op_input_error(x, op, "the hypervisor refused the operation (%d)", rc);
	xpti_check(x, cpu);
	return 0;
}
