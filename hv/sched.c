/* vCPU pause counts, pause flags and wake-ups (hv/sched.h; Xen's
 * common/schedule.c and domain.c vcpu_pause/vcpu_unpause). */
#include "hv/sched.h"

#include <assert.h>

void hv_vcpu_sched_init(struct hv_vcpu_sched *s)
{
	*s = (struct hv_vcpu_sched){.waitq = HV_NO_WAITQ};
}

enum hv_vcpu_runstate hv_vcpu_runstate(const struct hv_vcpu_sched *s)
{
	if (s->pause_count > 0)
		return HV_PAUSED;
	if (s->pause_flags || s->waitq != HV_NO_WAITQ)
		return HV_BLOCKED;
	return HV_RUNNABLE;
}

bool hv_vcpu_runnable(const struct hv_vcpu_sched *s)
{
	/* A negative count is an accounting bug (reported by ring-hang and
	 * ring-accounting); such a vCPU is not held by a pause. */
	return hv_vcpu_runstate(s) == HV_RUNNABLE;
}

int hv_vcpu_pause(struct hv_vcpu_sched *s)
{
	s->pauses++;
	return ++s->pause_count;
}

int hv_vcpu_unpause(struct hv_vcpu_sched *s)
{
	s->unpauses++;
	return --s->pause_count;
}

void hv_vcpu_mark_sleep(struct hv_vcpu_sched *s, unsigned bit)
{
	assert(bit < 32);
	s->pause_flags |= 1u << bit;
	s->sleeps++;
}

bool hv_vcpu_clear_wake(struct hv_vcpu_sched *s, unsigned bit)
{
	assert(bit < 32);
	if (!(s->pause_flags & (1u << bit)))
		return false;
	s->pause_flags &= ~(1u << bit);
	s->wakes++;
	return true;
}

const char *hv_vcpu_runstate_name(enum hv_vcpu_runstate st)
{
	static const char *const n[] = {"runnable", "blocked", "paused"};
	return (unsigned)st < 3 ? n[st] : "?";
}
