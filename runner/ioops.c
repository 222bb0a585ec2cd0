/* The scenario's IOMMU ops (issue 6): each calls the hypervisor's IOMMU
 * layer (hv/iommu) or the DMA engine, keeps the reference in step with
 * what was asked, and, when a hypervisor operation returns, records it
 * (EV_IO_OP) and checks the IOTLB envelope over its range. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runner/ioworld.h"
#include "runner/ops.h"
#include "runner/platform.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/vec.h"

#define NO_PA UINT64_MAX
#define MAX_ZOMBIES (1u << 24)

/* What the operation started from (for EV_IO_OP). */
struct op_mark {
	struct iommu_stats hw;
	struct hv_iommu_stats hv;
	uint64_t t0;
	uint32_t domain;
};

static struct ioworld *world(struct op_ctx *x)
{
	return x->plat ? x->plat->io : NULL;
}

static void mark(struct ioworld *w, unsigned cpu, uint32_t domain, struct op_mark *mk)
{
	mk->hw = w->unit.st;
	mk->hv = w->hv.st;
	mk->t0 = w->m->cpus[cpu].clock;
	mk->domain = domain;
	w->busy = (int)domain;
}

static uint64_t iotlb_invs(const struct iommu_stats *s)
{
	return s->inv_iotlb_page + s->inv_iotlb_domain + s->inv_iotlb_global;
}

/* The flush type the wrapper asked for, highest of this operation's. */
static uint64_t op_type(const struct ioworld *w, const struct op_mark *mk)
{
	for (int t = IOMMU_FLUSH_MODIFIED; t > IOMMU_FLUSH_NONE; t--)
		if (w->hv.st.by_type[t] != mk->hv.by_type[t])
			return (uint64_t)t;
	return IOMMU_FLUSH_NONE;
}

/* The envelope, over [dfn, dfn + pages) of the domain, against the
 * reference: what may still be served must be what is mapped. */
static void env_check(struct ioworld *w, uint32_t domain, uint64_t dfn, uint64_t pages)
{
	uint16_t did = w->hv.dom[domain].did;
	for (uint64_t i = 0; i < pages; i++) {
		const struct ioref *r = ioworld_ref(w, domain, dfn + i);
		if (r && r->state == IOREF_ZOMBIE)
			continue; /* the deferred flush is still due */
		bool np = !r;
		uint64_t pa = r ? r->mfn << 12 : 0;
		unsigned perm = r ? r->flags & 3 : 0;
		struct ioenv_verdict v = ioenv_check(&w->unit.env, did, (dfn + i) << 12, np, pa, perm);
		if (v.may_stale)
			ioworld_check_event(w, CHECK_IO_ENV, (dfn + i) << 12, r ? pa : NO_PA,
			                    v.may_np ? NO_PA : v.stale_pa, UINT64_MAX, domain,
			                    w->m->cpus[0].clock);
	}
}

static void op_done(struct ioworld *w, unsigned cpu, unsigned kind, uint64_t dfn, uint64_t mfn,
                    uint64_t pages, int rc, const struct op_mark *mk)
{
	w->busy = -1;
	struct event ev = machine_event(w->m, EV_IO_OP, (int)cpu);
	ev.sub = (uint16_t)kind;
	ev.a = dfn;
	ev.b = mfn;
	ev.c = pages;
	ev.d = mk->domain;
	uint64_t invs = iotlb_invs(&w->unit.st) - iotlb_invs(&mk->hw);
	ev.e = op_type(w, mk) | (invs & 0x7fffff) << IOOP_E_INV_SHIFT |
	       (w->elide ? IOOP_E_ELIDE : 0);
	ev.f = (uint64_t)(int64_t)rc;
	machine_emit(w->m, &ev);
	uint64_t cycles = w->m->cpus[cpu].clock - mk->t0;
	w->st.op_cycles += cycles;
	if (kind == IOOP_MAP || kind == IOOP_UNMAP) {
		uint32_t order = 0;
		while (order < 63 && (1ull << order) < pages)
			order++;
		ioworld_row(w, kind, order, (uint32_t)op_type(w, mk), invs, cycles);
	}
}

/* The deferred queue was flushed (explicitly or by a full batch): the
 * domain's zombies are gone, and the envelope must agree. */
