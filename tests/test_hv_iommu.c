/* hv/iommu at the hypervisor level, on both drivers (issue 6, "Done
 * means" 1): VT-d with CAP.CM=0, VT-d with CAP.CM=1, and AMD-Vi.
 *
 * Each test builds the IOMMU world of a scenario (tests/io_fixture.h),
 * calls hv_iommu_* directly, and observes the hardware only through the
 * unit's statistics and its EV_IOMMU_INV events (one per invalidation the
 * unit carried out, waits included), DMA through the DMA engine, and the
 * unit's IOTLB and envelope. Expected invalidations come from the
 * hardware rules, computed here (expect_flush), never from the driver:
 *  - VT-d (hw-facts §1.3, Xen iommu_flush_iotlb_psi [S17b]): page-selective
 *    with AM = log2(count) when the count is a power of two, the first
 *    DFN is aligned to it and AM <= CAP.MAMV (read from the unit's CAP
 *    register); otherwise domain-selective. ADDED entries need no
 *    invalidation unless CAP.CM=1 (VT-d §6.1).
 *  - AMD-Vi (hw-facts §1.4): INVALIDATE_IOMMU_PAGES with S=0 for one
 *    page; S=1 for a range, which the IOMMU applies to the smallest
 *    naturally aligned power-of-two block holding it (found here by
 *    widening until first and last page share the block). Fresh entries
 *    need nothing (no NpCache).
 *  - After every invalidation the driver waits (VT-d wait descriptor,
 *    AMD-Vi COMPLETION_WAIT), so a wait event follows each one.
 * DIDs are read back from the context entry / DTE in memory.
 */
#include <errno.h>

#include "tests/io_fixture.h"
#include "tests/testutil.h"

#define MFN_A 0x20000ull /* data frames: far above the allocator's region */
#define MFN_B 0x40000ull
#define DEV 3u

struct t {
	struct iof *f;
	struct hv_iommu *h;
	struct hv_iommu_domain *d;
	uint16_t sid;
	uint32_t dev;
	uint16_t did;
	enum iof_hw hw;
};

static struct t setup(const struct iof_cfg *c, bool hwdom)
{
	struct t t = {.hw = c->hw, .sid = IOF_SID(DEV)};
	t.f = iof_new(c);
	t.h = iof_hv(t.f);
	t.d = hv_iommu_domain_create(t.h, 0, hwdom);
	ck_assert_ptr_nonnull(t.d);
	ck_assert_int_eq(hv_iommu_assign(t.h, 0, t.d, t.sid), 0);
	int did = iof_hw_did(t.f, t.sid);
	IOF_ASSERT(t.f, did > 0, "device has no DID in the tables (%d)", did);
	t.did = (uint16_t)did;
	/* A DMA device the runner does not track (no reference checks): the
	 * test asserts the outcomes itself. */
	int dev = dma_device_add(&t.f->w->dma, t.sid, 0);
	ck_assert_int_ge(dev, 0);
	t.dev = (uint32_t)dev;
	iof_mark(t.f);
	return t;
}

static struct t setup_hw(enum iof_hw hw)
{
	struct iof_cfg c = {.hw = hw};
	return setup(&c, false);
}

static unsigned mamv(struct t *t)
{
	return (unsigned)((iommu_mmio_read(&t->f->w->unit, VTD_REG_CAP) >> VTD_CAP_MAMV_SHIFT) &
	                  0x3f);
}

/* The one IOTLB invalidation a flush of [dfn, dfn + count) must become on
 * this hardware (see the file comment). */
static struct iof_inv expect_flush(struct t *t, uint64_t dfn, uint64_t count)
{
	if (t->hw == IOF_AMD) {
		if (count == 1)
			return (struct iof_inv){IOINV_IOTLB_RANGE, t->did, dfn << 12, 12};
		unsigned k = 0;
		while ((dfn >> k) != ((dfn + count - 1) >> k))
			k++;
		if (k + 12 > 52)
			return (struct iof_inv){IOINV_IOTLB_DOMAIN, t->did, 0, 64};
		return (struct iof_inv){IOINV_IOTLB_RANGE, t->did, (dfn >> k) << (k + 12), k + 12};
	}
	unsigned am = 0;
	while ((1ull << am) < count)
		am++;
	if ((1ull << am) == count && (dfn & (count - 1)) == 0 && am <= mamv(t))
		return (struct iof_inv){IOINV_IOTLB_RANGE, t->did, dfn << 12, 12 + am};
	return (struct iof_inv){IOINV_IOTLB_DOMAIN, t->did, 0, 64};
}

static struct iof_inv flush_all(struct t *t)
{
	return (struct iof_inv){IOINV_IOTLB_DOMAIN, t->did, 0, 64};
}

/* The log holds exactly these IOTLB invalidations, in order, each followed
 * by a wait, and nothing else. */
