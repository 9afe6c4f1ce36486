/* envs/metrics: every metric against worked examples computed by hand from its definition
 * (the arithmetic is in the comments), with the edge cases: empty hypothesis, no overlap,
 * hypothesis longer and shorter than the references, several references, repeated n-grams
 * (clipping), empty or missing references. Token ids are small integers; "1 2 3" is a sequence. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../envs/metrics.h"

#define EPS 1e-9
#define assert_near(a, b)                                                                         \
    do {                                                                                          \
        double a_ = (a), b_ = (b);                                                                \
        if (!(fabs(a_ - b_) <= EPS)) fail_msg("%s = %.15g, expected %s = %.15g", #a, a_, #b, b_); \
    } while (0)

/* A small corpus built from text: hyps[i] = "1 2 3", refs[i] = "1 2 | 3 4" (references separated
 * by '|'; NULL: no reference at all). */
#define TC_MAX 8
typedef struct {
    metric_corpus_t c;
    seq_t hyp[TC_MAX], refs[4 * TC_MAX];
    int ref_start[TC_MAX + 1];
    int32_t tok[1024];
    int ntok;
} tc_t;

static seq_t tc_seq(tc_t *t, const char *s, const char *e) {
    seq_t q = {t->tok + t->ntok, 0};
    while (s < e) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || end > e) break;
        assert_true(t->ntok < 1024);
        t->tok[t->ntok++] = (int32_t)v;
        q.len++;
        s = end;
    }
    return q;
}

static void tc_build(tc_t *t, int n, const char *const *hyps, const char *const *refs) {
    memset(t, 0, sizeof *t);
    assert_true(n <= TC_MAX);
    int nr = 0;
    for (int i = 0; i < n; i++) {
        t->hyp[i] = tc_seq(t, hyps[i], hyps[i] + strlen(hyps[i]));
        t->ref_start[i] = nr;
        if (!refs[i]) continue;
        for (const char *a = refs[i];;) {
            const char *bar = strchr(a, '|'), *b = bar ? bar : a + strlen(a);
            assert_true(nr < 4 * TC_MAX);
            t->refs[nr++] = tc_seq(t, a, b);
            if (!bar) break;
            a = bar + 1;
        }
    }
    t->ref_start[n] = nr;
    t->c = (metric_corpus_t){n, t->hyp, t->refs, t->ref_start};
}

/* One hypothesis, its references. */
static const metric_corpus_t *one(tc_t *t, const char *hyp, const char *refs) {
    const char *h[1] = {hyp}, *r[1] = {refs};
    tc_build(t, 1, h, r);
    return &t->c;
}

/* ---- BLEU-4 ---- */

