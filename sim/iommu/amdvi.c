/* AMD-Vi (AMD I/O Virtualization Technology spec #48882, hw-facts §1.4).
 *
 * DMA path: device table (spec §2.2.2, 256-bit DTEs indexed by DeviceID =
 * PCI requester id, table size from the Device Table Base register) -> I/O
 * page tables in the AMD format (§2.2.3: PR, NextLevel, IR/IW; Mode in the
 * DTE gives the root level 1..6) read from simulated memory with
 * mem_read64. The DTE cache (struct devc) holds the decoded DTE per
 * DeviceID tagged with the DomainID; the IOTLB holds leaf translations
 * tagged with DomainID and IOVA page.
 *
 * Not-present results are never cached: AMD-Vi has no caching mode (the
 * NpCache capability, hw-facts §1.4, is not reported), so a not-present ->
 * present change needs no invalidation. Every DTE the unit reads (V=0
 * too) may be cached until INVALIDATE_DEVTAB_ENTRY or INVALIDATE_IOMMU_ALL:
 * software invalidates after every DTE change (§2.2.2); a DTE with a
 * reserved Mode is not cached.
 *
 * DTE decoding: V=0 or TV=0 -> the access passes untranslated (no
 * translation information; modelled as pass-through with no permission
 * check); Mode 0 -> translation disabled, access allowed by the DTE's
 * IR/IW; Mode 1..6 -> walk; Mode 7 -> ILLEGAL_DEV_TABLE_ENTRY. A DeviceID
 * beyond the table's size is an ILLEGAL_DEV_TABLE_ENTRY too.
 *
 * Page sizes: a NextLevel-0 leaf at level L maps 2^(12+9(L-1)) bytes; a
 * NextLevel-7 leaf encodes its size in the address (amdvi_pte_sized). The
 * shared IOTLB and envelope hold 4K, 2M and 1G entries only, so a leaf of
 * another size is cached as the largest of those that fits, aligned around
 * the IOVA (e.g. a 64K page as 4K pieces, a 512G page as 1G pieces): every
 * piece lies inside the page, so an invalidation covering the page covers
 * every piece.
 *
 * IOVA range: the shared caches key IOVAs below 2^57, so Mode 6 (64-bit
 * IOVAs) translates only IOVAs below 2^57 and faults above (a
 * simplification; Mode 5 covers exactly 2^57).
 *
 * Commands (§2.4): COMPLETION_WAIT, INVALIDATE_DEVTAB_ENTRY,
 * INVALIDATE_IOMMU_PAGES (S-bit range encoding; PDE and GN accepted, no
 * page-directory or guest caches exist), INVALIDATE_IOMMU_ALL; opcodes 4,
 * 5, 7 are accepted as no-ops (no device IOTLB, interrupt remapping or
 * PPR). Any other opcode or a set reserved bit is an illegal command: an
 * ILLEGAL_COMMAND_ERROR event with the command's address, CmdBufRun
 * cleared, the head left on the command; software clears CmdBufEn, fixes
 * or skips it (head is writable while stopped) and sets CmdBufEn again.
 * Commands complete synchronously and in order, so a COMPLETION_WAIT
 * completes after everything before it.
 *
 * Faults: an I/O page fault is written to the event log (unless the DTE's
 * SA bit suppresses it) and recorded in the shared fault log
 * (io->faults, hw_reason = the AMD-Vi event code) so iommu_stats.faults
 * counts the same things for both IOMMUs.
 */
#include <assert.h>
#include <string.h>

#include "sim/iommu/iommu.h"
#include "sim/machine.h"
#include "sim/mem.h"

#define AMDVI_WALK_MAX_LEVELS AMDVI_MODE_MAX
#define AMDVI_IOVA_LIMIT_LOG2 57u /* the shared caches' IOVA bound */

/* devc_entry.tt for AMD-Vi: how the DTE lets DMA through. */
enum { DT_XLATE = 0, DT_UNTRANSLATED = 1, DT_MODE0 = 2 };
/* The rest of a cached DTE (struct devc_entry): levels = Mode, table =
 * Page Table Root Pointer, did = DomainID, perm = IR/IW, fpd = SA. */

