#include "ppo.h"
#include "ppo_loss.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rollout.h"
#include "../nn/sample.h"
#include "../base/dmath.h"
#include "estimators.h"

#define MAX_MODELS 4

typedef struct {
    const model_t *model[MAX_MODELS];
    model_ws_t *ws[MAX_MODELS];
    float *dout;      /* (ROLLOUT_BLOCK, seq_cap, V) */
    int32_t *tokens;  /* (ROLLOUT_BLOCK, seq_cap) */
    double *ls;       /* vocab: log-softmax row */
    double *p;        /* vocab: softmax row */
} pworker_t;

typedef struct {
    double pl, ent, akl, clip, vl, vclip, tgt;
    double kll;
} block_stats_t;

struct ppo_trainer {
    const task_t *task;
    pool_t *pool;
    int seq_cap;
    pworker_t *w;
    int blk_cap;
    float *gpol, *gcrit; /* (blk_cap, n_params) per-block gradients */
    size_t gpol_n, gcrit_n;
    block_stats_t *bstats;
    int32_t *ref_len; /* per trajectory of the current batch */
    int ref_cap;
    ppo_loss_opts_t lo; /* issue 13 knobs; zero = the PPO loss */
};

void ppo_set_loss_opts(ppo_trainer_t *t, const ppo_loss_opts_t *o) { t->lo = *o; }

static model_ws_t *ws_for(ppo_trainer_t *t, pworker_t *w, const model_t *m);

int ppo_trainer_reserve(ppo_trainer_t *t, const model_t *const *models, int n) {
    for (int i = 0; i < pool_threads(t->pool); i++)
        for (int m = 0; m < n; m++)
            if (models[m] && !ws_for(t, &t->w[i], models[m])) return -1;
    return 0;
}

ppo_trainer_t *ppo_trainer_create(const task_t *task, pool_t *pool, int seq_cap) {
    ppo_trainer_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->task = task;
    t->pool = pool;
    t->seq_cap = seq_cap;
    int nw = pool_threads(pool);
    t->w = calloc((size_t)nw, sizeof *t->w);
    if (!t->w) return free(t), NULL;
    int ok = 1;
    for (int i = 0; i < nw; i++) {
        t->w[i].dout = calloc((size_t)ROLLOUT_BLOCK * (size_t)seq_cap * (size_t)task->vocab, sizeof(float));
        t->w[i].tokens = calloc((size_t)ROLLOUT_BLOCK * (size_t)seq_cap, sizeof(int32_t));
        t->w[i].ls = calloc((size_t)task->vocab, sizeof(double));
        t->w[i].p = calloc((size_t)task->vocab, sizeof(double));
        ok &= t->w[i].dout && t->w[i].tokens && t->w[i].ls && t->w[i].p;
    }
    if (!ok) { /* the caller reports it */
        ppo_trainer_destroy(t);
        return NULL;
    }
    return t;
}

void ppo_trainer_destroy(ppo_trainer_t *t) {
    if (!t) return;
    for (int i = 0; i < pool_threads(t->pool); i++) {
        for (int s = 0; s < MAX_MODELS; s++)
            if (t->w[i].ws[s]) model_ws_destroy(t->w[i].ws[s]);
        free(t->w[i].dout);
        free(t->w[i].tokens);
        free(t->w[i].ls);
        free(t->w[i].p);
    }
    free(t->w);
    free(t->gpol);
    free(t->gcrit);
    free(t->bstats);
    free(t->ref_len);
    free(t);
}

static model_ws_t *ws_for(ppo_trainer_t *t, pworker_t *w, const model_t *m) {
    for (int i = 0; i < MAX_MODELS; i++)
        if (w->model[i] == m) return w->ws[i];
    for (int i = 0; i < MAX_MODELS; i++)
        if (!w->model[i]) {
            w->model[i] = m;
            w->ws[i] = model_ws_create(m, ROLLOUT_BLOCK, t->seq_cap);
            /* a policy's workspace records its rows: the target-NLL pass keeps the prompt's */
            if (w->ws[i] && m->cfg.head == HEAD_LM && model_ws_track_rows(w->ws[i], m)) {
                model_ws_destroy(w->ws[i]);
                w->ws[i] = NULL;
                w->model[i] = NULL;
            }
            return w->ws[i];
        }
    assert(!"more models than any algorithm uses: a programming error");
    return NULL;
}

/* PPO's shaping is KL estimator k1 in the reward: the one implementation is est_rewards_and_gae
 * (sim/rl/estimators.c), whose k1 is logp - logp_ref, the same operations as ever. */
