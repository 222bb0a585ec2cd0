/* VT-d suite (sim/iommu/vtd.c): legacy-mode translation through root and
 * context tables (spec §9.1, §9.3) and second-level tables, the context
 * cache and the domain-tagged IOTLB, queued invalidation (§6.5.2: types 1,
 * 2, 5), caching mode (§6.1) and the fault log.
 *
 * Tables are real entries in simulated memory written here with
 * mem_write64; expected values come from the rules in hw-facts.md §1.3,
 * not from the model under test.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"
#include "sim/iommu/iommu.h"
#include "sim/machine.h"
#include "tests/testutil.h"

#define VX_FRAMES 4096u
#define VX_MAX_DID 8u

#define SID_A IOMMU_SID(0, 3, 0)  /* bus 0 dev 3 fn 0 */
#define SID_B IOMMU_SID(0, 4, 0)
#define SID_C IOMMU_SID(1, 0, 0)  /* bus 1: no root entry unless set */

#define IOVA_4K 0x0000000010000000ull
#define IOVA_2M 0x0000000040000000ull
#define IOVA_1G 0x0000008000000000ull
#define PA_2M 0x0000000100600000ull
#define PA_1G 0x0000004000000000ull
#define RW (VTD_SL_R | VTD_SL_W)

struct vx {
	struct machine m;
	struct iommu io;
	uint64_t root;             /* root table */
	uint64_t ctx[2];           /* context tables of bus 0 and 1 (0: none) */
	uint64_t slroot[VX_MAX_DID]; /* second-level PML4 per domain */
	uint64_t status;           /* a frame for wait status writes */
};

static uint64_t vx_alloc(struct vx *x)
{
	uint64_t pfn = machine_alloc_frame(&x->m, -1);
	ck_assert_uint_ne(pfn, UINT64_MAX);
	return pfn << PAGE_SHIFT;
}

