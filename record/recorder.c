/* SQLite recorder (record/recorder.h). Schema: record/schema.sql, embedded
 * below as recorder_schema_sql(); the column meanings are the payload table
 * in sim/event.h. */
#include "record/recorder.h"
#include "sim/embedded.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_VERSION 1
#define PAYLOAD_COLS 11 /* cycle cpu type sub a b c d e f caller */
/* Large pages: fewer page splits and writes per row (~10% faster than the
 * default 4 KiB on the bench); the cost is 64 KiB per table at minimum. */
#define PAGE_SIZE_SQL "PRAGMA page_size = 65536;"

struct recorder {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *ins_batch;  /* REC_BATCH rows per step, seq = rowid */
	sqlite3_stmt *ins_one;    /* one row with explicit seq */
	sqlite3_stmt *ins_string;
	unsigned nbuf;
	uint64_t next_rowid;  /* the rowid SQLite assigns next: last seq + 1 */
	uint64_t uncommitted; /* rows since the last COMMIT */
	bool failed;          /* err holds why; nothing more is written */
	char err[512];
	struct event buf[REC_BATCH];
};

/* SQLite integers are signed 64-bit: every u64 of struct event is stored
 * bit-cast (docs/recording.md), so ~0 reads back as -1 and converts back
 * exactly. memcpy avoids the implementation-defined conversion. */
static inline int64_t s64(uint64_t v)
{
	int64_t r;
	memcpy(&r, &v, sizeof(r));
	return r;
}

/* "PATH: WHAT: sqlite message (errno text)". */
static void fmt_db_err(char *err, size_t errlen, const char *path, sqlite3 *db,
                       const char *what)
{
	if (!err || !errlen)
		return;
	if (!db) {
		snprintf(err, errlen, "%s: %s: out of memory", path, what);
		return;
	}
	int sys = sqlite3_system_errno(db);
	if (sys)
		snprintf(err, errlen, "%s: %s: %s (%s)", path, what,
		         sqlite3_errmsg(db), strerror(sys));
	else
		snprintf(err, errlen, "%s: %s: %s", path, what,
		         sqlite3_errmsg(db));
}

/* Records the first failure; the sink then asks the bus to stop. */
static int fail(struct recorder *r, const char *what)
{
	if (!r->failed)
		fmt_db_err(r->err, sizeof(r->err), r->path, r->db, what);
	r->failed = true;
	return -1;
}

static int exec(struct recorder *r, const char *sql, const char *what)
{
	if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(r, what);
	return 0;
}

/* Steps a write statement once and resets it for reuse. */
static int step_done(struct recorder *r, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(r, what);
	return 0;
}

/* The recording replaces whatever was at path. SQLite would otherwise open
 * an old database (or refuse a foreign file), and a leftover hot journal
 * would be "rolled back" into the new file, so those go too. */
