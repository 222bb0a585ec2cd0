/* The generic IOMMU layer: iommu_map / iommu_unmap of order N, the "don't
 * flush" batching and the error path (seed 001; Xen
 * xen/drivers/passthrough/iommu.c after the patch).
 *
 * Ordering the wrapper enforces (the IOMMU's counterpart of
 * asm-generic/tlb.h's unhook, invalidate, free):
 *   1. every PTE of the operation is written (map_page / unmap_page);
 *   2. one invalidation covering the whole range, of the highest flush
 *      type any PTE reported, unless this CPU's dont_flush is set;
 *   3. only then does the operation return, and only then may the caller
 *      free or reassign the frames that were unmapped.
 * With elision off (the code before the seed), step 2 happens per PTE,
 * inside the loop.
 */
#include "hv/iommu/iommu.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

static void caller(struct hv_iommu *io, const char *fn)
{
	if (io->arch->caller)
		io->arch->caller(io->arch->ctx, fn);
}

int hv_iommu_init(struct hv_iommu *io, const struct hv_arch *arch, unsigned cpu,
                  const struct hv_iommu_config *cfg)
{
	memset(io, 0, sizeof(*io));
	io->arch = arch;
	io->cfg = *cfg;
	if (io->cfg.levels == 0)
		io->cfg.levels = 4;
	if (io->cfg.deferred_batch == 0)
		io->cfg.deferred_batch = 256; /* Linux's flush-queue size [S53] */
	if (io->cfg.levels != 3 && io->cfg.levels != 4)
		return -EINVAL;
	switch (arch->iommu_kind) {
	case HV_IOMMU_HW_VTD: io->ops = &hv_vtd_ops; break;
	case HV_IOMMU_HW_AMD: io->ops = &hv_amd_ops; break;
	default: return -ENODEV;
	}
	if (!arch->iommu_read || !arch->iommu_write)
		return -ENODEV;
	caller(io, "iommu_setup");
	int rc = io->ops->setup(io, cpu);
	caller(io, NULL);
	return rc;
}

struct hv_iommu_domain *hv_iommu_domain_create(struct hv_iommu *io, unsigned cpu, bool hw)
{
	if (io->ndom == HV_IOMMU_MAX_DOMAINS)
		return NULL;
	struct hv_iommu_domain *d = &io->dom[io->ndom];
	memset(d, 0, sizeof(*d));
	d->id = io->ndom;
	d->did = (uint16_t)(io->ndom + 1);
	d->hw = hw;
	caller(io, "iommu_domain_init");
	int rc = io->ops->domain_init(io, cpu, d);
	caller(io, NULL);
	if (rc)
		return NULL;
	io->ndom++;
	return d;
}

int hv_iommu_assign(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint16_t sid)
{
	if (d->ndev == HV_IOMMU_MAX_DEVICES)
		return -ENOSPC;
	caller(io, "iommu_assign_device");
	int rc = io->ops->assign(io, cpu, d, sid);
	caller(io, NULL);
	if (rc == 0)
		d->sid[d->ndev++] = sid;
	return rc;
}

static void domain_crash(struct hv_iommu *io, struct hv_iommu_domain *d)
{
	if (!d->crashed)
		io->st.crashes++;
	d->crashed = true;
}

static int flush(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
                 uint64_t count, enum iommu_flush_type type)
{
	io->st.flush_calls++;
	io->st.by_type[type]++;
	if (io->cfg.inject & HV_IOMMU_INJECT_FLUSH_FIRST_PAGE)
		count = 1;
	return io->ops->iotlb_flush(io, cpu, d, dfn, count, type);
}

static int flush_all(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d)
{
	io->st.flush_all_calls++;
	return io->ops->iotlb_flush_all(io, cpu, d);
}

static enum iommu_flush_type merge_type(const struct hv_iommu *io, enum iommu_flush_type acc,
                                        enum iommu_flush_type t, bool first)
{
	if (io->cfg.inject & HV_IOMMU_INJECT_FLUSH_TYPE_MIN)
		return first || t < acc ? t : acc;
	return t > acc ? t : acc;
}

/* The error path (the seed): undo the pages already mapped, flush the
 * whole domain because the loop's own flush will not cover the undo, and
 * crash the domain unless it is the hardware domain. */
static void map_failed(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                       uint64_t dfn, uint64_t done)
{
	io->st.errors++;
	while (done--)
		(void)io->ops->unmap_page(io, cpu, d, dfn + done);
	(void)flush_all(io, cpu, d);
	if (!d->hw)
		domain_crash(io, d);
}

