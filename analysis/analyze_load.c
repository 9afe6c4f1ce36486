/* analyze_load: the inputs of `rlgf analyze`. Directories are expanded into their run logs; each
 * file is read through the store's forked reader (sim/store/h5read.h: a damaged or hostile file
 * ends in an error naming it, never in a crash of analyze), and only its eval/ columns and
 * iterations/tokens are kept. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../sim/base/runcodes.h"
#include "../sim/store/h5log.h"
#include "../sim/store/h5read.h"
#include "analyze_impl.h"

void anl_run_free(run_t *r) {
    free(r->path);
    free(r->config);
    free(r->algo);
    free(r->task);
    free(r->div_what);
    free(r->e_iter);
    free(r->e_split);
    free(r->e_who);
    for (int c = 0; c < r->n_cols; c++) free(r->cols[c].name), free(r->cols[c].v);
    free(r->cols);
    free(r->it_iter);
    free(r->it_tokens);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A root attribute of the listing as a malloc'ed string (strings as text, integers printed
 * exactly); NULL when missing. */
static char *listing_attr(const h5read_listing_t *ls, const char *name) {
    for (size_t i = 0; i < ls->n_attrs; i++)
        if (!strcmp(ls->attrs[i].object, "/") && !strcmp(ls->attrs[i].name, name)) return anl_xstrdup(ls->attrs[i].value);
    return NULL;
}

typedef struct {
    char **names;
    int n;
} names_t;

static void eval_name(names_t *nm, const char *name) {
    size_t l = strlen(name);
    if ((l > 5 && anl_ends_with(name, "_mean")) || !strcmp(name, "ref_ppl")) {
        nm->names = anl_xrealloc(nm->names, sizeof *nm->names * (size_t)(nm->n + 1));
        nm->names[nm->n] = anl_xstrdup(name);
        if (l > 5 && anl_ends_with(name, "_mean")) nm->names[nm->n][l - 5] = 0;
        nm->n++;
    }
}

/* The config text without its `seed = ...` line. */
static char *strip_seed(const char *cfg) {
    char *out = anl_xmalloc(strlen(cfg) + 2);
    size_t o = 0;
    for (const char *p = cfg; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (q < p + len && isspace((unsigned char)*q)) q++;
        int is_seed = !strncmp(q, "seed", 4) && (q[4] == ' ' || q[4] == '=' || q[4] == '\t');
        if (!is_seed) {
            memcpy(out + o, p, len);
            o += len;
            out[o++] = '\n';
        }
        p += len + (e ? 1 : 0);
    }
    out[o] = 0;
    return out;
}

static int read_col(const char *path, const char *ds, double **v, size_t *n, err_t *err) {
    if (h5log_read_column(path, ds, v, n, err) != 0) {
        *v = NULL;
        return -1;
    }
    return 0;
}

/* Loads one run log; on failure err names the file and the problem. Returns 0, -1 (not a usable
 * run log), or -2 (an rlgf model checkpoint, which a glob like results/NAME*.h5 also matches). */
