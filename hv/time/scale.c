/* TSC-to-ns scaling (hv/time/scale.h). */
#include "hv/time/scale.h"

#include <assert.h>

__extension__ typedef unsigned __int128 u128;

uint64_t hv_time_scale_delta(uint64_t delta, const struct hv_time_scale *s)
{
	assert(s->shift >= -31 && s->shift <= 31);
	u128 d = delta;
	if (s->shift >= 0)
		d <<= s->shift;
	else
		d >>= -s->shift;
	u128 ns = (d * s->mul_frac) >> 32;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

bool hv_time_scale_set(struct hv_time_scale *s, uint64_t ns_hi, uint64_t ns_lo,
                       uint64_t ticks_hi, uint64_t ticks_lo)
{
	u128 ns = (u128)ns_hi << 64 | ns_lo;
	u128 ticks = (u128)ticks_hi << 64 | ticks_lo;
	if (!ns || !ticks)
		return false;
	/* Find shift with ns / (ticks << shift) in [1/2, 1): mul_frac is then
	 * that ratio times 2^32. Bounded: at most 32 steps each way. */
	int shift = 0;
	while (ns >= ticks) {
		if (shift == 31 || ticks >> 126)
			return false;
		ticks <<= 1;
		shift++;
	}
	while (ns < ticks / 2 + (ticks & 1)) {
		if (shift == -31)
			return false;
		if (ns >> 126)
			return false;
		ns <<= 1;
		shift--;
	}
	/* ns in [ticks/2, ticks): the quotient fits 32 bits. Guard the
	 * product against overflow by reducing both sides. */
	while (ns >> 95) {
		ns >>= 1;
		ticks >>= 1;
	}
	u128 frac = (ns << 32) / ticks;
	assert(frac >= (1ull << 31) - 1 && frac <= UINT32_MAX);
	s->mul_frac = (uint32_t)frac;
	s->shift = shift;
	return true;
}

uint64_t hv_time_extrapolate(uint64_t system_time, uint64_t stamp, uint64_t tsc,
                             const struct hv_time_scale *s)
{
	if (tsc >= stamp)
		return system_time + hv_time_scale_delta(tsc - stamp, s);
	uint64_t back = hv_time_scale_delta(stamp - tsc, s);
	return back > system_time ? 0 : system_time - back;
}
