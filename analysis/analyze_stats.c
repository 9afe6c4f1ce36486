/* analyze_stats: the numbers of `rlgf analyze` (analysis/stats.h, as in rliable). Per group and
 * metric: at every evaluation point (eval/ rows of the learner on the validation split, by
 * iteration) over the runs that have it, and for the final score of each run (the mean of its
 * last K validation evaluations): n, mean, std, IQM and the 95% stratified-bootstrap CI of the
 * IQM; the guide's and pi_ref's levels (mean over runs). Between groups, on the final reward: the
 * probability of improvement of every ordered pair, and each group's performance profile. The
 * bootstrap is seeded (--seed): every number is reproducible. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/base/runcodes.h"
#include "analyze_impl.h"

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

/* Evaluation points of group G: the union of its runs' validation iterations, and the training
 * tokens before each (mean over the runs that have the point). -1 when memory runs out. */
static int eval_points(const analysis_t *A, group_t *G) {
    const run_t *runs = A->runs;
    double *its = NULL;
    int ni = 0;
    for (int j = 0; j < G->n_runs; j++) {
        const run_t *r = &runs[G->runs[j]];
        for (size_t i = 0; i < r->n_eval; i++)
            if (r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID) {
                double *t = anl_grow(its, ni, sizeof *its);
                if (!t) return free(its), -1;
                its = t;
                its[ni++] = r->e_iter[i];
            }
    }
    qsort(its, (size_t)ni, sizeof *its, cmp_dbl);
    if (!(G->pt_iter = anl_calloc((size_t)ni, sizeof(double)))) return free(its), -1;
    for (int i = 0; i < ni; i++)
        if (G->n_pts == 0 || G->pt_iter[G->n_pts - 1] != its[i]) G->pt_iter[G->n_pts++] = its[i];
    free(its);
    if (!(G->pt_tokens = anl_calloc((size_t)G->n_pts, sizeof(double)))) return -1;
    for (int p = 0; p < G->n_pts; p++) {
        double s = 0;
        int c = 0;
        for (int j = 0; j < G->n_runs; j++) {
            const run_t *r = &runs[G->runs[j]];
            int has = 0;
            for (size_t i = 0; i < r->n_eval && !has; i++)
                has = r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID && r->e_iter[i] == G->pt_iter[p];
            double t = has ? anl_run_tokens_at(r, G->pt_iter[p]) : NAN;
            if (isfinite(t)) s += t, c++;
        }
        G->pt_tokens[p] = c ? s / c : NAN;
    }
    return 0;
}

/* Metric m of group G: its curve, its final scores and their statistics, the levels. x: room for
 * the group's runs. */
static int metric_stats(const analysis_t *A, group_t *G, int m, double *x, err_t *err) {
    const run_t *runs = A->runs;
    const char *metric = A->metrics[m];
    for (int p = 0; p < G->n_pts; p++) {
        int c = 0;
        for (int j = 0; j < G->n_runs; j++) {
            const run_t *r = &runs[G->runs[j]];
            const double *v = anl_run_col(r, metric);
            if (v) x[c++] = value_at(r, v, G->pt_iter[p]);
        }
        if (aggregate(x, c, &A->boot, &G->curve[(size_t)m * (size_t)G->n_pts + (size_t)p], err)) return -1;
    }
    int c = 0;
    for (int j = 0; j < G->n_runs; j++) {
        const run_t *r = &runs[G->runs[j]];
        const double *v = anl_run_col(r, metric);
        double fv = v ? final_of(r, v, A->o->last_k) : NAN;
        G->fin[(size_t)m * (size_t)G->n_runs + (size_t)j] = fv;
        x[c++] = fv;
    }
    if (aggregate(x, c, &A->boot, &G->final[m], err)) return -1;
    for (int w = WHO_GUIDE; w <= WHO_REF; w++) {
        double s = 0;
        int cnt = 0;
        for (int j = 0; j < G->n_runs; j++) {
            const run_t *r = &runs[G->runs[j]];
            const double *v = anl_run_col(r, metric);
            double lv = v ? level_of(r, v, w) : NAN;
            if (isfinite(lv)) s += lv, cnt++;
        }
        (w == 1 ? G->guide : G->piref)[m] = cnt ? s / cnt : NAN;
    }
    return 0;
}

