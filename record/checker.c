/* In-process property checker (record/checker.h). Each property mirrors a
 * query in checks/; explanations are formatted exactly as the query's
 * printf() does, so the two implementations can be compared word for word.
 * Payload meanings: the table in sim/event.h. */
#include "record/checker.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CR4 bits (SDM Vol. 3A §2.5); the checker reads only the event stream. */
#define CHK_CR4_PGE (1ull << 7)
#define CHK_CR4_PCIDE (1ull << 17)

#define NONE UINT32_MAX

/* A live ENVK_PSC envelope record (EV_ENV_ADD: a = id, b = pcid, f = the
 * table frame its cached entry points to), in a slab; prev/next link the
 * records of one frame. */
struct psc_rec {
	uint64_t id;
	uint64_t frame;
	uint64_t add_seq;
	uint64_t pcid;
	int32_t cpu;
	uint32_t prev, next; /* same frame; next is the free list when free */
};

/* Open addressing with linear probing from a u64 key to a slab index.
 * Integer keys only, so nothing depends on pointer values; a key may occur
 * more than once (a multimap). */
struct u64map {
	uint64_t *key;
	uint32_t *val;
	uint8_t *used;
	size_t cap; /* 0 or a power of two */
	size_t n;
};

struct checker {
	bool stop_first;
	const char *error;
	struct violation *v;
	size_t nv, capv;
	uint64_t total;
	/* Live PSC records: slab, by record id (for drops), by frame (for
	 * frees: the head of the frame's list). */
	struct psc_rec *rec;
	uint32_t nrec, caprec, free_rec;
	struct u64map by_id, by_frame;
	struct psc_rec *scratch; /* records referencing a freed frame */
	size_t scratch_cap;
	/* Time properties (seed 002): per agent (TIME_AGENTS slots) the last
	 * value read and the largest stamp received; the first update's wall
	 * clock minus system time. */
	struct time_agent_chk *tagent;
	bool have_wc0;
	int64_t wc0;
	/* ring-lost-request: per ring (EV_RING.a), its operations so far. */
	struct ring_count *rings;
	size_t nrings, caprings;
};

/* Agents: vCPUs 0..63, then the hypervisor on CPUs 0..255. */
#define TIME_VCPUS 64
#define TIME_AGENTS (TIME_VCPUS + 256)
struct time_agent_chk {
	bool has_last, has_floor;
	uint64_t last, floor;
};

struct ring_count {
	uint64_t ring;
	int64_t claims, puts, releases, consumed;
};

static const char *const property_names[] = {
	"cache-flush", "hv-mapping", "pt-accounting", "xpti-isolation",
	"dma-ownership", "iommu-map-visible", "iommu-one-flush", "iommu-stale-dma",
	"iotlb-envelope", "pge-pcide", "psc-freed-table", "quiescent-stale", "stale-access",
	"time-causal", "time-monotonic", "time-version", "time-wallclock",
	"ring-accounting", "ring-hang", "ring-lost-request", "ring-lost-wakeup", NULL,
};

const char *const *checker_property_names(void)
{
	return property_names;
}

/* Same reading of a u64 payload as SQLite's: bit-cast to signed. */
static int64_t s64(uint64_t v)
{
	int64_t r;
	memcpy(&r, &v, sizeof(r));
	return r;
}

/* --- u64 -> slab index multimap ------------------------------------- */

static size_t map_home(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

/* The slot holding key (with val, unless val is NONE), or SIZE_MAX. */
static size_t map_find(const struct u64map *m, uint64_t key, uint32_t val)
{
	if (!m->cap)
		return SIZE_MAX;
	for (size_t i = map_home(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return SIZE_MAX;
		if (m->key[i] == key && (val == NONE || m->val[i] == val))
			return i;
	}
}

static void map_put_new(struct u64map *m, uint64_t key, uint32_t val)
{
	size_t i = map_home(key, m->cap);

	while (m->used[i])
		i = (i + 1) & (m->cap - 1);
	m->key[i] = key;
	m->val[i] = val;
	m->used[i] = 1;
	m->n++;
}

static int map_grow(struct u64map *m)
{
	struct u64map old = *m;
	size_t cap = m->cap ? m->cap * 2 : 64;

	m->key = malloc(cap * sizeof(*m->key));
	m->val = malloc(cap * sizeof(*m->val));
	m->used = calloc(cap, 1);
	if (!m->key || !m->val || !m->used) {
		free(m->key);
		free(m->val);
		free(m->used);
		*m = old;
		return -1;
	}
	m->cap = cap;
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.used[i])
			map_put_new(m, old.key[i], old.val[i]);
	free(old.key);
	free(old.val);
	free(old.used);
	return 0;
}

static int map_add(struct u64map *m, uint64_t key, uint32_t val)
{
	/* Load factor at most 1/2 keeps probe runs short. */
	if ((m->n + 1) * 2 > m->cap && map_grow(m))
		return -1;
	map_put_new(m, key, val);
	return 0;
}

/* Backward-shift deletion: no tombstones, so lookups stay short. */
static void map_del_slot(struct u64map *m, size_t i)
{
	size_t mask = m->cap - 1;

	assert(i < m->cap && m->used[i]);
	m->used[i] = 0;
	m->n--;
	for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
		size_t k = map_home(m->key[j], m->cap);
		/* Entry j may fill the hole at i unless its home k lies
		 * cyclically in (i, j]. */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		m->key[i] = m->key[j];
		m->val[i] = m->val[j];
		m->used[i] = 1;
		m->used[j] = 0;
		i = j;
	}
}

