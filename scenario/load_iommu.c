/* The scenario's IOMMU section and ops (issue 6, docs/scenario-format.md
 * "IOMMU and DMA"). Same rules as load.c: every value range-checked here,
 * errors at FILE:LINE:COL naming the field. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "scenario/load_internal.h"

#define IO_MAX_ORDER 18u          /* hv/iommu/iommu.h HV_IOMMU_MAX_ORDER */
#define IO_MAX_PAGES (1ull << 20) /* reassign / hwdom_init / stream pages */
#define IO_MAX_FRAME ((1ull << 40) - 1) /* pa below 2^52 */
#define IO_MAX_IOVA (1ull << 57)  /* below every supported address width */
#define DMA_MAX_LEN (1u << 20)    /* sim/iommu/dma.h */
#define IO_MAX_IOS 10000000ull
#define IO_MAX_PERIOD (1ull << 40)
#define IO_MAX_STREAM (100000000ull)

/* ---- the iommu: section ------------------------------------------------ */

static int io_inject(struct loader *L, const yaml_node_t *n, uint32_t *out)
{
	static const char *const names[] = {"modified_as_added", "modified_as_none",
	                                    "dont_flush_left_set", "flush_type_min",
	                                    "flush_first_page", "pte_flush_kept",
	                                    "ignore_cm", NULL};
	char ip[40];
	int b;
	if (y_want_seq(&L->y, n, "iommu.inject"))
		return -1;
	for (size_t i = 0; i < y_seq_len(n); i++) {
		const yaml_node_t *it = y_seq_item(&L->y, n, i);
		snprintf(ip, sizeof(ip), "iommu.inject[%zu]", i);
		if (y_enum(&L->y, it, ip, names, &b))
			return -1;
		if (*out & (1u << b))
			return y_err(&L->y, it, "%s: listed twice", ip);
		*out |= 1u << b;
	}
	return 0;
}

static int io_geometry(struct loader *L, const yaml_node_t *n, struct sc_iommu *io)
{
	static const char *const keys[] = {"entries", "ways", NULL};
	struct yfields f;
	uint64_t e = 64, w = 4;
	if (y_fields(&L->y, n, "iommu.iotlb", keys, &f))
		return -1;
	if (f.val[0] && y_u64_range(&L->y, f.val[0], "iommu.iotlb.entries", 1, 1u << 16, &e))
		return -1;
	if (f.val[1] && y_u64_range(&L->y, f.val[1], "iommu.iotlb.ways", 1, 64, &w))
		return -1;
	uint64_t sets = e / w;
	if (e % w || (sets & (sets - 1)))
		return y_err(&L->y, n, "iommu.iotlb: %" PRIu64 " entries in %" PRIu64 " ways "
		             "is not a power-of-two number of sets", e, w);
	io->iotlb_entries = (uint32_t)e;
	io->iotlb_ways = (uint32_t)w;
	return 0;
}

static int io_kind(struct loader *L, const struct yfields *f, struct sc_iommu *io)
{
	static const char *const kinds[] = {"vtd", "amd", NULL};
	static const char *const unmaps[] = {"strict", "deferred", NULL};
	int i;
	if (f->val[0]) {
		if (y_enum(&L->y, f->val[0], "iommu.kind", kinds, &i))
			return -1;
		io->kind = i == 0 ? SC_IOMMU_VTD : SC_IOMMU_AMD;
	}
	if (f->val[3]) {
		if (y_enum(&L->y, f->val[3], "iommu.unmap", unmaps, &i))
			return -1;
		io->unmap = i == 0 ? SC_UNMAP_STRICT : SC_UNMAP_DEFERRED;
	}
	if (io->caching_mode && io->kind != SC_IOMMU_VTD)
		return y_err(&L->y, f->val[1], "iommu.caching_mode: a VT-d capability "
		             "(CAP.CM); this IOMMU is amd");
	return 0;
}

