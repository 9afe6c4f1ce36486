/* analyze_figures: the figures of `rlgf analyze`. For each one its data files (formats in
 * analysis/plot.h) and its gnuplot script (plot.c) go to the output directory, then every script
 * is rendered (up to 8 gnuplot processes at a time). The learning curve of every metric against
 * iteration and tokens, the reward-KL trade-off, the performance profile of the final reward, and
 * the final reward against every numeric config key that differs between groups. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_impl.h"
#include "plot.h"

typedef struct {
    char **names;
    int n;
} figlist_t;

static int add_fig(figlist_t *f, const char *name, err_t *err) {
    char **t = anl_grow(f->names, f->n, sizeof *f->names), *copy = t ? strdup(name) : NULL;
    if (t) f->names = t;
    if (!copy) return err_set(err, "out of memory");
    f->names[f->n++] = copy;
    return 0;
}

static void put_group_block(FILE *f, int k, const char *name) {
    fprintf(f, "%s# ", k ? "\n\n" : ""), fputs(name, f), fputc('\n', f);
}

/* curve_METRIC.dat and fig_METRIC_iter / fig_METRIC_tokens for every metric with a finite value. */
static int curve_figures(const analysis_t *A, plot_series_t *ser, figlist_t *figs, err_t *err) {
    const char *dir = A->o->out_dir;
    const group_t *g = A->g;
    int ng = A->ng;
    for (int m = 0; m < A->nm; m++) {
        const char *metric = A->metrics[m];
        char dn[300], fig[512];
        snprintf(dn, sizeof dn, "curve_%s.dat", metric);
        FILE *f = anl_open_out(dir, dn, err);
        if (!f) return -1;
        fprintf(f, "# learning curves of %s (validation), one block per group\n"
                   "# iteration tokens n_runs mean std iqm ci_lo ci_hi\n", metric);
        int allpos = 1, rows = 0;
        double ymin = INFINITY, ymax = -INFINITY;
        for (int k = 0; k < ng; k++) {
            put_group_block(f, k, g[k].name);
            for (int p = 0; p < g[k].n_pts; p++) {
                const agg_t *a = &g[k].curve[(size_t)m * (size_t)g[k].n_pts + (size_t)p];
                if (a->n == 0) continue;
                rows++;
                anl_put_num(f, g[k].pt_iter[p]), fputc(' ', f), anl_put_num(f, g[k].pt_tokens[p]);
                fprintf(f, " %d ", a->n);
                anl_put_num(f, a->mean), fputc(' ', f), anl_put_num(f, a->std), fputc(' ', f), anl_put_num(f, a->iqm);
                fputc(' ', f), anl_put_num(f, a->lo), fputc(' ', f), anl_put_num(f, a->hi), fputc('\n', f);
                if (!(a->lo > 0)) allpos = 0;
                ymin = fmin(ymin, a->lo), ymax = fmax(ymax, a->hi);
            }
            ser[k].name = g[k].name;
            ser[k].guide = g[k].guide[m];
            ser[k].piref = g[k].piref[m];
            if (isfinite(ser[k].guide) && !(ser[k].guide > 0)) allpos = 0;
            if (isfinite(ser[k].piref) && !(ser[k].piref > 0)) allpos = 0;
            if (isfinite(ser[k].guide)) ymin = fmin(ymin, ser[k].guide), ymax = fmax(ymax, ser[k].guide);
            if (isfinite(ser[k].piref)) ymin = fmin(ymin, ser[k].piref), ymax = fmax(ymax, ser[k].piref);
        }
        if (anl_close_out(f, dir, dn, err)) return -1;
        /* perplexities spanning more than a decade: log scale */
        int logy = allpos && anl_ends_with(metric, "ppl") && ymax > 10 * ymin;
        for (int xt = 0; xt < 2 && rows; xt++) { /* no finite value anywhere: no figure */
            snprintf(fig, sizeof fig, "fig_%s_%s", metric, xt ? "tokens" : "iter");
            if (plot_curve(dir, fig, metric, xt, ng, ser, logy, err)) return -1;
            if (add_fig(figs, fig, err)) return -1;
        }
    }
    return 0;
}

