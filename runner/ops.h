/* Execution of one scenario op on one CPU (runner-private). */
#ifndef HVSIM_RUNNER_OPS_H
#define HVSIM_RUNNER_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "scenario/scenario.h"
#include "sim/machine.h"

struct platform;

struct trace_writer;

struct op_ctx {
	struct trace_writer *tw;  /* input files go into the trace */
	/* Replay: input files come from the trace instead of the disk. */
	const void *(*file_get)(void *ctx, const char *name, size_t *len);
	void *file_ctx;
	struct machine *m;
	struct platform *plat; /* the hypervisor core, if the scenario has one */
	const struct scenario *sc;
	uint64_t *root_pfn;   /* per scenario root, 0 until pt_new ran */
	uint64_t expect_failures;
	char first_failure[512];
	char err[512];        /* runtime input error (exit 2) */
	bool again;           /* the op did one step of several and wants to
	                         run again (io_workload: one I/O per step, so
	                         CPUs interleave by time) */
	/* Whether every CPU but `cpu` has finished its program (or only
	 * waits in an idle helper): a helper running until idle stops. */
	bool (*others_done)(void *sched, unsigned cpu);
	void *sched;
};

/* 0 ok, 1 expectation failed (recorded), 2 input error (ctx->err). */
int op_exec(struct op_ctx *x, const struct op *op, unsigned cpu);
/* The hypervisor ops (runner/platform.c) and the PV guest ops
 * (runner/pvops.c). */
int hv_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu);
int pv_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu);
/* An expectation failed: EV_EXPECT, and the first one's message kept.
 * Returns 1. */
int op_expect_fail(struct op_ctx *x, const struct op *op, unsigned cpu, uint64_t actual,
                   uint64_t expected, const char *fmt, ...);
/* The IOMMU ops (runner/ioops.c). */
int io_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu);
/* "FILE:LINE:COL: op: message" into x->err; returns 2. */
int op_input_error(struct op_ctx *x, const struct op *op, const char *fmt, ...);

#endif