static void test_bleu_worked(void **state) {
    (void)state;
    tc_t t;
    /* identical: every p_k = 1, c = r = 5: BLEU = 1 */
    assert_near(metric_bleu4(one(&t, "1 2 3 4 5", "1 2 3 4 5"), NULL), 1.0);

    /* clipping + hypothesis SHORTER than the reference: hyp "1 1 1 2 3 4" (c = 6),
     * ref "1 1 2 3 4 5 6" (r = 7).
     *   p1: hyp 1 x3, 2, 3, 4; ref has 1 x2 -> min(3,2) + 1 + 1 + 1 = 5 of 6
     *   p2: (1,1) x2, (1,2), (2,3), (3,4); ref has (1,1) once -> 1 + 3 = 4 of 5
     *   p3: (1,1,1), (1,1,2), (1,2,3), (2,3,4) -> the last three = 3 of 4
     *   p4: (1,1,1,2), (1,1,2,3), (1,2,3,4) -> the last two = 2 of 3
     *   product = 5/6 * 4/5 * 3/4 * 2/3 = 1/3; BP = exp(1 - 7/6) = exp(-1/6)
     *   BLEU = exp(-1/6) (1/3)^(1/4) */
    double shorter = exp(-1.0 / 6.0) * pow(1.0 / 3.0, 0.25);
    assert_near(metric_bleu4(one(&t, "1 1 1 2 3 4", "1 1 2 3 4 5 6"), NULL), shorter);

    /* hypothesis LONGER than the reference: hyp "1 2 3 4 5 6" (c = 6), ref "1 2 3 4 5" (r = 5):
     *   p1 = 5/6, p2 = 4/5, p3 = 3/4, p4 = 2/3, product 1/3; c >= r: BP = 1 -> (1/3)^(1/4) */
    double longer = pow(1.0 / 3.0, 0.25);
    assert_near(metric_bleu4(one(&t, "1 2 3 4 5 6", "1 2 3 4 5"), NULL), longer);

    /* several references, closest length: hyp "1 2 3 4" (c = 4), refs of length 5 and 2: the
     * closest is 5 (|5-4| = 1 < |2-4| = 2) -> BP = exp(1 - 5/4) = exp(-1/4); every hyp n-gram is
     * in the first reference -> p_k = 1 -> BLEU = exp(-1/4) */
    assert_near(metric_bleu4(one(&t, "1 2 3 4", "1 2 3 4 5 | 8 9"), NULL), exp(-0.25));
    /* tie: refs of length 6 and 2 are both 2 away from c = 4; the shorter (2) counts -> BP = 1
     * (the longer would give exp(1 - 6/4)) -> BLEU = 1 */
    assert_near(metric_bleu4(one(&t, "1 2 3 4", "1 2 3 4 9 9 | 7 7"), NULL), 1.0);
    /* clipping against the max count over references: hyp "5 5 5 5", refs "5 5 5 9" and "5 5 9 9":
     *   p1: max ref count of 5 = 3 -> 3/4; p2: (5,5) x3, max ref count 2 -> 2/3;
     *   p3: (5,5,5) x2, max 1 -> 1/2; p4: (5,5,5,5) 0 of 1 -> BLEU = 0 */
    assert_near(metric_bleu4(one(&t, "5 5 5 5", "5 5 5 9 | 5 5 9 9"), NULL), 0.0);
}

static void test_bleu_corpus(void **state) {
    (void)state;
    /* corpus statistics are pooled, not averaged:
     *   line 1: hyp "1 2 3 4 5 6", ref "1 2 3 4 5": matches 5,4,3,2 of 6,5,4,3; c 6, r 5
     *   line 2: hyp "1 1 1 2 3 4", ref "1 1 2 3 4 5 6": matches 5,4,3,2 of 6,5,4,3; c 6, r 7
     *   pooled: p = 10/12, 8/10, 6/8, 4/6 (product 1/3), c = 12 = r -> BP 1 -> (1/3)^(1/4)
     *   per line: sentence BLEU = (1/3)^(1/4) and exp(-1/6) (1/3)^(1/4) (see test_bleu_worked) */
    const char *h[2] = {"1 2 3 4 5 6", "1 1 1 2 3 4"}, *r[2] = {"1 2 3 4 5", "1 1 2 3 4 5 6"};
    tc_t t;
    tc_build(&t, 2, h, r);
    double pl[2];
    assert_near(metric_bleu4(&t.c, pl), pow(1.0 / 3.0, 0.25));
    assert_near(pl[0], pow(1.0 / 3.0, 0.25));
    assert_near(pl[1], exp(-1.0 / 6.0) * pow(1.0 / 3.0, 0.25));
}

static void test_bleu_edges(void **state) {
    (void)state;
    tc_t t;
    assert_near(metric_bleu4(one(&t, "", "1 2 3 4"), NULL), 0.0);          /* empty hypothesis */
    assert_near(metric_bleu4(one(&t, "1 2 3 4", "5 6 7 8"), NULL), 0.0);   /* no overlap */
    assert_near(metric_bleu4(one(&t, "1 2 3 4", ""), NULL), 0.0);          /* empty reference */
    assert_near(metric_bleu4(one(&t, "1 2 3 4", NULL), NULL), 0.0);        /* no reference */
    assert_near(metric_bleu4(one(&t, "1 2 3", "1 2 3"), NULL), 0.0);       /* no 4-gram: p4 = 0/0 */
    assert_near(metric_bleu4(one(&t, "", ""), NULL), 0.0);
    tc_build(&t, 0, NULL, NULL); /* empty corpus */
    assert_near(metric_bleu4(&t.c, NULL), 0.0);
}

/* ---- ROUGE ---- */

