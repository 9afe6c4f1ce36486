/* stats: see stats.h for the definitions and their sources. */
#include "stats.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/base/rng.h"

const char *stats_strerror(int status) {
    switch (status) {
    case STATS_OK: return "ok";
    case STATS_EINVAL: return "invalid argument (empty task, non-finite score, bad option)";
    case STATS_ENOMEM: return "out of memory";
    default: return "unknown stats status";
    }
}

/* ---- scalar statistics ---- */

double stats_mean(const double *x, int n) {
    if (n < 1) return NAN;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

double stats_std(const double *x, int n) {
    if (n < 2) return NAN;
    double m = stats_mean(x, n), ss = 0.0;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (n - 1));
}

/* Total order: ascending, -0.0 before +0.0 (so equal-comparing values never depend on qsort's
 * handling of ties), NaN last. */
static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    if (a < b) return -1;
    if (a > b) return 1;
    if (a == b) return (int)(signbit(b) != 0) - (int)(signbit(a) != 0);
    return (int)isnan(a) - (int)isnan(b);
}

void stats_sort(double *x, int n) {
    if (n > 24) {
        qsort(x, (size_t)n, sizeof *x, cmp_double);
        return;
    }
    /* Insertion sort for the small arrays of a bootstrap over seeds; under a total order the
     * result is the same array qsort gives. */
    for (int i = 1; i < n; i++) {
        double v = x[i];
        int j = i;
        for (; j > 0 && cmp_double(&x[j - 1], &v) > 0; j--) x[j] = x[j - 1];
        x[j] = v;
    }
}

double stats_quantile_sorted(const double *s, int n, double p) {
    if (n < 1 || !(p >= 0.0 && p <= 1.0)) return NAN;
    double h = (n - 1) * p;
    int k = (int)floor(h);
    if (k >= n - 1) return s[n - 1];
    double t = h - k, d = s[k + 1] - s[k];
    /* numpy's _lerp: from the nearer end, so the result is monotone in p and exact at t = 1. */
    return t >= 0.5 ? s[k + 1] - d * (1.0 - t) : s[k] + d * t;
}

