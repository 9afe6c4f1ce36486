/* kern: the model's compute kernels. Summation orders are documented on each function in kern.h
 * and fixed by the code below; see kern.h for why the bits do not depend on the CPU.
 *
 * Every kernel has one body (an always-inline function) instantiated twice on x86-64: a baseline
 * (SSE2) and an AVX2 copy (target attribute, no FMA), chosen once at run time. */
#include "kern.h"

#include <stdlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KERN_X86 1
#define AVX2_FN __attribute__((target("avx2")))
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

/* name##_base and name##_avx2 run body; name dispatches. */
#if KERN_X86
#define KERN_DISPATCH(name, params, args)                                                                              \
    static void name##_base params { name##_body args; }                                                             \
    AVX2_FN static void name##_avx2 params { name##_body args; }                                                     \
    static void name##_pick params {                                                                                 \
        if (kern_simd_avx2())                                                                                        \
            name##_avx2 args;                                                                                        \
        else                                                                                                         \
            name##_base args;                                                                                        \
    }
#else
#define KERN_DISPATCH(name, params, args)                                                                              \
    static void name##_pick params { name##_body args; }
#endif

/* ------------------------------------------------------------------------------------------
 * matmul: out (N,M) = init + a (N,K) b (K,M). Register tiles of 4 rows x 16 columns (8 vf8
 * accumulators), then 4 x 8, then single columns; leftover rows one at a time. Every tile adds
 * a(n,k) b[k][j] onto its accumulator one k at a time, so an element's bits are those of the
 * plain loop `acc = init; for k: acc += a(n,k) * b[k][j]` whatever tile it falls in. */

