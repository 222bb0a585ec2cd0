/* MMU cases of the `pt` target (fuzz/gen/pt_mmu.h). */
#include "fuzz/gen/pt_mmu.h"

#include "fuzz/gen/scbuild.h"

int pt_mmu_case(struct bytesrc *b, struct scenario *sc)
{
	(void)b;
	return scb_op(sc, OP_QUIESCE, 0) ? 0 : -1;
}
