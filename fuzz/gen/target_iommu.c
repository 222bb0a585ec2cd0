/* Fuzz target `iommu`: the hypervisor's IOMMU layer and DMA (issue 6,
 * seed 001; docs/iommu.md).
 *
 * The swarm draws the unit (VT-d with CM=0 or CM=1, AMD-Vi), flush
 * elision on or off (off is the code before the seed), strict or deferred
 * unmap and its batch, 3 or 4 I/O page-table levels, the IOTLB geometry,
 * 1-4 CPUs, a hardware domain (domain 0, with its 1:1 io_hwdom_init on
 * some CPU) or not, 1-3 I/O domains with one device each, and which ops
 * this case uses with what weights. The ops: io_map / io_unmap of orders
 * 0..10 over a small window of DFNs per domain, biased to its first pages
 * and to the last range used (remaps, identical re-maps, overlaps; order
 * 10 is above VT-d's MAMV of 9, the domain-selective fallback), unmaps
 * with `free`, io_reassign of frame blocks, io_flush, single DMAs from
 * each domain's device (result: any -- the properties judge) and DMA
 * streams that run on the device's clock, so their pieces land inside
 * later operations; rarely a map above the address width (the error
 * path: undo, flush-all, crash unless the hardware domain).
 *
 * Every case is a correct user of the interface (the rules of
 * tests/test_iommu_random.c): a domain maps only frames of blocks it
 * owns; a block changes owner only when nothing maps it and no deferred
 * unmap of it is pending; frames are freed on unmap only in strict mode
 * and only when nothing else maps them; in deferred mode a DFN range is
 * re-used (mapped or unmapped again) only after an io_flush of the
 * domain. So every runner property (iommu-stale-dma, iommu-map-visible,
 * dma-ownership, iotlb-envelope, iommu-one-flush) must hold.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/gen/observe.h"
#include "fuzz/gen/scbuild.h"
#include "fuzz/gen/target.h"
#include "sim/iommu/iommu.h"

#define MAX_DOM 3u
#define MAX_CPUS 4u
#define WIN 1024u           /* DFNs per domain window */
#define HOT 16u             /* the window's first pages, drawn more often */
#define BLOCK 1024u         /* frames per ownership block */
#define NBLOCK 6u
#define FRAME0 0x20000ull   /* first frame of block 0 (above the allocator's) */
#define MAX_STREAMS 2u
#define MAX_HW_PAGES 64u

enum { E_NONE = 0, E_MAPPED = 1, E_ZOMBIE = 2 };

struct iogen {
	struct bytesrc *b;
	struct scenario *sc;
	unsigned ncpus, ndom;
	bool hw, deferred;
	uint64_t dfn0[MAX_DOM];
	uint8_t state[MAX_DOM][WIN];
	uint8_t flags[MAX_DOM][WIN];
	uint32_t frame[MAX_DOM][WIN];   /* mfn - FRAME0 */
	uint16_t refcnt[NBLOCK * BLOCK]; /* mappings and zombies per frame */
	uint8_t freed[NBLOCK * BLOCK];   /* given up by an unmap with free */
	int8_t owner[NBLOCK];            /* which domain maps the block's frames */
	unsigned streams;
	/* The last range mapped or unmapped: drawn again for remaps. */
	unsigned last_dom, last_order;
	uint64_t last_idx;
	bool has_last;
	int last_cpu;       /* CPU of the last op that changed I/O state, -1 */
};

static uint16_t sid_of(unsigned dom)
{
	return (uint16_t)((3 + dom) << 3); /* 00:03.0, 00:04.0, ... */
}

/* Ops that change the I/O state run in program order: one from another
 * CPU than the last such op's is preceded by a barrier (CPUs run their
 * programs concurrently; the generator's legality rules assume this
 * order, as a domain's lock gives it in Xen). DMA needs no order: its
 * result is judged at the time it runs. */
