/* The conformance kit cannot drift from the engine: every exported loss case is read back from
 * its HDF5 file and fed through the trainer's own ppo_minibatch_grad on tabular models whose
 * rows hold the case's logits and values (each trajectory has its own prompt, so every
 * (trajectory, token) is its own table row and the table gradient IS the per-token gradient).
 * The trainer must reproduce the expected loss, its diagnostics and the expected gradients, with
 * 1 and 2 threads. The toy policy gradients are checked against finite differences of
 * toy_policy_value, and two exports must be byte-identical. */
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

#include "../envs/task.h"
#include "../envs/toy.h"
#include "../sim/rl/batch.h"
#include "../sim/run/conformance.h"
#include "../sim/nn/gpt.h"
#include "../sim/store/h5log.h"
#include "../sim/nn/model.h"
#include "../sim/base/pool.h"
#include "../sim/rl/ppo.h"
#include "../sim/rl/estimators.h"
#include "../sim/nn/sample.h"

static char kit[256];

static void rd(hid_t f, const char *c, const char *name, hid_t type, void *buf) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", c, name);
    hid_t d = H5Dopen2(f, p, H5P_DEFAULT);
    if (d < 0) fail_msg("missing dataset %s", p);
    assert_true(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
}
static double rd1(hid_t f, const char *c, const char *name) {
    double v;
    rd(f, c, name, H5T_NATIVE_DOUBLE, &v);
    return v;
}
static double attr(hid_t f, const char *c, const char *name) {
    hid_t g = H5Gopen2(f, c, H5P_DEFAULT);
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    double v = NAN;
    assert_true(a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
    H5Aclose(a);
    H5Gclose(g);
    return v;
}
static void dims(hid_t f, const char *c, const char *name, int *B, int *T) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", c, name);
    hid_t d = H5Dopen2(f, p, H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t dd[3] = {1, 1, 1};
    H5Sget_simple_extent_dims(s, dd, NULL);
    *B = (int)dd[0];
    *T = (int)dd[1];
    H5Sclose(s);
    H5Dclose(d);
}
static hid_t open_family(const char *fam) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", kit, fam);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    return f;
}
static void close_to(double got, double exp, double tol, const char *what) {
    if (!(fabs(got - exp) <= tol * (1.0 + fabs(exp)))) fail_msg("%s: trainer %.17g, kit %.17g", what, got, exp);
}

/* A padded case as the trainer sees it: prompt (2 tokens) + generation, one table row per state. */
typedef struct {
    int B, T, V;
    int32_t prompt[16], len[8], tok[64];
    uint8_t tm[64], vm[64];
    float logits[256], lpo[64], adv[64], val[64], vold[64], ret[64];
} rcase_t;

static int64_t row_of(const rcase_t *c, int i, int t, int V) {
    int32_t seq[16];
    seq[0] = c->prompt[2 * i];
    seq[1] = c->prompt[2 * i + 1];
    for (int q = 0; q < t; q++) seq[2 + q] = c->tok[i * c->T + q];
    int64_t r = 0;
    for (int p = 0; p <= 1 + t; p++) r = tab_row_next(r, p, seq[p], V);
    return r;
}

static void to_batch(const rcase_t *c, batch_t *b) {
    assert_int_equal(batch_init(b, c->B, 2 + c->T, c->T, 1), 0);
    b->n = c->B;
    for (int i = 0; i < c->B; i++) {
        b->prompt_len[i] = 2;
        b->gen_len[i] = c->len[i];
        b->prompt_index[i] = i;
        b->seq[i * b->seq_cap] = c->prompt[2 * i];
        b->seq[i * b->seq_cap + 1] = c->prompt[2 * i + 1];
        for (int t = 0; t < c->T; t++) {
            int q = i * c->T + t;
            int64_t k = batch_tok(b, i, t);
            b->seq[i * b->seq_cap + 2 + t] = c->tok[q];
            b->pmask[k] = c->tm[q];
            b->vmask[k] = c->vm[q];
            b->logp[k] = c->lpo[q];
            b->advantage[k] = c->adv[q];
            b->value[k] = c->vold[q];
            b->returns[k] = c->ret[q];
        }
    }
}

typedef struct {
    task_t *task;
    pool_t *pool;
    ppo_trainer_t *tr;
    model_t *pol, *crit;
} rig_t;

static void rig_init(rig_t *r, const char *task_name, int seq_cap, int threads) {
    err_t err;
    task_params_t tp = {task_name, 0, 0, 0, 0, 0.0};
    r->task = task_create(&tp, &err);
    assert_non_null(r->task);
    r->pool = pool_create(threads);
    r->tr = ppo_trainer_create(r->task, r->pool, seq_cap);
    model_config_t mc = {MODEL_TABULAR, HEAD_LM, r->task->vocab, seq_cap, 0, 0, 0};
    rng_t init = rng_stream(1, RNG_INIT_POLICY, 0, 0);
    char eb[256];
    r->pol = model_create(&mc, &init, eb, sizeof eb);
    mc.head = HEAD_SCALAR;
    r->crit = model_create(&mc, &init, eb, sizeof eb);
    assert_non_null(r->pol);
    assert_non_null(r->crit);
}
static void rig_free(rig_t *r) {
    model_destroy(r->pol);
    model_destroy(r->crit);
    ppo_trainer_destroy(r->tr);
    pool_destroy(r->pool);
    task_destroy(r->task);
}

