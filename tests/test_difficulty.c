/* The tasks' difficulty knobs (imdb.threshold, commongen.min_coverage, tldr.min_coverage):
 * 0 is the reward as it always was, bit for bit; the knob does exactly what envs/ documents; and
 * it moves how often an SL-like sample is paid in the documented direction (rarer as it rises).
 * The config keys are validated with messages naming key and value, and never move the SL cache. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../envs/task.h"
#include "../envs/world.h"
#include "../sim/base/config.h"

#define SEED 1ull
#define V 512
#define N 128 /* validation prompts */

static task_t *make(const char *name, int prompt_len, double difficulty) {
    task_params_t p = {.name = name, .world_seed = SEED, .vocab = V, .prompt_len = prompt_len,
                       .difficulty = difficulty};
    err_t e = {{0}};
    task_t *t = task_create(&p, &e);
    if (!t) fail_msg("task_create(%s, difficulty %g): %s", name, difficulty, e.msg);
    return t;
}

/* An SL-like sample for prompt i: the task's own hidden reference with every token past the
 * first `keep` replaced by world-LM text (the SL policy imitates the references, imperfectly). */
static int sl_like(const task_t *t, const world_t *w, uint64_t i, int keep, int32_t *gen) {
    int n = t->reference(t, SPLIT_VALID, i, gen);
    rng_t r = rng_stream(SEED, 4242, i, 0);
    int prev = keep > 0 && keep <= n ? gen[keep - 1] : WORLD_BOS;
    for (int k = keep; k < n; k++) {
        if (gen[k] == t->eos) break;
        prev = gen[k] = world_sample_next(w, 1, prev, &r);
        if (prev == t->eos || prev < WORLD_N_RESERVED) prev = gen[k] = WORLD_N_RESERVED + (int)(i % 50);
    }
    return n;
}

static void test_imdb_threshold(void **state) {
    (void)state;
    const double ts[] = {0.5, 0.8, 0.9};
    task_t *t0 = make("imdb", 64, 0.0);
    world_t *w = world_create(SEED, V, NULL);
    assert_non_null(w);
    double prev_mean = 2.0, prev_paid = 2.0;
    double m0[TASK_MAX_METRICS], m1[TASK_MAX_METRICS];
    int32_t gen[128];
    for (int a = -1; a < 3; a++) {
        double th = a < 0 ? 0.0 : ts[a];
        task_t *t = a < 0 ? t0 : make("imdb", 64, th);
        double sum = 0.0;
        int paid = 0;
        for (uint64_t i = 0; i < N; i++) {
            int n = sl_like(t, w, i, (int)(i % 24), gen);
            double p = t0->reward(t0, SPLIT_VALID, i, gen, n), r = t->reward(t, SPLIT_VALID, i, gen, n);
            double want = th == 0.0 ? p : (p > th ? (p - th) / (1.0 - th) : 0.0);
            assert_memory_equal(&r, &want, sizeof r); /* exactly the documented formula */
            assert_true(r >= 0.0 && r <= 1.0);
            t0->metrics(t0, SPLIT_VALID, i, gen, n, m0);
            t->metrics(t, SPLIT_VALID, i, gen, n, m1);
            assert_memory_equal(&m1[0], &r, sizeof r); /* metric 0 is the task reward */
            for (int k = 1; k < t->n_metrics; k++) assert_memory_equal(&m1[k], &m0[k], sizeof m0[k]);
            sum += r;
            paid += r > 0.0;
        }
        double mean = sum / N, frac = (double)paid / N;
        print_message("imdb.threshold %.2f: SL-like mean reward %.3f, paid (R > 0) %.3f\n", th, mean, frac);
        assert_true(mean < prev_mean);
        assert_true(frac <= prev_paid);
        prev_mean = mean, prev_paid = frac;
        if (a >= 0) task_destroy(t);
    }
    assert_true(prev_paid < 0.5); /* at .9 most SL-like samples earn nothing */
    world_destroy(w);
    task_destroy(t0);
    err_t e = {{0}};
    task_params_t bad = {.name = "imdb", .world_seed = SEED, .difficulty = 1.0};
    assert_null(task_create(&bad, &e));
    assert_non_null(strstr(e.msg, "threshold = 1"));
}