/* Reserved bits of the commands (§2.4; dword layout in iommu.h). */
#define CW_RSVD_LO 0x0ff0000000000000ull     /* dword 1 bits 27:20 */
#define DTE_INV_RSVD_LO 0x0fffffffffff0000ull
#define PAGES_RSVD_LO 0x0fff0000fff00000ull  /* dword 0 31:20, dword 1 27:16 */
#define PAGES_RSVD_HI 0xff8ull               /* dword 2 bits 11:3 */
#define ALL_RSVD_LO 0x0fffffffffffffffull

/* ---- Device table (§2.2.2) --------------------------------------------- */

static uint8_t acc_of(uint64_t e)
{
	return (uint8_t)(((e & AMDVI_PTE_IR) ? IOMMU_ACC_READ : 0) |
	                 ((e & AMDVI_PTE_IW) ? IOMMU_ACC_WRITE : 0));
}

/* Reads and decodes the DTE of devid (no caching, no stats). Returns
 * IOMMU_OK or IOMMU_F_CTX_INVALID (ILLEGAL_DEV_TABLE_ENTRY). */
static int dte_read(struct iommu *io, uint16_t devid, struct devc_entry *ce)
{
	memset(ce, 0, sizeof(*ce));
	ce->sid = devid;
	if (devid >= io->amd.dt_entries)
		return IOMMU_F_CTX_INVALID;
	uint64_t pa = io->amd.dt_base + (uint64_t)AMDVI_DTE_BYTES * devid;
	uint64_t q0 = mem_read64(&io->m->mem, pa), q1 = mem_read64(&io->m->mem, pa + 8);
	if (!(q0 & AMDVI_DTE_V) || !(q0 & AMDVI_DTE_TV)) {
		ce->tt = DT_UNTRANSLATED;
		return IOMMU_OK;
	}
	ce->levels = (uint8_t)((q0 >> AMDVI_DTE_MODE_SHIFT) & 7);
	ce->table = q0 & AMDVI_ADDR_MASK;
	ce->did = (uint16_t)q1;
	ce->fpd = (q1 & AMDVI_DTE_SA) != 0;
	ce->perm = acc_of(q0);
	if (ce->levels > AMDVI_MODE_MAX)
		return IOMMU_F_CTX_INVALID;
	ce->tt = ce->levels == 0 ? DT_MODE0 : DT_XLATE;
	return IOMMU_OK;
}

static bool dte_same(const struct devc_entry *a, const struct devc_entry *b)
{
	return a->did == b->did && a->table == b->table && a->tt == b->tt &&
	       a->levels == b->levels && a->fpd == b->fpd && a->perm == b->perm;
}

/* The DTE of devid through the DTE cache. *stale is set when a cached
 * entry no longer matches memory. */
static int dte_get(struct iommu *io, uint16_t devid, struct devc_entry *ce, bool *stale)
{
	struct devc_entry *hit = devc_lookup(&io->devc, devid);
	if (hit) {
		struct devc_entry now;
		int f = dte_read(io, devid, &now);
		*stale = f != IOMMU_OK || !dte_same(hit, &now);
		*ce = *hit;
		io->st.ctxc_hits++;
		return IOMMU_OK;
	}
	io->st.ctxc_misses++;
	int f = dte_read(io, devid, ce);
	if (f == IOMMU_OK) {
		io->st.ctxc_fills++;
		io->st.ctxc_evictions += devc_fill(&io->devc, ce);
	}
	return f;
}

/* ---- I/O page walk (§2.2.3) ---------------------------------------------- */

struct am_leaf {
	uint64_t pa_base;  /* of the whole page */
	uint8_t size_log2; /* the page's size (12..63) */
	uint8_t perm;      /* IOMMU_ACC_* (DTE and every level ANDed) */
	uint8_t np;        /* a not-present entry on the way */
	uint8_t fault;     /* IOMMU_OK, or the fault of a bad entry */
	uint8_t rz;        /* bad NextLevel / size encoding (event RZ flag) */
};

static unsigned level_shift(unsigned level)
{
	return 12 + 9 * (level - 1);
}

/* Size of a NextLevel-7 page: bits 12..s-2 of the address set, s-1 clear
 * (§2.2.3 "page size"); 0 if no clear bit below 52. */
static unsigned sized_log2(uint64_t e)
{
	uint64_t a = (e & AMDVI_ADDR_MASK) | 0xfffull;
	if (a == 0x000fffffffffffffull)
		return 0;
	return (unsigned)__builtin_ctzll(~a) + 1;
}

