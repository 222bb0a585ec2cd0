/* Randomized differential test of the hypervisor core (seed 000).
 *
 * Each case is fully determined by its 64-bit seed: the machine and
 * hypervisor configuration (profile, 1 to 8 CPUs, page1gb, superpages,
 * flush policy and ceiling) and a list of operations -- hv_map,
 * hv_modify, hv_destroy over a 4 GiB window inside one 512 GiB L4 slot,
 * with ranges biased toward 2 MiB / 1 GiB boundaries and lengths, frames
 * whose alignment sometimes matches the va's, random flags (RW, NX, G,
 * sometimes PCD, PWT, PAT, MAP_SMALL_PAGES) -- interleaved with reads and
 * writes from random CPUs before (so TLBs hold translations the operation
 * must flush) and after each operation.
 *
 * The generator (hr_generate) is a pure function of a byte source, a
 * seeded PRNG here, so it can become a fuzz target taking bytes.
 *
 * After every hypervisor operation:
 *  - platform_check (through hv_op_exec) and the fixture: no EV_CHECK, no
 *    EV_ENV_STALE, freed tables unreferenced, accounting = tables
 *    reachable from the root (tests/hv_fixture.h);
 *  - our own walk of every page of the touched range agrees with a model
 *    kept here (one entry per 4 KiB page of the window, not p.ref);
 *  - no leaf larger than the configuration allows.
 * Every access is checked against the model (frame, or #PF when unmapped
 * or a write to a read-only page). Periodically and at the end the whole
 * window is compared, and destroying it returns the live table count to
 * its boot value.
 *
 * A failure prints the case seed and the op index. HVSIM_HV_SEED=<seed>
 * (and optionally HVSIM_HV_OPS=<n>) runs one extra case.
 */
#include "sim/prng.h"
#include "tests/hv_fixture.h"
#include "tests/testutil.h"

#define WIN_PAGES (4ull * HF_PAGES_1G) /* 4 GiB */
#define WIN_BYTES (WIN_PAGES * HF_4K)
#define PAGES_2M HF_PAGES_2M
#define PAGES_1G HF_PAGES_1G
/* Frames: the window's image at HF_PA (every alignment matches), and
 * other areas for frames that differ. */
#define PA_SAME HF_PA
#define PA_OTHER (HF_PA + 64 * HF_1G)

/* The byte source of the generator ----------------------------------------- */

struct hr_src {
	struct prng p;
	const uint8_t *data; /* fuzz input, or NULL: the PRNG */
	size_t len, pos;
};

static void hr_src_seed(struct hr_src *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	prng_seed(&s->p, seed);
}

static uint64_t hr_below(struct hr_src *s, uint64_t bound)
{
	if (bound <= 1)
		return 0;
	if (!s->data)
		return prng_below(&s->p, bound);
	uint64_t v = 0;
	for (int k = 0; k < 8; k++)
		v = v << 8 | (s->pos < s->len ? s->data[s->pos++] : 0);
	return v % bound;
}

static bool hr_chance(struct hr_src *s, unsigned percent)
{
	return hr_below(s, 100) < percent;
}

/* The case's configuration (drawn first from the source). */
struct hr_case {
	const char *profile;
	unsigned ncpus;
	bool page1gb, superpages;
	int policy;
	unsigned ceiling;
};

static struct hr_case hr_config(struct hr_src *s)
{
	struct hr_case c;
	c.profile = hr_chance(s, 50) ? "skylake" : "zen3";
	c.ncpus = 1 + (unsigned)hr_below(s, 8);
	c.superpages = hr_chance(s, 80);
	c.page1gb = hr_chance(s, 65);
	c.policy = hr_chance(s, 50) ? SC_FLUSH_RANGED : SC_FLUSH_XEN;
	/* The hypervisor flushes orders 0, 9 and 18 only: a ceiling below 512
	 * makes the ranged policy the Xen one, 512 flushes 2 MiB areas page by
	 * page (slow in the simulator: fewer CPUs and ops, see hr_nops). */
	c.ceiling = c.policy == SC_FLUSH_RANGED && hr_chance(s, 50) ? 512 : 33;
	if (c.ceiling >= 512)
		c.ncpus = 1 + c.ncpus % 3;
	return c;
}

