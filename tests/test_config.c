/* Tests of the config module: defaults, INI loading, overrides, every kind of error message,
 * cross-key validation, the canonical text round trip and the shipped
 * configs (configs/NAME.ini).
 * Run from the repository root (the shipped configs are read by relative path). */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
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

#include "../sim/base/config.h"

/* Writes text to a fresh temporary file; its path goes to path (>= 64 bytes). */
static void write_tmp(const char *text, char *path) {
    strcpy(path, "/tmp/rlgf_test_config_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Loads text as an INI file into a default config; returns cfg_load_file's result and leaves the
 * message in err and the temp path in path. */
static int load_text(config_t *c, const char *text, char *path, err_t *err) {
    cfg_defaults(c);
    write_tmp(text, path);
    memset(err, 0, sizeof *err);
    int rc = cfg_load_file(c, path, err);
    unlink(path);
    return rc;
}

static void assert_contains(const char *hay, const char *needle) {
    if (!strstr(hay, needle)) fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

/* Expects loading text to fail with a message naming "path:line" and containing each of the
 * NULL-terminated needles. */
static void expect_load_error(const char *text, int line, ...) {
    config_t c;
    err_t err;
    char path[64], where[96];
    assert_int_equal(load_text(&c, text, path, &err), -1);
    snprintf(where, sizeof where, "%s:%d: ", path, line);
    assert_contains(err.msg, where);
    va_list ap;
    va_start(ap, line);
    for (const char *s; (s = va_arg(ap, const char *));) assert_contains(err.msg, s);
    va_end(ap);
}

static void test_defaults(void **state) {
    (void)state;
    config_t c;
    err_t err;
    memset(&c, 0x5a, sizeof c);
    cfg_defaults(&c);
    assert_string_equal(c.task, "imdb");
    assert_string_equal(c.algo, "ppo");
    assert_int_equal(c.seed, 0);
    assert_int_equal(c.iterations, 50);
    assert_int_equal(c.trajectories, 112);
    assert_int_equal(c.threads, 1);
    assert_string_equal(c.out, "");
    assert_string_equal(c.cache_dir, "results/cache");
    assert_int_equal(c.log.timing, 0);
    assert_int_equal(c.eval.every, 10);
    assert_int_equal(c.eval.prompts, 32);
    assert_int_equal(c.eval.test_prompts, 32);
    assert_int_equal(c.world.seed, 1);
    assert_int_equal(c.world.vocab, 512);
    assert_int_equal(c.imdb.prompt_len, 64);
    assert_int_equal(c.imdb.gen_len, 48);
    assert_string_equal(c.model.kind, "gpt");
    assert_int_equal(c.model.layers, 2);
    assert_int_equal(c.model.channels, 32);
    assert_int_equal(c.model.heads, 4);
    assert_true(c.sample.temperature == 1.0 && c.sample.top_k == 50 && c.sample.top_p == 1.0);
    assert_true(c.eval_sample.temperature == 1.0 && c.eval_sample.top_k == 50 &&
                c.eval_sample.top_p == 1.0);
    assert_int_equal(c.ppo.epochs, 5);
    assert_int_equal(c.ppo.minibatch, 28);
    assert_true(c.ppo.gamma == 0.99 && c.ppo.lambda == 0.95 && c.ppo.clip == 0.2);
    assert_true(c.ppo.vf_clip == 0.2 && c.ppo.vf_coef == 0.5 && c.ppo.ent_coef == 0.0);
    assert_true(c.ppo.tgt_coef == 0.1 && c.ppo.target_kl == 0.0 && c.ppo.lr == 1e-3);
    assert_int_equal(c.ppo.value_clip, 1);
    assert_int_equal(c.ppo.norm_adv, 0);
    assert_string_equal(c.ppo.lr_schedule, "linear");
    assert_true(c.ppo.grad_clip == 1.0 && c.ppo.weight_decay == 1e-6 && c.ppo.adam_eps == 1e-5);
    assert_true(c.kl.beta == 0.001 && c.kl.target == 0.1 && c.kl.k == 0.1);
    assert_string_equal(c.kl.controller, "fixed");
    assert_int_equal(c.sl.epochs, 3);
    assert_int_equal(c.sl.examples, 2048);
    assert_int_equal(c.sl.batch, 16);
    assert_true(c.sl.lr == 3e-3);
    assert_int_equal(cfg_validate(&c, &err), 0);
}

static void test_get_text(void **state) {
    (void)state;
    config_t c;
    char buf[64];
    cfg_defaults(&c);
    assert_int_equal(cfg_get_text(&c, "ppo.lr", buf, sizeof buf), 0);
    assert_string_equal(buf, "0.001");
    assert_int_equal(cfg_get_text(&c, "ppo.value_clip", buf, sizeof buf), 0);
    assert_string_equal(buf, "true");
    assert_int_equal(cfg_get_text(&c, "eval.top_k", buf, sizeof buf), 0);
    assert_string_equal(buf, "50");
    assert_int_equal(cfg_get_text(&c, "cache_dir", buf, sizeof buf), 0);
    assert_string_equal(buf, "results/cache");
    assert_int_equal(cfg_get_text(&c, "ppo.lrr", buf, sizeof buf), -1);
    assert_int_equal(cfg_get_text(&c, "critic.kind_same_as_policy", buf, sizeof buf), -1);
    assert_int_equal(cfg_get_text(&c, "cache_dir", buf, 4), -1); /* does not fit */
}

static void test_load_file(void **state) {
    (void)state;
    config_t c;
    err_t err;
    char path[64];
    const char *text =
        "; comment\n"
        "# another comment\n"
        "task = toy_match   ; inline comment\n"
        "algo=sl\n"
        "seed = 12345678901   # inline hash comment\n"
        "ppo.gamma = 0.5\n" /* dotted key before any section */
        "out = runs/a b.h5\n"
        "\n"
        "[ppo]\n"
        "lr = 0.25\n"
        "  epochs = 7\n" /* indented key: a key, not a continuation of lr */
        "norm_adv = yes\n"
        "value_clip = Off\n"
        "[kl]\n"
        "controller = adaptive\n"
        "[eval]\n"
        "temperature = 0\n"
        "top_k = 3\n"
        "[log]\n"
        "timing = 1\n";
    assert_int_equal(load_text(&c, text, path, &err), 0);
    assert_string_equal(c.task, "toy_match");
    assert_string_equal(c.algo, "sl");
    assert_true(c.seed == INT64_C(12345678901));
    assert_true(c.ppo.gamma == 0.5);
    assert_string_equal(c.out, "runs/a b.h5");
    assert_true(c.ppo.lr == 0.25);
    assert_int_equal(c.ppo.epochs, 7);
    assert_int_equal(c.ppo.norm_adv, 1);
    assert_int_equal(c.ppo.value_clip, 0);
    assert_string_equal(c.kl.controller, "adaptive");
    assert_true(c.eval_sample.temperature == 0.0);
    assert_int_equal(c.eval_sample.top_k, 3);
    assert_int_equal(c.sample.top_k, 50); /* eval.top_k is not sample.top_k */
    assert_int_equal(c.log.timing, 1);
    /* untouched keys keep their defaults */
    assert_int_equal(c.iterations, 50);
    assert_true(c.sl.lr == 3e-3);
}

static void test_overrides_win(void **state) {
    (void)state;
    config_t c;
    err_t err;
    char path[64];
    assert_int_equal(load_text(&c, "[ppo]\nlr = 0.02\nepochs = 3\n", path, &err), 0);
    assert_true(c.ppo.lr == 0.02);
    assert_int_equal(cfg_set(&c, "ppo.lr", "0.03", "command line", &err), 0);
    assert_int_equal(cfg_set(&c, " threads ", " 8 ", NULL, &err), 0); /* trimmed */
    assert_true(c.ppo.lr == 0.03);
    assert_int_equal(c.ppo.epochs, 3);
    assert_int_equal(c.threads, 8);
}

static void test_unknown_key(void **state) {
    (void)state;
    expect_load_error("task = imdb\n[ppo]\nlrr = 1\n", 3, "unknown key 'ppo.lrr'",
                      "did you mean 'ppo.lr'?", NULL);
    expect_load_error("[ppoo]\nlr = 1\n", 2, "unknown key 'ppoo.lr'", "did you mean 'ppo.lr'?", NULL);

    config_t c;
    err_t err;
    cfg_defaults(&c);
    /* a unique prefix */
    assert_int_equal(cfg_set(&c, "ppo.value", "true", "command line", &err), -1);
    assert_contains(err.msg, "command line: unknown key 'ppo.value' (did you mean 'ppo.value_clip'?)");
    /* the same name in another section */
    assert_int_equal(cfg_set(&c, "ppo.beta", "1", "command line", &err), -1);
    assert_contains(err.msg, "did you mean 'kl.beta'?");
    /* a short name is not a typo of another short name; the same name in several sections is */
    assert_int_equal(cfg_set(&c, "lr", "1", "command line", &err), -1);
    assert_contains(err.msg, "unknown key 'lr' (did you mean 'ppo.lr' or 'sl.lr'?)");
    assert_int_equal(cfg_set(&c, "tsk", "imdb", "command line", &err), -1);
    assert_contains(err.msg, "did you mean 'task'?");
    /* nothing close: no key is named */
    assert_int_equal(cfg_set(&c, "zzzzzzzz", "1", "command line", &err), -1);
    assert_contains(err.msg, "command line: unknown key 'zzzzzzzz'");
    assert_null(strstr(err.msg, "did you mean"));
    /* the removed placeholder is not a key */
    assert_int_equal(cfg_set(&c, "critic.kind_same_as_policy", "1", NULL, &err), -1);
}

static void test_bad_number(void **state) {
    (void)state;
    expect_load_error("[ppo]\nlr = abc\n", 2, "key 'ppo.lr': value 'abc' is not a number",
                      "(expected a real number in (0, 1])", NULL);
    expect_load_error("iterations = many\n", 1, "key 'iterations': value 'many' is not a number",
                      "an integer >= 1", NULL);
    expect_load_error("iterations = 1.5\n", 1, "value '1.5' is not an integer", NULL);
    expect_load_error("iterations = 1e3\n", 1, "value '1e3' is not an integer", NULL);
    expect_load_error("ppo.clip = nan\n", 1, "key 'ppo.clip': value 'nan' is not a finite number", NULL);
    expect_load_error("ppo.ent_coef = inf\n", 1, "value 'inf' is not a finite number", NULL);
    expect_load_error("ppo.ent_coef = 1e999\n", 1, "value '1e999' is not a finite number", NULL);
    expect_load_error("[sl]\nlr =\n", 2, "key 'sl.lr': value '' is empty", NULL);
}

static void test_trailing_junk(void **state) {
    (void)state;
    expect_load_error("\n[ppo]\nepochs = 10x\n", 3, "key 'ppo.epochs': value '10x'",
                      "trailing characters 'x'", "[1, 100]", NULL);
    expect_load_error("[ppo]\nlr = 1e-3x\n", 2, "value '1e-3x' has trailing characters 'x'", NULL);
    expect_load_error("[ppo]\nlr = 0.1 0.2\n", 2, "value '0.1 0.2' has trailing characters", NULL);
    config_t c;
    err_t err;
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "seed", "7 ", "command line", &err), 0); /* trimmed, no junk */
    assert_int_equal(cfg_set(&c, "seed", "7 8", "command line", &err), -1);
    assert_contains(err.msg, "command line: key 'seed': value '7 8' has trailing characters");
    assert_int_equal(c.seed, 7); /* a failed set leaves the value */
}

static void test_out_of_range(void **state) {
    (void)state;
    expect_load_error("[ppo]\nlr = 0\n", 2, "key 'ppo.lr': value '0' is out of range",
                      "(expected a real number in (0, 1])", NULL);
    expect_load_error("threads = 65\n", 1, "key 'threads': value '65' is out of range",
                      "(expected an integer in [1, 64])", NULL);
    expect_load_error("seed = -1\n", 1, "value '-1' is out of range", "an integer >= 0", NULL);
    expect_load_error("seed = 99999999999999999999\n", 1, "is out of range", NULL);
    expect_load_error("world.vocab = 99999999999\n", 1, "is out of range", "[64, 4096]", NULL);
    expect_load_error("[kl]\ntarget = 0\n", 2, "key 'kl.target'", "a real number > 0", NULL);
    expect_load_error("[ppo]\ngamma = 1.0000001\n", 2, "is out of range", "[0, 1]", NULL);

    config_t c;
    err_t err;
    cfg_defaults(&c);
    /* inclusive bounds are accepted */
    assert_int_equal(cfg_set(&c, "ppo.lr", "1", NULL, &err), 0);
    assert_int_equal(cfg_set(&c, "threads", "64", NULL, &err), 0);
    assert_int_equal(cfg_set(&c, "ppo.gamma", "0", NULL, &err), 0);
    assert_int_equal(cfg_set(&c, "model.layers", "0", NULL, &err), -1);
    assert_int_equal(c.model.layers, 2);
    assert_true(c.ppo.lr == 1.0 && c.threads == 64 && c.ppo.gamma == 0.0);
}

static void test_bad_bool(void **state) {
    (void)state;
    expect_load_error("[log]\ntiming = maybe\n", 2, "key 'log.timing': value 'maybe' is not a boolean",
                      "true or false", NULL);
    config_t c;
    err_t err;
    cfg_defaults(&c);
    static const char *yes[] = {"true", "1", "yes", "on", "TRUE", "Yes"};
    static const char *no[] = {"false", "0", "no", "off", "False", "OFF"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(cfg_set(&c, "ppo.norm_adv", yes[i], NULL, &err), 0);
        assert_int_equal(c.ppo.norm_adv, 1);
        assert_int_equal(cfg_set(&c, "ppo.norm_adv", no[i], NULL, &err), 0);
        assert_int_equal(c.ppo.norm_adv, 0);
    }
    assert_int_equal(cfg_set(&c, "ppo.norm_adv", "2", NULL, &err), -1);
}

static void test_bad_choice(void **state) {
    (void)state;
    expect_load_error("task = imbd\n", 1, "key 'task': value 'imbd' is not allowed",
                      "(expected one of imdb | toy_match | toy_lock | commongen | tldr)", NULL);
    expect_load_error("[model]\nkind = GPT\n", 2, "key 'model.kind'", "one of gpt | tabular", NULL);
    config_t c;
    err_t err;
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "algo", "d2lols", NULL, &err), 0); /* accepted here */
    assert_string_equal(c.algo, "d2lols");
    assert_int_equal(cfg_set(&c, "algo", "ppo|sl", NULL, &err), -1);
    assert_int_equal(cfg_set(&c, "algo", "pp", NULL, &err), -1);
    assert_string_equal(c.algo, "d2lols");
}

