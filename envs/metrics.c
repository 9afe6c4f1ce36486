/* metrics: the text metrics over sequences of token ids (definitions and sources in metrics.h and
 * at each function below).
 *
 * N-grams are counted by sorting: a "bag" is the sorted array of the distinct k-grams of one
 * sequence with their counts, so every loop below runs in a fixed order (sorted n-gram order,
 * then hypothesis and reference order) and the results are bit-identical on every machine. No
 * hashing. Allocation failure is the only error: the functions then return NaN (and leave
 * per_line partly filled). */
#include "metrics.h"
#include "../sim/base/dmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 4 /* longest n-gram any metric uses */

typedef struct {
    int32_t w[MAXN]; /* w[0..k) the tokens; the rest 0 */
    int32_t k;
    int32_t count;
} gram_t;

typedef struct {
    gram_t *g; /* sorted, distinct */
    int n;     /* distinct k-grams */
    int total; /* all k-grams: max(0, len - k + 1) */
} bag_t;

static int gram_cmp(const gram_t *a, const gram_t *b) {
    if (a->k != b->k) return a->k < b->k ? -1 : 1;
    for (int i = 0; i < a->k; i++)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static int gram_qcmp(const void *a, const void *b) { return gram_cmp(a, b); }

/* Sorts g[0..n) and merges equal n-grams, summing their counts; returns the distinct count. */
static int grams_unique(gram_t *g, int n) {
    if (n <= 0) return 0;
    qsort(g, (size_t)n, sizeof *g, gram_qcmp);
    int u = 0;
    for (int i = 1; i < n; i++) {
        if (gram_cmp(&g[u], &g[i]) == 0)
            g[u].count += g[i].count;
        else
            g[++u] = g[i];
    }
    return u + 1;
}

/* Writes the k-grams of s, each with count 1, to out (room for max(0, len - k + 1)); returns how many. */
static int grams_list(const seq_t *s, int k, gram_t *out) {
    int n = s->len - k + 1;
    if (n <= 0) return 0;
    for (int i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        memcpy(out[i].w, s->tok + i, (size_t)k * sizeof(int32_t));
        out[i].k = k;
        out[i].count = 1;
    }
    return n;
}

/* The bag of k-grams of s. Returns -1 when memory runs out. */
static int bag_make(const seq_t *s, int k, bag_t *b) {
    b->g = NULL;
    b->n = b->total = 0;
    int n = s->len - k + 1;
    if (n <= 0) return 0;
    b->g = malloc((size_t)n * sizeof *b->g);
    if (!b->g) return -1;
    b->total = grams_list(s, k, b->g);
    b->n = grams_unique(b->g, b->total);
    return 0;
}

static void bag_free(bag_t *b) {
    free(b->g);
    b->g = NULL;
    b->n = b->total = 0;
}

/* Index of g in the sorted array a[0..n), or -1. */
static int grams_find(const gram_t *a, int n, const gram_t *g) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = gram_cmp(&a[mid], g);
        if (c == 0) return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* Clipped overlap sum over n-grams of min(count in a, count in b) (one merge walk). */
static long bag_overlap(const bag_t *a, const bag_t *b) {
    long ov = 0;
    int i = 0, j = 0;
    while (i < a->n && j < b->n) {
        int c = gram_cmp(&a->g[i], &b->g[j]);
        if (c == 0) {
            ov += a->g[i].count < b->g[j].count ? a->g[i].count : b->g[j].count;
            i++, j++;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    return ov;
}

static int nrefs(const metric_corpus_t *c, int i) { return c->ref_start[i + 1] - c->ref_start[i]; }
static const seq_t *ref(const metric_corpus_t *c, int i, int j) { return &c->refs[c->ref_start[i] + j]; }

/* ---------------------------------------------------------------------------------------------
 * BLEU-4. Papineni, Roukos, Ward, Zhu 2002, "BLEU: a method for automatic evaluation of machine
 * translation"; corpus form as nltk.translate.bleu_score.corpus_bleu (no smoothing) and
 * coco-caption's bleu_scorer (option "closest"):
 *   p_k  = sum_i sum_g min(count_hyp_i(g), max_r count_r(g)) / sum_i max(0, |hyp_i| - k + 1)
 *   c    = sum_i |hyp_i|,  r = sum_i (length of the reference of hyp i closest to |hyp_i|; ties:
 *          the shorter; no reference: 0)
 *   BP   = 1 if c >= r, else exp(1 - r / c)
 *   BLEU = BP exp(sum_{k=1..4} (1/4) log p_k), and 0 when any p_k is 0 (or 0/0: no k-grams).
 * Sentence BLEU (per_line) is the same formula on one hypothesis.
 * ------------------------------------------------------------------------------------------- */
typedef struct {
    long match[MAXN], total[MAXN];
    long c, r;
} bleu_stats_t;

static double bleu_from(const bleu_stats_t *s) {
    double logp = 0.0;
    for (int k = 0; k < MAXN; k++) {
        if (s->match[k] <= 0 || s->total[k] <= 0) return 0.0;
        logp += dm_log((double)s->match[k] / (double)s->total[k]);
    }
    double bp = s->c < s->r ? dm_exp(1.0 - (double)s->r / (double)s->c) : 1.0; /* c > 0 here */
    return bp * dm_exp(logp / MAXN);
}

/* The BLEU statistics of hypothesis i. Returns -1 when memory runs out. */
static int bleu_stats(const metric_corpus_t *c, int i, bleu_stats_t *s) {
    memset(s, 0, sizeof *s);
    const seq_t *h = &c->hyp[i];
    int nr = nrefs(c, i);
    s->c = h->len;
    int best = -1;
    for (int j = 0; j < nr; j++) {
        int l = ref(c, i, j)->len, d = abs(l - h->len);
        if (best < 0 || d < abs(best - h->len) || (d == abs(best - h->len) && l < best)) best = l;
    }
    s->r = best < 0 ? 0 : best;
    bag_t *rb = calloc((size_t)(nr > 0 ? nr : 1), sizeof *rb);
    if (!rb) return -1;
    int rc = 0;
    for (int k = 1; k <= MAXN && rc == 0; k++) {
        bag_t hb;
        if (bag_make(h, k, &hb)) {
            rc = -1;
            break;
        }
        for (int j = 0; j < nr && rc == 0; j++) rc = bag_make(ref(c, i, j), k, &rb[j]);
        for (int g = 0; g < hb.n && rc == 0; g++) {
            int maxref = 0;
            for (int j = 0; j < nr; j++) {
                int at = grams_find(rb[j].g, rb[j].n, &hb.g[g]);
                if (at >= 0 && rb[j].g[at].count > maxref) maxref = rb[j].g[at].count;
            }
            s->match[k - 1] += hb.g[g].count < maxref ? hb.g[g].count : maxref;
        }
        s->total[k - 1] = hb.total;
        bag_free(&hb);
        for (int j = 0; j < nr; j++) bag_free(&rb[j]);
    }
    free(rb);
    return rc;
}

double metric_bleu4(const metric_corpus_t *c, double *per_line) {
    bleu_stats_t sum;
    memset(&sum, 0, sizeof sum);
    for (int i = 0; i < c->n; i++) {
        bleu_stats_t s;
        if (bleu_stats(c, i, &s)) return NAN;
        for (int k = 0; k < MAXN; k++) sum.match[k] += s.match[k], sum.total[k] += s.total[k];
        sum.c += s.c;
        sum.r += s.r;
        if (per_line) per_line[i] = bleu_from(&s);
    }
    return bleu_from(&sum);
}

/* ---------------------------------------------------------------------------------------------
 * ROUGE. Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries"; F1 as Google's
 * rouge_score (beta = 1), several references: the best F1 per measure (each measure picks its own
 * best reference, as rouge_score's score_multi).
 *   ROUGE-N: ov = sum_g min(count_hyp(g), count_ref(g)) over n-grams; P = ov / #hyp n-grams,
 *            R = ov / #ref n-grams; F1 = 2PR / (P + R) = 2 ov / (#hyp n-grams + #ref n-grams).
 *   ROUGE-L: l = LCS(hyp, ref); P = l / |hyp|, R = l / |ref|; F1 = 2 l / (|hyp| + |ref|).
 * F1 = 0 when the overlap is 0 (so 0 for an empty hypothesis or reference, never 0/0).
 * ------------------------------------------------------------------------------------------- */
static int lcs_len(const seq_t *a, const seq_t *b, int *row) {
    /* row: (|b| + 1) ints; classic DP, one row at a time */
    for (int j = 0; j <= b->len; j++) row[j] = 0;
    for (int i = 1; i <= a->len; i++) {
        int diag = 0; /* dp[i-1][j-1] */
        for (int j = 1; j <= b->len; j++) {
            int up = row[j];
            if (a->tok[i - 1] == b->tok[j - 1])
                row[j] = diag + 1;
            else if (row[j - 1] > row[j])
                row[j] = row[j - 1];
            diag = up;
        }
    }
    return row[b->len];
}

void metric_rouge(const metric_corpus_t *c, double out[3], double *per_line) {
    out[0] = out[1] = out[2] = 0.0;
    int maxlen = 0;
    for (int j = 0; c->n > 0 && j < c->ref_start[c->n]; j++)
        if (c->refs[j].len > maxlen) maxlen = c->refs[j].len;
    int *row = malloc((size_t)(maxlen + 1) * sizeof *row);
    if (!row) {
        out[0] = out[1] = out[2] = NAN;
        return;
    }
    double sum[3] = {0.0, 0.0, 0.0};
    for (int i = 0; i < c->n; i++) {
        const seq_t *h = &c->hyp[i];
        double best[3] = {0.0, 0.0, 0.0};
        bag_t hb[2];
        if (bag_make(h, 1, &hb[0])) goto oom;
        if (bag_make(h, 2, &hb[1])) {
            bag_free(&hb[0]);
            goto oom;
        }
        for (int j = 0; j < nrefs(c, i); j++) {
            const seq_t *r = ref(c, i, j);
            for (int k = 1; k <= 2; k++) {
                bag_t rb;
                if (bag_make(r, k, &rb)) {
                    bag_free(&hb[0]), bag_free(&hb[1]);
                    goto oom;
                }
                long ov = bag_overlap(&hb[k - 1], &rb);
                double f = ov > 0 ? 2.0 * (double)ov / (double)(hb[k - 1].total + rb.total) : 0.0;
                if (f > best[k - 1]) best[k - 1] = f;
                bag_free(&rb);
            }
            int l = lcs_len(h, r, row);
            double f = l > 0 ? 2.0 * l / (double)(h->len + r->len) : 0.0;
            if (f > best[2]) best[2] = f;
        }
        bag_free(&hb[0]), bag_free(&hb[1]);
        for (int m = 0; m < 3; m++) {
            sum[m] += best[m];
            if (per_line) per_line[3 * i + m] = best[m];
        }
    }
    free(row);
    for (int m = 0; m < 3; m++) out[m] = c->n > 0 ? sum[m] / c->n : 0.0;
    return;
oom:
    free(row);
    out[0] = out[1] = out[2] = NAN;
}

/* ---------------------------------------------------------------------------------------------
 * METEOR, exact-match stage only. Banerjee & Lavie 2005, "METEOR: An Automatic Metric for MT
 * Evaluation with Improved Correlation with Human Judgments"; parameters and alignment rule as
 * nltk.translate.meteor_score (whose stem and WordNet stages never fire on token ids):
 *   alignment: hypothesis positions from the last to the first, each matched to the LAST still
 *              unmatched reference position holding the same token (NLTK's _match_enums);
 *   m = matches, P = m / |hyp|, R = m / |ref|, F_mean = P R / (alpha P + (1 - alpha) R), alpha 0.9;
 *   chunks: the matches sorted by hypothesis position, a new chunk starting wherever a match is
 *           not at (previous hyp pos + 1, previous ref pos + 1);
 *   penalty = gamma (chunks / m)^beta, gamma 0.5, beta 3;  score = F_mean (1 - penalty);
 *   0 when m = 0; several references: the best score.
 * ------------------------------------------------------------------------------------------- */
#define METEOR_ALPHA 0.9
#define METEOR_BETA 3 /* an integer power: dm_pown */
#define METEOR_GAMMA 0.5

/* match: |h| ints (ref position or -1), used: |r| chars; both scratch. */
static double meteor_one(const seq_t *h, const seq_t *r, int *match, char *used) {
    int m = 0;
    memset(used, 0, (size_t)r->len);
    for (int i = h->len - 1; i >= 0; i--) {
        match[i] = -1;
        for (int j = r->len - 1; j >= 0; j--) {
            if (!used[j] && r->tok[j] == h->tok[i]) {
                match[i] = j;
                used[j] = 1;
                m++;
                break;
            }
        }
    }
    if (m == 0) return 0.0;
    int chunks = 0, pi = -2, pj = -2;
    for (int i = 0; i < h->len; i++) {
        if (match[i] < 0) continue;
        if (!(i == pi + 1 && match[i] == pj + 1)) chunks++;
        pi = i;
        pj = match[i];
    }
    double P = (double)m / h->len, R = (double)m / r->len;
    double fmean = P * R / (METEOR_ALPHA * P + (1.0 - METEOR_ALPHA) * R);
    double penalty = METEOR_GAMMA * dm_pown((double)chunks / m, METEOR_BETA);
    return fmean * (1.0 - penalty);
}

double metric_meteor(const metric_corpus_t *c, double *per_line) {
    int maxh = 1, maxr = 1;
    for (int i = 0; i < c->n; i++)
        if (c->hyp[i].len > maxh) maxh = c->hyp[i].len;
    for (int j = 0; c->n > 0 && j < c->ref_start[c->n]; j++)
        if (c->refs[j].len > maxr) maxr = c->refs[j].len;
    int *match = malloc((size_t)maxh * sizeof *match);
    char *used = malloc((size_t)maxr);
    if (!match || !used) {
        free(match), free(used);
        return NAN;
    }
    double sum = 0.0;
    for (int i = 0; i < c->n; i++) {
        double best = 0.0;
        for (int j = 0; j < nrefs(c, i); j++) {
            double s = meteor_one(&c->hyp[i], ref(c, i, j), match, used);
            if (s > best) best = s;
        }
        sum += best;
        if (per_line) per_line[i] = best;
    }
    free(match), free(used);
    return c->n > 0 ? sum / c->n : 0.0;
}

/* ---------------------------------------------------------------------------------------------
 * CIDEr-D. Vedantam, Zitnick, Parikh 2015, "CIDEr: Consensus-based Image Description
 * Evaluation"; every definition as the reference implementation (coco-caption / pycocoevalcap
 * cider_scorer.py, the CIDEr-D variant):
 *   df(g)     = the number of hypotheses whose reference SET contains g (anywhere in any of its
 *               references); N = number of hypotheses (reference sets) in the corpus;
 *   vec(s)[g] = count_s(g) (log(max(1, N)) - log(max(1, df(g)))), for each n = 1..4 separately;
 *   sim_n(h, r) = sum_{g in h} min(vec(h)[g], vec(r)[g]) vec(r)[g] / (|vec_n(h)| |vec_n(r)|)
 *               (0 when either norm is 0) times exp(-delta^2 / (2 sigma^2)), sigma 6,
 *               delta = length(h) - length(r), where the reference code's "length" is the
 *               number of BIGRAMS, max(0, len - 1) (it counts terms with n index 1); kept as is
 *               (delta = |h| - |r| unless one side is empty, where the score is 0 anyway);
 *   CIDEr-D(h) = 10 (1/4) sum_n (1/#refs) sum_r sim_n(h, r)   (0 without references);
 *   corpus = mean over hypotheses.
 * Summation: n-grams in sorted order, references in order, then n = 1..4.
 * ------------------------------------------------------------------------------------------- */
#define CIDER_SIGMA 6.0

/* df table of order k: sorted distinct k-grams of all reference sets, count = df. */
static int cider_df(const metric_corpus_t *c, int k, gram_t **out, int *nout) {
    long cap = 0;
    for (int j = 0; c->n > 0 && j < c->ref_start[c->n]; j++)
        if (c->refs[j].len >= k) cap += c->refs[j].len - k + 1;
    *out = NULL;
    *nout = 0;
    if (cap == 0) return 0;
    gram_t *all = malloc((size_t)cap * sizeof *all);
    if (!all) return -1;
    int nall = 0;
    for (int i = 0; i < c->n; i++) {
        /* the distinct k-grams of reference set i, each counted once */
        int start = nall;
        for (int j = 0; j < nrefs(c, i); j++) nall += grams_list(ref(c, i, j), k, all + nall);
        int u = grams_unique(all + start, nall - start);
        for (int g = start; g < start + u; g++) all[g].count = 1;
        nall = start + u;
    }
    *nout = grams_unique(all, nall);
    *out = all;
    return 0;
}

/* vec = tf-idf weights of the bag b (aligned with b->g); returns the norm. */
static double cider_vec(const bag_t *b, const gram_t *df, int ndf, double log_n, double *vec) {
    double sq = 0.0;
    for (int g = 0; g < b->n; g++) {
        int at = grams_find(df, ndf, &b->g[g]);
        double d = at >= 0 ? (double)df[at].count : 0.0;
        vec[g] = (double)b->g[g].count * (log_n - dm_log(d > 1.0 ? d : 1.0));
        sq += vec[g] * vec[g];
    }
    return sqrt(sq);
}

/* CIDEr-D of every hypothesis (only < 0) or of hypothesis `only` alone, whose score is then the
 * one the full computation gives it, bit for bit: the document frequencies are over the whole
 * corpus either way, and a hypothesis' score never reads another's. */
static double cider_d(const metric_corpus_t *c, double *per_line, int only) {
    if (c->n <= 0) return 0.0;
    double *score = calloc((size_t)c->n * MAXN, sizeof *score); /* (n, 4): sum over refs */
    int maxlen = 1;
    for (int i = 0; i < c->n; i++)
        if (c->hyp[i].len > maxlen) maxlen = c->hyp[i].len;
    for (int j = 0; j < c->ref_start[c->n]; j++)
        if (c->refs[j].len > maxlen) maxlen = c->refs[j].len;
    double *vh = malloc((size_t)maxlen * sizeof *vh), *vr = malloc((size_t)maxlen * sizeof *vr);
    if (!score || !vh || !vr) goto oom;
    double log_n = dm_log(c->n > 1 ? (double)c->n : 1.0);
    for (int k = 1; k <= MAXN; k++) {
        gram_t *df;
        int ndf;
        if (cider_df(c, k, &df, &ndf)) goto oom;
        for (int i = only < 0 ? 0 : only; i < (only < 0 ? c->n : only + 1); i++) {
            const seq_t *h = &c->hyp[i];
            bag_t hb;
            if (bag_make(h, k, &hb)) {
                free(df);
                goto oom;
            }
            double nh = cider_vec(&hb, df, ndf, log_n, vh);
            int lh = h->len > 0 ? h->len - 1 : 0;
            for (int j = 0; j < nrefs(c, i); j++) {
                const seq_t *r = ref(c, i, j);
                bag_t rb;
                if (bag_make(r, k, &rb)) {
                    bag_free(&hb);
                    free(df);
                    goto oom;
                }
                double nr = cider_vec(&rb, df, ndf, log_n, vr);
                double val = 0.0;
                int a = 0, b = 0;
                while (a < hb.n && b < rb.n) { /* the hypothesis' n-grams found in r */
                    int cmp = gram_cmp(&hb.g[a], &rb.g[b]);
                    if (cmp == 0) {
                        val += (vh[a] < vr[b] ? vh[a] : vr[b]) * vr[b];
                        a++, b++;
                    } else if (cmp < 0) {
                        a++;
                    } else {
                        b++;
                    }
                }
                if (nh != 0.0 && nr != 0.0)
                    val /= nh * nr;
                else
                    val = 0.0;
                int lr = r->len > 0 ? r->len - 1 : 0;
                double delta = (double)(lh - lr);
                val *= dm_exp(-(delta * delta) / (2.0 * CIDER_SIGMA * CIDER_SIGMA));
                score[(size_t)i * MAXN + (size_t)(k - 1)] += val;
                bag_free(&rb);
            }
            bag_free(&hb);
        }
        free(df);
    }
    double sum = 0.0;
    for (int i = only < 0 ? 0 : only; i < (only < 0 ? c->n : only + 1); i++) {
        double s = 0.0;
        for (int k = 0; k < MAXN; k++) s += score[(size_t)i * MAXN + (size_t)k];
        s /= MAXN;
        s = nrefs(c, i) > 0 ? s / nrefs(c, i) * 10.0 : 0.0;
        sum += s;
        if (per_line) per_line[i] = s;
    }
    free(score), free(vh), free(vr);
    return only < 0 ? sum / c->n : sum;
oom:
    free(score), free(vh), free(vr);
    return NAN;
}

double metric_cider_d(const metric_corpus_t *c, double *per_line) { return cider_d(c, per_line, -1); }

double metric_cider_d_item(const metric_corpus_t *c, int i) {
    if (i < 0 || i >= c->n) return NAN;
    return cider_d(c, NULL, i);
}

/* ---------------------------------------------------------------------------------------------
 * SPICE-like semantic F1 (spec/tasks.md, CommonGen-sim; after Anderson et al. 2016, "SPICE:
 * Semantic Propositional Image Caption Evaluation", with concepts for objects and ordered
 * concept pairs for relations):
 *   T(s) = { (a) : concept a occurs in s } U { (a, b) : a != b concepts, some occurrence of a
 *          before some occurrence of b in s, i.e. first(a) < last(b) };
 *   H = T(hyp), R = U_r T(r);  F1 = 2 |H n R| / (|H| + |R|)  (= 2PR/(P+R); 0 when |H n R| = 0,
 *   so 0 when both are empty); corpus = mean.
 * ------------------------------------------------------------------------------------------- */
#define TUPLE_ALONE INT32_MIN /* never a token id */

typedef struct {
    int32_t a, b; /* b = TUPLE_ALONE: the concept a alone; else the ordered pair (a, b) */
} tuple_t;

static int tuple_qcmp(const void *x, const void *y) {
    const tuple_t *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return 0;
}

static int tuples_unique(tuple_t *t, int n) {
    if (n <= 0) return 0;
    qsort(t, (size_t)n, sizeof *t, tuple_qcmp);
    int u = 0;
    for (int i = 1; i < n; i++)
        if (tuple_qcmp(&t[u], &t[i])) t[++u] = t[i];
    return u + 1;
}

typedef struct {
    tuple_t *t;
    int n, cap;
} tuples_t;

static int tuples_push(tuples_t *s, int32_t a, int32_t b) {
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        tuple_t *t = realloc(s->t, (size_t)cap * sizeof *t);
        if (!t) return -1;
        s->t = t;
        s->cap = cap;
    }
    s->t[s->n++] = (tuple_t){a, b};
    return 0;
}

static int is_concept_tok(int32_t t, const uint8_t *is_concept, int vocab) {
    if (!is_concept) return 1;
    return t >= 0 && t < vocab && is_concept[t];
}

/* Appends T(s) to out (duplicates are removed later). occ, last: scratch of |s| entries each. */
static int tuples_of(const seq_t *s, const uint8_t *is_concept, int vocab, tuple_t *occ, int *last,
                     tuples_t *out) {
    int n = 0;
    for (int i = 0; i < s->len; i++)
        if (is_concept_tok(s->tok[i], is_concept, vocab)) occ[n++] = (tuple_t){s->tok[i], i};
    qsort(occ, (size_t)n, sizeof *occ, tuple_qcmp); /* by (concept, position) */
    int d = 0; /* compacted in place: occ[d] = (concept, first position), last[d] = last position */
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && occ[j + 1].a == occ[i].a) j++;
        tuple_t first = occ[i];
        last[d] = occ[j].b;
        occ[d++] = first;
        if (tuples_push(out, first.a, TUPLE_ALONE)) return -1;
        i = j + 1;
    }
    for (int x = 0; x < d; x++)
        for (int y = 0; y < d; y++)
            if (x != y && occ[x].b < last[y] && tuples_push(out, occ[x].a, occ[y].a)) return -1;
    return 0;
}