/* Operations of a case of nominal size nops. */
static uint32_t hr_nops(const struct hr_case *c, uint32_t nops)
{
	return c->ceiling >= 512 ? nops * 2 / 5 : nops;
}

/* The generator ------------------------------------------------------------- */

struct hr_params {
	uint64_t win_va;   /* 1 GiB aligned */
	unsigned ncpus;
	bool superpages;   /* shapes lengths: 1 GiB of 4 KiB pages is costly */
	uint32_t nops;     /* hypervisor operations (accesses come on top) */
};

struct hr_list {
	struct op *v;
	uint32_t n, cap;
};

static struct op *hr_add(struct hr_list *l, enum op_kind k, unsigned cpu)
{
	if (l->n == l->cap) {
		uint32_t nc = l->cap ? l->cap * 2 : 256;
		struct op *nv = realloc(l->v, nc * sizeof(*nv));
		ck_assert_ptr_nonnull(nv);
		l->v = nv;
		l->cap = nc;
	}
	struct op *op = &l->v[l->n++];
	memset(op, 0, sizeof(*op));
	op->kind = k;
	op->line = l->n;
	op->col = 1;
	op->cpu = (int)cpu;
	return op;
}

/* A start page in the window: on or near 1G / 2M boundaries, or anywhere;
 * half of them in a hot area (eight 2 MiB regions across a 1 GiB
 * boundary) so that operations collide, shatter and re-merge. */
static uint64_t gen_start(struct hr_src *s)
{
	uint64_t g = hr_below(s, WIN_PAGES / PAGES_1G) * PAGES_1G;
	uint64_t two = hr_below(s, 512) * PAGES_2M;
	if (hr_chance(s, 50)) {
		g = PAGES_1G;
		two = (hr_below(s, 8) - 2) * PAGES_2M; /* 2 below the boundary, 6 above */
		g += two;
		two = 0;
	}
	switch (hr_below(s, 10)) {
	case 0:
	case 1:
		return g;
	case 2:
	case 3:
	case 4:
		return g + two;
	case 5:
	case 6: { /* a few pages either side of a 2M or 1G boundary */
		uint64_t b = hr_chance(s, 70) ? g + two : g;
		uint64_t d = 1 + hr_below(s, 3);
		return hr_chance(s, 50) || b < d ? b + d : b - d;
	}
	case 7: /* a 16-page cluster: 4K edits collide */
		return g + two + hr_below(s, 16);
	default:
		return g + two + hr_below(s, PAGES_2M);
	}
}

/* A length in pages, capped where 4 KiB pages would make it costly. */
static uint64_t gen_len(struct hr_src *s, bool big_ok)
{
	uint64_t n;
	switch (hr_below(s, 20)) {
	case 0:
	case 1:
		n = big_ok ? PAGES_1G : 4 * PAGES_2M;
		break;
	case 2:
		n = big_ok ? PAGES_1G + hr_below(s, 5) * PAGES_2M + hr_below(s, 3) : 2 * PAGES_2M + 1;
		break;
	case 3:
	case 4:
	case 5:
	case 6:
		n = (1 + hr_below(s, big_ok ? 8 : 2)) * PAGES_2M;
		break;
	case 7:
	case 8:
		n = PAGES_2M + hr_below(s, 7) - 3;
		break;
	case 9:
	case 10:
	case 11:
	case 12:
	case 13:
		n = 1 + hr_below(s, 4);
		break;
	case 14:
	case 15:
	case 16:
		n = 1 + hr_below(s, 64);
		break;
	default:
		n = 1 + hr_below(s, 1024);
		break;
	}
	return n;
}

