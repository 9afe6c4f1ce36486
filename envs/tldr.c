/* tldr: TL;DR-sim, summarisation of a "post" (spec/tasks.md, "TL;DR-sim").
 *
 *  - Topics (built once, stream WORLD_RNG_TLDR_BUILD (0, 0)): T = max(4, V/32) topics of
 *    TL_TOPIC_SIZE topic-specific tokens each, disjoint, drawn uniformly from the ordinary
 *    non-negator ids below the 4% most frequent (the "function words"); within a topic token j
 *    has weight 1/(j+1). Reward-model noise (stream (0, 1)): one factor exp(TL_RM_NOISE z),
 *    z ~ N(0, 1), per id.
 *  - Post (split, index): stream WORLD_RNG_TLDR_POST (split, index) draws the latent sentiment
 *    (rng_bounded(2)), the number of topics nt = 1 + U{0,1,2}, nt distinct topics (the first is
 *    the main one: topic weights pi = 1, .6, .35, normalised), then post_len tokens: at each
 *    position with probability TL_TOPIC_RATE a topic token (topic by pi, token by its weight),
 *    else the world LM's next token under the sentiment (world_sample_next). The prompt is the post
 *    followed by SEP ("TL;DR:"). The split is part of the stream key, so splits are disjoint
 *    streams (a post of random tokens never repeats). Default post_len 200 (the spec's 200-500,
 *    at its low end; configs/tldr.ini scales it down further, saying why).
 *  - Salient content S: the tokens of the post's topics that occur in the post, in document order
 *    (first occurrence). True importance imp(t) = count of t in the post * pi(topic of t).
 *  - Reference: S in document order, with a "fluent-ish" bridge between consecutive salient tokens
 *    a, b: the non-topic successor x of a that occurs in the post, maximising p(x|a) p(b|x)
 *    (sentiment-marginalised world LM), is inserted when that beats p(b|a) and the text stays
 *    within TL_MAX_TEXT tokens; then EOS.
 *  - Text scored: the generation up to (not including) a final EOS, y of n tokens.
 *    Hallucinated token: a reserved id, a token absent from the post, or a topic token of a topic
 *    the post is not about.
 *  - Reward (the hidden "reward model", proxy): raw_rm =
 *        TL_RM_COV * sum_i [y_i in S] w(y_i) TL_RM_DECAY^(earlier occurrences of y_i) / sum_S w
 *      - TL_RM_HALLUC * #hallucinated - TL_RM_ADJ * #(y_i = y_{i-1}) - TL_RM_LEN * max(0, n - TL_RM_TARGET)
 *    with w(t) = imp(t) * noise(t): a noisy copy of importance that still pays (decaying) for
 *    repeated salient tokens and only sees immediate repeats -- the flaws an optimiser can find.
 *  - Gold utility (what the reward model approximates): raw_gold =
 *        TL_GOLD_COV * sum_{t in S, t in y} imp(t) / sum_S imp - TL_GOLD_HALLUC * #hallucinated
 *      - TL_GOLD_REP * #(y_i equal to any earlier y_j) - TL_GOLD_LEN * max(0, n - |reference text|)
 *  - Normalisation: reward = (raw_rm - mu_rm) / sd_rm and gold = (raw_gold - mu_g) / sd_g, with
 *    mean and standard deviation measured at create time on TL_CALIB summaries standing in for the
 *    SL policy's samples (no policy exists at create time), one per calibration post (stream
 *    WORLD_RNG_TLDR_CALIB (i, 0) for the post, (i, 1) for the summary), in equal thirds:
 *    (i % 3 = 0) a noisy copy of the reference: each token kept w.p. .55, dropped .15, replaced by
 *    a random post token .15 or by a world-LM token .15, and after each a random post token
 *    inserted w.p. .2; (1) a span of 5-20 post tokens from a random position (extractive, mostly
 *    unimportant); (2) 5-20 tokens of world-LM text that ignores the post. A small SL policy
 *    writes a mix of these; its actual moments are in every run log (the start row). Measured
 *    with configs/tldr.ini (post 64): the SL policy's validation reward -.31, gold -.17.
 *  - Difficulty (tldr.min_coverage, task_params_t.difficulty) c in [0, 1]: a summary whose
 *    coverage (below: the fraction of S it contains) is less than c gets the reward model's score
 *    of an empty summary, (0 - mu_rm) / sd_rm, whatever else it does; c = 0 is the reward above,
 *    untouched. The SL policy covers a small part of S, so the higher c, the rarer one of its
 *    samples is paid more than saying nothing. gold and the other metrics are never gated.
 *  - Metrics, in order: reward (gated as above), gold, rouge1, rouge2, rougeL (F1 against the reference text,
 *    envs/metrics.h), text_length (n; the run log's own `length` counts the EOS too), output_ppl = exp(-log p(y) / n) under the post's document
 *    model (the world LM mixed with the post's topics, exactly as the post was drawn: y starts a
 *    new text after BOS, the sentiment posterior comes from the post; 1 for n = 0; the
 *    world_logprob hook returns this log p(y)), coverage
 *    (fraction of S present), hallucination (fraction of y hallucinated; 0 for n = 0).
 *  - Expert ("salient tokens in document order"): the first token of S not yet in the text, EOS
 *    when none is left (or at TL_MAX_TEXT). Good but not optimal: it includes unimportant salient
 *    tokens, writes no bridges, and a learner can find what the reward model pays for (a
 *    summary that cycles through the salient tokens scores far higher under the reward model and
 *    far lower under gold). Measured on 64 validation prompts (world seed 20240611, V 512, post
 *    200; tests/test_tasks2.c): reward / gold: random tokens -1.99 / -1.81, world-LM text
 *    -1.16 / -.95, reference 1.98 / 1.87, expert 1.98 / 1.88, the cycling summary 5.54 / -6.72;
 *    correlation(reward, gold) over 448 varied summaries .98. With configs/tldr.ini the oracle
 *    guide's validation reward is -.25 (q = 0), 1.11 (.5), 1.56 (1) against SL -.31. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "world.h"
#include "../sim/base/dmath.h"

#define TL_DEFAULT_VOCAB 512
#define TL_DEFAULT_POST 200
#define TL_MIN_POST 16
#define TL_MAX_POST 1024
#define TL_GEN_MIN 1
#define TL_GEN_MAX 50
#define TL_MAX_TEXT (TL_GEN_MAX - 1)
#define TL_TOPIC_SIZE 8
#define TL_MAX_TOPICS 3
#define TL_MAX_SAL (TL_MAX_TOPICS * TL_TOPIC_SIZE)
#define TL_TOPIC_RATE 0.12
#define TL_RM_NOISE 0.5
#define TL_RM_COV 3.0
#define TL_RM_DECAY 0.7
#define TL_RM_HALLUC 0.25
#define TL_RM_ADJ 0.5
#define TL_RM_LEN 0.03
#define TL_RM_TARGET 40
#define TL_GOLD_COV 3.0
#define TL_GOLD_HALLUC 0.5
#define TL_GOLD_REP 0.4
#define TL_GOLD_LEN 0.1
#define TL_CALIB 256

static const double topic_pi[TL_MAX_TOPICS] = {1.0, 0.6, 0.35};

typedef struct {
    world_t *w;
    uint64_t seed;
    int V, post_len, n_topics;
    int16_t *topic_of;  /* [V], -1 for non-topic ids */
    int32_t *topic_tok; /* [n_topics][TL_TOPIC_SIZE] */
    double *noise;      /* [V] reward-model weight noise */
    double *topic_h;    /* [V] within-topic probability of a topic token (0 for others) */
    double mu_rm, sd_rm, mu_gold, sd_gold;
    double min_coverage; /* tldr.min_coverage: below it the reward is an empty summary's (0 = off) */
} tldr_t;

