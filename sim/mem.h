/* Sparse simulated physical memory: 4 KiB frames anywhere below 2^52.
 *
 * Frames are materialised on first write; an unwritten frame reads as
 * zero. Storage is an open-addressing table keyed by frame number (an
 * integer, so probing order is a pure function of the addresses: no
 * pointer-keyed iteration anywhere). The allocator hands out frames of a
 * configured region lowest-first, reusing freed frames in LIFO order, so a
 * given sequence of alloc/free calls always yields the same frames.
 */
#ifndef HVSIM_SIM_MEM_H
#define HVSIM_SIM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/u64map.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define MAXPHYADDR 52
#define PA_LIMIT (1ull << MAXPHYADDR)

struct mem_frame {
	uint64_t pfn;     /* frame number; UINT64_MAX marks an empty slot */
	uint64_t *data;   /* 512 quadwords */
};

enum frame_state { FRAME_FREE = 0, FRAME_ALLOCATED = 1 };

struct mem {
	struct mem_frame *slots;
	size_t cap;      /* power of two */
	size_t used;
	/* One-entry lookup cache: page walks touch the same table repeatedly. */
	uint64_t last_pfn;
	uint64_t *last_data;

	/* Allocator over [alloc_base, alloc_limit) frame numbers. */
	uint64_t alloc_base, alloc_limit, alloc_next;
	uint64_t *freelist; /* LIFO stack of freed pfns */
	size_t nfree, freecap;
	uint64_t nallocated;
	/* Allocated frames (pfn -> 1): sparse, so a region of 2^40 frames
	 * costs nothing until frames are handed out. */
	struct u64map allocated;
};

/* limit_frames: size of the allocatable region (frames from base_pfn). */
int mem_init(struct mem *m, uint64_t base_pfn, uint64_t limit_frames);
void mem_fini(struct mem *m);

uint64_t mem_read64(struct mem *m, uint64_t pa);
void mem_write64(struct mem *m, uint64_t pa, uint64_t val);
/* Pointer to the frame's 512 quadwords, materialising it. */
uint64_t *mem_frame(struct mem *m, uint64_t pfn);
/* Pointer or NULL if never written (reads as zero). */
const uint64_t *mem_frame_peek(struct mem *m, uint64_t pfn);
void mem_zero_frame(struct mem *m, uint64_t pfn);

/* Returns a zeroed frame number, or UINT64_MAX when exhausted. */
uint64_t mem_alloc_frame(struct mem *m);
/* Returns false if pfn was not allocated (double free or foreign frame). */
bool mem_free_frame(struct mem *m, uint64_t pfn);
bool mem_is_allocated(const struct mem *m, uint64_t pfn);

#endif
