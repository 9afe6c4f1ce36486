/* analysis/stats against worked examples: mean, std, quantiles, IQM by hand (the floor rule and
 * ties), aggregates over tasks, stratified bootstrap intervals (coverage on synthetic normal data,
 * reproducibility, constant and stratified sets, the documented stream protocol), probability of
 * improvement (identical, disjoint, reversed, ties counted by hand) and performance profiles. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../analysis/stats.h"
#include "../sim/base/rng.h"

/* Synthetic test scores come from this purpose (reserved for analysis tests in stats.h). */
#define TEST_RNG_DATA 250

#define EPS 1e-12

/* |a - b| <= eps, naming both values on failure (eps 0: exact equality). */
#define ASSERT_NEAR(a, b, eps)                                                                   \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s = %.17g, expected %s = %.17g (eps %g)", #a, a_, #b, b_, (double)(eps));   \
    } while (0)

/* A set of up to 8 tasks built from arrays. */
typedef struct {
    const double *rows[8];
    int n[8];
    stats_tasks_t d;
} set_t;

static void set_init(set_t *s, int n_tasks) {
    s->d.scores = s->rows;
    s->d.n_runs = s->n;
    s->d.n_tasks = n_tasks;
    s->d.owned = NULL;
}

static void test_mean_std(void **state) {
    (void)state;
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9}; /* mean 5, sum of squared deviations 32 */
    ASSERT_NEAR(stats_mean(x, 8), 5.0, EPS);
    ASSERT_NEAR(stats_std(x, 8), sqrt(32.0 / 7.0), EPS); /* sample (n - 1), not 2.0 */
    const double y[] = {-1.5, 0.5};
    ASSERT_NEAR(stats_mean(y, 2), -0.5, EPS);
    ASSERT_NEAR(stats_std(y, 2), sqrt(2.0), EPS);
    assert_true(isnan(stats_mean(x, 0)));
    assert_true(isnan(stats_std(x, 1)));
}

static void test_quantile(void **state) {
    (void)state;
    const double x[] = {4, 1, 3, 2}; /* unsorted on purpose; sorted 1 2 3 4, h = 3p */
    ASSERT_NEAR(stats_quantile(x, 4, 0.0), 1.0, EPS);
    ASSERT_NEAR(stats_quantile(x, 4, 0.25), 1.75, EPS); /* h = 0.75 */
    ASSERT_NEAR(stats_quantile(x, 4, 0.5), 2.5, EPS);
    ASSERT_NEAR(stats_quantile(x, 4, 0.75), 3.25, EPS); /* h = 2.25 */
    ASSERT_NEAR(stats_quantile(x, 4, 1.0), 4.0, EPS);
    ASSERT_NEAR(x[0], 4.0, 0); /* input left alone */
    const double y[] = {50, 10, 40, 20, 30}; /* h = 4p */
    ASSERT_NEAR(stats_quantile(y, 5, 0.1), 14.0, EPS);  /* 10 + 0.4 * 10 */
    ASSERT_NEAR(stats_quantile(y, 5, 0.9), 46.0, EPS);  /* 40 + 0.6 * 10 */
    ASSERT_NEAR(stats_quantile(y, 5, 0.025), 11.0, EPS);
    ASSERT_NEAR(stats_quantile(y, 1, 0.3), 50.0, 0);
    assert_true(isnan(stats_quantile(y, 5, 1.5)));
    assert_true(isnan(stats_quantile(y, 5, -0.1)));
    assert_true(isnan(stats_quantile(y, 0, 0.5)));
    const double z[] = {1, NAN, 2};
    assert_true(isnan(stats_quantile(z, 3, 0.5)));
    /* median: middle value, or the mean of the two middle ones */
    const double odd[] = {3, 1, 2};
    ASSERT_NEAR(stats_median(odd, 3), 2.0, 0);
    ASSERT_NEAR(stats_median(x, 4), 2.5, 0);
    /* monotone in p on ties and close values */
    const double w[] = {1, 1, 1 + 1e-15, 2};
    double prev = -INFINITY;
    for (int i = 0; i <= 1000; i++) {
        double q = stats_quantile(w, 4, i / 1000.0);
        assert_true(q >= prev);
        prev = q;
    }
}

/* Both paths of stats_sort (insertion sort up to 24 values, qsort above) give ascending order,
 * with -0.0 before +0.0 so ties never depend on the algorithm. */
