/* conformance: the known-answer kit (see conformance.h for the layout). Cases are small padded
 * batches drawn from one fixed PCG32 stream per case; padding positions hold deliberate junk
 * (finite, large), so an implementation that forgets a mask gets a visibly wrong answer. */
#include "conformance.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../algos/algo.h"
#include "../../envs/task.h"
#include "../../envs/toy.h"
#include "../rl/batch.h"
#include "../base/config.h"
#include "../base/dmath.h"
#include "../base/util.h"
#include "../store/h5log.h"
#include "../store/h5util.h"
#include "../rl/ppo.h"
#include "../rl/ppo_loss.h"
#include "../rl/estimators.h"
#include "../base/rng.h"
#include "../nn/sample.h"

const char *const conf_families[] = {"gae.h5", "ppo_policy_loss.h5", "value_loss.h5", "entropy.h5",
                                     "target_nll.h5", "guided_masks.h5", "toy_exact.h5", "ppo_step.h5", "critic_free.h5", "kl.h5",
                                     "loss_agg.h5", NULL};

#define CONF_SEED 20306118160ull /* arXiv 2306.11816, the seed paper */
#define CONF_RNG 0x636f6e66u     /* 'conf': the kit's own purpose, outside rng.h's training ones */
#define CB 8                     /* trajectories per case, at most */
#define CT 6                     /* generated tokens per trajectory, at most */
#define CP 2                     /* prompt tokens: distinct per trajectory, so every prefix is a distinct state */
#define CV 4                     /* vocabulary (toy_lock's, so a tabular model can hold every case) */

/* float32 implementations are the norm: tolerances are sized for them, far below what any of
 * the bugs the kit targets produces */
#define RTOL 1e-4
#define ATOL 1e-6

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct {
    hid_t file, cas, in, ex;
    const char *path;
    char where[160]; /* the object being written when something failed */
    int bad;
} cw_t;

static void fail_at(cw_t *w, const char *what) {
    if (!w->bad) snprintf(w->where, sizeof w->where, "%s", what);
    w->bad = 1;
}

static hid_t group(cw_t *w, hid_t parent, const char *name) {
    hid_t gcpl = h5util_make_cpl(H5P_GROUP_CREATE);
    hid_t g = gcpl >= 0 ? H5Gcreate2(parent, name, H5P_DEFAULT, gcpl, H5P_DEFAULT) : -1;
    if (gcpl >= 0) H5Pclose(gcpl);
    if (g < 0) fail_at(w, name);
    return g;
}

static void attr_f64(cw_t *w, hid_t obj, const char *name, double v) {
    if (h5util_write_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v)) fail_at(w, name);
}
static void attr_i64(cw_t *w, hid_t obj, const char *name, int64_t v) {
    if (h5util_write_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v)) fail_at(w, name);
}
static void attr_str(cw_t *w, hid_t obj, const char *name, const char *s) {
    if (h5util_write_str_attr(obj, name, s)) fail_at(w, name);
}

/* One contiguous dataset (dims[rank]; rank 0 = scalar), no time stamps, ordered attributes. */
static hid_t dset(cw_t *w, hid_t g, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                  const void *buf, const char *doc) {
    if (w->bad) return -1;
    hid_t d = h5util_write_dataset(g, name, ftype, mtype, rank, dims, buf);
    if (d < 0) {
        fail_at(w, name);
        return -1;
    }
    if (doc) attr_str(w, d, "doc", doc);
    return d;
}

static void in_i32(cw_t *w, const char *name, int rank, const hsize_t *dims, const int32_t *v, const char *doc) {
    hid_t d = dset(w, w->in, name, H5T_STD_I32LE, H5T_NATIVE_INT32, rank, dims, v, doc);
    if (d >= 0) H5Dclose(d);
}
static void in_u8(cw_t *w, const char *name, int rank, const hsize_t *dims, const uint8_t *v, const char *doc) {
    hid_t d = dset(w, w->in, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, rank, dims, v, doc);
    if (d >= 0) H5Dclose(d);
}
static void in_f32(cw_t *w, const char *name, int rank, const hsize_t *dims, const float *v, const char *doc) {
    hid_t d = dset(w, w->in, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rank, dims, v, doc);
    if (d >= 0) H5Dclose(d);
}
/* An expected value: float64, compared within rtol/atol where the inputs mask `where` is 1. */
static void ex_f64(cw_t *w, const char *name, int rank, const hsize_t *dims, const double *v, const char *where,
                   const char *doc) {
    hid_t d = dset(w, w->ex, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, rank, dims, v, doc);
    if (d < 0) return;
    attr_f64(w, d, "rtol", RTOL);
    attr_f64(w, d, "atol", ATOL);
    attr_str(w, d, "where", where ? where : "");
    H5Dclose(d);
}
/* An expected integer array (masks): compared exactly. */
static void ex_u8(cw_t *w, const char *name, int rank, const hsize_t *dims, const uint8_t *v, const char *doc) {
    hid_t d = dset(w, w->ex, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, rank, dims, v, doc);
    if (d < 0) return;
    attr_f64(w, d, "rtol", 0.0);
    attr_f64(w, d, "atol", 0.0);
    attr_str(w, d, "where", "");
    H5Dclose(d);
}

static void case_begin(cw_t *w, const char *name, const char *kind, const char *desc) {
    w->cas = group(w, w->file, name);
    if (w->bad) return;
    attr_str(w, w->cas, "kind", kind);
    attr_str(w, w->cas, "description", desc);
    w->in = group(w, w->cas, "inputs");
    w->ex = w->bad ? -1 : group(w, w->cas, "expected");
}
static void case_end(cw_t *w) {
    if (w->ex >= 0) H5Gclose(w->ex);
    if (w->in >= 0) H5Gclose(w->in);
    if (w->cas >= 0) H5Gclose(w->cas);
    w->cas = w->in = w->ex = -1;
}

static int file_begin(cw_t *w, const char *path, const char *family, const char *desc, err_t *err) {
    memset(w, 0, sizeof *w);
    w->cas = w->in = w->ex = -1;
    w->path = path;
    hid_t fcpl = h5util_make_cpl(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fcpl < 0 || fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0) {
        if (fcpl >= 0) H5Pclose(fcpl);
        if (fapl >= 0) H5Pclose(fapl);
        return err_set(err, "'%s': cannot set up HDF5 property lists", path);
    }
    w->file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    H5Pclose(fapl);
    if (w->file < 0) {
        char cause[300];
        return err_set(err, "cannot create '%s': %s", path, h5log_error_cause(cause));
    }
    attr_i64(w, w->file, "schema_version", CONF_SCHEMA_VERSION);
    attr_str(w, w->file, "kit", "rlgf conformance");
    attr_str(w, w->file, "family", family);
    attr_str(w, w->file, "description", desc);
    return 0;
}

static int file_end(cw_t *w, err_t *err) {
    case_end(w);
    int bad = w->bad;
    if (H5Fclose(w->file) < 0) bad = 1;
    if (bad) {
        char cause[300];
        return err_set(err, "'%s': writing '%s' failed: %s", w->path, w->where[0] ? w->where : "the file",
                       h5log_error_cause(cause));
    }
    return 0;
}

/* ---- case data ---------------------------------------------------------------------------- */

enum { PLAN_PPO = 0, PLAN_PPOPP = 1, PLAN_AGGREVATED = 2 };
static const char *const plan_names[] = {"ppo", "ppopp", "aggrevated"};

/* A padded batch: (B, T) per-token arrays, row-major, t >= length[i] is padding. */
typedef struct {
    int B, T, V, plan;
    int32_t length[CB], k[CB], prompt[CB * CP], token[CB * CT];
    uint8_t u[CB], mask[CB * CT], actor[CB * CT], train_mask[CB * CT], value_mask[CB * CT];
    float logits[CB * CT * CV];
    double ls[CB * CT * CV]; /* log-softmax of logits, as the trainer computes it (double) */
    double p[CB * CT * CV];  /* softmax of logits, from the same exps (log_softmax_probs_row) */
    float logp[CB * CT], logp_old[CB * CT], logp_ref[CB * CT];
    float value[CB * CT], value_old[CB * CT], returns[CB * CT], advantage[CB * CT];
    float task_reward[CB];
} pcase_t;

static double unif(rng_t *r, double lo, double hi) { return lo + (hi - lo) * rng_double(r); }

/* Knobs of a case's random draw. */
typedef struct {
    double dlogp;  /* |logp - logp_old| up to this */
    double dvalue; /* |value - value_old| up to this */
    double clip, vf_clip; /* ratios and values kept away from these boundaries */
} draw_t;

