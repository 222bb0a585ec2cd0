#include "hv/pv/pcid.h"

#include <errno.h>
#include <string.h>

/* INVPCID types (Linux's names, hw-facts §1.1). */
enum { INVPCID_INDIV_ADDR = 0, INVPCID_SINGLE_CTXT = 1, INVPCID_ALL_INCL_GLOBAL = 2,
       INVPCID_ALL_NON_GLOBAL = 3 };

int hv_pcid_parse(const char *s, enum hv_pcid_policy *out)
{
	static const struct {
		const char *name;
		enum hv_pcid_policy p;
	} names[] = {
		{"0", HV_PCID_OFF},     {"off", HV_PCID_OFF},        {"false", HV_PCID_OFF},
		{"no", HV_PCID_OFF},    {"1", HV_PCID_ALL},          {"on", HV_PCID_ALL},
		{"true", HV_PCID_ALL},  {"yes", HV_PCID_ALL},        {"all", HV_PCID_ALL},
		{"xpti", HV_PCID_XPTI}, {"no-xpti", HV_PCID_NOXPTI}, {"noxpti", HV_PCID_NOXPTI},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].p;
			return 0;
		}
	return -EINVAL;
}

bool hv_pcid_domain_uses(const struct hv *hv, enum hv_pcid_policy p, bool xpti)
{
	/* "PCID only gets used for guests when Xen is otherwise using
	 * INVPCID" (the reviewer): both features or nothing. */
	if (!hv->arch->has_pcid || !hv->arch->has_invpcid)
		return false;
	switch (p) {
	case HV_PCID_ALL:
		return true;
	case HV_PCID_XPTI:
		return xpti;
	case HV_PCID_NOXPTI:
		return !xpti;
	default:
		return false;
	}
}

uint64_t hv_guest_real_cr4(uint64_t base_cr4, bool xpti, bool pcid)
{
	uint64_t cr4 = base_cr4 & ~(X86_CR4_PGE | X86_CR4_PCIDE);
	if (!xpti && !pcid)
		cr4 |= X86_CR4_PGE;
	if (pcid)
		cr4 |= X86_CR4_PCIDE;
	return cr4;
}

/* write_cr4 with the seed's assertion: no global pages with PCIDs. */
static int write_cr4(struct hv *hv, unsigned cpu, uint64_t cr4)
{
	if ((cr4 & X86_CR4_PGE) && (cr4 & X86_CR4_PCIDE))
		hv->error = -EINVAL; /* ASSERT: recorded, and the property reports it */
	return hv->arch->write_cr4(hv->arch->ctx, cpu, cr4);
}

int hv_write_cr3_cr4(struct hv *hv, unsigned cpu, uint64_t cr3, uint64_t cr4)
{
	const struct hv_arch *a = hv->arch;
	a->caller(a->ctx, "write_cr3_cr4");
	uint64_t cur4 = a->read_cr4(a->ctx, cpu);
	uint64_t old_pcid = (cur4 & X86_CR4_PCIDE) ? a->read_cr3(a->ctx, cpu) & X86_CR3_PCID_MASK : 0;
	int rc = 0;
	if (cur4 & X86_CR4_PGE)
		/* PGE set means PCID is inactive: flipping PGE purges all. */
		rc = write_cr4(hv, cpu, cr4 & ~X86_CR4_PGE);
	else if (a->has_invpcid)
		/* Loading CR3 would only flush the NEW PCID's entries. */
		rc = a->invpcid(a->ctx, cpu, INVPCID_ALL_NON_GLOBAL, 0, 0);
	bool enabling = (cr4 & X86_CR4_PCIDE) && !(cur4 & X86_CR4_PCIDE);
	if (!rc && enabling && (cr3 & X86_CR3_PCID_MASK)) {
		/* CR4.PCIDE may be set only while CR3[11:0] = 0 (SDM; the
		 * Bareflank triple fault, hw-facts [S3]): enter PCID mode on
		 * PCID 0, then load the wanted PCID. */
		rc = a->write_cr3(a->ctx, cpu, cr3 & ~(X86_CR3_PCID_MASK | X86_CR3_NOFLUSH));
		if (!rc)
			rc = write_cr4(hv, cpu, cr4);
	}
	if (!rc)
		rc = a->write_cr3(a->ctx, cpu, cr3);
	if (!rc && a->read_cr4(a->ctx, cpu) != cr4)
		rc = write_cr4(hv, cpu, cr4);
	else if (!rc && (cr4 & X86_CR4_PCIDE) && old_pcid != (cr3 & X86_CR3_PCID_MASK) &&
	         !(hv->cfg.inject & HV_INJECT_NO_OLD_PCID_FLUSH))
		/* Entries of the old PCID created between the flush and the CR3
		 * write must not survive (v5, Jan Beulich's request). */
		rc = a->invpcid(a->ctx, cpu, INVPCID_SINGLE_CTXT, old_pcid, 0);
	a->caller(a->ctx, NULL);
	return rc;
}
