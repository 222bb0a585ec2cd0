/* Shrinking a failing case to a minimal one that fails the same way (the
 * same first property or oracle): remove operations (delta debugging:
 * halves, quarters ... then single ops, then the ops of IPI runs), then
 * simplify values (CPU 0, counts down, default flags) and the
 * configuration (fewer CPUs, the loader's defaults), repeated until
 * nothing more goes. Every candidate goes through the YAML writer and the
 * loader before it runs, so the result is a file that loads and fails.
 * Deterministic: no randomness, a fixed candidate order. */
#ifndef HVSIM_FUZZ_ENGINE_SHRINK_H
#define HVSIM_FUZZ_ENGINE_SHRINK_H

#include <stdint.h>

#include "fuzz/gen/target.h"
#include "scenario/scenario.h"

struct fz_shrink_stats {
	uint32_t ops_before, ops_after; /* top-level ops */
	uint32_t runs;                  /* candidates run */
	uint32_t accepted;
};

/* in fails with signature sig. On success (0) *out is the shrunk scenario
 * as loaded from its YAML (out->path "shrunk.yaml"). -1: out of memory,
 * or `in` does not load back from its own YAML or no longer fails (a bug:
 * message in *why). max_runs bounds the candidates tried. */
int fz_shrink(const struct fz_target *t, const struct scenario *in, const char *sig,
              unsigned max_runs, struct scenario *out, struct fz_shrink_stats *st,
              char *why, size_t whylen);

/* The case through the writer and the loader: 0 and *out, or -1 (why). */
int fz_reload(const struct scenario *in, const char *name, struct scenario *out, char *why,
              size_t whylen);

#endif