static struct vx *vx_new_cfg(bool cm, uint32_t iotlb_entries, uint32_t iotlb_ways)
{
	struct vx *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	struct profile p;
	struct sc_error err;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(profile_load_named("skylake", &p, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(machine_init(&x->m, &p, 1, VX_FRAMES, 42), 0);
	x->root = vx_alloc(x);
	x->status = vx_alloc(x);
	struct vtd_config cfg = {
		.rtaddr = x->root, .iq_base = vx_alloc(x), .iq_x = 0,
		.caching_mode = cm, .iotlb_entries = iotlb_entries,
		.iotlb_ways = iotlb_ways,
	};
	ck_assert_int_eq(vtd_init(&x->io, &x->m, &cfg), 0);
	return x;
}

static struct vx *vx_new(bool cm)
{
	return vx_new_cfg(cm, 0, 0);
}

static void vx_free(struct vx *x)
{
	iommu_fini(&x->io);
	machine_fini(&x->m);
	free(x);
}

static uint64_t vx_slroot(struct vx *x, uint16_t did)
{
	ck_assert_uint_lt(did, VX_MAX_DID);
	if (!x->slroot[did])
		x->slroot[did] = vx_alloc(x);
	return x->slroot[did];
}

/* Context entry of sid -> domain did (AW 48-bit, or aw given), creating
 * the bus's context table and root entry on first use. */
static void vx_ctx_aw(struct vx *x, uint16_t sid, uint16_t did, unsigned aw)
{
	unsigned bus = sid >> 8;
	ck_assert_uint_lt(bus, 2);
	if (!x->ctx[bus]) {
		x->ctx[bus] = vx_alloc(x);
		mem_write64(&x->m.mem, x->root + 16ull * bus, vtd_root_lo(x->ctx[bus]));
	}
	uint64_t ce = x->ctx[bus] + 16ull * (sid & 0xff);
	mem_write64(&x->m.mem, ce + 8, vtd_ctx_hi(aw, did));
	mem_write64(&x->m.mem, ce, vtd_ctx_lo(vx_slroot(x, did), VTD_TT_SL));
}

static void vx_ctx(struct vx *x, uint16_t sid, uint16_t did)
{
	vx_ctx_aw(x, sid, did, VTD_AW_48);
}

/* Writes the leaf for iova of size 2^log2 in domain did (levels 4..),
 * creating intermediate tables with R|W. leaf_val 0 makes it not
 * present. Returns the leaf's address. */
static uint64_t vx_set(struct vx *x, uint16_t did, unsigned levels, uint64_t iova,
                       unsigned log2, uint64_t leaf_val)
{
	uint64_t table = vx_slroot(x, did);
	for (unsigned level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t pa = table + 8 * ((iova >> shift) & 511);
		if (shift == log2) {
			mem_write64(&x->m.mem, pa, leaf_val);
			return pa;
		}
		uint64_t e = mem_read64(&x->m.mem, pa);
		if (!(e & RW)) {
			e = vx_alloc(x) | RW;
			mem_write64(&x->m.mem, pa, e);
		}
		table = e & VTD_ADDR_MASK;
	}
	ck_abort_msg("no level of size %u", log2);
	return 0;
}

static uint64_t vx_map(struct vx *x, uint16_t did, uint64_t iova, uint64_t pa,
                       unsigned log2, uint64_t perm)
{
	uint64_t v = pa | perm | (log2 > 12 ? VTD_SL_PS : 0);
	return vx_set(x, did, 4, iova, log2, v);
}

static struct iommu_xlate vx_dma(struct vx *x, uint16_t sid, uint64_t iova, unsigned acc)
{
	return iommu_translate(&x->io, sid, iova, acc);
}

/* DMA that must succeed with pa. */
static void vx_ok(struct vx *x, uint16_t sid, uint64_t iova, unsigned acc, uint64_t pa)
{
	struct iommu_xlate r = vx_dma(x, sid, iova, acc);
	ck_assert_msg(r.fault == IOMMU_OK, "iova %#llx fault %u", (unsigned long long)iova,
	              r.fault);
	ck_assert_uint_eq(r.pa, pa);
}

static void vx_fault(struct vx *x, uint16_t sid, uint64_t iova, unsigned acc, int f)
{
	struct iommu_xlate r = vx_dma(x, sid, iova, acc);
	ck_assert_int_eq(r.fault, f);
}

/* Submits one descriptor and processes the whole queue. */
static void vx_inv(struct vx *x, struct iommu_cmd c)
{
	ck_assert_int_eq(iommu_submit(&x->io, &c), 0);
	ck_assert_uint_eq(iommu_process(&x->io, 1024), 1);
	ck_assert(!x->io.q.error);
}

static void vx_psi(struct vx *x, uint16_t did, uint64_t addr, unsigned am)
{
	vx_inv(x, vtd_desc_iotlb(VTD_G_DEVICE_OR_PAGE, did, addr, am, false));
}

/* Translation -------------------------------------------------------------- */

/* 4K, 2M (PS at level 2) and 1G (PS at level 3) mappings translate with
 * the page offset kept; the first DMA walks, the next ones hit. */
START_TEST(xlate_page_sizes)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	uint64_t frame = vx_alloc(x);
	vx_map(x, 1, IOVA_4K, frame, 12, RW);
	vx_map(x, 1, IOVA_2M, PA_2M, 21, RW);
	vx_map(x, 1, IOVA_1G, PA_1G, 30, RW);

	struct iommu_xlate r = vx_dma(x, SID_A, IOVA_4K + 0x123, IOMMU_ACC_READ);
	ck_assert_int_eq(r.fault, IOMMU_OK);
	ck_assert_int_eq(r.path, IOMMU_PATH_WALK);
	ck_assert_uint_eq(r.pa, frame + 0x123);
	ck_assert_uint_eq(r.did, 1);
	r = vx_dma(x, SID_A, IOVA_4K + 0xfff, IOMMU_ACC_WRITE);
	ck_assert_int_eq(r.path, IOMMU_PATH_HIT);
	ck_assert_uint_eq(r.pa, frame + 0xfff);

	vx_ok(x, SID_A, IOVA_2M + 0x12345, IOMMU_ACC_READ, PA_2M + 0x12345);
	r = vx_dma(x, SID_A, IOVA_2M + 0x1fffff, IOMMU_ACC_READ);
	ck_assert_int_eq(r.path, IOMMU_PATH_HIT);
	ck_assert_uint_eq(r.pa, PA_2M + 0x1fffff);

	vx_ok(x, SID_A, IOVA_1G + 0x3fffffff, IOMMU_ACC_WRITE, PA_1G + 0x3fffffff);
	r = vx_dma(x, SID_A, IOVA_1G + 0x1234567, IOMMU_ACC_READ);
	ck_assert_int_eq(r.path, IOMMU_PATH_HIT);
	ck_assert_uint_eq(r.pa, PA_1G + 0x1234567);

	/* One IOTLB entry per mapping: 3 walks, 3 hits, 4 reads for 4K,
	 * 3 for 2M, 2 for 1G. */
	ck_assert_uint_eq(x->io.st.walks, 3);
	ck_assert_uint_eq(x->io.st.iotlb_hits, 3);
	ck_assert_uint_eq(x->io.st.walk_reads, 4 + 3 + 2);
	ck_assert_uint_eq(x->io.nfaults, 0);
	vx_free(x);
}
END_TEST

/* AW=1: a 3-level (39-bit) domain; an IOVA at or above 2^39 is an
 * address fault (reason 4). */
START_TEST(xlate_aw39)
{
	struct vx *x = vx_new(false);
	vx_ctx_aw(x, SID_A, 1, VTD_AW_39);
	uint64_t frame = vx_alloc(x);
	vx_set(x, 1, 3, IOVA_4K, 12, frame | RW);
	vx_ok(x, SID_A, IOVA_4K + 8, IOMMU_ACC_READ, frame + 8);
	ck_assert_uint_eq(x->io.st.walk_reads, 3);
	vx_fault(x, SID_A, 1ull << 39, IOMMU_ACC_READ, IOMMU_F_ADDR);
	ck_assert_uint_eq(x->io.faults[0].hw_reason, 4);
	vx_free(x);
}
END_TEST

/* Pass-through context (TT=10b): pa = iova, nothing cached in the IOTLB. */
START_TEST(xlate_passthrough)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	uint64_t ce = x->ctx[0] + 16ull * (SID_A & 0xff);
	mem_write64(&x->m.mem, ce, vtd_ctx_lo(0, VTD_TT_PASS));
	struct iommu_xlate r = vx_dma(x, SID_A, 0x123456789ull, IOMMU_ACC_WRITE);
	ck_assert_int_eq(r.fault, IOMMU_OK);
	ck_assert_int_eq(r.path, IOMMU_PATH_PASS);
	ck_assert_uint_eq(r.pa, 0x123456789ull);
	ck_assert_uint_eq(x->io.st.iotlb_fills, 0);
	vx_free(x);
}
END_TEST

