/* A scenario: the versioned YAML input of a run (docs/scenario-format.md),
 * loaded and validated into plain structs. Nothing here knows the models;
 * runner/ executes the ops against the machine.
 *
 * Every op carries the line and column it came from so that a failure at
 * run time can name its source too.
 */
#ifndef HVSIM_SCENARIO_SCENARIO_H
#define HVSIM_SCENARIO_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/profile.h"

#define SC_VERSION 1
#define SC_MAX_CPUS 256
#define SC_MAX_OPS (1u << 20)
#define SC_MAX_ROOTS 1024
#define SC_MAX_IPI_DEPTH 2

enum op_kind {
	OP_PT_NEW = 1,  /* allocate a zeroed page-table root frame: name */
	OP_MAP,         /* root va pa size flags: write a leaf, building the
	                   path with fresh tables (P|RW|US|A) where absent */
	OP_UNMAP,       /* root va: clear the leaf entry that maps va */
	OP_WRITE_PTE,   /* root va level value: raw store to the entry at level
	                   for va; the path above it must exist */
	OP_UNLINK,      /* root va level [free] [save]: clear the non-leaf
	                   entry at level (4..2) for va; free: also free the
	                   subtree's table frames at once; save: name the
	                   unlinked table for a later free */
	OP_CR0,         /* wp */
	OP_CR3,         /* root pcid noflush | value */
	OP_CR4,         /* pge pcide smep (each optional: unchanged if absent) */
	OP_INVLPG,      /* va */
	OP_INVPCID,     /* type pcid va */
	OP_CLFLUSH,     /* pa */
	OP_WBINVD,
	OP_RDTSC,
	OP_ACCESS,      /* va kind user */
	OP_IPI,         /* to[] run[]: the targets execute run[] on delivery */
	OP_DELAY,       /* cycles */
	OP_BARRIER,     /* all CPUs meet; no check */
	OP_QUIESCE,     /* all CPUs meet; then every property that must hold at
	                   a quiescent point is checked (envelope staleness) */
	OP_FREE,        /* table | pa: free a frame (a page table named by
	                   pt_new or unlink's save, or any frame by address) */
	OP_HV_MAP,      /* va pa count flags [small]: the hypervisor maps
	                   count frames from pa at va (map_pages_to_xen) */
	OP_HV_MODIFY,   /* va count flags: new flags for present pages */
	OP_HV_DESTROY,  /* va count: unmap, freeing emptied tables */
	OP_DOMAIN,      /* vcpus [xpti]: create a 64-bit PV domain (ids from 0) */
	OP_VCPU_RUN,    /* domain vcpu: context-switch this CPU to the vCPU and
	                   enter the guest (in the vCPU's current mode) */
	OP_IDLE,        /* switch this CPU to the idle page table */
	OP_SYSCALL,     /* the running guest makes a system call: user ->
	                   kernel (through the hypervisor) and back */
	OP_GUEST_MAP,   /* va pa [user] [flags]: the running guest updates its
	                   kernel (or user) page table by hypercall, with the
	                   flush the hypervisor does for it */
	OP_LACKEY,      /* file [user] [limit]: the running guest performs the
	                   accesses of a Valgrind lackey trace
	                   (--tool=lackey --trace-mem=yes), mapping each page
	                   on first touch through the hypervisor */
	OP_IO_DOMAIN,   /* [hw]: a new I/O domain (ids from 0 in file order) */
	OP_IO_ASSIGN,   /* domain device: point the device at the domain */
	OP_IO_MAP,      /* domain dfn mfn [order] [flags]: iommu_map */
	OP_IO_UNMAP,    /* domain dfn [order] [free]: iommu_unmap; free gives
	                   the frames back once it returned */
	OP_IO_REASSIGN, /* pa pages domain: frames change owner */
	OP_IO_HWDOM_INIT, /* domain pfn pages: the hardware domain's 1:1 map */
	OP_IO_FLUSH,    /* domain: the deferred-unmap queue's flush */
	OP_DMA,         /* device iova [len] [write] [expect]: one transfer */
	OP_DMA_STREAM,  /* device iova pages [len] period count [write] */
	OP_IO_WORKLOAD, /* domain device dfn mfn ios [order] [len] [window]
	                   [cpu_cycles]: ios x (map, DMA, unmap) */
	OP_TIME_READ,   /* who count every: time reads by the guest vCPU
	                   running here (who: guest) or the hypervisor on this
	                   CPU (hv), count of them every `every` cycles */
	OP_TIME_SCHED,  /* vcpu: schedule the time vCPU here (a migration when
	                   it last ran elsewhere) */
	OP_TIME_MSG,    /* vcpu | hv_to: a message from the reader here to a
	                   vCPU (or the hypervisor on a CPU) that orders its
	                   later reads after this one's */
	OP_TSC,         /* write | adjust | cstate | freq_ppm: a TSC event */
	/* vm_event rings (seed 004; need hv: and rings:). Ops that must wait
	 * (a vCPU asleep, a helper with nothing to do, a retry) are resumed
	 * by the scheduler when they may go on. */
	OP_RING_ENABLE,  /* domain ring [slots]: the helper sets up a ring */
	OP_RING_DISABLE, /* domain ring [on_busy retries delay]: tear down */
	OP_VM_EVENT,     /* domain vcpu kind [count gap gfn]: guest events
	                    (populate | drop | access | share | populate_back:
	                    claim, then release: the gfn came back meanwhile) */
	OP_FOREIGN,      /* domain ring [count hold release retry]: a foreign
	                    producer claims, then puts (or releases) */
	OP_HELPER,       /* domain ring [latency burst count]: the helper
	                    consumes and responds (count 0: until idle) */
	OP_HELPER_STALL, /* domain ring cycles: the helper stops responding */
	OP__COUNT
};

