/* analyze: `rlgf analyze` (see analyze.h and ANALYZE_HELP below). */
#include "analyze.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#include "../sim/store/h5log.h"
#include "plot.h"
#include "stats.h"
#include "../sim/base/util.h"
#include "../sim/base/runcodes.h"
#include "../sim/store/h5read.h"

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

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("rlgf analyze: out of memory\n", stderr);
        exit(2);
    }
    return p;
}
static void *xcalloc(size_t n, size_t s) {
    void *p = calloc(n ? n : 1, s ? s : 1);
    if (!p) {
        fputs("rlgf analyze: out of memory\n", stderr);
        exit(2);
    }
    return p;
}
static void *xrealloc(void *q, size_t n) {
    void *p = realloc(q, n ? n : 1);
    if (!p) {
        fputs("rlgf analyze: out of memory\n", stderr);
        exit(2);
    }
    return p;
}
static char *xstrdup(const char *s) {
    size_t n = strlen(s);
    char *d = xmalloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Numbers in CSV and data files: 10 significant digits, NaN as NaN. */
static void put_num(FILE *f, double v) {
    if (isnan(v)) fputs("NaN", f);
    else if (isinf(v)) fputs(v > 0 ? "Inf" : "-Inf", f);
    else fprintf(f, "%.10g", v);
}

/* A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
static void put_csv_str(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ------------------------------------------------------------------------------------------ */
/* reading run logs                                                                            */

typedef struct {
    char *name;
    double *v; /* one value per eval row */
} col_t;

typedef struct {
    char *path;
    char *config;   /* the config text without its seed line */
    char *algo;
    char *task;
    long long seed;
    int complete;
    int diverged;         /* root attribute diverged = 1: stopped on a non-finite quantity */
    char *div_what;       /* "iteration N: QUANTITY" */
    size_t n_eval;
    double *e_iter, *e_split, *e_who;
    int n_cols;
    col_t *cols;
    size_t n_itr;
    double *it_iter, *it_tokens; /* it_tokens may be NULL */
    int group;
} run_t;

static void run_free(run_t *r) {
    free(r->path);
    free(r->config);
    free(r->algo);
    free(r->task);
    free(r->div_what);
    free(r->e_iter);
    free(r->e_split);
    free(r->e_who);
    for (int c = 0; c < r->n_cols; c++) free(r->cols[c].name), free(r->cols[c].v);
    free(r->cols);
    free(r->it_iter);
    free(r->it_tokens);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A root attribute of the listing as a malloc'ed string (strings as text, integers printed
 * exactly); NULL when missing. */
static char *listing_attr(const h5read_listing_t *ls, const char *name) {
    for (size_t i = 0; i < ls->n_attrs; i++)
        if (!strcmp(ls->attrs[i].object, "/") && !strcmp(ls->attrs[i].name, name)) return xstrdup(ls->attrs[i].value);
    return NULL;
}

typedef struct {
    char **names;
    int n;
} names_t;

static void eval_name(names_t *nm, const char *name) {
    size_t l = strlen(name);
    if ((l > 5 && ends_with(name, "_mean")) || !strcmp(name, "ref_ppl")) {
        nm->names = xrealloc(nm->names, sizeof *nm->names * (size_t)(nm->n + 1));
        nm->names[nm->n] = xstrdup(name);
        if (l > 5 && ends_with(name, "_mean")) nm->names[nm->n][l - 5] = 0;
        nm->n++;
    }
}

/* The config text without its `seed = ...` line. */
static char *strip_seed(const char *cfg) {
    char *out = xmalloc(strlen(cfg) + 2);
    size_t o = 0;
    for (const char *p = cfg; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (q < p + len && isspace((unsigned char)*q)) q++;
        int is_seed = !strncmp(q, "seed", 4) && (q[4] == ' ' || q[4] == '=' || q[4] == '\t');
        if (!is_seed) {
            memcpy(out + o, p, len);
            o += len;
            out[o++] = '\n';
        }
        p += len + (e ? 1 : 0);
    }
    out[o] = 0;
    return out;
}

static int read_col(const char *path, const char *ds, double **v, size_t *n, err_t *err) {
    if (h5log_read_column(path, ds, v, n, err) != 0) {
        *v = NULL;
        return -1;
    }
    return 0;
}

/* Loads one run log; on failure err names the file and the problem. Returns 0, -1 (not a usable
 * run log), or -2 (an rlgf model checkpoint, which a glob like results/NAME*.h5 also matches). */
static int load_run(const char *path, run_t *r, err_t *err) {
    memset(r, 0, sizeof *r);
    struct stat st;
    if (stat(path, &st) != 0) return err_set(err, "'%s': cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return err_set(err, "'%s': is a directory", path);
    /* one listing of the file's attributes and datasets, read in the forked reader (a damaged or
     * hostile file ends in an error naming it, never in a crash of analyze) */
    h5read_listing_t ls;
    if (h5read_list(path, "/trajectories", &ls, err) != 0) return -1;
    int has_models = 0;
    for (size_t i = 0; i < ls.n_datasets; i++) has_models |= !strncmp(ls.datasets[i].path, "/models/", 8);
    if (has_models && !listing_attr(&ls, "schema_version")) {
        h5read_listing_free(&ls);
        err_set(err, "'%s': an rlgf model checkpoint (NAME.policy.h5 or NAME.resume.h5), not a run log", path);
        return -2;
    }
    char *schema = listing_attr(&ls, "schema_version"), *cfg = listing_attr(&ls, "config");
    char *algo = listing_attr(&ls, "algo"), *seed = listing_attr(&ls, "seed"), *complete = listing_attr(&ls, "complete");
    char *task = listing_attr(&ls, "task"), *div = listing_attr(&ls, "diverged");
    char *div_it = listing_attr(&ls, "diverged_iteration"), *div_q = listing_attr(&ls, "diverged_quantity");
    names_t nm = {0};
    int rc = 0;
    if (!schema || !cfg || !algo || !seed || !complete) {
        rc = err_set(err, "'%s': an HDF5 file but not an rlgf run log (no root attribute %s)", path,
                     !schema ? "schema_version" : !cfg ? "config" : !algo ? "algo" : !seed ? "seed" : "complete");
    } else if (strcmp(schema, "1")) {
        rc = err_set(err, "'%s': run-log schema version %s, this program reads version 1", path, schema);
    } else {
        /* the evaluated metrics: eval/NAME_mean and eval/ref_ppl, in name order */
        for (size_t i = 0; i < ls.n_datasets; i++)
            if (!strncmp(ls.datasets[i].path, "/eval/", 6)) eval_name(&nm, ls.datasets[i].path + 6);
        qsort(nm.names, (size_t)nm.n, sizeof *nm.names, cmp_str);
    }
    h5read_listing_free(&ls);
    if (rc == 0) {
        r->path = xstrdup(path);
        r->config = strip_seed(cfg);
        r->algo = xstrdup(algo);
        r->seed = strtoll(seed, NULL, 10);
        r->complete = atoi(complete) != 0;
        r->task = xstrdup(task ? task : "?");
        r->diverged = div && atoi(div) == 1;
        if (r->diverged) {
            size_t l = 64 + (div_it ? strlen(div_it) : 1) + (div_q ? strlen(div_q) : 1);
            r->div_what = xmalloc(l);
            snprintf(r->div_what, l, "iteration %s: %s not finite", div_it ? div_it : "?", div_q ? div_q : "?");
        }
        size_t n1, n2;
        if (read_col(path, "eval/iteration", &r->e_iter, &r->n_eval, err) ||
            read_col(path, "eval/split", &r->e_split, &n1, err) || read_col(path, "eval/who", &r->e_who, &n2, err)) {
            rc = err_prefix(err, "damaged run log");
        } else if (n1 != r->n_eval || n2 != r->n_eval) {
            rc = err_set(err, "'%s': damaged run log: eval/ columns of different lengths", path);
        }
        for (int i = 0; rc == 0 && i < nm.n; i++) {
            char ds[300];
            snprintf(ds, sizeof ds, strcmp(nm.names[i], "ref_ppl") ? "eval/%s_mean" : "eval/%s", nm.names[i]);
            double *v;
            size_t m;
            if (read_col(path, ds, &v, &m, err)) {
                rc = err_prefix(err, "damaged run log");
                break;
            }
            if (m != r->n_eval) {
                free(v);
                rc = err_set(err, "'%s': damaged run log: %s has %zu rows, eval/iteration %zu", path, ds, m, r->n_eval);
                break;
            }
            r->cols = xrealloc(r->cols, sizeof *r->cols * (size_t)(r->n_cols + 1));
            r->cols[r->n_cols].name = nm.names[i];
            r->cols[r->n_cols].v = v;
            nm.names[i] = NULL;
            r->n_cols++;
        }
        if (rc == 0) {
            size_t m;
            err_t ignore;
            if (read_col(path, "iterations/iteration", &r->it_iter, &r->n_itr, &ignore) == 0 &&
                (read_col(path, "iterations/tokens", &r->it_tokens, &m, &ignore) != 0 || m != r->n_itr)) {
                free(r->it_tokens);
                r->it_tokens = NULL;
            }
            int have_valid = 0;
            for (size_t i = 0; i < r->n_eval; i++) have_valid |= r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID;
            if (!have_valid) rc = err_set(err, "'%s': no validation evaluation of the learner in eval/", path);
        }
        if (rc) run_free(r);
    }
    for (int i = 0; i < nm.n; i++) free(nm.names[i]);
    free(nm.names);
    free(schema), free(cfg), free(algo), free(seed), free(complete);
    free(task), free(div), free(div_it), free(div_q);
    return rc;
}

static const double *run_col(const run_t *r, const char *metric) {
    for (int c = 0; c < r->n_cols; c++)
        if (!strcmp(r->cols[c].name, metric)) return r->cols[c].v;
    return NULL;
}

/* Training tokens generated before the evaluation at iteration `it` (evaluations at iteration e
 * follow e iterations: iterations/tokens of the row with iteration e - 1; 0 at e = 0). */
static double run_tokens_at(const run_t *r, double it) {
    if (it <= 0) return 0;
    if (!r->it_tokens) return NAN;
    for (size_t i = 0; i < r->n_itr; i++)
        if (r->it_iter[i] == it - 1) return r->it_tokens[i];
    return NAN;
}

/* Expands a directory argument into its run logs (sorted by name). */
static void add_path(char ***paths, int *n, const char *p) {
    *paths = xrealloc(*paths, sizeof **paths * (size_t)(*n + 1));
    (*paths)[(*n)++] = xstrdup(p);
}


static int expand_dir(const char *dir, char ***paths, int *n, err_t *err) {
    DIR *d = opendir(dir);
    if (!d) return err_set(err, "'%s': cannot read directory: %s", dir, strerror(errno));
    char **found = NULL;
    int nf = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nme = e->d_name;
        if (nme[0] == '.') continue;
        if (!(ends_with(nme, ".h5") || ends_with(nme, ".h5.partial"))) continue;
        if (strstr(nme, ".policy.h5") || strstr(nme, ".resume.h5") || strstr(nme, ".ckpt.h5")) continue;
        size_t l = strlen(dir) + strlen(nme) + 2;
        char *p = xmalloc(l);
        snprintf(p, l, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", nme);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            found = xrealloc(found, sizeof *found * (size_t)(nf + 1));
            found[nf++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
    qsort(found, (size_t)nf, sizeof *found, cmp_str);
    for (int i = 0; i < nf; i++) {
        add_path(paths, n, found[i]);
        free(found[i]);
    }
    free(found);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* statistics                                                                                  */

typedef struct {
    int n;
    double mean, std, iqm, lo, hi;
} agg_t;

/* Statistics of the finite values among x[0..n-1] (x is reordered). */
static int aggregate(double *x, int n, const stats_boot_t *boot, agg_t *a, err_t *err) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) x[m++] = x[i];
    a->n = m;
    a->mean = a->std = a->iqm = a->lo = a->hi = NAN;
    if (m == 0) return 0;
    a->mean = stats_mean(x, m);
    a->std = stats_std(x, m);
    stats_ci_t ci;
    int st = stats_aggregate_ci1(x, m, STATS_AGG_IQM, boot, &ci);
    if (st != STATS_OK) return err_set(err, "bootstrap: %s", stats_strerror(st));
    a->iqm = ci.point;
    a->lo = ci.lo;
    a->hi = ci.hi;
    return 0;
}

typedef struct {
    char *name;
    char *config;
    int *runs; /* indices into the run array, in seed order */
    int n_runs;
    /* evaluation points: the union of the runs' validation iterations */
    int n_pts;
    double *pt_iter, *pt_tokens;
    agg_t *curve;  /* [metric * n_pts + p] */
    agg_t *final;  /* [metric] */
    double *fin;   /* [metric * n_runs + r]: each run's final score (NaN: none) */
    double *guide, *piref; /* [metric] */
} group_t;

/* The value of metric column v of run r at validation learner evaluation point `it` (the last row
 * with that iteration), or NaN. */
static double value_at(const run_t *r, const double *v, double it) {
    double out = NAN;
    for (size_t i = 0; i < r->n_eval; i++)
        if (r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID && r->e_iter[i] == it) out = v[i];
    return out;
}

/* Mean of the last k validation learner evaluations (by iteration) of column v. */
static double final_of(const run_t *r, const double *v, int k) {
    /* eval rows are written in iteration order; take them from the end */
    double s = 0;
    int m = 0;
    for (size_t i = r->n_eval; i-- > 0 && m < k;)
        if (r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID) s += v[i], m++;
    return m ? s / m : NAN;
}

/* The level of who (1 guide, 2 pi_ref) for column v: its validation row (the first), or NaN. */
static double level_of(const run_t *r, const double *v, int who) {
    for (size_t i = 0; i < r->n_eval; i++)
        if (r->e_who[i] == who && r->e_split[i] == SPLIT_VALID) return v[i];
    return NAN;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------------------------------------ */
/* group naming                                                                                */

typedef struct {
    char *key, *val;
} kv_t;

static int parse_kv(const char *cfg, kv_t **out) {
    int n = 0;
    kv_t *v = NULL;
    for (const char *p = cfg; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq) {
            const char *ks = p, *ke = eq, *vs = eq + 1, *ve = p + len;
            while (ks < ke && isspace((unsigned char)*ks)) ks++;
            while (ke > ks && isspace((unsigned char)ke[-1])) ke--;
            while (vs < ve && isspace((unsigned char)*vs)) vs++;
            while (ve > vs && isspace((unsigned char)ve[-1])) ve--;
            v = xrealloc(v, sizeof *v * (size_t)(n + 1));
            v[n].key = strndup(ks, (size_t)(ke - ks));
            v[n].val = strndup(vs, (size_t)(ve - vs));
            if (!v[n].key || !v[n].val) abort();
            n++;
        }
        p += len + (e ? 1 : 0);
    }
    *out = v;
    return n;
}

static const char *kv_get(const kv_t *v, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].key, key)) return v[i].val;
    return NULL;
}

