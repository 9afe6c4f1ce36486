/* The PPO machinery: GAE against a hand computation, the minibatch loss gradient against finite
 * differences (policy and critic, with and without clipping and target loss), and masks: tokens
 * without the policy mask receive exactly zero policy gradient. */
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
#include "../sim/nn/model.h"
#include "../sim/base/pool.h"
#include "../sim/rl/ppo.h"
#include "../sim/rl/rollout.h"

static void test_gae_known_answer(void **state) {
    (void)state;
    batch_t b;
    assert_int_equal(batch_init(&b, 1, 8, 4, 1), 0);
    b.n = 1;
    b.prompt_len[0] = 1;
    b.gen_len[0] = 3;
    b.task_reward[0] = 1.0;
    float lp[3] = {-1.0f, -0.5f, -2.0f}, lr[3] = {-1.5f, -0.5f, -1.0f}, v[3] = {0.5f, 0.25f, 0.75f};
    for (int t = 0; t < 3; t++) {
        b.logp[t] = lp[t];
        b.logp_ref[t] = lr[t];
        b.value[t] = v[t];
        b.actor[t] = ACTOR_LEARNER;
    }
    double beta = 0.1, g = 0.9, l = 0.8;
    ppo_rewards_and_gae(&b, beta, 0, g, l);
    /* by hand: kl = (0.5, 0, -1); r = (-0.05, 0, 1 + 0.1) */
    double r[3] = {-0.05, 0.0, 1.1};
    double d2 = r[2] - 0.75, d1 = r[1] + g * 0.75 - 0.25, d0 = r[0] + g * 0.25 - 0.5;
    double A2 = d2, A1 = d1 + g * l * A2, A0 = d0 + g * l * A1;
    assert_float_equal(b.reward[0], (float)r[0], 1e-7);
    assert_float_equal(b.reward[2], (float)r[2], 1e-7);
    assert_float_equal(b.advantage[2], A2, 1e-6);
    assert_float_equal(b.advantage[1], A1, 1e-6);
    assert_float_equal(b.advantage[0], A0, 1e-6);
    assert_float_equal(b.returns[0], A0 + 0.5, 1e-6);
    assert_float_equal(b.ret[0], r[0] + r[1] + r[2], 1e-6);
    /* guide tokens carry no KL unless asked */
    b.actor[0] = ACTOR_GUIDE;
    ppo_rewards_and_gae(&b, beta, 0, g, l);
    assert_float_equal(b.reward[0], 0.0f, 0);
    ppo_rewards_and_gae(&b, beta, 1, g, l);
    assert_float_equal(b.reward[0], -0.05f, 1e-7);
    batch_free(&b);
}

typedef struct {
    task_t *task;
    pool_t *pool;
    model_t *policy, *critic;
    rollout_engine_t *eng;
    ppo_trainer_t *tr;
    batch_t b;
} fixture_t;

/* A toy_match batch from a non-uniform tabular policy, scored, with GAE. */
static fixture_t *make_fixture(int n) {
    fixture_t *f = calloc(1, sizeof *f);
    err_t err;
    task_params_t tp = {"toy_match", 7, 0, 0, 0, 0.0};
    f->task = task_create(&tp, &err);
    assert_non_null(f->task);
    f->pool = pool_create(1);
    model_config_t mc = {MODEL_TABULAR, HEAD_LM, f->task->vocab, f->task->prompt_max + f->task->gen_max, 0, 0, 0};
    char eb[256];
    rng_t r = rng_stream(1, 1, 0, 0);
    f->policy = model_create(&mc, &r, eb, sizeof eb);
    mc.head = HEAD_SCALAR;
    f->critic = model_create(&mc, &r, eb, sizeof eb);
    assert_non_null(f->policy);
    assert_non_null(f->critic);
    rng_t q = rng_stream(2, 1, 0, 0);
    for (size_t i = 0; i < f->policy->n_params; i++) f->policy->params[i] = (float)(rng_double(&q) - 0.5);
    for (size_t i = 0; i < f->critic->n_params; i++) f->critic->params[i] = (float)(rng_double(&q) - 0.5);
    int seq_cap = f->task->prompt_max + f->task->gen_max;
    f->eng = rollout_engine_create(f->task, f->pool, seq_cap);
    f->tr = ppo_trainer_create(f->task, f->pool, seq_cap);
    assert_int_equal(batch_init(&f->b, n, seq_cap, f->task->gen_max, f->task->n_metrics), 0);
    f->b.n = n;
    int64_t idx[64];
    for (int i = 0; i < n; i++) idx[i] = i;
    actor_t a = {f->policy, {1.0, 0, 1.0}, 0.0, 0};
    const actor_t *actors[2] = {&a, NULL};
    rollout_plan_t plan = {-1, ACTOR_LEARNER, 0};
    uint32_t purpose[2] = {RNG_ROLLOUT, RNG_GUIDE};
    rollout_generate(f->eng, &plan, actors, &f->b, SPLIT_TRAIN, idx, 3, purpose, 0);
    rollout_score(f->eng, &f->b, f->policy, f->policy, f->critic);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < f->b.gen_len[i]; t++) f->b.pmask[batch_tok(&f->b, i, t)] = f->b.vmask[batch_tok(&f->b, i, t)] = 1;
    ppo_rewards_and_gae(&f->b, 0.0, 0, 1.0, 0.95);
    return f;
}

