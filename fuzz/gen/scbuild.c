/* Scenario construction in memory (fuzz/gen/scbuild.h). */
#include "fuzz/gen/scbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/profile_load.h"
#include "sim/profile.h"

/* The embedded profiles, parsed on first use: a case must not pay a YAML
 * parse for its cost profile (thousands of cases per second). */
#define PROFILE_CACHE 8
static struct {
	char name[32];
	struct profile prof;
} cache[PROFILE_CACHE];
static unsigned ncache;

static const struct profile *profile_cached(const char *name)
{
	for (unsigned i = 0; i < ncache; i++)
		if (!strcmp(cache[i].name, name))
			return &cache[i].prof;
	if (ncache == PROFILE_CACHE || strlen(name) >= sizeof(cache[0].name))
		return NULL;
	struct sc_error e;
	if (profile_load_named(name, &cache[ncache].prof, &e) != 0)
		return NULL;
	memcpy(cache[ncache].name, name, strlen(name) + 1);
	return &cache[ncache++].prof;
}

const struct profile *scb_profile(const char *name)
{
	return profile_cached(name);
}

int scb_begin(struct scenario *sc, const char *name, const char *profile, unsigned ncpus)
{
	memset(sc, 0, sizeof(*sc));
	const struct profile *p = profile_cached(profile);
	if (!p || strlen(profile) >= sizeof(sc->profile_name) || ncpus < 1 || ncpus > SC_MAX_CPUS)
		return -1;
	sc->path = strdup("fuzz-case.yaml");
	sc->name = strdup(name);
	sc->description = strdup("");
	sc->overrides = strdup("");
	if (!sc->path || !sc->name || !sc->description || !sc->overrides) {
		scenario_free(sc);
		return -1;
	}
	sc->version = SC_VERSION;
	memcpy(sc->profile_name, profile, strlen(profile) + 1);
	sc->profile = *p;
	sc->ncpus = ncpus;
	sc->mem_frames = 1ull << 20; /* the loader's default */
	return 0;
}

void scb_hv_defaults(struct sc_hv *hv)
{
	*hv = (struct sc_hv){.enabled = true, .page1gb = true, .superpages = true,
	                     .flush_policy = SC_FLUSH_XEN, .flush_ceiling = 33,
	                     .pcid = SC_PCID_XPTI, .xpti = false};
}

static void op_init(struct op *op, enum op_kind k, int cpu)
{
	memset(op, 0, sizeof(*op));
	op->kind = k;
	op->cpu = cpu;
	op->pge = op->pcide = op->smep = op->wp = op->xpti = -1;
	op->line = 1;
	op->col = 1;
}

struct op *scb_op(struct scenario *sc, enum op_kind k, unsigned cpu)
{
	if (sc->nops >= SCB_MAX_OPS)
		return NULL;
	/* Grown in powers of two from 16: the capacity is implied by nops. */
	uint32_t cap = 16;
	while (cap < sc->nops)
		cap *= 2;
	if (sc->nops == 0 || sc->nops == cap) {
		struct op *n = realloc(sc->ops, (sc->nops ? cap * 2 : cap) * sizeof(*n));
		if (!n)
			return NULL;
		sc->ops = n;
	}
	struct op *op = &sc->ops[sc->nops++];
	op_init(op, k, (int)cpu);
	op->line = sc->nops;
	return op;
}

struct op *scb_sub(struct op *ipi, enum op_kind k)
{
	struct op *n = realloc(ipi->sub, (ipi->nsub + 1) * sizeof(*n));
	if (!n)
		return NULL;
	ipi->sub = n;
	struct op *op = &ipi->sub[ipi->nsub++];
	op_init(op, k, -1);
	return op;
}

int scb_root(struct scenario *sc, const char *name)
{
	if (sc->nroots >= SC_MAX_ROOTS)
		return -1;
	char **r = realloc(sc->roots, (sc->nroots + 1) * sizeof(*r));
	if (!r)
		return -1;
	sc->roots = r;
	if (!(r[sc->nroots] = strdup(name)))
		return -1;
	return (int)sc->nroots++;
}

/* The overrides text of the fields in which sc->profile differs from its
 * named profile, sorted by name (the loader's build_overrides). */
