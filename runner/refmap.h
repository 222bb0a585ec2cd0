/* The reference map: what the hypervisor was ASKED to map, kept apart
 * from its page tables (an independent model to check them against).
 * Sorted, non-overlapping intervals [va, end) -> pa with 4 KiB-form flags. */
#ifndef HVSIM_RUNNER_REFMAP_H
#define HVSIM_RUNNER_REFMAP_H

#include <stdint.h>

struct ref_iv {
	uint64_t va, end;
	uint64_t pa;
	uint64_t flags;
};

struct refmap {
	struct ref_iv *v;
	uint32_t n, cap;
};

void refmap_init(struct refmap *r);
void refmap_fini(struct refmap *r);
/* Removes [va, end), splitting intervals that straddle its edges. */
void refmap_clear(struct refmap *r, uint64_t va, uint64_t end);
void refmap_set(struct refmap *r, uint64_t va, uint64_t end, uint64_t pa, uint64_t flags);
/* New flags for the mapped parts of [va, end); calls changed(ctx, pa,
 * pages) for every mapped piece whose memory type (PWT/PCD/PAT) changes. */
void refmap_modify(struct refmap *r, uint64_t va, uint64_t end, uint64_t flags,
                   void (*changed)(void *ctx, uint64_t pa, uint64_t pages), void *ctx);
/* Index of the first interval with end > va (r->n if none). */
uint32_t refmap_lower(const struct refmap *r, uint64_t va);

#endif
