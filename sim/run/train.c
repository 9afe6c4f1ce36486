#include "train.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../algos/algo.h"
#include "../../algos/sl.h"
#include "../../envs/task.h"
#include "../rl/batch.h"
#include "../store/ckpt.h"
#include "../store/h5log.h"
#include "../nn/optim.h"
#include "../base/pool.h"
#include "../rl/ppo.h"
#include "../rl/rollout.h"
#include "../base/dmath.h"
#include "../base/util.h"
#include "../rl/estimators.h"

#ifndef RLGF_VERSION
#define RLGF_VERSION "unknown"
#endif

task_params_t train_task_params(const config_t *cfg) {
    /* TL;DR-sim takes its post length through prompt_len */
    int plen = strcmp(cfg->task, "tldr") == 0 ? cfg->tldr.post_len : cfg->imdb.prompt_len;
    task_params_t tp = {cfg->task, (uint64_t)cfg->world.seed, cfg->world.vocab, plen, cfg->imdb.gen_len};
    return tp;
}

void train_out_path(const config_t *cfg, char *buf, size_t len) {
    if (cfg->out[0]) {
        snprintf(buf, len, "%s", cfg->out);
        return;
    }
    /* The name carries the config hash: two runs that differ in any key (ppo.lr, ...) never
     * share a default name; the same config and seed always gets the same one. */
    char *text = cfg_run_text(cfg), hash[65] = "00000000";
    if (text) sha256_hex(text, strlen(text), hash);
    free(text);
    snprintf(buf, len, "results/%s-%s-s%lld-%.8s.h5", cfg->task, cfg->algo, (long long)cfg->seed, hash);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* wall clock for progress and /timing only */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parent_dir_of(const char *path, char *buf, size_t len) {
    snprintf(buf, len, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash) return 0;
    *slash = 0;
    return buf[0] != 0;
}

/* Weights and Adam moments all finite: a model read back with a NaN is never used. */
static int model_finite(const model_t *m) {
    if (!m) return 1;
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i]) || !isfinite(m->adam_m[i]) || !isfinite(m->adam_v[i])) return 0;
    return 1;
}

/* ---------- before any work: paths, memory, the output lock ---------- */

/* About how many bytes the run will hold at once: models (params, grads, two moments) of policy,
 * pi_ref, two critics and a guide; SL's examples and per-worker workspaces; the training and
 * evaluation batches; the update's per-worker logits. Generous, for a clear error up front
 * instead of a crash (or the OOM killer) minutes in. */
static double memory_estimate(const config_t *cfg, const task_t *task) {
    double V = task->vocab, S = task->prompt_max + task->gen_max, G = task->gen_max, C = cfg->model.channels,
           L = cfg->model.layers, W = cfg->threads, B = ROLLOUT_BLOCK;
    double params = strcmp(cfg->model.kind, "tabular") == 0 ? S * V * V : V * C + S * C + L * (12 * C * C + 13 * C) + 3 * C;
    double models = 5 * params * 16;
    double sl = strcmp(cfg->model.kind, "gpt") == 0
                    ? (double)cfg->sl.examples * (S + 1) * 4 + (double)cfg->sl.examples * 4 +
                          ((double)cfg->sl.batch / B + 1) * params * 4
                    : 0;
    double per_traj = S * 4 + G * 31 + 64 + (double)task->n_metrics * 8;
    int n_eval = cfg->eval.prompts > cfg->eval.test_prompts ? cfg->eval.prompts : cfg->eval.test_prompts;
    double batches = ((double)cfg->trajectories + n_eval) * per_traj * 2;
    double work = W * B * S * (3 * V * 4 + L * C * 4 * 24 + 8);
    return models + sl + batches + work + 64.0 * (1 << 20);
}

/* The memory this process may use: the address-space and data limits (ulimit -v / -d) and the
 * machine's physical memory, whichever is smallest; 0 when unknown. */
static double memory_available(void) {
    double avail = 0;
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && psz > 0) avail = (double)pages * (double)psz;
    int res[2] = {RLIMIT_AS, RLIMIT_DATA};
    for (int i = 0; i < 2; i++) {
        struct rlimit rl;
        if (getrlimit(res[i], &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (avail == 0 || (double)rl.rlim_cur < avail))
            avail = (double)rl.rlim_cur;
    }
    return avail;
}

/* Every check that can fail without doing work: the output path, the SL cache directory, the
 * guide's checkpoint and the memory the config needs. */
static int preflight(const config_t *cfg, const task_t *task, const char *out, int needs_sl, err_t *err) {
    struct stat st;
    size_t n = strlen(out);
    if (n == 0 || out[n - 1] == '/' || (stat(out, &st) == 0 && S_ISDIR(st.st_mode)))
        return err_set(err, "out = '%s' is a directory; expected a file name such as '%s%sRUN.h5'", out, out,
                       n && out[n - 1] == '/' ? "" : "/");
    char dir[1024];
    if (parent_dir_of(out, dir, sizeof dir) && util_mkdir_p(dir, err) != 0) return err_prefix(err, "out = '%s'", out);
    if (needs_sl) {
        if (stat(cfg->cache_dir, &st) == 0 && !S_ISDIR(st.st_mode))
            return err_set(err, "cache_dir = '%s' is not a directory (a file is in the way)", cfg->cache_dir);
        if (util_mkdir_p(cfg->cache_dir, err) != 0) return err_prefix(err, "cache_dir = '%s'", cfg->cache_dir);
        if (access(cfg->cache_dir, W_OK | X_OK) != 0)
            return err_set(err, "cache_dir = '%s' is not writable: %s", cfg->cache_dir, strerror(errno));
    }
    double need = memory_estimate(cfg, task), have = memory_available();
    if (have > 0 && need > have)
        return err_set(err, "this config needs about %.0f MiB of memory (sl.examples = %d, trajectories = %d, "
                       "model.channels = %d, threads = %d), more than the %.0f MiB available (ulimit -v / "
                       "physical memory)", need / (1 << 20), cfg->sl.examples, cfg->trajectories,
                       cfg->model.channels, cfg->threads, have / (1 << 20));
    return 0;
}

/* OUT.lock, held with flock for the whole run: a second run on the same output fails at once,
 * naming the first, and never touches its .partial, resume or policy files. The file holds the
 * owner's pid and host for that message. After locking, the inode is compared with the path's
 * so a lock file that its owner unlinked meanwhile is never trusted. */
