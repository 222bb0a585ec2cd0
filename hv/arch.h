/* The arch interface: the hypervisor core's ONLY way to the hardware.
 *
 * hv/ is hypervisor code. It knows nothing of YAML, SQLite or the
 * simulator: everything it does to the machine goes through this table of
 * operations, the equivalent of `mov %cr3`, `invlpg`, `invpcid`, `clflush`,
 * `wbinvd`, `rdtsc`, an IPI, and loads and stores of physical memory. A
 * platform binding (runner/platform.c for the simulator) fills it in; a
 * user can bind their own hypervisor core to the same table.
 *
 * Every operation names the CPU it runs on: the hypervisor code runs on
 * that CPU, and the platform charges the CPU's time.
 */
#ifndef HVSIM_HV_ARCH_H
#define HVSIM_HV_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#define HV_MAX_CPUS 256
#define HV_NO_FRAME UINT64_MAX

/* A set of CPUs. */
struct hv_cpumask {
	uint64_t bits[HV_MAX_CPUS / 64];
};

static inline void hv_cpumask_set(struct hv_cpumask *m, unsigned cpu)
{
	m->bits[cpu / 64] |= 1ull << (cpu % 64);
}

static inline bool hv_cpumask_test(const struct hv_cpumask *m, unsigned cpu)
{
	return (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

enum hv_iommu_hw { HV_IOMMU_HW_NONE = 0, HV_IOMMU_HW_VTD = 1, HV_IOMMU_HW_AMD = 2 };
struct hv_time_rec;

/* A cross-CPU call's handler: runs on `cpu` in interrupt context. */
typedef void (*hv_ipi_fn)(void *hv, unsigned cpu, void *arg);

struct hv_arch {
	void *ctx;
	unsigned ncpus;

	/* CPUID features the core may use. */
	bool has_pge, has_pcid, has_invpcid, has_page1gb;

	/* Control registers (of the given CPU). A write returns 0 or the
	 * vector of the fault it raised. */
	uint64_t (*read_cr3)(void *ctx, unsigned cpu);
	int (*write_cr3)(void *ctx, unsigned cpu, uint64_t val);
	uint64_t (*read_cr4)(void *ctx, unsigned cpu);
	int (*write_cr4)(void *ctx, unsigned cpu, uint64_t val);

	/* TLB and cache maintenance. */
	int (*invlpg)(void *ctx, unsigned cpu, uint64_t va);
	int (*invpcid)(void *ctx, unsigned cpu, unsigned type, uint64_t pcid, uint64_t va);
	void (*clflush)(void *ctx, unsigned cpu, uint64_t pa);
	void (*wbinvd)(void *ctx, unsigned cpu);
	uint64_t (*rdtsc)(void *ctx, unsigned cpu);

	/* Physical memory: the 64-bit loads and stores page tables need. */
	uint64_t (*read64)(void *ctx, uint64_t pa);
	void (*write64)(void *ctx, unsigned cpu, uint64_t pa, uint64_t val);

	/* Frames for page tables (zeroed); HV_NO_FRAME when none is left. */
	uint64_t (*alloc_frame)(void *ctx, unsigned cpu);
	void (*free_frame)(void *ctx, unsigned cpu, uint64_t pfn);

	/* Runs fn(hv, target, arg) on every CPU in mask other than `from`,
	 * and returns when all have finished (an IPI and its wait). */
	void (*call_ipi)(void *ctx, unsigned from, const struct hv_cpumask *mask, hv_ipi_fn fn,
	                 void *hv, void *arg);

	/* The IOMMU the firmware tables describe (ACPI DMAR: VT-d; IVRS:
	 * AMD-Vi), and its MMIO registers: a 32/64-bit register access at a
	 * byte offset of unit's register page. */
	unsigned iommu_kind; /* enum hv_iommu_hw */
	uint64_t (*iommu_read)(void *ctx, unsigned cpu, unsigned unit, uint32_t off);
	void (*iommu_write)(void *ctx, unsigned cpu, unsigned unit, uint32_t off, uint64_t val);

	/* Names the hypervisor function on whose behalf what follows is done
	 * (recorded with every event; NULL: back to the previous name). */
	void (*caller)(void *ctx, const char *fn);

	/* Time (seed 002, hv/time). The platform timer (HPET-like) counts at
	 * platform_hz; reading it costs the CPU its access time. */
	uint64_t platform_hz;
	uint64_t (*platform_timer)(void *ctx, unsigned cpu);
	/* Spins on cpu until the platform timer reaches count. */
	void (*wait_platform)(void *ctx, unsigned cpu, uint64_t count);
	/* All CPUs meet (each spins until the last arrives), then fn runs on
	 * every CPU at that same moment (Xen's on_selected_cpus rendezvous). */
	void (*rendezvous)(void *ctx, unsigned from, hv_ipi_fn fn, void *hv, void *arg);
	/* Arms cpu's one-shot timer delay_ns from now (replacing any armed
	 * one); when it fires the platform calls hv_time_tick(). */
	void (*set_timer)(void *ctx, unsigned cpu, uint64_t delay_ns);
	/* Trace point: a time record was written (kind TREC_*-like: 0 global,
	 * 1 per-CPU, 2 guest vCPU). */
	void (*time_record)(void *ctx, unsigned cpu, unsigned kind, unsigned id,
	                    const struct hv_time_rec *rec);
};

#endif
