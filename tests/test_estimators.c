/* The critic-free estimators, KL estimators and loss aggregation of sim/estimators.h against
 * worked numbers (written below with the arithmetic that gives them), and their identities:
 * RLOO = K/(K-1) x GRPO(scale=none); one epoch, one minibatch of the PPO machinery with a
 * critic-free estimator = the plain policy-gradient (REINFORCE) step; finite-difference checks of
 * the new loss terms (aggregations, KL in the loss, clip-higher). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../envs/task.h"
#include "../sim/rl/batch.h"
#include "../sim/rl/estimators.h"
#include "../sim/nn/model.h"
#include "../sim/nn/optim.h"
#include "../sim/base/pool.h"
#include "../sim/rl/ppo.h"
#include "../sim/rl/rollout.h"
#include "../sim/nn/sample.h"

#define LOG3 1.0986122886681098

/* n trajectories with sequence rewards R[i] (in ret) and lengths len[i] */
static void seq_batch(batch_t *b, int n, const double *R, const int *len) {
    assert_int_equal(batch_init(b, n, 8, 4, 1), 0);
    b->n = n;
    for (int i = 0; i < n; i++) {
        b->ret[i] = R[i];
        b->prompt_len[i] = 1;
        b->gen_len[i] = len[i];
    }
}

static void expect_adv(const batch_t *b, const double *A, const double *base, double tol) {
    for (int i = 0; i < b->n; i++) {
        for (int t = 0; t < b->gen_cap; t++) {
            double want = t < b->gen_len[i] ? A[i] : 0.0; /* broadcast to the sequence, 0 beyond */
            if (fabs(b->advantage[batch_tok(b, i, t)] - want) > tol || b->returns[batch_tok(b, i, t)] != b->advantage[batch_tok(b, i, t)])
                fail_msg("trajectory %d token %d: advantage %.9g, expected %.9g", i, t,
                         (double)b->advantage[batch_tok(b, i, t)], want);
        }
        if (base && fabs(b->baseline[i] - base[i]) > 1e-12)
            fail_msg("trajectory %d: baseline %.12g, expected %.12g", i, b->baseline[i], base[i]);
    }
}

/* Two groups of K = 3 with unequal lengths: R = (1, 0, .5 | .2, .2, .2), the second group all equal. */
static void test_advantages_worked(void **state) {
    (void)state;
    const double R[6] = {1.0, 0.0, 0.5, 0.2, 0.2, 0.2};
    const int len[6] = {4, 2, 3, 4, 1, 4};
    batch_t b;
    seq_batch(&b, 6, R, len);
    /* grpo, scale=group: group 0 mean .5, unbiased std sqrt((.25 + .25 + 0)/2) = .5,
     * A = +-.5/(.5 + 1e-4) = +-0.99980004; the all-equal group: exactly 0 */
    est_advantages(&b, EST_GRPO, 3, SCALE_GROUP, 0, NULL);
    double A1[6] = {0.9998000399920016, -0.9998000399920016, 0, 0, 0, 0}, B1[6] = {.5, .5, .5, .2, .2, .2};
    expect_adv(&b, A1, B1, 1e-7);
    for (int t = 0; t < 4; t++) assert_true(b.advantage[batch_tok(&b, 3, t)] == 0.0f);
    /* scale=batch: std of all six R = 0.35637059 (mean .35), A = (R - group mean)/(.35637059 + 1e-4) */
    est_advantages(&b, EST_GRPO, 3, SCALE_BATCH, 0, NULL);
    double A2[6] = {1.4026402428224964, -1.4026402428224964, 0, 0, 0, 0};
    expect_adv(&b, A2, B1, 1e-6);
    /* scale=none (Dr. GRPO): R - group mean */
    est_advantages(&b, EST_GRPO, 3, SCALE_NONE, 0, NULL);
    double A3[6] = {.5, -.5, 0, 0, 0, 0};
    expect_adv(&b, A3, B1, 1e-7);
    /* rloo: baselines (0 + .5)/2 = .25, (1 + .5)/2 = .75, (1 + 0)/2 = .5; equal group: 0 */
    est_advantages(&b, EST_RLOO, 3, 0, 0, NULL);
    double A4[6] = {.75, -.75, 0, 0, 0, 0}, B4[6] = {.25, .75, .5, .2, .2, .2};
    expect_adv(&b, A4, B4, 1e-7);
    /* reinforce: batch mean 2.1/6 = .35; none: the reward itself */
    est_advantages(&b, EST_REINFORCE, 3, 0, BASELINE_MEAN, NULL);
    double A5[6] = {.65, -.35, .15, -.15, -.15, -.15}, B5[6] = {.35, .35, .35, .35, .35, .35};
    expect_adv(&b, A5, B5, 1e-7);
    est_advantages(&b, EST_REINFORCE, 3, 0, BASELINE_NONE, NULL);
    double B6[6] = {0};
    expect_adv(&b, R, B6, 1e-7);
    /* remax: greedy rewards .4 (group 0) and .3 (group 1) */
    double G[2] = {.4, .3};
    est_advantages(&b, EST_REMAX, 3, 0, 0, G);
    double A7[6] = {.6, -.4, .1, -.1, -.1, -.1}, B7[6] = {.4, .4, .4, .3, .3, .3};
    expect_adv(&b, A7, B7, 1e-7);
    batch_free(&b);
    /* K = 1: every trajectory is its own group; GRPO's group baseline is the reward itself (A = 0),
     * ReMax and REINFORCE still learn */
    seq_batch(&b, 3, R, len);
    est_advantages(&b, EST_GRPO, 1, SCALE_GROUP, 0, NULL);
    double Z[3] = {0, 0, 0};
    expect_adv(&b, Z, R, 0);
    est_advantages(&b, EST_REINFORCE, 1, 0, BASELINE_MEAN, NULL);
    double A8[3] = {.5, -.5, 0};
    expect_adv(&b, A8, NULL, 1e-7);
    batch_free(&b);
}