static void test_sort(void **state) {
    (void)state;
    const int sizes[] = {0, 1, 2, 7, 24, 25, 300};
    rng_t r = rng_stream(3, TEST_RNG_DATA, 7, 0);
    for (int k = 0; k < 7; k++) {
        double x[300];
        int n = sizes[k];
        for (int i = 0; i < n; i++) x[i] = (double)rng_bounded(&r, 20) - 10.0;
        if (n >= 2) x[0] = 0.0, x[1] = -0.0;
        stats_sort(x, n);
        for (int i = 1; i < n; i++) {
            assert_true(x[i - 1] <= x[i]);
            if (x[i - 1] == 0.0 && x[i] == 0.0) assert_true(signbit(x[i - 1]) || !signbit(x[i]));
        }
    }
}

static void test_iqm_by_hand(void **state) {
    (void)state;
    /* n = 4: cut floor(1) = 1 from each end, keep {2, 3} */
    const double a[] = {100, 2, 1, 3};
    ASSERT_NEAR(stats_iqm(a, 4), 2.5, EPS);
    /* n = 8: cut 2 from each end, keep {2, 3, 4, 5} */
    const double b[] = {1000, 1, 6, -100, 2, 5, 3, 4};
    ASSERT_NEAR(stats_iqm(b, 8), 3.5, EPS);
    /* n = 10: cut floor(2.5) = 2, keep the middle 6 {1, 2, 2, 2, 3, 4} = 14 / 6; cutting 3 (rounding
     * 2.5 up) would give {2, 2, 2, 3} = 2.25 */
    const double c[] = {90, 2, -50, 3, 1000, 2, 0, 4, 1, 2};
    ASSERT_NEAR(stats_iqm(c, 10), 14.0 / 6.0, EPS);
    /* ties across the cut: sorted {1, 5, 5, 5, 5, 5, 5, 9}, keep four 5s */
    const double d[] = {5, 5, 5, 5, 1, 9, 5, 5};
    ASSERT_NEAR(stats_iqm(d, 8), 5.0, EPS);
    /* ties at the cut with distinct neighbours: sorted {0, 1, 1, 1, 2, 7}, cut 1: {1, 1, 1, 2} */
    const double e[] = {1, 7, 1, 0, 2, 1};
    ASSERT_NEAR(stats_iqm(e, 6), 1.25, EPS);
    /* n = 1..3 cut nothing: IQM = mean */
    const double f[] = {1, 2, 30};
    ASSERT_NEAR(stats_iqm(f, 3), 11.0, EPS);
    ASSERT_NEAR(stats_iqm(f, 2), 1.5, EPS);
    ASSERT_NEAR(stats_iqm(f + 2, 1), 30.0, EPS);
    /* n = 5: cut 1, keep {2, 3, 4} */
    const double g[] = {100, 4, 3, 2, 1};
    ASSERT_NEAR(stats_iqm(g, 5), 3.0, EPS);
    assert_true(isnan(stats_iqm(g, 0)));
}

static void test_aggregates(void **state) {
    (void)state;
    const double t0[] = {1, 2, 3}, t1[] = {10, 20}, t2[] = {4};
    set_t s = {{t0, t1, t2}, {3, 2, 1}, {0}};
    set_init(&s, 3);
    assert_int_equal(stats_tasks_total(&s.d), 6);
    double v;
    /* task means 2, 15, 4 */
    assert_int_equal(stats_aggregate(&s.d, STATS_AGG_MEAN, &v), STATS_OK);
    ASSERT_NEAR(v, 7.0, EPS); /* not the pooled mean 40/6 */
    assert_int_equal(stats_aggregate(&s.d, STATS_AGG_MEDIAN, &v), STATS_OK);
    ASSERT_NEAR(v, 4.0, EPS);
    /* pooled sorted {1, 2, 3, 4, 10, 20}: IQM cuts 1 each end -> {2, 3, 4, 10}; median (3+4)/2 */
    assert_int_equal(stats_aggregate(&s.d, STATS_AGG_IQM, &v), STATS_OK);
    ASSERT_NEAR(v, 4.75, EPS);
    assert_int_equal(stats_aggregate(&s.d, STATS_AGG_RUN_MEDIAN, &v), STATS_OK);
    ASSERT_NEAR(v, 3.5, EPS);
    /* optimality gap: min(x, 1) = {0.5, 1, 1, 0} -> 1 - 0.625 */
    const double u0[] = {0.5, 1.5}, u1[] = {1.0, 0.0};
    set_t o = {{u0, u1}, {2, 2}, {0}};
    set_init(&o, 2);
    assert_int_equal(stats_aggregate(&o.d, STATS_AGG_OPTIMALITY_GAP, &v), STATS_OK);
    ASSERT_NEAR(v, 0.375, EPS);
    assert_int_equal(stats_aggregate(&o.d, (stats_agg_t)99, &v), STATS_EINVAL);
}

