/* The `pt` target's MMU cases: a correct OS driving page tables, control
 * registers and invalidations directly (fuzz/gen/pt_mmu.c). */
#ifndef HVSIM_FUZZ_GEN_PT_MMU_H
#define HVSIM_FUZZ_GEN_PT_MMU_H

#include <stdbool.h>

#include "fuzz/gen/bytesrc.h"
#include "scenario/scenario.h"

/* Appends the case's ops to sc (begun by the decoder, no hv: section).
 * 0, or -1 when out of memory. */
int pt_mmu_case(struct bytesrc *b, struct scenario *sc);

/* The shrinker's rule for MMU cases: ops it must not remove one by one
 * (invalidations, IPIs, barriers, CR writes), so that a shrunk case is
 * still a correct OS. False for hypervisor cases. */
bool pt_mmu_keep_op(const struct scenario *sc, const struct op *op);

#endif