static void test_bad_string(void **state) {
    (void)state;
    config_t c;
    err_t err;
    char longv[400];
    cfg_defaults(&c);
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    assert_int_equal(cfg_set(&c, "out", longv, NULL, &err), -1);
    assert_contains(err.msg, "key 'out'");
    assert_contains(err.msg, "is too long");
    assert_int_equal(cfg_set(&c, "cache_dir", "", NULL, &err), -1);
    assert_contains(err.msg, "key 'cache_dir': value '' is empty");
    assert_int_equal(cfg_set(&c, "out", "a;b", NULL, &err), -1);
    assert_contains(err.msg, "contains ';'");
    assert_string_equal(c.out, "");
}

static void test_malformed_line(void **state) {
    (void)state;
    expect_load_error("[ppo]\nlr = 1e-3\nthis is not ini\n", 3,
                      "malformed line (expected `key = value` or `[section]`)", NULL);
    expect_load_error("task = imdb\n[ppo\nlr = 1e-3\n", 2, "malformed line", NULL);
    expect_load_error("task = imdb\n[ppo]\n = 1e-3\n", 3, "malformed line", NULL);
    /* the first error wins, whichever kind */
    expect_load_error("junk\n[ppo]\nlr = abc\n", 1, "malformed line", NULL);
    expect_load_error("[ppo]\nlr = abc\njunk\n", 2, "value 'abc' is not a number", NULL);
    char text[400];
    snprintf(text, sizeof text, "seed = 1\nout = %0300d\n", 0);
    expect_load_error(text, 2, "line longer than", NULL);
}

