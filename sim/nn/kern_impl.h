/* kern_impl.h: the kernel bodies, included once by sim/nn/kern.c (the SSE2 baseline, functions
 * kv_*_base) and once by sim/nn/kern_avx2.c (the same code for AVX2, functions kv_*_avx2). Orders and
 * shapes: sim/nn/kern.h. Nothing else includes this file. */
#ifndef RLGF_KERN_IMPL_H
#define RLGF_KERN_IMPL_H

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../base/dmath.h"

typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));

#define KINLINE static inline __attribute__((always_inline))
/* unroll the next loop 8 times (GCC's -O2 leaves short loops of unknown count rolled) */
#define KUNROLL8 _Pragma("GCC unroll 8")

/* The helpers are macros, and vector-valued helpers take pointers: a vf8 never crosses a call
 * boundary, so no compiler has to pass one in registers a target may not have (Clang refuses that
 * without AVX) and GCC never builds a broadcast lane by lane in a baseline-target helper. */
#define LD8(p) ({ vf8 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define ST8(p, v) ({ vf8 s_ = (v); memcpy((p), &s_, sizeof s_); (void)0; })
#define BC8(x) ({ float b_ = (x); (vf8){b_, b_, b_, b_, b_, b_, b_, b_}; })
/* lanes where m is all ones take a, the others b (exact: a bit select) */
#define SEL8(m, a, b) ((vf8)(((vi8)(a) & (m)) | ((vi8)(b) & ~(m))))
/* the largest of 8 lanes (NaN-free), by a tree: three steps of latency instead of seven. Which of
 * two equal lanes wins can differ from a left-to-right scan only for +0 against -0, and the max is
 * only ever subtracted from scores before an exp, where either zero gives the same bits. */
#define MAXF(a, b) ({ float a_ = (a), b_ = (b); b_ > a_ ? b_ : a_; })
#define HMAX8(v) ({ vf8 m_ = (v); MAXF(MAXF(MAXF(m_[0], m_[1]), MAXF(m_[2], m_[3])), MAXF(MAXF(m_[4], m_[5]), MAXF(m_[6], m_[7]))); })
/* fixed tree over the 8 lanes: ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) */
#define HSUM8(v) ({ vf8 h_ = (v); ((h_[0] + h_[1]) + (h_[2] + h_[3])) + ((h_[4] + h_[5]) + (h_[6] + h_[7])); })

/* ------------------------------------------------------------------------------------------
 * exp: rlgf's own maths (sim/base/dmath.h), the only place a transcendental is computed. The model
 * uses the float-only dm_fexpf (within 1.03 ulp, tests/test_dmath.c against MPFR) in the attention
 * softmax and GELU's sigmoid; the 8-lane version gives the scalar's bits lane by lane. */
#define det_expf(x) dm_fexpf(x)
#define det_expf8(yp, xp) dm_fexpf8((float *)(yp), (const float *)(xp))
#define det_expf8_nonpos(yp, xp) dm_fexpf8_nonpos((float *)(yp), (const float *)(xp)) /* x <= 0: the softmax */

#ifdef KERN_AVX2
#define KV(name) kv_##name##_avx2
#else
#define KV(name) kv_##name##_base
#endif

/* the variant entry points, declared for both suffixes */
#define KERN_VARIANT_DECLS(sfx) \
    void kv_gemm_rm_##sfx(float *out, int ldo, const float *a, long sa_n, const float *b, int ldb, const float *bias, int accumulate, int N, int K, int M); \
    void kv_gemm_tr_##sfx(float *out, int ldo, const float *a, long sa_k, const float *b, int ldb, const float *bias, int accumulate, int N, int K, int M); \
    void kv_gemm_gen_##sfx(float *out, int ldo, const float *a, long sa_n, long sa_k, const float *b, int ldb, const float *bias, int accumulate, int N, int K, int M); \
    void kv_attention_forward_##sfx(float *out, float *att, const float *inp, int B, int T, int C, int NH, const int *from, float *kT); \
    void kv_attention_row_##sfx(float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v, long sv, int t, int hs); \
    void kv_attention_backward_##sfx(float *dinp, const float *dout, const float *inp, const float *att, int B, int T, int C, int NH, const int *from, int accumulate, float *vT, float *ds); \
    void kv_gelu_forward_##sfx(float *out, float *sg, const float *inp, int N); \
    void kv_gelu_backward_##sfx(float *dinp, const float *inp, const float *sg, const float *dout, int N, int accumulate); \
    void kv_colsum_##sfx(float *out, const float *a, int N, int M); \
    void kv_exp_shift_##sfx(double *out, const float *x, int n, double mx, double t); \
    void kv_log_softmax_##sfx(const float *logits, int V, double *out, double *p); \
    void kv_softmax_grad_pg_##sfx(float *d, const double *p, const double *ls, double g, double ce, double H, int V); \
    void kv_softmax_grad_scaled_##sfx(float *d, const double *p, double c, int V); \
    void kv_layernorm_forward_##sfx(float *out, float *mean, float *rstd, const float *inp, const float *weight, \
                                    const float *bias, int N, int C); \
    void kv_layernorm_backward_##sfx(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp, \
                                     const float *weight, const float *mean, const float *rstd, int N, int C, int accumulate);
KERN_VARIANT_DECLS(base)
KERN_VARIANT_DECLS(avx2)

/* ------------------------------------------------------------------------------------------
 * matmul: out (N,M) = init + a (N,K) b (K,M). Register tiles of 4 rows x 16 columns (8 vf8
 * accumulators), then 4 x 8, then single columns; leftover rows one at a time. Every tile adds
 * a(n,k) b[k][j] onto its accumulator one k at a time, so an element's bits are those of the
 * plain loop `acc = init; for k: acc += a(n,k) * b[k][j]` whatever tile it falls in. */

KINLINE float gemm_init(const float *bias, int accumulate, const float *o, int j) {
    return bias ? bias[j] : (accumulate ? o[j] : 0.0f);
}
#define gemm_init8(bias, accumulate, o, j) ((bias) ? LD8((bias) + (j)) : ((accumulate) ? LD8((o) + (j)) : BC8(0.0f)))

