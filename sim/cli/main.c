/* rlgf: the command line. The only place that prints for the user and exits. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/config.h"
#include "../base/err.h"
#include "../store/h5log.h"
#include "../run/train.h"
#include "../../analysis/diff.h"
#include "../../analysis/minari.h"
#include "../../analysis/summary.h"
#include "../run/conformance.h"

static const char *const USAGE =
    "rlgf - a deterministic simulation testbed for RL with guided feedback\n"
    "\n"
    "usage: rlgf COMMAND [ARGS...]\n"
    "\n"
    "commands:\n"
    "  train [FILE.ini] [key=value ...]   run SL (cached) then the chosen algorithm; write a run log\n"
    "  config [FILE.ini] [key=value ...]  print the resolved config; --list: every key, default, help\n"
    "  digest FILE.h5                     SHA-256 of a run log's content outside /timing\n"
    "  info FILE.h5                       readable summary of a run log\n"
    "  summary FILE.h5 ...                validation metrics at the start and end of each run\n"
    "  score --hyp H.txt --refs R.txt     text metrics (BLEU, ROUGE, METEOR, CIDEr-D, ...) of token-id files\n"
    "  sweep SPEC.ini [--jobs N] ...      run every combination of a sweep spec; --resume, --slurm, --mpi\n"
    "  export-minari RUN.h5 DIR           the run's trajectories in the Minari dataset layout\n"
    "  conformance export DIR             known-answer cases (HDF5) to check another RL implementation against\n"
    "  analyze RUNS... -o DIR             statistics across seeds (IQM, bootstrap CIs), tables, gnuplot figures\n"
    "  bench [FILE.ini] [key=value ...]    rollout, update and iteration throughput, 1 and 2 threads\n"
    "  schema [--check RUN.h5]            the run log's layout (every column, type, meaning); check a log\n"
    "  version                            print the program version\n"
    "  help                               this text; `rlgf COMMAND --help` explains one command\n"
    "\n"
    "Same binary + config + seed => byte-identical run log, whatever the thread count.\n"
    "Configs: configs/*.ini; keys: `rlgf config --list`.\n";

static const char *const TRAIN_HELP =
    "usage: rlgf train [FILE.ini] [key=value ...] [--quiet] [--resume | --force]\n"
    "\n"
    "Resolves the config (built-in defaults < FILE.ini < key=value overrides), trains SL for the\n"
    "config (or reuses the checkpoint cached in cache_dir under the hash of the SL settings), then\n"
    "runs `algo` for `iterations` iterations of `trajectories` trajectories, evaluating on the\n"
    "validation split every eval.every iterations and on the test split at the end.\n"
    "The run log (HDF5, see README) goes to `out` (default results/<task>-<algo>-s<seed>-<hash>.h5,\n"
    "<hash> = the first 8 hex digits of the config hash); it is written as OUT.partial and renamed\n"
    "only when the run completes. An existing log at `out` is never replaced without --force; while\n"
    "a run writes `out` it holds OUT.lock, and a second run on the same `out` stops at once.\n"
    "Non-finite losses, gradients or weights stop the run (exit 1): its log is kept at `out`\n"
    "marked diverged (root attributes diverged, diverged_iteration, diverged_quantity; complete = 0).\n"
    "Progress: one updating line on a terminal, a plain line every 10 s otherwise.\n"
    "Every checkpoint.every iterations (default 10) the run saves OUT.resume.h5 (models, optimizer\n"
    "moments, loop state and a copy of the log so far); after a crash or kill, the same command with\n"
    "--resume continues from it and ends with the same run log as an uninterrupted run.\n"
    "\n"
    "examples:\n"
    "  rlgf train configs/imdb.ini seed=3 threads=2\n"
    "  rlgf train configs/toy_match.ini kl.beta=0.05 out=results/toy.h5\n";

static const char *const CONFIG_HELP =
    "usage: rlgf config [FILE.ini] [key=value ...]   print the resolved config (canonical text)\n"
    "       rlgf config --list                       every key with type, default, allowed values, help\n";

static const char *const DIGEST_HELP =
    "usage: rlgf digest FILE.h5 ...\n"
    "\n"
    "Prints `HASH  FILE` per file: SHA-256 over every attribute and dataset outside /timing (names,\n"
    "types, shapes, values). Equal for two runs of the same binary, config and seed.\n";

static const char *const INFO_HELP =
    "usage: rlgf info FILE.h5\n"
    "\n"
    "Prints the run's attributes and config, whether it completed, the final iteration's metrics,\n"
    "the evaluation table and every dataset with its shape and type.\n";

static const char *const DIFF_HELP =
    "usage: rlgf diff A.h5 B.h5 [--tol REL[,ABS]] [--max N]\n"
    "\n"
    "Says where two runs that should agree (a refactor, a kernel, another compiler) part:\n"
    "  1. the root attributes and the config, key by key: each differing key with both values\n"
    "     (program_version names the binary and is not compared, as in `rlgf digest`);\n"
    "  2. every dataset outside /timing: datasets present in only one file, then the first\n"
    "     differing element in run order, located as iteration, training batch or evaluation\n"
    "     (split, who), trajectory, prompt, token position and dataset, with both values at full\n"
    "     precision (%.17g, %.9g for float32, and hex, so a 1-ulp difference shows); the first\n"
    "     differing generated token too when the first difference is elsewhere;\n"
    "  3. a table of every dataset that differs: differing elements, elements compared, max\n"
    "     absolute and max relative difference (|a-b| / max(|a|,|b|)), where it first differs.\n"
    "Token arrays are compared trajectory by trajectory: a trajectory longer in one file counts\n"
    "its extra tokens as differences without shifting the trajectories after it.\n"
    "\n"
    "options:\n"
    "  --tol REL[,ABS]  compare floating-point values within a tolerance instead of bitwise:\n"
    "                   a and b agree when |a-b| <= ABS + REL * max(|a|,|b|) (ABS defaults to 0).\n"
    "                   NaN agrees with NaN, and differs from any number; integers (tokens,\n"
    "                   counts) are always compared exactly. Without --tol every bit counts\n"
    "                   (NaN equals NaN with the same bits, -0 differs from 0).\n"
    "  --max N          list the first N differences in run order (default 1)\n"
    "\n"
    "exit status: 0 equal, 1 different, 2 bad input (a missing or damaged file, not a run log;\n"
    "the message names the file).\n"
    "\n"
    "examples:\n"
    "  rlgf diff results/before.h5 results/after.h5\n"
    "  rlgf diff gcc.h5 clang.h5 --tol 1e-6 --max 10\n";

static int wants_help(int argc, char **argv) {
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

/* Builds the config from [FILE.ini] [key=value ...]; flags (starting with --) are skipped. */
static int resolve_config(int argc, char **argv, int first, config_t *cfg, err_t *err) {
    cfg_defaults(cfg);
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "--", 2)) continue;
        const char *eq = strchr(a, '=');
        if (!eq) {
            if (cfg_load_file(cfg, a, err) != 0) return -1;
            continue;
        }
        char key[256];
        size_t kl = (size_t)(eq - a);
        if (kl == 0 || kl >= sizeof key)
            return err_set(err, "command line: '%s' is not key=value", a);
        memcpy(key, a, kl);
        key[kl] = 0;
        if (cfg_set(cfg, key, eq + 1, "command line", err) != 0) return -1;
    }
    return cfg_validate(cfg, err);
}