/* Faults ------------------------------------------------------------------- */

/* W=0 in the leaf: reads pass, writes fault with reason 5; W=0 in a
 * non-leaf entry restricts every page below it. */
START_TEST(fault_write_to_readonly)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	uint64_t frame = vx_alloc(x);
	vx_map(x, 1, IOVA_4K, frame, 12, VTD_SL_R);
	vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, frame);
	vx_fault(x, SID_A, IOVA_4K + 4, IOMMU_ACC_WRITE, IOMMU_F_PERM);
	vx_fault(x, SID_A, IOVA_4K, IOMMU_ACC_READ | IOMMU_ACC_WRITE, IOMMU_F_PERM);
	ck_assert_uint_eq(x->io.nfaults, 2);
	ck_assert_uint_eq(x->io.faults[0].sid, SID_A);
	ck_assert_uint_eq(x->io.faults[0].iova, IOVA_4K + 4);
	ck_assert_uint_eq(x->io.faults[0].reason, IOMMU_F_PERM);
	ck_assert_uint_eq(x->io.faults[0].hw_reason, 5);
	ck_assert_uint_eq(x->io.faults[0].write, 1);

	/* Non-leaf: clear W in the level-2 entry above IOVA_2M's 4K page. */
	uint64_t f2 = vx_alloc(x);
	vx_map(x, 1, IOVA_2M, f2, 12, RW);
	uint64_t pde = vx_set(x, 1, 4, IOVA_2M, 21, 0);
	/* vx_set wrote 0 at level 2: restore the link with R only. */
	uint64_t pt = vx_alloc(x);
	mem_write64(&x->m.mem, pde, pt | VTD_SL_R);
	mem_write64(&x->m.mem, pt, f2 | RW);
	vx_ok(x, SID_A, IOVA_2M, IOMMU_ACC_READ, f2);
	vx_fault(x, SID_A, IOVA_2M, IOMMU_ACC_WRITE, IOMMU_F_PERM);
	vx_free(x);
}
END_TEST

/* Not-present second-level entry, context entry and root entry each
 * fault and are recorded with source-id, IOVA and reason. */
