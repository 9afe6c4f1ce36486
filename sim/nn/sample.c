#include "sample.h"
#include "../base/dmath.h"
#include "kern.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

size_t sample_scratch_size(int V) { return (size_t)V * (sizeof(double) + 2 * sizeof(int)); }

/* sim/nn/kern_impl.h has the body: max, exps 4 at a time (dm_exp's bits), their sum in 4 lanes in a
 * fixed order, lse = max + log(sum), out = logits - lse, p = exps / sum (the same exps: no second pass) */
void log_softmax_probs_row(const float *logits, int V, double *out, double *p) { kern_log_softmax(logits, V, out, p); }

void log_softmax_row(const float *logits, int V, double *out) { log_softmax_probs_row(logits, V, out, NULL); }

void softmax_grad_pg(float *d, const double *p, const double *ls, double g, double ce, double H, int V) {
    kern_softmax_grad_pg(d, p, ls, g, ce, H, V);
}
void softmax_grad_scaled(float *d, const double *p, double c, int V) { kern_softmax_grad_scaled(d, p, c, V); }

/* Rank order: higher probability first, lower id on ties. */
static int rank_before(int i, int j, const double *p) { return p[i] > p[j] || (p[i] == p[j] && i < j); }

/* Bottom-up merge sort into rank order (stable, reentrant, no allocation: tmp holds n ints). */
static void sort_rank(int *idx, int *tmp, int n, const double *p) {
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = rank_before(idx[j], idx[i], p) ? idx[j++] : idx[i++];
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
        }
        for (int t = 0; t < n; t++) idx[t] = tmp[t];
    }
}

/* The tokens that can be among the k of highest rank, in ascending id: every token whose
 * probability bucket is at least that of the k-th highest. Buckets are the top bits of the
 * probability's IEEE pattern (exponent and 3 mantissa bits: 8 per octave, from 1 down to 2^-31,
 * everything smaller in bucket 0), so a lower bucket means a strictly smaller probability: a
 * dropped token has k others above it and cannot be kept. Branch-free passes, so this costs a
 * fraction of inserting every token into the kept list (most would enter and later fall out). */
enum { TOPK_BUCKETS = 256 };
static inline int prob_bucket(double p) {
    const uint64_t top = 0x3FF0000000000000ull >> 49; /* the bucket key of 1.0 */
    uint64_t u;
    memcpy(&u, &p, sizeof u);
    uint64_t key = u >> 49, b = key + TOPK_BUCKETS - 1 > top ? key + TOPK_BUCKETS - 1 - top : 0;
    return b < TOPK_BUCKETS ? (int)b : TOPK_BUCKETS - 1;
}

static int top_k_candidates(const double *p, int V, int k, int *cand) {
    enum { NB = TOPK_BUCKETS };
    int hist[NB] = {0};
    for (int i = 0; i < V; i++) hist[prob_bucket(p[i])]++;
    int from = 0, above = 0;
    for (int b = NB - 1; b >= 0; b--) {
        above += hist[b];
        if (above >= k) {
            from = b;
            break;
        }
    }
    int n = 0;
    for (int i = 0; i < V; i++) {
        cand[n] = i;
        n += prob_bucket(p[i]) >= from;
    }
    return n;
}

int sample_token(const float *logits, int V, const sample_cfg_t *cfg, int banned, rng_t *r,
                 void *scratch, double *prob_out) {
    if (cfg->temperature <= 0.0) {
        int best = -1;
        for (int i = 0; i < V; i++)
            if (i != banned && (best < 0 || logits[i] > logits[best])) best = i;
        if (prob_out) *prob_out = 1.0;
        return best;
    }
    double *p = scratch;
    int *idx = (int *)(p + V);
    double mx = -INFINITY;
    for (int i = 0; i < V; i++)
        if (i != banned && logits[i] > mx) mx = logits[i];
    kern_exp_shift(p, logits, V, mx, cfg->temperature); /* dm_exp's bits, 4 at a time */
    if (banned >= 0 && banned < V) p[banned] = 0.0;
    double total = 0.0;
    for (int i = 0; i < V; i++) total += p[i];
    for (int i = 0; i < V; i++) p[i] /= total;

    double u = rng_double(r);
    int filter_k = cfg->top_k > 0 && cfg->top_k < V, filter_p = cfg->top_p < 1.0;
    if (!filter_k && !filter_p) {
        double c = 0.0;
        int last = -1;
        for (int i = 0; i < V; i++) {
            if (p[i] <= 0.0) continue;
            last = i;
            c += p[i];
            if (u < c) {
                if (prob_out) *prob_out = p[i];
                return i;
            }
        }
        if (prob_out) *prob_out = p[last]; /* u within rounding of 1 */
        return last;
    }
    int n = 0, keep;
    if (filter_k) {
        /* Only the first top_k of the rank order are ever looked at: keep them sorted by insertion
         * instead of sorting all V. Rank order is strict (ties go to the lower id), so this is
         * exactly the prefix the full sort would give. Only tokens that can be among the top k are
         * inserted: top_k_candidates drops those whose probability is below k others'. */
        int k = cfg->top_k, *cand = idx + V;
        int nc = top_k_candidates(p, V, k, cand);
        for (int c = 0; c < nc; c++) {
            int i = cand[c];
            if (n == k && !rank_before(i, idx[k - 1], p)) continue;
            int at = n < k ? n++ : k - 1;
            while (at > 0 && rank_before(i, idx[at - 1], p)) {
                idx[at] = idx[at - 1];
                at--;
            }
            idx[at] = i;
        }
        keep = k;
    } else {
        for (int i = 0; i < V; i++) idx[n++] = i;
        sort_rank(idx, idx + V, n, p);
        keep = n;
    }
    if (filter_p) {
        double c = 0.0;
        int k2 = 0;
        while (k2 < keep) {
            c += p[idx[k2++]];
            if (c >= cfg->top_p) break;
        }
        keep = k2;
    }
    double kept = 0.0;
    for (int i = 0; i < keep; i++) kept += p[idx[i]];
    double c = 0.0, target = u * kept;
    for (int i = 0; i < keep; i++) {
        c += p[idx[i]];
        if (target < c || i == keep - 1) {
            if (prob_out) *prob_out = p[idx[i]] / kept;
            return idx[i];
        }
    }
    return idx[0]; /* unreachable: keep >= 1 */
}
