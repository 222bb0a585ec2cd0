/* The IOMMU envelope: every translation an IOTLB may still hold (see
 * iommu.h).
 *
 * VT-d (spec §6.1, §6.5) and AMD-Vi (spec §2.2.6 "IOTLB") let hardware keep
 * a translation it has fetched until software invalidates it; how long it
 * survives in practice depends on capacity and replacement, which the
 * specifications leave open. The envelope is the upper bound: a record is
 * added whenever a walk produces a translation (the concrete IOTLB may have
 * cached it) and removed only by an invalidation that covers it, never by
 * capacity. So "the hardware may still serve X" is a question about this
 * set, independent of the concrete model's LRU.
 *
 * Invariants (asserted):
 * - a live record has 1..IOENV_ALTS alternatives, or `many` set;
 * - the index maps exactly the live records' keys;
 * - the record count never exceeds IOENV_MAX_RECORDS (adds beyond it are
 *   refused and set every record's `many`: the model then over-approximates
 *   rather than forgets).
 * Invalidation scans the record vector (bounded by its length); lookups go
 * through the index.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/iommu/iommu.h"

static const uint8_t env_sizes[3] = {12, 21, 30};

static uint64_t size_code(unsigned log2)
{
	return log2 == 12 ? 0 : log2 == 21 ? 1 : 2;
}

/* Key: size code (2 bits) | did (16 bits) | vpn (up to 45 bits: IOVAs
 * below 2^57). Never UINT64_MAX (the map's empty key). */
static uint64_t ioenv_key(uint16_t did, unsigned log2, uint64_t vpn)
{
	assert(vpn < (1ull << 45));
	return size_code(log2) << 61 | (uint64_t)did << 45 | vpn;
}

void ioenv_init(struct ioenv *e)
{
	memset(e, 0, sizeof(*e));
	e->free_head = UINT32_MAX;
	u64map_init(&e->idx);
}

void ioenv_fini(struct ioenv *e)
{
	free(e->r);
	u64map_fini(&e->idx);
	memset(e, 0, sizeof(*e));
}

static uint32_t rec_alloc(struct ioenv *e)
{
	if (e->free_head != UINT32_MAX) {
		uint32_t i = e->free_head;
		e->free_head = e->r[i].next_free;
		return i;
	}
	if (e->n == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 64;
		struct ioenv_rec *r = realloc(e->r, (size_t)cap * sizeof(*r));
		if (!r)
			return UINT32_MAX;
		e->r = r;
		e->cap = cap;
	}
	return e->n++;
}

static void rec_free(struct ioenv *e, uint32_t i)
{
	struct ioenv_rec *r = &e->r[i];
	assert(r->live);
	bool had = u64map_del(&e->idx, ioenv_key(r->did, r->size_log2, r->vpn));
	assert(had);
	(void)had;
	memset(r, 0, sizeof(*r));
	r->next_free = e->free_head;
	e->free_head = i;
	e->live--;
}

static bool alt_same(const struct ioenv_alt *a, const struct iotlb_entry *p)
{
	return a->np == p->np && a->pa_base == p->pa_base && a->perm == p->perm;
}

/* Over capacity: forget nothing, but stop telling alternatives apart. */
static void saturate(struct ioenv *e)
{
	for (uint32_t i = 0; i < e->n; i++)
		if (e->r[i].live)
			e->r[i].many = 1;
}

int ioenv_add(struct ioenv *e, const struct iotlb_entry *p)
{
	uint64_t key = ioenv_key(p->did, p->size_log2, p->vpn);
	uint32_t i;
	if (u64map_get(&e->idx, key, &i)) {
		struct ioenv_rec *r = &e->r[i];
		assert(r->live && r->vpn == p->vpn && r->did == p->did);
		for (unsigned k = 0; k < r->nalt; k++)
			if (alt_same(&r->alt[k], p))
				return 0;
		if (r->nalt == IOENV_ALTS) {
			r->many = 1;
			return 0;
		}
		r->alt[r->nalt++] = (struct ioenv_alt){p->pa_base, p->perm, p->np, {0}};
		return 0;
	}
	if (e->live >= IOENV_MAX_RECORDS || (i = rec_alloc(e)) == UINT32_MAX) {
		saturate(e);
		return 0;
	}
	struct ioenv_rec *r = &e->r[i];
	memset(r, 0, sizeof(*r));
	r->vpn = p->vpn;
	r->did = p->did;
	r->size_log2 = p->size_log2;
	r->live = 1;
	r->nalt = 1;
	r->alt[0] = (struct ioenv_alt){p->pa_base, p->perm, p->np, {0}};
	u64map_put(&e->idx, key, i);
	e->live++;
	return 1;
}

uint32_t ioenv_inv_all(struct ioenv *e)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->n; i++)
		if (e->r[i].live) {
			rec_free(e, i);
			n++;
		}
	assert(e->live == 0);
	return n;
}

uint32_t ioenv_inv_domain(struct ioenv *e, uint16_t did)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->n; i++)
		if (e->r[i].live && e->r[i].did == did) {
			rec_free(e, i);
			n++;
		}
	return n;
}

uint32_t ioenv_inv_range(struct ioenv *e, uint16_t did, uint64_t base, unsigned size_log2)
{
	assert(size_log2 < 64 && (base & ((1ull << size_log2) - 1)) == 0);
	uint64_t last = base + ((1ull << size_log2) - 1);
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->n; i++) {
		const struct ioenv_rec *r = &e->r[i];
		if (!r->live || r->did != did)
			continue;
		uint64_t lo = r->vpn << r->size_log2;
		uint64_t hi = lo + ((1ull << r->size_log2) - 1);
		if (lo <= last && base <= hi) {
			rec_free(e, i);
			n++;
		}
	}
	return n;
}

static void judge(const struct ioenv_rec *r, uint64_t iova, bool cur_np, uint64_t cur_pa,
                  unsigned cur_perm, struct ioenv_verdict *v)
{
	v->records++;
	if (r->many) {
		v->may_stale = 1;
		v->may_np |= !cur_np;
		return;
	}
	uint64_t off = iova & ((1ull << r->size_log2) - 1);
	for (unsigned k = 0; k < r->nalt; k++) {
		const struct ioenv_alt *a = &r->alt[k];
		bool same = a->np ? cur_np
		                  : !cur_np && a->pa_base + off == cur_pa && a->perm == cur_perm;
		if (!same) {
			v->may_stale = 1;
			v->stale_pa = a->np ? 0 : a->pa_base + off;
			v->may_np |= a->np;
		}
	}
}

struct ioenv_verdict ioenv_check(const struct ioenv *e, uint16_t did, uint64_t iova,
                                 bool cur_np, uint64_t cur_pa, unsigned cur_perm)
{
	struct ioenv_verdict v;
	memset(&v, 0, sizeof(v));
	for (unsigned s = 0; s < 3; s++) {
		uint64_t vpn = iova >> env_sizes[s];
		uint32_t i;
		if (vpn >= (1ull << 45) ||
		    !u64map_get(&e->idx, ioenv_key(did, env_sizes[s], vpn), &i))
			continue;
		assert(e->r[i].live && e->r[i].vpn == vpn);
		judge(&e->r[i], iova, cur_np, cur_pa, cur_perm, &v);
	}
	return v;
}
