/* vCPU run states and the pause/sleep/wake primitives the vm_event rings
 * need (seed 004; Xen's sched.h pause_count / pause_flags, vcpu_pause,
 * vcpu_unpause, vcpu_sleep_nosync, vcpu_wake).
 *
 * A vCPU runs only when nothing holds it: its pause count is zero (every
 * vcpu_pause is matched by one vcpu_unpause), no pause flag is set (a
 * flag marks "asleep because ring R has no listener" or, before the seed,
 * "paused because ring R was full") and it is not on a wait queue. The
 * platform's scheduler (runner/) runs a vCPU's work only while
 * hv_vcpu_runnable() holds. Header-only state; hv/sched.c the operations.
 */
#ifndef HVSIM_HV_SCHED_H
#define HVSIM_HV_SCHED_H

#include <stdbool.h>
#include <stdint.h>

enum hv_vcpu_runstate {
	HV_RUNNABLE = 0, /* may run (running when its pCPU executes it) */
	HV_BLOCKED = 1,  /* asleep: on a wait queue or a pause flag set */
	HV_PAUSED = 2,   /* pause count > 0 */
};

/* Wait-queue membership: which ring's queue (-1: none). */
#define HV_NO_WAITQ (-1)

struct hv_vcpu_sched {
	int pause_count;      /* signed: an unbalanced unpause shows as < 0 */
	uint32_t pause_flags; /* bit per ring (_VPF_mem_paging, ...) */
	int waitq;            /* ring index whose wait queue holds it */
	uint64_t pauses, unpauses, sleeps, wakes; /* statistics */
};

void hv_vcpu_sched_init(struct hv_vcpu_sched *s);
enum hv_vcpu_runstate hv_vcpu_runstate(const struct hv_vcpu_sched *s);
bool hv_vcpu_runnable(const struct hv_vcpu_sched *s);
/* vcpu_pause / vcpu_unpause: the count; returns the new count. */
int hv_vcpu_pause(struct hv_vcpu_sched *s);
int hv_vcpu_unpause(struct hv_vcpu_sched *s);
/* set_bit + vcpu_sleep_nosync; test_and_clear_bit + vcpu_wake (returns
 * whether the bit was set). */
void hv_vcpu_mark_sleep(struct hv_vcpu_sched *s, unsigned bit);
bool hv_vcpu_clear_wake(struct hv_vcpu_sched *s, unsigned bit);
const char *hv_vcpu_runstate_name(enum hv_vcpu_runstate st);

#endif
