/* diff: where two run logs part (`rlgf diff A.h5 B.h5`). For two runs that should agree (a
 * refactor, a new kernel, another compiler) it compares the root attributes, then the config text
 * key by key, then every dataset outside /timing, and prints
 *   - each differing attribute and config key with both values;
 *   - datasets present in only one file;
 *   - the first differing elements in run order, located as a researcher reads them: iteration,
 *     training batch or evaluation (split, who), trajectory, token position, dataset, both values
 *     at full precision (%.17g, %.9g for float32, and hex);
 *   - per dataset: differing elements, max absolute and max relative difference.
 * Token arrays are compared trajectory by trajectory (a trajectory that is longer in one file
 * does not shift the comparison of the ones after it). The program_version attribute names the
 * binary and is shown but not compared (as in `rlgf digest`). Every HDF5 read goes through the
 * isolated reader (sim/store/h5read.h). */
#ifndef RLGF_DIFF_H
#define RLGF_DIFF_H

#include <stdio.h>

#include "../sim/base/err.h"

typedef struct {
    int tol;    /* 0: bitwise; 1: floats equal when |a-b| <= abs + rel * max(|a|,|b|) */
    double rel, abs;
    long max;   /* differences listed in run order (>= 1) */
} diff_opts_t;

/* Defaults: bitwise, one difference listed. */
void diff_opts_default(diff_opts_t *o);
/* Parses the argument of --tol, "REL" or "REL,ABS" (non-negative numbers). */
int diff_parse_tol(const char *s, diff_opts_t *o, err_t *err);

/* Compares run logs a and b and prints the report to out. Returns 0 when they are equal, 1 when
 * they differ, -1 on bad input (a missing or damaged file, not a run log; err names the file). */
int diff_runs(const char *a, const char *b, const diff_opts_t *o, FILE *out, err_t *err);

#endif