KINLINE float gemm_init(const float *bias, int accumulate, const float *o, int j) {
    return bias ? bias[j] : (accumulate ? o[j] : 0.0f);
}
KINLINE vf8 gemm_init8(const float *bias, int accumulate, const float *o, int j) {
    return bias ? ld8(bias + j) : (accumulate ? ld8(o + j) : bc8(0.0f));
}

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
                vf8 b0 = ld8(bp), b1 = ld8(bp + 8), s;
                s = bc8(a0[ak]), c00 += s * b0, c01 += s * b1;
                s = bc8(a1[ak]), c10 += s * b0, c11 += s * b1;
                s = bc8(a2[ak]), c20 += s * b0, c21 += s * b1;
                s = bc8(a3[ak]), c30 += s * b0, c31 += s * b1;
            }
            st8(o0 + j, c00), st8(o0 + j + 8, c01), st8(o1 + j, c10), st8(o1 + j + 8, c11);
            st8(o2 + j, c20), st8(o2 + j + 8, c21), st8(o3 + j, c30), st8(o3 + j + 8, c31);
        }
        for (; j + 8 <= M; j += 8) {
            vf8 c0 = gemm_init8(bias, accumulate, o0, j), c1 = gemm_init8(bias, accumulate, o1, j);
            vf8 c2 = gemm_init8(bias, accumulate, o2, j), c3 = gemm_init8(bias, accumulate, o3, j);
            const float *bp = b + j;
            long ak = 0;
            for (int k = 0; k < K; k++, bp += ldb, ak += sa_k) {
                vf8 b0 = ld8(bp);
                c0 += bc8(a0[ak]) * b0, c1 += bc8(a1[ak]) * b0, c2 += bc8(a2[ak]) * b0, c3 += bc8(a3[ak]) * b0;
            }
            st8(o0 + j, c0), st8(o1 + j, c1), st8(o2 + j, c2), st8(o3 + j, c3);
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
                vf8 s = bc8(a0[ak]);
                c0 += s * ld8(bp), c1 += s * ld8(bp + 8);
            }
            st8(o0 + j, c0), st8(o0 + j + 8, c1);
        }
        for (; j + 8 <= M; j += 8) {
            vf8 c0 = gemm_init8(bias, accumulate, o0, j);
            const float *bp = b + j;
            long ak = 0;
            for (int k = 0; k < K; k++, bp += ldb, ak += sa_k) c0 += bc8(a0[ak]) * ld8(bp);
            st8(o0 + j, c0);
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
KERN_DISPATCH(gemm_rm,
              (float *out, int ldo, const float *a, long sa_n, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M),
              (out, ldo, a, sa_n, b, ldb, bias, accumulate, N, K, M))
KERN_DISPATCH(gemm_tr,
              (float *out, int ldo, const float *a, long sa_k, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M),
              (out, ldo, a, sa_k, b, ldb, bias, accumulate, N, K, M))
KERN_DISPATCH(gemm_gen,
              (float *out, int ldo, const float *a, long sa_n, long sa_k, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M),
              (out, ldo, a, sa_n, sa_k, b, ldb, bias, accumulate, N, K, M))

void kern_gemm(float *out, int ldo, const float *a, long sa_n, long sa_k, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M) {
    if (N <= 0 || M <= 0) return;
    if (sa_k == 1)
        gemm_rm_pick(out, ldo, a, sa_n, b, ldb, bias, accumulate, N, K, M);
    else if (sa_n == 1)
        gemm_tr_pick(out, ldo, a, sa_k, b, ldb, bias, accumulate, N, K, M);
    else
        gemm_gen_pick(out, ldo, a, sa_n, sa_k, b, ldb, bias, accumulate, N, K, M);
}

/* ------------------------------------------------------------------------------------------
 * attention. Orders (the definition; the scalar tails follow the same):
 *  - score s[t2] = (sum_i q[i] k[t2][i], ascending i from 0) * scale;
 *  - the softmax sum: lane l = t2 mod 8 sums its exps in ascending t2, lanes combined by hsum8;
 *  - out[i] = sum over t2 of att[t2] v[t2][i]: four partial sums P_r over t2 = r mod 4, each in
 *    ascending t2 from 0, combined as (P0 + P1) + (P2 + P3);
 *  - backward: dot = sum_t2 att[t2] da[t2] like the softmax sum; dq like out; dk[t2], dv[t2]
 *    accumulate over query rows t in ascending t. */

static int pad8i(int n) { return (n + 7) / 8 * 8; }

KINLINE void attention_row_body(float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v,
                                long sv, int t, int hs, float *sbuf) {
    float scale = 1.0f / sqrtf((float)hs);
    int n = t + 1, np = pad8i(n);
    /* scores, 8 keys at a time */
    vf8 mx8 = bc8(-INFINITY);
    for (int c = 0; c < np; c += 8) {
        vf8 acc = bc8(0.0f);
        for (int i = 0; i < hs; i++) acc += bc8(q[i]) * ld8(kT + (long)i * ldk + c);
        acc *= bc8(scale);
        if (c + 8 > n) { /* lanes past t take no part */
            vi8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
            acc = sel8(lane + c < n, acc, bc8(-INFINITY));
        }
        st8(sbuf + c, acc);
        mx8 = sel8(acc > mx8, acc, mx8);
    }
    float maxval = mx8[0];
    for (int l = 1; l < 8; l++)
        if (mx8[l] > maxval) maxval = mx8[l];
    vf8 sum8 = bc8(0.0f);
    for (int c = 0; c < np; c += 8) {
        vf8 e = det_expf8(ld8(sbuf + c) - bc8(maxval)); /* -inf lanes give exactly 0 */
        st8(sbuf + c, e);
        sum8 += e;
    }
    float inv = 1.0f / hsum8(sum8); /* >= 1: the max term is exp(0) */
    for (int c = 0; c < np; c += 8) st8(sbuf + c, ld8(sbuf + c) * bc8(inv));
    memcpy(att_row, sbuf, (size_t)n * sizeof(float));
    /* weighted values */
    if (hs % 8 == 0) {
        for (int i0 = 0; i0 < hs; i0 += 8) {
            vf8 p[4] = {bc8(0.0f), bc8(0.0f), bc8(0.0f), bc8(0.0f)};
            const float *vp = v + i0;
            int t2 = 0;
            for (; t2 + 4 <= n; t2 += 4, vp += 4 * sv) {
                p[0] += bc8(sbuf[t2]) * ld8(vp);
                p[1] += bc8(sbuf[t2 + 1]) * ld8(vp + sv);
                p[2] += bc8(sbuf[t2 + 2]) * ld8(vp + 2 * sv);
                p[3] += bc8(sbuf[t2 + 3]) * ld8(vp + 3 * sv);
            }
            for (int r = 0; t2 < n; t2++, r++, vp += sv) p[r] += bc8(sbuf[t2]) * ld8(vp);
            st8(out + i0, (p[0] + p[1]) + (p[2] + p[3]));
        }
    } else {
        for (int i = 0; i < hs; i++) {
            float p[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            for (int t2 = 0; t2 < n; t2++) p[t2 & 3] += sbuf[t2] * v[(long)t2 * sv + i];
            out[i] = (p[0] + p[1]) + (p[2] + p[3]);
        }
    }
}

KINLINE void attention_forward_body(float *out, float *att, const float *inp, int B, int T, int C, int NH,
                                    float *kT, float *sbuf) {
    int C3 = 3 * C, hs = C / NH, ldk = pad8i(T);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *base = inp + (long)b * T * C3;
            /* this head's keys, transposed so 8 keys are one vector; zero padding past T */
            for (int i = 0; i < hs; i++) {
                float *row = kT + (long)i * ldk;
                for (int t2 = 0; t2 < T; t2++) row[t2] = base[(long)t2 * C3 + C + h * hs + i];
                for (int t2 = T; t2 < ldk; t2++) row[t2] = 0.0f;
            }
            for (int t = 0; t < T; t++)
                attention_row_body(out + ((long)b * T + t) * C + h * hs, att + (((long)b * NH + h) * T + t) * T,
                                   base + (long)t * C3 + h * hs, kT, ldk, base + 2 * C + h * hs, C3, t, hs, sbuf);
        }
}

KERN_DISPATCH(attention_forward,
              (float *out, float *att, const float *inp, int B, int T, int C, int NH, float *kT, float *sbuf),
              (out, att, inp, B, T, C, NH, kT, sbuf))
KERN_DISPATCH(attention_row,
              (float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v, long sv, int t,
               int hs, float *sbuf),
              (out, att_row, q, kT, ldk, v, sv, t, hs, sbuf))

void kern_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH) {
    int hs = C / NH, ldk = pad8i(T);
    float *kT = malloc(((size_t)hs * ldk + ldk) * sizeof(float));
    attention_forward_pick(out, att, inp, B, T, C, NH, kT, kT + (size_t)hs * ldk);
    free(kT);
}

