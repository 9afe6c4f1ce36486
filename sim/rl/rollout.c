#include "rollout.h"
#include "../nn/kern.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MODELS 6

/* Per-worker scratch: a forward workspace and a KV cache per model, created on first use. */
/* Generation steps the trajectories of a block together, one KV-cache row each: blocks of at
 * most GEN_BLOCK rows. A row's tokens never depend on which rows share its block (model_kv_step_rows
 * is row-independent), so the split only balances the threads. */
#define GEN_BLOCK 16

/* Per-worker scratch: a forward workspace and a (GEN_BLOCK-row) KV cache per model, created on
 * first use. */
typedef struct {
    const model_t *model[MAX_MODELS];
    model_ws_t *ws[MAX_MODELS];
    model_kv_t *kv[MAX_MODELS];
    void *sample_scratch;
    int32_t *tokens;   /* (ROLLOUT_BLOCK, seq_cap) */
    int32_t *ctx;      /* (GEN_BLOCK, seq_cap) */
    int32_t *rollin;   /* (GEN_BLOCK, seq_cap) */
    double *logsm;     /* vocab */
} worker_t;

struct rollout_engine {
    const task_t *task;
    pool_t *pool;
    int seq_cap;
    worker_t *workers;
    /* The roll-out actor's log-probabilities of every generated token, taken from the logits that
     * generation computed anyway (forced tokens are fed through the same cache): rollout_score
     * uses them instead of a forward when it scores this batch with a model whose parameters are
     * bit for bit the ones that generated it (the KV cache reproduces model_forward exactly). */
    const batch_t *rec_batch;
    model_config_t rec_cfg;
    float *rec_params;   /* snapshot of the generating model's parameters */
    size_t rec_n, rec_params_cap;
    float *rec_logp;     /* (cap, gen_cap) */
    uint8_t *rec_ok;     /* per trajectory: every generated token recorded */
    size_t rec_cap;
};

static int slot_for(worker_t *w, const model_t *m) {
    for (int i = 0; i < MAX_MODELS; i++)
        if (w->model[i] == m) return i;
    for (int i = 0; i < MAX_MODELS; i++)
        if (!w->model[i]) {
            w->model[i] = m;
            return i;
        }
    assert(!"more distinct models than any algorithm uses: a programming error");
    return 0;
}

static model_ws_t *ws_for(rollout_engine_t *e, worker_t *w, const model_t *m) {
    int s = slot_for(w, m);
    if (!w->ws[s]) w->ws[s] = model_ws_create(m, ROLLOUT_BLOCK, e->seq_cap);
    return w->ws[s];
}

static model_kv_t *kv_for(rollout_engine_t *e, worker_t *w, const model_t *m) {
    int s = slot_for(w, m);
    if (!w->kv[s]) w->kv[s] = model_kv_create_rows(m, GEN_BLOCK, e->seq_cap);
    return w->kv[s];
}

rollout_engine_t *rollout_engine_create(const task_t *task, pool_t *pool, int seq_cap) {
    rollout_engine_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->task = task;
    e->pool = pool;
    e->seq_cap = seq_cap;
    int nw = pool_threads(pool);
    e->workers = calloc((size_t)nw, sizeof *e->workers);
    if (!e->workers) return free(e), NULL;
    int ok = 1;
    for (int i = 0; i < nw; i++) {
        worker_t *w = &e->workers[i];
        w->sample_scratch = malloc(sample_scratch_size(task->vocab));
        w->tokens = calloc((size_t)ROLLOUT_BLOCK * (size_t)seq_cap, sizeof(int32_t));
        w->ctx = calloc((size_t)GEN_BLOCK * (size_t)seq_cap, sizeof(int32_t));
        w->rollin = calloc((size_t)GEN_BLOCK * (size_t)seq_cap, sizeof(int32_t));
        w->logsm = calloc((size_t)task->vocab, sizeof(double));
        ok &= w->sample_scratch && w->tokens && w->ctx && w->rollin && w->logsm;
    }
    if (!ok) { /* the caller reports it; nothing half-made survives */
        rollout_engine_destroy(e);
        return NULL;
    }
    return e;
}

int rollout_engine_reserve(rollout_engine_t *e, const model_t *const *models, int n, int n_gen) {
    for (int i = 0; i < pool_threads(e->pool); i++)
        for (int m = 0; m < n; m++) {
            if (!models[m]) continue;
            if (!ws_for(e, &e->workers[i], models[m])) return -1;
            if (m < n_gen && !kv_for(e, &e->workers[i], models[m])) return -1;
        }
    return 0;
}

