/* The SQLite recorder: a bus sink that writes every event of a run to one
 * database file (schema in record/schema.sql, described in
 * docs/recording.md).
 *
 * The file is created with status 'running' and that row is committed
 * before the first event, so a run that dies leaves a file which says so.
 * recorder_close() writes the final status in the same transaction as the
 * last events: a file only looks finished once it is.
 *
 * Speed: events are buffered and written REC_BATCH rows per INSERT inside
 * transactions of REC_COMMIT_ROWS rows, with journalling and syncing off
 * (the database is a product of a deterministic run and can be re-made).
 */
#ifndef HVSIM_RECORD_RECORDER_H
#define HVSIM_RECORD_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "sim/bus.h"

#define REC_BATCH 32            /* rows per multi-row INSERT */
#define REC_COMMIT_ROWS 100000  /* rows per transaction */

/* What the runs row says about the run. NULL strings are stored as NULL. */
struct run_info {
	const char *scenario;
	const char *path;    /* scenario file */
	uint64_t seed;
	const char *profile;
	const char *config;  /* free text, e.g. "cpus=2 overrides=invlpg=400" */
	const char *version; /* hvsim version */
	uint32_t ncpus;
};

struct recorder;

/* Creates the database at path, replacing any file there. On failure
 * returns -1 and err holds "PATH: message"; *out is untouched. */
int recorder_open(const char *path, const struct run_info *info,
                  struct recorder **out, char *err, size_t errlen);

/* The sink to attach to the bus: every event type, and the strings. If a
 * write fails the sink asks the bus to stop and recorder_close() reports
 * the error. */
struct sink recorder_sink(struct recorder *r);

/* Writes the buffered events and the final runs fields (status such as
 * "complete", "violation", "aborted"), commits and closes. Frees r in every
 * case. Returns 0, or -1 with "PATH: message" in err; after a failure the
 * file keeps status 'running'. */
int recorder_close(struct recorder *r, const char *status, int exit_code,
                   uint64_t events, uint64_t digest, uint64_t cycles,
                   char *err, size_t errlen);

/* The schema the recorder creates (identical to record/schema.sql). */
const char *recorder_schema_sql(void);

#endif
