/* LOLS, reference-code version (spec/algorithms.md): every iteration draws u ~ U(0,1) from its own
 * stream (seed, RNG_LOLS, iteration); u < tau gives a PPO++ iteration with the learner critic,
 * otherwise an AggreVaTeD iteration with the separate guide critic. beta applies to both modes.
 * tau = 1 is PPO++ with the same beta, bit for bit. */
#include "algo.h"

static void lols_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    rng_t r = rng_stream((uint64_t)cfg->seed, RNG_LOLS, (uint64_t)it, 0);
    double beta = algo_beta(cfg, "lols");
    if (rng_double(&r) < algo_tau(cfg, "lols"))
        algo_spec_ppopp(cfg, beta, CRITIC_LEARNER, spec);
    else
        algo_spec_aggrevated(cfg, beta, CRITIC_GUIDE, spec);
}

/* per-task defaults (beta, tau) of the reference code (Cornell-RL/tril cfgs/alg) */
static const algo_default_t LOLS_DEFAULTS[] = {{NULL, 0.8, 0.8}};

const algo_t algo_lols = {"lols", "LOLS: each iteration PPO++ w.p. tau, else AggreVaTeD (two critics)", 1, LOLS_DEFAULTS,
                          lols_iteration};