static void map_free(struct u64map *m)
{
	free(m->key);
	free(m->val);
	free(m->used);
}

/* --- live PSC records ------------------------------------------------ */

static uint32_t rec_alloc(struct checker *c)
{
	if (c->free_rec != NONE) {
		uint32_t i = c->free_rec;
		c->free_rec = c->rec[i].next;
		return i;
	}
	if (c->nrec == c->caprec) {
		uint32_t cap = c->caprec ? c->caprec * 2 : 64;
		struct psc_rec *p;
		if (cap >= NONE || !(p = realloc(c->rec, cap * sizeof(*p))))
			return NONE;
		c->rec = p;
		c->caprec = cap;
	}
	return c->nrec++;
}

/* EV_ENV_ADD of a PSC record. An id added again while live (which the
 * envelope never does) is a second record, as in the SQL, where each add
 * lives until a drop of its id. */
static int rec_add(struct checker *c, const struct psc_rec *r)
{
	uint32_t i = rec_alloc(c);

	if (i == NONE || map_add(&c->by_id, r->id, i))
		goto oom;
	c->rec[i] = *r;
	c->rec[i].prev = NONE;
	size_t slot = map_find(&c->by_frame, r->frame, NONE);
	if (slot == SIZE_MAX) {
		c->rec[i].next = NONE;
		if (map_add(&c->by_frame, r->frame, i))
			goto oom;
	} else {
		/* New head of the frame's list. */
		c->rec[i].next = c->by_frame.val[slot];
		c->rec[c->rec[i].next].prev = i;
		c->by_frame.val[slot] = i;
	}
	return 0;
oom:
	c->error = "out of memory";
	return -1;
}

static void rec_unlink(struct checker *c, uint32_t i)
{
	struct psc_rec *r = &c->rec[i];

	if (r->next != NONE)
		c->rec[r->next].prev = r->prev;
	if (r->prev != NONE) {
		c->rec[r->prev].next = r->next;
	} else {
		size_t slot = map_find(&c->by_frame, r->frame, NONE);
		assert(slot != SIZE_MAX && c->by_frame.val[slot] == i);
		if (r->next == NONE)
			map_del_slot(&c->by_frame, slot);
		else
			c->by_frame.val[slot] = r->next;
	}
	r->next = c->free_rec;
	c->free_rec = i;
}

/* EV_ENV_DROP ends every live record with that id. */
static void rec_drop(struct checker *c, uint64_t id)
{
	size_t slot;

	while ((slot = map_find(&c->by_id, id, NONE)) != SIZE_MAX) {
		uint32_t i = c->by_id.val[slot];
		map_del_slot(&c->by_id, slot);
		rec_unlink(c, i);
	}
}

/* --- violations ---------------------------------------------------- */

static int add_violation(struct checker *c, const char *property,
                         const struct event *ev, const char *text)
{
	c->total++;
	if (c->nv == CHECKER_MAX_KEPT)
		return c->stop_first;
	if (c->nv == c->capv) {
		size_t cap = c->capv ? c->capv * 2 : 16;
		struct violation *v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->error = "out of memory";
			return 1;
		}
		c->v = v;
		c->capv = cap;
	}
	struct violation *v = &c->v[c->nv++];
	memset(v, 0, sizeof(*v));
	v->property = property;
	v->seq = ev->seq;
	v->cycle = ev->cycle;
	v->cpu = ev->cpu;
	snprintf(v->explanation, sizeof(v->explanation), "%s", text);
	return c->stop_first;
}

/* Appends to a fixed buffer, truncating like the explanation field. */
struct text {
	char buf[sizeof(((struct violation *)0)->explanation)];
	size_t len;
};

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->len + 1 >= sizeof(t->buf))
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
	if (t->len >= sizeof(t->buf))
		t->len = sizeof(t->buf) - 1;
}

