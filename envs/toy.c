/* toy: toy_match and toy_lock (see toy.h). The hidden targets come from
 * rng_stream(world_seed, WORLD_RNG_TOY, kind, prompt), one rng_bounded(V) per position. The
 * prompt of index i is the single token i % prompt_count (toy_lock: always token 0). The expert
 * knows the target, so for toy tasks it is optimal. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toy.h"
#include "world.h"
#include "../sim/base/dmath.h"

#define TOY_MAX_H 6
#define TOY_MAX_PROMPTS 3
#define TOY_MAX_SEQ 4096 /* V^H of the largest toy (4^6) */
#define TOY_MAGIC 0x746f79u

enum { TOY_MATCH = 0, TOY_LOCK = 1 };

typedef struct {
    unsigned magic;
    int kind, V, H, n_prompts;
    int32_t target[TOY_MAX_PROMPTS][TOY_MAX_H];
} toy_t;

static const toy_t *toy_impl(const task_t *t) {
    const toy_t *m = (const toy_t *)t->impl;
    assert(m && m->magic == TOY_MAGIC);
    return m;
}

static int prompt_of(const toy_t *m, uint64_t index) { return (int)(index % (uint64_t)m->n_prompts); }

static double toy_score(const toy_t *m, int x, const int32_t *gen, int glen) {
    int n = glen < m->H ? glen : m->H, hits = 0;
    for (int i = 0; i < n; i++) hits += gen[i] == m->target[x][i];
    if (m->kind == TOY_MATCH) return (double)hits / m->H;
    return glen == m->H && hits == m->H ? 1.0 : 0.0;
}

static int toy_prompt(const task_t *t, int split, uint64_t index, int32_t *out) {
    assert(split >= 0 && split < SPLIT_COUNT);
    (void)split;
    out[0] = prompt_of(toy_impl(t), index);
    return 1;
}

static int toy_reference(const task_t *t, int split, uint64_t index, int32_t *out) {
    const toy_t *m = toy_impl(t);
    (void)split;
    memcpy(out, m->target[prompt_of(m, index)], (size_t)m->H * sizeof *out);
    return m->H;
}

static double toy_reward(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen) {
    const toy_t *m = toy_impl(t);
    (void)split;
    return toy_score(m, prompt_of(m, index), gen, glen);
}

static void toy_metrics(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen,
                        double *out) {
    out[0] = toy_reward(t, split, index, gen, glen);
    out[1] = out[0] >= 1.0 - 1e-12 ? 1.0 : 0.0;
}

static int toy_expert_next(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen) {
    const toy_t *m = toy_impl(t);
    (void)split;
    (void)gen;
    int pos = glen < 0 ? 0 : (glen >= m->H ? m->H - 1 : glen);
    return m->target[prompt_of(m, index)][pos];
}

static double toy_world_logprob(const task_t *t, int split, uint64_t index, const int32_t *gen,
                                int glen) {
    (void)t, (void)split, (void)index, (void)gen, (void)glen;
    return NAN;
}

static void toy_destroy(task_t *t) {
    if (!t) return;
    free(t->impl);
    free(t);
}

static const char *const toy_metric_names[] = {"reward", "success"};

task_t *toy_task_create(const task_params_t *p, err_t *err) {
    int kind;
    if (strcmp(p->name, "toy_match") == 0) kind = TOY_MATCH;
    else if (strcmp(p->name, "toy_lock") == 0) kind = TOY_LOCK;
    else {
        err_set(err, "toy: unknown task '%s', expected toy_match or toy_lock", p->name);
        return NULL;
    }
    task_t *t = calloc(1, sizeof *t);
    toy_t *m = calloc(1, sizeof *m);
    if (!t || !m) {
        free(t);
        free(m);
        err_set(err, "toy: out of memory");
        return NULL;
    }
    m->magic = TOY_MAGIC;
    m->kind = kind;
    m->V = kind == TOY_MATCH ? 3 : 4;
    m->H = kind == TOY_MATCH ? 4 : 6;
    m->n_prompts = kind == TOY_MATCH ? 3 : 1;
    for (int x = 0; x < m->n_prompts; x++) {
        rng_t r = rng_stream(p->world_seed, WORLD_RNG_TOY, (uint64_t)kind, (uint64_t)x);
        for (int i = 0; i < m->H; i++) m->target[x][i] = (int32_t)rng_bounded(&r, (uint32_t)m->V);
    }
    snprintf(t->name, sizeof t->name, "%s", p->name);
    t->vocab = m->V;
    t->bos = t->eos = -1;
    t->prompt_max = 1;
    t->gen_min = t->gen_max = m->H;
    t->n_metrics = 2;
    t->metric_names[0] = toy_metric_names[0];
    t->metric_names[1] = toy_metric_names[1];
    t->prompt = toy_prompt;
    t->reference = toy_reference;
    t->reward = toy_reward;
    t->metrics = toy_metrics;
    t->expert_next = toy_expert_next;
    t->world_logprob = toy_world_logprob;
    t->destroy = toy_destroy;
    t->impl = m;
    return t;
}

