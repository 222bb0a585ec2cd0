/* The platform binding: the hypervisor core's arch interface (hv/arch.h)
 * implemented over the simulated machine, plus what the runner checks
 * after every hypervisor operation (runner/hvcheck.c). This is the only
 * place where hv/ and sim/ meet. */
#ifndef HVSIM_RUNNER_PLATFORM_H
#define HVSIM_RUNNER_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/arch.h"
#include "hv/hv.h"
#include "hv/pv/pv.h"
#include "runner/refmap.h"
#include "scenario/scenario.h"
#include "sim/machine.h"

struct ring_world;

#define PLATFORM_MAX_CALLERS 16

/* Frames whose memory type changed and that must leave the caches before
 * the operation completes; lines flushed so far. */
struct cache_pending {
	uint64_t first_pfn, npages;
};

struct ioworld;

struct platform {
	struct machine *m;
	struct ioworld *io;  /* the IOMMU world, if the scenario has one */
	struct hv_arch arch;
	struct hv hv;
	struct hv_pv pv;   /* PV domains (seed 003) */
	bool booted;
	uint32_t callers[PLATFORM_MAX_CALLERS];
	unsigned ncallers;
	struct refmap ref;       /* what the hypervisor was asked to map */
	/* Cache-flush tracking during one operation. */
	struct cache_pending *pend;
	uint32_t npend, cappend;
	bool wbinvd_seen;
	struct u64map lines;     /* pfn -> index into line_masks */
	uint64_t *line_masks;
	uint32_t nlines, caplines;
	uint64_t double_frees;
	struct time_state *time; /* hypervisor time (runner/timeops.h), or NULL */
	struct ring_world *rw;   /* vm_event rings (runner/ring.h), or NULL */
};

/* Creates the hypervisor core on the machine (scenario hv: section) and
 * boots it on CPU 0. Returns 0, or -1 with err. */
int platform_init(struct platform *p, struct machine *m, const struct sc_hv *cfg, char *err,
                  size_t errlen);
void platform_fini(struct platform *p);
/* Adds the IOMMU world (scenario iommu: section) to a booted platform.
 * 0, or -1 with err. */
int platform_iommu_init(struct platform *p, const struct sc_iommu *cfg, char *err,
                        size_t errlen);

/* After an operation: every property the seed defines, as EV_CHECK events
 * (runner/hvcheck.c). Returns the number of violations found. */
uint32_t platform_check(struct platform *p, unsigned cpu, uint64_t va, uint64_t count,
                        uint32_t op_index);

#endif
