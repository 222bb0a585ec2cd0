/* Access throughput of the MMU model: cpu_access() on the TLB-hit path
 * (L1 DTLB hits, STLB hits) and on the walk-and-fill path, each beside a
 * baseline measured in the same run: a bare loop over the same address
 * stream doing trivial work per address (a hash summed into a volatile
 * sink). Skylake profile, one CPU, no sinks attached (pure model), and the
 * L1-hit path once more with the in-process checker attached.
 *
 *   bench_tlb [N [REPS [ONLY]]]   N accesses per measurement (default
 *                          20000000; the walk measurements use N/10),
 *                          best of REPS runs (default 3); ONLY one of l1,
 *                          stlb, walks, walkr, walk (both), checker runs
 *                          just that (for profiling)
 *
 * The page tables are built with A and D already set, so no access writes
 * a paging-structure entry and the envelope stays clean (the staleness
 * checks are skipped as in any run without modified tables).
 *
 * Wall-clock time is allowed here and nowhere in the simulator. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record/checker.h"
#include "scenario/scenario.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/machine.h"
#include "sim/tlb/pte.h"

#define STREAM_MAX (1u << 18) /* addresses in a precomputed stream */

/* Regions of the one address space (4 KiB pages, all under one root). */
#define VA_L1 0x0000000010000000ull   /* 32 pages: fit the 64-entry L1 DTLB */
#define VA_STLB 0x0000000020000000ull /* 1000 pages: miss L1, hit the STLB */
#define VA_WALK 0x0000000040000000ull /* WALK_PAGES pages: miss everything */
#define L1_PAGES 32u
#define STLB_PAGES 1000u
#define WALK_PAGES (1u << 18) /* 1 GiB of 4 KiB pages */
#define PA_DATA 0x0000000100000000ull /* data frames are never touched */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_tlb: %s\n", what);
	exit(1);
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Maps one 4 KiB page, creating tables (P|RW|US|A) on the way. The leaf
 * has A and D set so that no access needs a hardware A/D update. */
static void map4k(struct machine *m, uint64_t root_pa, uint64_t va, uint64_t pa)
{
	const uint64_t tflags = PTE_P | PTE_RW | PTE_US | PTE_A;
	uint64_t table = root_pa;

	for (unsigned level = 4; level > 1; level--) {
		uint64_t epa = table + 8ull * LEVEL_INDEX(va, level);
		uint64_t e = mem_read64(&m->mem, epa);
		if (!pte_present(e)) {
			uint64_t pfn = machine_alloc_frame(m, -1);
			if (pfn == UINT64_MAX)
				die("out of frames");
			e = (pfn << PAGE_SHIFT) | tflags;
			machine_store64(m, -1, epa, e, false);
		}
		table = e & PTE_ADDR_4K;
	}
	machine_store64(m, -1, table + 8ull * LEVEL_INDEX(va, 1),
	                pa | tflags | PTE_D, false);
}

struct stream {
	uint64_t va[STREAM_MAX];
	uint32_t mask; /* length - 1, length a power of two */
	uint64_t pos;  /* where the next run starts: runs continue the stream */
};

/* Cycles over npages pages from base, in order, at varying offsets. */
static void stream_cyclic(struct stream *s, uint64_t base, uint32_t npages, uint64_t seed)
{
	s->pos = 0;
	s->mask = (1u << 16) - 1;
	for (uint32_t i = 0; i <= s->mask; i++)
		s->va[i] = base + (uint64_t)(i % npages) * PAGE_SIZE +
		           (xorshift(&seed) & (PAGE_SIZE - 1));
}

/* npages (a power of two, at most STREAM_MAX) pages from base in order,
 * one access each at varying offsets. */
static void stream_sequential(struct stream *s, uint64_t base, uint32_t npages,
                              uint64_t seed)
{
	s->pos = 0;
	s->mask = npages - 1;
	for (uint32_t i = 0; i < npages; i++)
		s->va[i] = base + (uint64_t)i * PAGE_SIZE + (xorshift(&seed) & (PAGE_SIZE - 1));
}

/* Pages drawn at random from npages (a power of two) pages from base. */
static void stream_random(struct stream *s, uint64_t base, uint32_t npages, uint64_t seed)
{
	s->pos = 0;
	s->mask = (1u << 16) - 1;
	for (uint32_t i = 0; i <= s->mask; i++) {
		uint64_t r = xorshift(&seed);
		s->va[i] = base + (r & (npages - 1)) * PAGE_SIZE + ((r >> 32) & (PAGE_SIZE - 1));
	}
}

