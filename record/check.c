/* `hvsim check` back end (record/check.h). The recording schema is
 * record/schema.sql; the queries' column convention is docs/recording.md. */
#include "record/check.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sim/embedded.h"

struct query {
	char name[64];   /* "-- property:", else the file's base name */
	char what[256];  /* "-- what:", else "" */
	const char *sql;
	char origin[512]; /* names the query in messages */
};

struct shown_row {
	uint64_t seq, cycle;
	int64_t cpu;
	char *explanation;
};

/* u64 columns are stored bit-cast (docs/recording.md). */
static uint64_t u64_of(int64_t v)
{
	uint64_t r;
	memcpy(&r, &v, sizeof(r));
	return r;
}

/* Copies the value after "-- key:" on a header line into dst. */
static bool header_value(const char *line, size_t len, const char *key,
                         char *dst, size_t dstlen)
{
	size_t klen = strlen(key);

	while (len && (*line == '-' || *line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	if (len < klen || strncmp(line, key, klen) != 0)
		return false;
	line += klen;
	len -= klen;
	while (len && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	snprintf(dst, dstlen, "%.*s", (int)len, line);
	return true;
}

/* The header is the run of comment (and blank) lines before the SQL. */
static void parse_header(struct query *q, const char *fallback_name)
{
	const char *p = q->sql;

	snprintf(q->name, sizeof(q->name), "%s", fallback_name);
	q->what[0] = 0;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len && strncmp(p, "--", 2) != 0)
			break;
		if (!header_value(p, len, "property:", q->name, sizeof(q->name)))
			header_value(p, len, "what:", q->what, sizeof(q->what));
		p += len + (nl != NULL);
	}
}

/* The base name of path without its extension. */
static void base_name(const char *path, char *dst, size_t dstlen)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	const char *dot = strrchr(b, '.');
	size_t len = dot && dot != b ? (size_t)(dot - b) : strlen(b);
	snprintf(dst, dstlen, "%.*s", (int)len, b);
}

/* True if s holds only whitespace, semicolons and comments. */
static bool only_comments(const char *s)
{
	while (*s) {
		if (isspace((unsigned char)*s) || *s == ';') {
			s++;
		} else if (s[0] == '-' && s[1] == '-') {
			s += strcspn(s, "\n");
		} else if (s[0] == '/' && s[1] == '*') {
			const char *end = strstr(s + 2, "*/");
			if (!end)
				return true; /* SQLite accepts an open comment */
			s = end + 2;
		} else {
			return false;
		}
	}
	return true;
}

static char *read_text(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			char *p = realloc(buf, cap);
			if (!p) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = p;
		}
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path,
		         errno ? strerror(errno) : "read error");
		goto fail;
	}
	fclose(f);
	buf[len] = 0;
	if (strlen(buf) != len) {
		snprintf(err, errlen, "%s: not a text file (NUL byte)", path);
		free(buf);
		return NULL;
	}
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* A property query must be one read-only SELECT with the four columns. */
static int prepare_query(sqlite3 *db, const struct query *q,
                         sqlite3_stmt **out, char *err, size_t errlen)
{
	static const char *const cols[] = { "seq", "cycle", "cpu", "explanation" };
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int n;

	if (sqlite3_prepare_v2(db, q->sql, -1, &st, &tail) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", q->origin, sqlite3_errmsg(db));
		return -1;
	}
	if (!st) {
		snprintf(err, errlen, "%s: no SQL statement", q->origin);
		return -1;
	}
	if (!only_comments(tail)) {
		snprintf(err, errlen, "%s: more than one SQL statement (a "
		         "property query is one SELECT)", q->origin);
		goto fail;
	}
	if (!sqlite3_stmt_readonly(st)) {
		snprintf(err, errlen, "%s: not a read-only query", q->origin);
		goto fail;
	}
	n = sqlite3_column_count(st);
	for (int i = 0; i < 4; i++) {
		const char *name = i < n ? sqlite3_column_name(st, i) : "";
		if (n != 4 || !name || strcasecmp(name, cols[i]) != 0) {
			snprintf(err, errlen, "%s: the query must return the "
			         "columns (seq, cycle, cpu, explanation); got %d "
			         "column(s), column %d is '%s'",
			         q->origin, n, i + 1, name ? name : "?");
			goto fail;
		}
	}
	*out = st;
	return 0;
fail:
	sqlite3_finalize(st);
	return -1;
}