static void test_normalized(void **state) {
    (void)state;
    const double t0[] = {0, 5, 10}, t1[] = {-1, 1};
    set_t s = {{t0, t1}, {3, 2}, {0}};
    set_init(&s, 2);
    const double lo[] = {0, -1}, hi[] = {10, 3};
    stats_tasks_t nd;
    assert_int_equal(stats_tasks_normalized(&s.d, lo, hi, &nd), STATS_OK);
    assert_int_equal(nd.n_tasks, 2);
    assert_int_equal(nd.n_runs[0], 3);
    assert_int_equal(nd.n_runs[1], 2);
    ASSERT_NEAR(nd.scores[0][1], 0.5, EPS);
    ASSERT_NEAR(nd.scores[0][2], 1.0, EPS);
    ASSERT_NEAR(nd.scores[1][0], 0.0, EPS);
    ASSERT_NEAR(nd.scores[1][1], 0.5, EPS);
    assert_non_null(nd.owned);
    stats_tasks_free(&nd);
    assert_null(nd.owned);
    const double bad_hi[] = {10, -1};
    assert_int_equal(stats_tasks_normalized(&s.d, lo, bad_hi, &nd), STATS_EINVAL);
}

static void test_invalid(void **state) {
    (void)state;
    const double t0[] = {1, 2}, t1[] = {3, NAN};
    set_t s = {{t0, t1}, {2, 2}, {0}};
    set_init(&s, 2);
    double v;
    stats_ci_t ci;
    stats_boot_t boot = stats_boot_default(1);
    assert_int_equal(stats_aggregate(&s.d, STATS_AGG_MEAN, &v), STATS_EINVAL); /* NaN score */
    s.d.n_tasks = 1;
    assert_int_equal(stats_aggregate(&s.d, STATS_AGG_MEAN, &v), STATS_OK);
    s.n[0] = 0; /* a task without runs */
    assert_int_equal(stats_aggregate_ci(&s.d, STATS_AGG_MEAN, &boot, &ci), STATS_EINVAL);
    s.n[0] = 2;
    s.d.n_tasks = 0;
    assert_int_equal(stats_aggregate(&s.d, STATS_AGG_MEAN, &v), STATS_EINVAL);
    s.d.n_tasks = 1;
    boot.level = 1.0;
    assert_int_equal(stats_aggregate_ci(&s.d, STATS_AGG_MEAN, &boot, &ci), STATS_EINVAL);
    boot = stats_boot_default(1);
    boot.reps = 0;
    assert_int_equal(stats_aggregate_ci(&s.d, STATS_AGG_MEAN, &boot, &ci), STATS_EINVAL);
    /* probability of improvement needs the same tasks on both sides */
    const double y0[] = {1}, y1[] = {2};
    set_t y = {{y0, y1}, {1, 1}, {0}};
    set_init(&y, 2);
    assert_int_equal(stats_prob_improvement(&s.d, &y.d, &v), STATS_EINVAL);
    assert_string_equal(stats_strerror(STATS_ENOMEM), "out of memory");
}

/* n draws of N(mu, 1) from the test purpose's stream (seed, 250, which, 0). */
static void normal_draws(double *x, int n, double mu, uint64_t seed, uint64_t which) {
    rng_t r = rng_stream(seed, TEST_RNG_DATA, which, 0);
    for (int i = 0; i < n; i++) x[i] = mu + rng_normal(&r);
}

