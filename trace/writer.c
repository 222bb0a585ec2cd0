/* Trace writer: header, scenario chunks, record chunks, trailer, all into a
 * temporary file that is renamed into place only when complete, so no
 * half-written trace ever carries the final name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "trace/format.h"
#include "trace/trace.h"
#include "trace/wire.h"

/* zlib level 1: recording speed matters more than a few percent of size
 * for event streams, which compress well at any level. */
#define TRACE_ZLEVEL 1

struct trace_writer {
	FILE *f;
	char *path, *tmp;
	uint8_t raw[TRACE_CHUNK_RAW];
	uint32_t nraw;
	uint8_t *comp;
	uLong compcap;
	uint64_t bytes, records, events, choices, chunks;
	bool failed;
	char err[256];
	char *attached[64]; /* names of the input files stored so far */
	unsigned nattached;
};

static void fail(struct trace_writer *w, const char *what)
{
	if (!w->failed)
		snprintf(w->err, sizeof(w->err), "%s: %s: %s", w->path, what, strerror(errno));
	w->failed = true;
}

static void put(struct trace_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return;
	if (fwrite(p, 1, n, w->f) != n)
		fail(w, "write failed");
	w->bytes += n;
}

static void write_chunk(struct trace_writer *w, uint32_t type, const uint8_t *raw,
                        uint32_t len)
{
	uLongf clen = w->compcap;
	if (compress2(w->comp, &clen, raw, len, TRACE_ZLEVEL) != Z_OK) {
		errno = ENOMEM;
		fail(w, "compression failed");
		return;
	}
	uint8_t h[TRACE_CHUNK_HDR];
	memcpy(h, TRACE_CHUNK_MAGIC, 4);
	wire_put32(h + 4, type);
	wire_put32(h + 8, len);
	wire_put32(h + 12, (uint32_t)clen);
	wire_put32(h + 16, (uint32_t)crc32(0, raw, len));
	wire_put32(h + 20, (uint32_t)crc32(0, w->comp, (uInt)clen));
	wire_put32(h + 24, (uint32_t)crc32(0, h, 24));
	put(w, h, sizeof(h));
	put(w, w->comp, clen);
	w->chunks++;
}

static void flush_records(struct trace_writer *w)
{
	if (w->nraw) {
		write_chunk(w, TRACE_CHUNK_RECORDS, w->raw, w->nraw);
		w->nraw = 0;
	}
}

/* Room for one record of n bytes; a record never spans chunks. */
static uint8_t *record_space(struct trace_writer *w, uint32_t n)
{
	if (w->nraw + n > TRACE_CHUNK_RAW)
		flush_records(w);
	uint8_t *p = w->raw + w->nraw;
	w->nraw += n;
	w->records++;
	return p;
}

static void header_field(uint8_t *buf, size_t *o, uint16_t key, const void *p, uint32_t n)
{
	wire_put16(buf + *o, key);
	wire_put32(buf + *o + 2, n);
	memcpy(buf + *o + 6, p, n);
	*o += 6u + n;
}

static void write_header(struct trace_writer *w, const struct trace_header *h)
{
	static uint8_t buf[TRACE_HEADER_FIXED + 8 * 6 + 2048 + 4];
	size_t o = TRACE_HEADER_FIXED;
	uint8_t seed[8], ncpus[4];
	wire_put64(seed, h->seed);
	wire_put32(ncpus, h->ncpus);
	header_field(buf, &o, TF_HVSIM_VERSION, h->hvsim_version, (uint32_t)strlen(h->hvsim_version));
	header_field(buf, &o, TF_PROFILE, h->profile, (uint32_t)strlen(h->profile));
	header_field(buf, &o, TF_CONFIG, h->config, (uint32_t)strlen(h->config));
	header_field(buf, &o, TF_SEED, seed, 8);
	header_field(buf, &o, TF_NCPUS, ncpus, 4);
	header_field(buf, &o, TF_SCENARIO_NAME, h->scenario_name, (uint32_t)strlen(h->scenario_name));
	header_field(buf, &o, TF_SCENARIO_PATH, h->scenario_path, (uint32_t)strlen(h->scenario_path));
	memcpy(buf, TRACE_MAGIC, 8);
	wire_put32(buf + 8, TRACE_VERSION);
	wire_put32(buf + 12, (uint32_t)(o - TRACE_HEADER_FIXED));
	wire_put32(buf + o, (uint32_t)crc32(0, buf, (uInt)o));
	put(w, buf, o + 4);
}

static void writer_free(struct trace_writer *w)
{
	for (unsigned i = 0; i < w->nattached; i++)
		free(w->attached[i]);
	if (w->f)
		fclose(w->f);
	free(w->comp);
	free(w->path);
	free(w->tmp);
	free(w);
}

