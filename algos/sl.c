#include "sl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algo.h"
#include "../sim/nn/optim.h"
#include "../sim/rl/rollout.h"
#include "../sim/nn/sample.h"
#include "../sim/base/dmath.h"

typedef struct {
    const model_t *policy;
    const int32_t *data; /* (examples, seq_cap) */
    const int32_t *len;  /* examples */
    int seq_cap, V;
    const int *idx;
    int count;
    double ntok; /* target tokens in the step */
    model_ws_t **ws; /* per worker */
    float **dout;    /* per worker */
    int32_t **tokens;
    double **ls;
    float *gblk;     /* (blocks, n_params) */
    double *loss;    /* per block */
} sl_job_t;

static void sl_block(void *ctx, int blk, int worker) {
    sl_job_t *j = ctx;
    int r0, r1;
    rollout_block_range(j->count, blk, &r0, &r1);
    int B = r1 - r0, T = 1, V = j->V;
    for (int r = r0; r < r1; r++)
        if (j->len[j->idx[r]] > T) T = j->len[j->idx[r]];
    int32_t *tok = j->tokens[worker];
    for (int r = r0; r < r1; r++)
        memcpy(tok + (int64_t)(r - r0) * T, j->data + (int64_t)j->idx[r] * j->seq_cap, (size_t)T * sizeof(int32_t));
    const float *logits = model_forward(j->policy, j->ws[worker], tok, B, T);
    float *d = j->dout[worker];
    double *ls = j->ls[worker];
    memset(d, 0, (size_t)B * (size_t)T * (size_t)V * sizeof(float));
    double loss = 0.0, c = 1.0 / j->ntok;
    for (int r = 0; r < B; r++) {
        int L = j->len[j->idx[r0 + r]];
        for (int t = 0; t + 1 < L; t++) {
            int64_t off = ((int64_t)r * T + t) * V;
            int y = tok[(int64_t)r * T + t + 1];
            log_softmax_probs_row(logits + off, V, ls, ls + V);
            loss -= ls[y];
            for (int q = 0; q < V; q++) d[off + q] = (float)(c * ls[V + q]);
            d[off + y] -= (float)c;
        }
    }
    float *g = j->gblk + (size_t)blk * j->policy->n_params;
    memset(g, 0, j->policy->n_params * sizeof(float));
    model_backward(j->policy, j->ws[worker], d, g);
    j->loss[blk] = loss;
}

