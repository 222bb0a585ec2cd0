/* AMD-Vi suite (sim/iommu/amdvi.c): device table and DTE cache, AMD I/O
 * page tables (each paging mode, 4K/2M/1G leaves, NextLevel skipping and
 * size-encoded pages, permissions), the command buffer (COMPLETION_WAIT,
 * INVALIDATE_DEVTAB_ENTRY, INVALIDATE_IOMMU_PAGES with its S-bit range
 * encoding, INVALIDATE_IOMMU_ALL, illegal commands), the event log and its
 * overflow, the registers, the envelope, determinism and costs.
 *
 * Tables are real entries in simulated memory written here with
 * mem_write64; expected values come from the format rules in hw-facts.md
 * §1.4 and the spec, not from the model under test.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"
#include "sim/iommu/iommu.h"
#include "sim/machine.h"
#include "tests/testutil.h"

#define AX_FRAMES 4096u
#define AX_MAX_DID 8u

#define DEV_A IOMMU_SID(0, 3, 0)
#define DEV_B IOMMU_SID(0, 4, 0)
#define DEV_FAR IOMMU_SID(1, 0, 0) /* beyond a one-page device table */

#define IOVA_4K 0x0000000010000000ull
#define IOVA_2M 0x0000000040000000ull
#define IOVA_1G 0x0000008000000000ull
#define PA_2M 0x0000000100600000ull
#define PA_1G 0x0000004000000000ull
#define RW AMDVI_PTE_RW
#define DTE_ON (AMDVI_DTE_V | AMDVI_DTE_TV | AMDVI_DTE_IR | AMDVI_DTE_IW)

struct ax {
	struct machine m;
	struct iommu io;
	uint64_t dt, cmd, evt;      /* device table (1 page), rings (1 page) */
	uint64_t root[AX_MAX_DID];  /* top table per domain */
	unsigned mode[AX_MAX_DID];  /* its paging mode */
	uint64_t status;            /* a frame for COMPLETION_WAIT stores */
};

static uint64_t ax_alloc(struct ax *x)
{
	uint64_t pfn = machine_alloc_frame(&x->m, -1);
	ck_assert_uint_ne(pfn, UINT64_MAX);
	return pfn << PAGE_SHIFT;
}

static void machine_new(struct machine *m)
{
	struct profile p;
	struct sc_error err;
	memset(&err, 0, sizeof(err));
	ck_assert_msg(profile_load_named("skylake", &p, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(machine_init(m, &p, 1, AX_FRAMES, 42), 0);
}

static struct ax *ax_new_cfg(uint32_t iotlb_entries, uint32_t iotlb_ways)
{
	struct ax *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	machine_new(&x->m);
	x->dt = ax_alloc(x);
	x->cmd = ax_alloc(x);
	x->evt = ax_alloc(x);
	x->status = ax_alloc(x);
	struct amdvi_config cfg = {
		.dev_table = x->dt, .dev_table_pages = 1, .cmd_base = x->cmd,
		.evt_base = x->evt, .iotlb_entries = iotlb_entries,
		.iotlb_ways = iotlb_ways,
	};
	ck_assert_int_eq(amdvi_init(&x->io, &x->m, &cfg), 0);
	return x;
}

static struct ax *ax_new(void)
{
	return ax_new_cfg(0, 0);
}

static void ax_free(struct ax *x)
{
	iommu_fini(&x->io);
	machine_fini(&x->m);
	free(x);
}

static void ax_dte_raw(struct ax *x, uint16_t devid, uint64_t q0, uint64_t q1)
{
	uint64_t pa = x->dt + 32ull * devid;
	mem_write64(&x->m.mem, pa + 8, q1);
	mem_write64(&x->m.mem, pa, q0);
}

/* DTE of devid -> domain did translated with `mode` levels. */
static void ax_dte_mode(struct ax *x, uint16_t devid, uint16_t did, unsigned mode)
{
	ck_assert_uint_lt(did, AX_MAX_DID);
	if (!x->root[did]) {
		x->root[did] = ax_alloc(x);
		x->mode[did] = mode;
	}
	ck_assert_uint_eq(x->mode[did], mode);
	ax_dte_raw(x, devid, amdvi_dte_q0(x->root[did], mode, DTE_ON), amdvi_dte_q1(did, 0));
}

static void ax_dte(struct ax *x, uint16_t devid, uint16_t did)
{
	ax_dte_mode(x, devid, did, 4);
}

/* Writes leaf_val as the entry for iova at `level` of domain did,
 * creating directories (NextLevel = level - 1, IR|IW) on the way.
 * Returns the entry's address. */
static uint64_t ax_set(struct ax *x, uint16_t did, uint64_t iova, unsigned level,
                       uint64_t leaf_val)
{
	uint64_t table = x->root[did];
	ck_assert_uint_ne(table, 0);
	for (unsigned l = x->mode[did]; l >= 1; l--) {
		unsigned shift = 12 + 9 * (l - 1);
		uint64_t pa = table + 8 * ((iova >> shift) & 511);
		if (l == level) {
			mem_write64(&x->m.mem, pa, leaf_val);
			return pa;
		}
		uint64_t e = mem_read64(&x->m.mem, pa);
		if (!(e & AMDVI_PTE_PR)) {
			e = amdvi_pde(ax_alloc(x), l - 1, RW);
			mem_write64(&x->m.mem, pa, e);
		}
		table = e & AMDVI_ADDR_MASK;
	}
	ck_abort_msg("no level %u", level);
	return 0;
}

/* A NextLevel-0 leaf of 2^log2 bytes (12, 21, 30: levels 1, 2, 3). */
static uint64_t ax_map(struct ax *x, uint16_t did, uint64_t iova, uint64_t pa, unsigned log2,
                       uint64_t perm)
{
	return ax_set(x, did, iova, 1 + (log2 - 12) / 9, amdvi_pte(pa, perm));
}

static struct iommu_xlate ax_dma(struct ax *x, uint16_t devid, uint64_t iova, unsigned acc)
{
	return iommu_translate(&x->io, devid, iova, acc);
}

static void ax_ok(struct ax *x, uint16_t devid, uint64_t iova, unsigned acc, uint64_t pa)
{
	struct iommu_xlate r = ax_dma(x, devid, iova, acc);
	ck_assert_msg(r.fault == IOMMU_OK, "iova %#llx fault %u", (unsigned long long)iova,
	              r.fault);
	ck_assert_uint_eq(r.pa, pa);
}

static void ax_fault(struct ax *x, uint16_t devid, uint64_t iova, unsigned acc, int f)
{
	struct iommu_xlate r = ax_dma(x, devid, iova, acc);
	ck_assert_int_eq(r.fault, f);
}

/* Submits one command and lets the hardware process the buffer. */
static void ax_cmd(struct ax *x, struct iommu_cmd c)
{
	ck_assert_int_eq(iommu_submit(&x->io, &c), 0);
	ck_assert_uint_eq(iommu_process(&x->io, 1024), 1);
	ck_assert(!x->io.q.error);
}

/* Event log entry i (lo, hi). */
static void ax_event(struct ax *x, uint32_t i, uint64_t *lo, uint64_t *hi)
{
	*lo = mem_read64(&x->m.mem, x->evt + 16ull * i);
	*hi = mem_read64(&x->m.mem, x->evt + 16ull * i + 8);
}

static uint32_t ax_evt_count(struct ax *x)
{
	uint32_t head = (uint32_t)(iommu_mmio_read(&x->io, AMDVI_REG_EVT_HEAD) >> 4);
	uint32_t tail = (uint32_t)(iommu_mmio_read(&x->io, AMDVI_REG_EVT_TAIL) >> 4);
	return (tail - head) & 255u;
}

/* Translation -------------------------------------------------------------- */

/* Mode 4: 4K (level 1), 2M (NextLevel 0 at level 2), 1G (at level 3);
 * the walk reads one entry per level down to the leaf; then hits. */
START_TEST(xlate_page_sizes)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	uint64_t frame = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, frame, 12, RW);
	ax_map(x, 1, IOVA_2M, PA_2M, 21, RW);
	ax_map(x, 1, IOVA_1G, PA_1G, 30, RW);
	static const struct { uint64_t iova, pa, off; unsigned reads; } c[3] = {
		{IOVA_4K, 0, 0x123, 4}, {IOVA_2M, PA_2M, 0x12345, 3}, {IOVA_1G, PA_1G, 0x2345678, 2},
	};
	for (unsigned i = 0; i < 3; i++) {
		uint64_t pa = (i == 0 ? frame : c[i].pa) + c[i].off;
		uint64_t reads = x->io.st.walk_reads;
		struct iommu_xlate r = ax_dma(x, DEV_A, c[i].iova + c[i].off, IOMMU_ACC_READ);
		ck_assert_int_eq(r.fault, IOMMU_OK);
		ck_assert_int_eq(r.path, IOMMU_PATH_WALK);
		ck_assert_uint_eq(r.pa, pa);
		ck_assert_uint_eq(r.did, 1);
		ck_assert_uint_eq(x->io.st.walk_reads - reads, c[i].reads);
		r = ax_dma(x, DEV_A, c[i].iova + c[i].off + 8, IOMMU_ACC_WRITE);
		ck_assert_int_eq(r.path, IOMMU_PATH_HIT);
		ck_assert_uint_eq(r.pa, pa + 8);
	}
	ck_assert_uint_eq(x->io.st.iotlb_fills, 3);
	ax_free(x);
}
END_TEST