static volatile uint64_t sink;

/* The baseline: the same stream, a multiplicative hash per address. */
static double run_baseline(const struct stream *s, uint64_t n)
{
	uint64_t end = s->pos + n, mask = s->mask;
	double t0 = now();
	for (uint64_t i = s->pos; i < end; i++) {
		uint64_t va = s->va[i & mask];
		sink += (va * 0x9e3779b97f4a7c15ull) >> 29;
	}
	return now() - t0;
}

struct tally {
	uint64_t faults, pa_sum;
	uint64_t hits_l1, hits_l2, misses, fills;
};

static double run_model(struct machine *m, struct stream *s, uint64_t n,
                        struct tally *t)
{
	struct cpu *c = machine_cpu(m, 0);
	struct access_result r;
	uint64_t faults = 0, pa_sum = 0;
	uint64_t h1 = c->tlb.hits_l1, h2 = c->tlb.hits_l2, mi = c->tlb.misses,
	         fi = c->tlb.fills;
	const uint64_t *va = s->va;
	uint64_t end = s->pos + n, mask = s->mask;
	double t0 = now();
	for (uint64_t i = s->pos; i < end; i++) {
		faults += cpu_access(m, 0, va[i & mask], ACC_READ, &r) != 0;
		pa_sum += r.pa;
	}
	double dt = now() - t0;
	s->pos += n;
	t->faults = faults;
	t->pa_sum = pa_sum;
	t->hits_l1 = c->tlb.hits_l1 - h1;
	t->hits_l2 = c->tlb.hits_l2 - h2;
	t->misses = c->tlb.misses - mi;
	t->fills = c->tlb.fills - fi;
	return dt;
}

static double best_model(struct machine *m, struct stream *s, uint64_t n,
                         unsigned reps, struct tally *t)
{
	struct tally warm;
	double best = 0;

	run_model(m, s, s->mask + 1ull, &warm); /* warm the TLB and host caches */
	for (unsigned k = 0; k < reps; k++) {
		double dt = run_model(m, s, n, t);
		if (t->faults)
			die("unexpected fault");
		if (k == 0 || dt < best)
			best = dt;
	}
	return best;
}

static double best_baseline(const struct stream *s, uint64_t n, unsigned reps)
{
	double best = 0;

	run_baseline(s, s->mask + 1ull);
	for (unsigned k = 0; k < reps; k++) {
		double dt = run_baseline(s, n);
		if (k == 0 || dt < best)
			best = dt;
	}
	return best;
}

static double rate(uint64_t n, double dt)
{
	return dt > 0 ? (double)n / dt / 1e6 : 0;
}

static void report(const char *label, uint64_t n, double dt, double dt_base)
{
	double r = rate(n, dt), b = rate(n, dt_base);
	printf("%s: %.1f M accesses/s (baseline loop %.1f M/s, ratio %.3f)\n", label, r, b,
	       b > 0 ? r / b : 0);
}

static void pct_line(const struct tally *t, uint64_t n)
{
	double d = n ? 100.0 / (double)n : 0;
	printf("  per access: L1 hit %.1f%%, STLB hit %.1f%%, miss %.1f%%, fills %.1f%%\n",
	       (double)t->hits_l1 * d, (double)t->hits_l2 * d, (double)t->misses * d,
	       (double)t->fills * d);
}

static const char *const names[] = {"l1", "stlb", "walks", "walkr", "checker", NULL};

static bool known(const char *only)
{
	if (strcmp(only, "walk") == 0)
		return true;
	for (int i = 0; names[i]; i++)
		if (strcmp(only, names[i]) == 0)
			return true;
	return false;
}

/* ONLY selects one measurement; "walk" selects both walk measurements. */
static bool want(const char *only, const char *name)
{
	return !only || strcmp(only, name) == 0 ||
	       (strcmp(only, "walk") == 0 && strncmp(name, "walk", 4) == 0);
}

