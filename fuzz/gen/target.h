/* Fuzz targets: one small file per target (fuzz/gen/target_NAME.c), one
 * ops table each, listed in fuzz/gen/registry.c.
 *
 * A target is
 *  - a decoder: bytes (fuzz/gen/bytesrc.h) -> a valid scenario, drawing
 *    the machine and configuration first (the swarm: profile, CPU count,
 *    features, policies) and then the operations. The campaign's PRNG and
 *    libFuzzer both feed it, so there is one generator;
 *  - the interesting states it should reach, each detected from the event
 *    stream by its observer (a bus sink), which may also hold the target's
 *    own oracles (properties only a fuzz target can state, such as a bound
 *    on the work of an operation);
 *
 * Adding a target: write fuzz/gen/target_NAME.c defining a
 * `const struct fz_target fz_target_NAME`, declare it in registry.c's
 * table (replacing its "not built yet" entry if it has one), add a
 * fuzz/fuzz_NAME.c harness calling fz_harness_one(), and list its states
 * in docs/fuzzing.md.
 */
#ifndef HVSIM_FUZZ_GEN_TARGET_H
#define HVSIM_FUZZ_GEN_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz/gen/bytesrc.h"
#include "scenario/scenario.h"
#include "sim/event.h"

#define FZ_MAX_STATES 32

struct fz_state {
	const char *name;  /* short-name-with-dashes */
	const char *what;  /* one line: what reaching it means */
};

/* What the observer found in one case. */
struct fz_verdict {
	uint32_t reached;        /* bit i: states[i] reached */
	bool oracle_failed;      /* a target oracle was violated */
	char oracle[32];         /* its name */
	char why[256];           /* one line */
	uint64_t seq;            /* the event that violated it */
};

struct fz_target {
	const char *name;
	const char *summary;     /* one line for --help */
	bool built;              /* false: listed, "not built yet" */
	/* Fills *sc (scb_begin ...); 0, or -1 when out of memory. Must give
	 * a scenario the loader would accept, for any bytes. */
	int (*decode)(struct bytesrc *b, struct scenario *sc);
	/* The shrinker may not remove this op on its own (NULL: any op may
	 * go): what the decoder's correctness contract ties to other ops. */
	bool (*keep_op)(const struct scenario *sc, const struct op *op);
	const struct fz_state *states;
	unsigned nstates;
	/* The observer: obs_size bytes of state, zeroed, then obs_init; a
	 * sink over obs_mask's event types; obs_event may fill v (and return
	 * nonzero to stop the run at an oracle failure). */
	size_t obs_size;
	uint64_t obs_mask;
	void (*obs_init)(void *obs, const struct scenario *sc);
	int (*obs_event)(void *obs, const struct event *ev, struct fz_verdict *v);
	void (*obs_string)(void *obs, uint32_t id, const char *s);
	void (*obs_fini)(void *obs);
};

/* NULL-terminated, in --help order (built and not built). */
extern const struct fz_target *const fz_targets[];
const struct fz_target *fz_target_find(const char *name);
/* "pt, pcid" style lists for messages. */
void fz_target_names(char *buf, size_t cap, bool built);

#endif
