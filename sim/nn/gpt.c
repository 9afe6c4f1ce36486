/* gpt: a tiny causal transformer in the style of llm.c's train_gpt2.c. Every layer is a pair of
 * static functions x_forward/x_backward over raw float pointers with the shapes in a comment;
 * the parameters are pointers into the model's one arena (gpt_params_t, sim/nn/gpt.h).
 *
 * Determinism: single-threaded, float arithmetic, every sum in a fixed loop order, no FMA
 * contraction (-ffp-contract=off). A matmul output element is always
 * ((bias + x[0] w[0]) + x[1] w[1]) + ... in ascending order; the tiled SIMD kernel only computes
 * several such sums side by side (never reassociates one), so it matches a plain dot product bit for
 * bit. The KV cache runs the same functions on one row, on the same (L,T,3C) qkv layout, so it
 * reproduces model_forward bit for bit.
 *
 * Backward functions ADD (+=) into their gradient outputs, as in llm.c. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"

#include "../base/dmath.h"

#define LN_EPS 1e-5f
#define INIT_STD 0.02

/* ------------------------------------------------------------------------------------------
 * layers */

// out is (B,T,C): wte[token] + wpe[t]
static void encoder_forward(float *out, const int32_t *tokens, const float *wte, const float *wpe, int B, int T,
                            int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *we = wte + (size_t)tokens[b * T + t] * C, *pe = wpe + (size_t)t * C;
            for (int i = 0; i < C; i++) o[i] = we[i] + pe[i];
        }
}

// dout is (B,T,C); dwte (V,C) and dwpe (maxT,C) accumulate in (b,t) order
static void encoder_backward(float *dwte, float *dwpe, const float *dout, const int32_t *tokens, int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            float *dwe = dwte + (size_t)tokens[b * T + t] * C, *dpe = dwpe + (size_t)t * C;
            for (int i = 0; i < C; i++) {
                dwe[i] += d[i];
                dpe[i] += d[i];
            }
        }
}

// inp, out are (N,C); mean, rstd are (N); weight, bias are (C)
static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                              const float *bias, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float m = 0.0f;
        for (int i = 0; i < C; i++) m += x[i];
        m = m / C;
        float v = 0.0f;
        for (int i = 0; i < C; i++) {
            float xs = x[i] - m;
            v += xs * xs;
        }
        v = v / C;
        float s = 1.0f / sqrtf(v + LN_EPS);
        float *o = out + (size_t)n * C;
        for (int i = 0; i < C; i++) o[i] = (s * (x[i] - m)) * weight[i] + bias[i];
        mean[n] = m;
        rstd[n] = s;
    }
}

// dout, inp, dinp are (N,C); dweight, dbias (C)
static void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * C, *x = inp + (size_t)n * C;
        float *di = dinp + (size_t)n * C;
        float m = mean[n], s = rstd[n];
        /* two reductions first: mean of dnorm and of dnorm * norm */
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - m) * s;
            float dnorm = weight[i] * d[i];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * norm;
        }
        dnorm_mean = dnorm_mean / C;
        dnorm_norm_mean = dnorm_norm_mean / C;
        for (int i = 0; i < C; i++) {
            float norm = (x[i] - m) * s;
            float dnorm = weight[i] * d[i];
            dbias[i] += d[i];
            dweight[i] += norm * d[i];
            di[i] += ((dnorm - dnorm_mean) - norm * dnorm_norm_mean) * s;
        }
    }
}

/* Four floats as one value (GCC/Clang vector extension): element-wise IEEE float operations, the
 * same bits as the scalar code, but explicit SIMD where -O2 alone would not vectorise (its cost
 * model does not vectorise loops of unknown trip count). 16 bytes: native SSE2/NEON width. */