static void pcase_draw(pcase_t *c, int case_id, int B, int T, const int *len, const int *k, int plan, const draw_t *d) {
    memset(c, 0, sizeof *c);
    c->B = B;
    c->T = T;
    c->V = CV;
    c->plan = plan;
    rng_t r = rng_stream(CONF_SEED, CONF_RNG, (uint64_t)case_id, 0);
    for (int i = 0; i < B; i++) {
        c->length[i] = len[i];
        c->k[i] = k ? k[i] : 0;
        c->u[i] = c->k[i] > 0;
        c->prompt[i * CP] = i / CV;
        c->prompt[i * CP + 1] = i % CV;
        c->task_reward[i] = (float)unif(&r, 0.0, 1.0);
        for (int t = 0; t < T; t++) {
            int q = i * T + t, live = t < len[i];
            c->mask[q] = (uint8_t)live;
            int writer = ACTOR_LEARNER;
            if (plan == PLAN_PPOPP && t < c->k[i]) writer = ACTOR_GUIDE;
            if (plan == PLAN_AGGREVATED && (!c->u[i] || t >= c->k[i])) writer = ACTOR_GUIDE;
            c->actor[q] = (uint8_t)(live ? writer : 0);
            for (int j = 0; j < CV; j++) c->logits[q * CV + j] = (float)unif(&r, -2.0, 2.0);
            log_softmax_probs_row(c->logits + q * CV, CV, c->ls + q * CV, c->p + q * CV);
            c->token[q] = live ? (int32_t)rng_bounded(&r, CV) : 0;
            double lp = c->ls[q * CV + c->token[q]];
            c->logp[q] = (float)lp;
            /* old log-probs: redraw until the ratio is clearly on one side of each clip boundary,
             * so a float32 implementation takes the same branch */
            double lo;
            for (;;) {
                lo = lp + unif(&r, -d->dlogp, d->dlogp);
                double rho = dm_exp(lp - (double)(float)lo);
                double b1 = rho - (1.0 - d->clip), b2 = rho - (1.0 + d->clip);
                if ((b1 > 1e-3 || b1 < -1e-3) && (b2 > 1e-3 || b2 < -1e-3)) break;
            }
            c->logp_old[q] = (float)lo;
            c->logp_ref[q] = (float)(lo + unif(&r, -0.5, 0.5));
            double vo = unif(&r, -1.0, 1.0), v;
            for (;;) {
                v = vo + unif(&r, -d->dvalue, d->dvalue);
                double e1 = v - (vo - d->vf_clip), e2 = v - (vo + d->vf_clip);
                if ((e1 > 1e-3 || e1 < -1e-3) && (e2 > 1e-3 || e2 < -1e-3)) break;
            }
            c->value_old[q] = (float)vo;
            c->value[q] = (float)v;
            c->returns[q] = (float)unif(&r, -1.5, 1.5);
            c->advantage[q] = (float)unif(&r, -1.0, 1.0);
            if (!live) { /* junk: finite, large, wrong */
                c->logp_old[q] = (float)(lp - 1.5);
                c->logp_ref[q] = -3.0f;
                c->value[q] = 3.0f;
                c->value_old[q] = 2.5f;
                c->returns[q] = 5.0f;
                c->advantage[q] = 4.0f;
            }
        }
    }
    /* the guided algorithms' masks, from the actor of each token (algo_apply_masks) */
    config_t cfg;
    cfg_defaults(&cfg);
    iter_spec_t spec;
    memset(&spec, 0, sizeof spec);
    spec.policy_actor = spec.value_actor = ACTOR_LEARNER;
    if (plan == PLAN_PPOPP) algo_spec_ppopp(&cfg, 0.5, CRITIC_LEARNER, &spec);
    if (plan == PLAN_AGGREVATED) algo_spec_aggrevated(&cfg, 0.5, CRITIC_LEARNER, &spec);
    batch_t b;
    batch_init(&b, B, CP + T, T, 1);
    b.n = B;
    for (int i = 0; i < B; i++) {
        b.gen_len[i] = c->length[i];
        for (int t = 0; t < T; t++) b.actor[batch_tok(&b, i, t)] = c->actor[i * T + t];
    }
    algo_apply_masks(&spec, &b);
    for (int i = 0; i < B; i++)
        for (int t = 0; t < T; t++) {
            c->train_mask[i * T + t] = b.pmask[batch_tok(&b, i, t)];
            c->value_mask[i * T + t] = b.vmask[batch_tok(&b, i, t)];
        }
    batch_free(&b);
}

/* The inputs every padded case carries (run-log names; see README for the meaning of each). */
static void write_common_inputs(cw_t *w, const pcase_t *c) {
    hsize_t bt[2] = {(hsize_t)c->B, (hsize_t)c->T}, b1[1] = {(hsize_t)c->B}, bp[2] = {(hsize_t)c->B, CP};
    attr_str(w, w->cas, "algo", plan_names[c->plan]);
    in_i32(w, "prompt", 2, bp, c->prompt, "prompt token ids (B, P)");
    in_i32(w, "token", 2, bt, c->token, "generated token ids (B, T); 0 in padding");
    in_i32(w, "length", 1, b1, c->length, "generated tokens per trajectory (B)");
    in_u8(w, "mask", 2, bt, c->mask, "1 where t < length (real token), 0 in padding");
    in_u8(w, "actor", 2, bt, c->actor, "who wrote the token: 0 learner, 1 guide (forced roll-in or guide roll-out)");
    in_i32(w, "k", 1, b1, c->k, "roll-in switch point (0: no roll-in)");
    in_u8(w, "u", 1, b1, c->u, "1 when the trajectory had a roll-in");
}

/* ---- family: gae --------------------------------------------------------------------------- */

typedef struct {
    const char *name, *desc;
    int plan;
    double gamma, lambda, beta_kl;
    int kl_in_reward, kl_on_guide;
} gae_case_t;

static void write_gae_case(cw_t *w, int id, const gae_case_t *g) {
    static const int len[6] = {6, 4, 5, 2, 6, 3}, kk[6] = {2, 0, 3, 1, 4, 0};
    pcase_t c;
    draw_t d = {0.3, 0.3, 0.2, 0.2};
    pcase_draw(&c, id, 6, CT, len, g->plan == PLAN_PPO ? NULL : kk, g->plan, &d);
    batch_t b;
    batch_init(&b, c.B, CP + c.T, c.T, 1);
    b.n = c.B;
    for (int i = 0; i < c.B; i++) {
        b.gen_len[i] = c.length[i];
        b.task_reward[i] = c.task_reward[i];
        for (int t = 0; t < c.T; t++) {
            int64_t q = batch_tok(&b, i, t);
            b.actor[q] = c.actor[i * c.T + t];
            b.logp[q] = c.logp_old[i * c.T + t];
            b.logp_ref[q] = c.logp_ref[i * c.T + t];
            b.value[q] = c.value_old[i * c.T + t];
        }
    }
    /* exactly the trainer's call (sim/train.c): beta 0 when the KL is left out of the reward */
    ppo_rewards_and_gae(&b, g->kl_in_reward ? g->beta_kl : 0.0, g->kl_on_guide, g->gamma, g->lambda);
    double rew[CB * CT], adv[CB * CT], ret[CB * CT], R[CB];
    for (int i = 0; i < c.B; i++) {
        R[i] = b.ret[i];
        for (int t = 0; t < c.T; t++) {
            int64_t q = batch_tok(&b, i, t);
            int live = t < c.length[i];
            rew[i * c.T + t] = live ? b.reward[q] : 0.0;
            adv[i * c.T + t] = live ? b.advantage[q] : 0.0;
            ret[i * c.T + t] = live ? b.returns[q] : 0.0;
        }
    }
    batch_free(&b);
    case_begin(w, g->name, "gae", g->desc);
    attr_f64(w, w->cas, "gamma", g->gamma);
    attr_f64(w, w->cas, "lambda", g->lambda);
    attr_f64(w, w->cas, "beta_kl", g->beta_kl);
    attr_i64(w, w->cas, "kl_in_reward", g->kl_in_reward);
    attr_i64(w, w->cas, "kl_on_guide", g->kl_on_guide);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T}, b1[1] = {(hsize_t)c.B};
    in_f32(w, "logp_old", 2, bt, c.logp_old, "log pi_old(a_t|s_t), the rollout policy (the run log's logp)");
    in_f32(w, "logp_ref", 2, bt, c.logp_ref, "log pi_ref(a_t|s_t)");
    in_f32(w, "value_old", 2, bt, c.value_old, "V_old(s_t) of the critic at rollout time (the run log's value)");
    in_f32(w, "task_reward", 1, b1, c.task_reward, "R(x, y), paid on the last generated token");
    ex_f64(w, "reward", 2, bt, rew, "mask", "shaped reward r_t = R [t = L-1] - beta_kl (logp_old - logp_ref) on KL tokens");
    ex_f64(w, "advantage", 2, bt, adv, "mask", "GAE(gamma, lambda), V past the end = 0");
    ex_f64(w, "returns", 2, bt, ret, "mask", "G_t = A_t + V_old(s_t)");
    ex_f64(w, "return", 1, b1, R, "", "sum of the shaped rewards of each trajectory");
    case_end(w);
}

static int family_gae(const char *path, err_t *err) {
    static const gae_case_t cases[] = {
        {"gae_gamma1_lambda1", "Monte-Carlo returns: gamma = lambda = 1, no KL", PLAN_PPO, 1.0, 1.0, 0.0, 1, 0},
        {"gae_gamma099_lambda095", "the reference defaults gamma .99, lambda .95, no KL", PLAN_PPO, 0.99, 0.95, 0.0, 1, 0},
        {"gae_td0", "lambda = 0: one-step TD errors, gamma .9", PLAN_PPO, 0.9, 0.0, 0.0, 1, 0},
        {"gae_kl_in_reward", "PPO with per-token KL shaping, beta_kl .1, gamma .99, lambda .95", PLAN_PPO, 0.99, 0.95, 0.1, 1, 0},
        {"gae_ppopp_kl_learner_tokens", "PPO++ batch: the KL term only on learner tokens (kl_in_guided_reward = true); GAE over the whole sequence, forced guide tokens included",
         PLAN_PPOPP, 0.99, 0.95, 0.1, 1, 0},
        {"gae_tril_kl_in_guided_reward_false", "TRIL quirk: PPO++ batch with kl_in_guided_reward = false: no KL term at all, task reward only",
         PLAN_PPOPP, 0.99, 0.95, 0.1, 0, 0},
        {"gae_aggrevated", "AggreVaTeD batch: learner prefix, guide completion; KL on the learner prefix; GAE through the guide's tokens",
         PLAN_AGGREVATED, 1.0, 0.95, 0.1, 1, 0},
    };
    cw_t w;
    if (file_begin(&w, path, "gae", "shaped rewards, GAE advantages and returns (ppo_rewards_and_gae)", err)) return -1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) write_gae_case(&w, 100 + (int)i, &cases[i]);
    return file_end(&w, err);
}

