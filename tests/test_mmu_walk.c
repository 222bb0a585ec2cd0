/* MMU suite, part 1: the page walk (SDM Vol. 3A §4.5 translation, §4.6
 * access rights, §4.7 #PF error code, §4.8 accessed and dirty flags) and
 * the concrete TLB (§4.10.2: hits, second level, page sizes, global
 * entries; deterministic LRU replacement, sim/tlb/tlb.h).
 *
 * Page tables are real entries in simulated memory; every expected value
 * is computed here from the SDM rules, not read from the model.
 */
#include <inttypes.h>
#include <stdio.h>

#include "tests/mmu_fixture.h"
#include "tests/testutil.h"

static const char *const profiles[] = {"skylake", "zen3"};

/* Walk: translation of every page size ------------------------------------- */

/* §4.5: a 4-KByte PTE maps va[11:0] into its frame. */
START_TEST(walk_4k_translates)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	const uint64_t offs[] = {0, 0x8, 0x123, 0x800, 0xfff};
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		fx_expect(x, VA_4K + offs[i], ACC_READ, PATH_L1, pa + offs[i]);
	/* The neighbouring page is not mapped: §4.7 P=0, read, supervisor. */
	fx_expect_pf(x, VA_4K + 0x1000, ACC_READ, 0);
	fx_free(x);
}
END_TEST

/* §4.5: a PDE with PS=1 maps va[20:0] into a 2-MByte page. */
START_TEST(walk_2m_translates)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map(x, VA_2M, PA_2M, 21, PTE_RW);
	const uint64_t offs[] = {0, 0x1000, 0x12345, 0xfffff, 0x100000, 0x1fffff};
	fx_expect(x, VA_2M + offs[0], ACC_READ, PATH_WALK, PA_2M + offs[0]);
	for (size_t i = 1; i < sizeof(offs) / sizeof(offs[0]); i++)
		fx_expect(x, VA_2M + offs[i], ACC_READ, PATH_L1, PA_2M + offs[i]);
	fx_free(x);
}
END_TEST

/* §4.5: a PDPTE with PS=1 maps va[29:0] into a 1-GByte page (Page1GB). */
START_TEST(walk_1g_translates)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map(x, VA_1G, PA_1G, 30, PTE_RW);
	const uint64_t offs[] = {0x123, 0x1000, 0x200000, 0x1234567, 0x3fffffff};
	fx_expect(x, VA_1G + offs[0], ACC_READ, PATH_WALK, PA_1G + offs[0]);
	for (size_t i = 1; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct access_result r = fx_acc(x, VA_1G + offs[i], ACC_READ);
		ck_assert_int_eq(r.fault, 0);
		ck_assert_uint_eq(r.pa, PA_1G + offs[i]);
	}
	fx_free(x);
}
END_TEST

/* Upper-half (kernel) addresses: indices come from va[47:12], bits 63:48
 * are the sign extension (§4.5, canonical addresses). */
START_TEST(walk_high_half_translates)
{
	struct fx *x = fx_new("skylake");
	uint64_t pa = fx_map_page(x, VA_K, PTE_RW, NULL);
	fx_expect(x, VA_K + 0x321, ACC_READ, PATH_WALK, pa + 0x321);
	/* The PML4 entry used is index 511, the PDPT entry index 510. */
	uint64_t pml4e = fx_read(x, x->root + 8 * 511);
	ck_assert(pml4e & PTE_P);
	uint64_t pdpte = fx_read(x, (pml4e & PTE_ADDR_4K) + 8 * 510);
	ck_assert(pdpte & PTE_P);
	fx_free(x);
}
END_TEST

/* §4.5 Tables 4-17/4-18/4-19: bit 12 of a 2-MByte or 1-GByte leaf is PAT,
 * not an address bit; bit 7 of a 4-KByte PTE is PAT, not PS. The physical
 * address is unaffected. */
