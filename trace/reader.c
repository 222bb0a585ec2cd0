/* Trace reader: validates a whole trace at open (header, every chunk's
 * checksums and framing, the trailer) and then hands out its records in
 * order. Input is untrusted (traces are fuzzed): every length is checked
 * against the bytes that are really there before it is used, and a
 * damaged trace is reported with the offset of the structure that is
 * damaged. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "trace/format.h"
#include "trace/trace.h"
#include "trace/wire.h"
#include "sim/vec.h"

struct trace_file {
	char *name;
	uint8_t *data;
	size_t len;
};

struct trace_reader {
	struct trace_file *files;
	uint32_t nfiles, capfiles;
	uint8_t *buf;
	uint64_t size;
	struct trace_header h;
	char *scenario;
	size_t scenario_len;
	struct trace_chunk_info *chunks;
	uint32_t nchunks, capchunks;
	uint64_t trailer_off;
	uint64_t records, events, choices, digest;
	/* Sequential access. */
	uint32_t next_chunk;
	uint8_t *raw;
	uint32_t raw_len, raw_pos;
	uint64_t raw_chunk_off;
};

static int bad(struct trace_error *e, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	e->offset = off;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void copy_field(char *dst, size_t cap, const uint8_t *p, uint32_t n)
{
	size_t k = n < cap - 1 ? n : cap - 1;
	for (size_t i = 0; i < k; i++)
		dst[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	dst[k] = 0;
}

static int parse_fields(struct trace_reader *r, const uint8_t *p, uint32_t len,
                        struct trace_error *e)
{
	unsigned seen = 0;
	for (uint32_t o = 0; o < len;) {
		if (len - o < 6)
			return bad(e, 0, "header: field at byte %u is cut short", 16 + o);
		uint16_t key = wire_get16(p + o);
		uint32_t n = wire_get32(p + o + 2);
		if (n > len - o - 6)
			return bad(e, 0, "header: field %u is longer than the header", key);
		const uint8_t *v = p + o + 6;
		switch (key) {
		case TF_HVSIM_VERSION:
			copy_field(r->h.hvsim_version, sizeof(r->h.hvsim_version), v, n);
			break;
		case TF_PROFILE:
			copy_field(r->h.profile, sizeof(r->h.profile), v, n);
			break;
		case TF_CONFIG:
			copy_field(r->h.config, sizeof(r->h.config), v, n);
			break;
		case TF_SEED:
			if (n != 8)
				return bad(e, 0, "header: the seed field is %u bytes, not 8", n);
			r->h.seed = wire_get64(v);
			break;
		case TF_NCPUS:
			if (n != 4)
				return bad(e, 0, "header: the cpus field is %u bytes, not 4", n);
			r->h.ncpus = wire_get32(v);
			break;
		case TF_SCENARIO_NAME:
			copy_field(r->h.scenario_name, sizeof(r->h.scenario_name), v, n);
			break;
		case TF_SCENARIO_PATH:
			copy_field(r->h.scenario_path, sizeof(r->h.scenario_path), v, n);
			break;
		default:
			break; /* a later version's field: ignored */
		}
		if (key < 32)
			seen |= 1u << key;
		o += 6 + n;
	}
	unsigned need = 1u << TF_HVSIM_VERSION | 1u << TF_PROFILE | 1u << TF_SEED;
	if ((seen & need) != need)
		return bad(e, 0, "header: the version, profile or seed field is missing");
	return 0;
}

static int parse_header(struct trace_reader *r, uint64_t *pos, struct trace_error *e)
{
	if (r->size < TRACE_HEADER_FIXED + 4)
		return bad(e, 0, "truncated: %" PRIu64 " bytes is too short for a trace header",
		           r->size);
	if (memcmp(r->buf, TRACE_MAGIC, 8) != 0)
		return bad(e, 0, "not an hvsim trace (bad magic)");
	r->h.version = wire_get32(r->buf + 8);
	uint32_t len = wire_get32(r->buf + 12);
	if (len > TRACE_MAX_HEADER || TRACE_HEADER_FIXED + (uint64_t)len + 4 > r->size)
		return bad(e, 0, "header length %u exceeds the file (truncated or damaged)", len);
	uint32_t crc = wire_get32(r->buf + TRACE_HEADER_FIXED + len);
	if (crc != (uint32_t)crc32(0, r->buf, TRACE_HEADER_FIXED + len))
		return bad(e, 0, "header checksum mismatch (damaged header)");
	if (r->h.version != TRACE_VERSION)
		return bad(e, 0, "unsupported trace format version %u (this hvsim reads %u)",
		           r->h.version, TRACE_VERSION);
	*pos = TRACE_HEADER_FIXED + (uint64_t)len + 4;
	return parse_fields(r, r->buf + TRACE_HEADER_FIXED, len, e);
}

/* Record framing of one RECORDS payload; counts what it holds. */
static int check_records(struct trace_reader *r, const uint8_t *p, uint32_t n, uint64_t off,
                         struct trace_error *e)
{
	for (uint32_t o = 0; o < n;) {
		uint32_t need;
		switch (p[o]) {
		case TR_EVENT:
			need = 1 + TRACE_EVENT_BYTES;
			r->events++;
			break;
		case TR_CHOICE:
			need = 1 + TRACE_CHOICE_BYTES;
			r->choices++;
			break;
		case TR_STRING:
			if (n - o < 7)
				return bad(e, off, "chunk payload: string record cut short");
			need = 7u + wire_get16(p + o + 5);
			if (need - 7 > TRACE_MAX_STRING)
				return bad(e, off, "chunk payload: string record too long");
			break;
		default:
			return bad(e, off, "chunk payload: unknown record tag 0x%02x at payload byte %u",
			           p[o], o);
		}
		if (n - o < need)
			return bad(e, off, "chunk payload: record at payload byte %u cut short", o);
		r->records++;
		o += need;
	}
	return 0;
}

/* The payload must be exactly one zlib stream of exactly raw_len bytes:
 * bytes after the stream's end are a non-conforming file, not data. */
/* A piece of an input file: appended in order (pieces are contiguous). */
static int add_file_piece(struct trace_reader *r, const uint8_t *p, uint32_t n, uint64_t off,
                          struct trace_error *e)
{
	if (n < 10 || wire_get16(p) > n - 10)
		return bad(e, off, "file chunk: header cut short");
	uint16_t nlen = wire_get16(p);
	uint64_t at = wire_get64(p + 2 + nlen);
	const uint8_t *data = p + 10 + nlen;
	size_t len = n - 10 - nlen;
	struct trace_file *f = NULL;
	for (uint32_t i = 0; i < r->nfiles; i++)
		if (strlen(r->files[i].name) == nlen && !memcmp(r->files[i].name, p + 2, nlen))
			f = &r->files[i];
	if (!f) {
		VEC_RESERVE(r->files, r->capfiles, r->nfiles, 4);
		f = &r->files[r->nfiles++];
		memset(f, 0, sizeof(*f));
		f->name = malloc(nlen + 1u);
		if (!f->name)
			return bad(e, off, "out of memory");
		memcpy(f->name, p + 2, nlen);
		f->name[nlen] = 0;
	}
	if (at != f->len || f->len + len > TRACE_MAX_SCENARIO)
		return bad(e, off, "file chunk: piece at %" PRIu64 " does not follow the %zu bytes "
		           "before it", at, f->len);
	uint8_t *nd = realloc(f->data, f->len + len + 1);
	if (!nd)
		return bad(e, off, "out of memory");
	memcpy(nd + f->len, data, len);
	f->data = nd;
	f->len += len;
	f->data[f->len] = 0;
	return 0;
}

const void *trace_file(const struct trace_reader *r, const char *name, size_t *len)
{
	for (uint32_t i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].name, name) == 0) {
			*len = r->files[i].len;
			return r->files[i].data;
		}
	return NULL;
}