static struct op *add(struct iogen *g, enum op_kind k, unsigned cpu)
{
	bool stateful = k != OP_DMA && k != OP_DMA_STREAM && k != OP_BARRIER;
	if (stateful && g->ncpus > 1 && g->last_cpu >= 0 && g->last_cpu != (int)cpu &&
	    !scb_op(g->sc, OP_BARRIER, 0))
		return NULL;
	if (stateful)
		g->last_cpu = (int)cpu;
	return scb_op(g->sc, k, cpu);
}

static unsigned pick_order(struct iogen *g)
{
	static const unsigned w[] = {0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 9, 9};
	if (bs_chance(g->b, 3))
		return 10;
	return bs_chance(g->b, 12) ? (unsigned)bs_below(g->b, 10)
	                           : w[bs_below(g->b, sizeof(w) / sizeof(w[0]))];
}

/* A window index aligned to the order: the hot pages, a mapped page's
 * range, the last range, or anywhere. */
static uint64_t pick_idx(struct iogen *g, unsigned dom, unsigned order)
{
	uint64_t n = 1ull << order;
	switch (bs_below(g->b, 8)) {
	case 0:
	case 1:
		if (g->has_last && g->last_dom == dom)
			return g->last_idx & ~(n - 1);
		break;
	case 2:
	case 3: {
		uint64_t start = bs_below(g->b, WIN);
		for (uint64_t k = 0; k < WIN; k++)
			if (g->state[dom][(start + k) % WIN] != E_NONE)
				return ((start + k) % WIN) & ~(n - 1);
		break;
	}
	case 4:
		return bs_below(g->b, WIN / n) * n;
	default:
		break;
	}
	uint64_t span = n > HOT ? n : HOT;
	return bs_below(g->b, span / n) * n;
}

static void ref_drop(struct iogen *g, unsigned dom, uint64_t idx)
{
	if (g->state[dom][idx] != E_NONE) {
		uint32_t f = g->frame[dom][idx];
		if (g->refcnt[f])
			g->refcnt[f]--;
	}
	g->state[dom][idx] = E_NONE;
}

static bool range_has_zombie(const struct iogen *g, unsigned dom, uint64_t idx, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (g->state[dom][idx + i] == E_ZOMBIE)
			return true;
	return false;
}

/* io_flush: the domain's deferred unmaps are flushed (flush-all). */
static int gen_flush(struct iogen *g, unsigned dom, unsigned cpu)
{
	struct op *op = add(g, OP_IO_FLUSH, cpu);
	if (!op)
		return -1;
	op->domain = dom;
	for (uint64_t i = 0; i < WIN; i++)
		if (g->state[dom][i] == E_ZOMBIE)
			ref_drop(g, dom, i);
	return 0;
}

/* In deferred mode a range is re-used only after the domain's flush. */
static int reuse_ok(struct iogen *g, unsigned dom, unsigned cpu, uint64_t idx, uint64_t n)
{
	if (g->deferred && range_has_zombie(g, dom, idx, n))
		return gen_flush(g, dom, cpu);
	return 0;
}

static int owned_block(struct iogen *g, unsigned dom)
{
	unsigned b0 = (unsigned)bs_below(g->b, NBLOCK);
	for (unsigned t = 0; t < NBLOCK; t++)
		if (g->owner[(b0 + t) % NBLOCK] == (int)dom)
			return (int)((b0 + t) % NBLOCK);
	return -1;
}

/* Frames given up (unmap with free) belong to nobody: the domain takes
 * them back (io_reassign, the frames' new owner) before it maps them. A
 * map must not be what makes a frame the domain's: the runner gives
 * unowned frames to the domain only when the map returns, and a DMA
 * through the new entries meanwhile reaches a frame nobody owns. */
