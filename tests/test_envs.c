/* envs/: the hidden world LM, IMDB-sim and the toy tasks with exact answers. */
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
#include "../envs/toy.h"
#include "../envs/world.h"

#define SEED 20240611ull
#define PLEN 64
#define GLEN 48
#define V 512

static task_t *make(const char *name, uint64_t seed) {
    task_params_t p = {.name = name, .world_seed = seed, .vocab = V, .prompt_len = PLEN, .gen_len = GLEN};
    err_t e = {{0}};
    task_t *t = task_create(&p, &e);
    if (!t) fail_msg("task_create(%s): %s", name, e.msg);
    return t;
}

/* The prompt's latent sentiment, as documented in envs/imdb.c (first draw of the prompt stream). */
static int prompt_sentiment(uint64_t seed, int split, uint64_t index) {
    rng_t r = rng_stream(seed, WORLD_RNG_IMDB_PROMPT, (uint64_t)split, index);
    return (int)rng_bounded(&r, 2);
}

/* A continuation of the prompt sampled from the world under sentiment s (test's own stream). */
static void world_continuation(const world_t *w, const int32_t *prompt, int s, uint64_t key,
                               int32_t *gen) {
    rng_t r = rng_stream(SEED, 999, key, (uint64_t)s);
    int prev = prompt[PLEN - 1];
    for (int i = 0; i < GLEN; i++) prev = gen[i] = world_sample_next(w, s, prev, &r);
}

static void test_task_create_errors(void **state) {
    (void)state;
    err_t e = {{0}};
    task_params_t p = {.name = "imbd", .world_seed = 1};
    assert_null(task_create(&p, &e));
    assert_non_null(strstr(e.msg, "imbd"));
    task_params_t q = {.name = "imdb", .world_seed = 1, .vocab = 10};
    assert_null(task_create(&q, &e));
    assert_non_null(strstr(e.msg, "vocab = 10"));
    task_params_t r = {.name = "imdb", .world_seed = 1, .gen_len = -3};
    assert_null(task_create(&r, &e));
    assert_non_null(strstr(e.msg, "gen_len"));
    assert_string_equal(split_names[SPLIT_VALID], "validation");
    task_t *t = make("imdb", SEED);
    assert_string_equal(t->name, "imdb");
    assert_int_equal(t->vocab, V);
    assert_int_equal(t->prompt_max, PLEN);
    assert_int_equal(t->gen_min, GLEN);
    assert_int_equal(t->gen_max, GLEN);
    assert_int_equal(t->n_metrics, 6);
    assert_string_equal(t->metric_names[0], "reward");
    assert_string_equal(t->metric_names[5], "true_sentiment");
    task_destroy(t);
}

static void test_imdb_determinism(void **state) {
    (void)state;
    task_t *a = make("imdb", SEED), *b = make("imdb", SEED), *c = make("imdb", SEED + 1);
    int differs = 0;
    for (int split = 0; split < SPLIT_COUNT; split++) {
        for (uint64_t i = 0; i < 20; i++) {
            uint64_t idx = i * 7919u;
            int32_t pa[PLEN], pb[PLEN], pc[PLEN], ra[GLEN], rb[GLEN];
            assert_int_equal(a->prompt(a, split, idx, pa), PLEN);
            assert_int_equal(b->prompt(b, split, idx, pb), PLEN);
            c->prompt(c, split, idx, pc);
            assert_memory_equal(pa, pb, sizeof pa);
            differs += memcmp(pa, pc, sizeof pa) != 0;
            for (int k = 0; k < PLEN; k++) assert_true(pa[k] >= WORLD_N_RESERVED && pa[k] < V);
            assert_int_equal(a->reference(a, split, idx, ra), GLEN);
            assert_int_equal(b->reference(b, split, idx, rb), GLEN);
            assert_memory_equal(ra, rb, sizeof ra);
            double ma[6], mb[6];
            a->metrics(a, split, idx, ra, GLEN, ma);
            b->metrics(b, split, idx, rb, GLEN, mb);
            assert_memory_equal(ma, mb, sizeof ma);
            double x = a->reward(a, split, idx, ra, GLEN), y = b->reward(b, split, idx, rb, GLEN);
            assert_memory_equal(&x, &y, sizeof x);
            assert_memory_equal(&x, &ma[0], sizeof x);
            x = a->world_logprob(a, split, idx, ra, GLEN);
            y = b->world_logprob(b, split, idx, rb, GLEN);
            assert_memory_equal(&x, &y, sizeof x);
            assert_int_equal(a->expert_next(a, split, idx, ra, 5), b->expert_next(b, split, idx, rb, 5));
        }
    }
    assert_int_equal(differs, 60); /* another world seed gives other prompts */
    task_destroy(a);
    task_destroy(b);
    task_destroy(c);
}