static void test_kl_estimators_worked(void **state) {
    (void)state;
    /* logp = -1, logp_ref = -1.5: log rho = -.5 */
    assert_float_equal(est_kl(KL_K1, -1, -1.5), 0.5, 1e-15);
    assert_float_equal(est_kl(KL_K2, -1, -1.5), 0.125, 1e-15);
    assert_float_equal(est_kl(KL_K3, -1, -1.5), 0.10653065971263342, 1e-15); /* e^-.5 - 1 + .5 */
    assert_float_equal(est_kl_dlogp(KL_K1, -1, -1.5), 1.0, 0);
    assert_float_equal(est_kl_dlogp(KL_K2, -1, -1.5), 0.5, 1e-15);
    assert_float_equal(est_kl_dlogp(KL_K3, -1, -1.5), 0.3934693402873666, 1e-15); /* 1 - e^-.5 */
    /* logp = -2, logp_ref = -1: log rho = 1; k1 < 0 for one sample, k2 and k3 never */
    assert_float_equal(est_kl(KL_K1, -2, -1), -1.0, 0);
    assert_float_equal(est_kl(KL_K2, -2, -1), 0.5, 1e-15);
    assert_float_equal(est_kl(KL_K3, -2, -1), 0.7182818284590451, 1e-15); /* e - 2 */
    assert_float_equal(est_kl_dlogp(KL_K3, -2, -1), -1.718281828459045, 1e-15);
    assert_true(est_kl(KL_K3, -1, -1) == 0.0 && est_kl(KL_K2, -1, -1) == 0.0);

    /* KL in the reward: three tokens written by learner, guide, learner; task reward 1, beta .1;
     * R = 1 - .1 (k(t0) + k(t2)) (guide tokens carry no KL):
     *   k1: 1 - .1 (.5 - .25) = .975;  k2: 1 - .1 (.125 + .03125) = .984375;
     *   k3: 1 - .1 ((e^-.5 - .5) + (e^.25 - 1.25)) = .98594439 */
    batch_t b;
    assert_int_equal(batch_init(&b, 1, 8, 4, 1), 0);
    b.n = 1;
    b.prompt_len[0] = 1;
    b.gen_len[0] = 3;
    b.task_reward[0] = 1.0;
    float lp[3] = {-1, -2, -0.5f}, lr[3] = {-1.5f, -1, -0.25f};
    uint8_t who[3] = {ACTOR_LEARNER, ACTOR_GUIDE, ACTOR_LEARNER};
    for (int t = 0; t < 3; t++) b.logp[t] = lp[t], b.logp_ref[t] = lr[t], b.actor[t] = who[t], b.value[t] = 7;
    const double want[3] = {0.975, 0.984375, 0.9859443923599625};
    for (int e = 0; e < 3; e++) {
        est_sequence_rewards(&b, 0.1, 0, e);
        assert_float_equal(b.ret[0], want[e], 1e-7);
        assert_true(b.reward[1] == 0.0f && b.value[0] == 0.0f);
    }
    /* k1 in the reward through est_rewards_and_gae gives ppo_rewards_and_gae's bits */
    batch_t c;
    assert_int_equal(batch_init(&c, 1, 8, 4, 1), 0);
    c.n = 1;
    c.prompt_len[0] = 1;
    c.gen_len[0] = 3;
    c.task_reward[0] = 1.0;
    for (int t = 0; t < 3; t++) c.logp[t] = lp[t], c.logp_ref[t] = lr[t], c.actor[t] = who[t], c.value[t] = 0.1f * (float)t;
    for (int t = 0; t < 3; t++) b.value[t] = c.value[t];
    ppo_rewards_and_gae(&c, 0.1, 0, 0.9, 0.8);
    est_rewards_and_gae(&b, 0.1, 0, KL_K1, 0.9, 0.8);
    assert_memory_equal(b.reward, c.reward, 3 * sizeof(float));
    assert_memory_equal(b.advantage, c.advantage, 3 * sizeof(float));
    assert_memory_equal(b.returns, c.returns, 3 * sizeof(float));
    assert_true(b.ret[0] == c.ret[0]);
    batch_free(&b);
    batch_free(&c);
}

