/* The libFuzzer harnesses' shared body (fuzz/fuzz_TARGET.c): libFuzzer's
 * bytes go through the same decoder as the campaign's PRNG bytes. */
#ifndef HVSIM_FUZZ_ENGINE_HARNESS_H
#define HVSIM_FUZZ_ENGINE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

/* Decodes data into a case of the named target and runs it; aborts (a
 * libFuzzer crash) when the decoder fails or gives an invalid case, when
 * the case's YAML does not load back to the same run, or when a property
 * is violated -- unless the environment variable HVSIM_FUZZ_KNOWN lists
 * that property ("a,b,..."): a known, reported failure the smoke run must
 * not stop at. Returns 0. */
int fz_harness_one(const char *target, const uint8_t *data, size_t size);

#endif
