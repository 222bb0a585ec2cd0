/* SQLite recorder: what goes in through the bus comes out of the file. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record/recorder.h"
#include "sim/bus.h"
#include "tests/testutil.h"

static const struct run_info info = {
	.scenario = "unit",
	.path = "tests/test_recorder.c",
	.seed = 0xfedcba9876543210ull, /* above INT64_MAX: bit-cast */
	.profile = "skylake",
	.config = "cpus=2 overrides=invlpg=400",
	.version = HVSIM_VERSION,
	.ncpus = 2,
};

static void tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", testutil_tmpdir(), name);
}

static uint64_t emit(struct bus *b, uint16_t type, uint16_t sub, int32_t cpu,
                     uint64_t a, uint64_t bb, uint64_t c, uint64_t d,
                     uint64_t e, uint64_t f, uint32_t caller)
{
	struct event ev = {
		.cycle = 1000 + b->seq * 3, .cpu = cpu, .type = type,
		.sub = sub, .a = a, .b = bb, .c = c, .d = d, .e = e, .f = f,
		.caller = caller,
	};
	return bus_emit(b, &ev);
}

static struct recorder *start(struct bus *b, const char *path)
{
	struct recorder *r = NULL;
	char err[512];

	bus_init(b);
	ck_assert_msg(recorder_open(path, &info, &r, err, sizeof(err)) == 0,
	              "%s", err);
	struct sink s = recorder_sink(r);
	ck_assert_int_eq(bus_attach(b, &s), 0);
	return r;
}

static void finish(struct bus *b, struct recorder *r)
{
	char err[512];

	ck_assert_msg(recorder_close(r, "complete", 0, b->seq, b->digest,
	                             4242, err, sizeof(err)) == 0, "%s", err);
	bus_fini(b);
}

static sqlite3 *open_db(const char *path)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	                 SQLITE_OK);
	return db;
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	              "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void q_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
	sqlite3_stmt *st;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	              "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *t = sqlite3_column_text(st, 0);
	snprintf(out, n, "%s", t ? (const char *)t : "(null)");
	sqlite3_finalize(st);
}

static uint64_t as_u64(int64_t v)
{
	uint64_t r;
	memcpy(&r, &v, sizeof(r));
	return r;
}

