/* Fuzz target `pt`: page-table operations.
 *
 * Two kinds of case (the swarm picks one, then a random subset of op
 * kinds with random weights, the profile, 1-4 CPUs and the configuration):
 *
 *  - hypervisor cases: the hypervisor core's hv_map / hv_modify /
 *    hv_destroy (seed 000) over a 2 GiB window of one L4 slot and over the
 *    direct map, with 1 GiB pages on or off, superpages on or off, the xen
 *    or ranged flush policy (ceiling 33, 512 or random), accesses from
 *    every CPU between them so TLBs and paging-structure caches hold what
 *    the operations must flush, quiescent points and barriers. Ranges are
 *    biased to 2 MiB and 1 GiB boundaries, frames to the window's image
 *    (superpages possible) and to repeats of earlier requests (unchanged
 *    superpages skipped, re-merges);
 *  - MMU cases: a correct OS driving the hardware directly: page tables
 *    built with map / unmap / write_pte / unlink (the unlinked table saved
 *    and freed after the shootdown), CR3 loads with PCIDs, CR4.PGE/PCIDE,
 *    and after every change the invalidation the SDM requires on every
 *    CPU (INVLPG or INVPCID locally, an IPI running it on the others, a
 *    barrier so that no CPU runs between the change and its flush).
 *
 * Every sequence is valid and correct: any property violation is a bug of
 * the system under test (the hypervisor core, or the models). The
 * target's own oracle `hv-map-steps` bounds the work of hv_map: a map
 * loop step either writes an entry or skips an unchanged superpage up to
 * its next boundary (seed 000's changelog), so the steps that write
 * nothing number at most the 2 MiB boundaries inside the range plus one.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz/gen/observe.h"
#include "fuzz/gen/pt_mmu.h"
#include "fuzz/gen/scbuild.h"
#include "fuzz/gen/target.h"
#include "sim/tlb/pte.h"

#define PAGES_2M 512ull
#define PAGES_1G (512ull * 512)
#define WIN_VA 0xffff820000000000ull /* L4 slot 260, as tests/test_hv_mutations.c */
#define WIN_PAGES (2 * PAGES_1G)
#define PA_SAME 0x200000000ull       /* the window's image: alignments match */
#define PA_OTHER (PA_SAME + (64ull << 30))
#define DIRECTMAP_VA 0xffff830000000000ull /* hv/hv.h DIRECTMAP_VIRT_START */
#define HV_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G | PTE_NX) /* PAGE_HYPERVISOR */
#define MAX_REMEMBER 32

struct req {
	uint64_t va, pa, count, flags;
};

struct ptgen {
	struct bytesrc *b;
	struct scenario *sc;
	unsigned ncpus;
	struct req maps[MAX_REMEMBER];
	unsigned nmaps;
	unsigned w[8];   /* op weights of this case (swarm) */
	bool big;        /* whole 2 MiB areas and 1 GiB pages in this case */
};

/* ---- hypervisor cases ---------------------------------------------------- */

static uint64_t gen_start(struct ptgen *g)
{
	struct bytesrc *b = g->b;
	uint64_t base = bs_below(b, 2) * PAGES_1G;
	uint64_t two = bs_below(b, 512) * PAGES_2M;
	if (bs_chance(b, 50)) { /* the hot area: 2 MiB pages around the 1 GiB boundary */
		base = PAGES_1G - 2 * PAGES_2M + bs_below(b, 6) * PAGES_2M;
		two = 0;
	}
	switch (bs_below(b, 8)) {
	case 0:
		return base - base % PAGES_1G;
	case 1:
	case 2:
	case 3:
		return base + two;
	case 4: { /* a few pages either side of a boundary */
		uint64_t d = 1 + bs_below(b, 3), at = base + two;
		return bs_chance(b, 50) || at < d ? at + d : at - d;
	}
	case 5:
		return base + two + bs_below(b, 16);
	default:
		return base + two + bs_below(b, PAGES_2M);
	}
}

/* Lengths: mostly a few pages (cheap cases, many of them); whole and
 * almost-whole 2 MiB areas and 1 GiB pages less often (they shatter,
 * merge and skip, and cost hundreds of steps each). */
