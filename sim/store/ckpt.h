/* ckpt: model checkpoints in HDF5 with an exact round trip (params and AdamW moments, bit for bit).
 * Written to "path.tmp" then renamed, so a checkpoint file is never half-written. */
#ifndef RLGF_CKPT_H
#define RLGF_CKPT_H

#include "../base/err.h"
#include "../nn/model.h"

/* Saves n models under groups /models/<names[i]> (config as attributes, datasets params, adam_m,
 * adam_v as float32 arrays of n_params) plus root attributes config (text) and step (int64). */
int ckpt_save(const char *path, model_t *const *models, const char *const *names, int n,
              const char *config_text, int64_t step, err_t *err);
/* Extra run state for resumable checkpoints: named scalars (stored as float64 attributes of
 * /state, exact for integers up to 2^53) and one opaque blob (/state/blob, uint8). */
typedef struct {
    int n_scalars;
    const char *const *scalar_names;
    const double *scalars;
    const void *blob;
    size_t blob_len;
} ckpt_extra_t;

int ckpt_save_ex(const char *path, model_t *const *models, const char *const *names, int n,
                 const char *config_text, int64_t step, const ckpt_extra_t *extra, err_t *err);
int ckpt_read_state(const char *path, const char *name, double *value, err_t *err);
/* The blob (caller frees). */
int ckpt_read_blob(const char *path, void **blob, size_t *len, err_t *err);
/* The root attribute config (caller frees). */
int ckpt_read_config(const char *path, char **text, err_t *err);

/* Checks the root checksum over the config text, step, the named /state scalars (as saved, in
 * that order; 0 for a plain model checkpoint) and the blob. */
int ckpt_verify(const char *path, int n_scalars, const char *const *scalar_names, err_t *err);

/* Creates the model stored under /models/<name> with its params and moments, after checking its
 * checksum (weights, moments, config attributes and the file's config text): a file without one,
 * or one that does not match, is an error. */
model_t *ckpt_load(const char *path, const char *name, err_t *err);

#endif
