/* The PV guest ops (seed 003) over the hypervisor core, and the XPTI
 * isolation check after every entry into a guest: while a guest subject
 * to XPTI runs, no hypervisor-private address may be translatable from
 * its address space -- neither through the page tables it runs on nor
 * through anything the envelope says the CPU may still hold under its
 * PCID or globally (what XPTI exists to guarantee). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cpu/cpu.h"

#include "runner/ops.h"
#include "runner/platform.h"
#include "sim/event.h"
#include "sim/tlb/pte.h"
#include "sim/tlb/walk.h"
#include "trace/trace.h"

/* A hypervisor-private address: the first mapped page of each of the
 * hypervisor's L4 slots other than the entry stub's. */
static unsigned probes(struct platform *p, uint64_t *out, unsigned max)
{
	struct mem *mem = &p->m->mem;
	uint64_t root = p->hv.root_pfn << 12;
	unsigned n = 0, stub = LEVEL_INDEX(XPTI_STUB_VA, 4);
	for (unsigned s = HV_SLOT_FIRST; s <= HV_SLOT_LAST && n < max; s++) {
		uint64_t e = mem_read64(mem, root + 8ull * s);
		if (s == stub || !pte_present(e))
			continue;
		uint64_t va = 0xffff000000000000ull | ((uint64_t)s << 39);
		uint64_t table = pte_addr(e, 4);
		for (unsigned l = 3; l >= 1; l--) {
			unsigned i = 0;
			for (e = 0; i < 512; i++)
				if (pte_present(e = mem_read64(mem, table + 8ull * i)))
					break;
			if (i == 512)
				break;
			va |= (uint64_t)i << LEVEL_SHIFT(l);
			if (pte_is_leaf(e, l)) {
				out[n++] = va;
				break;
			}
			table = pte_addr(e, l);
		}
	}
	return n;
}

static void leak(struct op_ctx *x, unsigned cpu, uint64_t va, uint64_t root, uint64_t pcid)
{
	struct event ev = machine_event(x->m, EV_CHECK, (int)cpu);
	ev.sub = CHECK_XPTI;
	ev.a = va;
	ev.b = root;
	ev.c = pcid;
	ev.e = cpu;
	machine_emit(x->m, &ev);
}

static bool translatable(struct platform *p, uint64_t root_pfn, uint64_t va, bool globals_only)
{
	struct xlate t;
	walk_peek(&p->m->mem, root_pfn << 12, va, &p->m->wenv, &t);
	return t.present && (!globals_only || (t.perm & XP_G));
}

static void xpti_check(struct op_ctx *x, unsigned cpu)
{
	struct platform *p = x->plat;
	const struct hv_pcpu *pc = &p->pv.pcpu[cpu];
	if (!pc->curr || !pc->in_guest || !pc->curr->d->xpti)
		return;
	uint64_t va[HV_SLOT_LAST - HV_SLOT_FIRST + 1];
	unsigned n = probes(p, va, sizeof(va) / sizeof(va[0]));
	const struct cpu *c = &x->m->cpus[cpu];
	uint32_t pcid = (c->cr4 & CR4_PCIDE) ? (uint32_t)(c->cr3 & CR3_PCID_MASK) : 0;
	const struct env_cpu *e = &c->env;
	for (unsigned k = 0; k < n; k++) {
		/* The page tables the guest runs on. */
		if (translatable(p, (c->cr3 & CR3_ADDR_MASK) >> 12, va[k], false)) {
			leak(x, cpu, va[k], c->cr3 & CR3_ADDR_MASK, pcid);
			continue;
		}
		/* Every root this PCID may still hold translations of, and
		 * every root whose global entries may still be held. */
		for (uint32_t s = 0; s < e->nslots; s++)
			if (e->slots[s].pcid == pcid)
				for (uint32_t r = 0; r < e->slots[s].nroots; r++)
					if (translatable(p, e->slots[s].roots[r].pfn, va[k], false))
						leak(x, cpu, va[k], e->slots[s].roots[r].pfn << 12, pcid);
		for (uint32_t r = 0; r < e->gslot.nroots; r++)
			if (translatable(p, e->gslot.roots[r].pfn, va[k], true))
				leak(x, cpu, va[k], e->gslot.roots[r].pfn << 12, ENV_GLOBAL);
	}
}

