/* stats: statistics across seeds for `rlgf analyze`, as in rliable (Agarwal et al. 2021, "Deep
 * Reinforcement Learning at the Edge of the Statistical Precipice", NeurIPS; the reference code is
 * google-research/rliable metrics.py and library.py, its bootstrap is arch.bootstrap).
 *
 * Data. A score set is a list of tasks (the strata), each with the final scores of its runs
 * (seeds): scores[t][r] for r < n_runs[t]. Tasks may have different numbers of runs; rliable
 * assumes equal counts, and where that matters the function says what it does. A stats_tasks_t
 * is a view: it does not own the arrays unless made by stats_tasks_normalized().
 *
 * Summation order is fixed (tasks in order, runs in order, or sorted order for IQM), sorting is
 * of doubles under a total order, and every random draw comes from a documented PCG32 stream, so
 * every result is bit-reproducible for a given binary.
 *
 * Errors: functions that can fail return STATS_OK (0) or a negative stats_status_t; they never
 * print or exit. The scalar helpers (stats_mean, ...) return NaN where the value is undefined.
 * NaN or infinite scores make the set-level functions return STATS_EINVAL. */
#ifndef RLGF_STATS_H
#define RLGF_STATS_H

#include <stdint.h>

/* rng purpose for the bootstrap (see sim/base/rng.h; analysis purposes start at 200 so they never
 * collide with the simulator's). Replicate b of sample set s (0 for a one-set bootstrap; 0 = X and
 * 1 = Y for probability of improvement) draws from rng_stream(seed, STATS_RNG_BOOTSTRAP, b, s):
 * for each task t in order, n_runs[t] draws rng_bounded(n_runs[t]) give the resampled run
 * indices in order. So replicate b is the same whatever `reps` is, and any replicate can be
 * recomputed alone. Purposes 201..299 are reserved for analysis/ and its tests (tests/test_stats.c
 * draws synthetic scores from purpose 250). */
enum { STATS_RNG_BOOTSTRAP = 200 };

typedef enum {
    STATS_OK = 0,
    STATS_EINVAL = -1, /* bad argument: no tasks, a task without runs, non-finite score, ... */
    STATS_ENOMEM = -2, /* allocation failed */
} stats_status_t;

/* A short English description of a stats_status_t ("invalid argument", ...). */
const char *stats_strerror(int status);

/* ---- scalar statistics of one array x[0..n-1] (never modified) ---- */

/* Arithmetic mean, summed left to right; NaN when n < 1. */
double stats_mean(const double *x, int n);
/* Sample standard deviation sqrt(sum (x_i - mean)^2 / (n - 1)) (numpy ddof=1), two passes; NaN
 * when n < 2 (one seed has no spread estimate). */
double stats_std(const double *x, int n);
/* Quantile at probability p in [0, 1], linear interpolation between order statistics (Hyndman &
 * Fan 1996 type 7; numpy's default "linear", R's default): with s the sorted x, h = (n - 1) p,
 * k = floor(h): Q(p) = s[k] + (h - k) (s[k+1] - s[k]) (computed from s[k+1] when h - k >= 0.5,
 * as numpy does, so Q is monotone in p). NaN when n < 1, p outside [0, 1], or x holds a NaN.
 * Allocates a sorted copy; returns NaN if that allocation fails. */
double stats_quantile(const double *x, int n, double p);
/* Median: the middle of the sorted x, or the mean (a + b) / 2 of the two middle values when n is
 * even (numpy.median). NaN as stats_quantile. */
double stats_median(const double *x, int n);
/* Interquartile mean: the 25% trimmed mean of scipy.stats.trim_mean(x, 0.25), which rliable's
 * aggregate_iqm uses. Sort x, drop c = floor(n / 4) values from each end, average the n - 2c
 * left (summed in sorted order). So n = 1..3 keep everything (c = 0: IQM = mean), n = 4 keeps the
 * middle 2, n = 8 the middle 4, n = 10 the middle 6 (c = floor(2.5) = 2). Ties need no rule: only
 * values are kept, not which copy. NaN as stats_quantile. */
