/* Scenario and profile loading: every field of a full scenario, the
 * embedded profiles, machine.costs overrides, and a table of malformed
 * inputs whose messages must point at the right line and column. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/profile_load.h"
#include "scenario/scenario.h"
#include "scenario/yaml_node.h"
#include "sim/embedded.h"
#include "sim/event.h"
#include "sim/tlb/pte.h"
#include "tests/testutil.h"

static int load(const char *text, struct scenario *s, struct sc_error *e)
{
	return scenario_load_string("t.yaml", text, strlen(text), s, e);
}

/* Line numbers are noted on the right; ops[0] is on line 12. */
static const char full[] =
	"hvsim: 1\n"                                                   /* 1 */
	"name: full\n"                                                 /* 2 */
	"description: every op once\n"                                 /* 3 */
	"seed: 0x2a\n"                                                 /* 4 */
	"negative: stale-access\n"                                     /* 5 */
	"machine:\n"                                                   /* 6 */
	"  profile: zen3\n"                                            /* 7 */
	"  cpus: 4\n"                                                  /* 8 */
	"  memory_frames: 4096\n"                                      /* 9 */
	"  costs: {walk_base: 10, invlpg: 400}\n"                      /* 10 */
	"ops:\n"                                                       /* 11 */
	"  - {op: pt_new, name: A}\n"                                  /* 12 */
	"  - {op: map, root: A, va: 0x400000, pa: 0x200000, flags: [P, RW, PAT]}\n"
	"  - {op: map, cpu: 1, root: A, va: 0x40000000, pa: 0x80000000, size: 1g, "
	"flags: [P, US, G, NX]}\n"                                     /* 14 */
	"  - {op: map, root: A, va: 0x600000, pa: 0x600000, size: 2m, "
	"flags: 0x8000_0000_0000_1003}\n"                              /* 15 */
	"  - {op: unmap, root: A, va: 0xffff800000000000}\n"           /* 16 */
	"  - {op: write_pte, root: A, va: 0x400000, level: 1, value: 0x1234_5003}\n"
	"  - {op: unlink, root: A, va: 0x400000, level: 2, free: true}\n"
	"  - {op: cr0, wp: true}\n"                                    /* 19 */
	"  - {op: cr3, root: A, pcid: 7, noflush: true}\n"             /* 20 */
	"  - {op: cr3, value: 0x1000}\n"                               /* 21 */
	"  - {op: cr4, pcide: true}\n"                                 /* 22 */
	"  - {op: invlpg, va: 0x800000000000}\n"                       /* 23 */
	"  - {op: invpcid, type: 7, pcid: 0xffffffff}\n"               /* 24 */
	"  - {op: clflush, pa: 0x1000}\n"                              /* 25 */
	"  - {op: wbinvd}\n"                                           /* 26 */
	"  - {op: rdtsc}\n"                                            /* 27 */
	"  - op: access\n"                                             /* 28 */
	"    cpu: 2\n"
	"    va: 0x400123\n"
	"    kind: write\n"
	"    user: true\n"
	"    expect: {fault: pf, pfec: [P, W, U], path: walk, pa: 0x200123}\n"
	"  - op: ipi\n"                                                /* 34 */
	"    cpu: 3\n"
	"    to: [0, 2]\n"
	"    run:\n"
	"      - {op: invlpg, va: 0x400000}\n"                         /* 38 */
	"      - {op: access, va: 0x400000, kind: exec, expect: {fault: none, pfec: 0x11}}\n"
	"  - {op: delay, cycles: 1_000}\n"                             /* 40 */
	"  - {op: barrier}\n"
	"  - {op: quiesce, cpu: 1}\n"
	"  - {op: free, pa: 0x3000}\n";                               /* 43 */