static void test_rouge_worked(void **state) {
    (void)state;
    tc_t t;
    double r[3], pl[3];
    /* hyp "1 2 3 4", ref "1 2 4 5 6":
     *   R1: overlap {1,2,4} = 3; F1 = 2*3 / (4 + 5) = 2/3
     *   R2: hyp (1,2),(2,3),(3,4); ref (1,2),(2,4),(4,5),(5,6): overlap 1; F1 = 2*1/(3 + 4) = 2/7
     *   RL: LCS "1 2 4" = 3; F1 = 2*3/(4 + 5) = 2/3 */
    metric_rouge(one(&t, "1 2 3 4", "1 2 4 5 6"), r, pl);
    assert_near(r[0], 2.0 / 3.0);
    assert_near(r[1], 2.0 / 7.0);
    assert_near(r[2], 2.0 / 3.0);
    assert_near(pl[0], 2.0 / 3.0);
    assert_near(pl[1], 2.0 / 7.0);
    assert_near(pl[2], 2.0 / 3.0);
    /* clipping: hyp "7 7 7 7", ref "7 8": R1 overlap min(4,1) = 1 -> 2/(4 + 2) = 1/3;
     * R2: (7,7) x3 vs (7,8) -> 0; RL: LCS 1 -> 2/6 = 1/3 */
    metric_rouge(one(&t, "7 7 7 7", "7 8"), r, NULL);
    assert_near(r[0], 1.0 / 3.0);
    assert_near(r[1], 0.0);
    assert_near(r[2], 1.0 / 3.0);
    /* several references, each measure its own best: hyp "1 2 3 4",
     *   ref A "4 3 2 1": R1 = 2*4/8 = 1; R2 = 0 (no common bigram); RL: LCS 1 -> 2/8 = 1/4
     *   ref B "1 2 9 9 9 9": R1 = 2*2/10 = 2/5; R2 = 2*1/(3 + 5) = 1/4; RL: LCS 2 -> 4/10 = 2/5
     *   best: R1 = 1 (A), R2 = 1/4 (B), RL = 2/5 (B) */
    metric_rouge(one(&t, "1 2 3 4", "4 3 2 1 | 1 2 9 9 9 9"), r, NULL);
    assert_near(r[0], 1.0);
    assert_near(r[1], 0.25);
    assert_near(r[2], 0.4);
    /* hypothesis longer than the reference: hyp "1 2 3 4 5 6", ref "2 4": R1 = 2*2/8 = 1/2;
     * R2 = 0; RL: LCS 2 -> 1/2 */
    metric_rouge(one(&t, "1 2 3 4 5 6", "2 4"), r, NULL);
    assert_near(r[0], 0.5);
    assert_near(r[1], 0.0);
    assert_near(r[2], 0.5);
}

static void test_rouge_corpus_edges(void **state) {
    (void)state;
    tc_t t;
    double r[3], pl[9];
    /* corpus = mean of lines: line 1 as above (2/3, 2/7, 2/3), line 2 empty hyp (0, 0, 0),
     * line 3 no overlap (0, 0, 0) */
    const char *h[3] = {"1 2 3 4", "", "1 2"}, *rf[3] = {"1 2 4 5 6", "1 2", "3 4"};
    tc_build(&t, 3, h, rf);
    metric_rouge(&t.c, r, pl);
    assert_near(r[0], 2.0 / 9.0);
    assert_near(r[1], 2.0 / 21.0);
    assert_near(r[2], 2.0 / 9.0);
    for (int k = 3; k < 9; k++) assert_near(pl[k], 0.0);
    metric_rouge(one(&t, "1 2", ""), r, NULL); /* empty reference */
    for (int k = 0; k < 3; k++) assert_near(r[k], 0.0);
    metric_rouge(one(&t, "1 2", NULL), r, NULL); /* no reference */
    for (int k = 0; k < 3; k++) assert_near(r[k], 0.0);
    metric_rouge(one(&t, "", ""), r, NULL);
    for (int k = 0; k < 3; k++) assert_near(r[k], 0.0);
}

/* ---- METEOR ---- */