static int reacquire(struct iogen *g, unsigned dom, unsigned cpu, uint32_t frame, uint64_t n)
{
	bool any = false;
	for (uint64_t i = 0; i < n; i++)
		any |= g->freed[frame + i] != 0;
	if (!any)
		return 0;
	struct op *op = add(g, OP_IO_REASSIGN, cpu);
	if (!op)
		return -1;
	op->domain = dom;
	op->io.mfn = FRAME0 + frame;
	op->io.pages = n;
	memset(&g->freed[frame], 0, n);
	return 0;
}

static int gen_map(struct iogen *g, unsigned dom, unsigned cpu)
{
	unsigned order = pick_order(g);
	uint64_t n = 1ull << order;
	uint64_t idx = pick_idx(g, dom, order);
	int blk = owned_block(g, dom);
	if (blk < 0)
		return 0;
	uint64_t off = bs_chance(g->b, 50) ? bs_below(g->b, (n > HOT ? n : HOT) / n) * n
	                                    : bs_below(g->b, BLOCK / n) * n;
	uint32_t frame = (uint32_t)((uint64_t)blk * BLOCK + off);
	unsigned flags = bs_chance(g->b, 15) ? 1u + (unsigned)bs_below(g->b, 2) : 3u;
	/* The same frames again: the identical re-map (flush type NONE). */
	if (g->state[dom][idx] == E_MAPPED && (g->frame[dom][idx] & (n - 1)) == 0 &&
	    g->owner[g->frame[dom][idx] / BLOCK] == (int)dom &&
	    g->frame[dom][idx] / BLOCK == (g->frame[dom][idx] + n - 1) / BLOCK &&
	    bs_chance(g->b, 35)) {
		frame = g->frame[dom][idx];
		flags = g->flags[dom][idx];
	}
	if (reuse_ok(g, dom, cpu, idx, n) || reacquire(g, dom, cpu, frame, n))
		return -1;
	struct op *op = add(g, OP_IO_MAP, cpu);
	if (!op)
		return -1;
	op->domain = dom;
	op->io.dfn = g->dfn0[dom] + idx;
	op->io.mfn = FRAME0 + frame;
	op->io.order = order;
	op->io.flags = flags;
	for (uint64_t i = 0; i < n; i++) {
		ref_drop(g, dom, idx + i);
		g->state[dom][idx + i] = E_MAPPED;
		g->frame[dom][idx + i] = (uint32_t)(frame + i);
		g->flags[dom][idx + i] = (uint8_t)flags;
		g->refcnt[frame + i]++;
	}
	g->has_last = true;
	g->last_dom = dom;
	g->last_idx = idx;
	g->last_order = order;
	return 0;
}

static int gen_unmap(struct iogen *g, unsigned dom, unsigned cpu)
{
	unsigned order = pick_order(g);
	uint64_t n = 1ull << order;
	uint64_t idx = pick_idx(g, dom, order);
	if (reuse_ok(g, dom, cpu, idx, n))
		return -1;
	/* Free the frames only when nothing else maps them (strict). */
	bool fr = !g->deferred && bs_chance(g->b, 35);
	for (uint64_t i = 0; i < n && fr; i++)
		if (g->state[dom][idx + i] != E_NONE && g->refcnt[g->frame[dom][idx + i]] != 1)
			fr = false;
	struct op *op = add(g, OP_IO_UNMAP, cpu);
	if (!op)
		return -1;
	op->domain = dom;
	op->io.dfn = g->dfn0[dom] + idx;
	op->io.order = order;
	op->io.free = fr;
	for (uint64_t i = 0; i < n; i++) {
		if (g->state[dom][idx + i] != E_MAPPED)
			continue;
		if (fr)
			g->freed[g->frame[dom][idx + i]] = 1;
		if (g->deferred)
			g->state[dom][idx + i] = E_ZOMBIE; /* until the domain's io_flush */
		else
			ref_drop(g, dom, idx + i);
	}
	g->has_last = true;
	g->last_dom = dom;
	g->last_idx = idx;
	g->last_order = order;
	return 0;
}