typedef struct {
    task_t *task;
    pool_t *pool;
    model_t *policy;
    rollout_engine_t *eng;
    ppo_trainer_t *tr;
    batch_t b;
} fx_t;

static fx_t *fx_create(void) {
    fx_t *f = calloc(1, sizeof *f);
    err_t err;
    task_params_t tp = {"toy_match", 7, 0, 0, 0, 0.0};
    f->task = task_create(&tp, &err);
    assert_non_null(f->task);
    f->pool = pool_create(1);
    model_config_t mc = {MODEL_TABULAR, HEAD_LM, f->task->vocab, f->task->prompt_max + f->task->gen_max, 0, 0, 0};
    char eb[256];
    rng_t r = rng_stream(1, 1, 0, 0);
    f->policy = model_create(&mc, &r, eb, sizeof eb); /* tables start at zero: the uniform policy */
    assert_non_null(f->policy);
    int seq_cap = f->task->prompt_max + f->task->gen_max;
    f->eng = rollout_engine_create(f->task, f->pool, seq_cap);
    f->tr = ppo_trainer_create(f->task, f->pool, seq_cap);
    return f;
}

static void fx_free(fx_t *f) {
    batch_free(&f->b);
    ppo_trainer_destroy(f->tr);
    rollout_engine_destroy(f->eng);
    model_destroy(f->policy);
    pool_destroy(f->pool);
    task_destroy(f->task);
    free(f);
}

static ppo_params_t params(int minibatch) {
    ppo_params_t p = {1.0, 0.95, 0.2, 0.2, 1, 0.5, 0.0, 0.0, 0, 0.0, 1, minibatch, 0.0, 0.0f, 1e-5f};
    return p;
}

/* Loss values of the aggregation modes and of KL in the loss, at the uniform policy (every
 * log-probability -log 3, ratio 1): trajectory 0 has 4 tokens, the third masked, A = .5; trajectory
 * 1 has 2 tokens, A = -1 (N = 5 trained tokens, S = 2 sequences, L = 3 and 2, H = 4). */
