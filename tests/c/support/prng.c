#include "prng.h"

uint64_t prng_mix(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void prng_seed(prng* p, uint64_t seed) {
  p->s = prng_mix(seed);
  /* xorshift has one fixed point: the all-zero state. */
  if (p->s == 0) p->s = 0x2545f4914f6cdd1dULL;
}

uint64_t prng_next(prng* p) {
  uint64_t x = p->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  p->s = x;
  return x * 0x2545f4914f6cdd1dULL;
}

uint64_t prng_below(prng* p, uint64_t n) { return prng_next(p) % n; }

int prng_chance(prng* p, double probability) {
  if (probability <= 0.0) return 0;
  /* 53 random bits give a uniform double in [0, 1). */
  return (double)(prng_next(p) >> 11) * (1.0 / 9007199254740992.0) < probability;
}
