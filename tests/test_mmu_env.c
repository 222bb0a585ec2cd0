/* MMU suite, part 4: the envelope (sim/tlb/envelope.h) and determinism.
 *
 * The envelope is what the architecture allows a CPU to have cached, touched
 * or not (SDM Vol. 3A §4.10.2.3: translations may be cached speculatively
 * and stay until an invalidation covers them; §4.10.3 for the
 * paging-structure caches). These tests change real entries with and
 * without the invalidation the SDM requires and check what the access
 * flags, env_quiesce() and the table-free report say.
 *
 * Determinism: a run is a pure function of its inputs, so two machines
 * fed the same sequence produce the same event digest (sim/bus.h).
 */
#include <inttypes.h>

#include "tests/mmu_fixture.h"
#include "tests/testutil.h"

static const char *const profiles[] = {"skylake", "zen3"};

/* Envelope ------------------------------------------------------------------ */

/* A present PTE is pointed at another frame without invalidation: the TLB
 * may keep serving the old translation (§4.10.4.2: software must
 * invalidate). The access through the stale entry is flagged both
 * concretely (ACCF_STALE) and by the envelope (ACCF_MAY_STALE); after the
 * INVLPG the SDM requires, no flag is left. */
START_TEST(env_stale_access_flagged)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	uint64_t f1 = fx_map_page(x, VA_4K, PTE_RW, &epa);
	uint64_t f2 = fx_alloc(x);
	struct access_result r = fx_acc(x, VA_4K, ACC_READ);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_uint_eq(r.flags, 0);

	fx_store(x, epa, f2 | PTE_P | PTE_RW);
	size_t mk = fx_mark(x);
	r = fx_acc(x, VA_4K + 0x10, ACC_READ);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_int_eq(r.path, PATH_L1);
	ck_assert_uint_eq(r.pa, f1 + 0x10); /* the cached, stale frame */
	ck_assert_msg((r.flags & (ACCF_STALE | ACCF_MAY_STALE)) == (ACCF_STALE | ACCF_MAY_STALE),
	              "flags %#x", r.flags);
	const struct event *a = fx_last(x, mk, EV_ACCESS);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->e & (ACCF_STALE | ACCF_MAY_STALE), ACCF_STALE | ACCF_MAY_STALE);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);

	/* The required INVLPG: it removed a stale record (EV_FLUSH e > 0,
	 * "necessary" bit 8 of f). */
	mk = fx_mark(x);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	const struct event *f = fx_one_flush(x, mk);
	ck_assert_uint_gt(f->e, 0);
	ck_assert(f->f & (1u << 8));
	ck_assert_uint_gt(fx_count(x, mk, EV_ENV_DROP), 0);
	r = fx_acc(x, VA_4K + 0x10, ACC_READ);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_int_eq(r.path, PATH_WALK);
	ck_assert_uint_eq(r.pa, f2 + 0x10);
	ck_assert_uint_eq(r.flags, 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_free(x);
}
END_TEST

/* The point of the envelope: a translation may be cached without ever
 * being used (§4.10.2.3, speculative caching), so changing the PTE of a
 * page the CPU never touched still needs an invalidation. INVLPG of
 * another page does not cover it; INVLPG of the page does. */
START_TEST(env_untouched_change_needs_invlpg)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_map_page(x, VA_4K_B, PTE_RW, &epa);
	uint64_t f2 = fx_alloc(x);
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK); /* VA_4K_B never */
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);

	fx_store(x, epa, f2 | PTE_P | PTE_RW);
	size_t mk = fx_mark(x);
	uint32_t n = env_quiesce(&x->m, 0);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(fx_count(x, mk, EV_ENV_STALE), n);
	const struct event *st = fx_last(x, mk, EV_ENV_STALE);
	ck_assert_uint_eq(st->c, VA_4K_B);
	ck_assert_uint_eq(st->d, 12);

	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), n);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K_B + 0xfff), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_expect(x, VA_4K_B, ACC_READ, PATH_WALK, f2);
	fx_free(x);
}
END_TEST

