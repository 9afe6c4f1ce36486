/* GRPO (Shao et al., "DeepSeekMath", arXiv 2402.03300, sec. 4.1; Dr. GRPO: Liu et al.,
 * "Understanding R1-Zero-Like Training", arXiv 2503.20783; clip-higher: Yu et al., "DAPO",
 * arXiv 2503.14476).
 * - Group: group.size = K completions of each prompt; R_i their sequence rewards (KL-shaped when
 *   kl.placement = reward).
 * - Advantage of every learner token of completion i: (R_i - mean_group R) / (std + 1e-4), std the
 *   unbiased standard deviation of the group (grpo.scale = group, the paper), of the batch
 *   (= batch), or no division (= none: Dr. GRPO, which also uses loss.agg =
 *   seq_mean_token_sum_norm). A group of equal rewards has advantage 0.
 * - Update: the PPO clipped surrogate for ppo.epochs passes over minibatches, ratio clipped to
 *   [1 - ppo.clip, 1 + ppo.clip_high] (clip_high = -1: symmetric); no critic. The paper's KL
 *   term is kl.placement = loss with kl.estimator = k3. */
#include "algo.h"
#include "../sim/rl/estimators.h"

static void grpo_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)it;
    algo_spec_critic_free(cfg, EST_GRPO, spec);
}

const algo_t algo_grpo = {"grpo", "GRPO: group-normalised advantages, PPO clip, no critic", 0, NULL, grpo_iteration};