void rollout_engine_destroy(rollout_engine_t *e) {
    if (!e) return;
    for (int i = 0; i < pool_threads(e->pool); i++) {
        worker_t *w = &e->workers[i];
        for (int s = 0; s < MAX_MODELS; s++) {
            if (w->ws[s]) model_ws_destroy(w->ws[s]);
            if (w->kv[s]) model_kv_destroy(w->kv[s]);
        }
        free(w->sample_scratch);
        free(w->tokens);
        free(w->ctx);
        free(w->rollin);
        free(w->logsm);
    }
    free(e->workers);
    free(e->rec_params);
    free(e->rec_logp);
    free(e->rec_ok);
    free(e);
}

sample_cfg_t actor_sampling_at(const actor_t *a, const float *logits, int V, int banned, void *scratch) {
    sample_cfg_t c = a->sampling;
    if (!a->top_p_of_top_k || c.temperature <= 0.0 || c.top_k <= 0 || c.top_k >= V || c.top_p >= 1.0) return c;
    /* p exactly as sample_token computes it (sim/nn/sample.c): shifted exps, banned zeroed, / sum */
    double *p = scratch, *top = p + V, mx = -INFINITY, total = 0.0;
    for (int i = 0; i < V; i++)
        if (i != banned && logits[i] > mx) mx = logits[i];
    kern_exp_shift(p, logits, V, mx, c.temperature);
    if (banned >= 0 && banned < V) p[banned] = 0.0;
    for (int i = 0; i < V; i++) total += p[i];
    for (int i = 0; i < V; i++) p[i] /= total;
    /* the k largest, in decreasing order (insertion), summed in that (sample_token's rank) order */
    int n = 0, k = c.top_k;
    for (int i = 0; i < V; i++) {
        if (n == k && !(p[i] > top[k - 1])) continue;
        int at = n < k ? n++ : k - 1;
        while (at > 0 && p[i] > top[at - 1]) {
            top[at] = top[at - 1];
            at--;
        }
        top[at] = p[i];
    }
    double mass = 0.0;
    for (int i = 0; i < n; i++) mass += top[i];
    c.top_p *= mass;
    return c;
}

int actor_generate(const actor_t *a, const task_t *task, int split, uint64_t index, model_kv_t *kv,
                   void *scratch, const int32_t *ctx, int prompt_len, int ctx_len, int min_new,
                   int max_new, rng_t *rng, int32_t *out) {
    model_kv_reset(kv);
    const float *logits = NULL;
    for (int i = 0; i < ctx_len; i++) logits = model_kv_step(a->model, kv, ctx[i]);
    int V = a->model->cfg.vocab, n = 0, eos = task->eos, forced = ctx_len - prompt_len;
    while (n < max_new) {
        int banned = (eos >= 0 && n < min_new) ? eos : -1;
        int tok;
        if (a->expert_q > 0 && rng_double(rng) < a->expert_q) {
            tok = task->expert_next(task, split, index, out - forced, forced + n);
            if (tok == banned) {
                sample_cfg_t sc = actor_sampling_at(a, logits, V, banned, scratch);
                tok = sample_token(logits, V, &sc, banned, rng, scratch, NULL);
            }
        } else {
            sample_cfg_t sc = actor_sampling_at(a, logits, V, banned, scratch);
            tok = sample_token(logits, V, &sc, banned, rng, scratch, NULL);
        }
        out[n++] = tok;
        if (tok == eos) break;
        if (n < max_new) logits = model_kv_step(a->model, kv, tok);
    }
    return n;
}

/* Generates continuations for n rows at once with actor a, all rows stepping together through
 * the KV cache: row r has context ctx[r] (ctx_len[r] tokens, the first prompt_len[r] the prompt,
 * the rest forced), samples between min_new[r] and max_new[r] tokens into out[r] from rng[r], and
 * gets its length in len[r]. Each row does exactly what actor_generate does for it alone: the
 * same draws from its own stream, the same logits bit for bit. With logp, logp[r][g] receives the
 * log-probability of the token at generated position g (forced ones included) under a's model,
 * and rec[r] how many were recorded. */