START_TEST(fault_not_present_recorded)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	vx_fault(x, SID_A, IOVA_4K, IOMMU_ACC_READ, IOMMU_F_PTE_NP);
	vx_fault(x, SID_B, IOVA_4K, IOMMU_ACC_WRITE, IOMMU_F_CTX_NP);
	vx_fault(x, SID_C, 0x5000, IOMMU_ACC_READ, IOMMU_F_ROOT_NP);
	ck_assert_uint_eq(x->io.nfaults, 3);
	const struct iommu_fault_rec *f = x->io.faults;
	ck_assert_uint_eq(f[0].sid, SID_A);
	ck_assert_uint_eq(f[0].iova, IOVA_4K);
	ck_assert_uint_eq(f[0].reason, IOMMU_F_PTE_NP);
	ck_assert_uint_eq(f[0].hw_reason, 6);
	ck_assert_uint_eq(f[0].did, 1);
	ck_assert_uint_eq(f[1].sid, SID_B);
	ck_assert_uint_eq(f[1].reason, IOMMU_F_CTX_NP);
	ck_assert_uint_eq(f[1].hw_reason, 2);
	ck_assert_uint_eq(f[2].sid, SID_C);
	ck_assert_uint_eq(f[2].iova, 0x5000);
	ck_assert_uint_eq(f[2].hw_reason, 1);
	/* CM=0: nothing not-present was cached. */
	ck_assert_uint_eq(x->io.st.iotlb_fills, 0);
	vx_free(x);
}
END_TEST

/* The log is bounded: further faults are counted as dropped (PFO). */
START_TEST(fault_log_bounded)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	for (unsigned i = 0; i < IOMMU_FAULT_LOG + 8; i++)
		vx_fault(x, SID_A, IOVA_4K + 0x1000ull * i, IOMMU_ACC_READ, IOMMU_F_PTE_NP);
	ck_assert_uint_eq(x->io.nfaults, IOMMU_FAULT_LOG);
	ck_assert_uint_eq(x->io.st.faults, IOMMU_FAULT_LOG + 8);
	ck_assert_uint_eq(x->io.st.faults_dropped, 8);
	ck_assert_uint_eq(x->io.vtd.pfo, 1);
	iommu_reset(&x->io);
	ck_assert_uint_eq(x->io.nfaults, 0);
	ck_assert_uint_eq(x->io.vtd.pfo, 0);
	vx_free(x);
}
END_TEST

/* IOTLB -------------------------------------------------------------------- */

START_TEST(iotlb_hit_after_first)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	uint64_t frame = vx_alloc(x);
	vx_map(x, 1, IOVA_4K, frame, 12, RW);
	vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, frame);
	ck_assert_uint_eq(x->io.st.iotlb_hits, 0);
	ck_assert_uint_eq(x->io.st.iotlb_misses, 1);
	ck_assert_uint_eq(x->io.st.ctxc_misses, 1);
	vx_ok(x, SID_A, IOVA_4K + 0x10, IOMMU_ACC_WRITE, frame + 0x10);
	ck_assert_uint_eq(x->io.st.iotlb_hits, 1);
	ck_assert_uint_eq(x->io.st.iotlb_misses, 1);
	ck_assert_uint_eq(x->io.st.ctxc_hits, 1);
	/* Costs (§8): one miss, one hit. */
	ck_assert_uint_eq(x->io.st.cycles, x->m.prof.iommu_iotlb_miss + IOMMU_COST_IOTLB_HIT);
	vx_free(x);
}
END_TEST

/* A changed PTE keeps being served from the IOTLB (stale) until a
 * page-selective invalidation covering it: AM=2 covers the 4 naturally
 * aligned pages, and nothing outside them or in another domain. */
START_TEST(iotlb_stale_until_psi)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	vx_ctx(x, SID_B, 2);
	uint64_t base = IOVA_4K; /* 16 KiB aligned */
	uint64_t fr[5], fb = vx_alloc(x);
	for (unsigned i = 0; i < 5; i++) {
		fr[i] = vx_alloc(x);
		vx_map(x, 1, base + 0x1000ull * i, fr[i], 12, RW);
		vx_ok(x, SID_A, base + 0x1000ull * i, IOMMU_ACC_READ, fr[i]);
	}
	vx_map(x, 2, base + 0x2000, fb, 12, RW);
	vx_ok(x, SID_B, base + 0x2000, IOMMU_ACC_READ, fb);

	uint64_t nf = vx_alloc(x);
	vx_map(x, 1, base + 0x2000, nf, 12, RW);
	struct iommu_xlate r = vx_dma(x, SID_A, base + 0x2000, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.pa, fr[2]);
	ck_assert_int_eq(r.stale, 1);

	vx_psi(x, 1, base, 0); /* page 0 only */
	vx_ok(x, SID_A, base + 0x2000, IOMMU_ACC_READ, fr[2]);

	uint64_t hits = x->io.st.iotlb_hits;
	vx_psi(x, 1, base, 2); /* pages 0..3 */
	vx_ok(x, SID_A, base + 0x2000, IOMMU_ACC_READ, nf);
	vx_ok(x, SID_A, base + 0x4000, IOMMU_ACC_READ, fr[4]); /* outside: hit */
	vx_ok(x, SID_B, base + 0x2000, IOMMU_ACC_READ, fb);    /* domain 2: hit */
	ck_assert_uint_eq(x->io.st.iotlb_hits, hits + 2);
	ck_assert_uint_eq(x->io.st.inv_iotlb_page, 2);
	vx_free(x);
}
END_TEST