/* Lackey traces: each page is mapped on first touch to the next frame
 * of this pool (outside the allocator's region). */
#define LACKEY_POOL 0x8000000000ull
#define LACKEY_MAX_PAGES (1u << 20)

/* The input file: from the trace when replaying, else from the disk
 * (relative to the scenario file) -- then stored in the trace being
 * written, which must hold the complete input. NULL with x->err set. */
static char *load_input(struct op_ctx *x, const struct op *op, size_t *len, bool *owned)
{
	*owned = false;
	if (x->file_get) {
		const void *d = x->file_get(x->file_ctx, op->file, len);
		if (!d)
			op_input_error(x, op, "%s: not in the trace", op->file);
		return (char *)d;
	}
	const char *scenario = x->sc->path;
	const char *slash = scenario ? strrchr(scenario, '/') : NULL;
	char path[2048];
	if (op->file[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", op->file);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - scenario), scenario, op->file);
	FILE *f = fopen(path, "rb");
	if (!f) {
		op_input_error(x, op, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			char *nb = cap < (256u << 20) ? realloc(buf, cap * 2 + 1) : NULL;
			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	bool err = ferror(f);
	fclose(f);
	if (!buf || err) {
		free(buf);
		op_input_error(x, op, "%s: %s", path, err ? "read error" : "too large (256 MiB at most)");
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	*owned = true;
	if (x->tw && trace_writer_attach(x->tw, op->file, buf, n) != 0) {
		free(buf);
		op_input_error(x, op, "%s: cannot store it in the trace", path);
		return NULL;
	}
	return buf;
}

/* One record: "I  04000af0,3", " L 1ffefff000,8", " S ...", " M ..."
 * (valgrind --tool=lackey --trace-mem=yes). Returns 1 and the access, 0
 * for a line to skip (valgrind's own "==pid==" lines, blank lines), -1
 * when the line is not lackey output. */
static int lackey_line(const char *s, uint64_t *va, unsigned *acc, bool *modify)
{
	while (*s == ' ')
		s++;
	if (*s == 0 || *s == '\n' || (s[0] == '=' && s[1] == '='))
		return 0;
	char kind = *s++;
	if (*s != ' ')
		return -1;
	while (*s == ' ')
		s++;
	char *end;
	errno = 0;
	unsigned long long a = strtoull(s, &end, 16);
	if (end == s || *end != ',' || errno)
		return -1;
	*modify = false;
	switch (kind) {
	case 'I':
		*acc = ACC_EXEC;
		break;
	case 'L':
		*acc = ACC_READ;
		break;
	case 'S':
		*acc = ACC_WRITE;
		break;
	case 'M':
		*acc = ACC_READ;
		*modify = true;
		break;
	default:
		return -1;
	}
	*va = a;
	return 1;
}

static int lackey_run(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct platform *p = x->plat;
	size_t len;
	bool owned;
	const char *data = load_input(x, op, &len, &owned);
	if (!data)
		return 2;
	struct u64map mapped;
	u64map_init(&mapped);
	uint64_t n = 0, lineno = 0, next_frame = 0;
	int rc = 0;
	unsigned user = op->user ? ACC_USER : 0;
	for (size_t pos = 0; pos < len && n < op->limit && !rc;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (data + pos)) : len - pos;
		char line[256];
		lineno++;
		if (llen >= sizeof(line)) {
			rc = op_input_error(x, op, "%s:%" PRIu64 ": line too long", op->file, lineno);
			break;
		}
		memcpy(line, data + pos, llen);
		line[llen] = 0;
		pos += llen + 1;
		uint64_t va;
		unsigned acc;
		bool modify;
		int r = lackey_line(line, &va, &acc, &modify);
		if (r < 0) {
			rc = op_input_error(x, op, "%s:%" PRIu64 ": not a lackey record (valgrind "
			                    "--tool=lackey --trace-mem=yes)", op->file, lineno);
			break;
		}
		if (r == 0)
			continue;
		if (!CANONICAL(va)) {
			rc = op_input_error(x, op, "%s:%" PRIu64 ": address 0x%" PRIx64
			                    " is not canonical", op->file, lineno, va);
			break;
		}
		uint32_t dummy;
		if (!u64map_get(&mapped, va >> 12, &dummy)) {
			if (mapped.len == LACKEY_MAX_PAGES) {
				rc = op_input_error(x, op, "%s: more than %u distinct pages", op->file,
				                    LACKEY_MAX_PAGES);
				break;
			}
			uint64_t flags = op->user ? 0x67 : 0x63; /* P RW (US) A D */
			if (hv_guest_map(&p->hv, &p->pv, cpu, va & ~0xfffull,
			                 LACKEY_POOL + (next_frame++ << 12), flags, op->user)) {
				rc = op_input_error(x, op, "%s:%" PRIu64 ": the hypervisor could not map "
				                    "0x%" PRIx64, op->file, lineno, va & ~0xfffull);
				break;
			}
			u64map_put(&mapped, va >> 12, 1);
		}
		struct access_result ar;
		cpu_access(x->m, cpu, va, acc | user, &ar);
		if (modify)
			cpu_access(x->m, cpu, va, ACC_WRITE | user, &ar);
		n++;
	}
	if (owned)
		free((char *)data);
	u64map_fini(&mapped);
	return rc;
}

int pv_op_exec(struct op_ctx *x, const struct op *op, unsigned cpu)
{
	struct platform *p = x->plat;
	if (!p || !p->booted)
		return op_input_error(x, op, "the scenario has no hv: section");
	struct hv *hv = &p->hv;
	struct hv_pv *pv = &p->pv;
	int rc;
	switch (op->kind) {
	case OP_DOMAIN:
		rc = hv_domain_create(hv, pv, cpu, op->vcpu,
		                      op->xpti >= 0 ? op->xpti != 0 : pv->xpti_default);
		if (rc >= 0)
			rc = 0;
		break;
	case OP_VCPU_RUN:
		if (op->domain >= pv->ndomains || op->vcpu >= pv->dom[op->domain].nvcpus)
			return op_input_error(x, op, "no vcpu %u of domain %u", op->vcpu, op->domain);
		rc = hv_vcpu_run(hv, pv, cpu, &pv->dom[op->domain].vcpu[op->vcpu]);
		if (rc == -EBUSY)
			return op_input_error(x, op, "vcpu %u of domain %u runs on another cpu",
			                      op->vcpu, op->domain);
		break;
	case OP_IDLE:
		rc = hv_switch_idle(hv, pv, cpu);
		break;
	case OP_SYSCALL: {
		struct hv_vcpu *v = pv->pcpu[cpu].curr;
		if (!v || !pv->pcpu[cpu].in_guest)
			return op_input_error(x, op, "no guest runs on cpu %u", cpu);
		/* The call, and (in the same op) its return. */
		rc = hv_syscall(hv, pv, cpu, v->kernel_mode ? 1 : 0);
		if (!rc)
			rc = hv_syscall(hv, pv, cpu, v->kernel_mode ? 1 : 0);
		break;
	}
	case OP_LACKEY:
		if (!pv->pcpu[cpu].curr || !pv->pcpu[cpu].in_guest)
			return op_input_error(x, op, "no guest runs on cpu %u", cpu);
		rc = lackey_run(x, op, cpu);
		if (rc)
			return rc;
		break;
	default: /* OP_GUEST_MAP */
		if (!pv->pcpu[cpu].curr || !pv->pcpu[cpu].in_guest)
			return op_input_error(x, op, "no guest runs on cpu %u", cpu);
		rc = hv_guest_map(hv, pv, cpu, op->va, op->pa, op->flags, op->user);
		break;
	}
	if (rc == -ENOMEM)
		return op_input_error(x, op, "out of simulated frames (machine.memory_frames)");
	if (rc)
		return op_input_error(x, op, "the hypervisor refused the operation (%d)", rc);
	xpti_check(x, cpu);
	return 0;
}
