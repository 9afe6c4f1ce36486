/* Checkpoints: params and AdamW moments round-trip bit for bit, for a GPT and a tabular model;
 * equal models give equal bytes; the write is atomic; errors name the file and the model. */
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
#include <cmocka.h>
#include <hdf5.h>

#include "../sim/store/ckpt.h"
#include "../sim/base/rng.h"

static char tmpdir[256];

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rlgf_ckpt_XXXXXX");
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

static const model_config_t GPT_CFG = {.kind = MODEL_GPT, .head = HEAD_LM, .vocab = 37, .max_seq = 16,
                                       .channels = 16, .layers = 2, .heads = 4};
static const model_config_t CRITIC_CFG = {.kind = MODEL_GPT, .head = HEAD_SCALAR, .vocab = 37, .max_seq = 16,
                                          .channels = 16, .layers = 1, .heads = 2};
static const model_config_t TAB_CFG = {.kind = MODEL_TABULAR, .head = HEAD_LM, .vocab = 3, .max_seq = 4};

/* A model whose params and moments hold arbitrary bit patterns (after a few "training steps"):
 * negative zero, subnormals, huge values and a NaN with a payload must all come back unchanged. */
static model_t *make_model(const model_config_t *cfg, uint64_t seed) {
    rng_t r = rng_stream(seed, RNG_INIT_POLICY, 0, 0);
    char errbuf[256] = "";
    model_t *m = model_create(cfg, &r, errbuf, sizeof errbuf);
    if (!m) fail_msg("model_create: %s", errbuf);
    rng_t fill = rng_stream(seed, 99, 0, 0);
    for (size_t i = 0; i < m->n_params; i++) {
        m->params[i] += (float)(rng_double(&fill) - 0.5) * 1e-3f;
        m->adam_m[i] = (float)(rng_double(&fill) - 0.5) * 1e-2f;
        m->adam_v[i] = (float)rng_double(&fill) * 1e-4f;
    }
    assert_true(m->n_params >= 4);
    uint32_t nan_bits = 0x7fc01234u, sub_bits = 0x00000001u;
    memcpy(&m->adam_m[0], &nan_bits, 4);
    memcpy(&m->adam_m[1], &sub_bits, 4);
    m->adam_m[2] = -0.0f;
    m->params[3] = 3.4e38f;
    return m;
}

static void assert_same_model(const model_t *a, const model_t *b) {
    assert_int_equal(a->cfg.kind, b->cfg.kind);
    assert_int_equal(a->cfg.head, b->cfg.head);
    assert_int_equal(a->cfg.vocab, b->cfg.vocab);
    assert_int_equal(a->cfg.max_seq, b->cfg.max_seq);
    assert_int_equal(a->cfg.channels, b->cfg.channels);
    assert_int_equal(a->cfg.layers, b->cfg.layers);
    assert_int_equal(a->cfg.heads, b->cfg.heads);
    assert_int_equal(a->n_params, b->n_params);
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    assert_memory_equal(a->adam_m, b->adam_m, a->n_params * sizeof(float));
    assert_memory_equal(a->adam_v, b->adam_v, a->n_params * sizeof(float));
}

