/* Traces: round trip of every shipped scenario, a changed scheduling
 * decision reported as the right first divergent event, and damaged traces
 * (truncated at every chunk boundary, single bytes corrupted at sampled
 * offsets) refused with the offset of the damaged structure. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner/run.h"
#include "scenario/scenario.h"
#include "trace/format.h"
#include "trace/trace.h"
#include "tests/testutil.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Runs a scenario file with a trace; returns the run's summary. */
static int record(const char *file, const char *trace, uint64_t seed, bool has_seed,
                  struct run_summary *sum)
{
	size_t len;
	char *text = slurp(file, &len);
	struct scenario sc;
	struct sc_error e;
	ck_assert_msg(scenario_load_string(file, text, len, &sc, &e) == 0, "%s", e.msg);
	struct run_opts o = {.trace_path = trace, .scenario_text = text, .scenario_len = len,
	                     .seed = seed, .has_seed = has_seed};
	char err[512];
	int rc = run_scenario(&sc, &o, sum, err, sizeof(err));
	ck_assert_msg(rc != 2, "%s: %s", file, err);
	scenario_free(&sc);
	free(text);
	return rc;
}

static unsigned ntraced;

static void round_trip(const char *file)
{
	char trace[512];
	snprintf(trace, sizeof(trace), "%s/rt-%u.hvtrace", testutil_tmpdir(), ntraced++);
	struct run_summary sum;
	record(file, trace, 0, false, &sum);
	struct replay_result r;
	char err[600];
	int rc = trace_replay(trace, NULL, &r, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: replay %d: %s / expected %s / actual %s", file, rc, err,
	              r.expected, r.actual);
	ck_assert_uint_eq(r.digest, sum.digest);
	ck_assert_uint_eq(r.trace_digest, sum.digest);
	ck_assert_uint_eq(r.events, sum.events);
}

static void walk(const char *dir, void (*fn)(const char *))
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		ck_assert_int_eq(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode))
			walk(path, fn);
		else if (strstr(e->d_name, ".yaml"))
			fn(path);
	}
	closedir(d);
}

START_TEST(round_trip_every_shipped_scenario)
{
	walk(HVSIM_SOURCE_DIR "/scenarios", round_trip);
	ck_assert_uint_ge(ntraced, 40);
}
END_TEST

/* The traces shipped in traces/ replay identically on this build. */
static unsigned nshipped;

static void replay_shipped(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (e->d_name[0] == '.' || stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			replay_shipped(path);
			continue;
		}
		if (!strstr(e->d_name, ".hvtrace"))
			continue;
		struct replay_result r;
		char err[600];
		int rc = trace_replay(path, NULL, &r, err, sizeof(err));
		ck_assert_msg(rc == 0, "%s: %s%s at event %" PRIu64 ": expected %s, actual %s "
		              "(regenerate with tools/make-traces.sh if the change is intended)",
		              path, err, r.diverged ? "diverged" : "", r.seq, r.expected, r.actual);
		nshipped++;
	}
	closedir(d);
}

START_TEST(shipped_traces_replay)
{
	replay_shipped(HVSIM_SOURCE_DIR "/traces");
	ck_assert_uint_ge(nshipped, 40);
}
END_TEST

/* Rewrites a trace record by record, changing the k-th scheduling choice
 * that is directly followed by an event (a tie whose winner acts at once)
 * to another of the tied CPUs. Returns the seq of that following event:
 * where a replay must report the first divergence. */