/* A PSI inside a 2M page removes the 2M entry (overlap). */
START_TEST(iotlb_psi_hits_superpage)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	vx_map(x, 1, IOVA_2M, PA_2M, 21, RW);
	vx_ok(x, SID_A, IOVA_2M, IOMMU_ACC_READ, PA_2M);
	vx_psi(x, 1, IOVA_2M + 0x5000, 0);
	ck_assert_uint_eq(x->io.st.iotlb_inv_entries, 1);
	struct iommu_xlate r = vx_dma(x, SID_A, IOVA_2M + 8, IOMMU_ACC_READ);
	ck_assert_int_eq(r.path, IOMMU_PATH_WALK);
	vx_free(x);
}
END_TEST

/* Domain-selective removes only that DID; global removes all. */
START_TEST(iotlb_domain_and_global)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	vx_ctx(x, SID_B, 2);
	uint64_t fa = vx_alloc(x), fb = vx_alloc(x);
	vx_map(x, 1, IOVA_4K, fa, 12, RW);
	vx_map(x, 2, IOVA_4K, fb, 12, RW);
	vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, fa);
	vx_ok(x, SID_B, IOVA_4K, IOMMU_ACC_READ, fb);

	vx_inv(x, vtd_desc_iotlb(VTD_G_DOMAIN, 1, 0, 0, false));
	ck_assert_int_eq(vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ck_assert_int_eq(vx_dma(x, SID_B, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_HIT);

	vx_inv(x, vtd_desc_iotlb(VTD_G_GLOBAL, 0, 0, 0, false));
	ck_assert_int_eq(vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ck_assert_int_eq(vx_dma(x, SID_B, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ck_assert_uint_eq(x->io.st.inv_iotlb_domain, 1);
	ck_assert_uint_eq(x->io.st.inv_iotlb_global, 1);
	vx_free(x);
}
END_TEST

/* A set of 4 ways (one set): the fifth page evicts the least recently
 * used, deterministically. */
START_TEST(iotlb_lru)
{
	struct vx *x = vx_new_cfg(false, 4, 4);
	vx_ctx(x, SID_A, 1);
	uint64_t f[5];
	for (unsigned i = 0; i < 5; i++) {
		f[i] = vx_alloc(x);
		vx_map(x, 1, IOVA_4K + 0x1000ull * i, f[i], 12, RW);
	}
	for (unsigned i = 0; i < 4; i++)
		vx_ok(x, SID_A, IOVA_4K + 0x1000ull * i, IOMMU_ACC_READ, f[i]);
	vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, f[0]); /* page 0 most recent */
	vx_ok(x, SID_A, IOVA_4K + 0x4000, IOMMU_ACC_READ, f[4]); /* evicts page 1 */
	ck_assert_uint_eq(x->io.st.iotlb_evictions, 1);
	ck_assert_int_eq(vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_HIT);
	ck_assert_int_eq(vx_dma(x, SID_A, IOVA_4K + 0x1000, IOMMU_ACC_READ).path,
	                 IOMMU_PATH_WALK);
	vx_free(x);
}
END_TEST

/* Context cache ------------------------------------------------------------ */

/* Moving a device to another domain takes effect only after a
 * context-cache invalidation that covers the cached entry (its old DID). */
START_TEST(ctxc_needs_invalidation)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	uint64_t f1 = vx_alloc(x), f2 = vx_alloc(x);
	vx_map(x, 1, IOVA_4K, f1, 12, RW);
	vx_map(x, 2, IOVA_4K, f2, 12, RW);
	vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, f1);

	vx_ctx(x, SID_A, 2);
	struct iommu_xlate r = vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.did, 1);
	ck_assert_uint_eq(r.pa, f1);
	ck_assert_int_eq(r.stale, 1);

	/* Wrong DID, another device, IOTLB-only: none removes it. */
	vx_inv(x, vtd_desc_cc(VTD_G_DOMAIN, 2, 0, 0));
	vx_inv(x, vtd_desc_cc(VTD_G_DEVICE_OR_PAGE, 1, SID_B, 0));
	vx_inv(x, vtd_desc_iotlb(VTD_G_DOMAIN, 1, 0, 0, false));
	ck_assert_uint_eq(vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ).did, 1);

	/* Device-selective with FM=3 (all functions of dev 3) and old DID. */
	vx_inv(x, vtd_desc_cc(VTD_G_DEVICE_OR_PAGE, 1, (uint16_t)(SID_A | 5), 3));
	r = vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.did, 2);
	ck_assert_uint_eq(r.pa, f2);
	ck_assert_int_eq(r.stale, 0);
	ck_assert_uint_eq(x->io.st.ctxc_inv_entries, 1);

	/* Domain- and global granularity. */
	vx_ctx(x, SID_A, 1);
	vx_inv(x, vtd_desc_cc(VTD_G_DOMAIN, 2, 0, 0));
	ck_assert_uint_eq(vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ).did, 1);
	vx_ctx(x, SID_A, 2);
	vx_inv(x, vtd_desc_cc(VTD_G_GLOBAL, 0, 0, 0));
	ck_assert_uint_eq(vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ).did, 2);
	vx_free(x);
}
END_TEST

