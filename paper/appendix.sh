#!/bin/sh
# paper/appendix.sh RESULTS_DIR BUILD_DIR "SWEEPS"
# The reproducibility appendix, from the sweep manifests (RESULTS_DIR/SWEEP/manifest.tsv: run,
# overrides, status, exit_code, wall_s, digest, cpu_s) and the runs' own logged timing (with
# log.timing=true every run log has /timing/iteration_seconds and /timing/cpu_seconds: the wall and
# CPU time of each iteration, its update and any evaluation at its end; SL training, the start
# evaluations, checkpoint writes and log flushes are outside them):
#   BUILD_DIR/appendix_cost.tex  per figure or table: runs, CPU hours, wall hours (each run's own,
#                                so on a shared machine more than its CPU time) and logged
#                                iteration hours. A run's CPU and wall time are the manifest's
#                                cpu_s and wall_s (user + system time of the run's processes, SL
#                                training included in the first run of a task and seed that needed
#                                it; for a run continued from its checkpoint `rlgf sweep` adds its
#                                earlier processes, or writes "-" when it cannot know them). When
#                                the manifest has "-", or less than the run log's sums of
#                                /timing/cpu_seconds and iteration_seconds (an older rlgf's
#                                manifest of a resumed run), the log's sums are used and marked as
#                                lower bounds ($\geq$): they miss what a killed process lost after
#                                its last checkpoint, its start-up and checkpoint writes. "--" when
#                                neither is known.
#   BUILD_DIR/appendix_runs.tex  every run: sweep, name, its digest's first 16 hex digits, CPU s,
#                                wall s
#   BUILD_DIR/cost.tex           \CostRuns, \CostHours (CPU, or wall when no CPU time is known),
#                                \CostWallHours, \CostIterHours, \CostKind ("CPU" or "wall"),
#                                \CostLowerBoundRuns (runs whose figures are lower bounds)
#   RESULTS_DIR/digests.tsv      sweep, run, full digest, wall_s, cpu_s, overrides, lower_bound (1:
#                                wall_s and cpu_s are the log's lower bounds): to rerun any one run
#                                (`./rlgf train BASE OVERRIDES out=x.h5; ./rlgf digest x.h5`)
# POSIX sh + awk + h5dump (hdf5-tools).
set -eu
R=$1; B=$2; SWEEPS=$3
mkdir -p "$B"
T=$(mktemp); trap 'rm -f "$T"' EXIT
# the sum of the run log's /timing/NAME column, or - when the log has none
timing_sum() {
  h5dump -d "/timing/$2" "$1" 2>/dev/null |
    awk '/DATA \{/ { d = 1; next } d && /\}/ { d = 0 } d { sub(/^[^:]*:/, ""); n = split($0, x, ","); for (i = 1; i <= n; i++) if (x[i] ~ /[0-9]/) { t += x[i]; k++ } } END { if (k) printf "%.3f", t; else print "-" }'
}
# the manifest's figure M, or the logged one L when M is unknown or smaller: "FIGURE LOWER_BOUND"
# (LOWER_BOUND 1 when L was taken; "- 0" when neither is known)
pick() { awk -v m="$1" -v l="$2" 'BEGIN { if (l != "-" && (m == "-" || l + 0 > m + 0)) print l, 1; else print m, 0 }'; }
# one line per run: sweep run wall_s digest iter_s overrides cpu_s lower_bound
for s in $SWEEPS; do
  m=$R/$s/manifest.tsv
  [ -f "$m" ] || { echo "appendix.sh: missing $m" >&2; exit 1; }
  tail -n +2 "$m" | while IFS='	' read -r run ov st ec wall dg cpu; do
    [ "$st" = ok ] || continue
    it=$(timing_sum "$R/$s/$run.h5" iteration_seconds)
    logged_cpu=$(timing_sum "$R/$s/$run.h5" cpu_seconds)
    set -- $(pick "${cpu:--}" "$logged_cpu") $(pick "${wall:--}" "$it")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$run" "$3" "$dg" "$it" "$ov" "$1" $(( $2 | $4 ))
  done
done > "$T"
{ printf 'sweep\trun\tdigest\twall_s\tcpu_s\toverrides\tlower_bound\n'; awk -F'\t' '{ printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $1, $2, $4, $3, $7, $6, $8 }' "$T"; } > "$R/digests.tsv"