KINLINE void gemm_body(float *out, int ldo, const float *a, long sa_n, long sa_k, const float *b, int ldb,
                       const float *bias, int accumulate, int N, int K, int M) {
    int n = 0;
    for (; n + 4 <= N; n += 4) {
        const float *a0 = a + n * sa_n, *a1 = a0 + sa_n, *a2 = a1 + sa_n, *a3 = a2 + sa_n;
        float *o0 = out + (long)n * ldo, *o1 = o0 + ldo, *o2 = o1 + ldo, *o3 = o2 + ldo;
        int j = 0;
        for (; j + 16 <= M; j += 16) {
            vf8 c00 = gemm_init8(bias, accumulate, o0, j), c01 = gemm_init8(bias, accumulate, o0, j + 8);
            vf8 c10 = gemm_init8(bias, accumulate, o1, j), c11 = gemm_init8(bias, accumulate, o1, j + 8);
            vf8 c20 = gemm_init8(bias, accumulate, o2, j), c21 = gemm_init8(bias, accumulate, o2, j + 8);
            vf8 c30 = gemm_init8(bias, accumulate, o3, j), c31 = gemm_init8(bias, accumulate, o3, j + 8);
            const float *bp = b + j;
            long ak = 0;
            for (int k = 0; k < K; k++, bp += ldb, ak += sa_k) {
                vf8 b0 = LD8(bp), b1 = LD8(bp + 8), s;
                s = BC8(a0[ak]), c00 += s * b0, c01 += s * b1;
                s = BC8(a1[ak]), c10 += s * b0, c11 += s * b1;
                s = BC8(a2[ak]), c20 += s * b0, c21 += s * b1;
                s = BC8(a3[ak]), c30 += s * b0, c31 += s * b1;
            }
            ST8(o0 + j, c00), ST8(o0 + j + 8, c01), ST8(o1 + j, c10), ST8(o1 + j + 8, c11);
            ST8(o2 + j, c20), ST8(o2 + j + 8, c21), ST8(o3 + j, c30), ST8(o3 + j + 8, c31);
        }
        for (; j + 8 <= M; j += 8) {
            vf8 c0 = gemm_init8(bias, accumulate, o0, j), c1 = gemm_init8(bias, accumulate, o1, j);
            vf8 c2 = gemm_init8(bias, accumulate, o2, j), c3 = gemm_init8(bias, accumulate, o3, j);
            const float *bp = b + j;
            long ak = 0;
            for (int k = 0; k < K; k++, bp += ldb, ak += sa_k) {
                vf8 b0 = LD8(bp);
                c0 += BC8(a0[ak]) * b0, c1 += BC8(a1[ak]) * b0, c2 += BC8(a2[ak]) * b0, c3 += BC8(a3[ak]) * b0;
            }
            ST8(o0 + j, c0), ST8(o1 + j, c1), ST8(o2 + j, c2), ST8(o3 + j, c3);
        }
        for (; j < M; j++) {
            float c0 = gemm_init(bias, accumulate, o0, j), c1 = gemm_init(bias, accumulate, o1, j);
            float c2 = gemm_init(bias, accumulate, o2, j), c3 = gemm_init(bias, accumulate, o3, j);
            const float *bp = b + j;
            long ak = 0;
            for (int k = 0; k < K; k++, bp += ldb, ak += sa_k) {
                float bv = *bp;
                c0 += a0[ak] * bv, c1 += a1[ak] * bv, c2 += a2[ak] * bv, c3 += a3[ak] * bv;
            }
            o0[j] = c0, o1[j] = c1, o2[j] = c2, o3[j] = c3;
        }
    }
    for (; n < N; n++) {
        const float *a0 = a + n * sa_n;
        float *o0 = out + (long)n * ldo;
        int j = 0;
        for (; j + 16 <= M; j += 16) {
            vf8 c0 = gemm_init8(bias, accumulate, o0, j), c1 = gemm_init8(bias, accumulate, o0, j + 8);
            const float *bp = b + j;
            long ak = 0;
            for (int k = 0; k < K; k++, bp += ldb, ak += sa_k) {
                vf8 s = BC8(a0[ak]);
                c0 += s * LD8(bp), c1 += s * LD8(bp + 8);
            }
            ST8(o0 + j, c0), ST8(o0 + j + 8, c1);
        }
        for (; j + 8 <= M; j += 8) {
            vf8 c0 = gemm_init8(bias, accumulate, o0, j);
            const float *bp = b + j;
            long ak = 0;
            for (int k = 0; k < K; k++, bp += ldb, ak += sa_k) c0 += BC8(a0[ak]) * LD8(bp);
            ST8(o0 + j, c0);
        }
        for (; j < M; j++) {
            float c0 = gemm_init(bias, accumulate, o0, j);
            const float *bp = b + j;
            long ak = 0;
            for (int k = 0; k < K; k++, bp += ldb, ak += sa_k) c0 += a0[ak] * *bp;
            o0[j] = c0;
        }
    }
}

/* The two access patterns the model uses get their own copies so the compiler sees the unit
 * stride: a row-major (forward, dinp) and a transposed (dweight = dout^T inp). */
KINLINE void gemm_rm_body(float *out, int ldo, const float *a, long sa_n, const float *b, int ldb, const float *bias,
                          int accumulate, int N, int K, int M) {
    gemm_body(out, ldo, a, sa_n, 1, b, ldb, bias, accumulate, N, K, M);
}
KINLINE void gemm_tr_body(float *out, int ldo, const float *a, long sa_k, const float *b, int ldb, const float *bias,
                          int accumulate, int N, int K, int M) {
    gemm_body(out, ldo, a, 1, sa_k, b, ldb, bias, accumulate, N, K, M);
}
#define gemm_gen_body gemm_body

/* A right operand b that does not fit in L1 is read in packed panels: 16 of its columns and up to
 * GEMM_PANEL_K of its rows copied contiguous (16 KiB), then every row of a block of a passes over
 * the panel while it stays in L1. Read in place, the 16 columns of successive k lie ldb floats
 * apart; at the model's widths (ldb = 384, 512) those lines fall in a few of L1's sets and evict
 * each other. Only the loops move: an element still adds a(n,k) b[k][j] for k ascending onto one
 * float (the next panel of k continues from the float the last one stored), so the bits are the
 * plain loop's. */
enum { GEMM_PANEL_K = 256, GEMM_PANEL_A_BYTES = 256 * 1024 };
static _Thread_local float gemm_panel[GEMM_PANEL_K * 16] __attribute__((aligned(64)));

