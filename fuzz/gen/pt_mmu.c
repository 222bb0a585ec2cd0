/* MMU cases of the `pt` target (fuzz/gen/pt_mmu.h): a correct OS.
 *
 * One or two address spaces (scenario roots r0, r1), loaded on every CPU;
 * with CR4.PCIDE (swarm) r0 runs under PCID 0 and r1 under PCID 1, else
 * both under PCID 0 with CR4.PGE (swarm) and global leaves (one address
 * space only: a global page must be the same in every address space).
 * Leaves: 16 4 KiB pages in the first 2 MiB of VA_BASE, four 2 MiB pages
 * after them, one 1 GiB page at VA_1G; a shadow of what each root maps.
 *
 * Every change of a present entry is a shootdown block (SDM 4.10.4 and
 * 4.10.5): all CPUs meet (barrier), one CPU changes the entry and
 * invalidates, an IPI makes every other CPU invalidate, all meet again --
 * so no CPU runs between a change and its invalidation. The invalidation
 * is one the SDM says suffices: INVLPG (current PCID and globals), INVPCID
 * type 0 for the root's PCID (non-global leaves), type 1, or type 2.
 * Unlinking the L1 table of the 4 KiB pages saves it, flushes everything
 * on every CPU (INVPCID type 2), and frees it only after the second
 * barrier (the psc-freed-table ordering). Between blocks the CPUs access
 * any of the addresses (faults are ordinary outcomes), switch address
 * spaces (NOFLUSH under PCIDE: every invalidation reached every PCID it
 * had to), toggle CR4.PGE, and meet at quiescent points.
 */
#include "fuzz/gen/pt_mmu.h"

#include <stdio.h>

#include "fuzz/gen/scbuild.h"
#include "sim/event.h"
#include "sim/tlb/pte.h"

#define VA_BASE 0x40000000ull
#define VA_1G 0x80000000ull
#define N4K 16
#define N2M 4
#define NSLOT (N4K + N2M + 1)
#define PA_4K 0x10000000ull
#define PA_2M 0x40000000ull
#define PA_1G 0x100000000ull
#define LEAF (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

enum method { M_INVLPG, M_INVPCID0, M_INVPCID1, M_INVPCID2, NMETHOD };

struct mmugen {
	struct bytesrc *b;
	struct scenario *sc;
	unsigned ncpus, nroots;
	bool pcide, pge;
	int cur[8];                 /* root each CPU runs */
	uint64_t leaf[2][NSLOT];    /* shadow: 0 unmapped, else the entry */
	bool l1[2];                 /* the 4 KiB pages' L1 table exists */
	unsigned saved;             /* unlinked tables named so far */
};

static uint64_t slot_va(unsigned s)
{
	if (s < N4K)
		return VA_BASE + ((uint64_t)s << 12);
	if (s < N4K + N2M)
		return VA_BASE + ((uint64_t)(s - N4K + 1) << 21);
	return VA_1G;
}

static unsigned slot_level(unsigned s)
{
	return s < N4K ? 1 : s < N4K + N2M ? 2 : 3;
}

static struct op *add(struct mmugen *g, enum op_kind k, unsigned cpu)
{
	return scb_op(g->sc, k, cpu);
}

static unsigned pcid_of(const struct mmugen *g, unsigned root)
{
	return g->pcide ? root : 0;
}

/* One invalidation of slot s of root r (or of everything: s = NSLOT),
 * as an op of a CPU's program (cpu >= 0) or of an IPI run (ipi). */
static int invalidate(struct mmugen *g, struct op *ipi, int cpu, unsigned r, unsigned s,
                      enum method m)
{
	struct op *op;
	bool all = s == NSLOT;
	enum op_kind k = m == M_INVLPG && !all ? OP_INVLPG : OP_INVPCID;
	op = ipi ? scb_sub(ipi, k) : add(g, k, (unsigned)cpu);
	if (!op)
		return -1;
	if (k == OP_INVLPG) {
		/* Any address inside the page: a 4 KiB page has one. */
		op->va = slot_va(s) + (slot_level(s) > 1 ? bs_below(g->b, 4) << 12 : 0);
		return 0;
	}
	op->type = all ? 2 : m == M_INVPCID0 ? 0 : m == M_INVPCID1 ? 1 : 2;
	op->pcid = op->type <= 1 ? pcid_of(g, r) : 0;
	op->va = op->type == 0 ? slot_va(s) : 0;
	return 0;
}

