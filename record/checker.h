/* In-process property checker: a bus sink that evaluates, as the events
 * happen, the same properties as the shipped queries in checks/ *.sql. It is
 * a second, independent implementation of each: the tests run both on the
 * same events and require the same violating seqs (and explanations).
 *
 * Properties (docs/recording.md):
 *   stale-access     EV_ACCESS with ACCF_STALE or ACCF_MAY_STALE
 *   quiescent-stale  any EV_ENV_STALE
 *   pge-pcide        EV_CR_WRITE to CR4, not faulted, new value has PGE and
 *                    PCIDE
 *   psc-freed-table  EV_TABLE free of a frame with live links, or with a
 *                    live ENVK_PSC envelope record pointing at it
 *   ring-*           the vm_event rings (seed 004): EV_RING and
 *                    EV_RING_STALL (checks/vm_event_*.sql)
 *
 * Violations are kept in event order (the order the events arrive).
 */
#ifndef HVSIM_RECORD_CHECKER_H
#define HVSIM_RECORD_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/bus.h"

/* At most this many violations are kept; checker_total() counts them all. */
#define CHECKER_MAX_KEPT 100000

struct violation {
	const char *property; /* one of checker_property_names() */
	uint64_t seq, cycle;
	int32_t cpu;
	char explanation[256]; /* same text as the SQL query's, truncated */
};

struct checker;

/* stop_at_first: the sink asks the bus to stop at the first violation.
 * Returns NULL when out of memory. */
struct checker *checker_new(bool stop_at_first);
void checker_free(struct checker *c);

/* Wants only the event types the properties read. */
struct sink checker_sink(struct checker *c);

size_t checker_count(const struct checker *c);
const struct violation *checker_get(const struct checker *c, size_t i);
uint64_t checker_total(const struct checker *c);
/* NULL, or why the checker stopped the run on its own account (no memory):
 * its results are then incomplete. */
const char *checker_error(const struct checker *c);

/* NULL-terminated, in the order of the query files' names. */
const char *const *checker_property_names(void);

#endif
