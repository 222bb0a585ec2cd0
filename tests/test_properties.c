/* The four shipped properties, each implemented twice: as SQL over the
 * recording (checks/ *.sql, through check_db and directly) and as the
 * in-process checker. For each property the exact event pattern of a
 * violation is injected next to near misses; both implementations must
 * report exactly the violating seqs, with the same explanations. */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record/check.h"
#include "record/checker.h"
#include "record/recorder.h"
#include "sim/bus.h"
#include "sim/embedded.h"
#include "sim/prng.h"
#include "tests/testutil.h"

#define MAX_ROWS 4096

struct fx {
	struct bus bus;
	struct recorder *rec;
	struct checker *chk;
	char path[512];
	uint64_t cycle;
};

struct rows {
	size_t n;
	uint64_t seq[MAX_ROWS];
	char text[MAX_ROWS][256];
};

static void fx_start(struct fx *x, const char *name, bool stop_first)
{
	static const struct run_info info = {
		.scenario = "properties", .profile = "skylake",
		.version = HVSIM_VERSION, .ncpus = 2,
	};
	char err[512];

	memset(x, 0, sizeof(*x));
	snprintf(x->path, sizeof(x->path), "%s/%s.db", testutil_tmpdir(), name);
	bus_init(&x->bus);
	ck_assert_msg(recorder_open(x->path, &info, &x->rec, err,
	                            sizeof(err)) == 0, "%s", err);
	x->chk = checker_new(stop_first);
	ck_assert_ptr_nonnull(x->chk);
	struct sink rs = recorder_sink(x->rec), cs = checker_sink(x->chk);
	ck_assert_int_eq(bus_attach(&x->bus, &rs), 0);
	ck_assert_int_eq(bus_attach(&x->bus, &cs), 0);
}

static uint64_t ev(struct fx *x, uint16_t type, uint16_t sub, int32_t cpu,
                   uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                   uint64_t f)
{
	struct event e_ = {
		.cycle = (x->cycle += 17), .cpu = cpu, .type = type, .sub = sub,
		.a = a, .b = b, .c = c, .d = d, .e = e, .f = f,
	};
	return bus_emit(&x->bus, &e_);
}

static void fx_close(struct fx *x)
{
	char err[512];

	ck_assert_msg(recorder_close(x->rec, "complete", 0, x->bus.seq,
	                             x->bus.digest, x->cycle, err,
	                             sizeof(err)) == 0, "%s", err);
	x->rec = NULL;
}

static void fx_free(struct fx *x)
{
	checker_free(x->chk);
	bus_fini(&x->bus);
}

static const char *embedded_sql(const char *name)
{
	for (const struct hvsim_embedded *e = hvsim_checks; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return e->text;
	ck_abort_msg("no embedded check %s", name);
	return NULL;
}

/* The rows of the shipped query, run directly on the file. */
static void sql_rows(const char *db_path, const char *check, struct rows *r)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	r->n = 0;
	ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY,
	                                 NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, embedded_sql(check), -1, &st,
	                                 NULL) == SQLITE_OK,
	              "%s: %s", check, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		ck_assert_uint_lt(r->n, MAX_ROWS);
		r->seq[r->n] = (uint64_t)sqlite3_column_int64(st, 0);
		/* Same truncation as struct violation. */
		snprintf(r->text[r->n], sizeof(r->text[0]), "%s",
		         (const char *)sqlite3_column_text(st, 3));
		r->n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void checker_rows(const struct checker *c, const char *prop,
                         struct rows *r)
{
	r->n = 0;
	for (size_t i = 0; i < checker_count(c); i++) {
		const struct violation *v = checker_get(c, i);
		if (strcmp(v->property, prop) != 0)
			continue;
		ck_assert_uint_lt(r->n, MAX_ROWS);
		r->seq[r->n] = v->seq;
		snprintf(r->text[r->n], sizeof(r->text[0]), "%s", v->explanation);
		r->n++;
	}
}

/* Captures check_db's output. */
static int run_check(const char *db, const char *sql, char **out, char *err,
                     size_t errlen)
{
	size_t len;
	FILE *f = open_memstream(out, &len);

	ck_assert_ptr_nonnull(f);
	int rc = check_db(db, sql, f, err, errlen);
	fclose(f);
	return rc;
}

struct want {
	size_t n;
	uint64_t seq[64];
};

static void want(struct want *w, uint64_t seq)
{
	ck_assert_uint_lt(w->n, 64);
	w->seq[w->n++] = seq;
}

/* --- event patterns: violations (if bugs) among near misses ---------- */