/* commongen and tldr: a generation below the coverage gate scores as the empty one. */
static void check_gate(const char *name, int prompt_len, int cov_metric) {
    const double cs[] = {0.3, 0.6, 1.0};
    task_t *t0 = make(name, prompt_len, 0.0);
    world_t *w = world_create(SEED, V, NULL);
    assert_non_null(w);
    int32_t gen[64], empty[1] = {t0->eos};
    double m0[TASK_MAX_METRICS], m1[TASK_MAX_METRICS];
    double prev_paid = 2.0;
    for (int a = 0; a < 3; a++) {
        task_t *t = make(name, prompt_len, cs[a]);
        int paid = 0;
        for (uint64_t i = 0; i < N; i++) {
            int n = sl_like(t, w, i, (int)(i % 8), gen);
            double r0 = t0->reward(t0, SPLIT_VALID, i, gen, n), r = t->reward(t, SPLIT_VALID, i, gen, n);
            double rempty = t0->reward(t0, SPLIT_VALID, i, empty, 1);
            t0->metrics(t0, SPLIT_VALID, i, gen, n, m0);
            t->metrics(t, SPLIT_VALID, i, gen, n, m1);
            double want = m0[cov_metric] < cs[a] ? rempty : r0;
            assert_memory_equal(&r, &want, sizeof r);
            assert_memory_equal(&m1[0], &r, sizeof r);
            for (int k = 1; k < t->n_metrics; k++) assert_memory_equal(&m1[k], &m0[k], sizeof m0[k]);
            paid += m0[cov_metric] >= cs[a];
        }
        double frac = (double)paid / N;
        print_message("%s.min_coverage %.1f: SL-like samples paid %.3f\n", name, cs[a], frac);
        assert_true(frac <= prev_paid);
        prev_paid = frac;
        task_destroy(t);
    }
    assert_true(prev_paid < 0.5);
    world_destroy(w);
    task_destroy(t0);
    err_t e = {{0}};
    task_params_t bad = {.name = name, .world_seed = SEED, .prompt_len = prompt_len, .difficulty = -0.5};
    assert_null(task_create(&bad, &e));
    assert_non_null(strstr(e.msg, "min_coverage = -0.5"));
}

static void test_commongen_min_coverage(void **state) {
    (void)state;
    check_gate("commongen", 0, 8);
}

static void test_tldr_min_coverage(void **state) {
    (void)state;
    check_gate("tldr", 64, 7);
}

static void expect_error(config_t *c, const char *key, const char *value, const char *needle) {
    err_t e = {{0}};
    int rc = cfg_set(c, key, value, NULL, &e);
    if (rc == 0) rc = cfg_validate(c, &e);
    assert_int_equal(rc, -1);
    if (!strstr(e.msg, needle)) fail_msg("%s=%s: message '%s' lacks '%s'", key, value, e.msg, needle);
}

static void test_config_keys(void **state) {
    (void)state;
    config_t c;
    cfg_defaults(&c);
    assert_true(c.imdb.threshold == 0.0 && c.commongen.min_coverage == 0.0 && c.tldr.min_coverage == 0.0);
    expect_error(&c, "imdb.threshold", "1", "imdb.threshold");
    expect_error(&c, "imdb.threshold", "-0.1", "'-0.1'");
    expect_error(&c, "commongen.min_coverage", "1.5", "commongen.min_coverage");
    expect_error(&c, "tldr.min_coverage", "x", "'x'");
    /* a knob of another task is refused, not ignored */
    cfg_defaults(&c);
    expect_error(&c, "commongen.min_coverage", "0.5", "commongen.min_coverage = 0.5 is the difficulty of task = commongen");
    cfg_defaults(&c);
    err_t e = {{0}};
    assert_int_equal(cfg_set(&c, "task", "tldr", NULL, &e), 0);
    expect_error(&c, "imdb.threshold", "0.8", "(task = tldr)");
    /* the knobs change the reward only: the SL cache text does not move, the run text does */
    cfg_defaults(&c);
    char *sl0 = cfg_sl_text(&c), *run0 = cfg_run_text(&c);
    assert_int_equal(cfg_set(&c, "imdb.threshold", "0.9", NULL, &e), 0);
    assert_int_equal(cfg_validate(&c, &e), 0);
    char *sl1 = cfg_sl_text(&c), *run1 = cfg_run_text(&c);
    assert_string_equal(sl0, sl1);
    assert_string_not_equal(run0, run1);
    assert_non_null(strstr(run1, "imdb.threshold = 0.9\n"));
    free(sl0), free(sl1), free(run0), free(run1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imdb_threshold),
        cmocka_unit_test(test_commongen_min_coverage),
        cmocka_unit_test(test_tldr_min_coverage),
        cmocka_unit_test(test_config_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