static void leaf_bad(struct am_leaf *out, int f, bool rz)
{
	out->fault = (uint8_t)f;
	out->rz = rz;
	out->size_log2 = 12;
	out->perm = 0;
}

/* Walks the tables of ce for iova. Reads count in *reads (NULL for the
 * diagnostic re-walk). Bounded: NextLevel strictly decreases. */
static void am_walk(struct iommu *io, const struct devc_entry *ce, uint64_t iova,
                    struct am_leaf *out, uint64_t *reads)
{
	assert(ce->levels >= 1 && ce->levels <= AMDVI_MODE_MAX);
	memset(out, 0, sizeof(*out));
	uint64_t table = ce->table;
	uint8_t perm = ce->perm;
	unsigned level = ce->levels;
	for (unsigned step = 0; step < AMDVI_WALK_MAX_LEVELS; step++) {
		unsigned shift = level_shift(level);
		uint64_t e = mem_read64(&io->m->mem, table + 8 * ((iova >> shift) & 511));
		if (reads)
			(*reads)++;
		if (!(e & AMDVI_PTE_PR)) {
			out->np = 1;
			leaf_bad(out, IOMMU_F_PTE_NP, false);
			return;
		}
		perm &= acc_of(e);
		unsigned nl = (unsigned)(e >> AMDVI_PTE_NL_SHIFT) & 7;
		unsigned size = nl == 0 ? shift : nl == AMDVI_NL_SIZED ? sized_log2(e) : 0;
		if (nl == AMDVI_NL_SIZED && (size <= shift || size >= shift + 9)) {
			leaf_bad(out, IOMMU_F_PTE_NP, true); /* size not of this level */
			return;
		}
		if (size) {
			out->size_log2 = (uint8_t)size;
			out->pa_base = e & AMDVI_ADDR_MASK & ~((1ull << size) - 1);
			out->perm = perm;
			return;
		}
		if (nl >= level) {
			leaf_bad(out, IOMMU_F_PTE_NP, true); /* must point downwards */
			return;
		}
		/* Level skipping: the IOVA bits of the skipped levels must be 0. */
		uint64_t skipped = (1ull << shift) - (1ull << level_shift(nl + 1));
		if (iova & skipped) {
			leaf_bad(out, IOMMU_F_ADDR, false);
			return;
		}
		table = e & AMDVI_ADDR_MASK;
		level = nl;
	}
	assert(0 && "walk ended without a leaf");
}

/* What the IOTLB caches for a leaf: the largest of 4K/2M/1G that fits
 * in the page, aligned around iova (see the file comment). */
static void leaf_piece(const struct am_leaf *l, uint64_t iova, uint64_t *pa_base,
                       uint8_t *log2)
{
	unsigned s = l->size_log2 >= 30 ? 30 : l->size_log2 >= 21 ? 21 : 12;
	uint64_t off = iova & ((1ull << l->size_log2) - 1) & ~((1ull << s) - 1);
	*pa_base = l->pa_base + off;
	*log2 = (uint8_t)s;
}

static bool leaf_matches(const struct iotlb_entry *e, const struct am_leaf *l, uint64_t iova)
{
	if (l->fault)
		return false;
	uint64_t pa;
	uint8_t log2;
	leaf_piece(l, iova, &pa, &log2);
	return e->size_log2 == log2 && e->pa_base == pa && e->perm == l->perm;
}

/* ---- Event log (§2.5) ---------------------------------------------------- */

/* Writes one entry at the tail. A full log (tail + 1 == head) sets
 * EventOverflow and stops the log (EventLogRun = 0) until software
 * re-enables it; entries are lost meanwhile. */
static void evt_log(struct iommu *io, uint64_t lo, uint64_t hi)
{
	struct amdvi_regs *a = &io->amd;
	if (!(a->control & AMDVI_CTL_EVT_LOG_EN) || !a->evt_run || !a->evt_entries) {
		a->events_dropped++;
		return;
	}
	uint32_t next = (a->evt_tail + 1) & (a->evt_entries - 1);
	if (next == a->evt_head) {
		a->evt_overflow = 1;
		a->evt_run = 0;
		a->events_dropped++;
		return;
	}
	uint64_t pa = a->evt_base + 16ull * a->evt_tail;
	machine_store64(io->m, -1, pa, lo, false);
	machine_store64(io->m, -1, pa + 8, hi, false);
	a->evt_tail = next;
	a->evt_int = 1;
	a->events_logged++;
}