static int load_run(const char *path, run_t *r, err_t *err) {
    memset(r, 0, sizeof *r);
    struct stat st;
    if (stat(path, &st) != 0) return err_set(err, "'%s': cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return err_set(err, "'%s': is a directory", path);
    /* one listing of the file's attributes and datasets, read in the forked reader (a damaged or
     * hostile file ends in an error naming it, never in a crash of analyze) */
    h5read_listing_t ls;
    if (h5read_list(path, "/trajectories", &ls, err) != 0) return -1;
    int has_models = 0;
    for (size_t i = 0; i < ls.n_datasets; i++) has_models |= !strncmp(ls.datasets[i].path, "/models/", 8);
    if (has_models && !listing_attr(&ls, "schema_version")) {
        h5read_listing_free(&ls);
        err_set(err, "'%s': an rlgf model checkpoint (NAME.policy.h5 or NAME.resume.h5), not a run log", path);
        return -2;
    }
    char *schema = listing_attr(&ls, "schema_version"), *cfg = listing_attr(&ls, "config");
    char *algo = listing_attr(&ls, "algo"), *seed = listing_attr(&ls, "seed"), *complete = listing_attr(&ls, "complete");
    char *task = listing_attr(&ls, "task"), *div = listing_attr(&ls, "diverged");
    char *div_it = listing_attr(&ls, "diverged_iteration"), *div_q = listing_attr(&ls, "diverged_quantity");
    names_t nm = {0};
    int rc = 0;
    if (!schema || !cfg || !algo || !seed || !complete) {
        rc = err_set(err, "'%s': an HDF5 file but not an rlgf run log (no root attribute %s)", path,
                     !schema ? "schema_version" : !cfg ? "config" : !algo ? "algo" : !seed ? "seed" : "complete");
    } else if (strcmp(schema, "1")) {
        rc = err_set(err, "'%s': run-log schema version %s, this program reads version 1", path, schema);
    } else {
        /* the evaluated metrics: eval/NAME_mean and eval/ref_ppl, in name order */
        for (size_t i = 0; i < ls.n_datasets; i++)
            if (!strncmp(ls.datasets[i].path, "/eval/", 6)) eval_name(&nm, ls.datasets[i].path + 6);
        qsort(nm.names, (size_t)nm.n, sizeof *nm.names, cmp_str);
    }
    h5read_listing_free(&ls);
    if (rc == 0) {
        r->path = anl_xstrdup(path);
        r->config = strip_seed(cfg);
        r->algo = anl_xstrdup(algo);
        r->seed = strtoll(seed, NULL, 10);
        r->complete = atoi(complete) != 0;
        r->task = anl_xstrdup(task ? task : "?");
        r->diverged = div && atoi(div) == 1;
        if (r->diverged) {
            size_t l = 64 + (div_it ? strlen(div_it) : 1) + (div_q ? strlen(div_q) : 1);
            r->div_what = anl_xmalloc(l);
            snprintf(r->div_what, l, "iteration %s: %s not finite", div_it ? div_it : "?", div_q ? div_q : "?");
        }
        size_t n1, n2;
        if (read_col(path, "eval/iteration", &r->e_iter, &r->n_eval, err) ||
            read_col(path, "eval/split", &r->e_split, &n1, err) || read_col(path, "eval/who", &r->e_who, &n2, err)) {
            rc = err_prefix(err, "damaged run log");
        } else if (n1 != r->n_eval || n2 != r->n_eval) {
            rc = err_set(err, "'%s': damaged run log: eval/ columns of different lengths", path);
        }
        for (int i = 0; rc == 0 && i < nm.n; i++) {
            char ds[300];
            snprintf(ds, sizeof ds, strcmp(nm.names[i], "ref_ppl") ? "eval/%s_mean" : "eval/%s", nm.names[i]);
            double *v;
            size_t m;
            if (read_col(path, ds, &v, &m, err)) {
                rc = err_prefix(err, "damaged run log");
                break;
            }
            if (m != r->n_eval) {
                free(v);
                rc = err_set(err, "'%s': damaged run log: %s has %zu rows, eval/iteration %zu", path, ds, m, r->n_eval);
                break;
            }
            r->cols = anl_xrealloc(r->cols, sizeof *r->cols * (size_t)(r->n_cols + 1));
            r->cols[r->n_cols].name = nm.names[i];
            r->cols[r->n_cols].v = v;
            nm.names[i] = NULL;
            r->n_cols++;
        }
        if (rc == 0) {
            size_t m;
            err_t ignore;
            if (read_col(path, "iterations/iteration", &r->it_iter, &r->n_itr, &ignore) == 0 &&
                (read_col(path, "iterations/tokens", &r->it_tokens, &m, &ignore) != 0 || m != r->n_itr)) {
                free(r->it_tokens);
                r->it_tokens = NULL;
            }
            int have_valid = 0;
            for (size_t i = 0; i < r->n_eval; i++) have_valid |= r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID;
            if (!have_valid) rc = err_set(err, "'%s': no validation evaluation of the learner in eval/", path);
        }
        if (rc) anl_run_free(r);
    }
    for (int i = 0; i < nm.n; i++) free(nm.names[i]);
    free(nm.names);
    free(schema), free(cfg), free(algo), free(seed), free(complete);
    free(task), free(div), free(div_it), free(div_q);
    return rc;
}

const double *anl_run_col(const run_t *r, const char *metric) {
    for (int c = 0; c < r->n_cols; c++)
        if (!strcmp(r->cols[c].name, metric)) return r->cols[c].v;
    return NULL;
}

/* Training tokens generated before the evaluation at iteration `it` (evaluations at iteration e
 * follow e iterations: iterations/tokens of the row with iteration e - 1; 0 at e = 0). */
double anl_run_tokens_at(const run_t *r, double it) {
    if (it <= 0) return 0;
    if (!r->it_tokens) return NAN;
    for (size_t i = 0; i < r->n_itr; i++)
        if (r->it_iter[i] == it - 1) return r->it_tokens[i];
    return NAN;
}

static void add_path(char ***paths, int *n, const char *p) {
    *paths = anl_xrealloc(*paths, sizeof **paths * (size_t)(*n + 1));
    (*paths)[(*n)++] = anl_xstrdup(p);
}

/* Expands a directory argument into its run logs (sorted by name). */
static int expand_dir(const char *dir, char ***paths, int *n, err_t *err) {
    DIR *d = opendir(dir);
    if (!d) return err_set(err, "'%s': cannot read directory: %s", dir, strerror(errno));
    char **found = NULL;
    int nf = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nme = e->d_name;
        if (nme[0] == '.') continue;
        if (!(anl_ends_with(nme, ".h5") || anl_ends_with(nme, ".h5.partial"))) continue;
        if (strstr(nme, ".policy.h5") || strstr(nme, ".resume.h5") || strstr(nme, ".ckpt.h5")) continue;
        size_t l = strlen(dir) + strlen(nme) + 2;
        char *p = anl_xmalloc(l);
        snprintf(p, l, "%s%s%s", dir, anl_ends_with(dir, "/") ? "" : "/", nme);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            found = anl_xrealloc(found, sizeof *found * (size_t)(nf + 1));
            found[nf++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
    qsort(found, (size_t)nf, sizeof *found, cmp_str);
    for (int i = 0; i < nf; i++) {
        add_path(paths, n, found[i]);
        free(found[i]);
    }
    free(found);
    return 0;
}

int anl_gather(analysis_t *A, const char *const *args, int nargs) {
    int rc = 0;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            err_t e;
            int before = A->np;
            if (expand_dir(args[i], &A->paths, &A->np, &e) != 0) {
                fprintf(A->errs, "rlgf analyze: error: %s\n", e.msg);
                rc = 1;
            } else if (A->np == before) {
                fprintf(A->errs, "rlgf analyze: error: '%s': a directory without run logs (*.h5, *.h5.partial)\n", args[i]);
                rc = 1;
            }
        } else {
            add_path(&A->paths, &A->np, args[i]);
        }
    }
    return rc;
}