START_TEST(walk_pat_bits_not_address)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map(x, VA_2M, PA_2M, 21, PTE_RW | PTE_PAT_LARGE);
	fx_map(x, VA_1G, PA_1G, 30, PTE_RW | PTE_PAT_LARGE);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW | PTE_PAT4K, NULL);
	fx_expect(x, VA_2M + 0x345, ACC_READ, PATH_WALK, PA_2M + 0x345);
	fx_expect(x, VA_1G + 0x345, ACC_READ, PATH_WALK, PA_1G + 0x345);
	fx_expect(x, VA_4K + 0x345, ACC_READ, PATH_WALK, pa + 0x345);
	fx_free(x);
}
END_TEST

/* Walk: accessed and dirty flags (§4.8) ------------------------------------- */

/* The entries of the path for va (level 4 first); n = number of levels. */
static unsigned path_entries(struct fx *x, uint64_t va, uint64_t epa[4])
{
	uint64_t table = x->root;
	for (unsigned l = 4; l >= 1; l--) {
		epa[4 - l] = table + 8ull * LEVEL_INDEX(va, l);
		uint64_t e = fx_read(x, epa[4 - l]);
		ck_assert(e & PTE_P);
		if (pte_is_leaf(e, l))
			return 5 - l;
		table = e & PTE_ADDR_4K;
	}
	ck_abort_msg("no leaf");
	return 0;
}

/* §4.8: the walk sets A in every paging-structure entry it uses; D only in
 * the entry that maps the page, and only on a write. D is never set in an
 * entry that references a table. */
static void check_ad(const char *profile, uint64_t va, uint64_t pa, unsigned size_log2)
{
	struct fx *x = fx_new(profile);
	fx_map(x, va, pa, size_log2, PTE_RW);
	uint64_t epa[4];
	unsigned n = path_entries(x, va, epa);
	ck_assert_uint_eq(n, 5 - fx_level_of(size_log2));
	for (unsigned i = 0; i < n; i++)
		ck_assert_msg(!(fx_read(x, epa[i]) & (PTE_A | PTE_D)), "A/D preset");

	size_t mk = fx_mark(x);
	fx_expect(x, va + 0x10, ACC_READ, PATH_WALK, pa + 0x10);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = fx_read(x, epa[i]);
		ck_assert_msg(e & PTE_A, "%s: A not set at level %u", profile, 4 - i);
		ck_assert_msg(!(e & PTE_D), "%s: D set by a read at level %u", profile, 4 - i);
	}
	/* Each A update is the processor's own store to the entry. */
	unsigned hw = 0;
	for (size_t i = mk; i < x->log.n; i++)
		if (x->log.v[i].type == EV_PTE_WRITE && (x->log.v[i].e & PTEW_HW_AD))
			hw++;
	ck_assert_uint_eq(hw, n);

	/* A second read finds A set everywhere: no further updates. */
	mk = fx_mark(x);
	fx_expect(x, va + 0x20, ACC_READ, PATH_L1, pa + 0x20);
	ck_assert_uint_eq(fx_count(x, mk, EV_PTE_WRITE), 0);

	/* A write sets D in the leaf only. */
	struct access_result r = fx_acc(x, va + 0x30, ACC_WRITE);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_uint_eq(r.pa, pa + 0x30);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = fx_read(x, epa[i]);
		ck_assert(e & PTE_A);
		if (i == n - 1)
			ck_assert_msg(e & PTE_D, "%s: D not set in the leaf after a write", profile);
		else
			ck_assert_msg(!(e & PTE_D), "%s: D set in a non-leaf entry (level %u)",
			              profile, 4 - i);
	}
	fx_free(x);
}

START_TEST(walk_ad_4k)
{
	check_ad(profiles[_i], VA_4K, 0x0000000012345000ull, 12);
}
END_TEST

START_TEST(walk_ad_2m)
{
	check_ad(profiles[_i], VA_2M, PA_2M, 21);
}
END_TEST

START_TEST(walk_ad_1g)
{
	check_ad(profiles[_i], VA_1G, PA_1G, 30);
}
END_TEST

/* A faulting write writes nothing, so it must not set D (§4.8: D is set on
 * a write to the page). */
START_TEST(walk_faulting_write_sets_no_dirty)
{
	struct fx *x = fx_new("skylake");
	uint64_t epa;
	fx_map_page(x, VA_4K, 0, &epa);
	fx_expect_pf(x, VA_4K, ACC_WRITE, PFEC_P | PFEC_W);
	ck_assert(!(fx_read(x, epa) & PTE_D));
	fx_free(x);
}
END_TEST