static void test_loss_aggregation_worked(void **state) {
    (void)state;
    fx_t *f = fx_create();
    batch_t *b = &f->b;
    assert_int_equal(batch_init(b, 2, 5, 4, 2), 0);
    b->n = 2;
    const int len[2] = {4, 2};
    const uint8_t pm[2][4] = {{1, 1, 0, 1}, {1, 1, 0, 0}};
    const double A[2] = {0.5, -1.0};
    const double lrho[2][4] = {{0.2, -0.1, 5.0, 0.3}, {0.0, -0.5, 0, 0}}; /* logp_ref - logp */
    for (int i = 0; i < 2; i++) {
        b->prompt_len[i] = 1;
        b->gen_len[i] = len[i];
        b->seq[i * 5] = i;
        for (int t = 0; t < len[i]; t++) {
            int64_t k = batch_tok(b, i, t);
            b->seq[i * 5 + 1 + t] = (i + t) % 3;
            b->pmask[k] = pm[i][t];
            b->actor[k] = ACTOR_LEARNER;
            b->logp[k] = (float)-LOG3;
            b->logp_ref[k] = (float)(-LOG3 + lrho[i][t]);
            b->advantage[k] = (float)A[i];
        }
    }
    int idx[2] = {0, 1};
    ppo_params_t p = params(2);
    ppo_mb_stats_t ms;
    /* token_mean: -(3 x .5 - 2)/5 = .1; seq_mean_token_mean: -(.5 - 1)/2 = .25;
     * seq_mean_token_sum_norm: -(1.5 - 2)/(2 x 4) = .0625 */
    const double pg[3] = {0.1, 0.25, 0.0625};
    for (int agg = 0; agg < 3; agg++) {
        ppo_loss_opts_t lo = {agg, 4, 0, 0, 0};
        ppo_set_loss_opts(f->tr, &lo);
        double L = ppo_minibatch_grad(f->tr, b, &p, f->policy, NULL, idx, 2, &ms);
        if (fabs(L - pg[agg]) > 1e-6) fail_msg("loss.agg %d: loss %.9g, expected %.9g", agg, L, pg[agg]);
        assert_float_equal(ms.N, 5, 0);
    }
    /* KL in the loss, beta = .1, advantages 0: L = .1 agg(k) over the trained tokens
     * (the masked token's log rho of 5 never counts). k per token, log rho = (.2, -.1, .3 | 0, -.5):
     *   k1 = -log rho: sums -.4 | .5;  k2: .07 | .125;  k3 = e^lr - 1 - lr: .07609898 | .10653066
     * token_mean .1 (S0 + S1)/5, seq_mean_token_mean .1 (S0/3 + S1/2)/2, sum_norm .1 (S0 + S1)/8 */
    for (int i = 0; i < 2; i++)
        for (int t = 0; t < len[i]; t++) b->advantage[batch_tok(b, i, t)] = 0;
    const double want[3][3] = {{0.0019999999999999996, 0.005833333333333334, 0.0012499999999999998},
                               {0.0039000000000000007, 0.004291666666666667, 0.0024375000000000004},
                               {0.003652592869695319, 0.003931582889018044, 0.0022828705435595743}};
    for (int e = 0; e < 3; e++)
        for (int agg = 0; agg < 3; agg++) {
            ppo_loss_opts_t lo = {agg, 4, 0, e, 0.1};
            ppo_set_loss_opts(f->tr, &lo);
            double L = ppo_minibatch_grad(f->tr, b, &p, f->policy, NULL, idx, 2, &ms);
            if (fabs(L - want[e][agg]) > 1e-8)
                fail_msg("k%d in the loss, loss.agg %d: loss %.12g, expected %.12g", e + 1, agg, L, want[e][agg]);
            assert_float_equal(ms.kl_loss * 0.1, want[e][agg], 1e-8);
        }
    fx_free(f);
}

/* A sampled toy_match batch of n = 12 (4 prompts x K = 3) from a non-uniform policy, rewards
 * KL-free, advantages of `est`. */
