/* imdb: IMDB-sim, positive continuation of a movie "review" (spec/tasks.md, "IMDB-sim").
 *
 *  - Prompt (split, index): one stream rng_stream(world_seed, WORLD_RNG_IMDB_PROMPT, split,
 *    index) draws the latent sentiment (one rng_bounded(2): 0 NEG, 1 POS, so about half the
 *    prompts are negative), then prompt_len tokens of a world-LM document under it, started from
 *    BOS. BOS is context only: the prompt is prompt_len ordinary tokens. The split is part of the
 *    key, so the splits are disjoint streams.
 *  - Reference: gen_len tokens continuing the prompt under POSITIVE sentiment (the hidden "human
 *    positive continuation" SL trains on), stream WORLD_RNG_IMDB_REF (split, index).
 *  - Reward: a hidden sentiment classifier P(positive | prompt + continuation) =
 *        sigmoid(a + b * sum_i c_i f_i w[tok_i]),
 *    c_i = IMDB_PROMPT_WEIGHT for prompt tokens and 1 for generated ones, f_i = -1 when the token
 *    before tok_i (BOS before the first) is a negator else +1 (negation flips the token right
 *    after it, as in the world LM). The weights w are a noisy copy of the true polarity: polar
 *    tokens w = pol + N(0, 0.5^2); 20% of neutral tokens get spurious w ~ N(0, 0.3^2); negators
 *    and reserved ids 0. So the classifier can be exploited (one high-weight token repeated).
 *    Calibration at create time on IMDB_CALIB_DOCS world documents (half NEG, half POS): a
 *    centres the score of world text (prompt and continuation under the document's own
 *    sentiment) at 0, and b is set by bisection so that prompt + POSITIVE continuation
 *    averages IMDB_CALIB_TARGET.
 *    Difficulty (imdb.threshold, task_params_t.difficulty) t in [0, 1): the task reward is
 *    R = max(0, (P - t) / (1 - t)) with P the classifier's P(positive) above: 0 unless P > t,
 *    rescaled to [0, 1]. t = 0 is P itself (the same bits: that path is not touched). The higher t,
 *    the rarer a sample of the SL policy (P about .70 on average) earns anything: a sparser
 *    reward, where PPO has little to follow and a guide's prefixes may help. Calibration,
 *    true_sentiment and the expert do not depend on t.
 *  - Metrics, in order: reward (R, thresholded as above); output_ppl = exp(-world_logprob / glen), the perplexity of the
 *    continuation under the world LM with the document sentiment marginalised (posterior from
 *    the prompt; see world_cond_logprob); distinct_1 / distinct_2 = unique uni/bigrams over
 *    uni/bigrams of the continuation; repetition = fraction of continuation tokens equal to one
 *    of the (up to) 4 continuation tokens before them; true_sentiment = the same logistic form
 *    with the TRUE polarities as weights, calibrated the same way (its own a, b): what a perfect
 *    classifier says, to expose exploitation. For glen = 0: ppl 1, the others 0.
 *  - Expert ("most positive plausible token"): among the successors of the previous token that
 *    are plausible under POSITIVE sentiment (world probability >= IMDB_EXPERT_MIN_PROB and >=
 *    IMDB_EXPERT_REL times the most probable successor's) and are not among the last
 *    IMDB_EXPERT_NO_REPEAT generated tokens, the one whose polarity, after a negator just before
 *    it flips it, is the most positive (ties: higher probability, then lower id); if none
 *    qualifies, the most probable successor. Deterministic and myopic. Good but beatable: it
 *    ignores the classifier's noise (the classifier rewards some tokens far more than others)
 *    and everything beyond the next token. Measured on 64 validation prompts (world seed 1, V 512,
 *    SL base policy, guide top-p .92): oracle guide reward q=0 .72, .5 .88, .75 .93, 1 .975; SL
 *    .70; the one-token exploit reaches 1.00. (IMDB_EXPERT_REL 0.5 with negation ignored gave a
 *    q=1 expert below q=.75: too few candidates, so the greedy path stalled on neutral tokens.) */
#include <assert.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "world.h"
#include "../sim/base/dmath.h"

#define IMDB_PROMPT_WEIGHT 0.3
#define IMDB_CALIB_DOCS 512
#define IMDB_CALIB_TARGET 0.75
#define IMDB_EXPERT_MIN_PROB 0.02
#define IMDB_EXPERT_NO_REPEAT 4
#define IMDB_EXPERT_REL 0.3
#define IMDB_DEFAULT_VOCAB 512
#define IMDB_DEFAULT_PROMPT 64
#define IMDB_DEFAULT_GEN 48
#define IMDB_MAX_LEN 4096

