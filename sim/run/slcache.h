/* slcache: the SL checkpoint a config starts from. SL is trained once per setting that affects it
 * (the SL part of the config and the program version) and kept in cache_dir under the hash of
 * those, so every RL run of a sweep reuses it; a cached file is used only when its checksums hold
 * and its stored SL text is this config's, else it is rebuilt with a note. */
#ifndef RLGF_SLCACHE_H
#define RLGF_SLCACHE_H

#include <stddef.h>

#include "../../envs/task.h"
#include "../base/config.h"
#include "../base/err.h"
#include "../base/pool.h"
#include "../nn/model.h"
#include "progress.h"

/* The SL policy for cfg: loaded from the cache when present and valid, else trained and saved
 * there; cache_path receives the file's name. NULL with a message on failure. */
model_t *slcache_policy(const config_t *cfg, const task_t *task, pool_t *pool, progress_t *prog, char *cache_path,
                        size_t cache_len, err_t *err);

#endif
