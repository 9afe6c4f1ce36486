/* rlgf diff on small hand-made run logs: equal files, a 1-ulp float difference located at its
 * iteration, trajectory and token and shown in hex, --tol, NaN rules, config keys, a longer
 * trajectory that does not shift the rest, datasets in one file only, run order across tables,
 * and bad input named. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <hdf5.h>

#include "../analysis/diff.h"
#include "../sim/store/h5log.h"

static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    h5log_init();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rlgf_diff_XXXXXX");
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

typedef struct {
    const char *config;
    int bump_logp;   /* one ulp more on the logp of training trajectory 1, token 2 */
    int nan_logp;    /* that logp is NaN: 1 quiet NaN, 2 a NaN with another payload (patched in after
                        the writer, which stores every NaN as the quiet NaN: a file from elsewhere) */
    int longer;      /* training trajectory 1 has one more token */
    int extra;       /* a dataset the other file lacks */
    int bump_reward; /* iterations/reward of iteration 0 a little larger */
    int eval1_token; /* the first token of the evaluation at iteration 1 differs */
} spec_t;

static float bump_ulp(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    u++;
    memcpy(&x, &u, 4);
    return x;
}

/* Batches in run order: evaluation at 0 (2 trajectories), training iteration 0 (3), evaluation
 * at 1 (2); each followed by its eval/ or iterations/ row, as rlgf train writes them. */
static void write_log(const char *path, const spec_t *s) {
    err_t err;
    h5log_meta_t meta = {"toy_match", "ppo", "test", s->config ? s->config : "a = 1\nb = 2\n", "hash", 0};
    h5log_t *L = h5log_create(path, &meta, &err);
    assert_non_null(L);
    static const int64_t it[] = {0, 0, 1}, split[] = {1, 0, 1}, nb[] = {2, 3, 2};
    int64_t t = 0, off = 0, nan_row = -1;
    for (int b = 0; b < 3; b++) {
        for (int64_t j = 0; j < nb[b]; j++, t++) {
            int32_t len = b == 1 && j == 1 ? 3 + (s->longer ? 1 : 0) : 2;
            int64_t prompt = b == 1 ? 10 + j : j;
            int32_t sp = (int32_t)split[b], who = 0;
            assert_int_equal(h5log_append(L, "trajectories/iteration", H5COL_I64, &it[b], 1, &err), 0);
            assert_int_equal(h5log_append(L, "trajectories/split", H5COL_I32, &sp, 1, &err), 0);
            assert_int_equal(h5log_append(L, "trajectories/who", H5COL_I32, &who, 1, &err), 0);
            assert_int_equal(h5log_append(L, "trajectories/prompt_index", H5COL_I64, &prompt, 1, &err), 0);
            assert_int_equal(h5log_append(L, "trajectories/length", H5COL_I32, &len, 1, &err), 0);
            assert_int_equal(h5log_append(L, "trajectories/token_offset", H5COL_I64, &off, 1, &err), 0);
            for (int32_t p = 0; p < len; p++) {
                int32_t tok = (int32_t)(100 * t + p);
                float logp = -0.5f - 0.01f * (float)(10 * t + p);
                if (b == 1 && j == 1 && p == 2) {
                    if (s->bump_logp) logp = bump_ulp(logp);
                    if (s->nan_logp) logp = NAN, nan_row = off + p;
                }
                if (b == 2 && j == 0 && p == 0 && s->eval1_token) tok = 999;
                assert_int_equal(h5log_append(L, "trajectories/token", H5COL_I32, &tok, 1, &err), 0);
                assert_int_equal(h5log_append(L, "trajectories/logp", H5COL_F32, &logp, 1, &err), 0);
            }
            off += len;
        }
        if (split[b] == 0) {
            double reward = 0.25 + (s->bump_reward ? 1e-3 : 0);
            assert_int_equal(h5log_append(L, "iterations/iteration", H5COL_I64, &it[b], 1, &err), 0);
            assert_int_equal(h5log_append(L, "iterations/reward", H5COL_F64, &reward, 1, &err), 0);
            if (s->extra) assert_int_equal(h5log_append(L, "iterations/extra", H5COL_F64, &reward, 1, &err), 0);
        } else {
            int64_t who = 0, n = nb[b];
            double mean = 0.5 + (double)b;
            assert_int_equal(h5log_append(L, "eval/iteration", H5COL_I64, &it[b], 1, &err), 0);
            assert_int_equal(h5log_append(L, "eval/split", H5COL_I64, &split[b], 1, &err), 0);
            assert_int_equal(h5log_append(L, "eval/who", H5COL_I64, &who, 1, &err), 0);
            assert_int_equal(h5log_append(L, "eval/n", H5COL_I64, &n, 1, &err), 0);
            assert_int_equal(h5log_append(L, "eval/reward_mean", H5COL_F64, &mean, 1, &err), 0);
        }
    }
    assert_int_equal(h5log_close(L, 1, &err), 0);
    if (s->nan_logp == 2) { /* the NaN with another payload, written past h5log */
        uint32_t u = 0x7fc00001u;
        float nan2;
        memcpy(&nan2, &u, 4);
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, "trajectories/logp", H5P_DEFAULT);
        hid_t fs = H5Dget_space(d);
        hsize_t start = (hsize_t)nan_row, one = 1;
        hid_t ms = H5Screate_simple(1, &one, NULL);
        assert_true(f >= 0 && d >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &one, NULL) >= 0);
        assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, &nan2) >= 0);
        H5Sclose(ms), H5Sclose(fs), H5Dclose(d), H5Fclose(f);
    }
}

