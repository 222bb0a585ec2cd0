/* Cost profile YAML (profiles/NAME.yaml) loading, internal to scenario/.
 * The public entry point is profile_load_named() in scenario/scenario.h. */
#ifndef HVSIM_SCENARIO_PROFILE_LOAD_H
#define HVSIM_SCENARIO_PROFILE_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#include "scenario/scenario.h"
#include "sim/profile.h"

/* Parses and validates one profile document. name is the expected value
 * of its name field; messages read "profile NAME:LINE:COL: ...". out is
 * written only on success. */
int profile_load_text(const char *name, const char *text, size_t len,
                      struct profile *out, struct sc_error *err);

#define PF_COUNT_FIELD(n, d) +1
/* Number of entries of profile_fields[] (without the sentinel). */
enum { PROFILE_NFIELDS = 0 PROFILE_COSTS(PF_COUNT_FIELD)
                           PROFILE_GEOMETRY(PF_COUNT_FIELD) };
#undef PF_COUNT_FIELD

/* The profile field a mapping key names, or NULL. */
const struct profile_field *profile_field_of_key(const yaml_node_t *k);

/* True if an embedded profile of that name exists. */
bool profile_is_embedded(const char *name);
/* "skylake, zen3": the embedded profile names, for messages. */
void profile_embedded_names(char *dst, size_t cap);

#endif