static void expect_invs(struct t *t, const struct iof_inv *want, unsigned n, const char *what)
{
	struct iof *f = t->f;
	unsigned got = 0;
	for (uint32_t i = 0; i < f->ninv; i++) {
		const struct iof_inv *v = &f->inv[i];
		if (v->kind == IOINV_WAIT)
			continue;
		IOF_ASSERT(f, got < n, "%s: unexpected invalidation #%u kind %u did %u base %#" PRIx64
		           " log2 %u (expected %u)", what, got, v->kind, v->did, v->base, v->log2, n);
		const struct iof_inv *w = &want[got];
		IOF_ASSERT(f, v->kind == w->kind && v->did == w->did && v->base == w->base &&
		                  v->log2 == w->log2,
		           "%s: invalidation #%u is kind %u did %u base %#" PRIx64 " log2 %u, "
		           "expected kind %u did %u base %#" PRIx64 " log2 %u",
		           what, got, v->kind, v->did, v->base, v->log2, w->kind, w->did, w->base,
		           w->log2);
		got++;
	}
	IOF_ASSERT(f, got == n, "%s: %u invalidations, expected %u", what, got, n);
	iof_expect_waits(f);
	unsigned waits = iof_count(f, IOINV_WAIT);
	IOF_ASSERT(f, waits == n, "%s: %u waits for %u invalidations", what, waits, n);
}

static void expect_none(struct t *t, const char *what) { expect_invs(t, NULL, 0, what); }

static void expect_one(struct t *t, struct iof_inv w, const char *what)
{
	expect_invs(t, &w, 1, what);
}

/* A DMA write of one page at dfn: lands at pa (mfn << 12) or faults
 * (mfn == UINT64_MAX). */
static void dma_expect(struct t *t, uint64_t dfn, uint64_t mfn, const char *what)
{
	uint64_t at = t->f->m.cpus[0].clock;
	struct dma_result r = dma_transfer(&t->f->w->dma, t->dev, dfn << 12, 4096, true, at);
	if (mfn == UINT64_MAX) {
		IOF_ASSERT(t->f, r.faults == 1 && r.ok == 0, "%s: DMA to dfn %#" PRIx64
		           " went through to %#" PRIx64 ", expected a fault", what, dfn, r.first_pa);
		return;
	}
	IOF_ASSERT(t->f, r.ok == 1 && r.first_pa == mfn << 12, "%s: DMA to dfn %#" PRIx64
	           ": ok %u pa %#" PRIx64 ", expected pa %#" PRIx64, what, dfn, r.ok, r.first_pa,
	           mfn << 12);
	IOF_ASSERT(t->f, r.stale == 0 && r.env_stale == 0, "%s: DMA to dfn %#" PRIx64
	           " served stale", what, dfn);
}

/* The IOTLB holds dfn -> mfn (or nothing for this page) for the device's
 * DID, and the envelope holds nothing that differs from the tables. */
static void iotlb_expect(struct t *t, uint64_t dfn, uint64_t mfn, const char *what)
{
	struct iotlb_entry *e = iotlb_lookup(&t->f->w->unit.iotlb, t->did, dfn << 12);
	if (mfn == UINT64_MAX) {
		IOF_ASSERT(t->f, !e || e->np, "%s: IOTLB still holds dfn %#" PRIx64 " -> %#" PRIx64,
		           what, dfn, e ? e->pa_base : 0);
	} else {
		IOF_ASSERT(t->f, e && !e->np, "%s: IOTLB has no entry for dfn %#" PRIx64, what, dfn);
		uint64_t pa = e->pa_base + ((dfn << 12) & ((1ull << e->size_log2) - 1));
		IOF_ASSERT(t->f, pa == mfn << 12, "%s: IOTLB dfn %#" PRIx64 " -> %#" PRIx64
		           ", expected %#" PRIx64, what, dfn, pa, mfn << 12);
	}
	bool np = mfn == UINT64_MAX;
	struct ioenv_verdict v = ioenv_check(&t->f->w->unit.env, t->did, dfn << 12, np,
	                                     np ? 0 : mfn << 12, np ? 0 : 3);
	IOF_ASSERT(t->f, !v.may_stale, "%s: envelope may serve %#" PRIx64 " for dfn %#" PRIx64,
	           what, v.stale_pa, dfn);
}

/* Every page of [dfn, dfn + n) maps to mfn + i (UINT64_MAX: nothing) in
 * the driver's tables. */
static void lookup_expect(struct t *t, uint64_t dfn, uint64_t n, uint64_t mfn)
{
	for (uint64_t i = 0; i < n; i++) {
		unsigned fl;
		uint64_t got = t->h->ops->lookup(t->h, t->d, dfn + i, &fl);
		uint64_t want = mfn == UINT64_MAX ? HV_NO_FRAME : mfn + i;
		IOF_ASSERT(t->f, got == want, "lookup dfn %#" PRIx64 ": %#" PRIx64 ", expected %#" PRIx64,
		           dfn + i, got, want);
	}
}

static void fin(struct t *t)
{
	IOF_ASSERT(t->f, t->f->checks == 0, "runner check fired");
	iof_free(t->f);
}

/* ---- map of fresh entries: VT-d ADDED, AMD NONE ------------------------ */