static uint64_t gen_len(struct ptgen *g, bool big_ok)
{
	struct bytesrc *b = g->b;
	if (!g->big) /* this case keeps to a few pages per request */
		return bs_chance(b, 80) ? 1 + bs_below(b, 4) : 5 + bs_below(b, 28);
	switch (bs_below(b, 32)) {
	case 0: /* a 1 GiB range is checked page by page after the op: rarer */
		return big_ok && bs_chance(b, 50) ? PAGES_1G : 2 * PAGES_2M;
	case 1:
	case 2:
		return (1 + bs_below(b, 2)) * PAGES_2M;
	case 3:
	case 4:
	case 5:
		return PAGES_2M - 1 + bs_below(b, 3); /* 511, 512, 513 */
	case 6:
	case 7:
		return 5 + bs_below(b, 28);
	default:
		return 1 + bs_below(b, 4);
	}
}

static uint64_t gen_flags(struct ptgen *g)
{
	static const uint64_t variants[] = {PTE_RW, PTE_G, PTE_NX, PTE_PCD, PTE_PWT, PTE_PAT4K};
	uint64_t f = HV_FLAGS;
	if (bs_chance(g->b, 65))
		return f;
	for (unsigned k = 1 + (unsigned)bs_below(g->b, 2); k; k--)
		f ^= variants[bs_below(g->b, 6)];
	return f | PTE_P;
}

static void remember(struct ptgen *g, uint64_t va, uint64_t pa, uint64_t count, uint64_t flags)
{
	unsigned i = g->nmaps < MAX_REMEMBER ? g->nmaps++ : (unsigned)bs_below(g->b, MAX_REMEMBER);
	g->maps[i] = (struct req){va, pa, count, flags};
}

static int gen_hv_map(struct ptgen *g, unsigned cpu)
{
	const struct sc_hv *hv = &g->sc->hv;
	uint64_t start = gen_start(g);
	uint64_t len = gen_len(g, hv->superpages && hv->page1gb);
	if (len > WIN_PAGES - start)
		len = WIN_PAGES - start;
	uint64_t pa;
	switch (bs_below(g->b, 8)) {
	case 0:
	case 1: /* other frames, 2 MiB aligned like the va */
		pa = PA_OTHER + bs_below(g->b, 64) * (PAGES_2M << 12) + ((start % PAGES_2M) << 12);
		break;
	case 2: /* other frames, unaligned: 4 KiB pages only (cheap lengths) */
		if (len > 32)
			len = 1 + len % 32;
		pa = PA_OTHER + ((1 + bs_below(g->b, 4096)) << 12);
		break;
	default:
		pa = PA_SAME + (start << 12);
	}
	struct op *op = scb_op(g->sc, OP_HV_MAP, cpu);
	if (!op)
		return -1;
	op->va = WIN_VA + (start << 12);
	op->pa = pa;
	op->count = len;
	op->flags = gen_flags(g);
	op->small = bs_chance(g->b, 15);
	remember(g, op->va, op->pa, op->count, op->flags);
	return 0;
}

/* A part of an earlier request again, same frames and flags (unchanged
 * superpages are skipped; a last missing page re-merges), or the direct
 * map's own mapping of a few frames. */
static int gen_repeat(struct ptgen *g, unsigned cpu)
{
	struct req r;
	if (g->nmaps && (!g->sc->hv.directmap_bytes || bs_chance(g->b, 80))) {
		r = g->maps[bs_below(g->b, g->nmaps)];
	} else if (g->sc->hv.directmap_bytes) {
		uint64_t pages = g->sc->hv.directmap_bytes >> 12;
		uint64_t at = bs_below(g->b, pages);
		r = (struct req){DIRECTMAP_VA + (at << 12), at << 12, pages - at, HV_FLAGS};
	} else {
		return gen_hv_map(g, cpu);
	}
	uint64_t off = bs_chance(g->b, 30) ? 0 : bs_below(g->b, r.count);
	uint64_t left = r.count - off;
	static const uint64_t lens[] = {1, 2, 3, 16, 512};
	uint64_t len = bs_chance(g->b, 25) ? left : lens[bs_below(g->b, 5)];
	if (len > left)
		len = left;
	struct op *op = scb_op(g->sc, OP_HV_MAP, cpu);
	if (!op)
		return -1;
	op->va = r.va + (off << 12);
	op->pa = r.pa + (off << 12);
	op->count = len;
	op->flags = r.flags;
	op->small = bs_chance(g->b, 10);
	return 0;
}