/* Each paging mode 1..6: a 4K page at the top of the mode's IOVA space
 * walks `mode` levels; one byte above it is out of range (Mode 6 is
 * bounded at 2^57 by the model, see amdvi.c). */
START_TEST(xlate_modes)
{
	unsigned mode = (unsigned)_i;
	struct ax *x = ax_new();
	ax_dte_mode(x, DEV_A, 1, mode);
	unsigned bits = 12 + 9 * mode < 57 ? 12 + 9 * mode : 57;
	uint64_t top = (1ull << bits) - 0x1000;
	uint64_t frame = ax_alloc(x);
	ax_map(x, 1, top, frame, 12, RW);
	uint64_t reads = x->io.st.walk_reads;
	ax_ok(x, DEV_A, top + 0xabc, IOMMU_ACC_READ, frame + 0xabc);
	ck_assert_uint_eq(x->io.st.walk_reads - reads, mode);
	ax_fault(x, DEV_A, top + 0x1000, IOMMU_ACC_READ, IOMMU_F_ADDR);
	ax_free(x);
}
END_TEST

/* DTE fields: V=0 and TV=0 pass untranslated; Mode 0 passes by IR/IW;
 * Mode 7 and a DeviceID beyond the table are ILLEGAL_DEV_TABLE_ENTRY. */
START_TEST(dte_fields)
{
	struct ax *x = ax_new();
	uint16_t d0 = IOMMU_SID(0, 1, 0), d1 = IOMMU_SID(0, 1, 1), d2 = IOMMU_SID(0, 1, 2),
	         d3 = IOMMU_SID(0, 1, 3);
	ax_dte_raw(x, d0, 0, amdvi_dte_q1(5, 0));                        /* V=0 */
	ax_dte_raw(x, d1, amdvi_dte_q0(0, 4, AMDVI_DTE_V), amdvi_dte_q1(5, 0)); /* TV=0 */
	ax_dte_raw(x, d2, amdvi_dte_q0(0, 0, AMDVI_DTE_V | AMDVI_DTE_TV | AMDVI_DTE_IR),
	           amdvi_dte_q1(5, 0));                                  /* Mode 0, IR */
	ax_dte_raw(x, d3, amdvi_dte_q0(ax_alloc(x), 7, DTE_ON), amdvi_dte_q1(5, 0)); /* Mode 7 */
	struct iommu_xlate r = ax_dma(x, d0, 0x1234567, IOMMU_ACC_WRITE);
	ck_assert_int_eq(r.fault, IOMMU_OK);
	ck_assert_int_eq(r.path, IOMMU_PATH_PASS);
	ck_assert_uint_eq(r.pa, 0x1234567);
	ax_ok(x, d1, 0x5000, IOMMU_ACC_WRITE, 0x5000);
	ax_ok(x, d2, 0x6000, IOMMU_ACC_READ, 0x6000);
	ax_fault(x, d2, 0x6000, IOMMU_ACC_WRITE, IOMMU_F_PERM);
	ax_fault(x, d3, 0x7000, IOMMU_ACC_READ, IOMMU_F_CTX_INVALID);
	ax_fault(x, DEV_FAR, 0x8000, IOMMU_ACC_WRITE, IOMMU_F_CTX_INVALID);
	ck_assert_uint_eq(x->io.st.iotlb_fills, 0);
	/* Events: the Mode-0 write (I/O page fault, PR), then two illegal
	 * DTEs with their DeviceIDs and addresses. */
	ck_assert_uint_eq(ax_evt_count(x), 3);
	uint64_t lo, hi;
	ax_event(x, 0, &lo, &hi);
	ck_assert_uint_eq(AMDVI_EVT_CODE(lo), AMDVI_EVT_IO_PAGE_FAULT);
	ck_assert_uint_eq(AMDVI_EVT_DEVID(lo), d2);
	ck_assert(lo & AMDVI_EVF_PR);
	ck_assert(lo & AMDVI_EVF_RW);
	ck_assert_uint_eq(hi, 0x6000);
	ax_event(x, 1, &lo, &hi);
	ck_assert_uint_eq(AMDVI_EVT_CODE(lo), AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY);
	ck_assert_uint_eq(AMDVI_EVT_DEVID(lo), d3);
	ck_assert_uint_eq(hi, 0x7000);
	ck_assert(!(lo & AMDVI_EVF_RW));
	ax_event(x, 2, &lo, &hi);
	ck_assert_uint_eq(AMDVI_EVT_CODE(lo), AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY);
	ck_assert_uint_eq(AMDVI_EVT_DEVID(lo), DEV_FAR);
	ck_assert(lo & AMDVI_EVF_RW);
	ck_assert_uint_eq(x->io.nfaults, 3);
	ck_assert_uint_eq(x->io.faults[1].hw_reason, AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY);
	ax_free(x);
}
END_TEST