static void print_result(FILE *out, const struct query *q, uint64_t n,
                         const struct shown_row *rows)
{
	if (n == 0) {
		fprintf(out, "%s: ok\n", q->name);
		return;
	}
	fprintf(out, "%s: %" PRIu64 " violation(s)\n", q->name, n);
	for (uint64_t i = 0; i < n && i < CHECK_SHOW_ROWS; i++)
		fprintf(out, "  seq=%" PRIu64 " cycle=%" PRIu64 " cpu=%" PRId64
		        ": %s\n", rows[i].seq, rows[i].cycle, rows[i].cpu,
		        rows[i].explanation);
	if (n > CHECK_SHOW_ROWS)
		fprintf(out, "  ... and %" PRIu64 " more\n", n - CHECK_SHOW_ROWS);
}

/* Runs one query; *nrows gets the number of violating rows. */
static int run_query(sqlite3 *db, const struct query *q, FILE *out,
                     uint64_t *nrows, char *err, size_t errlen)
{
	struct shown_row rows[CHECK_SHOW_ROWS];
	sqlite3_stmt *st;
	uint64_t n = 0;
	int rc, ret = 0;

	if (prepare_query(db, q, &st, err, errlen))
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n < CHECK_SHOW_ROWS) {
			const unsigned char *e = sqlite3_column_text(st, 3);
			rows[n] = (struct shown_row){
				.seq = u64_of(sqlite3_column_int64(st, 0)),
				.cycle = u64_of(sqlite3_column_int64(st, 1)),
				.cpu = sqlite3_column_int64(st, 2),
				.explanation = strdup(e ? (const char *)e : ""),
			};
			if (!rows[n].explanation) {
				snprintf(err, errlen, "%s: out of memory", q->origin);
				ret = -1;
				break;
			}
		}
		n++;
	}
	if (!ret && rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", q->origin, sqlite3_errmsg(db));
		ret = -1;
	}
	sqlite3_finalize(st);
	if (!ret)
		print_result(out, q, n, rows);
	for (uint64_t i = 0; i < n && i < CHECK_SHOW_ROWS; i++)
		free(rows[i].explanation);
	*nrows = n;
	return ret;
}

/* "PATH: sqlite message", with a hint for the recorder's lock. */
static void db_error(char *err, size_t errlen, const char *path, sqlite3 *db)
{
	/* The recorder holds an exclusive lock until it closes. */
	bool busy = (sqlite3_errcode(db) & 0xff) == SQLITE_BUSY;

	snprintf(err, errlen, "%s: %s%s", path, sqlite3_errmsg(db),
	         busy ? " (is a run still recording it?)" : "");
}