typedef float vf4 __attribute__((vector_size(16)));
static inline vf4 ld4(const float *p) {
    vf4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void st4(float *p, vf4 v) { memcpy(p, &v, sizeof v); }
static inline vf4 bc4(float x) { return (vf4){x, x, x, x}; }

static size_t pad8(size_t n) { return (n + 7) / 8 * 8; }

// weight is (OC,C); wT is (C,pad8(OC)): its transpose, zero in the padding columns
static void transpose_weight(float *wT, const float *weight, int C, int OC) {
    size_t OCp = pad8((size_t)OC);
    for (int i = 0; i < C; i++) {
        float *row = wT + (size_t)i * OCp;
        for (int j = 0; j < OC; j++) row[j] = weight[(size_t)j * C + i];
        for (size_t j = (size_t)OC; j < OCp; j++) row[j] = 0.0f;
    }
}

// inp is (N,C), wT (C,pad8(OC)) from transpose_weight, bias (OC) or NULL, out (N,OC).
// out[n][j] = ((bias[j] + x[0] w[0][j]) + x[1] w[1][j]) + ... : the sum in ascending i, exactly as the
// dot-product path of matmul_forward. Tiles of 4 rows x 8 outputs held in registers.
static void matmul_forward_t(float *out, const float *inp, const float *wT, const float *bias, int N, int C, int OC) {
    size_t OCp = pad8((size_t)OC);
    for (int n0 = 0; n0 < N; n0 += 4) {
        int nr = N - n0 < 4 ? N - n0 : 4;
        const float *x0 = inp + (size_t)n0 * C;
        for (size_t j = 0; j < OCp; j += 8) {
            float b[8], tmp[4][8];
            for (size_t k = 0; k < 8; k++) b[k] = bias && j + k < (size_t)OC ? bias[j + k] : 0.0f;
            vf4 b0 = ld4(b), b1 = ld4(b + 4);
            const float *w = wT + j;
            if (nr == 4) {
                const float *x1 = x0 + C, *x2 = x1 + C, *x3 = x2 + C;
                vf4 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
                for (int i = 0; i < C; i++, w += OCp) {
                    vf4 w0 = ld4(w), w1 = ld4(w + 4), s;
                    s = bc4(x0[i]), a00 += s * w0, a01 += s * w1;
                    s = bc4(x1[i]), a10 += s * w0, a11 += s * w1;
                    s = bc4(x2[i]), a20 += s * w0, a21 += s * w1;
                    s = bc4(x3[i]), a30 += s * w0, a31 += s * w1;
                }
                st4(tmp[0], a00), st4(tmp[0] + 4, a01), st4(tmp[1], a10), st4(tmp[1] + 4, a11);
                st4(tmp[2], a20), st4(tmp[2] + 4, a21), st4(tmp[3], a30), st4(tmp[3] + 4, a31);
            } else {
                for (int r = 0; r < nr; r++) {
                    const float *x = x0 + (size_t)r * C, *wr = w;
                    vf4 a0 = b0, a1 = b1;
                    for (int i = 0; i < C; i++, wr += OCp) {
                        vf4 s = bc4(x[i]);
                        a0 += s * ld4(wr), a1 += s * ld4(wr + 4);
                    }
                    st4(tmp[r], a0), st4(tmp[r] + 4, a1);
                }
            }
            size_t nj = (size_t)OC - j < 8 ? (size_t)OC - j : 8;
            for (int r = 0; r < nr; r++) memcpy(out + (size_t)(n0 + r) * OC + j, tmp[r], nj * sizeof(float));
        }
    }
}

// inp is (N,C), weight (OC,C), bias (OC) or NULL, out (N,OC): out[n][o] = bias[o] + sum_i inp[n][i] w[o][i]
// with the sum in ascending i. With wT_scratch (C*pad8(OC) floats) the weights are transposed and the
// tiled path runs; with NULL, plain dot products. Both give identical bits (tested).
static void matmul_forward(float *out, const float *inp, const float *weight, const float *bias, float *wT_scratch,
                           int N, int C, int OC) {
    if (wT_scratch) {
        transpose_weight(wT_scratch, weight, C, OC);
        matmul_forward_t(out, inp, wT_scratch, bias, N, C, OC);
        return;
    }
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * OC;
        for (int j = 0; j < OC; j++) {
            const float *w = weight + (size_t)j * C;
            float acc = bias ? bias[j] : 0.0f;
            for (int i = 0; i < C; i++) acc += x[i] * w[i];
            o[j] = acc;
        }
    }
}

// dout is (N,OC), inp (N,C), weight (OC,C); dinp (N,C) += dout W; dweight (OC,C) += dout^T inp;
// dbias (OC) += sum_n dout (dbias may be NULL). Every sum runs in ascending order of the summed index
// (o for dinp, n for dweight and dbias) onto the existing value; elements of dout that are exactly
// zero are skipped (the losses leave most positions at zero).
static void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, int N, int C, int OC) {
    /* dinp: per row, 8 channels at a time in registers, summed over o */
    for (int n = 0; n < N; n++) {
        const float *d = dout + (size_t)n * OC;
        float *di = dinp + (size_t)n * C;
        int i = 0;
        for (; i + 8 <= C; i += 8) {
            vf4 a0 = ld4(di + i), a1 = ld4(di + i + 4);
            const float *w = weight + i;
            for (int o = 0; o < OC; o++, w += C) {
                if (d[o] == 0.0f) continue;
                vf4 s = bc4(d[o]);
                a0 += s * ld4(w), a1 += s * ld4(w + 4);
            }
            st4(di + i, a0), st4(di + i + 4, a1);
        }
        for (; i < C; i++) {
            float a = di[i];
            for (int o = 0; o < OC; o++)
                if (d[o] != 0.0f) a += d[o] * weight[(size_t)o * C + i];
            di[i] = a;
        }
    }
    /* dweight: tiles of 4 outputs x 8 channels in registers, summed over n */
    int o0 = 0;
    for (; o0 + 4 <= OC; o0 += 4) {
        int i = 0;
        for (; i + 8 <= C; i += 8) {
            float *w0 = dweight + (size_t)o0 * C + i, *w1 = w0 + C, *w2 = w1 + C, *w3 = w2 + C;
            vf4 a00 = ld4(w0), a01 = ld4(w0 + 4), a10 = ld4(w1), a11 = ld4(w1 + 4);
            vf4 a20 = ld4(w2), a21 = ld4(w2 + 4), a30 = ld4(w3), a31 = ld4(w3 + 4);
            for (int n = 0; n < N; n++) {
                const float *d = dout + (size_t)n * OC + o0, *x = inp + (size_t)n * C + i;
                if (d[0] == 0.0f && d[1] == 0.0f && d[2] == 0.0f && d[3] == 0.0f) continue;
                vf4 x0 = ld4(x), x1 = ld4(x + 4), s;
                if (d[0] != 0.0f) s = bc4(d[0]), a00 += s * x0, a01 += s * x1;
                if (d[1] != 0.0f) s = bc4(d[1]), a10 += s * x0, a11 += s * x1;
                if (d[2] != 0.0f) s = bc4(d[2]), a20 += s * x0, a21 += s * x1;
                if (d[3] != 0.0f) s = bc4(d[3]), a30 += s * x0, a31 += s * x1;
            }
            st4(w0, a00), st4(w0 + 4, a01), st4(w1, a10), st4(w1 + 4, a11);
            st4(w2, a20), st4(w2 + 4, a21), st4(w3, a30), st4(w3 + 4, a31);
        }
        for (; i < C; i++)
            for (int o = o0; o < o0 + 4; o++) {
                float a = dweight[(size_t)o * C + i];
                for (int n = 0; n < N; n++) {
                    float dn = dout[(size_t)n * OC + o];
                    if (dn != 0.0f) a += dn * inp[(size_t)n * C + i];
                }
                dweight[(size_t)o * C + i] = a;
            }
    }
    for (int o = o0; o < OC; o++) {
        int i = 0;
        float *w = dweight + (size_t)o * C;
        for (; i + 8 <= C; i += 8) {
            vf4 a0 = ld4(w + i), a1 = ld4(w + i + 4);
            for (int n = 0; n < N; n++) {
                float dn = dout[(size_t)n * OC + o];
                if (dn == 0.0f) continue;
                const float *x = inp + (size_t)n * C + i;
                vf4 s = bc4(dn);
                a0 += s * ld4(x), a1 += s * ld4(x + 4);
            }
            st4(w + i, a0), st4(w + i + 4, a1);
        }
        for (; i < C; i++) {
            float a = w[i];
            for (int n = 0; n < N; n++) {
                float dn = dout[(size_t)n * OC + o];
                if (dn != 0.0f) a += dn * inp[(size_t)n * C + i];
            }
            w[i] = a;
        }
    }
    if (dbias)
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * OC;
            for (int o = 0; o < OC; o++)
                if (d[o] != 0.0f) dbias[o] += d[o];
        }
}