static void test_imdb_splits_disjoint(void **state) {
    (void)state;
    task_t *t = make("imdb", SEED);
    enum { NT = 1000, NV = 200 };
    int32_t *train = malloc(sizeof(int32_t) * NT * PLEN);
    assert_non_null(train);
    for (int i = 0; i < NT; i++) t->prompt(t, SPLIT_TRAIN, (uint64_t)i, train + (size_t)i * PLEN);
    int npos = 0;
    for (int i = 0; i < NT; i++) npos += prompt_sentiment(SEED, SPLIT_TRAIN, (uint64_t)i);
    assert_in_range(npos, 420, 580); /* about half the prompts are positive */
    for (int split = SPLIT_VALID; split <= SPLIT_TEST; split++) {
        for (int j = 0; j < NV; j++) {
            int32_t v[PLEN];
            t->prompt(t, split, (uint64_t)j, v);
            for (int i = 0; i < NT; i++)
                assert_true(memcmp(v, train + (size_t)i * PLEN, sizeof v) != 0);
        }
    }
    /* ...and within a split, prompts differ */
    for (int i = 1; i < NT; i++) assert_true(memcmp(train, train + (size_t)i * PLEN, sizeof(int32_t) * PLEN) != 0);
    free(train);
    task_destroy(t);
}

static void test_world_normalised(void **state) {
    (void)state;
    err_t e;
    world_t *w = world_create(SEED, V, &e);
    assert_non_null(w);
    int negator = -1, npol = 0;
    for (int i = 0; i < V; i++) {
        if (w->negator[i] && negator < 0) negator = i;
        npol += w->polarity[i] != 0;
        for (int j = 0; j < w->n_succ[i]; j++) assert_true(w->succ[(size_t)i * WORLD_MAX_SUCC + j] != i);
    }
    assert_true(negator >= 0);
    assert_in_range(npol, V / 10, V / 3);
    int ctx[] = {WORLD_PAD, WORLD_BOS, WORLD_EOS, WORLD_SEP, 4, 77, 300, V - 1, negator};
    for (size_t c = 0; c < sizeof ctx / sizeof ctx[0]; c++) {
        for (int s = WORLD_NEG; s <= WORLD_MIX; s++) {
            double sum = 0.0;
            for (int next = 0; next < V; next++) {
                double lp = world_logprob(w, s, ctx[c], next);
                assert_true(isfinite(lp) && lp < 0.0);
                sum += exp(lp);
            }
            assert_true(fabs(sum - 1.0) < 1e-9);
        }
    }
    /* sentiment moves polar tokens the right way, and a negator flips it */
    int prev = 50, pos_tok = -1;
    for (int j = 0; j < w->n_succ[prev]; j++) {
        int id = w->succ[(size_t)prev * WORLD_MAX_SUCC + j];
        if (w->polarity[id] == 1) pos_tok = id;
    }
    if (pos_tok >= 0)
        assert_true(world_prob(w, WORLD_POS, prev, pos_tok) > world_prob(w, WORLD_NEG, prev, pos_tok));
    for (int j = 0; j < w->n_succ[negator]; j++) {
        int id = w->succ[(size_t)negator * WORLD_MAX_SUCC + j];
        if (w->polarity[id] == 1)
            assert_true(world_prob(w, WORLD_POS, negator, id) < world_prob(w, WORLD_NEG, negator, id));
    }
    world_destroy(w);
}

