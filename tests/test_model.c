/* model: finite-difference gradient checks of every GPT layer and of both whole models (LM and
 * scalar heads) and of the table; KV cache against the batch forward (bit for bit); causality;
 * init, clone, copy and config errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../sim/base/dmath.h"
#include "../sim/nn/gpt.h"
#include "../sim/nn/kern.h"
#include "../sim/nn/model.h"

#define H gpt_test_hooks

/* ---- helpers ---- */

static float *randn(rng_t *r, size_t n, double std) {
    float *x = malloc(n * sizeof(float));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(std * rng_normal(r));
    return x;
}

static float *zeros(size_t n) {
    float *x = calloc(n ? n : 1, sizeof(float));
    assert_non_null(x);
    return x;
}

static double dot_loss(const float *out, const float *r, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * (double)r[i];
    return s;
}

typedef double (*loss_fn)(void *ctx);

/* Central differences on every element of x (float), the loss evaluated in double; compares with
 * the analytic gradient g. Passes when |a - n| <= atol + rtol max(|a|, |n|). Returns the largest
 * |analytic| seen so the caller can check the gradient was not trivially zero. */
static double fd_check(const char *what, float *x, const float *g, size_t n, loss_fn loss, void *ctx, double eps,
                       double rtol, double atol) {
    double max_abs = 0.0, worst = 0.0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float x0 = x[i];
        float xp = (float)(x0 + eps), xm = (float)(x0 - eps);
        x[i] = xp;
        double lp = loss(ctx);
        x[i] = xm;
        double lm = loss(ctx);
        x[i] = x0;
        double num = (lp - lm) / ((double)xp - (double)xm);
        double a = g[i], err = fabs(a - num), tol = atol + rtol * fmax(fabs(a), fabs(num));
        if (fabs(a) > max_abs) max_abs = fabs(a);
        if (err / tol > worst) worst = err / tol;
        if (err > tol) {
            if (bad < 5) print_error("%s[%zu]: analytic %.8g numeric %.8g\n", what, i, a, num);
            bad++;
        }
    }
    if (bad) fail_msg("%s: %d of %zu gradients off (worst err/tol %.3g)", what, bad, n, worst);
    return max_abs;
}

#define EPS 1e-3
#define RTOL 1e-2
#define ATOL 2e-3

/* ---- layers ---- */

typedef struct {
    int B, T, C, OC, NH, V;
    float *out, *r, *a, *b, *c, *d, *scratch;
    int32_t *tok;
} lctx_t;

static double enc_loss(void *p) {
    lctx_t *c = p;
    H.encoder_forward(c->out, c->tok, c->a, c->b, c->B, c->T, c->C);
    return dot_loss(c->out, c->r, (size_t)c->B * c->T * c->C);
}

static void test_encoder_grad(void **state) {
    (void)state;
    rng_t rg;
    rng_seed(&rg, 1, 1);
    lctx_t c = {.B = 2, .T = 4, .C = 5, .V = 3};
    size_t N = (size_t)c.B * c.T;
    int32_t tok[8] = {0, 2, 2, 1, 1, 1, 0, 2};
    c.tok = tok;
    c.a = randn(&rg, (size_t)c.V * c.C, 1); /* wte */
    c.b = randn(&rg, (size_t)c.T * c.C, 1); /* wpe */
    c.r = randn(&rg, N * c.C, 1);
    c.out = zeros(N * c.C);
    float *dwte = zeros((size_t)c.V * c.C), *dwpe = zeros((size_t)c.T * c.C);
    H.encoder_backward(dwte, dwpe, c.r, tok, c.B, c.T, c.C);
    assert_true(fd_check("encoder dwte", c.a, dwte, (size_t)c.V * c.C, enc_loss, &c, EPS, RTOL, ATOL) > 0.1);
    assert_true(fd_check("encoder dwpe", c.b, dwpe, (size_t)c.T * c.C, enc_loss, &c, EPS, RTOL, ATOL) > 0.1);
    free(c.a), free(c.b), free(c.r), free(c.out), free(dwte), free(dwpe);
}

static double ln_loss(void *p) {
    lctx_t *c = p;
    size_t N = (size_t)c->B * c->T;
    H.layernorm_forward(c->out, c->c, c->d, c->a, c->b, c->scratch, (int)N, c->C);
    return dot_loss(c->out, c->r, N * c->C);
}

static void test_layernorm_grad(void **state) {
    (void)state;
    rng_t rg;
    rng_seed(&rg, 2, 1);
    lctx_t c = {.B = 2, .T = 3, .C = 7};
    size_t N = (size_t)c.B * c.T;
    c.a = randn(&rg, N * c.C, 1.5); /* inp */
    c.b = randn(&rg, c.C, 1);       /* weight */
    c.scratch = randn(&rg, c.C, 1); /* bias */
    c.c = zeros(N), c.d = zeros(N);
    c.r = randn(&rg, N * c.C, 1);
    c.out = zeros(N * c.C);
    ln_loss(&c);
    /* normalised rows: mean 0 and variance 1 before the affine map */
    for (size_t n = 0; n < N; n++) {
        double m = 0;
        for (int i = 0; i < c.C; i++) m += c.a[n * c.C + i];
        assert_float_equal(c.c[n], m / c.C, 1e-5);
    }
    float *dinp = zeros(N * c.C), *dw = zeros(c.C), *db = zeros(c.C);
    H.layernorm_backward(dinp, dw, db, c.r, c.a, c.b, c.c, c.d, (int)N, c.C);
    assert_true(fd_check("layernorm dinp", c.a, dinp, N * c.C, ln_loss, &c, EPS, RTOL, ATOL) > 0.1);
    assert_true(fd_check("layernorm dweight", c.b, dw, c.C, ln_loss, &c, EPS, RTOL, ATOL) > 0.1);
    assert_true(fd_check("layernorm dbias", c.scratch, db, c.C, ln_loss, &c, EPS, RTOL, ATOL) > 0.1);
    free(c.a), free(c.b), free(c.scratch), free(c.c), free(c.d), free(c.r), free(c.out);
    free(dinp), free(dw), free(db);
}

static double mm_loss(void *p) {
    lctx_t *c = p;
    size_t N = (size_t)c->B * c->T;
    H.matmul_forward(c->out, c->a, c->b, c->c, c->scratch, (int)N, c->C, c->OC);
    return dot_loss(c->out, c->r, N * c->OC);
}

static void check_matmul(int B, int T, int C, int OC, uint64_t seed) {
    rng_t rg;
    rng_seed(&rg, seed, 1);
    lctx_t c = {.B = B, .T = T, .C = C, .OC = OC};
    size_t N = (size_t)c.B * c.T, OCp = ((size_t)OC + 7) / 8 * 8;
    c.a = randn(&rg, N * c.C, 1);
    c.b = randn(&rg, (size_t)c.OC * c.C, 1);
    c.c = randn(&rg, c.OC, 1);
    c.r = randn(&rg, N * c.OC, 1);
    c.out = zeros(N * c.OC);
    c.scratch = zeros((size_t)C * OCp);
    /* the tiled path on transposed weights and the plain dot-product path give the same bits */
    float *out_dot = zeros(N * c.OC);
    H.matmul_forward(c.out, c.a, c.b, c.c, c.scratch, (int)N, c.C, c.OC);
    H.matmul_forward(out_dot, c.a, c.b, c.c, NULL, (int)N, c.C, c.OC);
    assert_memory_equal(c.out, out_dot, N * c.OC * sizeof(float));
    H.matmul_forward(c.out, c.a, c.b, NULL, c.scratch, (int)N, c.C, c.OC);
    H.matmul_forward(out_dot, c.a, c.b, NULL, NULL, (int)N, c.C, c.OC);
    assert_memory_equal(c.out, out_dot, N * c.OC * sizeof(float));
    /* and the value: out[N-1][OC-1] by hand */
    double e = c.c[OC - 1];
    for (int i = 0; i < c.C; i++) e += (double)c.a[(N - 1) * c.C + i] * c.b[(size_t)(OC - 1) * c.C + i];
    H.matmul_forward(c.out, c.a, c.b, c.c, c.scratch, (int)N, c.C, c.OC);
    assert_float_equal(c.out[(N - 1) * c.OC + OC - 1], e, 1e-5);

    /* a zero row of dout is skipped: set row 0 to zero in the check too (when there are others) */
    if (N > 1) memset(c.r, 0, (size_t)OC * sizeof(float));
    float *dinp = zeros(N * c.C), *dw = zeros((size_t)c.OC * c.C), *db = zeros(c.OC);
    H.matmul_backward(dinp, dw, db, c.r, c.a, c.b, (int)N, c.C, c.OC);
    for (int i = 0; i < C && N > 1; i++) assert_true(dinp[i] == 0.0f);
    assert_true(fd_check("matmul dinp", c.a, dinp, N * c.C, mm_loss, &c, EPS, RTOL, ATOL) > 0.1);
    assert_true(fd_check("matmul dweight", c.b, dw, (size_t)c.OC * c.C, mm_loss, &c, EPS, RTOL, ATOL) > 0.1);
    assert_true(fd_check("matmul dbias", c.c, db, c.OC, mm_loss, &c, EPS, RTOL, ATOL) > 0.1);
    free(c.a), free(c.b), free(c.c), free(c.r), free(c.out), free(c.scratch), free(out_dot);
    free(dinp), free(dw), free(db);
}

