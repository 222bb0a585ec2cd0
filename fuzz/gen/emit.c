/* The YAML writer (fuzz/gen/emit.h). One op per line as a flow mapping,
 * in the loader's field names; numbers in hex where they are addresses or
 * bit sets. Every field the op carries is written, defaults included where
 * the loader's default would differ from the struct's value. */
#include "fuzz/gen/emit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz/gen/names.h"
#include "sim/event.h"

struct sbuf {
	char *s;
	size_t n, cap;
	bool oom;
};

static void put(struct sbuf *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	if (!b->s) {
		b->cap = 4096;
		if (!(b->s = malloc(b->cap))) {
			b->oom = true;
			return;
		}
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		va_list ap;
		va_start(ap, fmt);
		int w = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (w < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)w < b->cap - b->n) {
			b->n += (size_t)w;
			return;
		}
		size_t nc = (b->cap + (size_t)w + 1) * 2;
		char *ns = realloc(b->s, nc);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
}

/* A YAML scalar for a string: plain when it is made of safe characters
 * (and not something YAML would read as another type), else double-quoted
 * with escapes. */
static void put_str(struct sbuf *b, const char *s)
{
	bool plain = s[0] != 0;
	for (const char *p = s; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9' && p != s) || *p == '_' || *p == '-' || *p == '.' ||
		        *p == '/';
	static const char *const reserved[] = {"true", "false", "yes", "no", "on", "off",
	                                       "null", "y", "n", NULL};
	for (int i = 0; plain && reserved[i]; i++)
		if (!strcasecmp(s, reserved[i]))
			plain = false;
	if (plain && s[0] == '-')
		plain = false;
	if (plain) {
		put(b, "%s", s);
		return;
	}
	put(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(b, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			put(b, "\\x%02x", *p);
		else
			put(b, "%c", *p);
	}
	put(b, "\"");
}

static const char *size_name(uint32_t log2)
{
	return log2 == 30 ? "1g" : log2 == 21 ? "2m" : "4k";
}

static void put_root(struct sbuf *b, const struct scenario *sc, const char *key, uint32_t idx)
{
	put(b, ", %s: ", key);
	put_str(b, idx < sc->nroots ? sc->roots[idx] : "?");
}

static void put_tri(struct sbuf *b, const char *key, int8_t v)
{
	if (v >= 0)
		put(b, ", %s: %s", key, v ? "true" : "false");
}

static void put_expect(struct sbuf *b, const struct sc_expect *e)
{
	static const char *const paths[] = {"l1", "l2", "walk"};
	if (!e->has)
		return;
	put(b, ", expect: {");
	const char *sep = "";
	if (e->has & EXP_FAULT) {
		const char *f = e->fault == SCF_PF ? "pf" : e->fault == SCF_GP ? "gp"
		              : e->fault == SCF_UD ? "ud" : "none";
		put(b, "fault: %s", f);
		sep = ", ";
	}
	if (e->has & EXP_PA) {
		put(b, "%spa: 0x%" PRIx64, sep, e->pa);
		sep = ", ";
	}
	if (e->has & EXP_PFEC) {
		put(b, "%spfec: 0x%x", sep, e->pfec);
		sep = ", ";
	}
	if ((e->has & EXP_PATH) && e->path >= 0 && e->path <= 2)
		put(b, "%spath: %s", sep, paths[e->path]);
	put(b, "}");
}

static void put_fields(struct sbuf *b, const struct scenario *sc, const struct op *op);

static void put_op(struct sbuf *b, const struct scenario *sc, const struct op *op, bool sub)
{
	put(b, "{op: %s", op_kind_name(op->kind));
	if (!sub && op->cpu > 0)
		put(b, ", cpu: %d", op->cpu);
	put_fields(b, sc, op);
	put_expect(b, &op->expect);
	put(b, "}");
}

static void put_ipi(struct sbuf *b, const struct scenario *sc, const struct op *op)
{
	put(b, ", to: [");
	const char *sep = "";
	for (unsigned c = 0; c < SC_MAX_CPUS; c++)
		if ((op->to[c / 64] >> (c % 64)) & 1) {
			put(b, "%s%u", sep, c);
			sep = ", ";
		}
	put(b, "], run: [");
	for (uint32_t i = 0; i < op->nsub; i++) {
		if (i)
			put(b, ", ");
		put_op(b, sc, &op->sub[i], true);
	}
	put(b, "]");
}

/* The IOMMU ops (scenario/load_iommu.c). */
static void put_io_fields(struct sbuf *b, const struct op *op)
{
	const struct op_io *io = &op->io;
	static const char *const results[] = {"any", "ok", "fault"};
	switch (op->kind) {
	case OP_IO_DOMAIN:
		put(b, ", hw: %s", io->hw ? "true" : "false");
		break;
	case OP_IO_ASSIGN:
		put(b, ", domain: %u, device: 0x%x", op->domain, io->sid);
		break;
	case OP_IO_MAP:
		put(b, ", domain: %u, dfn: 0x%" PRIx64 ", mfn: 0x%" PRIx64 ", order: %u, flags: [%s%s%s]",
		    op->domain, io->dfn, io->mfn, io->order, (io->flags & 1) ? "R" : "",
		    (io->flags & 3) == 3 ? ", " : "", (io->flags & 2) ? "W" : "");
		break;
	case OP_IO_UNMAP:
		put(b, ", domain: %u, dfn: 0x%" PRIx64 ", order: %u, free: %s", op->domain, io->dfn,
		    io->order, io->free ? "true" : "false");
		break;
	case OP_IO_REASSIGN:
		put(b, ", domain: %u, pa: 0x%" PRIx64 ", pages: %" PRIu64, op->domain, io->mfn << 12,
		    io->pages);
		break;
	case OP_IO_HWDOM_INIT:
		put(b, ", domain: %u, pfn: 0x%" PRIx64 ", pages: %" PRIu64, op->domain, io->mfn,
		    io->pages);
		break;
	case OP_IO_FLUSH:
		put(b, ", domain: %u", op->domain);
		break;
	case OP_DMA:
		put(b, ", device: 0x%x, iova: 0x%" PRIx64 ", len: %u, write: %s, result: %s", io->sid,
		    io->iova, io->len, io->write ? "true" : "false", results[io->expect % 3]);
		break;
	case OP_DMA_STREAM:
		put(b, ", device: 0x%x, iova: 0x%" PRIx64 ", pages: %" PRIu64 ", len: %u, period: %"
		    PRIu64 ", count: %" PRIu64 ", write: %s", io->sid, io->iova, io->pages, io->len,
		    io->period, io->count, io->write ? "true" : "false");
		break;
	default: /* OP_IO_WORKLOAD */
		put(b, ", domain: %u, device: 0x%x, dfn: 0x%" PRIx64 ", mfn: 0x%" PRIx64 ", ios: %"
		    PRIu64 ", order: %u, len: %u, window: %" PRIu64 ", cpu_cycles: %" PRIu64,
		    op->domain, io->sid, io->dfn, io->mfn, io->ios, io->order, io->len, io->window,
		    io->cpu_cycles);
		break;
	}
}

/* The vm_event ring ops (scenario/load.c, seed 004). */
static void put_ring_fields(struct sbuf *b, const struct op *op)
{
	static const char *const rings[] = {"paging", "access", "sharing"};
	static const char *const kinds[] = {"?", "populate", "drop", "access", "share",
	                                    "populate_back"};
	static const char *const busy[] = {"fail", "retry", "drain"};
	const char *ring = rings[op->ring % 3];
	put(b, ", domain: %" PRIu32, op->domain);
	switch (op->kind) {
	case OP_RING_ENABLE:
		put(b, ", ring: %s, slots: %" PRIu32, ring, op->slots);
		break;
	case OP_RING_DISABLE:
		put(b, ", ring: %s, on_busy: %s, retries: %" PRIu32 ", delay: %" PRIu64, ring,
		    busy[op->on_busy % 3], op->retries, op->retry);
		break;
	case OP_VM_EVENT:
		put(b, ", vcpu: %" PRIu32 ", kind: %s, count: %" PRIu64 ", gap: %" PRIu64
		       ", gfn: 0x%" PRIx64, op->vcpu, kinds[op->ev_type % 6], op->count, op->gap,
		    op->gfn);
		break;
	case OP_FOREIGN:
		put(b, ", ring: %s, count: %" PRIu64 ", hold: %" PRIu64 ", release: %s, retry: %"
		       PRIu64 ", retries: %" PRIu32, ring, op->count, op->hold,
		    op->release ? "true" : "false", op->retry, op->retries);
		break;
	case OP_HELPER:
		put(b, ", ring: %s, latency: %" PRIu64 ", burst: %" PRIu64 ", count: %" PRIu64, ring,
		    op->latency, op->burst, op->count);
		break;
	default: /* OP_HELPER_STALL */
		put(b, ", ring: %s, cycles: %" PRIu64, ring, op->cycles);
		break;
	}
}

/* The time ops (scenario/load.c, seed 002). */
static void put_time_fields(struct sbuf *b, const struct op *op)
{
	switch (op->kind) {
	case OP_TIME_READ:
		put(b, ", who: %s, count: %" PRIu64 ", every: %" PRIu64,
		    op->acc == SC_READ_HV ? "hv" : "guest", op->count, op->cycles);
		break;
	case OP_TIME_SCHED:
		put(b, ", vcpu: %u", op->vcpu);
		break;
	case OP_TIME_MSG:
		if (op->has_value)
			put(b, ", hv_to: %" PRIu64, op->value);
		else
			put(b, ", vcpu: %u", op->vcpu);
		break;
	default: /* OP_TSC */
		switch (op->type) {
		case TSCE_WRITE: put(b, ", write: %" PRIu64, op->value); break;
		case TSCE_CSTATE: put(b, ", cstate: %" PRIu64, op->cycles); break;
		case TSCE_ADJUST: put(b, ", adjust: %" PRId64, (int64_t)op->value); break;
		default: put(b, ", freq_ppm: %" PRId64, (int64_t)op->value); break;
		}
		break;
	}
}

static void put_fields(struct sbuf *b, const struct scenario *sc, const struct op *op)
{
	switch (op->kind) {
	case OP_PT_NEW:
		put_root(b, sc, "name", op->root);
		break;
	case OP_MAP:
		put_root(b, sc, "root", op->root);
		put(b, ", va: 0x%" PRIx64 ", pa: 0x%" PRIx64 ", size: %s, flags: 0x%" PRIx64, op->va,
		    op->pa, size_name(op->size_log2), op->flags);
		break;
	case OP_UNMAP:
		put_root(b, sc, "root", op->root);
		put(b, ", va: 0x%" PRIx64, op->va);
		break;
	case OP_WRITE_PTE:
		put_root(b, sc, "root", op->root);
		put(b, ", va: 0x%" PRIx64 ", level: %u, value: 0x%" PRIx64, op->va, op->level,
		    op->value);
		break;
	case OP_UNLINK:
		put_root(b, sc, "root", op->root);
		put(b, ", va: 0x%" PRIx64 ", level: %u", op->va, op->level);
		if (op->free_tables)
			put(b, ", free: true");
		if (op->has_save)
			put_root(b, sc, "save", op->save);
		break;
	case OP_CR0:
		put_tri(b, "wp", op->wp);
		break;
	case OP_CR3:
		if (op->has_value) {
			put(b, ", value: 0x%" PRIx64, op->value);
			break;
		}
		put_root(b, sc, "root", op->root);
		put(b, ", pcid: %u", op->pcid);
		if (op->noflush)
			put(b, ", noflush: true");
		break;
	case OP_CR4:
		put_tri(b, "pge", op->pge);
		put_tri(b, "pcide", op->pcide);
		put_tri(b, "smep", op->smep);
		break;
	case OP_INVLPG:
		put(b, ", va: 0x%" PRIx64, op->va);
		break;
	case OP_INVPCID:
		put(b, ", type: %u, pcid: %u, va: 0x%" PRIx64, op->type, op->pcid, op->va);
		break;
	case OP_CLFLUSH:
		put(b, ", pa: 0x%" PRIx64, op->pa);
		break;
	case OP_ACCESS: {
		const char *k = (op->acc & ACC_EXEC) ? "exec" : (op->acc & ACC_WRITE) ? "write"
		                                                                      : "read";
		put(b, ", va: 0x%" PRIx64 ", kind: %s", op->va, k);
		if (op->acc & ACC_USER)
			put(b, ", user: true");
		break;
	}
	case OP_IPI:
		put_ipi(b, sc, op);
		break;
	case OP_DELAY:
		put(b, ", cycles: %" PRIu64, op->cycles);
		break;
	case OP_FREE:
		if (op->has_root)
			put_root(b, sc, "table", op->root);
		else
			put(b, ", pa: 0x%" PRIx64, op->pa);
		break;
	case OP_HV_MAP:
		put(b, ", va: 0x%" PRIx64 ", pa: 0x%" PRIx64 ", count: %" PRIu64 ", flags: 0x%" PRIx64,
		    op->va, op->pa, op->count, op->flags);
		if (op->small)
			put(b, ", small: true");
		break;
	case OP_HV_MODIFY:
		put(b, ", va: 0x%" PRIx64 ", count: %" PRIu64 ", flags: 0x%" PRIx64, op->va, op->count,
		    op->flags);
		break;
	case OP_HV_DESTROY:
		put(b, ", va: 0x%" PRIx64 ", count: %" PRIu64, op->va, op->count);
		break;
	case OP_DOMAIN:
		put(b, ", vcpus: %u", op->vcpu);
		put_tri(b, "xpti", op->xpti);
		break;
	case OP_VCPU_RUN:
		put(b, ", domain: %u, vcpu: %u", op->domain, op->vcpu);
		break;
	case OP_GUEST_MAP:
		put(b, ", va: 0x%" PRIx64 ", pa: 0x%" PRIx64 ", user: %s, flags: 0x%" PRIx64, op->va,
		    op->pa, op->user ? "true" : "false", op->flags);
		break;
	case OP_LACKEY:
		put(b, ", file: ");
		put_str(b, op->file ? op->file : "");
		put(b, ", user: %s, limit: %" PRIu64, op->user ? "true" : "false", op->limit);
		break;
	case OP_IO_DOMAIN:
	case OP_IO_ASSIGN:
	case OP_IO_MAP:
	case OP_IO_UNMAP:
	case OP_IO_REASSIGN:
	case OP_IO_HWDOM_INIT:
	case OP_IO_FLUSH:
	case OP_DMA:
	case OP_DMA_STREAM:
	case OP_IO_WORKLOAD:
		put_io_fields(b, op);
		break;
	case OP_TIME_READ:
	case OP_TIME_SCHED:
	case OP_TIME_MSG:
	case OP_TSC:
		put_time_fields(b, op);
		break;
	case OP_RING_ENABLE:
	case OP_RING_DISABLE:
	case OP_VM_EVENT:
	case OP_FOREIGN:
	case OP_HELPER:
	case OP_HELPER_STALL:
		put_ring_fields(b, op);
		break;
	case OP_WBINVD:
	case OP_RDTSC:
	case OP_BARRIER:
	case OP_QUIESCE:
	case OP_IDLE:
	case OP_SYSCALL:
	case OP__COUNT:
		break;
	}
}

/* machine.costs from the "name=value,..." overrides text. */
static void put_costs(struct sbuf *b, const char *ov)
{
	if (!ov || !ov[0])
		return;
	put(b, ", costs: {");
	const char *p = ov;
	bool first = true;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq)
			put(b, "%s%.*s: %.*s", first ? "" : ", ", (int)(eq - p), p,
			    (int)(len - (size_t)(eq - p) - 1), eq + 1);
		first = false;
		p += len + (comma ? 1 : 0);
	}
	put(b, "}");
}

