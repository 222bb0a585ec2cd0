/* libFuzzer target: the trace reader (trace/reader.c). Any input must be
 * refused with a non-empty one-line message and an offset within the
 * input, or accepted, and then every record must be readable to the end
 * with counts that agree with what the reader reports.
 *
 * Two modes, chosen by the first byte:
 *
 *   anything but 1   the whole input is a trace file (so real traces,
 *                    traces/ or `hvsim run --trace`, are seeds as they are);
 *   1                the input is "control bytes + records payload": a
 *                    VALID trace is built around the payload in memory
 *                    (header, a tiny scenario chunk, the payload in one or
 *                    more RECORDS chunks, the trailer with counts computed
 *                    by walking the payload as trace/format.h says), then
 *                    damaged as the control bytes say (wrong trailer counts,
 *                    one byte changed, truncation, bytes after the trailer,
 *                    a scenario chunk after the records, a structural fault
 *                    under valid checksums). Raw bytes almost never pass
 *                    the checksums; this mode reaches the header fields,
 *                    the chunk lengths and inflation, the record framing
 *                    and the trailer checks.
 *
 * Mode 1 is a differential check: the trace is built here from the
 * documented format (little-endian, CRC-32 by zlib's crc32), not with the
 * writer, and the reader's verdict must be this file's: accepted with the
 * same header, scenario, chunks and records (field by field) when the
 * payload's framing is valid and nothing was damaged, refused otherwise
 * (every byte is covered by a checksum, so any single changed byte must be
 * refused), and a refusal of a trace with one thing wrong must name that
 * structure's offset.
 *
 * Control bytes (missing ones read as 0), then the payload:
 *   c[0] flags  0x01 split the payload into several RECORDS chunks
 *               0x02 a wrong trailer count (which and by how much: c[2])
 *               0x04 change one byte (where: c[3..4], xor c[5])
 *               0x08 truncate (where: c[3..4])
 *               0x10 one byte after the trailer
 *               0x20 a second scenario chunk after the records chunks
 *               0x40 an unknown header field (a later version's: ignored)
 *               0x80 the scenario in two chunks
 *   c[1]   chunk size for the split: 1 + (c[1] & 0x7f) * 8 bytes (at most
 *          MAX_SPLIT chunks: the last takes the rest); 0x80: split
 *          anywhere (records may be cut: refused), else at record
 *          boundaries
 *   c[2]   wrong count: which (c[2] & 3: records, events, choices,
 *          chunks), delta 1 + (c[2] >> 2)
 *   c[3..4] position (u16, modulo the file size)
 *   c[5]   xor mask for the changed byte (0 means 0x01)
 *   c[6]   zlib level (c[6] % 10)
 *   c[7]   digest seed
 *   c[8]   a structural fault, made with every checksum recomputed so that
 *          only the check behind the checksums can find it (c[8] % 18;
 *          0 none): in the header 1 version 2, 2 a field cut short, 3 a
 *          field longer than the header, 4 a 7-byte seed, 5 a 5-byte cpus
 *          field, 6 no profile field; in chunk c[9] (modulo the number of
 *          chunks) 7 type 3, 8 raw_len 0, 9 raw_len above the maximum,
 *          10 comp_len above compressBound(raw_len), 11 one byte of the
 *          zlib stream changed (at c[10..11]), 12 raw_len one more than
 *          the stream gives, 13 one less, 14 a wrong raw_crc, 16 bytes after
 *          the end of the zlib stream (up to 4, within compressBound); 15 no
 *          scenario chunk at all; 17 the trailer's magic changed (the
 *          trace then ends without one)
 *   c[9]   the chunk of a chunk fault; c[10..11] where in its stream
 *
 * Fault 11 may give a stream that still inflates to the same bytes
 * (deflate has slack): then the trace must be accepted with the same
 * content. Fault 16 is accepted by the reader as it stands (uncompress()
 * does not say whether all the input was used): the check is kept loose
 * until the reader refuses it (STRICT_STREAM_END).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "trace/format.h"
#include "trace/trace.h"

/* The layout built here by hand (the chunk header with comp_crc). */
_Static_assert(TRACE_CHUNK_HDR == 28, "fuzz_trace builds chunk headers by hand: "
                                      "update it together with trace/format.h");
