/* The registry of RL algorithms and what the guided ones share (SL is not an RL algorithm: see
 * algos/sl.h). */
#include "algo.h"

#include <string.h>

extern const algo_t algo_ppo, algo_ppopp, algo_aggrevated, algo_lols, algo_d2lols;
extern const algo_t algo_grpo, algo_rloo, algo_reinforce, algo_remax, algo_guidebase;

const algo_t *algo_find(const char *name) {
    static const algo_t *const all[] = {&algo_ppo, &algo_ppopp, &algo_aggrevated, &algo_lols, &algo_d2lols,
                                        &algo_grpo, &algo_rloo, &algo_reinforce, &algo_remax, &algo_guidebase};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(all[i]->name, name)) return all[i];
    return NULL;
}

void algo_spec_ppopp(const config_t *cfg, double beta, int critic, iter_spec_t *spec) {
    memset(spec, 0, sizeof *spec);
    spec->plan.rollin = ACTOR_GUIDE;
    spec->plan.rollout = ACTOR_LEARNER;
    spec->plan.beta = beta;
    spec->critic = critic;
    spec->policy_actor = ACTOR_LEARNER; /* forced guide tokens get no policy gradient */
    spec->value_actor = ACTOR_LEARNER;
    spec->mode = MODE_PPOPP;
    spec->kl_on_guide = 0;
    spec->kl_off = !cfg->kl_in_guided_reward;
}

void algo_spec_aggrevated(const config_t *cfg, double beta, int critic, iter_spec_t *spec) {
    memset(spec, 0, sizeof *spec);
    spec->plan.rollin = ACTOR_LEARNER;
    spec->plan.rollout = ACTOR_GUIDE;
    spec->plan.beta = beta;
    spec->critic = critic;
    spec->policy_actor = ACTOR_LEARNER; /* the learner's prefix t < k */
    spec->value_actor = ACTOR_GUIDE;    /* the guide's completion: the critic learns V of the guide */
    spec->mode = MODE_AGGREVATED;
    spec->kl_on_guide = 0;
    spec->kl_off = !cfg->kl_in_guided_reward;
}

/* Per-task defaults of spec/algorithms.md (the toy tasks use IMDB's). */
double algo_beta(const config_t *cfg, const char *algo) {
    if (cfg->beta >= 0) return cfg->beta;
    int cg = !strcmp(cfg->task, "commongen"), tl = !strcmp(cfg->task, "tldr");
    if (!strcmp(algo, "ppopp")) return cg || tl ? 0.8 : 0.6;
    if (!strcmp(algo, "aggrevated")) return tl ? 1.0 : 0.8;
    return 0.8; /* lols, d2lols: both modes */
}

double algo_tau(const config_t *cfg, const char *algo) {
    if (cfg->tau >= 0) return cfg->tau;
    if (!strcmp(algo, "lols")) return 0.8;
    if (!strcmp(cfg->task, "commongen")) return 100;
    if (!strcmp(cfg->task, "tldr")) return 200;
    return 20;
}

void algo_apply_masks(const iter_spec_t *spec, batch_t *b) {
    for (int i = 0; i < b->n; i++)
        for (int t = 0; t < b->gen_cap; t++) {
            int64_t k = batch_tok(b, i, t);
            int live = t < b->gen_len[i];
            b->pmask[k] = (uint8_t)(live && b->actor[k] == spec->policy_actor);
            b->vmask[k] = (uint8_t)(live && b->actor[k] == spec->value_actor);
        }
}
