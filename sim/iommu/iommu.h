/* IOMMU models: one interface for Intel VT-d and (later) AMD-Vi
 * (shared/reference/hw-facts.md §1.3, §1.4).
 *
 * A device issues a DMA with its source-id (PCI bus/dev/fn) and an I/O
 * virtual address; the IOMMU finds the device's domain through its
 * context (VT-d root/context tables; AMD-Vi device table), translates the
 * IOVA through that domain's I/O page tables, and caches both steps:
 *   - the device cache (VT-d context-cache, AMD-Vi DTE cache): keyed by
 *     source-id, tagged by domain-id;
 *   - the IOTLB: set-associative, deterministic LRU, tagged by domain-id
 *     and IOVA page (4K/2M/1G).
 * The driver invalidates both through a ring of 16-byte commands in
 * simulated memory (VT-d queued invalidation, AMD-Vi command buffer):
 * `submit` writes one at the tail, `process` lets the hardware consume
 * from head to tail in order.
 *
 * Like the CPU TLB (sim/tlb/tlb.h) the caches here are a concrete view:
 * they produce hits, misses, stale translations and cycle costs. There is
 * no envelope (may-cache set) for the IOMMU yet.
 *
 * Events: none emitted yet (no IOMMU event types exist; EV_NOTE is not
 * used either). Everything observable is in struct iommu_stats and the
 * fault log.
 *
 * Determinism: no pointers are compared or hashed, no randomness; two
 * runs with the same inputs give byte-identical statistics.
 */
#ifndef HVSIM_SIM_IOMMU_IOMMU_H
#define HVSIM_SIM_IOMMU_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct iommu;

/* PCI requester id: bus[15:8] dev[7:3] fn[2:0]. */
#define IOMMU_SID(bus, dev, fn) \
	((uint16_t)((((bus) & 0xffu) << 8) | (((dev) & 0x1fu) << 3) | ((fn) & 7u)))

/* DMA access kind (iommu_translate acc). */
enum { IOMMU_ACC_READ = 1 << 0, IOMMU_ACC_WRITE = 1 << 1 };

/* Why a DMA was blocked (struct iommu_xlate.fault, fault records). The
 * VT-d hardware fault reason (spec ch. 7, reasons 1..0xC) is kept beside
 * it in the record. */
enum iommu_fault {
	IOMMU_OK = 0,
	IOMMU_F_ROOT_NP = 1,     /* root entry not present (VT-d reason 1) */
	IOMMU_F_CTX_NP = 2,      /* context entry not present (reason 2) */
	IOMMU_F_CTX_INVALID = 3, /* context entry badly programmed: TT or AW
	                            unsupported (reason 3) */
	IOMMU_F_ADDR = 4,        /* IOVA above the domain's address width
	                            (reason 4) */
	IOMMU_F_PTE_NP = 5,      /* second-level entry not present (R=W=0):
	                            VT-d reports reason 6 (read) or 5 (write) */
	IOMMU_F_PERM = 6,        /* present, but no R (reason 6) / W (reason 5)
	                            along the walk */
};

/* How a DMA was translated (struct iommu_xlate.path). */
enum {
	IOMMU_PATH_HIT = 0,      /* IOTLB hit */
	IOMMU_PATH_WALK = 1,     /* IOTLB miss: I/O page walk */
	IOMMU_PATH_PASS = 2,     /* pass-through context (TT=10b): pa = iova */
	IOMMU_PATH_CTX = 3,      /* stopped at the root/context step */
	IOMMU_PATH_NP_HIT = 4,   /* hit on a cached not-present entry (CM=1) */
};

struct iommu_xlate {
	uint64_t pa;      /* valid when fault == IOMMU_OK */
	uint64_t cycles;  /* charged to the IOMMU for this DMA */
	uint16_t did;     /* domain used (0 if none) */
	uint8_t fault;    /* enum iommu_fault */
	uint8_t path;     /* IOMMU_PATH_* */
	uint8_t stale;    /* 1: served from a cache entry that no longer
	                     matches the tables in memory (diagnostic: the
	                     model re-walks to tell) */
	uint8_t pad[3];
};

/* One ring entry: a 128-bit VT-d descriptor or AMD-Vi command. */
struct iommu_cmd {
	uint64_t lo, hi;
};

/* Fault log: VT-d's fault recording registers, bounded. When full, new
 * faults are dropped and counted (primary fault overflow, PFO). */
#define IOMMU_FAULT_LOG 32u

