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
 * Digest (h5log_digest): SHA-256 over the logical content, so it does not depend on chunking,
 * compression or on-disk layout. Objects are visited recursively in name order (links by
 * H5_INDEX_NAME, attributes by H5_INDEX_NAME), skipping /timing and everything below it, and the
 * root attribute program_version (it changes with every commit, so golden digests could never
 * pin anything if it counted; it describes the binary, like timing/ describes the host). Each item
 * adds one record to the hash (integers little-endian):
 *   group:      'G' u64 len(path) path
 *   dataset:    'D' u64 len(path) path  TYPE SHAPE DATA     (its attributes come first, as below)
 *   attribute:  'A' u64 len(path) path  TYPE SHAPE DATA     path = "<object path>@<attribute name>"
 *   TYPE  = u32 H5T class, u64 size in bytes (0 for variable-length strings), i32 sign (H5T_sign_t
 *           for integers, -1 otherwise)
 *   SHAPE = u32 rank, u64 dims[rank]
 *   DATA  = u64 byte count, then the elements: integers and floats in little-endian with their
 *           stored size, fixed-length strings as their stored bytes (padding included),
 *           variable-length strings as u64 len + bytes each, anything else as stored.
 * Links that are not hard links add 'L' u64 len(path) path. The root path is "/". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "h5log.h"
#include "h5util.h"

#define h5_cause h5log_error_cause
#define open_ro h5util_open_ro
#define run_isolated h5util_run_isolated

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

/* ---------------------------------------------------------------- HDF5 helpers ------------- */

static void quiet_hdf5(void) { H5Eset_auto(H5E_DEFAULT, NULL, NULL); }

/* The innermost message of HDF5's error stack (the most specific cause), then clears the stack. */
static herr_t walk_first(unsigned n, const H5E_error2_t *e, void *data) {
    if (n == 0 && e->desc) snprintf((char *)data, 300, "%s", e->desc);
    return 0;
}
const char *h5log_error_cause(char buf[300]) {
    buf[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_first, buf);
    H5Eclear2(H5E_DEFAULT);
    if (!buf[0]) snprintf(buf, 300, "HDF5 call failed");
    /* The file driver's messages embed a dump ("file write failed: time = ..., error message =
     * 'File too large', ..."): keep the operation and the system's reason. */
    const char *em = strstr(buf, "error message = '");
    if (em) {
        char op[120], why[120];
        const char *colon = strchr(buf, ':');
        snprintf(op, sizeof op, "%.*s", colon ? (int)(colon - buf) : 0, buf);
        em += strlen("error message = '");
        const char *end = strchr(em, '\'');
        snprintf(why, sizeof why, "%.*s", end ? (int)(end - em) : (int)strlen(em), em);
        snprintf(buf, 300, "%s: %s", op[0] ? op : "write failed", why);
    }
    return buf;
}

static hid_t mem_type(h5col_type_t t) {
    switch (t) {
    case H5COL_F64: return H5T_NATIVE_DOUBLE;
    case H5COL_F32: return H5T_NATIVE_FLOAT;
    case H5COL_I64: return H5T_NATIVE_INT64;
    case H5COL_I32: return H5T_NATIVE_INT32;
    case H5COL_U8: return H5T_NATIVE_UINT8;
    }
    return -1;
}
static hid_t file_type(h5col_type_t t) {
    switch (t) {
    case H5COL_F64: return H5T_IEEE_F64LE;
    case H5COL_F32: return H5T_IEEE_F32LE;
    case H5COL_I64: return H5T_STD_I64LE;
    case H5COL_I32: return H5T_STD_I32LE;
    case H5COL_U8: return H5T_STD_U8LE;
    }
    return -1;
}
static size_t elem_size(h5col_type_t t) {
    static const size_t sz[] = {8, 4, 8, 4, 1};
    return (unsigned)t < 5 ? sz[t] : 0;
}
static const char *type_name(h5col_type_t t) {
    static const char *nm[] = {"float64", "float32", "int64", "int32", "uint8"};
    return (unsigned)t < 5 ? nm[t] : "?";
}