/* A map above the unit's address width (3 levels: 39 bits, 4: 48): the
 * error path. Nothing is mapped; a non-hardware domain crashes. */
static int gen_map_error(struct iogen *g, unsigned dom, unsigned cpu)
{
	int blk = owned_block(g, dom);
	if (blk < 0)
		return 0;
	unsigned order = bs_chance(g->b, 50) ? 0 : (unsigned)bs_below(g->b, 4);
	struct op *op = add(g, OP_IO_MAP, cpu);
	if (!op)
		return -1;
	op->domain = dom;
	op->io.dfn = (1ull << (g->sc->iommu.levels == 3 ? 27 : 36)) + (bs_below(g->b, 4) << order);
	op->io.mfn = FRAME0 + (uint64_t)blk * BLOCK + (bs_below(g->b, 8) << order);
	op->io.order = order;
	op->io.flags = 3;
	return 0;
}

/* A block nothing maps (nor has a deferred unmap pending) changes owner. */
static int gen_reassign(struct iogen *g, unsigned cpu)
{
	if (g->ndom < 2)
		return 0;
	unsigned b = (unsigned)bs_below(g->b, NBLOCK);
	for (unsigned i = 0; i < BLOCK; i++)
		if (g->refcnt[b * BLOCK + i])
			return 0;
	unsigned to = (unsigned)(g->owner[b] + 1 + (int)bs_below(g->b, g->ndom - 1)) % g->ndom;
	struct op *op = add(g, OP_IO_REASSIGN, cpu);
	if (!op)
		return -1;
	op->domain = to;
	op->io.mfn = FRAME0 + (uint64_t)b * BLOCK;
	op->io.pages = BLOCK;
	g->owner[b] = (int8_t)to;
	memset(&g->freed[b * BLOCK], 0, BLOCK);
	return 0;
}

/* An IOVA of the domain: a mapped (or pending) page, the hot pages, the
 * window, or just outside it. */
static uint64_t pick_iova(struct iogen *g, unsigned dom)
{
	uint64_t dfn;
	unsigned k = (unsigned)bs_below(g->b, 10);
	if (k < 5) {
		uint64_t start = bs_below(g->b, WIN), i = start;
		for (uint64_t t = 0; t < WIN; t++, i = (start + t) % WIN)
			if (g->state[dom][i] != E_NONE)
				break;
		dfn = g->dfn0[dom] + i;
	} else if (k < 8) {
		dfn = g->dfn0[dom] + bs_below(g->b, HOT);
	} else if (k < 9) {
		dfn = g->dfn0[dom] + bs_below(g->b, WIN);
	} else {
		dfn = g->dfn0[dom] + WIN + bs_below(g->b, 4);
	}
	uint64_t off = bs_chance(g->b, 20) ? bs_below(g->b, 512) * 8 : 0;
	return dfn << 12 | off;
}

static int gen_dma(struct iogen *g, unsigned dom, unsigned cpu)
{
	struct op *op = add(g, OP_DMA, cpu);
	if (!op)
		return -1;
	op->io.sid = sid_of(dom);
	op->io.iova = pick_iova(g, dom);
	op->io.len = bs_chance(g->b, 70) ? 4096 : 1 + (uint32_t)bs_below(g->b, 8 * 4096);
	op->io.write = bs_chance(g->b, 60);
	op->io.expect = SC_DMA_ANY;
	return 0;
}

static int gen_stream(struct iogen *g, unsigned dom, unsigned cpu)
{
	if (g->streams >= MAX_STREAMS)
		return gen_dma(g, dom, cpu);
	g->streams++;
	struct op *op = add(g, OP_DMA_STREAM, cpu);
	if (!op)
		return -1;
	op->io.sid = sid_of(dom);
	op->io.iova = (g->dfn0[dom] + bs_below(g->b, HOT)) << 12;
	op->io.pages = 1 + bs_below(g->b, bs_chance(g->b, 70) ? HOT : 512);
	op->io.len = 4096;
	op->io.period = 100 + bs_below(g->b, 2000);
	op->io.count = 10 + bs_below(g->b, 150);
	op->io.write = bs_chance(g->b, 60);
	return 0;
}

