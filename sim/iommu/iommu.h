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
 * Like the CPU TLB (sim/tlb/tlb.h) there are two views of what is cached,
 * behind one fill/invalidate API (sim/iommu/cache.c):
 *   - the concrete IOTLB: hits, misses, stale translations, cycle costs;
 *   - the envelope (sim/iommu/ioenv.c): every translation the hardware MAY
 *     still hold, whatever the replacement policy did. A translation enters
 *     it when a walk finds it (CM=1: a not-present result too) and leaves it
 *     only through an invalidation that covers it. Properties ask the
 *     envelope, so a run where LRU happened to evict a stale entry still
 *     reports the missing invalidation.
 * Models never touch iotlb_fill/iotlb_inv_* directly: they call
 * iommu_cache_fill / iommu_cache_inv, which keep both views and emit
 * EV_IOTLB_FILL / EV_IOMMU_INV.
 *
 * Events carry io->now, the time of whoever drives the IOMMU (the DMA
 * engine sets it before a translation, the platform before an MMIO write).
 *
 * Determinism: no pointers are compared or hashed, no randomness; two
 * runs with the same inputs give byte-identical statistics.
 */
#ifndef HVSIM_SIM_IOMMU_IOMMU_H
#define HVSIM_SIM_IOMMU_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/u64map.h"

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
	uint8_t env_stale; /* 1: the envelope holds a translation for this
	                      page that differs from the tables: hardware MAY
	                      have served it, whatever the concrete cache did */
	uint8_t pad[2];
	uint64_t env_pa;  /* that translation's pa (0: a cached not-present) */
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

/* Cycle costs: the profile's (sim/profile.h: iommu_iotlb_miss, vtd_inv_*,
 * amdvi_inv_*; the profile files give each its hw-facts §8 source). An
 * invalidation command is charged the whole "invalidation + wait" figure
 * and the wait itself nothing, so one inv+wait pair costs the §8 row. Two
 * structural zeros stay here: */
#define IOMMU_COST_IOTLB_HIT 0u /* est: inside the DMA latency, like an L1
                                   DTLB hit */
#define VTD_COST_WAIT 0u        /* included in the invalidation's figure */

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
	uint8_t perm;     /* AMD-Vi: the DTE's IR/IW as IOMMU_ACC_* */
	uint8_t pad[6];
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
	/* Register access at a byte offset of the unit's MMIO page (VT-d spec
	 * ch. 10, AMD-Vi spec §3.4). A write to the ring's tail register
	 * makes the hardware process the ring (`process`) before it returns:
	 * the model's hardware is synchronous. Unknown offsets read 0 and
	 * ignore writes. */
	uint64_t (*mmio_read)(struct iommu *io, uint32_t off);
	void (*mmio_write)(struct iommu *io, uint32_t off, uint64_t val);
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

/* ---- Envelope (sim/iommu/ioenv.c) ----------------------------------------
 * One record per (did, size, vpn); it holds up to IOENV_ALTS distinct
 * translations that may be cached for that page (a modify without an
 * invalidation adds one); more than that sets `many`, which is treated as
 * "anything may be served". Records live in a vector with a free list and
 * are found through a u64map keyed by ioenv_key(). */
#define IOENV_ALTS 4u
#define IOENV_MAX_RECORDS (1u << 22) /* bound: 4 M pages cached at once */

struct ioenv_alt {
	uint64_t pa_base; /* 0 for not-present */
	uint8_t perm;
	uint8_t np;
	uint8_t pad[6];
};

struct ioenv_rec {
	uint64_t vpn;
	uint16_t did;
	uint8_t size_log2;
	uint8_t nalt;
	uint8_t many;
	uint8_t live;
	uint8_t pad[2];
	uint32_t next_free;
	uint32_t pad2;
	struct ioenv_alt alt[IOENV_ALTS];
};

struct ioenv {
	struct ioenv_rec *r;
	uint32_t n, cap, free_head, live;
	struct u64map idx;
};