static int lock_output(const char *out, int *fd_out, err_t *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s.lock", out);
    *fd_out = -1;
    for (int tries = 0; tries < 10; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return err_set(err, "cannot create lock file '%s': %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            char who[200] = "";
            ssize_t got = pread(fd, who, sizeof who - 1, 0);
            who[got > 0 ? got : 0] = 0;
            who[strcspn(who, "\n")] = 0;
            close(fd);
            if (e == ENOLCK || e == EOPNOTSUPP) return 0; /* a file system without locks: go on unlocked */
            if (e == EWOULDBLOCK)
                return err_set(err, "output '%s' is being written by another run (%s; lock file %s); "
                               "not touching its files: wait for it or choose another out=", out,
                               who[0] ? who : "pid unknown", path);
            return err_set(err, "cannot lock '%s': %s", path, strerror(e));
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            char host[128] = "?", line[256];
            gethostname(host, sizeof host - 1);
            host[sizeof host - 1] = 0;
            int len = snprintf(line, sizeof line, "pid %ld on %s\n", (long)getpid(), host);
            if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) { /* only for messages */ }
            *fd_out = fd;
            return 0;
        }
        close(fd);
    }
    return err_set(err, "cannot lock '%s': it keeps being replaced", path);
}

static void unlock_output(const char *out, int fd) {
    if (fd < 0) return;
    char path[1100];
    snprintf(path, sizeof path, "%s.lock", out);
    unlink(path); /* while still holding the lock: a waiting run then sees another inode and retries */
    close(fd);
}

/* ---------- run-log writing ---------- */

typedef struct {
    h5log_t *log;
    const task_t *task;
    int64_t tokens_logged;
} runlog_t;

#define TRY(x) do { if ((x) != 0) return -1; } while (0)

/* Appends every trajectory of b (and its tokens) to /trajectories. Names and types come from the
 * schema (sim/store/schema.h); the order of the columns is the table's. */