static const char *const PG[] = {"pg_unclipped", "pg_clipped", "pg_norm_adv", "pg_tril_no_adv_norm",
                                 "pg_ppopp_mask", "pg_aggrevated_mask", "pg_clip_0_1", NULL};

static void check_policy_cases(int threads) {
    hid_t f = open_family("ppo_policy_loss.h5");
    for (int n = 0; PG[n]; n++) {
        const char *cn = PG[n];
        char in[64], ex[64];
        snprintf(in, sizeof in, "%s/inputs", cn);
        snprintf(ex, sizeof ex, "%s/expected", cn);
        rcase_t c = {0};
        dims(f, in, "token", &c.B, &c.T);
        c.V = 4;
        rd(f, in, "prompt", H5T_NATIVE_INT32, c.prompt);
        rd(f, in, "length", H5T_NATIVE_INT32, c.len);
        rd(f, in, "token", H5T_NATIVE_INT32, c.tok);
        rd(f, in, "train_mask", H5T_NATIVE_UINT8, c.tm);
        rd(f, in, "logits", H5T_NATIVE_FLOAT, c.logits);
        rd(f, in, "logp_old", H5T_NATIVE_FLOAT, c.lpo);
        rd(f, in, "advantage", H5T_NATIVE_FLOAT, c.adv);
        double grad[64];
        rd(f, ex, "grad_logp", H5T_NATIVE_DOUBLE, grad);
        rig_t r;
        rig_init(&r, "toy_lock", 2 + c.T, threads);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++)
                memcpy(r.pol->params + row_of(&c, i, t, 4) * 4, c.logits + (i * c.T + t) * 4, 4 * sizeof(float));
        batch_t b;
        to_batch(&c, &b);
        ppo_params_t p = {0};
        p.clip = attr(f, cn, "clip");
        p.norm_adv = (int)attr(f, cn, "norm_adv");
        int idx[8];
        for (int i = 0; i < c.B; i++) idx[i] = i;
        ppo_mb_stats_t ms;
        ppo_prepare_batch(r.tr, &b, &p);
        ppo_minibatch_grad(r.tr, &b, &p, r.pol, NULL, idx, c.B, &ms);
        close_to(ms.policy_loss, rd1(f, ex, "policy_loss"), 1e-12, cn);
        close_to(ms.approx_kl, rd1(f, ex, "approx_kl"), 1e-12, cn);
        close_to(ms.clip_frac, rd1(f, ex, "clip_frac"), 1e-12, cn);
        /* d loss / d logits_j = grad_logp (delta_{j,a} - p_j) at the token's row */
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++) {
                int q = i * c.T + t;
                double ls[4];
                log_softmax_row(c.logits + q * 4, 4, ls);
                for (int j = 0; j < 4; j++) {
                    double e = grad[q] * ((j == c.tok[q]) - exp(ls[j]));
                    close_to(r.pol->grads[row_of(&c, i, t, 4) * 4 + j], e, 1e-6, cn);
                }
            }
        batch_free(&b);
        rig_free(&r);
    }
    H5Fclose(f);
}

static void check_value_cases(int threads) {
    static const char *const VF[] = {"vf_unclipped", "vf_clipped", "vf_clipped_small_moves", "vf_aggrevated_mask",
                                     "vf_ppopp_mask", NULL};
    hid_t f = open_family("value_loss.h5");
    for (int n = 0; VF[n]; n++) {
        const char *cn = VF[n];
        char in[64], ex[64];
        snprintf(in, sizeof in, "%s/inputs", cn);
        snprintf(ex, sizeof ex, "%s/expected", cn);
        rcase_t c = {0};
        dims(f, in, "token", &c.B, &c.T);
        rd(f, in, "prompt", H5T_NATIVE_INT32, c.prompt);
        rd(f, in, "length", H5T_NATIVE_INT32, c.len);
        rd(f, in, "token", H5T_NATIVE_INT32, c.tok);
        rd(f, in, "value_mask", H5T_NATIVE_UINT8, c.vm);
        rd(f, in, "value", H5T_NATIVE_FLOAT, c.val);
        rd(f, in, "value_old", H5T_NATIVE_FLOAT, c.vold);
        rd(f, in, "returns", H5T_NATIVE_FLOAT, c.ret);
        double grad[64];
        rd(f, ex, "grad_value", H5T_NATIVE_DOUBLE, grad);
        rig_t r;
        rig_init(&r, "toy_lock", 2 + c.T, threads);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++) r.crit->params[row_of(&c, i, t, 4)] = c.val[i * c.T + t];
        batch_t b;
        to_batch(&c, &b);
        ppo_params_t p = {0};
        p.value_clip = (int)attr(f, cn, "value_clip");
        p.vf_clip = attr(f, cn, "vf_clip");
        p.vf_coef = 1.0;
        int idx[8];
        for (int i = 0; i < c.B; i++) idx[i] = i;
        ppo_mb_stats_t ms;
        ppo_prepare_batch(r.tr, &b, &p);
        ppo_minibatch_grad(r.tr, &b, &p, r.pol, r.crit, idx, c.B, &ms);
        close_to(ms.value_loss, rd1(f, ex, "value_loss"), 1e-12, cn);
        close_to(ms.vclip_frac, rd1(f, ex, "value_clip_frac"), 1e-12, cn);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++)
                close_to(r.crit->grads[row_of(&c, i, t, 4)], grad[i * c.T + t], 1e-6, cn);
        batch_free(&b);
        rig_free(&r);
    }
    H5Fclose(f);
}

