/* kern: the public kernel entry points and the run-time choice between the SSE2 baseline
 * (compiled here from kern_impl.h) and the AVX2 copy (sim/nn/kern_avx2.c). Both run the same
 * operations in the same order on fixed-width vf8 values, so they give the same bits; AVX2 only
 * does each 8-float operation in one instruction instead of two. */
#include "kern.h"

#include <stdatomic.h>

#include "kern_impl.h"

#if defined(__x86_64__)
#define KERN_X86 1
#else
#define KERN_X86 0
#endif

int kern_simd_avx2(void) {
#if KERN_X86
    static int cached = -1; /* benign race: every thread computes the same value */
    if (cached < 0) {
        const char *e = getenv("RLGF_SIMD");
        __builtin_cpu_init();
        cached = (e && !strcmp(e, "base")) ? 0 : (__builtin_cpu_supports("avx2") ? 1 : 0);
    }
    return cached;
#else
    return 0;
#endif
}

/* each thread counts its own (no shared cache line per kernel call) and adds them to the total
 * when the model call it ran ends (kern_flops_flush) */
static _Atomic unsigned long long flops_done;
static _Thread_local unsigned long long flops_here;
static void count_flops(unsigned long long n) { flops_here += n; }
void kern_flops_flush(void) {
    if (flops_here) atomic_fetch_add_explicit(&flops_done, flops_here, memory_order_relaxed);
    flops_here = 0;
}
unsigned long long kern_flops(void) { return atomic_load_explicit(&flops_done, memory_order_relaxed); }

/* the query-key pairs (t2 <= t) of the rows attention computes, times 2 hs: one product's FLOPs */
static unsigned long long attention_pair_flops(int B, int T, int C, const int *from) {
    unsigned long long pairs = 0;
    for (int b = 0; b < B; b++) {
        long t0 = from ? (from[b] < T ? from[b] : T) : 0;
        pairs += (unsigned long long)((long)T * (T + 1) / 2 - t0 * (t0 + 1) / 2);
    }
    return pairs * 2ull * (unsigned long long)C; /* all heads: NH * hs = C */
}

#if KERN_X86
#define KPICK(name) (kern_simd_avx2() ? kv_##name##_avx2 : kv_##name##_base)
#else
#define KPICK(name) kv_##name##_base
#endif

void kern_gemm(float *out, int ldo, const float *a, long sa_n, long sa_k, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M) {
    if (N <= 0 || M <= 0) return;
    count_flops(2ull * (unsigned long long)N * (unsigned long long)(K > 0 ? K : 0) * (unsigned long long)M);
    if (sa_k == 1)
        KPICK(gemm_rm)(out, ldo, a, sa_n, b, ldb, bias, accumulate, N, K, M);
    else if (sa_n == 1)
        KPICK(gemm_tr)(out, ldo, a, sa_k, b, ldb, bias, accumulate, N, K, M);
    else
        KPICK(gemm_gen)(out, ldo, a, sa_n, sa_k, b, ldb, bias, accumulate, N, K, M);
}


void kern_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH, const int *from) {
    int hs = C / NH, ldk = pad8i(T);
    float *kT = malloc(((size_t)hs * ldk + (size_t)T * hs) * sizeof(float)); /* kT, then the packed values */
    KPICK(attention_forward)(out, att, inp, B, T, C, NH, from, kT);
    count_flops(2 * attention_pair_flops(B, T, C, from)); /* scores, weighted values */
    free(kT);
}


void kern_attention_row(float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v,
                        long sv, int t, int hs) {
    KPICK(attention_row)(out, att_row, q, kT, ldk, v, sv, t, hs);
    count_flops(4ull * (unsigned long long)(t + 1) * (unsigned long long)hs);
}


void kern_attention_backward(float *dinp, const float *dout, const float *inp, const float *att, int B, int T, int C,
                             int NH, const int *from, int accumulate) {
    int hs = C / NH, ldv = pad8i(T);
    /* vT (hs, ldv), then every query row's ds (T, ldv) for the dK pass, then the packed keys,
     * queries and output gradients (T, hs) each */
    float *vT = malloc(((size_t)hs * ldv + (size_t)(T > 0 ? T : 1) * ldv + 3 * (size_t)T * hs) * sizeof(float));
    KPICK(attention_backward)(dinp, dout, inp, att, B, T, C, NH, from, accumulate, vT, vT + (size_t)hs * ldv);
    count_flops(4 * attention_pair_flops(B, T, C, from)); /* da, dq, dk, dv */
    free(vT);
}


void kern_gelu_forward(float *out, float *sg, const float *inp, int N) { KPICK(gelu_forward)(out, sg, inp, N); }
void kern_gelu_backward(float *dinp, const float *inp, const float *sg, const float *dout, int N, int accumulate) {
    KPICK(gelu_backward)(dinp, inp, sg, dout, N, accumulate);
}

void kern_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                            const float *bias, int N, int C) {
    KPICK(layernorm_forward)(out, mean, rstd, inp, weight, bias, N, C);
}
void kern_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                             const float *weight, const float *mean, const float *rstd, int N, int C, int accumulate) {
    KPICK(layernorm_backward)(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C, accumulate);
}

void kern_colsum(float *out, const float *a, int N, int M) { KPICK(colsum)(out, a, N, M); }

void kern_exp_shift(double *out, const float *x, int n, double mx, double t) {
    if (n > 0) KPICK(exp_shift)(out, x, n, mx, t);
}

void kern_log_softmax(const float *logits, int V, double *out, double *p) { KPICK(log_softmax)(logits, V, out, p); }
void kern_softmax_grad_pg(float *d, const double *p, const double *ls, double g, double ce, double H, int V) {
    KPICK(softmax_grad_pg)(d, p, ls, g, ce, H, V);
}
void kern_softmax_grad_scaled(float *d, const double *p, double c, int V) { KPICK(softmax_grad_scaled)(d, p, c, V); }

float kern_det_expf(float x) { return det_expf(x); }
void kern_det_expf8(float *out, const float *in) {
    vf8 x = LD8(in), y;
    det_expf8(&y, &x);
    ST8(out, y);
}
