/* Intel VT-d, legacy translation mode (hw-facts §1.3).
 *
 * DMA path: root table (spec §9.1, 256 x 16 bytes indexed by bus) ->
 * context table (§9.3, 256 x 16 bytes indexed by devfn) -> second-level
 * page tables (x86 4-level format with R/W in bits 0/1 and PS superpages)
 * read from simulated memory with mem_read64. The context cache holds the
 * root+context result per source-id tagged with the domain-id; the IOTLB
 * holds leaf translations tagged with domain-id and IOVA page.
 *
 * Caching mode (§6.1): with CAP.CM=0 nothing not-present or erroneous is
 * cached, so a not-present -> present change needs no invalidation. With
 * CM=1 the model caches not-present results: a second-level not-present
 * fault leaves a not-present IOTLB entry for (DID, page), a not-present
 * root/context entry a not-present context-cache entry under DID 0 (the
 * DID software uses to flush it, hw-facts §1.3 "Domain-id detail"). Later
 * DMA hits them and faults until an invalidation removes them.
 *
 * Invalidation (§6.5): only queued invalidation (§6.5.2) is modelled:
 * descriptor types 1 (context-cache), 2 (IOTLB), 5 (wait); 3 and 4 are
 * accepted as no-ops (no device-TLB, no interrupt remapping yet). The
 * model processes descriptors synchronously and in order, so every
 * descriptor completes before the next one starts: the FN fence holds
 * trivially and a wait completes after everything queued before it.
 */
#include <assert.h>
#include <string.h>

#include "sim/iommu/iommu.h"
#include "sim/machine.h"
#include "sim/mem.h"

#define VTD_MAMV_DEFAULT 9u
#define VTD_WALK_MAX_LEVELS 4u

/* Reserved-bit masks of the legacy descriptors (QEMU [S13]). */
#define VTD_CC_RSVD 0xfffc00000000ffc0ull
#define VTD_IOTLB_RSVD_LO 0xffffffff0000ff00ull
#define VTD_IOTLB_RSVD_HI 0xf80ull
#define VTD_WAIT_RSVD_LO 0xffffff80ull
#define VTD_WAIT_RSVD_HI 3ull

/* ---- Root and context entries (§9.1, §9.3) ------------------------------- */

/* Reads the context of sid from memory into *ce (no caching, no stats).
 * Returns IOMMU_OK or the fault. */
static int ctx_read(struct iommu *io, uint16_t sid, struct devc_entry *ce)
{
	struct mem *mem = &io->m->mem;
	memset(ce, 0, sizeof(*ce));
	ce->sid = sid;
	uint64_t root = mem_read64(mem, io->vtd.rtaddr + 16ull * (sid >> 8));
	if (!(root & VTD_ENTRY_P))
		return IOMMU_F_ROOT_NP;
	uint64_t cpa = (root & VTD_ADDR_MASK) + 16ull * (sid & 0xff);
	uint64_t lo = mem_read64(mem, cpa), hi = mem_read64(mem, cpa + 8);
	if (!(lo & VTD_ENTRY_P))
		return IOMMU_F_CTX_NP;
	ce->tt = (uint8_t)((lo >> 2) & 3);
	ce->fpd = (lo & VTD_CTX_FPD) != 0;
	ce->table = lo & VTD_ADDR_MASK;
	ce->did = (uint16_t)(hi >> 8);
	unsigned aw = hi & 7;
	ce->levels = aw == VTD_AW_39 ? 3 : aw == VTD_AW_48 ? 4 : 0;
	if (ce->tt == 3 || (ce->tt != VTD_TT_PASS && ce->levels == 0))
		return IOMMU_F_CTX_INVALID;
	return IOMMU_OK;
}

static bool ctx_same(const struct devc_entry *a, const struct devc_entry *b)
{
	return a->np == b->np && a->did == b->did && a->table == b->table &&
	       a->tt == b->tt && a->levels == b->levels && a->fpd == b->fpd;
}

