/* Shared fixture of the MMU suites (tests/test_mmu_*.c).
 *
 * A machine built from a named profile (one CPU, 64-bit mode, paging on),
 * real page tables written entry by entry through machine_store64, and a
 * sink that keeps every event so that a test can look at what the models
 * emitted. Header-only (static inline) because every tests/test_*.c is a
 * binary of its own.
 *
 * Expected values in the suites are derived by hand from the SDM rules
 * summarised in shared/reference/hw-facts.md §1.1, never read back from
 * the model under test.
 */
#ifndef HVSIM_TESTS_MMU_FIXTURE_H
#define HVSIM_TESTS_MMU_FIXTURE_H

#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/machine.h"
#include "sim/tlb/envelope.h"
#include "sim/tlb/pte.h"

#define FX_MEM_FRAMES 4096u
#define FX_SEED 42u

/* Linear addresses used throughout (all canonical). */
#define VA_4K 0x0000000000400000ull  /* PML4 0, PDPT 0, PD 2, PT 0 */
#define VA_4K_B 0x0000000000403000ull /* same page table, PT 3 */
#define VA_2M 0x0000000040000000ull  /* PML4 0, PDPT 1, PD 0: 2 MiB page */
#define VA_1G 0x0000008000000000ull  /* PML4 1, PDPT 0: 1 GiB page */
#define VA_K 0xffffffff80000000ull   /* PML4 511, PDPT 510, PD 0, PT 0 */
#define VA_NONCANON 0x0000800000000000ull

/* Physical bases of the large pages: far above the allocator's region
 * (frames from 1 MiB on), naturally aligned. */
#define PA_2M 0x0000000100600000ull
#define PA_2M_B 0x0000000100a00000ull
#define PA_1G 0x0000004000000000ull
#define PA_1G_B 0x0000008000000000ull

/* Flags of the intermediate tables the fixture creates: present, writable,
 * user, accessed clear (so tests can watch the walk set A). */
#define FX_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US)

struct fx_log {
	struct event *v;
	size_t n, cap;
};

struct fx {
	struct machine m;
	struct fx_log log;
	uint64_t root; /* physical address of the PML4 */
};

static inline int fx_sink_event(void *ctx, const struct event *ev)
{
	struct fx_log *l = ctx;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 1024;
		struct event *nv = realloc(l->v, nc * sizeof(*nv));
		ck_assert_ptr_nonnull(nv);
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = *ev;
	return 0;
}

static inline void fx_profile(const char *name, struct profile *p)
{
	struct sc_error err;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(profile_load_named(name, p, &err) == 0, "%s", err.msg);
}

static inline uint64_t fx_alloc(struct fx *x)
{
	uint64_t pfn = machine_alloc_frame(&x->m, 0);
	ck_assert_uint_ne(pfn, UINT64_MAX);
	return pfn << PAGE_SHIFT;
}

/* A machine of ncpus CPUs from profile p with one empty PML4 loaded in
 * every CPU's CR3 (PCID 0). */
static inline struct fx *fx_new_n(const struct profile *p, uint32_t ncpus)
{
	struct fx *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(machine_init(&x->m, p, ncpus, FX_MEM_FRAMES, FX_SEED), 0);
	/* Every access also verifies that the concrete TLB holds nothing the
	 * envelope does not allow (aborts the test on a model error). */
	x->m.self_check = true;
	struct sink s = {
		.name = "test_mmu", .mask = ~0ull, .ctx = &x->log, .event = fx_sink_event,
	};
	ck_assert_int_eq(bus_attach(&x->m.bus, &s), 0);
	x->root = fx_alloc(x);
	for (uint32_t c = 0; c < ncpus; c++)
		ck_assert_int_eq(cpu_mov_cr3(&x->m, c, x->root), 0);
	return x;
}

static inline struct fx *fx_new_prof(const struct profile *p)
{
	return fx_new_n(p, 1);
}

static inline struct fx *fx_new(const char *profile)
{
	struct profile p;
	fx_profile(profile, &p);
	return fx_new_prof(&p);
}

static inline void fx_free(struct fx *x)
{
	machine_fini(&x->m);
	free(x->log.v);
	free(x);
}

static inline struct cpu *fx_cpu(struct fx *x)
{
	return machine_cpu(&x->m, 0);
}

/* Memory ------------------------------------------------------------------ */

