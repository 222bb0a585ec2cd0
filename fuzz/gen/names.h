/* Names of the scenario format's enumerations, as the YAML loader spells
 * them (scenario/load.c), for the YAML writer and the command line. */
#ifndef HVSIM_FUZZ_GEN_NAMES_H
#define HVSIM_FUZZ_GEN_NAMES_H

#include <stdint.h>

#include "scenario/scenario.h"

/* hv.inject names in bit order; NULL-terminated. */
extern const char *const fz_inject_names[];
/* iommu.inject (SC_IO_INJECT_*), time.inject (SC_TIME_INJECT_*) and
 * rings.inject (hv/vm_event's VM_EVENT_INJECT_*) names in bit order;
 * NULL-terminated. */
extern const char *const fz_io_inject_names[];
extern const char *const fz_time_inject_names[];
extern const char *const fz_ring_inject_names[];

/* A fuzz injection set (`hvsim fuzz --inject`, test-only) is one word over
 * the four sections' bugs: hv.inject in bits 0-15, iommu.inject in bits
 * 16-23, time.inject in bits 24-31, rings.inject in bits 32-47. */
#define FZ_INJ_IO_SHIFT 16
#define FZ_INJ_TIME_SHIFT 24
#define FZ_INJ_RING_SHIFT 32
#define FZ_INJ_BITS 48
/* The injection-set bit of a name (any section), or 0 if unknown. */
uint64_t fz_inject_bit(const char *name);
/* The name of injection-set bit i (0..FZ_INJ_BITS-1), or NULL. */
const char *fz_inject_name(unsigned i);
/* Sets each section's inject field of sc (those sc has) from the set. */
void fz_inject_apply(uint64_t inject, struct scenario *sc);
/* The case's injection set (the four sections' fields). */
uint64_t fz_inject_of(const struct scenario *sc);
/* hv.pcid (SC_PCID_*) and hv.flush_policy (SC_FLUSH_*) names. */
const char *fz_pcid_name(int pcid);
const char *fz_policy_name(int policy);

#endif
