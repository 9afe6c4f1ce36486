/* plot: the gnuplot scripts of `rlgf analyze` (see plot.h). */
#include "plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Okabe & Ito (2008) colour-blind-safe palette, in the order groups get them (yellow last: it is
 * the hardest to see on white; black is kept for the guide and SL lines). */
static const char *const PALETTE[] = {"#0072B2", "#D55E00", "#009E73", "#E69F00",
                                      "#CC79A7", "#56B4E9", "#F0E442"};
#define NPAL 7

const char *plot_metric_label(const char *m, char *buf, size_t len) {
    static const char *const MAP[][2] = {
        {"reward", "validation reward"},
        {"kl", "KL to pi_ref (nats per output)"},
        {"output_ppl", "output perplexity (world LM)"},
        {"ref_ppl", "perplexity of held-out references"},
        {"distinct_1", "distinct-1"},
        {"distinct_2", "distinct-2"},
        {"repetition", "repetition"},
        {"true_sentiment", "true sentiment"},
        {"length", "output length (tokens)"},
    };
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
        if (!strcmp(m, MAP[i][0])) return snprintf(buf, len, "%s", MAP[i][1]), buf;
    snprintf(buf, len, "%s", m);
    return buf;
}

/* A gnuplot single-quoted string literal (a quote is doubled; newlines become spaces). */
static void gp_str(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("''", f);
        else if (*s == '\n' || *s == '\r') fputc(' ', f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

static void gp_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.10g", v);
    else fputs("NaN", f);
}

/* Whether every series has the same (finite or all-NaN) level. */
static int shared_level(int n, const plot_series_t *s, int guide) {
    for (int i = 1; i < n; i++) {
        double a = guide ? s[0].guide : s[0].piref, b = guide ? s[i].guide : s[i].piref;
        if (isnan(a) && isnan(b)) continue;
        if (a != b) return 0;
    }
    return 1;
}

static FILE *open_script(const char *dir, const char *fig, err_t *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gp", dir, fig);
    FILE *f = fopen(path, "w");
    if (!f) err_set(err, "cannot write '%s'", path);
    return f;
}

static int close_script(FILE *f, const char *dir, const char *fig, err_t *err) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return err_set(err, "cannot write '%s/%s.gp' (disk full?)", dir, fig);
    return 0;
}

/* The common head: what the script is, the palette, the style. */
static void head(FILE *f, const char *fig, const char *what, const char *data_doc, int n,
                 const plot_series_t *s) {
    fprintf(f, "# %s.gp: %s.\n", fig, what);
    fprintf(f, "# Written by `rlgf analyze`; restyle freely, then run it in this directory:\n");
    fprintf(f, "#   gnuplot %s.gp   -> %s.svg, %s.pdf (pdfcairo), %s.png\n", fig, fig, fig, fig);
    fprintf(f, "# %s\n", data_doc);
    fprintf(f, "NAME = '%s'\n", fig);
    fprintf(f, "# groups and their colours (Okabe-Ito, colour-blind safe)\n");
    for (int i = 0; i < n; i++) {
        fprintf(f, "set linetype %d lc rgb '%s' lw 2.5 dt %d pt 7 ps 0.8   # ", i + 1, PALETTE[i % NPAL],
                1 + (i / NPAL) % 4);
        gp_str(f, s[i].name);
        fputc('\n', f);
    }
    fputs("set encoding utf8\n"
          "set border 3 lw 1.2\n"
          "set tics nomirror out\n"
          "set grid lc rgb '#d9d9d9' lw 1 dt 1\n"
          "set key below center horizontal reverse Left noautotitle samplen 3 spacing 1.1 width 1 height 0.6\n"
          "set style fill transparent solid 0.22 noborder\n"
          "set autoscale fix\n"
          "set offsets graph 0.02, graph 0.02, graph 0.05, graph 0.05\n",
          f);
}

/* The loop over output formats around the plot command `body` (one `plot ...` statement). */
static void formats(FILE *f, const char *plot_cmd) {
    fputs("do for [fmt in 'svg pdf png'] {\n"
          "  if (fmt eq 'svg') {\n"
          "    set terminal svg size 900,600 font 'Sans,16' noenhanced background '#ffffff'\n"
          "  }\n"
          "  if (fmt eq 'pdf') {\n"
          "    if (strstrt(GPVAL_TERMINALS, 'pdfcairo') == 0) { print 'no pdfcairo terminal: no PDF'; continue }\n"
          "    set terminal pdfcairo size 6in,4in font 'Sans,10' noenhanced\n"
          "  }\n"
          "  if (fmt eq 'png') {\n"
          "    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
          "      set terminal pngcairo size 1350,900 font 'Sans,20' noenhanced background '#ffffff'\n"
          "    } else {\n"
          "      set terminal png size 1350,900 noenhanced\n"
          "    }\n"
          "  }\n"
          "  set output NAME.'.'.fmt\n",
          f);
    fputs(plot_cmd, f);
    fputs("  unset output\n}\n", f);
}