START_TEST(map_fresh_orders)
{
	struct t t = setup_hw((enum iof_hw)_i);
	for (unsigned order = 0; order <= 9; order++) {
		iof_tag(t.f, "fresh map order %u", order);
		uint64_t n = 1ull << order, dfn = 0x1000ull * (order + 1), mfn = MFN_A + 0x1000 * order;
		/* CM=1: the unit may cache the not-present result of a DMA
		 * before the map; the map's invalidation must remove it. */
		dma_expect(&t, dfn, UINT64_MAX, "before map");
		struct hv_iommu_stats s0 = t.h->st;
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, mfn, order, 3), 0);
		enum iommu_flush_type want = t.hw == IOF_AMD ? IOMMU_FLUSH_NONE : IOMMU_FLUSH_ADDED;
		IOF_ASSERT(t.f, t.h->st.by_type[want] == s0.by_type[want] + 1 &&
		                    t.h->st.flush_calls == s0.flush_calls + 1,
		           "one wrapper flush of type %d", want);
		if (t.hw == IOF_VTD_CM1)
			expect_one(&t, expect_flush(&t, dfn, n), "CM=1 fresh map");
		else
			expect_none(&t, "fresh map");
		lookup_expect(&t, dfn, n, mfn);
		dma_expect(&t, dfn, mfn, "after map");
		dma_expect(&t, dfn + n - 1, mfn + n - 1, "after map (last page)");
		iotlb_expect(&t, dfn, mfn, "after DMA");
		iotlb_expect(&t, dfn + n - 1, mfn + n - 1, "after DMA");
	}
	fin(&t);
}
END_TEST

/* ---- remap of present entries: MODIFIED, one invalidation ------------- */

START_TEST(remap_orders)
{
	struct t t = setup_hw((enum iof_hw)_i);
	for (unsigned order = 0; order <= 9; order++) {
		iof_tag(t.f, "remap order %u", order);
		uint64_t n = 1ull << order, dfn = 0x1000ull * (order + 1);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, MFN_A, order, 3), 0);
		dma_expect(&t, dfn, MFN_A, "first map");
		dma_expect(&t, dfn + n - 1, MFN_A + n - 1, "first map (last)");
		struct hv_iommu_stats s0 = t.h->st;
		struct iommu_stats u0 = iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, MFN_B, order, 3), 0);
		IOF_ASSERT(t.f, t.h->st.by_type[IOMMU_FLUSH_MODIFIED] ==
		                    s0.by_type[IOMMU_FLUSH_MODIFIED] + 1, "MODIFIED flush");
		expect_one(&t, expect_flush(&t, dfn, n), "remap");
		/* The unit's own counters agree with its events. */
		uint64_t page = t.f->w->unit.st.inv_iotlb_page - u0.inv_iotlb_page;
		IOF_ASSERT(t.f, page == 1 && t.f->w->unit.st.waits == u0.waits + 1,
		           "page-selective count %" PRIu64, page);
		/* Both cached translations are gone; DMA reaches the new frames. */
		iotlb_expect(&t, dfn, UINT64_MAX, "after remap");
		iotlb_expect(&t, dfn + n - 1, UINT64_MAX, "after remap");
		lookup_expect(&t, dfn, n, MFN_B);
		dma_expect(&t, dfn, MFN_B, "after remap");
		dma_expect(&t, dfn + n - 1, MFN_B + n - 1, "after remap (last)");
	}
	fin(&t);
}
END_TEST

/* ---- identical re-map: NONE, nothing reaches the hardware ------------- */

START_TEST(identical_remap)
{
	struct t t = setup_hw((enum iof_hw)_i);
	for (unsigned order = 0; order <= 9; order += 3) {
		iof_tag(t.f, "identical remap order %u", order);
		uint64_t dfn = 0x1000ull * (order + 1);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, MFN_A, order, 3), 0);
		dma_expect(&t, dfn, MFN_A, "map");
		struct hv_iommu_stats s0 = t.h->st;
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, MFN_A, order, 3), 0);
		IOF_ASSERT(t.f, t.h->st.by_type[IOMMU_FLUSH_NONE] == s0.by_type[IOMMU_FLUSH_NONE] + 1 &&
		                    t.h->st.flushes_elided == s0.flushes_elided + 1,
		           "NONE flush, elided");
		expect_none(&t, "identical remap");
		iotlb_expect(&t, dfn, MFN_A, "still cached");
	}
	/* A permission change is a modification (VT-d R/W, AMD IR/IW). */
	iof_tag(t.f, "permission change");
	iof_mark(t.f);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x1000, MFN_A, 0, IOMMUF_READABLE), 0);
	expect_one(&t, expect_flush(&t, 0x1000, 1), "R/W -> R");
	dma_expect(&t, 0x1000, UINT64_MAX, "write to read-only");
	fin(&t);
}
END_TEST


/* One operation over fresh and present entries: the wrapper flushes once
 * with the highest type any PTE reported (MODIFIED beats ADDED / NONE),
 * over the whole range. */