/* world_logprob of the task is the marginal predictive: normalised over one token and obeys the
 * chain rule. */
static void test_world_cond_logprob(void **state) {
    (void)state;
    task_t *t = make("imdb", SEED);
    err_t e;
    world_t *w = world_create(SEED, V, &e);
    int32_t prompt[PLEN + 1];
    t->prompt(t, SPLIT_VALID, 3, prompt);
    double sum = 0.0;
    for (int32_t a = 0; a < V; a++) sum += exp(t->world_logprob(t, SPLIT_VALID, 3, &a, 1));
    assert_true(fabs(sum - 1.0) < 1e-9);
    int32_t g[2] = {prompt[5], prompt[9]};
    double joint = world_cond_logprob(w, prompt, PLEN, g, 2);
    prompt[PLEN] = g[0];
    double chain = world_cond_logprob(w, prompt, PLEN, g, 1) + world_cond_logprob(w, prompt, PLEN + 1, g + 1, 1);
    assert_true(fabs(joint - chain) < 1e-12);
    double direct = t->world_logprob(t, SPLIT_VALID, 3, g, 2);
    assert_true(fabs(joint - direct) < 1e-12);
    world_destroy(w);
    task_destroy(t);
}

static void test_imdb_reward_calibration(void **state) {
    (void)state;
    task_t *t = make("imdb", SEED);
    err_t e;
    world_t *w = world_create(SEED, V, &e);
    enum { N = 200 };
    double ref_r = 0, neg_r = 0, own_r = 0, ref_ppl = 0, unif_ppl = 0, ref_true = 0, neg_true = 0;
    rng_t u = rng_stream(SEED, 998, 0, 0);
    for (int i = 0; i < N; i++) {
        int32_t prompt[PLEN], g[GLEN];
        double m[6];
        t->prompt(t, SPLIT_VALID, (uint64_t)i, prompt);
        t->reference(t, SPLIT_VALID, (uint64_t)i, g);
        t->metrics(t, SPLIT_VALID, (uint64_t)i, g, GLEN, m);
        for (int k = 0; k < 6; k++) assert_true(isfinite(m[k]));
        assert_true(m[0] >= 0.0 && m[0] <= 1.0 && m[5] >= 0.0 && m[5] <= 1.0);
        ref_r += m[0] / N, ref_ppl += m[1] / N, ref_true += m[5] / N;
        world_continuation(w, prompt, WORLD_NEG, (uint64_t)i, g);
        t->metrics(t, SPLIT_VALID, (uint64_t)i, g, GLEN, m);
        assert_true(m[0] >= 0.0 && m[0] <= 1.0);
        neg_r += m[0] / N, neg_true += m[5] / N;
        world_continuation(w, prompt, prompt_sentiment(SEED, SPLIT_VALID, (uint64_t)i), (uint64_t)i, g);
        own_r += t->reward(t, SPLIT_VALID, (uint64_t)i, g, GLEN) / N;
        for (int k = 0; k < GLEN; k++) g[k] = (int32_t)rng_bounded(&u, V);
        t->metrics(t, SPLIT_VALID, (uint64_t)i, g, GLEN, m);
        assert_true(m[0] >= 0.0 && m[0] <= 1.0);
        unif_ppl += m[1] / N;
    }
    print_message("imdb rewards: references %.4f, world text %.4f, negative %.4f; ppl ref %.2f uniform %.1f\n",
                  ref_r, own_r, neg_r, ref_ppl, unif_ppl);
    assert_true(ref_r > neg_r + 0.3);
    assert_true(ref_true > neg_true + 0.3);
    assert_in_range((int)(ref_r * 100), 65, 85); /* positive, not saturated */
    assert_in_range((int)(own_r * 100), 40, 60); /* the world's own text is neutral on average */
    assert_true(ref_ppl < 40.0);
    assert_true(unif_ppl > 10.0 * ref_ppl);
    world_destroy(w);
    task_destroy(t);
}