START_TEST(counts_and_round_trip)
{
	char path[512], sql[256], txt[128];
	struct bus b;
	uint64_t ones = ~0ull, max_seq;

	tmp_path(path, sizeof(path), "counts.db");
	struct recorder *r = start(&b, path);
	uint32_t hw = bus_intern(&b, "hw");
	uint32_t fal = bus_intern(&b, "flush_area_local");
	/* Different counts per type, none a multiple of the batch size. */
	for (unsigned t = 1; t < EV__COUNT; t++)
		for (unsigned i = 0; i < t * 7 + 3; i++)
			emit(&b, (uint16_t)t, (uint16_t)(i & 3), (int32_t)(i % 3) - 1,
			     i, i * 2, i * 3, i * 4, i * 5, i * 6, hw);
	max_seq = emit(&b, EV_NOTE, 0xffff, -1, ones, ones, ones, ones, ones,
	               ones, fal);
	uint64_t counts[EV__COUNT];
	memcpy(counts, b.counts, sizeof(counts));
	uint64_t digest = b.digest;
	finish(&b, r);

	sqlite3 *db = open_db(path);
	for (unsigned t = 1; t < EV__COUNT; t++) {
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM events WHERE type = %u", t);
		ck_assert_int_eq(q_int(db, sql), (int64_t)counts[t]);
	}
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events"),
	                 (int64_t)max_seq);
	ck_assert_int_eq(q_int(db, "SELECT max(seq) FROM events"),
	                 (int64_t)max_seq);
	/* Every u64 column of the last event reads back as ~0. */
	for (const char *c = "abcdef"; *c; c++) {
		snprintf(sql, sizeof(sql),
		         "SELECT %c FROM events WHERE seq = %" PRIu64, *c, max_seq);
		ck_assert_uint_eq(as_u64(q_int(db, sql)), ones);
	}
	snprintf(sql, sizeof(sql), "SELECT printf('%%x', a) || sub || caller"
	         " FROM events WHERE seq = %" PRIu64, max_seq);
	q_text(db, sql, txt, sizeof(txt));
	snprintf(sql, sizeof(sql), "ffffffffffffffff65535%u", fal);
	ck_assert_str_eq(txt, sql);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events WHERE cpu = -1"),
	                 q_int(db, "SELECT count(*) FROM events WHERE cpu < 0"));

	/* Strings: all interned ones, including "" for id 0. */
	snprintf(sql, sizeof(sql), "SELECT s FROM strings WHERE id = %u", fal);
	q_text(db, sql, txt, sizeof(txt));
	ck_assert_str_eq(txt, "flush_area_local");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM strings"), 3);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM strings WHERE id = 0"
	                           " AND s = ''"), 1);

	/* The runs row after close. */
	q_text(db, "SELECT status FROM runs", txt, sizeof(txt));
	ck_assert_str_eq(txt, "complete");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), 1);
	ck_assert_uint_eq(as_u64(q_int(db, "SELECT seed FROM runs")), info.seed);
	ck_assert_int_eq(q_int(db, "SELECT events FROM runs"), (int64_t)max_seq);
	ck_assert_int_eq(q_int(db, "SELECT cycles FROM runs"), 4242);
	ck_assert_int_eq(q_int(db, "SELECT ncpus FROM runs"), 2);
	ck_assert_int_eq(q_int(db, "SELECT exit_code FROM runs"), 0);
	q_text(db, "SELECT digest FROM runs", txt, sizeof(txt));
	snprintf(sql, sizeof(sql), "%016" PRIx64, digest);
	ck_assert_str_eq(txt, sql);
	q_text(db, "SELECT scenario || '|' || path || '|' || profile || '|' ||"
	           " config || '|' || hvsim_version FROM runs", txt, sizeof(txt));
	ck_assert_str_eq(txt, "unit|tests/test_recorder.c|skylake|cpus=2 "
	                      "overrides=invlpg=400|" HVSIM_VERSION);

	/* Name tables come from the C name functions. */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM event_types"), EV__COUNT);
	q_text(db, "SELECT name FROM event_types WHERE id = 6", txt, sizeof(txt));
	ck_assert_str_eq(txt, "flush");
	q_text(db, "SELECT name FROM instr_names WHERE id = 1", txt, sizeof(txt));
	ck_assert_str_eq(txt, "invlpg");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM instr_names"),
	                 INSTR_ACCESS + 1);
	ck_assert_int_eq(q_int(db, "PRAGMA user_version"), 1);
	sqlite3_close(db);
}
END_TEST

/* Every view: name, columns in order, one row per event of its type. */
struct view_spec {
	const char *name;
	unsigned type;
	const char *cols;
};

static const struct view_spec views[] = {
	{ "accesses", EV_ACCESS,
	  "seq,cycle,cpu,acc,va,pa,pcid,path,accf,cycles,caller" },
	{ "fills", EV_FILL,
	  "seq,cycle,cpu,structure,va,pa,pcid,size_log2,global,level,caller" },
	{ "evictions", EV_EVICT,
	  "seq,cycle,cpu,structure,va,pa,pcid,size_log2,global,level,caller" },
	{ "walks", EV_WALK,
	  "seq,cycle,cpu,result,va,pa,pcid,levels,pfec,cycles,caller" },
	{ "faults", EV_FAULT, "seq,cycle,cpu,vector,va,error_code,instr,caller" },
	{ "flushes", EV_FLUSH,
	  "seq,cycle,cpu,instr,va,pcid,removed_tlb,removed_env,stale_removed,"
	  "scope,necessary,globals,caller" },
	{ "pte_writes", EV_PTE_WRITE,
	  "seq,cycle,cpu,level,entry_pa,old_value,new_value,va,ptew,hw_ad,"
	  "translation,table_pa,caller" },
	{ "cr_writes", EV_CR_WRITE,
	  "seq,cycle,cpu,reg,old_value,new_value,faulted,caller" },
	{ "ipis", EV_IPI, "seq,cycle,cpu,kind,from_cpu,to_cpu,id,latency,caller" },
	{ "quiesces", EV_QUIESCE, "seq,cycle,cpu,point,stale_found,caller" },
	{ "env_adds", EV_ENV_ADD,
	  "seq,cycle,cpu,kind,record,pcid,global,va,size_log2,level,old_entry,"
	  "table_pa,caller" },
	{ "env_drops", EV_ENV_DROP,
	  "seq,cycle,cpu,dropper,record,flush_seq,was_stale,caller" },
	{ "env_stale", EV_ENV_STALE,
	  "seq,cycle,cpu,kind,record,pcid,global,va,size_log2,reason,old_value,"
	  "caller" },
	{ "tables", EV_TABLE,
	  "seq,cycle,cpu,op,frame,level,live_links,env_refs,caller" },
	{ "cache_flushes", EV_CACHE_FLUSH, "seq,cycle,cpu,instr,pa,caller" },
	{ "expects", EV_EXPECT,
	  "seq,cycle,cpu,passed,expectation,actual,expected,caller" },
	{ "notes", EV_NOTE, "seq,cycle,cpu,arg,caller" },
};