static void test_missing_file(void **state) {
    (void)state;
    config_t c;
    err_t err;
    cfg_defaults(&c);
    assert_int_equal(cfg_load_file(&c, "/nonexistent/rlgf/x.ini", &err), -1);
    assert_contains(err.msg, "/nonexistent/rlgf/x.ini");
    assert_contains(err.msg, strerror(ENOENT));
    assert_int_equal(cfg_load_file(&c, "/tmp", &err), -1); /* a directory */
    assert_contains(err.msg, "/tmp");
    assert_contains(err.msg, "a directory");
    /* a device must not hang (reading /dev/zero never ends) */
    assert_int_equal(cfg_load_file(&c, "/dev/zero", &err), -1);
    assert_contains(err.msg, "/dev/zero: not a regular file");
}

/* A key set twice in one file is an error naming both lines, also across spellings. */
static void test_duplicate_key(void **state) {
    (void)state;
    expect_load_error("[ppo]\nlr = 0.01\nepochs = 2\nlr = 0.02\n", 4, "key 'ppo.lr' is set twice",
                      "first at line 2", NULL);
    expect_load_error("ppo.lr = 0.01\n[ppo]\nlr = 0.02\n", 3, "key 'ppo.lr' is set twice",
                      "first at line 1", NULL);
    /* a command-line override of a key in the file is not a duplicate */
    config_t c;
    err_t err;
    char path[64];
    assert_int_equal(load_text(&c, "[ppo]\nlr = 0.01\n", path, &err), 0);
    assert_int_equal(cfg_set(&c, "ppo.lr", "0.03", NULL, &err), 0);
    assert_true(c.ppo.lr == 0.03);
}