/* The context for sid through the context cache. *stale is set when a
 * cached entry no longer matches memory. */
static int ctx_get(struct iommu *io, uint16_t sid, struct devc_entry *ce, bool *stale)
{
	struct devc_entry *hit = devc_lookup(&io->devc, sid);
	if (hit) {
		struct devc_entry now;
		int f = ctx_read(io, sid, &now);
		now.np = f == IOMMU_F_ROOT_NP || f == IOMMU_F_CTX_NP;
		if (now.np)
			now.did = 0;
		*stale = f == IOMMU_F_CTX_INVALID || !ctx_same(hit, &now);
		*ce = *hit;
		if (hit->np) {
			io->st.ctxc_np_hits++;
			return IOMMU_F_CTX_NP;
		}
		io->st.ctxc_hits++;
		return IOMMU_OK;
	}
	io->st.ctxc_misses++;
	int f = ctx_read(io, sid, ce);
	bool np = f == IOMMU_F_ROOT_NP || f == IOMMU_F_CTX_NP;
	if (f == IOMMU_OK || (np && io->vtd.cm)) {
		ce->np = np;
		if (np)
			ce->did = 0; /* §1.3: a not-present context has no DID */
		io->st.ctxc_fills++;
		io->st.ctxc_evictions += devc_fill(&io->devc, ce);
	}
	return f;
}

/* ---- Second-level walk --------------------------------------------------- */

struct sl_leaf {
	uint64_t pa_base;
	uint8_t size_log2;
	uint8_t perm; /* IOMMU_ACC_* allowed (R/W ANDed down the walk) */
	uint8_t np;
};

/* Walks the second-level tables of ce for iova. Reads count in
 * *reads (NULL for the diagnostic re-walk). */
static void sl_walk(struct iommu *io, const struct devc_entry *ce, uint64_t iova,
                    struct sl_leaf *out, uint64_t *reads)
{
	assert(ce->levels == 3 || ce->levels == 4);
	uint64_t table = ce->table;
	uint8_t perm = IOMMU_ACC_READ | IOMMU_ACC_WRITE;
	memset(out, 0, sizeof(*out));
	for (unsigned level = ce->levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t e = mem_read64(&io->m->mem, table + 8 * ((iova >> shift) & 511));
		if (reads)
			(*reads)++;
		if (!(e & (VTD_SL_R | VTD_SL_W))) {
			out->np = 1;
			out->size_log2 = 12;
			return;
		}
		perm &= (uint8_t)(e & (VTD_SL_R | VTD_SL_W));
		bool leaf = level == 1 || ((level == 2 || level == 3) && (e & VTD_SL_PS));
		if (leaf) {
			out->size_log2 = (uint8_t)shift;
			out->pa_base = e & VTD_ADDR_MASK & ~((1ull << shift) - 1);
			out->perm = perm;
			return;
		}
		table = e & VTD_ADDR_MASK;
	}
	assert(0 && "walk ended without a leaf");
}

static bool leaf_matches(const struct iotlb_entry *e, const struct sl_leaf *l)
{
	if (e->np || l->np)
		return e->np == l->np;
	return e->size_log2 == l->size_log2 && e->pa_base == l->pa_base &&
	       e->perm == l->perm;
}

/* ---- Faults -------------------------------------------------------------- */

static uint8_t hw_reason(int f, bool write)
{
	switch (f) {
	case IOMMU_F_ROOT_NP: return 1;
	case IOMMU_F_CTX_NP: return 2;
	case IOMMU_F_CTX_INVALID: return 3;
	case IOMMU_F_ADDR: return 4;
	default: return write ? 5 : 6;
	}
}

static void fault_record(struct iommu *io, uint16_t sid, uint16_t did, uint64_t iova,
                         int f, bool write, bool fpd)
{
	io->st.faults++;
	if (fpd)
		return; /* §9.3 FPD: fault processing disabled for this context */
	if (!iommu_fault_log(io, sid, did, iova, f, hw_reason(f, write), write))
		io->vtd.pfo = 1;
}

