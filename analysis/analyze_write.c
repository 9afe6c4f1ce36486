/* analyze_write: the files and the report of `rlgf analyze` that are not figures: CSV (numbers
 * with 10 significant digits, NaN as NaN, fields quoted as RFC 4180 says), the final scores as
 * Markdown and LaTeX tables, and the report printed on the report stream. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_impl.h"

/* Numbers in CSV and data files: 10 significant digits, NaN as NaN. */
void anl_put_num(FILE *f, double v) {
    if (isnan(v)) fputs("NaN", f);
    else if (isinf(v)) fputs(v > 0 ? "Inf" : "-Inf", f);
    else fprintf(f, "%.10g", v);
}

/* A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
static void put_csv_str(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

FILE *anl_open_out(const char *dir, const char *name, err_t *err) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) err_set(err, "cannot write '%s': %s", p, strerror(errno));
    return f;
}

int anl_close_out(FILE *f, const char *dir, const char *name, err_t *err) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return err_set(err, "cannot write '%s/%s' (disk full?)", dir, name);
    return 0;
}

/* Short number for tables: 4 significant digits. */
void anl_fmt4(char *b, size_t n, double v) {
    if (isnan(v)) snprintf(b, n, "NaN");
    else snprintf(b, n, "%.4g", v);
}

static void tex_esc(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '_': case '&': case '%': case '$': case '#': case '{': case '}':
            fprintf(f, "\\%c", *s);
            break;
        case '\\': fputs("\\textbackslash{}", f); break;
        case '~': fputs("\\textasciitilde{}", f); break;
        case '^': fputs("\\textasciicircum{}", f); break;
        default: fputc(*s, f);
        }
    }
}

