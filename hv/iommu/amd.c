/* The AMD-Vi driver (Xen xen/drivers/passthrough/amd/iommu_map.c,
 * iommu_cmd.c and iommu_init.c, as the seed leaves them), over hv/arch.h
 * only.
 *
 * Tables (AMD I/O Virtualization Technology spec §2.2): a device table of
 * 256-bit entries indexed by DeviceID (V, TV, Mode = paging levels, the
 * root pointer, IR/IW; DomainID in the second quadword), and I/O page
 * tables whose directory entries carry NextLevel and PR, IR (bit 61), IW
 * (bit 62). Only 4 KiB leaves are written; intermediate tables live until
 * the domain dies, as in Xen.
 *
 * Flush types: AMD-Vi caches nothing not-present (no NpCache), so a fresh
 * entry reports NONE, a changed present one MODIFIED
 * (set_iommu_pde_present in the seed); only MODIFIED is flushed, with one
 * INVALIDATE_IOMMU_PAGES whose S-bit encodes the smallest naturally
 * aligned power-of-two block holding the range (hw-facts §1.4), followed
 * by COMPLETION_WAIT with a store the driver polls for (Xen's
 * flush_command_buffer).
 *
 * Simplification: the device table has DEVTAB_PAGES pages (DeviceIDs
 * 0..1023, buses 0-3); assigning a higher requester id fails with
 * -EINVAL (docs/iommu.md).
 */
#include <errno.h>
#include <string.h>

#include "hv/iommu/hw.h"

/* Hardware interface constants (the hypervisor's own copy). */
#define REG_DTB 0x0000
#define REG_CMD_BASE 0x0008
#define REG_EVT_BASE 0x0010
#define REG_CONTROL 0x0018
#define REG_CMD_TAIL 0x2008
#define REG_STATUS 0x2020
#define CTL_IOMMU_EN (1ull << 0)
#define CTL_EVT_LOG_EN (1ull << 2)
#define CTL_CMDBUF_EN (1ull << 12)
#define ST_CMDBUF_RUN (1ull << 4)
#define RING_LEN 8u /* 2^8 = 256 entries: one page */
#define DEVTAB_PAGES 8u
#define DTE_BYTES 32u

#define PTE_PR (1ull << 0)
#define PTE_NL_SHIFT 9
#define PTE_IR (1ull << 61)
#define PTE_IW (1ull << 62)
#define DTE_V (1ull << 0)
#define DTE_TV (1ull << 1)
#define DTE_MODE_SHIFT 9

#define CMD_COMPLETION_WAIT 1ull
#define CMD_INV_DEVTAB_ENTRY 2ull
#define CMD_INV_IOMMU_PAGES 3ull
#define CMD_INV_IOMMU_ALL 8ull
#define CMD_OP_SHIFT 60
#define CW_S (1ull << 0)
#define INV_S (1ull << 0)
#define INV_PDE (1ull << 1)
#define INV_ALL_PAGES 0x7ffffffffffff000ull
#define POLL_MAX 64u

/* ---- command buffer ----------------------------------------------------- */

static int cmd_send(struct hv_iommu *io, unsigned cpu, uint64_t lo, uint64_t hi)
{
	struct hv_amd *a = &io->amd;
	uint64_t pa = (a->cmd_pfn << 12) + 16ull * a->cmd_tail;
	iommu_w64(io, cpu, pa, lo);
	iommu_w64(io, cpu, pa + 8, hi);
	a->cmd_tail = (a->cmd_tail + 1) % (1u << RING_LEN);
	iommu_wr(io, cpu, REG_CMD_TAIL, (uint64_t)a->cmd_tail << 4);
	/* An illegal command stops the command processor (CmdBufRun clear). */
	return (iommu_rd(io, cpu, REG_STATUS) & ST_CMDBUF_RUN) ? 0 : -EIO;
}