static void test_meteor_worked(void **state) {
    (void)state;
    tc_t t;
    /* identical "1 2 3 4 5 6": m = 6, P = R = 1, F_mean = 1/(0.9 + 0.1) = 1, 1 chunk:
     * penalty = 0.5 (1/6)^3 = 1/432 -> 431/432 */
    assert_near(metric_meteor(one(&t, "1 2 3 4 5 6", "1 2 3 4 5 6"), NULL), 431.0 / 432.0);
    /* fragmentation, 2 chunks: hyp "1 2 3 4 5 6", ref "4 5 6 1 2 3": matches (hyp, ref) =
     * (0,3) (1,4) (2,5) | (3,0) (4,1) (5,2): 2 chunks; P = R = 1; penalty 0.5 (2/6)^3 = 1/54
     * -> 53/54 */
    assert_near(metric_meteor(one(&t, "1 2 3 4 5 6", "4 5 6 1 2 3"), NULL), 53.0 / 54.0);
    /* P != R: hyp "1 2 3", ref "1 2 9 3 8": matches (0,0) (1,1) (2,3): 2 chunks; P = 1, R = 3/5;
     * F_mean = 0.6 / (0.9 + 0.06) = 5/8; penalty 0.5 (2/3)^3 = 4/27 -> 5/8 * 23/27 = 115/216 */
    assert_near(metric_meteor(one(&t, "1 2 3", "1 2 9 3 8"), NULL), 115.0 / 216.0);
    /* repeated token, NLTK's alignment (hyp from the end, each to the last unmatched equal ref
     * token): hyp "1 2 1", ref "1 2": hyp 2 ('1') -> ref 0, hyp 1 ('2') -> ref 1, hyp 0 unmatched.
     * m = 2, matches (1,1) (2,0): 2 chunks. P = 2/3, R = 1; F_mean = (2/3)/(0.6 + 0.1) = 20/21;
     * penalty 0.5 (2/2)^3 = 1/2 -> 10/21 */
    assert_near(metric_meteor(one(&t, "1 2 1", "1 2"), NULL), 10.0 / 21.0);
    /* several references: the best one (115/216 against the first; 0 against "9 9") */
    assert_near(metric_meteor(one(&t, "1 2 3", "9 9 | 1 2 9 3 8"), NULL), 115.0 / 216.0);
    /* hypothesis longer: hyp "1 2 3 4", ref "1 2": m = 2, 1 chunk; P = 1/2, R = 1;
     * F_mean = 0.5 / (0.45 + 0.1) = 10/11; penalty 0.5 (1/2)^3 = 1/16 -> 10/11 * 15/16 = 75/88 */
    assert_near(metric_meteor(one(&t, "1 2 3 4", "1 2"), NULL), 75.0 / 88.0);
}

static void test_meteor_edges(void **state) {
    (void)state;
    tc_t t;
    double pl[3];
    assert_near(metric_meteor(one(&t, "", "1 2"), NULL), 0.0);
    assert_near(metric_meteor(one(&t, "1 2", "3 4"), NULL), 0.0);
    assert_near(metric_meteor(one(&t, "1 2", ""), NULL), 0.0);
    assert_near(metric_meteor(one(&t, "1 2", NULL), NULL), 0.0);
    /* corpus mean: (431/432 + 0 + 115/216) / 3 */
    const char *h[3] = {"1 2 3 4 5 6", "", "1 2 3"}, *r[3] = {"1 2 3 4 5 6", "1", "1 2 9 3 8"};
    tc_build(&t, 3, h, r);
    assert_near(metric_meteor(&t.c, pl), (431.0 / 432.0 + 115.0 / 216.0) / 3.0);
    assert_near(pl[1], 0.0);
}

/* ---- CIDEr-D ---- */

