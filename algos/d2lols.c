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

const algo_t algo_d2lols = {"d2lols", "D2LOLS: AggreVaTeD until iteration tau, then PPO++ (two critics)", 1,
                            d2lols_iteration};
