/* The hypervisor's IOMMU layer (seed 001, Xen "iommu: elide flushing for
 * higher order map/unmap operations").
 *
 * A generic part (hv/iommu/iommu.c: iommu_map/iommu_unmap of order N, the
 * per-CPU "don't flush" batching, the error path, hardware-domain set-up)
 * drives one driver per IOMMU kind through struct hv_iommu_ops
 * (hv/iommu/vtd.c, hv/iommu/amd.c). Drivers reach the hardware only through
 * hv/arch.h: MMIO registers (iommu_read/iommu_write), physical memory
 * (read64/write64) and frames (alloc_frame).
 *
 * Flush types (the seed): a driver's map_page reports, per PTE, what the
 * hardware needs invalidated for that change: NONE, ADDED (a not-present
 * entry became present) or MODIFIED (a present entry changed). Their order
 * is their strength; the wrapper flushes once at the end with the highest
 * type seen. What each type costs is the driver's business: VT-d needs no
 * flush for ADDED unless the hardware is in caching mode (CAP.CM, VT-d
 * §6.1); AMD-Vi reports fresh entries as NONE and flushes MODIFIED.
 *
 * Elision off reproduces the code before the seed: each PTE flushes as it
 * is written (a modified entry, or an added one under CM), and every
 * unmapped page flushes on its own.
 */
#ifndef HVSIM_HV_IOMMU_IOMMU_H
#define HVSIM_HV_IOMMU_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/arch.h"

enum iommu_flush_type {
	IOMMU_FLUSH_NONE = 0,     /* no flush required */
	IOMMU_FLUSH_ADDED = 1,    /* only new entries */
	IOMMU_FLUSH_MODIFIED = 2, /* a present entry changed */
};

/* IOMMUF_* mapping flags (Xen's names). */
#define IOMMUF_READABLE (1u << 0)
#define IOMMUF_WRITABLE (1u << 1)

#define HV_IOMMU_MAX_DOMAINS 64u
#define HV_IOMMU_MAX_DEVICES 64u
#define HV_IOMMU_MAX_ORDER 18u /* 1 GiB of 4 KiB pages per call */

/* Test-only fault injection: plausible elision bugs (issue 6). Zero in
 * every production configuration. */
enum hv_iommu_inject {
	/* VT-d map_page reports a modified entry as ADDED (CM=0 then elides
	 * the flush the change needed). */
	HV_IOMMU_INJECT_MODIFIED_AS_ADDED = 1 << 0,
	/* ... or as NONE (no driver flushes it). */
	HV_IOMMU_INJECT_MODIFIED_AS_NONE = 1 << 1,
	/* The hardware domain's set-up leaves this CPU's "don't flush" set. */
	HV_IOMMU_INJECT_DONT_FLUSH_LEFT_SET = 1 << 2,
	/* The wrapper keeps the lowest flush type instead of the highest. */
	HV_IOMMU_INJECT_FLUSH_TYPE_MIN = 1 << 3,
	/* The end-of-operation flush covers only the first page. */
	HV_IOMMU_INJECT_FLUSH_FIRST_PAGE = 1 << 4,
	/* Half the patch: the driver still flushes each PTE as it writes it,
	 * and the wrapper flushes again at the end. */
	HV_IOMMU_INJECT_PTE_FLUSH_KEPT = 1 << 5,
	/* The VT-d driver elides ADDED flushes even in caching mode. */
	HV_IOMMU_INJECT_IGNORE_CM = 1 << 6,
};

enum hv_iommu_unmap_mode {
	HV_IOMMU_UNMAP_STRICT = 0,   /* flush before unmap returns */
	HV_IOMMU_UNMAP_DEFERRED = 1, /* queue: one flush-all per batch
	                                (Linux's lazy mode, [S53]) */
};

struct hv_iommu_config {
	bool elide;              /* after the seed: one flush per operation */
	enum hv_iommu_unmap_mode unmap_mode;
	unsigned deferred_batch; /* unmaps per deferred flush-all (>= 1) */
	unsigned levels;         /* I/O page-table levels: 3 or 4 (VT-d AW
	                            39/48 bits); AMD-Vi uses the same count */
	unsigned inject;         /* enum hv_iommu_inject bits; tests only */
};

struct hv_iommu_domain {
	uint32_t id;        /* index, from 0 */
	uint16_t did;       /* hardware domain-id: VT-d DID / AMD DomainID
	                       (id + 1: VT-d reserves DID 0 under CM) */
	bool hw;            /* the hardware domain (dom0) */
	bool crashed;       /* domain_crash() was called */
	uint64_t root_pfn;  /* I/O page-table root */
	uint64_t pt_pages;  /* I/O page-table frames allocated */
	uint64_t deferred;  /* unmapped pages awaiting the deferred flush */
	uint32_t ndev;
	uint16_t sid[HV_IOMMU_MAX_DEVICES];
};

