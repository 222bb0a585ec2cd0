/* The hypervisor core's map_pages_to_xen / modify_xen_mappings /
 * destroy_xen_mappings (seed 000), path by path.
 *
 * Tests run in the configurations of cfgs[] (tcase loop index): page1gb,
 * superpages and MAP_SMALL_PAGES on the test's maps on and off, 1 to 4
 * CPUs, the Xen or the ranged flush policy (ceilings 33, 512, 1024). Operations go
 * through the scenario path (hv_op_exec, tests/hv_fixture.h), which checks
 * the page tables, every CPU's TLB and envelope, the accounting and the
 * cache flushes after each op; the tests add the page SIZE the seed's
 * rules call for, walked here from the root, the work counters
 * (map_steps, shatters, merges, tables), and accesses from every CPU after
 * each op (which therefore had translations cached before it).
 *
 * The rules (seed 000): a 1 GiB page where page1gb and superpages are on,
 * va and mfn are 1 GiB aligned, at least 1 GiB remains and the flags have
 * neither PAT nor MAP_SMALL_PAGES; else a 2 MiB page under the same
 * conditions at 2 MiB; else 4 KiB pages.
 */
#include "tests/hv_fixture.h"
#include "tests/testutil.h"

#define FL HF_PAGE_HYPERVISOR

struct mcfg {
	bool page1gb, superpages, small;
	unsigned ncpus;
	int policy;
	unsigned ceiling; /* ranged policy: most pages flushed by INVLPG */
	unsigned lvl1g;   /* leaf level a 1 GiB aligned, long enough map gets */
	unsigned lvl2m;   /* the same at 2 MiB */
};

/* The configurations. The first NCFG_DISTINCT behave differently from
 * each other (1G, 2M, 4K only, MAP_SMALL_PAGES with 1G on); the rest
 * repeat a behaviour in another combination (page1gb without superpages
 * is inert, MAP_SMALL_PAGES without superpages changes nothing). Tests
 * whose 1 GiB ranges become 262144 4 KiB pages in the 4K-only
 * configurations run on the distinct ones only, to keep the suite short. */
static const struct {
	bool page1gb, superpages, small;
	unsigned ncpus;
	int policy;
	unsigned ceiling;
} cfgs[] = {
	{true, true, false, 4, SC_FLUSH_RANGED, 33},
	{false, true, false, 2, SC_FLUSH_XEN, 33},
	{false, false, false, 1, SC_FLUSH_XEN, 33},
	{true, true, true, 3, SC_FLUSH_RANGED, 1024},
	{false, true, true, 4, SC_FLUSH_RANGED, 512},
	{true, false, false, 2, SC_FLUSH_RANGED, 33},
	{false, false, true, 3, SC_FLUSH_RANGED, 33},
	{true, false, true, 1, SC_FLUSH_XEN, 33},
};
#define NCFG ((int)(sizeof(cfgs) / sizeof(cfgs[0])))
#define NCFG_DISTINCT 4

static struct mcfg mcfg_of(int i)
{
	struct mcfg c;
	c.page1gb = cfgs[i].page1gb;
	c.superpages = cfgs[i].superpages;
	c.small = cfgs[i].small;
	c.ncpus = cfgs[i].ncpus;
	c.policy = cfgs[i].policy;
	c.ceiling = cfgs[i].ceiling;
	bool big = c.superpages && !c.small;
	c.lvl2m = big ? 2 : 1;
	c.lvl1g = big && c.page1gb ? 3 : c.lvl2m;
	return c;
}

static struct hf *mk(int i, struct mcfg *c)
{
	*c = mcfg_of(i);
	struct hf_cfg hc = {
		.ncpus = c->ncpus,
		.page1gb = c->page1gb,
		.superpages = c->superpages,
		.flush_policy = c->policy,
		.flush_ceiling = c->ceiling,
	};
	struct hf *f = hf_new(&hc);
	hf_tag(f, "cfg %d: 1g=%d sp=%d small=%d cpus=%u policy=%d", i, c->page1gb, c->superpages,
	       c->small, c->ncpus, c->policy);
	return f;
}

static unsigned other(const struct mcfg *c, unsigned k)
{
	return k % c->ncpus;
}

#define STEPS(f, unused) ((f)->last_hvop.c)
#define SHATTERS(f) ((f)->last_hvop.d >> 32)
#define MERGES(f) ((f)->last_hvop.d & 0xffffffffu)
#define TALLOC(f) ((f)->last_hvop.e >> 32)
#define TFREED(f) ((f)->last_hvop.e & 0xffffffffu)

/* Leaves a fresh map of [va, va + bytes) gets, all alignments matching. */
static uint64_t leaves(unsigned level, uint64_t bytes)
{
	return bytes / hf_level_size(level);
}

/* Aligned and long enough: the largest page ----------------------------- */

START_TEST(test_map_aligned)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	const uint64_t va = HF_WIN, pa = HF_PA;
	hf_touch(f, va, ACC_READ);
	hf_map(f, 0, va, pa, HF_PAGES_1G, FL, c.small);
	hf_expect_run(f, va, HF_1G, c.lvl1g, pa, FL);
	HF_ASSERT(f, STEPS(f, 0) == leaves(c.lvl1g, HF_1G), "1G map: %" PRIu64 " steps",
	          STEPS(f, 0));
	HF_ASSERT(f, SHATTERS(f) == 0 && MERGES(f) == 0, "1G map: shatters/merges");
	hf_expect_all(f, va + 0x1238, pa + 0x1238);
	hf_expect_all(f, va + HF_1G - 8, pa + HF_1G - 8);

	/* 2 MiB aligned, 4 MiB long (va and pa 1G-aligned + 2M: no 1G). */
	hf_map(f, other(&c, 1), va + HF_1G + HF_2M, pa + HF_1G + HF_2M, 2 * HF_PAGES_2M, FL,
	       c.small);
	hf_expect_run(f, va + HF_1G + HF_2M, 2 * HF_2M, c.lvl2m, pa + HF_1G + HF_2M, FL);
	HF_ASSERT(f, STEPS(f, 0) == leaves(c.lvl2m, 2 * HF_2M), "2M map: %" PRIu64 " steps",
	          STEPS(f, 0));
	hf_expect_all(f, va + HF_1G + 2 * HF_2M + 0x10, pa + HF_1G + 2 * HF_2M + 0x10);

	/* 3 pages: 4 KiB. */
	hf_map(f, other(&c, 2), va + HF_1G + 8 * HF_2M, pa + 7 * HF_4K, 3, FL, c.small);
	hf_expect_run(f, va + HF_1G + 8 * HF_2M, 3 * HF_4K, 1, pa + 7 * HF_4K, FL);
	HF_ASSERT(f, STEPS(f, 0) == 3, "3 pages: %" PRIu64 " steps", STEPS(f, 0));
	hf_expect_all(f, va + HF_1G + 8 * HF_2M + 2 * HF_4K, pa + 9 * HF_4K);
	hf_expect_all(f, va + HF_1G + 8 * HF_2M + 3 * HF_4K, HF_NONE);

	hf_destroy(f, other(&c, 3), va, 2 * HF_PAGES_1G);
	hf_expect_unmapped(f, va, 2 * HF_1G);
	hf_expect_all(f, va + 0x1238, HF_NONE);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64 ", boot %" PRIu64,
	          f->p.hv.pt.live, f->live0);
	hf_free(f);
}
END_TEST