static int has_flag(int argc, char **argv, const char *flag) {
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], flag)) return 1;
    return 0;
}

static int check_flags(int argc, char **argv, const char *const *allowed, err_t *err) {
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--", 2)) continue;
        int ok = 0;
        for (int k = 0; allowed[k]; k++) ok |= !strcmp(argv[i], allowed[k]);
        if (!ok) return err_set(err, "unknown option '%s' (see `rlgf %s --help`)", argv[i], argv[1]);
    }
    return 0;
}

static int cmd_train(int argc, char **argv) {
    if (wants_help(argc, argv)) return fputs(TRAIN_HELP, stdout), 0;
    config_t cfg;
    err_t err;
    const char *flags[] = {"--quiet", "--resume", "--force", NULL};
    if (check_flags(argc, argv, flags, &err) || resolve_config(argc, argv, 2, &cfg, &err)) {
        fprintf(stderr, "rlgf train: %s\n", err.msg);
        return 2;
    }
    if (has_flag(argc, argv, "--resume") && has_flag(argc, argv, "--force")) {
        fprintf(stderr, "rlgf train: --resume and --force exclude each other\n");
        return 2;
    }
    train_opts_t opts = {has_flag(argc, argv, "--quiet"), -1, has_flag(argc, argv, "--resume"), NULL, NULL,
                         has_flag(argc, argv, "--force")};
    if (train_run(&cfg, &opts, &err) != 0) {
        fprintf(stderr, "rlgf train: %s\n", err.msg);
        return 1;
    }
    char out[1024];
    train_out_path(&cfg, out, sizeof out);
    if (!opts.quiet) fprintf(stderr, "run log: %s\n", out);
    return 0;
}