/* One query row of causal attention for one head: q (hs); keys and values of positions 0..t at
 * k + t2*stride and v + t2*stride; att_row (t+1) receives the softmax (max subtracted); out (hs).
 * Shared by the batch forward and the KV cache so both compute identical bits. */
static void attention_row(float *out, float *att_row, const float *q, const float *k, const float *v, size_t stride,
                          int t, int hs, float scale) {
    float maxval = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        const float *kt = k + (size_t)t2 * stride;
        float s = 0.0f;
        for (int i = 0; i < hs; i++) s += q[i] * kt[i];
        s *= scale;
        if (t2 == 0 || s > maxval) maxval = s;
        att_row[t2] = s;
    }
    float expsum = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        float e = dm_expf(att_row[t2] - maxval);
        expsum += e;
        att_row[t2] = e;
    }
    float inv = 1.0f / expsum; /* expsum >= 1: the max term is exp(0) */
    for (int t2 = 0; t2 <= t; t2++) att_row[t2] *= inv;
    for (int i = 0; i < hs; i++) out[i] = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) {
        const float *vt = v + (size_t)t2 * stride;
        float a = att_row[t2];
        for (int i = 0; i < hs; i++) out[i] += a * vt[i];
    }
}

// inp is (B,T,3C) holding q,k,v (heads interleaved as llm.c: head h uses channels h*hs..h*hs+hs-1
// of each); att is (B,NH,T,T), only t2 <= t written; out is (B,T,C)
static void attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH) {
    int C3 = 3 * C, hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                const float *base = inp + (size_t)b * T * C3;
                const float *q = base + (size_t)t * C3 + h * hs;
                float *att_row = att + (((size_t)b * NH + h) * T + t) * T;
                attention_row(out + ((size_t)b * T + t) * C + h * hs, att_row, q, base + C + h * hs,
                              base + 2 * C + h * hs, (size_t)C3, t, hs, scale);
            }
}

// dout is (B,T,C), inp (B,T,3C), att (B,NH,T,T); dinp (B,T,3C) +=; datt_row is scratch (T)
// The softmax backward uses dpre[t2] = att[t2] (datt[t2] - sum_t3 att[t3] datt[t3]) (O(T) per row).
static void attention_backward(float *dinp, float *datt_row, const float *dout, const float *inp, const float *att,
                               int B, int T, int C, int NH) {
    int C3 = 3 * C, hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                const float *base = inp + (size_t)b * T * C3;
                float *dbase = dinp + (size_t)b * T * C3;
                const float *q = base + (size_t)t * C3 + h * hs;
                float *dq = dbase + (size_t)t * C3 + h * hs;
                const float *att_row = att + (((size_t)b * NH + h) * T + t) * T;
                const float *d = dout + ((size_t)b * T + t) * C + h * hs;
                /* out = sum_t2 att[t2] v[t2] */
                float dot = 0.0f;
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *v = base + (size_t)t2 * C3 + 2 * C + h * hs;
                    float *dv = dbase + (size_t)t2 * C3 + 2 * C + h * hs;
                    float da = 0.0f;
                    for (int i = 0; i < hs; i++) da += v[i] * d[i];
                    for (int i = 0; i < hs; i++) dv[i] += att_row[t2] * d[i];
                    datt_row[t2] = da;
                    dot += att_row[t2] * da;
                }
                /* softmax, then the scaled dot products q . k[t2] */
                for (int t2 = 0; t2 <= t; t2++) {
                    const float *k = base + (size_t)t2 * C3 + C + h * hs;
                    float *dk = dbase + (size_t)t2 * C3 + C + h * hs;
                    float ds = att_row[t2] * (datt_row[t2] - dot) * scale;
                    for (int i = 0; i < hs; i++) dq[i] += ds * k[i];
                    for (int i = 0; i < hs; i++) dk[i] += ds * q[i];
                }
            }
}

#define GELU_SCALING 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_CUBIC 0.044715f

