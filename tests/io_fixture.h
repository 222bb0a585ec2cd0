/* Shared fixture of the IOMMU suites at the hypervisor level
 * (tests/test_hv_iommu.c, tests/test_iommu_random.c).
 *
 * A machine with the hypervisor core booted through the platform binding
 * (runner/platform.c) and the IOMMU world added exactly as a scenario's
 * iommu: section adds it (platform_iommu_init: the simulated VT-d or
 * AMD-Vi unit, the DMA engine, and hv/iommu set up on CPU 0). Tests then
 * either call hv/iommu directly (f->w->hv), or run scenario ops through
 * io_op_exec, the runner's code path (which keeps the runner's reference
 * and emits its EV_CHECKs), with the in-process checker attached.
 *
 * What the hardware did is observed only through the unit's statistics
 * (struct iommu_stats) and events: the sink logs every EV_IOMMU_INV (kind,
 * DID, base, size) including the waits, so a test can assert the exact
 * sequence of invalidation commands the unit carried out. The DID a
 * device's DMA is tagged with is read back from the tables in simulated
 * memory (VT-d root/context entry, AMD-Vi DTE) with the hardware formats,
 * never taken from the driver's state.
 *
 * Header-only (static) because every tests/test_*.c is a binary of its
 * own.
 */
#ifndef HVSIM_TESTS_IO_FIXTURE_H
#define HVSIM_TESTS_IO_FIXTURE_H

#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/iommu/iommu.h"
#include "record/checker.h"
#include "runner/ioworld.h"
#include "runner/ops.h"
#include "runner/platform.h"
#include "scenario/scenario.h"
#include "sim/event.h"
#include "sim/iommu/dma.h"
#include "sim/iommu/iommu.h"
#include "sim/machine.h"

#define IOF_MAX_INV 4096u

/* The three hardware configurations every suite runs. */
enum iof_hw { IOF_VTD_CM0 = 0, IOF_VTD_CM1 = 1, IOF_AMD = 2, IOF_NHW = 3 };
static const char *const iof_hw_name[] = {"vtd-cm0", "vtd-cm1", "amd"};

struct iof_cfg {
	enum iof_hw hw;
	bool no_elide;         /* elision off (before the seed) */
	bool deferred;         /* deferred unmap */
	unsigned batch;        /* deferred batch (0: 256) */
	unsigned levels;       /* 0: 4 */
	unsigned inject;       /* HV_IOMMU_INJECT_* */
	unsigned ncpus;        /* 0: 1 */
	uint64_t frames;       /* 0: 16384 */
	uint64_t seed;         /* 0: 42 */
};

/* One EV_IOMMU_INV as the unit reported it. */
struct iof_inv {
	unsigned kind;   /* IOINV_* */
	uint16_t did;
	uint64_t base;
	unsigned log2;   /* size log2 (64: everything) / fn mask for devc */
};

typedef void (*iof_event_fn)(void *ctx, const struct event *ev);

struct iof {
	struct machine m;
	struct platform p;
	struct ioworld *w;
	struct scenario sc;
	struct op_ctx x;
	struct checker *ck;
	struct iof_cfg cfg;
	/* The op list io_op_exec indexes (x.sc->ops). */
	struct op *ops;
	uint32_t nops, capops;
	/* Invalidations logged since iof_mark (waits included). */
	uint32_t ninv;
	uint64_t ninv_total;
	struct iof_inv inv[IOF_MAX_INV];
	uint64_t checks, dmas;
	struct event first_check;
	iof_event_fn on_event; /* extra per-event hook (tests) */
	void *on_event_ctx;
	char tag[200];
};