static void check_entropy_cases(int threads) {
    static const char *const EN[] = {"entropy_padded", "entropy_ppopp_mask", NULL};
    hid_t f = open_family("entropy.h5");
    for (int n = 0; EN[n]; n++) {
        const char *cn = EN[n];
        char in[64], ex[64];
        snprintf(in, sizeof in, "%s/inputs", cn);
        snprintf(ex, sizeof ex, "%s/expected", cn);
        rcase_t c = {0};
        dims(f, in, "token", &c.B, &c.T);
        rd(f, in, "prompt", H5T_NATIVE_INT32, c.prompt);
        rd(f, in, "length", H5T_NATIVE_INT32, c.len);
        rd(f, in, "token", H5T_NATIVE_INT32, c.tok);
        rd(f, in, "train_mask", H5T_NATIVE_UINT8, c.tm);
        rd(f, in, "logits", H5T_NATIVE_FLOAT, c.logits);
        double grad[256];
        rd(f, ex, "grad_logits", H5T_NATIVE_DOUBLE, grad);
        rig_t r;
        rig_init(&r, "toy_lock", 2 + c.T, threads);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++)
                memcpy(r.pol->params + row_of(&c, i, t, 4) * 4, c.logits + (i * c.T + t) * 4, 4 * sizeof(float));
        batch_t b;
        to_batch(&c, &b); /* advantages 0: the policy term has no gradient, only the entropy bonus */
        ppo_params_t p = {0};
        p.clip = 0.2;
        p.ent_coef = 1.0;
        int idx[8];
        for (int i = 0; i < c.B; i++) idx[i] = i;
        ppo_mb_stats_t ms;
        ppo_prepare_batch(r.tr, &b, &p);
        ppo_minibatch_grad(r.tr, &b, &p, r.pol, NULL, idx, c.B, &ms);
        close_to(ms.entropy, rd1(f, ex, "entropy"), 1e-12, cn);
        /* the trainer minimises -ent_coef * entropy */
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++)
                for (int j = 0; j < 4; j++)
                    close_to(r.pol->grads[row_of(&c, i, t, 4) * 4 + j], -grad[(i * c.T + t) * 4 + j], 1e-6, cn);
        batch_free(&b);
        rig_free(&r);
    }
    H5Fclose(f);
}

static void check_target_case(int threads) {
    hid_t f = open_family("target_nll.h5");
    const char *in = "target_nll_toy_match/inputs", *ex = "target_nll_toy_match/expected";
    int32_t prompt[3], ref[12], rlen[3];
    float logits[36];
    double grad[36];
    rd(f, in, "prompt", H5T_NATIVE_INT32, prompt);
    rd(f, in, "ref_token", H5T_NATIVE_INT32, ref);
    rd(f, in, "ref_length", H5T_NATIVE_INT32, rlen);
    rd(f, in, "logits", H5T_NATIVE_FLOAT, logits);
    rd(f, ex, "grad_logits", H5T_NATIVE_DOUBLE, grad);
    rig_t r;
    rig_init(&r, "toy_match", 5, threads);
    int64_t rows[12];
    for (int i = 0; i < 3; i++)
        for (int t = 0; t < rlen[i]; t++) {
            int64_t row = tab_row_next(0, 0, prompt[i], 3);
            for (int q = 0; q < t; q++) row = tab_row_next(row, 1 + q, ref[i * 4 + q], 3);
            rows[i * 4 + t] = row;
            memcpy(r.pol->params + row * 3, logits + (i * 4 + t) * 3, 3 * sizeof(float));
        }
    batch_t b;
    assert_int_equal(batch_init(&b, 3, 5, 4, 1), 0);
    b.n = 3;
    for (int i = 0; i < 3; i++) {
        b.prompt_len[i] = 1;
        b.gen_len[i] = 0; /* no generated tokens: the target loss alone */
        b.prompt_index[i] = i;
        b.split[i] = SPLIT_TRAIN;
        b.seq[i * 5] = prompt[i];
    }
    ppo_params_t p = {0};
    p.tgt_coef = 1.0;
    int idx[3] = {0, 1, 2};
    ppo_mb_stats_t ms;
    ppo_prepare_batch(r.tr, &b, &p);
    ppo_minibatch_grad(r.tr, &b, &p, r.pol, NULL, idx, 3, &ms);
    close_to(ms.target_loss, rd1(f, ex, "target_loss"), 1e-12, "target_nll_toy_match");
    for (int i = 0; i < 3; i++)
        for (int t = 0; t < rlen[i]; t++)
            for (int j = 0; j < 3; j++)
                close_to(r.pol->grads[rows[i * 4 + t] * 3 + j], grad[(i * 4 + t) * 3 + j], 1e-6, "target_nll_toy_match");
    batch_free(&b);
    rig_free(&r);
    H5Fclose(f);
}