static void put_hv(struct sbuf *b, const struct sc_hv *hv)
{
	if (!hv->enabled)
		return;
	put(b, "hv: {page1gb: %s, superpages: %s, flush_policy: %s, flush_ceiling: %u, "
	       "directmap: 0x%" PRIx64 ", pcid: %s, xpti: %s",
	    hv->page1gb ? "true" : "false", hv->superpages ? "true" : "false",
	    fz_policy_name(hv->flush_policy), hv->flush_ceiling, hv->directmap_bytes,
	    fz_pcid_name(hv->pcid), hv->xpti ? "true" : "false");
	if (hv->inject) {
		put(b, ", inject: [");
		const char *sep = "";
		for (unsigned i = 0; fz_inject_names[i]; i++)
			if (hv->inject & (1u << i)) {
				put(b, "%s%s", sep, fz_inject_names[i]);
				sep = ", ";
			}
		put(b, "]");
	}
	put(b, "}\n");
}

static void put_iommu(struct sbuf *b, const struct sc_iommu *io)
{
	const char *const *inj = fz_io_inject_names;
	if (!io->enabled)
		return;
	put(b, "iommu: {kind: %s, caching_mode: %s, elide: %s, unmap: %s, deferred_batch: %u, "
	       "levels: %u",
	    io->kind == SC_IOMMU_AMD ? "amd" : "vtd", io->caching_mode ? "true" : "false",
	    io->elide ? "true" : "false", io->unmap == SC_UNMAP_DEFERRED ? "deferred" : "strict",
	    io->deferred_batch, io->levels);
	if (io->iotlb_entries)
		put(b, ", iotlb: {entries: %u, ways: %u}", io->iotlb_entries, io->iotlb_ways);
	if (io->inject) {
		const char *sep = "";
		put(b, ", inject: [");
		for (unsigned i = 0; inj[i]; i++)
			if (io->inject & (1u << i)) {
				put(b, "%s%s", sep, inj[i]);
				sep = ", ";
			}
		put(b, "]");
	}
	put(b, "}\n");
}

