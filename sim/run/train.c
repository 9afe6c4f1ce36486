/* train: one run, read as CleanRL's loop reads. train_run sets up (checks, lock, run log, models,
 * start-of-run evaluations), then iterates (plan, roll out, shape, update, log, evaluate,
 * checkpoint) and finishes (test evaluation, final policy, the complete log). Each phase is a
 * function of one run_t below; the pieces a phase uses live in their own files of sim/run
 * (output, progress, models, slcache, resume, runlog, evaluate). */
#include "train.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../algos/algo.h"
#include "../../envs/task.h"
#include "../base/pool.h"
#include "../base/util.h"
#include "../nn/optim.h"
#include "../rl/batch.h"
#include "../rl/estimators.h"
#include "../rl/ppo.h"
#include "../rl/rollout.h"
#include "../store/h5log.h"
#include "evaluate.h"
#include "models.h"
#include "output.h"
#include "progress.h"
#include "resume.h"
#include "runlog.h"
#include "slcache.h"

#ifndef RLGF_VERSION
#define RLGF_VERSION "unknown"
#endif

task_params_t train_task_params(const config_t *cfg) {
    /* TL;DR-sim takes its post length through prompt_len */
    int plen = strcmp(cfg->task, "tldr") == 0 ? cfg->tldr.post_len : cfg->imdb.prompt_len;
    task_params_t tp = {cfg->task, (uint64_t)cfg->world.seed, cfg->world.vocab, plen, cfg->imdb.gen_len, 0.0};
    tp.difficulty = !strcmp(cfg->task, "imdb") ? cfg->imdb.threshold : !strcmp(cfg->task, "commongen")
                    ? cfg->commongen.min_coverage : !strcmp(cfg->task, "tldr") ? cfg->tldr.min_coverage : 0.0;
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

/* ---------- one run's state ---------- */

/* Everything a run holds between its phases. Owned pointers are freed by run_close whatever
 * phase failed. */
typedef struct {
    const config_t *cfg;
    const train_opts_t *opts;
    const algo_t *algo;
    char out[1024], resume_file[1100], cache_path[1200];
    int lock_fd;
    task_t *task;
    pool_t *pool;
    int seq_cap;
    char *cfg_text;
    progress_t prog;
    int resuming;          /* continuing from resume_file */
    run_state_t state;     /* what the loop carries between iterations (and the resume file keeps) */
    int it0;               /* the first iteration this process runs */
    int64_t tokens_at_it0; /* for the progress line's throughput */
    double t_start;
    /* models, actors, the rollout engine, evaluations and the log */
    model_t *policy, *ref, *critics[2], *guide_model;
    actor_t learner, learner_eval, guide;
    rollout_engine_t *engine;
    evaluator_t ev;
    runlog_t rl;
    /* the RL update */
    ppo_trainer_t *ppo;
    ppo_params_t pp;
    est_opts_t eo;
    ppo_loss_opts_t lo;
    lr_schedule_t sched;
    int K, n_groups; /* group.size and the groups of a batch */
    batch_t batch;
    int64_t *prompt_idx;
    batch_t gbatch;          /* ReMax / guidebase: one baseline completion per group */
    double *baseline_R;      /* their sequence rewards */
    int64_t *group_prompt;   /* the prompt of each group */
    int kill_after, nan_at;  /* fault injection for the resume and divergence tests (-1: off) */
} run_t;

/* Whether the algorithm has RL iterations (all but SL, whose result is the policy RL would start
 * from: it trains no critic, writes no resume points and keeps no policy file of its own, its
 * checkpoint being the SL cache's). */
static int has_rl(const run_t *r) { return r->algo->iteration != NULL; }

static void run_close(run_t *r) {
    free(r->prompt_idx);
    if (r->rl.log) {
        err_t e2;
        h5log_close(r->rl.log, 0, &e2); /* leaves only the .partial file: never looks complete */
    }
    free(r->cfg_text);
    batch_free(&r->batch);
    batch_free(&r->gbatch);
    free(r->baseline_R);
    free(r->group_prompt);
    evaluator_free(&r->ev);
    ppo_trainer_destroy(r->ppo);
    rollout_engine_destroy(r->engine);
    model_destroy(r->critics[0]);
    model_destroy(r->critics[1]);
    model_destroy(r->guide_model);
    model_destroy(r->ref);
    model_destroy(r->policy);
    pool_destroy(r->pool);
    task_destroy(r->task);
    unlock_output(r->out, r->lock_fd);
}

/* Closes the log; complete: 1 marks it complete, 2 diverged (sim/store/h5log.h). */
static int close_log(run_t *r, int complete, err_t *err) {
    int rc = h5log_close(r->rl.log, complete, err);
    r->rl.log = NULL;
    return rc;
}

/* ---------- set up ---------- */

/* Every check that needs no work, then the lock on the output (sim/run/output.h). */
static int check_and_lock(run_t *r, err_t *err) {
    int is_tabular = strcmp(r->cfg->model.kind, "tabular") == 0;
    return preflight(r->cfg, r->task, r->out, !is_tabular, err) || lock_output(r->out, &r->lock_fd, err) ? -1 : 0;
}

/* Opens the run log: a new one, or the resumed run's .partial with the loop state of its resume
 * file. Returns 1 when --resume finds the run already complete (nothing to do). The log is opened
 * before any training so that a bad output path fails before minutes of work. */
static int open_log(run_t *r, err_t *err) {
    const config_t *cfg = r->cfg;
    const char *out = r->out;
    if (!(r->cfg_text = cfg_run_text(cfg))) return err_set(err, "out of memory");
    char hash[65];
    sha256_hex(r->cfg_text, strlen(r->cfg_text), hash);
    h5log_meta_t meta = {cfg->task, cfg->algo, RLGF_VERSION, r->cfg_text, hash, cfg->seed};
    resume_path(out, r->resume_file, sizeof r->resume_file);
    r->state = (run_state_t){.beta_kl = cfg->kl.beta};
    r->resuming = r->opts->resume && has_rl(r) && access(r->resume_file, R_OK) == 0;
    if (r->opts->resume && !r->resuming && access(out, F_OK) == 0) {
        /* a file at `out` is only ever a finished run log (complete or diverged; renamed there at the end) */
        char *div = NULL;
        err_t none;
        if (h5log_read_attr(out, schema_attr(ATTR_DIVERGED), &div, &none) == 0 && strcmp(div, "1") == 0) {
            /* resuming a diverged run is not a success */
            free(div);
            return err_set(err, "'%s' is a run that diverged (root attribute diverged = 1): nothing to resume; "
                           "use --force to run it again", out);
        }
        free(div);
        progress_note(&r->prog, "%s is complete: nothing to resume\n", out);
        return 1;
    }
    if (!r->resuming && !r->opts->force && access(out, F_OK) == 0)
        return err_set(err, "'%s' exists (a finished run log): not replacing it; use --force to replace it, or "
                       "another out=", out);
    r->rl.task = r->task;
    if (!r->resuming) return (r->rl.log = h5log_create(out, &meta, err)) ? 0 : -1;
    if (resume_load(out, r->cfg_text, &r->policy, &r->ref, r->critics, &r->state, err) ||
        !(r->rl.log = h5log_reopen(out, err)))
        return -1;
    r->rl.tokens_logged = r->state.tokens_logged;
    progress_note(&r->prog, "resuming %s from iteration %d (%s)\n", out, r->state.next_it, r->resume_file);
    return 0;
}

/* The policy RL starts from (a fresh table, or the SL checkpoint, cached) and pi_ref, a copy of
 * it. A resumed run has both from its resume file. */
static int make_policy_and_ref(run_t *r, err_t *err) {
    if (r->resuming) return 0;
    const config_t *cfg = r->cfg;
    if (strcmp(cfg->model.kind, "tabular") == 0) {
        model_config_t mc = run_model_config(cfg, r->task, HEAD_LM);
        if (!(r->policy = run_new_model(&mc, (uint64_t)cfg->seed, RNG_INIT_POLICY, 0, err))) return -1;
    } else if (!(r->policy = slcache_policy(cfg, r->task, r->pool, &r->prog, r->cache_path, sizeof r->cache_path, err))) {
        return -1;
    }
    /* RL starts with a fresh optimizer, as the reference code does */
    memset(r->policy->adam_m, 0, 2 * r->policy->n_params * sizeof(float));
    if (!(r->ref = model_clone(r->policy))) return err_set(err, "out of memory copying the policy to pi_ref");
    return 0;
}

/* The rollout engine, the evaluator and the three actors (the learner as it trains and as it is
 * evaluated, the guide), with every generation and scoring workspace reserved now, where a
 * failure can still be reported. */
static int make_actors(run_t *r, err_t *err) {
    const config_t *cfg = r->cfg;
    if (!(r->engine = rollout_engine_create(r->task, r->pool, r->seq_cap)))
        return err_set(err, "out of memory for the rollout engine");
    if (evaluator_init(&r->ev, cfg, r->task, r->engine, r->state.evals_done, err)) return -1;
    r->learner = (actor_t){r->policy, {cfg->sample.temperature, cfg->sample.top_k, cfg->sample.top_p}, 0.0, 0};
    r->learner_eval = (actor_t){r->policy, {cfg->eval_sample.temperature, cfg->eval_sample.top_k, cfg->eval_sample.top_p}, 0.0, 0};
    if (run_make_guide(cfg, r->task, r->ref, r->guide_model, &r->guide, err)) return -1;
    const model_t *gen_models[3] = {r->policy, r->guide.model, r->ref};
    if (rollout_engine_reserve(r->engine, gen_models, 3, 2) != 0)
        return err_set(err, "out of memory for the rollout workspaces (%d threads, %d tokens per sequence)",
                       pool_threads(r->pool), r->seq_cap);
    return 0;
}

/* Everything before the first evaluation. Returns 1 when there is nothing to do. */
static int set_up(run_t *r, err_t *err) {
    const config_t *cfg = r->cfg;
    r->seq_cap = r->task->prompt_max + r->task->gen_max;
    /* everything that can be checked is checked before the first second of work */
    if (check_and_lock(r, err)) return -1;
    /* the guide's checkpoint is read now, not after SL */
    if (cfg->guide.path[0] && run_load_guide_model(cfg, r->task, &r->guide_model, err)) return -1;
    if (!(r->pool = pool_create(cfg->threads))) return err_set(err, "cannot start %d threads", cfg->threads);
    int rc = open_log(r, err);
    if (rc) return rc;
    return make_policy_and_ref(r, err) || make_actors(r, err) ? -1 : 0;
}

/* The start of every run: the learner (= pi_ref at iteration 0), pi_ref and the guide on the
 * validation prompts, so every plot can draw their lines. pi_ref's row is the learner's
 * iteration-0 evaluation itself (at iteration 0 they are one policy): one sample, logged twice,
 * so SL lines and iteration-0 points coincide by construction instead of differing by sampling
 * noise. A resumed run logged these before it was interrupted. */
static int evaluate_start(run_t *r, err_t *err) {
    if (r->resuming) return 0;
    const config_t *cfg = r->cfg;
    eval_summary_t es, es_ref, es_guide;
    if (evaluate(&r->ev, &r->rl, &r->learner_eval, r->ref, WHO_LEARNER, SPLIT_VALID, cfg->eval.prompts, 0, &es, err) ||
        evaluate_log_again(&r->ev, &r->rl, WHO_REF, SPLIT_VALID, 0, &es_ref, err) ||
        evaluate(&r->ev, &r->rl, &r->guide, r->ref, WHO_GUIDE, SPLIT_VALID, cfg->eval.prompts, 0, &es_guide, err))
        return -1;
    progress_note(&r->prog, "validation reward: start %.4f, guide (%s, q=%g) %.4f\n", es.reward, cfg->guide.type,
                  r->guide.expert_q, es_guide.reward);
    return 0;
}

/* Whether any iteration of this run takes a baseline from extra completions of each group
 * (ReMax's greedy one, guidebase's guide one): then their batch is reserved up front. */
static int needs_baseline_completions(const run_t *r) {
    for (int it = r->it0; it < r->cfg->iterations; it++) {
        iter_spec_t spec;
        r->algo->iteration(r->cfg, it, &spec);
        if (spec.estimator == EST_REMAX || spec.estimator == EST_GUIDE) return 1;
    }
    return 0;
}

/* The critics (the learner's; LOLS and D2LOLS also the guide's), the PPO trainer with its
 * workspaces, the training batch and the update's settings, all before the first iteration. */
static int set_up_rl(run_t *r, err_t *err) {
    const config_t *cfg = r->cfg;
    const task_t *task = r->task;
    if (!r->resuming && !(r->critics[0] = run_make_critic(cfg, task, r->policy, 0, err))) return -1;
    if (!r->resuming && r->algo->two_critics && !(r->critics[1] = run_make_critic(cfg, task, r->policy, 1, err)))
        return -1;
    if (!(r->ppo = ppo_trainer_create(task, r->pool, r->seq_cap))) return err_set(err, "out of memory for the PPO trainer");
    const model_t *upd[3] = {r->policy, r->critics[0], r->critics[1]};
    if (ppo_trainer_reserve(r->ppo, upd, 3) != 0 || rollout_engine_reserve(r->engine, upd + 1, 2, 0) != 0)
        return err_set(err, "out of memory for the update's workspaces (%d threads, %d tokens per sequence)",
                       pool_threads(r->pool), r->seq_cap);
    if (batch_init(&r->batch, cfg->trajectories, r->seq_cap, task->gen_max, task->n_metrics) != 0 ||
        !(r->prompt_idx = calloc((size_t)cfg->trajectories, sizeof *r->prompt_idx)))
        return err_set(err, "out of memory for %d trajectories", cfg->trajectories);
    r->batch.n = cfg->trajectories;
    r->pp = (ppo_params_t){cfg->ppo.gamma, cfg->ppo.lambda, cfg->ppo.clip, cfg->ppo.vf_clip, cfg->ppo.value_clip,
                           cfg->ppo.vf_coef, cfg->ppo.ent_coef, cfg->ppo.tgt_coef, cfg->ppo.norm_adv,
                           cfg->ppo.target_kl, cfg->ppo.epochs, cfg->ppo.minibatch, cfg->ppo.grad_clip,
                           (float)cfg->ppo.weight_decay, (float)cfg->ppo.adam_eps};
    r->eo = est_opts(cfg);
    r->lo = (ppo_loss_opts_t){r->eo.agg, task->gen_max, cfg->ppo.clip_high > 0 ? cfg->ppo.clip_high : 0.0, r->eo.kl_est, 0.0};
    r->K = r->eo.group;
    r->n_groups = cfg->trajectories / r->K;
    r->sched = strcmp(cfg->ppo.lr_schedule, "constant") == 0 ? LR_CONSTANT : LR_LINEAR;
    r->it0 = r->state.next_it;
    if (needs_baseline_completions(r)) {
        r->baseline_R = calloc((size_t)r->n_groups, sizeof *r->baseline_R);
        r->group_prompt = calloc((size_t)r->n_groups, sizeof *r->group_prompt);
        if (!r->baseline_R || !r->group_prompt ||
            batch_init(&r->gbatch, r->n_groups, r->seq_cap, task->gen_max, task->n_metrics) != 0)
            return err_set(err, "out of memory for %d ReMax baseline completions", r->n_groups);
    }
    const char *ka = getenv("RLGF_KILL_AFTER"), *na = getenv("RLGF_NAN_AT");
    /* RLGF_KILL_AFTER=N dies by SIGKILL right after iteration N's log flush, before any checkpoint
     * of that iteration; RLGF_NAN_AT=N puts a NaN into the policy's weights just before iteration
     * N's update */
    r->kill_after = ka && *ka ? atoi(ka) : -1;
    r->nan_at = na && *na ? atoi(na) : -1;
    if (h5log_flush(r->rl.log, err)) return -1;
    r->t_start = util_now_s();
    r->tokens_at_it0 = r->state.tokens;
    return 0;
}

/* ---------- one iteration ---------- */

/* The batch's coefficient of the KL term, in the reward or in the loss (kl.placement); none in
 * an iteration whose plan turns KL shaping off. */
static double kl_coef(const run_t *r, const iter_spec_t *spec, int placement) {
    double beta_eff = spec->kl_off ? 0.0 : r->state.beta_kl;
    return r->eo.placement == placement ? beta_eff : 0.0;
}

/* Roll out: the iteration's training prompts (an endless stream: iteration it uses the next block
 * of indices; with group.size = K, K consecutive trajectories share one prompt and one group id),
 * generated as the plan says, scored by the policy, pi_ref and the critic, masked by the plan. */
static void roll_out(run_t *r, int it, const iter_spec_t *spec, model_t *critic) {
    const config_t *cfg = r->cfg;
    batch_t *b = &r->batch;
    int K = r->K;
    for (int j = 0; j < cfg->trajectories; j++) r->prompt_idx[j] = (int64_t)it * cfg->trajectories + j;
    if (K > 1)
        for (int j = 0; j < cfg->trajectories; j++) r->prompt_idx[j] = (int64_t)it * r->n_groups + j / K;
    b->group_size = K;
    const actor_t *actors[2] = {&r->learner, &r->guide};
    uint32_t purpose[2] = {RNG_ROLLOUT, RNG_GUIDE};
    rollout_generate(r->engine, &spec->plan, actors, b, SPLIT_TRAIN, r->prompt_idx, (uint64_t)cfg->seed, purpose,
                     (uint64_t)it);
    rollout_score(r->engine, b, r->policy, r->ref, critic);
    algo_apply_masks(spec, b);
    for (int j = 0; j < b->n; j++) b->group[j] = j / K;
}

/* Shape: per-token rewards (the task reward and the KL term) and advantages, by GAE with the
 * critic, or by the plan's critic-free estimator from sequence rewards and its baseline (for
 * ReMax and guidebase, one more completion of each group's restart state). */
static void shape(run_t *r, int it, const iter_spec_t *spec) {
    const config_t *cfg = r->cfg;
    batch_t *b = &r->batch;
    double beta_rew = kl_coef(r, spec, KL_IN_REWARD);
    int kl_est = r->eo.kl_est;
    if (spec->estimator == EST_GAE) {
        if (kl_est == KL_K1) /* today's bits */
            ppo_rewards_and_gae(b, beta_rew, spec->kl_on_guide, cfg->ppo.gamma, cfg->ppo.lambda);
        else
            est_rewards_and_gae(b, beta_rew, spec->kl_on_guide, kl_est, cfg->ppo.gamma, cfg->ppo.lambda);
        for (int j = 0; j < b->n; j++) b->baseline[j] = b->value[batch_tok(b, j, 0)]; /* V(s_0) */
        return;
    }
    est_sequence_rewards(b, beta_rew, spec->kl_on_guide, kl_est);
    if (spec->estimator == EST_REMAX || spec->estimator == EST_GUIDE)
        for (int g = 0; g < r->n_groups; g++) r->group_prompt[g] = r->prompt_idx[g * r->K];
    if (spec->estimator == EST_REMAX)
        est_remax_baselines(r->engine, &spec->plan, &r->learner, &r->guide, &r->gbatch, r->n_groups, r->group_prompt,
                            (uint64_t)cfg->seed, (uint64_t)it, r->policy, r->ref, beta_rew, spec->kl_on_guide, kl_est,
                            r->baseline_R);
    if (spec->estimator == EST_GUIDE)
        est_guide_baselines(r->engine, &spec->plan, &r->guide, &r->gbatch, r->n_groups, r->group_prompt,
                            (uint64_t)cfg->seed, (uint64_t)it, r->policy, r->ref, beta_rew, spec->kl_on_guide, kl_est,
                            r->baseline_R);
    est_advantages(b, spec->estimator, r->K, r->eo.scale, r->eo.baseline, r->baseline_R);
}

/* Update: the PPO machinery's epochs over minibatches on the policy and the plan's critic (none
 * for the critic-free estimators), at this iteration's learning rate. */
static float update(run_t *r, int it, const iter_spec_t *spec, model_t *critic, ppo_stats_t *st) {
    const config_t *cfg = r->cfg;
    r->lo.kl_loss_beta = kl_coef(r, spec, KL_IN_LOSS);
    ppo_set_loss_opts(r->ppo, &r->lo);
    float lr = optim_lr(r->sched, (float)cfg->ppo.lr, it, cfg->iterations);
    if (r->nan_at >= 0 && it == r->nan_at) r->policy->params[0] = NAN; /* fault injection */
    ppo_update(r->ppo, &r->batch, &r->pp, lr, r->policy, critic, &r->state.pol_step, &r->state.crit_step[spec->critic],
               (uint64_t)cfg->seed, it, st);
    return lr;
}

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
    if (!run_model_finite(policy)) return "policy weights";
    if (!run_model_finite(critic)) return "critic weights";
    return NULL;
}

