/* The IOMMU world of a run (issue 6): the simulated IOMMU unit and DMA
 * engine (sim/iommu), the hypervisor's IOMMU layer driving it
 * (hv/iommu), and the runner's independent reference of what each I/O
 * domain maps and owns, against which every DMA and every operation is
 * checked. runner/platform.c binds the hypervisor's IOMMU arch hooks to
 * it; runner/ioops.c executes the scenario's IOMMU ops.
 *
 * Properties (EV_CHECK kinds CHECK_IO_*, checks/iommu_*.sql):
 *   iommu-stale-dma    a DMA, outside any operation on its domain, reached
 *                      a frame other than the one the domain's mapping
 *                      names (or any frame where nothing is mapped, or
 *                      wrote through a read-only mapping);
 *   iommu-map-visible  a DMA to a mapping that map had returned faulted;
 *   dma-ownership      a DMA reached a frame its domain does not own;
 *   iotlb-envelope     after an operation returned, the IOTLB envelope
 *                      still holds a translation of its range that differs
 *                      from the mappings (a missing or misaimed flush,
 *                      whether or not a DMA happened to use it);
 *   iommu-one-flush    (EV_IO_OP) with elision on, a map or unmap of any
 *                      order issued more than one IOTLB invalidation.
 */
#ifndef HVSIM_RUNNER_IOWORLD_H
#define HVSIM_RUNNER_IOWORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/iommu/iommu.h"
#include "scenario/scenario.h"
#include "sim/iommu/dma.h"
#include "sim/iommu/iommu.h"
#include "sim/u64map.h"

struct machine;
struct platform;

/* The reference state of one (domain, dfn). */
enum { IOREF_MAPPED = 1, IOREF_ZOMBIE = 2 /* unmapped, deferred flush due */ };

struct ioref {
	uint64_t mfn;
	uint32_t flags;  /* IOMMUF_* */
	uint8_t state;
	uint8_t pad[3];
};

/* One row of the seed-001 table: operations of one kind, order and
 * highest flush type. */
#define IOWORLD_ROWS 48u

struct iorow {
	uint32_t kind;   /* IOOP_MAP / IOOP_UNMAP */
	uint32_t order;
	uint32_t type;   /* enum iommu_flush_type, highest asked for */
	uint32_t pad;
	uint64_t count, invs, cycles;
};

struct ioworld_stats {
	uint64_t op_cycles;   /* CPU cycles spent inside IOMMU operations */
	uint64_t ios, io_cycles; /* io_workload: I/Os and their CPU cycles */
	uint64_t io_t0, io_t1;   /* first start, last end of any workload */
	uint32_t io_cpus;        /* CPUs that ran a workload (bitmap count) */
	uint64_t io_cpu_mask[4];
};

struct ioworld {
	struct machine *m;
	struct iommu unit;           /* unit 0 */
	struct dma_engine dma;
	struct hv_iommu hv;
	bool elide, deferred;
	int busy;                    /* domain with an operation running, -1 */
	uint64_t busy_until;         /* the unit's command processor is busy
	                                until this time (one queue: commands
	                                from all CPUs serialise) */
	uint32_t op_index;           /* scenario op being run (checks) */
	int32_t dev_domain[DMA_MAX_DEVICES]; /* DMA device -> I/O domain */
	struct u64map ref;           /* domain << 45 | dfn -> refs index */
	struct ioref *refs;
	uint32_t nrefs, caprefs, free_ref;
	struct u64map owner;         /* pfn -> domain + 1 */
	uint64_t *zombies;           /* domain << 45 | dfn awaiting the
	                                deferred flush */
	uint32_t nzombies, capzombies;
	struct ioworld_stats st;
	uint64_t wl_done[256];       /* io_workload: I/Os done, per CPU */
	uint64_t wl_t0[256];         /* io_workload: start, per CPU */
	struct iorow rows[IOWORLD_ROWS];
	uint32_t nrows;
};

/* Builds the unit (VT-d or AMD-Vi per cfg), the DMA engine and the
 * hypervisor's IOMMU layer on CPU 0 through the platform's arch. Returns
 * 0 or -1 with err. */
int ioworld_init(struct ioworld *w, struct platform *p, const struct sc_iommu *cfg, char *err,
                 size_t errlen);
void ioworld_fini(struct ioworld *w);

/* The arch hooks' side: MMIO with the unit's time and queue serialised
 * across CPUs (the CPU waits while the unit works). */
uint64_t ioworld_mmio_read(struct ioworld *w, unsigned cpu, uint32_t off);
void ioworld_mmio_write(struct ioworld *w, unsigned cpu, uint32_t off, uint64_t val);
/* Runs the DMA streams due by CPU cpu's clock (called before every
 * hardware access the hypervisor makes, and by the scheduler). */
void ioworld_catch_up(struct ioworld *w, uint64_t t);

/* The reference (runner/ioops.c keeps it; the checks read it). */
const struct ioref *ioworld_ref(const struct ioworld *w, uint32_t domain, uint64_t dfn);
void ioworld_ref_set(struct ioworld *w, uint32_t domain, uint64_t dfn, uint64_t mfn,
                     uint32_t flags, uint8_t state);
void ioworld_ref_clear(struct ioworld *w, uint32_t domain, uint64_t dfn);
/* Owner of a frame: domain + 1, or 0. */
uint32_t ioworld_owner(const struct ioworld *w, uint64_t pfn);
/* Frames change owner (domain -1: nobody); one EV_IO_OWN. */
void ioworld_own(struct ioworld *w, int domain, uint64_t pfn, uint64_t pages);
/* One failed check as an EV_CHECK (kind CHECK_IO_*). */
void ioworld_check_event(struct ioworld *w, unsigned kind, uint64_t iova, uint64_t expected,
                         uint64_t actual, uint64_t dev, uint32_t domain, uint64_t at);

/* Accounts one map/unmap in the seed-001 table. */
void ioworld_row(struct ioworld *w, uint32_t kind, uint32_t order, uint32_t type,
                 uint64_t invs, uint64_t cycles);

/* The run report's IOMMU lines: totals, the per-operation table, and the
 * workload's throughput. */
void ioworld_report(const struct ioworld *w, uint64_t freq_mhz, char *buf, size_t cap);

#endif
