/* envs/: CommonGen-sim and TL;DR-sim (spec/tasks.md): purity and determinism, disjoint splits,
 * references that use every concept, the expert against simple baselines, and the TL;DR proxy
 * reward against its gold utility. The numbers measured are printed. */
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

#define SEED 20240611ull
#define V 512
#define MAXP 1100
#define MAXG 64
#define NPROMPTS 64

static task_t *make(const char *name, uint64_t seed, int prompt_len) {
    task_params_t p = {.name = name, .world_seed = seed, .vocab = V, .prompt_len = prompt_len};
    err_t e = {{0}};
    task_t *t = task_create(&p, &e);
    if (!t) fail_msg("task_create(%s): %s", name, e.msg);
    return t;
}

/* The expert's whole continuation (stops at EOS or gen_max; EOS is not taken before gen_min). */
static int expert_rollout(const task_t *t, int split, uint64_t idx, int32_t *out) {
    int n = 0;
    while (n < t->gen_max) {
        int tok = t->expert_next(t, split, idx, out, n);
        assert_true(tok >= 0 && tok < t->vocab);
        if (tok == t->eos && n < t->gen_min) fail_msg("expert wrote EOS after %d tokens", n);
        out[n++] = tok;
        if (tok == t->eos) break;
    }
    return n;
}

/* Uniformly random ordinary tokens, then EOS. */
static int random_text(const task_t *t, uint64_t key, int len, int32_t *out) {
    rng_t r = rng_stream(SEED, 998, key, 0);
    for (int i = 0; i < len; i++) out[i] = WORLD_N_RESERVED + (int)rng_bounded(&r, (uint32_t)(t->vocab - WORLD_N_RESERVED));
    out[len] = WORLD_EOS;
    return len + 1;
}

/* A world-LM sample from BOS (the "fluent but prompt-blind" baseline), then EOS. */
static int world_text(const world_t *w, uint64_t key, int len, int32_t *out) {
    rng_t r = rng_stream(SEED, 999, key, 0);
    int prev = WORLD_BOS;
    for (int i = 0; i < len; i++) prev = out[i] = world_sample_next(w, (int)(key & 1), prev, &r);
    out[len] = WORLD_EOS;
    return len + 1;
}

static void check_purity(const char *name, int prompt_len) {
    task_t *a = make(name, SEED, prompt_len), *b = make(name, SEED, prompt_len), *c = make(name, SEED + 1, prompt_len);
    int differs = 0, nm = a->n_metrics;
    for (int split = 0; split < SPLIT_COUNT; split++) {
        for (uint64_t i = 0; i < 20; i++) {
            uint64_t idx = i * 7919u;
            int32_t pa[MAXP], pb[MAXP], pc[MAXP], ra[MAXG], rb[MAXG], ea[MAXG], eb[MAXG];
            int la = a->prompt(a, split, idx, pa), lb = b->prompt(b, split, idx, pb);
            int lc = c->prompt(c, split, idx, pc);
            assert_int_equal(la, lb);
            assert_true(la >= 1 && la <= a->prompt_max);
            assert_memory_equal(pa, pb, (size_t)la * sizeof *pa);
            differs += la != lc || memcmp(pa, pc, (size_t)la * sizeof *pa) != 0;
            assert_int_equal(pa[la - 1], WORLD_SEP);
            for (int k = 0; k < la - 1; k++) assert_true(pa[k] >= WORLD_N_RESERVED && pa[k] < V);
            int rla = a->reference(a, split, idx, ra), rlb = b->reference(b, split, idx, rb);
            assert_int_equal(rla, rlb);
            assert_true(rla >= 1 && rla <= a->gen_max);
            assert_int_equal(ra[rla - 1], WORLD_EOS);
            assert_memory_equal(ra, rb, (size_t)rla * sizeof *ra);
            double ma[TASK_MAX_METRICS], mb[TASK_MAX_METRICS];
            a->metrics(a, split, idx, ra, rla, ma);
            b->metrics(b, split, idx, rb, rlb, mb);
            assert_memory_equal(ma, mb, (size_t)nm * sizeof *ma);
            double x = a->reward(a, split, idx, ra, rla), y = b->reward(b, split, idx, rb, rlb);
            assert_memory_equal(&x, &y, sizeof x);
            assert_memory_equal(&x, &ma[0], sizeof x);
            for (int k = 0; k < nm; k++) assert_true(isfinite(ma[k]));
            x = a->world_logprob(a, split, idx, ra, rla);
            y = b->world_logprob(b, split, idx, rb, rlb);
            assert_memory_equal(&x, &y, sizeof x);
            assert_true(isfinite(x) && x < 0);
            int ela = expert_rollout(a, split, idx, ea), elb = expert_rollout(b, split, idx, eb);
            assert_int_equal(ela, elb);
            assert_memory_equal(ea, eb, (size_t)ela * sizeof *ea);
            /* any tokens at all are scored (reserved ids included), with finite values */
            int32_t junk[3] = {WORLD_PAD, WORLD_SEP, WORLD_BOS};
            a->metrics(a, split, idx, junk, 3, ma);
            for (int k = 0; k < nm; k++) assert_true(isfinite(ma[k]));
            a->metrics(a, split, idx, junk, 0, ma);
            for (int k = 0; k < nm; k++) assert_true(isfinite(ma[k]));
        }
    }
    assert_true(differs >= 55); /* another world seed gives other prompts */
    task_destroy(a);
    task_destroy(b);
    task_destroy(c);
}

