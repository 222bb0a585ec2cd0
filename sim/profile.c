#include "sim/profile.h"

#include <stddef.h>
#include <string.h>

const struct profile_field profile_fields[] = {
#define X(n, d) {#n, d, PF_COST, offsetof(struct profile, n)},
	PROFILE_COSTS(X)
#undef X
#define X(n, d) {#n, d, PF_GEOMETRY, offsetof(struct profile, n)},
	PROFILE_GEOMETRY(X)
#undef X
	{NULL, NULL, PF_COST, 0},
};

const struct profile_field *profile_field_find(const char *name)
{
	for (const struct profile_field *f = profile_fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

uint32_t *profile_field_ptr(struct profile *p, const struct profile_field *f)
{
	return (uint32_t *)((char *)p + f->offset);
}

static int is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* One set-associative structure: entries = sets * ways, sets a power of
 * two so the index is a mask of the page number. */
static const char *check_geom(uint32_t entries, uint32_t ways, const char *name)
{
	if (entries == 0 && ways == 0)
		return NULL; /* structure absent */
	if (ways == 0 || entries % ways || !is_pow2(entries / ways) || entries > 65536)
		return name;
	return NULL;
}

const char *profile_validate(const struct profile *p)
{
	const char *e;
	if ((e = check_geom(p->l1d_4k_entries, p->l1d_4k_ways,
	                    "l1d_4k_entries/l1d_4k_ways: entries must be ways x 2^n, at most 65536")))
		return e;
	if (!p->l1d_unified &&
	    ((e = check_geom(p->l1d_2m_entries, p->l1d_2m_ways,
	                     "l1d_2m_entries/l1d_2m_ways: entries must be ways x 2^n")) ||
	     (e = check_geom(p->l1d_1g_entries, p->l1d_1g_ways,
	                     "l1d_1g_entries/l1d_1g_ways: entries must be ways x 2^n"))))
		return e;
	if ((e = check_geom(p->l1i_entries, p->l1i_ways,
	                    "l1i_entries/l1i_ways: entries must be ways x 2^n")))
		return e;
	if ((e = check_geom(p->l2_entries, p->l2_ways,
	                    "l2_entries/l2_ways: entries must be ways x 2^n")))
		return e;
	if ((e = check_geom(p->l2_1g_entries, p->l2_1g_ways,
	                    "l2_1g_entries/l2_1g_ways: entries must be ways x 2^n")))
		return e;
	if (p->l1d_4k_entries == 0)
		return "l1d_4k_entries: must be at least 1";
	if (p->psc_pml4e > 64 || p->psc_pdpte > 64 || p->psc_pde > 256)
		return "psc_*: at most 64 PML4E/PDPTE and 256 PDE cache entries";
	if (p->has_invpcid && !p->has_pcid)
		return "has_invpcid: INVPCID without PCID is not a real part";
	if (p->op_jitter > 1000000)
		return "op_jitter: at most 1000000 cycles";
	if (p->clock_mhz == 0)
		return "clock_mhz: must be positive";
	return NULL;
}