static uint64_t evt_lo(unsigned code, uint16_t devid, uint16_t did, uint64_t flags)
{
	return (uint64_t)(code & 0xf) << 60 | flags | (uint64_t)did << 32 | devid;
}

/* ---- Faults -------------------------------------------------------------- */

static void fault_record(struct iommu *io, uint16_t devid, uint16_t did, uint64_t iova,
                         int f, unsigned code, uint64_t flags, bool write, bool sa)
{
	io->st.faults++;
	if (sa)
		return; /* DTE.SA: I/O page-fault events suppressed */
	evt_log(io, evt_lo(code, devid, did, flags | (write ? AMDVI_EVF_RW : 0)), iova);
	(void)iommu_fault_log(io, devid, did, iova, f, (uint8_t)code, write);
}

static struct iommu_xlate xl_fault(struct iommu *io, struct iommu_xlate r, uint16_t devid,
                                   uint64_t iova, int f, unsigned acc, bool sa, bool rz)
{
	bool dte = f == IOMMU_F_CTX_INVALID;
	unsigned code = dte ? AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY : AMDVI_EVT_IO_PAGE_FAULT;
	uint64_t flags = (f == IOMMU_F_PERM ? AMDVI_EVF_PR : 0) | (rz ? AMDVI_EVF_RZ : 0);
	r.fault = (uint8_t)f;
	r.pa = 0;
	fault_record(io, devid, dte ? 0 : r.did, iova, f, code, flags,
	             (acc & IOMMU_ACC_WRITE) != 0, sa && !dte);
	return r;
}

/* ---- Translation --------------------------------------------------------- */

static struct iommu_xlate xl_hit(struct iommu *io, struct iommu_xlate r,
                                 const struct devc_entry *ce, struct iotlb_entry *e,
                                 uint16_t devid, uint64_t iova, unsigned acc)
{
	struct am_leaf now;
	am_walk(io, ce, iova, &now, NULL);
	if (!leaf_matches(e, &now, iova)) {
		r.stale = 1;
		io->st.stale_served++;
	}
	iommu_env_judge(io, &r, ce->did, iova, now.fault != IOMMU_OK, now.pa_base, now.size_log2,
	                now.perm);
	assert(!e->np); /* AMD-Vi never caches not-present results */
	r.cycles = IOMMU_COST_IOTLB_HIT;
	r.path = IOMMU_PATH_HIT;
	io->st.iotlb_hits++;
	if (acc & ~e->perm)
		return xl_fault(io, r, devid, iova, IOMMU_F_PERM, acc, ce->fpd, false);
	r.pa = e->pa_base + (iova & ((1ull << e->size_log2) - 1));
	return r;
}

/* IOTLB miss: walk, and fill only a present leaf. */
static struct iommu_xlate xl_walk(struct iommu *io, struct iommu_xlate r,
                                  const struct devc_entry *ce, uint16_t devid,
                                  uint64_t iova, unsigned acc)
{
	struct am_leaf l;
	io->st.iotlb_misses++;
	io->st.walks++;
	am_walk(io, ce, iova, &l, &io->st.walk_reads);
	r.cycles = io->m->prof.iommu_iotlb_miss;
	r.path = IOMMU_PATH_WALK;
	if (l.fault == IOMMU_OK) {
		struct iotlb_entry p;
		memset(&p, 0, sizeof(p));
		p.did = ce->did;
		leaf_piece(&l, iova, &p.pa_base, &p.size_log2);
		p.vpn = iova >> p.size_log2;
		p.perm = l.perm;
		iommu_cache_fill(io, &p);
	}
	iommu_env_judge(io, &r, ce->did, iova, l.fault != IOMMU_OK, l.pa_base, l.size_log2, l.perm);
	if (l.fault)
		return xl_fault(io, r, devid, iova, l.fault, acc, ce->fpd, l.rz);
	if (acc & ~l.perm)
		return xl_fault(io, r, devid, iova, IOMMU_F_PERM, acc, ce->fpd, false);
	r.pa = l.pa_base + (iova & ((1ull << l.size_log2) - 1));
	return r;
}

/* The DTE lets the access through without a walk (V/TV clear, Mode 0). */
static struct iommu_xlate xl_pass(struct iommu *io, struct iommu_xlate r,
                                  const struct devc_entry *ce, uint16_t devid,
                                  uint64_t iova, unsigned acc)
{
	r.path = IOMMU_PATH_PASS;
	if (ce->tt == DT_MODE0 && (acc & ~ce->perm)) {
		r.path = IOMMU_PATH_CTX;
		return xl_fault(io, r, devid, iova, IOMMU_F_PERM, acc, ce->fpd, false);
	}
	r.pa = iova;
	return r;
}

