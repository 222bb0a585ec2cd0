/* The hypervisor core: its own page tables with the 1:1 direct map, the
 * map/modify/destroy operations of seed 000, and TLB flushing across CPUs.
 * Everything reaches the hardware through hv/arch.h. */
#ifndef HVSIM_HV_HV_H
#define HVSIM_HV_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/arch.h"

/* Where the 1:1 map of all physical memory starts (as in Xen). */
#define DIRECTMAP_VIRT_START 0xffff830000000000ull
#define DIRECTMAP_VIRT_END 0xffff880000000000ull /* 5 TiB */

enum hv_flush_policy {
	HV_FLUSH_XEN = 0,    /* order 0: INVLPG; anything larger: a full flush */
	HV_FLUSH_RANGED = 1, /* INVLPG over the whole range up to a ceiling of
	                        pages, a full flush above it (Linux: 33) */
};

/* Test-only fault injection: each re-introduces a bug seed 000's changelog
 * fixed, so the tests can show that a property (or a count) reports it.
 * Zero in every production configuration. */
enum hv_inject {
	/* The re-merge flush aimed at `virt` after it was advanced past the
	 * merged area (the seed: "needs to be accounted for in the
	 * invocation of flush_area()"). */
	HV_INJECT_MERGE_FLUSH_PAST = 1 << 0,
	/* An unchanged superpage skipped one page at a time instead of up to
	 * the next boundary. */
	HV_INJECT_SKIP_ONE_PAGE = 1 << 1,
	/* The bugs each property exists to catch: FLUSH_CACHE left out of a
	 * memory-type change; an emptied table unlinked but never freed; the
	 * last page of a mapping request not mapped. */
	HV_INJECT_NO_CACHE_FLUSH = 1 << 2,
	HV_INJECT_LEAK_TABLE = 1 << 3,
	HV_INJECT_SKIP_LAST_PAGE = 1 << 4,
	/* Seed 003's review fixes: no flush of the old PCID after writing
	 * CR3 (v5); a single-address flush by INVLPG under PCIDE, which
	 * reaches only the current PCID. */
	HV_INJECT_NO_OLD_PCID_FLUSH = 1 << 5,
	HV_INJECT_INVLPG_UNDER_PCIDE = 1 << 6,
	/* XPTI's restricted root given the hypervisor's slots too: what the
	 * xpti-isolation property exists to catch. */
	HV_INJECT_XPTI_LEAK = 1 << 7,
};

struct hv_config {
	bool page1gb;        /* use 1 GiB pages (needs arch->has_page1gb) */
	bool superpages;     /* use 2 MiB pages (and 1 GiB) at all */
	enum hv_flush_policy flush_policy;
	unsigned flush_ceiling; /* HV_FLUSH_RANGED: most pages flushed singly */
	uint64_t directmap_bytes; /* physical memory mapped 1:1 at boot */
	bool xpti;           /* XPTI enabled on this host (opt_xpti): the
	                        single-address flush must reach the XPTI PCIDs */
	unsigned inject;     /* enum hv_inject bits; tests only */
};

/* Page-table page accounting (alloc_xen_pagetable/free_xen_pagetable). */
struct hv_ptstats {
	uint64_t allocated, freed, live, peak;
	uint64_t map_steps;   /* iterations of the map loop (the skip count) */
	uint64_t shatters, merges;
	uint64_t local_flushes, remote_flushes, full_flushes, page_flushes;
	uint64_t cache_flushes;
};

struct hv {
	const struct hv_arch *arch;
	struct hv_config cfg;
	uint64_t root_pfn; /* the idle page table (L4) every CPU runs on */
	bool use_pge;
	struct hv_ptstats pt;
	int error; /* last error (negative errno), 0 if none */
};

/* FLUSH_* flags of flush_area() (Xen's encoding: order + 1 in the low
 * byte, 0 meaning "no page range": flush everything). */
#define FLUSH_ORDER_MASK 0xffu
#define FLUSH_ORDER(x) ((unsigned)((x) + 1))
#define FLUSH_TLB (1u << 8)
#define FLUSH_TLB_GLOBAL (1u << 9)
#define FLUSH_CACHE (1u << 10)

/* Boot: allocates the idle page table, maps the direct map, and loads the
 * table (with CR4.PGE when the CPU has it) on every CPU. Returns 0 or a
 * negative errno. */
int hv_init(struct hv *hv, const struct hv_arch *arch, const struct hv_config *cfg);

/* map_pages_to_xen: map nr frames from mfn at virt with flags (PTE bits,
 * plus MAP_SMALL_PAGES). 0 or -ENOMEM/-EINVAL. */
int hv_map_pages(struct hv *hv, unsigned cpu, uint64_t virt, uint64_t mfn, uint64_t nr,
                 uint64_t flags);
/* modify_xen_mappings: new flags for [s, e) (present pages only; frames
 * unchanged). */
int hv_modify_mappings(struct hv *hv, unsigned cpu, uint64_t s, uint64_t e, uint64_t nf);
/* destroy_xen_mappings: unmap [s, e), freeing emptied tables. */
int hv_destroy_mappings(struct hv *hv, unsigned cpu, uint64_t s, uint64_t e);

/* TLB (and cache) flushing: on this CPU; on a set of CPUs (this one
 * included if in mask) by IPI; on every CPU. */
void hv_flush_area_local(struct hv *hv, unsigned cpu, uint64_t va, unsigned flags);
void hv_flush_mask(struct hv *hv, unsigned cpu, const struct hv_cpumask *mask, uint64_t va,
                   unsigned flags);
void hv_flush_area(struct hv *hv, unsigned cpu, uint64_t va, unsigned flags);

#endif