/* flush_command_buffer: COMPLETION_WAIT with a store, then poll it. */
static int completion_wait(struct hv_iommu *io, unsigned cpu)
{
	struct hv_amd *a = &io->amd;
	uint64_t data = ++a->seq;
	iommu_w64(io, cpu, a->status_pa, 0);
	io->st.waits++;
	int rc = cmd_send(io, cpu, CMD_COMPLETION_WAIT << CMD_OP_SHIFT |
	                               (a->status_pa & 0x000ffffffffffff8ull) | CW_S,
	                  data);
	if (rc)
		return rc;
	for (unsigned i = 0; i < POLL_MAX; i++)
		if (iommu_r64(io, a->status_pa) == data)
			return 0;
	return -ETIMEDOUT;
}

static int inv_pages(struct hv_iommu *io, unsigned cpu, uint16_t did, uint64_t addr,
                     uint64_t flags)
{
	io->st.inv_cmds++;
	int rc = cmd_send(io, cpu, CMD_INV_IOMMU_PAGES << CMD_OP_SHIFT | (uint64_t)did << 32,
	                  (addr & ~0xfffull) | flags);
	return rc ? rc : completion_wait(io, cpu);
}

/* ---- set-up ----------------------------------------------------------- */

/* The device table must be physically contiguous. */
static int alloc_devtab(struct hv_iommu *io, unsigned cpu)
{
	struct hv_amd *a = &io->amd;
	a->devtab_pfn = iommu_new_frame(io, cpu);
	for (unsigned i = 1; i < DEVTAB_PAGES; i++)
		if (a->devtab_pfn == HV_NO_FRAME || iommu_new_frame(io, cpu) != a->devtab_pfn + i)
			return -ENOMEM;
	return a->devtab_pfn == HV_NO_FRAME ? -ENOMEM : 0;
}

static int amd_setup(struct hv_iommu *io, unsigned cpu)
{
	struct hv_amd *a = &io->amd;
	memset(a, 0, sizeof(*a));
	if (alloc_devtab(io, cpu))
		return -ENOMEM;
	a->cmd_pfn = iommu_new_frame(io, cpu);
	a->evt_pfn = iommu_new_frame(io, cpu);
	uint64_t slot = iommu_new_frame(io, cpu);
	if (a->cmd_pfn == HV_NO_FRAME || a->evt_pfn == HV_NO_FRAME || slot == HV_NO_FRAME)
		return -ENOMEM;
	a->status_pa = slot << 12;
	iommu_wr(io, cpu, REG_DTB, a->devtab_pfn << 12 | (DEVTAB_PAGES - 1));
	iommu_wr(io, cpu, REG_CMD_BASE, a->cmd_pfn << 12 | (uint64_t)RING_LEN << 56);
	iommu_wr(io, cpu, REG_EVT_BASE, a->evt_pfn << 12 | (uint64_t)RING_LEN << 56);
	iommu_wr(io, cpu, REG_CONTROL, CTL_IOMMU_EN | CTL_EVT_LOG_EN | CTL_CMDBUF_EN);
	io->st.inv_cmds++;
	int rc = cmd_send(io, cpu, CMD_INV_IOMMU_ALL << CMD_OP_SHIFT, 0);
	return rc ? rc : completion_wait(io, cpu);
}

static int amd_domain_init(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d)
{
	d->root_pfn = iommu_new_frame(io, cpu);
	if (d->root_pfn == HV_NO_FRAME)
		return -ENOMEM;
	d->pt_pages = 1;
	return 0;
}

/* amd_iommu_set_root_page_table: DomainID first, then the quadword with
 * V; then INVALIDATE_DEVTAB_ENTRY and a wait (amd_iommu_flush_device). */
static int amd_assign(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                      uint16_t sid)
{
	if ((uint32_t)sid * DTE_BYTES >= DEVTAB_PAGES * 4096u)
		return -EINVAL;
	uint64_t dte = (io->amd.devtab_pfn << 12) + (uint64_t)sid * DTE_BYTES;
	iommu_w64(io, cpu, dte, 0);
	iommu_w64(io, cpu, dte + 8, d->did);
	iommu_w64(io, cpu, dte, d->root_pfn << 12 | (uint64_t)io->cfg.levels << DTE_MODE_SHIFT |
	                      DTE_V | DTE_TV | PTE_IR | PTE_IW);
	io->st.inv_cmds++;
	int rc = cmd_send(io, cpu, CMD_INV_DEVTAB_ENTRY << CMD_OP_SHIFT | sid, 0);
	return rc ? rc : completion_wait(io, cpu);
}