int toy_prompt_count(const task_t *t) { return toy_impl(t)->n_prompts; }

/* log pi(y | x) of the whole generation (seq = x y), summed over positions in order. */
static double seq_logprob(toy_logprob_fn f, void *ctx, const toy_t *m, const int32_t *seq) {
    if (!f) return -(double)m->H * dm_log((double)m->V); /* NULL: the uniform policy */
    double lp = 0.0;
    for (int i = 0; i < m->H; i++) lp += f(ctx, seq, 1 + i, seq[1 + i]);
    return lp;
}

/* Writes the n-th generation (lexicographic, position 0 most significant) after prompt x. */
static void decode(const toy_t *m, int x, int n, int32_t *seq) {
    seq[0] = x;
    for (int i = m->H - 1; i >= 0; i--) {
        seq[1 + i] = n % m->V;
        n /= m->V;
    }
}

static int n_seqs(const toy_t *m) {
    int n = 1;
    for (int i = 0; i < m->H; i++) n *= m->V;
    return n;
}

double toy_policy_value(const task_t *t, toy_logprob_fn pi, void *pi_ctx, toy_logprob_fn ref,
                        void *ref_ctx, double beta) {
    const toy_t *m = toy_impl(t);
    assert(pi);
    const int N = n_seqs(m);
    double total = 0.0;
    for (int x = 0; x < m->n_prompts; x++) {
        double vx = 0.0;
        for (int n = 0; n < N; n++) {
            int32_t seq[1 + TOY_MAX_H];
            decode(m, x, n, seq);
            double lp = seq_logprob(pi, pi_ctx, m, seq);
            double p = dm_exp(lp);
            if (p == 0.0) continue; /* pi(y) = 0 contributes nothing, KL included */
            double term = toy_score(m, x, seq + 1, m->H);
            if (beta != 0.0) term -= beta * (lp - seq_logprob(ref, ref_ctx, m, seq));
            vx += p * term;
        }
        total += vx;
    }
    return total / m->n_prompts;
}

double toy_kl_optimum(const task_t *t, toy_logprob_fn ref, void *ref_ctx, double beta) {
    const toy_t *m = toy_impl(t);
    assert(beta >= 0.0);
    const int N = n_seqs(m);
    double lr[TOY_MAX_SEQ], R[TOY_MAX_SEQ];
    assert(N <= TOY_MAX_SEQ);
    double total = 0.0;
    for (int x = 0; x < m->n_prompts; x++) {
        double rmin = INFINITY, rmax = -INFINITY;
        for (int n = 0; n < N; n++) {
            int32_t seq[1 + TOY_MAX_H];
            decode(m, x, n, seq);
            lr[n] = seq_logprob(ref, ref_ctx, m, seq);
            R[n] = toy_score(m, x, seq + 1, m->H);
            if (lr[n] == -INFINITY) continue; /* outside ref's support */
            if (R[n] < rmin) rmin = R[n];
            if (R[n] > rmax) rmax = R[n];
        }
        assert(rmax >= rmin); /* ref gives some sequence positive probability */
        if (beta == 0.0) {
            total += rmax;
        } else if (rmax - rmin <= beta) {
            /* large beta: rmin + beta log(Z + sum ref expm1((R - rmin)/beta)), no cancellation */
            double Z = 0.0, D = 0.0;
            for (int n = 0; n < N; n++) Z += dm_exp(lr[n]);
            for (int n = 0; n < N; n++) D += dm_exp(lr[n]) * dm_expm1((R[n] - rmin) / beta);
            total += rmin + beta * (dm_log(Z) + dm_log1p(D / Z));
        } else {
            /* small beta: log-sum-exp of lr + (R - rmin)/beta */
            double mx = -INFINITY, sum = 0.0;
            for (int n = 0; n < N; n++) {
                double v = lr[n] + (R[n] - rmin) / beta;
                if (v > mx) mx = v;
            }
            for (int n = 0; n < N; n++) sum += dm_exp(lr[n] + (R[n] - rmin) / beta - mx);
            total += rmin + beta * (mx + dm_log(sum));
        }
    }
    return total / m->n_prompts;
}
