/* The libFuzzer harnesses' shared body (fuzz/engine/harness.h). */
#include "fuzz/engine/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/engine/case.h"
#include "fuzz/engine/shrink.h"
#include "fuzz/gen/bytesrc.h"
#include "fuzz/gen/target.h"

static void die(const char *target, const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_%s: %s: %s\n", target, what, detail);
	abort();
}

static bool known(const char *sig)
{
	const char *k = getenv("HVSIM_FUZZ_KNOWN");
	size_t n = strlen(sig);
	for (const char *p = k; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, sig, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

int fz_harness_one(const char *target, const uint8_t *data, size_t size)
{
	const struct fz_target *t = fz_target_find(target);
	if (!t || !t->built)
		die(target, "no such target", target);
	struct bytesrc b;
	bytesrc_buffer(&b, data, size);
	struct scenario sc;
	if (t->decode(&b, &sc) != 0)
		die(target, "decoder", "failed (out of memory?)");
	struct fz_case_opts o = {0};
	struct fz_result r;
	fz_run_case(t, &sc, &o, &r);
	if (r.rc == FZ_INVALID)
		die(target, "the decoder made an invalid case", r.first);
	/* The case as a file: the same run. */
	struct scenario back;
	char why[600];
	if (fz_reload(&sc, "fuzz.yaml", &back, why, sizeof(why)) != 0)
		die(target, "the case's YAML does not load", why);
	struct fz_result r2;
	fz_run_case(t, &back, &o, &r2);
	if (r2.digest != r.digest || r2.events != r.events)
		die(target, "the case's YAML runs differently", back.name);
	scenario_free(&back);
	scenario_free(&sc);
	if (r.rc == FZ_FAIL && !known(r.sig))
		die(target, "property violated", r.first);
	return 0;
}
