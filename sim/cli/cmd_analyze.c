/* `rlgf analyze`: its options, help and exit codes; the analysis itself is analysis/analyze.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analysis/analyze.h"
#include "../base/err.h"

static const char *const ANALYZE_HELP =
    "usage: rlgf analyze RUNS... -o DIR [--last K] [--seed S] [--reps N] [--include-incomplete]\n"
    "                   [--no-plots]\n"
    "\n"
    "Statistics across seeds of finished run logs, with tables and gnuplot figures. Reads the run\n"
    "logs only (never re-runs anything). RUNS are run-log files (NAME.h5, NAME.h5.partial) or\n"
    "directories (every *.h5 and *.h5.partial in them that is not a *.policy.h5 or *.resume.h5).\n"
    "\n"
    "Groups. Runs are grouped by their resolved config (root attribute `config`) with the `seed`\n"
    "line removed: runs that differ only in the seed form one group. A group is named by the config\n"
    "keys whose values differ between groups (e.g. `algo=ppopp guide.quality=0.5`), or by the algo\n"
    "alone when only the algo differs or there is one group. Groups keep the order in which their\n"
    "first run appears in RUNS; within a group runs are taken in seed order. Two runs of one group\n"
    "with the same seed are duplicates: the second is reported and left out.\n"
    "\n"
    "Statistics (analysis/stats.h, as in rliable, Agarwal et al. 2021). Metrics: every\n"
    "eval/<name>_mean column of the run logs (reward, kl, output_ppl, ...) and eval/ref_ppl. For each\n"
    "group and metric:\n"
    "  - per evaluation point (eval/ rows with who = 0 (learner), split = validation; by iteration),\n"
    "    over the runs that have that point: n_runs, mean, std (ddof 1; NaN for one run), IQM (25%\n"
    "    trimmed mean; = mean for 1 to 3 runs) and the 95% percentile stratified-bootstrap CI of the\n"
    "    IQM (ci_lo, ci_hi);\n"
    "  - the final score: per run, the mean of its last K validation evaluations (--last K,\n"
    "    default 1), then the same statistics over runs;\n"
    "  - the levels of the guide (who = 1) and of pi_ref, the SL policy (who = 2): mean over runs.\n"
    "  Non-finite values (e.g. the guide's KL) are left out of the statistics.\n"
    "Between every ordered pair of groups: the probability of improvement P(X > Y) of the final\n"
    "reward (normalised Mann-Whitney U: P(x > y) + P(x = y) / 2 over pairs of runs) with its CI.\n"
    "Per group: the performance profile of the final reward (fraction of runs scoring above tau, on\n"
    "101 thresholds spanning all final rewards) with CIs. The bootstrap draws from PCG32 streams\n"
    "seeded by --seed (default 0) with --reps replicates (default 2000), so every number is\n"
    "reproducible: the same inputs and options give byte-identical CSV, tables and SVG.\n"
    "\n"
    "Outputs in DIR (created if missing):\n"
    "  curves.csv            one row per group x metric x evaluation point: group, metric, iteration,\n"
    "                        tokens (training tokens generated before that evaluation, from\n"
    "                        iterations/tokens; mean over runs), n_runs, mean, std, iqm, ci_lo, ci_hi\n"
    "  final.csv             one row per group x metric: group, metric, n_runs, last_k, mean, std, iqm,\n"
    "                        ci_lo, ci_hi, guide, pi_ref\n"
    "  runs.csv              one row per run used x metric: group, file, seed, complete, metric, final\n"
    "  prob_improvement.csv  group_x, group_y, metric, n_x, n_y, p (= P(X > Y)), ci_lo, ci_hi\n"
    "  profiles.csv          group, metric, tau, fraction, ci_lo, ci_hi\n"
    "  final.md, final.tex   the final scores as `IQM [lo, hi]`, rows = groups, columns = metrics,\n"
    "                        plus the guide and SL (pi_ref) rows (LaTeX: booktabs)\n"
    "  fig_METRIC_iter.*     learning curve against iteration (every metric)\n"
    "  fig_METRIC_tokens.*   learning curve against generated training tokens\n"
    "  fig_tradeoff.*        validation reward against KL to pi_ref: each group's path over training\n"
    "                        and its final point with CIs in both directions; pi_ref at KL 0\n"
    "  fig_profile_reward.*  performance profiles of the final reward\n"
    "  fig_final_vs_KEY.*    final reward against KEY, for every numeric config key that differs\n"
    "                        between groups (guide.quality, beta, tau, ...): one line per series of\n"
    "                        groups that agree on the other differing keys, with CI bars, and the\n"
    "                        guide's and SL's levels at each value\n"
    "Each figure comes as NAME.svg, NAME.pdf (pdfcairo) and NAME.png (pngcairo), from the gnuplot\n"
    "script NAME.gp beside it and its data files (curve_METRIC.dat, tradeoff_*.dat,\n"
    "profile_reward.dat, final_vs_KEY.dat; formats in the script's comments). Curves show the IQM\n"
    "over seeds with a shaded 95% CI band, and the guide's (dashed) and SL's (dotted) levels as\n"
    "horizontal lines. The palette is Okabe-Ito (colour-blind safe). To restyle: edit NAME.gp, then\n"
    "`cd DIR && gnuplot NAME.gp`. SVG, PDF and PNG bytes depend on the data only (no timestamps).\n"
    "Figures need gnuplot (Debian gnuplot-nox); --no-plots writes CSV and tables only.\n"
    "\n"
    "Bad inputs. A file that is missing, not HDF5, truncated or damaged, or an HDF5 file that is not\n"
    "an rlgf run log gets one error line naming it, and the other runs are still analysed. An\n"
    "incomplete run (root attribute complete = 0, e.g. NAME.h5.partial left by a killed run) is\n"
    "flagged in the report and left out, unless --include-incomplete. Model checkpoints\n"
    "(NAME.policy.h5, NAME.resume.h5, which a glob like results/NAME*.h5 also matches) are skipped with\n"
    "a note.\n"
    "Exit status: 0 all files used (incomplete runs excluded on purpose count as used); 1 some file\n"
    "rejected or a figure failed; 2 bad usage or nothing to analyse.\n"
    "\n"
    "examples:\n"
    "  rlgf analyze results/sweep -o results/analysis\n"
    "  rlgf analyze results/imdb-*.h5 -o out --last 3 --reps 10000 --seed 1\n";

static int parse_int(const char *opt, const char *s, long long lo, long long hi, long long *v, err_t *err) {
    if (!s) return err_set(err, "%s needs a value (see `rlgf analyze --help`)", opt);
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi)
        return err_set(err, "%s: '%s' is not an integer in [%lld, %lld]", opt, s, lo, hi);
    *v = x;
    return 0;
}

int analyze_main(int argc, char **argv) {
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return fputs(ANALYZE_HELP, stdout), 0;
    analyze_opts_t o;
    analyze_opts_default(&o);
    const char **runs = calloc((size_t)argc, sizeof *runs);
    if (!runs) return fputs("rlgf analyze: out of memory\n", stderr), 2;
    int n = 0;
    err_t err;
    long long v;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            if (!next) bad = err_set(&err, "%s needs a directory", a);
            else o.out_dir = next, i++;
        } else if (!strncmp(a, "--out=", 6)) {
            o.out_dir = a + 6;
        } else if (!strcmp(a, "--last")) {
            bad = parse_int(a, next, 1, 1000000, &v, &err), o.last_k = (int)v, i++;
        } else if (!strcmp(a, "--seed")) {
            bad = parse_int(a, next, 0, INT64_MAX, &v, &err), o.seed = (uint64_t)v, i++;
        } else if (!strcmp(a, "--reps")) {
            bad = parse_int(a, next, 1, 10000000, &v, &err), o.reps = (int)v, i++;
        } else if (!strcmp(a, "--include-incomplete")) {
            o.include_incomplete = 1;
        } else if (!strcmp(a, "--no-plots")) {
            o.plots = 0;
        } else if (a[0] == '-' && a[1]) {
            bad = err_set(&err, "unknown option '%s' (see `rlgf analyze --help`)", a);
        } else {
            runs[n++] = a;
        }
        if (bad) {
            fprintf(stderr, "rlgf analyze: %s\n", err.msg);
            free(runs);
            return 2;
        }
    }
    if (!o.out_dir || n == 0) {
        fprintf(stderr, "rlgf analyze: %s\nusage: rlgf analyze RUNS... -o DIR [options]  (see `rlgf analyze --help`)\n",
                !o.out_dir ? "no output directory (-o DIR)" : "no run logs given");
        free(runs);
        return 2;
    }
    int rc = analyze_run(runs, n, &o, stdout, stderr, &err);
    if (rc == 2) fprintf(stderr, "rlgf analyze: error: %s\n", err.msg);
    free(runs);
    return rc;
}
