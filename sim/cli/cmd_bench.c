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

/* One thread count's engine: its pool, rollout engine, PPO trainer and batch, and the seconds
 * and tokens of every rep it ran. */
typedef struct {
    int threads;
    pool_t *pool;
    rollout_engine_t *eng;
    ppo_trainer_t *tr;
    batch_t b;
    int64_t *idx;
    double *roll, *upd, *iter; /* per timed rep */
    double toks;               /* generated tokens, summed over the timed reps */
    double flops;              /* model FLOPs of one iteration (model_flops; the same every rep) */
} bench_lane_t;

static int lane_init(bench_lane_t *l, const config_t *cfg, const task_t *task, int threads, int reps) {
    memset(l, 0, sizeof *l);
    l->threads = threads;
    l->pool = pool_create(threads);
    int seq_cap = task->prompt_max + task->gen_max;
    l->eng = rollout_engine_create(task, l->pool, seq_cap);
    l->tr = ppo_trainer_create(task, l->pool, seq_cap);
    batch_init(&l->b, cfg->trajectories, seq_cap, task->gen_max, task->n_metrics);
    l->b.n = cfg->trajectories;
    l->idx = calloc((size_t)l->b.n, sizeof *l->idx);
    l->roll = calloc((size_t)reps * 3, sizeof *l->roll);
    if (!l->pool || !l->eng || !l->tr || !l->idx || !l->roll) return -1;
    l->upd = l->roll + reps;
    l->iter = l->upd + reps;
    return 0;
}

static void lane_free(bench_lane_t *l) {
    free(l->roll);
    free(l->idx);
    batch_free(&l->b);
    if (l->tr) ppo_trainer_destroy(l->tr);
    if (l->eng) rollout_engine_destroy(l->eng);
    if (l->pool) pool_destroy(l->pool);
}

/* Rep `rep` on lane l, timed into slot rep - 1 when `timed` (rep 0 is the untimed warm-up: first
 * touch of every buffer): generate the batch with the policy, score it with pi_ref (a different
 * model, as after the first iteration) and the critic, then the PPO update of the config (epochs x
 * minibatches, target NLL included). steps are the optimiser's step counters of policy and critic. */
static void lane_rep(bench_lane_t *l, const config_t *cfg, model_t *policy, const model_t *ref, model_t *critic,
                     int rep, int timed, long steps[2]) {
    batch_t *b = &l->b;
    actor_t a = {policy, {cfg->sample.temperature, cfg->sample.top_k, cfg->sample.top_p}, 0.0, 0};
    const actor_t *actors[2] = {&a, NULL};
    rollout_plan_t plan = {-1, ACTOR_LEARNER, 0};
    uint32_t purpose[2] = {RNG_ROLLOUT, RNG_GUIDE};
    ppo_params_t pp = {cfg->ppo.gamma, cfg->ppo.lambda, cfg->ppo.clip, cfg->ppo.vf_clip, cfg->ppo.value_clip,
                       cfg->ppo.vf_coef, cfg->ppo.ent_coef, cfg->ppo.tgt_coef, cfg->ppo.norm_adv, 0,
                       cfg->ppo.epochs, cfg->ppo.minibatch, cfg->ppo.grad_clip,
                       (float)cfg->ppo.weight_decay, (float)cfg->ppo.adam_eps};
    for (int i = 0; i < b->n; i++) l->idx[i] = (int64_t)rep * b->n + i;
    unsigned long long f0 = model_flops(); /* this lane's: the lanes run one after the other */
    double t0 = util_now_s();
    rollout_generate(l->eng, &plan, actors, b, SPLIT_TRAIN, l->idx, 1, purpose, (uint64_t)rep);
    rollout_score(l->eng, b, policy, ref, critic);
    double t1 = util_now_s();
    for (int i = 0; i < b->n; i++)
        for (int t = 0; t < b->gen_len[i]; t++) b->pmask[batch_tok(b, i, t)] = b->vmask[batch_tok(b, i, t)] = 1;
    ppo_rewards_and_gae(b, cfg->kl.beta, 0, pp.gamma, pp.lambda);
    ppo_stats_t st;
    ppo_update(l->tr, b, &pp, 1e-4f, policy, critic, &steps[0], &steps[1], 1, rep, &st);
    double t2 = util_now_s();
    if (!timed || rep == 0) return;
    l->flops = (double)(model_flops() - f0);
    for (int i = 0; i < b->n; i++) l->toks += b->gen_len[i];
    l->roll[rep - 1] = t1 - t0;
    l->upd[rep - 1] = t2 - t1;
    l->iter[rep - 1] = t2 - t0;
}

