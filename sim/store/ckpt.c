/* ckpt: model checkpoints in HDF5 (see ckpt.h).
 *
 * Layout:
 *   /                 attributes config (fixed-length UTF-8 string), step (int64)
 *   /models/<name>    attributes kind, head, vocab, max_seq, channels, layers, heads (int32; the
 *                     model_config_t fields, enums as their numeric values), n_params (int64);
 *                     datasets params, adam_m, adam_v: float32 little-endian, shape (n_params),
 *                     contiguous and uncompressed (weights are incompressible noise; a checkpoint
 *                     should load at disk speed)
 *   checksums         /models/<name> attribute checksum: SHA-256 (hex) of the model's name, its
 *                     config attributes, params, adam_m, adam_v and the root config text; root
 *                     attribute checksum: SHA-256 of the config text, step, the /state scalars and
 *                     blob. Every load recomputes them: a flipped byte, weights copied from another
 *                     file or a config text edited afterwards is a named error, never silent use.
 * Written like the run log (libver bounds V18..V18, no object times, tracked creation order), so
 * equal models give equal checkpoint bytes. Gradients are not saved: they are zeroed every step. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ckpt.h"
#include "h5log.h"
#include "h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#define make_gcpl h5util_make_cpl
#define write_attr h5util_write_attr
#define write_str_attr h5util_write_str_attr

static int write_i32(hid_t obj, const char *name, int32_t v) {
    return write_attr(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
}

static int write_floats(hid_t g, const char *name, const float *v, size_t n) {
    hsize_t dim = n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    int rc = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 &&
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE) >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)
        d = H5Dcreate2(g, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d >= 0 && (n == 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)) rc = 0;
    if (d >= 0 && H5Dclose(d) < 0) rc = -1;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int valid_name(const char *s) {
    return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && strlen(s) < 200;
}

/* Hashes raw memory bytes: the datasets are float32 little-endian and read back to native floats,
 * so on the little-endian hosts rlgf runs on these are the file's bytes. */
static void hash_str(struct sha256_ctx *c, const char *s) {
    if (!s) s = "";
    sha256_update(c, strlen(s) + 1, (const uint8_t *)s);
}

static void to_hex(const uint8_t *b, char hex[65]) {
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", b[i]);
}

static void model_checksum(const model_t *m, const char *name, const char *config_text, char hex[65]) {
    struct sha256_ctx c;
    sha256_init(&c);
    hash_str(&c, "rlgf-model-v1");
    hash_str(&c, name);
    hash_str(&c, config_text);
    int64_t v[8] = {m->cfg.kind, m->cfg.head, m->cfg.vocab, m->cfg.max_seq, m->cfg.channels, m->cfg.layers,
                    m->cfg.heads, (int64_t)m->n_params};
    sha256_update(&c, sizeof v, (const uint8_t *)v);
    const float *arr[3] = {m->params, m->adam_m, m->adam_v};
    for (int k = 0; k < 3; k++) sha256_update(&c, m->n_params * sizeof(float), (const uint8_t *)arr[k]);
    uint8_t d[32];
    sha256_digest(&c, sizeof d, d);
    to_hex(d, hex);
}

static void state_checksum(const char *config_text, int64_t step, int n_scalars, const char *const *names,
                           const double *scalars, const void *blob, size_t blob_len, char hex[65]) {
    struct sha256_ctx c;
    sha256_init(&c);
    hash_str(&c, "rlgf-ckpt-v1");
    hash_str(&c, config_text);
    sha256_update(&c, sizeof step, (const uint8_t *)&step);
    for (int i = 0; i < n_scalars; i++) {
        hash_str(&c, names[i]);
        sha256_update(&c, sizeof(double), (const uint8_t *)&scalars[i]);
    }
    uint64_t bl = blob_len;
    sha256_update(&c, sizeof bl, (const uint8_t *)&bl);
    if (blob_len) sha256_update(&c, blob_len, blob);
    uint8_t d[32];
    sha256_digest(&c, sizeof d, d);
    to_hex(d, hex);
}

static int read_str_attr(hid_t obj, const char *name, char **text) {
    *text = NULL;
    if (H5Aexists(obj, name) <= 0) return H5Eclear2(H5E_DEFAULT), -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    int rc = -1;
    hid_t t = H5Aget_type(a);
    if (t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t)) {
        size_t n = H5Tget_size(t);
        *text = calloc(n + 1, 1);
        if (*text && H5Aread(a, t, *text) >= 0) rc = 0;
    }
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    if (rc) free(*text), *text = NULL;
    return rc;
}

