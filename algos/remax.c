/* ReMax (Li et al., "ReMax: A Simple, Effective, and Efficient Reinforcement Learning Method for
 * Aligning Large Language Models", arXiv 2310.10505).
 * - Baseline of every completion of a prompt: the sequence reward R of the policy's own greedy
 *   (argmax) completion of that prompt, generated from the rollout-time policy with its own
 *   stream (RNG_REMAX) and KL-shaped like the samples. Under guide roll-ins the greedy completion
 *   continues the same guide prefix as the group: a baseline of the restart state.
 * - Advantage of every learner token of trajectory i: R_i - R_greedy. The greedy completion does
 *   not depend on the sample y_i, so the estimator is unbiased.
 * - Update: the shared PPO machinery; no critic. */
#include "algo.h"
#include "../sim/rl/estimators.h"

static void remax_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)it;
    algo_spec_critic_free(cfg, EST_REMAX, spec);
}

const algo_t algo_remax = {"remax", "ReMax: the greedy completion's reward as the baseline", 0, NULL, remax_iteration};