double stats_iqm(const double *x, int n);

/* The same on an already sorted (ascending) array, without allocating; x must not hold NaN. */
double stats_quantile_sorted(const double *sorted, int n, double p);
double stats_median_sorted(const double *sorted, int n);
double stats_iqm_sorted(const double *sorted, int n);
/* Sorts x ascending in place under a total order: -0.0 before +0.0, NaN last. */
void stats_sort(double *x, int n);

/* ---- score sets ---- */

typedef struct {
    const double *const *scores; /* scores[t] is an array of n_runs[t] run scores */
    const int *n_runs;           /* n_tasks counts, each >= 1 */
    int n_tasks;                 /* >= 1 */
    void *owned;                 /* NULL for a caller's view; else freed by stats_tasks_free */
} stats_tasks_t;

/* A view of one array *x of *n runs as a one-task set (the simple, unstratified case); the view
 * points at x and n, which must outlive it. */
stats_tasks_t stats_tasks_one(const double *const *x, const int *n);

/* Total number of runs over all tasks. */
int stats_tasks_total(const stats_tasks_t *d);

/* Normalised copy: out score = (x - lo[t]) / (hi[t] - lo[t]) per task (e.g. lo = pi_ref's or a
 * random policy's score, hi = the guide's or the expert's; rliable's "human normalised" scores).
 * One allocation owned by *out; release with stats_tasks_free. STATS_EINVAL when hi[t] == lo[t]
 * or either is not finite. */
int stats_tasks_normalized(const stats_tasks_t *d, const double *lo, const double *hi,
                           stats_tasks_t *out);
/* Frees what stats_tasks_normalized allocated (no-op on a caller's view) and clears *d. */
void stats_tasks_free(stats_tasks_t *d);

/* Aggregate performance over a score set (rliable metrics.py). With equal run counts the
 * "pooled" and "over tasks" readings agree for the mean. */
typedef enum {
    STATS_AGG_MEAN,        /* mean over tasks of each task's mean run score (aggregate_mean) */
    STATS_AGG_MEDIAN,      /* median over tasks of each task's mean (aggregate_median); one
                              task gives that task's mean, not the median of its runs */
    STATS_AGG_IQM,         /* stats_iqm of all runs pooled (aggregate_iqm); a task with more
                              runs weighs more */
    STATS_AGG_RUN_MEDIAN,  /* median of all runs pooled (for one task: median over seeds) */
    STATS_AGG_OPTIMALITY_GAP, /* 1 - mean over pooled runs of min(x, 1) (aggregate_optimality_gap,
                                 gamma = 1; for normalised scores, lower is better) */
} stats_agg_t;

/* The aggregate of d: STATS_OK, or STATS_EINVAL (bad set or agg), STATS_ENOMEM. */
int stats_aggregate(const stats_tasks_t *d, stats_agg_t agg, double *out);

/* ---- stratified bootstrap, percentile confidence intervals ---- */

typedef struct {
    int reps;      /* bootstrap replicates, >= 1 (rliable: 2000 for profiles, 50000 otherwise) */
    double level;  /* coverage in (0, 1), e.g. 0.95 */
    uint64_t seed; /* stream seed (see STATS_RNG_BOOTSTRAP) */
} stats_boot_t;

#define STATS_BOOT_REPS_DEFAULT 2000
#define STATS_BOOT_LEVEL_DEFAULT 0.95
/* {2000 replicates, 95%, seed}. */
stats_boot_t stats_boot_default(uint64_t seed);

/* A point estimate (the statistic of the data as given, not a bootstrap average) and its
 * percentile interval [lo, hi]: with alpha = (1 - level) / 2, lo and hi are the type-7 quantiles
 * (stats_quantile) at alpha and 1 - alpha of the replicate values (arch's conf_int
 * method='percentile', which rliable uses). lo <= hi always; point need not lie in [lo, hi]
 * for a biased statistic, though for those here it does in practice. */
