/* The IOMMU world of a run: unit, DMA engine, hypervisor layer, and the
 * reference every DMA is checked against (see ioworld.h). */
#include "runner/ioworld.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/platform.h"
#include "sim/event.h"
#include "sim/machine.h"
#include "sim/vec.h"

#define NO_PA UINT64_MAX
#define NONE_REF UINT32_MAX

static uint64_t ref_key(uint32_t domain, uint64_t dfn)
{
	return (uint64_t)domain << 45 | dfn;
}

/* ---- reference ------------------------------------------------------ */

const struct ioref *ioworld_ref(const struct ioworld *w, uint32_t domain, uint64_t dfn)
{
	uint32_t i;
	if (!u64map_get(&w->ref, ref_key(domain, dfn), &i))
		return NULL;
	return &w->refs[i];
}

void ioworld_ref_set(struct ioworld *w, uint32_t domain, uint64_t dfn, uint64_t mfn,
                     uint32_t flags, uint8_t state)
{
	uint32_t i;
	if (!u64map_get(&w->ref, ref_key(domain, dfn), &i)) {
		if (w->free_ref != NONE_REF) {
			i = w->free_ref;
			w->free_ref = (uint32_t)w->refs[i].mfn;
		} else {
			VEC_RESERVE(w->refs, w->caprefs, w->nrefs, 256);
			i = w->nrefs++;
		}
		u64map_put(&w->ref, ref_key(domain, dfn), i);
	}
	w->refs[i] = (struct ioref){.mfn = mfn, .flags = flags, .state = state};
}

void ioworld_ref_clear(struct ioworld *w, uint32_t domain, uint64_t dfn)
{
	uint32_t i;
	if (!u64map_get(&w->ref, ref_key(domain, dfn), &i))
		return;
	u64map_del(&w->ref, ref_key(domain, dfn));
	memset(&w->refs[i], 0, sizeof(w->refs[i]));
	w->refs[i].mfn = w->free_ref; /* free list through mfn */
	w->free_ref = i;
}

/* Owner of a frame: domain + 1, 0 for nobody. */
uint32_t ioworld_owner(const struct ioworld *w, uint64_t pfn)
{
	uint32_t v;
	return u64map_get(&w->owner, pfn, &v) ? v : 0;
}

/* Frames change owner (domain -1: nobody), with one EV_IO_OWN event. */
void ioworld_own(struct ioworld *w, int domain, uint64_t pfn, uint64_t pages)
{
	for (uint64_t i = 0; i < pages; i++) {
		if (domain < 0)
			u64map_del(&w->owner, pfn + i);
		else
			u64map_put(&w->owner, pfn + i, (uint32_t)domain + 1);
	}
	struct event ev = machine_event(w->m, EV_IO_OWN, -1);
	ev.sub = domain < 0;
	ev.a = domain < 0 ? UINT64_MAX : (uint64_t)domain;
	ev.b = pfn << 12;
	ev.c = pages;
	machine_emit(w->m, &ev);
}

/* ---- checks --------------------------------------------------------- */

void ioworld_check_event(struct ioworld *w, unsigned kind, uint64_t iova, uint64_t expected,
                         uint64_t actual, uint64_t dev, uint32_t domain, uint64_t at)
{
	struct event ev = machine_event(w->m, EV_CHECK, -1);
	ev.cycle = at;
	ev.sub = (uint16_t)kind;
	ev.a = iova;
	ev.b = expected;
	ev.c = actual;
	ev.d = w->op_index;
	ev.e = dev;
	ev.f = domain;
	machine_emit(w->m, &ev);
}

/* What the reference allows for one translated piece of a DMA. */
static void check_piece(struct ioworld *w, uint32_t dev, uint64_t iova, unsigned acc,
                        const struct iommu_xlate *x, uint64_t at)
{
	int32_t d = w->dev_domain[dev];
	if (d < 0)
		return;
	uint64_t pfn = iova >> 12, off = iova & 0xfff;
	uint64_t got = x->fault ? NO_PA : x->pa;
	if (!x->fault) {
		uint32_t own = ioworld_owner(w, x->pa >> 12);
		if (own != (uint32_t)d + 1)
			ioworld_check_event(w, CHECK_IO_OWNER, iova, own, got, dev, (uint32_t)d, at);
	}
	if (w->busy == d)
		return; /* an operation on the domain is under way: anything
		           between its old and new state may be seen */
	const struct ioref *r = ioworld_ref(w, (uint32_t)d, pfn);
	bool allowed = r && (((acc & IOMMU_ACC_WRITE) && (r->flags & IOMMUF_WRITABLE)) ||
	                     ((acc & IOMMU_ACC_READ) && (r->flags & IOMMUF_READABLE)));
	uint64_t want = r ? (r->mfn << 12 | off) : NO_PA;
	if (r && r->state == IOREF_ZOMBIE) {
		/* Unmapped, deferred flush pending: the old frame or a fault. */
		if (!x->fault && x->pa != want)
			ioworld_check_event(w, CHECK_IO_STALE, iova, want, got, dev, (uint32_t)d, at);
		return;
	}
	if (r && allowed) {
		if (x->fault)
			ioworld_check_event(w, CHECK_IO_MAP, iova, want, got, dev, (uint32_t)d, at);
		else if (x->pa != want)
			ioworld_check_event(w, CHECK_IO_STALE, iova, want, got, dev, (uint32_t)d, at);
		return;
	}
	if (!x->fault)
		ioworld_check_event(w, CHECK_IO_STALE, iova, NO_PA, got, dev, (uint32_t)d, at);
}

