/* The VT-d driver (Xen xen/drivers/passthrough/vtd/iommu.c and qinval.c,
 * as the seed leaves them), over hv/arch.h only.
 *
 * Tables: a root table (one entry per bus) -> a context table per bus
 * (one entry per devfn: DID, address width, second-level table pointer)
 * -> second-level tables in the x86 format with R (bit 0) / W (bit 1); an
 * entry is present when R or W is set (VT-d §9.8). Only 4 KiB leaves are
 * written: like Xen at the seed's time, the driver never builds
 * superpages, and never frees intermediate tables before the domain dies.
 *
 * Invalidation: queued invalidation only (§6.5.2). Each flush queues its
 * descriptor and a wait descriptor with SW=1 and a fresh status datum,
 * bumps IQT, and polls the status slot, as Xen's invalidate_sync does.
 *
 * Flush elision (§6.1, hw-facts §1.3): with CAP.CM=0 the hardware caches
 * nothing not-present, so an ADDED entry needs no flush; with CM=1 it may
 * have cached the not-present result and must be told.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "hv/iommu/hw.h"

/* Hardware interface constants (VT-d spec; the hypervisor's own copy of
 * the architecture, as Xen's vtd/iommu.h is). */
#define REG_CAP 0x08
#define REG_GCMD 0x18
#define REG_RTADDR 0x20
#define REG_FSTS 0x34
#define REG_IQT 0x88
#define REG_IQA 0x90
#define CAP_CM (1ull << 7)
#define CAP_MAMV(c) ((unsigned)(((c) >> 48) & 0x3f))
#define GCMD_TE (1u << 31)
#define GCMD_SRTP (1u << 30)
#define GCMD_QIE (1u << 26)
#define FSTS_IQE (1u << 4)

#define E_P 1ull
#define E_R 1ull
#define E_W 2ull

#define DESC_CC 1ull
#define DESC_IOTLB 2ull
#define DESC_WAIT 5ull
#define G_GLOBAL 1ull
#define G_DOMAIN 2ull
#define G_PAGE 3ull
#define WAIT_SW (1ull << 5)
#define WAIT_FN (1ull << 6)
#define IQ_ENTRIES 256u
#define POLL_MAX 64u /* the model's hardware completes before IQT's write
                        returns; a bound, not a timeout policy */

/* ---- Queued invalidation ------------------------------------------------ */

static int qi_submit(struct hv_iommu *io, unsigned cpu, uint64_t lo, uint64_t hi)
{
	struct hv_vtd *v = &io->vtd;
	uint64_t pa = (v->iq_pfn << 12) + 16ull * v->iq_tail;
	iommu_w64(io, cpu, pa, lo);
	iommu_w64(io, cpu, pa + 8, hi);
	v->iq_tail = (v->iq_tail + 1) % IQ_ENTRIES;
	iommu_wr(io, cpu, REG_IQT, (uint64_t)v->iq_tail << 4);
	if (iommu_rd(io, cpu, REG_FSTS) & FSTS_IQE)
		return -EIO; /* the hardware rejected a descriptor */
	return 0;
}

/* invalidate_sync: a wait descriptor with a fresh status datum, then poll
 * the slot until the hardware wrote it. */
static int qi_wait(struct hv_iommu *io, unsigned cpu)
{
	struct hv_vtd *v = &io->vtd;
	uint32_t data = ++v->seq;
	iommu_w64(io, cpu, v->status_pa, 0);
	io->st.waits++;
	int rc = qi_submit(io, cpu, DESC_WAIT | WAIT_SW | WAIT_FN | (uint64_t)data << 32,
	                   v->status_pa);
	if (rc)
		return rc;
	for (unsigned i = 0; i < POLL_MAX; i++)
		if ((uint32_t)iommu_r64(io, v->status_pa) == data)
			return 0;
	return -ETIMEDOUT;
}

static int qi_inv(struct hv_iommu *io, unsigned cpu, uint64_t lo, uint64_t hi)
{
	io->st.inv_cmds++;
	int rc = qi_submit(io, cpu, lo, hi);
	return rc ? rc : qi_wait(io, cpu);
}

