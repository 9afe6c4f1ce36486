/* The HDF5 run log: byte-identical files for identical appends, a digest that sees every value but
 * not timing/ or the storage layout, a readable partial file after a kill, and errors that name
 * the file. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <hdf5.h>

#include "../sim/store/h5log.h"

static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rlgf_h5log_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tpath(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static unsigned char *slurp(const char *p, size_t *n) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static char *big_config(void) {
    /* Larger than the 64 KiB object-header message limit: must go to dense attribute storage. */
    size_t cap = 100000, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "[run]\nseed = 7\ntask = toy\n[ppo]\n");
    for (int i = 0; len + 64 < cap; i++) len += (size_t)snprintf(s + len, cap - len, "key_%05d = %d\n", i, i * 3);
    return s;
}

/* One complete run: `iters` iterations of table rows, trajectories with ragged token arrays that
 * span several chunks, eval rows, optional timing. `tweak` changes one logged value. */
typedef struct {
    int iters, timing, tweak, flush, close_complete;
    const char *version; /* program_version, "v0-test" when NULL */
} run_opts_t;

static h5log_t *write_run_open(const char *path, const run_opts_t *o) {
    err_t err = {{0}};
    char *cfg = big_config();
    char hash[65];
    sha256_hex(cfg, strlen(cfg), hash);
    h5log_meta_t meta = {.task = "toy_bandit", .algo = "ppo", .program_version = o->version ? o->version : "v0-test",
                         .config_text = cfg, .config_hash = hash, .seed = 7};
    h5log_t *log = h5log_create(path, &meta, &err);
    free(cfg);
    if (!log) fail_msg("h5log_create: %s", err.msg);
    for (int it = 0; it < o->iters; it++) {
        int64_t iter = it, tokens_so_far = (int64_t)(it + 1) * 30000;
        double reward = 0.25 * it + (o->tweak && it == 1 ? 1e-12 : 0), kl = 0.01 / (it + 1);
        assert_int_equal(h5log_append(log, "iterations/iteration", H5COL_I64, &iter, 1, &err), 0);
        assert_int_equal(h5log_append(log, "iterations/tokens", H5COL_I64, &tokens_so_far, 1, &err), 0);
        assert_int_equal(h5log_append(log, "iterations/mean_reward", H5COL_F64, &reward, 1, &err), 0);
        assert_int_equal(h5log_append(log, "iterations/mean_kl", H5COL_F64, &kl, 1, &err), 0);
        /* 10 trajectories of 3000 tokens each */
        int32_t titer[10], len[10];
        int64_t off[10];
        float ret[10];
        for (int j = 0; j < 10; j++) {
            titer[j] = it;
            len[j] = 3000;
            off[j] = (int64_t)it * 30000 + j * 3000;
            ret[j] = (float)(j * 0.1 + it);
        }
        assert_int_equal(h5log_append(log, "trajectories/iteration", H5COL_I32, titer, 10, &err), 0);
        assert_int_equal(h5log_append(log, "trajectories/length", H5COL_I32, len, 10, &err), 0);
        assert_int_equal(h5log_append(log, "trajectories/token_offset", H5COL_I64, off, 10, &err), 0);
        assert_int_equal(h5log_append(log, "trajectories/return", H5COL_F32, ret, 10, &err), 0);
        int32_t *tok = malloc(30000 * sizeof *tok);
        uint8_t *actor = malloc(30000);
        float *logp = malloc(30000 * sizeof *logp);
        for (int t = 0; t < 30000; t++) {
            tok[t] = (t * 7 + it) % 50;
            actor[t] = (uint8_t)((t / 100) % 3);
            logp[t] = -0.001f * (float)((t + it) % 997);
        }
        assert_int_equal(h5log_append(log, "trajectories/token", H5COL_I32, tok, 30000, &err), 0);
        assert_int_equal(h5log_append(log, "trajectories/actor", H5COL_U8, actor, 30000, &err), 0);
        assert_int_equal(h5log_append(log, "trajectories/logp", H5COL_F32, logp, 30000, &err), 0);
        free(tok);
        free(actor);
        free(logp);
        if (it % 2 == 0) {
            for (int split = 1; split <= 2; split++) {
                int64_t ei = it, es = split, who = 0;
                double m = 0.5 + 0.01 * it + split, sd = 0.1;
                assert_int_equal(h5log_append(log, "eval/iteration", H5COL_I64, &ei, 1, &err), 0);
                assert_int_equal(h5log_append(log, "eval/split", H5COL_I64, &es, 1, &err), 0);
                assert_int_equal(h5log_append(log, "eval/who", H5COL_I64, &who, 1, &err), 0);
                assert_int_equal(h5log_append(log, "eval/reward_mean", H5COL_F64, &m, 1, &err), 0);
                assert_int_equal(h5log_append(log, "eval/reward_std", H5COL_F64, &sd, 1, &err), 0);
            }
        }
        if (o->timing) {
            double secs = 0.123 * (it + 1);
            assert_int_equal(h5log_append(log, "timing/iteration_seconds", H5COL_F64, &secs, 1, &err), 0);
        }
        if (o->flush) assert_int_equal(h5log_flush(log, &err), 0);
    }
    return log;
}