/* Divergence is an outcome: the log keeps this iteration's row (with its non-finite values), is
 * marked diverged and not complete, and goes to `out` like a finished run. */
static int diverged(run_t *r, int it, const char *bad, err_t *err) {
    int marked = h5log_set_diverged(r->rl.log, it, bad, err) == 0 && close_log(r, 2, err) == 0;
    if (marked) {
        unlink(r->resume_file);
        err_set(err, "diverged at iteration %d: %s is not finite (log %s marked diverged, complete = 0)", it, bad,
                r->out);
    }
    return -1;
}

/* KL controller (Ziegler et al.): steps once per iteration on the batch's mean KL. */
static void kl_control(run_t *r, double kl) {
    const config_t *cfg = r->cfg;
    if (strcmp(cfg->kl.controller, "adaptive") != 0) return;
    double e = (kl - cfg->kl.target) / cfg->kl.target;
    e = e < -0.2 ? -0.2 : (e > 0.2 ? 0.2 : e);
    r->state.beta_kl *= 1.0 + cfg->kl.k * e;
}

/* The resume point after iteration it: close, snapshot, reopen. A resumed run restarts from
 * exactly these bytes with a freshly opened HDF5 library state, so going through the same reopen
 * here keeps the final file byte-identical whether or not the run was interrupted. */