/* A whole step: the trainer's ppo_rewards_and_gae on the case's rollout quantities, then its
 * ppo_minibatch_grad on tabular policy and critic; total loss, statistics and both gradients. */
static void check_step_cases(int threads) {
    static const char *const ST[] = {"step_ppo", "step_ppo_norm_adv", "step_ppopp_tril", "step_aggrevated", NULL};
    hid_t f = open_family("ppo_step.h5");
    for (int n = 0; ST[n]; n++) {
        const char *cn = ST[n];
        char in[64], ex[64];
        snprintf(in, sizeof in, "%s/inputs", cn);
        snprintf(ex, sizeof ex, "%s/expected", cn);
        rcase_t c = {0};
        dims(f, in, "token", &c.B, &c.T);
        uint8_t actor[64];
        float lref[64], R[8];
        rd(f, in, "prompt", H5T_NATIVE_INT32, c.prompt);
        rd(f, in, "length", H5T_NATIVE_INT32, c.len);
        rd(f, in, "token", H5T_NATIVE_INT32, c.tok);
        rd(f, in, "train_mask", H5T_NATIVE_UINT8, c.tm);
        rd(f, in, "value_mask", H5T_NATIVE_UINT8, c.vm);
        rd(f, in, "actor", H5T_NATIVE_UINT8, actor);
        rd(f, in, "logits", H5T_NATIVE_FLOAT, c.logits);
        rd(f, in, "logp_old", H5T_NATIVE_FLOAT, c.lpo);
        rd(f, in, "logp_ref", H5T_NATIVE_FLOAT, lref);
        rd(f, in, "value", H5T_NATIVE_FLOAT, c.val);
        rd(f, in, "value_old", H5T_NATIVE_FLOAT, c.vold);
        rd(f, in, "task_reward", H5T_NATIVE_FLOAT, R);
        double glp[64], gv[64], adv[64];
        rd(f, ex, "grad_logp", H5T_NATIVE_DOUBLE, glp);
        rd(f, ex, "grad_value", H5T_NATIVE_DOUBLE, gv);
        rd(f, ex, "advantage", H5T_NATIVE_DOUBLE, adv);
        rig_t r;
        rig_init(&r, "toy_lock", 2 + c.T, threads);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++) {
                int64_t row = row_of(&c, i, t, 4);
                memcpy(r.pol->params + row * 4, c.logits + (i * c.T + t) * 4, 4 * sizeof(float));
                r.crit->params[row] = c.val[i * c.T + t];
            }
        batch_t b;
        to_batch(&c, &b);
        for (int i = 0; i < c.B; i++) {
            b.task_reward[i] = R[i];
            for (int t = 0; t < c.T; t++) {
                b.actor[batch_tok(&b, i, t)] = actor[i * c.T + t];
                b.logp_ref[batch_tok(&b, i, t)] = lref[i * c.T + t];
            }
        }
        ppo_params_t p = {0};
        p.gamma = attr(f, cn, "gamma");
        p.lambda = attr(f, cn, "lambda");
        p.clip = attr(f, cn, "clip");
        p.norm_adv = (int)attr(f, cn, "norm_adv");
        p.value_clip = (int)attr(f, cn, "value_clip");
        p.vf_clip = attr(f, cn, "vf_clip");
        p.vf_coef = attr(f, cn, "vf_coef");
        p.ent_coef = attr(f, cn, "ent_coef");
        double beta = attr(f, cn, "kl_in_reward") != 0 ? attr(f, cn, "beta_kl") : 0.0;
        ppo_rewards_and_gae(&b, beta, 0, p.gamma, p.lambda);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++)
                close_to(b.advantage[batch_tok(&b, i, t)], adv[i * c.T + t], 0.0, cn);
        int idx[8];
        for (int i = 0; i < c.B; i++) idx[i] = i;
        ppo_mb_stats_t ms;
        ppo_prepare_batch(r.tr, &b, &p);
        double L = ppo_minibatch_grad(r.tr, &b, &p, r.pol, r.crit, idx, c.B, &ms);
        close_to(L, rd1(f, ex, "loss"), 1e-12, cn);
        close_to(ms.policy_loss, rd1(f, ex, "policy_loss"), 1e-12, cn);
        close_to(ms.value_loss, rd1(f, ex, "value_loss"), 1e-12, cn);
        close_to(ms.entropy, rd1(f, ex, "entropy"), 1e-12, cn);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++) {
                int q = i * c.T + t;
                int64_t row = row_of(&c, i, t, 4);
                close_to(r.crit->grads[row], gv[q], 1e-6, cn);
                double ls[4], H = 0;
                log_softmax_row(c.logits + q * 4, 4, ls);
                for (int j = 0; j < 4; j++) H -= exp(ls[j]) * ls[j];
                for (int j = 0; j < 4; j++) {
                    double pj = exp(ls[j]);
                    double e = glp[q] * ((j == c.tok[q]) - pj) + (c.tm[q] ? p.ent_coef / ms.N * pj * (ls[j] + H) : 0.0);
                    close_to(r.pol->grads[row * 4 + j], e, 1e-6, cn);
                }
            }
        batch_free(&b);
        rig_free(&r);
    }
    H5Fclose(f);
}

