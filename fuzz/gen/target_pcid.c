/* Fuzz target `pcid`: 64-bit PV domains with PCID and XPTI (seed 003).
 *
 * The swarm picks the profile, 1-3 CPUs, the pcid= policy (off, on, xpti,
 * no-xpti), XPTI for new domains on or off (and per domain), the flush
 * policy, the direct map, TLB sizes, which op kinds and how often. A case
 * creates 1-3 domains of 1-2 vCPUs, then context-switches CPUs between
 * vCPUs and idle (vcpu_run, idle; a vCPU moving to another CPU is first
 * descheduled there, with a barrier between), makes system calls (the
 * guest kernel/user toggle under XPTI), updates guest page tables
 * (guest_map, with the flush of every CPU the domain ran on), touches
 * guest and hypervisor addresses from the guest, remaps hypervisor pages
 * (hv_map, single-address flushes reaching every PCID), and marks
 * quiescent points. Every sequence is valid and correct; the properties
 * (stale-access, quiescent-stale, pge-pcide, xpti-isolation, hv-mapping
 * ...) must hold.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz/gen/observe.h"
#include "fuzz/gen/scbuild.h"
#include "fuzz/gen/target.h"
#include "sim/tlb/pte.h"

#define MAX_DOM 3
#define MAX_VCPU 2
#define MAX_CPUS 3
#define USER_VA 0x400000ull
#define KERN_VA 0xffff880000000000ull /* above the hypervisor's slots */
#define GUEST_PA 0x200000000ull
#define HV_WIN_VA 0xffff820000000000ull
#define HV_PA 0x300000000ull
#define DIRECTMAP_VA 0xffff830000000000ull
#define HV_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G | PTE_NX)
#define GUEST_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)

struct pcgen {
	struct bytesrc *b;
	struct scenario *sc;
	unsigned ncpus, ndom;
	unsigned nvcpus[MAX_DOM];
	int where[MAX_DOM][MAX_VCPU]; /* cpu running it, -1 */
	int last[MAX_DOM][MAX_VCPU];  /* cpu that last ran it, -1 */
	int cur[MAX_CPUS];            /* domain * MAX_VCPU + vcpu, -1: idle */
	unsigned hv_pages;            /* hypervisor window pages mapped */
};

static int add(struct pcgen *g, enum op_kind k, unsigned cpu, struct op **out)
{
	struct op *op = scb_op(g->sc, k, cpu);
	if (out)
		*out = op;
	return op ? 0 : -1;
}

static int deschedule(struct pcgen *g, unsigned cpu)
{
	int v = g->cur[cpu];
	if (v < 0)
		return 0;
	g->where[v / MAX_VCPU][v % MAX_VCPU] = -1;
	g->last[v / MAX_VCPU][v % MAX_VCPU] = (int)cpu;
	g->cur[cpu] = -1;
	return 0;
}

static int gen_run(struct pcgen *g, unsigned cpu)
{
	unsigned d = (unsigned)bs_below(g->b, g->ndom);
	unsigned v = (unsigned)bs_below(g->b, g->nvcpus[d]);
	int at = g->where[d][v];
	if (at >= 0 && at != (int)cpu) {
		/* Running elsewhere: deschedule it there first. */
		if (add(g, OP_IDLE, (unsigned)at, NULL))
			return -1;
		deschedule(g, (unsigned)at);
	}
	/* It last ran on another CPU: that CPU's ops must have run before
	 * this CPU picks it up (programs are per CPU). */
	if (g->last[d][v] >= 0 && g->last[d][v] != (int)cpu && add(g, OP_BARRIER, 0, NULL))
		return -1;
	if (g->cur[cpu] >= 0 && g->cur[cpu] != (int)(d * MAX_VCPU + v))
		deschedule(g, cpu);
	struct op *op;
	if (add(g, OP_VCPU_RUN, cpu, &op))
		return -1;
	op->domain = d;
	op->vcpu = v;
	g->where[d][v] = (int)cpu;
	g->last[d][v] = (int)cpu;
	g->cur[cpu] = (int)(d * MAX_VCPU + v);
	return 0;
}

static int gen_guest_map(struct pcgen *g, unsigned cpu)
{
	struct op *op;
	if (add(g, OP_GUEST_MAP, cpu, &op))
		return -1;
	op->user = bs_chance(g->b, 70);
	op->va = (op->user ? USER_VA : KERN_VA) + (bs_below(g->b, 8) << 12);
	op->pa = GUEST_PA + (bs_below(g->b, 16) << 12);
	op->flags = GUEST_FLAGS | (op->user ? PTE_US : 0);
	if (bs_chance(g->b, 15))
		op->flags &= ~PTE_RW;
	return 0;
}