static void generate_rows(rollout_engine_t *e, worker_t *w, const actor_t *a, int split, const int64_t *index, int n,
                          int32_t *const *ctx, const int *prompt_len, const int *ctx_len, const int *min_new,
                          const int *max_new, rng_t *rng, int32_t *const *out, int *len, float *const *logp,
                          int *rec) {
    const task_t *task = e->task;
    model_kv_t *kv = kv_for(e, w, a->model);
    int V = a->model->cfg.vocab, eos = task->eos;
    int fed[GEN_BLOCK], live[GEN_BLOCK], rows[GEN_BLOCK];
    int32_t tok[GEN_BLOCK];
    int nlive = 0;
    for (int r = 0; r < n; r++) {
        model_kv_reset_row(kv, r);
        fed[r] = len[r] = 0;
        if (rec) rec[r] = 0;
        live[r] = max_new[r] > 0;
        nlive += live[r];
    }
    while (nlive > 0) {
        int m = 0;
        for (int r = 0; r < n; r++) {
            if (!live[r]) continue;
            rows[m] = r;
            tok[m++] = fed[r] < ctx_len[r] ? ctx[r][fed[r]] : out[r][len[r] - 1];
        }
        const float *logits = model_kv_step_rows(a->model, kv, m, rows, tok);
        for (int q = 0; q < m; q++) {
            int r = rows[q];
            const float *lg = logits + (size_t)q * V;
            int p = ++fed[r]; /* these logits predict the token at position p */
            int y;
            if (p < ctx_len[r]) {
                if (!logp || p < prompt_len[r]) continue;
                y = ctx[r][p];
            } else {
                int nn = len[r], forced = ctx_len[r] - prompt_len[r];
                int banned = (eos >= 0 && nn < min_new[r]) ? eos : -1;
                if (a->expert_q > 0 && rng_double(&rng[r]) < a->expert_q) {
                    y = task->expert_next(task, split, (uint64_t)index[r], out[r] - forced, forced + nn);
                    if (y == banned) {
                        sample_cfg_t sc = actor_sampling_at(a, lg, V, banned, w->sample_scratch);
                        y = sample_token(lg, V, &sc, banned, &rng[r], w->sample_scratch, NULL);
                    }
                } else {
                    sample_cfg_t sc = actor_sampling_at(a, lg, V, banned, w->sample_scratch);
                    y = sample_token(lg, V, &sc, banned, &rng[r], w->sample_scratch, NULL);
                }
                out[r][len[r]++] = y;
                if (y == eos || len[r] == max_new[r]) {
                    live[r] = 0;
                    nlive--;
                }
            }
            if (logp) {
                log_softmax_row(lg, V, w->logsm);
                logp[r][p - prompt_len[r]] = (float)w->logsm[y];
                rec[r]++;
            }
        }
    }
}

typedef struct {
    rollout_engine_t *e;
    const rollout_plan_t *plan;
    const actor_t *const *actors;
    batch_t *b;
    int split;
    const int64_t *prompt_index;
    uint64_t seed, key;
    const uint32_t *purpose;
    int nblk;
} gen_job_t;

/* Trajectories [j0, j1) of the batch: the roll-in rows step together, then all rows roll out
 * together (spec semantics in rollout.h, per trajectory exactly as before batching). */