static void test_cider_worked(void **state) {
    (void)state;
    /* Corpus of 2 (N = 2, L = log 2):
     *   hyp 1 "1 2 1 2", refs "1 2" and "3 1 2";   hyp 2 "3 4 4", ref "3 4".
     * df (reference sets containing the n-gram): 3 -> 2 (both sets); 1, 2, 4, (1,2), (3,1),
     * (3,1,2), (3,4) -> 1. idf = L - log(max(1, df)): 0 for "3", L for df = 1 and for n-grams
     * in no reference ((2,1), (4,4), ...).
     * "length" = number of bigrams: hyp 1: 3, "1 2": 1, "3 1 2": 2, hyp 2: 2, "3 4": 1.
     * hyp 1:
     *   n=1: hyp vec {1: 2L, 2: 2L}, norm 2 sqrt(2) L.
     *        ref "1 2": {1: L, 2: L}, norm sqrt(2) L; clipped dot min(2L,L) L + min(2L,L) L = 2L^2;
     *        cos = 2L^2 / (4 L^2) = 1/2; delta = 3 - 1 = 2: x exp(-4/72) = exp(-1/18).
     *        ref "3 1 2": {3: 0, 1: L, 2: L}: same 1/2; delta = 1: x exp(-1/72).
     *   n=2: hyp {(1,2): 2L, (2,1): L}, norm sqrt(5) L.
     *        ref "1 2": {(1,2): L}, norm L: dot L^2 -> 1/sqrt(5), x exp(-1/18).
     *        ref "3 1 2": {(3,1): L, (1,2): L}, norm sqrt(2) L: dot L^2 -> 1/sqrt(10), x exp(-1/72).
     *   n=3: hyp (1,2,1), (2,1,2) not in any of its references -> 0; n=4: 0.
     *   CIDEr-D = 10 * (1/4) * (1/2 refs) * [(1/2 + 1/sqrt 5) e^(-1/18) + (1/2 + 1/sqrt 10) e^(-1/72)]
     * hyp 2:
     *   n=1: hyp {3: 0, 4: 2L}, norm 2L; ref {3: 0, 4: L}, norm L; dot min(2L, L) L = L^2 -> 1/2;
     *        delta = 2 - 1 = 1: x exp(-1/72).
     *   n=2: hyp {(3,4): L, (4,4): L}, norm sqrt(2) L; ref {(3,4): L}: dot L^2 -> 1/sqrt(2).
     *   n=3: (3,4,4) not in the reference -> 0.
     *   CIDEr-D = 10 * (1/4) * (1/2 + 1/sqrt 2) e^(-1/72)
     * corpus = the mean of the two. */
    const char *h[2] = {"1 2 1 2", "3 4 4"}, *r[2] = {"1 2 | 3 1 2", "3 4"};
    tc_t t;
    tc_build(&t, 2, h, r);
    double s1 = 1.25 * ((0.5 + 1.0 / sqrt(5.0)) * exp(-1.0 / 18.0) + (0.5 + 1.0 / sqrt(10.0)) * exp(-1.0 / 72.0));
    double s2 = 2.5 * (0.5 + 1.0 / sqrt(2.0)) * exp(-1.0 / 72.0);
    double pl[2];
    assert_near(metric_cider_d(&t.c, pl), (s1 + s2) / 2.0);
    assert_near(pl[0], s1);
    assert_near(pl[1], s2);
    double a = metric_cider_d_item(&t.c, 0), b = metric_cider_d_item(&t.c, 1);
    assert_memory_equal(&a, &pl[0], sizeof a);
    assert_memory_equal(&b, &pl[1], sizeof b);
}

static void test_cider_edges(void **state) {
    (void)state;
    tc_t t;
    double pl[3];
    /* Corpus of 3 (N = 3, L = log 3): line 1 hyp = ref = "1 2 3": every n-gram has df 1, idf L,
     * so for n = 1..3 the hypothesis and reference vectors are equal: cos 1, delta 0; no 4-gram: 0.
     * CIDEr-D = 10 * (1 + 1 + 1 + 0) / 4 = 7.5. Line 2: empty hypothesis: no n-gram, norm 0 -> 0.
     * Line 3: no reference -> 0. Corpus = 7.5 / 3. */
    const char *h[3] = {"1 2 3", "", "7"}, *r[3] = {"1 2 3", "4 5 6", NULL};
    tc_build(&t, 3, h, r);
    assert_near(metric_cider_d(&t.c, pl), 7.5 / 3.0);
    assert_near(pl[0], 7.5);
    assert_near(pl[1], 0.0);
    assert_near(pl[2], 0.0);
    /* one hypothesis alone: the bits of its per_line entry */
    for (int i = 0; i < 3; i++) {
        double one_i = metric_cider_d_item(&t.c, i);
        assert_memory_equal(&one_i, &pl[i], sizeof one_i);
    }
    assert_true(isnan(metric_cider_d_item(&t.c, 3)) && isnan(metric_cider_d_item(&t.c, -1)));
    /* no overlap, and an empty reference: line 1 hyp "1 2" vs "3 4" -> 0; line 2 hyp "5" vs "5":
     * N = 3, df(5) = 1, cos 1 at n = 1, nothing at n = 2..4 -> 10 * 1/4 = 2.5; line 3 hyp "5" vs
     * an empty reference: norm 0 -> 0 */
    const char *h2[3] = {"1 2", "5", "5"}, *r2[3] = {"3 4", "5", ""};
    tc_build(&t, 3, h2, r2);
    assert_near(metric_cider_d(&t.c, pl), 2.5 / 3.0);
    assert_near(pl[0], 0.0);
    assert_near(pl[1], 2.5);
    assert_near(pl[2], 0.0);
    /* a corpus of one: every reference n-gram has df = N = 1, idf 0 -> 0 (as the reference code) */
    assert_near(metric_cider_d(one(&t, "1 2 3 4", "1 2 3 4"), NULL), 0.0);
    tc_build(&t, 0, NULL, NULL);
    assert_near(metric_cider_d(&t.c, NULL), 0.0);
}

