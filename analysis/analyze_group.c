/* analyze_group: runs grouped by their resolved config without the seed line (runs that differ
 * only in the seed form one group), in order of first appearance; runs in a group in seed order,
 * so results do not depend on the order of the arguments; a second run of one config and seed is
 * a duplicate, reported and left out. A group is named by the config keys whose values differ
 * between groups, or by the algo alone when that is the only difference (or there is one group). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_impl.h"

typedef struct {
    long long seed;
    int idx;
} seed_idx_t;
static int cmp_seed(const void *a, const void *b) {
    const seed_idx_t *x = a, *y = b;
    if (x->seed != y->seed) return (x->seed > y->seed) - (x->seed < y->seed);
    return x->idx - y->idx;
}

int anl_group_runs(analysis_t *A, err_t *err) {
    run_t *runs = A->runs;
    int nr = A->nr;
    group_t *g = A->g = calloc((size_t)(nr ? nr : 1), sizeof *g);
    if (!g) return err_set(err, "out of memory grouping %d runs", nr);
    for (int i = 0; i < nr; i++) {
        int k = 0;
        while (k < A->ng && strcmp(g[k].config, runs[i].config)) k++;
        if (k == A->ng) {
            g[A->ng].config = runs[i].config;
            A->ng++;
        }
        runs[i].group = k;
    }
    for (int k = 0; k < A->ng; k++) {
        seed_idx_t *si = calloc((size_t)nr, sizeof *si);
        g[k].runs = calloc((size_t)nr, sizeof(int));
        if (!si || !g[k].runs) return free(si), err_set(err, "out of memory grouping %d runs", nr);
        int m = 0;
        for (int i = 0; i < nr; i++)
            if (runs[i].group == k) si[m].seed = runs[i].seed, si[m].idx = i, m++;
        qsort(si, (size_t)m, sizeof *si, cmp_seed);
        for (int j = 0; j < m; j++) {
            if (g[k].n_runs && runs[g[k].runs[g[k].n_runs - 1]].seed == si[j].seed) {
                fprintf(A->errs, "rlgf analyze: warning: '%s': same config and seed as '%s' (a duplicate): left out\n",
                        runs[si[j].idx].path, runs[g[k].runs[g[k].n_runs - 1]].path);
                runs[si[j].idx].group = -1;
                A->n_dup++;
                continue;
            }
            g[k].runs[g[k].n_runs++] = si[j].idx;
        }
        free(si);
    }
    return 0;
}

/* The key = value lines of a config text; -1 when memory runs out (*out then holds the n parsed
 * so far, for the caller to free). */
static int parse_kv(const char *cfg, kv_t **out, int *n_out) {
    int n = 0;
    kv_t *v = NULL;
    *out = NULL;
    *n_out = 0;
    for (const char *p = cfg; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq) {
            const char *ks = p, *ke = eq, *vs = eq + 1, *ve = p + len;
            while (ks < ke && isspace((unsigned char)*ks)) ks++;
            while (ke > ks && isspace((unsigned char)ke[-1])) ke--;
            while (vs < ve && isspace((unsigned char)*vs)) vs++;
            while (ve > vs && isspace((unsigned char)ve[-1])) ve--;
            kv_t *t = anl_grow(v, n, sizeof *v);
            if (!t) return -1;
            *out = v = t;
            v[n].key = strndup(ks, (size_t)(ke - ks));
            v[n].val = strndup(vs, (size_t)(ve - vs));
            *n_out = ++n;
            if (!v[n - 1].key || !v[n - 1].val) return -1;
        }
        p += len + (e ? 1 : 0);
    }
    return 0;
}

const char *anl_kv_get(const kv_t *v, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].key, key)) return v[i].val;
    return NULL;
}

int anl_group_keys(const group_t *g, int ng, group_keys_t *gk, err_t *err) {
    memset(gk, 0, sizeof *gk);
    gk->kv = calloc((size_t)ng + 1, sizeof *gk->kv);
    gk->nkv = calloc((size_t)ng + 1, sizeof *gk->nkv);
    if (!gk->kv || !gk->nkv) return err_set(err, "out of memory comparing the groups' configs");
    gk->ng = ng;
    for (int i = 0; i < ng; i++)
        if (parse_kv(g[i].config, &gk->kv[i], &gk->nkv[i])) return err_set(err, "out of memory comparing the groups' configs");
    /* keys in first-seen order over the groups */
    for (int i = 0; i < ng; i++)
        for (int j = 0; j < gk->nkv[i]; j++) {
            int seen = 0;
            for (int k = 0; k < gk->nk && !seen; k++) seen = !strcmp(gk->keys[k], gk->kv[i][j].key);
            if (seen) continue;
            char **t = anl_grow(gk->keys, gk->nk, sizeof *gk->keys);
            if (!t) return err_set(err, "out of memory comparing the groups' configs");
            gk->keys = t;
            gk->keys[gk->nk++] = gk->kv[i][j].key;
        }
    gk->diff = calloc((size_t)(gk->nk ? gk->nk : 1), sizeof *gk->diff);
    if (!gk->diff) return err_set(err, "out of memory comparing the groups' configs");
    for (int k = 0; k < gk->nk; k++) {
        const char *v0 = anl_kv_get(gk->kv[0], gk->nkv[0], gk->keys[k]);
        for (int i = 1; i < ng && !gk->diff[k]; i++) {
            const char *vi = anl_kv_get(gk->kv[i], gk->nkv[i], gk->keys[k]);
            gk->diff[k] = (!v0 != !vi) || (v0 && vi && strcmp(v0, vi));
        }
    }
    return 0;
}