/* tradeoff_path.dat, tradeoff_final.dat and fig_tradeoff: reward against KL to pi_ref. */
static int tradeoff_figure(const analysis_t *A, const plot_series_t *ser, figlist_t *figs, err_t *err) {
    const char *dir = A->o->out_dir;
    const group_t *g = A->g;
    int ng = A->ng, m_kl = A->m_kl, m_reward = A->m_reward;
    FILE *tp = anl_open_out(dir, "tradeoff_path.dat", err);
    if (!tp) return -1;
    FILE *tf = anl_open_out(dir, "tradeoff_final.dat", err);
    if (!tf) return fclose(tp), -1;
    fputs("# reward against KL to pi_ref at each evaluation point (IQM over seeds), one block per group\n"
          "# iteration kl_iqm reward_iqm\n", tp);
    fputs("# final reward against final KL to pi_ref (IQM and 95% CI), one block per group\n"
          "# kl_iqm kl_lo kl_hi reward_iqm reward_lo reward_hi\n", tf);
    for (int k = 0; k < ng; k++) {
        put_group_block(tp, k, g[k].name);
        put_group_block(tf, k, g[k].name);
        for (int p = 0; p < g[k].n_pts; p++) {
            const agg_t *a = &g[k].curve[(size_t)m_kl * (size_t)g[k].n_pts + (size_t)p];
            const agg_t *b = &g[k].curve[(size_t)m_reward * (size_t)g[k].n_pts + (size_t)p];
            if (!a->n || !b->n) continue;
            anl_put_num(tp, g[k].pt_iter[p]), fputc(' ', tp), anl_put_num(tp, a->iqm), fputc(' ', tp);
            anl_put_num(tp, b->iqm), fputc('\n', tp);
        }
        const agg_t *a = &g[k].final[m_kl], *b = &g[k].final[m_reward];
        if (a->n && b->n) {
            anl_put_num(tf, a->iqm), fputc(' ', tf), anl_put_num(tf, a->lo), fputc(' ', tf), anl_put_num(tf, a->hi);
            fputc(' ', tf), anl_put_num(tf, b->iqm), fputc(' ', tf), anl_put_num(tf, b->lo), fputc(' ', tf);
            anl_put_num(tf, b->hi), fputc('\n', tf);
        }
    }
    if (anl_close_out(tp, dir, "tradeoff_path.dat", err)) return fclose(tf), -1;
    if (anl_close_out(tf, dir, "tradeoff_final.dat", err)) return -1;
    if (plot_tradeoff(dir, "fig_tradeoff", ng, ser, err)) return -1;
    if (add_fig(figs, "fig_tradeoff", err)) return -1;
    return 0;
}

/* profile_reward.dat (always, with its header) and fig_profile_reward when some group has a
 * final reward. */
static int profile_figure(const analysis_t *A, const plot_series_t *ser, figlist_t *figs, err_t *err) {
    const char *dir = A->o->out_dir;
    FILE *pd = anl_open_out(dir, "profile_reward.dat", err);
    if (!pd) return -1;
    fputs("# performance profile of the final validation reward, one block per group\n# tau fraction ci_lo ci_hi\n", pd);
    for (int k = 0; A->profiles && k < A->ng; k++) {
        put_group_block(pd, k, A->g[k].name);
        if (!A->nfr[k]) continue;
        const stats_ci_t *prof = A->prof + (size_t)k * ANL_NTAU;
        for (int t = 0; t < ANL_NTAU; t++) {
            anl_put_num(pd, A->tau[t]), fputc(' ', pd), anl_put_num(pd, prof[t].point), fputc(' ', pd);
            anl_put_num(pd, prof[t].lo), fputc(' ', pd), anl_put_num(pd, prof[t].hi), fputc('\n', pd);
        }
    }
    if (anl_close_out(pd, dir, "profile_reward.dat", err)) return -1;
    int any = 0;
    for (int k = 0; A->m_reward >= 0 && k < A->ng; k++) any |= A->nfr[k] > 0;
    if (!any) return 0;
    if (plot_profile(dir, "fig_profile_reward", A->ng, ser, err)) return -1;
    if (add_fig(figs, "fig_profile_reward", err)) return -1;
    return 0;
}

