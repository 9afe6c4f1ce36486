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

extern const schema_entry_t SCHEMA[];
extern const int SCHEMA_N;

/* The entry describing path (a dataset path, or "@name" for a root attribute), or NULL. */
const schema_entry_t *schema_find(const char *path);

/* The table as Markdown, one section per group (what README.md shows). */
void schema_markdown(FILE *out);

/* Every dataset and root attribute of the run log at path against the table: 0 when each is
 * described with its type; else -1, the first few mismatches in err (the file is read through
 * the forked reader). */
int schema_check(const char *path, err_t *err);

#endif
