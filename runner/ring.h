/* The vm_event rings in a run (seed 004): the hypervisor's rings
 * (hv/vm_event) bound to the machine, their scenario ops, the helper
 * domain's consumer (a simulated userspace agent that calls the
 * hypervisor's entry points as a real helper does through hypercalls),
 * foreign producers, and what is recorded: every ring operation
 * (EV_RING) and every stall (EV_RING_STALL). Runner-private. */
#ifndef HVSIM_RUNNER_RING_H
#define HVSIM_RUNNER_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "runner/ops.h"
#include "scenario/scenario.h"

#define RING_OP_AGAIN 3 /* op_exec result: not finished, run it again */
#define RING_NEVER UINT64_MAX

struct platform;

/* What `hvsim run` prints for a scenario with rings (the seed-004
 * comparison's figures). */
struct ring_stats {
	bool used;
	int mode;                  /* 0 wait queue, 1 pause */
	uint64_t guest_events;     /* vm_event events placed by guest vCPUs */
	uint64_t puts, responses;  /* requests placed; responses consumed */
	uint64_t stalls, stall_cycles, stall_max; /* vCPU stalls */
	uint64_t foreign_stall_cycles;
	uint64_t sleeps;           /* times a vCPU went to sleep on a ring */
	uint64_t notifies, disable_busy, give_ups;
	uint64_t lost_drops;       /* before the seed: drops not sent */
	uint64_t response_wait;    /* cycles vCPUs were paused for responses */
	uint64_t last_response;    /* cycle of the last response consumed */
};

int ring_world_init(struct platform *p, const struct sc_rings *cfg);
void ring_world_fini(struct platform *p);
bool ring_op_is(const struct op *op);
/* When the op can go on on cpu (RING_NEVER: it waits for someone). */
uint64_t ring_ready_at(struct op_ctx *x, const struct op *op, unsigned cpu);
/* 0 done, 1 expectation failed, 2 input error, RING_OP_AGAIN. */
int ring_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu);
/* A helper op that runs until idle and has nothing to do. */
bool ring_helper_idle(struct op_ctx *x, const struct op *op);
/* End of run: unfinished stalls, every vCPU's and ring's final state. */
void ring_finish(struct platform *p);
void ring_stats_get(const struct platform *p, struct ring_stats *st);

#endif
