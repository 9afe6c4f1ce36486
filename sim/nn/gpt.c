/* gpt: a tiny causal transformer in the style of llm.c's train_gpt2.c. Every layer is a pair of
 * static functions x_forward/x_backward over raw float pointers with the shapes in a comment;
 * the parameters are pointers into the model's one arena (gpt_params_t, sim/nn/gpt.h).
 *
 * The compute kernels (matmul, attention, layernorm, GELU) live in sim/nn/kern.h / kern_impl.h; this
 * file owns the layer sequence, the workspace, the parameters and the KV cache.
 *
 * Determinism: single-threaded, float arithmetic, every sum in an order fixed by the code, no FMA
 * contraction (-ffp-contract=off). A matmul output element is always
 * ((bias + x[0] w[0]) + x[1] w[1]) + ... in ascending order; the blocked SIMD kernel only computes
 * several such sums side by side (never reassociates one), so it matches a plain dot product bit for
 * bit, whatever the number of rows. The batched KV cache runs the same row-wise functions on the
 * rows it steps, and kern_attention_row is the batch forward's row function, so every row
 * reproduces model_forward bit for bit.
 *
 * Backward functions ADD (+=) into their gradient outputs, as in llm.c. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "kern.h"

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

// inp, out are (N,C); mean, rstd are (N); weight, bias are (C). Sum orders: sim/nn/kern_impl.h.
static void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                              const float *bias, int N, int C) {
    kern_layernorm_forward(out, mean, rstd, inp, weight, bias, N, C);
}

// dout, inp, dinp are (N,C); dweight, dbias (C)
static void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int N, int C) {
    kern_layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C, 1);
}

// weight is (OC,C); wT is (C,OC): its transpose, the layout kern_gemm wants for out = inp W^T
static void transpose_weight(float *wT, const float *weight, int C, int OC) {
    for (int i = 0; i < C; i++) {
        float *row = wT + (size_t)i * OC;
        for (int j = 0; j < OC; j++) row[j] = weight[(size_t)j * C + i];
    }
}

// inp is (N,C), wT (C,OC) from transpose_weight, bias (OC) or NULL, out (N,OC).
// out[n][j] = ((bias[j] + x[0] w[0][j]) + x[1] w[1][j]) + ... : the sum in ascending i, exactly as the
// dot-product path of matmul_forward (kern_gemm's tiles never reassociate a sum).
static void matmul_forward_t(float *out, const float *inp, const float *wT, const float *bias, int N, int C, int OC) {
    kern_gemm(out, OC, inp, C, 1, wT, OC, bias, 0, N, C, OC);
}

// inp is (N,C), weight (OC,C), bias (OC) or NULL, out (N,OC): out[n][o] = bias[o] + sum_i inp[n][i] w[o][i]
// with the sum in ascending i. With wT_scratch (C*OC floats) the weights are transposed and the
// blocked kernel runs; with NULL, plain dot products. Both give identical bits (tested).
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

/* 1 when every d[i] == 0 (either zero; NaN is not zero). 8 at a time: the last layer's prompt
 * rows are all zero and were scanned one float at a time, about 1% of an iteration. */
static int row_is_zero(const float *d, int n) {
    typedef uint32_t u8 __attribute__((vector_size(32)));
    const u8 magnitude = {0x7FFFFFFFu, 0x7FFFFFFFu, 0x7FFFFFFFu, 0x7FFFFFFFu,
                          0x7FFFFFFFu, 0x7FFFFFFFu, 0x7FFFFFFFu, 0x7FFFFFFFu};
    int i = 0;
    for (; i + 8 <= n; i += 8) { /* a float is +-0 exactly when its bits but the sign are 0 */
        u8 x;
        uint64_t w[4];
        memcpy(&x, d + i, sizeof x);
        x &= magnitude;
        memcpy(w, &x, sizeof w);
        if (w[0] | w[1] | w[2] | w[3]) return 0;
    }
    for (; i < n; i++)
        if (d[i] != 0.0f) return 0;
    return 1;
}

// dout is (N,OC), inp (N,C), weight (OC,C); dinp (N,C) += dout W; dweight (OC,C) += dout^T inp;
// dbias (OC) += sum_n dout (dbias may be NULL). Rows of dout that are all zero are skipped (the
// losses leave every prompt position at zero, and the last layers keep those rows zero); over the
// other rows every sum runs in ascending order of the summed index (o for dinp, n for dweight and
// dbias) onto the existing value. The nonzero rows are taken as runs of consecutive rows, each run
// one blocked kernel call, so a run boundary never changes an element's order.
#define DW_CHUNK 32