START_TEST(full_scenario)
{
	struct scenario s;
	struct sc_error e;
	ck_assert_msg(load(full, &s, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(s.path, "t.yaml");
	ck_assert_str_eq(s.name, "full");
	ck_assert_str_eq(s.description, "every op once");
	ck_assert_str_eq(s.negative, "stale-access");
	ck_assert(s.has_seed);
	ck_assert_uint_eq(s.seed, 42);
	ck_assert_uint_eq(s.version, 1);
	ck_assert_str_eq(s.profile_name, "zen3");
	ck_assert_str_eq(s.profile.name, "zen3");
	ck_assert_uint_eq(s.ncpus, 4);
	ck_assert_uint_eq(s.mem_frames, 4096);
	ck_assert_str_eq(s.overrides, "invlpg=400,walk_base=10");
	ck_assert_uint_eq(s.profile.invlpg, 400);
	ck_assert_uint_eq(s.profile.walk_base, 10);
	ck_assert_uint_eq(s.nroots, 1);
	ck_assert_str_eq(s.roots[0], "A");
	ck_assert_uint_eq(s.nops, 22);

	const struct op *o = s.ops;
	ck_assert_int_eq(o[0].kind, OP_PT_NEW);
	ck_assert(o[0].has_root);
	ck_assert_uint_eq(o[0].root, 0);
	ck_assert_uint_eq(o[0].line, 12);
	ck_assert_uint_eq(o[0].col, 5);
	ck_assert_int_eq(o[0].pge, -1);
	ck_assert_int_eq(o[0].wp, -1);

	/* 4k map: PAT kept at the large-page position (bit 12); the runner
	 * moves it to bit 7 for a 4k leaf. */
	ck_assert_int_eq(o[1].kind, OP_MAP);
	ck_assert_int_eq(o[1].cpu, 0);
	ck_assert_uint_eq(o[1].va, 0x400000);
	ck_assert_uint_eq(o[1].pa, 0x200000);
	ck_assert_uint_eq(o[1].size_log2, 12);
	ck_assert_uint_eq(o[1].flags, PTE_P | PTE_RW | PTE_PAT_LARGE);
	ck_assert_uint_eq(o[1].line, 13);

	ck_assert_int_eq(o[2].cpu, 1);
	ck_assert_uint_eq(o[2].size_log2, 30);
	ck_assert_uint_eq(o[2].flags, PTE_P | PTE_US | PTE_G | PTE_NX);
	ck_assert_uint_eq(o[3].size_log2, 21);
	ck_assert_uint_eq(o[3].flags, PTE_NX | PTE_PAT_LARGE | PTE_RW | PTE_P);

	ck_assert_int_eq(o[4].kind, OP_UNMAP);
	ck_assert_uint_eq(o[4].va, 0xffff800000000000ull);
	ck_assert_int_eq(o[5].kind, OP_WRITE_PTE);
	ck_assert_uint_eq(o[5].level, 1);
	ck_assert(o[5].has_value);
	ck_assert_uint_eq(o[5].value, 0x12345003);
	ck_assert_int_eq(o[6].kind, OP_UNLINK);
	ck_assert_uint_eq(o[6].level, 2);
	ck_assert(o[6].free_tables);

	ck_assert_int_eq(o[7].kind, OP_CR0);
	ck_assert_int_eq(o[7].wp, 1);
	ck_assert_int_eq(o[8].kind, OP_CR3);
	ck_assert(o[8].has_root);
	ck_assert(!o[8].has_value);
	ck_assert_uint_eq(o[8].pcid, 7);
	ck_assert(o[8].noflush);
	ck_assert(!o[9].has_root);
	ck_assert(o[9].has_value);
	ck_assert_uint_eq(o[9].value, 0x1000);
	ck_assert_int_eq(o[10].kind, OP_CR4);
	ck_assert_int_eq(o[10].pcide, 1);
	ck_assert_int_eq(o[10].pge, -1);

	ck_assert_int_eq(o[11].kind, OP_INVLPG);
	ck_assert_uint_eq(o[11].va, 0x800000000000ull); /* non-canonical: ok */
	ck_assert_int_eq(o[12].kind, OP_INVPCID);
	ck_assert_uint_eq(o[12].type, 7);
	ck_assert_uint_eq(o[12].pcid, 0xffffffffu);
	ck_assert_uint_eq(o[12].va, 0);
	ck_assert_int_eq(o[13].kind, OP_CLFLUSH);
	ck_assert_uint_eq(o[13].pa, 0x1000);
	ck_assert_int_eq(o[14].kind, OP_WBINVD);
	ck_assert_int_eq(o[15].kind, OP_RDTSC);

	ck_assert_int_eq(o[16].kind, OP_ACCESS);
	ck_assert_int_eq(o[16].cpu, 2);
	ck_assert_uint_eq(o[16].acc, ACC_WRITE | ACC_USER);
	ck_assert_uint_eq(o[16].line, 28);
	ck_assert_uint_eq(o[16].col, 5);
	ck_assert_uint_eq(o[16].expect.has, EXP_FAULT | EXP_PFEC | EXP_PATH | EXP_PA);
	ck_assert_int_eq(o[16].expect.fault, SCF_PF);
	ck_assert_uint_eq(o[16].expect.pfec, PFEC_P | PFEC_W | PFEC_U);
	ck_assert_int_eq(o[16].expect.path, PATH_WALK);
	ck_assert_uint_eq(o[16].expect.pa, 0x200123);

	const struct op *ipi = &o[17];
	ck_assert_int_eq(ipi->kind, OP_IPI);
	ck_assert_int_eq(ipi->cpu, 3);
	ck_assert_uint_eq(ipi->to[0], (1u << 0) | (1u << 2));
	ck_assert_uint_eq(ipi->to[1] | ipi->to[2] | ipi->to[3], 0);
	ck_assert_uint_eq(ipi->nsub, 2);
	ck_assert_int_eq(ipi->sub[0].kind, OP_INVLPG);
	ck_assert_int_eq(ipi->sub[0].cpu, -1);
	ck_assert_uint_eq(ipi->sub[0].line, 38);
	ck_assert_uint_eq(ipi->sub[0].col, 9);
	ck_assert_int_eq(ipi->sub[1].kind, OP_ACCESS);
	ck_assert_uint_eq(ipi->sub[1].acc, ACC_EXEC);
	ck_assert_uint_eq(ipi->sub[1].expect.has, EXP_FAULT | EXP_PFEC);
	ck_assert_int_eq(ipi->sub[1].expect.fault, SCF_NONE);
	ck_assert_uint_eq(ipi->sub[1].expect.pfec, PFEC_P | PFEC_I);

	ck_assert_int_eq(o[18].kind, OP_DELAY);
	ck_assert_uint_eq(o[18].cycles, 1000);
	ck_assert_int_eq(o[19].kind, OP_BARRIER);
	ck_assert_int_eq(o[20].kind, OP_QUIESCE);
	ck_assert_int_eq(o[20].cpu, 1);
	ck_assert_int_eq(o[21].kind, OP_FREE);
	ck_assert_uint_eq(o[21].pa, 0x3000);
	ck_assert_uint_eq(o[21].line, 43);
	scenario_free(&s);
	ck_assert_ptr_null(s.ops);
	scenario_free(&s); /* idempotent */
}
END_TEST

START_TEST(defaults)
{
	struct scenario s;
	struct sc_error e;
	ck_assert_msg(load("hvsim: 1\nname: d\nops:\n  - {op: pt_new, name: R}\n"
	                   "  - {op: map, root: R, va: 0, pa: 0}\n"
	                   "  - {op: access, va: 0}\n  - {op: cr3, root: R}\n",
	                   &s, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(s.profile_name, "skylake");
	ck_assert_str_eq(s.profile.name, "skylake");
	ck_assert_uint_eq(s.ncpus, 1);
	ck_assert_uint_eq(s.mem_frames, 1u << 20);
	ck_assert(!s.has_seed);
	ck_assert_ptr_null(s.negative);
	ck_assert_str_eq(s.description, "");
	ck_assert_str_eq(s.overrides, "");
	ck_assert_uint_eq(s.ops[1].size_log2, 12);
	ck_assert_uint_eq(s.ops[1].flags, PTE_P | PTE_RW);
	ck_assert_uint_eq(s.ops[2].acc, ACC_READ);
	ck_assert_uint_eq(s.ops[2].expect.has, 0);
	ck_assert_uint_eq(s.ops[3].pcid, 0);
	ck_assert(!s.ops[3].noflush);
	scenario_free(&s);

	/* An empty op list and empty optional sections are fine. */
	ck_assert_msg(load("hvsim: 1\nname: e\nmachine:\nops: []\n", &s, &e) == 0,
	              "%s", e.msg);
	ck_assert_uint_eq(s.nops, 0);
	scenario_free(&s);
}
END_TEST

/* The hv: section after the ops that need it (it is read first). */
static const char hv_full[] =
	"hvsim: 1\n"                                                   /* 1 */
	"name: hv\n"                                                   /* 2 */
	"machine: {cpus: 2}\n"                                         /* 3 */
	"ops:\n"                                                       /* 4 */
	"  - {op: hv_map, va: 0xffff820000000000, pa: 0x200000, count: 1024, "
	"flags: [P, RW, PAT, PCD], small: true}\n"                     /* 5 */
	"  - {op: hv_map, cpu: 1, va: 0x7ffffffff000, pa: 0xffffffffff000, "
	"count: 1}\n"                                                  /* 6 */
	"  - {op: hv_modify, va: 0xffff820000000000, count: 512, "
	"flags: 0x8000_0000_0000_0181}\n"                              /* 7 */
	"  - {op: hv_destroy, va: 0xfffffffffffff000, count: 1}\n"     /* 8 */
	"  - {op: hv_destroy, va: 0xffff830000000000, count: 0x1000_0000}\n"
	"hv:\n"                                                        /* 10 */
	"  page1gb: false\n"
	"  superpages: false\n"
	"  flush_policy: ranged\n"
	"  flush_ceiling: 1048576\n"
	"  directmap: 0x500_0000_0000\n"
	"  inject: [skip_one_page, merge_flush_past]\n";

START_TEST(hv_section_and_ops)
{
	struct scenario s;
	struct sc_error e;
	ck_assert_msg(load(hv_full, &s, &e) == 0, "%s", e.msg);
	ck_assert(s.hv.enabled);
	ck_assert(!s.hv.page1gb);
	ck_assert(!s.hv.superpages);
	ck_assert_int_eq(s.hv.flush_policy, SC_FLUSH_RANGED);
	ck_assert_uint_eq(s.hv.flush_ceiling, 1u << 20);
	ck_assert_uint_eq(s.hv.directmap_bytes, 5ull << 40); /* the maximum */
	ck_assert_uint_eq(s.hv.inject, SC_INJECT_MERGE_FLUSH_PAST | SC_INJECT_SKIP_ONE_PAGE);
	ck_assert_uint_eq(s.nops, 5);

	const struct op *o = s.ops;
	/* PAT of an hv op is the 4k PAT bit (7), not PTE_PAT_LARGE. */
	ck_assert_int_eq(o[0].kind, OP_HV_MAP);
	ck_assert_int_eq(o[0].cpu, 0);
	ck_assert_uint_eq(o[0].va, 0xffff820000000000ull);
	ck_assert_uint_eq(o[0].pa, 0x200000);
	ck_assert_uint_eq(o[0].count, 1024);
	ck_assert_uint_eq(o[0].flags, PTE_P | PTE_RW | PTE_PAT4K | PTE_PCD);
	ck_assert(o[0].small);
	ck_assert_uint_eq(o[0].line, 5);
	ck_assert_uint_eq(o[0].col, 5);

	/* Defaults: PAGE_HYPERVISOR, not small; the last page of the lower
	 * half and the last frame below 2^52 are fine. */
	ck_assert_int_eq(o[1].kind, OP_HV_MAP);
	ck_assert_int_eq(o[1].cpu, 1);
	ck_assert_uint_eq(o[1].va, 0x7ffffffff000ull);
	ck_assert_uint_eq(o[1].pa, 0xffffffffff000ull);
	ck_assert_uint_eq(o[1].count, 1);
	ck_assert_uint_eq(o[1].flags, PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX | PTE_G);
	ck_assert(!o[1].small);

	ck_assert_int_eq(o[2].kind, OP_HV_MODIFY);
	ck_assert_uint_eq(o[2].va, 0xffff820000000000ull);
	ck_assert_uint_eq(o[2].count, 512);
	ck_assert_uint_eq(o[2].flags, PTE_NX | PTE_G | PTE_PAT4K | PTE_P);

	ck_assert_int_eq(o[3].kind, OP_HV_DESTROY);
	ck_assert_uint_eq(o[3].va, 0xfffffffffffff000ull); /* the very last page */
	ck_assert_uint_eq(o[3].count, 1);
	ck_assert_int_eq(o[4].kind, OP_HV_DESTROY);
	ck_assert_uint_eq(o[4].count, 1u << 28);
	ck_assert_uint_eq(o[4].line, 9);
	scenario_free(&s);
}
END_TEST

START_TEST(hv_defaults)
{
	static const char *const texts[] = {
		"hvsim: 1\nname: h\nhv:\nops: []\n",
		"hvsim: 1\nname: h\nhv: {}\nops: []\n",
		"hvsim: 1\nname: h\nhv: ~\nops:\n  - {op: hv_destroy, va: 0, count: 1}\n",
	};
	struct scenario s;
	struct sc_error e;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_msg(load(texts[i], &s, &e) == 0, "%zu: %s", i, e.msg);
		ck_assert(s.hv.enabled);
		ck_assert(s.hv.page1gb);
		ck_assert(s.hv.superpages);
		ck_assert_int_eq(s.hv.flush_policy, SC_FLUSH_XEN);
		ck_assert_uint_eq(s.hv.flush_ceiling, 33);
		ck_assert_uint_eq(s.hv.directmap_bytes, 0);
		ck_assert_uint_eq(s.hv.inject, 0);
		ck_assert_int_eq(s.hv.pcid, SC_PCID_XPTI);
		ck_assert(!s.hv.xpti);
		scenario_free(&s);
	}
	/* No hv: section: disabled, all zero. */
	ck_assert_msg(load("hvsim: 1\nname: h\nops: []\n", &s, &e) == 0, "%s", e.msg);
	ck_assert(!s.hv.enabled);
	ck_assert_uint_eq(s.hv.flush_ceiling, 0);
	scenario_free(&s);
	/* Every field alone, and an empty inject list. */
	ck_assert_msg(load("hvsim: 1\nname: h\nhv: {flush_policy: xen, inject: [], "
	                   "directmap: 0x20_0000, page1gb: true}\nops: []\n", &s, &e) == 0,
	              "%s", e.msg);
	ck_assert_int_eq(s.hv.flush_policy, SC_FLUSH_XEN);
	ck_assert_uint_eq(s.hv.inject, 0);
	ck_assert_uint_eq(s.hv.directmap_bytes, 2u << 20);
	ck_assert(s.hv.superpages);
	scenario_free(&s);
}
END_TEST

/* PV domains: the hv: section after the ops again. */
static const char pv_full[] =
	"hvsim: 1\n"                                                   /* 1 */
	"name: pv\n"                                                   /* 2 */
	"machine: {cpus: 2}\n"                                         /* 3 */
	"ops:\n"                                                       /* 4 */
	"  - {op: domain, vcpus: 2}\n"                                 /* 5 */
	"  - {op: domain, cpu: 1, vcpus: 8, xpti: true}\n"             /* 6 */
	"  - {op: domain, vcpus: 1, xpti: false}\n"                    /* 7 */
	"  - {op: vcpu_run, domain: 1, vcpu: 7}\n"                     /* 8 */
	"  - {op: vcpu_run, cpu: 1, domain: 0, vcpu: 1}\n"             /* 9 */
	"  - {op: syscall, cpu: 1}\n"                                  /* 10 */
	"  - {op: guest_map, va: 0x400000, pa: 0x200000}\n"            /* 11 */
	"  - {op: guest_map, cpu: 1, va: 0xffff880000000000, pa: 0xffffffffff000, "
	"user: true, flags: [P, US, PAT, NX]}\n"                       /* 12 */
	"  - {op: guest_map, va: 0x7ffffffff000, pa: 0x1000, user: true}\n"
	"  - {op: guest_map, va: 0xfffffffffffff000, pa: 0, user: false, "
	"flags: 0x8000_0000_0000_0081}\n"                              /* 14 */
	"  - {op: idle}\n"                                             /* 15 */
	"  - {op: idle, cpu: 1, expect: {fault: none}}\n"              /* 16 */
	"hv:\n"                                                        /* 17 */
	"  pcid: no-xpti\n"
	"  xpti: true\n";

START_TEST(pv_ops)
{
	struct scenario s;
	struct sc_error e;
	ck_assert_msg(load(pv_full, &s, &e) == 0, "%s", e.msg);

	ck_assert(s.hv.enabled);
	ck_assert_int_eq(s.hv.pcid, SC_PCID_NOXPTI);
	ck_assert(s.hv.xpti);
	ck_assert_uint_eq(s.nops, 12);

	const struct op *o = s.ops;
	ck_assert_int_eq(o[0].kind, OP_DOMAIN);
	ck_assert_uint_eq(o[0].domain, 0);
	ck_assert_uint_eq(o[0].vcpu, 2);
	ck_assert_int_eq(o[0].xpti, -1);
	ck_assert_int_eq(o[0].cpu, 0);
	ck_assert_uint_eq(o[0].line, 5);
	ck_assert_uint_eq(o[0].col, 5);
	ck_assert_int_eq(o[1].kind, OP_DOMAIN);
	ck_assert_uint_eq(o[1].domain, 1);
	ck_assert_uint_eq(o[1].vcpu, 8);
	ck_assert_int_eq(o[1].xpti, 1);
	ck_assert_int_eq(o[1].cpu, 1);
	ck_assert_uint_eq(o[2].domain, 2);
	ck_assert_uint_eq(o[2].vcpu, 1);
	ck_assert_int_eq(o[2].xpti, 0);

	ck_assert_int_eq(o[3].kind, OP_VCPU_RUN);
	ck_assert_uint_eq(o[3].domain, 1);
	ck_assert_uint_eq(o[3].vcpu, 7);
	ck_assert_int_eq(o[3].cpu, 0);
	ck_assert_int_eq(o[4].kind, OP_VCPU_RUN);
	ck_assert_uint_eq(o[4].domain, 0);
	ck_assert_uint_eq(o[4].vcpu, 1);
	ck_assert_int_eq(o[4].cpu, 1);
	ck_assert_int_eq(o[5].kind, OP_SYSCALL);
	ck_assert_int_eq(o[5].cpu, 1);
	ck_assert_int_eq(o[5].xpti, -1);

	/* guest_map defaults: the kernel table, P|RW|A|D. */
	ck_assert_int_eq(o[6].kind, OP_GUEST_MAP);
	ck_assert_uint_eq(o[6].va, 0x400000);
	ck_assert_uint_eq(o[6].pa, 0x200000);
	ck_assert(!o[6].user);
	ck_assert_uint_eq(o[6].flags, PTE_P | PTE_RW | PTE_A | PTE_D);
	ck_assert_uint_eq(o[6].line, 11);
	/* The first page above the hypervisor's slots; PAT at bit 7. */
	ck_assert_int_eq(o[7].cpu, 1);
	ck_assert_uint_eq(o[7].va, 0xffff880000000000ull);
	ck_assert_uint_eq(o[7].pa, 0xffffffffff000ull);
	ck_assert(o[7].user);
	ck_assert_uint_eq(o[7].flags, PTE_P | PTE_US | PTE_PAT4K | PTE_NX);
	/* The user table's default adds US. */
	ck_assert_uint_eq(o[8].va, 0x7ffffffff000ull);
	ck_assert(o[8].user);
	ck_assert_uint_eq(o[8].flags, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
	ck_assert_uint_eq(o[9].va, 0xfffffffffffff000ull);
	ck_assert(!o[9].user);
	ck_assert_uint_eq(o[9].flags, PTE_NX | PTE_PAT4K | PTE_P);

	ck_assert_int_eq(o[10].kind, OP_IDLE);
	ck_assert_int_eq(o[10].cpu, 0);
	ck_assert_int_eq(o[11].kind, OP_IDLE);
	ck_assert_int_eq(o[11].cpu, 1);
	ck_assert_uint_eq(o[11].expect.has, EXP_FAULT);
	ck_assert_uint_eq(o[11].line, 16);
	ck_assert_uint_eq(o[11].col, 5);
	scenario_free(&s);
}
END_TEST

#define DOM1 "  - {op: domain, vcpus: 1}\n"
#define DOM4 DOM1 DOM1 DOM1 DOM1
#define DOM16 DOM4 DOM4 DOM4 DOM4

START_TEST(pv_defaults)
{
	static const struct {
		const char *v;
		int pcid;
	} pcids[] = {
		{"off", SC_PCID_OFF},   {"on", SC_PCID_ALL},
		{"xpti", SC_PCID_XPTI}, {"no-xpti", SC_PCID_NOXPTI},
		{"false", SC_PCID_OFF}, {"true", SC_PCID_ALL},
		{"\"on\"", SC_PCID_ALL},
	};
	struct scenario s;
	struct sc_error e;
	char t[256];
	for (size_t i = 0; i < sizeof(pcids) / sizeof(pcids[0]); i++) {
		snprintf(t, sizeof(t), "hvsim: 1\nname: p\nhv: {pcid: %s}\nops: []\n",
		         pcids[i].v);
		ck_assert_msg(load(t, &s, &e) == 0, "%s: %s", pcids[i].v, e.msg);
		ck_assert_int_eq(s.hv.pcid, pcids[i].pcid);
		ck_assert(!s.hv.xpti);
		ck_assert(s.hv.page1gb);
		scenario_free(&s);
	}
	ck_assert_msg(load("hvsim: 1\nname: p\nhv: {xpti: false}\nops: []\n", &s,
	                   &e) == 0, "%s", e.msg);
	ck_assert_int_eq(s.hv.pcid, SC_PCID_XPTI);
	ck_assert(!s.hv.xpti);
	scenario_free(&s);

	/* No hv: section: pcid is zero like everything else there; ops that
	 * are not pv ops get xpti -1 too. */
	ck_assert_msg(load("hvsim: 1\nname: p\nops:\n  - {op: rdtsc}\n", &s, &e) == 0,
	              "%s", e.msg);
	ck_assert(!s.hv.enabled);
	ck_assert_int_eq(s.ops[0].xpti, -1);
	scenario_free(&s);

	/* Sixteen domains (the most), ids in file order; a vCPU run of the
	 * last one. */
	ck_assert_msg(load("hvsim: 1\nname: p\nhv:\nops:\n" DOM16
	                   "  - {op: vcpu_run, domain: 15, vcpu: 0}\n", &s, &e) == 0,
	              "%s", e.msg);
	ck_assert_uint_eq(s.nops, 17);
	for (uint32_t i = 0; i < 16; i++) {
		ck_assert_int_eq(s.ops[i].kind, OP_DOMAIN);
		ck_assert_uint_eq(s.ops[i].domain, i);
		ck_assert_uint_eq(s.ops[i].vcpu, 1);
		ck_assert_int_eq(s.ops[i].xpti, -1);
	}
	ck_assert_uint_eq(s.ops[16].domain, 15);
	scenario_free(&s);
}
END_TEST

START_TEST(embedded_profiles)
{
	int n = 0;
	for (const struct hvsim_embedded *p = hvsim_profiles; p->name; p++, n++) {
		struct profile prof;
		struct sc_error e;
		ck_assert_msg(profile_load_named(p->name, &prof, &e) == 0, "%s", e.msg);
		ck_assert_str_eq(prof.name, p->name);
		ck_assert_ptr_null(profile_validate(&prof));
		ck_assert_uint_gt(prof.clock_mhz, 0);
		ck_assert_uint_gt(prof.l1d_4k_entries, 0);
	}
	ck_assert_int_ge(n, 2);
}
END_TEST

START_TEST(unknown_profile_named)
{
	struct profile prof;
	struct sc_error e;
	ck_assert_int_eq(profile_load_named("k8", &prof, &e), -1);
	ck_assert_msg(strncmp(e.msg, "profile k8: ", 12) == 0, "%s", e.msg);
	ck_assert_ptr_nonnull(strstr(e.msg, "skylake"));
}
END_TEST

/* Copies the skylake text with one edit: the first occurrence of from
 * replaced by to. */
static char *skylake_with(const char *from, const char *to)
{
	const char *t = NULL;
	for (const struct hvsim_embedded *p = hvsim_profiles; p->name; p++)
		if (strcmp(p->name, "skylake") == 0)
			t = p->text;
	ck_assert_ptr_nonnull(t);
	const char *at = strstr(t, from);
	ck_assert_ptr_nonnull(at);
	size_t n = strlen(t) - strlen(from) + strlen(to) + 1;
	char *r = malloc(n);
	ck_assert_ptr_nonnull(r);
	snprintf(r, n, "%.*s%s%s", (int)(at - t), t, to, at + strlen(from));
	return r;
}

static void profile_fails(const char *from, const char *to, const char *want)
{
	struct profile prof;
	struct sc_error e;
	char *text = skylake_with(from, to);
	int r = profile_load_text("skylake", text, strlen(text), &prof, &e);
	free(text);
	ck_assert_int_eq(r, -1);
	ck_assert_msg(strncmp(e.msg, "profile skylake:", 16) == 0, "%s", e.msg);
	ck_assert_msg(strstr(e.msg, want), "'%s' lacks '%s'", e.msg, want);
}

START_TEST(broken_profiles)
{
	profile_fails("  rdtscp:", "  xrdtscp:", "unknown profile field 'xrdtscp'");
	profile_fails("  rdtscp:", "  rdtscp_old:", "rdtscp_old");
	profile_fails("  l2_ways:         {value: 12,   source: \"[S22]\"}\n", "",
	              "missing field 'l2_ways'");
	profile_fails("  clflush:         {value: 100,  source: \"est\"}\n",
	              "  clflush:         {value: 100,  source: \"est\"}\n"
	              "  clflush:         {value: 100,  source: \"est\"}\n",
	              "duplicate field 'clflush'");
	profile_fails("  clflush:         {value: 100,  source: \"est\"}\n",
	              "  clflush:         {value: 100}\n", "'source'");
	profile_fails("  clflush:         {value: 100,  source: \"est\"}\n",
	              "  clflush:         {value: 100, source: \"\"}\n",
	              "costs.clflush.source: must not be empty");
	profile_fails("geometry:\n", "geometry:\n  clflush: {value: 1, source: x}\n",
	              "'clflush' is a costs field");
	profile_fails("{value: 12,   source: \"[S22]\"}",
	              "{value: 7,   source: \"[S22]\"}", "l2_entries/l2_ways");
	profile_fails("name: skylake", "name: zen3", "own name");
	profile_fails("hvsim_profile: 1", "hvsim_profile: 2", "version 2");
}
END_TEST

START_TEST(overrides)
{
	struct scenario s;
	struct sc_error e;
	ck_assert_msg(load("hvsim: 1\nname: o\nmachine:\n  costs:\n"
	                   "    l2_ways: 16\n    l2_entries: 2048\n    rdtsc: 0x10\n"
	                   "ops: []\n", &s, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(s.overrides, "l2_entries=2048,l2_ways=16,rdtsc=16");
	ck_assert_uint_eq(s.profile.l2_entries, 2048);
	ck_assert_uint_eq(s.profile.l2_ways, 16);
	ck_assert_uint_eq(s.profile.rdtsc, 16);
	ck_assert_uint_eq(s.profile.invlpg, 300); /* untouched skylake figure */
	scenario_free(&s);
}
END_TEST

struct bad {
	const char *text;
	const char *pos;  /* expected "t.yaml:LINE:COL:" prefix */
	const char *want; /* substring naming the field / the problem */
};

#define HDR "hvsim: 1\nname: t\n"
#define OPS HDR "ops:\n"           /* ops[0] is on line 4, its '{' at col 5 */
#define ROOT OPS "  - {op: pt_new, name: A}\n" /* ops[1] on line 5 */
#define HVOPS HDR "hv: {}\nops:\n"  /* ops[0] on line 5, its '{' at col 5 */
#define TOPS HDR "hv: {}\ntime: {}\nops:\n" /* ops[0] on line 6 */
/* Two domains (0 and 1, with 1 and 2 vCPUs); ops[2] on line 8. */
#define RINGOPS HDR "hv: {}\nrings: {}\nmachine: {cpus: 2}\nops:\n  - {op: domain, vcpus: 1}\n  - {op: domain, vcpus: 2}\n"

static const struct bad bads[] = {
	/* YAML syntax */
	{"a: b: c\n", "t.yaml:1:5:", "YAML syntax error"},
	{HDR "ops: [\n", "t.yaml:4:1:", "YAML syntax error"},
	{HDR "ops: []\nx: *nope\n", "t.yaml:4:4:", "undefined alias"},
	{HDR "description: \xff\nops: []\n", "t.yaml:3:14:", "UTF-8"},
	{HDR "ops: []\n---\nname: u\n", "t.yaml:5:1:", "one YAML document"},
	{"", "t.yaml:1:1:", "empty document"},
	{"# only a comment\n", "t.yaml:1:1:", "empty document"},
	{"hello\n", "t.yaml:1:1:", "top level must be a mapping"},
	{"- 1\n- 2\n", "t.yaml:1:1:", "top level must be a mapping"},
	/* top level */
	{"hvsim: 2\nname: t\nops: []\n", "t.yaml:1:8:", "hvsim: unsupported format version 2"},
	{"hvsim: one\nname: t\nops: []\n", "t.yaml:1:8:", "hvsim: expected an unsigned integer"},
	{"name: t\nops: []\n", "t.yaml:1:1:", "'hvsim'"},
	{"hvsim: 1\nops: []\n", "t.yaml:1:1:", "'name'"},
	{HDR, "t.yaml:1:1:", "'ops'"},
	{HDR "opz: []\n", "t.yaml:3:1:", "unknown field 'opz' at top level"},
	{HDR "name: u\nops: []\n", "t.yaml:3:1:", "duplicate field 'name'"},
	{"hvsim: 1\nname: {a: 1}\nops: []\n", "t.yaml:2:7:", "name: expected a string"},
	{"hvsim: 1\nname: \"\"\nops: []\n", "t.yaml:2:7:", "name: must not be empty"},
	{HDR "ops: {}\n", "t.yaml:3:6:", "ops: expected a sequence"},
	/* integers */
	{HDR "seed: -1\nops: []\n", "t.yaml:3:7:", "seed: expected an unsigned integer, got '-1' (negative"},
	{HDR "seed: 18446744073709551616\nops: []\n", "t.yaml:3:7:", "seed: expected an unsigned integer, got '18446744073709551616' (does not fit in 64 bits)"},
	{HDR "seed: 0x1_0000_0000_0000_0000\nops: []\n", "t.yaml:3:7:", "does not fit in 64 bits"},
	{HDR "seed: 1.5\nops: []\n", "t.yaml:3:7:", "seed: expected an unsigned integer, got '1.5' (floats"},
	{HDR "seed: 12abc\nops: []\n", "t.yaml:3:7:", "trailing characters"},
	{HDR "seed: 1__0\nops: []\n", "t.yaml:3:7:", "'_'"},
	{HDR "seed: 0x\nops: []\n", "t.yaml:3:7:", "not a number"},
	{HDR "seed:\nops: []\n", "t.yaml:3:6:", "seed: expected an unsigned integer, got an empty value"},
	/* machine */
	{HDR "machine:\n  cpuz: 2\nops: []\n", "t.yaml:4:3:",
	 "unknown field 'cpuz' in machine (expected: profile, cpus, memory_frames, costs)"},
	{HDR "machine: {cpus: 0}\nops: []\n", "t.yaml:3:17:", "machine.cpus: 0 is out of range 1..256"},
	{HDR "machine: {cpus: 257}\nops: []\n", "t.yaml:3:17:", "machine.cpus: 257 is out of range 1..256"},
	{HDR "machine: {memory_frames: 0}\nops: []\n", "t.yaml:3:26:", "machine.memory_frames"},
	{HDR "machine:\n  profile: k8\nops: []\n", "t.yaml:4:12:", "machine.profile: unknown profile 'k8'"},
	{HDR "machine:\n  costs: {frob: 1}\nops: []\n", "t.yaml:4:11:", "unknown profile field 'frob'"},
	{HDR "machine:\n  costs: {invlpg: 1, invlpg: 2}\nops: []\n", "t.yaml:4:22:", "duplicate field 'invlpg'"},
	{HDR "machine:\n  costs: {invlpg: 0x100000000}\nops: []\n", "t.yaml:4:19:", "machine.costs.invlpg"},
	{HDR "machine:\n  costs: {l2_ways: 7}\nops: []\n", "t.yaml:4:10:", "machine.costs: the profile is invalid after the overrides: l2_entries/l2_ways"},
	{HDR "machine: []\nops: []\n", "t.yaml:3:10:", "machine: expected a mapping"},
	/* ops: kinds and fields */
	{OPS "  - {op: frob}\n", "t.yaml:4:10:", "ops[0].op: unknown op 'frob'"},
	{OPS "  - {va: 1}\n", "t.yaml:4:5:", "ops[0]: missing required field 'op'"},
	{OPS "  - invlpg\n", "t.yaml:4:5:", "ops[0]: expected a mapping"},
	{OPS "  - {op: invlpg, va: 0, vaa: 1}\n", "t.yaml:4:25:", "unknown field 'vaa' in ops[0]"},
	{OPS "  - {op: invlpg, va: 0, va: 1}\n", "t.yaml:4:25:", "duplicate field 'va' in ops[0]"},
	{OPS "  - {op: invlpg}\n", "t.yaml:4:5:", "ops[0]: missing required field 'va' for op invlpg"},
	{OPS "  - {op: rdtsc, cpu: 1}\n", "t.yaml:4:22:", "ops[0].cpu: 1 is out of range 0..0"},
	{OPS "  - {op: cr0, wp: yes}\n", "t.yaml:4:19:", "ops[0].wp: expected true or false, got 'yes'"},
	{OPS "  - {op: cr4}\n", "t.yaml:4:5:", "ops[0]: cr4 needs pge, pcide or smep"},
	{OPS "  - {op: delay, cycles: 0}\n", "t.yaml:4:25:", "ops[0].cycles: 0 is out of range 1..0x10000000000"},
	{OPS "  - {op: invpcid, type: 1, pcid: 0x100000000}\n", "t.yaml:4:34:", "ops[0].pcid: 0x100000000 is out of range 0..0xffffffff"},
	{OPS "  - {op: access, va: 0, kind: fetch}\n", "t.yaml:4:31:", "ops[0].kind: expected one of read, write, exec, got 'fetch'"},
	{OPS "  - {op: clflush, pa: 0x10000000000000}\n", "t.yaml:4:23:", "ops[0].pa: 0x10000000000000 is not below 2^52"},
	/* roots and page-table ops */
	{OPS "  - {op: free, pa: 0x3001}\n", "t.yaml:4:20:", "ops[0].pa: 0x3001 is not a frame address"},
	{OPS "  - {op: free}\n", "t.yaml:4:5:", "ops[0]: free needs exactly one of 'table' and 'pa'"},
	{OPS "  - {op: free, table: X}\n", "t.yaml:4:23:", "ops[0].table: undefined table 'X'"},
	{OPS "  - {op: pt_new, name: A}\n  - {op: free, table: A, pa: 0x1000}\n", "t.yaml:5:5:",
	 "ops[1]: free needs exactly one of 'table' and 'pa'"},
	{OPS "  - {op: pt_new, name: A}\n  - {op: unlink, root: A, va: 0, level: 2, save: A}\n",
	 "t.yaml:5:50:", "ops[1].save: root 'A' is already defined"},
	{OPS "  - {op: pt_new, name: A}\n  - {op: unlink, root: A, va: 0, level: 2, free: true, save: T}\n",
	 "t.yaml:5:5:", "unlink cannot both save and free"},
	{OPS "  - {op: unmap, root: B, va: 0}\n", "t.yaml:4:23:", "ops[0].root: undefined table 'B'"},
	{ROOT "  - {op: pt_new, name: A}\n", "t.yaml:5:24:", "ops[1].name: root 'A' is already defined"},
	{ROOT "  - {op: map, root: A, va: 0x1001, pa: 0}\n", "t.yaml:5:28:", "ops[1].va: 0x1001 is not aligned to the 4k page size"},
	{ROOT "  - {op: map, root: A, va: 0x800000000000, pa: 0}\n", "t.yaml:5:28:", "ops[1].va: 0x800000000000 is not canonical"},
	{ROOT "  - {op: map, root: A, va: 0, pa: 0x10000000000000}\n", "t.yaml:5:35:", "ops[1].pa: 0x10000000000000 is not below 2^52"},
	{ROOT "  - {op: map, root: A, va: 0, pa: 0x1000, size: 2m}\n", "t.yaml:5:35:", "ops[1].pa: 0x1000 is not aligned to the 2m page size"},
	{ROOT "  - {op: map, root: A, va: 0, pa: 0, size: 8k}\n", "t.yaml:5:44:", "ops[1].size: expected one of 4k, 2m, 1g, got '8k'"},
	{ROOT "  - {op: map, root: A, va: 0, pa: 0, flags: [P, XX]}\n", "t.yaml:5:49:", "ops[1].flags[1]: unknown flag 'XX'"},
	{ROOT "  - {op: map, root: A, va: 0, pa: 0, flags: [P, PS]}\n", "t.yaml:5:49:", "ops[1].flags[1]: PS is not allowed"},
	{ROOT "  - {op: map, root: A, va: 0, pa: 0, flags: [P, P]}\n", "t.yaml:5:49:", "ops[1].flags[1]: flag listed twice"},
	{ROOT "  - {op: map, root: A, va: 0, pa: 0, flags: 0x83}\n", "t.yaml:5:45:", "ops[1].flags: 0x83 has bits other than"},
	{ROOT "  - {op: map, root: A, va: 0, pa: 0, flags: RW}\n", "t.yaml:5:45:", "ops[1].flags: expected a sequence of flag names or an integer, got 'RW'"},
	{ROOT "  - {op: write_pte, root: A, va: 0, level: 5, value: 0}\n", "t.yaml:5:44:", "ops[1].level: 5 is out of range 1..4"},
	{ROOT "  - {op: unlink, root: A, va: 0, level: 1}\n", "t.yaml:5:41:", "ops[1].level: 1 is out of range 2..4"},
	{ROOT "  - {op: cr3, root: A, value: 0}\n", "t.yaml:5:24:", "ops[1]: cr3 takes either root or value, not both"},
	{ROOT "  - {op: cr3, value: 0, pcid: 1}\n", "t.yaml:5:25:", "ops[1].pcid: only allowed with root"},
	{ROOT "  - {op: cr3, root: A, pcid: 4096}\n", "t.yaml:5:30:", "ops[1].pcid: 4096 is out of range 0..4095"},
	/* ipi */
	{HDR "machine: {cpus: 2}\nops:\n  - {op: ipi, to: [0], run: []}\n", "t.yaml:5:20:", "ops[0].to[0]: CPU 0 is the sender"},
	{HDR "machine: {cpus: 2}\nops:\n  - {op: ipi, to: [2], run: []}\n", "t.yaml:5:20:", "ops[0].to[0]: 2 is out of range 0..1"},
	{HDR "machine: {cpus: 2}\nops:\n  - {op: ipi, to: [], run: []}\n", "t.yaml:5:19:", "ops[0].to: must name at least one target CPU"},
	{HDR "machine: {cpus: 3}\nops:\n  - {op: ipi, to: [1, 1], run: []}\n", "t.yaml:5:23:", "ops[0].to[1]: CPU 1 listed twice"},
	{HDR "machine: {cpus: 2}\nops:\n  - op: ipi\n    to: [1]\n    run:\n"
	 "      - {op: ipi, to: [0], run: []}\n", "t.yaml:8:14:", "ops[0].run[0].op: 'ipi' is not allowed inside an ipi run"},
	{HDR "machine: {cpus: 2}\nops:\n  - op: ipi\n    to: [1]\n    run:\n"
	 "      - {op: quiesce}\n", "t.yaml:8:14:", "ops[0].run[0].op: 'quiesce' is not allowed"},
	{HDR "machine: {cpus: 2}\nops:\n  - op: ipi\n    to: [1]\n    run:\n"
	 "      - {op: invlpg, va: 0, cpu: 1}\n", "t.yaml:8:29:", "ops[0].run[0].cpu: not allowed inside an ipi run"},
	{HDR "machine: {cpus: 2}\nops:\n  - {op: ipi, to: [1]}\n", "t.yaml:5:5:", "ops[0]: missing required field 'run' for op ipi"},
	/* expect */
	{OPS "  - {op: access, va: 0, expect: {fault: df}}\n", "t.yaml:4:41:", "ops[0].expect.fault: expected one of none, pf, gp, ud, got 'df'"},
	{OPS "  - {op: access, va: 0, expect: {faults: pf}}\n", "t.yaml:4:34:", "unknown field 'faults' in ops[0].expect"},
	{OPS "  - {op: access, va: 0, expect: {pfec: [P, X]}}\n", "t.yaml:4:44:", "ops[0].expect.pfec[1]: expected one of P, W, U, RSVD, I, got 'X'"},
	{OPS "  - {op: access, va: 0, expect: {pfec: 0x20}}\n", "t.yaml:4:40:", "ops[0].expect.pfec: 32 is out of range 0..31"},
	{OPS "  - {op: access, va: 0, expect: {path: l3}}\n", "t.yaml:4:40:", "ops[0].expect.path"},
	{OPS "  - {op: access, va: 0, expect: [pf]}\n", "t.yaml:4:33:", "ops[0].expect: expected a mapping"},
	/* hv: section */
	{HDR "hv:\n  frob: 1\nops: []\n", "t.yaml:4:3:",
	 "unknown field 'frob' in hv (expected: page1gb, superpages, flush_policy, "
	 "flush_ceiling, directmap, inject, pcid, xpti)"},
	{HDR "hv: []\nops: []\n", "t.yaml:3:5:", "hv: expected a mapping"},
	{HDR "hv: {page1gb: yes}\nops: []\n", "t.yaml:3:15:", "hv.page1gb: expected true or false, got 'yes'"},
	{HDR "hv: {flush_policy: linux}\nops: []\n", "t.yaml:3:20:",
	 "hv.flush_policy: expected one of xen, ranged, got 'linux'"},
	{HDR "hv: {flush_ceiling: 0}\nops: []\n", "t.yaml:3:21:", "hv.flush_ceiling: 0 is out of range 1..0x100000"},
	{HDR "hv: {directmap: 0x100000}\nops: []\n", "t.yaml:3:17:", "hv.directmap: 0x100000 is not a multiple of 2 MiB"},
	{HDR "hv: {directmap: 0x500_0020_0000}\nops: []\n", "t.yaml:3:17:",
	 "hv.directmap: 0x50000200000 is out of range 0..0x50000000000"},
	{HDR "hv:\n  inject: [skip_one_page, frob]\nops: []\n", "t.yaml:4:27:",
	 "hv.inject[1]: expected one of merge_flush_past, skip_one_page, no_cache_flush, leak_table, skip_last_page, no_old_pcid_flush, invlpg_under_pcide, xpti_leak, got 'frob'"},
	{HDR "hv:\n  inject: [skip_one_page, skip_one_page]\nops: []\n", "t.yaml:4:27:", "hv.inject[1]: listed twice"},
	{HDR "hv: {inject: skip_one_page}\nops: []\n", "t.yaml:3:14:", "hv.inject: expected a sequence"},
	/* hv ops */
	{OPS "  - {op: hv_map, va: 0, pa: 0, count: 1}\n", "t.yaml:4:5:", "ops[0]: hv_map needs an hv: section"},
	{OPS "  - {op: rdtsc}\n  - {op: hv_destroy, va: 0, count: 1}\n", "t.yaml:5:5:",
	 "ops[1]: hv_destroy needs an hv: section"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1000, count: 0}\n", "t.yaml:5:49:",
	 "ops[0].count: 0 is out of range 1..0x10000000"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1000, count: 0x10000001}\n", "t.yaml:5:49:",
	 "ops[0].count: 0x10000001 is out of range 1..0x10000000"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1000}\n", "t.yaml:5:5:",
	 "ops[0]: missing required field 'count' for op hv_map"},
	{HVOPS "  - {op: hv_map, va: 0x1001, pa: 0x1000, count: 1}\n", "t.yaml:5:22:",
	 "ops[0].va: 0x1001 is not aligned to the 4k page size"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1800, count: 1}\n", "t.yaml:5:34:",
	 "ops[0].pa: 0x1800 is not aligned to the 4k page size"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x10000000000000, count: 1}\n", "t.yaml:5:34:",
	 "ops[0].pa: 0x10000000000000 is not below 2^52"},
	{HVOPS "  - {op: hv_map, va: 0x800000000000, pa: 0, count: 1}\n", "t.yaml:5:22:",
	 "ops[0].va: 0x800000000000 is not canonical"},
	{HVOPS "  - {op: hv_destroy, va: 0x7ffffffff000, count: 2}\n", "t.yaml:5:49:",
	 "ops[0].count: 2 pages from 0x7ffffffff000 run past the end of the canonical lower half (at most 1)"},
	{HVOPS "  - {op: hv_destroy, va: 0xfffffffffffff000, count: 2}\n", "t.yaml:5:53:",
	 "ops[0].count: 2 pages from 0xfffffffffffff000 run past the end of the canonical upper half (at most 1)"},
	{HVOPS "  - {op: hv_modify, va: 0x1000, count: 1, flags: [RW]}\n", "t.yaml:5:50:",
	 "ops[0].flags: must include P"},
	{HVOPS "  - {op: hv_modify, va: 0x1000, count: 1}\n", "t.yaml:5:5:",
	 "ops[0]: missing required field 'flags' for op hv_modify"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1000, count: 1, flags: []}\n", "t.yaml:5:59:",
	 "ops[0].flags: must include P"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1000, count: 1, flags: [P, PS]}\n", "t.yaml:5:63:",
	 "ops[0].flags[1]: PS is not allowed (the hypervisor chooses page sizes"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1000, count: 1, flags: 0x1001}\n", "t.yaml:5:59:",
	 "ops[0].flags: 0x1001 has bits other than P RW US PWT PCD A D PAT(bit 7) G NX"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1000, count: 1, small: 1}\n", "t.yaml:5:59:",
	 "ops[0].small: expected true or false, got '1'"},
	{HVOPS "  - {op: hv_map, va: 0x1000, pa: 0x1000, count: 1, size: 2m}\n", "t.yaml:5:52:",
	 "unknown field 'size' in ops[0]"},
	{HVOPS "  - {op: hv_destroy, va: 0x1000, count: 1, flags: [P]}\n", "t.yaml:5:44:",
	 "unknown field 'flags' in ops[0]"},
	{HDR "hv: {}\nmachine: {cpus: 2}\nops:\n  - op: ipi\n    to: [1]\n    run:\n"
	 "      - {op: hv_destroy, va: 0, count: 1}\n", "t.yaml:9:14:",
	 "ops[0].run[0].op: 'hv_destroy' is not allowed inside an ipi run"},
	/* hv: pcid and xpti */
	{HDR "hv: {pcid: maybe}\nops: []\n", "t.yaml:3:12:",
	 "hv.pcid: expected one of off, on, xpti, no-xpti, got 'maybe'"},
	{HDR "hv: {pcid: 1}\nops: []\n", "t.yaml:3:12:", "hv.pcid: expected one of"},
	{HDR "hv: {pcid: noxpti}\nops: []\n", "t.yaml:3:12:", "got 'noxpti'"},
	{HDR "hv: {pcid: [on]}\nops: []\n", "t.yaml:3:12:", "got '<a sequence>'"},
	{HDR "hv: {xpti: yes}\nops: []\n", "t.yaml:3:12:", "hv.xpti: expected true or false, got 'yes'"},
	/* domain */
	{OPS "  - {op: domain, vcpus: 1}\n", "t.yaml:4:5:", "ops[0]: domain needs an hv: section"},
	{HVOPS "  - {op: domain, vcpus: 0}\n", "t.yaml:5:25:", "ops[0].vcpus: 0 is out of range 1..8"},
	{HVOPS "  - {op: domain, vcpus: 9}\n", "t.yaml:5:25:", "ops[0].vcpus: 9 is out of range 1..8"},
	{HVOPS "  - {op: domain}\n", "t.yaml:5:5:", "ops[0]: missing required field 'vcpus' for op domain"},
	{HVOPS "  - {op: domain, vcpus: 1, xpti: 1}\n", "t.yaml:5:34:",
	 "ops[0].xpti: expected true or false, got '1'"},
	{HVOPS "  - {op: domain, vcpus: 1, pcid: true}\n", "t.yaml:5:28:", "unknown field 'pcid' in ops[0]"},
	{HVOPS DOM16 DOM1, "t.yaml:21:5:", "ops[16]: too many domains (at most 16)"},
	{HDR "hv: {}\nmachine: {cpus: 2}\nops:\n  - op: ipi\n    to: [1]\n    run:\n"
	 "      - {op: domain, vcpus: 1}\n", "t.yaml:9:14:",
	 "ops[0].run[0].op: 'domain' is not allowed inside an ipi run"},
	/* vcpu_run */
	{HVOPS DOM1 "  - {op: domain, vcpus: 2}\n  - {op: vcpu_run, domain: 3, vcpu: 0}\n",
	 "t.yaml:7:28:", "ops[2].domain: no domain 3 (2 defined above)"},
	{HVOPS "  - {op: vcpu_run, domain: 0, vcpu: 0}\n" DOM1, "t.yaml:5:28:",
	 "ops[0].domain: no domain 0 (0 defined above)"},
	{HVOPS "  - {op: domain, vcpus: 2}\n  - {op: vcpu_run, domain: 0, vcpu: 2}\n",
	 "t.yaml:6:37:", "ops[1].vcpu: no vCPU 2 in domain 0 (it has 2)"},
	{HVOPS DOM1 "  - {op: vcpu_run, domain: 0}\n", "t.yaml:6:5:",
	 "ops[1]: missing required field 'vcpu' for op vcpu_run"},
	{HVOPS DOM1 "  - {op: vcpu_run, vcpu: 0}\n", "t.yaml:6:5:",
	 "ops[1]: missing required field 'domain' for op vcpu_run"},
	{HVOPS DOM1 "  - {op: vcpu_run, domain: -1, vcpu: 0}\n", "t.yaml:6:28:",
	 "ops[1].domain: expected an unsigned integer"},
	{OPS "  - {op: vcpu_run, domain: 0, vcpu: 0}\n", "t.yaml:4:5:",
	 "ops[0]: vcpu_run needs an hv: section"},
	{HDR "hv: {}\nmachine: {cpus: 2}\nops:\n" DOM1 "  - op: ipi\n    to: [1]\n"
	 "    run:\n      - {op: vcpu_run, domain: 0, vcpu: 0}\n", "t.yaml:10:14:",
	 "ops[1].run[0].op: 'vcpu_run' is not allowed inside an ipi run"},
	/* idle, syscall */
	{OPS "  - {op: idle}\n", "t.yaml:4:5:", "ops[0]: idle needs an hv: section"},
	{OPS "  - {op: rdtsc}\n  - {op: syscall, cpu: 0}\n", "t.yaml:5:5:",
	 "ops[1]: syscall needs an hv: section"},
	{HVOPS "  - {op: syscall, va: 0}\n", "t.yaml:5:19:", "unknown field 'va' in ops[0]"},
	{HDR "hv: {}\nmachine: {cpus: 2}\nops:\n  - op: ipi\n    to: [1]\n    run:\n"
	 "      - {op: syscall}\n", "t.yaml:9:14:",
	 "ops[0].run[0].op: 'syscall' is not allowed inside an ipi run"},
	/* guest_map */
	{OPS "  - {op: guest_map, va: 0, pa: 0}\n", "t.yaml:4:5:",
	 "ops[0]: guest_map needs an hv: section"},
	{HVOPS "  - {op: guest_map, va: 0xffff82d080000000, pa: 0}\n", "t.yaml:5:25:",
	 "ops[0].va: 0xffff82d080000000 is in the hypervisor's reserved range "
	 "0xffff800000000000..0xffff87ffffffffff"},
	{HVOPS "  - {op: guest_map, va: 0xffff800000000000, pa: 0}\n", "t.yaml:5:25:",
	 "ops[0].va: 0xffff800000000000 is in the hypervisor's reserved range"},
	{HVOPS "  - {op: guest_map, va: 0xffff87fffffff000, pa: 0}\n", "t.yaml:5:25:",
	 "ops[0].va: 0xffff87fffffff000 is in the hypervisor's reserved range"},
	{HVOPS "  - {op: guest_map, va: 0x1000, pa: 0, flags: [RW, US]}\n", "t.yaml:5:47:",
	 "ops[0].flags: must include P (guest_map only makes present mappings)"},
	{HVOPS "  - {op: guest_map, va: 0x1000, pa: 0, user: true, flags: 0}\n", "t.yaml:5:59:",
	 "ops[0].flags: must include P"},
	{HVOPS "  - {op: guest_map, va: 0x1000, pa: 0, flags: [P, PS]}\n", "t.yaml:5:51:",
	 "ops[0].flags[1]: PS is not allowed (guest_map writes 4 KiB leaves"},
	{HVOPS "  - {op: guest_map, va: 0x1000, pa: 0, flags: 0x1001}\n", "t.yaml:5:47:",
	 "ops[0].flags: 0x1001 has bits other than P RW US PWT PCD A D PAT(bit 7) G NX"},
	{HVOPS "  - {op: guest_map, va: 0x1001, pa: 0}\n", "t.yaml:5:25:",
	 "ops[0].va: 0x1001 is not aligned to the 4k page size"},
	{HVOPS "  - {op: guest_map, va: 0x800000000000, pa: 0}\n", "t.yaml:5:25:",
	 "ops[0].va: 0x800000000000 is not canonical"},
	{HVOPS "  - {op: guest_map, va: 0x1000, pa: 0x1080}\n", "t.yaml:5:37:",
	 "ops[0].pa: 0x1080 is not aligned to the 4k page size"},
	{HVOPS "  - {op: guest_map, va: 0x1000, pa: 0x10000000000000}\n", "t.yaml:5:37:",
	 "ops[0].pa: 0x10000000000000 is not below 2^52"},
	{HVOPS "  - {op: guest_map, va: 0x1000, pa: 0, user: kernel}\n", "t.yaml:5:46:",
	 "ops[0].user: expected true or false, got 'kernel'"},
	{HVOPS "  - {op: guest_map, va: 0x1000}\n", "t.yaml:5:5:",
	 "ops[0]: missing required field 'pa' for op guest_map"},
	{HVOPS "  - {op: guest_map, pa: 0x1000}\n", "t.yaml:5:5:",
	 "ops[0]: missing required field 'va' for op guest_map"},
	/* rings: and the ring ops (seed 004) */
	{HDR "rings: {}\nops: []\n", "t.yaml:3:8:", "rings: needs an hv: section"},
	{HDR "hv: {}\nrings: {mode: eager}\nops: []\n", "t.yaml:4:15:",
	 "rings.mode: expected one of waitq, pause, got 'eager'"},
	{HDR "hv: {}\nrings: {inject: [double_pause, frob]}\nops: []\n", "t.yaml:4:32:",
	 "rings.inject[1]: expected one of put_off_by_one, double_pause, claim_off_by_one, "
	 "no_wake_requesters, no_wake_waiters, release_foreign, no_full_check, disable_wq_only, "
	 "release_no_wake, got 'frob'"},
	{HDR "hv: {}\nrings: {inject: [double_pause, double_pause]}\nops: []\n", "t.yaml:4:32:",
	 "rings.inject[1]: listed twice"},
	{HDR "hv: {}\nrings: {frob: 1}\nops: []\n", "t.yaml:4:9:", "unknown field 'frob' in rings"},
	{HVOPS "  - {op: domain, vcpus: 1}\n  - {op: ring_enable, domain: 0, ring: paging}\n",
	 "t.yaml:6:5:", "ops[1]: op ring_enable needs a rings: section"},
	{RINGOPS "  - {op: ring_enable, domain: 2, ring: paging}\n", "t.yaml:9:31:",
	 "ops[2].domain: no domain 2 (2 defined above)"},
	{RINGOPS "  - {op: ring_enable, domain: 1, ring: paged}\n", "t.yaml:9:40:",
	 "ops[2].ring: expected one of paging, access, sharing, got 'paged'"},
	{RINGOPS "  - {op: ring_enable, domain: 1, ring: paging, slots: 3}\n", "t.yaml:9:55:",
	 "ops[2].slots: 3 is not a power of two"},
	{RINGOPS "  - {op: ring_enable, domain: 1, ring: paging, slots: 128}\n", "t.yaml:9:55:",
	 "ops[2].slots: 128 is out of range 1..64"},
	{RINGOPS "  - {op: vm_event, domain: 1, vcpu: 2, kind: drop}\n", "t.yaml:9:37:",
	 "ops[2].vcpu: no vCPU 2 in domain 1 (it has 2)"},
	{RINGOPS "  - {op: vm_event, domain: 1, vcpu: 0, kind: evict}\n", "t.yaml:9:46:",
	 "ops[2].kind: expected one of populate, drop, access, share, populate_back, got 'evict'"},
	{RINGOPS "  - {op: vm_event, domain: 1, vcpu: 0}\n", "t.yaml:9:5:",
	 "ops[2]: missing required field 'kind' for op vm_event"},
	{RINGOPS "  - {op: vm_event, domain: 1, vcpu: 0, kind: drop, count: 0}\n", "t.yaml:9:59:",
	 "ops[2].count: 0 is out of range 1..1000000"},
	{RINGOPS "  - {op: vm_event, domain: 1, vcpu: 1, kind: drop}\n"
	 "  - {op: vm_event, cpu: 1, domain: 1, vcpu: 1, kind: drop}\n", "t.yaml:10:5:",
	 "ops[3]: vCPU 1 of domain 1 runs on cpu 0 (its first vm_event), not cpu 1"},
	{RINGOPS "  - {op: ring_disable, domain: 1, ring: paging, on_busy: wait}\n", "t.yaml:9:58:",
	 "ops[2].on_busy: expected one of fail, retry, drain, got 'wait'"},
	{RINGOPS "  - {op: foreign, domain: 1, ring: paging, release: 1}\n", "t.yaml:9:53:",
	 "ops[2].release: expected true or false, got '1'"},
	{RINGOPS "  - {op: helper, domain: 1, ring: paging, burst: 0}\n", "t.yaml:9:50:",
	 "ops[2].burst: 0 is out of range 1..64"},
	{RINGOPS "  - {op: helper_stall, domain: 1, ring: paging}\n", "t.yaml:9:5:",
	 "ops[2]: missing required field 'cycles' for op helper_stall"},
	{HDR "hv: {}\nrings: {}\nmachine: {cpus: 2}\nops:\n  - op: ipi\n    to: [1]\n    run:\n"
	 "      - {op: helper_stall, domain: 0, ring: paging, cycles: 1}\n", "t.yaml:10:14:",
	 "ops[0].run[0].op: 'helper_stall' is not allowed inside an ipi run"},
	/* aliases cannot make the walk recurse */
	{HDR "ops: &a [*a]\n", "t.yaml:3:6:", "ops[0]: expected a mapping"},
	{HDR "ops:\n  - &o {op: ipi, to: [1], run: [*o]}\nmachine: {cpus: 2}\n", "t.yaml:4:13:", "ops[0].run[0].op: 'ipi' is not allowed"},
	/* time: and the time ops (seed 002) */
	{HDR "time: {}\nops: []\n", "t.yaml:3:7:", "time: needs an hv: section"},
	{HDR "hv: {}\ntime: {mode: fast}\nops: []\n", "t.yaml:4:14:",
	 "time.mode: expected one of global, percpu, rendezvous, got 'fast'"},
	{HDR "hv: {}\ntime: {offsets: [1, 2]}\nops: []\n", "t.yaml:4:17:",
	 "time.offsets: 2 entries for 1 cpus"},
	{HDR "hv: {}\ntime: {drift_ppm: [x]}\nops: []\n", "t.yaml:4:20:",
	 "time.drift_ppm[0]: expected a signed integer"},
	{HDR "hv: {}\ntime: {host_ppm: -60000}\nops: []\n", "t.yaml:4:18:",
	 "time.host_ppm: -60000 is out of range -50000..50000"},
	{HDR "hv: {}\ntime: {inject: [nope]}\nops: []\n", "t.yaml:4:17:",
	 "time.inject[0]: expected one of no-version-bump, stale-stamp, seed-wallclock"},
	{HDR "hv: {}\ntime: {period_ms: 0}\nops: []\n", "t.yaml:4:19:", "time.period_ms: 0 is out of range"},
	{OPS "  - {op: time_read}\n", "t.yaml:4:5:", "ops[0]: time_read needs a time: section"},
	{TOPS "  - {op: time_read, who: vm}\n", "t.yaml:6:26:",
	 "ops[0].who: expected one of guest, hv, got 'vm'"},
	{TOPS "  - {op: time_read, count: 0}\n", "t.yaml:6:28:", "ops[0].count: 0 is out of range"},
	{TOPS "  - {op: time_sched, vcpu: 1}\n", "t.yaml:6:28:", "ops[0].vcpu: 1 is out of range 0..0"},
	{TOPS "  - {op: time_msg}\n", "t.yaml:6:5:", "ops[0]: time_msg needs exactly one of 'vcpu'"},
	{TOPS "  - {op: tsc}\n", "t.yaml:6:5:", "ops[0]: tsc needs one of write, adjust, cstate, freq_ppm"},
	{TOPS "  - {op: tsc, write: 1, adjust: 2}\n", "t.yaml:6:5:",
	 "ops[0]: tsc takes one of write, adjust, cstate, freq_ppm (got write and adjust)"},
	{TOPS "  - {op: tsc, freq_ppm: 200000}\n", "t.yaml:6:25:",
	 "ops[0].freq_ppm: 200000 is out of range -100000..100000"},
	{TOPS "  - {op: tsc, adjust: -x}\n", "t.yaml:6:23:", "ops[0].adjust: expected a signed integer"},
};

