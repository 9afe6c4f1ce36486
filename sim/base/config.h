/* config: every setting of a run, typed, with a default and a one-line help each.
 *
 * Sources, later ones winning: built-in defaults < INI file (`[section]` + `key = value` gives key
 * `section.key`; keys before any section are top-level) < command-line `key=value` overrides.
 * Parsing uses libinih (Debian package libinih-dev). Every key is declared once, in the registry
 * in config.c, with its type, default, allowed range or choices and help text; `rlgf config
 * --list` prints that registry.
 *
 * Errors name the key, the value, where it came from ("configs/imdb.ini:12" or "command line")
 * and what is allowed; an unknown key gets a did-you-mean when a known key is close. */
#ifndef RLGF_CONFIG_H
#define RLGF_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "err.h"

#define CFG_STR 256

typedef struct {
    /* top level */
    char task[CFG_STR];   /* imdb | toy_match | toy_lock | commongen | tldr */
    char algo[CFG_STR];   /* sl | ppo | ppopp | aggrevated | lols | d2lols | grpo | rloo | reinforce | remax | guidebase */
    int64_t seed;         /* >= 0 */
    int iterations;       /* RL iterations, >= 1 */
    int trajectories;     /* trajectories per iteration, >= 1 */
    int threads;          /* 1..64 */
    char out[CFG_STR];    /* run-log path; "" = results/<task>-<algo>-s<seed>.h5 */
    char cache_dir[CFG_STR]; /* where SL checkpoints are cached; default results/cache */
    double beta;          /* P(roll-in) of the guided algorithms; -1 = per-task/algo default */
    double tau;           /* LOLS: P(PPO++ iteration); D2LOLS: switch iteration; -1 = default */
    int kl_in_guided_reward; /* bool, true: KL shaping also in PPO++/AggreVaTeD/LOLS/D2LOLS */
    int save_policy;      /* bool, true: write the final policy to <out>.policy.h5 */

    struct {
        char type[CFG_STR];  /* oracle | checkpoint */
        double quality;      /* q in [0,1]: P(follow the task's expert) per token (oracle) */
        char path[CFG_STR];  /* checkpoint guide: file holding a policy (and base of oracle if set) */
        double temperature;  /* guide sampling */
        int top_k;
        double top_p;
        char top_p_mass[CFG_STR]; /* full | top_k: what top_p counts (top_k = Hugging Face's order) */
    } guide;

    struct { int every; } checkpoint;             /* checkpoint.every: resumable checkpoint period, 0 = off */
    struct { int timing; } log;                  /* log.timing: bool, default 0 */
    struct { int every; int prompts; int test_prompts; } eval; /* eval.every (10), eval.prompts (32 validation), eval.test_prompts (32) */
    struct { int64_t seed; int vocab; } world;   /* world.seed (1), world.vocab (512, 64..4096) */
    struct { int prompt_len; int gen_len; double threshold; } imdb; /* imdb.prompt_len (64, 8..256), imdb.gen_len (48, 2..128), imdb.threshold (0, [0, 1)) */
    struct { double min_coverage; } commongen;     /* commongen.min_coverage (0, [0, 1]) */
    struct { int post_len; double min_coverage; } tldr; /* tldr.post_len (200, 16..1024), tldr.min_coverage (0, [0, 1]) */

    struct {
        char kind[CFG_STR]; /* gpt | tabular (default gpt) */
        int layers;         /* 2, 1..12 */
        int channels;       /* 32, 8..1024 */
        int heads;          /* 4, 1..32, must divide channels */
    } model;

    struct {
        double temperature; /* 1.0, (0, 10]; sampling for training rollouts */
        int top_k;          /* 50 (0 = off), 0..vocab */
        double top_p;       /* 1.0, (0, 1] */
    } sample;

    struct {
        /* keys eval.temperature ([0, 10], 0 = greedy), eval.top_k, eval.top_p: evaluation
         * sampling; defaults as sample.* */
        double temperature; int top_k; double top_p;
    } eval_sample;

    struct {
        int epochs;          /* 5 */
        int minibatch;       /* 28 trajectories */
        double gamma;        /* 0.99 */
        double lambda;       /* 0.95 */
        double clip;         /* 0.2 */
        double vf_clip;      /* 0.2 */
        int value_clip;      /* bool, 1 */
        double vf_coef;      /* 0.5 */
        double ent_coef;     /* 0.0 */
        double tgt_coef;     /* 0.1 */
        int norm_adv;        /* bool, 0 */
        double target_kl;    /* 0 = off */
        double lr;           /* learning rate */
        char lr_schedule[CFG_STR]; /* linear | constant */
        double grad_clip;    /* 1.0 */
        double weight_decay; /* 1e-6 */
        double adam_eps;     /* 1e-5 */
        double clip_high;    /* -1 = ppo.clip; else the upper clip 1 + this (DAPO clip-higher) */
    } ppo;

    struct {
        double beta;          /* 0.001 */
        char controller[CFG_STR]; /* fixed | adaptive */
        double target;        /* 0.1, adaptive target */
        double k;             /* 0.1, adaptive step */
        char estimator[CFG_STR]; /* k1 | k2 | k3 (sim/estimators.h) */
        char placement[CFG_STR]; /* reward | loss */
    } kl;

    /* critic-free estimators, loss aggregation (sim/estimators.h, issue 13) */
    struct { int size; } group;                 /* group.size: completions per prompt (1) */
    struct { char scale[CFG_STR]; } grpo;       /* grpo.scale: group | batch | none */
    struct { char baseline[CFG_STR]; } reinforce; /* reinforce.baseline: mean | none */
    struct { char agg[CFG_STR]; } loss;         /* loss.agg: token_mean | seq_mean_token_mean | seq_mean_token_sum_norm */

    struct {
        int epochs;       /* 3 */
        int examples;     /* 2048 training (prompt, reference) pairs */
        int batch;        /* 16 */
        double lr;        /* 3e-3 */
        double grad_clip;    /* 1.0, as ppo.grad_clip but for SL only */
        double weight_decay; /* 1e-6 */
        double adam_eps;     /* 1e-5 */
    } sl;
} config_t;

