/* The event bus: assigns sequence numbers and fans events out to sinks.
 *
 * Sinks are the narrow seam between the models and everything that
 * observes them (SQLite recorder, in-process checkers, trace writer). A
 * sink says which event types it wants (mask); the models ask
 * bus_wants() before building costly events, so that the TLB-hit fast
 * path pays one branch when nobody listens. Sinks are called in the order
 * they were attached. A sink may stop the run by returning nonzero from
 * event() (the checker does so on the first violation when asked to).
 */
#ifndef HVSIM_SIM_BUS_H
#define HVSIM_SIM_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/event.h"

#define BUS_MAX_SINKS 8
#define BUS_MAX_STRINGS 4096

struct sink {
	const char *name;
	uint64_t mask; /* bit (1 << EV_x) for each wanted type */
	void *ctx;
	/* Returns 0 to continue, nonzero to request a stop. */
	int (*event)(void *ctx, const struct event *ev);
	/* Called when a string is interned, so a sink can persist the table. */
	void (*string)(void *ctx, uint32_t id, const char *s);
};

struct bus {
	uint64_t seq; /* last assigned */
	uint64_t mask; /* union of sink masks */
	unsigned nsinks;
	struct sink sinks[BUS_MAX_SINKS];
	bool stop; /* a sink asked to stop */
	/* Interned strings: id i names strings[i]; id 0 is "". Lookup is a
	 * linear scan: callers intern once and keep the id. */
	unsigned nstrings;
	char *strings[BUS_MAX_STRINGS];
	/* Running digest (FNV-1a 64 over every emitted event's field values)
	 * so two runs can be compared without a database. */
	uint64_t digest;
	uint64_t counts[EV__COUNT];
};

void bus_init(struct bus *b);
void bus_fini(struct bus *b);
int bus_attach(struct bus *b, const struct sink *s);
uint32_t bus_intern(struct bus *b, const char *s);
const char *bus_string(const struct bus *b, uint32_t id);

static inline bool bus_wants(const struct bus *b, unsigned type)
{
	return (b->mask >> type) & 1;
}

/* Assigns ev->seq, updates digest and counts, delivers to sinks.
 * Counts and the digest cover every event, wanted or not. Returns seq. */
uint64_t bus_emit(struct bus *b, struct event *ev);

#endif