/* Caching mode (§6.1) ------------------------------------------------------ */

/* not-present -> present: usable at once with CM=0; with CM=1 the cached
 * not-present entry keeps faulting until a PSI for it. _i is CM. */
START_TEST(cm_not_present_to_present)
{
	bool cm = _i;
	struct vx *x = vx_new(cm);
	vx_ctx(x, SID_A, 1);
	vx_fault(x, SID_A, IOVA_4K, IOMMU_ACC_READ, IOMMU_F_PTE_NP);
	uint64_t frame = vx_alloc(x);
	vx_map(x, 1, IOVA_4K, frame, 12, RW);
	struct iommu_xlate r = vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ);
	if (!cm) {
		ck_assert_int_eq(r.fault, IOMMU_OK);
		ck_assert_uint_eq(r.pa, frame);
		ck_assert_uint_eq(x->io.st.iotlb_np_hits, 0);
	} else {
		ck_assert_int_eq(r.fault, IOMMU_F_PTE_NP);
		ck_assert_int_eq(r.path, IOMMU_PATH_NP_HIT);
		ck_assert_int_eq(r.stale, 1);
		ck_assert_uint_eq(x->io.nfaults, 2);
		vx_psi(x, 1, IOVA_4K, 0);
		vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, frame);
	}
	vx_free(x);
}
END_TEST

/* The same for a not-present context entry: under CM=1 it is cached with
 * DID 0, so only a flush with DID 0 (or global) removes it (hw-facts
 * §1.3, Xen c5c84e9766 / Linux 82653633b616). _i is CM. */
START_TEST(cm_context_not_present)
{
	bool cm = _i;
	struct vx *x = vx_new(cm);
	vx_ctx(x, SID_A, 1); /* creates bus 0's context table */
	uint64_t frame = vx_alloc(x);
	vx_map(x, 1, IOVA_4K, frame, 12, RW);
	vx_fault(x, SID_B, IOVA_4K, IOMMU_ACC_READ, IOMMU_F_CTX_NP);
	vx_ctx(x, SID_B, 1);
	struct iommu_xlate r = vx_dma(x, SID_B, IOVA_4K, IOMMU_ACC_READ);
	if (!cm) {
		ck_assert_int_eq(r.fault, IOMMU_OK);
	} else {
		ck_assert_int_eq(r.fault, IOMMU_F_CTX_NP);
		vx_inv(x, vtd_desc_cc(VTD_G_DEVICE_OR_PAGE, 1, SID_B, 0));
		vx_fault(x, SID_B, IOVA_4K, IOMMU_ACC_READ, IOMMU_F_CTX_NP);
		vx_inv(x, vtd_desc_cc(VTD_G_DEVICE_OR_PAGE, 0, SID_B, 0));
		vx_ok(x, SID_B, IOVA_4K, IOMMU_ACC_READ, frame);
		ck_assert_uint_eq(x->io.st.ctxc_np_hits, 2);
	}
	vx_free(x);
}
END_TEST