double stats_median_sorted(const double *s, int n) {
    if (n < 1) return NAN;
    if (n % 2) return s[n / 2];
    return (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

double stats_iqm_sorted(const double *s, int n) {
    if (n < 1) return NAN;
    int c = n / 4; /* floor(0.25 n), scipy's int(proportiontocut * nobs) */
    return stats_mean(s + c, n - 2 * c);
}

/* A sorted copy of x, or NULL (n < 1, allocation failure, or a NaN in x). */
static double *sorted_copy(const double *x, int n) {
    if (n < 1) return NULL;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) return NULL;
    memcpy(s, x, (size_t)n * sizeof *s);
    stats_sort(s, n);
    if (isnan(s[n - 1])) { /* NaN sorts last */
        free(s);
        return NULL;
    }
    return s;
}

double stats_quantile(const double *x, int n, double p) {
    double *s = sorted_copy(x, n);
    if (!s) return NAN;
    double q = stats_quantile_sorted(s, n, p);
    free(s);
    return q;
}

double stats_median(const double *x, int n) {
    double *s = sorted_copy(x, n);
    if (!s) return NAN;
    double q = stats_median_sorted(s, n);
    free(s);
    return q;
}

double stats_iqm(const double *x, int n) {
    double *s = sorted_copy(x, n);
    if (!s) return NAN;
    double q = stats_iqm_sorted(s, n);
    free(s);
    return q;
}

/* ---- score sets ---- */

stats_tasks_t stats_tasks_one(const double *const *x, const int *n) {
    stats_tasks_t d = {x, n, 1, NULL};
    return d;
}

int stats_tasks_total(const stats_tasks_t *d) {
    int total = 0;
    for (int t = 0; t < d->n_tasks; t++) total += d->n_runs[t];
    return total;
}

/* A well-formed set: tasks and runs present, finite scores, total runs fits an int. */
static int tasks_check(const stats_tasks_t *d) {
    if (!d || d->n_tasks < 1 || !d->scores || !d->n_runs) return STATS_EINVAL;
    long long total = 0;
    for (int t = 0; t < d->n_tasks; t++) {
        if (d->n_runs[t] < 1 || !d->scores[t]) return STATS_EINVAL;
        for (int r = 0; r < d->n_runs[t]; r++)
            if (!isfinite(d->scores[t][r])) return STATS_EINVAL;
        total += d->n_runs[t];
    }
    return total > INT_MAX / 2 ? STATS_EINVAL : STATS_OK;
}

int stats_tasks_normalized(const stats_tasks_t *d, const double *lo, const double *hi,
                           stats_tasks_t *out) {
    int rc = tasks_check(d);
    if (rc) return rc;
    if (!lo || !hi || !out) return STATS_EINVAL;
    for (int t = 0; t < d->n_tasks; t++)
        if (!isfinite(lo[t]) || !isfinite(hi[t]) || hi[t] == lo[t]) return STATS_EINVAL;
    size_t nt = (size_t)d->n_tasks, total = (size_t)stats_tasks_total(d);
    /* One block: row pointers, then values, then run counts (alignment: pointers and doubles
     * first, ints last). */
    char *block = malloc(nt * sizeof(double *) + total * sizeof(double) + nt * sizeof(int));
    if (!block) return STATS_ENOMEM;
    const double **rows = (const double **)(void *)block;
    double *vals = (double *)(void *)(block + nt * sizeof(double *));
    int *counts = (int *)(void *)(block + nt * sizeof(double *) + total * sizeof(double));
    size_t off = 0;
    for (int t = 0; t < d->n_tasks; t++) {
        double range = hi[t] - lo[t];
        rows[t] = vals + off;
        counts[t] = d->n_runs[t];
        for (int r = 0; r < d->n_runs[t]; r++) vals[off + (size_t)r] = (d->scores[t][r] - lo[t]) / range;
        off += (size_t)d->n_runs[t];
    }
    out->scores = rows;
    out->n_runs = counts;
    out->n_tasks = d->n_tasks;
    out->owned = block;
    return STATS_OK;
}

void stats_tasks_free(stats_tasks_t *d) {
    if (!d) return;
    free(d->owned);
    memset(d, 0, sizeof *d);
}

/* ---- aggregates as bootstrap statistics ---- */

/* All runs of d in task order, then sorted; scratch holds stats_tasks_total(d) doubles. */
static int pool_sorted(const stats_tasks_t *d, double *scratch) {
    int k = 0;
    for (int t = 0; t < d->n_tasks; t++)
        for (int r = 0; r < d->n_runs[t]; r++) scratch[k++] = d->scores[t][r];
    stats_sort(scratch, k);
    return k;
}

static double agg_value(const stats_tasks_t *d, stats_agg_t agg, double *scratch) {
    switch (agg) {
    case STATS_AGG_MEAN:
    case STATS_AGG_MEDIAN: {
        for (int t = 0; t < d->n_tasks; t++) scratch[t] = stats_mean(d->scores[t], d->n_runs[t]);
        if (agg == STATS_AGG_MEAN) return stats_mean(scratch, d->n_tasks);
        stats_sort(scratch, d->n_tasks);
        return stats_median_sorted(scratch, d->n_tasks);
    }
    case STATS_AGG_IQM: {
        int k = pool_sorted(d, scratch);
        return stats_iqm_sorted(scratch, k);
    }
    case STATS_AGG_RUN_MEDIAN: {
        int k = pool_sorted(d, scratch);
        return stats_median_sorted(scratch, k);
    }
    case STATS_AGG_OPTIMALITY_GAP: {
        double s = 0.0;
        int k = 0;
        for (int t = 0; t < d->n_tasks; t++)
            for (int r = 0; r < d->n_runs[t]; r++, k++) s += fmin(d->scores[t][r], 1.0);
        return 1.0 - s / k;
    }
    }
    return NAN;
}

static int agg_known(stats_agg_t agg) {
    return agg == STATS_AGG_MEAN || agg == STATS_AGG_MEDIAN || agg == STATS_AGG_IQM ||
           agg == STATS_AGG_RUN_MEDIAN || agg == STATS_AGG_OPTIMALITY_GAP;
}

static void agg_fn(const stats_tasks_t *sets, int n_sets, double *scratch, void *ctx, double *out) {
    (void)n_sets;
    out[0] = agg_value(&sets[0], *(const stats_agg_t *)ctx, scratch);
}

int stats_aggregate(const stats_tasks_t *d, stats_agg_t agg, double *out) {
    int rc = tasks_check(d);
    if (rc) return rc;
    if (!agg_known(agg) || !out) return STATS_EINVAL;
    int total = stats_tasks_total(d);
    double *scratch = malloc((size_t)total * sizeof *scratch);
    if (!scratch) return STATS_ENOMEM;
    *out = agg_value(d, agg, scratch);
    free(scratch);
    return STATS_OK;
}

/* ---- the stratified bootstrap ---- */

stats_boot_t stats_boot_default(uint64_t seed) {
    stats_boot_t b = {STATS_BOOT_REPS_DEFAULT, STATS_BOOT_LEVEL_DEFAULT, seed};
    return b;
}

int stats_bootstrap(const stats_tasks_t *sets, int n_sets, int n_out, stats_fn_t fn, void *ctx,
                    const stats_boot_t *boot, stats_ci_t *out) {
    if (!sets || n_sets < 1 || n_out < 1 || !fn || !boot || !out) return STATS_EINVAL;
    if (boot->reps < 1 || !(boot->level > 0.0 && boot->level < 1.0)) return STATS_EINVAL;
    long long all_runs = 0, all_tasks = 0;
    for (int s = 0; s < n_sets; s++) {
        int rc = tasks_check(&sets[s]);
        if (rc) return rc;
        all_runs += stats_tasks_total(&sets[s]);
        all_tasks += sets[s].n_tasks;
    }
    if (all_runs > INT_MAX / 2 || (size_t)boot->reps > SIZE_MAX / sizeof(double) / (size_t)n_out)
        return STATS_EINVAL;

    int rc = STATS_ENOMEM;
    size_t reps = (size_t)boot->reps;
    double *values = malloc((size_t)all_runs * sizeof *values);     /* resampled runs */
    double *scratch = malloc((size_t)all_runs * sizeof *scratch);   /* for fn */
    const double **rows = malloc((size_t)all_tasks * sizeof *rows); /* rows into values */
    stats_tasks_t *views = malloc((size_t)n_sets * sizeof *views);
    double *one = malloc((size_t)n_out * sizeof *one);                /* fn's values */
    double *results = malloc(reps * (size_t)n_out * sizeof *results); /* results[j * reps + b] */
    if (!values || !scratch || !rows || !views || !one || !results) goto done;

    /* Views of the same shapes as the sets, over the resampled values. */
    size_t off = 0, row = 0;
    for (int s = 0; s < n_sets; s++) {
        views[s] = sets[s];
        views[s].scores = rows + row;
        views[s].owned = NULL;
        for (int t = 0; t < sets[s].n_tasks; t++, row++) {
            rows[row] = values + off;
            off += (size_t)sets[s].n_runs[t];
        }
    }

    for (size_t b = 0; b < reps; b++) {
        off = 0;
        for (int s = 0; s < n_sets; s++) {
            rng_t rng = rng_stream(boot->seed, STATS_RNG_BOOTSTRAP, b, (uint64_t)s);
            for (int t = 0; t < sets[s].n_tasks; t++) {
                int n = sets[s].n_runs[t];
                for (int r = 0; r < n; r++)
                    values[off++] = sets[s].scores[t][rng_bounded(&rng, (uint32_t)n)];
            }
        }
        fn(views, n_sets, scratch, ctx, one);
        for (int j = 0; j < n_out; j++) results[(size_t)j * reps + b] = one[j];
    }

    double alpha = (1.0 - boot->level) / 2.0;
    fn(sets, n_sets, scratch, ctx, one);
    for (int j = 0; j < n_out; j++) {
        double *col = results + (size_t)j * reps;
        stats_sort(col, boot->reps);
        out[j].point = one[j];
        out[j].lo = stats_quantile_sorted(col, boot->reps, alpha);
        out[j].hi = stats_quantile_sorted(col, boot->reps, 1.0 - alpha);
    }
    rc = STATS_OK;
done:
    free(values);
    free(scratch);
    free(rows);
    free(views);
    free(one);
    free(results);
    return rc;
}

int stats_aggregate_ci(const stats_tasks_t *d, stats_agg_t agg, const stats_boot_t *boot,
                       stats_ci_t *out) {
    if (!agg_known(agg)) return STATS_EINVAL;
    return stats_bootstrap(d, 1, 1, agg_fn, &agg, boot, out);
}

int stats_aggregate_ci1(const double *x, int n, stats_agg_t agg, const stats_boot_t *boot,
                        stats_ci_t *out) {
    stats_tasks_t d = stats_tasks_one(&x, &n);
    return stats_aggregate_ci(&d, agg, boot, out);
}

/* ---- probability of improvement ---- */

/* Mean over tasks of the normalised Mann-Whitney U; the counts are exact integers, so the only
 * rounding is in the division and the task sum (in task order). */
static double poi_value(const stats_tasks_t *x, const stats_tasks_t *y) {
    double sum = 0.0;
    for (int t = 0; t < x->n_tasks; t++) {
        int n = x->n_runs[t], m = y->n_runs[t];
        const double *a = x->scores[t], *b = y->scores[t];
        long long gt = 0, eq = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) {
                gt += a[i] > b[j];
                eq += a[i] == b[j];
            }
        sum += ((double)gt + 0.5 * (double)eq) / ((double)n * (double)m);
    }
    return sum / x->n_tasks;
}

