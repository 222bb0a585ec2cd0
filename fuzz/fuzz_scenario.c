/* libFuzzer target: the scenario reader and, for small scenarios that
 * load, the runner behind it. Any input must give a scenario or a one-line
 * error, never a crash; any scenario that loads must run to an exit code
 * of 0, 1 or 2 with the models' self-check on. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runner/run.h"
#include "runner/timegen.h"
#include "scenario/scenario.h"

/* Bounds that keep one input fast; larger scenarios are only loaded. */
#define RUN_MAX_OPS 512
#define RUN_MAX_CPUS 8
#define RUN_MAX_TIME_COST 200000 /* reads and periodic updates (seed 002) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs never read the disk: a lackey op's file is simply absent. */
static const void *no_files(void *ctx, const char *name, size_t *len)
{
	(void)ctx;
	(void)name;
	*len = 0;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario sc;
	struct sc_error err;
	if (scenario_load_string("fuzz.yaml", (const char *)data, size, &sc, &err) != 0) {
		assert(err.msg[0] && !strchr(err.msg, '\n'));
		return 0;
	}
	if (sc.nops <= RUN_MAX_OPS && sc.ncpus <= RUN_MAX_CPUS &&
	    time_scenario_cost(&sc) <= RUN_MAX_TIME_COST) {
		struct run_opts o = {.self_check = true, .file_get = no_files};
		struct run_summary sum;
		char msg[512];
		int rc = run_scenario(&sc, &o, &sum, msg, sizeof(msg));
		assert(rc >= 0 && rc <= 2);
		assert(rc != 2 || (msg[0] && !strchr(msg, '\n')));
	}
	scenario_free(&sc);
	return 0;
}