static fx_t *sampled(int est, int scale) {
    fx_t *f = fx_create();
    rng_t q = rng_stream(2, 1, 0, 0);
    for (size_t i = 0; i < f->policy->n_params; i++) f->policy->params[i] = (float)(rng_double(&q) - 0.5);
    int n = 12, K = 3;
    assert_int_equal(batch_init(&f->b, n, 5, 4, 2), 0);
    f->b.n = n;
    f->b.group_size = K;
    int64_t idx[12];
    for (int i = 0; i < n; i++) idx[i] = i / K;
    actor_t a = {f->policy, {1.0, 0, 1.0}, 0.0, 0};
    const actor_t *actors[2] = {&a, NULL};
    rollout_plan_t plan = {-1, ACTOR_LEARNER, 0};
    uint32_t purpose[2] = {RNG_ROLLOUT, RNG_GUIDE};
    rollout_generate(f->eng, &plan, actors, &f->b, SPLIT_TRAIN, idx, 3, purpose, 0);
    rollout_score(f->eng, &f->b, f->policy, f->policy, NULL);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < f->b.gen_len[i]; t++) f->b.pmask[batch_tok(&f->b, i, t)] = 1;
    est_sequence_rewards(&f->b, 0.0, 0, KL_K1);
    est_advantages(&f->b, est, K, scale, 0, NULL);
    return f;
}

static void test_rloo_is_scaled_dr_grpo(void **state) {
    (void)state;
    fx_t *g = sampled(EST_GRPO, SCALE_NONE), *r = sampled(EST_RLOO, 0);
    int nonzero = 0;
    for (int i = 0; i < g->b.n; i++)
        for (int t = 0; t < g->b.gen_len[i]; t++) {
            int64_t k = batch_tok(&g->b, i, t);
            double want = 3.0 / 2.0 * (double)g->b.advantage[k];
            assert_float_equal(r->b.advantage[k], want, 1e-6 * fmax(1.0, fabs(want)));
            nonzero += r->b.advantage[k] != 0.0f;
        }
    printf("RLOO advantages = K/(K-1) x GRPO(scale=none) on %d tokens (%d nonzero)\n", 12 * 4, nonzero);
    assert_true(nonzero > 10);
    fx_free(g);
    fx_free(r);
}

/* J(theta) = (1/N) sum_i sum_t A_i log pi_theta(a_t | s_t): the plain policy-gradient surrogate */
static double pg_surrogate(fx_t *f) {
    const batch_t *b = &f->b;
    double J = 0, N = 0;
    for (int i = 0; i < b->n; i++) {
        int T = b->prompt_len[i] + b->gen_len[i];
        model_ws_t *ws = model_ws_create(f->policy, 1, T);
        const float *out = model_forward(f->policy, ws, b->seq + (int64_t)i * b->seq_cap, 1, T);
        double ls[8];
        for (int t = 0; t < b->gen_len[i]; t++) {
            log_softmax_row(out + (int64_t)(b->prompt_len[i] - 1 + t) * 3, 3, ls);
            J += (double)b->advantage[batch_tok(b, i, t)] * ls[batch_gen(b, i)[t]];
            N += 1;
        }
        model_ws_destroy(ws);
    }
    return J / N;
}

/* One epoch, one minibatch of the PPO machinery with RLOO advantages: the gradient is minus the
 * gradient of the plain policy-gradient surrogate (finite differences of J), and the update is
 * AdamW's first step on it: -lr g / (|g| + eps) per parameter (no clipping, no decay). */