/* What the envelope allows for (did, iova) compared with what the tables
 * say now (cur_pa/cur_perm/cur_np of the current walk). */
struct ioenv_verdict {
	uint32_t records;   /* records covering iova (any size) */
	uint8_t may_stale;  /* an alternative differs from the current result */
	uint8_t may_np;     /* a cached not-present result may be served */
	uint8_t pad[2];
	uint64_t stale_pa;  /* one differing translation's pa (for reports) */
};

void ioenv_init(struct ioenv *e);
void ioenv_fini(struct ioenv *e);
/* Adds a translation; returns 1 if it was new for that page, 0 if known. */
int ioenv_add(struct ioenv *e, const struct iotlb_entry *p);
uint32_t ioenv_inv_all(struct ioenv *e);
uint32_t ioenv_inv_domain(struct ioenv *e, uint16_t did);
uint32_t ioenv_inv_range(struct ioenv *e, uint16_t did, uint64_t base, unsigned size_log2);
/* Compares every record covering iova in did with the current result
 * (cur_np: the tables map nothing there). */
struct ioenv_verdict ioenv_check(const struct ioenv *e, uint16_t did, uint64_t iova,
                                 bool cur_np, uint64_t cur_pa, unsigned cur_perm);

/* VT-d registers the model interprets. */
struct vtd_regs {
	uint64_t rtaddr;  /* root-table address (RTADDR_REG), 4 KiB aligned */
	uint8_t cm;       /* CAP.CM caching mode */
	uint8_t mamv;     /* CAP.MAMV: largest AM accepted */
	uint8_t te;       /* GSTS.TES: translation enabled */
	uint8_t qie;      /* GSTS.QIES: queued invalidation enabled */
	uint8_t rtps;     /* GSTS.RTPS: root table pointer latched */
	uint8_t iwc;      /* ICS.IWC: a wait with IF=1 completed */
	uint8_t pfo;      /* FSTS.PFO: fault log overflowed */
	uint8_t pad[1];
	uint64_t rtaddr_reg; /* RTADDR_REG as written; latched by SRTP */
};

/* AMD-Vi registers the model interprets (spec #48882 §3.4; see the AMD-Vi
 * section at the end of this file). Ring positions are entry indices; the
 * head/tail registers hold byte offsets (index << 4). */
struct amdvi_regs {
	uint64_t dtb_reg;      /* Device Table Base register as written */
	uint64_t dt_base;      /* device table: 4 KiB aligned */
	uint32_t dt_entries;   /* (Size + 1) * 4096 / 32 DTEs */
	uint32_t pad0;
	uint64_t cmd_reg;      /* Command Buffer Base register as written */
	uint64_t evt_reg;      /* Event Log Base register as written */
	uint64_t control;      /* Control register (AMDVI_CTL_*) */
	uint64_t evt_base;     /* event log ring */
	uint32_t evt_entries, evt_head, evt_tail, pad1;
	uint8_t evt_overflow;  /* Status.EventOverflow (RW1C) */
	uint8_t evt_int;       /* Status.EventLogInt (RW1C) */
	uint8_t comwait_int;   /* Status.ComWaitInt (RW1C) */
	uint8_t evt_run;       /* Status.EventLogRun */
	uint8_t cmd_run;       /* Status.CmdBufRun */
	uint8_t pad[3];
	uint64_t events_logged, events_dropped; /* entries written / lost to
	                                           overflow or a stopped log */
};

struct iommu {
	const struct iommu_ops *ops;
	struct machine *m;
	enum iommu_kind kind;
	uint32_t unit;   /* index of this IOMMU on the platform (events) */
	uint64_t now;    /* time of the current requester (events) */
	uint32_t cmd_index; /* commands processed so far (EV_IOMMU_INV.f) */
	struct iotlb iotlb;
	struct ioenv env;
	struct devc devc;
	struct iommu_queue q;
	struct vtd_regs vtd;
	struct iommu_fault_rec faults[IOMMU_FAULT_LOG];
	uint32_t nfaults;
	struct iommu_stats st;
	struct amdvi_regs amd; /* AMD-Vi only */
};

