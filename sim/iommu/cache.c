/* The one fill/invalidate path of every IOMMU model (see iommu.h).
 *
 * A model's walk result reaches both views here, and every invalidation
 * command a model carries out (VT-d descriptor types 1/2, AMD-Vi
 * INVALIDATE_IOMMU_PAGES / INVALIDATE_DEVTAB_ENTRY / INVALIDATE_IOMMU_ALL)
 * goes through iommu_cache_inv / iommu_devc_inv, so the concrete IOTLB and
 * the envelope can never disagree about what was invalidated, and every
 * invalidation is one EV_IOMMU_INV event.
 */
#include <assert.h>

#include "sim/event.h"
#include "sim/iommu/iommu.h"
#include "sim/machine.h"

static struct event io_event(struct iommu *io, unsigned type)
{
	struct event ev = machine_event(io->m, type, -1);
	ev.cycle = io->now;
	return ev;
}

void iommu_cache_fill(struct iommu *io, const struct iotlb_entry *p)
{
	io->st.iotlb_fills++;
	io->st.iotlb_evictions += iotlb_fill(&io->iotlb, p);
	ioenv_add(&io->env, p);
	struct event ev = io_event(io, EV_IOTLB_FILL);
	ev.sub = p->np;
	ev.a = p->vpn << p->size_log2;
	ev.b = p->pa_base;
	ev.c = p->did;
	ev.d = p->size_log2;
	ev.e = p->perm;
	ev.f = io->unit;
	machine_emit(io->m, &ev);
}

static void inv_event(struct iommu *io, unsigned kind, uint16_t did, uint64_t base,
                      unsigned size_log2, uint32_t removed, uint32_t removed_env)
{
	struct event ev = io_event(io, EV_IOMMU_INV);
	ev.sub = (uint16_t)kind;
	ev.a = did;
	ev.b = base;
	ev.c = size_log2;
	ev.d = removed;
	ev.e = removed_env;
	ev.f = (uint64_t)io->unit << 32 | io->cmd_index;
	machine_emit(io->m, &ev);
}

uint32_t iommu_cache_inv(struct iommu *io, unsigned kind, uint16_t did, uint64_t base,
                         unsigned size_log2)
{
	uint32_t n, ne;
	switch (kind) {
	case IOINV_IOTLB_ALL:
		n = iotlb_inv_all(&io->iotlb);
		ne = ioenv_inv_all(&io->env);
		did = 0;
		base = 0;
		size_log2 = 64;
		break;
	case IOINV_IOTLB_DOMAIN:
		n = iotlb_inv_domain(&io->iotlb, did);
		ne = ioenv_inv_domain(&io->env, did);
		base = 0;
		size_log2 = 64;
		break;
	case IOINV_IOTLB_RANGE:
		assert(size_log2 >= 12 && size_log2 < 64);
		n = iotlb_inv_range(&io->iotlb, did, base, size_log2);
		ne = ioenv_inv_range(&io->env, did, base, size_log2);
		break;
	default:
		assert(!"iommu_cache_inv: not an IOTLB invalidation kind");
		return 0;
	}
	/* The envelope is a superset of the concrete cache (unless it ever
	 * had to refuse records at its bound). */
	assert(ne >= n || io->env.cap >= IOENV_MAX_RECORDS);
	io->st.iotlb_inv_entries += n;
	inv_event(io, kind, did, base, size_log2, n, ne);
	return n;
}

uint32_t iommu_devc_inv(struct iommu *io, unsigned kind, uint16_t did, uint16_t sid,
                        uint16_t fn_mask)
{
	uint32_t n;
	switch (kind) {
	case IOINV_DEVC_ALL: n = devc_inv_all(&io->devc); break;
	case IOINV_DEVC_DOMAIN: n = devc_inv_domain(&io->devc, did); break;
	case IOINV_DEVC_DEVICE: n = devc_inv_device(&io->devc, did, sid, fn_mask); break;
	default:
		assert(!"iommu_devc_inv: not a device-cache invalidation kind");
		return 0;
	}
	io->st.ctxc_inv_entries += n;
	inv_event(io, kind, did, sid, fn_mask, n, 0);
	return n;
}

void iommu_note_wait(struct iommu *io)
{
	inv_event(io, IOINV_WAIT, 0, 0, 0, 0, 0);
}