/* ---- family: ppo_policy_loss ----------------------------------------------------------------- */

typedef struct {
    const char *name, *desc;
    int plan, norm_adv;
    double clip, dlogp;
} pg_case_t;

static void write_pg_case(cw_t *w, int id, const pg_case_t *g) {
    static const int len[5] = {6, 2, 5, 3, 6}, kk[5] = {2, 0, 3, 1, 4};
    pcase_t c;
    draw_t d = {g->dlogp, 0.3, g->clip, 0.2};
    pcase_draw(&c, id, 5, CT, len, g->plan == PLAN_PPO ? NULL : kk, g->plan, &d);
    int n = c.B * c.T;
    double N = 0, sa = 0, saa = 0;
    for (int q = 0; q < n; q++)
        if (c.train_mask[q]) {
            N += 1;
            sa += c.advantage[q];
            saa += (double)c.advantage[q] * c.advantage[q];
        }
    double mean = 0.0, scale = 1.0;
    if (g->norm_adv) ppo_adv_norm(sa, saa, N, &mean, &scale);
    double grad[CB * CT] = {0}, An[CB * CT] = {0}, pl = 0, akl = 0, cf = 0;
    for (int q = 0; q < n; q++) {
        if (!c.train_mask[q]) continue;
        double lp = c.ls[q * CV + c.token[q]], A = ((double)c.advantage[q] - mean) * scale, dl, rho;
        An[q] = A;
        pl += ppo_pg_term(lp, (double)c.logp_old[q], A, g->clip, &dl, &rho);
        grad[q] = dl / N;
        akl += (rho - 1.0) - (lp - (double)c.logp_old[q]);
        cf += (rho - 1.0 > g->clip || rho - 1.0 < -g->clip);
    }
    pl /= N;
    akl /= N;
    cf /= N;
    case_begin(w, g->name, "ppo_policy_loss", g->desc);
    attr_f64(w, w->cas, "clip", g->clip);
    attr_i64(w, w->cas, "norm_adv", g->norm_adv);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T}, btv[3] = {(hsize_t)c.B, (hsize_t)c.T, CV};
    in_u8(w, "train_mask", 2, bt, c.train_mask, "1: the token gets the policy loss (and entropy)");
    in_f32(w, "logits", 3, btv, c.logits, "logits of the policy being optimised; logp = log_softmax(logits)[token]");
    in_f32(w, "logp", 2, bt, c.logp, "log pi_theta(a_t|s_t), the policy being optimised (the gradient is taken w.r.t. it)");
    in_f32(w, "logp_old", 2, bt, c.logp_old, "log pi_old(a_t|s_t) of the rollout policy: the ratio's denominator");
    in_f32(w, "logp_ref", 2, bt, c.logp_ref, "log pi_ref(a_t|s_t): NOT part of the ratio");
    in_f32(w, "advantage", 2, bt, c.advantage, "A_t as given (junk in padding)");
    hsize_t one[1] = {1};
    (void)one;
    ex_f64(w, "policy_loss", 0, NULL, &pl, "", "-(1/N) sum train_mask min(rho A, clip(rho) A), N = sum train_mask (per-token mean)");
    ex_f64(w, "grad_logp", 2, bt, grad, "", "d policy_loss / d logp; 0 on tokens without train_mask and in padding");
    ex_f64(w, "advantage_used", 2, bt, An, "train_mask", "the advantage inside the loss (normalised over the train_mask tokens when norm_adv)");
    ex_f64(w, "approx_kl", 0, NULL, &akl, "", "mean over train_mask tokens of (rho - 1) - log rho");
    ex_f64(w, "clip_frac", 0, NULL, &cf, "", "fraction of train_mask tokens with |rho - 1| > clip");
    case_end(w);
}

static int family_pg(const char *path, err_t *err) {
    static const pg_case_t cases[] = {
        {"pg_unclipped", "ratios inside [1-eps, 1+eps]: the plain importance-weighted surrogate", PLAN_PPO, 0, 0.2, 0.1},
        {"pg_clipped", "ratios far outside the clip range, advantages of both signs", PLAN_PPO, 0, 0.2, 0.8},
        {"pg_norm_adv", "advantage normalisation on (RL4LMs default): mean/std over the minibatch's train_mask tokens, unbiased std + 1e-8",
         PLAN_PPO, 1, 0.2, 0.5},
        {"pg_tril_no_adv_norm", "TRIL quirk: no advantage normalisation (ppo.norm_adv = false, rlgf's default)", PLAN_PPO, 0, 0.2, 0.5},
        {"pg_ppopp_mask", "PPO++: forced guide roll-in tokens (t < k) get no policy loss", PLAN_PPOPP, 0, 0.2, 0.5},
        {"pg_aggrevated_mask", "AggreVaTeD: only the learner prefix (t < k) gets the policy loss", PLAN_AGGREVATED, 0, 0.2, 0.5},
        {"pg_clip_0_1", "clip eps = 0.1", PLAN_PPO, 0, 0.1, 0.4},
    };
    cw_t w;
    if (file_begin(&w, path, "ppo_policy_loss", "PPO clipped policy loss and its gradient w.r.t. the log-probs", err)) return -1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) write_pg_case(&w, 200 + (int)i, &cases[i]);
    return file_end(&w, err);
}

/* ---- family: value_loss ---------------------------------------------------------------------- */

typedef struct {
    const char *name, *desc;
    int plan, value_clip;
    double vf_clip, dvalue;
} vf_case_t;

static void write_vf_case(cw_t *w, int id, const vf_case_t *g) {
    static const int len[5] = {6, 3, 5, 2, 6}, kk[5] = {2, 0, 3, 1, 4};
    pcase_t c;
    draw_t d = {0.3, g->dvalue, 0.2, g->vf_clip};
    pcase_draw(&c, id, 5, CT, len, g->plan == PLAN_PPO ? NULL : kk, g->plan, &d);
    int n = c.B * c.T;
    double NV = 0, vl = 0, vc = 0, grad[CB * CT] = {0};
    for (int q = 0; q < n; q++) NV += c.value_mask[q];
    for (int q = 0; q < n; q++) {
        if (!c.value_mask[q]) continue;
        double dv;
        int cl;
        vl += 0.5 * ppo_vf_term(c.value[q], c.value_old[q], c.returns[q], g->value_clip, g->vf_clip, &dv, &cl);
        vc += cl;
        grad[q] = dv / NV;
    }
    vl /= NV;
    vc /= NV;
    case_begin(w, g->name, "value_loss", g->desc);
    attr_i64(w, w->cas, "value_clip", g->value_clip);
    attr_f64(w, w->cas, "vf_clip", g->vf_clip);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T};
    in_u8(w, "value_mask", 2, bt, c.value_mask, "1: the token gets the value loss");
    in_f32(w, "value", 2, bt, c.value, "V_theta(s_t), the critic being optimised (the gradient is taken w.r.t. it)");
    in_f32(w, "value_old", 2, bt, c.value_old, "V_old(s_t) at rollout time: the centre of the clip range");
    in_f32(w, "returns", 2, bt, c.returns, "G_t, the regression target");
    ex_f64(w, "value_loss", 0, NULL, &vl, "",
           "(0.5/N_V) sum value_mask max((V-G)^2, (clip(V, V_old-epsV, V_old+epsV)-G)^2); without clipping (0.5/N_V) sum (V-G)^2");
    ex_f64(w, "grad_value", 2, bt, grad, "", "d value_loss / d value; 0 without value_mask and in padding");
    ex_f64(w, "value_clip_frac", 0, NULL, &vc, "", "fraction of value_mask tokens whose V left [V_old-epsV, V_old+epsV]; 0 when value_clip is off");
    case_end(w);
}

static int family_vf(const char *path, err_t *err) {
    static const vf_case_t cases[] = {
        {"vf_unclipped", "no value clipping: half mean squared error over value_mask tokens", PLAN_PPO, 0, 0.2, 0.6},
        {"vf_clipped", "value clipping around V_old (epsV .2), values beyond the range on both sides", PLAN_PPO, 1, 0.2, 0.6},
        {"vf_clipped_small_moves", "value clipping on, every value within the clip range: equals the unclipped loss", PLAN_PPO, 1, 0.2, 0.15},
        {"vf_aggrevated_mask", "AggreVaTeD: value loss only on the guide's tokens (the critic learns V of the guide)", PLAN_AGGREVATED, 1, 0.2, 0.6},
        {"vf_ppopp_mask", "PPO++: value loss only on learner tokens", PLAN_PPOPP, 1, 0.2, 0.6},
    };
    cw_t w;
    if (file_begin(&w, path, "value_loss", "PPO value loss with and without clipping, and its gradient w.r.t. the values", err)) return -1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) write_vf_case(&w, 300 + (int)i, &cases[i]);
    return file_end(&w, err);
}

/* ---- family: entropy ----------------------------------------------------------------------- */