/* A growing string for the plot command; once memory runs out it stays `failed` (and stops). */
typedef struct {
    char *s;
    size_t n, cap;
    int failed;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || b->failed) return;
    if (b->n + (size_t)k + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->n + (size_t)k + 1 > cap) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* The plot command, or NULL with err set when memory ran out building it (b is then freed). */
static const char *sb_done(sbuf_t *b, const char *fig, err_t *err) {
    if (!b->failed && b->s) return b->s;
    free(b->s);
    b->s = NULL;
    err_set(err, "out of memory writing the script of %s", fig);
    return NULL;
}

/* The inside of a gnuplot single-quoted string (same escaping as gp_str). */
static void sb_esc(sbuf_t *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\'') sb_add(b, "''");
        else if (*s == '\n' || *s == '\r') sb_add(b, " ");
        else sb_add(b, "%c", *s);
    }
}

/* A string literal for the plot command. */
static void sb_str(sbuf_t *b, const char *s) {
    sb_add(b, "'");
    sb_esc(b, s);
    sb_add(b, "'");
}

/* Variables guide_i / sl_i (or guide / sl when shared) with the levels; returns the flags. */
static void levels(FILE *f, int n, const plot_series_t *s, int *g_shared, int *r_shared) {
    *g_shared = shared_level(n, s, 1);
    *r_shared = shared_level(n, s, 0);
    fputs("# levels at the start of RL (validation, mean over each group's runs): the guide and pi_ref (SL)\n", f);
    if (*g_shared) fputs("guide = ", f), gp_num(f, n ? s[0].guide : NAN), fputc('\n', f);
    else
        for (int i = 0; i < n; i++) fprintf(f, "guide_%d = ", i + 1), gp_num(f, s[i].guide), fputc('\n', f);
    if (*r_shared) fputs("sl = ", f), gp_num(f, n ? s[0].piref : NAN), fputc('\n', f);
    else
        for (int i = 0; i < n; i++) fprintf(f, "sl_%d = ", i + 1), gp_num(f, s[i].piref), fputc('\n', f);
}

/* Horizontal lines for the levels (skipping NaN ones). */
static void level_lines(sbuf_t *b, int n, const plot_series_t *s, int g_shared, int r_shared, int with_sl) {
    if (g_shared) {
        if (n && isfinite(s[0].guide)) sb_add(b, ", \\\n       guide with lines lc rgb '#000000' lw 2.5 dt 2 title 'guide'");
    } else {
        for (int i = 0; i < n; i++)
            if (isfinite(s[i].guide)) {
                sb_add(b, ", \\\n       guide_%d with lines lt %d lw 1.5 dt 2 title ", i + 1, i + 1);
                sb_add(b, "'guide (");
                sb_esc(b, s[i].name);
                sb_add(b, ")'");
            }
    }
    if (!with_sl) return;
    if (r_shared) {
        if (n && isfinite(s[0].piref)) sb_add(b, ", \\\n       sl with lines lc rgb '#000000' lw 2.5 dt 3 title 'SL (pi_ref)'");
    } else {
        for (int i = 0; i < n; i++)
            if (isfinite(s[i].piref)) {
                sb_add(b, ", \\\n       sl_%d with lines lt %d lw 1.5 dt 3 title ", i + 1, i + 1);
                sb_add(b, "'SL (");
                sb_esc(b, s[i].name);
                sb_add(b, ")'");
            }
    }
}