// out, inp are (N): the tanh approximation of GELU
static void gelu_forward(float *out, const float *inp, int N) {
    for (int i = 0; i < N; i++) {
        float x = inp[i];
        float cube = GELU_CUBIC * x * x * x;
        out[i] = 0.5f * x * (1.0f + dm_tanhf(GELU_SCALING * (x + cube)));
    }
}

// dinp, inp, dout are (N)
static void gelu_backward(float *dinp, const float *inp, const float *dout, int N) {
    for (int i = 0; i < N; i++) {
        float x = inp[i];
        float cube = GELU_CUBIC * x * x * x;
        float th = dm_tanhf(GELU_SCALING * (x + cube));
        float sech2 = 1.0f - th * th;
        float local = 0.5f * (1.0f + th) + x * 0.5f * sech2 * GELU_SCALING * (1.0f + 3.0f * GELU_CUBIC * x * x);
        dinp[i] += local * dout[i];
    }
}

// out, inp1, inp2 are (N)
static void residual_forward(float *out, const float *inp1, const float *inp2, int N) {
    for (int i = 0; i < N; i++) out[i] = inp1[i] + inp2[i];
}

// dinp1, dinp2, dout are (N)
static void residual_backward(float *dinp1, float *dinp2, const float *dout, int N) {
    for (int i = 0; i < N; i++) {
        dinp1[i] += dout[i];
        dinp2[i] += dout[i];
    }
}

const gpt_test_hooks_t gpt_test_hooks = {
    encoder_forward,   encoder_backward,   layernorm_forward, layernorm_backward,
    matmul_forward,    matmul_backward,    attention_forward, attention_backward,
    gelu_forward,      gelu_backward,      residual_forward,  residual_backward,
};

/* ------------------------------------------------------------------------------------------
 * parameters */

static void set_err(char *errbuf, size_t errlen, const char *msg) {
    if (errbuf && errlen) snprintf(errbuf, errlen, "%s", msg);
}

int gpt_check(const model_config_t *cfg, size_t *n_params, char *errbuf, size_t errlen) {
    char msg[256];
    const char *bad = NULL;
    if (cfg->vocab < 2 || cfg->vocab > (1 << 24)) bad = "vocab";
    else if (cfg->max_seq < 1 || cfg->max_seq > (1 << 16)) bad = "max_seq";
    else if (cfg->channels < 1 || cfg->channels > 65536) bad = "channels";
    else if (cfg->layers < 1 || cfg->layers > 1024) bad = "layers";
    else if (cfg->heads < 1 || cfg->heads > cfg->channels) bad = "heads";
    if (bad) {
        snprintf(msg, sizeof msg,
                 "model: gpt %s out of range (vocab %d, max_seq %d, channels %d, layers %d, heads %d)", bad,
                 cfg->vocab, cfg->max_seq, cfg->channels, cfg->layers, cfg->heads);
        set_err(errbuf, errlen, msg);
        return -1;
    }
    if (cfg->channels % cfg->heads != 0) {
        snprintf(msg, sizeof msg, "model: gpt heads (%d) must divide channels (%d)", cfg->heads, cfg->channels);
        set_err(errbuf, errlen, msg);
        return -1;
    }
    size_t V = (size_t)cfg->vocab, S = (size_t)cfg->max_seq, C = (size_t)cfg->channels, L = (size_t)cfg->layers;
    size_t n = V * C + S * C + L * (12 * C * C + 13 * C) + 2 * C + (cfg->head == HEAD_SCALAR ? C + 1 : 0);
    if (n > ((size_t)1 << 30)) {
        snprintf(msg, sizeof msg, "model: gpt has %zu parameters, more than the supported 2^30", n);
        set_err(errbuf, errlen, msg);
        return -1;
    }
    *n_params = n;
    return 0;
}

void gpt_point(const model_config_t *cfg, float *base, gpt_params_t *p) {
    size_t V = (size_t)cfg->vocab, S = (size_t)cfg->max_seq, C = (size_t)cfg->channels, L = (size_t)cfg->layers;
    float *x = base;
    p->wte = x, x += V * C;
    p->wpe = x, x += S * C;
    p->ln1w = x, x += L * C;
    p->ln1b = x, x += L * C;
    p->qkvw = x, x += L * 3 * C * C;
    p->qkvb = x, x += L * 3 * C;
    p->attprojw = x, x += L * C * C;
    p->attprojb = x, x += L * C;
    p->ln2w = x, x += L * C;
    p->ln2b = x, x += L * C;
    p->fcw = x, x += L * 4 * C * C;
    p->fcb = x, x += L * 4 * C;
    p->fcprojw = x, x += L * 4 * C * C;
    p->fcprojb = x, x += L * C;
    p->lnfw = x, x += C;
    p->lnfb = x, x += C;
    if (cfg->head == HEAD_SCALAR) {
        p->vw = x, x += C;
        p->vb = x, x += 1;
    } else {
        p->vw = p->vb = NULL;
    }
}

/* Weight tensor t of n floats: N(0, std) draws (one rng_normal each, rounded to float) and decay. */
static void init_normal(model_t *m, float *t, size_t n, double std, rng_t *r) {
    for (size_t i = 0; i < n; i++) t[i] = (float)(std * rng_normal(r));
    memset(m->decay_mask + (t - m->params), 1, n);
}

static void fill(float *t, size_t n, float v) {
    for (size_t i = 0; i < n; i++) t[i] = v;
}

/* Draw order (fixed forever; it pins the initial bits): arena order over the weight tensors, i.e.
 * wte, wpe, qkvw (all layers), attprojw (all layers, std 0.02/sqrt(2L)), fcw, fcprojw (std
 * 0.02/sqrt(2L)); every element one rng_normal draw scaled by its std. Biases are 0, norm gains 1,
 * the scalar head (vw, vb) 0. decay_mask is 1 exactly on those weight tensors and vw. */