static void zombies_flushed(struct ioworld *w, uint32_t domain)
{
	uint32_t kept = 0;
	for (uint32_t i = 0; i < w->nzombies; i++) {
		uint64_t key = w->zombies[i];
		uint32_t d = (uint32_t)(key >> 45);
		uint64_t dfn = key & ((1ull << 45) - 1);
		if (d != domain) {
			w->zombies[kept++] = key;
			continue;
		}
		const struct ioref *r = ioworld_ref(w, d, dfn);
		if (r && r->state == IOREF_ZOMBIE) {
			ioworld_ref_clear(w, d, dfn);
			env_check(w, d, dfn, 1);
		}
	}
	w->nzombies = kept;
}

static int domain_of(struct op_ctx *x, const struct op *op, struct hv_iommu_domain **d)
{
	struct ioworld *w = world(x);
	if (op->domain >= w->hv.ndom)
		return op_input_error(x, op, "no I/O domain %" PRIu32 " (%" PRIu32 " created)",
		                      op->domain, w->hv.ndom);
	*d = &w->hv.dom[op->domain];
	return 0;
}

static int hv_failed(struct op_ctx *x, const struct op *op, int rc)
{
	if (rc == -ENOMEM)
		return op_input_error(x, op, "the hypervisor ran out of frames for I/O page "
		                      "tables (machine.memory_frames)");
	return op_input_error(x, op, "the hypervisor refused the operation (%s)",
	                      strerror(-rc));
}

/* ---- map / unmap ------------------------------------------------------ */

static int do_map(struct op_ctx *x, const struct op *op, unsigned cpu, uint64_t dfn,
                  uint64_t mfn, unsigned order, uint32_t flags)
{
	struct ioworld *w = world(x);
	struct hv_iommu_domain *d;
	int rc = domain_of(x, op, &d);
	if (rc)
		return rc;
	uint64_t n = 1ull << order;
	/* Frames nobody owns become the domain's before the map starts: a
	 * domain maps its own memory, and a DMA that lands while the map is
	 * under way may already reach them. */
	for (uint64_t i = 0; i < n; i++)
		if (!ioworld_owner(w, mfn + i))
			ioworld_own(w, (int)op->domain, mfn + i, 1);
	struct op_mark mk;
	mark(w, cpu, op->domain, &mk);
	rc = hv_iommu_map(&w->hv, cpu, d, dfn, mfn, order, flags);
	/* The reference: what was asked, unless the hypervisor refused, in
	 * which case its error path unmapped everything it had mapped. */
	for (uint64_t i = 0; i < n; i++) {
		if (rc)
			ioworld_ref_clear(w, op->domain, dfn + i);
		else
			ioworld_ref_set(w, op->domain, dfn + i, mfn + i, flags, IOREF_MAPPED);
	}
	op_done(w, cpu, IOOP_MAP, dfn, mfn, n, rc, &mk);
	env_check(w, op->domain, dfn, n);
	if (rc == -ENOMEM)
		return hv_failed(x, op, rc);
	return 0; /* -EINVAL etc.: the domain crashed, as in Xen; go on */
}

static int do_unmap(struct op_ctx *x, const struct op *op, unsigned cpu, uint64_t dfn,
                    unsigned order, bool free_frames)
{
	struct ioworld *w = world(x);
	struct hv_iommu_domain *d;
	int rc = domain_of(x, op, &d);
	if (rc)
		return rc;
	uint64_t n = 1ull << order;
	struct op_mark mk;
	mark(w, cpu, op->domain, &mk);
	rc = hv_iommu_unmap(&w->hv, cpu, d, dfn, order);
	bool flushed_all = w->hv.st.flush_all_calls != mk.hv.flush_all_calls;
	for (uint64_t i = 0; i < n; i++) {
		const struct ioref *r = ioworld_ref(w, op->domain, dfn + i);
		if (!r)
			continue;
		uint64_t mfn = r->mfn;
		if (free_frames && ioworld_owner(w, mfn) == op->domain + 1)
			ioworld_own(w, -1, mfn, 1);
		if (w->deferred && w->nzombies < MAX_ZOMBIES) {
			ioworld_ref_set(w, op->domain, dfn + i, mfn, r->flags, IOREF_ZOMBIE);
			VEC_RESERVE(w->zombies, w->capzombies, w->nzombies, 64);
			w->zombies[w->nzombies++] = (uint64_t)op->domain << 45 | (dfn + i);
		} else {
			ioworld_ref_clear(w, op->domain, dfn + i);
		}
	}
	op_done(w, cpu, IOOP_UNMAP, dfn, 0, n, rc, &mk);
	if (flushed_all)
		zombies_flushed(w, op->domain);
	env_check(w, op->domain, dfn, n);
	return 0;
}

