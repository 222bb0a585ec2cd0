/* Seed 003 groundwork: the pcid= policy, CR4 for PV guests, write_cr3_cr4
 * and the PCID-aware flushes, against the SDM rules (hw-facts §1.1), and
 * the two fixes of the seed's review shown necessary by re-introducing
 * them (HV_INJECT_NO_OLD_PCID_FLUSH, HV_INJECT_INVLPG_UNDER_PCIDE). */
#include <stdlib.h>
#include <string.h>

#include "hv/pv/pcid.h"
#include "runner/platform.h"
#include "scenario/scenario.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/tlb/pte.h"
#include "tests/testutil.h"

#define USER_VA 0x400000ull
#define HV_VA (DIRECTMAP_VIRT_START + 64 * (1ull << 30)) /* in the directmap slot */
#define PA_E 0x4000000000ull
#define PA_D 0x4000100000ull
#define PA_HV 0x4000200000ull

struct px {
	struct machine m;
	struct platform p;
	uint64_t faults;
};

static int count_faults(void *ctx, const struct event *ev)
{
	((struct px *)ctx)->faults++;
	(void)ev;
	return 0;
}

static struct px *px_new(unsigned inject, bool xpti)
{
	struct px *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	struct profile prof;
	struct sc_error e;
	ck_assert_int_eq(profile_load_named("skylake", &prof, &e), 0);
	ck_assert_int_eq(machine_init(&x->m, &prof, 1, 16384, 1), 0);
	x->m.self_check = true;
	struct sink s = {.name = "faults", .mask = 1ull << EV_FAULT, .ctx = x,
	                 .event = count_faults};
	ck_assert_int_eq(bus_attach(&x->m.bus, &s), 0);
	struct sc_hv hc = {.enabled = true, .page1gb = true, .superpages = true,
	                   .directmap_bytes = 1ull << 21, .inject = inject};
	char err[256];
	ck_assert_msg(platform_init(&x->p, &x->m, &hc, err, sizeof(err)) == 0, "%s", err);
	x->p.hv.cfg.xpti = xpti;
	return x;
}

static void px_free(struct px *x)
{
	platform_fini(&x->p);
	machine_fini(&x->m);
	free(x);
}

/* A guest root: the hypervisor's L4 entries (shared tables, as a PV
 * guest's L4 carries Xen's slots) plus its own 4 KiB mapping of USER_VA. */
static uint64_t guest_root(struct px *x, uint64_t pa)
{
	uint64_t root = machine_alloc_frame(&x->m, 0);
	uint64_t hv_root = x->p.hv.root_pfn << 12;
	for (unsigned i = 0; i < 512; i++)
		mem_write64(&x->m.mem, (root << 12) + 8 * i, mem_read64(&x->m.mem, hv_root + 8 * i));
	uint64_t table = root << 12;
	for (unsigned l = 4; l > 1; l--) {
		uint64_t t = machine_alloc_frame(&x->m, 0) << 12;
		mem_write64(&x->m.mem, table + 8 * LEVEL_INDEX(USER_VA, l), t | PTE_P | PTE_RW | PTE_US);
		table = t;
	}
	mem_write64(&x->m.mem, table + 8 * LEVEL_INDEX(USER_VA, 1), pa | PTE_P | PTE_RW | PTE_US);
	return root << 12;
}

static uint64_t pcid_cr4(struct px *x)
{
	return hv_guest_real_cr4(x->m.cpus[0].cr4, false, true);
}

static struct access_result acc(struct px *x, uint64_t va, unsigned how)
{
	struct access_result r;
	cpu_access(&x->m, 0, va, how, &r);
	return r;
}