/* "global" for ENV_GLOBAL, else the decimal pcid (as printf('%d', b)). */
static void text_pcid(struct text *t, uint64_t pcid)
{
	if (pcid == ENV_GLOBAL)
		text_add(t, "global");
	else
		text_add(t, "%" PRId64, s64(pcid));
}

/* --- properties ---------------------------------------------------- */

/* stale-access: EV_ACCESS.e has ACCF_STALE or ACCF_MAY_STALE. */
static int on_access(struct checker *c, const struct event *ev)
{
	static const char *const kind[4] = {
		[ACCF_STALE] = "used a stale translation cached in the TLB",
		[ACCF_MAY_STALE] = "was allowed by the envelope to use a stale "
		                   "translation",
		[ACCF_STALE | ACCF_MAY_STALE] =
			"used a stale translation cached in the TLB (the "
			"envelope allowed one too)",
	};
	unsigned k = ev->e & (ACCF_STALE | ACCF_MAY_STALE);
	struct text t = { .len = 0 };

	if (!k)
		return 0;
	text_add(&t, "cpu %d: access to va 0x%" PRIx64 " (pcid %" PRId64 ") %s",
	         ev->cpu, ev->a, s64(ev->c), kind[k]);
	return add_violation(c, "stale-access", ev, t.buf);
}

/* quiescent-stale: every EV_ENV_STALE (emitted at quiescent points). */
static int on_env_stale(struct checker *c, const struct event *ev)
{
	static const char *const kinds[] = {
		[ENVK_VIEW] = "view", [ENVK_PSC] = "psc", [ENVK_ALIAS] = "alias",
	};
	static const char *const reasons[] = {
		[STALE_DIFFERS] = "differs",
		[STALE_NOT_TABLE] = "not_table",
		[STALE_ALIAS] = "alias",
	};
	struct text t = { .len = 0 };

	text_add(&t, "cpu %d: stale ", ev->cpu);
	if (ev->sub >= ENVK_VIEW && ev->sub <= ENVK_ALIAS)
		text_add(&t, "%s", kinds[ev->sub]);
	else
		text_add(&t, "kind-%u", ev->sub);
	text_add(&t, " record #%" PRId64 " at a quiescent point: pcid ",
	         s64(ev->a));
	text_pcid(&t, ev->b);
	text_add(&t, ", va 0x%" PRIx64 ", size 2^%" PRId64 ", reason ", ev->c,
	         s64(ev->d));
	if (ev->e >= STALE_DIFFERS && ev->e <= STALE_ALIAS)
		text_add(&t, "%s", reasons[ev->e]);
	else
		text_add(&t, "reason-%" PRId64, s64(ev->e));
	return add_violation(c, "quiescent-stale", ev, t.buf);
}

/* pge-pcide: a CR4 write that took effect (c = 0) with PGE and PCIDE. */
static int on_cr_write(struct checker *c, const struct event *ev)
{
	const uint64_t both = CHK_CR4_PGE | CHK_CR4_PCIDE;
	struct text t = { .len = 0 };

	if (ev->sub != 4 || ev->c != 0 || (ev->b & both) != both)
		return 0;
	text_add(&t, "cpu %d: CR4 write 0x%" PRIx64 " -> 0x%" PRIx64
	         " sets both PGE (bit 7) and PCIDE (bit 17)",
	         ev->cpu, ev->a, ev->b);
	return add_violation(c, "pge-pcide", ev, t.buf);
}

static int on_env_add(struct checker *c, const struct event *ev)
{
	if (ev->sub != ENVK_PSC)
		return 0;
	struct psc_rec r = {
		.id = ev->a, .frame = ev->f, .add_seq = ev->seq,
		.pcid = ev->b, .cpu = ev->cpu,
	};
	return rec_add(c, &r) ? 1 : 0;
}

static int by_add_seq(const void *x, const void *y)
{
	const struct psc_rec *a = x, *b = y;

	return (a->add_seq > b->add_seq) - (a->add_seq < b->add_seq);
}

/* The live PSC records pointing at frame, into c->scratch by add seq
 * (the order the SQL lists them in). */
static int collect_refs(struct checker *c, uint64_t frame, size_t *n)
{
	size_t slot = map_find(&c->by_frame, frame, NONE);

	*n = 0;
	if (slot == SIZE_MAX)
		return 0;
	for (uint32_t i = c->by_frame.val[slot]; i != NONE; i = c->rec[i].next) {
		assert(c->rec[i].frame == frame);
		if (*n == c->scratch_cap) {
			size_t cap = c->scratch_cap ? c->scratch_cap * 2 : 16;
			void *p = realloc(c->scratch, cap * sizeof(*c->scratch));
			if (!p)
				return -1;
			c->scratch = p;
			c->scratch_cap = cap;
		}
		c->scratch[(*n)++] = c->rec[i];
	}
	qsort(c->scratch, *n, sizeof(*c->scratch), by_add_seq);
	return 0;
}