struct hv_iommu_stats {
	uint64_t maps, unmaps, pages_mapped, pages_unmapped;
	uint64_t flush_calls;        /* iotlb_flush calls by the wrapper */
	uint64_t flush_all_calls;    /* iotlb_flush_all calls */
	uint64_t flushes_elided;     /* flush calls the driver turned into no
	                                hardware invalidation */
	uint64_t inv_cmds;           /* invalidation commands submitted */
	uint64_t waits;              /* completion waits submitted and polled */
	uint64_t errors, crashes;
	uint64_t by_type[3];         /* wrapper flushes by highest type */
};

struct hv_iommu;

struct hv_iommu_ops {
	const char *name;
	/* Program the unit (root/device table, command ring) and enable it. */
	int (*setup)(struct hv_iommu *io, unsigned cpu);
	int (*domain_init)(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d);
	/* Point a device (requester id) at the domain's tables. */
	int (*assign)(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint16_t sid);
	int (*map_page)(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
	                uint64_t dfn, uint64_t mfn, unsigned flags,
	                enum iommu_flush_type *flush_type);
	int (*unmap_page)(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
	                  uint64_t dfn);
	int (*iotlb_flush)(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
	                   uint64_t dfn, uint64_t count, enum iommu_flush_type type);
	int (*iotlb_flush_all)(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d);
	/* Where dfn maps now (test and check use): mfn or HV_NO_FRAME. */
	uint64_t (*lookup)(struct hv_iommu *io, struct hv_iommu_domain *d, uint64_t dfn,
	                   unsigned *flags);
};

/* Driver state of the VT-d driver (hv/iommu/vtd.c). */
struct hv_vtd {
	uint64_t root_pfn;
	uint64_t ctx_pfn[256];  /* context table per bus, 0 if none */
	uint64_t iq_pfn;        /* invalidation queue (one page: 256 entries) */
	uint32_t iq_tail;
	uint64_t status_pa;     /* poll slot written by wait descriptors */
	uint32_t seq;           /* status data of the last wait */
	bool cm;                /* CAP.CM as read at setup */
};

/* Driver state of the AMD-Vi driver (hv/iommu/amd.c). */
struct hv_amd {
	uint64_t devtab_pfn;    /* device table: 2 pages = 256 DTEs (bus 0) */
	uint64_t cmd_pfn;       /* command buffer: one page = 256 commands */
	uint32_t cmd_tail;
	uint64_t evt_pfn;       /* event log: one page */
	uint64_t status_pa;     /* COMPLETION_WAIT store slot */
	uint64_t seq;
};

struct hv_iommu {
	const struct hv_arch *arch;
	const struct hv_iommu_ops *ops;
	unsigned unit;                 /* the IOMMU this layer drives */
	struct hv_iommu_config cfg;
	bool dont_flush[HV_MAX_CPUS];  /* this_cpu(iommu_dont_flush_iotlb) */
	struct hv_iommu_domain dom[HV_IOMMU_MAX_DOMAINS];
	uint32_t ndom;
	struct hv_iommu_stats st;
	struct hv_vtd vtd;
	struct hv_amd amd;
};

/* Finds the driver for the platform's IOMMU (arch->iommu_kind), sets the
 * unit up on `cpu`. 0, -ENODEV (no IOMMU) or -ENOMEM. */
int hv_iommu_init(struct hv_iommu *io, const struct hv_arch *arch, unsigned cpu,
                  const struct hv_iommu_config *cfg);

/* A new I/O domain (id = index). NULL when HV_IOMMU_MAX_DOMAINS exist or no
 * frame is left for its root. */
struct hv_iommu_domain *hv_iommu_domain_create(struct hv_iommu *io, unsigned cpu, bool hw);
int hv_iommu_assign(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                    uint16_t sid);

/* iommu_map / iommu_unmap: 2^order pages from dfn (mfn), both aligned to
 * 2^order. 0 or a negative errno (the error path has then run). */
int hv_iommu_map(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
                 uint64_t mfn, unsigned order, unsigned flags);
int hv_iommu_unmap(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
                   unsigned order);
/* The deferred-unmap queue's flush (Linux's flush-queue timer): flushes d
 * if it has pending unmaps. */
int hv_iommu_flush_deferred(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d);

/* arch_iommu_hwdom_init: identity-map `pages` frames from `first_pfn` into
 * the hardware domain with flushing elided, then one flush-all. */
int hv_iommu_hwdom_init(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                        uint64_t first_pfn, uint64_t pages);

extern const struct hv_iommu_ops hv_vtd_ops;
extern const struct hv_iommu_ops hv_amd_ops;

#endif