static void gen_block(void *ctx, int blk, int worker) {
    gen_job_t *job = ctx;
    rollout_engine_t *e = job->e;
    const task_t *task = e->task;
    worker_t *w = &e->workers[worker];
    batch_t *b = job->b;
    const rollout_plan_t *plan = job->plan;
    int nb = job->nblk, q0 = b->n / nb, rem = b->n % nb;
    int j0 = blk * q0 + (blk < rem ? blk : rem), n = q0 + (blk < rem);
    /* zero-initialised only to keep GCC's flow analysis quiet: every entry < n is set below */
    int plen[GEN_BLOCK] = {0}, u[GEN_BLOCK] = {0}, k[GEN_BLOCK] = {0}, L[GEN_BLOCK] = {0}, clen[GEN_BLOCK] = {0};
    int mn[GEN_BLOCK] = {0}, mx[GEN_BLOCK] = {0}, rec[GEN_BLOCK] = {0};
    int64_t pidx[GEN_BLOCK] = {0};
    int32_t *cx[GEN_BLOCK] = {0}, *ob[GEN_BLOCK] = {0};
    float *lp[GEN_BLOCK] = {0};
    rng_t rin[GEN_BLOCK], rs[GEN_BLOCK];
    memset(rin, 0, sizeof rin);
    memset(rs, 0, sizeof rs);
    int S = e->seq_cap;

    for (int r = 0; r < n; r++) {
        int j = j0 + r;
        pidx[r] = job->prompt_index[j];
        cx[r] = w->ctx + (size_t)r * S;
        plen[r] = task->prompt(task, job->split, (uint64_t)pidx[r], cx[r]);
        memcpy(b->seq + (int64_t)j * b->seq_cap, cx[r], (size_t)plen[r] * sizeof(int32_t));
        u[r] = k[r] = 0;
    }
    /* 1-2: roll-in decisions, the roll-in continuations of the rows with u = 1, switch points */
    if (plan->rollin >= 0) {
        int sub[GEN_BLOCK] = {0}, ns = 0;
        int32_t *scx[GEN_BLOCK] = {0}, *sob[GEN_BLOCK] = {0};
        int spl[GEN_BLOCK] = {0}, smin[GEN_BLOCK] = {0}, smax[GEN_BLOCK] = {0}, sL[GEN_BLOCK] = {0};
        int64_t sidx[GEN_BLOCK] = {0};
        rng_t srs[GEN_BLOCK];
        memset(srs, 0, sizeof srs);
        for (int r = 0; r < n; r++) {
            int j = j0 + r;
            /* a group (j / K) shares its restart state: roll-in decision, switch point and prefix */
            uint64_t jr = b->group_size > 1 ? (uint64_t)j / (uint64_t)b->group_size : (uint64_t)j;
            rin[r] = rng_stream(job->seed, RNG_ROLLIN, job->key, jr);
            u[r] = rng_double(&rin[r]) < plan->beta;
            if (!u[r]) continue;
            sub[ns] = r;
            scx[ns] = cx[r];
            sob[ns] = w->rollin + (size_t)r * S;
            spl[ns] = plen[r];
            smin[ns] = task->gen_min;
            smax[ns] = task->gen_max;
            sidx[ns] = pidx[r];
            srs[ns] = rng_stream(job->seed, job->purpose[plan->rollin], job->key, jr);
            ns++;
        }
        if (ns > 0)
            generate_rows(e, w, job->actors[plan->rollin], job->split, sidx, ns, scx, spl, spl, smin, smax, srs, sob,
                          sL, NULL, NULL);
        for (int s2 = 0; s2 < ns; s2++) {
            int r = sub[s2], j = j0 + r;
            if (sL[s2] >= 2) {
                k[r] = 1 + (int)rng_bounded(&rin[r], (uint32_t)(sL[s2] - 1));
                int32_t *row = b->seq + (int64_t)j * b->seq_cap;
                memcpy(row + plen[r], sob[s2], (size_t)k[r] * sizeof(int32_t));
                memcpy(cx[r] + plen[r], sob[s2], (size_t)k[r] * sizeof(int32_t));
                for (int t = 0; t < k[r]; t++) b->actor[batch_tok(b, j, t)] = (uint8_t)plan->rollin;
            } else {
                u[r] = 0;
            }
        }
    }
    /* 3: roll-out of every row from its prompt plus forced prefix */
    for (int r = 0; r < n; r++) {
        int j = j0 + r;
        rs[r] = rng_stream(job->seed, job->purpose[plan->rollout], job->key, (uint64_t)j);
        clen[r] = plen[r] + k[r];
        mn[r] = task->gen_min - k[r] > 0 ? task->gen_min - k[r] : 0;
        mx[r] = task->gen_max - k[r];
        ob[r] = b->seq + (int64_t)j * b->seq_cap + plen[r] + k[r];
        lp[r] = e->rec_logp + (size_t)j * b->gen_cap;
    }
    generate_rows(e, w, job->actors[plan->rollout], job->split, pidx, n, cx, plen, clen, mn, mx, rs, ob, L, lp, rec);
    for (int r = 0; r < n; r++) {
        int j = j0 + r, Lj = k[r] + L[r];
        int32_t *row = b->seq + (int64_t)j * b->seq_cap;
        for (int t = k[r]; t < Lj; t++) b->actor[batch_tok(b, j, t)] = (uint8_t)plan->rollout;
        /* Zero the padding so a batch's bytes never depend on what the buffer held before. */
        memset(row + plen[r] + Lj, 0, (size_t)(b->seq_cap - plen[r] - Lj) * sizeof *row);
        for (int t = Lj; t < b->gen_cap; t++) b->actor[batch_tok(b, j, t)] = 0;
        e->rec_ok[j] = rec[r] == Lj;
        b->split[j] = job->split;
        b->prompt_index[j] = pidx[r];
        b->prompt_len[j] = plen[r];
        b->gen_len[j] = Lj;
        b->u[j] = (uint8_t)u[r];
        b->k[j] = k[r];
        double *met = b->metrics + (int64_t)j * b->n_metrics;
        task->metrics(task, job->split, (uint64_t)pidx[r], row + plen[r], Lj, met);
        b->task_reward[j] = met[0];
    }
}