static void test_round_trip_exact(void **state) {
    (void)state;
    err_t err = {{0}};
    model_t *pol = make_model(&GPT_CFG, 1), *crit = make_model(&CRITIC_CFG, 2), *tab = make_model(&TAB_CFG, 3);
    model_t *const models[] = {pol, crit, tab};
    const char *const names[] = {"policy", "critic", "table"};
    const char *path = tpath("ck.h5");
    if (ckpt_save(path, models, names, 3, "[run]\nseed = 1\n", 1234, &err) != 0) fail_msg("%s", err.msg);
    assert_true(file_exists(path));
    assert_false(file_exists(tpath("ck.h5.tmp")));
    for (int i = 0; i < 3; i++) {
        model_t *back = ckpt_load(path, names[i], &err);
        if (!back) fail_msg("ckpt_load %s: %s", names[i], err.msg);
        assert_same_model(models[i], back);
        model_destroy(back);
    }
    /* root attributes */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t a = H5Aopen(f, "step", H5P_DEFAULT);
    long long step = 0;
    assert_true(H5Aread(a, H5T_NATIVE_LLONG, &step) >= 0);
    assert_int_equal(step, 1234);
    H5Aclose(a);
    a = H5Aopen(f, "config", H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    char cfg[64] = "";
    assert_int_equal(H5Tget_size(t), strlen("[run]\nseed = 1\n"));
    assert_true(H5Aread(a, t, cfg) >= 0);
    assert_string_equal(cfg, "[run]\nseed = 1\n");
    H5Tclose(t);
    H5Aclose(a);
    H5Fclose(f);
    model_destroy(pol);
    model_destroy(crit);
    model_destroy(tab);
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

static void test_equal_models_equal_bytes_and_overwrite(void **state) {
    (void)state;
    err_t err = {{0}};
    model_t *pol = make_model(&GPT_CFG, 5);
    model_t *const models[] = {pol};
    const char *const names[] = {"policy"};
    assert_int_equal(ckpt_save(tpath("b1.h5"), models, names, 1, "x", 7, &err), 0);
    assert_int_equal(ckpt_save(tpath("b2.h5"), models, names, 1, "x", 7, &err), 0);
    size_t n1, n2;
    unsigned char *b1 = slurp(tpath("b1.h5"), &n1), *b2 = slurp(tpath("b2.h5"), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    free(b1);
    free(b2);
    /* Saving over an existing checkpoint replaces it. */
    pol->params[0] = 42.0f;
    assert_int_equal(ckpt_save(tpath("b1.h5"), models, names, 1, "x", 8, &err), 0);
    model_t *back = ckpt_load(tpath("b1.h5"), "policy", &err);
    assert_non_null(back);
    assert_true(back->params[0] == 42.0f);
    model_destroy(back);
    model_destroy(pol);
}

static void test_errors_name_file_and_model(void **state) {
    (void)state;
    err_t err = {{0}};
    model_t *tab = make_model(&TAB_CFG, 9);
    model_t *const models[] = {tab, tab};
    const char *const names[] = {"table", "table"};
    const char *bad_dir = "/nonexistent_rlgf_dir/ck.h5";
    assert_int_equal(ckpt_save(bad_dir, models, names, 1, "", 0, &err), -1);
    assert_non_null(strstr(err.msg, bad_dir));
    assert_false(file_exists(bad_dir));
    /* duplicate and invalid names */
    assert_int_equal(ckpt_save(tpath("dup.h5"), models, names, 2, "", 0, &err), -1);
    assert_non_null(strstr(err.msg, "table"));
    const char *const slash[] = {"a/b"};
    assert_int_equal(ckpt_save(tpath("dup.h5"), models, slash, 1, "", 0, &err), -1);
    assert_false(file_exists(tpath("dup.h5")));

    const char *path = tpath("one.h5");
    assert_int_equal(ckpt_save(path, models, names, 1, "", 0, &err), 0);
    memset(&err, 0, sizeof err);
    assert_null(ckpt_load(path, "policy", &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "'policy'"));
    assert_non_null(strstr(err.msg, "'table'")); /* lists what it holds */

    memset(&err, 0, sizeof err);
    const char *missing = tpath("missing.h5");
    assert_null(ckpt_load(missing, "policy", &err));
    assert_non_null(strstr(err.msg, missing));

    const char *garbage = tpath("garbage.h5");
    FILE *fp = fopen(garbage, "w");
    fputs("not a checkpoint at all\n", fp);
    fclose(fp);
    memset(&err, 0, sizeof err);
    assert_null(ckpt_load(garbage, "policy", &err));
    assert_non_null(strstr(err.msg, garbage));
    assert_non_null(strstr(err.msg, "not an HDF5 file"));

    /* A checkpoint whose n_params disagrees with what its config builds. */
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t g = H5Gopen2(f, "models/table", H5P_DEFAULT);
    hid_t a = H5Aopen(g, "n_params", H5P_DEFAULT);
    long long wrong = (long long)tab->n_params + 1;
    if (H5Awrite(a, H5T_NATIVE_LLONG, &wrong) < 0) { H5Eprint2(H5E_DEFAULT, stderr); fail(); }
    H5Aclose(a);
    H5Gclose(g);
    H5Fclose(f);
    memset(&err, 0, sizeof err);
    assert_null(ckpt_load(path, "table", &err));
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "'table'"));
    assert_non_null(strstr(err.msg, "parameters"));
    model_destroy(tab);
}

/* XORs one byte at `where` bytes into dataset `dset` (contiguous, so it has a file offset). */
static void flip_byte(const char *path, const char *dset, long where) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    assert_true(d >= 0);
    haddr_t off = H5Dget_offset(d);
    assert_true(off != HADDR_UNDEF);
    H5Dclose(d);
    H5Fclose(f);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, (long)off + where, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, (long)off + where, SEEK_SET);
    fputc(c ^ 0x04, fp);
    fclose(fp);
}