/* set: dinp's N rows are written (0 + the sum: the bits of accumulating onto a zeroed buffer,
 * since the kernel's init 0.0f is the +0 a memset leaves), not added to; saves the caller's memset */
static void matmul_backward_to(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, int N, int C, int OC, int set) {
    float *dT = malloc((size_t)DW_CHUNK * OC * sizeof(float)); /* (OC, DW_CHUNK): a chunk of dout^T */
    assert(dT);
    int n = 0;
    while (n < N) {
        if (row_is_zero(dout + (size_t)n * OC, OC)) {
            if (set) memset(dinp + (size_t)n * C, 0, (size_t)C * sizeof(float));
            n++;
            continue;
        }
        int n1 = n + 1;
        while (n1 < N && !row_is_zero(dout + (size_t)n1 * OC, OC)) n1++;
        const float *d = dout + (size_t)n * OC, *x = inp + (size_t)n * C;
        int R = n1 - n;
        /* dinp rows += d (R,OC) . W (OC,C) */
        kern_gemm(dinp + (size_t)n * C, C, d, OC, 1, weight, C, NULL, !set, R, OC, C);
        /* dweight (OC,C) += d^T (OC,R) . x (R,C), in chunks of DW_CHUNK rows: each chunk of d is
         * transposed so the kernel streams contiguous rows, and the chunk of x stays in cache while
         * every output tile passes over it. Chunks run in ascending n and every element adds its
         * terms one n at a time onto the value left by the previous chunk: the same order. */
        if (C < 64) { /* narrow rows: the chunk copies cost more than they save */
            kern_gemm(dweight, C, d, 1, OC, x, C, NULL, 1, OC, R, C);
        } else
        for (int k0 = 0; k0 < R; k0 += DW_CHUNK) {
            int kc = R - k0 < DW_CHUNK ? R - k0 : DW_CHUNK;
            for (int k = 0; k < kc; k++)
                for (int o = 0; o < OC; o++) dT[(size_t)o * kc + k] = d[(size_t)(k0 + k) * OC + o];
            kern_gemm(dweight, C, dT, kc, 1, x + (size_t)k0 * C, C, NULL, 1, OC, kc, C);
        }
        if (dbias) kern_colsum(dbias, d, R, OC);
        n = n1;
    }
    free(dT);
}

/* matmul_backward_to in write mode over a (B,T) batch whose dout rows before from[b] are known to
 * be zero (a partial forward's last layer): those rows of dinp are zeroed and the rest is one
 * call per sequence, the bits of one call over all rows (zero rows are skipped, and runs never
 * change an element's order) without scanning the known-zero rows. from NULL: one call. */
static void matmul_backward_from(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                 const float *weight, int B, int T, int C, int OC, const int *from) {
    if (!from) {
        matmul_backward_to(dinp, dweight, dbias, dout, inp, weight, B * T, C, OC, 1);
        return;
    }
    for (int b = 0; b < B; b++) {
        size_t r0 = (size_t)b * T, f = (size_t)from[b];
        memset(dinp + r0 * C, 0, f * C * sizeof(float));
        if ((int)f < T)
            matmul_backward_to(dinp + (r0 + f) * C, dweight, dbias, dout + (r0 + f) * OC, inp + (r0 + f) * C, weight,
                               T - (int)f, C, OC, 1);
    }
}

static void matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, int N, int C, int OC) {
    matmul_backward_to(dinp, dweight, dbias, dout, inp, weight, N, C, OC, 0);
}

// inp is (B,T,3C) holding q,k,v (heads interleaved as llm.c: head h uses channels h*hs..h*hs+hs-1
// of each); att is (B,NH,T,pad8(T)), rows t2 <= t the softmax; out is (B,T,C). Orders: sim/nn/kern.h.
static void attention_forward(float *out, float *att, const float *inp, int B, int T, int C, int NH) {
    kern_attention_forward(out, att, inp, B, T, C, NH, NULL);
}