struct iommu_fault_rec {
	uint64_t iova;
	uint16_t sid;
	uint16_t did;
	uint8_t reason;   /* enum iommu_fault */
	uint8_t hw_reason; /* VT-d fault reason code (spec ch. 7) */
	uint8_t write;    /* 1: write request */
	uint8_t pad;
};

/* Statistics: plain counters only (compared byte-wise by the tests). */
struct iommu_stats {
	uint64_t translations, faults, faults_dropped;
	uint64_t iotlb_hits, iotlb_np_hits, iotlb_misses, iotlb_fills,
	         iotlb_evictions, iotlb_inv_entries;
	uint64_t ctxc_hits, ctxc_np_hits, ctxc_misses, ctxc_fills,
	         ctxc_evictions, ctxc_inv_entries;
	uint64_t walks, walk_reads, stale_served;
	uint64_t cmds_submitted, cmds_processed, cmds_rejected, queue_full;
	uint64_t inv_cc_global, inv_cc_domain, inv_cc_device;
	uint64_t inv_iotlb_global, inv_iotlb_domain, inv_iotlb_page,
	         psi_misaligned;
	uint64_t waits, wait_status_writes, wait_interrupts;
	uint64_t cycles; /* total cycles charged to this IOMMU */
};

/* Cycle costs (hw-facts §8 "Default cycle-cost profile"; Skylake-like
 * column; kept here until the profile files grow IOMMU fields). An
 * invalidation command is charged the whole "invalidation + wait" figure
 * and the wait descriptor nothing, so one inv+wait pair costs the §8 row.
 */
#define IOMMU_COST_IOTLB_HIT 0u        /* est: inside the DMA latency, like
                                          an L1 DTLB hit */
#define IOMMU_COST_IOTLB_MISS 1500u    /* §8 "IOTLB miss (IOMMU walk)",
                                          est ≈500 ns */
#define VTD_COST_INV_IOTLB_PSI 2500u   /* §8 "IOTLB PSI + wait", derived
                                          from [S51] */
#define VTD_COST_INV_IOTLB_DSI 3000u   /* §8 "domain/global invalidation +
                                          wait", est (+ refill, modelled
                                          by later misses) */
#define VTD_COST_INV_CC 2500u          /* §8 "context-cache invalidation +
                                          wait", est */
#define VTD_COST_WAIT 0u               /* included in the rows above */
#define AMDVI_COST_INV_PAGES_WAIT 4500u /* §8 Zen2-like, est (no data) */

/* Geometry defaults (estimates: no published IOTLB geometry in hw-facts). */
#define IOMMU_IOTLB_ENTRIES_DEFAULT 64u
#define IOMMU_IOTLB_WAYS_DEFAULT 4u
#define IOMMU_CTXC_ENTRIES_DEFAULT 16u

/* ---- Concrete caches (sim/iommu/iotlb.c) -------------------------------- */

struct iotlb_entry {
	uint64_t vpn;      /* iova >> size_log2 */
	uint64_t pa_base;  /* 0 for a not-present entry */
	uint32_t lru;
	uint16_t did;
	uint8_t valid;
	uint8_t np;        /* cached not-present result (CM=1 only) */
	uint8_t size_log2; /* 12, 21, 30 */
	uint8_t perm;      /* IOMMU_ACC_* allowed */
	uint8_t pad[6];
};

struct iotlb {
	uint32_t sets, ways, set_mask, clock;
	struct iotlb_entry *e; /* sets * ways */
};

/* Device cache entry (VT-d context-cache entry): what the root+context
 * walk found for one source-id. */
struct devc_entry {
	uint64_t table;   /* second-level page-table pointer */
	uint32_t lru;
	uint16_t sid;
	uint16_t did;
	uint8_t valid;
	uint8_t np;       /* cached not-present context (CM=1, DID 0) */
	uint8_t tt;       /* translation type */
	uint8_t levels;   /* 3 or 4 */
	uint8_t fpd;      /* fault processing disable */
	uint8_t pad[7];
};

struct devc {
	uint32_t n, clock;
	struct devc_entry *e;
};

int iotlb_init(struct iotlb *t, uint32_t entries, uint32_t ways);
void iotlb_fini(struct iotlb *t);
/* The entry for (did, iova) of any size, made most recently used; NULL on
 * a miss. */
struct iotlb_entry *iotlb_lookup(struct iotlb *t, uint16_t did, uint64_t iova);
/* Inserts proto (vpn, size, did set); returns true if a valid entry of
 * another page was evicted. Refills a matching entry in place. */