/* Shapes that hit every tile and remainder of the kernels: rows 4k and not, outputs 8k and not,
 * channels 8k and not. */
static void test_matmul_grad(void **state) {
    (void)state;
    check_matmul(2, 3, 5, 9, 3);
    check_matmul(3, 3, 16, 13, 4);
    check_matmul(2, 4, 24, 8, 5);
    check_matmul(1, 1, 8, 1, 6);
}

static double att_loss(void *p) {
    lctx_t *c = p;
    H.attention_forward(c->out, c->b, c->a, c->B, c->T, c->C, c->NH);
    return dot_loss(c->out, c->r, (size_t)c->B * c->T * c->C);
}

static void test_attention_grad(void **state) {
    (void)state;
    rng_t rg;
    rng_seed(&rg, 4, 1);
    lctx_t c = {.B = 2, .T = 5, .C = 6, .NH = 2};
    size_t N = (size_t)c.B * c.T;
    c.a = randn(&rg, N * 3 * c.C, 1);                         /* qkv */
    int ldT = (c.T + 7) / 8 * 8;                              /* att rows are padded to 8 */
    c.b = zeros((size_t)c.B * c.NH * c.T * ldT);              /* att */
    c.r = randn(&rg, N * c.C, 1);
    c.out = zeros(N * c.C);
    att_loss(&c);
    /* each softmax row sums to 1 over t2 <= t */
    for (int bh = 0; bh < c.B * c.NH; bh++)
        for (int t = 0; t < c.T; t++) {
            double s = 0;
            for (int t2 = 0; t2 <= t; t2++) s += c.b[((size_t)bh * c.T + t) * ldT + t2];
            assert_float_equal(s, 1.0, 1e-5);
            for (int t2 = t + 1; t2 < ldT; t2++) assert_true(c.b[((size_t)bh * c.T + t) * ldT + t2] == 0.0f);
        }
    /* position 0 attends only to itself: its output is its own value vector */
    for (int i = 0; i < c.C; i++) assert_float_equal(c.out[i], c.a[2 * c.C + i], 1e-6);
    float *dinp = zeros(N * 3 * c.C), *scratch = zeros(c.T);
    H.attention_backward(dinp, scratch, c.r, c.a, c.b, c.B, c.T, c.C, c.NH);
    assert_true(fd_check("attention dinp", c.a, dinp, N * 3 * c.C, att_loss, &c, EPS, RTOL, ATOL) > 0.1);
    free(c.a), free(c.b), free(c.r), free(c.out), free(dinp), free(scratch);
}

/* The attention kernels' orders (sim/nn/kern_impl.h), stated as plain scalar loops: score = (sum_i
 * q_i k_i ascending) * scale; e = dm_fexpf(score - max); the exp sum and the backward's dot in 8
 * lanes (t2 mod 8, ascending) combined by the tree ((0+1)+(2+3))+((4+5)+(6+7)); att = e * (1/sum);
 * weighted sums (out, dq) in 4 partials (t2 mod 4) combined (P0+P1)+(P2+P3); dk, dv accumulate
 * over query rows in ascending t. */
static float tree8(const float l[8]) { return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])); }

static void attention_reference(float *out, float *att, float *dinp, const float *dout, const float *inp, int B,
                                int T, int C, int NH, const int *from) {
    int C3 = 3 * C, hs = C / NH, ldT = (T + 7) / 8 * 8;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = from[b]; t < T; t++) {
                const float *q = inp + ((long)b * T + t) * C3 + h * hs;
                float *a = att + (((long)b * NH + h) * T + t) * ldT, mx = -INFINITY, lane[8] = {0};
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = inp + ((long)b * T + t2) * C3 + C + h * hs;
                    float acc = 0.0f;
                    for (int i = 0; i < hs; i++) acc += q[i] * k[i];
                    a[t2] = acc * scale;
                    if (a[t2] > mx) mx = a[t2];
                }
                for (int t2 = 0; t2 <= t; t2++) lane[t2 % 8] += a[t2] = dm_fexpf(a[t2] - mx);
                float inv = 1.0f / tree8(lane);
                for (int t2 = 0; t2 <= t; t2++) a[t2] *= inv;
                for (int i = 0; i < hs; i++) {
                    float P[4] = {0};
                    for (int t2 = 0; t2 <= t; t2++) P[t2 % 4] += a[t2] * inp[((long)b * T + t2) * C3 + 2 * C + h * hs + i];
                    out[((long)b * T + t) * C + h * hs + i] = (P[0] + P[1]) + (P[2] + P[3]);
                }
            }
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = from[b]; t < T; t++) {
                const float *q = inp + ((long)b * T + t) * C3 + h * hs, *d = dout + ((long)b * T + t) * C + h * hs;
                const float *a = att + (((long)b * NH + h) * T + t) * ldT;
                float ds[64], lane[8] = {0}; /* T <= 64 in the test */
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = inp + ((long)b * T + t2) * C3 + 2 * C + h * hs;
                    float acc = 0.0f;
                    for (int i = 0; i < hs; i++) acc += d[i] * v[i];
                    ds[t2] = acc;
                    lane[t2 % 8] += a[t2] * acc;
                }
                float dot = tree8(lane);
                for (int t2 = 0; t2 <= t; t2++) ds[t2] = (a[t2] * (ds[t2] - dot)) * scale;
                for (int i = 0; i < hs; i++) {
                    float P[4] = {0};
                    for (int t2 = 0; t2 <= t; t2++) P[t2 % 4] += ds[t2] * inp[((long)b * T + t2) * C3 + C + h * hs + i];
                    dinp[((long)b * T + t) * C3 + h * hs + i] += (P[0] + P[1]) + (P[2] + P[3]);
                }
                for (int t2 = 0; t2 <= t; t2++)
                    for (int i = 0; i < hs; i++) {
                        dinp[((long)b * T + t2) * C3 + C + h * hs + i] += ds[t2] * q[i];
                        dinp[((long)b * T + t2) * C3 + 2 * C + h * hs + i] += a[t2] * d[i];
                    }
            }
}

/* The kernels a test can call: the public entry (the variant picked at run time) and, on x86-64,
 * both compiled variants directly (sim/nn/kern_impl.h's kv_*_base and kv_*_avx2; workspaces as
 * sim/nn/kern.c sizes them), so the unit test checks the SSE2 baseline and AVX2 alike. */