/* A range over what was requested before (or anywhere in the window). */
static void gen_range(struct ptgen *g, uint64_t *va, uint64_t *count)
{
	if (g->nmaps && bs_chance(g->b, 75)) {
		const struct req *r = &g->maps[bs_below(g->b, g->nmaps)];
		uint64_t off = bs_chance(g->b, 40) ? 0 : bs_below(g->b, r->count);
		uint64_t left = r->count - off;
		uint64_t len = bs_chance(g->b, 40) ? left : 1 + bs_below(g->b, left < 8 ? left : 8);
		*va = r->va + (off << 12);
		*count = len;
		return;
	}
	uint64_t start = gen_start(g);
	uint64_t len = gen_len(g, false);
	*va = WIN_VA + (start << 12);
	*count = len > WIN_PAGES - start ? WIN_PAGES - start : len;
}

static int gen_hv_modify(struct ptgen *g, unsigned cpu)
{
	struct op *op = scb_op(g->sc, OP_HV_MODIFY, cpu);
	if (!op)
		return -1;
	gen_range(g, &op->va, &op->count);
	op->flags = gen_flags(g);
	return 0;
}

static int gen_hv_destroy(struct ptgen *g, unsigned cpu)
{
	struct op *op = scb_op(g->sc, OP_HV_DESTROY, cpu);
	if (!op)
		return -1;
	gen_range(g, &op->va, &op->count);
	return 0;
}

static int gen_hv_access(struct ptgen *g, unsigned cpu)
{
	uint64_t va;
	if (g->nmaps && bs_chance(g->b, 85)) {
		const struct req *r = &g->maps[bs_below(g->b, g->nmaps)];
		va = r->va + (bs_below(g->b, r->count) << 12);
	} else if (g->sc->hv.directmap_bytes) {
		va = DIRECTMAP_VA + (bs_below(g->b, g->sc->hv.directmap_bytes >> 12) << 12);
	} else {
		va = WIN_VA + (gen_start(g) << 12);
	}
	struct op *op = scb_op(g->sc, OP_ACCESS, cpu);
	if (!op)
		return -1;
	op->va = va + (bs_below(g->b, 512) << 3);
	op->acc = bs_chance(g->b, 30) ? ACC_WRITE : ACC_READ;
	return 0;
}

static void hv_config(struct ptgen *g)
{
	struct sc_hv *hv = &g->sc->hv;
	scb_hv_defaults(hv);
	hv->page1gb = bs_chance(g->b, 65);
	hv->superpages = bs_chance(g->b, 85);
	hv->flush_policy = bs_chance(g->b, 50) ? SC_FLUSH_RANGED : SC_FLUSH_XEN;
	/* A ceiling of 512 or more flushes 2 MiB areas page by page (what
	 * makes a flush at the wrong address visible) and costs 512 INVLPGs
	 * per CPU each: a fifth of the ranged cases. */
	static const uint32_t ceilings[] = {33, 33, 33, 33, 1, 1, 512, 512, 512, 1024};
	hv->flush_ceiling = ceilings[bs_below(g->b, 10)];
	/* The direct map is built at boot, in every case: 1 GiB of it only
	 * where superpages make that a few entries, not 262144. */
	static const uint64_t dm[] = {0, 4ull << 20, 1ull << 30};
	hv->directmap_bytes = dm[bs_below(g->b, hv->superpages ? 3 : 2)];
}