void gpt_init(model_t *m, rng_t *init) {
    const model_config_t *cfg = &m->cfg;
    gpt_params_t *p = m->impl;
    size_t V = (size_t)cfg->vocab, S = (size_t)cfg->max_seq, C = (size_t)cfg->channels, L = (size_t)cfg->layers;
    double rstd = INIT_STD / sqrt(2.0 * (double)L);
    memset(m->params, 0, m->n_params * sizeof(float));
    memset(m->decay_mask, 0, m->n_params);
    init_normal(m, p->wte, V * C, INIT_STD, init);
    init_normal(m, p->wpe, S * C, INIT_STD, init);
    init_normal(m, p->qkvw, L * 3 * C * C, INIT_STD, init);
    init_normal(m, p->attprojw, L * C * C, rstd, init);
    init_normal(m, p->fcw, L * 4 * C * C, INIT_STD, init);
    init_normal(m, p->fcprojw, L * 4 * C * C, rstd, init);
    fill(p->ln1w, L * C, 1.0f);
    fill(p->ln2w, L * C, 1.0f);
    fill(p->lnfw, C, 1.0f);
    if (p->vw) memset(m->decay_mask + (p->vw - m->params), 1, C);
}

/* Transposed weights (C_in, pad8(C_out)) of every matrix, for the tiled matmul: per layer qkv, attproj,
 * fc, fcproj, then the head (wte for HEAD_LM, vw for HEAD_SCALAR). Rebuilt from the params at every
 * forward and at the first step of every KV sequence, so they never go stale. */
typedef struct {
    float *qkv, *attproj, *fc, *fcproj;
} wt_layer_t;

static size_t wt_layer_floats(size_t C) { return C * pad8(3 * C) + C * pad8(C) + C * pad8(4 * C) + 4 * C * pad8(C); }

static size_t wt_floats(const model_config_t *cfg) {
    size_t C = (size_t)cfg->channels, OD = cfg->head == HEAD_LM ? (size_t)cfg->vocab : 1;
    return (size_t)cfg->layers * wt_layer_floats(C) + C * pad8(OD);
}

static wt_layer_t wt_layer(const model_config_t *cfg, float *wt, int l) {
    size_t C = (size_t)cfg->channels;
    wt_layer_t w;
    w.qkv = wt + (size_t)l * wt_layer_floats(C);
    w.attproj = w.qkv + C * pad8(3 * C);
    w.fc = w.attproj + C * pad8(C);
    w.fcproj = w.fc + C * pad8(4 * C);
    return w;
}

static float *wt_head(const model_config_t *cfg, float *wt) {
    return wt + (size_t)cfg->layers * wt_layer_floats((size_t)cfg->channels);
}

static void transpose_all(const model_config_t *cfg, const gpt_params_t *p, float *wt) {
    int C = cfg->channels;
    size_t C_ = (size_t)C;
    for (int l = 0; l < cfg->layers; l++) {
        wt_layer_t w = wt_layer(cfg, wt, l);
        transpose_weight(w.qkv, p->qkvw + l * 3 * C_ * C_, C, 3 * C);
        transpose_weight(w.attproj, p->attprojw + l * C_ * C_, C, C);
        transpose_weight(w.fc, p->fcw + l * 4 * C_ * C_, C, 4 * C);
        transpose_weight(w.fcproj, p->fcprojw + l * 4 * C_ * C_, 4 * C, C);
    }
    if (cfg->head == HEAD_LM)
        transpose_weight(wt_head(cfg, wt), p->wte, C, cfg->vocab);
    else
        transpose_weight(wt_head(cfg, wt), p->vw, C, 1);
}

/* ------------------------------------------------------------------------------------------
 * workspace: activations of one (B,T) batch, laid out for (max_B, max_T) */

struct gpt_ws {
    model_config_t cfg;
    int max_B, max_T, B, T;
    size_t BTmax, attmax; /* per-layer strides */
    int32_t *tokens;      /* (B,T) copy of the last forward's tokens */
    float *mem;
    float *encoded;                        /* (B,T,C) */
    float *ln1, *ln1_mean, *ln1_rstd;      /* (L,B,T,C), (L,B,T), (L,B,T) */
    float *qkv;                            /* (L,B,T,3C) */
    float *atty;                           /* (L,B,T,C) */
    float *att;                            /* (L,B,NH,T,T) */
    float *residual2;                      /* (L,B,T,C) */
    float *ln2, *ln2_mean, *ln2_rstd;      /* (L,B,T,C), (L,B,T), (L,B,T) */
    float *fch, *fch_gelu;                 /* (L,B,T,4C) */
    float *residual3;                      /* (L,B,T,C) */
    float *lnf, *lnf_mean, *lnf_rstd;      /* (B,T,C), (B,T), (B,T) */
    float *out;                            /* (B,T,V) or (B,T) */
    float *proj;                           /* (B,T,C) scratch: attention / MLP projections */
    float *wT;                             /* transposed weights (wt_floats) */
    /* backward */
    float *dres;  /* (B,T,C) gradient of the residual stream */
    float *dbuf;  /* (B,T,C) */
    float *dqkv;  /* (B,T,3C) */
    float *dfch;  /* (B,T,4C) */
    float *dfchg; /* (B,T,4C) */
    float *datt_row; /* (T) */
};