void ppo_rewards_and_gae(batch_t *b, double beta_kl, int kl_on_guide, double gamma, double lambda) {
    est_rewards_and_gae(b, beta_kl, kl_on_guide, KL_K1, gamma, lambda);
}

double ppo_mean_kl(const batch_t *b) {
    if (b->n == 0) return 0.0;
    double s = 0.0;
    for (int i = 0; i < b->n; i++)
        for (int t = 0; t < b->gen_len[i]; t++) {
            int64_t k = batch_tok(b, i, t);
            if (b->actor[k] == ACTOR_LEARNER) s += (double)b->logp[k] - (double)b->logp_ref[k];
        }
    return s / b->n;
}

typedef struct {
    ppo_trainer_t *t;
    const batch_t *b;
    const ppo_params_t *p;
    const model_t *policy, *critic;
    const int *idx; /* minibatch trajectory indices */
    int count;
    double N, NV, Nref;
    double adv_mean, adv_scale; /* A' = (A - mean) * scale */
    double S; /* sequences with a trained token (loss.agg) */
} mb_job_t;

static void mb_block(void *ctx, int blk, int worker) {
    mb_job_t *job = ctx;
    ppo_trainer_t *tr = job->t;
    pworker_t *w = &tr->w[worker];
    const batch_t *b = job->b;
    const ppo_params_t *p = job->p;
    const ppo_loss_opts_t *LO = &tr->lo;
    const task_t *task = tr->task;
    int V = task->vocab;
    int r0, r1;
    rollout_block_range(job->count, blk, &r0, &r1);
    int B = r1 - r0, T = 1;
    for (int r = r0; r < r1; r++) {
        int i = job->idx[r];
        if (b->prompt_len[i] + b->gen_len[i] > T) T = b->prompt_len[i] + b->gen_len[i];
    }
    for (int r = r0; r < r1; r++)
        memcpy(w->tokens + (int64_t)(r - r0) * T, b->seq + (int64_t)job->idx[r] * b->seq_cap, (size_t)T * sizeof(int32_t));

    block_stats_t st = {0};
    float *gpol = tr->gpol + (size_t)blk * tr->gpol_n;
    memset(gpol, 0, tr->gpol_n * sizeof(float));

    /* policy: clipped surrogate and entropy on pmask tokens */
    if (job->N > 0) {
        model_ws_t *ws = ws_for(tr, w, job->policy);
        /* logits only where a generated token is scored: from the last prompt position on */
        int from[ROLLOUT_BLOCK];
        for (int r = r0; r < r1; r++) from[r - r0] = b->prompt_len[job->idx[r]] - 1;
        const float *logits = model_forward_from(job->policy, ws, w->tokens, B, T, from);
        /* dout rows from[r] on are read by the backward: a trained token's row is written whole
         * below, an untrained token's row and the padding past the sequence are zeroed */
        for (int r = r0; r < r1; r++) {
            int i = job->idx[r];
            const int32_t *gen = batch_gen(b, i);
            int64_t pad = ((int64_t)(r - r0) * T + b->prompt_len[i] - 1 + b->gen_len[i]) * V;
            memset(w->dout + pad, 0, (size_t)(T - (b->prompt_len[i] - 1 + b->gen_len[i])) * V * sizeof(float));
            double Li = 0, cw = 0; /* loss.agg: this sequence's trained tokens, each one's weight */
            if (LO->loss_agg || LO->kl_loss_beta > 0) {
                for (int t = 0; t < b->gen_len[i]; t++) Li += b->pmask[batch_tok(b, i, t)];
                cw = est_token_weight(LO->loss_agg, job->N, job->S, Li, LO->agg_len);
            }
            for (int t = 0; t < b->gen_len[i]; t++) {
                int64_t k = batch_tok(b, i, t);
                int64_t row = ((int64_t)(r - r0) * T + b->prompt_len[i] - 1 + t) * V;
                if (!b->pmask[k]) {
                    memset(w->dout + row, 0, (size_t)V * sizeof(float));
                    continue;
                }
                log_softmax_probs_row(logits + row, V, w->ls, w->p);
                double logp = w->ls[gen[t]];
                double A = ((double)b->advantage[k] - job->adv_mean) * job->adv_scale;
                double hi = LO->clip_high > 0 ? LO->clip_high : p->clip; /* DAPO clip-higher */
                double ratio, g;
                double term = ppo_pg_term_asym(logp, (double)b->logp[k], A, p->clip, hi, &g, &ratio);
                if (!LO->loss_agg) {
                    st.pl += term;
                    g /= job->N;
                } else { /* stats stay "per token": policy_loss = sum w (-min) */
                    st.pl += term * cw * job->N;
                    g *= cw;
                }
                if (LO->kl_loss_beta > 0) { /* KL in the loss: beta * agg(k), the sample held fixed */
                    st.kll += est_kl(LO->kl_loss_est, logp, (double)b->logp_ref[k]) * cw * job->N;
                    g += LO->kl_loss_beta * cw * est_kl_dlogp(LO->kl_loss_est, logp, (double)b->logp_ref[k]);
                }
                double H = ppo_entropy_row(w->p, w->ls, V);
                st.ent += H;
                st.akl += (ratio - 1.0) - (logp - (double)b->logp[k]);
                st.clip += LO->clip_high > 0 ? (ratio < 1.0 - p->clip || ratio > 1.0 + hi) : fabs(ratio - 1.0) > p->clip;
                float *d = w->dout + row;
                softmax_grad_pg(d, w->p, w->ls, g, p->ent_coef / job->N, H, V);
                d[gen[t]] += (float)g;
            }
        }
        model_backward(job->policy, ws, w->dout, gpol);
    }

    /* target regularisation: NLL of the task's reference continuation for the same prompts */
    if (p->tgt_coef > 0 && job->Nref > 0) {
        model_ws_t *ws = ws_for(tr, w, job->policy);
        int plen[ROLLOUT_BLOCK], rlen[ROLLOUT_BLOCK], Tr = 1;
        int32_t *tmp = w->tokens; /* reuse: rows of width seq_cap first, then compacted */
        for (int r = r0; r < r1; r++) {
            int i = job->idx[r];
            int32_t *row = tmp + (int64_t)(r - r0) * tr->seq_cap;
            plen[r - r0] = task->prompt(task, b->split[i], (uint64_t)b->prompt_index[i], row);
            rlen[r - r0] = task->reference(task, b->split[i], (uint64_t)b->prompt_index[i], row + plen[r - r0]);
            for (int t = plen[r - r0] + rlen[r - r0]; t < tr->seq_cap; t++) row[t] = 0;
            if (plen[r - r0] + rlen[r - r0] > Tr) Tr = plen[r - r0] + rlen[r - r0];
        }
        for (int r = 1; r < B; r++) memmove(tmp + (int64_t)r * Tr, tmp + (int64_t)r * tr->seq_cap, (size_t)Tr * sizeof(int32_t));
        int from[ROLLOUT_BLOCK];
        for (int r = 0; r < B; r++) from[r] = plen[r] - 1;
        /* the trajectory pass just ran on the same prompts with the same parameters: its prompt rows
         * are kept (same bits) when the two passes have the same length */
        const float *logits = model_forward_reusing(job->policy, ws, tmp, B, Tr, from);
        /* rows from[r] on: the reference's rlen rows are written whole below, the padding zeroed */
        for (int r = 0; r < B; r++)
            memset(w->dout + ((size_t)r * Tr + from[r] + rlen[r]) * V, 0, (size_t)(Tr - from[r] - rlen[r]) * V * sizeof(float));
        double c = p->tgt_coef / job->Nref;
        for (int r = 0; r < B; r++) {
            const int32_t *row = tmp + (int64_t)r * Tr;
            for (int t = 0; t < rlen[r]; t++) {
                int64_t off = ((int64_t)r * Tr + plen[r] - 1 + t) * V;
                log_softmax_probs_row(logits + off, V, w->ls, w->p);
                int y = row[plen[r] + t];
                st.tgt += -w->ls[y];
                float *d = w->dout + off;
                softmax_grad_scaled(d, w->p, c, V);
                d[y] -= (float)c;
            }
        }
        model_backward(job->policy, ws, w->dout, gpol);
        /* restore the trajectory tokens for the critic */
        for (int r = r0; r < r1; r++)
            memcpy(w->tokens + (int64_t)(r - r0) * T, b->seq + (int64_t)job->idx[r] * b->seq_cap, (size_t)T * sizeof(int32_t));
    }

    /* critic: clipped value loss on vmask tokens */
    if (job->critic && job->NV > 0) {
        float *gcrit = tr->gcrit + (size_t)blk * tr->gcrit_n;
        memset(gcrit, 0, tr->gcrit_n * sizeof(float));
        model_ws_t *ws = ws_for(tr, w, job->critic);
        int from[ROLLOUT_BLOCK]; /* values only where a generated token is scored */
        for (int r = r0; r < r1; r++) from[r - r0] = b->prompt_len[job->idx[r]] - 1;
        const float *vals = model_forward_from(job->critic, ws, w->tokens, B, T, from);
        memset(w->dout, 0, (size_t)B * (size_t)T * sizeof(float));
        for (int r = r0; r < r1; r++) {
            int i = job->idx[r];
            for (int t = 0; t < b->gen_len[i]; t++) {
                int64_t k = batch_tok(b, i, t);
                if (!b->vmask[k]) continue;
                int64_t pos = (int64_t)(r - r0) * T + b->prompt_len[i] - 1 + t;
                double g;
                int vclipped;
                double loss = ppo_vf_term(vals[pos], b->value[k], b->returns[k], p->value_clip, p->vf_clip, &g, &vclipped);
                st.vclip += vclipped;
                st.vl += 0.5 * loss;
                w->dout[pos] = (float)(p->vf_coef * g / job->NV);
            }
        }
        model_backward(job->critic, ws, w->dout, gcrit);
    }
    tr->bstats[blk] = st;
}

