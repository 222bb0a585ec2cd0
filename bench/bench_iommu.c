/* DMA translation throughput (issue 6): DMA transfers per host second
 * through each IOMMU model, on the IOTLB-hit path and the walk path,
 * beside a bare baseline measured in the same run.
 *
 *   hit     8-byte device reads cycling over HIT_PAGES pages, all of them
 *           held by the IOTLB after the first round: translate (hit, with
 *           the envelope's verdict), EV_DMA, the runner's checks, the
 *           read;
 *   walk    the same over WALK_PAGES pages in a pseudo-random order, far
 *           beyond the IOTLB: nearly every piece misses and walks the I/O
 *           page tables (4 levels) and fills the IOTLB and the envelope;
 *   bare    the same address stream read straight from simulated memory
 *           with the translation precomputed in an array: the cost of the
 *           loop and the memory access alone, what any DMA model pays.
 *
 * The IOMMU is set up the way a run sets it up: platform_init and
 * platform_iommu_init (runner/platform.h), then an I/O domain, a device
 * and the mappings through the hypervisor's IOMMU layer (hv/iommu), for
 * VT-d and AMD-Vi. Every event is generated (the bus mask is complete, as
 * in a run) but no sink records them.
 *
 *   bench_iommu [N]   N transfers per measurement (default 2,000,000);
 *                     `bench_iommu 20000` is a smoke run.
 *
 * Wall-clock time is allowed here and nowhere in the simulator. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv/iommu/iommu.h"
#include "runner/ioworld.h"
#include "runner/platform.h"
#include "scenario/scenario.h"
#include "sim/machine.h"
#include "sim/mem.h"

#define MEM_FRAMES (1ull << 20)
#define HIT_PAGES 32u       /* well within the 64-entry IOTLB */
#define WALK_PAGES 65536u   /* 256 MiB of IOVA: 1024x the IOTLB */
#define DFN_BASE 0x100000ull
#define MFN_BASE 0x40000ull

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_iommu: %s\n", what);
	exit(1);
}

struct bench {
	struct machine m;
	struct platform p;
	int dev;
};

static void setup(struct bench *b, int kind)
{
	memset(b, 0, sizeof(*b));
	struct profile prof;
	struct sc_error e;
	if (profile_load_named("skylake", &prof, &e) != 0)
		die(e.msg);
	if (machine_init(&b->m, &prof, 1, MEM_FRAMES, 1) != 0)
		die("machine_init failed");
	b->m.bus.mask = ~0ull;
	struct sc_hv hv = {.enabled = true, .page1gb = true, .superpages = true,
	                   .flush_policy = SC_FLUSH_XEN, .flush_ceiling = 33};
	struct sc_iommu io = {.enabled = true, .kind = kind, .elide = true,
	                      .deferred_batch = 256, .levels = 4};
	char err[256];
	if (platform_init(&b->p, &b->m, &hv, err, sizeof(err)) != 0 ||
	    platform_iommu_init(&b->p, &io, err, sizeof(err)) != 0)
		die(err);
	struct ioworld *w = b->p.io;
	struct hv_iommu_domain *d = hv_iommu_domain_create(&w->hv, 0, false);
	if (!d || hv_iommu_assign(&w->hv, 0, d, 0x18) != 0)
		die("domain set-up failed");
	b->dev = dma_device_add(&w->dma, 0x18, 0);
	w->dev_domain[b->dev] = 0;
	for (uint64_t i = 0; i < WALK_PAGES; i += 512)
		if (hv_iommu_map(&w->hv, 0, d, DFN_BASE + i, MFN_BASE + i, 9,
		                 IOMMUF_READABLE | IOMMUF_WRITABLE) != 0)
			die("map failed");
	for (uint64_t i = 0; i < WALK_PAGES; i++)
		ioworld_ref_set(w, 0, DFN_BASE + i, MFN_BASE + i, 3, IOREF_MAPPED);
}

static void teardown(struct bench *b)
{
	platform_fini(&b->p);
	machine_fini(&b->m);
}

/* The page of transfer i: sequential over HIT_PAGES, or a full-period
 * LCG over WALK_PAGES (a power of two). */
static uint64_t page_of(uint64_t i, bool walk)
{
	return walk ? (i * 40503u + 12345u) & (WALK_PAGES - 1) : i % HIT_PAGES;
}

static double run_dma(struct bench *b, uint64_t n, bool walk)
{
	struct ioworld *w = b->p.io;
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t iova = (DFN_BASE + page_of(i, walk)) << 12 | ((i * 8) & 0xff8);
		dma_transfer(&w->dma, (uint32_t)b->dev, iova, 8, false, i);
	}
	return now() - t0;
}

static double run_bare(struct bench *b, uint64_t n, bool walk, uint64_t *sum)
{
	uint64_t *pa = malloc(WALK_PAGES * sizeof(*pa));
	if (!pa)
		die("out of memory");
	for (uint64_t p = 0; p < WALK_PAGES; p++)
		pa[p] = (MFN_BASE + p) << 12;
	double t0 = now();
	for (uint64_t i = 0; i < n; i++)
		*sum += mem_read64(&b->m.mem, pa[page_of(i, walk)] | ((i * 8) & 0xff8));
	double t = now() - t0;
	free(pa);
	return t;
}

static void report(const char *kind, uint64_t n)
{
	struct bench b;
	uint64_t sum = 0;
	setup(&b, kind[0] == 'v' ? SC_IOMMU_VTD : SC_IOMMU_AMD);
	const struct iommu_stats before = b.p.io->unit.st;
	double hit = run_dma(&b, n, false);
	uint64_t hits = b.p.io->unit.st.iotlb_hits - before.iotlb_hits;
	const struct iommu_stats mid = b.p.io->unit.st;
	double walk = run_dma(&b, n, true);
	uint64_t walks = b.p.io->unit.st.walks - mid.walks;
	double bare_hit = run_bare(&b, n, false, &sum);
	double bare_walk = run_bare(&b, n, true, &sum);
	printf("%-6s hit path:  %8.2f M DMA translations/s (%" PRIu64 " of %" PRIu64
	       " IOTLB hits); bare baseline %8.2f M/s (%.1fx faster)\n",
	       kind, n / hit / 1e6, hits, n, n / bare_hit / 1e6, hit / bare_hit);
	printf("%-6s walk path: %8.2f M DMA translations/s (%" PRIu64 " of %" PRIu64
	       " walked); bare baseline %8.2f M/s (%.1fx faster)\n",
	       kind, n / walk / 1e6, walks, n, n / bare_walk / 1e6, walk / bare_walk);
	if (sum == 42)
		printf("(checksum %" PRIu64 ")\n", sum); /* keeps the bare loop */
	teardown(&b);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
	if (n == 0)
		die("usage: bench_iommu [TRANSFERS]");
	printf("bench_iommu: %" PRIu64 " 8-byte DMA reads per measurement; hit set %u pages, "
	       "walk set %u pages (IOTLB 64 entries)\n", n, HIT_PAGES, WALK_PAGES);
	report("vtd", n);
	report("amdvi", n);
	return 0;
}