static void write_ent_case(cw_t *w, int id, const char *name, const char *desc, int plan) {
    static const int len[4] = {6, 2, 4, 5}, kk[4] = {2, 0, 3, 1};
    pcase_t c;
    draw_t d = {0.3, 0.3, 0.2, 0.2};
    pcase_draw(&c, id, 4, CT, len, plan == PLAN_PPO ? NULL : kk, plan, &d);
    int n = c.B * c.T;
    double N = 0, ent = 0, grad[CB * CT * CV] = {0};
    for (int q = 0; q < n; q++) N += c.train_mask[q];
    for (int q = 0; q < n; q++) {
        if (!c.train_mask[q]) continue;
        const double *ls = c.ls + q * CV, *pr = c.p + q * CV;
        double H = ppo_entropy_row(pr, ls, CV);
        ent += H;
        for (int j = 0; j < CV; j++) grad[q * CV + j] = -pr[j] * (ls[j] + H) / N;
    }
    ent /= N;
    case_begin(w, name, "entropy", desc);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T}, btv[3] = {(hsize_t)c.B, (hsize_t)c.T, CV};
    in_u8(w, "train_mask", 2, bt, c.train_mask, "1: the token's state counts in the entropy");
    in_f32(w, "logits", 3, btv, c.logits, "logits of the policy (B, T, V)");
    ex_f64(w, "entropy", 0, NULL, &ent, "", "(1/N) sum train_mask H(softmax(logits)), N = sum train_mask (L_ent = -entropy)");
    ex_f64(w, "grad_logits", 3, btv, grad, "", "d entropy / d logits = -(1/N) p (log p + H); 0 without train_mask");
    case_end(w);
}

static int family_ent(const char *path, err_t *err) {
    cw_t w;
    if (file_begin(&w, path, "entropy", "mean policy entropy over the train_mask tokens and its gradient w.r.t. the logits", err)) return -1;
    write_ent_case(&w, 400, "entropy_padded", "PPO batch with padding", PLAN_PPO);
    write_ent_case(&w, 401, "entropy_ppopp_mask", "PPO++: no entropy on forced guide tokens", PLAN_PPOPP);
    return file_end(&w, err);
}

/* ---- family: target_nll ---------------------------------------------------------------------- */

/* One reference continuation per prompt of toy_match (V 3, 4 tokens); the logits of the policy at
 * each reference prefix are drawn at random. */
static int family_tgt(const char *path, err_t *err) {
    task_params_t tp = {"toy_match", 0, 0, 0, 0, 0.0};
    task_t *task = task_create(&tp, err);
    if (!task) return -1;
    enum { B = 3, R = 4, V = 3 };
    int32_t prompt[B], ref[B * R], rlen[B];
    uint8_t rmask[B * R];
    float logits[B * R * V];
    double grad[B * R * V] = {0}, ls[V], pr[V], loss = 0, Nref = 0;
    rng_t r = rng_stream(CONF_SEED, CONF_RNG, 500, 0);
    for (int i = 0; i < B; i++) {
        int32_t buf[8];
        task->prompt(task, SPLIT_TRAIN, (uint64_t)i, buf);
        prompt[i] = buf[0];
        rlen[i] = task->reference(task, SPLIT_TRAIN, (uint64_t)i, ref + i * R);
        Nref += rlen[i];
        for (int t = 0; t < R; t++) rmask[i * R + t] = t < rlen[i];
        for (int q = 0; q < R * V; q++) logits[i * R * V + q] = (float)unif(&r, -2.0, 2.0);
    }
    for (int q = 0; q < B * R; q++) {
        if (!rmask[q]) continue;
        log_softmax_probs_row(logits + q * V, V, ls, pr); /* as the trainer: one pass of exps */
        int y = ref[q];
        loss -= ls[y];
        for (int j = 0; j < V; j++) grad[q * V + j] = pr[j] / Nref;
        grad[q * V + y] -= 1.0 / Nref;
    }
    loss /= Nref;
    task_destroy(task);
    cw_t w;
    if (file_begin(&w, path, "target_nll", "supervised NLL of one reference continuation per prompt (L_tgt) and its gradient w.r.t. the logits", err))
        return -1;
    case_begin(&w, "target_nll_toy_match", "target_nll", "toy_match (world seed 0): its three prompts and their references");
    attr_str(&w, w.cas, "task", "toy_match");
    attr_i64(&w, w.cas, "world_seed", 0);
    hsize_t b1[1] = {B}, br[2] = {B, R}, brv[3] = {B, R, V};
    in_i32(&w, "prompt", 1, b1, prompt, "prompt token (toy_match: one token)");
    in_i32(&w, "ref_token", 2, br, ref, "reference continuation y_ref (B, R)");
    in_i32(&w, "ref_length", 1, b1, rlen, "reference tokens per prompt");
    in_u8(&w, "ref_mask", 2, br, rmask, "1 where t < ref_length");
    in_f32(&w, "logits", 3, brv, logits, "policy logits at state (x, y_ref_<t), scoring y_ref_t");
    ex_f64(&w, "target_loss", 0, NULL, &loss, "", "-(1/N_ref) sum log softmax(logits)[y_ref], N_ref = sum ref_length");
    ex_f64(&w, "grad_logits", 3, brv, grad, "", "d target_loss / d logits = (softmax - onehot(y_ref)) / N_ref");
    return file_end(&w, err);
}

/* ---- family: guided_masks -------------------------------------------------------------------- */

static int family_masks(const char *path, err_t *err) {
    static const int len[6] = {6, 6, 4, 5, 3, 6}, kk[6] = {1, 0, 3, 4, 2, 5};
    static const struct {
        const char *name, *desc;
        int plan;
    } cases[] = {
        {"masks_ppo", "PPO: every real token gets the policy and the value loss", PLAN_PPO},
        {"masks_ppopp", "PPO++: guide roll-in t < k (u = 1), learner roll-out; both losses on learner tokens only", PLAN_PPOPP},
        {"masks_aggrevated", "AggreVaTeD: learner roll-in t < k (u = 1), guide roll-out; policy loss on the learner prefix, value loss on guide tokens; u = 0 is a full guide rollout (value data only)",
         PLAN_AGGREVATED},
    };
    cw_t w;
    if (file_begin(&w, path, "guided_masks", "train and value masks of PPO, PPO++ and AggreVaTeD from the roll-in switch points", err)) return -1;
    for (int i = 0; i < 3; i++) {
        pcase_t c;
        draw_t d = {0.3, 0.3, 0.2, 0.2};
        pcase_draw(&c, 600 + i, 6, CT, len, cases[i].plan == PLAN_PPO ? NULL : kk, cases[i].plan, &d);
        case_begin(&w, cases[i].name, "guided_masks", cases[i].desc);
        write_common_inputs(&w, &c);
        hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T};
        ex_u8(&w, "train_mask", 2, bt, c.train_mask, "1: policy loss and entropy on this token");
        ex_u8(&w, "value_mask", 2, bt, c.value_mask, "1: value loss on this token");
        case_end(&w);
    }
    return file_end(&w, err);
}

/* ---- family: toy_exact ----------------------------------------------------------------------- */

/* A tabular policy over the states of a toy task: state (x, a_0..a_{l-1}), l < H, numbered per
 * prompt x by length first, then as a base-V number (a_0 most significant). */
typedef struct {
    int V, H, n_prompts, per_prompt; /* states per prompt = (V^H - 1)/(V - 1) */
    const double *ls;                /* (S, V) log-softmax rows */
} tab_pol_t;

static int state_index(const tab_pol_t *p, const int32_t *seq, int len) {
    int l = len - 1, off = 0, pw = 1, num = 0;
    for (int i = 0; i < l; i++) {
        off += pw;
        pw *= p->V;
    }
    for (int i = 0; i < l; i++) num = num * p->V + seq[1 + i];
    return seq[0] * p->per_prompt + off + num;
}

static double tab_logprob(void *ctx, const int32_t *seq, int len, int next) {
    const tab_pol_t *p = ctx;
    return p->ls[(size_t)state_index(p, seq, len) * (size_t)p->V + (size_t)next];
}

typedef struct {
    const char *name, *task, *desc;
    double beta;
    double spread; /* logits drawn from [-spread, spread] */
} toy_case_t;