static void check_view_columns(sqlite3 *db, const struct view_spec *v)
{
	char sql[128], cols[512] = "";
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), "SELECT * FROM %s", v->name);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	              "%s: %s", sql, sqlite3_errmsg(db));
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		strcat(cols, i ? "," : "");
		strcat(cols, sqlite3_column_name(st, i));
	}
	sqlite3_finalize(st);
	ck_assert_str_eq(cols, v->cols);
}

START_TEST(views_have_named_columns)
{
	char path[512], sql[256], txt[256];
	struct bus b;

	tmp_path(path, sizeof(path), "views.db");
	struct recorder *r = start(&b, path);
	uint32_t fal = bus_intern(&b, "flush_area_local");
	for (unsigned t = 1; t < EV__COUNT; t++)
		for (unsigned i = 0; i < t; i++)
			emit(&b, (uint16_t)t, 1, 0, 1, 2, 3, 4, 5, 6, 0);
	uint64_t fl = emit(&b, EV_FLUSH, INSTR_INVLPG, 1, 0x7f0000001000ull, 5,
	                   2, 1, 1, SCOPE_PAGE | 1u << 8, fal);
	uint64_t add = emit(&b, EV_ENV_ADD, ENVK_PSC, 0, 42, ENV_GLOBAL,
	                    0x200000, 21, 2u << 8, 0x5000, 0);
	uint64_t pw = emit(&b, EV_PTE_WRITE, 1, 0, 0x3008, 0x1003, 0, ~0ull,
	                   PTEW_TRANSLATION, 0x3000, 0);
	finish(&b, r);

	sqlite3 *db = open_db(path);
	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		const struct view_spec *v = &views[i];
		check_view_columns(db, v);
		snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM %s) ="
		         " (SELECT count(*) FROM events WHERE type = %u)",
		         v->name, v->type);
		ck_assert_msg(q_int(db, sql) == 1, "%s row count", v->name);
	}
	snprintf(sql, sizeof(sql), "SELECT printf('%%s %%x %%d %%d %%d %%d %%s"
	         " %%d %%s', instr, va, pcid, removed_tlb, removed_env,"
	         " stale_removed, scope, necessary, caller) FROM flushes"
	         " WHERE seq = %" PRIu64, fl);
	q_text(db, sql, txt, sizeof(txt));
	ck_assert_str_eq(txt, "invlpg 7f0000001000 5 2 1 1 page 1 "
	                      "flush_area_local");
	snprintf(sql, sizeof(sql), "SELECT printf('%%s %%d %%s %%d %%x %%d %%d"
	         " %%s %%x', kind, record, quote(pcid), global, va, size_log2,"
	         " level, quote(old_entry), table_pa) FROM env_adds"
	         " WHERE seq = %" PRIu64, add);
	q_text(db, sql, txt, sizeof(txt));
	ck_assert_str_eq(txt, "psc 42 NULL 1 200000 21 2 NULL 5000");
	snprintf(sql, sizeof(sql), "SELECT quote(va) || ' ' || translation ||"
	         " ' ' || hw_ad FROM pte_writes WHERE seq = %" PRIu64, pw);
	q_text(db, sql, txt, sizeof(txt));
	ck_assert_str_eq(txt, "NULL 1 0");
	sqlite3_close(db);
}
END_TEST

