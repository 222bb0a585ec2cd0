#include "sim/u64map.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT64_MAX

static inline size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

void u64map_init(struct u64map *m)
{
	memset(m, 0, sizeof(*m));
}

void u64map_fini(struct u64map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

bool u64map_get(const struct u64map *m, uint64_t key, uint32_t *val)
{
	if (!m->cap)
		return false;
	for (size_t i = slot_of(key, m->cap), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		if (m->slots[i].key == key) {
			*val = m->slots[i].val;
			return true;
		}
		if (m->slots[i].key == EMPTY)
			return false;
	}
	return false;
}

static void resize(struct u64map *m, size_t cap)
{
	struct u64map_slot *old = m->slots;
	size_t oldcap = m->cap;
	m->slots = malloc(cap * sizeof(*m->slots));
	if (!m->slots)
		abort();
	for (size_t i = 0; i < cap; i++)
		m->slots[i] = (struct u64map_slot){EMPTY, 0, 0};
	m->cap = cap;
	m->len = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key != EMPTY)
			u64map_put(m, old[i].key, old[i].val);
	free(old);
}

void u64map_put(struct u64map *m, uint64_t key, uint32_t val)
{
	assert(key != EMPTY);
	if ((m->len + 1) * 4 > m->cap * 3)
		resize(m, m->cap ? m->cap * 2 : 64);
	for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].key == key) {
			m->slots[i].val = val;
			return;
		}
		if (m->slots[i].key == EMPTY) {
			m->slots[i] = (struct u64map_slot){key, val, 0};
			m->len++;
			return;
		}
	}
}

bool u64map_del(struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return false;
	size_t mask = m->cap - 1;
	size_t i = slot_of(key, m->cap);
	for (size_t n = 0;; i = (i + 1) & mask, n++) {
		if (n == m->cap || m->slots[i].key == EMPTY)
			return false;
		if (m->slots[i].key == key)
			break;
	}
	/* Backward-shift deletion: move later members of the cluster up if
	 * their home slot is not between the hole and them. */
	size_t hole = i;
	for (size_t j = (i + 1) & mask; m->slots[j].key != EMPTY; j = (j + 1) & mask) {
		size_t home = slot_of(m->slots[j].key, m->cap);
		bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
		if (movable) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	m->slots[hole] = (struct u64map_slot){EMPTY, 0, 0};
	m->len--;
	return true;
}
