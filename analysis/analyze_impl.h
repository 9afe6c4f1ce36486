/* analyze_impl: what the files of `rlgf analyze` share (not for other modules). analyze_run
 * (analyze.c) runs their jobs in order over one analysis_t:
 *   analyze_load.c     the inputs: directories expanded, every run log read through the store's
 *                      forked reader (sim/store/h5read.h), unusable files named and left out
 *   analyze_group.c    runs grouped by config without the seed, duplicates left out, groups
 *                      named by the keys that differ, the metrics
 *   analyze_stats.c    per group: curves, final scores, levels; between groups: probability of
 *                      improvement and performance profiles of the final reward
 *   analyze_write.c    CSV files, the Markdown and LaTeX tables, the report
 *   analyze_figures.c  the figures' data files and gnuplot scripts (analysis/plot.h), rendered */
#ifndef RLGF_ANALYZE_IMPL_H
#define RLGF_ANALYZE_IMPL_H

#include <stddef.h>
#include <stdio.h>

#include "../sim/base/err.h"
#include "analyze.h"
#include "stats.h"

/* ---- helpers ---- */
/* a grown by one element of elem bytes (realloc to n + 1), or NULL when memory runs out (a is then
 * unchanged): `T *t = anl_grow(a, n, sizeof *a); if (!t) fail; a = t; a[n++] = x;` */
void *anl_grow(void *a, int n, size_t elem);
/* calloc that takes 0 elements as 1 (so NULL means only: out of memory). */
void *anl_calloc(size_t n, size_t s);
int anl_ends_with(const char *s, const char *suf);

/* ---- one run log ---- */

typedef struct {
    char *name;
    double *v; /* one value per eval row */
} col_t;

typedef struct {
    char *path;
    char *config; /* the config text without its seed line */
    char *algo;
    char *task;
    long long seed;
    int complete;
    int diverged;   /* root attribute diverged = 1: stopped on a non-finite quantity */
    char *div_what; /* "iteration N: QUANTITY" */
    size_t n_eval;
    double *e_iter, *e_split, *e_who;
    int n_cols;
    col_t *cols;
    size_t n_itr;
    double *it_iter, *it_tokens; /* it_tokens may be NULL */
    int group;                   /* -1: a duplicate, left out */
} run_t;

void anl_run_free(run_t *r);
/* The eval/ column of a metric ("reward", "ref_ppl"), or NULL. */
const double *anl_run_col(const run_t *r, const char *metric);
/* Training tokens generated before the evaluation at iteration `it`. */
double anl_run_tokens_at(const run_t *r, double it);

/* ---- statistics of one set of scores ---- */

typedef struct {
    int n;
    double mean, std, iqm, lo, hi;
} agg_t;

typedef struct {
    char *name;
    char *config; /* points into a run's config */
    int *runs;    /* indices into the run array, in seed order */
    int n_runs;
    /* evaluation points: the union of the runs' validation iterations */
    int n_pts;
    double *pt_iter, *pt_tokens;
    agg_t *curve;          /* [metric * n_pts + p] */
    agg_t *final;          /* [metric] */
    double *fin;           /* [metric * n_runs + r]: each run's final score (NaN: none) */
    double *guide, *piref; /* [metric] */
} group_t;

/* The thresholds of a performance profile. */
enum { ANL_NTAU = 101 };

/* One analysis, filled job by job. */
typedef struct {
    const analyze_opts_t *o;
    FILE *rep, *errs;
    char **paths; /* the files, directories expanded */
    int np;
    run_t *runs; /* the usable runs */
    int nr;
    int n_rejected, n_incomplete, n_dup, n_ckpt, n_diverged;
    char **incomplete; /* their paths (pointers into paths) */
    char **diverged;   /* "PATH (what became non-finite)" */
    group_t *g;
    int ng;
    char **metrics; /* pointers into the runs' column names, in report order */
    int nm, m_reward, m_kl;
    stats_boot_t boot;
    /* between groups, on the final reward */
    double **fr; /* per group: the finite final rewards of its runs */
    int *nfr;
    double *pi;      /* [(a * ng + b) * 3]: P(a > b), ci_lo, ci_hi; NaN where not computed */
    int profiles;    /* 1 when tau and prof hold the performance profiles */
    double tau[ANL_NTAU];
    stats_ci_t *prof; /* [k * ANL_NTAU + t] for the groups with nfr[k] > 0 */
    int n_figs, n_fig_fail;
} analysis_t;

/* ---- the jobs: each returns 0, or -1 with err set (out of memory, a file that cannot be
 * written, a statistic that failed); then the analysis stops with status 2 ---- */

/* analyze_load.c: the paths of args (directories expanded; 1 when some directory was unusable,
 * reported on errs), then every run log read; rejected files are counted and reported. */
int anl_gather(analysis_t *A, const char *const *args, int nargs, err_t *err);
int anl_load_runs(analysis_t *A, err_t *err);

/* analyze_group.c: groups in order of first appearance, runs in seed order, duplicates left out
 * and reported; the groups' names; the metrics. */
int anl_group_runs(analysis_t *A, err_t *err);
int anl_name_groups(analysis_t *A, err_t *err);
int anl_pick_metrics(analysis_t *A, err_t *err);

/* The config keys of the groups: kv[i] the key = value pairs of group i, keys in first-seen order
 * over the groups, diff[k] whether key k differs between groups. */
typedef struct {
    char *key, *val;
} kv_t;
typedef struct {
    int ng;
    kv_t **kv;
    int *nkv;
    char **keys; /* point into kv */
    int nk;
    int *diff;
} group_keys_t;
int anl_group_keys(const group_t *g, int ng, group_keys_t *gk, err_t *err);
void anl_group_keys_free(group_keys_t *gk);
const char *anl_kv_get(const kv_t *v, int n, const char *key);
/* "key=value key=value" over the keys that differ, but key `skip` (-1: none), for group i (an
 * empty value as '', a missing key as (unset)); with values_only the values alone, run together.
 * NULL when memory runs out. */
char *anl_join_keys(const group_keys_t *gk, int i, int skip, int values_only);

/* analyze_stats.c */
int anl_group_stats(analysis_t *A, err_t *err);
int anl_compare_groups(analysis_t *A, err_t *err);

/* analyze_write.c */
FILE *anl_open_out(const char *dir, const char *name, err_t *err);
int anl_close_out(FILE *f, const char *dir, const char *name, err_t *err);
void anl_put_num(FILE *f, double v);
void anl_fmt4(char *b, size_t n, double v);
int anl_levels_shared(const group_t *g, int ng, int nm, int guide);
int anl_write_csv(const analysis_t *A, err_t *err);
int anl_write_tables(const analysis_t *A, err_t *err);
void anl_report(const analysis_t *A);

/* analyze_figures.c: returns -1 when a data file or script could not be written; figures that
 * gnuplot failed to render (or no gnuplot) are counted in n_fig_fail and reported on errs. */
int anl_figures(analysis_t *A, err_t *err);

#endif