static uint64_t gen_flags(struct hr_src *s, bool map)
{
	uint64_t f = PTE_P;
	if (hr_chance(s, 85))
		f |= PTE_A;
	if (hr_chance(s, 80))
		f |= PTE_D;
	if (hr_chance(s, 75))
		f |= PTE_RW;
	if (hr_chance(s, 60))
		f |= PTE_NX;
	if (hr_chance(s, 60))
		f |= PTE_G;
	if (hr_chance(s, 12))
		f |= PTE_PCD;
	if (hr_chance(s, 5))
		f |= PTE_PWT;
	if (hr_chance(s, 3))
		f |= PTE_PAT4K;
	/* Mostly the same flags, so that skips and re-merges happen. */
	if (hr_chance(s, map ? 55 : 25))
		f = HF_PAGE_HYPERVISOR;
	return f;
}

/* An address to access: in [lo, lo + n) pages mostly, else anywhere. */
static uint64_t gen_access_va(struct hr_src *s, const struct hr_params *pr, uint64_t lo,
                              uint64_t n)
{
	uint64_t p;
	if (n && hr_chance(s, 75)) {
		switch (hr_below(s, 4)) {
		case 0:
			p = lo;
			break;
		case 1:
			p = lo + n - 1;
			break;
		default:
			p = lo + hr_below(s, n);
			break;
		}
	} else {
		p = hr_below(s, WIN_PAGES);
	}
	return pr->win_va + p * HF_4K + hr_below(s, 512) * 8;
}

static void gen_accesses(struct hr_src *s, const struct hr_params *pr, struct hr_list *l,
                         uint64_t lo, uint64_t n, unsigned max)
{
	unsigned k = (unsigned)hr_below(s, max + 1);
	for (unsigned i = 0; i < k; i++) {
		struct op *a = hr_add(l, OP_ACCESS, (unsigned)hr_below(s, pr->ncpus));
		a->va = gen_access_va(s, pr, lo, n);
		a->acc = hr_chance(s, 35) ? ACC_WRITE : ACC_READ;
	}
}

/* Three operations: a 2M or 1G base layer of the window's own frames
 * (sometimes with MAP_SMALL_PAGES), one page changed (other frame or
 * flags), then repaired -- a shatter and a re-merge when the
 * configuration allows. */
static void gen_perturb_repair(struct hr_src *s, const struct hr_params *pr, struct hr_list *l)
{
	bool g1 = pr->superpages && hr_chance(s, 30);
	uint64_t size = g1 ? PAGES_1G : PAGES_2M;
	uint64_t base = hr_below(s, WIN_PAGES / size) * size;
	if (hr_chance(s, 50))
		base = g1 ? PAGES_1G : PAGES_1G + (hr_below(s, 8) - 2) * PAGES_2M;
	uint64_t page = base + hr_below(s, size);
	gen_accesses(s, pr, l, base, size, 2);
	struct op *op = hr_add(l, OP_HV_MAP, (unsigned)hr_below(s, pr->ncpus));
	op->va = pr->win_va + base * HF_4K;
	op->pa = PA_SAME + base * HF_4K;
	op->count = size;
	op->flags = HF_PAGE_HYPERVISOR;
	op->small = !g1 && hr_chance(s, 25);
	gen_accesses(s, pr, l, page, 1, 2);
	op = hr_add(l, OP_HV_MAP, (unsigned)hr_below(s, pr->ncpus));
	op->va = pr->win_va + page * HF_4K;
	op->count = 1;
	if (hr_chance(s, 50)) {
		op->pa = PA_OTHER + page * HF_4K;
		op->flags = HF_PAGE_HYPERVISOR;
	} else {
		op->pa = PA_SAME + page * HF_4K;
		op->flags = gen_flags(s, false);
	}
	gen_accesses(s, pr, l, page, 1, 2);
	op = hr_add(l, hr_chance(s, 20) ? OP_HV_MODIFY : OP_HV_MAP,
	            (unsigned)hr_below(s, pr->ncpus));
	op->va = pr->win_va + page * HF_4K;
	op->count = 1;
	op->flags = HF_PAGE_HYPERVISOR;
	if (op->kind == OP_HV_MAP)
		op->pa = PA_SAME + page * HF_4K;
	gen_accesses(s, pr, l, page, 1, 3);
}

/* The op list of one case: pure function of the source and the
 * parameters. The caller frees l->v. */
