/* h5info: reading run logs for people and tools: `rlgf info`, one column as doubles, one root
 * attribute as text. Every entry point runs its reads in the forked reader (h5util_run_isolated). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "h5log.h"
#include "h5util.h"
#include "h5private.h"
#include "../base/runcodes.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---------------------------------------------------------------- info ---------------------- */

/* A root attribute as a malloc'ed string (NULL when missing): strings as text, numbers printed. */
static char *attr_text(hid_t f, const char *name) {
    if (H5Aexists(f, name) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return NULL;
    }
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    char *s = NULL;
    H5T_class_t cls = H5Tget_class(t);
    if (H5Sget_simple_extent_npoints(sp) != 1) {
        s = strdup("(not a scalar)");
    } else if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        char *v = NULL;
        if (H5Aread(a, mt, &v) >= 0) {
            s = strdup(v ? v : "");
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(mt, sp, H5P_DEFAULT, &v);
#else
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &v);
#endif
        }
        H5Tclose(mt);
    } else if (cls == H5T_STRING) {
        size_t n = H5Tget_size(t);
        s = calloc(n + 1, 1);
        if (s && H5Aread(a, t, s) < 0) {
            free(s);
            s = NULL;
        }
    } else if (cls == H5T_INTEGER) {
        long long v;
        if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0 && (s = malloc(32))) snprintf(s, 32, "%lld", v);
    } else if (cls == H5T_FLOAT) {
        double v;
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0 && (s = malloc(32))) snprintf(s, 32, "%.17g", v);
    } else {
        s = strdup("(unsupported type)");
    }
    H5Tclose(t);
    H5Sclose(sp);
    H5Aclose(a);
    H5Eclear2(H5E_DEFAULT);
    return s;
}

typedef struct {
    char **names;
    int n, cap;
    int datasets_only;
} names_t;

static herr_t collect_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    names_t *nm = data;
    if (info->type != H5L_TYPE_HARD) return 0;
    if (nm->datasets_only) {
        H5O_type_t ot;
        hid_t o = H5Oopen(g, name, H5P_DEFAULT);
        if (o < 0) return 0;
        ot = H5Iget_type(o) == H5I_DATASET ? H5O_TYPE_DATASET : H5O_TYPE_GROUP;
        H5Oclose(o);
        if (ot != H5O_TYPE_DATASET) return 0;
    }
    if (nm->n == nm->cap) {
        int cap = nm->cap ? 2 * nm->cap : 32;
        char **p = realloc(nm->names, (size_t)cap * sizeof *p);
        if (!p) return -1;
        nm->names = p;
        nm->cap = cap;
    }
    if (!(nm->names[nm->n] = strdup(name))) return -1;
    nm->n++;
    return 0;
}

static void free_names(names_t *nm) {
    for (int i = 0; i < nm->n; i++) free(nm->names[i]);
    free(nm->names);
}

/* Dataset names in group `gname` in creation order (name order for files without it); n = 0 when
 * the group is missing. */
static names_t list_datasets(hid_t f, const char *gname) {
    names_t nm = {0};
    nm.datasets_only = 1;
    if (H5Lexists(f, gname, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return nm;
    }
    hid_t g = H5Gopen2(f, gname, H5P_DEFAULT);
    if (g < 0) return nm;
    hsize_t idx = 0;
    if (H5Literate(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect_cb, &nm) < 0) {
        free_names(&nm);
        memset(&nm, 0, sizeof nm);
        nm.datasets_only = 1;
        idx = 0;
        H5Eclear2(H5E_DEFAULT);
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_cb, &nm);
    }
    H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    return nm;
}

/* A 1-D column read as doubles (and integers when is_int); returns length, -1 on failure. */
typedef struct {
    hssize_t n;
    int is_int;
    double *d;
    long long *i;
} column_t;

static column_t read_column(hid_t f, const char *dpath) {
    column_t c = {-1, 0, NULL, NULL};
    hid_t ds = H5Dopen2(f, dpath, H5P_DEFAULT);
    if (ds < 0) return c;
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    H5T_class_t cls = H5Tget_class(t);
    if ((cls == H5T_INTEGER || cls == H5T_FLOAT) && H5Sget_simple_extent_ndims(sp) == 1) {
        hssize_t n = H5Sget_simple_extent_npoints(sp);
        c.is_int = cls == H5T_INTEGER;
        c.d = malloc((size_t)(n ? n : 1) * sizeof *c.d);
        c.i = malloc((size_t)(n ? n : 1) * sizeof *c.i);
        if (c.d && c.i && (n == 0 || (H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.d) >= 0 &&
                                      H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.i) >= 0)))
            c.n = n;
        else
            H5Eclear2(H5E_DEFAULT);
    }
    H5Tclose(t);
    H5Sclose(sp);
    H5Dclose(ds);
    return c;
}