double metric_spice_f1(const metric_corpus_t *c, const uint8_t *is_concept, int vocab, double *per_line) {
    int maxlen = 1;
    for (int i = 0; i < c->n; i++)
        if (c->hyp[i].len > maxlen) maxlen = c->hyp[i].len;
    for (int j = 0; c->n > 0 && j < c->ref_start[c->n]; j++)
        if (c->refs[j].len > maxlen) maxlen = c->refs[j].len;
    tuple_t *occ = malloc((size_t)maxlen * sizeof *occ);
    int *last = malloc((size_t)maxlen * sizeof *last);
    tuples_t H = {0}, R = {0};
    double sum = 0.0;
    if (!occ || !last) goto oom;
    for (int i = 0; i < c->n; i++) {
        H.n = R.n = 0;
        if (tuples_of(&c->hyp[i], is_concept, vocab, occ, last, &H)) goto oom;
        for (int j = 0; j < nrefs(c, i); j++)
            if (tuples_of(ref(c, i, j), is_concept, vocab, occ, last, &R)) goto oom;
        int nh = tuples_unique(H.t, H.n), nr = tuples_unique(R.t, R.n);
        int inter = 0;
        for (int a = 0, b = 0; a < nh && b < nr;) {
            int cmp = tuple_qcmp(&H.t[a], &R.t[b]);
            if (cmp == 0)
                inter++, a++, b++;
            else if (cmp < 0)
                a++;
            else
                b++;
        }
        double f = inter > 0 ? 2.0 * inter / (double)(nh + nr) : 0.0;
        sum += f;
        if (per_line) per_line[i] = f;
    }
    free(occ), free(last), free(H.t), free(R.t);
    return c->n > 0 ? sum / c->n : 0.0;
oom:
    free(occ), free(last), free(H.t), free(R.t);
    return NAN;
}

