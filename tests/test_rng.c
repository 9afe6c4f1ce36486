/* PCG32 against the reference library's outputs (tests/vectors/pcg32.txt, made by Debian's
 * libpcg-cpp-dev: see tests/vectors/README.md), stream derivation, and the sampling rules of
 * sim/nn/sample.h. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../sim/base/dmath.h"
#include "../sim/base/rng.h"
#include "../sim/nn/sample.h"

/* Tests run from the repository root (tools/run_tests.sh). */
static const char *vectors_path(void) { return "tests/vectors/pcg32.txt"; }

/* Every line "seed stream kind index value": next = index-th output after seeding; bounded_B =
 * draw number `index` of one generator seeded once and then asked for bounded draws in file order
 * (8 with bound 1, then 8 with bound 6, ...); after_advance_N = index-th output after advancing N;
 * after_backstep_N = index-th output after stepping back N. */
static void test_pcg32_vectors(void **state) {
    (void)state;
    FILE *f = fopen(vectors_path(), "r");
    if (!f) fail_msg("cannot open %s (run the tests from the repository root)", vectors_path());
    char line[256];
    int checked = 0;
    rng_t bounded_gen = {0, 1};
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        unsigned long long seed, stream, value;
        char kind[64];
        int index;
        assert_int_equal(sscanf(line, "%llu %llu %63s %d %llu", &seed, &stream, kind, &index, &value), 5);
        rng_t r;
        rng_seed(&r, seed, stream);
        uint32_t got = 0;
        if (strcmp(kind, "next") == 0) {
            for (int i = 0; i <= index; i++) got = rng_next(&r);
        } else if (strncmp(kind, "bounded_", 8) == 0) {
            uint32_t bound = (uint32_t)strtoull(kind + 8, NULL, 10);
            if (index == 0) bounded_gen = r;
            got = rng_bounded(&bounded_gen, bound);
        } else if (strncmp(kind, "after_advance_", 14) == 0) {
            rng_advance(&r, strtoull(kind + 14, NULL, 10));
            for (int i = 0; i <= index; i++) got = rng_next(&r);
        } else if (strncmp(kind, "after_backstep_", 15) == 0) {
            rng_backstep(&r, strtoull(kind + 15, NULL, 10));
            for (int i = 0; i <= index; i++) got = rng_next(&r);
        } else {
            fail_msg("unknown kind %s", kind);
        }
        if (got != value) fail_msg("mismatch on line: %s got %u", line, got);
        checked++;
    }
    fclose(f);
    assert_true(checked >= 300);
    printf("PCG32: %d reference vectors match\n", checked);
}

static void test_advance_backstep_inverse(void **state) {
    (void)state;
    rng_t a, b;
    rng_seed(&a, 7, 3);
    b = a;
    rng_advance(&a, 123456789);
    rng_backstep(&a, 123456789);
    assert_memory_equal(&a, &b, sizeof a);
    for (int i = 0; i < 1000; i++) rng_next(&a);
    rng_advance(&b, 1000);
    assert_int_equal(a.state, b.state);
}

static void test_stream_derivation(void **state) {
    (void)state;
    rng_t a = rng_stream(1, RNG_ROLLOUT, 2, 3), b = rng_stream(1, RNG_ROLLOUT, 2, 3);
    assert_int_equal(rng_next(&a), rng_next(&b));
    /* Changing any component of the key changes the stream. */
    rng_t keys[5] = {rng_stream(1, RNG_ROLLOUT, 2, 3), rng_stream(2, RNG_ROLLOUT, 2, 3),
                     rng_stream(1, RNG_GUIDE, 2, 3), rng_stream(1, RNG_ROLLOUT, 3, 3),
                     rng_stream(1, RNG_ROLLOUT, 2, 4)};
    uint32_t first[5];
    for (int i = 0; i < 5; i++) first[i] = rng_next(&keys[i]);
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++) assert_int_not_equal(first[i], first[j]);
    /* Pinned value: stream derivation is part of the determinism contract. */
    rng_t p = rng_stream(0, 1, 0, 0);
    uint32_t pinned = rng_next(&p);
    printf("rng_stream(0,1,0,0) first output %u\n", pinned);
    assert_int_equal(pinned, 3409403430u);
}