KINLINE int gemm_wants_panels(int N, int K, int M) {
    return N >= 8 && M >= 16 && K > 0 && (long)K * M * (long)sizeof(float) > 32 * 1024;
}

KINLINE void gemm_rm_panels(float *out, int ldo, const float *a, long sa_n, const float *b, int ldb, const float *bias,
                            int accumulate, int N, int K, int M) {
    int M16 = M / 16 * 16;
    int NB = GEMM_PANEL_A_BYTES / (K * (int)sizeof(float)); /* the block of a stays in L2 over its panels */
    NB = NB < 16 ? 16 : NB / 4 * 4;
    for (int n0 = 0; n0 < N; n0 += NB) {
        int nb = N - n0 < NB ? N - n0 : NB;
        float *o = out + (long)n0 * ldo;
        const float *an = a + n0 * sa_n;
        for (int j0 = 0; j0 < M16; j0 += 16)
            for (int k0 = 0; k0 < K; k0 += GEMM_PANEL_K) {
                int kc = K - k0 < GEMM_PANEL_K ? K - k0 : GEMM_PANEL_K;
                for (int k = 0; k < kc; k++) memcpy(gemm_panel + k * 16, b + (long)(k0 + k) * ldb + j0, 16 * sizeof(float));
                /* the first panel of k starts from init, the next ones from the sums it stored */
                gemm_rm_body(o + j0, ldo, an + k0, sa_n, gemm_panel, 16, k0 || !bias ? NULL : bias + j0,
                             k0 ? 1 : accumulate, nb, kc, 16);
            }
        if (M16 < M)
            gemm_rm_body(o + M16, ldo, an, sa_n, b + M16, ldb, bias ? bias + M16 : NULL, accumulate, nb, K, M - M16);
    }
}

/* The transposed left operand (a(n,k) = a[n + k sa_k], the weight gradient's dout^T) has the
 * same trouble in a: the 4 rows of a tile are 4 floats of one line per k, successive k sa_k floats
 * apart, and the next tiles want the same lines after L1 has lost them. So 16 of its rows and up to
 * GEMM_PANEL_K of its k are copied contiguous and the 4 tiles over them read the copy; the same
 * continuation over k as above keeps the plain loop's bits. */
KINLINE int gemm_tr_wants_panels(int N, int K, long sa_k) {
    return N >= 16 && K > 0 && sa_k >= 256; /* lines 1 KiB or more apart */
}

KINLINE void gemm_tr_panels(float *out, int ldo, const float *a, long sa_k, const float *b, int ldb, const float *bias,
                            int accumulate, int N, int K, int M) {
    int N16 = N / 16 * 16;
    for (int n0 = 0; n0 < N16; n0 += 16)
        for (int k0 = 0; k0 < K; k0 += GEMM_PANEL_K) {
            int kc = K - k0 < GEMM_PANEL_K ? K - k0 : GEMM_PANEL_K;
            for (int k = 0; k < kc; k++) memcpy(gemm_panel + k * 16, a + n0 + (k0 + k) * sa_k, 16 * sizeof(float));
            gemm_tr_body(out + (long)n0 * ldo, ldo, gemm_panel, 16, b + (long)k0 * ldb, ldb, k0 ? NULL : bias,
                         k0 ? 1 : accumulate, 16, kc, M); /* as above: later panels continue the sums */
        }
    if (N16 < N) gemm_tr_body(out + (long)N16 * ldo, ldo, a + N16, sa_k, b, ldb, bias, accumulate, N - N16, K, M);
}

void KV(gemm_rm)(float *out, int ldo, const float *a, long sa_n, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M) {
    if (gemm_wants_panels(N, K, M))
        gemm_rm_panels(out, ldo, a, sa_n, b, ldb, bias, accumulate, N, K, M);
    else
        gemm_rm_body(out, ldo, a, sa_n, b, ldb, bias, accumulate, N, K, M);
}
void KV(gemm_tr)(float *out, int ldo, const float *a, long sa_k, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M) {
    if (gemm_tr_wants_panels(N, K, sa_k))
        gemm_tr_panels(out, ldo, a, sa_k, b, ldb, bias, accumulate, N, K, M);
    else
        gemm_tr_body(out, ldo, a, sa_k, b, ldb, bias, accumulate, N, K, M);
}
void KV(gemm_gen)(float *out, int ldo, const float *a, long sa_n, long sa_k, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M) { gemm_gen_body(out, ldo, a, sa_n, sa_k, b, ldb, bias, accumulate, N, K, M); }

/* ------------------------------------------------------------------------------------------
 * attention. Orders (the definition; the scalar tails follow the same):
 *  - score s[t2] = (sum_i q[i] k[t2][i], ascending i from 0) * scale;
 *  - the softmax sum: lane l = t2 mod 8 sums its exps in ascending t2, lanes combined by hsum8;
 *  - out[i] = sum over t2 of att[t2] v[t2][i]: four partial sums P_r over t2 = r mod 4, each in
 *    ascending t2 from 0, combined as (P0 + P1) + (P2 + P3);
 *  - backward: dot = sum_t2 att[t2] da[t2] like the softmax sum; dq like out; dk[t2], dv[t2]
 *    accumulate over query rows t in ascending t (for hs % 8 == 0 in a second pass over the rows'
 *    ds, each key's sums in registers, the same order). */

KINLINE int pad8i(int n) { return (n + 7) / 8 * 8; }

/* *out = sum over t2 < n of w[t2] rows[t2 * stride .. + 8]: four partial sums P_r over t2 = r mod 4,
 * each in ascending t2, combined as (P0 + P1) + (P2 + P3). Unrolled by the partials so they stay
 * in registers (indexed p[t2 & 3] they would live in memory). The forward's weighted values and the
 * backward's dq both use it. */
KINLINE void weighted_rows8(vf8 *out, const float *w, const float *rows, long stride, int n) {
    vf8 p[4] = {BC8(0.0f), BC8(0.0f), BC8(0.0f), BC8(0.0f)};
    int t2 = 0;
    for (; t2 + 4 <= n; t2 += 4, rows += 4 * stride) {
        p[0] += BC8(w[t2]) * LD8(rows);
        p[1] += BC8(w[t2 + 1]) * LD8(rows + stride);
        p[2] += BC8(w[t2 + 2]) * LD8(rows + 2 * stride);
        p[3] += BC8(w[t2 + 3]) * LD8(rows + 3 * stride);
    }
    for (int r = 0; t2 < n; t2++, r++, rows += stride) p[r] += BC8(w[t2]) * LD8(rows);
    *out = (p[0] + p[1]) + (p[2] + p[3]);
}

