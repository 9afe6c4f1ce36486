/* The guided algorithms (spec/algorithms.md): bit-for-bit equivalences with PPO/PPO++, the masks
 * of PPO++ and AggreVaTeD on hand-made batches, the combination lock (PPO++ with a perfect guide
 * opens it where PPO does not; AggreVaTeD reaches the guide's reward on its own roll-ins), and the
 * oracle guide's quality knob on IMDB-sim. */
#include <hdf5.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../algos/algo.h"
#include "../envs/task.h"
#include "../sim/rl/batch.h"
#include "../sim/base/config.h"
#include "../sim/store/h5log.h"
#include "../sim/nn/model.h"
#include "../sim/base/pool.h"
#include "../sim/rl/ppo.h"
#include "../sim/run/train.h"

#define CACHE "/tmp/rlgf_test_cache"

/* Trains `file` with overrides (NULL-terminated key, value pairs) into a temp run log; returns the
 * final policy and writes the log path into out. */
static model_t *run(const char *file, const char *const *ov, char out[64]) {
    config_t cfg;
    err_t err;
    strcpy(out, "/tmp/rlgf_guided_XXXXXX");
    int fd = mkstemp(out);
    close(fd);
    cfg_defaults(&cfg);
    if (cfg_load_file(&cfg, file, &err)) fail_msg("%s", err.msg);
    if (cfg_set(&cfg, "out", out, "test", &err) || cfg_set(&cfg, "cache_dir", CACHE, "test", &err) ||
        cfg_set(&cfg, "save_policy", "false", "test", &err))
        fail_msg("%s", err.msg);
    for (int i = 0; ov[i]; i += 2)
        if (cfg_set(&cfg, ov[i], ov[i + 1], "test", &err)) fail_msg("%s", err.msg);
    if (cfg_validate(&cfg, &err)) fail_msg("%s", err.msg);
    model_t *policy = NULL;
    train_opts_t opts = {1, 0, 0, &policy, NULL, 1}; /* force: out is a mkstemp file of ours */
    if (train_run(&cfg, &opts, &err)) fail_msg("%s", err.msg);
    return policy;
}

typedef struct {
    hid_t other;
    const char *group;
    const char *const *skip;
    int compared, differ;
    char first_diff[256];
} cmp_ctx_t;

/* Compares dataset `name` of group ctx->group in both files byte for byte. */
static herr_t cmp_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    cmp_ctx_t *c = data;
    char path[256];
    snprintf(path, sizeof path, "%s/%s", c->group, name);
    for (int i = 0; c->skip && c->skip[i]; i++)
        if (!strcmp(c->skip[i], path)) return 0;
    hid_t a = H5Dopen2(g, name, H5P_DEFAULT), b = H5Dopen2(c->other, path, H5P_DEFAULT);
    int same = 0;
    if (a >= 0 && b >= 0) {
        hid_t ta = H5Dget_type(a), sa = H5Dget_space(a), sb = H5Dget_space(b);
        hssize_t na = H5Sget_simple_extent_npoints(sa), nb = H5Sget_simple_extent_npoints(sb);
        size_t es = H5Tget_size(ta);
        if (na == nb) {
            char *ba = malloc((size_t)na * es + 1), *bb = malloc((size_t)nb * es + 1);
            hid_t mt = H5Tget_native_type(ta, H5T_DIR_DEFAULT);
            H5Dread(a, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, ba);
            H5Dread(b, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, bb);
            same = memcmp(ba, bb, (size_t)na * es) == 0;
            H5Tclose(mt);
            free(ba);
            free(bb);
        }
        H5Tclose(ta);
        H5Sclose(sa);
        H5Sclose(sb);
    }
    if (a >= 0) H5Dclose(a);
    if (b >= 0) H5Dclose(b);
    c->compared++;
    if (!same && !c->differ++) snprintf(c->first_diff, sizeof c->first_diff, "%s", path);
    return 0;
}

