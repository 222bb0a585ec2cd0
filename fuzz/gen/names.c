/* Enumeration names of the scenario format (fuzz/gen/names.h). */
#include "fuzz/gen/names.h"

#include <assert.h>
#include <string.h>

#include "hv/vm_event/vm_event.h"

/* In SC_INJECT_* bit order: bit i is 1 << i (scenario/scenario.h). */
const char *const fz_inject_names[] = {
	"merge_flush_past", "skip_one_page",      "no_cache_flush", "leak_table",
	"skip_last_page",   "no_old_pcid_flush", "invlpg_under_pcide", "xpti_leak",
	NULL,
};

/* scenario/load_iommu.c's iommu.inject names, SC_IO_INJECT_* order. */
const char *const fz_io_inject_names[] = {
	"modified_as_added", "modified_as_none", "dont_flush_left_set", "flush_type_min",
	"flush_first_page",  "pte_flush_kept",   "ignore_cm",           NULL,
};

/* scenario/load.c's time.inject names, SC_TIME_INJECT_* order. */
const char *const fz_time_inject_names[] = {"no-version-bump", "stale-stamp", "seed-wallclock",
                                            NULL};

/* scenario/load.c's rings.inject names, hv/vm_event's VM_EVENT_INJECT_*
 * order (scenario.h keeps the bits as a plain word). */
const char *const fz_ring_inject_names[] = {
	"put_off_by_one",  "double_pause",  "claim_off_by_one", "no_wake_requesters",
	"no_wake_waiters", "release_foreign", "no_full_check",  "disable_wq_only",
	"release_no_wake", NULL,
};

static_assert(SC_INJECT_XPTI_LEAK == 1u << 7, "fz_inject_names follows the SC_INJECT_* bits");
static_assert(SC_IO_INJECT_IGNORE_CM == 1u << 6, "fz_io_inject_names follows SC_IO_INJECT_*");
static_assert(VM_EVENT_INJECT_RELEASE_NO_WAKE == 1u << 8,
              "fz_ring_inject_names follows VM_EVENT_INJECT_*");
static_assert(SC_TIME_INJECT_SEED_WALLCLOCK == 1u << 2,
              "fz_time_inject_names follows SC_TIME_INJECT_*");

static const struct {
	const char *const *names;
	unsigned shift, width;
} sections[] = {
	{fz_inject_names, 0, FZ_INJ_IO_SHIFT},
	{fz_io_inject_names, FZ_INJ_IO_SHIFT, FZ_INJ_TIME_SHIFT - FZ_INJ_IO_SHIFT},
	{fz_time_inject_names, FZ_INJ_TIME_SHIFT, FZ_INJ_RING_SHIFT - FZ_INJ_TIME_SHIFT},
	{fz_ring_inject_names, FZ_INJ_RING_SHIFT, FZ_INJ_BITS - FZ_INJ_RING_SHIFT},
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

uint64_t fz_inject_bit(const char *name)
{
	for (unsigned s = 0; s < NSECTIONS; s++)
		for (unsigned i = 0; sections[s].names[i] && i < sections[s].width; i++)
			if (!strcmp(sections[s].names[i], name))
				return 1ull << (sections[s].shift + i);
	return 0;
}

const char *fz_inject_name(unsigned bit)
{
	for (unsigned s = 0; s < NSECTIONS; s++) {
		if (bit < sections[s].shift || bit >= sections[s].shift + sections[s].width)
			continue;
		for (unsigned i = 0; sections[s].names[i]; i++)
			if (sections[s].shift + i == bit)
				return sections[s].names[i];
	}
	return NULL;
}

/* Bits [lo, hi) of the set, shifted down. */
static uint32_t field_of(uint64_t inject, unsigned lo, unsigned hi)
{
	return (uint32_t)((inject >> lo) & ((1ull << (hi - lo)) - 1));
}

void fz_inject_apply(uint64_t inject, struct scenario *sc)
{
	if (sc->hv.enabled)
		sc->hv.inject = field_of(inject, 0, FZ_INJ_IO_SHIFT);
	if (sc->iommu.enabled)
		sc->iommu.inject = field_of(inject, FZ_INJ_IO_SHIFT, FZ_INJ_TIME_SHIFT);
	if (sc->time.enabled)
		sc->time.inject = field_of(inject, FZ_INJ_TIME_SHIFT, FZ_INJ_RING_SHIFT);
	if (sc->rings.enabled)
		sc->rings.inject = field_of(inject, FZ_INJ_RING_SHIFT, FZ_INJ_BITS);
}

uint64_t fz_inject_of(const struct scenario *sc)
{
	return (uint64_t)(sc->hv.enabled ? sc->hv.inject : 0) |
	       (uint64_t)(sc->iommu.enabled ? sc->iommu.inject : 0) << FZ_INJ_IO_SHIFT |
	       (uint64_t)(sc->time.enabled ? sc->time.inject : 0) << FZ_INJ_TIME_SHIFT |
	       (uint64_t)(sc->rings.enabled ? sc->rings.inject : 0) << FZ_INJ_RING_SHIFT;
}

const char *fz_pcid_name(int pcid)
{
	static const char *const n[] = {"off", "on", "xpti", "no-xpti"};
	return pcid >= 0 && pcid <= 3 ? n[pcid] : "xpti";
}

const char *fz_policy_name(int policy)
{
	return policy == SC_FLUSH_RANGED ? "ranged" : "xen";
}
