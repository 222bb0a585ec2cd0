/* `hvsim diff` back end (record/diff.h). What each section means is in
 * docs/diff.md; the recording schema is record/schema.sql.
 *
 * Everything is computed before anything is printed, so bad input (exit 2)
 * never leaves half a report on stdout. The aggregates are one or two
 * scans of each events table in SQL, A and B read in two threads (the
 * property queries dominate); the event streams are then compared by
 * stepping one statement per file in lockstep, so memory does not grow
 * with the recordings.
 */
#include "record/diff.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/embedded.h"
#include "sim/event.h"

enum { A, B, NSIDE };

/* ---- The runs row ---- */

/* In the column order of RUN_SQL. */
enum { R_SCENARIO, R_SEED, R_PROFILE, R_CONFIG, R_VERSION, R_STATUS,
       R_EVENTS, R_CYCLES, R_DIGEST, R__COUNT };

#define RUN_SQL \
	"SELECT scenario, seed, profile, config, hvsim_version, status," \
	" events, cycles, digest FROM runs ORDER BY id LIMIT 1"

static const struct {
	const char *label;
	bool u64; /* bit-cast u64 (docs/recording.md), shown unsigned */
	bool delta;
} run_fields[R__COUNT] = {
	[R_SCENARIO] = { "scenario" },
	[R_SEED] = { "seed", true },
	[R_PROFILE] = { "profile" },
	[R_CONFIG] = { "config" },
	[R_VERSION] = { "hvsim version" },
	[R_STATUS] = { "status" },
	[R_EVENTS] = { "events", true, true },
	[R_CYCLES] = { "cycles", true, true },
	[R_DIGEST] = { "digest" },
};

/* ---- Counters from one pass over events ---- */

enum { M_ACCESSES, M_L1, M_L2, M_WALKS, M_FILLS, M_EVICTIONS, M_PF,
       M_OTHER_FAULTS, M_FLUSHES, M_NECESSARY, M_REMOVED_TLB,
       M_REMOVED_ENV, M_STALE_REMOVED, M__COUNT };

/* Same predicates as the views of record/schema.sql, on events directly:
 * one scan instead of one per view, and no join with strings. */
static const char metrics_sql[] =
	"SELECT"
	" count(*) FILTER (WHERE type = 1),"
	" count(*) FILTER (WHERE type = 1 AND d = 0),"
	" count(*) FILTER (WHERE type = 1 AND d = 1),"
	" count(*) FILTER (WHERE type = 4),"
	" count(*) FILTER (WHERE type = 2),"
	" count(*) FILTER (WHERE type = 3),"
	" count(*) FILTER (WHERE type = 5 AND sub = 14),"
	" count(*) FILTER (WHERE type = 5 AND sub <> 14),"
	" count(*) FILTER (WHERE type = 6),"
	" count(*) FILTER (WHERE type = 6 AND (f >> 8) & 1),"
	" coalesce(sum(c) FILTER (WHERE type = 6), 0),"
	" coalesce(sum(d) FILTER (WHERE type = 6), 0),"
	" coalesce(sum(e) FILTER (WHERE type = 6), 0)"
	" FROM events";

/* Flushes per (instruction, caller), named; split into two groups in C. */
static const char flush_groups_sql[] =
	"SELECT g.sub, coalesce(i.name, 'instr ' || g.sub),"
	" CASE WHEN s.s IS NULL THEN '#' || g.caller"
	"  WHEN s.s = '' THEN '(none)' ELSE s.s END, g.n"
	" FROM (SELECT sub, caller, count(*) AS n FROM events WHERE type = 6"
	"  GROUP BY sub, caller) g"
	" LEFT JOIN instr_names i ON i.id = g.sub"
	" LEFT JOIN strings s ON s.id = g.caller";

/* The caller is compared by its string: two builds may intern the same
 * names in another order. */
#define EV_INTS 11 /* seq .. f */
static const char *const ev_cols[EV_INTS + 1] = {
	"seq", "cycle", "cpu", "type", "sub", "a", "b", "c", "d", "e", "f",
	"caller",
};
static const char events_sql[] =
	"SELECT e.seq, e.cycle, e.cpu, e.type, e.sub, e.a, e.b, e.c, e.d,"
	" e.e, e.f, s.s FROM events e LEFT JOIN strings s ON s.id = e.caller"
	" ORDER BY e.seq";

