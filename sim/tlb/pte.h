/* x86-64 paging-structure entry bits (Intel SDM Vol. 3A §4.5, Tables
 * 4-15..4-20). Level numbering follows the SDM walk order: 4 = PML4E,
 * 3 = PDPTE, 2 = PDE, 1 = PTE. */
#ifndef HVSIM_SIM_TLB_PTE_H
#define HVSIM_SIM_TLB_PTE_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)   /* levels 3 and 2: maps a page */
#define PTE_PAT4K (1ull << 7) /* level 1: PAT bit */
#define PTE_G (1ull << 8)
#define PTE_PAT_LARGE (1ull << 12) /* levels 3 and 2 with PS=1 */
#define PTE_NX (1ull << 63)

/* Software-available bits (ignored by hardware): 9..11 and 52..58. */
#define PTE_AVAIL_MASK ((7ull << 9) | (0x7full << 52))

#define PA_MASK_52 0x000ffffffffff000ull
#define PTE_ADDR_4K PA_MASK_52
#define PTE_ADDR_2M 0x000fffffffe00000ull
#define PTE_ADDR_1G 0x000fffffc0000000ull

/* Reserved-bit masks when MAXPHYADDR = 52 and EFER.NXE = 1 (§4.5, Table
 * 4-20 notes): large-page address fields have reserved low bits. */
#define PTE_RSVD_2M (0x1fe000ull)        /* bits 20:13 */
#define PTE_RSVD_1G (0x3fffe000ull)      /* bits 29:13 */

#define LEVEL_SHIFT(l) (12u + 9u * ((l) - 1u)) /* bits mapped by an entry */
#define LEVEL_INDEX(va, l) (((va) >> LEVEL_SHIFT(l)) & 511u)

#define CANONICAL(va) ((uint64_t)((int64_t)((va) << 16) >> 16) == (va))

/* The canonical form of a 48-bit linear address (bit 47 sign-extended). */
static inline uint64_t canonical_va(uint64_t va)
{
	return (va & (1ull << 47)) ? (va | 0xffff000000000000ull) : (va & ((1ull << 48) - 1));
}

/* Flags whose change alters a translation (everything but A and D and the
 * software-available bits; the address is compared separately). */
#define PTE_XLATE_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_PS | \
                         PTE_G | PTE_NX)

static inline bool pte_present(uint64_t e) { return e & PTE_P; }

/* True if the entry at level maps a page (rather than a table). */
static inline bool pte_is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || (level <= 3 && (e & PTE_PS));
}

/* Physical address of the page (leaf) or table (non-leaf). */
static inline uint64_t pte_addr(uint64_t e, unsigned level)
{
	if (level == 3 && (e & PTE_PS))
		return e & PTE_ADDR_1G;
	if (level == 2 && (e & PTE_PS))
		return e & PTE_ADDR_2M;
	return e & PTE_ADDR_4K;
}

/* PAT bit of a leaf, wherever the level keeps it. */
static inline bool pte_pat(uint64_t e, unsigned level)
{
	return level == 1 ? (e & PTE_PAT4K) : (e & PTE_PAT_LARGE);
}

/* Name table for flag parsing and printing: "P", "RW", ... */
struct pte_flag_name {
	const char *name;
	uint64_t bit;
};
extern const struct pte_flag_name pte_flag_names[]; /* NULL-terminated */

#endif
