/* MMU suite, part 3: INVLPG and INVPCID (SDM Vol. 3A §4.10.4.1, Vol. 2
 * INVLPG / INVPCID reference pages; hw-facts §1.1 table, "Page sizes" and
 * the fault rules).
 *
 * The models implement the minimum invalidation the SDM requires
 * (sim/tlb/inval.h): where the SDM says entries "may" also be invalidated
 * (other PCIDs for INVLPG, globals for INVPCID types 0, 1 and 3) the
 * tests expect them to survive, and say so.
 *
 * EV_FLUSH payload (sim/event.h): sub = INSTR_*, a = va, b = pcid,
 * c = TLB + paging-structure-cache entries removed, f & 0xff = SCOPE_*.
 */
#include <inttypes.h>

#include "tests/mmu_fixture.h"
#include "tests/testutil.h"

static const char *const profiles[] = {"skylake", "zen3"};

/* INVLPG ------------------------------------------------------------------ */

/* §4.10.4.1: INVLPG invalidates the page's entries for the current PCID
 * and all PSC entries of the current PCID. One 4 KiB page cached once:
 * its L1 and L2 entries plus the PML4E, PDPTE and PDE cache entries of its
 * path (tlb.h) = 5 entries. */
START_TEST(invlpg_current_pcid)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K + 0x123), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_INVLPG, SCOPE_PAGE, 1);
	ck_assert_uint_eq(f->a, VA_4K + 0x123);
	ck_assert_uint_eq(f->c, 2 + 3);
	ck_assert(f->f & (1u << 9)); /* globals for the page too */
	ck_assert_uint_eq(fx_count(x, mk, EV_FAULT), 0);
	/* Full walk again: 4 levels read (no PSC entry left). */
	mk = fx_mark(x);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	const struct event *w = fx_last(x, mk, EV_WALK);
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(w->d, 4);
	fx_free(x);
}
END_TEST

/* §4.10.4.1: INVLPG is required to invalidate only the current PCID's
 * non-global entries; another PCID's entry for the same address is kept
 * by the minimum model. */
START_TEST(invlpg_other_pcid_kept)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	ck_assert_int_eq(fx_cr3(x, 2, false), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_INVLPG, SCOPE_PAGE, 2);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	ck_assert_int_eq(fx_cr3(x, 2, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	fx_free(x);
}
END_TEST

/* §4.10.4.1: INVLPG invalidates global entries for the page whatever PCID
 * filled them. The global entry was filled under PCID 1; INVLPG runs
 * under PCID 2 and removes its L1 and L2 copies (PCID 2 has no PSC
 * entries: 2 entries removed). */
START_TEST(invlpg_removes_global)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pg = fx_map_page(x, VA_K, PTE_RW | PTE_G, NULL);
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	fx_pcide(x, 1);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	ck_assert_int_eq(fx_cr3(x, 2, false), 0);
	fx_expect(x, VA_K, ACC_READ, PATH_L1, pg); /* global: any PCID */
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_K + 0x40), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_INVLPG, SCOPE_PAGE, 2);
	ck_assert_uint_eq(f->c, 2);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pg);
	fx_free(x);
}
END_TEST

/* hw-facts §1.1 [S2a]: INVLPG with a non-canonical operand is a NOP: no
 * fault, nothing invalidated. */
START_TEST(invlpg_non_canonical_nop)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_NONCANON | VA_4K), 0);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, 0x8000000000400000ull), 0);
	ck_assert_uint_eq(fx_count(x, mk, EV_FAULT), 0);
	for (size_t i = mk; i < x->log.n; i++)
		if (x->log.v[i].type == EV_FLUSH)
			ck_assert_uint_eq(x->log.v[i].c, 0);
	ck_assert_uint_eq(fx_cpu(x)->nfaults, 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	fx_free(x);
}
END_TEST

/* INVLPG of any address inside a 2 MiB page removes that page's entry
 * (hw-facts "Page sizes"). L1 + L2 entries and the PML4E and PDPTE cache
 * entries of its path: 4. */
START_TEST(invlpg_inside_2m)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map(x, VA_2M, PA_2M, 21, PTE_RW);
	fx_expect(x, VA_2M, ACC_READ, PATH_WALK, PA_2M);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_2M + 0x1ff123), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_INVLPG, SCOPE_PAGE, 0);
	ck_assert_uint_eq(f->c, 2 + 2);
	fx_expect(x, VA_2M + 0x1000, ACC_READ, PATH_WALK, PA_2M + 0x1000);
	fx_free(x);
}
END_TEST

