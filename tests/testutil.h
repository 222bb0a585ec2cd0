/* Helpers shared by the Check suites. */
#ifndef HVSIM_TESTS_TESTUTIL_H
#define HVSIM_TESTS_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Runs the suite, returns the process exit status (0 when all passed). */
int testutil_run(Suite *s);
/* A fresh directory under the build tree's temp area, removed at exit. */
const char *testutil_tmpdir(void);
/* Runs argv (NULL-terminated) with stdout+stderr captured into out (NUL-
 * terminated, truncated to cap); returns the exit status or -1. */
int testutil_exec(char *const argv[], char *out, size_t cap);

#endif