static void test_bootstrap_normal(void **state) {
    (void)state;
    /* One fixed draw (seed 1: mean 3.12, s 1.08). Any single draw misses 3 with about 6-7%
     * probability (percentile intervals of a mean undercover slightly); test_bootstrap_coverage
     * measures the rate over many draws. */
    double x[50];
    normal_draws(x, 50, 3.0, 1, 0);
    stats_boot_t boot = stats_boot_default(11);
    stats_ci_t ci, again, other;
    assert_int_equal(stats_aggregate_ci1(x, 50, STATS_AGG_MEAN, &boot, &ci), STATS_OK);
    double m = stats_mean(x, 50), sd = stats_std(x, 50);
    ASSERT_NEAR(ci.point, m, 0);
    assert_true(ci.lo < 3.0 && 3.0 < ci.hi);
    assert_true(ci.lo < m && m < ci.hi);
    /* width about 2 * 1.96 * s / sqrt(50) (0.554 for s = 1) */
    double width = ci.hi - ci.lo, expect = 2.0 * 1.96 * sd / sqrt(50.0);
    assert_true(width > 0.85 * expect && width < 1.15 * expect);
    assert_true(width > 0.4 && width < 0.75);
    /* same seed: the same bits; another seed: other bounds */
    assert_int_equal(stats_aggregate_ci1(x, 50, STATS_AGG_MEAN, &boot, &again), STATS_OK);
    assert_memory_equal(&ci, &again, sizeof ci);
    boot.seed = 12;
    assert_int_equal(stats_aggregate_ci1(x, 50, STATS_AGG_MEAN, &boot, &other), STATS_OK);
    assert_true(other.lo != ci.lo && other.hi != ci.hi);
    ASSERT_NEAR(other.point, ci.point, 0);
    /* IQM of N(3, 1) also estimates 3 */
    boot.seed = 11;
    assert_int_equal(stats_aggregate_ci1(x, 50, STATS_AGG_IQM, &boot, &ci), STATS_OK);
    assert_true(ci.lo < 3.0 && 3.0 < ci.hi && ci.lo <= ci.point && ci.point <= ci.hi);
}

/* Over 200 independent data sets of 30 N(3, 1) draws, the 95% interval of the mean covers 3 in
 * about 95% of them (the percentile bootstrap undercovers a little at this size). */
static void test_bootstrap_coverage(void **state) {
    (void)state;
    int covered = 0, sets = 200;
    stats_boot_t boot = {1000, 0.95, 5};
    for (int k = 0; k < sets; k++) {
        double x[30];
        stats_ci_t ci;
        normal_draws(x, 30, 3.0, 77, (uint64_t)k + 1);
        boot.seed = (uint64_t)k;
        assert_int_equal(stats_aggregate_ci1(x, 30, STATS_AGG_MEAN, &boot, &ci), STATS_OK);
        covered += ci.lo <= 3.0 && 3.0 <= ci.hi;
    }
    assert_in_range(covered, 176, 198); /* 88% .. 99% */
}

static void test_bootstrap_constant(void **state) {
    (void)state;
    double x[20];
    for (int i = 0; i < 20; i++) x[i] = 0.1;
    stats_boot_t boot = stats_boot_default(3);
    for (int agg = STATS_AGG_MEAN; agg <= STATS_AGG_OPTIMALITY_GAP; agg++) {
        stats_ci_t ci;
        assert_int_equal(stats_aggregate_ci1(x, 20, (stats_agg_t)agg, &boot, &ci), STATS_OK);
        ASSERT_NEAR(ci.lo, ci.point, 0);
        ASSERT_NEAR(ci.hi, ci.point, 0);
        ASSERT_NEAR(ci.point, agg == STATS_AGG_OPTIMALITY_GAP ? 0.9 : 0.1, 1e-15);
    }
}

/* x = {0, 1}: a replicate mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so the 2.5% and
 * 97.5% points of 2000 replicates are 0 and 1. */
static void test_bootstrap_two_points(void **state) {
    (void)state;
    const double x[] = {0, 1};
    stats_boot_t boot = stats_boot_default(9);
    stats_ci_t ci;
    assert_int_equal(stats_aggregate_ci1(x, 2, STATS_AGG_MEAN, &boot, &ci), STATS_OK);
    ASSERT_NEAR(ci.point, 0.5, 0);
    ASSERT_NEAR(ci.lo, 0.0, 0);
    ASSERT_NEAR(ci.hi, 1.0, 0);
    boot.level = 0.4; /* 30% and 70% points: both inside the half of replicates at 0.5 */
    assert_int_equal(stats_aggregate_ci1(x, 2, STATS_AGG_MEAN, &boot, &ci), STATS_OK);
    ASSERT_NEAR(ci.lo, 0.5, 0);
    ASSERT_NEAR(ci.hi, 0.5, 0);
}