/* ---- Translation --------------------------------------------------------- */

static struct iommu_xlate xl_fault(struct iommu *io, struct iommu_xlate r, uint16_t sid,
                                   uint64_t iova, int f, unsigned acc, bool fpd)
{
	r.fault = (uint8_t)f;
	r.pa = 0;
	fault_record(io, sid, r.did, iova, f, (acc & IOMMU_ACC_WRITE) != 0, fpd);
	return r;
}

/* IOTLB hit: serve the cached entry (checking permissions on it). */
static struct iommu_xlate xl_hit(struct iommu *io, struct iommu_xlate r,
                                 const struct devc_entry *ce, struct iotlb_entry *e,
                                 uint16_t sid, uint64_t iova, unsigned acc)
{
	struct sl_leaf now;
	sl_walk(io, ce, iova, &now, NULL);
	if (!leaf_matches(e, &now)) {
		r.stale = 1;
		io->st.stale_served++;
	}
	iommu_env_judge(io, &r, ce->did, iova, now.np, now.pa_base, now.size_log2, now.perm);
	r.cycles = IOMMU_COST_IOTLB_HIT;
	if (e->np) {
		io->st.iotlb_np_hits++;
		r.path = IOMMU_PATH_NP_HIT;
		return xl_fault(io, r, sid, iova, IOMMU_F_PTE_NP, acc, ce->fpd);
	}
	io->st.iotlb_hits++;
	r.path = IOMMU_PATH_HIT;
	if (acc & ~e->perm)
		return xl_fault(io, r, sid, iova, IOMMU_F_PERM, acc, ce->fpd);
	r.pa = e->pa_base + (iova & ((1ull << e->size_log2) - 1));
	return r;
}

/* IOTLB miss: walk and fill (a present leaf always; a not-present one
 * only under CM=1, §6.1). */
static struct iommu_xlate xl_walk(struct iommu *io, struct iommu_xlate r,
                                  const struct devc_entry *ce, uint16_t sid,
                                  uint64_t iova, unsigned acc)
{
	struct sl_leaf l;
	io->st.iotlb_misses++;
	io->st.walks++;
	sl_walk(io, ce, iova, &l, &io->st.walk_reads);
	r.cycles = io->m->prof.iommu_iotlb_miss;
	r.path = IOMMU_PATH_WALK;
	if (!l.np || io->vtd.cm) {
		struct iotlb_entry p;
		memset(&p, 0, sizeof(p));
		p.did = ce->did;
		p.size_log2 = l.size_log2;
		p.vpn = iova >> l.size_log2;
		p.pa_base = l.pa_base;
		p.perm = l.perm;
		p.np = l.np;
		iommu_cache_fill(io, &p);
	}
	iommu_env_judge(io, &r, ce->did, iova, l.np, l.pa_base, l.size_log2, l.perm);
	if (l.np)
		return xl_fault(io, r, sid, iova, IOMMU_F_PTE_NP, acc, ce->fpd);
	if (acc & ~l.perm)
		return xl_fault(io, r, sid, iova, IOMMU_F_PERM, acc, ce->fpd);
	r.pa = l.pa_base + (iova & ((1ull << l.size_log2) - 1));
	return r;
}