typedef struct {
    double point, lo, hi;
} stats_ci_t;

/* A statistic of n_sets score sets, writing n_out values to out. scratch holds as many doubles
 * as all the sets' runs together (free for the statistic to use, e.g. to sort). Must be a pure
 * function of its inputs (and ctx) for the bootstrap to be reproducible. A NaN value sorts above
 * every number when the replicates are ranked (so it can move hi, or both bounds). */
typedef void (*stats_fn_t)(const stats_tasks_t *sets, int n_sets, double *scratch, void *ctx,
                           double *out);

/* The general stratified bootstrap (rliable StratifiedBootstrap, and for n_sets > 1
 * StratifiedIndependentBootstrap): each replicate resamples, independently for every set and
 * every task, n_runs[t] runs with replacement from that task's runs (tasks are never resampled:
 * rliable's task_bootstrap=False), then evaluates fn. out[j] (j < n_out) gets fn's j-th value on
 * the data as given and its percentile interval. Memory: reps * n_out doubles plus one copy of the
 * data, freed before return. STATS_EINVAL for a bad set, n_sets < 1, n_out < 1, reps < 1 or level
 * outside (0, 1); STATS_ENOMEM. */
int stats_bootstrap(const stats_tasks_t *sets, int n_sets, int n_out, stats_fn_t fn, void *ctx,
                    const stats_boot_t *boot, stats_ci_t *out);

/* Aggregate of one score set with its stratified-bootstrap interval. */
int stats_aggregate_ci(const stats_tasks_t *d, stats_agg_t agg, const stats_boot_t *boot,
                       stats_ci_t *out);
/* The simple case: one task of n runs x[0..n-1] (plain bootstrap over seeds). */
int stats_aggregate_ci1(const double *x, int n, stats_agg_t agg, const stats_boot_t *boot,
                        stats_ci_t *out);

/* ---- probability of improvement ---- */

/* P(X > Y) (rliable probability_of_improvement): x and y have the same number of tasks; for each
 * task t, with n = x runs and m = y runs, the normalised Mann-Whitney U statistic
 *     P_t = (#{(i,j): x_i > y_j} + 0.5 #{(i,j): x_i = y_j}) / (n m),
 * and P is the mean of P_t over tasks (each task weighs the same). P(X > Y) + P(Y > X) = 1;
 * identical samples give 0.5, all x above all y 1, all below 0. O(n m) per task. */
int stats_prob_improvement(const stats_tasks_t *x, const stats_tasks_t *y, double *out);
/* With its interval: x's and y's runs are resampled independently within each task (sets 0 and 1
 * of stats_bootstrap). */
int stats_prob_improvement_ci(const stats_tasks_t *x, const stats_tasks_t *y,
                              const stats_boot_t *boot, stats_ci_t *out);

/* ---- performance profiles ---- */

typedef enum {
    STATS_PROFILE_RUNS,       /* fraction of all runs pooled with score > tau (rliable's default
                                 "score distribution"; a task with more runs weighs more) */
    STATS_PROFILE_TASK_MEANS, /* fraction of tasks whose mean run score > tau ("average score
                                 distribution") */
} stats_profile_t;

/* frac[k] = the profile at tau[k] (k < n_tau, any order; strictly greater than tau). Normalise
 * first with stats_tasks_normalized when tasks have different scales. */
int stats_profile(const stats_tasks_t *d, stats_profile_t kind, const double *tau, int n_tau,
                  double *frac);
/* The same with a stratified-bootstrap interval per threshold (out has n_tau entries; all
 * thresholds share the replicates, as in rliable). */
int stats_profile_ci(const stats_tasks_t *d, stats_profile_t kind, const double *tau, int n_tau,
                     const stats_boot_t *boot, stats_ci_t *out);

#endif