START_TEST(mixed_types_highest)
{
	struct t t = setup_hw((enum iof_hw)_i);
	for (unsigned order = 1; order <= 9; order += 4) {
		iof_tag(t.f, "mixed order %u", order);
		uint64_t n = 1ull << order, dfn = 0x4000ull * order;
		/* Only the last page is present beforehand. */
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn + n - 1, MFN_A, 0, 3), 0);
		dma_expect(&t, dfn + n - 1, MFN_A, "old");
		struct hv_iommu_stats s0 = t.h->st;
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, MFN_B, order, 3), 0);
		IOF_ASSERT(t.f, t.h->st.by_type[IOMMU_FLUSH_MODIFIED] ==
		                    s0.by_type[IOMMU_FLUSH_MODIFIED] + 1 &&
		                    t.h->st.flush_calls == s0.flush_calls + 1,
		           "one flush, MODIFIED");
		expect_one(&t, expect_flush(&t, dfn, n), "mixed");
		dma_expect(&t, dfn + n - 1, MFN_B + n - 1, "new");
	}
	fin(&t);
}
END_TEST

/* ---- unmap: one invalidation of the range ------------------------------ */

START_TEST(unmap_orders)
{
	struct t t = setup_hw((enum iof_hw)_i);
	for (unsigned order = 0; order <= 10; order++) {
		iof_tag(t.f, "unmap order %u", order);
		uint64_t n = 1ull << order, dfn = 0x2000ull * (order + 1);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, MFN_A, order, 3), 0);
		dma_expect(&t, dfn, MFN_A, "map");
		dma_expect(&t, dfn + n - 1, MFN_A + n - 1, "map (last)");
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_unmap(t.h, 0, t.d, dfn, order), 0);
		/* Order 10 on VT-d: AM 10 > MAMV 9, so domain-selective. */
		expect_one(&t, expect_flush(&t, dfn, n), "unmap");
		if (order == 10 && t.hw != IOF_AMD)
			IOF_ASSERT(t.f, t.f->inv[0].kind == IOINV_IOTLB_DOMAIN, "AM > MAMV is DSI");
		iotlb_expect(&t, dfn, UINT64_MAX, "after unmap");
		iotlb_expect(&t, dfn + n - 1, UINT64_MAX, "after unmap");
		lookup_expect(&t, dfn, n, UINT64_MAX);
		dma_expect(&t, dfn, UINT64_MAX, "after unmap");
		dma_expect(&t, dfn + n - 1, UINT64_MAX, "after unmap (last)");
	}
	fin(&t);
}
END_TEST

/* ---- order 18: 1 GiB in one call, still one invalidation --------------- */

START_TEST(order18_sanity)
{
	struct t t = setup_hw((enum iof_hw)_i);
	uint64_t n = 1ull << 18, dfn = 1ull << 18, mfn = 1ull << 20;
	dma_expect(&t, dfn + 12345, UINT64_MAX, "before");
	iof_mark(t.f);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, mfn, 18, 3), 0);
	if (t.hw == IOF_VTD_CM1)
		expect_one(&t, expect_flush(&t, dfn, n), "order-18 fresh map, CM=1");
	else
		expect_none(&t, "order-18 fresh map");
	IOF_ASSERT(t.f, t.h->st.pages_mapped >= n, "pages mapped");
	dma_expect(&t, dfn, mfn, "first page");
	dma_expect(&t, dfn + 12345, mfn + 12345, "middle page");
	dma_expect(&t, dfn + n - 1, mfn + n - 1, "last page");
	iof_mark(t.f);
	ck_assert_int_eq(hv_iommu_unmap(t.h, 0, t.d, dfn, 18), 0);
	expect_one(&t, expect_flush(&t, dfn, n), "order-18 unmap");
	dma_expect(&t, dfn + 12345, UINT64_MAX, "after unmap");
	dma_expect(&t, dfn + n - 1, UINT64_MAX, "after unmap (last)");
	fin(&t);
}
END_TEST

/* ---- the driver's flush: granularity for every kind of range ---------- */

START_TEST(flush_granularity)
{
	struct t t = setup_hw((enum iof_hw)_i);
	static const struct {
		uint64_t dfn, count;
	} r[] = {
		{0x1000, 1}, {0x1001, 1},  {0x200, 512}, {0x400, 2},   {0x401, 2},  {0x1ff, 2},
		{0x100, 3},  {0x100, 6},   {0x3f0, 16},  {0x3f8, 16},  {0, 1024},   {0x800, 1024},
		{0x7, 9},    {0x10000, 64}, {0x10020, 64}, {0, 1ull << 18},
	};
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		for (int type = IOMMU_FLUSH_NONE; type <= IOMMU_FLUSH_MODIFIED; type++) {
			iof_tag(t.f, "flush dfn %#" PRIx64 " count %" PRIu64 " type %d", r[i].dfn,
			        r[i].count, type);
			iof_mark(t.f);
			ck_assert_int_eq(t.h->ops->iotlb_flush(t.h, 0, t.d, r[i].dfn, r[i].count,
			                                       (enum iommu_flush_type)type),
			                 0);
			/* What needs invalidating: MODIFIED always; ADDED only
			 * where the hardware caches not-present entries (CM=1). */
			bool needed = type == IOMMU_FLUSH_MODIFIED ||
			              (type == IOMMU_FLUSH_ADDED && t.hw == IOF_VTD_CM1);
			if (needed)
				expect_one(&t, expect_flush(&t, r[i].dfn, r[i].count), "flush");
			else
				expect_none(&t, "flush not needed");
		}
	}
	/* Flush-all: the whole domain (VT-d DSI; AMD S=1 all-pages). */
	iof_tag(t.f, "flush all");
	iof_mark(t.f);
	ck_assert_int_eq(t.h->ops->iotlb_flush_all(t.h, 0, t.d), 0);
	expect_one(&t, flush_all(&t), "flush all");
	fin(&t);
}
END_TEST

