/* The shrinker (fuzz/engine/shrink.h). */
#include "fuzz/engine/shrink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/engine/case.h"
#include "fuzz/gen/emit.h"
#include "fuzz/gen/names.h"
#include "fuzz/gen/scbuild.h"
#include "sim/tlb/pte.h"

#define HV_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G | PTE_NX)

struct shrinker {
	const struct fz_target *t;
	const char *sig;
	struct scenario cur;  /* the smallest failing case so far */
	unsigned max_runs;
	struct fz_shrink_stats *st;
};

int fz_reload(const struct scenario *in, const char *name, struct scenario *out, char *why,
              size_t whylen)
{
	size_t len;
	char *text = scenario_emit_yaml(in, NULL, &len);
	if (!text) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	struct sc_error e;
	int rc = scenario_load_string(name, text, len, out, &e);
	free(text);
	if (rc)
		snprintf(why, whylen, "%s", e.msg);
	return rc;
}

/* With an injected bug on (--inject), a candidate must fail because of
 * it: removing an op could make the case incorrect (e.g. a frame freed
 * while still mapped) and fail the same property without the bug. So a
 * candidate that fails without the injection as well is refused. */
static bool fails_uninjected(struct shrinker *s, const struct scenario *cand)
{
	if (!fz_inject_of(cand))
		return false;
	struct scenario c;
	if (scb_copy(&c, cand) != 0)
		return true;
	fz_inject_apply(0, &c);
	s->st->runs++;
	struct fz_case_opts o = {.stop_at_first = true};
	struct fz_result r;
	fz_run_case(s->t, &c, &o, &r);
	scenario_free(&c);
	return r.rc != FZ_PASS;
}

/* Tries cand (consumed): if it still fails the same way it becomes cur. */
static bool attempt(struct shrinker *s, struct scenario *cand)
{
	if (s->st->runs >= s->max_runs) {
		scenario_free(cand);
		return false;
	}
	struct scenario loaded;
	char why[600];
	int lrc = fz_reload(cand, "shrunk.yaml", &loaded, why, sizeof(why));
	scenario_free(cand);
	if (lrc)
		return false; /* e.g. a table name no longer defined */
	s->st->runs++;
	struct fz_case_opts o = {.stop_at_first = true};
	struct fz_result r;
	fz_run_case(s->t, &loaded, &o, &r);
	if (r.rc != FZ_FAIL || strcmp(r.sig, s->sig) != 0 || fails_uninjected(s, &loaded)) {
		scenario_free(&loaded);
		return false;
	}
	scenario_free(&s->cur);
	s->cur = loaded;
	s->st->accepted++;
	return true;
}

static bool copy_cur(struct shrinker *s, struct scenario *c)
{
	return scb_copy(c, &s->cur) == 0;
}

/* Delta debugging over the top-level ops: chunks of n from nops/2 down
 * to 1; a removal that keeps the failure is kept. Ops the target says
 * must stay (keep_op) stay in every chunk. */
static bool remove_ops(struct shrinker *s)
{
	bool any = false;
	for (uint32_t n = s->cur.nops / 2 ? s->cur.nops / 2 : 1; n >= 1; n /= 2) {
		for (uint32_t i = 0; i < s->cur.nops && s->st->runs < s->max_runs;) {
			struct scenario c;
			if (!copy_cur(s, &c))
				return any;
			if (!scb_remove(&c, i, n, s->t->keep_op)) {
				scenario_free(&c);
				i += n;
				continue;
			}
			if (attempt(s, &c))
				any = true;
			else
				i += n;
		}
		if (n == 1)
			break;
	}
	return any;
}

/* One op of an IPI run at a time (a run keeps at least one op). */
static bool remove_sub_ops(struct shrinker *s)
{
	bool any = false;
	for (uint32_t i = 0; i < s->cur.nops; i++)
		for (uint32_t j = 0; j < s->cur.ops[i].nsub && s->cur.ops[i].nsub > 1;) {
			struct scenario c;
			if (!copy_cur(s, &c))
				return any;
			struct op *op = &c.ops[i];
			free(op->sub[j].file);
			memmove(&op->sub[j], &op->sub[j + 1], (op->nsub - j - 1) * sizeof(op->sub[0]));
			op->nsub--;
			if (attempt(s, &c))
				any = true;
			else
				j++;
		}
	return any;
}

/* Simpler values for op i, in order; false when there are no more. */
static bool simplify_op(struct op *op, unsigned k)
{
	switch (k) {
	case 0:
		if (op->cpu <= 0 || op->kind == OP_IPI)
			return false;
		op->cpu = 0;
		return true;
	case 1:
		if (op->count <= 1)
			return false;
		op->count = 1;
		return true;
	case 2:
		if (op->count <= 2)
			return false;
		op->count /= 2;
		return true;
	case 3:
		if (!op->small)
			return false;
		op->small = false;
		return true;
	case 4:
		if ((op->kind != OP_HV_MAP && op->kind != OP_HV_MODIFY) || op->flags == HV_FLAGS)
			return false;
		op->flags = HV_FLAGS;
		return true;
	case 5:
		if (op->kind != OP_ACCESS || op->acc == ACC_READ)
			return false;
		op->acc = ACC_READ;
		return true;
	default:
		return false;
	}
}