bool iotlb_fill(struct iotlb *t, const struct iotlb_entry *proto);
/* Invalidation primitives; each returns the number of entries removed. */
uint32_t iotlb_inv_all(struct iotlb *t);
uint32_t iotlb_inv_domain(struct iotlb *t, uint16_t did);
/* Entries of did overlapping [base, base + 2^size_log2). */
uint32_t iotlb_inv_range(struct iotlb *t, uint16_t did, uint64_t base,
                         unsigned size_log2);

int devc_init(struct devc *c, uint32_t n);
void devc_fini(struct devc *c);
struct devc_entry *devc_lookup(struct devc *c, uint16_t sid);
bool devc_fill(struct devc *c, const struct devc_entry *proto);
uint32_t devc_inv_all(struct devc *c);
uint32_t devc_inv_domain(struct devc *c, uint16_t did);
/* Entries with this did whose sid matches ignoring the function bits in
 * fn_mask (VT-d FM). */
uint32_t devc_inv_device(struct devc *c, uint16_t did, uint16_t sid, uint16_t fn_mask);

/* ---- The IOMMU ------------------------------------------------------------ */

struct iommu_ops {
	const char *name;
	struct iommu_xlate (*translate)(struct iommu *io, uint16_t sid, uint64_t iova,
	                                unsigned acc);
	/* Writes cmd at the tail of the ring and advances the tail (the
	 * driver's store and IQT/tail register write). -1 if full. */
	int (*submit)(struct iommu *io, const struct iommu_cmd *cmd);
	/* Hardware consumes up to max commands from head towards tail, in
	 * order; stops at an invalid command (queue error). Returns the
	 * number processed. */
	uint32_t (*process)(struct iommu *io, uint32_t max);
	/* Hardware reset: caches invalid, ring empty, fault log clear. */
	void (*reset)(struct iommu *io);
	void (*fini)(struct iommu *io);
};

/* The command ring (VT-d invalidation queue, AMD-Vi command buffer).
 * head/tail are entry indices (the hardware registers hold byte offsets:
 * VT-d IQH/IQT = index << 4). */
struct iommu_queue {
	uint64_t base;      /* 4 KiB-aligned physical address */
	uint32_t entries;   /* power of two */
	uint32_t head, tail;
	uint8_t error;      /* VT-d FSTS.IQE: head stays on the bad entry */
	uint8_t pad[3];
};

enum iommu_kind { IOMMU_VTD = 1, IOMMU_AMDVI = 2 };

/* VT-d registers the model interprets. */
struct vtd_regs {
	uint64_t rtaddr;  /* root-table address (RTADDR_REG), 4 KiB aligned */
	uint8_t cm;       /* CAP.CM caching mode */
	uint8_t mamv;     /* CAP.MAMV: largest AM accepted */
	uint8_t te;       /* GSTS.TES: translation enabled */
	uint8_t iwc;      /* ICS.IWC: a wait with IF=1 completed */
	uint8_t pfo;      /* FSTS.PFO: fault log overflowed */
	uint8_t pad[3];
};

struct iommu {
	const struct iommu_ops *ops;
	struct machine *m;
	enum iommu_kind kind;
	struct iotlb iotlb;
	struct devc devc;
	struct iommu_queue q;
	struct vtd_regs vtd;
	struct iommu_fault_rec faults[IOMMU_FAULT_LOG];
	uint32_t nfaults;
	struct iommu_stats st;
};

/* Construction parameters of a VT-d unit (legacy mode). */
struct vtd_config {
	uint64_t rtaddr;      /* root table (256 x 16 bytes) */
	uint64_t iq_base;     /* invalidation queue, 4 KiB aligned */
	uint32_t iq_x;        /* IQA.QS: 2^(X+8) entries, X <= 7 */
	bool caching_mode;    /* CAP.CM */
	uint8_t mamv;         /* 0 means the default (9) */
	uint32_t iotlb_entries, iotlb_ways, ctxc_entries; /* 0: defaults */
};

/* Builds a VT-d unit with translation enabled. Returns 0, -1 on a bad
 * config or out of memory. Tear down with iommu_fini. */
int vtd_init(struct iommu *io, struct machine *m, const struct vtd_config *cfg);
/* SRTP: a new root table; the caches are not touched (software must
 * invalidate globally afterwards). */
void vtd_set_rtaddr(struct iommu *io, uint64_t rtaddr);

