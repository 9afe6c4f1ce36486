/* model: the arena, clone/copy, and the dispatch to the two backends (gpt.c, tabular.c). */
#include "model.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "kern.h"

struct model_ws {
    model_kind_t kind;
    void *impl; /* gpt_ws_t or tab_ws_t */
};

struct model_kv {
    model_kind_t kind;
    int max_R, out_dim;
    void *impl;       /* gpt_kv_t (all rows), or tab_kv_t of row 0 */
    tab_kv_t **tab;   /* tabular: one cache per row */
    float *tab_out;   /* tabular: (max_R, out_dim) */
};

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...) {
    if (!errbuf || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* 64-byte aligned and zeroed; aligned_alloc wants a size that is a multiple of the alignment. */
static float *arena_alloc(size_t n_floats) {
    size_t bytes = n_floats * sizeof(float);
    bytes = (bytes + 63) / 64 * 64;
    if (bytes == 0) bytes = 64;
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

/* Allocates the arena and the mask for n_params and points params/grads/m/v into it. */
static model_t *model_alloc(const model_config_t *cfg, size_t n_params) {
    model_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = *cfg;
    m->n_params = n_params;
    m->arena = arena_alloc(4 * n_params);
    m->decay_mask = calloc(n_params ? n_params : 1, 1);
    if (!m->arena || !m->decay_mask) {
        free(m->arena);
        free(m->decay_mask);
        free(m);
        return NULL;
    }
    m->params = m->arena;
    m->grads = m->arena + n_params;
    m->adam_m = m->arena + 2 * n_params;
    m->adam_v = m->arena + 3 * n_params;
    return m;
}

/* impl: for GPT a gpt_params_t of pointers into m->params; tabular needs none. */
static int model_bind(model_t *m) {
    if (m->cfg.kind != MODEL_GPT) return 0;
    gpt_params_t *p = malloc(sizeof *p);
    if (!p) return -1;
    gpt_point(&m->cfg, m->params, p);
    m->impl = p;
    return 0;
}

model_t *model_create(const model_config_t *cfg, rng_t *init, char *errbuf, size_t errlen) {
    size_t n_params = 0;
    if (cfg->head != HEAD_LM && cfg->head != HEAD_SCALAR) {
        set_err(errbuf, errlen, "model: unknown head kind %d (expected HEAD_LM or HEAD_SCALAR)", (int)cfg->head);
        return NULL;
    }
    if (cfg->kind == MODEL_GPT) {
        if (gpt_check(cfg, &n_params, errbuf, errlen) != 0) return NULL;
    } else if (cfg->kind == MODEL_TABULAR) {
        if (tab_check(cfg, &n_params, errbuf, errlen) != 0) return NULL;
    } else {
        set_err(errbuf, errlen, "model: unknown model kind %d (expected gpt or tabular)", (int)cfg->kind);
        return NULL;
    }
    model_t *m = model_alloc(cfg, n_params);
    if (!m || model_bind(m) != 0) {
        model_destroy(m);
        set_err(errbuf, errlen, "model: out of memory allocating %zu parameters (x4 for grads and moments)", n_params);
        return NULL;
    }
    if (cfg->kind == MODEL_GPT)
        gpt_init(m, init);
    else
        tab_init(m);
    return m;
}

void model_destroy(model_t *m) {
    if (!m) return;
    free(m->impl);
    free(m->arena);
    free(m->decay_mask);
    free(m);
}

model_t *model_clone(const model_t *src) {
    model_t *m = model_alloc(&src->cfg, src->n_params);
    if (!m) return NULL;
    if (model_bind(m) != 0) {
        model_destroy(m);
        return NULL;
    }
    memcpy(m->arena, src->arena, 4 * src->n_params * sizeof(float));
    memcpy(m->decay_mask, src->decay_mask, src->n_params);
    return m;
}

void model_copy_params(model_t *dst, const model_t *src) {
    assert(memcmp(&dst->cfg, &src->cfg, sizeof dst->cfg) == 0 && dst->n_params == src->n_params);
    size_t n = src->n_params * sizeof(float);
    memcpy(dst->params, src->params, n);
    memcpy(dst->adam_m, src->adam_m, n);
    memcpy(dst->adam_v, src->adam_v, n);
    memcpy(dst->decay_mask, src->decay_mask, src->n_params);
}

int model_out_dim(const model_t *m) { return m->cfg.head == HEAD_LM ? m->cfg.vocab : 1; }

model_ws_t *model_ws_create(const model_t *m, int max_B, int max_T) {
    assert(max_B >= 1 && max_T >= 1 && max_T <= m->cfg.max_seq);
    model_ws_t *ws = malloc(sizeof *ws);
    if (!ws) return NULL;
    ws->kind = m->cfg.kind;
    ws->impl = m->cfg.kind == MODEL_GPT ? (void *)gpt_ws_create(m, max_B, max_T) : (void *)tab_ws_create(m, max_B, max_T);
    if (!ws->impl) {
        free(ws);
        return NULL;
    }
    return ws;
}

void model_ws_destroy(model_ws_t *ws) {
    if (!ws) return;
    if (ws->kind == MODEL_GPT)
        gpt_ws_destroy(ws->impl);
    else
        tab_ws_destroy(ws->impl);
    free(ws);
}

unsigned long long model_flops(void) { return kern_flops(); }

const float *model_forward(const model_t *m, model_ws_t *ws, const int32_t *tokens, int B, int T) {
    assert(ws->kind == m->cfg.kind);
    if (m->cfg.kind == MODEL_GPT) return gpt_forward(m, ws->impl, tokens, B, T, NULL, 0);
    return tab_forward(m, ws->impl, tokens, B, T);
}

const float *model_forward_from(const model_t *m, model_ws_t *ws, const int32_t *tokens, int B, int T,
                                const int *from) {
    assert(ws->kind == m->cfg.kind);
    if (m->cfg.kind == MODEL_GPT) return gpt_forward(m, ws->impl, tokens, B, T, from, 0);
    return tab_forward(m, ws->impl, tokens, B, T); /* a table row costs nothing to look up */
}

int model_ws_track_rows(model_ws_t *ws, const model_t *m) {
    assert(ws->kind == m->cfg.kind);
    return m->cfg.kind == MODEL_GPT ? gpt_ws_track(ws->impl, m->n_params) : 0;
}

long model_ws_rows_kept(const model_ws_t *ws) { return ws->kind == MODEL_GPT ? gpt_ws_rows_kept(ws->impl) : 0; }

const float *model_forward_reusing(const model_t *m, model_ws_t *ws, const int32_t *tokens, int B, int T,
                                   const int *from) {
    assert(ws->kind == m->cfg.kind);
    if (m->cfg.kind == MODEL_GPT) return gpt_forward(m, ws->impl, tokens, B, T, from, 1);
    return tab_forward(m, ws->impl, tokens, B, T);
}

void model_backward(const model_t *m, model_ws_t *ws, const float *dout, float *grads) {
    assert(ws->kind == m->cfg.kind);
    if (m->cfg.kind == MODEL_GPT)
        gpt_backward(m, ws->impl, dout, grads);
    else
        tab_backward(m, ws->impl, dout, grads);
}

model_kv_t *model_kv_create_rows(const model_t *m, int max_R, int max_T) {
    assert(max_R >= 1 && max_T >= 1 && max_T <= m->cfg.max_seq);
    model_kv_t *kv = calloc(1, sizeof *kv);
    if (!kv) return NULL;
    kv->kind = m->cfg.kind;
    kv->max_R = max_R;
    kv->out_dim = model_out_dim(m);
    if (m->cfg.kind == MODEL_GPT) {
        kv->impl = gpt_kv_create(m, max_R, max_T);
        if (!kv->impl) {
            free(kv);
            return NULL;
        }
        return kv;
    }
    kv->tab = calloc((size_t)max_R, sizeof *kv->tab);
    kv->tab_out = malloc((size_t)max_R * kv->out_dim * sizeof(float));
    int ok = kv->tab && kv->tab_out;
    for (int r = 0; ok && r < max_R; r++) ok = (kv->tab[r] = tab_kv_create(m, max_T)) != NULL;
    if (!ok) {
        model_kv_destroy(kv);
        return NULL;
    }
    kv->impl = kv->tab[0];
    return kv;
}

model_kv_t *model_kv_create(const model_t *m, int max_T) { return model_kv_create_rows(m, 1, max_T); }

void model_kv_destroy(model_kv_t *kv) {
    if (!kv) return;
    if (kv->kind == MODEL_GPT) {
        gpt_kv_destroy(kv->impl);
    } else {
        for (int r = 0; kv->tab && r < kv->max_R; r++) tab_kv_destroy(kv->tab[r]);
        free(kv->tab);
        free(kv->tab_out);
    }
    free(kv);
}

void model_kv_reset_row(model_kv_t *kv, int row) {
    assert(row >= 0 && row < kv->max_R);
    if (kv->kind == MODEL_GPT)
        gpt_kv_reset(kv->impl, row);
    else
        tab_kv_reset(kv->tab[row]);
}

void model_kv_reset(model_kv_t *kv) {
    for (int r = 0; r < kv->max_R; r++) model_kv_reset_row(kv, r);
}

const float *model_kv_step_rows(const model_t *m, model_kv_t *kv, int n, const int *rows, const int32_t *tokens) {
    assert(kv->kind == m->cfg.kind && n >= 1 && n <= kv->max_R);
    if (m->cfg.kind == MODEL_GPT) return gpt_kv_step(m, kv->impl, n, rows, tokens);
    for (int r = 0; r < n; r++)
        memcpy(kv->tab_out + (size_t)r * kv->out_dim, tab_kv_step(m, kv->tab[rows[r]], tokens[r]),
               (size_t)kv->out_dim * sizeof(float));
    return kv->tab_out;
}

const float *model_kv_step(const model_t *m, model_kv_t *kv, int32_t token) {
    int row = 0;
    return model_kv_step_rows(m, kv, 1, &row, &token);
}
