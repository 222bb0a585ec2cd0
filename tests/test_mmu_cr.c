/* MMU suite, part 2: MOV to CR3 and CR4, their #GP rules and the TLB
 * invalidation each performs (SDM Vol. 3A §4.10.4.1, MOV CR reference
 * page; hw-facts §1.1 table and "Rules the model must enforce").
 *
 * The models implement the MINIMUM invalidation the SDM requires
 * (sim/tlb/inval.h), so where the SDM says an entry "is not required to
 * be invalidated" these tests expect it to survive.
 */
#include <inttypes.h>

#include "tests/mmu_fixture.h"
#include "tests/testutil.h"

static const char *const profiles[] = {"skylake", "zen3"};

/* Asserts that the last MOV CR faulted with #GP: return value, EV_FAULT
 * (vector, instruction), EV_CR_WRITE with faulted=1, and no flush. */
static void expect_cr_gp(struct fx *x, size_t mk, int rc, unsigned instr, unsigned reg)
{
	ck_assert_int_eq(rc, VEC_GP);
	const struct event *f = fx_fault_ev(x, mk);
	ck_assert_uint_eq(f->sub, VEC_GP);
	ck_assert_uint_eq(f->c, instr);
	const struct event *w = fx_last(x, mk, EV_CR_WRITE);
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(w->sub, reg);
	ck_assert_uint_eq(w->c, 1);
	ck_assert_uint_eq(fx_count(x, mk, EV_FLUSH), 0);
}

/* hw-facts §1.1 [S3]: setting CR4.PCIDE with CR3[11:0] != 000H is #GP(0);
 * the faulting MOV leaves CR4 unchanged. */
START_TEST(cr4_pcide_needs_cr3_low_zero)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	/* With PCIDE=0, CR3[11:0] holds PWT/PCD (and ignored bits). */
	const uint64_t lows[] = {0x008, 0x010, 0x001, 0x800};
	for (size_t i = 0; i < sizeof(lows) / sizeof(lows[0]); i++) {
		ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, x->root | lows[i]), 0);
		fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
		uint64_t cr4 = fx_cpu(x)->cr4;
		size_t mk = fx_mark(x);
		int rc = fx_cr4(x, CR4_PCIDE, 0);
		expect_cr_gp(x, mk, rc, INSTR_MOV_CR4, 4);
		ck_assert_uint_eq(fx_cpu(x)->cr4, cr4);
		ck_assert_uint_eq(fx_cpu(x)->cr3, x->root | lows[i]);
		ck_assert_uint_eq(cpu_pcid(&x->m, 0), 0);
		/* Nothing was invalidated by the faulting MOV. */
		fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	}
	fx_free(x);
}
END_TEST

/* With CR3[11:0] = 0, PCIDE can be set; the current PCID is 000H.
 * §4.10.4.1 lists no invalidation for PCIDE 0->1 (hw-facts table), so a
 * translation cached with PCIDE=0 (PCID 000H) is still used. */
START_TEST(cr4_pcide_set_ok)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(fx_cr4(x, CR4_PCIDE, 0), 0);
	ck_assert(fx_cpu(x)->cr4 & CR4_PCIDE);
	ck_assert_uint_eq(cpu_pcid(&x->m, 0), 0);
	ck_assert_uint_eq(fx_count(x, mk, EV_FAULT), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	fx_free(x);
}
END_TEST

/* A profile without CPUID.PCID (e.g. Zen 2, hw-facts §1.2): CR4.PCIDE is
 * reserved, setting it is #GP. */
START_TEST(cr4_pcide_without_pcid_gp)
{
	struct profile p;
	fx_profile("zen3", &p);
	p.has_pcid = 0;
	p.has_invpcid = 0; /* no part has INVPCID without PCID */
	struct fx *x = fx_new_prof(&p);
	uint64_t cr4 = fx_cpu(x)->cr4;
	size_t mk = fx_mark(x);
	expect_cr_gp(x, mk, fx_cr4(x, CR4_PCIDE, 0), INSTR_MOV_CR4, 4);
	ck_assert_uint_eq(fx_cpu(x)->cr4, cr4);
	fx_free(x);
}
END_TEST

/* hw-facts §1.1 [S4]: CR3 bit 63 is reserved while PCIDE=0: #GP, CR3
 * unchanged. */
