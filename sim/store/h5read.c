/* h5read: see h5read.h. The child process (h5util_run_isolated) does every HDF5 call and writes
 * length-prefixed records to a pipe; the parent parses them with bounds checks, so nothing a file
 * holds can make the parent read out of bounds.
 *
 * Listing records (host byte order: both ends are the same process image):
 *   'A' str(object) str(name) str(value)
 *   'D' str(path) u8 kind u32 size u32 rank u64 dims[rank] u64 n u8 readable str(type)
 *   str = u32 length + bytes
 * Array: u8 kind u32 size u64 n, then n * size bytes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "h5read.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5log.h"
#include "h5util.h"

#define MAX_OBJECTS 1000000   /* a hostile file with link cycles must not walk forever */
#define MAX_DEPTH 64
#define MAX_ATTR_ELEMS 65536  /* attribute values are for reading, not bulk data */

/* ---------------------------------------------------------------- child side --------------- */

static void put_u8(FILE *o, uint8_t v) { fwrite(&v, 1, 1, o); }
static void put_u32(FILE *o, uint32_t v) { fwrite(&v, sizeof v, 1, o); }
static void put_u64(FILE *o, uint64_t v) { fwrite(&v, sizeof v, 1, o); }
static void put_str(FILE *o, const char *s) {
    size_t n = strlen(s);
    put_u32(o, (uint32_t)n);
    fwrite(s, 1, n, o);
}

typedef struct {
    char **v;
    size_t n, cap;
} strs_t;

static int strs_push(strs_t *s, const char *x) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **p = realloc(s->v, cap * sizeof *p);
        if (!p) return -1;
        s->v = p;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(x))) return -1;
    s->n++;
    return 0;
}
static void strs_free(strs_t *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static herr_t link_name_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)g;
    if (info->type != H5L_TYPE_HARD) return 0; /* soft and external links: not followed */
    return strs_push(data, name) ? -1 : 0;
}
static herr_t attr_name_cb(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
    (void)obj;
    (void)info;
    return strs_push(data, name) ? -1 : 0;
}

/* Names of g's hard links (attributes when attrs) in creation order, else name order. */
static int collect_names(hid_t obj, int attrs, strs_t *s) {
    for (int pass = 0; pass < 2; pass++) {
        H5_index_t idx_type = pass == 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
        hsize_t idx = 0;
        herr_t rc = attrs ? H5Aiterate2(obj, idx_type, H5_ITER_INC, &idx, attr_name_cb, s)
                          : H5Literate(obj, idx_type, H5_ITER_INC, &idx, link_name_cb, s);
        H5Eclear2(H5E_DEFAULT);
        if (rc >= 0) return 0;
        strs_free(s);
    }
    return -1;
}

/* An attribute's value as text (malloc'ed), or NULL when it cannot be read. */
static char *attr_value(hid_t a) {
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    int ok = t >= 0 && sp >= 0 && m;
    hssize_t n = ok ? H5Sget_simple_extent_npoints(sp) : -1;
    if (ok && H5Sget_simple_extent_type(sp) == H5S_NULL) n = 0;
    if (n < 0) ok = 0;
    H5T_class_t cls = ok ? H5Tget_class(t) : H5T_NO_CLASS;
    size_t sz = ok ? H5Tget_size(t) : 0;
    if (!ok) {
    } else if (n > MAX_ATTR_ELEMS) {
        fprintf(m, "(%lld elements, not read)", (long long)n);
    } else if (n == 0) {
    } else if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        char **v = calloc((size_t)n, sizeof *v);
        if (mt >= 0 && v && H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Aread(a, mt, v) >= 0) {
            for (hssize_t i = 0; i < n; i++) fprintf(m, "%s%s", i ? ", " : "", v[i] ? v[i] : "");
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(mt, sp, H5P_DEFAULT, v);
#else
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
#endif
        } else {
            ok = 0;
        }
        free(v);
        if (mt >= 0) H5Tclose(mt);
    } else if (cls == H5T_STRING && sz > 0 && sz < (1u << 24)) {
        char *buf = calloc((size_t)n, sz);
        if (buf && H5Aread(a, t, buf) >= 0) {
            for (hssize_t i = 0; i < n; i++) {
                const char *e = buf + (size_t)i * sz;
                fprintf(m, "%s%.*s", i ? ", " : "", (int)strnlen(e, sz), e);
            }
        } else {
            ok = 0;
        }
        free(buf);
    } else if (cls == H5T_INTEGER) {
        int sgn = H5Tget_sign(t) != H5T_SGN_NONE;
        long long *v = calloc((size_t)n, sizeof *v);
        if (v && H5Aread(a, sgn ? H5T_NATIVE_LLONG : H5T_NATIVE_ULLONG, v) >= 0) {
            for (hssize_t i = 0; i < n; i++) {
                if (sgn) fprintf(m, "%s%lld", i ? ", " : "", v[i]);
                else fprintf(m, "%s%llu", i ? ", " : "", (unsigned long long)v[i]);
            }
        } else {
            ok = 0;
        }
        free(v);
    } else if (cls == H5T_FLOAT) {
        double *v = calloc((size_t)n, sizeof *v);
        if (v && H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0) {
            for (hssize_t i = 0; i < n; i++) fprintf(m, sz == 4 ? "%s%.9g" : "%s%.17g", i ? ", " : "", v[i]);
        } else {
            ok = 0;
        }
        free(v);
    } else {
        fprintf(m, "(HDF5 type class %d, %zu bytes)", (int)cls, sz);
    }
    if (m) fclose(m);
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    H5Eclear2(H5E_DEFAULT);
    if (!ok) {
        free(text);
        return NULL;
    }
    return text;
}