/* AMD-Vi widening (hw-facts §1.4): an 8 KiB range straddling a 2 MiB
 * boundary invalidates the whole aligned 4 MiB block, and a cached entry
 * far from the range but inside the block goes too; one outside stays. */
START_TEST(amd_widened_range)
{
	struct t t = setup_hw(IOF_AMD);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x1ff, MFN_A, 0, 3), 0);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x200, MFN_A + 1, 0, 3), 0);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x3ff, MFN_A + 2, 0, 3), 0);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x400, MFN_A + 3, 0, 3), 0);
	dma_expect(&t, 0x3ff, MFN_A + 2, "inside the block");
	dma_expect(&t, 0x400, MFN_A + 3, "outside the block");
	iof_mark(t.f);
	ck_assert_int_eq(t.h->ops->iotlb_flush(t.h, 0, t.d, 0x1ff, 2, IOMMU_FLUSH_MODIFIED), 0);
	expect_one(&t, (struct iof_inv){IOINV_IOTLB_RANGE, t.did, 0, 22}, "widened to 4 MiB");
	iotlb_expect(&t, 0x3ff, UINT64_MAX, "inside the widened block");
	iotlb_expect(&t, 0x400, MFN_A + 3, "outside the widened block");
	fin(&t);
}
END_TEST

/* ---- elision off: per-PTE flushes (the code before the seed) ---------- */

START_TEST(elision_off)
{
	struct iof_cfg c = {.hw = (enum iof_hw)_i, .no_elide = true};
	struct t t = setup(&c, false);
	static const unsigned orders[] = {0, 1, 3, 9};
	for (unsigned k = 0; k < 4; k++) {
		unsigned order = orders[k];
		uint64_t n = 1ull << order, dfn = 0x1000ull * (k + 1);
		struct iof_inv *per = calloc(n, sizeof(*per));
		ck_assert_ptr_nonnull(per);
		for (uint64_t i = 0; i < n; i++)
			per[i] = expect_flush(&t, dfn + i, 1);
		iof_tag(t.f, "no-elide fresh map order %u", order);
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, MFN_A, order, 3), 0);
		/* Fresh entries: per PTE under CM=1, nothing otherwise. */
		expect_invs(&t, per, t.hw == IOF_VTD_CM1 ? (unsigned)n : 0, "fresh map");
		dma_expect(&t, dfn + n - 1, MFN_A + n - 1, "fresh map");
		iof_tag(t.f, "no-elide remap order %u", order);
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, dfn, MFN_B, order, 3), 0);
		expect_invs(&t, per, (unsigned)n, "remap: one per PTE");
		dma_expect(&t, dfn + n - 1, MFN_B + n - 1, "remap");
		iof_tag(t.f, "no-elide unmap order %u", order);
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_unmap(t.h, 0, t.d, dfn, order), 0);
		expect_invs(&t, per, (unsigned)n, "unmap: one per page");
		dma_expect(&t, dfn + n - 1, UINT64_MAX, "unmap");
		free(per);
	}
	fin(&t);
}
END_TEST

/* ---- this CPU's "don't flush" ------------------------------------------ */

START_TEST(dont_flush_per_cpu)
{
	struct iof_cfg c = {.hw = (enum iof_hw)_i, .ncpus = 2};
	struct t t = setup(&c, false);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x1000, MFN_A, 3, 3), 0);
	dma_expect(&t, 0x1000, MFN_A, "map");
	t.h->dont_flush[0] = true;
	iof_tag(t.f, "remap with dont_flush on cpu 0");
	iof_mark(t.f);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x1000, MFN_B, 3, 3), 0);
	expect_none(&t, "dont_flush set: the caller flushes later");
	/* The other CPU's flag is its own. */
	iof_tag(t.f, "remap on cpu 1");
	iof_mark(t.f);
	ck_assert_int_eq(hv_iommu_map(t.h, 1, t.d, 0x1008, MFN_A, 3, 3), 0);
	if (t.hw == IOF_VTD_CM1)
		expect_one(&t, expect_flush(&t, 0x1008, 8), "cpu 1 fresh map, CM=1");
	else
		expect_none(&t, "cpu 1 fresh map");
	/* Unmap flushes whatever dont_flush says (the seed's iommu_unmap). */
	iof_tag(t.f, "unmap with dont_flush on cpu 0");
	iof_mark(t.f);
	ck_assert_int_eq(hv_iommu_unmap(t.h, 0, t.d, 0x1000, 3), 0);
	expect_one(&t, expect_flush(&t, 0x1000, 8), "unmap");
	dma_expect(&t, 0x1000, UINT64_MAX, "after unmap");
	t.h->dont_flush[0] = false;
	fin(&t);
}
END_TEST

