/* `rlgf analyze` on synthetic run logs written with h5log (no training): worked examples through
 * the whole pipeline (IQM, mean, std, CI bracketing, probability of improvement for disjoint
 * samples, tokens per evaluation point, the last-K final score, the test split and the guide and
 * pi_ref rows kept out of the learner's statistics), group naming, incomplete and bad files, and
 * byte-identical outputs. Figures are off (plots = 0): tests/e2e_analyze.sh covers gnuplot. */
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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../analysis/analyze.h"
#include "../sim/store/h5log.h"

static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    h5log_init();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rlgf_analyze_XXXXXX");
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

/* A run log with validation evaluations of the learner at iterations 0..n-1 with rewards r[] and
 * KL kl[], the guide and pi_ref at 0, and a test-split row (reward 999) at the end; iterations
 * 0..n-2 with cumulative tokens 100 (it + 1). complete = 0 leaves NAME.partial. */
static void write_run(const char *path, const char *algo, int seed, double quality, int n, const double *r,
                      const double *kl, double guide, double piref, int complete) {
    char cfg[512], hash[65];
    snprintf(cfg, sizeof cfg, "task = imdb\nalgo = %s\nseed = %d\niterations = %d\nguide.quality = %g\n", algo, seed,
             n - 1, quality);
    sha256_hex(cfg, strlen(cfg), hash);
    h5log_meta_t meta = {.task = "imdb", .algo = algo, .program_version = "test", .config_text = cfg,
                         .config_hash = hash, .seed = seed};
    err_t err;
    h5log_t *log = h5log_create(path, &meta, &err);
    if (!log) fail_msg("h5log_create: %s", err.msg);
    for (int it = 0; it < n - 1; it++) {
        int64_t i = it, tok = 100 * (int64_t)(it + 1);
        assert_int_equal(h5log_append(log, "iterations/iteration", H5COL_I64, &i, 1, &err), 0);
        assert_int_equal(h5log_append(log, "iterations/tokens", H5COL_I64, &tok, 1, &err), 0);
    }
    /* rows: (iteration, split, who, reward, kl) */
    typedef struct {
        int64_t it, split, who;
        double rw, kl;
    } row_t;
    row_t rows[64];
    int nr = 0;
    rows[nr++] = (row_t){0, 1, 0, r[0], kl[0]};
    rows[nr++] = (row_t){0, 1, 1, guide, NAN};
    rows[nr++] = (row_t){0, 1, 2, piref, 0};
    for (int it = 1; it < n; it++) rows[nr++] = (row_t){it, 1, 0, r[it], kl[it]};
    rows[nr++] = (row_t){n - 1, 2, 0, 999, 999};
    for (int k = 0; k < nr; k++) {
        int64_t cnt = 8;
        assert_int_equal(h5log_append(log, "eval/iteration", H5COL_I64, &rows[k].it, 1, &err), 0);
        assert_int_equal(h5log_append(log, "eval/split", H5COL_I64, &rows[k].split, 1, &err), 0);
        assert_int_equal(h5log_append(log, "eval/who", H5COL_I64, &rows[k].who, 1, &err), 0);
        assert_int_equal(h5log_append(log, "eval/n", H5COL_I64, &cnt, 1, &err), 0);
        assert_int_equal(h5log_append(log, "eval/reward_mean", H5COL_F64, &rows[k].rw, 1, &err), 0);
        assert_int_equal(h5log_append(log, "eval/kl_mean", H5COL_F64, &rows[k].kl, 1, &err), 0);
    }
    if (h5log_close(log, complete, &err)) fail_msg("h5log_close: %s", err.msg);
}

static char *slurp(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    size_t got = fread(b, 1, (size_t)len, f);
    b[got] = 0;
    fclose(f);
    return b;
}