static void test_create(void **state) {
    (void)state;
    task_t *t = make("commongen", SEED, 0);
    assert_string_equal(t->name, "commongen");
    assert_int_equal(t->eos, WORLD_EOS);
    assert_int_equal(t->gen_min, 5);
    assert_int_equal(t->gen_max, 20);
    assert_true(t->prompt_max <= 15);
    assert_string_equal(t->metric_names[0], "reward");
    assert_string_equal(t->metric_names[t->n_metrics - 1], "text_length");
    task_destroy(t);
    t = make("tldr", SEED, 0);
    assert_string_equal(t->name, "tldr");
    assert_int_equal(t->prompt_max, 201); /* default post of 200 tokens + SEP */
    assert_int_equal(t->gen_max, 50);
    assert_string_equal(t->metric_names[1], "gold");
    task_destroy(t);
    err_t e = {{0}};
    task_params_t p = {.name = "tldr", .world_seed = 1, .vocab = V, .prompt_len = 5};
    assert_null(task_create(&p, &e));
    assert_non_null(strstr(e.msg, "post_len = 5"));
    task_params_t q = {.name = "commongen", .world_seed = 1, .vocab = 10};
    assert_null(task_create(&q, &e));
    assert_non_null(strstr(e.msg, "vocab = 10"));
}

static void test_purity(void **state) {
    (void)state;
    check_purity("commongen", 0);
    check_purity("tldr", 0);
}

