/* `hvsim diff`: what differs between two recordings.
 *
 * Meant for two recordings of one scenario under two configurations (cost
 * overrides, seeds) or two builds of the code. Prints, as small aligned
 * tables with columns A, B and delta: the runs rows, flushes (by
 * instruction, by caller, necessary/redundant, entries removed), TLB
 * counters, property results (every shipped query on both files) and the
 * first event at which the two event streams diverge. docs/diff.md.
 */
#ifndef HVSIM_RECORD_DIFF_H
#define HVSIM_RECORD_DIFF_H

#include <stddef.h>
#include <stdio.h>

/* Exit-code semantics of `hvsim diff`. */
enum { DIFF_SAME = 0, DIFF_DIFFERENT = 1, DIFF_BAD_INPUT = 2 };

/* Opens both recordings read-only and prints the comparison to out.
 * Returns DIFF_SAME when the event streams are identical (same events in
 * the same order with the same values; a caller is compared by its
 * string), DIFF_DIFFERENT when they are not, or DIFF_BAD_INPUT with err
 * naming the file (missing, not a database, not an hvsim recording, SQL
 * error). Nothing is printed on bad input: the whole comparison is
 * computed before the first line is written. */
int diff_db(const char *a, const char *b, FILE *out, char *err,
            size_t errlen);

#endif
