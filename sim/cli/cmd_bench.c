/* rlgf bench: rollout (generation + scoring with pi_ref and the critic), update (PPO epochs with
 * the target NLL) and whole-iteration throughput of the configured model and task, with 1 and 2
 * threads, and peak memory. Timings are reported, never asserted (they depend on the machine).
 * `make bench` runs this at the reference IMDB budget next to the kernel and PyTorch benchmarks
 * (tools/bench.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../../envs/task.h"
#include "../rl/batch.h"
#include "../base/config.h"
#include "../nn/model.h"
#include "../base/pool.h"
#include "../rl/ppo.h"
#include "../rl/rollout.h"
#include "../run/train.h"
#include "../base/util.h"

static void cpu_name(char *buf, size_t len) {
    snprintf(buf, len, "unknown cpu");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(buf, len, "%s", c + 2);
                buf[strcspn(buf, "\n")] = 0;
            }
            break;
        }
    fclose(f);
}

typedef struct {
    double roll_s, upd_s, iter_s; /* seconds per iteration: the medians over the timed reps */
    double roll_tok, upd_tok;     /* tokens per iteration (mean) */
} bench_result_t;

/* the median of n values (sorts them): robust to the one rep a shared machine slowed down */
static double median(double *v, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* `reps` timed iterations (after one untimed warm-up) of: generate the batch with the policy,
 * score it with pi_ref (a different model, as after the first iteration) and the critic, then
 * the PPO update of the config (epochs x minibatches, target NLL included). */
static bench_result_t run(const config_t *cfg, const task_t *task, model_t *policy, const model_t *ref,
                          model_t *critic, int threads, int reps) {
    pool_t *pool = pool_create(threads);
    int seq_cap = task->prompt_max + task->gen_max;
    rollout_engine_t *eng = rollout_engine_create(task, pool, seq_cap);
    ppo_trainer_t *tr = ppo_trainer_create(task, pool, seq_cap);
    batch_t b;
    batch_init(&b, cfg->trajectories, seq_cap, task->gen_max, task->n_metrics);
    b.n = cfg->trajectories;
    int64_t *idx = calloc((size_t)b.n, sizeof *idx);
    actor_t a = {policy, {cfg->sample.temperature, cfg->sample.top_k, cfg->sample.top_p}, 0.0, 0};
    const actor_t *actors[2] = {&a, NULL};
    rollout_plan_t plan = {-1, ACTOR_LEARNER, 0};
    uint32_t purpose[2] = {RNG_ROLLOUT, RNG_GUIDE};
    ppo_params_t pp = {cfg->ppo.gamma, cfg->ppo.lambda, cfg->ppo.clip, cfg->ppo.vf_clip, cfg->ppo.value_clip,
                       cfg->ppo.vf_coef, cfg->ppo.ent_coef, cfg->ppo.tgt_coef, cfg->ppo.norm_adv, 0,
                       cfg->ppo.epochs, cfg->ppo.minibatch, cfg->ppo.grad_clip,
                       (float)cfg->ppo.weight_decay, (float)cfg->ppo.adam_eps};
    long s1 = 0, s2 = 0;
    bench_result_t r = {0, 0, 0, 0, 0};
    double *roll = calloc((size_t)reps * 3, sizeof *roll);
    if (!roll || !idx) {
        fprintf(stderr, "rlgf bench: out of memory\n");
        exit(1);
    }
    double *upd = roll + reps, *iter = upd + reps;
    for (int rep = 0; rep <= reps; rep++) {
        for (int i = 0; i < b.n; i++) idx[i] = (int64_t)rep * b.n + i;
        double t0 = util_now_s();
        rollout_generate(eng, &plan, actors, &b, SPLIT_TRAIN, idx, 1, purpose, (uint64_t)rep);
        rollout_score(eng, &b, policy, ref, critic);
        double t1 = util_now_s();
        for (int i = 0; i < b.n; i++)
            for (int t = 0; t < b.gen_len[i]; t++) b.pmask[batch_tok(&b, i, t)] = b.vmask[batch_tok(&b, i, t)] = 1;
        ppo_rewards_and_gae(&b, cfg->kl.beta, 0, pp.gamma, pp.lambda);
        ppo_stats_t st;
        ppo_update(tr, &b, &pp, 1e-4f, policy, critic, &s1, &s2, 1, rep, &st);
        double t2 = util_now_s();
        if (rep == 0) continue; /* warm-up: first-touch of every buffer */
        int64_t toks = 0;
        for (int i = 0; i < b.n; i++) toks += b.gen_len[i];
        roll[rep - 1] = t1 - t0;
        upd[rep - 1] = t2 - t1;
        iter[rep - 1] = t2 - t0;
        r.roll_tok += (double)toks / reps;
        r.upd_tok += (double)toks * cfg->ppo.epochs / reps;
    }
    r.roll_s = median(roll, reps);
    r.upd_s = median(upd, reps);
    r.iter_s = median(iter, reps);
    free(roll);
    free(idx);
    batch_free(&b);
    ppo_trainer_destroy(tr);
    rollout_engine_destroy(eng);
    pool_destroy(pool);
    return r;
}

int bench_main(int argc, char **argv) {
    config_t cfg;
    err_t err;
    cfg_defaults(&cfg);
    int reps = 5, only_threads = 0; /* 0: measure 1 and 2 threads */
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: rlgf bench [FILE.ini] [key=value ...] [--reps N] [--threads N]\n\n"
                   "Measures, for the configured model and task, with 1 and 2 threads: rollout (generation and\n"
                   "scoring with pi_ref and the critic), the PPO update (epochs x minibatches, target NLL\n"
                   "included) and their sum, the whole iteration without logging and evaluation; in tokens/s and\n"
                   "seconds, the median of N timed iterations (default 5) after one warm-up (a shared machine slows\n"
                   "single iterations: the median is not moved by one). Names the machine and prints\n"
                   "the peak memory. `make bench` runs it at the reference IMDB budget with the kernel and PyTorch\n"
                   "comparisons. --threads N measures N threads only (e.g. for a profiler).\n");
            return 0;
        }
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
            if (reps < 1) reps = 1;
            continue;
        }
        if (!strcmp(argv[i], "--threads")) {
            char *end = NULL;
            long n = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (!end || *end || n < 1 || n > 256) {
                fprintf(stderr, "rlgf bench: --threads needs a thread count from 1 to 256 (got '%s')\n",
                        i + 1 < argc ? argv[i + 1] : "");
                return 2;
            }
            only_threads = (int)n;
            i++;
            continue;
        }
        char *eq = strchr(argv[i], '=');
        int rc;
        if (eq) {
            *eq = 0;
            rc = cfg_set(&cfg, argv[i], eq + 1, "command line", &err);
            *eq = '=';
        } else {
            rc = cfg_load_file(&cfg, argv[i], &err);
        }
        if (rc) {
            fprintf(stderr, "rlgf bench: %s\n", err.msg);
            return 2;
        }
    }
    if (cfg_validate(&cfg, &err)) {
        fprintf(stderr, "rlgf bench: %s\n", err.msg);
        return 2;
    }
    task_params_t tp = train_task_params(&cfg);
    task_t *task = task_create(&tp, &err);
    if (!task) {
        fprintf(stderr, "rlgf bench: %s\n", err.msg);
        return 2;
    }
    struct utsname u;
    uname(&u);
    char cpu[256];
    cpu_name(cpu, sizeof cpu);
    printf("machine: %s %s, %s, %ld cores online\n", u.nodename, u.machine, cpu, sysconf(_SC_NPROCESSORS_ONLN));
    printf("task %s, model %s L=%d C=%d heads=%d, vocab %d, %d trajectories x (prompt %d + %d tokens), ppo %d epochs x "
           "minibatch %d, tgt_coef %g\n",
           cfg.task, cfg.model.kind, cfg.model.layers, cfg.model.channels, cfg.model.heads, task->vocab,
           cfg.trajectories, task->prompt_max, task->gen_max, cfg.ppo.epochs, cfg.ppo.minibatch, cfg.ppo.tgt_coef);
    model_config_t mc = {strcmp(cfg.model.kind, "tabular") ? MODEL_GPT : MODEL_TABULAR, HEAD_LM, task->vocab,
                         task->prompt_max + task->gen_max, cfg.model.channels, cfg.model.layers, cfg.model.heads};
    char eb[256];
    rng_t r = rng_stream(0, RNG_INIT_POLICY, 0, 0);
    model_t *policy = model_create(&mc, &r, eb, sizeof eb), *ref = model_create(&mc, &r, eb, sizeof eb);
    mc.head = HEAD_SCALAR;
    model_t *critic = model_create(&mc, &r, eb, sizeof eb);
    if (!policy || !ref || !critic) {
        fprintf(stderr, "rlgf bench: %s\n", eb);
        return 2;
    }
    printf("%-8s %14s %14s %14s %10s %10s %12s\n", "threads", "rollout tok/s", "update tok/s", "iter tok/s", "rollout s",
           "update s", "iteration s");
    bench_result_t base = {0, 0, 0, 0, 0};
    int t_first = only_threads ? only_threads : 1, t_last = only_threads ? only_threads : 2;
    for (int threads = t_first; threads <= t_last; threads++) {
        bench_result_t x = run(&cfg, task, policy, ref, critic, threads, reps);
        double it = x.iter_s;
        printf("%-8d %14.0f %14.0f %14.0f %10.3f %10.3f %12.3f", threads, x.roll_tok / x.roll_s, x.upd_tok / x.upd_s,
               x.roll_tok / it, x.roll_s, x.upd_s, it);
        if (threads == t_first)
            base = x;
        else
            printf("   (x%.2f, x%.2f, x%.2f vs 1 thread)", base.roll_s / x.roll_s, base.upd_s / x.upd_s,
                   base.iter_s / it);
        printf("\n");
        /* one line for tools/bench.sh to read */
        fprintf(stderr, "BENCH threads=%d rollout_s=%.6f update_s=%.6f iteration_s=%.6f rollout_tok=%.0f update_tok=%.0f\n",
                threads, x.roll_s, x.upd_s, it, x.roll_tok, x.upd_tok);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("(medians of %d iterations, the iteration's of its own rollout + update sums; update tok/s counts each\n"
           " token once per epoch; no logging or evaluation)\n", reps);
    printf("peak memory: %.1f MiB (max RSS of this process)\n", (double)ru.ru_maxrss / 1024.0);
    model_destroy(policy);
    model_destroy(ref);
    model_destroy(critic);
    task_destroy(task);
    return 0;
}
