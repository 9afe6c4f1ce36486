#include "rollout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MODELS 6

/* Per-worker scratch: a forward workspace and a KV cache per model, created on first use. */
typedef struct {
    const model_t *model[MAX_MODELS];
    model_ws_t *ws[MAX_MODELS];
    model_kv_t *kv[MAX_MODELS];
    void *sample_scratch;
    int32_t *tokens;   /* (ROLLOUT_BLOCK, seq_cap) */
    int32_t *ctx;      /* seq_cap */
    int32_t *rollin;   /* seq_cap */
    double *logsm;     /* vocab */
} worker_t;

struct rollout_engine {
    const task_t *task;
    pool_t *pool;
    int seq_cap;
    worker_t *workers;
};

static int slot_for(worker_t *w, const model_t *m) {
    for (int i = 0; i < MAX_MODELS; i++)
        if (w->model[i] == m) return i;
    for (int i = 0; i < MAX_MODELS; i++)
        if (!w->model[i]) {
            w->model[i] = m;
            return i;
        }
    abort(); /* more distinct models than any algorithm uses: a programming error */
}

static model_ws_t *ws_for(rollout_engine_t *e, worker_t *w, const model_t *m) {
    int s = slot_for(w, m);
    if (!w->ws[s]) w->ws[s] = model_ws_create(m, ROLLOUT_BLOCK, e->seq_cap);
    return w->ws[s];
}

static model_kv_t *kv_for(rollout_engine_t *e, worker_t *w, const model_t *m) {
    int s = slot_for(w, m);
    if (!w->kv[s]) w->kv[s] = model_kv_create(m, e->seq_cap);
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
        w->ctx = calloc((size_t)seq_cap, sizeof(int32_t));
        w->rollin = calloc((size_t)seq_cap, sizeof(int32_t));
        w->logsm = calloc((size_t)task->vocab, sizeof(double));
        ok &= w->sample_scratch && w->tokens && w->ctx && w->rollin && w->logsm;
    }
    if (!ok) { /* the caller reports it; nothing half-made survives */
        rollout_engine_destroy(e);
        return NULL;
    }
    return e;
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
    free(e);
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
            if (tok == banned) tok = sample_token(logits, V, &a->sampling, banned, rng, scratch, NULL);
        } else {
            tok = sample_token(logits, V, &a->sampling, banned, rng, scratch, NULL);
        }
        out[n++] = tok;
        if (tok == eos) break;
        if (n < max_new) logits = model_kv_step(a->model, kv, tok);
    }
    return n;
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
} gen_job_t;

static void gen_one(void *ctx, int j, int worker) {
    gen_job_t *job = ctx;
    rollout_engine_t *e = job->e;
    const task_t *task = e->task;
    worker_t *w = &e->workers[worker];
    batch_t *b = job->b;
    const rollout_plan_t *plan = job->plan;

    int64_t pidx = job->prompt_index[j];
    int plen = task->prompt(task, job->split, (uint64_t)pidx, w->ctx);
    int32_t *row = b->seq + (int64_t)j * b->seq_cap;
    memcpy(row, w->ctx, (size_t)plen * sizeof *row);

    /* 1-2: roll-in decision and switch point */
    int u = 0, k = 0;
    if (plan->rollin >= 0) {
        uint64_t jr = b->group_size > 1 ? (uint64_t)j / (uint64_t)b->group_size : (uint64_t)j; /* a group shares its restart state */
        rng_t r = rng_stream(job->seed, RNG_ROLLIN, job->key, jr);
        u = rng_double(&r) < plan->beta;
        if (u) {
            const actor_t *in = job->actors[plan->rollin];
            rng_t rs = rng_stream(job->seed, job->purpose[plan->rollin], job->key, jr);
            int L = actor_generate(in, task, job->split, (uint64_t)pidx, kv_for(e, w, in->model),
                                   w->sample_scratch, w->ctx, plen, plen, task->gen_min, task->gen_max, &rs,
                                   w->rollin);
            if (L >= 2) {
                k = 1 + (int)rng_bounded(&r, (uint32_t)(L - 1));
                memcpy(row + plen, w->rollin, (size_t)k * sizeof *row);
                memcpy(w->ctx + plen, w->rollin, (size_t)k * sizeof *row);
                for (int t = 0; t < k; t++) b->actor[batch_tok(b, j, t)] = (uint8_t)plan->rollin;
            } else {
                u = 0;
            }
        }
    }
    /* 3: roll-out from the prompt plus the forced prefix */
    const actor_t *outa = job->actors[plan->rollout];
    rng_t rs = rng_stream(job->seed, job->purpose[plan->rollout], job->key, (uint64_t)j);
    int min_new = task->gen_min - k > 0 ? task->gen_min - k : 0;
    int n = actor_generate(outa, task, job->split, (uint64_t)pidx, kv_for(e, w, outa->model),
                           w->sample_scratch, w->ctx, plen, plen + k, min_new, task->gen_max - k, &rs,
                           row + plen + k);
    for (int t = k; t < k + n; t++) b->actor[batch_tok(b, j, t)] = (uint8_t)plan->rollout;
    int L = k + n;
    /* Zero the padding so a batch's bytes never depend on what the buffer held before. */
    memset(row + plen + L, 0, (size_t)(b->seq_cap - plen - L) * sizeof *row);
    for (int t = L; t < b->gen_cap; t++) b->actor[batch_tok(b, j, t)] = 0;

    b->split[j] = job->split;
    b->prompt_index[j] = pidx;
    b->prompt_len[j] = plen;
    b->gen_len[j] = L;
    b->u[j] = (uint8_t)u;
    b->k[j] = k;
    double *m = b->metrics + (int64_t)j * b->n_metrics;
    task->metrics(task, job->split, (uint64_t)pidx, row + plen, L, m);
    b->task_reward[j] = m[0];
}

