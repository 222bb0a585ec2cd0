/* Boot of the hypervisor core: the idle page table with the 1:1 direct
 * map, loaded on every CPU. */
#include <errno.h>
#include <string.h>

#include "hv/hv.h"
#include "hv/mm/page.h"
#include "hv/mm/pt.h"

#define X86_CR4_PGE (1ull << 7)

int hv_init(struct hv *hv, const struct hv_arch *arch, const struct hv_config *cfg)
{
	memset(hv, 0, sizeof(*hv));
	if (!arch || arch->ncpus == 0 || arch->ncpus > HV_MAX_CPUS || !cfg)
		return -EINVAL;
	if (cfg->directmap_bytes & ((1ull << 21) - 1) ||
	    cfg->directmap_bytes > DIRECTMAP_VIRT_END - DIRECTMAP_VIRT_START)
		return -EINVAL;
	hv->arch = arch;
	hv->cfg = *cfg;
	if (hv->cfg.flush_policy == HV_FLUSH_RANGED && hv->cfg.flush_ceiling == 0)
		hv->cfg.flush_ceiling = 33; /* Linux's tlb_single_page_flush_ceiling */
	hv->use_pge = arch->has_pge;
	arch->caller(arch->ctx, "hv_init");
	hv->root_pfn = pt_alloc(hv, 0);
	if (hv->root_pfn == HV_NO_FRAME) {
		arch->caller(arch->ctx, NULL);
		return -ENOMEM;
	}
	/* The root stays for the hypervisor's life: not counted as live. */
	hv->pt.live--;
	int rc = 0;
	if (cfg->directmap_bytes)
		rc = hv_map_pages(hv, 0, DIRECTMAP_VIRT_START, 0, cfg->directmap_bytes >> PAGE_SHIFT,
		                  PAGE_HYPERVISOR);
	for (unsigned c = 0; c < arch->ncpus && !rc; c++) {
		if (arch->write_cr3(arch->ctx, c, hv->root_pfn << PAGE_SHIFT))
			rc = -EINVAL;
		uint64_t cr4 = arch->read_cr4(arch->ctx, c);
		if (!rc && hv->use_pge && arch->write_cr4(arch->ctx, c, cr4 | X86_CR4_PGE))
			rc = -EINVAL;
	}
	arch->caller(arch->ctx, NULL);
	return rc;
}