/* Runs are resampled within tasks: a task of 0s and a task of 1s give the same pooled counts in
 * every replicate, so the interval is a point; resampling the pool would not. */
static void test_bootstrap_stratified(void **state) {
    (void)state;
    const double zeros[] = {0, 0, 0, 0}, ones[] = {1, 1, 1, 1, 1, 1};
    set_t s = {{zeros, ones}, {4, 6}, {0}};
    set_init(&s, 2);
    stats_boot_t boot = stats_boot_default(4);
    stats_ci_t ci;
    assert_int_equal(stats_aggregate_ci(&s.d, STATS_AGG_MEAN, &boot, &ci), STATS_OK);
    ASSERT_NEAR(ci.point, 0.5, 0);
    ASSERT_NEAR(ci.lo, 0.5, 0);
    ASSERT_NEAR(ci.hi, 0.5, 0);
    assert_int_equal(stats_aggregate_ci(&s.d, STATS_AGG_IQM, &boot, &ci), STATS_OK);
    /* pooled sorted {0,0,0,0,1,1,1,1,1,1}, cut 2: {0,0,1,1,1,1} */
    ASSERT_NEAR(ci.point, 4.0 / 6.0, EPS);
    ASSERT_NEAR(ci.lo, ci.point, 0);
    ASSERT_NEAR(ci.hi, ci.point, 0);
    /* the same ten values as one task: the pool is resampled and the interval opens */
    const double pooled[] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    assert_int_equal(stats_aggregate_ci1(pooled, 10, STATS_AGG_MEAN, &boot, &ci), STATS_OK);
    assert_true(ci.lo < 0.5 && ci.hi > 0.7);
}

/* The documented protocol (stats.h, STATS_RNG_BOOTSTRAP), recomputed here: replicate b draws from
 * rng_stream(seed, 200, b, 0), task by task, n_runs[t] bounded draws each; the bounds are type-7
 * quantiles of the sorted replicates. */
static void test_bootstrap_protocol(void **state) {
    (void)state;
    const double t0[] = {3.0, -1.0, 2.5}, t1[] = {10.0, 11.5, 9.0, 12.0, 8.0};
    set_t s = {{t0, t1}, {3, 5}, {0}};
    set_init(&s, 2);
    stats_boot_t boot = {101, 0.9, 123};
    stats_ci_t ci;
    assert_int_equal(stats_aggregate_ci(&s.d, STATS_AGG_MEAN, &boot, &ci), STATS_OK);
    double reps[101];
    for (int b = 0; b < 101; b++) {
        rng_t r = rng_stream(123, STATS_RNG_BOOTSTRAP, (uint64_t)b, 0);
        double task_mean[2];
        for (int t = 0; t < 2; t++) {
            double sum = 0.0;
            for (int i = 0; i < s.n[t]; i++) sum += s.rows[t][rng_bounded(&r, (uint32_t)s.n[t])];
            task_mean[t] = sum / s.n[t];
        }
        reps[b] = (task_mean[0] + task_mean[1]) / 2.0;
    }
    /* insertion sort, then the 5% and 95% points: h = 100 * 0.05 = 5 and 95 exactly */
    for (int i = 1; i < 101; i++)
        for (int j = i; j > 0 && reps[j - 1] > reps[j]; j--) {
            double tmp = reps[j];
            reps[j] = reps[j - 1];
            reps[j - 1] = tmp;
        }
    ASSERT_NEAR(ci.point, (1.5 + 10.1) / 2.0, EPS);
    ASSERT_NEAR(ci.lo, reps[5], 1e-12);
    ASSERT_NEAR(ci.hi, reps[95], 1e-12);
    assert_true(ci.lo < ci.hi);
}