static void md_esc(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|' || *s == '*' || *s == '_' || *s == '`') fputc('\\', f);
        fputc(*s, f);
    }
}

/* Whether every group has the same level (mean over runs) for every metric. */
int anl_levels_shared(const group_t *g, int ng, int nm, int guide) {
    for (int i = 1; i < ng; i++)
        for (int m = 0; m < nm; m++) {
            double a = guide ? g[0].guide[m] : g[0].piref[m], b = guide ? g[i].guide[m] : g[i].piref[m];
            if (!(isnan(a) && isnan(b)) && a != b) return 0;
        }
    return 1;
}

/* final.md and final.tex: the final scores as `IQM [lo, hi]`, rows = groups, columns = metrics,
 * then the guide's and SL's rows; the runs that diverged are listed under the Markdown table. */
int anl_write_tables(const analysis_t *A, err_t *err) {
    const char *dir = A->o->out_dir;
    const group_t *g = A->g;
    int ng = A->ng, nm = A->nm;
    char **metrics = A->metrics;
    const analyze_opts_t *o = A->o;
    FILE *md = anl_open_out(dir, "final.md", err);
    if (!md) return -1;
    FILE *tx = anl_open_out(dir, "final.tex", err);
    if (!tx) return fclose(md), -1;
    char a[64], b[64], c[64];
    fprintf(md, "Final validation scores: per run the mean of the last %d evaluation%s, then the IQM over runs "
                "[95%% stratified-bootstrap CI, %d replicates, seed %llu]; guide and SL (pi_ref): mean over runs.\n\n",
            o->last_k, o->last_k == 1 ? "" : "s", o->reps, (unsigned long long)o->seed);
    fputs("| group | runs |", md);
    for (int m = 0; m < nm; m++) fputc(' ', md), md_esc(md, metrics[m]), fputs(" |", md);
    fputs("\n|---|---:|", md);
    for (int m = 0; m < nm; m++) fputs("---|", md);
    fputc('\n', md);

    fputs("% Final validation scores written by `rlgf analyze` (needs \\usepackage{booktabs}).\n", tx);
    fprintf(tx, "%% Per run the mean of the last %d evaluation(s); IQM over runs [95%% stratified-bootstrap CI,\n"
                "%% %d replicates, seed %llu]; guide and SL (pi_ref): mean over runs.\n",
            o->last_k, o->reps, (unsigned long long)o->seed);
    fputs("\\begin{tabular}{lr", tx);
    for (int m = 0; m < nm; m++) fputc('l', tx);
    fputs("}\n\\toprule\ngroup & runs", tx);
    for (int m = 0; m < nm; m++) fputs(" & ", tx), tex_esc(tx, metrics[m]);
    fputs(" \\\\\n\\midrule\n", tx);
    for (int i = 0; i < ng; i++) {
        fputs("| ", md), md_esc(md, g[i].name), fprintf(md, " | %d |", g[i].n_runs);
        tex_esc(tx, g[i].name), fprintf(tx, " & %d", g[i].n_runs);
        for (int m = 0; m < nm; m++) {
            const agg_t *f = &g[i].final[m];
            anl_fmt4(a, sizeof a, f->iqm), anl_fmt4(b, sizeof b, f->lo), anl_fmt4(c, sizeof c, f->hi);
            if (f->n == 0) {
                fputs(" - |", md);
                fputs(" & --", tx);
            } else {
                fprintf(md, " %s [%s, %s] |", a, b, c);
                fprintf(tx, " & %s [%s, %s]", a, b, c);
            }
        }
        fputc('\n', md);
        fputs(" \\\\\n", tx);
    }
    /* the guide and SL rows: one each when all groups share the levels, else one per group */
    fputs("\\midrule\n", tx);
    for (int w = 0; w < 2; w++) {
        int shared = anl_levels_shared(g, ng, nm, w == 0);
        for (int i = 0; i < (shared ? 1 : ng); i++) {
            const double *lv = w == 0 ? g[i].guide : g[i].piref;
            const char *who = w == 0 ? "guide" : "SL (pi_ref)";
            if (shared) fprintf(md, "| %s | |", w == 0 ? "guide" : "SL (pi\\_ref)"), tex_esc(tx, who), fputs(" &", tx);
            else {
                fprintf(md, "| %s (", w == 0 ? "guide" : "SL (pi\\_ref)"), md_esc(md, g[i].name), fputs(") | |", md);
                tex_esc(tx, who), fputs(" (", tx), tex_esc(tx, g[i].name), fputs(") &", tx);
            }
            for (int m = 0; m < nm; m++) {
                if (isfinite(lv[m])) anl_fmt4(a, sizeof a, lv[m]), fprintf(md, " %s |", a), fprintf(tx, " & %s", a);
                else fputs(" - |", md), fputs(" & --", tx);
            }
            fputc('\n', md);
            fputs(" \\\\\n", tx);
        }
    }
    fputs("\\bottomrule\n\\end{tabular}\n", tx);
    if (anl_close_out(md, dir, "final.md", err)) return fclose(tx), -1;
    if (anl_close_out(tx, dir, "final.tex", err)) return -1;
    if (A->n_diverged) {
        /* the table's readers must see that runs are missing from it, and why */
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/final.md", dir);
        FILE *md = fopen(p, "a");
        if (!md) return err_set(err, "cannot write '%s': %s", p, strerror(errno));
        fprintf(md, "\nDiverged runs, excluded from every statistic above:\n\n");
        for (int i = 0; i < A->n_diverged; i++) fprintf(md, "- DIVERGED: %s\n", A->diverged[i]);
        if (fclose(md) != 0) return err_set(err, "cannot write '%s': %s", p, strerror(errno));
    }
    return 0;
}

/* curves.csv, final.csv, runs.csv, prob_improvement.csv, profiles.csv (formats: ANALYZE_HELP). */
int anl_write_csv(const analysis_t *A, err_t *err) {
    const char *dir = A->o->out_dir;
    const group_t *g = A->g;
    int ng = A->ng, nm = A->nm;
    char **metrics = A->metrics;
    FILE *f;
    if (!(f = anl_open_out(dir, "curves.csv", err))) return -1;
    fputs("group,metric,iteration,tokens,n_runs,mean,std,iqm,ci_lo,ci_hi\n", f);
    for (int k = 0; k < ng; k++)
        for (int m = 0; m < nm; m++)
            for (int p = 0; p < g[k].n_pts; p++) {
                const agg_t *a = &g[k].curve[(size_t)m * (size_t)g[k].n_pts + (size_t)p];
                if (a->n == 0) continue;
                put_csv_str(f, g[k].name), fputc(',', f), put_csv_str(f, metrics[m]), fputc(',', f);
                anl_put_num(f, g[k].pt_iter[p]), fputc(',', f), anl_put_num(f, g[k].pt_tokens[p]);
                fprintf(f, ",%d,", a->n);
                anl_put_num(f, a->mean), fputc(',', f), anl_put_num(f, a->std), fputc(',', f), anl_put_num(f, a->iqm);
                fputc(',', f), anl_put_num(f, a->lo), fputc(',', f), anl_put_num(f, a->hi), fputc('\n', f);
            }
    if (anl_close_out(f, dir, "curves.csv", err)) return -1;

    if (!(f = anl_open_out(dir, "final.csv", err))) return -1;
    fputs("group,metric,n_runs,last_k,mean,std,iqm,ci_lo,ci_hi,guide,pi_ref\n", f);
    for (int k = 0; k < ng; k++)
        for (int m = 0; m < nm; m++) {
            const agg_t *a = &g[k].final[m];
            put_csv_str(f, g[k].name), fputc(',', f), put_csv_str(f, metrics[m]);
            fprintf(f, ",%d,%d,", a->n, A->o->last_k);
            anl_put_num(f, a->mean), fputc(',', f), anl_put_num(f, a->std), fputc(',', f), anl_put_num(f, a->iqm);
            fputc(',', f), anl_put_num(f, a->lo), fputc(',', f), anl_put_num(f, a->hi), fputc(',', f);
            anl_put_num(f, g[k].guide[m]), fputc(',', f), anl_put_num(f, g[k].piref[m]), fputc('\n', f);
        }
    if (anl_close_out(f, dir, "final.csv", err)) return -1;

    if (!(f = anl_open_out(dir, "runs.csv", err))) return -1;
    fputs("group,file,seed,complete,metric,final\n", f);
    for (int k = 0; k < ng; k++)
        for (int j = 0; j < g[k].n_runs; j++) {
            const run_t *r = &A->runs[g[k].runs[j]];
            for (int m = 0; m < nm; m++) {
                put_csv_str(f, g[k].name), fputc(',', f), put_csv_str(f, r->path);
                fprintf(f, ",%lld,%d,", r->seed, r->complete), put_csv_str(f, metrics[m]), fputc(',', f);
                anl_put_num(f, g[k].fin[(size_t)m * (size_t)g[k].n_runs + (size_t)j]), fputc('\n', f);
            }
        }
    if (anl_close_out(f, dir, "runs.csv", err)) return -1;

    /* probability of improvement on the final reward, every ordered pair */
    if (!(f = anl_open_out(dir, "prob_improvement.csv", err))) return -1;
    fputs("group_x,group_y,metric,n_x,n_y,p,ci_lo,ci_hi\n", f);
    for (int a = 0; A->m_reward >= 0 && a < ng; a++)
        for (int b = 0; b < ng; b++) {
            if (a == b || !A->nfr[a] || !A->nfr[b]) continue;
            const double *d = &A->pi[((size_t)a * (size_t)ng + (size_t)b) * 3];
            put_csv_str(f, g[a].name), fputc(',', f), put_csv_str(f, g[b].name);
            fprintf(f, ",reward,%d,%d,", A->nfr[a], A->nfr[b]);
            anl_put_num(f, d[0]), fputc(',', f), anl_put_num(f, d[1]), fputc(',', f), anl_put_num(f, d[2]), fputc('\n', f);
        }
    if (anl_close_out(f, dir, "prob_improvement.csv", err)) return -1;

    /* performance profiles of the final reward */
    if (!(f = anl_open_out(dir, "profiles.csv", err))) return -1;
    fputs("group,metric,tau,fraction,ci_lo,ci_hi\n", f);
    for (int k = 0; A->profiles && k < ng; k++) {
        if (!A->nfr[k]) continue;
        const stats_ci_t *prof = A->prof + (size_t)k * ANL_NTAU;
        for (int t = 0; t < ANL_NTAU; t++) {
            put_csv_str(f, g[k].name), fputs(",reward,", f), anl_put_num(f, A->tau[t]), fputc(',', f);
            anl_put_num(f, prof[t].point), fputc(',', f), anl_put_num(f, prof[t].lo), fputc(',', f);
            anl_put_num(f, prof[t].hi), fputc('\n', f);
        }
    }
    return anl_close_out(f, dir, "profiles.csv", err);
}

/* The report's first lines: what was read, used and left out. */
static void report_inputs(const analysis_t *A) {
    FILE *rep = A->rep;
    int include = A->o->include_incomplete, used = A->nr - A->n_dup;
    fprintf(rep, "rlgf analyze: %d file%s: %d run%s used in %d group%s", A->np, A->np == 1 ? "" : "s", used,
            used == 1 ? "" : "s", A->ng, A->ng == 1 ? "" : "s");
    if (A->n_rejected) fprintf(rep, ", %d rejected", A->n_rejected);
    if (A->n_incomplete) fprintf(rep, ", %d incomplete%s", A->n_incomplete, include ? " (included)" : " (excluded)");
    if (A->n_diverged) fprintf(rep, ", %d diverged (excluded)", A->n_diverged);
    if (A->n_dup) fprintf(rep, ", %d duplicate%s left out", A->n_dup, A->n_dup == 1 ? "" : "s");
    if (A->n_ckpt) fprintf(rep, ", %d model checkpoint%s skipped", A->n_ckpt, A->n_ckpt == 1 ? "" : "s");
    fputc('\n', rep);
    for (int i = 0; i < A->n_diverged; i++) fprintf(rep, "  DIVERGED (excluded): %s\n", A->diverged[i]);
    for (int i = 0; i < A->n_incomplete; i++)
        fprintf(rep, "  INCOMPLETE (complete = 0, %s): %s\n", include ? "included" : "excluded", A->incomplete[i]);
}

/* The groups with their runs' seeds. */
static void report_groups(const analysis_t *A, int wname) {
    FILE *rep = A->rep;
    const group_t *g = A->g;
    fprintf(rep, "\ngroups:\n");
    for (int k = 0; k < A->ng; k++) {
        fprintf(rep, "  %-*s  %d run%s, seeds", wname, g[k].name, g[k].n_runs, g[k].n_runs == 1 ? "" : "s");
        for (int j = 0; j < g[k].n_runs; j++) fprintf(rep, "%s%lld", j ? "," : " ", A->runs[g[k].runs[j]].seed);
        int inc = 0;
        for (int j = 0; j < g[k].n_runs; j++) inc += !A->runs[g[k].runs[j]].complete;
        if (inc) fprintf(rep, " (%d incomplete)", inc);
        fputc('\n', rep);
    }
    int few = 0;
    for (int k = 0; k < A->ng; k++) few += g[k].n_runs < 2;
    if (few)
        fprintf(rep, "  note: %d group%s with a single run: no spread estimate (std NaN, CI = the value)\n", few,
                few == 1 ? "" : "s");
}

/* The final scores of the reward and the KL per group, then the guide's and SL's levels (one row
 * each when every group shares them). wrow: the width of the row names. */
static void report_finals(const analysis_t *A, int wrow) {
    FILE *rep = A->rep;
    const analyze_opts_t *o = A->o;
    const group_t *g = A->g;
    int ng = A->ng, show[2] = {A->m_reward, A->m_kl};
    fprintf(rep, "\nfinal validation score (mean of the last %d evaluation%s per run; IQM [95%% CI] over runs, "
                 "%d bootstrap replicates, seed %llu):\n",
            o->last_k, o->last_k == 1 ? "" : "s", o->reps, (unsigned long long)o->seed);
    fprintf(rep, "  %-*s", wrow, "group");
    for (int s = 0; s < 2; s++)
        if (show[s] >= 0) fprintf(rep, "  %-28s", A->metrics[show[s]]);
    fputc('\n', rep);
    char a[32], b[32], c[32], cell[128];
    for (int k = 0; k < ng; k++) {
        fprintf(rep, "  %-*s", wrow, g[k].name);
        for (int s = 0; s < 2; s++) {
            if (show[s] < 0) continue;
            const agg_t *ag = &g[k].final[show[s]];
            anl_fmt4(a, sizeof a, ag->iqm), anl_fmt4(b, sizeof b, ag->lo), anl_fmt4(c, sizeof c, ag->hi);
            snprintf(cell, sizeof cell, "%s [%s, %s]", a, b, c);
            fprintf(rep, "  %-28s", ag->n ? cell : "-");
        }
        fputc('\n', rep);
    }
    for (int w = 0; w < 2; w++) {
        int shared = anl_levels_shared(g, ng, A->nm, w == 0);
        for (int k = 0; k < (shared ? 1 : ng); k++) {
            char nmb[256];
            snprintf(nmb, sizeof nmb, "%s%s%s%s", w == 0 ? "guide" : "SL (pi_ref)", shared ? "" : " (",
                     shared ? "" : g[k].name, shared ? "" : ")");
            fprintf(rep, "  %-*s", wrow, nmb);
            for (int s = 0; s < 2; s++) {
                if (show[s] < 0) continue;
                double v = w == 0 ? g[k].guide[show[s]] : g[k].piref[show[s]];
                anl_fmt4(a, sizeof a, v);
                fprintf(rep, "  %-28s", isfinite(v) ? a : "-");
            }
            fputc('\n', rep);
        }
    }
}

/* The probability of improvement on the final reward: a matrix when the names are short, else
 * one line per unordered pair. */
static void report_improvement(const analysis_t *A, int wname) {
    FILE *rep = A->rep;
    const group_t *g = A->g;
    int ng = A->ng;
    char cell[128];
    int narrow = 1;
    for (int k = 0; k < ng; k++) narrow &= strlen(g[k].name) <= 22;
    if (narrow) {
        fprintf(rep, "\nprobability of improvement on the final reward, P(row > column) [95%% CI]:\n  %-*s", wname, "");
        for (int b2 = 0; b2 < ng; b2++) fprintf(rep, "  %-22s", g[b2].name);
        fputc('\n', rep);
    } else {
        fprintf(rep, "\nprobability of improvement on the final reward, P(X > Y) [95%% CI] (P(Y > X) = 1 - P(X > Y)):\n");
    }
    for (int a2 = 0; a2 < ng; a2++) {
        if (narrow) fprintf(rep, "  %-*s", wname, g[a2].name);
        for (int b2 = 0; b2 < ng; b2++) {
            const double *d = &A->pi[((size_t)a2 * (size_t)ng + (size_t)b2) * 3];
            if (a2 == b2 || isnan(d[0])) snprintf(cell, sizeof cell, "-");
            else snprintf(cell, sizeof cell, "%.2f [%.2f, %.2f]", d[0], d[1], d[2]);
            if (narrow) fprintf(rep, "  %-22s", cell);
            else if (b2 > a2) fprintf(rep, "  P(%s > %s) = %s\n", g[a2].name, g[b2].name, cell);
        }
        if (narrow) fputc('\n', rep);
    }
}

/* The report on A->rep: what was read and left out, the groups, the final scores of the reward
 * and KL with the guide's and SL's levels, the probabilities of improvement, what was written. */
void anl_report(const analysis_t *A) {
    const group_t *g = A->g;
    int ng = A->ng;
    int wname = 5;
    for (int k = 0; k < ng; k++) wname = (int)strlen(g[k].name) > wname ? (int)strlen(g[k].name) : wname;
    if (wname < 11) wname = 11;
    int wrow = wname; /* the table rows also hold "guide (NAME)" and "SL (pi_ref) (NAME)" */
    if (!anl_levels_shared(g, ng, A->nm, 1) || !anl_levels_shared(g, ng, A->nm, 0))
        for (int k = 0; k < ng; k++) wrow = (int)strlen(g[k].name) + 14 > wrow ? (int)strlen(g[k].name) + 14 : wrow;
    report_inputs(A);
    report_groups(A, wname);
    report_finals(A, wrow);
    if (ng > 1 && A->m_reward >= 0) report_improvement(A, wname);
    fprintf(A->rep, "\nwrote %s/: curves.csv final.csv runs.csv prob_improvement.csv profiles.csv final.md final.tex\n",
            A->o->out_dir);
    if (A->o->plots)
        fprintf(A->rep, "figures: %d made (fig_*.svg, .pdf, .png, each from its fig_*.gp and data beside it)%s\n",
                A->n_figs, A->n_fig_fail ? ", some FAILED (see the errors above)" : "");
}