/* Walk: page-fault error codes (§4.6 rights, §4.7 error code) ------------- */

/* P=0: the error code has P=0; W/U/I describe the access. */
START_TEST(pf_not_present)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	fx_map_page(x, VA_4K, PTE_RW | PTE_US, &epa);
	fx_store(x, epa, fx_read(x, epa) & ~PTE_P);
	fx_expect_pf(x, VA_4K, ACC_READ, 0);
	fx_expect_pf(x, VA_4K, ACC_WRITE, PFEC_W);
	fx_expect_pf(x, VA_4K, ACC_READ | ACC_USER, PFEC_U);
	fx_expect_pf(x, VA_4K, ACC_EXEC, PFEC_I);
	/* Nothing mapped at all above it (PML4E P=0). */
	fx_expect_pf(x, VA_1G, ACC_READ, 0);
	/* A not-present fault fills nothing: the next access faults again. */
	fx_expect_pf(x, VA_4K, ACC_READ, 0);
	fx_free(x);
}
END_TEST

/* §4.6: with CR0.WP=1 supervisor writes need R/W=1 at every level:
 * error code P|W. */
START_TEST(pf_write_readonly_wp1)
{
	struct fx *x = fx_new(profiles[_i]);
	ck_assert(fx_cpu(x)->cr0 & CR0_WP);
	uint64_t pa = fx_map_page(x, VA_4K, 0, NULL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	fx_expect_pf(x, VA_4K, ACC_WRITE, PFEC_P | PFEC_W);
	/* R/W=0 in a non-leaf entry (here the PDPTE) denies writes as well. */
	uint64_t pa2 = fx_map_page(x, VA_2M + 0x5000, PTE_RW, NULL);
	uint64_t pdpte = fx_entry(x, VA_2M, 3);
	fx_store(x, pdpte, fx_read(x, pdpte) & ~PTE_RW);
	fx_expect(x, VA_2M + 0x5000, ACC_READ, PATH_WALK, pa2);
	fx_expect_pf(x, VA_2M + 0x5000, ACC_WRITE, PFEC_P | PFEC_W);
	fx_free(x);
}
END_TEST

/* §4.6: with CR0.WP=0 supervisor writes to read-only pages are allowed;
 * user writes never are (P|W|U). */
START_TEST(pf_write_readonly_wp0)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	uint64_t pa = fx_map_page(x, VA_4K, PTE_US, &epa);
	ck_assert_int_eq(cpu_mov_cr0(&x->m, 0, fx_cpu(x)->cr0 & ~CR0_WP), 0);
	ck_assert(!(fx_cpu(x)->cr0 & CR0_WP));
	struct access_result r = fx_acc(x, VA_4K + 0x40, ACC_WRITE);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_uint_eq(r.pa, pa + 0x40);
	ck_assert(fx_read(x, epa) & PTE_D);
	fx_expect_pf(x, VA_4K, ACC_WRITE | ACC_USER, PFEC_P | PFEC_W | PFEC_U);
	/* WP back to 1: the same supervisor write now faults. */
	ck_assert_int_eq(cpu_mov_cr0(&x->m, 0, fx_cpu(x)->cr0 | CR0_WP), 0);
	fx_expect_pf(x, VA_4K, ACC_WRITE, PFEC_P | PFEC_W);
	fx_free(x);
}
END_TEST

/* §4.6: user accesses need U/S=1 at every level: error code P|U. */
START_TEST(pf_user_on_supervisor)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL); /* leaf U/S=0 */
	fx_expect_pf(x, VA_4K, ACC_READ | ACC_USER, PFEC_P | PFEC_U);
	fx_expect_pf(x, VA_4K, ACC_WRITE | ACC_USER, PFEC_P | PFEC_W | PFEC_U);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	/* Leaf U/S=1 but PDE U/S=0: still supervisor-only. */
	uint64_t pa2 = fx_map_page(x, VA_2M + 0x3000, PTE_RW | PTE_US, NULL);
	uint64_t pde = fx_entry(x, VA_2M + 0x3000, 2);
	fx_store(x, pde, fx_read(x, pde) & ~PTE_US);
	fx_expect_pf(x, VA_2M + 0x3000, ACC_READ | ACC_USER, PFEC_P | PFEC_U);
	fx_expect(x, VA_2M + 0x3000, ACC_READ, PATH_WALK, pa2);
	/* A user page that is user at every level: allowed. */
	uint64_t pa3 = fx_map_page(x, VA_4K_B, PTE_RW | PTE_US, NULL);
	fx_expect(x, VA_4K_B, ACC_READ | ACC_USER, PATH_WALK, pa3);
	fx_free(x);
}
END_TEST

