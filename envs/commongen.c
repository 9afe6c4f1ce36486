/* commongen: CommonGen-sim, concept-to-sentence generation (spec/tasks.md, "CommonGen-sim").
 *
 *  - Concept vocabulary (built once, stream WORLD_RNG_CG_BUILD (0, 0)): V/8 ordinary,
 *    non-negator tokens drawn uniformly from the frequency ranks [n/CG_CONCEPT_LO, n/CG_CONCEPT_HI)
 *    of the n ordinary ids (content words: neither the most frequent "function words" nor the
 *    rare tail, so that a fluent sentence can reach them). is_concept[id] flags them.
 *  - Prompt (split, index): stream WORLD_RNG_CG_PROMPT (split, index) draws k = 3 + U{0,1,2}
 *    concepts (k rng_bounded draws of distinct concepts; the draw order is the shuffled order),
 *    then SEP: at most 6 tokens. Splits are disjoint by construction, as concept sets are in real
 *    CommonGen: a concept set belongs to exactly one split, decided by a hash of the sorted set
 *    (stream WORLD_RNG_CG_SPLIT keyed by the packed ids; rng_bounded(10): 0-7 train, 8 validation,
 *    9 test); the prompt stream redraws sets until one of the requested split comes up.
 *  - References (split, index): stream WORLD_RNG_CG_REF (split, index) draws n = 3 + U{0,1,2}
 *    hidden "human" sentences by constrained sampling from the world LM (sentiment marginalised,
 *    p = WORLD_MIX): with beta_d(x; r) = P(the text after x emits concept r exactly d tokens
 *    later) (exact, precomputed at create time for d = 1..CG_MAX_GAP+1 over the sparse successors
 *    plus the unigram floor), a sentence takes the concepts in a random order; before each concept
 *    c it writes a gap of d tokens, d in 0..CG_MAX_GAP (0..CG_MAX_LEAD before the first, fewer
 *    when the CG_MAX_TEXT budget is short), drawn with weight CG_GAP_DECAY^d beta_{d+1}(prev; c),
 *    and the gap's tokens from the world LM conditioned on reaching c (token i drawn over prev's
 *    successors with weight p(x | prev) beta_{d-i}(x; c); prompt concepts excluded), then c; after
 *    the last concept 0-2 free world-LM tokens (more to reach CG_MIN_TEXT). So every reference
 *    uses every concept exactly once and is as fluent as the world LM allows (about 11 tokens,
 *    perplexity ~30 where unconstrained world text has ~15). reference() returns the first
 *    sentence + EOS (what SL trains on); the metrics use all of them.
 *  - Text scored: the generation up to (not including) a final EOS; text_length = its token
 *    count (the run log's own `length` counts the EOS too).
 *  - Reward: SPIDEr-like, CIDEr-D + SPICE-like F1 (the spec's sum) against all references.
 *    CIDEr-D's document frequencies must not depend on the batch, so each hypothesis is scored as
 *    item 0 of a corpus whose other items are CG_COMPANIONS FIXED companion concept sets (built at
 *    create time from stream WORLD_RNG_CG_COMPANION (i, 0) for the set and (i, 1) for its
 *    references, with empty hypotheses): df is over those reference sets plus this prompt's,
 *    N = CG_COMPANIONS + 1, like scoring against a small fixed test corpus. (df over this prompt's
 *    references alone would make every idf log(1/1) = 0.) metric_cider_d_item scores item 0 alone
 *    (the same bits as metric_cider_d's per_line[0], without scoring the companions).
 *    SPICE-like F1: metric_spice_f1 with the concept flags (concepts present and ordered concept
 *    pairs, hypothesis vs the union of the references' tuples; see envs/metrics.h).
 *    Difficulty (commongen.min_coverage, task_params_t.difficulty) c in [0, 1]: a text whose
 *    concept coverage (below) is less than c scores 0, the reward of an empty text; c = 0 is the
 *    reward above, untouched. The SL policy covers about half of the concepts, so the higher c,
 *    the rarer one of its samples is paid at all (c = 1: only sentences using every concept).
 *    The other metrics (cider_d, spice_f1, ...) are never gated.
 *  - Metrics, in order: reward, bleu4, rouge1, rouge2, rougeL, meteor, cider_d, spice_f1 (all
 *    against the 3-5 references, envs/metrics.h), coverage = fraction of the prompt's concepts in
 *    the text, output_ppl = exp(-log p(text) / length) under the world LM from BOS with the
 *    sentiment marginalised (1 for an empty text; the world_logprob hook returns this log p),
 *    text_length.
 *  - Expert ("a fluent path through the remaining concepts", p = WORLD_MIX): EOS once every
 *    concept is used and the text has CG_MIN_TEXT tokens (or at CG_MAX_TEXT); when the slots
 *    left are no more than the remaining concepts, the most probable remaining concept; else the
 *    best of: a remaining concept r now (score p(r | prev)), or a successor c of the previous token
 *    (not a concept, not among the last CG_EXPERT_NO_REPEAT tokens) on the way to one (score
 *    p(c | prev) max_r max_{d <= CG_MAX_GAP} CG_GAP_DECAY^d beta_d(c; r); with no concept left,
 *    p(c | prev)). Greedy: it commits to the nearest concept, writes the likeliest path rather
 *    than the references' n-grams (what CIDEr-D and BLEU pay for) and never reorders, so a learner
 *    can beat it. Measured on 64 validation prompts (world seed 20240611, V 512; see
 *    tests/test_tasks2.c): reward 1.82 (CIDEr-D 1.47, SPICE .35, coverage 1, ppl 21, 8.5 tokens)
 *    against .08 for world-LM text and .02 for random tokens; the first reference scores 4.1 (it
 *    is one of the references it is scored against). With configs/commongen.ini (validation,
 *    32 prompts): SL .71; oracle guide q = 0 .75, q = .5 1.32, q = 1 1.92; PPO after 80
 *    iterations .85. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "world.h"
#include "../sim/base/dmath.h"

#define CG_DEFAULT_VOCAB 512
#define CG_MIN_K 3
#define CG_MAX_K 5
#define CG_MIN_REFS 3
#define CG_MAX_REFS 5
#define CG_GEN_MIN 5
#define CG_GEN_MAX 20                 /* generated tokens, EOS included */
#define CG_MIN_TEXT CG_GEN_MIN        /* content tokens before EOS */
#define CG_MAX_TEXT (CG_GEN_MAX - 1)
#define CG_MAX_GAP 3       /* tokens between two concepts in a reference */
#define CG_MAX_LEAD 2      /* tokens before the first concept */
#define CG_GAP_DECAY 0.5
#define CG_EXPERT_NO_REPEAT 4
#define CG_CONCEPT_LO 50
#define CG_CONCEPT_HI 4
#define CG_COMPANIONS 48
#define CG_SPLIT_TRIES 100000

