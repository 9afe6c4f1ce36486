#include "world.h"
#include "../sim/base/dmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Inverse-CDF draw over cdf[lo..V): the first id whose cumulative mass exceeds u (cdf is
 * nondecreasing with cdf[V-1] = 1). */
static int cdf_pick(const double *cdf, int lo, int V, double u) {
    int a = lo, b = V - 1;
    while (a < b) {
        int m = a + (b - a) / 2;
        if (cdf[m] > u) b = m;
        else a = m + 1;
    }
    return a;
}

static int cmp_i32(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

world_t *world_create(uint64_t seed, int vocab, err_t *err) {
    if (vocab < WORLD_MIN_VOCAB || vocab > WORLD_MAX_VOCAB) {
        err_set(err, "world: vocab = %d, expected an integer in [%d, %d]", vocab, WORLD_MIN_VOCAB,
                WORLD_MAX_VOCAB);
        return NULL;
    }
    const int V = vocab, K = WORLD_MAX_SUCC;
    const int n_ord = V - WORLD_N_RESERVED;
    world_t *w = calloc(1, sizeof *w);
    if (!w) goto oom;
    w->vocab = V;
    w->unigram = calloc((size_t)V, sizeof *w->unigram);
    w->unigram_cdf = calloc((size_t)V, sizeof *w->unigram_cdf);
    w->polarity = calloc((size_t)V, sizeof *w->polarity);
    w->negator = calloc((size_t)V, sizeof *w->negator);
    w->n_succ = calloc((size_t)V, sizeof *w->n_succ);
    w->succ = calloc((size_t)V * K, sizeof *w->succ);
    w->q[0] = calloc((size_t)V * K, sizeof(double));
    w->q[1] = calloc((size_t)V * K, sizeof(double));
    int *rank = malloc((size_t)n_ord * sizeof *rank);
    double *ord_cdf = malloc((size_t)V * sizeof *ord_cdf);
    if (!w->unigram || !w->unigram_cdf || !w->polarity || !w->negator || !w->n_succ || !w->succ ||
        !w->q[0] || !w->q[1] || !rank || !ord_cdf) {
        free(rank);
        free(ord_cdf);
        goto oom;
    }

    /* Zipf frequencies over a random rank permutation (Fisher-Yates). */
    rng_t r = rng_stream(seed, WORLD_RNG_BUILD, 0, 0);
    for (int i = 0; i < n_ord; i++) rank[i] = i;
    for (int i = n_ord - 1; i > 0; i--) {
        int j = (int)rng_bounded(&r, (uint32_t)(i + 1));
        int t = rank[i];
        rank[i] = rank[j];
        rank[j] = t;
    }
    double total = 0.0;
    for (int i = 0; i < n_ord; i++) w->unigram[WORLD_N_RESERVED + i] = 1.0 / (double)(rank[i] + 1);
    for (int i = 0; i < WORLD_N_RESERVED; i++) w->unigram[i] = 1.0 / (double)n_ord;
    for (int i = 0; i < V; i++) total += w->unigram[i];
    double acc = 0.0;
    for (int i = 0; i < V; i++) {
        w->unigram[i] /= total;
        acc += w->unigram[i];
        w->unigram_cdf[i] = acc;
    }
    w->unigram_cdf[V - 1] = 1.0;
    /* cumulative over ordinary ids only (successor draws never pick reserved ids) */
    double ord_total = 0.0;
    for (int i = 0; i < V; i++) {
        if (i >= WORLD_N_RESERVED) ord_total += w->unigram[i];
        ord_cdf[i] = ord_total;
    }
    for (int i = 0; i < V; i++) ord_cdf[i] /= ord_total;
    ord_cdf[V - 1] = 1.0;

    /* Negators: about V/64 of the most frequent quarter. Polarity: 10% +1, 10% -1 of the rest. */
    r = rng_stream(seed, WORLD_RNG_BUILD, 1, 0);
    int n_neg = V / 64, top = n_ord / 4;
    for (int placed = 0; placed < n_neg;) {
        int rk = (int)rng_bounded(&r, (uint32_t)top);
        int id = -1;
        for (int i = 0; i < n_ord; i++)
            if (rank[i] == rk) id = WORLD_N_RESERVED + i;
        if (!w->negator[id]) {
            w->negator[id] = 1;
            placed++;
        }
    }
    for (int id = WORLD_N_RESERVED; id < V; id++) {
        double u = rng_double(&r);
        if (w->negator[id]) continue;
        w->polarity[id] = (int8_t)(u < 0.1 ? 1 : (u < 0.2 ? -1 : 0));
    }

    /* Sparse successors: per id its own stream, so the sets do not depend on each other. */
    int kmax = n_ord / 4 < K ? n_ord / 4 : K;
    int kmin = kmax / 2;
    for (int prev = 0; prev < V; prev++) {
        rng_t s = rng_stream(seed, WORLD_RNG_BUILD, 2, (uint64_t)prev);
        int k = kmin + (int)rng_bounded(&s, (uint32_t)(kmax - kmin + 1));
        int32_t *row = w->succ + (size_t)prev * K;
        for (int n = 0; n < k;) {
            int id = cdf_pick(ord_cdf, WORLD_N_RESERVED, V, rng_double(&s));
            int dup = id == prev; /* no immediate self-repeats in natural text */
            for (int j = 0; j < n; j++) dup |= row[j] == id;
            if (!dup) row[n++] = id;
        }
        qsort(row, (size_t)k, sizeof *row, cmp_i32);
        w->n_succ[prev] = k;
        double c[WORLD_MAX_SUCC];
        for (int j = 0; j < k; j++) c[j] = -dm_log(1.0 - rng_double(&s)); /* Exp(1), > 0 */
        double f = w->negator[prev] ? -1.0 : 1.0;
        for (int sent = 0; sent < 2; sent++) {
            double sigma = sent == WORLD_POS ? 1.0 : -1.0, z = 0.0;
            double *q = w->q[sent] + (size_t)prev * K;
            for (int j = 0; j < k; j++) {
                q[j] = c[j] * dm_exp(WORLD_SENT_SHIFT * sigma * f * (double)w->polarity[row[j]]);
                z += q[j];
            }
            for (int j = 0; j < k; j++) q[j] /= z;
        }
    }
    free(rank);
    free(ord_cdf);
    return w;
oom:
    world_destroy(w);
    err_set(err, "world: out of memory building a vocabulary of %d", vocab);
    return NULL;
}

void world_destroy(world_t *w) {
    if (!w) return;
    free(w->unigram);
    free(w->unigram_cdf);
    free(w->polarity);
    free(w->negator);
    free(w->n_succ);
    free(w->succ);
    free(w->q[0]);
    free(w->q[1]);
    free(w);
}

int world_succ_index(const world_t *w, int prev, int next) {
    const int32_t *row = w->succ + (size_t)prev * WORLD_MAX_SUCC;
    int a = 0, b = w->n_succ[prev] - 1;
    while (a <= b) {
        int m = a + (b - a) / 2;
        if (row[m] == next) return m;
        if (row[m] < next) a = m + 1;
        else b = m - 1;
    }
    return -1;
}

static double prob1(const world_t *w, int sent, int prev, int j, int next) {
    double q = j >= 0 ? w->q[sent][(size_t)prev * WORLD_MAX_SUCC + j] : 0.0;
    return (1.0 - WORLD_FLOOR) * q + WORLD_FLOOR * w->unigram[next];
}

double world_prob(const world_t *w, int sent, int prev, int next) {
    int j = world_succ_index(w, prev, next);
    if (sent == WORLD_MIX)
        return 0.5 * prob1(w, WORLD_NEG, prev, j, next) + 0.5 * prob1(w, WORLD_POS, prev, j, next);
    return prob1(w, sent, prev, j, next);
}

double world_logprob(const world_t *w, int sent, int prev, int next) {
    return dm_log(world_prob(w, sent, prev, next));
}

double world_seq_logprob(const world_t *w, int sent, int ctx_last, const int32_t *text, int n) {
    double lp = 0.0;
    int prev = ctx_last;
    for (int i = 0; i < n; i++) {
        lp += world_logprob(w, sent, prev, text[i]);
        prev = text[i];
    }
    return lp;
}

static double logaddexp(double a, double b) {
    double m = a > b ? a : b;
    return m + dm_log(dm_exp(a - m) + dm_exp(b - m));
}

double world_cond_logprob(const world_t *w, const int32_t *prompt, int plen, const int32_t *gen,
                          int glen) {
    int last = plen > 0 ? prompt[plen - 1] : WORLD_BOS;
    double lp_prompt[2], lp_gen[2];
    for (int s = 0; s < 2; s++) {
        lp_prompt[s] = world_seq_logprob(w, s, WORLD_BOS, prompt, plen);
        lp_gen[s] = world_seq_logprob(w, s, last, gen, glen);
    }
    /* log sum_s p(s) p(x|s) p(y|x,s) - log sum_s p(s) p(x|s); the 1/2 priors cancel. */
    return logaddexp(lp_prompt[0] + lp_gen[0], lp_prompt[1] + lp_gen[1]) -
           logaddexp(lp_prompt[0], lp_prompt[1]);
}

int world_sample_next(const world_t *w, int sent, int prev, rng_t *r) {
    const int K = WORLD_MAX_SUCC;
    for (;;) {
        double u = rng_double(r);
        int id;
        if (u < WORLD_FLOOR) {
            id = cdf_pick(w->unigram_cdf, 0, w->vocab, u / WORLD_FLOOR);
        } else {
            double v = (u - WORLD_FLOOR) / (1.0 - WORLD_FLOOR), acc = 0.0;
            const double *q = w->q[sent] + (size_t)prev * K;
            int k = w->n_succ[prev];
            id = w->succ[(size_t)prev * K + k - 1]; /* rounding: the last successor */
            for (int j = 0; j < k; j++) {
                acc += q[j];
                if (v < acc) {
                    id = w->succ[(size_t)prev * K + j];
                    break;
                }
            }
        }
        if (id >= WORLD_N_RESERVED) return id;
    }
}