static inline uint64_t fx_read(struct fx *x, uint64_t pa)
{
	return mem_read64(&x->m.mem, pa);
}

/* A software store (by CPU 0) to a paging-structure entry. */
static inline void fx_store(struct fx *x, uint64_t epa, uint64_t val)
{
	machine_store64(&x->m, 0, epa, val, false);
}

/* Physical address of the entry at `level` (4..1) for va under root,
 * creating the missing tables above it with FX_TABLE_FLAGS. */
static inline uint64_t fx_entry_in(struct fx *x, uint64_t root, uint64_t va, unsigned level)
{
	uint64_t table = root;
	for (unsigned l = 4; l > level; l--) {
		uint64_t epa = table + 8ull * LEVEL_INDEX(va, l);
		uint64_t e = fx_read(x, epa);
		if (!(e & PTE_P)) {
			e = fx_alloc(x) | FX_TABLE_FLAGS;
			fx_store(x, epa, e);
		}
		ck_assert_msg(!pte_is_leaf(e, l), "va %#" PRIx64 ": leaf at level %u", va, l);
		table = e & PTE_ADDR_4K;
	}
	return table + 8ull * LEVEL_INDEX(va, level);
}

static inline uint64_t fx_entry(struct fx *x, uint64_t va, unsigned level)
{
	return fx_entry_in(x, x->root, va, level);
}

static inline unsigned fx_level_of(unsigned size_log2)
{
	return size_log2 == 12 ? 1 : size_log2 == 21 ? 2 : 3;
}

/* Maps va -> pa with a leaf of 4 KiB, 2 MiB or 1 GiB (size_log2 12, 21,
 * 30). flags: extra PTE bits (P and, for large pages, PS are added).
 * Returns the physical address of the leaf entry. */
static inline uint64_t fx_map_in(struct fx *x, uint64_t root, uint64_t va, uint64_t pa,
                                 unsigned size_log2, uint64_t flags)
{
	unsigned level = fx_level_of(size_log2);
	uint64_t epa = fx_entry_in(x, root, va, level);
	uint64_t e = pa | flags | PTE_P | (level > 1 ? PTE_PS : 0);
	fx_store(x, epa, e);
	return epa;
}

static inline uint64_t fx_map(struct fx *x, uint64_t va, uint64_t pa, unsigned size_log2,
                              uint64_t flags)
{
	return fx_map_in(x, x->root, va, pa, size_log2, flags);
}

/* Maps a fresh data frame at va (4 KiB, RW, supervisor). Returns the
 * frame's physical address; *epa (if not NULL) gets the leaf entry's. */
static inline uint64_t fx_map_page(struct fx *x, uint64_t va, uint64_t flags, uint64_t *epa)
{
	uint64_t pa = fx_alloc(x);
	uint64_t e = fx_map(x, va, pa, 12, flags);
	if (epa)
		*epa = e;
	return pa;
}

/* Instructions ------------------------------------------------------------- */

static inline struct access_result fx_acc(struct fx *x, uint64_t va, unsigned acc)
{
	struct access_result r;
	int rc = cpu_access(&x->m, 0, va, acc, &r);
	ck_assert_int_eq(rc, r.fault);
	return r;
}

/* Asserts a successful access at va with the given path and pa. */
#define fx_expect(x, va, acc, path_, pa_)                                              \
	do {                                                                           \
		struct access_result r_ = fx_acc((x), (va), (acc));                    \
		ck_assert_msg(r_.fault == 0, "access %#" PRIx64 ": fault %d pfec %#x",  \
		              (uint64_t)(va), r_.fault, r_.pfec);                      \
		ck_assert_msg(r_.path == (path_), "access %#" PRIx64 ": path %d, expected %d", \
		              (uint64_t)(va), r_.path, (int)(path_));                  \
		ck_assert_msg(r_.pa == (pa_), "access %#" PRIx64 ": pa %#" PRIx64       \
		              ", expected %#" PRIx64, (uint64_t)(va), r_.pa,           \
		              (uint64_t)(pa_));                                        \
	} while (0)

/* Asserts only the path of a successful access. */
#define fx_expect_path(x, va, acc, path_)                                              \
	do {                                                                           \
		struct access_result r_ = fx_acc((x), (va), (acc));                    \
		ck_assert_msg(r_.fault == 0, "access %#" PRIx64 ": fault %d pfec %#x",  \
		              (uint64_t)(va), r_.fault, r_.pfec);                      \
		ck_assert_msg(r_.path == (path_), "access %#" PRIx64 ": path %d, expected %d", \
		              (uint64_t)(va), r_.path, (int)(path_));                  \
	} while (0)