static void hr_generate(struct hr_src *s, const struct hr_params *pr, struct hr_list *l)
{
	memset(l, 0, sizeof(*l));
	for (uint32_t i = 0; i < pr->nops; i++) {
		if (hr_chance(s, 12) && i + 3 <= pr->nops) {
			gen_perturb_repair(s, pr, l);
			i += 2;
			continue;
		}
		uint64_t kind = hr_below(s, 100);
		enum op_kind k = kind < 55 ? OP_HV_MAP : kind < 75 ? OP_HV_MODIFY : OP_HV_DESTROY;
		uint64_t start = gen_start(s);
		uint64_t pa = 0;
		bool small = false, cheap_frames = true;
		uint64_t flags = 0;
		if (k == OP_HV_MAP) {
			uint64_t same = PA_SAME + start * HF_4K;
			switch (hr_below(s, 10)) {
			case 0:
			case 1:
			case 2:
			case 3:
			case 4:
				pa = same; /* every alignment matches */
				break;
			case 5:
			case 6: /* other frames, same 1G alignment */
				pa = same + (1 + hr_below(s, 4)) * 4 * HF_1G;
				break;
			case 7: /* 2M aligned like the va, not 1G */
				pa = PA_OTHER + start * HF_4K + (1 + hr_below(s, 511)) * HF_2M;
				break;
			default: /* 4K off */
				pa = PA_OTHER + start * HF_4K + (1 + hr_below(s, 511)) * HF_4K;
				cheap_frames = false;
				break;
			}
			small = hr_chance(s, 10);
			flags = gen_flags(s, true);
			if (hr_chance(s, 25)) {
				/* A repair: the window's own frames with the usual
				 * flags, over a short run -- what re-merges. */
				pa = same;
				flags = HF_PAGE_HYPERVISOR;
				small = false;
				cheap_frames = true;
			}
		} else if (k == OP_HV_MODIFY) {
			flags = gen_flags(s, false);
		}
		bool big_ok = pr->superpages && cheap_frames && !small && !(flags & PTE_PAT4K);
		uint64_t n = gen_len(s, k == OP_HV_MAP ? big_ok : pr->superpages);
		if (k == OP_HV_MAP && pa == PA_SAME + start * HF_4K && flags == HF_PAGE_HYPERVISOR &&
		    !small && hr_chance(s, 40))
			n = 1 + hr_below(s, 8);
		if (start >= WIN_PAGES)
			start = WIN_PAGES - 1;
		if (n > WIN_PAGES - start)
			n = WIN_PAGES - start;
		if (n == 0)
			n = 1;
		/* Before: translations cached where the op will act. */
		gen_accesses(s, pr, l, start, n, 4);
		struct op *op = hr_add(l, k, (unsigned)hr_below(s, pr->ncpus));
		op->va = pr->win_va + start * HF_4K;
		op->pa = pa;
		op->count = n;
		op->flags = flags;
		op->small = small;
		/* After: checked against the model. */
		gen_accesses(s, pr, l, start, n, 3);
	}
}

/* The model: one entry per page of the window ------------------------------- */

struct hr_page {
	uint64_t pa;    /* 0: not mapped */
	uint64_t flags; /* request form, A, D and MAP_SMALL_PAGES removed */
};

struct hr {
	struct hf *f;
	struct hr_case c;
	uint64_t seed;
	uint64_t win_va;
	struct hr_page *model;
	struct hr_list ops;
	uint32_t cur; /* op index being executed */
	uint64_t naccess, nfault;
};

static void hr_model_apply(struct hr *h, const struct op *op)
{
	uint64_t first = (op->va - h->win_va) / HF_4K;
	for (uint64_t i = 0; i < op->count; i++) {
		struct hr_page *p = &h->model[first + i];
		switch (op->kind) {
		case OP_HV_MAP:
			p->pa = op->pa + i * HF_4K;
			p->flags = op->flags & ~(HF_AD | HF_SMALL);
			break;
		case OP_HV_MODIFY:
			if (p->pa)
				p->flags = op->flags & ~(HF_AD | HF_SMALL);
			break;
		default:
			p->pa = 0;
			p->flags = 0;
			break;
		}
	}
}