/* ---- the issue-13 families: critic-free advantages, KL estimators and placement, loss knobs -- */

static void sattr(hid_t f, const char *c, const char *name, char *out, size_t n) {
    hid_t g = H5Gopen2(f, c, H5P_DEFAULT), a = H5Aopen(g, name, H5P_DEFAULT), ty = H5Aget_type(a);
    char buf[256] = {0};
    assert_true(a >= 0 && H5Tget_size(ty) < sizeof buf && H5Aread(a, ty, buf) >= 0);
    snprintf(out, n, "%s", buf);
    H5Tclose(ty);
    H5Aclose(a);
    H5Gclose(g);
}
static int pick(const char *v, const char *const *names) {
    for (int i = 0; names[i]; i++)
        if (!strcmp(v, names[i])) return i;
    fail_msg("unknown choice '%s'", v);
    return -1;
}
static const char *const EST[] = {"gae", "grpo", "rloo", "reinforce", "remax", "guidebase", NULL};
static const char *const KLE[] = {"k1", "k2", "k3", NULL};
static const char *const PLC[] = {"reward", "loss", NULL};
static const char *const SCL[] = {"group", "batch", "none", NULL};
static const char *const BSL[] = {"mean", "none", NULL};
static const char *const AGG[] = {"token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm", NULL};

/* The rollout quantities of a case in a batch; est_sequence_rewards with the case's placement. */
static void shaped_batch(hid_t f, const char *cn, batch_t *b, int *B, int *T) {
    char in[96], s[32];
    snprintf(in, sizeof in, "%s/inputs", cn);
    dims(f, in, "token", B, T);
    int32_t len[8];
    uint8_t actor[64];
    float lpo[64], lref[64], R[8];
    rd(f, in, "length", H5T_NATIVE_INT32, len);
    rd(f, in, "actor", H5T_NATIVE_UINT8, actor);
    rd(f, in, "logp_old", H5T_NATIVE_FLOAT, lpo);
    rd(f, in, "logp_ref", H5T_NATIVE_FLOAT, lref);
    rd(f, in, "task_reward", H5T_NATIVE_FLOAT, R);
    assert_int_equal(batch_init(b, *B, 2 + *T, *T, 1), 0);
    b->n = *B;
    for (int i = 0; i < *B; i++) {
        b->gen_len[i] = len[i];
        b->task_reward[i] = R[i];
        for (int t = 0; t < *T; t++) {
            int64_t k = batch_tok(b, i, t);
            b->actor[k] = actor[i * *T + t];
            b->logp[k] = lpo[i * *T + t];
            b->logp_ref[k] = lref[i * *T + t];
        }
    }
    sattr(f, cn, "kl_placement", s, sizeof s);
    double beta = pick(s, PLC) == KL_IN_REWARD ? attr(f, cn, "beta_kl") : 0.0;
    sattr(f, cn, "kl_estimator", s, sizeof s);
    est_sequence_rewards(b, beta, (int)attr(f, cn, "kl_on_guide"), pick(s, KLE));
}

/* shaped rewards and returns, bit for bit (the kit calls the same functions on the same floats) */
static void check_rewards(hid_t f, const char *cn, const batch_t *b, int B, int T) {
    char ex[96];
    snprintf(ex, sizeof ex, "%s/expected", cn);
    double rew[64], ret[8];
    rd(f, ex, "reward", H5T_NATIVE_DOUBLE, rew);
    rd(f, ex, "return", H5T_NATIVE_DOUBLE, ret);
    for (int i = 0; i < B; i++) {
        close_to(b->ret[i], ret[i], 0.0, cn);
        for (int t = 0; t < b->gen_len[i]; t++) close_to(b->reward[batch_tok(b, i, t)], rew[i * T + t], 0.0, cn);
    }
}