/* Unmapping (P 1->0) an untouched page without invalidation is stale too. */
START_TEST(env_untouched_unmap_needs_invlpg)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	fx_map_page(x, VA_4K_B, PTE_RW, &epa);
	fx_store(x, epa, 0);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K_B), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_expect_pf(x, VA_4K_B, ACC_READ, 0);
	fx_free(x);
}
END_TEST

/* §4.10.4.3: changing R/W from 0 to 1 needs no invalidation; a write may
 * then take a "spurious" #PF through the cached read-only entry, and the
 * fault itself invalidates the entry (§4.10.4.1), so the retry succeeds.
 * The SDM allows either outcome for that write; the model takes the
 * fault, which is what is asserted here. */
START_TEST(env_permission_upgrade_not_stale)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	uint64_t pa = fx_map_page(x, VA_4K, 0, &epa); /* read-only */
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	fx_store(x, epa, fx_read(x, epa) | PTE_RW);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);

	size_t mk = fx_mark(x);
	struct access_result r = fx_acc(x, VA_4K + 8, ACC_WRITE);
	ck_assert_int_eq(r.fault, VEC_PF);
	ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_W);
	ck_assert_msg(r.flags & ACCF_SPURIOUS_PF, "flags %#x", r.flags);
	ck_assert_uint_eq(r.flags & ACCF_STALE, 0);
	const struct event *fe = fx_fault_ev(x, mk);
	ck_assert_uint_eq(fe->sub, VEC_PF);
	ck_assert_uint_eq(fe->b, PFEC_P | PFEC_W);

	r = fx_acc(x, VA_4K + 8, ACC_WRITE);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_uint_eq(r.pa, pa + 8);
	ck_assert_uint_eq(r.flags, 0);
	ck_assert(fx_read(x, epa) & PTE_D);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_free(x);
}
END_TEST

/* The converse: R/W 1->0 without invalidation leaves a cached entry that
 * grants a write the tables no longer grant: stale. */
START_TEST(env_permission_downgrade_stale)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, &epa);
	fx_expect(x, VA_4K, ACC_WRITE, PATH_WALK, pa);
	fx_store(x, epa, fx_read(x, epa) & ~PTE_RW);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	struct access_result r = fx_acc(x, VA_4K, ACC_WRITE);
	ck_assert_int_eq(r.fault, 0); /* the stale entry still allows it */
	ck_assert(r.flags & ACCF_STALE);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_expect_pf(x, VA_4K, ACC_WRITE, PFEC_P | PFEC_W);
	fx_free(x);
}
END_TEST

/* Maps VA_4K, touches it, unlinks its PDE (clears the level-2 entry) and,
 * if `flush`, runs INVLPG of an unrelated address; then frees the page
 * table. Returns the EV_TABLE free event's env refs (d). */
static uint64_t unlink_and_free(const char *profile, bool touch, bool flush)
{
	struct fx *x = fx_new(profile);
	fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_map_page(x, VA_2M + 0x9000, PTE_RW, NULL); /* unrelated */
	if (touch)
		fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	uint64_t pde = fx_entry(x, VA_4K, 2);
	uint64_t pt = fx_read(x, pde) & PTE_ADDR_4K;
	fx_store(x, pde, 0);
	if (flush) {
		/* §4.10.4.1: INVLPG invalidates ALL paging-structure-cache
		 * entries of the current PCID, whatever the address. */
		ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_2M + 0x9000), 0);
	}
	size_t mk = fx_mark(x);
	ck_assert(machine_free_frame(&x->m, 0, pt >> PAGE_SHIFT));
	const struct event *t = fx_last(x, mk, EV_TABLE);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->sub, TBL_FREE);
	ck_assert_uint_eq(t->a, pt);
	ck_assert_uint_eq(t->b, 1); /* a level-1 table */
	ck_assert_uint_eq(t->c, 0); /* no live link left */
	uint64_t refs = t->d;
	fx_free(x);
	return refs;
}

/* §4.10.3: a PDE-cache entry may still point at a page table after its
 * PDE is cleared; freeing (and reusing) the table before an invalidation
 * lets walks read a reused frame. The table-free report counts the
 * envelope records still referencing it. */
