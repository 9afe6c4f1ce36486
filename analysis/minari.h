/* minari: export a run log to the Minari dataset layout (https://minari.farama.org), for users of
 * that ecosystem: DIR/data/main_data.hdf5 with one group episode_N per trajectory and
 * DIR/data/metadata.json.
 *
 * Mapping of the token MDP (documented in README):
 *   actions      (T,)   int64  the generated tokens
 *   observations (T+1, 2) int64  [prompt_index, tokens generated so far]: the state is the prompt
 *                               (regenerable from the run's seed and split) plus the episode's
 *                               first actions, so this pair identifies it
 *   rewards      (T,)   float64 the shaped per-token rewards r_t of the run log
 *   terminations (T,)   bool    true at the last token; truncations all false
 *   infos/actor, infos/logp, infos/logp_ref, infos/value, infos/advantage (T,)
 *   episode attributes: id, total_steps, iteration, split, who, prompt_index, task_reward, u, k */
#ifndef RLGF_MINARI_H
#define RLGF_MINARI_H

#include "../sim/base/err.h"

/* split: -1 for every trajectory, else only that split (0 train, 1 validation, 2 test). A dir
 * that exists and is not empty is an error unless force (then its data/ files are replaced). */
int minari_export(const char *run_path, const char *dir, int split, int force, err_t *err);

#endif