static struct iommu_xlate amdvi_translate(struct iommu *io, uint16_t devid, uint64_t iova,
                                          unsigned acc)
{
	struct iommu_xlate r;
	memset(&r, 0, sizeof(r));
	assert(acc != 0 && (acc & ~(unsigned)(IOMMU_ACC_READ | IOMMU_ACC_WRITE)) == 0);
	io->st.translations++;
	if (!(io->amd.control & AMDVI_CTL_IOMMU_EN)) {
		r.pa = iova;
		r.path = IOMMU_PATH_PASS;
		return r;
	}
	struct devc_entry ce;
	bool stale = false;
	int f = dte_get(io, devid, &ce, &stale);
	if (stale) {
		r.stale = 1;
		io->st.stale_served++;
	}
	r.did = ce.did;
	if (f != IOMMU_OK) {
		r.path = IOMMU_PATH_CTX;
		return xl_fault(io, r, devid, iova, f, acc, false, false);
	}
	if (ce.tt != DT_XLATE)
		return xl_pass(io, r, &ce, devid, iova, acc);
	unsigned bits = level_shift(ce.levels) + 9;
	if (bits > AMDVI_IOVA_LIMIT_LOG2)
		bits = AMDVI_IOVA_LIMIT_LOG2;
	if (iova >> bits) {
		r.path = IOMMU_PATH_CTX;
		return xl_fault(io, r, devid, iova, IOMMU_F_ADDR, acc, ce.fpd, false);
	}
	struct iotlb_entry *e = iotlb_lookup(&io->iotlb, ce.did, iova);
	r = e ? xl_hit(io, r, &ce, e, devid, iova, acc) : xl_walk(io, r, &ce, devid, iova, acc);
	io->st.cycles += r.cycles;
	return r;
}

/* ---- Command buffer (§2.4) ----------------------------------------------- */

/* COMPLETION_WAIT: everything before it has completed (in order); s
 * stores the 64-bit data, i sets Status.ComWaitInt (an interrupt if
 * ComWaitIntEn). f has nothing to flush here. */
static bool do_wait(struct iommu *io, const struct iommu_cmd *c)
{
	if (c->lo & CW_RSVD_LO)
		return false;
	io->st.waits++;
	iommu_note_wait(io);
	if (c->lo & AMDVI_CW_S) {
		machine_store64(io->m, -1, c->lo & 0x000ffffffffffff8ull, c->hi, false);
		io->st.wait_status_writes++;
	}
	if (c->lo & AMDVI_CW_I) {
		io->amd.comwait_int = 1;
		if (io->amd.control & AMDVI_CTL_COMWAIT_INT_EN)
			io->st.wait_interrupts++;
	}
	iommu_charge(io, AMDVI_COST_WAIT);
	return true;
}

/* The DomainID a cached DTE of devid carries (the cache is searched
 * without touching its LRU state); 0 if not cached. */
static uint16_t cached_did(const struct devc *c, uint16_t devid)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->e[i].valid && c->e[i].sid == devid)
			return c->e[i].did;
	return 0;
}

/* INVALIDATE_DEVTAB_ENTRY: the cached DTE of one DeviceID, whatever its
 * domain. */
static bool do_inv_dte(struct iommu *io, const struct iommu_cmd *c)
{
	if ((c->lo & DTE_INV_RSVD_LO) || c->hi)
		return false;
	uint16_t devid = (uint16_t)c->lo;
	iommu_devc_inv(io, IOINV_DEVC_DEVICE, cached_did(&io->devc, devid), devid, 0);
	io->st.inv_cc_device++;
	iommu_charge(io, io->m->prof.amdvi_inv_devtab);
	return true;
}

/* INVALIDATE_IOMMU_PAGES: S=0 one 4 KiB page; S=1 the lowest clear
 * address bit n (>= 12) makes the range 2^(n+1) bytes, naturally aligned
 * (the set bits below n are part of the encoding, hw-facts §1.4); no
 * clear bit below 63 (0x7FFF_FFFF_FFFF_F000) means the whole domain. PDE
 * and GN change nothing: no page-directory or guest-table caches. */
