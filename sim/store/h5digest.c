/* h5digest: `rlgf digest`, a SHA-256 of a run log's logical content.
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
    err_set(d->err, "%s: cannot read %s '%s': %s", d->file, is_attr ? "attribute" : "dataset", path, h5log_error_cause(cause));
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
        err_set(w->d->err, "%s: cannot open attribute '%s': %s", w->d->file, apath, h5log_error_cause(cause));
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
            err_set(d->err, "%s: cannot list attributes of '%s': %s", d->file, path, h5log_error_cause(cause));
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
        err_set(d->err, "%s: cannot open '%s': %s", d->file, cpath, h5log_error_cause(cause));
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
            err_set(d->err, "%s: cannot list group '%s': %s", d->file, path, h5log_error_cause(cause));
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
    hid_t f = h5util_open_ro(path, err);
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


static int digest_child(const void *ctx, FILE *out, err_t *err) {
    char hex[65];
    if (digest_direct(ctx, hex, err)) return -1;
    fputs(hex, out);
    return 0;
}


int h5log_digest(const char *path, char hex[65], err_t *err) {
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return err_set(err, "'%s': out of memory", path);
    int rc = h5util_run_isolated(path, digest_child, path, mem, err);
    fclose(mem);
    if (rc == 0 && len != 64) rc = err_set(err, "'%s': digest failed", path);
    if (rc == 0) {
        memcpy(hex, buf, 64);
        hex[64] = 0;
    }
    free(buf);
    return rc;
}

