/* `hvsim diff` back end (record/diff.h). What each section means is in
 * docs/diff.md; the recording schema is record/schema.sql.
 *
 * Everything is computed before anything is printed, so bad input (exit 2)
 * never leaves half a report on stdout. Three threads share the work, as
 * each part is a full scan of millions of rows: one per recording runs
 * the aggregate SQL and the property queries on its own connection, and
 * the caller's thread compares the event streams over a second pair of
 * connections, stepping one statement per file in lockstep so memory
 * does not grow with the recordings.
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
	[R_SCENARIO] = { .label = "scenario" },
	[R_SEED] = { .label = "seed", .u64 = true },
	[R_PROFILE] = { .label = "profile" },
	[R_CONFIG] = { .label = "config" },
	[R_VERSION] = { .label = "hvsim version" },
	[R_STATUS] = { .label = "status" },
	[R_EVENTS] = { .label = "events", .u64 = true, .delta = true },
	[R_CYCLES] = { .label = "cycles", .u64 = true, .delta = true },
	[R_DIGEST] = { .label = "digest" },
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

/* The lockstep scan. The caller (last column) is compared by its string,
 * looked up in the preloaded strings table: two builds may intern the
 * same names in another order, and a join would cost a third of the
 * scan. */
#define EV_COLS 12
#define EV_CALLER 11
static const char *const ev_cols[EV_COLS] = {
	"seq", "cycle", "cpu", "type", "sub", "a", "b", "c", "d", "e", "f",
	"caller",
};
static const char events_sql[] =
	"SELECT seq, cycle, cpu, type, sub, a, b, c, d, e, f, caller"
	" FROM events ORDER BY seq";

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
	[EV_NOTE] = "notes", [EV_DMA] = "dma", [EV_IOTLB_FILL] = "iotlb_fills",
	[EV_IOMMU_INV] = "iommu_invs", [EV_IO_OP] = "io_ops", [EV_IO_OWN] = "io_owners",
	[EV_TIME_READ] = "time_reads", [EV_TIME_UPDATE] = "time_updates",
	[EV_TIME_MSG] = "time_msgs", [EV_TSC] = "tsc_events",
	[EV_RING] = "ring_ops", [EV_RING_STALL] = "ring_stalls",
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
};

/* ---- Everything known about one recording ---- */

/* The strings table, sorted by id. */
struct str {
	int64_t id;
	char *s;
};

struct strtab {
	struct str *v;
	size_t n;
};

/* A read-only connection to one recording, used by one thread; err gets
 * "PATH: message" when something fails. */
struct conn {
	const char *path;
	sqlite3 *db;
	char err[512];
};

/* What the aggregate pass found in one recording (its own thread). */
struct side {
	struct conn c;
	size_t nprops;
	char *run[R__COUNT]; /* NULL for SQL NULL */
	uint64_t runv[R__COUNT];
	uint64_t m[M__COUNT];
	struct group kinds, callers; /* flushes, v[] of this side only */
	uint64_t *props; /* violating rows per hvsim_checks[] entry */
	int ret;
};

/* The lockstep pass over one recording (the caller's thread). */
struct scan {
	struct conn c;
	struct strtab strings;
	sqlite3_stmt *st;
};

/* The first event at which the streams differ. */
struct divergence {
	bool found;
	uint64_t same;        /* identical events before it */
	bool have[NSIDE];     /* the side has an event there (else it ended) */
	int64_t v[NSIDE][EV_COLS];
	unsigned differs;     /* bit i: ev_cols[i] differs */
	char *line[NSIDE];    /* the event in one line */
};

struct diff {
	struct side s[NSIDE];
	struct scan sc[NSIDE];
	struct group kinds, callers; /* both sides merged */
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

/* Sets "PATH: message"; fmt starts after "PATH: ". Returns -1. */
static int fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, sizeof(c->err), "%s: ", c->path);

	if (n < 0 || (size_t)n >= sizeof(c->err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "PATH: sqlite message", with a hint for the recorder's lock. */
static int db_fail(struct conn *c)
{
	/* The recorder holds an exclusive lock until it closes. */
	bool busy = (sqlite3_errcode(c->db) & 0xff) == SQLITE_BUSY;

	return fail(c, "%s%s", sqlite3_errmsg(c->db),
	            busy ? " (is a run still recording it?)" : "");
}

static int prepare(struct conn *c, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_fail(c);
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

/* ---- Interned strings ---- */

static int by_id(const void *key, const void *elem)
{
	int64_t id = *(const int64_t *)key;
	const struct str *e = elem;

	return id < e->id ? -1 : id > e->id;
}

/* The string of id, NULL if the table has none. Ids are dense from 0 in
 * a recording (bus_intern), so the index is tried before a search. */
static const char *str_lookup(const struct strtab *t, int64_t id)
{
	const struct str *e;

	if (id >= 0 && (uint64_t)id < t->n && t->v[id].id == id)
		return t->v[id].s;
	e = bsearch(&id, t->v, t->n, sizeof(*t->v), by_id);
	return e ? e->s : NULL;
}

static void str_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].s);
	free(t->v);
}

