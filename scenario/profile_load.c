/* Cost profiles: the YAML of profiles/NAME.yaml, embedded in the binary.
 *
 *   hvsim_profile: 1
 *   name: skylake
 *   description: ...
 *   costs:    {FIELD: {value: N, source: "..."}, ...}   every PF_COST field
 *   geometry: {FIELD: {value: N, source: "..."}, ...}   every PF_GEOMETRY field
 *
 * Every field of profile_fields[] must appear exactly once, in its own
 * section, with a source: a profile is a calibration record, and a figure
 * without a stated origin (or one silently left at zero) is a bug.
 */
#include "scenario/profile_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/yaml_node.h"
#include "sim/embedded.h"

static const char *const top_keys[] = {
	"hvsim_profile", "name", "description", "costs", "geometry", NULL,
};
static const char *const entry_keys[] = {"value", "source", NULL};

static const char *section_name(enum profile_field_kind k)
{
	return k == PF_COST ? "costs" : "geometry";
}

bool profile_is_embedded(const char *name)
{
	for (const struct hvsim_embedded *e = hvsim_profiles; e->name; e++)
		if (strcmp(e->name, name) == 0)
			return true;
	return false;
}

void profile_embedded_names(char *dst, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return;
	dst[0] = 0;
	for (const struct hvsim_embedded *e = hvsim_profiles; e->name && o < cap; e++) {
		int n = snprintf(dst + o, cap - o, "%s%s", o ? ", " : "", e->name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* A field's key text, matched whole (a key with a NUL inside is unknown). */
const struct profile_field *profile_field_of_key(const yaml_node_t *k)
{
	size_t len;
	const char *s = y_scalar(k, &len);
	if (!s || strlen(s) != len)
		return NULL;
	return profile_field_find(s);
}

/* {value: N, source: "..."} */
static int load_entry(struct yctx *c, const yaml_node_t *n, const char *path,
                      uint32_t *out)
{
	struct yfields f;
	char p[128];
	char *src = NULL;

	if (y_fields(c, n, path, entry_keys, &f))
		return -1;
	if (!f.val[0])
		return y_err(c, n, "%s: missing required field 'value'", path);
	if (!f.val[1])
		return y_err(c, n, "%s: missing required field 'source' (every figure "
		             "states where it comes from)", path);
	y_path(p, sizeof(p), path, "value");
	if (y_u32(c, f.val[0], p, out))
		return -1;
	y_path(p, sizeof(p), path, "source");
	if (y_str(c, f.val[1], p, false, &src))
		return -1;
	free(src);
	return 0;
}

static int load_section(struct yctx *c, const yaml_node_t *sec,
                        enum profile_field_kind kind, struct profile *p)
{
	const char *sname = section_name(kind);
	bool seen[PROFILE_NFIELDS] = {false};
	char path[128], q[64];

	if (y_want_map(c, sec, sname))
		return -1;
	for (yaml_node_pair_t *pr = sec->data.mapping.pairs.start;
	     pr < sec->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = y_node(c, pr->key), *v = y_node(c, pr->value);
		const struct profile_field *f = profile_field_of_key(k);
		y_quote_node(q, sizeof(q), k);
		if (!f || !v)
			return y_err(c, k ? k : sec, "%s: unknown profile field '%s'", sname, q);
		if (f->kind != kind)
			return y_err(c, k, "%s: '%s' is a %s field (move it under %s)",
			             sname, q, section_name(f->kind), section_name(f->kind));
		size_t i = (size_t)(f - profile_fields);
		if (seen[i])
			return y_err(c, k, "%s: duplicate field '%s'", sname, q);
		seen[i] = true;
		y_path(path, sizeof(path), sname, f->name);
		if (load_entry(c, v, path, profile_field_ptr(p, f)))
			return -1;
	}
	for (size_t i = 0; profile_fields[i].name; i++)
		if (profile_fields[i].kind == kind && !seen[i])
			return y_err(c, sec, "%s: missing field '%s' (%s)", sname,
			             profile_fields[i].name, profile_fields[i].desc);
	return 0;
}

static int load_header(struct yctx *c, const yaml_node_t *root,
                       const struct yfields *f, const char *name,
                       struct profile *p)
{
	uint64_t v;
	char *s = NULL;

	if (!f->val[0])
		return y_err(c, root, "missing required field 'hvsim_profile' (1)");
	if (y_u64(c, f->val[0], "hvsim_profile", &v))
		return -1;
	if (v != 1)
		return y_err(c, f->val[0], "hvsim_profile: unsupported profile format "
		             "version %llu (this build reads 1)", (unsigned long long)v);
	if (!f->val[1])
		return y_err(c, root, "missing required field 'name'");
	if (y_str(c, f->val[1], "name", false, &s))
		return -1;
	int bad = strcmp(s, name) != 0 || strlen(s) >= sizeof(p->name);
	if (!bad)
		memcpy(p->name, s, strlen(s) + 1);
	free(s);
	if (bad) {
		char q[64];
		y_quote(q, sizeof(q), name, strlen(name));
		return y_err(c, f->val[1], "name: must be the profile's own name '%s' "
		             "(shorter than %zu characters)", q, sizeof(p->name));
	}
	if (f->val[2]) {
		if (y_str(c, f->val[2], "description", true, &s))
			return -1;
		free(s);
	}
	return 0;
}

static int load_profile_doc(struct yctx *c, const yaml_node_t *root,
                            const char *name, struct profile *p)
{
	struct yfields f;
	const char *e;

	if (!root || root->type != YAML_MAPPING_NODE)
		return y_err(c, root, "top level must be a mapping, got %s",
		             y_type_name(root));
	if (y_fields(c, root, "", top_keys, &f) ||
	    load_header(c, root, &f, name, p))
		return -1;
	if (!f.val[3])
		return y_err(c, root, "missing required section 'costs'");
	if (!f.val[4])
		return y_err(c, root, "missing required section 'geometry'");
	if (load_section(c, f.val[3], PF_COST, p) ||
	    load_section(c, f.val[4], PF_GEOMETRY, p))
		return -1;
	if ((e = profile_validate(p)))
		return y_err(c, root, "invalid profile: %s", e);
	return 0;
}

int profile_load_text(const char *name, const char *text, size_t len,
                      struct profile *out, struct sc_error *err)
{
	char file[160];
	struct yctx c;
	yaml_document_t doc;
	struct profile p;

	snprintf(file, sizeof(file), "profile %s", name ? name : "");
	y_init(&c, file, err);
	if (y_parse(&c, text, len, &doc))
		return -1;
	memset(&p, 0, sizeof(p));
	int r = load_profile_doc(&c, yaml_document_get_root_node(&doc),
	                         name ? name : "", &p);
	yaml_document_delete(&doc);
	if (r == 0)
		*out = p;
	return r;
}

int profile_load_named(const char *name, struct profile *out, struct sc_error *err)
{
	for (const struct hvsim_embedded *e = hvsim_profiles; name && e->name; e++)
		if (strcmp(e->name, name) == 0)
			return profile_load_text(name, e->text, strlen(e->text), out, err);

	char file[160], avail[256];
	struct yctx c;
	snprintf(file, sizeof(file), "profile %s", name ? name : "(null)");
	y_init(&c, file, err);
	profile_embedded_names(avail, sizeof(avail));
	return y_err_nopos(&c, "no such profile (available: %s)", avail);
}