void anl_group_keys_free(group_keys_t *gk) {
    for (int i = 0; gk->kv && i < gk->ng; i++) {
        for (int j = 0; j < gk->nkv[i]; j++) free(gk->kv[i][j].key), free(gk->kv[i][j].val);
        free(gk->kv[i]);
    }
    free(gk->kv);
    free(gk->nkv);
    free(gk->keys);
    free(gk->diff);
}

char *anl_join_keys(const group_keys_t *gk, int i, int skip, int values_only) {
    size_t need = 1;
    for (int pass = 0; pass < 2; pass++) {
        char *s = pass ? malloc(need) : NULL;
        if (pass && !s) return NULL;
        size_t len = 0;
        for (int k = 0; k < gk->nk; k++) {
            if (k == skip || !gk->diff[k]) continue;
            const char *v = anl_kv_get(gk->kv[i], gk->nkv[i], gk->keys[k]);
            v = v ? (*v ? v : "''") : "(unset)";
            if (!pass) need += strlen(gk->keys[k]) + strlen(v) + 2;
            else if (values_only) len += (size_t)sprintf(s + len, "%s", v);
            else len += (size_t)sprintf(s + len, "%s%s=%s", len ? " " : "", gk->keys[k], v);
        }
        if (pass) return s[len] = 0, s;
    }
    return NULL;
}

int anl_name_groups(analysis_t *A, err_t *err) {
    group_t *g = A->g;
    int ng = A->ng;
    const run_t *runs = A->runs;
    group_keys_t gk;
    if (anl_group_keys(g, ng, &gk, err)) return anl_group_keys_free(&gk), -1;
    int ndiff = 0, algo_only = 1;
    for (int k = 0; k < gk.nk; k++)
        if (gk.diff[k]) {
            ndiff++;
            if (strcmp(gk.keys[k], "algo")) algo_only = 0;
        }
    int rc = 0;
    for (int i = 0; i < ng && rc == 0; i++) {
        if (ndiff == 0 || algo_only) {
            const char *a = anl_kv_get(gk.kv[i], gk.nkv[i], "algo");
            if (!a || (ndiff == 0 && ng > 1)) a = runs[g[i].runs[0]].algo; /* (the latter cannot happen: groups differ in their config) */
            g[i].name = strdup(a);
        } else {
            g[i].name = anl_join_keys(&gk, i, -1, 0);
        }
        if (!g[i].name) rc = err_set(err, "out of memory naming the groups");
    }
    anl_group_keys_free(&gk);
    return rc;
}

static int metric_rank(const char *m) {
    return !strcmp(m, "reward") ? 0 : !strcmp(m, "kl") ? 1 : !strcmp(m, "ref_ppl") ? 3 : 2;
}
static int cmp_metric(const void *a, const void *b) {
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    int rx = metric_rank(x), ry = metric_rank(y);
    return rx != ry ? rx - ry : strcmp(x, y);
}

/* The metrics: the union over the runs used, ordered reward, kl, the others by name, ref_ppl. */
int anl_pick_metrics(analysis_t *A, err_t *err) {
    for (int i = 0; i < A->nr; i++) {
        const run_t *r = &A->runs[i];
        if (r->group < 0) continue;
        for (int c = 0; c < r->n_cols; c++) {
            int seen = 0;
            for (int m = 0; m < A->nm && !seen; m++) seen = !strcmp(A->metrics[m], r->cols[c].name);
            if (seen) continue;
            char **t = anl_grow(A->metrics, A->nm, sizeof *A->metrics);
            if (!t) return err_set(err, "out of memory");
            A->metrics = t;
            A->metrics[A->nm++] = r->cols[c].name;
        }
    }
    qsort(A->metrics, (size_t)A->nm, sizeof *A->metrics, cmp_metric);
    A->m_reward = A->m_kl = -1;
    for (int m = 0; m < A->nm; m++) {
        if (!strcmp(A->metrics[m], "reward")) A->m_reward = m;
        if (!strcmp(A->metrics[m], "kl")) A->m_kl = m;
    }
    return 0;
}