static void write_run(const char *path, const run_opts_t *o) {
    err_t err = {{0}};
    h5log_t *log = write_run_open(path, o);
    if (h5log_close(log, o->close_complete, &err) != 0) fail_msg("h5log_close: %s", err.msg);
}

static void assert_same_bytes(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb);
    assert_non_null(ba);
    assert_non_null(bb);
    assert_true(na > 0);
    if (na != nb) fail_msg("%s has %zu bytes, %s has %zu", a, na, b, nb);
    for (size_t i = 0; i < na; i++)
        if (ba[i] != bb[i]) fail_msg("%s and %s differ at byte %zu", a, b, i);
    free(ba);
    free(bb);
}

static void test_identical_appends_give_identical_bytes(void **state) {
    (void)state;
    run_opts_t o = {.iters = 5, .flush = 1, .close_complete = 1};
    write_run(tpath("a.h5"), &o);
    write_run(tpath("sub_b.h5"), &o);
    assert_true(file_exists(tpath("a.h5")));
    assert_false(file_exists(tpath("a.h5.partial")));
    assert_same_bytes(tpath("a.h5"), tpath("sub_b.h5"));
    /* The contract covers equal sequences of appends and flushes; without flushes too: */
    run_opts_t o2 = {.iters = 5, .flush = 0, .close_complete = 1};
    write_run(tpath("c.h5"), &o2);
    write_run(tpath("d.h5"), &o2);
    assert_same_bytes(tpath("c.h5"), tpath("d.h5"));
    /* A second later (object times would differ by now), over an existing file: same bytes. */
    sleep(1);
    write_run(tpath("a.h5"), &o);
    assert_same_bytes(tpath("a.h5"), tpath("sub_b.h5"));
}

static void test_digest_equal_content_and_sensitivity(void **state) {
    (void)state;
    err_t err = {{0}};
    run_opts_t o = {.iters = 4, .flush = 1, .close_complete = 1};
    write_run(tpath("e1.h5"), &o);
    write_run(tpath("e2.h5"), &o);
    /* Same content written without flushes: other bytes on disk, same logical content. */
    run_opts_t nf = o;
    nf.flush = 0;
    write_run(tpath("e3.h5"), &nf);
    run_opts_t tw = o;
    tw.tweak = 1;
    write_run(tpath("e4.h5"), &tw);
    char d1[65], d2[65], d3[65], d4[65];
    assert_int_equal(h5log_digest(tpath("e1.h5"), d1, &err), 0);
    assert_int_equal(h5log_digest(tpath("e2.h5"), d2, &err), 0);
    assert_int_equal(h5log_digest(tpath("e3.h5"), d3, &err), 0);
    assert_int_equal(h5log_digest(tpath("e4.h5"), d4, &err), 0);
    assert_int_equal(strlen(d1), 64);
    assert_string_equal(d1, d2);
    assert_string_equal(d1, d3);
    assert_string_not_equal(d1, d4); /* one float64 differs by 1e-12 */
    /* Another program version (every commit has one) leaves the digest alone. */
    run_opts_t ver = o;
    ver.version = "v9-other-dirty";
    write_run(tpath("e6.h5"), &ver);
    char d6[65];
    assert_int_equal(h5log_digest(tpath("e6.h5"), d6, &err), 0);
    assert_string_equal(d1, d6);
    /* Other chunking and no compression (h5repack, when installed; -L because the 100 KB config
     * attribute needs the 1.8 format): same logical content, same digest. */
    if (system("command -v h5repack >/dev/null 2>&1") == 0) {
        char cmd[1400], d7[65];
        snprintf(cmd, sizeof cmd, "h5repack -L -f NONE -l CHUNK=1000 '%s' '%s' >/dev/null 2>&1", tpath("e1.h5"),
                 tpath("e7.h5"));
        assert_int_equal(system(cmd), 0);
        assert_int_equal(h5log_digest(tpath("e7.h5"), d7, &err), 0);
        assert_string_equal(d1, d7);
    }
    /* The complete flag is content: a partial file of the same appends digests differently. */
    run_opts_t inc = o;
    inc.close_complete = 0;
    write_run(tpath("e5.h5"), &inc);
    char d5[65];
    assert_int_equal(h5log_digest(tpath("e5.h5.partial"), d5, &err), 0);
    assert_string_not_equal(d1, d5);
}

