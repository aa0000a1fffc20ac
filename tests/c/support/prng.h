/* A small deterministic PRNG for the tests: splitmix64 to expand the seed,
 * xorshift64* for the stream.  Never seeded from the clock, so a seed
 * reproduces a run exactly. */
#ifndef TESTS_C_SUPPORT_PRNG_H
#define TESTS_C_SUPPORT_PRNG_H

#include <stdint.h>

typedef struct prng {
  uint64_t s;
} prng;

void prng_seed(prng* p, uint64_t seed);
uint64_t prng_next(prng* p);
/* Uniform in [0, n); n must be nonzero. */
uint64_t prng_below(prng* p, uint64_t n);
/* 1 with probability p (0 <= p <= 1). */
int prng_chance(prng* p, double probability);
/* splitmix64 of x: used to derive independent seeds. */
uint64_t prng_mix(uint64_t x);

#endif
