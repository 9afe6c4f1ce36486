/* rng: PCG32 (setseq XSH-RR 64/32, O'Neill's pcg32) and the derivation of independent streams.
 *
 * Determinism contract: every random draw in rlgf comes from a stream made by rng_stream() from
 * (seed, purpose, iteration, index), so no draw depends on scheduling or on how many draws some
 * other part of the program made. Matches tests/vectors/pcg32.txt (the PCG reference library) line for line. */
#ifndef RLGF_RNG_H
#define RLGF_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
    uint64_t inc; /* always odd */
} rng_t;

/* What a stream is for; part of the stream key, so adding a purpose never moves existing bits.
 * Values are fixed forever: append new ones at the end. */
typedef enum {
    RNG_INIT_POLICY = 1,  /* policy weight initialisation */
    RNG_INIT_CRITIC = 2,  /* learner critic initialisation (index 1: guide critic) */
    RNG_PROMPTS = 3,      /* which training prompts an iteration uses */
    RNG_ROLLOUT = 4,      /* learner sampling, one stream per (iteration, trajectory) */
    RNG_ROLLIN = 5,       /* roll-in decision u and switch point k, per (iteration, trajectory) */
    RNG_GUIDE = 6,        /* guide sampling, per (iteration, trajectory) */
    RNG_SHUFFLE = 7,      /* minibatch shuffling, per (iteration, epoch) */
    RNG_LOLS = 8,         /* LOLS mode choice, per iteration */
    RNG_EVAL = 9,         /* evaluation sampling, per (evaluation point, prompt) */
    RNG_SL = 10,          /* supervised training order, per epoch */
    RNG_INIT_TABLE = 11,  /* tabular model initialisation (unused while tables start at zero) */
    RNG_EVAL_BASELINE = 12, /* evaluation of the guide (index 1) and pi_ref (index 2), per prompt */
    RNG_REMAX = 13,       /* ReMax's greedy baseline completions, per (iteration, group) */
    RNG_GUIDE_BASELINE = 14, /* guidebase: the guide's baseline completions, per (iteration, group) */
} rng_purpose_t;

/* pcg32_srandom_r(seed, stream) of the reference library. */
void rng_seed(rng_t *r, uint64_t seed, uint64_t stream);
uint32_t rng_next(rng_t *r);
/* Uniform in [0, bound) without modulo bias (the reference library's rejection rule); bound >= 1. */
uint32_t rng_bounded(rng_t *r, uint32_t bound);
/* Jump ahead by delta steps in O(log delta); rng_backstep(r, n) == rng_advance(r, -n). */
void rng_advance(rng_t *r, uint64_t delta);
void rng_backstep(rng_t *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits (two draws). */
double rng_double(rng_t *r);
/* Uniform float in [0, 1) with 24 random bits (one draw). */
float rng_float(rng_t *r);
/* Standard normal by Box-Muller on two rng_double draws (uses libm log/cos/sqrt, which are
 * deterministic for a given libm; only used for weight initialisation). */
double rng_normal(rng_t *r);

/* The stream for (seed, purpose, iteration, index): a SplitMix64 hash of the four values gives the
 * PCG seed and stream selector, so nearby keys give unrelated streams. */
rng_t rng_stream(uint64_t seed, uint32_t purpose, uint64_t iteration, uint64_t index);

#endif
