/* Time on the simulated machine (seed 002): the hypervisor's time
 * (hv/time) bound to the TSC model and the platform timer, the guest side
 * of time reads (the pvclock reader with its version loop and optional
 * clamp), messages between readers, TSC events, and the figures of the
 * warp table. Runner-private. */
#ifndef HVSIM_RUNNER_TIMEOPS_H
#define HVSIM_RUNNER_TIMEOPS_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/time/time.h"
#include "scenario/scenario.h"

struct platform;
struct op_ctx;
struct op;

#define TIME_NEVER UINT64_MAX
#define TIME_MSG_MAX 4096 /* pending messages */
#define TIME_READ_TRIES 8 /* version-loop attempts before a reader gives up */
/* Periodic timer firings per run: 1 s of host time or so; 100 simulated
 * hours of 4 CPUs at the seed's 250 ms period. */
#define TIME_MAX_TICKS 6000000ull

struct time_agent {
	uint64_t last;   /* last value read */
	uint64_t known;  /* largest value read or received in a message */
	int32_t last_cpu; /* CPU of the last read, -1 none */
	int32_t known_cpu; /* CPU where `known` was read */
};

struct time_msg {
	uint64_t id, arrival, stamp;
	uint32_t to;       /* agent */
	int32_t from_cpu;  /* CPU where the stamp was read */
};

/* What the warp table reports for one run. */
struct time_stats {
	uint64_t reads, hv_reads, guest_reads, retries, updates, msgs;
	uint64_t back_same;   /* reads below the reader's previous read on the same CPU */
	uint64_t back_cross;  /* reads below a value causally before them on another CPU */
	uint64_t warp_same_ns, warp_cross_ns; /* largest of each */
	uint64_t torn, clamped;
	uint64_t sim_ns;      /* simulated time covered */
};

struct time_state {
	struct hv_time ht;
	struct sc_time cfg;
	uint64_t *timer_at;      /* per CPU, TIME_NEVER when unarmed */
	struct time_agent *vag;  /* per vCPU */
	struct time_agent *hag;  /* per CPU (the hypervisor's reads) */
	struct time_msg *msgs;
	uint32_t nmsgs, capmsgs;
	uint64_t next_msg;
	uint64_t last_value;     /* the guest clamp's last_value */
	uint64_t ticks;          /* timer firings so far */
	uint64_t max_ticks;      /* allowed (TIME_MAX_TICKS unless the run says) */
	struct time_stats st;
};

/* Sets up the TSC model from the scenario and boots hypervisor time on the
 * platform (after platform_init). 0, or -1 with err. */
int time_platform_init(struct platform *p, const struct scenario *sc, char *err,
                       size_t errlen);
void time_platform_fini(struct platform *p);

/* Scheduler hooks: cpu's timer deadline (cycles) or TIME_NEVER, and its
 * firing (the CPU's clock is moved up to the deadline first): 0, or 2
 * when the run has used its TIME_MAX_TICKS. */
uint64_t time_timer_at(const struct platform *p, unsigned cpu);
int time_timer_fire(struct platform *p, unsigned cpu);

/* The time ops: one read of a time_read (the scheduler repeats it),
 * time_sched, time_msg, tsc. 0, 1 or 2 as op_exec. */
int time_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu);

/* A message from agent `from` (reading on from_cpu) to agent `to`: an
 * IPI between hypervisors, or time_msg. 0, or -1 when TIME_MSG_MAX are
 * pending. */
int time_send(struct platform *p, uint32_t from, unsigned from_cpu, uint32_t to);

/* Nanoseconds <-> reference cycles of the machine's clock. */
uint64_t time_ns_to_cycles(const struct platform *p, uint64_t ns);

#endif