/* §4.6 with EFER.NXE=1: instruction fetches from a page with XD=1 at any
 * level fault with P|I. */
START_TEST(pf_exec_nx)
{
	struct fx *x = fx_new(profiles[_i]);
	ck_assert(fx_cpu(x)->efer & EFER_NXE);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW | PTE_NX, NULL);
	fx_expect_pf(x, VA_4K, ACC_EXEC, PFEC_P | PFEC_I);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	/* XD in the PDE only. */
	uint64_t pa2 = fx_map_page(x, VA_2M + 0x7000, PTE_RW, NULL);
	uint64_t pde = fx_entry(x, VA_2M + 0x7000, 2);
	fx_store(x, pde, fx_read(x, pde) | PTE_NX);
	fx_expect_pf(x, VA_2M + 0x7000, ACC_EXEC, PFEC_P | PFEC_I);
	fx_expect(x, VA_2M + 0x7000, ACC_READ, PATH_WALK, pa2);
	/* An executable page: the fetch succeeds. */
	uint64_t pa3 = fx_map_page(x, VA_4K_B, PTE_RW, NULL);
	fx_expect(x, VA_4K_B + 4, ACC_EXEC, PATH_WALK, pa3 + 4);
	fx_free(x);
}
END_TEST

/* §4.5 Table 4-14: PS is reserved in a PML4E; a reserved bit in a present
 * entry gives #PF with P=1 and RSVD=1 (§4.7). */
START_TEST(pf_reserved_ps_in_pml4e)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map_page(x, VA_1G + 0x1000, PTE_RW, NULL);
	uint64_t pml4e = fx_entry(x, VA_1G, 4);
	fx_store(x, pml4e, fx_read(x, pml4e) | PTE_PS);
	fx_expect_pf(x, VA_1G + 0x1000, ACC_READ, PFEC_P | PFEC_RSVD);
	fx_expect_pf(x, VA_1G + 0x1000, ACC_WRITE, PFEC_P | PFEC_W | PFEC_RSVD);
	fx_free(x);
}
END_TEST

/* §4.5: PS=1 in a PDPTE is reserved when CPUID.80000001H:EDX.Page1GB=0. */
START_TEST(pf_reserved_1g_without_page1gb)
{
	struct profile p;
	fx_profile(profiles[_i], &p);
	p.has_page1gb = 0;
	struct fx *x = fx_new_prof(&p);
	fx_map(x, VA_1G, PA_1G, 30, PTE_RW);
	fx_expect_pf(x, VA_1G + 0x2000, ACC_READ, PFEC_P | PFEC_RSVD);
	fx_free(x);
	/* The same tables on the unmodified profile translate. */
	x = fx_new(profiles[_i]);
	fx_map(x, VA_1G, PA_1G, 30, PTE_RW);
	fx_expect(x, VA_1G + 0x2000, ACC_READ, PATH_WALK, PA_1G + 0x2000);
	fx_free(x);
}
END_TEST

/* §4.5 Table 4-18 (MAXPHYADDR 52): bits 20:13 of a 2-MByte PDE are
 * reserved. */
START_TEST(pf_reserved_2m_address_bits)
{
	struct fx *x = fx_new("skylake");
	uint64_t epa = fx_map(x, VA_2M, PA_2M, 21, PTE_RW);
	fx_store(x, epa, fx_read(x, epa) | (1ull << 13));
	fx_expect_pf(x, VA_2M, ACC_READ, PFEC_P | PFEC_RSVD);
	fx_free(x);
}
END_TEST

/* §4.5 Table 4-17 (MAXPHYADDR 52): bits 29:13 of a 1-GByte PDPTE are
 * reserved. */
