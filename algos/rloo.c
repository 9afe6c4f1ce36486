/* RLOO (Kool, van Hoof, Welling, "Buy 4 REINFORCE Samples, Get a Baseline for Free!", ICLR 2019
 * workshop; Ahmadian et al., "Back to Basics", arXiv 2402.14740).
 * - Group: group.size = K >= 2 completions of each prompt; R_i their sequence rewards.
 * - Advantage of every learner token of completion i: R_i - (1/(K-1)) sum_{j != i} R_j, the
 *   leave-one-out baseline, independent of y_i, so the estimator is unbiased. Equal to
 *   K/(K-1) (R_i - mean_group R), i.e. K/(K-1) times GRPO with grpo.scale = none.
 * - Update: the shared PPO machinery (ppo.epochs = 1 and one minibatch give the plain REINFORCE
 *   step); no critic. */
#include "algo.h"
#include "../sim/rl/estimators.h"

static void rloo_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)it;
    algo_spec_critic_free(cfg, EST_RLOO, spec);
}

const algo_t algo_rloo = {"rloo", "RLOO: leave-one-out baseline over the K completions of a prompt", 0, NULL, rloo_iteration};
