/* Events: the one record of everything a run did.
 *
 * Every model emits events through the machine's bus (sim/bus.h); sinks
 * (the SQLite recorder, the in-process checkers, later the trace writer)
 * consume them. An event is a fixed-size, fully initialised struct: it is
 * hashed for determinism digests and written to disk, so it has no implicit
 * padding (static_assert below) and every constructor zeroes it first.
 *
 * The generic payload a..f is typed per event kind; the table below is the
 * contract, mirrored by the SQL views in record/schema.sql and documented in
 * docs/recording.md. "va" is a linear address, "pa" a physical address.
 *
 *  type            sub               a          b            c              d                e                 f
 *  EV_ACCESS       acc flags(ACC_*)  va         pa (result)  pcid           path (PATH_*)    ACCF_* bits       cycles charged
 *  EV_FILL         TLBL_* structure  va base    pa base      pcid           page/entry log2  global (0/1)      level of entry (1..4)
 *  EV_EVICT        TLBL_* structure  va base    pa base      pcid           page/entry log2  global (0/1)      level of entry
 *  EV_WALK         walk result       va         pa or 0      pcid           levels read      #PF error or 0    cycles
 *  EV_FAULT        vector (VEC_*)    va/operand error code   instr (INSTR_*) 0               0                 0
 *  EV_FLUSH        INSTR_*           va         pcid         removed_tlb    removed_env      stale_removed     scope (SCOPE_*) | necessary<<8 | globals<<9
 *  EV_PTE_WRITE    level (1..4)      entry pa   old value    new value      va (or ~0)       PTEW_* flags      table frame pa
 *  EV_CR_WRITE     reg (0,3,4)       old        new          faulted (0/1)  0                0                 0
 *  EV_IPI          IPI_SEND/DELIVER  from cpu   to cpu       id             latency          0                 0
 *  EV_QUIESCE      0                 point id   stale found  0              0                0                 0
 *  EV_ENV_ADD      ENVK_* kind       record id  pcid/ENV_GLOBAL va base     size log2        level<<8          old entry / table pa
 *  EV_ENV_DROP     INSTR_* dropper   record id  flush seq    was stale      0                0                 0
 *  EV_ENV_STALE    ENVK_* kind       record id  pcid         va             size log2        reason (STALE_*)  old value
 *  EV_TABLE        TBL_ALLOC/FREE    frame pa   level        live links     env refs         0                 0
 *  EV_CACHE_FLUSH  INSTR_CLFLUSH/WBINVD pa      0            0              0                0                 0
 *  EV_EXPECT       0 pass / 1 fail   expectation id actual   expected       0                0                 0
 *  EV_NOTE         0                 arg        0            0              0                0                 0
 *  EV_CHECK        CHECK_* kind      va / frame expected     actual         op index         cpu checked       pages / count
 *  EV_HV_OP        op kind           va         pages        map steps      shatters<<32|merges  tables alloc<<32|freed  flush calls (local + IPI rounds)
 *  EV_DMA          IOMMU_ACC_*       iova       pa or 0      sid<<16|did    path|fault<<8|stale<<16|env_stale<<17  device<<32|len  unit<<32|envelope pfn (0xffffffff: none)
 *  EV_IOTLB_FILL   0 leaf / 1 np     iova base  pa base      did            size log2        perm             unit
 *  EV_IOMMU_INV    IOINV_* kind      did        base         size log2      removed (concrete) removed (envelope)  unit<<32|command index
 *  EV_IO_OP        IOOP_* kind       dfn        mfn          pages          io domain        flush type | invalidations<<8 | elide<<31  rc (int64)
 *  EV_IO_OWN       0 give / 1 take   io domain  pa           pages          0                0                 0
 *
 * The IOMMU events (sim/iommu/, runner/ioworld.c) have cpu -1 when
 * a device or the IOMMU itself acts, and carry the device's time.
 *  EV_TIME_READ    TREAD_* reader    agent      value (ns)   version used   retries          TREADF_* flags    TSC read
 *  EV_TIME_UPDATE  TREC_* record     record id  system time  TSC stamp      version          wc seconds        wc sub-second (us)
 *  EV_TIME_MSG     TMSG_SEND/RECV    message id from agent   to agent       time stamp (ns)  other cpu         0
 *  EV_TSC          TSCE_* kind       TSC before TSC after    argument       0                0                 0
 *  EV_RING         RING_* op         ring       vcpu/RING_NOBODY free slots  target claims    foreign claims    op argument (RING_* below)
 *  EV_RING_STALL   STALL_* kind      ring       vcpu/RING_NOBODY from cycle  to cycle         room since / ~0   1 if unfinished at the end
 *
 * cpu is -1 for events not tied to a CPU (table alloc/free by the scenario).
 * caller is an interned string id (bus_intern) naming who issued the
 * operation: "scenario", "hw", later hv functions such as "flush_area_local".
 */
