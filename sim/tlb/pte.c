#include "sim/tlb/pte.h"

#include <stddef.h>

/* "PS" and "PAT" are both bit 7 at level 1; scenarios name the PAT bit
 * "PAT" and the map op places it at bit 7 or bit 12 by page size. */
const struct pte_flag_name pte_flag_names[] = {
	{"P", PTE_P},     {"RW", PTE_RW},   {"US", PTE_US}, {"PWT", PTE_PWT},
	{"PCD", PTE_PCD}, {"A", PTE_A},     {"D", PTE_D},   {"PS", PTE_PS},
	{"G", PTE_G},     {"PAT", PTE_PAT_LARGE},           {"NX", PTE_NX},
	{NULL, 0},
};