/* Names each group by the keys whose values differ between groups. */
static void name_groups(group_t *g, int ng, const run_t *runs) {
    kv_t **kv = xcalloc((size_t)ng, sizeof *kv);
    int *nkv = xcalloc((size_t)ng, sizeof *nkv);
    for (int i = 0; i < ng; i++) nkv[i] = parse_kv(g[i].config, &kv[i]);
    /* keys in first-seen order over the groups */
    char **keys = NULL;
    int nk = 0;
    for (int i = 0; i < ng; i++)
        for (int j = 0; j < nkv[i]; j++) {
            int seen = 0;
            for (int k = 0; k < nk && !seen; k++) seen = !strcmp(keys[k], kv[i][j].key);
            if (!seen) keys = xrealloc(keys, sizeof *keys * (size_t)(nk + 1)), keys[nk++] = kv[i][j].key;
        }
    int *diff = xcalloc((size_t)(nk ? nk : 1), sizeof *diff);
    int ndiff = 0, algo_only = 1;
    for (int k = 0; k < nk; k++) {
        const char *v0 = kv_get(kv[0], nkv[0], keys[k]);
        for (int i = 1; i < ng && !diff[k]; i++) {
            const char *vi = kv_get(kv[i], nkv[i], keys[k]);
            diff[k] = (!v0 != !vi) || (v0 && vi && strcmp(v0, vi));
        }
        if (diff[k]) {
            ndiff++;
            if (strcmp(keys[k], "algo")) algo_only = 0;
        }
    }
    for (int i = 0; i < ng; i++) {
        size_t cap = 64, len = 0;
        char *s = xmalloc(cap);
        s[0] = 0;
        if (ndiff == 0 || algo_only) {
            const char *a = kv_get(kv[i], nkv[i], "algo");
            free(s);
            s = xstrdup(a ? a : runs[g[i].runs[0]].algo);
            if (ndiff == 0 && ng > 1) { /* cannot happen: groups differ in their config */
                free(s);
                s = xstrdup(runs[g[i].runs[0]].algo);
            }
        } else {
            for (int k = 0; k < nk; k++) {
                if (!diff[k]) continue;
                const char *v = kv_get(kv[i], nkv[i], keys[k]);
                size_t need = len + strlen(keys[k]) + strlen(v ? v : "(unset)") + 3;
                if (need > cap) cap = 2 * need, s = xrealloc(s, cap);
                len += (size_t)sprintf(s + len, "%s%s=%s", len ? " " : "", keys[k], v ? (*v ? v : "''") : "(unset)");
            }
        }
        g[i].name = s;
    }
    for (int i = 0; i < ng; i++) {
        for (int j = 0; j < nkv[i]; j++) free(kv[i][j].key), free(kv[i][j].val);
        free(kv[i]);
    }
    free(kv);
    free(nkv);
    free(keys);
    free(diff);
}