START_TEST(env_freed_table_psc_refs)
{
	ck_assert_uint_gt(unlink_and_free(profiles[_i], true, false), 0);
	ck_assert_uint_gt(unlink_and_free(profiles[_i], false, false), 0);
	/* INVLPG of an unrelated address drops every PSC entry of the PCID
	 * on Intel; with AMD's TCE (zen3) only those covering it. */
	struct profile prof;
	fx_profile(profiles[_i], &prof);
	if (prof.psc_inval_covering) {
		ck_assert_uint_gt(unlink_and_free(profiles[_i], true, true), 0);
		ck_assert_uint_gt(unlink_and_free(profiles[_i], false, true), 0);
	} else {
		ck_assert_uint_eq(unlink_and_free(profiles[_i], true, true), 0);
		ck_assert_uint_eq(unlink_and_free(profiles[_i], false, true), 0);
	}
}
END_TEST

/* Intel has no negative caching (§4.10.2.3: entries are created only for
 * P=1): mapping a new page (and new tables) needs no invalidation and
 * creates no envelope record. */
START_TEST(env_map_new_no_record)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t pa = fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa);
	fx_expect_pf(x, VA_4K_B, ACC_READ, 0);
	fx_expect_pf(x, VA_1G + 0x5000, ACC_READ, 0);
	size_t mk = fx_mark(x);
	uint64_t pb = fx_map_page(x, VA_4K_B, PTE_RW, NULL);      /* PTE 0 -> P */
	uint64_t pc = fx_map_page(x, VA_1G + 0x5000, PTE_RW, NULL); /* new tables too */
	fx_map(x, VA_2M, PA_2M, 21, PTE_RW);
	ck_assert_uint_gt(fx_count(x, mk, EV_PTE_WRITE), 0);
	ck_assert_uint_eq(fx_count(x, mk, EV_ENV_ADD), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	ck_assert_uint_eq(fx_cpu(x)->env.nrecs, 0);
	struct access_result r = fx_acc(x, VA_4K_B, ACC_READ);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_uint_eq(r.pa, pb);
	ck_assert_uint_eq(r.flags, 0);
	r = fx_acc(x, VA_1G + 0x5000, ACC_READ);
	ck_assert_int_eq(r.fault, 0);
	ck_assert_uint_eq(r.pa, pc);
	ck_assert_uint_eq(r.flags, 0);
	fx_free(x);
}
END_TEST

/* Accessed/dirty updates (by hardware or software) change no translation:
 * no record. */
START_TEST(env_ad_bits_no_record)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	fx_map_page(x, VA_4K, PTE_RW, &epa);
	fx_expect_path(x, VA_4K, ACC_WRITE, PATH_WALK);
	ck_assert(fx_read(x, epa) & (PTE_A | PTE_D));
	fx_store(x, epa, fx_read(x, epa) & ~(PTE_A | PTE_D));
	ck_assert_uint_eq(fx_cpu(x)->env.nrecs, 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	/* Bits ignored by the processor (11:9, 58:52) neither. */
	fx_store(x, epa, fx_read(x, epa) | (1ull << 9) | (1ull << 11) | (1ull << 55));
	ck_assert_uint_eq(fx_cpu(x)->env.nrecs, 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_free(x);
}
END_TEST

/* A memory-type change (PCD) of a cached page without invalidation is
 * stale: the cached translation carries the old type. */
START_TEST(env_memtype_change_stale)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	fx_map_page(x, VA_4K, PTE_RW, &epa);
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	fx_store(x, epa, fx_read(x, epa) | PTE_PCD);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_free(x);
}
END_TEST

/* §4.10.3: a cached PDE keeps the rights it had. After clearing R/W in a
 * PDE without invalidation, a write to a page under it that was never
 * accessed may still succeed through the PDE cache (the SDM allows it);
 * if it does, it must be flagged stale. After INVLPG (which drops all PSC
 * entries of the PCID and the page's entry) the write faults. */