/* The view of each event type (record/schema.sql), to name the payload. */
static const char *const type_views[EV__COUNT] = {
	[EV_ACCESS] = "accesses", [EV_FILL] = "fills",
	[EV_EVICT] = "evictions", [EV_WALK] = "walks",
	[EV_FAULT] = "faults", [EV_FLUSH] = "flushes",
	[EV_PTE_WRITE] = "pte_writes", [EV_CR_WRITE] = "cr_writes",
	[EV_IPI] = "ipis", [EV_QUIESCE] = "quiesces",
	[EV_ENV_ADD] = "env_adds", [EV_ENV_DROP] = "env_drops",
	[EV_ENV_STALE] = "env_stale", [EV_TABLE] = "tables",
	[EV_CACHE_FLUSH] = "cache_flushes", [EV_EXPECT] = "expects",
	[EV_NOTE] = "notes",
};

/* View columns that hold addresses or page-table/CR values: hex. */
static const char *const hex_cols[] = {
	"va", "pa", "entry_pa", "table_pa", "old_value", "new_value",
	"frame", "old_entry", "error_code", "pfec",
};

/* ---- Keyed rows (flushes by instruction, by caller) ---- */

struct row {
	char *label;
	int64_t ord;
	uint64_t v[NSIDE];
};

struct group {
	struct row *rows;
	size_t n, cap;
	bool oom;
};

/* ---- Everything known about one recording ---- */

struct side {
	const char *path;
	sqlite3 *db;
	char err[512]; /* "PATH: message"; each side reads in its own thread */
	char *run[R__COUNT]; /* NULL for SQL NULL */
	uint64_t runv[R__COUNT];
	uint64_t m[M__COUNT];
	uint64_t *props; /* violating rows per hvsim_checks[] entry */
};

/* The first event at which the streams differ. */
struct divergence {
	bool found;
	uint64_t same;        /* identical events before it */
	bool have[NSIDE];     /* the side has an event there (else it ended) */
	int64_t v[NSIDE][EV_INTS];
	unsigned differs;     /* bit i: ev_cols[i] differs */
	char *line[NSIDE];    /* the event in one line */
};

struct diff {
	struct side s[NSIDE];
	struct group kinds, callers;
	size_t nprops;
	struct divergence dv;
};

/* u64 columns are stored bit-cast (docs/recording.md). */
static uint64_t u64_of(int64_t v)
{
	uint64_t r;
	memcpy(&r, &v, sizeof(r));
	return r;
}

