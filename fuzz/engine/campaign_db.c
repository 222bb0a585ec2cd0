/* campaign.db (fuzz/engine/campaign_db.h). */
#include "fuzz/engine/campaign_db.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "fuzz/gen/names.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS campaigns ("
	" id INTEGER PRIMARY KEY, target TEXT NOT NULL, seed INTEGER NOT NULL,"
	" iters INTEGER, seconds_budget REAL, jobs INTEGER NOT NULL, inject TEXT NOT NULL,"
	" hvsim_version TEXT NOT NULL, cases INTEGER NOT NULL, invalid INTEGER NOT NULL,"
	" failures INTEGER NOT NULL, seconds REAL NOT NULL, cases_per_second REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS states ("
	" campaign INTEGER NOT NULL REFERENCES campaigns(id), name TEXT NOT NULL,"
	" description TEXT NOT NULL, reached INTEGER NOT NULL, first_case INTEGER);"
	"CREATE TABLE IF NOT EXISTS failures ("
	" campaign INTEGER NOT NULL REFERENCES campaigns(id), case_index INTEGER NOT NULL,"
	" property TEXT NOT NULL, explanation TEXT NOT NULL, ops INTEGER NOT NULL,"
	" shrunk_ops INTEGER NOT NULL, shrink_runs INTEGER NOT NULL,"
	" shrunk_explanation TEXT NOT NULL, original_yaml TEXT, original_trace TEXT,"
	" shrunk_yaml TEXT, shrunk_trace TEXT, config TEXT NOT NULL);"
	"CREATE VIEW IF NOT EXISTS never_reached AS"
	" SELECT campaign, name, description FROM states WHERE reached = 0;";

/* PRAGMA user_version of the schema above: a campaign.db another build
 * wrote with another schema is refused, not half-appended. */
#define CAMPAIGN_DB_VERSION 1

static int check_version(sqlite3 *db, char *err, size_t errlen, const char *path)
{
	sqlite3_stmt *st;
	int v = -1, tables = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		tables = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (tables == 0)
		return sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL) == SQLITE_OK ? 0
		                                                                                  : -1;
	if (v == CAMPAIGN_DB_VERSION)
		return 0;
	snprintf(err, errlen, "%.400s: not a campaign database of this hvsim (schema version %d, "
	         "expected %d): use another --out", path, v, CAMPAIGN_DB_VERSION);
	return 1;
}

static void inject_text(uint64_t inject, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < FZ_INJ_BITS && o < cap; i++)
		if ((inject & (1ull << i)) && fz_inject_name(i)) {
			int w = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", fz_inject_name(i));
			if (w > 0)
				o += (size_t)w;
		}
}

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int insert_campaign(sqlite3 *db, const struct fz_campaign_opts *o,
                           const struct fz_campaign_result *r, sqlite3_int64 *id)
{
	sqlite3_stmt *st;
	char inj[256];
	inject_text(o->inject, inj, sizeof(inj));
	if (sqlite3_prepare_v2(db, "INSERT INTO campaigns (target, seed, iters, seconds_budget,"
	                           " jobs, inject, hvsim_version, cases, invalid, failures,"
	                           " seconds, cases_per_second) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
	                       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, o->t->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)o->seed);
	if (o->iters)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)o->iters);
	if (o->seconds > 0)
		sqlite3_bind_double(st, 4, o->seconds);
	sqlite3_bind_int(st, 5, (int)o->jobs);
	sqlite3_bind_text(st, 6, inj, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, HVSIM_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)r->cases);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)r->invalid);
	sqlite3_bind_int(st, 10, r->fail_index != FZ_NONE);
	sqlite3_bind_double(st, 11, r->seconds);
	sqlite3_bind_double(st, 12, r->seconds > 0 ? (double)r->cases / r->seconds : 0.0);
	int rc = step(st);
	sqlite3_finalize(st);
	*id = sqlite3_last_insert_rowid(db);
	return rc;
}

static int insert_states(sqlite3 *db, const struct fz_campaign_opts *o,
                         const struct fz_campaign_result *r, sqlite3_int64 id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO states VALUES (?,?,?,?,?)", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	int rc = 0;
	for (unsigned i = 0; i < o->t->nstates && !rc; i++) {
		bool hit = (r->reached >> i) & 1;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, o->t->states[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, o->t->states[i].what, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, hit);
		if (hit && r->first_reached[i] != FZ_NONE)
			sqlite3_bind_int64(st, 5, (sqlite3_int64)r->first_reached[i]);
		else
			sqlite3_bind_null(st, 5);
		rc = step(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_failure(sqlite3 *db, const struct fz_campaign_result *r, sqlite3_int64 id)
{
	if (r->fail_index == FZ_NONE)
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO failures VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->fail_index);
	sqlite3_bind_text(st, 3, r->sig, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->first, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, (int)r->shrink.ops_before);
	sqlite3_bind_int(st, 6, (int)r->shrink.ops_after);
	sqlite3_bind_int(st, 7, (int)r->shrink.runs);
	sqlite3_bind_text(st, 8, r->shrunk_first, -1, SQLITE_STATIC);
	for (unsigned i = 0; i < 4; i++)
		if (i < r->nfiles)
			sqlite3_bind_text(st, 9 + (int)i, r->files[i], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 9 + (int)i);
	sqlite3_bind_text(st, 13, r->config, -1, SQLITE_STATIC);
	int rc = step(st);
	sqlite3_finalize(st);
	return rc;
}

int fz_campaign_db_write(const struct fz_campaign_opts *o, struct fz_campaign_result *r)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/campaign.db", o->out_dir);
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(r->err, sizeof(r->err), "%.400s: cannot open: %.150s", path,
		         db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	int vrc = check_version(db, r->err, sizeof(r->err), path);
	if (vrc) {
		if (vrc < 0)
			snprintf(r->err, sizeof(r->err), "%.400s: %.150s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_int64 id = 0;
	int rc = sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	         sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	         insert_campaign(db, o, r, &id) || insert_states(db, o, r, id) ||
	         insert_failure(db, r, id) ||
	         sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
	if (rc)
		snprintf(r->err, sizeof(r->err), "%.400s: %.150s", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc ? -1 : 0;
}