typedef struct {
    world_t *w;
    uint64_t seed;
    int plen, glen;
    double *wcls;  /* [V] classifier weights */
    double *wtrue; /* [V] true polarities as doubles */
    double a_cls, b_cls, a_true, b_true;
    double threshold; /* imdb.threshold, 0 = the classifier's probability itself */
} imdb_t;

static const imdb_t *impl(const task_t *t) { return (const imdb_t *)t->impl; }

/* The prompt and its latent sentiment. */
static int make_prompt(const imdb_t *m, int split, uint64_t index, int32_t *out, int *sent) {
    assert(split >= 0 && split < SPLIT_COUNT);
    rng_t r = rng_stream(m->seed, WORLD_RNG_IMDB_PROMPT, (uint64_t)split, index);
    int s = (int)rng_bounded(&r, 2);
    int prev = WORLD_BOS;
    for (int i = 0; i < m->plen; i++) prev = out[i] = world_sample_next(m->w, s, prev, &r);
    if (sent) *sent = s;
    return m->plen;
}

static double score(const world_t *w, const double *wt, const int32_t *prompt, int plen,
                    const int32_t *gen, int glen) {
    double sp = 0.0, sg = 0.0;
    int prev = WORLD_BOS;
    for (int i = 0; i < plen; i++) {
        sp += (w->negator[prev] ? -1.0 : 1.0) * wt[prompt[i]];
        prev = prompt[i];
    }
    for (int i = 0; i < glen; i++) {
        sg += (w->negator[prev] ? -1.0 : 1.0) * wt[gen[i]];
        prev = gen[i];
    }
    return IMDB_PROMPT_WEIGHT * sp + sg;
}

static double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + dm_exp(-x));
    double e = dm_exp(x);
    return e / (1.0 + e);
}

/* The task reward from the classifier's P(positive): P itself, or its part above the threshold. */
static double thresholded(const imdb_t *m, double p) {
    if (m->threshold <= 0.0) return p;
    return p > m->threshold ? (p - m->threshold) / (1.0 - m->threshold) : 0.0;
}

static void check_gen(const task_t *t, const int32_t *gen, int glen) {
    assert(glen >= 0 && glen <= t->gen_max);
    for (int i = 0; i < glen; i++) assert(gen[i] >= 0 && gen[i] < t->vocab);
    (void)t;
    (void)gen;
    (void)glen;
}

static int imdb_prompt(const task_t *t, int split, uint64_t index, int32_t *out) {
    return make_prompt(impl(t), split, index, out, NULL);
}

static int imdb_reference(const task_t *t, int split, uint64_t index, int32_t *out) {
    const imdb_t *m = impl(t);
    int32_t prompt[IMDB_MAX_LEN];
    int plen = make_prompt(m, split, index, prompt, NULL);
    rng_t r = rng_stream(m->seed, WORLD_RNG_IMDB_REF, (uint64_t)split, index);
    int prev = prompt[plen - 1];
    for (int i = 0; i < m->glen; i++) prev = out[i] = world_sample_next(m->w, WORLD_POS, prev, &r);
    return m->glen;
}

static double imdb_reward(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen) {
    const imdb_t *m = impl(t);
    check_gen(t, gen, glen);
    int32_t prompt[IMDB_MAX_LEN];
    int plen = make_prompt(m, split, index, prompt, NULL);
    return thresholded(m, sigmoid(m->a_cls + m->b_cls * score(m->w, m->wcls, prompt, plen, gen, glen)));
}

static double imdb_world_logprob(const task_t *t, int split, uint64_t index, const int32_t *gen,
                                 int glen) {
    const imdb_t *m = impl(t);
    check_gen(t, gen, glen);
    int32_t prompt[IMDB_MAX_LEN];
    int plen = make_prompt(m, split, index, prompt, NULL);
    return world_cond_logprob(m->w, prompt, plen, gen, glen);
}

static void imdb_metrics(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen,
                         double *out) {
    const imdb_t *m = impl(t);
    check_gen(t, gen, glen);
    int32_t prompt[IMDB_MAX_LEN];
    int plen = make_prompt(m, split, index, prompt, NULL);
    out[0] = thresholded(m, sigmoid(m->a_cls + m->b_cls * score(m->w, m->wcls, prompt, plen, gen, glen)));
    out[1] = glen > 0 ? dm_exp(-world_cond_logprob(m->w, prompt, plen, gen, glen) / glen) : 1.0;
    int u1 = 0, u2 = 0, rep = 0;
    for (int i = 0; i < glen; i++) {
        int seen1 = 0, seen2 = 0, near = 0;
        for (int j = 0; j < i; j++) {
            if (gen[j] == gen[i]) {
                seen1 = 1;
                if (j >= i - 4) near = 1;
                if (i >= 1 && j >= 1 && gen[j - 1] == gen[i - 1]) seen2 = 1;
            }
        }
        u1 += !seen1;
        u2 += i >= 1 && !seen2;
        rep += near;
    }
    out[2] = glen > 0 ? (double)u1 / glen : 0.0;
    out[3] = glen > 1 ? (double)u2 / (glen - 1) : 0.0;
    out[4] = glen > 0 ? (double)rep / glen : 0.0;
    out[5] = sigmoid(m->a_true + m->b_true * score(m->w, m->wtrue, prompt, plen, gen, glen));
}

