/* batch: the trajectories of one iteration (or one evaluation), in padded arrays.
 *
 * Trajectory i is the sequence seq[i] = prompt (prompt_len[i] tokens) followed by its generation
 * (gen_len[i] tokens), left-aligned in a row of `seq_cap` tokens. Per-token arrays are indexed
 * [i * gen_cap + t] for generated token t; the model output that scores token t sits at sequence
 * position prompt_len[i] - 1 + t (the state before the token). */
#ifndef RLGF_BATCH_H
#define RLGF_BATCH_H

#include <stdint.h>

#include "../base/runcodes.h" /* ACTOR_LEARNER, ACTOR_GUIDE, ACTOR_FORCED */

typedef struct {
    int n, cap;          /* trajectories held / allocated */
    int seq_cap, gen_cap;
    int n_metrics;
    /* per trajectory */
    int32_t *split;
    int64_t *prompt_index;
    int32_t *prompt_len, *gen_len;
    uint8_t *u;          /* roll-in happened */
    int32_t *k;          /* switch point (0 without roll-in) */
    double *task_reward; /* R(x, y) */
    double *ret;         /* sum of shaped per-token rewards */
    double *metrics;     /* (cap, n_metrics) */
    int32_t *seq;        /* (cap, seq_cap) */
    /* per generated token, (cap, gen_cap) */
    uint8_t *actor;
    uint8_t *pmask;      /* 1: token gets policy loss / entropy */
    uint8_t *vmask;      /* 1: token gets value loss */
    float *logp;         /* log pi_old(a_t | s_t) of the learner */
    float *logp_ref;     /* log pi_ref(a_t | s_t) */
    float *value;        /* V_old(s_t) of the critic the iteration uses */
    float *reward;       /* shaped reward r_t */
    float *advantage;    /* A_t */
    float *returns;      /* G_t = A_t + V_t */
    /* per trajectory (issue 13) */
    int32_t *group;      /* group id: the K completions of one prompt share it */
    double *baseline;    /* the advantage estimator's baseline (critic-free: b_i; GAE: V(s_0)) */
    int group_size;      /* K: trajectories j / K form a group (rollout.h); 0 or 1 = none */
} batch_t;

int batch_init(batch_t *b, int cap, int seq_cap, int gen_cap, int n_metrics);
void batch_free(batch_t *b);
static inline int32_t *batch_gen(const batch_t *b, int i) {
    return b->seq + (int64_t)i * b->seq_cap + b->prompt_len[i];
}
static inline int64_t batch_tok(const batch_t *b, int i, int t) { return (int64_t)i * b->gen_cap + t; }

#endif