static void emit_stale_access(struct fx *x, bool bugs, struct want *w)
{
	const uint64_t va = 0xffff800000401000ull;

	/* Near misses: no stale bits, other ACCF bits, stale bit on a walk. */
	ev(x, EV_ACCESS, ACC_READ, 0, va, 0x401000, 1, PATH_L1, 0, 1);
	ev(x, EV_ACCESS, ACC_WRITE, 1, va, 0x401000, 1, PATH_WALK,
	   ACCF_DIRTY_ASSIST | ACCF_SPURIOUS_PF, 30);
	ev(x, EV_WALK, 0, 0, va, 0x401000, 1, 4, ACCF_STALE, 30);
	if (!bugs)
		return;
	want(w, ev(x, EV_ACCESS, ACC_READ, 0, va, 0x401000, 1, PATH_L1,
	           ACCF_STALE, 1));
	ev(x, EV_ACCESS, ACC_READ, 1, 0x1000, 0x2000, 0, PATH_L2, 0, 7);
	want(w, ev(x, EV_ACCESS, ACC_EXEC, 1, 0x2000, 0x3000, 2, PATH_L2,
	           ACCF_MAY_STALE, 7));
	want(w, ev(x, EV_ACCESS, ACC_WRITE | ACC_USER, 0, 0x3000, 0x3000, 4095,
	           PATH_L1, ACCF_STALE | ACCF_MAY_STALE | ACCF_DIRTY_ASSIST, 1));
}

static void emit_quiescent_stale(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses: a quiescent point, records added and dropped stale. */
	ev(x, EV_ENV_ADD, ENVK_VIEW, 0, 1, 3, 0x400000, 12, 1u << 8, 0x1003);
	ev(x, EV_ENV_DROP, INSTR_INVLPG, 0, 1, 2, 1, 0, 0, 0);
	ev(x, EV_QUIESCE, 0, -1, 1, 0, 0, 0, 0, 0);
	if (!bugs)
		return;
	want(w, ev(x, EV_ENV_STALE, ENVK_PSC, 0, 7, ENV_GLOBAL,
	           0xffff888000000000ull, 30, STALE_NOT_TABLE, 0x5000));
	want(w, ev(x, EV_ENV_STALE, ENVK_VIEW, 1, 8, 3, 0x400000, 12,
	           STALE_DIFFERS, 0x1003));
	want(w, ev(x, EV_ENV_STALE, ENVK_ALIAS, 1, 9, 0, 0, 39, STALE_ALIAS, 0));
	ev(x, EV_QUIESCE, 0, -1, 2, 3, 0, 0, 0, 0);
}

/* EV_CHECK events of the given kinds: each one is a violation of its
 * property. */
static void emit_checks(struct fx *x, bool bugs, struct want *w, unsigned k1, unsigned k2)
{
	/* Near misses: check kinds no property reads, a note. */
	ev(x, EV_CHECK, 0, 0, 0x1000, 0x2000, 0x3000, 4, 0, 1);
	ev(x, EV_CHECK, 99, 0, 0x1000, 0x2000, 0x3000, 4, 0, 1);
	ev(x, EV_NOTE, (uint16_t)k1, 0, 0x1000, 0, 0, 0, 0, 0); /* not a check */
	if (!bugs)
		return;
	want(w, ev(x, EV_CHECK, (uint16_t)k1, 0, 0xffff830000001000ull, 0x5000, ~0ull, 7, 1, 3));
	if (k2)
		want(w, ev(x, EV_CHECK, (uint16_t)k2, 1, 0xffff830000002000ull, ~0ull, 0x6000, 8, 0,
		           2));
}

static void emit_cache_flush(struct fx *x, bool bugs, struct want *w)
{
	emit_checks(x, bugs, w, CHECK_CACHE, 0);
}

static void emit_hv_mapping(struct fx *x, bool bugs, struct want *w)
{
	emit_checks(x, bugs, w, CHECK_MAPPING, CHECK_TLB);
}

static void emit_pt_accounting(struct fx *x, bool bugs, struct want *w)
{
	emit_checks(x, bugs, w, CHECK_PT_LEAK, CHECK_PT_DOUBLE_FREE);
}

static void emit_xpti(struct fx *x, bool bugs, struct want *w)
{
	emit_checks(x, bugs, w, CHECK_XPTI, 0);
}

static void emit_pge_pcide(struct fx *x, bool bugs, struct want *w)
{
	const uint64_t pge = 1u << 7, pcide = 1u << 17, pae = 1u << 5;

	/* Near misses: the write faulted, CR3 with those bits, one bit only. */
	ev(x, EV_CR_WRITE, 4, 0, pae, pae | pge | pcide, 1, 0, 0, 0);
	ev(x, EV_CR_WRITE, 3, 0, 0x1000, 0x1000 | pge | pcide, 0, 0, 0, 0);
	ev(x, EV_CR_WRITE, 4, 1, pae, pae | pge, 0, 0, 0, 0);
	ev(x, EV_CR_WRITE, 4, 1, pae | pge, pae | pcide, 0, 0, 0, 0);
	ev(x, EV_CR_WRITE, 0, 1, 0, pge | pcide, 0, 0, 0, 0);
	if (!bugs)
		return;
	want(w, ev(x, EV_CR_WRITE, 4, 0, pae | pcide, pae | pge | pcide, 0, 0,
	           0, 0));
	want(w, ev(x, EV_CR_WRITE, 4, 1, pge | pcide, ~0ull, 0, 0, 0, 0));
}

