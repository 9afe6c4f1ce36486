/* plot: gnuplot scripts for `rlgf analyze`. Each figure is DIR/fig_NAME.gp, a self-contained
 * script that reads data files beside it (written by analyze.c, formats below) and writes
 * fig_NAME.svg, fig_NAME.pdf (pdfcairo) and fig_NAME.png (pngcairo, or the gd `png` terminal when
 * cairo is missing) when run in DIR: `cd DIR && gnuplot fig_NAME.gp`. Users restyle by editing the
 * script. Colours: the Okabe-Ito colour-blind-safe palette, one colour per group in group order.
 * SVG output has no timestamp, so the same data give the same bytes.
 *
 * Data files (whitespace-separated, `#` comments, one gnuplot `index` block per group, blocks
 * separated by two blank lines, NaN written as NaN):
 *   curve_METRIC.dat     1 iteration  2 tokens  3 n_runs  4 mean  5 std  6 iqm  7 ci_lo  8 ci_hi
 *   tradeoff_path.dat    1 iteration  2 kl_iqm  3 reward_iqm
 *   tradeoff_final.dat   1 kl_iqm  2 kl_lo  3 kl_hi  4 reward_iqm  5 reward_lo  6 reward_hi
 *   profile_reward.dat   1 tau  2 fraction  3 ci_lo  4 ci_hi
 *   final_vs_KEY.dat     see plot_final_vs */
#ifndef RLGF_PLOT_H
#define RLGF_PLOT_H

#include <stdio.h>

#include "../sim/base/err.h"

typedef struct {
    const char *name; /* legend text */
    double guide;     /* the guide's level of the plotted metric (NaN: none) */
    double piref;     /* pi_ref's (SL's) level (NaN: none) */
} plot_series_t;

/* A readable axis label for a metric name ("reward" -> "validation reward", ...). */
const char *plot_metric_label(const char *metric, char *buf, size_t len);

/* Learning curve of one metric: x = iteration (x_tokens = 0) or generated tokens (1), from
 * curve_METRIC.dat; IQM line, shaded CI band, guide and SL levels as horizontal lines (one line
 * each when all groups share the level, else one per group in its colour). logy: log scale. */
int plot_curve(const char *dir, const char *fig, const char *metric, int x_tokens, int n,
               const plot_series_t *s, int logy, err_t *err);

/* Reward against KL to pi_ref: each group's path through its evaluation points and its final
 * point with CI error bars in both directions; pi_ref as a point at KL 0 and the guide's reward
 * as a horizontal line (levels from s[].guide / s[].piref of the reward metric). */
int plot_tradeoff(const char *dir, const char *fig, int n, const plot_series_t *s, err_t *err);

/* Performance profile of the final reward: fraction of runs above tau, with CI bands. */
int plot_profile(const char *dir, const char *fig, int n, const plot_series_t *s, err_t *err);

/* Final reward against a numeric config key that differs between groups (guide.quality, beta,
 * tau, ...): one line with CI error bars per series of groups that agree on every other
 * differing key, and the guide's and SL's levels at each value. Data file `data`: index block i
 * < n: 1 value 2 iqm 3 ci_lo 4 ci_hi 5 n_runs; block n: 1 value 2 guide 3 pi_ref. */
int plot_final_vs(const char *dir, const char *fig, const char *data, const char *key, int n,
                  const char *const *names, err_t *err);

/* 1 when a gnuplot executable is on PATH. */
int plot_have_gnuplot(void);

/* Runs `gnuplot fig.gp` in dir. On failure err holds gnuplot's own message (last lines). */
int plot_render(const char *dir, const char *fig, err_t *err);

/* Renders n figures, up to `jobs` gnuplot processes at a time; one error line per failure on
 * errs. Returns the number of failures. */
int plot_render_all(const char *dir, char *const *figs, int n, int jobs, FILE *errs);

#endif