/* VT-d registers (spec §10.4) the model implements. */
enum {
	VTD_REG_CAP = 0x08,    /* CAP.CM is bit 7 */
	VTD_REG_GCMD = 0x18,
	VTD_REG_GSTS = 0x1c,
	VTD_REG_RTADDR = 0x20,
	VTD_REG_FSTS = 0x34,   /* PFO bit 0, IQE bit 4 */
	VTD_REG_IQH = 0x80,    /* byte offset of the head: index << 4 */
	VTD_REG_IQT = 0x88,
	VTD_REG_IQA = 0x90,    /* base 63:12, QS 2:0 */
	VTD_REG_ICS = 0x9c,    /* IWC bit 0 */
};
#define VTD_CAP_CM (1ull << 7)
#define VTD_CAP_MAMV_SHIFT 48 /* CAP.MAMV, bits 53:48 */
#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_QIE (1u << 26)
#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_IQE (1u << 4)

/* Construction parameters of a VT-d unit (legacy mode). rtaddr and iq_base
 * 0 leave the unit as firmware hands it over: translation and the queue
 * disabled until software programs RTADDR/IQA and sets GCMD.SRTP, QIE and
 * TE through the registers. */
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

/* ---- The cache layer every model uses (sim/iommu/cache.c) ---------------- */

/* EV_IOMMU_INV.sub: what was invalidated. */
enum {
	IOINV_IOTLB_ALL = 1,
	IOINV_IOTLB_DOMAIN = 2,
	IOINV_IOTLB_RANGE = 3,
	IOINV_DEVC_ALL = 4,
	IOINV_DEVC_DOMAIN = 5,
	IOINV_DEVC_DEVICE = 6,
	IOINV_WAIT = 7, /* VT-d wait descriptor / AMD-Vi COMPLETION_WAIT */
};

/* Caches a translation in the concrete IOTLB and the envelope; emits
 * EV_IOTLB_FILL. */
void iommu_cache_fill(struct iommu *io, const struct iotlb_entry *p);
/* Invalidates IOTLB entries in both views: kind IOINV_IOTLB_ALL (did and
 * range ignored), _DOMAIN (range ignored) or _RANGE; emits EV_IOMMU_INV.
 * Returns the concrete entries removed. */
uint32_t iommu_cache_inv(struct iommu *io, unsigned kind, uint16_t did, uint64_t base,
                         unsigned size_log2);
/* Device-cache invalidation (VT-d context-cache, AMD-Vi DTE cache), with
 * its event: IOINV_DEVC_ALL / _DOMAIN / _DEVICE (sid, fn_mask). */
uint32_t iommu_devc_inv(struct iommu *io, unsigned kind, uint16_t did, uint16_t sid,
                        uint16_t fn_mask);
/* A completion (wait) was processed: an event, so a recording shows where
 * the driver's synchronisation points fell. */
void iommu_note_wait(struct iommu *io);

/* ---- What every model shares (sim/iommu/unit.c) --------------------------- */

/* Zeroes io and builds its caches (0 entries: the defaults). 0 or -1. */
int iommu_unit_init(struct iommu *io, struct machine *m, const struct iommu_ops *ops,
                    enum iommu_kind kind, uint32_t iotlb_entries, uint32_t iotlb_ways,
                    uint32_t devc_entries);
/* Caches and envelope invalid, ring empty and error-free, fault log clear;
 * the model resets its own registers. */
void iommu_unit_reset(struct iommu *io);
void iommu_unit_fini(struct iommu *io);

/* The ring's `submit`: writes cmd at the tail; -1 if none is programmed or
 * it is full. */
