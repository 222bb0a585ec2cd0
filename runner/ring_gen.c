/* Random vm_event ring scenarios (runner/ring_gen.h). CPU roles: 0 the
 * paging helper, 1 the access helper, 2 the sharing helper, 3 the admin
 * that enables and disables rings, 4 a foreign producer (dom0 acting for
 * the guest), 5.. one guest vCPU each. */
#include "runner/ring_gen.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define MAX_VCPUS 6

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
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

static uint64_t pick(struct prng *p, uint64_t lo, uint64_t hi)
{
	return lo + prng_below(p, hi - lo + 1);
}

static const char *const rings[] = {"paging", "access", "sharing"};

static void helper(struct prng *p, struct out *o, unsigned cpu, unsigned ring)
{
	for (uint64_t i = pick(p, 0, 2); i > 0; i--) {
		put(o, "  - {op: helper, cpu: %u, domain: 1, ring: %s, latency: %llu, burst: %llu, "
		       "count: %llu}\n", cpu, rings[ring], (unsigned long long)pick(p, 0, 3000),
		    (unsigned long long)pick(p, 1, 8), (unsigned long long)pick(p, 1, 10));
		put(o, "  - {op: helper_stall, cpu: %u, domain: 1, ring: %s, cycles: %llu}\n", cpu,
		    rings[ring], (unsigned long long)pick(p, 1, 60000));
	}
	put(o, "  - {op: helper, cpu: %u, domain: 1, ring: %s, latency: %llu, burst: %llu}\n", cpu,
	    rings[ring], (unsigned long long)pick(p, 0, 3000), (unsigned long long)pick(p, 1, 8));
}

static unsigned slots(struct prng *p)
{
	return 1u << pick(p, 0, 4);
}

static void admin(struct prng *p, struct out *o)
{
	for (uint64_t i = pick(p, 0, 5); i > 0; i--) {
		unsigned r = (unsigned)pick(p, 0, 2);
		put(o, "  - {op: delay, cpu: 3, cycles: %llu}\n", (unsigned long long)pick(p, 1, 40000));
		if (pick(p, 0, 1))
			put(o, "  - {op: ring_enable, cpu: 3, domain: 1, ring: %s, slots: %u}\n", rings[r],
			    slots(p));
		else
			put(o, "  - {op: ring_disable, cpu: 3, domain: 1, ring: %s, on_busy: %s, "
			       "retries: 50, delay: 500}\n", rings[r], pick(p, 0, 1) ? "drain" : "retry");
	}
	/* Every ring there at the end: nobody is left waiting for one. */
	for (unsigned r = 0; r < 3; r++)
		put(o, "  - {op: ring_enable, cpu: 3, domain: 1, ring: %s, slots: %u}\n", rings[r],
		    slots(p));
}

/* Before the seed (pause) a released claim unpauses nobody, and a vCPU
 * paused because claims filled the ring hangs (docs/seed-004.md,
 * rings/twins/pause-release-hang.yaml): there, foreign producers put. */
static void foreign(struct prng *p, struct out *o, bool pause)
{
	for (uint64_t i = pick(p, 0, 4); i > 0; i--) {
		const char *ring = rings[pick(p, 0, 2)];
		unsigned long long count = pick(p, 1, 4), hold = pick(p, 0, 2000);
		bool release = pick(p, 0, 3) == 0 && !pause;
		put(o, "  - {op: foreign, cpu: 4, domain: 1, ring: %s, count: %llu, hold: %llu, "
		       "release: %s, retries: 2000}\n", ring, count, hold,
		    release ? "true" : "false");
	}
}

static void vcpu(struct prng *p, struct out *o, unsigned v)
{
	static const char *const kinds[] = {"populate", "drop", "access", "share", "populate_back"};
	for (uint64_t i = pick(p, 1, 6); i > 0; i--) {
		if (!pick(p, 0, 3)) {
			put(o, "  - {op: delay, cpu: %u, cycles: %llu}\n", 5 + v,
			    (unsigned long long)pick(p, 1, 20000));
			continue;
		}
		put(o, "  - {op: vm_event, cpu: %u, domain: 1, vcpu: %u, kind: %s, count: %llu, "
		       "gap: %llu, gfn: %llu}\n", 5 + v, v, kinds[pick(p, 0, 4)],
		    (unsigned long long)pick(p, 1, 6), (unsigned long long)pick(p, 0, 500),
		    (unsigned long long)pick(p, 0, 1u << 20));
	}
}

size_t ring_gen_scenario(struct prng *p, const char *inject, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, cap == 0};
	unsigned nv = (unsigned)pick(p, 1, MAX_VCPUS);
	put(&o, "hvsim: 1\nname: ring-random\nmachine: {cpus: %u}\nhv: {}\n", 5 + nv);
	bool pause = pick(p, 0, 1);
	put(&o, "rings: {mode: %s", pause ? "pause" : "waitq");
	if (inject)
		put(&o, ", inject: [%s]", inject);
	put(&o, "}\nops:\n  - {op: domain, vcpus: 2}\n  - {op: domain, vcpus: %u}\n", nv);
	for (unsigned r = 0; r < 3; r++)
		if (r == 0 || pick(p, 0, 1))
			put(&o, "  - {op: ring_enable, domain: 1, ring: %s, slots: %u}\n", rings[r],
			    slots(p));
	put(&o, "  - {op: barrier}\n");
	for (unsigned r = 0; r < 3; r++)
		helper(p, &o, r, r);
	admin(p, &o);
	foreign(p, &o, pause);
	for (unsigned v = 0; v < nv; v++)
		vcpu(p, &o, v);
	return o.full ? 0 : o.len;
}
