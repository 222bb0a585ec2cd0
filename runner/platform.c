/* The hypervisor core's arch interface over the simulated machine, and the
 * hypervisor scenario ops (hv_map, hv_modify, hv_destroy). */
#include "runner/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/ioworld.h"
#include "runner/ops.h"
#include "runner/ring.h"
#include "sim/cpu/cpu.h"
#include "sim/event.h"
#include "sim/vec.h"

/* Xen's PAGE_HYPERVISOR in 4 KiB form (hv/mm/page.h): P RW A D G NX. */
#define PAGE_HYPERVISOR_FLAGS_4K (0x163ull | (1ull << 63))
#define HV_MAP_SMALL_PAGES (1ull << 9) /* MAP_SMALL_PAGES, hv/mm/page.h */
#define MEMTYPE_4K ((1ull << 3) | (1ull << 4) | (1ull << 7)) /* PWT PCD PAT */

static struct platform *P(void *ctx) { return ctx; }

static uint64_t a_read_cr3(void *ctx, unsigned cpu) { return P(ctx)->m->cpus[cpu].cr3; }
static uint64_t a_read_cr4(void *ctx, unsigned cpu) { return P(ctx)->m->cpus[cpu].cr4; }

static int a_write_cr3(void *ctx, unsigned cpu, uint64_t v)
{
	return cpu_mov_cr3(P(ctx)->m, cpu, v);
}

static int a_write_cr4(void *ctx, unsigned cpu, uint64_t v)
{
	return cpu_mov_cr4(P(ctx)->m, cpu, v);
}

static int a_invlpg(void *ctx, unsigned cpu, uint64_t va)
{
	return cpu_invlpg(P(ctx)->m, cpu, va);
}

static int a_invpcid(void *ctx, unsigned cpu, unsigned type, uint64_t pcid, uint64_t va)
{
	return cpu_invpcid(P(ctx)->m, cpu, type, pcid, va);
}

static void line_flushed(struct platform *p, uint64_t pa)
{
	uint64_t pfn = pa >> 12;
	uint32_t idx;
	if (!u64map_get(&p->lines, pfn, &idx)) {
		VEC_RESERVE(p->line_masks, p->caplines, p->nlines, 64);
		idx = p->nlines++;
		p->line_masks[idx] = 0;
		u64map_put(&p->lines, pfn, idx);
	}
	p->line_masks[idx] |= 1ull << ((pa >> 6) & 63);
}

static void a_clflush(void *ctx, unsigned cpu, uint64_t pa)
{
	cpu_clflush(P(ctx)->m, cpu, pa);
	line_flushed(P(ctx), pa);
}

static void a_wbinvd(void *ctx, unsigned cpu)
{
	cpu_wbinvd(P(ctx)->m, cpu);
	P(ctx)->wbinvd_seen = true;
}

static uint64_t a_rdtsc(void *ctx, unsigned cpu) { return cpu_rdtsc(P(ctx)->m, cpu); }

static uint64_t a_read64(void *ctx, uint64_t pa) { return mem_read64(&P(ctx)->m->mem, pa); }

static void a_write64(void *ctx, unsigned cpu, uint64_t pa, uint64_t v)
{
	struct machine *m = P(ctx)->m;
	if (P(ctx)->io) /* DMA due by now lands before this store */
		ioworld_catch_up(P(ctx)->io, m->cpus[cpu].clock);
	cpu_charge(&m->cpus[cpu], m->prof.pte_write);
	machine_store64(m, (int)cpu, pa, v, false);
}

static uint64_t a_alloc_frame(void *ctx, unsigned cpu)
{
	uint64_t pfn = machine_alloc_frame(P(ctx)->m, (int)cpu);
	return pfn == UINT64_MAX ? HV_NO_FRAME : pfn;
}

static void a_free_frame(void *ctx, unsigned cpu, uint64_t pfn)
{
	struct platform *p = P(ctx);
	if (machine_free_frame(p->m, (int)cpu, pfn))
		return;
	/* Freed but not allocated: a double free, reported at once. */
	p->double_frees++;
	struct event ev = machine_event(p->m, EV_CHECK, (int)cpu);
	ev.sub = CHECK_PT_DOUBLE_FREE;
	ev.a = pfn << 12;
	machine_emit(p->m, &ev);
}

/* A cross-CPU call and its wait: each target takes the interrupt when it
 * arrives (or when it is next free), runs the handler, and the sender
 * waits until the last has finished. */