static void test_uniforms(void **state) {
    (void)state;
    rng_t r = rng_stream(5, 1, 0, 0);
    double sum = 0, sumf = 0;
    for (int i = 0; i < 100000; i++) {
        double d = rng_double(&r);
        float f = rng_float(&r);
        assert_true(d >= 0.0 && d < 1.0);
        assert_true(f >= 0.0f && f < 1.0f);
        sum += d;
        sumf += f;
    }
    assert_true(fabs(sum / 100000 - 0.5) < 0.01);
    assert_true(fabs(sumf / 100000 - 0.5) < 0.01);
    double m = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double z = rng_normal(&r);
        m += z;
        s2 += z * z;
    }
    m /= 100000;
    assert_true(fabs(m) < 0.02);
    assert_true(fabs(s2 / 100000 - 1.0) < 0.03);
}

static double draw_freq(const float *logits, int V, sample_cfg_t cfg, int banned, int n, double *freq) {
    unsigned char scratch[4096] __attribute__((aligned(8)));
    rng_t r = rng_stream(9, 1, 0, 0);
    memset(freq, 0, sizeof(double) * (size_t)V);
    for (int i = 0; i < n; i++) freq[sample_token(logits, V, &cfg, banned, &r, scratch, NULL)] += 1.0 / n;
    return 0;
}

static void test_sampling_rules(void **state) {
    (void)state;
    /* probs proportional to 4,3,3,2,1,1 (ties between ids 1,2 and 4,5) */
    float logits[6];
    double w[6] = {4, 3, 3, 2, 1, 1}, freq[6];
    for (int i = 0; i < 6; i++) logits[i] = (float)log(w[i]);
    unsigned char scratch[4096] __attribute__((aligned(8)));

    /* greedy: highest, lowest id on ties; no draw consumed */
    rng_t r = rng_stream(1, 1, 0, 0), r0 = r;
    sample_cfg_t greedy = {0.0, 0, 1.0};
    float tie[3] = {1.0f, 2.0f, 2.0f};
    assert_int_equal(sample_token(tie, 3, &greedy, -1, &r, scratch, NULL), 1);
    assert_int_equal(sample_token(tie, 3, &greedy, 1, &r, scratch, NULL), 2);
    assert_memory_equal(&r, &r0, sizeof r);

    /* unfiltered: frequencies match softmax */
    draw_freq(logits, 6, (sample_cfg_t){1.0, 0, 1.0}, -1, 200000, freq);
    for (int i = 0; i < 6; i++) assert_true(fabs(freq[i] - w[i] / 14.0) < 0.005);

    /* top-k 2: ranks are 0 (4), then the tie 1 vs 2 broken by lower id -> {0,1} */
    draw_freq(logits, 6, (sample_cfg_t){1.0, 2, 1.0}, -1, 100000, freq);
    assert_true(fabs(freq[0] - 4.0 / 7.0) < 0.01);
    assert_true(fabs(freq[1] - 3.0 / 7.0) < 0.01);
    assert_true(freq[2] == 0.0);

    /* top-p 0.5: mass 4/14 = .286 < .5, + 3/14 = .5 exactly reaches it -> {0,1} */
    draw_freq(logits, 6, (sample_cfg_t){1.0, 0, 0.5}, -1, 100000, freq);
    assert_true(freq[2] == 0.0 && freq[3] == 0.0);
    assert_true(fabs(freq[0] - 4.0 / 7.0) < 0.01);

    /* top-p tiny keeps exactly one token */
    draw_freq(logits, 6, (sample_cfg_t){1.0, 0, 1e-9}, -1, 1000, freq);
    assert_true(fabs(freq[0] - 1.0) < 1e-9);

    /* banned token never drawn */
    draw_freq(logits, 6, (sample_cfg_t){1.0, 0, 1.0}, 0, 20000, freq);
    assert_true(freq[0] == 0.0);

    /* temperature: low temperature concentrates on the argmax */
    draw_freq(logits, 6, (sample_cfg_t){0.05, 0, 1.0}, -1, 20000, freq);
    assert_true(freq[0] > 0.99);

    /* prob_out is the renormalised probability */
    double pr;
    r = rng_stream(3, 1, 0, 0);
    sample_cfg_t k2 = {1.0, 2, 1.0};
    int tok = sample_token(logits, 6, &k2, -1, &r, scratch, &pr);
    assert_true(fabs(pr - (tok == 0 ? 4.0 / 7.0 : 3.0 / 7.0)) < 1e-6); /* logits are float */
}

/* top-k by the definition (sample.h): p as sample_token computes it, every token sorted into rank
 * order (probability descending, lower id first on ties), the first k kept and renormalised, one
 * draw u. */
