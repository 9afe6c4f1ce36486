/* conformance: `rlgf conformance export DIR`, known-answer cases any RL fine-tuning
 * implementation can be checked against (README, "Checking your own implementation").
 *
 * One HDF5 file per case family (gae.h5, ppo_policy_loss.h5, value_loss.h5, entropy.h5,
 * target_nll.h5, guided_masks.h5, toy_exact.h5, ppo_step.h5, critic_free.h5, kl.h5, loss_agg.h5),
 * each written as the run log is written
 * (libver bounds pinned, no object times, creation order tracked), so equal programs write equal
 * bytes. Layout (schema version 1):
 *   /                      attrs schema_version (int64), kit ("rlgf conformance"), family,
 *                          description
 *   /<case>/               attrs kind (which computation: "gae", "ppo_policy_loss", ...),
 *                          description, and one attribute per parameter (gamma, clip, ...)
 *   /<case>/inputs/<name>  what an implementation is given (padded (B,T) arrays, run-log names)
 *   /<case>/expected/<name> what it must produce; attrs rtol, atol (float64) and where (the name
 *                          of an inputs mask the comparison is restricted to, "" = every element)
 * A new case family is a new file with new kinds and names: the layout does not change (the
 * critic-free, KL and loss-knob families were added that way, schema version still 1).
 *
 * Every expected value comes from the trainer's own functions: ppo_rewards_and_gae for shaped
 * rewards, advantages and returns, the per-token terms of sim/rl/ppo_loss.h for the losses and
 * their gradients, algo_apply_masks for the guided algorithms' masks, est_sequence_rewards and
 * est_advantages for the critic-free estimators, est_kl / est_kl_dlogp / est_token_weight for the
 * KL estimators, KL placement and loss aggregation (sim/rl/estimators.h), toy_policy_value and
 * toy_kl_optimum for the toy tasks. tests/test_conformance.c feeds the exported inputs back
 * through ppo_minibatch_grad (with ppo_set_loss_opts for the loss knobs) and the critic-free
 * cases through est_sequence_rewards + est_advantages, and checks it reproduces the expected values. */
#ifndef RLGF_CONFORMANCE_H
#define RLGF_CONFORMANCE_H

#include "../base/err.h"

#define CONF_SCHEMA_VERSION 1

/* Writes every family into dir (created if missing). A dir that exists and is not empty is an
 * error unless force (then the family files are replaced; nothing else is touched). */
int conf_export(const char *dir, int force, err_t *err);

/* The family file names, NULL-terminated (without the directory). */
extern const char *const conf_families[];

#endif