typedef struct {
    const char *name;
    void (*fwd)(float *, float *, const float *, int, int, int, int, const int *, float *);
    void (*bwd)(float *, const float *, const float *, const float *, int, int, int, int, const int *, int, float *,
                float *);
} att_variant_t;
#if defined(__x86_64__)
void kv_attention_forward_base(float *, float *, const float *, int, int, int, int, const int *, float *);
void kv_attention_backward_base(float *, const float *, const float *, const float *, int, int, int, int, const int *,
                                int, float *, float *);
void kv_attention_forward_avx2(float *, float *, const float *, int, int, int, int, const int *, float *);
void kv_attention_backward_avx2(float *, const float *, const float *, const float *, int, int, int, int, const int *,
                                int, float *, float *);
#endif

static void run_attention(const att_variant_t *v, float *out, float *att, float *dinp, const float *dout,
                          const float *inp, int B, int T, int C, int NH, const int *from, int accumulate) {
    if (!v->fwd) {
        kern_attention_forward(out, att, inp, B, T, C, NH, from);
        kern_attention_backward(dinp, dout, inp, att, B, T, C, NH, from, accumulate);
        return;
    }
    int hs = C / NH, ld = (T + 7) / 8 * 8;
    float *ws = malloc(((size_t)hs * ld + (size_t)T * ld + 3 * (size_t)T * hs) * sizeof(float));
    v->fwd(out, att, inp, B, T, C, NH, from, ws);
    v->bwd(dinp, dout, inp, att, B, T, C, NH, from, accumulate, ws, ws + (size_t)hs * ld);
    free(ws);
}

/* Every head size the kernels have an instance for (8, 16, 32: unrolled; 24 and 5: the general
 * code, vector and scalar), several lengths (1, 4, 8, 9, 21: partial and whole vectors and
 * unrolled groups), whole and with `from`, at unit scale and at 1e-20 (products underflow: -0 and
 * subnormal scores, max ties between +0 and -0), in every variant, gives the reference's bits,
 * forward and backward. The rows before `from` hold NaN in att and zeros in dout: a kernel that
 * reads or writes them fails. */
static void test_attention_orders(void **state) {
    (void)state;
    att_variant_t variants[3] = {{"kern", NULL, NULL}};
    int nv = 1;
#if defined(__x86_64__)
    variants[nv++] = (att_variant_t){"base", kv_attention_forward_base, kv_attention_backward_base};
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        variants[nv++] = (att_variant_t){"avx2", kv_attention_forward_avx2, kv_attention_backward_avx2};
#endif
    const int sizes[] = {8, 16, 32, 24, 5}, lens[] = {1, 4, 8, 9, 21};
    const float scales[] = {1.0f, 1e-20f};
    long cases = 0;
    for (int si = 0; si < 5; si++)
        for (int li = 0; li < 5; li++)
            for (int sc = 0; sc < 2; sc++)
                for (int part = 0; part < 3; part++) /* no from; from inside; a sequence from its end */
                    for (int acc = 0; acc < 2; acc++)
                    for (int vi = 0; vi < nv; vi++) {
                        int hs = sizes[si], NH = 3, C = hs * NH, B = 2, T = lens[li], ldT = (T + 7) / 8 * 8;
                        int whole[2] = {0, 0}, from[2] = {part == 1 ? T / 3 : (part ? T : 0), part == 1 ? T - 1 : (part ? 1 % T : 0)};
                        rng_t rg;
                        rng_seed(&rg, 40 + (uint64_t)(si * 10 + li), (uint64_t)(sc * 2 + part));
                        size_t N = (size_t)B * T, NA = (size_t)B * NH * T * ldT;
                        float *inp = randn(&rg, N * 3 * C, 1), *dout = randn(&rg, N * C, 1);
                        for (size_t j = 0; j < N * 3 * C; j++) inp[j] *= scales[sc];
                        float *out = zeros(N * C), *att = zeros(NA), *dinp = randn(&rg, N * 3 * C, 1);
                        float *rout = zeros(N * C), *ratt = zeros(NA), *rdinp = malloc(N * 3 * C * sizeof(float));
                        for (int b = 0; b < B; b++) {
                            memset(dout + (size_t)b * T * C, 0, (size_t)from[b] * C * sizeof(float));
                            for (int h = 0; h < NH; h++)
                                for (size_t j = 0; j < (size_t)from[b] * ldT; j++)
                                    att[((size_t)b * NH + h) * T * ldT + j] = ratt[((size_t)b * NH + h) * T * ldT + j] = NAN;
                        }
                        memcpy(rdinp, dinp, N * 3 * C * sizeof(float)); /* both accumulate onto the same values */
                        if (!acc) /* written, not added: onto garbage, against the reference onto zeros */
                            for (size_t j = 0; j < N * 3 * C; j++) dinp[j] = NAN, rdinp[j] = 0.0f;
                        run_attention(&variants[vi], out, att, dinp, dout, inp, B, T, C, NH, part ? from : NULL, acc);
                        attention_reference(rout, ratt, rdinp, dout, inp, B, T, C, NH, part ? from : whole);
                        for (int b = 0; b < B; b++)
                            for (size_t j = ((size_t)b * T + from[b]) * C; j < (size_t)(b + 1) * T * C; j++)
                                if (memcmp(&out[j], &rout[j], sizeof(float)))
                                    fail_msg("%s hs %d T %d scale %g from %d: out[%zu] = %a, reference %a", variants[vi].name,
                                             hs, T, scales[sc], part, j, out[j], rout[j]);
                        if (memcmp(att, ratt, NA * sizeof(float)))
                            fail_msg("%s hs %d T %d scale %g from %d: att differs from the reference", variants[vi].name, hs,
                                     T, scales[sc], part);
                        for (size_t j = 0; j < N * 3 * C; j++)
                            if (memcmp(&dinp[j], &rdinp[j], sizeof(float)))
                                fail_msg("%s hs %d T %d scale %g from %d accumulate %d: dinp[%zu] = %a, reference %a",
                                         variants[vi].name, hs, T, scales[sc], part, acc, j, dinp[j], rdinp[j]);
                        free(inp), free(dout), free(out), free(att), free(dinp), free(rout), free(ratt), free(rdinp);
                        cases++;
                    }
    printf("attention: %ld cases (%d variants) give the reference's bits\n", cases, nv);
}

static double gelu_loss(void *p) {
    lctx_t *c = p;
    H.gelu_forward(c->out, c->a, c->C);
    return dot_loss(c->out, c->r, c->C);
}

static void test_gelu_grad(void **state) {
    (void)state;
    rng_t rg;
    rng_seed(&rg, 5, 1);
    lctx_t c = {.C = 40};
    c.a = randn(&rg, c.C, 2);
    c.a[0] = 0.0f;
    c.a[1] = 6.0f;
    c.a[2] = -6.0f;
    c.r = randn(&rg, c.C, 1);
    c.out = zeros(c.C);
    gelu_loss(&c);
    assert_float_equal(c.out[0], 0.0, 0.0);
    assert_float_equal(c.out[1], 6.0, 1e-5); /* ~identity far right */
    assert_float_equal(c.out[2], 0.0, 1e-5); /* ~zero far left */
    float *dinp = zeros(c.C);
    H.gelu_backward(dinp, c.a, c.r, c.C);
    assert_true(fd_check("gelu dinp", c.a, dinp, c.C, gelu_loss, &c, EPS, RTOL, ATOL) > 0.1);
    free(c.a), free(c.r), free(c.out), free(dinp);
}

static double res_loss(void *p) {
    lctx_t *c = p;
    H.residual_forward(c->out, c->a, c->b, c->C);
    return dot_loss(c->out, c->r, c->C);
}