#define IOF_ASSERT(f, cond, ...)                                                  \
	do {                                                                      \
		if (!(cond)) {                                                    \
			char iof_m_[600];                                         \
			snprintf(iof_m_, sizeof(iof_m_), __VA_ARGS__);            \
			ck_abort_msg("[%s] %s (%s)", (f)->tag, iof_m_, #cond);    \
		}                                                                 \
	} while (0)

static inline int iof_sink(void *ctx, const struct event *ev)
{
	struct iof *f = ctx;
	switch (ev->type) {
	case EV_IOMMU_INV:
		f->ninv_total++;
		if (f->ninv < IOF_MAX_INV)
			f->inv[f->ninv++] = (struct iof_inv){.kind = ev->sub, .did = (uint16_t)ev->a,
			                                     .base = ev->b, .log2 = (unsigned)ev->c};
		break;
	case EV_CHECK:
		if (f->checks++ == 0)
			f->first_check = *ev;
		break;
	case EV_DMA:
		f->dmas++;
		break;
	default:
		break;
	}
	if (f->on_event)
		f->on_event(f->on_event_ctx, ev);
	return 0;
}

static inline struct iof *iof_new(const struct iof_cfg *c)
{
	struct iof *f = calloc(1, sizeof(*f));
	ck_assert_ptr_nonnull(f);
	f->cfg = *c;
	struct profile prof;
	struct sc_error err;
	memset(&err, 0, sizeof(err));
	const char *pn = c->hw == IOF_AMD ? "zen3" : "skylake";
	ck_assert_msg(profile_load_named(pn, &prof, &err) == 0, "%s", err.msg);
	unsigned ncpus = c->ncpus ? c->ncpus : 1;
	ck_assert_int_eq(machine_init(&f->m, &prof, ncpus, c->frames ? c->frames : 16384,
	                              c->seed ? c->seed : 42),
	                 0);
	struct sink s = {.name = "test_io", .mask = ~0ull, .ctx = f, .event = iof_sink};
	ck_assert_int_eq(bus_attach(&f->m.bus, &s), 0);
	f->ck = checker_new(false);
	ck_assert_ptr_nonnull(f->ck);
	struct sink cs = checker_sink(f->ck);
	ck_assert_int_eq(bus_attach(&f->m.bus, &cs), 0);
	struct sc_hv hc = {
		.enabled = true,
		.flush_ceiling = 33,
		.directmap_bytes = 1ull << 21,
	};
	char perr[256] = "";
	ck_assert_msg(platform_init(&f->p, &f->m, &hc, perr, sizeof(perr)) == 0, "%s", perr);
	struct sc_iommu ic = {
		.enabled = true,
		.kind = c->hw == IOF_AMD ? SC_IOMMU_AMD : SC_IOMMU_VTD,
		.caching_mode = c->hw == IOF_VTD_CM1,
		.elide = !c->no_elide,
		.unmap = c->deferred ? SC_UNMAP_DEFERRED : SC_UNMAP_STRICT,
		.deferred_batch = c->batch ? c->batch : 256,
		.levels = c->levels ? c->levels : 4,
		.inject = c->inject,
	};
	ck_assert_msg(platform_iommu_init(&f->p, &ic, perr, sizeof(perr)) == 0, "%s", perr);
	f->w = f->p.io;
	f->sc.path = (char *)"io-test";
	f->sc.name = (char *)"io-test";
	f->sc.ncpus = ncpus;
	f->sc.hv = hc;
	f->sc.iommu = ic;
	f->x.m = &f->m;
	f->x.plat = &f->p;
	f->x.sc = &f->sc;
	snprintf(f->tag, sizeof(f->tag), "%s%s%s inject=%#x cpus=%u", iof_hw_name[c->hw],
	         c->no_elide ? " no-elide" : " elide", c->deferred ? " deferred" : " strict",
	         c->inject, ncpus);
	IOF_ASSERT(f, f->checks == 0, "set-up reported a check");
	return f;
}

static inline void iof_free(struct iof *f)
{
	platform_fini(&f->p);
	machine_fini(&f->m);
	checker_free(f->ck);
	free(f->ops);
	free(f);
}

static inline void iof_tag(struct iof *f, const char *fmt, ...)
{
	char extra[120];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(extra, sizeof(extra), fmt, ap);
	va_end(ap);
	snprintf(f->tag, sizeof(f->tag), "%s%s%s inject=%#x: %s", iof_hw_name[f->cfg.hw],
	         f->cfg.no_elide ? " no-elide" : " elide", f->cfg.deferred ? " deferred" : " strict",
	         f->cfg.inject, extra);
}

/* Starts a new invalidation log; returns the unit's stats now. */
static inline struct iommu_stats iof_mark(struct iof *f)
{
	f->ninv = 0;
	return f->w->unit.st;
}

static inline struct hv_iommu *iof_hv(struct iof *f) { return &f->w->hv; }

/* IOTLB invalidations (not waits, not device-cache ones) in the log. */
static inline unsigned iof_count(const struct iof *f, unsigned kind)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < f->ninv; i++)
		n += f->inv[i].kind == kind;
	return n;
}

