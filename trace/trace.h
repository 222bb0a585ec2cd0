/* Traces: writing one while a run goes (a sink plus choice recording),
 * reading and validating one, and replaying it (trace/format.h has the
 * format). */
#ifndef HVSIM_TRACE_TRACE_H
#define HVSIM_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/bus.h"
#include "sim/event.h"
#include "sim/machine.h"

struct trace_header {
	uint32_t version;
	char hvsim_version[32];
	char profile[32];
	char config[512];
	uint64_t seed;
	uint32_t ncpus;
	char scenario_name[256];
	char scenario_path[1024];
};

/* Where a trace is damaged: byte offset of the structure and what. */
struct trace_error {
	uint64_t offset;
	char msg[400];
};

/* Writer ------------------------------------------------------------------ */

struct trace_writer;

/* Opens PATH.tmp-XXXXXX next to path; nothing appears under path until
 * trace_writer_close(commit=true) renames it. err: "PATH: message". */
int trace_writer_open(const char *path, const struct trace_header *h,
                      const char *scenario, size_t scenario_len, struct trace_writer **out,
                      char *err, size_t errlen);
/* The sink that appends every event (and interned string). */
struct sink trace_writer_sink(struct trace_writer *w);
/* Choice hooks that append every free choice (no replay). */
struct choice_hooks trace_writer_choices(struct trace_writer *w);
/* Writes the trailer and renames into place (commit), or removes the
 * temporary file. Always frees w. Returns 0 or -1 with err. */
int trace_writer_close(struct trace_writer *w, bool commit, uint64_t digest, char *err,
                       size_t errlen);
/* Stores an input file the run reads (named as the scenario names it). */
int trace_writer_attach(struct trace_writer *w, const char *name, const void *data, size_t len);
/* Total bytes written so far (for benchmarks). */
uint64_t trace_writer_bytes(const struct trace_writer *w);

/* Reader ------------------------------------------------------------------ */

struct trace_record {
	uint8_t tag; /* TR_EVENT / TR_CHOICE / TR_STRING */
	struct event ev;
	uint8_t kind;
	uint64_t bound, value;
	uint32_t string_id;
	char string[1025];
	uint64_t offset; /* of the chunk holding the record */
};

struct trace_chunk_info {
	uint64_t offset; /* of the chunk header */
	uint32_t type, raw_len, comp_len;
};

struct trace_reader;

/* Reads and validates the whole trace (every checksum, every record's
 * framing, the trailer's counts) before returning, so a damaged trace is
 * refused before anything runs. Returns 0, or -1 with e filled. */
int trace_open(const char *path, struct trace_reader **out, struct trace_error *e);
int trace_open_mem(const void *buf, size_t len, struct trace_reader **out,
                   struct trace_error *e);
void trace_close(struct trace_reader *r);

const struct trace_header *trace_header_of(const struct trace_reader *r);
const char *trace_scenario(const struct trace_reader *r, size_t *len);
/* An input file stored in the trace, or NULL. */
const void *trace_file(const struct trace_reader *r, const char *name, size_t *len);
uint64_t trace_digest(const struct trace_reader *r);
uint64_t trace_nevents(const struct trace_reader *r);
uint64_t trace_nchoices(const struct trace_reader *r);
uint64_t trace_size(const struct trace_reader *r);
/* Chunk table, in file order (for tests and tools). */
const struct trace_chunk_info *trace_chunks(const struct trace_reader *r, size_t *n);
uint64_t trace_trailer_offset(const struct trace_reader *r);

/* Sequential access to the records: 1 a record, 0 the end. The trace was
 * validated at open, so this cannot fail. trace_rewind starts over. */
int trace_next(struct trace_reader *r, struct trace_record *rec);
void trace_rewind(struct trace_reader *r);

/* One-line description of an event, for divergence reports. */
void trace_describe_event(const struct event *ev, char *buf, size_t cap);

/* Replay ------------------------------------------------------------------ */

struct replay_result {
	bool diverged;
	uint64_t seq, cycle;  /* first divergent event */
	int32_t cpu;
	char expected[256], actual[256];
	uint64_t events, digest, trace_events, trace_digest;
	int run_exit;         /* exit code of the re-executed run (0/1) */
};

/* Re-executes the trace, recording into db_path if not NULL, comparing
 * every event with the trace. Returns 0 (identical), 1 (diverged: res
 * says where) or 2 (bad input: err says what, with the byte offset for a
 * damaged trace). */
int trace_replay(const char *trace_path, const char *db_path, struct replay_result *res,
                 char *err, size_t errlen);

#endif