hid_t h5util_make_cpl(hid_t cls) {
    hid_t p = H5Pcreate(cls);
    if (p < 0) return -1;
    if (H5Pset_obj_track_times(p, 0) < 0 ||
        H5Pset_link_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0 ||
        H5Pset_attr_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) < 0) {
        H5Pclose(p);
        return -1;
    }
    return p;
}

int h5util_write_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *buf) {
    hid_t sp = H5Screate(H5S_SCALAR);
    if (sp < 0) return -1;
    hid_t a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = (a >= 0 && H5Awrite(a, mtype, buf) >= 0) ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

int h5util_write_str_attr(hid_t obj, const char *name, const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    int rc = -1;
    if (H5Tset_size(t, n ? n : 1) >= 0 && H5Tset_strpad(t, H5T_STR_NULLPAD) >= 0 &&
        H5Tset_cset(t, H5T_CSET_UTF8) >= 0)
        rc = h5util_write_attr(obj, name, t, t, n ? s : "\0");
    H5Tclose(t);
    return rc;
}

#define make_gcpl() h5util_make_cpl(H5P_GROUP_CREATE)
#define make_fcpl() h5util_make_cpl(H5P_FILE_CREATE)
#define write_attr h5util_write_attr
#define write_str_attr h5util_write_str_attr

/* Owner-only creation checks: open(2) tells us the real cause (errno) for an unwritable or
 * missing directory, which HDF5's own stack only buries in a long message. */
static int probe_writable(const char *file, err_t *err, const char *what) {
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return err_set(err, "cannot create %s '%s': %s", what, file, strerror(errno));
    close(fd);
    return 0;
}

static int fsync_path(const char *file) {
    int fd = open(file, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static hid_t make_fapl_rw(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        H5Pclose(fapl);
        return -1;
    }
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 1, 1); /* lock, but work on file systems without flock (NFS) */
#endif
    return fapl;
}


/* Read-only open with checks that name the file and what is wrong with it. File locking is off for
 * readers so `rlgf info` works on the partial file of a run still in progress. */
hid_t h5util_open_ro(const char *path, err_t *err) {
    char cause[300];
    struct stat st;
    quiet_hdf5();
    if (stat(path, &st) != 0) return err_set(err, "cannot open '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return err_set(err, "cannot open '%s': is a directory", path);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return err_set(err, "'%s': cannot create HDF5 property list", path);
#if H5_VERSION_GE(1, 10, 7)
    H5Pset_file_locking(fapl, 0, 1);
#endif
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(path, fapl);
#else
    htri_t is = H5Fis_hdf5(path);
#endif
    if (is == 0) {
        H5Pclose(fapl);
        H5Eclear2(H5E_DEFAULT);
        return err_set(err, "'%s' is not an HDF5 file (no HDF5 signature)", path);
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (f < 0) h5_cause(cause); /* before H5Pclose, which clears the error stack */
    H5Pclose(fapl);
    if (f < 0) return err_set(err, "cannot open '%s' as HDF5 (truncated or damaged file?): %s", path, cause);
    return f;
}

/* ---------------------------------------------------------------- writer -------------------- */

typedef struct {
    char *name; /* "iterations", "trajectories/sub", ... */
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

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

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
    if (id < 0) return err_set(err, "%s: cannot create group '/%s': %s", L->partial, name, h5_cause(cause));
    grp_t *g = &L->grps[L->ngrps];
    g->name = xstrdup(name);
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
    hsize_t zero = 0, unlim = H5S_UNLIMITED, chunk = CHUNK_BYTES / elem_size(type);
    double fill_buf = 0; /* zero bytes for every column type */
    hid_t sp = H5Screate_simple(1, &zero, &unlim);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t id = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_shuffle(dcpl) >= 0 &&
        H5Pset_deflate(dcpl, DEFLATE_LEVEL) >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 &&
        H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0 &&
        H5Pset_fill_value(dcpl, mem_type(type), &fill_buf) >= 0)
        id = H5Dcreate2(L->grps[g].id, slash + 1, file_type(type), sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (id < 0)
        return err_set(err, "%s: cannot create dataset '/%s': %s", L->partial, name, h5_cause(cause));
    col_t *c = &L->cols[L->ncols];
    c->name = xstrdup(name);
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
    quiet_hdf5();
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
    L->path = xstrdup(path);
    L->partial = malloc(n + sizeof ".partial");
    if (!L->path || !L->partial) {
        err_set(err, "%s: out of memory", path);
        free_log(L);
        return NULL;
    }
    memcpy(L->partial, path, n);
    memcpy(L->partial + n, ".partial", sizeof ".partial");
    if (probe_writable(L->partial, err, "run log") < 0) {
        free_log(L);
        return NULL;
    }
    hid_t fcpl = make_fcpl(), fapl = make_fapl_rw();
    if (fcpl >= 0 && fapl >= 0) L->file = H5Fcreate(L->partial, H5F_ACC_TRUNC, fcpl, fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    if (L->file < 0) {
        err_set(err, "cannot create run log '%s': %s", L->partial, h5_cause(cause));
        unlink(L->partial);
        free_log(L);
        return NULL;
    }
    int32_t schema = H5LOG_SCHEMA_VERSION, complete = 0;
    int64_t seed = meta ? meta->seed : 0;
    int rc = write_attr(L->file, "schema_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &schema) < 0 ||
             write_str_attr(L->file, "program_version", meta ? meta->program_version : NULL) < 0 ||
             write_str_attr(L->file, "task", meta ? meta->task : NULL) < 0 ||
             write_str_attr(L->file, "algo", meta ? meta->algo : NULL) < 0 ||
             write_attr(L->file, "seed", H5T_STD_I64LE, H5T_NATIVE_INT64, &seed) < 0 ||
             write_str_attr(L->file, "config", meta ? meta->config_text : NULL) < 0 ||
             write_str_attr(L->file, "config_hash", meta ? meta->config_hash : NULL) < 0 ||
             write_attr(L->file, "complete", H5T_STD_I32LE, H5T_NATIVE_INT32, &complete) < 0
                 ? -1 : 0;
    if (rc < 0) {
        err_set(err, "%s: cannot write root attributes: %s", L->partial, h5_cause(cause));
    } else {
        /* The three groups every run has, in a fixed order; others appear on first append. */
        static const char *groups[] = {"iterations", "trajectories", "eval"};
        for (int i = 0; i < 3 && rc == 0; i++)
            if (get_group(L, groups[i], err) < 0) rc = -1;
    }
    if (rc == 0 && H5Fflush(L->file, H5F_SCOPE_GLOBAL) < 0)
        rc = err_set(err, "%s: cannot flush: %s", L->partial, h5_cause(cause));
    if (rc < 0) {
        free_log(L);
        unlink(L->partial);
        return NULL;
    }
    return L;
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
                       type_name(c->type), type_name(type));
    if (check_rows(L, ci, n, err) < 0) return -1;
    if (n == 0) return 0;
    hsize_t start = c->len, count = n, newlen = c->len + n;
    if (H5Dset_extent(c->id, &newlen) < 0)
        return L->failed = 1, err_set(err, "%s: cannot extend dataset '/%s' to %llu rows: %s", L->partial, dataset,
                       (unsigned long long)newlen, h5_cause(cause));
    hid_t fs = H5Dget_space(c->id);
    hid_t ms = H5Screate_simple(1, &count, NULL);
    int ok = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
             H5Dwrite(c->id, mem_type(type), ms, fs, H5P_DEFAULT, values) >= 0;
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    if (!ok) {
        err_set(err, "%s: cannot write %zu value(s) to dataset '/%s': %s", L->partial, n, dataset,
                h5_cause(cause));
        L->failed = 1;
        H5Dset_extent(c->id, &start); /* best effort: keep the extent equal to what was written */
        H5Eclear2(H5E_DEFAULT);
        return -1;
    }
    c->len = newlen;
    return 0;
}

int h5log_flush(h5log_t *L, err_t *err) {
    char cause[300];
    if (H5Fflush(L->file, H5F_SCOPE_GLOBAL) < 0) {
        L->failed = 1;
        return err_set(err, "%s: cannot flush run log: %s", L->partial, h5_cause(cause));
    }
    return 0;
}

void h5log_init(void) {
    /* No library-wide flush at exit: after a failed write (full disk, file-size limit) HDF5 1.10
     * can crash re-flushing the dirty file, and every file we want written is closed explicitly. */
    H5dont_atexit();
    quiet_hdf5();
}

int h5log_set_diverged(h5log_t *L, int64_t iteration, const char *quantity, err_t *err) {
    char cause[300];
    int32_t one = 1;
    if (write_attr(L->file, "diverged", H5T_STD_I32LE, H5T_NATIVE_INT32, &one) < 0 ||
        write_attr(L->file, "diverged_iteration", H5T_STD_I64LE, H5T_NATIVE_INT64, &iteration) < 0 ||
        write_str_attr(L->file, "diverged_quantity", quantity) < 0)
        return err_set(err, "%s: cannot write attribute 'diverged': %s", L->partial, h5_cause(cause));
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
        else if ((a = H5Aopen(L->file, "complete", H5P_DEFAULT)) < 0 || H5Awrite(a, H5T_NATIVE_INT32, &one) < 0)
            rc = err_set(err, "%s: cannot set attribute 'complete': %s", L->partial, h5_cause(cause));
        if (a >= 0) H5Aclose(a);
    }
    for (int i = 0; i < L->ncols; i++) {
        if (H5Dclose(L->cols[i].id) < 0 && rc == 0)
            rc = err_set(err, "%s: cannot write dataset '/%s': %s", L->partial, L->cols[i].name, h5_cause(cause));
        L->cols[i].id = -1;
    }
    for (int i = L->ngrps - 1; i >= 0; i--) {
        if (H5Gclose(L->grps[i].id) < 0 && rc == 0)
            rc = err_set(err, "%s: cannot close group '/%s': %s", L->partial, L->grps[i].name, h5_cause(cause));
        L->grps[i].id = -1;
    }
    if (H5Fclose(L->file) < 0 && rc == 0)
        rc = err_set(err, "%s: cannot close run log (disk full?): %s", L->partial, h5_cause(cause));
    if (finish && rc == 0) {
        if (fsync_path(L->partial) < 0)
            rc = err_set(err, "%s: cannot sync to disk: %s", L->partial, strerror(errno));
        else if (rename(L->partial, L->path) != 0) /* replaces an older file at path atomically */
            rc = err_set(err, "cannot rename '%s' to '%s': %s", L->partial, L->path, strerror(errno));
    }
    free_log(L);
    return rc;
}

/* ---------------------------------------------------------------- digest -------------------- */

typedef struct {
    struct sha256_ctx ctx;
    const char *file;
    err_t *err;
    int failed;
    int depth;
} digest_t;

static void put_u32(digest_t *d, uint32_t v) {
    uint8_t b[4];
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
    sha256_update(&d->ctx, 4, b);
}
static void put_u64(digest_t *d, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    sha256_update(&d->ctx, 8, b);
}
static void put_tag_path(digest_t *d, char tag, const char *path) {
    uint8_t t = (uint8_t)tag;
    sha256_update(&d->ctx, 1, &t);
    put_u64(d, strlen(path));
    sha256_update(&d->ctx, strlen(path), (const uint8_t *)path);
}

/* A memory type that yields the stored values in little-endian layout of the stored size. */
static hid_t le_mem_type(hid_t ftype) {
    H5T_class_t cls = H5Tget_class(ftype);
    size_t sz = H5Tget_size(ftype);
    if (cls == H5T_INTEGER) {
        int sgn = H5Tget_sign(ftype) == H5T_SGN_2;
        switch (sz) {
        case 1: return H5Tcopy(sgn ? H5T_STD_I8LE : H5T_STD_U8LE);
        case 2: return H5Tcopy(sgn ? H5T_STD_I16LE : H5T_STD_U16LE);
        case 4: return H5Tcopy(sgn ? H5T_STD_I32LE : H5T_STD_U32LE);
        case 8: return H5Tcopy(sgn ? H5T_STD_I64LE : H5T_STD_U64LE);
        }
    } else if (cls == H5T_FLOAT) {
        if (sz == 4) return H5Tcopy(H5T_IEEE_F32LE);
        if (sz == 8) return H5Tcopy(H5T_IEEE_F64LE);
    }
    return H5Tcopy(ftype); /* strings and anything exotic: as stored */
}

/* Hashes TYPE SHAPE DATA of a dataset (is_attr = 0) or attribute (is_attr = 1). */
static int hash_object_data(digest_t *d, hid_t obj, int is_attr, const char *path) {
    char cause[300];
    hid_t ft = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t sp = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mt = -1;
    void *buf = NULL;
    int rc = -1;
    if (ft < 0 || sp < 0) goto fail;
    H5T_class_t cls = H5Tget_class(ft);
    int vlen_str = cls == H5T_STRING && H5Tis_variable_str(ft) > 0;
    size_t sz = vlen_str ? 0 : H5Tget_size(ft);
    put_u32(d, (uint32_t)cls);
    put_u64(d, sz);
    put_u32(d, (uint32_t)(cls == H5T_INTEGER ? (int32_t)H5Tget_sign(ft) : -1));
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank < 0 || rank > 32) goto fail;
    hsize_t dims[32];
    H5Sget_simple_extent_dims(sp, dims, NULL);
    put_u32(d, (uint32_t)rank);
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) {
        put_u64(d, dims[i]);
        total *= dims[i];
    }
    if (H5Sget_simple_extent_type(sp) == H5S_NULL) total = 0;
    if (vlen_str) {
        mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0) goto fail;
        char **s = calloc(total ? total : 1, sizeof *s);
        if (!s) goto fail;
        int ok = total == 0 || (is_attr ? H5Aread(obj, mt, s) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, s)) >= 0;
        if (ok) {
            uint64_t bytes = 0;
            for (hsize_t i = 0; i < total; i++) bytes += 8 + (s[i] ? strlen(s[i]) : 0);
            put_u64(d, bytes);
            for (hsize_t i = 0; i < total; i++) {
                size_t l = s[i] ? strlen(s[i]) : 0;
                put_u64(d, l);
                sha256_update(&d->ctx, l, (const uint8_t *)s[i]);
            }
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(mt, sp, H5P_DEFAULT, s);
#else
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, s);
#endif
        }
        free(s);
        if (!ok) goto fail;
        rc = 0;
        goto done;
    }
    mt = le_mem_type(ft);
    if (mt < 0) goto fail;
    size_t msz = H5Tget_size(mt);
    put_u64(d, (uint64_t)total * msz);
    if (total == 0) {
        rc = 0;
        goto done;
    }
    if (is_attr || rank != 1) {
        buf = malloc((size_t)total * msz);
        if (!buf) goto fail;
        if ((is_attr ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)) < 0) goto fail;
        sha256_update(&d->ctx, (size_t)total * msz, buf);
    } else {
        /* 1-D datasets (token arrays can be large) in blocks of about 4 MiB. */
        hsize_t block = (4u << 20) / msz ? (4u << 20) / msz : 1;
        buf = malloc((size_t)(block < total ? block : total) * msz);
        if (!buf) goto fail;
        for (hsize_t start = 0; start < total; start += block) {
            hsize_t cnt = total - start < block ? total - start : block;
            hid_t ms = H5Screate_simple(1, &cnt, NULL);
            int ok = ms >= 0 && H5Sselect_hyperslab(sp, H5S_SELECT_SET, &start, NULL, &cnt, NULL) >= 0 &&
                     H5Dread(obj, mt, ms, sp, H5P_DEFAULT, buf) >= 0;
            if (ms >= 0) H5Sclose(ms);
            if (!ok) goto fail;
            sha256_update(&d->ctx, (size_t)cnt * msz, buf);
        }
    }
    rc = 0;
    goto done;