int load_iommu(struct loader *L, const yaml_node_t *m)
{
	static const char *const keys[] = {"kind", "caching_mode", "elide", "unmap",
	                                   "deferred_batch", "levels", "iotlb", "inject",
	                                   NULL};
	struct sc_iommu *io = &L->s->iommu;
	struct yfields f;
	uint64_t v;
	if (!m)
		return 0;
	*io = (struct sc_iommu){.enabled = true, .kind = SC_IOMMU_VTD, .elide = true,
	                        .unmap = SC_UNMAP_STRICT, .deferred_batch = 256, .levels = 4};
	if (!L->s->hv.enabled)
		return y_err(&L->y, m, "iommu: needs an hv: section (the hypervisor "
		             "drives the IOMMU)");
	if (y_is_null(m))
		return 0;
	if (y_fields(&L->y, m, "iommu", keys, &f))
		return -1;
	if (f.val[1] && y_bool(&L->y, f.val[1], "iommu.caching_mode", &io->caching_mode))
		return -1;
	if (f.val[2] && y_bool(&L->y, f.val[2], "iommu.elide", &io->elide))
		return -1;
	if (io_kind(L, &f, io))
		return -1;
	if (f.val[4]) {
		if (y_u64_range(&L->y, f.val[4], "iommu.deferred_batch", 1, 1u << 20, &v))
			return -1;
		io->deferred_batch = (uint32_t)v;
	}
	if (f.val[5]) {
		if (y_u64_range(&L->y, f.val[5], "iommu.levels", 3, 4, &v))
			return -1;
		io->levels = (uint32_t)v;
	}
	if (f.val[6] && io_geometry(L, f.val[6], io))
		return -1;
	return f.val[7] ? io_inject(L, f.val[7], &io->inject) : 0;
}

/* ---- ops ---------------------------------------------------------------- */

static int want_iommu(struct loader *L, const struct opctx *o)
{
	if (L->s->iommu.enabled)
		return 0;
	return y_err(&L->y, o->map, "%s: %s needs an iommu: section", o->where, o->name);
}

static int f_io_domain(struct loader *L, const struct opctx *o, uint32_t *d)
{
	if (want_iommu(L, o) || f_u32(L, o, "domain", REQ, 0, UINT32_MAX, d))
		return -1;
	if (*d < L->nio_domains)
		return 0;
	return y_err(&L->y, y_get(&o->f, "domain"), "%s.domain: no I/O domain %" PRIu32
	             " (%" PRIu32 " defined above by io_domain)", o->where, *d,
	             L->nio_domains);
}

/* A PCI requester id: "BB:DD.F" (hex bus and device, function 0-7) or an
 * integer 0..0xffff. */
static int f_device(struct loader *L, const struct opctx *o, uint16_t *sid)
{
	const yaml_node_t *n;
	char p[128];
	if (field(L, o, "device", REQ, &n) < 0)
		return -1;
	y_path(p, sizeof(p), o->where, "device");
	size_t len;
	const char *s = y_scalar(n, &len);
	unsigned bus, dev, fn;
	char tail;
	if (s && len < 16 && memchr(s, ':', len)) {
		char buf[16];
		memcpy(buf, s, len);
		buf[len] = 0;
		if (sscanf(buf, "%2x:%2x.%1u%c", &bus, &dev, &fn, &tail) != 3 || dev > 31 ||
		    fn > 7)
			return y_err(&L->y, n, "%s: '%s' is not a PCI address BB:DD.F (hex bus "
			             "00-ff, device 00-1f, function 0-7)", p, buf);
		*sid = (uint16_t)(bus << 8 | dev << 3 | fn);
		return 0;
	}
	uint64_t v;
	if (y_u64_range(&L->y, n, p, 0, 0xffff, &v))
		return -1;
	*sid = (uint16_t)v;
	return 0;
}

static int io_flags(struct loader *L, const struct opctx *o, uint32_t *out)
{
	const yaml_node_t *n;
	char p[128], ip[160];
	*out = 3; /* readable and writable */
	if (field(L, o, "flags", OPT, &n) <= 0)
		return 0;
	y_path(p, sizeof(p), o->where, "flags");
	if (y_want_seq(&L->y, n, p))
		return -1;
	static const char *const names[] = {"R", "W", NULL};
	*out = 0;
	for (size_t i = 0; i < y_seq_len(n); i++) {
		int b;
		snprintf(ip, sizeof(ip), "%.100s[%zu]", p, i);
		if (y_enum(&L->y, y_seq_item(&L->y, n, i), ip, names, &b))
			return -1;
		*out |= 1u << b;
	}
	if (*out)
		return 0;
	return y_err(&L->y, n, "%s: must include R or W (io_map makes present "
	             "mappings; io_unmap removes them)", p);
}