static int checkpoint(run_t *r, int it, err_t *err) {
    r->state.next_it = it + 1;
    r->state.evals_done = r->ev.evals_done;
    r->state.tokens_logged = r->rl.tokens_logged;
    if (close_log(r, 0, err) || resume_save(r->out, r->cfg_text, r->policy, r->ref, r->critics, &r->state, err) ||
        !(r->rl.log = h5log_reopen(r->out, err)))
        return -1;
    return 0;
}

/* One iteration: plan, roll out, shape, update, log, evaluate, checkpoint. */
static int iterate(run_t *r, int it, err_t *err) {
    const config_t *cfg = r->cfg;
    batch_t *b = &r->batch;
    double t_it = util_now_s(), cpu_it = util_cpu_s();
    /* about what this iteration will add to the log: its trajectories and tokens, with
     * evaluations (a fraction of iterations) counted generously */
    size_t it_bytes = (size_t)(cfg->trajectories + 2 * cfg->eval.prompts) * (200 + (size_t)r->task->gen_max * 40);
    if (h5log_reserve(r->rl.log, it_bytes, err)) return -1;

    iter_spec_t spec;
    r->algo->iteration(cfg, it, &spec); /* plan: who rolls in and out, which critic, which tokens train */
    model_t *critic = spec.estimator != EST_GAE ? NULL : r->critics[spec.critic];
    roll_out(r, it, &spec, critic);
    shape(r, it, &spec);
    double kl = ppo_mean_kl(b), reward = 0;
    int64_t it_tokens = 0;
    for (int i = 0; i < b->n; i++) reward += b->task_reward[i];
    reward /= b->n;
    for (int i = 0; i < b->n; i++) it_tokens += b->gen_len[i];
    r->state.tokens += it_tokens;
    r->state.trajectories += b->n;
    ppo_stats_t st;
    float lr = update(r, it, &spec, critic, &st);
    const char *bad = nonfinite_quantity(&st, reward, kl, r->policy, critic);

    iter_row_t row = {it, r->state.tokens, r->state.trajectories, reward, kl, r->state.beta_kl, lr, &st, &spec};
    if (runlog_batch(&r->rl, b, it, WHO_LEARNER, 0, err) || runlog_iteration(&r->rl, &row, err)) return -1;
    if (bad) return diverged(r, it, bad, err);
    kl_control(r, kl);
    eval_summary_t es;
    if ((it + 1) % cfg->eval.every == 0 || it + 1 == cfg->iterations)
        if (evaluate(&r->ev, &r->rl, &r->learner_eval, r->ref, WHO_LEARNER, SPLIT_VALID, cfg->eval.prompts, it + 1, &es, err))
            return -1;
    double t_now = util_now_s();
    /* the CPU column lets a run resumed from a checkpoint still report what all its iterations
     * cost: a sweep's manifest only sees the CPU of the last process */
    if (cfg->log.timing && runlog_timing(&r->rl, t_now - t_it, util_cpu_s() - cpu_it, it_tokens, err)) return -1;
    if (h5log_flush(r->rl.log, err)) return -1;
    if (r->kill_after >= 0 && it == r->kill_after) raise(SIGKILL); /* fault injection */
    if (cfg->checkpoint.every > 0 && (it + 1) % cfg->checkpoint.every == 0 && it + 1 < cfg->iterations &&
        checkpoint(r, it, err))
        return -1;
    double elapsed = t_now - r->t_start;
    int done_here = it + 1 - r->it0;
    progress_line(&r->prog, it + 1, cfg->iterations, reward, kl, (double)(r->state.tokens - r->tokens_at_it0) / elapsed,
                  elapsed / done_here * (cfg->iterations - it - 1), it + 1 == cfg->iterations);
    return 0;
}

