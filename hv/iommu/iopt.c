/* The I/O page-table walk both drivers share (hw.h). Levels come from the
 * configuration (3 or 4: VT-d AW 39/48 bits, AMD-Vi Mode 3/4); only 4 KiB
 * leaves are written and intermediate tables live until the domain dies,
 * as in Xen at the seed's time. */
#include <errno.h>

#include "hv/iommu/hw.h"

bool iopt_dfn_ok(const struct hv_iommu *io, uint64_t dfn)
{
	return dfn < (1ull << (9 * io->cfg.levels));
}

uint64_t iopt_l1(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
                 const struct iopt_fmt *f, bool alloc, int *rc)
{
	uint64_t table = d->root_pfn << 12;
	for (unsigned level = io->cfg.levels; level > 1; level--) {
		uint64_t pa = table + 8 * ((dfn >> (9 * (level - 1))) & 511);
		uint64_t e = iommu_r64(io, pa);
		if (!(e & f->present)) {
			if (!alloc)
				return 0;
			uint64_t fr = iommu_new_frame(io, cpu);
			if (fr == HV_NO_FRAME) {
				*rc = -ENOMEM;
				return 0;
			}
			d->pt_pages++;
			e = f->dir(fr, level);
			iommu_w64(io, cpu, pa, e);
		}
		table = e & IOPT_ADDR;
	}
	return table + 8 * (dfn & 511);
}

uint64_t iopt_leaf(const struct iopt_fmt *f, uint64_t mfn, unsigned flags)
{
	return mfn << 12 | ((flags & IOMMUF_READABLE) ? f->r : 0) |
	       ((flags & IOMMUF_WRITABLE) ? f->w : 0) | f->leaf_p;
}

int iopt_unmap(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
               const struct iopt_fmt *f)
{
	if (!iopt_dfn_ok(io, dfn))
		return -EINVAL;
	int rc = 0;
	uint64_t pa = iopt_l1(io, cpu, d, dfn, f, false, &rc);
	if (pa && (iommu_r64(io, pa) & f->present))
		iommu_w64(io, cpu, pa, 0);
	return 0;
}

uint64_t iopt_lookup(struct hv_iommu *io, struct hv_iommu_domain *d, uint64_t dfn,
                     const struct iopt_fmt *f, unsigned *flags)
{
	int rc = 0;
	*flags = 0;
	if (!iopt_dfn_ok(io, dfn))
		return HV_NO_FRAME;
	uint64_t pa = iopt_l1(io, 0, d, dfn, f, false, &rc);
	uint64_t e = pa ? iommu_r64(io, pa) : 0;
	if (!(e & f->present))
		return HV_NO_FRAME;
	*flags = ((e & f->r) ? IOMMUF_READABLE : 0) | ((e & f->w) ? IOMMUF_WRITABLE : 0);
	return (e & IOPT_ADDR) >> 12;
}