/* Field `col` (0-based) of the first CSV line starting with `prefix`; NAN when absent. */
static double csv_get(const char *path, const char *prefix, int col) {
    char *text = slurp(path);
    if (!text) fail_msg("cannot read %s", path);
    double v = NAN;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (!strncmp(line, prefix, strlen(prefix))) {
            char *p = line;
            for (int c = 0; c < col && p; c++) {
                p = strchr(p, ',');
                if (p) p++;
            }
            if (p) v = strtod(p, NULL);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return v;
}

static int run_analyze(const char *const *paths, int n, const char *out, int last_k, int incomplete, char **errs_text) {
    analyze_opts_t o;
    analyze_opts_default(&o);
    o.out_dir = out;
    o.last_k = last_k;
    o.plots = 0;
    o.include_incomplete = incomplete;
    char *rep = NULL, *errs = NULL;
    size_t rl = 0, el = 0;
    FILE *rf = open_memstream(&rep, &rl), *ef = open_memstream(&errs, &el);
    err_t err = {{0}};
    int rc = analyze_run(paths, n, &o, rf, ef, &err);
    fclose(rf);
    fclose(ef);
    free(rep);
    if (errs_text) *errs_text = errs;
    else free(errs);
    return rc;
}

/* final.csv columns: group,metric,n_runs,last_k,mean,std,iqm,ci_lo,ci_hi,guide,pi_ref */
static void test_worked_example(void **state) {
    (void)state;
    /* group a: final rewards {1, 2, 3, 10}: mean 4, IQM (middle two) 2.5, std sqrt(50/3);
     * group b: {20, 21, 22, 23}, all above a: P(b > a) = 1 in every replicate */
    const double fa[4] = {1, 2, 3, 10}, fb[4] = {20, 21, 22, 23};
    const char *paths[8];
    char name[64];
    for (int s = 0; s < 4; s++) {
        double ra[3] = {0.5, 0.7, fa[s]}, rb[3] = {0.5, 0.8, fb[s]}, kl[3] = {0, 0.1 * s, 0.2 * s};
        snprintf(name, sizeof name, "a-s%d.h5", s);
        paths[s] = strdup(tpath(name));
        write_run(paths[s], "a", s, 0.5, 3, ra, kl, 0.9, 0.4, 1);
        snprintf(name, sizeof name, "b-s%d.h5", s);
        paths[4 + s] = strdup(tpath(name));
        write_run(paths[4 + s], "b", s, 0.5, 3, rb, kl, 0.9, 0.4, 1);
    }
    const char *out = tpath("out1");
    assert_int_equal(run_analyze(paths, 8, out, 1, 0, NULL), 0);
    char f[600];
    snprintf(f, sizeof f, "%s/final.csv", out);
    assert_int_equal((int)csv_get(f, "a,reward,", 2), 4);
    assert_true(fabs(csv_get(f, "a,reward,", 4) - 4.0) < 1e-9);
    assert_true(fabs(csv_get(f, "a,reward,", 5) - sqrt(50.0 / 3.0)) < 1e-8);
    assert_true(fabs(csv_get(f, "a,reward,", 6) - 2.5) < 1e-12);
    double lo = csv_get(f, "a,reward,", 7), hi = csv_get(f, "a,reward,", 8);
    assert_true(lo >= 1.0 && lo <= 2.5 && hi >= 2.5 && hi <= 10.0 && lo < hi);
    assert_true(fabs(csv_get(f, "b,reward,", 6) - 21.5) < 1e-12);
    /* guide and pi_ref levels; the guide's KL is NaN, pi_ref's 0 */
    assert_true(fabs(csv_get(f, "a,reward,", 9) - 0.9) < 1e-12);
    assert_true(fabs(csv_get(f, "a,reward,", 10) - 0.4) < 1e-12);
    assert_true(isnan(csv_get(f, "a,kl,", 9)));
    assert_true(csv_get(f, "a,kl,", 10) == 0.0);
    /* probability of improvement: disjoint samples */
    snprintf(f, sizeof f, "%s/prob_improvement.csv", out);
    assert_true(csv_get(f, "b,a,reward,", 5) == 1.0 && csv_get(f, "b,a,reward,", 6) == 1.0 &&
                csv_get(f, "b,a,reward,", 7) == 1.0);
    assert_true(csv_get(f, "a,b,reward,", 5) == 0.0 && csv_get(f, "a,b,reward,", 7) == 0.0);
    /* curves: iteration 1 of a is 0.7 in every run (std 0, CI [0.7, 0.7]); tokens = 100 */
    snprintf(f, sizeof f, "%s/curves.csv", out);
    assert_true(fabs(csv_get(f, "a,reward,1,", 3) - 100) < 1e-12);
    assert_true(fabs(csv_get(f, "a,reward,1,", 7) - 0.7) < 1e-12 && fabs(csv_get(f, "a,reward,1,", 9) - 0.7) < 1e-12);
    assert_true(csv_get(f, "a,reward,0,", 3) == 0.0);
    assert_true(fabs(csv_get(f, "a,reward,2,", 7) - 2.5) < 1e-12); /* the last point = the final score */
    /* the profile of b is 1 below its smallest run and 0 above its largest */
    snprintf(f, sizeof f, "%s/profiles.csv", out);
    assert_true(csv_get(f, "b,reward,", 3) == 1.0 && csv_get(f, "a,reward,", 3) == 1.0);
    /* tables: IQM [lo, hi] cells and one guide row */
    snprintf(f, sizeof f, "%s/final.md", out);
    char *md = slurp(f);
    assert_non_null(strstr(md, "| a | 4 | 2.5 ["));
    assert_non_null(strstr(md, "| guide | | 0.9 |"));
    free(md);
    /* byte-identical on a second analysis */
    const char *out2 = tpath("out2");
    assert_int_equal(run_analyze(paths, 8, out2, 1, 0, NULL), 0);
    const char *files[] = {"final.csv", "curves.csv", "prob_improvement.csv", "profiles.csv", "final.md", "final.tex",
                           "runs.csv"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p1[600], p2[600];
        snprintf(p1, sizeof p1, "%s/%s", out, files[i]);
        snprintf(p2, sizeof p2, "%s/%s", out2, files[i]);
        char *a = slurp(p1), *b = slurp(p2);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        free(a), free(b);
    }
    /* argument order does not matter: runs are taken in seed order within a group */
    const char *rev[8];
    for (int i = 0; i < 4; i++) rev[i] = paths[3 - i], rev[4 + i] = paths[7 - i];
    const char *out3 = tpath("out3");
    assert_int_equal(run_analyze(rev, 8, out3, 1, 0, NULL), 0);
    char p1[600], p3[600];
    snprintf(p1, sizeof p1, "%s/final.csv", out);
    snprintf(p3, sizeof p3, "%s/final.csv", out3);
    char *a = slurp(p1), *b = slurp(p3);
    assert_string_equal(a, b);
    free(a), free(b);
    for (int i = 0; i < 8; i++) free((void *)paths[i]);
}

static void test_last_k(void **state) {
    (void)state;
    const double r0[4] = {0, 1, 2, 4}, r1[4] = {0, 3, 5, 6}, kl[4] = {0, 0, 0, 0};
    const char *paths[2] = {strdup(tpath("k0.h5")), strdup(tpath("k1.h5"))};
    write_run(paths[0], "ppo", 0, 0.5, 4, r0, kl, 1, 0, 1);
    write_run(paths[1], "ppo", 1, 0.5, 4, r1, kl, 1, 0, 1);
    const char *out = tpath("outk");
    assert_int_equal(run_analyze(paths, 2, out, 2, 0, NULL), 0);
    char f[600];
    snprintf(f, sizeof f, "%s/final.csv", out);
    /* run finals: (2 + 4) / 2 = 3 and (5 + 6) / 2 = 5.5 (the test row, 999, is not counted) */
    assert_true(fabs(csv_get(f, "ppo,reward,", 4) - 4.25) < 1e-12);
    assert_int_equal((int)csv_get(f, "ppo,reward,", 3), 2);
    /* K larger than the number of evaluations: the mean of all of them */
    assert_int_equal(run_analyze(paths, 2, out, 100, 0, NULL), 0);
    assert_true(fabs(csv_get(f, "ppo,reward,", 4) - (7.0 / 4 + 14.0 / 4) / 2) < 1e-12);
    free((void *)paths[0]), free((void *)paths[1]);
}

static void test_names_incomplete_and_bad_files(void **state) {
    (void)state;
    const double r[2] = {0, 1}, kl[2] = {0, 0};
    const char *paths[6] = {strdup(tpath("n0.h5")), strdup(tpath("n1.h5")), strdup(tpath("n2.h5")),
                            strdup(tpath("n3.h5.partial")), strdup(tpath("junk.h5")), strdup(tpath("missing.h5"))};
    write_run(paths[0], "ppopp", 0, 0.5, 2, r, kl, 1, 0, 1);
    write_run(paths[1], "ppopp", 0, 0.9, 2, r, kl, 1, 0, 1);
    write_run(paths[2], "ppo", 0, 0.5, 2, r, kl, 1, 0, 1);
    write_run(tpath("n3.h5"), "ppo", 1, 0.5, 2, r, kl, 1, 0, 0); /* leaves n3.h5.partial */
    FILE *j = fopen(paths[4], "w");
    fputs("not an HDF5 file\n", j);
    fclose(j);
    const char *out = tpath("outn");
    char *errs = NULL;
    assert_int_equal(run_analyze(paths, 6, out, 1, 0, &errs), 1);
    assert_non_null(strstr(errs, "junk.h5' is not an HDF5 file"));
    assert_non_null(strstr(errs, "missing.h5': cannot open"));
    assert_non_null(strstr(errs, "n3.h5.partial': incomplete run"));
    free(errs);
    char f[600];
    snprintf(f, sizeof f, "%s/final.csv", out);
    /* groups named by the differing keys, in order of first appearance */
    assert_int_equal((int)csv_get(f, "algo=ppopp guide.quality=0.5,reward,", 2), 1);
    assert_int_equal((int)csv_get(f, "algo=ppopp guide.quality=0.9,reward,", 2), 1);
    assert_int_equal((int)csv_get(f, "algo=ppo guide.quality=0.5,reward,", 2), 1);
    /* the partial run joins its group with --include-incomplete */
    assert_int_equal(run_analyze(paths, 4, out, 1, 1, NULL), 0);
    assert_int_equal((int)csv_get(f, "algo=ppo guide.quality=0.5,reward,", 2), 2);
    /* nothing usable: 2, and the error says so */
    assert_int_equal(run_analyze(paths + 4, 2, out, 1, 0, NULL), 2);
    for (int i = 0; i < 6; i++) free((void *)paths[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_last_k),
        cmocka_unit_test(test_names_incomplete_and_bad_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
