/* schema: the one owner of the run log's layout. Every group, column, type and meaning is a row
 * of SCHEMA (schema.c); `rlgf schema` prints it, the README's run-log section is that print
 * (tests/e2e_schema.sh compares them), and `rlgf schema --check RUN.h5` fails on any dataset or
 * root attribute a run log has that the table does not describe, or of another type (so the
 * writer cannot drift from it either). The integer codes are sim/base/runcodes.h. */
#ifndef RLGF_SCHEMA_H
#define RLGF_SCHEMA_H

#include <stdio.h>

#include "../base/err.h"

#define SCHEMA_VERSION 1

typedef struct {
    const char *path;    /* "/trajectories/logp"; a '*' stands for any text (metric names) */
    const char *type;    /* as h5read names it: "int64", "float32", "uint8", "string", ... */
    const char *per;     /* "file" (root attribute), "iteration", "trajectory", "token", "evaluation", "timing" */
    const char *meaning;
} schema_entry_t;

/* Every row of SCHEMA by name, in the table's order (schema.c gives each row by its id, so an id
 * and its row cannot drift apart). The writer names columns and attributes by these ids
 * (h5log_append_col): a name or a type lives only in the table. */
typedef enum {
    /* root attributes */
    ATTR_SCHEMA_VERSION, ATTR_PROGRAM_VERSION, ATTR_TASK, ATTR_ALGO, ATTR_SEED, ATTR_CONFIG,
    ATTR_CONFIG_HASH, ATTR_COMPLETE, ATTR_DIVERGED, ATTR_DIVERGED_ITERATION, ATTR_DIVERGED_QUANTITY,
    /* /iterations */
    COL_IT_ITERATION, COL_IT_TOKENS, COL_IT_TRAJECTORIES, COL_IT_REWARD, COL_IT_KL, COL_IT_BETA_KL,
    COL_IT_LR, COL_IT_POLICY_LOSS, COL_IT_VALUE_LOSS, COL_IT_ENTROPY, COL_IT_TARGET_LOSS,
    COL_IT_APPROX_KL, COL_IT_CLIP_FRAC, COL_IT_VALUE_CLIP_FRAC, COL_IT_EXPLAINED_VARIANCE,
    COL_IT_GRAD_NORM, COL_IT_EPOCHS_RUN, COL_IT_MODE, COL_IT_CRITIC, COL_IT_BETA,
    /* /trajectories */
    COL_TR_ITERATION, COL_TR_SPLIT, COL_TR_WHO, COL_TR_EVAL, COL_TR_PROMPT_INDEX, COL_TR_U,
    COL_TR_K, COL_TR_LENGTH, COL_TR_TASK_REWARD, COL_TR_RETURN, COL_TR_GROUP, COL_TR_BASELINE,
    COL_TR_METRIC, COL_TR_TOKEN_OFFSET, COL_TR_TOKEN, COL_TR_ACTOR, COL_TR_TRAIN_MASK,
    COL_TR_VALUE_MASK, COL_TR_LOGP, COL_TR_LOGP_REF, COL_TR_VALUE, COL_TR_REWARD, COL_TR_ADVANTAGE,
    COL_TR_RETURNS,
    /* /eval */
    COL_EV_ITERATION, COL_EV_SPLIT, COL_EV_WHO, COL_EV_N, COL_EV_MEAN, COL_EV_STD, COL_EV_REF_PPL,
    /* /timing */
    COL_TIMING,
    SCHEMA_ROWS
} schema_id_t;

extern const schema_entry_t SCHEMA[SCHEMA_ROWS];
extern const int SCHEMA_N;

/* The dataset name of row `id` as the writer appends it ("trajectories/logp": the path without
 * its leading '/'), its '*' replaced by `wild` (a metric name; NULL for rows without one). Returns
 * 0, or -1 when the name does not fit in len or the row is an attribute. */
int schema_dataset(schema_id_t id, const char *wild, char *buf, size_t len);

/* The name of root attribute row `id` ("complete" for ATTR_COMPLETE: the path without its '@'),
 * or NULL when the row is not an attribute. Writers and readers name root attributes only so. */
const char *schema_attr(schema_id_t id);

/* The entry describing path (a dataset path, or "@name" for a root attribute), or NULL. */
const schema_entry_t *schema_find(const char *path);

/* The table as Markdown, one section per group (what README.md shows). */
void schema_markdown(FILE *out);

/* Every dataset and root attribute of the run log at path against the table: 0 when each is
 * described with its type; else -1, the first few mismatches in err (the file is read through
 * the forked reader). */
int schema_check(const char *path, err_t *err);

#endif