int parse_io_domain(struct loader *L, const struct opctx *o, struct op *op)
{
	bool hw = false;
	if (want_iommu(L, o) || f_bool(L, o, "hw", &hw))
		return -1;
	if (L->nio_domains >= IO_MAX_DOMAINS)
		return y_err(&L->y, o->map, "%s: too many I/O domains (at most %u)", o->where,
		             IO_MAX_DOMAINS);
	op->io.hw = hw;
	op->domain = L->nio_domains++;
	return 0;
}

int parse_io_assign(struct loader *L, const struct opctx *o, struct op *op)
{
	if (f_io_domain(L, o, &op->domain) || f_device(L, o, &op->io.sid))
		return -1;
	for (uint32_t i = 0; i < L->nio_devices; i++)
		if (L->io_sid[i] == op->io.sid)
			return 0;
	if (L->nio_devices >= IO_MAX_DEVICES)
		return y_err(&L->y, y_get(&o->f, "device"), "%s.device: too many devices "
		             "(at most %u)", o->where, IO_MAX_DEVICES);
	L->io_sid[L->nio_devices++] = op->io.sid;
	return 0;
}

static int f_order(struct loader *L, const struct opctx *o, uint32_t *order)
{
	*order = 0;
	return f_u32(L, o, "order", OPT, 0, IO_MAX_ORDER, order);
}

static int want_aligned(struct loader *L, const struct opctx *o, const char *key, uint64_t fn,
                        uint32_t order)
{
	if ((fn & ((1ull << order) - 1)) == 0)
		return 0;
	return y_err(&L->y, y_get(&o->f, key), "%s.%s: 0x%" PRIx64 " is not aligned to "
	             "the order (%" PRIu32 ": multiples of %" PRIu64 " frames)", o->where,
	             key, fn, order, (uint64_t)1 << order);
}

int parse_io_map(struct loader *L, const struct opctx *o, struct op *op)
{
	if (f_io_domain(L, o, &op->domain) ||
	    f_u64(L, o, "dfn", REQ, 0, (IO_MAX_IOVA >> 12) - 1, &op->io.dfn) ||
	    f_u64(L, o, "mfn", REQ, 0, IO_MAX_FRAME, &op->io.mfn) || f_order(L, o, &op->io.order) ||
	    want_aligned(L, o, "dfn", op->io.dfn, op->io.order) ||
	    want_aligned(L, o, "mfn", op->io.mfn, op->io.order))
		return -1;
	return io_flags(L, o, &op->io.flags);
}

int parse_io_unmap(struct loader *L, const struct opctx *o, struct op *op)
{
	bool fr = false;
	if (f_io_domain(L, o, &op->domain) ||
	    f_u64(L, o, "dfn", REQ, 0, (IO_MAX_IOVA >> 12) - 1, &op->io.dfn) ||
	    f_order(L, o, &op->io.order) || want_aligned(L, o, "dfn", op->io.dfn, op->io.order) ||
	    f_bool(L, o, "free", &fr))
		return -1;
	op->io.free = fr;
	return 0;
}

static int f_frame_pa(struct loader *L, const struct opctx *o, const char *key, uint64_t *pfn)
{
	uint64_t pa;
	if (f_u64(L, o, key, REQ, 0, IO_MAX_FRAME << 12, &pa))
		return -1;
	if (pa & 0xfff)
		return y_err(&L->y, y_get(&o->f, key), "%s.%s: 0x%" PRIx64 " is not a frame "
		             "address (4k aligned)", o->where, key, pa);
	*pfn = pa >> 12;
	return 0;
}

int parse_io_reassign(struct loader *L, const struct opctx *o, struct op *op)
{
	if (f_io_domain(L, o, &op->domain) || f_frame_pa(L, o, "pa", &op->io.mfn))
		return -1;
	return f_u64(L, o, "pages", REQ, 1, IO_MAX_PAGES, &op->io.pages);
}