int plot_curve(const char *dir, const char *fig, const char *metric, int x_tokens, int n,
               const plot_series_t *s, int logy, err_t *err) {
    FILE *f = open_script(dir, fig, err);
    if (!f) return -1;
    char label[128], what[256], doc[512];
    plot_metric_label(metric, label, sizeof label);
    snprintf(what, sizeof what, "learning curves of %s against %s", metric,
             x_tokens ? "generated tokens" : "iteration");
    snprintf(doc, sizeof doc,
             "Data: curve_%s.dat, one index block per group: 1 iteration 2 tokens 3 n_runs 4 mean 5 std 6 iqm "
             "7 ci_lo 8 ci_hi.\n# Line: IQM over seeds; band: its 95%% stratified-bootstrap CI.",
             metric);
    head(f, fig, what, doc, n, s);
    fprintf(f, "DATA = 'curve_%s.dat'\n", metric);
    int gs, rs;
    levels(f, n, s, &gs, &rs);
    fprintf(f, "set xlabel '%s'\n", x_tokens ? "generated tokens (training)" : "iteration");
    fputs("set ylabel ", f);
    gp_str(f, label);
    fputc('\n', f);
    if (x_tokens) fputs("set format x '%.1s%c'\n", f);
    else fputs("# whole iterations on short runs\nstats DATA using 1 nooutput\nif (STATS_max <= 12) { set xtics 1 }\n", f);
    if (logy) fputs("set logscale y\nset ytics format '%g'\nset for [d=-3:9] ytics add (2 * 10.0**d, 5 * 10.0**d)\n", f);
    int xc = x_tokens ? 2 : 1;
    sbuf_t b = {0};
    sb_add(&b, "  plot ");
    for (int i = 0; i < n; i++)
        sb_add(&b, "%sDATA index %d using %d:7:8 with filledcurves lt %d notitle", i ? ", \\\n       " : "", i, xc,
               i + 1);
    for (int i = 0; i < n; i++) {
        sb_add(&b, ", \\\n       DATA index %d using %d:6 with linespoints lt %d title ", i, xc, i + 1);
        sb_str(&b, s[i].name);
    }
    level_lines(&b, n, s, gs, rs, 1);
    sb_add(&b, "\n");
    if (!sb_done(&b, fig, err)) return fclose(f), -1;
    formats(f, b.s);
    free(b.s);
    return close_script(f, dir, fig, err);
}

int plot_tradeoff(const char *dir, const char *fig, int n, const plot_series_t *s, err_t *err) {
    FILE *f = open_script(dir, fig, err);
    if (!f) return -1;
    head(f, fig, "validation reward against KL to pi_ref (the trade-off)",
         "Data: tradeoff_path.dat (1 iteration 2 kl_iqm 3 reward_iqm: each evaluation point) and\n"
         "# tradeoff_final.dat (1 kl_iqm 2 kl_lo 3 kl_hi 4 reward_iqm 5 reward_lo 6 reward_hi: the final score),\n"
         "# one index block per group. Thin line: the group's path over training (IQM over seeds);\n"
         "# big point: its final score with 95% stratified-bootstrap CIs in both directions.",
         n, s);
    int gs, rs;
    levels(f, n, s, &gs, &rs);
    fputs("set xlabel 'KL to pi_ref (nats per output)'\nset ylabel 'validation reward'\n", f);
    /* pi_ref itself sits at KL 0 */
    if (rs) {
        if (n && isfinite(s[0].piref))
            fputs("set label 1 '' at 0, sl point pt 5 ps 1.6 lc rgb '#000000' front\n", f);
    } else {
        for (int i = 0; i < n; i++)
            if (isfinite(s[i].piref)) fprintf(f, "set label %d '' at 0, sl_%d point lt %d pt 5 ps 1.6 front\n", i + 1, i + 1, i + 1);
    }
    fputs("set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n", f);
    sbuf_t b = {0};
    sb_add(&b, "  plot ");
    for (int i = 0; i < n; i++)
        sb_add(&b, "%s'tradeoff_path.dat' index %d using 2:3 with linespoints lt %d lw 1.2 ps 0.5 notitle",
               i ? ", \\\n       " : "", i, i + 1);
    for (int i = 0; i < n; i++) {
        sb_add(&b, ", \\\n       'tradeoff_final.dat' index %d using 1:4:2:3:5:6 with xyerrorbars lt %d pt 7 ps 2 lw 2 title ",
               i, i + 1);
        sb_str(&b, s[i].name);
    }
    level_lines(&b, n, s, gs, rs, 0);
    if (n && isfinite(s[0].piref))
        sb_add(&b, ", \\\n       NaN with points pt 5 ps 1.6 lc rgb '#000000' title 'SL (pi_ref), KL 0'");
    sb_add(&b, "\n");
    if (!sb_done(&b, fig, err)) return fclose(f), -1;
    formats(f, b.s);
    free(b.s);
    return close_script(f, dir, fig, err);
}