/* Query rows r0 .. r1-1 of one head, all in one 8-aligned block (so all need np = pad8(r1)
 * columns), from their raw scores: S[t][t2] = sum_i q[t][i] k[t2][i] (ascending i from 0) for
 * t2 < np, computed by attention_scores_rows or the row loop of attention_row_body (the same
 * bits). Each row becomes its softmax in place (0 past t). Every row runs the same operations
 * in the same order as alone; the phases go over all rows of the block in turn (scale and max,
 * then the exps, then the normalisation), so the exps of different rows, which do not depend on
 * each other, follow one another instead of each row waiting for its own sum. */
KINLINE void softmax_rows_block(float *S, long ldT, int r0, int r1, int hs) { /* S: row r0 */
    assert(r0 < r1 && r1 - r0 <= 8 && r0 / 8 == (r1 - 1) / 8); /* one 8-aligned block: mx, sum8 below */
    float scale = 1.0f / sqrtf((float)hs);
    int np = pad8i(r1);
    float mx[8];
    vf8 sum8[8];
    for (int t = r0; t < r1; t++) {
        float *sbuf = S + (t - r0) * ldT;
        int n = t + 1;
        vf8 mx8 = BC8(-INFINITY);
        for (int c = 0; c < np; c += 8) {
            vf8 acc = LD8(sbuf + c) * BC8(scale);
            if (c + 8 > n) { /* lanes past t take no part */
                vi8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
                acc = SEL8(lane + c < n, acc, BC8(-INFINITY));
            }
            ST8(sbuf + c, acc);
            mx8 = SEL8(acc > mx8, acc, mx8);
        }
        mx[t - r0] = HMAX8(mx8);
    }
    for (int t = r0; t < r1; t++) {
        float *sbuf = S + (t - r0) * ldT;
        vf8 s8 = BC8(0.0f), m = BC8(mx[t - r0]);
        for (int c = 0; c < np; c += 8) {
            vf8 e, s = LD8(sbuf + c) - m;
            det_expf8_nonpos(&e, &s); /* s <= 0; -inf lanes give exactly 0 */
            ST8(sbuf + c, e);
            s8 += e;
        }
        sum8[t - r0] = s8;
    }
    for (int t = r0; t < r1; t++) {
        float *sbuf = S + (t - r0) * ldT;
        float inv = 1.0f / HSUM8(sum8[t - r0]); /* >= 1: the max term is exp(0) */
        for (int c = 0; c < np; c += 8) ST8(sbuf + c, LD8(sbuf + c) * BC8(inv));
    }
}

/* out (hs) = the weighted values of one query row t from its softmax row p (p[t2], t2 <= t) */
KINLINE void values_row(float *out, const float *p, const float *v, long sv, int t, int hs) {
    int n = t + 1;
    if (hs % 8 == 0) {
        for (int i0 = 0; i0 < hs; i0 += 8) {
            vf8 o;
            weighted_rows8(&o, p, v + i0, sv, n);
            ST8(out + i0, o);
        }
    } else {
        for (int i = 0; i < hs; i++) {
            float q[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            for (int t2 = 0; t2 < n; t2++) q[t2 & 3] += p[t2] * v[(long)t2 * sv + i];
            out[i] = (q[0] + q[1]) + (q[2] + q[3]);
        }
    }
}

/* The decode step's row (the KV cache): its raw scores 8 keys at a time, then the row as above */
KINLINE void attention_row_body(float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v,
                                long sv, int t, int hs) {
    int np = pad8i(t + 1);
    for (int c = 0; c < np; c += 8) {
        vf8 acc = BC8(0.0f);
        KUNROLL8
        for (int i = 0; i < hs; i++) acc += BC8(q[i]) * LD8(kT + (long)i * ldk + c);
        ST8(att_row + c, acc);
    }
    softmax_rows_block(att_row, ldk, t, t + 1, hs); /* a block of one row */
    values_row(out, att_row, v, sv, t, hs);
}

/* Attention runs its query rows in blocks aligned to 8, so that all rows t of a block need the
 * same pad8(t+1) columns: the block from r0 ends here. */
KINLINE int block8_end(int r0, int T) { return (r0 / 8 + 1) * 8 < T ? (r0 / 8 + 1) * 8 : T; }

/* Rows r0 .. r1-1 (one 8-aligned block) of a (T, hs) x (hs, T) product that attention needs,
 * out[t][t2] for t2 < pad8(r1): the query rows (or the backward's output-gradient rows) a at
 * stride sa times the transposed keys (or values) b (hs, ldb), as the matmul kernel's register
 * tiles (sum over i ascending from 0: the row loop's bits); nothing past the padding is written. */
KINLINE void attention_scores_rows(float *out, long ldo, const float *a, long sa, const float *b, int ldb, int r0,
                                   int r1, int hs) {
    gemm_rm_body(out + r0 * ldo, (int)ldo, a + r0 * sa, sa, b, ldb, NULL, 0, r1 - r0, hs, pad8i(r1));
}

KINLINE void attention_forward_body(float *out, float *att, const float *inp, int B, int T, int C, int NH,
                                    const int *from, float *kT, int hs) {
    int C3 = 3 * C, ldk = pad8i(T), ldT = ldk;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *base = inp + (long)b * T * C3;
            /* this head's keys, transposed so 8 keys are one vector; zero padding past T */
            for (int i = 0; i < hs; i++) {
                float *row = kT + (long)i * ldk;
                for (int t2 = 0; t2 < T; t2++) row[t2] = base[(long)t2 * C3 + C + h * hs + i];
                for (int t2 = T; t2 < ldk; t2++) row[t2] = 0.0f;
            }
            /* and its values packed (T, hs): the weighted sums stream them from a few cache lines
             * instead of one line per position */
            float *Vp = kT + (long)hs * ldk;
            for (int t2 = 0; t2 < T; t2++)
                memcpy(Vp + (long)t2 * hs, base + (long)t2 * C3 + 2 * C + h * hs, (size_t)hs * sizeof(float));
            int t0 = from ? from[b] : 0;
            float *A = att + ((long)b * NH + h) * T * ldT;
            for (int r0 = t0, r1; r0 < T; r0 = r1) { /* each block's raw scores, then its softmax */
                r1 = block8_end(r0, T);
                attention_scores_rows(A, ldT, base + h * hs, C3, kT, ldk, r0, r1, hs);
                softmax_rows_block(A + (long)r0 * ldT, ldT, r0, r1, hs);
            }
            for (int t = t0; t < T; t++)
                values_row(out + ((long)b * T + t) * C + h * hs, A + (long)t * ldT, Vp, hs, t, hs);
        }
}