/* Every dataset of iterations/, trajectories/ and eval/ equal, bit for bit (except `skip`), and
 * the final policies equal. */
static void assert_same_run(const char *pa, const char *pb, const model_t *ma, const model_t *mb,
                            const char *const *skip, const char *what) {
    hid_t fa = H5Fopen(pa, H5F_ACC_RDONLY, H5P_DEFAULT), fb = H5Fopen(pb, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(fa >= 0 && fb >= 0);
    const char *groups[] = {"iterations", "trajectories", "eval"};
    int compared = 0;
    for (int i = 0; i < 3; i++) {
        cmp_ctx_t c = {fb, groups[i], skip, 0, 0, ""};
        hid_t g = H5Gopen2(fa, groups[i], H5P_DEFAULT);
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, cmp_cb, &c);
        H5Gclose(g);
        if (c.differ) fail_msg("%s: %d datasets differ, first %s", what, c.differ, c.first_diff);
        compared += c.compared;
    }
    H5Fclose(fa);
    H5Fclose(fb);
    assert_int_equal(ma->n_params, mb->n_params);
    assert_memory_equal(ma->params, mb->params, ma->n_params * sizeof(float));
    printf("%s: %d datasets and %zu final parameters identical\n", what, compared, ma->n_params);
    assert_true(compared > 40);
}

static void test_equivalences(void **state) {
    (void)state;
    const char *cfgf = "configs/imdb_small.ini";
    char pa[64], pb[64], pc[64], pd[64], pe[64];
    model_t *ppo = run(cfgf, (const char *const[]){"algo", "ppo", NULL}, pa);
    model_t *pp0 = run(cfgf, (const char *const[]){"algo", "ppopp", "beta", "0", NULL}, pb);
    const char *skip_mode[] = {"iterations/mode", NULL};
    assert_same_run(pa, pb, ppo, pp0, skip_mode, "PPO++ with beta=0 vs PPO");

    model_t *pp8 = run(cfgf, (const char *const[]){"algo", "ppopp", "beta", "0.8", NULL}, pc);
    model_t *lols = run(cfgf, (const char *const[]){"algo", "lols", "beta", "0.8", "tau", "1", NULL}, pd);
    assert_same_run(pc, pd, pp8, lols, NULL, "LOLS with tau=1 vs PPO++ (beta .8)");
    model_t *d2 = run(cfgf, (const char *const[]){"algo", "d2lols", "beta", "0.8", "tau", "0", NULL}, pe);
    assert_same_run(pc, pe, pp8, d2, NULL, "D2LOLS with tau=0 vs PPO++ (beta .8)");
    /* and the guided runs really used the guide: PPO++ (beta .8) is not PPO */
    assert_true(memcmp(ppo->params, pp8->params, ppo->n_params * sizeof(float)) != 0);
    model_destroy(ppo); model_destroy(pp0); model_destroy(pp8); model_destroy(lols); model_destroy(d2);
    unlink(pa); unlink(pb); unlink(pc); unlink(pd); unlink(pe);
}

/* A batch of 2 trajectories of 5 tokens with hand-set actors, log-probs, advantages and returns,
 * scored by a tabular policy and critic. */
typedef struct {
    task_t *task;
    pool_t *pool;
    model_t *policy, *critic;
    ppo_trainer_t *tr;
    batch_t b;
} mb_t;

