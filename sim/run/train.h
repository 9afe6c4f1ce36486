/* train: one run from a resolved config to a complete run log: SL (cached by the hash of the
 * settings that affect it, so RL runs reuse the checkpoint), then the chosen RL algorithm, with
 * evaluations on the validation split every eval.every iterations and on the test split at the
 * end. Everything in the run log except /timing is a function of the config alone. */
#ifndef RLGF_TRAIN_H
#define RLGF_TRAIN_H

#include "../base/config.h"
#include "../base/err.h"
#include "../nn/model.h"
#include "../../envs/task.h"

typedef struct {
    int quiet;        /* no progress output */
    int force_tty;    /* -1 auto, 0 plain lines, 1 single updating line */
    int resume;       /* continue from <out>.resume.h5 when present (done if <out> is complete) */
    /* when not NULL: receive the final policy and pi_ref (caller destroys them); for tests */
    model_t **final_policy, **final_ref;
    int force;        /* replace a finished run log at `out` (else that is an error) */
} train_opts_t;

/* Runs the whole thing; returns 0 and leaves a complete run log at the resolved `out`, or -1 with
 * a message (and no file at `out` that looks complete; a run that diverged leaves its log there
 * with complete = 0 and diverged = 1). Every check that needs no work (paths, cache_dir,
 * guide.path, memory) runs first; `out` is locked (OUT.lock) for the whole run, and an existing
 * finished log at `out` is an error unless opts->force. */
int train_run(const config_t *cfg, const train_opts_t *opts, err_t *err);

/* The task's parameters from the config (world, lengths). */
task_params_t train_task_params(const config_t *cfg);

/* "results/<task>-<algo>-s<seed>-<first 8 hex digits of config_hash>.h5" when cfg->out is empty. */
void train_out_path(const config_t *cfg, char *buf, size_t len);

#endif
