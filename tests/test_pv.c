/* Seed 003 at the PV level: for every pcid= policy and XPTI on and off, a
 * sequence of context switches, system calls, guest page-table updates and
 * idle switches on two CPUs never faults, never sets PGE with PCIDE,
 * leaves nothing stale in any envelope, never makes a hypervisor address
 * reachable from a guest under XPTI, and uses the PCIDs and roots the
 * seed defines (checked against the CPU's CR3 and CR4 after each step). */
#include <stdlib.h>
#include <string.h>

#include "hv/pv/pv.h"
#include "runner/platform.h"
#include "scenario/scenario.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "tests/testutil.h"

struct pvx {
	struct machine m;
	struct platform p;
	uint64_t faults, checks;
};

static int count(void *ctx, const struct event *ev)
{
	struct pvx *x = ctx;
	if (ev->type == EV_FAULT && ev->sub != VEC_PF)
		x->faults++;
	if (ev->type == EV_CHECK)
		x->checks++;
	return 0;
}

static struct pvx *pvx_new(int policy, bool xpti)
{
	struct pvx *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	struct profile prof;
	struct sc_error e;
	ck_assert_int_eq(profile_load_named("skylake", &prof, &e), 0);
	ck_assert_int_eq(machine_init(&x->m, &prof, 2, 1 << 16, 3), 0);
	x->m.self_check = true;
	struct sink s = {.name = "pv", .mask = 1ull << EV_FAULT | 1ull << EV_CHECK, .ctx = x,
	                 .event = count};
	ck_assert_int_eq(bus_attach(&x->m.bus, &s), 0);
	struct sc_hv hc = {.enabled = true, .page1gb = true, .superpages = true,
	                   .directmap_bytes = 1ull << 30, .pcid = policy, .xpti = xpti};
	char err[256];
	ck_assert_msg(platform_init(&x->p, &x->m, &hc, err, sizeof(err)) == 0, "%s", err);
	return x;
}

static void pvx_free(struct pvx *x)
{
	platform_fini(&x->p);
	machine_fini(&x->m);
	free(x);
}

/* What the CPU must hold while v runs in the guest (seed 003). */
static void assert_guest_state(struct pvx *x, unsigned cpu, const struct hv_vcpu *v)
{
	const struct cpu *c = &x->m.cpus[cpu];
	const struct hv_domain *d = v->d;
	ck_assert(!((c->cr4 & X86_CR4_PGE) && (c->cr4 & X86_CR4_PCIDE)));
	ck_assert_int_eq(!!(c->cr4 & X86_CR4_PCIDE), d->pcid);
	ck_assert_int_eq(!!(c->cr4 & X86_CR4_PGE), !d->xpti && !d->pcid);
	uint64_t root = (c->cr3 & X86_CR3_ADDR_MASK) >> 12;
	uint64_t want_root = d->xpti ? x->p.pv.pcpu[cpu].root_pgt
	                             : (v->kernel_mode ? v->kernel_root : v->user_root);
	ck_assert_uint_eq(root, want_root);
	if (d->pcid)
		ck_assert_uint_eq(c->cr3 & X86_CR3_PCID_MASK, hv_pcid_bits(v->kernel_mode, d->xpti));
}

static void quiet(struct pvx *x)
{
	for (unsigned c = 0; c < x->m.ncpus; c++)
		ck_assert_uint_eq(env_quiesce(&x->m, c), 0);
	ck_assert_uint_eq(x->faults, 0);
	ck_assert_uint_eq(x->checks, 0);
	ck_assert_int_eq(x->p.hv.error, 0);
}

