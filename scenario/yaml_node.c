#include "scenario/yaml_node.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void y_init(struct yctx *c, const char *file, struct sc_error *err)
{
	memset(c, 0, sizeof(*c));
	/* The name heads every message, so it is kept whole (up to the
	 * buffer) but made printable like everything else. */
	size_t i = 0;
	for (; file && file[i] && i + 1 < sizeof(c->file); i++) {
		unsigned char ch = (unsigned char)file[i];
		c->file[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	c->file[i] = 0;
	c->err = err;
	err->msg[0] = 0;
}

/* A message must stay one line whatever went into it. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int verr(struct yctx *c, bool pos, size_t line, size_t col,
                const char *fmt, va_list ap)
{
	if (c->failed)
		return -1;
	c->failed = true;
	char *m = c->err->msg;
	size_t cap = sizeof(c->err->msg);
	int n = pos ? snprintf(m, cap, "%s:%zu:%zu: ", c->file, line, col)
	            : snprintf(m, cap, "%s: ", c->file);
	if (n > 0 && (size_t)n < cap)
		vsnprintf(m + n, cap - (size_t)n, fmt, ap);
	one_line(m);
	return -1;
}

int y_err(struct yctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t line = n ? n->start_mark.line + 1 : 1;
	size_t col = n ? n->start_mark.column + 1 : 1;
	verr(c, true, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

static int y_err_at(struct yctx *c, size_t line, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int y_err_at(struct yctx *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(c, true, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

int y_err_nopos(struct yctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(c, false, 0, 0, fmt, ap);
	va_end(ap);
	return -1;
}

void y_quote(char *dst, size_t cap, const char *s, size_t len)
{
	const size_t max = 48;
	size_t o = 0;
	if (!cap)
		return;
	for (size_t i = 0; i < len && i < max && o + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		dst[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (len > max)
		for (int i = 0; i < 3 && o + 1 < cap; i++)
			dst[o++] = '.';
	dst[o] = 0;
}

const char *y_type_name(const yaml_node_t *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return y_is_null(n) ? "an empty value" : "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "an empty node";
	}
}

void y_quote_node(char *dst, size_t cap, const yaml_node_t *n)
{
	size_t len;
	const char *s = y_scalar(n, &len);
	if (s)
		y_quote(dst, cap, s, len);
	else
		snprintf(dst, cap, "<%s>", y_type_name(n));
}

void y_path(char *dst, size_t cap, const char *where, const char *field)
{
	if (where && where[0])
		snprintf(dst, cap, "%s.%s", where, field);
	else
		snprintf(dst, cap, "%s", field);
}

/* ---- parsing ---------------------------------------------------------- */

/* Reader errors (bad encoding) carry a byte offset, not a mark. */
static void offset_to_pos(const char *text, size_t len, size_t off,
                          size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int parse_error(struct yctx *c, const yaml_parser_t *p,
                       const char *text, size_t len)
{
	const char *prob = p->problem ? p->problem : "unknown error";
	size_t line, col;
	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return y_err_nopos(c, "out of memory while parsing YAML");
	case YAML_READER_ERROR:
		offset_to_pos(text, len, p->problem_offset, &line, &col);
		return y_err_at(c, line, col, "YAML error: %s (byte 0x%x at offset %zu)",
		                prob, (unsigned)p->problem_value & 0xffu,
		                p->problem_offset);
	default:
		line = p->problem_mark.line + 1;
		col = p->problem_mark.column + 1;
		if (p->context)
			return y_err_at(c, line, col, "YAML syntax error: %s (%s at %zu:%zu)",
			                prob, p->context, p->context_mark.line + 1,
			                p->context_mark.column + 1);
		return y_err_at(c, line, col, "YAML syntax error: %s", prob);
	}
}

/* Loads the next document; a second non-empty one is an error. */
static int check_single(struct yctx *c, yaml_parser_t *p, const char *text,
                        size_t len)
{
	yaml_document_t extra;
	if (!yaml_parser_load(p, &extra))
		return parse_error(c, p, text, len);
	yaml_node_t *r = yaml_document_get_root_node(&extra);
	int ret = 0;
	if (r)
		ret = y_err(c, r, "only one YAML document is allowed per file");
	yaml_document_delete(&extra);
	return ret;
}

int y_parse(struct yctx *c, const char *text, size_t len, yaml_document_t *doc)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return y_err_nopos(c, "out of memory");
	/* libyaml asserts on a NULL input even when it is empty. */
	yaml_parser_set_input_string(&p, (const unsigned char *)(text ? text : ""),
	                             text ? len : 0);
	int ret = -1;
	if (!yaml_parser_load(&p, doc)) {
		parse_error(c, &p, text, len);
		goto out;
	}
	if (!yaml_document_get_root_node(doc)) {
		y_err(c, NULL, "empty document (expected a mapping)");
		yaml_document_delete(doc);
		goto out;
	}
	if (check_single(c, &p, text, len)) {
		yaml_document_delete(doc);
		goto out;
	}
	c->doc = doc;
	ret = 0;
out:
	yaml_parser_delete(&p);
	return ret;
}

/* ---- node access ------------------------------------------------------ */

yaml_node_t *y_node(struct yctx *c, int index)
{
	return c->doc ? yaml_document_get_node(c->doc, index) : NULL;
}

const char *y_scalar(const yaml_node_t *n, size_t *len)
{
	if (!n || n->type != YAML_SCALAR_NODE || !n->data.scalar.value)
		return NULL;
	*len = n->data.scalar.length;
	return (const char *)n->data.scalar.value;
}

bool y_is(const yaml_node_t *n, const char *s)
{
	size_t len;
	const char *t = y_scalar(n, &len);
	return t && len == strlen(s) && memcmp(t, s, len) == 0;
}

bool y_is_null(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return n->data.scalar.length == 0 || y_is(n, "~") || y_is(n, "null") ||
	       y_is(n, "Null") || y_is(n, "NULL");
}

static int name_index(const char *const *names, const char *s, size_t len)
{
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return i;
	return -1;
}

static void join_names(char *dst, size_t cap, const char *const *names)
{
	size_t o = 0;
	dst[0] = 0;
	for (int i = 0; names[i] && o < cap; i++) {
		int n = snprintf(dst + o, cap - o, "%s%s", i ? ", " : "", names[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static int unknown_key(struct yctx *c, const yaml_node_t *k, const char *where,
                       const char *const *names)
{
	char q[64], exp[256];
	y_quote_node(q, sizeof(q), k);
	join_names(exp, sizeof(exp), names);
	if (!where || !where[0])
		return y_err(c, k, "unknown field '%s' at top level (expected: %s)", q, exp);
	return y_err(c, k, "unknown field '%s' in %s (expected: %s)", q, where, exp);
}

int y_fields(struct yctx *c, const yaml_node_t *map, const char *where,
             const char *const *names, struct yfields *f)
{
	memset(f, 0, sizeof(*f));
	f->names = names;
	const char *w = where && where[0] ? where : "top level";
	if (y_want_map(c, map, w))
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = y_node(c, p->key), *v = y_node(c, p->value);
		size_t len;
		const char *s = y_scalar(k, &len);
		if (!s || !v)
			return y_err(c, k ? k : map, "%s: keys must be scalars, got %s",
			             w, y_type_name(k));
		int i = name_index(names, s, len);
		if (i < 0 || i >= Y_MAX_KEYS)
			return unknown_key(c, k, where, names);
		if (f->key[i])
			return y_err(c, k, "duplicate field '%s' in %s (first given at line %zu)",
			             names[i], w, f->key[i]->start_mark.line + 1);
		f->key[i] = k;
		f->val[i] = v;
	}
	return 0;
}

const yaml_node_t *y_get(const struct yfields *f, const char *name)
{
	int i = name_index(f->names, name, strlen(name));
	return i >= 0 && i < Y_MAX_KEYS ? f->val[i] : NULL;
}

const yaml_node_t *y_get_key(const struct yfields *f, const char *name)
{
	int i = name_index(f->names, name, strlen(name));
	return i >= 0 && i < Y_MAX_KEYS ? f->key[i] : NULL;
}

bool y_find(struct yctx *c, const yaml_node_t *map, const char *key,
            const yaml_node_t **k, const yaml_node_t **v)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return false;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = y_node(c, p->key);
		yaml_node_t *vn = y_node(c, p->value);
		if (kn && vn && y_is(kn, key)) {
			*k = kn;
			*v = vn;
			return true;
		}
	}
	return false;
}

int y_want_map(struct yctx *c, const yaml_node_t *n, const char *path)
{
	if (n && n->type == YAML_MAPPING_NODE)
		return 0;
	return y_err(c, n, "%s: expected a mapping, got %s", path, y_type_name(n));
}

int y_want_seq(struct yctx *c, const yaml_node_t *n, const char *path)
{
	if (n && n->type == YAML_SEQUENCE_NODE)
		return 0;
	return y_err(c, n, "%s: expected a sequence, got %s", path, y_type_name(n));
}

size_t y_seq_len(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *y_seq_item(struct yctx *c, const yaml_node_t *n, size_t i)
{
	if (i >= y_seq_len(n))
		return NULL;
	return y_node(c, n->data.sequence.items.start[i]);
}

/* ---- typed values ----------------------------------------------------- */

static int digit_value(char ch, unsigned base)
{
	int d = -1;
	if (ch >= '0' && ch <= '9')
		d = ch - '0';
	else if (ch >= 'a' && ch <= 'f')
		d = ch - 'a' + 10;
	else if (ch >= 'A' && ch <= 'F')
		d = ch - 'A' + 10;
	return d >= 0 && (unsigned)d < base ? d : -1;
}

const char *y_parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	size_t i = 0, digits = 0;
	uint64_t v = 0;

	if (len == 0)
		return "empty value";
	if (s[0] == '-')
		return "negative numbers are not allowed";
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < len; i++) {
		char ch = s[i];
		if (ch == '_') {
			/* A separator sits between two digits. */
			if (!digits || i + 1 == len || digit_value(s[i + 1], base) < 0)
				return "'_' is only allowed between digits";
			continue;
		}
		int d = digit_value(ch, base);
		if (d < 0) {
			if (base == 10 && (ch == '.' || ch == 'e' || ch == 'E'))
				return "floats are not allowed";
			return digits ? "trailing characters after the number"
			              : "not a number";
		}
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return "does not fit in 64 bits";
		v = v * base + (uint64_t)d;
		digits++;
	}
	if (!digits)
		return "not a number";
	*out = v;
	return NULL;
}

/* Small numbers read best in decimal, addresses in hex. */
static void fmt_num(char *dst, size_t cap, uint64_t v)
{
	if (v < (1u << 20))
		snprintf(dst, cap, "%" PRIu64, v);
	else
		snprintf(dst, cap, "0x%" PRIx64, v);
}

int y_u64(struct yctx *c, const yaml_node_t *n, const char *path, uint64_t *out)
{
	size_t len;
	const char *s = y_scalar(n, &len);
	if (!s || y_is_null(n))
		return y_err(c, n, "%s: expected an unsigned integer, got %s", path,
		             y_type_name(n));
	const char *why = y_parse_u64(s, len, out);
	if (why) {
		char q[64];
		y_quote(q, sizeof(q), s, len);
		return y_err(c, n, "%s: expected an unsigned integer, got '%s' (%s)",
		             path, q, why);
	}
	return 0;
}

int y_u64_range(struct yctx *c, const yaml_node_t *n, const char *path,
                uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;
	if (y_u64(c, n, path, &v))
		return -1;
	if (v < lo || v > hi) {
		char a[32], b[32], x[32];
		fmt_num(x, sizeof(x), v);
		fmt_num(a, sizeof(a), lo);
		fmt_num(b, sizeof(b), hi);
		return y_err(c, n, "%s: %s is out of range %s..%s", path, x, a, b);
	}
	*out = v;
	return 0;
}

int y_u32(struct yctx *c, const yaml_node_t *n, const char *path, uint32_t *out)
{
	uint64_t v;
	if (y_u64(c, n, path, &v))
		return -1;
	if (v > UINT32_MAX)
		return y_err(c, n, "%s: 0x%" PRIx64 " does not fit in 32 bits", path, v);
	*out = (uint32_t)v;
	return 0;
}

int y_bool(struct yctx *c, const yaml_node_t *n, const char *path, bool *out)
{
	if (y_is(n, "true")) {
		*out = true;
		return 0;
	}
	if (y_is(n, "false")) {
		*out = false;
		return 0;
	}
	char q[64];
	y_quote_node(q, sizeof(q), n);
	return y_err(c, n, "%s: expected true or false, got '%s'", path, q);
}

int y_str(struct yctx *c, const yaml_node_t *n, const char *path,
          bool allow_empty, char **out)
{
	size_t len;
	const char *s = y_scalar(n, &len);
	if (!s || (y_is_null(n) && !allow_empty))
		return y_err(c, n, "%s: expected a string, got %s", path, y_type_name(n));
	if (y_is_null(n))
		len = 0;
	if (!len && !allow_empty)
		return y_err(c, n, "%s: must not be empty", path);
	if (memchr(s, 0, len))
		return y_err(c, n, "%s: must not contain a NUL character", path);
	char *d = malloc(len + 1);
	if (!d)
		return y_err_nopos(c, "out of memory");
	memcpy(d, s, len);
	d[len] = 0;
	*out = d;
	return 0;
}

int y_enum(struct yctx *c, const yaml_node_t *n, const char *path,
           const char *const *names, int *out)
{
	size_t len;
	const char *s = y_scalar(n, &len);
	int i = s ? name_index(names, s, len) : -1;
	if (i >= 0) {
		*out = i;
		return 0;
	}
	char q[64], exp[256];
	y_quote_node(q, sizeof(q), n);
	join_names(exp, sizeof(exp), names);
	return y_err(c, n, "%s: expected one of %s, got '%s'", path, exp, q);
}