static void copy_file(const char *from, const char *to) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

/* A one-byte change anywhere in weights, moments, run state or saved log, or an edited config
 * text, is a named error on load; an untouched file loads and verifies. */
static void test_checksums_detect_any_change(void **state) {
    (void)state;
    err_t err;
    model_t *m = make_model(&GPT_CFG, 11);
    model_t *const models[1] = {m};
    const char *names[1] = {"policy"};
    const char *snames[2] = {"a", "b"};
    double sv[2] = {3, 0.25};
    unsigned char blob[300];
    for (int i = 0; i < 300; i++) blob[i] = (unsigned char)(i * 7);
    ckpt_extra_t x = {2, snames, sv, blob, sizeof blob};
    const char *good = tpath("good.h5");
    assert_int_equal(ckpt_save_ex(good, models, names, 1, "seed = 1\n", 5, &x, &err), 0);
    assert_int_equal(ckpt_verify(good, 2, snames, &err), 0);
    model_t *back = ckpt_load(good, "policy", &err);
    assert_non_null(back);
    model_destroy(back);

    static const char *const dsets[] = {"models/policy/params", "models/policy/adam_m", "models/policy/adam_v"};
    for (int k = 0; k < 3; k++) {
        const char *p = tpath("flip.h5");
        copy_file(good, p);
        flip_byte(p, dsets[k], 40 + k);
        assert_null(ckpt_load(p, "policy", &err));
        assert_non_null(strstr(err.msg, "checksum mismatch"));
        assert_non_null(strstr(err.msg, "flip.h5"));
    }
    const char *p = tpath("flipblob.h5");
    copy_file(good, p);
    flip_byte(p, "state/blob", 123);
    assert_int_equal(ckpt_verify(p, 2, snames, &err), -1);
    assert_non_null(strstr(err.msg, "checksum mismatch"));

    /* the config text is part of both checksums: a file made for another config is not reused */
    const char *q = tpath("edited.h5");
    copy_file(good, q);
    hid_t f = H5Fopen(q, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Adelete(f, "config") >= 0);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 10);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "config", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0 && H5Awrite(a, t, "seed = 2\n") >= 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Fclose(f);
    assert_null(ckpt_load(q, "policy", &err));
    assert_non_null(strstr(err.msg, "checksum mismatch"));
    assert_int_equal(ckpt_verify(q, 2, snames, &err), -1);

    /* a file without checksums (an older format) is refused, not trusted */
    const char *o = tpath("old.h5");
    copy_file(good, o);
    f = H5Fopen(o, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "models/policy", H5P_DEFAULT);
    assert_true(H5Adelete(g, "checksum") >= 0 && H5Adelete(f, "checksum") >= 0);
    H5Gclose(g);
    H5Fclose(f);
    assert_null(ckpt_load(o, "policy", &err));
    assert_non_null(strstr(err.msg, "has no checksum"));
    assert_int_equal(ckpt_verify(o, 2, snames, &err), -1);
    assert_non_null(strstr(err.msg, "has no checksum"));
    model_destroy(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksums_detect_any_change),
        cmocka_unit_test(test_round_trip_exact),
        cmocka_unit_test(test_equal_models_equal_bytes_and_overwrite),
        cmocka_unit_test(test_errors_name_file_and_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