static void test_residual_grad(void **state) {
    (void)state;
    rng_t rg;
    rng_seed(&rg, 6, 1);
    lctx_t c = {.C = 10};
    c.a = randn(&rg, c.C, 1);
    c.b = randn(&rg, c.C, 1);
    c.r = randn(&rg, c.C, 1);
    c.out = zeros(c.C);
    float *d1 = zeros(c.C), *d2 = zeros(c.C);
    H.residual_backward(d1, d2, c.r, c.C);
    assert_true(fd_check("residual dinp1", c.a, d1, c.C, res_loss, &c, EPS, RTOL, ATOL) > 0.1);
    assert_true(fd_check("residual dinp2", c.b, d2, c.C, res_loss, &c, EPS, RTOL, ATOL) > 0.1);
    free(c.a), free(c.b), free(c.r), free(c.out), free(d1), free(d2);
}

/* The kernels' vector exp (sim/base/dmath's 8-lane dm_fexpf8) gives the scalar one's bits, lane by
 * lane, through the hooks the kernels use (accuracy: tests/test_dmath.c against MPFR); GELU's
 * 8-wide body gives the bits of its scalar tail element by element. */
static void test_det_math_vector(void **state) {
    (void)state;
    float in[8], out[8], one;
    for (int k = -100000; k <= 100000; k += 8) {
        for (int l = 0; l < 8; l++) in[l] = (float)(k + l) * 1e-3f;
        H.det_expf8(out, in);
        for (int l = 0; l < 8; l++) assert_true(memcmp(&out[l], &(float){H.det_expf(in[l])}, 4) == 0);
        H.gelu_forward(out, in, 8);
        for (int l = 0; l < 8; l++) {
            H.gelu_forward(&one, &in[l], 1);
            assert_true(memcmp(&out[l], &one, 4) == 0);
        }
    }
    float edge[8] = {-INFINITY, -1000.0f, -87.5f, -87.0f, 88.0f, 88.5f, 1000.0f, -0.0f};
    H.det_expf8(out, edge);
    for (int l = 0; l < 8; l++) assert_true(memcmp(&out[l], &(float){H.det_expf(edge[l])}, 4) == 0);
    H.gelu_forward(out, edge, 8);
    for (int l = 0; l < 8; l++) {
        H.gelu_forward(&one, &edge[l], 1);
        assert_true(memcmp(&out[l], &one, 4) == 0 || (out[l] != out[l] && one != one));
    }
}

/* A matmul row's bits do not depend on how many rows share the call (tiles of 4, remainders). */
static void test_matmul_row_independent(void **state) {
    (void)state;
    rng_t rg;
    rng_seed(&rg, 11, 1);
    int C = 40, OC = 37, N = 11;
    float *x = randn(&rg, (size_t)N * C, 1), *w = randn(&rg, (size_t)OC * C, 1), *bias = randn(&rg, OC, 1);
    float *all = zeros((size_t)N * OC), *one = zeros(OC), *wT = zeros((size_t)C * OC);
    H.matmul_forward(all, x, w, bias, wT, N, C, OC);
    for (int n = 0; n < N; n++) {
        H.matmul_forward(one, x + (size_t)n * C, w, bias, wT, 1, C, OC);
        assert_memory_equal(one, all + (size_t)n * OC, (size_t)OC * sizeof(float));
    }
    free(x), free(w), free(bias), free(all), free(one), free(wT);
}

/* kern_gemm on shapes whose right operand does not fit in L1 (packed panels of 16 columns and 256
 * rows of k, rows of a in blocks), or whose transposed left operand has rows 1 KiB or more apart
 * (packed panels of 16 of its rows), gives the plain loop's bits: every init (bias, accumulate, zero),
 * two panels of k, leftover columns past the last 16, row blocks, strides wider than the shape.
 * The reference is the loop of kern.h's definition, compiled with the same -ffp-contract=off.
 * Finite inputs only: with NaNs the payload that survives may differ (kern.h). */
static void check_gemm_plain(int N, int K, int M, int mode, int trans, uint64_t seed) {
    rng_t rg;
    rng_seed(&rg, seed, 3);
    /* a(n,k) at a[n sa + k], or transposed (dout^T of the weight gradient) at a[n + k sa] */
    int sa = trans ? (N + 3 > 260 ? N + 3 : 260) : K + 3, ldb = M + 5, ldo = M + 2; /* wider than the shape */
    long sn = trans ? 1 : sa, sk = trans ? sa : 1;
    float *a = randn(&rg, (size_t)(trans ? K : N) * sa, 1), *b = randn(&rg, (size_t)K * ldb, 1);
    float *bias = randn(&rg, (size_t)M, 1), *init = randn(&rg, (size_t)N * ldo, 1);
    float *got = malloc((size_t)N * ldo * sizeof(float)), *want = malloc((size_t)N * ldo * sizeof(float));
    assert_non_null(got), assert_non_null(want);
    memcpy(got, init, (size_t)N * ldo * sizeof(float));
    memcpy(want, init, (size_t)N * ldo * sizeof(float));
    kern_gemm(got, ldo, a, sn, sk, b, ldb, mode == 0 ? bias : NULL, mode == 1, N, K, M);
    for (int n = 0; n < N; n++)
        for (int j = 0; j < M; j++) {
            float acc = mode == 0 ? bias[j] : mode == 1 ? want[(size_t)n * ldo + j] : 0.0f;
            for (int k = 0; k < K; k++) acc += a[(size_t)n * sn + (size_t)k * sk] * b[(size_t)k * ldb + j];
            want[(size_t)n * ldo + j] = acc;
        }
    for (size_t i = 0; i < (size_t)N * ldo; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)))
            fail_msg("kern_gemm N=%d K=%d M=%d mode %d trans %d: element %zu is %a, the plain loop %a", N, K, M,
                     mode, trans, i, got[i], want[i]);
    free(a), free(b), free(bias), free(init), free(got), free(want);
}

static void test_gemm_panels(void **state) {
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        check_gemm_plain(50, 300, 37, mode, 0, 1);  /* two panels of k, 5 columns past 32 */
        check_gemm_plain(45, 2000, 20, mode, 0, 2); /* row blocks of 32 (256 KiB of a), 8 panels of k */
        check_gemm_plain(9, 40, 257, mode, 0, 3);   /* one k panel, 16 blocks of columns and one more */
        check_gemm_plain(61, 32, 512, mode, 0, 4);  /* the LM head's shape */
        check_gemm_plain(7, 300, 64, mode, 0, 5);   /* too few rows for panels: the direct path */
        /* transposed a (panels of 16 of its rows): the LM head's weight gradient, two panels of k
         * and 8 rows past the last 16, fewer than 16 rows (the direct path) */
        check_gemm_plain(512, 336, 32, mode, 1, 6);
        check_gemm_plain(40, 300, 19, mode, 1, 7);
        check_gemm_plain(15, 300, 32, mode, 1, 8);
    }
}

/* ---- whole models ---- */

static model_config_t small_cfg(head_kind_t head) {
    model_config_t c = {.kind = MODEL_GPT, .head = head, .vocab = 11, .max_seq = 6, .channels = 8, .layers = 2,
                        .heads = 2};
    return c;
}

static model_t *make(const model_config_t *cfg, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed, 7);
    char err[256] = "";
    model_t *m = model_create(cfg, &r, err, sizeof err);
    if (!m) fail_msg("model_create: %s", err);
    return m;
}

/* Moves every parameter away from its init (gains off 1, biases and the zero scalar head off 0),
 * so every path of the gradient is exercised. */
static void perturb(model_t *m, uint64_t seed, double std) {
    rng_t r;
    rng_seed(&r, seed, 99);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] += (float)(std * rng_normal(&r));
}

typedef struct {
    model_t *m;
    model_ws_t *ws;
    const int32_t *tok;
    int B, T;
    const float *r;
} mctx_t;

static double model_loss(void *p) {
    mctx_t *c = p;
    const float *out = model_forward(c->m, c->ws, c->tok, c->B, c->T);
    return dot_loss(out, c->r, (size_t)c->B * c->T * model_out_dim(c->m));
}

