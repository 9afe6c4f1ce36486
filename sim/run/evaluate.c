#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../base/dmath.h"
#include "../rl/ppo.h"

int evaluator_init(evaluator_t *ev, const config_t *cfg, const task_t *task, rollout_engine_t *engine,
                   int evals_done, err_t *err) {
    ev->cfg = cfg;
    ev->task = task;
    ev->engine = engine;
    ev->evals_done = evals_done;
    int n_eval = cfg->eval.prompts > cfg->eval.test_prompts ? cfg->eval.prompts : cfg->eval.test_prompts;
    if (batch_init(&ev->batch, n_eval, task->prompt_max + task->gen_max, task->gen_max, task->n_metrics) != 0)
        return err_set(err, "out of memory for the evaluation batch");
    ev->prompt_idx = calloc((size_t)n_eval, sizeof *ev->prompt_idx);
    if (!ev->prompt_idx) return err_set(err, "out of memory for %d evaluation prompts", n_eval);
    return 0;
}

void evaluator_free(evaluator_t *ev) {
    batch_free(&ev->batch);
    free(ev->prompt_idx);
    ev->prompt_idx = NULL;
}

/* Generates from validation/test prompts 0..n-1 with `actor` (the learner, the guide or pi_ref)
 * into ev->batch and scores it. The learner's streams are keyed by the evaluation count, the
 * guide's by `who`, so adding baselines never moves the learner's bits. A black-box guide has no
 * log-probabilities: its logp and KL are NaN. Values and advantages mean nothing for an
 * evaluation (no critic is involved): they are logged as NaN; rewards and returns are those of
 * the task reward alone. */
static void eval_generate(evaluator_t *ev, const actor_t *actor, const model_t *ref, int who, int split, int n) {
    const config_t *cfg = ev->cfg;
    batch_t *b = &ev->batch;
    b->n = n;
    for (int i = 0; i < n; i++) ev->prompt_idx[i] = i;
    const actor_t *actors[2] = {actor, actor};
    rollout_plan_t plan = {-1, ACTOR_LEARNER, 0.0};
    uint32_t purpose[2] = {who == WHO_LEARNER ? RNG_EVAL : RNG_EVAL_BASELINE, 0};
    purpose[1] = purpose[0];
    uint64_t key = who == WHO_LEARNER ? (uint64_t)ev->evals_done++ : (uint64_t)who;
    rollout_generate(ev->engine, &plan, actors, b, split, ev->prompt_idx, (uint64_t)cfg->seed, purpose, key);
    memset(b->value, 0, (size_t)b->cap * (size_t)b->gen_cap * sizeof(float));
    rollout_score(ev->engine, b, who == WHO_GUIDE ? ref : actor->model, ref, NULL);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < b->gen_cap; t++) {
            int64_t k = batch_tok(b, i, t);
            b->pmask[k] = b->vmask[k] = 0;
            b->actor[k] = who == WHO_GUIDE ? ACTOR_GUIDE : ACTOR_LEARNER;
        }
    ppo_rewards_and_gae(b, 0.0, 0, 1.0, 1.0); /* rewards and returns of the task reward alone */
    for (int64_t k = 0; k < (int64_t)b->cap * b->gen_cap; k++) {
        b->value[k] = b->advantage[k] = NAN;
        if (who == WHO_GUIDE) b->logp[k] = NAN;
    }
    /* drift: perplexity of the task's held-out reference continuations under the policy */
    ev->nll = who == WHO_GUIDE ? NAN : rollout_reference_nll(ev->engine, actor->model, split, n);
}

/* The /eval row of ev->batch: mean and (unbiased) standard deviation over its trajectories of
 * every metric, of the summed log-ratio to pi_ref (KL) and of the length. */
static void eval_stats(const evaluator_t *ev, double *mean, double *sd) {
    const batch_t *b = &ev->batch;
    int n = b->n, nm = ev->task->n_metrics;
    for (int m = 0; m < nm + 2; m++) {
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            double v;
            if (m < nm) {
                v = b->metrics[(int64_t)i * nm + m];
            } else if (m == nm) {
                v = 0;
                for (int t = 0; t < b->gen_len[i]; t++) v += (double)b->logp[batch_tok(b, i, t)] - (double)b->logp_ref[batch_tok(b, i, t)];
            } else {
                v = b->gen_len[i];
            }
            s += v;
            ss += v * v;
        }
        double mu = s / n, var = n > 1 ? (ss - n * mu * mu) / (n - 1) : 0.0;
        mean[m] = mu;
        sd[m] = var > 0 ? sqrt(var) : 0.0;
    }
}

int evaluate_log_again(evaluator_t *ev, runlog_t *rl, int who, int split, int64_t iteration, eval_summary_t *sum,
                       err_t *err) {
    int nm = ev->task->n_metrics;
    double *mean = malloc(2 * (size_t)(nm + 2) * sizeof *mean);
    if (!mean) return err_set(err, "out of memory for an evaluation row");
    double *sd = mean + nm + 2;
    eval_stats(ev, mean, sd);
    sum->reward = mean[0];
    sum->kl = mean[nm];
    int rc = runlog_batch(rl, &ev->batch, iteration, who, 1, err) ||
             runlog_eval(rl, iteration, split, who, ev->batch.n, mean, sd, dm_exp(ev->nll), err);
    free(mean);
    return rc ? -1 : 0;
}

int evaluate(evaluator_t *ev, runlog_t *rl, const actor_t *actor, const model_t *ref, int who, int split, int n,
             int64_t iteration, eval_summary_t *sum, err_t *err) {
    eval_generate(ev, actor, ref, who, split, n);
    return evaluate_log_again(ev, rl, who, split, iteration, sum, err);
}
