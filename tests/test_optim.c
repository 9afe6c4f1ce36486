/* optim: AdamW against hand-computed steps, global-norm clipping across models, the lr schedules. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../sim/nn/model.h"
#include "../sim/nn/optim.h"

/* A table with V=2, max_seq=2 and a scalar head: 2 + 4 = 6 parameters, all zero. */
static model_t *tiny(void) {
    model_config_t cfg = {.kind = MODEL_TABULAR, .head = HEAD_SCALAR, .vocab = 2, .max_seq = 2};
    rng_t r;
    rng_seed(&r, 1, 1);
    char err[256] = "";
    model_t *m = model_create(&cfg, &r, err, sizeof err);
    if (!m) fail_msg("model_create: %s", err);
    assert_int_equal(m->n_params, 6);
    return m;
}

/* The AdamW formula in double, one element, with the float hyperparameters the step is given. */
static double ref_step(double *p, double *m, double *v, double g, int decay, long t) {
    const double b1 = 0.9f, b2 = 0.999f, eps = 1e-5f, lr = 0.1f, wd = 0.01f;
    *m = b1 * *m + (1 - b1) * g;
    *v = b2 * *v + (1 - b2) * g * g;
    double mhat = *m / (1 - pow(b1, (double)t)), vhat = *v / (1 - pow(b2, (double)t));
    *p -= lr * (mhat / (sqrt(vhat) + eps) + (decay ? wd * *p : 0.0));
    return *p;
}

static void test_adamw_steps(void **state) {
    (void)state;
    model_t *m = tiny();
    adamw_t opt = {.lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-5f, .weight_decay = 0.01f};
    const float p0[6] = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f, -0.25f};
    const float g1[6] = {0.1f, -2.0f, 0.0f, 1e-3f, 5.0f, -0.5f};
    const float g2[6] = {-0.3f, 1.0f, 0.0f, 2e-3f, 5.0f, 0.25f};
    memcpy(m->params, p0, sizeof p0);
    m->decay_mask[1] = 1;
    m->decay_mask[2] = 1;
    m->decay_mask[4] = 1;
    double p[6], mm[6] = {0}, vv[6] = {0};
    for (int i = 0; i < 6; i++) p[i] = p0[i];

    memcpy(m->grads, g1, sizeof g1);
    adamw_step(&opt, m, 1);
    /* t = 1: mhat = g, vhat = g^2, so the step is lr (sign(g) |g| / (|g| + eps) + wd p) */
    assert_float_equal(m->params[0], 0.5 - 0.1 * (0.1 / (0.1 + 1e-5)), 1e-6);
    assert_float_equal(m->params[1], -1.0 - 0.1 * (-2.0 / (2.0 + 1e-5) + 0.01 * -1.0), 1e-6);
    assert_float_equal(m->params[2], 2.0 - 0.1 * 0.01 * 2.0, 1e-6); /* zero grad: decay only */
    assert_true(m->params[5] != p0[5]);
    for (int i = 0; i < 6; i++) {
        ref_step(&p[i], &mm[i], &vv[i], g1[i], m->decay_mask[i], 1);
        assert_float_equal(m->params[i], p[i], 1e-6 * (1 + fabs(p[i])));
        assert_float_equal(m->adam_m[i], mm[i], 1e-7 * (1 + fabs(mm[i])));
        assert_float_equal(m->adam_v[i], vv[i], 1e-7 * (1 + fabs(vv[i])));
    }
    memcpy(m->grads, g2, sizeof g2);
    adamw_step(&opt, m, 2);
    for (int i = 0; i < 6; i++) {
        ref_step(&p[i], &mm[i], &vv[i], g2[i], m->decay_mask[i], 2);
        assert_float_equal(m->params[i], p[i], 1e-6 * (1 + fabs(p[i])));
    }
    /* grads are left alone by the step */
    assert_memory_equal(m->grads, g2, sizeof g2);
    model_destroy(m);
}

/* AdamW drives a quadratic to its minimum (decay off). */
static void test_adamw_converges(void **state) {
    (void)state;
    model_t *m = tiny();
    adamw_t opt = {.lr = 0.05f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f};
    const float target[6] = {1, -2, 0.5f, 3, -0.75f, 0};
    for (long t = 1; t <= 2000; t++) {
        for (int i = 0; i < 6; i++) m->grads[i] = 2.0f * (m->params[i] - target[i]);
        adamw_step(&opt, m, t);
    }
    for (int i = 0; i < 6; i++) assert_float_equal(m->params[i], target[i], 1e-2);
    model_destroy(m);
}

static void test_clip(void **state) {
    (void)state;
    model_t *a = tiny(), *b = tiny();
    model_t *both[2] = {a, b};
    a->grads[0] = 3.0f;
    b->grads[5] = -4.0f;
    assert_float_equal(optim_grad_sq(both, 2), 25.0, 0.0);
    assert_float_equal(optim_grad_sq(both, 1), 9.0, 0.0);
    /* above the max: scaled to norm max_norm, direction kept */
    assert_float_equal(optim_clip_grads(both, 2, 1.0), 5.0, 0.0);
    assert_float_equal(sqrt(optim_grad_sq(both, 2)), 1.0, 1e-6);
    assert_float_equal(a->grads[0], 0.6, 1e-7);
    assert_float_equal(b->grads[5], -0.8, 1e-7);
    /* below the max, or clipping off: untouched, and the norm is still returned */
    float before[6];
    memcpy(before, a->grads, sizeof before);
    assert_float_equal(optim_clip_grads(both, 2, 10.0), 1.0, 1e-6);
    assert_float_equal(optim_clip_grads(both, 2, 0.0), 1.0, 1e-6);
    assert_float_equal(optim_clip_grads(both, 2, -1.0), 1.0, 1e-6);
    assert_memory_equal(a->grads, before, sizeof before);
    optim_zero_grads(a);
    for (int i = 0; i < 6; i++) assert_true(a->grads[i] == 0.0f);
    assert_float_equal(optim_grad_sq(both, 2), 0.8f * 0.8f, 1e-7);
    model_destroy(a);
    model_destroy(b);
}

static void test_lr(void **state) {
    (void)state;
    assert_float_equal(optim_lr(LR_CONSTANT, 0.5f, 0, 100), 0.5, 0.0);
    assert_float_equal(optim_lr(LR_CONSTANT, 0.5f, 99, 100), 0.5, 0.0);
    assert_float_equal(optim_lr(LR_LINEAR, 1e-3f, 0, 100), 1e-3f, 0.0);
    assert_float_equal(optim_lr(LR_LINEAR, 1e-3f, 25, 100), 7.5e-4, 1e-10);
    assert_float_equal(optim_lr(LR_LINEAR, 1e-3f, 50, 100), 5e-4, 1e-10);
    assert_float_equal(optim_lr(LR_LINEAR, 1e-3f, 100, 100), 0.0, 0.0);
    assert_float_equal(optim_lr(LR_LINEAR, 1e-3f, 150, 100), 0.0, 0.0); /* clamped */
    assert_true(optim_lr(LR_LINEAR, 1e-3f, 99, 100) > 0.0f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adamw_steps),
        cmocka_unit_test(test_adamw_converges),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_lr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
