/* Replay: re-execute a trace's scenario, taking every free choice from the
 * trace, and compare each event the run emits with the trace's, in order.
 * The first difference is the divergence reported; the run still goes to
 * its end (choices then come from the PRNG), so a --db recording is
 * complete and can be diffed against the original. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runner/run.h"
#include "scenario/scenario.h"
#include "trace/format.h"
#include "trace/trace.h"

/* Payload field names per event type, as in sim/event.h's table. */
static const char *const field_names[EV__COUNT][6] = {
	[EV_ACCESS] = {"va", "pa", "pcid", "path", "flags", "cycles"},
	[EV_FILL] = {"va", "pa", "pcid", "log2", "global", "level"},
	[EV_EVICT] = {"va", "pa", "pcid", "log2", "global", "level"},
	[EV_WALK] = {"va", "pa", "pcid", "levels", "pfec", "cycles"},
	[EV_FAULT] = {"operand", "error", "instr", "-", "-", "-"},
	[EV_FLUSH] = {"va", "pcid", "removed_tlb", "removed_env", "stale", "scope"},
	[EV_PTE_WRITE] = {"entry", "old", "new", "va", "flags", "table"},
	[EV_CR_WRITE] = {"old", "new", "faulted", "-", "-", "-"},
	[EV_IPI] = {"from", "to", "id", "latency", "-", "-"},
	[EV_QUIESCE] = {"point", "stale", "-", "-", "-", "-"},
	[EV_ENV_ADD] = {"record", "pcid", "va", "log2", "level", "old"},
	[EV_ENV_DROP] = {"record", "flush", "class", "-", "-", "-"},
	[EV_ENV_STALE] = {"record", "pcid", "va", "log2", "reason", "old"},
	[EV_TABLE] = {"frame", "level", "links", "env_refs", "-", "-"},
	[EV_CACHE_FLUSH] = {"pa", "-", "-", "-", "-", "-"},
	[EV_EXPECT] = {"op", "actual", "expected", "-", "-", "-"},
	[EV_NOTE] = {"arg", "-", "-", "-", "-", "-"},
	[EV_DMA] = {"iova", "pa", "sid_did", "path", "dev_len", "unit"},
	[EV_IOTLB_FILL] = {"iova", "pa", "did", "log2", "perm", "unit"},
	[EV_IOMMU_INV] = {"did", "base", "log2", "removed", "removed_env", "unit_cmd"},
	[EV_IO_OP] = {"dfn", "mfn", "pages", "domain", "type_invs", "rc"},
	[EV_IO_OWN] = {"domain", "pa", "pages", "-", "-", "-"},
	[EV_TIME_READ] = {"agent", "value", "version", "retries", "flags", "tsc"},
	[EV_TIME_UPDATE] = {"record", "stime", "tsc_stamp", "version", "wc_sec", "wc_usec"},
	[EV_TIME_MSG] = {"msg", "from", "to", "stamp", "cpu", "-"},
	[EV_TSC] = {"before", "after", "arg", "-", "-", "-"},
	[EV_RING] = {"ring", "vcpu", "free", "target", "foreign", "arg"},
	[EV_RING_STALL] = {"ring", "vcpu", "from", "to", "room", "unfinished"},
};

void trace_describe_event(const struct event *ev, char *buf, size_t cap)
{
	const uint64_t v[6] = {ev->a, ev->b, ev->c, ev->d, ev->e, ev->f};
	int n = snprintf(buf, cap, "#%" PRIu64 " %s", ev->seq, ev_type_name(ev->type));
	if (ev->type == EV_FLUSH || ev->type == EV_ENV_DROP)
		n += snprintf(buf + n, cap > (size_t)n ? cap - n : 0, "(%s)", instr_name(ev->sub));
	else
		n += snprintf(buf + n, cap > (size_t)n ? cap - n : 0, "(%u)", ev->sub);
	n += snprintf(buf + n, cap > (size_t)n ? cap - n : 0, " cpu %d cycle %" PRIu64, ev->cpu,
	              ev->cycle);
	for (int i = 0; i < 6 && ev->type < EV__COUNT; i++) {
		const char *name = field_names[ev->type][i];
		if (!name || (name[0] == '-' && !v[i]))
			continue;
		n += snprintf(buf + n, cap > (size_t)n ? cap - n : 0, " %s=0x%" PRIx64, name, v[i]);
	}
	if ((size_t)n < cap)
		snprintf(buf + n, cap - n, " caller=%u", ev->caller);
}

struct replay {
	struct trace_reader *r;
	struct trace_record next;
	bool have, ended;
	struct replay_result *res;
	uint64_t last_seq; /* seq of the last event compared equal */
};

/* The next event or choice record (strings only name callers). */
static bool peek(struct replay *p)
{
	while (!p->have && !p->ended) {
		if (trace_next(p->r, &p->next) == 0)
			p->ended = true;
		else if (p->next.tag != TR_STRING)
			p->have = true;
	}
	return p->have;
}

static void diverge(struct replay *p, uint64_t seq, uint64_t cycle, int32_t cpu,
                    const char *expected, const char *actual)
{
	struct replay_result *res = p->res;
	if (res->diverged)
		return;
	res->diverged = true;
	res->seq = seq;
	res->cycle = cycle;
	res->cpu = cpu;
	snprintf(res->expected, sizeof(res->expected), "%s", expected);
	snprintf(res->actual, sizeof(res->actual), "%s", actual);
}

static const char *choice_name(unsigned kind)
{
	return kind == CHOICE_SCHED ? "scheduling choice" : kind == CHOICE_JITTER ? "jitter draw" :
	                                                                           "free choice";
}