static int remove_old(const char *path, char *err, size_t errlen)
{
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm" };
	struct stat st;
	char name[4096];

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		return -1;
	}
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s%s", path, sfx[i]) >=
		    sizeof(name)) {
			snprintf(err, errlen, "%s: path too long", path);
			return -1;
		}
		/* Nothing there (or no such directory): open reports it. */
		if (unlink(name) != 0 && errno != ENOENT && errno != ENOTDIR) {
			snprintf(err, errlen, "%s: cannot replace %s: %s", path,
			         i ? name : "existing file", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Name tables written from the C name functions so that the views and the
 * code cannot disagree. instr_name() answers "?" past the last INSTR_*. */
static int write_names(struct recorder *r)
{
	sqlite3_stmt *st;
	int ret = 0;

	if (sqlite3_prepare_v2(r->db, "INSERT INTO event_types VALUES (?1, ?2)",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(r, "writing event_types");
	for (unsigned t = 0; t < EV__COUNT && !ret; t++) {
		sqlite3_bind_int64(st, 1, t);
		sqlite3_bind_text(st, 2, ev_type_name(t), -1, SQLITE_STATIC);
		ret = step_done(r, st, "writing event_types");
	}
	sqlite3_finalize(st);
	if (ret)
		return ret;

	if (sqlite3_prepare_v2(r->db, "INSERT INTO instr_names VALUES (?1, ?2)",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(r, "writing instr_names");
	for (unsigned i = 0; i < 256 && strcmp(instr_name(i), "?") && !ret; i++) {
		sqlite3_bind_int64(st, 1, i);
		sqlite3_bind_text(st, 2, instr_name(i), -1, SQLITE_STATIC);
		ret = step_done(r, st, "writing instr_names");
	}
	sqlite3_finalize(st);
	return ret;
}

static int write_run(struct recorder *r, const struct run_info *info)
{
	sqlite3_stmt *st;
	int ret;

	if (sqlite3_prepare_v2(r->db,
	                       "INSERT INTO runs (id, scenario, path, seed, profile,"
	                       " config, hvsim_version, ncpus, status) VALUES"
	                       " (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running')",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(r, "writing runs");
	bind_text_or_null(st, 1, info->scenario);
	bind_text_or_null(st, 2, info->path);
	sqlite3_bind_int64(st, 3, s64(info->seed));
	bind_text_or_null(st, 4, info->profile);
	bind_text_or_null(st, 5, info->config);
	bind_text_or_null(st, 6, info->version);
	sqlite3_bind_int64(st, 7, info->ncpus);
	ret = step_done(r, st, "writing runs");
	sqlite3_finalize(st);
	return ret;
}

/* The batch statement leaves seq out: SQLite then assigns rowid = max + 1
 * without the uniqueness probe an explicit INTEGER PRIMARY KEY costs (a
 * third of the time per row). write_batch() uses it only when that rowid
 * is the event's seq. */
static int prepare_inserts(struct recorder *r)
{
	static const char head[] = "INSERT INTO events (cycle, cpu, type, sub,"
	                           " a, b, c, d, e, f, caller) VALUES ";
	static const char row[] = "(?,?,?,?,?,?,?,?,?,?,?)";
	char sql[sizeof(head) + REC_BATCH * sizeof(row)];
	size_t n = (size_t)snprintf(sql, sizeof(sql), "%s", head);

	static_assert(PAYLOAD_COLS * REC_BATCH < 32766, "SQLite parameter limit");
	for (unsigned i = 0; i < REC_BATCH; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s",
		                      i ? "," : "", row);
	assert(n < sizeof(sql));
	if (sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	                       &r->ins_batch, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(r->db, "INSERT INTO events VALUES "
	                       "(?,?,?,?,?,?,?,?,?,?,?,?)", -1,
	                       SQLITE_PREPARE_PERSISTENT, &r->ins_one,
	                       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(r->db, "INSERT OR REPLACE INTO strings VALUES "
	                       "(?1, ?2)", -1, SQLITE_PREPARE_PERSISTENT,
	                       &r->ins_string, NULL) != SQLITE_OK)
		return fail(r, "preparing inserts");
	return 0;
}

/* Schema and runs row in their own committed transaction: from here on the
 * file is a valid recording whose status says 'running'.
 *
 * No fsync and an exclusive lock: nobody reads a recording while it is
 * being written, and a lost one is re-made by running again. The rollback
 * journal is kept in memory; it costs nothing measurable here because
 * SQLite does not journal pages appended beyond the old end of file, and
 * it lets a failed write (disk full) roll the file back to its last commit
 * instead of leaving it malformed. No cache spill, so a transaction in
 * progress stays in memory and a process that dies leaves the file as of
 * its last commit (unless it dies inside a commit's writes). */
static int create_db(struct recorder *r, const struct run_info *info)
{
	static const char pragmas[] =
		PAGE_SIZE_SQL
		"PRAGMA locking_mode = EXCLUSIVE;"
		"PRAGMA journal_mode = MEMORY;"
		"PRAGMA synchronous = OFF;"
		"PRAGMA temp_store = MEMORY;"
		"PRAGMA cache_spill = OFF;";
	char ver[64];

	snprintf(ver, sizeof(ver), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (exec(r, pragmas, "setting pragmas") ||
	    exec(r, "BEGIN", "creating schema") ||
	    exec(r, recorder_schema_sql(), "creating schema") ||
	    exec(r, ver, "creating schema") || write_names(r) ||
	    write_run(r, info) || exec(r, "COMMIT", "creating schema") ||
	    prepare_inserts(r) || exec(r, "BEGIN", "starting transaction"))
		return -1;
	return 0;
}

static void destroy(struct recorder *r)
{
	sqlite3_finalize(r->ins_batch);
	sqlite3_finalize(r->ins_one);
	sqlite3_finalize(r->ins_string);
	/* Every statement is finalized, so close cannot be busy. */
	int rc = sqlite3_close(r->db);
	assert(rc == SQLITE_OK);
	(void)rc;
	free(r->path);
	free(r);
}

int recorder_open(const char *path, const struct run_info *info,
                  struct recorder **out, char *err, size_t errlen)
{
	struct recorder *r;

	assert(path && info && out);
	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		free(r);
		return -1;
	}
	r->next_rowid = 1;
	if (remove_old(path, err, errlen)) {
		free(r->path);
		free(r);
		return -1;
	}
	if (sqlite3_open_v2(path, &r->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                            SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		fmt_db_err(err, errlen, path, r->db, "cannot create database");
		destroy(r);
		return -1;
	}
	if (create_db(r, info)) {
		snprintf(err, errlen, "%s", r->err);
		destroy(r);
		/* Do not leave a half-made file that could pass for a run. */
		unlink(path);
		return -1;
	}
	*out = r;
	return 0;
}

/* Columns cycle..caller of ev as parameters base+1..base+11. */
static void bind_payload(sqlite3_stmt *st, int base, const struct event *ev)
{
	/* Binding an in-range parameter of a live statement cannot fail. */
	sqlite3_bind_int64(st, base + 1, s64(ev->cycle));
	sqlite3_bind_int64(st, base + 2, ev->cpu);
	sqlite3_bind_int64(st, base + 3, ev->type);
	sqlite3_bind_int64(st, base + 4, ev->sub);
	sqlite3_bind_int64(st, base + 5, s64(ev->a));
	sqlite3_bind_int64(st, base + 6, s64(ev->b));
	sqlite3_bind_int64(st, base + 7, s64(ev->c));
	sqlite3_bind_int64(st, base + 8, s64(ev->d));
	sqlite3_bind_int64(st, base + 9, s64(ev->e));
	sqlite3_bind_int64(st, base + 10, s64(ev->f));
	sqlite3_bind_int64(st, base + 11, ev->caller);
}

static int count_rows(struct recorder *r, unsigned n)
{
	r->uncommitted += n;
	if (r->uncommitted < REC_COMMIT_ROWS)
		return 0;
	r->uncommitted = 0;
	return exec(r, "COMMIT; BEGIN", "committing events");
}

/* Row by row with explicit seq: the tail at close, and batches whose seqs
 * are not the rowids SQLite would assign (a recorder attached late). */
static int write_rows_one(struct recorder *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct event *ev = &r->buf[i];
		/* The bus numbers events in increasing order. */
		assert(ev->seq >= r->next_rowid);
		sqlite3_bind_int64(r->ins_one, 1, s64(ev->seq));
		bind_payload(r->ins_one, 1, ev);
		if (step_done(r, r->ins_one, "writing events"))
			return -1;
		r->next_rowid = ev->seq + 1;
	}
	return count_rows(r, n);
}

static int write_batch(struct recorder *r)
{
	const struct event *first = &r->buf[0], *last = &r->buf[REC_BATCH - 1];

	assert(r->nbuf == REC_BATCH);
	r->nbuf = 0;
	/* Seqs increase, so first..last contiguous and first = next rowid
	 * means SQLite assigns exactly the seqs. */
	if (first->seq != r->next_rowid ||
	    last->seq - first->seq != REC_BATCH - 1)
		return write_rows_one(r, REC_BATCH);
	for (unsigned i = 0; i < REC_BATCH; i++)
		bind_payload(r->ins_batch, (int)i * PAYLOAD_COLS, &r->buf[i]);
	if (step_done(r, r->ins_batch, "writing events"))
		return -1;
	assert((uint64_t)sqlite3_last_insert_rowid(r->db) == last->seq);
	r->next_rowid = last->seq + 1;
	return count_rows(r, REC_BATCH);
}

static int rec_event(void *ctx, const struct event *ev)
{
	struct recorder *r = ctx;

	if (r->failed)
		return 1;
	/* The bus owns ev only for the duration of the call: copy it. */
	r->buf[r->nbuf++] = *ev;
	if (r->nbuf == REC_BATCH && write_batch(r))
		return 1;
	return 0;
}

static void rec_string(void *ctx, uint32_t id, const char *s)
{
	struct recorder *r = ctx;

	if (r->failed)
		return;
	sqlite3_bind_int64(r->ins_string, 1, id);
	sqlite3_bind_text(r->ins_string, 2, s, -1, SQLITE_STATIC);
	step_done(r, r->ins_string, "writing strings");
}

struct sink recorder_sink(struct recorder *r)
{
	return (struct sink){
		.name = "recorder",
		.mask = ((1ull << EV__COUNT) - 1) & ~(1ull << EV_NONE),
		.ctx = r,
		.event = rec_event,
		.string = rec_string,
	};
}

/* The tail of the buffer, then the final runs fields, in one transaction
 * with the last events so the status never runs ahead of the data. */
static int finish(struct recorder *r, const char *status, int exit_code,
                  uint64_t events, uint64_t digest, uint64_t cycles)
{
	sqlite3_stmt *st;
	char hex[17];
	int ret;

	if (write_rows_one(r, r->nbuf))
		return -1;
	r->nbuf = 0;
	if (sqlite3_prepare_v2(r->db,
	                       "UPDATE runs SET status = ?1, exit_code = ?2,"
	                       " events = ?3, digest = ?4, cycles = ?5"
	                       " WHERE id = 1",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(r, "writing final status");
	snprintf(hex, sizeof(hex), "%016" PRIx64, digest);
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, exit_code);
	sqlite3_bind_int64(st, 3, s64(events));
	sqlite3_bind_text(st, 4, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, s64(cycles));
	ret = step_done(r, st, "writing final status");
	sqlite3_finalize(st);
	if (ret)
		return ret;
	return exec(r, "COMMIT", "committing events");
}

int recorder_close(struct recorder *r, const char *status, int exit_code,
                   uint64_t events, uint64_t digest, uint64_t cycles,
                   char *err, size_t errlen)
{
	int ret = 0;

	assert(r && status);
	if (!r->failed)
		finish(r, status, exit_code, events, digest, cycles);
	if (r->failed) {
		snprintf(err, errlen, "%s", r->err);
		ret = -1;
	}
	destroy(r);
	return ret;
}

/* record/schema.sql, verbatim (test_recorder compares them). */
const char *recorder_schema_sql(void)
{
	/* record/schema.sql, embedded at build time (CMakeLists.txt). */
	return hvsim_schema[0].text;
}