typedef struct {
    FILE *out;
    const char *file, *skip;
    err_t *err;
    long objects;
} lister_t;

static int list_attrs(lister_t *L, hid_t obj, const char *path) {
    char cause[300];
    strs_t names = {0};
    if (collect_names(obj, 1, &names))
        return err_set(L->err, "'%s': cannot list the attributes of '%s': %s", L->file, path, h5log_error_cause(cause));
    int rc = 0;
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        hid_t a = H5Aopen(obj, names.v[i], H5P_DEFAULT);
        char *v = a >= 0 ? attr_value(a) : NULL;
        if (a >= 0) H5Aclose(a);
        if (!v) {
            rc = err_set(L->err, "'%s': cannot read attribute '%s' of '%s': %s", L->file, names.v[i], path,
                         h5log_error_cause(cause));
            break;
        }
        put_u8(L->out, 'A');
        put_str(L->out, path);
        put_str(L->out, names.v[i]);
        put_str(L->out, v);
        free(v);
    }
    strs_free(&names);
    return rc;
}

static void describe_type(hid_t t, h5read_dataset_t *d) {
    H5T_class_t cls = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    d->size = (unsigned)sz;
    d->readable = 1;
    if (cls == H5T_INTEGER) {
        d->kind = H5Tget_sign(t) == H5T_SGN_NONE ? H5READ_UINT : H5READ_INT;
        snprintf(d->type, sizeof d->type, "%sint%zu", d->kind == H5READ_UINT ? "u" : "", 8 * sz);
    } else if (cls == H5T_FLOAT) {
        d->kind = H5READ_FLOAT;
        snprintf(d->type, sizeof d->type, "float%zu", 8 * sz);
    } else {
        d->kind = H5READ_OTHER;
        if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
            d->readable = 0;
            snprintf(d->type, sizeof d->type, "string (variable length)");
        } else if (cls == H5T_STRING) {
            snprintf(d->type, sizeof d->type, "string[%zu]", sz);
        } else {
            d->readable = cls != H5T_VLEN && cls != H5T_REFERENCE && H5Tdetect_class(t, H5T_VLEN) <= 0 &&
                          H5Tdetect_class(t, H5T_REFERENCE) <= 0 && sz > 0;
            snprintf(d->type, sizeof d->type, "HDF5 type class %d, %zu bytes", (int)cls, sz);
        }
    }
    H5Eclear2(H5E_DEFAULT);
}

static int list_dataset(lister_t *L, hid_t ds, const char *path) {
    char cause[300];
    h5read_dataset_t d;
    memset(&d, 0, sizeof d);
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (t < 0 || rank < 0 || rank > H5READ_MAX_RANK) {
        if (t >= 0) H5Tclose(t);
        if (sp >= 0) H5Sclose(sp);
        return err_set(L->err, "'%s': cannot read the type and shape of dataset '%s'%s", L->file, path,
                       rank > H5READ_MAX_RANK ? " (rank above 8)" : h5log_error_cause(cause));
    }
    describe_type(t, &d);
    hsize_t dims[H5READ_MAX_RANK] = {0};
    H5Sget_simple_extent_dims(sp, dims, NULL);
    uint64_t n = H5Sget_simple_extent_type(sp) == H5S_NULL ? 0 : 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    H5Tclose(t);
    H5Sclose(sp);
    put_u8(L->out, 'D');
    put_str(L->out, path);
    put_u8(L->out, (uint8_t)d.kind);
    put_u32(L->out, d.size);
    put_u32(L->out, (uint32_t)rank);
    for (int i = 0; i < rank; i++) put_u64(L->out, dims[i]);
    put_u64(L->out, n);
    put_u8(L->out, (uint8_t)d.readable);
    put_str(L->out, d.type);
    return 0;
}

