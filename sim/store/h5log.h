/* h5log: the HDF5 run log of spec/runlog.md (schema version 1).
 *
 * Layout:
 *   /                 attributes schema_version (int), program_version, task, algo (strings),
 *                     seed (int64), config (resolved config text), config_hash (hex string),
 *                     complete (int, 0 until h5log_close(..., complete=1)); a run that diverged
 *                     adds diverged (int 1), diverged_iteration (int64), diverged_quantity
 *   /iterations/NAME  1-D float64 (or int64) datasets, one row per iteration
 *   /trajectories/NAME  per-trajectory 1-D datasets (iteration, split, who, eval, prompt_index, u, k, length,
 *                     task_reward, return, metric_*, token_offset int64) and per-token datasets
 *                     (token int32, actor uint8, logp, logp_ref, value, reward, advantage float32)
 *   /eval/NAME        per evaluation row: iteration, split, who (0 learner, 1 guide, 2 pi_ref), and
 *                     <metric>_mean / <metric>_std columns
 *   /timing/NAME      wall-clock figures, only when timing logging is on
 *
 * Every dataset is created on first append: chunked, extendible, shuffle + deflate, chunk sizes
 * between 64 KiB and 1 MiB (capped at what the element size allows). Files are written with object
 * time tracking off and fixed creation order, so equal content gives equal bytes. Columns appended
 * to one group must be appended in the same order every time (the writer checks row counts): in
 * the tables iterations/ and eval/ the first column ever appended is the row key; for each row (or
 * batch of rows) append the key first, then every other column of that table. An append that gets
 * a column ahead of the key, a key append while some column lags, and close(complete=1) with a
 * ragged table all fail with a message naming the columns. trajectories/ and timing/ are not checked.
 *
 * h5log_flush() after every iteration leaves a file that h5dump can read if the process is killed. */
#ifndef RLGF_H5LOG_H
#define RLGF_H5LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../base/err.h"
#include "schema.h"

typedef struct h5log h5log_t;

typedef enum { H5COL_F64 = 0, H5COL_F32 = 1, H5COL_I64 = 2, H5COL_I32 = 3, H5COL_U8 = 4 } h5col_type_t;

typedef struct {
    const char *task, *algo, *program_version, *config_text, *config_hash;
    int64_t seed;
} h5log_meta_t;

/* The innermost HDF5 error message (the file driver's dump reduced to "operation: reason"), for
 * error messages of code that calls HDF5 directly; clears the error stack. */
const char *h5log_error_cause(char buf[300]);

/* Once at program start, before any other HDF5 use (the command line calls it). */
void h5log_init(void);

/* Creates (truncates) path. Writes to "path.partial" and renames on close, so a file at `path` is
 * always complete; a killed run leaves "path.partial" readable. */
h5log_t *h5log_create(const char *path, const h5log_meta_t *meta, err_t *err);
/* Appends n values to dataset "group/name" (e.g. "iterations/policy_loss"). */
int h5log_append(h5log_t *log, const char *dataset, h5col_type_t type, const void *values,
                 size_t n, err_t *err);
/* The same for the schema's row `col` (sim/store/schema.h): the dataset's name comes from the table
 * (its '*' replaced by `wild`, e.g. a metric name), and `type`, the type of `values`, must be the
 * table's (else an error: the writer and the schema disagree). */
int h5log_append_col(h5log_t *log, schema_id_t col, const char *wild, h5col_type_t type, const void *values,
                     size_t n, err_t *err);
/* One value of a float64 or int64 column of the schema (iterations/, eval/, timing/). */
int h5log_append_f64(h5log_t *log, schema_id_t col, double v, err_t *err);
int h5log_append_i64(h5log_t *log, schema_id_t col, int64_t v, err_t *err);
int h5log_flush(h5log_t *log, err_t *err);
/* Checks, before an iteration is written, that the file-size limit (ulimit -f) and the free space
 * of the file system leave room for about `bytes` of new data plus what a flush may rewrite: HDF5
 * flushes are not atomic, so running out of space mid-flush could leave an unreadable file. */
int h5log_reserve(h5log_t *log, size_t bytes, err_t *err);
/* The same check for any file about to grow by `need` bytes. */
int h5log_check_room(const char *path, size_t need, err_t *err);
/* Reopens "path.partial" (left by a run that flushed and stopped) to append to it again; the
 * columns and row counts are read back from the file. Used by `rlgf train --resume`. */
h5log_t *h5log_reopen(const char *path, err_t *err);
/* Closes; complete=1 marks the run complete and renames the partial file to its final name;
 * complete=2 renames it without marking it complete (a run that ended in divergence: an outcome,
 * not a crash); 0 leaves the partial file. */
int h5log_close(h5log_t *log, int complete, err_t *err);
/* Root attributes diverged = 1, diverged_iteration and diverged_quantity (e.g. "policy_loss"):
 * the run stopped because that quantity stopped being finite. */
int h5log_set_diverged(h5log_t *log, int64_t iteration, const char *quantity, err_t *err);

/* SHA-256 over everything outside /timing: every attribute and dataset in name order, as
 * (path, type class, size, shape, raw little-endian bytes), except the root attribute
 * program_version. Reads logical values, so it does not depend on chunking or compression.
 * Writes 64 hex chars + NUL into hex. */
int h5log_digest(const char *path, char hex[65], err_t *err);
/* Readable summary: attributes, config, iteration count, last row of /iterations, eval rows and
 * a list of every dataset with shape and type. */
int h5log_info(const char *path, FILE *out, err_t *err);

/* A root attribute as text (strings as they are, numbers printed; caller frees); -1 if missing. */
int h5log_read_attr(const char *path, const char *name, char **text, err_t *err);
/* Reads a 1-D numeric dataset (e.g. "eval/reward_mean") as doubles; caller frees *values. */
int h5log_read_column(const char *path, const char *dataset, double **values, size_t *n, err_t *err);

/* SHA-256 of a buffer as 64 hex chars (nettle); used for config hashes. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