static int cmd_config(int argc, char **argv) {
    if (wants_help(argc, argv)) return fputs(CONFIG_HELP, stdout), 0;
    if (has_flag(argc, argv, "--list")) {
        cfg_print_list(stdout);
        return 0;
    }
    config_t cfg;
    err_t err;
    const char *flags[] = {"--list", NULL};
    if (check_flags(argc, argv, flags, &err) || resolve_config(argc, argv, 2, &cfg, &err)) {
        fprintf(stderr, "rlgf config: %s\n", err.msg);
        return 2;
    }
    char *text = cfg_to_text(&cfg);
    fputs(text, stdout);
    free(text);
    return 0;
}

static int cmd_digest(int argc, char **argv) {
    if (wants_help(argc, argv)) return fputs(DIGEST_HELP, stdout), 0;
    if (argc < 3) return fputs(DIGEST_HELP, stderr), 2;
    int rc = 0;
    for (int i = 2; i < argc; i++) {
        char hex[65];
        err_t err;
        if (h5log_digest(argv[i], hex, &err) != 0) {
            fprintf(stderr, "rlgf digest: %s\n", err.msg);
            rc = 1;
            continue;
        }
        printf("%s  %s\n", hex, argv[i]);
    }
    return rc;
}

static int cmd_info(int argc, char **argv) {
    if (wants_help(argc, argv)) return fputs(INFO_HELP, stdout), 0;
    if (argc != 3) return fputs(INFO_HELP, stderr), 2;
    err_t err;
    if (h5log_info(argv[2], stdout, &err) != 0) {
        fprintf(stderr, "rlgf info: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int cmd_diff(int argc, char **argv) {
    if (wants_help(argc, argv)) return fputs(DIFF_HELP, stdout), 0;
    const char *files[2] = {NULL, NULL};
    int nfiles = 0;
    diff_opts_t o;
    diff_opts_default(&o);
    err_t err;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--tol") || !strcmp(a, "--max")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "rlgf diff: %s needs a value (see `rlgf diff --help`)\n", a);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--tol")) {
                if (diff_parse_tol(v, &o, &err)) {
                    fprintf(stderr, "rlgf diff: %s\n", err.msg);
                    return 2;
                }
            } else {
                char *end;
                long n = strtol(v, &end, 10);
                if (end == v || *end || n < 1 || n > 100000) {
                    fprintf(stderr, "rlgf diff: --max '%s': expected a whole number from 1 to 100000\n", v);
                    return 2;
                }
                o.max = n;
            }
        } else if (!strncmp(a, "--", 2)) {
            fprintf(stderr, "rlgf diff: unknown option '%s' (see `rlgf diff --help`)\n", a);
            return 2;
        } else if (nfiles < 2) {
            files[nfiles++] = a;
        } else {
            fprintf(stderr, "rlgf diff: expected two run logs, got a third argument '%s'\n", a);
            return 2;
        }
    }
    if (nfiles != 2) return fputs(DIFF_HELP, stderr), 2;
    int rc = diff_runs(files[0], files[1], &o, stdout, &err);
    if (rc < 0) {
        fflush(stdout);
        fprintf(stderr, "rlgf diff: %s\n", err.msg);
        return 2;
    }
    return rc;
}