static int inflate_chunk(const uint8_t *src, uint32_t clen, uint8_t *dst, uint32_t rlen,
                         uint64_t off, struct trace_error *e)
{
	uLongf got = rlen;
	uLong used = clen;
	int z = uncompress2(dst, &got, src, &used);
	if (z == Z_BUF_ERROR && got == rlen)
		return bad(e, off, "chunk payload inflates to more than the %u bytes the header "
		           "says", rlen);
	if (z != Z_OK)
		return bad(e, off, "chunk payload damaged (zlib: %s)", zError(z));
	if (got != rlen)
		return bad(e, off, "chunk payload inflates to %lu bytes, the header says %u",
		           (unsigned long)got, rlen);
	if (used != clen)
		return bad(e, off, "%lu stray bytes after the chunk's zlib stream",
		           (unsigned long)(clen - used));
	return 0;
}

static int parse_chunk(struct trace_reader *r, uint64_t pos, uint8_t *tmp, uint64_t *next,
                       struct trace_error *e)
{
	const uint8_t *h = r->buf + pos;
	if (r->size - pos < TRACE_CHUNK_HDR)
		return bad(e, pos, "truncated: chunk header cut short at the end of the file");
	if (wire_get32(h + 24) != (uint32_t)crc32(0, h, 24))
		return bad(e, pos, "chunk header checksum mismatch (damaged chunk header)");
	struct trace_chunk_info c = {pos, wire_get32(h + 4), wire_get32(h + 8), wire_get32(h + 12)};
	if (c.type != TRACE_CHUNK_SCENARIO && c.type != TRACE_CHUNK_RECORDS &&
	    c.type != TRACE_CHUNK_FILE)
		return bad(e, pos, "unknown chunk type %u", c.type);
	if (c.raw_len == 0 || c.raw_len > TRACE_MAX_CHUNK_RAW || c.comp_len == 0 ||
	    c.comp_len > compressBound(c.raw_len))
		return bad(e, pos, "chunk lengths out of range (raw %u, compressed %u)", c.raw_len,
		           c.comp_len);
	uint64_t payload = pos + TRACE_CHUNK_HDR;
	if (r->size - payload < c.comp_len)
		return bad(e, pos, "truncated: chunk needs %u payload bytes, the file has %" PRIu64,
		           c.comp_len, r->size - payload);
	if (c.type == TRACE_CHUNK_SCENARIO && r->records)
		return bad(e, pos, "scenario chunk after record chunks");
	if ((uint32_t)crc32(0, r->buf + payload, c.comp_len) != wire_get32(h + 20))
		return bad(e, payload, "chunk payload checksum mismatch (damaged payload)");
	if (inflate_chunk(r->buf + payload, c.comp_len, tmp, c.raw_len, payload, e))
		return -1;
	if ((uint32_t)crc32(0, tmp, c.raw_len) != wire_get32(h + 16))
		return bad(e, payload, "inflated chunk checksum mismatch (damaged payload)");
	if (c.type == TRACE_CHUNK_SCENARIO) {
		if (r->scenario_len + c.raw_len > TRACE_MAX_SCENARIO)
			return bad(e, pos, "scenario larger than %u bytes", TRACE_MAX_SCENARIO);
		char *s = realloc(r->scenario, r->scenario_len + c.raw_len + 1);
		if (!s)
			return bad(e, pos, "out of memory");
		memcpy(s + r->scenario_len, tmp, c.raw_len);
		r->scenario = s;
		r->scenario_len += c.raw_len;
		r->scenario[r->scenario_len] = 0;
	} else if (c.type == TRACE_CHUNK_FILE) {
		if (add_file_piece(r, tmp, c.raw_len, payload, e))
			return -1;
	} else if (check_records(r, tmp, c.raw_len, payload, e)) {
		return -1;
	}
	VEC_RESERVE(r->chunks, r->capchunks, r->nchunks, 16);
	r->chunks[r->nchunks++] = c;
	*next = payload + c.comp_len;
	return 0;
}