START_TEST(pf_reserved_1g_address_bits)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa = fx_map(x, VA_1G, PA_1G, 30, PTE_RW);
	fx_store(x, epa, fx_read(x, epa) | (1ull << 21));
	fx_expect_pf(x, VA_1G, ACC_READ, PFEC_P | PFEC_RSVD);
	fx_free(x);
}
END_TEST

/* With EFER.NXE=0 (no NX on the profile) bit 63 of an entry is reserved
 * (§4.5), and the I flag of the error code is 0 (§4.7: I is set only with
 * SMEP or PAE+NXE). */
START_TEST(pf_without_nxe)
{
	struct profile p;
	fx_profile(profiles[_i], &p);
	p.has_nx = 0;
	struct fx *x = fx_new_prof(&p);
	ck_assert(!(fx_cpu(x)->efer & EFER_NXE));
	fx_map_page(x, VA_4K, PTE_RW | PTE_NX, NULL);
	fx_expect_pf(x, VA_4K, ACC_READ, PFEC_P | PFEC_RSVD);
	fx_expect_pf(x, VA_4K_B, ACC_EXEC, 0);
	uint64_t pa = fx_map_page(x, VA_4K_B, PTE_RW, NULL);
	fx_expect(x, VA_4K_B, ACC_EXEC, PATH_WALK, pa);
	fx_free(x);
}
END_TEST

/* A non-canonical linear address is never translated: #GP, no walk. */
START_TEST(gp_non_canonical_access)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map_page(x, VA_4K, PTE_RW, NULL);
	const uint64_t bad[] = {VA_NONCANON, 0xfff0000000000000ull, 0x7fff800000400000ull};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t mk = fx_mark(x);
		struct access_result r = fx_acc(x, bad[i], ACC_READ);
		ck_assert_int_eq(r.fault, VEC_GP);
		const struct event *f = fx_fault_ev(x, mk);
		ck_assert_uint_eq(f->sub, VEC_GP);
		ck_assert_uint_eq(fx_count(x, mk, EV_WALK), 0);
	}
	fx_free(x);
}
END_TEST

/* TLB ---------------------------------------------------------------------- */

/* §4.10.2: a translation used once is cached; the next access to the page
 * hits the first-level TLB. */
START_TEST(tlb_second_access_hits_l1)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	size_t mk = fx_mark(x);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	ck_assert_uint_eq(fx_count(x, mk, EV_WALK), 1);
	mk = fx_mark(x);
	fx_expect(x, VA_4K + 0xabc, ACC_READ, PATH_L1, pa + 0xabc);
	fx_expect(x, VA_4K + 0x10, ACC_READ, PATH_L1, pa + 0x10);
	ck_assert_uint_eq(fx_count(x, mk, EV_WALK), 0);
	ck_assert_uint_eq(fx_cpu(x)->tlb.hits_l1, 2);
	ck_assert_uint_eq(fx_cpu(x)->tlb.misses, 1);
	fx_free(x);
}
END_TEST

/* Set-associative L1 DTLB with LRU (tlb.h): touching ways+1 pages of one
 * set evicts the least recently used; the STLB still holds it (L2 hit),
 * which promotes it back into L1 and evicts the next LRU page. */
START_TEST(tlb_stlb_hit_after_l1_eviction)
{
	struct fx *x = fx_new(profiles[_i]);
	const struct profile *p = &x->m.prof;
	uint32_t ways = p->l1d_4k_ways, sets = p->l1d_4k_entries / p->l1d_4k_ways;
	uint32_t n = ways + 1;
	ck_assert_uint_le(n, 128);
	uint64_t va[128], pa[128];
	for (uint32_t i = 0; i < n; i++) {
		va[i] = 0x0000000000600000ull + (uint64_t)i * sets * PAGE_SIZE;
		pa[i] = fx_map_page(x, va[i], PTE_RW, NULL);
	}
	for (uint32_t i = 0; i < n; i++)
		fx_expect(x, va[i], ACC_READ, PATH_WALK, pa[i]);
	/* Page 0 was evicted from L1 by page n-1 (one EV_EVICT from L1D). */
	size_t mk = fx_mark(x);
	fx_expect(x, va[0] + 8, ACC_READ, PATH_L2, pa[0] + 8);
	fx_expect(x, va[0] + 16, ACC_READ, PATH_L1, pa[0] + 16);
	/* The promotion evicted page 1 (now the LRU one) from L1. */
	const struct event *ev = fx_nth(x, mk, EV_EVICT, 0);
	ck_assert_ptr_nonnull(ev);
	ck_assert_uint_eq(ev->sub, TLBL_L1D);
	ck_assert_uint_eq(ev->a, va[1]);
	fx_expect(x, va[n - 1], ACC_READ, PATH_L1, pa[n - 1]);
	fx_expect(x, va[1], ACC_READ, PATH_L2, pa[1]);
	fx_expect(x, va[2], ACC_READ, PATH_L2, pa[2]);
	fx_free(x);
}
END_TEST