/* One line for libinih's ini_parse_stream, counting lines (the packaged libinih does not pass
 * line numbers to the handler): leading blanks and ` # comments` stripped; a line longer than
 * num - 2 sets *too_long and comes back empty. NULL at end of file (*read_errno on a read error).
 * Shared by config files and sweep specs. */
char *cfg_ini_next_line(FILE *f, char *str, int num, int *line, int *read_errno, int *too_long);

/* Built-in defaults. */
void cfg_defaults(config_t *c);
/* Applies an INI file. Errors name "path:line". A dotted key before any section (`ppo.lr = 1e-3`)
 * is the same as `lr` under `[ppo]`. Comments: lines starting with ';' or '#', and ` ;` or ` #`
 * after a value. On error c may be partly updated. */
int cfg_load_file(config_t *c, const char *path, err_t *err);
/* Applies one "key=value" override; `origin` is used in messages (e.g. "command line"; NULL means
 * that). Key and value are trimmed. On error c is unchanged. */
int cfg_set(config_t *c, const char *key, const char *value, const char *origin, err_t *err);
/* Cross-key checks after all sources are applied (e.g. heads divides channels). */
int cfg_validate(const config_t *c, err_t *err);
/* Canonical text of the resolved config: every key in registry order, "key = value\n", values
 * printed so that parsing them back gives the same bits (doubles with the shortest of %.15g,
 * %.16g, %.17g that reads back to the same bits). This text is what the run log stores and what
 * config_hash hashes; cfg_load_file accepts it as a config file (dotted keys at top level).
 * Caller frees; NULL when out of memory. */
char *cfg_to_text(const config_t *c);
/* Like cfg_to_text without the keys that cannot change results (threads, out, cache_dir,
 * log.timing): the text a run log stores and hashes, so those never move a digest. */
char *cfg_run_text(const config_t *c);
/* Like cfg_to_text but only keys that influence SL (task, world, model, sl, seed), for the cache. */
char *cfg_sl_text(const config_t *c);
/* Prints every key with type, default, allowed values and help. */
void cfg_print_list(FILE *f);
/* Value of one key as text into buf (as cfg_to_text writes it); -1 if unknown or buf too small. */
int cfg_get_text(const config_t *c, const char *key, char *buf, size_t len);

#endif
