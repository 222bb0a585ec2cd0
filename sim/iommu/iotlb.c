/* Concrete IOMMU caches (see iommu.h): the domain-tagged IOTLB and the
 * device (context) cache.
 *
 * Invariants (asserted):
 * - a valid IOTLB entry's pa_base is aligned to its size, size is 12, 21
 *   or 30, and a not-present entry has perm 0;
 * - a set never holds two valid entries for the same (did, vpn, size): a
 *   fill replaces a matching entry in place;
 * - replacement takes an invalid way first, then the least recently used
 *   (lowest lru stamp, lowest index on a tie): no randomness.
 * Every loop is bounded by the array size.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/iommu/iommu.h"

int iotlb_init(struct iotlb *t, uint32_t entries, uint32_t ways)
{
	memset(t, 0, sizeof(*t));
	if (ways == 0 || entries == 0 || entries % ways != 0)
		return -1;
	uint32_t sets = entries / ways;
	if (sets & (sets - 1))
		return -1;
	t->e = calloc(entries, sizeof(*t->e));
	if (!t->e)
		return -1;
	t->sets = sets;
	t->ways = ways;
	t->set_mask = sets - 1;
	return 0;
}

void iotlb_fini(struct iotlb *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static struct iotlb_entry *iotlb_set(struct iotlb *t, uint64_t vpn)
{
	return &t->e[(size_t)(vpn & t->set_mask) * t->ways];
}

struct iotlb_entry *iotlb_lookup(struct iotlb *t, uint16_t did, uint64_t iova)
{
	static const uint8_t sizes[3] = {12, 21, 30};
	for (unsigned i = 0; i < 3; i++) {
		uint64_t vpn = iova >> sizes[i];
		struct iotlb_entry *s = iotlb_set(t, vpn);
		for (uint32_t w = 0; w < t->ways; w++) {
			struct iotlb_entry *e = &s[w];
			if (e->valid && e->vpn == vpn && e->size_log2 == sizes[i] &&
			    e->did == did) {
				e->lru = ++t->clock;
				return e;
			}
		}
	}
	return NULL;
}

#define DEFINE_VICTIM(name, type)                                        \
	static uint32_t name(const type *e, uint32_t n)                  \
	{                                                                \
		assert(n > 0);                                           \
		uint32_t best = 0;                                       \
		for (uint32_t k = 0; k < n; k++) {                       \
			if (!e[k].valid)                                 \
				return k;                                \
			if (e[k].lru < e[best].lru)                      \
				best = k;                                \
		}                                                        \
		return best;                                             \
	}
DEFINE_VICTIM(iotlb_victim, struct iotlb_entry)
DEFINE_VICTIM(devc_victim, struct devc_entry)

bool iotlb_fill(struct iotlb *t, const struct iotlb_entry *proto)
{
	assert(proto->size_log2 == 12 || proto->size_log2 == 21 || proto->size_log2 == 30);
	assert((proto->pa_base & ((1ull << proto->size_log2) - 1)) == 0);
	assert(!proto->np || proto->perm == 0);
	struct iotlb_entry *s = iotlb_set(t, proto->vpn);
	uint32_t w;
	for (w = 0; w < t->ways; w++)
		if (s[w].valid && s[w].vpn == proto->vpn &&
		    s[w].size_log2 == proto->size_log2 && s[w].did == proto->did)
			break;
	bool evicted = false;
	if (w == t->ways) {
		w = iotlb_victim(s, t->ways);
		evicted = s[w].valid != 0;
	}
	s[w] = *proto;
	s[w].valid = 1;
	s[w].lru = ++t->clock;
	return evicted;
}

uint32_t iotlb_inv_all(struct iotlb *t)
{
	uint32_t n = 0, total = t->sets * t->ways;
	for (uint32_t i = 0; i < total; i++) {
		n += t->e[i].valid;
		t->e[i].valid = 0;
	}
	return n;
}

uint32_t iotlb_inv_domain(struct iotlb *t, uint16_t did)
{
	uint32_t n = 0, total = t->sets * t->ways;
	for (uint32_t i = 0; i < total; i++) {
		struct iotlb_entry *e = &t->e[i];
		if (e->valid && e->did == did) {
			e->valid = 0;
			n++;
		}
	}
	return n;
}

uint32_t iotlb_inv_range(struct iotlb *t, uint16_t did, uint64_t base, unsigned size_log2)
{
	assert(size_log2 < 64 && (base & ((1ull << size_log2) - 1)) == 0);
	uint64_t last = base + ((1ull << size_log2) - 1);
	uint32_t n = 0, total = t->sets * t->ways;
	for (uint32_t i = 0; i < total; i++) {
		struct iotlb_entry *e = &t->e[i];
		if (!e->valid || e->did != did)
			continue;
		uint64_t lo = e->vpn << e->size_log2;
		uint64_t hi = lo + ((1ull << e->size_log2) - 1);
		if (lo <= last && base <= hi) {
			e->valid = 0;
			n++;
		}
	}
	return n;
}

int devc_init(struct devc *c, uint32_t n)
{
	memset(c, 0, sizeof(*c));
	if (n == 0)
		return -1;
	c->e = calloc(n, sizeof(*c->e));
	if (!c->e)
		return -1;
	c->n = n;
	return 0;
}

void devc_fini(struct devc *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}

struct devc_entry *devc_lookup(struct devc *c, uint16_t sid)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->e[i].valid && c->e[i].sid == sid) {
			c->e[i].lru = ++c->clock;
			return &c->e[i];
		}
	return NULL;
}

bool devc_fill(struct devc *c, const struct devc_entry *proto)
{
	assert(!proto->np || proto->did == 0);
	uint32_t i;
	for (i = 0; i < c->n; i++)
		if (c->e[i].valid && c->e[i].sid == proto->sid)
			break;
	bool evicted = false;
	if (i == c->n) {
		i = devc_victim(c->e, c->n);
		evicted = c->e[i].valid != 0;
	}
	c->e[i] = *proto;
	c->e[i].valid = 1;
	c->e[i].lru = ++c->clock;
	return evicted;
}

uint32_t devc_inv_all(struct devc *c)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->n; i++) {
		n += c->e[i].valid;
		c->e[i].valid = 0;
	}
	return n;
}

uint32_t devc_inv_domain(struct devc *c, uint16_t did)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < c->n; i++)
		if (c->e[i].valid && c->e[i].did == did) {
			c->e[i].valid = 0;
			n++;
		}
	return n;
}

uint32_t devc_inv_device(struct devc *c, uint16_t did, uint16_t sid, uint16_t fn_mask)
{
	uint32_t n = 0;
	uint16_t keep = (uint16_t)~fn_mask;
	for (uint32_t i = 0; i < c->n; i++) {
		struct devc_entry *e = &c->e[i];
		if (e->valid && e->did == did && (e->sid & keep) == (sid & keep)) {
			e->valid = 0;
			n++;
		}
	}
	return n;
}