START_TEST(policy_and_cr4)
{
	enum hv_pcid_policy p;
	ck_assert_int_eq(hv_pcid_parse("xpti", &p), 0);
	ck_assert_int_eq(p, HV_PCID_XPTI);
	ck_assert_int_eq(hv_pcid_parse("no-xpti", &p), 0);
	ck_assert_int_eq(p, HV_PCID_NOXPTI);
	ck_assert_int_eq(hv_pcid_parse("on", &p), 0);
	ck_assert_int_eq(p, HV_PCID_ALL);
	ck_assert_int_eq(hv_pcid_parse("0", &p), 0);
	ck_assert_int_eq(p, HV_PCID_OFF);
	ck_assert_int_ne(hv_pcid_parse("maybe", &p), 0);
	struct px *x = px_new(0, false);
	/* pcid_domain_init: xpti -> only XPTI domains, etc. */
	ck_assert(hv_pcid_domain_uses(&x->p.hv, HV_PCID_XPTI, true));
	ck_assert(!hv_pcid_domain_uses(&x->p.hv, HV_PCID_XPTI, false));
	ck_assert(hv_pcid_domain_uses(&x->p.hv, HV_PCID_NOXPTI, false));
	ck_assert(!hv_pcid_domain_uses(&x->p.hv, HV_PCID_NOXPTI, true));
	ck_assert(hv_pcid_domain_uses(&x->p.hv, HV_PCID_ALL, false));
	ck_assert(!hv_pcid_domain_uses(&x->p.hv, HV_PCID_OFF, true));
	/* Only with INVPCID (the reviewer: PCID only where Xen uses INVPCID). */
	x->p.arch.has_invpcid = false;
	ck_assert(!hv_pcid_domain_uses(&x->p.hv, HV_PCID_ALL, true));
	px_free(x);
	/* PGE only without XPTI and PCID; never both bits. */
	for (int xp = 0; xp < 2; xp++)
		for (int pc = 0; pc < 2; pc++) {
			uint64_t cr4 = hv_guest_real_cr4(X86_CR4_PGE | (1ull << 5), xp, pc);
			ck_assert(!((cr4 & X86_CR4_PGE) && (cr4 & X86_CR4_PCIDE)));
			ck_assert_int_eq(!!(cr4 & X86_CR4_PGE), !xp && !pc);
			ck_assert_int_eq(!!(cr4 & X86_CR4_PCIDE), pc);
		}
	ck_assert_uint_eq(hv_pcid_bits(true, false), PCID_PV_PRIV);
	ck_assert_uint_eq(hv_pcid_bits(false, true), PCID_PV_USER | PCID_PV_XPTI);
}
END_TEST

/* Every transition write_cr3_cr4 makes is architecturally valid (no #GP):
 * PGE on -> PCIDE on, also straight into a nonzero PCID (setting PCIDE
 * with CR3[11:0] != 0 raises #GP, the Bareflank triple fault [S3], so the
 * switch enters PCID mode on PCID 0 first), PCID changes, PCIDE -> PGE. */
START_TEST(transitions_never_fault)
{
	struct px *x = px_new(0, false);
	uint64_t e_user = guest_root(x, PA_E), d_kernel = guest_root(x, PA_D);
	uint64_t cr4_pcid = pcid_cr4(x), cr4_pge = hv_guest_real_cr4(x->m.cpus[0].cr4, false, false);
	/* From the idle table with PGE to a PCID'd guest: CR3 is written
	 * before CR4.PCIDE is set, so it must carry PCID 0 (SDM: PCIDE may
	 * only be set with CR3[11:0] = 0). */
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, d_kernel | PCID_PV_PRIV, cr4_pcid), 0);
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, e_user | PCID_PV_USER, cr4_pcid), 0);
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, d_kernel | PCID_PV_PRIV, cr4_pcid), 0);
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, e_user, cr4_pge), 0);
	/* Straight from PGE mode into the guest-user PCID. */
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, e_user | PCID_PV_USER, cr4_pcid), 0);
	ck_assert_uint_eq(x->m.cpus[0].cr3 & X86_CR3_PCID_MASK, PCID_PV_USER);
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, e_user, cr4_pge), 0);
	ck_assert_uint_eq(x->faults, 0);
	ck_assert_int_eq(x->p.hv.error, 0);
	ck_assert(!(x->m.cpus[0].cr4 & X86_CR4_PCIDE));
	ck_assert(x->m.cpus[0].cr4 & X86_CR4_PGE);
	/* Nothing stale anywhere after any of them. */
	ck_assert_uint_eq(env_quiesce(&x->m, 0), 0);
	px_free(x);
}
END_TEST

/* v5's fix: after writing CR3 with another PCID and an unchanged CR4, the
 * OLD PCID is flushed. Without it, the old PCID may keep the previous
 * address space's translations (refilled between the all-non-global flush
 * and the CR3 write), and a later NOFLUSH load of that PCID for another
 * root -- the guest kernel/user toggle -- uses them. */