/* The bodies take the head size as an argument; the common sizes get their own instance with hs a
 * constant, so the compiler unrolls the channel loops and keeps q (or d) in registers. The same
 * operations in the same order: the bits do not depend on which instance runs. */
#define HS_DISPATCH(hs, call) \
    switch (hs) {             \
    case 8: { enum { HSC = 8 }; call; } break;   \
    case 16: { enum { HSC = 16 }; call; } break; \
    case 32: { enum { HSC = 32 }; call; } break; \
    default: { int HSC = (hs); call; } break;    \
    }

void KV(attention_forward)(float *out, float *att, const float *inp, int B, int T, int C, int NH, const int *from,
                           float *kT) {
    HS_DISPATCH(C / NH, attention_forward_body(out, att, inp, B, T, C, NH, from, kT, HSC));
}
void KV(attention_row)(float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v, long sv, int t,
               int hs) { HS_DISPATCH(hs, attention_row_body(out, att_row, q, kT, ldk, v, sv, t, HSC)); }

/* The keys' pass of the backward over n query rows for 4 keys: aV[j] += att[t][j] d[t] and
 * aK[j] += ds[t][j] q[t] in ascending t, from pointers at the first row (d, q at strides sd, sq;
 * the att and ds rows at ldT). Its own function with running pointers, so the compiler keeps the
 * loop's counters and the eight accumulators in registers. */
KINLINE void keys_rows4(vf8 *aK, vf8 *aV, const float *pd, long sd, const float *pq, long sq, const float *pa,
                        const float *ps, long ldT, int n) {
    vf8 k0 = aK[0], k1 = aK[1], k2 = aK[2], k3 = aK[3], v0 = aV[0], v1 = aV[1], v2 = aV[2], v3 = aV[3];
    for (; n > 0; n--, pd += sd, pq += sq, pa += ldT, ps += ldT) {
        vf8 dd = LD8(pd), qq = LD8(pq);
        v0 = v0 + BC8(pa[0]) * dd;
        k0 = k0 + BC8(ps[0]) * qq;
        v1 = v1 + BC8(pa[1]) * dd;
        k1 = k1 + BC8(ps[1]) * qq;
        v2 = v2 + BC8(pa[2]) * dd;
        k2 = k2 + BC8(ps[2]) * qq;
        v3 = v3 + BC8(pa[3]) * dd;
        k3 = k3 + BC8(ps[3]) * qq;
    }
    aK[0] = k0, aK[1] = k1, aK[2] = k2, aK[3] = k3, aV[0] = v0, aV[1] = v1, aV[2] = v2, aV[3] = v3;
}