int anl_group_stats(analysis_t *A, err_t *err) {
    int maxr = 0, nm = A->nm;
    for (int k = 0; k < A->ng; k++) maxr = A->g[k].n_runs > maxr ? A->g[k].n_runs : maxr;
    double *x = anl_calloc((size_t)maxr + 1, sizeof *x);
    int rc = x ? 0 : err_set(err, "out of memory for the statistics");
    for (int k = 0; k < A->ng && rc == 0; k++) {
        group_t *G = &A->g[k];
        if (eval_points(A, G) || !(G->curve = anl_calloc((size_t)nm * (size_t)G->n_pts, sizeof *G->curve)) ||
            !(G->final = anl_calloc((size_t)nm, sizeof *G->final)) ||
            !(G->fin = anl_calloc((size_t)nm * (size_t)G->n_runs, sizeof *G->fin)) ||
            !(G->guide = anl_calloc((size_t)nm, sizeof(double))) || !(G->piref = anl_calloc((size_t)nm, sizeof(double)))) {
            rc = err_set(err, "out of memory for the statistics");
            break;
        }
        for (int m = 0; m < nm && rc == 0; m++) rc = metric_stats(A, G, m, x, err);
    }
    free(x);
    return rc;
}

/* The final rewards of each group's runs (finite ones), the probability of improvement of every
 * ordered pair of groups, and the performance profiles on 101 thresholds spanning every group's
 * runs. */
int anl_compare_groups(analysis_t *A, err_t *err) {
    int ng = A->ng, m_reward = A->m_reward;
    const group_t *g = A->g;
    A->pi = anl_calloc((size_t)ng * (size_t)ng * 3, sizeof *A->pi);
    A->fr = anl_calloc((size_t)ng, sizeof *A->fr);
    A->nfr = anl_calloc((size_t)ng, sizeof *A->nfr);
    if (!A->pi || !A->fr || !A->nfr) return err_set(err, "out of memory comparing the groups");
    for (size_t i = 0; i < (size_t)ng * (size_t)ng * 3; i++) A->pi[i] = NAN;
    if (m_reward < 0) return 0;
    double **fr = A->fr;
    int *nfr = A->nfr;
    for (int k = 0; k < ng; k++) {
        if (!(fr[k] = anl_calloc((size_t)g[k].n_runs, sizeof(double)))) return err_set(err, "out of memory comparing the groups");
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
            int st = stats_prob_improvement_ci(&X, &Y, &A->boot, &ci);
            if (st != STATS_OK) return err_set(err, "probability of improvement: %s", stats_strerror(st));
            double *d = &A->pi[((size_t)a * (size_t)ng + (size_t)b) * 3];
            d[0] = ci.point, d[1] = ci.lo, d[2] = ci.hi;
        }
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < ng; k++)
        for (int j = 0; j < nfr[k]; j++) lo = fr[k][j] < lo ? fr[k][j] : lo, hi = fr[k][j] > hi ? fr[k][j] : hi;
    if (!(lo <= hi)) return 0;
    double pad = hi > lo ? 0.05 * (hi - lo) : (fabs(lo) > 0 ? 0.05 * fabs(lo) : 0.05);
    lo -= pad, hi += pad;
    for (int t = 0; t < ANL_NTAU; t++) A->tau[t] = lo + (hi - lo) * t / (ANL_NTAU - 1);
    if (!(A->prof = anl_calloc((size_t)ng * ANL_NTAU, sizeof *A->prof))) return err_set(err, "out of memory comparing the groups");
    A->profiles = 1;
    for (int k = 0; k < ng; k++) {
        if (!nfr[k]) continue;
        const double *xk = fr[k];
        stats_tasks_t X = stats_tasks_one(&xk, &nfr[k]);
        int st = stats_profile_ci(&X, STATS_PROFILE_RUNS, A->tau, ANL_NTAU, &A->boot, A->prof + (size_t)k * ANL_NTAU);
        if (st != STATS_OK) return err_set(err, "performance profile: %s", stats_strerror(st));
    }
    return 0;
}