/* psc-freed-table: a frame freed (EV_TABLE TBL_FREE) with live links
 * (c) or with live PSC records referencing it. The records come from our
 * own add/drop bookkeeping, never from EV_TABLE.d. */
static int on_table(struct checker *c, const struct event *ev)
{
	struct text t = { .len = 0 };
	size_t n;

	if (ev->sub != TBL_FREE)
		return 0;
	if (collect_refs(c, ev->a, &n)) {
		c->error = "out of memory";
		return 1;
	}
	if (ev->c == 0 && n == 0)
		return 0;
	text_add(&t, "frame 0x%" PRIx64 " freed while still referenced: %" PRId64
	         " live link(s) in page tables, %zu live PSC record(s)",
	         ev->a, s64(ev->c), n);
	for (size_t i = 0; i < n; i++) {
		const struct psc_rec *r = &c->scratch[i];
		text_add(&t, "%s#%" PRId64 " cpu %d pcid ", i ? ", " : ": ",
		         s64(r->id), r->cpu);
		text_pcid(&t, r->pcid);
	}
	return add_violation(c, "psc-freed-table", ev, t.buf);
}

/* printf("pa 0x%x") as SQLite prints a bit-cast u64; "nothing" for ~0. */
static void text_pa_or_nothing(struct text *t, uint64_t v)
{
	if (v == UINT64_MAX)
		text_add(t, "nothing");
	else
		text_add(t, "pa 0x%" PRIx64, v);
}

/* EV_CHECK kinds of the IOMMU (runner/ioworld.h; same texts as
 * checks/io_*.sql and checks/iotlb_envelope.sql). */
static int on_io_check(struct checker *c, const struct event *ev)
{
	struct text t = { .len = 0 };
	switch (ev->sub) {
	case CHECK_IO_STALE:
		text_add(&t, "after op %" PRId64 ": device %" PRId64 " (I/O domain %" PRId64
		         ") reached pa 0x%" PRIx64 " through iova 0x%" PRIx64 "; the domain maps ",
		         s64(ev->d), s64(ev->e), s64(ev->f), ev->c, ev->a);
		text_pa_or_nothing(&t, ev->b);
		text_add(&t, " there");
		return add_violation(c, "iommu-stale-dma", ev, t.buf);
	case CHECK_IO_MAP:
		text_add(&t, "after op %" PRId64 ": device %" PRId64 " (I/O domain %" PRId64
		         ") faulted at iova 0x%" PRIx64 ", which the domain maps to pa 0x%" PRIx64,
		         s64(ev->d), s64(ev->e), s64(ev->f), ev->a, ev->b);
		return add_violation(c, "iommu-map-visible", ev, t.buf);
	case CHECK_IO_OWNER:
		text_add(&t, "device %" PRId64 " (I/O domain %" PRId64 ") reached pa 0x%" PRIx64
		         " through iova 0x%" PRIx64 "; the frame belongs to ", s64(ev->e),
		         s64(ev->f), ev->c, ev->a);
		if (ev->b == 0)
			text_add(&t, "nobody (freed)");
		else
			text_add(&t, "I/O domain %" PRId64, s64(ev->b) - 1);
		return add_violation(c, "dma-ownership", ev, t.buf);
	case CHECK_IO_ENV:
		text_add(&t, "after op %" PRId64 ": the IOTLB may still translate iova 0x%" PRIx64
		         " of I/O domain %" PRId64 " to ", s64(ev->d), ev->a, s64(ev->f));
		if (ev->c == UINT64_MAX)
			text_add(&t, "a cached fault");
		else
			text_add(&t, "pa 0x%" PRIx64, ev->c);
		text_add(&t, "; the domain maps ");
		text_pa_or_nothing(&t, ev->b);
		text_add(&t, " there");
		return add_violation(c, "iotlb-envelope", ev, t.buf);
	default:
		return 0;
	}
}

/* EV_IO_OP: with elision on, one map or unmap that returned 0 issues at
 * most one IOTLB invalidation (checks/io_one_flush.sql). */
static int on_io_op(struct checker *c, const struct event *ev)
{
	uint64_t invs = (ev->e >> IOOP_E_INV_SHIFT) & 0x7fffff;
	if ((ev->sub != IOOP_MAP && ev->sub != IOOP_UNMAP) || !(ev->e & IOOP_E_ELIDE) ||
	    ev->f != 0 || invs <= 1)
		return 0;
	struct text t = { .len = 0 };
	text_add(&t, "%s of %" PRId64 " page(s) at dfn 0x%" PRIx64 " in I/O domain %" PRId64
	         " issued %" PRId64 " IOTLB invalidations (elision allows one)",
	         ev->sub == IOOP_MAP ? "map" : "unmap", s64(ev->c), ev->a, s64(ev->d),
	         (int64_t)invs);
	return add_violation(c, "iommu-one-flush", ev, t.buf);
}

