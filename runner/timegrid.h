/* The seed-002 warp table: a time scenario run under every time
 * configuration (global base, per-CPU records, per-CPU records with the
 * rendezvous, and that with the guest clamp), each run in-process with
 * its properties checked, one row per configuration. */
#ifndef HVSIM_RUNNER_TIMEGRID_H
#define HVSIM_RUNNER_TIMEGRID_H

#include <stdio.h>

#include "runner/run.h"

#define TIME_CONFIGS 4

/* Configuration i (0..TIME_CONFIGS-1) applied to a copy of sc. */
void time_config_apply(struct scenario *sc, unsigned i);
const char *time_config_name(unsigned i);
/* The name of a scenario's own configuration. */
const char *time_config_of(const struct scenario *sc);

/* The table's header line for a scenario (its TSC figures). */
void time_table_header(FILE *out, const struct scenario *sc);
/* One row: the configuration's name and a run's time figures. */
void time_table_row(FILE *out, const char *config, const struct run_summary *s);

/* Runs sc under every configuration (seed from o, no recording) and
 * prints the table. Returns 0, or 2 with err on bad input. */
int time_table(FILE *out, const struct scenario *sc, const struct run_opts *o, char *err,
               size_t errlen);

#endif