/* ---- SPICE-like F1 ---- */

static void test_spice_worked(void **state) {
    (void)state;
    uint8_t concept[10] = {0, 1, 1, 1, 1, 0, 0, 0, 0, 0}; /* concepts 1..4 */
    tc_t t;
    /* hyp "1 5 2 3": concepts 1, 2, 3 -> H = {1, 2, 3, (1,2), (1,3), (2,3)} (6)
     * ref "2 1 6" -> {1, 2, (2,1)}; ref "1 3 4" -> {1, 3, 4, (1,3), (1,4), (3,4)};
     * R = union = {1, 2, 3, 4, (2,1), (1,3), (1,4), (3,4)} (8); H n R = {1, 2, 3, (1,3)} (4)
     * F1 = 2*4 / (6 + 8) = 4/7 */
    assert_near(metric_spice_f1(one(&t, "1 5 2 3", "2 1 6 | 1 3 4"), concept, 10, NULL), 4.0 / 7.0);
    /* repeated concept: hyp "1 2 1": first(1) = 0 < last(2) = 1 -> (1,2); first(2) = 1 <
     * last(1) = 2 -> (2,1); no (1,1): H = {1, 2, (1,2), (2,1)} (4); ref "1 2" -> {1, 2, (1,2)} (3);
     * overlap 3 -> F1 = 6/7 */
    assert_near(metric_spice_f1(one(&t, "1 2 1", "1 2"), concept, 10, NULL), 6.0 / 7.0);
    /* ids outside the table (>= vocab) are not concepts: "1 12" has the tuples {1} only; vs
     * ref "1" -> 1 */
    assert_near(metric_spice_f1(one(&t, "1 12", "1"), concept, 10, NULL), 1.0);
    /* is_concept NULL: every token is a concept. hyp "5 6", ref "6 5": H = {5, 6, (5,6)},
     * R = {5, 6, (6,5)}: overlap 2 -> 4/6 */
    assert_near(metric_spice_f1(one(&t, "5 6", "6 5"), NULL, 0, NULL), 2.0 / 3.0);
    /* edges: no concepts on either side -> 0; empty hypothesis -> 0; no overlap -> 0;
     * no reference -> 0 */
    assert_near(metric_spice_f1(one(&t, "5 6", "7"), concept, 10, NULL), 0.0);
    assert_near(metric_spice_f1(one(&t, "", "1 2"), concept, 10, NULL), 0.0);
    assert_near(metric_spice_f1(one(&t, "1 2", "3 4"), concept, 10, NULL), 0.0);
    assert_near(metric_spice_f1(one(&t, "1 2", NULL), concept, 10, NULL), 0.0);
    /* corpus mean: (4/7 + 6/7 + 0) / 3 = 10/21 */
    const char *h[3] = {"1 5 2 3", "1 2 1", ""}, *r[3] = {"2 1 6 | 1 3 4", "1 2", "1"};
    double pl[3];
    tc_build(&t, 3, h, r);
    assert_near(metric_spice_f1(&t.c, concept, 10, pl), 10.0 / 21.0);
    assert_near(pl[0], 4.0 / 7.0);
    assert_near(pl[1], 6.0 / 7.0);
    assert_near(pl[2], 0.0);
}

/* ---- distinct-n and repetition ---- */