static void on_piece(void *ctx, uint32_t dev, uint64_t iova, unsigned acc,
                     const struct iommu_xlate *x, uint64_t at)
{
	check_piece(ctx, dev, iova, acc, x, at);
}

/* ---- hardware side -------------------------------------------------- */

void ioworld_catch_up(struct ioworld *w, uint64_t t)
{
	dma_run_until(&w->dma, t);
}

uint64_t ioworld_mmio_read(struct ioworld *w, unsigned cpu, uint32_t off)
{
	w->unit.now = w->m->cpus[cpu].clock;
	return iommu_mmio_read(&w->unit, off);
}

/* The unit works through what the write started (a tail register write)
 * after whatever it was still doing for another CPU; the writing CPU
 * polls for completion, so it waits until the unit is done. */
void ioworld_mmio_write(struct ioworld *w, unsigned cpu, uint32_t off, uint64_t val)
{
	struct cpu *c = &w->m->cpus[cpu];
	ioworld_catch_up(w, c->clock);
	uint64_t start = c->clock > w->busy_until ? c->clock : w->busy_until;
	uint64_t before = w->unit.st.cycles;
	w->unit.now = start;
	iommu_mmio_write(&w->unit, off, val);
	uint64_t cost = w->unit.st.cycles - before;
	if (!cost)
		return;
	w->busy_until = start + cost;
	c->clock = w->busy_until;
}

/* ---- life cycle ----------------------------------------------------- */

static int unit_init(struct ioworld *w, const struct sc_iommu *cfg, char *err, size_t errlen)
{
	if (cfg->kind == SC_IOMMU_AMD) {
		struct amdvi_config ac = {
			.iotlb_entries = cfg->iotlb_entries,
			.iotlb_ways = cfg->iotlb_ways,
		};
		if (amdvi_init(&w->unit, w->m, &ac) == 0)
			return 0;
		snprintf(err, errlen, "iommu: cannot build the AMD-Vi unit");
		return -1;
	}
	struct vtd_config vc = {
		.caching_mode = cfg->caching_mode,
		.iotlb_entries = cfg->iotlb_entries,
		.iotlb_ways = cfg->iotlb_ways,
	};
	if (vtd_init(&w->unit, w->m, &vc) != 0) {
		snprintf(err, errlen, "iommu: cannot build the VT-d unit");
		return -1;
	}
	return 0;
}

int ioworld_init(struct ioworld *w, struct platform *p, const struct sc_iommu *cfg, char *err,
                 size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->m = p->m;
	w->busy = -1;
	w->free_ref = NONE_REF;
	w->elide = cfg->elide;
	w->deferred = cfg->unmap == SC_UNMAP_DEFERRED;
	u64map_init(&w->ref);
	u64map_init(&w->owner);
	for (unsigned i = 0; i < DMA_MAX_DEVICES; i++)
		w->dev_domain[i] = -1;
	if (unit_init(w, cfg, err, errlen))
		return -1;
	dma_init(&w->dma, w->m, &w->unit, 1);
	w->dma.piece = on_piece;
	w->dma.piece_ctx = w;
	p->arch.iommu_kind = cfg->kind == SC_IOMMU_VTD ? HV_IOMMU_HW_VTD : HV_IOMMU_HW_AMD;
	struct hv_iommu_config hc = {
		.elide = cfg->elide,
		.unmap_mode = w->deferred ? HV_IOMMU_UNMAP_DEFERRED : HV_IOMMU_UNMAP_STRICT,
		.deferred_batch = cfg->deferred_batch,
		.levels = cfg->levels,
		.inject = cfg->inject,
	};
	int rc = hv_iommu_init(&w->hv, &p->arch, 0, &hc);
	if (rc) {
		snprintf(err, errlen, "iommu: the hypervisor's IOMMU set-up failed: %s",
		         strerror(-rc));
		return -1;
	}
	return 0;
}