/* ---------------------------------------------------------------------------------------------
 * distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function for Neural Conversation
 * Models"): #distinct n-grams / #n-grams; corpus: over all hypotheses pooled, per line: within
 * the hypothesis; 0 when there is no n-gram. Orders 1..4.
 * ------------------------------------------------------------------------------------------- */
double metric_distinct(const seq_t *hyp, int n, int order, double *per_line) {
    if (order < 1 || order > MAXN) return NAN;
    long cap = 0;
    for (int i = 0; i < n; i++)
        if (hyp[i].len >= order) cap += hyp[i].len - order + 1;
    gram_t *all = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *all);
    if (!all) return NAN;
    int nall = 0;
    for (int i = 0; i < n; i++) {
        int m = grams_list(&hyp[i], order, all + nall);
        if (per_line) {
            /* distinct within the line (this sorts the line's slice), then list it again for the pool */
            int u = grams_unique(all + nall, m);
            per_line[i] = m > 0 ? (double)u / m : 0.0;
            m = grams_list(&hyp[i], order, all + nall);
        }
        nall += m;
    }
    int u = grams_unique(all, nall);
    free(all);
    return nall > 0 ? (double)u / nall : 0.0;
}

/* ---------------------------------------------------------------------------------------------
 * Repetition rate (the IMDB-sim definition, envs/imdb.c): the fraction of a hypothesis' tokens
 * equal to one of the (up to) 4 tokens before them in the same hypothesis; 0 for an empty one;
 * corpus = mean over hypotheses.
 * ------------------------------------------------------------------------------------------- */
#define REPETITION_WINDOW 4

double metric_repetition(const seq_t *hyp, int n, double *per_line) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        int rep = 0;
        for (int t = 0; t < hyp[i].len; t++) {
            int near = 0;
            for (int d = 1; d <= REPETITION_WINDOW && t - d >= 0; d++) near |= hyp[i].tok[t - d] == hyp[i].tok[t];
            rep += near;
        }
        double r = hyp[i].len > 0 ? (double)rep / hyp[i].len : 0.0;
        sum += r;
        if (per_line) per_line[i] = r;
    }
    return n > 0 ? sum / n : 0.0;
}