static int list_group(lister_t *L, hid_t g, const char *path, int depth) {
    char cause[300];
    if (depth > MAX_DEPTH) return err_set(L->err, "'%s': groups nested too deep at '%s'", L->file, path);
    if (list_attrs(L, g, path)) return -1;
    strs_t names = {0};
    if (collect_names(g, 0, &names))
        return err_set(L->err, "'%s': cannot list group '%s': %s", L->file, path, h5log_error_cause(cause));
    int rc = 0;
    for (size_t i = 0; i < names.n && rc == 0; i++) {
        char child[2048];
        snprintf(child, sizeof child, "%s%s%s", path, strcmp(path, "/") ? "/" : "", names.v[i]);
        if (L->skip && strcmp(child, L->skip) == 0) continue;
        if (++L->objects > MAX_OBJECTS) {
            rc = err_set(L->err, "'%s': more than %d objects (a link cycle?)", L->file, MAX_OBJECTS);
            break;
        }
        hid_t o = H5Oopen(g, names.v[i], H5P_DEFAULT);
        if (o < 0) {
            rc = err_set(L->err, "'%s': cannot open '%s': %s", L->file, child, h5log_error_cause(cause));
            break;
        }
        H5I_type_t it = H5Iget_type(o);
        if (it == H5I_GROUP) rc = list_group(L, o, child, depth + 1);
        else if (it == H5I_DATASET) rc = list_attrs(L, o, child) || list_dataset(L, o, child) ? -1 : 0;
        H5Oclose(o);
    }
    strs_free(&names);
    return rc;
}

typedef struct {
    const char *path, *skip, *dataset;
} req_t;

static int list_child(const void *ctx, FILE *out, err_t *err) {
    const req_t *q = ctx;
    hid_t f = h5util_open_ro(q->path, err);
    if (f < 0) return -1;
    lister_t L = {out, q->path, q->skip, err, 0};
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    int rc = root >= 0 ? list_group(&L, root, "/", 0) : err_set(err, "'%s': cannot open the root group", q->path);
    if (root >= 0) H5Gclose(root);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

static int array_child(const void *ctx, FILE *out, err_t *err) {
    const req_t *q = ctx;
    char cause[300];
    hid_t f = h5util_open_ro(q->path, err);
    if (f < 0) return -1;
    int rc = -1;
    void *buf = NULL;
    hid_t ds = H5Dopen2(f, q->dataset, H5P_DEFAULT), t = -1, sp = -1, mt = -1;
    if (ds < 0) {
        err_set(err, "'%s': cannot open dataset '%s': %s", q->path, q->dataset, h5log_error_cause(cause));
        goto done;
    }
    t = H5Dget_type(ds);
    sp = H5Dget_space(ds);
    h5read_dataset_t d;
    memset(&d, 0, sizeof d);
    if (t < 0 || sp < 0) goto fail;
    describe_type(t, &d);
    if (!d.readable) {
        err_set(err, "'%s': dataset '%s' has type %s, which cannot be read as an array", q->path, q->dataset, d.type);
        goto done;
    }
    hssize_t n = H5Sget_simple_extent_type(sp) == H5S_NULL ? 0 : H5Sget_simple_extent_npoints(sp);
    if (n < 0) goto fail;
    unsigned size;
    if (d.kind == H5READ_FLOAT) {
        size = d.size == 4 ? 4 : 8;
        mt = H5Tcopy(size == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE);
    } else if (d.kind == H5READ_INT || d.kind == H5READ_UINT) {
        size = 8;
        mt = H5Tcopy(d.kind == H5READ_INT ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64);
    } else {
        size = d.size;
        mt = H5Tcopy(t);
    }
    if (mt < 0) goto fail;
    if ((uint64_t)n > SIZE_MAX / size / 2) {
        err_set(err, "'%s': dataset '%s' is too large to read (%lld elements)", q->path, q->dataset, (long long)n);
        goto done;
    }
    buf = malloc(n ? (size_t)n * size : 1);
    if (!buf) {
        err_set(err, "'%s': out of memory reading dataset '%s' (%lld elements)", q->path, q->dataset, (long long)n);
        goto done;
    }
    if (n > 0 && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) goto fail;
    put_u8(out, (uint8_t)d.kind);
    put_u32(out, size);
    put_u64(out, (uint64_t)n);
    if (n > 0 && fwrite(buf, size, (size_t)n, out) != (size_t)n) {
        err_set(err, "'%s': cannot pass dataset '%s' to the reading process", q->path, q->dataset);
        goto done;
    }
    rc = 0;
    goto done;
fail:
    err_set(err, "'%s': cannot read dataset '%s' (damaged file?): %s", q->path, q->dataset, h5log_error_cause(cause));
done:
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return rc;
}

/* ---------------------------------------------------------------- parent side -------------- */

typedef struct {
    const unsigned char *p, *end;
    int bad;
} rd_t;

static int get(rd_t *r, void *dst, size_t n) {
    if (r->bad || (size_t)(r->end - r->p) < n) return r->bad = 1, -1;
    memcpy(dst, r->p, n);
    r->p += n;
    return 0;
}
static uint8_t get_u8(rd_t *r) {
    uint8_t v = 0;
    get(r, &v, 1);
    return v;
}
static uint32_t get_u32(rd_t *r) {
    uint32_t v = 0;
    get(r, &v, sizeof v);
    return v;
}
static uint64_t get_u64(rd_t *r) {
    uint64_t v = 0;
    get(r, &v, sizeof v);
    return v;
}
static char *get_str(rd_t *r) {
    uint32_t n = get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < n) return r->bad = 1, NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return r->bad = 1, NULL;
    memcpy(s, r->p, n);
    s[n] = 0;
    r->p += n;
    return s;
}

