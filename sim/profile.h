/* Machine cost profile: every figure a model charges, every TLB geometry
 * and feature flag. Profiles are YAML (profiles/NAME.yaml, embedded in the
 * binary); each figure there carries a source tag from
 * shared/reference/hw-facts.md §8 (measured / derived / est). A scenario
 * may override any figure by name (machine.costs in the scenario).
 *
 * The list below is the single definition: PROFILE_FIELDS expands to the
 * struct members, the name table used by the loader, and the docs.
 * Calibrated once from the sources, never per scenario.
 */
#ifndef HVSIM_SIM_PROFILE_H
#define HVSIM_SIM_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

/* X(name, description) for cycle costs (uint32_t). */
#define PROFILE_COSTS(X)                                                      \
	X(tlb_l1_hit, "first-level TLB hit (extra cycles over load-to-use)")  \
	X(tlb_l2_hit, "first-level miss, second-level (STLB) hit")            \
	X(walk_base, "page walk whose upper levels hit the paging-structure " \
	             "caches and whose PTE read hits the data cache")          \
	X(walk_level, "each further paging-structure level read from memory") \
	X(invlpg, "INVLPG, one page of any size")                              \
	X(invpcid0, "INVPCID type 0 (individual address)")                     \
	X(invpcid1, "INVPCID type 1 (single context)")                         \
	X(invpcid2, "INVPCID type 2 (all contexts incl. globals)")             \
	X(invpcid3, "INVPCID type 3 (all contexts, no globals)")               \
	X(mov_cr3_noflush, "MOV CR3 with PCIDE=1 and bit 63 set")              \
	X(mov_cr3_flush, "MOV CR3 that flushes (refill charged separately)")  \
	X(mov_cr4, "MOV CR4 without TLB effect")                               \
	X(mov_cr4_flush, "MOV CR4 that flushes everything (PGE/PCIDE change)") \
	X(mov_cr0, "MOV CR0")                                                  \
	X(ipi_send, "IPI send (ICR write, x2APIC)")                           \
	X(ipi_latency, "IPI delivery latency to the target")                   \
	X(ipi_handler, "IPI handler entry/exit on the target")                 \
	X(clflush, "CLFLUSH of one line")                                      \
	X(wbinvd, "WBINVD")                                                    \
	X(rdtsc, "RDTSC")                                                      \
	X(rdtscp, "RDTSCP")                                                    \
	X(pte_write, "a store to a paging-structure entry")                   \
	X(op_jitter, "maximum random extra cycles per operation (0: none)")     \
	X(iommu_iotlb_miss, "IOMMU page walk on an IOTLB miss (device latency)") \
	X(vtd_inv_page, "VT-d page-selective IOTLB invalidation + wait (QI)")  \
	X(vtd_inv_domain, "VT-d domain/global IOTLB invalidation + wait")      \
	X(vtd_inv_context, "VT-d context-cache invalidation + wait")           \
	X(amdvi_inv_pages, "AMD-Vi INVALIDATE_IOMMU_PAGES + COMPLETION_WAIT")  \
	X(amdvi_inv_devtab, "AMD-Vi INVALIDATE_DEVTAB_ENTRY + COMPLETION_WAIT") \
	X(amdvi_inv_all, "AMD-Vi INVALIDATE_IOMMU_ALL + COMPLETION_WAIT")

/* X(name, description) for geometry and features (uint32_t). */
#define PROFILE_GEOMETRY(X)                                                   \
	X(l1d_4k_entries, "L1 DTLB entries for 4 KiB pages")                   \
	X(l1d_4k_ways, "L1 DTLB associativity for 4 KiB pages")                \
	X(l1d_2m_entries, "L1 DTLB entries for 2 MiB pages")                   \
	X(l1d_2m_ways, "L1 DTLB associativity for 2 MiB pages")                \
	X(l1d_1g_entries, "L1 DTLB entries for 1 GiB pages")                   \
	X(l1d_1g_ways, "L1 DTLB associativity for 1 GiB pages")                \
	X(l1d_unified, "1: one L1 DTLB holds all sizes (uses l1d_4k_*)")       \
	X(l1i_entries, "L1 ITLB entries (4 KiB and 2 MiB)")                    \
	X(l1i_ways, "L1 ITLB associativity")                                   \
	X(l2_entries, "second-level TLB entries (4 KiB and 2 MiB)")            \
	X(l2_ways, "second-level TLB associativity")                           \
	X(l2_1g_entries, "second-level entries for 1 GiB pages (0: 1 GiB "    \
	                 "pages are smashed into 2 MiB entries)")              \
	X(l2_1g_ways, "second-level 1 GiB associativity")                      \
	X(psc_pml4e, "PML4E cache entries")                                    \
	X(psc_pdpte, "PDPTE cache entries")                                    \
	X(psc_pde, "PDE cache entries")                                        \
	X(page_walkers, "concurrent page walks")                               \
	X(has_pcid, "CPUID.01H:ECX.PCID")                                      \
	X(has_invpcid, "CPUID.07H:EBX.INVPCID")                                \
	X(has_pge, "CPUID.01H:EDX.PGE")                                        \
	X(has_page1gb, "CPUID.80000001H:EDX.Page1GB")                          \
	X(has_nx, "CPUID.80000001H:EDX.NX (EFER.NXE set at reset)")            \
	X(psc_inval_covering, "1: INVLPG/INVPCID-0 drop only the paging-"   \
	                      "structure-cache entries covering the address " \
	                      "(AMD EFER.TCE); 0: all of the PCID (Intel)")    \
	X(clock_mhz, "core clock for ns conversions in reports")

struct profile {
	char name[32];
#define X(n, d) uint32_t n;
	PROFILE_COSTS(X)
	PROFILE_GEOMETRY(X)
#undef X
};

enum profile_field_kind { PF_COST, PF_GEOMETRY };

struct profile_field {
	const char *name;
	const char *desc;
	enum profile_field_kind kind;
	uint32_t offset; /* offsetof(struct profile, name) */
};

/* NULL-terminated table of every field, in declaration order. */
extern const struct profile_field profile_fields[];

const struct profile_field *profile_field_find(const char *name);
uint32_t *profile_field_ptr(struct profile *p, const struct profile_field *f);

/* Checks geometry invariants (entries a multiple of ways, power-of-two
 * set counts, at least one way, bounded sizes). Returns NULL if valid,
 * else a static message naming the field. */
const char *profile_validate(const struct profile *p);

#endif
