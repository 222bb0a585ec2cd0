/* The seed-002 warp table (runner/timegrid.h). */
#include "runner/timegrid.h"

#include <inttypes.h>
#include <string.h>

static const struct {
	const char *name;
	int mode;
	bool clamp;
} configs[TIME_CONFIGS] = {
	{"global", SC_TIME_GLOBAL, false},
	{"percpu", SC_TIME_PERCPU, false},
	{"rendezvous", SC_TIME_RENDEZVOUS, false},
	{"rendezvous+clamp", SC_TIME_RENDEZVOUS, true},
};

void time_config_apply(struct scenario *sc, unsigned i)
{
	sc->time.mode = configs[i % TIME_CONFIGS].mode;
	sc->time.clamp = configs[i % TIME_CONFIGS].clamp;
}

const char *time_config_of(const struct scenario *sc)
{
	for (unsigned i = 0; i < TIME_CONFIGS; i++)
		if (configs[i].mode == sc->time.mode && configs[i].clamp == sc->time.clamp)
			return configs[i].name;
	return sc->time.clamp ? "+clamp" : "?";
}

const char *time_config_name(unsigned i)
{
	return configs[i % TIME_CONFIGS].name;
}

static void figure(FILE *out, const char *what, bool random, int64_t max, const int64_t *list,
                   uint32_t n, int64_t div, const char *unit)
{
	fprintf(out, "%s ", what);
	if (list) {
		for (uint32_t i = 0; i < n; i++)
			fprintf(out, "%s%" PRId64, i ? "," : "", list[i] / div);
	} else if (random && max) {
		fprintf(out, "%s%" PRId64 " (per-cpu draw)", div > 1 ? "+-" : "0..", max / div);
	} else {
		fprintf(out, "0");
	}
	fprintf(out, " %s", unit);
}

void time_table_header(FILE *out, const struct scenario *sc)
{
	const struct sc_time *t = &sc->time;
	fprintf(out, "seed-002 warp table: %s, %u cpus, TSC ", sc->name, sc->ncpus);
	figure(out, "offsets", t->offsets_random, (int64_t)t->offset_max, t->offsets, sc->ncpus,
	       1, "cycles");
	fprintf(out, ", ");
	figure(out, "drift", t->drift_random, t->drift_max_ppb, t->drift_ppb, sc->ncpus, 1000,
	       "ppm");
	fprintf(out, ", host %" PRId64 " ppm, %sinvariant, period %" PRIu64 " ms\n",
	        t->host_ppb / 1000, t->invariant ? "" : "not ", t->period_ns / 1000000);
	fprintf(out, "  %-18s %10s %10s %12s %12s %16s %16s %8s %8s %s\n", "configuration",
	        "sim_s", "reads", "back_same", "back_cross", "max_same_ns", "max_cross_ns",
	        "retries", "clamped", "properties");
}

void time_table_row(FILE *out, const char *config, const struct run_summary *s)
{
	const struct time_stats *t = &s->time;
	fprintf(out, "  %-18s %10.1f %10" PRIu64 " %12" PRIu64 " %12" PRIu64 " %16" PRIu64
	        " %16" PRIu64 " %8" PRIu64 " %8" PRIu64 " %s\n",
	        config, (double)t->sim_ns / 1e9, t->reads, t->back_same, t->back_cross,
	        t->warp_same_ns, t->warp_cross_ns, t->retries, t->clamped,
	        s->props[0] ? s->props : "all hold");
}

int time_table(FILE *out, const struct scenario *sc, const struct run_opts *o, char *err,
               size_t errlen)
{
	time_table_header(out, sc);
	for (unsigned i = 0; i < TIME_CONFIGS; i++) {
		struct scenario v = *sc;
		time_config_apply(&v, i);
		struct run_opts ro = {.seed = o->seed, .has_seed = o->has_seed};
		struct run_summary s;
		if (run_scenario(&v, &ro, &s, err, errlen) == 2)
			return 2;
		time_table_row(out, time_config_name(i), &s);
	}
	return 0;
}