/* INVLPG inside a 1 GiB page removes the 1 GiB entry. */
START_TEST(invlpg_inside_1g)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map(x, VA_1G, PA_1G, 30, PTE_RW);
	fx_expect(x, VA_1G + 0x10, ACC_READ, PATH_WALK, PA_1G + 0x10);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_1G + 0x10), 0);
	fx_expect(x, VA_1G + 0x20, ACC_READ, PATH_WALK, PA_1G + 0x20);
	fx_free(x);
}
END_TEST

/* SDM INVLPG/INVPCID reference pages (hw-facts "Page sizes"): if the page
 * is larger than 4 KiB and the TLB holds several entries for it, INVLPG
 * invalidates ALL of them. A TLB that "smashes" 1 GiB pages (Zen 3's L2,
 * hw-facts §2; Skylake's ITLB, tlb.c) holds 2 MiB pieces of the 1 GiB
 * page besides the 1 GiB entry. Here the page is used at X and Y (two
 * pieces), remapped to another frame, and invalidated with INVLPG of a
 * third address Z of the same page, which is architecturally sufficient:
 * afterwards accesses at X and Y must use the new frame. */
static void smashed_1g(const char *profile, unsigned acc)
{
	struct fx *x = fx_new(profile);
	uint64_t epa = fx_map(x, VA_1G, PA_1G, 30, PTE_RW);
	const uint64_t offs[2] = {0x10, 0x20600048};
	const uint64_t off_z = 0x3f000123;
	for (int i = 0; i < 2; i++) {
		struct access_result r = fx_acc(x, VA_1G + offs[i], acc);
		ck_assert_int_eq(r.fault, 0);
		ck_assert_uint_eq(r.pa, PA_1G + offs[i]);
	}
	fx_store(x, epa, PA_1G_B | PTE_P | PTE_PS | PTE_RW);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_1G + off_z), 0);
	for (int i = 0; i < 2; i++) {
		struct access_result r = fx_acc(x, VA_1G + offs[i], acc);
		ck_assert_int_eq(r.fault, 0);
		ck_assert_msg(r.pa == PA_1G_B + offs[i],
		              "%s: after INVLPG inside the 1 GiB page, access at +%#" PRIx64
		              " used pa %#" PRIx64 " (path %d, flags %#x), expected %#" PRIx64,
		              profile, offs[i], r.pa, r.path, r.flags,
		              (uint64_t)(PA_1G_B + offs[i]));
		ck_assert_uint_eq(r.flags & (ACCF_STALE | ACCF_MAY_STALE), 0);
	}
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_free(x);
}

START_TEST(invlpg_1g_removes_smashed_l2_piece)
{
	smashed_1g("zen3", ACC_READ);
}
END_TEST

START_TEST(invlpg_1g_removes_smashed_itlb_piece)
{
	smashed_1g("skylake", ACC_EXEC);
}
END_TEST

/* INVPCID ------------------------------------------------------------------ */

/* Fills, with CR4.PGE=1 and PCIDE=1: a global page at VA_K (filled under
 * PCID 1), VA_4K and VA_2M under PCID 1, VA_4K under PCID 2; current
 * PCID is 2 on return. */
struct inv_setup {
	struct fx *x;
	uint64_t pg, pn;
};

static struct inv_setup inv_setup(const char *profile)
{
	struct inv_setup s;
	s.x = fx_new(profile);
	s.pg = fx_map_page(s.x, VA_K, PTE_RW | PTE_G, NULL);
	s.pn = fx_map_page(s.x, VA_4K, PTE_RW, NULL);
	fx_map(s.x, VA_2M, PA_2M, 21, PTE_RW);
	ck_assert_int_eq(fx_cr4(s.x, CR4_PGE, 0), 0);
	fx_pcide(s.x, 1);
	fx_expect(s.x, VA_K, ACC_READ, PATH_WALK, s.pg);
	fx_expect(s.x, VA_4K, ACC_READ, PATH_WALK, s.pn);
	fx_expect(s.x, VA_2M, ACC_READ, PATH_WALK, PA_2M);
	ck_assert_int_eq(fx_cr3(s.x, 2, false), 0);
	fx_expect(s.x, VA_4K, ACC_READ, PATH_WALK, s.pn);
	fx_expect(s.x, VA_K, ACC_READ, PATH_L1, s.pg);
	return s;
}

/* INVPCID type 0: the address's mappings for the descriptor's PCID,
 * except global translations (globals "may" go; the minimum model keeps
 * them). */
