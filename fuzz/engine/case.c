/* One fuzz case (fuzz/engine/case.h). */
#include "fuzz/engine/case.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/run.h"

struct obs_sink {
	const struct fz_target *t;
	void *obs;
	struct fz_verdict v;
	bool stop;
};

static int sink_event(void *ctx, const struct event *ev)
{
	struct obs_sink *s = ctx;
	int rc = s->t->obs_event(s->obs, ev, &s->v);
	return s->stop ? rc : 0;
}

static void sink_string(void *ctx, uint32_t id, const char *str)
{
	struct obs_sink *s = ctx;
	if (s->t->obs_string)
		s->t->obs_string(s->obs, id, str);
}

/* Cases never read files: a lackey op's input is absent. */
static const void *no_files(void *ctx, const char *name, size_t *len)
{
	(void)ctx;
	(void)name;
	*len = 0;
	return NULL;
}

/* The event number in "PROP violated at event N, ..." or "... event N, ...". */
static uint64_t event_of(const char *first)
{
	const char *p = strstr(first, "event ");
	return p ? strtoull(p + 6, NULL, 10) : UINT64_MAX;
}

static void first_property(const char *props, char *sig, size_t cap)
{
	size_t n = strcspn(props, ",");
	snprintf(sig, cap, "%.*s", (int)n, props);
}

int fz_run_case(const struct fz_target *t, const struct scenario *sc,
                const struct fz_case_opts *o, struct fz_result *r)
{
	memset(r, 0, sizeof(*r));
	struct obs_sink os = {.t = t, .stop = o->stop_at_first};
	os.obs = calloc(1, t->obs_size ? t->obs_size : 1);
	if (!os.obs) {
		snprintf(r->first, sizeof(r->first), "out of memory");
		return r->rc = FZ_INVALID;
	}
	if (t->obs_init)
		t->obs_init(os.obs, sc);
	struct sink s = {.name = "fuzz-observer", .mask = t->obs_mask, .ctx = &os,
	                 .event = sink_event, .string = sink_string};
	struct run_opts ro = {.stop_at_first = o->stop_at_first, .extra = &s, .nextra = 1,
	                      .file_get = no_files, .trace_path = o->trace_path,
	                      .scenario_text = o->scenario_text,
	                      .scenario_len = o->scenario_len};
	struct run_summary sum;
	char err[512];
	int rc = run_scenario(sc, &ro, &sum, err, sizeof(err));
	if (t->obs_fini)
		t->obs_fini(os.obs);
	free(os.obs);
	r->reached = os.v.reached;
	r->events = sum.events;
	r->digest = sum.digest;
	if (rc == 2) {
		snprintf(r->first, sizeof(r->first), "%s", err);
		return r->rc = FZ_INVALID;
	}
	bool oracle_first = os.v.oracle_failed && (rc == 0 || os.v.seq < event_of(sum.first));
	if (oracle_first) {
		snprintf(r->sig, sizeof(r->sig), "%s", os.v.oracle);
		snprintf(r->first, sizeof(r->first), "%s violated at event %" PRIu64 ": %s",
		         os.v.oracle, os.v.seq, os.v.why);
		return r->rc = FZ_FAIL;
	}
	if (rc == 1) {
		if (sum.props[0] && !sum.expect_failures)
			first_property(sum.props, r->sig, sizeof(r->sig));
		else
			snprintf(r->sig, sizeof(r->sig), "expectation");
		snprintf(r->first, sizeof(r->first), "%s", sum.first);
		return r->rc = FZ_FAIL;
	}
	return r->rc = FZ_PASS;
}
