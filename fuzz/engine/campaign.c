/* Fuzz campaigns (fuzz/engine/campaign.h). */
/* MAP_ANONYMOUS (shared memory for the workers) is not POSIX.1-2008. */
#define _DEFAULT_SOURCE
#include "fuzz/engine/campaign.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/engine/campaign_db.h"
#include "fuzz/engine/case.h"
#include "fuzz/gen/bytesrc.h"
#include "fuzz/gen/emit.h"
#include "fuzz/gen/names.h"

/* What a worker found, in memory shared with the parent. */
struct worker {
	uint64_t cases, invalid, failing;
	uint64_t first_invalid;
	uint64_t baseline_fail, first_baseline; /* with --inject: cases failing without it */
	uint64_t first_reached[FZ_MAX_STATES];
	uint32_t reached;
	int done;
	char first_invalid_msg[600];
};

struct shared {
	uint64_t min_fail; /* lowest failing case index found by anyone */
	struct worker w[FZ_MAX_JOBS];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int fz_case_scenario(const struct fz_target *t, uint64_t seed, uint64_t index, uint64_t inject,
                     struct scenario *sc)
{
	struct bytesrc b;
	bytesrc_case(&b, seed, index);
	if (t->decode(&b, sc) != 0)
		return -1;
	/* The injected bug is part of the system under test, not a choice of
	 * the generator: it is set after decoding, in every case alike. */
	fz_inject_apply(inject, sc);
	return 0;
}

static void progress_line(const struct fz_campaign_opts *o, const struct shared *sh,
                          double t0, bool final)
{
	uint64_t cases = 0;
	uint32_t reached = 0;
	for (unsigned j = 0; j < o->jobs; j++) {
		cases += __atomic_load_n(&sh->w[j].cases, __ATOMIC_RELAXED);
		reached |= __atomic_load_n(&sh->w[j].reached, __ATOMIC_RELAXED);
	}
	double dt = now_s() - t0;
	unsigned n = 0;
	for (unsigned i = 0; i < o->t->nstates; i++)
		n += (reached >> i) & 1;
	uint64_t mf = __atomic_load_n(&sh->min_fail, __ATOMIC_RELAXED);
	fprintf(stderr, "\r[%s] %" PRIu64 " cases  %.0f cases/s  %u failures  states %u/%u   %s",
	        o->t->name, cases, dt > 0 ? (double)cases / dt : 0.0, mf != FZ_NONE ? 1u : 0u, n,
	        o->t->nstates, final ? "\n" : "");
	fflush(stderr);
}

/* Does case i fail without the injection as well? */
static bool fails_without_inject(const struct fz_campaign_opts *o, uint64_t i)
{
	struct scenario sc;
	if (fz_case_scenario(o->t, o->seed, i, 0, &sc) != 0)
		return false;
	struct fz_case_opts co = {.stop_at_first = true};
	struct fz_result r;
	fz_run_case(o->t, &sc, &co, &r);
	scenario_free(&sc);
	return r.rc == FZ_FAIL;
}

/* Worker j: cases j, j + jobs, ... until the budget ends or a case at or
 * past the lowest known failure would be next. */
static void work(const struct fz_campaign_opts *o, struct shared *sh, unsigned j, double t0)
{
	struct worker *w = &sh->w[j];
	w->first_invalid = FZ_NONE;
	w->first_baseline = FZ_NONE;
	for (unsigned i = 0; i < FZ_MAX_STATES; i++)
		w->first_reached[i] = FZ_NONE;
	double last = t0;
	for (uint64_t i = j;; i += o->jobs) {
		if (o->iters && i >= o->iters)
			break;
		if (i > __atomic_load_n(&sh->min_fail, __ATOMIC_RELAXED))
			break;
		if ((i / o->jobs) % 32 == 0 && (o->seconds > 0 || o->progress)) {
			double t = now_s();
			if (o->seconds > 0 && t - t0 >= o->seconds)
				break;
			if (o->progress && o->jobs == 1 && t - last >= 0.25) {
				progress_line(o, sh, t0, false);
				last = t;
			}
		}
		struct scenario sc;
		if (fz_case_scenario(o->t, o->seed, i, o->inject, &sc) != 0)
			break; /* out of memory */
		struct fz_case_opts co = {.stop_at_first = true};
		struct fz_result r;
		fz_run_case(o->t, &sc, &co, &r);
		scenario_free(&sc);
		for (unsigned s = 0; s < o->t->nstates; s++)
			if (((r.reached & ~w->reached) >> s) & 1)
				w->first_reached[s] = i;
		__atomic_or_fetch(&w->reached, r.reached, __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->cases, 1, __ATOMIC_RELAXED);
		if (r.rc == FZ_INVALID) {
			if (w->invalid++ == 0) {
				w->first_invalid = i;
				snprintf(w->first_invalid_msg, sizeof(w->first_invalid_msg), "%s", r.first);
			}
		} else if (r.rc == FZ_FAIL && o->count_only) {
			w->failing++;
		} else if (r.rc == FZ_FAIL && o->inject && fails_without_inject(o, i)) {
			/* Mutation testing: a case that fails without the injected
			 * bug too shows a bug of the system as built, not the
			 * injected one; counted, and the search goes on. */
			if (w->baseline_fail++ == 0)
				w->first_baseline = i;
		} else if (r.rc == FZ_FAIL) {
			uint64_t cur = __atomic_load_n(&sh->min_fail, __ATOMIC_RELAXED);
			while (i < cur && !__atomic_compare_exchange_n(&sh->min_fail, &cur, i, false,
			                                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				;
			break;
		}
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
}

static int run_workers(const struct fz_campaign_opts *o, struct shared *sh, double t0,
                       char *err, size_t errlen)
{
	if (o->jobs == 1) {
		work(o, sh, 0, t0);
		return 0;
	}
	pid_t pids[FZ_MAX_JOBS];
	unsigned started = 0;
	fflush(NULL);
	for (unsigned j = 0; j < o->jobs; j++) {
		pid_t p = fork();
		if (p < 0) {
			snprintf(err, errlen, "--jobs: cannot fork: %s", strerror(errno));
			break;
		}
		if (p == 0) {
			work(o, sh, j, t0);
			_exit(0);
		}
		pids[started++] = p;
	}
	for (;;) {
		unsigned done = 0;
		for (unsigned j = 0; j < started; j++)
			done += (unsigned)__atomic_load_n(&sh->w[j].done, __ATOMIC_ACQUIRE);
		if (done == started)
			break;
		if (o->progress)
			progress_line(o, sh, t0, false);
		struct timespec ts = {0, 200000000};
		nanosleep(&ts, NULL);
	}
	int bad = 0;
	for (unsigned j = 0; j < started; j++) {
		int status;
		if (waitpid(pids[j], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
	}
	if (bad && !err[0])
		snprintf(err, errlen, "--jobs: a worker process failed");
	return started == o->jobs && !bad ? 0 : -1;
}

static void merge(const struct fz_campaign_opts *o, const struct shared *sh,
                  struct fz_campaign_result *r)
{
	r->fail_index = sh->min_fail;
	r->first_invalid_index = FZ_NONE;
	r->first_baseline = FZ_NONE;
	for (unsigned i = 0; i < FZ_MAX_STATES; i++)
		r->first_reached[i] = FZ_NONE;
	for (unsigned j = 0; j < o->jobs; j++) {
		const struct worker *w = &sh->w[j];
		r->cases += w->cases;
		r->invalid += w->invalid;
		r->failing += w->failing;
		r->baseline_fail += w->baseline_fail;
		if (w->first_baseline < r->first_baseline)
			r->first_baseline = w->first_baseline;
		r->reached |= w->reached;
		if (w->first_invalid < r->first_invalid_index) {
			r->first_invalid_index = w->first_invalid;
			snprintf(r->first_invalid, sizeof(r->first_invalid), "%s", w->first_invalid_msg);
		}
		for (unsigned s = 0; s < FZ_MAX_STATES; s++)
			if (w->first_reached[s] < r->first_reached[s])
				r->first_reached[s] = w->first_reached[s];
	}
}

/* Writes sc as YAML at path (with a comment) and runs it from that text
 * with a trace; the run must fail with sig again. */
static int write_case(const struct fz_target *t, const struct scenario *sc, const char *yaml,
                      const char *trace, const char *comment, const char *sig,
                      struct fz_campaign_result *r)
{
	size_t len;
	char *text = scenario_emit_yaml(sc, comment, &len);
	if (!text)
		return snprintf(r->err, sizeof(r->err), "out of memory"), -1;
	FILE *f = fopen(yaml, "wb");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		snprintf(r->err, sizeof(r->err), "%s: cannot write: %s", yaml, strerror(errno));
		free(text);
		return -1;
	}
	struct scenario loaded;
	struct sc_error e;
	if (scenario_load_string(yaml, text, len, &loaded, &e) != 0) {
		snprintf(r->err, sizeof(r->err), "internal: the written case does not load: %.500s", e.msg);
		free(text);
		return -1;
	}
	struct fz_case_opts co = {.trace_path = trace, .scenario_text = text, .scenario_len = len};
	struct fz_result res;
	fz_run_case(t, &loaded, &co, &res);
	scenario_free(&loaded);
	free(text);
	if (res.rc != FZ_FAIL || strcmp(res.sig, sig) != 0) {
		snprintf(r->err, sizeof(r->err), "internal: %s does not fail with %s when run from "
		         "its file (%.300s)", yaml, sig, res.rc == FZ_FAIL ? res.sig : res.first);
		return -1;
	}
	snprintf(r->files[r->nfiles++], sizeof(r->files[0]), "%s", yaml);
	snprintf(r->files[r->nfiles++], sizeof(r->files[0]), "%s", trace);
	return 0;
}

/* The iommu:, time: and rings: sections' configuration, appended to buf. */
static void config_sections(const struct scenario *sc, char *buf, size_t cap)
{
	size_t n = strlen(buf);
	const struct sc_iommu *io = &sc->iommu;
	const struct sc_time *t = &sc->time;
	if (io->enabled && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, " iommu: kind=%s cm=%d elide=%d unmap=%s "
		                      "batch=%u levels=%u iotlb=%u/%u inject=0x%x",
		                      io->kind == SC_IOMMU_AMD ? "amd" : "vtd", io->caching_mode,
		                      io->elide, io->unmap == SC_UNMAP_DEFERRED ? "deferred" : "strict",
		                      io->deferred_batch, io->levels, io->iotlb_entries,
		                      io->iotlb_ways, io->inject);
	if (t->enabled && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, " time: mode=%d clamp=%d invariant=%d vcpus=%u "
		                      "offset_max=%" PRIu64 " drift_ppb=%" PRId64 " inject=0x%x",
		                      t->mode, t->clamp, t->invariant, t->vcpus, t->offset_max,
		                      t->drift_max_ppb, t->inject);
	if (sc->rings.enabled && n < cap)
		snprintf(buf + n, cap - n, " rings: mode=%s inject=0x%x",
		         sc->rings.mode ? "pause" : "waitq", sc->rings.inject);
}

/* The case's machine and configuration, one line, for campaign.db. */
static void config_line(const struct scenario *sc, char *buf, size_t cap)
{
	const struct sc_hv *hv = &sc->hv;
	int n = snprintf(buf, cap, "profile=%s cpus=%u costs=%s", sc->profile_name, sc->ncpus,
	                 sc->overrides ? sc->overrides : "");
	if (hv->enabled && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n,
		         " hv: page1gb=%d superpages=%d flush_policy=%s flush_ceiling=%u "
		         "directmap=0x%" PRIx64 " pcid=%s xpti=%d inject=0x%x",
		         hv->page1gb, hv->superpages, fz_policy_name(hv->flush_policy),
		         hv->flush_ceiling, hv->directmap_bytes, fz_pcid_name(hv->pcid), hv->xpti,
		         hv->inject);
	config_sections(sc, buf, cap);
}

static int handle_failure(const struct fz_campaign_opts *o, struct fz_campaign_result *r)
{
	struct scenario sc, shrunk;
	if (fz_case_scenario(o->t, o->seed, r->fail_index, o->inject, &sc) != 0)
		return snprintf(r->err, sizeof(r->err), "out of memory"), -1;
	struct fz_case_opts co = {.stop_at_first = true};
	struct fz_result res;
	fz_run_case(o->t, &sc, &co, &res);
	if (res.rc != FZ_FAIL) {
		scenario_free(&sc);
		return snprintf(r->err, sizeof(r->err), "internal: case %" PRIu64 " failed in a "
		                "worker but passes again (nondeterminism)", r->fail_index), -1;
	}
	snprintf(r->sig, sizeof(r->sig), "%s", res.sig);
	snprintf(r->first, sizeof(r->first), "%s", res.first);
	config_line(&sc, r->config, sizeof(r->config));
	char why[600];
	if (fz_shrink(o->t, &sc, res.sig, o->shrink_runs, &shrunk, &r->shrink, why,
	              sizeof(why)) != 0) {
		scenario_free(&sc);
		return snprintf(r->err, sizeof(r->err), "internal: shrinking: %.500s", why), -1;
	}
	fz_run_case(o->t, &shrunk, &co, &res);
	snprintf(r->shrunk_first, sizeof(r->shrunk_first), "%s", res.first);
	int rc = 0;
	if (o->out_dir) {
		char base[400], y[512], tr[512], comment[1400];
		snprintf(base, sizeof(base), "%s/%s-%" PRIu64 "-%" PRIu64, o->out_dir, o->t->name,
		         o->seed, r->fail_index);
		snprintf(comment, sizeof(comment),
		         "hvsim fuzz --target %s --seed %" PRIu64 ": case %" PRIu64 " (original, "
		         "%u ops)\n%.600s", o->t->name, o->seed, r->fail_index, r->shrink.ops_before,
		         r->first);
		snprintf(y, sizeof(y), "%s.orig.yaml", base);
		snprintf(tr, sizeof(tr), "%s.orig.hvtrace", base);
		rc = write_case(o->t, &sc, y, tr, comment, r->sig, r);
		snprintf(comment, sizeof(comment),
		         "hvsim fuzz --target %s --seed %" PRIu64 ": case %" PRIu64 " shrunk from %u "
		         "to %u ops\n%.600s", o->t->name, o->seed, r->fail_index, r->shrink.ops_before,
		         r->shrink.ops_after, r->shrunk_first);
		snprintf(y, sizeof(y), "%s.yaml", base);
		snprintf(tr, sizeof(tr), "%s.hvtrace", base);
		if (!rc)
			rc = write_case(o->t, &shrunk, y, tr, comment, r->sig, r);
	}
	scenario_free(&sc);
	scenario_free(&shrunk);
	return rc;
}

int fz_campaign(const struct fz_campaign_opts *o, struct fz_campaign_result *r)
{
	memset(r, 0, sizeof(*r));
	r->fail_index = FZ_NONE;
	if (!o->t || !o->t->built || o->jobs < 1 || o->jobs > FZ_MAX_JOBS ||
	    (!o->iters && o->seconds <= 0))
		return snprintf(r->err, sizeof(r->err), "internal: bad campaign options"), 2;
	if (o->out_dir && mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
		return snprintf(r->err, sizeof(r->err), "--out %s: %s", o->out_dir,
		                strerror(errno)), 2;
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return snprintf(r->err, sizeof(r->err), "cannot map shared memory"), 2;
	memset(sh, 0, sizeof(*sh));
	sh->min_fail = FZ_NONE;
	double t0 = now_s();
	int rc = run_workers(o, sh, t0, r->err, sizeof(r->err)) ? 2 : 0;
	if (o->progress)
		progress_line(o, sh, t0, true);
	merge(o, sh, r);
	munmap(sh, sizeof(*sh));
	r->seconds = now_s() - t0;
	if (!rc && r->fail_index != FZ_NONE)
		rc = handle_failure(o, r) ? 2 : 1;
	if (rc != 2 && o->out_dir && fz_campaign_db_write(o, r) != 0)
		rc = 2;
	return rc;
}
