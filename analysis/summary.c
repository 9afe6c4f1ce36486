#include "summary.h"

#include <stdlib.h>
#include <string.h>

#include "../envs/task.h"
#include "../sim/store/h5log.h"

static const char *const COLS[] = {"eval/reward_mean", "eval/output_ppl_mean", "eval/ref_ppl", "eval/kl_mean",
                                   "eval/distinct_2_mean"};
static const char *const HEAD[] = {"reward", "output ppl", "ref ppl", "KL to ref", "distinct-2"};
#define NCOLS 5

static void print_row(FILE *out, const char *run, const char *who, double *const col[NCOLS], size_t r) {
    fprintf(out, "%-34s %-14s", run, who);
    for (int c = 0; c < NCOLS; c++) {
        if (col[c]) fprintf(out, " %11.4g", col[c][r]);
        else fprintf(out, " %11s", "-");
    }
    fprintf(out, "\n");
}

int summary_print(const char *const *paths, int n, FILE *out, err_t *err) {
    int rc = 0;
    fprintf(out, "%-34s %-14s", "run (validation split)", "policy");
    for (int c = 0; c < NCOLS; c++) fprintf(out, " %11s", HEAD[c]);
    fprintf(out, "\n");
    for (int p = 0; p < n; p++) {
        double *iter = NULL, *split = NULL, *who = NULL, *col[NCOLS] = {0};
        char *algo = NULL, *div = NULL, *div_it = NULL, *div_q = NULL;
        size_t rows = 0, m, mw = 0;
        if (h5log_read_column(paths[p], "eval/iteration", &iter, &rows, err) ||
            h5log_read_column(paths[p], "eval/split", &split, &m, err)) {
            rc = -1;
            goto next;
        }
        err_t none;
        if (h5log_read_column(paths[p], "eval/who", &who, &mw, &none) || mw != rows) {
            free(who);
            who = NULL;
        }
        h5log_read_attr(paths[p], schema_attr(ATTR_ALGO), &algo, &none);
        if (h5log_read_attr(paths[p], schema_attr(ATTR_DIVERGED), &div, &none) == 0 && strcmp(div, "1") == 0) {
            h5log_read_attr(paths[p], schema_attr(ATTR_DIVERGED_ITERATION), &div_it, &none);
            h5log_read_attr(paths[p], schema_attr(ATTR_DIVERGED_QUANTITY), &div_q, &none);
        }
        for (int c = 0; c < NCOLS; c++) {
            err_t missing; /* a task without that metric prints "-" */
            if (h5log_read_column(paths[p], COLS[c], &col[c], &m, &missing) || m != rows) {
                free(col[c]);
                col[c] = NULL;
            }
        }
        /* the learner's validation rows only: the guide's and pi_ref's rows are baselines */
        long first = -1, last = -1;
        for (size_t r = 0; r < rows; r++)
            if ((int)split[r] == SPLIT_VALID && (!who || (int)who[r] == WHO_LEARNER)) {
                if (first < 0) first = (long)r;
                last = (long)r;
            }
        if (first < 0) {
            rc = err_set(err, "'%s': no validation evaluation", paths[p]);
            goto next;
        }
        const char *base = strrchr(paths[p], '/');
        base = base ? base + 1 : paths[p];
        char label[64];
        int is_sl = algo && strcmp(algo, "sl") == 0;
        /* algo=sl has no RL: its one evaluation is the SL policy, neither a start nor an end */
        snprintf(label, sizeof label, "%s (it %.0f)", is_sl ? "sl" : "start", iter[first]);
        print_row(out, base, label, col, (size_t)first);
        if (div && strcmp(div, "1") == 0) {
            /* no end row: the run never finished, and its last numbers are not a result */
            double *none_col[NCOLS] = {0};
            snprintf(label, sizeof label, "DIVERGED (it %s)", div_it ? div_it : "?");
            print_row(out, base, label, none_col, 0);
            fprintf(out, "%-34s %-14s %s not finite; no end row\n", "", "", div_q ? div_q : "a quantity");
            goto next;
        }
        if (last != first) {
            snprintf(label, sizeof label, "end (it %.0f)", iter[last]);
            print_row(out, base, label, col, (size_t)last);
        }
    next:
        free(iter);
        free(split);
        free(who);
        free(algo);
        free(div);
        free(div_it);
        free(div_q);
        for (int c = 0; c < NCOLS; c++) free(col[c]);
    }
    return rc;
}