static void check_model_grad(model_t *m, const char *what, const int32_t *tok, int B, int T) {
    rng_t rg;
    rng_seed(&rg, 8, 1);
    size_t nout = (size_t)B * T * model_out_dim(m);
    float *r = randn(&rg, nout, 1);
    model_ws_t *ws = model_ws_create(m, B + 1, m->cfg.max_seq); /* larger than used: layout by max */
    mctx_t c = {m, ws, tok, B, T, r};
    float *g = zeros(m->n_params);
    model_loss(&c);
    model_backward(m, ws, r, g);
    double mx = fd_check(what, m->params, g, m->n_params, model_loss, &c, EPS, RTOL, ATOL);
    assert_true(mx > 0.1);
    /* no tensor is left without gradient: count zero grads (only wpe rows past T and wte rows of
     * unused tokens may be zero). The key biases are skipped: a constant added to every key shifts
     * all scores of a query equally, so their true gradient is 0 and float noise may or may not be. */
    gpt_params_t gp;
    gpt_point(&m->cfg, g, &gp);
    size_t nz = 0, C3 = 3 * (size_t)m->cfg.channels;
    for (size_t i = 0; i < m->n_params; i++) {
        size_t qb = (size_t)(gp.qkvb - g);
        if (i >= qb && i < qb + m->cfg.layers * C3 && (i - qb) % C3 >= C3 / 3 && (i - qb) % C3 < 2 * C3 / 3) continue;
        nz += g[i] == 0.0f;
    }
    size_t C = (size_t)m->cfg.channels, unused_pos = (size_t)(m->cfg.max_seq - T) * C;
    int used[64] = {0};
    for (int i = 0; i < B * T; i++) used[tok[i]] = 1;
    size_t unused_tok = 0;
    for (int v = 0; v < m->cfg.vocab; v++) unused_tok += !used[v];
    /* with the tied LM head every wte row gets gradient through the logits */
    size_t expect = unused_pos + (m->cfg.head == HEAD_SCALAR ? unused_tok * C : 0);
    assert_int_equal(nz, expect);
    /* backward accumulates: a second call doubles the gradient */
    float *g2 = malloc(m->n_params * sizeof(float));
    memcpy(g2, g, m->n_params * sizeof(float));
    model_forward(m, ws, tok, B, T);
    model_backward(m, ws, r, g2);
    for (size_t i = 0; i < m->n_params; i++) assert_float_equal(g2[i], 2.0 * g[i], 1e-6 + 1e-5 * fabs(g[i]));
    free(g), free(g2), free(r);
    model_ws_destroy(ws);
}

static const int32_t TOK[10] = {1, 4, 4, 9, 0, 10, 3, 2, 2, 7};

static void test_gpt_lm_grad(void **state) {
    (void)state;
    model_config_t cfg = small_cfg(HEAD_LM);
    model_t *m = make(&cfg, 1);
    perturb(m, 1, 0.2);
    check_model_grad(m, "gpt lm", TOK, 2, 5);
    model_destroy(m);
}

static void test_gpt_scalar_grad(void **state) {
    (void)state;
    model_config_t cfg = small_cfg(HEAD_SCALAR);
    model_t *m = make(&cfg, 2);
    perturb(m, 2, 0.2);
    check_model_grad(m, "gpt scalar", TOK, 2, 5);
    model_destroy(m);
}

static void test_tabular_grad(void **state) {
    (void)state;
    for (int head = 0; head < 2; head++) {
        model_config_t cfg = {.kind = MODEL_TABULAR, .head = (head_kind_t)head, .vocab = 3, .max_seq = 4};
        model_t *m = make(&cfg, 3);
        perturb(m, 3, 1.0);
        int32_t tok[8] = {0, 2, 1, 1, 0, 2, 2, 2}; /* shares the prefix "0 2" between rows */
        rng_t rg;
        rng_seed(&rg, 8, 2);
        float *r = randn(&rg, (size_t)8 * model_out_dim(m), 1);
        model_ws_t *ws = model_ws_create(m, 2, 4);
        mctx_t c = {m, ws, tok, 2, 4, r};
        float *g = zeros(m->n_params);
        model_loss(&c);
        model_backward(m, ws, r, g);
        assert_true(fd_check(head ? "tabular scalar" : "tabular lm", m->params, g, m->n_params, model_loss, &c, EPS,
                             RTOL, ATOL) > 0.1);
        /* the shared prefix rows "0" and "0 2" got both sequences' gradient */
        int OD = model_out_dim(m);
        int64_t row01 = tab_row_next(tab_row_next(0, 0, 0, 3), 1, 2, 3);
        assert_int_equal(row01, 3 * 1 + 2);
        assert_float_equal(g[row01 * OD], (double)r[1 * OD] + r[5 * OD], 1e-6);
        free(r), free(g);
        model_ws_destroy(ws);
        model_destroy(m);
    }
}

/* Every prefix of length 1..max_seq gets its own row and the rows are exactly 0..n_rows-1. */
static void test_tabular_rows(void **state) {
    (void)state;
    int V = 3, S = 4;
    model_config_t cfg = {.kind = MODEL_TABULAR, .head = HEAD_SCALAR, .vocab = V, .max_seq = S};
    model_t *m = make(&cfg, 4);
    size_t n_rows = 3 + 9 + 27 + 81;
    assert_int_equal(m->n_params, n_rows);
    for (size_t i = 0; i < m->n_params; i++) {
        assert_true(m->params[i] == 0.0f);
        assert_int_equal(m->decay_mask[i], 0);
        m->params[i] = (float)i; /* out = row index */
    }
    char *seen = calloc(n_rows, 1);
    model_ws_t *ws = model_ws_create(m, 1, S);
    model_kv_t *kv = model_kv_create(m, S);
    for (int code = 0; code < 81; code++) { /* all sequences of length 4; prefixes cover the rest */
        int32_t tok[4] = {code / 27, code / 9 % 3, code / 3 % 3, code % 3};
        const float *out = model_forward(m, ws, tok, 1, S);
        model_kv_reset(kv);
        for (int t = 0; t < S; t++) {
            const float *o = model_kv_step(m, kv, tok[t]);
            assert_true(o[0] == out[t]);
            seen[(size_t)out[t]] = 1;
        }
        /* row = offset(len) + base-V value */
        assert_int_equal((int)out[3], 3 + 9 + 27 + code);
    }
    for (size_t i = 0; i < n_rows; i++) assert_int_equal(seen[i], 1);
    free(seen);
    model_kv_destroy(kv);
    model_ws_destroy(ws);
    model_destroy(m);
}