static int cmd_summary(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 3) {
        fputs("usage: rlgf summary FILE.h5 ...\n\nFor each run log: the validation evaluation at the start of RL (the SL policy)\n"
              "and at the end: task reward, output perplexity under the world LM, perplexity of the\n"
              "held-out references under the policy, KL to pi_ref, distinct-2.\n", argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    err_t err;
    if (summary_print((const char *const *)argv + 2, argc - 2, stdout, &err)) {
        fprintf(stderr, "rlgf summary: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int cmd_export_minari(int argc, char **argv) {
    if (wants_help(argc, argv) || argc < 4) {
        fputs("usage: rlgf export-minari RUN.h5 DIR [--split train|validation|test] [--force]\n\n"
              "Writes the Minari dataset layout: DIR/data/main_data.hdf5 with one episode_N group per\n"
              "trajectory (actions = tokens, observations = [prompt_index, step], shaped rewards,\n"
              "terminations, infos: actor, logp, logp_ref, value, advantage) and DIR/data/metadata.json.\n"
              "A DIR that is not empty is refused unless --force.\n",
              argc < 4 ? stderr : stdout);
        return argc < 4 ? 2 : 0;
    }
    int split = -1, force = 0;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else if (!strcmp(argv[i], "--split") && i + 1 < argc) {
            const char *v = argv[++i];
            split = !strcmp(v, "train") ? 0 : !strcmp(v, "validation") ? 1 : !strcmp(v, "test") ? 2 : -2;
            if (split == -2) {
                fprintf(stderr, "rlgf export-minari: --split '%s': expected train, validation or test\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "rlgf export-minari: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    err_t err;
    if (minari_export(argv[2], argv[3], split, force, &err)) {
        fprintf(stderr, "rlgf export-minari: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s/data/main_data.hdf5 and %s/data/metadata.json\n", argv[3], argv[3]);
    return 0;
}

static const char *const CONFORMANCE_HELP =
    "usage: rlgf conformance export DIR [--force]\n"
    "\n"
    "Writes rlgf's known-answer cases, one HDF5 file per family (gae, ppo_policy_loss, value_loss,\n"
    "entropy, target_nll, guided_masks, toy_exact, ppo_step): small padded batches (tokens, masks, roll-in\n"
    "switch points, log-probs under the policy, pi_old and pi_ref, values, rewards) with the exact\n"
    "advantages, returns, losses and gradients rlgf's trainer computes (README, \"Checking your own\n"
    "implementation\"; schema_version 1). The files are byte-identical for the same binary.\n"
    "Check an implementation with tools/conformance_check.py DIR --adapter MODULE:FUNCTION (or\n"
    "--outputs OUTDIR). A DIR that is not empty is refused unless --force.\n";

static int cmd_conformance(int argc, char **argv) {
    if (wants_help(argc, argv)) return fputs(CONFORMANCE_HELP, stdout), 0;
    const char *dir = NULL;
    int force = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = 1;
        else if (argv[i][0] == '-' || dir) return fprintf(stderr, "rlgf conformance: unexpected argument '%s' (see --help)\n", argv[i]), 2;
        else dir = argv[i];
    }
    if (argc < 3 || strcmp(argv[2], "export") || !dir) return fputs(CONFORMANCE_HELP, stderr), 2;
    err_t err;
    if (conf_export(dir, force, &err)) {
        fprintf(stderr, "rlgf conformance export: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; conf_families[i]; i++) printf("wrote %s/%s\n", dir, conf_families[i]);
    return 0;
}

int bench_main(int argc, char **argv);
int analyze_main(int argc, char **argv);
int score_main(int argc, char **argv);
int sweep_main(int argc, char **argv);
int schema_main(int argc, char **argv);



int main(int argc, char **argv) {
    /* A file-size limit or quota must surface as a write error with a message, not kill us. */
    signal(SIGXFSZ, SIG_IGN);
    h5log_init();
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *c = argv[1];
    if (!strcmp(c, "version") || !strcmp(c, "--version")) return printf("rlgf %s\n", RLGF_VERSION), 0;
    if (!strcmp(c, "train")) return cmd_train(argc, argv);
    if (!strcmp(c, "config")) return cmd_config(argc, argv);
    if (!strcmp(c, "digest")) return cmd_digest(argc, argv);
    if (!strcmp(c, "info")) return cmd_info(argc, argv);
    if (!strcmp(c, "diff")) return cmd_diff(argc, argv);
    if (!strcmp(c, "bench")) return bench_main(argc, argv);

    if (!strcmp(c, "summary")) return cmd_summary(argc, argv);
    if (!strcmp(c, "analyze")) return analyze_main(argc, argv);
    if (!strcmp(c, "export-minari")) return cmd_export_minari(argc, argv);
    if (!strcmp(c, "conformance")) return cmd_conformance(argc, argv);
    if (!strcmp(c, "score")) return score_main(argc, argv);
    if (!strcmp(c, "sweep")) return sweep_main(argc, argv);
    if (!strcmp(c, "schema")) return schema_main(argc, argv);

    fprintf(stderr, "rlgf: unknown command '%s' (see `rlgf --help`)\n", c);
    return 2;
}