START_TEST(every_policy_runs_clean)
{
	int policy = _i / 2;
	bool xpti = _i % 2;
	struct pvx *x = pvx_new(policy, xpti);
	struct hv *hv = &x->p.hv;
	struct hv_pv *pv = &x->p.pv;
	ck_assert_int_eq(hv_domain_create(hv, pv, 0, 2, xpti), 0);
	ck_assert_int_eq(hv_domain_create(hv, pv, 0, 1, !xpti), 1); /* a mix */
	struct hv_vcpu *a = &pv->dom[0].vcpu[0], *b = &pv->dom[0].vcpu[1],
	               *c = &pv->dom[1].vcpu[0];
	ck_assert_int_eq(hv_vcpu_run(hv, pv, 0, a), 0);
	assert_guest_state(x, 0, a);
	ck_assert_int_eq(hv_vcpu_run(hv, pv, 1, c), 0);
	assert_guest_state(x, 1, c);
	uint64_t va = 0x400000, pa = 0x200000000ull;
	for (unsigned round = 0; round < 6; round++) {
		/* A guest page-table update with its flush, then accesses. */
		ck_assert_int_eq(hv_guest_map(hv, pv, 0, va, pa + (round << 12), 0x67, true), 0);
		ck_assert_int_eq(hv_guest_map(hv, pv, 0, va, pa + (round << 12), 0x63, false), 0);
		struct access_result r;
		cpu_access(&x->m, 0, va + 8, ACC_WRITE | ACC_USER, &r);
		ck_assert_uint_eq(r.pa, pa + (round << 12) + 8);
		/* A system call there and back, on both CPUs. */
		ck_assert_int_eq(hv_syscall(hv, pv, 0, 0), 0);
		assert_guest_state(x, 0, pv->pcpu[0].curr);
		cpu_access(&x->m, 0, va + 8, ACC_READ, &r); /* the guest kernel */
		ck_assert_uint_eq(r.pa, pa + (round << 12) + 8);
		ck_assert_int_eq(hv_syscall(hv, pv, 0, 1), 0);
		assert_guest_state(x, 0, pv->pcpu[0].curr);
		ck_assert_int_eq(hv_syscall(hv, pv, 1, 0), 0);
		ck_assert_int_eq(hv_syscall(hv, pv, 1, 1), 0);
		/* Context switches: to the other vCPU, across domains, idle. */
		struct hv_vcpu *next = round % 2 ? a : b;
		ck_assert_int_eq(hv_vcpu_run(hv, pv, 0, next), 0);
		assert_guest_state(x, 0, next);
		ck_assert_int_eq(hv_switch_idle(hv, pv, 1), 0);
		ck_assert(!(x->m.cpus[1].cr4 & X86_CR4_PCIDE));
		ck_assert_int_eq(hv_vcpu_run(hv, pv, 1, c), 0);
		quiet(x);
	}
	pvx_free(x);
}
END_TEST

/* Under XPTI the guest's address space maps no hypervisor address, and
 * the guest's accesses to one fault (what XPTI exists to guarantee). */
START_TEST(xpti_hides_the_hypervisor)
{
	struct pvx *x = pvx_new(SC_PCID_XPTI, true);
	struct hv *hv = &x->p.hv;
	struct hv_pv *pv = &x->p.pv;
	ck_assert_int_eq(hv_domain_create(hv, pv, 0, 1, true), 0);
	ck_assert_int_eq(hv_vcpu_run(hv, pv, 0, &pv->dom[0].vcpu[0]), 0);
	struct access_result r;
	ck_assert_int_eq(cpu_access(&x->m, 0, DIRECTMAP_VIRT_START + 0x1000, ACC_READ, &r), VEC_PF);
	/* The entry stub is the one hypervisor page it maps. */
	ck_assert_int_eq(cpu_access(&x->m, 0, XPTI_STUB_VA, ACC_READ, &r), 0);
	quiet(x);
	pvx_free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pv");
	TCase *tc = tcase_create("pv");
	tcase_set_timeout(tc, 120);
	/* 4 policies x XPTI off/on. */
	tcase_add_loop_test(tc, every_policy_runs_clean, 0, 8);
	tcase_add_test(tc, xpti_hides_the_hypervisor);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
