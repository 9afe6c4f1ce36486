/* kern: the model's compute kernels (internal to sim/gpt.c and its tests): blocked matmuls,
 * causal attention over all heads, GELU, with their backward passes.
 *
 * Determinism: every output element is computed by an order of operations fixed by this code,
 * never by the thread count, the number of rows in a call or the CPU. Vectors are GCC/Clang
 * portable fixed-width vector types of 8 floats (vf8): element-wise IEEE operations, so a vf8 sum
 * has the same bits whether the compiler emits one AVX instruction, two SSE2 instructions or two
 * NEON instructions for it. On x86-64 each kernel is compiled twice, for the SSE2 baseline and
 * for AVX2 (without FMA: -ffp-contract=off and no "fma" target, so a*b+c is always two roundings),
 * and picked at run time; both give the same bits (make test checks RLGF_SIMD=base against the
 * default). Where a sum is split into partial sums (lanes), the split is by index modulo a fixed
 * count and the partials are combined in a fixed tree, the same in the vector and the scalar tail
 * code. */
#ifndef RLGF_KERN_H
#define RLGF_KERN_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* vf8 values never cross a call boundary (every helper is always-inline), so GCC's note that
 * passing them changes the ABI without AVX does not apply. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));

#define KINLINE static inline __attribute__((always_inline))

KINLINE vf8 ld8(const float *p) {
    vf8 v;
    memcpy(&v, p, sizeof v);
    return v;
}
KINLINE void st8(float *p, vf8 v) { memcpy(p, &v, sizeof v); }
KINLINE vf8 bc8(float x) { return (vf8){x, x, x, x, x, x, x, x}; }
/* lanes where m is all ones take a, the others b (exact: a bit select) */
KINLINE vf8 sel8(vi8 m, vf8 a, vf8 b) { return (vf8)(((vi8)a & m) | ((vi8)b & ~m)); }
/* fixed tree over the 8 lanes: ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) */
KINLINE float hsum8(vf8 v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }
/* the same tree over 8 scalars in an array (the scalar twin of hsum8) */
KINLINE float hsum8a(const float *l) { return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])); }

/* ------------------------------------------------------------------------------------------
 * exp and tanh from IEEE +, -, *, / and exact conversions only, so the bits never depend on the
 * libm build or on which variant (FMA or not) it picks for this CPU: the run log must not change
 * with the host. Cephes expf/tanhf polynomials, within about 1 ulp (tested). The vf8 versions do
 * the same operations lane by lane and give the same bits as the scalar ones (tested). */

// exp(x) for x <= 88; 0 below -87 (where exp is below the smallest normal float anyway)
KINLINE float det_expf(float x) {
    if (x < -87.0f) return 0.0f;
    if (x > 88.0f) x = 88.0f;
    float fx = x * 1.44269504088896341f + 0.5f;
    int n = (int)fx; /* floor(fx), exactly */
    if ((float)n > fx) n--;
    float fn = (float)n;
    float r = x - fn * 0.693359375f; /* Cody-Waite: fn * C1 is exact */
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = ((p * r) * r + r) + 1.0f;
    uint32_t bits = (uint32_t)(n + 127) << 23; /* 2^n, n in [-126, 127] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale; /* exact scaling, as ldexpf */
}

KINLINE vf8 det_expf8(vf8 x0) {
    vi8 tiny = x0 < bc8(-87.0f);
    /* clamp into [-87, 88] first so the conversions below stay in range on masked lanes */
    vf8 x = sel8(tiny, bc8(-87.0f), x0);
    x = sel8(x > bc8(88.0f), bc8(88.0f), x);
    vf8 fx = x * bc8(1.44269504088896341f) + bc8(0.5f);
    vi8 n = __builtin_convertvector(fx, vi8); /* truncation, as (int) */
    n += (vi8)(__builtin_convertvector(n, vf8) > fx); /* -1 where trunc rounded up: floor */
    vf8 fn = __builtin_convertvector(n, vf8);
    vf8 r = x - fn * bc8(0.693359375f);
    r = r - fn * bc8(-2.12194440e-4f);
    vf8 p = bc8(1.9875691500e-4f);
    p = p * r + bc8(1.3981999507e-3f);
    p = p * r + bc8(8.3334519073e-3f);
    p = p * r + bc8(4.1665795894e-2f);
    p = p * r + bc8(1.6666665459e-1f);
    p = p * r + bc8(5.0000001201e-1f);
    p = ((p * r) * r + r) + bc8(1.0f);
    vi8 bits = (n + 127) << 23;
    vf8 scale;
    memcpy(&scale, &bits, sizeof scale);
    return sel8(tiny, bc8(0.0f), p * scale);
}