int main(int argc, char **argv)
{
	uint64_t n = 20000000;
	unsigned reps = 3;

	if (argc > 1)
		n = strtoull(argv[1], NULL, 0);
	const char *only = NULL;
	if (argc > 2)
		reps = (unsigned)strtoul(argv[2], NULL, 0);
	if (argc > 3)
		only = argv[3];
	if (n == 0 || reps == 0 || argc > 4 || (only && !known(only))) {
		fprintf(stderr, "usage: bench_tlb [N [REPS [l1|stlb|walk|walks|walkr|checker]]]\n");
		return 2;
	}

	struct profile prof;
	struct sc_error err;
	if (profile_load_named("skylake", &prof, &err) != 0)
		die(err.msg);
	struct machine *m = malloc(sizeof(*m));
	if (!m || machine_init(m, &prof, 1, 4096, 1) != 0)
		die("machine_init failed");

	/* One address space holding all three regions. */
	uint64_t root = machine_alloc_frame(m, -1);
	if (root == UINT64_MAX)
		die("out of frames");
	uint64_t root_pa = root << PAGE_SHIFT;
	for (uint32_t i = 0; i < L1_PAGES; i++)
		map4k(m, root_pa, VA_L1 + i * PAGE_SIZE, PA_DATA + i * PAGE_SIZE);
	for (uint32_t i = 0; i < STLB_PAGES; i++)
		map4k(m, root_pa, VA_STLB + i * PAGE_SIZE, PA_DATA + (0x1000ull + i) * PAGE_SIZE);
	for (uint32_t i = 0; i < WALK_PAGES; i++)
		map4k(m, root_pa, VA_WALK + (uint64_t)i * PAGE_SIZE,
		      PA_DATA + (0x100000ull + i) * PAGE_SIZE);
	if (cpu_mov_cr3(m, 0, root_pa) != 0)
		die("mov cr3 faulted");

	struct stream *s = malloc(sizeof(*s));
	if (!s)
		die("out of memory");
	struct tally t;
	double dt, db;

	printf("bench_tlb: skylake, 1 CPU, %" PRIu64 " accesses per run, best of %u\n", n,
	       reps);

	if (want(only, "l1")) {
		stream_cyclic(s, VA_L1, L1_PAGES, 0x1234567ull);
		dt = best_model(m, s, n, reps, &t);
		db = best_baseline(s, n, reps);
		report("tlb-hit L1 (32 pages)", n, dt, db);
		pct_line(&t, n);
	}

	if (want(only, "stlb")) {
		stream_cyclic(s, VA_STLB, STLB_PAGES, 0x2345678ull);
		dt = best_model(m, s, n, reps, &t);
		db = best_baseline(s, n, reps);
		report("tlb-hit STLB (1000 pages)", n, dt, db);
		pct_line(&t, n);
	}

	/* Walks are slower: a tenth of the accesses keeps the runs similar
	 * in length. */
	uint64_t nw = n / 10 ? n / 10 : 1;
	if (want(only, "walks")) {
		/* Each page once, in order: the PDE cache almost always hits
		 * and the PTE is the only level read. */
		stream_sequential(s, VA_WALK, WALK_PAGES, 0x3456789ull);
		dt = best_model(m, s, nw, reps, &t);
		db = best_baseline(s, nw, reps);
		report("walk+fill (262144 pages, in order)", nw, dt, db);
		pct_line(&t, nw);
	}

	if (want(only, "walkr")) {
		/* Pages at random: most walks miss the PDE cache too. */
		stream_random(s, VA_WALK, WALK_PAGES, 0x3456789ull);
		dt = best_model(m, s, nw, reps, &t);
		db = best_baseline(s, nw, reps);
		report("walk+fill (262144 pages, random)", nw, dt, db);
		pct_line(&t, nw);
	}

	struct checker *chk = NULL;
	if (want(only, "checker")) {
		/* The L1-hit path again, every access now an EV_ACCESS through
		 * the bus (digest) into the in-process checker. Last: a sink
		 * cannot be detached. */
		chk = checker_new(false);
		if (!chk)
			die("out of memory");
		struct sink cs = checker_sink(chk);
		if (bus_attach(&m->bus, &cs) != 0)
			die("bus_attach failed");
		stream_cyclic(s, VA_L1, L1_PAGES, 0x1234567ull);
		dt = best_model(m, s, n, reps, &t);
		db = best_baseline(s, n, reps);
		report("tlb-hit L1 + checker", n, dt, db);
		if (checker_total(chk) != 0)
			die("checker reported a violation");
	}

	machine_fini(m);
	checker_free(chk);
	free(m);
	free(s);
	return 0;
}
