/* models: the run's models and actors. The policy's shape from the config, fresh models drawn
 * from their own streams, critics grown from the policy's backbone, the guide (a black box that
 * continues prefixes), the check that loaded weights are finite, and the final policy saved next
 * to the run log. */
#ifndef RLGF_RUN_MODELS_H
#define RLGF_RUN_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "../../envs/task.h"
#include "../base/config.h"
#include "../base/err.h"
#include "../nn/model.h"
#include "../rl/rollout.h"

/* Weights and Adam moments all finite (1 for NULL): a model read back with a NaN is never used. */
int run_model_finite(const model_t *m);

/* The policy's (head HEAD_LM) or a critic's (HEAD_SCALAR) shape for this config and task. */
model_config_t run_model_config(const config_t *cfg, const task_t *task, head_kind_t head);

/* A fresh model initialised from the stream (seed, purpose, 0, index). */
model_t *run_new_model(const model_config_t *mc, uint64_t seed, uint32_t purpose, uint64_t index, err_t *err);

/* Critic `index` (CRITIC_LEARNER, CRITIC_GUIDE): the policy's backbone with a fresh scalar head. */
model_t *run_make_critic(const config_t *cfg, const task_t *task, const model_t *policy, int index, err_t *err);

/* The model of guide.path, read and checked (finite, fits the task) before any work. */
int run_load_guide_model(const config_t *cfg, const task_t *task, model_t **owned, err_t *err);

/* The guide actor: guide.type and its sampling settings over `owned` (guide.path's model) or,
 * without one, pi_ref. */
int run_make_guide(const config_t *cfg, const task_t *task, const model_t *ref, const model_t *owned, actor_t *guide,
                   err_t *err);

/* <out>.policy.h5: the final policy, loadable as guide.type=checkpoint. */
int run_save_final_policy(const char *out, model_t *policy, const char *cfg_text, long step, err_t *err);

#endif