/* A method that removes what slot s of root r may hold on every CPU. */
static enum method pick_method(struct mmugen *g, unsigned r, uint64_t old)
{
	bool global = (old & PTE_G) && g->pge;
	enum method m = (enum method)bs_below(g->b, NMETHOD);
	if (global && (m == M_INVPCID0 || m == M_INVPCID1))
		m = M_INVPCID2; /* INVPCID 0/1 keep global translations */
	if (m == M_INVLPG) {
		/* INVLPG reaches the CURRENT PCID (and globals): enough only if
		 * every CPU runs r under its only PCID use, i.e. without PCIDE
		 * (one PCID for all) or when every CPU runs r. */
		bool ok = !g->pcide;
		if (g->pcide) {
			ok = true;
			for (unsigned c = 0; c < g->ncpus; c++)
				ok &= g->cur[c] == (int)r;
		}
		if (!ok)
			m = M_INVPCID0;
	}
	return m;
}

static int shootdown(struct mmugen *g, unsigned cpu, unsigned r, unsigned s, enum method m)
{
	if (invalidate(g, NULL, (int)cpu, r, s, m))
		return -1;
	if (g->ncpus > 1) {
		struct op *ipi = add(g, OP_IPI, cpu);
		if (!ipi)
			return -1;
		for (unsigned c = 0; c < g->ncpus; c++)
			if (c != cpu)
				ipi->to[c / 64] |= 1ull << (c % 64);
		if (invalidate(g, ipi, -1, r, s, m))
			return -1;
	}
	return add(g, OP_BARRIER, 0) ? 0 : -1;
}

static uint64_t new_leaf(struct mmugen *g, unsigned s)
{
	unsigned lvl = slot_level(s);
	uint64_t pa = lvl == 1 ? PA_4K + (bs_below(g->b, 32) << 12)
	            : lvl == 2 ? PA_2M + (bs_below(g->b, 8) << 21)
	                       : PA_1G + (bs_below(g->b, 2) << 30);
	uint64_t f = LEAF;
	if (bs_chance(g->b, 20))
		f &= ~PTE_RW;
	if (bs_chance(g->b, 30))
		f &= ~(PTE_D | (bs_chance(g->b, 50) ? PTE_A : 0)); /* the CPU sets them */
	if (g->pge && g->nroots == 1 && bs_chance(g->b, 40))
		f |= PTE_G;
	return pa | f;
}

static int gen_update(struct mmugen *g)
{
	unsigned cpu = (unsigned)bs_below(g->b, g->ncpus);
	unsigned r = (unsigned)bs_below(g->b, g->nroots);
	unsigned s = (unsigned)bs_below(g->b, NSLOT);
	uint64_t old = g->leaf[r][s];
	unsigned lvl = slot_level(s);
	if (!add(g, OP_BARRIER, 0))
		return -1;
	struct op *op;
	uint64_t nv = old && bs_chance(g->b, 30) ? 0 : new_leaf(g, s);
	if (!nv) {
		if (!(op = add(g, OP_UNMAP, cpu)))
			return -1;
	} else if (old && bs_chance(g->b, 50)) {
		if (!(op = add(g, OP_WRITE_PTE, cpu)))
			return -1;
		op->level = lvl;
		op->value = nv | (lvl > 1 ? PTE_PS : 0);
		op->has_value = true;
	} else {
		if (!(op = add(g, OP_MAP, cpu)))
			return -1;
		op->pa = nv & PTE_ADDR_4K;
		op->flags = nv & ~PTE_ADDR_4K;
		op->size_log2 = lvl == 1 ? 12 : lvl == 2 ? 21 : 30;
	}
	op->root = r;
	op->has_root = true;
	op->va = slot_va(s);
	g->leaf[r][s] = nv;
	if (lvl == 1 && nv)
		g->l1[r] = true;
	if (!old) /* not present before: nothing to invalidate (SDM 4.10.4.3) */
		return add(g, OP_BARRIER, 0) ? 0 : -1;
	return shootdown(g, cpu, r, s, pick_method(g, r, old));
}

static int gen_unlink(struct mmugen *g)
{
	unsigned r = (unsigned)bs_below(g->b, g->nroots);
	if (!g->l1[r] || g->saved >= 64)
		return gen_update(g);
	unsigned cpu = (unsigned)bs_below(g->b, g->ncpus);
	char name[16];
	snprintf(name, sizeof(name), "t%u", g->saved++);
	int t = scb_root(g->sc, name);
	struct op *op;
	if (t < 0 || !add(g, OP_BARRIER, 0) || !(op = add(g, OP_UNLINK, cpu)))
		return -1;
	op->root = r;
	op->has_root = true;
	op->va = VA_BASE;
	op->level = 2;
	op->save = (uint32_t)t;
	op->has_save = true;
	for (unsigned s = 0; s < N4K; s++)
		g->leaf[r][s] = 0;
	g->l1[r] = false;
	if (shootdown(g, cpu, r, NSLOT, M_INVPCID2))
		return -1;
	if (!(op = add(g, OP_FREE, cpu)))
		return -1;
	op->root = (uint32_t)t;
	op->has_root = true;
	return 0;
}