static int parse_trailer(struct trace_reader *r, uint64_t pos, struct trace_error *e)
{
	if (r->size - pos < TRACE_TRAILER)
		return bad(e, pos, "truncated: trailer cut short at the end of the file");
	const uint8_t *t = r->buf + pos;
	if (wire_get32(t + 44) != (uint32_t)crc32(0, t, 44))
		return bad(e, pos, "trailer checksum mismatch (damaged trailer)");
	uint64_t recs = wire_get64(t + 4), evs = wire_get64(t + 12), chs = wire_get64(t + 20);
	uint64_t chunks = wire_get64(t + 36);
	if (recs != r->records || evs != r->events || chs != r->choices || chunks != r->nchunks)
		return bad(e, pos,
		           "trailer counts (%" PRIu64 " records, %" PRIu64 " events, %" PRIu64
		           " choices, %" PRIu64 " chunks) do not match the trace (%" PRIu64
		           " records, %" PRIu64 " events, %" PRIu64 " choices, %u chunks)",
		           recs, evs, chs, chunks, r->records, r->events, r->choices, r->nchunks);
	r->digest = wire_get64(t + 28);
	r->trailer_off = pos;
	if (pos + TRACE_TRAILER != r->size)
		return bad(e, pos + TRACE_TRAILER, "%" PRIu64 " unexpected bytes after the trailer",
		           r->size - pos - TRACE_TRAILER);
	return 0;
}

static int validate(struct trace_reader *r, struct trace_error *e)
{
	uint64_t pos = 0;
	if (parse_header(r, &pos, e))
		return -1;
	uint8_t *tmp = malloc(TRACE_MAX_CHUNK_RAW);
	if (!tmp)
		return bad(e, 0, "out of memory");
	int rc = -1;
	for (;;) {
		if (pos == r->size) {
			bad(e, pos, "truncated: the trace ends without its trailer");
			break;
		}
		if (r->size - pos < 4) {
			bad(e, pos, "truncated: %" PRIu64 " stray bytes at the end", r->size - pos);
			break;
		}
		if (memcmp(r->buf + pos, TRACE_END_MAGIC, 4) == 0) {
			rc = parse_trailer(r, pos, e);
			break;
		}
		if (memcmp(r->buf + pos, TRACE_CHUNK_MAGIC, 4) != 0) {
			bad(e, pos, "expected a chunk or the trailer here (damaged magic)");
			break;
		}
		if (parse_chunk(r, pos, tmp, &pos, e))
			break;
	}
	free(tmp);
	if (rc == 0 && !r->scenario)
		rc = bad(e, TRACE_HEADER_FIXED, "the trace holds no scenario");
	return rc;
}

