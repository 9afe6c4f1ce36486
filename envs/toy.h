/* toy: tasks with tiny vocabularies and horizons where every sequence can be enumerated, so the
 * exact value of any policy, the optimum and the optimum of the KL-regularised objective are known
 * (spec/tasks.md, "Toy tasks with exact answers").
 *
 *  - toy_match: V = 3, H = 4, a prompt of one token x in {0,1,2} (uniform over 3 prompts); reward
 *    = fraction of generated tokens equal to a hidden per-prompt target sequence (dense-ish, so
 *    PPO learns it; used for the KL-optimum test).
 *  - toy_lock: the combination lock. V = 4, H = 6, one prompt; reward 1 only for one hidden
 *    sequence, 0 otherwise; from a uniform start P(open) = 4^-6.
 *
 * Toy prompts: `prompt_count` distinct prompts for every split (index taken modulo the count, so
 * splits "share" prompts: the toy world is too small for disjoint splits, and exactness matters
 * more there). Generations always have exactly H tokens (no EOS). */
#ifndef RLGF_TOY_H
#define RLGF_TOY_H

#include "task.h"

/* log pi(next | seq[0..len)) for a policy given as a callback; seq includes the prompt. */
typedef double (*toy_logprob_fn)(void *ctx, const int32_t *seq, int len, int next);

/* Number of distinct prompts of a toy task (1 for toy_lock, 3 for toy_match). */
int toy_prompt_count(const task_t *t);

/* Exact E_x E_{y~pi}[R(x,y)] - beta * E_x KL(pi(.|x) || ref(.|x)) by enumeration, x uniform over
 * the prompts. With beta = 0 (ref may be NULL) it is the policy's exact expected reward. A NULL
 * ref (here and below) means the uniform policy. */
double toy_policy_value(const task_t *t, toy_logprob_fn pi, void *pi_ctx, toy_logprob_fn ref,
                        void *ref_ctx, double beta);
/* Exact optimum of the KL-regularised objective: E_x beta log sum_y ref(y|x) exp(R(x,y)/beta),
 * attained by pi*(y|x) proportional to ref(y|x) exp(R/beta). For beta = 0: E_x max_y R(x,y), the
 * max taken over ref's support (its beta -> 0 limit). */
double toy_kl_optimum(const task_t *t, toy_logprob_fn ref, void *ref_ctx, double beta);

#endif