static bool same_event(const struct event *a, const struct event *b)
{
	return a->seq == b->seq && a->cycle == b->cycle && a->cpu == b->cpu &&
	       a->type == b->type && a->sub == b->sub && a->a == b->a && a->b == b->b &&
	       a->c == b->c && a->d == b->d && a->e == b->e && a->f == b->f &&
	       a->caller == b->caller;
}

static int on_event(void *ctx, const struct event *ev)
{
	struct replay *p = ctx;
	if (p->res->diverged)
		return 0;
	char exp[256], act[256];
	if (peek(p) && p->next.tag == TR_EVENT && same_event(&p->next.ev, ev)) {
		p->have = false;
		p->last_seq = ev->seq;
		return 0;
	}
	/* A difference: only now is it worth describing the events. */
	trace_describe_event(ev, act, sizeof(act));
	if (!peek(p)) {
		diverge(p, ev->seq, ev->cycle, ev->cpu, "the end of the trace", act);
		return 0;
	}
	if (p->next.tag == TR_CHOICE) {
		snprintf(exp, sizeof(exp), "a %s among %" PRIu64 " before event #%" PRIu64,
		         choice_name(p->next.kind), p->next.bound, ev->seq);
		diverge(p, ev->seq, ev->cycle, ev->cpu, exp, act);
		return 0;
	}
	trace_describe_event(&p->next.ev, exp, sizeof(exp));
	diverge(p, ev->seq, ev->cycle, ev->cpu, exp, act);
	return 0;
}

static bool on_choice(void *ctx, unsigned kind, uint64_t bound, uint64_t *value)
{
	struct replay *p = ctx;
	if (p->res->diverged)
		return false;
	char exp[256], act[256];
	snprintf(act, sizeof(act), "a %s among %" PRIu64, choice_name(kind), bound);
	if (!peek(p)) {
		diverge(p, p->last_seq + 1, 0, -1, "the end of the trace", act);
		return false;
	}
	if (p->next.tag == TR_EVENT) {
		trace_describe_event(&p->next.ev, exp, sizeof(exp));
		diverge(p, p->next.ev.seq, p->next.ev.cycle, p->next.ev.cpu, exp, act);
		return false;
	}
	if (p->next.kind != kind || p->next.bound != bound || p->next.value >= bound) {
		snprintf(exp, sizeof(exp), "a %s among %" PRIu64, choice_name(p->next.kind),
		         p->next.bound);
		diverge(p, p->last_seq + 1, 0, -1, exp, act);
		return false;
	}
	p->have = false;
	*value = p->next.value;
	return true;
}

static int finish(struct replay *p, const struct run_summary *sum)
{
	struct replay_result *res = p->res;
	res->events = sum->events;
	res->digest = sum->digest;
	res->run_exit = sum->exit_code;
	if (!res->diverged && peek(p)) {
		char exp[256];
		if (p->next.tag == TR_EVENT)
			trace_describe_event(&p->next.ev, exp, sizeof(exp));
		else
			snprintf(exp, sizeof(exp), "a %s", choice_name(p->next.kind));
		diverge(p, p->next.tag == TR_EVENT ? p->next.ev.seq : p->last_seq + 1,
		        p->next.tag == TR_EVENT ? p->next.ev.cycle : 0,
		        p->next.tag == TR_EVENT ? p->next.ev.cpu : -1, exp, "the end of the run");
	}
	/* Every event compared equal implies equal digests; check anyway. */
	if (!res->diverged && (res->digest != res->trace_digest || res->events != res->trace_events))
		diverge(p, res->events, 0, -1, "the trace's digest", "another digest");
	return res->diverged ? 1 : 0;
}

static const void *replay_file(void *ctx, const char *name, size_t *len)
{
	return trace_file(ctx, name, len);
}

int trace_replay(const char *trace_path, const char *db_path, struct replay_result *res,
                 char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	struct trace_error te;
	struct trace_reader *r;
	if (trace_open(trace_path, &r, &te) != 0) {
		snprintf(err, errlen, "%s: byte %" PRIu64 ": %s", trace_path, te.offset, te.msg);
		return 2;
	}
	res->trace_events = trace_nevents(r);
	res->trace_digest = trace_digest(r);
	size_t len;
	const char *text = trace_scenario(r, &len);
	const struct trace_header *h = trace_header_of(r);
	char name[1100];
	snprintf(name, sizeof(name), "%s#%s", trace_path,
	         h->scenario_path[0] ? h->scenario_path : "scenario");
	struct scenario sc;
	struct sc_error se;
	if (scenario_load_string(name, text, len, &sc, &se) != 0) {
		snprintf(err, errlen, "%s: the trace's scenario does not load here: %s", trace_path,
		         se.msg);
		trace_close(r);
		return 2;
	}
	struct replay p = {.r = r, .res = res};
	struct sink cmp = {.name = "replay", .mask = ~0ull, .ctx = &p, .event = on_event};
	struct choice_hooks ch = {.ctx = &p, .replay = on_choice};
	struct run_opts o = {.seed = h->seed, .has_seed = true, .db_path = db_path,
	                     .extra = &cmp, .nextra = 1, .choices = &ch,
	                     .file_get = replay_file, .file_ctx = r};
	struct run_summary sum;
	int rc = run_scenario(&sc, &o, &sum, err, errlen);
	if (rc != 2)
		rc = finish(&p, &sum);
	scenario_free(&sc);
	trace_close(r);
	return rc;
}
