/* The drivers' access to the hardware: shorthands over hv/arch.h for the
 * unit's MMIO registers, physical memory and frames (hv/iommu only). */
#ifndef HVSIM_HV_IOMMU_HW_H
#define HVSIM_HV_IOMMU_HW_H

#include "hv/iommu/iommu.h"

static inline uint64_t iommu_rd(struct hv_iommu *io, unsigned cpu, uint32_t off)
{
	return io->arch->iommu_read(io->arch->ctx, cpu, io->unit, off);
}

static inline void iommu_wr(struct hv_iommu *io, unsigned cpu, uint32_t off, uint64_t v)
{
	io->arch->iommu_write(io->arch->ctx, cpu, io->unit, off, v);
}

static inline uint64_t iommu_r64(struct hv_iommu *io, uint64_t pa)
{
	return io->arch->read64(io->arch->ctx, pa);
}

static inline void iommu_w64(struct hv_iommu *io, unsigned cpu, uint64_t pa, uint64_t v)
{
	io->arch->write64(io->arch->ctx, cpu, pa, v);
}

static inline uint64_t iommu_new_frame(struct hv_iommu *io, unsigned cpu)
{
	return io->arch->alloc_frame(io->arch->ctx, cpu);
}

/* ---- I/O page tables (hv/iommu/iopt.c) -----------------------------------
 * VT-d second-level and AMD-Vi I/O page tables have the same shape (512
 * eight-byte entries per level, address in bits 51:12, 4 KiB leaves at
 * level 1); they differ in which bits say present and readable/writable
 * and in what a directory entry holds. A driver describes its format and
 * the walk is shared. */
#define IOPT_ADDR 0x000ffffffffff000ull

struct iopt_fmt {
	uint64_t present;  /* an entry is present when any of these is set */
	uint64_t leaf_p;   /* set in every leaf (AMD-Vi PR; VT-d none) */
	uint64_t r, w;     /* leaf permission bits */
	/* The directory entry at `level` (2..) pointing at table pfn. */
	uint64_t (*dir)(uint64_t pfn, unsigned level);
};

bool iopt_dfn_ok(const struct hv_iommu *io, uint64_t dfn);
/* The level-1 entry's address for dfn, allocating missing tables when
 * alloc (counted in d->pt_pages). 0 when absent (not alloc) or out of
 * frames (*rc = -ENOMEM). */
uint64_t iopt_l1(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
                 const struct iopt_fmt *f, bool alloc, int *rc);
/* The leaf mapping mfn with IOMMUF_* flags. */
uint64_t iopt_leaf(const struct iopt_fmt *f, uint64_t mfn, unsigned flags);
/* Clears dfn's leaf if one is present (nothing to do otherwise). */
int iopt_unmap(struct hv_iommu *io, unsigned cpu, struct hv_iommu_domain *d, uint64_t dfn,
               const struct iopt_fmt *f);
/* Where dfn maps: mfn and IOMMUF_* flags, or HV_NO_FRAME. */
uint64_t iopt_lookup(struct hv_iommu *io, struct hv_iommu_domain *d, uint64_t dfn,
                     const struct iopt_fmt *f, unsigned *flags);

#endif