static int log_batch(runlog_t *rl, const batch_t *b, int64_t iteration, int who, int is_eval, err_t *err) {
    int n = b->n;
    int64_t *i64 = calloc((size_t)n + 1, sizeof *i64);
    int32_t *i32 = calloc((size_t)n + 1, sizeof *i32);
    double *f64 = calloc((size_t)n + 1, sizeof *f64);
    int64_t ntok = 0;
    for (int i = 0; i < n; i++) ntok += b->gen_len[i];
    size_t tcap = (size_t)(ntok > 0 ? ntok : 1);
    int32_t *ti = malloc(tcap * sizeof *ti);
    uint8_t *tu = malloc(tcap);
    float *tf = malloc(tcap * sizeof *tf);
    uint8_t *u8 = calloc((size_t)n + 1, 1);
    int rc = -1;
    if (!i64 || !i32 || !f64 || !ti || !tu || !tf || !u8) {
        err_set(err, "out of memory logging %d trajectories", n);
        goto done;
    }
#define COL(id, type, arr) if (h5log_append_col(rl->log, id, NULL, type, arr, (size_t)n, err)) goto done
#define TOKCOL(id, type, arr) if (h5log_append_col(rl->log, id, NULL, type, arr, (size_t)ntok, err)) goto done
    for (int i = 0; i < n; i++) i64[i] = iteration;
    COL(COL_TR_ITERATION, H5COL_I64, i64);
    for (int i = 0; i < n; i++) i32[i] = b->split[i];
    COL(COL_TR_SPLIT, H5COL_I32, i32);
    for (int i = 0; i < n; i++) i32[i] = who;
    COL(COL_TR_WHO, H5COL_I32, i32);
    for (int i = 0; i < n; i++) u8[i] = (uint8_t)is_eval;
    COL(COL_TR_EVAL, H5COL_U8, u8);
    COL(COL_TR_PROMPT_INDEX, H5COL_I64, b->prompt_index);
    COL(COL_TR_U, H5COL_U8, b->u);
    COL(COL_TR_K, H5COL_I32, b->k);
    COL(COL_TR_LENGTH, H5COL_I32, b->gen_len);
    COL(COL_TR_TASK_REWARD, H5COL_F64, b->task_reward);
    COL(COL_TR_RETURN, H5COL_F64, b->ret);
    /* group id and the estimator's baseline (evaluations: -1 and NaN) */
    for (int i = 0; i < n; i++) i32[i] = is_eval ? -1 : b->group[i];
    COL(COL_TR_GROUP, H5COL_I32, i32);
    for (int i = 0; i < n; i++) f64[i] = is_eval ? NAN : b->baseline[i];
    COL(COL_TR_BASELINE, H5COL_F64, f64);
    for (int m = 0; m < b->n_metrics; m++) {
        for (int i = 0; i < n; i++) f64[i] = b->metrics[(int64_t)i * b->n_metrics + m];
        if (h5log_append_col(rl->log, COL_TR_METRIC, rl->task->metric_names[m], H5COL_F64, f64, (size_t)n, err))
            goto done;
    }
    for (int i = 0; i < n; i++) {
        i64[i] = rl->tokens_logged;
        rl->tokens_logged += b->gen_len[i];
    }
    COL(COL_TR_TOKEN_OFFSET, H5COL_I64, i64);
    /* per token, flattened in trajectory order */
#define FLAT(src, dst) do { int64_t q = 0; for (int i = 0; i < n; i++) for (int t = 0; t < b->gen_len[i]; t++) dst[q++] = src; } while (0)
    FLAT(batch_gen(b, i)[t], ti);
    TOKCOL(COL_TR_TOKEN, H5COL_I32, ti);
    FLAT(b->actor[batch_tok(b, i, t)], tu);
    TOKCOL(COL_TR_ACTOR, H5COL_U8, tu);
    FLAT(b->pmask[batch_tok(b, i, t)], tu);
    TOKCOL(COL_TR_TRAIN_MASK, H5COL_U8, tu);
    FLAT(b->vmask[batch_tok(b, i, t)], tu);
    TOKCOL(COL_TR_VALUE_MASK, H5COL_U8, tu);
    FLAT(b->logp[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_LOGP, H5COL_F32, tf);
    FLAT(b->logp_ref[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_LOGP_REF, H5COL_F32, tf);
    FLAT(b->value[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_VALUE, H5COL_F32, tf);
    FLAT(b->reward[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_REWARD, H5COL_F32, tf);
    FLAT(b->advantage[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_ADVANTAGE, H5COL_F32, tf);
    FLAT(b->returns[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_RETURNS, H5COL_F32, tf);
#undef FLAT
#undef COL
#undef TOKCOL
    rc = 0;
done:
    free(i64); free(i32); free(f64); free(ti); free(tu); free(tf); free(u8);
    return rc;
}

/* ---------- evaluation ---------- */

typedef struct {
    const config_t *cfg;
    const task_t *task;
    rollout_engine_t *engine;
    batch_t batch;
    int64_t *prompt_idx;
    int evals_done; /* evaluation points so far: the key of the eval sampling streams */
    double nll;     /* reference NLL of the last generated evaluation */
} evaluator_t;

typedef struct {
    double reward, kl;
} eval_summary_t;


/* Generates from validation/test prompts 0..n-1 with `actor` (the learner, the guide or pi_ref)
 * into ev->batch and scores it. The learner's streams are keyed by the evaluation count, the
 * guide's by `who`, so adding baselines never moves the learner's bits. A black-box guide has no
 * log-probabilities: its logp and KL are NaN. Values and advantages mean nothing for an
 * evaluation (no critic is involved): they are logged as NaN; rewards and returns are those of
 * the task reward alone. */
static void eval_generate(evaluator_t *ev, const actor_t *actor, const model_t *ref, int who, int split, int n) {
    const config_t *cfg = ev->cfg;
    batch_t *b = &ev->batch;
    b->n = n;
    for (int i = 0; i < n; i++) ev->prompt_idx[i] = i;
    const actor_t *actors[2] = {actor, actor};
    rollout_plan_t plan = {-1, ACTOR_LEARNER, 0.0};
    uint32_t purpose[2] = {who == WHO_LEARNER ? RNG_EVAL : RNG_EVAL_BASELINE, 0};
    purpose[1] = purpose[0];
    uint64_t key = who == WHO_LEARNER ? (uint64_t)ev->evals_done++ : (uint64_t)who;
    rollout_generate(ev->engine, &plan, actors, b, split, ev->prompt_idx, (uint64_t)cfg->seed, purpose, key);
    memset(b->value, 0, (size_t)b->cap * (size_t)b->gen_cap * sizeof(float));
    rollout_score(ev->engine, b, who == WHO_GUIDE ? ref : actor->model, ref, NULL);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < b->gen_cap; t++) {
            int64_t k = batch_tok(b, i, t);
            b->pmask[k] = b->vmask[k] = 0;
            b->actor[k] = who == WHO_GUIDE ? ACTOR_GUIDE : ACTOR_LEARNER;
        }
    ppo_rewards_and_gae(b, 0.0, 0, 1.0, 1.0); /* rewards and returns of the task reward alone */
    for (int64_t k = 0; k < (int64_t)b->cap * b->gen_cap; k++) {
        b->value[k] = b->advantage[k] = NAN;
        if (who == WHO_GUIDE) b->logp[k] = NAN;
    }
    /* drift: perplexity of the task's held-out reference continuations under the policy */
    ev->nll = who == WHO_GUIDE ? NAN : rollout_reference_nll(ev->engine, actor->model, split, n);
}

/* Logs ev->batch as evaluation trajectories of `who` and one eval/ row. */
static int eval_log(evaluator_t *ev, runlog_t *rl, int who, int split, int64_t iteration, eval_summary_t *sum,
                    err_t *err) {
    batch_t *b = &ev->batch;
    int n = b->n;
    TRY(log_batch(rl, b, iteration, who, 1, err));

    /* eval row: mean and std of every metric, KL to pi_ref, length, reference perplexity */
    int nm = ev->task->n_metrics;
    TRY(h5log_append_i64(rl->log, COL_EV_ITERATION, iteration, err));
    TRY(h5log_append_i64(rl->log, COL_EV_SPLIT, split, err));
    TRY(h5log_append_i64(rl->log, COL_EV_WHO, who, err));
    TRY(h5log_append_i64(rl->log, COL_EV_N, n, err));
    for (int m = 0; m < nm + 2; m++) {
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++) {
            double v;
            if (m < nm) {
                v = b->metrics[(int64_t)i * nm + m];
            } else if (m == nm) {
                v = 0;
                for (int t = 0; t < b->gen_len[i]; t++) v += (double)b->logp[batch_tok(b, i, t)] - (double)b->logp_ref[batch_tok(b, i, t)];
            } else {
                v = b->gen_len[i];
            }
            s += v;
            ss += v * v;
        }
        double mean = s / n, var = n > 1 ? (ss - n * mean * mean) / (n - 1) : 0.0;
        const char *name = m < nm ? ev->task->metric_names[m] : (m == nm ? "kl" : "length");
        double sd = var > 0 ? sqrt(var) : 0.0;
        TRY(h5log_append_col(rl->log, COL_EV_MEAN, name, H5COL_F64, &mean, 1, err));
        TRY(h5log_append_col(rl->log, COL_EV_STD, name, H5COL_F64, &sd, 1, err));
        if (m == 0) sum->reward = mean;
        if (m == nm) sum->kl = mean;
    }
    TRY(h5log_append_f64(rl->log, COL_EV_REF_PPL, dm_exp(ev->nll), err));
    return 0;
}

static int evaluate(evaluator_t *ev, runlog_t *rl, const actor_t *actor, const model_t *ref, int who,
                    int split, int n, int64_t iteration, eval_summary_t *sum, err_t *err) {
    eval_generate(ev, actor, ref, who, split, n);
    return eval_log(ev, rl, who, split, iteration, sum, err);
}

/* ---------- progress ---------- */

typedef struct {
    int tty, quiet;
    double t0, last_print;
} progress_t;

static void progress_line(progress_t *p, int it, int total, double reward, double kl, double tok_s,
                          double eta, int final) {
    if (p->quiet) return;
    double now = now_seconds();
    char line[256];
    snprintf(line, sizeof line, "iter %d/%d  reward %.4f  kl %.4f  %.0f tok/s  ETA %.0fs", it, total,
             reward, kl, tok_s, eta);
    if (p->tty) {
        fprintf(stderr, "\r%-79s%s", line, final ? "\n" : "");
    } else if (final || now - p->last_print >= 10.0 || it == 1) {
        fprintf(stderr, "%s\n", line);
        p->last_print = now;
    }
    fflush(stderr);
}

static void sl_progress(const sl_epoch_t *e, void *ctx) {
    progress_t *p = ctx;
    if (!p->quiet) fprintf(stderr, "SL epoch %d: loss %.4f\n", e->epoch + 1, e->loss);
}

/* ---------- models ---------- */

static model_config_t policy_config(const config_t *cfg, const task_t *task, head_kind_t head) {
    model_config_t mc = {0};
    mc.kind = strcmp(cfg->model.kind, "tabular") == 0 ? MODEL_TABULAR : MODEL_GPT;
    mc.head = head;
    mc.vocab = task->vocab;
    mc.max_seq = task->prompt_max + task->gen_max;
    mc.channels = cfg->model.channels;
    mc.layers = cfg->model.layers;
    mc.heads = cfg->model.heads;
    return mc;
}

static model_t *new_model(const model_config_t *mc, uint64_t seed, uint32_t purpose, uint64_t index, err_t *err) {
    char eb[512] = "";
    rng_t r = rng_stream(seed, purpose, 0, index);
    model_t *m = model_create(mc, &r, eb, sizeof eb);
    if (!m) err_set(err, "model: %s", eb);
    return m;
}

/* The SL checkpoint for this config: loaded from the cache when present, else trained and saved. */
static model_t *sl_policy(const config_t *cfg, const task_t *task, pool_t *pool, progress_t *prog,
                          char *cache_path, size_t cache_len, err_t *err) {
    char *sl_text = cfg_sl_text(cfg);
    /* The key includes the program version: a checkpoint from other code is not this SL. */
    size_t kl = strlen(sl_text) + strlen(RLGF_VERSION) + 32;
    char *key = malloc(kl);
    snprintf(key, kl, "%sprogram_version = %s\n", sl_text, RLGF_VERSION);
    char hash[65];
    sha256_hex(key, strlen(key), hash);
    free(key);
    snprintf(cache_path, cache_len, "%s/sl-%.16s.h5", cfg->cache_dir, hash);
    model_t *policy = NULL;
    if (access(cache_path, F_OK) == 0) {
        /* Used only when it is what this config would train: its checksums hold and it was made
         * with this SL text (a file copied from another seed under this name is not). Otherwise
         * it is rebuilt, with a note even under --quiet: something changed a file behind our back. */
        err_t e2;
        char *saved = NULL;
        if (ckpt_verify(cache_path, 0, NULL, &e2) == 0 && ckpt_read_config(cache_path, &saved, &e2) == 0 &&
            strcmp(saved, sl_text) != 0)
            err_set(&e2, "%s was made with another SL config (its stored config text differs)", cache_path);
        else if (saved)
            policy = ckpt_load(cache_path, "policy", &e2);
        free(saved);
        if (policy && !model_finite(policy)) {
            err_set(&e2, "%s holds non-finite weights", cache_path);
            model_destroy(policy);
            policy = NULL;
        }
        if (policy && !prog->quiet) fprintf(stderr, "SL: using cached checkpoint %s\n", cache_path);
        if (!policy) fprintf(stderr, "note: SL cache not used, rebuilding it: %s\n", e2.msg);
    }
    if (!policy) {
        model_config_t mc = policy_config(cfg, task, HEAD_LM);
        policy = new_model(&mc, (uint64_t)cfg->seed, RNG_INIT_POLICY, 0, err);
        if (!policy) goto out;
        if (!prog->quiet) fprintf(stderr, "SL: training %d epochs on %d examples\n", cfg->sl.epochs, cfg->sl.examples);
        if (sl_train(policy, task, pool, cfg, sl_progress, prog, err) != 0) {
            model_destroy(policy);
            policy = NULL;
            goto out;
        }
        if (util_mkdir_p(cfg->cache_dir, err) != 0 ||
            ckpt_save(cache_path, (model_t *const[]){policy}, (const char *const[]){"policy"}, 1, sl_text, 0, err) != 0) {
            err_prefix(err, "saving the SL checkpoint");
            model_destroy(policy);
            policy = NULL;
            goto out;
        }
    }
out:
    free(sl_text);
    return policy;
}

/* Copies the transformer backbone of src (an LM) into dst (a critic of the same shape): the GPT
 * arena lays out the backbone first and the scalar head last (sim/nn/gpt.h), so it is a prefix. */
static void model_copy_backbone(model_t *dst, const model_t *src) {
    assert(dst->cfg.kind == MODEL_GPT && src->cfg.kind == MODEL_GPT && src->cfg.head == HEAD_LM &&
           dst->n_params == src->n_params + (size_t)dst->cfg.channels + 1);
    memcpy(dst->params, src->params, src->n_params * sizeof(float));
}

/* The critic starts from the policy's backbone (as in the reference code: a separate copy of the
 * same pretrained LM with a fresh scalar head). */
static model_t *make_critic(const config_t *cfg, const task_t *task, const model_t *policy, int index, err_t *err) {
    model_config_t mc = policy_config(cfg, task, HEAD_SCALAR);
    model_t *c = new_model(&mc, (uint64_t)cfg->seed, RNG_INIT_CRITIC, (uint64_t)index, err);
    if (c && mc.kind == MODEL_GPT) model_copy_backbone(c, policy);
    return c;
}

/* The guide: a black box that continues prefixes. `oracle` follows the task's expert with
 * probability guide.quality per token and otherwise samples its base policy (guide.path, or the
 * SL checkpoint = pi_ref); `checkpoint` samples the policy saved in guide.path. A loaded model is
 * returned in *owned for the caller to destroy. */
static int load_guide_model(const config_t *cfg, const task_t *task, model_t **owned, err_t *err) {
    if (!(*owned = ckpt_load(cfg->guide.path, "policy", err))) return err_prefix(err, "guide.path");
    if (!model_finite(*owned))
        return err_set(err, "guide.path '%s': the policy there has non-finite weights (from a diverged run?)",
                       cfg->guide.path);
    const model_config_t *mc = &(*owned)->cfg;
    if (mc->vocab != task->vocab || mc->max_seq < task->prompt_max + task->gen_max || mc->head != HEAD_LM)
        return err_set(err, "guide.path '%s': the policy there has vocab %d and max_seq %d; task %s needs "
                       "vocab %d and max_seq >= %d", cfg->guide.path, mc->vocab, mc->max_seq, task->name,
                       task->vocab, task->prompt_max + task->gen_max);
    return 0;
}

/* `owned`: the model of guide.path, loaded (and checked) before any work by load_guide_model. */
static int make_guide(const config_t *cfg, const task_t *task, const model_t *ref, const model_t *owned,
                      actor_t *guide, err_t *err) {
    const model_t *base = owned ? owned : ref;
    guide->model = base;
    guide->sampling = (sample_cfg_t){cfg->guide.temperature, cfg->guide.top_k, cfg->guide.top_p};
    guide->expert_q = strcmp(cfg->guide.type, "oracle") == 0 ? cfg->guide.quality : 0.0;
    if (guide->expert_q > 0 && !task->expert_next)
        return err_set(err, "guide.type = oracle: task %s has no expert", task->name);
    return 0;
}

/* <out>.policy.h5 (".h5" replaced): the final policy, loadable as guide.type=checkpoint. */
static int save_final_policy(const char *out, model_t *policy, const char *cfg_text, long step, err_t *err) {
    char path[1100];
    size_t n = strlen(out);
    int has_ext = n > 3 && !strcmp(out + n - 3, ".h5");
    snprintf(path, sizeof path, "%.*s.policy.h5", (int)(has_ext ? n - 3 : n), out);
    return ckpt_save(path, (model_t *const[]){policy}, (const char *const[]){"policy"}, 1, cfg_text, step, err);
}

/* ---------- resumable checkpoints ---------- */

/* Everything besides the models and the run log that the loop carries from one iteration to the
 * next. Random streams need no state: every draw comes from a stream keyed by (seed, purpose,
 * iteration, index), so a resumed run draws exactly what an uninterrupted one would. */
typedef struct {
    double next_it, pol_step, crit_step0, crit_step1, beta_kl, tokens_total, traj_total, evals_done,
        tokens_logged;
} run_state_t;

static const char *const STATE_NAMES[] = {"next_iteration", "policy_adam_steps", "critic_adam_steps",
                                          "guide_critic_adam_steps", "beta_kl", "tokens", "trajectories",
                                          "evaluations", "tokens_logged"};
#define N_STATE 9

static void resume_path(const char *out, char *buf, size_t len) {
    size_t n = strlen(out);
    int has_ext = n > 3 && !strcmp(out + n - 3, ".h5");
    snprintf(buf, len, "%.*s.resume.h5", (int)(has_ext ? n - 3 : n), out);
}

static int read_file(const char *path, void **data, size_t *len, err_t *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, "cannot read '%s': %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)(n > 0 ? n : 1));
    size_t got = *data ? fread(*data, 1, (size_t)n, f) : 0;
    fclose(f);
    if (n < 0 || got != (size_t)n) {
        free(*data);
        return err_set(err, "cannot read '%s'", path);
    }
    *len = (size_t)n;
    return 0;
}

static int write_file(const char *path, const void *data, size_t len, err_t *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return err_set(err, "cannot write '%s': %s", path, strerror(errno));
    size_t put = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || put != len) return err_set(err, "cannot write '%s' (disk full?)", path);
    return 0;
}

/* The models, the loop state and a copy of the flushed run log, in one file written atomically. */
static int save_resume(const char *out, const char *cfg_text, model_t *policy, model_t *ref, model_t *const critics[2],
                       const run_state_t *st, err_t *err) {
    char path[1100], partial[1100];
    resume_path(out, path, sizeof path);
    snprintf(partial, sizeof partial, "%s.partial", out);
    void *blob = NULL;
    size_t blen = 0;
    if (read_file(partial, &blob, &blen, err)) return -1;
    model_t *models[4] = {policy, ref, critics[0], critics[1]};
    const char *names[4] = {"policy", "ref", "critic", "guide_critic"};
    ckpt_extra_t x = {N_STATE, STATE_NAMES, &st->next_it, blob, blen};
    int rc = ckpt_save_ex(path, models, names, critics[1] ? 4 : 3, cfg_text, (int64_t)st->next_it, &x, err);
    free(blob);
    return rc;
}

static int load_resume(const char *out, const char *cfg_text, model_t **policy, model_t **ref, model_t *critics[2],
                       run_state_t *st, err_t *err) {
    char path[1100], partial[1100];
    resume_path(out, path, sizeof path);
    snprintf(partial, sizeof partial, "%s.partial", out);
    char *saved_cfg = NULL;
    if (ckpt_verify(path, N_STATE, STATE_NAMES, err) || ckpt_read_config(path, &saved_cfg, err)) return -1;
    int same = strcmp(saved_cfg, cfg_text) == 0;
    free(saved_cfg);
    if (!same)
        return err_set(err, "checkpoint '%s' was written by a run with another config (only threads, out, "
                       "cache_dir, log.timing and checkpoint.every may change on resume)", path);
    double *v = &st->next_it;
    for (int i = 0; i < N_STATE; i++)
        if (ckpt_read_state(path, STATE_NAMES[i], &v[i], err)) return -1;
    if (!(*policy = ckpt_load(path, "policy", err)) || !(*ref = ckpt_load(path, "ref", err)) ||
        !(critics[0] = ckpt_load(path, "critic", err)))
        return -1;
    err_t none;
    critics[1] = ckpt_load(path, "guide_critic", &none); /* only LOLS/D2LOLS have one */
    if (!critics[1] && !strstr(none.msg, "no model 'guide_critic'")) /* there, but damaged */
        return *err = none, -1;
    if (!model_finite(*policy) || !model_finite(*ref) || !model_finite(critics[0]) || !model_finite(critics[1]))
        return err_set(err, "checkpoint '%s' holds non-finite weights: not resuming from it", path);
    void *blob = NULL;
    size_t blen = 0;
    if (ckpt_read_blob(path, &blob, &blen, err)) return -1;
    int rc = write_file(partial, blob, blen, err);
    free(blob);
    return rc;
}

/* ---------- divergence ---------- */

/* The first quantity of an iteration that is not finite (NULL when all are): the losses and the
 * gradient norm of the update, the batch's reward and KL, then the weights and optimizer moments. */
static const char *nonfinite_quantity(const ppo_stats_t *st, double reward, double kl, const model_t *policy,
                                      const model_t *critic) {
    const struct { const char *name; double v; } q[] = {
        {"policy_loss", st->policy_loss}, {"value_loss", st->value_loss}, {"target_loss", st->target_loss},
        {"entropy", st->entropy},         {"approx_kl", st->approx_kl},   {"grad_norm", st->grad_norm},
        {"reward", reward},               {"kl", kl},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        if (!isfinite(q[i].v)) return q[i].name;
    if (!model_finite(policy)) return "policy weights";
    if (!model_finite(critic)) return "critic weights";
    return NULL;
}

/* ---------- the run ---------- */

int train_run(const config_t *cfg, const train_opts_t *opts, err_t *err) {
    char out[1024], cache_path[1200];
    train_out_path(cfg, out, sizeof out);
    int rc = -1, lock_fd = -1;
    task_t *task = NULL;
    pool_t *pool = NULL;
    model_t *policy = NULL, *ref = NULL, *critics[2] = {NULL, NULL}, *guide_model = NULL;
    int64_t *prompt_idx = NULL;
    rollout_engine_t *engine = NULL;
    ppo_trainer_t *ppo = NULL;
    batch_t batch = {0};
    batch_t gbatch = {0};       /* ReMax: the greedy baseline completions, one per group */
    double *remax_R = NULL;     /* ReMax: their sequence rewards */
    int64_t *group_prompt = NULL;
    evaluator_t ev = {0};
    runlog_t rl = {0};
    char *cfg_text = NULL;
    const algo_t *algo = NULL;
    int is_sl = strcmp(cfg->algo, "sl") == 0;
    progress_t prog = {opts->force_tty >= 0 ? opts->force_tty : isatty(2), opts->quiet, now_seconds(), 0};

    if (!is_sl && !(algo = algo_find(cfg->algo)))
        return err_set(err, "algo '%s' is not implemented", cfg->algo);

    task_params_t tp = train_task_params(cfg);
    if (!(task = task_create(&tp, err))) return -1;
    int is_tabular = strcmp(cfg->model.kind, "tabular") == 0;
    int seq_cap = task->prompt_max + task->gen_max;
    /* everything that can be checked is checked before the first second of work */
    if (preflight(cfg, task, out, !is_tabular, err) || lock_output(out, &lock_fd, err)) {
        task_destroy(task);
        return err_prefix(err, "run '%s'", out);
    }
    /* the guide's checkpoint is read now, not after SL */
    if (cfg->guide.path[0] && load_guide_model(cfg, task, &guide_model, err)) goto done;
    pool = pool_create(cfg->threads);
    if (!pool) {
        err_set(err, "cannot start %d threads", cfg->threads);
        goto done;
    }

    /* open the run log first, so a bad output path fails before minutes of training */
    cfg_text = cfg_run_text(cfg);
    if (!cfg_text) {
        err_set(err, "out of memory");
        goto done;
    }
    char hash[65];
    sha256_hex(cfg_text, strlen(cfg_text), hash);
    h5log_meta_t meta = {cfg->task, cfg->algo, RLGF_VERSION, cfg_text, hash, cfg->seed};
    char resume_file[1100];
    resume_path(out, resume_file, sizeof resume_file);
    run_state_t rs = {0, 0, 0, 0, cfg->kl.beta, 0, 0, 0, 0};
    int resuming = opts->resume && !is_sl && access(resume_file, R_OK) == 0;
    if (opts->resume && !resuming && access(out, F_OK) == 0) {
        /* a file at `out` is only ever a finished run log (complete or diverged; renamed there at the end) */
        char *div = NULL;
        err_t none;
        if (h5log_read_attr(out, "diverged", &div, &none) == 0 && strcmp(div, "1") == 0) {
            /* resuming a diverged run is not a success */
            free(div);
            err_set(err, "'%s' is a run that diverged (root attribute diverged = 1): nothing to resume; "
                    "use --force to run it again", out);
            goto done;
        }
        free(div);
        if (!prog.quiet) fprintf(stderr, "%s is complete: nothing to resume\n", out);
        rc = 0;
        goto done;
    }
    if (!resuming && !opts->force && access(out, F_OK) == 0) {
        err_set(err, "'%s' exists (a finished run log): not replacing it; use --force to replace it, or "
                "another out=", out);
        goto done;
    }
    rl.task = task;
    if (resuming) {
        if (load_resume(out, cfg_text, &policy, &ref, critics, &rs, err) || !(rl.log = h5log_reopen(out, err)))
            goto done;
        ev.evals_done = (int)rs.evals_done;
        rl.tokens_logged = (int64_t)rs.tokens_logged;
        if (!prog.quiet) fprintf(stderr, "resuming %s from iteration %d (%s)\n", out, (int)rs.next_it, resume_file);
    } else if (!(rl.log = h5log_create(out, &meta, err))) {
        goto done;
    }

    if (resuming) {
        /* models come from the checkpoint */
    } else if (is_tabular) {
        model_config_t mc = policy_config(cfg, task, HEAD_LM);
        if (!(policy = new_model(&mc, (uint64_t)cfg->seed, RNG_INIT_POLICY, 0, err))) goto done;
    } else if (!(policy = sl_policy(cfg, task, pool, &prog, cache_path, sizeof cache_path, err))) {
        goto done;
    }
    if (!resuming) {
        /* RL starts with a fresh optimizer, as the reference code does */
        memset(policy->adam_m, 0, 2 * policy->n_params * sizeof(float));
        ref = model_clone(policy);
        if (!ref) {
            err_set(err, "out of memory copying the policy to pi_ref");
            goto done;
        }
    }

    engine = rollout_engine_create(task, pool, seq_cap);
    if (!engine) {
        err_set(err, "out of memory for the rollout engine");
        goto done;
    }
    ev.cfg = cfg;
    ev.task = task;
    ev.engine = engine;
    int n_eval = cfg->eval.prompts > cfg->eval.test_prompts ? cfg->eval.prompts : cfg->eval.test_prompts;
    if (batch_init(&ev.batch, n_eval, seq_cap, task->gen_max, task->n_metrics) != 0) {
        err_set(err, "out of memory for the evaluation batch");
        goto done;
    }
    ev.prompt_idx = calloc((size_t)n_eval, sizeof *ev.prompt_idx);
    if (!ev.prompt_idx) {
        err_set(err, "out of memory for %d evaluation prompts", n_eval);
        goto done;
    }
    eval_summary_t es = {0};

    /* the guide, and the start-of-run evaluations of the learner (= pi_ref), guide and pi_ref */
    actor_t learner = {policy, {cfg->sample.temperature, cfg->sample.top_k, cfg->sample.top_p}, 0.0};
    actor_t learner_eval = {policy, {cfg->eval_sample.temperature, cfg->eval_sample.top_k, cfg->eval_sample.top_p}, 0.0};
    actor_t ref_eval = learner_eval;
    ref_eval.model = ref;
    actor_t guide;
    if (make_guide(cfg, task, ref, guide_model, &guide, err)) goto done;
    {   /* every generation and scoring workspace now, where a failure can still be reported */
        const model_t *gen_models[3] = {policy, guide.model, ref};
        if (rollout_engine_reserve(engine, gen_models, 3, 2) != 0) {
            err_set(err, "out of memory for the rollout workspaces (%d threads, %d tokens per sequence)",
                    pool_threads(pool), seq_cap);
            goto done;
        }
    }
    eval_summary_t es_guide, es_ref;
    /* pi_ref's row is the learner's iteration-0 evaluation itself (at iteration 0 they are one
     * policy): one sample, logged twice, so SL lines and iteration-0 points coincide by
     * construction instead of differing by sampling noise. */
    (void)ref_eval;
    if (!resuming &&
        (evaluate(&ev, &rl, &learner_eval, ref, WHO_LEARNER, SPLIT_VALID, cfg->eval.prompts, 0, &es, err) ||
         eval_log(&ev, &rl, WHO_REF, SPLIT_VALID, 0, &es_ref, err) ||
         evaluate(&ev, &rl, &guide, ref, WHO_GUIDE, SPLIT_VALID, cfg->eval.prompts, 0, &es_guide, err)))
        goto done;
    if (!prog.quiet && !resuming)
        fprintf(stderr, "validation reward: start %.4f, guide (%s, q=%g) %.4f\n", es.reward, cfg->guide.type,
                guide.expert_q, es_guide.reward);

    if (is_sl) {
        /* SL as an algorithm: the checkpoint is the result, evaluated like any learner. */
        if (cfg->eval.test_prompts > 0 &&
            evaluate(&ev, &rl, &learner_eval, ref, WHO_LEARNER, SPLIT_TEST, cfg->eval.test_prompts, 0, &es, err))
            goto done;
        if (h5log_close(rl.log, 1, err)) {
            rl.log = NULL;
            goto done;
        }
        rl.log = NULL;
        rc = 0;
        goto done;
    }

    /* critics[CRITIC_LEARNER], and critics[CRITIC_GUIDE] for LOLS/D2LOLS */
    if (!resuming && !(critics[0] = make_critic(cfg, task, policy, 0, err))) goto done;
    if (!resuming && algo->two_critics && !(critics[1] = make_critic(cfg, task, policy, 1, err))) goto done;
    ppo = ppo_trainer_create(task, pool, seq_cap);
    if (!ppo) {
        err_set(err, "out of memory for the PPO trainer");
        goto done;
    }
    {   /* the update's and the critics' scoring workspaces, before the first iteration */
        const model_t *upd[3] = {policy, critics[0], critics[1]};
        if (ppo_trainer_reserve(ppo, upd, 3) != 0 || rollout_engine_reserve(engine, upd + 1, 2, 0) != 0) {
            err_set(err, "out of memory for the update's workspaces (%d threads, %d tokens per sequence)",
                    pool_threads(pool), seq_cap);
            goto done;
        }
    }
    if (batch_init(&batch, cfg->trajectories, seq_cap, task->gen_max, task->n_metrics) != 0) {
        err_set(err, "out of memory for %d trajectories", cfg->trajectories);
        goto done;
    }
    batch.n = cfg->trajectories;
    prompt_idx = calloc((size_t)cfg->trajectories, sizeof *prompt_idx);
    if (!prompt_idx) {
        err_set(err, "out of memory for %d trajectories", cfg->trajectories);
        goto done;
    }
    ppo_params_t pp = {cfg->ppo.gamma, cfg->ppo.lambda, cfg->ppo.clip, cfg->ppo.vf_clip, cfg->ppo.value_clip,
                       cfg->ppo.vf_coef, cfg->ppo.ent_coef, cfg->ppo.tgt_coef, cfg->ppo.norm_adv,
                       cfg->ppo.target_kl, cfg->ppo.epochs, cfg->ppo.minibatch, cfg->ppo.grad_clip,
                       (float)cfg->ppo.weight_decay, (float)cfg->ppo.adam_eps};
    est_opts_t eo = est_opts(cfg);
    ppo_loss_opts_t lo = {eo.agg, task->gen_max, cfg->ppo.clip_high > 0 ? cfg->ppo.clip_high : 0.0, eo.kl_est, 0.0};
    int K = eo.group, n_groups = cfg->trajectories / K;
    if (!strcmp(cfg->algo, "remax") || !strcmp(cfg->algo, "guidebase")) {
        remax_R = calloc((size_t)n_groups, sizeof *remax_R);
        group_prompt = calloc((size_t)n_groups, sizeof *group_prompt);
        if (!remax_R || !group_prompt || batch_init(&gbatch, n_groups, seq_cap, task->gen_max, task->n_metrics) != 0) {
            err_set(err, "out of memory for %d ReMax baseline completions", n_groups);
            goto done;
        }
    }
    lr_schedule_t sched = strcmp(cfg->ppo.lr_schedule, "constant") == 0 ? LR_CONSTANT : LR_LINEAR;
    long pol_step = (long)rs.pol_step, crit_step[2] = {(long)rs.crit_step0, (long)rs.crit_step1};
    double beta_kl = rs.beta_kl;
    int64_t tokens_total = (int64_t)rs.tokens_total, traj_total = (int64_t)rs.traj_total;
    const actor_t *actors[2] = {&learner, &guide};
    uint32_t purpose[2] = {RNG_ROLLOUT, RNG_GUIDE};

    if (h5log_flush(rl.log, err)) goto done;
    double t_start = now_seconds();
    int it0 = (int)rs.next_it;
    const char *ka = getenv("RLGF_KILL_AFTER");
    int kill_after = ka && *ka ? atoi(ka) : -1;
    /* fault injection for the divergence tests: RLGF_NAN_AT=N puts a NaN into the policy's weights
     * just before iteration N's update */
    const char *na = getenv("RLGF_NAN_AT");
    int nan_at = na && *na ? atoi(na) : -1;
    for (int it = it0; it < cfg->iterations; it++) {
        double t_it = now_seconds();
        /* about what this iteration will add to the log: its trajectories and tokens, with
         * evaluations (a fraction of iterations) counted generously */
        size_t it_bytes = (size_t)(cfg->trajectories + 2 * cfg->eval.prompts) * (200 + (size_t)task->gen_max * 40);
        if (h5log_reserve(rl.log, it_bytes, err)) goto done;
        iter_spec_t spec;
        algo->iteration(cfg, it, &spec);
        model_t *critic = spec.estimator != EST_GAE ? NULL : critics[spec.critic];
        /* an endless stream of training prompts: iteration it uses the next block of indices;
         * with group.size = K, K consecutive trajectories share one prompt (and one group id) */
        for (int j = 0; j < cfg->trajectories; j++) prompt_idx[j] = (int64_t)it * cfg->trajectories + j;
        if (K > 1)
            for (int j = 0; j < cfg->trajectories; j++) prompt_idx[j] = (int64_t)it * n_groups + j / K;
        batch.group_size = K;
        rollout_generate(engine, &spec.plan, actors, &batch, SPLIT_TRAIN, prompt_idx, (uint64_t)cfg->seed,
                         purpose, (uint64_t)it);
        rollout_score(engine, &batch, policy, ref, critic);
        algo_apply_masks(&spec, &batch);
        double beta_eff = spec.kl_off ? 0.0 : beta_kl, beta_rew = eo.placement == KL_IN_REWARD ? beta_eff : 0.0;
        lo.kl_loss_beta = eo.placement == KL_IN_LOSS ? beta_eff : 0.0;
        ppo_set_loss_opts(ppo, &lo);
        for (int j = 0; j < batch.n; j++) batch.group[j] = j / K;
        if (spec.estimator == EST_GAE) {
            if (eo.kl_est == KL_K1) /* today's bits */
                ppo_rewards_and_gae(&batch, beta_rew, spec.kl_on_guide, cfg->ppo.gamma, cfg->ppo.lambda);
            else
                est_rewards_and_gae(&batch, beta_rew, spec.kl_on_guide, eo.kl_est, cfg->ppo.gamma, cfg->ppo.lambda);
            for (int j = 0; j < batch.n; j++) batch.baseline[j] = batch.value[batch_tok(&batch, j, 0)]; /* V(s_0) */
        } else {
            est_sequence_rewards(&batch, beta_rew, spec.kl_on_guide, eo.kl_est);
            if (spec.estimator == EST_REMAX) {
                for (int g = 0; g < n_groups; g++) group_prompt[g] = prompt_idx[g * K];
                est_remax_baselines(engine, &spec.plan, &learner, &guide, &gbatch, n_groups, group_prompt,
                                    (uint64_t)cfg->seed, (uint64_t)it, policy, ref, beta_rew, spec.kl_on_guide,
                                    eo.kl_est, remax_R);
            }
            if (spec.estimator == EST_GUIDE) {
                for (int g = 0; g < n_groups; g++) group_prompt[g] = prompt_idx[g * K];
                est_guide_baselines(engine, &spec.plan, &guide, &gbatch, n_groups, group_prompt, (uint64_t)cfg->seed,
                                    (uint64_t)it, policy, ref, beta_rew, spec.kl_on_guide, eo.kl_est, remax_R);
            }
            est_advantages(&batch, spec.estimator, K, eo.scale, eo.baseline, remax_R);
        }
        double kl = ppo_mean_kl(&batch), reward = 0;
        for (int i = 0; i < batch.n; i++) reward += batch.task_reward[i];
        reward /= batch.n;
        int64_t it_tokens = 0;
        for (int i = 0; i < batch.n; i++) it_tokens += batch.gen_len[i];
        tokens_total += it_tokens;
        traj_total += batch.n;

        float lr = optim_lr(sched, (float)cfg->ppo.lr, it, cfg->iterations);
        ppo_stats_t st;
        if (nan_at >= 0 && it == nan_at) policy->params[0] = NAN; /* fault injection, see below */
        ppo_update(ppo, &batch, &pp, lr, policy, critic, &pol_step, &crit_step[spec.critic], (uint64_t)cfg->seed,
                   it, &st);
        const char *bad = nonfinite_quantity(&st, reward, kl, policy, critic);

        if (log_batch(&rl, &batch, it, WHO_LEARNER, 0, err)) goto done;
        h5log_t *L = rl.log;
        if (h5log_append_i64(L, COL_IT_ITERATION, it, err) || h5log_append_i64(L, COL_IT_TOKENS, tokens_total, err) ||
            h5log_append_i64(L, COL_IT_TRAJECTORIES, traj_total, err) || h5log_append_f64(L, COL_IT_REWARD, reward, err) ||
            h5log_append_f64(L, COL_IT_KL, kl, err) || h5log_append_f64(L, COL_IT_BETA_KL, beta_kl, err) ||
            h5log_append_f64(L, COL_IT_LR, lr, err) || h5log_append_f64(L, COL_IT_POLICY_LOSS, st.policy_loss, err) ||
            h5log_append_f64(L, COL_IT_VALUE_LOSS, st.value_loss, err) || h5log_append_f64(L, COL_IT_ENTROPY, st.entropy, err) ||
            h5log_append_f64(L, COL_IT_TARGET_LOSS, st.target_loss, err) || h5log_append_f64(L, COL_IT_APPROX_KL, st.approx_kl, err) ||
            h5log_append_f64(L, COL_IT_CLIP_FRAC, st.clip_frac, err) || h5log_append_f64(L, COL_IT_VALUE_CLIP_FRAC, st.vclip_frac, err) ||
            h5log_append_f64(L, COL_IT_EXPLAINED_VARIANCE, st.explained_var, err) ||
            h5log_append_f64(L, COL_IT_GRAD_NORM, st.grad_norm, err) || h5log_append_i64(L, COL_IT_EPOCHS_RUN, st.epochs_run, err) ||
            h5log_append_i64(L, COL_IT_MODE, spec.mode, err) || h5log_append_i64(L, COL_IT_CRITIC, spec.critic, err) ||
            h5log_append_f64(L, COL_IT_BETA, spec.plan.rollin >= 0 ? spec.plan.beta : 0.0, err))
            goto done;
        if (bad) {
            /* Divergence is an outcome: the log keeps this iteration's row (with its non-finite
             * values), is marked diverged and not complete, and goes to `out` like a finished run. */
            int marked = h5log_set_diverged(rl.log, it, bad, err) == 0 && h5log_close(rl.log, 2, err) == 0;
            rl.log = NULL;
            if (marked) {
                unlink(resume_file);
                err_set(err, "diverged at iteration %d: %s is not finite (log %s marked diverged, complete = 0)",
                        it, bad, out);
            }
            goto done;
        }
        /* KL controller (Ziegler et al.): steps once per iteration on the batch's mean KL */
        if (strcmp(cfg->kl.controller, "adaptive") == 0) {
            double e = (kl - cfg->kl.target) / cfg->kl.target;
            e = e < -0.2 ? -0.2 : (e > 0.2 ? 0.2 : e);
            beta_kl *= 1.0 + cfg->kl.k * e;
        }
        if ((it + 1) % cfg->eval.every == 0 || it + 1 == cfg->iterations)
            if (evaluate(&ev, &rl, &learner_eval, ref, WHO_LEARNER, SPLIT_VALID, cfg->eval.prompts, it + 1, &es, err))
                goto done;
        double t_now = now_seconds();
        if (cfg->log.timing) {
            double secs = t_now - t_it, tok_s = (double)it_tokens / (t_now - t_it);
            if (h5log_append_col(rl.log, COL_TIMING, "iteration_seconds", H5COL_F64, &secs, 1, err) ||
                h5log_append_col(rl.log, COL_TIMING, "tokens_per_second", H5COL_F64, &tok_s, 1, err))
                goto done;
        }
        if (h5log_flush(rl.log, err)) goto done;
        /* fault injection for the resume tests: RLGF_KILL_AFTER=N dies by SIGKILL right after
         * iteration N's log flush, before any checkpoint of that iteration */
        if (kill_after >= 0 && it == kill_after) raise(SIGKILL);
        if (cfg->checkpoint.every > 0 && (it + 1) % cfg->checkpoint.every == 0 && it + 1 < cfg->iterations) {
            run_state_t now = {it + 1, pol_step, crit_step[0], crit_step[1], beta_kl, (double)tokens_total,
                               (double)traj_total, ev.evals_done, (double)rl.tokens_logged};
            /* Close, snapshot, reopen: a resumed run restarts from exactly these bytes with a freshly
             * opened HDF5 library state, so going through the same reopen here keeps the final file
             * byte-identical whether or not the run was interrupted. */
            int closed = h5log_close(rl.log, 0, err);
            rl.log = NULL;
            if (closed || save_resume(out, cfg_text, policy, ref, critics, &now, err) ||
                !(rl.log = h5log_reopen(out, err)))
                goto done;
        }
        double elapsed = t_now - t_start;
        int done_here = it + 1 - it0;
        progress_line(&prog, it + 1, cfg->iterations, reward, kl, (double)(tokens_total - (int64_t)rs.tokens_total) / elapsed,
                      elapsed / done_here * (cfg->iterations - it - 1), it + 1 == cfg->iterations);
    }
    if (cfg->eval.test_prompts > 0 &&
        evaluate(&ev, &rl, &learner_eval, ref, WHO_LEARNER, SPLIT_TEST, cfg->eval.test_prompts, cfg->iterations, &es, err))
        goto done;
    if (cfg->save_policy && save_final_policy(out, policy, cfg_text, pol_step, err)) goto done;
    if (h5log_close(rl.log, 1, err)) {
        rl.log = NULL;
        goto done;
    }
    rl.log = NULL;
    unlink(resume_file); /* the run is complete: its resume point is no longer needed */
    rc = 0;
    if (opts->final_policy) {
        *opts->final_policy = policy;
        policy = NULL;
    }
    if (opts->final_ref) {
        *opts->final_ref = ref;
        ref = NULL;
    }
done:
    free(prompt_idx);
    if (rc != 0) err_prefix(err, "run '%s'", out);
    if (rl.log) {
        err_t e2;
        h5log_close(rl.log, 0, &e2); /* leaves only the .partial file: never looks complete */
    }
    free(cfg_text);
    batch_free(&batch);
    batch_free(&gbatch);
    free(remax_R);
    free(group_prompt);
    batch_free(&ev.batch);
    free(ev.prompt_idx);
    ppo_trainer_destroy(ppo);
    rollout_engine_destroy(engine);
    model_destroy(critics[0]);
    model_destroy(critics[1]);
    model_destroy(guide_model);
    model_destroy(ref);
    model_destroy(policy);
    pool_destroy(pool);
    task_destroy(task);
    unlock_output(out, lock_fd);
    return rc;
}