static void test_prob_improvement(void **state) {
    (void)state;
    double v;
    /* ties by hand: x = {1, 2, 3}, y = {2, 2, 4}. x = 1 beats nothing; x = 2 ties the two 2s;
     * x = 3 beats both 2s. #{x > y} = 2, #{x = y} = 2: P = (2 + 1) / 9 = 1/3. Reversed: y = 2
     * beats 1 and ties 2 (twice), y = 4 beats all three: #{y > x} = 5, ties 2: (5 + 1) / 9. */
    const double x[] = {1, 2, 3}, y[] = {2, 2, 4};
    set_t sx = {{x}, {3}, {0}}, sy = {{y}, {3}, {0}};
    set_init(&sx, 1);
    set_init(&sy, 1);
    assert_int_equal(stats_prob_improvement(&sx.d, &sy.d, &v), STATS_OK);
    ASSERT_NEAR(v, 1.0 / 3.0, EPS);
    assert_int_equal(stats_prob_improvement(&sy.d, &sx.d, &v), STATS_OK);
    ASSERT_NEAR(v, 2.0 / 3.0, EPS);
    /* identical samples */
    assert_int_equal(stats_prob_improvement(&sx.d, &sx.d, &v), STATS_OK);
    ASSERT_NEAR(v, 0.5, 0);
    /* disjoint: all of hi above all of lo, different run counts */
    const double lo[] = {0.1, 0.5, 0.2, 0.3}, hi[] = {0.6, 0.9};
    set_t slo = {{lo}, {4}, {0}}, shi = {{hi}, {2}, {0}};
    set_init(&slo, 1);
    set_init(&shi, 1);
    assert_int_equal(stats_prob_improvement(&shi.d, &slo.d, &v), STATS_OK);
    ASSERT_NEAR(v, 1.0, 0);
    assert_int_equal(stats_prob_improvement(&slo.d, &shi.d, &v), STATS_OK);
    ASSERT_NEAR(v, 0.0, 0);
    /* x = {3, 4}, y = {1, 3, 5}: 3 beats 1 and ties 3; 4 beats 1 and 3: (3 + 0.5) / 6 */
    const double a[] = {3, 4}, b[] = {1, 3, 5};
    set_t sa = {{a}, {2}, {0}}, sb = {{b}, {3}, {0}};
    set_init(&sa, 1);
    set_init(&sb, 1);
    assert_int_equal(stats_prob_improvement(&sa.d, &sb.d, &v), STATS_OK);
    ASSERT_NEAR(v, 3.5 / 6.0, EPS);
    /* two tasks: the mean of the per-task values, (1/3 + 1) / 2 */
    set_t tx = {{x, hi}, {3, 2}, {0}}, ty = {{y, lo}, {3, 4}, {0}};
    set_init(&tx, 2);
    set_init(&ty, 2);
    assert_int_equal(stats_prob_improvement(&tx.d, &ty.d, &v), STATS_OK);
    ASSERT_NEAR(v, 2.0 / 3.0, EPS);
    /* P(X > Y) + P(Y > X) = 1 on random integer scores with many ties */
    double rx[7], ry[9];
    rng_t r = rng_stream(1, TEST_RNG_DATA, 99, 0);
    for (int i = 0; i < 7; i++) rx[i] = rng_bounded(&r, 4);
    for (int i = 0; i < 9; i++) ry[i] = rng_bounded(&r, 4);
    set_t srx = {{rx}, {7}, {0}}, sry = {{ry}, {9}, {0}};
    set_init(&srx, 1);
    set_init(&sry, 1);
    double pxy, pyx;
    assert_int_equal(stats_prob_improvement(&srx.d, &sry.d, &pxy), STATS_OK);
    assert_int_equal(stats_prob_improvement(&sry.d, &srx.d, &pyx), STATS_OK);
    ASSERT_NEAR(pxy + pyx, 1.0, EPS);
}