static void ensure_capacity(ppo_trainer_t *t, int count, const model_t *policy, const model_t *critic) {
    int blk = rollout_blocks(count);
    if (blk > t->blk_cap || policy->n_params != t->gpol_n || (critic && critic->n_params != t->gcrit_n)) {
        free(t->gpol);
        free(t->gcrit);
        free(t->bstats);
        t->blk_cap = blk;
        t->gpol_n = policy->n_params;
        t->gcrit_n = critic ? critic->n_params : 0;
        t->gpol = malloc((size_t)blk * t->gpol_n * sizeof(float));
        t->gcrit = t->gcrit_n ? malloc((size_t)blk * t->gcrit_n * sizeof(float)) : NULL;
        t->bstats = calloc((size_t)blk, sizeof *t->bstats);
    }
}

void ppo_prepare_batch(ppo_trainer_t *t, const batch_t *b, const ppo_params_t *p) {
    if (b->n > t->ref_cap) {
        free(t->ref_len);
        t->ref_cap = b->n;
        t->ref_len = calloc((size_t)b->n, sizeof *t->ref_len);
    }
    /* reference lengths, for the target-loss normaliser */
    if (p->tgt_coef > 0) {
        int32_t *scratch = malloc((size_t)t->seq_cap * sizeof(int32_t));
        for (int i = 0; i < b->n; i++)
            t->ref_len[i] = t->task->reference(t->task, b->split[i], (uint64_t)b->prompt_index[i], scratch);
        free(scratch);
    }
}