void ioworld_fini(struct ioworld *w)
{
	iommu_fini(&w->unit);
	u64map_fini(&w->ref);
	u64map_fini(&w->owner);
	free(w->refs);
	free(w->zombies);
	memset(w, 0, sizeof(*w));
}

void ioworld_row(struct ioworld *w, uint32_t kind, uint32_t order, uint32_t type,
                 uint64_t invs, uint64_t cycles)
{
	uint32_t i;
	for (i = 0; i < w->nrows; i++)
		if (w->rows[i].kind == kind && w->rows[i].order == order && w->rows[i].type == type)
			break;
	if (i == w->nrows) {
		if (w->nrows == IOWORLD_ROWS)
			return; /* the table is full: later kinds go uncounted */
		w->rows[w->nrows++] = (struct iorow){.kind = kind, .order = order, .type = type};
	}
	w->rows[i].count++;
	w->rows[i].invs += invs;
	w->rows[i].cycles += cycles;
}

static int row_cmp(const void *x, const void *y)
{
	const struct iorow *a = x, *b = y;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a->type < b->type ? -1 : a->type > b->type;
}

#define APPEND(...)                                                            \
	do {                                                                   \
		int n_ = snprintf(buf + used, used < cap ? cap - used : 0, __VA_ARGS__); \
		if (n_ > 0)                                                    \
			used += (size_t)n_;                                    \
	} while (0)

void ioworld_report(const struct ioworld *w, uint64_t freq_mhz, char *buf, size_t cap)
{
	static const char *const types[] = {"none", "added", "modified"};
	const struct iommu_stats *h = &w->unit.st;
	const struct hv_iommu_stats *s = &w->hv.st;
	size_t used = 0;
	buf[0] = 0;
	APPEND("iommu %s%s%s%s: maps %" PRIu64 " (%" PRIu64 " pages), unmaps %" PRIu64 " (%" PRIu64
	       " pages), IOTLB invalidations %" PRIu64 " (page %" PRIu64 ", domain %" PRIu64
	       ", global %" PRIu64 "), waits %" PRIu64 ", flush calls %" PRIu64 " (elided %" PRIu64
	       "), op cycles %" PRIu64 "; dma %" PRIu64 " transfers, %" PRIu64 " faults, IOTLB hits %"
	       PRIu64 " misses %" PRIu64 "\n",
	       w->hv.ops ? w->hv.ops->name : "?", w->unit.vtd.cm ? " cm" : "",
	       w->elide ? " elide" : " no-elide", w->deferred ? " deferred" : " strict", s->maps,
	       s->pages_mapped, s->unmaps, s->pages_unmapped,
	       h->inv_iotlb_page + h->inv_iotlb_domain + h->inv_iotlb_global, h->inv_iotlb_page,
	       h->inv_iotlb_domain, h->inv_iotlb_global, h->waits, s->flush_calls,
	       s->flushes_elided, w->st.op_cycles, w->dma.st.transfers, w->dma.st.faults,
	       h->iotlb_hits, h->iotlb_misses);
	struct iorow rows[IOWORLD_ROWS];
	memcpy(rows, w->rows, w->nrows * sizeof(rows[0]));
	qsort(rows, w->nrows, sizeof(rows[0]), row_cmp);
	for (uint32_t i = 0; i < w->nrows; i++) {
		const struct iorow *r = &rows[i];
		uint64_t inv100 = r->invs * 100 / r->count;
		APPEND("  %-5s order %-2u %-8s x%-6" PRIu64 " invalidations/op %" PRIu64 ".%02" PRIu64
		       "  cycles/op %" PRIu64 "\n", r->kind == IOOP_MAP ? "map" : "unmap", r->order,
		       types[r->type], r->count, inv100 / 100, inv100 % 100, r->cycles / r->count);
	}
	if (w->st.ios && w->st.io_t1 > w->st.io_t0 && freq_mhz) {
		/* Throughput over the span the workloads ran, at the profile's
		 * clock: I/Os * cycles-per-second / cycles. */
		uint64_t span = w->st.io_t1 - w->st.io_t0;
		uint64_t kiops = w->st.ios * freq_mhz * 1000ull / span;
		APPEND("  workload: %" PRIu64 " I/Os on %u CPU(s) in %" PRIu64 " cycles (%" PRIu64
		       " MHz): %" PRIu64 ".%03" PRIu64 " M IOPS, %" PRIu64 " cycles per I/O per CPU\n",
		       w->st.ios, w->st.io_cpus, span, freq_mhz, kiops / 1000, kiops % 1000,
		       w->st.io_cycles / w->st.ios);
	}
}