_Static_assert(TRACE_TRAILER == 48 && TRACE_HEADER_FIXED == 16, "see trace/format.h");

#define NCTL 12
#define MAX_SPLIT 64

/* 1 when the reader refuses bytes after a chunk's zlib stream. */
#define STRICT_STREAM_END 1

enum fault {
	F_NONE,
	F_VERSION,
	F_FIELD_SHORT,
	F_FIELD_LONG,
	F_SEED_LEN,
	F_NCPUS_LEN,
	F_NO_PROFILE,
	F_CHUNK_TYPE,
	F_RAW_ZERO,
	F_RAW_BIG,
	F_COMP_BIG,
	F_STREAM_BYTE,
	F_RAW_MORE,
	F_RAW_LESS,
	F_RAW_CRC,
	F_NO_SCENARIO,
	F_STREAM_TAIL,
	F_END_MAGIC,
	F__COUNT
};

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_trace: %s:%d: check failed: %s\n", __FILE__, \
			        __LINE__, #cond);                                       \
			abort();                                                        \
		}                                                                       \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Little-endian reading and writing, written again here on purpose (not
 * trace/wire.h): an independent reading of the format. */
static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	CHECK(p != NULL);
	return p;
}

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 1024;
		while (nc < b->len + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		CHECK(b->p != NULL);
		b->cap = nc;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_le(struct buf *b, uint64_t v, unsigned n)
{
	uint8_t t[8];
	for (unsigned i = 0; i < n; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	put(b, t, n);
}

static void set_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t crc(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0, p, (uInt)n);
}

/* Record framing by trace/format.h: 'E' + 76 bytes, 'C' + 17 bytes,
 * 'S' id u32, len u16 (at most TRACE_MAX_STRING), bytes. Returns the
 * record's size, or 0 if it is not a whole valid record. */
static size_t rec_size(const uint8_t *p, size_t n)
{
	size_t need;
	switch (p[0]) {
	case TR_EVENT:
		need = 1 + TRACE_EVENT_BYTES;
		break;
	case TR_CHOICE:
		need = 1 + TRACE_CHOICE_BYTES;
		break;
	case TR_STRING:
		if (n < 7)
			return 0;
		need = 7 + (size_t)le(p + 5, 2);
		if (need - 7 > TRACE_MAX_STRING)
			return 0;
		break;
	default:
		return 0;
	}
	return need <= n ? need : 0;
}

struct counts {
	uint64_t records, events, choices;
};

/* Walks one chunk's payload; false if its framing is invalid. */
static bool walk(const uint8_t *p, size_t n, struct counts *c)
{
	for (size_t o = 0; o < n;) {
		size_t k = rec_size(p + o, n - o);
		if (!k)
			return false;
		c->records++;
		c->events += p[o] == TR_EVENT;
		c->choices += p[o] == TR_CHOICE;
		o += k;
	}
	return true;
}

static const char scenario_text[] = "hvsim: 1\nname: fuzz-trace\nops:\n  - {op: rdtsc}\n";
static const char scenario_tail[] = "# a second scenario chunk\n";

#define HV_VERSION "fuzz-1"
#define HV_PROFILE "skylake"
#define HV_CONFIG "tlb=fuzz"
#define HV_NAME "fuzz-trace"
#define HV_PATH "fuzz/fuzz_trace.yaml"
#define HV_SEED 0x0123456789abcdefull
#define HV_NCPUS 3u

static void put_field(struct buf *b, uint16_t key, const void *p, uint32_t n)
{
	put_le(b, key, 2);
	put_le(b, n, 4);
	put(b, p, n);
}

static void put_header(struct buf *b, bool unknown_field, enum fault f)
{
	uint8_t seed[8], ncpus[5];
	set_le(seed, HV_SEED, 8);
	set_le(ncpus, HV_NCPUS, 4);
	ncpus[4] = 0;
	put(b, TRACE_MAGIC, 8);
	put_le(b, f == F_VERSION ? TRACE_VERSION + 1 : TRACE_VERSION, 4);
	size_t len_at = b->len;
	put_le(b, 0, 4);
	put_field(b, TF_HVSIM_VERSION, HV_VERSION, sizeof(HV_VERSION) - 1);
	if (f != F_NO_PROFILE)
		put_field(b, TF_PROFILE, HV_PROFILE, sizeof(HV_PROFILE) - 1);
	put_field(b, TF_CONFIG, HV_CONFIG, sizeof(HV_CONFIG) - 1);
	put_field(b, TF_SEED, seed, f == F_SEED_LEN ? 7 : 8);
	if (unknown_field)
		put_field(b, 999, "later", 5);
	put_field(b, TF_NCPUS, ncpus, f == F_NCPUS_LEN ? 5 : 4);
	put_field(b, TF_SCENARIO_NAME, HV_NAME, sizeof(HV_NAME) - 1);
	size_t last = b->len;
	put_field(b, TF_SCENARIO_PATH, HV_PATH, sizeof(HV_PATH) - 1);
	if (f == F_FIELD_SHORT)
		put(b, "\x05\x00\x01", 3); /* 3 of a field's 6 framing bytes */
	if (f == F_FIELD_LONG)
		set_le(b->p + last + 2, sizeof(HV_PATH) - 1 + 100, 4);
	set_le(b->p + len_at, b->len - TRACE_HEADER_FIXED, 4);
	put_le(b, crc(b->p, b->len), 4);
}

/* "HVCK" type raw_len comp_len raw_crc comp_crc hdr_crc, payload; with a
 * chunk fault f (F_NONE for none), every checksum computed after it. */
static size_t put_chunk(struct buf *b, uint32_t type, const uint8_t *raw, size_t n, int level,
                        enum fault f, uint16_t where)
{
	uLongf clen = compressBound((uLong)n);
	size_t cap = clen + compressBound((uLong)n) + 64;
	uint8_t *comp = xmalloc(cap);
	CHECK(compress2(comp, &clen, raw, (uLong)n, level) == Z_OK);
	uint64_t raw_len = n;
	uint32_t raw_crc = crc(raw, n);
	switch (f) {
	case F_CHUNK_TYPE:
		type = 7; /* 1-3 are defined (format.h) */
		break;
	case F_RAW_ZERO:
		raw_len = 0;
		break;
	case F_RAW_BIG:
		raw_len = TRACE_MAX_CHUNK_RAW + 1;
		break;
	case F_COMP_BIG: /* pad past compressBound(raw_len) */
		while (clen <= compressBound((uLong)n))
			comp[clen++] = 0;
		break;
	case F_STREAM_BYTE:
		comp[where % clen] ^= (uint8_t)(1 + (where >> 8) % 255);
		break;
	case F_RAW_MORE:
		raw_len = n + 1;
		break;
	case F_RAW_LESS:
		raw_len = n - 1;
		break;
	case F_RAW_CRC:
		raw_crc ^= 1;
		break;
	case F_STREAM_TAIL: { /* as many as compressBound(raw_len) leaves room for */
		size_t k = compressBound((uLong)n) - clen;
		k = k < 4 ? k : 4;
		memcpy(comp + clen, "tail", k);
		clen += k;
		break;
	}
	default:
		break;
	}
	size_t at = b->len;
	uint8_t h[TRACE_CHUNK_HDR];
	memcpy(h, TRACE_CHUNK_MAGIC, 4);
	set_le(h + 4, type, 4);
	set_le(h + 8, raw_len, 4);
	set_le(h + 12, clen, 4);
	set_le(h + 16, raw_crc, 4);
	set_le(h + 20, crc(comp, clen), 4);
	set_le(h + 24, crc(h, 24), 4);
	put(b, h, sizeof(h));
	put(b, comp, clen);
	free(comp);
	return at;
}

/* A chunk as built: type, where, and the raw payload it holds. */
struct built_chunk {
	uint32_t type;
	const uint8_t *raw;
	size_t len;
	size_t offset;
};

/* Compares one record from trace_next with the bytes it came from. */
static void check_record(const struct trace_record *rec, const uint8_t *p, size_t k,
                         size_t chunk_off)
{
	CHECK(rec->tag == p[0]);
	CHECK(rec->offset == chunk_off);
	switch (p[0]) {
	case TR_EVENT:
		CHECK(k == 1 + TRACE_EVENT_BYTES);
		CHECK(rec->ev.seq == le(p + 1, 8));
		CHECK(rec->ev.cycle == le(p + 9, 8));
		CHECK((uint32_t)rec->ev.cpu == (uint32_t)le(p + 17, 4));
		CHECK(rec->ev.type == le(p + 21, 2));
		CHECK(rec->ev.sub == le(p + 23, 2));
		CHECK(rec->ev.a == le(p + 25, 8));
		CHECK(rec->ev.b == le(p + 33, 8));
		CHECK(rec->ev.c == le(p + 41, 8));
		CHECK(rec->ev.d == le(p + 49, 8));
		CHECK(rec->ev.e == le(p + 57, 8));
		CHECK(rec->ev.f == le(p + 65, 8));
		CHECK(rec->ev.caller == le(p + 73, 4));
		CHECK(rec->ev.reserved == 0);
		break;
	case TR_CHOICE:
		CHECK(k == 1 + TRACE_CHOICE_BYTES);
		CHECK(rec->kind == p[1]);
		CHECK(rec->bound == le(p + 2, 8));
		CHECK(rec->value == le(p + 10, 8));
		break;
	default: {
		size_t n = (size_t)le(p + 5, 2);
		CHECK(k == 7 + n && n <= TRACE_MAX_STRING);
		CHECK(rec->string_id == le(p + 1, 4));
		CHECK(memcmp(rec->string, p + 7, n) == 0 && rec->string[n] == 0);
		break;
	}
	}
}

/* A header string as the reader hands it out: terminated, printable. */
static void check_text(const char *s, size_t cap)
{
	const char *end = memchr(s, 0, cap);
	CHECK(end != NULL);
	for (const char *p = s; p < end; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
}

/* Mode 0: any bytes. */
static void check_any(const uint8_t *data, size_t size)
{
	struct trace_reader *r = NULL;
	struct trace_error e;
	memset(&e, 0, sizeof(e));
	if (trace_open_mem(data, size, &r, &e) != 0) {
		CHECK(r == NULL);
		CHECK(e.msg[0] != 0 && strchr(e.msg, '\n') == NULL);
		CHECK(memchr(e.msg, 0, sizeof(e.msg)) != NULL);
		CHECK(e.offset <= size);
		return;
	}
	CHECK(r != NULL);
	CHECK(trace_size(r) == size);
	CHECK(trace_trailer_offset(r) + TRACE_TRAILER == size);
	CHECK(size >= 8 && memcmp(data, TRACE_MAGIC, 8) == 0);
	const struct trace_header *h = trace_header_of(r);
	CHECK(h->version == TRACE_VERSION);
	check_text(h->hvsim_version, sizeof(h->hvsim_version));
	check_text(h->profile, sizeof(h->profile));
	check_text(h->config, sizeof(h->config));
	check_text(h->scenario_name, sizeof(h->scenario_name));
	check_text(h->scenario_path, sizeof(h->scenario_path));
	size_t slen;
	const char *s = trace_scenario(r, &slen);
	CHECK(s != NULL && slen > 0 && slen <= TRACE_MAX_SCENARIO && s[slen] == 0);

	/* Chunks: in file order, within the file, before the trailer. */
	size_t nch, nrecch = 0;
	const struct trace_chunk_info *ch = trace_chunks(r, &nch);
	uint64_t prev_end = 0;
	for (size_t i = 0; i < nch; i++) {
		CHECK(ch[i].type == TRACE_CHUNK_SCENARIO || ch[i].type == TRACE_CHUNK_RECORDS);
		CHECK(ch[i].raw_len > 0 && ch[i].raw_len <= TRACE_MAX_CHUNK_RAW);
		CHECK(ch[i].offset >= prev_end);
		prev_end = ch[i].offset + TRACE_CHUNK_HDR + ch[i].comp_len;
		CHECK(prev_end <= trace_trailer_offset(r));
		CHECK(memcmp(data + ch[i].offset, TRACE_CHUNK_MAGIC, 4) == 0);
		if (ch[i].type == TRACE_CHUNK_RECORDS)
			nrecch++;
		else
			CHECK(nrecch == 0); /* scenario chunks come first */
	}
	CHECK(le(data + trace_trailer_offset(r) + 36, 8) == nch);

	/* Every record, twice (trace_rewind). */
	uint64_t records = 0;
	for (int pass = 0; pass < 2; pass++) {
		struct trace_record rec;
		uint64_t n = 0, events = 0, choices = 0;
		size_t ci = 0;
		while (trace_next(r, &rec)) {
			n++;
			CHECK(rec.tag == TR_EVENT || rec.tag == TR_CHOICE || rec.tag == TR_STRING);
			events += rec.tag == TR_EVENT;
			choices += rec.tag == TR_CHOICE;
			if (rec.tag == TR_STRING)
				CHECK(strlen(rec.string) <= TRACE_MAX_STRING);
			/* The record's chunk: a RECORDS chunk, not before the last. */
			while (ci < nch && ch[ci].offset != rec.offset)
				ci++;
			CHECK(ci < nch && ch[ci].type == TRACE_CHUNK_RECORDS);
		}
		CHECK(trace_next(r, &rec) == 0); /* the end stays the end */
		CHECK(events == trace_nevents(r));
		CHECK(choices == trace_nchoices(r));
		CHECK(n == le(data + trace_trailer_offset(r) + 4, 8));
		CHECK(events == le(data + trace_trailer_offset(r) + 12, 8));
		CHECK(choices == le(data + trace_trailer_offset(r) + 20, 8));
		CHECK(trace_digest(r) == le(data + trace_trailer_offset(r) + 28, 8));
		CHECK(nrecch == 0 || n > 0);
		if (pass)
			CHECK(n == records);
		records = n;
		trace_rewind(r);
	}
	trace_close(r);
}

static bool header_fault(enum fault f)
{
	return f >= F_VERSION && f <= F_NO_PROFILE;
}

static bool chunk_fault(enum fault f)
{
	return (f >= F_CHUNK_TYPE && f <= F_RAW_CRC) || f == F_STREAM_TAIL;
}

/* Mode 1: a valid trace around a records payload, then damaged. */
static void check_built(const uint8_t *data, size_t size)
{
	uint8_t c[NCTL] = {0};
	size_t nctl = size < NCTL ? size : NCTL;
	memcpy(c, data, nctl);
	const uint8_t *payload = data + nctl;
	size_t plen = size - nctl;

	bool split = c[0] & 0x01, wrong = c[0] & 0x02, damage = c[0] & 0x04,
	     truncate = c[0] & 0x08, garbage = c[0] & 0x10, scen_after = c[0] & 0x20,
	     unknown_field = c[0] & 0x40, scen_split = c[0] & 0x80;
	size_t limit = split ? 1 + (size_t)(c[1] & 0x7f) * 8 : TRACE_MAX_CHUNK_RAW;
	bool anywhere = split && (c[1] & 0x80);
	int level = c[6] % 10;
	uint64_t digest = 0x9e3779b97f4a7c15ull * (1 + (uint64_t)c[7]);
	enum fault fault = (enum fault)(c[8] % F__COUNT);

	/* The chunks: the scenario (unless F_NO_SCENARIO), in one or two;
	 * the payload in RECORDS chunks, at record boundaries as the writer
	 * does (from an invalid record on, the rest goes into one chunk) or
	 * anywhere; then maybe one more scenario chunk. */
	const uint8_t *text = (const uint8_t *)scenario_text;
	size_t scen_len = sizeof(scenario_text) - 1, tail_len = sizeof(scenario_tail) - 1;
	struct built_chunk *ch_b = xmalloc(sizeof(*ch_b) * (plen + 3));
	size_t nb = 0, nrec = 0;
	if (fault != F_NO_SCENARIO) {
		if (scen_split) {
			ch_b[nb++] = (struct built_chunk){TRACE_CHUNK_SCENARIO, text, 10, 0};
			ch_b[nb++] = (struct built_chunk){TRACE_CHUNK_SCENARIO, text + 10,
			                                  scen_len - 10, 0};
		} else {
			ch_b[nb++] = (struct built_chunk){TRACE_CHUNK_SCENARIO, text, scen_len, 0};
		}
	}
	struct counts cnt = {0, 0, 0};
	bool framing_ok = true;
	for (size_t o = 0; o < plen;) {
		/* At most MAX_SPLIT chunks (each costs a deflate and an inflate
		 * state): the last one takes the rest. */
		size_t lim = nrec + 1 < MAX_SPLIT ? limit : (size_t)-1, n;
		if (anywhere) {
			n = plen - o < lim ? plen - o : lim;
		} else {
			n = 0;
			for (;;) {
				size_t k = rec_size(payload + o + n, plen - o - n);
				if (!k) {
					n = plen - o; /* invalid from here: the rest */
					break;
				}
				if (n && n + k > lim)
					break;
				n += k;
				if (o + n == plen)
					break;
			}
		}
		framing_ok &= walk(payload + o, n, &cnt);
		ch_b[nb++] = (struct built_chunk){TRACE_CHUNK_RECORDS, payload + o, n, 0};
		nrec++;
		o += n;
	}
	if (scen_after)
		ch_b[nb++] = (struct built_chunk){TRACE_CHUNK_SCENARIO,
		                                  (const uint8_t *)scenario_tail, tail_len, 0};
	bool scen_after_refused = scen_after && nrec > 0;
	bool has_scenario = fault != F_NO_SCENARIO || scen_after;

	struct buf b = {0};
	put_header(&b, unknown_field, header_fault(fault) ? fault : F_NONE);
	size_t target = nb ? c[9] % nb : 0;
	for (size_t i = 0; i < nb; i++)
		ch_b[i].offset = put_chunk(&b, ch_b[i].type, ch_b[i].raw, ch_b[i].len, level,
		                           chunk_fault(fault) && i == target ? fault : F_NONE,
		                           (uint16_t)le(c + 10, 2));

	/* Trailer: "HVEN" records events choices digest chunks crc. */
	uint64_t tv[4] = {cnt.records, cnt.events, cnt.choices, nb};
	if (wrong)
		tv[c[2] & 3] += 1 + (c[2] >> 2);
	size_t trailer_off = b.len;
	put(&b, fault == F_END_MAGIC ? "HVEX" : TRACE_END_MAGIC, 4);
	put_le(&b, tv[0], 8);
	put_le(&b, tv[1], 8);
	put_le(&b, tv[2], 8);
	put_le(&b, digest, 8);
	put_le(&b, tv[3], 8);
	put_le(&b, crc(b.p + trailer_off, 44), 4);
	CHECK(b.len == trailer_off + TRACE_TRAILER);

	size_t pos = (size_t)le(c + 3, 2) % b.len;
	if (damage)
		b.p[pos] ^= c[5] ? c[5] : 0x01;
	if (garbage)
		put(&b, "", 1);
	size_t flen = truncate ? pos : b.len;

	/* The verdict the format gives. */
	bool plain_ok = framing_ok && !wrong && !damage && !truncate && !garbage &&
	                !scen_after_refused && has_scenario;
	bool may_accept = fault == F_STREAM_BYTE || (fault == F_STREAM_TAIL && !STRICT_STREAM_END);
	bool must_accept = plain_ok && (fault == F_NONE || fault == F_NO_SCENARIO);
	bool can_accept = must_accept || (plain_ok && may_accept);

	struct trace_reader *r = NULL;
	struct trace_error e;
	memset(&e, 0, sizeof(e));
	int rc = trace_open_mem(b.p, flen, &r, &e);
	if (rc != 0) {
		if (must_accept)
			fprintf(stderr, "fuzz_trace: a valid trace refused: byte %llu: %s\n",
			        (unsigned long long)e.offset, e.msg);
		CHECK(!must_accept);
		CHECK(r == NULL);
		CHECK(e.msg[0] != 0 && strchr(e.msg, '\n') == NULL);
		CHECK(e.offset <= flen);
		/* One thing wrong: the structure named is that one. */
		bool sole = framing_ok && !damage && !truncate && !garbage && !scen_after_refused &&
		            (!wrong || fault == F_NONE);
		uint64_t at_chunk = nb ? ch_b[target].offset : 0;
		uint64_t at_payload = at_chunk + TRACE_CHUNK_HDR;
		if (sole && !wrong && header_fault(fault))
			CHECK(e.offset == 0);
		else if (sole && !wrong && fault >= F_CHUNK_TYPE && fault <= F_COMP_BIG)
			CHECK(e.offset == at_chunk);
		else if (sole && !wrong && (fault == F_RAW_MORE || fault == F_RAW_LESS))
			CHECK(e.offset == at_chunk || e.offset == at_payload);
		else if (sole && !wrong && (fault == F_STREAM_BYTE || fault == F_RAW_CRC ||
		                            fault == F_STREAM_TAIL))
			CHECK(e.offset == at_payload);
		else if (sole && !wrong && fault == F_NO_SCENARIO)
			CHECK(e.offset == TRACE_HEADER_FIXED);
		else if (sole && (fault == F_END_MAGIC || (wrong && fault == F_NONE)))
			CHECK(e.offset == trailer_off);
		goto out;
	}
	if (!can_accept)
		fprintf(stderr,
		        "fuzz_trace: a damaged trace accepted (fault %d in chunk %zu, framing %d, "
		        "wrong %d, damage %d at %zu, truncate %d, garbage %d, scenario after "
		        "records %d)\n",
		        (int)fault, target, framing_ok, wrong, damage, pos, truncate, garbage,
		        scen_after_refused);
	CHECK(can_accept);

	/* Accepted: exactly what was built. */
	const struct trace_header *h = trace_header_of(r);
	CHECK(h->version == TRACE_VERSION);
	CHECK(strcmp(h->hvsim_version, HV_VERSION) == 0);
	CHECK(strcmp(h->profile, HV_PROFILE) == 0);
	CHECK(strcmp(h->config, HV_CONFIG) == 0);
	CHECK(strcmp(h->scenario_name, HV_NAME) == 0);
	CHECK(strcmp(h->scenario_path, HV_PATH) == 0);
	CHECK(h->seed == HV_SEED && h->ncpus == HV_NCPUS);
	size_t slen, want = 0;
	const char *s = trace_scenario(r, &slen);
	CHECK(s != NULL && s[slen] == 0);
	if (fault != F_NO_SCENARIO) {
		CHECK(slen >= scen_len && memcmp(s, scenario_text, scen_len) == 0);
		want += scen_len;
	}
	if (scen_after) {
		CHECK(slen >= want + tail_len && memcmp(s + want, scenario_tail, tail_len) == 0);
		want += tail_len;
	}
	CHECK(slen == want);
	CHECK(trace_nevents(r) == cnt.events && trace_nchoices(r) == cnt.choices);
	CHECK(trace_digest(r) == digest);
	CHECK(trace_size(r) == flen && trace_trailer_offset(r) == trailer_off);
	size_t nch;
	const struct trace_chunk_info *ch = trace_chunks(r, &nch);
	CHECK(nch == nb);
	for (size_t i = 0; i < nb; i++) {
		CHECK(ch[i].type == ch_b[i].type && ch[i].offset == ch_b[i].offset);
		CHECK(ch[i].raw_len == ch_b[i].len);
		CHECK(ch[i].comp_len == (i + 1 < nb ? ch_b[i + 1].offset : trailer_off) -
		                            ch_b[i].offset - TRACE_CHUNK_HDR);
	}
	for (int pass = 0; pass < 2; pass++) {
		struct trace_record rec;
		uint64_t n = 0;
		for (size_t i = 0; i < nb; i++)
			for (size_t o = 0; ch_b[i].type == TRACE_CHUNK_RECORDS && o < ch_b[i].len;) {
				size_t k = rec_size(ch_b[i].raw + o, ch_b[i].len - o);
				CHECK(k && trace_next(r, &rec) == 1);
				check_record(&rec, ch_b[i].raw + o, k, ch_b[i].offset);
				o += k;
				n++;
			}
		CHECK(trace_next(r, &rec) == 0);
		CHECK(n == cnt.records);
		trace_rewind(r);
	}
	trace_close(r);
out:
	free(ch_b);
	free(b.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 1)
		check_built(data + 1, size - 1);
	else
		check_any(data, size);
	return 0;
}