/* A NaN's sign and payload come from the CPU and the compiler's operand order: the writer stores
 * every NaN as the one quiet NaN, so two runs whose values differ only in NaN bits write the same
 * bytes (and a diverged run's log is portable too). */
static void write_nans(const char *path, int variant) {
    err_t err = {{0}};
    h5log_meta_t meta = {.task = "toy_bandit", .algo = "ppo", .program_version = "v0-test", .config_text = "seed = 1\n",
                         .config_hash = "0", .seed = 1};
    h5log_t *log = h5log_create(path, &meta, &err);
    if (!log) fail_msg("h5log_create: %s", err.msg);
    uint64_t d_bits[3] = {0x7FF8000000000000ull, 0xFFF8000000000000ull, 0x7FF0000000000123ull}; /* +q, -q, signalling */
    uint32_t f_bits[3] = {0x7FC00000u, 0xFFC00000u, 0x7FC00ABCu};
    double d[4] = {1.5, 0, 0, -2.0};
    float f[4] = {0.25f, 0, 0, 3.0f};
    memcpy(&d[1], &d_bits[variant], sizeof(double));
    memcpy(&d[2], &d_bits[(variant + 1) % 3], sizeof(double));
    memcpy(&f[1], &f_bits[variant], sizeof(float));
    memcpy(&f[2], &f_bits[(variant + 2) % 3], sizeof(float));
    assert_int_equal(h5log_append(log, "iterations/mean_reward", H5COL_F64, d, 4, &err), 0);
    assert_int_equal(h5log_append(log, "iterations/mean_kl", H5COL_F32, f, 4, &err), 0);
    assert_int_equal(h5log_close(log, 1, &err), 0);
    /* the caller's buffers are left as they were */
    assert_memory_equal(&d[1], &d_bits[variant], sizeof(double));
    assert_memory_equal(&d[2], &d_bits[(variant + 1) % 3], sizeof(double));
    assert_memory_equal(&f[1], &f_bits[variant], sizeof(float));
    assert_memory_equal(&f[2], &f_bits[(variant + 2) % 3], sizeof(float));
}

static void test_nan_bits_canonical(void **state) {
    (void)state;
    write_nans(tpath("n0.h5"), 0);
    write_nans(tpath("n1.h5"), 1);
    write_nans(tpath("n2.h5"), 2);
    assert_same_bytes(tpath("n0.h5"), tpath("n1.h5"));
    assert_same_bytes(tpath("n0.h5"), tpath("n2.h5"));
}

static void test_digest_ignores_timing(void **state) {
    (void)state;
    err_t err = {{0}};
    run_opts_t o = {.iters = 3, .flush = 1, .close_complete = 1};
    write_run(tpath("t1.h5"), &o);
    o.timing = 1;
    write_run(tpath("t2.h5"), &o);
    char d1[65], d2[65];
    assert_int_equal(h5log_digest(tpath("t1.h5"), d1, &err), 0);
    assert_int_equal(h5log_digest(tpath("t2.h5"), d2, &err), 0);
    assert_string_equal(d1, d2);
    size_t n1, n2;
    unsigned char *b1 = slurp(tpath("t1.h5"), &n1), *b2 = slurp(tpath("t2.h5"), &n2);
    assert_true(n1 != n2 || memcmp(b1, b2, n1) != 0); /* the files themselves differ */
    free(b1);
    free(b2);
}

static long long rows_of(hid_t f, const char *dset) {
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    long long n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    H5Dclose(d);
    return n;
}

