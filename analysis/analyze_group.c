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

void anl_group_runs(analysis_t *A) {
    run_t *runs = A->runs;
    int nr = A->nr;
    group_t *g = A->g = anl_xcalloc((size_t)(nr ? nr : 1), sizeof *g);
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
        seed_idx_t *si = anl_xcalloc((size_t)nr, sizeof *si);
        int m = 0;
        for (int i = 0; i < nr; i++)
            if (runs[i].group == k) si[m].seed = runs[i].seed, si[m].idx = i, m++;
        qsort(si, (size_t)m, sizeof *si, cmp_seed);
        g[k].runs = anl_xcalloc((size_t)m, sizeof(int));
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
}

static int parse_kv(const char *cfg, kv_t **out) {
    int n = 0;
    kv_t *v = NULL;
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
            v = anl_xrealloc(v, sizeof *v * (size_t)(n + 1));
            v[n].key = strndup(ks, (size_t)(ke - ks));
            v[n].val = strndup(vs, (size_t)(ve - vs));
            if (!v[n].key || !v[n].val) abort();
            n++;
        }
        p += len + (e ? 1 : 0);
    }
    *out = v;
    return n;
}

const char *anl_kv_get(const kv_t *v, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].key, key)) return v[i].val;
    return NULL;
}

void anl_group_keys(const group_t *g, int ng, group_keys_t *gk) {
    gk->ng = ng;
    gk->kv = anl_xcalloc((size_t)ng, sizeof *gk->kv);
    gk->nkv = anl_xcalloc((size_t)ng, sizeof *gk->nkv);
    for (int i = 0; i < ng; i++) gk->nkv[i] = parse_kv(g[i].config, &gk->kv[i]);
    /* keys in first-seen order over the groups */
    gk->keys = NULL;
    gk->nk = 0;
    for (int i = 0; i < ng; i++)
        for (int j = 0; j < gk->nkv[i]; j++) {
            int seen = 0;
            for (int k = 0; k < gk->nk && !seen; k++) seen = !strcmp(gk->keys[k], gk->kv[i][j].key);
            if (!seen)
                gk->keys = anl_xrealloc(gk->keys, sizeof *gk->keys * (size_t)(gk->nk + 1)), gk->keys[gk->nk++] = gk->kv[i][j].key;
        }
    gk->diff = anl_xcalloc((size_t)(gk->nk ? gk->nk : 1), sizeof *gk->diff);
    for (int k = 0; k < gk->nk; k++) {
        const char *v0 = anl_kv_get(gk->kv[0], gk->nkv[0], gk->keys[k]);
        for (int i = 1; i < ng && !gk->diff[k]; i++) {
            const char *vi = anl_kv_get(gk->kv[i], gk->nkv[i], gk->keys[k]);
            gk->diff[k] = (!v0 != !vi) || (v0 && vi && strcmp(v0, vi));
        }
    }
}

void anl_group_keys_free(group_keys_t *gk) {
    for (int i = 0; i < gk->ng; i++) {
        for (int j = 0; j < gk->nkv[i]; j++) free(gk->kv[i][j].key), free(gk->kv[i][j].val);
        free(gk->kv[i]);
    }
    free(gk->kv);
    free(gk->nkv);
    free(gk->keys);
    free(gk->diff);
}

void anl_name_groups(analysis_t *A) {
    group_t *g = A->g;
    int ng = A->ng;
    const run_t *runs = A->runs;
    group_keys_t gk;
    anl_group_keys(g, ng, &gk);
    kv_t **kv = gk.kv;
    int *nkv = gk.nkv, nk = gk.nk, *diff = gk.diff;
    char **keys = gk.keys;
    int ndiff = 0, algo_only = 1;
    for (int k = 0; k < nk; k++)
        if (diff[k]) {
            ndiff++;
            if (strcmp(keys[k], "algo")) algo_only = 0;
        }
    for (int i = 0; i < ng; i++) {
        size_t cap = 64, len = 0;
        char *s = anl_xmalloc(cap);
        s[0] = 0;
        if (ndiff == 0 || algo_only) {
            const char *a = anl_kv_get(kv[i], nkv[i], "algo");
            free(s);
            s = anl_xstrdup(a ? a : runs[g[i].runs[0]].algo);
            if (ndiff == 0 && ng > 1) { /* cannot happen: groups differ in their config */
                free(s);
                s = anl_xstrdup(runs[g[i].runs[0]].algo);
            }
        } else {
            for (int k = 0; k < nk; k++) {
                if (!diff[k]) continue;
                const char *v = anl_kv_get(kv[i], nkv[i], keys[k]);
                size_t need = len + strlen(keys[k]) + strlen(v ? v : "(unset)") + 3;
                if (need > cap) cap = 2 * need, s = anl_xrealloc(s, cap);
                len += (size_t)sprintf(s + len, "%s%s=%s", len ? " " : "", keys[k], v ? (*v ? v : "''") : "(unset)");
            }
        }
        g[i].name = s;
    }
    anl_group_keys_free(&gk);
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
void anl_pick_metrics(analysis_t *A) {
    for (int i = 0; i < A->nr; i++) {
        const run_t *r = &A->runs[i];
        if (r->group < 0) continue;
        for (int c = 0; c < r->n_cols; c++) {
            int seen = 0;
            for (int m = 0; m < A->nm && !seen; m++) seen = !strcmp(A->metrics[m], r->cols[c].name);
            if (!seen)
                A->metrics = anl_xrealloc(A->metrics, sizeof *A->metrics * (size_t)(A->nm + 1)), A->metrics[A->nm++] = r->cols[c].name;
        }
    }
    qsort(A->metrics, (size_t)A->nm, sizeof *A->metrics, cmp_metric);
    A->m_reward = A->m_kl = -1;
    for (int m = 0; m < A->nm; m++) {
        if (!strcmp(A->metrics[m], "reward")) A->m_reward = m;
        if (!strcmp(A->metrics[m], "kl")) A->m_kl = m;
    }
}