START_TEST(malformed)
{
	const struct bad *b = &bads[_i];
	struct scenario s;
	struct sc_error e;
	memset(&s, 0x5a, sizeof(s));
	ck_assert_msg(load(b->text, &s, &e) == -1, "case %d loaded", _i);
	ck_assert_msg(strncmp(e.msg, b->pos, strlen(b->pos)) == 0,
	              "case %d: '%s' does not start with '%s'", _i, e.msg, b->pos);
	ck_assert_msg(strstr(e.msg, b->want), "case %d: '%s' lacks '%s'", _i,
	              e.msg, b->want);
	ck_assert_msg(!strchr(e.msg, '\n'), "case %d: multi-line message", _i);
	/* On error the scenario is left freed (zeroed). */
	ck_assert_ptr_null(s.ops);
	ck_assert_ptr_null(s.name);
	ck_assert_ptr_null(s.path);
}
END_TEST

START_TEST(single_line_messages)
{
	struct scenario s;
	struct sc_error e;
	/* A key with a newline and a control character in it. */
	const char *t = HDR "\"a\\nb\\x01c\": 1\nops: []\n";
	ck_assert_int_eq(scenario_load_string("t.yaml", t, strlen(t), &s, &e), -1);
	ck_assert_msg(!strchr(e.msg, '\n') && !strchr(e.msg, '\x01'), "%s", e.msg);
	ck_assert_ptr_nonnull(strstr(e.msg, "t.yaml:3:1: unknown field 'a?b?c'"));
	/* A name with a newline, and a very long value. */
	char big[2048];
	snprintf(big, sizeof(big), HDR "seed: %01500d\nops: []\n", 7);
	memset(big + strlen(HDR "seed: "), '9', 1400); /* overflows */
	ck_assert_int_eq(scenario_load_string("x\ny", big, strlen(big), &s, &e), -1);
	ck_assert_msg(!strchr(e.msg, '\n'), "%s", e.msg);
	ck_assert_msg(strncmp(e.msg, "x?y:3:7: seed:", 14) == 0, "%s", e.msg);
	ck_assert_uint_lt(strlen(e.msg), sizeof(e.msg));
	/* Embedded NUL in a string value. */
	t = HDR "description: \"a\\0b\"\nops: []\n";
	ck_assert_int_eq(load(t, &s, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "t.yaml:3:14: description: must not contain a NUL"));
	/* NULL text with zero length is an empty document. */
	ck_assert_int_eq(scenario_load_string(NULL, NULL, 0, &s, &e), -1);
	ck_assert_str_eq(e.msg, "<string>:1:1: empty document (expected a mapping)");
}
END_TEST