static int gen_access(struct pcgen *g, unsigned cpu)
{
	struct op *op;
	if (add(g, OP_ACCESS, cpu, &op))
		return -1;
	switch (bs_below(g->b, 6)) {
	case 0: /* the hypervisor's own pages: must fault under XPTI */
		op->va = g->hv_pages && bs_chance(g->b, 60)
		             ? HV_WIN_VA + (bs_below(g->b, g->hv_pages) << 12)
		             : DIRECTMAP_VA + (bs_below(g->b, 1024) << 12);
		break;
	case 1:
		op->va = KERN_VA + (bs_below(g->b, 8) << 12);
		break;
	default:
		op->va = USER_VA + (bs_below(g->b, 8) << 12);
		op->acc = ACC_USER;
	}
	op->va += bs_below(g->b, 512) << 3;
	if (bs_chance(g->b, 30))
		op->acc |= ACC_WRITE;
	return 0;
}

static int gen_hv_map(struct pcgen *g, unsigned cpu)
{
	struct op *op;
	if (add(g, OP_HV_MAP, cpu, &op))
		return -1;
	unsigned page = (unsigned)bs_below(g->b, 8);
	op->va = HV_WIN_VA + ((uint64_t)page << 12);
	op->pa = HV_PA + (bs_below(g->b, 32) << 12);
	op->count = 1 + bs_below(g->b, 2);
	op->flags = HV_FLAGS;
	if (page + op->count > g->hv_pages)
		g->hv_pages = page + (unsigned)op->count;
	return 0;
}

static void pcid_config(struct pcgen *g)
{
	struct sc_hv *hv = &g->sc->hv;
	scb_hv_defaults(hv);
	hv->pcid = (int)bs_below(g->b, 4);
	hv->xpti = bs_chance(g->b, 50);
	hv->flush_policy = bs_chance(g->b, 50) ? SC_FLUSH_RANGED : SC_FLUSH_XEN;
	hv->directmap_bytes = bs_chance(g->b, 60) ? 4ull << 20 : 0;
}

static int domains(struct pcgen *g)
{
	g->ndom = 1 + (unsigned)bs_below(g->b, MAX_DOM);
	for (unsigned d = 0; d < g->ndom; d++) {
		struct op *op;
		if (add(g, OP_DOMAIN, 0, &op))
			return -1;
		g->nvcpus[d] = 1 + (unsigned)bs_below(g->b, MAX_VCPU);
		op->vcpu = g->nvcpus[d];
		op->xpti = bs_chance(g->b, 60) ? -1 : (int8_t)bs_below(g->b, 2);
		for (unsigned v = 0; v < MAX_VCPU; v++)
			g->where[d][v] = g->last[d][v] = -1;
	}
	/* Every CPU sees every domain before it runs one. */
	return g->ncpus > 1 ? add(g, OP_BARRIER, 0, NULL) : 0;
}

static int pcid_ops(struct pcgen *g)
{
	enum { W_RUN, W_IDLE, W_SYSCALL, W_GMAP, W_ACCESS, W_HVMAP, W_QUIESCE, W_BARRIER, NW };
	unsigned w[NW];
	for (unsigned i = 0; i < NW; i++)
		w[i] = bs_chance(g->b, 75) ? 1 + (unsigned)bs_below(g->b, 4) : 0;
	w[W_RUN] += 2;
	w[W_ACCESS] += 1;
	unsigned n = 3 + (unsigned)bs_below(g->b, 10) +
	             (bs_chance(g->b, 20) ? (unsigned)bs_below(g->b, 30) : 0);
	for (unsigned i = 0; i < n && !bs_exhausted(g->b); i++) {
		unsigned cpu = (unsigned)bs_below(g->b, g->ncpus);
		unsigned k = bs_weighted(g->b, w, NW);
		bool guest = g->cur[cpu] >= 0;
		if (!guest && (k == W_SYSCALL || k == W_GMAP))
			k = W_RUN; /* these need a guest on the CPU */
		int rc;
		switch (k) {
		case W_RUN:
			rc = gen_run(g, cpu);
			break;
		case W_IDLE:
			deschedule(g, cpu);
			rc = add(g, OP_IDLE, cpu, NULL);
			break;
		case W_SYSCALL:
			rc = add(g, OP_SYSCALL, cpu, NULL);
			break;
		case W_GMAP:
			rc = gen_guest_map(g, cpu);
			break;
		case W_ACCESS:
			rc = gen_access(g, cpu);
			break;
		case W_HVMAP:
			rc = gen_hv_map(g, cpu);
			break;
		case W_QUIESCE:
			rc = add(g, OP_QUIESCE, 0, NULL);
			break;
		default:
			rc = add(g, OP_BARRIER, 0, NULL);
			break;
		}
		if (rc)
			return g->sc->nops >= SCB_MAX_OPS - 4 ? 0 : -1;
	}
	return add(g, OP_QUIESCE, 0, NULL);
}

