/* Growth of the plain arrays the models keep (records, links, slots).
 * Doubling, from `first` elements; out of host memory is fatal, since a
 * simulation cannot continue without the state it was about to record. */
#ifndef HVSIM_SIM_VEC_H
#define HVSIM_SIM_VEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Ensures room for one more element at index n. */
static inline void vec_reserve(void **v, uint32_t *cap, uint32_t n, size_t elem,
                               uint32_t first)
{
	if (n < *cap)
		return;
	uint32_t nc = *cap ? *cap * 2 : first;
	void *nv = realloc(*v, (size_t)nc * elem);
	if (!nv)
		abort();
	*v = nv;
	*cap = nc;
}

#define VEC_RESERVE(ptr, cap, n, first) \
	vec_reserve((void **)&(ptr), &(cap), (n), sizeof(*(ptr)), (first))

#endif