static int gen_access(struct mmugen *g)
{
	struct op *op = add(g, OP_ACCESS, (unsigned)bs_below(g->b, g->ncpus));
	if (!op)
		return -1;
	op->va = slot_va((unsigned)bs_below(g->b, NSLOT)) + (bs_below(g->b, 4) << 12) +
	         (bs_below(g->b, 512) << 3);
	op->acc = (bs_chance(g->b, 30) ? ACC_WRITE : 0) | (bs_chance(g->b, 30) ? ACC_USER : 0);
	return 0;
}

static int gen_switch(struct mmugen *g)
{
	if (g->nroots < 2)
		return gen_access(g);
	unsigned cpu = (unsigned)bs_below(g->b, g->ncpus);
	unsigned r = (unsigned)bs_below(g->b, 2);
	struct op *op = add(g, OP_CR3, cpu);
	if (!op)
		return -1;
	op->root = r;
	op->has_root = true;
	op->pcid = pcid_of(g, r);
	op->noflush = g->pcide && bs_chance(g->b, 60);
	g->cur[cpu] = (int)r;
	return 0;
}

static int gen_pge_toggle(struct mmugen *g)
{
	if (g->pcide)
		return gen_access(g);
	unsigned cpu = (unsigned)bs_below(g->b, g->ncpus);
	for (int on = 0; on < 2; on++) { /* off and on again: flushes everything */
		struct op *op = add(g, OP_CR4, cpu);
		if (!op)
			return -1;
		op->pge = g->pge ? (int8_t)on : (int8_t)!on;
	}
	return 0;
}

static int setup(struct mmugen *g)
{
	for (unsigned r = 0; r < g->nroots; r++) {
		int idx = scb_root(g->sc, r ? "r1" : "r0");
		struct op *op = add(g, OP_PT_NEW, 0);
		if (idx < 0 || !op)
			return -1;
		op->root = (uint32_t)idx;
		op->has_root = true;
	}
	if (g->ncpus > 1 && !add(g, OP_BARRIER, 0))
		return -1;
	for (unsigned c = 0; c < g->ncpus; c++) {
		struct op *op = add(g, OP_CR3, c);
		if (!op)
			return -1;
		op->has_root = true; /* root 0, PCID 0 */
		g->cur[c] = 0;
		if (g->pcide || g->pge) {
			if (!(op = add(g, OP_CR4, c)))
				return -1;
			if (g->pcide)
				op->pcide = 1;
			else
				op->pge = 1;
		}
	}
	return 0;
}

int pt_mmu_case(struct bytesrc *b, struct scenario *sc)
{
	struct mmugen g = {.b = b, .sc = sc, .ncpus = sc->ncpus > 8 ? 8 : sc->ncpus};
	g.nroots = 1 + (unsigned)bs_below(b, 2);
	g.pcide = sc->profile.has_pcid && bs_chance(b, 40);
	g.pge = !g.pcide && sc->profile.has_pge && bs_chance(b, 60);
	if (setup(&g))
		return -1;
	enum { W_UPDATE, W_UNLINK, W_ACCESS, W_SWITCH, W_PGE, W_QUIESCE, NW };
	unsigned w[NW];
	for (unsigned i = 0; i < NW; i++)
		w[i] = bs_chance(b, 75) ? 1 + (unsigned)bs_below(b, 4) : 0;
	w[W_UPDATE] += 2;
	w[W_ACCESS] += 2;
	unsigned n = 3 + (unsigned)bs_below(b, 10) + (bs_chance(b, 20) ? (unsigned)bs_below(b, 30) : 0);
	for (unsigned i = 0; i < n && !bs_exhausted(b); i++) {
		int rc;
		switch (bs_weighted(b, w, NW)) {
		case W_UPDATE:
			rc = gen_update(&g);
			break;
		case W_UNLINK:
			rc = gen_unlink(&g);
			break;
		case W_ACCESS:
			rc = gen_access(&g);
			break;
		case W_SWITCH:
			rc = gen_switch(&g);
			break;
		case W_PGE:
			rc = gen_pge_toggle(&g);
			break;
		default:
			rc = add(&g, OP_QUIESCE, 0) ? 0 : -1;
			break;
		}
		if (rc)
			return sc->nops >= SCB_MAX_OPS - 8 ? 0 : -1;
	}
	return add(&g, OP_QUIESCE, 0) ? 0 : -1;
}

bool pt_mmu_keep_op(const struct scenario *sc, const struct op *op)
{
	/* The invalidations and the barriers that keep other CPUs out of a
	 * change's window: without them a shrunk case would be an incorrect
	 * OS, failing for its own reason, not the original's. */
	if (sc->hv.enabled)
		return false;
	switch (op->kind) {
	case OP_INVLPG:
	case OP_INVPCID:
	case OP_IPI:
	case OP_BARRIER:
	case OP_CR3:
	case OP_CR4:
		return true;
	default:
		return false;
	}
}