#define SIMPLIFY_KINDS 6

static bool simplify_values(struct shrinker *s)
{
	bool any = false;
	for (uint32_t i = 0; i < s->cur.nops; i++)
		for (unsigned k = 0; k < SIMPLIFY_KINDS && s->st->runs < s->max_runs; k++) {
			struct scenario c;
			if (!copy_cur(s, &c))
				return any;
			if (!simplify_op(&c.ops[i], k)) {
				scenario_free(&c);
				continue;
			}
			if (attempt(s, &c)) {
				any = true;
				k--; /* the same simplification may go further (count) */
			}
		}
	return any;
}

/* The configuration toward the loader's defaults, one field at a time
 * (the profile stays: its costs and rules are what a case is about). */
static bool simplify_config_one(struct scenario *c, unsigned k)
{
	struct sc_hv *hv = &c->hv;
	switch (k) {
	case 0:
		if (c->ncpus <= 1)
			return false;
		c->ncpus--;
		return true;
	case 1:
		if (!hv->enabled || hv->flush_policy == SC_FLUSH_XEN)
			return false;
		hv->flush_policy = SC_FLUSH_XEN;
		return true;
	case 2:
		if (!hv->enabled || hv->flush_ceiling == 33)
			return false;
		hv->flush_ceiling = 33;
		return true;
	case 3:
		if (!hv->enabled || !hv->directmap_bytes)
			return false;
		hv->directmap_bytes = 0;
		return true;
	case 4:
		if (!hv->enabled || hv->page1gb)
			return false;
		hv->page1gb = true;
		return true;
	case 5:
		if (!hv->enabled || hv->superpages)
			return false;
		hv->superpages = true;
		return true;
	case 6:
		if (!hv->enabled || hv->pcid == SC_PCID_XPTI)
			return false;
		hv->pcid = SC_PCID_XPTI;
		return true;
	case 7:
		if (!c->has_seed || c->seed == 1)
			return false;
		c->seed = 1;
		return true;
	case 8:
		if (!c->iommu.enabled || !c->iommu.iotlb_entries)
			return false;
		c->iommu.iotlb_entries = c->iommu.iotlb_ways = 0;
		return true;
	case 9:
		if (!c->iommu.enabled || c->iommu.levels == 4)
			return false;
		c->iommu.levels = 4;
		return true;
	case 10:
		if (!c->time.enabled || !c->time.clamp)
			return false;
		c->time.clamp = false;
		return true;
	default:
		return false;
	}
}

#define CONFIG_KINDS 11

static bool simplify_config(struct shrinker *s)
{
	bool any = false;
	for (unsigned k = 0; k < CONFIG_KINDS && s->st->runs < s->max_runs; k++) {
		struct scenario c;
		if (!copy_cur(s, &c))
			return any;
		if (!simplify_config_one(&c, k)) {
			scenario_free(&c);
			continue;
		}
		if (attempt(s, &c)) {
			any = true;
			k--;
		}
	}
	return any;
}

int fz_shrink(const struct fz_target *t, const struct scenario *in, const char *sig,
              unsigned max_runs, struct scenario *out, struct fz_shrink_stats *st,
              char *why, size_t whylen)
{
	memset(st, 0, sizeof(*st));
	memset(out, 0, sizeof(*out));
	struct shrinker s = {.t = t, .sig = sig, .max_runs = max_runs, .st = st};
	st->ops_before = in->nops;
	if (fz_reload(in, "shrunk.yaml", &s.cur, why, whylen) != 0)
		return -1;
	struct fz_case_opts o = {.stop_at_first = true};
	struct fz_result r;
	fz_run_case(t, &s.cur, &o, &r);
	if (r.rc != FZ_FAIL || strcmp(r.sig, sig) != 0) {
		snprintf(why, whylen, "the case does not fail with %s after the YAML round trip "
		         "(%s)", sig, r.rc == FZ_FAIL ? r.sig : r.rc == FZ_PASS ? "it passes" : r.first);
		scenario_free(&s.cur);
		return -1;
	}
	/* Each round can enable the next (a simpler value lets another op
	 * go); bounded by max_runs and by the size only ever decreasing. */
	for (unsigned round = 0; round < 16 && st->runs < max_runs; round++) {
		bool any = remove_ops(&s);
		any |= remove_sub_ops(&s);
		any |= simplify_values(&s);
		any |= simplify_config(&s);
		if (!any)
			break;
	}
	st->ops_after = s.cur.nops;
	*out = s.cur;
	return 0;
}