# figure/table -> runs (sweep and a pattern on the run name)
awk -F'\t' -v B="$B" '
BEGIN {
  n = 0
  L[++n] = "IMDB main comparison (Tab.~\\ref{tab:main}, Figs.~\\ref{fig:curves}--\\ref{fig:maingains})"; S[n] = "imdb_main"; P[n] = ""
  L[++n] = "difficulty $\\times$ guide-quality map (Fig.~\\ref{fig:map}, Tab.~\\ref{tab:map})"; S[n] = "imdb_map"; P[n] = ""
  L[++n] = "\\quad of which guide quality at $t = 0$ (Fig.~\\ref{fig:quality})"; S[n] = "imdb_map"; P[n] = "imdb.threshold=0__"
  L[++n] = "$\\beta$ of PPO++ (Fig.~\\ref{fig:ablations})"; S[n] = "imdb_ablations"; P[n] = "algo=ppopp__"
  L[++n] = "$\\tau$ of D2LOLS (Fig.~\\ref{fig:ablations}; and the map'"'"'s D2LOLS runs)"; S[n] = "imdb_ablations"; P[n] = "algo=d2lols__"
  L[++n] = "CommonGen-sim (Tab.~\\ref{tab:main}, Figs.~\\ref{fig:curves}, \\ref{fig:tradeoff})"; S[n] = "commongen_main"; P[n] = ""
  L[++n] = "TL;DR-sim (Tab.~\\ref{tab:main}, Figs.~\\ref{fig:curves}, \\ref{fig:tradeoff}, \\ref{fig:overopt})"; S[n] = "tldr_main"; P[n] = ""
  L[++n] = "TL;DR-sim, PPO without the KL penalty (Fig.~\\ref{fig:overopt})"; S[n] = "tldr_overopt"; P[n] = ""
}
function known(x) { return x != "-" && x != "" }
# hours of a sum, "--" when a figure is unknown, marked $\geq$ when one is a lower bound
function hours(sum, unknown, lower) { return unknown ? "--" : sprintf("%s%.2f", lower ? "$\\geq$" : "", sum / 3600) }
function secs(x, lower) { return known(x) ? sprintf("%s%.0f", lower ? "$\\geq$" : "", x) : "--" }
{ run[NR] = $2; sw[NR] = $1; wall[NR] = $3; dg[NR] = $4; it[NR] = $5; cpu[NR] = $7; lb[NR] = $8
  if (known($5)) I += $5
  if (known($3)) W += $3; else nowall++
  if (known($7)) C += $7; else nocpu++
  NLB += $8 }
END {
  f = B "/appendix_cost.tex"
  print "\\begin{tabular}{lrrrr}\n\\toprule\nfigure or table & runs & CPU h & wall h & logged h \\\\\n\\midrule" > f
  for (k = 1; k <= n; k++) {
    c = 0; w = 0; t = 0; u = 0; un = 0; wn = 0; l = 0
    for (i = 1; i <= NR; i++) if (sw[i] == S[k] && (P[k] == "" || index(run[i], P[k]))) {
      c++; l += lb[i]; if (known(it[i])) t += it[i]
      if (known(wall[i])) w += wall[i]; else wn++
      if (known(cpu[i])) u += cpu[i]; else un++ }
    printf "%s & %d & %s & %s & %.2f \\\\\n", L[k], c, hours(u, un, l), hours(w, wn, l), t / 3600 > f
  }
  printf "\\midrule\nall runs & %d & %s & %s & %.2f \\\\\n\\bottomrule\n\\end{tabular}\n", NR, hours(C, nocpu, NLB), hours(W, nowall, NLB), I / 3600 > f
  close(f)
  f = B "/cost.tex"
  printf "\\newcommand{\\CostRuns}{%d}\\newcommand{\\CostHours}{%.2f}\\newcommand{\\CostWallHours}{%.2f}\\newcommand{\\CostIterHours}{%.2f}\\newcommand{\\CostKind}{%s}\\newcommand{\\CostLowerBoundRuns}{%d}\n", NR, nocpu ? W / 3600 : C / 3600, W / 3600, I / 3600, nocpu ? "wall" : "CPU", NLB > f
  close(f)
  f = B "/appendix_runs.tex"
  print "{\\scriptsize\n\\begin{longtable}{llrrr}\n\\toprule\nsweep & run & digest (first 16 hex) & CPU s & wall s \\\\\n\\midrule\n\\endhead" > f
  for (i = 1; i <= NR; i++) {
    r = run[i]; gsub(/_/, "\\_", r); s = sw[i]; gsub(/_/, "\\_", s)
    printf "%s & \\texttt{%s} & \\texttt{%s} & %s & %s \\\\\n", s, r, substr(dg[i], 1, 16), secs(cpu[i], lb[i]), secs(wall[i], lb[i]) > f
  }
  print "\\bottomrule\n\\end{longtable}\n}" > f
  close(f)
}' "$T"
echo "appendix: $B/appendix_cost.tex, $B/appendix_runs.tex, $R/digests.tsv ($(wc -l < "$T") runs)"