/* A per-core list, or the scalar of a per-core draw, in the loader's unit
 * (scale: ppb per ppm for drift). */
static void put_percore(struct sbuf *b, const char *key, const int64_t *list, bool random,
                        int64_t max, int64_t scale, unsigned ncpus)
{
	if (list) {
		put(b, ", %s: [", key);
		for (unsigned i = 0; i < ncpus; i++)
			put(b, "%s%" PRId64, i ? ", " : "", list[i] / scale);
		put(b, "]");
	} else if (random) {
		put(b, ", %s: %" PRId64, key, max / scale);
	}
}

static void put_time(struct sbuf *b, const struct sc_time *t, unsigned ncpus)
{
	static const char *const modes[] = {"global", "percpu", "rendezvous"};
	const char *const *inj = fz_time_inject_names;
	if (!t->enabled)
		return;
	put(b, "time: {mode: %s, clamp: %s, compare: %s, period_ms: %" PRIu64 ", calibrate_ms: %"
	       PRIu64 ", wallclock: %" PRIu64 ", vcpus: %u, platform_hz: %" PRIu64
	       ", platform_read: %u, invariant: %s, host_ppm: %" PRId64 ", load_cycles: %u",
	    modes[t->mode % 3], t->clamp ? "true" : "false", t->compare ? "true" : "false",
	    t->period_ns / 1000000, t->calibrate_ns / 1000000, t->wallclock_sec, t->vcpus,
	    t->platform_hz, t->platform_read, t->invariant ? "true" : "false", t->host_ppb / 1000,
	    t->load_cycles);
	put_percore(b, "offsets", t->offsets, t->offsets_random, (int64_t)t->offset_max, 1, ncpus);
	put_percore(b, "drift_ppm", t->drift_ppb, t->drift_random, t->drift_max_ppb, 1000, ncpus);
	if (t->inject) {
		const char *sep = "";
		put(b, ", inject: [");
		for (unsigned i = 0; inj[i]; i++)
			if (t->inject & (1u << i)) {
				put(b, "%s%s", sep, inj[i]);
				sep = ", ";
			}
		put(b, "]");
	}
	put(b, "}\n");
}