double ppo_minibatch_grad(ppo_trainer_t *t, const batch_t *b, const ppo_params_t *p, model_t *policy,
                          model_t *critic, const int *idx, int count, ppo_mb_stats_t *ms) {
    ensure_capacity(t, count, policy, critic);
    mb_job_t job = {t, b, p, policy, critic, idx, count, 0, 0, 0, 0.0, 1.0, 0};
    double sa = 0, saa = 0;
    for (int q = 0; q < count; q++) {
        int i = idx[q], any = 0;
        for (int tt = 0; tt < b->gen_len[i]; tt++) {
            int64_t k = batch_tok(b, i, tt);
            if (b->pmask[k]) {
                if (!any) job.S += 1, any = 1;
                job.N += 1;
                sa += b->advantage[k];
                saa += (double)b->advantage[k] * b->advantage[k];
            }
            job.NV += b->vmask[k];
        }
        if (p->tgt_coef > 0) job.Nref += t->ref_len[i];
    }
    if (p->norm_adv) ppo_adv_norm(sa, saa, job.N, &job.adv_mean, &job.adv_scale);
    int nblk = rollout_blocks(count);
    pool_run(t->pool, nblk, mb_block, &job);

    /* reduce block gradients in block order: the bits never depend on thread count */
    optim_zero_grads(policy);
    for (int k = 0; k < nblk; k++) {
        const float *g = t->gpol + (size_t)k * t->gpol_n;
        for (size_t q = 0; q < policy->n_params; q++) policy->grads[q] += g[q];
    }
    ms->use_critic = critic && job.NV > 0;
    if (ms->use_critic) {
        optim_zero_grads(critic);
        for (int k = 0; k < nblk; k++) {
            const float *g = t->gcrit + (size_t)k * t->gcrit_n;
            for (size_t q = 0; q < critic->n_params; q++) critic->grads[q] += g[q];
        }
    }
    block_stats_t s = {0};
    for (int k = 0; k < nblk; k++) {
        s.pl += t->bstats[k].pl; s.ent += t->bstats[k].ent; s.akl += t->bstats[k].akl;
        s.clip += t->bstats[k].clip; s.vl += t->bstats[k].vl; s.vclip += t->bstats[k].vclip;
        s.tgt += t->bstats[k].tgt;
        s.kll += t->bstats[k].kll;
    }
    ms->N = job.N;
    ms->NV = job.NV;
    ms->Nref = job.Nref;
    ms->policy_loss = job.N > 0 ? s.pl / job.N : 0.0;
    ms->entropy = job.N > 0 ? s.ent / job.N : 0.0;
    ms->approx_kl = job.N > 0 ? s.akl / job.N : 0.0;
    ms->clip_frac = job.N > 0 ? s.clip / job.N : 0.0;
    ms->value_loss = job.NV > 0 ? s.vl / job.NV : 0.0;
    ms->vclip_frac = job.NV > 0 ? s.vclip / job.NV : 0.0;
    ms->target_loss = job.Nref > 0 ? s.tgt / job.Nref : 0.0;
    ms->kl_loss = job.N > 0 ? s.kll / job.N : 0.0;
    if (t->lo.kl_loss_beta > 0)
        return ms->policy_loss - p->ent_coef * ms->entropy + p->vf_coef * ms->value_loss + p->tgt_coef * ms->target_loss +
               t->lo.kl_loss_beta * ms->kl_loss;
    return ms->policy_loss - p->ent_coef * ms->entropy + p->vf_coef * ms->value_loss + p->tgt_coef * ms->target_loss;
}

