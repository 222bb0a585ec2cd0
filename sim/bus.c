#include "sim/bus.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *b)
{
	memset(b, 0, sizeof(*b));
	b->strings[0] = strdup("");
	b->nstrings = 1;
	b->digest = 0xcbf29ce484222325ull;
}

void bus_fini(struct bus *b)
{
	for (unsigned i = 0; i < b->nstrings; i++)
		free(b->strings[i]);
	memset(b, 0, sizeof(*b));
}

int bus_attach(struct bus *b, const struct sink *s)
{
	if (b->nsinks == BUS_MAX_SINKS)
		return -1;
	b->sinks[b->nsinks++] = *s;
	b->mask |= s->mask;
	/* A sink attached late still learns every string. */
	if (s->string)
		for (unsigned i = 0; i < b->nstrings; i++)
			s->string(s->ctx, i, b->strings[i]);
	return 0;
}

uint32_t bus_intern(struct bus *b, const char *s)
{
	for (unsigned i = 0; i < b->nstrings; i++)
		if (strcmp(b->strings[i], s) == 0)
			return i;
	assert(b->nstrings < BUS_MAX_STRINGS);
	if (b->nstrings == BUS_MAX_STRINGS)
		return 0;
	uint32_t id = b->nstrings++;
	b->strings[id] = strdup(s);
	for (unsigned k = 0; k < b->nsinks; k++)
		if (b->sinks[k].string)
			b->sinks[k].string(b->sinks[k].ctx, id, s);
	return id;
}

const char *bus_string(const struct bus *b, uint32_t id)
{
	return id < b->nstrings ? b->strings[id] : "?";
}

/* FNV-1a over the event's field VALUES, one 64-bit word at a time (the
 * narrow fields packed into words), so the digest is the same on any host
 * byte order and costs ten multiplies per event. */
static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h ^= w;
	return h * 0x100000001b3ull;
}

static uint64_t event_digest(uint64_t h, const struct event *e)
{
	h = mix(h, e->seq);
	h = mix(h, e->cycle);
	h = mix(h, (uint64_t)(uint32_t)e->cpu | (uint64_t)e->type << 32 | (uint64_t)e->sub << 48);
	h = mix(h, e->a);
	h = mix(h, e->b);
	h = mix(h, e->c);
	h = mix(h, e->d);
	h = mix(h, e->e);
	h = mix(h, e->f);
	return mix(h, (uint64_t)e->caller | (uint64_t)e->reserved << 32);
}

uint64_t bus_emit(struct bus *b, struct event *ev)
{
	assert(ev->type > EV_NONE && ev->type < EV__COUNT);
	assert(ev->reserved == 0);
	ev->seq = ++b->seq;
	b->counts[ev->type]++;
	b->digest = event_digest(b->digest, ev);
	uint64_t bit = 1ull << ev->type;
	if (!(b->mask & bit))
		return ev->seq;
	for (unsigned k = 0; k < b->nsinks; k++) {
		const struct sink *s = &b->sinks[k];
		if ((s->mask & bit) && s->event(s->ctx, ev))
			b->stop = true;
	}
	return ev->seq;
}

static const char *const ev_names[EV__COUNT] = {
	[EV_NONE] = "none",       [EV_ACCESS] = "access",
	[EV_FILL] = "fill",       [EV_EVICT] = "evict",
	[EV_WALK] = "walk",       [EV_FAULT] = "fault",
	[EV_FLUSH] = "flush",     [EV_PTE_WRITE] = "pte_write",
	[EV_CR_WRITE] = "cr_write", [EV_IPI] = "ipi",
	[EV_QUIESCE] = "quiesce", [EV_ENV_ADD] = "env_add",
	[EV_ENV_DROP] = "env_drop", [EV_ENV_STALE] = "env_stale",
	[EV_TABLE] = "table",     [EV_CACHE_FLUSH] = "cache_flush",
	[EV_EXPECT] = "expect",   [EV_NOTE] = "note",
	[EV_CHECK] = "check",     [EV_HV_OP] = "hv_op",
	[EV_DMA] = "dma",         [EV_IOTLB_FILL] = "iotlb_fill",
	[EV_IOMMU_INV] = "iommu_inv", [EV_IO_OP] = "io_op",
	[EV_IO_OWN] = "io_own",
	[EV_TIME_READ] = "time_read", [EV_TIME_UPDATE] = "time_update",
	[EV_TIME_MSG] = "time_msg", [EV_TSC] = "tsc",
	[EV_RING] = "ring",       [EV_RING_STALL] = "ring_stall",
};

const char *ev_type_name(unsigned type)
{
	return type < EV__COUNT && ev_names[type] ? ev_names[type] : "?";
}

static const char *const instr_names[] = {
	"none",     "invlpg",   "invpcid0", "invpcid1", "invpcid2",
	"invpcid3", "mov_cr3",  "mov_cr4",  "mov_cr0",  "page_fault",
	"clflush",  "wbinvd",   "access",
};

const char *instr_name(unsigned instr)
{
	return instr < sizeof(instr_names) / sizeof(instr_names[0])
	               ? instr_names[instr]
	               : "?";
}
