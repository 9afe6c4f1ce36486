/* REINFORCE (Williams, "Simple statistical gradient-following algorithms", Machine Learning 8,
 * 1992), sequence level.
 * - Advantage of every learner token of trajectory i: R_i - b, with b the mean of R over the
 *   iteration's batch (reinforce.baseline = mean; it includes R_i itself, a bias of order 1/n) or
 *   b = 0 (= none: the plain score-function estimator).
 * - Update: the shared PPO machinery; no critic. */
#include "algo.h"
#include "../sim/rl/estimators.h"

static void reinforce_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)it;
    algo_spec_critic_free(cfg, EST_REINFORCE, spec);
}

const algo_t algo_reinforce = {"reinforce", "REINFORCE: sequence reward, batch-mean baseline (or none)", 0, NULL, reinforce_iteration};
