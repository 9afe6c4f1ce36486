/* estimators: see estimators.h for what each computes. Sums run in trajectory order, so the bits
 * never depend on threads. */
#include "estimators.h"

#include <math.h>
#include <string.h>

#include "../base/dmath.h"

static int pick(const char *v, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) return i;
    return 0; /* cfg_validate has checked the choice */
}

est_opts_t est_opts(const config_t *cfg) {
    static const char *const kl[] = {"k1", "k2", "k3"}, *const pl[] = {"reward", "loss"},
                             *const agg[] = {"token_mean", "seq_mean_token_mean", "seq_mean_token_sum_norm"},
                             *const sc[] = {"group", "batch", "none"}, *const bl[] = {"mean", "none"};
    est_opts_t o = {cfg->group.size, pick(cfg->kl.estimator, kl, 3), pick(cfg->kl.placement, pl, 2),
                    pick(cfg->loss.agg, agg, 3), pick(cfg->grpo.scale, sc, 3), pick(cfg->reinforce.baseline, bl, 2)};
    return o;
}

double est_kl(int estimator, double logp, double logp_ref) {
    double lr = logp_ref - logp; /* log rho */
    switch (estimator) {
    case KL_K2: return 0.5 * lr * lr;
    case KL_K3: return dm_expm1(lr) - lr; /* (rho - 1) - log rho, without cancellation near rho = 1 */
    default: return logp - logp_ref;
    }
}

double est_kl_dlogp(int estimator, double logp, double logp_ref) {
    switch (estimator) {
    case KL_K2: return logp - logp_ref;
    case KL_K3: return -dm_expm1(logp_ref - logp); /* 1 - rho */
    default: return 1.0;
    }
}

double est_token_weight(int agg, double N, double S, double L_i, double H) {
    switch (agg) {
    case AGG_SEQ_MEAN_TOKEN_MEAN: return 1.0 / (S * L_i);
    case AGG_SEQ_MEAN_TOKEN_SUM_NORM: return 1.0 / (S * H);
    default: return 1.0 / N;
    }
}

static int kl_applies(const batch_t *b, int64_t tok, int kl_on_guide) {
    return b->actor[tok] == ACTOR_LEARNER || kl_on_guide;
}

/* per-token shaped rewards; returns their sum (of the stored floats) */
static double shape(batch_t *b, int i, double beta, int kl_on_guide, int kl_est) {
    int L = b->gen_len[i];
    double ret = 0.0;
    for (int t = 0; t < L; t++) {
        int64_t k = batch_tok(b, i, t);
        double r = 0.0;
        if (kl_applies(b, k, kl_on_guide) && beta != 0.0)
            r -= beta * est_kl(kl_est, (double)b->logp[k], (double)b->logp_ref[k]);
        if (t == L - 1) r += b->task_reward[i];
        b->reward[k] = (float)r;
        ret += (double)b->reward[k];
    }
    return ret;
}

void est_rewards_and_gae(batch_t *b, double beta, int kl_on_guide, int kl_est, double gamma, double lambda) {
    for (int i = 0; i < b->n; i++) {
        int L = b->gen_len[i];
        b->ret[i] = shape(b, i, beta, kl_on_guide, kl_est);
        double A = 0.0;
        for (int t = L - 1; t >= 0; t--) {
            int64_t k = batch_tok(b, i, t);
            double v_next = t + 1 < L ? (double)b->value[k + 1] : 0.0;
            double delta = (double)b->reward[k] + gamma * v_next - (double)b->value[k];
            A = delta + gamma * lambda * A;
            b->advantage[k] = (float)A;
            b->returns[k] = (float)(A + (double)b->value[k]);
        }
    }
}

void est_sequence_rewards(batch_t *b, double beta, int kl_on_guide, int kl_est) {
    for (int i = 0; i < b->n; i++) {
        b->ret[i] = shape(b, i, beta, kl_on_guide, kl_est);
        for (int t = 0; t < b->gen_cap; t++) b->value[batch_tok(b, i, t)] = 0.0f;
    }
}

/* unbiased standard deviation of x[0..n) around mean m; 0 for n < 2 */
static double sd(const double *x, int n, double m) {
    if (n < 2) return 0.0;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - 1));
}