START_TEST(env_stale_psc_rights)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map_page(x, VA_4K, PTE_RW, NULL);
	uint64_t pb = fx_map_page(x, VA_4K_B, PTE_RW, NULL);
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	uint64_t pde = fx_entry(x, VA_4K, 2);
	fx_store(x, pde, fx_read(x, pde) & ~PTE_RW);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	struct access_result r = fx_acc(x, VA_4K_B, ACC_WRITE);
	if (r.fault == 0) {
		ck_assert_uint_eq(r.pa, pb);
		ck_assert_msg((r.flags & (ACCF_STALE | ACCF_MAY_STALE)) ==
		              (ACCF_STALE | ACCF_MAY_STALE), "flags %#x", r.flags);
	} else {
		ck_assert_int_eq(r.fault, VEC_PF);
		ck_assert_uint_eq(r.pfec, PFEC_P | PFEC_W);
	}
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K_B), 0);
	fx_expect_pf(x, VA_4K_B, ACC_WRITE, PFEC_P | PFEC_W);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_free(x);
}
END_TEST

/* An INVLPG that removes nothing stale is not "necessary" (EV_FLUSH f bit
 * 8 clear); the one after a PTE change is. */
START_TEST(env_flush_necessary_bit)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	fx_map_page(x, VA_4K, PTE_RW, &epa);
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	size_t mk = fx_mark(x);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	const struct event *f = fx_one_flush(x, mk);
	ck_assert_uint_eq(f->e, 0);
	ck_assert_uint_eq(f->f & (1u << 8), 0);
	fx_store(x, epa, fx_alloc(x) | PTE_P | PTE_RW);
	mk = fx_mark(x);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	f = fx_one_flush(x, mk);
	ck_assert_uint_eq(f->e, 1);
	ck_assert(f->f & (1u << 8));
	fx_free(x);
}
END_TEST

/* §4.10.4.1: MOV CR3 does not invalidate global entries, so after changing
 * a G=1 leaf (CR4.PGE=1) a CR3 reload is not enough: the global entry is
 * still used. INVLPG, which does remove globals, is. */
START_TEST(env_global_change_survives_mov_cr3)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	uint64_t f1 = fx_map_page(x, VA_K, PTE_RW | PTE_G, &epa);
	uint64_t f2 = fx_alloc(x);
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, f1);
	fx_store(x, epa, f2 | PTE_P | PTE_RW | PTE_G);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, x->root), 0);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	struct access_result r = fx_acc(x, VA_K, ACC_READ);
	ck_assert_int_eq(r.path, PATH_L1);
	ck_assert_uint_eq(r.pa, f1);
	ck_assert_uint_eq(r.flags & (ACCF_STALE | ACCF_MAY_STALE), ACCF_STALE | ACCF_MAY_STALE);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_K), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, f2);
	fx_free(x);
}
END_TEST

/* The same change to a non-global leaf: MOV CR3 with PCIDE=0 invalidates
 * all of PCID 000H, so nothing stale is left. */
START_TEST(env_nonglobal_change_mov_cr3_enough)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	fx_map_page(x, VA_4K, PTE_RW, &epa);
	uint64_t f2 = fx_alloc(x);
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	fx_store(x, epa, f2 | PTE_P | PTE_RW);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, x->root), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, f2);
	fx_free(x);
}
END_TEST

/* §4.10.4.1 with PCIDs: MOV CR3 without NOFLUSH invalidates the NEW PCID
 * only. A change made while PCID 1 may cache the page is not covered by
 * a flushing switch to PCID 2; coming back with NOFLUSH uses the stale
 * entry. INVPCID type 1 for PCID 1 covers it. */
START_TEST(env_pcid_change_needs_that_pcid)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t epa;
	uint64_t f1 = fx_map_page(x, VA_4K, PTE_RW, &epa);
	uint64_t f2 = fx_alloc(x);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, f1);
	ck_assert_int_eq(fx_cr3(x, 2, false), 0);
	fx_store(x, epa, f2 | PTE_P | PTE_RW);
	ck_assert_int_eq(fx_cr3(x, 2, false), 0);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, f2); /* PCID 2: fresh */
	ck_assert_int_eq(fx_cr3(x, 1, true), 0);
	struct access_result r = fx_acc(x, VA_4K, ACC_READ);
	ck_assert_int_eq(r.path, PATH_L1);
	ck_assert_uint_eq(r.pa, f1);
	ck_assert(r.flags & ACCF_STALE);
	ck_assert(r.flags & ACCF_MAY_STALE);
	ck_assert_int_eq(cpu_invpcid(&x->m, 0, 1, 1, 0), 0);
	r = fx_acc(x, VA_4K, ACC_READ);
	ck_assert_int_eq(r.path, PATH_WALK);
	ck_assert_uint_eq(r.pa, f2);
	ck_assert_uint_eq(r.flags, 0);
	/* PCID 000H also had this root loaded (fx_pcide) and may hold the old
	 * translation speculatively: one record left until it is flushed. */
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 1);
	ck_assert_int_eq(cpu_invpcid(&x->m, 0, 1, 0, 0), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_free(x);
}
END_TEST