int sl_train(model_t *policy, const task_t *task, pool_t *pool, const config_t *cfg,
             void (*progress)(const sl_epoch_t *, void *), void *ctx, err_t *err) {
    int n = cfg->sl.examples, seq_cap = task->prompt_max + task->gen_max, V = task->vocab;
    int nw = pool_threads(pool), bs = cfg->sl.batch;
    int max_blk = rollout_blocks(bs);
    int rc = -1;
    sl_job_t j = {.policy = policy, .len = NULL, .seq_cap = seq_cap, .V = V};
    int32_t *data = calloc((size_t)n * (size_t)seq_cap, sizeof *data);
    int32_t *len = calloc((size_t)n, sizeof *len);
    int *perm = malloc((size_t)n * sizeof *perm);
    j.ws = calloc((size_t)nw, sizeof *j.ws);
    j.dout = calloc((size_t)nw, sizeof *j.dout);
    j.tokens = calloc((size_t)nw, sizeof *j.tokens);
    j.ls = calloc((size_t)nw, sizeof *j.ls);
    j.gblk = malloc((size_t)max_blk * policy->n_params * sizeof(float));
    j.loss = calloc((size_t)max_blk, sizeof *j.loss);
    int ok = data && len && perm && j.ws && j.dout && j.tokens && j.ls && j.gblk && j.loss;
    for (int w = 0; ok && w < nw; w++) {
        j.ws[w] = model_ws_create(policy, ROLLOUT_BLOCK, seq_cap);
        j.dout[w] = malloc((size_t)ROLLOUT_BLOCK * (size_t)seq_cap * (size_t)V * sizeof(float));
        j.tokens[w] = malloc((size_t)ROLLOUT_BLOCK * (size_t)seq_cap * sizeof(int32_t));
        j.ls[w] = malloc(2 * (size_t)V * sizeof(double)); /* log-softmax and softmax */
        ok = j.ws[w] && j.dout[w] && j.tokens[w] && j.ls[w];
    }
    if (!ok) {
        err_set(err, "SL: out of memory for %d examples of %d tokens (sl.examples, sl.batch)", n, seq_cap);
        goto done;
    }
    j.data = data;
    j.len = len;
    for (int i = 0; i < n; i++) {
        int32_t *row = data + (int64_t)i * seq_cap;
        int p = task->prompt(task, SPLIT_TRAIN, (uint64_t)i, row);
        len[i] = p + task->reference(task, SPLIT_TRAIN, (uint64_t)i, row + p);
    }
    long steps_per_epoch = (n + bs - 1) / bs, total = steps_per_epoch * cfg->sl.epochs, step = 0;
    adamw_t opt = {0, 0.9f, 0.999f, (float)cfg->sl.adam_eps, (float)cfg->sl.weight_decay};

    for (int epoch = 0; epoch < cfg->sl.epochs; epoch++) {
        for (int i = 0; i < n; i++) perm[i] = i;
        rng_t r = rng_stream((uint64_t)cfg->seed, RNG_SL, (uint64_t)epoch, 0);
        for (int i = n - 1; i > 0; i--) {
            int k = (int)rng_bounded(&r, (uint32_t)(i + 1)), t = perm[i];
            perm[i] = perm[k];
            perm[k] = t;
        }
        double eloss = 0.0, etok = 0.0;
        for (int m0 = 0; m0 < n; m0 += bs) {
            j.idx = perm + m0;
            j.count = m0 + bs < n ? bs : n - m0;
            j.ntok = 0;
            for (int q = 0; q < j.count; q++) j.ntok += len[j.idx[q]] - 1;
            int nblk = rollout_blocks(j.count);
            pool_run(pool, nblk, sl_block, &j);
            optim_zero_grads(policy);
            for (int b = 0; b < nblk; b++) {
                const float *g = j.gblk + (size_t)b * policy->n_params;
                for (size_t q = 0; q < policy->n_params; q++) policy->grads[q] += g[q];
                eloss += j.loss[b];
            }
            etok += j.ntok;
            model_t *ms[1] = {policy};
            optim_clip_grads(ms, 1, cfg->sl.grad_clip);
            opt.lr = optim_lr(LR_LINEAR, (float)cfg->sl.lr, step, total);
            adamw_step(&opt, policy, ++step);
        }
        /* divergence is an outcome, never a silently broken pi_ref */
        if (!isfinite(eloss)) {
            err_set(err, "SL diverged: epoch %d: loss is %g (check sl.lr, sl.grad_clip)", epoch + 1, eloss / etok);
            goto done;
        }
        for (size_t q = 0; q < policy->n_params; q++)
            if (!isfinite(policy->params[q])) {
                err_set(err, "SL diverged: epoch %d: a weight is %g (check sl.lr, sl.grad_clip)", epoch + 1,
                        (double)policy->params[q]);
                goto done;
            }
        if (progress) {
            sl_epoch_t st = {epoch, eloss / etok};
            progress(&st, ctx);
        }
    }
    rc = 0;
done:
    for (int w = 0; w < nw; w++) {
        if (j.ws) model_ws_destroy(j.ws[w]);
        if (j.dout) free(j.dout[w]);
        if (j.tokens) free(j.tokens[w]);
        if (j.ls) free(j.ls[w]);
    }
    free(j.ws); free(j.dout); free(j.tokens); free(j.ls); free(j.gblk); free(j.loss);
    free(perm); free(data); free(len);
    return rc;
}

/* SL as an algorithm of the registry: no RL iterations. The run trains (or takes from the SL
 * cache) the SL policy it would start RL from, and that policy is the result: evaluated like any
 * learner, at iteration 0. */
const algo_t algo_sl = {"sl", "SL: supervised fine-tuning only (the checkpoint RL starts from)", 0, NULL, NULL};