static uint64_t rewrite_one_choice(const char *in, const char *out, unsigned k)
{
	struct trace_reader *r;
	struct trace_error te;
	ck_assert_msg(trace_open(in, &r, &te) == 0, "%s", te.msg);
	size_t nrec = 0, cap = 1024;
	struct trace_record *recs = malloc(cap * sizeof(*recs));
	ck_assert_ptr_nonnull(recs);
	while (trace_next(r, &recs[nrec])) {
		if (++nrec == cap) {
			cap *= 2;
			recs = realloc(recs, cap * sizeof(*recs));
			ck_assert_ptr_nonnull(recs);
		}
	}
	/* Find the choice to change. */
	size_t target = nrec;
	uint64_t follow = 0;
	unsigned seen = 0;
	for (size_t i = 0; i < nrec && target == nrec; i++) {
		if (recs[i].tag != TR_CHOICE || recs[i].kind != CHOICE_SCHED || recs[i].bound < 2)
			continue;
		size_t j = i + 1;
		while (j < nrec && recs[j].tag == TR_STRING)
			j++;
		if (j < nrec && recs[j].tag == TR_EVENT && seen++ == k) {
			target = i;
			follow = recs[j].ev.seq;
		}
	}
	ck_assert_msg(target < nrec, "no scheduling choice #%u followed by an event", k);
	recs[target].value = (recs[target].value + 1) % recs[target].bound;

	size_t len;
	const char *text = trace_scenario(r, &len);
	struct trace_writer *w;
	char err[512];
	ck_assert_int_eq(trace_writer_open(out, trace_header_of(r), text, len, &w, err,
	                                   sizeof(err)),
	                 0);
	struct sink s = trace_writer_sink(w);
	struct choice_hooks ch = trace_writer_choices(w);
	for (size_t i = 0; i < nrec; i++) {
		const struct trace_record *x = &recs[i];
		if (x->tag == TR_EVENT)
			s.event(s.ctx, &x->ev);
		else if (x->tag == TR_STRING)
			s.string(s.ctx, x->string_id, x->string);
		else
			ch.record(ch.ctx, x->kind, x->bound, x->value);
	}
	ck_assert_int_eq(trace_writer_close(w, true, trace_digest(r), err, sizeof(err)), 0);
	trace_close(r);
	free(recs);
	return follow;
}

START_TEST(changed_choice_reports_first_divergence)
{
	const char *file = HVSIM_SOURCE_DIR "/scenarios/concurrent/shootdown-4cpu.yaml";
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/orig.hvtrace", testutil_tmpdir());
	struct run_summary sum;
	record(file, a, 1, true, &sum);
	ck_assert_uint_gt(sum.sched_choices, 3);
	for (unsigned k = 0; k < 3; k++) {
		snprintf(b, sizeof(b), "%s/changed-%u.hvtrace", testutil_tmpdir(), k);
		uint64_t expect_seq = rewrite_one_choice(a, b, k);
		/* The original event at that seq, as the trace holds it. */
		struct trace_reader *r;
		struct trace_error te;
		ck_assert_int_eq(trace_open(a, &r, &te), 0);
		struct trace_record rec;
		struct event orig = {0};
		while (trace_next(r, &rec))
			if (rec.tag == TR_EVENT && rec.ev.seq == expect_seq)
				orig = rec.ev;
		trace_close(r);
		char desc[256];
		trace_describe_event(&orig, desc, sizeof(desc));

		struct replay_result res;
		char err[600];
		int rc = trace_replay(b, NULL, &res, err, sizeof(err));
		ck_assert_msg(rc == 1, "k=%u: replay returned %d (%s)", k, rc, err);
		ck_assert_uint_eq(res.seq, expect_seq);
		ck_assert_str_eq(res.expected, desc);
		/* Another CPU ran first: the actual event is not the expected. */
		ck_assert_str_ne(res.actual, res.expected);
	}
}
END_TEST

/* Expected offset of the structure holding byte x (trace/format.h). */
static uint64_t structure_of(struct trace_reader *r, uint64_t x, uint64_t header_end)
{
	if (x < header_end)
		return 0;
	if (x >= trace_trailer_offset(r))
		return trace_trailer_offset(r);
	size_t n;
	const struct trace_chunk_info *c = trace_chunks(r, &n);
	for (size_t i = n; i-- > 0;)
		if (x >= c[i].offset)
			return x < c[i].offset + TRACE_CHUNK_HDR ? c[i].offset
			                                         : c[i].offset + TRACE_CHUNK_HDR;
	ck_abort_msg("byte %" PRIu64 " in no structure", x);
	return 0;
}