typedef struct {
    int k;
    int32_t c[CG_MAX_K];
} cset_t;

typedef struct {
    int n;
    int len[CG_MAX_REFS];
    int32_t tok[CG_MAX_REFS][CG_MAX_TEXT];
} refs_t;

typedef struct {
    world_t *w;
    uint64_t seed;
    int V;
    uint8_t *is_concept; /* [V] */
    int32_t *concepts;   /* [n_concepts] */
    int n_concepts;
    int32_t *concept_index; /* [V]: position in concepts, -1 for other ids */
    float *beta;         /* [CG_MAX_GAP + 1][n_concepts][V]: beta_d(x; r), d = 1.. */
    refs_t *comp;        /* [CG_COMPANIONS] fixed CIDEr-D companion reference sets */
    double min_coverage; /* commongen.min_coverage: below it the reward is 0 (0 = off) */
} cg_t;

static const cg_t *impl(const task_t *t) { return (const cg_t *)t->impl; }

/* ------------------------------------------------------------------------------------------ */
/* Prompts                                                                                     */

static int cmp_i32(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* The split a concept set belongs to (hash of the sorted set). */
static int set_split(const cg_t *m, const cset_t *s) {
    int32_t v[CG_MAX_K];
    memcpy(v, s->c, (size_t)s->k * sizeof *v);
    qsort(v, (size_t)s->k, sizeof *v, cmp_i32);
    uint64_t a = 0, b = (uint64_t)s->k << 16;
    for (int i = 0; i < s->k && i < 4; i++) a |= (uint64_t)(uint16_t)v[i] << (16 * i);
    if (s->k > 4) b |= (uint64_t)(uint16_t)v[4];
    rng_t r = rng_stream(m->seed, WORLD_RNG_CG_SPLIT, a, b);
    uint32_t u = rng_bounded(&r, 10);
    return u < 8 ? SPLIT_TRAIN : (u == 8 ? SPLIT_VALID : SPLIT_TEST);
}

static void draw_set(const cg_t *m, rng_t *r, cset_t *s) {
    s->k = CG_MIN_K + (int)rng_bounded(r, CG_MAX_K - CG_MIN_K + 1);
    for (int i = 0; i < s->k;) {
        int32_t c = m->concepts[rng_bounded(r, (uint32_t)m->n_concepts)];
        int dup = 0;
        for (int j = 0; j < i; j++) dup |= s->c[j] == c;
        if (!dup) s->c[i++] = c;
    }
}

static void make_set(const cg_t *m, int split, uint64_t index, cset_t *s) {
    assert(split >= 0 && split < SPLIT_COUNT);
    rng_t r = rng_stream(m->seed, WORLD_RNG_CG_PROMPT, (uint64_t)split, index);
    for (int tries = 0; tries < CG_SPLIT_TRIES; tries++) {
        draw_set(m, &r, s);
        if (set_split(m, s) == split) return;
    }
    /* unreachable for vocab >= 64 (>= 182 sets, each split gets about a tenth); keep the last */
}

/* ------------------------------------------------------------------------------------------ */
/* References                                                                                  */

static int in_set(const cset_t *s, int id) {
    for (int i = 0; i < s->k; i++)
        if (s->c[i] == id) return 1;
    return 0;
}

/* p(next | prev) with the sentiment marginalised (WORLD_MIX). */
static double pmix(const cg_t *m, int prev, int next) { return world_prob(m->w, WORLD_MIX, prev, next); }

/* beta_d(x; concept r) = P(the world LM started after x emits r exactly d tokens later). */
static double beta(const cg_t *m, int d, int x, int r) {
    return m->beta[((size_t)(d - 1) * (size_t)m->n_concepts + (size_t)m->concept_index[r]) * (size_t)m->V + (size_t)x];
}

/* Draws from weights wt[0..n) (all >= 0); -1 when they are all 0. */
static int draw(rng_t *r, const double *wt, int n) {
    double tot = 0.0;
    for (int j = 0; j < n; j++) tot += wt[j];
    double u = rng_double(r) * tot, acc = 0.0;
    if (!(tot > 0.0)) return -1;
    int last = -1;
    for (int j = 0; j < n; j++) {
        if (wt[j] <= 0.0) continue;
        last = j;
        acc += wt[j];
        if (u < acc) return j;
    }
    return last;
}

/* A path of exactly d tokens after prev that the world LM continues with concept b, drawn from
 * the world LM conditioned on that (through the sparse successors; prompt concepts excluded).
 * Returns the number written (d, or fewer if no successor leads on). */
static int bridge(const cg_t *m, const cset_t *s, int prev, int b, int d, rng_t *r, int32_t *out) {
    const world_t *w = m->w;
    for (int i = 0; i < d; i++) {
        int left = d - i; /* tokens still to write, this one included */
        const int32_t *row = w->succ + (size_t)prev * WORLD_MAX_SUCC;
        double wt[WORLD_MAX_SUCC];
        int ns = w->n_succ[prev];
        for (int j = 0; j < ns; j++) {
            int x = row[j];
            wt[j] = in_set(s, x) ? 0.0 : pmix(m, prev, x) * beta(m, left, x, b);
        }
        int j = draw(r, wt, ns);
        if (j < 0) return i;
        out[i] = prev = row[j];
    }
    return d;
}

/* One free world-LM token after prev (successors only, prompt concepts excluded). */
static int free_step(const cg_t *m, const cset_t *s, int prev, rng_t *r) {
    const world_t *w = m->w;
    const int32_t *row = w->succ + (size_t)prev * WORLD_MAX_SUCC;
    double wt[WORLD_MAX_SUCC];
    for (int j = 0; j < w->n_succ[prev]; j++) wt[j] = in_set(s, row[j]) ? 0.0 : pmix(m, prev, row[j]);
    int j = draw(r, wt, w->n_succ[prev]);
    return j >= 0 ? row[j] : row[0];
}

/* One hidden sentence: the concepts in a random order, each reached from the token before it
 * (BOS for the first) through a gap of d in 0..CG_MAX_GAP tokens (the first: 0..CG_MAX_LEAD)
 * drawn with weight CG_GAP_DECAY^d beta_{d+1}(prev; c), the gap itself drawn by bridge(); then 0..2
 * free tokens (more if needed to reach CG_MIN_TEXT). Returns its length. */
static int ref_sentence(const cg_t *m, const cset_t *s, rng_t *r, int32_t *out) {
    int order[CG_MAX_K];
    for (int i = 0; i < s->k; i++) order[i] = i;
    for (int i = s->k - 1; i > 0; i--) {
        int j = (int)rng_bounded(r, (uint32_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int n = 0, prev = WORLD_BOS;
    for (int i = 0; i < s->k; i++) {
        int c = s->c[order[i]], maxgap = i == 0 ? CG_MAX_LEAD : CG_MAX_GAP;
        int budget = CG_MAX_TEXT - n - (s->k - i); /* free slots left for gaps */
        if (maxgap > budget) maxgap = budget;
        double wt[CG_MAX_GAP + 1], f = 1.0;
        for (int d = 0; d <= maxgap; d++, f *= CG_GAP_DECAY) wt[d] = f * beta(m, d + 1, prev, c);
        int d = draw(r, wt, maxgap + 1);
        if (d > 0) n += bridge(m, s, prev, c, d, r, out + n);
        out[n++] = prev = c;
    }
    int tail = (int)rng_bounded(r, 3);
    if (n + tail < CG_MIN_TEXT) tail = CG_MIN_TEXT - n;
    if (n + tail > CG_MAX_TEXT) tail = CG_MAX_TEXT - n;
    for (int i = 0; i < tail; i++) out[n++] = prev = free_step(m, s, prev, r);
    return n;
}

static void make_refs(const cg_t *m, const cset_t *s, rng_t *r, refs_t *refs) {
    refs->n = CG_MIN_REFS + (int)rng_bounded(r, CG_MAX_REFS - CG_MIN_REFS + 1);
    for (int i = 0; i < refs->n; i++) refs->len[i] = ref_sentence(m, s, r, refs->tok[i]);
}

static void prompt_refs(const cg_t *m, int split, uint64_t index, cset_t *s, refs_t *refs) {
    make_set(m, split, index, s);
    rng_t r = rng_stream(m->seed, WORLD_RNG_CG_REF, (uint64_t)split, index);
    make_refs(m, s, &r, refs);
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

/* Tokens before a final EOS. */
static int text_len(const int32_t *gen, int glen) {
    return glen > 0 && gen[glen - 1] == WORLD_EOS ? glen - 1 : glen;
}

/* A one-hypothesis corpus against refs. */
typedef struct {
    seq_t hyp, refs[CG_MAX_REFS];
    int start[2];
    metric_corpus_t c;
} one_t;

static void one_corpus(one_t *o, const int32_t *text, int n, const refs_t *refs) {
    o->hyp.tok = text;
    o->hyp.len = n;
    for (int i = 0; i < refs->n; i++) {
        o->refs[i].tok = refs->tok[i];
        o->refs[i].len = refs->len[i];
    }
    o->start[0] = 0;
    o->start[1] = refs->n;
    o->c.n = 1;
    o->c.hyp = &o->hyp;
    o->c.refs = o->refs;
    o->c.ref_start = o->start;
}

/* CIDEr-D of one hypothesis with document frequencies over its references plus the fixed
 * companion reference sets (see the header comment). */
static double cider_one(const cg_t *m, const int32_t *text, int n, const refs_t *refs) {
    enum { N = CG_COMPANIONS + 1 };
    seq_t hyp[N], rs[N * CG_MAX_REFS];
    int start[N + 1], nr = 0;
    static const int32_t empty[1] = {0};
    for (int i = 0; i < N; i++) {
        const refs_t *r = i == 0 ? refs : &m->comp[i - 1];
        hyp[i].tok = i == 0 ? text : empty;
        hyp[i].len = i == 0 ? n : 0;
        start[i] = nr;
        for (int j = 0; j < r->n; j++) {
            rs[nr].tok = r->tok[j];
            rs[nr].len = r->len[j];
            nr++;
        }
    }
    start[N] = nr;
    metric_corpus_t c = {N, hyp, rs, start};
    return metric_cider_d_item(&c, 0); /* the companions' (empty) hypotheses are never scored */
}

static double spice_one(const cg_t *m, const int32_t *text, int n, const refs_t *refs) {
    one_t o;
    one_corpus(&o, text, n, refs);
    return metric_spice_f1(&o.c, m->is_concept, m->V, NULL);
}

static int cg_prompt(const task_t *t, int split, uint64_t index, int32_t *out) {
    cset_t s;
    make_set(impl(t), split, index, &s);
    for (int i = 0; i < s.k; i++) out[i] = s.c[i];
    out[s.k] = WORLD_SEP;
    return s.k + 1;
}

static int cg_reference(const task_t *t, int split, uint64_t index, int32_t *out) {
    cset_t s;
    refs_t refs;
    prompt_refs(impl(t), split, index, &s, &refs);
    memcpy(out, refs.tok[0], (size_t)refs.len[0] * sizeof *out);
    out[refs.len[0]] = WORLD_EOS;
    return refs.len[0] + 1;
}

/* fraction of the concept set s that the text uses */
static double coverage(const cset_t *s, const int32_t *text, int n) {
    int hit = 0;
    for (int i = 0; i < s->k; i++) {
        int found = 0;
        for (int j = 0; j < n; j++) found |= text[j] == s->c[i];
        hit += found;
    }
    return (double)hit / s->k;
}

/* the difficulty gate: a text below commongen.min_coverage is paid nothing */
static int gated(const cg_t *m, double cov) { return m->min_coverage > 0.0 && cov < m->min_coverage; }

static double cg_reward(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen) {
    const cg_t *m = impl(t);
    check_gen(t, gen, glen);
    cset_t s;
    refs_t refs;
    prompt_refs(m, split, index, &s, &refs);
    int n = text_len(gen, glen);
    if (gated(m, coverage(&s, gen, n))) return 0.0;
    return cider_one(m, gen, n, &refs) + spice_one(m, gen, n, &refs);
}

static double cg_world_logprob(const task_t *t, int split, uint64_t index, const int32_t *gen,
                               int glen) {
    (void)split;
    (void)index;
    check_gen(t, gen, glen);
    return world_cond_logprob(impl(t)->w, NULL, 0, gen, text_len(gen, glen));
}

enum {
    M_REWARD, M_BLEU4, M_ROUGE1, M_ROUGE2, M_ROUGEL, M_METEOR, M_CIDER, M_SPICE, M_COVERAGE,
    M_PPL, M_LENGTH, M_COUNT
};
static const char *const cg_metric_names[M_COUNT] = {
    "reward", "bleu4",    "rouge1",   "rouge2",     "rougeL", "meteor",
    "cider_d", "spice_f1", "coverage", "output_ppl", "text_length"};

static void cg_metrics(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen,
                       double *out) {
    const cg_t *m = impl(t);
    check_gen(t, gen, glen);
    cset_t s;
    refs_t refs;
    prompt_refs(m, split, index, &s, &refs);
    int n = text_len(gen, glen);
    one_t o;
    one_corpus(&o, gen, n, &refs);
    double rouge[3];
    out[M_CIDER] = cider_one(m, gen, n, &refs);
    out[M_SPICE] = metric_spice_f1(&o.c, m->is_concept, m->V, NULL);
    out[M_REWARD] = out[M_CIDER] + out[M_SPICE];
    out[M_BLEU4] = metric_bleu4(&o.c, NULL);
    metric_rouge(&o.c, rouge, NULL);
    out[M_ROUGE1] = rouge[0];
    out[M_ROUGE2] = rouge[1];
    out[M_ROUGEL] = rouge[2];
    out[M_METEOR] = metric_meteor(&o.c, NULL);
    out[M_COVERAGE] = coverage(&s, gen, n);
    if (gated(m, out[M_COVERAGE])) out[M_REWARD] = 0.0;
    out[M_PPL] = n > 0 ? dm_exp(-world_cond_logprob(m->w, NULL, 0, gen, n) / n) : 1.0;
    out[M_LENGTH] = n;
}

static int cg_expert_next(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen) {
    const cg_t *m = impl(t);
    const world_t *w = m->w;
    check_gen(t, gen, glen);
    cset_t s;
    make_set(m, split, index, &s);
    int rem[CG_MAX_K], nrem = 0;
    for (int i = 0; i < s.k; i++) {
        rem[i] = 1;
        for (int j = 0; j < glen; j++)
            if (gen[j] == s.c[i]) rem[i] = 0;
        nrem += rem[i];
    }
    if ((nrem == 0 && glen >= CG_MIN_TEXT) || glen >= CG_MAX_TEXT) return WORLD_EOS;
    int prev = glen > 0 ? gen[glen - 1] : WORLD_BOS;
    int best = -1;
    double bscore = -1.0;
    for (int i = 0; i < s.k; i++) { /* a remaining concept now */
        if (!rem[i]) continue;
        double p = pmix(m, prev, s.c[i]);
        if (p > bscore || (p == bscore && s.c[i] < best)) bscore = p, best = s.c[i];
    }
    if (CG_MAX_TEXT - glen <= nrem) return best;
    /* ...or a successor on the way to one: p(c | prev) max_r max_d CG_GAP_DECAY^d beta_d(c; r) */
    const int32_t *row = w->succ + (size_t)prev * WORLD_MAX_SUCC;
    for (int j = 0; j < w->n_succ[prev]; j++) { /* ascending ids: ties keep the lower */
        int c = row[j];
        if (c < WORLD_N_RESERVED || m->is_concept[c]) continue;
        int recent = 0;
        for (int k = glen - CG_EXPERT_NO_REPEAT; k < glen; k++) recent |= k >= 0 && gen[k] == c;
        if (recent) continue;
        double lead = nrem ? 0.0 : 1.0;
        for (int i = 0; i < s.k; i++) {
            if (!rem[i]) continue;
            double f = 1.0;
            for (int d = 1; d <= CG_MAX_GAP; d++, f *= CG_GAP_DECAY) {
                double v = f * beta(m, d, c, s.c[i]);
                if (v > lead) lead = v;
            }
        }
        double sc = pmix(m, prev, c) * lead;
        if (sc > bscore) bscore = sc, best = c;
    }
    return best >= 0 ? best : row[0];
}

/* ------------------------------------------------------------------------------------------ */
/* Construction                                                                                */

static void cg_destroy(task_t *t) {
    if (!t) return;
    cg_t *m = (cg_t *)t->impl;
    if (m) {
        world_destroy(m->w);
        free(m->is_concept);
        free(m->concepts);
        free(m->comp);
        free(m->concept_index);
        free(m->beta);
        free(m);
    }
    free(t);
}

task_t *commongen_task_create(const task_params_t *p, err_t *err) {
    int vocab = p->vocab ? p->vocab : CG_DEFAULT_VOCAB;
    if (!(p->difficulty >= 0.0 && p->difficulty <= 1.0)) {
        err_set(err, "commongen: min_coverage = %g, expected a real number in [0, 1]", p->difficulty);
        return NULL;
    }
    world_t *w = world_create(p->world_seed, vocab, err);
    if (!w) {
        err_prefix(err, "commongen");
        return NULL;
    }
    task_t *t = calloc(1, sizeof *t);
    cg_t *m = calloc(1, sizeof *m);
    int32_t *order = malloc((size_t)vocab * sizeof *order);
    if (!t || !m || !order) {
        free(t), free(m), free(order);
        world_destroy(w);
        err_set(err, "commongen: out of memory");
        return NULL;
    }
    m->w = w;
    m->seed = p->world_seed;
    m->V = vocab;
    m->min_coverage = p->difficulty;
    t->impl = m;
    t->destroy = cg_destroy;
    m->is_concept = calloc((size_t)vocab, 1);
    m->n_concepts = vocab / 8;
    m->concepts = malloc((size_t)m->n_concepts * sizeof *m->concepts);
    m->comp = calloc(CG_COMPANIONS, sizeof *m->comp);
    if (!m->is_concept || !m->concepts || !m->comp) {
        free(order);
        cg_destroy(t);
        err_set(err, "commongen: out of memory");
        return NULL;
    }
    /* ordinary non-negator ids by decreasing frequency (ties: lower id first) */
    int n = 0;
    for (int id = WORLD_N_RESERVED; id < vocab; id++)
        if (!w->negator[id]) order[n++] = id;
    for (int i = 1; i < n; i++) { /* insertion sort: stable and needs no global comparator */
        int32_t x = order[i];
        int j = i - 1;
        while (j >= 0 && w->unigram[order[j]] < w->unigram[x]) order[j + 1] = order[j], j--;
        order[j + 1] = x;
    }
    int lo = n / CG_CONCEPT_LO, hi = n / CG_CONCEPT_HI;
    rng_t r = rng_stream(p->world_seed, WORLD_RNG_CG_BUILD, 0, 0);
    for (int placed = 0; placed < m->n_concepts;) {
        int id = order[lo + (int)rng_bounded(&r, (uint32_t)(hi - lo))];
        if (m->is_concept[id]) continue;
        m->is_concept[id] = 1;
        m->concepts[placed++] = id;
    }
    free(order);
    m->concept_index = malloc((size_t)vocab * sizeof *m->concept_index);
    m->beta = calloc((size_t)(CG_MAX_GAP + 1) * (size_t)m->n_concepts * (size_t)vocab, sizeof *m->beta);
    if (!m->concept_index || !m->beta) {
        cg_destroy(t);
        err_set(err, "commongen: out of memory");
        return NULL;
    }
    for (int id = 0; id < vocab; id++) m->concept_index[id] = -1;
    for (int i = 0; i < m->n_concepts; i++) m->concept_index[m->concepts[i]] = i;
    /* beta_1(x; r) = p(r | x); beta_d(x; r) = sum_y p(y | x) beta_{d-1}(y; r), the sum split into
     * the sparse successors and the unigram floor (exact under the world LM) */
    for (int ci = 0; ci < m->n_concepts; ci++) {
        int rc = m->concepts[ci];
        for (int d = 1; d <= CG_MAX_GAP + 1; d++) {
            float *bd = m->beta + ((size_t)(d - 1) * (size_t)m->n_concepts + (size_t)ci) * (size_t)vocab;
            if (d == 1) {
                for (int x = 0; x < vocab; x++) bd[x] = (float)pmix(m, x, rc);
                continue;
            }
            const float *bp = bd - (size_t)m->n_concepts * (size_t)vocab;
            double floor_sum = 0.0;
            for (int y = 0; y < vocab; y++) floor_sum += w->unigram[y] * bp[y];
            for (int x = 0; x < vocab; x++) {
                double v = WORLD_FLOOR * floor_sum;
                const double *q0 = w->q[0] + (size_t)x * WORLD_MAX_SUCC, *q1 = w->q[1] + (size_t)x * WORLD_MAX_SUCC;
                for (int j = 0; j < w->n_succ[x]; j++)
                    v += (1.0 - WORLD_FLOOR) * 0.5 * (q0[j] + q1[j]) * bp[w->succ[(size_t)x * WORLD_MAX_SUCC + j]];
                bd[x] = (float)v;
            }
        }
    }
    for (int i = 0; i < CG_COMPANIONS; i++) {
        cset_t s;
        rng_t rs = rng_stream(p->world_seed, WORLD_RNG_CG_COMPANION, (uint64_t)i, 0);
        draw_set(m, &rs, &s);
        rs = rng_stream(p->world_seed, WORLD_RNG_CG_COMPANION, (uint64_t)i, 1);
        make_refs(m, &s, &rs, &m->comp[i]);
    }

    snprintf(t->name, sizeof t->name, "%s", "commongen");
    t->vocab = vocab;
    t->bos = WORLD_BOS;
    t->eos = WORLD_EOS;
    t->prompt_max = CG_MAX_K + 1;
    t->gen_min = CG_GEN_MIN;
    t->gen_max = CG_GEN_MAX;
    t->n_metrics = M_COUNT;
    for (int i = 0; i < M_COUNT; i++) t->metric_names[i] = cg_metric_names[i];
    t->prompt = cg_prompt;
    t->reference = cg_reference;
    t->reward = cg_reward;
    t->metrics = cg_metrics;
    t->expert_next = cg_expert_next;
    t->world_logprob = cg_world_logprob;
    return t;
}