static void free_column(column_t *c) {
    free(c->d);
    free(c->i);
}

static void fmt_value(const column_t *c, hssize_t r, char *buf, size_t len) {
    if (c->n < 0) snprintf(buf, len, "?");
    else if (r >= c->n) snprintf(buf, len, "-");
    else if (c->is_int) snprintf(buf, len, "%lld", c->i[r]);
    else snprintf(buf, len, "%.6g", c->d[r]);
}

static const char *type_desc(hid_t t, char *buf, size_t len) {
    H5T_class_t cls = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    if (cls == H5T_INTEGER) snprintf(buf, len, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", 8 * sz);
    else if (cls == H5T_FLOAT) snprintf(buf, len, "float%zu", 8 * sz);
    else if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) snprintf(buf, len, "string (variable length)");
    else if (cls == H5T_STRING) snprintf(buf, len, "string[%zu]", sz);
    else snprintf(buf, len, "class %d, %zu bytes", (int)cls, sz);
    return buf;
}

typedef struct {
    char **lines; /* "path\tshape\ttype" */
    int n, cap;
    int failed;
} listing_t;

typedef struct {
    listing_t *ls;
    const char *prefix;
    int depth;
} list_ctx_t;

static herr_t list_link_cb(hid_t g, const char *name, const H5L_info_t *info, void *data);

/* Appends "path\tshape\ttype" for every dataset below group g (path prefix `prefix`), name order. */
static int list_group(listing_t *ls, hid_t g, const char *prefix, int depth) {
    if (depth > 64) return -1;
    list_ctx_t ctx = {ls, prefix, depth};
    hsize_t idx = 0;
    return H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, list_link_cb, &ctx) < 0 ? -1 : 0;
}

static herr_t list_link_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    list_ctx_t *ctx = data;
    listing_t *ls = ctx->ls;
    if (info->type != H5L_TYPE_HARD) return 0;
    char cpath[2048];
    snprintf(cpath, sizeof cpath, "%s/%s", ctx->prefix, name);
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) return -1;
    H5I_type_t it = H5Iget_type(o);
    if (it == H5I_GROUP) {
        int rc = list_group(ls, o, cpath, ctx->depth + 1);
        H5Oclose(o);
        return rc;
    }
    if (it != H5I_DATASET) {
        H5Oclose(o);
        return 0;
    }
    hid_t t = H5Dget_type(o), sp = H5Dget_space(o);
    char shape[256] = "(", tbuf[64];
    int rank = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[32];
    if (rank >= 0 && rank <= 32) {
        H5Sget_simple_extent_dims(sp, dims, NULL);
        for (int i = 0; i < rank; i++) {
            size_t l = strlen(shape);
            snprintf(shape + l, sizeof shape - l, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
        }
    }
    strncat(shape, ")", sizeof shape - strlen(shape) - 1);
    type_desc(t, tbuf, sizeof tbuf);
    H5Tclose(t);
    H5Sclose(sp);
    H5Oclose(o);
    if (ls->n == ls->cap) {
        int cap = ls->cap ? 2 * ls->cap : 64;
        char **p = realloc(ls->lines, (size_t)cap * sizeof *p);
        if (!p) return -1;
        ls->lines = p;
        ls->cap = cap;
    }
    size_t need = strlen(cpath) + strlen(shape) + strlen(tbuf) + 4;
    char *line = malloc(need);
    if (!line) return -1;
    snprintf(line, need, "%s\t%s\t%s", cpath, shape, tbuf);
    ls->lines[ls->n++] = line;
    return 0;
}

static void print_indented(FILE *out, const char *text, const char *indent) {
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "%s%.*s\n", indent, (int)len, p);
        p += len + (nl ? 1 : 0);
    }
}