static void test_one_epoch_is_policy_gradient(void **state) {
    (void)state;
    fx_t *f = sampled(EST_RLOO, 0);
    ppo_params_t p = params(f->b.n);
    int idx[12];
    for (int i = 0; i < 12; i++) idx[i] = i;
    ppo_mb_stats_t ms;
    ppo_minibatch_grad(f->tr, &f->b, &p, f->policy, NULL, idx, 12, &ms);
    size_t np = f->policy->n_params;
    float *g = malloc(np * sizeof *g), *before = malloc(np * sizeof *before);
    memcpy(g, f->policy->grads, np * sizeof *g);
    memcpy(before, f->policy->params, np * sizeof *before);
    int checked = 0;
    double *gfd = calloc(np, sizeof *gfd);
    for (size_t i = 0; i < np; i++) {
        if (g[i] == 0.0f) continue;
        float o = f->policy->params[i];
        f->policy->params[i] = o + 1e-2f;
        double jp = pg_surrogate(f);
        f->policy->params[i] = o - 1e-2f;
        double jm = pg_surrogate(f);
        f->policy->params[i] = o;
        gfd[i] = -(jp - jm) / 2e-2;
        if (fabs(gfd[i] - g[i]) > 1e-4 * fmax(1.0, fabs(gfd[i])))
            fail_msg("param %zu: PPO machinery %g, policy gradient %g", i, (double)g[i], gfd[i]);
        checked++;
    }
    long ps = 0, cs = 0;
    ppo_stats_t st;
    float lr = 0.01f;
    ppo_update(f->tr, &f->b, &p, lr, f->policy, NULL, &ps, &cs, 1, 0, &st);
    assert_int_equal(st.steps, 1);
    for (size_t i = 0; i < np; i++) {
        double want = -(double)lr * gfd[i] / (fabs(gfd[i]) + 1e-5);
        double got = (double)f->policy->params[i] - (double)before[i];
        if (fabs(got - want) > 1e-3 * lr) fail_msg("param %zu: step %g, AdamW step of the policy gradient %g", i, got, want);
    }
    printf("one epoch, one minibatch, RLOO advantages: %d gradient entries = the policy gradient, the update = "
           "its AdamW step\n", checked);
    assert_true(checked > 20);
    free(g), free(before), free(gfd);
    fx_free(f);
}

/* Central differences of the loss with every new knob on, away from the old policy (ratios != 1,
 * some clipped, some above 1 + clip but below 1 + clip_high). */
static void test_new_loss_terms_gradients(void **state) {
    (void)state;
    fx_t *f = sampled(EST_GRPO, SCALE_GROUP);
    for (size_t i = 0; i < f->policy->n_params; i++) f->policy->params[i] *= 1.3f;
    for (int i = 0; i < f->b.n; i++)
        for (int t = 0; t < f->b.gen_len[i]; t++) f->b.logp_ref[batch_tok(&f->b, i, t)] -= 0.1f * (float)((i + t) % 5);
    f->b.pmask[batch_tok(&f->b, 2, 1)] = 0;
    int idx[12], checked = 0;
    for (int i = 0; i < 12; i++) idx[i] = i;
    ppo_params_t p = params(12);
    for (int e = 0; e < 3; e++)
        for (int agg = 0; agg < 3; agg++) {
            ppo_loss_opts_t lo = {agg, 4, 0.28, e, 0.3};
            ppo_set_loss_opts(f->tr, &lo);
            ppo_mb_stats_t ms;
            ppo_minibatch_grad(f->tr, &f->b, &p, f->policy, NULL, idx, 12, &ms);
            size_t np = f->policy->n_params;
            float *g = malloc(np * sizeof *g);
            memcpy(g, f->policy->grads, np * sizeof *g);
            for (size_t i = 0; i < np; i++) {
                float o = f->policy->params[i];
                f->policy->params[i] = o + 1e-3f;
                double lp = ppo_minibatch_grad(f->tr, &f->b, &p, f->policy, NULL, idx, 12, &ms);
                f->policy->params[i] = o - 1e-3f;
                double lm = ppo_minibatch_grad(f->tr, &f->b, &p, f->policy, NULL, idx, 12, &ms);
                f->policy->params[i] = o;
                double fd = (lp - lm) / 2e-3;
                if (fabs(fd) < 1e-7 && g[i] == 0.0f) continue;
                double rel = fabs(fd - g[i]) / fmax(1e-3, fabs(fd) + fabs(g[i]));
                if (rel > 2e-2) fail_msg("k%d agg %d param %zu: analytic %g vs finite difference %g", e + 1, agg, i, (double)g[i], fd);
                checked++;
            }
            free(g);
        }
    printf("finite-difference checks of loss.agg x kl.estimator (KL in the loss) x clip_high: %d agree\n", checked);
    assert_true(checked > 100);
    fx_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_advantages_worked),
        cmocka_unit_test(test_kl_estimators_worked),
        cmocka_unit_test(test_loss_aggregation_worked),
        cmocka_unit_test(test_rloo_is_scaled_dr_grpo),
        cmocka_unit_test(test_one_epoch_is_policy_gradient),
        cmocka_unit_test(test_new_loss_terms_gradients),
    };
    return cmocka_run_group_tests_name("estimators", tests, NULL, NULL);
}