#ifndef HVSIM_SIM_EVENT_H
#define HVSIM_SIM_EVENT_H

#include <assert.h>
#include <stdint.h>

enum ev_type {
	EV_NONE = 0,
	EV_ACCESS = 1,
	EV_FILL = 2,
	EV_EVICT = 3,
	EV_WALK = 4,
	EV_FAULT = 5,
	EV_FLUSH = 6,
	EV_PTE_WRITE = 7,
	EV_CR_WRITE = 8,
	EV_IPI = 9,
	EV_QUIESCE = 10,
	EV_ENV_ADD = 11,
	EV_ENV_DROP = 12,
	EV_ENV_STALE = 13,
	EV_TABLE = 14,
	EV_CACHE_FLUSH = 15,
	EV_EXPECT = 16,
	EV_NOTE = 17,
	EV_CHECK = 18,
	EV_HV_OP = 19, /* one hypervisor operation's work, when it returns */
	EV_DMA = 20,        /* one DMA transfer through an IOMMU */
	EV_IOTLB_FILL = 21, /* an IOMMU cached a translation */
	EV_IOMMU_INV = 22,  /* an IOMMU carried out an invalidation */
	EV_IO_OP = 23,      /* one hypervisor IOMMU operation, when it returns */
	EV_IO_OWN = 24,     /* frames given to / taken from an I/O domain */
	EV_TIME_READ = 25,   /* a guest or hypervisor time read (seed 002) */
	EV_TIME_UPDATE = 26, /* a time record written */
	EV_TIME_MSG = 27,    /* a message that orders two agents' reads */
	EV_TSC = 28,         /* a TSC event: write, adjust, C-state, frequency */
	EV_RING = 29,       /* one vm_event ring operation (seed 004) */
	EV_RING_STALL = 30, /* a vCPU or producer that waited on a ring */
	EV__COUNT
};

/* Access kind bits (EV_ACCESS.sub and cpu_access()). */
enum {
	ACC_READ = 0,
	ACC_WRITE = 1 << 0,
	ACC_EXEC = 1 << 1,
	ACC_USER = 1 << 2,
};

/* How an access was translated (EV_ACCESS.d). */
enum {
	PATH_L1 = 0,   /* first-level TLB hit */
	PATH_L2 = 1,   /* second-level (STLB) hit */
	PATH_WALK = 2, /* page walk and fill */
	PATH_FAULT = 3 /* page fault */
};

/* EV_ACCESS.e bits. */
enum {
	ACCF_STALE = 1 << 0,      /* concrete TLB served a translation that
	                             differs from the current page tables */
	ACCF_MAY_STALE = 1 << 1,  /* envelope: hardware was allowed to serve a
	                             translation that differs from the tables */
	ACCF_DIRTY_ASSIST = 1 << 2, /* write through an entry with D=0 re-walked */
	ACCF_SPURIOUS_PF = 1 << 3,  /* fault caused by a stale, more restrictive
	                               entry (SDM 4.10.4.3) */
};

/* TLB structures (EV_FILL/EV_EVICT.sub). */
enum {
	TLBL_L1D = 1,
	TLBL_L1I = 2,
	TLBL_L2 = 3,
	TLBL_PSC_PML4E = 4,
	TLBL_PSC_PDPTE = 5,
	TLBL_PSC_PDE = 6,
};

/* Instructions (EV_FLUSH.sub, EV_FAULT.c, EV_ENV_DROP.sub). */
enum {
	INSTR_NONE = 0,
	INSTR_INVLPG = 1,
	INSTR_INVPCID0 = 2,
	INSTR_INVPCID1 = 3,
	INSTR_INVPCID2 = 4,
	INSTR_INVPCID3 = 5,
	INSTR_MOV_CR3 = 6,
	INSTR_MOV_CR4 = 7,
	INSTR_MOV_CR0 = 8,
	INSTR_PF = 9,       /* invalidation implied by a page fault */
	INSTR_CLFLUSH = 10,
	INSTR_WBINVD = 11,
	INSTR_ACCESS = 12,
};