static size_t ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int info_direct(const char *path, FILE *out, err_t *err) {
    hid_t f = h5util_open_ro(path, err);
    if (f < 0) return -1;
    const schema_id_t keys[] = {ATTR_SCHEMA_VERSION, ATTR_PROGRAM_VERSION, ATTR_TASK, ATTR_ALGO, ATTR_SEED, ATTR_CONFIG_HASH};
    char *complete = attr_text(f, schema_attr(ATTR_COMPLETE));
    fprintf(out, "%-18s %s\n", "file:", path);
    fprintf(out, "%-18s %s\n", "complete:", complete && strcmp(complete, "1") == 0 ? "yes" : "no");
    free(complete);
    char *div = attr_text(f, schema_attr(ATTR_DIVERGED));
    if (div && strcmp(div, "1") == 0) {
        char *it = attr_text(f, schema_attr(ATTR_DIVERGED_ITERATION)), *q = attr_text(f, schema_attr(ATTR_DIVERGED_QUANTITY));
        fprintf(out, "%-18s yes, at iteration %s (%s not finite)\n", "diverged:", it ? it : "?", q ? q : "?");
        free(it);
        free(q);
    }
    free(div);
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char *v = attr_text(f, schema_attr(keys[k]));
        char label[64];
        snprintf(label, sizeof label, "%s:", schema_attr(keys[k]));
        fprintf(out, "%-18s %s\n", label, v ? v : "(missing)");
        free(v);
    }
    char *config = attr_text(f, schema_attr(ATTR_CONFIG));
    fprintf(out, "config:%s\n", config ? "" : " (missing)");
    if (config) print_indented(out, config, "    ");
    free(config);

    /* Iterations: the length of iterations/iteration, else the longest column. */
    names_t it = list_datasets(f, "iterations");
    column_t *cols = calloc(it.n ? (size_t)it.n : 1, sizeof *cols);
    hssize_t n_iter = 0, longest = 0;
    int have_iteration = 0;
    size_t w = 0;
    for (int i = 0; cols && i < it.n; i++) {
        char dpath[1100];
        snprintf(dpath, sizeof dpath, "iterations/%s", it.names[i]);
        cols[i] = read_column(f, dpath);
        if (cols[i].n > longest) longest = cols[i].n;
        if (strcmp(it.names[i], "iteration") == 0 && cols[i].n >= 0) {
            have_iteration = 1;
            n_iter = cols[i].n;
        }
        if (strlen(it.names[i]) > w) w = strlen(it.names[i]);
    }
    if (!have_iteration) n_iter = longest;
    fprintf(out, "%-18s %lld\n", "iterations:", (long long)n_iter);
    if (it.n > 0 && cols) {
        fprintf(out, "final iteration metrics:\n");
        for (int i = 0; i < it.n; i++) {
            char v[64];
            if (cols[i].n > 0) fmt_value(&cols[i], cols[i].n - 1, v, sizeof v);
            else snprintf(v, sizeof v, cols[i].n == 0 ? "(empty)" : "(unreadable)");
            fprintf(out, "    %-*s  %s\n", (int)w, it.names[i], v);
        }
    }
    for (int i = 0; cols && i < it.n; i++) free_column(&cols[i]);
    free(cols);
    free_names(&it);

    /* Eval table: iteration, split, who and every *_mean column. */
    names_t ev = list_datasets(f, "eval");
    int *pick = calloc(ev.n ? (size_t)ev.n : 1, sizeof *pick);
    column_t *ec = calloc(ev.n ? (size_t)ev.n : 1, sizeof *ec);
    int np = 0;
    static const char *fixed[] = {"iteration", "split", "who"};
    for (int k = 0; pick && k < 3; k++)
        for (int i = 0; i < ev.n; i++)
            if (strcmp(ev.names[i], fixed[k]) == 0) pick[np++] = i;
    for (int i = 0; pick && i < ev.n; i++)
        if (ends_with(ev.names[i], "_mean")) pick[np++] = i;
    hssize_t n_eval = 0;
    for (int p = 0; ec && p < np; p++) {
        char dpath[1100];
        snprintf(dpath, sizeof dpath, "eval/%s", ev.names[pick[p]]);
        ec[p] = read_column(f, dpath);
        if (ec[p].n > n_eval) n_eval = ec[p].n;
    }
    fprintf(out, "eval: %lld row(s)\n", (long long)n_eval);
    if (n_eval > 0 && ec) {
        int *width = calloc((size_t)np, sizeof *width);
        for (int p = 0; width && p < np; p++) {
            width[p] = (int)strlen(ev.names[pick[p]]);
            if (width[p] < 10) width[p] = 10;
        }
        fprintf(out, "   ");
        for (int p = 0; width && p < np; p++) fprintf(out, " %*s", width[p], ev.names[pick[p]]);
        fprintf(out, "\n");
        for (hssize_t r = 0; width && r < n_eval; r++) {
            fprintf(out, "   ");
            for (int p = 0; p < np; p++) {
                char v[64];
                const char *nm = ev.names[pick[p]];
                if (ec[p].n > r && ec[p].is_int && strcmp(nm, "split") == 0) snprintf(v, sizeof v, "%s", runcodes_split_name(ec[p].i[r]));
                else if (ec[p].n > r && ec[p].is_int && strcmp(nm, "who") == 0) snprintf(v, sizeof v, "%s", runcodes_who_name(ec[p].i[r]));
                else if (ec[p].n > r && !ec[p].is_int && (strcmp(nm, "split") == 0 || strcmp(nm, "who") == 0) &&
                         ec[p].d[r] == (double)(long long)ec[p].d[r])
                    snprintf(v, sizeof v, "%s", strcmp(nm, "split") == 0 ? runcodes_split_name((long long)ec[p].d[r]) : runcodes_who_name((long long)ec[p].d[r]));
                else fmt_value(&ec[p], r, v, sizeof v);
                fprintf(out, " %*s", width[p], v);
            }
            fprintf(out, "\n");
        }
        free(width);
    }
    for (int p = 0; ec && p < np; p++) free_column(&ec[p]);
    free(ec);
    free(pick);
    free_names(&ev);

    /* Every dataset, in name order. */
    listing_t ls = {0};
    int rc = 0;
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    if (root < 0 || list_group(&ls, root, "", 0) < 0) {
        char cause[300];
        rc = err_set(err, "%s: cannot list datasets: %s", path, h5log_error_cause(cause));
    }
    if (root >= 0) H5Gclose(root);
    size_t wp = 0, ws = 0;
    for (int i = 0; i < ls.n; i++) {
        char *t1 = strchr(ls.lines[i], '\t'), *t2 = strchr(t1 + 1, '\t');
        if ((size_t)(t1 - ls.lines[i]) > wp) wp = (size_t)(t1 - ls.lines[i]);
        if ((size_t)(t2 - t1 - 1) > ws) ws = (size_t)(t2 - t1 - 1);
    }
    fprintf(out, "datasets: %d\n", ls.n);
    for (int i = 0; i < ls.n; i++) {
        char *t1 = strchr(ls.lines[i], '\t'), *t2 = strchr(t1 + 1, '\t');
        fprintf(out, "    %-*.*s  %-*.*s  %s\n", (int)wp, (int)(t1 - ls.lines[i]), ls.lines[i], (int)ws,
                (int)(t2 - t1 - 1), t1 + 1, t2 + 1);
        free(ls.lines[i]);
    }
    free(ls.lines);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