/* A run that dies leaves status 'running' and the events up to the last
 * commit. The recorder holds an exclusive lock while open, so the file is
 * read after the writer is gone: here a child that exits without close. */
START_TEST(running_until_closed)
{
	char path[512], txt[64];

	tmp_path(path, sizeof(path), "died.db");
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct bus b;
		start(&b, path);
		for (unsigned i = 0; i < REC_COMMIT_ROWS + 77; i++)
			emit(&b, EV_ACCESS, 0, 0, i, i, 0, 0, 0, 0, 0);
		_exit(0); /* no recorder_close(): the run "dies" */
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	sqlite3 *db = open_db(path);
	q_text(db, "SELECT status FROM runs", txt, sizeof(txt));
	ck_assert_str_eq(txt, "running");
	ck_assert_int_eq(q_int(db, "SELECT events IS NULL AND digest IS NULL"
	                           " FROM runs"), 1);
	/* Only committed transactions are in the file. */
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events"),
	                 REC_COMMIT_ROWS);
	q_text(db, "PRAGMA integrity_check", txt, sizeof(txt));
	ck_assert_str_eq(txt, "ok");
	sqlite3_close(db);
}
END_TEST

/* Several commits and a tail that is not a whole batch. */
START_TEST(many_rows)
{
	char path[512];
	struct bus b;
	const unsigned n = 2 * REC_COMMIT_ROWS + 37;

	tmp_path(path, sizeof(path), "many.db");
	struct recorder *r = start(&b, path);
	for (unsigned i = 0; i < n; i++)
		emit(&b, EV_ACCESS, 0, (int32_t)(i & 1), i, 0, 0, 0, 0, 0, 0);
	finish(&b, r);
	sqlite3 *db = open_db(path);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events"), n);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events WHERE"
	                           " a = seq - 1"), n);
	sqlite3_close(db);
}
END_TEST

static void expect_open_fails(const char *path)
{
	struct recorder *r = NULL;
	char err[512] = "";

	ck_assert_int_eq(recorder_open(path, &info, &r, err, sizeof(err)), -1);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err, path) == err, "message '%s' names '%s'", err,
	              path);
}

START_TEST(bad_paths)
{
	char path[600], file[512];

	tmp_path(path, sizeof(path), "no/such/dir/x.db");
	expect_open_fails(path);
	/* A directory where the file should be. */
	tmp_path(path, sizeof(path), "adir");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	expect_open_fails(path);
	/* A regular file where a directory should be. */
	tmp_path(file, sizeof(file), "plain");
	FILE *f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/x.db", file);
	expect_open_fails(path);
	/* A directory without write permission (root ignores modes). */
	if (geteuid() != 0) {
		tmp_path(path, sizeof(path), "ro");
		ck_assert_int_eq(mkdir(path, 0555), 0);
		strcat(path, "/x.db");
		expect_open_fails(path);
	}
}
END_TEST

START_TEST(replaces_existing_file)
{
	char path[512], txt[64];
	struct bus b;

	tmp_path(path, sizeof(path), "old.db");
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not a database\n", f);
	fclose(f);
	struct recorder *r = start(&b, path);
	emit(&b, EV_NOTE, 0, -1, 1, 0, 0, 0, 0, 0, 0);
	finish(&b, r);
	/* And an earlier recording is replaced, not appended to. */
	r = start(&b, path);
	emit(&b, EV_NOTE, 0, -1, 2, 0, 0, 0, 0, 0, 0);
	emit(&b, EV_NOTE, 0, -1, 3, 0, 0, 0, 0, 0, 0);
	char err[512];
	ck_assert_msg(recorder_close(r, "violation", 1, b.seq, b.digest, 0, err,
	                             sizeof(err)) == 0, "%s", err);
	bus_fini(&b);
	sqlite3 *db = open_db(path);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events"), 2);
	ck_assert_int_eq(q_int(db, "SELECT exit_code FROM runs"), 1);
	q_text(db, "SELECT status FROM runs", txt, sizeof(txt));
	ck_assert_str_eq(txt, "violation");
	sqlite3_close(db);
}
END_TEST

