#include "runner/suite.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner/run.h"
#include "scenario/scenario.h"

#define SUITE_MAX_FILES 4096
#define SUITE_MAX_DEPTH 8

struct files {
	char *v[SUITE_MAX_FILES];
	unsigned n;
	bool overflow;
};

static bool is_yaml(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".yaml") == 0;
}

static int collect(struct files *f, const char *dir, unsigned depth)
{
	if (depth > SUITE_MAX_DEPTH)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			collect(f, path, depth + 1);
		} else if (is_yaml(e->d_name)) {
			if (f->n == SUITE_MAX_FILES) {
				f->overflow = true;
				continue;
			}
			f->v[f->n++] = strdup(path);
		}
	}
	closedir(d);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int mkdirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* results/litmus/invlpg-4k.db for scenarios/litmus/invlpg-4k.yaml. */
static void db_path_for(const struct suite_opts *o, const char *file, char *out, size_t cap)
{
	const char *rel = file;
	for (unsigned i = 0; i < o->ndirs; i++) {
		size_t n = strlen(o->dirs[i]);
		if (strncmp(file, o->dirs[i], n) == 0 && file[n] == '/') {
			rel = file + n + 1;
			break;
		}
	}
	snprintf(out, cap, "%s/%.*s.db", o->out_dir, (int)(strlen(rel) - 5), rel);
}

static void parent_dir(const char *path, char *out, size_t cap)
{
	snprintf(out, cap, "%s", path);
	char *s = strrchr(out, '/');
	if (s)
		*s = 0;
}

static bool prop_listed(const char *list, const char *prop)
{
	size_t n = strlen(prop);
	for (const char *p = list; (p = strstr(p, prop)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
			return true;
	return false;
}

struct totals {
	unsigned pass, fail, caught, bad;
};

static void row(FILE *out, const char *name, const struct run_summary *s, const char *verdict)
{
	char props[300];
	if (s->props[0])
		snprintf(props, sizeof(props), "%s", s->props);
	else
		snprintf(props, sizeof(props), "ok");
	fprintf(out, "%-44s %8" PRIu64 " %8" PRIu64 " %5" PRIu64 "/%-5" PRIu64 " %12" PRIu64
	             "  %-7s %s\n",
	        name, s->fills, s->misses, s->flushes_necessary, s->flushes_redundant, s->cycles,
	        verdict, props);
}

/* The determinism self-check: the same scenario and seed again, without
 * recording, must give the same events (digest and count). */
static bool same_again(const struct scenario *sc, const struct run_opts *ro,
                       const struct run_summary *first)
{
	struct run_opts again = *ro;
	again.db_path = NULL;
	struct run_summary s;
	char err[512];
	int rc = run_scenario(sc, &again, &s, err, sizeof(err));
	return rc == first->exit_code && s.digest == first->digest && s.events == first->events;
}

static void run_one(const struct suite_opts *o, const char *file, struct totals *t)
{
	struct scenario sc;
	struct sc_error e;
	if (scenario_load(file, &sc, &e) != 0) {
		fprintf(o->out, "%-44s %s\n", file, e.msg);
		t->bad++;
		return;
	}
	char db[4096], dir[4096], err[512];
	struct run_opts ro = {.seed = o->seed, .has_seed = o->has_seed, .out = NULL};
	if (o->out_dir) {
		db_path_for(o, file, db, sizeof(db));
		parent_dir(db, dir, sizeof(dir));
		if (mkdirs(dir) != 0) {
			fprintf(o->out, "%-44s %s: cannot create directory: %s\n", file, dir,
			        strerror(errno));
			t->bad++;
			scenario_free(&sc);
			return;
		}
		ro.db_path = db;
	}
	struct run_summary s;
	int rc = run_scenario(&sc, &ro, &s, err, sizeof(err));
	const char *verdict;
	if (rc == 2) {
		fprintf(o->out, "%-44s %s\n", sc.name, err);
		t->bad++;
		scenario_free(&sc);
		return;
	}
	if (o->twice && !same_again(&sc, &ro, &s)) {
		row(o->out, sc.name, &s, "NONDET");
		fprintf(o->out, "    a second run with the same seed gave another event digest\n");
		t->fail++;
		scenario_free(&sc);
		return;
	}
	if (sc.negative) {
		/* A twin passes when its property fired (related ones may fire
		 * too: a stale access is usually also stale at the next
		 * quiescent point) and no expectation failed. */
		bool caught = rc == 1 && s.expect_failures == 0 && prop_listed(s.props, sc.negative);
		verdict = caught ? "CAUGHT" : "MISSED";
		caught ? t->caught++ : t->fail++;
	} else {
		verdict = rc == 0 ? "PASS" : "FAIL";
		rc == 0 ? t->pass++ : t->fail++;
	}
	row(o->out, sc.name, &s, verdict);
	if (strcmp(verdict, "PASS") && strcmp(verdict, "CAUGHT"))
		fprintf(o->out, "    %s\n", s.first[0] ? s.first : "no violation reported");
	scenario_free(&sc);
}

int suite_run(const struct suite_opts *o)
{
	struct files f = {.n = 0};
	for (unsigned i = 0; i < o->ndirs; i++)
		if (collect(&f, o->dirs[i], 0) != 0) {
			fprintf(o->out, "hvsim suite: %s: %s\n", o->dirs[i], strerror(errno));
			return 2;
		}
	if (f.n == 0) {
		fprintf(o->out, "hvsim suite: no *.yaml scenarios found\n");
		return 2;
	}
	qsort(f.v, f.n, sizeof(f.v[0]), cmp_str);
	fprintf(o->out, "%-44s %8s %8s %11s %12s  %-7s %s\n", "scenario", "fills", "misses",
	        "flush n/r", "cycles", "result", "properties");
	struct totals t = {0, 0, 0, 0};
	for (unsigned i = 0; i < f.n; i++) {
		run_one(o, f.v[i], &t);
		free(f.v[i]);
	}
	fprintf(o->out,
	        "\n%u scenarios: %u passed, %u twins caught, %u failed, %u bad input%s\n",
	        f.n, t.pass, t.caught, t.fail, t.bad,
	        f.overflow ? " (file limit reached: some scenarios skipped)" : "");
	if (o->out_dir)
		fprintf(o->out, "recordings: %s/ (hvsim check FILE.db runs the properties)\n",
		        o->out_dir);
	fprintf(o->out, "%u passed, %u failed\n", t.pass + t.caught, t.fail + t.bad);
	if (t.bad)
		return 2;
	return t.fail ? 1 : 0;
}