static mb_t *make_batch(const uint8_t actors[2][6]) {
    mb_t *m = calloc(1, sizeof *m);
    err_t err;
    task_params_t tp = {"toy_lock", 3, 0, 0, 0, 0.0};
    m->task = task_create(&tp, &err);
    m->pool = pool_create(1);
    model_config_t mc = {MODEL_TABULAR, HEAD_LM, m->task->vocab, m->task->prompt_max + m->task->gen_max, 0, 0, 0};
    char eb[128];
    rng_t r = rng_stream(4, 1, 0, 0);
    m->policy = model_create(&mc, &r, eb, sizeof eb);
    mc.head = HEAD_SCALAR;
    m->critic = model_create(&mc, &r, eb, sizeof eb);
    for (size_t i = 0; i < m->policy->n_params; i++) m->policy->params[i] = (float)(rng_double(&r) - 0.5);
    for (size_t i = 0; i < m->critic->n_params; i++) m->critic->params[i] = (float)(rng_double(&r) - 0.5);
    int seq_cap = m->task->prompt_max + m->task->gen_max;
    m->tr = ppo_trainer_create(m->task, m->pool, seq_cap);
    batch_init(&m->b, 2, seq_cap, m->task->gen_max, m->task->n_metrics);
    m->b.n = 2;
    for (int i = 0; i < 2; i++) {
        m->b.prompt_len[i] = 1;
        m->b.gen_len[i] = 6;
        m->b.seq[i * seq_cap] = 0;
        for (int t = 0; t < 6; t++) {
            int64_t k = batch_tok(&m->b, i, t);
            m->b.seq[i * seq_cap + 1 + t] = (int32_t)((i + 2 * t) % 4);
            m->b.actor[k] = actors[i][t];
            m->b.logp[k] = -1.2f;
            m->b.advantage[k] = (float)(0.3 * (t + 1) * (i ? -1 : 1));
            m->b.returns[k] = (float)(0.1 * t);
            m->b.value[k] = 0.05f;
        }
    }
    return m;
}

static void free_batch(mb_t *m) {
    batch_free(&m->b);
    ppo_trainer_destroy(m->tr);
    model_destroy(m->policy);
    model_destroy(m->critic);
    pool_destroy(m->pool);
    task_destroy(m->task);
    free(m);
}

static void grads(mb_t *m, float *gp, float *gc) {
    ppo_params_t p = {1.0, 0.95, 0.2, 0.2, 1, 0.5, 0.1, 0.0, 0, 0.0, 1, 2, 0.0, 0.0f, 1e-5f};
    int idx[2] = {0, 1};
    ppo_mb_stats_t ms;
    ppo_prepare_batch(m->tr, &m->b, &p);
    memset(m->critic->grads, 0, m->critic->n_params * sizeof(float));
    ppo_minibatch_grad(m->tr, &m->b, &p, m->policy, m->critic, idx, 2, &ms);
    memcpy(gp, m->policy->grads, m->policy->n_params * sizeof(float));
    memcpy(gc, m->critic->grads, m->critic->n_params * sizeof(float));
}

static int all_zero(const float *g, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (g[i] != 0.0f) return 0;
    return 1;
}

