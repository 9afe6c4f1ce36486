/* PPO (spec/algorithms.md): the learner writes every token from the prompt, every token gets the
 * policy and value losses, the learner critic. The base every guided algorithm reuses. */
#include <string.h>

#include "algo.h"

static void ppo_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)cfg;
    (void)it;
    memset(spec, 0, sizeof *spec);
    spec->plan.rollin = -1;
    spec->plan.rollout = ACTOR_LEARNER;
    spec->plan.beta = 0.0;
    spec->critic = CRITIC_LEARNER;
    spec->policy_actor = ACTOR_LEARNER;
    spec->value_actor = ACTOR_LEARNER;
    spec->mode = MODE_PPO;
}

const algo_t algo_ppo = {"ppo", "PPO: learner-only rollouts (the base of every guided algorithm)", 0, NULL, ppo_iteration};