/* A 2-MByte page is cached as one entry covering all its 4-KByte pieces
 * (§4.10.2.3: the TLB entry's page size is the page's). */
START_TEST(tlb_2m_one_entry)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map(x, VA_2M, PA_2M, 21, PTE_RW);
	size_t mk = fx_mark(x);
	fx_expect(x, VA_2M + 0x1234, ACC_READ, PATH_WALK, PA_2M + 0x1234);
	for (uint64_t off = 0; off < (1ull << 21); off += 0x1000 * 37)
		fx_expect(x, VA_2M + off + 0x18, ACC_READ, PATH_L1, PA_2M + off + 0x18);
	fx_expect(x, VA_2M + 0x1fffff, ACC_READ, PATH_L1, PA_2M + 0x1fffff);
	ck_assert_uint_eq(fx_count(x, mk, EV_WALK), 1);
	ck_assert_uint_eq(fx_cpu(x)->tlb.fills, 1);
	const struct event *f = NULL;
	for (size_t i = mk; i < x->log.n; i++)
		if (x->log.v[i].type == EV_FILL && x->log.v[i].sub == TLBL_L1D) {
			ck_assert_ptr_null(f);
			f = &x->log.v[i];
		}
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->a, VA_2M);
	ck_assert_uint_eq(f->b, PA_2M);
	ck_assert_uint_eq(f->d, 21);
	fx_free(x);
}
END_TEST

/* Runs a fixed pseudo-random access pattern over pages that share TLB sets;
 * records the path of each access. */
#define REPL_PAGES 96
#define REPL_ACCESSES 1500
static void replacement_run(const char *profile, int *paths, uint64_t *digest,
                            uint64_t stats[3])
{
	struct fx *x = fx_new(profile);
	uint64_t va[REPL_PAGES];
	for (unsigned i = 0; i < REPL_PAGES; i++) {
		/* Stride 16 pages: on Skylake's 16-set L1 every page shares
		 * set 0; 96 pages overflow Zen 3's 64-entry L1 too. */
		va[i] = 0x0000000000800000ull + (uint64_t)(i % 24) * 16 * PAGE_SIZE +
		        (uint64_t)(i / 24) * 0x200000;
		fx_map_page(x, va[i], PTE_RW, NULL);
	}
	uint32_t s = 12345;
	for (unsigned k = 0; k < REPL_ACCESSES; k++) {
		s = s * 1103515245u + 12345u;
		unsigned i = (s >> 16) % REPL_PAGES;
		struct access_result r = fx_acc(x, va[i] + (k % 64) * 8, k % 5 ? ACC_READ : ACC_WRITE);
		ck_assert_int_eq(r.fault, 0);
		paths[k] = r.path;
	}
	*digest = x->m.bus.digest;
	stats[0] = fx_cpu(x)->tlb.hits_l1;
	stats[1] = fx_cpu(x)->tlb.hits_l2;
	stats[2] = fx_cpu(x)->tlb.misses;
	fx_free(x);
}

/* Replacement is deterministic (tlb.h: invalid way first, then lowest LRU
 * stamp, lowest way on a tie): two machines, same hits, misses, digest. */
