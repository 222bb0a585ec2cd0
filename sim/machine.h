/* The simulated machine: CPUs with integer cycle clocks, sparse physical
 * memory, the page-table registry, the event bus and the cost profile.
 *
 * Layering: sim/ models hardware only. Whoever drives the machine (the
 * scenario runner, the hypervisor core through its arch interface) calls
 * the instruction functions in sim/cpu/cpu.h and the store/alloc functions
 * below; everything observable comes out as events on m->bus.
 */
#ifndef HVSIM_SIM_MACHINE_H
#define HVSIM_SIM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/bus.h"
#include "sim/mem.h"
#include "sim/prng.h"
#include "sim/profile.h"
#include "sim/tlb/envelope.h"
#include "sim/tlb/ptmeta.h"
#include "sim/tlb/tlb.h"
#include "sim/tlb/walk.h"
#include "sim/tsc/tsc.h"

#define MACHINE_MAX_CPUS 256

/* Control-register bits the models interpret. */
#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR3_PCID_MASK 0xfffull
#define CR3_NOFLUSH (1ull << 63)
#define CR3_ADDR_MASK PA_MASK_52
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

struct cpu {
	uint32_t id;
	uint64_t clock; /* cycles; only ever increases */
	uint64_t cr0, cr3, cr4, efer;
	struct tlb tlb;
	struct env_cpu env;
	uint64_t nfaults;
};

/* Free choices: every decision the simulation makes that the inputs do not
 * fix. They all go through machine_choose(), so a trace can record them
 * and a replay can supply them again (trace/). */
enum choice_kind {
	CHOICE_SCHED = 1,  /* which of the tied CPUs/devices runs next */
	CHOICE_JITTER = 2, /* extra cycles added to an operation */
};

struct choice_hooks {
	void *ctx;
	/* Replay: supply the value (true), or let the PRNG draw it (false). */
	bool (*replay)(void *ctx, unsigned kind, uint64_t bound, uint64_t *value);
	/* Record: the value taken, whoever supplied it. */
	void (*record)(void *ctx, unsigned kind, uint64_t bound, uint64_t value);
};

struct machine {
	struct profile prof;
	uint32_t ncpus;
	struct cpu *cpus;
	struct mem mem;
	struct ptmeta pt;
	struct bus bus;
	struct prng prng;
	struct env_global envg;
	struct walk_env wenv;
	uint32_t caller; /* interned id stamped on events */
	bool self_check; /* verify model invariants on every access (slow) */
	struct choice_hooks choices;
	uint64_t nchoices;
	uint32_t caller_scenario, caller_hw;
	struct tsc_model tsc; /* per-core TSCs, platform timer (sim/tsc/tsc.h) */
};

/* Creates a machine in 64-bit mode with paging on (CR0.PG|PE|WP,
 * EFER.LMA, EFER.NXE if the profile has NX, CR4.PAE), CR3 = 0, PCIDE and
 * PGE clear. mem_frames: size of the frame allocator's region. */
int machine_init(struct machine *m, const struct profile *p, uint32_t ncpus,
                 uint64_t mem_frames, uint64_t seed);
void machine_fini(struct machine *m);

static inline struct cpu *machine_cpu(struct machine *m, uint32_t id)
{
	return &m->cpus[id];
}

/* Sets the caller name stamped on subsequent events. */
void machine_set_caller(struct machine *m, const char *name);

/* Zeroed event stamped with type, cpu (or -1), that CPU's clock and the
 * current caller. */
struct event machine_event(struct machine *m, unsigned type, int cpu);
uint64_t machine_emit(struct machine *m, struct event *ev);

/* A 64-bit store to physical memory by cpu (or -1 for a device/scenario).
 * If the frame is a page table this is a paging-structure write: it is
 * recorded, the table registry follows links, and the envelope of every
 * CPU learns what it may still cache. hw_ad marks the processor's own
 * accessed/dirty updates. Returns the old value. */
uint64_t machine_store64(struct machine *m, int cpu, uint64_t pa, uint64_t val,
                         bool hw_ad);

/* Frame allocation for page tables and data. A freed frame that is still a
 * page table is reported (EV_TABLE free with its live links and the
 * envelope records that still reference it). Returns UINT64_MAX when
 * exhausted; free returns false on a double or foreign free. */
uint64_t machine_alloc_frame(struct machine *m, int cpu);
bool machine_free_frame(struct machine *m, int cpu, uint64_t pfn);

/* A free choice in [0, bound): replayed if a replay hook supplies a valid
 * value, else drawn from the run's PRNG; then recorded. bound > 0. */
uint64_t machine_choose(struct machine *m, unsigned kind, uint64_t bound);

/* Charges cycles to a CPU's clock. */
static inline void cpu_charge(struct cpu *c, uint64_t cycles)
{
	c->clock += cycles;
}

#endif
