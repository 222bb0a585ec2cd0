/* Shared observer pieces (fuzz/gen/observe.h). */
#include "fuzz/gen/observe.h"

#include <string.h>

void obs_callers_string(struct obs_callers *c, uint32_t id, const char *s)
{
	for (unsigned i = 0; i < OBS_MAX_CALLERS && c->names[i]; i++)
		if (!strcmp(c->names[i], s))
			c->id[i] = id;
}

bool obs_caller_is(const struct obs_callers *c, const struct event *ev, unsigned i)
{
	return i < OBS_MAX_CALLERS && c->id[i] && ev->caller == c->id[i];
}

void obs_cr4_event(struct obs_cr4 *c, const struct event *ev)
{
	/* EV_CR_WRITE: sub = register, a = old, b = new, c = faulted. */
	if (ev->type == EV_CR_WRITE && ev->sub == 4 && !ev->c && ev->cpu >= 0 &&
	    ev->cpu < OBS_MAX_CPUS)
		c->cr4[ev->cpu] = ev->b;
}

bool obs_cr4_has(const struct obs_cr4 *c, int cpu, uint64_t bit)
{
	return cpu >= 0 && cpu < OBS_MAX_CPUS && (c->cr4[cpu] & bit);
}
