/* `hvsim diff` (record/diff.h) on recordings written through the bus and
 * the recorder: exit codes, the first divergent event, callers compared
 * by string, flush counters, bad input. tests/cli/diff.sh checks the
 * same on recordings of shipped scenarios from the command line. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/diff.h"
#include "record/recorder.h"
#include "sim/bus.h"
#include "tests/testutil.h"

/* What one synthetic recording holds. */
struct spec {
	uint64_t n;         /* events */
	uint64_t change_at; /* seq whose a is changed, 0 for none */
	bool other_ids;     /* intern a string first: other caller ids */
	const char *status;
};

struct counts {
	uint64_t invlpg, mov_cr3, necessary;
};

static const struct run_info info = {
	.scenario = "unit", .path = "tests/test_diff.c", .seed = 1,
	.profile = "skylake", .config = "cpus=2", .version = HVSIM_VERSION,
	.ncpus = 2,
};

static void tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", testutil_tmpdir(), name);
}

/* Event i of the stream: a rotation of types with payloads that depend
 * on i, flushes alternating INVLPG / MOV CR3, every third necessary. */
static struct event event_at(uint64_t i, uint32_t caller)
{
	static const uint16_t types[] = { EV_ACCESS, EV_FILL, EV_FLUSH,
	                                  EV_WALK, EV_PTE_WRITE, EV_EVICT };
	struct event ev = {
		.cycle = 10 * i, .cpu = (int32_t)(i % 2),
		.type = types[i % 6], .a = 0x400000 + (i << 12), .b = i,
		.c = i % 3, .d = i % 4, .caller = caller,
	};

	if (ev.type == EV_FLUSH) {
		ev.sub = (i / 6) % 2 ? INSTR_MOV_CR3 : INSTR_INVLPG;
		ev.f = SCOPE_PAGE | ((i / 6) % 3 == 0 ? 1u << 8 : 0);
	}
	return ev;
}

static void count(struct counts *c, const struct event *ev)
{
	if (ev->type != EV_FLUSH)
		return;
	c->invlpg += ev->sub == INSTR_INVLPG;
	c->mov_cr3 += ev->sub == INSTR_MOV_CR3;
	c->necessary += ev->f >> 8;
}

static struct counts make_db(const char *path, const struct spec *sp)
{
	struct counts c = { 0 };
	struct recorder *r = NULL;
	struct bus b;
	char err[512];

	bus_init(&b);
	ck_assert_msg(recorder_open(path, &info, &r, err, sizeof(err)) == 0,
	              "%s", err);
	struct sink s = recorder_sink(r);
	ck_assert_int_eq(bus_attach(&b, &s), 0);
	if (sp->other_ids)
		bus_intern(&b, "unused");
	uint32_t callers[2] = { bus_intern(&b, "scenario"),
	                        bus_intern(&b, "hw") };
	for (uint64_t i = 1; i <= sp->n; i++) {
		struct event ev = event_at(i, callers[i % 2]);
		if (i == sp->change_at)
			ev.a ^= 1;
		count(&c, &ev);
		bus_emit(&b, &ev);
	}
	ck_assert_msg(recorder_close(r, sp->status ? sp->status : "complete",
	                             0, b.seq, b.digest, 10 * sp->n, err,
	                             sizeof(err)) == 0, "%s", err);
	bus_fini(&b);
	return c;
}

/* Runs diff_db; *text gets the output (free it). */
static int diff(const char *a, const char *b, char **text, char *err,
                size_t errlen)
{
	size_t len = 0;
	FILE *out = open_memstream(text, &len);

	ck_assert_ptr_nonnull(out);
	err[0] = 0;
	int rc = diff_db(a, b, out, err, errlen);
	fclose(out);
	return rc;
}

/* line occurs in text once runs of blanks are squeezed to one: the
 * tables' column widths are not the point here. */
static void assert_has(const char *text, const char *line)
{
	char *sq = strdup(text), *w = sq;

	ck_assert_ptr_nonnull(sq);
	for (const char *r = text; *r; r++)
		if (*r != ' ' || w == sq || w[-1] != ' ')
			*w++ = *r;
	*w = 0;
	ck_assert_msg(strstr(sq, line), "missing '%s' in:\n%s", line, sq);
	free(sq);
}

START_TEST(identical_and_renumbered_strings)
{
	char a[512], b[512], err[512], *text;

	tmp_path(a, sizeof(a), "same-a.db");
	tmp_path(b, sizeof(b), "same-b.db");
	make_db(a, &(struct spec){ .n = 5000 });
	make_db(b, &(struct spec){ .n = 5000, .other_ids = true });
	ck_assert_int_eq(diff(a, a, &text, err, sizeof(err)), DIFF_SAME);
	assert_has(text, " identical event streams (5000 events)\n");
	ck_assert_ptr_null(strstr(text, "\n*"));
	free(text);
	/* Same strings under other ids: the callers are the same. */
	ck_assert_int_eq(diff(a, b, &text, err, sizeof(err)), DIFF_SAME);
	assert_has(text, " identical event streams (5000 events)\n");
	free(text);
}
END_TEST

