/* util: the small file-system and clock helpers every layer needs once (written one time here,
 * not per module). */
#ifndef RLGF_UTIL_H
#define RLGF_UTIL_H

#include "err.h"

/* mkdir -p: creates path and its missing parents; an existing non-directory is an error that
 * names it. Paths longer than PATH_MAX are an error. */
int util_mkdir_p(const char *path, err_t *err);

/* 1 when dir holds anything besides . and .., 0 when it is empty or missing, -1 when it cannot
 * be read (errno says why). */
int util_dir_nonempty(const char *dir);

/* The rule of every export to a directory: dir is a directory or missing, and empty unless
 * `force` (then `replaced`, e.g. "its data/", is what gets overwritten); else an error naming it. */
int util_export_dir_ok(const char *dir, int force, const char *replaced, err_t *err);

/* Seconds on a monotonic clock: for progress lines and /timing only, never for results. */
double util_now_s(void);
/* CPU seconds this process has used, all threads summed: for /timing and costs only. */
double util_cpu_s(void);

#endif