/* §4.10.1: a PCID reused for another address space without a flush
 * (MOV CR3 NOFLUSH to a different root) keeps the first tree's
 * translations: stale (an "alias"). A flushing MOV CR3 fixes it. */
START_TEST(env_pcid_reuse_alias)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t root_a = x->root, root_b = fx_alloc(x);
	uint64_t pa_a = fx_alloc(x), pa_b = fx_alloc(x);
	fx_map_in(x, root_a, VA_4K, pa_a, 12, PTE_RW);
	fx_map_in(x, root_b, VA_4K, pa_b, 12, PTE_RW);
	fx_pcide(x, 1);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa_a);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, root_b | 1 | CR3_NOFLUSH), 0);
	struct access_result r = fx_acc(x, VA_4K, ACC_READ);
	ck_assert_int_eq(r.path, PATH_L1);
	ck_assert_uint_eq(r.pa, pa_a);
	ck_assert(r.flags & ACCF_STALE);
	ck_assert(r.flags & ACCF_MAY_STALE);
	size_t mk = fx_mark(x);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	const struct event *st = fx_last(x, mk, EV_ENV_STALE);
	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(st->sub, ENVK_ALIAS);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, root_b | 1), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, pa_b);
	fx_free(x);
}
END_TEST

/* Global entries are shared by all address spaces (§4.10.2.4): two roots
 * that map a G=1 page differently, switched with PCIDE=0 and PGE=1, let
 * the first root's global translation be used under the second. */
START_TEST(env_global_differs_between_roots)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t root_a = x->root, root_b = fx_alloc(x);
	uint64_t pa_a = fx_alloc(x), pa_b = fx_alloc(x);
	fx_map_in(x, root_a, VA_K, pa_a, 12, PTE_RW | PTE_G);
	fx_map_in(x, root_b, VA_K, pa_b, 12, PTE_RW | PTE_G);
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pa_a);
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, root_b), 0);
	struct access_result r = fx_acc(x, VA_K, ACC_READ);
	ck_assert_int_eq(r.path, PATH_L1);
	ck_assert_uint_eq(r.pa, pa_a);
	ck_assert(r.flags & ACCF_STALE);
	ck_assert(r.flags & ACCF_MAY_STALE);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	fx_free(x);
}
END_TEST

/* The usual kernel layout: every address space links the same kernel
 * PDPT, whose pages are global. Switching roots (PCIDE=0, PGE=1) keeps
 * the global entries, which is correct here: nothing is stale (no false
 * positive from the alias check). */
START_TEST(env_shared_global_half_not_stale)
{
	struct fx *x = fx_new(profiles[_i]);
	uint64_t root_a = x->root, root_b = fx_alloc(x);
	uint64_t pk = fx_alloc(x);
	fx_map_in(x, root_a, VA_K, pk, 12, PTE_RW | PTE_G);
	fx_map_in(x, root_a, VA_4K, fx_alloc(x), 12, PTE_RW);
	fx_map_in(x, root_b, VA_4K, fx_alloc(x), 12, PTE_RW);
	/* root_b's PML4[511] = root_a's: the kernel half is shared. */
	mem_write64(&x->m.mem, root_b + 8 * 511, fx_read(x, root_a + 8 * 511));
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	fx_expect(x, VA_K, ACC_READ, PATH_WALK, pk);
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, k % 2 ? root_a : root_b), 0);
		struct access_result r = fx_acc(x, VA_K + 8, ACC_READ);
		ck_assert_int_eq(r.path, PATH_L1);
		ck_assert_uint_eq(r.pa, pk + 8);
		ck_assert_uint_eq(r.flags, 0);
		r = fx_acc(x, VA_4K, ACC_READ);
		ck_assert_int_eq(r.path, PATH_WALK);
		ck_assert_uint_eq(r.flags, 0);
		ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	}
	fx_free(x);
}
END_TEST

