/* The one invalidation path: every TLB-invalidating event (INVLPG,
 * INVPCID, MOV CR3, MOV CR4, a page fault) is described as a struct inval
 * and applied here to BOTH the concrete TLB and the envelope, then
 * recorded as one EV_FLUSH (preceded by an EV_ENV_DROP per envelope
 * record it removed). Nothing else removes TLB or envelope state.
 *
 * Semantics are the minimum the SDM requires (Vol. 3A §4.10.4.1,
 * hw-facts §1.1 table): over-invalidation is legal on real parts but would
 * hide missing flushes, so the models never do it (docs/models.md).
 */
#ifndef HVSIM_SIM_TLB_INVAL_H
#define HVSIM_SIM_TLB_INVAL_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

struct inval {
	uint8_t scope;  /* SCOPE_* (sim/event.h) */
	uint8_t instr;  /* INSTR_* */
	bool globals;   /* SCOPE_PAGE: also global entries for the page */
	uint32_t pcid;  /* SCOPE_PAGE, SCOPE_PCID */
	uint64_t va;    /* SCOPE_PAGE */
};

/* Returns the seq of the EV_FLUSH event. */
uint64_t inval_apply(struct machine *m, unsigned cpu, const struct inval *iv);

#endif
