/* ppo: the PPO machinery every RL algorithm reuses (spec/algorithms.md, "PPO"): shaped rewards,
 * GAE, and the clipped policy / clipped value / entropy / target-NLL update over minibatches of
 * whole trajectories. Algorithms differ only in the batch's masks (pmask, vmask), which critic
 * they pass, and the plan that generated the batch. */
#ifndef RLGF_PPO_H
#define RLGF_PPO_H

#include "../../envs/task.h"
#include "batch.h"
#include "../nn/model.h"
#include "../nn/optim.h"
#include "../base/pool.h"

typedef struct {
    double gamma, lambda;
    double clip, vf_clip;
    int value_clip;
    double vf_coef, ent_coef, tgt_coef;
    int norm_adv;
    double target_kl; /* 0 = off */
    int epochs, minibatch;
    double grad_clip;
    float weight_decay, adam_eps;
} ppo_params_t;

/* The loss knobs of sim/estimators.h; all zero (a new trainer's) = today's PPO loss. */
typedef struct {
    int loss_agg;        /* AGG_*: policy-loss aggregation */
    double agg_len;      /* H of seq_mean_token_sum_norm: the task's maximum generation length */
    double clip_high;    /* > 0: upper ratio clip 1 + clip_high (DAPO); 0 = clip */
    int kl_loss_est;     /* KL_K*: estimator of the KL-in-the-loss term */
    double kl_loss_beta; /* > 0: loss + beta * agg(k(logp, logp_ref)) on trained tokens */
} ppo_loss_opts_t;

typedef struct {
    double policy_loss, value_loss, entropy, target_loss;
    double approx_kl, clip_frac, vclip_frac, explained_var, grad_norm;
    int epochs_run, steps;
} ppo_stats_t;

/* r_t = R [t = L-1] - beta_kl * (logp_t - logp_ref_t) on tokens where the KL applies (learner
 * tokens; guide tokens too when kl_on_guide), then GAE(gamma, lambda) over the whole generated
 * sequence with V past the end = 0: fills reward, advantage, returns and ret (sum of r_t). */
void ppo_rewards_and_gae(batch_t *b, double beta_kl, int kl_on_guide, double gamma, double lambda);

/* Mean over trajectories of the summed kl_t over learner-written tokens (the KL controller's
 * input and the logged "kl"). */
double ppo_mean_kl(const batch_t *b);

typedef struct ppo_trainer ppo_trainer_t;

ppo_trainer_t *ppo_trainer_create(const task_t *task, pool_t *pool, int seq_cap);
/* Allocates every worker's workspace for each of the n models (policy, critics; NULL entries are
 * skipped) before any update: 0, or -1 when memory ran out (the pool jobs that use them cannot
 * report it). Models not reserved are still created on first use. */
int ppo_trainer_reserve(ppo_trainer_t *t, const model_t *const *models, int n);
void ppo_trainer_destroy(ppo_trainer_t *t);
/* Sets the loss knobs for the following updates. */
void ppo_set_loss_opts(ppo_trainer_t *t, const ppo_loss_opts_t *o);

typedef struct {
    double N, NV, Nref; /* tokens with policy loss, value loss, reference tokens */
    int use_critic;
    double policy_loss, entropy, approx_kl, clip_frac, value_loss, vclip_frac, target_loss;
    double kl_loss; /* agg(k) of the KL-in-the-loss term (before kl_loss_beta) */
} ppo_mb_stats_t;

/* Per-batch preparation (reference lengths for the target loss); ppo_update calls it. */
void ppo_prepare_batch(ppo_trainer_t *t, const batch_t *b, const ppo_params_t *p);
/* Loss and gradients of one minibatch (trajectories idx[0..count)): sets policy->grads (and
 * critic->grads when the minibatch has value-loss tokens) and returns
 * L = L_pg - c_ent H + c_V L_V + c_tgt L_tgt (+ kl_loss_beta L_KL). Exposed for gradient checks. */
double ppo_minibatch_grad(ppo_trainer_t *t, const batch_t *b, const ppo_params_t *p, model_t *policy,
                          model_t *critic, const int *idx, int count, ppo_mb_stats_t *ms);

/* One iteration's update: epochs x minibatches, one AdamW step each on policy and critic
 * (critic may be NULL: no value loss). Shuffling from (seed, RNG_SHUFFLE, iteration, epoch).
 * *policy_step / *critic_step count AdamW steps (bias correction). */
void ppo_update(ppo_trainer_t *t, batch_t *b, const ppo_params_t *p, float lr, model_t *policy,
                model_t *critic, long *policy_step, long *critic_step, uint64_t seed, int iteration,
                ppo_stats_t *out);

#endif
