/* Typed, position-reporting access to a libyaml document (internal to
 * scenario/). The scenario loader and the profile loader share it so that
 * both report errors the same way: one line, "FILE:LINE:COL: message",
 * 1-based, at the node that is wrong.
 *
 * Nothing here trusts the input: every node's type is checked before use,
 * every echoed piece of input is sanitised to printable ASCII and bounded,
 * and the walkers never recurse on document structure (the schema bounds
 * the depth; aliases may make the node graph cyclic).
 */
#ifndef HVSIM_SCENARIO_YAML_NODE_H
#define HVSIM_SCENARIO_YAML_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "scenario/scenario.h"

/* The largest input accepted (a full SC_MAX_OPS scenario fits easily). */
#define Y_MAX_INPUT (256u << 20)
/* Known keys of one mapping (ops have the most: 3 common + 5 own). */
#define Y_MAX_KEYS 16

struct yctx {
	char file[256];          /* sanitised name used in messages */
	yaml_document_t *doc;
	struct sc_error *err;
	bool failed;             /* first error wins */
};

void y_init(struct yctx *c, const char *file, struct sc_error *err);

/* Parses exactly one YAML document from text into doc. Returns 0, or -1
 * with the error reported (syntax errors at libyaml's problem mark; an
 * empty stream and a second document are errors too). On success the
 * caller owns doc and must yaml_document_delete() it. */
int y_parse(struct yctx *c, const char *text, size_t len, yaml_document_t *doc);

/* Reports "FILE:LINE:COL: message" at node n (1:1 if n is NULL).
 * Always returns -1 so callers can `return y_err(...)`. */
int y_err(struct yctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reports "FILE: message" (no position). Returns -1. */
int y_err_nopos(struct yctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Copies at most ~48 bytes of s into dst as printable ASCII ('?' for
 * anything else, "..." when cut) so that input text can be quoted in a
 * one-line message. */
void y_quote(char *dst, size_t cap, const char *s, size_t len);
/* y_quote of a scalar's text, or "<mapping>"/"<sequence>". */
void y_quote_node(char *dst, size_t cap, const yaml_node_t *n);

/* "where.field", or "field" when where is empty. */
void y_path(char *dst, size_t cap, const char *where, const char *field);

const char *y_type_name(const yaml_node_t *n);

yaml_node_t *y_node(struct yctx *c, int index);

/* Scalar text and length if n is a scalar, else NULL. */
const char *y_scalar(const yaml_node_t *n, size_t *len);
/* True if n is a scalar whose text is exactly s. */
bool y_is(const yaml_node_t *n, const char *s);
/* True for a plain empty, "~" or "null" scalar (YAML's null). */
bool y_is_null(const yaml_node_t *n);

/* The key and value nodes of one mapping, by known key name. */
struct yfields {
	const char *const *names; /* NULL-terminated, at most Y_MAX_KEYS */
	const yaml_node_t *key[Y_MAX_KEYS];
	const yaml_node_t *val[Y_MAX_KEYS];
};

/* Collects map's pairs into f by name. Errors (at the key): a non-scalar
 * key, a key not in names ("unknown field 'k' in WHERE (expected: ...)"),
 * a key given twice. map must be a mapping (checked). */
int y_fields(struct yctx *c, const yaml_node_t *map, const char *where,
             const char *const *names, struct yfields *f);
const yaml_node_t *y_get(const struct yfields *f, const char *name);
const yaml_node_t *y_get_key(const struct yfields *f, const char *name);
/* The first pair of map whose key is the scalar key (key and value out),
 * or false. Used before y_fields to look at a discriminating field. */
bool y_find(struct yctx *c, const yaml_node_t *map, const char *key,
            const yaml_node_t **k, const yaml_node_t **v);

/* Errors unless n is a mapping/sequence: "WHERE: expected a mapping, got
 * a sequence". */
int y_want_map(struct yctx *c, const yaml_node_t *n, const char *path);
int y_want_seq(struct yctx *c, const yaml_node_t *n, const char *path);

/* Number of items of a sequence node (0 for anything else). */
size_t y_seq_len(const yaml_node_t *n);
yaml_node_t *y_seq_item(struct yctx *c, const yaml_node_t *n, size_t i);

/* Parses an unsigned integer: decimal or 0x hex, '_' allowed between
 * digits. Returns NULL on success, else why it is not one. Pure. */
const char *y_parse_u64(const char *s, size_t len, uint64_t *out);

/* Typed values; path names the field in messages ("ops[3].va"). */
int y_u64(struct yctx *c, const yaml_node_t *n, const char *path, uint64_t *out);
int y_u64_range(struct yctx *c, const yaml_node_t *n, const char *path,
                uint64_t lo, uint64_t hi, uint64_t *out);
int y_u32(struct yctx *c, const yaml_node_t *n, const char *path, uint32_t *out);
int y_bool(struct yctx *c, const yaml_node_t *n, const char *path, bool *out);
/* A string without NUL bytes (non-empty unless allow_empty); *out is
 * malloc'd. */
int y_str(struct yctx *c, const yaml_node_t *n, const char *path,
          bool allow_empty, char **out);
/* One of names[] (NULL-terminated); *out is its index. */
int y_enum(struct yctx *c, const yaml_node_t *n, const char *path,
           const char *const *names, int *out);

#endif
