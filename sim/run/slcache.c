#include "slcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../algos/sl.h"
#include "../base/util.h"
#include "../store/ckpt.h"
#include "../store/h5log.h"
#include "models.h"

#ifndef RLGF_VERSION
#define RLGF_VERSION "unknown"
#endif

/* The SL checkpoint for this config: loaded from the cache when present, else trained and saved. */
model_t *slcache_policy(const config_t *cfg, const task_t *task, pool_t *pool, progress_t *prog,
                        char *cache_path, size_t cache_len, err_t *err) {
    char *sl_text = cfg_sl_text(cfg);
    /* The key includes the program version: a checkpoint from other code is not this SL. */
    size_t kl = strlen(sl_text) + strlen(RLGF_VERSION) + 32;
    char *key = malloc(kl);
    snprintf(key, kl, "%sprogram_version = %s\n", sl_text, RLGF_VERSION);
    char hash[65];
    sha256_hex(key, strlen(key), hash);
    free(key);
    snprintf(cache_path, cache_len, "%s/sl-%.16s.h5", cfg->cache_dir, hash);
    model_t *policy = NULL;
    if (access(cache_path, F_OK) == 0) {
        /* Used only when it is what this config would train: its checksums hold and it was made
         * with this SL text (a file copied from another seed under this name is not). Otherwise
         * it is rebuilt, with a note even under --quiet: something changed a file behind our back. */
        err_t e2;
        char *saved = NULL;
        if (ckpt_verify(cache_path, 0, NULL, &e2) == 0 && ckpt_read_config(cache_path, &saved, &e2) == 0 &&
            strcmp(saved, sl_text) != 0)
            err_set(&e2, "%s was made with another SL config (its stored config text differs)", cache_path);
        else if (saved)
            policy = ckpt_load(cache_path, "policy", &e2);
        free(saved);
        if (policy && !run_model_finite(policy)) {
            err_set(&e2, "%s holds non-finite weights", cache_path);
            model_destroy(policy);
            policy = NULL;
        }
        if (policy) progress_note(prog, "SL: using cached checkpoint %s\n", cache_path);
        if (!policy) fprintf(stderr, "note: SL cache not used, rebuilding it: %s\n", e2.msg);
    }
    if (!policy) {
        model_config_t mc = run_model_config(cfg, task, HEAD_LM);
        policy = run_new_model(&mc, (uint64_t)cfg->seed, RNG_INIT_POLICY, 0, err);
        if (!policy) goto out;
        progress_note(prog, "SL: training %d epochs on %d examples\n", cfg->sl.epochs, cfg->sl.examples);
        if (sl_train(policy, task, pool, cfg, progress_sl_epoch, prog, err) != 0) {
            model_destroy(policy);
            policy = NULL;
            goto out;
        }
        if (util_mkdir_p(cfg->cache_dir, err) != 0 ||
            ckpt_save(cache_path, (model_t *const[]){policy}, (const char *const[]){"policy"}, 1, sl_text, 0, err) != 0) {
            err_prefix(err, "saving the SL checkpoint");
            model_destroy(policy);
            policy = NULL;
            goto out;
        }
    }
out:
    free(sl_text);
    return policy;
}