/* Sets "PATH: message" for side s; fmt starts after "PATH: ". */
static int fail(struct side *s, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(s->err, sizeof(s->err), "%s: ", s->path);

	if (n < 0 || (size_t)n >= sizeof(s->err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "PATH: sqlite message", with a hint for the recorder's lock. */
static int db_fail(struct side *s)
{
	/* The recorder holds an exclusive lock until it closes. */
	bool busy = (sqlite3_errcode(s->db) & 0xff) == SQLITE_BUSY;

	return fail(s, "%s%s", sqlite3_errmsg(s->db),
	            busy ? " (is a run still recording it?)" : "");
}

static int prepare(struct side *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(s);
	return 0;
}

static int group_add(struct group *g, const char *label, int64_t ord,
                     int side, uint64_t v)
{
	size_t i;

	for (i = 0; i < g->n && strcmp(g->rows[i].label, label) != 0; i++)
		;
	if (i == g->n) {
		if (g->n == g->cap) {
			size_t cap = g->cap ? 2 * g->cap : 16;
			struct row *r = realloc(g->rows, cap * sizeof(*r));
			if (!r)
				return -1;
			g->rows = r;
			g->cap = cap;
		}
		g->rows[i] = (struct row){ .label = strdup(label), .ord = ord };
		if (!g->rows[i].label)
			return -1;
		g->n++;
	}
	g->rows[i].v[side] += v;
	return 0;
}

static void group_free(struct group *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->rows[i].label);
	free(g->rows);
}

/* Instructions in INSTR_* order. */
static int by_ord(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	if (a->ord != b->ord)
		return a->ord < b->ord ? -1 : 1;
	return strcmp(a->label, b->label);
}

/* Callers busiest first (in either recording), then by name. */
static int by_count(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	uint64_t ma = a->v[A] > a->v[B] ? a->v[A] : a->v[B];
	uint64_t mb = b->v[A] > b->v[B] ? b->v[A] : b->v[B];

	if (ma != mb)
		return ma > mb ? -1 : 1;
	return strcmp(a->label, b->label);
}

/* ---- Reading one recording ---- */

static int open_side(struct diff *d, struct side *s)
{
	struct stat sb;

	if (stat(s->path, &sb) != 0)
		return fail(d, "%s: %s", s->path, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return fail(d, "%s: is a directory", s->path);
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		if (!s->db)
			return fail(d, "%s: out of memory", s->path);
		return db_fail(d, s);
	}
	return 0;
}

/* Refuses files that are not recordings, with the reason. */
static int check_recording(struct diff *d, struct side *s)
{
	sqlite3_stmt *st;
	int ret = 0;

	/* A foreign file fails here: "file is not a database". */
	if (prepare(d, s, "SELECT count(*) FROM sqlite_master WHERE"
	            " type = 'table' AND name IN ('runs', 'events')", &st))
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		ret = db_fail(d, s);
	else if (sqlite3_column_int(st, 0) != 2)
		ret = fail(d, "%s: not an hvsim recording (no runs or events "
		           "table)", s->path);
	sqlite3_finalize(st);
	return ret;
}

static int read_run(struct diff *d, struct side *s)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(d, s, RUN_SQL, &st))
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return fail(d, "%s: not an hvsim recording (empty runs table)",
		            s->path);
	}
	if (rc != SQLITE_ROW) {
		db_fail(d, s);
		sqlite3_finalize(st);
		return -1;
	}
	for (int i = 0; i < R__COUNT; i++) {
		char num[24];
		const char *t = (const char *)sqlite3_column_text(st, i);

		if (!t)
			continue;
		if (run_fields[i].u64) {
			s->runv[i] = u64_of(sqlite3_column_int64(st, i));
			snprintf(num, sizeof(num), "%" PRIu64, s->runv[i]);
			t = num;
		}
		s->run[i] = strdup(t);
		if (!s->run[i]) {
			sqlite3_finalize(st);
			return fail(d, "%s: out of memory", s->path);
		}
	}
	sqlite3_finalize(st);
	return 0;
}

static int read_metrics(struct diff *d, struct side *s)
{
	sqlite3_stmt *st;
	int ret = 0;

	if (prepare(d, s, metrics_sql, &st))
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		ret = db_fail(d, s);
	for (int i = 0; !ret && i < M__COUNT; i++)
		s->m[i] = u64_of(sqlite3_column_int64(st, i));
	sqlite3_finalize(st);
	return ret;
}

static int read_flush_groups(struct diff *d, struct side *s, int side)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(d, s, flush_groups_sql, &st))
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *caller = (const char *)sqlite3_column_text(st, 2);
		uint64_t n = u64_of(sqlite3_column_int64(st, 3));

		if (!kind || !caller ||
		    group_add(&d->kinds, kind, sqlite3_column_int64(st, 0),
		              side, n) ||
		    group_add(&d->callers, caller, 0, side, n)) {
			sqlite3_finalize(st);
			return fail(d, "%s: out of memory", s->path);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(d, s);
	return 0;
}

/* The property name from the "-- property: NAME" header line, else the
 * query's file name. */
static void prop_name(const struct hvsim_embedded *e, char *dst,
                      size_t dstlen)
{
	const char *p = strstr(e->text, "-- property:");

	snprintf(dst, dstlen, "%s", e->name);
	if (!p)
		return;
	p += strlen("-- property:");
	p += strspn(p, " \t");
	size_t len = strcspn(p, " \t\r\n");
	if (len)
		snprintf(dst, dstlen, "%.*s", (int)len, p);
}