static void iommu_config(struct iogen *g)
{
	struct sc_iommu *io = &g->sc->iommu;
	static const uint32_t batches[] = {1, 2, 8, 256};
	static const uint32_t geo[][2] = {{8, 2}, {16, 4}, {32, 1}, {64, 4}, {256, 8}};
	scb_hv_defaults(&g->sc->hv);
	*io = (struct sc_iommu){.enabled = true, .elide = true, .unmap = SC_UNMAP_STRICT,
	                        .deferred_batch = 256, .levels = 4};
	io->kind = bs_chance(g->b, 60) ? SC_IOMMU_VTD : SC_IOMMU_AMD;
	io->caching_mode = io->kind == SC_IOMMU_VTD && bs_chance(g->b, 45);
	io->elide = bs_chance(g->b, 85);
	if (bs_chance(g->b, 35)) {
		io->unmap = SC_UNMAP_DEFERRED;
		io->deferred_batch = batches[bs_below(g->b, 4)];
	}
	io->levels = bs_chance(g->b, 30) ? 3 : 4;
	if (bs_chance(g->b, 30)) {
		unsigned k = (unsigned)bs_below(g->b, 5);
		io->iotlb_entries = geo[k][0];
		io->iotlb_ways = geo[k][1];
	}
	g->deferred = io->unmap == SC_UNMAP_DEFERRED;
}

/* Domains, their devices, and the hardware domain's 1:1 map. */
static int setup(struct iogen *g)
{
	g->hw = bs_chance(g->b, 35);
	g->ndom = 1 + (unsigned)bs_below(g->b, MAX_DOM);
	for (unsigned d = 0; d < g->ndom; d++) {
		struct op *op = add(g, OP_IO_DOMAIN, 0);
		if (!op)
			return -1;
		op->domain = d;
		op->io.hw = g->hw && d == 0;
		/* The hardware domain's window is its own 1:1 frames. */
		g->dfn0[d] = op->io.hw ? FRAME0 : 0x1000ull * (d + 1);
	}
	for (unsigned d = 0; d < g->ndom; d++) {
		struct op *op = add(g, OP_IO_ASSIGN, 0);
		if (!op)
			return -1;
		op->domain = d;
		op->io.sid = sid_of(d);
	}
	/* Each domain owns its blocks before it maps them (contiguous:
	 * one io_reassign each). */
	for (unsigned d = 0; d < g->ndom; d++) {
		unsigned b0 = d * NBLOCK / g->ndom, b1 = (d + 1) * NBLOCK / g->ndom;
		struct op *op = add(g, OP_IO_REASSIGN, 0);
		if (!op)
			return -1;
		op->domain = d;
		op->io.mfn = FRAME0 + (uint64_t)b0 * BLOCK;
		op->io.pages = (uint64_t)(b1 - b0) * BLOCK;
		for (unsigned b = b0; b < b1; b++)
			g->owner[b] = (int8_t)d;
	}
	if (!g->hw || bs_chance(g->b, 15))
		return g->ncpus > 1 && !scb_op(g->sc, OP_BARRIER, 0) ? -1 : 0;
	/* io_hwdom_init on some CPU: its dont_flush is set meanwhile. */
	struct op *op = add(g, OP_IO_HWDOM_INIT, (unsigned)bs_below(g->b, g->ncpus));
	if (!op)
		return -1;
	op->domain = 0;
	op->io.pages = 1 + bs_below(g->b, MAX_HW_PAGES);
	op->io.mfn = op->io.dfn = FRAME0;
	for (uint64_t i = 0; i < op->io.pages; i++) {
		g->state[0][i] = E_MAPPED;
		g->frame[0][i] = (uint32_t)i;
		g->flags[0][i] = 3;
		g->refcnt[i]++;
	}
	/* Every CPU sees the domains before it uses them. */
	return g->ncpus > 1 && !scb_op(g->sc, OP_BARRIER, 0) ? -1 : 0;
}