START_TEST(cr3_bit63_without_pcide_gp)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	uint64_t other = fx_alloc(x);
	size_t mk = fx_mark(x);
	int rc = cpu_mov_cr3(&x->m, 0, other | CR3_NOFLUSH);
	expect_cr_gp(x, mk, rc, INSTR_MOV_CR3, 3);
	ck_assert_uint_eq(fx_cpu(x)->cr3, x->root);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	fx_free(x);
}
END_TEST

/* §4.10.4.1: with PCIDE=1 and CR3[63]=1 MOV CR3 is not required to
 * invalidate anything: the translation cached under the PCID is used.
 * CR3[63] is not stored (reads back as 0, hw-facts [S5]). */
START_TEST(cr3_noflush_keeps_pcid)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	ck_assert_uint_eq(fx_cpu(x)->cr3, x->root | 1);
	ck_assert_uint_eq(cpu_pcid(&x->m, 0), 1);
	/* No invalidation: either no EV_FLUSH or one of scope NONE that
	 * removed nothing. */
	for (size_t i = mk; i < x->log.n; i++)
		if (x->log.v[i].type == EV_FLUSH) {
			ck_assert_uint_eq(x->log.v[i].f & 0xff, SCOPE_NONE);
			ck_assert_uint_eq(x->log.v[i].c, 0);
		}
	fx_expect(x, VA_4K + 4, ACC_READ, PATH_L1, pa + 4);
	fx_free(x);
}
END_TEST

/* §4.10.4.1 (hw-facts [S2c]): MOV CR3 with PCIDE=1 and bit 63 clear
 * invalidates the entries of the PCID in the NEW CR3[11:0], not those of
 * the old one. */
START_TEST(cr3_flush_targets_new_pcid)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);

	/* Switch to PCID 2 with a flush: the event names PCID 2. */
	size_t mk = fx_mark(x);
	ck_assert_int_eq(fx_cr3(x, 2, false), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_MOV_CR3, SCOPE_PCID, 2);
	ck_assert_uint_eq(f->c, 0); /* PCID 2 held nothing */
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);

	/* Back to PCID 1 with NOFLUSH: PCID 1's entry survived. */
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);

	/* And PCID 2's own entry is dropped by a flushing switch to 2. */
	mk = fx_mark(x);
	ck_assert_int_eq(fx_cr3(x, 2, false), 0);
	f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_MOV_CR3, SCOPE_PCID, 2);
	ck_assert_uint_gt(f->c, 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	fx_free(x);
}
END_TEST

/* §4.10.4.1: MOV CR3 with PCIDE=0 invalidates all non-global entries of
 * PCID 000H (4 KiB and 2 MiB alike) and the PCID's paging-structure
 * caches. */
START_TEST(cr3_flush_pcid0)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_map(x, VA_2M, PA_2M, 21, PTE_RW);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	fx_expect(x, VA_2M, ACC_READ, PATH_WALK, PA_2M);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, x->root), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_MOV_CR3, SCOPE_PCID, 0);
	/* L1+L2 for each page, plus the PML4E, PDPTE x2 and PDE cache
	 * entries of the two paths (tlb.h: leaves go to L1 and L2, non-leaf
	 * entries to the three paging-structure caches). */
	ck_assert_uint_eq(f->c, 2 + 2 + 1 + 2 + 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	fx_expect(x, VA_2M, ACC_READ, PATH_WALK, PA_2M);
	fx_free(x);
}
END_TEST

/* §4.10.4.1: a MOV CR4 that changes PGE (either way) invalidates all TLB
 * entries of all PCIDs, global ones included, and all PSC entries. */
