/* Enumeration names of the scenario format (fuzz/gen/names.h). */
#include "fuzz/gen/names.h"

#include <assert.h>
#include <string.h>

#include "scenario/scenario.h"

/* In SC_INJECT_* bit order: bit i is 1 << i (scenario/scenario.h). */
const char *const fz_inject_names[] = {
	"merge_flush_past", "skip_one_page",      "no_cache_flush", "leak_table",
	"skip_last_page",   "no_old_pcid_flush", "invlpg_under_pcide", "xpti_leak",
	NULL,
};

static_assert(SC_INJECT_XPTI_LEAK == 1u << 7, "fz_inject_names follows the SC_INJECT_* bits");

uint32_t fz_inject_bit(const char *name)
{
	for (unsigned i = 0; fz_inject_names[i]; i++)
		if (!strcmp(fz_inject_names[i], name))
			return 1u << i;
	return 0;
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