/* The classifier can be exploited: one high-weight token repeated scores ~1 at awful fluency. */
static void test_imdb_exploit_and_expert(void **state) {
    (void)state;
    task_t *t = make("imdb", SEED);
    int32_t g[GLEN];
    int best = -1;
    double best_r = -1.0;
    for (int tok = 0; tok < V; tok++) {
        for (int k = 0; k < GLEN; k++) g[k] = tok;
        double r = t->reward(t, SPLIT_VALID, 0, g, GLEN);
        if (r > best_r) best_r = r, best = tok;
    }
    enum { N = 200 };
    double ex_r = 0, ex_ppl = 0, ex_true = 0, ref_r = 0, ref_ppl = 0, exp_r = 0, exp_ppl = 0, exp_max = 0;
    for (int i = 0; i < N; i++) {
        double m[6];
        for (int k = 0; k < GLEN; k++) g[k] = best;
        t->metrics(t, SPLIT_VALID, (uint64_t)i, g, GLEN, m);
        assert_true(m[0] > 0.9);
        assert_true(m[4] > 0.95); /* repetition */
        ex_r += m[0] / N, ex_ppl += m[1] / N, ex_true += m[5] / N;
        t->reference(t, SPLIT_VALID, (uint64_t)i, g);
        t->metrics(t, SPLIT_VALID, (uint64_t)i, g, GLEN, m);
        ref_r += m[0] / N, ref_ppl += m[1] / N;
        for (int k = 0; k < GLEN; k++) {
            g[k] = t->expert_next(t, SPLIT_VALID, (uint64_t)i, g, k);
            assert_true(g[k] >= WORLD_N_RESERVED && g[k] < V);
        }
        t->metrics(t, SPLIT_VALID, (uint64_t)i, g, GLEN, m);
        exp_r += m[0] / N, exp_ppl += m[1] / N;
        if (m[0] > exp_max) exp_max = m[0];
    }
    print_message("exploit token %d: reward %.4f ppl %.1f true %.4f; references %.4f ppl %.2f; "
                  "expert %.4f ppl %.2f\n", best, ex_r, ex_ppl, ex_true, ref_r, ref_ppl, exp_r, exp_ppl);
    assert_true(ex_ppl > 20.0 * ref_ppl);
    assert_true(exp_r > ref_r + 0.05); /* the expert is good */
    assert_true(exp_r < 0.999);        /* but beatable: */
    assert_true(ex_r > exp_r);         /* the exploit scores higher on average */
    assert_true(exp_ppl < 2.0 * ref_ppl); /* and the expert stays fluent */
    task_destroy(t);
}

static void test_imdb_metrics_by_hand(void **state) {
    (void)state;
    task_t *t = make("imdb", SEED);
    const int32_t g[12] = {10, 11, 10, 12, 10, 11, 13, 14, 15, 16, 17, 10};
    double m[6];
    t->metrics(t, SPLIT_TEST, 5, g, 12, m);
    assert_true(fabs(m[2] - 8.0 / 12.0) < 1e-15);  /* 8 distinct tokens */
    assert_true(fabs(m[3] - 10.0 / 11.0) < 1e-15); /* (10,11) twice among 11 bigrams */
    assert_true(fabs(m[4] - 3.0 / 12.0) < 1e-15);  /* positions 2, 4, 5; position 11 is too far */
    double lp = t->world_logprob(t, SPLIT_TEST, 5, g, 12);
    assert_true(fabs(m[1] - exp(-lp / 12.0)) < 1e-12 * m[1]);
    double r = t->reward(t, SPLIT_TEST, 5, g, 12);
    assert_memory_equal(&r, &m[0], sizeof r);
    const int32_t h[4] = {20, 20, 20, 20};
    t->metrics(t, SPLIT_TEST, 5, h, 4, m);
    assert_true(fabs(m[2] - 0.25) < 1e-15 && fabs(m[3] - 1.0 / 3.0) < 1e-15 && fabs(m[4] - 0.75) < 1e-15);
    task_destroy(t);
}

