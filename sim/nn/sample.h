/* sample: drawing a token from logits with temperature, top-k and top-p (nucleus) filtering.
 *
 * Definition (fixed, tested): p = softmax(logits / temperature) in double. Without filtering
 * (top_k = 0 or >= V, top_p >= 1) the draw walks tokens in id order. With filtering, tokens are
 * ranked by probability, ties broken by the lower id first; top-k keeps the first k of that order,
 * then top-p keeps the shortest prefix of it whose mass reaches top_p (always at least one
 * token); the kept mass is renormalised and one rng_double draw u picks the first kept token (in
 * rank order) whose cumulative mass exceeds u. temperature 0 means greedy: the highest logit,
 * lowest id on ties, and no draw. Tokens listed as banned (e.g. EOS before the minimum length) get
 * probability 0 first. Exactly one rng_double draw per sampled token (none when greedy), so the
 * number of draws never depends on the logits. */
#ifndef RLGF_SAMPLE_H
#define RLGF_SAMPLE_H

#include <stddef.h>

#include "../base/rng.h"

typedef struct {
    double temperature; /* 0 = greedy */
    int top_k;          /* 0 = off */
    double top_p;       /* 1 = off */
} sample_cfg_t;

/* scratch: sample_scratch_size(V) bytes, 8-byte aligned. banned: token id
 * to exclude, or -1. Returns the token; if prob_out is not NULL it receives the probability the
 * token had under the filtered, renormalised distribution. */
size_t sample_scratch_size(int V);
int sample_token(const float *logits, int V, const sample_cfg_t *cfg, int banned, rng_t *r,
                 void *scratch, double *prob_out);

/* log-softmax of one row in double: out[i] = logits[i] - logsumexp(logits). */
void log_softmax_row(const float *logits, int V, double *out);
/* The same, and the softmax p[i] = exp(logits[i] - max) / sum_j exp(logits[j] - max) from the same
 * exps (one exp per token instead of one more per use of the probabilities). */
void log_softmax_probs_row(const float *logits, int V, double *out, double *p);

/* The losses' gradients w.r.t. one row's logits, from that row's p and ls (log_softmax_probs_row),
 * rounded to float, 4 at a time with the bits of the scalar loops written here:
 *  - softmax_grad_pg: d[j] = (float)(-g p[j] + ce p[j] (ls[j] + H)): the policy-gradient term of
 *    the sampled token's log-probability (slope g; the caller adds g at that token) plus ce times
 *    the gradient of the entropy H of the row;
 *  - softmax_grad_scaled: d[j] = (float)(c p[j]): c times the NLL's gradient (the caller
 *    subtracts c at the target token). */
void softmax_grad_pg(float *d, const double *p, const double *ls, double g, double ce, double H, int V);
void softmax_grad_scaled(float *d, const double *p, double c, int V);

#endif