static struct iommu_xlate vtd_translate(struct iommu *io, uint16_t sid, uint64_t iova,
                                        unsigned acc)
{
	struct iommu_xlate r;
	memset(&r, 0, sizeof(r));
	assert(acc != 0 && (acc & ~(unsigned)(IOMMU_ACC_READ | IOMMU_ACC_WRITE)) == 0);
	io->st.translations++;
	if (!io->vtd.te) {
		r.pa = iova;
		r.path = IOMMU_PATH_PASS;
		return r;
	}
	struct devc_entry ce;
	bool stale = false;
	int f = ctx_get(io, sid, &ce, &stale);
	if (stale) {
		r.stale = 1;
		io->st.stale_served++;
	}
	r.did = ce.did;
	if (f != IOMMU_OK) {
		r.path = IOMMU_PATH_CTX;
		return xl_fault(io, r, sid, iova, f, acc, ce.fpd);
	}
	if (ce.tt == VTD_TT_PASS) {
		r.pa = iova;
		r.path = IOMMU_PATH_PASS;
		return r;
	}
	if (iova >> (12 + 9 * ce.levels)) {
		r.path = IOMMU_PATH_CTX;
		return xl_fault(io, r, sid, iova, IOMMU_F_ADDR, acc, ce.fpd);
	}
	struct iotlb_entry *e = iotlb_lookup(&io->iotlb, ce.did, iova);
	r = e ? xl_hit(io, r, &ce, e, sid, iova, acc) : xl_walk(io, r, &ce, sid, iova, acc);
	io->st.cycles += r.cycles;
	return r;
}

/* ---- Queued invalidation (§6.5.2) ---------------------------------------- */

/* Type 1: context-cache invalidation, global / domain / device (SID with
 * function mask FM: FM=1 masks fn bit 2, 2 bits 2:1, 3 bits 2:0). */
static bool do_cc(struct iommu *io, const struct iommu_cmd *c)
{
	if ((c->lo & VTD_CC_RSVD) || c->hi)
		return false;
	unsigned g = (c->lo >> 4) & 3;
	uint16_t did = (uint16_t)(c->lo >> 16), sid = (uint16_t)(c->lo >> 32);
	unsigned fm = (c->lo >> 48) & 3;
	static const uint16_t fm_mask[4] = {0, 4, 6, 7};
	switch (g) {
	case VTD_G_GLOBAL:
		iommu_devc_inv(io, IOINV_DEVC_ALL, 0, 0, 0);
		io->st.inv_cc_global++;
		break;
	case VTD_G_DOMAIN:
		iommu_devc_inv(io, IOINV_DEVC_DOMAIN, did, 0, 0);
		io->st.inv_cc_domain++;
		break;
	case VTD_G_DEVICE_OR_PAGE:
		iommu_devc_inv(io, IOINV_DEVC_DEVICE, did, sid, fm_mask[fm]);
		io->st.inv_cc_device++;
		break;
	default: return false;
	}
	iommu_charge(io, io->m->prof.vtd_inv_context);
	return true;
}

/* Page-selective: 2^AM pages from ADDR, naturally aligned (§1.3). A
 * misaligned ADDR is treated as the aligned block containing it. IH has
 * no effect: no paging-structure caches are modelled yet. */
static bool do_psi(struct iommu *io, uint16_t did, uint64_t hi)
{
	unsigned am = hi & 0x3f;
	if (am > io->vtd.mamv)
		return false;
	unsigned log2 = 12 + am;
	uint64_t addr = hi & ~0xfffull;
	uint64_t base = addr & ~((1ull << log2) - 1);
	io->st.psi_misaligned += base != addr;
	iommu_cache_inv(io, IOINV_IOTLB_RANGE, did, base, log2);
	io->st.inv_iotlb_page++;
	iommu_charge(io, io->m->prof.vtd_inv_page);
	return true;
}

/* Type 2: IOTLB invalidation, global / domain / page-selective. */
static bool do_iotlb(struct iommu *io, const struct iommu_cmd *c)
{
	if ((c->lo & VTD_IOTLB_RSVD_LO) || (c->hi & VTD_IOTLB_RSVD_HI))
		return false;
	unsigned g = (c->lo >> 4) & 3;
	uint16_t did = (uint16_t)(c->lo >> 16);
	switch (g) {
	case VTD_G_GLOBAL:
		iommu_cache_inv(io, IOINV_IOTLB_ALL, 0, 0, 0);
		io->st.inv_iotlb_global++;
		break;
	case VTD_G_DOMAIN:
		iommu_cache_inv(io, IOINV_IOTLB_DOMAIN, did, 0, 0);
		io->st.inv_iotlb_domain++;
		break;
	case VTD_G_DEVICE_OR_PAGE:
		return do_psi(io, did, c->hi);
	default:
		return false;
	}
	iommu_charge(io, io->m->prof.vtd_inv_domain);
	return true;
}