static int hv_case(struct ptgen *g)
{
	hv_config(g);
	g->big = bs_chance(g->b, 20);
	enum { W_MAP, W_REPEAT, W_MODIFY, W_DESTROY, W_ACCESS, W_QUIESCE, W_BARRIER, NW };
	for (unsigned i = 0; i < NW; i++)
		g->w[i] = bs_chance(g->b, 75) ? 1 + (unsigned)bs_below(g->b, 4) : 0;
	g->w[W_MAP] += 1;
	g->w[W_ACCESS] += 2;
	unsigned n = 2 + (unsigned)bs_below(g->b, 6) +
	             (bs_chance(g->b, 15) ? (unsigned)bs_below(g->b, 24) : 0);
	for (unsigned i = 0; i < n && !bs_exhausted(g->b); i++) {
		unsigned cpu = (unsigned)bs_below(g->b, g->ncpus);
		int rc = 0;
		switch (bs_weighted(g->b, g->w, NW)) {
		case W_MAP:
			rc = gen_hv_map(g, cpu);
			break;
		case W_REPEAT:
			rc = gen_repeat(g, cpu);
			break;
		case W_MODIFY:
			rc = gen_hv_modify(g, cpu);
			break;
		case W_DESTROY:
			rc = gen_hv_destroy(g, cpu);
			break;
		case W_ACCESS:
			rc = gen_hv_access(g, cpu);
			break;
		case W_QUIESCE:
			rc = scb_op(g->sc, OP_QUIESCE, 0) ? 0 : -1;
			break;
		default:
			rc = scb_op(g->sc, OP_BARRIER, 0) ? 0 : -1;
			break;
		}
		if (rc)
			return g->sc->nops >= SCB_MAX_OPS ? 0 : -1;
	}
	return scb_op(g->sc, OP_QUIESCE, 0) ? 0 : -1;
}

/* ---- MMU cases ------------------------------------------------------------- */

/* pt_mmu_case: fuzz/gen/pt_mmu.c */

/* ---- decoder --------------------------------------------------------------- */

static int pt_decode(struct bytesrc *b, struct scenario *sc)
{
	static const char *const profiles[] = {"skylake", "zen3"};
	const char *prof = profiles[bs_below(b, 2)];
	unsigned ncpus = 1 + (unsigned)bs_below(b, bs_chance(b, 70) ? 2 : 4);
	bool mmu = bs_chance(b, 30);
	if (scb_begin(sc, mmu ? "fuzz-pt-mmu" : "fuzz-pt-hv", prof, ncpus) != 0)
		return -1;
	sc->seed = 1 + bs_below(b, 1u << 16);
	sc->has_seed = true;
	/* Two cases in three on small TLBs: capacity evictions happen, and a
	 * page-by-page flush scans 64 entries, not 2048. */
	if (bs_chance(b, 65) && (scb_override(sc, "l2_entries", 64) ||
	                         scb_override(sc, "l2_ways", 4) || profile_validate(&sc->profile))) {
		scenario_free(sc);
		return -1;
	}
	struct ptgen g = {.b = b, .sc = sc, .ncpus = ncpus};
	int rc = mmu ? pt_mmu_case(b, sc) : hv_case(&g);
	if (rc)
		scenario_free(sc);
	return rc;
}

/* ---- states and the observer ---------------------------------------------- */

enum {
	S_MERGE_2M, S_MERGE_1G, S_SHATTER_1G, S_SHATTER_2M, S_SKIP, S_PSC_FREED, S_STALE_DROPPED,
	S_GLOBAL_PCID_FLUSH, S_IPI, S_CACHE_FLUSH, S_DESTROY_FREE, S_FILL_1G, S_EVICT,
	S_DIRTY_ASSIST, S_RANGED_FLUSH, S_UNLINK_FREE, S_COUNT
};