static void test_distinct(void **state) {
    (void)state;
    const char *h[3] = {"1 2 1 2", "1 2 3", ""}, *r[3] = {NULL, NULL, NULL};
    tc_t t;
    tc_build(&t, 3, h, r);
    double pl[3];
    /* distinct-1: line 1: {1,2} of 4 = 1/2; line 2: 3/3 = 1; line 3: no unigram = 0;
     * corpus: {1,2,3} = 3 of 7 unigrams */
    assert_near(metric_distinct(t.hyp, 3, 1, pl), 3.0 / 7.0);
    assert_near(pl[0], 0.5);
    assert_near(pl[1], 1.0);
    assert_near(pl[2], 0.0);
    /* distinct-2: line 1: (1,2) (2,1) (1,2) -> 2/3; line 2: (1,2) (2,3) -> 1; corpus:
     * {(1,2), (2,1), (2,3)} = 3 of 5 */
    assert_near(metric_distinct(t.hyp, 3, 2, pl), 3.0 / 5.0);
    assert_near(pl[0], 2.0 / 3.0);
    assert_near(pl[1], 1.0);
    assert_near(pl[2], 0.0);
    assert_near(metric_distinct(t.hyp + 2, 1, 1, NULL), 0.0); /* only an empty hypothesis */
    assert_near(metric_distinct(t.hyp, 0, 1, NULL), 0.0);     /* no hypothesis */
}

static void test_repetition(void **state) {
    (void)state;
    const char *h[4] = {"1 2 3 4 5 1", "1 2 3 4 1", "7 7 7", ""}, *r[4] = {NULL, NULL, NULL, NULL};
    tc_t t;
    tc_build(&t, 4, h, r);
    double pl[4];
    /* "1 2 3 4 5 1": the last 1 is 5 tokens after the first (window 4) -> 0
     * "1 2 3 4 1": the last 1 is within 4 -> 1/5; "7 7 7": 2 of 3; "": 0.
     * corpus = mean = (0 + 1/5 + 2/3 + 0) / 4 = 13/60 */
    assert_near(metric_repetition(t.hyp, 4, pl), 13.0 / 60.0);
    assert_near(pl[0], 0.0);
    assert_near(pl[1], 0.2);
    assert_near(pl[2], 2.0 / 3.0);
    assert_near(pl[3], 0.0);
    assert_near(metric_repetition(t.hyp, 0, NULL), 0.0);
}

/* Same input, same bits; the order of references does not change any score. */
static void test_determinism(void **state) {
    (void)state;
    const char *h[3] = {"1 2 3 4 5 6 7", "3 3 2 1 9", "4 4 4 4"};
    const char *r1[3] = {"1 2 3 9 5 6 | 2 3 4 5", "3 2 1 | 9 9 3 3", "4 4 | 4 5 4"};
    const char *r2[3] = {"2 3 4 5 | 1 2 3 9 5 6", "9 9 3 3 | 3 2 1", "4 5 4 | 4 4"};
    tc_t a, b;
    tc_build(&a, 3, h, r1);
    tc_build(&b, 3, h, r2);
    double x[3], y[3];
    assert_true(metric_bleu4(&a.c, NULL) == metric_bleu4(&b.c, NULL));
    assert_true(metric_meteor(&a.c, NULL) == metric_meteor(&b.c, NULL));
    assert_near(metric_cider_d(&a.c, NULL), metric_cider_d(&b.c, NULL)); /* sums refs in order */
    assert_true(metric_spice_f1(&a.c, NULL, 0, NULL) == metric_spice_f1(&b.c, NULL, 0, NULL));
    metric_rouge(&a.c, x, NULL);
    metric_rouge(&b.c, y, NULL);
    for (int k = 0; k < 3; k++) assert_true(x[k] == y[k]);
    double c1 = metric_cider_d(&a.c, NULL), c2 = metric_cider_d(&a.c, NULL);
    assert_memory_equal(&c1, &c2, sizeof c1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bleu_worked),
        cmocka_unit_test(test_bleu_corpus),
        cmocka_unit_test(test_bleu_edges),
        cmocka_unit_test(test_rouge_worked),
        cmocka_unit_test(test_rouge_corpus_edges),
        cmocka_unit_test(test_meteor_worked),
        cmocka_unit_test(test_meteor_edges),
        cmocka_unit_test(test_cider_worked),
        cmocka_unit_test(test_cider_edges),
        cmocka_unit_test(test_spice_worked),
        cmocka_unit_test(test_distinct),
        cmocka_unit_test(test_repetition),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
