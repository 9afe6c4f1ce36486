/* h5log: the HDF5 run log (spec/runlog.md, schema version 1). See h5log.h for the layout.
 *
 * Determinism (equal appends => equal bytes):
 *  - libver bounds pinned to (H5F_LIBVER_V18, H5F_LIBVER_V18): every object uses the HDF5 1.8 file
 *    format (superblock v2, v1 B-tree chunk index), whatever newer library writes the file, and any
 *    HDF5 >= 1.8 reader (h5py, h5dump, MATLAB) can read it. The 1.8 format also has no "file open
 *    for writing" superblock flag, so a killed run's partial file opens without h5clear.
 *  - object time tracking off on the root group (via the file creation plist), every group and
 *    every dataset; link and attribute creation order tracked and indexed, so h5py can list columns
 *    in the order the algorithm wrote them.
 *  - an explicit zero fill value, so the unwritten tail of the last chunk is zeros, not stale memory.
 *  - string attributes are fixed-length UTF-8, NULLPAD, exactly strlen bytes (1 for ""): no
 *    variable-length heap objects whose placement could vary.
 *  - groups iterations/, trajectories/ and eval/ are created with the file, in that order; any other
 *    group (timing/) on the first append into it.
 *
 * The digest is in h5digest.c, the readers (info, columns, attributes) in h5info.c, the HDF5
 * building blocks and the forked isolation of reads in h5util.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "h5log.h"
#include "h5util.h"
#include "h5private.h"

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

#define H5LOG_SCHEMA_VERSION 1
#define CHUNK_BYTES 65536 /* every chunk is 64 KiB (the lower end of the spec's 64 KiB..1 MiB) */
#define DEFLATE_LEVEL 4

/* ---------------------------------------------------------------- writer -------------------- */

typedef struct {
    char *name; /* a group path: iterations, or a subgroup such as trajectories/eval */
    hid_t id;
    int table; /* iterations/ and eval/: rows must stay rectangular */
    int key;   /* index in cols of the group's first column (defines rows), -1 before */
} grp_t;

typedef struct {
    char *name; /* "group/name" as appended */
    hid_t id;
    h5col_type_t type;
    hsize_t len;
    int grp;
} col_t;

struct h5log {
    char *path, *partial;
    hid_t file;
    grp_t *grps;
    int ngrps, capgrps;
    col_t *cols;
    int ncols, capcols;
    int last; /* index of the last column appended to: appends come in a fixed cycle */
    int failed; /* a write or flush failed: HDF5 must not touch the file again (see h5log_close) */
};


/* Index of group `name` (created with its parents when missing), or -1. */
static int get_group(h5log_t *L, const char *name, err_t *err) {
    for (int i = 0; i < L->ngrps; i++)
        if (strcmp(L->grps[i].name, name) == 0) return i;
    char cause[300];
    hid_t parent = L->file;
    const char *slash = strrchr(name, '/');
    if (slash) {
        char pname[1024];
        snprintf(pname, sizeof pname, "%.*s", (int)(slash - name), name);
        int p = get_group(L, pname, err);
        if (p < 0) return -1;
        parent = L->grps[p].id;
    }
    if (L->ngrps == L->capgrps) {
        int cap = L->capgrps ? 2 * L->capgrps : 8;
        grp_t *g = realloc(L->grps, (size_t)cap * sizeof *g);
        if (!g) return err_set(err, "%s: out of memory", L->partial);
        L->grps = g;
        L->capgrps = cap;
    }
    hid_t gcpl = make_gcpl();
    hid_t id = gcpl >= 0 ? H5Gcreate2(parent, slash ? slash + 1 : name, H5P_DEFAULT, gcpl, H5P_DEFAULT) : -1;
    if (gcpl >= 0) H5Pclose(gcpl);
    if (id < 0) return err_set(err, "%s: cannot create group '/%s': %s", L->partial, name, h5log_error_cause(cause));
    grp_t *g = &L->grps[L->ngrps];
    g->name = strdup(name);
    if (!g->name) {
        H5Gclose(id);
        return err_set(err, "%s: out of memory", L->partial);
    }
    g->id = id;
    g->table = strcmp(name, "iterations") == 0 || strcmp(name, "eval") == 0;
    g->key = -1;
    return L->ngrps++;
}