static void emit_psc_freed(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses. An alloc with links. */
	ev(x, EV_TABLE, TBL_ALLOC, -1, 0x9000, 2, 1, 0, 0, 0);
	/* A PSC record dropped before its frame is freed. */
	ev(x, EV_ENV_ADD, ENVK_PSC, 0, 4, 1, 0, 39, 4u << 8, 0x7000);
	ev(x, EV_ENV_DROP, INSTR_INVLPG, 0, 4, 0, 0, 0, 0, 0);
	ev(x, EV_TABLE, TBL_FREE, -1, 0x7000, 3, 0, 0, 0, 0);
	/* A view record (not PSC) with f = the frame; a stale d that the
	 * properties must not trust. */
	ev(x, EV_ENV_ADD, ENVK_VIEW, 0, 3, 1, 0x6000, 12, 1u << 8, 0x6000);
	ev(x, EV_TABLE, TBL_FREE, -1, 0x6000, 1, 0, 5, 0, 0);
	/* A record added after the free. */
	ev(x, EV_TABLE, TBL_FREE, -1, 0xa000, 1, 0, 0, 0, 0);
	ev(x, EV_ENV_ADD, ENVK_PSC, 1, 5, 1, 0, 21, 2u << 8, 0xa000);
	/* Record id reused: dropped while it pointed at 0xb000. */
	ev(x, EV_ENV_ADD, ENVK_PSC, 1, 6, 2, 0, 21, 2u << 8, 0xb000);
	ev(x, EV_ENV_DROP, INSTR_MOV_CR3, 1, 6, 0, 0, 0, 0, 0);
	ev(x, EV_ENV_ADD, ENVK_PSC, 1, 6, 2, 0, 21, 2u << 8, 0xc000);
	ev(x, EV_TABLE, TBL_FREE, -1, 0xb000, 1, 0, 0, 0, 0);
	if (!bugs)
		return;
	/* Two live PSC records (one global, with an id above INT64_MAX). */
	ev(x, EV_ENV_ADD, ENVK_PSC, 0, 1, 1, 0, 30, 3u << 8, 0x5000);
	ev(x, EV_ENV_ADD, ENVK_PSC, 1, ~0ull, ENV_GLOBAL, 0, 30, 3u << 8,
	   0x5000);
	want(w, ev(x, EV_TABLE, TBL_FREE, -1, 0x5000, 2, 0, 0, 0, 0));
	/* Still linked from a page table. */
	want(w, ev(x, EV_TABLE, TBL_FREE, -1, 0x8000, 1, 2, 0, 0, 0));
	/* One of the two dropped, the other still live, and a link. */
	ev(x, EV_ENV_DROP, INSTR_INVPCID1, 0, 1, 0, 0, 0, 0, 0);
	want(w, ev(x, EV_TABLE, TBL_FREE, 0, 0x5000, 2, 1, 0, 0, 0));
	/* The reused id is live for its second frame. */
	want(w, ev(x, EV_TABLE, TBL_FREE, -1, 0xc000, 1, 0, 0, 0, 0));
}

static void emit_io_stale(struct fx *x, bool bugs, struct want *w)
{
	emit_checks(x, bugs, w, CHECK_IO_STALE, 0);
}

static void emit_io_map(struct fx *x, bool bugs, struct want *w)
{
	emit_checks(x, bugs, w, CHECK_IO_MAP, 0);
}

static void emit_io_owner(struct fx *x, bool bugs, struct want *w)
{
	emit_checks(x, bugs, w, CHECK_IO_OWNER, 0);
	if (bugs) /* a freed frame (owner 0) and another domain's */
		want(w, ev(x, EV_CHECK, CHECK_IO_OWNER, -1, 0x1000, 0, 0x5000, 3, 1, 0));
}

static void emit_io_env(struct fx *x, bool bugs, struct want *w)
{
	emit_checks(x, bugs, w, CHECK_IO_ENV, 0);
}

static void emit_io_one_flush(struct fx *x, bool bugs, struct want *w)
{
	const uint64_t el = IOOP_E_ELIDE, sh = IOOP_E_INV_SHIFT;
	/* Near misses: one invalidation with elision; several without;
	 * several on the error path (f != 0); several in a non-map op. */
	ev(x, EV_IO_OP, IOOP_MAP, 0, 0x200, 0x400, 512, 0, 1 | 1ull << sh | el, 0);
	ev(x, EV_IO_OP, IOOP_MAP, 0, 0x200, 0x400, 512, 0, 2 | 512ull << sh, 0);
	ev(x, EV_IO_OP, IOOP_MAP, 1, 0x200, 0x400, 4, 1, 2 | 2ull << sh | el, (uint64_t)-22);
	ev(x, EV_IO_OP, IOOP_HWDOM_INIT, 0, 0x100, 0x100, 16, 0, 3ull << sh | el, 0);
	if (!bugs)
		return;
	want(w, ev(x, EV_IO_OP, IOOP_MAP, 0, 0x200, 0x400, 512, 2, 2 | 2ull << sh | el, 0));
	want(w, ev(x, EV_IO_OP, IOOP_UNMAP, 1, 0x7f00, 0, 256, 0, 2 | 256ull << sh | el, 0));
}

/* Seed 002's time properties. Agents: vCPUs, and 65536 + cpu. */
#define HVA(c) (TIME_AGENT_HV + (c))

