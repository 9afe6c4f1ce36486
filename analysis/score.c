/* score: `rlgf score` (see score.h; its command line and help: sim/cli/cmd_score.c). Reading and
 * checking the files, calling envs/metrics, printing. */
#include "score.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/base/err.h"

const char *const score_metric_names[] = {"bleu4",    "rouge1",   "rouge2",    "rougeL",    "meteor",
                                          "cider_d",  "spice_f1", "distinct1", "distinct2", "repetition",
                                          NULL};
enum { M_BLEU4, M_ROUGE1, M_ROUGE2, M_ROUGEL, M_METEOR, M_CIDER, M_SPICE, M_DIST1, M_DIST2, M_REP, M_COUNT };
_Static_assert(M_COUNT == SCORE_N_METRICS, "score.h's SCORE_N_METRICS counts score_metric_names");

/* ---- growable arrays ---- */
typedef struct {
    int32_t *v;
    size_t n, cap;
} i32vec_t;

static int i32_push(i32vec_t *a, int32_t x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 256;
        int32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

typedef struct { /* sequences as (offset into the token array, length) until the array stops moving */
    size_t *off;
    int *len;
    size_t n, cap;
} spans_t;

static int span_push(spans_t *s, size_t off, int len) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        size_t *o = realloc(s->off, cap * sizeof *o);
        if (!o) return -1;
        s->off = o;
        int *l = realloc(s->len, cap * sizeof *l);
        if (!l) return -1;
        s->len = l;
        s->cap = cap;
    }
    s->off[s->n] = off;
    s->len[s->n++] = len;
    return 0;
}

