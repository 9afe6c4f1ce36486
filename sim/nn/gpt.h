/* gpt.h (internal to sim/model*.c, sim/nn/gpt.c, sim/nn/tabular.c and their tests): the two model
 * backends behind model.h. model.c owns the arena, clone/copy and the dispatch; each backend owns
 * its parameter layout, initialisation, workspace and KV cache. Nothing outside sim/nn/model.c and
 * the tests should include this header. */
#ifndef RLGF_GPT_H
#define RLGF_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* ---- GPT backend (sim/nn/gpt.c) ---- */

/* Parameter tensors: pointers into one buffer (params, or a grads buffer of the same layout).
 * Arena order is the field order below; the init draws follow it (see gpt_init). */
typedef struct {
    float *wte;      /* (V,C) token embedding, also the tied LM head */
    float *wpe;      /* (maxT,C) position embedding, maxT = cfg.max_seq */
    float *ln1w;     /* (L,C) */
    float *ln1b;     /* (L,C) */
    float *qkvw;     /* (L,3C,C) */
    float *qkvb;     /* (L,3C) */
    float *attprojw; /* (L,C,C) */
    float *attprojb; /* (L,C) */
    float *ln2w;     /* (L,C) */
    float *ln2b;     /* (L,C) */
    float *fcw;      /* (L,4C,C) */
    float *fcb;      /* (L,4C) */
    float *fcprojw;  /* (L,C,4C) */
    float *fcprojb;  /* (L,C) */
    float *lnfw;     /* (C) */
    float *lnfb;     /* (C) */
    float *vw;       /* (C) HEAD_SCALAR only, else NULL */
    float *vb;       /* (1) HEAD_SCALAR only, else NULL */
} gpt_params_t;

typedef struct gpt_ws gpt_ws_t;
typedef struct gpt_kv gpt_kv_t;

/* 0 when cfg is a valid GPT config (sets *n_params), else -1 with a message. */
int gpt_check(const model_config_t *cfg, size_t *n_params, char *errbuf, size_t errlen);
/* Points p's tensors into base (n_params floats in the arena layout). */
void gpt_point(const model_config_t *cfg, float *base, gpt_params_t *p);
/* Fills m->params and m->decay_mask from init (m->arena already zeroed). */
void gpt_init(model_t *m, rng_t *init);

gpt_ws_t *gpt_ws_create(const model_t *m, int max_B, int max_T);
void gpt_ws_destroy(gpt_ws_t *ws);
/* model_ws_track_rows / model_ws_rows_kept (model.h) */
int gpt_ws_track(gpt_ws_t *ws, size_t n_params);
long gpt_ws_rows_kept(const gpt_ws_t *ws);
/* from: NULL, or (B) first position of each sequence whose output is needed (model_forward_from);
 * reuse: keep the rows the previous forward on ws computed from the same parameters and tokens
 * (model_forward_reusing) */
const float *gpt_forward(const model_t *m, gpt_ws_t *ws, const int32_t *tokens, int B, int T, const int *from,
                         int reuse);
void gpt_backward(const model_t *m, gpt_ws_t *ws, const float *dout, float *grads);

/* Batched KV cache: max_R rows, each its own sequence (model.h, model_kv_step_rows). */
gpt_kv_t *gpt_kv_create(const model_t *m, int max_R, int max_T);
void gpt_kv_destroy(gpt_kv_t *kv);
void gpt_kv_reset(gpt_kv_t *kv, int row); /* row < 0: every row */
const float *gpt_kv_step(const model_t *m, gpt_kv_t *kv, int n, const int *rows, const int32_t *tokens);

/* Test hooks: the static layer functions of gpt.c, for finite-difference tests of each layer.
 * Shapes as in gpt.c. matmul_forward with wT_scratch (C * OC floats) runs the blocked
 * kernel on transposed weights that the model uses; with NULL, plain dot products (the reference
 * the tiled path must match bit for bit). attention's att is (B,NH,T,pad8(T)) (sim/nn/kern.h). */
typedef struct {
    void (*encoder_forward)(float *out, const int32_t *tokens, const float *wte, const float *wpe, int B, int T, int C);
    void (*encoder_backward)(float *dwte, float *dwpe, const float *dout, const int32_t *tokens, int B, int T, int C);
    void (*layernorm_forward)(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                              const float *bias, int N, int C);
    void (*layernorm_backward)(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int N, int C);
    void (*matmul_forward)(float *out, const float *inp, const float *weight, const float *bias, float *wT_scratch,
                           int N, int C, int OC);
    void (*matmul_backward)(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, int N, int C, int OC);
    void (*attention_forward)(float *out, float *att, const float *inp, int B, int T, int C, int NH);
    void (*attention_backward)(float *dinp, float *datt_row, const float *dout, const float *inp, const float *att,
                               int B, int T, int C, int NH);
    void (*gelu_forward)(float *out, const float *inp, int N);
    void (*gelu_backward)(float *dinp, const float *inp, const float *dout, int N);
    void (*residual_forward)(float *out, const float *inp1, const float *inp2, int N);
    void (*residual_backward)(float *dinp1, float *dinp2, const float *dout, int N);
    float (*det_expf)(float x);                     /* libm-free exp of the softmax and GELU */
    void (*det_expf8)(float *out, const float *in); /* its vf8 version, 8 floats at a time */
} gpt_test_hooks_t;
extern const gpt_test_hooks_t gpt_test_hooks;

/* ---- tabular backend (sim/nn/tabular.c) ---- */

typedef struct tab_ws tab_ws_t;
typedef struct tab_kv tab_kv_t;

/* Most rows a table may have; more is refused at model_create with a clear message. */
#define TAB_MAX_ROWS 4194304

int tab_check(const model_config_t *cfg, size_t *n_params, char *errbuf, size_t errlen);
/* Row of the state tokens[0..t]: rows of prefix length 1..max_seq are numbered in order of length,
 * then as base-V numbers (tokens[0] most significant): row_0 = tok_0, row_t = V (row_{t-1} + 1) +
 * tok_t. */
int64_t tab_row_next(int64_t prev_row, int t, int32_t tok, int V);
void tab_init(model_t *m);

tab_ws_t *tab_ws_create(const model_t *m, int max_B, int max_T);
void tab_ws_destroy(tab_ws_t *ws);
const float *tab_forward(const model_t *m, tab_ws_t *ws, const int32_t *tokens, int B, int T);
void tab_backward(const model_t *m, tab_ws_t *ws, const float *dout, float *grads);

tab_kv_t *tab_kv_create(const model_t *m, int max_T);
void tab_kv_destroy(tab_kv_t *kv);
void tab_kv_reset(tab_kv_t *kv);
const float *tab_kv_step(const model_t *m, tab_kv_t *kv, int32_t token);

#endif
