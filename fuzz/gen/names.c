/* Enumeration names of the scenario format (fuzz/gen/names.h). */
#include "fuzz/gen/names.h"

#include <assert.h>
#include <string.h>

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

static_assert(SC_INJECT_XPTI_LEAK == 1u << 7, "fz_inject_names follows the SC_INJECT_* bits");
static_assert(SC_IO_INJECT_IGNORE_CM == 1u << 6, "fz_io_inject_names follows SC_IO_INJECT_*");
static_assert(SC_TIME_INJECT_SEED_WALLCLOCK == 1u << 2,
              "fz_time_inject_names follows SC_TIME_INJECT_*");

static const struct {
	const char *const *names;
	unsigned shift, width;
} sections[] = {
	{fz_inject_names, 0, FZ_INJ_IO_SHIFT},
	{fz_io_inject_names, FZ_INJ_IO_SHIFT, FZ_INJ_TIME_SHIFT - FZ_INJ_IO_SHIFT},
	{fz_time_inject_names, FZ_INJ_TIME_SHIFT, 32 - FZ_INJ_TIME_SHIFT},
};

uint32_t fz_inject_bit(const char *name)
{
	for (unsigned s = 0; s < 3; s++)
		for (unsigned i = 0; sections[s].names[i] && i < sections[s].width; i++)
			if (!strcmp(sections[s].names[i], name))
				return 1u << (sections[s].shift + i);
	return 0;
}

const char *fz_inject_name(unsigned bit)
{
	for (unsigned s = 0; s < 3; s++) {
		if (bit < sections[s].shift || bit >= sections[s].shift + sections[s].width)
			continue;
		for (unsigned i = 0; sections[s].names[i]; i++)
			if (sections[s].shift + i == bit)
				return sections[s].names[i];
	}
	return NULL;
}

void fz_inject_apply(uint32_t inject, struct scenario *sc)
{
	if (sc->hv.enabled)
		sc->hv.inject = inject & ((1u << FZ_INJ_IO_SHIFT) - 1);
	if (sc->iommu.enabled)
		sc->iommu.inject = (inject >> FZ_INJ_IO_SHIFT) &
		                   ((1u << (FZ_INJ_TIME_SHIFT - FZ_INJ_IO_SHIFT)) - 1);
	if (sc->time.enabled)
		sc->time.inject = inject >> FZ_INJ_TIME_SHIFT;
}

uint32_t fz_inject_of(const struct scenario *sc)
{
	return (sc->hv.enabled ? sc->hv.inject : 0) |
	       (sc->iommu.enabled ? sc->iommu.inject << FZ_INJ_IO_SHIFT : 0) |
	       (sc->time.enabled ? sc->time.inject << FZ_INJ_TIME_SHIFT : 0);
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