/* Prints the runs row; refuses files that are not recordings. */
static int check_run_row(sqlite3 *db, const char *path, FILE *out, char *err,
                         size_t errlen)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(db,
	                       "SELECT (SELECT count(*) FROM sqlite_master"
	                       "  WHERE type = 'table' AND name IN ('runs', 'events')),"
	                       " (SELECT count(*) FROM runs)",
	                       -1, &st, NULL) != SQLITE_OK) {
		/* Also where a foreign file shows: "file is not a database",
		 * or no such table: runs. */
		if (strstr(sqlite3_errmsg(db), "no such table"))
			snprintf(err, errlen, "%s: not an hvsim recording (no runs "
			         "table)", path);
		else
			db_error(err, errlen, path, db);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_error(err, errlen, path, db);
		ret = -1;
	} else if (sqlite3_column_int(st, 0) != 2) {
		snprintf(err, errlen, "%s: not an hvsim recording (no events "
		         "table)", path);
		ret = -1;
	} else if (sqlite3_column_int(st, 1) == 0) {
		snprintf(err, errlen, "%s: not an hvsim recording (empty runs "
		         "table)", path);
		ret = -1;
	}
	sqlite3_finalize(st);
	if (ret)
		return ret;

	if (sqlite3_prepare_v2(db, "SELECT coalesce(scenario, '?'), status,"
	                       " exit_code, events, digest FROM runs"
	                       " ORDER BY id LIMIT 1", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		db_error(err, errlen, path, db);
		sqlite3_finalize(st);
		return -1;
	}
	const char *status = (const char *)sqlite3_column_text(st, 1);
	status = status ? status : "?";
	fprintf(out, "recording %s: scenario %s, status %s", path,
	        (const char *)sqlite3_column_text(st, 0), status);
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		fprintf(out, ", exit code %d, %" PRIu64 " events, digest %s",
		        sqlite3_column_int(st, 2),
		        u64_of(sqlite3_column_int64(st, 3)),
		        sqlite3_column_text(st, 4) ?
		                (const char *)sqlite3_column_text(st, 4) : "?");
	fputc('\n', out);
	/* 'running' in a closed file: recorder_close() never ran. */
	if (strcmp(status, "running") == 0)
		fprintf(out, "warning: %s: status is 'running': the run ended "
		        "before its recording was closed; only the events "
		        "written until then are checked\n", path);
	sqlite3_finalize(st);
	return 0;
}

static int open_recording(const char *path, sqlite3 **db, char *err,
                          size_t errlen)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		return -1;
	}
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		         *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	return 0;
}

static int run_embedded(sqlite3 *db, FILE *out, bool *any, char *err,
                        size_t errlen)
{
	for (const struct hvsim_embedded *e = hvsim_checks; e->name; e++) {
		struct query q = { .sql = e->text };
		uint64_t n = 0;

		/* cmake/embed_list.cmake sorts them: name order. */
		assert(e == hvsim_checks || strcmp(e[-1].name, e->name) < 0);
		parse_header(&q, e->name);
		snprintf(q.origin, sizeof(q.origin), "checks/%s.sql (embedded)",
		         e->name);
		if (run_query(db, &q, out, &n, err, errlen))
			return -1;
		*any |= n > 0;
	}
	return 0;
}

static int run_file(sqlite3 *db, const char *sql_path, FILE *out, bool *any,
                    char *err, size_t errlen)
{
	struct query q = { .sql = NULL };
	char base[64];
	uint64_t n = 0;
	char *text = read_text(sql_path, err, errlen);

	if (!text)
		return -1;
	q.sql = text;
	base_name(sql_path, base, sizeof(base));
	parse_header(&q, base);
	snprintf(q.origin, sizeof(q.origin), "%s", sql_path);
	int ret = run_query(db, &q, out, &n, err, errlen);
	*any |= n > 0;
	free(text);
	return ret;
}

int check_db(const char *db_path, const char *sql_path, FILE *out, char *err,
             size_t errlen)
{
	sqlite3 *db = NULL;
	bool any = false;
	int ret;

	assert(db_path && out);
	if (open_recording(db_path, &db, err, errlen))
		return CHECK_BAD_INPUT;
	if (check_run_row(db, db_path, out, err, errlen))
		ret = -1;
	else if (sql_path)
		ret = run_file(db, sql_path, out, &any, err, errlen);
	else
		ret = run_embedded(db, out, &any, err, errlen);
	sqlite3_close(db);
	if (ret)
		return CHECK_BAD_INPUT;
	return any ? CHECK_VIOLATION : CHECK_OK;
}

void check_list(FILE *out)
{
	for (const struct hvsim_embedded *e = hvsim_checks; e->name; e++) {
		struct query q = { .sql = e->text };
		parse_header(&q, e->name);
		fprintf(out, "%-18s %s\n", q.name, q.what);
	}
}
