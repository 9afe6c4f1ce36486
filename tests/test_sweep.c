/* Tests of the sweep spec: expansion order, run names and their file-name rule, exclusions,
 * integer ranges, the fixed overrides, and every kind of spec error (each naming SPEC:LINE or the
 * run). Running sweeps is tested end to end in tests/e2e_sweep.sh.
 * Run from the repository root (the specs use configs/imdb_small.ini as their base). */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../sim/sweep/sweep.h"

static char spec_path[64];

/* Writes text to a temporary spec file and loads it; the file is removed again. */
static int load_text(sweep_t *s, const char *text, err_t *err) {
    strcpy(spec_path, "/tmp/rlgf_test_sweep_XXXXXX");
    int fd = mkstemp(spec_path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    memset(err, 0, sizeof *err);
    int rc = sweep_load(s, spec_path, NULL, err);
    unlink(spec_path);
    return rc;
}

static void expect_error(const char *text, const char *needle) {
    sweep_t s;
    err_t err;
    assert_int_equal(load_text(&s, text, &err), -1);
    if (!strstr(err.msg, needle)) fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

/* The message names the spec file and line: "<path>:<line>: ...". */
static void expect_error_at(const char *text, int line, const char *needle) {
    sweep_t s;
    err_t err;
    assert_int_equal(load_text(&s, text, &err), -1);
    char where[96];
    snprintf(where, sizeof where, "%s:%d: ", spec_path, line);
    if (strncmp(err.msg, where, strlen(where))) fail_msg("message '%s' does not start with '%s'", err.msg, where);
    if (!strstr(err.msg, needle)) fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_product_order_and_names(void **state) {
    (void)state;
    sweep_t s;
    err_t err;
    int rc = load_text(&s,
                       "; comment\n"
                       "[sweep]\n"
                       "base = configs/imdb_small.ini\n"
                       "out_dir = results/sweeps/t/\n"
                       "set = iterations=2, kl.beta = 0.01\n"
                       "[axes]\n"
                       "algo = ppo, ppopp\n"
                       "guide.quality = 0.5, 1   # inline comment\n"
                       "seed = 0..1\n",
                       &err);
    if (rc) fail_msg("%s", err.msg);
    assert_int_equal(s.nruns, 8);
    assert_int_equal(s.nexcluded, 0);
    assert_string_equal(s.out_dir, "results/sweeps/t"); /* trailing slash dropped */
    /* axes in file order, the last fastest */
    assert_string_equal(s.runs[0].name, "algo=ppo__guide.quality=0.5__seed=0");
    assert_string_equal(s.runs[1].name, "algo=ppo__guide.quality=0.5__seed=1");
    assert_string_equal(s.runs[2].name, "algo=ppo__guide.quality=1__seed=0");
    assert_string_equal(s.runs[7].name, "algo=ppopp__guide.quality=1__seed=1");
    for (int i = 0; i < s.nruns; i++) assert_int_equal(s.runs[i].index, i);
    /* overrides: set first, then one per axis */
    assert_int_equal(s.runs[5].nover, 5);
    assert_string_equal(s.runs[5].over[0], "iterations=2");
    assert_string_equal(s.runs[5].over[1], "kl.beta=0.01");
    assert_string_equal(s.runs[5].over[2], "algo=ppopp");
    assert_string_equal(s.runs[5].over[3], "guide.quality=0.5");
    assert_string_equal(s.runs[5].over[4], "seed=1");
    /* config hashes differ per run; SL groups follow the SL settings (here: the seed) */
    assert_string_not_equal(s.runs[0].config_hash, s.runs[4].config_hash);
    assert_string_equal(s.runs[0].sl_group, s.runs[4].sl_group); /* ppo vs ppopp, same seed */
    assert_string_not_equal(s.runs[0].sl_group, s.runs[1].sl_group);
    assert_int_equal(strlen(s.fingerprint), 16);
    sweep_free(&s);
}

static void test_exclusions_and_repeated_axis(void **state) {
    (void)state;
    sweep_t s;
    err_t err;
    int rc = load_text(&s,
                       "[sweep]\n"
                       "base = configs/imdb_small.ini\n"
                       "[axes]\n"
                       "algo = ppo, ppopp\n"
                       "seed = 0, 1\n"
                       "seed = 2\n" /* appends */
                       "[exclude]\n"
                       "algo = ppo, seed = 1\n"
                       "seed=2\n",
                       &err);
    if (rc) fail_msg("%s", err.msg);
    assert_int_equal(s.nruns, 3);
    assert_int_equal(s.nexcluded, 3);
    assert_string_equal(s.runs[0].name, "algo=ppo__seed=0");
    assert_string_equal(s.runs[1].name, "algo=ppopp__seed=0");
    assert_string_equal(s.runs[2].name, "algo=ppopp__seed=1");
    /* default out_dir: results/sweeps/<spec file name> */
    assert_int_equal(strncmp(s.out_dir, "results/sweeps/rlgf_test_sweep_", 31), 0);
    sweep_free(&s);
}

static void test_exclusion_matches_canonical_values(void **state) {
    (void)state;
    sweep_t s;
    err_t err;
    /* 0.50 in the exclusion is the axis value .5 */
    int rc = load_text(&s,
                       "[sweep]\nbase = configs/imdb_small.ini\n[axes]\nguide.quality = .5, 1\n[exclude]\nguide.quality = 0.50\n",
                       &err);
    if (rc) fail_msg("%s", err.msg);
    assert_int_equal(s.nruns, 1);
    assert_string_equal(s.runs[0].name, "guide.quality=1");
    sweep_free(&s);
}

static void test_no_axes_is_one_run(void **state) {
    (void)state;
    sweep_t s;
    err_t err;
    int rc = load_text(&s, "[sweep]\nbase = configs/imdb_small.ini\nset = seed=3\n", &err);
    if (rc) fail_msg("%s", err.msg);
    assert_int_equal(s.nruns, 1);
    assert_string_equal(s.runs[0].name, "run");
    sweep_free(&s);
}

static void test_names(void **state) {
    (void)state;
    char out[SWEEP_NAME_MAX + 1];
    const char *a[] = {"guide.path=results/x y.h5", "seed=1"};
    sweep_name(a, 2, out);
    assert_string_equal(out, "guide.path=results_x_y.h5__seed=1");
    /* long names: cut, then '~' and 16 hex of the full name's SHA-256; distinct for distinct tails */
    char v1[300], v2[300];
    memset(v1, 'a', 250);
    memcpy(v1, "cache_dir=", 10);
    v1[250] = 0;
    strcpy(v2, v1);
    v2[249] = 'b';
    const char *p1[] = {v1}, *p2[] = {v2};
    char o1[SWEEP_NAME_MAX + 1], o2[SWEEP_NAME_MAX + 1];
    sweep_name(p1, 1, o1);
    sweep_name(p2, 1, o2);
    assert_int_equal(strlen(o1), SWEEP_NAME_LONG);
    assert_int_equal(o1[SWEEP_NAME_LONG - 17], '~');
    assert_string_not_equal(o1, o2);
}

static void test_errors(void **state) {
    (void)state;
    /* unknown key in an axis: did-you-mean and the line */
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nalgoo = ppo, ppopp\n", 4,
                    "unknown key 'algoo' (did you mean 'algo'");
    /* bad value */
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nseed = 0, -1\n", 4, "key 'seed': value '-1'");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nalgo = ppo, nope\n", 4, "key 'algo': value 'nope'");
    /* missing base file: the base line and the file */
    expect_error_at("[sweep]\nout_dir = x\nbase = configs/nope.ini\n", 3, "configs/nope.ini: cannot open config file");
    expect_error("[sweep]\nout_dir = x\n", "needs `base = CONFIG.ini`");
    /* structure */
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\nbsae = x\n", 3, "unknown key 'bsae' in [sweep]");
    expect_error_at("seed = 1\n", 1, "outside a section");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axis]\nseed = 1\n", 4, "unknown section [axis]");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nseed = 0, , 2\n", 4, "empty value");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nseed = 0, 1, 0\n", 4, "lists the value 0 twice");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nseed = 5..2\n", 4, "range '5..2'");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nout = a.h5, b.h5\n", 4, "'out' cannot be an axis");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\nset = iterations\n", 3, "'iterations' is not key=value");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\nset = iteratons=3\n", 3, "did you mean 'iterations'");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\nset = seed=1\n[axes]\nseed = 1, 2\n", 3, "also an axis");
    /* exclusions */
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nseed = 1, 2\n[exclude]\nseed = 3\n", 6,
                    "seed=3 is not a value of axis 'seed' (values: 1, 2)");
    expect_error_at("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nseed = 1, 2\n[exclude]\nalgo = ppo\n", 6,
                    "'algo' is not an axis");
    expect_error("[sweep]\nbase = configs/imdb_small.ini\n[axes]\nseed = 1\n[exclude]\nseed = 1\n", "every combination is excluded");
    /* a combination that fails cross-key validation names the run */
    expect_error("[sweep]\nbase = configs/imdb_small.ini\nset = ppo.minibatch=8\n[axes]\ntrajectories = 8, 4\n",
                 "run 1 (trajectories=4): config: ppo.minibatch = 8 is larger than trajectories = 4");
    /* two values that give the same file name */
    expect_error("[sweep]\nbase = configs/imdb_small.ini\n[axes]\ncache_dir = a/b, a_b\n", "the same file name 'cache_dir=a_b'");
}