/* -0 and 0 are one value: same bits, same text, same hash. */
static void test_negative_zero(void **state) {
    (void)state;
    config_t a, b;
    err_t err;
    cfg_defaults(&a);
    cfg_defaults(&b);
    assert_int_equal(cfg_set(&a, "guide.quality", "-0", NULL, &err), 0);
    assert_int_equal(cfg_set(&b, "guide.quality", "0", NULL, &err), 0);
    assert_int_equal(cfg_set(&a, "kl.beta", "-0.0e5", NULL, &err), 0);
    assert_int_equal(cfg_set(&b, "kl.beta", "0", NULL, &err), 0);
    assert_false(signbit(a.guide.quality));
    char *ta = cfg_run_text(&a), *tb = cfg_run_text(&b);
    assert_string_equal(ta, tb);
    assert_contains(ta, "\nguide.quality = 0\n");
    free(ta);
    free(tb);
}

/* Values that would make a loss overflow are refused up front. */
static void test_overflow_values(void **state) {
    (void)state;
    config_t c;
    err_t err;
    cfg_defaults(&c);
    assert_int_equal(cfg_set(&c, "kl.beta", "1e308", NULL, &err), -1);
    assert_contains(err.msg, "kl.beta");
    assert_contains(err.msg, "out of range");
    assert_int_equal(cfg_set(&c, "ppo.ent_coef", "1e300", NULL, &err), -1);
    assert_int_equal(cfg_set(&c, "ppo.tgt_coef", "1e300", NULL, &err), -1);
    assert_int_equal(cfg_set(&c, "kl.beta", "1e6", NULL, &err), 0);
}