static int open_buf(uint8_t *buf, uint64_t size, struct trace_reader **out, struct trace_error *e)
{
	*out = NULL;
	struct trace_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		free(buf);
		return bad(e, 0, "out of memory");
	}
	r->buf = buf;
	r->size = size;
	if (validate(r, e)) {
		trace_close(r);
		return -1;
	}
	r->raw = malloc(TRACE_MAX_CHUNK_RAW);
	if (!r->raw) {
		trace_close(r);
		return bad(e, 0, "out of memory");
	}
	trace_rewind(r);
	*out = r;
	return 0;
}

int trace_open_mem(const void *buf, size_t len, struct trace_reader **out, struct trace_error *e)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return bad(e, 0, "out of memory");
	memcpy(copy, buf, len);
	return open_buf(copy, len, out, e);
}

int trace_open(const char *path, struct trace_reader **out, struct trace_error *e)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return bad(e, 0, "cannot open: %s", strerror(errno));
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return bad(e, len, "out of memory");
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		return bad(e, len, "read error");
	}
	return open_buf(buf, len, out, e);
}

void trace_close(struct trace_reader *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->nfiles; i++) {
		free(r->files[i].name);
		free(r->files[i].data);
	}
	free(r->files);
	free(r->buf);
	free(r->scenario);
	free(r->chunks);
	free(r->raw);
	free(r);
}

const struct trace_header *trace_header_of(const struct trace_reader *r) { return &r->h; }

const char *trace_scenario(const struct trace_reader *r, size_t *len)
{
	*len = r->scenario_len;
	return r->scenario;
}

uint64_t trace_digest(const struct trace_reader *r) { return r->digest; }
uint64_t trace_nevents(const struct trace_reader *r) { return r->events; }
uint64_t trace_nchoices(const struct trace_reader *r) { return r->choices; }
uint64_t trace_size(const struct trace_reader *r) { return r->size; }
uint64_t trace_trailer_offset(const struct trace_reader *r) { return r->trailer_off; }

const struct trace_chunk_info *trace_chunks(const struct trace_reader *r, size_t *n)
{
	*n = r->nchunks;
	return r->chunks;
}

void trace_rewind(struct trace_reader *r)
{
	r->next_chunk = 0;
	r->raw_len = r->raw_pos = 0;
}

/* Loads the next RECORDS chunk; false at the end. Validated at open, so
 * inflating cannot fail here. */
static bool load_chunk(struct trace_reader *r)
{
	while (r->next_chunk < r->nchunks) {
		const struct trace_chunk_info *c = &r->chunks[r->next_chunk++];
		if (c->type != TRACE_CHUNK_RECORDS)
			continue;
		uLongf got = c->raw_len;
		int z = uncompress(r->raw, &got, r->buf + c->offset + TRACE_CHUNK_HDR, c->comp_len);
		if (z != Z_OK || got != c->raw_len)
			abort(); /* the buffer changed since validation: impossible */
		r->raw_len = c->raw_len;
		r->raw_pos = 0;
		r->raw_chunk_off = c->offset;
		return true;
	}
	return false;
}

int trace_next(struct trace_reader *r, struct trace_record *rec)
{
	if (r->raw_pos == r->raw_len && !load_chunk(r))
		return 0;
	const uint8_t *p = r->raw + r->raw_pos;
	rec->tag = p[0];
	rec->offset = r->raw_chunk_off;
	switch (p[0]) {
	case TR_EVENT:
		wire_get_event(p + 1, &rec->ev);
		r->raw_pos += 1 + TRACE_EVENT_BYTES;
		break;
	case TR_CHOICE:
		rec->kind = p[1];
		rec->bound = wire_get64(p + 2);
		rec->value = wire_get64(p + 10);
		r->raw_pos += 1 + TRACE_CHOICE_BYTES;
		break;
	default: {
		uint16_t n = wire_get16(p + 5);
		rec->string_id = wire_get32(p + 1);
		memcpy(rec->string, p + 7, n);
		rec->string[n] = 0;
		r->raw_pos += 7u + n;
		break;
	}
	}
	return 1;
}