static char outbuf[65536];

/* Runs the diff into outbuf; returns its result. */
static int run_diff(const char *a, const char *b, const char *tol, long max, err_t *err) {
    diff_opts_t o;
    diff_opts_default(&o);
    if (tol) assert_int_equal(diff_parse_tol(tol, &o, err), 0);
    if (max) o.max = max;
    FILE *f = fmemopen(outbuf, sizeof outbuf, "w");
    assert_non_null(f);
    int rc = diff_runs(a, b, &o, f, err);
    fclose(f);
    return rc;
}

#define assert_out_has(s)                                                                       \
    do {                                                                                        \
        if (!strstr(outbuf, (s))) fail_msg("output lacks \"%s\":\n%s", (s), outbuf);            \
    } while (0)

/* The "differing" count of a dataset's row in the summary table (-1 when not listed). */
static long table_count(const char *dataset) {
    char key[128];
    snprintf(key, sizeof key, "\n  %s ", dataset);
    const char *table = strstr(outbuf, "per dataset");
    const char *p = table ? strstr(table, key) : NULL;
    long n = -1;
    if (p && sscanf(p + strlen(key), "%ld", &n) != 1) n = -1;
    return n;
}

static void test_equal(void **state) {
    (void)state;
    spec_t s = {0};
    write_log(tpath("a.h5"), &s);
    write_log(tpath("b.h5"), &s);
    err_t err;
    assert_int_equal(run_diff(tpath("a.h5"), tpath("b.h5"), NULL, 0, &err), 0);
    assert_out_has("attributes: equal");
    assert_out_has("config: equal (2 keys)");
    assert_out_has("result: equal (bitwise)");
}

static void test_one_ulp_located(void **state) {
    (void)state;
    spec_t s = {0}, u = {.bump_logp = 1};
    write_log(tpath("a.h5"), &s);
    write_log(tpath("u.h5"), &u);
    err_t err;
    assert_int_equal(run_diff(tpath("a.h5"), tpath("u.h5"), NULL, 0, &err), 1);
    assert_out_has("/trajectories/logp at iteration 0, training batch, trajectory 1 of 3 (row 3), prompt 11, token 2 (token row 8)");
    /* logp = -0.5 - 0.01 * 32 in float32, and one ulp more */
    char want_a[96], want_b[96];
    float x = -0.5f - 0.01f * 32.0f, y = bump_ulp(x);
    snprintf(want_a, sizeof want_a, "A: %.9g (float32 %a)", (double)x, (double)x);
    snprintf(want_b, sizeof want_b, "B: %.9g (float32 %a)", (double)y, (double)y);
    assert_string_not_equal(want_a + 3, want_b + 3);
    assert_out_has(want_a);
    assert_out_has(want_b);
    assert_int_equal(table_count("/trajectories/logp"), 1);
    assert_out_has("result: A and B differ");
    /* within a relative tolerance of 1e-6 the ulp is no difference */
    assert_int_equal(run_diff(tpath("a.h5"), tpath("u.h5"), "1e-6", 0, &err), 0);
    assert_out_has("result: equal within --tol");
    assert_int_equal(run_diff(tpath("a.h5"), tpath("u.h5"), "1e-9", 0, &err), 1);
    assert_int_equal(run_diff(tpath("a.h5"), tpath("u.h5"), "0,1e-6", 0, &err), 0);
}