/* Invalidation scope (EV_FLUSH.f low byte). */
enum {
	SCOPE_NONE = 0,          /* e.g. MOV CR3 with NOFLUSH */
	SCOPE_PAGE = 1,          /* one page, one PCID (+globals if INVLPG) */
	SCOPE_PCID = 2,          /* all non-global entries of one PCID */
	SCOPE_ALL_NONGLOBAL = 3, /* all PCIDs, globals kept */
	SCOPE_ALL = 4,           /* everything including globals */
};

/* Exception vectors (EV_FAULT.sub). */
enum { VEC_UD = 6, VEC_GP = 13, VEC_PF = 14 };

/* #PF error code bits (SDM Vol. 3A §4.7). */
enum {
	PFEC_P = 1 << 0,
	PFEC_W = 1 << 1,
	PFEC_U = 1 << 2,
	PFEC_RSVD = 1 << 3,
	PFEC_I = 1 << 4,
};

enum { IPI_SEND = 0, IPI_DELIVER = 1 };

/* Envelope record kinds (EV_ENV_*.sub), see sim/tlb/envelope.h. */
enum {
	ENVK_VIEW = 1, /* translations (leaf, or leaves under an unlinked
	                  subtree) the CPU may still hold */
	ENVK_PSC = 2,  /* a paging-structure-cache entry that references a
	                  table frame which is no longer linked there */
	ENVK_ALIAS = 3 /* PCID holds translations of another root */
};
#define ENV_GLOBAL 0xffffffffu /* EV_ENV_ADD.b for a global-entry record */

/* Why an envelope record is stale (EV_ENV_STALE.e). */
enum {
	STALE_DIFFERS = 1,   /* old translation differs from the current one */
	STALE_NOT_TABLE = 2, /* PSC references a frame that is no longer a
	                        page table */
	STALE_ALIAS = 3,     /* another root's translation under this PCID */
};

/* EV_PTE_WRITE.e flags. */
enum {
	PTEW_HW_AD = 1 << 0,     /* hardware set A/D */
	PTEW_TRANSLATION = 1 << 1, /* write changed a translation (not only A/D,
	                             not non-present to non-present) */
};

enum { TBL_ALLOC = 0, TBL_FREE = 1 };

/* What a failed check after a hypervisor operation found (EV_CHECK.sub):
 * each is the violation of a property (checks/hv_*.sql). */
enum {
	CHECK_MAPPING = 1,  /* page tables: va does not translate to the
	                       requested frame and flags (b expected pa,
	                       c actual pa or ~0 if unmapped; flags differ
	                       when the pas are equal) */
	CHECK_TLB = 2,      /* a CPU's concrete TLB holds a translation of va
	                       other than the requested one (e = that cpu) */
	CHECK_PT_LEAK = 3,  /* b tables the hypervisor counts live, c tables
	                       reachable from its root */
	CHECK_PT_DOUBLE_FREE = 4, /* a frame freed that was not allocated */
	CHECK_CACHE = 5,    /* a memory-type change without the cache flush
	                       of its frames (a first frame, f pages) */
	CHECK_XPTI = 6,     /* while a guest subject to XPTI runs, hypervisor-
	                       private va is translatable through root b
	                       (c = pcid, or ENV_GLOBAL for global entries) */
	/* The IOMMU checks (runner/ioworld.h): a = iova, b = the frame
	 * address the reference expects (~0: nothing / a fault), c = what
	 * happened (pa, or ~0 for a fault), d = op index, e = DMA device
	 * index (~0 for a post-operation check), f = I/O domain. */
	CHECK_IO_STALE = 7, /* DMA reached other than the mapping */
	CHECK_IO_MAP = 8,   /* DMA to a returned mapping faulted */
	CHECK_IO_OWNER = 9, /* DMA reached a frame the domain does not own
	                       (b = owner domain + 1, 0 = nobody) */
	CHECK_IO_ENV = 10,  /* after an operation, the IOTLB envelope may
	                       serve c for iova (~0: a cached not-present) */
};

/* EV_IO_OP.sub: the hypervisor IOMMU operation (hv/iommu/iommu.h). */
enum {
	IOOP_DOMAIN = 1,
	IOOP_ASSIGN = 2,
	IOOP_MAP = 3,
	IOOP_UNMAP = 4,
	IOOP_HWDOM_INIT = 5,
	IOOP_FLUSH = 6,     /* the deferred queue's flush */
};
/* EV_IO_OP.e: highest flush type (low byte), IOTLB invalidations the unit
 * carried out during the operation (bits 8..30), elision on (bit 31). */
#define IOOP_E_INV_SHIFT 8
#define IOOP_E_ELIDE (1ull << 31)
/* Time (seed 002). Agents: a guest vCPU is its vCPU number; the
 * hypervisor on a CPU is TIME_AGENT_HV + cpu. */