/* Numeric value of a config value ("0.5", "-1"); 0 when it is not a finite number. */
static int as_number(const char *v, double *x) {
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    *x = strtod(v, &end);
    return !errno && *end == 0 && isfinite(*x);
}

typedef struct {
    double x;
    int group;
} xg_t;
static int cmp_xg(const void *a, const void *b) {
    const xg_t *p = a, *q = b;
    return p->x != q->x ? (p->x > q->x) - (p->x < q->x) : p->group - q->group;
}

static void put_block_name(FILE *f, int first, const char *name) {
    fprintf(f, "%s# ", first ? "" : "\n\n");
    for (; *name; name++) fputc(*name == '\n' ? ' ' : *name, f);
    fputc('\n', f);
}

/* The series label of group i on the figure of key k: the values of the other differing keys
 * (just the values when the only other one is algo; the algo, or "runs", when there is none). */
static char *series_label(const group_keys_t *gk, int i, int k) {
    int others = 0, other_algo_only = 1;
    for (int o = 0; o < gk->nk; o++)
        if (o != k && gk->diff[o]) others++, other_algo_only &= !strcmp(gk->keys[o], "algo");
    if (!others) {
        const char *a = anl_kv_get(gk->kv[i], gk->nkv[i], "algo");
        return strdup(a ? a : "runs");
    }
    return anl_join_keys(gk, i, k, other_algo_only);
}

/* final_vs_KEY.dat: one block per series (value iqm ci_lo ci_hi n_runs, by value), then the
 * levels (value guide pi_ref: means over the groups at that value). xg: the groups by value. */
static int write_final_vs(const analysis_t *A, const char *data, const char *key, const xg_t *xg, const int *series,
                          char **snames, int ns, err_t *err) {
    const char *dir = A->o->out_dir;
    const group_t *g = A->g;
    int ng = A->ng, m_reward = A->m_reward;
    FILE *f = anl_open_out(dir, data, err);
    if (!f) return -1;
    fprintf(f, "# final validation reward against %s, one block per series; then the levels\n"
               "# %s iqm ci_lo ci_hi n_runs\n", key, key);
    for (int sidx = 0; sidx < ns; sidx++) {
        put_block_name(f, sidx == 0, snames[sidx]);
        for (int i = 0; i < ng; i++) {
            const group_t *G = &g[xg[i].group];
            const agg_t *a = &G->final[m_reward];
            if (series[xg[i].group] != sidx || !a->n) continue;
            anl_put_num(f, xg[i].x), fputc(' ', f), anl_put_num(f, a->iqm), fputc(' ', f), anl_put_num(f, a->lo);
            fputc(' ', f), anl_put_num(f, a->hi), fprintf(f, " %d\n", a->n);
        }
    }
    put_block_name(f, 0, "levels: value guide pi_ref");
    for (int i = 0; i < ng;) {
        int j = i;
        double sg = 0, sr = 0;
        int cg = 0, cr = 0;
        for (; j < ng && xg[j].x == xg[i].x; j++) {
            double gv = g[xg[j].group].guide[m_reward], rv = g[xg[j].group].piref[m_reward];
            if (isfinite(gv)) sg += gv, cg++;
            if (isfinite(rv)) sr += rv, cr++;
        }
        anl_put_num(f, xg[i].x), fputc(' ', f), anl_put_num(f, cg ? sg / cg : NAN), fputc(' ', f);
        anl_put_num(f, cr ? sr / cr : NAN), fputc('\n', f);
        i = j;
    }
    return anl_close_out(f, dir, data, err);
}

/* For every numeric config key other than algo whose value differs between groups (e.g.
 * guide.quality, beta, tau): the data and script of the final reward against it. Appends the
 * figure names to figs. */