static void test_partial_file_readable_after_kill(void **state) {
    (void)state;
    const char *path = tpath("killed.h5");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        run_opts_t o = {.iters = 3, .flush = 1};
        write_run_open(path, &o); /* never closed */
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_false(file_exists(path));
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    assert_true(file_exists(partial));
    hid_t f = H5Fopen(partial, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_int_equal(rows_of(f, "/iterations/iteration"), 3);
    assert_int_equal(rows_of(f, "/iterations/mean_kl"), 3);
    assert_int_equal(rows_of(f, "/trajectories/length"), 30);
    assert_int_equal(rows_of(f, "/trajectories/token"), 90000);
    assert_int_equal(rows_of(f, "/eval/reward_mean"), 4);
    H5Fclose(f);
    err_t err = {{0}};
    char d[65];
    assert_int_equal(h5log_digest(partial, d, &err), 0);
    /* The command-line reader too, when installed. */
    if (system("command -v h5dump >/dev/null 2>&1") == 0) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "h5dump -d /iterations/iteration '%s' > '%s/h5dump.out' 2>&1", partial, tmpdir);
        assert_int_equal(system(cmd), 0);
        size_t n;
        unsigned char *out = slurp(tpath("h5dump.out"), &n);
        out[n] = 0;
        assert_non_null(strstr((char *)out, "(0): 0, 1, 2"));
        free(out);
    }
}

static void test_create_errors_name_the_path(void **state) {
    (void)state;
    err_t err = {{0}};
    h5log_meta_t meta = {.task = "t", .algo = "a", .seed = 1};
    const char *missing = "/nonexistent_rlgf_dir/sub/run.h5";
    assert_null(h5log_create(missing, &meta, &err));
    assert_non_null(strstr(err.msg, missing));
    assert_non_null(strstr(err.msg, "No such file or directory"));
    assert_false(file_exists(missing));

    /* A directory component that is a regular file. */
    FILE *fp = fopen(tpath("plainfile"), "w");
    fputs("x", fp);
    fclose(fp);
    const char *notdir = tpath("plainfile/run.h5");
    memset(&err, 0, sizeof err);
    assert_null(h5log_create(notdir, &meta, &err));
    assert_non_null(strstr(err.msg, notdir));
    assert_non_null(strstr(err.msg, "Not a directory"));

    /* A read-only directory (root ignores permissions, so only checked for other users). */
    if (geteuid() != 0) {
        const char *ro = tpath("ro");
        assert_int_equal(mkdir(ro, 0500), 0);
        char p[600];
        snprintf(p, sizeof p, "%s/run.h5", ro);
        memset(&err, 0, sizeof err);
        assert_null(h5log_create(p, &meta, &err));
        assert_non_null(strstr(err.msg, p));
        assert_non_null(strstr(err.msg, "Permission denied"));
        assert_false(file_exists(p));
        chmod(ro, 0700);
    }
}

static void test_digest_and_info_errors_name_the_file(void **state) {
    (void)state;
    err_t err = {{0}};
    char d[65];
    const char *garbage = tpath("garbage.h5");
    FILE *fp = fopen(garbage, "w");
    for (int i = 0; i < 5000; i++) fputc(i * 31 % 251, fp);
    fclose(fp);
    assert_int_equal(h5log_digest(garbage, d, &err), -1);
    assert_non_null(strstr(err.msg, garbage));
    assert_non_null(strstr(err.msg, "not an HDF5 file"));

    memset(&err, 0, sizeof err);
    const char *missing = tpath("does_not_exist.h5");
    assert_int_equal(h5log_digest(missing, d, &err), -1);
    assert_non_null(strstr(err.msg, missing));
    assert_non_null(strstr(err.msg, "No such file"));

    memset(&err, 0, sizeof err);
    assert_int_equal(h5log_info(missing, stdout, &err), -1);
    assert_non_null(strstr(err.msg, missing));

    /* A truncated run log: the superblock survives, the rest does not. */
    run_opts_t o = {.iters = 2, .flush = 1, .close_complete = 1};
    write_run(tpath("trunc.h5"), &o);
    struct stat st;
    assert_int_equal(stat(tpath("trunc.h5"), &st), 0);
    assert_int_equal(truncate(tpath("trunc.h5"), st.st_size / 3), 0);
    memset(&err, 0, sizeof err);
    assert_int_equal(h5log_digest(tpath("trunc.h5"), d, &err), -1);
    assert_non_null(strstr(err.msg, tpath("trunc.h5")));
}

