/* estimators: the critic-free advantage estimators, Schulman's KL estimators and the policy-loss
 * aggregation modes every algorithm can use (README, "Critic-free algorithms, KL and loss knobs").
 *
 * Sequence-level reward of trajectory i (KL in the reward, beta = kl.beta):
 *   R_i = task_reward_i - beta * sum_{t: KL applies} k(logp_t, logp_ref_t)
 * (stored as per-token rewards r_t = -beta k_t, + task_reward on the last token; ret_i = R_i).
 * Advantage A_i = s_i (R_i - b_i), broadcast to every generated token of the sequence (the masks
 * decide which of them are trained):
 *   grpo:      b_i = mean of the group's R; s_i = 1/(std + 1e-4), std the unbiased (K-1) standard
 *              deviation of the group (scale=group) or of the whole batch (scale=batch); s_i = 1
 *              for scale=none (Dr. GRPO). A group whose R are all equal, or K = 1, gives A = 0.
 *   rloo:      b_i = mean of the other K-1 R of the group (K >= 2).
 *   reinforce: b_i = the batch mean of R (baseline=mean) or 0 (baseline=none).
 *   remax:     b_i = R of the policy's greedy completion of the same prompt (and, under guide
 *              roll-ins, of the same guide prefix).
 *   guidebase: b_i = R of the guide's own sampled completion of the same prompt (under guide
 *              roll-ins: of the same guide prefix), KL-shaped with the learner's log-probabilities
 *              as if the learner had written it: a one-sample estimate of the guide's value of
 *              the restart state (AggreVaTeD's cost-to-go) as a baseline.
 *
 * KL estimators of KL(pi || pi_ref) per sampled token, with log rho = logp_ref - logp:
 *   k1 = -log rho,  k2 = (log rho)^2 / 2,  k3 = (rho - 1) - log rho.
 * Their derivatives in logp (the KL-in-the-loss gradient, the sample held fixed):
 *   dk1 = 1,  dk2 = logp - logp_ref,  dk3 = 1 - rho.
 *
 * Loss aggregation over a minibatch with N trained tokens, S sequences with >= 1 trained token,
 * L_i trained tokens in sequence i and the task's maximum generation length H: each trained token
 * of sequence i has weight w = 1/N (token_mean), 1/(S L_i) (seq_mean_token_mean) or 1/(S H)
 * (seq_mean_token_sum_norm). */
#ifndef RLGF_ESTIMATORS_H
#define RLGF_ESTIMATORS_H

#include "batch.h"
#include "../base/config.h"
#include "../base/err.h"
#include "../nn/model.h"
#include "rollout.h"

enum { EST_GAE = 0, EST_GRPO = 1, EST_RLOO = 2, EST_REINFORCE = 3, EST_REMAX = 4, EST_GUIDE = 5 };
enum { KL_K1 = 0, KL_K2 = 1, KL_K3 = 2 };
enum { KL_IN_REWARD = 0, KL_IN_LOSS = 1 };
enum { AGG_TOKEN_MEAN = 0, AGG_SEQ_MEAN_TOKEN_MEAN = 1, AGG_SEQ_MEAN_TOKEN_SUM_NORM = 2 };
enum { SCALE_GROUP = 0, SCALE_BATCH = 1, SCALE_NONE = 2 };
enum { BASELINE_MEAN = 0, BASELINE_NONE = 1 };

#define EST_STD_EPS 1e-4 /* GRPO: A = (R - mean) / (std + eps), as TRL */

/* The knobs of a config, parsed once. */
typedef struct {
    int group;      /* K */
    int kl_est;     /* KL_K* */
    int placement;  /* KL_IN_* */
    int agg;        /* AGG_* */
    int scale;      /* SCALE_* (grpo) */
    int baseline;   /* BASELINE_* (reinforce) */
} est_opts_t;

est_opts_t est_opts(const config_t *cfg);

double est_kl(int estimator, double logp, double logp_ref);
double est_kl_dlogp(int estimator, double logp, double logp_ref);

/* Weight of one trained token (see above). */
double est_token_weight(int agg, double N, double S, double L_i, double H);

/* Per-token rewards r_t = -beta k_t on tokens where the KL applies (learner tokens; guide tokens
 * too when kl_on_guide) + R on the last, then GAE(gamma, lambda): ppo_rewards_and_gae with the
 * choice of estimator (k1 gives its bits). */
void est_rewards_and_gae(batch_t *b, double beta, int kl_on_guide, int kl_est, double gamma, double lambda);

/* Sequence rewards: per-token rewards as above, ret_i = R_i (their sum), value = 0. */
void est_sequence_rewards(batch_t *b, double beta, int kl_on_guide, int kl_est);

/* Baselines and advantages of a critic-free estimator from b->ret (the R_i), groups of K
 * consecutive trajectories: fills b->baseline, b->advantage (broadcast), b->returns (= A).
 * remax_R: per group, the greedy (EST_REMAX) or guide (EST_GUIDE) completion's R. */
void est_advantages(batch_t *b, int estimator, int K, int scale, int baseline, const double *remax_R);

/* ReMax: the policy's greedy completion of each group's prompt (the same guide prefix as the
 * group when the plan rolls in: the same roll-in streams), scored, into gb (capacity >= n/K),
 * and its sequence reward per group into R_out. */
void est_remax_baselines(rollout_engine_t *e, const rollout_plan_t *plan, const actor_t *learner,
                         const actor_t *guide, batch_t *gb, int n_groups, const int64_t *group_prompt,
                         uint64_t seed, uint64_t key, const model_t *policy, const model_t *ref,
                         double beta, int kl_on_guide, int kl_est, double *R_out);

/* guidebase: the guide's own completion of each group's restart state (prompt + the group's guide
 * prefix when the plan rolls in), sampled from its own stream (RNG_GUIDE_BASELINE), scored and
 * KL-shaped as if the learner had written it; R_out gets its sequence reward per group. */
void est_guide_baselines(rollout_engine_t *e, const rollout_plan_t *plan, const actor_t *guide, batch_t *gb,
                         int n_groups, const int64_t *group_prompt, uint64_t seed, uint64_t key,
                         const model_t *policy, const model_t *ref, double beta, int kl_on_guide, int kl_est,
                         double *R_out);

#endif