static void a_call_ipi(void *ctx, unsigned from, const struct hv_cpumask *mask, hv_ipi_fn fn,
                       void *hv, void *arg)
{
	struct machine *m = P(ctx)->m;
	struct cpu *src = &m->cpus[from];
	cpu_charge(src, m->prof.ipi_send);
	uint64_t sent = src->clock, done = sent;
	for (unsigned t = 0; t < m->ncpus; t++) {
		if (t == from || !hv_cpumask_test(mask, t))
			continue;
		struct event ev = machine_event(m, EV_IPI, (int)from);
		ev.sub = IPI_SEND;
		ev.a = from;
		ev.b = t;
		ev.d = m->prof.ipi_latency;
		machine_emit(m, &ev);
		struct cpu *dst = &m->cpus[t];
		uint64_t at = sent + m->prof.ipi_latency;
		if (dst->clock < at)
			dst->clock = at;
		ev = machine_event(m, EV_IPI, (int)t);
		ev.sub = IPI_DELIVER;
		ev.a = from;
		ev.b = t;
		machine_emit(m, &ev);
		cpu_charge(dst, m->prof.ipi_handler);
		fn(hv, t, arg);
		if (dst->clock > done)
			done = dst->clock;
	}
	if (src->clock < done)
		src->clock = done;
}

static uint64_t a_iommu_read(void *ctx, unsigned cpu, unsigned unit, uint32_t off)
{
	struct platform *p = P(ctx);
	if (!p->io || unit != 0)
		return 0;
	return ioworld_mmio_read(p->io, cpu, off);
}

static void a_iommu_write(void *ctx, unsigned cpu, unsigned unit, uint32_t off, uint64_t v)
{
	struct platform *p = P(ctx);
	if (p->io && unit == 0)
		ioworld_mmio_write(p->io, cpu, off, v);
}

static void a_caller(void *ctx, const char *fn)
{
	struct platform *p = P(ctx);
	struct machine *m = p->m;
	if (fn) {
		if (p->ncallers < PLATFORM_MAX_CALLERS)
			p->callers[p->ncallers] = m->caller;
		p->ncallers++;
		machine_set_caller(m, fn);
		return;
	}
	if (p->ncallers == 0)
		return;
	p->ncallers--;
	m->caller = p->ncallers < PLATFORM_MAX_CALLERS ? p->callers[p->ncallers]
	                                               : m->caller_scenario;
}

int platform_init(struct platform *p, struct machine *m, const struct sc_hv *cfg, char *err,
                  size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->m = m;
	refmap_init(&p->ref);
	u64map_init(&p->lines);
	struct hv_arch *a = &p->arch;
	a->ctx = p;
	a->ncpus = m->ncpus;
	a->has_pge = m->prof.has_pge;
	a->has_pcid = m->prof.has_pcid;
	a->has_invpcid = m->prof.has_invpcid;
	a->has_page1gb = m->prof.has_page1gb;
	a->read_cr3 = a_read_cr3;
	a->write_cr3 = a_write_cr3;
	a->read_cr4 = a_read_cr4;
	a->write_cr4 = a_write_cr4;
	a->invlpg = a_invlpg;
	a->invpcid = a_invpcid;
	a->clflush = a_clflush;
	a->wbinvd = a_wbinvd;
	a->rdtsc = a_rdtsc;
	a->read64 = a_read64;
	a->write64 = a_write64;
	a->alloc_frame = a_alloc_frame;
	a->free_frame = a_free_frame;
	a->call_ipi = a_call_ipi;
	a->caller = a_caller;
	a->iommu_read = a_iommu_read;
	a->iommu_write = a_iommu_write;
	struct hv_config hc = {
		.page1gb = cfg->page1gb,
		.superpages = cfg->superpages,
		.flush_policy = cfg->flush_policy == SC_FLUSH_RANGED ? HV_FLUSH_RANGED : HV_FLUSH_XEN,
		.flush_ceiling = cfg->flush_ceiling,
		.directmap_bytes = cfg->directmap_bytes,
		.inject = cfg->inject,
	};
	int rc = hv_init(&p->hv, a, &hc);
	if (rc) {
		snprintf(err, errlen, "hv: the hypervisor core did not boot: %s", strerror(-rc));
		return -1;
	}
	static const enum hv_pcid_policy policies[] = {HV_PCID_OFF, HV_PCID_ALL, HV_PCID_XPTI,
	                                                HV_PCID_NOXPTI};
	hv_pv_init(&p->hv, &p->pv, policies[cfg->pcid & 3], cfg->xpti);
	if (hc.directmap_bytes)
		refmap_set(&p->ref, DIRECTMAP_VIRT_START, DIRECTMAP_VIRT_START + hc.directmap_bytes, 0,
		           PAGE_HYPERVISOR_FLAGS_4K);
	p->booted = true;
	return 0;
}