/* §4.10.4.2: after a PDE that references a page table is changed to
 * reference another one, INVLPG of one address drops all PSC entries but
 * only that page's TLB entries: every page that may be cached from the old
 * table needs its own INVLPG (or a wider flush). */
START_TEST(env_pde_replace_needs_each_page)
{
	struct fx *x = fx_new(profiles[_i]);
	fx_map_page(x, VA_4K, PTE_RW, NULL);
	fx_map_page(x, VA_4K_B, PTE_RW, NULL);
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	fx_expect_path(x, VA_4K_B, ACC_READ, PATH_WALK);
	/* A new page table with other frames for both pages. */
	uint64_t pt = fx_alloc(x), n1 = fx_alloc(x), n2 = fx_alloc(x);
	mem_write64(&x->m.mem, pt + 8 * LEVEL_INDEX(VA_4K, 1), n1 | PTE_P | PTE_RW);
	mem_write64(&x->m.mem, pt + 8 * LEVEL_INDEX(VA_4K_B, 1), n2 | PTE_P | PTE_RW);
	uint64_t pde = fx_entry(x, VA_4K, 2);
	fx_store(x, pde, pt | FX_TABLE_FLAGS);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	fx_expect(x, VA_4K, ACC_READ, PATH_WALK, n1);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0); /* VA_4K_B still stale */
	struct access_result r = fx_acc(x, VA_4K_B, ACC_READ);
	ck_assert_int_eq(r.path, PATH_L1);
	ck_assert(r.flags & ACCF_STALE);
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K_B), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	fx_expect(x, VA_4K_B, ACC_READ, PATH_WALK, n2);
	fx_free(x);
}
END_TEST

/* §4.10.5: invalidation is per logical processor. With two CPUs using the
 * tables, INVLPG on CPU 0 leaves CPU 1's possibly cached translation
 * stale until CPU 1 invalidates too (the TLB shootdown). */
