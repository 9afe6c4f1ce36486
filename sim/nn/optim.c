/* optim: AdamW, global gradient-norm clipping and learning-rate schedules over model arenas.
 *
 * Computation order (pinned by golden digests; change only on purpose):
 *  - grad norm: s = 0 (double); for each model in the given order, for i in arena order:
 *    s += (double)g[i] * (double)g[i]; norm = sqrt(s).
 *  - clipping: when max_norm > 0 and norm > max_norm, scale = max_norm / norm (double) and every
 *    g[i] = (float)((double)g[i] * scale).
 *  - AdamW, element by element in float, bias corrections bc1 = (float)(1 - b1^t),
 *    bc2 = (float)(1 - b2^t) computed in double (dm_pown):
 *      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) (g g);
 *      u = (m / bc1) / (sqrtf(v / bc2) + eps);  u += wd p where decay_mask is 1 (p before the step);
 *      p = p - lr u. */
#include "optim.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "../base/dmath.h"

double optim_grad_sq(model_t *const *models, int n) {
    double s = 0.0;
    for (int k = 0; k < n; k++) {
        const float *g = models[k]->grads;
        size_t np = models[k]->n_params;
        for (size_t i = 0; i < np; i++) s += (double)g[i] * (double)g[i];
    }
    return s;
}

double optim_clip_grads(model_t *const *models, int n, double max_norm) {
    double norm = sqrt(optim_grad_sq(models, n));
    if (max_norm <= 0 || !(norm > max_norm)) return norm;
    double scale = max_norm / norm;
    for (int k = 0; k < n; k++) {
        float *g = models[k]->grads;
        size_t np = models[k]->n_params;
        for (size_t i = 0; i < np; i++) g[i] = (float)((double)g[i] * scale);
    }
    return norm;
}

void adamw_step(const adamw_t *opt, model_t *m, long t) {
    const float b1 = opt->beta1, b2 = opt->beta2, eps = opt->eps, lr = opt->lr, wd = opt->weight_decay;
    assert(t >= 1 && t <= INT_MAX);
    const float bc1 = (float)(1.0 - dm_pown((double)b1, (int)t));
    const float bc2 = (float)(1.0 - dm_pown((double)b2, (int)t));
    const float c1 = 1.0f - b1, c2 = 1.0f - b2;
    float *p = m->params, *g = m->grads, *mm = m->adam_m, *vv = m->adam_v;
    const uint8_t *mask = m->decay_mask;
    size_t np = m->n_params;
    for (size_t i = 0; i < np; i++) {
        float gi = g[i];
        float mi = b1 * mm[i] + c1 * gi;
        float vi = b2 * vv[i] + c2 * (gi * gi);
        mm[i] = mi;
        vv[i] = vi;
        float u = (mi / bc1) / (sqrtf(vi / bc2) + eps);
        if (mask[i]) u += wd * p[i];
        p[i] -= lr * u;
    }
}

void optim_zero_grads(model_t *m) { memset(m->grads, 0, m->n_params * sizeof(float)); }

float optim_lr(lr_schedule_t s, float base, long it, long n_iters) {
    if (s != LR_LINEAR || n_iters <= 0) return base;
    double frac = 1.0 - (double)it / (double)n_iters;
    if (frac < 0.0) frac = 0.0;
    if (frac > 1.0) frac = 1.0;
    return (float)((double)base * frac);
}