static void emit_time_causal(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses: a read equal to the stamp received, a stamp for
	 * another agent, a sent (not received) message, reads before any. */
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 0, 100, 2, 0, 0, 7);
	ev(x, EV_TIME_MSG, TMSG_RECV, 0, 1, 0, 0, 150, 1, 0);
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 0, 150, 2, 0, 0, 8);
	ev(x, EV_TIME_MSG, TMSG_RECV, 1, 2, 0, 1, 500, 0, 0);
	ev(x, EV_TIME_MSG, TMSG_SEND, 1, 3, 1, 0, 1000, 1, 0);
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 0, 350, 2, 0, 0, 9);
	ev(x, EV_TIME_READ, TREAD_HV, 1, HVA(1), 90, 2, 0, 0, 0);
	if (!bugs)
		return;
	ev(x, EV_TIME_MSG, TMSG_RECV, 1, 4, HVA(0), HVA(1), 1000, 0, 0);
	want(w, ev(x, EV_TIME_READ, TREAD_HV, 1, HVA(1), 900, 4, 0, 0, 0));
	want(w, ev(x, EV_TIME_READ, TREAD_GUEST, 1, 1, 450, 2, 0, 0, 9));
	/* The largest stamp received counts, not the last. */
	ev(x, EV_TIME_MSG, TMSG_RECV, 0, 5, 1, 0, 1000, 1, 0);
	ev(x, EV_TIME_MSG, TMSG_RECV, 0, 6, 1, 0, 300, 1, 0);
	want(w, ev(x, EV_TIME_READ, TREAD_GUEST, 0, 0, 500, 2, 0, 0, 9));
}

static void emit_time_monotonic(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses: equal reads, another agent's smaller read. */
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 2, 100, 2, 0, 0, 1);
	ev(x, EV_TIME_READ, TREAD_GUEST, 1, 2, 100, 2, 0, 0, 1);
	ev(x, EV_TIME_READ, TREAD_GUEST, 1, 2, 200, 2, 0, 0, 1);
	ev(x, EV_TIME_READ, TREAD_HV, 0, HVA(2), 50, 2, 0, 0, 0);
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 3, 10, 2, 0, 0, 1);
	if (!bugs)
		return;
	want(w, ev(x, EV_TIME_READ, TREAD_GUEST, 0, 2, 150, 2, 0, 0, 1));
	/* Against the previous read, not the largest. */
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 2, 160, 2, 0, 0, 1);
	want(w, ev(x, EV_TIME_READ, TREAD_HV, 0, HVA(2), 40, 2, 0, 0, 0));
	ev(x, EV_TIME_READ, TREAD_GUEST, 1, 3, 180, 2, 0, 0, 1);
	want(w, ev(x, EV_TIME_READ, TREAD_GUEST, 1, 3, 170, 2, 0, 0, 1));
}

static void emit_time_version(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses: even versions, the clamp flag, retries. */
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 4, 100, 2, 0, 0, 1);
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 4, 110, 4, 3, TREADF_CLAMPED, 1);
	if (!bugs)
		return;
	want(w, ev(x, EV_TIME_READ, TREAD_GUEST, 1, 5, 120, 5, 0, 0, 1));
	want(w, ev(x, EV_TIME_READ, TREAD_GUEST, 0, 4, 130, 6, 0, TREADF_TORN, 1));
	want(w, ev(x, EV_TIME_READ, TREAD_HV, 1, HVA(3), 140, 7, 0, 0, 0));
}

static void emit_time_wallclock(struct fx *x, bool bugs, struct want *w)
{
	/* The first update sets wall minus system time; near misses within
	 * the microsecond, a read (not an update) with a large f. */
	ev(x, EV_TIME_UPDATE, TREC_CPU, 0, 0, 50001326, 100, 2, 1120000000, 50001);
	ev(x, EV_TIME_UPDATE, TREC_CPU, 1, 1, 1050001999, 200, 2, 1120000001, 50001);
	ev(x, EV_TIME_UPDATE, TREC_VCPU, 1, 0, 1050001000, 200, 2, 1120000001, 50000);
	ev(x, EV_TIME_UPDATE, TREC_GLOBAL, 0, 0, 2049999327, 200, 2, 1120000002, 49999);
	ev(x, EV_TIME_READ, TREAD_GUEST, 0, 6, 100, 2, 0, 0, 1000000);
	if (!bugs)
		return;
	/* The seed's carry: 1250000 - 10000000 in 32 bits. */
	want(w, ev(x, EV_TIME_UPDATE, TREC_CPU, 0, 0, 1300001326, 300, 4, 1120000002,
	           4286217296u));
	want(w, ev(x, EV_TIME_UPDATE, TREC_CPU, 0, 0, 1300001326, 300, 4, 1120000001, 999999));
	want(w, ev(x, EV_TIME_UPDATE, TREC_VCPU, 1, 3, 1300001326, 300, 4, 1120000001, 300002));
	want(w, ev(x, EV_TIME_UPDATE, TREC_GLOBAL, 1, 0, 1300001326, 300, 4, 1120000001,
	           1000000));
}

/* vm_event rings (seed 004). a: domain << 8 | kind; b: vcpu or nobody. */
#define RING_P 0x100ull  /* domain 1, paging */
#define RING_A 0x101ull  /* domain 1, access */
#define V10 0x100ull     /* vcpu d1.0 */
#define V11 0x101ull
#define NEG(x) ((uint64_t)(int64_t)(x))

