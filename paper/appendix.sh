#!/bin/sh
# paper/appendix.sh RESULTS_DIR BUILD_DIR "SWEEPS"
# The reproducibility appendix, from the sweep manifests (RESULTS_DIR/SWEEP/manifest.tsv: run,
# overrides, status, exit_code, wall_s, digest, cpu_s) and the runs' own logged timing (with
# log.timing=true every run log has /timing/iteration_seconds and /timing/cpu_seconds: the wall and
# CPU time of each iteration, its update and any evaluation at its end; SL training and the start
# evaluations are outside them):
#   BUILD_DIR/appendix_cost.tex  per figure or table: runs, CPU hours, wall hours (each run's own,
#                                so on a shared machine more than its CPU time; the manifest's
#                                wall_s or, when larger, the logged iteration seconds) and logged
#                                iteration hours. A run's CPU time is the manifest's cpu_s (user +
#                                system time of the run's process, SL training included in the first
#                                run of a task and seed that needed it) or, when larger, the sum of
#                                its logged cpu_seconds: a run resumed from a checkpoint has in
#                                cpu_s only its last process, while its log keeps every iteration's
#                                row. "--" when neither is known (manifests of an older rlgf).
#   BUILD_DIR/appendix_runs.tex  every run: sweep, name, its digest's first 16 hex digits, wall s
#   BUILD_DIR/cost.tex           \CostRuns, \CostHours (CPU, or wall when no CPU time is known),
#                                \CostWallHours, \CostIterHours, \CostKind ("CPU" or "wall")
#   RESULTS_DIR/digests.tsv      sweep, run, full digest, wall_s, overrides: to rerun any one run
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
# the larger of a manifest's figure and the logged one (- when unknown)
larger() { awk -v m="$1" -v l="$2" 'BEGIN { if (l == "-") print m; else if (m == "-" || l + 0 > m + 0) print l; else print m }'; }
# one line per run: sweep run wall_s digest iter_s overrides cpu_s
for s in $SWEEPS; do
  m=$R/$s/manifest.tsv
  [ -f "$m" ] || { echo "appendix.sh: missing $m" >&2; exit 1; }
  tail -n +2 "$m" | while IFS='	' read -r run ov st ec wall dg cpu; do
    [ "$st" = ok ] || continue
    it=$(timing_sum "$R/$s/$run.h5" iteration_seconds)
    logged_cpu=$(timing_sum "$R/$s/$run.h5" cpu_seconds)
    cpu=$(larger "${cpu:--}" "$logged_cpu"); wall=$(larger "$wall" "$it")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$run" "$wall" "$dg" "$it" "$ov" "$cpu"
  done
done > "$T"
{ printf 'sweep\trun\tdigest\twall_s\tcpu_s\toverrides\n'; awk -F'\t' '{ printf "%s\t%s\t%s\t%s\t%s\t%s\n", $1, $2, $4, $3, $7, $6 }' "$T"; } > "$R/digests.tsv"

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
{ run[NR] = $2; sw[NR] = $1; wall[NR] = $3; dg[NR] = $4; it[NR] = $5; W += $3; I += $5
  cpu[NR] = $7; if ($7 == "-" || $7 == "") nocpu++; else C += $7 }
END {
  f = B "/appendix_cost.tex"
  print "\\begin{tabular}{lrrrr}\n\\toprule\nfigure or table & runs & CPU h & wall h & logged h \\\\\n\\midrule" > f
  for (k = 1; k <= n; k++) {
    c = 0; w = 0; t = 0; u = 0; un = 0
    for (i = 1; i <= NR; i++) if (sw[i] == S[k] && (P[k] == "" || index(run[i], P[k]))) {
      c++; w += wall[i]; t += it[i]; if (cpu[i] == "-" || cpu[i] == "") un++; else u += cpu[i] }
    printf "%s & %d & %s & %.2f & %.2f \\\\\n", L[k], c, un ? "--" : sprintf("%.2f", u / 3600), w / 3600, t / 3600 > f
  }
  printf "\\midrule\nall runs & %d & %s & %.2f & %.2f \\\\\n\\bottomrule\n\\end{tabular}\n", NR, nocpu ? "--" : sprintf("%.2f", C / 3600), W / 3600, I / 3600 > f
  close(f)
  f = B "/cost.tex"
  printf "\\newcommand{\\CostRuns}{%d}\\newcommand{\\CostHours}{%.2f}\\newcommand{\\CostWallHours}{%.2f}\\newcommand{\\CostIterHours}{%.2f}\\newcommand{\\CostKind}{%s}\n", NR, nocpu ? W / 3600 : C / 3600, W / 3600, I / 3600, nocpu ? "wall" : "CPU" > f
  close(f)
  f = B "/appendix_runs.tex"
  print "{\\scriptsize\n\\begin{longtable}{llrrr}\n\\toprule\nsweep & run & digest (first 16 hex) & CPU s & wall s \\\\\n\\midrule\n\\endhead" > f
  for (i = 1; i <= NR; i++) {
    r = run[i]; gsub(/_/, "\\_", r); s = sw[i]; gsub(/_/, "\\_", s)
    printf "%s & \\texttt{%s} & \\texttt{%s} & %s & %.0f \\\\\n", s, r, substr(dg[i], 1, 16), (cpu[i] == "-" || cpu[i] == "") ? "--" : sprintf("%.0f", cpu[i]), wall[i] > f
  }
  print "\\bottomrule\n\\end{longtable}\n}" > f
  close(f)
}' "$T"
echo "appendix: $B/appendix_cost.tex, $B/appendix_runs.tex, $R/digests.tsv ($(wc -l < "$T") runs)"
