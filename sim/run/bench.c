/* rlgf bench: rollout and update throughput (tokens/s) of the default model, with 1 and 2
 * threads. Timings are reported, never asserted (they depend on the machine). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "../../envs/task.h"
#include "../rl/batch.h"
#include "../base/config.h"
#include "../nn/model.h"
#include "../base/pool.h"
#include "../rl/ppo.h"
#include "../rl/rollout.h"
#include "train.h"

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

int bench_main(int argc, char **argv) {
    config_t cfg;
    err_t err;
    cfg_defaults(&cfg);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: rlgf bench [FILE.ini] [key=value ...]\n\nMeasures rollout (generation + scoring) and PPO update throughput in tokens/s\nfor the configured model and task, with 1 and 2 threads, and names the machine.\n");
            return 0;
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
    printf("machine: %s %s, %s\n", u.nodename, u.machine, cpu);
    printf("task %s, model %s L=%d C=%d heads=%d, vocab %d, %d trajectories x %d tokens, ppo %d epochs x minibatch %d\n",
           cfg.task, cfg.model.kind, cfg.model.layers, cfg.model.channels, cfg.model.heads, task->vocab,
           cfg.trajectories, task->gen_max, cfg.ppo.epochs, cfg.ppo.minibatch);
    model_config_t mc = {strcmp(cfg.model.kind, "tabular") ? MODEL_GPT : MODEL_TABULAR, HEAD_LM, task->vocab,
                         task->prompt_max + task->gen_max, cfg.model.channels, cfg.model.layers, cfg.model.heads};
    char eb[256];
    rng_t r = rng_stream(0, RNG_INIT_POLICY, 0, 0);
    model_t *policy = model_create(&mc, &r, eb, sizeof eb);
    mc.head = HEAD_SCALAR;
    model_t *critic = model_create(&mc, &r, eb, sizeof eb);
    printf("%-8s %18s %18s\n", "threads", "rollout tok/s", "update tok/s");
    double base[2] = {0, 0};
    for (int threads = 1; threads <= 2; threads++) {
        pool_t *pool = pool_create(threads);
        int seq_cap = task->prompt_max + task->gen_max;
        rollout_engine_t *eng = rollout_engine_create(task, pool, seq_cap);
        ppo_trainer_t *tr = ppo_trainer_create(task, pool, seq_cap);
        batch_t b;
        batch_init(&b, cfg.trajectories, seq_cap, task->gen_max, task->n_metrics);
        b.n = cfg.trajectories;
        int64_t *idx = calloc((size_t)b.n, sizeof *idx);
        for (int i = 0; i < b.n; i++) idx[i] = i;
        actor_t a = {policy, {cfg.sample.temperature, cfg.sample.top_k, cfg.sample.top_p}, 0.0};
        const actor_t *actors[2] = {&a, NULL};
        rollout_plan_t plan = {-1, ACTOR_LEARNER, 0};
        uint32_t purpose[2] = {RNG_ROLLOUT, RNG_GUIDE};
        ppo_params_t pp = {cfg.ppo.gamma, cfg.ppo.lambda, cfg.ppo.clip, cfg.ppo.vf_clip, cfg.ppo.value_clip,
                           cfg.ppo.vf_coef, cfg.ppo.ent_coef, cfg.ppo.tgt_coef, cfg.ppo.norm_adv, 0,
                           cfg.ppo.epochs, cfg.ppo.minibatch, cfg.ppo.grad_clip,
                           (float)cfg.ppo.weight_decay, (float)cfg.ppo.adam_eps};
        long s1 = 0, s2 = 0;
        double t_roll = 0, t_upd = 0;
        int64_t toks = 0;
        for (int rep = 0; rep < 2; rep++) {
            double t0 = seconds();
            rollout_generate(eng, &plan, actors, &b, SPLIT_TRAIN, idx, 1, purpose, (uint64_t)rep);
            rollout_score(eng, &b, policy, policy, critic);
            double t1 = seconds();
            for (int i = 0; i < b.n; i++)
                for (int t = 0; t < b.gen_len[i]; t++) b.pmask[batch_tok(&b, i, t)] = b.vmask[batch_tok(&b, i, t)] = 1;
            ppo_rewards_and_gae(&b, 0.001, 0, pp.gamma, pp.lambda);
            ppo_stats_t st;
            ppo_update(tr, &b, &pp, 1e-4f, policy, critic, &s1, &s2, 1, rep, &st);
            double t2 = seconds();
            t_roll += t1 - t0;
            t_upd += t2 - t1;
            for (int i = 0; i < b.n; i++) toks += b.gen_len[i];
        }
        double rr = (double)toks / t_roll, ur = (double)toks * cfg.ppo.epochs / t_upd;
        if (threads == 1) {
            base[0] = rr;
            base[1] = ur;
            printf("%-8d %18.0f %18.0f\n", threads, rr, ur);
        } else {
            printf("%-8d %18.0f %18.0f   (x%.2f, x%.2f vs 1 thread)\n", threads, rr, ur, rr / base[0], ur / base[1]);
        }
        free(idx);
        batch_free(&b);
        ppo_trainer_destroy(tr);
        rollout_engine_destroy(eng);
        pool_destroy(pool);
    }
    printf("(update tok/s counts each token once per epoch)\n");
    model_destroy(policy);
    model_destroy(critic);
    task_destroy(task);
    return 0;
}