START_TEST(invpcid0_individual)
{
	struct inv_setup s = inv_setup(profiles[_i]);
	struct fx *x = s.x;
	/* Global entry: not flushed by type 0. */
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invpcid(&x->m, 0, 0, 2, VA_K), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_INVPCID0, SCOPE_PAGE, 2);
	ck_assert_uint_eq(f->a, VA_K);
	ck_assert_uint_eq(f->f & (1u << 9), 0); /* not for globals */
	fx_expect(x, VA_K, ACC_READ, PATH_L1, s.pg);

	/* PCID 1's VA_4K named from PCID 2: PCID 2's own entry stays. */
	mk = fx_mark(x);
	ck_assert_int_eq(cpu_invpcid(&x->m, 0, 0, 1, VA_4K + 0x80), 0);
	f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_INVPCID0, SCOPE_PAGE, 1);
	ck_assert_uint_ge(f->c, 2); /* L1 + L2 of PCID 1's VA_4K */
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, s.pn);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, s.pn);
	/* PCID 1's other page was not named. */
	fx_expect(x, VA_2M, ACC_READ, PATH_L1, PA_2M);
	fx_free(x);
}
END_TEST

/* INVPCID type 1: all non-global mappings of the descriptor's PCID. */
START_TEST(invpcid1_single_context)
{
	struct inv_setup s = inv_setup(profiles[_i]);
	struct fx *x = s.x;
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invpcid(&x->m, 0, 1, 1, 0), 0);
	const struct event *f = fx_one_flush(x, mk);
	fx_check_flush(f, INSTR_INVPCID1, SCOPE_PCID, 1);
	/* PCID 1's non-global leaves: VA_4K and VA_2M, L1 + L2 each. */
	ck_assert_uint_ge(f->c, 4);
	/* Current PCID 2 and the global entry are untouched. */
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, s.pn);
	fx_expect(x, VA_K, ACC_READ, PATH_L1, s.pg);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, s.pn);
	fx_expect(x, VA_2M, ACC_READ, PATH_WALK, PA_2M);
	fx_expect(x, VA_K, ACC_READ, PATH_L1, s.pg);
	fx_free(x);
}
END_TEST

/* INVPCID type 2: all mappings of all PCIDs, globals included. */
START_TEST(invpcid2_all_incl_global)
{
	struct inv_setup s = inv_setup(profiles[_i]);
	struct fx *x = s.x;
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invpcid(&x->m, 0, 2, 0, 0), 0);
	const struct event *f = fx_one_flush(x, mk);
	ck_assert_uint_eq(f->sub, INSTR_INVPCID2);
	ck_assert_uint_eq(f->f & 0xff, SCOPE_ALL);
	/* Every leaf entry (global, PCID 1 x2, PCID 2 x1, L1 + L2 each). */
	ck_assert_uint_ge(f->c, 8);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, s.pg);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, s.pn);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, s.pn);
	fx_expect(x, VA_2M, ACC_READ, PATH_WALK, PA_2M);
	fx_free(x);
}
END_TEST

/* INVPCID type 3: all non-global mappings of all PCIDs. */
START_TEST(invpcid3_all_nonglobal)
{
	struct inv_setup s = inv_setup(profiles[_i]);
	struct fx *x = s.x;
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invpcid(&x->m, 0, 3, 0, 0), 0);
	const struct event *f = fx_one_flush(x, mk);
	ck_assert_uint_eq(f->sub, INSTR_INVPCID3);
	ck_assert_uint_eq(f->f & 0xff, SCOPE_ALL_NONGLOBAL);
	ck_assert_uint_ge(f->c, 6);
	fx_expect(x, VA_K, ACC_READ, PATH_L1, s.pg);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, s.pn);
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, s.pn);
	fx_expect(x, VA_2M, ACC_READ, PATH_WALK, PA_2M);
	fx_expect(x, VA_K, ACC_READ, PATH_L1, s.pg);
	fx_free(x);
}
END_TEST

/* With PCIDE=0 only PCID 000H exists; INVPCID with PCID 0 works for every
 * type (hw-facts [S2b]: types 2 and 3 then affect PCID 000H only). */
START_TEST(invpcid_pcide0_pcid0_ok)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	for (uint64_t type = 0; type < 4; type++) {
		fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
		fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
		size_t mk = fx_mark(x);
		ck_assert_int_eq(cpu_invpcid(&x->m, 0, type, 0, VA_4K), 0);
		ck_assert_uint_eq(fx_count(x, mk, EV_FAULT), 0);
		const struct event *f = fx_one_flush(x, mk);
		ck_assert_uint_eq(f->sub, INSTR_INVPCID0 + type);
	}
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	fx_free(x);
}
END_TEST

/* Asserts INVPCID faulted with `vec`, recorded one EV_FAULT, invalidated
 * nothing (the cached VA_4K still hits L1). */
