/* analyze: `rlgf analyze` (see analyze.h; its command line and help: sim/cli/cmd_analyze.c).
 * analyze_run runs the jobs of analyze_impl.h in order: gather and load the run logs, group them,
 * the statistics, the CSV and tables, the figures, the report. */
#include "analyze.h"

#include <stdlib.h>
#include <string.h>

#include "../sim/base/util.h"
#include "analyze_impl.h"

/* ------------------------------------------------------------------------------------------ */
/* helpers                                                                                     */

void *anl_grow(void *a, int n, size_t elem) { return realloc(a, elem * (size_t)(n + 1)); }

void *anl_calloc(size_t n, size_t s) { return calloc(n ? n : 1, s ? s : 1); }

int anl_ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* ------------------------------------------------------------------------------------------ */
/* the analysis                                                                                */

void analyze_opts_default(analyze_opts_t *o) {
    o->out_dir = NULL;
    o->last_k = 1;
    o->seed = 0;
    o->reps = STATS_BOOT_REPS_DEFAULT;
    o->include_incomplete = 0;
    o->plots = 1;
}

static void analysis_free(analysis_t *A) {
    for (int k = 0; k < A->ng; k++) {
        group_t *G = &A->g[k];
        free(G->name), free(G->runs), free(G->pt_iter), free(G->pt_tokens), free(G->curve);
        free(G->final), free(G->fin), free(G->guide), free(G->piref);
    }
    free(A->g);
    free(A->metrics);
    for (int i = 0; i < A->nr; i++) anl_run_free(&A->runs[i]);
    free(A->runs);
    free(A->incomplete);
    for (int i = 0; i < A->n_diverged; i++) free(A->diverged[i]);
    free(A->diverged);
    for (int i = 0; i < A->np; i++) free(A->paths[i]);
    free(A->paths);
    for (int k = 0; A->fr && k < A->ng; k++) free(A->fr[k]);
    free(A->fr);
    free(A->nfr);
    free(A->pi);
    free(A->prof);
}

/* The jobs after loading: 0, or 2 with err set. */
static int analyze_runs(analysis_t *A, err_t *err) {
    const analyze_opts_t *o = A->o;
    /* one task per analysis: tables, curves and profiles of IMDB and toy runs side by side mean nothing */
    for (int i = 1; i < A->nr; i++)
        if (strcmp(A->runs[i].task, A->runs[0].task))
            return err_set(err, "runs of different tasks: '%s' is task %s, '%s' is task %s; analyze one task at a time",
                           A->runs[0].path, A->runs[0].task, A->runs[i].path, A->runs[i].task), 2;
    if (anl_group_runs(A, err)) return 2;
    if (A->ng == 0)
        return err_set(err, "no usable run logs (%d rejected, %d incomplete and excluded, %d diverged)", A->n_rejected,
                       o->include_incomplete ? 0 : A->n_incomplete, A->n_diverged), 2;
    if (anl_name_groups(A, err) || anl_pick_metrics(A, err)) return 2;
    A->boot = stats_boot_default(o->seed);
    A->boot.reps = o->reps;
    if (anl_group_stats(A, err) || anl_compare_groups(A, err) || util_mkdir_p(o->out_dir, err) ||
        anl_write_csv(A, err) || anl_write_tables(A, err))
        return 2;
    return 0;
}

int analyze_run(const char *const *args, int nargs, const analyze_opts_t *o, FILE *rep, FILE *errs, err_t *err) {
    analysis_t A = {.o = o, .rep = rep, .errs = errs, .m_reward = -1, .m_kl = -1};
    int rc = anl_gather(&A, args, nargs, err), st = rc < 0 || anl_load_runs(&A, err) ? 2 : 0;
    if (A.n_rejected) rc = 1;
    if (st == 0) st = analyze_runs(&A, err);
    if (st == 0) {
        int figs = anl_figures(&A, err);
        if (figs < 0) st = 2;
        else if (figs > 0 && rc == 0) rc = 1;
    }
    if (st == 0) anl_report(&A);
    analysis_free(&A);
    return st ? st : rc;
}