/* The IOTLB is tagged by DomainID: a second device of the same domain
 * hits the first one's entry; a device of another domain walks. */
START_TEST(dte_domain_tag)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	ax_dte(x, DEV_B, 1);
	uint64_t frame = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, frame, 12, RW);
	ck_assert_int_eq(ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	struct iommu_xlate r = ax_dma(x, DEV_B, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_int_eq(r.path, IOMMU_PATH_HIT);
	ck_assert_uint_eq(r.pa, frame);
	uint16_t dc = IOMMU_SID(0, 5, 0);
	ax_dte(x, dc, 2);
	ax_map(x, 2, IOVA_4K, frame, 12, RW);
	ck_assert_int_eq(ax_dma(x, dc, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ax_free(x);
}
END_TEST

/* IR/IW are ANDed over the DTE, every directory and the leaf. */
START_TEST(permissions)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	uint64_t f = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, f, 12, AMDVI_PTE_IR);
	ax_map(x, 1, IOVA_4K + 0x1000, f, 12, AMDVI_PTE_IW);
	ax_ok(x, DEV_A, IOVA_4K, IOMMU_ACC_READ, f);
	ax_fault(x, DEV_A, IOVA_4K, IOMMU_ACC_WRITE, IOMMU_F_PERM); /* hit path */
	ax_fault(x, DEV_A, IOVA_4K + 0x1000, IOMMU_ACC_READ, IOMMU_F_PERM);
	ax_ok(x, DEV_A, IOVA_4K + 0x1000, IOMMU_ACC_WRITE, f);
	/* A read-only directory at level 2 over a RW leaf. */
	uint64_t iova = IOVA_2M + 0x200000;
	ax_map(x, 1, iova, f, 12, RW);           /* builds the directories */
	uint64_t pde = ax_set(x, 1, iova, 2, 0); /* its level-2 entry */
	uint64_t l1 = ax_alloc(x);
	mem_write64(&x->m.mem, l1 + 8 * ((iova >> 12) & 511), amdvi_pte(f, RW));
	mem_write64(&x->m.mem, pde, amdvi_pde(l1, 1, AMDVI_PTE_IR));
	ax_ok(x, DEV_A, iova, IOMMU_ACC_READ, f);
	ax_fault(x, DEV_A, iova, IOMMU_ACC_WRITE, IOMMU_F_PERM);
	/* A DTE without IW: no write anywhere. */
	uint16_t dr = IOMMU_SID(0, 6, 0);
	ax_dte_raw(x, dr, amdvi_dte_q0(x->root[1], 4, AMDVI_DTE_V | AMDVI_DTE_TV | AMDVI_DTE_IR),
	           amdvi_dte_q1(3, 0));
	ax_fault(x, dr, IOVA_4K + 0x1000, IOMMU_ACC_WRITE, IOMMU_F_PERM);
	uint64_t lo, hi;
	ax_event(x, ax_evt_count(x) - 1, &lo, &hi);
	ck_assert_uint_eq(AMDVI_EVT_CODE(lo), AMDVI_EVT_IO_PAGE_FAULT);
	ck_assert_uint_eq(AMDVI_EVT_DOMID(lo), 3);
	ck_assert(lo & AMDVI_EVF_PR);
	ck_assert(lo & AMDVI_EVF_RW);
	ck_assert_uint_eq(hi, IOVA_4K + 0x1000);
	ck_assert_uint_eq(x->io.st.faults, 4);
	ax_free(x);
}
END_TEST

/* NextLevel skipping: a level-4 entry pointing straight at a level-2
 * table; the skipped level-3 IOVA bits (38:30) must be 0. */
START_TEST(next_level_skip)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	uint64_t l2 = ax_alloc(x), l1 = ax_alloc(x), f = ax_alloc(x);
	uint64_t iova = 0x0000008000200000ull + 0x3000; /* level-4 index 1 */
	mem_write64(&x->m.mem, x->root[1] + 8 * 1, amdvi_pde(l2, 2, RW));
	mem_write64(&x->m.mem, l2 + 8 * ((iova >> 21) & 511), amdvi_pde(l1, 1, RW));
	mem_write64(&x->m.mem, l1 + 8 * ((iova >> 12) & 511), amdvi_pte(f, RW));
	uint64_t reads = x->io.st.walk_reads;
	ax_ok(x, DEV_A, iova + 0x10, IOMMU_ACC_WRITE, f + 0x10);
	ck_assert_uint_eq(x->io.st.walk_reads - reads, 3);
	ax_fault(x, DEV_A, iova | (1ull << 30), IOMMU_ACC_READ, IOMMU_F_ADDR);
	/* A directory whose NextLevel does not go down is a bad entry. */
	mem_write64(&x->m.mem, x->root[1] + 8 * 2, amdvi_pde(l2, 4, RW));
	ax_fault(x, DEV_A, 0x0000010000000000ull, IOMMU_ACC_READ, IOMMU_F_PTE_NP);
	uint64_t lo, hi;
	ax_event(x, 1, &lo, &hi);
	ck_assert(lo & AMDVI_EVF_RZ);
	ax_free(x);
}
END_TEST

/* NextLevel 7: the page size is encoded in the address. A 64K page in a
 * level-1 table (16 replicated entries) is cached in 4K pieces; a 4M
 * page in a level-2 table in 2M pieces; a size that does not belong to
 * the level is a bad entry. */
