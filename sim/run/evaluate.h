/* evaluate: the run's evaluations. Every evaluation point samples the validation (or, at the end,
 * test) prompts 0..n-1 with the evaluation sampling settings, scores them like training
 * trajectories (task metrics, KL to pi_ref, the reference perplexity) and logs them as evaluation
 * trajectories plus one /eval row of means and standard deviations. */
#ifndef RLGF_EVALUATE_H
#define RLGF_EVALUATE_H

#include <stdint.h>

#include "../base/config.h"
#include "../base/err.h"
#include "../rl/batch.h"
#include "../rl/rollout.h"
#include "runlog.h"

typedef struct {
    const config_t *cfg;
    const task_t *task;
    rollout_engine_t *engine;
    batch_t batch;
    int64_t *prompt_idx;
    int evals_done; /* evaluation points so far: the key of the eval sampling streams */
    double nll;     /* reference NLL of the last generated evaluation */
} evaluator_t;

typedef struct {
    double reward, kl;
} eval_summary_t;

/* Room for the larger of eval.prompts and eval.test_prompts; evals_done from a resumed run. */
int evaluator_init(evaluator_t *ev, const config_t *cfg, const task_t *task, rollout_engine_t *engine,
                   int evals_done, err_t *err);
void evaluator_free(evaluator_t *ev);

/* Evaluates `actor` (the learner, the guide) as `who` on prompts 0..n-1 of `split` and logs it
 * as policy `iteration`'s; *sum receives the mean reward and KL. */
int evaluate(evaluator_t *ev, runlog_t *rl, const actor_t *actor, const model_t *ref, int who, int split, int n,
             int64_t iteration, eval_summary_t *sum, err_t *err);

/* Logs the last evaluation again as `who`'s (pi_ref's row is the learner's iteration-0 sample). */
int evaluate_log_again(evaluator_t *ev, runlog_t *rl, int who, int split, int64_t iteration, eval_summary_t *sum,
                       err_t *err);

#endif