// dout is (B,T,C), inp (B,T,3C), att (B,NH,T,pad8(T)); dinp (B,T,3C) +=; datt_row is unused (kept for the
// test hook's signature). The softmax backward uses dpre[t2] = att[t2] (datt[t2] - sum_t3 att[t3] datt[t3]).
static void attention_backward(float *dinp, float *datt_row, const float *dout, const float *inp, const float *att,
                               int B, int T, int C, int NH) {
    (void)datt_row;
    kern_attention_backward(dinp, dout, inp, att, B, T, C, NH, NULL, 1);
}

// out, inp are (N): the tanh approximation of GELU (computed as x sigmoid(2u), sim/nn/kern_impl.h)
static void gelu_forward(float *out, const float *inp, int N) { kern_gelu_forward(out, NULL, inp, N); }

// dinp, inp, dout are (N)
static void gelu_backward(float *dinp, const float *inp, const float *dout, int N) {
    kern_gelu_backward(dinp, inp, NULL, dout, N, 1);
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
    kern_det_expf,     kern_det_expf8,
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

/* Transposed weights (C_in, C_out) of every matrix, for the tiled matmul: per layer qkv, attproj,
 * fc, fcproj, then the head (wte for HEAD_LM, vw for HEAD_SCALAR). Rebuilt from the params at every
 * forward and at the first step of every KV sequence, so they never go stale. */
typedef struct {
    float *qkv, *attproj, *fc, *fcproj;
} wt_layer_t;

static size_t wt_layer_floats(size_t C) { return C * 3 * C + C * C + C * 4 * C + 4 * C * C; }

static size_t wt_floats(const model_config_t *cfg) {
    size_t C = (size_t)cfg->channels, OD = cfg->head == HEAD_LM ? (size_t)cfg->vocab : 1;
    return (size_t)cfg->layers * wt_layer_floats(C) + C * OD;
}

static wt_layer_t wt_layer(const model_config_t *cfg, float *wt, int l) {
    size_t C = (size_t)cfg->channels;
    wt_layer_t w;
    w.qkv = wt + (size_t)l * wt_layer_floats(C);
    w.attproj = w.qkv + C * 3 * C;
    w.fc = w.attproj + C * C;
    w.fcproj = w.fc + C * 4 * C;
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

/* Runs of rows: r0[i] .. r0[i] + R[i] - 1 of the (B*T) rows of a batch */
typedef struct {
    int n;
    size_t *r0;
    int *R;
} row_runs_t;

struct gpt_ws {
    model_config_t cfg;
    int max_B, max_T, B, T;
    size_t BTmax, attmax; /* per-layer strides */
    int32_t *tokens;      /* (B,T) copy of the last forward's tokens */
    int *from;            /* (max_B) first position with a head output, 0 when all */
    int part;             /* the last forward had `from`: its last layer only ran rows t >= from[b] */
    /* reuse (gpt_forward with reuse), once gpt_ws_track: what the rows in the buffers came from */
    int track;            /* forwards record their parameters (a copy each) for a reusing one */
    int have_rows;        /* a tracked forward has filled the buffers */
    float *params_seen;   /* (n_params) the parameters of that forward, bit for bit */
    long rows_kept;       /* rows the last forward kept (gpt_ws_rows_kept) */
    int *keep;            /* (max_B) rows kept from that forward, per sequence */
    int *start_last;      /* (max_B) first row the last layer's queries and MLP run on */
    row_runs_t runs[2];   /* scratch of gpt_forward */
    float *mem;
    float *encoded;                        /* (B,T,C) */
    float *ln1, *ln1_mean, *ln1_rstd;      /* (L,B,T,C), (L,B,T), (L,B,T) */
    float *qkv;                            /* (L,B,T,3C) */
    float *atty;                           /* (L,B,T,C) */
    float *att;                            /* (L,B,NH,T,pad8(T)) */
    float *residual2;                      /* (L,B,T,C) */
    float *ln2, *ln2_mean, *ln2_rstd;      /* (L,B,T,C), (L,B,T), (L,B,T) */
    float *fch, *fch_gelu, *fch_sg;        /* (L,B,T,4C); fch_sg: GELU's sigmoid, for the backward */
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
    size_t att = (size_t)max_B * cfg->heads * max_T * ((max_T + 7) / 8 * 8); /* rows padded to 8 */
    size_t OD = cfg->head == HEAD_LM ? V : 1, WT = wt_floats(cfg);
    ws->BTmax = BT;
    ws->attmax = att;
    size_t sizes[] = {
        BT * C,                                                 /* encoded */
        L * BT * C, L * BT, L * BT,                             /* ln1 */
        L * BT * 3 * C, L * BT * C, L * att, L * BT * C,        /* qkv, atty, att, residual2 */
        L * BT * C, L * BT, L * BT,                             /* ln2 */
        L * BT * 4 * C, L * BT * 4 * C, L * BT * C,             /* fch, fch_gelu, residual3 */
        L * BT * 4 * C,                                         /* fch_sg */
        BT * C, BT, BT,                                         /* lnf */
        BT * OD, BT * C, WT,                                    /* out, proj, wT */
        BT * C, BT * C, BT * 3 * C, BT * 4 * C, BT * 4 * C, (size_t)max_T, /* backward */
    };
    float **ptrs[] = {
        &ws->encoded,  &ws->ln1,       &ws->ln1_mean, &ws->ln1_rstd, &ws->qkv,     &ws->atty,
        &ws->att,      &ws->residual2, &ws->ln2,      &ws->ln2_mean, &ws->ln2_rstd, &ws->fch,
        &ws->fch_gelu, &ws->residual3, &ws->fch_sg, &ws->lnf,      &ws->lnf_mean, &ws->lnf_rstd, &ws->out,
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
    ws->from = calloc((size_t)max_B, sizeof(int));
    ws->keep = calloc((size_t)max_B, sizeof(int));
    ws->start_last = calloc((size_t)max_B, sizeof(int));
    int runs_ok = 1;
    for (int i = 0; i < 2; i++) {
        ws->runs[i].r0 = malloc((size_t)max_B * sizeof(size_t));
        ws->runs[i].R = malloc((size_t)max_B * sizeof(int));
        runs_ok &= ws->runs[i].r0 && ws->runs[i].R;
    }
    if (!ws->mem || !ws->tokens || !ws->from || !ws->keep || !ws->start_last || !runs_ok) {
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

int gpt_ws_track(gpt_ws_t *ws, size_t n_params) {
    if (ws->track) return 0;
    ws->params_seen = malloc((n_params ? n_params : 1) * sizeof(float));
    if (!ws->params_seen) return -1;
    ws->track = 1;
    ws->have_rows = 0;
    return 0;
}

long gpt_ws_rows_kept(const gpt_ws_t *ws) { return ws->rows_kept; }

void gpt_ws_destroy(gpt_ws_t *ws) {
    if (!ws) return;
    free(ws->mem);
    free(ws->tokens);
    free(ws->from);
    free(ws->keep);
    free(ws->start_last);
    free(ws->params_seen);
    for (int i = 0; i < 2; i++) {
        free(ws->runs[i].r0);
        free(ws->runs[i].R);
    }
    free(ws);
}

/* The rows a forward on (tokens, B, T) may keep from the workspace's previous one (ws->keep[b]):
 * a row's activations in every layer depend only on the parameters and on the tokens up to it
 * (causality), so when the parameters are bit for bit those of that forward and B and T are the
 * same, sequence b's rows before its first differing token are already in the buffers. The PPO
 * update's target-NLL pass runs right after the trajectory pass on the same prompts: about half
 * its rows are such a prefix. */
static void reusable_rows(const model_t *m, gpt_ws_t *ws, const int32_t *tokens, int B, int T, int reuse) {
    int ok = reuse && ws->track && ws->have_rows && ws->B == B && ws->T == T &&
             memcmp(ws->params_seen, m->params, m->n_params * sizeof(float)) == 0;
    ws->rows_kept = 0;
    for (int b = 0; b < B; b++) {
        int k = 0;
        if (ok)
            while (k < T && tokens[(size_t)b * T + k] == ws->tokens[(size_t)b * T + k]) k++;
        ws->keep[b] = k;
        ws->rows_kept += k;
    }
}

/* Runs of rows t >= start[b] of each sequence, merged where they touch: one run of all B*T rows
 * when every start is 0. Row-wise operations over any such runs give each row the same bits. */
static void row_runs(row_runs_t *rr, const int *start, int B, int T) {
    rr->n = 0;
    for (int b = 0; b < B; b++) {
        int s = start ? start[b] : 0;
        if (s >= T) continue;
        size_t r0 = (size_t)b * T + s;
        if (rr->n > 0 && rr->r0[rr->n - 1] + (size_t)rr->R[rr->n - 1] == r0)
            rr->R[rr->n - 1] += T - s;
        else {
            rr->r0[rr->n] = r0;
            rr->R[rr->n] = T - s;
            rr->n++;
        }
    }
}

const float *gpt_forward(const model_t *m, gpt_ws_t *ws, const int32_t *tokens, int B, int T, const int *from,
                         int reuse) {
    const model_config_t *cfg = &m->cfg;
    const gpt_params_t *p = m->impl;
    assert(B >= 1 && T >= 1 && B <= ws->max_B && T <= ws->max_T);
    assert(memcmp(&ws->cfg, cfg, sizeof *cfg) == 0);
    int C = cfg->channels, L = cfg->layers, NH = cfg->heads, V = cfg->vocab;
    int N = B * T;
    for (int i = 0; i < N; i++) assert(tokens[i] >= 0 && tokens[i] < V);
    reusable_rows(m, ws, tokens, B, T, reuse);
    int any_kept = 0;
    for (int b = 0; b < B; b++) {
        int f = from ? from[b] : 0;
        f = f < 0 ? 0 : (f > T ? T : f);
        /* the last layer's queries and MLP (and the head) ran on rows >= the previous from[b]:
         * they are kept on [previous from, keep) if this forward needs nothing before that */
        int prev = ws->from[b], k = ws->keep[b];
        ws->start_last[b] = (k > 0 && f >= prev && k > f) ? k : f;
        ws->from[b] = f;
        any_kept |= k > 0;
    }
    memcpy(ws->tokens, tokens, (size_t)N * sizeof(int32_t));
    if (ws->track && !any_kept) memcpy(ws->params_seen, m->params, m->n_params * sizeof(float));
    ws->have_rows = ws->track;
    ws->B = B;
    ws->T = T;
    ws->part = from != NULL;
    size_t BT = ws->BTmax, C_ = (size_t)C;
    /* todo: the rows this forward computes, t >= keep[b] (all rows, one run, when none is kept);
     * rest: the rows after the keys and values, per layer */
    row_runs_t *todo = &ws->runs[0], *rest = &ws->runs[1], *runs;
    row_runs(todo, any_kept ? ws->keep : NULL, B, T);

    if (!any_kept) transpose_all(cfg, p, ws->wT); /* else wT already holds these parameters */
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

        /* keys and values: every row not kept */
        for (int i = 0; i < todo->n; i++) {
            size_t r0 = todo->r0[i];
            layernorm_forward(ln1 + r0 * C_, ln1_mean + r0, ln1_rstd + r0, residual + r0 * C_, p->ln1w + l * C_,
                              p->ln1b + l * C_, todo->R[i], C);
            matmul_forward_t(qkv + r0 * 3 * C_, ln1 + r0 * C_, w.qkv, p->qkvb + l * 3 * C_, todo->R[i], C, 3 * C);
        }
        /* With `from`, the last layer's outputs are only read from position from[b] on: every
         * position still needs its keys and values (above), but queries, the MLP and the final
         * norm run on rows t >= from[b] only. Row-wise operations, so those rows keep their bits. */
        const int *start = l == L - 1 ? (ws->part || any_kept ? ws->start_last : NULL) : (any_kept ? ws->keep : NULL);
        if (start == NULL) {
            assert(!any_kept);
            runs = todo; /* all rows */
        } else {
            row_runs(rest, start, B, T);
            runs = rest;
        }
        kern_attention_forward(atty, att, qkv, B, T, C, NH, start);
        for (int i = 0; i < runs->n; i++) {
            size_t r0 = runs->r0[i];
            int R = runs->R[i];
            float *pj = ws->proj + r0 * C_, *r2 = residual2 + r0 * C_, *h = fch + r0 * 4 * C_;
            matmul_forward_t(pj, atty + r0 * C_, w.attproj, p->attprojb + l * C_, R, C, C);
            residual_forward(r2, residual + r0 * C_, pj, R * C);
            layernorm_forward(ln2 + r0 * C_, ln2_mean + r0, ln2_rstd + r0, r2, p->ln2w + l * C_, p->ln2b + l * C_, R, C);
            matmul_forward_t(h, ln2 + r0 * C_, w.fc, p->fcb + l * 4 * C_, R, C, 4 * C);
            kern_gelu_forward(fch_gelu + r0 * 4 * C_, ws->fch_sg + l * BT * 4 * C_ + r0 * 4 * C_, h, R * 4 * C);
            matmul_forward_t(pj, fch_gelu + r0 * 4 * C_, w.fcproj, p->fcprojb + l * C_, R, 4 * C, C);
            residual_forward(residual3 + r0 * C_, r2, pj, R * C);
            if (l == L - 1)
                layernorm_forward(ws->lnf + r0 * C_, ws->lnf_mean + r0, ws->lnf_rstd + r0, residual3 + r0 * C_, p->lnfw,
                                  p->lnfb, R, C);
        }
    }
    /* the head on the positions asked for and not kept: one contiguous run of rows per sequence
     * (the backward still reads from[b] on) */
    int OD = cfg->head == HEAD_LM ? V : 1;
    for (int b = 0; b < B; b++) {
        int s = ws->start_last[b];
        size_t r0 = (size_t)b * T + s;
        int R = T - s;
        if (R <= 0) continue;
        if (cfg->head == HEAD_LM) /* tied: logits = lnf wte^T */
            matmul_forward_t(ws->out + r0 * OD, ws->lnf + r0 * C_, wt_head(cfg, ws->wT), NULL, R, C, V);
        else
            matmul_forward_t(ws->out + r0, ws->lnf + r0 * C_, wt_head(cfg, ws->wT), p->vb, R, C, 1);
    }
    kern_flops_flush();
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
    size_t BT = ws->BTmax, C_ = (size_t)C;

    /* head: dbuf = d lnf, over the rows the forward computed (matmul_backward skips zero rows, so
     * the runs per sequence give the bits of one call over all rows with zeros elsewhere). The
     * runs' rows are written (0 + the sum: the bits of adding onto zeros), the rows before them
     * zeroed; then the final norm's backward writes dres the same way. */
    int OD = cfg->head == HEAD_LM ? V : 1;
    for (int b = 0; b < B; b++) {
        size_t r0 = (size_t)b * T + ws->from[b];
        int R = T - ws->from[b];
        memset(ws->dbuf + (size_t)b * T * C_, 0, (size_t)ws->from[b] * C_ * sizeof(float));
        if (R <= 0) continue;
        if (cfg->head == HEAD_LM)
            matmul_backward_to(ws->dbuf + r0 * C_, g.wte, NULL, dout + r0 * OD, ws->lnf + r0 * C_, p->wte, R, C, V, 1);
        else
            matmul_backward_to(ws->dbuf + r0 * C_, g.vw, g.vb, dout + r0, ws->lnf + r0 * C_, p->vw, R, C, 1, 1);
    }
    kern_layernorm_backward(ws->dres, g.lnfw, g.lnfb, ws->dbuf, ws->residual3 + (L - 1) * BT * C_, p->lnfw,
                            ws->lnf_mean, ws->lnf_rstd, N, C, 0);

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

        /* after a partial forward (from), the last layer's rows before from[b] hold no activations
         * and no gradient: dres, dfch and dbuf are zero there until the attention backward gives
         * those positions' keys and values theirs. The matmuls' backward skips them (zero rows
         * add nothing) without scanning them, GELU's writes zeros there. */
        int part = ws->part && l == L - 1;
        const int *zero_before = part ? ws->from : NULL;
        /* MLP branch: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))) */
        matmul_backward_from(ws->dfchg, g.fcprojw + l * 4 * C_ * C_, g.fcprojb + l * C_, ws->dres, fch_gelu,
                             p->fcprojw + l * 4 * C_ * C_, B, T, 4 * C, C, zero_before);
        for (int b = 0; b < (part ? B : 1); b++) {
            size_t r0 = part ? (size_t)b * T + ws->from[b] : 0;
            int R = part ? T - ws->from[b] : N;
            if (part) memset(ws->dfch + (size_t)b * T * 4 * C_, 0, (size_t)ws->from[b] * 4 * C_ * sizeof(float));
            if (R > 0)
                kern_gelu_backward(ws->dfch + r0 * 4 * C_, fch + r0 * 4 * C_, ws->fch_sg + l * BT * 4 * C_ + r0 * 4 * C_,
                                   ws->dfchg + r0 * 4 * C_, R * 4 * C, 0);
        }
        matmul_backward_from(ws->dbuf, g.fcw + l * 4 * C_ * C_, g.fcb + l * 4 * C_, ws->dfch, ln2,
                             p->fcw + l * 4 * C_ * C_, B, T, C, 4 * C, zero_before);
        layernorm_backward(ws->dres, g.ln2w + l * C_, g.ln2b + l * C_, ws->dbuf, residual2, p->ln2w + l * C_, ln2_mean,
                           ln2_rstd, N, C);

        /* attention branch: residual2 = residual + attproj(attention(qkv(ln1(residual)))) */
        matmul_backward_from(ws->dbuf, g.attprojw + l * C_ * C_, g.attprojb + l * C_, ws->dres, atty,
                             p->attprojw + l * C_ * C_, B, T, C, C, zero_before);
        kern_attention_backward(ws->dqkv, ws->dbuf, qkv, att, B, T, C, NH, part ? ws->from : NULL, 0);
        matmul_backward_to(ws->dbuf, g.qkvw + l * 3 * C_ * C_, g.qkvb + l * 3 * C_, ws->dqkv, ln1,
                           p->qkvw + l * 3 * C_ * C_, N, C, 3 * C, 1);
        layernorm_backward(ws->dres, g.ln1w + l * C_, g.ln1b + l * C_, ws->dbuf, residual, p->ln1w + l * C_, ln1_mean,
                           ln1_rstd, N, C);
    }
    encoder_backward(g.wte, g.wpe, ws->dres, ws->tokens, B, T, C);
    kern_flops_flush();
}

/* ------------------------------------------------------------------------------------------
 * KV cache, batched: up to max_R sequences ("rows") at their own positions step together, so the
 * matmuls of a step have one row per sequence. A row's cache keeps, per layer, its keys transposed
 * (C, ldk) (8 positions are one vector for the scores) and its values (max_T, C). Every step runs
 * the batch forward's functions on the stepped rows: each output element's operations do not depend
 * on how many rows share the call, and kern_attention_row is the batch forward's row function, so a
 * row reproduces model_forward bit for bit whatever else steps with it (tested). The matmuls use
 * weights transposed whenever a stepped row starts a sequence (the model is read-only while it
 * generates). */

struct gpt_kv {
    model_config_t cfg;
    int max_R, max_T, ldk;
    int *pos;            /* (max_R) */
    float *mem;
    float *kT;           /* (max_R, L, C, ldk) */
    float *vc;           /* (max_R, L, max_T, C) */
    float *x, *x2;       /* (max_R, C) residual stream */
    float *ln, *atty;    /* (max_R, C) */
    float *proj;         /* (max_R, C) */
    float *qkv;          /* (max_R, 3C) */
    float *fch, *fchg;   /* (max_R, 4C) */
    float *mean, *rstd;  /* (max_R) */
    float *att_row;      /* (ldk) */
    float *out;          /* (max_R, V) or (max_R) */
    float *wT;           /* transposed weights (wt_floats) */
};

gpt_kv_t *gpt_kv_create(const model_t *m, int max_R, int max_T) {
    const model_config_t *cfg = &m->cfg;
    assert(max_R >= 1 && max_T >= 1 && max_T <= cfg->max_seq);
    gpt_kv_t *kv = calloc(1, sizeof *kv);
    if (!kv) return NULL;
    kv->cfg = *cfg;
    kv->max_R = max_R;
    kv->max_T = max_T;
    kv->ldk = (max_T + 7) / 8 * 8;
    size_t C = (size_t)cfg->channels, L = (size_t)cfg->layers, R = (size_t)max_R;
    size_t OD = cfg->head == HEAD_LM ? (size_t)cfg->vocab : 1;
    size_t total = R * L * C * kv->ldk + R * L * max_T * C + R * (5 * C + 3 * C + 8 * C + 2 + OD) + (size_t)kv->ldk +
                   wt_floats(cfg);
    kv->mem = calloc(total, sizeof(float));
    kv->pos = calloc(R, sizeof(int));
    if (!kv->mem || !kv->pos) {
        gpt_kv_destroy(kv);
        return NULL;
    }
    float *x = kv->mem;
    kv->kT = x, x += R * L * C * kv->ldk;
    kv->vc = x, x += R * L * max_T * C;
    kv->x = x, x += R * C;
    kv->x2 = x, x += R * C;
    kv->ln = x, x += R * C;
    kv->atty = x, x += R * C;
    kv->proj = x, x += R * C;
    kv->qkv = x, x += R * 3 * C;
    kv->fch = x, x += R * 4 * C;
    kv->fchg = x, x += R * 4 * C;
    kv->mean = x, x += R;
    kv->rstd = x, x += R;
    kv->out = x, x += R * OD;
    kv->att_row = x, x += kv->ldk;
    kv->wT = x, x += wt_floats(cfg);
    assert((size_t)(x - kv->mem) == total);
    return kv;
}

void gpt_kv_destroy(gpt_kv_t *kv) {
    if (!kv) return;
    free(kv->mem);
    free(kv->pos);
    free(kv);
}

void gpt_kv_reset(gpt_kv_t *kv, int row) {
    if (row < 0)
        memset(kv->pos, 0, (size_t)kv->max_R * sizeof(int));
    else
        kv->pos[row] = 0;
}

const float *gpt_kv_step(const model_t *m, gpt_kv_t *kv, int n, const int *rows, const int32_t *tokens) {
    const model_config_t *cfg = &m->cfg;
    const gpt_params_t *p = m->impl;
    assert(memcmp(&kv->cfg, cfg, sizeof *cfg) == 0);
    assert(n >= 1 && n <= kv->max_R);
    int C = cfg->channels, L = cfg->layers, NH = cfg->heads, hs = C / NH, ldk = kv->ldk;
    size_t C_ = (size_t)C, C3 = 3 * C_;
    int fresh = 0;
    for (int r = 0; r < n; r++) {
        int row = rows[r], t = kv->pos[row];
        assert(row >= 0 && row < kv->max_R && t < kv->max_T && tokens[r] >= 0 && tokens[r] < cfg->vocab);
        fresh |= t == 0;
        /* same as encoder_forward at (b, t) */
        const float *we = p->wte + (size_t)tokens[r] * C_, *pe = p->wpe + (size_t)t * C_;
        float *x = kv->x + (size_t)r * C_;
        for (int i = 0; i < C; i++) x[i] = we[i] + pe[i];
    }
    if (fresh) transpose_all(cfg, p, kv->wT);
    for (int l = 0; l < L; l++) {
        wt_layer_t w = wt_layer(cfg, kv->wT, l);
        layernorm_forward(kv->ln, kv->mean, kv->rstd, kv->x, p->ln1w + l * C_, p->ln1b + l * C_, n, C);
        matmul_forward_t(kv->qkv, kv->ln, w.qkv, p->qkvb + l * C3, n, C, 3 * C);
        for (int r = 0; r < n; r++) {
            int row = rows[r], t = kv->pos[row];
            const float *q = kv->qkv + (size_t)r * C3;
            float *kT = kv->kT + ((size_t)row * L + l) * C_ * ldk;
            float *vc = kv->vc + ((size_t)row * L + l) * kv->max_T * C_;
            for (int i = 0; i < C; i++) kT[(size_t)i * ldk + t] = q[C_ + i];
            memcpy(vc + (size_t)t * C_, q + 2 * C_, C_ * sizeof(float));
            for (int h = 0; h < NH; h++)
                kern_attention_row(kv->atty + (size_t)r * C_ + h * hs, kv->att_row, q + h * hs,
                                   kT + (size_t)h * hs * ldk, ldk, vc + h * hs, (long)C_, t, hs);
        }
        matmul_forward_t(kv->proj, kv->atty, w.attproj, p->attprojb + l * C_, n, C, C);
        residual_forward(kv->x2, kv->x, kv->proj, n * C);
        layernorm_forward(kv->ln, kv->mean, kv->rstd, kv->x2, p->ln2w + l * C_, p->ln2b + l * C_, n, C);
        matmul_forward_t(kv->fch, kv->ln, w.fc, p->fcb + l * 4 * C_, n, C, 4 * C);
        gelu_forward(kv->fchg, kv->fch, n * 4 * C);
        matmul_forward_t(kv->proj, kv->fchg, w.fcproj, p->fcprojb + l * C_, n, 4 * C, C);
        residual_forward(kv->x, kv->x2, kv->proj, n * C);
    }
    layernorm_forward(kv->ln, kv->mean, kv->rstd, kv->x, p->lnfw, p->lnfb, n, C);
    if (cfg->head == HEAD_LM)
        matmul_forward_t(kv->out, kv->ln, wt_head(cfg, kv->wT), NULL, n, C, cfg->vocab);
    else
        matmul_forward_t(kv->out, kv->ln, wt_head(cfg, kv->wT), p->vb, n, C, 1);
    for (int r = 0; r < n; r++) kv->pos[rows[r]]++;
    kern_flops_flush();
    return kv->out;
}