START_TEST(size_encoded_pages)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	uint64_t iova = 0x0000000020000000ull, pa = 0x0000000200000000ull; /* 64K aligned */
	for (unsigned i = 0; i < 16; i++)
		ax_set(x, 1, iova + 0x1000ull * i, 1, amdvi_pte_sized(pa, 16, RW));
	ck_assert_uint_eq(mem_read64(&x->m.mem, ax_set(x, 1, iova, 1, amdvi_pte_sized(pa, 16, RW))) &
	                  AMDVI_ADDR_MASK, pa | 0x7000);
	struct iommu_xlate r = ax_dma(x, DEV_A, iova + 0x9123, IOMMU_ACC_READ);
	ck_assert_int_eq(r.fault, IOMMU_OK);
	ck_assert_uint_eq(r.pa, pa + 0x9123);
	r = ax_dma(x, DEV_A, iova + 0x9ff0, IOMMU_ACC_READ);
	ck_assert_int_eq(r.path, IOMMU_PATH_HIT);
	r = ax_dma(x, DEV_A, iova + 0xa000, IOMMU_ACC_READ); /* next 4K piece */
	ck_assert_int_eq(r.path, IOMMU_PATH_WALK);
	ck_assert_uint_eq(r.pa, pa + 0xa000);

	uint64_t iova4m = 0x0000000080000000ull, pa4m = 0x0000000300000000ull;
	ax_set(x, 1, iova4m, 2, amdvi_pte_sized(pa4m, 22, RW));
	ax_set(x, 1, iova4m + 0x200000, 2, amdvi_pte_sized(pa4m, 22, RW));
	ax_ok(x, DEV_A, iova4m + 0x3fffff, IOMMU_ACC_WRITE, pa4m + 0x3fffff);
	r = ax_dma(x, DEV_A, iova4m + 0x200000, IOMMU_ACC_READ);
	ck_assert_int_eq(r.path, IOMMU_PATH_HIT); /* the upper 2M piece */
	r = ax_dma(x, DEV_A, iova4m, IOMMU_ACC_READ);
	ck_assert_int_eq(r.path, IOMMU_PATH_WALK);
	ck_assert_uint_eq(r.pa, pa4m);

	/* 8K encoded at level 2: smaller than the level's own 2M page. */
	uint64_t bad = 0x00000000c0000000ull;
	ax_set(x, 1, bad, 2, amdvi_pte_sized(pa, 13, RW));
	ax_fault(x, DEV_A, bad, IOMMU_ACC_READ, IOMMU_F_PTE_NP);
	uint64_t lo, hi;
	ax_event(x, 0, &lo, &hi);
	ck_assert(lo & AMDVI_EVF_RZ);
	ck_assert_uint_eq(hi, bad);
	ax_free(x);
}
END_TEST

/* No caching mode: a not-present result is not cached, so mapping the
 * page later needs no invalidation. */
START_TEST(not_present_not_cached)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	ax_fault(x, DEV_A, IOVA_4K, IOMMU_ACC_WRITE, IOMMU_F_PTE_NP);
	ck_assert_uint_eq(x->io.st.iotlb_fills, 0);
	uint64_t f = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, f, 12, RW);
	struct iommu_xlate r = ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_WRITE);
	ck_assert_int_eq(r.fault, IOMMU_OK);
	ck_assert_int_eq(r.path, IOMMU_PATH_WALK);
	ck_assert_uint_eq(r.env_stale, 0);
	uint64_t lo, hi;
	ax_event(x, 0, &lo, &hi);
	ck_assert_uint_eq(AMDVI_EVT_CODE(lo), AMDVI_EVT_IO_PAGE_FAULT);
	ck_assert(!(lo & AMDVI_EVF_PR));
	ck_assert(lo & AMDVI_EVF_RW);
	ck_assert_uint_eq(AMDVI_EVT_DOMID(lo), 1);
	ax_free(x);
}
END_TEST

/* Invalidation -------------------------------------------------------------- */

/* Remap two cached pages without invalidating: both served stale (the
 * envelope says so); S=0 on one page repairs that page only. */
START_TEST(inv_pages_single)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	uint64_t f0 = ax_alloc(x), f1 = ax_alloc(x), g0 = ax_alloc(x), g1 = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, f0, 12, RW);
	ax_map(x, 1, IOVA_4K + 0x1000, f1, 12, RW);
	ax_ok(x, DEV_A, IOVA_4K, IOMMU_ACC_READ, f0);
	ax_ok(x, DEV_A, IOVA_4K + 0x1000, IOMMU_ACC_READ, f1);
	ax_map(x, 1, IOVA_4K, g0, 12, RW);
	ax_map(x, 1, IOVA_4K + 0x1000, g1, 12, RW);
	struct iommu_xlate r = ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.pa, f0);
	ck_assert_uint_eq(r.stale, 1);
	ck_assert_uint_eq(r.env_stale, 1);
	ck_assert_uint_eq(r.env_pa, f0);
	ax_cmd(x, amdvi_cmd_inv_pages(1, IOVA_4K + 0x234, 0)); /* low bits ignored */
	r = ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.pa, g0);
	ck_assert_uint_eq(r.stale, 0);
	ck_assert_uint_eq(r.env_stale, 0);
	r = ax_dma(x, DEV_A, IOVA_4K + 0x1000, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.pa, f1);
	ck_assert_uint_eq(r.env_stale, 1);
	ck_assert_uint_eq(x->io.st.inv_iotlb_page, 1);
	ck_assert_uint_eq(x->io.st.iotlb_inv_entries, 1);
	/* Another domain's invalidation of the same address changes nothing. */
	ax_cmd(x, amdvi_cmd_inv_pages(2, IOVA_4K + 0x1000, 0));
	ck_assert_uint_eq(ax_dma(x, DEV_A, IOVA_4K + 0x1000, IOMMU_ACC_READ).pa, f1);
	ax_free(x);
}
END_TEST

/* Maps 16 pages from base, touches them all (16 IOTLB entries). */
static uint64_t fill16(struct ax *x, uint64_t base, uint64_t frames[16])
{
	ax_dte(x, DEV_A, 1);
	for (unsigned i = 0; i < 16; i++) {
		frames[i] = ax_alloc(x);
		ax_map(x, 1, base + 0x1000ull * i, frames[i], 12, RW);
		ax_ok(x, DEV_A, base + 0x1000ull * i, IOMMU_ACC_READ, frames[i]);
	}
	return x->io.st.iotlb_inv_entries;
}

/* S=1: k low address bits (from bit 12) set and bit 12+k clear means
 * 2^(k+1) pages, naturally aligned; the pages after them still hit. */
START_TEST(inv_pages_s_ranges)
{
	unsigned k = (unsigned)_i;
	struct ax *x = ax_new();
	uint64_t base = 0x0000000000100000ull, fr[16];
	uint64_t inv0 = fill16(x, base, fr);
	uint64_t addr = base | (((1ull << k) - 1) << 12);
	ax_cmd(x, amdvi_cmd_inv_pages(1, addr, AMDVI_INV_S));
	unsigned pages = 1u << (k + 1);
	ck_assert_uint_eq(x->io.st.iotlb_inv_entries - inv0, pages);
	for (unsigned i = 0; i < 16; i++) {
		struct iommu_xlate r = ax_dma(x, DEV_A, base + 0x1000ull * i, IOMMU_ACC_READ);
		ck_assert_int_eq(r.path, i < pages ? IOMMU_PATH_WALK : IOMMU_PATH_HIT);
		ck_assert_uint_eq(r.pa, fr[i]);
	}
	ax_free(x);
}
END_TEST

/* A driver's range [start, start + len) that is not an aligned power of
 * two is widened to the aligned block holding it (hw-facts §1.4): pages
 * 3..4 of base become pages 0..7. S=1 from the middle of a block names
 * the whole block. */
