/* The AMD-Vi driver: not built yet (the hardware model lands first). */
#include <errno.h>

#include "hv/iommu/iommu.h"

static int amd_setup(struct hv_iommu *io, unsigned cpu)
{
	(void)io;
	(void)cpu;
	return -ENODEV;
}

const struct hv_iommu_ops hv_amd_ops = {
	.name = "amd",
	.setup = amd_setup,
};
