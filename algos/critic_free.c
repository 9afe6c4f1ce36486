/* What the critic-free algorithms (grpo, rloo, reinforce, remax) share: the plan and masks.
 *
 * Unguided (beta unset, -1): the learner writes every token from the prompt, as PPO. With beta set
 * (0..1): guide roll-ins exactly as PPO++ (spec "Roll-in / roll-out mixing"), and with
 * group.size = K the K completions of a prompt share one draw of (u, k) and one guide prefix (the
 * engine keys the roll-in streams by the group), so the group's baseline is a baseline of that
 * restart state s = (x, g_0..g_{k-1}): the estimator is the policy gradient of the learner's
 * roll-out from the guide's restart distribution, E_{s ~ d_guide-rollin} E_{y ~ pi(.|s)}
 * [(R(s, y) - b(s)) grad log pi(y|s)], the same objective PPO++ optimises, with b(s) a
 * leave-one-out/group/greedy estimate of V^pi(s) instead of a critic. beta = 0 draws u = 0 for
 * every trajectory: the unguided algorithm, bit for bit. Only learner tokens are trained; there is
 * no critic and no value loss (value_actor matches no token). */
#include <string.h>

#include "algo.h"

void algo_spec_critic_free(const config_t *cfg, int estimator, iter_spec_t *spec) {
    memset(spec, 0, sizeof *spec);
    int guided = cfg->beta >= 0;
    spec->plan.rollin = guided ? ACTOR_GUIDE : -1;
    spec->plan.rollout = ACTOR_LEARNER;
    spec->plan.beta = guided ? cfg->beta : 0.0;
    spec->critic = CRITIC_LEARNER; /* unused: the estimator needs none */
    spec->policy_actor = ACTOR_LEARNER;
    spec->value_actor = -1;
    spec->mode = guided && cfg->beta > 0 ? MODE_PPOPP : MODE_PPO;
    spec->kl_off = guided && !cfg->kl_in_guided_reward;
    spec->estimator = estimator;
}