/* record/schema.sql is the documented schema: it must be what we create. */
START_TEST(schema_file_matches)
{
	const char *path = HVSIM_SOURCE_DIR "/record/schema.sql";
	FILE *f = fopen(path, "rb");
	static char buf[1 << 16];

	ck_assert_msg(f != NULL, "%s", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	ck_assert_msg(strcmp(buf, recorder_schema_sql()) == 0,
	              "record/schema.sql differs from recorder_schema_sql(): "
	              "regenerate the string (docs/recording.md)");
}
END_TEST

/* A recorder attached to a bus that already numbered events: strings
 * interned before are written, and seqs are the bus's, not 1.. (the batch
 * path lets SQLite assign rowids only when they equal the seqs). */
START_TEST(late_attach)
{
	char path[512], txt[64], sql[64];
	struct bus b;
	struct recorder *r = NULL;
	char err[512];

	bus_init(&b);
	uint32_t id = bus_intern(&b, "early");
	for (unsigned i = 0; i < 40; i++)
		emit(&b, EV_NOTE, 0, -1, b.seq + 1, 0, 0, 0, 0, 0, 0);
	tmp_path(path, sizeof(path), "late.db");
	ck_assert_msg(recorder_open(path, &info, &r, err, sizeof(err)) == 0,
	              "%s", err);
	struct sink s = recorder_sink(r);
	bus_attach(&b, &s);
	for (unsigned i = 0; i < 3 * REC_BATCH + 5; i++)
		emit(&b, EV_NOTE, 0, -1, b.seq + 1, 0, 0, 0, 0, 0, id);
	finish(&b, r);

	sqlite3 *db = open_db(path);
	snprintf(sql, sizeof(sql), "SELECT s FROM strings WHERE id = %u", id);
	q_text(db, sql, txt, sizeof(txt));
	ck_assert_str_eq(txt, "early");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events"),
	                 3 * REC_BATCH + 5);
	ck_assert_int_eq(q_int(db, "SELECT min(seq) FROM events"), 41);
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events WHERE seq = a"),
	                 3 * REC_BATCH + 5);
	sqlite3_close(db);
}
END_TEST

/* A write that fails (file size limit, like a full disk) stops the run
 * through the sink and makes close report the path; the file keeps status
 * 'running' as of its last good commit. */
START_TEST(write_failure_stops_run)
{
	char path[512], err[512] = "", txt[64];
	struct bus b;

	tmp_path(path, sizeof(path), "full.db");
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = 4 << 20, .rlim_max = 4 << 20 };
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(10);
		struct recorder *r = start(&b, path);
		uint64_t n = 0;
		while (!b.stop && n < 20 * REC_COMMIT_ROWS)
			n = emit(&b, EV_ACCESS, 0, 0, n, 0, 0, 0, 0, 0, 0);
		if (!b.stop)
			_exit(11);
		if (recorder_close(r, "complete", 0, b.seq, b.digest, 0, err,
		                   sizeof(err)) != -1)
			_exit(12);
		if (strstr(err, path) != err)
			_exit(13);
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d",
	              WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	sqlite3 *db = open_db(path);
	q_text(db, "SELECT status FROM runs", txt, sizeof(txt));
	ck_assert_str_eq(txt, "running");
	q_text(db, "PRAGMA integrity_check", txt, sizeof(txt));
	ck_assert_str_eq(txt, "ok");
	ck_assert_int_eq(q_int(db, "SELECT count(*) FROM events") %
	                 REC_COMMIT_ROWS, 0);
	sqlite3_close(db);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("recorder");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, counts_and_round_trip);
	tcase_add_test(tc, views_have_named_columns);
	tcase_add_test(tc, running_until_closed);
	tcase_add_test(tc, many_rows);
	tcase_add_test(tc, bad_paths);
	tcase_add_test(tc, replaces_existing_file);
	tcase_add_test(tc, schema_file_matches);
	tcase_add_test(tc, late_attach);
	tcase_add_test(tc, write_failure_stops_run);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(suite());
}