/* Unaligned edges: small pages at the edges, the largest inside. */
START_TEST(test_map_edges)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	/* 2M+4K .. 8M-4K: 4K on [2M+4K, 4M), 2M on [4M, 6M), 4K on [6M, 8M-4K). */
	uint64_t va = HF_WIN + 3 * HF_1G, pa = HF_PA + 3 * HF_1G;
	uint64_t lo = HF_2M + HF_4K, hi = 4 * HF_2M - HF_4K;
	hf_touch(f, va + 2 * HF_2M, ACC_READ);
	hf_map(f, other(&c, 1), va + lo, pa + lo, (hi - lo) / HF_4K, FL, c.small);
	hf_expect_run(f, va + lo, 2 * HF_2M - lo, 1, pa + lo, FL);
	hf_expect_run(f, va + 2 * HF_2M, HF_2M, c.lvl2m, pa + 2 * HF_2M, FL);
	hf_expect_run(f, va + 3 * HF_2M, HF_2M - HF_4K, 1, pa + 3 * HF_2M, FL);
	hf_expect_unmapped(f, va + HF_2M, HF_4K);
	hf_expect_unmapped(f, va + hi, HF_4K);
	uint64_t want = c.lvl2m == 2 ? (2 * HF_2M - lo) / HF_4K + 1 + (HF_2M - HF_4K) / HF_4K
	                             : (hi - lo) / HF_4K;
	HF_ASSERT(f, STEPS(f, 0) == want, "steps %" PRIu64 ", expected %" PRIu64, STEPS(f, 0),
	          want);
	hf_expect_all(f, va + lo, pa + lo);
	hf_expect_all(f, va + 2 * HF_2M + 0x5008, pa + 2 * HF_2M + 0x5008);
	hf_expect_all(f, va + hi - 8, pa + hi - 8);
	hf_expect_all(f, va + hi, HF_NONE);

	/* Across a 1 GiB: [1G-2M-4K, 2G+2M+4K): 4K, 2M, 1G, 2M, 4K. */
	va = HF_WIN;
	pa = HF_PA;
	lo = HF_1G - HF_2M - HF_4K;
	hi = 2 * HF_1G + HF_2M + HF_4K;
	hf_touch(f, va + HF_1G, ACC_READ);
	hf_map(f, other(&c, 2), va + lo, pa + lo, (hi - lo) / HF_4K, FL, c.small);
	hf_expect_run(f, va + lo, HF_4K, 1, pa + lo, FL);
	hf_expect_run(f, va + HF_1G - HF_2M, HF_2M, c.lvl2m, pa + HF_1G - HF_2M, FL);
	hf_expect_run(f, va + HF_1G, HF_1G, c.lvl1g, pa + HF_1G, FL);
	hf_expect_run(f, va + 2 * HF_1G, HF_2M, c.lvl2m, pa + 2 * HF_1G, FL);
	hf_expect_run(f, va + 2 * HF_1G + HF_2M, HF_4K, 1, pa + 2 * HF_1G + HF_2M, FL);
	hf_expect_unmapped(f, va + lo - HF_4K, HF_4K);
	hf_expect_unmapped(f, va + hi, HF_4K);
	want = 2 + 2 * leaves(c.lvl2m, HF_2M) + leaves(c.lvl1g, HF_1G);
	HF_ASSERT(f, STEPS(f, 0) == want, "steps %" PRIu64 ", expected %" PRIu64, STEPS(f, 0),
	          want);
	hf_expect_all(f, va + HF_1G + 0x123458, pa + HF_1G + 0x123458);
	hf_expect_all(f, va + lo + 8, pa + lo + 8);
	hf_expect_all(f, va + hi - 8, pa + hi - 8);

	hf_destroy(f, 0, HF_WIN, 4 * HF_PAGES_1G);
	hf_expect_unmapped(f, HF_WIN, 4 * HF_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* va and mfn aligned differently: no superpage of that size. */
START_TEST(test_map_misaligned)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	uint64_t va = HF_WIN, pa = HF_PA + HF_4K;
	hf_touch(f, va, ACC_READ);
	/* va 2M aligned, pa off by 4K: 4K pages only, and no re-merge. */
	hf_map(f, 0, va, pa, 2 * HF_PAGES_2M, FL, c.small);
	hf_expect_run(f, va, 2 * HF_2M, 1, pa, FL);
	HF_ASSERT(f, MERGES(f) == 0, "merged %" PRIu64, MERGES(f));
	hf_expect_all(f, va + 0x200008, pa + 0x200008);
	/* pa 2M aligned, va off by 4K. */
	hf_map(f, other(&c, 1), va + 4 * HF_2M + HF_4K, HF_PA + 4 * HF_2M, HF_PAGES_2M + 1, FL,
	       c.small);
	hf_expect_run(f, va + 4 * HF_2M + HF_4K, (HF_PAGES_2M + 1) * HF_4K, 1, HF_PA + 4 * HF_2M, FL);
	/* va 1G aligned, pa 2M but not 1G aligned, 1G long: 2M pages at most. */
	va = HF_WIN + HF_1G;
	pa = HF_PA + HF_2M;
	hf_map(f, other(&c, 2), va, pa, HF_PAGES_1G, FL, c.small);
	hf_expect_run(f, va, HF_1G, c.lvl2m, pa, FL);
	hf_expect_all(f, va + HF_1G - 8, pa + HF_1G - 8);
	/* PAT: never a superpage. */
	if (c.superpages) {
		va = HF_WIN + 3 * HF_1G;
		hf_map(f, 0, va, HF_PA, HF_PAGES_2M, FL | PTE_PAT4K, false);
		hf_expect_run(f, va, HF_2M, 1, HF_PA, FL | PTE_PAT4K);
		HF_ASSERT(f, MERGES(f) == 0, "PAT pages merged");
	}
	hf_destroy(f, 0, HF_WIN, 4 * HF_PAGES_1G);
	hf_expect_unmapped(f, HF_WIN, 4 * HF_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* Remap of part of a superpage: shatter ---------------------------------- */

START_TEST(test_shatter_2m)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	const uint64_t va = HF_WIN + HF_2M, pa = HF_PA + HF_2M, other_pa = HF_PA + 64 * HF_1G;
	hf_map(f, 0, va, pa, HF_PAGES_2M, FL, c.small);
	hf_expect_run(f, va, HF_2M, c.lvl2m, pa, FL);
	uint64_t live_2m = f->p.hv.pt.live;
	hf_touch(f, va + 5 * HF_4K, ACC_WRITE);
	hf_touch(f, va + 0x100 * HF_4K, ACC_READ);
	/* Page 5 elsewhere. */
	hf_map(f, other(&c, 1), va + 5 * HF_4K, other_pa, 1, FL, c.small);
	HF_ASSERT(f, SHATTERS(f) == (c.lvl2m == 2), "shatters %" PRIu64, SHATTERS(f));
	hf_expect_run(f, va, 5 * HF_4K, 1, pa, FL);
	hf_expect_run(f, va + 5 * HF_4K, HF_4K, 1, other_pa, FL);
	hf_expect_run(f, va + 6 * HF_4K, HF_2M - 6 * HF_4K, 1, pa + 6 * HF_4K, FL);
	hf_expect_all(f, va + 5 * HF_4K + 0x10, other_pa + 0x10);
	hf_expect_all(f, va + 0x100 * HF_4K, pa + 0x100 * HF_4K);
	for (unsigned k = 0; k < c.ncpus; k++)
		hf_expect_access(f, k, va + 5 * HF_4K, ACC_WRITE, other_pa);
	/* Back: the 512 entries are contiguous again with identical flags:
	 * re-merged into a 2 MiB page, the L1 table freed. */
	uint64_t tfree = f->c.tfree;
	hf_map(f, other(&c, 2), va + 5 * HF_4K, pa + 5 * HF_4K, 1, FL, c.small);
	if (c.lvl2m == 2) {
		HF_ASSERT(f, MERGES(f) == 1, "merges %" PRIu64, MERGES(f));
		HF_ASSERT(f, f->c.tfree == tfree + 1, "L1 table not freed");
		hf_expect_run(f, va, HF_2M, 2, pa, FL);
		HF_ASSERT(f, f->p.hv.pt.live == live_2m, "live %" PRIu64 ", was %" PRIu64,
		          f->p.hv.pt.live, live_2m);
	} else {
		HF_ASSERT(f, MERGES(f) == 0, "merges %" PRIu64 " with small pages", MERGES(f));
		hf_expect_run(f, va, HF_2M, 1, pa, FL);
	}
	hf_expect_all(f, va + 5 * HF_4K + 0x10, pa + 5 * HF_4K + 0x10);
	hf_destroy(f, 0, va, HF_PAGES_2M);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

START_TEST(test_shatter_1g)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	const uint64_t va = HF_WIN + HF_1G, pa = HF_PA + HF_1G, x = HF_PA + 64 * HF_1G;
	hf_map(f, 0, va, pa, HF_PAGES_1G, FL, c.small);
	hf_expect_run(f, va, HF_1G, c.lvl1g, pa, FL);
	const uint64_t pg = 3 * HF_2M + 7 * HF_4K; /* one 4K page inside 2M chunk 3 */
	hf_touch(f, va + pg, ACC_READ);
	hf_touch(f, va + 100 * HF_2M, ACC_READ);
	hf_map(f, other(&c, 1), va + pg, x, 1, FL, c.small);
	uint64_t want = (c.lvl1g == 3) + (c.lvl2m == 2);
	HF_ASSERT(f, SHATTERS(f) == want, "shatters %" PRIu64 ", expected %" PRIu64, SHATTERS(f),
	          want);
	/* 1G -> 2M, and the 2M holding the page -> 4K. */
	hf_expect_run(f, va, 3 * HF_2M, c.lvl2m, pa, FL);
	hf_expect_run(f, va + 3 * HF_2M, 7 * HF_4K, 1, pa + 3 * HF_2M, FL);
	hf_expect_run(f, va + pg, HF_4K, 1, x, FL);
	hf_expect_run(f, va + pg + HF_4K, HF_2M - 8 * HF_4K, 1, pa + pg + HF_4K, FL);
	hf_expect_run(f, va + 4 * HF_2M, HF_1G - 4 * HF_2M, c.lvl2m, pa + 4 * HF_2M, FL);
	hf_expect_all(f, va + pg, x);
	hf_expect_all(f, va + 100 * HF_2M, pa + 100 * HF_2M);
	/* A whole 2M chunk elsewhere: a 2M page, no further shatter. */
	hf_touch(f, va + 10 * HF_2M, ACC_READ);
	hf_map(f, other(&c, 2), va + 10 * HF_2M, x + HF_2M, HF_PAGES_2M, FL, c.small);
	HF_ASSERT(f, SHATTERS(f) == 0, "shatters %" PRIu64, SHATTERS(f));
	hf_expect_run(f, va + 10 * HF_2M, HF_2M, c.lvl2m, x + HF_2M, FL);
	hf_expect_all(f, va + 10 * HF_2M + 8, x + HF_2M + 8);
	/* Back, in two steps: the 4K page (2M re-merge), then the chunk (1G
	 * re-merge, the L2 table freed). */
	hf_map(f, other(&c, 3), va + pg, pa + pg, 1, FL, c.small);
	HF_ASSERT(f, MERGES(f) == (c.lvl2m == 2), "merges %" PRIu64, MERGES(f));
	hf_expect_run(f, va + 3 * HF_2M, HF_2M, c.lvl2m, pa + 3 * HF_2M, FL);
	uint64_t tfree = f->c.tfree;
	hf_map(f, 0, va + 10 * HF_2M, pa + 10 * HF_2M, HF_PAGES_2M, FL, c.small);
	HF_ASSERT(f, MERGES(f) == (c.lvl1g == 3), "merges %" PRIu64, MERGES(f));
	if (c.lvl1g == 3)
		HF_ASSERT(f, f->c.tfree == tfree + 1, "L2 table not freed");
	hf_expect_run(f, va, HF_1G, c.lvl1g, pa, FL);
	hf_expect_all(f, va + pg, pa + pg);
	hf_expect_all(f, va + 10 * HF_2M + 8, pa + 10 * HF_2M + 8);
	hf_destroy(f, 0, va, HF_PAGES_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* Mapping the same frames and flags again over a superpage: skip --------- */

START_TEST(test_skip_unchanged)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	uint64_t va = HF_WIN, pa = HF_PA;
	if (c.lvl1g == 3) {
		hf_map(f, 0, va, pa, HF_PAGES_1G, FL, false);
		hf_touch(f, va + HF_2M, ACC_READ);
		struct hf_counts b = hf_map(f, other(&c, 1), va + HF_4K, pa + HF_4K,
		                            HF_PAGES_1G - 1, FL, false);
		HF_ASSERT(f, STEPS(f, 0) == 1, "unchanged 1G: %" PRIu64 " steps, not 1",
		          STEPS(f, 0));
		HF_ASSERT(f, f->c.ptew == b.ptew && f->c.flush == b.flush,
		          "unchanged 1G: %" PRIu64 " writes, %" PRIu64 " flushes",
		          f->c.ptew - b.ptew, f->c.flush - b.flush);
		/* A and D are not part of the comparison. */
		hf_map(f, 0, va + 5 * HF_2M, pa + 5 * HF_2M, 7, FL & ~HF_AD, false);
		HF_ASSERT(f, STEPS(f, 0) == 1, "unchanged 1G without A/D: %" PRIu64 " steps",
		          STEPS(f, 0));
		/* Crossing the end of the 1G page into nothing: one skip, then
		 * two 4K pages. */
		hf_map(f, 0, va + HF_1G - 2 * HF_4K, pa + HF_1G - 2 * HF_4K, 4, FL, false);
		HF_ASSERT(f, STEPS(f, 0) == 3, "skip + 2: %" PRIu64 " steps", STEPS(f, 0));
		hf_expect_run(f, va, HF_1G, 3, pa, FL);
		hf_expect_run(f, va + HF_1G, 2 * HF_4K, 1, pa + HF_1G, FL);
		hf_expect_all(f, va + HF_2M, pa + HF_2M);
		hf_destroy(f, 0, va, HF_PAGES_1G + 2);
	}
	va = HF_WIN + 2 * HF_1G;
	pa = HF_PA + 2 * HF_1G;
	if (c.lvl2m == 2) {
		hf_map(f, 0, va, pa, 2 * HF_PAGES_2M, FL, false);
		hf_touch(f, va + HF_4K, ACC_READ);
		struct hf_counts b = hf_map(f, other(&c, 1), va + HF_4K, pa + HF_4K,
		                            HF_PAGES_2M - 1, FL, false);
		HF_ASSERT(f, STEPS(f, 0) == 1, "unchanged 2M: %" PRIu64 " steps, not 1", STEPS(f, 0));
		HF_ASSERT(f, f->c.ptew == b.ptew, "unchanged 2M written");
		/* Over two 2M pages from inside the first: a skip to the
		 * boundary, then the second is aligned and long: rewritten. */
		hf_map(f, 0, va + 3 * HF_4K, pa + 3 * HF_4K, 2 * HF_PAGES_2M - 3, FL, false);
		HF_ASSERT(f, STEPS(f, 0) == 2, "skip then 2M: %" PRIu64 " steps", STEPS(f, 0));
		hf_expect_run(f, va, 2 * HF_2M, 2, pa, FL);
		hf_expect_all(f, va + HF_4K, pa + HF_4K);
	} else {
		/* 4K pages: nothing to skip, one step per page. */
		hf_map(f, 0, va, pa, HF_PAGES_2M, FL, c.small);
		hf_map(f, other(&c, 1), va + HF_4K, pa + HF_4K, HF_PAGES_2M - 1, FL, c.small);
		HF_ASSERT(f, STEPS(f, 0) == HF_PAGES_2M - 1, "4K remap: %" PRIu64 " steps",
		          STEPS(f, 0));
		hf_expect_run(f, va, HF_2M, 1, pa, FL);
	}
	hf_destroy(f, 0, va, 2 * HF_PAGES_2M);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* Re-merge ----------------------------------------------------------------- */

START_TEST(test_merge_2m)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	uint64_t va = HF_WIN + 4 * HF_2M, pa = HF_PA + 4 * HF_2M;
	/* 512 single-page maps in a scrambled order, from rotating CPUs. */
	for (unsigned k = 0; k < HF_PAGES_2M; k++) {
		uint64_t p = (k * 37u) % HF_PAGES_2M;
		hf_map(f, other(&c, k), va + p * HF_4K, pa + p * HF_4K, 1, FL, c.small);
		if (k + 1 < HF_PAGES_2M) {
			HF_ASSERT(f, MERGES(f) == 0, "merged after %u pages", k + 1);
			if (k % 64 == 0)
				hf_touch(f, va + p * HF_4K, ACC_WRITE);
		}
	}
	uint64_t want = c.lvl2m == 2; /* MAP_SMALL_PAGES or no superpages: none */
	HF_ASSERT(f, MERGES(f) == want, "merges %" PRIu64 ", expected %" PRIu64, MERGES(f), want);
	HF_ASSERT(f, TFREED(f) == want, "tables freed %" PRIu64, TFREED(f));
	hf_expect_run(f, va, HF_2M, c.lvl2m, pa, FL);
	hf_expect_all(f, va + 37 * HF_4K + 8, pa + 37 * HF_4K + 8);
	/* One L2 table for the new 1G area, plus an L1 table if not merged. */
	HF_ASSERT(f, f->p.hv.pt.live == f->live0 + 1 + (c.lvl2m == 1), "live %" PRIu64,
	          f->p.hv.pt.live);

	/* MAP_SMALL_PAGES, then one page again without it: merges. */
	va += HF_2M;
	pa += HF_2M;
	hf_map(f, 0, va, pa, HF_PAGES_2M, FL, true);
	HF_ASSERT(f, MERGES(f) == 0, "MAP_SMALL_PAGES merged");
	hf_expect_run(f, va, HF_2M, 1, pa, FL);
	hf_touch(f, va + 77 * HF_4K, ACC_READ);
	hf_map(f, other(&c, 1), va + 77 * HF_4K, pa + 77 * HF_4K, 1, FL, c.small);
	HF_ASSERT(f, MERGES(f) == want, "merges %" PRIu64, MERGES(f));
	hf_expect_run(f, va, HF_2M, c.lvl2m, pa, FL);
	hf_expect_all(f, va + 77 * HF_4K, pa + 77 * HF_4K);

	/* Contiguous but differing flags in one entry: no merge until it
	 * matches. */
	va += HF_2M;
	pa += HF_2M;
	hf_map(f, 0, va, pa, HF_PAGES_2M, FL, true);
	hf_map(f, 0, va + 9 * HF_4K, pa + 9 * HF_4K, 1, FL & ~PTE_RW, true);
	hf_map(f, 0, va + 10 * HF_4K, pa + 10 * HF_4K, 1, FL, c.small);
	HF_ASSERT(f, MERGES(f) == 0, "merged over differing flags");
	hf_map(f, 0, va + 9 * HF_4K, pa + 9 * HF_4K, 1, FL, c.small);
	HF_ASSERT(f, MERGES(f) == want, "merges %" PRIu64, MERGES(f));
	hf_expect_run(f, va, HF_2M, c.lvl2m, pa, FL);

	hf_destroy(f, 0, HF_WIN, HF_PAGES_1G);
	hf_expect_unmapped(f, HF_WIN, HF_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

START_TEST(test_merge_1g)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	if (!c.superpages || c.small) { /* 512 x 512 4K pages: covered elsewhere */
		hf_free(f);
		return;
	}
	uint64_t va = HF_WIN + 4 * HF_1G, pa = HF_PA + 4 * HF_1G;
	/* 512 2M pages, one op each. */
	for (unsigned k = 0; k < 512; k++) {
		hf_map(f, other(&c, k), va + k * HF_2M, pa + k * HF_2M, HF_PAGES_2M, FL, false);
		if (k + 1 < 512)
			HF_ASSERT(f, MERGES(f) == 0, "merged after %u 2M pages", k + 1);
		if (k % 128 == 0)
			hf_touch(f, va + k * HF_2M, ACC_READ);
	}
	HF_ASSERT(f, MERGES(f) == (c.lvl1g == 3), "merges %" PRIu64, MERGES(f));
	hf_expect_run(f, va, HF_1G, c.lvl1g, pa, FL);
	hf_expect_all(f, va + 3 * HF_2M + 8, pa + 3 * HF_2M + 8);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0 + (c.lvl1g == 2), "live %" PRIu64,
	          f->p.hv.pt.live);

	/* Cascade: 511 2M pages and one 2M of small pages; one 4K map without
	 * MAP_SMALL_PAGES re-merges the 2M, then the 1G. */
	va += HF_1G;
	pa += HF_1G;
	hf_map(f, 0, va, pa, 7 * HF_PAGES_2M, FL, false);
	hf_map(f, 0, va + 7 * HF_2M, pa + 7 * HF_2M, HF_PAGES_2M, FL, true);
	hf_map(f, 0, va + 8 * HF_2M, pa + 8 * HF_2M, HF_PAGES_1G - 8 * HF_PAGES_2M, FL, false);
	HF_ASSERT(f, MERGES(f) == 0, "merged with a 4K area left");
	hf_expect_run(f, va + 7 * HF_2M, HF_2M, 1, pa + 7 * HF_2M, FL);
	hf_touch(f, va + 7 * HF_2M + 5 * HF_4K, ACC_READ);
	hf_map(f, other(&c, 1), va + 7 * HF_2M + 5 * HF_4K, pa + 7 * HF_2M + 5 * HF_4K, 1, FL,
	       false);
	HF_ASSERT(f, MERGES(f) == 1 + (c.lvl1g == 3), "merges %" PRIu64, MERGES(f));
	hf_expect_run(f, va, HF_1G, c.lvl1g, pa, FL);
	hf_expect_all(f, va + 7 * HF_2M + 5 * HF_4K, pa + 7 * HF_2M + 5 * HF_4K);

	hf_destroy(f, 0, HF_WIN + 4 * HF_1G, 2 * HF_PAGES_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* A superpage map over smaller mappings replaces them: the tables under
 * the old entry are freed after the flush (replace_l2 / replace_l3). */
START_TEST(test_map_over_tables)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	uint64_t va = HF_WIN + HF_1G, pa = HF_PA + HF_1G, x = HF_PA + 64 * HF_1G;
	/* A 1G area of mixed sizes: 2M pages, a 2M of 4K pages, holes. */
	hf_map(f, 0, va, x, 8 * HF_PAGES_2M, FL, false);
	hf_map(f, 0, va + 9 * HF_2M + 5 * HF_4K, x + 5 * HF_4K, 30, FL | PTE_PCD, false);
	hf_map(f, 0, va + 20 * HF_2M, pa + 20 * HF_2M, 3 * HF_PAGES_2M, FL, true);
	hf_touch(f, va + 8, ACC_READ);
	hf_touch(f, va + 9 * HF_2M + 5 * HF_4K, ACC_READ);
	hf_touch(f, va + 21 * HF_2M, ACC_WRITE);
	/* Over one 2M of 4K pages (one with another memory type). */
	hf_map(f, other(&c, 1), va + 9 * HF_2M, pa + 9 * HF_2M, HF_PAGES_2M, FL, c.small);
	hf_expect_run(f, va + 9 * HF_2M, HF_2M, c.lvl2m, pa + 9 * HF_2M, FL);
	if (c.lvl2m == 2)
		HF_ASSERT(f, TFREED(f) == 1, "L1 table under the new 2M page: %" PRIu64 " freed",
		          TFREED(f));
	hf_expect_all(f, va + 9 * HF_2M + 5 * HF_4K, pa + 9 * HF_2M + 5 * HF_4K);
	/* The whole 1G: one 1G page, the L2 table and its L1 tables freed. */
	uint64_t live = f->p.hv.pt.live;
	hf_map(f, other(&c, 2), va, pa, HF_PAGES_1G, FL, c.small);
	hf_expect_run(f, va, HF_1G, c.lvl1g, pa, FL);
	if (c.lvl1g == 3) {
		HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64 " (was %" PRIu64 ")",
		          f->p.hv.pt.live, live);
		HF_ASSERT(f, TFREED(f) == live - f->live0, "%" PRIu64 " tables freed of %" PRIu64,
		          TFREED(f), live - f->live0);
	}
	hf_expect_all(f, va + 8, pa + 8);
	hf_expect_all(f, va + 21 * HF_2M, pa + 21 * HF_2M);
	hf_expect_all(f, va + 9 * HF_2M + 5 * HF_4K, pa + 9 * HF_2M + 5 * HF_4K);
	hf_destroy(f, 0, va, HF_PAGES_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* Modify ------------------------------------------------------------------- */

START_TEST(test_modify)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	const uint64_t ro = FL & ~PTE_RW;
	uint64_t v2 = HF_WIN, p2 = HF_PA, v1 = HF_WIN + HF_1G, p1 = HF_PA + HF_1G;
	hf_map(f, 0, v2, p2, HF_PAGES_2M, FL, c.small);
	hf_map(f, 0, v1, p1, HF_PAGES_1G, FL, c.small);
	for (unsigned k = 0; k < c.ncpus; k++) {
		hf_expect_access(f, k, v2 + 8, ACC_WRITE, p2 + 8);
		hf_expect_access(f, k, v1 + 5 * HF_2M + 8, ACC_WRITE, p1 + 5 * HF_2M + 8);
	}
	/* The whole superpage: flags rewritten in place. */
	hf_modify(f, other(&c, 1), v2, HF_PAGES_2M, ro);
	HF_ASSERT(f, SHATTERS(f) == 0, "whole 2M shattered");
	hf_expect_run(f, v2, HF_2M, c.lvl2m, p2, ro);
	for (unsigned k = 0; k < c.ncpus; k++) {
		hf_expect_access(f, k, v2 + 8, ACC_WRITE, HF_NONE);
		hf_expect_access(f, k, v2 + 8, ACC_READ, p2 + 8);
	}
	hf_modify(f, other(&c, 2), v1, HF_PAGES_1G, ro);
	HF_ASSERT(f, SHATTERS(f) == 0, "whole 1G shattered");
	hf_expect_run(f, v1, HF_1G, c.lvl1g, p1, ro);
	for (unsigned k = 0; k < c.ncpus; k++)
		hf_expect_access(f, k, v1 + 5 * HF_2M + 8, ACC_WRITE, HF_NONE);
	/* Part: one page of the 2M, one 2M of the 1G. */
	hf_modify(f, other(&c, 3), v2 + 3 * HF_4K, 1, FL);
	HF_ASSERT(f, SHATTERS(f) == (c.lvl2m == 2), "shatters %" PRIu64, SHATTERS(f));
	hf_expect_run(f, v2, 3 * HF_4K, 1, p2, ro);
	hf_expect_run(f, v2 + 3 * HF_4K, HF_4K, 1, p2 + 3 * HF_4K, FL);
	hf_expect_run(f, v2 + 4 * HF_4K, HF_2M - 4 * HF_4K, 1, p2 + 4 * HF_4K, ro);
	hf_modify(f, 0, v1 + 5 * HF_2M, HF_PAGES_2M, FL);
	HF_ASSERT(f, SHATTERS(f) == (c.lvl1g == 3), "shatters %" PRIu64, SHATTERS(f));
	hf_expect_run(f, v1, 5 * HF_2M, c.lvl2m, p1, ro);
	hf_expect_run(f, v1 + 5 * HF_2M, HF_2M, c.lvl2m, p1 + 5 * HF_2M, FL);
	hf_expect_run(f, v1 + 6 * HF_2M, HF_1G - 6 * HF_2M, c.lvl2m, p1 + 6 * HF_2M, ro);
	for (unsigned k = 0; k < c.ncpus; k++) {
		hf_expect_access(f, k, v2 + 3 * HF_4K, ACC_WRITE, p2 + 3 * HF_4K);
		hf_expect_access(f, k, v2 + 4 * HF_4K, ACC_WRITE, HF_NONE);
		hf_expect_access(f, k, v1 + 5 * HF_2M + 8, ACC_WRITE, p1 + 5 * HF_2M + 8);
		hf_expect_access(f, k, v1 + 6 * HF_2M + 8, ACC_WRITE, HF_NONE);
	}
	/* Across a mapped/unmapped boundary and over nothing: only present
	 * pages change. */
	hf_modify(f, 0, v2 + HF_2M - HF_4K, 4, FL | PTE_G);
	hf_expect_unmapped(f, v2 + HF_2M, 3 * HF_4K);
	struct hf_counts b = hf_modify(f, 0, HF_WIN + 7 * HF_1G, 1024, FL);
	HF_ASSERT(f, f->c.ptew == b.ptew, "modify of nothing wrote");
	hf_destroy(f, 0, HF_WIN, 2 * HF_PAGES_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* A memory-type change (PCD) flushes the frames from the caches. */
START_TEST(test_modify_pcd)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	const uint64_t uc = FL | PTE_PCD;
	uint64_t va = HF_WIN, pa = HF_PA;
	hf_map(f, 0, va, pa, HF_PAGES_2M, FL, c.small);
	hf_touch(f, va + 0x40, ACC_WRITE);
	struct hf_counts b = hf_modify(f, other(&c, 1), va, HF_PAGES_2M, uc);
	HF_ASSERT(f, f->c.cache > b.cache, "PCD set: no cache flush");
	hf_expect_run(f, va, HF_2M, c.lvl2m, pa, uc);
	/* Part back to write-back. */
	b = hf_modify(f, other(&c, 2), va + 3 * HF_4K, 2, FL);
	HF_ASSERT(f, f->c.cache > b.cache, "PCD cleared: no cache flush");
	/* No memory-type change: no cache flush. */
	b = hf_modify(f, 0, va + 3 * HF_4K, 2, FL & ~PTE_RW);
	HF_ASSERT(f, f->c.cache == b.cache, "cache flushed without a memory-type change");
	/* Map over the same frames with another memory type: a 4K page
	 * (CLFLUSH of its lines, or WBINVD) ... */
	b = hf_map(f, other(&c, 3), va + 100 * HF_4K, pa + 100 * HF_4K, 1, FL, c.small);
	HF_ASSERT(f, f->c.cache > b.cache, "map PCD->WB: no cache flush");
	/* ... and a whole 2M over a table of mixed types. */
	b = hf_map(f, 0, va, pa, HF_PAGES_2M, uc, c.small);
	HF_ASSERT(f, f->c.cache > b.cache, "map WB->UC 2M: no cache flush");
	hf_expect_run(f, va, HF_2M, c.lvl2m, pa, uc);
	hf_expect_all(f, va + 8, pa + 8);
	/* 1G page, PCD changed on the whole and on part. */
	va = HF_WIN + HF_1G;
	pa = HF_PA + HF_1G;
	hf_map(f, 0, va, pa, HF_PAGES_1G, FL, c.small);
	b = hf_modify(f, other(&c, 1), va, HF_PAGES_1G, uc);
	HF_ASSERT(f, f->c.cache > b.cache && f->c.wbinvd > b.wbinvd, "1G PCD: no WBINVD");
	b = hf_map(f, 0, va + HF_2M, pa + HF_2M, 3, FL, c.small);
	HF_ASSERT(f, f->c.cache > b.cache, "map in 1G PCD->WB: no cache flush");
	hf_expect_run(f, va + HF_2M, 3 * HF_4K, 1, pa + HF_2M, FL);
	hf_expect_all(f, va + HF_2M + 8, pa + HF_2M + 8);
	hf_destroy(f, 0, HF_WIN, 2 * HF_PAGES_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* Destroy ------------------------------------------------------------------ */

START_TEST(test_destroy)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	uint64_t va = HF_WIN, pa = HF_PA;
	/* Whole superpages. */
	hf_map(f, 0, va, pa, HF_PAGES_1G, FL, c.small);
	hf_touch(f, va + 8, ACC_READ);
	hf_destroy(f, other(&c, 1), va, HF_PAGES_1G);
	hf_expect_unmapped(f, va, HF_1G);
	hf_expect_all(f, va + 8, HF_NONE);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_map(f, 0, va + HF_2M, pa, HF_PAGES_2M, FL, c.small);
	hf_touch(f, va + HF_2M + 8, ACC_READ);
	hf_destroy(f, other(&c, 2), va + HF_2M, HF_PAGES_2M);
	hf_expect_unmapped(f, va, HF_1G);
	hf_expect_all(f, va + HF_2M + 8, HF_NONE);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);

	/* Part of a 1G page: shatter to 2M and 4K, then clear. */
	hf_map(f, 0, va, pa, HF_PAGES_1G, FL, c.small);
	const uint64_t pg = HF_2M + HF_4K;
	hf_touch(f, va + pg, ACC_READ);
	hf_touch(f, va + pg + HF_4K, ACC_READ);
	hf_destroy(f, other(&c, 3), va + pg, 1);
	uint64_t want = (c.lvl1g == 3) + (c.lvl2m == 2);
	HF_ASSERT(f, SHATTERS(f) == want, "shatters %" PRIu64 ", expected %" PRIu64, SHATTERS(f),
	          want);
	hf_expect_unmapped(f, va + pg, HF_4K);
	hf_expect_run(f, va, HF_2M, c.lvl2m, pa, FL);
	hf_expect_run(f, va + HF_2M, HF_4K, 1, pa + HF_2M, FL);
	hf_expect_run(f, va + pg + HF_4K, HF_2M - 2 * HF_4K, 1, pa + pg + HF_4K, FL);
	hf_expect_run(f, va + 2 * HF_2M, HF_1G - 2 * HF_2M, c.lvl2m, pa + 2 * HF_2M, FL);
	hf_expect_all(f, va + pg, HF_NONE);
	hf_expect_all(f, va + pg + HF_4K, pa + pg + HF_4K);
	/* The rest, from inside: everything freed (c == 0 and d == 0 for each
	 * freed table, checked by the fixture). */
	hf_destroy(f, 0, va + HF_4K, HF_PAGES_1G - 1);
	hf_destroy(f, 0, va, 1);
	hf_expect_unmapped(f, va, HF_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);

	/* 4K runs that empty an L1 table, then the L2 table. */
	va = HF_WIN + 4 * HF_1G + 12 * HF_4K;
	hf_map(f, 0, va, pa + 12 * HF_4K, 8, FL, c.small);
	hf_map(f, 0, va + HF_2M, pa + HF_2M + 12 * HF_4K, 8, FL, c.small);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0 + 3, "live %" PRIu64, f->p.hv.pt.live);
	hf_touch(f, va, ACC_READ);
	uint64_t tfree = f->c.tfree;
	hf_destroy(f, other(&c, 1), va, 4);
	HF_ASSERT(f, f->c.tfree == tfree && TFREED(f) == 0, "table freed while in use");
	hf_destroy(f, other(&c, 2), va + 4 * HF_4K, 4);
	HF_ASSERT(f, f->c.tfree == tfree + 1 && TFREED(f) == 1, "emptied L1 table not freed");
	hf_expect_all(f, va, HF_NONE);
	hf_expect_all(f, va + HF_2M, pa + HF_2M + 12 * HF_4K);
	hf_destroy(f, 0, va + HF_2M, 8);
	HF_ASSERT(f, TFREED(f) == 2, "emptied L1 and L2: %" PRIu64 " freed", TFREED(f));
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);

	/* Nothing mapped: a no-op. */
	struct hf_counts b = hf_destroy(f, 0, HF_WIN + 6 * HF_1G, 8 * HF_PAGES_2M + 3);
	HF_ASSERT(f, f->c.ptew == b.ptew && TALLOC(f) == 0 && TFREED(f) == 0,
	          "destroy of nothing changed the tables");
	/* Mapped and unmapped mixed. */
	hf_map(f, 0, HF_WIN + 6 * HF_1G + HF_2M, pa, 3, FL, c.small);
	hf_destroy(f, 0, HF_WIN + 6 * HF_1G, 4 * HF_PAGES_2M);
	hf_expect_unmapped(f, HF_WIN + 6 * HF_1G, HF_1G);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64, f->p.hv.pt.live);
	hf_free(f);
}
END_TEST

/* A mixture of everything, then all destroyed: accounting back. */
START_TEST(test_accounting_roundtrip)
{
	struct mcfg c;
	struct hf *f = mk(_i, &c);
	uint64_t allocated = f->p.hv.pt.allocated, freed = f->p.hv.pt.freed;
	hf_map(f, 0, HF_WIN + HF_1G - 3 * HF_2M + HF_4K, HF_PA + HF_1G - 3 * HF_2M + HF_4K,
	       HF_PAGES_1G + 5 * HF_PAGES_2M, FL, c.small);
	hf_map(f, other(&c, 1), HF_WIN + HF_1G + 7 * HF_4K, HF_PA + 64 * HF_1G, 3, FL, true);
	hf_modify(f, other(&c, 2), HF_WIN + HF_1G + 3 * HF_2M, 2 * HF_PAGES_2M + 1,
	          FL & ~PTE_RW);
	hf_map(f, other(&c, 3), HF_WIN + 2 * HF_1G + 64 * HF_2M, HF_PA + HF_4K, 1000, FL,
	       c.small);
	hf_destroy(f, 0, HF_WIN + HF_1G + HF_2M, 3);
	hf_map(f, 0, HF_WIN + 3 * HF_1G, HF_PA + 3 * HF_1G, HF_PAGES_1G, FL | PTE_PCD, c.small);
	hf_modify(f, 0, HF_WIN + 3 * HF_1G + HF_4K, 1, FL);
	hf_touch(f, HF_WIN + HF_1G + 8, ACC_READ);
	hf_touch(f, HF_WIN + 3 * HF_1G + 8, ACC_READ);
	hf_destroy(f, other(&c, 1), HF_WIN, 4 * HF_PAGES_1G);
	hf_expect_unmapped(f, HF_WIN, 4 * HF_1G);
	hf_expect_all(f, HF_WIN + HF_1G + 8, HF_NONE);
	hf_expect_all(f, HF_WIN + 3 * HF_1G + 8, HF_NONE);
	const struct hv_ptstats *s = &f->p.hv.pt;
	HF_ASSERT(f, s->live == f->live0, "live %" PRIu64 ", boot %" PRIu64, s->live, f->live0);
	HF_ASSERT(f, s->allocated - allocated == s->freed - freed,
	          "allocated %" PRIu64 ", freed %" PRIu64, s->allocated - allocated,
	          s->freed - freed);
	HF_ASSERT(f, f->c.tfree == s->freed - freed, "EV_TABLE frees %" PRIu64 ", freed %" PRIu64,
	          f->c.tfree, s->freed - freed);
	hf_free(f);
}
END_TEST

/* Regressions: bugs these tests found in hv/, now fixed ------------------- */

/* destroy/modify at the top of the address space: next_boundary() in
 * hv/mm/destroy.c wraps to 0 past the last L4 slot (or last 1G / 2M), and
 * step() returning 0 means "error": the walk fails with -ENOMEM although
 * nothing ran out. */
START_TEST(bug_destroy_top_of_address_space)
{
	struct hf_cfg hc = {.ncpus = 1, .page1gb = true, .superpages = true};
	struct hf *f = hf_new(&hc);
	/* Nothing mapped in L4 slot 511: a no-op expected. */
	hf_destroy(f, 0, 0xffffffffc0000000ull, 16);
	hf_free(f);
}
END_TEST

/* The same one level down: an L3 table in slot 511 (a 2M page at
 * 0xffffffff80000000) but nothing in the last 1 GiB; modify there. */
START_TEST(bug_modify_top_of_address_space)
{
	struct hf_cfg hc = {.ncpus = 2, .page1gb = true, .superpages = true};
	struct hf *f = hf_new(&hc);
	hf_map(f, 0, 0xffffffff80000000ull, HF_PA, HF_PAGES_2M, FL, false);
	hf_modify(f, 1, 0xffffffffc0000000ull, 16, FL & ~PTE_RW);
	hf_free(f);
}
END_TEST

/* A 1G map over an L2 table that links L1 tables (replace_l3 in
 * hv/mm/map.c): the L1 tables are freed while the unhooked L2 table still
 * links them, and only then the L2 table -- the EV_TABLE free of each L1
 * has c (live links) == 1, which the psc-freed-table property
 * (record/checker.c, checks/psc_freed_table.sql) reports. */
START_TEST(bug_replace_l3_frees_linked_l1)
{
	struct hf_cfg hc = {.ncpus = 2, .page1gb = true, .superpages = true};
	struct hf *f = hf_new(&hc);
	hf_map(f, 0, HF_WIN + 3 * HF_4K, HF_PA + 3 * HF_4K, 1, FL, false);
	hf_map(f, 1, HF_WIN, HF_PA, HF_PAGES_1G, FL, false); /* fails: c == 1 */
	hf_free(f);
}
END_TEST

/* Non-present mappings (flags without _PAGE_PRESENT, which the seed
 * supports: "don't or-in/and-out _PAGE_PSE on non-present pages") leave
 * non-zero entries that destroy never clears: step() in hv/mm/destroy.c
 * clears only present leaves, while the seed's destroy_xen_mappings
 * writes l1e_empty() regardless; table_empty() then never holds and the
 * L1 and L2 tables stay allocated after everything is destroyed. Direct
 * calls: the scenario path's reference map has no non-present mappings. */
START_TEST(bug_destroy_keeps_nonpresent_entries)
{
	struct hf_cfg hc = {.ncpus = 1, .page1gb = true, .superpages = true};
	struct hf *f = hf_new(&hc);
	ck_assert_int_eq(hv_map_pages(&f->p.hv, 0, HF_WIN + 3 * HF_4K, (HF_PA >> 12) + 3, 4, 0), 0);
	ck_assert_int_eq(hv_destroy_mappings(&f->p.hv, 0, HF_WIN, HF_WIN + HF_2M), 0);
	hf_check_accounting(f);
	HF_ASSERT(f, f->p.hv.pt.live == f->live0, "live %" PRIu64 " after destroy, boot %" PRIu64,
	          f->p.hv.pt.live, f->live0);
	hf_free(f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hv_map");
	struct {
		const char *name;
		const TTest *t;
		int ncfg;
	} tests[] = {
		{"map_aligned", test_map_aligned, NCFG},
		{"map_edges", test_map_edges, NCFG},
		{"map_misaligned", test_map_misaligned, NCFG},
		{"map_over_tables", test_map_over_tables, NCFG_DISTINCT},
		{"shatter_2m", test_shatter_2m, NCFG},
		{"shatter_1g", test_shatter_1g, NCFG_DISTINCT},
		{"skip_unchanged", test_skip_unchanged, NCFG},
		{"merge_2m", test_merge_2m, NCFG},
		{"merge_1g", test_merge_1g, NCFG},
		{"modify", test_modify, NCFG_DISTINCT},
		{"modify_pcd", test_modify_pcd, NCFG_DISTINCT},
		{"destroy", test_destroy, NCFG_DISTINCT},
		{"accounting_roundtrip", test_accounting_roundtrip, NCFG_DISTINCT},
	};
	for (size_t k = 0; k < sizeof(tests) / sizeof(tests[0]); k++) {
		TCase *tc = tcase_create(tests[k].name);
		tcase_set_timeout(tc, 120);
		tcase_add_loop_test(tc, tests[k].t, 0, tests[k].ncfg);
		suite_add_tcase(s, tc);
	}
	/* Regression tests of the bugs these tests found in hv/ (fixed). */
	TCase *tc = tcase_create("regressions");
	tcase_add_test(tc, bug_destroy_top_of_address_space);
	tcase_add_test(tc, bug_modify_top_of_address_space);
	tcase_add_test(tc, bug_replace_l3_frees_linked_l1);
	tcase_add_test(tc, bug_destroy_keeps_nonpresent_entries);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(suite());
}