void kern_attention_row(float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v,
                        long sv, int t, int hs) {
    float sbuf[pad8i(t + 1)];
    attention_row_pick(out, att_row, q, kT, ldk, v, sv, t, hs, sbuf);
}

KINLINE void attention_backward_body(float *dinp, const float *dout, const float *inp, const float *att, int B, int T,
                                     int C, int NH, float *vT, float *abuf, float *da) {
    int C3 = 3 * C, hs = C / NH, ldv = pad8i(T);
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++) {
            const float *base = inp + (long)b * T * C3;
            float *dbase = dinp + (long)b * T * C3;
            const float *K = base + C + h * hs, *V = base + 2 * C + h * hs;
            float *dK = dbase + C + h * hs, *dV = dbase + 2 * C + h * hs;
            for (int i = 0; i < hs; i++) {
                float *row = vT + (long)i * ldv;
                for (int t2 = 0; t2 < T; t2++) row[t2] = V[(long)t2 * C3 + i];
                for (int t2 = T; t2 < ldv; t2++) row[t2] = 0.0f;
            }
            for (int t = 0; t < T; t++) {
                int n = t + 1, np = pad8i(n);
                const float *q = base + (long)t * C3 + h * hs;
                float *dq = dbase + (long)t * C3 + h * hs;
                const float *d = dout + ((long)b * T + t) * C + h * hs;
                memcpy(abuf, att + (((long)b * NH + h) * T + t) * T, (size_t)n * sizeof(float));
                for (int t2 = n; t2 < np; t2++) abuf[t2] = 0.0f;
                /* out = sum_t2 att[t2] v[t2]: da[t2] = v[t2] . d, dv[t2] += att[t2] d */
                vf8 dot8 = bc8(0.0f);
                for (int c = 0; c < np; c += 8) {
                    vf8 acc = bc8(0.0f);
                    for (int i = 0; i < hs; i++) acc += bc8(d[i]) * ld8(vT + (long)i * ldv + c);
                    st8(da + c, acc);
                    dot8 += ld8(abuf + c) * acc;
                }
                float dot = hsum8(dot8);
                /* softmax, then the scaled scores: ds[t2] = att (da - dot) scale */
                for (int c = 0; c < np; c += 8)
                    st8(da + c, (ld8(abuf + c) * (ld8(da + c) - bc8(dot))) * bc8(scale));
                if (hs % 8 == 0) {
                    for (int i0 = 0; i0 < hs; i0 += 8) {
                        vf8 dd = ld8(d + i0), qq = ld8(q + i0);
                        vf8 p[4] = {bc8(0.0f), bc8(0.0f), bc8(0.0f), bc8(0.0f)};
                        for (int t2 = 0; t2 < n; t2++) {
                            long o = (long)t2 * C3 + i0;
                            st8(dV + o, ld8(dV + o) + bc8(abuf[t2]) * dd);
                            p[t2 & 3] += bc8(da[t2]) * ld8(K + o);
                            st8(dK + o, ld8(dK + o) + bc8(da[t2]) * qq);
                        }
                        st8(dq + i0, ld8(dq + i0) + ((p[0] + p[1]) + (p[2] + p[3])));
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
        }
}

KERN_DISPATCH(attention_backward,
              (float *dinp, const float *dout, const float *inp, const float *att, int B, int T, int C, int NH,
               float *vT, float *abuf, float *da),
              (dinp, dout, inp, att, B, T, C, NH, vT, abuf, da))

void kern_attention_backward(float *dinp, const float *dout, const float *inp, const float *att, int B, int T, int C,
                             int NH) {
    int hs = C / NH, ldv = pad8i(T);
    float *vT = malloc(((size_t)hs * ldv + 2 * (size_t)ldv) * sizeof(float));
    attention_backward_pick(dinp, dout, inp, att, B, T, C, NH, vT, vT + (size_t)hs * ldv,
                            vT + (size_t)hs * ldv + ldv);
    free(vT);
}

/* ------------------------------------------------------------------------------------------
 * GELU (tanh approximation), element-wise: 8 at a time, the tail with the scalar twins. */

#define GELU_SCALING 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_CUBIC 0.044715f

KINLINE void gelu_forward_body(float *out, const float *inp, int N) {
    int i = 0;
    for (; i + 8 <= N; i += 8) {
        vf8 x = ld8(inp + i);
        vf8 cube = bc8(GELU_CUBIC) * x * x * x;
        st8(out + i, bc8(0.5f) * x * (bc8(1.0f) + det_tanhf8(bc8(GELU_SCALING) * (x + cube))));
    }
    for (; i < N; i++) {
        float x = inp[i];
        float cube = GELU_CUBIC * x * x * x;
        out[i] = 0.5f * x * (1.0f + det_tanhf(GELU_SCALING * (x + cube)));
    }
}

KINLINE void gelu_backward_body(float *dinp, const float *inp, const float *dout, int N) {
    int i = 0;
    for (; i + 8 <= N; i += 8) {
        vf8 x = ld8(inp + i);
        vf8 cube = bc8(GELU_CUBIC) * x * x * x;
        vf8 th = det_tanhf8(bc8(GELU_SCALING) * (x + cube));
        vf8 sech2 = bc8(1.0f) - th * th;
        vf8 local = bc8(0.5f) * (bc8(1.0f) + th) +
                    x * bc8(0.5f) * sech2 * bc8(GELU_SCALING) * (bc8(1.0f) + bc8(3.0f * GELU_CUBIC) * x * x);
        st8(dinp + i, ld8(dinp + i) + local * ld8(dout + i));
    }
    for (; i < N; i++) {
        float x = inp[i];
        float cube = GELU_CUBIC * x * x * x;
        float th = det_tanhf(GELU_SCALING * (x + cube));
        float sech2 = 1.0f - th * th;
        float local = 0.5f * (1.0f + th) + x * 0.5f * sech2 * GELU_SCALING * (1.0f + 3.0f * GELU_CUBIC * x * x);
        dinp[i] += local * dout[i];
    }
}

KERN_DISPATCH(gelu_forward, (float *out, const float *inp, int N), (out, inp, N))
KERN_DISPATCH(gelu_backward, (float *dinp, const float *inp, const float *dout, int N), (dinp, inp, dout, N))

void kern_gelu_forward(float *out, const float *inp, int N) { gelu_forward_pick(out, inp, N); }
void kern_gelu_backward(float *dinp, const float *inp, const float *dout, int N) {
    gelu_backward_pick(dinp, inp, dout, N);
}
