/* util: the small file-system and clock helpers every layer needs once (written one time here,
 * not per module). */
#ifndef RLGF_UTIL_H
#define RLGF_UTIL_H

#include "err.h"

/* mkdir -p: creates path and its missing parents; an existing non-directory is an error that
 * names it. Paths longer than PATH_MAX are an error. */
int util_mkdir_p(const char *path, err_t *err);

/* Seconds on a monotonic clock: for progress lines and /timing only, never for results. */
double util_now_s(void);

#endif