fail:
    err_set(d->err, "%s: cannot read %s '%s': %s", d->file, is_attr ? "attribute" : "dataset", path, h5_cause(cause));
done:
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

typedef struct {
    digest_t *d;
    const char *path;
} walk_ctx_t;

static herr_t digest_attr_cb(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    walk_ctx_t *w = data;
    char apath[2048];
    snprintf(apath, sizeof apath, "%s@%s", w->path, name);
    if (strcmp(apath, "/@program_version") == 0) return 0; /* see the digest notes at the top */
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        char cause[300];
        err_set(w->d->err, "%s: cannot open attribute '%s': %s", w->d->file, apath, h5_cause(cause));
        return -1;
    }
    put_tag_path(w->d, 'A', apath);
    int rc = hash_object_data(w->d, a, 1, apath);
    H5Aclose(a);
    return rc < 0 ? -1 : 0;
}

static int digest_attrs(digest_t *d, hid_t obj, const char *path) {
    walk_ctx_t w = {d, path};
    hsize_t idx = 0;
    if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, digest_attr_cb, &w) < 0) {
        if (!d->failed) {
            char cause[300];
            err_set(d->err, "%s: cannot list attributes of '%s': %s", d->file, path, h5_cause(cause));
        }
        d->failed = 1;
        return -1;
    }
    return 0;
}

