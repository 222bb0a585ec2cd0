/* Files embedded into the binary at build time (cmake/embed*.cmake):
 * the cost profiles (profiles/ *.yaml), the property queries (checks/ *.sql)
 * and the recording schema (record/schema.sql).
 * Each table ends with a {0, 0} sentinel. */
#ifndef HVSIM_SIM_EMBEDDED_H
#define HVSIM_SIM_EMBEDDED_H

struct hvsim_embedded {
	const char *name; /* basename without extension */
	const char *text; /* NUL-terminated file content */
};

extern const struct hvsim_embedded hvsim_profiles[];
extern const struct hvsim_embedded hvsim_checks[];
extern const struct hvsim_embedded hvsim_schema[]; /* record/schema.sql */

#endif