static const char *const CF[] = {"grpo_scale_group", "grpo_scale_batch", "grpo_scale_none", "grpo_equal_rewards_group",
                                 "grpo_k1_group", "grpo_ppopp_k3_reward", "rloo", "rloo_k2_equal_rewards",
                                 "reinforce_mean", "reinforce_none", "remax", NULL};

/* The trainer's critic-free path (sim/run/train.c): est_sequence_rewards, then est_advantages. */
static void test_critic_free_cases(void **state) {
    (void)state;
    hid_t f = open_family("critic_free.h5");
    for (int n = 0; CF[n]; n++) {
        const char *cn = CF[n];
        char in[96], ex[96], s[32];
        snprintf(in, sizeof in, "%s/inputs", cn);
        snprintf(ex, sizeof ex, "%s/expected", cn);
        batch_t b;
        int B, T;
        shaped_batch(f, cn, &b, &B, &T);
        check_rewards(f, cn, &b, B, T);
        int K = (int)attr(f, cn, "group_size");
        float remf[8];
        double remR[8], adv[64], base[8];
        rd(f, in, "baseline_reward", H5T_NATIVE_FLOAT, remf);
        for (int g = 0; g < (B + K - 1) / K; g++) remR[g] = remf[g];
        sattr(f, cn, "estimator", s, sizeof s);
        int est = pick(s, EST);
        sattr(f, cn, "scale", s, sizeof s);
        int sc = pick(s, SCL);
        sattr(f, cn, "baseline", s, sizeof s);
        est_advantages(&b, est, K, sc, pick(s, BSL), remR);
        rd(f, ex, "advantage", H5T_NATIVE_DOUBLE, adv);
        rd(f, ex, "baseline", H5T_NATIVE_DOUBLE, base);
        for (int i = 0; i < B; i++) {
            close_to(b.baseline[i], base[i], 0.0, cn);
            for (int t = 0; t < b.gen_len[i]; t++) close_to(b.advantage[batch_tok(&b, i, t)], adv[i * T + t], 0.0, cn);
        }
        batch_free(&b);
    }
    H5Fclose(f);
}

/* KL estimators through est_kl / est_kl_dlogp; placement = reward through est_sequence_rewards
 * (placement = loss is the trainer's KL-in-the-loss term: the loss_agg kl_loss_* cases). */
static void test_kl_cases(void **state) {
    (void)state;
    static const char *const KE[] = {"kl_k1", "kl_k2", "kl_k3", NULL};
    static const char *const KP[] = {"kl_placement_reward_k1", "kl_placement_reward_k3", "kl_placement_loss_k1",
                                     "kl_placement_loss_k3", NULL};
    hid_t f = open_family("kl.h5");
    for (int n = 0; KE[n]; n++) {
        const char *cn = KE[n];
        char in[96], ex[96], s[32];
        snprintf(in, sizeof in, "%s/inputs", cn);
        snprintf(ex, sizeof ex, "%s/expected", cn);
        int B, T;
        dims(f, in, "token", &B, &T);
        float lp[64], lq[64];
        uint8_t m[64];
        double kl[64], dk[64];
        rd(f, in, "logp", H5T_NATIVE_FLOAT, lp);
        rd(f, in, "logp_ref", H5T_NATIVE_FLOAT, lq);
        rd(f, in, "mask", H5T_NATIVE_UINT8, m);
        rd(f, ex, "kl", H5T_NATIVE_DOUBLE, kl);
        rd(f, ex, "grad_kl", H5T_NATIVE_DOUBLE, dk);
        sattr(f, cn, "kl_estimator", s, sizeof s);
        int e = pick(s, KLE);
        for (int q = 0; q < B * T; q++)
            if (m[q]) {
                close_to(est_kl(e, lp[q], lq[q]), kl[q], 0.0, cn);
                close_to(est_kl_dlogp(e, lp[q], lq[q]), dk[q], 0.0, cn);
                /* and the derivative is the derivative */
                double h = 1e-6, fd = (est_kl(e, lp[q] + h, lq[q]) - est_kl(e, lp[q] - h, lq[q])) / (2 * h);
                close_to(fd, dk[q], 1e-7, cn);
            }
    }
    for (int n = 0; KP[n]; n++) {
        batch_t b;
        int B, T;
        shaped_batch(f, KP[n], &b, &B, &T);
        check_rewards(f, KP[n], &b, B, T);
        batch_free(&b);
    }
    H5Fclose(f);
}

static const char *const KN[] = {"agg_token_mean", "agg_seq_mean_token_mean", "agg_seq_mean_token_sum_norm",
                                 "agg_seq_mean_token_mean_ppopp", "clip_higher", "kl_loss_k1", "kl_loss_k2",
                                 "kl_loss_k3_seq_mean_token_mean", NULL};