static int inv_iotlb_dsi(struct hv_iommu *io, unsigned cpu, uint16_t did)
{
	return qi_inv(io, cpu, DESC_IOTLB | G_DOMAIN << 4 | (uint64_t)did << 16, 0);
}

/* ---- Set-up ------------------------------------------------------------- */

static int vtd_setup(struct hv_iommu *io, unsigned cpu)
{
	struct hv_vtd *v = &io->vtd;
	memset(v, 0, sizeof(*v));
	v->cm = (iommu_rd(io, cpu, REG_CAP) & CAP_CM) != 0;
	v->root_pfn = iommu_new_frame(io, cpu);
	v->iq_pfn = iommu_new_frame(io, cpu);
	uint64_t slot = iommu_new_frame(io, cpu);
	if (v->root_pfn == HV_NO_FRAME || v->iq_pfn == HV_NO_FRAME || slot == HV_NO_FRAME)
		return -ENOMEM;
	v->status_pa = slot << 12;
	iommu_wr(io, cpu, REG_RTADDR, v->root_pfn << 12);
	iommu_wr(io, cpu, REG_GCMD, GCMD_SRTP);
	iommu_wr(io, cpu, REG_IQA, v->iq_pfn << 12); /* QS 0: 256 descriptors */
	iommu_wr(io, cpu, REG_GCMD, GCMD_QIE);
	/* After SRTP: global context-cache and IOTLB invalidation (§6.5). */
	int rc = qi_inv(io, cpu, DESC_CC | G_GLOBAL << 4, 0);
	if (!rc)
		rc = qi_inv(io, cpu, DESC_IOTLB | G_GLOBAL << 4, 0);
	if (!rc)
		iommu_wr(io, cpu, REG_GCMD, GCMD_QIE | GCMD_TE);
	return rc;
}

static int vtd_domain_init(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d)
{
	d->root_pfn = iommu_new_frame(io, cpu);
	if (d->root_pfn == HV_NO_FRAME)
		return -ENOMEM;
	d->pt_pages = 1;
	return 0;
}

/* Context entry (§9.3): hi = AW | DID << 8, written before lo = SLPTPTR |
 * TT 0 | P, so the hardware never sees P with a stale DID. */
static int vtd_assign(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                      uint16_t sid)
{
	struct hv_vtd *v = &io->vtd;
	unsigned bus = sid >> 8;
	if (!v->ctx_pfn[bus]) {
		uint64_t f = iommu_new_frame(io, cpu);
		if (f == HV_NO_FRAME)
			return -ENOMEM;
		v->ctx_pfn[bus] = f;
		iommu_w64(io, cpu, (v->root_pfn << 12) + 16ull * bus, f << 12 | E_P);
	}
	uint64_t cpa = (v->ctx_pfn[bus] << 12) + 16ull * (sid & 0xff);
	uint64_t old_lo = iommu_r64(io, cpa), old_hi = iommu_r64(io, cpa + 8);
	bool was_present = old_lo & E_P;
	uint16_t old_did = (uint16_t)(old_hi >> 8);
	unsigned aw = io->cfg.levels == 3 ? 1 : 2;
	if (was_present)
		iommu_w64(io, cpu, cpa, 0); /* clear P before changing the entry */
	iommu_w64(io, cpu, cpa + 8, (uint64_t)aw | (uint64_t)d->did << 8);
	iommu_w64(io, cpu, cpa, d->root_pfn << 12 | E_P);
	/* A not-present entry is cached only under CM, under DID 0 (hw-facts
	 * §1.3 "Domain-id detail"); a present one under its old DID. */
	if (!was_present && !v->cm)
		return 0;
	uint16_t did = was_present ? old_did : 0;
	int rc = qi_inv(io, cpu, DESC_CC | G_PAGE << 4 | (uint64_t)did << 16 |
	                             (uint64_t)sid << 32, 0);
	return rc ? rc : inv_iotlb_dsi(io, cpu, did);
}