static const struct fz_state pt_states[] = {
	[S_MERGE_2M] = {"superpage-merge", "hv_map re-merged 512 4 KiB entries into a 2 MiB page"},
	[S_MERGE_1G] = {"1g-over-table", "a 1 GiB leaf replaced a table (re-merge or 1 GiB map)"},
	[S_SHATTER_1G] = {"1g-shatter", "a 1 GiB page was shattered into 2 MiB pages"},
	[S_SHATTER_2M] = {"2m-shatter", "a 2 MiB page was shattered into 4 KiB pages"},
	[S_SKIP] = {"superpage-skip", "hv_map skipped an unchanged superpage (fewer steps than pages)"},
	[S_PSC_FREED] = {"psc-table-freed", "a table a paging-structure cache had held was freed "
	                                    "after its flush (the PSC-freed-table ordering)"},
	[S_STALE_DROPPED] = {"stale-dropped", "a flush removed a translation that had become stale "
	                                      "(a stale hit at quiescence avoided)"},
	[S_GLOBAL_PCID_FLUSH] = {"global-pcid-flush", "a flush covering global entries (INVPCID, "
	                                              "or under CR4.PCIDE) removed something"},
	[S_IPI] = {"ipi-shootdown", "a flush reached another CPU by IPI"},
	[S_CACHE_FLUSH] = {"memtype-cache-flush", "a memory-type change flushed caches"},
	[S_DESTROY_FREE] = {"destroy-frees-table", "hv_destroy freed an emptied table"},
	[S_FILL_1G] = {"1g-tlb-fill", "a TLB filled a 1 GiB translation"},
	[S_EVICT] = {"tlb-evict", "a TLB entry was evicted by capacity"},
	[S_DIRTY_ASSIST] = {"dirty-assist", "a write through an entry with D=0 re-walked"},
	[S_RANGED_FLUSH] = {"ranged-flush", "one hypervisor flush issued several INVLPGs"},
	[S_UNLINK_FREE] = {"unlinked-table-freed", "an MMU case freed an unlinked table after "
	                                           "the shootdown"},
};

static_assert(sizeof(pt_states) / sizeof(pt_states[0]) == S_COUNT, "one entry per state");
static_assert(S_COUNT <= FZ_MAX_STATES, "states fit the reached mask");

#define PSC_SET 64
struct pt_obs {
	struct obs_callers callers;
	struct obs_cr4 cr4;
	uint64_t writes;      /* non-A/D PTE writes since the last hv op */
	uint64_t invlpgs;     /* INVLPGs since the last hv op */
	uint64_t psc[PSC_SET]; /* table frames a PSC entry pointed at */
	unsigned npsc;
	bool mmu;
};

static const char *const pt_callers[] = {"flush_area_local", NULL};

static void pt_obs_init(void *o, const struct scenario *sc)
{
	struct pt_obs *p = o;
	p->callers.names = pt_callers;
	p->mmu = !sc->hv.enabled;
}

static void pt_obs_string(void *o, uint32_t id, const char *s)
{
	obs_callers_string(&((struct pt_obs *)o)->callers, id, s);
}

static bool is_leaf_large(uint64_t e) { return (e & PTE_P) && (e & PTE_PS); }
static bool is_table(uint64_t e) { return (e & PTE_P) && !(e & PTE_PS); }

static void pt_pte_write(struct pt_obs *p, const struct event *ev, struct fz_verdict *v)
{
	if (ev->e & PTEW_HW_AD)
		return;
	p->writes++;
	if (ev->sub == 3 && is_leaf_large(ev->b) && is_table(ev->c))
		v->reached |= 1u << S_SHATTER_1G;
	if (ev->sub == 2 && is_leaf_large(ev->b) && is_table(ev->c))
		v->reached |= 1u << S_SHATTER_2M;
	if (ev->sub == 3 && is_table(ev->b) && is_leaf_large(ev->c))
		v->reached |= 1u << S_MERGE_1G;
}

/* The hv-map-steps oracle (see the top of the file). */
static int pt_hv_op(struct pt_obs *p, const struct event *ev, struct fz_verdict *v)
{
	uint64_t steps = ev->c, pages = ev->b, writes = p->writes;
	if (ev->d & 0xffffffffu)
		v->reached |= 1u << S_MERGE_2M;
	if (ev->sub == OP_HV_DESTROY && (ev->e & 0xffffffffu))
		v->reached |= 1u << S_DESTROY_FREE;
	if (p->invlpgs > 1)
		v->reached |= 1u << S_RANGED_FLUSH;
	p->writes = p->invlpgs = 0;
	if (ev->sub != OP_HV_MAP)
		return 0;
	if (steps < pages)
		v->reached |= 1u << S_SKIP;
	uint64_t first = ev->a >> 21, last = (ev->a + (pages << 12) - 1) >> 21;
	uint64_t bound = writes + (last - first) + 1;
	if (steps <= bound || v->oracle_failed)
		return 0;
	v->oracle_failed = true;
	v->seq = ev->seq;
	snprintf(v->oracle, sizeof(v->oracle), "hv-map-steps");
	snprintf(v->why, sizeof(v->why),
	         "hv_map of %llu pages at 0x%llx took %llu loop steps but wrote only %llu "
	         "entries over %llu 2 MiB areas: an unchanged superpage was not skipped to its "
	         "boundary", (unsigned long long)pages, (unsigned long long)ev->a,
	         (unsigned long long)steps, (unsigned long long)writes,
	         (unsigned long long)(last - first + 1));
	return 1;
}

