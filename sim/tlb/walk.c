#include "sim/tlb/walk.h"

#include <assert.h>
#include <string.h>

#include "sim/event.h"
#include "sim/tlb/pte.h"
#include "sim/tlb/tlb.h"

bool pte_reserved(uint64_t e, unsigned level, const struct walk_env *env)
{
	if (!env->nxe && (e & PTE_NX))
		return true;
	switch (level) {
	case 4:
		return (e & PTE_PS) != 0; /* PS is reserved in a PML4E */
	case 3:
		if (!(e & PTE_PS))
			return false;
		return !env->page1gb || (e & PTE_RSVD_1G);
	case 2:
		return (e & PTE_PS) && (e & PTE_RSVD_2M);
	default:
		return false;
	}
}

uint8_t perm_combine(uint8_t above, uint64_t e)
{
	uint8_t p = above & (XP_RW | XP_US);
	if (!(e & PTE_RW))
		p &= (uint8_t)~XP_RW;
	if (!(e & PTE_US))
		p &= (uint8_t)~XP_US;
	if ((above & XP_NX) || (e & PTE_NX))
		p |= XP_NX;
	return p;
}

void xlate_from_leaf(uint64_t e, unsigned level, uint8_t above, struct xlate *out)
{
	memset(out, 0, sizeof(*out));
	out->present = 1;
	out->level = (uint8_t)level;
	out->size_log2 = (uint8_t)LEVEL_SHIFT(level);
	out->pa_base = pte_addr(e, level);
	uint8_t p = perm_combine(above, e);
	if (e & PTE_PWT)
		p |= XP_PWT;
	if (e & PTE_PCD)
		p |= XP_PCD;
	if (pte_pat(e, level))
		p |= XP_PAT;
	if (e & PTE_G)
		p |= XP_G;
	if (e & PTE_D)
		p |= XP_D;
	out->perm = p;
}

void walk_peek_from(struct mem *m, uint64_t table_pa, unsigned level, uint8_t perm,
                    uint64_t va, const struct walk_env *env, struct xlate *out)
{
	memset(out, 0, sizeof(*out));
	for (; level >= 1; level--) {
		uint64_t e = mem_read64(m, table_pa + 8ull * LEVEL_INDEX(va, level));
		if (!pte_present(e))
			return;
		if (pte_reserved(e, level, env)) {
			out->rsvd = 1;
			return;
		}
		if (pte_is_leaf(e, level)) {
			xlate_from_leaf(e, level, perm, out);
			return;
		}
		perm = perm_combine(perm, e);
		table_pa = pte_addr(e, level);
	}
}

int xlate_cmp_at(const struct xlate *c, const struct xlate *x, uint64_t va)
{
	if (!c->present)
		return XC_SAME; /* nothing is cached for a non-present entry */
	if (!x->present || xlate_pa(c, va) != xlate_pa(x, va))
		return XC_STALE;
	const uint8_t memtype = XP_PWT | XP_PCD | XP_PAT;
	if ((c->perm ^ x->perm) & memtype)
		return XC_STALE;
	/* Rights the cached entry grants beyond the current ones. A global
	 * entry for a now non-global page would also survive PCID flushes. */
	bool more = ((c->perm & XP_RW) && !(x->perm & XP_RW)) ||
	            ((c->perm & XP_US) && !(x->perm & XP_US)) ||
	            (!(c->perm & XP_NX) && (x->perm & XP_NX)) ||
	            ((c->perm & XP_G) && !(x->perm & XP_G));
	if (more)
		return XC_STALE;
	return ((c->perm ^ x->perm) & (XP_RW | XP_US | XP_NX | XP_G)) ? XC_WEAKER : XC_SAME;
}

bool xlate_check(const struct xlate *x, unsigned acc, bool wp, bool nxe, uint32_t *pfec)
{
	uint32_t ec = ((acc & ACC_WRITE) ? PFEC_W : 0) | ((acc & ACC_USER) ? PFEC_U : 0) |
	              ((acc & ACC_EXEC) && nxe ? PFEC_I : 0);
	bool user = acc & ACC_USER;
	bool fault;
	if (!x->present) {
		/* Reserved bits set: P=1 and RSVD=1 (SDM §4.7). */
		if (x->rsvd)
			ec |= PFEC_P | PFEC_RSVD;
		fault = true;
	} else {
		fault = (user && !(x->perm & XP_US)) ||
		        ((acc & ACC_WRITE) && !(x->perm & XP_RW) && (user || wp)) ||
		        ((acc & ACC_EXEC) && nxe && (x->perm & XP_NX));
		ec |= PFEC_P;
	}
	*pfec = fault ? ec : 0;
	return fault;
}
