/* task: a token-level generation task (spec/tasks.md). Everything a task returns is a pure
 * function of its parameters and (split, index): prompt 17 of the validation split is the same
 * prompt on every machine, forever. Tasks are immutable after task_create, so any number of
 * threads may call them at once. */
#ifndef RLGF_TASK_H
#define RLGF_TASK_H

#include <stdint.h>

#include "../sim/base/err.h"
#include "../sim/base/runcodes.h"

extern const char *const split_names[SPLIT_COUNT]; /* "train", "validation", "test" */

#define TASK_MAX_METRICS 16

/* Parameters a task is built from (filled from the config by the caller). */
typedef struct {
    const char *name;      /* "imdb", "toy_match", "toy_lock" */
    uint64_t world_seed;   /* the hidden world (language, classifier, lock combination) */
    int vocab;             /* world vocabulary size for imdb (>= 64); ignored by toy tasks */
    int prompt_len;        /* imdb: prompt tokens (default 64); tldr: post length */
    int gen_len;           /* imdb: generated tokens, exactly (default 48) */
    /* the task's difficulty knob, 0 = off (the reward as it always was): imdb the reward
     * threshold t in [0, 1) (imdb.threshold), commongen and tldr the minimum coverage in [0, 1]
     * below which a generation scores as an empty one (commongen.min_coverage, tldr.min_coverage);
     * ignored by the toy tasks */
    double difficulty;
} task_params_t;

typedef struct task task_t;
struct task {
    char name[32];
    int vocab;      /* actions are token ids 0..vocab-1 */
    int bos, eos;   /* reserved ids, -1 when the task has none */
    int prompt_max; /* longest prompt */
    int gen_min, gen_max; /* generation length bounds; EOS (if any) is not allowed before gen_min */
    int n_metrics;  /* per-trajectory metrics, metric 0 is always the task reward */
    const char *metric_names[TASK_MAX_METRICS];
    /* the text a policy is asked to continue; returns its length (<= prompt_max) */
    int (*prompt)(const task_t *t, int split, uint64_t index, int32_t *out);
    /* one hidden "human" continuation for (split, index), used by SL and the target NLL;
     * returns its length (<= gen_max) */
    int (*reference)(const task_t *t, int split, uint64_t index, int32_t *out);
    /* R(x, y) for prompt (split, index) and generation gen[0..glen) */
    double (*reward)(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen);
    /* all per-trajectory metrics (out[0] = reward), n_metrics values */
    void (*metrics)(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen,
                    double *out);
    /* the oracle expert's next token after prompt (split, index) + gen[0..glen) (issue 3) or NULL */
    int (*expert_next)(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen);
    /* exact log-probability under the hidden world LM of gen following the prompt (NAN where the
     * task has no world LM); used for output perplexity */
    double (*world_logprob)(const task_t *t, int split, uint64_t index, const int32_t *gen, int glen);
    void (*destroy)(task_t *t);
    void *impl;
};

/* Builds the named task; returns NULL with a message naming the bad value otherwise. */
task_t *task_create(const task_params_t *p, err_t *err);
void task_destroy(task_t *t);

#endif
