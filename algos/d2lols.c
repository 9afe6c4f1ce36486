/* D2LOLS (spec/algorithms.md): AggreVaTeD with the guide critic for iterations 0..tau-1, then
 * PPO++ with the learner critic. The learner critic is only trained from the switch on. tau = 0 is
 * PPO++, bit for bit. */
#include "algo.h"

static void d2lols_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    double beta = algo_beta(cfg, "d2lols");
    if (it < algo_tau(cfg, "d2lols"))
        algo_spec_aggrevated(cfg, beta, CRITIC_GUIDE, spec);
    else
        algo_spec_ppopp(cfg, beta, CRITIC_LEARNER, spec);
}

/* per-task defaults (beta, tau) of the reference code (Cornell-RL/tril cfgs/alg) */
static const algo_default_t D2LOLS_DEFAULTS[] = {{"commongen", 0.8, 100}, {"tldr", 0.8, 200}, {NULL, 0.8, 20}};

const algo_t algo_d2lols = {"d2lols", "D2LOLS: AggreVaTeD until iteration tau, then PPO++ (two critics)", 1, D2LOLS_DEFAULTS,
                            d2lols_iteration};
