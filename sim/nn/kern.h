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

#include <stdint.h>

/* ------------------------------------------------------------------------------------------
 * kernels (sim/nn/kern.c) */

// out (N,M) row stride ldo; a(n,k) = a[n*sa_n + k*sa_k] for n < N, k < K; b (K,M) row stride ldb.
// out[n][j] = init + sum_k a(n,k) b[k][j], summed one k at a time in ascending k, where init is
// bias[j] (bias != NULL), out[n][j] itself (accumulate != 0) or 0. No element's bits depend on N, M
// or on which tile or panel computed it, except which payload a NaN carries when several NaNs meet
// (the run log writes every NaN as the one quiet NaN). out must not overlap a or b.
void kern_gemm(float *out, int ldo, const float *a, long sa_n, long sa_k, const float *b, int ldb, const float *bias,
               int accumulate, int N, int K, int M);

// inp (B,T,3C) holding q,k,v per position (head h uses channels h*hs..h*hs+hs-1 of each); att
// (B,NH,T,ldT), ldT = T rounded up to 8, receives the softmax rows: att[..][t][t2] for t2 <= t,
// exactly 0 for t < t2 < (t+1 rounded up to 8) (the backward reads whole vectors); out (B,T,C).
// from: NULL, or (B) the first query row computed per sequence (rows before it are left as they
// are: a last layer whose outputs are only read from there on).
void kern_attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH, const int *from);
// dout (B,T,C), inp (B,T,3C), att (B,NH,T,ldT) from kern_attention_forward; dinp (B,T,3C) += the
// gradient (accumulate != 0), or = 0 + the gradient (the bits of adding onto a zeroed dinp).
// from as in the forward: query rows before it (whose dout must be zero) are skipped.
void kern_attention_backward(float *dinp, const float *dout, const float *inp, const float *att, int B, int T, int C,
                             int NH, const int *from, int accumulate);
// One query row of causal attention for one head, as kern_attention_forward computes it: q (hs);
// keys transposed, kT[i*ldk + t2] for i < hs, t2 <= t (ldk >= t+1 rounded up to 8, readable and
// finite there); values at v + t2*sv; out (hs); att_row (t+1 rounded up to 8) receives the
// softmax (0 past t).
void kern_attention_row(float *out, float *att_row, const float *q, const float *kT, int ldk, const float *v,
                        long sv, int t, int hs);

// out, inp are (N): the tanh approximation of GELU, x sigma(2u); sg (N) or NULL receives sigma(2u)
void kern_gelu_forward(float *out, float *sg, const float *inp, int N);
// dinp, inp, dout are (N): dinp += gelu'(inp) dout (accumulate != 0), or dinp = 0 + gelu'(inp) dout
// (the bits of adding onto a zeroed buffer, without the memset); sg the forward's sigmoid values,
// or NULL to recompute them (same bits)
void kern_gelu_backward(float *dinp, const float *inp, const float *sg, const float *dout, int N, int accumulate);

// inp, out are (N,C); mean, rstd are (N); weight, bias are (C). Orders: sim/nn/kern_impl.h.
void kern_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                            const float *bias, int N, int C);
// dout, inp, dinp are (N,C); dweight, dbias (C); all +=, except dinp without accumulate: then
// written as 0 + the gradient (the bits of adding onto zeros). A row of dout that is all zero
// adds nothing (without accumulate, its dinp row is set to zeros).
void kern_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                             const float *weight, const float *mean, const float *rstd, int N, int C, int accumulate);

// a (N,M); out (M) += the column sums, each in ascending n
void kern_colsum(float *out, const float *a, int N, int M);

// x (n); out (n) = dm_exp(((double)x[i] - mx) / t) for each i, dm_exp's bits (t == 1: no division)
void kern_exp_shift(double *out, const float *x, int n, double mx, double t);
// log_softmax_probs_row (sim/nn/sample.h), its bits
void kern_log_softmax(const float *logits, int V, double *out, double *p);
// softmax_grad_pg and softmax_grad_scaled (sim/nn/sample.h), their bits
void kern_softmax_grad_pg(float *d, const double *p, const double *ls, double g, double ce, double H, int V);
void kern_softmax_grad_scaled(float *d, const double *p, double c, int V);

/* The libm-free exp of the model (sim/nn/kern_impl.h: dm_fexpf), exported for tests: scalar, and 8
 * at a time as the vector kernels compute it (same bits). */
float kern_det_expf(float x);
void kern_det_expf8(float *out, const float *in);

/* The model FLOPs done so far by the kernels of every thread: 2 per multiply-add of the matmuls
 * and of attention's products (scores, weighted values and their gradients); exps, norms and
 * element-wise work are not counted. For `rlgf bench`'s GFLOP/s (model FLOP utilisation). Each
 * thread counts its own and adds them to the total at kern_flops_flush, which the model's
 * forward, backward and KV step call when they end. */
unsigned long long kern_flops(void);
void kern_flops_flush(void);

/* 1 when the AVX2 versions run (x86-64 with AVX2, and RLGF_SIMD not set to "base"). */
int kern_simd_avx2(void);

#endif