KINLINE void attention_backward_body(float *dinp, const float *dout, const float *inp, const float *att, int B, int T,
                                     int C, int NH, const int *from, int accumulate, float *vT, float *ds, int hs) {
    int C3 = 3 * C, ldv = pad8i(T), ldT = ldv;
    float scale = 1.0f / sqrtf((float)hs);
    /* Without accumulate, dinp is written as 0 + the sums: the bits of accumulating onto zeros.
     * The vector path writes every element once (dq of rows t >= from, dk and dv of every row in
     * the keys' pass) and zeroes the rest; the general path adds in place, onto zeros set here. */
    int set = !accumulate && hs % 8 == 0;
    if (!accumulate && !set) memset(dinp, 0, (size_t)B * T * C3 * sizeof(float));
    for (int b = 0; b < B; b++) {
        if (set) {
            int t0 = from ? (from[b] < T ? from[b] : T) : 0;
            for (int t = 0; t < t0; t++) memset(dinp + ((long)b * T + t) * C3, 0, (size_t)C * sizeof(float)); /* dq */
            if (t0 >= T) memset(dinp + (long)b * T * C3, 0, (size_t)T * C3 * sizeof(float));
        }
        for (int h = 0; h < NH; h++) {
            const float *base = inp + (long)b * T * C3;
            float *dbase = dinp + (long)b * T * C3;
            const float *K = base + C + h * hs, *V = base + 2 * C + h * hs;
            float *dK = dbase + C + h * hs, *dV = dbase + 2 * C + h * hs;
            const float *A = att + ((long)b * NH + h) * T * ldT; /* (T, ldT), zero past t in row t */
            const float *D = dout + (long)b * T * C + h * hs;
            for (int i = 0; i < hs; i++) {
                float *row = vT + (long)i * ldv;
                for (int t2 = 0; t2 < T; t2++) row[t2] = V[(long)t2 * C3 + i];
                for (int t2 = T; t2 < ldv; t2++) row[t2] = 0.0f;
            }
            /* this head's keys, queries and output gradients packed (T, hs): the loops over positions
             * below stream them from a few cache lines instead of one line per position */
            float *Kp = ds + (long)T * ldT, *Qp = Kp + (long)T * hs, *Dp = Qp + (long)T * hs;
            for (int t2 = 0; t2 < T; t2++) {
                memcpy(Kp + (long)t2 * hs, K + (long)t2 * C3, (size_t)hs * sizeof(float));
                memcpy(Qp + (long)t2 * hs, base + (long)t2 * C3 + h * hs, (size_t)hs * sizeof(float));
                memcpy(Dp + (long)t2 * hs, D + (long)t2 * C, (size_t)hs * sizeof(float));
            }
            int t0 = from ? from[b] : 0;
            /* out = sum_t2 att[t2] v[t2]: da[t][t2] = v[t2] . d[t] for every row at once (the block
             * product, sums over i ascending); dv[t2] += att[t2] d below */
            for (int r0 = t0, r1; r0 < T; r0 = r1) {
                r1 = block8_end(r0, T);
                attention_scores_rows(ds, ldT, Dp, hs, vT, ldv, r0, r1, hs);
            }
            for (int t = t0; t < T; t++) {
                int n = t + 1, np = pad8i(n);
                const float *q = base + (long)t * C3 + h * hs;
                float *dq = dbase + (long)t * C3 + h * hs;
                const float *d = D + (long)t * C;
                const float *abuf = A + (long)t * ldT;
                float *da = ds + (long)t * ldT; /* this row's da, then its ds (kept for dK below) */
                vf8 dot8 = BC8(0.0f);
                for (int c = 0; c < np; c += 8) dot8 += LD8(abuf + c) * LD8(da + c);
                float dot = HSUM8(dot8);
                /* softmax, then the scaled scores: ds[t2] = att (da - dot) scale */
                for (int c = 0; c < np; c += 8)
                    ST8(da + c, (LD8(abuf + c) * (LD8(da + c) - BC8(dot))) * BC8(scale));
                if (hs % 8 == 0) {
                    for (int i0 = 0; i0 < hs; i0 += 8) {
                        vf8 g;
                        weighted_rows8(&g, da, Kp + i0, hs, n);
                        ST8(dq + i0, (set ? BC8(0.0f) : LD8(dq + i0)) + g);
                    }
                } else {
                    for (int i = 0; i < hs; i++) {
                        float p[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                        for (int t2 = 0; t2 < n; t2++) {
                            long o = (long)t2 * C3 + i;
                            dV[o] += abuf[t2] * d[i];
                            p[t2 & 3] += da[t2] * K[o];
                            dK[o] += da[t2] * q[i];
                        }
                        dq[i] += (p[0] + p[1]) + (p[2] + p[3]);
                    }
                }
            }
            if (hs % 8 != 0 || t0 >= T) continue;
            /* dv[t2] += att[t][t2] d[t], dk[t2] += ds[t][t2] q[t], over t >= max(t0, t2) in ascending t
             * as the row loop would add them, but kept in registers: 4 keys at a time, 8 channels. */
            for (int i0 = 0; i0 < hs; i0 += 8)
                for (int t2 = 0; t2 < T; t2 += 4) {
                    int w = T - t2 < 4 ? T - t2 : 4;
                    vf8 aK[4], aV[4];
                    for (int j = 0; j < w; j++) {
                        aK[j] = set ? BC8(0.0f) : LD8(dK + (long)(t2 + j) * C3 + i0);
                        aV[j] = set ? BC8(0.0f) : LD8(dV + (long)(t2 + j) * C3 + i0);
                    }
                    int t = t2 > t0 ? t2 : t0;
                    for (; t < T && t < t2 + w - 1; t++) { /* the triangle: keys t2 + j <= t only */
                        vf8 dd = LD8(Dp + (long)t * hs + i0), qq = LD8(Qp + (long)t * hs + i0);
                        const float *ar = A + (long)t * ldT + t2, *sr = ds + (long)t * ldT + t2;
                        for (int j = 0; j < w && t2 + j <= t; j++) {
                            aV[j] = aV[j] + BC8(ar[j]) * dd;
                            aK[j] = aK[j] + BC8(sr[j]) * qq;
                        }
                    }
                    if (w == 4) {
                        if (t < T)
                            keys_rows4(aK, aV, Dp + (long)t * hs + i0, hs, Qp + (long)t * hs + i0, hs,
                                       A + (long)t * ldT + t2, ds + (long)t * ldT + t2, ldT, T - t);
                    } else
                        for (; t < T; t++) {
                            vf8 dd = LD8(Dp + (long)t * hs + i0), qq = LD8(Qp + (long)t * hs + i0);
                            const float *ar = A + (long)t * ldT + t2, *sr = ds + (long)t * ldT + t2;
                            for (int j = 0; j < w; j++) {
                                aV[j] = aV[j] + BC8(ar[j]) * dd;
                                aK[j] = aK[j] + BC8(sr[j]) * qq;
                            }
                        }
                    for (int j = 0; j < w; j++) {
                        ST8(dK + (long)(t2 + j) * C3 + i0, aK[j]);
                        ST8(dV + (long)(t2 + j) * C3 + i0, aV[j]);
                    }
                }
        }
    }
}

void KV(attention_backward)(float *dinp, const float *dout, const float *inp, const float *att, int B, int T, int C, int NH,
               const int *from, int accumulate, float *vT, float *ds) {
    HS_DISPATCH(C / NH, attention_backward_body(dinp, dout, inp, att, B, T, C, NH, from, accumulate, vT, ds, HSC));
}

/* ------------------------------------------------------------------------------------------
 * GELU (the tanh approximation), element-wise, 8 at a time and the tail with the scalar twins:
 *   gelu(x) = 0.5 x (1 + tanh(u)) = x sigma(2u),  u = sqrt(2/pi) (x + 0.044715 x^3),
 * since 0.5 (1 + tanh(u)) = 1 / (1 + e^(-2u)). The sigmoid form needs one float exp
 * (dm_fexpf) and one division, and has no cancellation where tanh(u) is near -1. */

#define GELU_SCALING 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_CUBIC 0.044715f

/* sigma(2u) = 1 / (1 + e^(-2u)) of x, 8 lanes (a macro, as every vector helper here) and the
 * scalar twin: the same operations in the same order */
#define GELU_SG8(xv) ({                                                                  \
    vf8 x_ = (xv), e_, z_ = BC8(-2.0f * GELU_SCALING) * (x_ + BC8(GELU_CUBIC) * x_ * x_ * x_); \
    det_expf8(&e_, &z_);                                                                 \
    BC8(1.0f) / (BC8(1.0f) + e_);                                                        \
})
KINLINE float gelu_sg(float x) {
    float cube = GELU_CUBIC * x * x * x;
    return 1.0f / (1.0f + det_expf(-2.0f * GELU_SCALING * (x + cube)));
}

/* sg, when not NULL, receives sigma(2u) of every element for gelu_backward_body to reuse */
KINLINE void gelu_forward_body(float *out, float *sgv, const float *inp, int N) {
    int i = 0;
    for (; i + 8 <= N; i += 8) {
        vf8 x = LD8(inp + i), sg = GELU_SG8(x);
        if (sgv) ST8(sgv + i, sg);
        ST8(out + i, x * sg);
    }
    for (; i < N; i++) {
        float x = inp[i], sg = gelu_sg(x);
        if (sgv) sgv[i] = sg;
        out[i] = x * sg;
    }
}

