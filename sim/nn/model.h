/* model: the policies and critics rlgf trains, behind one interface so the rollout engine, PPO and
 * SL never care which kind they hold.
 *
 *  - MODEL_GPT: a tiny causal transformer (token + position embeddings, L pre-norm blocks of
 *    multi-head causal self-attention and a GELU MLP, final LayerNorm) with either an LM head tied
 *    to the token embedding (HEAD_LM: logits over the vocabulary) or a scalar head (HEAD_SCALAR: a
 *    value per position, the critic).
 *  - MODEL_TABULAR: one row of logits (or one value) per distinct prefix, for toy tasks with tiny
 *    vocabularies and horizons. Row for position t = the whole prefix tokens[0..t]. Starts at zero
 *    (uniform policy, zero values).
 *
 * Parameters, gradients and AdamW moments live in one arena per model (params | grads | m | v), so
 * Adam, gradient clipping, checkpoints and digests are single loops over one buffer.
 *
 * Forward/backward work on a batch of B sequences of T tokens (B,T), left-aligned; positions past a
 * sequence's end may hold any valid token id (causality means they never influence earlier
 * positions). out is (B,T,V) logits for HEAD_LM or (B,T) values for HEAD_SCALAR: out at position t
 * is the prediction for the token at position t+1, i.e. for the state "tokens[0..t]".
 *
 * Threads: a model is read-only during forward/backward; each thread uses its own workspace and
 * its own gradient buffer, and callers sum those buffers in a fixed order. */
#ifndef RLGF_MODEL_H
#define RLGF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../base/rng.h"

typedef enum { MODEL_GPT = 0, MODEL_TABULAR = 1 } model_kind_t;
typedef enum { HEAD_LM = 0, HEAD_SCALAR = 1 } head_kind_t;

typedef struct {
    model_kind_t kind;
    head_kind_t head;
    int vocab;    /* V */
    int max_seq;  /* longest sequence (prompt + generation) the model accepts */
    int channels; /* C, GPT only */
    int layers;   /* L, GPT only */
    int heads;    /* NH, GPT only; channels % heads == 0 */
} model_config_t;

typedef struct model model_t;
typedef struct model_ws model_ws_t;  /* activations for forward/backward of one (B,T) batch */
typedef struct model_kv model_kv_t;  /* incremental state for generation (KV cache) */

struct model {
    model_config_t cfg;
    size_t n_params;
    float *arena;        /* 4 * n_params floats, 64-byte aligned */
    float *params;       /* arena + 0 */
    float *grads;        /* arena + n_params */
    float *adam_m;       /* arena + 2 n_params */
    float *adam_v;       /* arena + 3 n_params */
    uint8_t *decay_mask; /* n_params: 1 where AdamW weight decay applies (not biases, norm gains) */
    void *impl;          /* kind-specific pointers into params */
};

/* Allocates and initialises (GPT: N(0, 0.02) weights, residual projections scaled by
 * 1/sqrt(2L), zero biases, unit norm gains, scalar head zero; tabular: all zero) from `init`.
 * Returns NULL with a message in errbuf for an invalid config. */
model_t *model_create(const model_config_t *cfg, rng_t *init, char *errbuf, size_t errlen);
void model_destroy(model_t *m);
/* Exact copy (params and moments), e.g. the frozen pi_ref. */
model_t *model_clone(const model_t *m);
/* Copies params (and moments) of src into dst; configs must match. */
void model_copy_params(model_t *dst, const model_t *src);
int model_out_dim(const model_t *m); /* V for HEAD_LM, 1 for HEAD_SCALAR */

model_ws_t *model_ws_create(const model_t *m, int max_B, int max_T);
void model_ws_destroy(model_ws_t *ws);
/* Runs the model on tokens (B,T) (B <= max_B, T <= max_T) and returns out (B,T,out_dim), which
 * stays valid in ws until the next forward. */
const float *model_forward(const model_t *m, model_ws_t *ws, const int32_t *tokens, int B, int T);
/* The same, but out is only computed at positions t >= from[b] of sequence b (elsewhere it is
 * left undefined), and the following model_backward treats dout as zero there. The outputs that
 * are computed have exactly model_forward's bits, and so have the gradients when dout is zero at
 * the skipped positions anyway. The losses and scores only read the generated positions, so the
 * prompt's (T,V) logits need not be computed, nor, in the last layer, anything of the prompt
 * positions but their keys and values. */
const float *model_forward_from(const model_t *m, model_ws_t *ws, const int32_t *tokens, int B, int T,
                                const int *from);
/* model_forward_from, computing only what the workspace's previous forward did not already: when
 * that forward ran on bit-identical parameters (compared, not assumed) with the same B and T, the
 * rows of sequence b before the first token where its tokens differ from then are kept (a causal
 * model's row depends only on the tokens up to it). Outputs and the following model_backward have
 * exactly model_forward_from's bits. For a second pass on the same prompts, e.g. PPO's target NLL
 * right after the trajectory pass. Keeps nothing unless the workspace tracks its rows: */
const float *model_forward_reusing(const model_t *m, model_ws_t *ws, const int32_t *tokens, int B, int T,
                                   const int *from);
/* From now on every forward on ws records the parameters it ran on (a copy of them per forward,
 * so only for a workspace a reusing forward will follow). 0, or -1 when out of memory; the
 * tabular backend has nothing to keep (0). */
int model_ws_track_rows(model_ws_t *ws, const model_t *m);
/* Rows the last forward on ws kept from the one before (0 after a plain forward): for tests. */
long model_ws_rows_kept(const model_ws_t *ws);
/* Back-propagates dout (B,T,out_dim), the gradient of the loss w.r.t. out of the last forward on
 * ws, and ADDS the parameter gradients into grads (n_params floats). */
void model_backward(const model_t *m, model_ws_t *ws, const float *dout, float *grads);

/* The model FLOPs run so far by every model in this process, all threads: 2 per multiply-add of
 * the matmuls and of attention's products, forward and backward (sim/nn/kern.h, kern_flops). For
 * benchmarks: the difference over a piece of work divided by its seconds is its GFLOP/s. */
unsigned long long model_flops(void);

/* Generation: feed tokens one at a time; each step returns out for the prefix so far (out_dim
 * floats), bit for bit model_forward's out at that position. */
model_kv_t *model_kv_create(const model_t *m, int max_T);
void model_kv_destroy(model_kv_t *kv);
void model_kv_reset(model_kv_t *kv);
const float *model_kv_step(const model_t *m, model_kv_t *kv, int32_t token);

/* Batched generation: max_R independent sequences ("rows") in one cache. A step feeds one token
 * to each of rows[0..n) (distinct, any order, each at its own position) and returns out (n,
 * out_dim) in that order, valid until the next step. A row's outputs are bit for bit those of
 * model_forward on its sequence, whatever other rows step with it. */
model_kv_t *model_kv_create_rows(const model_t *m, int max_R, int max_T);
void model_kv_reset_row(model_kv_t *kv, int row);
const float *model_kv_step_rows(const model_t *m, model_kv_t *kv, int n, const int *rows, const int32_t *tokens);

#endif
