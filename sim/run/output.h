/* output: the run's output file and its neighbours. Every check a run can make before the first
 * second of work (the output path, the SL cache directory, the memory the config needs), the
 * output's lock, so a mistake costs nothing and a second run on the same output never touches
 * the first one's files, and the names of the files next to it. */
#ifndef RLGF_OUTPUT_H
#define RLGF_OUTPUT_H

#include <stddef.h>

#include "../base/config.h"
#include "../base/err.h"
#include "../../envs/task.h"

/* `out` names a file whose directory can be made; with needs_sl, cache_dir is (or can be made) a
 * writable directory; the config's memory estimate fits in what this process may use. */
int preflight(const config_t *cfg, const task_t *task, const char *out, int needs_sl, err_t *err);

/* Takes OUT.lock (flock) for the whole run; *fd receives it (-1 on a file system without locks). */
int lock_output(const char *out, int *fd, err_t *err);
/* Releases and removes OUT.lock (nothing when fd < 0). */
void unlock_output(const char *out, int fd);

/* OUT with its ".h5" replaced by `suffix` (".policy.h5", ".resume.h5"; appended when OUT has no
 * ".h5"): the files a run keeps next to its log. */
void output_sibling(const char *out, const char *suffix, char *buf, size_t len);

#endif