/* Asserts a #PF with the given error code. */
#define fx_expect_pf(x, va, acc, pfec_)                                                \
	do {                                                                           \
		struct access_result r_ = fx_acc((x), (va), (acc));                    \
		ck_assert_msg(r_.fault == VEC_PF, "access %#" PRIx64 ": fault %d, expected #PF", \
		              (uint64_t)(va), r_.fault);                               \
		ck_assert_msg(r_.pfec == (uint32_t)(pfec_), "access %#" PRIx64           \
		              ": pfec %#x, expected %#x", (uint64_t)(va), r_.pfec,     \
		              (unsigned)(pfec_));                                      \
	} while (0)

static inline int fx_cr3(struct fx *x, uint32_t pcid, bool noflush)
{
	return cpu_mov_cr3(&x->m, 0, x->root | pcid | (noflush ? CR3_NOFLUSH : 0));
}

/* MOV CR4 with bits set and cleared relative to the current value. */
static inline int fx_cr4(struct fx *x, uint64_t set, uint64_t clear)
{
	return cpu_mov_cr4(&x->m, 0, (fx_cpu(x)->cr4 | set) & ~clear);
}

/* CR4.PCIDE=1 (CR3[11:0] is 0 after fx_new), then CR3 = root | pcid with
 * a flush of that PCID. */
static inline void fx_pcide(struct fx *x, uint32_t pcid)
{
	ck_assert_int_eq(cpu_mov_cr3(&x->m, 0, x->root), 0);
	ck_assert_int_eq(fx_cr4(x, CR4_PCIDE, 0), 0);
	ck_assert_int_eq(fx_cr3(x, pcid, false), 0);
	ck_assert_uint_eq(cpu_pcid(&x->m, 0), pcid);
}

/* Events ------------------------------------------------------------------- */

static inline size_t fx_mark(const struct fx *x)
{
	return x->log.n;
}

static inline unsigned fx_count(const struct fx *x, size_t since, unsigned type)
{
	unsigned n = 0;
	for (size_t i = since; i < x->log.n; i++)
		n += x->log.v[i].type == type;
	return n;
}

/* The k-th (0-based) event of type since the mark, or NULL. */
static inline const struct event *fx_nth(const struct fx *x, size_t since, unsigned type,
                                         unsigned k)
{
	for (size_t i = since; i < x->log.n; i++)
		if (x->log.v[i].type == type && k-- == 0)
			return &x->log.v[i];
	return NULL;
}

static inline const struct event *fx_last(const struct fx *x, size_t since, unsigned type)
{
	for (size_t i = x->log.n; i > since; i--)
		if (x->log.v[i - 1].type == type)
			return &x->log.v[i - 1];
	return NULL;
}

/* The single EV_FLUSH since the mark (asserts there is exactly one). */
static inline const struct event *fx_one_flush(const struct fx *x, size_t since)
{
	ck_assert_uint_eq(fx_count(x, since, EV_FLUSH), 1);
	return fx_last(x, since, EV_FLUSH);
}

/* Asserts the instruction, scope and PCID of a flush event. */
#define fx_check_flush(ev, instr_, scope_, pcid_)                                      \
	do {                                                                           \
		ck_assert_ptr_nonnull(ev);                                             \
		ck_assert_msg((ev)->sub == (instr_), "flush instr %u, expected %u",     \
		              (unsigned)(ev)->sub, (unsigned)(instr_));                \
		ck_assert_msg(((ev)->f & 0xff) == (scope_), "flush scope %u, expected %u", \
		              (unsigned)((ev)->f & 0xff), (unsigned)(scope_));         \
		ck_assert_msg((ev)->b == (pcid_), "flush pcid %" PRIu64 ", expected %u", \
		              (ev)->b, (unsigned)(pcid_));                             \
	} while (0)

/* A fault event since the mark with this vector and instruction. */
static inline const struct event *fx_fault_ev(const struct fx *x, size_t since)
{
	ck_assert_uint_eq(fx_count(x, since, EV_FAULT), 1);
	return fx_last(x, since, EV_FAULT);
}

#endif
