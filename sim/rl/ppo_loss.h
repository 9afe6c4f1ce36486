/* ppo_loss: the per-token terms of the PPO loss (spec/algorithms.md, "PPO"), as pure functions.
 * The trainer (sim/ppo.c) and the conformance kit (sim/run/conformance.c) both call these, so the
 * kit's known answers are the trainer's arithmetic, not a second copy of it. */
#ifndef RLGF_PPO_LOSS_H
#define RLGF_PPO_LOSS_H

#include <math.h>

#include "../base/dmath.h"

/* Clipped surrogate of one token: returns -min(rho A, clip(rho, 1-eps_lo, 1+eps_hi) A) with
 * rho = exp(logp - logp_old); *dlogp = its derivative w.r.t. logp (the unclipped branch carries
 * the gradient, ties included; the clipped one is flat); *ratio = rho. eps_hi > eps_lo is DAPO's
 * clip-higher (ppo.clip_high). */
static inline double ppo_pg_term_asym(double logp, double logp_old, double A, double eps_lo, double eps_hi,
                                      double *dlogp, double *ratio) {
    double rho = dm_exp(logp - logp_old);
    double clipped = rho < 1.0 - eps_lo ? 1.0 - eps_lo : (rho > 1.0 + eps_hi ? 1.0 + eps_hi : rho);
    double s1 = rho * A, s2 = clipped * A;
    *dlogp = s1 <= s2 ? -rho * A : 0.0;
    *ratio = rho;
    return -(s1 < s2 ? s1 : s2);
}

/* The symmetric clip of PPO: ppo_pg_term_asym with eps_lo = eps_hi = eps. */
static inline double ppo_pg_term(double logp, double logp_old, double A, double eps, double *dlogp,
                                 double *ratio) {
    return ppo_pg_term_asym(logp, logp_old, A, eps, eps, dlogp, ratio);
}

/* Value term of one token, before the 0.5 and the normaliser: max((v-G)^2, (clip(v, vold-epsV,
 * vold+epsV) - G)^2) with clipping on, (v-G)^2 without; *dv = d(0.5 term)/dv (0 where the clipped
 * branch wins, which only happens outside the clip range); *clipped = 1 when v left the range. */
static inline double ppo_vf_term(double v, double vold, double G, int value_clip, double eps_v,
                                 double *dv, int *clipped) {
    double un = (v - G) * (v - G), loss = un;
    *dv = v - G;
    *clipped = 0;
    if (value_clip) {
        double vc = v < vold - eps_v ? vold - eps_v : (v > vold + eps_v ? vold + eps_v : v);
        double cl = (vc - G) * (vc - G);
        *clipped = vc != v;
        if (cl > un) {
            loss = cl;
            *dv = 0.0;
        }
    }
    return loss;
}

/* Entropy of one row: p the softmax and ls the log-softmax of the same logits, both from the one
 * pass of exps of log_softmax_probs_row (sim/sample.h), as the trainer has them. */
static inline double ppo_entropy_row(const double *p, const double *ls, int V) {
    double H = 0.0;
    for (int j = 0; j < V; j++) H -= p[j] * ls[j];
    return H;
}

/* Advantage normalisation over the N train-mask tokens of a minibatch from their sum sa and sum
 * of squares saa: A' = (A - mean) * scale, unbiased variance, scale = 1/(std + 1e-8). Leaves
 * mean = 0, scale = 1 when N <= 1. */
static inline void ppo_adv_norm(double sa, double saa, double N, double *mean, double *scale) {
    *mean = 0.0;
    *scale = 1.0;
    if (N > 1) {
        double m = sa / N, var = (saa - N * m * m) / (N - 1);
        *mean = m;
        *scale = 1.0 / (sqrt(var > 0 ? var : 0) + 1e-8);
    }
}

#endif
