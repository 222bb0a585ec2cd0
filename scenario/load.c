/* Scenario loader: YAML (docs/scenario-format.md, hvsim: 1) -> struct
 * scenario. All validation that needs nothing but the text happens here,
 * so a scenario that loads is well formed; what the machine does with it
 * (faults, staleness) is the runner's business.
 *
 * Input is untrusted (the loader is fuzzed): the walk follows the schema,
 * never the document's shape, so its depth is fixed (top -> ops -> op ->
 * run -> op -> expect -> pfec) however deep or cyclic (aliases) the YAML
 * is, and the total number of ops, ipi run ops included, is capped by
 * SC_MAX_OPS before anything is allocated for them.
 */
#include "scenario/scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/profile_load.h"
#include "scenario/yaml_node.h"
#include "sim/event.h"
#include "sim/mem.h"
#include "sim/tlb/pte.h"

#define DEFAULT_PROFILE "skylake"
#define DEFAULT_FRAMES (1ull << 20)
#define MAX_FRAMES (1ull << 40)
#define MAX_DELAY (1ull << 40)
#define MAX_PCID 4095u
/* hv: and the hv_* ops. The direct map's span is hv/hv.h's
 * DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START (scenario/ does not include
 * hv/ headers). */
#define HV_DIRECTMAP_MAX (5ull << 40)
#define HV_DIRECTMAP_ALIGN (2ull << 20)
#define HV_DEFAULT_CEILING 33u
#define HV_MAX_CEILING (1u << 20)
#define HV_MAX_COUNT (1ull << 28)
#define CANONICAL_LOW_END 0x0000800000000000ull
/* PV domains: hv/pv/pv.h's HV_MAX_DOMAINS and HV_MAX_VCPUS, and the
 * hypervisor's reserved L4 slots 256..271, which no guest may map. */
#define PV_MAX_VCPUS 8u
#define HV_RESERVED_START 0xffff800000000000ull
#define HV_RESERVED_END 0xffff880000000000ull /* exclusive */

#include "scenario/load_internal.h"

/* ---- field helpers ---------------------------------------------------- */

/* 1: present (*n set); 0: absent and optional; -1: absent but required
 * (reported at the op). */
int field(struct loader *L, const struct opctx *o, const char *name,
                 int req, const yaml_node_t **n)
{
	*n = y_get(&o->f, name);
	if (*n)
		return 1;
	if (!req)
		return 0;
	return y_err(&L->y, o->map, "%s: missing required field '%s' for op %s",
	             o->where, name, o->name);
}

int f_u64(struct loader *L, const struct opctx *o, const char *name,
                 int req, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const yaml_node_t *n;
	char p[128];
	int r = field(L, o, name, req, &n);
	if (r <= 0)
		return r;
	y_path(p, sizeof(p), o->where, name);
	return y_u64_range(&L->y, n, p, lo, hi, out);
}