/* ---- the other ops ------------------------------------------------------ */

static int dev_index(struct ioworld *w, uint16_t sid)
{
	for (uint32_t i = 0; i < w->dma.ndev; i++)
		if (w->dma.dev[i].sid == sid)
			return (int)i;
	return dma_device_add(&w->dma, sid, 0);
}

static int do_assign(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ioworld *w = world(x);
	struct hv_iommu_domain *d;
	int rc = domain_of(x, op, &d);
	if (rc)
		return rc;
	int dev = dev_index(w, op->io.sid);
	if (dev < 0)
		return op_input_error(x, op, "too many devices (at most %u)", DMA_MAX_DEVICES);
	struct op_mark mk;
	mark(w, cpu, op->domain, &mk);
	rc = hv_iommu_assign(&w->hv, cpu, d, op->io.sid);
	if (!rc)
		w->dev_domain[dev] = (int32_t)op->domain;
	op_done(w, cpu, IOOP_ASSIGN, op->io.sid, 0, 0, rc, &mk);
	return rc ? hv_failed(x, op, rc) : 0;
}

static int do_domain(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ioworld *w = world(x);
	struct op_mark mk;
	mark(w, cpu, w->hv.ndom, &mk);
	struct hv_iommu_domain *d = hv_iommu_domain_create(&w->hv, cpu, op->io.hw);
	op_done(w, cpu, IOOP_DOMAIN, 0, 0, 0, d ? 0 : -ENOMEM, &mk);
	if (!d)
		return op_input_error(x, op, "the hypervisor could not create the I/O domain "
		                      "(out of frames or domains)");
	return 0;
}

static int do_hwdom(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ioworld *w = world(x);
	struct hv_iommu_domain *d;
	int rc = domain_of(x, op, &d);
	if (rc)
		return rc;
	if (!d->hw)
		return op_input_error(x, op, "I/O domain %" PRIu32 " is not the hardware "
		                      "domain (io_domain hw: true)", op->domain);
	struct op_mark mk;
	mark(w, cpu, op->domain, &mk);
	rc = hv_iommu_hwdom_init(&w->hv, cpu, d, op->io.mfn, op->io.pages);
	for (uint64_t i = 0; i < op->io.pages && !rc; i++)
		ioworld_ref_set(w, op->domain, op->io.mfn + i, op->io.mfn + i, 3, IOREF_MAPPED);
	if (!rc)
		ioworld_own(w, (int)op->domain, op->io.mfn, op->io.pages);
	op_done(w, cpu, IOOP_HWDOM_INIT, op->io.mfn, op->io.mfn, op->io.pages, rc, &mk);
	env_check(w, op->domain, op->io.mfn, op->io.pages);
	return rc ? hv_failed(x, op, rc) : 0;
}

static int do_flush(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ioworld *w = world(x);
	struct hv_iommu_domain *d;
	int rc = domain_of(x, op, &d);
	if (rc)
		return rc;
	struct op_mark mk;
	mark(w, cpu, op->domain, &mk);
	rc = hv_iommu_flush_deferred(&w->hv, cpu, d);
	op_done(w, cpu, IOOP_FLUSH, 0, 0, 0, rc, &mk);
	zombies_flushed(w, op->domain);
	return 0;
}

static int do_dma(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ioworld *w = world(x);
	int dev = dev_index(w, op->io.sid);
	if (dev < 0)
		return op_input_error(x, op, "too many devices (at most %u)", DMA_MAX_DEVICES);
	uint64_t now = w->m->cpus[cpu].clock;
	ioworld_catch_up(w, now);
	struct dma_result r = dma_transfer(&w->dma, (uint32_t)dev, op->io.iova, op->io.len,
	                                   op->io.write, now);
	if (op->io.expect == SC_DMA_OK && r.faults)
		return op_expect_fail(x, op, cpu, r.faults, 0, "%" PRIu32 " of %" PRIu32
		                      " pieces of the DMA at iova 0x%" PRIx64 " faulted, "
		                      "expected none", r.faults, r.pieces, op->io.iova);
	if (op->io.expect == SC_DMA_FAULT && r.ok)
		return op_expect_fail(x, op, cpu, r.ok, 0, "%" PRIu32 " of %" PRIu32 " pieces "
		                      "of the DMA at iova 0x%" PRIx64 " went through (first to "
		                      "pa 0x%" PRIx64 "), expected a fault", r.ok, r.pieces,
		                      op->io.iova, r.first_pa);
	return 0;
}