static int slurp(const char *path, char **buf, size_t *len, err_t *err) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(err, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 0;
    for (;;) {
        if (*len == cap) {
            cap = cap ? 2 * cap : 65536;
            char *b = realloc(*buf, cap);
            if (!b) {
                fclose(f);
                return err_set(err, "'%s': out of memory", path);
            }
            *buf = b;
        }
        size_t got = fread(*buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) return err_set(err, "cannot read '%s'", path);
    return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Parses the token ids in [s, e) (a line, or one reference of a line); appends them to toks and
 * returns how many (via *count). Errors name path:line. */
static int parse_ids(const char *s, const char *e, const char *path, int line, i32vec_t *toks, int *count,
                     err_t *err) {
    *count = 0;
    while (s < e) {
        while (s < e && is_space(*s)) s++;
        if (s == e) break;
        const char *w = s;
        while (s < e && !is_space(*s)) s++;
        int wl = (int)(s - w), shown = wl > 40 ? 40 : wl;
        const char *ell = wl > 40 ? "..." : "";
        int neg = w[0] == '-', digits = wl > neg;
        for (int i = neg; i < wl; i++) digits &= w[i] >= '0' && w[i] <= '9';
        if (!digits)
            return err_set(err, "%s:%d: '%.*s%s' is not a token id (expected non-negative integers separated by spaces)",
                           path, line, shown, w, ell);
        if (neg) return err_set(err, "%s:%d: negative token id '%.*s%s'", path, line, shown, w, ell);
        long long v = 0;
        for (int i = 0; i < wl && v <= INT32_MAX; i++) v = v * 10 + (w[i] - '0');
        if (v > INT32_MAX)
            return err_set(err, "%s:%d: token id '%.*s%s' is too large (at most %d)", path, line, shown, w, ell,
                           INT32_MAX);
        if (i32_push(toks, (int32_t)v)) return err_set(err, "%s: out of memory", path);
        (*count)++;
    }
    return 0;
}

/* The end of the line starting at s: the next '\n' or the end of the buffer. Lines are iterated
 * as `for (s = buf; s < end; s = e + 1) e = line_end(s, end);`: a last line without '\n' counts,
 * an empty file has no line. */
static const char *line_end(const char *s, const char *end) {
    const char *e = memchr(s, '\n', (size_t)(end - s));
    return e ? e : end;
}

int score_read(const char *hyp_path, const char *refs_path, score_data_t *d, err_t *err) {
    memset(d, 0, sizeof *d);
    char *hb = NULL, *rb = NULL;
    size_t hl = 0, rl = 0;
    i32vec_t toks = {0};
    spans_t hs = {0}, rs = {0};
    int *starts = NULL;
    size_t nstarts = 0, capstarts = 0;
    int rc = -1, hlines = 0, rlines = 0;
    if (slurp(hyp_path, &hb, &hl, err) || slurp(refs_path, &rb, &rl, err)) goto done;
    const char *e;
    for (const char *s = hb; s < hb + hl; s = e + 1) {
        e = line_end(s, hb + hl);
        hlines++;
        size_t off = toks.n;
        int cnt;
        if (parse_ids(s, e, hyp_path, hlines, &toks, &cnt, err)) goto done;
        if (span_push(&hs, off, cnt)) goto oom;
    }
    for (const char *s = rb; s < rb + rl; s = e + 1) {
        e = line_end(s, rb + rl);
        rlines++;
        if (nstarts + 1 >= capstarts) {
            capstarts = capstarts ? 2 * capstarts : 64;
            int *p = realloc(starts, capstarts * sizeof *p);
            if (!p) goto oom;
            starts = p;
        }
        starts[nstarts++] = (int)rs.n;
        const char *q = s;
        while (q < e && is_space(*q)) q++;
        if (q == e) continue; /* blank line: no reference */
        for (const char *a = s; a <= e;) {
            const char *bar = memchr(a, '|', (size_t)(e - a));
            const char *b = bar ? bar : e;
            size_t off = toks.n;
            int cnt;
            if (parse_ids(a, b, refs_path, rlines, &toks, &cnt, err)) goto done;
            if (span_push(&rs, off, cnt)) goto oom;
            a = b + 1;
        }
    }
    if (hlines != rlines) {
        if (hlines > rlines)
            err_set(err, "%s:%d: hypothesis without references: %s has only %d lines (%s has %d)", hyp_path,
                    rlines + 1, refs_path, rlines, hyp_path, hlines);
        else
            err_set(err, "%s:%d: references without a hypothesis: %s has only %d lines (%s has %d)", refs_path,
                    hlines + 1, hyp_path, hlines, refs_path, rlines);
        goto done;
    }
    if (!starts) {
        starts = malloc(sizeof *starts);
        if (!starts) goto oom;
    }
    starts[nstarts] = (int)rs.n;
    d->ref_start = starts;
    starts = NULL;
    d->tok = toks.v ? toks.v : calloc(1, sizeof *d->tok); /* no tokens at all: offsets on NULL are UB */
    toks.v = NULL;
    if (!d->tok) goto oom;
    d->hyp = calloc(hs.n ? hs.n : 1, sizeof *d->hyp);
    d->refs = calloc(rs.n ? rs.n : 1, sizeof *d->refs);
    if (!d->hyp || !d->refs) goto oom;
    for (size_t i = 0; i < hs.n; i++) d->hyp[i] = (seq_t){d->tok + hs.off[i], hs.len[i]};
    for (size_t i = 0; i < rs.n; i++) d->refs[i] = (seq_t){d->tok + rs.off[i], rs.len[i]};
    d->corpus = (metric_corpus_t){hlines, d->hyp, d->refs, d->ref_start};
    rc = 0;
    goto done;
oom:
    err_set(err, "out of memory reading %s and %s", hyp_path, refs_path);
done:
    if (rc) score_free(d);
    free(hb), free(rb), free(toks.v), free(starts);
    free(hs.off), free(hs.len), free(rs.off), free(rs.len);
    return rc;
}

void score_free(score_data_t *d) {
    free(d->hyp), free(d->refs), free(d->ref_start), free(d->tok);
    memset(d, 0, sizeof *d);
}

int score_read_concepts(const char *path, uint8_t **is_concept, int *vocab, err_t *err) {
    *is_concept = NULL;
    *vocab = 0;
    char *buf;
    size_t len;
    if (slurp(path, &buf, &len, err)) return -1;
    i32vec_t ids = {0};
    int line = 0, rc = -1;
    const char *e;
    for (const char *s = buf; s < buf + len; s = e + 1) {
        e = line_end(s, buf + len);
        line++;
        int cnt;
        if (parse_ids(s, e, path, line, &ids, &cnt, err)) goto done;
    }
    int32_t maxid = -1;
    for (size_t i = 0; i < ids.n; i++)
        if (ids.v[i] > maxid) maxid = ids.v[i];
    if (maxid >= (1 << 28)) {
        err_set(err, "%s: concept id %d is too large for a table", path, (int)maxid);
        goto done;
    }
    *is_concept = calloc((size_t)maxid + 2, 1);
    if (!*is_concept) {
        err_set(err, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < ids.n; i++) (*is_concept)[ids.v[i]] = 1;
    *vocab = (int)maxid + 1;
    rc = 0;
done:
    free(buf), free(ids.v);
    return rc;
}

int score_print(const score_data_t *d, const int *want, int per_line, const uint8_t *is_concept, int vocab,
                FILE *out, err_t *err) {
    const metric_corpus_t *c = &d->corpus;
    int n = c->n;
    size_t rows = n > 0 ? (size_t)n : 1;
    double *pl = calloc(rows * M_COUNT, sizeof *pl); /* (M_COUNT, n) */
    double *rouge_pl = calloc(rows * 3, sizeof *rouge_pl);
    double val[M_COUNT] = {0};
    if (!pl || !rouge_pl) goto oom;
#define PL(m) (pl + (size_t)(m) * rows)
    if (want[M_BLEU4]) val[M_BLEU4] = metric_bleu4(c, PL(M_BLEU4));
    if (want[M_ROUGE1] || want[M_ROUGE2] || want[M_ROUGEL]) {
        double r[3];
        metric_rouge(c, r, rouge_pl);
        for (int k = 0; k < 3; k++) {
            val[M_ROUGE1 + k] = r[k];
            for (int i = 0; i < n; i++) PL(M_ROUGE1 + k)[i] = rouge_pl[3 * i + k];
        }
    }
    if (want[M_METEOR]) val[M_METEOR] = metric_meteor(c, PL(M_METEOR));
    if (want[M_CIDER]) val[M_CIDER] = metric_cider_d(c, PL(M_CIDER));
    if (want[M_SPICE]) val[M_SPICE] = metric_spice_f1(c, is_concept, vocab, PL(M_SPICE));
    if (want[M_DIST1]) val[M_DIST1] = metric_distinct(c->hyp, n, 1, PL(M_DIST1));
    if (want[M_DIST2]) val[M_DIST2] = metric_distinct(c->hyp, n, 2, PL(M_DIST2));
    if (want[M_REP]) val[M_REP] = metric_repetition(c->hyp, n, PL(M_REP));
    for (int m = 0; m < M_COUNT; m++)
        if (want[m] && val[m] != val[m]) goto oom; /* NaN: out of memory */
    if (per_line) {
        fputs("line", out);
        for (int m = 0; m < M_COUNT; m++)
            if (want[m]) fprintf(out, " %s", score_metric_names[m]);
        fputc('\n', out);
        for (int i = 0; i < n; i++) {
            fprintf(out, "%d", i + 1);
            for (int m = 0; m < M_COUNT; m++)
                if (want[m]) fprintf(out, " %.9f", PL(m)[i]);
            fputc('\n', out);
        }
    } else {
        for (int m = 0; m < M_COUNT; m++)
            if (want[m]) fprintf(out, "%s %.9f\n", score_metric_names[m], val[m]);
    }
#undef PL
    free(pl), free(rouge_pl);
    return 0;
oom:
    free(pl), free(rouge_pl);
    return err_set(err, "out of memory computing the metrics");
}

int score_select_metrics(const char *list, int *want, err_t *err) {
    const char *s = list;
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t l = comma ? (size_t)(comma - s) : strlen(s);
        int found = -1;
        for (int m = 0; m < M_COUNT; m++)
            if (strlen(score_metric_names[m]) == l && !strncmp(score_metric_names[m], s, l)) found = m;
        if (found < 0) {
            char valid[256] = "";
            for (int m = 0; m < M_COUNT; m++) {
                if (m) strcat(valid, ", ");
                strcat(valid, score_metric_names[m]);
            }
            return err_set(err, "unknown metric '%.*s' (valid: %s)", (int)(l > 64 ? 64 : l), s, valid);
        }
        want[found] = 1;
        if (!comma) return 0;
        s = comma + 1;
    }
}
