/* The models' own invariant (machine.self_check): the concrete TLB never
 * serves a translation the envelope does not allow. The check is proven
 * able to fail by injecting the model bug it exists to catch: an envelope
 * that forgot its records while the TLB still holds the stale entry. */
#include <signal.h>

#include "tests/mmu_fixture.h"
#include "tests/testutil.h"

#define VA 0x400000ull

/* A stale TLB entry that the envelope knows about: reported, no abort. */
START_TEST(stale_with_record_is_reported)
{
	struct fx *x = fx_new("skylake");
	uint64_t epa;
	fx_map_page(x, VA, PTE_RW, &epa);
	fx_acc(x, VA, ACC_READ);
	fx_store(x, epa, fx_alloc(x) | PTE_P | PTE_RW);
	struct access_result r = fx_acc(x, VA, ACC_READ);
	ck_assert_uint_eq(r.flags & (ACCF_STALE | ACCF_MAY_STALE), ACCF_STALE | ACCF_MAY_STALE);
	fx_free(x);
}
END_TEST

/* The injected bug: drop the envelope's records behind the models' back.
 * The next access through the stale entry must abort the run. */
START_TEST(forgotten_record_aborts)
{
	struct fx *x = fx_new("skylake");
	uint64_t epa;
	fx_map_page(x, VA, PTE_RW, &epa);
	fx_acc(x, VA, ACC_READ);
	fx_store(x, epa, fx_alloc(x) | PTE_P | PTE_RW);
	struct env_cpu *e = &x->m.cpus[0].env;
	ck_assert_uint_gt(e->nrecs, 0);
	e->nrecs = 0; /* leaks the records; the process is about to abort */
	fx_acc(x, VA, ACC_READ);
	ck_abort_msg("the self-check did not catch the forgotten record");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("selfcheck");
	TCase *tc = tcase_create("selfcheck");
	tcase_add_test(tc, stale_with_record_is_reported);
	tcase_add_test_raise_signal(tc, forgotten_record_aborts, SIGABRT);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