static int save_model(hid_t models, const model_t *m, const char *name, const char *config_text) {
    char sum[65];
    model_checksum(m, name, config_text, sum);
    hid_t gcpl = make_gcpl(H5P_GROUP_CREATE);
    hid_t g = gcpl >= 0 ? H5Gcreate2(models, name, H5P_DEFAULT, gcpl, H5P_DEFAULT) : -1;
    if (gcpl >= 0) H5Pclose(gcpl);
    if (g < 0) return -1;
    int64_t np = (int64_t)m->n_params;
    int rc = write_i32(g, "kind", (int32_t)m->cfg.kind) < 0 || write_i32(g, "head", (int32_t)m->cfg.head) < 0 ||
                     write_i32(g, "vocab", m->cfg.vocab) < 0 || write_i32(g, "max_seq", m->cfg.max_seq) < 0 ||
                     write_i32(g, "channels", m->cfg.channels) < 0 || write_i32(g, "layers", m->cfg.layers) < 0 ||
                     write_i32(g, "heads", m->cfg.heads) < 0 ||
                     write_attr(g, "n_params", H5T_STD_I64LE, H5T_NATIVE_INT64, &np) < 0 ||
                     write_floats(g, "params", m->params, m->n_params) < 0 ||
                     write_floats(g, "adam_m", m->adam_m, m->n_params) < 0 ||
                     write_floats(g, "adam_v", m->adam_v, m->n_params) < 0 ||
                     write_str_attr(g, "checksum", sum) < 0
                 ? -1 : 0;
    if (H5Gclose(g) < 0) rc = -1;
    return rc;
}

/* /state: the scalars as float64 attributes and the blob as a uint8 dataset. */
static int save_state(hid_t f, const ckpt_extra_t *x) {
    hid_t gcpl = make_gcpl(H5P_GROUP_CREATE);
    hid_t g = gcpl >= 0 ? H5Gcreate2(f, "state", H5P_DEFAULT, gcpl, H5P_DEFAULT) : -1;
    if (gcpl >= 0) H5Pclose(gcpl);
    if (g < 0) return -1;
    int rc = 0;
    for (int i = 0; rc == 0 && i < x->n_scalars; i++)
        rc = write_attr(g, x->scalar_names[i], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &x->scalars[i]);
    if (rc == 0) {
        hsize_t n = x->blob_len;
        hid_t sp = H5Screate_simple(1, &n, NULL);
        hid_t d = sp >= 0 ? H5Dcreate2(g, "blob", H5T_STD_U8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
        if (d < 0 || (n > 0 && H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, x->blob) < 0)) rc = -1;
        if (d >= 0) H5Dclose(d);
        if (sp >= 0) H5Sclose(sp);
    }
    H5Gclose(g);
    return rc;
}

int ckpt_save(const char *path, model_t *const *models, const char *const *names, int n,
              const char *config_text, int64_t step, err_t *err) {
    return ckpt_save_ex(path, models, names, n, config_text, step, NULL, err);
}

static int ckpt_write(const char *path, model_t *const *models, const char *const *names, int n,
                      const char *config_text, int64_t step, const ckpt_extra_t *extra, err_t *err);