static int pcid_decode(struct bytesrc *b, struct scenario *sc)
{
	static const char *const profiles[] = {"skylake", "zen3"};
	const char *prof = profiles[bs_below(b, 2)];
	unsigned ncpus = 1 + (unsigned)bs_below(b, MAX_CPUS);
	if (scb_begin(sc, "fuzz-pcid", prof, ncpus) != 0)
		return -1;
	sc->seed = 1 + bs_below(b, 1u << 16);
	sc->has_seed = true;
	if (bs_chance(b, 50) && (scb_override(sc, "l2_entries", 64) ||
	                         scb_override(sc, "l2_ways", 4) || profile_validate(&sc->profile))) {
		scenario_free(sc);
		return -1;
	}
	struct pcgen g = {.b = b, .sc = sc, .ncpus = ncpus};
	for (unsigned c = 0; c < MAX_CPUS; c++)
		g.cur[c] = -1;
	pcid_config(&g);
	if (domains(&g) || pcid_ops(&g)) {
		scenario_free(sc);
		return -1;
	}
	return 0;
}

/* ---- states and the observer ---------------------------------------------- */

enum {
	S_XPTI_SWITCH, S_OLD_PCID_FLUSH, S_NOFLUSH, S_PGE_TO_PCIDE, S_PCIDE_TO_PGE, S_DOM_FLUSH,
	S_REMOTE_FLUSH, S_STALE_DROPPED, S_XPTI_ENTRY, S_ALIAS, S_TOGGLE, S_HV_INVPCID, S_COUNT
};

static const struct fz_state pcid_states[] = {
	[S_XPTI_SWITCH] = {"pcid-switch-xpti", "CR3 loaded with another PCID, into an XPTI "
	                                       "address space (PCID_PV_XPTI), under PCIDE"},
	[S_OLD_PCID_FLUSH] = {"old-pcid-flush", "write_cr3_cr4 flushed the old PCID (INVPCID "
	                                        "single-context, seed 003 v5)"},
	[S_NOFLUSH] = {"cr3-noflush", "a CR3 load with NOFLUSH (bit 63) kept a PCID's entries"},
	[S_PGE_TO_PCIDE] = {"pcid-mode-entered", "CR4.PCIDE set (a switch into a PCID guest)"},
	[S_PCIDE_TO_PGE] = {"pcid-mode-left", "CR4.PCIDE cleared (a switch out of a PCID guest)"},
	[S_DOM_FLUSH] = {"switch-flush-all-nonglobal", "a context switch flushed all PCIDs' "
	                                               "non-global entries (INVPCID type 3)"},
	[S_REMOTE_FLUSH] = {"remote-flush", "a guest page-table update flushed another CPU "
	                                    "by IPI"},
	[S_STALE_DROPPED] = {"stale-dropped", "a flush removed a translation that had become "
	                                      "stale"},
	[S_XPTI_ENTRY] = {"xpti-restricted-entry", "a guest was entered on the per-CPU "
	                                           "restricted root (XPTI)"},
	[S_ALIAS] = {"toggle-under-pcid", "a guest kernel/user toggle kept the other PCID's "
	                                  "entries (NOFLUSH under PCIDE)"},
	[S_TOGGLE] = {"guest-mode-toggle", "a system call toggled guest kernel/user page "
	                                   "tables"},
	[S_HV_INVPCID] = {"hv-flush-invpcid", "a hypervisor single-address flush under PCIDE "
	                                      "used INVPCID (every PCID)"},
};

static_assert(sizeof(pcid_states) / sizeof(pcid_states[0]) == S_COUNT, "one entry per state");

struct pcid_obs {
	struct obs_callers callers;
	struct obs_cr4 cr4;
	bool cr3_pending; /* a CR3 load under PCIDE not yet followed by its flush */
};