static int rebuild_overrides(struct scenario *sc, const struct profile *base)
{
	const struct profile_field *f[PROFILE_NFIELDS];
	size_t n = 0;
	for (size_t i = 0; profile_fields[i].name && n < PROFILE_NFIELDS; i++)
		if (*profile_field_ptr(&sc->profile, &profile_fields[i]) !=
		    *profile_field_ptr((struct profile *)base, &profile_fields[i]))
			f[n++] = &profile_fields[i];
	for (size_t i = 1; i < n; i++) /* insertion sort by name: n is small */
		for (size_t j = i; j > 0 && strcmp(f[j - 1]->name, f[j]->name) > 0; j--) {
			const struct profile_field *t = f[j];
			f[j] = f[j - 1];
			f[j - 1] = t;
		}
	char buf[2048];
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + o, sizeof(buf) - o, "%s%s=%u", i ? "," : "", f[i]->name,
		                 *profile_field_ptr(&sc->profile, f[i]));
		if (w < 0 || (size_t)w >= sizeof(buf) - o)
			return -1;
		o += (size_t)w;
	}
	char *d = strdup(buf);
	if (!d)
		return -1;
	free(sc->overrides);
	sc->overrides = d;
	return 0;
}

int scb_override(struct scenario *sc, const char *field, uint32_t value)
{
	const struct profile_field *f = profile_field_find(field);
	const struct profile *base = profile_cached(sc->profile_name);
	if (!f || !base)
		return -1;
	*profile_field_ptr(&sc->profile, f) = value;
	return rebuild_overrides(sc, base);
}

static char *dup_or_null(const char *s, bool *fail)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

static struct op *copy_ops(const struct op *src, uint32_t n, bool *fail)
{
	if (!n)
		return NULL;
	/* Room for scb_op's growth rule (a power of two >= 16 above n). */
	uint32_t cap = 16;
	while (cap < n)
		cap *= 2;
	struct op *d = calloc(cap, sizeof(*d));
	if (!d) {
		*fail = true;
		return NULL;
	}
	memcpy(d, src, n * sizeof(*d));
	for (uint32_t i = 0; i < n; i++) {
		d[i].file = dup_or_null(src[i].file, fail);
		d[i].sub = NULL;
		if (src[i].nsub) {
			d[i].sub = calloc(src[i].nsub, sizeof(*d[i].sub));
			if (!d[i].sub) {
				*fail = true;
				d[i].nsub = 0;
				continue;
			}
			memcpy(d[i].sub, src[i].sub, src[i].nsub * sizeof(*d[i].sub));
			for (uint32_t j = 0; j < src[i].nsub; j++) {
				d[i].sub[j].file = dup_or_null(src[i].sub[j].file, fail);
				d[i].sub[j].sub = NULL;
				d[i].sub[j].nsub = 0; /* the loader allows no nested ipi */
			}
		}
	}
	return d;
}

/* time: per-core lists (ncpus entries), NULL when drawn per core. */
static int64_t *copy_percore(const int64_t *src, uint32_t n, bool *fail)
{
	if (!src)
		return NULL;
	int64_t *d = malloc(n * sizeof(*d));
	if (!d)
		*fail = true;
	else
		memcpy(d, src, n * sizeof(*d));
	return d;
}

int scb_copy(struct scenario *dst, const struct scenario *src)
{
	bool fail = false;
	*dst = *src;
	dst->path = dup_or_null(src->path, &fail);
	dst->name = dup_or_null(src->name, &fail);
	dst->description = dup_or_null(src->description, &fail);
	dst->overrides = dup_or_null(src->overrides, &fail);
	dst->negative = dup_or_null(src->negative, &fail);
	dst->roots = NULL;
	if (src->nroots) {
		dst->roots = calloc(src->nroots, sizeof(char *));
		if (!dst->roots) {
			fail = true;
			dst->nroots = 0;
		}
		for (uint32_t i = 0; dst->roots && i < src->nroots; i++)
			dst->roots[i] = dup_or_null(src->roots[i], &fail);
	}
	dst->time.offsets = copy_percore(src->time.offsets, src->ncpus, &fail);
	dst->time.drift_ppb = copy_percore(src->time.drift_ppb, src->ncpus, &fail);
	dst->ops = copy_ops(src->ops, src->nops, &fail);
	if (!dst->ops)
		dst->nops = 0;
	if (fail) {
		scenario_free(dst);
		return -1;
	}
	return 0;
}

uint32_t scb_remove(struct scenario *sc, uint32_t from, uint32_t n,
                    bool (*keep)(const struct scenario *, const struct op *))
{
	if (from >= sc->nops)
		return 0;
	if (n > sc->nops - from)
		n = sc->nops - from;
	uint32_t w = from, removed = 0;
	for (uint32_t i = from; i < sc->nops; i++) {
		struct op *op = &sc->ops[i];
		if (i < from + n && !(keep && keep(sc, op))) {
			for (uint32_t j = 0; j < op->nsub; j++)
				free(op->sub[j].file);
			free(op->sub);
			free(op->file);
			removed++;
			continue;
		}
		sc->ops[w++] = *op;
	}
	sc->nops = w;
	return removed;
}