static int valid_dataset_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 900 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") || !strchr(s, '/'))
        return 0;
    for (const char *p = s; *p; p++)
        if (*p == '.' && (p == s || p[-1] == '/') && (p[1] == '/' || p[1] == 0 || (p[1] == '.' && (p[2] == '/' || p[2] == 0))))
            return 0; /* "." or ".." components */
    return 1;
}

static int find_col(h5log_t *L, const char *name) {
    /* Appends follow a fixed cycle, so the column after the last one is almost always the next. */
    for (int k = 0; k < L->ncols; k++) {
        int i = (L->last + 1 + k) % L->ncols;
        if (strcmp(L->cols[i].name, name) == 0) return i;
    }
    return -1;
}

static int create_col(h5log_t *L, const char *name, h5col_type_t type, err_t *err) {
    char cause[300], gname[1024];
    const char *slash = strrchr(name, '/');
    snprintf(gname, sizeof gname, "%.*s", (int)(slash - name), name);
    int g = get_group(L, gname, err);
    if (g < 0) return -1;
    if (L->ncols == L->capcols) {
        int cap = L->capcols ? 2 * L->capcols : 64;
        col_t *c = realloc(L->cols, (size_t)cap * sizeof *c);
        if (!c) return err_set(err, "%s: out of memory", L->partial);
        L->cols = c;
        L->capcols = cap;
    }
    hsize_t zero = 0, unlim = H5S_UNLIMITED, chunk = CHUNK_BYTES / h5util_elem_size(type);
    double fill_buf = 0; /* zero bytes for every column type */
    hid_t sp = H5Screate_simple(1, &zero, &unlim);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t id = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
        H5Pset_deflate(dcpl, DEFLATE_LEVEL) >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 &&
        H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0 &&
        H5Pset_fill_value(dcpl, h5util_mem_type(type), &fill_buf) >= 0)
        id = H5Dcreate2(L->grps[g].id, slash + 1, h5util_file_type(type), sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (id < 0)
        return err_set(err, "%s: cannot create dataset '/%s': %s", L->partial, name, h5log_error_cause(cause));
    col_t *c = &L->cols[L->ncols];
    c->name = strdup(name);
    if (!c->name) {
        H5Dclose(id);
        return err_set(err, "%s: out of memory", L->partial);
    }
    c->id = id;
    c->type = type;
    c->len = 0;
    c->grp = g;
    if (L->grps[g].key < 0) L->grps[g].key = L->ncols;
    return L->ncols++;
}

/* Table groups (iterations/, eval/) stay rectangular: the group's first column is the row key;
 * appending to it starts new rows, so every other column must have caught up with it, and no
 * column may get ahead of it. */
static int check_rows(h5log_t *L, int ci, size_t n, err_t *err) {
    const col_t *c = &L->cols[ci];
    const grp_t *g = &L->grps[c->grp];
    if (!g->table) return 0;
    const col_t *key = &L->cols[g->key];
    if (ci == g->key) {
        for (int i = 0; i < L->ncols; i++)
            if (L->cols[i].grp == c->grp && L->cols[i].len != key->len)
                return err_set(err,
                               "%s: rows of '/%s/' are not rectangular: '/%s' has %llu rows but '/%s' "
                               "has %llu (append every column once per row, '/%s' first)",
                               L->partial, g->name, L->cols[i].name, (unsigned long long)L->cols[i].len,
                               key->name, (unsigned long long)key->len, key->name);
    } else if (c->len + n > key->len) {
        return err_set(err,
                       "%s: cannot append %zu value(s) to '/%s': it would have %llu rows but the row "
                       "key '/%s' has %llu (append '/%s' first for every row)",
                       L->partial, n, c->name, (unsigned long long)(c->len + n), key->name,
                       (unsigned long long)key->len, key->name);
    }
    return 0;
}

static int check_all_rows(h5log_t *L, err_t *err) {
    for (int g = 0; g < L->ngrps; g++) {
        const grp_t *gr = &L->grps[g];
        if (!gr->table || gr->key < 0) continue;
        for (int i = 0; i < L->ncols; i++)
            if (L->cols[i].grp == g && L->cols[i].len != L->cols[gr->key].len)
                return err_set(err, "%s: rows of '/%s/' are not rectangular: '/%s' has %llu rows but '/%s' has %llu",
                               L->partial, gr->name, L->cols[i].name, (unsigned long long)L->cols[i].len,
                               L->cols[gr->key].name, (unsigned long long)L->cols[gr->key].len);
    }
    return 0;
}