gpt_ws_t *gpt_ws_create(const model_t *m, int max_B, int max_T) {
    const model_config_t *cfg = &m->cfg;
    assert(max_B >= 1 && max_T >= 1 && max_T <= cfg->max_seq);
    gpt_ws_t *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->cfg = *cfg;
    ws->max_B = max_B;
    ws->max_T = max_T;
    size_t BT = (size_t)max_B * max_T, C = (size_t)cfg->channels, L = (size_t)cfg->layers, V = (size_t)cfg->vocab;
    size_t att = (size_t)max_B * cfg->heads * max_T * max_T;
    size_t OD = cfg->head == HEAD_LM ? V : 1, WT = wt_floats(cfg);
    ws->BTmax = BT;
    ws->attmax = att;
    size_t sizes[] = {
        BT * C,                                                 /* encoded */
        L * BT * C, L * BT, L * BT,                             /* ln1 */
        L * BT * 3 * C, L * BT * C, L * att, L * BT * C,        /* qkv, atty, att, residual2 */
        L * BT * C, L * BT, L * BT,                             /* ln2 */
        L * BT * 4 * C, L * BT * 4 * C, L * BT * C,             /* fch, fch_gelu, residual3 */
        BT * C, BT, BT,                                         /* lnf */
        BT * OD, BT * C, WT,                                    /* out, proj, wT */
        BT * C, BT * C, BT * 3 * C, BT * 4 * C, BT * 4 * C, (size_t)max_T, /* backward */
    };
    float **ptrs[] = {
        &ws->encoded,  &ws->ln1,       &ws->ln1_mean, &ws->ln1_rstd, &ws->qkv,     &ws->atty,
        &ws->att,      &ws->residual2, &ws->ln2,      &ws->ln2_mean, &ws->ln2_rstd, &ws->fch,
        &ws->fch_gelu, &ws->residual3, &ws->lnf,      &ws->lnf_mean, &ws->lnf_rstd, &ws->out,
        &ws->proj,     &ws->wT,        &ws->dres,     &ws->dbuf,     &ws->dqkv,     &ws->dfch,
        &ws->dfchg,    &ws->datt_row,
    };
    enum { NBUF = sizeof sizes / sizeof sizes[0] };
    _Static_assert(sizeof ptrs / sizeof ptrs[0] == NBUF, "one pointer per buffer");
    size_t total = 0;
    for (int i = 0; i < NBUF; i++) total += (sizes[i] + 15) / 16 * 16; /* keep each buffer 64-byte aligned */
    size_t bytes = total * sizeof(float);
    ws->mem = aligned_alloc(64, bytes ? bytes : 64);
    ws->tokens = malloc(BT * sizeof(int32_t));
    if (!ws->mem || !ws->tokens) {
        gpt_ws_destroy(ws);
        return NULL;
    }
    memset(ws->mem, 0, bytes);
    float *x = ws->mem;
    for (int i = 0; i < NBUF; i++) {
        *ptrs[i] = x;
        x += (sizes[i] + 15) / 16 * 16;
    }
    return ws;
}

void gpt_ws_destroy(gpt_ws_t *ws) {
    if (!ws) return;
    free(ws->mem);
    free(ws->tokens);
    free(ws);
}

const float *gpt_forward(const model_t *m, gpt_ws_t *ws, const int32_t *tokens, int B, int T) {
    const model_config_t *cfg = &m->cfg;
    const gpt_params_t *p = m->impl;
    assert(B >= 1 && T >= 1 && B <= ws->max_B && T <= ws->max_T);
    assert(memcmp(&ws->cfg, cfg, sizeof *cfg) == 0);
    int C = cfg->channels, L = cfg->layers, NH = cfg->heads, V = cfg->vocab;
    int N = B * T;
    for (int i = 0; i < N; i++) assert(tokens[i] >= 0 && tokens[i] < V);
    memcpy(ws->tokens, tokens, (size_t)N * sizeof(int32_t));
    ws->B = B;
    ws->T = T;
    size_t BT = ws->BTmax, C_ = (size_t)C;

    transpose_all(cfg, p, ws->wT);
    encoder_forward(ws->encoded, tokens, p->wte, p->wpe, B, T, C);
    for (int l = 0; l < L; l++) {
        wt_layer_t w = wt_layer(cfg, ws->wT, l);
        const float *residual = l == 0 ? ws->encoded : ws->residual3 + (l - 1) * BT * C_;
        float *ln1 = ws->ln1 + l * BT * C_, *ln1_mean = ws->ln1_mean + l * BT, *ln1_rstd = ws->ln1_rstd + l * BT;
        float *qkv = ws->qkv + l * BT * 3 * C_, *atty = ws->atty + l * BT * C_, *att = ws->att + l * ws->attmax;
        float *residual2 = ws->residual2 + l * BT * C_;
        float *ln2 = ws->ln2 + l * BT * C_, *ln2_mean = ws->ln2_mean + l * BT, *ln2_rstd = ws->ln2_rstd + l * BT;
        float *fch = ws->fch + l * BT * 4 * C_, *fch_gelu = ws->fch_gelu + l * BT * 4 * C_;
        float *residual3 = ws->residual3 + l * BT * C_;

        layernorm_forward(ln1, ln1_mean, ln1_rstd, residual, p->ln1w + l * C_, p->ln1b + l * C_, N, C);
        matmul_forward_t(qkv, ln1, w.qkv, p->qkvb + l * 3 * C_, N, C, 3 * C);
        attention_forward(atty, att, qkv, B, T, C, NH);
        matmul_forward_t(ws->proj, atty, w.attproj, p->attprojb + l * C_, N, C, C);
        residual_forward(residual2, residual, ws->proj, N * C);
        layernorm_forward(ln2, ln2_mean, ln2_rstd, residual2, p->ln2w + l * C_, p->ln2b + l * C_, N, C);
        matmul_forward_t(fch, ln2, w.fc, p->fcb + l * 4 * C_, N, C, 4 * C);
        gelu_forward(fch_gelu, fch, N * 4 * C);
        matmul_forward_t(ws->proj, fch_gelu, w.fcproj, p->fcprojb + l * C_, N, 4 * C, C);
        residual_forward(residual3, residual2, ws->proj, N * C);
    }
    layernorm_forward(ws->lnf, ws->lnf_mean, ws->lnf_rstd, ws->residual3 + (L - 1) * BT * C_, p->lnfw, p->lnfb, N, C);
    if (cfg->head == HEAD_LM)
        matmul_forward_t(ws->out, ws->lnf, wt_head(cfg, ws->wT), NULL, N, C, V); /* tied: logits = lnf wte^T */
    else
        matmul_forward_t(ws->out, ws->lnf, wt_head(cfg, ws->wT), p->vb, N, C, 1);
    return ws->out;
}