void rollout_generate(rollout_engine_t *e, const rollout_plan_t *plan, const actor_t *const actors[2],
                      batch_t *b, int split, const int64_t *prompt_index, uint64_t seed,
                      const uint32_t purpose[2], uint64_t key) {
    gen_job_t job = {e, plan, actors, b, split, prompt_index, seed, key, purpose};
    pool_run(e->pool, b->n, gen_one, &job);
}

typedef struct {
    rollout_engine_t *e;
    batch_t *b;
    const model_t *model;
    float *dst; /* logp or value array of the batch */
} score_job_t;

static void score_block(void *ctx, int blk, int worker) {
    score_job_t *job = ctx;
    rollout_engine_t *e = job->e;
    worker_t *w = &e->workers[worker];
    batch_t *b = job->b;
    int i0 = blk * ROLLOUT_BLOCK, i1 = i0 + ROLLOUT_BLOCK < b->n ? i0 + ROLLOUT_BLOCK : b->n;
    int B = i1 - i0, T = 1;
    for (int i = i0; i < i1; i++)
        if (b->prompt_len[i] + b->gen_len[i] > T) T = b->prompt_len[i] + b->gen_len[i];
    for (int i = i0; i < i1; i++)
        memcpy(w->tokens + (int64_t)(i - i0) * T, b->seq + (int64_t)i * b->seq_cap, (size_t)T * sizeof(int32_t));
    const float *out = model_forward(job->model, ws_for(e, w, job->model), w->tokens, B, T);
    int D = model_out_dim(job->model);
    for (int i = i0; i < i1; i++) {
        const int32_t *gen = batch_gen(b, i);
        for (int t = 0; t < b->gen_len[i]; t++) {
            const float *o = out + ((int64_t)(i - i0) * T + b->prompt_len[i] - 1 + t) * D;
            if (D == 1) {
                job->dst[batch_tok(b, i, t)] = o[0];
            } else {
                log_softmax_row(o, D, w->logsm);
                job->dst[batch_tok(b, i, t)] = (float)w->logsm[gen[t]];
            }
        }
    }
}

void rollout_score(rollout_engine_t *e, batch_t *b, const model_t *policy, const model_t *ref,
                   const model_t *critic) {
    int nblk = (b->n + ROLLOUT_BLOCK - 1) / ROLLOUT_BLOCK;
    const model_t *models[3] = {policy, ref, critic};
    float *dst[3] = {b->logp, b->logp_ref, b->value};
    for (int m = 0; m < 3; m++) {
        if (!models[m]) continue;
        score_job_t job = {e, b, models[m], dst[m]};
        pool_run(e->pool, nblk, score_block, &job);
    }
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
    int i0 = blk * ROLLOUT_BLOCK, i1 = i0 + ROLLOUT_BLOCK < job->n ? i0 + ROLLOUT_BLOCK : job->n;
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
    const float *out = model_forward(job->policy, ws_for(e, w, job->policy), w->tokens, B, Tmax);
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
    int nblk = (n + ROLLOUT_BLOCK - 1) / ROLLOUT_BLOCK;
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
