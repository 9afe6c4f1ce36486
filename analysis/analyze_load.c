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

/* A root attribute of the listing (strings as text, integers printed exactly): a pointer into
 * the listing, NULL when missing. */
static const char *listing_attr(const h5read_listing_t *ls, const char *name) {
    for (size_t i = 0; i < ls->n_attrs; i++)
        if (!strcmp(ls->attrs[i].object, "/") && !strcmp(ls->attrs[i].name, name)) return ls->attrs[i].value;
    return NULL;
}

typedef struct {
    char **names;
    int n;
} names_t;

static void names_free(names_t *nm) {
    for (int i = 0; i < nm->n; i++) free(nm->names[i]);
    free(nm->names);
}

/* Adds the metric of an eval/ dataset name (NAME_mean -> NAME, ref_ppl) to nm; -1 when memory
 * runs out. */
static int eval_name(names_t *nm, const char *name) {
    size_t l = strlen(name);
    int is_mean = l > 5 && anl_ends_with(name, "_mean");
    if (!is_mean && strcmp(name, "ref_ppl")) return 0;
    char **t = anl_grow(nm->names, nm->n, sizeof *nm->names), *copy = t ? strdup(name) : NULL;
    if (t) nm->names = t;
    if (!copy) return -1;
    if (is_mean) copy[l - 5] = 0;
    nm->names[nm->n++] = copy;
    return 0;
}

