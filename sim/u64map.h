/* An open-addressing map from uint64_t keys to uint32_t values.
 *
 * Keys are integers (frame numbers, record ids), so the layout is a pure
 * function of the inserted keys: iteration over slots is deterministic,
 * though callers that report things still sort or keep insertion order.
 * Deletion uses backward-shift, so there are no tombstones and probe
 * sequences stay short. UINT64_MAX is reserved as the empty key.
 */
#ifndef HVSIM_SIM_U64MAP_H
#define HVSIM_SIM_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key;
	uint32_t val;
	uint32_t pad; /* zero */
};

struct u64map {
	struct u64map_slot *slots;
	size_t cap; /* power of two, 0 when empty */
	size_t len;
};

void u64map_init(struct u64map *m);
void u64map_fini(struct u64map *m);
bool u64map_get(const struct u64map *m, uint64_t key, uint32_t *val);
void u64map_put(struct u64map *m, uint64_t key, uint32_t val);
bool u64map_del(struct u64map *m, uint64_t key);

#endif
