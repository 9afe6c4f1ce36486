/* sl: supervised fine-tuning (spec/algorithms.md, "SL"): teacher-forced NLL on (prompt,
 * reference) pairs of the training split. As in the reference code's causal-LM loss, every
 * position of the concatenated prompt + reference is a target (the prompt is not masked), so the
 * policy learns the world's language and the task's continuations. Produces the checkpoint RL
 * starts from, pi_ref, and the default base of the guide. */
#ifndef RLGF_SL_H
#define RLGF_SL_H

#include "../envs/task.h"
#include "../sim/base/config.h"
#include "../sim/base/err.h"
#include "../sim/nn/model.h"
#include "../sim/base/pool.h"

typedef struct {
    int epoch;
    double loss; /* mean NLL per target token over the epoch */
} sl_epoch_t;

/* Trains policy in place for cfg->sl.epochs epochs over cfg->sl.examples training pairs.
 * progress(epoch stats, ctx) is called after every epoch (may be NULL). Returns -1 with a message
 * when memory runs out or the loss or the weights stop being finite (SL diverged). */
int sl_train(model_t *policy, const task_t *task, pool_t *pool, const config_t *cfg,
             void (*progress)(const sl_epoch_t *, void *), void *ctx, err_t *err);

#endif
