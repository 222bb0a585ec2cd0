/* `hvsim check`: runs property queries against a recording.
 *
 * A property query is one SELECT returning the violating rows as
 * (seq, cycle, cpu, explanation) ordered by seq, preceded by comment lines
 * "-- property: NAME" and "-- what: one line" (docs/recording.md). The
 * shipped ones (checks/ *.sql) are embedded as hvsim_checks[].
 */
#ifndef HVSIM_RECORD_CHECK_H
#define HVSIM_RECORD_CHECK_H

#include <stddef.h>
#include <stdio.h>

#define CHECK_SHOW_ROWS 10 /* violating rows printed per property */

/* Exit-code semantics of `hvsim check`. */
enum { CHECK_OK = 0, CHECK_VIOLATION = 1, CHECK_BAD_INPUT = 2 };

/* Opens db_path read-only and runs every embedded query in name order, or
 * only the query in sql_path when it is not NULL. Prints to out the run's
 * status (with a warning when it is 'running': the recording is
 * incomplete), then per property "NAME: ok" or "NAME: N violation(s)" and
 * up to CHECK_SHOW_ROWS rows "  seq=S cycle=C cpu=N: explanation".
 * Returns CHECK_OK, CHECK_VIOLATION if any query returned rows, or
 * CHECK_BAD_INPUT with err naming the file (missing, not a database, not a
 * recording, unreadable query, SQL error with SQLite's message). */
int check_db(const char *db_path, const char *sql_path, FILE *out, char *err,
             size_t errlen);

/* Prints "NAME  what" for every embedded query (`hvsim check --list`). */
void check_list(FILE *out);

#endif