int iommu_ring_submit(struct iommu *io, const struct iommu_cmd *c);
/* Executes one command; false rejects it (a queue error). */
typedef bool (*iommu_exec_fn)(struct iommu *io, const struct iommu_cmd *c);
/* Consumes up to max entries from head towards tail while q.error is
 * clear; a rejected entry sets q.error, leaves the head on it and gives
 * its address in *bad_pa (else UINT64_MAX). Returns the number executed. */
uint32_t iommu_ring_run(struct iommu *io, uint32_t max, iommu_exec_fn exec, uint64_t *bad_pa);

/* Appends to the bounded fault log; false (and counted as dropped) when it
 * is full. */
bool iommu_fault_log(struct iommu *io, uint16_t sid, uint16_t did, uint64_t iova, int f,
                     uint8_t hw_reason, bool write);
/* Sets r->env_stale / r->env_pa: may the envelope serve, for (did, iova),
 * something other than the tables' current result (np, or the leaf at
 * pa_base of 2^size_log2 with perm)? */
void iommu_env_judge(struct iommu *io, struct iommu_xlate *r, uint16_t did, uint64_t iova,
                     bool np, uint64_t pa_base, unsigned size_log2, unsigned perm);

static inline void iommu_charge(struct iommu *io, uint64_t cycles)
{
	io->st.cycles += cycles;
}

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
static inline uint64_t iommu_mmio_read(struct iommu *io, uint32_t off)
{
	return io->ops->mmio_read(io, off);
}
static inline void iommu_mmio_write(struct iommu *io, uint32_t off, uint64_t val)
{
	io->ops->mmio_write(io, off, val);
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

/* ---- AMD-Vi (AMD I/O Virtualization Technology spec #48882, hw-facts
 * §1.4; field layouts as in Linux amd_iommu_types.h [S19b] and Xen
 * passthrough/amd [S20]) -------------------------------------------------- */

/* MMIO registers (spec §3.4). Head/tail registers hold byte offsets into
 * their ring (bits 18:4 = index << 4). */
enum {
	AMDVI_REG_DTB = 0x0000,      /* Device Table Base: base 51:12, Size 8:0
	                                ((Size + 1) x 4 KiB) */
	AMDVI_REG_CMD_BASE = 0x0008, /* base 51:12, ComLen 59:56 */
	AMDVI_REG_EVT_BASE = 0x0010, /* base 51:12, EventLen 59:56 */
	AMDVI_REG_CONTROL = 0x0018,
	AMDVI_REG_CMD_HEAD = 0x2000,
	AMDVI_REG_CMD_TAIL = 0x2008,
	AMDVI_REG_EVT_HEAD = 0x2010,
	AMDVI_REG_EVT_TAIL = 0x2018,
	AMDVI_REG_STATUS = 0x2020,
};
#define AMDVI_CTL_IOMMU_EN (1ull << 0)
#define AMDVI_CTL_EVT_LOG_EN (1ull << 2)
#define AMDVI_CTL_EVT_INT_EN (1ull << 3)
#define AMDVI_CTL_COMWAIT_INT_EN (1ull << 4)
#define AMDVI_CTL_CMDBUF_EN (1ull << 12)
#define AMDVI_ST_EVT_OVERFLOW (1ull << 0) /* RW1C */
#define AMDVI_ST_EVT_INT (1ull << 1)      /* RW1C */
#define AMDVI_ST_COMWAIT_INT (1ull << 2)  /* RW1C */
#define AMDVI_ST_EVT_RUN (1ull << 3)      /* RO */
#define AMDVI_ST_CMDBUF_RUN (1ull << 4)   /* RO */
#define AMDVI_LEN_MIN 8u  /* ComLen / EventLen: 2^8 .. 2^15 entries */
#define AMDVI_LEN_MAX 15u
#define AMDVI_DT_PAGES_MAX 512u /* Size 8:0: up to 2 MiB, 65536 DTEs */
#define AMDVI_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12 */

/* Command Buffer / Event Log Base register value: 2^len entries. */
static inline uint64_t amdvi_ring_reg(uint64_t base, unsigned len)
{
	return (base & AMDVI_ADDR_MASK) | (uint64_t)(len & 0xf) << 56;
}
/* Device Table Base register value for a table of `pages` 4 KiB pages
 * (1..512). */
static inline uint64_t amdvi_dtb_reg(uint64_t base, unsigned pages)
{
	return (base & AMDVI_ADDR_MASK) | ((pages - 1) & 0x1ff);
}

/* Device table entry (spec §2.2.2.2): 256 bits, four qwords, indexed by
 * DeviceID (the PCI requester id). Modelled fields, qword 0: V (0), TV
 * (1), Mode (11:9: 0 = translation disabled, access by IR/IW; 1..6 =
 * paging levels; 7 reserved), Page Table Root Pointer (51:12), IR (61),
 * IW (62). Qword 1: DomainID (15:0), SA (34: suppress all I/O page-fault
 * events). Qwords 2-3 (interrupt remapping) are not read. */
#define AMDVI_DTE_V (1ull << 0)
#define AMDVI_DTE_TV (1ull << 1)
#define AMDVI_DTE_MODE_SHIFT 9
#define AMDVI_DTE_IR (1ull << 61)
#define AMDVI_DTE_IW (1ull << 62)
#define AMDVI_DTE_SA (1ull << 34) /* in qword 1 */
#define AMDVI_DTE_BYTES 32u
#define AMDVI_MODE_MAX 6u

static inline uint64_t amdvi_dte_q0(uint64_t root, unsigned mode, uint64_t flags)
{
	return (root & AMDVI_ADDR_MASK) | (uint64_t)(mode & 7) << AMDVI_DTE_MODE_SHIFT |
	       (flags & (AMDVI_DTE_V | AMDVI_DTE_TV | AMDVI_DTE_IR | AMDVI_DTE_IW));
}
static inline uint64_t amdvi_dte_q1(uint16_t did, uint64_t flags)
{
	return (uint64_t)did | (flags & AMDVI_DTE_SA);
}

/* I/O page-table entries (spec §2.2.3): PR (0), NextLevel (11:9),
 * address (51:12), U (59), FC (60), IR (61), IW (62). NextLevel 0 at level
 * L is a leaf of the level's size (4K, 2M, 1G, ...); 1..L-1 points to the
 * table of that level (skipping levels when < L-1: the skipped IOVA bits
 * must be 0); 7 is a leaf whose size is encoded in the address: bits
 * 12..s-2 set and s-1 clear give a 2^s page, larger than the level's own
 * page and smaller than its parent's. Permissions are ANDed down the walk
 * with the DTE's IR/IW. */
#define AMDVI_PTE_PR (1ull << 0)
#define AMDVI_PTE_NL_SHIFT 9
#define AMDVI_PTE_U (1ull << 59)
#define AMDVI_PTE_FC (1ull << 60)
#define AMDVI_PTE_IR (1ull << 61)
#define AMDVI_PTE_IW (1ull << 62)
#define AMDVI_PTE_RW (AMDVI_PTE_IR | AMDVI_PTE_IW)
#define AMDVI_NL_SIZED 7u

/* A directory entry pointing to a table of level next_level. */
static inline uint64_t amdvi_pde(uint64_t table, unsigned next_level, uint64_t perm)
{
	return (table & AMDVI_ADDR_MASK) | (uint64_t)(next_level & 7) << AMDVI_PTE_NL_SHIFT |
	       (perm & AMDVI_PTE_RW) | AMDVI_PTE_PR;
}
/* A leaf with NextLevel 0: its size is the level's (pa aligned to it). */
static inline uint64_t amdvi_pte(uint64_t pa, uint64_t perm)
{
	return (pa & AMDVI_ADDR_MASK) | (perm & (AMDVI_PTE_RW | AMDVI_PTE_FC | AMDVI_PTE_U)) |
	       AMDVI_PTE_PR;
}
/* A NextLevel-7 leaf of 2^size_log2 bytes (13..63), pa aligned to it. */
static inline uint64_t amdvi_pte_sized(uint64_t pa, unsigned size_log2, uint64_t perm)
{
	uint64_t addr = (pa | ((1ull << (size_log2 - 1)) - 1)) & AMDVI_ADDR_MASK;
	return addr | (uint64_t)AMDVI_NL_SIZED << AMDVI_PTE_NL_SHIFT | (perm & AMDVI_PTE_RW) |
	       AMDVI_PTE_PR;
}

/* Commands (spec §2.4; 128 bits: lo = dwords 0-1, hi = dwords 2-3; the
 * opcode is dword 1 bits 31:28). */
enum {
	AMDVI_CMD_COMPLETION_WAIT = 1,
	AMDVI_CMD_INV_DEVTAB_ENTRY = 2,
	AMDVI_CMD_INV_IOMMU_PAGES = 3,
	AMDVI_CMD_INV_IOTLB_PAGES = 4,  /* device (ATS) IOTLB: none modelled */
	AMDVI_CMD_INV_INTR_TABLE = 5,   /* no interrupt remapping modelled */
	AMDVI_CMD_COMPLETE_PPR = 7,     /* no PPR modelled */
	AMDVI_CMD_INV_IOMMU_ALL = 8,
};
#define AMDVI_CMD_OP_SHIFT 60
#define AMDVI_CMD_OP(c) ((unsigned)((c)->lo >> AMDVI_CMD_OP_SHIFT) & 0xf)
/* COMPLETION_WAIT flags (dword 0): s = store, i = interrupt, f = flush. */
#define AMDVI_CW_S (1ull << 0)
#define AMDVI_CW_I (1ull << 1)
#define AMDVI_CW_F (1ull << 2)
/* INVALIDATE_IOMMU_PAGES flags (dword 2). */
#define AMDVI_INV_S (1ull << 0)
#define AMDVI_INV_PDE (1ull << 1)
#define AMDVI_INV_GN (1ull << 2)
/* S=1 with this address: every page of the domain (hw-facts §1.4). */
#define AMDVI_INV_ALL_PAGES 0x7ffffffffffff000ull

/* s: store the 64-bit data at the 8-byte-aligned store_pa. */
static inline struct iommu_cmd amdvi_cmd_completion_wait(uint64_t flags, uint64_t store_pa,
                                                         uint64_t data)
{
	struct iommu_cmd c = {
		.lo = (uint64_t)AMDVI_CMD_COMPLETION_WAIT << AMDVI_CMD_OP_SHIFT |
		      (store_pa & 0x000ffffffffffff8ull) |
		      (flags & (AMDVI_CW_S | AMDVI_CW_I | AMDVI_CW_F)),
		.hi = data,
	};
	return c;
}
static inline struct iommu_cmd amdvi_cmd_inv_devtab(uint16_t devid)
{
	struct iommu_cmd c = {
		.lo = (uint64_t)AMDVI_CMD_INV_DEVTAB_ENTRY << AMDVI_CMD_OP_SHIFT | devid,
		.hi = 0,
	};
	return c;
}
/* Raw form: addr[63:12] and AMDVI_INV_* flags as given. */
static inline struct iommu_cmd amdvi_cmd_inv_pages(uint16_t did, uint64_t addr, uint64_t flags)
{
	struct iommu_cmd c = {
		.lo = (uint64_t)AMDVI_CMD_INV_IOMMU_PAGES << AMDVI_CMD_OP_SHIFT |
		      (uint64_t)did << 32,
		.hi = (addr & ~0xfffull) | (flags & (AMDVI_INV_S | AMDVI_INV_PDE | AMDVI_INV_GN)),
	};
	return c;
}
/* The encoding a driver uses for [start, start + bytes) (hw-facts §1.4,
 * as Linux build_inv_address): one page with S=0; otherwise S=1 with
 * every address bit below the highest bit that differs between the first
 * and last byte set, i.e. the smallest naturally aligned power-of-two
 * block holding the range; beyond bit 51, the whole domain. */
static inline struct iommu_cmd amdvi_cmd_inv_range(uint16_t did, uint64_t start,
                                                   uint64_t bytes, bool pde)
{
	uint64_t pf = pde ? AMDVI_INV_PDE : 0;
	uint64_t first = start & ~0xfffull, last = start + bytes - 1;
	if (bytes <= 4096 && (last & ~0xfffull) == first)
		return amdvi_cmd_inv_pages(did, first, pf);
	unsigned msb = 63u - (unsigned)__builtin_clzll(first ^ last);
	uint64_t addr = msb > 51 ? AMDVI_INV_ALL_PAGES : first | ((1ull << msb) - 1);
	return amdvi_cmd_inv_pages(did, addr, AMDVI_INV_S | pf);
}
static inline struct iommu_cmd amdvi_cmd_inv_all(void)
{
	struct iommu_cmd c = {
		.lo = (uint64_t)AMDVI_CMD_INV_IOMMU_ALL << AMDVI_CMD_OP_SHIFT,
		.hi = 0,
	};
	return c;
}

/* Event log entries (spec §2.5; 128 bits like a command): event code in
 * dword 1 bits 31:28, DeviceID dword 0 bits 15:0, DomainID dword 1 bits
 * 15:0, flags dword 1 bits 27:16, address in dwords 2-3. */
enum {
	AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY = 1,
	AMDVI_EVT_IO_PAGE_FAULT = 2,
	AMDVI_EVT_ILLEGAL_COMMAND = 5,
};
#define AMDVI_EVT_CODE(lo) ((unsigned)((lo) >> 60) & 0xf)
#define AMDVI_EVT_DEVID(lo) ((uint16_t)(lo))
#define AMDVI_EVT_DOMID(lo) ((uint16_t)((lo) >> 32))
/* Flags (dword 1 bits 27:16): I (interrupt request), PR (the translation
 * was present: a permission fault), RW (write), RZ (reserved bit / bad
 * encoding in a table entry). */
#define AMDVI_EVF_I (1ull << (48 + 3))
#define AMDVI_EVF_PR (1ull << (48 + 4))
#define AMDVI_EVF_RW (1ull << (48 + 5))
#define AMDVI_EVF_RZ (1ull << (48 + 7))

/* Cycle costs (hw-facts §8 Zen2-like column). INVALIDATE_IOMMU_PAGES is
 * charged the "+ COMPLETION_WAIT" row and the wait itself nothing, as
 * vtd.c charges its invalidations; the DTE and "all" invalidations have
 * no published figure and take the same estimate. */
#define AMDVI_COST_WAIT 0u        /* included in the rows above */

/* Construction parameters of an AMD-Vi unit. A base of 0 leaves that
 * structure as firmware hands it over: software programs it through the
 * registers and enables it in the Control register (dev_table 0 also
 * leaves IommuEn clear: DMA passes untranslated). */
struct amdvi_config {
	uint64_t dev_table;       /* Device Table Base, 4 KiB aligned */
	uint32_t dev_table_pages; /* 1..512 (0: 512, the full 2 MiB table) */
	uint32_t cmd_len;         /* ComLen 8..15 (0: 8, 256 entries) */
	uint64_t cmd_base;        /* command buffer, 4 KiB aligned */
	uint64_t evt_base;        /* event log, 4 KiB aligned */
	uint32_t evt_len;         /* EventLen 8..15 (0: 8) */
	uint32_t iotlb_entries, iotlb_ways, dtec_entries; /* 0: defaults */
};

/* Builds an AMD-Vi unit (IommuEn, CmdBufEn, EventLogEn set for the
 * structures the config provides). Returns 0, -1 on a bad config or out
 * of memory. Tear down with iommu_fini. */
int amdvi_init(struct iommu *io, struct machine *m, const struct amdvi_config *cfg);

#endif