enum { C_WRITE_CR3_CR4, C_RESTORE, C_TOGGLE, C_FLUSH_LOCAL };
static const char *const pcid_callers[] = {"write_cr3_cr4", "restore_all_guest",
                                           "toggle_guest_pt", "flush_area_local", NULL};

static void pcid_obs_init(void *o, const struct scenario *sc)
{
	(void)sc;
	((struct pcid_obs *)o)->callers.names = pcid_callers;
}

static void pcid_obs_string(void *o, uint32_t id, const char *s)
{
	obs_callers_string(&((struct pcid_obs *)o)->callers, id, s);
}

#define PCIDE (1ull << 17)
#define PGE (1ull << 7)

static void cr_write(struct pcid_obs *p, const struct event *ev, struct fz_verdict *v)
{
	/* EV_CR_WRITE: a = old, b = new, c = faulted. */
	if (ev->c)
		return;
	if (ev->sub == 4) {
		if (!(ev->a & PCIDE) && (ev->b & PCIDE))
			v->reached |= 1u << S_PGE_TO_PCIDE;
		if ((ev->a & PCIDE) && !(ev->b & PCIDE))
			v->reached |= 1u << S_PCIDE_TO_PGE;
		return;
	}
	if (ev->sub != 3)
		return;
	if (obs_cr4_has(&p->cr4, ev->cpu, PCIDE) && (ev->b & 2) && ((ev->a ^ ev->b) & 0xfff))
		v->reached |= 1u << S_XPTI_SWITCH;
	if (obs_caller_is(&p->callers, ev, C_RESTORE))
		v->reached |= 1u << S_XPTI_ENTRY;
	if (obs_caller_is(&p->callers, ev, C_TOGGLE)) {
		v->reached |= 1u << S_TOGGLE;
		if (obs_cr4_has(&p->cr4, ev->cpu, PCIDE))
			v->reached |= 1u << S_ALIAS;
	}
}

static int pcid_obs_event(void *o, const struct event *ev, struct fz_verdict *v)
{
	struct pcid_obs *p = o;
	/* A CR3 load flushes right after its EV_CR_WRITE unless NOFLUSH
	 * (the register does not keep bit 63): the next CR write, other
	 * flush or IPI without that flush in between shows a NOFLUSH load. */
	if (ev->type == EV_FLUSH && ev->sub == INSTR_MOV_CR3) {
		p->cr3_pending = false;
	} else if (ev->type != EV_ENV_DROP && p->cr3_pending) {
		v->reached |= 1u << S_NOFLUSH;
		p->cr3_pending = false;
	}
	if (ev->type == EV_CR_WRITE) {
		cr_write(p, ev, v);
		p->cr3_pending = ev->sub == 3 && !ev->c && obs_cr4_has(&p->cr4, ev->cpu, PCIDE);
	}
	obs_cr4_event(&p->cr4, ev);
	switch (ev->type) {
	case EV_FLUSH:
		if (ev->sub == INSTR_INVPCID1 && obs_caller_is(&p->callers, ev, C_WRITE_CR3_CR4))
			v->reached |= 1u << S_OLD_PCID_FLUSH;
		if (ev->sub == INSTR_INVPCID3 && obs_caller_is(&p->callers, ev, C_WRITE_CR3_CR4))
			v->reached |= 1u << S_DOM_FLUSH;
		if (ev->sub == INSTR_INVPCID0 && obs_caller_is(&p->callers, ev, C_FLUSH_LOCAL))
			v->reached |= 1u << S_HV_INVPCID;
		break;
	case EV_IPI:
		if (ev->sub == IPI_DELIVER)
			v->reached |= 1u << S_REMOTE_FLUSH;
		break;
	case EV_ENV_DROP:
		if (ev->c)
			v->reached |= 1u << S_STALE_DROPPED;
		break;
	default:
		break;
	}
	return 0;
}

const struct fz_target fz_target_pcid = {
	.name = "pcid",
	.summary = "PV domains: vcpu_run, syscall, guest_map, idle under every pcid= policy, "
	           "XPTI on and off",
	.built = true,
	.decode = pcid_decode,
	.states = pcid_states,
	.nstates = S_COUNT,
	.obs_size = sizeof(struct pcid_obs),
	.obs_mask = 1ull << EV_CR_WRITE | 1ull << EV_FLUSH | 1ull << EV_IPI |
	            1ull << EV_ENV_DROP,
	.obs_init = pcid_obs_init,
	.obs_event = pcid_obs_event,
	.obs_string = pcid_obs_string,
};
