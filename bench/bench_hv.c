/* Map+destroy throughput of the hypervisor core (hv/, seed 000) over the
 * simulated machine, per page size, beside a baseline measured in the same
 * run.
 *
 *   bench_hv [N [REPS]]   N mappings per page size and machine (default
 *                         262144), best of REPS runs (default 3).
 *                         `bench_hv 64` is a smoke run (well under 1 s).
 *
 * For each machine (skylake profile, 1 and 4 CPUs, hypervisor booted with
 * no direct map, every CPU on its idle table, as platform_init leaves it)
 * and each granularity, batches are mapped with hv_map_pages and destroyed
 * with hv_destroy_mappings until N mappings have been made:
 *   4k: 512 pages per call with MAP_SMALL_PAGES (one L1 table)
 *   2m: 256 2 MiB-aligned 2 MiB pages per call (512 MiB in one L2 table;
 *       a whole aligned GiB would be mapped as one 1 GiB page)
 *   1g: 64 1 GiB-aligned 1 GiB pages per call (64 GiB)
 * (a batch is cut to N when N is smaller). It prints mappings/s for
 * map+destroy (and for each alone), the bytes mapped per second, and
 * the flushes per hypervisor operation: EV_FLUSH events (each TLB-flushing
 * instruction on each CPU) and the core's own counters (flush_area calls,
 * IPI rounds, full flushes, INVLPGs).
 *
 * Baseline: on the same machine, two raw stores through machine_store64
 * per mapping (the entry, then 0) into a live L1 table of the hypervisor's
 * page tables: the paging-structure writes a mapping costs at the least,
 * with the machine's table registry and envelopes but without the
 * hypervisor's logic (walks, page-size choice, flushes, IPIs).
 *
 * Every event is generated as in a run (bus mask ~0, like run_scenario),
 * with one counting sink; nothing is recorded. Wall-clock time is allowed
 * here and nowhere in the simulator. No timed assertions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv/hv.h"
#include "runner/platform.h"
#include "scenario/scenario.h"
#include "sim/event.h"
#include "sim/machine.h"

/* hv/mm/page.h's PAGE_HYPERVISOR and MAP_SMALL_PAGES, restated as
 * runner/platform.c does (that header's names clash with sim/'s). */
#define HV_PAGE_HYPERVISOR (0x163ull | (1ull << 63)) /* P RW A D G NX */
#define HV_MAP_SMALL_PAGES (1ull << 9)

#define VA_BASE 0xffff820000000000ull /* below the direct map: 1 TiB free */
#define PFN_BASE 0x100000ull          /* frames from 4 GiB up */
#define MEM_FRAMES (1ull << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_hv: %s\n", what);
	exit(1);
}

static int count_event(void *ctx, const struct event *ev)
{
	uint64_t *c = ctx;
	if (ev->type == EV_FLUSH)
		c[0]++;
	else if (ev->type == EV_IPI && ev->sub == IPI_SEND)
		c[1]++;
	return 0;
}

struct bench {
	struct machine m;
	struct platform p;
	uint64_t counts[2]; /* EV_FLUSH events, IPIs sent */
};

static void setup(struct bench *b, const struct profile *prof, unsigned ncpus)
{
	memset(b, 0, sizeof(*b));
	if (machine_init(&b->m, prof, ncpus, MEM_FRAMES, 1) != 0)
		die("machine_init failed");
	b->m.bus.mask = ~0ull; /* every event generated, as in a run */
	struct sink s = {.name = "count", .mask = 1ull << EV_FLUSH | 1ull << EV_IPI,
	                 .ctx = b->counts, .event = count_event};
	if (bus_attach(&b->m.bus, &s) != 0)
		die("bus_attach failed");
	struct sc_hv cfg = {.enabled = true, .page1gb = true, .superpages = true,
	                    .flush_policy = SC_FLUSH_XEN, .flush_ceiling = 33};
	char err[256];
	if (platform_init(&b->p, &b->m, &cfg, err, sizeof(err)) != 0)
		die(err);
}

static void teardown(struct bench *b)
{
	platform_fini(&b->p);
	machine_fini(&b->m);
}

struct gran {
	const char *name;
	uint64_t pages;  /* 4 KiB pages per mapping */
	uint64_t batch;  /* mappings per call */
	uint64_t extra;  /* flags added */
};

static const struct gran grans[] = {
	{"4k", 1, 512, HV_MAP_SMALL_PAGES},
	{"2m", 512, 256, 0}, /* 512 MiB: never a 1 GiB-aligned GiB, so never 1G */
	{"1g", 512 * 512, 64, 0},
};

struct result {
	double t_map, t_destroy;
	uint64_t mappings, ops;
	uint64_t ev_flushes, ipis;
	struct hv_ptstats pt; /* deltas */
};

static void delta(struct hv_ptstats *d, const struct hv_ptstats *a, const struct hv_ptstats *b)
{
	d->local_flushes = b->local_flushes - a->local_flushes;
	d->remote_flushes = b->remote_flushes - a->remote_flushes;
	d->full_flushes = b->full_flushes - a->full_flushes;
	d->page_flushes = b->page_flushes - a->page_flushes;
	d->map_steps = b->map_steps - a->map_steps;
	d->allocated = b->allocated - a->allocated;
	d->freed = b->freed - a->freed;
}