static int iommu_ops(struct iogen *g)
{
	enum { W_MAP, W_UNMAP, W_DMA, W_STREAM, W_FLUSH, W_REASSIGN, W_ERROR, NW };
	unsigned w[NW];
	for (unsigned i = 0; i < NW; i++)
		w[i] = bs_chance(g->b, 75) ? 1 + (unsigned)bs_below(g->b, 4) : 0;
	w[W_MAP] += 3;
	w[W_DMA] += 2;
	w[W_ERROR] = bs_chance(g->b, 15) ? 1 : 0;
	if (!g->deferred && w[W_FLUSH])
		w[W_FLUSH] = 1;
	unsigned n = 3 + (unsigned)bs_below(g->b, 14) +
	             (bs_chance(g->b, 20) ? (unsigned)bs_below(g->b, 40) : 0);
	for (unsigned i = 0; i < n && !bs_exhausted(g->b); i++) {
		unsigned cpu = (unsigned)bs_below(g->b, g->ncpus);
		unsigned dom = (unsigned)bs_below(g->b, g->ndom);
		int rc;
		switch (bs_weighted(g->b, w, NW)) {
		case W_MAP:
			rc = gen_map(g, dom, cpu);
			break;
		case W_UNMAP:
			rc = gen_unmap(g, dom, cpu);
			break;
		case W_DMA:
			rc = gen_dma(g, dom, cpu);
			break;
		case W_STREAM:
			rc = gen_stream(g, dom, cpu);
			break;
		case W_FLUSH:
			rc = gen_flush(g, dom, cpu);
			break;
		case W_REASSIGN:
			rc = gen_reassign(g, cpu);
			break;
		default:
			rc = gen_map_error(g, dom, cpu);
			break;
		}
		if (rc)
			return g->sc->nops >= SCB_MAX_OPS - 4 ? 0 : -1;
	}
	return 0;
}

static int iommu_decode(struct bytesrc *b, struct scenario *sc)
{
	static const char *const profiles[] = {"skylake", "zen3"};
	const char *prof = profiles[bs_below(b, 2)];
	unsigned ncpus = 1 + (unsigned)bs_below(b, MAX_CPUS);
	if (scb_begin(sc, "fuzz-iommu", prof, ncpus) != 0)
		return -1;
	sc->seed = 1 + bs_below(b, 1u << 16);
	sc->has_seed = true;
	struct iogen *g = calloc(1, sizeof(*g));
	if (!g) {
		scenario_free(sc);
		return -1;
	}
	g->b = b;
	g->sc = sc;
	g->ncpus = ncpus;
	g->last_cpu = -1;
	iommu_config(g);
	int rc = setup(g) || iommu_ops(g) ? -1 : 0;
	free(g);
	if (rc)
		scenario_free(sc);
	return rc;
}

/* ---- states and the observer ---------------------------------------------- */

enum {
	S_CM1_ADDED, S_ORDER9_ONE, S_AMD_WIDE, S_DSI_FALLBACK, S_HWDOM, S_DEFERRED_BATCH,
	S_EXPLICIT_FLUSH, S_ERROR_PATH, S_DMA_IN_OP, S_STALE_DEFERRED, S_IDENTICAL, S_NP_CACHED,
	S_DMA_FAULT, S_PER_PTE, S_COUNT
};

