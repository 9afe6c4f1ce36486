/* optim: AdamW over a model arena, global gradient-norm clipping and learning-rate schedules. */
#ifndef RLGF_OPTIM_H
#define RLGF_OPTIM_H

#include "model.h"

typedef struct {
    float lr;
    float beta1, beta2, eps;
    float weight_decay; /* decoupled, only where model->decay_mask is 1 */
} adamw_t;

/* Sum of squares of grads over several models, accumulated in double in arena order. */
double optim_grad_sq(model_t *const *models, int n);
/* Scales every model's grads so the global L2 norm is at most max_norm (no-op when max_norm <= 0
 * or the norm is below it). Returns the norm before clipping. */
double optim_clip_grads(model_t *const *models, int n, double max_norm);
/* One AdamW step (t = step number, starting at 1) on m->params from m->grads. */
void adamw_step(const adamw_t *opt, model_t *m, long t);
void optim_zero_grads(model_t *m);

typedef enum { LR_CONSTANT = 0, LR_LINEAR = 1 } lr_schedule_t;
/* lr for iteration it of n_iters: constant, or linear from base at it=0 to 0 at it=n_iters. */
float optim_lr(lr_schedule_t s, float base, long it, long n_iters);

#endif