START_TEST(damaged_traces_are_refused_with_their_offset)
{
	/* A trace of several chunks. */
	char path[512];
	snprintf(path, sizeof(path), "%s/big.hvtrace", testutil_tmpdir());
	struct run_summary sum;
	record(HVSIM_SOURCE_DIR "/scenarios/scale/directmap-1tib-256cpu.yaml", path, 0, false,
	       &sum);
	size_t len;
	uint8_t *buf = (uint8_t *)slurp(path, &len);
	struct trace_reader *r;
	struct trace_error te;
	ck_assert_int_eq(trace_open_mem(buf, len, &r, &te), 0);
	size_t n;
	const struct trace_chunk_info *c = trace_chunks(r, &n);
	ck_assert_uint_ge(n, 4);
	uint64_t header_end = c[0].offset;

	/* Truncated at every chunk boundary (and at the trailer). */
	for (size_t i = 0; i <= n; i++) {
		uint64_t cut = i < n ? c[i].offset : trace_trailer_offset(r);
		struct trace_reader *t;
		ck_assert_int_eq(trace_open_mem(buf, cut, &t, &te), -1);
		ck_assert_uint_eq(te.offset, cut);
		ck_assert_ptr_nonnull(strstr(te.msg, "truncated"));
		/* And in the middle of that chunk's header and payload. */
		if (i < n) {
			ck_assert_int_eq(trace_open_mem(buf, cut + 10, &t, &te), -1);
			ck_assert_uint_eq(te.offset, cut);
			ck_assert_int_eq(trace_open_mem(buf, cut + TRACE_CHUNK_HDR + 5, &t, &te), -1);
			ck_assert_uint_eq(te.offset, cut);
		}
	}

	/* One corrupted byte at sampled offsets, and at every structure's
	 * first and last bytes. */
	uint64_t samples[4096];
	unsigned ns = 0;
	for (uint64_t x = 0; x < len && ns < 4000; x += 37)
		samples[ns++] = x;
	for (size_t i = 0; i < n && ns + 3 < 4096; i++) {
		samples[ns++] = c[i].offset;
		samples[ns++] = c[i].offset + TRACE_CHUNK_HDR - 1;
		samples[ns++] = c[i].offset + TRACE_CHUNK_HDR + c[i].comp_len - 1;
	}
	samples[ns++] = len - 1;
	uint8_t *bad = malloc(len);
	ck_assert_ptr_nonnull(bad);
	for (unsigned k = 0; k < ns; k++) {
		uint64_t x = samples[k];
		memcpy(bad, buf, len);
		bad[x] ^= (uint8_t)(0x5a + k % 7);
		struct trace_reader *t;
		int rc = trace_open_mem(bad, len, &t, &te);
		ck_assert_msg(rc == -1, "byte %" PRIu64 " corrupted, trace accepted", x);
		uint64_t want = structure_of(r, x, header_end);
		ck_assert_msg(te.offset == want, "byte %" PRIu64 ": reported %" PRIu64 " (%s), want %" PRIu64,
		              x, te.offset, te.msg, want);
	}
	free(bad);
	trace_close(r);
	free(buf);
}
END_TEST

/* The command line: exit 2 with the offset for a damaged trace, exit 1
 * with the divergence printed, exit 0 for a good one. */
START_TEST(replay_command_exit_codes)
{
	char good[512], cut[512], out[8192];
	snprintf(good, sizeof(good), "%s/cli.hvtrace", testutil_tmpdir());
	snprintf(cut, sizeof(cut), "%s/cli-cut.hvtrace", testutil_tmpdir());
	char *run[] = {HVSIM_BIN, "run", HVSIM_SOURCE_DIR "/scenarios/litmus/invlpg-4k.yaml",
	               "--trace", good, NULL};
	ck_assert_int_eq(testutil_exec(run, out, sizeof(out)), 0);
	char *rep[] = {HVSIM_BIN, "replay", good, NULL};
	ck_assert_int_eq(testutil_exec(rep, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "identical"));
	size_t len;
	char *buf = slurp(good, &len);
	spit(cut, buf, len - 5);
	free(buf);
	char *rep2[] = {HVSIM_BIN, "replay", cut, NULL};
	ck_assert_int_eq(testutil_exec(rep2, out, sizeof(out)), 2);
	char want[600];
	snprintf(want, sizeof(want), "%s: byte %zu: truncated", cut, len - TRACE_TRAILER);
	ck_assert_msg(strstr(out, want), "got: %s", out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("trace");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, round_trip_every_shipped_scenario);
	tcase_add_test(tc, shipped_traces_replay);
	tcase_add_test(tc, changed_choice_reports_first_divergence);
	tcase_add_test(tc, damaged_traces_are_refused_with_their_offset);
	tcase_add_test(tc, replay_command_exit_codes);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