/* ---- hardware domain set-up: elided, then one flush-all --------------- */

START_TEST(hwdom_init_batch)
{
	for (int noel = 0; noel <= 1; noel++) {
		struct iof_cfg c = {.hw = (enum iof_hw)_i, .no_elide = noel};
		struct t t = setup(&c, true);
		uint64_t pfn = 0x80000, pages = 96;
		/* Some of the range already maps elsewhere, so the set-up
		 * modifies present entries too (MODIFIED PTEs, no flush). */
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, pfn + 32, MFN_A, 5, 3), 0);
		dma_expect(&t, pfn + 40, MFN_A + 8, "old mapping cached");
		iof_tag(t.f, "hwdom_init %s", noel ? "no-elide" : "elide");
		struct hv_iommu_stats s0 = t.h->st;
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_hwdom_init(t.h, 0, t.d, pfn, pages), 0);
		expect_one(&t, flush_all(&t), "hwdom_init: one flush-all at the end");
		IOF_ASSERT(t.f, t.h->st.flush_all_calls == s0.flush_all_calls + 1, "one flush-all");
		IOF_ASSERT(t.f, t.h->st.maps == s0.maps + pages, "one map per page");
		IOF_ASSERT(t.f, !t.h->dont_flush[0], "dont_flush left set");
		lookup_expect(&t, pfn, pages, pfn);
		dma_expect(&t, pfn + 40, pfn + 40, "identity after set-up");
		/* Afterwards, flushing is back: a remap invalidates. */
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, pfn, MFN_B, 0, 3), 0);
		expect_one(&t, expect_flush(&t, pfn, 1), "remap after set-up");
		fin(&t);
	}
}
END_TEST

/* ---- the error path ----------------------------------------------------- */

/* Leaves exactly `keep` frames in the machine's allocator. */
static void starve(struct t *t, unsigned keep)
{
	uint64_t got[64], n = 0;
	for (;;) {
		uint64_t pfn = machine_alloc_frame(&t->f->m, 0);
		if (pfn == UINT64_MAX)
			break;
		if (n < keep)
			got[n++] = pfn;
	}
	ck_assert_uint_eq(n, keep);
	for (uint64_t i = 0; i < n; i++)
		ck_assert(machine_free_frame(&t->f->m, 0, got[i]));
}

/* Frames run out part-way: a fresh 4-level domain needs an L3, an L2 and
 * an L1 table for the first 512 pages and a second L1 table for the next
 * 512; with 3 frames left, an order-10 map maps 512 pages and fails on the
 * 513th. The seed's error path: unmap what was mapped, flush the whole
 * domain, crash a non-hardware domain (not the hardware domain), return
 * the error; then the loop's own end-of-operation flush. */
START_TEST(error_path_frames)
{
	for (int hwdom = 0; hwdom <= 1; hwdom++) {
		struct iof_cfg c = {.hw = (enum iof_hw)_i};
		struct t t = setup(&c, hwdom);
		iof_tag(t.f, "ENOMEM part-way, %s domain", hwdom ? "hardware" : "guest");
		dma_expect(&t, 7, UINT64_MAX, "before");
		starve(&t, 3);
		struct hv_iommu_stats s0 = t.h->st;
		iof_mark(t.f);
		int rc = hv_iommu_map(t.h, 0, t.d, 0, MFN_A, 10, 3);
		IOF_ASSERT(t.f, rc == -ENOMEM, "rc %d", rc);
		IOF_ASSERT(t.f, t.h->st.pages_mapped == s0.pages_mapped + 512, "mapped %" PRIu64
		           " before the failure", t.h->st.pages_mapped - s0.pages_mapped);
		IOF_ASSERT(t.f, t.h->st.errors == s0.errors + 1, "one error");
		IOF_ASSERT(t.f, t.d->crashed == !hwdom, "crashed %d", t.d->crashed);
		IOF_ASSERT(t.f, t.h->st.flush_all_calls == s0.flush_all_calls + 1, "flush-all");
		struct iof_inv want[2] = {flush_all(&t), expect_flush(&t, 0, 1024)};
		/* The end flush carries the highest type seen (ADDED on VT-d,
		 * NONE on AMD): only CM=1 invalidates for it. */
		expect_invs(&t, want, t.hw == IOF_VTD_CM1 ? 2 : 1, "error path");
		lookup_expect(&t, 0, 1024, UINT64_MAX);
		dma_expect(&t, 7, UINT64_MAX, "after the failed map");
		dma_expect(&t, 511, UINT64_MAX, "after the failed map");
		fin(&t);
	}
}
END_TEST

/* A DFN above the address width (3 levels: 39 bits, dfn < 2^27): the very
 * first page fails, nothing is mapped, the error path still flushes all
 * and crashes a guest domain. (An aligned range cannot cross the top: the
 * top is a multiple of every order's size.) */
