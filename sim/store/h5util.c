/* h5util: HDF5 building blocks shared by the run log, checkpoints and exports, and the forked
 * isolation of reads of files a user hands us. */
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

/* ---------------------------------------------------------------- HDF5 helpers ------------- */

void h5util_quiet(void) { H5Eset_auto(H5E_DEFAULT, NULL, NULL); }

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

hid_t h5util_mem_type(h5col_type_t t) {
    switch (t) {
    case H5COL_F64: return H5T_NATIVE_DOUBLE;
    case H5COL_F32: return H5T_NATIVE_FLOAT;
    case H5COL_I64: return H5T_NATIVE_INT64;
    case H5COL_I32: return H5T_NATIVE_INT32;
    case H5COL_U8: return H5T_NATIVE_UINT8;
    }
    return -1;
}
hid_t h5util_file_type(h5col_type_t t) {
    switch (t) {
    case H5COL_F64: return H5T_IEEE_F64LE;
    case H5COL_F32: return H5T_IEEE_F32LE;
    case H5COL_I64: return H5T_STD_I64LE;
    case H5COL_I32: return H5T_STD_I32LE;
    case H5COL_U8: return H5T_STD_U8LE;
    }
    return -1;
}
size_t h5util_elem_size(h5col_type_t t) {
    static const size_t sz[] = {8, 4, 8, 4, 1};
    return (unsigned)t < 5 ? sz[t] : 0;
}
const char *h5util_type_name(h5col_type_t t) {
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


/* Owner-only creation checks: open(2) tells us the real cause (errno) for an unwritable or
 * missing directory, which HDF5's own stack only buries in a long message. */
hid_t h5util_write_dataset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                           const void *buf) {
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int ok = sp >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0 &&
             H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0;
    hid_t d = ok ? H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT) : -1;
    ok = d >= 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    if (!ok && d >= 0) H5Dclose(d);
    return ok ? d : -1;
}

int h5util_probe_writable(const char *file, err_t *err, const char *what) {
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return err_set(err, "cannot create %s '%s': %s", what, file, strerror(errno));
    close(fd);
    return 0;
}

int h5util_fsync_path(const char *file) {
    int fd = open(file, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

hid_t h5util_make_fapl_rw(void) {
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
    h5util_quiet();
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
    if (f < 0) h5log_error_cause(cause); /* before H5Pclose, which clears the error stack */
    H5Pclose(fapl);
    if (f < 0) return err_set(err, "cannot open '%s' as HDF5 (truncated or damaged file?): %s", path, cause);
    return f;
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