static inline struct iommu_xlate iommu_translate(struct iommu *io, uint16_t sid,
                                                 uint64_t iova, unsigned acc)
{
	return io->ops->translate(io, sid, iova, acc);
}
static inline int iommu_submit(struct iommu *io, const struct iommu_cmd *c)
{
	return io->ops->submit(io, c);
}
static inline uint32_t iommu_process(struct iommu *io, uint32_t max)
{
	return io->ops->process(io, max);
}
static inline void iommu_reset(struct iommu *io)
{
	io->ops->reset(io);
}
static inline void iommu_fini(struct iommu *io)
{
	if (io->ops)
		io->ops->fini(io);
}

/* ---- VT-d in-memory formats (spec §9.1 root entry, §9.3 context entry,
 * §9.8 second-level paging entries) ---------------------------------------- */

#define VTD_ENTRY_P (1ull << 0)
#define VTD_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */

/* Root entry (§9.1), low qword: P, context-table pointer; high reserved. */
static inline uint64_t vtd_root_lo(uint64_t ctp)
{
	return (ctp & VTD_ADDR_MASK) | VTD_ENTRY_P;
}

/* Context entry (§9.3). Low: P (0), FPD (1), TT (3:2), SLPTPTR (63:12).
 * High: AW (2:0: 1 = 39-bit 3-level, 2 = 48-bit 4-level), DID (23:8). */
enum { VTD_TT_SL = 0, VTD_TT_SL_DEVTLB = 1, VTD_TT_PASS = 2 };
enum { VTD_AW_39 = 1, VTD_AW_48 = 2 };
#define VTD_CTX_FPD (1ull << 1)

static inline uint64_t vtd_ctx_lo(uint64_t slptptr, unsigned tt)
{
	return (slptptr & VTD_ADDR_MASK) | ((uint64_t)(tt & 3) << 2) | VTD_ENTRY_P;
}
static inline uint64_t vtd_ctx_hi(unsigned aw, uint16_t did)
{
	return (uint64_t)(aw & 7) | ((uint64_t)did << 8);
}

/* Second-level entries: R (0), W (1), PS (7, superpage at levels 2/3),
 * address 51:12. Not present when R = W = 0. */
#define VTD_SL_R (1ull << 0)
#define VTD_SL_W (1ull << 1)
#define VTD_SL_PS (1ull << 7)

/* ---- Queued-invalidation descriptors (spec §6.5.2; field layout as in
 * QEMU intel_iommu_internal.h [S13]) --------------------------------------- */

enum {
	VTD_DESC_CC = 1,
	VTD_DESC_IOTLB = 2,
	VTD_DESC_DEVTLB = 3,
	VTD_DESC_IEC = 4,
	VTD_DESC_WAIT = 5,
};
/* Granularity field (bits 5:4) of types 1 and 2. */
enum { VTD_G_GLOBAL = 1, VTD_G_DOMAIN = 2, VTD_G_DEVICE_OR_PAGE = 3 };

#define VTD_WAIT_IF (1ull << 4)
#define VTD_WAIT_SW (1ull << 5)
#define VTD_WAIT_FN (1ull << 6)

static inline struct iommu_cmd vtd_desc_cc(unsigned g, uint16_t did, uint16_t sid,
                                           unsigned fm)
{
	struct iommu_cmd c = {
		.lo = VTD_DESC_CC | ((uint64_t)(g & 3) << 4) | ((uint64_t)did << 16) |
		      ((uint64_t)sid << 32) | ((uint64_t)(fm & 3) << 48),
		.hi = 0,
	};
	return c;
}

/* addr: 4 KiB aligned, and aligned to 2^am pages for page-selective. */
static inline struct iommu_cmd vtd_desc_iotlb(unsigned g, uint16_t did, uint64_t addr,
                                              unsigned am, bool ih)
{
	struct iommu_cmd c = {
		.lo = VTD_DESC_IOTLB | ((uint64_t)(g & 3) << 4) | ((uint64_t)did << 16),
		.hi = (addr & ~0xfffull) | ((uint64_t)ih << 6) | (am & 0x3f),
	};
	return c;
}

/* Invalidation wait: flags VTD_WAIT_*; status written to a 4-byte aligned
 * address when SW is set. */
static inline struct iommu_cmd vtd_desc_wait(uint64_t flags, uint64_t status_pa,
                                             uint32_t data)
{
	struct iommu_cmd c = {
		.lo = VTD_DESC_WAIT | (flags & (VTD_WAIT_IF | VTD_WAIT_SW | VTD_WAIT_FN)) |
		      ((uint64_t)data << 32),
		.hi = status_pa & ~3ull,
	};
	return c;
}

#endif