START_TEST(inv_pages_misaligned)
{
	struct ax *x = ax_new();
	uint64_t base = 0x0000000000100000ull, fr[16];
	uint64_t inv0 = fill16(x, base, fr);
	struct iommu_cmd c = amdvi_cmd_inv_range(1, base + 0x3000, 0x2000, true);
	ck_assert(c.hi & AMDVI_INV_S);
	ck_assert(c.hi & AMDVI_INV_PDE);
	ax_cmd(x, c);
	ck_assert_uint_eq(x->io.st.iotlb_inv_entries - inv0, 8);
	ck_assert_int_eq(ax_dma(x, DEV_A, base + 0x8000, IOMMU_ACC_READ).path, IOMMU_PATH_HIT);
	ck_assert_int_eq(ax_dma(x, DEV_A, base, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	/* One page with the helper is S=0. */
	c = amdvi_cmd_inv_range(1, base + 0x9000, 0x1000, false);
	ck_assert(!(c.hi & AMDVI_INV_S));
	ax_cmd(x, c);
	ck_assert_int_eq(ax_dma(x, DEV_A, base + 0x9000, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ck_assert_int_eq(ax_dma(x, DEV_A, base + 0xa000, IOMMU_ACC_READ).path, IOMMU_PATH_HIT);
	ax_free(x);
}
END_TEST

/* A 4K invalidation inside a 2M leaf removes the 2M entry (overlap). */
START_TEST(inv_pages_hits_large_leaf)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	ax_map(x, 1, IOVA_2M, PA_2M, 21, RW);
	ax_ok(x, DEV_A, IOVA_2M + 0x5000, IOMMU_ACC_READ, PA_2M + 0x5000);
	ax_cmd(x, amdvi_cmd_inv_pages(1, IOVA_2M + 0x1ff000, 0));
	ck_assert_uint_eq(x->io.st.iotlb_inv_entries, 1);
	ck_assert_int_eq(ax_dma(x, DEV_A, IOVA_2M, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ax_free(x);
}
END_TEST

/* S=1 with 0x7FFF_FFFF_FFFF_F000: every page of that domain, no other. */
START_TEST(inv_pages_whole_domain)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	ax_dte(x, DEV_B, 2);
	uint64_t f = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, f, 12, RW);
	ax_map(x, 1, IOVA_1G, PA_1G, 30, RW);
	ax_map(x, 2, IOVA_4K, f, 12, RW);
	ax_ok(x, DEV_A, IOVA_4K, IOMMU_ACC_READ, f);
	ax_ok(x, DEV_A, IOVA_1G, IOMMU_ACC_READ, PA_1G);
	ax_ok(x, DEV_B, IOVA_4K, IOMMU_ACC_READ, f);
	ax_cmd(x, amdvi_cmd_inv_pages(1, AMDVI_INV_ALL_PAGES, AMDVI_INV_S | AMDVI_INV_PDE));
	ck_assert_uint_eq(x->io.st.iotlb_inv_entries, 2);
	ck_assert_uint_eq(x->io.st.inv_iotlb_domain, 1);
	ck_assert_int_eq(ax_dma(x, DEV_A, IOVA_1G, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ck_assert_int_eq(ax_dma(x, DEV_B, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_HIT);
	/* The driver helper reaches the same encoding for a huge range. */
	struct iommu_cmd c = amdvi_cmd_inv_range(2, 0, 1ull << 60, false);
	ck_assert_uint_eq(c.hi & ~0xfffull, AMDVI_INV_ALL_PAGES);
	ax_cmd(x, c);
	ck_assert_int_eq(ax_dma(x, DEV_B, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ax_free(x);
}
END_TEST

/* The DTE cache keeps the old domain until INVALIDATE_DEVTAB_ENTRY. */
START_TEST(inv_devtab_entry)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	ax_dte(x, DEV_B, 1);
	uint64_t f1 = ax_alloc(x), f2 = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, f1, 12, RW);
	ax_ok(x, DEV_A, IOVA_4K, IOMMU_ACC_READ, f1);
	ax_ok(x, DEV_B, IOVA_4K, IOMMU_ACC_READ, f1);
	ax_dte(x, DEV_A, 2);
	ax_map(x, 2, IOVA_4K, f2, 12, RW);
	struct iommu_xlate r = ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.pa, f1);
	ck_assert_uint_eq(r.did, 1);
	ck_assert_uint_eq(r.stale, 1);
	ax_cmd(x, amdvi_cmd_inv_devtab(DEV_A));
	ck_assert_uint_eq(x->io.st.ctxc_inv_entries, 1);
	r = ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.pa, f2);
	ck_assert_uint_eq(r.did, 2);
	ck_assert_uint_eq(r.stale, 0);
	ck_assert_uint_eq(x->io.st.ctxc_hits, 1); /* the stale one */
	ax_ok(x, DEV_B, IOVA_4K, IOMMU_ACC_READ, f1); /* DEV_B's DTE still cached */
	ck_assert_uint_eq(x->io.st.ctxc_hits, 2);
	ax_free(x);
}
END_TEST

/* INVALIDATE_IOMMU_ALL: every IOTLB entry and cached DTE. */
START_TEST(inv_all)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	ax_dte(x, DEV_B, 2);
	uint64_t f = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, f, 12, RW);
	ax_map(x, 2, IOVA_2M, PA_2M, 21, RW);
	ax_ok(x, DEV_A, IOVA_4K, IOMMU_ACC_READ, f);
	ax_ok(x, DEV_B, IOVA_2M, IOMMU_ACC_READ, PA_2M);
	ax_cmd(x, amdvi_cmd_inv_all());
	ck_assert_uint_eq(x->io.st.iotlb_inv_entries, 2);
	ck_assert_uint_eq(x->io.st.ctxc_inv_entries, 2);
	uint64_t misses = x->io.st.ctxc_misses;
	ck_assert_int_eq(ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ck_assert_int_eq(ax_dma(x, DEV_B, IOVA_2M, IOMMU_ACC_READ).path, IOMMU_PATH_WALK);
	ck_assert_uint_eq(x->io.st.ctxc_misses - misses, 2);
	ax_free(x);
}
END_TEST

/* Envelope: a small IOTLB evicts the stale entry, so the concrete cache
 * serves the new page, but the envelope still says the old one may be
 * served until an invalidation covering it. */
START_TEST(envelope_after_eviction)
{
	struct ax *x = ax_new_cfg(4, 4); /* one set of 4 */
	ax_dte(x, DEV_A, 1);
	uint64_t f = ax_alloc(x), g = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, f, 12, RW);
	ax_ok(x, DEV_A, IOVA_4K, IOMMU_ACC_READ, f);
	for (unsigned i = 1; i <= 4; i++) {
		ax_map(x, 1, IOVA_4K + 0x1000ull * i, g, 12, RW);
		ax_ok(x, DEV_A, IOVA_4K + 0x1000ull * i, IOMMU_ACC_READ, g);
	}
	ck_assert_uint_eq(x->io.st.iotlb_evictions, 1);
	ax_map(x, 1, IOVA_4K, g, 12, RW); /* remap without invalidation */
	struct iommu_xlate r = ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_int_eq(r.path, IOMMU_PATH_WALK);
	ck_assert_uint_eq(r.pa, g);
	ck_assert_uint_eq(r.stale, 0);
	ck_assert_uint_eq(r.env_stale, 1);
	ck_assert_uint_eq(r.env_pa, f);
	ax_cmd(x, amdvi_cmd_inv_range(1, IOVA_4K, 0x2000, true));
	r = ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.env_stale, 0);
	/* Unmapping a cached page without invalidation: env_stale too. */
	mem_write64(&x->m.mem, ax_map(x, 1, IOVA_4K + 0x3000, 0, 12, 0), 0);
	r = ax_dma(x, DEV_A, IOVA_4K + 0x3000, IOMMU_ACC_READ);
	ck_assert_uint_eq(r.env_stale, 1);
	ax_free(x);
}
END_TEST

/* Command buffer ------------------------------------------------------------ */

/* COMPLETION_WAIT: s stores the 64-bit data after the commands before
 * it; i sets ComWaitInt (RW1C), an interrupt only with ComWaitIntEn. */
START_TEST(completion_wait)
{
	struct ax *x = ax_new();
	mem_write64(&x->m.mem, x->status, 1);
	struct iommu_cmd inv = amdvi_cmd_inv_pages(1, IOVA_4K, 0);
	struct iommu_cmd w = amdvi_cmd_completion_wait(AMDVI_CW_S | AMDVI_CW_I, x->status,
	                                               0x1122334455667788ull);
	ck_assert_int_eq(iommu_submit(&x->io, &inv), 0);
	ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_uint_eq(mem_read64(&x->m.mem, x->status), 1); /* not yet run */
	ck_assert_uint_eq(iommu_process(&x->io, 1), 1);
	ck_assert_uint_eq(mem_read64(&x->m.mem, x->status), 1);
	ck_assert_uint_eq(iommu_process(&x->io, 10), 1);
	ck_assert_uint_eq(mem_read64(&x->m.mem, x->status), 0x1122334455667788ull);
	uint64_t st = iommu_mmio_read(&x->io, AMDVI_REG_STATUS);
	ck_assert(st & AMDVI_ST_COMWAIT_INT);
	ck_assert_uint_eq(x->io.st.wait_interrupts, 0); /* ComWaitIntEn clear */
	iommu_mmio_write(&x->io, AMDVI_REG_STATUS, AMDVI_ST_COMWAIT_INT);
	ck_assert(!(iommu_mmio_read(&x->io, AMDVI_REG_STATUS) & AMDVI_ST_COMWAIT_INT));
	uint64_t ctl = iommu_mmio_read(&x->io, AMDVI_REG_CONTROL);
	iommu_mmio_write(&x->io, AMDVI_REG_CONTROL, ctl | AMDVI_CTL_COMWAIT_INT_EN);
	ax_cmd(x, amdvi_cmd_completion_wait(AMDVI_CW_I, 0, 0));
	ck_assert_uint_eq(x->io.st.wait_interrupts, 1);
	ax_cmd(x, amdvi_cmd_completion_wait(AMDVI_CW_S, x->status + 8, 7));
	ck_assert_uint_eq(mem_read64(&x->m.mem, x->status + 8), 7);
	ck_assert_uint_eq(x->io.st.waits, 3);
	ck_assert_uint_eq(x->io.st.wait_status_writes, 2);
	ax_free(x);
}
END_TEST

/* An illegal command (opcode 0; a reserved bit) logs
 * ILLEGAL_COMMAND_ERROR with its address, clears CmdBufRun and leaves the
 * head on it; later commands wait. Software skips it (head is writable
 * while stopped) and re-enables the buffer. */
START_TEST(illegal_command)
{
	unsigned variant = (unsigned)_i;
	struct ax *x = ax_new();
	mem_write64(&x->m.mem, x->status, 1);
	struct iommu_cmd bad = {.lo = 0, .hi = 0};
	if (variant == 1) {
		bad = amdvi_cmd_inv_pages(1, 0, 0);
		bad.hi |= 1ull << 5; /* reserved bit of dword 2 */
	}
	if (variant == 2)
		bad.lo = 9ull << AMDVI_CMD_OP_SHIFT;
	struct iommu_cmd w = amdvi_cmd_completion_wait(AMDVI_CW_S, x->status, 2);
	ax_cmd(x, amdvi_cmd_completion_wait(0, 0, 0)); /* head moves to 1 */
	ck_assert_int_eq(iommu_submit(&x->io, &bad), 0);
	ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_uint_eq(iommu_process(&x->io, 10), 0);
	ck_assert(x->io.q.error);
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_CMD_HEAD), 1u << 4);
	ck_assert(!(iommu_mmio_read(&x->io, AMDVI_REG_STATUS) & AMDVI_ST_CMDBUF_RUN));
	ck_assert_uint_eq(mem_read64(&x->m.mem, x->status), 1);
	ck_assert_uint_eq(x->io.st.cmds_rejected, 1);
	uint64_t lo, hi;
	ck_assert_uint_eq(ax_evt_count(x), 1);
	ax_event(x, 0, &lo, &hi);
	ck_assert_uint_eq(AMDVI_EVT_CODE(lo), AMDVI_EVT_ILLEGAL_COMMAND);
	ck_assert_uint_eq(hi, x->cmd + 16);
	/* A tail write does not restart it. */
	iommu_mmio_write(&x->io, AMDVI_REG_CMD_TAIL, iommu_mmio_read(&x->io, AMDVI_REG_CMD_TAIL));
	ck_assert_uint_eq(mem_read64(&x->m.mem, x->status), 1);
	uint64_t ctl = iommu_mmio_read(&x->io, AMDVI_REG_CONTROL);
	iommu_mmio_write(&x->io, AMDVI_REG_CONTROL, ctl & ~AMDVI_CTL_CMDBUF_EN);
	iommu_mmio_write(&x->io, AMDVI_REG_CMD_HEAD, 2u << 4);
	iommu_mmio_write(&x->io, AMDVI_REG_CONTROL, ctl);
	ck_assert(iommu_mmio_read(&x->io, AMDVI_REG_STATUS) & AMDVI_ST_CMDBUF_RUN);
	ck_assert_uint_eq(mem_read64(&x->m.mem, x->status), 2);
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_CMD_HEAD), 3u << 4);
	ax_free(x);
}
END_TEST