/* ---- Second-level page tables ------------------------------------------- */

/* Second-level entries (§9.8): present when R or W is set; directory
 * entries allow both, so the leaf decides. */
static uint64_t vtd_dir(uint64_t pfn, unsigned level)
{
	(void)level;
	return pfn << 12 | E_R | E_W;
}

static const struct iopt_fmt vtd_fmt = {
	.present = E_R | E_W, .leaf_p = 0, .r = E_R, .w = E_W, .dir = vtd_dir,
};

static int vtd_map_page(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                        uint64_t dfn, uint64_t mfn, unsigned flags,
                        enum iommu_flush_type *ft)
{
	*ft = IOMMU_FLUSH_NONE;
	if (!iopt_dfn_ok(io, dfn))
		return -EINVAL;
	int rc = 0;
	uint64_t pa = iopt_l1(io, cpu, d, dfn, &vtd_fmt, true, &rc);
	if (!pa)
		return rc;
	uint64_t old = iommu_r64(io, pa);
	uint64_t nw = iopt_leaf(&vtd_fmt, mfn, flags);
	if (old == nw)
		return 0; /* unchanged: nothing to flush */
	iommu_w64(io, cpu, pa, nw);
	bool was = old & (E_R | E_W);
	*ft = was ? IOMMU_FLUSH_MODIFIED : IOMMU_FLUSH_ADDED;
	if (was && (io->cfg.inject & HV_IOMMU_INJECT_MODIFIED_AS_ADDED))
		*ft = IOMMU_FLUSH_ADDED;
	if (was && (io->cfg.inject & HV_IOMMU_INJECT_MODIFIED_AS_NONE))
		*ft = IOMMU_FLUSH_NONE;
	return 0;
}

/* dma_pte_clear_one: nothing to do when nothing is mapped there. */
static int vtd_unmap_page(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                          uint64_t dfn)
{
	return iopt_unmap(io, cpu, d, dfn, &vtd_fmt);
}

static uint64_t vtd_lookup(struct hv_iommu *io, struct hv_iommu_domain *d, uint64_t dfn,
                           unsigned *flags)
{
	return iopt_lookup(io, d, dfn, &vtd_fmt, flags);
}

/* ---- Flushes ------------------------------------------------------------- */

/* Xen's iommu_flush_iotlb_psi: page-selective when the count is a power
 * of two, dfn is aligned to it and the mask fits CAP.MAMV; else the whole
 * domain (hw-facts §1.3 [S17b]). */
static int vtd_iotlb_flush(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                           uint64_t dfn, uint64_t count, enum iommu_flush_type type)
{
	assert(count > 0);
	bool cm = io->vtd.cm && !(io->cfg.inject & HV_IOMMU_INJECT_IGNORE_CM);
	if (type == IOMMU_FLUSH_NONE || (type == IOMMU_FLUSH_ADDED && !cm)) {
		io->st.flushes_elided++;
		return 0;
	}
	unsigned am = 0;
	while (am < 63 && (1ull << am) < count)
		am++;
	bool pow2 = (1ull << am) == count;
	bool aligned = (dfn & (count - 1)) == 0;
	if (!pow2 || !aligned || am > CAP_MAMV(iommu_rd(io, cpu, REG_CAP)))
		return inv_iotlb_dsi(io, cpu, d->did);
	return qi_inv(io, cpu, DESC_IOTLB | G_PAGE << 4 | (uint64_t)d->did << 16,
	              dfn << 12 | am);
}

static int vtd_iotlb_flush_all(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d)
{
	return inv_iotlb_dsi(io, cpu, d->did);
}

const struct hv_iommu_ops hv_vtd_ops = {
	.name = "vtd",
	.setup = vtd_setup,
	.domain_init = vtd_domain_init,
	.assign = vtd_assign,
	.map_page = vtd_map_page,
	.unmap_page = vtd_unmap_page,
	.iotlb_flush = vtd_iotlb_flush,
	.iotlb_flush_all = vtd_iotlb_flush_all,
	.lookup = vtd_lookup,
};
