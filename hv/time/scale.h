/* TSC-to-nanosecond scaling as the hypervisor and its guests do it
 * (Xen's struct time_scale / the pvclock ABI): ns = ((delta << shift) *
 * mul_frac) >> 32, with a negative shift meaning a right shift. mul_frac
 * is kept in [2^31, 2^32) so that the fraction keeps 31 significant bits.
 *
 * The 128-bit product means no delta overflows (a 64-bit delta times a
 * 32-bit fraction); an unsigned delta that is really negative (a TSC
 * behind the record's stamp, e.g. read on another CPU) must not be scaled
 * as a huge positive number: hv_time_extrapolate takes the sign into
 * account.
 */
#ifndef HVSIM_HV_TIME_SCALE_H
#define HVSIM_HV_TIME_SCALE_H

#include <stdbool.h>
#include <stdint.h>

struct hv_time_scale {
	uint32_t mul_frac;
	int32_t shift; /* -31..31 */
};

/* delta ticks in ns (rounded down). */
uint64_t hv_time_scale_delta(uint64_t delta, const struct hv_time_scale *s);

/* The scale that turns `ticks` into `ns` (both > 0, ns/ticks within
 * 2^-31..2^31). Returns false (scale unchanged) when out of range. The
 * arguments are 128-bit wide as hi:lo pairs so that ratios of products
 * (calibration with an error factor) need no intermediate rounding. */
bool hv_time_scale_set(struct hv_time_scale *s, uint64_t ns_hi, uint64_t ns_lo,
                       uint64_t ticks_hi, uint64_t ticks_lo);
static inline bool hv_time_scale_ratio(struct hv_time_scale *s, uint64_t ns, uint64_t ticks)
{
	return hv_time_scale_set(s, 0, ns, 0, ticks);
}

/* system_time + scale(tsc - stamp), with a TSC behind the stamp giving a
 * time before system_time (never below zero). */
uint64_t hv_time_extrapolate(uint64_t system_time, uint64_t stamp, uint64_t tsc,
                             const struct hv_time_scale *s);

#endif