START_TEST(cr4_pge_toggle_flushes_all)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pn = fx_map_page(x, VA_4K, PTE_RW, NULL);
	uint64_t pg = fx_map_page(x, VA_K, PTE_RW | PTE_G, NULL);
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg); /* global */
	ck_assert_int_eq(fx_cr3(x, 2, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	fx_expect(x, VA_K, ACC_READ, PATH_L1, pg); /* global, any PCID */

	/* PGE 1 -> 0. */
	size_t mk = fx_mark(x);
	ck_assert_int_eq(fx_cr4(x, 0, CR4_PGE), 0);
	const struct event *f = fx_one_flush(x, mk);
	ck_assert_uint_eq(f->sub, INSTR_MOV_CR4);
	ck_assert_uint_eq(f->f & 0xff, SCOPE_ALL);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);

	/* PGE 0 -> 1 flushes everything too. */
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	mk = fx_mark(x);
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	f = fx_one_flush(x, mk);
	ck_assert_uint_eq(f->sub, INSTR_MOV_CR4);
	ck_assert_uint_eq(f->f & 0xff, SCOPE_ALL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	ck_assert_int_eq(fx_cr3(x, 2, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	fx_free(x);
}
END_TEST

/* §4.10.4.1: MOV CR4 clearing PCIDE invalidates everything, globals
 * included. */
START_TEST(cr4_pcide_clear_flushes_all)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pn = fx_map_page(x, VA_4K, PTE_RW, NULL);
	uint64_t pg = fx_map_page(x, VA_K, PTE_RW | PTE_G, NULL);
	uint64_t pb = fx_map_page(x, VA_4K_B, PTE_RW, NULL);
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	fx_pcide(x, 0);
	fx_expect(x, VA_4K_B, ACC_READ, PATH_WALK, pb); /* PCID 000H */
	ck_assert_int_eq(fx_cr3(x, 1, false), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);  /* PCID 1 */
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);   /* global */
	ck_assert_int_eq(fx_cr3(x, 0, true), 0);
	fx_expect(x, VA_4K_B, ACC_READ, PATH_L1, pb);
	fx_expect(x, VA_K, ACC_READ, PATH_L1, pg);

	size_t mk = fx_mark(x);
	ck_assert_int_eq(fx_cr4(x, 0, CR4_PCIDE), 0);
	ck_assert_uint_eq(cpu_pcid(&x->m, 0), 0);
	const struct event *f = fx_one_flush(x, mk);
	ck_assert_uint_eq(f->sub, INSTR_MOV_CR4);
	ck_assert_uint_eq(f->f & 0xff, SCOPE_ALL);
	fx_expect(x, VA_4K_B, ACC_READ, PATH_WALK, pb);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	fx_free(x);
}
END_TEST

/* PCIDE 1->0 while CR3[11:0] is a nonzero PCID is allowed (the #GP rule
 * is for setting PCIDE only); afterwards the current PCID is 000H. */
START_TEST(cr4_pcide_clear_with_nonzero_pcid)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pn = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_pcide(x, 5);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	ck_assert_int_eq(fx_cr4(x, 0, CR4_PCIDE), 0);
	ck_assert_uint_eq(cpu_pcid(&x->m, 0), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pn);
	fx_free(x);
}
END_TEST

/* CR3 bits 62:52 are reserved (MAXPHYADDR 52): #GP, CR3 unchanged, no
 * invalidation. With PCIDE=1 too (bit 63 is then NOFLUSH, 62:52 still
 * reserved). */
START_TEST(cr3_reserved_high_bits_gp)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	const uint64_t bits[] = {1ull << 52, 1ull << 57, 1ull << 62};
	for (int pcide = 0; pcide < 2; pcide++) {
		if (pcide) {
			fx_pcide(x, 3);
			fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
		}
		uint64_t cr3 = fx_cpu(x)->cr3;
		for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
			size_t mk = fx_mark(x);
			int rc = cpu_mov_cr3(&x->m, 0, x->root | bits[i] | (pcide ? 3 : 0));
			expect_cr_gp(x, mk, rc, INSTR_MOV_CR3, 3);
			ck_assert_uint_eq(fx_cpu(x)->cr3, cr3);
			fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
		}
	}
	fx_free(x);
}
END_TEST

/* CR3 switches between two roots under PCIDs: each PCID keeps the
 * translations of its own tree (§4.10.1). */
START_TEST(cr3_two_roots_two_pcids)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t root_a = x->root, root_b = fx_alloc(x);
	uint64_t pa_a = fx_alloc(x), pa_b = fx_alloc(x);
	fx_map_in(x, root_a, VA_4K, pa_a, 12, PTE_RW);
	fx_map_in(x, root_b, VA_4K, pa_b, 12, PTE_RW);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa_a);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, root_b | 2), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa_b);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, root_a | 1 | CR3_NOFLUSH), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa_a);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, root_b | 2 | CR3_NOFLUSH), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa_b);
	fx_free(x);
}
END_TEST