static inline unsigned iof_iotlb_invs(const struct iof *f)
{
	return iof_count(f, IOINV_IOTLB_ALL) + iof_count(f, IOINV_IOTLB_DOMAIN) +
	       iof_count(f, IOINV_IOTLB_RANGE);
}

/* Every invalidation command in the log is followed at once by a wait
 * (VT-d wait descriptor / AMD-Vi COMPLETION_WAIT): the driver never
 * returns with an invalidation it has not waited for. */
static inline void iof_expect_waits(struct iof *f)
{
	IOF_ASSERT(f, f->ninv < IOF_MAX_INV, "log overflow");
	for (uint32_t i = 0; i < f->ninv; i++) {
		if (f->inv[i].kind == IOINV_WAIT)
			continue;
		/* AMD-Vi INVALIDATE_IOMMU_ALL is two events (IOTLB and DTE
		 * caches) before its one wait. */
		uint32_t j = i + 1;
		while (j < f->ninv && f->inv[j].kind != IOINV_WAIT &&
		       (f->inv[j].kind == IOINV_DEVC_ALL && f->inv[i].kind == IOINV_IOTLB_ALL))
			j++;
		IOF_ASSERT(f, j < f->ninv && f->inv[j].kind == IOINV_WAIT,
		           "invalidation %u (kind %u) not followed by a wait", i, f->inv[i].kind);
	}
}

/* The DID the hardware tags sid's translations with, read from the
 * tables in memory with the hardware formats (VT-d §9.1/§9.3: root entry
 * per bus -> context entry per devfn, DID = hi[23:8]; AMD-Vi §2.2.2.2:
 * DTE qword 1 bits 15:0). -1 when the device has no present entry. */
static inline int iof_hw_did(struct iof *f, uint16_t sid)
{
	struct mem *mem = &f->m.mem;
	struct iommu *u = &f->w->unit;
	if (u->kind == IOMMU_AMDVI) {
		uint64_t dte = u->amd.dt_base + (uint64_t)sid * AMDVI_DTE_BYTES;
		if (!(mem_read64(mem, dte) & AMDVI_DTE_V))
			return -1;
		return (int)(mem_read64(mem, dte + 8) & 0xffff);
	}
	uint64_t re = mem_read64(mem, u->vtd.rtaddr + 16ull * (sid >> 8));
	if (!(re & VTD_ENTRY_P))
		return -1;
	uint64_t ce = (re & VTD_ADDR_MASK) + 16ull * (sid & 0xff);
	if (!(mem_read64(mem, ce) & VTD_ENTRY_P))
		return -1;
	return (int)((mem_read64(mem, ce + 8) >> 8) & 0xffff);
}

/* ---- scenario ops through the runner (io_op_exec) --------------------- */

static inline struct op *iof_push(struct iof *f, enum op_kind k, unsigned cpu)
{
	if (f->nops >= f->capops) {
		uint32_t nc = f->capops ? f->capops * 2 : 256;
		struct op *nv = realloc(f->ops, nc * sizeof(*nv));
		ck_assert_ptr_nonnull(nv);
		f->ops = nv;
		f->capops = nc;
	}
	struct op *op = &f->ops[f->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = k;
	op->line = f->nops;
	op->col = 1;
	op->cpu = (int)cpu;
	return op;
}

/* Runs the last pushed op through the runner; asserts it was accepted. */
static inline int iof_exec_last(struct iof *f)
{
	struct op *op = &f->ops[f->nops - 1];
	f->sc.ops = f->ops;
	f->sc.nops = f->nops;
	f->x.err[0] = 0;
	int rc = io_op_exec(&f->x, op, (unsigned)op->cpu);
	IOF_ASSERT(f, rc != 2, "op %u (kind %d): input error: %s", f->nops - 1, op->kind,
	           f->x.err);
	return rc;
}

/* Simple DFN/MFN frame for device sid on bus 0. */
#define IOF_SID(dev) IOMMU_SID(0, (dev), 0)

#endif
