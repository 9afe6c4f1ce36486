/* ckpt: model checkpoints in HDF5 with an exact round trip (params and AdamW moments, bit for bit).
 * Written to "path.tmp" then renamed, so a checkpoint file is never half-written. */
#ifndef RLGF_CKPT_H
#define RLGF_CKPT_H

#include "err.h"
#include "model.h"

/* Saves n models under groups /models/<names[i]> (config as attributes, datasets params, adam_m,
 * adam_v as float32 arrays of n_params) plus root attributes config (text) and step (int64). */
int ckpt_save(const char *path, model_t *const *models, const char *const *names, int n,
              const char *config_text, int64_t step, err_t *err);
/* Creates the model stored under /models/<name> with its params and moments. */
model_t *ckpt_load(const char *path, const char *name, err_t *err);

#endif