/* 32-bit store of the status data into the aligned quadword around it. */
static void status_write(struct iommu *io, uint64_t pa, uint32_t data)
{
	assert((pa & 3) == 0);
	uint64_t q = pa & ~7ull;
	unsigned shift = (unsigned)(pa & 4) * 8;
	uint64_t old = mem_read64(&io->m->mem, q);
	uint64_t val = (old & ~(0xffffffffull << shift)) | ((uint64_t)data << shift);
	machine_store64(io->m, -1, q, val, false);
}

/* Type 5: invalidation wait. Everything before it has completed (the
 * model is in order); SW writes the status data, IF sets ICS.IWC. */
static bool do_wait(struct iommu *io, const struct iommu_cmd *c)
{
	if ((c->lo & VTD_WAIT_RSVD_LO) || (c->hi & VTD_WAIT_RSVD_HI))
		return false;
	io->st.waits++;
	iommu_note_wait(io);
	if (c->lo & VTD_WAIT_SW) {
		status_write(io, c->hi & ~3ull, (uint32_t)(c->lo >> 32));
		io->st.wait_status_writes++;
	}
	if (c->lo & VTD_WAIT_IF) {
		io->vtd.iwc = 1;
		io->st.wait_interrupts++;
	}
	iommu_charge(io, VTD_COST_WAIT);
	return true;
}

static bool vtd_exec(struct iommu *io, const struct iommu_cmd *c)
{
	switch (c->lo & 0xf) {
	case VTD_DESC_CC: return do_cc(io, c);
	case VTD_DESC_IOTLB: return do_iotlb(io, c);
	case VTD_DESC_WAIT: return do_wait(io, c);
	case VTD_DESC_DEVTLB:
	case VTD_DESC_IEC: return true; /* nothing cached there yet */
	default: return false;
	}
}

/* A rejected descriptor sets FSTS.IQE; IQH stays on it. */
static uint32_t vtd_process(struct iommu *io, uint32_t max)
{
	uint64_t bad;
	return iommu_ring_run(io, max, vtd_exec, &bad);
}

/* ---- Registers (§10.4) ------------------------------------------------- */

static uint64_t vtd_mmio_read(struct iommu *io, uint32_t off)
{
	switch (off) {
	case VTD_REG_CAP:
		return (io->vtd.cm ? VTD_CAP_CM : 0) | (uint64_t)io->vtd.mamv << 48;
	case VTD_REG_GSTS:
		return (io->vtd.te ? VTD_GCMD_TE : 0) | (io->vtd.rtps ? VTD_GCMD_SRTP : 0) |
		       (io->vtd.qie ? VTD_GCMD_QIE : 0);
	case VTD_REG_RTADDR: return io->vtd.rtaddr_reg;
	case VTD_REG_FSTS:
		return (io->vtd.pfo ? VTD_FSTS_PFO : 0) | (io->q.error ? VTD_FSTS_IQE : 0);
	case VTD_REG_IQH: return (uint64_t)io->q.head << 4;
	case VTD_REG_IQT: return (uint64_t)io->q.tail << 4;
	case VTD_REG_IQA: {
		uint32_t x = 0;
		while ((256u << x) < io->q.entries && x < 7)
			x++;
		return io->q.base | x;
	}
	case VTD_REG_ICS: return io->vtd.iwc;
	default: return 0;
	}
}

/* GCMD is a command register: software writes the whole desired state
 * and one bit changed at a time (§10.4.4); SRTP latches RTADDR_REG and
 * leaves the caches alone (software must invalidate globally, §6.5). */