/* Our walk of [first, first + n) pages of the window against the model. */
static void hr_compare(struct hr *h, uint64_t first, uint64_t n)
{
	struct hf *f = h->f;
	unsigned maxlvl = !h->c.superpages ? 1 : h->c.page1gb ? 3 : 2;
	uint64_t p = first, end = first + n;
	while (p < end) {
		uint64_t va = h->win_va + p * HF_4K;
		struct hf_leaf l = hf_walk(f, va);
		unsigned lv = l.level ? l.level : l.at;
		uint64_t span = hf_level_size(lv) / HF_4K;
		uint64_t stop = (p | (span - 1)) + 1; /* window is 1G aligned */
		if (stop > end)
			stop = end;
		if (l.level) {
			HF_ASSERT(f, l.level <= maxlvl, "va %#" PRIx64 ": level-%u leaf, configuration "
			          "allows %u", va, l.level, maxlvl);
			uint64_t base = l.pa - (p & (span - 1)) * HF_4K; /* pa of the leaf's page 0 */
			for (uint64_t q = p; q < stop; q++) {
				const struct hr_page *m = &h->model[q];
				uint64_t want = base + (q & (span - 1)) * HF_4K;
				HF_ASSERT(f, m->pa == want && m->flags == l.flags,
				          "va %#" PRIx64 ": tables map pa %#" PRIx64 " flags %#" PRIx64
				          " (level %u), model %s pa %#" PRIx64 " flags %#" PRIx64,
				          h->win_va + q * HF_4K, want, l.flags, l.level,
				          m->pa ? "mapped" : "unmapped", m->pa, m->flags);
			}
		} else {
			for (uint64_t q = p; q < stop; q++)
				HF_ASSERT(f, h->model[q].pa == 0,
				          "va %#" PRIx64 ": not mapped (level-%u entry), model pa %#" PRIx64
				          " flags %#" PRIx64, h->win_va + q * HF_4K, l.at, h->model[q].pa,
				          h->model[q].flags);
		}
		p = stop;
	}
}

static void hr_access(struct hr *h, const struct op *op)
{
	struct hf *f = h->f;
	const struct hr_page *m = &h->model[(op->va - h->win_va) / HF_4K];
	uint64_t want = HF_NONE;
	if (m->pa && (!(op->acc & ACC_WRITE) || (m->flags & PTE_RW)))
		want = m->pa + (op->va & (HF_4K - 1));
	h->naccess++;
	h->nfault += want == HF_NONE;
	hf_expect_access(f, (unsigned)op->cpu, op->va, op->acc, want);
}

static void hr_tag(struct hr *h, const struct op *op)
{
	hf_tag(h->f, "seed %#" PRIx64 " op %u (%s cpu %d va %#" PRIx64 " pa %#" PRIx64
	       " count %" PRIu64 " flags %#" PRIx64 "%s)",
	       h->seed, h->cur, op_kind_name(op->kind), op->cpu, op->va, op->pa, op->count,
	       op->flags, op->small ? " small" : "");
}