static int imdb_expert_next(const task_t *t, int split, uint64_t index, const int32_t *gen,
                            int glen) {
    const imdb_t *m = impl(t);
    check_gen(t, gen, glen);
    int prev;
    if (glen > 0) {
        prev = gen[glen - 1];
    } else {
        int32_t prompt[IMDB_MAX_LEN];
        int plen = make_prompt(m, split, index, prompt, NULL);
        prev = prompt[plen - 1];
    }
    const world_t *w = m->w;
    int best = -1, best_pol = -2;
    double best_p = -1.0, pmax = 0.0;
    for (int j = 0; j < w->n_succ[prev]; j++) {
        double p = world_prob(w, WORLD_POS, prev, w->succ[(size_t)prev * WORLD_MAX_SUCC + j]);
        if (p > pmax) pmax = p;
    }
    for (int j = 0; j < w->n_succ[prev]; j++) {
        int id = w->succ[(size_t)prev * WORLD_MAX_SUCC + j]; /* ascending ids: ties keep lower */
        double p = world_prob(w, WORLD_POS, prev, id);
        if (p < IMDB_EXPERT_MIN_PROB) continue;
        if (p < IMDB_EXPERT_REL * pmax) continue;
        int recent = 0;
        for (int k = glen - IMDB_EXPERT_NO_REPEAT; k < glen; k++) recent |= k >= 0 && gen[k] == id;
        if (recent) continue;
        /* the polarity this token will carry: a negator just before flips it */
        int pol = w->negator[prev] ? -w->polarity[id] : w->polarity[id];
        if (pol > best_pol || (pol == best_pol && p > best_p)) {
            best = id;
            best_pol = pol;
            best_p = p;
        }
    }
    if (best < 0) { /* every plausible successor was used just now: the most probable one */
        for (int j = 0; j < w->n_succ[prev]; j++) {
            int id = w->succ[(size_t)prev * WORLD_MAX_SUCC + j];
            double p = world_prob(w, WORLD_POS, prev, id);
            if (p > best_p) {
                best = id;
                best_p = p;
            }
        }
    }
    return best;
}

static void imdb_destroy(task_t *t) {
    if (!t) return;
    imdb_t *m = (imdb_t *)t->impl;
    if (m) {
        world_destroy(m->w);
        free(m->wcls);
        free(m->wtrue);
        free(m);
    }
    free(t);
}

/* b such that mean_i sigmoid(b d_i) = target (bisection; mean is increasing in b when most
 * d_i > 0). Returns the upper bracket if the target cannot be reached. */
static double solve_slope(const double *d, int n, double target) {
    double lo = 0.0, hi = 1.0;
    for (int it = 0; it < 60; it++) {
        double s = 0.0;
        for (int i = 0; i < n; i++) s += sigmoid(hi * d[i]);
        if (s / n >= target) break;
        hi *= 2.0;
    }
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi), s = 0.0;
        for (int i = 0; i < n; i++) s += sigmoid(mid * d[i]);
        if (s / n < target) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* Fills (a, b) for weights wt from the calibration documents. */