START_TEST(error_path_width)
{
	for (int hwdom = 0; hwdom <= 1; hwdom++) {
		struct iof_cfg c = {.hw = (enum iof_hw)_i, .levels = 3};
		struct t t = setup(&c, hwdom);
		iof_tag(t.f, "above the width, %s domain", hwdom ? "hardware" : "guest");
		struct hv_iommu_stats s0 = t.h->st;
		iof_mark(t.f);
		int rc = hv_iommu_map(t.h, 0, t.d, 1ull << 27, MFN_A, 9, 3);
		IOF_ASSERT(t.f, rc == -EINVAL, "rc %d", rc);
		IOF_ASSERT(t.f, t.h->st.pages_mapped == s0.pages_mapped, "nothing mapped");
		IOF_ASSERT(t.f, t.d->crashed == !hwdom, "crashed %d", t.d->crashed);
		struct iof_inv want[1] = {flush_all(&t)};
		expect_invs(&t, want, 1, "error path");
		/* Just below the top still works. */
		ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, (1ull << 27) - 512, MFN_A, 9, 3), 0);
		dma_expect(&t, (1ull << 27) - 1, MFN_A + 511, "top page");
		fin(&t);
	}
}
END_TEST

/* ---- deferred unmap ---------------------------------------------------- */

START_TEST(deferred_unmap)
{
	for (int noel = 0; noel <= 1; noel++) {
		struct iof_cfg c = {.hw = (enum iof_hw)_i, .deferred = true, .batch = 4,
		                    .no_elide = noel};
		struct t t = setup(&c, false);
		iof_tag(t.f, "deferred batch 4 %s", noel ? "no-elide" : "elide");
		for (uint64_t i = 0; i < 8; i++) {
			ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x100 + i, MFN_A + i, 0, 3), 0);
			dma_expect(&t, 0x100 + i, MFN_A + i, "map");
		}
		iof_mark(t.f);
		for (uint64_t i = 0; i < 3; i++)
			ck_assert_int_eq(hv_iommu_unmap(t.h, 0, t.d, 0x100 + i, 0), 0);
		expect_none(&t, "three unmaps queued");
		lookup_expect(&t, 0x100, 3, UINT64_MAX);
		/* Until the batch flush, the IOTLB may still serve the old
		 * frame: that is the deferred mode's window (Linux lazy). */
		iotlb_expect(&t, 0x100, MFN_A, "queued, still cached");
		ck_assert_int_eq(hv_iommu_unmap(t.h, 0, t.d, 0x103, 0), 0);
		expect_one(&t, flush_all(&t), "the fourth fills the batch: one flush-all");
		for (uint64_t i = 0; i < 4; i++)
			dma_expect(&t, 0x100 + i, UINT64_MAX, "after the batch flush");
		/* The explicit flush (the flush queue's timer). */
		iof_mark(t.f);
		ck_assert_int_eq(hv_iommu_flush_deferred(t.h, 0, t.d), 0);
		expect_none(&t, "nothing pending");
		ck_assert_int_eq(hv_iommu_unmap(t.h, 0, t.d, 0x105, 1), -EINVAL); /* misaligned */
		ck_assert_int_eq(hv_iommu_unmap(t.h, 0, t.d, 0x104, 0), 0);
		expect_none(&t, "one queued");
		ck_assert_int_eq(hv_iommu_flush_deferred(t.h, 0, t.d), 0);
		expect_one(&t, flush_all(&t), "timer flush");
		dma_expect(&t, 0x104, UINT64_MAX, "after the timer flush");
		dma_expect(&t, 0x105, MFN_A + 5, "still mapped");
		fin(&t);
	}
}
END_TEST

/* ---- device assignment: context entries and caching mode --------------- */

