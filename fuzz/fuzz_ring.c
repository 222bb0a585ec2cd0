/* libFuzzer target: the `ring` fuzz target's decoder (fuzz/gen/target_ring.c)
 * fed by libFuzzer's bytes -- the same decoder `hvsim fuzz --target ring`
 * feeds from its PRNG -- and the case run with every property on
 * (fuzz/engine/harness.c says what aborts). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz/engine/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_harness_one("ring", data, size);
}