void h5read_listing_free(h5read_listing_t *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n_datasets; i++) free(l->datasets[i].path);
    for (size_t i = 0; i < l->n_attrs; i++) {
        free(l->attrs[i].object);
        free(l->attrs[i].name);
        free(l->attrs[i].value);
    }
    free(l->datasets);
    free(l->attrs);
    memset(l, 0, sizeof *l);
}

static int parse_listing(rd_t *r, h5read_listing_t *l) {
    size_t capd = 0, capa = 0;
    while (!r->bad && r->p < r->end) {
        uint8_t tag = get_u8(r);
        if (tag == 'A') {
            if (l->n_attrs == capa) {
                capa = capa ? 2 * capa : 16;
                h5read_attr_t *a = realloc(l->attrs, capa * sizeof *a);
                if (!a) return -1;
                l->attrs = a;
            }
            h5read_attr_t *a = &l->attrs[l->n_attrs];
            a->object = get_str(r);
            a->name = get_str(r);
            a->value = get_str(r);
            l->n_attrs++;
        } else if (tag == 'D') {
            if (l->n_datasets == capd) {
                capd = capd ? 2 * capd : 64;
                h5read_dataset_t *d = realloc(l->datasets, capd * sizeof *d);
                if (!d) return -1;
                l->datasets = d;
            }
            h5read_dataset_t *d = &l->datasets[l->n_datasets];
            memset(d, 0, sizeof *d);
            d->path = get_str(r);
            l->n_datasets++;
            d->kind = (h5read_kind_t)get_u8(r);
            d->size = get_u32(r);
            uint32_t rank = get_u32(r);
            if (rank > H5READ_MAX_RANK || d->kind > H5READ_OTHER) return -1;
            d->rank = (int)rank;
            for (uint32_t i = 0; i < rank; i++) d->dims[i] = get_u64(r);
            d->n = get_u64(r);
            d->readable = get_u8(r);
            char *type = get_str(r);
            snprintf(d->type, sizeof d->type, "%s", type ? type : "?");
            free(type);
        } else {
            return -1;
        }
    }
    return r->bad ? -1 : 0;
}

int h5read_list(const char *path, const char *skip, h5read_listing_t *out, err_t *err) {
    memset(out, 0, sizeof *out);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return err_set(err, "'%s': out of memory", path);
    req_t q = {path, skip, NULL};
    int rc = h5util_run_isolated(path, list_child, &q, mem, err);
    fclose(mem);
    if (rc == 0) {
        rd_t r = {(const unsigned char *)buf, (const unsigned char *)buf + len, 0};
        if (parse_listing(&r, out)) {
            h5read_listing_free(out);
            rc = err_set(err, "'%s': listing its objects failed (out of memory?)", path);
        }
    }
    free(buf);
    return rc;
}

void h5read_array_free(h5read_array_t *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

int h5read_array(const char *path, const char *dataset, h5read_array_t *out, err_t *err) {
    memset(out, 0, sizeof *out);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return err_set(err, "'%s': out of memory", path);
    req_t q = {path, NULL, dataset};
    int rc = h5util_run_isolated(path, array_child, &q, mem, err);
    fclose(mem);
    if (rc == 0) {
        rd_t r = {(const unsigned char *)buf, (const unsigned char *)buf + len, 0};
        out->kind = (h5read_kind_t)get_u8(&r);
        out->size = get_u32(&r);
        out->n = get_u64(&r);
        size_t rest = (size_t)(r.end - r.p);
        if (r.bad || out->kind > H5READ_OTHER || out->size == 0 || out->n > rest / out->size ||
            out->n * out->size != rest) {
            rc = err_set(err, "'%s': reading dataset '%s' failed", path, dataset);
        } else if (!(out->data = malloc(rest ? rest : 1))) {
            rc = err_set(err, "'%s': out of memory reading dataset '%s'", path, dataset);
        } else {
            memcpy(out->data, r.p, rest);
        }
        if (rc) memset(out, 0, sizeof *out);
    }
    free(buf);
    return rc;
}