/* The loss knobs through the trainer: ppo_set_loss_opts, then ppo_minibatch_grad. */
static void check_knob_cases(int threads) {
    hid_t f = open_family("loss_agg.h5");
    for (int n = 0; KN[n]; n++) {
        const char *cn = KN[n];
        char in[64], ex[64], s[32];
        snprintf(in, sizeof in, "%s/inputs", cn);
        snprintf(ex, sizeof ex, "%s/expected", cn);
        rcase_t c = {0};
        dims(f, in, "token", &c.B, &c.T);
        c.V = 4;
        float lref[64];
        rd(f, in, "prompt", H5T_NATIVE_INT32, c.prompt);
        rd(f, in, "length", H5T_NATIVE_INT32, c.len);
        rd(f, in, "token", H5T_NATIVE_INT32, c.tok);
        rd(f, in, "train_mask", H5T_NATIVE_UINT8, c.tm);
        rd(f, in, "logits", H5T_NATIVE_FLOAT, c.logits);
        rd(f, in, "logp_old", H5T_NATIVE_FLOAT, c.lpo);
        rd(f, in, "logp_ref", H5T_NATIVE_FLOAT, lref);
        rd(f, in, "advantage", H5T_NATIVE_FLOAT, c.adv);
        double grad[64];
        rd(f, ex, "grad_logp", H5T_NATIVE_DOUBLE, grad);
        rig_t r;
        rig_init(&r, "toy_lock", 2 + c.T, threads);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++)
                memcpy(r.pol->params + row_of(&c, i, t, 4) * 4, c.logits + (i * c.T + t) * 4, 4 * sizeof(float));
        batch_t b;
        to_batch(&c, &b);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.T; t++) b.logp_ref[batch_tok(&b, i, t)] = lref[i * c.T + t];
        ppo_params_t p = {0};
        p.clip = attr(f, cn, "clip");
        ppo_loss_opts_t lo = {0};
        sattr(f, cn, "loss_agg", s, sizeof s);
        lo.loss_agg = pick(s, AGG);
        lo.agg_len = attr(f, cn, "max_length");
        assert_true(lo.agg_len == r.task->gen_max); /* the trainer's H is the task's */
        lo.clip_high = attr(f, cn, "clip_high");
        sattr(f, cn, "kl_estimator", s, sizeof s);
        lo.kl_loss_est = pick(s, KLE);
        lo.kl_loss_beta = attr(f, cn, "beta_kl");
        ppo_set_loss_opts(r.tr, &lo);
        int idx[8];
        for (int i = 0; i < c.B; i++) idx[i] = i;
        ppo_mb_stats_t ms;
        ppo_prepare_batch(r.tr, &b, &p);
        double L = ppo_minibatch_grad(r.tr, &b, &p, r.pol, NULL, idx, c.B, &ms);
        close_to(L, rd1(f, ex, "loss"), 1e-12, cn);
        close_to(ms.policy_loss, rd1(f, ex, "policy_loss"), 1e-12, cn);
        close_to(ms.kl_loss, rd1(f, ex, "kl_loss"), 1e-12, cn);
        close_to(ms.clip_frac, rd1(f, ex, "clip_frac"), 1e-12, cn);
        for (int i = 0; i < c.B; i++)
            for (int t = 0; t < c.len[i]; t++) {
                int q = i * c.T + t;
                double ls[4];
                log_softmax_row(c.logits + q * 4, 4, ls);
                for (int j = 0; j < 4; j++) {
                    double e = grad[q] * ((j == c.tok[q]) - exp(ls[j]));
                    close_to(r.pol->grads[row_of(&c, i, t, 4) * 4 + j], e, 1e-6, cn);
                }
            }
        batch_free(&b);
        rig_free(&r);
    }
    H5Fclose(f);
}

static void test_trainer_reproduces_kit(void **state) {
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        check_policy_cases(threads);
        check_value_cases(threads);
        check_entropy_cases(threads);
        check_target_case(threads);
        check_step_cases(threads);
        check_knob_cases(threads);
    }
}

/* ---- toy: the exported exact policy gradient against finite differences of toy_policy_value */

typedef struct {
    int V, per;
    const double *z; /* (S, V) logits, double */
} fd_pol_t;

static int fd_state(const fd_pol_t *p, const int32_t *seq, int len) {
    int l = len - 1, off = 0, pw = 1, num = 0;
    for (int i = 0; i < l; i++) {
        off += pw;
        pw *= p->V;
    }
    for (int i = 0; i < l; i++) num = num * p->V + seq[1 + i];
    return seq[0] * p->per + off + num;
}
static double fd_logprob(void *ctx, const int32_t *seq, int len, int next) {
    const fd_pol_t *p = ctx;
    const double *z = p->z + (size_t)fd_state(p, seq, len) * p->V;
    double mx = z[0], s = 0;
    for (int j = 1; j < p->V; j++) mx = z[j] > mx ? z[j] : mx;
    for (int j = 0; j < p->V; j++) s += exp(z[j] - mx);
    return z[next] - mx - log(s);
}

