#include "runlog.h"

#include <math.h>
#include <stdlib.h>

/* Appends every trajectory of b (and its tokens) to /trajectories. Names and types come from the
 * schema (sim/store/schema.h); the order of the columns is the table's. */
int runlog_batch(runlog_t *rl, const batch_t *b, int64_t iteration, int who, int is_eval, err_t *err) {
    int n = b->n;
    int64_t *i64 = calloc((size_t)n + 1, sizeof *i64);
    int32_t *i32 = calloc((size_t)n + 1, sizeof *i32);
    double *f64 = calloc((size_t)n + 1, sizeof *f64);
    int64_t ntok = 0;
    for (int i = 0; i < n; i++) ntok += b->gen_len[i];
    size_t tcap = (size_t)(ntok > 0 ? ntok : 1);
    int32_t *ti = malloc(tcap * sizeof *ti);
    uint8_t *tu = malloc(tcap);
    float *tf = malloc(tcap * sizeof *tf);
    uint8_t *u8 = calloc((size_t)n + 1, 1);
    int rc = -1;
    if (!i64 || !i32 || !f64 || !ti || !tu || !tf || !u8) {
        err_set(err, "out of memory logging %d trajectories", n);
        goto done;
    }
#define COL(id, type, arr) if (h5log_append_col(rl->log, id, NULL, type, arr, (size_t)n, err)) goto done
#define TOKCOL(id, type, arr) if (h5log_append_col(rl->log, id, NULL, type, arr, (size_t)ntok, err)) goto done
    for (int i = 0; i < n; i++) i64[i] = iteration;
    COL(COL_TR_ITERATION, H5COL_I64, i64);
    for (int i = 0; i < n; i++) i32[i] = b->split[i];
    COL(COL_TR_SPLIT, H5COL_I32, i32);
    for (int i = 0; i < n; i++) i32[i] = who;
    COL(COL_TR_WHO, H5COL_I32, i32);
    for (int i = 0; i < n; i++) u8[i] = (uint8_t)is_eval;
    COL(COL_TR_EVAL, H5COL_U8, u8);
    COL(COL_TR_PROMPT_INDEX, H5COL_I64, b->prompt_index);
    COL(COL_TR_U, H5COL_U8, b->u);
    COL(COL_TR_K, H5COL_I32, b->k);
    COL(COL_TR_LENGTH, H5COL_I32, b->gen_len);
    COL(COL_TR_TASK_REWARD, H5COL_F64, b->task_reward);
    COL(COL_TR_RETURN, H5COL_F64, b->ret);
    /* group id and the estimator's baseline (evaluations: -1 and NaN) */
    for (int i = 0; i < n; i++) i32[i] = is_eval ? -1 : b->group[i];
    COL(COL_TR_GROUP, H5COL_I32, i32);
    for (int i = 0; i < n; i++) f64[i] = is_eval ? NAN : b->baseline[i];
    COL(COL_TR_BASELINE, H5COL_F64, f64);
    for (int m = 0; m < b->n_metrics; m++) {
        for (int i = 0; i < n; i++) f64[i] = b->metrics[(int64_t)i * b->n_metrics + m];
        if (h5log_append_col(rl->log, COL_TR_METRIC, rl->task->metric_names[m], H5COL_F64, f64, (size_t)n, err))
            goto done;
    }
    for (int i = 0; i < n; i++) {
        i64[i] = rl->tokens_logged;
        rl->tokens_logged += b->gen_len[i];
    }
    COL(COL_TR_TOKEN_OFFSET, H5COL_I64, i64);
    /* per token, flattened in trajectory order */
#define FLAT(src, dst) do { int64_t q = 0; for (int i = 0; i < n; i++) for (int t = 0; t < b->gen_len[i]; t++) dst[q++] = src; } while (0)
    FLAT(batch_gen(b, i)[t], ti);
    TOKCOL(COL_TR_TOKEN, H5COL_I32, ti);
    FLAT(b->actor[batch_tok(b, i, t)], tu);
    TOKCOL(COL_TR_ACTOR, H5COL_U8, tu);
    FLAT(b->pmask[batch_tok(b, i, t)], tu);
    TOKCOL(COL_TR_TRAIN_MASK, H5COL_U8, tu);
    FLAT(b->vmask[batch_tok(b, i, t)], tu);
    TOKCOL(COL_TR_VALUE_MASK, H5COL_U8, tu);
    FLAT(b->logp[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_LOGP, H5COL_F32, tf);
    FLAT(b->logp_ref[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_LOGP_REF, H5COL_F32, tf);
    FLAT(b->value[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_VALUE, H5COL_F32, tf);
    FLAT(b->reward[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_REWARD, H5COL_F32, tf);
    FLAT(b->advantage[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_ADVANTAGE, H5COL_F32, tf);
    FLAT(b->returns[batch_tok(b, i, t)], tf);
    TOKCOL(COL_TR_RETURNS, H5COL_F32, tf);
#undef FLAT
#undef COL
#undef TOKCOL
    rc = 0;
done:
    free(i64); free(i32); free(f64); free(ti); free(tu); free(tf); free(u8);
    return rc;
}

int runlog_iteration(runlog_t *rl, const iter_row_t *r, err_t *err) {
    h5log_t *L = rl->log;
    const ppo_stats_t *st = r->update;
    const iter_spec_t *spec = r->spec;
    if (h5log_append_i64(L, COL_IT_ITERATION, r->iteration, err) || h5log_append_i64(L, COL_IT_TOKENS, r->tokens, err) ||
        h5log_append_i64(L, COL_IT_TRAJECTORIES, r->trajectories, err) ||
        h5log_append_f64(L, COL_IT_REWARD, r->reward, err) || h5log_append_f64(L, COL_IT_KL, r->kl, err) ||
        h5log_append_f64(L, COL_IT_BETA_KL, r->beta_kl, err) || h5log_append_f64(L, COL_IT_LR, r->lr, err) ||
        h5log_append_f64(L, COL_IT_POLICY_LOSS, st->policy_loss, err) ||
        h5log_append_f64(L, COL_IT_VALUE_LOSS, st->value_loss, err) || h5log_append_f64(L, COL_IT_ENTROPY, st->entropy, err) ||
        h5log_append_f64(L, COL_IT_TARGET_LOSS, st->target_loss, err) ||
        h5log_append_f64(L, COL_IT_APPROX_KL, st->approx_kl, err) || h5log_append_f64(L, COL_IT_CLIP_FRAC, st->clip_frac, err) ||
        h5log_append_f64(L, COL_IT_VALUE_CLIP_FRAC, st->vclip_frac, err) ||
        h5log_append_f64(L, COL_IT_EXPLAINED_VARIANCE, st->explained_var, err) ||
        h5log_append_f64(L, COL_IT_GRAD_NORM, st->grad_norm, err) ||
        h5log_append_i64(L, COL_IT_EPOCHS_RUN, st->epochs_run, err) || h5log_append_i64(L, COL_IT_MODE, spec->mode, err) ||
        h5log_append_i64(L, COL_IT_CRITIC, spec->critic, err) ||
        h5log_append_f64(L, COL_IT_BETA, spec->plan.rollin >= 0 ? spec->plan.beta : 0.0, err))
        return -1;
    return 0;
}

int runlog_eval(runlog_t *rl, int64_t iteration, int split, int who, int n, const double *mean, const double *sd,
                double ref_ppl, err_t *err) {
    h5log_t *L = rl->log;
    int nm = rl->task->n_metrics;
    if (h5log_append_i64(L, COL_EV_ITERATION, iteration, err) || h5log_append_i64(L, COL_EV_SPLIT, split, err) ||
        h5log_append_i64(L, COL_EV_WHO, who, err) || h5log_append_i64(L, COL_EV_N, n, err))
        return -1;
    for (int m = 0; m < nm + 2; m++) {
        const char *name = m < nm ? rl->task->metric_names[m] : (m == nm ? "kl" : "length");
        if (h5log_append_col(L, COL_EV_MEAN, name, H5COL_F64, &mean[m], 1, err) ||
            h5log_append_col(L, COL_EV_STD, name, H5COL_F64, &sd[m], 1, err))
            return -1;
    }
    return h5log_append_f64(L, COL_EV_REF_PPL, ref_ppl, err);
}

int runlog_timing(runlog_t *rl, double seconds, double cpu_seconds, int64_t tokens, err_t *err) {
    double tok_s = (double)tokens / seconds;
    if (h5log_append_col(rl->log, COL_TIMING, "iteration_seconds", H5COL_F64, &seconds, 1, err) ||
        h5log_append_col(rl->log, COL_TIMING, "cpu_seconds", H5COL_F64, &cpu_seconds, 1, err) ||
        h5log_append_col(rl->log, COL_TIMING, "tokens_per_second", H5COL_F64, &tok_s, 1, err))
        return -1;
    return 0;
}