/* ---- toy tasks ---- */

static double uniform_lp(void *ctx, const int32_t *seq, int len, int next) {
    (void)seq, (void)len, (void)next;
    return -log((double)((const task_t *)ctx)->vocab);
}

/* The deterministic policy that follows the expert (the hidden target). */
static double expert_lp(void *ctx, const int32_t *seq, int len, int next) {
    const task_t *t = ctx;
    return t->expert_next(t, SPLIT_TRAIN, (uint64_t)seq[0], seq + 1, len - 1) == next ? 0.0 : -INFINITY;
}

/* Boltzmann policy of toy_match, per position: pi(a) proportional to exp(1[a = target_t] / (H beta)). */
typedef struct {
    const task_t *t;
    double beta;
} boltz_t;
static double boltz_lp(void *ctx, const int32_t *seq, int len, int next) {
    const boltz_t *b = ctx;
    int H = b->t->gen_max, Vt = b->t->vocab;
    int target = b->t->expert_next(b->t, SPLIT_TRAIN, (uint64_t)seq[0], seq + 1, len - 1);
    double e = 1.0 / (H * b->beta);
    double z = log(exp(e) + (Vt - 1));
    return (next == target ? e : 0.0) - z;
}

static void test_toy_basics(void **state) {
    (void)state;
    task_t *lock = make("toy_lock", SEED), *match = make("toy_match", SEED);
    assert_int_equal(lock->vocab, 4);
    assert_int_equal(lock->gen_max, 6);
    assert_int_equal(lock->gen_min, 6);
    assert_int_equal(lock->bos, -1);
    assert_int_equal(lock->eos, -1);
    assert_int_equal(toy_prompt_count(lock), 1);
    assert_int_equal(match->vocab, 3);
    assert_int_equal(match->gen_max, 4);
    assert_int_equal(toy_prompt_count(match), 3);
    int32_t p[1], c[6];
    assert_int_equal(match->prompt(match, SPLIT_VALID, 7, p), 1);
    assert_int_equal(p[0], 1);
    assert_int_equal(lock->prompt(lock, SPLIT_TEST, 7, p), 1);
    assert_int_equal(p[0], 0);
    assert_int_equal(lock->reference(lock, SPLIT_TRAIN, 0, c), 6);
    double m[2];
    lock->metrics(lock, SPLIT_TRAIN, 0, c, 6, m);
    assert_true(m[0] == 1.0 && m[1] == 1.0);
    c[3] = (c[3] + 1) % 4;
    lock->metrics(lock, SPLIT_TRAIN, 0, c, 6, m);
    assert_true(m[0] == 0.0 && m[1] == 0.0);
    assert_true(isnan(lock->world_logprob(lock, SPLIT_TRAIN, 0, c, 6)));
    /* toy_match: fraction of positions right */
    assert_int_equal(match->reference(match, SPLIT_TRAIN, 2, c), 4);
    c[0] = (c[0] + 1) % 3;
    c[2] = (c[2] + 2) % 3;
    match->metrics(match, SPLIT_TRAIN, 2, c, 4, m);
    assert_true(m[0] == 0.5 && m[1] == 0.0);
    assert_true(match->reward(match, SPLIT_TRAIN, 5, c, 4) == 0.5); /* index 5 is prompt 2 */
    /* the lock's combination depends on the world seed */
    int differ = 0;
    for (uint64_t s = 1; s <= 5; s++) {
        task_t *o = make("toy_lock", SEED + s);
        int32_t d[6], e0[6];
        lock->reference(lock, SPLIT_TRAIN, 0, e0);
        o->reference(o, SPLIT_TRAIN, 0, d);
        differ += memcmp(d, e0, sizeof d) != 0;
        task_destroy(o);
    }
    assert_true(differ >= 4);
    task_destroy(lock);
    task_destroy(match);
}