void ppo_update(ppo_trainer_t *t, batch_t *b, const ppo_params_t *p, float lr, model_t *policy,
                model_t *critic, long *policy_step, long *critic_step, uint64_t seed, int iteration,
                ppo_stats_t *out) {
    memset(out, 0, sizeof *out);
    ensure_capacity(t, p->minibatch, policy, critic);
    int n = b->n;

    /* explained variance of the rollout values on value-loss tokens */
    {
        double sg = 0, sgg = 0, sd = 0, sdd = 0, c = 0;
        for (int i = 0; i < n; i++)
            for (int tt = 0; tt < b->gen_len[i]; tt++) {
                int64_t k = batch_tok(b, i, tt);
                if (!b->vmask[k]) continue;
                double G = b->returns[k], d = G - b->value[k];
                sg += G; sgg += G * G; sd += d; sdd += d * d; c++;
            }
        double vg = c > 0 ? sgg / c - (sg / c) * (sg / c) : 0, vd = c > 0 ? sdd / c - (sd / c) * (sd / c) : 0;
        out->explained_var = vg > 0 ? 1.0 - vd / vg : NAN;
    }
    ppo_prepare_batch(t, b, p);

    int *perm = malloc((size_t)n * sizeof *perm);
    adamw_t opt_pol = {lr, 0.9f, 0.999f, p->adam_eps, p->weight_decay};
    int stop = 0, steps = 0;
    for (int epoch = 0; epoch < p->epochs && !stop; epoch++) {
        for (int i = 0; i < n; i++) perm[i] = i;
        rng_t r = rng_stream(seed, RNG_SHUFFLE, (uint64_t)iteration, (uint64_t)epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = (int)rng_bounded(&r, (uint32_t)(i + 1));
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        for (int m0 = 0; m0 < n && !stop; m0 += p->minibatch) {
            int count = m0 + p->minibatch < n ? p->minibatch : n - m0;
            const int *idx = perm + m0;
            ppo_mb_stats_t ms;
            ppo_minibatch_grad(t, b, p, policy, critic, idx, count, &ms);
            int use_critic = ms.use_critic;
            model_t *models[2] = {policy, critic};
            double gn = optim_clip_grads(models, use_critic ? 2 : 1, p->grad_clip);
            if (ms.N > 0 || ms.Nref > 0) adamw_step(&opt_pol, policy, ++*policy_step);
            if (use_critic) adamw_step(&opt_pol, critic, ++*critic_step);

            double akl = ms.approx_kl;
            out->policy_loss += ms.policy_loss;
            out->entropy += ms.entropy;
            out->approx_kl += akl;
            out->clip_frac += ms.clip_frac;
            out->value_loss += ms.value_loss;
            out->vclip_frac += ms.vclip_frac;
            out->target_loss += ms.target_loss;
            out->grad_norm += gn;
            steps++;
            if (p->target_kl > 0 && akl > 1.5 * p->target_kl) stop = 1;
        }
        out->epochs_run = epoch + 1;
    }
    free(perm);
    if (steps > 0) {
        out->policy_loss /= steps; out->entropy /= steps; out->approx_kl /= steps;
        out->clip_frac /= steps; out->value_loss /= steps; out->vclip_frac /= steps;
        out->target_loss /= steps; out->grad_norm /= steps;
    }
    out->steps = steps;
}