static int digest_group(digest_t *d, hid_t g, const char *path);

static herr_t digest_link_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    walk_ctx_t *w = data;
    digest_t *d = w->d;
    char cpath[2048], cause[300];
    snprintf(cpath, sizeof cpath, "%s%s%s", w->path, strcmp(w->path, "/") ? "/" : "", name);
    if (strcmp(cpath, "/timing") == 0) return 0; /* wall-clock figures are not content */
    if (info->type != H5L_TYPE_HARD) {
        put_tag_path(d, 'L', cpath);
        return 0;
    }
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) {
        err_set(d->err, "%s: cannot open '%s': %s", d->file, cpath, h5_cause(cause));
        d->failed = 1;
        return -1;
    }
    int rc = 0;
    H5I_type_t t = H5Iget_type(o);
    if (t == H5I_GROUP) {
        rc = digest_group(d, o, cpath);
    } else if (t == H5I_DATASET) {
        rc = digest_attrs(d, o, cpath);
        if (rc == 0) {
            put_tag_path(d, 'D', cpath);
            rc = hash_object_data(d, o, 0, cpath);
        }
    } else {
        put_tag_path(d, 'T', cpath); /* committed datatype: we write none */
    }
    H5Oclose(o);
    if (rc < 0) d->failed = 1;
    return rc < 0 ? -1 : 0;
}