static const struct fz_state iommu_states[] = {
	[S_CM1_ADDED] = {"cm1-added-flush", "VT-d CM=1: a map of fresh entries (ADDED) was "
	                                    "flushed"},
	[S_ORDER9_ONE] = {"order9-remap-one-flush", "an order-9 remap of present entries with "
	                                            "one invalidation (PSI AM=9 / one S-bit "
	                                            "block)"},
	/* Widening (an unaligned range flushed as the aligned block holding
	 * it, hw-facts 1.4) cannot be reached: io_map/io_unmap take aligned
	 * power-of-two ranges only (hv range_ok, the loader's alignment), so
	 * the S-bit block is always the range itself. */
	[S_AMD_WIDE] = {"amd-s-bit-range", "AMD-Vi: one INVALIDATE_IOMMU_PAGES with S=1 "
	                                   "flushed a multi-page range"},
	[S_DSI_FALLBACK] = {"dsi-fallback", "VT-d: a map or unmap flushed the whole domain "
	                                    "(range not a page-selective mask)"},
	[S_HWDOM] = {"hwdom-init-dont-flush", "io_hwdom_init mapped with dont_flush set, then "
	                                      "one flush-all"},
	[S_DEFERRED_BATCH] = {"deferred-batch-flush", "a deferred unmap filled the batch and "
	                                              "flushed the domain"},
	[S_EXPLICIT_FLUSH] = {"deferred-io-flush", "io_flush flushed pending deferred unmaps"},
	[S_ERROR_PATH] = {"map-error-path", "a map failed (above the address width): undo, "
	                                    "flush-all"},
	[S_DMA_IN_OP] = {"dma-during-op", "a DMA piece ran inside a map or unmap, before its "
	                                  "IOTLB invalidation"},
	[S_STALE_DEFERRED] = {"stale-hit-deferred", "the IOTLB served a stale translation in a "
	                                            "deferred-unmap window (allowed)"},
	[S_IDENTICAL] = {"identical-remap", "a map of the same frames again (flush type NONE)"},
	[S_NP_CACHED] = {"np-cached", "VT-d CM=1 cached a not-present result"},
	[S_DMA_FAULT] = {"dma-fault", "a DMA piece faulted"},
	[S_PER_PTE] = {"per-pte-flushes", "elision off: one operation issued several IOTLB "
	                                  "invalidations"},
};

static_assert(sizeof(iommu_states) / sizeof(iommu_states[0]) == S_COUNT, "one per state");

enum { C_MAP, C_UNMAP, C_FLUSH_DEFERRED };
static const char *const iommu_callers[] = {"iommu_map", "iommu_unmap", "iommu_flush_deferred",
                                            NULL};

struct iommu_obs {
	struct obs_callers callers;
	bool amd, cm, deferred;
	/* Since the last EV_IO_OP (the operation under way). */
	uint32_t iotlb_invs;
	bool domain_inv, batch_flush;
	uint64_t widest; /* largest range invalidation, bytes */
};

static void iommu_obs_init(void *o, const struct scenario *sc)
{
	struct iommu_obs *p = o;
	p->callers.names = iommu_callers;
	p->amd = sc->iommu.kind == SC_IOMMU_AMD;
	p->cm = sc->iommu.caching_mode;
	p->deferred = sc->iommu.unmap == SC_UNMAP_DEFERRED;
}

static void iommu_obs_string(void *o, uint32_t id, const char *s)
{
	obs_callers_string(&((struct iommu_obs *)o)->callers, id, s);
}

static bool in_op(const struct iommu_obs *p, const struct event *ev)
{
	return obs_caller_is(&p->callers, ev, C_MAP) || obs_caller_is(&p->callers, ev, C_UNMAP);
}