static int pt_obs_event(void *o, const struct event *ev, struct fz_verdict *v)
{
	struct pt_obs *p = o;
	obs_cr4_event(&p->cr4, ev);
	switch (ev->type) {
	case EV_PTE_WRITE:
		pt_pte_write(p, ev, v);
		break;
	case EV_HV_OP:
		return pt_hv_op(p, ev, v);
	case EV_FILL:
		if (ev->sub >= TLBL_PSC_PML4E && p->npsc < PSC_SET)
			p->psc[p->npsc++] = ev->b & ~0xfffull;
		if (ev->d == 30)
			v->reached |= 1u << S_FILL_1G;
		break;
	case EV_TABLE:
		if (ev->sub == TBL_FREE) {
			for (unsigned i = 0; i < p->npsc; i++)
				if (p->psc[i] == ev->a)
					v->reached |= 1u << S_PSC_FREED;
			if (p->mmu)
				v->reached |= 1u << S_UNLINK_FREE;
		}
		break;
	case EV_ENV_DROP:
		if (ev->c)
			v->reached |= 1u << S_STALE_DROPPED;
		break;
	case EV_FLUSH:
		/* Globals in scope (a page flush with globals, or everything),
		 * by INVPCID or under PCIDE, and something removed. */
		if ((((ev->f >> 9) & 1) || (ev->f & 0xff) == SCOPE_ALL) && (ev->c || ev->d) &&
		    (obs_cr4_has(&p->cr4, ev->cpu, 1ull << 17) ||
		     (ev->sub >= INSTR_INVPCID0 && ev->sub <= INSTR_INVPCID3)))
			v->reached |= 1u << S_GLOBAL_PCID_FLUSH;
		if (ev->sub == INSTR_INVLPG && obs_caller_is(&p->callers, ev, 0))
			p->invlpgs++;
		break;
	case EV_IPI:
		if (ev->sub == IPI_DELIVER)
			v->reached |= 1u << S_IPI;
		break;
	case EV_CACHE_FLUSH:
		v->reached |= 1u << S_CACHE_FLUSH;
		break;
	case EV_EVICT:
		v->reached |= 1u << S_EVICT;
		break;
	case EV_ACCESS:
		if (ev->e & ACCF_DIRTY_ASSIST)
			v->reached |= 1u << S_DIRTY_ASSIST;
		break;
	default:
		break;
	}
	return 0;
}

const struct fz_target fz_target_pt = {
	.name = "pt",
	.summary = "page tables: MMU ops (map, unmap, write_pte, unlink, cr3, cr4, invlpg, "
	           "invpcid, ipi, quiesce) and hv_map/hv_modify/hv_destroy with flush policies",
	.built = true,
	.decode = pt_decode,
	.keep_op = pt_mmu_keep_op,
	.states = pt_states,
	.nstates = S_COUNT,
	.obs_size = sizeof(struct pt_obs),
	.obs_mask = 1ull << EV_PTE_WRITE | 1ull << EV_HV_OP | 1ull << EV_FILL | 1ull << EV_TABLE |
	            1ull << EV_ENV_DROP | 1ull << EV_FLUSH | 1ull << EV_IPI |
	            1ull << EV_CACHE_FLUSH | 1ull << EV_EVICT | 1ull << EV_ACCESS |
	            1ull << EV_CR_WRITE,
	.obs_init = pt_obs_init,
	.obs_event = pt_obs_event,
	.obs_string = pt_obs_string,
};
