/* runlog: what the training loop writes to its run log, row by row: the trajectories of a batch
 * (training or evaluation) with their tokens, one /iterations row, one /eval row, the /timing
 * figures. Every name and type comes from the schema's table (sim/store/schema.h); the order of
 * the appends is the table's, which the writer's row-key rule (sim/store/h5log.h) needs. */
#ifndef RLGF_RUNLOG_H
#define RLGF_RUNLOG_H

#include <stdint.h>

#include "../../algos/algo.h"
#include "../../envs/task.h"
#include "../base/err.h"
#include "../rl/batch.h"
#include "../rl/ppo.h"
#include "../store/h5log.h"

typedef struct {
    h5log_t *log;
    const task_t *task;
    int64_t tokens_logged; /* rows of the per-token arrays so far: the next token_offset */
} runlog_t;

/* Appends every trajectory of b (and its tokens) to /trajectories, as policy `iteration`'s, written
 * by `who` (WHO_*), an evaluation or a training batch. */
int runlog_batch(runlog_t *rl, const batch_t *b, int64_t iteration, int who, int is_eval, err_t *err);

/* One row of /iterations: the totals so far, the batch's means, what was used, the update's
 * statistics and the iteration's plan. */
typedef struct {
    int64_t iteration, tokens, trajectories;
    double reward, kl, beta_kl, lr;
    const ppo_stats_t *update;
    const iter_spec_t *spec;
} iter_row_t;
int runlog_iteration(runlog_t *rl, const iter_row_t *row, err_t *err);

/* One row of /eval for n prompts: mean[m] and sd[m] of every task metric m, then of the KL to
 * pi_ref and of the length (n_metrics + 2 of each), and the reference perplexity. */
int runlog_eval(runlog_t *rl, int64_t iteration, int split, int who, int n, const double *mean, const double *sd,
                double ref_ppl, err_t *err);

/* The /timing row of one iteration (only with log.timing = true): its wall seconds, the CPU seconds
 * of the process in it (all threads) and its tokens per second. */
int runlog_timing(runlog_t *rl, double seconds, double cpu_seconds, int64_t tokens, err_t *err);

#endif