START_TEST(tlb_replacement_deterministic)
{
	static int p1[REPL_ACCESSES], p2[REPL_ACCESSES];
	uint64_t d1, d2, s1[3], s2[3];
	replacement_run(profiles[_i], p1, &d1, s1);
	replacement_run(profiles[_i], p2, &d2, s2);
	for (unsigned k = 0; k < REPL_ACCESSES; k++)
		ck_assert_msg(p1[k] == p2[k], "access %u: path %d vs %d", k, p1[k], p2[k]);
	ck_assert_uint_eq(s1[0], s2[0]);
	ck_assert_uint_eq(s1[1], s2[1]);
	ck_assert_uint_eq(s1[2], s2[2]);
	ck_assert_uint_eq(d1, d2);
	/* The pattern exercises all three outcomes. */
	ck_assert_uint_gt(s1[0], 0);
	ck_assert_uint_gt(s1[1], 0);
	ck_assert_uint_gt(s1[2], 0);
}
END_TEST

/* §4.10.2.4 / §4.10.4.1: with CR4.PGE=1 a G=1 leaf is cached as a global
 * entry, which MOV CR3 (PCIDE=0) does not invalidate; non-global entries
 * of PCID 000H it does. */
START_TEST(tlb_global_survives_mov_cr3)
{
	struct fx *x = fx_new(profiles[_i]);
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	uint64_t pg = fx_map_page(x, VA_K, PTE_RW | PTE_G, NULL);
	uint64_t pn = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, x->root), 0);
	fx_expect(x, VA_K + 8, ACC_READ, PATH_L1, pg + 8);
	fx_expect(x, VA_4K + 8, ACC_READ, PATH_WALK, pn + 8);
	fx_free(x);
}
END_TEST

/* §4.10.2.4: G is used only with CR4.PGE=1; with PGE=0 a G=1 leaf is an
 * ordinary entry that MOV CR3 invalidates. */
START_TEST(tlb_g_ignored_without_pge)
{
	struct fx *x = fx_new(profiles[_i]);
	ck_assert(!(fx_cpu(x)->cr4 & CR4_PGE));
	uint64_t pg = fx_map_page(x, VA_K, PTE_RW | PTE_G, NULL);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, x->root), 0);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	fx_free(x);
}
END_TEST

/* §4.10.3: non-leaf entries are cached in the paging-structure caches, so
 * a walk for another page under a cached PDE reads only the PTE; under a
 * cached PDPTE, the PDE and the PTE. (EV_WALK d = levels read.) */
START_TEST(tlb_psc_shortens_walk)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_map_page(x, VA_4K_B, PTE_RW, NULL);
	fx_map_page(x, VA_4K + 0x200000, PTE_RW, NULL); /* next PDE */
	const struct {
		uint64_t va;
		unsigned levels;
	} steps[] = {{VA_4K, 4}, {VA_4K_B, 1}, {VA_4K + 0x200000, 2}};
	for (size_t i = 0; i < 3; i++) {
		size_t mk = fx_mark(x);
		fx_expect_path(x, steps[i].va, ACC_READ, PATH_WALK);
		const struct event *w = fx_last(x, mk, EV_WALK);
		ck_assert_ptr_nonnull(w);
		ck_assert_msg(w->d == steps[i].levels, "va %#" PRIx64 ": %" PRIu64
		              " levels read, expected %u", steps[i].va, w->d, steps[i].levels);
	}
	/* §4.10.4.1: INVLPG drops every PSC entry of the PCID, whatever the
	 * address: a walk for a page never named reads all four levels. With
	 * AMD's TCE (zen3) only the entries covering the address go, and the
	 * PDE-cache entry for VA_4K's table still serves the walk. */
	fx_map_page(x, VA_4K + 0x5000, PTE_RW, NULL);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_2M), 0);
	size_t mk = fx_mark(x);
	fx_expect_path(x, VA_4K + 0x5000, ACC_READ, PATH_WALK);
	ck_assert_uint_eq(fx_last(x, mk, EV_WALK)->d, x->m.prof.psc_inval_covering ? 1 : 4);
	fx_free(x);
}
END_TEST

/* Smashed 1 GiB pages (model contract, not an SDM rule: hit/miss patterns
 * are micro-architectural). A TLB without 1 GiB entries holds "the 2 MiB
 * piece containing va" (tlb.c smash_to_2m; hw-facts §2 for Zen's L2). So
 * the piece cached by an access is the one holding the accessed address:
 * on Skylake's ITLB a second fetch from the same address hits L1. */