/* hw-facts §1.1 table: MOV CR4 setting SMEP (0->1) invalidates all
 * entries of the CURRENT PCID and its PSC entries. Other PCIDs are not
 * listed (the minimum model keeps them). */
#define CR4_SMEP_BIT (1ull << 20)
START_TEST(cr4_smep_set_flushes_current_pcid)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	ck_assert_int_eq(fx_cr3(x, 2, false), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(fx_cr4(x, CR4_SMEP_BIT, 0), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_MOV_CR4, SCOPE_PCID, 2);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	/* SMEP 1->0 is not in the table: no invalidation. */
	mk = fx_mark(x);
	ck_assert_int_eq(fx_cr4(x, 0, CR4_SMEP_BIT), 0);
	ck_assert_uint_eq(fx_count(x, mk, EV_FLUSH), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	fx_free(x);
}
END_TEST

/* MOV CR4 #GP (SDM MOV CR reference page): reserved bits (15, 63:32),
 * clearing PAE or changing LA57 in IA-32e mode. CR4 unchanged. */
START_TEST(cr4_reserved_and_mode_bits_gp)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t cr4 = fx_cpu(x)->cr4;
	const uint64_t set[] = {1ull << 15, 1ull << 32, 1ull << 63, 1ull << 12 /* LA57 */};
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		size_t mk = fx_mark(x);
		expect_cr_gp(x, mk, fx_cr4(x, set[i], 0), INSTR_MOV_CR4, 4);
		ck_assert_uint_eq(fx_cpu(x)->cr4, cr4);
	}
	size_t mk = fx_mark(x);
	expect_cr_gp(x, mk, fx_cr4(x, 0, CR4_PAE), INSTR_MOV_CR4, 4);
	ck_assert_uint_eq(fx_cpu(x)->cr4, cr4);
	fx_free(x);
}
END_TEST

/* MOV CR0 #GP: clearing PG in 64-bit mode, bits 63:32 set. */
START_TEST(cr0_gp_rules)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t cr0 = fx_cpu(x)->cr0;
	size_t mk = fx_mark(x);
	expect_cr_gp(x, mk, cpu_mov_cr0(&x->m, 0, cr0 & ~CR0_PG), INSTR_MOV_CR0, 0);
	mk = fx_mark(x);
	expect_cr_gp(x, mk, cpu_mov_cr0(&x->m, 0, cr0 | (1ull << 40)), INSTR_MOV_CR0, 0);
	ck_assert_uint_eq(fx_cpu(x)->cr0, cr0);
	fx_free(x);
}
END_TEST

static Suite *mmu_cr_suite(void)
{
	Suite *s = suite_create("mmu_cr");
	TCase *tc = tcase_create("cr4");
	tcase_add_loop_test(tc, cr4_pcide_needs_cr3_low_zero, 0, 2);
	tcase_add_loop_test(tc, cr4_pcide_set_ok, 0, 2);
	tcase_add_test(tc, cr4_pcide_without_pcid_gp);
	tcase_add_loop_test(tc, cr4_pge_toggle_flushes_all, 0, 2);
	tcase_add_loop_test(tc, cr4_pcide_clear_flushes_all, 0, 2);
	tcase_add_loop_test(tc, cr4_pcide_clear_with_nonzero_pcid, 0, 2);
	tcase_add_loop_test(tc, cr4_smep_set_flushes_current_pcid, 0, 2);
	tcase_add_loop_test(tc, cr4_reserved_and_mode_bits_gp, 0, 2);
	tcase_add_loop_test(tc, cr0_gp_rules, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("cr3");
	tcase_add_loop_test(tc, cr3_bit63_without_pcide_gp, 0, 2);
	tcase_add_loop_test(tc, cr3_noflush_keeps_pcid, 0, 2);
	tcase_add_loop_test(tc, cr3_flush_targets_new_pcid, 0, 2);
	tcase_add_loop_test(tc, cr3_flush_pcid0, 0, 2);
	tcase_add_loop_test(tc, cr3_reserved_high_bits_gp, 0, 2);
	tcase_add_loop_test(tc, cr3_two_roots_two_pcids, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(mmu_cr_suite());
}