void rollout_generate(rollout_engine_t *e, const rollout_plan_t *plan, const actor_t *const actors[2],
                      batch_t *b, int split, const int64_t *prompt_index, uint64_t seed,
                      const uint32_t purpose[2], uint64_t key) {
    /* room for the recorded log-probabilities, and the generating model's parameters */
    size_t cap = (size_t)b->cap * (size_t)b->gen_cap;
    if (cap > e->rec_cap) {
        free(e->rec_logp);
        free(e->rec_ok);
        e->rec_logp = malloc(cap * sizeof(float));
        e->rec_ok = malloc((size_t)b->cap);
        e->rec_cap = cap;
    }
    const model_t *gm = actors[plan->rollout]->model;
    if (gm->n_params > e->rec_params_cap) {
        free(e->rec_params);
        e->rec_params = malloc(gm->n_params * sizeof(float));
        e->rec_params_cap = gm->n_params;
    }
    memcpy(e->rec_params, gm->params, gm->n_params * sizeof(float));
    e->rec_n = gm->n_params;
    e->rec_cfg = gm->cfg;
    e->rec_batch = b;
    /* an even number of blocks of at most GEN_BLOCK rows, so two threads share them evenly */
    int nblk = (b->n + GEN_BLOCK - 1) / GEN_BLOCK;
    if (nblk % 2 && nblk < b->n) nblk++;
    gen_job_t job = {e, plan, actors, b, split, prompt_index, seed, key, purpose, nblk};
    if (b->n > 0) pool_run(e->pool, nblk, gen_block, &job);
}

typedef struct {
    rollout_engine_t *e;
    batch_t *b;
    const model_t *model;
    float *dst;       /* logp or value array of the batch */
    const int *list;  /* the trajectories to score */
    int n;
} score_job_t;

/* One forward per fixed block of the listed trajectories. A trajectory's scores do not depend on
 * which others share its forward (every row is computed on its own), so the list may be any
 * subset of the batch. */
static void score_block(void *ctx, int blk, int worker) {
    score_job_t *job = ctx;
    rollout_engine_t *e = job->e;
    worker_t *w = &e->workers[worker];
    batch_t *b = job->b;
    int i0, i1;
    rollout_block_range(job->n, blk, &i0, &i1);
    int B = i1 - i0, T = 1;
    for (int q = i0; q < i1; q++) {
        int i = job->list[q];
        if (b->prompt_len[i] + b->gen_len[i] > T) T = b->prompt_len[i] + b->gen_len[i];
    }
    for (int q = i0; q < i1; q++)
        memcpy(w->tokens + (int64_t)(q - i0) * T, b->seq + (int64_t)job->list[q] * b->seq_cap,
               (size_t)T * sizeof(int32_t));
    int from[ROLLOUT_BLOCK];
    for (int q = i0; q < i1; q++) from[q - i0] = b->prompt_len[job->list[q]] - 1;
    const float *out = model_forward_from(job->model, ws_for(e, w, job->model), w->tokens, B, T, from);
    int D = model_out_dim(job->model);
    for (int q = i0; q < i1; q++) {
        int i = job->list[q];
        const int32_t *gen = batch_gen(b, i);
        for (int t = 0; t < b->gen_len[i]; t++) {
            const float *o = out + ((int64_t)(q - i0) * T + b->prompt_len[i] - 1 + t) * D;
            if (D == 1) {
                job->dst[batch_tok(b, i, t)] = o[0];
            } else {
                log_softmax_row(o, D, w->logsm);
                job->dst[batch_tok(b, i, t)] = (float)w->logsm[gen[t]];
            }
        }
    }
}