static bool range_ok(uint64_t dfn, uint64_t mfn, unsigned order)
{
	if (order > HV_IOMMU_MAX_ORDER)
		return false;
	uint64_t mask = (1ull << order) - 1;
	return (dfn & mask) == 0 && (mfn & mask) == 0;
}

int hv_iommu_map(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
                 uint64_t mfn, unsigned order, unsigned flags)
{
	assert(cpu < HV_MAX_CPUS);
	if (!range_ok(dfn, mfn, order))
		return -EINVAL;
	uint64_t n = 1ull << order;
	enum iommu_flush_type type = IOMMU_FLUSH_NONE;
	int rc = 0;
	caller(io, "iommu_map");
	io->st.maps++;
	for (uint64_t i = 0; i < n; i++) {
		enum iommu_flush_type t = IOMMU_FLUSH_NONE;
		rc = io->ops->map_page(io, cpu, d, dfn + i, mfn + i, flags, &t);
		if (rc) {
			map_failed(io, cpu, d, dfn, i);
			break;
		}
		io->st.pages_mapped++;
		type = merge_type(io, type, t, i == 0);
		/* Before the seed: the driver flushed each PTE as it wrote it. */
		bool per_pte = !io->cfg.elide || (io->cfg.inject & HV_IOMMU_INJECT_PTE_FLUSH_KEPT);
		if (per_pte && !io->dont_flush[cpu] && t != IOMMU_FLUSH_NONE)
			(void)flush(io, cpu, d, dfn + i, 1, t);
	}
	if (io->cfg.elide && !io->dont_flush[cpu]) {
		int err = flush(io, cpu, d, dfn, n, type);
		if (!rc)
			rc = err; /* the seed's v1 overwrote rc here; keep the
			             first error */
	}
	caller(io, NULL);
	return rc;
}

int hv_iommu_unmap(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
                   unsigned order)
{
	assert(cpu < HV_MAX_CPUS);
	if (!range_ok(dfn, 0, order))
		return -EINVAL;
	uint64_t n = 1ull << order;
	int rc = 0;
	caller(io, "iommu_unmap");
	io->st.unmaps++;
	bool deferred = io->cfg.unmap_mode == HV_IOMMU_UNMAP_DEFERRED;
	for (uint64_t i = 0; i < n; i++) {
		int err = io->ops->unmap_page(io, cpu, d, dfn + i);
		if (err) {
			/* Xen: report, crash a non-hardware domain, go on. */
			io->st.errors++;
			if (!rc)
				rc = err;
			if (!d->hw)
				domain_crash(io, d);
			continue;
		}
		io->st.pages_unmapped++;
		if (!io->cfg.elide && !deferred)
			(void)flush(io, cpu, d, dfn + i, 1, IOMMU_FLUSH_MODIFIED);
	}
	if (deferred) {
		d->deferred += n;
		if (d->deferred >= io->cfg.deferred_batch) {
			int err = hv_iommu_flush_deferred(io, cpu, d);
			if (!rc)
				rc = err;
		}
	} else if (io->cfg.elide) {
		/* The seed: unmap always flushes (dont_flush is not consulted). */
		int err = flush(io, cpu, d, dfn, n, IOMMU_FLUSH_MODIFIED);
		if (!rc)
			rc = err;
	}
	caller(io, NULL);
	return rc;
}

int hv_iommu_flush_deferred(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d)
{
	if (!d->deferred)
		return 0;
	caller(io, "iommu_flush_deferred");
	d->deferred = 0;
	int rc = flush_all(io, cpu, d);
	caller(io, NULL);
	return rc;
}

int hv_iommu_hwdom_init(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d,
                        uint64_t first_pfn, uint64_t pages)
{
	assert(d->hw);
	int rc = 0;
	io->dont_flush[cpu] = true;
	for (uint64_t i = 0; i < pages; i++) {
		int err = hv_iommu_map(io, cpu, d, first_pfn + i, first_pfn + i, 0,
		                       IOMMUF_READABLE | IOMMUF_WRITABLE);
		if (err && !rc)
			rc = err;
	}
	if (!(io->cfg.inject & HV_IOMMU_INJECT_DONT_FLUSH_LEFT_SET))
		io->dont_flush[cpu] = false;
	caller(io, "arch_iommu_hwdom_init");
	int err = flush_all(io, cpu, d);
	caller(io, NULL);
	return rc ? rc : err;
}