static int ranks_first(int i, int j, const double *p) { return p[i] > p[j] || (p[i] == p[j] && i < j); }
static int top_k_by_definition(const float *x, int V, int k, double t, int banned, double u, double *prob) {
    double p[600], mx = -INFINITY, total = 0.0;
    int idx[600];
    for (int i = 0; i < V; i++)
        if (i != banned && x[i] > mx) mx = x[i];
    for (int i = 0; i < V; i++) p[i] = dm_exp(((double)x[i] - mx) / t);
    if (banned >= 0) p[banned] = 0.0;
    for (int i = 0; i < V; i++) total += p[i];
    for (int i = 0; i < V; i++) p[i] /= total;
    for (int i = 0; i < V; i++) { /* insertion sort of every token into rank order */
        int at = i;
        for (; at > 0 && ranks_first(i, idx[at - 1], p); at--) idx[at] = idx[at - 1];
        idx[at] = i;
    }
    double kept = 0.0, c = 0.0;
    for (int i = 0; i < k; i++) kept += p[idx[i]];
    for (int i = 0; i < k; i++) {
        c += p[idx[i]];
        if (u * kept < c || i == k - 1) {
            *prob = p[idx[i]] / kept;
            return idx[i];
        }
    }
    return -1;
}

/* sample_token's top-k (candidates by probability bucket, kept sorted by insertion) draws exactly
 * the token and the probability of the definition: many ties (logits from a few values), every k
 * from 1 to V - 1, probabilities in neighbouring buckets or spread below the last one. */
static void test_top_k_matches_definition(void **state) {
    (void)state;
    static unsigned char scratch[600 * 16] __attribute__((aligned(8)));
    rng_t r = rng_stream(2026, 13, 0, 0);
    for (int it = 0; it < 3000; it++) {
        int V = 2 + (int)rng_bounded(&r, 598), k = 1 + (int)rng_bounded(&r, (uint32_t)(V - 1));
        if (it % 4 == 0) k = k < 50 ? k : 50;
        float x[600];
        int levels = 1 + it % 40;
        /* close levels (neighbouring probability buckets), or far apart (most below 2^-31: bucket 0) */
        float step = it % 2 ? 0.37f : 3.1f;
        for (int i = 0; i < V; i++) x[i] = (float)rng_bounded(&r, (uint32_t)levels) * step - 3.0f;
        int banned = it % 5 == 0 ? (int)rng_bounded(&r, (uint32_t)V) : -1;
        sample_cfg_t cfg = {it % 3 ? 1.0 : 0.7, k, 1.0};
        rng_t a = rng_stream(7, (uint64_t)it, 0, 0), b = a;
        double pa, pb;
        int ta = sample_token(x, V, &cfg, banned, &a, scratch, &pa);
        int tb = top_k_by_definition(x, V, k, cfg.temperature, banned, rng_double(&b), &pb);
        if (ta != tb || memcmp(&pa, &pb, sizeof pa) != 0)
            fail_msg("V=%d k=%d levels=%d: token %d p %a, definition %d p %a", V, k, levels, ta, pa, tb, pb);
    }
}

static void test_log_softmax(void **state) {
    (void)state;
    float l[4] = {1.0f, 2.0f, 3.0f, 1000.0f};
    double o[4];
    log_softmax_row(l, 4, o);
    assert_true(isfinite(o[0]) && fabs(o[3]) < 1e-12);
    log_softmax_row(l, 3, o);
    double s = exp(o[0]) + exp(o[1]) + exp(o[2]);
    assert_true(fabs(s - 1.0) < 1e-12);
    assert_true(fabs(o[2] - o[1] - 1.0) < 1e-12);
}

/* The definition the vector kernel must reproduce bit for bit: one scalar dm_exp per entry, the
 * sum in four lanes (lane l: entries i = l mod 4 below V rounded down to 4, ascending), combined as
 * (s0 + s1) + (s2 + s3), then the remaining entries in ascending i. */
static void log_softmax_scalar(const float *logits, int V, double *out, double *p) {
    double mx = -INFINITY;
    for (int i = 0; i < V; i++)
        if (logits[i] > mx) mx = logits[i];
    double lane[4] = {0.0, 0.0, 0.0, 0.0};
    int V4 = V / 4 * 4;
    for (int i = 0; i < V; i++) p[i] = dm_exp((double)logits[i] - mx);
    for (int i = 0; i < V4; i++) lane[i % 4] += p[i];
    double s = (lane[0] + lane[1]) + (lane[2] + lane[3]);
    for (int i = V4; i < V; i++) s += p[i];
    double lse = mx + dm_log(s);
    for (int i = 0; i < V; i++) out[i] = (double)logits[i] - lse;
    for (int i = 0; i < V; i++) p[i] /= s;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b); }