/* Expectation bits (struct sc_expect.has). */
enum {
	EXP_FAULT = 1 << 0, /* fault: none | pf | gp | ud */
	EXP_PA = 1 << 1,    /* pa: translated physical address */
	EXP_PFEC = 1 << 2,  /* pfec: page-fault error code */
	EXP_PATH = 1 << 3,  /* path: l1 | l2 | walk */
};

enum sc_fault { SCF_NONE = 0, SCF_PF = 14, SCF_GP = 13, SCF_UD = 6 };

struct sc_expect {
	uint32_t has;
	int fault;     /* enum sc_fault */
	uint64_t pa;
	uint32_t pfec;
	int path;      /* PATH_L1 / PATH_L2 / PATH_WALK (sim/event.h) */
};

/* The hypervisor core's configuration (scenario `hv:` section). */
enum sc_flush_policy { SC_FLUSH_XEN = 0, SC_FLUSH_RANGED = 1 };

struct sc_hv {
	bool enabled;        /* the scenario has an hv: section */
	bool page1gb;        /* default true */
	bool superpages;     /* default true */
	int flush_policy;    /* enum sc_flush_policy, default xen */
	uint32_t flush_ceiling; /* ranged: default 33 */
	uint64_t directmap_bytes; /* default 0; multiple of 2 MiB */
	uint32_t inject;     /* test-only bug injection (hv/hv.h HV_INJECT_*) */
	int pcid;            /* SC_PCID_*: the pcid= policy, default xpti */
	bool xpti;           /* XPTI for new domains (default false) */
};

enum { SC_PCID_OFF = 0, SC_PCID_ALL = 1, SC_PCID_XPTI = 2, SC_PCID_NOXPTI = 3 };

/* sc_hv.inject bits: the values of hv/hv.h's HV_INJECT_* (this header does
 * not include hv/; the runner passes inject through unchanged). */
#define SC_INJECT_MERGE_FLUSH_PAST 1u /* HV_INJECT_MERGE_FLUSH_PAST */
#define SC_INJECT_SKIP_ONE_PAGE 2u    /* HV_INJECT_SKIP_ONE_PAGE */
#define SC_INJECT_NO_CACHE_FLUSH 4u   /* HV_INJECT_NO_CACHE_FLUSH */
#define SC_INJECT_LEAK_TABLE 8u       /* HV_INJECT_LEAK_TABLE */
#define SC_INJECT_SKIP_LAST_PAGE 16u  /* HV_INJECT_SKIP_LAST_PAGE */
#define SC_INJECT_NO_OLD_PCID_FLUSH 32u  /* HV_INJECT_NO_OLD_PCID_FLUSH */
#define SC_INJECT_INVLPG_UNDER_PCIDE 64u /* HV_INJECT_INVLPG_UNDER_PCIDE */
#define SC_INJECT_XPTI_LEAK 128u         /* HV_INJECT_XPTI_LEAK */

/* The IOMMU (scenario `iommu:` section, issue 6). */
enum { SC_IOMMU_VTD = 1, SC_IOMMU_AMD = 2 };
enum { SC_UNMAP_STRICT = 0, SC_UNMAP_DEFERRED = 1 };