static int do_stream(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ioworld *w = world(x);
	int dev = dev_index(w, op->io.sid);
	if (dev < 0 || dma_stream_add(&w->dma, (uint32_t)dev, op->io.iova, op->io.pages,
	                              op->io.len, op->io.period, op->io.count, op->io.write,
	                              w->m->cpus[cpu].clock) < 0)
		return op_input_error(x, op, "too many DMA streams or devices (at most %u)",
		                      DMA_MAX_STREAMS);
	return 0;
}

static int do_reassign(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	(void)cpu;
	struct ioworld *w = world(x);
	if (op->domain >= w->hv.ndom)
		return op_input_error(x, op, "no I/O domain %" PRIu32, op->domain);
	ioworld_own(w, (int)op->domain, op->io.mfn, op->io.pages);
	return 0;
}

/* A flush-bound I/O loop (the seed's question, hw-facts §3.3): each I/O
 * maps a buffer, the device writes it, and it is unmapped again; buffers
 * rotate through a window so that deferred mode never reuses an IOVA
 * before its flush. cpu_cycles is the rest of the I/O path per request.
 * One I/O per scheduler step (x->again), so the CPUs' workloads
 * interleave by time and contend for the unit's one queue. */
static int do_workload(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ioworld *w = world(x);
	struct cpu *c = &w->m->cpus[cpu];
	int dev = dev_index(w, op->io.sid);
	if (dev < 0)
		return op_input_error(x, op, "too many devices (at most %u)", DMA_MAX_DEVICES);
	uint64_t i = w->wl_done[cpu], step = 1ull << op->io.order;
	if (i == 0)
		w->wl_t0[cpu] = c->clock;
	uint64_t t0 = c->clock;
	uint64_t k = (i % op->io.window) * step;
	int rc = do_map(x, op, cpu, op->io.dfn + k, op->io.mfn + k, op->io.order, 3);
	if (rc)
		return rc;
	ioworld_catch_up(w, c->clock);
	dma_transfer(&w->dma, (uint32_t)dev, (op->io.dfn + k) << 12, op->io.len, true, c->clock);
	cpu_charge(c, op->io.cpu_cycles);
	rc = do_unmap(x, op, cpu, op->io.dfn + k, op->io.order, false);
	if (rc)
		return rc;
	w->st.ios++;
	w->st.io_cycles += c->clock - t0;
	if (++w->wl_done[cpu] < op->io.ios) {
		x->again = true;
		return 0;
	}
	w->wl_done[cpu] = 0; /* the next workload op on this CPU starts anew */
	if (!w->st.io_t1 || w->wl_t0[cpu] < w->st.io_t0)
		w->st.io_t0 = w->wl_t0[cpu];
	if (c->clock > w->st.io_t1)
		w->st.io_t1 = c->clock;
	if (!((w->st.io_cpu_mask[cpu / 64] >> (cpu % 64)) & 1)) {
		w->st.io_cpu_mask[cpu / 64] |= 1ull << (cpu % 64);
		w->st.io_cpus++;
	}
	return 0;
}

int io_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct ioworld *w = world(x);
	if (!w)
		return op_input_error(x, op, "the scenario has no iommu: section");
	w->op_index = (uint32_t)(op - x->sc->ops);
	ioworld_catch_up(w, w->m->cpus[cpu].clock);
	switch (op->kind) {
	case OP_IO_DOMAIN: return do_domain(x, op, cpu);
	case OP_IO_ASSIGN: return do_assign(x, op, cpu);
	case OP_IO_MAP:
		return do_map(x, op, cpu, op->io.dfn, op->io.mfn, op->io.order, op->io.flags);
	case OP_IO_UNMAP: return do_unmap(x, op, cpu, op->io.dfn, op->io.order, op->io.free);
	case OP_IO_REASSIGN: return do_reassign(x, op, cpu);
	case OP_IO_HWDOM_INIT: return do_hwdom(x, op, cpu);
	case OP_IO_FLUSH: return do_flush(x, op, cpu);
	case OP_DMA: return do_dma(x, op, cpu);
	case OP_DMA_STREAM: return do_stream(x, op, cpu);
	case OP_IO_WORKLOAD: return do_workload(x, op, cpu);
	default: return op_input_error(x, op, "internal: not an IOMMU op");
	}
}