int plot_profile(const char *dir, const char *fig, int n, const plot_series_t *s, err_t *err) {
    FILE *f = open_script(dir, fig, err);
    if (!f) return -1;
    head(f, fig, "performance profiles of the final validation reward",
         "Data: profile_reward.dat, one index block per group: 1 tau 2 fraction of runs with final reward > tau\n"
         "# 3 ci_lo 4 ci_hi (95% stratified-bootstrap CI). A curve further right is better.",
         n, s);
    int gs, rs;
    levels(f, n, s, &gs, &rs);
    fputs("set xlabel 'final validation reward tau'\nset ylabel 'fraction of runs with reward > tau'\n"
          "set yrange [-0.02:1.02]\n", f);
    fputs("set offsets graph 0, graph 0, graph 0, graph 0\n", f);
    /* levels as vertical lines */
    sbuf_t b = {0};
    sb_add(&b, "  plot ");
    for (int i = 0; i < n; i++)
        sb_add(&b, "%s'profile_reward.dat' index %d using 1:3:4 with filledcurves lt %d notitle", i ? ", \\\n       " : "",
               i, i + 1);
    for (int i = 0; i < n; i++) {
        sb_add(&b, ", \\\n       'profile_reward.dat' index %d using 1:2 with lines lt %d title ", i, i + 1);
        sb_str(&b, s[i].name);
    }
    if (gs && n && isfinite(s[0].guide))
        fputs("set arrow 1 from guide, graph 0 to guide, graph 1 nohead lc rgb '#000000' lw 2 dt 2\n"
              "set label 1 'guide' at guide, graph 0.97 right offset -0.5, 0\n", f);
    if (rs && n && isfinite(s[0].piref))
        fputs("set arrow 2 from sl, graph 0 to sl, graph 1 nohead lc rgb '#000000' lw 2 dt 3\n"
              "set label 2 'SL (pi_ref)' at sl, graph 0.05 left offset 0.5, 0\n", f);
    sb_add(&b, "\n");
    if (!sb_done(&b, fig, err)) return fclose(f), -1;
    formats(f, b.s);
    free(b.s);
    return close_script(f, dir, fig, err);
}

int plot_final_vs(const char *dir, const char *fig, const char *data, const char *key, int n,
                  const char *const *names, err_t *err) {
    FILE *f = open_script(dir, fig, err);
    if (!f) return -1;
    char what[512], doc[1024];
    snprintf(what, sizeof what, "final validation reward against %s", key);
    snprintf(doc, sizeof doc,
             "Data: %s: one index block per series (groups that differ only in %s): 1 %s 2 iqm 3 ci_lo 4 ci_hi\n"
             "# 5 n_runs; the last block: 1 %s 2 guide 3 pi_ref (mean over the groups at that value).\n"
             "# Points: IQM over seeds of the final reward; bars: 95%% stratified-bootstrap CI.",
             data, key, key, key);
    plot_series_t *s = calloc((size_t)(n ? n : 1), sizeof *s);
    if (!s) return fclose(f), err_set(err, "out of memory writing the script of %s", fig);
    for (int i = 0; i < n; i++) s[i].name = names[i], s[i].guide = s[i].piref = NAN;
    head(f, fig, what, doc, n, s);
    free(s);
    fprintf(f, "DATA = '%s'\n", data);
    fputs("set xlabel ", f);
    gp_str(f, key);
    fputs("\nset ylabel 'final validation reward'\nset offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05\n", f);
    sbuf_t b = {0};
    sb_add(&b, "  plot ");
    for (int i = 0; i < n; i++) {
        sb_add(&b, "%sDATA index %d using 1:2:3:4 with yerrorlines lt %d pt 7 ps 1.2 title ", i ? ", \\\n       " : "", i,
               i + 1);
        sb_str(&b, names[i]);
    }
    sb_add(&b, ", \\\n       DATA index %d using 1:2 with linespoints lc rgb '#000000' lw 2.5 dt 2 pt 6 title 'guide'", n);
    sb_add(&b, ", \\\n       DATA index %d using 1:3 with linespoints lc rgb '#000000' lw 2.5 dt 3 pt 4 title 'SL (pi_ref)'\n", n);
    if (!sb_done(&b, fig, err)) return fclose(f), -1;
    formats(f, b.s);
    free(b.s);
    return close_script(f, dir, fig, err);
}

