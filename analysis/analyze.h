/* analyze: `rlgf analyze RUNS... -o DIR`, statistics across seeds of finished run logs (issue 5,
 * items 2 and 3). Reads run logs only (never re-runs anything).
 *
 * Runs are grouped by their resolved config (the root attribute `config`) with its `seed = ` line
 * removed; a group is named by the config keys whose values differ between groups ("algo=ppopp
 * guide.quality=0.5"), or by the algo alone when that is the only difference (or there is one
 * group). Groups are listed in the order their first run appears on the command line; runs in a
 * group are ordered by seed, so results do not depend on the order of the arguments.
 *
 * Per group and metric (every eval/<name>_mean column, plus eval/ref_ppl):
 *   - per evaluation point (eval/ rows with who = 0 and split = validation, by iteration): mean,
 *     standard deviation, IQM and the 95% percentile stratified-bootstrap CI of the IQM over the
 *     runs that have that point (analysis/stats.h);
 *   - the final score of each run (mean of its last K validation evaluations) and the same
 *     statistics over runs;
 *   - the guide's and pi_ref's levels (who = 1, 2, validation; mean over runs).
 * Between every ordered pair of groups: the probability of improvement P(X > Y) on the final
 * reward with its CI; per group, the performance profile of the final reward (fraction of runs
 * scoring above tau) with CIs. The bootstrap is seeded (--seed), so every number is reproducible.
 *
 * Outputs and figures: see ANALYZE_HELP in sim/cli/cmd_analyze.c (`rlgf analyze --help`). */
#ifndef RLGF_ANALYZE_H
#define RLGF_ANALYZE_H

#include <stdint.h>
#include <stdio.h>

#include "../sim/base/err.h"

typedef struct {
    const char *out_dir;    /* -o DIR (created if missing) */
    int last_k;             /* --last K: final score = mean of the last K validation evaluations */
    uint64_t seed;          /* --seed S: bootstrap stream seed */
    int reps;               /* --reps N: bootstrap replicates */
    int include_incomplete; /* --include-incomplete: use runs with complete = 0 */
    int plots;              /* 0 with --no-plots: CSV and tables only */
} analyze_opts_t;

/* Defaults: K = 1, seed 0, 2000 replicates, incomplete runs excluded, plots on. */
void analyze_opts_default(analyze_opts_t *o);

/* Runs the whole analysis: reads the n run logs (a directory stands for the *.h5 and *.h5.partial
 * run logs in it), writes every output under o->out_dir, prints the report on `report` and one
 * line per problem on `errs`. Returns 0 when every file was usable, 1 when some file was rejected
 * (the others are still analysed) or a figure failed, 2 when nothing could be analysed (err says
 * why). */
int analyze_run(const char *const *paths, int n, const analyze_opts_t *o, FILE *report, FILE *errs,
                err_t *err);

#endif
