/* world: the hidden synthetic language every simulated task is written in (spec/tasks.md,
 * "The world"). A pure function of (seed, vocab): built once by world_create, immutable after.
 *
 * The language:
 *  - ids 0..3 are reserved (PAD, BOS, EOS, SEP); ids 4..V-1 are ordinary tokens with Zipf
 *    unigram frequencies u (exponent 1, over a random permutation of ranks). Reserved ids get the
 *    smallest ordinary weight, so every id has u > 0.
 *  - a document has a latent sentiment s in {NEG, POS} (prior 1/2 each) and is a bigram chain
 *    started from BOS (BOS itself is context, not part of the text):
 *        p(next | prev, s) = (1 - WORLD_FLOOR) q_s(next | prev) + WORLD_FLOOR u(next)
 *    q_s is sparse: every id (reserved ones included) has 16..32 successors (fewer for small V)
 *    drawn without replacement by unigram frequency (never prev itself: natural text does not
 *    repeat a word immediately), with Exp(1) base weights c, and
 *        q_s(next | prev) proportional to c(prev, next) exp(gamma sigma_s f(prev) pol(next)),
 *    sigma_POS = +1, sigma_NEG = -1, f(prev) = -1 when prev is a negator else +1, gamma =
 *    WORLD_SENT_SHIFT. pol is the hidden polarity: about 10% of ordinary tokens are +1, 10% -1,
 *    the rest 0; about V/64 frequent tokens are negators ("not": they flip the polarity of the
 *    token right after them). The floor makes every log-probability finite, whatever a policy
 *    writes.
 *  - text sampling (world_sample_next) draws from p conditioned on an ordinary id: a reserved id
 *    (total mass about 4 WORLD_FLOOR / V) is redrawn, so prompts and references never contain
 *    PAD/BOS/EOS/SEP. Their log-probabilities under world_logprob differ from that conditional
 *    by less than 1e-4 per token.
 *
 * Random streams: purposes WORLD_RNG_* below (>= 100, private to envs/, never colliding with
 * sim/base/rng.h's enum), keyed by (seed, purpose, a, b). */
#ifndef RLGF_WORLD_H
#define RLGF_WORLD_H

#include <stdint.h>

#include "../sim/base/err.h"
#include "../sim/base/rng.h"
#include "task.h"

enum { WORLD_PAD = 0, WORLD_BOS = 1, WORLD_EOS = 2, WORLD_SEP = 3, WORLD_N_RESERVED = 4 };
enum { WORLD_NEG = 0, WORLD_POS = 1, WORLD_MIX = 2 }; /* MIX: per-token 1/2-1/2 mixture */

/* rng purposes of envs/ (values fixed forever; append only). */
enum {
    WORLD_RNG_BUILD = 100,       /* world construction: (0, part) */
    WORLD_RNG_IMDB_PROMPT = 101, /* imdb prompt + its latent sentiment: (split, index) */
    WORLD_RNG_IMDB_REF = 102,    /* imdb hidden positive continuation: (split, index) */
    WORLD_RNG_IMDB_CLS = 103,    /* imdb classifier weights: (0, 0) */
    WORLD_RNG_IMDB_CALIB = 104,  /* imdb classifier calibration documents: (i, part) */
    WORLD_RNG_TOY = 105,         /* toy hidden targets: (task kind, prompt) */
    WORLD_RNG_CG_BUILD = 106,    /* commongen concept vocabulary: (0, 0) */
    WORLD_RNG_CG_PROMPT = 107,   /* commongen concept set of a prompt: (split, index) */
    WORLD_RNG_CG_SPLIT = 108,    /* commongen split of a concept set: (packed ids, k | 5th id) */
    WORLD_RNG_CG_REF = 109,      /* commongen hidden references: (split, index) */
    WORLD_RNG_CG_COMPANION = 110,/* commongen fixed CIDEr-D companion sets: (i, part) */
    WORLD_RNG_TLDR_BUILD = 111,  /* tldr topics and reward-model noise: (0, part) */
    WORLD_RNG_TLDR_POST = 112,   /* tldr post + its latent topics: (split, index) */
    WORLD_RNG_TLDR_CALIB = 113,  /* tldr reward/gold normalisation summaries: (i, part) */
};

#define WORLD_FLOOR 0.02      /* unigram smoothing weight */
#define WORLD_SENT_SHIFT 1.5  /* gamma: how strongly sentiment shifts polar tokens */
#define WORLD_MIN_VOCAB 64
#define WORLD_MAX_VOCAB 65536
#define WORLD_MAX_SUCC 32

/* Read-only after world_create. */
typedef struct {
    int vocab;
    double *unigram;    /* [V], sums to 1 */
    double *unigram_cdf;/* [V], cumulative, last = 1 */
    int8_t *polarity;   /* [V] in {-1, 0, +1}; 0 for reserved ids and negators */
    uint8_t *negator;   /* [V] 0/1 */
    int *n_succ;        /* [V] successors per id */
    int32_t *succ;      /* [V][WORLD_MAX_SUCC] successor ids, ascending */
    double *q[2];       /* [V][WORLD_MAX_SUCC] sparse probabilities per sentiment, rows sum to 1 */
} world_t;

/* NULL with a message when vocab is out of [WORLD_MIN_VOCAB, WORLD_MAX_VOCAB]. */
world_t *world_create(uint64_t seed, int vocab, err_t *err);
void world_destroy(world_t *w);

/* p(next | prev, sent) for sent in {WORLD_NEG, WORLD_POS}; WORLD_MIX gives the per-token
 * mixture 0.5 p(.|prev,NEG) + 0.5 p(.|prev,POS). Exact; sums to 1 over next. */
double world_prob(const world_t *w, int sent, int prev, int next);
double world_logprob(const world_t *w, int sent, int prev, int next);

/* log p(text[0..n) | context) under sentiment sent (NEG/POS), where the chain continues after
 * ctx_last (WORLD_BOS for a document start). */
double world_seq_logprob(const world_t *w, int sent, int ctx_last, const int32_t *text, int n);

/* Exact log p(gen | prompt) of the document model with the sentiment marginalised: the prior
 * 1/2-1/2 is updated by the prompt (a document starting after BOS), then
 * log sum_s p(s | prompt) p(gen | prompt, s). */
double world_cond_logprob(const world_t *w, const int32_t *prompt, int plen, const int32_t *gen,
                          int glen);

/* One ordinary token after prev under sentiment sent (NEG/POS); draws from r (a variable number
 * of draws, all from r, so still a pure function of r's key). */
int world_sample_next(const world_t *w, int sent, int prev, rng_t *r);

/* Index of next in prev's successor list, or -1. */
int world_succ_index(const world_t *w, int prev, int next);

/* Task constructors used by task_create (envs/ internal). */
task_t *imdb_task_create(const task_params_t *p, err_t *err);
task_t *toy_task_create(const task_params_t *p, err_t *err);
task_t *commongen_task_create(const task_params_t *p, err_t *err);
task_t *tldr_task_create(const task_params_t *p, err_t *err);

#endif