/* 256 slots, one kept empty: 255 commands fit; wrap-around. */
START_TEST(cmd_full_and_wrap)
{
	struct ax *x = ax_new();
	struct iommu_cmd w = amdvi_cmd_completion_wait(0, 0, 0);
	for (unsigned i = 0; i < 255; i++)
		ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_int_eq(iommu_submit(&x->io, &w), -1);
	ck_assert_uint_eq(x->io.st.queue_full, 1);
	ck_assert_uint_eq(iommu_process(&x->io, 1000), 255);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(iommu_submit(&x->io, &w), 0);
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_CMD_TAIL), 2u << 4);
	ck_assert_uint_eq(iommu_process(&x->io, 1000), 3);
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_CMD_HEAD), 2u << 4);
	ax_free(x);
}
END_TEST

/* Event log ----------------------------------------------------------------- */

/* 256 entries with one kept empty: 255 faults logged, the next sets
 * EventOverflow and stops the log (later faults lost); software drains it,
 * clears the overflow and re-enables logging. SA suppresses events. */
START_TEST(event_log_overflow)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	for (unsigned i = 0; i < 257; i++)
		ax_fault(x, DEV_A, 0x1000ull * i, IOMMU_ACC_READ, IOMMU_F_PTE_NP);
	ck_assert_uint_eq(ax_evt_count(x), 255);
	ck_assert_uint_eq(x->io.amd.events_logged, 255);
	ck_assert_uint_eq(x->io.amd.events_dropped, 2);
	uint64_t st = iommu_mmio_read(&x->io, AMDVI_REG_STATUS);
	ck_assert(st & AMDVI_ST_EVT_OVERFLOW);
	ck_assert(st & AMDVI_ST_EVT_INT);
	ck_assert(!(st & AMDVI_ST_EVT_RUN));
	uint64_t lo, hi;
	ax_event(x, 254, &lo, &hi);
	ck_assert_uint_eq(hi, 0x1000ull * 254);
	ck_assert_uint_eq(AMDVI_EVT_DEVID(lo), DEV_A);
	ck_assert_uint_eq(x->io.st.faults, 257);
	/* Drain, clear, restart (EventLogEn 1 -> 0 -> 1). */
	iommu_mmio_write(&x->io, AMDVI_REG_EVT_HEAD, iommu_mmio_read(&x->io, AMDVI_REG_EVT_TAIL));
	iommu_mmio_write(&x->io, AMDVI_REG_STATUS, AMDVI_ST_EVT_OVERFLOW | AMDVI_ST_EVT_INT);
	uint64_t ctl = iommu_mmio_read(&x->io, AMDVI_REG_CONTROL);
	iommu_mmio_write(&x->io, AMDVI_REG_CONTROL, ctl & ~AMDVI_CTL_EVT_LOG_EN);
	iommu_mmio_write(&x->io, AMDVI_REG_CONTROL, ctl);
	st = iommu_mmio_read(&x->io, AMDVI_REG_STATUS);
	ck_assert(st & AMDVI_ST_EVT_RUN);
	ck_assert(!(st & AMDVI_ST_EVT_OVERFLOW));
	ax_fault(x, DEV_A, 0x777000, IOMMU_ACC_WRITE, IOMMU_F_PTE_NP);
	ck_assert_uint_eq(ax_evt_count(x), 1);
	ax_event(x, 255, &lo, &hi);
	ck_assert_uint_eq(hi, 0x777000);
	ck_assert(lo & AMDVI_EVF_RW);
	/* DTE.SA: the fault is counted but not logged. */
	ax_dte_raw(x, DEV_B, amdvi_dte_q0(x->root[1], 4, DTE_ON), amdvi_dte_q1(1, AMDVI_DTE_SA));
	ax_fault(x, DEV_B, 0x778000, IOMMU_ACC_WRITE, IOMMU_F_PTE_NP);
	ck_assert_uint_eq(ax_evt_count(x), 1);
	ck_assert_uint_eq(x->io.st.faults, 259);
	ax_free(x);
}
END_TEST