/* EV_CHECK: the runner's checks after hypervisor operations (same texts
 * as checks/hv_*.sql). */
static int on_check(struct checker *c, const struct event *ev)
{
	struct text t = { .len = 0 };
	switch (ev->sub) {
	case CHECK_MAPPING:
		text_add(&t, "after op %" PRId64 ": va 0x%" PRIx64 " translates to ", s64(ev->d), ev->a);
		text_pa_or_nothing(&t, ev->c);
		text_add(&t, " in the page tables, requested ");
		text_pa_or_nothing(&t, ev->b);
		return add_violation(c, "hv-mapping", ev, t.buf);
	case CHECK_TLB:
		text_add(&t, "after op %" PRId64 ": cpu %" PRId64 " still caches va 0x%" PRIx64
		         " -> pa 0x%" PRIx64 ", requested ", s64(ev->d), s64(ev->e), ev->a, ev->c);
		text_pa_or_nothing(&t, ev->b);
		return add_violation(c, "hv-mapping", ev, t.buf);
	case CHECK_PT_LEAK:
		text_add(&t, "after op %" PRId64 ": the hypervisor counts %" PRId64
		         " live page-table pages, %" PRId64 " are reachable from its root",
		         s64(ev->d), s64(ev->b), s64(ev->c));
		return add_violation(c, "pt-accounting", ev, t.buf);
	case CHECK_PT_DOUBLE_FREE:
		text_add(&t, "frame 0x%" PRIx64 " freed but not allocated (double free)", ev->a);
		return add_violation(c, "pt-accounting", ev, t.buf);
	case CHECK_XPTI:
		text_add(&t, "cpu %" PRId64 " runs a guest under XPTI, and hypervisor address 0x%" PRIx64
		         " is translatable through root 0x%" PRIx64 " (", s64(ev->e), ev->a, ev->b);
		if (ev->c == ENV_GLOBAL)
			text_add(&t, "global entries)");
		else
			text_add(&t, "pcid %" PRId64 ")", s64(ev->c));
		return add_violation(c, "xpti-isolation", ev, t.buf);
	case CHECK_CACHE:
		text_add(&t, "after op %" PRId64 ": %" PRId64 " frame(s) from pa 0x%" PRIx64
		         " changed memory type without a cache flush", s64(ev->d), s64(ev->f), ev->a);
		return add_violation(c, "cache-flush", ev, t.buf);
	default:
		return on_io_check(c, ev);
	}
}

/* --- time properties (seed 002; checks/time_*.sql) ------------------ */

/* Slot of an agent, or -1 for one outside the ranges events use. */
static int time_slot(uint64_t agent)
{
	if (agent < TIME_VCPUS)
		return (int)agent;
	if (agent >= TIME_AGENT_HV && agent < TIME_AGENT_HV + 256)
		return (int)(TIME_VCPUS + agent - TIME_AGENT_HV);
	return -1;
}

/* Same text as the queries' CASE on the agent. */
static void text_agent(struct text *t, uint64_t agent)
{
	if (s64(agent) >= (int64_t)TIME_AGENT_HV)
		text_add(t, "hypervisor on cpu %" PRId64, s64(agent) - (int64_t)TIME_AGENT_HV);
	else
		text_add(t, "vcpu %" PRId64, s64(agent));
}

static struct time_agent_chk *time_agent_of(struct checker *c, uint64_t agent)
{
	int i = time_slot(agent);
	if (i < 0)
		return NULL;
	if (!c->tagent && !(c->tagent = calloc(TIME_AGENTS, sizeof(*c->tagent)))) {
		c->error = "out of memory";
		return NULL;
	}
	return &c->tagent[i];
}

/* time-version: a read used an odd version, or a record torn by an update
 * during the read. time-monotonic: below the same agent's previous read.
 * time-causal: below the stamp of a message the agent received before. */