/* 1 when model m is, bit for bit, the model whose log-probabilities generation recorded for b. */
static int recorded_for(const rollout_engine_t *e, const batch_t *b, const model_t *m) {
    return e->rec_batch == b && m->cfg.head == HEAD_LM && memcmp(&m->cfg, &e->rec_cfg, sizeof m->cfg) == 0 &&
           m->n_params == e->rec_n && memcmp(m->params, e->rec_params, m->n_params * sizeof(float)) == 0;
}

void rollout_score(rollout_engine_t *e, batch_t *b, const model_t *policy, const model_t *ref,
                   const model_t *critic) {
    const model_t *models[3] = {policy, ref, critic};
    float *dst[3] = {b->logp, b->logp_ref, b->value};
    int *list = malloc((size_t)(b->n > 0 ? b->n : 1) * sizeof *list);
    for (int m = 0; m < 3; m++) {
        if (!models[m]) continue;
        int rec = recorded_for(e, b, models[m]), n = 0;
        for (int i = 0; i < b->n; i++) {
            if (rec && e->rec_ok[i])
                memcpy(dst[m] + (int64_t)i * b->gen_cap, e->rec_logp + (int64_t)i * b->gen_cap,
                       (size_t)b->gen_len[i] * sizeof(float));
            else
                list[n++] = i;
        }
        score_job_t job = {e, b, models[m], dst[m], list, n};
        if (n > 0) pool_run(e->pool, rollout_blocks(n), score_block, &job);
    }
    free(list);
}

typedef struct {
    rollout_engine_t *e;
    const model_t *policy;
    int split, n;
    double *nll;  /* per block */
    int64_t *cnt; /* per block */
} refnll_job_t;

static void refnll_block(void *ctx, int blk, int worker) {
    refnll_job_t *job = ctx;
    rollout_engine_t *e = job->e;
    const task_t *task = e->task;
    worker_t *w = &e->workers[worker];
    int i0, i1;
    rollout_block_range(job->n, blk, &i0, &i1);
    int B = i1 - i0, T = e->seq_cap;
    int plen[ROLLOUT_BLOCK], rlen[ROLLOUT_BLOCK];
    memset(w->tokens, 0, (size_t)B * (size_t)T * sizeof(int32_t));
    int Tmax = 1;
    for (int i = i0; i < i1; i++) {
        int32_t *row = w->tokens + (int64_t)(i - i0) * T;
        plen[i - i0] = task->prompt(task, job->split, (uint64_t)i, row);
        rlen[i - i0] = task->reference(task, job->split, (uint64_t)i, row + plen[i - i0]);
        if (plen[i - i0] + rlen[i - i0] > Tmax) Tmax = plen[i - i0] + rlen[i - i0];
    }
    /* compact rows to width Tmax */
    for (int r = 1; r < B; r++) memmove(w->tokens + (int64_t)r * Tmax, w->tokens + (int64_t)r * T, (size_t)Tmax * sizeof(int32_t));
    int from[ROLLOUT_BLOCK];
    for (int r = 0; r < B; r++) from[r] = plen[r] - 1;
    const float *out = model_forward_from(job->policy, ws_for(e, w, job->policy), w->tokens, B, Tmax, from);
    int V = job->policy->cfg.vocab;
    double s = 0.0;
    int64_t c = 0;
    for (int r = 0; r < B; r++) {
        const int32_t *row = w->tokens + (int64_t)r * Tmax;
        for (int t = 0; t < rlen[r]; t++) {
            int pos = plen[r] - 1 + t;
            log_softmax_row(out + ((int64_t)r * Tmax + pos) * V, V, w->logsm);
            s -= w->logsm[row[pos + 1]];
            c++;
        }
    }
    job->nll[blk] = s;
    job->cnt[blk] = c;
}

double rollout_reference_nll(rollout_engine_t *e, const model_t *policy, int split, int n) {
    int nblk = rollout_blocks(n);
    double *nll = calloc((size_t)nblk, sizeof *nll);
    int64_t *cnt = calloc((size_t)nblk, sizeof *cnt);
    refnll_job_t job = {e, policy, split, n, nll, cnt};
    pool_run(e->pool, nblk, refnll_block, &job);
    double s = 0.0;
    int64_t c = 0;
    for (int i = 0; i < nblk; i++) {
        s += nll[i];
        c += cnt[i];
    }
    free(nll);
    free(cnt);
    return c ? s / (double)c : NAN;
}
