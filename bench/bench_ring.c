/* vm_event ring operations per second of host time (seed 004).
 *
 *   bench_ring [ROUNDS]   ROUNDS: request/response round trips per timed
 *                         sample (default 2000000), best of 3 samples.
 *                         `bench_ring 20000` is a smoke run.
 *
 * One round trip is the hypervisor's side of one request: claim a slot,
 * put the request (written into the shared page), the consumer's
 * response (written here as the helper writes it), get the response, and
 * wake the requesters -- five ring operations. Measured with the
 * hypervisor's vm_event code (hv/vm_event) over an in-memory arch, twice:
 * with no observer, and with an observer that counts (what the platform
 * pays to record events, minus the recording). The baseline, in the same
 * run, is a bare io/ring.h-style ring on the same memory: indices and the
 * four-word slot copies only, no accounting, no wait queue -- once on
 * plain memory, once through the arch interface's read64/write64 (the
 * memory path the hypervisor's ring code takes). Also printed:
 * the full simulated pipeline, `hvsim run` of seed-004-burst-waitq,
 * in ring operations (EV_RING events) per second.
 * Wall-clock time is allowed here and nowhere in the simulator. No timed
 * assertions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hv/vm_event/vm_event.h"
#include "runner/run.h"
#include "scenario/scenario.h"

#define SAMPLES 3
#define SLOTS 64u
#define OPS_PER_ROUND 5u

static uint64_t mem[2][512];
static bool used[2];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t a_read(void *ctx, uint64_t pa)
{
	(void)ctx;
	return mem[pa >> 12][(pa & 4095) / 8];
}

static void a_write(void *ctx, unsigned cpu, uint64_t pa, uint64_t v)
{
	(void)ctx;
	(void)cpu;
	mem[pa >> 12][(pa & 4095) / 8] = v;
}

static uint64_t a_alloc(void *ctx, unsigned cpu)
{
	(void)ctx;
	(void)cpu;
	for (unsigned i = 0; i < 2; i++)
		if (!used[i])
			return used[i] = true, i;
	return HV_NO_FRAME;
}

static void a_free(void *ctx, unsigned cpu, uint64_t pfn)
{
	(void)ctx;
	(void)cpu;
	used[pfn] = false;
}

static void a_caller(void *ctx, const char *fn)
{
	(void)ctx;
	(void)fn;
}

static uint64_t observed;

static void count(void *ctx, unsigned cpu, enum vm_event_what w, const struct vm_event_ring *r,
                  const struct hv_vcpu *v, uint64_t arg)
{
	(void)ctx;
	(void)cpu;
	(void)w;
	(void)r;
	(void)v;
	observed += arg | 1;
}

struct world {
	struct hv_arch arch;
	struct hv hv;
	struct hv_pv pv;
	struct hv_vm_event ve;
};

static struct world W;

static struct vm_event_ring *setup(bool observe)
{
	memset(&W, 0, sizeof(W));
	memset(used, 0, sizeof(used));
	W.arch.read64 = a_read;
	W.arch.write64 = a_write;
	W.arch.alloc_frame = a_alloc;
	W.arch.free_frame = a_free;
	W.arch.caller = a_caller;
	W.hv.arch = &W.arch;
	W.pv.ndomains = 2;
	W.pv.dom[1].id = 1;
	W.pv.dom[1].nvcpus = 1;
	W.pv.dom[1].vcpu[0].d = &W.pv.dom[1];
	hv_vcpu_sched_init(&W.pv.dom[1].vcpu[0].run);
	vm_event_init(&W.ve, &W.hv, &W.pv, VM_EVENT_MODE_WAITQ, 0);
	if (observe)
		W.ve.observe = count;
	struct vm_event_ring *r = vm_event_ring_of(&W.ve, 1, VM_EVENT_PAGING);
	if (vm_event_enable(&W.ve, 0, r, SLOTS) != 0) {
		fprintf(stderr, "bench_ring: cannot enable the ring\n");
		exit(1);
	}
	return r;
}

/* The consumer's side: answer request i into response slot i. */
static void respond(const struct vm_event_ring *r, uint32_t i)
{
	uint64_t *page = mem[r->page];
	uint64_t *slot = &page[(64 + (i % SLOTS) * 32) / 8];
	(void)slot; /* the response reuses the request's words in place */
	page[2] = i + 1;
}

static double hv_sample(uint64_t rounds, bool observe)
{
	struct vm_event_ring *r = setup(observe);
	struct hv_vcpu *v = &W.pv.dom[1].vcpu[0];
	struct vm_event_req q = {.type = VM_EVENT_TYPE_DROP}, rsp;
	double t0 = now();
	for (uint64_t i = 0; i < rounds; i++) {
		vm_event_claim_slot(&W.ve, 0, r, v);
		q.gfn = i;
		if (vm_event_put_request(&W.ve, 0, r, v, &q) != 0) {
			fprintf(stderr, "bench_ring: put failed\n");
			exit(1);
		}
		respond(r, (uint32_t)i);
		if (vm_event_get_response(&W.ve, 0, r, &rsp) != 1 || rsp.gfn != i) {
			fprintf(stderr, "bench_ring: wrong response\n");
			exit(1);
		}
		vm_event_wake_requesters(&W.ve, 0, r);
	}
	return now() - t0;
}

/* The baseline: the same round trip on a bare ring (indices in the same
 * shared page, four-word slots), nothing else. */
