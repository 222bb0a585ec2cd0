/* The YAML writer: a struct scenario (as the loader or a fuzz decoder
 * builds it) back to a scenario file (docs/scenario-format.md) that the
 * loader reads to the same scenario -- the form in which the fuzzer hands
 * a shrunk failure to its user, and in which a trace stores its input.
 * tests/test_fuzz_emit.c checks the round trip.
 */
#ifndef HVSIM_FUZZ_GEN_EMIT_H
#define HVSIM_FUZZ_GEN_EMIT_H

#include <stddef.h>

#include "scenario/scenario.h"

/* A malloc'd NUL-terminated text (its length in *len), or NULL when out of
 * memory. `comment`, if not NULL, becomes leading "# " lines. */
char *scenario_emit_yaml(const struct scenario *sc, const char *comment, size_t *len);

#endif