static int write_toy_case(cw_t *w, int id, const toy_case_t *tc, err_t *err) {
    task_params_t tp = {tc->task, 0, 0, 0, 0, 0.0};
    task_t *task = task_create(&tp, err);
    if (!task) return -1;
    int V = task->vocab, H = task->gen_max, X = toy_prompt_count(task), N = 1;
    for (int i = 0; i < H; i++) N *= V;
    int per = (N - 1) / (V - 1), S = X * per;
    float *lg = malloc((size_t)S * V * sizeof *lg), *rg = malloc((size_t)S * V * sizeof *rg);
    double *ls = malloc((size_t)S * V * sizeof *ls), *lr = malloc((size_t)S * V * sizeof *lr);
    double *pg = calloc((size_t)S * V, sizeof *pg), *pgr = calloc((size_t)S * V, sizeof *pgr);
    double *opt = malloc((size_t)S * V * sizeof *opt), *Z = calloc((size_t)S * V, sizeof *Z);
    int32_t *seqs = malloc((size_t)X * N * (1 + H) * sizeof *seqs), *st_tok = malloc((size_t)S * H * sizeof *st_tok);
    int32_t *st_len = malloc((size_t)S * sizeof *st_len);
    double *rew = malloc((size_t)X * N * sizeof *rew), *sprob = malloc((size_t)X * N * sizeof *sprob);
    int rc = -1;
    if (!lg || !rg || !ls || !lr || !pg || !pgr || !opt || !Z || !seqs || !st_tok || !st_len || !rew || !sprob) {
        err_set(err, "conformance: out of memory for toy case '%s'", tc->name);
        goto done;
    }
    rng_t r = rng_stream(CONF_SEED, CONF_RNG, (uint64_t)id, 0);
    for (int s = 0; s < S * V; s++) lg[s] = (float)unif(&r, -tc->spread, tc->spread);
    for (int s = 0; s < S * V; s++) rg[s] = (float)unif(&r, -1.0, 1.0);
    for (int s = 0; s < S; s++) {
        log_softmax_row(lg + s * V, V, ls + s * V);
        log_softmax_row(rg + s * V, V, lr + s * V);
    }
    tab_pol_t pi = {V, H, X, per, ls}, ref = {V, H, X, per, lr};
    /* the states, for readers: prefix tokens (-1 padded) and length */
    for (int x = 0; x < X; x++) {
        int s = x * per;
        for (int l = 0, cnt = 1; l < H; l++, cnt *= V)
            for (int num = 0; num < cnt; num++, s++) {
                st_len[s] = l;
                for (int i = 0; i < H; i++) st_tok[s * H + i] = -1;
                for (int i = l - 1, v = num; i >= 0; i--, v /= V) st_tok[s * H + i] = v % V;
            }
    }
    /* every sequence: reward, probability under pi; the exact gradients by enumeration:
     * dJ/dz_{s,j} = E_x sum_y pi(y|x) (R - beta log pi/ref)(y) sum_t [s_t = s] (delta_{j a_t} - pi(j|s)),
     * the score-function identity (the extra -beta E[d log pi] term has expectation 0) */
    double rmax = 0.0;
    for (int x = 0; x < X; x++)
        for (int n = 0; n < N; n++) {
            int32_t *sq = seqs + ((size_t)x * N + n) * (1 + H);
            sq[0] = x;
            for (int i = H - 1, v = n; i >= 0; i--, v /= V) sq[1 + i] = v % V;
            rew[x * N + n] = task->reward(task, SPLIT_TRAIN, (uint64_t)x, sq + 1, H);
            if (rew[x * N + n] > rmax) rmax = rew[x * N + n];
        }
    for (int x = 0; x < X; x++)
        for (int n = 0; n < N; n++) {
            int32_t *sq = seqs + ((size_t)x * N + n) * (1 + H);
            double lp = 0, lq = 0;
            for (int t = 0; t < H; t++) {
                lp += tab_logprob(&pi, sq, 1 + t, sq[1 + t]);
                lq += tab_logprob(&ref, sq, 1 + t, sq[1 + t]);
            }
            double p = dm_exp(lp), R = rew[x * N + n];
            sprob[x * N + n] = p;
            double wk = p * (R - tc->beta * (lp - lq)) / X, wr = p * R / X;
            /* pi*(y|x) proportional to ref(y|x) exp(R/beta): accumulate the unnormalised mass of
             * each (state, action) to get pi*(a|s) = Z(s a) / Z(s) */
            double zq = dm_exp(lq + (R - rmax) / tc->beta);
            for (int t = 0; t < H; t++) {
                int s = state_index(&pi, sq, 1 + t);
                for (int j = 0; j < V; j++) {
                    double pj = dm_exp(ls[s * V + j]), dj = (j == sq[1 + t]) - pj;
                    pg[s * V + j] += wk * dj;
                    pgr[s * V + j] += wr * dj;
                }
                Z[s * V + sq[1 + t]] += zq;
            }
        }
    for (int s = 0; s < S; s++) {
        double tot = 0;
        for (int j = 0; j < V; j++) tot += Z[s * V + j];
        for (int j = 0; j < V; j++) opt[s * V + j] = Z[s * V + j] / tot;
    }
    /* the values, from envs/toy.c itself */
    double value = toy_policy_value(task, tab_logprob, &pi, NULL, NULL, 0.0);
    double kl_value = toy_policy_value(task, tab_logprob, &pi, tab_logprob, &ref, tc->beta);
    double kl_opt = toy_kl_optimum(task, tab_logprob, &ref, tc->beta);

    case_begin(w, tc->name, "toy_exact", tc->desc);
    attr_str(w, w->cas, "task", tc->task);
    attr_i64(w, w->cas, "world_seed", 0);
    attr_f64(w, w->cas, "beta", tc->beta);
    attr_i64(w, w->cas, "vocab", V);
    attr_i64(w, w->cas, "horizon", H);
    attr_i64(w, w->cas, "prompts", X);
    hsize_t sv[2] = {(hsize_t)S, (hsize_t)V}, sh[2] = {(hsize_t)S, (hsize_t)H}, s1[1] = {(hsize_t)S};
    hsize_t nh[2] = {(hsize_t)X * N, (hsize_t)(1 + H)}, n1[1] = {(hsize_t)X * N};
    in_i32(w, "sequence", 2, nh, seqs, "every (prompt, generation) pair: [x, a_0..a_{H-1}]; prompts are uniform");
    double *rw = rew;
    hid_t d = dset(w, w->in, "task_reward", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, n1, rw, "R(x, y) of each sequence");
    if (d >= 0) H5Dclose(d);
    in_i32(w, "state_tokens", 2, sh, st_tok, "state s = (x, a_0..a_{l-1}): its generated prefix, -1 padded");
    hid_t d2 = -1;
    {
        int32_t *sp = malloc((size_t)S * sizeof *sp);
        if (sp) {
            for (int s = 0; s < S; s++) sp[s] = s / per;
            in_i32(w, "state_prompt", 1, s1, sp, "the prompt token x of each state");
            free(sp);
        } else {
            fail_at(w, "state_prompt");
        }
    }
    (void)d2;
    in_i32(w, "state_length", 1, s1, st_len, "generated tokens in the state's prefix (0..H-1)");
    in_f32(w, "logits", 2, sv, lg, "the tabular policy pi: logits per state (S, V)");
    in_f32(w, "ref_logits", 2, sv, rg, "the reference policy pi_ref: logits per state (S, V)");
    ex_f64(w, "sequence_prob", 1, n1, sprob, "", "pi(y|x) of each sequence");
    ex_f64(w, "value", 0, NULL, &value, "", "J(pi) = E_x E_{y~pi} R(x, y)");
    ex_f64(w, "kl_value", 0, NULL, &kl_value, "", "J_beta(pi) = E_x E_{y~pi}[R] - beta E_x KL(pi(.|x) || pi_ref(.|x)) (sequence-level KL)");
    ex_f64(w, "kl_optimum_value", 0, NULL, &kl_opt, "", "max_pi J_beta = E_x beta log sum_y pi_ref(y|x) exp(R(x,y)/beta)");
    ex_f64(w, "kl_optimum_policy", 2, sv, opt, "", "pi*(a|s) of the maximiser, pi*(y|x) proportional to pi_ref(y|x) exp(R/beta)");
    ex_f64(w, "policy_gradient", 2, sv, pg, "", "d J_beta / d logits of pi (exact, by enumeration)");
    ex_f64(w, "policy_gradient_reward", 2, sv, pgr, "", "d J / d logits of pi (beta = 0: reward only)");
    rc = 0;
done:
    free(lg); free(rg); free(ls); free(lr); free(pg); free(pgr); free(opt); free(Z);
    free(seqs); free(st_tok); free(st_len); free(rew); free(sprob);
    task_destroy(task);
    case_end(w);
    return rc;
}

static int family_toy(const char *path, err_t *err) {
    static const toy_case_t cases[] = {
        {"toy_match_beta0.1", "toy_match", "toy_match (V 3, H 4, 3 prompts), a random tabular policy, beta_kl .1", 0.1, 1.0},
        {"toy_match_beta1", "toy_match", "toy_match, a near-uniform random policy, beta_kl 1", 1.0, 0.3},
        {"toy_lock_beta0.05", "toy_lock", "toy_lock (V 4, H 6, one prompt: the combination lock), beta_kl .05", 0.05, 1.5},
    };
    cw_t w;
    if (file_begin(&w, path, "toy_exact", "exact values, KL-regularised optimum and exact policy gradients of tabular policies on the enumerable toy tasks", err))
        return -1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (write_toy_case(&w, 700 + (int)i, &cases[i], err)) {
            H5Fclose(w.file);
            return -1;
        }
    return file_end(&w, err);
}

/* ---- family: ppo_step ------------------------------------------------------------------------ */

/* One whole PPO step on a batch: shaped rewards and GAE from the rollout-time quantities, then the
 * combined loss on the same minibatch with those advantages and returns, as the trainer chains
 * them (the float32 advantages and returns it stores are what its loss reads). */
typedef struct {
    const char *name, *desc;
    int plan;
    double gamma, lambda, beta_kl;
    int kl_in_reward, norm_adv, value_clip;
    double clip, vf_clip, vf_coef, ent_coef;
} step_case_t;