void gpt_backward(const model_t *m, gpt_ws_t *ws, const float *dout, float *grads) {
    const model_config_t *cfg = &m->cfg;
    const gpt_params_t *p = m->impl;
    gpt_params_t g;
    gpt_point(cfg, grads, &g);
    int C = cfg->channels, L = cfg->layers, NH = cfg->heads, V = cfg->vocab, B = ws->B, T = ws->T;
    assert(B >= 1 && T >= 1);
    int N = B * T;
    size_t BT = ws->BTmax, C_ = (size_t)C, NC = (size_t)N * C_;

    /* head: dbuf = d lnf */
    memset(ws->dbuf, 0, NC * sizeof(float));
    if (cfg->head == HEAD_LM)
        matmul_backward(ws->dbuf, g.wte, NULL, dout, ws->lnf, p->wte, N, C, V);
    else
        matmul_backward(ws->dbuf, g.vw, g.vb, dout, ws->lnf, p->vw, N, C, 1);
    memset(ws->dres, 0, NC * sizeof(float));
    layernorm_backward(ws->dres, g.lnfw, g.lnfb, ws->dbuf, ws->residual3 + (L - 1) * BT * C_, p->lnfw, ws->lnf_mean,
                       ws->lnf_rstd, N, C);

    /* dres holds the gradient of the residual stream. A residual add out = a + b passes it on to
     * both inputs unchanged (residual_backward), so the stream's buffer is kept for `a` and only the
     * branch `b` is back-propagated: that is residual_backward without the copy. */
    for (int l = L - 1; l >= 0; l--) {
        const float *residual = l == 0 ? ws->encoded : ws->residual3 + (l - 1) * BT * C_;
        const float *ln1 = ws->ln1 + l * BT * C_, *ln1_mean = ws->ln1_mean + l * BT, *ln1_rstd = ws->ln1_rstd + l * BT;
        const float *qkv = ws->qkv + l * BT * 3 * C_, *atty = ws->atty + l * BT * C_, *att = ws->att + l * ws->attmax;
        const float *residual2 = ws->residual2 + l * BT * C_;
        const float *ln2 = ws->ln2 + l * BT * C_, *ln2_mean = ws->ln2_mean + l * BT, *ln2_rstd = ws->ln2_rstd + l * BT;
        const float *fch = ws->fch + l * BT * 4 * C_, *fch_gelu = ws->fch_gelu + l * BT * 4 * C_;

        /* MLP branch: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))) */
        memset(ws->dfchg, 0, NC * 4 * sizeof(float));
        matmul_backward(ws->dfchg, g.fcprojw + l * 4 * C_ * C_, g.fcprojb + l * C_, ws->dres, fch_gelu,
                        p->fcprojw + l * 4 * C_ * C_, N, 4 * C, C);
        memset(ws->dfch, 0, NC * 4 * sizeof(float));
        gelu_backward(ws->dfch, fch, ws->dfchg, N * 4 * C);
        memset(ws->dbuf, 0, NC * sizeof(float));
        matmul_backward(ws->dbuf, g.fcw + l * 4 * C_ * C_, g.fcb + l * 4 * C_, ws->dfch, ln2, p->fcw + l * 4 * C_ * C_,
                        N, C, 4 * C);
        layernorm_backward(ws->dres, g.ln2w + l * C_, g.ln2b + l * C_, ws->dbuf, residual2, p->ln2w + l * C_, ln2_mean,
                           ln2_rstd, N, C);

        /* attention branch: residual2 = residual + attproj(attention(qkv(ln1(residual)))) */
        memset(ws->dbuf, 0, NC * sizeof(float));
        matmul_backward(ws->dbuf, g.attprojw + l * C_ * C_, g.attprojb + l * C_, ws->dres, atty,
                        p->attprojw + l * C_ * C_, N, C, C);
        memset(ws->dqkv, 0, NC * 3 * sizeof(float));
        attention_backward(ws->dqkv, ws->datt_row, ws->dbuf, qkv, att, B, T, C, NH);
        memset(ws->dbuf, 0, NC * sizeof(float));
        matmul_backward(ws->dbuf, g.qkvw + l * 3 * C_ * C_, g.qkvb + l * 3 * C_, ws->dqkv, ln1,
                        p->qkvw + l * 3 * C_ * C_, N, C, 3 * C);
        layernorm_backward(ws->dres, g.ln1w + l * C_, g.ln1b + l * C_, ws->dbuf, residual, p->ln1w + l * C_, ln1_mean,
                           ln1_rstd, N, C);
    }
    encoder_backward(g.wte, g.wpe, ws->dres, ws->tokens, B, T, C);
}