/* ---- I/O page tables --------------------------------------------------- */

/* Directory entries carry PR, NextLevel (the level below) and allow
 * both directions, so the leaf decides (§2.2.3). */
static uint64_t amd_dir(uint64_t pfn, unsigned level)
{
	return pfn << 12 | (uint64_t)(level - 1) << PTE_NL_SHIFT | PTE_IR | PTE_IW | PTE_PR;
}

static const struct iopt_fmt amd_fmt = {
	.present = PTE_PR, .leaf_p = PTE_PR, .r = PTE_IR, .w = PTE_IW, .dir = amd_dir,
};

static int amd_map_page(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                        uint64_t dfn, uint64_t mfn, unsigned flags, enum iommu_flush_type *ft)
{
	*ft = IOMMU_FLUSH_NONE;
	if (!iopt_dfn_ok(io, dfn))
		return -EINVAL;
	int rc = 0;
	uint64_t pa = iopt_l1(io, cpu, d, dfn, &amd_fmt, true, &rc);
	if (!pa)
		return rc;
	uint64_t old = iommu_r64(io, pa);
	uint64_t nw = iopt_leaf(&amd_fmt, mfn, flags);
	iommu_w64(io, cpu, pa, nw);
	if (!(old & PTE_PR) || old == nw)
		return 0;
	*ft = IOMMU_FLUSH_MODIFIED;
	if (io->cfg.inject & HV_IOMMU_INJECT_MODIFIED_AS_ADDED)
		*ft = IOMMU_FLUSH_ADDED;
	if (io->cfg.inject & HV_IOMMU_INJECT_MODIFIED_AS_NONE)
		*ft = IOMMU_FLUSH_NONE;
	return 0;
}

static int amd_unmap_page(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                          uint64_t dfn)
{
	return iopt_unmap(io, cpu, d, dfn, &amd_fmt);
}

static uint64_t amd_lookup(struct hv_iommu *io, struct hv_iommu_domain *d, uint64_t dfn,
                           unsigned *flags)
{
	return iopt_lookup(io, d, dfn, &amd_fmt, flags);
}

/* ---- flushes ---------------------------------------------------------- */

/* amd_iommu_flush_pages: one page with S=0; otherwise S=1 with every
 * address bit below the highest differing bit of first and last page set
 * (hw-facts §1.4), so an unaligned range is widened to the aligned block
 * holding it; PDE always set, as Linux and Xen do. */
static int amd_iotlb_flush(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                           uint64_t dfn, uint64_t count, enum iommu_flush_type type)
{
	if (type != IOMMU_FLUSH_MODIFIED) {
		io->st.flushes_elided++;
		return 0;
	}
	if (count == 1)
		return inv_pages(io, cpu, d->did, dfn << 12, INV_PDE);
	uint64_t first = dfn << 12, last = (dfn + count - 1) << 12 | 0xfff;
	unsigned msb = 63u - (unsigned)__builtin_clzll(first ^ last);
	uint64_t addr = msb > 51 ? INV_ALL_PAGES : first | ((1ull << msb) - 1);
	return inv_pages(io, cpu, d->did, addr, INV_S | INV_PDE);
}

static int amd_iotlb_flush_all(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d)
{
	return inv_pages(io, cpu, d->did, INV_ALL_PAGES, INV_S | INV_PDE);
}

const struct hv_iommu_ops hv_amd_ops = {
	.name = "amd",
	.setup = amd_setup,
	.domain_init = amd_domain_init,
	.assign = amd_assign,
	.map_page = amd_map_page,
	.unmap_page = amd_unmap_page,
	.iotlb_flush = amd_iotlb_flush,
	.iotlb_flush_all = amd_iotlb_flush_all,
	.lookup = amd_lookup,
};
