/* tabular: one row of out_dim parameters per distinct prefix (state), for the toy tasks.
 *
 * Rows are numbered by prefix length first (all V prefixes of length 1, then the V^2 of length 2,
 * ..., up to max_seq), then as base-V numbers with tokens[0] most significant. So the row of
 * tokens[0..t] is offset(t+1) + sum_j tokens[j] V^(t-j) with offset(l) = V + V^2 + ... + V^(l-1),
 * which folds into row_0 = tok_0, row_t = V (row_{t-1} + 1) + tok_t. n_rows = V + ... + V^max_seq.
 * Parameters start at zero (uniform policy, zero values) and are never weight-decayed. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"

int tab_check(const model_config_t *cfg, size_t *n_params, char *errbuf, size_t errlen) {
    if (cfg->vocab < 1 || cfg->max_seq < 1) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "model: tabular needs vocab >= 1 and max_seq >= 1 (got vocab %d, max_seq %d)",
                     cfg->vocab, cfg->max_seq);
        return -1;
    }
    /* n_rows = V + V^2 + ... + V^S, stopping as soon as it passes the limit (no overflow) */
    uint64_t rows = 0, pw = 1;
    for (int l = 1; l <= cfg->max_seq && rows <= TAB_MAX_ROWS; l++) {
        pw *= (uint64_t)cfg->vocab;
        if (pw > TAB_MAX_ROWS) {
            rows = (uint64_t)TAB_MAX_ROWS + 1;
            break;
        }
        rows += pw;
    }
    if (rows > TAB_MAX_ROWS) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen,
                     "model: a tabular model with vocab %d and max_seq %d needs more than %d rows (one per prefix); "
                     "use a smaller vocabulary or horizon, or model.kind = gpt",
                     cfg->vocab, cfg->max_seq, TAB_MAX_ROWS);
        return -1;
    }
    *n_params = (size_t)rows * (cfg->head == HEAD_LM ? (size_t)cfg->vocab : 1);
    return 0;
}

int64_t tab_row_next(int64_t prev_row, int t, int32_t tok, int V) {
    return t == 0 ? (int64_t)tok : (int64_t)V * (prev_row + 1) + tok;
}

void tab_init(model_t *m) {
    memset(m->params, 0, m->n_params * sizeof(float));
    memset(m->decay_mask, 0, m->n_params);
}

struct tab_ws {
    int max_B, max_T, B, T, OD;
    int64_t *rows; /* (B,T) row of each position */
    float *out;    /* (B,T,OD) */
};

tab_ws_t *tab_ws_create(const model_t *m, int max_B, int max_T) {
    assert(max_B >= 1 && max_T >= 1 && max_T <= m->cfg.max_seq);
    tab_ws_t *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->max_B = max_B;
    ws->max_T = max_T;
    ws->OD = model_out_dim(m);
    size_t BT = (size_t)max_B * max_T;
    ws->rows = calloc(BT, sizeof(int64_t));
    ws->out = calloc(BT * ws->OD, sizeof(float));
    if (!ws->rows || !ws->out) {
        tab_ws_destroy(ws);
        return NULL;
    }
    return ws;
}

void tab_ws_destroy(tab_ws_t *ws) {
    if (!ws) return;
    free(ws->rows);
    free(ws->out);
    free(ws);
}

// tokens (B,T) -> out (B,T,OD): out[b,t] = params row of tokens[b,0..t]
const float *tab_forward(const model_t *m, tab_ws_t *ws, const int32_t *tokens, int B, int T) {
    assert(B >= 1 && T >= 1 && B <= ws->max_B && T <= ws->max_T && ws->OD == model_out_dim(m));
    int V = m->cfg.vocab, OD = ws->OD;
    ws->B = B;
    ws->T = T;
    for (int b = 0; b < B; b++) {
        int64_t row = 0;
        for (int t = 0; t < T; t++) {
            int32_t tok = tokens[b * T + t];
            assert(tok >= 0 && tok < V);
            row = tab_row_next(row, t, tok, V);
            ws->rows[b * T + t] = row;
            memcpy(ws->out + ((size_t)b * T + t) * OD, m->params + (size_t)row * OD, (size_t)OD * sizeof(float));
        }
    }
    return ws->out;
}

// dout (B,T,OD) is added into grads rows in (b,t) order
void tab_backward(const model_t *m, tab_ws_t *ws, const float *dout, float *grads) {
    (void)m;
    int OD = ws->OD, N = ws->B * ws->T;
    for (int n = 0; n < N; n++) {
        float *g = grads + (size_t)ws->rows[n] * OD;
        const float *d = dout + (size_t)n * OD;
        for (int j = 0; j < OD; j++) g[j] += d[j];
    }
}

struct tab_kv {
    int max_T, pos;
    int64_t row;
};

tab_kv_t *tab_kv_create(const model_t *m, int max_T) {
    assert(max_T >= 1 && max_T <= m->cfg.max_seq);
    tab_kv_t *kv = calloc(1, sizeof *kv);
    if (kv) kv->max_T = max_T;
    return kv;
}

void tab_kv_destroy(tab_kv_t *kv) { free(kv); }

void tab_kv_reset(tab_kv_t *kv) {
    kv->pos = 0;
    kv->row = 0;
}

/* Returns a pointer into the params (the row itself), valid until the params change. */
const float *tab_kv_step(const model_t *m, tab_kv_t *kv, int32_t token) {
    assert(kv->pos < kv->max_T && token >= 0 && token < m->cfg.vocab);
    kv->row = tab_row_next(kv->row, kv->pos, token, m->cfg.vocab);
    kv->pos++;
    return m->params + (size_t)kv->row * model_out_dim(m);
}