/* N mappings of granularity g, in batches: map, then destroy. */
static void run_gran(struct bench *b, const struct gran *g, uint64_t n, struct result *r)
{
	memset(r, 0, sizeof(*r));
	uint64_t batch = g->batch < n ? g->batch : n;
	struct hv_ptstats before = b->p.hv.pt;
	uint64_t ev0 = b->counts[0], ipi0 = b->counts[1];
	for (uint64_t done = 0; done < n; done += batch) {
		uint64_t k = n - done < batch ? n - done : batch;
		uint64_t pages = k * g->pages;
		double t0 = now();
		int rc = hv_map_pages(&b->p.hv, 0, VA_BASE, PFN_BASE, pages,
		                      HV_PAGE_HYPERVISOR | g->extra);
		double t1 = now();
		if (rc)
			die("hv_map_pages failed");
		rc = hv_destroy_mappings(&b->p.hv, 0, VA_BASE, VA_BASE + (pages << 12));
		double t2 = now();
		if (rc)
			die("hv_destroy_mappings failed");
		r->t_map += t1 - t0;
		r->t_destroy += t2 - t1;
		r->mappings += k;
		r->ops += 2;
	}
	delta(&r->pt, &before, &b->p.hv.pt);
	r->ev_flushes = b->counts[0] - ev0;
	r->ipis = b->counts[1] - ipi0;
}

/* The baseline: two raw stores per mapping into a live L1 table. */
static double run_baseline(struct bench *b, uint64_t n)
{
	/* One hypervisor 4 KiB page at VA_BASE gives a live L1 table. */
	if (hv_map_pages(&b->p.hv, 0, VA_BASE, PFN_BASE, 1, HV_PAGE_HYPERVISOR | HV_MAP_SMALL_PAGES))
		die("baseline: hv_map_pages failed");
	uint64_t l4 = b->p.hv.root_pfn << 12, t = l4;
	for (unsigned level = 4; level > 1; level--) {
		unsigned idx = (unsigned)(VA_BASE >> (12 + 9 * (level - 1))) & 511;
		uint64_t e = mem_read64(&b->m.mem, t + 8ull * idx);
		t = e & 0x000ffffffffff000ull;
	}
	uint64_t l1 = t;
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t slot = 1 + i % 511; /* entry 0 stays: the table stays live */
		machine_store64(&b->m, 0, l1 + 8 * slot, ((PFN_BASE + slot) << 12) | HV_PAGE_HYPERVISOR,
		                false);
		machine_store64(&b->m, 0, l1 + 8 * slot, 0, false);
	}
	double t1 = now();
	if (hv_destroy_mappings(&b->p.hv, 0, VA_BASE, VA_BASE + 4096))
		die("baseline: hv_destroy_mappings failed");
	return t1 - t0;
}

static double rate(uint64_t n, double t) { return t > 0 ? (double)n / t : 0; }

int main(int argc, char **argv)
{
	uint64_t n = 262144;
	unsigned reps = 3;
	if (argc > 1) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(argv[1], &end, 10);
		if (errno || *end || v == 0)
			die("usage: bench_hv [N [REPS]]");
		n = v;
	}
	if (argc > 2) {
		int v = atoi(argv[2]);
		if (v <= 0)
			die("usage: bench_hv [N [REPS]]");
		reps = (unsigned)v;
	}
	struct profile prof;
	struct sc_error e;
	if (profile_load_named("skylake", &prof, &e) != 0)
		die(e.msg);

	printf("bench_hv: %" PRIu64 " mappings per page size, best of %u, profile skylake, "
	       "flush_policy xen\n",
	       n, reps);
	static const unsigned cpus[] = {1, 4};
	for (unsigned ci = 0; ci < 2; ci++) {
		struct bench *b = calloc(1, sizeof(*b));
		if (!b)
			die("out of memory");
		setup(b, &prof, cpus[ci]);
		double best_base = 0;
		for (unsigned r = 0; r < reps; r++) {
			double t = run_baseline(b, n);
			if (r == 0 || t < best_base)
				best_base = t;
		}
		printf("\n%u CPU%s\n", cpus[ci], cpus[ci] > 1 ? "s" : "");
		printf("  baseline: raw PTE store+clear (machine_store64 x2)  %12.0f mappings/s\n",
		       rate(n, best_base));
		printf("  %-4s %12s %12s %12s %9s %10s  %s\n", "size", "map+destroy/s", "map/s",
		       "destroy/s", "GiB/s", "vs base", "flushes per op: events flush_area IPIs "
		       "full invlpg");
		for (unsigned gi = 0; gi < sizeof(grans) / sizeof(grans[0]); gi++) {
			const struct gran *g = &grans[gi];
			struct result best, r;
			run_gran(b, g, n, &best);
			for (unsigned k = 1; k < reps; k++) {
				run_gran(b, g, n, &r);
				if (r.t_map + r.t_destroy < best.t_map + best.t_destroy)
					best = r;
			}
			double t = best.t_map + best.t_destroy;
			double ops = (double)best.ops;
			double gib = (double)best.mappings * (double)g->pages * 4096.0 / (double)(1ull << 30);
			printf("  %-4s %12.0f %12.0f %12.0f %9.1f %9.2fx  %6.2f %6.2f %6.2f %6.2f %6.2f\n",
			       g->name, rate(best.mappings, t), rate(best.mappings, best.t_map),
			       rate(best.mappings, best.t_destroy), t > 0 ? gib / t : 0,
			       t > 0 && best_base > 0 ? rate(best.mappings, t) / rate(n, best_base) : 0,
			       (double)best.ev_flushes / ops,
			       (double)best.pt.local_flushes / ops, (double)best.ipis / ops,
			       (double)best.pt.full_flushes / ops, (double)best.pt.page_flushes / ops);
		}
		teardown(b);
		free(b);
	}
	printf("\n(map+destroy/s, map/s, destroy/s: mappings of that size per second; "
	       "vs base: map+destroy rate over the baseline's; flushes per op: per hv call, "
	       "map or destroy: EV_FLUSH events on all CPUs, flush_area_local calls, "
	       "IPIs sent, full flushes, INVLPGs)\n");
	return 0;
}