static void test_log_softmax_bits(void **state) {
    (void)state;
    enum { VMAX = 530 };
    float x[VMAX];
    double o1[VMAX], p1[VMAX], o2[VMAX], p2[VMAX], o3[VMAX];
    rng_t r = rng_stream(2026, 11, 0, 0);
    long n = 0;
    for (int it = 0; it < 3000; it++) {
        int V = 1 + (int)rng_bounded(&r, VMAX), mode = it % 6;
        for (int i = 0; i < V; i++) {
            uint32_t u = rng_next(&r);
            switch (mode) {
            case 0: x[i] = (float)(u % 100000) / 1000.0f - 50.0f; break;       /* logits */
            case 1: x[i] = u % 3 == 0 ? 0.0f : (u % 3 == 1 ? -0.0f : -1.0f); break; /* +-0 ties */
            case 2: memcpy(&x[i], &u, sizeof u); break;                           /* every pattern */
            case 3: x[i] = u % 7 == 0 ? -INFINITY : (float)(u % 1000) * 0.9f - 800.0f; break; /* subnormal exps */
            case 4: x[i] = u % 11 == 0 ? NAN : (float)(u % 1000) * 0.01f; break;
            default: x[i] = (float)(u % 2000) - 1000.0f; break;
            }
        }
        log_softmax_scalar(x, V, o1, p1);
        log_softmax_probs_row(x, V, o2, p2);
        log_softmax_row(x, V, o3);
        for (int i = 0; i < V; i++, n++)
            if (!same_bits(o1[i], o2[i]) || !same_bits(p1[i], p2[i]) || !same_bits(o1[i], o3[i]))
                fail_msg("log-softmax V=%d mode %d entry %d: x %a gives %a %a %a, scalar %a %a", V, mode, i, x[i],
                         o2[i], p2[i], o3[i], o1[i], p1[i]);
    }
    printf("log_softmax: the vector rows equal the scalar definition bit for bit on %ld entries\n", n);
}

/* The losses' row gradients (sample.h): the vector kernels equal the scalar expressions bit for
 * bit, every length (tails), random signs and scales, probabilities from real rows (zeros, -inf
 * log-probabilities included). */
static void test_softmax_grads_bits(void **state) {
    (void)state;
    enum { VMAX = 37 };
    float x[VMAX], d1[VMAX], d2[VMAX];
    double ls[VMAX], p[VMAX];
    rng_t r = rng_stream(2026, 12, 0, 0);
    long n = 0;
    for (int it = 0; it < 4000; it++) {
        int V = 1 + it % VMAX;
        for (int i = 0; i < V; i++) {
            uint32_t u = rng_next(&r);
            x[i] = u % 9 == 0 ? -INFINITY : (float)(u % 4000) / 100.0f - 20.0f;
        }
        x[it % V] = 1.0f; /* at least one finite logit */
        log_softmax_probs_row(x, V, ls, p);
        double g = rng_double(&r) * 4.0 - 2.0, ce = (it % 3) ? rng_double(&r) * 0.1 : 0.0, H = 0.0;
        for (int i = 0; i < V; i++)
            if (p[i] > 0) H -= p[i] * ls[i];
        softmax_grad_pg(d2, p, ls, g, ce, H, V);
        for (int i = 0; i < V; i++) d1[i] = (float)(-g * p[i] + ce * p[i] * (ls[i] + H));
        for (int i = 0; i < V; i++, n++)
            if (memcmp(&d1[i], &d2[i], sizeof d1[i]) != 0 && !(d1[i] != d1[i] && d2[i] != d2[i]))
                fail_msg("softmax_grad_pg V=%d entry %d: %a, scalar %a", V, i, d2[i], d1[i]);
        softmax_grad_scaled(d2, p, g, V);
        for (int i = 0; i < V; i++) d1[i] = (float)(g * p[i]);
        assert_memory_equal(d1, d2, (size_t)V * sizeof(float));
    }
    printf("softmax grads: the vector rows equal the scalar expressions bit for bit (NaN: both NaN) on %ld entries\n", n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcg32_vectors),    cmocka_unit_test(test_advance_backstep_inverse),
        cmocka_unit_test(test_stream_derivation), cmocka_unit_test(test_uniforms),
        cmocka_unit_test(test_sampling_rules),   cmocka_unit_test(test_log_softmax), cmocka_unit_test(test_log_softmax_bits),
        cmocka_unit_test(test_softmax_grads_bits), cmocka_unit_test(test_top_k_matches_definition),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