int f_u32(struct loader *L, const struct opctx *o, const char *name,
                 int req, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v = *out;
	if (f_u64(L, o, name, req, lo, hi, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int f_bool(struct loader *L, const struct opctx *o, const char *name,
                  bool *out)
{
	const yaml_node_t *n;
	char p[128];
	if (field(L, o, name, OPT, &n) <= 0)
		return 0;
	y_path(p, sizeof(p), o->where, name);
	return y_bool(&L->y, n, p, out);
}

/* Optional bool -> -1 (absent), 0, 1. */
static int f_tri(struct loader *L, const struct opctx *o, const char *name,
                 int8_t *out)
{
	bool b;
	*out = -1;
	if (!y_get(&o->f, name))
		return 0;
	if (f_bool(L, o, name, &b))
		return -1;
	*out = b;
	return 0;
}

static int find_root(const struct scenario *s, const char *name)
{
	for (uint32_t i = 0; i < s->nroots; i++)
		if (strcmp(s->roots[i], name) == 0)
			return (int)i;
	return -1;
}

/* A reference to a table name (defined by pt_new or unlink's save) in
 * field `key`; sets op->root. Returns 1 if absent and optional. */
static int f_table_ref(struct loader *L, const struct opctx *o, const char *key, int req,
                       struct op *op)
{
	const yaml_node_t *n;
	char p[128], q[64];
	char *name = NULL;
	int r = field(L, o, key, req, &n);
	if (r < 0)
		return -1;
	if (r == 0)
		return 1;
	y_path(p, sizeof(p), o->where, key);
	if (y_str(&L->y, n, p, false, &name))
		return -1;
	int i = find_root(L->s, name);
	y_quote(q, sizeof(q), name, strlen(name));
	free(name);
	if (i < 0)
		return y_err(&L->y, n, "%s: undefined table '%s' (define it with an "
		             "earlier pt_new, or unlink's save)", p, q);
	op->root = (uint32_t)i;
	op->has_root = true;
	return 0;
}

static int f_root(struct loader *L, const struct opctx *o, struct op *op)
{
	return f_table_ref(L, o, "root", REQ, op) < 0 ? -1 : 0;
}

static int want_canonical(struct loader *L, const struct opctx *o, uint64_t va)
{
	if (CANONICAL(va))
		return 0;
	return y_err(&L->y, y_get(&o->f, "va"), "%s.va: 0x%" PRIx64 " is not "
	             "canonical (bits 63:48 must equal bit 47)", o->where, va);
}

static int f_pa(struct loader *L, const struct opctx *o, uint64_t *pa)
{
	if (f_u64(L, o, "pa", REQ, 0, UINT64_MAX, pa))
		return -1;
	if (*pa < PA_LIMIT)
		return 0;
	return y_err(&L->y, y_get(&o->f, "pa"), "%s.pa: 0x%" PRIx64 " is not "
	             "below 2^52 (the physical address width)", o->where, *pa);
}

/* ---- page-table ops --------------------------------------------------- */

static int grow_roots(struct loader *L)
{
	struct scenario *s = L->s;
	if (s->nroots < L->roots_cap)
		return 0;
	uint32_t cap = L->roots_cap ? L->roots_cap * 2 : 16;
	char **r = realloc(s->roots, cap * sizeof(*r));
	if (!r)
		return y_err_nopos(&L->y, "out of memory");
	s->roots = r;
	L->roots_cap = cap;
	return 0;
}

/* Defines a new table name from field `key`; returns its index in *idx,
 * or 1 if the field is absent and optional. */
static int define_name(struct loader *L, const struct opctx *o, const char *key, int req,
                       uint32_t *idx)
{
	const yaml_node_t *n;
	char p[128], q[64];
	char *name = NULL;
	int r = field(L, o, key, req, &n);
	if (r < 0)
		return -1;
	if (r == 0)
		return 1;
	y_path(p, sizeof(p), o->where, key);
	if (y_str(&L->y, n, p, false, &name))
		return -1;
	y_quote(q, sizeof(q), name, strlen(name));
	int bad = find_root(L->s, name) >= 0 ? 1 : L->s->nroots >= SC_MAX_ROOTS ? 2 : 0;
	if (bad || grow_roots(L)) {
		free(name);
		if (bad == 1)
			return y_err(&L->y, n, "%s: root '%s' is already defined", p, q);
		if (bad == 2)
			return y_err(&L->y, n, "%s: too many roots (at most %u)", p,
			             SC_MAX_ROOTS);
		return -1;
	}
	*idx = L->s->nroots;
	L->s->roots[L->s->nroots++] = name;
	return 0;
}

static int parse_pt_new(struct loader *L, const struct opctx *o, struct op *op)
{
	if (define_name(L, o, "name", REQ, &op->root) < 0)
		return -1;
	op->has_root = true;
	return 0;
}

/* The flag names an op's `flags` field takes, and where each bit goes. */
struct flag_set {
	const struct pte_flag_name *names; /* NULL-terminated; PS never taken */
	const char *no_ps;  /* why PS is refused */
	const char *bits;   /* the bits an integer may have, for messages */
};

/* map: PAT at bit 12 (a large leaf's place; the runner moves it for 4k). */
static const struct flag_set map_set = {
	pte_flag_names, "the map op sets it for 2m and 1g pages",
	"P RW US PWT PCD A D G PAT(bit 12) NX (PS is set by the map op)",
};

/* hv_map/hv_modify: the hypervisor's 4 KiB form (hv/mm/page.h), PAT at
 * bit 7; hv/ moves it to bit 12 itself for a superpage. */
static const struct pte_flag_name hv_flag_names[] = {
	{"P", PTE_P},     {"RW", PTE_RW}, {"US", PTE_US}, {"PWT", PTE_PWT},
	{"PCD", PTE_PCD}, {"A", PTE_A},   {"D", PTE_D},   {"G", PTE_G},
	{"PAT", PTE_PAT4K}, {"NX", PTE_NX}, {NULL, 0},
};

static const struct flag_set hv_set = {
	hv_flag_names, "the hypervisor chooses page sizes; bit 7 is PAT here",
	"P RW US PWT PCD A D PAT(bit 7) G NX (page sizes are the hypervisor's; "
	"use small for MAP_SMALL_PAGES)",
};

/* guest_map: the same 4 KiB form (an L1 entry, PAT at bit 7). */
static const struct flag_set guest_set = {
	hv_flag_names, "guest_map writes 4 KiB leaves; bit 7 is PAT here",
	"P RW US PWT PCD A D PAT(bit 7) G NX (guest_map writes 4 KiB leaves)",
};

/* Xen's PAGE_HYPERVISOR: the hv_map default. */
#define HV_DEFAULT_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX | PTE_G)

/* Flags an op may name: PS is never one (a map op sets it itself). */
static uint64_t flag_mask(const struct flag_set *fs)
{
	uint64_t m = 0;
	for (const struct pte_flag_name *f = fs->names; f->name; f++)
		if (strcmp(f->name, "PS") != 0)
			m |= f->bit;
	return m;
}

static int flag_bit(struct loader *L, const struct flag_set *fs,
                    const yaml_node_t *n, const char *p, uint64_t *bit)
{
	char q[64];
	y_quote_node(q, sizeof(q), n);
	if (y_is(n, "PS"))
		return y_err(&L->y, n, "%s: PS is not allowed (%s)", p, fs->no_ps);
	for (const struct pte_flag_name *f = fs->names; f->name; f++)
		if (y_is(n, f->name)) {
			*bit = f->bit;
			return 0;
		}
	return y_err(&L->y, n, "%s: unknown flag '%s' (expected: P, RW, US, PWT, "
	             "PCD, A, D, G, PAT, NX)", p, q);
}

static int flag_list(struct loader *L, const struct flag_set *fs,
                     const yaml_node_t *n, const char *p, uint64_t *flags)
{
	char ip[160];
	*flags = 0;
	for (size_t i = 0; i < y_seq_len(n); i++) {
		const yaml_node_t *it = y_seq_item(&L->y, n, i);
		uint64_t bit = 0;
		snprintf(ip, sizeof(ip), "%.100s[%zu]", p, i);
		if (flag_bit(L, fs, it, ip, &bit))
			return -1;
		if (*flags & bit)
			return y_err(&L->y, it, "%s: flag listed twice", ip);
		*flags |= bit;
	}
	return 0;
}

/* `flags`: a sequence of names or an integer; dflt when absent and
 * optional. */
static int op_flags(struct loader *L, const struct opctx *o, const struct flag_set *fs,
                    int req, uint64_t dflt, struct op *op)
{
	const yaml_node_t *n;
	char p[128];
	int r = field(L, o, "flags", req, &n);
	if (r <= 0) {
		op->flags = dflt;
		return r;
	}
	y_path(p, sizeof(p), o->where, "flags");
	if (n->type == YAML_SEQUENCE_NODE)
		return flag_list(L, fs, n, p, &op->flags);
	size_t len;
	const char *s = y_scalar(n, &len);
	if (!s || y_is_null(n) || y_parse_u64(s, len, &op->flags)) {
		char q[64];
		y_quote_node(q, sizeof(q), n);
		return y_err(&L->y, n, "%s: expected a sequence of flag names or an "
		             "integer, got '%s'", p, q);
	}
	if (op->flags & ~flag_mask(fs))
		return y_err(&L->y, n, "%s: 0x%" PRIx64 " has bits other than %s", p,
		             op->flags, fs->bits);
	return 0;
}

static int map_flags(struct loader *L, const struct opctx *o, struct op *op)
{
	return op_flags(L, o, &map_set, OPT, PTE_P | PTE_RW, op);
}

static int parse_map(struct loader *L, const struct opctx *o, struct op *op)
{
	static const char *const sizes[] = {"4k", "2m", "1g", NULL};
	static const uint32_t log2s[] = {12, 21, 30};
	const yaml_node_t *n;
	char p[128];
	int sz = 0;

	if (f_root(L, o, op) || f_u64(L, o, "va", REQ, 0, UINT64_MAX, &op->va) ||
	    f_pa(L, o, &op->pa))
		return -1;
	if (field(L, o, "size", OPT, &n) > 0) {
		y_path(p, sizeof(p), o->where, "size");
		if (y_enum(&L->y, n, p, sizes, &sz))
			return -1;
	}
	op->size_log2 = log2s[sz];
	uint64_t mask = (1ull << op->size_log2) - 1;
	if (want_canonical(L, o, op->va))
		return -1;
	if (op->va & mask)
		return y_err(&L->y, y_get(&o->f, "va"), "%s.va: 0x%" PRIx64 " is not "
		             "aligned to the %s page size", o->where, op->va, sizes[sz]);
	if (op->pa & mask)
		return y_err(&L->y, y_get(&o->f, "pa"), "%s.pa: 0x%" PRIx64 " is not "
		             "aligned to the %s page size", o->where, op->pa, sizes[sz]);
	return map_flags(L, o, op);
}

/* root + canonical va: the common head of the table-editing ops. */
static int root_va(struct loader *L, const struct opctx *o, struct op *op)
{
	if (f_root(L, o, op) || f_u64(L, o, "va", REQ, 0, UINT64_MAX, &op->va))
		return -1;
	return want_canonical(L, o, op->va);
}

static int parse_unmap(struct loader *L, const struct opctx *o, struct op *op)
{
	return root_va(L, o, op);
}

static int parse_write_pte(struct loader *L, const struct opctx *o, struct op *op)
{
	if (root_va(L, o, op) || f_u32(L, o, "level", REQ, 1, 4, &op->level) ||
	    f_u64(L, o, "value", REQ, 0, UINT64_MAX, &op->value))
		return -1;
	op->has_value = true;
	return 0;
}

static int parse_unlink(struct loader *L, const struct opctx *o, struct op *op)
{
	if (root_va(L, o, op) || f_u32(L, o, "level", REQ, 2, 4, &op->level) ||
	    f_bool(L, o, "free", &op->free_tables))
		return -1;
	int r = define_name(L, o, "save", OPT, &op->save);
	if (r < 0)
		return -1;
	op->has_save = r == 0;
	if (op->has_save && op->free_tables)
		return y_err(&L->y, o->map, "%s: unlink cannot both save and free the "
		             "table", o->where);
	return 0;
}

static int parse_free(struct loader *L, const struct opctx *o, struct op *op)
{
	int r = f_table_ref(L, o, "table", OPT, op);
	if (r < 0)
		return -1;
	bool has_pa = y_get(&o->f, "pa") != NULL;
	if ((r == 0) == has_pa)
		return y_err(&L->y, o->map, "%s: free needs exactly one of 'table' "
		             "and 'pa'", o->where);
	if (r == 0)
		return 0;
	if (f_pa(L, o, &op->pa))
		return -1;
	if (op->pa & (PAGE_SIZE - 1))
		return y_err(&L->y, y_get(&o->f, "pa"), "%s.pa: 0x%" PRIx64 " is not "
		             "a frame address (4k aligned)", o->where, op->pa);
	return 0;
}

/* ---- hypervisor ops ---------------------------------------------------- */

/* The hv_* ops act on the hypervisor core's own tables: the scenario must
 * configure it (load_top reads hv: before ops). */
int want_hv(struct loader *L, const struct opctx *o)
{
	if (L->s->hv.enabled)
		return 0;
	return y_err(&L->y, o->map, "%s: %s needs an hv: section", o->where, o->name);
}

static int want_4k(struct loader *L, const struct opctx *o, const char *key, uint64_t v)
{
	if (!(v & (PAGE_SIZE - 1)))
		return 0;
	return y_err(&L->y, y_get(&o->f, key), "%s.%s: 0x%" PRIx64 " is not "
	             "aligned to the 4k page size", o->where, key, v);
}

/* va (canonical, 4k aligned) and count (pages, 1..2^28): the range
 * [va, va + count * 4k) stays inside va's canonical half. */
static int hv_range(struct loader *L, const struct opctx *o, struct op *op)
{
	if (want_hv(L, o) || f_u64(L, o, "va", REQ, 0, UINT64_MAX, &op->va) ||
	    want_canonical(L, o, op->va) || want_4k(L, o, "va", op->va) ||
	    f_u64(L, o, "count", REQ, 1, HV_MAX_COUNT, &op->count))
		return -1;
	bool low = op->va < CANONICAL_LOW_END;
	/* Bytes left up to the end of the half (2^64 - va in the upper one). */
	uint64_t room = low ? CANONICAL_LOW_END - op->va : 0 - op->va;
	uint64_t most = room >> PAGE_SHIFT;
	if (op->count <= most)
		return 0;
	return y_err(&L->y, y_get(&o->f, "count"), "%s.count: %" PRIu64 " pages "
	             "from 0x%" PRIx64 " run past the end of the canonical %s half "
	             "(at most %" PRIu64 ")", o->where, op->count, op->va,
	             low ? "lower" : "upper", most);
}

static int want_present(struct loader *L, const struct opctx *o, const struct op *op,
                        const char *why)
{
	const yaml_node_t *n = y_get(&o->f, "flags");
	if (op->flags & PTE_P)
		return 0;
	return y_err(&L->y, n ? n : o->map, "%s.flags: must include P (%s)",
	             o->where, why);
}

#define HV_PRESENT_WHY "the hv ops only make present mappings; hv_destroy removes them"

static int parse_hv_map(struct loader *L, const struct opctx *o, struct op *op)
{
	if (hv_range(L, o, op) || f_pa(L, o, &op->pa) || want_4k(L, o, "pa", op->pa) ||
	    op_flags(L, o, &hv_set, OPT, HV_DEFAULT_FLAGS, op) ||
	    want_present(L, o, op, HV_PRESENT_WHY))
		return -1;
	return f_bool(L, o, "small", &op->small);
}

static int parse_hv_modify(struct loader *L, const struct opctx *o, struct op *op)
{
	if (hv_range(L, o, op) || op_flags(L, o, &hv_set, REQ, 0, op))
		return -1;
	return want_present(L, o, op, HV_PRESENT_WHY);
}

static int parse_hv_destroy(struct loader *L, const struct opctx *o, struct op *op)
{
	return hv_range(L, o, op);
}

/* ---- PV domain ops ----------------------------------------------------- */

/* Xen's default guest mappings (_PAGE_PRESENT|_PAGE_RW|_PAGE_ACCESSED|
 * _PAGE_DIRTY, plus _PAGE_USER for the user page table). */
#define GUEST_DEFAULT_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)

/* domain: ids 0, 1, ... in file order (domain ops are never in an ipi
 * run, so file order is execution order). */
static int parse_domain(struct loader *L, const struct opctx *o, struct op *op)
{
	if (want_hv(L, o))
		return -1;
	if (L->ndomains >= PV_MAX_DOMAINS)
		return y_err(&L->y, o->map, "%s: too many domains (at most %u)",
		             o->where, PV_MAX_DOMAINS);
	if (f_u32(L, o, "vcpus", REQ, 1, PV_MAX_VCPUS, &op->vcpu) ||
	    f_tri(L, o, "xpti", &op->xpti))
		return -1;
	op->domain = L->ndomains;
	L->dom_vcpus[L->ndomains++] = op->vcpu;
	return 0;
}

/* A Valgrind lackey trace replayed by the running guest: the file is
 * read when the op runs (its errors name the file and line then). */
static int parse_lackey(struct loader *L, const struct opctx *o, struct op *op)
{
	const yaml_node_t *n;
	char p[128];
	if (want_hv(L, o) || field(L, o, "file", REQ, &n) < 0)
		return -1;
	y_path(p, sizeof(p), o->where, "file");
	if (y_str(&L->y, n, p, false, &op->file))
		return -1;
	op->user = true;
	op->limit = 1000000;
	if (y_get(&o->f, "user") && f_bool(L, o, "user", &op->user))
		return -1;
	return f_u64(L, o, "limit", OPT, 1, 100000000, &op->limit);
}

static int parse_vcpu_run(struct loader *L, const struct opctx *o, struct op *op)
{
	if (want_hv(L, o) || f_u32(L, o, "domain", REQ, 0, UINT32_MAX, &op->domain))
		return -1;
	if (op->domain >= L->ndomains)
		return y_err(&L->y, y_get(&o->f, "domain"), "%s.domain: no domain %"
		             PRIu32 " (%" PRIu32 " defined above)", o->where,
		             op->domain, L->ndomains);
	if (f_u32(L, o, "vcpu", REQ, 0, UINT32_MAX, &op->vcpu))
		return -1;
	uint32_t n = L->dom_vcpus[op->domain];
	if (op->vcpu < n)
		return 0;
	return y_err(&L->y, y_get(&o->f, "vcpu"), "%s.vcpu: no vCPU %" PRIu32
	             " in domain %" PRIu32 " (it has %" PRIu32 ")", o->where,
	             op->vcpu, op->domain, n);
}

/* idle, syscall: no fields, but the hypervisor must be there. */
static int parse_hv_none(struct loader *L, const struct opctx *o, struct op *op)
{
	return want_hv(L, o);
}

static int parse_guest_map(struct loader *L, const struct opctx *o, struct op *op)
{
	if (want_hv(L, o) || f_u64(L, o, "va", REQ, 0, UINT64_MAX, &op->va) ||
	    want_canonical(L, o, op->va) || want_4k(L, o, "va", op->va))
		return -1;
	if (op->va >= HV_RESERVED_START && op->va < HV_RESERVED_END)
		return y_err(&L->y, y_get(&o->f, "va"), "%s.va: 0x%" PRIx64 " is in "
		             "the hypervisor's reserved range 0xffff800000000000.."
		             "0xffff87ffffffffff (L4 slots 256..271; a guest maps the "
		             "lower half or 0xffff880000000000 and up)", o->where, op->va);
	if (f_pa(L, o, &op->pa) || want_4k(L, o, "pa", op->pa) ||
	    f_bool(L, o, "user", &op->user) ||
	    op_flags(L, o, &guest_set, OPT,
	             GUEST_DEFAULT_FLAGS | (op->user ? PTE_US : 0), op))
		return -1;
	return want_present(L, o, op, "guest_map only makes present mappings");
}

/* ---- vm_event rings (seed 004) ---------------------------------------- */

#define RING_MAX_COUNT 1000000u
#define RING_MAX_CYCLES (1ull << 32)
#define RING_MAX_SLOTS 64u /* hv/vm_event's VM_EVENT_MAX_SLOTS */

static int want_rings(struct loader *L, const struct opctx *o)
{
	if (want_hv(L, o))
		return -1;
	if (L->s->rings.enabled)
		return 0;
	return y_err(&L->y, o->map, "%s: op %s needs a rings: section (mode: waitq "
	             "or pause)", o->where, o->name);
}

static int f_enum(struct loader *L, const struct opctx *o, const char *name, int req,
                  const char *const *names, int *out)
{
	const yaml_node_t *n;
	char p[128];
	int r = field(L, o, name, req, &n);
	if (r <= 0)
		return r;
	y_path(p, sizeof(p), o->where, name);
	return y_enum(&L->y, n, p, names, out);
}

/* domain: defined above; ring: paging | access | sharing. */
static int ring_target(struct loader *L, const struct opctx *o, struct op *op, bool ring)
{
	static const char *const rings[] = {"paging", "access", "sharing", NULL};
	if (want_rings(L, o) || f_u32(L, o, "domain", REQ, 0, UINT32_MAX, &op->domain))
		return -1;
	if (op->domain >= L->ndomains)
		return y_err(&L->y, y_get(&o->f, "domain"), "%s.domain: no domain %"
		             PRIu32 " (%" PRIu32 " defined above)", o->where,
		             op->domain, L->ndomains);
	int k = 0;
	if (ring && f_enum(L, o, "ring", REQ, rings, &k))
		return -1;
	op->ring = (uint32_t)k;
	return 0;
}

static int parse_ring_enable(struct loader *L, const struct opctx *o, struct op *op)
{
	op->slots = RING_MAX_SLOTS;
	if (ring_target(L, o, op, true) ||
	    f_u32(L, o, "slots", OPT, 1, RING_MAX_SLOTS, &op->slots))
		return -1;
	if (op->slots & (op->slots - 1))
		return y_err(&L->y, y_get(&o->f, "slots"), "%s.slots: %" PRIu32 " is not a "
		             "power of two (io/ring.h rings have 2^n slots)", o->where, op->slots);
	return 0;
}

static int parse_ring_disable(struct loader *L, const struct opctx *o, struct op *op)
{
	static const char *const busy[] = {"fail", "retry", "drain", NULL};
	int b = SC_BUSY_FAIL;
	op->retries = 100;
	op->retry = 1000;
	if (ring_target(L, o, op, true) || f_enum(L, o, "on_busy", OPT, busy, &b) ||
	    f_u32(L, o, "retries", OPT, 1, RING_MAX_COUNT, &op->retries) ||
	    f_u64(L, o, "delay", OPT, 1, RING_MAX_CYCLES, &op->retry))
		return -1;
	op->on_busy = (uint32_t)b;
	return 0;
}

static int parse_vm_event(struct loader *L, const struct opctx *o, struct op *op)
{
	static const char *const kinds[] = {"populate", "drop", "access", "share",
	                                    "populate_back", NULL};
	static const uint32_t types[] = {SC_VE_POPULATE, SC_VE_DROP, SC_VE_ACCESS, SC_VE_SHARE,
	                                 SC_VE_POPULATE_BACK};
	static const uint32_t ring_of[] = {RING_KIND_PAGING, RING_KIND_PAGING, RING_KIND_ACCESS,
	                                   RING_KIND_SHARING, RING_KIND_PAGING};
	int k;
	op->count = 1;
	op->gfn = 0x1000;
	if (ring_target(L, o, op, false) || f_u32(L, o, "vcpu", REQ, 0, UINT32_MAX, &op->vcpu))
		return -1;
	if (op->vcpu >= L->dom_vcpus[op->domain])
		return y_err(&L->y, y_get(&o->f, "vcpu"), "%s.vcpu: no vCPU %" PRIu32
		             " in domain %" PRIu32 " (it has %" PRIu32 ")", o->where,
		             op->vcpu, op->domain, L->dom_vcpus[op->domain]);
	if (f_enum(L, o, "kind", REQ, kinds, &k) ||
	    f_u64(L, o, "count", OPT, 1, RING_MAX_COUNT, &op->count) ||
	    f_u64(L, o, "gap", OPT, 0, RING_MAX_CYCLES, &op->gap) ||
	    f_u64(L, o, "gfn", OPT, 0, (1ull << 40) - 1, &op->gfn))
		return -1;
	op->ev_type = types[k];
	op->ring = ring_of[k];
	/* A vCPU runs on one pCPU: its events are that CPU's program. */
	int *pin = &L->vcpu_cpu[op->domain][op->vcpu];
	if (*pin && *pin != op->cpu + 1)
		return y_err(&L->y, o->map, "%s: vCPU %" PRIu32 " of domain %" PRIu32 " runs on "
		             "cpu %d (its first vm_event), not cpu %d", o->where, op->vcpu,
		             op->domain, *pin - 1, op->cpu);
	*pin = op->cpu + 1;
	return 0;
}

static int parse_foreign(struct loader *L, const struct opctx *o, struct op *op)
{
	op->count = 1;
	op->retry = 200;
	op->retries = 100000;
	op->gfn = 0x100000;
	return ring_target(L, o, op, true) ||
	       f_u64(L, o, "count", OPT, 1, RING_MAX_COUNT, &op->count) ||
	       f_u64(L, o, "hold", OPT, 0, RING_MAX_CYCLES, &op->hold) ||
	       f_bool(L, o, "release", &op->release) ||
	       f_u64(L, o, "retry", OPT, 1, RING_MAX_CYCLES, &op->retry) ||
	       f_u32(L, o, "retries", OPT, 1, RING_MAX_COUNT, &op->retries) ? -1 : 0;
}

static int parse_helper(struct loader *L, const struct opctx *o, struct op *op)
{
	op->latency = 1000;
	op->burst = 1;
	op->count = 0;
	return ring_target(L, o, op, true) ||
	       f_u64(L, o, "latency", OPT, 0, RING_MAX_CYCLES, &op->latency) ||
	       f_u64(L, o, "burst", OPT, 1, RING_MAX_SLOTS, &op->burst) ||
	       f_u64(L, o, "count", OPT, 0, RING_MAX_COUNT, &op->count) ? -1 : 0;
}

static int parse_helper_stall(struct loader *L, const struct opctx *o, struct op *op)
{
	return ring_target(L, o, op, true) ||
	       f_u64(L, o, "cycles", REQ, 1, RING_MAX_CYCLES, &op->cycles) ? -1 : 0;
}

/* ---- control registers and TLB instructions --------------------------- */

static int parse_cr0(struct loader *L, const struct opctx *o, struct op *op)
{
	return f_tri(L, o, "wp", &op->wp);
}

static int cr3_value(struct loader *L, const struct opctx *o, struct op *op)
{
	static const char *const root_only[] = {"pcid", "noflush", NULL};
	for (int i = 0; root_only[i]; i++) {
		const yaml_node_t *k = y_get_key(&o->f, root_only[i]);
		if (k)
			return y_err(&L->y, k, "%s.%s: only allowed with root (value "
			             "is the raw CR3)", o->where, root_only[i]);
	}
	if (f_u64(L, o, "value", REQ, 0, UINT64_MAX, &op->value))
		return -1;
	op->has_value = true;
	return 0;
}

static int parse_cr3(struct loader *L, const struct opctx *o, struct op *op)
{
	const yaml_node_t *rk = y_get_key(&o->f, "root");
	const yaml_node_t *vk = y_get_key(&o->f, "value");
	if (rk && vk)
		return y_err(&L->y, vk, "%s: cr3 takes either root or value, not both",
		             o->where);
	if (!rk && !vk)
		return y_err(&L->y, o->map, "%s: cr3 needs root (with optional pcid "
		             "and noflush) or value", o->where);
	if (vk)
		return cr3_value(L, o, op);
	if (f_root(L, o, op) || f_u32(L, o, "pcid", OPT, 0, MAX_PCID, &op->pcid))
		return -1;
	return f_bool(L, o, "noflush", &op->noflush);
}

static int parse_cr4(struct loader *L, const struct opctx *o, struct op *op)
{
	if (f_tri(L, o, "pge", &op->pge) || f_tri(L, o, "pcide", &op->pcide) ||
	    f_tri(L, o, "smep", &op->smep))
		return -1;
	if (op->pge < 0 && op->pcide < 0 && op->smep < 0)
		return y_err(&L->y, o->map, "%s: cr4 needs pge, pcide or smep",
		             o->where);
	return 0;
}

static int parse_invlpg(struct loader *L, const struct opctx *o, struct op *op)
{
	/* Any address: INVLPG of a non-canonical one is a NOP the CPU models. */
	return f_u64(L, o, "va", REQ, 0, UINT64_MAX, &op->va);
}

static int parse_invpcid(struct loader *L, const struct opctx *o, struct op *op)
{
	/* Out-of-range type and PCID are accepted: the CPU must #GP on them. */
	if (f_u32(L, o, "type", REQ, 0, UINT32_MAX, &op->type) ||
	    f_u32(L, o, "pcid", OPT, 0, UINT32_MAX, &op->pcid))
		return -1;
	return f_u64(L, o, "va", OPT, 0, UINT64_MAX, &op->va);
}

static int parse_clflush(struct loader *L, const struct opctx *o, struct op *op)
{
	return f_pa(L, o, &op->pa);
}

static int parse_none(struct loader *L, const struct opctx *o, struct op *op)
{
	return 0;
}

static int parse_access(struct loader *L, const struct opctx *o, struct op *op)
{
	static const char *const kinds[] = {"read", "write", "exec", NULL};
	static const uint32_t acc[] = {ACC_READ, ACC_WRITE, ACC_EXEC};
	const yaml_node_t *n;
	char p[128];
	int k = 0;
	bool user = false;

	if (f_u64(L, o, "va", REQ, 0, UINT64_MAX, &op->va))
		return -1;
	if (field(L, o, "kind", OPT, &n) > 0) {
		y_path(p, sizeof(p), o->where, "kind");
		if (y_enum(&L->y, n, p, kinds, &k))
			return -1;
	}
	if (f_bool(L, o, "user", &user))
		return -1;
	op->acc = acc[k] | (user ? ACC_USER : 0);
	return 0;
}

static int parse_delay(struct loader *L, const struct opctx *o, struct op *op)
{
	return f_u64(L, o, "cycles", REQ, 1, MAX_DELAY, &op->cycles);
}

/* ---- ipi -------------------------------------------------------------- */

static int parse_op(struct loader *L, const yaml_node_t *n, const char *where,
                    bool sub, struct op *op);

static int ipi_targets(struct loader *L, const struct opctx *o, struct op *op)
{
	const yaml_node_t *n;
	char p[128], ip[160];
	if (field(L, o, "to", REQ, &n) < 0)
		return -1;
	y_path(p, sizeof(p), o->where, "to");
	if (y_want_seq(&L->y, n, p))
		return -1;
	if (y_seq_len(n) == 0)
		return y_err(&L->y, n, "%s: must name at least one target CPU", p);
	for (size_t i = 0; i < y_seq_len(n); i++) {
		const yaml_node_t *it = y_seq_item(&L->y, n, i);
		uint64_t cpu;
		snprintf(ip, sizeof(ip), "%.100s[%zu]", p, i);
		if (y_u64_range(&L->y, it, ip, 0, L->s->ncpus - 1, &cpu))
			return -1;
		if (cpu == (uint64_t)op->cpu)
			return y_err(&L->y, it, "%s: CPU %" PRIu64 " is the sender (an "
			             "IPI to itself is not supported)", ip, cpu);
		if (op->to[cpu / 64] & (1ull << (cpu % 64)))
			return y_err(&L->y, it, "%s: CPU %" PRIu64 " listed twice", ip, cpu);
		op->to[cpu / 64] |= 1ull << (cpu % 64);
	}
	return 0;
}

static int ipi_run(struct loader *L, const struct opctx *o, struct op *op)
{
	const yaml_node_t *n;
	char p[128], ip[160];
	if (field(L, o, "run", REQ, &n) < 0)
		return -1;
	y_path(p, sizeof(p), o->where, "run");
	if (y_is_null(n))
		return 0;
	if (y_want_seq(&L->y, n, p))
		return -1;
	size_t len = y_seq_len(n);
	if (len == 0)
		return 0;
	if (len > L->budget)
		return y_err(&L->y, n, "%s: too many ops (at most %u in all, ipi run "
		             "ops included)", p, SC_MAX_OPS);
	op->sub = calloc(len, sizeof(*op->sub));
	if (!op->sub)
		return y_err_nopos(&L->y, "out of memory");
	op->nsub = (uint32_t)len;
	for (size_t i = 0; i < len; i++) {
		snprintf(ip, sizeof(ip), "%.100s[%zu]", p, i);
		if (parse_op(L, y_seq_item(&L->y, n, i), ip, true, &op->sub[i]))
			return -1;
	}
	return 0;
}

static int parse_ipi(struct loader *L, const struct opctx *o, struct op *op)
{
	if (ipi_targets(L, o, op))
		return -1;
	return ipi_run(L, o, op);
}

/* ---- op table --------------------------------------------------------- */

/* ---- time ops (seed 002) --------------------------------------------- */

#define TIME_MAX_COUNT 10000000ull
#define TIME_MAX_PPM 100000 /* |ppm| bound: 10 % (sim/tsc TSC_MAX_PPB) */

static int want_time(struct loader *L, const struct opctx *o)
{
	if (L->s->time.enabled)
		return 0;
	return y_err(&L->y, o->map, "%s: %s needs a time: section", o->where, o->name);
}

/* A signed decimal scalar within [lo, hi]. */
static int y_s64_range(struct loader *L, const yaml_node_t *n, const char *path, int64_t lo,
                       int64_t hi, int64_t *out)
{
	size_t len;
	const char *s = n ? y_scalar(n, &len) : NULL;
	uint64_t mag;
	bool neg = s && len > 1 && s[0] == '-';
	if (!s || y_parse_u64(s + neg, len - neg, &mag) || mag > (uint64_t)INT64_MAX)
		return y_err(&L->y, n, "%s: expected a signed integer", path);
	int64_t v = neg ? -(int64_t)mag : (int64_t)mag;
	if (v < lo || v > hi)
		return y_err(&L->y, n, "%s: %" PRId64 " is out of range %" PRId64 "..%" PRId64, path,
		             v, lo, hi);
	*out = v;
	return 0;
}

static int parse_time_read(struct loader *L, const struct opctx *o, struct op *op)
{
	static const char *const who[] = {"guest", "hv", NULL};
	const yaml_node_t *n;
	char p[128];
	int i = 0;
	if (want_time(L, o))
		return -1;
	if (field(L, o, "who", OPT, &n) > 0) {
		y_path(p, sizeof(p), o->where, "who");
		if (y_enum(&L->y, n, p, who, &i))
			return -1;
	}
	op->acc = (uint32_t)i;
	op->count = 1;
	return f_u64(L, o, "count", OPT, 1, TIME_MAX_COUNT, &op->count) ||
	       f_u64(L, o, "every", OPT, 0, MAX_DELAY, &op->cycles);
}

static int parse_time_sched(struct loader *L, const struct opctx *o, struct op *op)
{
	if (want_time(L, o))
		return -1;
	return f_u32(L, o, "vcpu", REQ, 0, L->s->time.vcpus - 1, &op->vcpu);
}

static int parse_time_msg(struct loader *L, const struct opctx *o, struct op *op)
{
	if (want_time(L, o))
		return -1;
	bool v = y_get(&o->f, "vcpu"), h = y_get(&o->f, "hv_to");
	if (v == h)
		return y_err(&L->y, o->map, "%s: time_msg needs exactly one of 'vcpu' (to a "
		             "guest vCPU) or 'hv_to' (to the hypervisor on a CPU)", o->where);
	if (v)
		return f_u32(L, o, "vcpu", REQ, 0, L->s->time.vcpus - 1, &op->vcpu);
	op->has_value = true;
	return f_u64(L, o, "hv_to", REQ, 0, L->s->ncpus - 1, &op->value);
}

static int parse_tsc(struct loader *L, const struct opctx *o, struct op *op)
{
	static const char *const kinds[] = {"write", "adjust", "cstate", "freq_ppm", NULL};
	static const uint32_t types[] = {TSCE_WRITE, TSCE_ADJUST, TSCE_CSTATE, TSCE_FREQ};
	int found = -1;
	if (want_time(L, o))
		return -1;
	for (int i = 0; kinds[i]; i++)
		if (y_get(&o->f, kinds[i])) {
			if (found >= 0)
				return y_err(&L->y, o->map, "%s: tsc takes one of write, adjust, cstate, "
				             "freq_ppm (got %s and %s)", o->where, kinds[found], kinds[i]);
			found = i;
		}
	if (found < 0)
		return y_err(&L->y, o->map, "%s: tsc needs one of write, adjust, cstate, freq_ppm",
		             o->where);
	op->type = types[found];
	char p[128];
	y_path(p, sizeof(p), o->where, kinds[found]);
	const yaml_node_t *n = y_get(&o->f, kinds[found]);
	int64_t v;
	switch (op->type) {
	case TSCE_WRITE:
		return f_u64(L, o, "write", REQ, 0, INT64_MAX, &op->value);
	case TSCE_CSTATE:
		return f_u64(L, o, "cstate", REQ, 1, MAX_DELAY, &op->cycles);
	case TSCE_ADJUST:
		if (y_s64_range(L, n, p, -(int64_t)MAX_DELAY, (int64_t)MAX_DELAY, &v))
			return -1;
		op->value = (uint64_t)v;
		return 0;
	default:
		if (y_s64_range(L, n, p, -TIME_MAX_PPM, TIME_MAX_PPM, &v))
			return -1;
		op->value = (uint64_t)v;
		return 0;
	}
}

static const char *const k_none[] = {NULL};
static const char *const k_pt_new[] = {"name", NULL};
static const char *const k_map[] = {"root", "va", "pa", "size", "flags", NULL};
static const char *const k_unmap[] = {"root", "va", NULL};
static const char *const k_write_pte[] = {"root", "va", "level", "value", NULL};
static const char *const k_unlink[] = {"root", "va", "level", "free", "save", NULL};
static const char *const k_free[] = {"table", "pa", NULL};
static const char *const k_cr0[] = {"wp", NULL};
static const char *const k_cr3[] = {"root", "pcid", "noflush", "value", NULL};
static const char *const k_cr4[] = {"pge", "pcide", "smep", NULL};
static const char *const k_va[] = {"va", NULL};
static const char *const k_invpcid[] = {"type", "pcid", "va", NULL};
static const char *const k_pa[] = {"pa", NULL};
static const char *const k_access[] = {"va", "kind", "user", NULL};
static const char *const k_ipi[] = {"to", "run", NULL};
static const char *const k_delay[] = {"cycles", NULL};
static const char *const k_hv_map[] = {"va", "pa", "count", "flags", "small", NULL};
static const char *const k_hv_modify[] = {"va", "count", "flags", NULL};
static const char *const k_hv_destroy[] = {"va", "count", NULL};
static const char *const k_domain[] = {"vcpus", "xpti", NULL};
static const char *const k_vcpu_run[] = {"domain", "vcpu", NULL};
static const char *const k_guest_map[] = {"va", "pa", "user", "flags", NULL};
static const char *const k_lackey[] = {"file", "user", "limit", NULL};
static const char *const k_io_domain[] = {"hw", NULL};
static const char *const k_io_assign[] = {"domain", "device", NULL};
static const char *const k_io_map[] = {"domain", "dfn", "mfn", "order", "flags", NULL};
static const char *const k_io_unmap[] = {"domain", "dfn", "order", "free", NULL};
static const char *const k_io_reassign[] = {"pa", "pages", "domain", NULL};
static const char *const k_io_hwdom[] = {"domain", "pfn", "pages", NULL};
static const char *const k_io_flush[] = {"domain", NULL};
static const char *const k_dma[] = {"device", "iova", "len", "write", "result", NULL};
static const char *const k_dma_stream[] = {"device", "iova", "pages", "len", "period",
                                           "count", "write", NULL};
static const char *const k_io_workload[] = {"domain", "device", "dfn", "mfn", "ios", "order",
                                            "len", "window", "cpu_cycles", NULL};
static const char *const k_time_read[] = {"who", "count", "every", NULL};
static const char *const k_time_sched[] = {"vcpu", NULL};
static const char *const k_time_msg[] = {"vcpu", "hv_to", NULL};
static const char *const k_tsc[] = {"write", "adjust", "cstate", "freq_ppm", NULL};
static const char *const k_ring_enable[] = {"domain", "ring", "slots", NULL};
static const char *const k_ring_disable[] = {"domain", "ring", "on_busy", "retries", "delay",
                                             NULL};
static const char *const k_vm_event[] = {"domain", "vcpu", "kind", "count", "gap", "gfn", NULL};
static const char *const k_foreign[] = {"domain", "ring", "count", "hold", "release", "retry",
                                        "retries", NULL};
static const char *const k_helper[] = {"domain", "ring", "latency", "burst", "count", NULL};
static const char *const k_helper_stall[] = {"domain", "ring", "cycles", NULL};

static const struct op_spec op_specs[] = {
	{"pt_new", OP_PT_NEW, false, k_pt_new, parse_pt_new},
	{"map", OP_MAP, false, k_map, parse_map},
	{"unmap", OP_UNMAP, false, k_unmap, parse_unmap},
	{"write_pte", OP_WRITE_PTE, false, k_write_pte, parse_write_pte},
	{"unlink", OP_UNLINK, false, k_unlink, parse_unlink},
	{"cr0", OP_CR0, false, k_cr0, parse_cr0},
	{"cr3", OP_CR3, true, k_cr3, parse_cr3},
	{"cr4", OP_CR4, true, k_cr4, parse_cr4},
	{"invlpg", OP_INVLPG, true, k_va, parse_invlpg},
	{"invpcid", OP_INVPCID, true, k_invpcid, parse_invpcid},
	{"clflush", OP_CLFLUSH, true, k_pa, parse_clflush},
	{"wbinvd", OP_WBINVD, true, k_none, parse_none},
	{"rdtsc", OP_RDTSC, true, k_none, parse_none},
	{"access", OP_ACCESS, true, k_access, parse_access},
	{"ipi", OP_IPI, false, k_ipi, parse_ipi},
	{"delay", OP_DELAY, true, k_delay, parse_delay},
	{"barrier", OP_BARRIER, false, k_none, parse_none},
	{"quiesce", OP_QUIESCE, false, k_none, parse_none},
	{"free", OP_FREE, false, k_free, parse_free},
	{"hv_map", OP_HV_MAP, false, k_hv_map, parse_hv_map},
	{"hv_modify", OP_HV_MODIFY, false, k_hv_modify, parse_hv_modify},
	{"hv_destroy", OP_HV_DESTROY, false, k_hv_destroy, parse_hv_destroy},
	{"domain", OP_DOMAIN, false, k_domain, parse_domain},
	{"vcpu_run", OP_VCPU_RUN, false, k_vcpu_run, parse_vcpu_run},
	{"idle", OP_IDLE, false, k_none, parse_hv_none},
	{"syscall", OP_SYSCALL, false, k_none, parse_hv_none},
	{"guest_map", OP_GUEST_MAP, false, k_guest_map, parse_guest_map},
	{"lackey", OP_LACKEY, false, k_lackey, parse_lackey},
	{"io_domain", OP_IO_DOMAIN, false, k_io_domain, parse_io_domain},
	{"io_assign", OP_IO_ASSIGN, false, k_io_assign, parse_io_assign},
	{"io_map", OP_IO_MAP, false, k_io_map, parse_io_map},
	{"io_unmap", OP_IO_UNMAP, false, k_io_unmap, parse_io_unmap},
	{"io_reassign", OP_IO_REASSIGN, false, k_io_reassign, parse_io_reassign},
	{"io_hwdom_init", OP_IO_HWDOM_INIT, false, k_io_hwdom, parse_io_hwdom_init},
	{"io_flush", OP_IO_FLUSH, false, k_io_flush, parse_io_flush},
	{"dma", OP_DMA, false, k_dma, parse_dma},
	{"dma_stream", OP_DMA_STREAM, false, k_dma_stream, parse_dma_stream},
	{"io_workload", OP_IO_WORKLOAD, false, k_io_workload, parse_io_workload},
	{"time_read", OP_TIME_READ, false, k_time_read, parse_time_read},
	{"time_sched", OP_TIME_SCHED, false, k_time_sched, parse_time_sched},
	{"time_msg", OP_TIME_MSG, false, k_time_msg, parse_time_msg},
	{"tsc", OP_TSC, false, k_tsc, parse_tsc},
	{"ring_enable", OP_RING_ENABLE, false, k_ring_enable, parse_ring_enable},
	{"ring_disable", OP_RING_DISABLE, false, k_ring_disable, parse_ring_disable},
	{"vm_event", OP_VM_EVENT, false, k_vm_event, parse_vm_event},
	{"foreign", OP_FOREIGN, false, k_foreign, parse_foreign},
	{"helper", OP_HELPER, false, k_helper, parse_helper},
	{"helper_stall", OP_HELPER_STALL, false, k_helper_stall, parse_helper_stall},
};
#define NSPECS (sizeof(op_specs) / sizeof(op_specs[0]))

const char *op_kind_name(enum op_kind k)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (op_specs[i].kind == k)
			return op_specs[i].name;
	return "unknown";
}

static void spec_names(char *dst, size_t cap, bool ipi_only)
{
	size_t o = 0;
	dst[0] = 0;
	for (size_t i = 0; i < NSPECS && o < cap; i++) {
		if (ipi_only && !op_specs[i].in_ipi)
			continue;
		int n = snprintf(dst + o, cap - o, "%s%s", o ? ", " : "",
		                 op_specs[i].name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* ---- one op ----------------------------------------------------------- */

static int op_spec_of(struct loader *L, const struct opctx *o,
                      const struct op_spec **sp)
{
	const yaml_node_t *k, *v;
	char q[64], names[256];
	if (!y_find(&L->y, o->map, "op", &k, &v))
		return y_err(&L->y, o->map, "%s: missing required field 'op'", o->where);
	y_quote_node(q, sizeof(q), v);
	for (size_t i = 0; i < NSPECS; i++) {
		if (!y_is(v, op_specs[i].name))
			continue;
		*sp = &op_specs[i];
		if (!o->sub || op_specs[i].in_ipi)
			return 0;
		spec_names(names, sizeof(names), true);
		return y_err(&L->y, v, "%s.op: '%s' is not allowed inside an ipi run "
		             "(allowed: %s)", o->where, q, names);
	}
	spec_names(names, sizeof(names), false);
	return y_err(&L->y, v, "%s.op: unknown op '%s' (expected: %s)", o->where,
	             q, names);
}

/* "op", "cpu" (not inside ipi run), "expect", then the op's own fields. */
static void op_keys(const struct op_spec *sp, bool sub, const char **names)
{
	int n = 0;
	names[n++] = "op";
	if (!sub)
		names[n++] = "cpu";
	names[n++] = "expect";
	for (int i = 0; sp->keys[i] && n < Y_MAX_KEYS; i++)
		names[n++] = sp->keys[i];
	names[n] = NULL;
}

/* Each target runs an ipi run op itself: there is no issuing CPU, and
 * saying so beats "unknown field". */
static int no_cpu(struct loader *L, const struct opctx *o)
{
	const yaml_node_t *k, *v;
	if (!o->sub || !y_find(&L->y, o->map, "cpu", &k, &v))
		return 0;
	return y_err(&L->y, k, "%s.cpu: not allowed inside an ipi run (every "
	             "target CPU runs these ops)", o->where);
}

static int op_cpu(struct loader *L, const struct opctx *o, struct op *op)
{
	uint32_t cpu = 0;
	if (o->sub) {
		op->cpu = -1;
		return 0;
	}
	if (f_u32(L, o, "cpu", OPT, 0, L->s->ncpus - 1, &cpu))
		return -1;
	op->cpu = (int)cpu;
	return 0;
}

static int parse_pfec(struct loader *L, const yaml_node_t *n, const char *p,
                      uint32_t *out)
{
	static const char *const names[] = {"P", "W", "U", "RSVD", "I", NULL};
	static const uint32_t bits[] = {PFEC_P, PFEC_W, PFEC_U, PFEC_RSVD, PFEC_I};
	const uint32_t all = PFEC_P | PFEC_W | PFEC_U | PFEC_RSVD | PFEC_I;
	char ip[160];
	uint64_t v;

	*out = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		if (y_u64_range(&L->y, n, p, 0, all, &v))
			return -1;
		*out = (uint32_t)v;
		return 0;
	}
	for (size_t i = 0; i < y_seq_len(n); i++) {
		const yaml_node_t *it = y_seq_item(&L->y, n, i);
		int b;
		snprintf(ip, sizeof(ip), "%.100s[%zu]", p, i);
		if (y_enum(&L->y, it, ip, names, &b))
			return -1;
		if (*out & bits[b])
			return y_err(&L->y, it, "%s: bit listed twice", ip);
		*out |= bits[b];
	}
	return 0;
}

static int parse_expect(struct loader *L, const yaml_node_t *n,
                        const char *where, struct sc_expect *e)
{
	static const char *const keys[] = {"fault", "pa", "pfec", "path", NULL};
	static const char *const faults[] = {"none", "pf", "gp", "ud", NULL};
	static const int fault_v[] = {SCF_NONE, SCF_PF, SCF_GP, SCF_UD};
	static const char *const paths[] = {"l1", "l2", "walk", NULL};
	static const int path_v[] = {PATH_L1, PATH_L2, PATH_WALK};
	struct yfields f;
	char w[128], p[160];
	int i;

	y_path(w, sizeof(w), where, "expect");
	if (y_is_null(n))
		return 0;
	if (y_fields(&L->y, n, w, keys, &f))
		return -1;
	if (f.val[0]) {
		y_path(p, sizeof(p), w, "fault");
		if (y_enum(&L->y, f.val[0], p, faults, &i))
			return -1;
		e->fault = fault_v[i];
		e->has |= EXP_FAULT;
	}
	if (f.val[1]) {
		y_path(p, sizeof(p), w, "pa");
		if (y_u64(&L->y, f.val[1], p, &e->pa))
			return -1;
		e->has |= EXP_PA;
	}
	if (f.val[2]) {
		y_path(p, sizeof(p), w, "pfec");
		if (parse_pfec(L, f.val[2], p, &e->pfec))
			return -1;
		e->has |= EXP_PFEC;
	}
	if (f.val[3]) {
		y_path(p, sizeof(p), w, "path");
		if (y_enum(&L->y, f.val[3], p, paths, &i))
			return -1;
		e->path = path_v[i];
		e->has |= EXP_PATH;
	}
	return 0;
}

static int parse_op(struct loader *L, const yaml_node_t *n, const char *where,
                    bool sub, struct op *op)
{
	struct opctx o = {.map = n, .where = where, .sub = sub};
	const struct op_spec *sp = NULL;
	const char *names[Y_MAX_KEYS + 1];

	memset(op, 0, sizeof(*op));
	op->pge = op->pcide = op->smep = op->wp = op->xpti = -1;
	if (n) {
		op->line = (uint32_t)n->start_mark.line + 1;
		op->col = (uint32_t)n->start_mark.column + 1;
	}
	if (L->budget == 0)
		return y_err(&L->y, n, "%s: too many ops (at most %u in all, ipi run "
		             "ops included)", where, SC_MAX_OPS);
	L->budget--;
	if (y_want_map(&L->y, n, where) || op_spec_of(L, &o, &sp) || no_cpu(L, &o))
		return -1;
	op->kind = sp->kind;
	o.name = sp->name;
	op_keys(sp, sub, names);
	if (y_fields(&L->y, n, where, names, &o.f) || op_cpu(L, &o, op) ||
	    sp->parse(L, &o, op))
		return -1;
	const yaml_node_t *e = y_get(&o.f, "expect");
	return e ? parse_expect(L, e, where, &op->expect) : 0;
}

/* ---- machine ---------------------------------------------------------- */

static int cmp_field(const void *a, const void *b)
{
	const struct profile_field *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

/* "name=value,..." sorted by name: the runs table compares it as text. */
static int build_overrides(struct loader *L, const bool *set)
{
	const struct profile_field *f[PROFILE_NFIELDS];
	size_t n = 0, cap = 1, o = 0;
	for (size_t i = 0; profile_fields[i].name && i < PROFILE_NFIELDS; i++)
		if (set[i]) {
			f[n++] = &profile_fields[i];
			cap += strlen(profile_fields[i].name) + 12;
		}
	qsort(f, n, sizeof(f[0]), cmp_field);
	char *s = malloc(cap);
	if (!s)
		return y_err_nopos(&L->y, "out of memory");
	s[0] = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t v = *profile_field_ptr(&L->s->profile, f[i]);
		int w = snprintf(s + o, cap - o, "%s%s=%" PRIu32, i ? "," : "",
		                 f[i]->name, v);
		if (w > 0)
			o += (size_t)w;
	}
	L->s->overrides = s;
	return 0;
}

static int load_costs(struct loader *L, const yaml_node_t *m)
{
	bool set[PROFILE_NFIELDS] = {false};
	char p[128], q[64];
	const char *e;

	if (m && !y_is_null(m)) {
		if (y_want_map(&L->y, m, "machine.costs"))
			return -1;
		for (yaml_node_pair_t *pr = m->data.mapping.pairs.start;
		     pr < m->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = y_node(&L->y, pr->key), *v = y_node(&L->y, pr->value);
			const struct profile_field *f = profile_field_of_key(k);
			y_quote_node(q, sizeof(q), k);
			if (!f || !v)
				return y_err(&L->y, k ? k : m, "machine.costs: unknown profile "
				             "field '%s' (see docs/scenario-format.md)", q);
			size_t i = (size_t)(f - profile_fields);
			if (set[i])
				return y_err(&L->y, k, "machine.costs: duplicate field '%s'", q);
			set[i] = true;
			y_path(p, sizeof(p), "machine.costs", f->name);
			if (y_u32(&L->y, v, p, profile_field_ptr(&L->s->profile, f)))
				return -1;
		}
		if ((e = profile_validate(&L->s->profile)))
			return y_err(&L->y, m, "machine.costs: the profile is invalid after "
			             "the overrides: %s", e);
	}
	return build_overrides(L, set);
}

static int machine_profile(struct loader *L, const yaml_node_t *n)
{
	char *name = NULL, q[64], avail[256];
	if (!n)
		return 0;
	if (y_str(&L->y, n, "machine.profile", false, &name))
		return -1;
	bool ok = strlen(name) < sizeof(L->s->profile_name) && profile_is_embedded(name);
	if (ok)
		memcpy(L->s->profile_name, name, strlen(name) + 1);
	y_quote(q, sizeof(q), name, strlen(name));
	free(name);
	if (ok)
		return 0;
	profile_embedded_names(avail, sizeof(avail));
	return y_err(&L->y, n, "machine.profile: unknown profile '%s' (available: %s)",
	             q, avail);
}

static int load_machine(struct loader *L, const yaml_node_t *m)
{
	static const char *const keys[] = {"profile", "cpus", "memory_frames",
	                                   "costs", NULL};
	struct scenario *s = L->s;
	struct yfields f = {.names = keys};
	struct sc_error perr;
	uint64_t v;

	s->ncpus = 1;
	s->mem_frames = DEFAULT_FRAMES;
	memcpy(s->profile_name, DEFAULT_PROFILE, sizeof(DEFAULT_PROFILE));
	if (m && !y_is_null(m)) {
		if (y_fields(&L->y, m, "machine", keys, &f) || machine_profile(L, f.val[0]))
			return -1;
		if (f.val[1]) {
			if (y_u64_range(&L->y, f.val[1], "machine.cpus", 1, SC_MAX_CPUS, &v))
				return -1;
			s->ncpus = (uint32_t)v;
		}
		if (f.val[2] && y_u64_range(&L->y, f.val[2], "machine.memory_frames", 1,
		                            MAX_FRAMES, &s->mem_frames))
			return -1;
	}
	/* The embedded profiles are checked by the tests; failing here means
	 * the build embedded a broken one. */
	if (profile_load_named(s->profile_name, &s->profile, &perr))
		return y_err(&L->y, f.val[0] ? f.val[0] : m, "machine.profile: %s",
		             perr.msg);
	return load_costs(L, f.val[3]);
}

/* ---- hv --------------------------------------------------------------- */

static int hv_inject(struct loader *L, const yaml_node_t *n, uint32_t *out)
{
	static const char *const names[] = {"merge_flush_past", "skip_one_page",
	                                    "no_cache_flush", "leak_table",
	                                    "skip_last_page", "no_old_pcid_flush",
	                                    "invlpg_under_pcide", "xpti_leak", NULL};
	static const uint32_t bits[] = {SC_INJECT_MERGE_FLUSH_PAST, SC_INJECT_SKIP_ONE_PAGE,
	                                SC_INJECT_NO_CACHE_FLUSH, SC_INJECT_LEAK_TABLE,
	                                SC_INJECT_SKIP_LAST_PAGE, SC_INJECT_NO_OLD_PCID_FLUSH,
	                                SC_INJECT_INVLPG_UNDER_PCIDE, SC_INJECT_XPTI_LEAK};
	char ip[32];
	int b;

	if (y_want_seq(&L->y, n, "hv.inject"))
		return -1;
	for (size_t i = 0; i < y_seq_len(n); i++) {
		const yaml_node_t *it = y_seq_item(&L->y, n, i);
		snprintf(ip, sizeof(ip), "hv.inject[%zu]", i);
		if (y_enum(&L->y, it, ip, names, &b))
			return -1;
		if (*out & bits[b])
			return y_err(&L->y, it, "%s: listed twice", ip);
		*out |= bits[b];
	}
	return 0;
}

static int hv_directmap(struct loader *L, const yaml_node_t *n, uint64_t *out)
{
	if (y_u64_range(&L->y, n, "hv.directmap", 0, HV_DIRECTMAP_MAX, out))
		return -1;
	if (*out % HV_DIRECTMAP_ALIGN == 0)
		return 0;
	return y_err(&L->y, n, "hv.directmap: 0x%" PRIx64 " is not a multiple of "
	             "2 MiB", *out);
}

/* Xen's pcid= (parse_pcid): a boolean (off/on, false/true: PCID for no
 * domain / every domain), xpti (only for XPTI domains, the default) or
 * no-xpti (only for domains without XPTI). */
static int hv_pcid(struct loader *L, const yaml_node_t *n, int *out)
{
	static const char *const names[] = {"off", "on", "xpti", "no-xpti", NULL};
	static const int v[] = {SC_PCID_OFF, SC_PCID_ALL, SC_PCID_XPTI, SC_PCID_NOXPTI};
	int i;
	if (y_is(n, "false") || y_is(n, "true")) {
		*out = y_is(n, "true") ? SC_PCID_ALL : SC_PCID_OFF;
		return 0;
	}
	if (y_enum(&L->y, n, "hv.pcid", names, &i))
		return -1;
	*out = v[i];
	return 0;
}

/* The hypervisor core's configuration; present (even empty) enables it. */
static int load_hv(struct loader *L, const yaml_node_t *m)
{
	static const char *const keys[] = {"page1gb", "superpages", "flush_policy",
	                                   "flush_ceiling", "directmap", "inject",
	                                   "pcid", "xpti", NULL};
	static const char *const policies[] = {"xen", "ranged", NULL};
	static const int policy_v[] = {SC_FLUSH_XEN, SC_FLUSH_RANGED};
	struct sc_hv *hv = &L->s->hv;
	struct yfields f;
	uint64_t v;
	int i;

	if (!m)
		return 0;
	*hv = (struct sc_hv){.enabled = true, .page1gb = true, .superpages = true,
	                     .flush_policy = SC_FLUSH_XEN,
	                     .flush_ceiling = HV_DEFAULT_CEILING,
	                     .pcid = SC_PCID_XPTI, .xpti = false};
	if (y_is_null(m))
		return 0;
	if (y_fields(&L->y, m, "hv", keys, &f))
		return -1;
	if (f.val[0] && y_bool(&L->y, f.val[0], "hv.page1gb", &hv->page1gb))
		return -1;
	if (f.val[1] && y_bool(&L->y, f.val[1], "hv.superpages", &hv->superpages))
		return -1;
	if (f.val[2]) {
		if (y_enum(&L->y, f.val[2], "hv.flush_policy", policies, &i))
			return -1;
		hv->flush_policy = policy_v[i];
	}
	if (f.val[3]) {
		if (y_u64_range(&L->y, f.val[3], "hv.flush_ceiling", 1, HV_MAX_CEILING, &v))
			return -1;
		hv->flush_ceiling = (uint32_t)v;
	}
	if (f.val[4] && hv_directmap(L, f.val[4], &hv->directmap_bytes))
		return -1;
	if (f.val[5] && hv_inject(L, f.val[5], &hv->inject))
		return -1;
	if (f.val[6] && hv_pcid(L, f.val[6], &hv->pcid))
		return -1;
	if (f.val[7] && y_bool(&L->y, f.val[7], "hv.xpti", &hv->xpti))
		return -1;
	return 0;
}

/* ---- time: (seed 002) -------------------------------------------------- */

/* offsets / drift_ppm: a scalar (a per-core draw: 0..max, or -max..max)
 * or a list with one entry per CPU. */
static int time_percore(struct loader *L, const yaml_node_t *n, const char *path, int64_t lo,
                        int64_t hi, int64_t scale, bool *random, int64_t *max, int64_t **list)
{
	char p[96];
	if (n->type == YAML_SCALAR_NODE) {
		*random = true;
		if (y_s64_range(L, n, path, lo < 0 ? 0 : lo, hi, max))
			return -1;
		*max *= scale;
		return 0;
	}
	if (y_want_seq(&L->y, n, path))
		return -1;
	size_t len = y_seq_len(n);
	if (len != L->s->ncpus)
		return y_err(&L->y, n, "%s: %zu entries for %u cpus (one per cpu, or one "
		             "number for a per-cpu random draw)", path, len, L->s->ncpus);
	*list = calloc(len, sizeof(**list));
	if (!*list)
		return y_err_nopos(&L->y, "out of memory");
	for (size_t i = 0; i < len; i++) {
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (y_s64_range(L, y_seq_item(&L->y, n, i), p, lo, hi, &(*list)[i]))
			return -1;
		(*list)[i] *= scale;
	}
	return 0;
}

static int time_inject(struct loader *L, const yaml_node_t *n, uint32_t *out)
{
	static const char *const names[] = {"no-version-bump", "stale-stamp",
	                                    "seed-wallclock", NULL};
	static const uint32_t bits[] = {SC_TIME_INJECT_NO_VERSION, SC_TIME_INJECT_STALE_STAMP,
	                                SC_TIME_INJECT_SEED_WALLCLOCK};
	char p[64];
	if (y_want_seq(&L->y, n, "time.inject"))
		return -1;
	for (size_t i = 0; i < y_seq_len(n); i++) {
		int k;
		snprintf(p, sizeof(p), "time.inject[%zu]", i);
		if (y_enum(&L->y, y_seq_item(&L->y, n, i), p, names, &k))
			return -1;
		*out |= bits[k];
	}
	return 0;
}

static int load_time(struct loader *L, const yaml_node_t *m)
{
	static const char *const keys[] = {
		"mode", "clamp", "compare", "period_ms", "calibrate_ms", "wallclock",
		"vcpus", "platform_hz", "platform_read", "invariant", "host_ppm",
		"offsets", "drift_ppm", "inject", "load_cycles", NULL};
	static const char *const modes[] = {"global", "percpu", "rendezvous", NULL};
	struct sc_time *t = &L->s->time;
	struct yfields f;
	uint64_t v;
	int64_t sv;
	int i;

	if (!m)
		return 0;
	*t = (struct sc_time){.enabled = true, .mode = SC_TIME_RENDEZVOUS,
	                      .period_ns = 250000000, .calibrate_ns = 50000000,
	                      .vcpus = L->s->ncpus, .platform_hz = 14318180,
	                      .platform_read = 1500, .load_cycles = 4, .invariant = true};
	if (!L->s->hv.enabled)
		return y_err(&L->y, m, "time: needs an hv: section (time is the hypervisor's)");
	if (y_is_null(m))
		return 0;
	if (y_fields(&L->y, m, "time", keys, &f))
		return -1;
	if (f.val[0]) {
		if (y_enum(&L->y, f.val[0], "time.mode", modes, &i))
			return -1;
		t->mode = i;
	}
	if ((f.val[1] && y_bool(&L->y, f.val[1], "time.clamp", &t->clamp)) ||
	    (f.val[2] && y_bool(&L->y, f.val[2], "time.compare", &t->compare)))
		return -1;
	if (f.val[3]) {
		if (y_u64_range(&L->y, f.val[3], "time.period_ms", 1, 3600000, &v))
			return -1;
		t->period_ns = v * 1000000;
	}
	if (f.val[4]) {
		if (y_u64_range(&L->y, f.val[4], "time.calibrate_ms", 1, 1000, &v))
			return -1;
		t->calibrate_ns = v * 1000000;
	}
	if (f.val[5] && y_u64_range(&L->y, f.val[5], "time.wallclock", 0, 1ull << 40,
	                            &t->wallclock_sec))
		return -1;
	if (f.val[6]) {
		if (y_u64_range(&L->y, f.val[6], "time.vcpus", 1, 64, &v))
			return -1;
		t->vcpus = (uint32_t)v;
	} else if (t->vcpus > 64) {
		t->vcpus = 64;
	}
	if (f.val[7] && y_u64_range(&L->y, f.val[7], "time.platform_hz", 1000, 1000000000,
	                            &t->platform_hz))
		return -1;
	if (f.val[8]) {
		if (y_u64_range(&L->y, f.val[8], "time.platform_read", 0, 1000000, &v))
			return -1;
		t->platform_read = (uint32_t)v;
	}
	if (f.val[9] && y_bool(&L->y, f.val[9], "time.invariant", &t->invariant))
		return -1;
	if (f.val[10]) {
		if (y_s64_range(L, f.val[10], "time.host_ppm", -TIME_MAX_PPM / 2, TIME_MAX_PPM / 2,
		                &sv))
			return -1;
		t->host_ppb = sv * 1000;
	}
	if (f.val[11]) {
		int64_t mx = 0;
		if (time_percore(L, f.val[11], "time.offsets", 0, INT64_C(1) << 50, 1,
		                 &t->offsets_random, &mx, &t->offsets))
			return -1;
		t->offset_max = (uint64_t)mx;
	}
	if (f.val[12] && time_percore(L, f.val[12], "time.drift_ppm", -TIME_MAX_PPM / 2,
	                              TIME_MAX_PPM / 2, 1000, &t->drift_random,
	                              &t->drift_max_ppb, &t->drift_ppb))
		return -1;
	if (f.val[13] && time_inject(L, f.val[13], &t->inject))
		return -1;
	if (f.val[14]) {
		if (y_u64_range(&L->y, f.val[14], "time.load_cycles", 0, 100000, &v))
			return -1;
		t->load_cycles = (uint32_t)v;
	}
	return 0;
}

/* ---- rings (seed 004) ------------------------------------------------- */

static int rings_inject(struct loader *L, const yaml_node_t *n, uint32_t *out)
{
	/* hv/vm_event's VM_EVENT_INJECT_* bits, in their order. */
	static const char *const names[] = {"put_off_by_one", "double_pause", "claim_off_by_one",
	                                    "no_wake_requesters", "no_wake_waiters",
	                                    "release_foreign", "no_full_check", "disable_wq_only",
	                                    "release_no_wake", NULL};
	char ip[48];
	int b;
	if (y_want_seq(&L->y, n, "rings.inject"))
		return -1;
	for (size_t i = 0; i < y_seq_len(n); i++) {
		const yaml_node_t *it = y_seq_item(&L->y, n, i);
		snprintf(ip, sizeof(ip), "rings.inject[%zu]", i);
		if (y_enum(&L->y, it, ip, names, &b))
			return -1;
		if (*out & (1u << b))
			return y_err(&L->y, it, "%s: listed twice", ip);
		*out |= 1u << b;
	}
	return 0;
}

/* The vm_event rings' configuration; needs hv:. */
static int load_rings(struct loader *L, const yaml_node_t *m)
{
	static const char *const keys[] = {"mode", "inject", NULL};
	static const char *const modes[] = {"waitq", "pause", NULL};
	struct sc_rings *r = &L->s->rings;
	struct yfields f;
	if (!m)
		return 0;
	if (!L->s->hv.enabled)
		return y_err(&L->y, m, "rings: needs an hv: section (the rings are the "
		             "hypervisor's)");
	*r = (struct sc_rings){.enabled = true};
	if (y_is_null(m))
		return 0;
	if (y_fields(&L->y, m, "rings", keys, &f))
		return -1;
	if (f.val[0] && y_enum(&L->y, f.val[0], "rings.mode", modes, &r->mode))
		return -1;
	return f.val[1] ? rings_inject(L, f.val[1], &r->inject) : 0;
}

/* ---- top level -------------------------------------------------------- */

static int check_version(struct loader *L, const yaml_node_t *root)
{
	const yaml_node_t *k, *v;
	uint64_t ver;
	if (!y_find(&L->y, root, "hvsim", &k, &v))
		return y_err(&L->y, root, "missing required field 'hvsim' (the format "
		             "version: hvsim: %d)", SC_VERSION);
	if (y_u64(&L->y, v, "hvsim", &ver))
		return -1;
	if (ver != SC_VERSION)
		return y_err(&L->y, v, "hvsim: unsupported format version %" PRIu64
		             " (this build reads version %d)", ver, SC_VERSION);
	L->s->version = SC_VERSION;
	return 0;
}

static int load_header(struct loader *L, const yaml_node_t *root,
                       const struct yfields *f)
{
	struct scenario *s = L->s;
	if (!f->val[1])
		return y_err(&L->y, root, "missing required field 'name'");
	if (y_str(&L->y, f->val[1], "name", false, &s->name))
		return -1;
	if (f->val[2] && !y_is_null(f->val[2])) {
		if (y_str(&L->y, f->val[2], "description", true, &s->description))
			return -1;
	} else if (!(s->description = strdup(""))) {
		return y_err_nopos(&L->y, "out of memory");
	}
	if (f->val[3]) {
		if (y_u64(&L->y, f->val[3], "seed", &s->seed))
			return -1;
		s->has_seed = true;
	}
	if (f->val[4] && y_str(&L->y, f->val[4], "negative", false, &s->negative))
		return -1;
	return 0;
}

static int load_ops(struct loader *L, const yaml_node_t *root,
                    const yaml_node_t *n)
{
	struct scenario *s = L->s;
	char where[32];
	if (!n)
		return y_err(&L->y, root, "missing required field 'ops'");
	if (y_is_null(n))
		return 0;
	if (y_want_seq(&L->y, n, "ops"))
		return -1;
	size_t len = y_seq_len(n);
	if (len > SC_MAX_OPS)
		return y_err(&L->y, n, "ops: too many ops (%zu; at most %u)", len,
		             SC_MAX_OPS);
	if (len == 0)
		return 0;
	s->ops = calloc(len, sizeof(*s->ops));
	if (!s->ops)
		return y_err_nopos(&L->y, "out of memory");
	s->nops = (uint32_t)len;
	for (size_t i = 0; i < len; i++) {
		snprintf(where, sizeof(where), "ops[%zu]", i);
		if (parse_op(L, y_seq_item(&L->y, n, i), where, false, &s->ops[i]))
			return -1;
	}
	return 0;
}

static int load_top(struct loader *L, const yaml_node_t *root)
{
	static const char *const keys[] = {"hvsim", "name", "description", "seed",
	                                   "negative", "machine", "ops", "hv", "iommu",
	                                   "time", "rings", NULL};
	struct yfields f;
	if (!root || root->type != YAML_MAPPING_NODE)
		return y_err(&L->y, root, "top level must be a mapping (hvsim: 1, "
		             "name, ops, ...), got %s", y_type_name(root));
	/* The version first: a file of another version fails on that, not on
	 * whichever field changed. */
	if (check_version(L, root) || y_fields(&L->y, root, "", keys, &f))
		return -1;
	/* hv before ops, wherever it is in the file: the hv_* ops need it. */
	if (load_header(L, root, &f) || load_machine(L, f.val[5]) ||
	    load_hv(L, f.val[7]) || load_iommu(L, f.val[8]) || load_time(L, f.val[9]) ||
	    load_rings(L, f.val[10]))
		return -1;
	return load_ops(L, root, f.val[6]);
}

/* ---- entry points ----------------------------------------------------- */

static void free_ops(struct op *ops, uint32_t n)
{
	for (uint32_t i = 0; ops && i < n; i++) {
		free_ops(ops[i].sub, ops[i].nsub);
		free(ops[i].file);
	}
	free(ops);
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->name);
	free(s->description);
	free(s->overrides);
	free(s->negative);
	for (uint32_t i = 0; s->roots && i < s->nroots; i++)
		free(s->roots[i]);
	free(s->roots);
	free(s->time.offsets);
	free(s->time.drift_ppb);
	free_ops(s->ops, s->nops);
	memset(s, 0, sizeof(*s));
}

int scenario_load_string(const char *name, const char *text, size_t len,
                         struct scenario *out, struct sc_error *err)
{
	struct loader L;
	yaml_document_t doc;

	if (!name)
		name = "<string>";
	memset(out, 0, sizeof(*out));
	memset(&L, 0, sizeof(L));
	y_init(&L.y, name, err);
	L.s = out;
	L.budget = SC_MAX_OPS;
	if (len > Y_MAX_INPUT)
		return y_err_nopos(&L.y, "input too large (more than %u MiB)",
		                   Y_MAX_INPUT >> 20);
	if (!(out->path = strdup(name))) {
		y_err_nopos(&L.y, "out of memory");
		goto fail;
	}
	if (y_parse(&L.y, text, len, &doc))
		goto fail;
	int r = load_top(&L, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	if (r == 0)
		return 0;
fail:
	scenario_free(out);
	return -1;
}

/* Reads the whole file (bounded) into a malloc'd buffer. */
static int read_file(const char *path, char **text, size_t *len,
                     struct sc_error *err)
{
	struct yctx c;
	size_t cap = 1 << 16, n = 0, r;
	char *buf, *nb;
	FILE *f;

	y_init(&c, path, err);
	if (!(f = fopen(path, "rb")))
		return y_err_nopos(&c, "cannot open: %s", strerror(errno));
	if (!(buf = malloc(cap)))
		goto oom;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n < cap)
			continue;
		if (cap > Y_MAX_INPUT) {
			free(buf);
			fclose(f);
			return y_err_nopos(&c, "file too large (more than %u MiB)",
			                   Y_MAX_INPUT >> 20);
		}
		if (!(nb = realloc(buf, cap * 2)))
			goto oom;
		buf = nb;
		cap *= 2;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		fclose(f);
		return y_err_nopos(&c, "cannot read: %s", strerror(e));
	}
	fclose(f);
	*text = buf;
	*len = n;
	return 0;
oom:
	free(buf);
	fclose(f);
	return y_err_nopos(&c, "out of memory");
}

int scenario_load(const char *path, struct scenario *out, struct sc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	memset(out, 0, sizeof(*out));
	if (!path)
		path = "(null)";
	if (read_file(path, &text, &len, err))
		return -1;
	int r = scenario_load_string(path, text, len, out, err);
	free(text);
	return r;
}