static void test_validate(void **state) {
    (void)state;
    config_t c;
    err_t err;
    cfg_defaults(&c);
    c.model.heads = 3;
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "model.heads = 3");
    assert_contains(err.msg, "model.channels = 32");

    cfg_defaults(&c);
    c.ppo.minibatch = 200;
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "ppo.minibatch = 200");
    assert_contains(err.msg, "trajectories = 112");

    cfg_defaults(&c);
    c.world.vocab = 64;
    c.sample.top_k = c.eval_sample.top_k = 65;
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "sample.top_k = 65");
    assert_contains(err.msg, "world.vocab = 64");
    c.sample.top_k = 0;
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "eval.top_k = 65");
    c.eval_sample.top_k = 64;
    assert_int_equal(cfg_validate(&c, &err), 0);

    cfg_defaults(&c);
    c.sl.examples = 8;
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "sl.batch = 16");

    cfg_defaults(&c);
    strcpy(c.model.kind, "tabular");
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "model.kind = tabular");
    strcpy(c.task, "toy_lock");
    assert_int_equal(cfg_validate(&c, &err), 0);

    cfg_defaults(&c);
    strcpy(c.kl.controller, "adaptive");
    c.kl.beta = 0;
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "kl.controller");

    /* per-key ranges are checked again for values set in code */
    cfg_defaults(&c);
    c.ppo.lr = -1;
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "key 'ppo.lr': value '-1' is out of range");
    cfg_defaults(&c);
    strcpy(c.task, "summarize");
    assert_int_equal(cfg_validate(&c, &err), -1);
    assert_contains(err.msg, "key 'task'");
}

