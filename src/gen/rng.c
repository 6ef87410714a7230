/*
** rng.c -- the generator's only source of randomness: xoshiro256**,
** seeded by splitmix64, plus Gaussian (Box-Muller) and Poisson draws.  The
** same seed gives the same stream on every machine.
*/
#include <math.h>

#include "gen/gen_int.h"

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void rsim__rng_seed(rsim__rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rsim__rng_next(rsim__rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double rsim__rng_uniform(rsim__rng *r) { return (double)(rsim__rng_next(r) >> 11) * 0x1.0p-53; }

double rsim__rng_gauss(rsim__rng *r) {
  double u1 = rsim__rng_uniform(r), u2 = rsim__rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int rsim__rng_poisson(rsim__rng *r, double mean) {
  double l = exp(-mean), p = 1.0;
  int k = 0;
  do {
    k++;
    p *= rsim__rng_uniform(r);
  } while (p > l && k < 100);
  return k - 1;
}