START_TEST(first_divergence_in_a_long_stream)
{
	char a[512], b[512], err[512], *text, line[128];
	const uint64_t n = 200000, at = 199990;

	tmp_path(a, sizeof(a), "long-a.db");
	tmp_path(b, sizeof(b), "long-b.db");
	make_db(a, &(struct spec){ .n = n });
	make_db(b, &(struct spec){ .n = n, .change_at = at });
	ck_assert_int_eq(diff(a, b, &text, err, sizeof(err)), DIFF_DIFFERENT);
	snprintf(line, sizeof(line), " first divergent event: seq %" PRIu64
	         " (after %" PRIu64 " identical)\n", at, at - 1);
	assert_has(text, line);
	assert_has(text, " differing columns: a\n");
	/* event_at(199990): rotation index 4, EV_PTE_WRITE on cpu 0, at
	 * 0x400000 + (199990 << 12). */
	assert_has(text, " A: pte_write cpu 0 cycle 1999900 level 0 "
	           "entry_pa 0x31136000 ");
	assert_has(text, " B: pte_write cpu 0 cycle 1999900 level 0 "
	           "entry_pa 0x31136001 ");
	free(text);
}
END_TEST

START_TEST(one_stream_ends_first)
{
	char a[512], b[512], err[512], *text;

	tmp_path(a, sizeof(a), "end-a.db");
	tmp_path(b, sizeof(b), "end-b.db");
	make_db(a, &(struct spec){ .n = 5000 });
	make_db(b, &(struct spec){ .n = 4000, .status = "aborted" });
	ck_assert_int_eq(diff(a, b, &text, err, sizeof(err)), DIFF_DIFFERENT);
	assert_has(text, " first divergent event: seq 4001 (after 4000 "
	           "identical)\n");
	assert_has(text, " B: (none: the recording ends after 4000 events)\n");
	assert_has(text, "* status complete aborted\n");
	free(text);
	ck_assert_int_eq(diff(b, a, &text, err, sizeof(err)), DIFF_DIFFERENT);
	assert_has(text, " A: (none: the recording ends after 4000 events)\n");
	free(text);
}
END_TEST

START_TEST(flush_counters)
{
	char a[512], b[512], err[512], *text, line[256];

	tmp_path(a, sizeof(a), "fl-a.db");
	tmp_path(b, sizeof(b), "fl-b.db");
	struct counts ca = make_db(a, &(struct spec){ .n = 600 });
	struct counts cb = make_db(b, &(struct spec){ .n = 300 });
	ck_assert_int_eq(diff(a, b, &text, err, sizeof(err)), DIFF_DIFFERENT);
	/* 100 flushes in A, 50 in B, half of them each instruction. */
	ck_assert_uint_eq(ca.invlpg, 50);
	ck_assert_uint_eq(cb.invlpg, 25);
	snprintf(line, sizeof(line), "* invlpg %" PRIu64 " %" PRIu64 " -%"
	         PRIu64 " -50.0%%\n", ca.invlpg, cb.invlpg,
	         ca.invlpg - cb.invlpg);
	assert_has(text, line);
	snprintf(line, sizeof(line), "* necessary %" PRIu64 " %" PRIu64
	         " -%" PRIu64 " ", ca.necessary, cb.necessary,
	         ca.necessary - cb.necessary);
	assert_has(text, line);
	/* Flushes alternate callers with the seq: all go to one. */
	assert_has(text, " by caller\n* scenario 100 50 -50 -50.0%\n");
	free(text);
}
END_TEST

START_TEST(bad_input)
{
	char a[512], missing[512], text_file[512], err[512], *text;

	tmp_path(a, sizeof(a), "ok.db");
	tmp_path(missing, sizeof(missing), "missing.db");
	tmp_path(text_file, sizeof(text_file), "text.db");
	make_db(a, &(struct spec){ .n = 10 });
	FILE *f = fopen(text_file, "w");
	ck_assert_ptr_nonnull(f);
	fputs("hello, not a database\n", f);
	fclose(f);

	ck_assert_int_eq(diff(a, missing, &text, err, sizeof(err)),
	                 DIFF_BAD_INPUT);
	ck_assert_str_eq(text, "");
	ck_assert_msg(strncmp(err, missing, strlen(missing)) == 0 &&
	              strstr(err, "No such file"), "%s", err);
	free(text);
	ck_assert_int_eq(diff(text_file, a, &text, err, sizeof(err)),
	                 DIFF_BAD_INPUT);
	ck_assert_str_eq(text, "");
	ck_assert_msg(strncmp(err, text_file, strlen(text_file)) == 0 &&
	              strstr(err, "not a database"), "%s", err);
	free(text);
}
END_TEST

/* An event type without a view is described by its raw columns. */
START_TEST(raw_description_without_view)
{
	char a[512], b[512], err[512], *text;
	sqlite3 *db = NULL;

	tmp_path(a, sizeof(a), "raw-a.db");
	tmp_path(b, sizeof(b), "raw-b.db");
	make_db(a, &(struct spec){ .n = 3 });
	make_db(b, &(struct spec){ .n = 3 });
	/* A type from a future schema; the bus refuses to emit one. */
	ck_assert_int_eq(sqlite3_open(b, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE events SET type = 99,"
	                              " a = 2748 WHERE seq = 2", NULL, NULL,
	                              NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(diff(a, b, &text, err, sizeof(err)), DIFF_DIFFERENT);
	/* event_at(2): an INVLPG flush, necessary, by "scenario". */
	assert_has(text, " A: flush cpu 0 cycle 20 instr invlpg va 0x402000 "
	           "pcid 2 removed_tlb 2 removed_env 2 stale_removed 0 "
	           "scope page necessary 1 globals 0 caller scenario\n");
	assert_has(text, " B: type 99 cpu 0 cycle 20 sub 1 a 0xabc b 0x2 "
	           "c 0x2 d 0x2 e 0x0 f 0x101 caller scenario\n");
	assert_has(text, " differing columns: type a\n");
	free(text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, identical_and_renumbered_strings);
	tcase_add_test(tc, first_divergence_in_a_long_stream);
	tcase_add_test(tc, one_stream_ends_first);
	tcase_add_test(tc, flush_counters);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, raw_description_without_view);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(suite());
}