static void gcmd_write(struct iommu *io, uint64_t val)
{
	if (val & VTD_GCMD_SRTP) {
		io->vtd.rtaddr = io->vtd.rtaddr_reg & ~0xfffull;
		io->vtd.rtps = 1;
	}
	io->vtd.qie = (val & VTD_GCMD_QIE) != 0;
	io->vtd.te = (val & VTD_GCMD_TE) != 0;
	if (!io->vtd.qie)
		io->q.head = io->q.tail = 0; /* disabling QI resets IQH (§6.5.2) */
}

/* The queue is consumed as soon as the tail moves: the model's hardware
 * finishes every descriptor before the register write returns. */
static void vtd_mmio_write(struct iommu *io, uint32_t off, uint64_t val)
{
	switch (off) {
	case VTD_REG_GCMD: gcmd_write(io, val); break;
	case VTD_REG_RTADDR: io->vtd.rtaddr_reg = val; break;
	case VTD_REG_FSTS:
		/* RW1C: writing 1 clears; clearing IQE lets the queue go on
		 * after software fixed the bad descriptor. */
		if (val & VTD_FSTS_PFO)
			io->vtd.pfo = 0;
		if (val & VTD_FSTS_IQE)
			io->q.error = 0;
		break;
	case VTD_REG_IQA:
		if (io->vtd.qie)
			break; /* IQA is read-only while QI is enabled */
		io->q.base = val & ~0xfffull;
		io->q.entries = 256u << (val & 7);
		io->q.head = io->q.tail = 0;
		break;
	case VTD_REG_IQT:
		if (!io->vtd.qie || !io->q.entries)
			break;
		io->q.tail = (uint32_t)(val >> 4) & (io->q.entries - 1);
		vtd_process(io, io->q.entries);
		break;
	case VTD_REG_ICS:
		if (val & 1)
			io->vtd.iwc = 0;
		break;
	default: break;
	}
}

/* ---- Life cycle ---------------------------------------------------------- */

/* Caches invalid, queue empty and error-free, fault log and status bits
 * clear. Registers from the config (RTADDR, CM, MAMV, TE) are kept. */
static void vtd_reset(struct iommu *io)
{
	iommu_unit_reset(io);
	io->vtd.iwc = io->vtd.pfo = 0;
}

static const struct iommu_ops vtd_ops = {
	.name = "vtd",
	.translate = vtd_translate,
	.submit = iommu_ring_submit,
	.process = vtd_process,
	.reset = vtd_reset,
	.mmio_read = vtd_mmio_read,
	.mmio_write = vtd_mmio_write,
	.fini = iommu_unit_fini,
};

int vtd_init(struct iommu *io, struct machine *m, const struct vtd_config *cfg)
{
	memset(io, 0, sizeof(*io));
	if ((cfg->rtaddr & 0xfff) || (cfg->iq_base & 0xfff) || cfg->iq_x > 7 ||
	    cfg->rtaddr >= PA_LIMIT || cfg->iq_base >= PA_LIMIT)
		return -1;
	if (iommu_unit_init(io, m, &vtd_ops, IOMMU_VTD, cfg->iotlb_entries, cfg->iotlb_ways,
	                    cfg->ctxc_entries))
		return -1;
	io->vtd.cm = cfg->caching_mode;
	io->vtd.mamv = cfg->mamv ? cfg->mamv : VTD_MAMV_DEFAULT;
	if (cfg->iq_base) {
		io->q.base = cfg->iq_base;
		io->q.entries = 256u << cfg->iq_x;
		io->vtd.qie = 1;
	}
	if (cfg->rtaddr) {
		io->vtd.rtaddr = io->vtd.rtaddr_reg = cfg->rtaddr;
		io->vtd.rtps = 1;
		io->vtd.te = 1;
	}
	return 0;
}

void vtd_set_rtaddr(struct iommu *io, uint64_t rtaddr)
{
	assert((rtaddr & 0xfff) == 0);
	io->vtd.rtaddr = rtaddr; /* SRTP: caches untouched (software must
	                            invalidate globally afterwards) */
}