void est_advantages(batch_t *b, int estimator, int K, int scale, int baseline, const double *remax_R) {
    int n = b->n;
    if (K < 1) K = 1;
    double bmean = 0.0;
    for (int i = 0; i < n; i++) bmean += b->ret[i];
    bmean = n > 0 ? bmean / n : 0.0;
    double bsd = sd(b->ret, n, bmean);
    for (int g0 = 0; g0 < n; g0 += K) {
        int k = g0 + K <= n ? K : n - g0;
        const double *R = b->ret + g0;
        double sum = 0.0, lo = R[0], hi = R[0];
        for (int q = 0; q < k; q++) {
            sum += R[q];
            lo = R[q] < lo ? R[q] : lo;
            hi = R[q] > hi ? R[q] : hi;
        }
        double mean = sum / k, gsd = sd(R, k, mean);
        for (int q = 0; q < k; q++) {
            int i = g0 + q;
            double base = 0.0, s = 1.0;
            switch (estimator) {
            case EST_GRPO:
                base = mean;
                if (scale == SCALE_GROUP) s = 1.0 / (gsd + EST_STD_EPS);
                else if (scale == SCALE_BATCH) s = 1.0 / (bsd + EST_STD_EPS);
                break;
            case EST_RLOO: base = k > 1 ? (sum - R[q]) / (k - 1) : R[q]; break;
            case EST_REINFORCE: base = baseline == BASELINE_NONE ? 0.0 : bmean; break;
            case EST_REMAX:
            case EST_GUIDE: base = remax_R[g0 / K]; break;
            default: break;
            }
            /* a group of equal rewards carries no signal: exactly 0, never rounding noise / eps */
            double A = (estimator == EST_GRPO || estimator == EST_RLOO) && lo == hi ? 0.0 : (R[q] - base) * s;
            b->baseline[i] = base;
            for (int t = 0; t < b->gen_cap; t++) {
                int64_t kk = batch_tok(b, i, t);
                b->advantage[kk] = t < b->gen_len[i] ? (float)A : 0.0f;
                b->returns[kk] = b->advantage[kk];
            }
        }
    }
}

/* One completion per group from the group's restart state by `out` (the roll-out slot, its own
 * stream `purpose`), scored by the policy and pi_ref and KL-shaped like the samples (its roll-out
 * tokens count as the learner's), so at the KL-regularised optimum, where R - beta log(pi/ref) is
 * the same for every sequence, the baseline equals every sample's R and the advantages vanish. */
static void completion_baselines(rollout_engine_t *e, const rollout_plan_t *plan, const actor_t *out,
                                 const actor_t *guide, uint32_t purpose, batch_t *gb, int n_groups,
                                 const int64_t *group_prompt, uint64_t seed, uint64_t key, const model_t *policy,
                                 const model_t *ref, double beta, int kl_on_guide, int kl_est, double *R_out) {
    const actor_t *actors[2] = {out, guide};
    uint32_t purposes[2] = {purpose, RNG_GUIDE};
    gb->n = n_groups;
    gb->group_size = 1; /* trajectory g uses the roll-in streams of group g: the group's prefix */
    rollout_generate(e, plan, actors, gb, SPLIT_TRAIN, group_prompt, seed, purposes, key);
    rollout_score(e, gb, policy, ref, NULL);
    for (int g = 0; g < n_groups; g++) R_out[g] = shape(gb, g, beta, kl_on_guide, kl_est);
}

void est_remax_baselines(rollout_engine_t *e, const rollout_plan_t *plan, const actor_t *learner,
                         const actor_t *guide, batch_t *gb, int n_groups, const int64_t *group_prompt,
                         uint64_t seed, uint64_t key, const model_t *policy, const model_t *ref,
                         double beta, int kl_on_guide, int kl_est, double *R_out) {
    actor_t greedy = *learner;
    greedy.sampling.temperature = 0.0; /* sample_token: temperature <= 0 is the argmax */
    completion_baselines(e, plan, &greedy, guide, RNG_REMAX, gb, n_groups, group_prompt, seed, key, policy, ref, beta,
                         kl_on_guide, kl_est, R_out);
}

void est_guide_baselines(rollout_engine_t *e, const rollout_plan_t *plan, const actor_t *guide, batch_t *gb,
                         int n_groups, const int64_t *group_prompt, uint64_t seed, uint64_t key,
                         const model_t *policy, const model_t *ref, double beta, int kl_on_guide, int kl_est,
                         double *R_out) {
    completion_baselines(e, plan, guide, guide, RNG_GUIDE_BASELINE, gb, n_groups, group_prompt, seed, key, policy, ref,
                         beta, kl_on_guide, kl_est, R_out);
}