static void write_step_case(cw_t *w, int id, const step_case_t *g) {
    static const int len[6] = {6, 3, 5, 2, 6, 4}, kk[6] = {2, 0, 3, 1, 4, 2};
    pcase_t c;
    draw_t d = {0.4, 0.5, g->clip, g->vf_clip};
    pcase_draw(&c, id, 6, CT, len, g->plan == PLAN_PPO ? NULL : kk, g->plan, &d);
    batch_t b;
    batch_init(&b, c.B, CP + c.T, c.T, 1);
    b.n = c.B;
    for (int i = 0; i < c.B; i++) {
        b.gen_len[i] = c.length[i];
        b.task_reward[i] = c.task_reward[i];
        for (int t = 0; t < c.T; t++) {
            int64_t q = batch_tok(&b, i, t);
            b.actor[q] = c.actor[i * c.T + t];
            b.logp[q] = c.logp_old[i * c.T + t];
            b.logp_ref[q] = c.logp_ref[i * c.T + t];
            b.value[q] = c.value_old[i * c.T + t];
        }
    }
    ppo_rewards_and_gae(&b, g->kl_in_reward ? g->beta_kl : 0.0, 0, g->gamma, g->lambda);
    int n = c.B * c.T;
    float advf[CB * CT] = {0}, retf[CB * CT] = {0};
    double adv[CB * CT] = {0}, ret[CB * CT] = {0};
    for (int i = 0; i < c.B; i++)
        for (int t = 0; t < c.length[i]; t++) {
            int64_t q = batch_tok(&b, i, t);
            advf[i * c.T + t] = b.advantage[q];
            retf[i * c.T + t] = b.returns[q];
            adv[i * c.T + t] = b.advantage[q];
            ret[i * c.T + t] = b.returns[q];
        }
    batch_free(&b);
    double N = 0, NV = 0, sa = 0, saa = 0;
    for (int q = 0; q < n; q++) {
        NV += c.value_mask[q];
        if (c.train_mask[q]) {
            N += 1;
            sa += advf[q];
            saa += (double)advf[q] * advf[q];
        }
    }
    double mean = 0.0, scale = 1.0;
    if (g->norm_adv) ppo_adv_norm(sa, saa, N, &mean, &scale);
    double glp[CB * CT] = {0}, gv[CB * CT] = {0}, pl = 0, ent = 0, vl = 0;
    for (int q = 0; q < n; q++) {
        if (c.train_mask[q]) {
            double lp = c.ls[q * CV + c.token[q]], A = ((double)advf[q] - mean) * scale, dl, rho;
            pl += ppo_pg_term(lp, (double)c.logp_old[q], A, g->clip, &dl, &rho);
            glp[q] = dl / N;
            ent += ppo_entropy_row(c.p + q * CV, c.ls + q * CV, CV);
        }
        if (c.value_mask[q]) {
            double dv;
            int cl;
            vl += 0.5 * ppo_vf_term(c.value[q], c.value_old[q], retf[q], g->value_clip, g->vf_clip, &dv, &cl);
            gv[q] = g->vf_coef * dv / NV;
        }
    }
    pl /= N;
    ent /= N;
    vl /= NV;
    double loss = pl - g->ent_coef * ent + g->vf_coef * vl; /* ppo_minibatch_grad's total, no target term */
    case_begin(w, g->name, "ppo_step", g->desc);
    attr_f64(w, w->cas, "gamma", g->gamma);
    attr_f64(w, w->cas, "lambda", g->lambda);
    attr_f64(w, w->cas, "beta_kl", g->beta_kl);
    attr_i64(w, w->cas, "kl_in_reward", g->kl_in_reward);
    attr_i64(w, w->cas, "kl_on_guide", 0);
    attr_f64(w, w->cas, "clip", g->clip);
    attr_i64(w, w->cas, "norm_adv", g->norm_adv);
    attr_i64(w, w->cas, "value_clip", g->value_clip);
    attr_f64(w, w->cas, "vf_clip", g->vf_clip);
    attr_f64(w, w->cas, "vf_coef", g->vf_coef);
    attr_f64(w, w->cas, "ent_coef", g->ent_coef);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T}, btv[3] = {(hsize_t)c.B, (hsize_t)c.T, CV}, b1[1] = {(hsize_t)c.B};
    in_u8(w, "train_mask", 2, bt, c.train_mask, "1: the token gets the policy loss and entropy");
    in_u8(w, "value_mask", 2, bt, c.value_mask, "1: the token gets the value loss");
    in_f32(w, "logits", 3, btv, c.logits, "logits of the policy being optimised; logp = log_softmax(logits)[token]");
    in_f32(w, "logp", 2, bt, c.logp, "log pi_theta(a_t|s_t), the policy being optimised");
    in_f32(w, "logp_old", 2, bt, c.logp_old, "log pi_old(a_t|s_t), the rollout policy (the run log's logp)");
    in_f32(w, "logp_ref", 2, bt, c.logp_ref, "log pi_ref(a_t|s_t)");
    in_f32(w, "value", 2, bt, c.value, "V_theta(s_t), the critic being optimised");
    in_f32(w, "value_old", 2, bt, c.value_old, "V_old(s_t) at rollout time: GAE's values and the clip centre");
    in_f32(w, "task_reward", 1, b1, c.task_reward, "R(x, y), paid on the last generated token");
    ex_f64(w, "advantage", 2, bt, adv, "mask", "GAE(gamma, lambda) of the shaped rewards with V_old");
    ex_f64(w, "returns", 2, bt, ret, "mask", "G_t = A_t + V_old(s_t), the value target (from the raw, unnormalised A)");
    ex_f64(w, "policy_loss", 0, NULL, &pl, "", "clipped surrogate with these advantages (normalised when norm_adv)");
    ex_f64(w, "value_loss", 0, NULL, &vl, "", "value loss against these returns");
    ex_f64(w, "entropy", 0, NULL, &ent, "", "mean entropy over train_mask tokens");
    ex_f64(w, "loss", 0, NULL, &loss, "", "policy_loss - ent_coef entropy + vf_coef value_loss");
    ex_f64(w, "grad_logp", 2, bt, glp, "", "d loss / d logp (through the policy term; the entropy depends on the logits)");
    ex_f64(w, "grad_value", 2, bt, gv, "", "d loss / d value = vf_coef d value_loss / d value");
    case_end(w);
}

static int family_step(const char *path, err_t *err) {
    static const step_case_t cases[] = {
        {"step_ppo", "PPO: KL-shaped rewards (beta_kl .05), GAE .99/.95, clipped policy and value losses, c_V .5, c_ent .01",
         PLAN_PPO, 0.99, 0.95, 0.05, 1, 0, 1, 0.2, 0.2, 0.5, 0.01},
        {"step_ppo_norm_adv", "as step_ppo with advantage normalisation: the returns still use the raw advantages",
         PLAN_PPO, 0.99, 0.95, 0.05, 1, 1, 1, 0.2, 0.2, 0.5, 0.01},
        {"step_ppopp_tril", "TRIL-compatible PPO++: kl_in_guided_reward = false, no advantage normalisation, guide roll-in masks, gamma 1",
         PLAN_PPOPP, 1.0, 0.95, 0.05, 0, 0, 1, 0.2, 0.2, 0.5, 0.0},
        {"step_aggrevated", "AggreVaTeD: policy loss on the learner prefix, value loss on guide tokens, no value clipping",
         PLAN_AGGREVATED, 0.99, 0.95, 0.05, 1, 0, 0, 0.2, 0.2, 1.0, 0.0},
    };
    cw_t w;
    if (file_begin(&w, path, "ppo_step", "one whole PPO step: shaped rewards, GAE, then the combined loss with those advantages and returns", err))
        return -1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) write_step_case(&w, 800 + (int)i, &cases[i]);
    return file_end(&w, err);
}

/* ---- family: critic_free --------------------------------------------------------------------- */

static const char *const est_names[] = {"gae", "grpo", "rloo", "reinforce", "remax", "guidebase"};
static const char *const kl_names[] = {"k1", "k2", "k3"};
static const char *const scale_names[] = {"group", "batch", "none"};
static const char *const baseline_names[] = {"mean", "none"};
static const char *const agg_names[] = {"token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"};

/* The rollout-time quantities of a padded case in a batch, as the trainer holds them. */
static void pcase_to_batch(const pcase_t *c, batch_t *b) {
    batch_init(b, c->B, CP + c->T, c->T, 1);
    b->n = c->B;
    for (int i = 0; i < c->B; i++) {
        b->gen_len[i] = c->length[i];
        b->task_reward[i] = c->task_reward[i];
        for (int t = 0; t < c->T; t++) {
            int64_t q = batch_tok(b, i, t);
            b->actor[q] = c->actor[i * c->T + t];
            b->logp[q] = c->logp_old[i * c->T + t];
            b->logp_ref[q] = c->logp_ref[i * c->T + t];
            b->value[q] = c->value_old[i * c->T + t];
        }
    }
}

typedef struct {
    const char *name, *desc;
    int plan, estimator, K, scale, baseline, kl_est;
    double beta_kl;
    int equal_group; /* >= 0: every task reward of this group is the same */
} cf_case_t;

/* Sequence rewards and critic-free advantages: est_sequence_rewards then est_advantages, the
 * trainer's calls (sim/run/train.c) with kl.placement = reward. */
static void write_cf_case(cw_t *w, int id, const cf_case_t *g) {
    static const int len[CB] = {6, 3, 5, 2, 6, 4, 1, 5}, kk[CB] = {2, 0, 3, 1, 4, 2, 0, 3};
    pcase_t c;
    draw_t d = {0.3, 0.3, 0.2, 0.2};
    pcase_draw(&c, id, CB, CT, len, g->plan == PLAN_PPO ? NULL : kk, g->plan, &d);
    int K = g->K, G = (CB + K - 1) / K;
    if (g->equal_group >= 0)
        for (int q = 1; q < K && g->equal_group * K + q < CB; q++)
            c.task_reward[g->equal_group * K + q] = c.task_reward[g->equal_group * K];
    float remf[CB] = {0};
    double remR[CB] = {0};
    rng_t r = rng_stream(CONF_SEED, CONF_RNG, (uint64_t)id, 1);
    for (int q = 0; q < G; q++) {
        remf[q] = (float)unif(&r, 0.0, 1.0);
        remR[q] = remf[q];
    }
    int32_t grp[CB];
    for (int i = 0; i < CB; i++) grp[i] = i / K;
    batch_t b;
    pcase_to_batch(&c, &b);
    est_sequence_rewards(&b, g->beta_kl, 0, g->kl_est);
    est_advantages(&b, g->estimator, K, g->scale, g->baseline, remR);
    double rew[CB * CT] = {0}, adv[CB * CT] = {0}, R[CB], base[CB];
    for (int i = 0; i < c.B; i++) {
        R[i] = b.ret[i];
        base[i] = b.baseline[i];
        for (int t = 0; t < c.length[i]; t++) {
            int64_t q = batch_tok(&b, i, t);
            rew[i * c.T + t] = b.reward[q];
            adv[i * c.T + t] = b.advantage[q];
        }
    }
    batch_free(&b);
    case_begin(w, g->name, "critic_free_advantage", g->desc);
    attr_str(w, w->cas, "estimator", est_names[g->estimator]);
    attr_i64(w, w->cas, "group_size", K);
    attr_str(w, w->cas, "scale", scale_names[g->scale]);
    attr_str(w, w->cas, "baseline", baseline_names[g->baseline]);
    attr_str(w, w->cas, "kl_estimator", kl_names[g->kl_est]);
    attr_str(w, w->cas, "kl_placement", "reward");
    attr_f64(w, w->cas, "beta_kl", g->beta_kl);
    attr_i64(w, w->cas, "kl_on_guide", 0);
    attr_f64(w, w->cas, "std_eps", EST_STD_EPS);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T}, b1[1] = {(hsize_t)c.B}, g1[1] = {(hsize_t)G};
    in_i32(w, "group", 1, b1, grp, "group id of each trajectory: K consecutive samples of one prompt");
    in_u8(w, "train_mask", 2, bt, c.train_mask, "1: the token gets the policy loss (the advantage is broadcast to every real token)");
    in_f32(w, "logp_old", 2, bt, c.logp_old, "log pi_old(a_t|s_t), the rollout policy (the run log's logp)");
    in_f32(w, "logp_ref", 2, bt, c.logp_ref, "log pi_ref(a_t|s_t)");
    in_f32(w, "task_reward", 1, b1, c.task_reward, "R(x, y), paid on the last generated token");
    in_f32(w, "baseline_reward", 1, g1, remf, "remax: the sequence reward of the greedy completion of each group's prompt (unused otherwise)");
    ex_f64(w, "reward", 2, bt, rew, "mask", "r_t = -beta_kl k(logp_old, logp_ref) on learner tokens, + task_reward on the last token (stored as float32)");
    ex_f64(w, "return", 1, b1, R, "", "R_i = sum of the (float32) shaped rewards of each trajectory");
    ex_f64(w, "baseline", 1, b1, base, "", "b_i: group mean (grpo), mean of the other K-1 (rloo), batch mean or 0 (reinforce), baseline_reward (remax)");
    ex_f64(w, "advantage", 2, bt, adv, "mask", "A_i = s_i (R_i - b_i) broadcast to the real tokens; 0 for grpo/rloo groups whose R are all equal (and K = 1)");
    case_end(w);
}