/* d/dx [x sigma(2u)] = sigma + x 2 sigma (1 - sigma) u'(x), u'(x) = sqrt(2/pi) (1 + 3 0.044715 x^2).
 * sgv: the forward's sigma values, or NULL to recompute them (the same bits either way) */
KINLINE void gelu_backward_body(float *dinp, const float *inp, const float *sgv, const float *dout, int N,
                                int accumulate) {
    int i = 0;
    for (; i + 8 <= N; i += 8) {
        vf8 x = LD8(inp + i), sg = sgv ? LD8(sgv + i) : GELU_SG8(x);
        vf8 local = sg + x * (BC8(2.0f) * sg * (BC8(1.0f) - sg)) * BC8(GELU_SCALING) *
                             (BC8(1.0f) + BC8(3.0f * GELU_CUBIC) * x * x);
        ST8(dinp + i, (accumulate ? LD8(dinp + i) : BC8(0.0f)) + local * LD8(dout + i));
    }
    for (; i < N; i++) {
        float x = inp[i], sg = sgv ? sgv[i] : gelu_sg(x);
        float local = sg + x * (2.0f * sg * (1.0f - sg)) * GELU_SCALING * (1.0f + 3.0f * GELU_CUBIC * x * x);
        dinp[i] = (accumulate ? dinp[i] : 0.0f) + local * dout[i];
    }
}

void KV(gelu_forward)(float *out, float *sg, const float *inp, int N) { gelu_forward_body(out, sg, inp, N); }
void KV(gelu_backward)(float *dinp, const float *inp, const float *sg, const float *dout, int N, int accumulate) {
    gelu_backward_body(dinp, inp, sg, dout, N, accumulate);
}

/* ------------------------------------------------------------------------------------------
 * layernorm. Orders: the mean and the variance are sums over i with lane l = i mod 8 for
 * i < C8 = C rounded down to 8, combined by the fixed tree, then the tail i >= C8 added in
 * ascending i; the backward's two row reductions the same way. dweight and dbias accumulate over
 * rows in ascending n. */

#define LN_EPS 1e-5f

KINLINE void layernorm_forward_body(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                                    const float *bias, int N, int C) {
    int C8 = C / 8 * 8;
    for (int n = 0; n < N; n++) {
        const float *x = inp + (long)n * C;
        float *o = out + (long)n * C;
        vf8 s8 = BC8(0.0f);
        for (int i = 0; i < C8; i += 8) s8 += LD8(x + i);
        float m = HSUM8(s8);
        for (int i = C8; i < C; i++) m += x[i];
        m = m / C;
        vf8 v8 = BC8(0.0f), m8 = BC8(m);
        for (int i = 0; i < C8; i += 8) {
            vf8 xs = LD8(x + i) - m8;
            v8 += xs * xs;
        }
        float v = HSUM8(v8);
        for (int i = C8; i < C; i++) {
            float xs = x[i] - m;
            v += xs * xs;
        }
        v = v / C;
        float s = 1.0f / sqrtf(v + LN_EPS);
        vf8 s8b = BC8(s);
        for (int i = 0; i < C8; i += 8) ST8(o + i, (s8b * (LD8(x + i) - m8)) * LD8(weight + i) + LD8(bias + i));
        for (int i = C8; i < C; i++) o[i] = (s * (x[i] - m)) * weight[i] + bias[i];
        mean[n] = m;
        rstd[n] = s;
    }
}

/* Rows of dout that are all zero are skipped (they would only add zeros). */
KINLINE void layernorm_backward_body(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                     const float *weight, const float *mean, const float *rstd, int N, int C,
                                     int accumulate) {
    int C8 = C / 8 * 8;
    for (int n = 0; n < N; n++) {
        const float *d = dout + (long)n * C, *x = inp + (long)n * C;
        float *di = dinp + (long)n * C;
        int zero = 1;
        for (int i = 0; i < C && zero; i++) zero = d[i] == 0.0f;
        if (zero) {
            if (!accumulate) memset(di, 0, (size_t)C * sizeof(float));
            continue;
        }
        float m = mean[n], s = rstd[n];
        vf8 m8 = BC8(m), s8 = BC8(s), a8 = BC8(0.0f), b8 = BC8(0.0f);
        for (int i = 0; i < C8; i += 8) {
            vf8 norm = (LD8(x + i) - m8) * s8, dnorm = LD8(weight + i) * LD8(d + i);
            a8 += dnorm;
            b8 += dnorm * norm;
        }
        float dnorm_mean = HSUM8(a8), dnorm_norm_mean = HSUM8(b8);
        for (int i = C8; i < C; i++) {
            float norm = (x[i] - m) * s, dnorm = weight[i] * d[i];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean = dnorm_mean / C;
        dnorm_norm_mean = dnorm_norm_mean / C;
        vf8 dm8 = BC8(dnorm_mean), dnm8 = BC8(dnorm_norm_mean);
        for (int i = 0; i < C8; i += 8) {
            vf8 dd = LD8(d + i), norm = (LD8(x + i) - m8) * s8, dnorm = LD8(weight + i) * dd;
            ST8(dbias + i, LD8(dbias + i) + dd);
            ST8(dweight + i, LD8(dweight + i) + norm * dd);
            ST8(di + i, (accumulate ? LD8(di + i) : BC8(0.0f)) + ((dnorm - dm8) - norm * dnm8) * s8);
        }
        for (int i = C8; i < C; i++) {
            float norm = (x[i] - m) * s, dnorm = weight[i] * d[i];
            dbias[i] += d[i];
            dweight[i] += norm * d[i];
            di[i] = (accumulate ? di[i] : 0.0f) + ((dnorm - dnorm_mean) - norm * dnorm_norm_mean) * s;
        }
    }
}

void KV(layernorm_forward)(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                           const float *bias, int N, int C) {
    layernorm_forward_body(out, mean, rstd, inp, weight, bias, N, C);
}
void KV(layernorm_backward)(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const float *mean, const float *rstd, int N, int C, int accumulate) {
    layernorm_backward_body(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C, accumulate);
}

/* ------------------------------------------------------------------------------------------
 * column sums: out[j] += sum_n a[n][j], ascending n per element (the bias gradients) */

KINLINE void colsum_body(float *out, const float *a, int N, int M) {
    int j = 0;
    for (; j + 8 <= M; j += 8) {
        vf8 acc = LD8(out + j);
        for (int n = 0; n < N; n++) acc += LD8(a + (long)n * M + j);
        ST8(out + j, acc);
    }
    for (; j < M; j++) {
        float acc = out[j];
        for (int n = 0; n < N; n++) acc += a[(long)n * M + j];
        out[j] = acc;
    }
}
void KV(colsum)(float *out, const float *a, int N, int M) { colsum_body(out, a, N, M); }

/* ------------------------------------------------------------------------------------------
 * exp of shifted logits in double, 4 at a time (dm_exp4: dm_exp's bits lane by lane). */

KINLINE void exp_shift_body(double *out, const float *x, int n, double mx, double t) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        dm_vf4 xf;
        memcpy(&xf, x + i, sizeof xf);
        dm_vd4 a = __builtin_convertvector(xf, dm_vd4) - DM_BCD(mx);
        if (t != 1.0) a = a / DM_BCD(t); /* a / 1 == a: skipping it keeps the bits */
        memcpy(out + i, &a, sizeof a);
        dm_exp4(out + i, out + i);
    }
    for (; i < n; i++) {
        double a = (double)x[i] - mx;
        if (t != 1.0) a = a / t;
        out[i] = dm_exp(a);
    }
}