static void test_masks(void **state) {
    (void)state;
    config_t cfg;
    cfg_defaults(&cfg);
    const uint8_t G = ACTOR_GUIDE, L = ACTOR_LEARNER;
    /* PPO++: guide prefix (k = 2, k = 4), learner suffix */
    const uint8_t pp_actors[2][6] = {{G, G, L, L, L, L}, {G, G, G, G, L, L}};
    mb_t *m = make_batch(pp_actors);
    iter_spec_t spec;
    algo_spec_ppopp(&cfg, 0.6, CRITIC_LEARNER, &spec);
    algo_apply_masks(&spec, &m->b);
    const uint8_t want_pp[2][6] = {{0, 0, 1, 1, 1, 1}, {0, 0, 0, 0, 1, 1}};
    for (int i = 0; i < 2; i++)
        for (int t = 0; t < 6; t++) {
            assert_int_equal(m->b.pmask[batch_tok(&m->b, i, t)], want_pp[i][t]);
            assert_int_equal(m->b.vmask[batch_tok(&m->b, i, t)], want_pp[i][t]);
        }
    size_t np = m->policy->n_params, nc = m->critic->n_params;
    float *gp = malloc(np * 4), *gc = malloc(nc * 4), *gp2 = malloc(np * 4), *gc2 = malloc(nc * 4);
    grads(m, gp, gc);
    assert_false(all_zero(gp, np));
    /* anything about the forced guide tokens (their advantages, old log-probs, returns) moves no
     * gradient: exactly zero policy gradient for them */
    for (int i = 0; i < 2; i++)
        for (int t = 0; t < 6; t++)
            if (m->b.actor[batch_tok(&m->b, i, t)] == G) {
                m->b.advantage[batch_tok(&m->b, i, t)] = 100.0f;
                m->b.logp[batch_tok(&m->b, i, t)] = -9.0f;
                m->b.returns[batch_tok(&m->b, i, t)] = -50.0f;
            }
    grads(m, gp2, gc2);
    assert_memory_equal(gp, gp2, np * 4);
    assert_memory_equal(gc, gc2, nc * 4);
    /* while a learner token's advantage does move it */
    m->b.advantage[batch_tok(&m->b, 0, 3)] += 1.0f;
    grads(m, gp2, gc2);
    assert_true(memcmp(gp, gp2, np * 4) != 0);
    free_batch(m);

    /* AggreVaTeD: learner prefix (k = 3, and u = 0: a full guide rollout), guide completion */
    const uint8_t ag_actors[2][6] = {{L, L, L, G, G, G}, {G, G, G, G, G, G}};
    m = make_batch(ag_actors);
    algo_spec_aggrevated(&cfg, 0.8, CRITIC_GUIDE, &spec);
    algo_apply_masks(&spec, &m->b);
    for (int i = 0; i < 2; i++)
        for (int t = 0; t < 6; t++) {
            int learner = ag_actors[i][t] == L;
            assert_int_equal(m->b.pmask[batch_tok(&m->b, i, t)], learner);
            assert_int_equal(m->b.vmask[batch_tok(&m->b, i, t)], !learner);
        }
    grads(m, gp, gc);
    assert_false(all_zero(gp, np));
    assert_false(all_zero(gc, nc));
    /* the critic's loss sees only guide tokens: a learner token's return changes nothing ... */
    m->b.returns[batch_tok(&m->b, 0, 1)] = 42.0f;
    grads(m, gp2, gc2);
    assert_memory_equal(gc, gc2, nc * 4);
    /* ... a guide token's does */
    m->b.returns[batch_tok(&m->b, 0, 4)] = 42.0f;
    grads(m, gp2, gc2);
    assert_true(memcmp(gc, gc2, nc * 4) != 0);
    /* the policy loss sees only the learner prefix: the full guide rollout (trajectory 1) and the
     * guide completion carry no policy gradient */
    for (int t = 0; t < 6; t++) m->b.advantage[batch_tok(&m->b, 1, t)] = 77.0f;
    for (int t = 3; t < 6; t++) m->b.advantage[batch_tok(&m->b, 0, t)] = -77.0f;
    float *gp3 = malloc(np * 4);
    grads(m, gp3, gc2);
    assert_memory_equal(gp, gp3, np * 4);
    free(gp3);
    free(gp); free(gc); free(gp2); free(gc2);
    free_batch(m);
}

/* Last `n` values of a column's mean, and the last value of a learner validation eval column. */
static double tail_mean(const char *path, const char *col, int n) {
    double *v;
    size_t len;
    err_t err;
    if (h5log_read_column(path, col, &v, &len, &err)) fail_msg("%s", err.msg);
    double s = 0;
    for (size_t i = len - (size_t)n; i < len; i++) s += v[i];
    free(v);
    return s / n;
}

static double eval_value(const char *path, const char *col, int want_who, int last) {
    double *who, *split, *v;
    size_t n, m;
    err_t err;
    if (h5log_read_column(path, "eval/who", &who, &n, &err) || h5log_read_column(path, "eval/split", &split, &m, &err) ||
        h5log_read_column(path, col, &v, &m, &err))
        fail_msg("%s", err.msg);
    double r = NAN;
    for (size_t i = 0; i < n; i++)
        if ((int)who[i] == want_who && (int)split[i] == SPLIT_VALID) {
            r = v[i];
            if (!last) break;
        }
    free(who); free(split); free(v);
    return r;
}

