#include "runner/refmap.h"

#include <assert.h>
#include <string.h>

#include "sim/vec.h"

#define MEMTYPE ((1ull << 3) | (1ull << 4) | (1ull << 7)) /* PWT PCD PAT (4K) */

void refmap_init(struct refmap *r)
{
	memset(r, 0, sizeof(*r));
}

void refmap_fini(struct refmap *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

uint32_t refmap_lower(const struct refmap *r, uint64_t va)
{
	uint32_t lo = 0, hi = r->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (r->v[mid].end <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void insert_at(struct refmap *r, uint32_t i, const struct ref_iv *iv)
{
	VEC_RESERVE(r->v, r->cap, r->n, 16);
	memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(r->v[0]));
	r->v[i] = *iv;
	r->n++;
}

/* Splits the interval holding `at` (if any) so that `at` is an edge. */
static void split_at(struct refmap *r, uint64_t at)
{
	uint32_t i = refmap_lower(r, at);
	if (i == r->n || r->v[i].va >= at)
		return;
	struct ref_iv right = r->v[i];
	right.pa += at - right.va;
	right.va = at;
	r->v[i].end = at;
	insert_at(r, i + 1, &right);
}

void refmap_clear(struct refmap *r, uint64_t va, uint64_t end)
{
	assert(va < end);
	if (r->n == 0)
		return;
	split_at(r, va);
	split_at(r, end);
	uint32_t i = refmap_lower(r, va), j = i;
	while (j < r->n && r->v[j].va < end)
		j++;
	if (j > i) {
		memmove(&r->v[i], &r->v[j], (r->n - j) * sizeof(r->v[0]));
		r->n -= j - i;
	}
}

void refmap_set(struct refmap *r, uint64_t va, uint64_t end, uint64_t pa, uint64_t flags)
{
	refmap_clear(r, va, end);
	struct ref_iv iv = {va, end, pa, flags};
	insert_at(r, refmap_lower(r, va), &iv);
}

void refmap_modify(struct refmap *r, uint64_t va, uint64_t end, uint64_t flags,
                   void (*changed)(void *ctx, uint64_t pa, uint64_t pages), void *ctx)
{
	split_at(r, va);
	split_at(r, end);
	for (uint32_t i = refmap_lower(r, va); i < r->n && r->v[i].va < end; i++) {
		struct ref_iv *iv = &r->v[i];
		if (((iv->flags ^ flags) & MEMTYPE) && changed)
			changed(ctx, iv->pa, (iv->end - iv->va) >> 12);
		iv->flags = flags;
	}
}