/* Checks each "key = value" line of text against cfg_get_text; returns the number of lines. */
static int check_lines(const config_t *c, const char *text) {
    int n = 0;
    for (const char *p = text; *p; n++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        char line[512], got[300];
        assert_true((size_t)(nl - p) < sizeof line);
        memcpy(line, p, (size_t)(nl - p));
        line[nl - p] = 0;
        char *eq = strstr(line, " = ");
        assert_non_null(eq);
        *eq = 0;
        assert_int_equal(cfg_get_text(c, line, got, sizeof got), 0);
        assert_string_equal(got, eq + 3);
        p = nl + 1;
    }
    return n;
}

static void test_round_trip(void **state) {
    (void)state;
    config_t a, b;
    err_t err;
    char path[64];
    cfg_defaults(&a);
    a.ppo.lr = 0.1 + 0.2;         /* 0.30000000000000004 */
    a.ppo.gamma = 1.0 / 3.0;
    a.kl.beta = 1e-300;
    a.ppo.ent_coef = 5e-324;      /* the smallest subnormal */
    a.sl.lr = 0.7 * 0.1;
    a.seed = INT64_MAX;
    a.ppo.norm_adv = 1;
    a.log.timing = 1;
    strcpy(a.out, "runs/x y.h5");
    strcpy(a.algo, "lols");
    strcpy(a.kl.controller, "adaptive");
    assert_int_equal(cfg_validate(&a, &err), 0);
    char *t1 = cfg_to_text(&a);
    assert_non_null(t1);
    int nkeys = check_lines(&a, t1);
    assert_true(nkeys >= 50);
    assert_contains(t1, "ppo.lr = 0.30000000000000004\n");
    assert_contains(t1, "ppo.norm_adv = true\n");
    assert_contains(t1, "out = runs/x y.h5\n");
    assert_contains(t1, "eval.temperature = 1\n");
    assert_null(strstr(t1, "critic"));
    /* registry order: task first, sl.adam_eps last */
    assert_int_equal(strncmp(t1, "task = imdb\n", 12), 0);
    assert_non_null(strstr(t1, "sl.adam_eps = "));
    assert_int_equal(strchr(strstr(t1, "sl.adam_eps = "), '\n')[1], 0);

    /* load it as a config file into a config that starts from other values */
    cfg_defaults(&b);
    assert_int_equal(load_text(&b, t1, path, &err), 0);
    char *t2 = cfg_to_text(&b);
    assert_string_equal(t1, t2);
    assert_memory_equal(&a.ppo.lr, &b.ppo.lr, sizeof(double));
    assert_memory_equal(&a.ppo.gamma, &b.ppo.gamma, sizeof(double));
    assert_memory_equal(&a.kl.beta, &b.kl.beta, sizeof(double));
    assert_memory_equal(&a.sl.lr, &b.sl.lr, sizeof(double));
    assert_memory_equal(&a.ppo.ent_coef, &b.ppo.ent_coef, sizeof(double));
    assert_true(b.seed == INT64_MAX);
    free(t1);
    free(t2);

    /* the defaults too (with the empty `out = ` line), loaded over a different config */
    cfg_defaults(&a);
    t1 = cfg_to_text(&a);
    assert_contains(t1, "\nout = \n");
    write_tmp(t1, path);
    b.iterations = 7;
    assert_int_equal(cfg_load_file(&b, path, &err), 0);
    unlink(path);
    t2 = cfg_to_text(&b);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
}