struct sc_iommu {
	bool enabled;
	int kind;             /* SC_IOMMU_* (default vtd) */
	bool caching_mode;    /* VT-d CAP.CM (default false) */
	bool elide;           /* flush elision, after the seed (default true) */
	int unmap;            /* SC_UNMAP_* (default strict) */
	uint32_t deferred_batch; /* default 256 */
	uint32_t levels;      /* 3 or 4 (default 4) */
	uint32_t iotlb_entries, iotlb_ways; /* 0: the model's defaults */
	uint32_t inject;      /* hv/iommu/iommu.h HV_IOMMU_INJECT_* values */
};

#define SC_IO_INJECT_MODIFIED_AS_ADDED 1u  /* HV_IOMMU_INJECT_* */
#define SC_IO_INJECT_MODIFIED_AS_NONE 2u
#define SC_IO_INJECT_DONT_FLUSH_LEFT_SET 4u
#define SC_IO_INJECT_FLUSH_TYPE_MIN 8u
#define SC_IO_INJECT_FLUSH_FIRST_PAGE 16u
#define SC_IO_INJECT_PTE_FLUSH_KEPT 32u
#define SC_IO_INJECT_IGNORE_CM 64u

/* OP_DMA expect. */
enum { SC_DMA_ANY = 0, SC_DMA_OK = 1, SC_DMA_FAULT = 2 };

/* The IOMMU ops' fields. */
struct op_io {
	uint64_t dfn, mfn;    /* frame numbers (IOVA >> 12, pa >> 12) */
	uint64_t iova;        /* OP_DMA, OP_DMA_STREAM */
	uint64_t pages;       /* OP_IO_REASSIGN, OP_IO_HWDOM_INIT, streams */
	uint64_t period, count; /* OP_DMA_STREAM */
	uint64_t ios, window, cpu_cycles; /* OP_IO_WORKLOAD */
	uint32_t order;       /* map/unmap/workload: 2^order pages */
	uint32_t flags;       /* IOMMUF_*: bit 0 readable, bit 1 writable */
	uint32_t len;         /* DMA bytes */
	uint16_t sid;         /* device */
	uint8_t hw;           /* OP_IO_DOMAIN */
	uint8_t write;        /* DMA direction */
	uint8_t free;         /* OP_IO_UNMAP */
	uint8_t expect;       /* SC_DMA_* */
	uint8_t pad[2];
};

/* The time model and hypervisor time (scenario `time:` section, seed 002). */
enum { SC_TIME_GLOBAL = 0, SC_TIME_PERCPU = 1, SC_TIME_RENDEZVOUS = 2 };
/* sc_time.inject bits: hv/time/time.h's HV_TIME_INJECT_* values. */
#define SC_TIME_INJECT_NO_VERSION 1u
#define SC_TIME_INJECT_STALE_STAMP 2u
#define SC_TIME_INJECT_SEED_WALLCLOCK 4u
/* op.acc of OP_TIME_READ; op.type of OP_TSC (sim/event.h TSCE_*). */
enum { SC_READ_GUEST = 0, SC_READ_HV = 1 };

struct sc_time {
	bool enabled;
	int mode;              /* SC_TIME_*, default rendezvous */
	bool clamp;            /* guest clamp to the last value returned */
	bool compare;          /* `hvsim run` also runs every mode (table) */
	uint64_t period_ns;    /* default 250 ms (the seed) */
	uint64_t calibrate_ns; /* default 50 ms */
	uint64_t wallclock_sec;
	uint32_t vcpus;        /* default ncpus */
	uint64_t platform_hz;  /* default 14318180 (HPET) */
	uint32_t platform_read; /* cycles per platform-timer read, default 1500 */
	uint32_t load_cycles;  /* cycles per record field load, default 4 */
	bool invariant;        /* default true */
	int64_t host_ppb;
	bool offsets_random;   /* offset_max: per-core uniform draw */
	uint64_t offset_max;
	bool drift_random;     /* drift_ppm scalar: per-core draw in +-max */
	int64_t drift_max_ppb;
	int64_t *offsets;      /* ncpus entries (list form), else NULL */
	int64_t *drift_ppb;    /* ncpus entries (list form), else NULL */
	uint32_t inject;
};

