/* guidebase: REINFORCE with the guide's completion as the baseline (issue 13's second variant of
 * "composed with the guide"; cf. AggreVaTeD, Sun et al., "Deeply AggreVaTeD", ICML 2017, whose
 * critic estimates the guide's cost-to-go, and ReMax, whose baseline is a completion of the same
 * prompt).
 * - Baseline of the K completions of a group: the sequence reward R of one completion sampled
 *   from the guide (its own stream, RNG_GUIDE_BASELINE) from the group's restart state (the
 *   prompt, plus the group's guide prefix when the iteration rolls in, beta set), KL-shaped with
 *   the learner's log-probabilities as if the learner had written it. It does not depend on the
 *   learner's samples, so the estimator stays unbiased; at the KL-regularised optimum
 *   R - beta log(pi/ref) is the same for every sequence, so the baseline then equals every
 *   sample's R and the advantages vanish (an exact fixed point, as for ReMax). It is a one-sample
 *   estimate of the guide's value of the restart state (AggreVaTeD's cost-to-go).
 * - Advantage of every learner token of completion i: R_i - R(guide completion).
 * - Update: the shared PPO machinery; no critic. */
#include "algo.h"
#include "../sim/rl/estimators.h"

static void guidebase_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)it;
    algo_spec_critic_free(cfg, EST_GUIDE, spec);
}

const algo_t algo_guidebase = {"guidebase", "REINFORCE with the guide's completion of the same restart state as baseline", 0, NULL, guidebase_iteration};