void KV(exp_shift)(double *out, const float *x, int n, double mx, double t) { exp_shift_body(out, x, n, mx, t); }

/* log-softmax of one row in double (sim/nn/sample.h): the max, the exps 4 at a time, their sum in
 * four lanes (lane l: i = l mod 4 ascending; (s0 + s1) + (s2 + s3); the tail after), then out and
 * p 4 at a time (IEEE
 * subtraction and division are exact per element whatever the grouping). The max is taken per
 * lane then across lanes: the same value as the scalar scan (NaN never wins a comparison); only
 * which zero wins a tie of +0 and -0 can differ, and neither the exps (dm_exp(x -+ 0) for x = -0
 * is dm_exp(+-0) = 1) nor lse = mx + log(s) with log(s) >= +0 (+0 either way) sees it. */
KINLINE void log_softmax_body(const float *logits, int V, double *out, double *p) {
    int V8 = V / 8 * 8;
    float mx = -INFINITY;
    if (V8) {
        vf8 m8 = BC8(-INFINITY);
        for (int i = 0; i < V8; i += 8) {
            vf8 x = LD8(logits + i);
            m8 = SEL8(x > m8, x, m8);
        }
        for (int l = 0; l < 8; l++)
            if (m8[l] > mx) mx = m8[l];
    }
    for (int i = V8; i < V; i++)
        if (logits[i] > mx) mx = logits[i];
    double *e = p ? p : out, s;
    exp_shift_body(e, logits, V, (double)mx, 1.0);
    {   /* four partial sums (lane l adds i = l mod 4 in ascending i), then (s0 + s1) + (s2 + s3),
         * then the tail in ascending i: four independent chains instead of one of V additions */
        int V4 = V / 4 * 4;
        dm_vd4 s4 = DM_BCD(0.0);
        for (int i = 0; i < V4; i += 4) {
            dm_vd4 q;
            memcpy(&q, e + i, sizeof q);
            s4 += q;
        }
        s = (s4[0] + s4[1]) + (s4[2] + s4[3]);
        for (int i = V4; i < V; i++) s += e[i];
    }
    double lse = (double)mx + dm_log(s);
    int i = 0;
    for (; i + 4 <= V; i += 4) {
        dm_vf4 xf;
        memcpy(&xf, logits + i, sizeof xf);
        dm_vd4 o = __builtin_convertvector(xf, dm_vd4) - DM_BCD(lse);
        memcpy(out + i, &o, sizeof o);
    }
    for (; i < V; i++) out[i] = (double)logits[i] - lse;
    if (p) {
        for (i = 0; i + 4 <= V; i += 4) {
            dm_vd4 q;
            memcpy(&q, p + i, sizeof q);
            q = q / DM_BCD(s);
            memcpy(p + i, &q, sizeof q);
        }
        for (; i < V; i++) p[i] /= s;
    }
}

void KV(log_softmax)(const float *logits, int V, double *out, double *p) { log_softmax_body(logits, V, out, p); }

/* ------------------------------------------------------------------------------------------
 * the losses' gradients over a row of logits from its softmax p and log-softmax ls (double),
 * 4 at a time: element-wise, the scalar expression's operations in its order, so the bits are the
 * scalar loop's (sim/nn/sample.h). Keep the grouping as written: the double result is rounded to
 * float, which hides most regroupings from test_rng, but not all of them from a run's digest. */

KINLINE void softmax_grad_pg_body(float *d, const double *p, const double *ls, double g, double ce, double H, int V) {
    int j = 0;
    for (; j + 4 <= V; j += 4) {
        dm_vd4 pj, lj;
        memcpy(&pj, p + j, sizeof pj);
        memcpy(&lj, ls + j, sizeof lj);
        dm_vd4 v = DM_BCD(-g) * pj + (DM_BCD(ce) * pj) * (lj + DM_BCD(H));
        dm_vf4 f = __builtin_convertvector(v, dm_vf4);
        memcpy(d + j, &f, sizeof f);
    }
    for (; j < V; j++) d[j] = (float)(-g * p[j] + ce * p[j] * (ls[j] + H));
}
void KV(softmax_grad_pg)(float *d, const double *p, const double *ls, double g, double ce, double H, int V) {
    softmax_grad_pg_body(d, p, ls, g, ce, H, V);
}

KINLINE void softmax_grad_scaled_body(float *d, const double *p, double c, int V) {
    int j = 0;
    for (; j + 4 <= V; j += 4) {
        dm_vd4 pj;
        memcpy(&pj, p + j, sizeof pj);
        dm_vf4 f = __builtin_convertvector(DM_BCD(c) * pj, dm_vf4);
        memcpy(d + j, &f, sizeof f);
    }
    for (; j < V; j++) d[j] = (float)(c * p[j]);
}
void KV(softmax_grad_scaled)(float *d, const double *p, double c, int V) { softmax_grad_scaled_body(d, p, c, V); }

#endif