struct op {
	enum op_kind kind;
	uint32_t line, col; /* 1-based position of the op's mapping */
	int cpu;            /* issuing CPU, default 0 */
	uint32_t root;      /* index into scenario.roots (OP_PT_NEW defines) */
	bool has_root;
	uint64_t va;
	uint64_t pa;
	uint64_t value;     /* OP_WRITE_PTE raw value; OP_CR3 raw value */
	bool has_value;
	uint32_t size_log2; /* OP_MAP: 12, 21 or 30 */
	uint32_t level;     /* OP_WRITE_PTE / OP_UNLINK: 1..4 */
	uint64_t flags;     /* OP_MAP: PTE flag bits (sim/tlb/pte.h) */
	uint32_t pcid;      /* OP_CR3, OP_INVPCID */
	bool noflush;       /* OP_CR3 */
	uint32_t type;      /* OP_INVPCID: 0..3 */
	uint32_t acc;       /* OP_ACCESS: ACC_* bits */
	int8_t pge, pcide, smep, wp; /* OP_CR4/OP_CR0: -1 unchanged, 0, 1 */
	bool free_tables;   /* OP_UNLINK */
	uint32_t save;      /* OP_UNLINK: name index for the unlinked table */
	bool has_save;
	uint64_t cycles;    /* OP_DELAY */
	uint64_t count;     /* OP_HV_*: number of 4 KiB pages */
	uint32_t domain, vcpu; /* OP_VCPU_RUN; OP_DOMAIN: vcpu = number of vCPUs */
	int8_t xpti;        /* OP_DOMAIN: -1 the hv: default, 0, 1 */
	bool user;          /* OP_GUEST_MAP, OP_LACKEY: the user page table */
	char *file;         /* OP_LACKEY: trace path, relative to the scenario */
	uint64_t limit;     /* OP_LACKEY: at most this many accesses */
	bool small;         /* OP_HV_MAP: MAP_SMALL_PAGES */
	uint64_t to[SC_MAX_CPUS / 64]; /* OP_IPI target bitmap */
	struct op *sub;     /* OP_IPI: ops run by each target */
	uint32_t nsub;
	struct sc_expect expect;
	struct op_io io;    /* the IOMMU ops */
	/* vm_event ring ops (seed 004). */
	uint32_t ring;      /* RING_KIND_* (sim/event.h) */
	uint32_t ev_type;   /* OP_VM_EVENT: SC_VE_* */
	uint64_t gfn, gap, hold, latency, burst, retry;
	bool release;       /* OP_FOREIGN: release the claimed slot */
	uint32_t on_busy;   /* OP_RING_DISABLE: SC_BUSY_* */
	uint32_t retries;   /* OP_RING_DISABLE / OP_FOREIGN: at most */
	uint32_t slots;     /* OP_RING_ENABLE */
};

/* OP_VM_EVENT kinds (hv/vm_event's VM_EVENT_TYPE_* values). */
enum { SC_VE_POPULATE = 1, SC_VE_DROP = 2, SC_VE_ACCESS = 3, SC_VE_SHARE = 4,
       SC_VE_POPULATE_BACK = 5 };
/* OP_RING_DISABLE: what the caller does when disable is refused. */
enum { SC_BUSY_FAIL = 0, SC_BUSY_RETRY = 1, SC_BUSY_DRAIN = 2 };

/* The rings: section (seed 004). */
struct sc_rings {
	bool enabled;
	int mode;        /* 0 wait queue (after the seed), 1 pause (before) */
	uint32_t inject; /* hv/vm_event's VM_EVENT_INJECT_* bits */
};

struct scenario {
	char *path;         /* as given on the command line */
	char *name;
	char *description;
	uint32_t version;
	char profile_name[32];
	struct profile profile; /* resolved: named profile + overrides */
	char *overrides;    /* "name=value,..." of machine.costs, sorted by
	                       name, for the runs table ("" if none) */
	uint32_t ncpus;     /* 1..256 */
	uint64_t mem_frames; /* allocatable frames (default 1<<20) */
	uint64_t seed;
	bool has_seed;
	char *negative;     /* twin scenarios: property expected to fire */
	struct sc_hv hv;
	struct sc_iommu iommu;
	struct sc_time time;
	char **roots;       /* names from OP_PT_NEW, index = op.root */
	uint32_t nroots;
	struct op *ops;
	uint32_t nops;
	struct sc_rings rings; /* seed 004 */
};

struct sc_error {
	char msg[512]; /* "FILE:LINE:COL: what is wrong" (one line) */
};

/* Loads and validates. Returns 0, or -1 with err filled. On error *out is
 * left freed (scenario_free is not needed). */
int scenario_load(const char *path, struct scenario *out, struct sc_error *err);
/* Same from memory; name is used in messages in place of a path. */
int scenario_load_string(const char *name, const char *text, size_t len,
                         struct scenario *out, struct sc_error *err);
void scenario_free(struct scenario *s);

/* Loads an embedded profile (profiles/NAME.yaml) by name. Returns 0, or
 * -1 with err filled ("profile NAME: ..."). */
int profile_load_named(const char *name, struct profile *out, struct sc_error *err);

const char *op_kind_name(enum op_kind k);

#endif
