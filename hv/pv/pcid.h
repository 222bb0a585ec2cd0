/* PCID for 64-bit PV domains (seed 003): which address spaces get which
 * PCID, the `pcid=` policy, the CR3 and CR4 values a vCPU runs with, and
 * the combined CR3+CR4 switch. */
#ifndef HVSIM_HV_PV_PCID_H
#define HVSIM_HV_PV_PCID_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/hv.h"

/* PCID values for the address spaces of a 64-bit PV domain (seed 003; the
 * reviewer asked for them to be documented next to their definitions):
 *
 *   guest active, kernel mode          PCID_PV_PRIV | PCID_PV_XPTI (XPTI)
 *                                      PCID_PV_PRIV               (no XPTI)
 *   guest active, user mode            PCID_PV_USER | PCID_PV_XPTI (XPTI)
 *                                      PCID_PV_USER               (no XPTI)
 *   hypervisor active, guest kernel    PCID_PV_PRIV  (XPTI only: without
 *   hypervisor active, guest user      PCID_PV_USER   XPTI the hypervisor
 *                                                     runs on the guest's
 *                                                     own tables)
 *
 * So 4 PCIDs per domain subject to XPTI, 2 without. PCID_PV_PRIV (0) is
 * also what the hypervisor's idle page table and every domain without
 * PCID use: entries of different domains under one PCID are kept apart by
 * flushing on every switch between domains (hv_write_cr3_cr4). */
#define PCID_PV_PRIV 0x0000u
#define PCID_PV_USER 0x0001u
#define PCID_PV_XPTI 0x0002u /* ORed to the above */

#define X86_CR3_NOFLUSH (1ull << 63)
#define X86_CR3_PCID_MASK 0x0fffull
#define X86_CR3_ADDR_MASK 0x000ffffffffff000ull
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_PCIDE (1ull << 17)

/* The `pcid=` command-line policy: which domains use PCID. */
enum hv_pcid_policy {
	HV_PCID_OFF = 0,    /* pcid=0: none */
	HV_PCID_ALL = 1,    /* pcid=1: all 64-bit PV domains */
	HV_PCID_XPTI = 2,   /* pcid=xpti (default): only those subject to XPTI */
	HV_PCID_NOXPTI = 3, /* pcid=no-xpti: only those not subject to XPTI */
};

/* Parses "0"/"off"/"false", "1"/"on"/"true", "xpti", "no-xpti"/"noxpti"
 * (as Xen's parse_pcid). Returns 0 or -EINVAL. */
int hv_pcid_parse(const char *s, enum hv_pcid_policy *out);

/* pcid_domain_init: does a domain (subject to XPTI or not) use PCID?
 * Only when the CPU has both PCID and INVPCID. */
bool hv_pcid_domain_uses(const struct hv *hv, enum hv_pcid_policy p, bool xpti);

/* The PCID bits of a vCPU's CR3 (get_pcid_bits): by guest mode, with
 * PCID_PV_XPTI for the address space the guest runs on under XPTI. NOFLUSH
 * is NOT part of it: whether to flush is the switch's decision. */
static inline uint64_t hv_pcid_bits(bool kernel_mode, bool xpti_space)
{
	return (kernel_mode ? PCID_PV_PRIV : PCID_PV_USER) | (xpti_space ? PCID_PV_XPTI : 0);
}

/* pv_guest_cr4_to_real_cr4: PGE only when neither XPTI nor PCID (PGE and
 * PCIDE are never both set: seed 003's ASSERT); PCIDE with PCID. */
uint64_t hv_guest_real_cr4(uint64_t base_cr4, bool xpti, bool pcid);

/* write_cr3_cr4 (seed 003, v5): flush what the switch needs -- flip PGE if
 * set, else INVPCID all-non-global when PCID is in use -- write CR3, write
 * CR4 if it changes, else flush the OLD PCID if it changed (entries of the
 * old PCID created after the first flush must not survive). Returns 0 or
 * the fault a write raised (which a correct hypervisor never sees). */
int hv_write_cr3_cr4(struct hv *hv, unsigned cpu, uint64_t cr3, uint64_t cr4);

#endif