START_TEST(tlb_1g_itlb_piece_is_accessed_piece)
{
	struct fx *x = fx_new("skylake");
	fx_map(x, VA_1G, PA_1G, 30, PTE_RW);
	const uint64_t off = 0x20600048;
	fx_expect(x, VA_1G + off, ACC_EXEC, PATH_WALK, PA_1G + off);
	fx_expect(x, VA_1G + off + 8, ACC_EXEC, PATH_L1, PA_1G + off + 8);
	fx_free(x);
}
END_TEST

/* Zen 3: the L2 keeps the 2 MiB piece of the accessed address; once the
 * 1 GiB L1 entry is evicted (64-entry fully associative L1), a new access
 * to the same address hits L2. */
START_TEST(tlb_1g_l2_piece_is_accessed_piece)
{
	struct fx *x = fx_new("zen3");
	fx_map(x, VA_1G, PA_1G, 30, PTE_RW);
	const uint64_t off = 0x20600048;
	fx_expect(x, VA_1G + off, ACC_READ, PATH_WALK, PA_1G + off);
	uint32_t n = x->m.prof.l1d_4k_entries;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t va = 0x0000000000600000ull + (uint64_t)i * PAGE_SIZE;
		uint64_t pa = fx_map_page(x, va, PTE_RW, NULL);
		fx_expect(x, va, ACC_READ, PATH_WALK, pa);
	}
	fx_expect(x, VA_1G + off, ACC_READ, PATH_L2, PA_1G + off);
	fx_free(x);
}
END_TEST

static Suite *mmu_walk_suite(void)
{
	Suite *s = suite_create("mmu_walk");
	TCase *tc = tcase_create("walk");
	tcase_add_loop_test(tc, walk_4k_translates, 0, 2);
	tcase_add_loop_test(tc, walk_2m_translates, 0, 2);
	tcase_add_loop_test(tc, walk_1g_translates, 0, 2);
	tcase_add_test(tc, walk_high_half_translates);
	tcase_add_loop_test(tc, walk_pat_bits_not_address, 0, 2);
	tcase_add_loop_test(tc, walk_ad_4k, 0, 2);
	tcase_add_loop_test(tc, walk_ad_2m, 0, 2);
	tcase_add_loop_test(tc, walk_ad_1g, 0, 2);
	tcase_add_test(tc, walk_faulting_write_sets_no_dirty);
	suite_add_tcase(s, tc);

	tc = tcase_create("pfec");
	tcase_add_loop_test(tc, pf_not_present, 0, 2);
	tcase_add_loop_test(tc, pf_write_readonly_wp1, 0, 2);
	tcase_add_loop_test(tc, pf_write_readonly_wp0, 0, 2);
	tcase_add_loop_test(tc, pf_user_on_supervisor, 0, 2);
	tcase_add_loop_test(tc, pf_exec_nx, 0, 2);
	tcase_add_loop_test(tc, pf_reserved_ps_in_pml4e, 0, 2);
	tcase_add_loop_test(tc, pf_reserved_1g_without_page1gb, 0, 2);
	tcase_add_test(tc, pf_reserved_2m_address_bits);
	tcase_add_loop_test(tc, pf_reserved_1g_address_bits, 0, 2);
	tcase_add_loop_test(tc, pf_without_nxe, 0, 2);
	tcase_add_loop_test(tc, gp_non_canonical_access, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("tlb");
	tcase_add_loop_test(tc, tlb_second_access_hits_l1, 0, 2);
	tcase_add_loop_test(tc, tlb_stlb_hit_after_l1_eviction, 0, 2);
	tcase_add_loop_test(tc, tlb_2m_one_entry, 0, 2);
	tcase_add_loop_test(tc, tlb_replacement_deterministic, 0, 2);
	tcase_add_loop_test(tc, tlb_global_survives_mov_cr3, 0, 2);
	tcase_add_loop_test(tc, tlb_g_ignored_without_pge, 0, 2);
	tcase_add_loop_test(tc, tlb_psc_shortens_walk, 0, 2);
	tcase_add_test(tc, tlb_1g_itlb_piece_is_accessed_piece);
	tcase_add_test(tc, tlb_1g_l2_piece_is_accessed_piece);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(mmu_walk_suite());
}