static void put_rings(struct sbuf *b, const struct sc_rings *r)
{
	if (!r->enabled)
		return;
	put(b, "rings: {mode: %s", r->mode ? "pause" : "waitq");
	if (r->inject) {
		const char *sep = "";
		put(b, ", inject: [");
		for (unsigned i = 0; fz_ring_inject_names[i]; i++)
			if (r->inject & (1u << i)) {
				put(b, "%s%s", sep, fz_ring_inject_names[i]);
				sep = ", ";
			}
		put(b, "]");
	}
	put(b, "}\n");
}

static void put_comment(struct sbuf *b, const char *comment)
{
	const char *p = comment;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		put(b, "# %.*s\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
}

char *scenario_emit_yaml(const struct scenario *sc, const char *comment, size_t *len)
{
	struct sbuf b = {0};
	put_comment(&b, comment);
	put(&b, "hvsim: %u\nname: ", SC_VERSION);
	put_str(&b, sc->name ? sc->name : "fuzz-case");
	put(&b, "\n");
	if (sc->description && sc->description[0]) {
		put(&b, "description: ");
		put_str(&b, sc->description);
		put(&b, "\n");
	}
	if (sc->has_seed)
		put(&b, "seed: %" PRIu64 "\n", sc->seed);
	if (sc->negative) {
		put(&b, "negative: ");
		put_str(&b, sc->negative);
		put(&b, "\n");
	}
	put(&b, "machine: {profile: %s, cpus: %u, memory_frames: %" PRIu64, sc->profile_name,
	    sc->ncpus, sc->mem_frames);
	put_costs(&b, sc->overrides);
	put(&b, "}\n");
	put_hv(&b, &sc->hv);
	put_iommu(&b, &sc->iommu);
	put_time(&b, &sc->time, sc->ncpus);
	put_rings(&b, &sc->rings);
	put(&b, "ops:%s\n", sc->nops ? "" : " []");
	for (uint32_t i = 0; i < sc->nops; i++) {
		put(&b, "  - ");
		put_op(&b, sc, &sc->ops[i], false);
		put(&b, "\n");
	}
	if (b.oom || !b.s) {
		free(b.s);
		return NULL;
	}
	if (len)
		*len = b.n;
	return b.s;
}