static int digest_group(digest_t *d, hid_t g, const char *path) {
    if (++d->depth > 64) {
        d->failed = 1;
        return err_set(d->err, "%s: groups nested too deep at '%s'", d->file, path);
    }
    put_tag_path(d, 'G', path);
    if (digest_attrs(d, g, path) < 0) return -1;
    walk_ctx_t w = {d, path};
    hsize_t idx = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, digest_link_cb, &w) < 0) {
        if (!d->failed) {
            char cause[300];
            err_set(d->err, "%s: cannot list group '%s': %s", d->file, path, h5_cause(cause));
        }
        d->failed = 1;
        return -1;
    }
    d->depth--;
    return 0;
}

static void to_hex(const uint8_t *b, size_t n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[b[i] >> 4];
        hex[2 * i + 1] = digits[b[i] & 15];
    }
    hex[2 * n] = 0;
}

static int digest_direct(const char *path, char hex[65], err_t *err) {
    hex[0] = 0;
    hid_t f = open_ro(path, err);
    if (f < 0) return -1;
    digest_t d = {.file = path, .err = err};
    sha256_init(&d.ctx);
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    int rc = root >= 0 ? digest_group(&d, root, "/") : err_set(err, "%s: cannot open root group", path);
    if (root >= 0) H5Gclose(root);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    if (rc < 0) return -1;
    uint8_t out[SHA256_DIGEST_SIZE];
    sha256_digest(&d.ctx, sizeof out, out);
    to_hex(out, sizeof out, hex);
    return 0;
}