static void hr_run_case(uint64_t seed, uint32_t nops)
{
	struct hr h;
	memset(&h, 0, sizeof(h));
	h.seed = seed;
	struct hr_src src;
	hr_src_seed(&src, seed);
	h.c = hr_config(&src);
	h.win_va = HF_WIN;
	struct hr_params pr = {.win_va = h.win_va, .ncpus = h.c.ncpus,
	                       .superpages = h.c.superpages, .nops = hr_nops(&h.c, nops)};
	hr_generate(&src, &pr, &h.ops);

	struct hf_cfg hc = {.profile = h.c.profile, .ncpus = h.c.ncpus, .page1gb = h.c.page1gb,
	                    .superpages = h.c.superpages, .flush_policy = h.c.policy,
	                    .flush_ceiling = h.c.ceiling, .seed = seed};
	h.f = hf_new(&hc);
	struct hf *f = h.f;
	/* replace_l3 once freed L1 tables while the unhooked L2 still
	 * linked them; fixed, so no linked free is tolerated any more. */
	f->tolerate_linked_free = false;
	f->ops = h.ops.v; /* borrowed: hf_push copies before appending */
	f->nops = h.ops.n;
	f->capops = 0;
	f->own_ops = false;
	h.model = calloc(WIN_PAGES, sizeof(*h.model));
	ck_assert_ptr_nonnull(h.model);
	hf_tag(f, "seed %#" PRIx64 " (%s cpus=%u 1g=%d sp=%d policy=%d ceiling=%u)", seed,
	       h.c.profile, h.c.ncpus, h.c.page1gb, h.c.superpages, h.c.policy, h.c.ceiling);
	fprintf(stderr, "%s: %u ops\n", f->tag, h.ops.n);

	uint32_t nhv = 0;
	for (h.cur = 0; h.cur < h.ops.n; h.cur++) {
		const struct op *op = &h.ops.v[h.cur];
		hr_tag(&h, op);
		if (op->kind == OP_ACCESS) {
			hr_access(&h, op);
			continue;
		}
		hr_model_apply(&h, op);
		hf_exec_at(f, h.cur);
		uint64_t first = (op->va - h.win_va) / HF_4K;
		/* The touched range and a page either side. */
		uint64_t lo = first ? first - 1 : 0, hi = first + op->count + 1;
		if (hi > WIN_PAGES)
			hi = WIN_PAGES;
		hr_compare(&h, lo, hi - lo);
		if (++nhv % 64 == 0)
			hr_compare(&h, 0, WIN_PAGES);
	}
	hf_tag(f, "seed %#" PRIx64 " end", seed);
	hr_compare(&h, 0, WIN_PAGES);

	/* Everything destroyed: the live count is back at its boot value. */
	struct op *d = hf_push(f, OP_HV_DESTROY, 0, h.win_va, 0, WIN_PAGES, 0, false);
	h.cur = f->nops - 1;
	hr_model_apply(&h, d);
	hr_tag(&h, d);
	hf_exec_at(f, h.cur);
	hr_compare(&h, 0, WIN_PAGES);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64 " after destroying all, boot %"
	          PRIu64, f->p.hv.pt.live, f->live0);
	const struct hv_ptstats *s = &f->p.hv.pt;
	fprintf(stderr, "seed %#" PRIx64 ": %u hv ops, %" PRIu64 " accesses (%" PRIu64
	        " faults), steps %" PRIu64 ", shatters %" PRIu64 ", merges %" PRIu64
	        ", tables %" PRIu64 "/%" PRIu64 ", flushes %" PRIu64 "+%" PRIu64
	        ", cache flushes %" PRIu64 ", linked frees (known bug) %" PRIu64 "\n",
	        seed, nhv, h.naccess, h.nfault, s->map_steps, s->shatters, s->merges, s->allocated,
	        s->freed, s->local_flushes, s->remote_flushes, s->cache_flushes, f->c.tfree_linked);
	free(h.model);
	hf_free(f); /* frees its copy of the list, if it made one */
	free(h.ops.v);
}

/* Fixed seeds: each a whole case (configuration and ops), chosen with
 * HVSIM_HV_LIST to cover skylake and zen3, 1 to 8 CPUs, 1G / 2M / 4K-only
 * configurations, and both flush policies (the ranged one with ceilings
 * 33 and 512). */
static const uint64_t seeds[] = {
	0x5eed0001, /* zen3    2 cpus  2M     ranged 33 */
	0x5eed0002, /* skylake 8 cpus  2M     ranged 33 */
	0x5eed0003, /* zen3    4 cpus  1G     xen */
	0x5eed0004, /* skylake 4 cpus  4K     xen */
	0x5eed0005, /* zen3    7 cpus  1G     ranged 33 */
	0x5eed0007, /* skylake 1 cpu   1G     xen */
	0x5eed000b, /* skylake 7 cpus  1G     xen */
	0x5eed000e, /* zen3    5 cpus  2M     xen */
	0x5eed0013, /* skylake 8 cpus  1G     xen */
	0x5eed0025, /* zen3    7 cpus  4K     xen */
	0x5eed0011, /* skylake 3 cpus  4K     ranged 512 */
	0x5eed001d, /* zen3    3 cpus  4K     ranged 512 */
	0x5eed001f, /* zen3    1 cpu   2M     ranged 512 */
	0x5eed002a, /* skylake 3 cpus  1G     ranged 512 */
	0x5eed0039, /* skylake 2 cpus  1G     ranged 512 */
};
#define NSEEDS ((int)(sizeof(seeds) / sizeof(seeds[0])))
#define OPS_PER_CASE 250