/* A post and what is hidden about it. */
typedef struct {
    int len, sent, nt;
    int topic[TL_MAX_TOPICS];
    double pi[TL_MAX_TOPICS]; /* normalised */
    int ns;                   /* salient tokens, document order */
    int32_t sal[TL_MAX_SAL];
    double imp[TL_MAX_SAL];
    int32_t tok[TL_MAX_POST];
    uint8_t in_post[WORLD_MAX_VOCAB / 8]; /* bitmap of the ids the post contains */
} post_t;

static int in_post(const post_t *p, int t) { return (p->in_post[t >> 3] >> (t & 7)) & 1; }

static const tldr_t *impl(const task_t *t) { return (const tldr_t *)t->impl; }

static int topic_index(const post_t *p, int topic) {
    for (int j = 0; j < p->nt; j++)
        if (p->topic[j] == topic) return j;
    return -1;
}

static void gen_post(const tldr_t *m, rng_t *r, post_t *p) {
    p->len = m->post_len;
    p->sent = (int)rng_bounded(r, 2);
    p->nt = 1 + (int)rng_bounded(r, TL_MAX_TOPICS);
    double z = 0.0;
    for (int j = 0; j < p->nt;) {
        int tp = (int)rng_bounded(r, (uint32_t)m->n_topics), dup = 0;
        for (int i = 0; i < j; i++) dup |= p->topic[i] == tp;
        if (!dup) p->topic[j++] = tp;
    }
    for (int j = 0; j < p->nt; j++) z += topic_pi[j];
    for (int j = 0; j < p->nt; j++) p->pi[j] = topic_pi[j] / z;
    double hz = 0.0; /* within-topic weights 1/(j+1) */
    for (int j = 0; j < TL_TOPIC_SIZE; j++) hz += 1.0 / (j + 1);
    int prev = WORLD_BOS;
    for (int i = 0; i < p->len; i++) {
        if (rng_double(r) < TL_TOPIC_RATE) {
            double u = rng_double(r), acc = 0.0;
            int tj = p->nt - 1;
            for (int j = 0; j < p->nt; j++) {
                acc += p->pi[j];
                if (u < acc) {
                    tj = j;
                    break;
                }
            }
            double v = rng_double(r) * hz;
            int k = TL_TOPIC_SIZE - 1;
            acc = 0.0;
            for (int j = 0; j < TL_TOPIC_SIZE; j++) {
                acc += 1.0 / (j + 1);
                if (v < acc) {
                    k = j;
                    break;
                }
            }
            prev = m->topic_tok[p->topic[tj] * TL_TOPIC_SIZE + k];
        } else {
            prev = world_sample_next(m->w, p->sent, prev, r);
        }
        p->tok[i] = prev;
    }
    memset(p->in_post, 0, ((size_t)m->V + 7) / 8);
    for (int i = 0; i < p->len; i++) p->in_post[p->tok[i] >> 3] |= (uint8_t)(1u << (p->tok[i] & 7));
    /* salient content in document order */
    p->ns = 0;
    for (int i = 0; i < p->len; i++) {
        int t = p->tok[i], tj = m->topic_of[t] >= 0 ? topic_index(p, m->topic_of[t]) : -1;
        if (tj < 0) continue;
        int at = -1;
        for (int j = 0; j < p->ns; j++)
            if (p->sal[j] == t) at = j;
        if (at < 0) {
            at = p->ns++;
            p->sal[at] = t;
            p->imp[at] = 0.0;
        }
        p->imp[at] += p->pi[tj];
    }
}

