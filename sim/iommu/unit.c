/* What every IOMMU model shares (see iommu.h): building and tearing down
 * the caches, the command ring both VT-d's invalidation queue and AMD-Vi's
 * command buffer are (a ring of 16-byte entries in memory, consumed in
 * order from head to tail, stopping on the first entry the model rejects),
 * the bounded fault log, and the envelope's verdict on a translation.
 * The models keep only what differs: the formats, the commands, the
 * registers. */
#include <assert.h>
#include <string.h>

#include "sim/iommu/iommu.h"
#include "sim/machine.h"
#include "sim/mem.h"

int iommu_unit_init(struct iommu *io, struct machine *m, const struct iommu_ops *ops,
                    enum iommu_kind kind, uint32_t iotlb_entries, uint32_t iotlb_ways,
                    uint32_t devc_entries)
{
	memset(io, 0, sizeof(*io));
	uint32_t ent = iotlb_entries ? iotlb_entries : IOMMU_IOTLB_ENTRIES_DEFAULT;
	uint32_t ways = iotlb_ways ? iotlb_ways : IOMMU_IOTLB_WAYS_DEFAULT;
	uint32_t dc = devc_entries ? devc_entries : IOMMU_CTXC_ENTRIES_DEFAULT;
	if (iotlb_init(&io->iotlb, ent, ways) || devc_init(&io->devc, dc)) {
		iotlb_fini(&io->iotlb);
		return -1;
	}
	ioenv_init(&io->env);
	io->ops = ops;
	io->m = m;
	io->kind = kind;
	return 0;
}

void iommu_unit_reset(struct iommu *io)
{
	iotlb_inv_all(&io->iotlb);
	ioenv_inv_all(&io->env);
	devc_inv_all(&io->devc);
	io->q.head = io->q.tail = 0;
	io->q.error = 0;
	io->nfaults = 0;
	memset(io->faults, 0, sizeof(io->faults));
}

void iommu_unit_fini(struct iommu *io)
{
	iotlb_fini(&io->iotlb);
	ioenv_fini(&io->env);
	devc_fini(&io->devc);
	memset(io, 0, sizeof(*io));
}

int iommu_ring_submit(struct iommu *io, const struct iommu_cmd *c)
{
	struct iommu_queue *q = &io->q;
	if (!q->entries)
		return -1; /* no ring programmed */
	assert((q->entries & (q->entries - 1)) == 0);
	uint32_t next = (q->tail + 1) & (q->entries - 1);
	if (next == q->head) {
		io->st.queue_full++;
		return -1;
	}
	uint64_t pa = q->base + 16ull * q->tail;
	machine_store64(io->m, -1, pa, c->lo, false);
	machine_store64(io->m, -1, pa + 8, c->hi, false);
	q->tail = next;
	io->st.cmds_submitted++;
	return 0;
}

uint32_t iommu_ring_run(struct iommu *io, uint32_t max, iommu_exec_fn exec, uint64_t *bad_pa)
{
	struct iommu_queue *q = &io->q;
	uint32_t n = 0;
	*bad_pa = UINT64_MAX;
	while (n < max && n < q->entries && q->head != q->tail && !q->error) {
		uint64_t pa = q->base + 16ull * q->head;
		struct iommu_cmd c = {
			.lo = mem_read64(&io->m->mem, pa),
			.hi = mem_read64(&io->m->mem, pa + 8),
		};
		if (!exec(io, &c)) {
			q->error = 1; /* the head stays on the bad entry */
			io->st.cmds_rejected++;
			*bad_pa = pa;
			break;
		}
		q->head = (q->head + 1) & (q->entries - 1);
		io->st.cmds_processed++;
		io->cmd_index++;
		n++;
	}
	return n;
}

bool iommu_fault_log(struct iommu *io, uint16_t sid, uint16_t did, uint64_t iova, int f,
                     uint8_t hw_reason, bool write)
{
	if (io->nfaults == IOMMU_FAULT_LOG) {
		io->st.faults_dropped++;
		return false;
	}
	struct iommu_fault_rec *r = &io->faults[io->nfaults++];
	memset(r, 0, sizeof(*r));
	r->iova = iova;
	r->sid = sid;
	r->did = did;
	r->reason = (uint8_t)f;
	r->hw_reason = hw_reason;
	r->write = write;
	return true;
}

void iommu_env_judge(struct iommu *io, struct iommu_xlate *r, uint16_t did, uint64_t iova,
                     bool np, uint64_t pa_base, unsigned size_log2, unsigned perm)
{
	uint64_t pa = np ? 0 : pa_base + (iova & ((1ull << size_log2) - 1));
	struct ioenv_verdict v = ioenv_check(&io->env, did, iova, np, pa, np ? 0 : perm);
	r->env_stale = v.may_stale;
	r->env_pa = v.stale_pa;
}