static void emit_ring_accounting(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses: a target claim and put that fill the ring exactly, a
	 * foreign claim leaving one slot, a foreign claim before the seed
	 * (arg 2) leaving none, a pause count back to 0, a vcpu_end. */
	ev(x, EV_RING, RING_CLAIM, 1, 0x500ull, V10, 1, 1, 0, 1);
	ev(x, EV_RING, RING_PUT, 1, 0x500ull, V10, 0, 0, 0, 7);
	ev(x, EV_RING, RING_CLAIM, 2, 0x500ull, RING_NOBODY, 2, 0, 1, 0);
	ev(x, EV_RING, RING_CLAIM, 2, 0x500ull, RING_NOBODY, 1, 0, 1, 2);
	ev(x, EV_RING, RING_UNPAUSE, 0, 0x500ull, V10, 4, 0, 0, 0);
	ev(x, EV_RING, RING_VCPU_END, -1, 0x1ff, V10, 0, 0, NEG(-1), 0);
	ev(x, EV_RING, RING_CLAIM_FULL, 2, 0x500ull, RING_NOBODY, 0, 0, 0, 0);
	if (!bugs)
		return;
	want(w, ev(x, EV_RING, RING_PUT_FAIL, 2, 0x500ull, RING_NOBODY, 0, 0, 1, 0));
	want(w, ev(x, EV_RING, RING_PUT, 1, 0x501ull, V11, NEG(-2), 0, 0, 9));
	want(w, ev(x, EV_RING, RING_CLAIM, 2, 0x500ull, RING_NOBODY, 1, 0, 1, 0));
	want(w, ev(x, EV_RING, RING_UNPAUSE, 0, 0x500ull, V11, 4, 0, 0, NEG(-1)));
	want(w, ev(x, EV_RING, RING_RELEASE, 1, 0x500ull, V10, 4, 1, NEG(-1), 1));
	want(w, ev(x, EV_RING, RING_PUT_FAIL, 1, 0x202, V10, 3, 0, 0, 1));
}

static void emit_ring_hang(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses: free vCPUs at the end; a paused vCPU mid-run. */
	ev(x, EV_RING, RING_VCPU_END, -1, 0x1ff, V10, 0, 0, NEG(-1), 0);
	ev(x, EV_RING, RING_PAUSE, 0, 0x600ull, V11, 3, 0, 0, 1);
	ev(x, EV_RING, RING_END, -1, 0x600ull, RING_NOBODY, 1, 0, 0, 0);
	if (!bugs)
		return;
	want(w, ev(x, EV_RING, RING_VCPU_END, -1, 0x1ff, V11, 1, 0, NEG(-1), 0));
	want(w, ev(x, EV_RING, RING_VCPU_END, -1, 0x2ff, 0x203, 0, 1u << 5, NEG(-1), 0));
	want(w, ev(x, EV_RING, RING_VCPU_END, -1, 0x1ff, V10, NEG(-1), 0, 0, 0));
	want(w, ev(x, EV_RING, RING_VCPU_END, -1, 0x1ff, 0x102, 0, 0, 7, 0));
}

static void emit_ring_lost_request(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses: a ring whose claims all end (put, release), every put
	 * consumed; a ring ending with no operation at all; another ring's
	 * operations do not count. */
	ev(x, EV_RING, RING_CLAIM, 1, RING_P, V10, 3, 1, 0, 1);
	ev(x, EV_RING, RING_PUT, 1, RING_P, V10, 2, 0, 0, 1);
	ev(x, EV_RING, RING_CLAIM, 2, RING_P, RING_NOBODY, 2, 0, 1, 0);
	ev(x, EV_RING, RING_RELEASE, 2, RING_P, RING_NOBODY, 2, 0, 0, 0);
	ev(x, EV_RING, RING_CONSUME, 0, RING_P, RING_NOBODY, 2, 0, 0, 1);
	ev(x, EV_RING, RING_CLAIM, 1, RING_A, V10, 3, 1, 0, 1);
	ev(x, EV_RING, RING_END, -1, RING_P, RING_NOBODY, 4, 0, 0, 0);
	ev(x, EV_RING, RING_END, -1, 0x302, RING_NOBODY, 4, 0, 0, 0);
	if (!bugs)
		return;
	/* A claim that never ended; a put never consumed. */
	want(w, ev(x, EV_RING, RING_END, -1, RING_A, RING_NOBODY, 3, 1, 0, 0));
	ev(x, EV_RING, RING_CLAIM, 1, 0x402, V10, 3, 1, 0, 1);
	ev(x, EV_RING, RING_PUT, 1, 0x402, V10, 3, 0, 0, 1);
	want(w, ev(x, EV_RING, RING_END, -1, 0x402, RING_NOBODY, 3, 0, 0, 1));
}