void sha256_hex(const void *data, size_t len, char hex[65]) {
    struct sha256_ctx ctx;
    uint8_t out[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, sizeof out, out);
    to_hex(out, sizeof out, hex);
}

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
        s = xstrdup("(not a scalar)");
    } else if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        char *v = NULL;
        if (H5Aread(a, mt, &v) >= 0) {
            s = xstrdup(v ? v : "");
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
        s = xstrdup("(unsupported type)");
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
    if (!(nm->names[nm->n] = xstrdup(name))) return -1;
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

static const char *split_name(long long v) {
    static const char *s[] = {"train", "validation", "test"};
    return v >= 0 && v < 3 ? s[v] : "?";
}
static const char *who_name(long long v) {
    static const char *s[] = {"learner", "guide", "pi_ref"};
    return v >= 0 && v < 3 ? s[v] : "?";
}

static size_t ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int info_direct(const char *path, FILE *out, err_t *err) {
    hid_t f = open_ro(path, err);
    if (f < 0) return -1;
    static const char *keys[] = {"schema_version", "program_version", "task", "algo", "seed", "config_hash"};
    char *complete = attr_text(f, "complete");
    fprintf(out, "%-18s %s\n", "file:", path);
    fprintf(out, "%-18s %s\n", "complete:", complete && strcmp(complete, "1") == 0 ? "yes" : "no");
    free(complete);
    char *div = attr_text(f, "diverged");
    if (div && strcmp(div, "1") == 0) {
        char *it = attr_text(f, "diverged_iteration"), *q = attr_text(f, "diverged_quantity");
        fprintf(out, "%-18s yes, at iteration %s (%s not finite)\n", "diverged:", it ? it : "?", q ? q : "?");
        free(it);
        free(q);
    }
    free(div);
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        char *v = attr_text(f, keys[k]);
        char label[64];
        snprintf(label, sizeof label, "%s:", keys[k]);
        fprintf(out, "%-18s %s\n", label, v ? v : "(missing)");
        free(v);
    }
    char *config = attr_text(f, "config");
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
                if (ec[p].n > r && ec[p].is_int && strcmp(nm, "split") == 0) snprintf(v, sizeof v, "%s", split_name(ec[p].i[r]));
                else if (ec[p].n > r && ec[p].is_int && strcmp(nm, "who") == 0) snprintf(v, sizeof v, "%s", who_name(ec[p].i[r]));
                else if (ec[p].n > r && !ec[p].is_int && (strcmp(nm, "split") == 0 || strcmp(nm, "who") == 0) &&
                         ec[p].d[r] == (double)(long long)ec[p].d[r])
                    snprintf(v, sizeof v, "%s", strcmp(nm, "split") == 0 ? split_name((long long)ec[p].d[r]) : who_name((long long)ec[p].d[r]));
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
        rc = err_set(err, "%s: cannot list datasets: %s", path, h5_cause(cause));
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
    hid_t f = open_ro(path, err);
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
    c->name = xstrdup(full);
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
    g->name = xstrdup(name);
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
    quiet_hdf5();
    h5log_t *L = calloc(1, sizeof *L);
    if (!L) {
        err_set(err, "%s: out of memory", path);
        return NULL;
    }
    L->file = -1;
    size_t n = strlen(path);
    L->path = xstrdup(path);
    L->partial = malloc(n + sizeof ".partial");
    memcpy(L->partial, path, n);
    memcpy(L->partial + n, ".partial", sizeof ".partial");
    hid_t fapl = make_fapl_rw();
    if (fapl >= 0) L->file = H5Fopen(L->partial, H5F_ACC_RDWR, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (L->file < 0) {
        err_set(err, "cannot reopen run log '%s': %s", L->partial, h5_cause(cause));
        free_log(L);
        return NULL;
    }
    reopen_t r = {L, -1, err, 0};
    hsize_t idx = 0;
    if (H5Literate(L->file, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, reopen_grp_cb, &r) < 0 || r.failed) {
        err_set(err, "%s: cannot read back the run log's datasets: %s", L->partial, h5_cause(cause));
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

/* ---------------------------------------------------------------- isolation ----------------- */

/* Readers of files a user hands us run in a child process: HDF5 1.10 is not hardened against
 * hostile or damaged files and can crash parsing one (fuzzing found such crashes inside
 * H5Literate). A crash in the child becomes an error naming the file; output comes back through
 * a pipe. */
int h5util_run_isolated(const char *path, h5util_isolated_fn fn, const void *ctx, FILE *out, err_t *err) {
    int pout[2], perr[2];
    if (pipe(pout) != 0) return err_set(err, "'%s': cannot create a pipe: %s", path, strerror(errno));
    if (pipe(perr) != 0) {
        close(pout[0]);
        close(pout[1]);
        return err_set(err, "'%s': cannot create a pipe: %s", path, strerror(errno));
    }
    fflush(out);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return err_set(err, "'%s': cannot fork: %s", path, strerror(errno));
    if (pid == 0) {
        /* Die plainly on a fault: no inherited crash handler (a fuzzer's or a sanitizer's) should
         * treat the library's crash on a hostile file as a finding in the parent. */
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        close(pout[0]);
        close(perr[0]);
        FILE *o = fdopen(pout[1], "w");
        err_t e = {""};
        int rc = o ? fn(ctx, o, &e) : -1;
        if (o) fclose(o);
        if (rc) {
            ssize_t w = write(perr[1], e.msg, strlen(e.msg));
            (void)w;
        }
        _exit(rc ? 1 : 0);
    }
    close(pout[1]);
    close(perr[1]);
    char buf[65536];
    ssize_t r;
    while ((r = read(pout[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0) fwrite(buf, 1, (size_t)r, out);
    char msg[sizeof err->msg];
    size_t m = 0;
    while (m + 1 < sizeof msg && ((r = read(perr[0], msg + m, sizeof msg - 1 - m)) > 0 || (r < 0 && errno == EINTR)))
        if (r > 0) m += (size_t)r;
    msg[m] = 0;
    close(pout[0]);
    close(perr[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status))
        return err_set(err, "'%s': damaged HDF5 file: the HDF5 library crashed reading it (signal %d)", path,
                       WTERMSIG(status));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return err_set(err, "%s", m ? msg : "reading failed");
    return 0;
}

typedef struct {
    const char *path, *dataset;
} col_req_t;

static int digest_child(const void *ctx, FILE *out, err_t *err) {
    char hex[65];
    if (digest_direct(ctx, hex, err)) return -1;
    fputs(hex, out);
    return 0;
}

static int info_child(const void *ctx, FILE *out, err_t *err) { return info_direct(ctx, out, err); }

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

int h5log_digest(const char *path, char hex[65], err_t *err) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return err_set(err, "'%s': out of memory", path);
    int rc = run_isolated(path, digest_child, path, mem, err);
    fclose(mem);
    if (rc == 0 && len != 64) rc = err_set(err, "'%s': digest failed", path);
    if (rc == 0) {
        memcpy(hex, buf, 64);
        hex[64] = 0;
    }
    free(buf);
    return rc;
}

int h5log_info(const char *path, FILE *out, err_t *err) { return run_isolated(path, info_child, path, out, err); }

typedef struct {
    const char *path, *name;
} attr_req_t;

static int attr_child(const void *ctx, FILE *out, err_t *err) {
    const attr_req_t *q = ctx;
    hid_t f = open_ro(q->path, err);
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
    int rc = run_isolated(path, attr_child, &q, mem, err);
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
    int rc = run_isolated(path, column_child, &q, mem, err);
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