static int on_time_read(struct checker *c, const struct event *ev)
{
	int stop = 0;
	struct text t = {.len = 0};
	if ((ev->c & 1) || (ev->e & TREADF_TORN)) {
		text_agent(&t, ev->a);
		text_add(&t, " on cpu %d used its time record at version %" PRId64 " %s", ev->cpu,
		         s64(ev->c),
		         (ev->e & TREADF_TORN) ? "while it was rewritten (fields of two updates)"
		                               : "(odd: mid-update)");
		stop |= add_violation(c, "time-version", ev, t.buf);
	}
	struct time_agent_chk *a = time_agent_of(c, ev->a);
	if (!a)
		return c->error ? 1 : stop;
	if (a->has_last && s64(ev->b) < s64(a->last)) {
		t.len = 0;
		text_agent(&t, ev->a);
		text_add(&t, " read %" PRId64 " ns on cpu %d after %" PRId64
		         " ns: time went backwards by %" PRId64 " ns", s64(ev->b), ev->cpu,
		         s64(a->last), s64(a->last) - s64(ev->b));
		stop |= add_violation(c, "time-monotonic", ev, t.buf);
	}
	if (a->has_floor && s64(ev->b) < s64(a->floor)) {
		t.len = 0;
		text_agent(&t, ev->a);
		text_add(&t, " read %" PRId64 " ns on cpu %d, below the %" PRId64
		         " ns of a message it received before: %" PRId64 " ns back", s64(ev->b),
		         ev->cpu, s64(a->floor), s64(a->floor) - s64(ev->b));
		stop |= add_violation(c, "time-causal", ev, t.buf);
	}
	a->has_last = true;
	a->last = ev->b;
	return stop;
}

static int on_time_msg(struct checker *c, const struct event *ev)
{
	if (ev->sub != TMSG_RECV)
		return 0;
	struct time_agent_chk *a = time_agent_of(c, ev->c);
	if (!a)
		return c->error ? 1 : 0;
	if (!a->has_floor || s64(ev->d) > s64(a->floor))
		a->floor = ev->d;
	a->has_floor = true;
	return 0;
}

/* time-wallclock: the sub-second field out of 0..999999, or the wall
 * clock not moving with system time (wall minus system time off the first
 * update's by a microsecond or more). */
static int on_time_update(struct checker *c, const struct event *ev)
{
	static const char *const kind[] = {"global", "cpu", "vcpu"};
	struct text t = {.len = 0};
	int64_t off = s64(ev->e) * 1000000000 + s64(ev->f) * 1000 - s64(ev->b);
	if (!c->have_wc0) {
		c->have_wc0 = true;
		c->wc0 = off;
	}
	const char *k = ev->sub < 3 ? kind[ev->sub] : "?";
	if (s64(ev->f) >= 1000000 || s64(ev->f) < 0) {
		text_add(&t, "%s record %" PRId64 ": wall clock sub-second field %" PRId64
		         " us is out of range 0..999999", k, s64(ev->a), s64(ev->f));
		return add_violation(c, "time-wallclock", ev, t.buf);
	}
	int64_t d = off - c->wc0;
	if (d >= 1000 || d <= -1000) {
		text_add(&t, "%s record %" PRId64 ": wall clock %" PRId64 ".%06" PRId64
		         " s does not move with system time %" PRId64 " ns (off by %" PRId64 " ns)",
		         k, s64(ev->a), s64(ev->e), s64(ev->f), s64(ev->b), d);
		return add_violation(c, "time-wallclock", ev, t.buf);
	}
	return 0;
}

/* --- vm_event rings (seed 004; checks/vm_event_*.sql) -------------- */

/* The ring_ops/ring_stalls views' ring_name. */
static void text_ring(struct text *t, uint64_t a)
{
	static const char *const names[] = {"paging", "access", "sharing"};
	int64_t kind = s64(a) & 255;
	text_add(t, "ring d%" PRId64 " ", s64(a) >> 8);
	if (kind < 3)
		text_add(t, "%s", names[kind]);
	else
		text_add(t, "kind-%" PRId64, kind);
}

/* "d%d.%d" of vcpu >> 8, vcpu & 255, where the views' NULL (nobody)
 * prints as SQLite prints NULL with %d: 0. */
static void text_vcpu(struct text *t, uint64_t b)
{
	int64_t v = b == RING_NOBODY ? 0 : s64(b);
	text_add(t, "vcpu d%" PRId64 ".%" PRId64, v >> 8, v & 255);
}

static struct ring_count *ring_count_of(struct checker *c, uint64_t ring)
{
	for (size_t i = 0; i < c->nrings; i++)
		if (c->rings[i].ring == ring)
			return &c->rings[i];
	if (c->nrings == c->caprings) {
		size_t cap = c->caprings ? c->caprings * 2 : 8;
		void *p = realloc(c->rings, cap * sizeof(*c->rings));
		if (!p)
			return NULL;
		c->rings = p;
		c->caprings = cap;
	}
	struct ring_count *r = &c->rings[c->nrings++];
	memset(r, 0, sizeof(*r));
	r->ring = ring;
	return r;
}

