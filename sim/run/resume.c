#include "resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/ckpt.h"
#include "models.h"
#include "output.h"

/* the state's values as the checkpoint stores them: doubles under these names, in this order */
static const char *const STATE_NAMES[] = {"next_iteration", "policy_adam_steps", "critic_adam_steps",
                                          "guide_critic_adam_steps", "beta_kl", "tokens", "trajectories",
                                          "evaluations", "tokens_logged"};
#define N_STATE 9

void resume_path(const char *out, char *buf, size_t len) { output_sibling(out, ".resume.h5", buf, len); }

static int read_file(const char *path, void **data, size_t *len, err_t *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, "cannot read '%s': %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)(n > 0 ? n : 1));
    size_t got = *data ? fread(*data, 1, (size_t)n, f) : 0;
    fclose(f);
    if (n < 0 || got != (size_t)n) {
        free(*data);
        return err_set(err, "cannot read '%s'", path);
    }
    *len = (size_t)n;
    return 0;
}

static int write_file(const char *path, const void *data, size_t len, err_t *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return err_set(err, "cannot write '%s': %s", path, strerror(errno));
    size_t put = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || put != len) return err_set(err, "cannot write '%s' (disk full?)", path);
    return 0;
}

int resume_save(const char *out, const char *cfg_text, model_t *policy, model_t *ref, model_t *const critics[2],
                const run_state_t *st, err_t *err) {
    char path[1100], partial[1100];
    resume_path(out, path, sizeof path);
    snprintf(partial, sizeof partial, "%s.partial", out);
    void *blob = NULL;
    size_t blen = 0;
    if (read_file(partial, &blob, &blen, err)) return -1;
    const double v[N_STATE] = {st->next_it, st->pol_step, st->crit_step[0], st->crit_step[1], st->beta_kl,
                               (double)st->tokens, (double)st->trajectories, st->evals_done,
                               (double)st->tokens_logged};
    model_t *models[4] = {policy, ref, critics[0], critics[1]};
    const char *names[4] = {"policy", "ref", "critic", "guide_critic"};
    ckpt_extra_t x = {N_STATE, STATE_NAMES, v, blob, blen};
    int rc = ckpt_save_ex(path, models, names, critics[1] ? 4 : 3, cfg_text, (int64_t)st->next_it, &x, err);
    free(blob);
    return rc;
}

int resume_load(const char *out, const char *cfg_text, model_t **policy, model_t **ref, model_t *critics[2],
                run_state_t *st, err_t *err) {
    char path[1100], partial[1100];
    resume_path(out, path, sizeof path);
    snprintf(partial, sizeof partial, "%s.partial", out);
    char *saved_cfg = NULL;
    if (ckpt_verify(path, N_STATE, STATE_NAMES, err) || ckpt_read_config(path, &saved_cfg, err)) return -1;
    int same = strcmp(saved_cfg, cfg_text) == 0;
    free(saved_cfg);
    if (!same)
        return err_set(err, "checkpoint '%s' was written by a run with another config (only threads, out, "
                       "cache_dir, log.timing and checkpoint.every may change on resume)", path);
    double v[N_STATE];
    for (int i = 0; i < N_STATE; i++)
        if (ckpt_read_state(path, STATE_NAMES[i], &v[i], err)) return -1;
    *st = (run_state_t){(int)v[0], (long)v[1], {(long)v[2], (long)v[3]}, v[4], (int64_t)v[5], (int64_t)v[6], (int)v[7],
                        (int64_t)v[8]};
    if (!(*policy = ckpt_load(path, "policy", err)) || !(*ref = ckpt_load(path, "ref", err)) ||
        !(critics[0] = ckpt_load(path, "critic", err)))
        return -1;
    err_t none;
    critics[1] = ckpt_load(path, "guide_critic", &none); /* only LOLS/D2LOLS have one */
    if (!critics[1] && !strstr(none.msg, "no model 'guide_critic'")) /* there, but damaged */
        return *err = none, -1;
    if (!run_model_finite(*policy) || !run_model_finite(*ref) || !run_model_finite(critics[0]) ||
        !run_model_finite(critics[1]))
        return err_set(err, "checkpoint '%s' holds non-finite weights: not resuming from it", path);
    void *blob = NULL;
    size_t blen = 0;
    if (ckpt_read_blob(path, &blob, &blen, err)) return -1;
    int rc = write_file(partial, blob, blen, err);
    free(blob);
    return rc;
}