static void test_info_output(void **state) {
    (void)state;
    err_t err = {{0}};
    run_opts_t o = {.iters = 3, .flush = 1, .close_complete = 1, .timing = 1};
    const char *path = tpath("info.h5");
    write_run(path, &o);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(h5log_info(path, out, &err), 0);
    fclose(out);
    char line[600];
    snprintf(line, sizeof line, "file:              %s\n", path);
    assert_non_null(strstr(buf, line));
    assert_non_null(strstr(buf, "complete:          yes\n"));
    assert_non_null(strstr(buf, "schema_version:    1\n"));
    assert_non_null(strstr(buf, "program_version:   v0-test\n"));
    assert_non_null(strstr(buf, "task:              toy_bandit\n"));
    assert_non_null(strstr(buf, "algo:              ppo\n"));
    assert_non_null(strstr(buf, "seed:              7\n"));
    assert_non_null(strstr(buf, "config_hash:       "));
    assert_non_null(strstr(buf, "config:\n    [run]\n    seed = 7\n"));
    assert_non_null(strstr(buf, "iterations:        3\n"));
    assert_non_null(strstr(buf, "final iteration metrics:\n"));
    assert_non_null(strstr(buf, "    mean_reward  0.5\n"));
    assert_non_null(strstr(buf, "    tokens       90000\n"));
    assert_non_null(strstr(buf, "eval: 4 row(s)\n"));
    assert_non_null(strstr(buf, "reward_mean"));
    if (getenv("RLGF_SHOW_INFO")) fputs(buf, stdout);
    const char *hdr = strstr(buf, "eval: 4 row(s)\n"), *hdr_end = hdr ? strstr(hdr, "datasets:") : NULL;
    assert_non_null(hdr_end);
    assert_null(memmem(hdr, (size_t)(hdr_end - hdr), "reward_std", 10)); /* only *_mean columns */
    assert_non_null(strstr(buf, " validation    learner"));
    assert_non_null(strstr(buf, "/trajectories/token         (90000)  int32\n"));
    assert_non_null(strstr(buf, "/trajectories/actor         (90000)  uint8\n"));
    assert_non_null(strstr(buf, "/timing/iteration_seconds   (3)      float64\n"));
    free(buf);

    /* A partial file says so. */
    o.close_complete = 0;
    write_run(tpath("info2.h5"), &o);
    out = open_memstream(&buf, &len);
    assert_int_equal(h5log_info(tpath("info2.h5.partial"), out, &err), 0);
    fclose(out);
    assert_non_null(strstr(buf, "complete:          no\n"));
    free(buf);
}

static void test_append_checks(void **state) {
    (void)state;
    err_t err = {{0}};
    h5log_meta_t meta = {.task = "t", .algo = "a", .seed = 1};
    const char *path = tpath("checks.h5");
    h5log_t *log = h5log_create(path, &meta, &err);
    assert_non_null(log);
    int64_t i = 0;
    double x = 1;
    assert_int_equal(h5log_append(log, "iterations/iteration", H5COL_I64, &i, 1, &err), 0);
    assert_int_equal(h5log_append(log, "iterations/loss", H5COL_F64, &x, 1, &err), 0);
    /* type mismatch */
    assert_int_equal(h5log_append(log, "iterations/loss", H5COL_F32, &x, 1, &err), -1);
    assert_non_null(strstr(err.msg, "iterations/loss"));
    assert_non_null(strstr(err.msg, path));
    /* a column running ahead of the row key */
    assert_int_equal(h5log_append(log, "iterations/loss", H5COL_F64, &x, 1, &err), -1);
    assert_non_null(strstr(err.msg, "iterations/loss"));
    /* bad names */
    assert_int_equal(h5log_append(log, "noslash", H5COL_F64, &x, 1, &err), -1);
    assert_int_equal(h5log_append(log, "/abs/x", H5COL_F64, &x, 1, &err), -1);
    assert_int_equal(h5log_append(log, "a//b", H5COL_F64, &x, 1, &err), -1);
    /* n = 0 creates an empty column; nested groups work; ragged groups are not checked */
    assert_int_equal(h5log_append(log, "trajectories/metric_x", H5COL_F32, NULL, 0, &err), 0);
    float f[3] = {1, 2, 3};
    assert_int_equal(h5log_append(log, "trajectories/extra/a", H5COL_F32, f, 3, &err), 0);
    assert_int_equal(h5log_append(log, "trajectories/extra/b", H5COL_F32, f, 1, &err), 0);
    /* the next row: key first, then the others */
    i = 1;
    assert_int_equal(h5log_append(log, "iterations/iteration", H5COL_I64, &i, 1, &err), 0);
    /* complete=1 refuses a ragged table (loss is one row short) */
    assert_int_equal(h5log_close(log, 1, &err), -1);
    assert_non_null(strstr(err.msg, "iterations/loss"));
    assert_false(file_exists(path));
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    assert_true(file_exists(partial));
}