static int calibrate(const imdb_t *m, const double *wt, double *a, double *b) {
    const int N = IMDB_CALIB_DOCS;
    int32_t *prompt = malloc((size_t)m->plen * sizeof *prompt);
    int32_t *own = malloc((size_t)m->glen * sizeof *own);
    int32_t *pos = malloc((size_t)m->glen * sizeof *pos);
    double *S = malloc((size_t)N * sizeof *S), *P = malloc((size_t)N * sizeof *P);
    if (!prompt || !own || !pos || !S || !P) {
        free(prompt), free(own), free(pos), free(S), free(P);
        return -1;
    }
    double mean = 0.0;
    for (int i = 0; i < N; i++) {
        int s = i % 2, prev = WORLD_BOS;
        rng_t r = rng_stream(m->seed, WORLD_RNG_IMDB_CALIB, (uint64_t)i, 0);
        for (int k = 0; k < m->plen; k++) prev = prompt[k] = world_sample_next(m->w, s, prev, &r);
        int last = prev;
        r = rng_stream(m->seed, WORLD_RNG_IMDB_CALIB, (uint64_t)i, 1);
        for (int k = 0; k < m->glen; k++) prev = own[k] = world_sample_next(m->w, s, prev, &r);
        prev = last;
        r = rng_stream(m->seed, WORLD_RNG_IMDB_CALIB, (uint64_t)i, 2);
        for (int k = 0; k < m->glen; k++)
            prev = pos[k] = world_sample_next(m->w, WORLD_POS, prev, &r);
        S[i] = score(m->w, wt, prompt, m->plen, own, m->glen);
        P[i] = score(m->w, wt, prompt, m->plen, pos, m->glen);
        mean += S[i];
    }
    mean /= N;
    for (int i = 0; i < N; i++) P[i] -= mean;
    *b = solve_slope(P, N, IMDB_CALIB_TARGET);
    *a = -*b * mean;
    free(prompt), free(own), free(pos), free(S), free(P);
    return 0;
}

static const char *const imdb_metric_names[] = {"reward",     "output_ppl",    "distinct_1",
                                                "distinct_2", "repetition", "true_sentiment"};

task_t *imdb_task_create(const task_params_t *p, err_t *err) {
    int vocab = p->vocab ? p->vocab : IMDB_DEFAULT_VOCAB;
    int plen = p->prompt_len ? p->prompt_len : IMDB_DEFAULT_PROMPT;
    int glen = p->gen_len ? p->gen_len : IMDB_DEFAULT_GEN;
    if (plen < 1 || plen > IMDB_MAX_LEN) {
        err_set(err, "imdb: prompt_len = %d, expected an integer in [1, %d]", plen, IMDB_MAX_LEN);
        return NULL;
    }
    if (glen < 1 || glen > IMDB_MAX_LEN) {
        err_set(err, "imdb: gen_len = %d, expected an integer in [1, %d]", glen, IMDB_MAX_LEN);
        return NULL;
    }
    if (!(p->difficulty >= 0.0 && p->difficulty < 1.0)) {
        err_set(err, "imdb: threshold = %g, expected a real number in [0, 1)", p->difficulty);
        return NULL;
    }
    world_t *w = world_create(p->world_seed, vocab, err);
    if (!w) {
        err_prefix(err, "imdb");
        return NULL;
    }
    task_t *t = calloc(1, sizeof *t);
    imdb_t *m = calloc(1, sizeof *m);
    if (m) {
        m->wcls = calloc((size_t)vocab, sizeof *m->wcls);
        m->wtrue = calloc((size_t)vocab, sizeof *m->wtrue);
    }
    if (!t || !m || !m->wcls || !m->wtrue) goto oom;
    m->w = w;
    w = NULL;
    m->seed = p->world_seed;
    m->plen = plen;
    m->glen = glen;
    m->threshold = p->difficulty;
    t->impl = m;
    t->destroy = imdb_destroy;

    rng_t r = rng_stream(p->world_seed, WORLD_RNG_IMDB_CLS, 0, 0);
    for (int id = WORLD_N_RESERVED; id < vocab; id++) {
        double u = rng_double(&r), z = rng_normal(&r); /* fixed: two draws per id */
        int pol = m->w->polarity[id];
        m->wtrue[id] = pol;
        if (pol != 0) m->wcls[id] = pol + 0.5 * z;
        else if (!m->w->negator[id] && u < 0.2) m->wcls[id] = 0.3 * z;
    }
    if (calibrate(m, m->wcls, &m->a_cls, &m->b_cls) || calibrate(m, m->wtrue, &m->a_true, &m->b_true))
        goto oom;

    snprintf(t->name, sizeof t->name, "%s", "imdb");
    t->vocab = vocab;
    t->bos = WORLD_BOS;
    t->eos = WORLD_EOS;
    t->prompt_max = plen;
    t->gen_min = t->gen_max = glen;
    t->n_metrics = 6;
    for (int i = 0; i < 6; i++) t->metric_names[i] = imdb_metric_names[i];
    t->prompt = imdb_prompt;
    t->reference = imdb_reference;
    t->reward = imdb_reward;
    t->metrics = imdb_metrics;
    t->expert_next = imdb_expert_next;
    t->world_logprob = imdb_world_logprob;
    return t;
oom:
    world_destroy(w);
    if (t && t->impl) imdb_destroy(t);
    else {
        if (m) {
            free(m->wcls);
            free(m->wtrue);
            free(m);
        }
        free(t);
    }
    err_set(err, "imdb: out of memory");
    return NULL;
}