static void free_log(h5log_t *L) {
    for (int i = 0; i < L->ncols; i++) {
        if (L->cols[i].id >= 0) H5Dclose(L->cols[i].id);
        free(L->cols[i].name);
    }
    for (int i = L->ngrps - 1; i >= 0; i--) {
        if (L->grps[i].id >= 0) H5Gclose(L->grps[i].id);
        free(L->grps[i].name);
    }
    free(L->cols);
    free(L->grps);
    free(L->path);
    free(L->partial);
    free(L);
}

h5log_t *h5log_create(const char *path, const h5log_meta_t *meta, err_t *err) {
    char cause[300];
    h5util_quiet();
    if (!path || !*path) {
        err_set(err, "run log: empty file name");
        return NULL;
    }
    h5log_t *L = calloc(1, sizeof *L);
    if (!L) {
        err_set(err, "%s: out of memory", path);
        return NULL;
    }
    L->file = -1;
    size_t n = strlen(path);
    L->path = strdup(path);
    L->partial = malloc(n + sizeof ".partial");
    if (!L->path || !L->partial) {
        err_set(err, "%s: out of memory", path);
        free_log(L);
        return NULL;
    }
    memcpy(L->partial, path, n);
    memcpy(L->partial + n, ".partial", sizeof ".partial");
    if (h5util_probe_writable(L->partial, err, "run log") < 0) {
        free_log(L);
        return NULL;
    }
    hid_t fcpl = make_fcpl(), fapl = h5util_make_fapl_rw();
    if (fcpl >= 0 && fapl >= 0) L->file = H5Fcreate(L->partial, H5F_ACC_TRUNC, fcpl, fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    if (L->file < 0) {
        err_set(err, "cannot create run log '%s': %s", L->partial, h5log_error_cause(cause));
        unlink(L->partial);
        free_log(L);
        return NULL;
    }
    int32_t schema = H5LOG_SCHEMA_VERSION, complete = 0;
    int64_t seed = meta ? meta->seed : 0;
    int rc = write_attr(L->file, schema_attr(ATTR_SCHEMA_VERSION), H5T_STD_I32LE, H5T_NATIVE_INT32, &schema) < 0 ||
             write_str_attr(L->file, schema_attr(ATTR_PROGRAM_VERSION), meta ? meta->program_version : NULL) < 0 ||
             write_str_attr(L->file, schema_attr(ATTR_TASK), meta ? meta->task : NULL) < 0 ||
             write_str_attr(L->file, schema_attr(ATTR_ALGO), meta ? meta->algo : NULL) < 0 ||
             write_attr(L->file, schema_attr(ATTR_SEED), H5T_STD_I64LE, H5T_NATIVE_INT64, &seed) < 0 ||
             write_str_attr(L->file, schema_attr(ATTR_CONFIG), meta ? meta->config_text : NULL) < 0 ||
             write_str_attr(L->file, schema_attr(ATTR_CONFIG_HASH), meta ? meta->config_hash : NULL) < 0 ||
             write_attr(L->file, schema_attr(ATTR_COMPLETE), H5T_STD_I32LE, H5T_NATIVE_INT32, &complete) < 0
                 ? -1 : 0;
    if (rc < 0) {
        err_set(err, "%s: cannot write root attributes: %s", L->partial, h5log_error_cause(cause));
    } else {
        /* The three groups every run has, in a fixed order; others appear on first append. */
        static const char *groups[] = {"iterations", "trajectories", "eval"};
        for (int i = 0; i < 3 && rc == 0; i++)
            if (get_group(L, groups[i], err) < 0) rc = -1;
    }
    if (rc == 0 && H5Fflush(L->file, H5F_SCOPE_GLOBAL) < 0)
        rc = err_set(err, "%s: cannot flush: %s", L->partial, h5log_error_cause(cause));
    if (rc < 0) {
        free_log(L);
        unlink(L->partial);
        return NULL;
    }
    return L;
}

static int is_nan_at(h5col_type_t type, const void *values, size_t i) {
    if (type == H5COL_F32) {
        float x = ((const float *)values)[i];
        return x != x;
    }
    double x = ((const double *)values)[i];
    return x != x;
}

/* NaN's sign and payload bits depend on the compiler and the CPU (x86 returns the first operand's NaN
 * when both are, and a compiler may commute a + b), so a non-finite value would make a diverged
 * run's bytes differ between machines. Floats are written with every NaN as the one quiet NaN
 * (0x7FC00000, 0x7FF8000000000000): the values of `values` that are NaN, in a copy (*copy, to
 * free) only when there is one. Returns the buffer to write. */
static const void *canonical_nans(h5col_type_t type, const void *values, size_t n, void **copy) {
    static const uint32_t qnan32 = 0x7FC00000u;
    static const uint64_t qnan64 = 0x7FF8000000000000ull;
    size_t w = type == H5COL_F32 ? sizeof qnan32 : type == H5COL_F64 ? sizeof qnan64 : 0;
    const void *qnan = w == sizeof qnan32 ? (const void *)&qnan32 : (const void *)&qnan64;
    unsigned char *c = NULL;
    *copy = NULL;
    for (size_t i = 0; w && i < n; i++) {
        if (!is_nan_at(type, values, i)) continue;
        if (!c) {
            if (!(c = malloc(n * w))) return NULL;
            memcpy(c, values, n * w);
        }
        memcpy(c + i * w, qnan, w);
    }
    return c ? (*copy = c) : values;
}

int h5log_append(h5log_t *L, const char *dataset, h5col_type_t type, const void *values, size_t n,
                 err_t *err) {
    char cause[300];
    if ((unsigned)type > H5COL_U8)
        return err_set(err, "%s: dataset '%s': invalid column type %d", L->partial, dataset, (int)type);
    if (!dataset || !valid_dataset_name(dataset))
        return err_set(err, "%s: invalid dataset name '%s' (expected \"group/name\")", L->partial,
                       dataset ? dataset : "(null)");
    if (n > 0 && !values) return err_set(err, "%s: dataset '/%s': NULL values", L->partial, dataset);
    int ci = find_col(L, dataset);
    if (ci < 0 && (ci = create_col(L, dataset, type, err)) < 0) return -1;
    col_t *c = &L->cols[ci];
    L->last = ci;
    if (c->type != type)
        return err_set(err, "%s: dataset '/%s' holds %s but %s was appended", L->partial, dataset,
                       h5util_type_name(c->type), h5util_type_name(type));
    if (check_rows(L, ci, n, err) < 0) return -1;
    if (n == 0) return 0;
    hsize_t start = c->len, count = n, newlen = c->len + n;
    if (H5Dset_extent(c->id, &newlen) < 0)
        return L->failed = 1, err_set(err, "%s: cannot extend dataset '/%s' to %llu rows: %s", L->partial, dataset,
                       (unsigned long long)newlen, h5log_error_cause(cause));
    void *copy;
    const void *out = canonical_nans(type, values, n, &copy);
    if (!out) return L->failed = 1, err_set(err, "%s: dataset '/%s': out of memory", L->partial, dataset);
    hid_t fs = H5Dget_space(c->id);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
             H5Dwrite(c->id, h5util_mem_type(type), ms, fs, H5P_DEFAULT, out) >= 0;
    free(copy);
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    if (!ok) {
        err_set(err, "%s: cannot write %zu value(s) to dataset '/%s': %s", L->partial, n, dataset,
                h5log_error_cause(cause));
        L->failed = 1;
        H5Dset_extent(c->id, &start); /* best effort: keep the extent equal to what was written */
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    c->len = newlen;
    return 0;
}

int h5log_append_col(h5log_t *L, schema_id_t col, const char *wild, h5col_type_t type, const void *values,
                     size_t n, err_t *err) {
    char name[160];
    if (schema_dataset(col, wild, name, sizeof name) != 0)
        return err_set(err, "%s: schema row %d (%s) is not a dataset the writer can name", L->partial, (int)col,
                       (unsigned)col < SCHEMA_ROWS && SCHEMA[col].path ? SCHEMA[col].path : "?");
    if (strcmp(SCHEMA[col].type, h5util_type_name(type)) != 0)
        return err_set(err, "%s: dataset '/%s': the writer appends %s, the schema says %s", L->partial, name,
                       h5util_type_name(type), SCHEMA[col].type);
    return h5log_append(L, name, type, values, n, err);
}

int h5log_append_f64(h5log_t *L, schema_id_t col, double v, err_t *err) {
    return h5log_append_col(L, col, NULL, H5COL_F64, &v, 1, err);
}

int h5log_append_i64(h5log_t *L, schema_id_t col, int64_t v, err_t *err) {
    return h5log_append_col(L, col, NULL, H5COL_I64, &v, 1, err);
}

int h5log_flush(h5log_t *L, err_t *err) {
    char cause[300];
    if (H5Fflush(L->file, H5F_SCOPE_GLOBAL) < 0) {
        L->failed = 1;
        return err_set(err, "%s: cannot flush run log: %s", L->partial, h5log_error_cause(cause));
    }
    return 0;
}

void h5log_init(void) {
    /* No library-wide flush at exit: after a failed write (full disk, file-size limit) HDF5 1.10
     * can crash re-flushing the dirty file, and every file we want written is closed explicitly. */
    H5dont_atexit();
    h5util_quiet();
}

int h5log_set_diverged(h5log_t *L, int64_t iteration, const char *quantity, err_t *err) {
    char cause[300];
    int32_t one = 1;
    if (write_attr(L->file, schema_attr(ATTR_DIVERGED), H5T_STD_I32LE, H5T_NATIVE_INT32, &one) < 0 ||
        write_attr(L->file, schema_attr(ATTR_DIVERGED_ITERATION), H5T_STD_I64LE, H5T_NATIVE_INT64, &iteration) < 0 ||
        write_str_attr(L->file, schema_attr(ATTR_DIVERGED_QUANTITY), quantity) < 0)
        return err_set(err, "%s: cannot write attribute 'diverged': %s", L->partial, h5log_error_cause(cause));
    return 0;
}

int h5log_close(h5log_t *L, int complete, err_t *err) {
    if (!L) return 0;
    int finish = complete != 0; /* rename into place: complete (1) or finished without completing (2) */
    if (complete == 2) complete = 0;
    if (L->failed) {
        /* Leave the file as it was at the last successful flush: closing would make HDF5 retry
         * the failed writes (and 1.10 can crash doing so). The handles are abandoned; the
         * process is about to report the error and exit. */
        for (int i = 0; i < L->ncols; i++) L->cols[i].id = -1;
        for (int i = 0; i < L->ngrps; i++) L->grps[i].id = -1;
        free_log(L);
        return finish ? err_set(err, "run log: an earlier write failed; it was not completed") : 0;
    }
    char cause[300];
    int rc = 0;
    if (complete) {
        int32_t one = 1;
        hid_t a = -1;
        if (check_all_rows(L, err) < 0)
            rc = -1;
        else if ((a = H5Aopen(L->file, schema_attr(ATTR_COMPLETE), H5P_DEFAULT)) < 0 || H5Awrite(a, H5T_NATIVE_INT32, &one) < 0)
            rc = err_set(err, "%s: cannot set attribute 'complete': %s", L->partial, h5log_error_cause(cause));
        if (a >= 0) H5Aclose(a);
    }
    for (int i = 0; i < L->ncols; i++) {
        if (H5Dclose(L->cols[i].id) < 0 && rc == 0)
            rc = err_set(err, "%s: cannot write dataset '/%s': %s", L->partial, L->cols[i].name, h5log_error_cause(cause));
        L->cols[i].id = -1;
    }
    for (int i = L->ngrps - 1; i >= 0; i--) {
        if (H5Gclose(L->grps[i].id) < 0 && rc == 0)
            rc = err_set(err, "%s: cannot close group '/%s': %s", L->partial, L->grps[i].name, h5log_error_cause(cause));
        L->grps[i].id = -1;
    }
    if (H5Fclose(L->file) < 0 && rc == 0)
        rc = err_set(err, "%s: cannot close run log (disk full?): %s", L->partial, h5log_error_cause(cause));
    if (finish && rc == 0) {
        if (h5util_fsync_path(L->partial) < 0)
            rc = err_set(err, "%s: cannot sync to disk: %s", L->partial, strerror(errno));
        else if (rename(L->partial, L->path) != 0) /* replaces an older file at path atomically */
            rc = err_set(err, "cannot rename '%s' to '%s': %s", L->partial, L->path, strerror(errno));
    }
    free_log(L);
    return rc;
}


/* ---------------------------------------------------------------- reopen -------------------- */

typedef struct {
    h5log_t *L;
    int g;
    err_t *err;
    int failed;
} reopen_t;

static herr_t reopen_col_cb(hid_t gid, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    reopen_t *r = data;
    h5log_t *L = r->L;
    if (L->ncols == L->capcols) {
        int cap = L->capcols ? 2 * L->capcols : 64;
        col_t *c = realloc(L->cols, (size_t)cap * sizeof *c);
        if (!c) return r->failed = 1, -1;
        L->cols = c;
        L->capcols = cap;
    }
    hid_t d = H5Dopen2(gid, name, H5P_DEFAULT);
    if (d < 0) return r->failed = 1, -1;
    hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
    h5col_type_t type = H5COL_F64;
    size_t sz = H5Tget_size(t);
    H5T_class_t cls = H5Tget_class(t);
    if (cls == H5T_FLOAT) type = sz == 4 ? H5COL_F32 : H5COL_F64;
    else if (sz == 8) type = H5COL_I64;
    else if (sz == 4) type = H5COL_I32;
    else type = H5COL_U8;
    hsize_t len = 0;
    H5Sget_simple_extent_dims(sp, &len, NULL);
    H5Tclose(t);
    H5Sclose(sp);
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", L->grps[r->g].name, name);
    col_t *c = &L->cols[L->ncols];
    c->name = strdup(full);
    c->id = d;
    c->type = type;
    c->len = len;
    c->grp = r->g;
    if (L->grps[r->g].key < 0) L->grps[r->g].key = L->ncols;
    L->ncols++;
    return 0;
}

static herr_t reopen_grp_cb(hid_t fid, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    reopen_t *r = data;
    h5log_t *L = r->L;
    if (L->ngrps == L->capgrps) {
        int cap = L->capgrps ? 2 * L->capgrps : 8;
        grp_t *g = realloc(L->grps, (size_t)cap * sizeof *g);
        if (!g) return r->failed = 1, -1;
        L->grps = g;
        L->capgrps = cap;
    }
    hid_t id = H5Gopen2(fid, name, H5P_DEFAULT);
    if (id < 0) return r->failed = 1, -1;
    grp_t *g = &L->grps[L->ngrps];
    g->name = strdup(name);
    g->id = id;
    g->table = strcmp(name, "iterations") == 0 || strcmp(name, "eval") == 0;
    g->key = -1;
    r->g = L->ngrps++;
    hsize_t idx = 0;
    if (H5Literate(id, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, reopen_col_cb, r) < 0) return r->failed = 1, -1;
    return 0;
}

h5log_t *h5log_reopen(const char *path, err_t *err) {
    char cause[300];
    h5util_quiet();
    h5log_t *L = calloc(1, sizeof *L);
    if (!L) {
        err_set(err, "%s: out of memory", path);
        return NULL;
    }
    L->file = -1;
    size_t n = strlen(path);
    L->path = strdup(path);
    L->partial = malloc(n + sizeof ".partial");
    memcpy(L->partial, path, n);
    memcpy(L->partial + n, ".partial", sizeof ".partial");
    hid_t fapl = h5util_make_fapl_rw();
    if (fapl >= 0) L->file = H5Fopen(L->partial, H5F_ACC_RDWR, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (L->file < 0) {
        err_set(err, "cannot reopen run log '%s': %s", L->partial, h5log_error_cause(cause));
        free_log(L);
        return NULL;
    }
    reopen_t r = {L, -1, err, 0};
    hsize_t idx = 0;
    if (H5Literate(L->file, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, reopen_grp_cb, &r) < 0 || r.failed) {
        err_set(err, "%s: cannot read back the run log's datasets: %s", L->partial, h5log_error_cause(cause));
        h5log_close(L, 0, err);
        return NULL;
    }
    return L;
}

int h5log_check_room(const char *path, size_t need, err_t *err) {
    struct rlimit rl;
    struct stat st;
    size_t have = stat(path, &st) == 0 ? (size_t)st.st_size : 0;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && have + need > rl.rlim_cur)
        return err_set(err, "'%s' would grow past the file-size limit (ulimit -f: %llu bytes; it has %zu and needs about %zu more)",
                       path, (unsigned long long)rl.rlim_cur, have, need);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    struct statvfs sv;
    if (statvfs(dir[0] ? dir : "/", &sv) == 0 && (unsigned long long)sv.f_bavail * sv.f_frsize < need)
        return err_set(err, "'%s': No space left on device (needs about %zu bytes, %llu free)", path, need,
                       (unsigned long long)sv.f_bavail * sv.f_frsize);
    return 0;
}

int h5log_reserve(h5log_t *L, size_t bytes, err_t *err) {
    /* a flush may rewrite every partly filled compressed chunk at a new address */
    size_t need = 2 * bytes + (size_t)L->ncols * 16384 + 65536;
    if (h5log_check_room(L->partial, need, err)) return err_prefix(err, "run log stopped before it filled up; "
                                                                     "it stays readable up to the last iteration");
    return 0;
}