static int family_cf(const char *path, err_t *err) {
    static const cf_case_t cases[] = {
        {"grpo_scale_group", "GRPO: (R - group mean) / (group std + 1e-4), K 4, k1 KL in the reward (beta .05)", PLAN_PPO, EST_GRPO, 4, SCALE_GROUP, 0, KL_K1, 0.05, -1},
        {"grpo_scale_batch", "GRPO with grpo.scale = batch: group mean, the whole batch's std", PLAN_PPO, EST_GRPO, 4, SCALE_BATCH, 0, KL_K1, 0.05, -1},
        {"grpo_scale_none", "Dr. GRPO (grpo.scale = none): R - group mean, unscaled", PLAN_PPO, EST_GRPO, 4, SCALE_NONE, 0, KL_K1, 0.05, -1},
        {"grpo_equal_rewards_group", "GRPO, no KL, group 1's task rewards all equal: its advantages are exactly 0 (not 0/eps)", PLAN_PPO, EST_GRPO, 4, SCALE_GROUP, 0, KL_K1, 0.0, 1},
        {"grpo_k1_group", "GRPO with group.size = 1: every advantage is 0", PLAN_PPO, EST_GRPO, 1, SCALE_GROUP, 0, KL_K1, 0.05, -1},
        {"grpo_ppopp_k3_reward", "GRPO on a PPO++ batch: k3 KL in the reward on learner tokens only (beta .1), advantages broadcast over guide tokens too", PLAN_PPOPP, EST_GRPO, 4, SCALE_GROUP, 0, KL_K3, 0.1, -1},
        {"rloo", "RLOO: R - mean of the other K-1 of the group, K 4", PLAN_PPO, EST_RLOO, 4, 0, 0, KL_K1, 0.05, -1},
        {"rloo_k2_equal_rewards", "RLOO with K 2, no KL, group 2's rewards equal: its advantages are 0", PLAN_PPO, EST_RLOO, 2, 0, 0, KL_K1, 0.0, 2},
        {"reinforce_mean", "REINFORCE with the batch-mean baseline", PLAN_PPO, EST_REINFORCE, 4, 0, BASELINE_MEAN, KL_K1, 0.05, -1},
        {"reinforce_none", "REINFORCE without a baseline: A = R", PLAN_PPO, EST_REINFORCE, 4, 0, BASELINE_NONE, KL_K2, 0.05, -1},
        {"remax", "ReMax: R - R of the greedy completion of the group's prompt (baseline_reward); guidebase is the same arithmetic with the guide's completion", PLAN_PPO, EST_REMAX, 4, 0, 0, KL_K1, 0.05, -1},
    };
    cw_t w;
    if (file_begin(&w, path, "critic_free", "sequence rewards and critic-free advantages: GRPO, RLOO, REINFORCE, ReMax (est_sequence_rewards, est_advantages)", err))
        return -1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) write_cf_case(&w, 900 + (int)i, &cases[i]);
    return file_end(&w, err);
}

/* ---- family: kl ------------------------------------------------------------------------------ */

static void write_kl_est_case(cw_t *w, int id, const char *name, const char *desc, int est) {
    static const int len[6] = {6, 3, 5, 2, 6, 4};
    pcase_t c;
    draw_t d = {0.3, 0.3, 0.2, 0.2};
    pcase_draw(&c, id, 6, CT, len, NULL, PLAN_PPO, &d);
    double kl[CB * CT] = {0}, dk[CB * CT] = {0};
    for (int q = 0; q < c.B * c.T; q++)
        if (c.mask[q]) {
            kl[q] = est_kl(est, (double)c.logp[q], (double)c.logp_ref[q]);
            dk[q] = est_kl_dlogp(est, (double)c.logp[q], (double)c.logp_ref[q]);
        }
    case_begin(w, name, "kl_estimator", desc);
    attr_str(w, w->cas, "kl_estimator", kl_names[est]);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T};
    in_f32(w, "logp", 2, bt, c.logp, "log pi(a_t|s_t) of the sampled token");
    in_f32(w, "logp_ref", 2, bt, c.logp_ref, "log pi_ref(a_t|s_t)");
    ex_f64(w, "kl", 2, bt, kl, "mask", "k(logp, logp_ref), log rho = logp_ref - logp: k1 = -log rho, k2 = (log rho)^2/2, k3 = (rho - 1) - log rho");
    ex_f64(w, "grad_kl", 2, bt, dk, "mask", "d k / d logp, the sample held fixed: k1 1, k2 logp - logp_ref, k3 1 - rho");
    case_end(w);
}

/* kl.placement: the same KL either shapes the reward (r_t -= beta k(logp_old, logp_ref), no loss
 * term) or is a loss term beta agg(k(logp, logp_ref)) on the trained tokens (token_mean), with
 * the task reward alone in the reward. */
static void write_kl_place_case(cw_t *w, int id, const char *name, const char *desc, int placement, int est, double beta) {
    static const int len[6] = {6, 3, 5, 2, 6, 4};
    pcase_t c;
    draw_t d = {0.3, 0.3, 0.2, 0.2};
    pcase_draw(&c, id, 6, CT, len, NULL, PLAN_PPO, &d);
    batch_t b;
    pcase_to_batch(&c, &b);
    est_sequence_rewards(&b, placement == KL_IN_REWARD ? beta : 0.0, 0, est);
    double rew[CB * CT] = {0}, R[CB], glp[CB * CT] = {0}, N = 0, S = 0, kll = 0;
    for (int i = 0; i < c.B; i++) {
        R[i] = b.ret[i];
        for (int t = 0; t < c.length[i]; t++) rew[i * c.T + t] = b.reward[batch_tok(&b, i, t)];
    }
    batch_free(&b);
    for (int q = 0; q < c.B * c.T; q++) N += c.train_mask[q];
    if (placement == KL_IN_LOSS)
        for (int q = 0; q < c.B * c.T; q++)
            if (c.train_mask[q]) {
                double cw = est_token_weight(AGG_TOKEN_MEAN, N, S, 0, CT);
                kll += est_kl(est, (double)c.logp[q], (double)c.logp_ref[q]) * cw;
                glp[q] = beta * cw * est_kl_dlogp(est, (double)c.logp[q], (double)c.logp_ref[q]);
            }
    double term = beta * kll;
    case_begin(w, name, "kl_placement", desc);
    attr_str(w, w->cas, "kl_placement", placement == KL_IN_REWARD ? "reward" : "loss");
    attr_str(w, w->cas, "kl_estimator", kl_names[est]);
    attr_f64(w, w->cas, "beta_kl", beta);
    attr_str(w, w->cas, "loss_agg", "token_mean");
    attr_i64(w, w->cas, "kl_on_guide", 0);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T}, b1[1] = {(hsize_t)c.B};
    in_u8(w, "train_mask", 2, bt, c.train_mask, "1: the token gets the policy loss (and the KL-in-the-loss term)");
    in_f32(w, "logp", 2, bt, c.logp, "log pi_theta(a_t|s_t), the policy being optimised");
    in_f32(w, "logp_old", 2, bt, c.logp_old, "log pi_old(a_t|s_t), the rollout policy: the reward's KL is taken with it");
    in_f32(w, "logp_ref", 2, bt, c.logp_ref, "log pi_ref(a_t|s_t)");
    in_f32(w, "task_reward", 1, b1, c.task_reward, "R(x, y), paid on the last generated token");
    ex_f64(w, "reward", 2, bt, rew, "mask", "placement reward: -beta k(logp_old, logp_ref) per learner token + task_reward on the last; loss: task_reward only (float32)");
    ex_f64(w, "return", 1, b1, R, "", "sum of the shaped rewards");
    ex_f64(w, "kl_term", 0, NULL, &term, "", "placement loss: the loss term beta (1/N) sum train_mask k(logp, logp_ref); reward: 0");
    ex_f64(w, "grad_logp", 2, bt, glp, "", "d kl_term / d logp = beta (1/N) dk/dlogp on train_mask tokens; 0 for placement reward");
    case_end(w);
}