int ckpt_save_ex(const char *path, model_t *const *models, const char *const *names, int n,
                 const char *config_text, int64_t step, const ckpt_extra_t *extra, err_t *err) {
    H5Eset_auto(H5E_DEFAULT, NULL, NULL);
    if (!path || !*path) return err_set(err, "checkpoint: empty file name");
    if (n < 1) return err_set(err, "%s: no models to save", path);
    for (int i = 0; i < n; i++) {
        if (!valid_name(names[i]))
            return err_set(err, "%s: invalid model name '%s' (non-empty, no '/')", path, names[i] ? names[i] : "(null)");
        for (int j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0) return err_set(err, "%s: model name '%s' given twice", path, names[i]);
    }
    size_t need = 65536 + (extra ? extra->blob_len + 64 * (size_t)extra->n_scalars : 0);
    for (int i = 0; i < n; i++) need += 3 * models[i]->n_params * sizeof(float) + 4096;
    if (h5log_check_room(path, need, err)) return err_prefix(err, "checkpoint");
    /* A per-process temporary name: concurrent runs with a cold SL cache write the same
     * checkpoint; each renames its own complete file into place (the contents are equal). */
    /* SIGINT/SIGTERM/SIGHUP wait until the file is renamed into place or removed: an interrupted
     * sweep (or Ctrl-C) must not leave PATH.tmp.PID behind. The pool's workers block every
     * signal (sim/base/pool.c), so this thread is the only one they can reach. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = ckpt_write(path, models, names, n, config_text, step, extra, err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static int ckpt_write(const char *path, model_t *const *models, const char *const *names, int n,
                      const char *config_text, int64_t step, const ckpt_extra_t *extra, err_t *err) {
    char cause[300];
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) return err_set(err, "%s: out of memory", path);
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        err_set(err, "cannot create checkpoint '%s': %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    close(fd);
    int rc;
    hid_t fcpl = make_gcpl(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
    if (fcpl >= 0 && fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0 &&
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0) {
#if H5_VERSION_GE(1, 10, 7)
        H5Pset_file_locking(fapl, 1, 1); /* lock, but work on file systems without flock (NFS) */
#endif
        f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    }
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    rc = 0;
    if (f < 0) {
        rc = err_set(err, "cannot create checkpoint '%s': %s", tmp, h5log_error_cause(cause));
    } else {
        hid_t gcpl = make_gcpl(H5P_GROUP_CREATE), mg = -1;
        char sum[65];
        state_checksum(config_text, step, extra ? extra->n_scalars : 0, extra ? extra->scalar_names : NULL,
                       extra ? extra->scalars : NULL, extra ? extra->blob : NULL, extra ? extra->blob_len : 0, sum);
        if (write_str_attr(f, "config", config_text) < 0 ||
            write_attr(f, "step", H5T_STD_I64LE, H5T_NATIVE_INT64, &step) < 0 ||
            write_str_attr(f, "checksum", sum) < 0)
            rc = err_set(err, "%s: cannot write root attributes: %s", tmp, h5log_error_cause(cause));
        else if (gcpl < 0 || (mg = H5Gcreate2(f, "models", H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
            rc = err_set(err, "%s: cannot create group /models: %s", tmp, h5log_error_cause(cause));
        if (gcpl >= 0) H5Pclose(gcpl);
        for (int i = 0; rc == 0 && i < n; i++)
            if (save_model(mg, models[i], names[i], config_text) < 0)
                rc = err_set(err, "%s: cannot write model '%s': %s", tmp, names[i], h5log_error_cause(cause));
        if (mg >= 0) H5Gclose(mg);
        if (rc == 0 && extra && save_state(f, extra) < 0)
            rc = err_set(err, "%s: cannot write the run state: %s", tmp, h5log_error_cause(cause));
        if (H5Fclose(f) < 0 && rc == 0) rc = err_set(err, "%s: cannot close (disk full?): %s", tmp, h5log_error_cause(cause));
    }
    if (rc == 0) {
        fd = open(tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) rc = err_set(err, "%s: cannot sync to disk: %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = err_set(err, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    if (rc != 0) unlink(tmp);
    free(tmp);
    return rc;
}

static int read_i64_attr(hid_t obj, const char *name, long long *v) {
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    int rc = H5Aread(a, H5T_NATIVE_LLONG, v) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

static herr_t name_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    (void)g;
    (void)info;
    char *buf = data;
    size_t l = strlen(buf);
    if (l < 400) snprintf(buf + l, 512 - l, "%s'%s'", l ? ", " : "", name);
    return 0;
}

static int read_floats(hid_t g, const char *name, float *dst, size_t n) {
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    int rc = -1;
    if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 && (size_t)H5Sget_simple_extent_npoints(sp) == n)
        rc = (n == 0 || H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) >= 0) ? 0 : -1;
    else
        rc = -2;
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return rc;
}

model_t *ckpt_load(const char *path, const char *name, err_t *err) {
    char cause[300];
    struct stat st;
    H5Eset_auto(H5E_DEFAULT, NULL, NULL);
    if (stat(path, &st) != 0) {
        err_set(err, "cannot open checkpoint '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (!valid_name(name)) {
        err_set(err, "%s: invalid model name '%s'", path, name ? name : "(null)");
        return NULL;
    }
#if H5_VERSION_GE(1, 12, 0)
    htri_t is = H5Fis_accessible(path, H5P_DEFAULT);
#else
    htri_t is = H5Fis_hdf5(path);
#endif
    if (is == 0) {
        H5Eclear2(H5E_DEFAULT);
        err_set(err, "cannot open checkpoint '%s': not an HDF5 file", path);
        return NULL;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
    if (fapl >= 0) H5Pset_file_locking(fapl, 1, 1);
#endif
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
    if (fapl >= 0) H5Pclose(fapl);
    if (f < 0) {
        err_set(err, "cannot open checkpoint '%s' (truncated or damaged?): %s", path, h5log_error_cause(cause));
        return NULL;
    }
    model_t *m = NULL;
    hid_t mg = -1, g = -1;
    if (H5Lexists(f, "models", H5P_DEFAULT) <= 0 || (mg = H5Gopen2(f, "models", H5P_DEFAULT)) < 0) {
        err_set(err, "%s: not a checkpoint (no /models group)", path);
        goto done;
    }
    if (H5Lexists(mg, name, H5P_DEFAULT) <= 0 || (g = H5Gopen2(mg, name, H5P_DEFAULT)) < 0) {
        char have[512] = "";
        hsize_t idx = 0;
        H5Eclear2(H5E_DEFAULT);
        H5Literate(mg, H5_INDEX_NAME, H5_ITER_INC, &idx, name_cb, have);
        err_set(err, "%s: no model '%s' (it holds %s)", path, name, have[0] ? have : "none");
        goto done;
    }
    static const char *keys[] = {"kind", "head", "vocab", "max_seq", "channels", "layers", "heads", "n_params"};
    long long v[8];
    for (int k = 0; k < 8; k++)
        if (read_i64_attr(g, keys[k], &v[k]) < 0) {
            err_set(err, "%s: model '%s': missing or unreadable attribute '%s'", path, name, keys[k]);
            goto done;
        }
    model_config_t cfg = {.kind = (model_kind_t)v[0], .head = (head_kind_t)v[1], .vocab = (int)v[2],
                          .max_seq = (int)v[3], .channels = (int)v[4], .layers = (int)v[5], .heads = (int)v[6]};
    rng_t throwaway = {0, 1}; /* initial values are overwritten below */
    char errbuf[512] = "";
    m = model_create(&cfg, &throwaway, errbuf, sizeof errbuf);
    if (!m) {
        err_set(err, "%s: model '%s': invalid stored config: %s", path, name, errbuf);
        goto done;
    }
    if ((long long)m->n_params != v[7]) {
        err_set(err, "%s: model '%s' stores %lld parameters but its config builds %zu (checkpoint from another version?)",
                path, name, v[7], m->n_params);
        model_destroy(m);
        m = NULL;
        goto done;
    }
    static const char *dsets[] = {"params", "adam_m", "adam_v"};
    float *dst[] = {m->params, m->adam_m, m->adam_v};
    for (int k = 0; k < 3; k++) {
        int rc = read_floats(g, dsets[k], dst[k], m->n_params);
        if (rc < 0) {
            if (rc == -2)
                err_set(err, "%s: model '%s': dataset '%s' does not hold %zu values", path, name, dsets[k], m->n_params);
            else
                err_set(err, "%s: model '%s': cannot read dataset '%s': %s", path, name, dsets[k], h5log_error_cause(cause));
            model_destroy(m);
            m = NULL;
            goto done;
        }
    }
    memset(m->grads, 0, m->n_params * sizeof *m->grads);
    char *cfg_text = NULL, *stored = NULL, sum[65];
    if (read_str_attr(f, "config", &cfg_text) || read_str_attr(g, "checksum", &stored)) {
        err_set(err, "%s: model '%s' has no %s (written by an older rlgf?): not using it", path, name,
                cfg_text ? "checksum" : "config text");
        model_destroy(m);
        m = NULL;
    } else {
        model_checksum(m, name, cfg_text, sum);
        if (strcmp(sum, stored)) {
            err_set(err, "%s: model '%s': checksum mismatch: its weights, optimizer state or config text "
                    "changed after it was saved (damaged or edited file): not using it", path, name);
            model_destroy(m);
            m = NULL;
        }
    }
    free(cfg_text);
    free(stored);
done:
    if (g >= 0) H5Gclose(g);
    if (mg >= 0) H5Gclose(mg);
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    return m;
}

static hid_t open_ckpt_ro(const char *path, err_t *err) {
    char cause[300];
    H5Eset_auto(H5E_DEFAULT, NULL, NULL);
    if (access(path, R_OK) != 0) return err_set(err, "cannot open checkpoint '%s': %s", path, strerror(errno));
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return err_set(err, "cannot open checkpoint '%s' as HDF5: %s", path, h5log_error_cause(cause));
    return f;
}

int ckpt_read_state(const char *path, const char *name, double *value, err_t *err) {
    hid_t f = open_ckpt_ro(path, err);
    if (f < 0) return -1;
    hid_t g = H5Gopen2(f, "state", H5P_DEFAULT);
    hid_t a = g >= 0 ? H5Aopen(g, name, H5P_DEFAULT) : -1;
    int rc = a >= 0 && H5Aread(a, H5T_NATIVE_DOUBLE, value) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    if (rc) return err_set(err, "checkpoint '%s' has no run state '%s'", path, name);
    return 0;
}

int ckpt_read_blob(const char *path, void **blob, size_t *len, err_t *err) {
    *blob = NULL;
    *len = 0;
    hid_t f = open_ckpt_ro(path, err);
    if (f < 0) return -1;
    hid_t d = H5Dopen2(f, "state/blob", H5P_DEFAULT);
    int rc = -1;
    if (d >= 0) {
        hid_t sp = H5Dget_space(d);
        hssize_t n = H5Sget_simple_extent_npoints(sp);
        *blob = malloc((size_t)n + 1);
        if (*blob && (n == 0 || H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, *blob) >= 0)) {
            *len = (size_t)n;
            rc = 0;
        }
        H5Sclose(sp);
        H5Dclose(d);
    }
    H5Fclose(f);
    if (rc) {
        free(*blob);
        *blob = NULL;
        return err_set(err, "checkpoint '%s': cannot read its saved run log", path);
    }
    return 0;
}

int ckpt_read_config(const char *path, char **text, err_t *err) {
    *text = NULL;
    hid_t f = open_ckpt_ro(path, err);
    if (f < 0) return -1;
    hid_t a = H5Aopen(f, "config", H5P_DEFAULT);
    int rc = -1;
    if (a >= 0) {
        hid_t t = H5Aget_type(a);
        size_t n = H5Tget_size(t);
        *text = calloc(n + 1, 1);
        if (*text && H5Aread(a, t, *text) >= 0) rc = 0;
        H5Tclose(t);
        H5Aclose(a);
    }
    H5Fclose(f);
    if (rc) {
        free(*text);
        *text = NULL;
        return err_set(err, "checkpoint '%s' has no config", path);
    }
    return 0;
}

int ckpt_verify(const char *path, int n_scalars, const char *const *names, err_t *err) {
    hid_t f = open_ckpt_ro(path, err);
    if (f < 0) return -1;
    char *cfg = NULL, *stored = NULL, sum[65];
    long long step = 0;
    double *sc = calloc((size_t)n_scalars + 1, sizeof *sc);
    void *blob = NULL;
    size_t blen = 0;
    int rc = -1;
    if (!sc) {
        err_set(err, "%s: out of memory", path);
    } else if (read_str_attr(f, "config", &cfg) || read_i64_attr(f, "step", &step)) {
        err_set(err, "checkpoint '%s': no config text or step", path);
    } else if (read_str_attr(f, "checksum", &stored)) {
        err_set(err, "checkpoint '%s' has no checksum (written by an older rlgf?): not using it", path);
    } else {
        rc = 0;
        hid_t g = n_scalars > 0 ? H5Gopen2(f, "state", H5P_DEFAULT) : -1;
        for (int i = 0; i < n_scalars && rc == 0; i++) {
            hid_t a = g >= 0 ? H5Aopen(g, names[i], H5P_DEFAULT) : -1;
            if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &sc[i]) < 0) rc = err_set(err, "checkpoint '%s' has no run state '%s'", path, names[i]);
            if (a >= 0) H5Aclose(a);
        }
        if (g >= 0) H5Gclose(g);
    }
    H5Fclose(f);
    H5Eclear2(H5E_DEFAULT);
    if (rc == 0 && n_scalars > 0 && ckpt_read_blob(path, &blob, &blen, err)) rc = -1;
    if (rc == 0) {
        state_checksum(cfg, (int64_t)step, n_scalars, names, sc, blob, blen, sum);
        if (strcmp(sum, stored))
            rc = err_set(err, "checkpoint '%s': checksum mismatch: its run state, saved run log or config text "
                         "changed after it was saved (damaged or edited file): not using it", path);
    }
    free(cfg);
    free(stored);
    free(sc);
    free(blob);
    return rc;
}
