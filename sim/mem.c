#include "sim/mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT64_MAX
#define FRAME_QWORDS (PAGE_SIZE / 8)

static inline size_t hash_pfn(uint64_t pfn, size_t cap)
{
	/* Fibonacci hashing of an integer key: deterministic. */
	return (size_t)((pfn * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

int mem_init(struct mem *m, uint64_t base_pfn, uint64_t limit_frames)
{
	memset(m, 0, sizeof(*m));
	assert(limit_frames > 0);
	if (base_pfn + limit_frames > (PA_LIMIT >> PAGE_SHIFT))
		return -1;
	m->cap = 1024;
	m->slots = malloc(m->cap * sizeof(*m->slots));
	if (!m->slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		m->slots[i] = (struct mem_frame){EMPTY, NULL};
	m->last_pfn = EMPTY;
	m->alloc_base = m->alloc_next = base_pfn;
	m->alloc_limit = base_pfn + limit_frames;
	u64map_init(&m->allocated);
	return 0;
}

void mem_fini(struct mem *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].data);
	free(m->slots);
	free(m->freelist);
	u64map_fini(&m->allocated);
	memset(m, 0, sizeof(*m));
}

static struct mem_frame *lookup(struct mem *m, uint64_t pfn)
{
	size_t mask = m->cap - 1;
	for (size_t i = hash_pfn(pfn, m->cap), n = 0; n < m->cap; i = (i + 1) & mask, n++) {
		if (m->slots[i].pfn == pfn || m->slots[i].pfn == EMPTY)
			return &m->slots[i];
	}
	return NULL; /* unreachable: load factor kept below 1/2 */
}

static void grow(struct mem *m)
{
	struct mem_frame *old = m->slots;
	size_t oldcap = m->cap;
	m->cap *= 2;
	m->slots = malloc(m->cap * sizeof(*m->slots));
	if (!m->slots)
		abort(); /* out of host memory: nothing sensible to do */
	for (size_t i = 0; i < m->cap; i++)
		m->slots[i] = (struct mem_frame){EMPTY, NULL};
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].pfn != EMPTY)
			*lookup(m, old[i].pfn) = old[i];
	free(old);
	m->last_pfn = EMPTY;
}

const uint64_t *mem_frame_peek(struct mem *m, uint64_t pfn)
{
	if (pfn == m->last_pfn)
		return m->last_data;
	struct mem_frame *f = lookup(m, pfn);
	if (f->pfn != pfn)
		return NULL;
	m->last_pfn = pfn;
	m->last_data = f->data;
	return f->data;
}

uint64_t *mem_frame(struct mem *m, uint64_t pfn)
{
	assert(pfn < (PA_LIMIT >> PAGE_SHIFT));
	const uint64_t *p = mem_frame_peek(m, pfn);
	if (p)
		return (uint64_t *)p;
	if ((m->used + 1) * 2 > m->cap)
		grow(m);
	struct mem_frame *f = lookup(m, pfn);
	assert(f->pfn == EMPTY);
	f->pfn = pfn;
	f->data = calloc(FRAME_QWORDS, sizeof(uint64_t));
	if (!f->data)
		abort();
	m->used++;
	m->last_pfn = pfn;
	m->last_data = f->data;
	return f->data;
}

uint64_t mem_read64(struct mem *m, uint64_t pa)
{
	assert((pa & 7) == 0 && pa < PA_LIMIT);
	const uint64_t *d = mem_frame_peek(m, pa >> PAGE_SHIFT);
	return d ? d[(pa & (PAGE_SIZE - 1)) >> 3] : 0;
}

void mem_write64(struct mem *m, uint64_t pa, uint64_t val)
{
	assert((pa & 7) == 0 && pa < PA_LIMIT);
	uint64_t *d = mem_frame(m, pa >> PAGE_SHIFT);
	d[(pa & (PAGE_SIZE - 1)) >> 3] = val;
}

void mem_zero_frame(struct mem *m, uint64_t pfn)
{
	const uint64_t *d = mem_frame_peek(m, pfn);
	if (d)
		memset((void *)d, 0, PAGE_SIZE);
}

static inline bool bit_get(const struct mem *m, uint64_t pfn)
{
	uint32_t v;
	return u64map_get(&m->allocated, pfn, &v);
}

static inline void bit_set(struct mem *m, uint64_t pfn, bool v)
{
	if (v)
		u64map_put(&m->allocated, pfn, 1);
	else
		u64map_del(&m->allocated, pfn);
}

bool mem_is_allocated(const struct mem *m, uint64_t pfn)
{
	if (pfn < m->alloc_base || pfn >= m->alloc_limit)
		return false;
	return bit_get(m, pfn);
}

uint64_t mem_alloc_frame(struct mem *m)
{
	uint64_t pfn;
	if (m->nfree)
		pfn = m->freelist[--m->nfree];
	else if (m->alloc_next < m->alloc_limit)
		pfn = m->alloc_next++;
	else
		return EMPTY;
	assert(!bit_get(m, pfn));
	bit_set(m, pfn, true);
	m->nallocated++;
	mem_zero_frame(m, pfn);
	return pfn;
}

bool mem_free_frame(struct mem *m, uint64_t pfn)
{
	if (!mem_is_allocated(m, pfn))
		return false;
	if (m->nfree == m->freecap) {
		size_t nc = m->freecap ? m->freecap * 2 : 256;
		uint64_t *nf = realloc(m->freelist, nc * sizeof(*nf));
		if (!nf)
			abort();
		m->freelist = nf;
		m->freecap = nc;
	}
	bit_set(m, pfn, false);
	m->freelist[m->nfree++] = pfn;
	m->nallocated--;
	return true;
}