static int family_kl(const char *path, err_t *err) {
    cw_t w;
    if (file_begin(&w, path, "kl", "Schulman's KL estimators k1/k2/k3 and their derivatives (est_kl, est_kl_dlogp); KL in the reward vs in the loss", err))
        return -1;
    write_kl_est_case(&w, 1000, "kl_k1", "k1 = logp - logp_ref (unbiased, can be negative)", KL_K1);
    write_kl_est_case(&w, 1001, "kl_k2", "k2 = (logp - logp_ref)^2 / 2", KL_K2);
    write_kl_est_case(&w, 1002, "kl_k3", "k3 = (rho - 1) - log rho, rho = pi_ref / pi (GRPO's)", KL_K3);
    write_kl_place_case(&w, 1010, "kl_placement_reward_k1", "kl.placement = reward, k1, beta .1: shapes the per-token reward, no loss term", KL_IN_REWARD, KL_K1, 0.1);
    write_kl_place_case(&w, 1011, "kl_placement_reward_k3", "kl.placement = reward, k3, beta .1", KL_IN_REWARD, KL_K3, 0.1);
    write_kl_place_case(&w, 1012, "kl_placement_loss_k1", "kl.placement = loss, k1, beta .1: task reward only, KL as a token-mean loss term", KL_IN_LOSS, KL_K1, 0.1);
    write_kl_place_case(&w, 1013, "kl_placement_loss_k3", "kl.placement = loss, k3, beta .1 (GRPO's)", KL_IN_LOSS, KL_K3, 0.1);
    return file_end(&w, err);
}

/* ---- family: loss_agg ------------------------------------------------------------------------ */

typedef struct {
    const char *name, *desc;
    int plan, agg;
    double clip, clip_high, kl_beta;
    int kl_est;
    double dlogp;
} knob_case_t;

/* The policy loss with the issue-13 knobs, per token as mb_block (sim/rl/ppo.c) computes it:
 * ppo_pg_term_asym, the weight est_token_weight of loss.agg, the KL-in-the-loss term est_kl /
 * est_kl_dlogp. */
static void write_knob_case(cw_t *w, int id, const knob_case_t *g) {
    static const int len[6] = {6, 2, 5, 3, 6, 1}, kk[6] = {2, 0, 3, 1, 4, 0};
    pcase_t c;
    draw_t d = {g->dlogp, 0.3, g->clip, 0.2};
    pcase_draw(&c, id, 6, CT, len, g->plan == PLAN_PPO ? NULL : kk, g->plan, &d);
    int n = c.B * c.T;
    double N = 0, S = 0, Li[CB] = {0};
    for (int i = 0; i < c.B; i++) {
        for (int t = 0; t < c.T; t++) Li[i] += c.train_mask[i * c.T + t];
        N += Li[i];
        S += Li[i] > 0;
    }
    double hi = g->clip_high > 0 ? g->clip_high : g->clip;
    double grad[CB * CT] = {0}, pl = 0, kll = 0, cf = 0;
    for (int q = 0; q < n; q++) {
        if (!c.train_mask[q]) continue;
        double cw = est_token_weight(g->agg, N, S, Li[q / c.T], CT);
        double lp = c.ls[q * CV + c.token[q]], dl, rho;
        pl += ppo_pg_term_asym(lp, (double)c.logp_old[q], (double)c.advantage[q], g->clip, hi, &dl, &rho) * cw;
        double gq = dl * cw;
        if (g->kl_beta > 0) {
            kll += est_kl(g->kl_est, lp, (double)c.logp_ref[q]) * cw;
            gq += g->kl_beta * cw * est_kl_dlogp(g->kl_est, lp, (double)c.logp_ref[q]);
        }
        grad[q] = gq;
        cf += rho < 1.0 - g->clip || rho > 1.0 + hi;
    }
    cf /= N;
    double loss = pl + g->kl_beta * kll;
    case_begin(w, g->name, "policy_loss_knobs", g->desc);
    attr_f64(w, w->cas, "clip", g->clip);
    attr_f64(w, w->cas, "clip_high", g->clip_high);
    attr_str(w, w->cas, "loss_agg", agg_names[g->agg]);
    attr_i64(w, w->cas, "max_length", CT);
    attr_str(w, w->cas, "kl_placement", g->kl_beta > 0 ? "loss" : "reward");
    attr_str(w, w->cas, "kl_estimator", kl_names[g->kl_est]);
    attr_f64(w, w->cas, "beta_kl", g->kl_beta);
    attr_i64(w, w->cas, "norm_adv", 0);
    write_common_inputs(w, &c);
    hsize_t bt[2] = {(hsize_t)c.B, (hsize_t)c.T}, btv[3] = {(hsize_t)c.B, (hsize_t)c.T, CV};
    in_u8(w, "train_mask", 2, bt, c.train_mask, "1: the token gets the policy loss");
    in_f32(w, "logits", 3, btv, c.logits, "logits of the policy being optimised; logp = log_softmax(logits)[token]");
    in_f32(w, "logp", 2, bt, c.logp, "log pi_theta(a_t|s_t), the policy being optimised (the gradient is taken w.r.t. it)");
    in_f32(w, "logp_old", 2, bt, c.logp_old, "log pi_old(a_t|s_t): the ratio's denominator");
    in_f32(w, "logp_ref", 2, bt, c.logp_ref, "log pi_ref(a_t|s_t): the KL-in-the-loss term's reference");
    in_f32(w, "advantage", 2, bt, c.advantage, "A_t as given (junk in padding), not normalised");
    ex_f64(w, "policy_loss", 0, NULL, &pl, "",
           "-sum train_mask w_t min(rho A, clip(rho, 1-clip, 1+hi) A), hi = clip_high if > 0 else clip; w_t = 1/N (token_mean), 1/(S L_i) (seq_mean_token_mean), 1/(S max_length) (seq_mean_token_sum_norm)");
    ex_f64(w, "kl_loss", 0, NULL, &kll, "", "sum train_mask w_t k(logp, logp_ref) (0 when beta_kl = 0)");
    ex_f64(w, "loss", 0, NULL, &loss, "", "policy_loss + beta_kl kl_loss");
    ex_f64(w, "grad_logp", 2, bt, grad, "", "d loss / d logp; 0 without train_mask and in padding");
    ex_f64(w, "clip_frac", 0, NULL, &cf, "", "fraction of train_mask tokens with rho < 1-clip or rho > 1+hi");
    case_end(w);
}

static int family_knobs(const char *path, err_t *err) {
    static const knob_case_t cases[] = {
        {"agg_token_mean", "loss.agg = token_mean: one mean over the minibatch's trained tokens", PLAN_PPO, AGG_TOKEN_MEAN, 0.2, 0, 0, KL_K1, 0.5},
        {"agg_seq_mean_token_mean", "loss.agg = seq_mean_token_mean: each sequence's token mean, then the mean over sequences", PLAN_PPO, AGG_SEQ_MEAN_TOKEN_MEAN, 0.2, 0, 0, KL_K1, 0.5},
        {"agg_seq_mean_token_sum_norm", "loss.agg = seq_mean_token_sum_norm (Dr. GRPO): token sums / max_length, mean over sequences", PLAN_PPO, AGG_SEQ_MEAN_TOKEN_SUM_NORM, 0.2, 0, 0, KL_K1, 0.5},
        {"agg_seq_mean_token_mean_ppopp", "seq_mean_token_mean on a PPO++ batch: L_i counts trained tokens only (forced guide tokens excluded)", PLAN_PPOPP, AGG_SEQ_MEAN_TOKEN_MEAN, 0.2, 0, 0, KL_K1, 0.5},
        {"clip_higher", "DAPO clip-higher: ratio clipped to [1 - .2, 1 + .28]", PLAN_PPO, AGG_TOKEN_MEAN, 0.2, 0.28, 0, KL_K1, 0.6},
        {"kl_loss_k1", "KL in the loss, k1, beta .1, token_mean", PLAN_PPO, AGG_TOKEN_MEAN, 0.2, 0, 0.1, KL_K1, 0.3},
        {"kl_loss_k2", "KL in the loss, k2, beta .1, token_mean", PLAN_PPO, AGG_TOKEN_MEAN, 0.2, 0, 0.1, KL_K2, 0.3},
        {"kl_loss_k3_seq_mean_token_mean", "GRPO's loss: k3 KL in the loss (beta .1), seq_mean_token_mean, clip-higher .28", PLAN_PPO, AGG_SEQ_MEAN_TOKEN_MEAN, 0.2, 0.28, 0.1, KL_K3, 0.3},
    };
    cw_t w;
    if (file_begin(&w, path, "loss_agg", "policy loss with loss.agg modes, clip-higher and the KL-in-the-loss term, and its gradient w.r.t. the log-probs", err))
        return -1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) write_knob_case(&w, 1100 + (int)i, &cases[i]);
    return file_end(&w, err);
}

/* ---- export ---------------------------------------------------------------------------------- */

int conf_export(const char *dir, int force, err_t *err) {
    if (util_export_dir_ok(dir, force, "the kit's files there", err)) return -1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return err_set(err, "cannot create '%s': %s", dir, strerror(errno));
    int (*const fns[])(const char *, err_t *) = {family_gae, family_pg, family_vf, family_ent,
                                                 family_tgt, family_masks, family_toy, family_step,
                                                 family_cf, family_kl, family_knobs};
    for (int i = 0; conf_families[i]; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, conf_families[i]) >= (int)sizeof path)
            return err_set(err, "'%s': path too long", dir);
        if (fns[i](path, err)) return -1;
    }
    return 0;
}
