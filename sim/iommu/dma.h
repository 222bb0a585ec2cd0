/* The DMA engine: devices behind IOMMUs that read and write I/O virtual
 * addresses (issue 6, seed 001).
 *
 * A device is a PCI requester id on one IOMMU unit. A transfer is split
 * at 4 KiB boundaries; each piece is translated by the unit (one EV_DMA
 * event per piece) and, when the translation succeeds, moves real data:
 * a write stores a deterministic pattern into every quadword of the piece
 * through machine_store64 (so a write into a page table is a paging-
 * structure write, and one into a freed frame stays visible), a read
 * loads them into a checksum. A blocked piece moves nothing; the unit
 * records the fault.
 *
 * Streams are continuous traffic: `count` transfers of `len` bytes, one
 * every `period` cycles, cycling over `pages` pages from `iova`. They run
 * on the device's own clock, interleaved with the CPUs by time: the runner
 * asks for the next due time and runs what is due (dma_run_until) before
 * every step of a CPU, and the platform does so before every hardware
 * access the hypervisor makes, so DMA lands between the PTE writes and the
 * invalidations of one hypervisor operation. Ties go to the stream added
 * first. Everything is bounded: streams by count, transfers by length.
 */
#ifndef HVSIM_SIM_IOMMU_DMA_H
#define HVSIM_SIM_IOMMU_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/iommu/iommu.h"

struct machine;

#define DMA_MAX_DEVICES 64u
#define DMA_MAX_STREAMS 64u
#define DMA_MAX_LEN (1u << 20)        /* one transfer: at most 1 MiB */
#define DMA_NEVER UINT64_MAX

struct dma_device {
	uint16_t sid;
	uint16_t pad;
	uint32_t unit;
};

struct dma_stream {
	uint64_t iova, pages, period, left, next_at, done;
	uint32_t dev, len;
	bool write;
};

struct dma_stats {
	uint64_t transfers, pieces, bytes, faults;
	uint64_t stale_served; /* pieces the concrete IOTLB served stale */
	uint64_t env_stale;    /* pieces the envelope says could be stale */
	uint64_t checksum;     /* of everything read */
};

/* Called after every translated piece (after its EV_DMA), for the
 * runner's checks. */
typedef void (*dma_piece_fn)(void *ctx, uint32_t dev, uint64_t iova, unsigned acc,
                             const struct iommu_xlate *x, uint64_t at);

struct dma_engine {
	struct machine *m;
	dma_piece_fn piece;
	void *piece_ctx;
	struct iommu *units;
	uint32_t nunits, ndev, nstreams;
	struct dma_device dev[DMA_MAX_DEVICES];
	struct dma_stream streams[DMA_MAX_STREAMS];
	struct dma_stats st;
};

/* Outcome of one transfer. */
struct dma_result {
	uint32_t pieces, ok, faults;
	uint32_t stale, env_stale;
	uint32_t pad;
	uint64_t first_pa;      /* pa of the first piece, 0 if it faulted */
};

void dma_init(struct dma_engine *e, struct machine *m, struct iommu *units, uint32_t nunits);
/* Returns the device index, or -1 (too many devices, bad unit). */
int dma_device_add(struct dma_engine *e, uint16_t sid, uint32_t unit);
/* One transfer at time `at`. len in 1..DMA_MAX_LEN. */
struct dma_result dma_transfer(struct dma_engine *e, uint32_t dev, uint64_t iova, uint32_t len,
                               bool write, uint64_t at);
/* Returns the stream index or -1. */
int dma_stream_add(struct dma_engine *e, uint32_t dev, uint64_t iova, uint64_t pages,
                   uint32_t len, uint64_t period, uint64_t count, bool write, uint64_t start);
/* Time of the next due stream transfer, DMA_NEVER when none is left. */
uint64_t dma_next_due(const struct dma_engine *e);
/* Runs every stream transfer due at or before t, in time order; returns
 * how many ran. */
uint64_t dma_run_until(struct dma_engine *e, uint64_t t);
/* The quadword a device's write leaves at iova + off (tests compare). */
uint64_t dma_pattern(uint32_t dev, uint64_t iova);

#endif