static bool do_inv_pages(struct iommu *io, const struct iommu_cmd *c)
{
	if ((c->lo & PAGES_RSVD_LO) || (c->hi & PAGES_RSVD_HI))
		return false;
	uint16_t did = (uint16_t)(c->lo >> 32);
	uint64_t addr = c->hi & ~0xfffull;
	iommu_charge(io, io->m->prof.amdvi_inv_pages);
	if (!(c->hi & AMDVI_INV_S)) {
		iommu_cache_inv(io, IOINV_IOTLB_RANGE, did, addr, 12);
		io->st.inv_iotlb_page++;
		return true;
	}
	uint64_t clear = ~(addr | 0xfffull);
	unsigned n = clear ? (unsigned)__builtin_ctzll(clear) : 64;
	if (n >= 63) {
		iommu_cache_inv(io, IOINV_IOTLB_DOMAIN, did, 0, 0);
		io->st.inv_iotlb_domain++;
		return true;
	}
	unsigned log2 = n + 1;
	iommu_cache_inv(io, IOINV_IOTLB_RANGE, did, addr & ~((1ull << log2) - 1), log2);
	io->st.inv_iotlb_page++;
	return true;
}

/* INVALIDATE_IOMMU_ALL: every cached translation and DTE. */
static bool do_inv_all(struct iommu *io, const struct iommu_cmd *c)
{
	if ((c->lo & ALL_RSVD_LO) || c->hi)
		return false;
	iommu_cache_inv(io, IOINV_IOTLB_ALL, 0, 0, 0);
	iommu_devc_inv(io, IOINV_DEVC_ALL, 0, 0, 0);
	io->st.inv_iotlb_global++;
	io->st.inv_cc_global++;
	iommu_charge(io, io->m->prof.amdvi_inv_all);
	return true;
}

static bool amdvi_exec(struct iommu *io, const struct iommu_cmd *c)
{
	switch (AMDVI_CMD_OP(c)) {
	case AMDVI_CMD_COMPLETION_WAIT: return do_wait(io, c);
	case AMDVI_CMD_INV_DEVTAB_ENTRY: return do_inv_dte(io, c);
	case AMDVI_CMD_INV_IOMMU_PAGES: return do_inv_pages(io, c);
	case AMDVI_CMD_INV_IOMMU_ALL: return do_inv_all(io, c);
	case AMDVI_CMD_INV_IOTLB_PAGES:
	case AMDVI_CMD_INV_INTR_TABLE:
	case AMDVI_CMD_COMPLETE_PPR: return true; /* nothing cached there */
	default: return false;
	}
}

/* Consumes commands while the buffer runs (CmdBufEn and IommuEn set,
 * CmdBufRun not cleared by an illegal command). */
static uint32_t amdvi_process(struct iommu *io, uint32_t max)
{
	struct iommu_queue *q = &io->q;
	const uint64_t need = AMDVI_CTL_IOMMU_EN | AMDVI_CTL_CMDBUF_EN;
	if ((io->amd.control & need) != need)
		return 0;
	/* The buffer runs iff no command was rejected since it was enabled:
	 * cmd_run and !q->error go together. */
	assert(!io->amd.cmd_run || !q->error);
	if (!io->amd.cmd_run)
		return 0;
	uint64_t bad;
	uint32_t n = iommu_ring_run(io, max, amdvi_exec, &bad);
	if (bad != UINT64_MAX) {
		/* ILLEGAL_COMMAND_ERROR: the address of the command; the head
		 * stays on it and the buffer stops. */
		io->amd.cmd_run = 0;
		evt_log(io, evt_lo(AMDVI_EVT_ILLEGAL_COMMAND, 0, 0, 0), bad);
	}
	return n;
}

/* ---- Registers (§3.4) ---------------------------------------------------- */

static uint64_t status_read(const struct amdvi_regs *a)
{
	return (a->evt_overflow ? AMDVI_ST_EVT_OVERFLOW : 0) |
	       (a->evt_int ? AMDVI_ST_EVT_INT : 0) |
	       (a->comwait_int ? AMDVI_ST_COMWAIT_INT : 0) |
	       (a->evt_run ? AMDVI_ST_EVT_RUN : 0) | (a->cmd_run ? AMDVI_ST_CMDBUF_RUN : 0);
}

