/* AggreVaTeD (spec/algorithms.md): the learner writes a prefix of random length k with
 * probability beta, the guide completes it; the policy loss is on the learner's prefix, the value
 * loss on the guide's tokens, so the critic estimates V of the guide and the learner's advantages
 * (GAE through the guide's completion) are advantages of the guide's cost-to-go. Trajectories
 * without a roll-in (u = 0) are full guide rollouts: value-loss data only. Alone it uses the
 * learner critic slot. */
#include "algo.h"

static void aggrevated_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)it;
    algo_spec_aggrevated(cfg, algo_beta(cfg, "aggrevated"), CRITIC_LEARNER, spec);
}

/* per-task defaults (beta, tau) of the reference code (Cornell-RL/tril cfgs/alg) */
static const algo_default_t AGGREVATED_DEFAULTS[] = {{"tldr", 1.0, -1}, {NULL, 0.8, -1}};

const algo_t algo_aggrevated = {"aggrevated", "AggreVaTeD: learner roll-in, guide roll-out", 0, AGGREVATED_DEFAULTS,
                                aggrevated_iteration};
