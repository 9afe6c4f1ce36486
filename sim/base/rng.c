#include "rng.h"
#include "dmath.h"

#include <math.h>

#define PCG_MULT 6364136223846793005ULL

static inline uint32_t rotr32(uint32_t x, unsigned r) { return (x >> r) | (x << ((-r) & 31)); }

uint32_t rng_next(rng_t *r) {
    uint64_t old = r->state;
    r->state = old * PCG_MULT + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    return rotr32(xorshifted, (unsigned)(old >> 59u));
}

void rng_seed(rng_t *r, uint64_t seed, uint64_t stream) {
    r->state = 0u;
    r->inc = (stream << 1u) | 1u;
    rng_next(r);
    r->state += seed;
    rng_next(r);
}

uint32_t rng_bounded(rng_t *r, uint32_t bound) {
    /* 2^32 mod bound: values below it would make the low residues more likely, so redraw. */
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t x = rng_next(r);
        if (x >= threshold) return x % bound;
    }
}

/* Brown's "random number generation with arbitrary strides": the affine map
 * s -> MULT*s + inc composed delta times, by squaring. */
void rng_advance(rng_t *r, uint64_t delta) {
    uint64_t cur_mult = PCG_MULT, cur_plus = r->inc;
    uint64_t acc_mult = 1u, acc_plus = 0u;
    while (delta > 0) {
        if (delta & 1u) {
            acc_mult *= cur_mult;
            acc_plus = acc_plus * cur_mult + cur_plus;
        }
        cur_plus = (cur_mult + 1u) * cur_plus;
        cur_mult *= cur_mult;
        delta >>= 1u;
    }
    r->state = acc_mult * r->state + acc_plus;
}

void rng_backstep(rng_t *r, uint64_t n) { rng_advance(r, (uint64_t)0 - n); }

double rng_double(rng_t *r) {
    uint64_t hi = rng_next(r) >> 5; /* 27 bits */
    uint64_t lo = rng_next(r) >> 6; /* 26 bits */
    return (double)((hi << 26) | lo) * (1.0 / 9007199254740992.0);
}

float rng_float(rng_t *r) { return (float)(rng_next(r) >> 8) * (1.0f / 16777216.0f); }

double rng_normal(rng_t *r) {
    double u1 = rng_double(r), u2 = rng_double(r);
    /* 1 - u1 is in (0, 1], so the log is finite. */
    return sqrt(-2.0 * dm_log(1.0 - u1)) * dm_cos2pi(u2);
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

rng_t rng_stream(uint64_t seed, uint32_t purpose, uint64_t iteration, uint64_t index) {
    /* Chain the key through SplitMix64 so every component changes every output bit. */
    uint64_t h = seed;
    uint64_t a = splitmix64(&h);
    h = a ^ ((uint64_t)purpose * 0xD1B54A32D192ED03ULL);
    uint64_t b = splitmix64(&h);
    h = b ^ iteration;
    uint64_t c = splitmix64(&h);
    h = c ^ index;
    uint64_t state_seed = splitmix64(&h);
    uint64_t stream = splitmix64(&h);
    rng_t r;
    rng_seed(&r, state_seed, stream);
    return r;
}