int platform_iommu_init(struct platform *p, const struct sc_iommu *cfg, char *err,
                        size_t errlen)
{
	p->io = calloc(1, sizeof(*p->io));
	if (!p->io) {
		snprintf(err, errlen, "iommu: out of memory");
		return -1;
	}
	if (ioworld_init(p->io, p, cfg, err, errlen) == 0)
		return 0;
	ioworld_fini(p->io);
	free(p->io);
	p->io = NULL;
	return -1;
}

void platform_fini(struct platform *p)
{
	if (p->io) {
		ioworld_fini(p->io);
		free(p->io);
	}
	ring_world_fini(p);
	refmap_fini(&p->ref);
	u64map_fini(&p->lines);
	free(p->pend);
	free(p->line_masks);
	memset(p, 0, sizeof(*p));
}

/* An op changed the memory type of these frames: they must be flushed
 * from the caches before the op completes. */
static void memtype_changed(void *ctx, uint64_t pa, uint64_t pages)
{
	struct platform *p = ctx;
	VEC_RESERVE(p->pend, p->cappend, p->npend, 8);
	p->pend[p->npend++] = (struct cache_pending){pa >> 12, pages};
}

static void op_begin(struct platform *p)
{
	p->npend = 0;
	p->wbinvd_seen = false;
	u64map_fini(&p->lines);
	u64map_init(&p->lines);
	p->nlines = 0;
}

int hv_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct platform *p = x->plat;
	if (!p || !p->booted)
		return op_input_error(x, op, "the scenario has no hv: section");
	uint64_t end = op->va + (op->count << 12);
	op_begin(p);
	struct hv_ptstats before = p->hv.pt;
	int rc;
	switch (op->kind) {
	case OP_HV_MAP: {
		/* A frame that stays mapped here with another memory type must
		 * leave the caches; a va that now maps another frame changes
		 * no frame's memory type. */
		const struct refmap *r = &p->ref;
		for (uint32_t i = refmap_lower(r, op->va); i < r->n && r->v[i].va < end; i++) {
			const struct ref_iv *iv = &r->v[i];
			uint64_t lo = iv->va > op->va ? iv->va : op->va;
			uint64_t hi = iv->end < end ? iv->end : end;
			uint64_t old_pa = iv->pa + (lo - iv->va), new_pa = op->pa + (lo - op->va);
			if (old_pa == new_pa && ((iv->flags ^ op->flags) & MEMTYPE_4K))
				memtype_changed(p, old_pa, (hi - lo) >> 12);
		}
		refmap_set(&p->ref, op->va, end, op->pa, op->flags);
		rc = hv_map_pages(&p->hv, cpu, op->va, op->pa >> 12, op->count,
		                  op->flags | (op->small ? HV_MAP_SMALL_PAGES : 0));
		break;
	}
	case OP_HV_MODIFY:
		refmap_modify(&p->ref, op->va, end, op->flags, memtype_changed, p);
		rc = hv_modify_mappings(&p->hv, cpu, op->va, end, op->flags);
		break;
	default:
		refmap_clear(&p->ref, op->va, end);
		rc = hv_destroy_mappings(&p->hv, cpu, op->va, end);
		break;
	}
	if (rc == -ENOMEM)
		return op_input_error(x, op, "the hypervisor ran out of page-table frames "
		                      "(machine.memory_frames)");
	if (rc)
		return op_input_error(x, op, "the hypervisor refused the operation (%s)",
		                      strerror(-rc));
	/* What the operation did: the skip count of seed 000 among it. */
	const struct hv_ptstats *now = &p->hv.pt;
	struct event ev = machine_event(p->m, EV_HV_OP, (int)cpu);
	ev.sub = (uint16_t)op->kind;
	ev.a = op->va;
	ev.b = op->count;
	ev.c = now->map_steps - before.map_steps;
	ev.d = (now->shatters - before.shatters) << 32 | (now->merges - before.merges);
	ev.e = (now->allocated - before.allocated) << 32 | (now->freed - before.freed);
	ev.f = (now->local_flushes - before.local_flushes) +
	       (now->remote_flushes - before.remote_flushes);
	machine_emit(p->m, &ev);
	platform_check(p, cpu, op->va, op->count, (uint32_t)(op - x->sc->ops));
	return 0;
}