/* Violating rows of every shipped property query (as `hvsim check`). */
static int read_props(struct diff *d, struct side *s)
{
	s->props = calloc(d->nprops ? d->nprops : 1, sizeof(*s->props));
	if (!s->props)
		return fail(d, "%s: out of memory", s->path);
	for (size_t i = 0; i < d->nprops; i++) {
		const struct hvsim_embedded *e = &hvsim_checks[i];
		sqlite3_stmt *st;
		int rc;

		if (sqlite3_prepare_v2(s->db, e->text, -1, &st, NULL) !=
		    SQLITE_OK || !st)
			return fail(d, "%s: checks/%s.sql (embedded): %s",
			            s->path, e->name, sqlite3_errmsg(s->db));
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			s->props[i]++;
		if (rc != SQLITE_DONE)
			fail(d, "%s: checks/%s.sql (embedded): %s", s->path,
			     e->name, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

static int read_side(struct diff *d, int side)
{
	struct side *s = &d->s[side];

	if (read_run(d, s) || read_metrics(d, s) ||
	    read_flush_groups(d, s, side) || read_props(d, s))
		return -1;
	return 0;
}

/* ---- The first divergent event ---- */

static bool is_hex_col(const char *name)
{
	for (size_t i = 0; i < sizeof(hex_cols) / sizeof(hex_cols[0]); i++)
		if (strcmp(name, hex_cols[i]) == 0)
			return true;
	return false;
}

static void print_value(FILE *f, sqlite3_stmt *st, int i)
{
	const char *name = sqlite3_column_name(st, i);

	if (sqlite3_column_type(st, i) == SQLITE_INTEGER) {
		uint64_t v = u64_of(sqlite3_column_int64(st, i));
		fprintf(f, is_hex_col(name) ? " %s 0x%" PRIx64 : " %s %" PRIu64,
		        name, v);
	} else {
		fprintf(f, " %s %s", name, sqlite3_column_text(st, i));
	}
}

/* The payload as the event's view names it; false if there is no view
 * row (unknown type, or a schema without the view). */
static bool print_view_payload(FILE *f, sqlite3 *db, uint64_t type,
                               int64_t seq)
{
	char sql[128];
	sqlite3_stmt *st;
	bool found = false;

	if (type >= EV__COUNT || !type_views[type])
		return false;
	snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE seq = ?",
	         type_views[type]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = true;
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *name = sqlite3_column_name(st, i);
			/* seq, cycle and cpu lead the line; NULL means
			 * "not applicable" (e.g. the pcid of a global). */
			if (strcmp(name, "seq") == 0 ||
			    strcmp(name, "cycle") == 0 ||
			    strcmp(name, "cpu") == 0 ||
			    sqlite3_column_type(st, i) == SQLITE_NULL)
				continue;
			if (strcmp(name, "caller") == 0 &&
			    !*sqlite3_column_text(st, i))
				continue;
			print_value(f, st, i);
		}
	}
	sqlite3_finalize(st);
	return found;
}

static const char *type_name(sqlite3 *db, uint64_t type, char *buf,
                             size_t len)
{
	sqlite3_stmt *st;

	snprintf(buf, len, "type %" PRIu64, type);
	if (sqlite3_prepare_v2(db, "SELECT name FROM event_types WHERE id = ?",
	                       -1, &st, NULL) != SQLITE_OK)
		return buf;
	sqlite3_bind_int64(st, 1, (int64_t)type);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

/* One line: "flush cpu 0 cycle 1425 instr invlpg va 0x400000 ...". */
static char *describe(const struct side *s, const int64_t *v,
                      const char *caller)
{
	char *buf = NULL, name[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s cpu %" PRId64 " cycle %" PRIu64,
	        type_name(s->db, u64_of(v[3]), name, sizeof(name)), v[2],
	        u64_of(v[1]));
	if (!print_view_payload(f, s->db, u64_of(v[3]), v[0])) {
		fprintf(f, " sub %" PRIu64, u64_of(v[4]));
		for (int i = 5; i < EV_INTS; i++)
			fprintf(f, " %s 0x%" PRIx64, ev_cols[i], u64_of(v[i]));
		if (caller && *caller)
			fprintf(f, " caller %s", caller);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool same_text(const unsigned char *x, const unsigned char *y)
{
	if (!x || !y)
		return x == y;
	return strcmp((const char *)x, (const char *)y) == 0;
}

/* Which columns differ between the current rows of st[A] and st[B]. */
static unsigned row_differs(sqlite3_stmt *const st[NSIDE])
{
	unsigned bits = 0;

	for (int i = 0; i < EV_INTS; i++)
		if (sqlite3_column_int64(st[A], i) !=
		    sqlite3_column_int64(st[B], i))
			bits |= 1u << i;
	if (!same_text(sqlite3_column_text(st[A], EV_INTS),
	               sqlite3_column_text(st[B], EV_INTS)))
		bits |= 1u << EV_INTS;
	return bits;
}

/* Keeps what the report needs of the divergent rows. */
static int record_divergence(struct diff *d, sqlite3_stmt *const st[NSIDE])
{
	struct divergence *dv = &d->dv;

	dv->found = true;
	for (int k = 0; k < NSIDE; k++) {
		if (!dv->have[k])
			continue;
		for (int i = 0; i < EV_INTS; i++)
			dv->v[k][i] = sqlite3_column_int64(st[k], i);
		dv->line[k] = describe(&d->s[k], dv->v[k],
		                       (const char *)sqlite3_column_text(
		                               st[k], EV_INTS));
		if (!dv->line[k])
			return fail(d, "%s: out of memory", d->s[k].path);
	}
	return 0;
}

static int lockstep(struct diff *d)
{
	sqlite3_stmt *st[NSIDE] = { NULL, NULL };
	int rc[NSIDE], ret = 0;

	if (prepare(d, &d->s[A], events_sql, &st[A]) ||
	    prepare(d, &d->s[B], events_sql, &st[B])) {
		ret = -1;
		goto out;
	}
	for (;;) {
		for (int k = 0; k < NSIDE; k++) {
			rc[k] = sqlite3_step(st[k]);
			if (rc[k] != SQLITE_ROW && rc[k] != SQLITE_DONE) {
				ret = db_fail(d, &d->s[k]);
				goto out;
			}
			d->dv.have[k] = rc[k] == SQLITE_ROW;
		}
		if (!d->dv.have[A] && !d->dv.have[B])
			break;
		if (d->dv.have[A] && d->dv.have[B]) {
			d->dv.differs = row_differs(st);
			if (!d->dv.differs) {
				d->dv.same++;
				continue;
			}
		}
		ret = record_divergence(d, st);
		break;
	}
out:
	sqlite3_finalize(st[A]);
	sqlite3_finalize(st[B]);
	return ret;
}

/* ---- Printing: small aligned tables ---- */

#define TT_COLS 5

/* Rows of cells; column 0 is the label, left-aligned like every column
 * marked in left; a row's flag ('*' when A and B differ) leads the line. */
struct ttable {
	char *(*cells)[TT_COLS];
	char *flag;
	size_t n, cap;
	bool left[TT_COLS];
	bool oom;
};

static void tt_add(struct ttable *t, char flag, const char *c0,
                   const char *c1, const char *c2, const char *c3,
                   const char *c4)
{
	const char *c[TT_COLS] = { c0, c1, c2, c3, c4 };

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		void *cells = realloc(t->cells, cap * sizeof(*t->cells));
		if (cells)
			t->cells = cells;
		char *fl = realloc(t->flag, cap);
		if (fl)
			t->flag = fl;
		if (!cells || !fl) {
			t->oom = true;
			return;
		}
		t->cap = cap;
	}
	for (int i = 0; i < TT_COLS; i++) {
		t->cells[t->n][i] = strdup(c[i] ? c[i] : "");
		t->oom |= !t->cells[t->n][i];
	}
	t->flag[t->n++] = flag;
}

static void tt_print(FILE *out, const struct ttable *t)
{
	size_t w[TT_COLS] = { 0 };

	for (size_t r = 0; r < t->n; r++)
		for (int i = 0; i < TT_COLS; i++) {
			size_t len = strlen(t->cells[r][i]);
			w[i] = len > w[i] ? len : w[i];
		}
	for (size_t r = 0; r < t->n; r++) {
		int last = TT_COLS - 1;

		/* No trailing blanks: stop at the last non-empty cell. */
		while (last > 0 && !*t->cells[r][last])
			last--;
		fprintf(out, "%c ", t->flag[r]);
		for (int i = 0; i <= last; i++) {
			const char *c = t->cells[r][i];
			int wi = (int)w[i];

			if (i)
				fputs("  ", out);
			if (!t->left[i])
				fprintf(out, "%*s", wi, c);
			else if (i == last)
				fputs(c, out);
			else
				fprintf(out, "%-*s", wi, c);
		}
		fputc('\n', out);
	}
}

static void tt_free(struct ttable *t)
{
	for (size_t r = 0; r < t->n; r++)
		for (int i = 0; i < TT_COLS; i++)
			free(t->cells[r][i]);
	free(t->cells);
	free(t->flag);
}

/* Delta and percentage of B against A; empty when they are equal. */
static void delta_text(uint64_t a, uint64_t b, bool pct, char *dbuf,
                       char *pbuf, size_t len)
{
	dbuf[0] = pbuf[0] = 0;
	if (a == b)
		return;
	if (b > a)
		snprintf(dbuf, len, "+%" PRIu64, b - a);
	else
		snprintf(dbuf, len, "-%" PRIu64, a - b);
	if (!pct)
		return;
	if (a == 0)
		snprintf(pbuf, len, "new");
	else
		snprintf(pbuf, len, "%+.1f%%",
		         100.0 * ((double)b - (double)a) / (double)a);
}

/* A counter row, left out when both sides are zero. */
static void tt_count(struct ttable *t, const char *label, uint64_t a,
                     uint64_t b, bool pct)
{
	char na[24], nb[24], dl[32], pc[32];

	if (a == 0 && b == 0)
		return;
	snprintf(na, sizeof(na), "%" PRIu64, a);
	snprintf(nb, sizeof(nb), "%" PRIu64, b);
	delta_text(a, b, pct, dl, pc, sizeof(dl));
	tt_add(t, a != b ? '*' : ' ', label, na, nb, dl, pc);
}

/* A table of counters: print it, or "TITLE: none in either". */
static int tt_emit(FILE *out, struct ttable *t, const char *title,
                   const char *empty)
{
	int ret = t->oom ? -1 : 0;

	if (!ret && t->n > 1)
		tt_print(out, t);
	else if (!ret)
		fprintf(out, "  %s: %s\n", title, empty);
	tt_free(t);
	return ret;
}

static struct ttable counters(const char *title, bool pct)
{
	struct ttable t = { .left = { true } };

	tt_add(&t, ' ', title, "A", "B", "delta", pct ? "%" : "");
	return t;
}

static int print_runs(FILE *out, const struct diff *d)
{
	struct ttable t = { .left = { true, true, true } };
	const struct side *a = &d->s[A], *b = &d->s[B];

	tt_add(&t, ' ', "run", "A", "B", "delta", "%");
	for (int i = 0; i < R__COUNT; i++) {
		const char *va = a->run[i], *vb = b->run[i];
		bool differ = !same_text((const unsigned char *)va,
		                         (const unsigned char *)vb);
		char dl[32] = "", pc[32] = "";

		if (run_fields[i].delta && va && vb)
			delta_text(a->runv[i], b->runv[i], true, dl, pc,
			           sizeof(dl));
		tt_add(&t, differ ? '*' : ' ', run_fields[i].label,
		       va ? va : "-", vb ? vb : "-", dl, pc);
	}
	if (t.oom) {
		tt_free(&t);
		return -1;
	}
	tt_print(out, &t);
	tt_free(&t);
	/* 'running' in a closed file: recorder_close() never ran. */
	for (int k = 0; k < NSIDE; k++)
		if (d->s[k].run[R_STATUS] &&
		    strcmp(d->s[k].run[R_STATUS], "running") == 0)
			fprintf(out, "warning: %s: status is 'running': the run "
			        "ended before its recording was closed; only "
			        "the events written until then are compared\n",
			        d->s[k].path);
	return 0;
}

/* A keyed group under a heading; nothing when the group is empty. */
static void tt_group(struct ttable *t, const char *heading, struct group *g,
                     int (*cmp)(const void *, const void *))
{
	char label[256];

	if (g->n == 0)
		return;
	qsort(g->rows, g->n, sizeof(*g->rows), cmp);
	tt_add(t, ' ', heading, NULL, NULL, NULL, NULL);
	for (size_t i = 0; i < g->n; i++) {
		snprintf(label, sizeof(label), "  %s", g->rows[i].label);
		tt_count(t, label, g->rows[i].v[A], g->rows[i].v[B], true);
	}
}

static int print_flushes(FILE *out, struct diff *d)
{
	const uint64_t *a = d->s[A].m, *b = d->s[B].m;
	struct ttable t = counters("flushes", true);

	tt_count(&t, "total", a[M_FLUSHES], b[M_FLUSHES], true);
	tt_group(&t, "by instruction", &d->kinds, by_ord);
	tt_group(&t, "by caller", &d->callers, by_count);
	tt_count(&t, "necessary", a[M_NECESSARY], b[M_NECESSARY], true);
	tt_count(&t, "redundant", a[M_FLUSHES] - a[M_NECESSARY],
	         b[M_FLUSHES] - b[M_NECESSARY], true);
	tt_count(&t, "removed from TLB", a[M_REMOVED_TLB], b[M_REMOVED_TLB],
	         true);
	tt_count(&t, "removed from envelope", a[M_REMOVED_ENV],
	         b[M_REMOVED_ENV], true);
	tt_count(&t, "stale records removed", a[M_STALE_REMOVED],
	         b[M_STALE_REMOVED], true);
	return tt_emit(out, &t, "flushes", "none in either");
}

static int print_tlb(FILE *out, const struct diff *d)
{
	static const struct { int m; const char *label; } rows[] = {
		{ M_ACCESSES, "accesses" }, { M_L1, "L1 hits" },
		{ M_L2, "L2 hits" }, { M_WALKS, "walks" },
		{ M_FILLS, "fills" }, { M_EVICTIONS, "evictions" },
		{ M_PF, "page faults" },
		{ M_OTHER_FAULTS, "other faults (#GP, #UD)" },
	};
	const struct side *a = &d->s[A], *b = &d->s[B];
	struct ttable t = counters("tlb", true);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tt_count(&t, rows[i].label, a->m[rows[i].m], b->m[rows[i].m],
		         true);
	tt_count(&t, "cycles", a->runv[R_CYCLES], b->runv[R_CYCLES], true);
	return tt_emit(out, &t, "tlb", "no activity in either");
}

static int print_props(FILE *out, const struct diff *d)
{
	struct ttable t = counters("properties (violating rows)", false);
	char name[64], empty[64];

	for (size_t i = 0; i < d->nprops; i++) {
		prop_name(&hvsim_checks[i], name, sizeof(name));
		tt_count(&t, name, d->s[A].props[i], d->s[B].props[i], false);
	}
	snprintf(empty, sizeof(empty), "all %zu hold in both", d->nprops);
	return tt_emit(out, &t, "properties", empty);
}

static void print_divergence(FILE *out, const struct diff *d)
{
	const struct divergence *dv = &d->dv;

	if (!dv->found) {
		fprintf(out, "  identical event streams (%" PRIu64 " events)\n",
		        dv->same);
		return;
	}
	fprintf(out, "  first divergent event: seq %" PRIu64 " (after %" PRIu64
	        " identical)\n", dv->same + 1, dv->same);
	for (int k = 0; k < NSIDE; k++) {
		if (dv->have[k])
			fprintf(out, "  %c: %s\n", "AB"[k], dv->line[k]);
		else
			fprintf(out, "  %c: (none: the recording ends after "
			        "%" PRIu64 " events)\n", "AB"[k], dv->same);
	}
	if (dv->have[A] && dv->have[B]) {
		fputs("  differing columns:", out);
		for (int i = 0; i <= EV_INTS; i++)
			if (dv->differs & (1u << i))
				fprintf(out, " %s", ev_cols[i]);
		fputc('\n', out);
	}
}

static int print_report(FILE *out, struct diff *d)
{
	fprintf(out, "A: %s\nB: %s\n\n", d->s[A].path, d->s[B].path);
	if (print_runs(out, d))
		return -1;
	fputc('\n', out);
	if (print_flushes(out, d))
		return -1;
	fputc('\n', out);
	if (print_tlb(out, d))
		return -1;
	fputc('\n', out);
	if (print_props(out, d))
		return -1;
	fputc('\n', out);
	print_divergence(out, d);
	return 0;
}

static void diff_free(struct diff *d)
{
	for (int k = 0; k < NSIDE; k++) {
		for (int i = 0; i < R__COUNT; i++)
			free(d->s[k].run[i]);
		free(d->s[k].props);
		free(d->dv.line[k]);
		sqlite3_close(d->s[k].db);
	}
	group_free(&d->kinds);
	group_free(&d->callers);
}

int diff_db(const char *a, const char *b, FILE *out, char *err,
            size_t errlen)
{
	struct diff d = {
		.s = { { .path = a }, { .path = b } },
		.err = err,
		.errlen = errlen,
	};
	int ret = 0;

	assert(a && b && out);
	while (hvsim_checks[d.nprops].name)
		d.nprops++;
	/* Both files are validated before either is read at length. */
	for (int k = 0; k < NSIDE && !ret; k++)
		ret = open_side(&d, &d.s[k]) || check_recording(&d, &d.s[k]);
	for (int k = 0; k < NSIDE && !ret; k++)
		ret = read_side(&d, k);
	if (!ret)
		ret = lockstep(&d);
	if (!ret && print_report(out, &d))
		ret = fail(&d, "out of memory");
	diff_free(&d);
	if (ret)
		return DIFF_BAD_INPUT;
	return d.dv.found ? DIFF_DIFFERENT : DIFF_SAME;
}