static uint32_t old_pcid_case(unsigned inject, uint32_t *flags)
{
	struct px *x = px_new(inject, false);
	uint64_t e_user = guest_root(x, PA_E), d_kernel = guest_root(x, PA_D);
	uint64_t d_user = guest_root(x, PA_D);
	uint64_t cr4 = pcid_cr4(x);
	/* Domain E runs in user mode (PCID_PV_USER) and touches USER_VA. */
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, PCID_PV_PRIV | d_kernel, cr4), 0);
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, e_user | PCID_PV_USER, cr4), 0);
	acc(x, USER_VA, ACC_READ | ACC_USER);
	/* Context switch to domain D's kernel (PCID_PV_PRIV)... */
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, d_kernel | PCID_PV_PRIV, cr4), 0);
	/* ...which toggles to user mode: a NOFLUSH load (_toggle_guest_pt). */
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, d_user | PCID_PV_USER | X86_CR3_NOFLUSH), 0);
	struct access_result r = acc(x, USER_VA, ACC_READ | ACC_USER);
	*flags = r.flags;
	ck_assert_uint_eq(r.pa, PA_D); /* the concrete TLB was flushed either way */
	uint32_t stale = env_quiesce(&x->m, 0);
	px_free(x);
	return stale;
}

START_TEST(old_pcid_flush)
{
	uint32_t flags;
	ck_assert_uint_eq(old_pcid_case(0, &flags), 0);
	ck_assert_uint_eq(flags & (ACCF_STALE | ACCF_MAY_STALE), 0);
	/* The mutation: the envelope reports domain E's translation usable
	 * under D's user PCID (an alias), and the access may use it. */
	ck_assert_uint_gt(old_pcid_case(HV_INJECT_NO_OLD_PCID_FLUSH, &flags), 0);
	ck_assert(flags & ACCF_MAY_STALE);
}
END_TEST

/* The single-address flush under PCIDE names every PCID by INVPCID; an
 * INVLPG would reach only the current one (SDM §4.10.4.1). A hypervisor
 * address cached under the guest-user PCID, then remapped while the CPU
 * runs under the kernel PCID: */
static uint32_t invlpg_case(unsigned inject, uint32_t *user_flags)
{
	struct px *x = px_new(inject, false);
	uint64_t e_user = guest_root(x, PA_E), e_kernel = guest_root(x, PA_E);
	uint64_t cr4 = pcid_cr4(x);
	ck_assert_int_eq(hv_map_pages(&x->p.hv, 0, HV_VA, PA_HV >> 12, 1, 0x8000000000000163ull), 0);
	ck_assert_int_eq(hv_write_cr3_cr4(&x->p.hv, 0, e_user | PCID_PV_USER, cr4), 0);
	ck_assert_uint_eq(acc(x, HV_VA, ACC_READ).pa, PA_HV); /* cached under USER */
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, e_kernel | PCID_PV_PRIV | X86_CR3_NOFLUSH), 0);
	ck_assert_int_eq(hv_map_pages(&x->p.hv, 0, HV_VA, (PA_HV >> 12) + 1, 1,
	                              0x8000000000000163ull), 0);
	/* Back to user mode without a flush: what does USER still hold? */
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, e_user | PCID_PV_USER | X86_CR3_NOFLUSH), 0);
	struct access_result r = acc(x, HV_VA, ACC_READ);
	*user_flags = r.flags;
	uint32_t stale = env_quiesce(&x->m, 0);
	px_free(x);
	return stale;
}

START_TEST(single_address_flush_reaches_every_pcid)
{
	uint32_t flags;
	ck_assert_uint_eq(invlpg_case(0, &flags), 0);
	ck_assert_uint_eq(flags & (ACCF_STALE | ACCF_MAY_STALE), 0);
	ck_assert_uint_gt(invlpg_case(HV_INJECT_INVLPG_UNDER_PCIDE, &flags), 0);
	ck_assert(flags & ACCF_STALE); /* the concrete TLB served the old frame */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pcid");
	TCase *tc = tcase_create("pcid");
	tcase_add_test(tc, policy_and_cr4);
	tcase_add_test(tc, transitions_never_fault);
	tcase_add_test(tc, old_pcid_flush);
	tcase_add_test(tc, single_address_flush_reaches_every_pcid);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