/* ring-accounting (checks/vm_event_accounting.sql), one EV_RING row. */
static int ring_accounting(struct checker *c, const struct event *ev)
{
	int64_t free = s64(ev->c), target = s64(ev->d), foreign = s64(ev->e), arg = s64(ev->f);
	struct text t = { .len = 0 };
	bool put_fail = ev->sub == RING_PUT_FAIL, overflow = ev->sub == RING_PUT && free < 0;
	bool no_room = ev->sub == RING_CLAIM && arg == 0 && free - target - foreign < 1;
	bool unpause = ev->sub == RING_UNPAUSE && arg < 0;
	if (ev->sub == RING_VCPU_END ||
	    !(put_fail || overflow || no_room || unpause || target < 0 || foreign < 0))
		return 0;
	static const char *const ops[] = {
		[RING_ENABLE] = "enable", [RING_DISABLE] = "disable",
		[RING_DISABLE_BUSY] = "disable_busy", [RING_CLAIM] = "claim",
		[RING_CLAIM_FULL] = "claim_full", [RING_CLAIM_NORING] = "claim_noring",
		[RING_RELEASE] = "release", [RING_PUT] = "put", [RING_PUT_FAIL] = "put_fail",
		[RING_PUT_SLEEP] = "put_sleep", [RING_GET] = "get",
		[RING_WAKE_REQUESTERS] = "wake_requesters", [RING_WAKE_WAITERS] = "wake_waiters",
		[RING_MARK_SLEEP] = "mark_sleep", [RING_PAUSE_FULL] = "pause_full",
		[RING_PAUSE] = "pause", [RING_UNPAUSE] = "unpause", [RING_NOTIFY] = "notify",
		[RING_WOKEN] = "woken", [RING_ROOM] = "room", [RING_CONSUME] = "consume",
		[RING_RESPOND] = "respond", [RING_HELPER_STALL] = "helper_stall",
		[RING_GIVE_UP] = "give_up", [RING_VCPU_END] = "vcpu_end", [RING_END] = "ring_end",
	};
	text_ring(&t, ev->a);
	text_add(&t, ": ");
	if (put_fail) {
		text_add(&t, "a %s producer's claimed slot could not be used (the request was lost)",
		         arg == 1 ? "target" : "foreign");
	} else if (overflow) {
		text_add(&t, "%" PRId64 " request(s) more than the ring holds after a put", -free);
	} else if (no_room) {
		text_add(&t, "a foreign claim left no slot for the target guest (%" PRId64
		         " free, %" PRId64 " target and %" PRId64 " foreign claims)", free, target,
		         foreign);
	} else if (unpause) {
		text_vcpu(&t, ev->b);
		text_add(&t, " unpaused more often than paused (pause count %" PRId64 ")", arg);
	} else {
		text_add(&t, "claims went negative at ");
		if (ev->sub < sizeof(ops) / sizeof(ops[0]) && ops[ev->sub])
			text_add(&t, "%s", ops[ev->sub]);
		else
			text_add(&t, "%u", ev->sub);
		text_add(&t, " (target %" PRId64 ", foreign %" PRId64 ")", target, foreign);
	}
	return add_violation(c, "ring-accounting", ev, t.buf);
}

/* ring-hang (checks/vm_event_hang.sql): a vCPU's state at the end. */
static int ring_hang(struct checker *c, const struct event *ev)
{
	static const char *const names[] = {"paging", "access", "sharing"};
	int64_t count = s64(ev->c), flags = s64(ev->d), wq = s64(ev->e);
	struct text t = { .len = 0 };
	if (count == 0 && flags == 0 && wq == -1)
		return 0;
	text_vcpu(&t, ev->b);
	text_add(&t, " at the end of the run: pause count %" PRId64 ", pause flags 0x%" PRIx64 ", ",
	         count, ev->d);
	if (wq == -1)
		text_add(&t, "on no wait queue");
	else if (wq >= 0 && wq < 3)
		text_add(&t, "asleep on the %s ring's wait queue", names[wq]);
	else
		text_add(&t, "asleep on the kind-%" PRId64 " ring's wait queue", wq);
	return add_violation(c, "ring-hang", ev, t.buf);
}

/* ring-lost-request (checks/vm_event_lost_request.sql). */
static int ring_counts(struct checker *c, const struct event *ev)
{
	if (ev->sub == RING_END) {
		size_t i;
		for (i = 0; i < c->nrings && c->rings[i].ring != ev->a; i++)
			;
		if (i == c->nrings)
			return 0; /* no operation of this ring before its end */
		const struct ring_count *r = &c->rings[i];
		if (r->claims == r->puts + r->releases && r->puts == r->consumed)
			return 0;
		struct text t = { .len = 0 };
		text_ring(&t, ev->a);
		text_add(&t, " at the end: %" PRId64 " claim(s), %" PRId64 " put(s), %" PRId64
		         " release(s); %" PRId64 " request(s) consumed by the helper", r->claims,
		         r->puts, r->releases, r->consumed);
		return add_violation(c, "ring-lost-request", ev, t.buf);
	}
	struct ring_count *r = ring_count_of(c, ev->a);
	if (!r) {
		c->error = "out of memory";
		return 1;
	}
	r->claims += ev->sub == RING_CLAIM;
	r->puts += ev->sub == RING_PUT;
	r->releases += ev->sub == RING_RELEASE;
	r->consumed += ev->sub == RING_CONSUME;
	return 0;
}