static int cmp_i32(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

static void test_splits_disjoint(void **state) {
    (void)state;
    /* CommonGen: no concept set (sorted) in two splits */
    task_t *t = make("commongen", SEED, 0);
    enum { NS = 400 };
    static int32_t sets[SPLIT_COUNT][NS][6];
    int ks[SPLIT_COUNT][NS];
    for (int s = 0; s < SPLIT_COUNT; s++)
        for (int i = 0; i < NS; i++) {
            int32_t p[16];
            int n = t->prompt(t, s, (uint64_t)i, p);
            assert_in_range(n, 4, 6);
            ks[s][i] = n - 1;
            memset(sets[s][i], 0, sizeof sets[s][i]);
            memcpy(sets[s][i], p, (size_t)(n - 1) * sizeof *p);
            qsort(sets[s][i], (size_t)(n - 1), sizeof(int32_t), cmp_i32);
            for (int k = 1; k < n - 1; k++) assert_true(sets[s][i][k] != sets[s][i][k - 1]);
        }
    int kcount[6] = {0};
    for (int i = 0; i < NS; i++) kcount[ks[SPLIT_TRAIN][i]]++;
    for (int k = 3; k <= 5; k++) assert_true(kcount[k] > NS / 5); /* 3, 4 and 5 concepts */
    for (int s1 = 0; s1 < SPLIT_COUNT; s1++)
        for (int s2 = s1 + 1; s2 < SPLIT_COUNT; s2++)
            for (int i = 0; i < NS; i++)
                for (int j = 0; j < NS; j++)
                    assert_true(ks[s1][i] != ks[s2][j] || memcmp(sets[s1][i], sets[s2][j], sizeof sets[s1][i]) != 0);
    task_destroy(t);
    /* TL;DR: posts never repeat */
    t = make("tldr", SEED, 0);
    enum { NP = 100 };
    int32_t *posts = malloc(sizeof(int32_t) * SPLIT_COUNT * NP * 201);
    assert_non_null(posts);
    for (int s = 0; s < SPLIT_COUNT; s++)
        for (int i = 0; i < NP; i++) assert_int_equal(t->prompt(t, s, (uint64_t)i, posts + (size_t)(s * NP + i) * 201), 201);
    for (int a = 0; a < SPLIT_COUNT * NP; a++)
        for (int b = a + 1; b < SPLIT_COUNT * NP; b++)
            assert_true(memcmp(posts + (size_t)a * 201, posts + (size_t)b * 201, 201 * sizeof(int32_t)) != 0);
    free(posts);
    task_destroy(t);
}

static void test_commongen_references(void **state) {
    (void)state;
    task_t *t = make("commongen", SEED, 0);
    double cov = 0, ppl = 0, len = 0;
    for (int s = 0; s < SPLIT_COUNT; s++)
        for (uint64_t i = 0; i < 100; i++) {
            int32_t p[16], r[MAXG];
            int pl = t->prompt(t, s, i, p), rl = t->reference(t, s, i, r);
            assert_in_range(rl, t->gen_min + 1, t->gen_max);
            for (int k = 0; k < pl - 1; k++) { /* every concept, exactly once */
                int hits = 0;
                for (int j = 0; j < rl; j++) hits += r[j] == p[k];
                assert_int_equal(hits, 1);
            }
            double m[TASK_MAX_METRICS];
            t->metrics(t, s, i, r, rl, m);
            assert_true(m[8] == 1.0); /* coverage */
            cov += m[8], ppl += m[9], len += m[10];
        }
    printf("commongen references: coverage %.3f, output_ppl %.1f, length %.1f (300 prompts)\n", cov / 300,
           ppl / 300, len / 300);
    task_destroy(t);
}

typedef struct {
    const char *name;
    double m[TASK_MAX_METRICS];
} row_t;

static void print_rows(const task_t *t, const row_t *rows, int n) {
    printf("%-10s", "");
    for (int k = 0; k < t->n_metrics; k++) printf(" %9.9s", t->metric_names[k]);
    printf("\n");
    for (int i = 0; i < n; i++) {
        printf("%-10s", rows[i].name);
        for (int k = 0; k < t->n_metrics; k++) printf(" %9.3f", rows[i].m[k] / NPROMPTS);
        printf("\n");
    }
}

static void add(const task_t *t, row_t *row, int split, uint64_t idx, const int32_t *gen, int glen) {
    double m[TASK_MAX_METRICS];
    t->metrics(t, split, idx, gen, glen, m);
    for (int k = 0; k < t->n_metrics; k++) row->m[k] += m[k];
}

static void test_commongen_scores(void **state) {
    (void)state;
    task_t *t = make("commongen", SEED, 0);
    err_t e;
    world_t *w = world_create(SEED, V, &e);
    row_t rows[4] = {{"random", {0}}, {"world_lm", {0}}, {"reference", {0}}, {"expert", {0}}};
    for (uint64_t i = 0; i < NPROMPTS; i++) {
        int32_t g[MAXG];
        int n = random_text(t, i, 10, g);
        add(t, &rows[0], SPLIT_VALID, i, g, n);
        n = world_text(w, i, 10, g);
        add(t, &rows[1], SPLIT_VALID, i, g, n);
        n = t->reference(t, SPLIT_VALID, i, g);
        add(t, &rows[2], SPLIT_VALID, i, g, n);
        n = expert_rollout(t, SPLIT_VALID, i, g);
        assert_int_equal(g[n - 1], WORLD_EOS);
        add(t, &rows[3], SPLIT_VALID, i, g, n);
    }
    printf("commongen, %d validation prompts (reference = the first hidden reference, itself one of the "
           "3-5 it is scored against):\n", NPROMPTS);
    print_rows(t, rows, 4);
    double rnd = rows[0].m[0] / NPROMPTS, wlm = rows[1].m[0] / NPROMPTS, ref = rows[2].m[0] / NPROMPTS,
           exp_ = rows[3].m[0] / NPROMPTS;
    assert_true(rnd < wlm);
    assert_true(wlm + 0.5 < exp_);           /* the expert clearly above fluent prompt-blind text */
    assert_true(rnd < ref && exp_ < ref);    /* a human reference (scored against itself too) on top */
    assert_true(rows[3].m[8] / NPROMPTS > 0.99); /* the expert uses every concept */
    world_destroy(w);
    task_destroy(t);
}

/* Pearson correlation. */
static double corr(const double *x, const double *y, int n) {
    double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= n, my /= n;
    for (int i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

static void test_tldr_scores(void **state) {
    (void)state;
    task_t *t = make("tldr", SEED, 0);
    err_t e;
    world_t *w = world_create(SEED, V, &e);
    enum { KINDS = 8 };
    row_t rows[KINDS] = {{"random", {0}},   {"world_lm", {0}}, {"noisy_ref", {0}}, {"half_ref", {0}},
                         {"reference", {0}}, {"expert", {0}},   {"exp+junk", {0}},  {"degenerate", {0}}};
    static double rm[KINDS * NPROMPTS], gold[KINDS * NPROMPTS];
    int np = 0;
    for (uint64_t i = 0; i < NPROMPTS; i++) {
        int32_t g[KINDS][MAXG], post[MAXP], ref[MAXG], ex[MAXG];
        int n[KINDS];
        int pl = t->prompt(t, SPLIT_VALID, i, post);
        int rl = t->reference(t, SPLIT_VALID, i, ref);
        int el = expert_rollout(t, SPLIT_VALID, i, ex);
        n[0] = random_text(t, i, 12, g[0]);
        n[1] = world_text(w, i, 12, g[1]);
        /* noisy reference: every other token replaced by a random post token */
        rng_t r = rng_stream(SEED, 997, i, 0);
        for (int k = 0; k < rl; k++) g[2][k] = (k % 2 && k < rl - 1) ? post[rng_bounded(&r, (uint32_t)(pl - 1))] : ref[k];
        n[2] = rl;
        n[3] = (rl - 1) / 2; /* the first half of the reference */
        memcpy(g[3], ref, (size_t)n[3] * sizeof *ref);
        g[3][n[3]++] = WORLD_EOS;
        memcpy(g[4], ref, (size_t)rl * sizeof *ref);
        n[4] = rl;
        memcpy(g[5], ex, (size_t)el * sizeof *ex);
        n[5] = el;
        n[6] = 0; /* expert with off-post junk appended */
        for (int k = 0; k < el - 1; k++) g[6][n[6]++] = ex[k];
        for (int k = 0; k < 6; k++) g[6][n[6]++] = WORLD_N_RESERVED + (int)rng_bounded(&r, V - WORLD_N_RESERVED);
        g[6][n[6]++] = WORLD_EOS;
        /* degenerate: the salient tokens cycled until the length limit (no immediate repeats) */
        n[7] = 0;
        if (el > 1)
            while (n[7] < t->gen_max - 1) g[7][n[7]] = ex[n[7] % (el - 1)], n[7]++;
        g[7][n[7]++] = WORLD_EOS;
        for (int k = 0; k < KINDS; k++) {
            double m[TASK_MAX_METRICS];
            t->metrics(t, SPLIT_VALID, i, g[k], n[k], m);
            for (int q = 0; q < t->n_metrics; q++) rows[k].m[q] += m[q];
            if (k < KINDS - 1) rm[np] = m[0], gold[np] = m[1], np++;
        }
    }
    printf("tldr, %d validation prompts (post 200 tokens):\n", NPROMPTS);
    print_rows(t, rows, KINDS);
    double c = corr(rm, gold, np);
    printf("tldr: correlation(reward model, gold) over %d varied summaries (all but degenerate) = %.3f\n", np, c);
    assert_true(c > 0.6);
#define MEAN(k, q) (rows[k].m[q] / NPROMPTS)
    /* reward rises from random text to references and the expert */
    assert_true(MEAN(0, 0) < MEAN(2, 0) && MEAN(2, 0) < MEAN(4, 0));
    assert_true(MEAN(1, 0) + 1.0 < MEAN(5, 0));
    assert_true(MEAN(0, 1) < MEAN(4, 1) && MEAN(1, 1) + 1.0 < MEAN(5, 1));
    /* over-optimising the proxy: the degenerate summary beats the expert under the reward model
     * and is far worse under the gold utility */
    assert_true(MEAN(7, 0) > MEAN(5, 0));
    assert_true(MEAN(7, 1) < MEAN(5, 1) - 2.0);
    world_destroy(w);
    task_destroy(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_purity),
        cmocka_unit_test(test_splits_disjoint),
        cmocka_unit_test(test_commongen_references),
        cmocka_unit_test(test_commongen_scores),
        cmocka_unit_test(test_tldr_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