static void emit_ring_lost_wakeup(struct fx *x, bool bugs, struct want *w)
{
	/* Near misses: no room ever; woken at the bound; a foreign stall. */
	ev(x, EV_RING_STALL, STALL_WAITQ, 1, RING_P, V10, 100, 900, ~0ull, 0);
	ev(x, EV_RING_STALL, STALL_WAITQ, 1, RING_P, V10, 100, 900, ~0ull, 1);
	ev(x, EV_RING_STALL, STALL_NO_LISTENER, 1, RING_A, V11, 100, 500 + RING_WAKE_BOUND, 500, 0);
	ev(x, EV_RING_STALL, STALL_FOREIGN, 2, RING_P, RING_NOBODY, 10, 90000, ~0ull, 0);
	if (!bugs)
		return;
	want(w, ev(x, EV_RING_STALL, STALL_WAITQ, 1, RING_P, V10, 100, 501 + RING_WAKE_BOUND, 500, 0));
	want(w, ev(x, EV_RING_STALL, STALL_NO_LISTENER, 1, RING_A, V11, 100, 600, 600, 1));
	want(w, ev(x, EV_RING_STALL, STALL_PAUSED_FULL, 3, 0x202, 0x203, 7, 70000, 8, 0));
}

struct prop_case {
	const char *check;    /* checks/NAME.sql */
	const char *property; /* its "-- property:" */
	void (*emit)(struct fx *x, bool bugs, struct want *w);
};