/* More ops than SC_MAX_OPS, cheaply through aliases: rejected before any
 * allocation for them. */
START_TEST(op_budget)
{
	size_t n = SC_MAX_OPS + 1, cap = n * 4 + 256;
	char *t = malloc(cap);
	struct scenario s;
	struct sc_error e;
	ck_assert_ptr_nonnull(t);
	size_t o = (size_t)snprintf(t, cap, HDR "ops: [&o {op: rdtsc}");
	for (size_t i = 1; i < n; i++) {
		memcpy(t + o, ",*o", 3);
		o += 3;
	}
	memcpy(t + o, "]\n", 3);
	ck_assert_int_eq(load(t, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, "t.yaml:3:6: ops: too many ops"), "%s", e.msg);

	/* The same through an ipi run: the run ops count too. */
	o = (size_t)snprintf(t, cap, HDR "machine: {cpus: 2}\nops:\n"
	                     "  - {op: ipi, to: [1], run: [&o {op: rdtsc}");
	for (size_t i = 1; i < SC_MAX_OPS; i++) {
		memcpy(t + o, ",*o", 3);
		o += 3;
	}
	memcpy(t + o, "]}\n", 4);
	ck_assert_int_eq(load(t, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, "t.yaml:5:29: ops[0].run: too many ops"), "%s", e.msg);
	free(t);
}
END_TEST