/* ---- Opening and the aggregate pass (one thread per recording) ---- */

/* Each connection is used by one thread at a time: no SQLite mutex on
 * every column read (a tenth of the lockstep's time). */
static int open_conn(struct conn *c)
{
	struct stat sb;

	if (stat(c->path, &sb) != 0)
		return fail(c, "%s", strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return fail(c, "is a directory");
	if (sqlite3_open_v2(c->path, &c->db,
	                    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		if (!c->db)
			return fail(c, "out of memory");
		return db_fail(c);
	}
	return 0;
}

/* Refuses files that are not recordings, with the reason. */
static int check_recording(struct conn *c)
{
	sqlite3_stmt *st;
	int ret = 0;

	/* A foreign file fails here: "file is not a database". */
	if (prepare(c, "SELECT count(*) FROM sqlite_master WHERE"
	            " type = 'table' AND name IN ('runs', 'events')", &st))
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		ret = db_fail(c);
	else if (sqlite3_column_int(st, 0) != 2)
		ret = fail(c, "not an hvsim recording (no runs or events "
		           "table)");
	sqlite3_finalize(st);
	return ret;
}

static int read_run(struct side *s)
{
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (prepare(&s->c, RUN_SQL, &st))
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		ret = fail(&s->c, "not an hvsim recording (empty runs table)");
	else if (rc != SQLITE_ROW)
		ret = db_fail(&s->c);
	for (int i = 0; !ret && i < R__COUNT; i++) {
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
		if (!s->run[i])
			ret = fail(&s->c, "out of memory");
	}
	sqlite3_finalize(st);
	return ret;
}

static int read_metrics(struct side *s)
{
	sqlite3_stmt *st;
	int ret = 0;

	if (prepare(&s->c, metrics_sql, &st))
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW)
		ret = db_fail(&s->c);
	for (int i = 0; !ret && i < M__COUNT; i++)
		s->m[i] = u64_of(sqlite3_column_int64(st, i));
	sqlite3_finalize(st);
	return ret;
}

static int read_flush_groups(struct side *s)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(&s->c, flush_groups_sql, &st))
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		const char *caller = (const char *)sqlite3_column_text(st, 2);
		uint64_t n = u64_of(sqlite3_column_int64(st, 3));

		if (!kind || !caller ||
		    group_add(&s->kinds, kind, sqlite3_column_int64(st, 0), A,
		              n) ||
		    group_add(&s->callers, caller, 0, A, n)) {
			sqlite3_finalize(st);
			return fail(&s->c, "out of memory");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(&s->c);
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
static int read_props(struct side *s)
{
	s->props = calloc(s->nprops ? s->nprops : 1, sizeof(*s->props));
	if (!s->props)
		return fail(&s->c, "out of memory");
	for (size_t i = 0; i < s->nprops; i++) {
		const struct hvsim_embedded *e = &hvsim_checks[i];
		sqlite3_stmt *st = NULL;
		int rc = SQLITE_ERROR;

		if (sqlite3_prepare_v2(s->c.db, e->text, -1, &st, NULL) ==
		    SQLITE_OK && st)
			while ((rc = sqlite3_step(st)) == SQLITE_ROW)
				s->props[i]++;
		if (rc != SQLITE_DONE)
			fail(&s->c, "checks/%s.sql (embedded): %s", e->name,
			     sqlite3_errmsg(s->c.db));
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

static void *read_side(void *arg)
{
	struct side *s = arg;

	s->ret = read_run(s) || read_metrics(s) || read_flush_groups(s) ||
	         read_props(s) ? -1 : 0;
	return NULL;
}

/* Adds one side's flush groups into the merged ones. */
static int merge_groups(struct diff *d, int k)
{
	const struct side *s = &d->s[k];

	for (size_t i = 0; i < s->kinds.n; i++)
		if (group_add(&d->kinds, s->kinds.rows[i].label,
		              s->kinds.rows[i].ord, k, s->kinds.rows[i].v[A]))
			return -1;
	for (size_t i = 0; i < s->callers.n; i++)
		if (group_add(&d->callers, s->callers.rows[i].label, 0, k,
		              s->callers.rows[i].v[A]))
			return -1;
	return 0;
}

/* ---- The lockstep pass (the caller's thread) ---- */

static int read_strings(struct scan *sc)
{
	struct strtab *t = &sc->strings;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = SQLITE_DONE, ret = 0;

	if (prepare(&sc->c, "SELECT id, s FROM strings ORDER BY id", &st))
		return -1;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 1);

		if (t->n == cap) {
			cap = cap ? 2 * cap : 64;
			struct str *p = realloc(t->v, cap * sizeof(*p));
			if (!p) {
				ret = fail(&sc->c, "out of memory");
				break;
			}
			t->v = p;
		}
		t->v[t->n].id = sqlite3_column_int64(st, 0);
		t->v[t->n].s = strdup(v ? v : "");
		if (!t->v[t->n++].s)
			ret = fail(&sc->c, "out of memory");
	}
	if (!ret && rc != SQLITE_DONE)
		ret = db_fail(&sc->c);
	sqlite3_finalize(st);
	return ret;
}

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
static char *describe(const struct scan *sc, const int64_t *v)
{
	const char *caller = str_lookup(&sc->strings, v[EV_CALLER]);
	char *buf = NULL, name[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "%s cpu %" PRId64 " cycle %" PRIu64,
	        type_name(sc->c.db, u64_of(v[3]), name, sizeof(name)), v[2],
	        u64_of(v[1]));
	if (!print_view_payload(f, sc->c.db, u64_of(v[3]), v[0])) {
		fprintf(f, " sub %" PRIu64, u64_of(v[4]));
		for (int i = 5; i < EV_CALLER; i++)
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

static bool same_text(const char *x, const char *y)
{
	if (!x || !y)
		return x == y;
	return x == y || strcmp(x, y) == 0;
}

/* Which columns differ between the two rows (bit i: ev_cols[i]). */
static unsigned row_differs(const struct diff *d, int64_t v[NSIDE][EV_COLS])
{
	unsigned bits = 0;

	for (int i = 0; i < EV_CALLER; i++)
		if (v[A][i] != v[B][i])
			bits |= 1u << i;
	if (!same_text(str_lookup(&d->sc[A].strings, v[A][EV_CALLER]),
	               str_lookup(&d->sc[B].strings, v[B][EV_CALLER])))
		bits |= 1u << EV_CALLER;
	return bits;
}

/* The next row into v; 1 if there is one, 0 at the end, -1 on error. */
static int next_event(struct scan *sc, int64_t *v)
{
	int rc = sqlite3_step(sc->st);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_fail(&sc->c);
	for (int i = 0; i < EV_COLS; i++)
		v[i] = sqlite3_column_int64(sc->st, i);
	return 1;
}

/* Keeps what the report needs of the divergent rows. */
static int record_divergence(struct diff *d)
{
	struct divergence *dv = &d->dv;

	dv->found = true;
	for (int k = 0; k < NSIDE; k++) {
		if (!dv->have[k])
			continue;
		dv->line[k] = describe(&d->sc[k], dv->v[k]);
		if (!dv->line[k])
			return fail(&d->sc[k].c, "out of memory");
	}
	return 0;
}

/* Steps both event streams together up to the first row that differs
 * or the end of both. */
static int lockstep(struct diff *d)
{
	struct divergence *dv = &d->dv;

	for (int k = 0; k < NSIDE; k++)
		if (read_strings(&d->sc[k]) ||
		    prepare(&d->sc[k].c, events_sql, &d->sc[k].st))
			return -1;
	for (;;) {
		for (int k = 0; k < NSIDE; k++) {
			int rc = next_event(&d->sc[k], dv->v[k]);

			if (rc < 0)
				return -1;
			dv->have[k] = rc > 0;
		}
		if (!dv->have[A] && !dv->have[B])
			return 0;
		if (dv->have[A] && dv->have[B]) {
			dv->differs = row_differs(d, dv->v);
			if (!dv->differs) {
				dv->same++;
				continue;
			}
		}
		return record_divergence(d);
	}
}

/* ---- Printing: small aligned tables ---- */

#define TT_COLS 5
/* Longer cells (a config with many overrides) do not widen their column:
 * they push the rest of their own row right instead of every row. */
#define TT_MAX_WIDTH 40

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
			if (len > w[i] && len <= TT_MAX_WIDTH)
				w[i] = len;
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
		bool differ = !same_text(va, vb);
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
	for (int k = 0; k < NSIDE; k++) {
		const char *status = d->s[k].run[R_STATUS];

		if (status && strcmp(status, "running") == 0)
			fprintf(out, "warning: %s: status is 'running': the "
			        "run ended before its recording was closed; "
			        "only the events written until then are "
			        "compared\n", d->s[k].c.path);
	}
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
	struct ttable t = counters("TLB", true);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tt_count(&t, rows[i].label, a->m[rows[i].m], b->m[rows[i].m],
		         true);
	/* NULL in a run that ended early: no figure to compare. */
	if (a->run[R_CYCLES] && b->run[R_CYCLES])
		tt_count(&t, "cycles", a->runv[R_CYCLES], b->runv[R_CYCLES],
		         true);
	return tt_emit(out, &t, "TLB", "no activity in either");
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
	        " identical)\n", u64_of(dv->v[dv->have[A] ? A : B][0]),
	        dv->same);
	for (int k = 0; k < NSIDE; k++) {
		if (dv->have[k])
			fprintf(out, "  %c: %s\n", "AB"[k], dv->line[k]);
		else
			fprintf(out, "  %c: (none: the recording ends after "
			        "%" PRIu64 " events)\n", "AB"[k], dv->same);
	}
	if (dv->have[A] && dv->have[B]) {
		fputs("  differing columns:", out);
		for (int i = 0; i < EV_COLS; i++)
			if (dv->differs & (1u << i))
				fprintf(out, " %s", ev_cols[i]);
		fputc('\n', out);
	}
}

static int print_report(FILE *out, struct diff *d)
{
	fprintf(out, "A: %s\nB: %s\n\n", d->s[A].c.path, d->s[B].c.path);
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

static void conn_close(struct conn *c)
{
	sqlite3_close(c->db);
}

static void diff_free(struct diff *d)
{
	for (int k = 0; k < NSIDE; k++) {
		struct side *s = &d->s[k];

		for (int i = 0; i < R__COUNT; i++)
			free(s->run[i]);
		group_free(&s->kinds);
		group_free(&s->callers);
		free(s->props);
		conn_close(&s->c);
		sqlite3_finalize(d->sc[k].st);
		str_free(&d->sc[k].strings);
		conn_close(&d->sc[k].c);
		free(d->dv.line[k]);
	}
	group_free(&d->kinds);
	group_free(&d->callers);
}

/* Runs the aggregate pass of A and B in two threads while this one does
 * the lockstep; sequentially if SQLite was built without thread support
 * or no thread can be started. Returns -1 with some conn's err set. */
static int compute(struct diff *d)
{
	pthread_t tid[NSIDE];
	bool threaded[NSIDE] = { false, false };
	int ret;

	/* Both files are validated before either is read at length. */
	for (int k = 0; k < NSIDE; k++)
		if (open_conn(&d->s[k].c) || check_recording(&d->s[k].c))
			return -1;
	for (int k = 0; k < NSIDE; k++)
		if (open_conn(&d->sc[k].c))
			return -1;
	for (int k = 0; k < NSIDE; k++)
		threaded[k] = sqlite3_threadsafe() &&
		              pthread_create(&tid[k], NULL, read_side,
		                             &d->s[k]) == 0;
	ret = lockstep(d);
	for (int k = 0; k < NSIDE; k++) {
		if (threaded[k])
			pthread_join(tid[k], NULL);
		else
			read_side(&d->s[k]);
		if (d->s[k].ret)
			ret = -1;
	}
	for (int k = 0; k < NSIDE && !ret; k++)
		if (merge_groups(d, k))
			ret = fail(&d->s[k].c, "out of memory");
	return ret;
}

/* The first message in a fixed order, whichever thread failed first. */
static const char *first_error(const struct diff *d)
{
	const struct conn *c[] = { &d->s[A].c, &d->s[B].c, &d->sc[A].c,
	                           &d->sc[B].c };

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (c[i]->err[0])
			return c[i]->err;
	return "hvsim diff: unknown error";
}

int diff_db(const char *a, const char *b, FILE *out, char *err,
            size_t errlen)
{
	struct diff d = {
		.s = { { .c.path = a }, { .c.path = b } },
		.sc = { { .c.path = a }, { .c.path = b } },
	};
	int ret;

	assert(a && b && out);
	while (hvsim_checks[d.nprops].name)
		d.nprops++;
	for (int k = 0; k < NSIDE; k++)
		d.s[k].nprops = d.nprops;
	ret = compute(&d);
	if (ret) {
		snprintf(err, errlen, "%s", first_error(&d));
	} else if (print_report(out, &d)) {
		snprintf(err, errlen, "hvsim diff: out of memory");
		ret = -1;
	}
	diff_free(&d);
	if (ret)
		return DIFF_BAD_INPUT;
	return d.dv.found ? DIFF_DIFFERENT : DIFF_SAME;
}