static void expect_invpcid_fault(struct fx *x, uint64_t type, uint64_t desc, uint64_t va,
                                 int vec, uint64_t pa)
{
	size_t mk = fx_mark(x);
	int rc = cpu_invpcid(&x->m, 0, type, desc, va);
	ck_assert_msg(rc == vec, "INVPCID type %" PRIu64 " pcid %#" PRIx64 " va %#" PRIx64
	              ": returned %d, expected %d", type, desc, va, rc, vec);
	const struct event *f = fx_fault_ev(x, mk);
	ck_assert_uint_eq(f->sub, (unsigned)vec);
	ck_assert_uint_eq(fx_count(x, mk, EV_FLUSH), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
}

/* INVPCID #GP conditions (SDM INVPCID reference page, hw-facts [S2b]):
 * type > 3; descriptor bits 63:12 not zero (any type); types 0 and 1
 * with a nonzero PCID while CR4.PCIDE=0; type 0 with a non-canonical
 * address. The address is not used by types 1..3. */
START_TEST(invpcid_gp_rules)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	/* PCIDE=0. */
	expect_invpcid_fault(x, 4, 0, VA_4K, VEC_GP, pa);
	expect_invpcid_fault(x, 0x100, 0, VA_4K, VEC_GP, pa);
	expect_invpcid_fault(x, 0, 1, VA_4K, VEC_GP, pa);
	expect_invpcid_fault(x, 1, 0xfff, 0, VEC_GP, pa);
	for (uint64_t type = 0; type < 4; type++)
		expect_invpcid_fault(x, type, 0x1000, VA_4K, VEC_GP, pa);
	expect_invpcid_fault(x, 0, 0, VA_NONCANON, VEC_GP, pa);
	/* PCIDE=1: a nonzero PCID is fine, the other rules still hold. */
	fx_pcide(x, 7);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	expect_invpcid_fault(x, 4, 7, VA_4K, VEC_GP, pa);
	expect_invpcid_fault(x, 0, 1ull << 12, VA_4K, VEC_GP, pa);
	expect_invpcid_fault(x, 1, 0x7000, 0, VEC_GP, pa);
	expect_invpcid_fault(x, 0, 7, 0xfff0000000400000ull, VEC_GP, pa);
	/* Type 1 ignores the (non-canonical) address; PCID 8 is not current. */
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invpcid(&x->m, 0, 1, 8, VA_NONCANON), 0);
	ck_assert_uint_eq(fx_count(x, mk, EV_FAULT), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_L1, pa);
	fx_free(x);
}
END_TEST

/* CPUID.07H:EBX.INVPCID=0 (e.g. Zen 2, hw-facts §1.2): INVPCID is #UD,
 * before any operand check. */
START_TEST(invpcid_ud_without_feature)
{
	struct profile p;
	fx_profile(profiles[_i], &p);
	p.has_invpcid = 0;
	struct fx *x = fx_new_prof(&p);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	for (uint64_t type = 0; type < 5; type++)
		expect_invpcid_fault(x, type, 0, VA_4K, VEC_UD, pa);
	expect_invpcid_fault(x, 0, 0x1000, VA_NONCANON, VEC_UD, pa);
	fx_free(x);
}
END_TEST

static Suite *mmu_inval_suite(void)
{
	Suite *s = suite_create("mmu_inval");
	TCase *tc = tcase_create("invlpg");
	tcase_add_loop_test(tc, invlpg_current_pcid, 0, 2);
	tcase_add_loop_test(tc, invlpg_other_pcid_kept, 0, 2);
	tcase_add_loop_test(tc, invlpg_removes_global, 0, 2);
	tcase_add_loop_test(tc, invlpg_non_canonical_nop, 0, 2);
	tcase_add_loop_test(tc, invlpg_inside_2m, 0, 2);
	tcase_add_loop_test(tc, invlpg_inside_1g, 0, 2);
	tcase_add_test(tc, invlpg_1g_removes_smashed_l2_piece);
	tcase_add_test(tc, invlpg_1g_removes_smashed_itlb_piece);
	suite_add_tcase(s, tc);

	tc = tcase_create("invpcid");
	tcase_add_loop_test(tc, invpcid0_individual, 0, 2);
	tcase_add_loop_test(tc, invpcid1_single_context, 0, 2);
	tcase_add_loop_test(tc, invpcid2_all_incl_global, 0, 2);
	tcase_add_loop_test(tc, invpcid3_all_nonglobal, 0, 2);
	tcase_add_loop_test(tc, invpcid_pcide0_pcid0_ok, 0, 2);
	tcase_add_loop_test(tc, invpcid_gp_rules, 0, 2);
	tcase_add_loop_test(tc, invpcid_ud_without_feature, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(mmu_inval_suite());
}