/* The config text without its `seed = ...` line (NULL when memory runs out). */
static char *strip_seed(const char *cfg) {
    char *out = malloc(strlen(cfg) + 2);
    if (!out) return NULL;
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

enum { LOAD_OK = 0, LOAD_BAD = -1, LOAD_CHECKPOINT = -2, LOAD_OOM = -3 };

/* The run's identity from the listing's root attributes and the names of its metrics (eval/NAME_mean
 * and eval/ref_ppl, in name order): LOAD_OK, LOAD_BAD (not an rlgf run log of this schema) or
 * LOAD_OOM, with err set. */
static int load_header(const char *path, const h5read_listing_t *ls, run_t *r, names_t *nm, err_t *err) {
    const char *schema = listing_attr(ls, schema_attr(ATTR_SCHEMA_VERSION)), *cfg = listing_attr(ls, schema_attr(ATTR_CONFIG));
    const char *algo = listing_attr(ls, schema_attr(ATTR_ALGO)), *seed = listing_attr(ls, schema_attr(ATTR_SEED)), *complete = listing_attr(ls, schema_attr(ATTR_COMPLETE));
    const char *task = listing_attr(ls, schema_attr(ATTR_TASK)), *div = listing_attr(ls, schema_attr(ATTR_DIVERGED));
    const char *div_it = listing_attr(ls, schema_attr(ATTR_DIVERGED_ITERATION)), *div_q = listing_attr(ls, schema_attr(ATTR_DIVERGED_QUANTITY));
    if (!schema || !cfg || !algo || !seed || !complete)
        return err_set(err, "'%s': an HDF5 file but not an rlgf run log (no root attribute %s)", path,
                       schema_attr(!schema ? ATTR_SCHEMA_VERSION : !cfg ? ATTR_CONFIG : !algo ? ATTR_ALGO : !seed ? ATTR_SEED : ATTR_COMPLETE));
    if (strcmp(schema, "1")) return err_set(err, "'%s': run-log schema version %s, this program reads version 1", path, schema);
    for (size_t i = 0; i < ls->n_datasets; i++)
        if (!strncmp(ls->datasets[i].path, "/eval/", 6) && eval_name(nm, ls->datasets[i].path + 6))
            return err_set(err, "out of memory reading '%s'", path), LOAD_OOM;
    qsort(nm->names, (size_t)nm->n, sizeof *nm->names, cmp_str);
    r->path = strdup(path);
    r->config = strip_seed(cfg);
    r->algo = strdup(algo);
    r->seed = strtoll(seed, NULL, 10);
    r->complete = atoi(complete) != 0;
    r->task = strdup(task ? task : "?");
    r->diverged = div && atoi(div) == 1;
    if (r->diverged) {
        size_t l = 64 + (div_it ? strlen(div_it) : 1) + (div_q ? strlen(div_q) : 1);
        if ((r->div_what = malloc(l)))
            snprintf(r->div_what, l, "iteration %s: %s not finite", div_it ? div_it : "?", div_q ? div_q : "?");
    }
    if (!r->path || !r->config || !r->algo || !r->task || (r->diverged && !r->div_what))
        return err_set(err, "out of memory reading '%s'", path), LOAD_OOM;
    return LOAD_OK;
}

/* The columns: eval/iteration, split and who, every metric's, and iterations/iteration and
 * tokens when present (they give the curves' token axis). LOAD_OK, LOAD_BAD or LOAD_OOM. */
static int load_columns(const char *path, run_t *r, names_t *nm, err_t *err) {
    size_t n1, n2;
    if (read_col(path, "eval/iteration", &r->e_iter, &r->n_eval, err) ||
        read_col(path, "eval/split", &r->e_split, &n1, err) || read_col(path, "eval/who", &r->e_who, &n2, err))
        return err_prefix(err, "damaged run log");
    if (n1 != r->n_eval || n2 != r->n_eval)
        return err_set(err, "'%s': damaged run log: eval/ columns of different lengths", path);
    for (int i = 0; i < nm->n; i++) {
        char ds[300];
        snprintf(ds, sizeof ds, strcmp(nm->names[i], "ref_ppl") ? "eval/%s_mean" : "eval/%s", nm->names[i]);
        double *v;
        size_t m;
        if (read_col(path, ds, &v, &m, err)) return err_prefix(err, "damaged run log");
        if (m != r->n_eval) {
            free(v);
            return err_set(err, "'%s': damaged run log: %s has %zu rows, eval/iteration %zu", path, ds, m, r->n_eval);
        }
        col_t *t = anl_grow(r->cols, r->n_cols, sizeof *r->cols);
        if (!t) return free(v), err_set(err, "out of memory reading '%s'", path), LOAD_OOM;
        r->cols = t;
        r->cols[r->n_cols].name = nm->names[i];
        r->cols[r->n_cols].v = v;
        nm->names[i] = NULL;
        r->n_cols++;
    }
    size_t m;
    err_t ignore;
    if (read_col(path, "iterations/iteration", &r->it_iter, &r->n_itr, &ignore) == 0 &&
        (read_col(path, "iterations/tokens", &r->it_tokens, &m, &ignore) != 0 || m != r->n_itr)) {
        free(r->it_tokens);
        r->it_tokens = NULL;
    }
    int have_valid = 0;
    for (size_t i = 0; i < r->n_eval; i++) have_valid |= r->e_who[i] == WHO_LEARNER && r->e_split[i] == SPLIT_VALID;
    if (!have_valid) return err_set(err, "'%s': no validation evaluation of the learner in eval/", path);
    return LOAD_OK;
}

/* Loads one run log; on failure err names the file and the problem. Returns LOAD_OK, LOAD_BAD
 * (not a usable run log), LOAD_CHECKPOINT (an rlgf model checkpoint, which a glob like
 * results/NAME*.h5 also matches) or LOAD_OOM. */
static int load_run(const char *path, run_t *r, err_t *err) {
    memset(r, 0, sizeof *r);
    struct stat st;
    if (stat(path, &st) != 0) return err_set(err, "'%s': cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return err_set(err, "'%s': is a directory", path);
    /* one listing of the file's attributes and datasets, read in the forked reader (a damaged or
     * hostile file ends in an error naming it, never in a crash of analyze) */
    h5read_listing_t ls;
    if (h5read_list(path, "/trajectories", &ls, err) != 0) return LOAD_BAD;
    int has_models = 0;
    for (size_t i = 0; i < ls.n_datasets; i++) has_models |= !strncmp(ls.datasets[i].path, "/models/", 8);
    if (has_models && !listing_attr(&ls, schema_attr(ATTR_SCHEMA_VERSION))) {
        h5read_listing_free(&ls);
        err_set(err, "'%s': an rlgf model checkpoint (NAME.policy.h5 or NAME.resume.h5), not a run log", path);
        return LOAD_CHECKPOINT;
    }
    names_t nm = {0};
    int rc = load_header(path, &ls, r, &nm, err);
    h5read_listing_free(&ls);
    if (rc == LOAD_OK) rc = load_columns(path, r, &nm, err);
    if (rc != LOAD_OK) anl_run_free(r);
    names_free(&nm);
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

static int add_path(char ***paths, int *n, const char *p) {
    char **t = anl_grow(*paths, *n, sizeof **paths), *copy = t ? strdup(p) : NULL;
    if (t) *paths = t;
    if (!copy) return -1;
    (*paths)[(*n)++] = copy;
    return 0;
}

/* Expands a directory argument into its run logs (sorted by name). Returns 0, -1 with err set
 * (an unreadable directory), or -2 when memory runs out. */
static int expand_dir(const char *dir, char ***paths, int *n, err_t *err) {
    DIR *d = opendir(dir);
    if (!d) return err_set(err, "'%s': cannot read directory: %s", dir, strerror(errno));
    char **found = NULL;
    int nf = 0, oom = 0;
    struct dirent *e;
    while (!oom && (e = readdir(d))) {
        const char *nme = e->d_name;
        if (nme[0] == '.') continue;
        if (!(anl_ends_with(nme, ".h5") || anl_ends_with(nme, ".h5.partial"))) continue;
        if (strstr(nme, ".policy.h5") || strstr(nme, ".resume.h5") || strstr(nme, ".ckpt.h5")) continue;
        size_t l = strlen(dir) + strlen(nme) + 2;
        char *p = malloc(l);
        if (!p) {
            oom = 1;
            break;
        }
        snprintf(p, l, "%s%s%s", dir, anl_ends_with(dir, "/") ? "" : "/", nme);
        struct stat st;
        char **t = NULL;
        int is_file = stat(p, &st) == 0 && S_ISREG(st.st_mode);
        if (is_file && (t = anl_grow(found, nf, sizeof *found))) {
            found = t;
            found[nf++] = p;
        } else {
            oom = is_file;
            free(p);
        }
    }
    closedir(d);
    if (!oom) qsort(found, (size_t)nf, sizeof *found, cmp_str);
    for (int i = 0; i < nf; i++) {
        if (!oom && add_path(paths, n, found[i])) oom = 1;
        free(found[i]);
    }
    free(found);
    return oom ? (err_set(err, "out of memory listing '%s'", dir), -2) : 0;
}

int anl_gather(analysis_t *A, const char *const *args, int nargs, err_t *err) {
    int rc = 0;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            err_t e;
            int before = A->np, x = expand_dir(args[i], &A->paths, &A->np, &e);
            if (x == -2) return *err = e, -1;
            if (x != 0) {
                fprintf(A->errs, "rlgf analyze: error: %s\n", e.msg);
                rc = 1;
            } else if (A->np == before) {
                fprintf(A->errs, "rlgf analyze: error: '%s': a directory without run logs (*.h5, *.h5.partial)\n", args[i]);
                rc = 1;
            }
        } else if (add_path(&A->paths, &A->np, args[i])) {
            return err_set(err, "out of memory"), -1;
        }
    }
    return rc;
}

/* Reads every file; rejects the unusable ones by name. Model checkpoints are skipped with a
 * note, diverged runs reported and left out (an outcome, never numbers to average: they end in
 * NaN), incomplete ones flagged and left out unless --include-incomplete. */
int anl_load_runs(analysis_t *A, err_t *err) {
    const analyze_opts_t *o = A->o;
    FILE *errs = A->errs;
    char **paths = A->paths;
    A->runs = calloc((size_t)A->np + 1, sizeof *A->runs);
    A->incomplete = calloc((size_t)A->np + 1, sizeof *A->incomplete);
    if (!A->runs || !A->incomplete) return err_set(err, "out of memory for %d run logs", A->np);
    for (int i = 0; i < A->np; i++) {
        err_t e;
        run_t *r = &A->runs[A->nr];
        int lr = load_run(paths[i], r, &e);
        if (lr == LOAD_OOM) return *err = e, -1;
        if (lr == LOAD_CHECKPOINT) {
            fprintf(errs, "rlgf analyze: note: %s: skipped\n", e.msg);
            A->n_ckpt++;
            continue;
        }
        if (lr != LOAD_OK) {
            fprintf(errs, "rlgf analyze: error: %s (file skipped)\n", e.msg);
            A->n_rejected++;
            continue;
        }
        if (r->diverged) {
            fprintf(errs, "rlgf analyze: warning: '%s': DIVERGED (%s): excluded from every statistic\n", paths[i],
                    r->div_what);
            size_t l = strlen(paths[i]) + strlen(r->div_what) + 8;
            char **t = anl_grow(A->diverged, A->n_diverged, sizeof *A->diverged), *line = t ? malloc(l) : NULL;
            if (t) A->diverged = t;
            if (line) snprintf(line, l, "%s (%s)", paths[i], r->div_what);
            anl_run_free(r);
            if (!line) return err_set(err, "out of memory");
            A->diverged[A->n_diverged++] = line;
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
    return 0;
}