/* Reads every file; rejects the unusable ones by name. Model checkpoints are skipped with a
 * note, diverged runs reported and left out (an outcome, never numbers to average: they end in
 * NaN), incomplete ones flagged and left out unless --include-incomplete. */
void anl_load_runs(analysis_t *A) {
    const analyze_opts_t *o = A->o;
    FILE *errs = A->errs;
    char **paths = A->paths;
    A->runs = anl_xcalloc((size_t)A->np, sizeof *A->runs);
    A->incomplete = anl_xcalloc((size_t)A->np, sizeof *A->incomplete);
    for (int i = 0; i < A->np; i++) {
        err_t e;
        run_t *r = &A->runs[A->nr];
        int lr = load_run(paths[i], r, &e);
        if (lr == -2) {
            fprintf(errs, "rlgf analyze: note: %s: skipped\n", e.msg);
            A->n_ckpt++;
            continue;
        }
        if (lr != 0) {
            fprintf(errs, "rlgf analyze: error: %s (file skipped)\n", e.msg);
            A->n_rejected++;
            continue;
        }
        if (r->diverged) {
            fprintf(errs, "rlgf analyze: warning: '%s': DIVERGED (%s): excluded from every statistic\n", paths[i],
                    r->div_what);
            A->diverged = anl_xrealloc(A->diverged, sizeof *A->diverged * (size_t)(A->n_diverged + 1));
            size_t l = strlen(paths[i]) + strlen(r->div_what) + 8;
            A->diverged[A->n_diverged] = anl_xmalloc(l);
            snprintf(A->diverged[A->n_diverged++], l, "%s (%s)", paths[i], r->div_what);
            anl_run_free(r);
            continue;
        }
        if (!r->complete) {
            A->incomplete[A->n_incomplete++] = paths[i];
            fprintf(errs, "rlgf analyze: warning: '%s': incomplete run (complete = 0)%s\n", paths[i],
                    o->include_incomplete ? ", used (--include-incomplete)" : ", excluded (--include-incomplete uses it)");
            if (!o->include_incomplete) {
                anl_run_free(r);
                continue;
            }
        }
        A->nr++;
    }
}
