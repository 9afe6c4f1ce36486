/* metrics: the text metrics of the seed paper's tables, over sequences of token ids, each defined
 * once here with its formula and source (spec/tasks.md; issue "CommonGen-sim, TL;DR-sim and the
 * metric suite"). Usable on their own: `rlgf score` exposes them on files of token ids.
 *
 * A corpus is n hypotheses, each with one or more references. Corpus-level scores follow each
 * metric's reference definition (BLEU: corpus n-gram statistics; the others: the mean of the
 * per-hypothesis scores); per_line, when not NULL, receives the per-hypothesis scores. No NaN for
 * any input (empty hypotheses, references or corpus score 0); NaN only when memory runs out. */
#ifndef RLGF_METRICS_H
#define RLGF_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const int32_t *tok;
    int len;
} seq_t;

typedef struct {
    int n;                /* hypotheses */
    const seq_t *hyp;     /* [n] */
    const seq_t *refs;    /* every reference, hypothesis by hypothesis */
    const int *ref_start; /* [n+1]: the references of hyp i are refs[ref_start[i] .. ref_start[i+1]) */
} metric_corpus_t;

/* BLEU-4 (Papineni et al. 2002): corpus-level clipped n-gram precisions n = 1..4, geometric mean
 * with uniform weights, brevity penalty exp(1 - r/c) when c < r with r = sum of the reference
 * lengths closest to each hypothesis length (ties: the shorter). In [0, 1]; 0 when any precision
 * is 0. per_line: sentence BLEU-4 with the same definition on one hypothesis. */
double metric_bleu4(const metric_corpus_t *c, double *per_line);
/* ROUGE-1, ROUGE-2 (n-gram overlap) and ROUGE-L (longest common subsequence) F1 (Lin 2004),
 * against each reference, keeping the best reference per hypothesis (each measure its own best);
 * corpus = mean. out[0..2] = R1, R2, RL; per_line is (n, 3). */
void metric_rouge(const metric_corpus_t *c, double out[3], double *per_line);
/* METEOR, exact-match variant (Banerjee & Lavie 2005): unigram alignment by exact match (NLTK's
 * rule: hypothesis positions from last to first, each to the last unmatched equal reference
 * position), P and R, F_mean = P R / (alpha P + (1 - alpha) R) with alpha 0.9, fragmentation penalty
 * gamma (chunks / matches)^beta with gamma 0.5, beta 3; score = F_mean (1 - penalty); best
 * reference per hypothesis; corpus = mean. */
double metric_meteor(const metric_corpus_t *c, double *per_line);
/* CIDEr-D (Vedantam et al. 2015): tf-idf vectors of n-grams n = 1..4 with document frequencies
 * over the corpus' reference sets, cosine with clipping of hypothesis counts to reference counts,
 * Gaussian length penalty sigma 6, averaged over references and n, times 10; corpus = mean.
 * Every definition as pycocoevalcap's cider_scorer (idf = log(max(1, N)) - log(max(1, df)), raw
 * counts as tf, lengths counted in bigrams); a corpus of one hypothesis therefore scores 0. */
double metric_cider_d(const metric_corpus_t *c, double *per_line);
/* per_line[i] of metric_cider_d, bit for bit, computing hypothesis i's score alone (the corpus
 * still gives the document frequencies); NaN for i outside the corpus. */
double metric_cider_d_item(const metric_corpus_t *c, int i);
/* The SPICE-like semantic F1 of spec/tasks.md: tuples = the concept tokens (is_concept[id] != 0)
 * present and the ordered pairs (a, b) of concept tokens, a != b, some occurrence of a before some
 * occurrence of b; hypothesis tuples vs the union of the references' tuples, F1 (0 when both are
 * empty); corpus = mean. is_concept NULL: every token is a concept. vocab bounds is_concept. */
double metric_spice_f1(const metric_corpus_t *c, const uint8_t *is_concept, int vocab, double *per_line);
/* distinct-n: unique n-grams / all n-grams over the hypotheses (corpus) or per hypothesis; 0
 * without n-grams; order 1..4 (NaN otherwise). */
double metric_distinct(const seq_t *hyp, int n, int order, double *per_line);
/* repetition rate: the fraction of tokens equal to one of the previous 4 tokens of their
 * hypothesis (the definition IMDB-sim uses); corpus = mean over hypotheses. */
double metric_repetition(const seq_t *hyp, int n, double *per_line);

#endif