START_TEST(assign_caching_mode)
{
	struct iof_cfg c = {.hw = (enum iof_hw)_i};
	struct iof *f = iof_new(&c);
	struct hv_iommu *h = iof_hv(f);
	struct hv_iommu_domain *d0 = hv_iommu_domain_create(h, 0, false);
	struct hv_iommu_domain *d1 = hv_iommu_domain_create(h, 0, false);
	ck_assert(d0 && d1);
	uint16_t sid = IOMMU_SID(0, 5, 2);
	iof_tag(f, "assign a fresh device");
	iof_mark(f);
	ck_assert_int_eq(hv_iommu_assign(h, 0, d0, sid), 0);
	int did0 = iof_hw_did(f, sid);
	IOF_ASSERT(f, did0 > 0, "DID %d (0 is reserved under CM)", did0);
	unsigned ndevc = iof_count(f, IOINV_DEVC_DEVICE), niotlb = iof_iotlb_invs(f);
	if (c.hw == IOF_VTD_CM0) {
		/* Not-present context entries are not cached: nothing to do. */
		IOF_ASSERT(f, f->ninv == 0, "%u invalidations", f->ninv);
	} else if (c.hw == IOF_VTD_CM1) {
		/* CM=1 may cache the not-present context entry, under DID 0
		 * (hw-facts §1.3 "Domain-id detail"): a device-selective
		 * context-cache invalidation with DID 0, and the IOTLB of DID 0. */
		IOF_ASSERT(f, ndevc == 1 && niotlb == 1, "devc %u iotlb %u", ndevc, niotlb);
		IOF_ASSERT(f, f->inv[0].kind == IOINV_DEVC_DEVICE && f->inv[0].did == 0 &&
		                  f->inv[0].base == sid,
		           "CC inv did %u sid %#" PRIx64, f->inv[0].did, f->inv[0].base);
		IOF_ASSERT(f, f->inv[2].kind == IOINV_IOTLB_DOMAIN && f->inv[2].did == 0,
		           "IOTLB inv kind %u did %u", f->inv[2].kind, f->inv[2].did);
	} else {
		/* AMD-Vi: INVALIDATE_DEVTAB_ENTRY for the device, always. */
		IOF_ASSERT(f, ndevc == 1 && niotlb == 0 && f->inv[0].base == sid,
		           "devc %u iotlb %u", ndevc, niotlb);
	}
	iof_expect_waits(f);
	/* Moving the device to another domain changes a present entry: the
	 * old DID's cached context and translations must go (VT-d). */
	iof_tag(f, "re-assign");
	iof_mark(f);
	ck_assert_int_eq(hv_iommu_assign(h, 0, d1, sid), 0);
	int did1 = iof_hw_did(f, sid);
	IOF_ASSERT(f, did1 > 0 && did1 != did0, "DIDs %d %d", did0, did1);
	if (c.hw != IOF_AMD) {
		IOF_ASSERT(f, f->inv[0].kind == IOINV_DEVC_DEVICE && f->inv[0].did == did0,
		           "CC inv kind %u did %u, expected old DID %d", f->inv[0].kind,
		           f->inv[0].did, did0);
		IOF_ASSERT(f, iof_count(f, IOINV_IOTLB_DOMAIN) == 1 && f->inv[2].did == did0,
		           "IOTLB DSI of the old DID");
	} else {
		IOF_ASSERT(f, iof_count(f, IOINV_DEVC_DEVICE) == 1, "INVALIDATE_DEVTAB_ENTRY");
	}
	iof_expect_waits(f);
	/* DMA now lands in d1's mappings, not d0's. */
	ck_assert_int_eq(hv_iommu_map(h, 0, d0, 0x10, MFN_A, 0, 3), 0);
	ck_assert_int_eq(hv_iommu_map(h, 0, d1, 0x10, MFN_B, 0, 3), 0);
	int dev = dma_device_add(&f->w->dma, sid, 0);
	struct dma_result r = dma_transfer(&f->w->dma, (uint32_t)dev, 0x10000, 4096, true, 0);
	IOF_ASSERT(f, r.ok == 1 && r.first_pa == MFN_B << 12, "DMA pa %#" PRIx64, r.first_pa);
	IOF_ASSERT(f, f->checks == 0, "runner check fired");
	iof_free(f);
}
END_TEST

/* CM=1, the scenario: a DMA before the map caches not-present; after the
 * (fresh, ADDED) map returns, the DMA must succeed: the PSI the CM=1
 * driver issues for ADDED is what removes the cached fault. */
START_TEST(cm1_cached_not_present)
{
	struct t t = setup_hw(IOF_VTD_CM1);
	dma_expect(&t, 0x1234, UINT64_MAX, "before map");
	struct ioenv_verdict v = ioenv_check(&t.f->w->unit.env, t.did, 0x1234ull << 12, false,
	                                     MFN_A << 12, 3);
	IOF_ASSERT(t.f, v.may_np, "CM=1: the not-present result is cached");
	iof_mark(t.f);
	ck_assert_int_eq(hv_iommu_map(t.h, 0, t.d, 0x1234, MFN_A, 0, 3), 0);
	expect_one(&t, expect_flush(&t, 0x1234, 1), "CM=1 ADDED");
	dma_expect(&t, 0x1234, MFN_A, "after map");
	fin(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hv_iommu");
	TCase *tc = tcase_create("paths");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, map_fresh_orders, 0, IOF_NHW);
	tcase_add_loop_test(tc, remap_orders, 0, IOF_NHW);
	tcase_add_loop_test(tc, identical_remap, 0, IOF_NHW);
	tcase_add_loop_test(tc, mixed_types_highest, 0, IOF_NHW);
	tcase_add_loop_test(tc, unmap_orders, 0, IOF_NHW);
	tcase_add_loop_test(tc, order18_sanity, 0, IOF_NHW);
	tcase_add_loop_test(tc, flush_granularity, 0, IOF_NHW);
	tcase_add_test(tc, amd_widened_range);
	tcase_add_loop_test(tc, elision_off, 0, IOF_NHW);
	tcase_add_loop_test(tc, dont_flush_per_cpu, 0, IOF_NHW);
	tcase_add_loop_test(tc, hwdom_init_batch, 0, IOF_NHW);
	tcase_add_loop_test(tc, error_path_frames, 0, IOF_NHW);
	tcase_add_loop_test(tc, error_path_width, 0, IOF_NHW);
	tcase_add_loop_test(tc, deferred_unmap, 0, IOF_NHW);
	tcase_add_loop_test(tc, assign_caching_mode, 0, IOF_NHW);
	tcase_add_test(tc, cm1_cached_not_present);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return testutil_run(suite()); }