KINLINE float det_tanhf(float x) {
    float a = fabsf(x);
    if (a < 0.625f) {
        float z = x * x;
        float p = -5.70498872745e-3f;
        p = p * z + 2.06390887954e-2f;
        p = p * z - 5.37397155531e-2f;
        p = p * z + 1.33314422036e-1f;
        p = p * z - 3.33332819422e-1f;
        return (p * z) * x + x;
    }
    float t = a > 9.0f ? 1.0f : 1.0f - 2.0f / (det_expf(2.0f * a) + 1.0f);
    return copysignf(t, x);
}

KINLINE vf8 det_tanhf8(vf8 x) {
    vi8 sign = (vi8)x & (vi8)bc8(-0.0f);
    vf8 a = (vf8)((vi8)x & ~(vi8)bc8(-0.0f));
    vf8 z = x * x;
    vf8 p = bc8(-5.70498872745e-3f);
    p = p * z + bc8(2.06390887954e-2f);
    p = p * z - bc8(5.37397155531e-2f);
    p = p * z + bc8(1.33314422036e-1f);
    p = p * z - bc8(3.33332819422e-1f);
    vf8 small = (p * z) * x + x;
    vf8 t = bc8(1.0f) - bc8(2.0f) / (det_expf8(bc8(2.0f) * a) + bc8(1.0f));
    t = sel8(a > bc8(9.0f), bc8(1.0f), t);
    t = (vf8)(((vi8)t & ~(vi8)bc8(-0.0f)) | sign); /* copysign */
    return sel8(a < bc8(0.625f), small, t);
}

/* ------------------------------------------------------------------------------------------
 * kernels (sim/kern.c) */

// out (N,M) row stride ldo; a(n,k) = a[n*sa_n + k*sa_k] for n < N, k < K; b (K,M) row stride ldb.
// out[n][j] = init + sum_k a(n,k) b[k][j], summed one k at a time in ascending k, where init is
// bias[j] (bias != NULL), out[n][j] itself (accumulate != 0) or 0. No element's bits depend on N, M
// or on which tile computed it.
void kern_gemm(float *out, int ldo, const float *a, long sa_n, long sa_k, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M);

// inp (B,T,3C) holding q,k,v per position (head h uses channels h*hs..h*hs+hs-1 of each); att
// (B,NH,T,T) receives the softmax rows (t2 <= t); out (B,T,C).
void kern_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH);
// dout (B,T,C), inp (B,T,3C), att (B,NH,T,T); dinp (B,T,3C) +=.
void kern_attention_backward(float *dinp, const float *dout, const float *inp, const float *att, int B, int T, int C,
                             int NH);
// One query row of causal attention for one head, as kern_attention_forward computes it: q (hs);
// keys transposed, kT[i*ldk + t2] for i < hs, t2 <= t (ldk >= t+1 rounded up to 8, readable and
// finite there); values at v + t2*sv; out (hs); att_row (t+1) receives the softmax.
void kern_attention_row(float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v,
                        long sv, int t, int hs);

// out, inp are (N): the tanh approximation of GELU
void kern_gelu_forward(float *out, const float *inp, int N);
// dinp, inp, dout are (N): dinp += gelu'(inp) dout
void kern_gelu_backward(float *dinp, const float *inp, const float *dout, int N);

/* 1 when the AVX2 versions run (x86-64 with AVX2, and RLGF_SIMD not set to "base"). */
int kern_simd_avx2(void);

#endif