static void test_toy_exact_values(void **state) {
    (void)state;
    task_t *lock = make("toy_lock", SEED), *match = make("toy_match", SEED);
    double u = toy_policy_value(lock, uniform_lp, lock, NULL, NULL, 0.0);
    assert_true(fabs(u - pow(4.0, -6.0)) < 1e-15);
    assert_true(fabs(toy_policy_value(lock, expert_lp, lock, NULL, NULL, 0.0) - 1.0) < 1e-15);
    assert_true(fabs(toy_policy_value(match, expert_lp, match, NULL, NULL, 0.0) - 1.0) < 1e-15);
    assert_true(fabs(toy_policy_value(match, uniform_lp, match, NULL, NULL, 0.0) - 1.0 / 3.0) < 1e-15);
    /* KL to itself is zero; the deterministic expert pays H log V against the uniform reference */
    assert_true(fabs(toy_policy_value(lock, uniform_lp, lock, uniform_lp, lock, 0.5) - u) < 1e-15);
    double beta = 0.01;
    double want = 1.0 - beta * 6.0 * log(4.0);
    assert_true(fabs(toy_policy_value(lock, expert_lp, lock, uniform_lp, lock, beta) - want) < 1e-14);

    /* KL optimum: limits in beta */
    assert_true(toy_kl_optimum(lock, uniform_lp, lock, 0.0) == 1.0);
    assert_true(fabs(toy_kl_optimum(lock, uniform_lp, lock, 1e-9) - 1.0) < 1e-7);
    assert_true(fabs(toy_kl_optimum(lock, uniform_lp, lock, 1e6) - u) < 1e-9);
    assert_true(fabs(toy_kl_optimum(match, NULL, NULL, 1e6) - 1.0 / 3.0) < 1e-6);
    assert_true(fabs(toy_kl_optimum(match, uniform_lp, match, 1e-9) - 1.0) < 1e-7);
    /* lock, closed form: beta log(1 - 4^-6 + 4^-6 e^{1/beta}) */
    for (double b = 0.05; b < 20; b *= 3.0) {
        double cf = b * log(1.0 - u + u * exp(1.0 / b));
        assert_true(fabs(toy_kl_optimum(lock, uniform_lp, lock, b) - cf) < 1e-12);
    }
    /* match, closed form: the optimum factorises over positions */
    const double betas[] = {0.03, 0.1, 0.3, 1.0, 10.0};
    for (size_t i = 0; i < sizeof betas / sizeof betas[0]; i++) {
        double b = betas[i], H = 4.0;
        double cf = H * b * log((exp(1.0 / (H * b)) + 2.0) / 3.0);
        double opt = toy_kl_optimum(match, uniform_lp, match, b);
        assert_true(fabs(opt - cf) < 1e-12);
        /* ...and the Boltzmann policy attains it, while others fall short */
        boltz_t bz = {match, b};
        double v = toy_policy_value(match, boltz_lp, &bz, uniform_lp, match, b);
        assert_true(fabs(v - opt) < 1e-12);
        assert_true(toy_policy_value(match, uniform_lp, match, uniform_lp, match, b) < opt - 1e-6);
        assert_true(toy_policy_value(match, expert_lp, match, uniform_lp, match, b) < opt - 1e-6);
    }
    task_destroy(lock);
    task_destroy(match);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_create_errors),
        cmocka_unit_test(test_imdb_determinism),
        cmocka_unit_test(test_imdb_splits_disjoint),
        cmocka_unit_test(test_world_normalised),
        cmocka_unit_test(test_world_cond_logprob),
        cmocka_unit_test(test_imdb_reward_calibration),
        cmocka_unit_test(test_imdb_exploit_and_expert),
        cmocka_unit_test(test_imdb_metrics_by_hand),
        cmocka_unit_test(test_toy_basics),
        cmocka_unit_test(test_toy_exact_values),
    };
    return cmocka_run_group_tests_name("envs", tests, NULL, NULL);
}