static uint64_t amdvi_mmio_read(struct iommu *io, uint32_t off)
{
	const struct amdvi_regs *a = &io->amd;
	switch (off) {
	case AMDVI_REG_DTB: return a->dtb_reg;
	case AMDVI_REG_CMD_BASE: return a->cmd_reg;
	case AMDVI_REG_EVT_BASE: return a->evt_reg;
	case AMDVI_REG_CONTROL: return a->control;
	case AMDVI_REG_CMD_HEAD: return (uint64_t)io->q.head << 4;
	case AMDVI_REG_CMD_TAIL: return (uint64_t)io->q.tail << 4;
	case AMDVI_REG_EVT_HEAD: return (uint64_t)a->evt_head << 4;
	case AMDVI_REG_EVT_TAIL: return (uint64_t)a->evt_tail << 4;
	case AMDVI_REG_STATUS: return status_read(a);
	default: return 0;
	}
}

static void dtb_write(struct iommu *io, uint64_t val)
{
	io->amd.dtb_reg = val & (AMDVI_ADDR_MASK | 0x1ffull);
	io->amd.dt_base = val & AMDVI_ADDR_MASK;
	io->amd.dt_entries = ((uint32_t)(val & 0x1ff) + 1) * (4096u / AMDVI_DTE_BYTES);
	if (io->amd.dt_base + (uint64_t)AMDVI_DTE_BYTES * io->amd.dt_entries > PA_LIMIT)
		io->amd.dt_entries = (uint32_t)((PA_LIMIT - io->amd.dt_base) / AMDVI_DTE_BYTES);
}

/* A ring base register: base and 2^len entries (len below 8 is reserved:
 * the write is ignored). Head and tail restart at 0 (the model's choice;
 * drivers write them to 0 when they program a base anyway). */
static bool ring_write(uint64_t val, uint64_t *reg, uint64_t *base, uint32_t *entries)
{
	unsigned len = (unsigned)(val >> 56) & 0xf;
	if (len < AMDVI_LEN_MIN || (val & AMDVI_ADDR_MASK) + (16ull << len) > PA_LIMIT)
		return false;
	*reg = (val & AMDVI_ADDR_MASK) | (uint64_t)len << 56;
	*base = val & AMDVI_ADDR_MASK;
	*entries = 1u << len;
	return true;
}

/* Control: EventLogEn and CmdBufEn rising start their ring (the Run
 * status bits); falling stops it. */
static void control_write(struct iommu *io, uint64_t val)
{
	struct amdvi_regs *a = &io->amd;
	uint64_t old = a->control;
	a->control = val;
	if ((val & AMDVI_CTL_EVT_LOG_EN) && !(old & AMDVI_CTL_EVT_LOG_EN))
		a->evt_run = a->evt_entries != 0;
	if (!(val & AMDVI_CTL_EVT_LOG_EN))
		a->evt_run = 0;
	if ((val & AMDVI_CTL_CMDBUF_EN) && !(old & AMDVI_CTL_CMDBUF_EN)) {
		a->cmd_run = io->q.entries != 0;
		io->q.error = 0;
	}
	if (!(val & AMDVI_CTL_CMDBUF_EN))
		a->cmd_run = 0;
	amdvi_process(io, io->q.entries); /* commands queued while stopped */
}

/* The command buffer is consumed as soon as the tail moves: the model's
 * hardware finishes every command before the register write returns. */
static void amdvi_mmio_write(struct iommu *io, uint32_t off, uint64_t val)
{
	struct amdvi_regs *a = &io->amd;
	switch (off) {
	case AMDVI_REG_DTB: dtb_write(io, val); break;
	case AMDVI_REG_CMD_BASE:
		if (a->control & AMDVI_CTL_CMDBUF_EN)
			break; /* read-only while the buffer is enabled */
		if (ring_write(val, &a->cmd_reg, &io->q.base, &io->q.entries))
			io->q.head = io->q.tail = 0;
		break;
	case AMDVI_REG_EVT_BASE:
		if (a->control & AMDVI_CTL_EVT_LOG_EN)
			break;
		if (ring_write(val, &a->evt_reg, &a->evt_base, &a->evt_entries))
			a->evt_head = a->evt_tail = 0;
		break;
	case AMDVI_REG_CONTROL: control_write(io, val); break;
	case AMDVI_REG_CMD_HEAD:
		if (!a->cmd_run && io->q.entries) /* writable while stopped */
			io->q.head = (uint32_t)(val >> 4) & (io->q.entries - 1);
		break;
	case AMDVI_REG_CMD_TAIL:
		if (!io->q.entries)
			break;
		io->q.tail = (uint32_t)(val >> 4) & (io->q.entries - 1);
		amdvi_process(io, io->q.entries);
		break;
	case AMDVI_REG_EVT_HEAD:
		if (a->evt_entries)
			a->evt_head = (uint32_t)(val >> 4) & (a->evt_entries - 1);
		break;
	case AMDVI_REG_EVT_TAIL:
		if (!a->evt_run && a->evt_entries) /* hardware's while running */
			a->evt_tail = (uint32_t)(val >> 4) & (a->evt_entries - 1);
		break;
	case AMDVI_REG_STATUS:
		if (val & AMDVI_ST_EVT_OVERFLOW)
			a->evt_overflow = 0;
		if (val & AMDVI_ST_EVT_INT)
			a->evt_int = 0;
		if (val & AMDVI_ST_COMWAIT_INT)
			a->comwait_int = 0;
		break;
	default: break;
	}
}

