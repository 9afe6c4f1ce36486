/* rollout: the engine that generates a batch of trajectories from a roll-in/roll-out plan and
 * scores it (learner log-probs, reference log-probs, critic values).
 *
 * Plan semantics (spec/algorithms.md, "Roll-in / roll-out mixing"), per trajectory j:
 *   1. u ~ Bernoulli(beta) from stream (seed, RNG_ROLLIN, key, j); with no roll-in actor u = 0.
 *   2. if u = 1: the roll-in actor generates a full continuation g (length L) from the prompt;
 *      if L >= 2, k ~ Uniform{1..L-1} from the same stream, else u = 0.
 *      (The reference code generates g even when u = 0; with one stream per purpose skipping it
 *      changes no bits, so we skip the work.)
 *   3. the roll-out actor continues from prompt + g[0..k) (k = 0 without roll-in); the forced
 *      tokens count towards the generation budget.
 * Each actor samples from its own stream (seed, purpose[actor], key, j), so a trajectory's tokens
 * never depend on other trajectories or on threads. Every token records which actor wrote it. */
#ifndef RLGF_ROLLOUT_H
#define RLGF_ROLLOUT_H

#include "../../envs/task.h"
#include "batch.h"
#include "../nn/model.h"
#include "../base/pool.h"
#include "../nn/sample.h"

/* Something that can "continue this prefix": the only interface an algorithm has to a policy or
 * a guide. */
typedef struct {
    const model_t *model;  /* the policy sampled from (for the oracle guide: its base policy) */
    sample_cfg_t sampling;
    double expert_q;       /* oracle guide: each token is the task's expert token w.p. q (one
                              decision draw per token), else sampled from model; 0 = plain policy */
    int top_p_of_top_k;    /* with top_k and top_p both on: top-p counts the mass of the top-k
                              tokens renormalised (Hugging Face generate's TopK then TopP, the
                              reference's guide sampling) instead of the whole distribution's */
} actor_t;

/* The sampling rule actor a applies at these logits (banned: a token excluded, or -1): its own
 * `sampling`, except that with top_p_of_top_k (and top_k, top_p both filtering, temperature > 0)
 * top_p becomes top_p * M_k, M_k the probability mass of the k most likely tokens, so that
 * sample_token's "shortest rank prefix whose mass reaches top_p" is the shortest prefix holding
 * top_p of the top-k distribution renormalised. scratch: sample_scratch_size(V) bytes (its
 * contents are overwritten). No random draw. */
sample_cfg_t actor_sampling_at(const actor_t *a, const float *logits, int V, int banned, void *scratch);

typedef struct {
    int rollin;  /* ACTOR_LEARNER / ACTOR_GUIDE, or -1 for none */
    int rollout; /* ACTOR_LEARNER / ACTOR_GUIDE */
    double beta; /* P(u = 1) */
} rollout_plan_t;

typedef struct rollout_engine rollout_engine_t;

rollout_engine_t *rollout_engine_create(const task_t *task, pool_t *pool, int seq_cap);
void rollout_engine_destroy(rollout_engine_t *e);

/* Allocates, before any work, every worker's workspace for each of the n models (NULL entries are
 * skipped) and the multi-row KV cache for the first n_gen of them (the models that generate): the
 * pool jobs that use them cannot report an allocation failure, so a run reserves them here and
 * gets 0, or -1 when memory ran out. Models not reserved are still created on first use. */
int rollout_engine_reserve(rollout_engine_t *e, const model_t *const *models, int n, int n_gen);

/* Generates b->n trajectories for prompts (split, prompt_index[j]) with actors[ACTOR_LEARNER] and
 * actors[ACTOR_GUIDE] (the latter may be NULL when the plan does not use it). Fills seq,
 * prompt_len, gen_len, actor, u, k, task_reward and metrics. With b->group_size = K > 1 the K
 * trajectories of a group (j / K) share u, k and the roll-in prefix (their roll-in streams are
 * keyed by j / K instead of j). */
void rollout_generate(rollout_engine_t *e, const rollout_plan_t *plan, const actor_t *const actors[2],
                      batch_t *b, int split, const int64_t *prompt_index, uint64_t seed,
                      const uint32_t purpose[2], uint64_t key);

/* Fills b->logp (policy), b->logp_ref (ref, may be NULL) and b->value (critic, may be NULL) with
 * one forward per fixed block of trajectories. */
void rollout_score(rollout_engine_t *e, batch_t *b, const model_t *policy, const model_t *ref,
                   const model_t *critic);

/* Mean per-token negative log-likelihood of the task's reference continuations for validation
 * prompts 0..n-1 under the policy, exp of it is the "policy perplexity on held-out references". */
double rollout_reference_nll(rollout_engine_t *e, const model_t *policy, int split, int n);

/* Generates one continuation of ctx (prompt of prompt_len tokens + forced tokens up to ctx_len)
 * into out; returns its length. The expert (when a->expert_q > 0) sees the generation so far as
 * out - (ctx_len - prompt_len): out must directly follow the forced tokens in memory, as in a
 * batch row (or ctx_len == prompt_len). */
int actor_generate(const actor_t *a, const task_t *task, int split, uint64_t index, model_kv_t *kv,
                   void *scratch, const int32_t *ctx, int prompt_len, int ctx_len, int min_new,
                   int max_new, rng_t *rng, int32_t *out);

#define ROLLOUT_BLOCK 8 /* most trajectories per scoring/update block */

/* The fixed blocks of a phase over n trajectories: ceil(n / ROLLOUT_BLOCK) blocks of sizes as equal
 * as possible, the first n % nblk one larger (28 -> 7,7,7,7; 112 -> 14 x 8). They depend on n only,
 * never on the thread count, so gradients summed per block and then in block order have the same
 * bits with any number of threads; equal sizes keep two threads equally busy. */
static inline int rollout_blocks(int n) { return (n + ROLLOUT_BLOCK - 1) / ROLLOUT_BLOCK; }
static inline void rollout_block_range(int n, int blk, int *i0, int *i1) {
    int nb = rollout_blocks(n), q = n / nb, r = n % nb;
    *i0 = blk * q + (blk < r ? blk : r);
    *i1 = *i0 + q + (blk < r);
}

#endif