static void io_op(struct iommu_obs *p, const struct event *ev, struct fz_verdict *v)
{
	unsigned type = (unsigned)(ev->e & 0xff);
	uint64_t invs = (ev->e >> IOOP_E_INV_SHIFT) & 0x7fffff;
	bool elide = ev->e & IOOP_E_ELIDE;
	bool ok = ev->f == 0;
	bool mapunmap = ev->sub == IOOP_MAP || ev->sub == IOOP_UNMAP;
	if (ev->sub == IOOP_MAP && ok && !p->amd && p->cm && type == 1 && invs)
		v->reached |= 1u << S_CM1_ADDED;
	if (ev->sub == IOOP_MAP && ok && ev->c == 512 && type == 2 && invs == 1 && elide)
		v->reached |= 1u << S_ORDER9_ONE;
	if (p->amd && mapunmap && ok && p->widest > 4096 && p->iotlb_invs == 1)
		v->reached |= 1u << S_AMD_WIDE;
	if (!p->amd && mapunmap && ok && p->domain_inv)
		v->reached |= 1u << S_DSI_FALLBACK;
	if (ev->sub == IOOP_HWDOM_INIT && ok && ev->c > 1)
		v->reached |= 1u << S_HWDOM;
	if (ev->sub == IOOP_UNMAP && p->batch_flush)
		v->reached |= 1u << S_DEFERRED_BATCH;
	if (ev->sub == IOOP_FLUSH && invs)
		v->reached |= 1u << S_EXPLICIT_FLUSH;
	if (ev->sub == IOOP_MAP && !ok)
		v->reached |= 1u << S_ERROR_PATH;
	if (ev->sub == IOOP_MAP && ok && type == 0)
		v->reached |= 1u << S_IDENTICAL;
	if (mapunmap && !elide && invs > 1)
		v->reached |= 1u << S_PER_PTE;
	p->iotlb_invs = 0;
	p->domain_inv = p->batch_flush = false;
	p->widest = 0;
}

static int iommu_obs_event(void *o, const struct event *ev, struct fz_verdict *v)
{
	struct iommu_obs *p = o;
	switch (ev->type) {
	case EV_IOMMU_INV:
		/* a = did, b = base, c = size log2 (bytes). */
		if (ev->sub != IOINV_IOTLB_ALL && ev->sub != IOINV_IOTLB_DOMAIN &&
		    ev->sub != IOINV_IOTLB_RANGE)
			break;
		p->iotlb_invs++;
		if (ev->sub == IOINV_IOTLB_DOMAIN && in_op(p, ev))
			p->domain_inv = true;
		if (obs_caller_is(&p->callers, ev, C_FLUSH_DEFERRED))
			p->batch_flush = true;
		if (ev->sub == IOINV_IOTLB_RANGE && ev->c < 64 && (1ull << ev->c) > p->widest)
			p->widest = 1ull << ev->c;
		break;
	case EV_IO_OP:
		io_op(p, ev, v);
		break;
	case EV_DMA:
		/* d = path | fault << 8 | stale << 16 | env_stale << 17. */
		if ((ev->d >> 8) & 0xff)
			v->reached |= 1u << S_DMA_FAULT;
		if (p->deferred && ((ev->d >> 16) & 1))
			v->reached |= 1u << S_STALE_DEFERRED;
		if (in_op(p, ev) && p->iotlb_invs == 0)
			v->reached |= 1u << S_DMA_IN_OP;
		break;
	case EV_IOTLB_FILL:
		if (ev->sub == 1)
			v->reached |= 1u << S_NP_CACHED;
		break;
	default:
		break;
	}
	return 0;
}

const struct fz_target fz_target_iommu = {
	.name = "iommu",
	.summary = "IOMMU maps/unmaps of orders 0-10, DMA and streams, on VT-d CM=0/1 and "
	           "AMD-Vi, elision on/off, strict/deferred unmap",
	.built = true,
	.decode = iommu_decode,
	.states = iommu_states,
	.nstates = S_COUNT,
	.obs_size = sizeof(struct iommu_obs),
	.obs_mask = 1ull << EV_IOMMU_INV | 1ull << EV_IO_OP | 1ull << EV_DMA |
	            1ull << EV_IOTLB_FILL,
	.obs_init = iommu_obs_init,
	.obs_event = iommu_obs_event,
	.obs_string = iommu_obs_string,
};