/* Registers ----------------------------------------------------------------- */

/* Bases 0 in the config: IommuEn clear, DMA untranslated; software
 * programs the Device Table, Command Buffer and Event Log Base registers
 * and Control, then a tail write processes the buffer synchronously. */
START_TEST(registers_programmed)
{
	struct ax *x = calloc(1, sizeof(*x));
	ck_assert_ptr_nonnull(x);
	machine_new(&x->m);
	struct amdvi_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(amdvi_init(&x->io, &x->m, &cfg), 0);
	ax_ok(x, DEV_A, 0x123456, IOMMU_ACC_WRITE, 0x123456);
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_CONTROL), 0);
	x->dt = ax_alloc(x);
	x->cmd = ax_alloc(x);
	x->evt = ax_alloc(x);
	x->status = ax_alloc(x);
	iommu_mmio_write(&x->io, AMDVI_REG_DTB, amdvi_dtb_reg(x->dt, 1));
	iommu_mmio_write(&x->io, AMDVI_REG_CMD_BASE, amdvi_ring_reg(x->cmd, 9));
	iommu_mmio_write(&x->io, AMDVI_REG_EVT_BASE, amdvi_ring_reg(x->evt, 8));
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_DTB), x->dt);
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_CMD_BASE), x->cmd | 9ull << 56);
	iommu_mmio_write(&x->io, AMDVI_REG_CONTROL, AMDVI_CTL_IOMMU_EN | AMDVI_CTL_CMDBUF_EN |
	                                                 AMDVI_CTL_EVT_LOG_EN);
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_STATUS),
	                  AMDVI_ST_CMDBUF_RUN | AMDVI_ST_EVT_RUN);
	/* Length below 8 is reserved; the base is read-only while enabled. */
	iommu_mmio_write(&x->io, AMDVI_REG_CMD_BASE, amdvi_ring_reg(x->status, 3));
	ck_assert_uint_eq(x->io.q.entries, 512);
	ck_assert_uint_eq(x->io.q.base, x->cmd);
	ax_dte(x, DEV_A, 1);
	uint64_t f = ax_alloc(x);
	ax_map(x, 1, IOVA_4K, f, 12, RW);
	ax_ok(x, DEV_A, IOVA_4K, IOMMU_ACC_WRITE, f);
	ax_fault(x, DEV_FAR, IOVA_4K, IOMMU_ACC_WRITE, IOMMU_F_CTX_INVALID); /* 128 DTEs */
	/* The driver's way: commands into memory, then the tail register. */
	struct iommu_cmd c[2] = {
		amdvi_cmd_inv_pages(1, IOVA_4K, 0),
		amdvi_cmd_completion_wait(AMDVI_CW_S, x->status, 5),
	};
	for (unsigned i = 0; i < 2; i++) {
		mem_write64(&x->m.mem, x->cmd + 16ull * i, c[i].lo);
		mem_write64(&x->m.mem, x->cmd + 16ull * i + 8, c[i].hi);
	}
	iommu_mmio_write(&x->io, AMDVI_REG_CMD_TAIL, 2u << 4);
	ck_assert_uint_eq(iommu_mmio_read(&x->io, AMDVI_REG_CMD_HEAD), 2u << 4);
	ck_assert_uint_eq(mem_read64(&x->m.mem, x->status), 5);
	ck_assert_uint_eq(x->io.st.iotlb_inv_entries, 1);
	ck_assert_uint_eq(ax_evt_count(x), 1);
	/* IommuEn clear again: untranslated. */
	iommu_mmio_write(&x->io, AMDVI_REG_CONTROL, 0);
	ax_ok(x, DEV_A, IOVA_4K, IOMMU_ACC_WRITE, IOVA_4K);
	ax_free(x);
}
END_TEST