/* Columns named by the schema's ids: every row of the table is filled, the names come from its
 * paths (wildcards filled in), and a type other than the table's is refused. */
static void test_schema_columns(void **state) {
    (void)state;
    for (int r = 0; r < SCHEMA_ROWS; r++) assert_non_null(SCHEMA[r].path);
    char name[64];
    assert_int_equal(schema_dataset(COL_TR_LOGP, NULL, name, sizeof name), 0);
    assert_string_equal(name, "trajectories/logp");
    assert_int_equal(schema_dataset(COL_TR_METRIC, "bleu", name, sizeof name), 0);
    assert_string_equal(name, "trajectories/metric_bleu");
    assert_int_equal(schema_dataset(COL_EV_STD, "reward", name, sizeof name), 0);
    assert_string_equal(name, "eval/reward_std");
    assert_int_equal(schema_dataset(COL_EV_MEAN, NULL, name, sizeof name), -1);   /* a wildcard needs its text */
    assert_int_equal(schema_dataset(ATTR_COMPLETE, NULL, name, sizeof name), -1); /* not a dataset */
    assert_int_equal(schema_dataset(COL_TR_TOKEN_OFFSET, NULL, name, 8), -1);     /* does not fit */
    err_t err = {{0}};
    h5log_meta_t meta = {.task = "t", .algo = "a", .seed = 1};
    h5log_t *log = h5log_create(tpath("schema_cols.h5"), &meta, &err);
    assert_non_null(log);
    assert_int_equal(h5log_append_i64(log, COL_IT_ITERATION, 0, &err), 0);
    assert_int_equal(h5log_append_f64(log, COL_IT_ITERATION, 0, &err), -1);
    assert_non_null(strstr(err.msg, "the schema says int64"));
    assert_int_equal(h5log_append_f64(log, COL_IT_REWARD, 0.5, &err), 0);
    float f = 1;
    assert_int_equal(h5log_append_col(log, COL_TR_METRIC, "x", H5COL_F32, &f, 1, &err), -1);
    assert_int_equal(h5log_append_col(log, COL_TR_LOGP, NULL, H5COL_F32, &f, 1, &err), 0);
    assert_int_equal(h5log_close(log, 1, &err), 0);
    double *v = NULL;
    size_t n = 0;
    assert_int_equal(h5log_read_column(tpath("schema_cols.h5"), "iterations/reward", &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(v[0] == 0.5);
    free(v);
}

static void test_close_incomplete_keeps_old_file(void **state) {
    (void)state;
    err_t err = {{0}};
    run_opts_t o = {.iters = 2, .flush = 1, .close_complete = 1};
    const char *path = tpath("keep.h5");
    write_run(path, &o);
    char d_old[65], d_now[65];
    assert_int_equal(h5log_digest(path, d_old, &err), 0);
    o.iters = 1;
    o.close_complete = 0; /* a failed rerun does not clobber the complete file */
    write_run(path, &o);
    assert_int_equal(h5log_digest(path, d_now, &err), 0);
    assert_string_equal(d_old, d_now);
    o.close_complete = 1; /* a successful one replaces it */
    write_run(path, &o);
    assert_int_equal(h5log_digest(path, d_now, &err), 0);
    assert_string_not_equal(d_old, d_now);
}

static void test_sha256_hex(void **state) {
    (void)state;
    char h[65];
    sha256_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_identical_appends_give_identical_bytes), cmocka_unit_test(test_nan_bits_canonical),
        cmocka_unit_test(test_digest_equal_content_and_sensitivity),
        cmocka_unit_test(test_digest_ignores_timing),
        cmocka_unit_test(test_partial_file_readable_after_kill),
        cmocka_unit_test(test_create_errors_name_the_path),
        cmocka_unit_test(test_digest_and_info_errors_name_the_file),
        cmocka_unit_test(test_info_output),
        cmocka_unit_test(test_append_checks),
        cmocka_unit_test(test_schema_columns),
        cmocka_unit_test(test_close_incomplete_keeps_old_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