static void make_post(const tldr_t *m, int split, uint64_t index, post_t *p) {
    assert(split >= 0 && split < SPLIT_COUNT);
    rng_t r = rng_stream(m->seed, WORLD_RNG_TLDR_POST, (uint64_t)split, index);
    gen_post(m, &r, p);
}

/* The reference text (no EOS); returns its length. */
static int ref_text(const tldr_t *m, const post_t *p, int32_t *out) {
    const world_t *w = m->w;
    int n = 0;
    for (int i = 0; i < p->ns && n < TL_MAX_TEXT; i++) {
        int b = p->sal[i];
        if (i > 0 && n + 2 <= TL_MAX_TEXT - (p->ns - i - 1)) {
            int a = out[n - 1], bx = -1;
            double best = world_prob(w, WORLD_MIX, a, b);
            const int32_t *row = w->succ + (size_t)a * WORLD_MAX_SUCC;
            for (int j = 0; j < w->n_succ[a]; j++) {
                int x = row[j];
                if (x < WORLD_N_RESERVED || m->topic_of[x] >= 0 || x == b || !in_post(p, x)) continue;
                double v = world_prob(w, WORLD_MIX, a, x) * world_prob(w, WORLD_MIX, x, b);
                if (v > best) best = v, bx = x;
            }
            if (bx >= 0) out[n++] = bx;
        }
        out[n++] = b;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Scoring                                                                                     */

static void check_gen(const task_t *t, const int32_t *gen, int glen) {
    assert(glen >= 0 && glen <= t->gen_max);
    for (int i = 0; i < glen; i++) assert(gen[i] >= 0 && gen[i] < t->vocab);
    (void)t;
    (void)gen;
    (void)glen;
}

static int text_len(const int32_t *gen, int glen) {
    return glen > 0 && gen[glen - 1] == WORLD_EOS ? glen - 1 : glen;
}

static int salient_index(const post_t *p, int t) {
    for (int j = 0; j < p->ns; j++)
        if (p->sal[j] == t) return j;
    return -1;
}

static int hallucinated(const tldr_t *m, const post_t *p, int t) {
    if (t < WORLD_N_RESERVED) return 1;
    if (m->topic_of[t] >= 0 && topic_index(p, m->topic_of[t]) < 0) return 1;
    return !in_post(p, t);
}

typedef struct {
    double rm, gold, coverage, halluc;
} tl_score_t;

static void score(const tldr_t *m, const post_t *p, const int32_t *y, int n, int ref_len,
                  tl_score_t *s) {
    double wsum = 0.0, isum = 0.0, cov_rm = 0.0, cov_gold = 0.0;
    for (int j = 0; j < p->ns; j++) {
        wsum += p->imp[j] * m->noise[p->sal[j]];
        isum += p->imp[j];
    }
    int hall = 0, adj = 0, rep = 0, covered = 0;
    for (int i = 0; i < n; i++) {
        int t = y[i], before = 0;
        for (int k = 0; k < i; k++) before += y[k] == t;
        rep += before > 0;
        adj += i > 0 && y[i - 1] == t;
        hall += hallucinated(m, p, t);
        int j = salient_index(p, t);
        if (j >= 0) {
            cov_rm += p->imp[j] * m->noise[t] * dm_pown(TL_RM_DECAY, before);
            if (before == 0) cov_gold += p->imp[j], covered++;
        }
    }
    double rm = (wsum > 0 ? TL_RM_COV * cov_rm / wsum : 0.0) - TL_RM_HALLUC * hall - TL_RM_ADJ * adj -
                TL_RM_LEN * (n > TL_RM_TARGET ? n - TL_RM_TARGET : 0);
    double gold = (isum > 0 ? TL_GOLD_COV * cov_gold / isum : 0.0) - TL_GOLD_HALLUC * hall -
                  TL_GOLD_REP * rep - TL_GOLD_LEN * (n > ref_len ? n - ref_len : 0);
    s->rm = (rm - m->mu_rm) / m->sd_rm;
    s->gold = (gold - m->mu_gold) / m->sd_gold;
    s->coverage = p->ns > 0 ? (double)covered / p->ns : 0.0;
    if (m->min_coverage > 0.0 && s->coverage < m->min_coverage) s->rm = (0.0 - m->mu_rm) / m->sd_rm;
    s->halluc = n > 0 ? (double)hall / n : 0.0;
}

static int tl_prompt(const task_t *t, int split, uint64_t index, int32_t *out) {
    post_t p;
    make_post(impl(t), split, index, &p);
    memcpy(out, p.tok, (size_t)p.len * sizeof *out);
    out[p.len] = WORLD_SEP;
    return p.len + 1;
}

static int tl_reference(const task_t *t, int split, uint64_t index, int32_t *out) {
    post_t p;
    make_post(impl(t), split, index, &p);
    int n = ref_text(impl(t), &p, out);
    out[n] = WORLD_EOS;
    return n + 1;
}

static double tl_reward(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen) {
    const tldr_t *m = impl(t);
    check_gen(t, gen, glen);
    post_t p;
    int32_t ref[TL_GEN_MAX];
    make_post(m, split, index, &p);
    tl_score_t s;
    score(m, &p, gen, text_len(gen, glen), ref_text(m, &p, ref), &s);
    return s.rm;
}

static double logaddexp(double a, double b) {
    double mx = a > b ? a : b;
    return mx + dm_log(dm_exp(a - mx) + dm_exp(b - mx));
}

/* The post's own document model: p(t | prev, s) = (1 - TL_TOPIC_RATE) p_world(t | prev, s)
 * + TL_TOPIC_RATE pi(topic of t) h(t), h(t) = 1/(rank of t in its topic + 1) / H (the mixture
 * the post was written by; exact). */
static double post_prob(const tldr_t *m, const post_t *p, int s, int prev, int t) {
    double pt = 0.0;
    if (m->topic_of[t] >= 0) {
        int j = topic_index(p, m->topic_of[t]);
        if (j >= 0) pt = p->pi[j] * m->topic_h[t];
    }
    return (1.0 - TL_TOPIC_RATE) * world_prob(m->w, s, prev, t) + TL_TOPIC_RATE * pt;
}

static double post_seq_logprob(const tldr_t *m, const post_t *p, int s, const int32_t *x, int n) {
    double lp = 0.0;
    int prev = WORLD_BOS;
    for (int i = 0; i < n; i++) {
        lp += dm_log(post_prob(m, p, s, prev, x[i]));
        prev = x[i];
    }
    return lp;
}

/* log p(y) as a new text after BOS under the post's document model, the sentiment marginalised
 * with its posterior given the post. */
static double summary_logprob(const tldr_t *m, const post_t *p, const int32_t *y, int n) {
    double lx[2], ly[2];
    for (int s = 0; s < 2; s++) {
        lx[s] = post_seq_logprob(m, p, s, p->tok, p->len);
        ly[s] = post_seq_logprob(m, p, s, y, n);
    }
    return logaddexp(lx[0] + ly[0], lx[1] + ly[1]) - logaddexp(lx[0], lx[1]);
}

static double tl_world_logprob(const task_t *t, int split, uint64_t index, const int32_t *gen,
                               int glen) {
    check_gen(t, gen, glen);
    post_t p;
    make_post(impl(t), split, index, &p);
    return summary_logprob(impl(t), &p, gen, text_len(gen, glen));
}

enum { M_REWARD, M_GOLD, M_ROUGE1, M_ROUGE2, M_ROUGEL, M_LENGTH, M_PPL, M_COVERAGE, M_HALLUC, M_COUNT };
static const char *const tl_metric_names[M_COUNT] = {
    "reward", "gold", "rouge1", "rouge2", "rougeL", "text_length", "output_ppl", "coverage", "hallucination"};

static void tl_metrics(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen,
                       double *out) {
    const tldr_t *m = impl(t);
    check_gen(t, gen, glen);
    post_t p;
    int32_t ref[TL_GEN_MAX];
    make_post(m, split, index, &p);
    int n = text_len(gen, glen), rl = ref_text(m, &p, ref);
    tl_score_t s;
    score(m, &p, gen, n, rl, &s);
    seq_t hyp = {gen, n}, rs = {ref, rl};
    int start[2] = {0, 1};
    metric_corpus_t c = {1, &hyp, &rs, start};
    double rouge[3];
    metric_rouge(&c, rouge, NULL);
    out[M_REWARD] = s.rm;
    out[M_GOLD] = s.gold;
    out[M_ROUGE1] = rouge[0];
    out[M_ROUGE2] = rouge[1];
    out[M_ROUGEL] = rouge[2];
    out[M_LENGTH] = n;
    out[M_PPL] = n > 0 ? dm_exp(-summary_logprob(m, &p, gen, n) / n) : 1.0;
    out[M_COVERAGE] = s.coverage;
    out[M_HALLUC] = s.halluc;
}

static int tl_expert_next(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen) {
    check_gen(t, gen, glen);
    if (glen >= TL_MAX_TEXT) return WORLD_EOS;
    post_t p;
    make_post(impl(t), split, index, &p);
    for (int j = 0; j < p.ns; j++) {
        int used = 0;
        for (int i = 0; i < glen; i++) used |= gen[i] == p.sal[j];
        if (!used) return p.sal[j];
    }
    return WORLD_EOS;
}

/* ------------------------------------------------------------------------------------------ */
/* Construction                                                                                */

static void tl_destroy(task_t *t) {
    if (!t) return;
    tldr_t *m = (tldr_t *)t->impl;
    if (m) {
        world_destroy(m->w);
        free(m->topic_of);
        free(m->topic_tok);
        free(m->noise);
        free(m->topic_h);
        free(m);
    }
    free(t);
}

/* mean and standard deviation of raw scores on the calibration summaries */
static void calibrate(tldr_t *m, post_t *p) {
    double srm = 0, srm2 = 0, sg = 0, sg2 = 0;
    m->mu_rm = m->mu_gold = 0.0;
    m->sd_rm = m->sd_gold = 1.0;
    for (int i = 0; i < TL_CALIB; i++) {
        rng_t r = rng_stream(m->seed, WORLD_RNG_TLDR_CALIB, (uint64_t)i, 0);
        gen_post(m, &r, p);
        int32_t ref[TL_GEN_MAX], y[TL_GEN_MAX];
        int rl = ref_text(m, p, ref), n = 0, prev = WORLD_BOS;
        r = rng_stream(m->seed, WORLD_RNG_TLDR_CALIB, (uint64_t)i, 1);
        if (i % 3 == 0) { /* a noisy copy of the reference */
            for (int k = 0; k < rl && n < TL_MAX_TEXT; k++) {
                double u = rng_double(&r);
                int tok = ref[k];
                if (u < 0.15) continue;
                if (u >= 0.55 && u < 0.7) tok = p->tok[rng_bounded(&r, (uint32_t)p->len)];
                else if (u >= 0.7 && u < 0.85) tok = world_sample_next(m->w, p->sent, prev, &r);
                y[n++] = prev = tok;
                if (n < TL_MAX_TEXT && rng_double(&r) < 0.2) y[n++] = prev = p->tok[rng_bounded(&r, (uint32_t)p->len)];
            }
        } else if (i % 3 == 1) { /* a span of the post */
            int len = 5 + (int)rng_bounded(&r, 16), at = (int)rng_bounded(&r, (uint32_t)p->len);
            for (int k = at; k < p->len && n < len; k++) y[n++] = p->tok[k];
        } else { /* fluent text that ignores the post */
            int len = 5 + (int)rng_bounded(&r, 16);
            for (int k = 0; k < len; k++) y[n++] = prev = world_sample_next(m->w, p->sent, prev, &r);
        }
        tl_score_t s;
        score(m, p, y, n, rl, &s);
        srm += s.rm, srm2 += s.rm * s.rm, sg += s.gold, sg2 += s.gold * s.gold;
    }
    double mr = srm / TL_CALIB, mg = sg / TL_CALIB;
    double vr = srm2 / TL_CALIB - mr * mr, vg = sg2 / TL_CALIB - mg * mg;
    m->mu_rm = mr;
    m->mu_gold = mg;
    m->sd_rm = vr > 1e-12 ? sqrt(vr) : 1.0;
    m->sd_gold = vg > 1e-12 ? sqrt(vg) : 1.0;
}

task_t *tldr_task_create(const task_params_t *p, err_t *err) {
    int vocab = p->vocab ? p->vocab : TL_DEFAULT_VOCAB;
    int plen = p->prompt_len ? p->prompt_len : TL_DEFAULT_POST;
    if (plen < TL_MIN_POST || plen > TL_MAX_POST) {
        err_set(err, "tldr: post_len = %d, expected an integer in [%d, %d]", plen, TL_MIN_POST, TL_MAX_POST);
        return NULL;
    }
    if (!(p->difficulty >= 0.0 && p->difficulty <= 1.0)) {
        err_set(err, "tldr: min_coverage = %g, expected a real number in [0, 1]", p->difficulty);
        return NULL;
    }
    world_t *w = world_create(p->world_seed, vocab, err);
    if (!w) {
        err_prefix(err, "tldr");
        return NULL;
    }
    task_t *t = calloc(1, sizeof *t);
    tldr_t *m = calloc(1, sizeof *m);
    post_t *scratch = malloc(sizeof *scratch);
    int32_t *order = malloc((size_t)vocab * sizeof *order);
    if (!t || !m || !scratch || !order) {
        free(t), free(m), free(scratch), free(order);
        world_destroy(w);
        err_set(err, "tldr: out of memory");
        return NULL;
    }
    m->w = w;
    m->seed = p->world_seed;
    m->V = vocab;
    m->post_len = plen;
    m->n_topics = vocab / 32 > 4 ? vocab / 32 : 4;
    t->impl = m;
    t->destroy = tl_destroy;
    m->topic_of = malloc((size_t)vocab * sizeof *m->topic_of);
    m->topic_tok = malloc((size_t)m->n_topics * TL_TOPIC_SIZE * sizeof *m->topic_tok);
    m->noise = malloc((size_t)vocab * sizeof *m->noise);
    m->topic_h = calloc((size_t)vocab, sizeof *m->topic_h);
    if (!m->topic_of || !m->topic_tok || !m->noise || !m->topic_h) {
        free(scratch), free(order);
        tl_destroy(t);
        err_set(err, "tldr: out of memory");
        return NULL;
    }
    /* ordinary non-negator ids by decreasing frequency (insertion sort; ties: lower id first) */
    int n = 0;
    for (int id = WORLD_N_RESERVED; id < vocab; id++)
        if (!w->negator[id]) order[n++] = id;
    for (int i = 1; i < n; i++) {
        int32_t x = order[i];
        int j = i - 1;
        while (j >= 0 && w->unigram[order[j]] < w->unigram[x]) order[j + 1] = order[j], j--;
        order[j + 1] = x;
    }
    for (int id = 0; id < vocab; id++) m->topic_of[id] = -1;
    int lo = n / 25;
    rng_t r = rng_stream(p->world_seed, WORLD_RNG_TLDR_BUILD, 0, 0);
    for (int placed = 0; placed < m->n_topics * TL_TOPIC_SIZE;) {
        int id = order[lo + (int)rng_bounded(&r, (uint32_t)(n - lo))];
        if (m->topic_of[id] >= 0) continue;
        m->topic_of[id] = (int16_t)(placed / TL_TOPIC_SIZE);
        m->topic_tok[placed++] = id;
    }
    free(order);
    double hz = 0.0;
    for (int j = 0; j < TL_TOPIC_SIZE; j++) hz += 1.0 / (j + 1);
    for (int i = 0; i < m->n_topics * TL_TOPIC_SIZE; i++)
        m->topic_h[m->topic_tok[i]] = 1.0 / (i % TL_TOPIC_SIZE + 1) / hz;
    r = rng_stream(p->world_seed, WORLD_RNG_TLDR_BUILD, 0, 1);
    for (int id = 0; id < vocab; id++) m->noise[id] = dm_exp(TL_RM_NOISE * rng_normal(&r));
    calibrate(m, scratch);
    free(scratch);
    m->min_coverage = p->difficulty; /* after calibration: the normalisation never sees the gate */

    snprintf(t->name, sizeof t->name, "%s", "tldr");
    t->vocab = vocab;
    t->bos = WORLD_BOS;
    t->eos = WORLD_EOS;
    t->prompt_max = plen + 1;
    t->gen_min = TL_GEN_MIN;
    t->gen_max = TL_GEN_MAX;
    t->n_metrics = M_COUNT;
    for (int i = 0; i < M_COUNT; i++) t->metric_names[i] = tl_metric_names[i];
    t->prompt = tl_prompt;
    t->reference = tl_reference;
    t->reward = tl_reward;
    t->metrics = tl_metrics;
    t->expert_next = tl_expert_next;
    t->world_logprob = tl_world_logprob;
    return t;
}