int plot_have_gnuplot(void) {
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* Appends s to b in shell single quotes. */
static void sh_quote(sbuf_t *b, const char *s) {
    sb_add(b, "'");
    for (; *s; s++) {
        if (*s == '\'') sb_add(b, "'\\''");
        else sb_add(b, "%c", *s);
    }
    sb_add(b, "'");
}

/* cairo (before 1.17) stamps the PDF with the clock: /CreationDate (D:YYYYMMDDhhmmss...). The
 * date is overwritten in place with 1970-01-01 00:00:00 (same length, so the cross-reference
 * offsets stay valid), which makes the PDF bytes depend on the data only. */
static void normalize_pdf_date(const char *dir, const char *fig) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.pdf", dir, fig);
    FILE *f = fopen(path, "r+b");
    if (!f) return;
    char *buf = NULL;
    long n = 0;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        static const char *const KEYS[] = {"/CreationDate (D:", "/ModDate (D:"};
        for (int k = 0; k < 2; k++) {
            size_t kl = strlen(KEYS[k]);
            for (long i = 0; i + (long)kl + 14 <= n; i++) {
                if (memcmp(buf + i, KEYS[k], kl)) continue;
                long d = i + (long)kl, e = d;
                while (e < n && e - d < 14 && buf[e] >= '0' && buf[e] <= '9') e++;
                if (e - d == 14 && fseek(f, d, SEEK_SET) == 0) fwrite("19700101000000", 1, 14, f);
            }
        }
    }
    free(buf);
    fclose(f);
}

/* Starts `gnuplot fig.gp` in dir with its output (stdout and stderr) on the returned pipe. */
static FILE *render_start(const char *dir, const char *fig) {
    sbuf_t cmd = {0};
    sb_add(&cmd, "cd ");
    sh_quote(&cmd, dir);
    /* SOURCE_DATE_EPOCH: newer cairo writes it as the PDF date (older: see normalize_pdf_date) */
    sb_add(&cmd, " && SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0} gnuplot ");
    char gp[1200];
    snprintf(gp, sizeof gp, "%s.gp", fig);
    sh_quote(&cmd, gp);
    sb_add(&cmd, " 2>&1");
    if (cmd.failed) return free(cmd.s), NULL; /* reported as "cannot start gnuplot" */
    fflush(NULL);
    FILE *p = popen(cmd.s, "r");
    free(cmd.s);
    return p;
}

/* Waits for a gnuplot started by render_start; gnuplot's messages go into err on failure. */
static int render_finish(FILE *p, const char *dir, const char *fig, err_t *err) {
    if (!p) return err_set(err, "cannot start gnuplot for %s/%s.gp", dir, fig);
    char out[4096] = "", line[1024];
    size_t used = 0;
    while (fgets(line, sizeof line, p)) {
        size_t l = strlen(line);
        if (used + l >= sizeof out) { /* keep the tail */
            used = 0;
            out[0] = 0;
        }
        memcpy(out + used, line, l + 1);
        used += l;
    }
    int st = pclose(p);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        while (used && (out[used - 1] == '\n' || out[used - 1] == ' ')) out[--used] = 0;
        if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
            return err_set(err, "gnuplot not found: install it (Debian: gnuplot-nox; `make deps`) and run "
                                "`cd %s && gnuplot %s.gp`", dir, fig);
        return err_set(err, "gnuplot failed on %s/%s.gp: %s", dir, fig, used ? out : "(no message)");
    }
    normalize_pdf_date(dir, fig);
    return 0;
}

int plot_render(const char *dir, const char *fig, err_t *err) {
    return render_finish(render_start(dir, fig), dir, fig, err);
}

int plot_render_all(const char *dir, char *const *figs, int n, int jobs, FILE *errs) {
    if (jobs < 1) jobs = 1;
    int failed = 0;
    FILE **p = calloc((size_t)jobs, sizeof *p);
    if (!p) return fprintf(errs, "rlgf analyze: error: out of memory rendering the figures\n"), n;
    for (int b = 0; b < n; b += jobs) {
        int m = n - b < jobs ? n - b : jobs;
        for (int i = 0; i < m; i++) p[i] = render_start(dir, figs[b + i]);
        for (int i = 0; i < m; i++) {
            err_t e;
            if (render_finish(p[i], dir, figs[b + i], &e)) {
                fprintf(errs, "rlgf analyze: error: %s\n", e.msg);
                failed++;
            }
        }
    }
    free(p);
    return failed;
}