START_TEST(deep_nesting)
{
	size_t depth = 20000;
	char *t = malloc(2 * depth + 64);
	struct scenario s;
	struct sc_error e;
	ck_assert_ptr_nonnull(t);
	size_t o = (size_t)sprintf(t, HDR "ops: ");
	memset(t + o, '[', depth);
	memset(t + o + depth, ']', depth);
	t[o + 2 * depth] = 0;
	ck_assert_int_eq(load(t, &s, &e), -1);
	ck_assert_msg(strstr(e.msg, "ops[0]: expected a mapping"), "%s", e.msg);
	free(t);
}
END_TEST

START_TEST(from_file)
{
	char path[512];
	struct scenario s;
	struct sc_error e;
	snprintf(path, sizeof(path), "%s/s.yaml", testutil_tmpdir());
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("hvsim: 1\nname: file\nops:\n  - {op: rdtsc}\n  - {op: invlpg, va: x}\n", f);
	fclose(f);
	ck_assert_int_eq(scenario_load(path, &s, &e), -1);
	char want[600];
	snprintf(want, sizeof(want), "%s:5:22: ops[1].va: expected an unsigned integer", path);
	ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "%s", e.msg);

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("hvsim: 1\nname: file\nops:\n  - {op: rdtsc}\n", f);
	fclose(f);
	ck_assert_msg(scenario_load(path, &s, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(s.path, path);
	ck_assert_uint_eq(s.nops, 1);
	scenario_free(&s);

	snprintf(path, sizeof(path), "%s/missing.yaml", testutil_tmpdir());
	ck_assert_int_eq(scenario_load(path, &s, &e), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(e.msg, want);

	ck_assert_int_eq(scenario_load(testutil_tmpdir(), &s, &e), -1);
	ck_assert_msg(strstr(e.msg, ": cannot "), "%s", e.msg);
}
END_TEST

START_TEST(kind_names)
{
	ck_assert_str_eq(op_kind_name(OP_PT_NEW), "pt_new");
	ck_assert_str_eq(op_kind_name(OP_WRITE_PTE), "write_pte");
	ck_assert_str_eq(op_kind_name(OP_QUIESCE), "quiesce");
	ck_assert_str_eq(op_kind_name(OP_HV_MAP), "hv_map");
	ck_assert_str_eq(op_kind_name(OP_HV_MODIFY), "hv_modify");
	ck_assert_str_eq(op_kind_name(OP_HV_DESTROY), "hv_destroy");
	ck_assert_str_eq(op_kind_name(OP_DOMAIN), "domain");
	ck_assert_str_eq(op_kind_name(OP_VCPU_RUN), "vcpu_run");
	ck_assert_str_eq(op_kind_name(OP_IDLE), "idle");
	ck_assert_str_eq(op_kind_name(OP_SYSCALL), "syscall");
	ck_assert_str_eq(op_kind_name(OP_GUEST_MAP), "guest_map");
	ck_assert_str_eq(op_kind_name((enum op_kind)0), "unknown");
	ck_assert_str_eq(op_kind_name(OP__COUNT), "unknown");
	for (int k = OP_PT_NEW; k < OP__COUNT; k++)
		ck_assert_msg(strcmp(op_kind_name((enum op_kind)k), "unknown") != 0,
		              "kind %d has no name", k);
}
END_TEST

START_TEST(integers)
{
	uint64_t v;
	ck_assert_ptr_null(y_parse_u64("0", 1, &v));
	ck_assert_uint_eq(v, 0);
	ck_assert_ptr_null(y_parse_u64("18446744073709551615", 20, &v));
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_ptr_null(y_parse_u64("0xFFFF_ffff_FFFF_ffff", 21, &v));
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_ptr_null(y_parse_u64("1_000_000", 9, &v));
	ck_assert_uint_eq(v, 1000000);
	ck_assert_ptr_null(y_parse_u64("010", 3, &v));
	ck_assert_uint_eq(v, 10);
	const char *bad[] = {"", "-0", "+1", "_1", "1_", "0x_1", "1e3", "0x",
	                     "0x1g", " 1", "1 ", "0b1", "0o7", ".5", "inf", NULL};
	for (int i = 0; bad[i]; i++)
		ck_assert_msg(y_parse_u64(bad[i], strlen(bad[i]), &v) != NULL, "%s", bad[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("scenario_load");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, full_scenario);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, hv_section_and_ops);
	tcase_add_test(tc, hv_defaults);
	tcase_add_test(tc, pv_ops);
	tcase_add_test(tc, pv_defaults);
	tcase_add_test(tc, embedded_profiles);
	tcase_add_test(tc, unknown_profile_named);
	tcase_add_test(tc, broken_profiles);
	tcase_add_test(tc, overrides);
	tcase_add_loop_test(tc, malformed, 0, (int)(sizeof(bads) / sizeof(bads[0])));
	tcase_add_test(tc, single_line_messages);
	tcase_add_test(tc, op_budget);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, from_file);
	tcase_add_test(tc, kind_names);
	tcase_add_test(tc, integers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(suite());
}
