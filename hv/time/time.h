/* Hypervisor time (seed 002): calibration of every CPU's TSC against the
 * platform timer, time records, the periodic update, NOW(), and the
 * guest-visible per-vCPU records.
 *
 * A time record is what the seed's time_info_t holds: a TSC stamp, the
 * system time (ns since boot) at that stamp, the TSC-to-ns scale, a
 * version that is odd while the record is being written, and the wall
 * clock (seconds and a sub-second field, microseconds as in the seed's
 * wc_usec). A reader extrapolates system_time + scale(rdtsc - stamp).
 *
 * Modes (hv_time_config.mode):
 *  GLOBAL      one record for the machine, stamped with CPU 0's TSC and
 *              the platform timer on CPU 0's tick; every CPU extrapolates
 *              it with its own TSC (Xen before the seed: full_tsc_irq and
 *              stime_irq).
 *  PERCPU      one record per CPU, calibrated per CPU at boot and carried
 *              forward from its own TSC on its own tick (the seed's
 *              percpu_ticks / setup_percpu_time), never resynchronised.
 *  RENDEZVOUS  per-CPU records recalibrated every period at a cross-CPU
 *              rendezvous against the platform timer: local time warps
 *              forward if it lags master time, and a fast local clock is
 *              slowed down over the next period (Xen's
 *              time_calibration_std_rendezvous and local_time_calibration,
 *              hw-facts §5 [S70]).
 * The optional guest clamp (the guest's last_value, Linux pvclock.c) is
 * guest code: runner/timeops.c.
 *
 * Everything reaches the machine through hv/arch.h: rdtsc, the platform
 * timer, a wait on it, the rendezvous, one-shot timers and the trace point
 * time_record.
 */
#ifndef HVSIM_HV_TIME_TIME_H
#define HVSIM_HV_TIME_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/arch.h"
#include "hv/time/scale.h"

#define HV_TIME_MAX_VCPUS 64
#define HV_TIME_NO_VCPU UINT32_MAX

enum hv_time_mode { HV_TIME_GLOBAL = 0, HV_TIME_PERCPU = 1, HV_TIME_RENDEZVOUS = 2 };

/* Test-only bugs the time properties exist to catch. */
enum hv_time_inject {
	/* The version is not bumped around a record update: a reader that
	 * is interrupted by the update cannot tell. */
	HV_TIME_INJECT_NO_VERSION = 1 << 0,
	/* A guest record refreshed on schedule/migration gets the new system
	 * time but keeps its old TSC stamp. */
	HV_TIME_INJECT_STALE_STAMP = 1 << 1,
	/* The seed's percpu_ticks wall-clock carry: `> 1000000` and
	 * `wc_usec -= 10000000UL`. */
	HV_TIME_INJECT_SEED_WALLCLOCK = 1 << 2,
};

struct hv_time_config {
	enum hv_time_mode mode;
	uint64_t period_ns;     /* periodic update (250 ms seed, 1 s Xen) */
	uint64_t calibrate_ns;  /* boot calibration window (Xen: 50 ms) */
	uint64_t wallclock_sec; /* wall clock at system time 0 */
	uint32_t nvcpus;        /* guest vCPUs with a time record */
	unsigned inject;        /* enum hv_time_inject; tests only */
};

struct hv_time_rec {
	uint32_t version;
	uint32_t wc_usec;       /* sub-second, 0..999999 */
	uint64_t wc_sec;
	uint64_t tsc_stamp;
	uint64_t system_time;   /* ns at tsc_stamp */
	struct hv_time_scale scale;
};

/* Per-CPU calibration state (rendezvous mode). */
struct hv_time_cal {
	uint64_t prev_tsc, prev_master;
};

struct hv_time {
	const struct hv_arch *arch;
	struct hv_time_config cfg;
	struct hv_time_rec global;
	struct hv_time_rec cpu[HV_MAX_CPUS];
	struct hv_time_rec vcpu[HV_TIME_MAX_VCPUS]; /* guest-visible */
	struct hv_time_cal cal[HV_MAX_CPUS];
	uint32_t running[HV_MAX_CPUS]; /* vCPU on each CPU, or HV_TIME_NO_VCPU */
	uint32_t vcpu_cpu[HV_TIME_MAX_VCPUS]; /* where each vCPU last ran */
	uint64_t updates, rendezvous;
};

/* Calibrates every CPU on itself (each spins on its own clock over the
 * window; the seed serialises them with tsc_lock, which only moves the
 * windows apart), sets up the records and arms every CPU's timer.
 * Returns 0 or -EINVAL (configuration or a CPU that cannot be
 * calibrated). */
int hv_time_init(struct hv_time *t, const struct hv_arch *arch, const struct hv_time_config *cfg);

/* The periodic timer fired on cpu: the mode's update, the running vCPU's
 * record refreshed, the timer re-armed. */
void hv_time_tick(struct hv_time *t, unsigned cpu);

/* NOW() on cpu: system time in ns. */
uint64_t hv_time_now(struct hv_time *t, unsigned cpu);

/* Context switch: vcpu runs on cpu from now on (a migration when it last
 * ran elsewhere); its guest record is refreshed from this CPU. */
void hv_time_schedule(struct hv_time *t, unsigned cpu, uint32_t vcpu);

/* The record a CPU's own reads use. */
const struct hv_time_rec *hv_time_cpu_record(const struct hv_time *t, unsigned cpu);

/* Wall clock of a record's system time. */
void hv_time_wallclock(const struct hv_time *t, uint64_t system_time, uint64_t *sec,
                       uint32_t *usec);

#endif
