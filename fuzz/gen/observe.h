/* Pieces the targets' observers share: interned caller names, and each
 * CPU's CR4 as the event stream shows it. */
#ifndef HVSIM_FUZZ_GEN_OBSERVE_H
#define HVSIM_FUZZ_GEN_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/event.h"

#define OBS_MAX_CALLERS 8
#define OBS_MAX_CPUS 16

struct obs_callers {
	const char *const *names;   /* NULL-terminated, at most OBS_MAX_CALLERS */
	uint32_t id[OBS_MAX_CALLERS]; /* 0: not interned yet */
};

/* The sink's string hook: remembers the ids of the names watched. */
void obs_callers_string(struct obs_callers *c, uint32_t id, const char *s);
/* Is ev's caller names[i]? */
bool obs_caller_is(const struct obs_callers *c, const struct event *ev, unsigned i);

struct obs_cr4 {
	uint64_t cr4[OBS_MAX_CPUS];
};

/* Follows EV_CR_WRITE to CR4 (not faulted). */
void obs_cr4_event(struct obs_cr4 *c, const struct event *ev);
bool obs_cr4_has(const struct obs_cr4 *c, int cpu, uint64_t bit);

#endif
