/* The registry of algorithms (SL and the RL algorithms) and what the guided ones share. */
#include "algo.h"

#include "../sim/base/algo_names.h"

#include <string.h>

/* the registry: one entry per X(NAME) of sim/base/algo_names.h */
#define ALGO_DECL(name) extern const algo_t algo_##name;
RLGF_ALGOS(ALGO_DECL)
#define ALGO_PTR(name) &algo_##name,
static const algo_t *const ALL[] = {RLGF_ALGOS(ALGO_PTR)};

const algo_t *algo_find(const char *name) {
    for (size_t i = 0; i < sizeof ALL / sizeof ALL[0]; i++)
        if (!strcmp(ALL[i]->name, name)) return ALL[i];
    return NULL;
}

int algo_count(void) { return (int)(sizeof ALL / sizeof ALL[0]); }
const algo_t *algo_at(int i) { return i >= 0 && i < algo_count() ? ALL[i] : NULL; }

/* the algorithm's row for this task, or its default row */
static const algo_default_t *default_row(const config_t *cfg, const char *algo) {
    const algo_t *a = algo_find(algo);
    if (!a || !a->defaults) return NULL;
    const algo_default_t *d = a->defaults;
    for (; d->task; d++)
        if (!strcmp(d->task, cfg->task)) return d;
    return d;
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

/* beta / tau: the config's value, else the algorithm's per-task default (its own file's table) */
double algo_beta(const config_t *cfg, const char *algo) {
    if (cfg->beta >= 0) return cfg->beta;
    const algo_default_t *d = default_row(cfg, algo);
    return d && d->beta >= 0 ? d->beta : 0.0;
}

double algo_tau(const config_t *cfg, const char *algo) {
    if (cfg->tau >= 0) return cfg->tau;
    const algo_default_t *d = default_row(cfg, algo);
    return d && d->tau >= 0 ? d->tau : 0.0;
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