/* ------------------------------------------------------------------------------------------
 * KV cache: the qkv rows of every layer for the positions fed so far, laid out (L,max_T,3C) like
 * one sequence of the batch forward, so attention_row sees the same strides and computes the same
 * bits. Every other step is the batch forward's function applied to one row, the matmuls on weights
 * transposed at the first step of each sequence (the model is read-only while it generates). */

struct gpt_kv {
    model_config_t cfg;
    int max_T, pos;
    float *mem;
    float *qkv;          /* (L,max_T,3C) */
    float *x, *x2;       /* (C) residual stream */
    float *ln, *atty;    /* (C) */
    float *proj;         /* (C) */
    float *fch, *fchg;   /* (4C) */
    float *att_row;      /* (max_T) */
    float *mean, *rstd;  /* (1) */
    float *out;          /* (V) or (1) */
    float *wT;           /* transposed weights (wt_floats) */
};

gpt_kv_t *gpt_kv_create(const model_t *m, int max_T) {
    const model_config_t *cfg = &m->cfg;
    assert(max_T >= 1 && max_T <= cfg->max_seq);
    gpt_kv_t *kv = calloc(1, sizeof *kv);
    if (!kv) return NULL;
    kv->cfg = *cfg;
    kv->max_T = max_T;
    size_t C = (size_t)cfg->channels, L = (size_t)cfg->layers;
    size_t OD = cfg->head == HEAD_LM ? (size_t)cfg->vocab : 1;
    size_t total = L * max_T * 3 * C + 5 * C + 8 * C + (size_t)max_T + 2 + OD + wt_floats(cfg);
    kv->mem = calloc(total, sizeof(float));
    if (!kv->mem) {
        free(kv);
        return NULL;
    }
    float *x = kv->mem;
    kv->qkv = x, x += L * max_T * 3 * C;
    kv->x = x, x += C;
    kv->x2 = x, x += C;
    kv->ln = x, x += C;
    kv->atty = x, x += C;
    kv->proj = x, x += C;
    kv->fch = x, x += 4 * C;
    kv->fchg = x, x += 4 * C;
    kv->att_row = x, x += max_T;
    kv->mean = x, x += 1;
    kv->rstd = x, x += 1;
    kv->out = x, x += OD;
    kv->wT = x, x += wt_floats(cfg);
    assert((size_t)(x - kv->mem) == total);
    return kv;
}

void gpt_kv_destroy(gpt_kv_t *kv) {
    if (!kv) return;
    free(kv->mem);
    free(kv);
}

void gpt_kv_reset(gpt_kv_t *kv) { kv->pos = 0; }

const float *gpt_kv_step(const model_t *m, gpt_kv_t *kv, int32_t token) {
    const model_config_t *cfg = &m->cfg;
    const gpt_params_t *p = m->impl;
    assert(memcmp(&kv->cfg, cfg, sizeof *cfg) == 0);
    assert(kv->pos < kv->max_T && token >= 0 && token < cfg->vocab);
    int C = cfg->channels, L = cfg->layers, NH = cfg->heads, t = kv->pos, hs = C / NH;
    size_t C_ = (size_t)C, C3 = 3 * C_;
    float scale = 1.0f / sqrtf((float)hs);

    if (t == 0) transpose_all(cfg, p, kv->wT);
    /* same as encoder_forward at (b, t) */
    const float *we = p->wte + (size_t)token * C_, *pe = p->wpe + (size_t)t * C_;
    for (int i = 0; i < C; i++) kv->x[i] = we[i] + pe[i];
    for (int l = 0; l < L; l++) {
        wt_layer_t w = wt_layer(cfg, kv->wT, l);
        float *qkv = kv->qkv + (size_t)l * kv->max_T * C3; /* this layer's rows, position 0 first */
        float *row = qkv + (size_t)t * C3;
        layernorm_forward(kv->ln, kv->mean, kv->rstd, kv->x, p->ln1w + l * C_, p->ln1b + l * C_, 1, C);
        matmul_forward_t(row, kv->ln, w.qkv, p->qkvb + l * C3, 1, C, 3 * C);
        for (int h = 0; h < NH; h++)
            attention_row(kv->atty + h * hs, kv->att_row, row + h * hs, qkv + C_ + h * hs, qkv + 2 * C_ + h * hs, C3, t,
                          hs, scale);
        matmul_forward_t(kv->proj, kv->atty, w.attproj, p->attprojb + l * C_, 1, C, C);
        residual_forward(kv->x2, kv->x, kv->proj, C);
        layernorm_forward(kv->ln, kv->mean, kv->rstd, kv->x2, p->ln2w + l * C_, p->ln2b + l * C_, 1, C);
        matmul_forward_t(kv->fch, kv->ln, w.fc, p->fcb + l * 4 * C_, 1, C, 4 * C);
        gelu_forward(kv->fchg, kv->fch, 4 * C);
        matmul_forward_t(kv->proj, kv->fchg, w.fcproj, p->fcprojb + l * C_, 1, 4 * C, C);
        residual_forward(kv->x, kv->x2, kv->proj, C);
    }
    layernorm_forward(kv->ln, kv->mean, kv->rstd, kv->x, p->lnfw, p->lnfb, 1, C);
    if (cfg->head == HEAD_LM)
        matmul_forward_t(kv->out, kv->ln, wt_head(cfg, kv->wT), NULL, 1, C, cfg->vocab);
    else
        matmul_forward_t(kv->out, kv->ln, wt_head(cfg, kv->wT), p->vb, 1, C, 1);
    kv->pos++;
    return kv->out;
}