/* Queued invalidation ------------------------------------------------------ */

static uint32_t status32(struct vx *x, uint64_t pa)
{
	uint64_t q = mem_read64(&x->m.mem, pa & ~7ull);
	return (uint32_t)(q >> ((pa & 4) * 8));
}

/* The wait writes its status only when processed, after the descriptors
 * before it; a 32-bit write leaves the neighbouring word alone. */
START_TEST(qi_wait_in_order)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	uint64_t f1 = vx_alloc(x), f2 = vx_alloc(x);
	vx_map(x, 1, IOVA_4K, f1, 12, RW);
	vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, f1);
	vx_map(x, 1, IOVA_4K, f2, 12, RW);

	uint64_t st = x->status + 4;
	mem_write64(&x->m.mem, x->status, 0xaaaaaaaa11111111ull); /* INIT = 0xaaaaaaaa */
	struct iommu_cmd psi = vtd_desc_iotlb(VTD_G_DEVICE_OR_PAGE, 1, IOVA_4K, 0, false);
	struct iommu_cmd w = vtd_desc_wait(VTD_WAIT_SW | VTD_WAIT_FN, st, 0x600d);
	ck_assert_int_eq(iommu_submit(&x->io, &psi), 0);
	ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_uint_eq(x->io.q.tail, 2);
	ck_assert_uint_eq(status32(x, st), 0xaaaaaaaa);
	vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, f1); /* not processed yet */

	ck_assert_uint_eq(iommu_process(&x->io, 1), 1);
	ck_assert_uint_eq(x->io.q.head, 1);
	ck_assert_uint_eq(status32(x, st), 0xaaaaaaaa);
	vx_ok(x, SID_A, IOVA_4K, IOMMU_ACC_READ, f2);

	ck_assert_uint_eq(iommu_process(&x->io, 1), 1);
	ck_assert_uint_eq(status32(x, st), 0x600d);
	ck_assert_uint_eq(status32(x, x->status), 0x11111111);
	ck_assert_uint_eq(x->io.q.head, x->io.q.tail);
	ck_assert_uint_eq(iommu_process(&x->io, 1), 0);
	vx_free(x);
}
END_TEST

/* An invalid descriptor stops the queue (IQE): the wait behind it never
 * completes; reset clears the error. */
START_TEST(qi_invalid_stops)
{
	struct vx *x = vx_new(false);
	mem_write64(&x->m.mem, x->status, 1);
	struct iommu_cmd bad = {.lo = 0xf, .hi = 0};
	struct iommu_cmd big_am = vtd_desc_iotlb(VTD_G_DEVICE_OR_PAGE, 1, 0, 40, false);
	struct iommu_cmd w = vtd_desc_wait(VTD_WAIT_SW | VTD_WAIT_IF, x->status, 2);
	ck_assert_int_eq(iommu_submit(&x->io, &bad), 0);
	ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_uint_eq(iommu_process(&x->io, 10), 0);
	ck_assert(x->io.q.error);
	ck_assert_uint_eq(x->io.q.head, 0);
	ck_assert_uint_eq(status32(x, x->status), 1);
	iommu_reset(&x->io);
	ck_assert_int_eq(iommu_submit(&x->io, &big_am), 0); /* AM > MAMV */
	ck_assert_uint_eq(iommu_process(&x->io, 10), 0);
	ck_assert(x->io.q.error);
	iommu_reset(&x->io);
	ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_uint_eq(iommu_process(&x->io, 10), 1);
	ck_assert_uint_eq(status32(x, x->status), 2);
	ck_assert_uint_eq(x->io.vtd.iwc, 1);
	vx_free(x);
}
END_TEST

/* X=0: 256 slots, one kept empty to tell full from empty; wrap-around. */
START_TEST(qi_full_and_wrap)
{
	struct vx *x = vx_new(false);
	struct iommu_cmd w = vtd_desc_wait(0, 0, 0);
	for (unsigned i = 0; i < 255; i++)
		ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_int_eq(iommu_submit(&x->io, &w), -1);
	ck_assert_uint_eq(x->io.st.queue_full, 1);
	ck_assert_uint_eq(iommu_process(&x->io, 1000), 255);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_uint_eq(x->io.q.tail, 2);
	ck_assert_uint_eq(iommu_process(&x->io, 1000), 3);
	ck_assert_uint_eq(x->io.q.head, 2);
	vx_free(x);
}
END_TEST

