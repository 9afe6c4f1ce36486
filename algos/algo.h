/* algo: what makes one RL algorithm different from another, and nothing else. Each iteration an
 * algorithm says who rolls in, who rolls out, with what beta, which critic it trains and which
 * tokens receive the policy and value losses; sim/ (rollout engine + PPO machinery) does the rest.
 * One file per algorithm in algos/. */
#ifndef RLGF_ALGO_H
#define RLGF_ALGO_H

#include <stdint.h>

#include "../sim/config.h"
#include "../sim/rollout.h"

enum { CRITIC_LEARNER = 0, CRITIC_GUIDE = 1 };
enum { MODE_PPO = 0, MODE_PPOPP = 1, MODE_AGGREVATED = 2 };

typedef struct {
    rollout_plan_t plan;
    int critic;       /* CRITIC_LEARNER or CRITIC_GUIDE */
    int policy_actor; /* tokens written by this actor get the policy loss (always the learner) */
    int value_actor;  /* tokens written by this actor get the value loss */
    int mode;         /* MODE_*, logged per iteration */
    int kl_on_guide;  /* KL shaping also on guide-written tokens */
} iter_spec_t;

typedef struct {
    const char *name;
    const char *help;
    int needs_guide;
    /* fills spec for iteration `it` (0-based) of a run with this config */
    void (*iteration)(const config_t *cfg, int it, iter_spec_t *spec);
} algo_t;

/* NULL when the name is not an implemented RL algorithm. */
const algo_t *algo_find(const char *name);

#endif
