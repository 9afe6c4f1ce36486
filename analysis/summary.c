#include "summary.h"

#include <stdlib.h>
#include <string.h>

#include "../envs/task.h"
#include "../sim/h5log.h"

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
        double *iter = NULL, *split = NULL, *col[NCOLS] = {0};
        size_t rows = 0, m;
        if (h5log_read_column(paths[p], "eval/iteration", &iter, &rows, err) ||
            h5log_read_column(paths[p], "eval/split", &split, &m, err)) {
            rc = -1;
            goto next;
        }
        for (int c = 0; c < NCOLS; c++) {
            err_t missing; /* a task without that metric prints "-" */
            if (h5log_read_column(paths[p], COLS[c], &col[c], &m, &missing) || m != rows) {
                free(col[c]);
                col[c] = NULL;
            }
        }
        long first = -1, last = -1;
        for (size_t r = 0; r < rows; r++)
            if ((int)split[r] == SPLIT_VALID) {
                if (first < 0) first = (long)r;
                last = (long)r;
            }
        if (first < 0) {
            rc = err_set(err, "'%s': no validation evaluation", paths[p]);
            goto next;
        }
        const char *base = strrchr(paths[p], '/');
        base = base ? base + 1 : paths[p];
        char who[64];
        snprintf(who, sizeof who, "start (it %.0f)", iter[first]);
        print_row(out, base, who, col, (size_t)first);
        if (last != first) {
            snprintf(who, sizeof who, "end (it %.0f)", iter[last]);
            print_row(out, base, who, col, (size_t)last);
        }
    next:
        free(iter);
        free(split);
        for (int c = 0; c < NCOLS; c++) free(col[c]);
    }
    return rc;
}