#define TIME_AGENT_HV 0x10000u
enum { TREAD_HV = 0, TREAD_GUEST = 1 };           /* EV_TIME_READ.sub */
enum {                                            /* EV_TIME_READ.e */
	TREADF_TORN = 1 << 0,    /* the record changed between the reader's
	                            first and last load, and it used it */
	TREADF_CLAMPED = 1 << 1, /* the guest clamp raised the value */
};
enum { TREC_GLOBAL = 0, TREC_CPU = 1, TREC_VCPU = 2 }; /* EV_TIME_UPDATE.sub */
enum { TMSG_SEND = 0, TMSG_RECV = 1 };            /* EV_TIME_MSG.sub */
enum {                                            /* EV_TSC.sub */
	TSCE_WRITE = 1, TSCE_ADJUST = 2, TSCE_CSTATE = 3, TSCE_FREQ = 4,
};

/* vm_event rings (seed 004). EV_RING.a / EV_RING_STALL.a: the ring,
 * domain << 8 | RING_KIND_*; .b: the vCPU, domain << 8 | vcpu id, or
 * RING_NOBODY (a foreign producer, the helper, the ring itself). EV_RING
 * c, d, e: the ring's free slots and target and foreign claims after the
 * operation (signed). */
enum { RING_KIND_PAGING = 0, RING_KIND_ACCESS = 1, RING_KIND_SHARING = 2 };
#define RING_NOBODY UINT64_MAX
enum {
	RING_ENABLE = 1,       /* f: slots */
	RING_DISABLE = 2,
	RING_DISABLE_BUSY = 3, /* refused (-EBUSY); f: vCPUs on the wait queue */
	RING_CLAIM = 4,        /* f: 1 target, 0 foreign (must leave the target
	                          a slot), 2 foreign before the seed */
	RING_CLAIM_FULL = 5,   /* f: free slots seen */
	RING_CLAIM_NORING = 6,
	RING_RELEASE = 7,      /* f: 1 target, 0 foreign */
	RING_PUT = 8,          /* f: request id */
	RING_PUT_FAIL = 9,     /* a claimed slot could not be used; f: 1 target */
	RING_PUT_SLEEP = 10,   /* target put found no room: on the wait queue */
	RING_GET = 11,         /* the hypervisor consumed a response; f: id */
	RING_WAKE_REQUESTERS = 12, /* f: vCPUs woken */
	RING_WAKE_WAITERS = 13,    /* f: vCPUs woken */
	RING_MARK_SLEEP = 14,  /* no listener: asleep with the ring's flag */
	RING_PAUSE_FULL = 15,  /* before the seed: paused, ring full */
	RING_PAUSE = 16,       /* f: new pause count (signed) */
	RING_UNPAUSE = 17,     /* f: new pause count (signed) */
	RING_NOTIFY = 18,      /* event channel to the helper */
	RING_WOKEN = 19,       /* f: 0 from the wait queue, 1 a flag */
	RING_ROOM = 20,        /* a sleeper now has what it waits for */
	RING_CONSUME = 21,     /* the helper took a request; f: id */
	RING_RESPOND = 22,     /* the helper put a response; f: id */
	RING_HELPER_STALL = 23, /* f: cycles */
	RING_GIVE_UP = 24,     /* a caller stopped retrying; f: retries */
	RING_VCPU_END = 25,    /* end of run, per vCPU: c pause count, d pause
	                          flags, e wait queue (-1 none) */
	RING_END = 26,         /* end of run, per ring used; f: requests the
	                          helper never consumed */
};
enum { STALL_WAITQ = 1, STALL_PAUSED_FULL = 2, STALL_NO_LISTENER = 3, STALL_FOREIGN = 4 };
/* ring-lost-wakeup: most cycles a sleeper may stay asleep once it has
 * room (the response that frees a slot wakes it in the same hypercall). */
#define RING_WAKE_BOUND 10000u

struct event {
	uint64_t seq;   /* global sequence number, 1-based, no gaps */
	uint64_t cycle; /* cycle of the issuing CPU (or device) */
	int32_t cpu;
	uint16_t type;
	uint16_t sub;
	uint64_t a, b, c, d, e, f;
	uint32_t caller; /* interned string id, 0 = none */
	uint32_t reserved; /* always 0; keeps the struct free of padding */
};

static_assert(sizeof(struct event) == 8 * 2 + 4 + 2 + 2 + 8 * 6 + 4 + 4,
              "struct event must have no implicit padding");

const char *ev_type_name(unsigned type);
const char *instr_name(unsigned instr);

#endif