START_TEST(bad_config)
{
	struct machine m;
	struct iommu io;
	machine_new(&m);
	struct amdvi_config c = {.dev_table = 0x1234};
	ck_assert_int_eq(amdvi_init(&io, &m, &c), -1);
	c = (struct amdvi_config){.cmd_base = 0x1000, .cmd_len = 7};
	ck_assert_int_eq(amdvi_init(&io, &m, &c), -1);
	c = (struct amdvi_config){.evt_base = 0x1000, .evt_len = 16};
	ck_assert_int_eq(amdvi_init(&io, &m, &c), -1);
	c = (struct amdvi_config){.dev_table = 0x1000, .dev_table_pages = 513};
	ck_assert_int_eq(amdvi_init(&io, &m, &c), -1);
	c = (struct amdvi_config){.dev_table = 0x1000, .iotlb_entries = 6, .iotlb_ways = 4};
	ck_assert_int_eq(amdvi_init(&io, &m, &c), -1);
	machine_fini(&m);
}
END_TEST

/* Costs and determinism ---------------------------------------------------- */

static void workload(struct iommu_stats *st, struct amdvi_regs *regs, uint64_t evt[64])
{
	struct ax *x = ax_new_cfg(16, 4);
	ax_dte(x, DEV_A, 1);
	ax_dte(x, DEV_B, 2);
	for (unsigned i = 0; i < 64; i++) {
		uint64_t iova = IOVA_4K + 0x1000ull * ((i * 7) % 12);
		if (i % 3 == 0)
			ax_map(x, (uint16_t)(1 + i % 2), iova, ax_alloc(x), 12,
			       i % 5 ? RW : AMDVI_PTE_IR);
		(void)ax_dma(x, i % 2 ? DEV_B : DEV_A, iova,
		             i % 4 ? IOMMU_ACC_READ : IOMMU_ACC_WRITE);
		if (i % 16 == 15) {
			ax_cmd(x, amdvi_cmd_inv_range(1, IOVA_4K, 0x8000, true));
			ax_cmd(x, amdvi_cmd_completion_wait(AMDVI_CW_S, x->status, i));
		}
	}
	*st = x->io.st;
	*regs = x->io.amd;
	for (unsigned i = 0; i < 64; i++)
		evt[i] = mem_read64(&x->m.mem, x->evt + 8ull * i);
	ax_free(x);
}

START_TEST(determinism)
{
	struct iommu_stats a, b;
	struct amdvi_regs ra, rb;
	uint64_t ea[64], eb[64];
	workload(&a, &ra, ea);
	workload(&b, &rb, eb);
	ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
	ck_assert_int_eq(memcmp(&ra, &rb, sizeof(ra)), 0);
	ck_assert_int_eq(memcmp(ea, eb, sizeof(ea)), 0);
	ck_assert_uint_gt(a.iotlb_hits, 0);
	ck_assert_uint_gt(a.faults, 0);
	ck_assert_uint_eq(ra.events_logged, a.faults);
	ck_assert_uint_eq(a.waits, 4);
}
END_TEST

/* §8 costs: walk 1500, INVALIDATE_IOMMU_PAGES 4500 (its wait 0), DTE and
 * all-invalidation 4500 (est). */
START_TEST(cost_accounting)
{
	struct ax *x = ax_new();
	ax_dte(x, DEV_A, 1);
	ax_map(x, 1, IOVA_4K, ax_alloc(x), 12, RW);
	(void)ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ);
	(void)ax_dma(x, DEV_A, IOVA_4K, IOMMU_ACC_READ);
	ax_cmd(x, amdvi_cmd_inv_pages(1, IOVA_4K, 0));
	ax_cmd(x, amdvi_cmd_completion_wait(AMDVI_CW_S, x->status, 1));
	ax_cmd(x, amdvi_cmd_inv_devtab(DEV_A));
	ax_cmd(x, amdvi_cmd_inv_all());
	/* The profile's figures (skylake: hw-facts §8 Zen2-like column for
	 * AMD-Vi, all estimates), one each: miss, hit, pages, wait, DTE, all. */
	const struct profile *pr = &x->m.prof;
	ck_assert_uint_eq(x->io.st.cycles, pr->iommu_iotlb_miss + IOMMU_COST_IOTLB_HIT +
	                                       pr->amdvi_inv_pages + 0 + pr->amdvi_inv_devtab +
	                                       pr->amdvi_inv_all);
	ck_assert_uint_eq(pr->amdvi_inv_pages, 4500);
	ax_free(x);
}
END_TEST

static Suite *amdvi_suite(void)
{
	Suite *s = suite_create("iommu_amdvi");
	TCase *tc = tcase_create("translate");
	tcase_add_test(tc, xlate_page_sizes);
	tcase_add_loop_test(tc, xlate_modes, 1, 7);
	tcase_add_test(tc, dte_fields);
	tcase_add_test(tc, dte_domain_tag);
	tcase_add_test(tc, permissions);
	tcase_add_test(tc, next_level_skip);
	tcase_add_test(tc, size_encoded_pages);
	tcase_add_test(tc, not_present_not_cached);
	suite_add_tcase(s, tc);

	tc = tcase_create("invalidate");
	tcase_add_test(tc, inv_pages_single);
	tcase_add_loop_test(tc, inv_pages_s_ranges, 0, 3);
	tcase_add_test(tc, inv_pages_misaligned);
	tcase_add_test(tc, inv_pages_hits_large_leaf);
	tcase_add_test(tc, inv_pages_whole_domain);
	tcase_add_test(tc, inv_devtab_entry);
	tcase_add_test(tc, inv_all);
	tcase_add_test(tc, envelope_after_eviction);
	suite_add_tcase(s, tc);

	tc = tcase_create("rings");
	tcase_add_test(tc, completion_wait);
	tcase_add_loop_test(tc, illegal_command, 0, 3);
	tcase_add_test(tc, cmd_full_and_wrap);
	tcase_add_test(tc, event_log_overflow);
	tcase_add_test(tc, registers_programmed);
	tcase_add_test(tc, bad_config);
	tcase_add_test(tc, determinism);
	tcase_add_test(tc, cost_accounting);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(amdvi_suite());
}
