/* algo: what makes one RL algorithm different from another, and nothing else. Each iteration an
 * algorithm says who rolls in, who rolls out, with what beta, which critic it trains and which
 * tokens receive the policy and value losses; sim/ (rollout engine + PPO machinery) does the rest.
 * One file per algorithm in algos/. */
#ifndef RLGF_ALGO_H
#define RLGF_ALGO_H

#include <stdint.h>

#include "../sim/base/config.h"
#include "../sim/rl/rollout.h"

enum { CRITIC_LEARNER = 0, CRITIC_GUIDE = 1 };
enum { MODE_PPO = 0, MODE_PPOPP = 1, MODE_AGGREVATED = 2 };

typedef struct {
    rollout_plan_t plan;
    int critic;       /* CRITIC_LEARNER or CRITIC_GUIDE */
    int policy_actor; /* tokens written by this actor get the policy loss (always the learner) */
    int value_actor;  /* tokens written by this actor get the value loss */
    int mode;         /* MODE_*, logged per iteration */
    int kl_on_guide;  /* KL shaping also on guide-written tokens */
    int kl_off;       /* no KL shaping at all (kl_in_guided_reward = false, as the reference code) */
    int estimator;    /* EST_GAE (0: critic and GAE) or a critic-free estimator (sim/estimators.h) */
} iter_spec_t;

/* A per-task default of beta / tau (-1: not used by this algorithm); the row with task NULL is the
 * default for every other task (the toy tasks use IMDB's). */
typedef struct {
    const char *task;
    double beta, tau;
} algo_default_t;

typedef struct {
    const char *name;
    const char *help;
    int two_critics; /* a separate guide critic (LOLS, D2LOLS) */
    const algo_default_t *defaults; /* NULL-task-terminated; NULL: no beta/tau defaults */
    /* fills spec for iteration `it` (0-based) of a run with this config; NULL for an algorithm
     * without RL iterations (SL: the policy the run starts from is its result) */
    void (*iteration)(const config_t *cfg, int it, iter_spec_t *spec);
} algo_t;

/* NULL when the name is not an implemented algorithm. */
const algo_t *algo_find(const char *name);
/* the registry in order (sim/base/algo_names.h): algo_at(0 .. algo_count() - 1) */
int algo_count(void);
const algo_t *algo_at(int i);

/* The two building blocks of the guided algorithms (spec/algorithms.md):
 * PPO++: guide roll-in w.p. beta, learner roll-out; policy and value loss on learner tokens.
 * AggreVaTeD: learner roll-in w.p. beta, guide roll-out; policy loss on the learner prefix, value
 * loss on guide tokens (so the critic estimates the guide's value). */
void algo_spec_ppopp(const config_t *cfg, double beta, int critic, iter_spec_t *spec);
void algo_spec_aggrevated(const config_t *cfg, double beta, int critic, iter_spec_t *spec);

/* A critic-free algorithm (grpo, rloo, reinforce, remax; algos/critic_free.c): learner roll-outs,
 * or guide roll-ins w.p. beta when the config sets beta (as PPO++); policy loss on learner tokens,
 * no critic, no value loss. */
void algo_spec_critic_free(const config_t *cfg, int estimator, iter_spec_t *spec);

/* beta / tau from the config, or the spec's per-task default for this algorithm when -1. */
double algo_beta(const config_t *cfg, const char *algo);
double algo_tau(const config_t *cfg, const char *algo);

/* Sets b->pmask / b->vmask of every live token from the actor that wrote it. */
void algo_apply_masks(const iter_spec_t *spec, batch_t *b);

#endif
