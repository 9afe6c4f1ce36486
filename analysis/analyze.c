/* analyze: `rlgf analyze` (see analyze.h and ANALYZE_HELP below). analyze_run runs the jobs of
 * analyze_impl.h in order: gather and load the run logs, group them, the statistics, the CSV and
 * tables, the figures, the report. */
#include "analyze.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/base/util.h"
#include "analyze_impl.h"

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

/* ------------------------------------------------------------------------------------------ */
/* helpers                                                                                     */

void *anl_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("rlgf analyze: out of memory\n", stderr);
        exit(2);
    }
    return p;
}
void *anl_xcalloc(size_t n, size_t s) {
    void *p = calloc(n ? n : 1, s ? s : 1);
    if (!p) {
        fputs("rlgf analyze: out of memory\n", stderr);
        exit(2);
    }
    return p;
}
void *anl_xrealloc(void *q, size_t n) {
    void *p = realloc(q, n ? n : 1);
    if (!p) {
        fputs("rlgf analyze: out of memory\n", stderr);
        exit(2);
    }
    return p;
}
char *anl_xstrdup(const char *s) {
    size_t n = strlen(s);
    char *d = anl_xmalloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

int anl_ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* ------------------------------------------------------------------------------------------ */
/* the analysis                                                                                */

void analyze_opts_default(analyze_opts_t *o) {
    o->out_dir = NULL;
    o->last_k = 1;
    o->seed = 0;
    o->reps = STATS_BOOT_REPS_DEFAULT;
    o->include_incomplete = 0;
    o->plots = 1;
}

static void analysis_free(analysis_t *A) {
    for (int k = 0; k < A->ng; k++) {
        group_t *G = &A->g[k];
        free(G->name), free(G->runs), free(G->pt_iter), free(G->pt_tokens), free(G->curve);
        free(G->final), free(G->fin), free(G->guide), free(G->piref);
    }
    free(A->g);
    free(A->metrics);
    for (int i = 0; i < A->nr; i++) anl_run_free(&A->runs[i]);
    free(A->runs);
    free(A->incomplete);
    for (int i = 0; i < A->n_diverged; i++) free(A->diverged[i]);
    free(A->diverged);
    for (int i = 0; i < A->np; i++) free(A->paths[i]);
    free(A->paths);
    for (int k = 0; A->fr && k < A->ng; k++) free(A->fr[k]);
    free(A->fr);
    free(A->nfr);
    free(A->pi);
    free(A->prof);
}

/* The jobs after loading: 0, or 2 with err set. */
static int analyze_runs(analysis_t *A, err_t *err) {
    const analyze_opts_t *o = A->o;
    /* one task per analysis: tables, curves and profiles of IMDB and toy runs side by side mean nothing */
    for (int i = 1; i < A->nr; i++)
        if (strcmp(A->runs[i].task, A->runs[0].task))
            return err_set(err, "runs of different tasks: '%s' is task %s, '%s' is task %s; analyze one task at a time",
                           A->runs[0].path, A->runs[0].task, A->runs[i].path, A->runs[i].task), 2;
    anl_group_runs(A);
    if (A->ng == 0)
        return err_set(err, "no usable run logs (%d rejected, %d incomplete and excluded, %d diverged)", A->n_rejected,
                       o->include_incomplete ? 0 : A->n_incomplete, A->n_diverged), 2;
    anl_name_groups(A);
    anl_pick_metrics(A);
    A->boot = stats_boot_default(o->seed);
    A->boot.reps = o->reps;
    if (anl_group_stats(A, err) || anl_compare_groups(A, err) || util_mkdir_p(o->out_dir, err) ||
        anl_write_csv(A, err) || anl_write_tables(A, err))
        return 2;
    return 0;
}

int analyze_run(const char *const *args, int nargs, const analyze_opts_t *o, FILE *rep, FILE *errs, err_t *err) {
    analysis_t A = {.o = o, .rep = rep, .errs = errs, .m_reward = -1, .m_kl = -1};
    int rc = anl_gather(&A, args, nargs);
    anl_load_runs(&A);
    if (A.n_rejected) rc = 1;
    int st = analyze_runs(&A, err);
    if (st == 0) {
        int figs = anl_figures(&A, err);
        if (figs < 0) st = 2;
        else if (figs > 0 && rc == 0) rc = 1;
    }
    if (st == 0) anl_report(&A);
    analysis_free(&A);
    return st ? st : rc;
}

/* ------------------------------------------------------------------------------------------ */
/* command line                                                                                */

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
    const char **runs = anl_xcalloc((size_t)argc, sizeof *runs);
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
