/* Random vm_event ring scenarios (runner/ring_gen.h). CPU roles: 0 the
 * paging helper, 1 the access helper, 2 the sharing helper, 3 the admin
 * that enables and disables rings, 4 a foreign producer (dom0 acting for
 * the guest), 5.. one guest vCPU each (a vCPU that cannot run holds back
 * its CPU's later ops, so each has its own: docs/seed-004.md).
 *
 * Every draw is its own statement, in a fixed order (not several in one
 * argument list, whose evaluation order C leaves open), so a source gives
 * the same scenario whatever the compiler. */
#include "runner/ring_gen.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct gen {
	const struct ring_gen_params *p;
	const struct ring_gen_src *src;
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct gen *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = o->full ? 0 : vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (o->full || n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

static uint64_t pick(struct gen *g, uint64_t lo, uint64_t hi)
{
	assert(hi >= lo);
	return lo + g->src->below(g->src->ctx, hi - lo + 1);
}

static const char *const rings[] = {"paging", "access", "sharing"};

static unsigned slots(struct gen *g)
{
	return 1u << pick(g, g->p->slots_lo, g->p->slots_hi);
}

static void helper(struct gen *g, unsigned cpu, unsigned ring)
{
	const struct ring_gen_params *p = g->p;
	for (uint64_t i = pick(g, 0, p->max_stalls); i > 0; i--) {
		unsigned long long count = pick(g, 1, p->max_round);
		unsigned long long burst = pick(g, 1, p->max_burst);
		unsigned long long latency = pick(g, 0, p->max_latency);
		put(g, "  - {op: helper, cpu: %u, domain: 1, ring: %s, latency: %llu, burst: %llu, "
		       "count: %llu}\n", cpu, rings[ring], latency, burst, count);
		put(g, "  - {op: helper_stall, cpu: %u, domain: 1, ring: %s, cycles: %llu}\n", cpu,
		    rings[ring], (unsigned long long)pick(g, 1, p->max_stall));
	}
	unsigned long long burst = pick(g, 1, p->max_burst);
	unsigned long long latency = pick(g, 0, p->max_latency);
	put(g, "  - {op: helper, cpu: %u, domain: 1, ring: %s, latency: %llu, burst: %llu}\n", cpu,
	    rings[ring], latency, burst);
}

static void admin(struct gen *g)
{
	for (uint64_t i = pick(g, 0, g->p->max_admin); i > 0; i--) {
		unsigned r = (unsigned)pick(g, 0, 2);
		put(g, "  - {op: delay, cpu: 3, cycles: %llu}\n",
		    (unsigned long long)pick(g, 1, g->p->max_admin_gap));
		if (pick(g, 0, 1))
			put(g, "  - {op: ring_enable, cpu: 3, domain: 1, ring: %s, slots: %u}\n", rings[r],
			    slots(g));
		else
			put(g, "  - {op: ring_disable, cpu: 3, domain: 1, ring: %s, on_busy: %s, "
			       "retries: 50, delay: 500}\n", rings[r], pick(g, 0, 1) ? "drain" : "retry");
	}
	/* Every ring there at the end: nobody is left waiting for one. */
	for (unsigned r = 0; r < 3; r++)
		put(g, "  - {op: ring_enable, cpu: 3, domain: 1, ring: %s, slots: %u}\n", rings[r],
		    slots(g));
}

/* Before the seed (pause) a released claim unpauses nobody, and a vCPU
 * paused because claims filled the ring hangs (docs/seed-004.md,
 * rings/twins/pause-release-hang.yaml): there, foreign producers put. */
static void foreign(struct gen *g, bool pause)
{
	const struct ring_gen_params *p = g->p;
	for (uint64_t i = pick(g, 0, p->max_foreign); i > 0; i--) {
		const char *ring = rings[pick(g, 0, 2)];
		unsigned long long count = pick(g, 1, p->max_foreign_count);
		unsigned long long hold = pick(g, 0, p->max_hold);
		bool release = p->release_in && pick(g, 0, p->release_in - 1) == 0 && !pause;
		put(g, "  - {op: foreign, cpu: 4, domain: 1, ring: %s, count: %llu, hold: %llu, "
		       "release: %s, retries: 2000}\n", ring, count, hold,
		    release ? "true" : "false");
	}
}

static void vcpu(struct gen *g, unsigned v)
{
	static const char *const kinds[] = {"populate", "drop", "access", "share", "populate_back"};
	const struct ring_gen_params *p = g->p;
	for (uint64_t i = pick(g, 1, p->max_vcpu_ops); i > 0; i--) {
		if (!pick(g, 0, p->delay_in - 1)) {
			put(g, "  - {op: delay, cpu: %u, cycles: %llu}\n", 5 + v,
			    (unsigned long long)pick(g, 1, p->max_vcpu_gap));
			continue;
		}
		unsigned long long gfn = pick(g, 0, 1u << 20);
		unsigned long long gap = pick(g, 0, p->max_gap);
		unsigned long long count = pick(g, 1, p->max_events);
		const char *kind = kinds[p->kinds[pick(g, 0, p->nkinds - 1)]];
		put(g, "  - {op: vm_event, cpu: %u, domain: 1, vcpu: %u, kind: %s, count: %llu, "
		       "gap: %llu, gfn: %llu}\n", 5 + v, v, kind, count, gap, gfn);
	}
}

void ring_gen_defaults(struct ring_gen_params *p)
{
	*p = (struct ring_gen_params){
		.mode = -1, .max_vcpus = RING_GEN_MAX_VCPUS, .slots_lo = 0, .slots_hi = 4,
		.start_rings = -1, .max_stalls = 2, .max_latency = 3000, .max_burst = 8,
		.max_round = 10, .max_stall = 60000, .max_admin = 5, .max_admin_gap = 40000,
		.max_foreign = 4, .max_foreign_count = 4, .max_hold = 2000, .release_in = 4,
		.max_vcpu_ops = 6, .delay_in = 4, .max_vcpu_gap = 20000, .max_events = 6,
		.max_gap = 500, .nkinds = 5, .kinds = {0, 1, 2, 3, 4},
	};
}

size_t ring_gen_scenario_src(const struct ring_gen_params *gp, const struct ring_gen_src *src,
                             const char *inject, char *buf, size_t cap)
{
	assert(gp->max_vcpus >= 1 && gp->max_vcpus <= RING_GEN_MAX_VCPUS);
	assert(gp->slots_lo <= gp->slots_hi && gp->slots_hi <= 6);
	assert(gp->nkinds >= 1 && gp->nkinds <= 5 && gp->delay_in >= 1);
	struct gen g = {.p = gp, .src = src, .buf = buf, .cap = cap, .full = cap == 0};
	unsigned nv = (unsigned)pick(&g, 1, gp->max_vcpus);
	put(&g, "hvsim: 1\nname: ring-random\nmachine: {cpus: %u}\nhv: {}\n", 5 + nv);
	bool pause = gp->mode < 0 ? pick(&g, 0, 1) : gp->mode == 1;
	put(&g, "rings: {mode: %s", pause ? "pause" : "waitq");
	if (inject)
		put(&g, ", inject: [%s]", inject);
	put(&g, "}\nops:\n  - {op: domain, vcpus: 2}\n  - {op: domain, vcpus: %u}\n", nv);
	for (unsigned r = 0; r < 3; r++) {
		bool on = gp->start_rings < 0 ? r == 0 || pick(&g, 0, 1) : (gp->start_rings >> r) & 1;
		if (on)
			put(&g, "  - {op: ring_enable, domain: 1, ring: %s, slots: %u}\n", rings[r],
			    slots(&g));
	}
	put(&g, "  - {op: barrier}\n");
	for (unsigned r = 0; r < 3; r++)
		helper(&g, r, r);
	admin(&g);
	foreign(&g, pause);
	for (unsigned v = 0; v < nv; v++)
		vcpu(&g, v);
	return g.full ? 0 : g.len;
}

static uint64_t prng_src(void *ctx, uint64_t n)
{
	return prng_below(ctx, n);
}

size_t ring_gen_scenario(struct prng *p, const char *inject, char *buf, size_t cap)
{
	struct ring_gen_params gp;
	ring_gen_defaults(&gp);
	struct ring_gen_src src = {.below = prng_src, .ctx = p};
	return ring_gen_scenario_src(&gp, &src, inject, buf, cap);
}