START_TEST(test_random)
{
	hr_run_case(seeds[_i], OPS_PER_CASE);
}
END_TEST

/* Determinism: the generator is a function of its seed. */
START_TEST(test_generator_deterministic)
{
	struct hr_params pr = {.win_va = HF_WIN, .ncpus = 4, .superpages = true, .nops = 300};
	struct hr_src a, b;
	hr_src_seed(&a, 77);
	hr_src_seed(&b, 77);
	struct hr_list la, lb;
	hr_generate(&a, &pr, &la);
	hr_generate(&b, &pr, &lb);
	ck_assert_uint_eq(la.n, lb.n);
	ck_assert_int_eq(memcmp(la.v, lb.v, la.n * sizeof(*la.v)), 0);
	/* Every op inside the window. */
	for (uint32_t i = 0; i < la.n; i++) {
		const struct op *op = &la.v[i];
		ck_assert_uint_ge(op->va, HF_WIN);
		if (op->kind == OP_ACCESS) {
			ck_assert_uint_lt(op->va, HF_WIN + WIN_BYTES);
			continue;
		}
		ck_assert_uint_eq(op->va & (HF_4K - 1), 0);
		ck_assert_uint_ge(op->count, 1);
		ck_assert_uint_le(op->va + op->count * HF_4K, HF_WIN + WIN_BYTES);
		ck_assert(op->kind == OP_HV_DESTROY || (op->flags & PTE_P));
	}
	/* A byte source works too (a fuzz target's input), and ends. */
	static const uint8_t bytes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200, 100, 50};
	struct hr_src c;
	memset(&c, 0, sizeof(c));
	c.data = bytes;
	c.len = sizeof(bytes);
	struct hr_list lc;
	pr.nops = 20;
	hr_generate(&c, &pr, &lc);
	ck_assert_uint_ge(lc.n, 20);
	free(la.v);
	free(lb.v);
	free(lc.v);
}
END_TEST

START_TEST(test_env_seed)
{
	const char *s = getenv("HVSIM_HV_SEED");
	const char *n = getenv("HVSIM_HV_OPS");
	hr_run_case(strtoull(s, NULL, 0), n ? (uint32_t)strtoul(n, NULL, 0) : OPS_PER_CASE);
}
END_TEST

/* HVSIM_HV_LIST=<n>: print the configurations of seeds 0x5eed0001.. */
static void list_configs(unsigned n)
{
	for (unsigned i = 1; i <= n; i++) {
		struct hr_src src;
		hr_src_seed(&src, 0x5eed0000u + i);
		struct hr_case c = hr_config(&src);
		printf("%#x %s cpus=%u 1g=%d sp=%d policy=%d ceiling=%u\n", 0x5eed0000u + i,
		       c.profile, c.ncpus, c.page1gb, c.superpages, c.policy, c.ceiling);
	}
}

static Suite *suite(void)
{
	Suite *s = suite_create("hv_random");
	TCase *tc = tcase_create("generator");
	tcase_add_test(tc, test_generator_deterministic);
	suite_add_tcase(s, tc);
	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_random, 0, NSEEDS);
	suite_add_tcase(s, tc);
	if (getenv("HVSIM_HV_SEED")) {
		tc = tcase_create("env_seed");
		tcase_set_timeout(tc, 600);
		tcase_add_test(tc, test_env_seed);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	if (getenv("HVSIM_HV_LIST")) {
		list_configs((unsigned)strtoul(getenv("HVSIM_HV_LIST"), NULL, 0));
		return 0;
	}
	return testutil_run(suite());
}