static void test_sl_text(void **state) {
    (void)state;
    config_t c;
    cfg_defaults(&c);
    char *s1 = cfg_sl_text(&c);
    assert_non_null(s1);
    check_lines(&c, s1);
    assert_int_equal(strncmp(s1, "task = imdb\n", 12), 0);
    assert_contains(s1, "\nseed = 0\n");
    assert_contains(s1, "\nworld.vocab = 512\n");
    assert_contains(s1, "\nimdb.gen_len = 48\n");
    assert_contains(s1, "\nmodel.channels = 32\n");
    assert_contains(s1, "\nsl.lr = 0.003\n");
    /* SL has its own optimizer keys; no ppo.* key is part of SL */
    assert_contains(s1, "\nsl.adam_eps = 1e-05\n");
    assert_contains(s1, "\nsl.grad_clip = 1\n");
    assert_contains(s1, "\nsl.weight_decay = 1e-06\n");
    assert_null(strstr(s1, "ppo."));
    assert_null(strstr(s1, "ppo.epochs"));
    assert_null(strstr(s1, "algo"));
    assert_null(strstr(s1, "eval."));
    assert_null(strstr(s1, "kl."));
    assert_null(strstr(s1, "threads"));
    /* RL settings do not move the SL text; SL settings do */
    c.ppo.lr = 0.5;
    c.ppo.grad_clip = 0;
    c.ppo.weight_decay = 0.1;
    c.ppo.adam_eps = 1e-8;
    strcpy(c.algo, "sl");
    c.threads = 4;
    char *s2 = cfg_sl_text(&c);
    assert_string_equal(s1, s2);
    c.sl.epochs = 4;
    char *s3 = cfg_sl_text(&c);
    assert_string_not_equal(s1, s3);
    /* the run text leaves out what cannot change results */
    char *run = cfg_run_text(&c);
    assert_null(strstr(run, "threads"));
    assert_null(strstr(run, "cache_dir"));
    assert_null(strstr(run, "\nout ="));
    assert_contains(run, "\nppo.lr = 0.5\n");
    free(run);
    free(s1);
    free(s2);
    free(s3);
}

