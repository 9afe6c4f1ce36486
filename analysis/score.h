/* score: `rlgf score`, the metric suite of envs/metrics.h on files of token ids, so that rlgf's
 * metrics can be compared with any other implementation.
 *
 * Files: line i of the hypothesis file is hypothesis i (token ids, non-negative integers,
 * separated by spaces or tabs; an empty line is an empty hypothesis); line i of the references
 * file holds its references separated by '|' (an empty line: no reference). The concepts file
 * (optional, for spice_f1) lists concept token ids separated by white space. */
#ifndef RLGF_SCORE_H
#define RLGF_SCORE_H

#include <stdint.h>
#include <stdio.h>

#include "../envs/metrics.h"
#include "../sim/base/err.h"

typedef struct {
    metric_corpus_t corpus; /* points into the arrays below */
    seq_t *hyp;             /* [n] */
    seq_t *refs;            /* [ref_start[n]] */
    int *ref_start;         /* [n + 1] */
    int32_t *tok;           /* every token, hypotheses then references */
} score_data_t;

/* Reads the hypothesis and references files (format above). Errors name the file and line:
 * a missing file, a token that is not a non-negative integer id, different line counts. */
int score_read(const char *hyp_path, const char *refs_path, score_data_t *d, err_t *err);
void score_free(score_data_t *d);

/* Reads a concepts file into a table is_concept[0..*vocab) (max id + 1). */
int score_read_concepts(const char *path, uint8_t **is_concept, int *vocab, err_t *err);

/* The metric names, in output order; NULL-terminated. */
#define SCORE_N_METRICS 10
extern const char *const score_metric_names[];

/* want[k] = 1 for every metric score_metric_names[k] named in a comma list ("bleu4,rougeL");
 * an unknown name is an error listing the valid ones. */
int score_select_metrics(const char *list, int *want, err_t *err);

/* Prints the selected metrics (want[k] != 0 for score_metric_names[k]): `name value` lines, or
 * with per_line a header and one row per hypothesis. Returns -1 only when memory runs out. */
int score_print(const score_data_t *d, const int *want, int per_line, const uint8_t *is_concept, int vocab,
                FILE *out, err_t *err);

#endif