int trace_writer_open(const char *path, const struct trace_header *h,
                      const char *scenario, size_t scenario_len, struct trace_writer **out,
                      char *err, size_t errlen)
{
	*out = NULL;
	if (scenario_len > TRACE_MAX_SCENARIO) {
		snprintf(err, errlen, "%s: scenario too large for a trace", path);
		return -1;
	}
	struct trace_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return snprintf(err, errlen, "%s: out of memory", path), -1;
	w->path = strdup(path);
	size_t n = strlen(path) + 16;
	w->tmp = malloc(n);
	w->compcap = compressBound(TRACE_CHUNK_RAW);
	w->comp = malloc(w->compcap);
	if (!w->path || !w->tmp || !w->comp) {
		writer_free(w);
		return snprintf(err, errlen, "%s: out of memory", path), -1;
	}
	snprintf(w->tmp, n, "%s.tmp-XXXXXX", path);
	int fd = mkstemp(w->tmp);
	/* mkstemp creates 0600; a trace is an ordinary output file. */
	mode_t mask = umask(0);
	umask(mask);
	if (fd >= 0 && fchmod(fd, 0666 & ~mask) != 0) {
		close(fd);
		unlink(w->tmp);
		fd = -1;
	}
	if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(w->tmp);
		}
		writer_free(w);
		return -1;
	}
	write_header(w, h);
	for (size_t o = 0; o < scenario_len; o += TRACE_CHUNK_RAW) {
		size_t len = scenario_len - o < TRACE_CHUNK_RAW ? scenario_len - o : TRACE_CHUNK_RAW;
		write_chunk(w, TRACE_CHUNK_SCENARIO, (const uint8_t *)scenario + o, (uint32_t)len);
	}
	if (w->failed) {
		snprintf(err, errlen, "%s", w->err);
		trace_writer_close(w, false, 0, NULL, 0);
		return -1;
	}
	*out = w;
	return 0;
}

static int on_event(void *ctx, const struct event *ev)
{
	struct trace_writer *w = ctx;
	uint8_t *p = record_space(w, 1 + TRACE_EVENT_BYTES);
	p[0] = TR_EVENT;
	wire_put_event(p + 1, ev);
	w->events++;
	return w->failed; /* a write failure stops the run */
}

static void on_string(void *ctx, uint32_t id, const char *s)
{
	struct trace_writer *w = ctx;
	size_t len = strlen(s);
	if (len > TRACE_MAX_STRING)
		len = TRACE_MAX_STRING;
	uint8_t *p = record_space(w, 1 + 4 + 2 + (uint32_t)len);
	p[0] = TR_STRING;
	wire_put32(p + 1, id);
	wire_put16(p + 5, (uint16_t)len);
	memcpy(p + 7, s, len);
}

struct sink trace_writer_sink(struct trace_writer *w)
{
	return (struct sink){
		.name = "trace",
		.mask = ~0ull,
		.ctx = w,
		.event = on_event,
		.string = on_string,
	};
}

static void on_choice(void *ctx, unsigned kind, uint64_t bound, uint64_t value)
{
	struct trace_writer *w = ctx;
	uint8_t *p = record_space(w, 1 + TRACE_CHOICE_BYTES);
	p[0] = TR_CHOICE;
	p[1] = (uint8_t)kind;
	wire_put64(p + 2, bound);
	wire_put64(p + 10, value);
	w->choices++;
}

struct choice_hooks trace_writer_choices(struct trace_writer *w)
{
	return (struct choice_hooks){.ctx = w, .record = on_choice};
}

int trace_writer_attach(struct trace_writer *w, const char *name, const void *data, size_t len)
{
	size_t nlen = strlen(name);
	if (nlen > 1024)
		return -1;
	for (unsigned i = 0; i < w->nattached; i++)
		if (strcmp(w->attached[i], name) == 0)
			return 0; /* stored once per run */
	if (w->nattached == 64)
		return -1;
	w->attached[w->nattached] = strdup(name);
	if (!w->attached[w->nattached])
		return -1;
	w->nattached++;
	flush_records(w);
	size_t room = TRACE_CHUNK_RAW - 2 - nlen - 8;
	static uint8_t buf[TRACE_CHUNK_RAW];
	size_t off = 0;
	do {
		size_t n = len - off < room ? len - off : room;
		wire_put16(buf, (uint16_t)nlen);
		memcpy(buf + 2, name, nlen);
		wire_put64(buf + 2 + nlen, off);
		memcpy(buf + 10 + nlen, (const uint8_t *)data + off, n);
		write_chunk(w, TRACE_CHUNK_FILE, buf, (uint32_t)(10 + nlen + n));
		off += n;
	} while (off < len);
	return w->failed ? -1 : 0;
}

uint64_t trace_writer_bytes(const struct trace_writer *w)
{
	return w->bytes + w->nraw;
}

int trace_writer_close(struct trace_writer *w, bool commit, uint64_t digest, char *err,
                       size_t errlen)
{
	int rc = 0;
	if (commit) {
		flush_records(w);
		uint8_t t[TRACE_TRAILER];
		memcpy(t, TRACE_END_MAGIC, 4);
		wire_put64(t + 4, w->records);
		wire_put64(t + 12, w->events);
		wire_put64(t + 20, w->choices);
		wire_put64(t + 28, digest);
		wire_put64(t + 36, w->chunks);
		wire_put32(t + 44, (uint32_t)crc32(0, t, 44));
		put(w, t, sizeof(t));
		if (!w->failed && fflush(w->f) != 0)
			fail(w, "write failed");
	}
	if (w->f && fclose(w->f) != 0 && commit)
		fail(w, "write failed");
	w->f = NULL;
	if (commit && !w->failed && rename(w->tmp, w->path) != 0)
		fail(w, "cannot rename the finished trace into place");
	if (!commit || w->failed) {
		unlink(w->tmp);
		if (commit) {
			if (err)
				snprintf(err, errlen, "%s", w->err);
			rc = -1;
		}
	}
	writer_free(w);
	return rc;
}