static void test_print_list(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    cfg_print_list(f);
    long n = ftell(f);
    assert_true(n > 0);
    char *buf = calloc((size_t)n + 1, 1);
    rewind(f);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    /* every key of the canonical text is listed at the start of a line */
    config_t c;
    cfg_defaults(&c);
    char *t = cfg_to_text(&c);
    int keys = 0;
    for (char *p = t; *p; keys++) {
        char *eq = strstr(p, " = ");
        char needle[140];
        snprintf(needle, sizeof needle, "\n%.*s ", (int)(eq - p), p);
        assert_contains(buf, needle);
        p = strchr(p, '\n') + 1;
    }
    /* header + one line per key, columns aligned: "help" column starts at the same offset */
    int lines = 0;
    for (char *p = buf; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, keys + 1);
    assert_contains(buf, "(0, 1]");
    assert_contains(buf, "imdb|toy_match|toy_lock");
    assert_contains(buf, "trajectories generated per RL iteration");
    char *l1 = strstr(buf, "\nppo.lr "), *l2 = strstr(buf, "\nsl.lr ");
    assert_non_null(l1);
    assert_non_null(l2);
    assert_int_equal(strstr(l1, "AdamW") - l1, strstr(l2, "SL AdamW") - l2);
    free(t);
    free(buf);
}

static void test_shipped_configs(void **state) {
    (void)state;
    static const char *files[] = {"configs/imdb.ini", "configs/imdb_small.ini", "configs/toy_match.ini",
                                  "configs/toy_lock.ini"};
    config_t c[4];
    err_t err;
    for (int i = 0; i < 4; i++) {
        cfg_defaults(&c[i]);
        if (cfg_load_file(&c[i], files[i], &err) != 0) fail_msg("%s", err.msg);
        if (cfg_validate(&c[i], &err) != 0) fail_msg("%s: %s", files[i], err.msg);
    }
    assert_string_equal(c[0].task, "imdb");
    assert_int_equal(c[0].iterations, 30);
    assert_int_equal(c[0].trajectories, 64);
    assert_true(c[0].ppo.lr == 1e-3 && c[0].kl.beta == 0.001);
    assert_int_equal(c[1].model.channels, 16);
    assert_int_equal(c[1].model.layers, 1);
    assert_int_equal(c[1].iterations, 3);
    assert_int_equal(c[1].trajectories, 8);
    assert_int_equal(c[1].ppo.minibatch, 4);
    assert_int_equal(c[1].ppo.epochs, 2);
    assert_int_equal(c[1].imdb.prompt_len, 16);
    assert_int_equal(c[1].imdb.gen_len, 8);
    assert_int_equal(c[1].world.vocab, 128);
    assert_int_equal(c[1].sl.examples, 64);
    assert_int_equal(c[1].sl.epochs, 1);
    assert_int_equal(c[1].eval.prompts, 8);
    assert_int_equal(c[1].eval.test_prompts, 8);
    assert_int_equal(c[1].eval.every, 1);
    assert_string_equal(c[2].task, "toy_match");
    assert_string_equal(c[3].task, "toy_lock");
    for (int i = 2; i < 4; i++) {
        assert_string_equal(c[i].model.kind, "tabular");
        assert_int_equal(c[i].sample.top_k, 0);
        assert_true(c[i].ppo.gamma == 1.0 && c[i].ppo.tgt_coef == 0.0 && c[i].ppo.lr == 0.05);
    }
    assert_true(c[2].kl.beta == 0.1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),      cmocka_unit_test(test_get_text),
        cmocka_unit_test(test_load_file),     cmocka_unit_test(test_overrides_win),
        cmocka_unit_test(test_unknown_key),   cmocka_unit_test(test_bad_number),
        cmocka_unit_test(test_trailing_junk), cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_bad_bool),      cmocka_unit_test(test_bad_choice),
        cmocka_unit_test(test_bad_string),    cmocka_unit_test(test_malformed_line),
        cmocka_unit_test(test_missing_file),  cmocka_unit_test(test_validate),
        cmocka_unit_test(test_duplicate_key), cmocka_unit_test(test_negative_zero),
        cmocka_unit_test(test_overflow_values),
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_sl_text),
        cmocka_unit_test(test_print_list),    cmocka_unit_test(test_shipped_configs),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