static double bare_sample(uint64_t rounds)
{
	uint64_t *page = mem[0];
	uint32_t req_prod = 0, rsp_cons = 0;
	uint64_t sum = 0;
	memset(page, 0, 4096);
	double t0 = now();
	for (uint64_t i = 0; i < rounds; i++) {
		if (req_prod - rsp_cons >= SLOTS)
			abort();
		uint64_t *slot = &page[(64 + (req_prod % SLOTS) * 32) / 8];
		slot[0] = (uint64_t)VM_EVENT_TYPE_DROP << 32;
		slot[1] = i;
		slot[2] = 0;
		slot[3] = i + 1;
		page[0] = ++req_prod;
		page[2] = req_prod; /* the consumer's response, in place */
		uint64_t *rs = &page[(64 + (rsp_cons % SLOTS) * 32) / 8];
		sum += rs[1];
		rsp_cons++;
		page[3] = rsp_cons + 1;
	}
	double t = now() - t0;
	if (sum != rounds * (rounds - 1) / 2)
		abort();
	return t;
}

/* The same bare ring, but every word through the arch interface's
 * read64/write64 (as the hypervisor's ring code reaches the page). */
static double arch_sample(uint64_t rounds)
{
	setup(false);
	const struct hv_arch *a = W.hv.arch;
	uint32_t req_prod = 0, rsp_cons = 0;
	uint64_t sum = 0, base = 1ull << 12;
	double t0 = now();
	for (uint64_t i = 0; i < rounds; i++) {
		uint64_t slot = base + 64 + (req_prod % SLOTS) * 32;
		a->write64(a->ctx, 0, slot, (uint64_t)VM_EVENT_TYPE_DROP << 32);
		a->write64(a->ctx, 0, slot + 8, i);
		a->write64(a->ctx, 0, slot + 16, 0);
		a->write64(a->ctx, 0, slot + 24, i + 1);
		a->write64(a->ctx, 0, base, ++req_prod);
		a->write64(a->ctx, 0, base + 16, req_prod);
		uint64_t rs = base + 64 + (rsp_cons % SLOTS) * 32;
		for (unsigned w = 0; w < 4; w++)
			sum += w == 1 ? a->read64(a->ctx, rs + 8 * w) : 0;
		rsp_cons++;
		a->write64(a->ctx, 0, base + 24, rsp_cons + 1);
	}
	double t = now() - t0;
	if (sum != rounds * (rounds - 1) / 2)
		abort();
	return t;
}

/* The whole simulator on the seed's burst scenario, if found. */
static void pipeline(void)
{
	static const char *const up[] = {"", "../", "../../", "../../../"};
	char path[256];
	struct scenario sc;
	struct sc_error e;
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		snprintf(path, sizeof(path), "%sscenarios/seed-004-burst-waitq.yaml", up[i]);
		if (access(path, R_OK) != 0 || scenario_load(path, &sc, &e) != 0)
			continue;
		struct run_opts o;
		memset(&o, 0, sizeof(o));
		struct run_summary s;
		char err[512];
		double best = 1e30;
		uint64_t ring_ops = 0;
		for (int k = 0; k < SAMPLES; k++) {
			double t0 = now();
			if (run_scenario(&sc, &o, &s, err, sizeof(err)) != 0) {
				fprintf(stderr, "bench_ring: %s did not pass\n", path);
				exit(1);
			}
			double t = now() - t0;
			if (t < best)
				best = t;
		}
		ring_ops = s.rings.puts * OPS_PER_ROUND;
		printf("  hvsim run %s: %" PRIu64 " events, %" PRIu64
		       " requests; %.0f requests/s (%.0f ring ops/s) of host time, events recorded "
		       "in process\n", path, s.events, s.rings.puts, (double)s.rings.puts / best,
		       (double)ring_ops / best);
		scenario_free(&sc);
		return;
	}
	printf("  (scenarios/seed-004-burst-waitq.yaml not found: no pipeline figure)\n");
}

int main(int argc, char **argv)
{
	uint64_t rounds = 2000000;
	if (argc > 1) {
		char *end;
		unsigned long long v = strtoull(argv[1], &end, 10);
		if (*end || v == 0 || v > 1000000000ull) {
			fprintf(stderr, "bench_ring: ROUNDS must be 1..1000000000\n");
			return 1;
		}
		rounds = v;
	}
	double bare = 1e30, arch = 1e30, plain = 1e30, obs = 1e30;
	for (int k = 0; k < SAMPLES; k++) {
		double t = bare_sample(rounds);
		bare = t < bare ? t : bare;
		t = arch_sample(rounds);
		arch = t < arch ? t : arch;
		t = hv_sample(rounds, false);
		plain = t < plain ? t : plain;
		t = hv_sample(rounds, true);
		obs = t < obs ? t : obs;
	}
	double n = (double)rounds * OPS_PER_ROUND;
	printf("bench_ring: %" PRIu64 " round trips (claim, put, response, get, wake: %u ring "
	       "operations each) per sample, %u slots, best of %d\n", rounds, OPS_PER_ROUND, SLOTS,
	       SAMPLES);
	printf("  baseline (bare io/ring.h ring): %14.0f ring ops/s (%.3f s)\n", n / bare, bare);
	printf("  bare ring through hv_arch:      %14.0f ring ops/s (%.3f s)\n", n / arch, arch);
	printf("  hv/vm_event, no observer:       %14.0f ring ops/s (%.3f s)\n", n / plain, plain);
	printf("  hv/vm_event, counting observer: %14.0f ring ops/s (%.3f s; %" PRIu64 ")\n",
	       n / obs, obs, observed % 10);
	printf("  ratio vm_event/baseline: %.3f; vm_event/bare ring through hv_arch: %.3f\n",
	       bare / plain, arch / plain);
	pipeline();
	return 0;
}