static const struct prop_case cases[] = {
	{ "hv_cache_flush", "cache-flush", emit_cache_flush },
	{ "hv_mapping", "hv-mapping", emit_hv_mapping },
	{ "hv_pt_accounting", "pt-accounting", emit_pt_accounting },
	{ "hv_xpti", "xpti-isolation", emit_xpti },
	{ "io_dma_ownership", "dma-ownership", emit_io_owner },
	{ "io_map_visible", "iommu-map-visible", emit_io_map },
	{ "io_one_flush", "iommu-one-flush", emit_io_one_flush },
	{ "io_stale_dma", "iommu-stale-dma", emit_io_stale },
	{ "iotlb_envelope", "iotlb-envelope", emit_io_env },
	{ "pge_pcide", "pge-pcide", emit_pge_pcide },
	{ "psc_freed_table", "psc-freed-table", emit_psc_freed },
	{ "quiescent_stale", "quiescent-stale", emit_quiescent_stale },
	{ "stale_access", "stale-access", emit_stale_access },
	{ "time_causal", "time-causal", emit_time_causal },
	{ "time_monotonic", "time-monotonic", emit_time_monotonic },
	{ "time_version", "time-version", emit_time_version },
	{ "time_wallclock", "time-wallclock", emit_time_wallclock },
	{ "vm_event_accounting", "ring-accounting", emit_ring_accounting },
	{ "vm_event_hang", "ring-hang", emit_ring_hang },
	{ "vm_event_lost_request", "ring-lost-request", emit_ring_lost_request },
	{ "vm_event_lost_wakeup", "ring-lost-wakeup", emit_ring_lost_wakeup },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* SQL and checker agree with each other and with w. */
static void assert_both(const struct fx *x, const struct prop_case *pc,
                        const struct want *w)
{
	static struct rows sql, chk;

	sql_rows(x->path, pc->check, &sql);
	checker_rows(x->chk, pc->property, &chk);
	ck_assert_uint_eq(sql.n, w->n);
	ck_assert_uint_eq(chk.n, w->n);
	for (size_t i = 0; i < w->n; i++) {
		ck_assert_uint_eq(sql.seq[i], w->seq[i]);
		ck_assert_uint_eq(chk.seq[i], w->seq[i]);
		ck_assert_str_eq(sql.text[i], chk.text[i]);
	}
}

START_TEST(property_violations)
{
	const struct prop_case *pc = &cases[_i];
	struct want w = { 0 };
	struct fx x;
	char err[512], line[64], sqlpath[512];
	char *out = NULL;

	fx_start(&x, pc->check, false);
	pc->emit(&x, true, &w);
	ck_assert_uint_gt(w.n, 0);
	fx_close(&x);
	assert_both(&x, pc, &w);
	/* Nothing from the other properties' near misses either. */
	ck_assert_uint_eq(checker_count(x.chk), w.n);

	ck_assert_int_eq(run_check(x.path, NULL, &out, err, sizeof(err)),
	                 CHECK_VIOLATION);
	snprintf(line, sizeof(line), "\n%s: %zu violation(s)\n", pc->property,
	         w.n);
	ck_assert_msg(strstr(out, line), "'%s' in:\n%s", line, out);
	snprintf(line, sizeof(line), "  seq=%" PRIu64 " cycle=", w.seq[0]);
	ck_assert_msg(strstr(out, line), "'%s' in:\n%s", line, out);
	for (size_t i = 0; i < NCASES; i++) {
		snprintf(line, sizeof(line), "\n%s: ok\n", cases[i].property);
		ck_assert(!strstr(out, line) == (&cases[i] == pc));
	}
	free(out);

	/* The same file given with --sql. */
	snprintf(sqlpath, sizeof(sqlpath), "%s/checks/%s.sql", HVSIM_SOURCE_DIR,
	         pc->check);
	ck_assert_int_eq(run_check(x.path, sqlpath, &out, err, sizeof(err)),
	                 CHECK_VIOLATION);
	snprintf(line, sizeof(line), "\n%s: %zu violation(s)\n", pc->property,
	         w.n);
	ck_assert_msg(strstr(out, line), "'%s' in:\n%s", line, out);
	free(out);
	fx_free(&x);
}
END_TEST

START_TEST(property_near_misses)
{
	const struct prop_case *pc = &cases[_i];
	struct want w = { 0 };
	struct fx x;
	char err[512], name[64];
	char *out = NULL;

	snprintf(name, sizeof(name), "%s-clean", pc->check);
	fx_start(&x, name, false);
	/* Every property's near misses in one run. */
	for (size_t i = 0; i < NCASES; i++)
		cases[i].emit(&x, false, &w);
	ck_assert_uint_eq(w.n, 0);
	fx_close(&x);
	assert_both(&x, pc, &w);
	ck_assert_uint_eq(checker_count(x.chk), 0);
	ck_assert_int_eq(run_check(x.path, NULL, &out, err, sizeof(err)),
	                 CHECK_OK);
	for (size_t i = 0; i < NCASES; i++) {
		snprintf(name, sizeof(name), "\n%s: ok\n", cases[i].property);
		ck_assert_msg(strstr(out, name), "'%s' in:\n%s", name, out);
	}
	ck_assert(!strstr(out, "warning"));
	free(out);
	fx_free(&x);
}
END_TEST

/* Random add/drop/free streams over a few frames and ids: the hash-set
 * bookkeeping of the checker against the SQL. */
START_TEST(psc_random_streams)
{
	static struct rows sql, chk;
	struct prng p;
	struct fx x;

	prng_seed(&p, 12345 + (uint64_t)_i);
	fx_start(&x, "psc-random", false);
	for (unsigned i = 0; i < 4000; i++) {
		uint64_t frame = 0x1000 * (1 + prng_below(&p, 16));
		uint64_t id = prng_below(&p, 200);
		int32_t cpu = (int32_t)prng_below(&p, 2);
		switch (prng_below(&p, 4)) {
		case 0:
		case 1:
			ev(&x, EV_ENV_ADD, ENVK_PSC, cpu, id,
			   prng_below(&p, 2) ? ENV_GLOBAL : prng_below(&p, 4), 0,
			   21, 2u << 8, frame);
			break;
		case 2:
			ev(&x, EV_ENV_DROP, INSTR_INVLPG, cpu, id, 0, 0, 0, 0, 0);
			break;
		default:
			ev(&x, EV_TABLE, TBL_FREE, -1, frame, 1,
			   prng_below(&p, 8) == 0, 0, 0, 0);
			break;
		}
	}
	fx_close(&x);
	sql_rows(x.path, "psc_freed_table", &sql);
	checker_rows(x.chk, "psc-freed-table", &chk);
	ck_assert_uint_gt(sql.n, 10);
	ck_assert_uint_eq(sql.n, chk.n);
	for (size_t i = 0; i < sql.n; i++) {
		ck_assert_uint_eq(sql.seq[i], chk.seq[i]);
		ck_assert_str_eq(sql.text[i], chk.text[i]);
	}
	fx_free(&x);
}
END_TEST

START_TEST(checker_stops_at_first)
{
	struct want w = { 0 };
	struct fx x;

	fx_start(&x, "stop", true);
	emit_pge_pcide(&x, false, &w);
	ck_assert(!x.bus.stop);
	emit_pge_pcide(&x, true, &w);
	ck_assert(x.bus.stop);
	ck_assert_uint_eq(checker_count(x.chk), 2);
	ck_assert_uint_eq(checker_total(x.chk), 2);
	ck_assert_ptr_null(checker_error(x.chk));
	fx_close(&x);
	fx_free(&x);
}
END_TEST

START_TEST(many_rows_are_summarised)
{
	struct fx x;
	char err[512];
	char *out = NULL;

	fx_start(&x, "many", false);
	for (unsigned i = 0; i < CHECK_SHOW_ROWS + 2; i++)
		ev(&x, EV_ACCESS, 0, 0, 0x1000 * i, 0, 0, 0, ACCF_STALE, 0);
	fx_close(&x);
	ck_assert_int_eq(run_check(x.path, NULL, &out, err, sizeof(err)),
	                 CHECK_VIOLATION);
	ck_assert_msg(strstr(out, "stale-access: 12 violation(s)\n"), "%s", out);
	ck_assert_msg(strstr(out, "  ... and 2 more\n"), "%s", out);
	ck_assert_msg(strstr(out, ": cpu 0: access to va 0x9000 (pcid 0) used a "
	                          "stale translation cached in the TLB\n"),
	              "%s", out);
	ck_assert_msg(strstr(out, "status complete, exit code 0, 12 events"),
	              "%s", out);
	free(out);
	fx_free(&x);
}
END_TEST

/* A recording whose run died: status 'running', check warns. */
START_TEST(running_recording_warns)
{
	char path[512], err[512];
	char *out = NULL;

	snprintf(path, sizeof(path), "%s/died.db", testutil_tmpdir());
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct fx x;
		fx_start(&x, "died", false);
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(run_check(path, NULL, &out, err, sizeof(err)),
	                 CHECK_OK);
	ck_assert_msg(strstr(out, "status running\n"), "%s", out);
	ck_assert_msg(strstr(out, "warning: "), "%s", out);
	free(out);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void expect_bad(const char *db, const char *sql, const char *named,
                       const char *detail)
{
	char err[512] = "";
	char *out = NULL;

	ck_assert_int_eq(run_check(db, sql, &out, err, sizeof(err)),
	                 CHECK_BAD_INPUT);
	free(out);
	ck_assert_msg(strstr(err, named) == err, "'%s' names '%s'", err, named);
	ck_assert_msg(strstr(err, detail), "'%s' says '%s'", err, detail);
}

START_TEST(bad_input)
{
	const char *dir = testutil_tmpdir();
	char missing[512], text[512], empty[512], sql[512], good[512];
	struct want w = { 0 };
	struct fx x;

	snprintf(missing, sizeof(missing), "%s/missing.db", dir);
	expect_bad(missing, NULL, missing, "No such file");
	expect_bad(dir, NULL, dir, "is a directory");

	snprintf(text, sizeof(text), "%s/text.db", dir);
	write_file(text, "hello, I am not a database, but I am long enough to "
	                 "have a header of one hundred bytes...................."
	                 "..............................\n");
	expect_bad(text, NULL, text, "not a database");

	snprintf(empty, sizeof(empty), "%s/empty.db", dir);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(empty, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE t (x)", 0, 0, 0), 0);
	sqlite3_close(db);
	expect_bad(empty, NULL, empty, "not an hvsim recording");

	fx_start(&x, "good", false);
	emit_stale_access(&x, true, &w);
	fx_close(&x);
	snprintf(good, sizeof(good), "%s", x.path);
	fx_free(&x);

	snprintf(sql, sizeof(sql), "%s/none.sql", dir);
	expect_bad(good, sql, sql, "No such file");
	snprintf(sql, sizeof(sql), "%s/syntax.sql", dir);
	write_file(sql, "-- property: broken\nSELEC seq FROM events;\n");
	expect_bad(good, sql, sql, "syntax error");
	snprintf(sql, sizeof(sql), "%s/nocol.sql", dir);
	write_file(sql, "SELECT seq, cycle, cpu, nosuch FROM events;\n");
	expect_bad(good, sql, sql, "no such column: nosuch");
	snprintf(sql, sizeof(sql), "%s/cols.sql", dir);
	write_file(sql, "SELECT seq, cycle, cpu FROM events;\n");
	expect_bad(good, sql, sql, "(seq, cycle, cpu, explanation)");
	snprintf(sql, sizeof(sql), "%s/two.sql", dir);
	write_file(sql, "SELECT seq, cycle, cpu, 'x' AS explanation FROM events;"
	                "\nSELECT 1;\n");
	expect_bad(good, sql, sql, "more than one SQL statement");
	snprintf(sql, sizeof(sql), "%s/write.sql", dir);
	write_file(sql, "DELETE FROM events;\n");
	expect_bad(good, sql, sql, "read-only");
	snprintf(sql, sizeof(sql), "%s/empty.sql", dir);
	write_file(sql, "-- property: nothing\n");
	expect_bad(good, sql, sql, "no SQL statement");

	/* A user query: header optional, trailing comments allowed. */
	char err[512], *out = NULL;
	snprintf(sql, sizeof(sql), "%s/mine.sql", dir);
	write_file(sql, "-- property: my-prop\n-- what: demo\n"
	                "SELECT seq, cycle, cpu, 'x' AS explanation FROM events"
	                " WHERE 0 ORDER BY seq; -- done\n");
	ck_assert_int_eq(run_check(good, sql, &out, err, sizeof(err)), CHECK_OK);
	ck_assert_msg(strstr(out, "\nmy-prop: ok\n"), "%s", out);
	free(out);
	snprintf(sql, sizeof(sql), "%s/bare_name.sql", dir);
	write_file(sql, "SELECT seq, cycle, cpu, 'x' AS explanation FROM events");
	ck_assert_int_eq(run_check(good, sql, &out, err, sizeof(err)),
	                 CHECK_VIOLATION);
	ck_assert_msg(strstr(out, "\nbare_name: 7 violation(s)\n"), "%s", out);
	free(out);
}
END_TEST

START_TEST(lists_properties)
{
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	check_list(f);
	fclose(f);
	for (const char *const *n = checker_property_names(); *n; n++) {
		char line[64];
		snprintf(line, sizeof(line), "%-18s ", *n);
		ck_assert_msg(strstr(out, line), "%s in:\n%s", *n, out);
	}
	ck_assert_msg(strstr(out, "psc-freed-table    a page-table frame was "
	                          "freed"), "%s", out);
	free(out);
	/* The checker knows exactly the shipped properties, in name order. */
	size_t i = 0;
	for (const struct hvsim_embedded *e = hvsim_checks; e->name; e++, i++) {
		ck_assert_ptr_nonnull(checker_property_names()[i]);
		ck_assert_str_eq(cases[i].check, e->name);
		ck_assert_str_eq(cases[i].property, checker_property_names()[i]);
	}
	ck_assert_uint_eq(i, NCASES);
	ck_assert_ptr_null(checker_property_names()[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("properties");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, property_violations, 0, (int)NCASES);
	tcase_add_loop_test(tc, property_near_misses, 0, (int)NCASES);
	tcase_add_loop_test(tc, psc_random_streams, 0, 4);
	tcase_add_test(tc, checker_stops_at_first);
	tcase_add_test(tc, many_rows_are_summarised);
	tcase_add_test(tc, running_recording_warns);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, lists_properties);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(suite());
}