/* ---------- finish ---------- */

/* The test evaluation of the final policy (policy `iteration`'s), the final policy next to the
 * log, the complete log at `out`; the resume point is then no longer needed. */
static int finish(run_t *r, int iteration, err_t *err) {
    const config_t *cfg = r->cfg;
    eval_summary_t es;
    if (cfg->eval.test_prompts > 0 &&
        evaluate(&r->ev, &r->rl, &r->learner_eval, r->ref, WHO_LEARNER, SPLIT_TEST, cfg->eval.test_prompts, iteration,
                 &es, err))
        return -1;
    if (!has_rl(r)) return close_log(r, 1, err);
    if (cfg->save_policy && run_save_final_policy(r->out, r->policy, r->cfg_text, r->state.pol_step, err)) return -1;
    if (close_log(r, 1, err)) return -1;
    unlink(r->resume_file);
    if (r->opts->final_policy) {
        *r->opts->final_policy = r->policy;
        r->policy = NULL;
    }
    if (r->opts->final_ref) {
        *r->opts->final_ref = r->ref;
        r->ref = NULL;
    }
    return 0;
}

/* ---------- the run ---------- */

int train_run(const config_t *cfg, const train_opts_t *opts, err_t *err) {
    run_t r = {.cfg = cfg, .opts = opts, .lock_fd = -1, .prog = progress_start(opts->quiet, opts->force_tty)};
    train_out_path(cfg, r.out, sizeof r.out);
    if (!(r.algo = algo_find(cfg->algo))) return err_set(err, "algo '%s' is not implemented", cfg->algo);
    task_params_t tp = train_task_params(cfg);
    if (!(r.task = task_create(&tp, err))) return -1;

    int rc = set_up(&r, err);
    if (rc == 0) rc = evaluate_start(&r, err);
    if (rc == 0 && has_rl(&r)) {
        rc = set_up_rl(&r, err);
        for (int it = r.it0; rc == 0 && it < cfg->iterations; it++) rc = iterate(&r, it, err);
    }
    if (rc == 0) rc = finish(&r, has_rl(&r) ? cfg->iterations : 0, err);
    if (rc == 1) rc = 0; /* nothing to do */
    if (rc != 0) err_prefix(err, "run '%s'", r.out);
    run_close(&r);
    return rc;
}