static void test_combination_lock(void **state) {
    (void)state;
    char pa[64], pb[64], pc[64];
    const char *budget[] = {"iterations", "40", "trajectories", "32", "ppo.minibatch", "8", "guide.quality", "1", NULL};
    const char *ovp[] = {"algo", "ppo", budget[0], budget[1], budget[2], budget[3], budget[4], budget[5], budget[6], budget[7], NULL};
    const char *ovpp[] = {"algo", "ppopp", budget[0], budget[1], budget[2], budget[3], budget[4], budget[5], budget[6], budget[7], NULL};
    model_destroy(run("configs/toy_lock.ini", ovp, pa));
    model_destroy(run("configs/toy_lock.ini", ovpp, pb));
    double s_ppo = eval_value(pa, "eval/success_mean", 0, 1), s_pp = eval_value(pb, "eval/success_mean", 0, 1);
    double guide = eval_value(pb, "eval/reward_mean", 1, 0);
    printf("combination lock (V=4, H=6), 40 iterations x 32 trajectories, guide q=1 (reward %.3f):\n"
           "  evaluation success: PPO %.3f, PPO++ %.3f\n", guide, s_ppo, s_pp);
    assert_true(s_pp >= 0.9);
    assert_true(s_ppo < 0.1);

    const char *ova[] = {"algo", "aggrevated", "iterations", "60", "trajectories", "32", "ppo.minibatch", "8",
                         "guide.quality", "1", NULL};
    model_destroy(run("configs/toy_lock.ini", ova, pc));
    double train_r = tail_mean(pc, "iterations/reward", 10), alone = eval_value(pc, "eval/success_mean", 0, 1);
    printf("  AggreVaTeD, 60 x 32: reward of its own rollouts (learner roll-in + guide completion) over the last\n"
           "  10 iterations %.3f = %.1f%% of the guide's; the learner alone opens the lock %.3f of the time: the\n"
           "  switch point k <= L-1 never lets it train the last token (spec), so alone it is at most 1/4\n",
           train_r, 100 * train_r / guide, alone);
    assert_true(train_r >= 0.95 * guide);
    assert_true(alone <= 0.25 + 0.15);
    unlink(pa); unlink(pb); unlink(pc);
}

static void test_imdb_guide_quality(void **state) {
    (void)state;
    if (getenv("RLGF_SKIP_SLOW")) skip();
    const char *qs[] = {"0", "0.25", "0.5", "0.75", "1"};
    double r[5], sl = 0;
    for (int i = 0; i < 5; i++) {
        char p[64];
        const char *ov[] = {"algo", "sl", "guide.quality", qs[i], "eval.prompts", "64", "eval.test_prompts", "0", "threads", "2", NULL};
        model_destroy(run("configs/imdb.ini", ov, p));
        r[i] = eval_value(p, "eval/reward_mean", 1, 0);
        sl = eval_value(p, "eval/reward_mean", 0, 0);
        unlink(p);
    }
    printf("IMDB-sim oracle guide, validation reward (64 prompts): SL %.4f; q=0 %.4f, .25 %.4f, .5 %.4f, .75 %.4f, 1 %.4f\n",
           sl, r[0], r[1], r[2], r[3], r[4]);
    for (int i = 1; i < 5; i++) assert_true(r[i] > r[i - 1]);
    assert_true(r[4] > sl + 0.1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_equivalences),
        cmocka_unit_test(test_combination_lock),
        cmocka_unit_test(test_imdb_guide_quality),
    };
    return cmocka_run_group_tests_name("guided", tests, NULL, NULL);
}