static int on_ring(struct checker *c, const struct event *ev)
{
	if (ring_counts(c, ev))
		return 1;
	if (ev->sub == RING_VCPU_END)
		return ring_hang(c, ev);
	return ring_accounting(c, ev);
}

/* ring-lost-wakeup (checks/vm_event_lost_wakeup.sql). */
static int on_ring_stall(struct checker *c, const struct event *ev)
{
	static const char *const kinds[] = {
		[STALL_WAITQ] = "waitq", [STALL_PAUSED_FULL] = "paused_full",
		[STALL_NO_LISTENER] = "no_listener", [STALL_FOREIGN] = "foreign",
	};
	int64_t from = s64(ev->c), to = s64(ev->d), room = s64(ev->e);
	if (room == -1 || (ev->f == 0 && !(to - room > (int64_t)RING_WAKE_BOUND)))
		return 0;
	struct text t = { .len = 0 };
	text_vcpu(&t, ev->b);
	text_add(&t, " asleep on ");
	text_ring(&t, ev->a);
	if (ev->sub >= STALL_WAITQ && ev->sub <= STALL_FOREIGN)
		text_add(&t, " (%s)", kinds[ev->sub]);
	else
		text_add(&t, " (%u)", ev->sub);
	text_add(&t, " from cycle %" PRId64 " had room from cycle %" PRId64 " and ", from, room);
	if (ev->f != 0)
		text_add(&t, "was still asleep at the end");
	else
		text_add(&t, "was woken %" PRId64 " cycles later", to - room);
	return add_violation(c, "ring-lost-wakeup", ev, t.buf);
}

static int chk_event(void *ctx, const struct event *ev)
{
	struct checker *c = ctx;

	if (c->error)
		return 1;
	switch (ev->type) {
	case EV_ACCESS:
		return on_access(c, ev);
	case EV_ENV_STALE:
		return on_env_stale(c, ev);
	case EV_CR_WRITE:
		return on_cr_write(c, ev);
	case EV_ENV_ADD:
		return on_env_add(c, ev);
	case EV_ENV_DROP:
		rec_drop(c, ev->a);
		return 0;
	case EV_TABLE:
		return on_table(c, ev);
	case EV_CHECK:
		return on_check(c, ev);
	case EV_IO_OP:
		return on_io_op(c, ev);
	case EV_TIME_READ:
		return on_time_read(c, ev);
	case EV_TIME_MSG:
		return on_time_msg(c, ev);
	case EV_TIME_UPDATE:
		return on_time_update(c, ev);
	case EV_RING:
		return on_ring(c, ev);
	case EV_RING_STALL:
		return on_ring_stall(c, ev);
	default:
		/* The mask admits nothing else. */
		assert(0);
		return 0;
	}
}

/* --- API ----------------------------------------------------------- */

struct checker *checker_new(bool stop_at_first)
{
	struct checker *c = calloc(1, sizeof(*c));

	if (c) {
		c->stop_first = stop_at_first;
		c->free_rec = NONE;
	}
	return c;
}

void checker_free(struct checker *c)
{
	if (!c)
		return;
	free(c->v);
	free(c->rec);
	map_free(&c->by_id);
	map_free(&c->by_frame);
	free(c->scratch);
	free(c->tagent);
	free(c->rings);
	free(c);
}

struct sink checker_sink(struct checker *c)
{
	return (struct sink){
		.name = "checker",
		.mask = 1ull << EV_ACCESS | 1ull << EV_ENV_STALE |
		        1ull << EV_CR_WRITE | 1ull << EV_ENV_ADD |
		        1ull << EV_ENV_DROP | 1ull << EV_TABLE | 1ull << EV_CHECK |
		        1ull << EV_IO_OP |
		        1ull << EV_TIME_READ | 1ull << EV_TIME_MSG | 1ull << EV_TIME_UPDATE |
		        1ull << EV_RING | 1ull << EV_RING_STALL,
		.ctx = c,
		.event = chk_event,
		.string = NULL,
	};
}

size_t checker_count(const struct checker *c)
{
	return c->nv;
}

const struct violation *checker_get(const struct checker *c, size_t i)
{
	assert(i < c->nv);
	return i < c->nv ? &c->v[i] : NULL;
}

uint64_t checker_total(const struct checker *c)
{
	return c->total;
}

const char *checker_error(const struct checker *c)
{
	return c->error;
}