START_TEST(env_other_cpu_needs_own_invlpg)
{
	struct profile p;
	fx_profile(profiles[_i], &p);
	struct fx *x = fx_new_n(&p, 2);
	uint64_t epa;
	fx_map_page(x, VA_4K, PTE_RW, &epa);
	fx_expect_path(x, VA_4K, ACC_READ, PATH_WALK);
	fx_store(x, epa, fx_alloc(x) | PTE_P | PTE_RW);
	ck_assert_uint_gt(env_quiesce(&x->m, 0), 0);
	ck_assert_uint_gt(env_quiesce(&x->m, 1), 0); /* never touched it */
	ck_assert_int_eq(cpu_invlpg(&x->m, 0, VA_4K), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	ck_assert_uint_gt(env_quiesce(&x->m, 1), 0);
	ck_assert_int_eq(cpu_invlpg(&x->m, 1, VA_4K), 0);
	ck_assert_uint_eq(env_quiesce(&x->m, 1), 0);
	fx_free(x);
}
END_TEST

/* Determinism ------------------------------------------------------------------ */

/* A mixed sequence (maps, accesses of all kinds, PTE changes with and
 * without invalidation, CR3/CR4 writes, INVLPG, INVPCID, a fault, a
 * quiescent check). `variant` changes one access address. Returns the
 * event digest; *nev the number of events. */
static uint64_t det_run(const char *profile, int variant, uint64_t *nev)
{
	struct fx *x = fx_new(profile);
	uint64_t epa[16];
	for (unsigned i = 0; i < 16; i++)
		fx_map_page(x, VA_4K + i * 0x11000ull, PTE_RW | (i & 1 ? PTE_US : 0), &epa[i]);
	fx_map_page(x, VA_K, PTE_RW | PTE_G, NULL);
	fx_map(x, VA_2M, PA_2M, 21, PTE_RW);
	ck_assert_int_eq(fx_cr4(x, CR4_PGE, 0), 0);
	fx_pcide(x, 1);
	for (unsigned k = 0; k < 200; k++) {
		unsigned i = (k * 7 + 3) % 16;
		unsigned acc = k % 3 == 0 ? ACC_WRITE : ACC_READ;
		if (k % 11 == 0)
			acc |= ACC_USER;
		uint64_t va = VA_4K + i * 0x11000ull + (k % 8) * 64;
		if (variant && k == 123)
			va += 0x11000;
		struct access_result r;
		cpu_access(&x->m, 0, va, acc, &r);
		if (k % 17 == 0)
			cpu_access(&x->m, 0, VA_K + k, ACC_READ, &r);
		if (k % 19 == 0)
			cpu_access(&x->m, 0, VA_2M + k * 0x1000, ACC_EXEC, &r);
		if (k == 50)
			fx_store(x, epa[5], fx_alloc(x) | PTE_P | PTE_RW);
		if (k == 60)
			cpu_invlpg(&x->m, 0, VA_4K + 5 * 0x11000ull);
		if (k == 80)
			fx_cr3(x, 2, false);
		if (k == 100)
			fx_cr3(x, 1, true);
		if (k == 120)
			cpu_invpcid(&x->m, 0, 1, 2, 0);
		if (k == 140)
			fx_cr4(x, 0, CR4_PGE);
		if (k == 150)
			cpu_invpcid(&x->m, 0, 9, 0, 0); /* #GP */
		if (k == 160)
			env_quiesce(&x->m, 0);
	}
	uint64_t d = x->m.bus.digest;
	*nev = x->m.bus.seq;
	fx_free(x);
	return d;
}

START_TEST(det_same_sequence_same_digest)
{
	uint64_t n1, n2, n3;
	uint64_t d1 = det_run(profiles[_i], 0, &n1);
	uint64_t d2 = det_run(profiles[_i], 0, &n2);
	ck_assert_uint_gt(n1, 300);
	ck_assert_uint_eq(n1, n2);
	ck_assert_uint_eq(d1, d2);
	uint64_t d3 = det_run(profiles[_i], 1, &n3);
	ck_assert_uint_ne(d1, d3);
}
END_TEST

/* Two profiles, same sequence: the costs differ, so must the digest. */
START_TEST(det_profile_changes_digest)
{
	uint64_t n1, n2;
	ck_assert_uint_ne(det_run("skylake", 0, &n1), det_run("zen3", 0, &n2));
}
END_TEST

static Suite *mmu_env_suite(void)
{
	Suite *s = suite_create("mmu_env");
	TCase *tc = tcase_create("envelope");
	tcase_add_loop_test(tc, env_stale_access_flagged, 0, 2);
	tcase_add_loop_test(tc, env_untouched_change_needs_invlpg, 0, 2);
	tcase_add_loop_test(tc, env_untouched_unmap_needs_invlpg, 0, 2);
	tcase_add_loop_test(tc, env_permission_upgrade_not_stale, 0, 2);
	tcase_add_loop_test(tc, env_permission_downgrade_stale, 0, 2);
	tcase_add_loop_test(tc, env_freed_table_psc_refs, 0, 2);
	tcase_add_loop_test(tc, env_map_new_no_record, 0, 2);
	tcase_add_loop_test(tc, env_ad_bits_no_record, 0, 2);
	tcase_add_loop_test(tc, env_memtype_change_stale, 0, 2);
	tcase_add_loop_test(tc, env_stale_psc_rights, 0, 2);
	tcase_add_loop_test(tc, env_flush_necessary_bit, 0, 2);
	tcase_add_loop_test(tc, env_global_change_survives_mov_cr3, 0, 2);
	tcase_add_loop_test(tc, env_nonglobal_change_mov_cr3_enough, 0, 2);
	tcase_add_loop_test(tc, env_pcid_change_needs_that_pcid, 0, 2);
	tcase_add_loop_test(tc, env_pcid_reuse_alias, 0, 2);
	tcase_add_loop_test(tc, env_global_differs_between_roots, 0, 2);
	tcase_add_loop_test(tc, env_shared_global_half_not_stale, 0, 2);
	tcase_add_loop_test(tc, env_pde_replace_needs_each_page, 0, 2);
	tcase_add_loop_test(tc, env_other_cpu_needs_own_invlpg, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("determinism");
	tcase_add_loop_test(tc, det_same_sequence_same_digest, 0, 2);
	tcase_add_test(tc, det_profile_changes_digest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(mmu_env_suite());
}
