/* Building scenarios in memory (struct scenario, scenario/scenario.h) for
 * the fuzz decoders and the shrinker: the same structs the YAML loader
 * fills, so a generated case runs through the ordinary runner and the YAML
 * writer (fuzz/gen/emit.h) can turn it back into a file that loads to the
 * same scenario.
 */
#ifndef HVSIM_FUZZ_GEN_SCBUILD_H
#define HVSIM_FUZZ_GEN_SCBUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario/scenario.h"

/* Largest scenario a decoder builds (ops at top level, ipi runs apart). */
#define SCB_MAX_OPS 512

/* A new scenario: `name`, embedded profile `profile`, ncpus CPUs, the
 * loader's defaults elsewhere (no hv: section). Returns 0, or -1 (unknown
 * profile or no memory; *sc is then empty). Profiles are parsed once per
 * process and cached. */
int scb_begin(struct scenario *sc, const char *name, const char *profile, unsigned ncpus);
/* The embedded profile `name`, parsed once per process (NULL: unknown). */
const struct profile *scb_profile(const char *name);
/* The hv: section with the loader's defaults (scenario/load.c load_hv). */
void scb_hv_defaults(struct sc_hv *hv);
/* Appends a zeroed op of kind k issued by cpu (tri-state fields -1, as the
 * loader leaves them). NULL when SCB_MAX_OPS is reached or out of memory. */
struct op *scb_op(struct scenario *sc, enum op_kind k, unsigned cpu);
/* Appends a sub-op to an ipi op's run list (cpu -1 as the loader sets). */
struct op *scb_sub(struct op *ipi, enum op_kind k);
/* Defines a table name (pt_new, unlink save); its index, or -1. */
int scb_root(struct scenario *sc, const char *name);
/* A machine.costs override: sets the profile field and rebuilds
 * sc->overrides ("name=value,..." sorted by name, as the loader builds
 * it). 0, or -1 (unknown field, no memory). The caller keeps the profile
 * valid (profile_validate) once all its overrides are set. */
int scb_override(struct scenario *sc, const char *field, uint32_t value);
/* Deep copy; 0 or -1 (out of memory, *dst empty). */
int scb_copy(struct scenario *dst, const struct scenario *src);
/* Removes ops [from, from + n) (top level), except those keep() says
 * must stay (keep NULL: all go). Returns how many were removed. */
uint32_t scb_remove(struct scenario *sc, uint32_t from, uint32_t n,
                    bool (*keep)(const struct scenario *, const struct op *));

#endif