/* ---- Life cycle ---------------------------------------------------------- */

/* Caches invalid, both rings empty, the event log restarted, fault log
 * and status bits clear. Base registers and Control are kept. */
static void amdvi_reset(struct iommu *io)
{
	struct amdvi_regs *a = &io->amd;
	iommu_unit_reset(io);
	a->evt_head = a->evt_tail = 0;
	a->evt_overflow = a->evt_int = a->comwait_int = 0;
	a->evt_run = (a->control & AMDVI_CTL_EVT_LOG_EN) && a->evt_entries;
	a->cmd_run = (a->control & AMDVI_CTL_CMDBUF_EN) && io->q.entries;
}

static const struct iommu_ops amdvi_ops = {
	.name = "amdvi",
	.translate = amdvi_translate,
	.submit = iommu_ring_submit,
	.process = amdvi_process,
	.reset = amdvi_reset,
	.mmio_read = amdvi_mmio_read,
	.mmio_write = amdvi_mmio_write,
	.fini = iommu_unit_fini,
};

static bool cfg_ok(const struct amdvi_config *cfg)
{
	const uint64_t bases[3] = {cfg->dev_table, cfg->cmd_base, cfg->evt_base};
	for (unsigned i = 0; i < 3; i++)
		if ((bases[i] & 0xfff) || bases[i] >= PA_LIMIT)
			return false;
	return cfg->dev_table_pages <= AMDVI_DT_PAGES_MAX &&
	       (cfg->cmd_len == 0 || (cfg->cmd_len >= AMDVI_LEN_MIN && cfg->cmd_len <= AMDVI_LEN_MAX)) &&
	       (cfg->evt_len == 0 || (cfg->evt_len >= AMDVI_LEN_MIN && cfg->evt_len <= AMDVI_LEN_MAX));
}

int amdvi_init(struct iommu *io, struct machine *m, const struct amdvi_config *cfg)
{
	memset(io, 0, sizeof(*io));
	if (!cfg_ok(cfg))
		return -1;
	if (iommu_unit_init(io, m, &amdvi_ops, IOMMU_AMDVI, cfg->iotlb_entries, cfg->iotlb_ways,
	                    cfg->dtec_entries))
		return -1;
	uint64_t ctl = 0;
	if (cfg->dev_table) {
		unsigned pages = cfg->dev_table_pages ? cfg->dev_table_pages : AMDVI_DT_PAGES_MAX;
		dtb_write(io, amdvi_dtb_reg(cfg->dev_table, pages));
		ctl |= AMDVI_CTL_IOMMU_EN;
	}
	if (cfg->cmd_base) {
		unsigned len = cfg->cmd_len ? cfg->cmd_len : AMDVI_LEN_MIN;
		ring_write(amdvi_ring_reg(cfg->cmd_base, len), &io->amd.cmd_reg, &io->q.base,
		           &io->q.entries);
		ctl |= AMDVI_CTL_CMDBUF_EN;
	}
	if (cfg->evt_base) {
		unsigned len = cfg->evt_len ? cfg->evt_len : AMDVI_LEN_MIN;
		ring_write(amdvi_ring_reg(cfg->evt_base, len), &io->amd.evt_reg,
		           &io->amd.evt_base, &io->amd.evt_entries);
		ctl |= AMDVI_CTL_EVT_LOG_EN;
	}
	control_write(io, ctl);
	return 0;
}