static void test_tabular_too_big(void **state) {
    (void)state;
    model_config_t cfg = {.kind = MODEL_TABULAR, .head = HEAD_LM, .vocab = 8, .max_seq = 12};
    rng_t r;
    rng_seed(&r, 1, 1);
    char err[512] = "";
    assert_null(model_create(&cfg, &r, err, sizeof err));
    assert_non_null(strstr(err, "rows"));
    assert_non_null(strstr(err, "max_seq 12"));
    cfg.vocab = 4; /* 4 + ... + 4^10 = 1398100 rows: fine */
    cfg.max_seq = 10;
    model_t *m = model_create(&cfg, &r, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(m->n_params, (size_t)1398100 * 4);
    model_destroy(m);
}

/* KV steps reproduce the batch forward bit for bit at every position (same operation order). */
static void check_kv(model_t *m, int B, int T, uint64_t seed) {
    rng_t rg;
    rng_seed(&rg, seed, 3);
    int32_t *tok = malloc((size_t)B * T * sizeof(int32_t));
    for (int i = 0; i < B * T; i++) tok[i] = (int32_t)rng_bounded(&rg, (uint32_t)m->cfg.vocab);
    model_ws_t *ws = model_ws_create(m, B, T);
    const float *out = model_forward(m, ws, tok, B, T);
    model_kv_t *kv = model_kv_create(m, T);
    int D = model_out_dim(m);
    for (int b = 0; b < B; b++) {
        model_kv_reset(kv);
        for (int t = 0; t < T; t++) {
            const float *o = model_kv_step(m, kv, tok[b * T + t]);
            assert_memory_equal(o, out + ((size_t)b * T + t) * D, (size_t)D * sizeof(float));
        }
    }
    model_kv_destroy(kv);
    model_ws_destroy(ws);
    free(tok);
}

static void test_kv_equals_forward(void **state) {
    (void)state;
    model_config_t cfg = small_cfg(HEAD_LM);
    model_t *m = make(&cfg, 5);
    perturb(m, 5, 0.1);
    check_kv(m, 3, 6, 1);
    model_destroy(m);
    cfg = small_cfg(HEAD_SCALAR);
    m = make(&cfg, 6);
    perturb(m, 6, 0.1);
    check_kv(m, 3, 6, 2);
    model_destroy(m);
    /* the typical size: batch path (transposed weights) vs one-row path over a longer sequence */
    model_config_t big = {.kind = MODEL_GPT, .head = HEAD_LM, .vocab = 512, .max_seq = 40, .channels = 32, .layers = 2,
                          .heads = 4};
    m = make(&big, 7);
    check_kv(m, 2, 40, 3);
    model_destroy(m);
    model_config_t tab = {.kind = MODEL_TABULAR, .head = HEAD_LM, .vocab = 3, .max_seq = 5};
    m = make(&tab, 8);
    perturb(m, 8, 1.0);
    check_kv(m, 4, 5, 4);
    model_destroy(m);
}

/* Batched KV steps: rows at different positions, stepping in changing groups and orders, each
 * reproduce the batch forward of their own sequence bit for bit. */
static void test_kv_rows_equal_forward(void **state) {
    (void)state;
    for (int head = 0; head < 2; head++) {
        model_config_t big = {.kind = MODEL_GPT, .head = (head_kind_t)head, .vocab = 64, .max_seq = 21,
                              .channels = 32, .layers = 2, .heads = 4};
        model_t *m = make(&big, 13);
        perturb(m, 13, 0.05);
        int R = 5, T = 21, D = model_out_dim(m);
        rng_t rg;
        rng_seed(&rg, 14, 3);
        int32_t *tok = malloc((size_t)R * T * sizeof(int32_t));
        for (int i = 0; i < R * T; i++) tok[i] = (int32_t)rng_bounded(&rg, 64);
        model_ws_t *ws = model_ws_create(m, R, T);
        const float *out = model_forward(m, ws, tok, R, T);
        model_kv_t *kv = model_kv_create_rows(m, R, T);
        int pos[5] = {0};
        /* row r starts at step r and steps every step after; each step lists rows in reverse */
        for (int step = 0; step < T + R; step++) {
            int rows[5], n = 0;
            int32_t tk[5];
            for (int r = R - 1; r >= 0; r--)
                if (step >= r && pos[r] < T) rows[n] = r, tk[n++] = tok[r * T + pos[r]];
            if (!n) continue;
            const float *o = model_kv_step_rows(m, kv, n, rows, tk);
            for (int q = 0; q < n; q++) {
                int r = rows[q];
                assert_memory_equal(o + (size_t)q * D, out + ((size_t)r * T + pos[r]) * D, (size_t)D * sizeof(float));
                pos[r]++;
            }
        }
        model_kv_destroy(kv);
        model_ws_destroy(ws);
        free(tok);
        model_destroy(m);
    }
}

/* model_forward_from: the same bits where computed, and the same gradients when dout is zero
 * before from (the losses' case). */
static void test_forward_from(void **state) {
    (void)state;
    model_config_t cfg = {.kind = MODEL_GPT, .head = HEAD_LM, .vocab = 50, .max_seq = 12, .channels = 16, .layers = 2,
                          .heads = 2};
    model_t *m = make(&cfg, 15);
    perturb(m, 15, 0.05);
    int B = 3, T = 12, V = 50, from[3] = {5, 0, 11};
    rng_t rg;
    rng_seed(&rg, 16, 3);
    int32_t tok[36];
    for (int i = 0; i < B * T; i++) tok[i] = (int32_t)rng_bounded(&rg, 50);
    float *r = randn(&rg, (size_t)B * T * V, 1);
    for (int b = 0; b < B; b++) memset(r + (size_t)b * T * V, 0, (size_t)from[b] * V * sizeof(float));
    model_ws_t *w1 = model_ws_create(m, B, T), *w2 = model_ws_create(m, B, T);
    const float *o1 = model_forward(m, w1, tok, B, T), *o2 = model_forward_from(m, w2, tok, B, T, from);
    for (int b = 0; b < B; b++)
        assert_memory_equal(o1 + ((size_t)b * T + from[b]) * V, o2 + ((size_t)b * T + from[b]) * V,
                            (size_t)(T - from[b]) * V * sizeof(float));
    float *g1 = zeros(m->n_params), *g2 = zeros(m->n_params);
    model_backward(m, w1, r, g1);
    model_backward(m, w2, r, g2);
    assert_memory_equal(g1, g2, m->n_params * sizeof(float));
    free(g1), free(g2), free(r);
    model_ws_destroy(w1), model_ws_destroy(w2);
    model_destroy(m);
}

/* One case of model_forward_reusing: forward `a` (from fa) on ws, optionally a backward and a
 * parameter change, then a reusing forward on `b` (from fb). Its outputs at the rows it computes
 * and its gradients must be those of model_forward_from on a fresh workspace, bit for bit. */
static long check_reusing(model_t *m, const int32_t *a, const int *fa, const int32_t *b, const int *fb, int B, int T,
                          int backward_between, int change_params, uint64_t seed) {
    int D = model_out_dim(m);
    rng_t rg;
    rng_seed(&rg, seed, 5);
    float *r = randn(&rg, (size_t)B * T * D, 1);
    for (int q = 0; q < B; q++) /* the losses' case: no gradient before from */
        if (fb) memset(r + (size_t)q * T * D, 0, (size_t)fb[q] * D * sizeof(float));
    model_ws_t *ws = model_ws_create(m, B, T), *fresh = model_ws_create(m, B, T);
    assert_int_equal(model_ws_track_rows(ws, m), 0);
    float *g = zeros(m->n_params), *g_ref = zeros(m->n_params);
    model_forward_from(m, ws, a, B, T, fa);
    if (backward_between) model_backward(m, ws, r, g);
    if (change_params) m->params[m->n_params / 2] += 0.25f; /* reuse must notice */
    memset(g, 0, m->n_params * sizeof(float));
    const float *o = model_forward_reusing(m, ws, b, B, T, fb);
    long kept = model_ws_rows_kept(ws);
    const float *o_ref = model_forward_from(m, fresh, b, B, T, fb);
    for (int q = 0; q < B; q++) {
        int f = fb ? fb[q] : 0;
        assert_memory_equal(o + ((size_t)q * T + f) * D, o_ref + ((size_t)q * T + f) * D, (size_t)(T - f) * D * sizeof(float));
    }
    model_backward(m, ws, r, g);
    model_backward(m, fresh, r, g_ref);
    assert_memory_equal(g, g_ref, m->n_params * sizeof(float));
    if (change_params) m->params[m->n_params / 2] -= 0.25f;
    free(g), free(g_ref), free(r);
    model_ws_destroy(ws), model_ws_destroy(fresh);
    return kept;
}

/* The previous forward had another shape: nothing may be kept (the rows are laid out for it). */
static void check_reusing_shape(model_t *m, const int32_t *a, int Ba, int Ta, const int32_t *b, int B, int T) {
    int D = model_out_dim(m);
    model_ws_t *ws = model_ws_create(m, 4, 14), *fresh = model_ws_create(m, 4, 14);
    assert_int_equal(model_ws_track_rows(ws, m), 0);
    model_forward(m, ws, a, Ba, Ta);
    const float *o = model_forward_reusing(m, ws, b, B, T, NULL);
    assert_int_equal(model_ws_rows_kept(ws), 0);
    assert_memory_equal(o, model_forward(m, fresh, b, B, T), (size_t)B * T * D * sizeof(float));
    model_ws_destroy(ws), model_ws_destroy(fresh);
}

/* model_forward_reusing keeps the rows it may and recomputes the rest: the result is always the
 * full forward's, whether the previous forward had `from` or not, a larger or smaller one, a
 * backward ran in between, or the parameters changed (then nothing may be kept). Sequences share
 * a prefix of 0, some, or all of their tokens with the previous forward. It also pins that a
 * workspace's second backward sees nothing of the first: the backward writes its gradient buffers
 * instead of zeroing and adding, so any row it failed to write would still hold the first's. */
static void test_forward_reusing(void **state) {
    (void)state;
    for (int head = 0; head < 2; head++)
        for (int shape = 0; shape < 2; shape++) {
            /* head size 8 (the kernels' unrolled instance) and 4 (the generic one) */
            model_config_t cfg = {.kind = MODEL_GPT, .head = (head_kind_t)head, .vocab = 40, .max_seq = 14,
                                  .channels = 16, .layers = 3, .heads = shape ? 4 : 2};
            model_t *m = make(&cfg, 21 + shape);
            perturb(m, 21 + shape, 0.1);
            enum { B = 4, T = 14 };
            int32_t a[B * T], b[B * T];
            rng_t rg;
            rng_seed(&rg, 22, 3);
            for (int i = 0; i < B * T; i++) a[i] = (int32_t)rng_bounded(&rg, 40);
            memcpy(b, a, sizeof b);
            int share[B] = {0, 5, T, 9}; /* b's first differing position per sequence */
            for (int q = 0; q < B; q++)
                if (share[q] < T) b[q * T + share[q]] = (a[q * T + share[q]] + 1) % 40;
            int f_lo[B] = {4, 4, 13, 0}, f_hi[B] = {7, 6, 13, 12};
            const int *froms[] = {NULL, f_lo, f_hi};
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    for (int between = 0; between < 2; between++) /* the shared prefixes are kept */
                        assert_int_equal(check_reusing(m, a, froms[i], b, froms[j], B, T, between, 0, 30 + i * 3 + j),
                                         0 + 5 + T + 9);
            /* parameters changed: nothing kept */
            assert_int_equal(check_reusing(m, a, f_lo, b, f_lo, B, T, 1, 1, 40), 0);
            /* the same tokens: every row kept */
            assert_int_equal(check_reusing(m, a, f_lo, a, f_lo, B, T, 1, 0, 41), B * T);
            /* a different T (the same tokens up to it) or B: nothing kept */
            int32_t a12[B * 12];
            for (int q = 0; q < B; q++) memcpy(a12 + q * 12, a + q * T, 12 * sizeof(int32_t));
            check_reusing_shape(m, a, B, T, a12, B, 12);
            check_reusing_shape(m, a12, B, 12, a, B, T);
            check_reusing_shape(m, a, B, T, a, 3, T);
            model_destroy(m);
        }
}

/* The backward kernels' write mode (accumulate = 0) gives the bits of adding onto a zeroed buffer,
 * signed zeros included: a product that is -0 or underflows to -0 must come out +0 (0 + -0), as it
 * did onto the memset's +0. Inputs with zeros of both signs, tiny gradients (underflowing
 * products), zero rows and ordinary values; the written buffer starts as NaN garbage. */
static void test_backward_write_modes(void **state) {
    (void)state;
    enum { N = 7, C = 12, NE = N * C };
    rng_t rg;
    rng_seed(&rg, 51, 1);
    float *x = randn(&rg, NE, 1), *d = randn(&rg, NE, 1), *w = randn(&rg, C, 1);
    for (int i = 0; i < NE; i++) {
        if (i % 5 == 0) d[i] = i % 2 ? -1e-30f : 1e-30f; /* products underflow to +-0 */
        if (i % 7 == 0) d[i] = i % 2 ? -0.0f : 0.0f;
        if (i % 11 == 0) x[i] = -0.0f;
    }
    memset(d + 3 * C, 0, C * sizeof(float)); /* a zero row: skipped by the layernorm backward */
    float mean[N], rstd[N], y[NE], set[NE], acc[NE], dw1[C] = {0}, db1[C] = {0}, dw2[C] = {0}, db2[C] = {0};
    kern_layernorm_forward(y, mean, rstd, x, w, w, N, C);
    for (int i = 0; i < NE; i++) set[i] = NAN;
    memset(acc, 0, sizeof acc);
    kern_gelu_backward(set, x, NULL, d, NE, 0);
    kern_gelu_backward(acc, x, NULL, d, NE, 1);
    assert_memory_equal(set, acc, sizeof set);
    long negzero = 0;
    for (int i = 0; i < NE; i++) negzero += signbit(set[i]) && set[i] == 0.0f;
    assert_int_equal(negzero, 0);
    for (int i = 0; i < NE; i++) set[i] = NAN;
    memset(acc, 0, sizeof acc);
    kern_layernorm_backward(set, dw1, db1, d, x, w, mean, rstd, N, C, 0);
    kern_layernorm_backward(acc, dw2, db2, d, x, w, mean, rstd, N, C, 1);
    assert_memory_equal(set, acc, sizeof set);
    assert_memory_equal(dw1, dw2, sizeof dw1);
    free(x), free(d), free(w);
}

/* model_flops counts a forward's model FLOPs exactly: 2 per multiply-add of every matmul and of
 * attention's scores and weighted values, nothing else; with `from`, only what runs. */
static void test_model_flops(void **state) {
    (void)state;
    model_config_t cfg = {.kind = MODEL_GPT, .head = HEAD_LM, .vocab = 40, .max_seq = 9, .channels = 16, .layers = 2,
                          .heads = 2};
    model_t *m = make(&cfg, 31);
    enum { B = 3, T = 9 };
    int32_t tok[B * T];
    for (int i = 0; i < B * T; i++) tok[i] = i % 40;
    model_ws_t *ws = model_ws_create(m, B, T);
    unsigned long long C = 16, V = 40, N = B * T, L = 2, pairs = B * T * (T + 1) / 2;
    unsigned long long f0 = model_flops();
    model_forward(m, ws, tok, B, T);
    unsigned long long layer = 2 * N * C * (3 * C + C + 4 * C) + 2 * N * 4 * C * C + 2 * (2 * pairs * C);
    assert_int_equal(model_flops() - f0, L * layer + 2 * N * C * V);
    /* from = {8, 0, 9}: the last layer's queries, MLP and head run on 1 + 9 + 0 rows */
    int from[B] = {8, 0, 9};
    unsigned long long R = 1 + 9 + 0, lpairs = 9 + pairs / B + 0; /* row 8 of sequence 0: 9 keys */
    f0 = model_flops();
    model_forward_from(m, ws, tok, B, T, from);
    unsigned long long last = 2 * N * C * 3 * C + 2 * R * C * (C + 4 * C) + 2 * R * 4 * C * C + 2 * (2 * lpairs * C);
    assert_int_equal(model_flops() - f0, layer + last + 2 * R * C * V);
    model_ws_destroy(ws);
    model_destroy(m);
}

/* Changing the token at position k leaves outputs before k bit-identical and changes position k. */
static void test_causality(void **state) {
    (void)state;
    for (int head = 0; head < 2; head++) {
        model_config_t cfg = small_cfg((head_kind_t)head);
        model_t *m = make(&cfg, 9);
        perturb(m, 9, 0.2);
        int T = 6, D = model_out_dim(m);
        int32_t a[6] = {3, 1, 4, 1, 5, 9};
        model_ws_t *ws = model_ws_create(m, 1, T);
        float *ref = malloc((size_t)T * D * sizeof(float));
        memcpy(ref, model_forward(m, ws, a, 1, T), (size_t)T * D * sizeof(float));
        for (int k = 0; k < T; k++) {
            int32_t b[6];
            memcpy(b, a, sizeof b);
            b[k] = (b[k] + 5) % cfg.vocab;
            const float *out = model_forward(m, ws, b, 1, T);
            assert_memory_equal(out, ref, (size_t)k * D * sizeof(float));
            assert_memory_not_equal(out + (size_t)k * D, ref + (size_t)k * D, (size_t)D * sizeof(float));
        }
        /* a shorter batch gives the same prefix outputs */
        const float *out = model_forward(m, ws, a, 1, 3);
        assert_memory_equal(out, ref, (size_t)3 * D * sizeof(float));
        free(ref);
        model_ws_destroy(ws);
        model_destroy(m);
    }
}

static void test_init(void **state) {
    (void)state;
    model_config_t cfg = {.kind = MODEL_GPT, .head = HEAD_SCALAR, .vocab = 512, .max_seq = 112, .channels = 32,
                          .layers = 2, .heads = 4};
    model_t *m = make(&cfg, 10), *m2 = make(&cfg, 10), *m3 = make(&cfg, 11);
    assert_true(((uintptr_t)m->arena & 63) == 0);
    size_t V = 512, S = 112, C = 32, L = 2;
    size_t expect_n = V * C + S * C + L * (12 * C * C + 13 * C) + 2 * C + C + 1;
    assert_int_equal(m->n_params, expect_n);
    assert_memory_equal(m->params, m2->params, m->n_params * sizeof(float)); /* same seed, same bits */
    assert_memory_not_equal(m->params, m3->params, m->n_params * sizeof(float));
    for (size_t i = m->n_params; i < 4 * m->n_params; i++) assert_true(m->arena[i] == 0.0f);
    gpt_params_t p;
    gpt_point(&cfg, m->params, &p);
    /* standard deviations of the normal tensors */
    double s = 0, s2 = 0;
    for (size_t i = 0; i < V * C; i++) s += p.wte[i], s2 += (double)p.wte[i] * p.wte[i];
    assert_float_equal(sqrt(s2 / (V * C)), 0.02, 0.001);
    assert_float_equal(s / (V * C), 0.0, 0.001);
    s2 = 0;
    for (size_t i = 0; i < L * 4 * C * C; i++) s2 += (double)p.fcprojw[i] * p.fcprojw[i];
    assert_float_equal(sqrt(s2 / (L * 4 * C * C)), 0.02 / 2.0, 0.0005); /* 0.02 / sqrt(2L), L = 2 */
    for (size_t i = 0; i < L * C; i++) {
        assert_true(p.ln1w[i] == 1.0f && p.ln2w[i] == 1.0f && p.ln1b[i] == 0.0f && p.attprojb[i] == 0.0f);
    }
    for (size_t i = 0; i < C; i++) assert_true(p.lnfw[i] == 1.0f && p.vw[i] == 0.0f);
    assert_true(p.vb[0] == 0.0f);
    /* decay mask: weight matrices, embeddings and the value weights */
    size_t ones = 0;
    for (size_t i = 0; i < m->n_params; i++) ones += m->decay_mask[i];
    assert_int_equal(ones, V * C + S * C + L * 12 * C * C + C);
    assert_int_equal(m->decay_mask[p.qkvw - m->params], 1);
    assert_int_equal(m->decay_mask[p.qkvb - m->params], 0);
    assert_int_equal(m->decay_mask[p.lnfw - m->params], 0);
    assert_int_equal(m->decay_mask[p.vb - m->params], 0);
    assert_int_equal(m->decay_mask[p.vw - m->params], 1);
    /* the untrained critic predicts 0 everywhere */
    model_ws_t *ws = model_ws_create(m, 1, 4);
    int32_t tok[4] = {1, 2, 3, 4};
    const float *out = model_forward(m, ws, tok, 1, 4);
    for (int t = 0; t < 4; t++) assert_true(out[t] == 0.0f);
    model_ws_destroy(ws);
    model_destroy(m), model_destroy(m2), model_destroy(m3);
}

static void test_clone_and_copy(void **state) {
    (void)state;
    model_config_t cfg = small_cfg(HEAD_LM);
    model_t *m = make(&cfg, 12);
    perturb(m, 12, 0.1);
    for (size_t i = 0; i < 3 * m->n_params; i++) m->grads[i] = (float)i * 0.5f; /* grads and moments too */
    model_t *c = model_clone(m);
    assert_non_null(c);
    assert_int_equal(c->n_params, m->n_params);
    assert_memory_equal(c->arena, m->arena, 4 * m->n_params * sizeof(float));
    assert_memory_equal(c->decay_mask, m->decay_mask, m->n_params);
    assert_ptr_not_equal(c->arena, m->arena);
    assert_true(((uintptr_t)c->arena & 63) == 0);
    int32_t tok[5] = {1, 2, 3, 4, 5};
    model_ws_t *w1 = model_ws_create(m, 1, 5), *w2 = model_ws_create(c, 1, 5);
    assert_memory_equal(model_forward(m, w1, tok, 1, 5), model_forward(c, w2, tok, 1, 5), 5 * 11 * sizeof(float));
    /* the clone is independent: its impl points into its own params */
    c->params[0] += 1.0f;
    assert_memory_not_equal(model_forward(m, w1, tok, 1, 5), model_forward(c, w2, tok, 1, 5), 5 * 11 * sizeof(float));
    /* copy back params and moments */
    model_t *d = make(&cfg, 13);
    model_copy_params(d, m);
    assert_memory_equal(d->params, m->params, m->n_params * sizeof(float));
    assert_memory_equal(d->adam_m, m->adam_m, m->n_params * sizeof(float));
    assert_memory_equal(d->adam_v, m->adam_v, m->n_params * sizeof(float));
    model_ws_destroy(w1), model_ws_destroy(w2);
    model_destroy(m), model_destroy(c), model_destroy(d);
}

static void test_config_errors(void **state) {
    (void)state;
    rng_t r;
    rng_seed(&r, 1, 1);
    char err[512] = "";
    model_config_t cfg = small_cfg(HEAD_LM);
    cfg.heads = 3; /* does not divide 8 */
    assert_null(model_create(&cfg, &r, err, sizeof err));
    assert_non_null(strstr(err, "heads (3) must divide channels (8)"));
    cfg = small_cfg(HEAD_LM);
    cfg.layers = 0;
    assert_null(model_create(&cfg, &r, err, sizeof err));
    assert_non_null(strstr(err, "layers"));
    cfg = small_cfg(HEAD_LM);
    cfg.kind = (model_kind_t)7;
    assert_null(model_create(&cfg, &r, NULL, 0)); /* no buffer: still fails cleanly */
    model_config_t tab = {.kind = MODEL_TABULAR, .head = HEAD_SCALAR, .vocab = 2, .max_seq = 2};
    model_t *m = make(&tab, 1);
    assert_int_equal(model_out_dim(m), 1);
    model_destroy(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoder_grad),     cmocka_unit_test(test_layernorm_grad),
        cmocka_unit_test(test_matmul_grad),      cmocka_unit_test(test_attention_grad), cmocka_unit_test(test_attention_orders),
        cmocka_unit_test(test_gelu_grad),        cmocka_unit_test(test_residual_grad),
        cmocka_unit_test(test_gpt_lm_grad),      cmocka_unit_test(test_gpt_scalar_grad),
        cmocka_unit_test(test_tabular_grad),     cmocka_unit_test(test_tabular_rows),
        cmocka_unit_test(test_tabular_too_big),  cmocka_unit_test(test_kv_equals_forward),
        cmocka_unit_test(test_causality),        cmocka_unit_test(test_init),
        cmocka_unit_test(test_clone_and_copy),   cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_kv_rows_equal_forward), cmocka_unit_test(test_forward_from),
        cmocka_unit_test(test_forward_reusing), cmocka_unit_test(test_model_flops),
        cmocka_unit_test(test_backward_write_modes),
        cmocka_unit_test(test_det_math_vector),  cmocka_unit_test(test_matmul_row_independent), cmocka_unit_test(test_gemm_panels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
