#include "sim/tlb/inval.h"

#include <assert.h>

#include "sim/event.h"
#include "sim/machine.h"

static uint32_t concrete(struct tlb *t, const struct inval *iv, bool covering)
{
	switch (iv->scope) {
	case SCOPE_PAGE:
		/* §4.10.4.1: the page's entries for the PCID (+ globals for
		 * INVLPG) and ALL paging-structure-cache entries of the PCID --
		 * or, with AMD's TCE, only those covering the address. */
		return tlb_inv_page(t, iv->va, (uint16_t)iv->pcid, iv->globals) +
		       (covering ? psc_inv_covering(t, iv->va, (uint16_t)iv->pcid)
		                 : psc_inv_pcid(t, (uint16_t)iv->pcid));
	case SCOPE_PCID:
		return tlb_inv_pcid(t, (uint16_t)iv->pcid) + psc_inv_pcid(t, (uint16_t)iv->pcid);
	case SCOPE_ALL_NONGLOBAL:
		return tlb_inv_all(t, false) + psc_inv_all(t);
	case SCOPE_ALL:
		return tlb_inv_all(t, true) + psc_inv_all(t);
	default:
		return 0;
	}
}

static void envelope(struct machine *m, unsigned cpu, const struct inval *iv,
                     struct env_inv_result *r)
{
	switch (iv->scope) {
	case SCOPE_PAGE:
		env_inv_page(m, cpu, iv->pcid, iv->va, iv->globals, r);
		break;
	case SCOPE_PCID:
		env_inv_pcid(m, cpu, iv->pcid, r);
		break;
	case SCOPE_ALL_NONGLOBAL:
		env_inv_all(m, cpu, false, r);
		break;
	case SCOPE_ALL:
		env_inv_all(m, cpu, true, r);
		break;
	default:
		break;
	}
}

uint64_t inval_apply(struct machine *m, unsigned cpu, const struct inval *iv)
{
	assert(cpu < m->ncpus);
	assert(iv->scope <= SCOPE_ALL);
	assert(iv->pcid < 4096);
	struct cpu *c = &m->cpus[cpu];
	uint32_t removed_tlb = concrete(&c->tlb, iv, m->prof.psc_inval_covering != 0);
	struct env_inv_result r = {0, 0, 0};
	m->envg.ndrops = 0;
	envelope(m, cpu, iv, &r);

	/* Drops go out first, each naming the flush event that follows. */
	uint64_t flush_seq = m->bus.seq + m->envg.ndrops + 1;
	for (uint32_t i = 0; i < m->envg.ndrops; i++) {
		struct event ev = machine_event(m, EV_ENV_DROP, (int)cpu);
		ev.sub = iv->instr;
		ev.a = m->envg.drops[i].id;
		ev.b = flush_seq;
		ev.c = m->envg.drops[i].cls;
		machine_emit(m, &ev);
	}
	m->envg.ndrops = 0;

	struct event ev = machine_event(m, EV_FLUSH, (int)cpu);
	ev.sub = iv->instr;
	ev.a = iv->va;
	ev.b = iv->pcid;
	ev.c = removed_tlb;
	ev.d = r.removed;
	ev.e = r.stale;
	bool necessary = r.stale || r.needed;
	ev.f = iv->scope | ((uint64_t)necessary << 8) | ((uint64_t)iv->globals << 9);
	uint64_t seq = machine_emit(m, &ev);
	assert(seq == flush_seq);
	env_sync_current(m, cpu);
	return seq;
}