static int final_vs_figures(const analysis_t *A, figlist_t *figs, err_t *err) {
    int ng = A->ng;
    if (ng < 2 || A->m_reward < 0) return 0;
    group_keys_t gk;
    xg_t *xg = anl_calloc((size_t)ng, sizeof *xg);
    char **label = anl_calloc((size_t)ng, sizeof *label);
    int *series = anl_calloc((size_t)ng, sizeof *series);
    int rc = xg && label && series ? anl_group_keys(A->g, ng, &gk, err) : err_set(err, "out of memory");
    for (int k = 0; rc == 0 && k < gk.nk; k++) {
        if (!gk.diff[k] || !strcmp(gk.keys[k], "algo")) continue;
        int numeric = 1;
        for (int i = 0; i < ng && numeric; i++)
            numeric = as_number(anl_kv_get(gk.kv[i], gk.nkv[i], gk.keys[k]), &xg[i].x), xg[i].group = i;
        if (!numeric) continue;
        /* series: groups that agree on the other differing keys, named by their values */
        int ns = 0;
        char **snames = anl_calloc((size_t)ng, sizeof *snames);
        if (!snames) rc = err_set(err, "out of memory");
        for (int i = 0; rc == 0 && i < ng; i++) {
            if (!(label[i] = series_label(&gk, i, k))) {
                rc = err_set(err, "out of memory");
                break;
            }
            int sidx = 0;
            while (sidx < ns && strcmp(snames[sidx], label[i])) sidx++;
            if (sidx == ns) snames[ns++] = label[i];
            series[i] = sidx;
        }
        int ndistinct = 0;
        if (rc == 0) qsort(xg, (size_t)ng, sizeof *xg, cmp_xg);
        for (int i = 0; rc == 0 && i < ng; i++) ndistinct += i == 0 || xg[i].x != xg[i - 1].x;
        if (rc == 0 && ndistinct >= 2) {
            const char *dir = A->o->out_dir, *key = gk.keys[k];
            char safe[256], fig[300], data[300];
            snprintf(safe, sizeof safe, "%s", key);
            for (char *c = safe; *c; c++)
                if (!isalnum((unsigned char)*c)) *c = '_';
            snprintf(fig, sizeof fig, "fig_final_vs_%s", safe);
            snprintf(data, sizeof data, "final_vs_%s.dat", safe);
            if (write_final_vs(A, data, key, xg, series, snames, ns, err) ||
                plot_final_vs(dir, fig, data, key, ns, (const char *const *)snames, err) || add_fig(figs, fig, err))
                rc = -1;
        }
        for (int i = 0; i < ng; i++) free(label[i]), label[i] = NULL;
        free(snames);
    }
    free(xg);
    free(label);
    free(series);
    if (xg && label && series) anl_group_keys_free(&gk);
    return rc;
}

/* Every figure's data and script, then the renders. */
static int write_figures(const analysis_t *A, plot_series_t *ser, figlist_t *figs, err_t *err) {
    if (curve_figures(A, ser, figs, err)) return -1;
    if (A->m_reward >= 0) {
        for (int k = 0; k < A->ng; k++) {
            ser[k].name = A->g[k].name;
            ser[k].guide = A->g[k].guide[A->m_reward];
            ser[k].piref = A->g[k].piref[A->m_reward];
        }
        if (A->m_kl >= 0 && tradeoff_figure(A, ser, figs, err)) return -1;
    }
    if (profile_figure(A, ser, figs, err)) return -1;
    return final_vs_figures(A, figs, err);
}

int anl_figures(analysis_t *A, err_t *err) {
    if (!A->o->plots) return 0;
    const char *dir = A->o->out_dir;
    int have = plot_have_gnuplot();
    plot_series_t *ser = anl_calloc((size_t)A->ng, sizeof *ser);
    figlist_t figs = {NULL, 0};
    int rc = ser ? write_figures(A, ser, &figs, err) : err_set(err, "out of memory");
    if (rc == 0 && !have) {
        fprintf(A->errs, "rlgf analyze: error: gnuplot not found: figure scripts and data are in %s, but no "
                         "figures were made (install gnuplot-nox, e.g. `make deps`, then `cd %s && gnuplot "
                         "fig_reward_iter.gp`)\n", dir, dir);
        A->n_fig_fail = figs.n;
        rc = 1;
    } else if (rc == 0) {
        A->n_fig_fail = plot_render_all(dir, figs.names, figs.n, 8, A->errs);
        A->n_figs = figs.n - A->n_fig_fail;
        rc = A->n_fig_fail ? 1 : 0;
    }
    for (int i = 0; i < figs.n; i++) free(figs.names[i]);
    free(figs.names);
    free(ser);
    return rc;
}
