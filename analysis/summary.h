/* summary: the evaluation rows of run logs as a short table (used by `rlgf summary` and the
 * demo): for each file, the validation evaluation at the start of RL (the SL policy) and at the
 * end (the trained policy). */
#ifndef RLGF_SUMMARY_H
#define RLGF_SUMMARY_H

#include <stdio.h>

#include "../sim/base/err.h"

/* Prints one header and two rows per file (first and last validation evaluation). */
int summary_print(const char *const *paths, int n, FILE *out, err_t *err);

#endif