int parse_io_hwdom_init(struct loader *L, const struct opctx *o, struct op *op)
{
	if (f_io_domain(L, o, &op->domain) || f_u64(L, o, "pfn", REQ, 0, IO_MAX_FRAME, &op->io.mfn) ||
	    f_u64(L, o, "pages", REQ, 1, IO_MAX_PAGES, &op->io.pages))
		return -1;
	op->io.dfn = op->io.mfn;
	return 0;
}

int parse_io_flush(struct loader *L, const struct opctx *o, struct op *op)
{
	return f_io_domain(L, o, &op->domain);
}

/* The device must have been assigned above: DMA from a device the
 * hypervisor never saw is a scenario error, not a fault to model. */
static int f_assigned(struct loader *L, const struct opctx *o, uint16_t *sid)
{
	if (want_iommu(L, o) || f_device(L, o, sid))
		return -1;
	for (uint32_t i = 0; i < L->nio_devices; i++)
		if (L->io_sid[i] == *sid)
			return 0;
	return y_err(&L->y, y_get(&o->f, "device"), "%s.device: %02x:%02x.%u is not "
	             "assigned to an I/O domain above (io_assign)", o->where, *sid >> 8,
	             (*sid >> 3) & 31, *sid & 7);
}

static int f_write(struct loader *L, const struct opctx *o, struct op *op)
{
	bool w = false;
	if (f_bool(L, o, "write", &w))
		return -1;
	op->io.write = w;
	return 0;
}

int parse_dma(struct loader *L, const struct opctx *o, struct op *op)
{
	static const char *const names[] = {"any", "ok", "fault", NULL};
	const yaml_node_t *n;
	char p[128];
	int e;
	op->io.len = 4096;
	if (f_assigned(L, o, &op->io.sid) ||
	    f_u64(L, o, "iova", REQ, 0, IO_MAX_IOVA - 1, &op->io.iova) ||
	    f_u32(L, o, "len", OPT, 1, DMA_MAX_LEN, &op->io.len) || f_write(L, o, op))
		return -1;
	if (field(L, o, "result", OPT, &n) <= 0)
		return 0;
	y_path(p, sizeof(p), o->where, "result");
	if (y_enum(&L->y, n, p, names, &e))
		return -1;
	op->io.expect = (uint8_t)e;
	return 0;
}

int parse_dma_stream(struct loader *L, const struct opctx *o, struct op *op)
{
	op->io.len = 4096;
	if (f_assigned(L, o, &op->io.sid) ||
	    f_u64(L, o, "iova", REQ, 0, IO_MAX_IOVA - 1, &op->io.iova) ||
	    f_u64(L, o, "pages", REQ, 1, IO_MAX_PAGES, &op->io.pages) ||
	    f_u32(L, o, "len", OPT, 1, DMA_MAX_LEN, &op->io.len) ||
	    f_u64(L, o, "period", REQ, 1, IO_MAX_PERIOD, &op->io.period) ||
	    f_u64(L, o, "count", REQ, 1, IO_MAX_STREAM, &op->io.count) || f_write(L, o, op))
		return -1;
	return 0;
}

int parse_io_workload(struct loader *L, const struct opctx *o, struct op *op)
{
	op->io.len = 4096;
	op->io.window = 512;
	if (f_io_domain(L, o, &op->domain) || f_assigned(L, o, &op->io.sid) ||
	    f_u64(L, o, "dfn", REQ, 0, (IO_MAX_IOVA >> 12) - 1, &op->io.dfn) ||
	    f_u64(L, o, "mfn", REQ, 0, IO_MAX_FRAME, &op->io.mfn) ||
	    f_u64(L, o, "ios", REQ, 1, IO_MAX_IOS, &op->io.ios) || f_order(L, o, &op->io.order) ||
	    want_aligned(L, o, "dfn", op->io.dfn, op->io.order) ||
	    want_aligned(L, o, "mfn", op->io.mfn, op->io.order) ||
	    f_u32(L, o, "len", OPT, 1, DMA_MAX_LEN, &op->io.len) ||
	    f_u64(L, o, "window", OPT, 1, 1u << 16, &op->io.window) ||
	    f_u64(L, o, "cpu_cycles", OPT, 0, 1u << 30, &op->io.cpu_cycles))
		return -1;
	op->io.flags = 3;
	return 0;
}