static bench_result_t lane_result(const bench_lane_t *l, const config_t *cfg, int reps) {
    bench_result_t r;
    r.roll_tok = l->toks / reps;
    r.upd_tok = l->toks * cfg->ppo.epochs / reps;
    r.roll_s = median(l->roll, reps);
    r.upd_s = median(l->upd, reps);
    r.iter_s = median(l->iter, reps);
    return r;
}

/* Runs every lane rep by rep, interleaved (the order alternates from rep to rep), each rep of
 * every lane from the same weights and optimiser state: a shared machine's slow spells hit the
 * thread counts alike, and the ratios are paired. On a VM a core left idle during another lane's
 * 1-thread rep comes back slow (measured: a 2-thread rep right after a 1-thread one took 15% longer
 * than in a row of 2-thread reps), so with two lanes each timed rep follows an untimed one from the
 * same weights, as in a run where the iterations follow each other. The thread count must not
 * change a bit, so after each rep every lane's weights are compared with the first lane's: a
 * difference is an error. Returns 0, or -1 (with a message) on a difference or no memory. */
static int run_lanes(bench_lane_t *lanes, int n_lanes, const config_t *cfg, const task_t *task, model_t *policy,
                     const model_t *ref, model_t *critic, int reps, double *one_lane_mib) {
    size_t np = 4 * policy->n_params, nc = 4 * critic->n_params; /* params, grads, Adam m and v */
    float *start = malloc((np + nc) * sizeof(float)), *first = malloc((np + nc) * sizeof(float));
    if (!start || !first) {
        free(start);
        free(first);
        fprintf(stderr, "rlgf bench: out of memory\n");
        return -1;
    }
    long steps[2] = {0, 0};
    int rc = 0;
    for (int rep = 0; rep <= reps && !rc; rep++) {
        memcpy(start, policy->arena, np * sizeof(float));
        memcpy(start + np, critic->arena, nc * sizeof(float));
        long steps0[2] = {steps[0], steps[1]};
        /* the order alternates; at the warm-up the lanes start one by one, the most threads (the
         * most per-worker buffers) first, so the peak after the first is that of one run */
        int reverse = rep == 0 || rep % 2;
        for (int k = 0; k < n_lanes; k++) {
            int li = reverse ? n_lanes - 1 - k : k;
            if (rep == 0) {
                if (lane_init(&lanes[li], cfg, task, lanes[li].threads, reps)) {
                    fprintf(stderr, "rlgf bench: out of memory\n");
                    rc = -1;
                    break;
                }
            }
            for (int warm = rep > 0 && n_lanes > 1; warm >= 0; warm--) { /* the re-warm rep, then the timed one */
                memcpy(policy->arena, start, np * sizeof(float));
                memcpy(critic->arena, start + np, nc * sizeof(float));
                steps[0] = steps0[0];
                steps[1] = steps0[1];
                lane_rep(&lanes[li], cfg, policy, ref, critic, rep, !warm, steps);
            }
            if (rep == 0 && k == 0) {
                struct rusage ru;
                getrusage(RUSAGE_SELF, &ru);
                *one_lane_mib = (double)ru.ru_maxrss / 1024.0;
            }
            if (k == 0) {
                memcpy(first, policy->params, policy->n_params * sizeof(float));
                memcpy(first + np, critic->params, critic->n_params * sizeof(float));
            } else if (memcmp(first, policy->params, policy->n_params * sizeof(float)) ||
                       memcmp(first + np, critic->params, critic->n_params * sizeof(float))) {
                fprintf(stderr, "rlgf bench: after rep %d the weights differ between %d and %d threads: the thread "
                        "count changed the bits (a determinism bug)\n", rep, lanes[reverse ? n_lanes - 1 : 0].threads,
                        lanes[li].threads);
                rc = -1;
            }
        }
    }
    free(start);
    free(first);
    return rc;
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
                   "single iterations: the median is not moved by one). The two thread counts run interleaved,\n"
                   "each timed rep after an untimed one and both from the same weights (checked identical after\n"
                   "it: the thread count must not change a bit), so a slow spell of a shared machine hits both;\n"
                   "the speed-up is the median of the per-rep ratios. Names the machine and prints the peak\n"
                   "memory. `make bench` runs it at the reference IMDB budget with the kernel and PyTorch\n"
                   "comparisons.\n"
                   "--threads N measures N threads only (e.g. for a profiler).\n");
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
    int t_first = only_threads ? only_threads : 1, t_last = only_threads ? only_threads : 2;
    int n_lanes = t_last - t_first + 1;
    bench_lane_t lanes[2];
    memset(lanes, 0, sizeof lanes);
    for (int k = 0; k < n_lanes; k++) lanes[k].threads = t_first + k; /* run_lanes starts them */
    double one_lane_mib = 0;
    if (run_lanes(lanes, n_lanes, &cfg, task, policy, ref, critic, reps, &one_lane_mib)) return 1;
    double iter_s[2];
    for (int k = 0; k < n_lanes; k++) {
        bench_result_t x = lane_result(&lanes[k], &cfg, reps);
        double it = iter_s[k] = x.iter_s;
        printf("%-8d %14.0f %14.0f %14.0f %10.3f %10.3f %12.3f", lanes[k].threads, x.roll_tok / x.roll_s,
               x.upd_tok / x.upd_s, x.roll_tok / it, x.roll_s, x.upd_s, it);
        double iter_speedup = 1.0;
        if (k > 0) { /* the speed-ups: medians of the per-rep ratios, each rep timed from the same weights */
            double rr[3][reps];
            for (int q = 0; q < reps; q++) {
                rr[0][q] = lanes[0].roll[q] / lanes[k].roll[q];
                rr[1][q] = lanes[0].upd[q] / lanes[k].upd[q];
                rr[2][q] = lanes[0].iter[q] / lanes[k].iter[q];
            }
            iter_speedup = median(rr[2], reps);
            printf("   (x%.2f, x%.2f, x%.2f vs %d thread%s)", median(rr[0], reps), median(rr[1], reps), iter_speedup,
                   lanes[0].threads, lanes[0].threads == 1 ? "" : "s");
        }
        printf("\n");
        /* one line for tools/bench.sh to read */
        fprintf(stderr, "BENCH threads=%d rollout_s=%.6f update_s=%.6f iteration_s=%.6f rollout_tok=%.0f update_tok=%.0f "
                "iteration_speedup=%.4f\n", lanes[k].threads, x.roll_s, x.upd_s, it, x.roll_tok, x.upd_tok, iter_speedup);
    }
    /* model FLOP utilisation: a figure that does not depend on the machine's speed of the day when
     * set against a yardstick measured in the same run (tools/bench.sh: OpenBLAS sgemm) */
    printf("model FLOPs per iteration: %.2f GFLOP (matmuls and attention's products, forward and backward);",
           lanes[0].flops * 1e-9);
    for (int k = 0; k < n_lanes; k++) {
        double gflops = lanes[k].flops * 1e-9 / iter_s[k];
        printf(" %d thread%s %.1f GFLOP/s%s", lanes[k].threads, lanes[k].threads == 1 ? "" : "s", gflops,
               k + 1 < n_lanes ? "," : "\n");
        fprintf(stderr, "BENCHFLOPS threads=%d gflop=%.4f gflops=%.3f\n", lanes[k].threads, lanes[k].flops * 1e-9, gflops);
    }
    for (int k = 0; k < n_lanes; k++) lane_free(&lanes[k]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("(medians of %d iterations, the iteration's of its own rollout + update sums; update tok/s counts each\n"
           " token once per epoch; no logging or evaluation%s)\n", reps,
           n_lanes > 1 ? ".\n The thread counts run interleaved, each rep from the same weights, which they end with\n"
                         " identical; the speed-ups are medians of the per-rep ratios" : "");
    if (n_lanes > 1)
        printf("peak memory: %.1f MiB for the models and one %d-thread engine (max RSS before the second started;\n"
               " %.1f MiB with both)\n", one_lane_mib, lanes[n_lanes - 1].threads, (double)ru.ru_maxrss / 1024.0);
    else
        printf("peak memory: %.1f MiB (max RSS of this process)\n", (double)ru.ru_maxrss / 1024.0);
    model_destroy(policy);
    model_destroy(ref);
    model_destroy(critic);
    task_destroy(task);
    return 0;
}
