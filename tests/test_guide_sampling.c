/* guide.top_p_mass = top_k: the guide's top-p counts the mass of the top-k tokens renormalised,
 * as Hugging Face generate applies TopK then TopP (the reference code's guide: the SFT model
 * sampled with top-k 50, top-p .92 on IMDB). Checked against an independent implementation of
 * that rule: every drawn token is in its kept set, with its renormalised probability, and every
 * token of the set is drawn. `full` (the default) leaves the sampling rule untouched. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../sim/base/config.h"
#include "../sim/base/dmath.h"
#include "../sim/rl/rollout.h"

#define NV 64

static int same_cfg(sample_cfg_t a, sample_cfg_t b) {
    return a.temperature == b.temperature && a.top_k == b.top_k && a.top_p == b.top_p;
}

/* The Hugging Face rule, written from its definition: p = softmax(logits / T) without the banned
 * token; keep the k most likely; renormalise; keep the shortest most-likely-first prefix whose
 * renormalised mass reaches top_p. kept[i] = 1 for kept tokens; returns the kept raw mass. */
static double hf_kept(const float *lg, int V, int k, double top_p, double T, int banned, double *p, int *kept) {
    double mx = -INFINITY, tot = 0.0;
    for (int i = 0; i < V; i++)
        if (i != banned && lg[i] > mx) mx = lg[i];
    for (int i = 0; i < V; i++) tot += p[i] = i == banned ? 0.0 : dm_exp((lg[i] - mx) / T);
    for (int i = 0; i < V; i++) p[i] /= tot;
    int order[NV];
    for (int i = 0; i < V; i++) order[i] = i;
    for (int i = 1; i < V; i++) /* by decreasing p, lower id first on ties */
        for (int j = i; j > 0 && (p[order[j]] > p[order[j - 1]] || (p[order[j]] == p[order[j - 1]] && order[j] < order[j - 1])); j--) {
            int t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    double mk = 0.0, c = 0.0, mass = 0.0;
    for (int i = 0; i < k; i++) mk += p[order[i]];
    memset(kept, 0, (size_t)V * sizeof *kept);
    for (int i = 0; i < k; i++) {
        kept[order[i]] = 1;
        mass += p[order[i]];
        c += p[order[i]] / mk;
        if (c >= top_p) break;
    }
    return mass;
}

static void test_top_k_then_top_p(void **state) {
    (void)state;
    void *scratch = malloc(sample_scratch_size(NV));
    assert_non_null(scratch);
    float lg[NV];
    double p[NV];
    int kept[NV], seen[NV];
    int larger_full = 0;
    for (int trial = 0; trial < 40; trial++) {
        rng_t r = rng_stream(7, 1, (uint64_t)trial, 0);
        double spread = 1.0 + (trial % 4);
        for (int i = 0; i < NV; i++) lg[i] = (float)(spread * rng_normal(&r));
        int k = 5 + trial % 20, banned = trial % 3 == 0 ? (int)(trial % NV) : -1;
        double top_p = trial % 2 ? 0.92 : 0.6, T = trial % 5 == 0 ? 0.7 : 1.0;
        actor_t a = {NULL, {T, k, top_p}, 0.0, 1}, full = a;
        full.top_p_of_top_k = 0;
        sample_cfg_t c0 = actor_sampling_at(&full, lg, NV, banned, scratch);
        assert_true(same_cfg(c0, full.sampling)); /* `full`: untouched */
        sample_cfg_t c = actor_sampling_at(&a, lg, NV, banned, scratch);
        assert_int_equal(c.top_k, k);
        assert_true(c.top_p <= top_p);
        double mass = hf_kept(lg, NV, k, top_p, T, banned, p, kept);
        memset(seen, 0, sizeof seen);
        rng_t d = rng_stream(7, 2, (uint64_t)trial, 0);
        for (int n = 0; n < 4000; n++) {
            double prob;
            int tok = sample_token(lg, NV, &c, banned, &d, scratch, &prob);
            if (!kept[tok]) fail_msg("trial %d: token %d drawn, outside the top-k-then-top-p set", trial, tok);
            assert_true(fabs(prob - p[tok] / mass) <= 1e-9 * (p[tok] / mass));
            seen[tok] = 1;
        }
        int nkept = 0, nfull = 0;
        for (int i = 0; i < NV; i++) {
            nkept += kept[i];
            if (kept[i] && !seen[i] && p[i] / mass > 0.005) fail_msg("trial %d: kept token %d never drawn", trial, i);
        }
        /* the default rule keeps at least as many: it counts top_p of the whole distribution */
        rng_t d2 = rng_stream(7, 3, (uint64_t)trial, 0);
        memset(seen, 0, sizeof seen);
        for (int n = 0; n < 4000; n++) seen[sample_token(lg, NV, &full.sampling, banned, &d2, scratch, NULL)] = 1;
        for (int i = 0; i < NV; i++) nfull += seen[i];
        larger_full += nfull > nkept;
    }
    assert_true(larger_full > 10); /* the two rules really differ */
    /* greedy, top-k off, or top-p off: nothing to rescale */
    actor_t g = {NULL, {0.0, 10, 0.9}, 0.0, 1}, nk = {NULL, {1.0, 0, 0.9}, 0.0, 1}, np = {NULL, {1.0, 10, 1.0}, 0.0, 1};
    sample_cfg_t cg = actor_sampling_at(&g, lg, NV, -1, scratch), ck = actor_sampling_at(&nk, lg, NV, -1, scratch),
                 cp = actor_sampling_at(&np, lg, NV, -1, scratch);
    assert_true(same_cfg(cg, g.sampling) && same_cfg(ck, nk.sampling) && same_cfg(cp, np.sampling));
    free(scratch);
}

static void test_config_key(void **state) {
    (void)state;
    config_t c;
    cfg_defaults(&c);
    assert_string_equal(c.guide.top_p_mass, "full");
    err_t e = {{0}};
    assert_int_equal(cfg_set(&c, "guide.top_p_mass", "top_k", NULL, &e), 0);
    assert_string_equal(c.guide.top_p_mass, "top_k");
    assert_int_equal(cfg_set(&c, "guide.top_p_mass", "topk", NULL, &e), -1);
    assert_non_null(strstr(e.msg, "guide.top_p_mass"));
    assert_non_null(strstr(e.msg, "topk"));
    assert_non_null(strstr(e.msg, "full | top_k"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_k_then_top_p),
        cmocka_unit_test(test_config_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