static void test_toy_gradient_finite_differences(void **state) {
    (void)state;
    hid_t f = open_family("toy_exact.h5");
    const char *cn = "toy_match_beta0.1";
    int S, V;
    dims(f, "toy_match_beta0.1/inputs", "logits", &S, &V);
    float *lg = malloc((size_t)S * V * sizeof *lg), *rg = malloc((size_t)S * V * sizeof *rg);
    double *z = malloc((size_t)S * V * sizeof *z), *zr = malloc((size_t)S * V * sizeof *zr);
    double *pg = malloc((size_t)S * V * sizeof *pg);
    rd(f, "toy_match_beta0.1/inputs", "logits", H5T_NATIVE_FLOAT, lg);
    rd(f, "toy_match_beta0.1/inputs", "ref_logits", H5T_NATIVE_FLOAT, rg);
    rd(f, "toy_match_beta0.1/expected", "policy_gradient", H5T_NATIVE_DOUBLE, pg);
    double beta = attr(f, cn, "beta");
    for (int i = 0; i < S * V; i++) z[i] = lg[i], zr[i] = rg[i];
    err_t err;
    task_params_t tp = {"toy_match", 0, 0, 0, 0, 0.0};
    task_t *task = task_create(&tp, &err);
    fd_pol_t pi = {V, S / 3, z}, ref = {V, S / 3, zr};
    /* J as a function of the logits; a few states of every depth */
    const int probe[] = {0, 1, 3, 5, 13, 20, 39, 40, 77, 119};
    for (size_t q = 0; q < sizeof probe / sizeof probe[0]; q++)
        for (int j = 0; j < V; j++) {
            int k = probe[q] * V + j;
            double h = 1e-5, z0 = z[k];
            z[k] = z0 + h;
            double jp = toy_policy_value(task, fd_logprob, &pi, fd_logprob, &ref, beta);
            z[k] = z0 - h;
            double jm = toy_policy_value(task, fd_logprob, &pi, fd_logprob, &ref, beta);
            z[k] = z0;
            double fd = (jp - jm) / (2 * h);
            if (fabs(fd - pg[k]) > 1e-7) fail_msg("policy_gradient[%d,%d]: kit %.12g, finite difference %.12g", probe[q], j, pg[k], fd);
        }
    /* the exported value is toy_policy_value's */
    double v = toy_policy_value(task, fd_logprob, &pi, fd_logprob, &ref, beta);
    close_to(v, rd1(f, "toy_match_beta0.1/expected", "kl_value"), 1e-9, "kl_value");
    task_destroy(task);
    free(lg), free(rg), free(z), free(zr), free(pg);
    H5Fclose(f);
}

static int read_file(const char *path, char **buf, long *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    fseek(fp, 0, SEEK_END);
    *n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    *buf = malloc((size_t)*n);
    size_t got = fread(*buf, 1, (size_t)*n, fp);
    fclose(fp);
    return got == (size_t)*n ? 0 : -1;
}

static void test_byte_identical_and_refusals(void **state) {
    (void)state;
    char dir2[300];
    snprintf(dir2, sizeof dir2, "%s.again", kit);
    err_t err;
    assert_int_equal(conf_export(dir2, 0, &err), 0);
    for (int i = 0; conf_families[i]; i++) {
        char a[512], b[512];
        snprintf(a, sizeof a, "%s/%s", kit, conf_families[i]);
        snprintf(b, sizeof b, "%s/%s", dir2, conf_families[i]);
        char *x, *y;
        long nx, ny;
        assert_int_equal(read_file(a, &x, &nx), 0);
        assert_int_equal(read_file(b, &y, &ny), 0);
        if (nx != ny || memcmp(x, y, (size_t)nx)) fail_msg("%s differs between two exports", conf_families[i]);
        free(x), free(y);
        remove(b);
    }
    remove(dir2);
    /* a non-empty directory is refused without force, with a message naming it */
    assert_int_not_equal(conf_export(kit, 0, &err), 0);
    assert_non_null(strstr(err.msg, "not empty"));
    assert_int_equal(conf_export(kit, 1, &err), 0);
}

int main(void) {
    h5log_init();
    snprintf(kit, sizeof kit, "/tmp/rlgf-test-conformance-%d", (int)getpid());
    err_t err;
    if (conf_export(kit, 0, &err)) {
        fprintf(stderr, "export: %s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trainer_reproduces_kit),
        cmocka_unit_test(test_critic_free_cases),
        cmocka_unit_test(test_kl_cases),
        cmocka_unit_test(test_toy_gradient_finite_differences),
        cmocka_unit_test(test_byte_identical_and_refusals),
    };
    int rc = cmocka_run_group_tests_name("conformance", tests, NULL, NULL);
    for (int i = 0; conf_families[i]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", kit, conf_families[i]);
        remove(p);
    }
    remove(kit);
    return rc;
}