/* ------------------------------------------------------------------------------------------ */
/* outputs                                                                                     */

static FILE *open_out(const char *dir, const char *name, err_t *err) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) err_set(err, "cannot write '%s': %s", p, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *dir, const char *name, err_t *err) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return err_set(err, "cannot write '%s/%s' (disk full?)", dir, name);
    return 0;
}

/* Short number for tables: 4 significant digits. */
static void fmt4(char *b, size_t n, double v) {
    if (isnan(v)) snprintf(b, n, "NaN");
    else snprintf(b, n, "%.4g", v);
}

static void tex_esc(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '_': case '&': case '%': case '$': case '#': case '{': case '}':
            fprintf(f, "\\%c", *s);
            break;
        case '\\': fputs("\\textbackslash{}", f); break;
        case '~': fputs("\\textasciitilde{}", f); break;
        case '^': fputs("\\textasciicircum{}", f); break;
        default: fputc(*s, f);
        }
    }
}

static void md_esc(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|' || *s == '*' || *s == '_' || *s == '`') fputc('\\', f);
        fputc(*s, f);
    }
}

/* Whether every group has the same level (mean over runs) for every metric. */
static int levels_shared(const group_t *g, int ng, int nm, int guide) {
    for (int i = 1; i < ng; i++)
        for (int m = 0; m < nm; m++) {
            double a = guide ? g[0].guide[m] : g[0].piref[m], b = guide ? g[i].guide[m] : g[i].piref[m];
            if (!(isnan(a) && isnan(b)) && a != b) return 0;
        }
    return 1;
}

static int write_tables(const char *dir, const group_t *g, int ng, char **metrics, int nm, const analyze_opts_t *o,
                        err_t *err) {
    FILE *md = open_out(dir, "final.md", err);
    if (!md) return -1;
    FILE *tx = open_out(dir, "final.tex", err);
    if (!tx) return fclose(md), -1;
    char a[64], b[64], c[64];
    fprintf(md, "Final validation scores: per run the mean of the last %d evaluation%s, then the IQM over runs "
                "[95%% stratified-bootstrap CI, %d replicates, seed %llu]; guide and SL (pi_ref): mean over runs.\n\n",
            o->last_k, o->last_k == 1 ? "" : "s", o->reps, (unsigned long long)o->seed);
    fputs("| group | runs |", md);
    for (int m = 0; m < nm; m++) fputc(' ', md), md_esc(md, metrics[m]), fputs(" |", md);
    fputs("\n|---|---:|", md);
    for (int m = 0; m < nm; m++) fputs("---|", md);
    fputc('\n', md);

    fputs("% Final validation scores written by `rlgf analyze` (needs \\usepackage{booktabs}).\n", tx);
    fprintf(tx, "%% Per run the mean of the last %d evaluation(s); IQM over runs [95%% stratified-bootstrap CI,\n"
                "%% %d replicates, seed %llu]; guide and SL (pi_ref): mean over runs.\n",
            o->last_k, o->reps, (unsigned long long)o->seed);
    fputs("\\begin{tabular}{lr", tx);
    for (int m = 0; m < nm; m++) fputc('l', tx);
    fputs("}\n\\toprule\ngroup & runs", tx);
    for (int m = 0; m < nm; m++) fputs(" & ", tx), tex_esc(tx, metrics[m]);
    fputs(" \\\\\n\\midrule\n", tx);
    for (int i = 0; i < ng; i++) {
        fputs("| ", md), md_esc(md, g[i].name), fprintf(md, " | %d |", g[i].n_runs);
        tex_esc(tx, g[i].name), fprintf(tx, " & %d", g[i].n_runs);
        for (int m = 0; m < nm; m++) {
            const agg_t *f = &g[i].final[m];
            fmt4(a, sizeof a, f->iqm), fmt4(b, sizeof b, f->lo), fmt4(c, sizeof c, f->hi);
            if (f->n == 0) {
                fputs(" - |", md);
                fputs(" & --", tx);
            } else {
                fprintf(md, " %s [%s, %s] |", a, b, c);
                fprintf(tx, " & %s [%s, %s]", a, b, c);
            }
        }
        fputc('\n', md);
        fputs(" \\\\\n", tx);
    }
    /* the guide and SL rows: one each when all groups share the levels, else one per group */
    fputs("\\midrule\n", tx);
    for (int w = 0; w < 2; w++) {
        int shared = levels_shared(g, ng, nm, w == 0);
        for (int i = 0; i < (shared ? 1 : ng); i++) {
            const double *lv = w == 0 ? g[i].guide : g[i].piref;
            const char *who = w == 0 ? "guide" : "SL (pi_ref)";
            if (shared) fprintf(md, "| %s | |", w == 0 ? "guide" : "SL (pi\\_ref)"), tex_esc(tx, who), fputs(" &", tx);
            else {
                fprintf(md, "| %s (", w == 0 ? "guide" : "SL (pi\\_ref)"), md_esc(md, g[i].name), fputs(") | |", md);
                tex_esc(tx, who), fputs(" (", tx), tex_esc(tx, g[i].name), fputs(") &", tx);
            }
            for (int m = 0; m < nm; m++) {
                if (isfinite(lv[m])) fmt4(a, sizeof a, lv[m]), fprintf(md, " %s |", a), fprintf(tx, " & %s", a);
                else fputs(" - |", md), fputs(" & --", tx);
            }
            fputc('\n', md);
            fputs(" \\\\\n", tx);
        }
    }
    fputs("\\bottomrule\n\\end{tabular}\n", tx);
    if (close_out(md, dir, "final.md", err)) return fclose(tx), -1;
    return close_out(tx, dir, "final.tex", err);
}

/* Numeric value of a config value ("0.5", "-1"); 0 when it is not a finite number. */
static int as_number(const char *v, double *x) {
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    *x = strtod(v, &end);
    return !errno && *end == 0 && isfinite(*x);
}

typedef struct {
    double x;
    int group;
} xg_t;
static int cmp_xg(const void *a, const void *b) {
    const xg_t *p = a, *q = b;
    return p->x != q->x ? (p->x > q->x) - (p->x < q->x) : p->group - q->group;
}

static void put_block_name(FILE *f, int first, const char *name) {
    fprintf(f, "%s# ", first ? "" : "\n\n");
    for (; *name; name++) fputc(*name == '\n' ? ' ' : *name, f);
    fputc('\n', f);
}

/* For every numeric config key other than algo whose value differs between groups (e.g.
 * guide.quality, beta, tau): the data and script of the final reward against it. Appends the
 * figure names to *figs. */
static int final_vs_figures(const char *dir, const group_t *g, int ng, int m_reward, char ***figs, int *nf,
                            err_t *err) {
    if (ng < 2 || m_reward < 0) return 0;
    kv_t **kv = xcalloc((size_t)ng, sizeof *kv);
    int *nkv = xcalloc((size_t)ng, sizeof *nkv);
    for (int i = 0; i < ng; i++) nkv[i] = parse_kv(g[i].config, &kv[i]);
    const char **keys = NULL;
    int nk = 0;
    for (int i = 0; i < ng; i++)
        for (int j = 0; j < nkv[i]; j++) {
            int seen = 0;
            for (int k = 0; k < nk && !seen; k++) seen = !strcmp(keys[k], kv[i][j].key);
            if (!seen) keys = xrealloc(keys, sizeof *keys * (size_t)(nk + 1)), keys[nk++] = kv[i][j].key;
        }
    int *diff = xcalloc((size_t)(nk ? nk : 1), sizeof *diff);
    for (int k = 0; k < nk; k++) {
        const char *v0 = kv_get(kv[0], nkv[0], keys[k]);
        for (int i = 1; i < ng && !diff[k]; i++) {
            const char *vi = kv_get(kv[i], nkv[i], keys[k]);
            diff[k] = (!v0 != !vi) || (v0 && vi && strcmp(v0, vi));
        }
    }
    int rc = 0;
    xg_t *xg = xcalloc((size_t)ng, sizeof *xg);
    char **label = xcalloc((size_t)ng, sizeof *label);
    int *series = xcalloc((size_t)ng, sizeof *series);
    for (int k = 0; k < nk && rc == 0; k++) {
        if (!diff[k] || !strcmp(keys[k], "algo")) continue;
        int numeric = 1;
        for (int i = 0; i < ng && numeric; i++) numeric = as_number(kv_get(kv[i], nkv[i], keys[k]), &xg[i].x), xg[i].group = i;
        if (!numeric) continue;
        /* series: the values of the other differing keys */
        int others = 0, other_algo_only = 1;
        for (int o = 0; o < nk; o++)
            if (o != k && diff[o]) others++, other_algo_only &= !strcmp(keys[o], "algo");
        int ns = 0;
        char **snames = xcalloc((size_t)ng, sizeof *snames);
        for (int i = 0; i < ng; i++) {
            size_t cap = 64, len = 0;
            char *l = xmalloc(cap);
            l[0] = 0;
            for (int o = 0; o < nk; o++) {
                if (o == k || !diff[o]) continue;
                const char *v = kv_get(kv[i], nkv[i], keys[o]);
                v = v ? (*v ? v : "''") : "(unset)";
                size_t need = len + strlen(keys[o]) + strlen(v) + 3;
                if (need > cap) cap = 2 * need, l = xrealloc(l, cap);
                if (others && other_algo_only) len += (size_t)sprintf(l + len, "%s", v);
                else len += (size_t)sprintf(l + len, "%s%s=%s", len ? " " : "", keys[o], v);
            }
            if (!others) {
                const char *a = kv_get(kv[i], nkv[i], "algo");
                free(l);
                l = xstrdup(a ? a : "runs");
            }
            label[i] = l;
            int sidx = 0;
            while (sidx < ns && strcmp(snames[sidx], l)) sidx++;
            if (sidx == ns) snames[ns++] = l;
            series[i] = sidx;
        }
        int ndistinct = 0;
        qsort(xg, (size_t)ng, sizeof *xg, cmp_xg);
        for (int i = 0; i < ng; i++) ndistinct += i == 0 || xg[i].x != xg[i - 1].x;
        if (ndistinct >= 2) {
            char safe[256], fig[300], data[300];
            snprintf(safe, sizeof safe, "%s", keys[k]);
            for (char *c = safe; *c; c++)
                if (!isalnum((unsigned char)*c)) *c = '_';
            snprintf(fig, sizeof fig, "fig_final_vs_%s", safe);
            snprintf(data, sizeof data, "final_vs_%s.dat", safe);
            FILE *f = open_out(dir, data, err);
            if (!f) rc = -1;
            if (f) {
                fprintf(f, "# final validation reward against %s, one block per series; then the levels\n"
                           "# %s iqm ci_lo ci_hi n_runs\n", keys[k], keys[k]);
                for (int sidx = 0; sidx < ns; sidx++) {
                    put_block_name(f, sidx == 0, snames[sidx]);
                    for (int i = 0; i < ng; i++) {
                        const group_t *G = &g[xg[i].group];
                        const agg_t *a = &G->final[m_reward];
                        if (series[xg[i].group] != sidx || !a->n) continue;
                        put_num(f, xg[i].x), fputc(' ', f), put_num(f, a->iqm), fputc(' ', f), put_num(f, a->lo);
                        fputc(' ', f), put_num(f, a->hi), fprintf(f, " %d\n", a->n);
                    }
                }
                put_block_name(f, 0, "levels: value guide pi_ref");
                for (int i = 0; i < ng;) {
                    int j = i;
                    double sg = 0, sr = 0;
                    int cg = 0, cr = 0;
                    for (; j < ng && xg[j].x == xg[i].x; j++) {
                        double gv = g[xg[j].group].guide[m_reward], rv = g[xg[j].group].piref[m_reward];
                        if (isfinite(gv)) sg += gv, cg++;
                        if (isfinite(rv)) sr += rv, cr++;
                    }
                    put_num(f, xg[i].x), fputc(' ', f), put_num(f, cg ? sg / cg : NAN), fputc(' ', f);
                    put_num(f, cr ? sr / cr : NAN), fputc('\n', f);
                    i = j;
                }
                if (close_out(f, dir, data, err)) rc = -1;
            }
            if (rc == 0 && plot_final_vs(dir, fig, data, keys[k], ns, (const char *const *)snames, err)) rc = -1;
            if (rc == 0) *figs = xrealloc(*figs, sizeof **figs * (size_t)(*nf + 1)), (*figs)[(*nf)++] = xstrdup(fig);
        }
        for (int i = 0; i < ng; i++) free(label[i]), label[i] = NULL;
        free(snames);
    }
    free(xg);
    free(label);
    free(series);
    for (int i = 0; i < ng; i++) {
        for (int j = 0; j < nkv[i]; j++) free(kv[i][j].key), free(kv[i][j].val);
        free(kv[i]);
    }
    free(kv);
    free(nkv);
    free(keys);
    free(diff);
    return rc;
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

static int metric_rank(const char *m) {
    return !strcmp(m, "reward") ? 0 : !strcmp(m, "kl") ? 1 : !strcmp(m, "ref_ppl") ? 3 : 2;
}
static int cmp_metric(const void *a, const void *b) {
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    int rx = metric_rank(x), ry = metric_rank(y);
    return rx != ry ? rx - ry : strcmp(x, y);
}

typedef struct {
    long long seed;
    int idx;
} seed_idx_t;
static int cmp_seed(const void *a, const void *b) {
    const seed_idx_t *x = a, *y = b;
    if (x->seed != y->seed) return (x->seed > y->seed) - (x->seed < y->seed);
    return x->idx - y->idx;
}

int analyze_run(const char *const *args, int nargs, const analyze_opts_t *o, FILE *rep, FILE *errs, err_t *err) {
    int rc = 0;
    char **paths = NULL;
    int np = 0;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            err_t e;
            int before = np;
            if (expand_dir(args[i], &paths, &np, &e) != 0) {
                fprintf(errs, "rlgf analyze: error: %s\n", e.msg);
                rc = 1;
            } else if (np == before) {
                fprintf(errs, "rlgf analyze: error: '%s': a directory without run logs (*.h5, *.h5.partial)\n", args[i]);
                rc = 1;
            }
        } else {
            add_path(&paths, &np, args[i]);
        }
    }

    char **metrics = NULL;
    int nm = 0;
    double *x = NULL;
    group_t *g = NULL;
    int ng = 0;

    /* read every file; reject the unusable ones by name */
    run_t *runs = xcalloc((size_t)np, sizeof *runs);
    int nr = 0, n_rejected = 0, n_incomplete = 0, n_dup = 0, n_ckpt = 0;
    char **incomplete = xcalloc((size_t)np, sizeof *incomplete);
    char **diverged = NULL;
    int n_diverged = 0;
    for (int i = 0; i < np; i++) {
        err_t e;
        int lr = load_run(paths[i], &runs[nr], &e);
        if (lr == -2) {
            fprintf(errs, "rlgf analyze: note: %s: skipped\n", e.msg);
            n_ckpt++;
            continue;
        }
        if (lr != 0) {
            fprintf(errs, "rlgf analyze: error: %s (file skipped)\n", e.msg);
            n_rejected++;
            continue;
        }
        if (runs[nr].diverged) {
            /* an outcome to report, never numbers to average (they end in NaN) */
            fprintf(errs, "rlgf analyze: warning: '%s': DIVERGED (%s): excluded from every statistic\n", paths[i],
                    runs[nr].div_what);
            diverged = xrealloc(diverged, sizeof *diverged * (size_t)(n_diverged + 1));
            size_t l = strlen(paths[i]) + strlen(runs[nr].div_what) + 8;
            diverged[n_diverged] = xmalloc(l);
            snprintf(diverged[n_diverged++], l, "%s (%s)", paths[i], runs[nr].div_what);
            run_free(&runs[nr]);
            continue;
        }
        if (!runs[nr].complete) {
            incomplete[n_incomplete++] = paths[i];
            fprintf(errs, "rlgf analyze: warning: '%s': incomplete run (complete = 0)%s\n", paths[i],
                    o->include_incomplete ? ", used (--include-incomplete)" : ", excluded (--include-incomplete uses it)");
            if (!o->include_incomplete) {
                run_free(&runs[nr]);
                continue;
            }
        }
        nr++;
    }
    if (n_rejected) rc = 1;
    /* one task per analysis: tables, curves and profiles of IMDB and toy runs side by side mean nothing */
    for (int i = 1; i < nr; i++)
        if (strcmp(runs[i].task, runs[0].task)) {
            rc = 2;
            err_set(err, "runs of different tasks: '%s' is task %s, '%s' is task %s; analyze one task at a time",
                    runs[0].path, runs[0].task, runs[i].path, runs[i].task);
            goto done;
        }

    /* groups, in order of first appearance */
    g = xcalloc((size_t)(nr ? nr : 1), sizeof *g);
    for (int i = 0; i < nr; i++) {
        int k = 0;
        while (k < ng && strcmp(g[k].config, runs[i].config)) k++;
        if (k == ng) {
            g[ng].config = runs[i].config;
            ng++;
        }
        runs[i].group = k;
    }
    for (int k = 0; k < ng; k++) {
        seed_idx_t *si = xcalloc((size_t)nr, sizeof *si);
        int m = 0;
        for (int i = 0; i < nr; i++)
            if (runs[i].group == k) si[m].seed = runs[i].seed, si[m].idx = i, m++;
        qsort(si, (size_t)m, sizeof *si, cmp_seed);
        g[k].runs = xcalloc((size_t)m, sizeof(int));
        for (int j = 0; j < m; j++) {
            if (g[k].n_runs && runs[g[k].runs[g[k].n_runs - 1]].seed == si[j].seed) {
                fprintf(errs, "rlgf analyze: warning: '%s': same config and seed as '%s' (a duplicate): left out\n",
                        runs[si[j].idx].path, runs[g[k].runs[g[k].n_runs - 1]].path);
                runs[si[j].idx].group = -1;
                n_dup++;
                continue;
            }
            g[k].runs[g[k].n_runs++] = si[j].idx;
        }
        free(si);
    }
    if (ng == 0) {
        rc = 2;
        err_set(err, "no usable run logs (%d rejected, %d incomplete and excluded, %d diverged)", n_rejected,
                o->include_incomplete ? 0 : n_incomplete, n_diverged);
        goto done;
    }
    name_groups(g, ng, runs);

    /* metrics: the union over the runs used (reward, kl, the others by name, ref_ppl) */
    for (int i = 0; i < nr; i++) {
        if (runs[i].group < 0) continue;
        for (int c = 0; c < runs[i].n_cols; c++) {
            int seen = 0;
            for (int m = 0; m < nm && !seen; m++) seen = !strcmp(metrics[m], runs[i].cols[c].name);
            if (!seen) metrics = xrealloc(metrics, sizeof *metrics * (size_t)(nm + 1)), metrics[nm++] = runs[i].cols[c].name;
        }
    }
    qsort(metrics, (size_t)nm, sizeof *metrics, cmp_metric);
    int m_reward = -1, m_kl = -1;
    for (int m = 0; m < nm; m++) {
        if (!strcmp(metrics[m], "reward")) m_reward = m;
        if (!strcmp(metrics[m], "kl")) m_kl = m;
    }

    stats_boot_t boot = stats_boot_default(o->seed);
    boot.reps = o->reps;
    int maxr = 0;
    for (int k = 0; k < ng; k++) maxr = g[k].n_runs > maxr ? g[k].n_runs : maxr;
    x = xcalloc((size_t)maxr + 1, sizeof *x);

    /* per group: evaluation points, curves, final scores, levels */
    for (int k = 0; k < ng; k++) {
        group_t *G = &g[k];
        double *its = NULL;
        int ni = 0;
        for (int j = 0; j < G->n_runs; j++) {
            const run_t *r = &runs[G->runs[j]];
            for (size_t i = 0; i < r->n_eval; i++)
                if (r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID) its = xrealloc(its, sizeof *its * (size_t)(ni + 1)), its[ni++] = r->e_iter[i];
        }
        qsort(its, (size_t)ni, sizeof *its, cmp_dbl);
        G->pt_iter = xcalloc((size_t)ni, sizeof(double));
        for (int i = 0; i < ni; i++)
            if (G->n_pts == 0 || G->pt_iter[G->n_pts - 1] != its[i]) G->pt_iter[G->n_pts++] = its[i];
        free(its);
        G->pt_tokens = xcalloc((size_t)G->n_pts, sizeof(double));
        for (int p = 0; p < G->n_pts; p++) {
            double s = 0;
            int c = 0;
            for (int j = 0; j < G->n_runs; j++) {
                const run_t *r = &runs[G->runs[j]];
                int has = 0;
                for (size_t i = 0; i < r->n_eval && !has; i++)
                    has = r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID && r->e_iter[i] == G->pt_iter[p];
                double t = has ? run_tokens_at(r, G->pt_iter[p]) : NAN;
                if (isfinite(t)) s += t, c++;
            }
            G->pt_tokens[p] = c ? s / c : NAN;
        }
        G->curve = xcalloc((size_t)nm * (size_t)G->n_pts, sizeof *G->curve);
        G->final = xcalloc((size_t)nm, sizeof *G->final);
        G->fin = xcalloc((size_t)nm * (size_t)G->n_runs, sizeof *G->fin);
        G->guide = xcalloc((size_t)nm, sizeof(double));
        G->piref = xcalloc((size_t)nm, sizeof(double));
        for (int m = 0; m < nm; m++) {
            for (int p = 0; p < G->n_pts; p++) {
                int c = 0;
                for (int j = 0; j < G->n_runs; j++) {
                    const run_t *r = &runs[G->runs[j]];
                    const double *v = run_col(r, metrics[m]);
                    if (v) x[c++] = value_at(r, v, G->pt_iter[p]);
                }
                if (aggregate(x, c, &boot, &G->curve[(size_t)m * (size_t)G->n_pts + (size_t)p], err)) {
                    rc = 2;
                    goto done;
                }
            }
            int c = 0;
            for (int j = 0; j < G->n_runs; j++) {
                const run_t *r = &runs[G->runs[j]];
                const double *v = run_col(r, metrics[m]);
                double fv = v ? final_of(r, v, o->last_k) : NAN;
                G->fin[(size_t)m * (size_t)G->n_runs + (size_t)j] = fv;
                x[c++] = fv;
            }
            if (aggregate(x, c, &boot, &G->final[m], err)) {
                rc = 2;
                goto done;
            }
            for (int w = WHO_GUIDE; w <= WHO_REF; w++) {
                double s = 0;
                int cnt = 0;
                for (int j = 0; j < G->n_runs; j++) {
                    const run_t *r = &runs[G->runs[j]];
                    const double *v = run_col(r, metrics[m]);
                    double lv = v ? level_of(r, v, w) : NAN;
                    if (isfinite(lv)) s += lv, cnt++;
                }
                (w == 1 ? G->guide : G->piref)[m] = cnt ? s / cnt : NAN;
            }
        }
    }

    if (util_mkdir_p(o->out_dir, err)) {
        rc = 2;
        goto done;
    }
    const char *dir = o->out_dir;
    FILE *f;

    /* curves.csv and the curve data files */
    if (!(f = open_out(dir, "curves.csv", err))) goto fail_out;
    fputs("group,metric,iteration,tokens,n_runs,mean,std,iqm,ci_lo,ci_hi\n", f);
    for (int k = 0; k < ng; k++)
        for (int m = 0; m < nm; m++)
            for (int p = 0; p < g[k].n_pts; p++) {
                const agg_t *a = &g[k].curve[(size_t)m * (size_t)g[k].n_pts + (size_t)p];
                if (a->n == 0) continue;
                put_csv_str(f, g[k].name), fputc(',', f), put_csv_str(f, metrics[m]), fputc(',', f);
                put_num(f, g[k].pt_iter[p]), fputc(',', f), put_num(f, g[k].pt_tokens[p]);
                fprintf(f, ",%d,", a->n);
                put_num(f, a->mean), fputc(',', f), put_num(f, a->std), fputc(',', f), put_num(f, a->iqm);
                fputc(',', f), put_num(f, a->lo), fputc(',', f), put_num(f, a->hi), fputc('\n', f);
            }
    if (close_out(f, dir, "curves.csv", err)) goto fail_out;

    /* final.csv */
    if (!(f = open_out(dir, "final.csv", err))) goto fail_out;
    fputs("group,metric,n_runs,last_k,mean,std,iqm,ci_lo,ci_hi,guide,pi_ref\n", f);
    for (int k = 0; k < ng; k++)
        for (int m = 0; m < nm; m++) {
            const agg_t *a = &g[k].final[m];
            put_csv_str(f, g[k].name), fputc(',', f), put_csv_str(f, metrics[m]);
            fprintf(f, ",%d,%d,", a->n, o->last_k);
            put_num(f, a->mean), fputc(',', f), put_num(f, a->std), fputc(',', f), put_num(f, a->iqm);
            fputc(',', f), put_num(f, a->lo), fputc(',', f), put_num(f, a->hi), fputc(',', f);
            put_num(f, g[k].guide[m]), fputc(',', f), put_num(f, g[k].piref[m]), fputc('\n', f);
        }
    if (close_out(f, dir, "final.csv", err)) goto fail_out;

    /* runs.csv */
    if (!(f = open_out(dir, "runs.csv", err))) goto fail_out;
    fputs("group,file,seed,complete,metric,final\n", f);
    for (int k = 0; k < ng; k++)
        for (int j = 0; j < g[k].n_runs; j++) {
            const run_t *r = &runs[g[k].runs[j]];
            for (int m = 0; m < nm; m++) {
                put_csv_str(f, g[k].name), fputc(',', f), put_csv_str(f, r->path);
                fprintf(f, ",%lld,%d,", r->seed, r->complete), put_csv_str(f, metrics[m]), fputc(',', f);
                put_num(f, g[k].fin[(size_t)m * (size_t)g[k].n_runs + (size_t)j]), fputc('\n', f);
            }
        }
    if (close_out(f, dir, "runs.csv", err)) goto fail_out;

    /* probability of improvement on the final reward, every ordered pair */
    double *pi = xcalloc((size_t)ng * (size_t)ng * 3, sizeof *pi);
    for (size_t i = 0; i < (size_t)ng * (size_t)ng * 3; i++) pi[i] = NAN;
    if (!(f = open_out(dir, "prob_improvement.csv", err))) goto fail_out;
    fputs("group_x,group_y,metric,n_x,n_y,p,ci_lo,ci_hi\n", f);
    double **fr = xcalloc((size_t)ng, sizeof *fr);
    int *nfr = xcalloc((size_t)ng, sizeof *nfr);
    if (m_reward >= 0) {
        for (int k = 0; k < ng; k++) {
            fr[k] = xcalloc((size_t)g[k].n_runs, sizeof(double));
            for (int j = 0; j < g[k].n_runs; j++) {
                double v = g[k].fin[(size_t)m_reward * (size_t)g[k].n_runs + (size_t)j];
                if (isfinite(v)) fr[k][nfr[k]++] = v;
            }
        }
        for (int a = 0; a < ng; a++)
            for (int b = 0; b < ng; b++) {
                if (a == b || !nfr[a] || !nfr[b]) continue;
                const double *xa = fr[a], *xb = fr[b];
                stats_tasks_t X = stats_tasks_one(&xa, &nfr[a]), Y = stats_tasks_one(&xb, &nfr[b]);
                stats_ci_t ci;
                int st = stats_prob_improvement_ci(&X, &Y, &boot, &ci);
                if (st != STATS_OK) {
                    fclose(f);
                    rc = 2;
                    err_set(err, "probability of improvement: %s", stats_strerror(st));
                    goto done;
                }
                double *d = &pi[((size_t)a * (size_t)ng + (size_t)b) * 3];
                d[0] = ci.point, d[1] = ci.lo, d[2] = ci.hi;
                put_csv_str(f, g[a].name), fputc(',', f), put_csv_str(f, g[b].name);
                fprintf(f, ",reward,%d,%d,", nfr[a], nfr[b]);
                put_num(f, ci.point), fputc(',', f), put_num(f, ci.lo), fputc(',', f), put_num(f, ci.hi), fputc('\n', f);
            }
    }
    if (close_out(f, dir, "prob_improvement.csv", err)) goto fail_out;

    /* performance profiles of the final reward: 101 thresholds spanning every group's runs */
    enum { NTAU = 101 };
    double tau[NTAU];
    if (!(f = open_out(dir, "profiles.csv", err))) goto fail_out;
    fputs("group,metric,tau,fraction,ci_lo,ci_hi\n", f);
    FILE *pd = NULL;
    if (o->plots && !(pd = open_out(dir, "profile_reward.dat", err))) {
        fclose(f);
        goto fail_out;
    }
    if (pd) fputs("# performance profile of the final validation reward, one block per group\n# tau fraction ci_lo ci_hi\n", pd);
    if (m_reward >= 0) {
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < ng; k++)
            for (int j = 0; j < nfr[k]; j++) lo = fr[k][j] < lo ? fr[k][j] : lo, hi = fr[k][j] > hi ? fr[k][j] : hi;
        if (lo <= hi) {
            double pad = hi > lo ? 0.05 * (hi - lo) : (fabs(lo) > 0 ? 0.05 * fabs(lo) : 0.05);
            lo -= pad, hi += pad;
            for (int t = 0; t < NTAU; t++) tau[t] = lo + (hi - lo) * t / (NTAU - 1);
            stats_ci_t prof[NTAU];
            for (int k = 0; k < ng; k++) {
                if (pd) fprintf(pd, "%s# ", k ? "\n\n" : ""), fputs(g[k].name, pd), fputc('\n', pd);
                if (!nfr[k]) continue;
                const double *xk = fr[k];
                stats_tasks_t X = stats_tasks_one(&xk, &nfr[k]);
                int st = stats_profile_ci(&X, STATS_PROFILE_RUNS, tau, NTAU, &boot, prof);
                if (st != STATS_OK) {
                    fclose(f);
                    if (pd) fclose(pd);
                    rc = 2;
                    err_set(err, "performance profile: %s", stats_strerror(st));
                    goto done;
                }
                for (int t = 0; t < NTAU; t++) {
                    put_csv_str(f, g[k].name), fputs(",reward,", f), put_num(f, tau[t]), fputc(',', f);
                    put_num(f, prof[t].point), fputc(',', f), put_num(f, prof[t].lo), fputc(',', f);
                    put_num(f, prof[t].hi), fputc('\n', f);
                    if (pd) {
                        put_num(pd, tau[t]), fputc(' ', pd), put_num(pd, prof[t].point), fputc(' ', pd);
                        put_num(pd, prof[t].lo), fputc(' ', pd), put_num(pd, prof[t].hi), fputc('\n', pd);
                    }
                }
            }
        }
    }
    if (close_out(f, dir, "profiles.csv", err)) goto fail_out;
    if (pd && close_out(pd, dir, "profile_reward.dat", err)) goto fail_out;

    if (write_tables(dir, g, ng, metrics, nm, o, err)) goto fail_out;
    if (n_diverged) {
        /* the table's readers must see that runs are missing from it, and why */
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/final.md", dir);
        FILE *md = fopen(p, "a");
        if (!md) {
            err_set(err, "cannot write '%s': %s", p, strerror(errno));
            goto fail_out;
        }
        fprintf(md, "\nDiverged runs, excluded from every statistic above:\n\n");
        for (int i = 0; i < n_diverged; i++) fprintf(md, "- DIVERGED: %s\n", diverged[i]);
        if (fclose(md) != 0) {
            err_set(err, "cannot write '%s': %s", p, strerror(errno));
            goto fail_out;
        }
    }

    /* figures */
    int n_figs = 0, n_fig_fail = 0;
    if (o->plots) {
        int have = plot_have_gnuplot();
        plot_series_t *ser = xcalloc((size_t)ng, sizeof *ser);
        char fig[512];
        char **figs = NULL;
        int nf = 0;
        for (int m = 0; m < nm; m++) {
            char dn[300];
            snprintf(dn, sizeof dn, "curve_%s.dat", metrics[m]);
            if (!(f = open_out(dir, dn, err))) goto fail_out;
            fprintf(f, "# learning curves of %s (validation), one block per group\n"
                       "# iteration tokens n_runs mean std iqm ci_lo ci_hi\n", metrics[m]);
            int allpos = 1, rows = 0;
            double ymin = INFINITY, ymax = -INFINITY;
            for (int k = 0; k < ng; k++) {
                fprintf(f, "%s# ", k ? "\n\n" : ""), fputs(g[k].name, f), fputc('\n', f);
                for (int p = 0; p < g[k].n_pts; p++) {
                    const agg_t *a = &g[k].curve[(size_t)m * (size_t)g[k].n_pts + (size_t)p];
                    if (a->n == 0) continue;
                    rows++;
                    put_num(f, g[k].pt_iter[p]), fputc(' ', f), put_num(f, g[k].pt_tokens[p]);
                    fprintf(f, " %d ", a->n);
                    put_num(f, a->mean), fputc(' ', f), put_num(f, a->std), fputc(' ', f), put_num(f, a->iqm);
                    fputc(' ', f), put_num(f, a->lo), fputc(' ', f), put_num(f, a->hi), fputc('\n', f);
                    if (!(a->lo > 0)) allpos = 0;
                    ymin = fmin(ymin, a->lo), ymax = fmax(ymax, a->hi);
                }
                ser[k].name = g[k].name;
                ser[k].guide = g[k].guide[m];
                ser[k].piref = g[k].piref[m];
                if (isfinite(ser[k].guide) && !(ser[k].guide > 0)) allpos = 0;
                if (isfinite(ser[k].piref) && !(ser[k].piref > 0)) allpos = 0;
                if (isfinite(ser[k].guide)) ymin = fmin(ymin, ser[k].guide), ymax = fmax(ymax, ser[k].guide);
                if (isfinite(ser[k].piref)) ymin = fmin(ymin, ser[k].piref), ymax = fmax(ymax, ser[k].piref);
            }
            if (close_out(f, dir, dn, err)) goto fail_out;
            /* perplexities spanning more than a decade: log scale */
            int logy = allpos && ends_with(metrics[m], "ppl") && ymax > 10 * ymin;
            for (int xt = 0; xt < 2 && rows; xt++) { /* no finite value anywhere: no figure */
                snprintf(fig, sizeof fig, "fig_%s_%s", metrics[m], xt ? "tokens" : "iter");
                if (plot_curve(dir, fig, metrics[m], xt, ng, ser, logy, err)) goto fail_out;
                figs = xrealloc(figs, sizeof *figs * (size_t)(nf + 1)), figs[nf++] = xstrdup(fig);
            }
        }
        if (m_reward >= 0) {
            for (int k = 0; k < ng; k++) ser[k].name = g[k].name, ser[k].guide = g[k].guide[m_reward], ser[k].piref = g[k].piref[m_reward];
            if (m_kl >= 0) {
                FILE *tp = open_out(dir, "tradeoff_path.dat", err);
                if (!tp) goto fail_out;
                FILE *tf = open_out(dir, "tradeoff_final.dat", err);
                if (!tf) {
                    fclose(tp);
                    goto fail_out;
                }
                fputs("# reward against KL to pi_ref at each evaluation point (IQM over seeds), one block per group\n"
                      "# iteration kl_iqm reward_iqm\n", tp);
                fputs("# final reward against final KL to pi_ref (IQM and 95% CI), one block per group\n"
                      "# kl_iqm kl_lo kl_hi reward_iqm reward_lo reward_hi\n", tf);
                for (int k = 0; k < ng; k++) {
                    fprintf(tp, "%s# ", k ? "\n\n" : ""), fputs(g[k].name, tp), fputc('\n', tp);
                    fprintf(tf, "%s# ", k ? "\n\n" : ""), fputs(g[k].name, tf), fputc('\n', tf);
                    for (int p = 0; p < g[k].n_pts; p++) {
                        const agg_t *a = &g[k].curve[(size_t)m_kl * (size_t)g[k].n_pts + (size_t)p];
                        const agg_t *b = &g[k].curve[(size_t)m_reward * (size_t)g[k].n_pts + (size_t)p];
                        if (!a->n || !b->n) continue;
                        put_num(tp, g[k].pt_iter[p]), fputc(' ', tp), put_num(tp, a->iqm), fputc(' ', tp);
                        put_num(tp, b->iqm), fputc('\n', tp);
                    }
                    const agg_t *a = &g[k].final[m_kl], *b = &g[k].final[m_reward];
                    if (a->n && b->n) {
                        put_num(tf, a->iqm), fputc(' ', tf), put_num(tf, a->lo), fputc(' ', tf), put_num(tf, a->hi);
                        fputc(' ', tf), put_num(tf, b->iqm), fputc(' ', tf), put_num(tf, b->lo), fputc(' ', tf);
                        put_num(tf, b->hi), fputc('\n', tf);
                    }
                }
                if (close_out(tp, dir, "tradeoff_path.dat", err)) {
                    fclose(tf);
                    goto fail_out;
                }
                if (close_out(tf, dir, "tradeoff_final.dat", err)) goto fail_out;
                if (plot_tradeoff(dir, "fig_tradeoff", ng, ser, err)) goto fail_out;
                figs = xrealloc(figs, sizeof *figs * (size_t)(nf + 1)), figs[nf++] = xstrdup("fig_tradeoff");
            }
            int any = 0;
            for (int k = 0; k < ng; k++) any |= nfr[k] > 0;
            if (any) {
                if (plot_profile(dir, "fig_profile_reward", ng, ser, err)) goto fail_out;
                figs = xrealloc(figs, sizeof *figs * (size_t)(nf + 1)), figs[nf++] = xstrdup("fig_profile_reward");
            }
        }
        free(ser);
        if (final_vs_figures(dir, g, ng, m_reward, &figs, &nf, err)) goto fail_out;
        if (!have) {
            fprintf(errs, "rlgf analyze: error: gnuplot not found: figure scripts and data are in %s, but no "
                          "figures were made (install gnuplot-nox, e.g. `make deps`, then `cd %s && gnuplot "
                          "fig_reward_iter.gp`)\n", dir, dir);
            n_fig_fail = nf;
            rc = rc ? rc : 1;
        } else {
            n_fig_fail = plot_render_all(dir, figs, nf, 8, errs);
            n_figs = nf - n_fig_fail;
            if (n_fig_fail) rc = rc ? rc : 1;
        }
        for (int i = 0; i < nf; i++) free(figs[i]);
        free(figs);
    }

    /* the report */
    fprintf(rep, "rlgf analyze: %d file%s: %d run%s used in %d group%s", np, np == 1 ? "" : "s", nr - n_dup,
            nr - n_dup == 1 ? "" : "s", ng, ng == 1 ? "" : "s");
    if (n_rejected) fprintf(rep, ", %d rejected", n_rejected);
    if (n_incomplete)
        fprintf(rep, ", %d incomplete%s", n_incomplete, o->include_incomplete ? " (included)" : " (excluded)");
    if (n_diverged) fprintf(rep, ", %d diverged (excluded)", n_diverged);
    if (n_dup) fprintf(rep, ", %d duplicate%s left out", n_dup, n_dup == 1 ? "" : "s");
    if (n_ckpt) fprintf(rep, ", %d model checkpoint%s skipped", n_ckpt, n_ckpt == 1 ? "" : "s");
    fputc('\n', rep);
    for (int i = 0; i < n_diverged; i++) fprintf(rep, "  DIVERGED (excluded): %s\n", diverged[i]);
    for (int i = 0; i < n_incomplete; i++)
        fprintf(rep, "  INCOMPLETE (complete = 0, %s): %s\n", o->include_incomplete ? "included" : "excluded", incomplete[i]);
    int wname = 5;
    for (int k = 0; k < ng; k++) wname = (int)strlen(g[k].name) > wname ? (int)strlen(g[k].name) : wname;
    if (wname < 11) wname = 11;
    int wrow = wname; /* the table rows also hold "guide (NAME)" and "SL (pi_ref) (NAME)" */
    if (!levels_shared(g, ng, nm, 1) || !levels_shared(g, ng, nm, 0))
        for (int k = 0; k < ng; k++) wrow = (int)strlen(g[k].name) + 14 > wrow ? (int)strlen(g[k].name) + 14 : wrow;
    fprintf(rep, "\ngroups:\n");
    for (int k = 0; k < ng; k++) {
        fprintf(rep, "  %-*s  %d run%s, seeds", wname, g[k].name, g[k].n_runs, g[k].n_runs == 1 ? "" : "s");
        for (int j = 0; j < g[k].n_runs; j++) fprintf(rep, "%s%lld", j ? "," : " ", runs[g[k].runs[j]].seed);
        int inc = 0;
        for (int j = 0; j < g[k].n_runs; j++) inc += !runs[g[k].runs[j]].complete;
        if (inc) fprintf(rep, " (%d incomplete)", inc);
        fputc('\n', rep);
    }
    int few = 0;
    for (int k = 0; k < ng; k++) few += g[k].n_runs < 2;
    if (few)
        fprintf(rep, "  note: %d group%s with a single run: no spread estimate (std NaN, CI = the value)\n", few,
                few == 1 ? "" : "s");
    fprintf(rep, "\nfinal validation score (mean of the last %d evaluation%s per run; IQM [95%% CI] over runs, "
                 "%d bootstrap replicates, seed %llu):\n",
            o->last_k, o->last_k == 1 ? "" : "s", o->reps, (unsigned long long)o->seed);
    int show[2] = {m_reward, m_kl};
    fprintf(rep, "  %-*s", wrow, "group");
    for (int s = 0; s < 2; s++)
        if (show[s] >= 0) fprintf(rep, "  %-28s", metrics[show[s]]);
    fputc('\n', rep);
    char a[32], b[32], c[32], cell[128];
    for (int k = 0; k < ng; k++) {
        fprintf(rep, "  %-*s", wrow, g[k].name);
        for (int s = 0; s < 2; s++) {
            if (show[s] < 0) continue;
            const agg_t *ag = &g[k].final[show[s]];
            fmt4(a, sizeof a, ag->iqm), fmt4(b, sizeof b, ag->lo), fmt4(c, sizeof c, ag->hi);
            snprintf(cell, sizeof cell, "%s [%s, %s]", a, b, c);
            fprintf(rep, "  %-28s", ag->n ? cell : "-");
        }
        fputc('\n', rep);
    }
    for (int w = 0; w < 2; w++) {
        int shared = levels_shared(g, ng, nm, w == 0);
        for (int k = 0; k < (shared ? 1 : ng); k++) {
            char nmb[256];
            snprintf(nmb, sizeof nmb, "%s%s%s%s", w == 0 ? "guide" : "SL (pi_ref)", shared ? "" : " (",
                     shared ? "" : g[k].name, shared ? "" : ")");
            fprintf(rep, "  %-*s", wrow, nmb);
            for (int s = 0; s < 2; s++) {
                if (show[s] < 0) continue;
                double v = w == 0 ? g[k].guide[show[s]] : g[k].piref[show[s]];
                fmt4(a, sizeof a, v);
                fprintf(rep, "  %-28s", isfinite(v) ? a : "-");
            }
            fputc('\n', rep);
        }
    }
    if (ng > 1 && m_reward >= 0) {
        int narrow = 1;
        for (int k = 0; k < ng; k++) narrow &= strlen(g[k].name) <= 22;
        if (narrow) {
            fprintf(rep, "\nprobability of improvement on the final reward, P(row > column) [95%% CI]:\n  %-*s", wname, "");
            for (int b2 = 0; b2 < ng; b2++) fprintf(rep, "  %-22s", g[b2].name);
            fputc('\n', rep);
        } else {
            fprintf(rep, "\nprobability of improvement on the final reward, P(X > Y) [95%% CI] (P(Y > X) = 1 - P(X > Y)):\n");
        }
        for (int a2 = 0; a2 < ng; a2++) {
            if (narrow) fprintf(rep, "  %-*s", wname, g[a2].name);
            for (int b2 = 0; b2 < ng; b2++) {
                const double *d = &pi[((size_t)a2 * (size_t)ng + (size_t)b2) * 3];
                if (a2 == b2 || isnan(d[0])) snprintf(cell, sizeof cell, "-");
                else snprintf(cell, sizeof cell, "%.2f [%.2f, %.2f]", d[0], d[1], d[2]);
                if (narrow) fprintf(rep, "  %-22s", cell);
                else if (b2 > a2) fprintf(rep, "  P(%s > %s) = %s\n", g[a2].name, g[b2].name, cell);
            }
            if (narrow) fputc('\n', rep);
        }
    }
    fprintf(rep, "\nwrote %s/: curves.csv final.csv runs.csv prob_improvement.csv profiles.csv final.md final.tex\n", dir);
    if (o->plots)
        fprintf(rep, "figures: %d made (fig_*.svg, .pdf, .png, each from its fig_*.gp and data beside it)%s\n", n_figs,
                n_fig_fail ? ", some FAILED (see the errors above)" : "");
    for (int k = 0; k < ng; k++) free(fr[k]);
    free(fr);
    free(nfr);
    free(pi);
    goto done;

fail_out:
    rc = 2;
done:
    free(x);
    for (int k = 0; k < ng; k++) {
        free(g[k].name), free(g[k].runs), free(g[k].pt_iter), free(g[k].pt_tokens), free(g[k].curve);
        free(g[k].final), free(g[k].fin), free(g[k].guide), free(g[k].piref);
    }
    free(g);
    free(metrics);
    for (int i = 0; i < nr; i++) run_free(&runs[i]);
    free(runs);
    free(incomplete);
    for (int i = 0; i < n_diverged; i++) free(diverged[i]);
    free(diverged);
    for (int i = 0; i < np; i++) free(paths[i]);
    free(paths);
    return rc;
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
    const char **runs = xcalloc((size_t)argc, sizeof *runs);
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