static void test_prob_improvement_ci(void **state) {
    (void)state;
    stats_boot_t boot = stats_boot_default(21);
    stats_ci_t ci, again;
    const double lo[] = {0.1, 0.5, 0.2, 0.3}, hi[] = {0.6, 0.9, 0.7};
    set_t slo = {{lo}, {4}, {0}}, shi = {{hi}, {3}, {0}};
    set_init(&slo, 1);
    set_init(&shi, 1);
    assert_int_equal(stats_prob_improvement_ci(&shi.d, &slo.d, &boot, &ci), STATS_OK);
    ASSERT_NEAR(ci.point, 1.0, 0);
    ASSERT_NEAR(ci.lo, 1.0, 0);
    ASSERT_NEAR(ci.hi, 1.0, 0);
    /* identical samples of 10 runs over 2 tasks: 0.5 with an interval around it */
    double x0[10], x1[10];
    normal_draws(x0, 10, 0.0, 5, 0);
    normal_draws(x1, 10, 0.0, 5, 1);
    set_t s = {{x0, x1}, {10, 10}, {0}};
    set_init(&s, 2);
    assert_int_equal(stats_prob_improvement_ci(&s.d, &s.d, &boot, &ci), STATS_OK);
    ASSERT_NEAR(ci.point, 0.5, 0);
    assert_true(ci.lo < 0.45 && ci.hi > 0.55 && ci.lo > 0.1 && ci.hi < 0.9);
    assert_int_equal(stats_prob_improvement_ci(&s.d, &s.d, &boot, &again), STATS_OK);
    assert_memory_equal(&ci, &again, sizeof ci);
    /* a clear improvement (shift by 2 sd) has an interval well above 0.5 */
    double y0[10], y1[10];
    for (int i = 0; i < 10; i++) y0[i] = x0[i] + 2.0, y1[i] = x1[i] + 2.0;
    set_t sy = {{y0, y1}, {10, 10}, {0}};
    set_init(&sy, 2);
    assert_int_equal(stats_prob_improvement_ci(&sy.d, &s.d, &boot, &ci), STATS_OK);
    assert_true(ci.point > 0.8 && ci.lo > 0.6 && ci.lo <= ci.point && ci.point <= ci.hi);
}

static void test_profile(void **state) {
    (void)state;
    const double t0[] = {1, 2, 3, 4}, t1[] = {5, 6};
    set_t s = {{t0, t1}, {4, 2}, {0}};
    set_init(&s, 2);
    const double tau[] = {0, 2, 3.5, 6, 5.5};
    double f[5];
    /* pooled {1..6}: > 0: 6/6; > 2: {3,4,5,6}; > 3.5: {4,5,6}; > 6: none (strict); > 5.5: {6} */
    assert_int_equal(stats_profile(&s.d, STATS_PROFILE_RUNS, tau, 5, f), STATS_OK);
    ASSERT_NEAR(f[0], 1.0, 0);
    ASSERT_NEAR(f[1], 4.0 / 6.0, EPS);
    ASSERT_NEAR(f[2], 0.5, 0);
    ASSERT_NEAR(f[3], 0.0, 0);
    ASSERT_NEAR(f[4], 1.0 / 6.0, EPS);
    /* task means 2.5 and 5.5 */
    assert_int_equal(stats_profile(&s.d, STATS_PROFILE_TASK_MEANS, tau, 5, f), STATS_OK);
    ASSERT_NEAR(f[0], 1.0, 0);
    ASSERT_NEAR(f[1], 1.0, 0);
    ASSERT_NEAR(f[2], 0.5, 0);
    ASSERT_NEAR(f[3], 0.0, 0);
    ASSERT_NEAR(f[4], 0.0, 0); /* 5.5 is not > 5.5 */
    stats_boot_t boot = stats_boot_default(8);
    stats_ci_t ci[5];
    assert_int_equal(stats_profile_ci(&s.d, STATS_PROFILE_RUNS, tau, 5, &boot, ci), STATS_OK);
    ASSERT_NEAR(ci[0].lo, 1.0, 0); /* every run is above 0 in every replicate */
    ASSERT_NEAR(ci[0].hi, 1.0, 0);
    ASSERT_NEAR(ci[3].lo, 0.0, 0);
    ASSERT_NEAR(ci[3].hi, 0.0, 0);
    /* task 1 is {5, 6} in every replicate up to order: at tau = 3.5 the fraction is at least 2/6 */
    assert_true(ci[2].lo >= 2.0 / 6.0 && ci[2].hi <= 1.0 && ci[2].lo < 0.5 && ci[2].hi > 0.5);
    for (int k = 0; k < 5; k++) {
        assert_true(ci[k].lo <= ci[k].point && ci[k].point <= ci[k].hi);
        assert_true(ci[k].lo >= 0.0 && ci[k].hi <= 1.0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_std),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_iqm_by_hand),
        cmocka_unit_test(test_aggregates),
        cmocka_unit_test(test_normalized),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_bootstrap_normal),
        cmocka_unit_test(test_bootstrap_coverage),
        cmocka_unit_test(test_bootstrap_constant),
        cmocka_unit_test(test_bootstrap_two_points),
        cmocka_unit_test(test_bootstrap_stratified),
        cmocka_unit_test(test_bootstrap_protocol),
        cmocka_unit_test(test_prob_improvement),
        cmocka_unit_test(test_prob_improvement_ci),
        cmocka_unit_test(test_profile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
