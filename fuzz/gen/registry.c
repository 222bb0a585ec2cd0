/* The fuzz target registry (fuzz/gen/target.h): the targets that exist,
 * and those the subsystem issues will add (each one file), listed so that
 * `hvsim fuzz --help` shows them and asking for one says it is not built
 * yet. */
#include "fuzz/gen/target.h"

#include <stdio.h>
#include <string.h>

extern const struct fz_target fz_target_pt, fz_target_pcid, fz_target_iommu, fz_target_time,
    fz_target_ring;

const struct fz_target *const fz_targets[] = {
	&fz_target_pt, &fz_target_pcid, &fz_target_iommu, &fz_target_time, &fz_target_ring, NULL,
};

const struct fz_target *fz_target_find(const char *name)
{
	for (unsigned i = 0; fz_targets[i]; i++)
		if (!strcmp(fz_targets[i]->name, name))
			return fz_targets[i];
	return NULL;
}

void fz_target_names(char *buf, size_t cap, bool built)
{
	size_t o = 0;
	buf[0] = 0;
	for (unsigned i = 0; fz_targets[i] && o < cap; i++) {
		if (fz_targets[i]->built != built)
			continue;
		int w = snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", fz_targets[i]->name);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}