static int read_column_direct(const char *path, const char *dataset, double **values, size_t *n, err_t *err) {
    *values = NULL;
    *n = 0;
    hid_t f = h5util_open_ro(path, err);
    if (f < 0) return -1;
    column_t c = read_column(f, dataset);
    H5Fclose(f);
    if (c.n < 0) {
        free_column(&c);
        return err_set(err, "'%s': no readable 1-D numeric dataset '%s'", path, dataset);
    }
    free(c.i);
    *values = c.d;
    *n = (size_t)c.n;
    return 0;
}


static int info_child(const void *ctx, FILE *out, err_t *err) { return info_direct(ctx, out, err); }

typedef struct {
    const char *path, *dataset;
} col_req_t;

static int column_child(const void *ctx, FILE *out, err_t *err) {
    const col_req_t *q = ctx;
    double *v;
    size_t n;
    if (read_column_direct(q->path, q->dataset, &v, &n, err)) return -1;
    fwrite(&n, sizeof n, 1, out);
    if (n) fwrite(v, sizeof *v, n, out);
    free(v);
    return 0;
}

int h5log_info(const char *path, FILE *out, err_t *err) { return h5util_run_isolated(path, info_child, path, out, err); }

typedef struct {
    const char *path, *name;
} attr_req_t;

static int attr_child(const void *ctx, FILE *out, err_t *err) {
    const attr_req_t *q = ctx;
    hid_t f = h5util_open_ro(q->path, err);
    if (f < 0) return -1;
    char *v = attr_text(f, q->name);
    H5Fclose(f);
    if (!v) return err_set(err, "'%s': no root attribute '%s'", q->path, q->name);
    fputs(v, out);
    free(v);
    return 0;
}

int h5log_read_attr(const char *path, const char *name, char **text, err_t *err) {
    *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(text, &len);
    if (!mem) return err_set(err, "'%s': out of memory", path);
    attr_req_t q = {path, name};
    int rc = h5util_run_isolated(path, attr_child, &q, mem, err);
    fclose(mem);
    if (rc) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

int h5log_read_column(const char *path, const char *dataset, double **values, size_t *n, err_t *err) {
    *values = NULL;
    *n = 0;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return err_set(err, "'%s': out of memory", path);
    col_req_t q = {path, dataset};
    int rc = h5util_run_isolated(path, column_child, &q, mem, err);
    fclose(mem);
    size_t cnt = 0;
    if (rc == 0 && (len < sizeof cnt || (memcpy(&cnt, buf, sizeof cnt), len != sizeof cnt + cnt * sizeof(double))))
        rc = err_set(err, "'%s': reading '%s' failed", path, dataset);
    if (rc == 0) {
        *values = malloc(cnt ? cnt * sizeof(double) : 1);
        if (cnt) memcpy(*values, buf + sizeof cnt, cnt * sizeof(double));
        *n = cnt;
    }
    free(buf);
    return rc;
}