static void poi_fn(const stats_tasks_t *sets, int n_sets, double *scratch, void *ctx, double *out) {
    (void)n_sets, (void)scratch, (void)ctx;
    out[0] = poi_value(&sets[0], &sets[1]);
}

static int poi_check(const stats_tasks_t *x, const stats_tasks_t *y) {
    int rc = tasks_check(x);
    if (!rc) rc = tasks_check(y);
    if (!rc && x->n_tasks != y->n_tasks) rc = STATS_EINVAL;
    return rc;
}

int stats_prob_improvement(const stats_tasks_t *x, const stats_tasks_t *y, double *out) {
    int rc = poi_check(x, y);
    if (rc) return rc;
    if (!out) return STATS_EINVAL;
    *out = poi_value(x, y);
    return STATS_OK;
}

int stats_prob_improvement_ci(const stats_tasks_t *x, const stats_tasks_t *y,
                              const stats_boot_t *boot, stats_ci_t *out) {
    int rc = poi_check(x, y);
    if (rc) return rc;
    stats_tasks_t sets[2] = {*x, *y};
    return stats_bootstrap(sets, 2, 1, poi_fn, NULL, boot, out);
}

/* ---- performance profiles ---- */

typedef struct {
    stats_profile_t kind;
    const double *tau;
    int n_tau;
} profile_ctx_t;

