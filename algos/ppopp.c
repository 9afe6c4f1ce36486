/* PPO++ (spec/algorithms.md): the guide writes a prefix of random length k ~ U{1..L-1} with
 * probability beta, the learner continues; only the learner's tokens are trained (policy, entropy
 * and value loss), GAE runs over the whole sequence, learner critic. beta = 0 is PPO, bit for bit. */
#include "algo.h"

static void ppopp_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)it;
    algo_spec_ppopp(cfg, algo_beta(cfg, "ppopp"), CRITIC_LEARNER, spec);
}

/* per-task defaults (beta, tau) of the reference code (Cornell-RL/tril cfgs/alg) */
static const algo_default_t PPOPP_DEFAULTS[] = {{"commongen", 0.8, -1}, {"tldr", 0.8, -1}, {NULL, 0.6, -1}};

const algo_t algo_ppopp = {"ppopp", "PPO++: guide roll-in (restart states), learner roll-out", 0, PPOPP_DEFAULTS, ppopp_iteration};