static void test_fingerprint_follows_config(void **state) {
    (void)state;
    sweep_t a, b;
    err_t err;
    if (load_text(&a, "[sweep]\nbase = configs/imdb_small.ini\nset = iterations=2\n[axes]\nseed = 0, 1\n", &err))
        fail_msg("%s", err.msg);
    if (load_text(&b, "[sweep]\nbase = configs/imdb_small.ini\nset = iterations=3\n[axes]\nseed = 0, 1\n", &err))
        fail_msg("%s", err.msg);
    assert_string_equal(a.runs[0].name, b.runs[0].name);
    assert_string_not_equal(a.runs[0].config_hash, b.runs[0].config_hash);
    assert_string_not_equal(a.fingerprint, b.fingerprint);
    /* threads cannot change results: same hash */
    sweep_t c;
    if (load_text(&c, "[sweep]\nbase = configs/imdb_small.ini\nset = iterations=2, threads=2\n[axes]\nseed = 0, 1\n", &err))
        fail_msg("%s", err.msg);
    assert_string_equal(a.runs[1].config_hash, c.runs[1].config_hash);
    assert_int_equal(c.runs[1].threads, 2);
    sweep_free(&a);
    sweep_free(&b);
    sweep_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_product_order_and_names),
        cmocka_unit_test(test_exclusions_and_repeated_axis),
        cmocka_unit_test(test_exclusion_matches_canonical_values),
        cmocka_unit_test(test_no_axes_is_one_run),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_fingerprint_follows_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