static void profile_fn(const stats_tasks_t *sets, int n_sets, double *scratch, void *ctx,
                       double *out) {
    (void)n_sets;
    const profile_ctx_t *c = ctx;
    const stats_tasks_t *d = &sets[0];
    int k = 0;
    if (c->kind == STATS_PROFILE_RUNS) {
        for (int t = 0; t < d->n_tasks; t++)
            for (int r = 0; r < d->n_runs[t]; r++) scratch[k++] = d->scores[t][r];
    } else {
        for (int t = 0; t < d->n_tasks; t++) scratch[k++] = stats_mean(d->scores[t], d->n_runs[t]);
    }
    for (int j = 0; j < c->n_tau; j++) {
        int above = 0;
        for (int i = 0; i < k; i++) above += scratch[i] > c->tau[j];
        out[j] = (double)above / k;
    }
}

static int profile_check(stats_profile_t kind, const double *tau, int n_tau) {
    if (kind != STATS_PROFILE_RUNS && kind != STATS_PROFILE_TASK_MEANS) return STATS_EINVAL;
    if (!tau || n_tau < 1) return STATS_EINVAL;
    for (int j = 0; j < n_tau; j++)
        if (isnan(tau[j])) return STATS_EINVAL;
    return STATS_OK;
}

int stats_profile(const stats_tasks_t *d, stats_profile_t kind, const double *tau, int n_tau,
                  double *frac) {
    int rc = tasks_check(d);
    if (!rc) rc = profile_check(kind, tau, n_tau);
    if (rc) return rc;
    if (!frac) return STATS_EINVAL;
    double *scratch = malloc((size_t)stats_tasks_total(d) * sizeof *scratch);
    if (!scratch) return STATS_ENOMEM;
    profile_ctx_t c = {kind, tau, n_tau};
    profile_fn(d, 1, scratch, &c, frac);
    free(scratch);
    return STATS_OK;
}

int stats_profile_ci(const stats_tasks_t *d, stats_profile_t kind, const double *tau, int n_tau,
                     const stats_boot_t *boot, stats_ci_t *out) {
    int rc = profile_check(kind, tau, n_tau);
    if (rc) return rc;
    profile_ctx_t c = {kind, tau, n_tau};
    return stats_bootstrap(d, 1, n_tau, profile_fn, &c, boot, out);
}
