/* resume: the resumable checkpoint of a run, OUT.resume.h5. It holds the models (policy, pi_ref,
 * the critics), the loop's state and a copy of the flushed run log, written atomically every
 * checkpoint.every iterations; a run started with --resume restarts from exactly those bytes and
 * ends byte-identical to an uninterrupted one. */
#ifndef RLGF_RESUME_H
#define RLGF_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "../base/err.h"
#include "../nn/model.h"

/* Everything besides the models and the run log that the loop carries from one iteration to the
 * next. Random streams need no state: every draw comes from a stream keyed by (seed, purpose,
 * iteration, index), so a resumed run draws exactly what an uninterrupted one would. */
typedef struct {
    int next_it;                  /* the first iteration still to run */
    long pol_step, crit_step[2];  /* Adam steps of the policy and of the two critics */
    double beta_kl;               /* the KL controller's coefficient */
    int64_t tokens, trajectories; /* totals of the training batches so far */
    int evals_done;               /* evaluation points so far: the key of their sampling streams */
    int64_t tokens_logged;        /* rows of the per-token arrays: the next token_offset */
} run_state_t;

/* OUT.resume.h5 (".h5" replaced). */
void resume_path(const char *out, char *buf, size_t len);

/* Writes OUT.resume.h5 from the models, the state and OUT.partial as it is on disk now. */
int resume_save(const char *out, const char *cfg_text, model_t *policy, model_t *ref, model_t *const critics[2],
                const run_state_t *st, err_t *err);

/* Reads OUT.resume.h5 back, when it was written with this config text: the models (critics[1]
 * only when the run had a guide critic), the state, and OUT.partial as it was then. */
int resume_load(const char *out, const char *cfg_text, model_t **policy, model_t **ref, model_t *critics[2],
                run_state_t *st, err_t *err);

#endif
