/* What the scenario loader's parts share (scenario/load.c, the op table
 * and the top level; scenario/load_iommu.c, the IOMMU section and ops).
 * Not a public interface: scenario/scenario.h is. */
#ifndef HVSIM_SCENARIO_LOAD_INTERNAL_H
#define HVSIM_SCENARIO_LOAD_INTERNAL_H

#include "scenario/scenario.h"
#include "scenario/yaml_node.h"

#ifndef PV_MAX_DOMAINS
#define PV_MAX_DOMAINS 16u
#endif
#define IO_MAX_DOMAINS 64u /* hv/iommu/iommu.h HV_IOMMU_MAX_DOMAINS */
#define IO_MAX_DEVICES 64u /* sim/iommu/dma.h DMA_MAX_DEVICES */

struct loader {
	struct yctx y;
	struct scenario *s;
	uint64_t budget;     /* ops (ipi run ops included) still allowed */
	uint32_t roots_cap;
	uint32_t ndomains;   /* domain ops so far (ids 0..ndomains-1) */
	uint32_t dom_vcpus[PV_MAX_DOMAINS];
	uint32_t nio_domains;  /* io_domain ops so far */
	uint32_t nio_devices;  /* distinct devices assigned so far */
	uint16_t io_sid[IO_MAX_DEVICES];
	int vcpu_cpu[PV_MAX_DOMAINS][8]; /* vm_event: a vCPU's pinned pCPU + 1
	                                    (8: hv/pv/pv.h HV_MAX_VCPUS) */
};

/* The op being parsed. */
struct opctx {
	const yaml_node_t *map;
	const char *where;   /* "ops[3]" or "ops[3].run[0]" */
	const char *name;    /* op name, for messages */
	bool sub;            /* inside an ipi run */
	struct yfields f;
};

struct op_spec {
	const char *name;
	enum op_kind kind;
	bool in_ipi;               /* allowed inside an ipi run */
	const char *const *keys;   /* own fields, NULL-terminated */
	int (*parse)(struct loader *L, const struct opctx *o, struct op *op);
};

enum { OPT = 0, REQ = 1 };

/* 1: present (*n set); 0: absent and optional; -1: absent but required
 * (reported at the op). */
int field(struct loader *L, const struct opctx *o, const char *name, int req,
          const yaml_node_t **n);
int f_u64(struct loader *L, const struct opctx *o, const char *name, int req, uint64_t lo,
          uint64_t hi, uint64_t *out);
int f_u32(struct loader *L, const struct opctx *o, const char *name, int req, uint32_t lo,
          uint32_t hi, uint32_t *out);
int f_bool(struct loader *L, const struct opctx *o, const char *name, bool *out);
/* The hv ops need an hv: section (load_top reads it before ops). */
int want_hv(struct loader *L, const struct opctx *o);

/* scenario/load_iommu.c */
int load_iommu(struct loader *L, const yaml_node_t *m);
int parse_io_domain(struct loader *L, const struct opctx *o, struct op *op);
int parse_io_assign(struct loader *L, const struct opctx *o, struct op *op);
int parse_io_map(struct loader *L, const struct opctx *o, struct op *op);
int parse_io_unmap(struct loader *L, const struct opctx *o, struct op *op);
int parse_io_reassign(struct loader *L, const struct opctx *o, struct op *op);
int parse_io_hwdom_init(struct loader *L, const struct opctx *o, struct op *op);
int parse_io_flush(struct loader *L, const struct opctx *o, struct op *op);
int parse_dma(struct loader *L, const struct opctx *o, struct op *op);
int parse_dma_stream(struct loader *L, const struct opctx *o, struct op *op);
int parse_io_workload(struct loader *L, const struct opctx *o, struct op *op);

#endif