/* Costs and determinism ---------------------------------------------------- */

/* A fixed mixed workload; returns its statistics. */
static void workload(bool cm, struct iommu_stats *st, struct iommu_fault_rec *faults,
                     uint32_t *nfaults)
{
	struct vx *x = vx_new_cfg(cm, 16, 4);
	vx_ctx(x, SID_A, 1);
	vx_ctx(x, SID_B, 2);
	for (unsigned i = 0; i < 64; i++) {
		uint64_t iova = IOVA_4K + 0x1000ull * ((i * 7) % 12);
		if (i % 3 == 0)
			vx_map(x, (uint16_t)(1 + i % 2), iova, vx_alloc(x), 12,
			       i % 5 ? RW : VTD_SL_R);
		(void)vx_dma(x, i % 2 ? SID_B : SID_A, iova,
		             i % 4 ? IOMMU_ACC_READ : IOMMU_ACC_WRITE);
		if (i % 16 == 15) {
			vx_psi(x, 1, IOVA_4K, 3);
			vx_inv(x, vtd_desc_wait(VTD_WAIT_SW, x->status, i));
		}
	}
	*st = x->io.st;
	*nfaults = x->io.nfaults;
	memcpy(faults, x->io.faults, sizeof(x->io.faults));
	vx_free(x);
}

START_TEST(determinism)
{
	struct iommu_stats a, b;
	struct iommu_fault_rec fa[IOMMU_FAULT_LOG], fb[IOMMU_FAULT_LOG];
	uint32_t na, nb;
	workload(_i, &a, fa, &na);
	workload(_i, &b, fb, &nb);
	ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
	ck_assert_uint_eq(na, nb);
	ck_assert_int_eq(memcmp(fa, fb, sizeof(fa)), 0);
	ck_assert_uint_gt(a.iotlb_hits, 0);
	if (_i)
		ck_assert_uint_gt(a.iotlb_np_hits, 0);
	ck_assert_uint_gt(a.faults, 0);
	ck_assert_uint_eq(a.waits, 4);
}
END_TEST

/* §8 costs: walk 1500, PSI 2500 (its wait 0), DSI 3000, CC 2500. */
START_TEST(cost_accounting)
{
	struct vx *x = vx_new(false);
	vx_ctx(x, SID_A, 1);
	vx_map(x, 1, IOVA_4K, vx_alloc(x), 12, RW);
	(void)vx_dma(x, SID_A, IOVA_4K, IOMMU_ACC_READ);
	vx_psi(x, 1, IOVA_4K, 0);
	vx_inv(x, vtd_desc_wait(VTD_WAIT_SW, x->status, 1));
	vx_inv(x, vtd_desc_iotlb(VTD_G_DOMAIN, 1, 0, 0, false));
	vx_inv(x, vtd_desc_cc(VTD_G_GLOBAL, 0, 0, 0));
	ck_assert_uint_eq(x->io.st.cycles, 1500 + 2500 + 0 + 3000 + 2500);
	vx_free(x);
}
END_TEST

static Suite *vtd_suite(void)
{
	Suite *s = suite_create("iommu_vtd");
	TCase *tc = tcase_create("translate");
	tcase_add_test(tc, xlate_page_sizes);
	tcase_add_test(tc, xlate_aw39);
	tcase_add_test(tc, xlate_passthrough);
	tcase_add_test(tc, fault_write_to_readonly);
	tcase_add_test(tc, fault_not_present_recorded);
	tcase_add_test(tc, fault_log_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("caches");
	tcase_add_test(tc, iotlb_hit_after_first);
	tcase_add_test(tc, iotlb_stale_until_psi);
	tcase_add_test(tc, iotlb_psi_hits_superpage);
	tcase_add_test(tc, iotlb_domain_and_global);
	tcase_add_test(tc, iotlb_lru);
	tcase_add_test(tc, ctxc_needs_invalidation);
	tcase_add_loop_test(tc, cm_not_present_to_present, 0, 2);
	tcase_add_loop_test(tc, cm_context_not_present, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("queue");
	tcase_add_test(tc, qi_wait_in_order);
	tcase_add_test(tc, qi_invalid_stops);
	tcase_add_test(tc, qi_full_and_wrap);
	tcase_add_loop_test(tc, determinism, 0, 2);
	tcase_add_test(tc, cost_accounting);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(vtd_suite());
}
