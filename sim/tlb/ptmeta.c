#include "sim/tlb/ptmeta.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim/tlb/pte.h"
#include "sim/tlb/tlb.h"
#include "sim/vec.h"

void ptm_init(struct ptmeta *p)
{
	memset(p, 0, sizeof(*p));
	u64map_init(&p->idx);
}

void ptm_fini(struct ptmeta *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		free(p->v[i].links);
	free(p->v);
	u64map_fini(&p->idx);
	memset(p, 0, sizeof(*p));
}

struct pt_info *ptm_get(struct ptmeta *p, uint64_t pfn)
{
	uint32_t i;
	return u64map_get(&p->idx, pfn, &i) ? &p->v[i] : NULL;
}

static struct pt_info *get_or_add(struct ptmeta *p, uint64_t pfn, unsigned level,
                                  bool *added)
{
	struct pt_info *i = ptm_get(p, pfn);
	*added = false;
	if (i) {
		if (!i->live) {
			/* A freed frame reused as a table again. */
			i->live = 1;
			i->level = (uint8_t)level;
			i->nlinks = 0;
			*added = true;
		}
		return i;
	}
	VEC_RESERVE(p->v, p->cap, p->n, 256);
	i = &p->v[p->n];
	memset(i, 0, sizeof(*i));
	i->pfn = pfn;
	i->level = (uint8_t)level;
	i->live = 1;
	u64map_put(&p->idx, pfn, p->n++);
	*added = true;
	return i;
}

static void add_link(struct pt_info *c, uint64_t parent, unsigned index)
{
	VEC_RESERVE(c->links, c->caplinks, c->nlinks, 2);
	c->links[c->nlinks++] = (struct pt_link){parent, index, 0};
}

static void del_link(struct pt_info *c, uint64_t parent, unsigned index)
{
	for (uint32_t k = 0; k < c->nlinks; k++)
		if (c->links[k].parent_pfn == parent && c->links[k].index == index) {
			/* Keep order: paths are enumerated in link order. */
			memmove(&c->links[k], &c->links[k + 1],
			        (c->nlinks - k - 1) * sizeof(c->links[0]));
			c->nlinks--;
			return;
		}
}

static bool link_child(struct ptmeta *p, struct mem *m, uint64_t parent,
                       unsigned index, unsigned level, uint64_t entry);

static void discover(struct ptmeta *p, struct mem *m, uint64_t pfn, unsigned level)
{
	if (level == 1)
		return;
	const uint64_t *d = mem_frame_peek(m, pfn);
	if (!d)
		return; /* all zero */
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = d[i];
		if (pte_present(e) && !pte_is_leaf(e, level))
			link_child(p, m, pfn, i, level, e);
	}
}

/* Entry `entry` at index of a level-`level` table points to a table. */
static bool link_child(struct ptmeta *p, struct mem *m, uint64_t parent,
                       unsigned index, unsigned level, uint64_t entry)
{
	assert(level >= 2);
	uint64_t child = pte_addr(entry, level) >> PAGE_SHIFT;
	struct pt_info *c = ptm_get(p, child);
	if (c && c->live && c->level != level - 1) {
		p->conflicts++;
		return false;
	}
	bool added;
	c = get_or_add(p, child, level - 1, &added);
	add_link(c, parent, index);
	if (added)
		discover(p, m, child, level - 1);
	return true;
}

bool ptm_register(struct ptmeta *p, struct mem *m, uint64_t pfn, unsigned level)
{
	struct pt_info *i = ptm_get(p, pfn);
	if (i && i->live)
		return i->level == level;
	bool added;
	get_or_add(p, pfn, level, &added);
	if (added)
		discover(p, m, pfn, level);
	return true;
}

void ptm_on_write(struct ptmeta *p, struct mem *m, uint64_t table_pfn, unsigned index,
                  unsigned level, uint64_t old, uint64_t nw)
{
	bool old_link = level > 1 && pte_present(old) && !pte_is_leaf(old, level);
	bool new_link = level > 1 && pte_present(nw) && !pte_is_leaf(nw, level);
	if (old_link && new_link && pte_addr(old, level) == pte_addr(nw, level))
		return; /* same child: flags only */
	if (old_link) {
		struct pt_info *c = ptm_get(p, pte_addr(old, level) >> PAGE_SHIFT);
		if (c)
			del_link(c, table_pfn, index);
	}
	if (new_link)
		link_child(p, m, table_pfn, index, level, nw);
}

uint32_t ptm_unregister(struct ptmeta *p, struct mem *m, uint64_t pfn)
{
	struct pt_info *i = ptm_get(p, pfn);
	if (!i || !i->live)
		return 0;
	const uint64_t *d = mem_frame_peek(m, pfn);
	if (d && i->level > 1)
		for (unsigned k = 0; k < 512; k++) {
			uint64_t e = d[k];
			if (pte_present(e) && !pte_is_leaf(e, i->level)) {
				struct pt_info *c = ptm_get(p, pte_addr(e, i->level) >> PAGE_SHIFT);
				if (c)
					del_link(c, pfn, k);
			}
		}
	/* Re-fetch: del_link never reallocates p->v, but be explicit. */
	i = ptm_get(p, pfn);
	i->live = 0;
	return i->nlinks;
}

static uint8_t entry_perm(uint64_t e)
{
	return (uint8_t)(((e & PTE_RW) ? XP_RW : 0) | ((e & PTE_US) ? XP_US : 0) |
	                 ((e & PTE_NX) ? XP_NX : 0));
}

static unsigned paths_rec(struct ptmeta *p, struct mem *m, const struct pt_info *t,
                          uint64_t va_below, uint8_t perm_below, struct pt_path *out,
                          unsigned n, unsigned max, unsigned depth)
{
	if (depth > 4 || n >= max)
		return n;
	if (t->level == 4) {
		out[n++] = (struct pt_path){t->pfn, canonical_va(va_below), perm_below};
		return n;
	}
	for (uint32_t k = 0; k < t->nlinks && n < max; k++) {
		const struct pt_link *l = &t->links[k];
		struct pt_info *parent = ptm_get(p, l->parent_pfn);
		if (!parent || !parent->live || parent->level != t->level + 1)
			continue;
		uint64_t e = mem_read64(m, (l->parent_pfn << PAGE_SHIFT) + 8ull * l->index);
		uint8_t ep = entry_perm(e);
		uint8_t perm = (uint8_t)((perm_below & ep & (XP_RW | XP_US)) |
		                         ((perm_below | ep) & XP_NX));
		uint64_t va = va_below | ((uint64_t)l->index << LEVEL_SHIFT(parent->level));
		n = paths_rec(p, m, parent, va, perm, out, n, max, depth + 1);
	}
	return n;
}

unsigned ptm_paths(struct ptmeta *p, struct mem *m, uint64_t pfn, struct pt_path *out,
                   unsigned max)
{
	struct pt_info *t = ptm_get(p, pfn);
	if (!t || !t->live)
		return 0;
	return paths_rec(p, m, t, 0, XP_RW | XP_US, out, 0, max, 0);
}
