/* Names of the scenario format's enumerations, as the YAML loader spells
 * them (scenario/load.c), for the YAML writer and the command line. */
#ifndef HVSIM_FUZZ_GEN_NAMES_H
#define HVSIM_FUZZ_GEN_NAMES_H

#include <stdint.h>

/* hv.inject names in bit order; NULL-terminated. */
extern const char *const fz_inject_names[];
/* The SC_INJECT_* bit of a name, or 0 if unknown. */
uint32_t fz_inject_bit(const char *name);
/* hv.pcid (SC_PCID_*) and hv.flush_policy (SC_FLUSH_*) names. */
const char *fz_pcid_name(int pcid);
const char *fz_policy_name(int policy);

#endif