static void test_nan_rules(void **state) {
    (void)state;
    spec_t s = {0}, n1 = {.nan_logp = 1}, n2 = {.nan_logp = 2};
    write_log(tpath("a.h5"), &s);
    write_log(tpath("n1.h5"), &n1);
    write_log(tpath("n1b.h5"), &n1);
    write_log(tpath("n2.h5"), &n2);
    err_t err;
    assert_int_equal(run_diff(tpath("n1.h5"), tpath("n1b.h5"), NULL, 0, &err), 0); /* same bits */
    assert_int_equal(run_diff(tpath("n1.h5"), tpath("n2.h5"), NULL, 0, &err), 1);  /* other payload */
    assert_int_equal(run_diff(tpath("n1.h5"), tpath("n2.h5"), "1e-6", 0, &err), 0); /* NaN == NaN */
    assert_int_equal(run_diff(tpath("a.h5"), tpath("n1.h5"), "0.5", 0, &err), 1);   /* NaN vs a number */
    assert_out_has("/trajectories/logp at iteration 0, training batch, trajectory 1 of 3");
}

static void test_config_key(void **state) {
    (void)state;
    spec_t s = {0}, c = {.config = "a = 1\nb = 3\nc = x\n"};
    write_log(tpath("a.h5"), &s);
    write_log(tpath("c.h5"), &c);
    err_t err;
    assert_int_equal(run_diff(tpath("a.h5"), tpath("c.h5"), NULL, 0, &err), 1);
    assert_out_has("config: 2 keys differ");
    assert_out_has("  b  A: '2'   B: '3'");
    assert_out_has("  c  A: (missing)   B: 'x'");
    assert_out_has("all 15 datasets compared: bitwise equal");
}

static void test_longer_trajectory_does_not_shift(void **state) {
    (void)state;
    spec_t s = {0}, l = {.longer = 1};
    write_log(tpath("a.h5"), &s);
    write_log(tpath("l.h5"), &l);
    err_t err;
    assert_int_equal(run_diff(tpath("a.h5"), tpath("l.h5"), NULL, 3, &err), 1);
    assert_out_has("/trajectories/token at iteration 0, training batch, trajectory 1 of 3 (row 3), prompt 11, token 3");
    assert_out_has("A: (none: the trajectory has 3 tokens)");
    /* one extra token, not every token after it */
    assert_int_equal(table_count("/trajectories/token"), 1);
    assert_int_equal(table_count("/trajectories/length"), 1);
    assert_int_equal(table_count("/trajectories/token_offset"), 3); /* the three later trajectories */
}

static void test_only_in_one_and_run_order(void **state) {
    (void)state;
    spec_t s = {0}, x = {.extra = 1}, r = {.bump_reward = 1, .eval1_token = 1};
    write_log(tpath("a.h5"), &s);
    write_log(tpath("x.h5"), &x);
    write_log(tpath("r.h5"), &r);
    err_t err;
    assert_int_equal(run_diff(tpath("a.h5"), tpath("x.h5"), NULL, 0, &err), 1);
    assert_out_has("only in B: /iterations/extra");
    /* the iterations/ row of iteration 0 comes before the evaluation at iteration 1 */
    assert_int_equal(run_diff(tpath("a.h5"), tpath("r.h5"), NULL, 0, &err), 1);
    assert_out_has("first difference in run order (1 of 2 differing elements):\n  /iterations/reward at iteration 0 (row 0)");
    assert_out_has("first differing generated token:\n  /trajectories/token at evaluation at iteration 1 (validation split, learner), trajectory 0 of 2 (row 5)");
    assert_int_equal(run_diff(tpath("r.h5"), tpath("a.h5"), NULL, 2, &err), 1);
    const char *p = strstr(outbuf, "/iterations/reward at"), *q = strstr(outbuf, "/trajectories/token at");
    assert_true(p && q && p < q);
}

static void test_bad_input_named(void **state) {
    (void)state;
    spec_t s = {0};
    write_log(tpath("a.h5"), &s);
    err_t err;
    assert_int_equal(run_diff(tpath("a.h5"), tpath("missing.h5"), NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "missing.h5"));
    FILE *f = fopen(tpath("junk.h5"), "w");
    fputs("not hdf5\n", f);
    fclose(f);
    assert_int_equal(run_diff(tpath("junk.h5"), tpath("a.h5"), NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "junk.h5"));
    diff_opts_t o;
    diff_opts_default(&o);
    assert_int_equal(diff_parse_tol("1e-6,1e-9", &o, &err), 0);
    assert_true(o.tol && o.rel == 1e-6 && o.abs == 1e-9);
    assert_int_equal(diff_parse_tol("-1", &o, &err), -1);
    assert_int_equal(diff_parse_tol("1e-6,", &o, &err), -1);
    assert_int_equal(diff_parse_tol("x", &o, &err), -1);
    assert_non_null(strstr(err.msg, "'x'"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_one_ulp_located),
        cmocka_unit_test(test_nan_rules),
        cmocka_unit_test(test_config_key),
        cmocka_unit_test(test_longer_trajectory_does_not_shift),
        cmocka_unit_test(test_only_in_one_and_run_order),
        cmocka_unit_test(test_bad_input_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