static void free_fixture(fixture_t *f) {
    batch_free(&f->b);
    ppo_trainer_destroy(f->tr);
    rollout_engine_destroy(f->eng);
    model_destroy(f->policy);
    model_destroy(f->critic);
    pool_destroy(f->pool);
    task_destroy(f->task);
    free(f);
}

/* Central differences of the minibatch loss w.r.t. every parameter the batch touches. */
static void fd_check(fixture_t *f, const ppo_params_t *p, model_t *m, int *checked) {
    int idx[64];
    for (int i = 0; i < f->b.n; i++) idx[i] = i;
    ppo_mb_stats_t ms;
    ppo_prepare_batch(f->tr, &f->b, p);
    ppo_minibatch_grad(f->tr, &f->b, p, f->policy, f->critic, idx, f->b.n, &ms);
    float *g = malloc(m->n_params * sizeof *g);
    memcpy(g, m->grads, m->n_params * sizeof *g);
    double max_rel = 0;
    for (size_t i = 0; i < m->n_params; i++) {
        float orig = m->params[i];
        const float h = 1e-2f;
        m->params[i] = orig + h;
        double lp = ppo_minibatch_grad(f->tr, &f->b, p, f->policy, f->critic, idx, f->b.n, &ms);
        m->params[i] = orig - h;
        double lm = ppo_minibatch_grad(f->tr, &f->b, p, f->policy, f->critic, idx, f->b.n, &ms);
        m->params[i] = orig;
        double fd = (lp - lm) / (2.0 * (double)h);
        if (fabs(fd) < 1e-7 && g[i] == 0.0f) continue;
        double rel = fabs(fd - g[i]) / fmax(1e-3, fabs(fd) + fabs(g[i]));
        if (rel > max_rel) max_rel = rel;
        if (rel > 2e-2) fail_msg("param %zu: analytic %g vs finite difference %g", i, (double)g[i], fd);
        (*checked)++;
    }
    free(g);
}

static ppo_params_t base_params(void) {
    ppo_params_t p = {1.0, 0.95, 0.2, 0.2, 1, 0.5, 0.0, 0.0, 0, 0.0, 1, 16, 0.0, 0.0f, 1e-5f};
    return p;
}

static void test_policy_and_value_gradients(void **state) {
    (void)state;
    fixture_t *f = make_fixture(12);
    ppo_params_t p = base_params();
    int checked = 0;
    fd_check(f, &p, f->policy, &checked);
    fd_check(f, &p, f->critic, &checked);
    /* entropy bonus, target NLL and advantage normalisation */
    p.ent_coef = 0.3;
    p.tgt_coef = 0.5;
    p.norm_adv = 1;
    fd_check(f, &p, f->policy, &checked);
    /* away from the old policy (ratios != 1, some clipped) */
    p = base_params();
    for (size_t i = 0; i < f->policy->n_params; i++) f->policy->params[i] *= 1.05f;
    for (size_t i = 0; i < f->critic->n_params; i++) f->critic->params[i] += 0.05f;
    fd_check(f, &p, f->policy, &checked);
    fd_check(f, &p, f->critic, &checked);
    printf("finite-difference checks of the PPO loss: %d parameters agree\n", checked);
    assert_true(checked > 50);
    free_fixture(f);
}

static void test_masked_tokens_get_no_gradient(void **state) {
    (void)state;
    fixture_t *f = make_fixture(4);
    ppo_params_t p = base_params();
    /* mask out every token of trajectory 0 but keep the rest */
    for (int t = 0; t < f->b.gen_cap; t++) f->b.pmask[batch_tok(&f->b, 0, t)] = 0;
    int idx[4] = {0, 1, 2, 3};
    ppo_mb_stats_t ms;
    ppo_prepare_batch(f->tr, &f->b, &p);
    ppo_minibatch_grad(f->tr, &f->b, &p, f->policy, f->critic, idx, 4, &ms);
    float *g_all = malloc(f->policy->n_params * sizeof(float));
    memcpy(g_all, f->policy->grads, f->policy->n_params * sizeof(float));
    /* the same loss without trajectory 0 at all: identical gradients up to the normaliser N */
    double N_all = ms.N;
    ppo_minibatch_grad(f->tr, &f->b, &p, f->policy, f->critic, idx + 1, 3, &ms);
    assert_true(ms.N == N_all);
    for (size_t i = 0; i < f->policy->n_params; i++) assert_float_equal(g_all[i], f->policy->grads[i], 1e-7);
    /* no policy-mask tokens at all: exactly zero policy gradient */
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < f->b.gen_cap; t++) f->b.pmask[batch_tok(&f->b, i, t)] = 0;
    ppo_minibatch_grad(f->tr, &f->b, &p, f->policy, f->critic, idx, 4, &ms);
    for (size_t i = 0; i < f->policy->n_params; i++) assert_true(f->policy->grads[i] == 0.0f);
    assert_true(ms.NV > 0);
    free(g_all);
    free_fixture(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gae_known_answer),
        cmocka_unit_test(test_policy_and_value_gradients),
        cmocka_unit_test(test_masked_tokens_get_no_gradient),
    };
    return cmocka_run_group_tests_name("ppo", tests, NULL, NULL);
}
