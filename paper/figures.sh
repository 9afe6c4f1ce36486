#!/bin/sh
# paper/figures.sh ANALYSIS_DIR FIG_DIR
# The paper's figures that `rlgf analyze` does not draw, as gnuplot scripts with their data beside
# them in ANALYSIS_DIR/figures/ (restyle and rerun freely: `gnuplot NAME.gp`), each rendered to
# NAME.pdf and NAME.png and the PDFs copied to FIG_DIR:
#   fig_map        gain over PPO of PPO++, AggreVaTeD and D2LOLS (paired by seed, 95% t interval)
#                  against guide quality q, one line per difficulty t (gains_map.csv)
#   fig_quality    final reward against q at t = 0, per algorithm, with PPO's level (its 95%
#                  interval shaded), the guide's level at each q and SL's (levels_map.csv,
#                  guide_map.csv): prediction P7
#   fig_main_gains the IMDB main comparison: each algorithm's gain over PPO (gains_main.csv)
#   fig_overopt    TL;DR-sim: the proxy reward model's score and the gold utility against
#                  sqrt(KL to pi_ref) along training, per algorithm, and for PPO without the KL
#                  penalty (IQM over seeds at each evaluation; tldr/ and overopt/curves.csv):
#                  the over-optimisation picture of Gao et al. 2022
# Colours are Okabe-Ito (colour-blind safe), as rlgf analyze's. POSIX sh + awk + gnuplot.
set -eu
A=$1; OUT=$2
D=$A/figures
mkdir -p "$D" "$OUT"

STYLE='set encoding utf8
set border 3 lw 1.2
set tics nomirror out
set grid lc rgb "#d9d9d9" lw 1 dt 1
set key below center horizontal reverse Left noautotitle samplen 3 spacing 1.1 width 1
set style fill transparent solid 0.22 noborder
set linetype 1 lc rgb "#0072B2" lw 2.5 pt 7 ps 0.9
set linetype 2 lc rgb "#D55E00" lw 2.5 pt 5 ps 0.9
set linetype 3 lc rgb "#009E73" lw 2.5 pt 9 ps 1.0
set linetype 4 lc rgb "#CC79A7" lw 2.5 pt 11 ps 1.0
set linetype 5 lc rgb "#E69F00" lw 2.5 pt 13 ps 1.0
set linetype 6 lc rgb "#56B4E9" lw 2.5 pt 3 ps 1.0
set linetype 7 lc rgb "#000000" lw 2.5 pt 1 ps 1.0'
# render NAME WIDTH_IN HEIGHT_IN: runs NAME.gp (which plots to the current terminal) twice
render() {
  ( cd "$D" && for fmt in pdf png; do
      if [ $fmt = pdf ]; then term="set terminal pdfcairo size ${2}in,${3}in font 'Sans,9' noenhanced"
      else term="set terminal pngcairo size $(awk -v w="$2" 'BEGIN{printf "%d", w*150}'),$(awk -v h="$3" 'BEGIN{printf "%d", h*150}') font 'Sans,13' noenhanced background '#ffffff'"; fi
      gnuplot -e "$term; set output '$1.$fmt'" "$1.gp" 2> "$1.$fmt.log" || { cat "$1.$fmt.log" >&2; exit 1; }
    done )
  cp "$D/$1.pdf" "$OUT/"
}
name() { case $1 in ppo) echo PPO ;; ppopp) echo PPO++ ;; aggrevated) echo AggreVaTeD ;; lols) echo LOLS ;; d2lols) echo D2LOLS ;; *) echo "$1" ;; esac; }

# ---- the difficulty x quality map -------------------------------------------------------------
TS=$(awk -F, 'NR > 1 { print $3 }' "$A/gains_map.csv" | sort -g -u | tr '\n' ' ')
ALGOS=""
for a in ppopp aggrevated d2lols; do grep -q "^$a,ppo," "$A/gains_map.csv" && ALGOS="$ALGOS $a"; done
NP=$(echo $ALGOS | wc -w)
NTS=$(echo $TS | wc -w)
# one y range for every panel, so that gains compare across algorithms
YR=$(awk -F, 'NR > 1 && $2 == "ppo" { for (i = 6; i <= 9; i++) if (i != 7 && $i != "NaN") { v = $i + 0; if (!n++ || v < lo) lo = v; if (n == 1 || v > hi) hi = v } }
  END { if (!n) { lo = -1; hi = 1 } if (lo > 0) lo = 0; if (hi < 0) hi = 0; d = (hi - lo) * 0.06 + 1e-9; printf "[%.6g:%.6g]", lo - d, hi + d }' "$A/gains_map.csv")
{
  echo "# fig_map.gp: gain over PPO (final validation reward, paired by seed; 95% t interval)"
  echo "# against the oracle guide's quality q, one line per difficulty t (imdb.threshold)."
  echo "# Data: map_ALGO.dat, one index block per t: q mean lo hi n"
  echo "$STYLE"
  echo "set multiplot layout 1,$NP"
  echo "set xlabel 'guide quality q'"
  echo "set xrange [-0.08:1.08]; set yrange $YR; set xtics 0.25"
  echo "# the lines of the difficulties are shifted by a little in q so that their intervals show"
  i=0
  for a in $ALGOS; do
    i=$((i + 1))
    awk -F, -v a="$a" -v ts="$TS" 'BEGIN { n = split(ts, T, " ") }
      NR > 1 && $1 == a && $2 == "ppo" { R[$3 + 0] = R[$3 + 0] sprintf("%s %s %s %s %s\n", $4, $6, $8, $9, $5) }
      END { for (i = 1; i <= n; i++) { printf "# t = %s\n%s\n\n", T[i], R[T[i] + 0] } }' "$A/gains_map.csv" > "$D/map_$a.dat"
    [ $i = 1 ] && echo "set ylabel 'gain over PPO (final reward)'" || echo "unset ylabel"
    echo "set title '$(name $a) - PPO'"
    [ $i = 1 ] && echo "set key inside top left vertical samplen 1.5 spacing 1" || echo "unset key"
    plot="plot 0 with lines lc rgb '#888888' lw 1 dt 2 notitle"
    j=0
    for t in $TS; do
      dx=$(awk -v j=$j -v n=$NTS 'BEGIN { printf "%.4f", (j - (n - 1) / 2) * 0.025 }')
      plot="$plot, 'map_$a.dat' index $j using (\$1+$dx):2:3:4 with yerrorlines lt $((j + 1)) title 't = $t'"
      j=$((j + 1))
    done
    echo "$plot"
  done
  echo "unset multiplot"
} > "$D/fig_map.gp"
render fig_map 7.2 2.9

# ---- P7: final reward against guide quality at t = 0 ------------------------------------------
awk -F, 'NR > 1 && $2 + 0 == 0 && $1 != "ppo" { print > (D "/quality_" $1 ".tmp") }' D="$D" "$A/levels_map.csv"
PPO=$(awk -F, 'NR > 1 && $1 == "ppo" && $2 + 0 == 0 { print $5, $7, $8 }' "$A/levels_map.csv")
awk -F, 'NR > 1 && $1 + 0 == 0 { print $2, $3, $4 }' "$A/guide_map.csv" > "$D/quality_guide.dat"
SL=$(awk 'NR == 1 { print $3 }' "$D/quality_guide.dat")
{
  echo "# fig_quality.gp: final validation reward (t = 0) against guide quality q: mean over seeds"
  echo "# with its 95% t interval; PPO (no guide) as a band; dashed: the guide's own level at each"
  echo "# q; dotted: SL. Data: quality_ALGO.dat (q mean lo hi n), quality_guide.dat (q guide sl)."
  echo "$STYLE"
  echo "set xlabel 'guide quality q'; set ylabel 'final validation reward'"
  echo "set key inside top left vertical samplen 2 spacing 1"
  echo "set xrange [-0.05:1.05]; set offsets 0, 0, graph 0.05, graph 0.05"
  set -- $PPO
  plot="plot"
  [ $# -ge 3 ] && [ "$2" != NaN ] && plot="$plot '+' using 1:($2):($3) with filledcurves lc rgb '#888888' notitle,"
  [ $# -ge 1 ] && plot="$plot $1 with lines lc rgb '#555555' lw 2 title 'PPO',"
  k=1
  for a in ppopp aggrevated d2lols; do
    [ -f "$D/quality_$a.tmp" ] || continue
    awk -F, '{ print $3, $5, $7, $8, $4 }' "$D/quality_$a.tmp" > "$D/quality_$a.dat"; rm -f "$D/quality_$a.tmp"
    plot="$plot 'quality_$a.dat' using 1:2:3:4 with yerrorlines lt $((k + 1)) title '$(name $a)',"
    k=$((k + 1))
  done
  plot="$plot 'quality_guide.dat' using 1:2 with linespoints lc rgb '#000000' lw 1.5 dt 2 pt 6 title 'guide',"
  [ -n "$SL" ] && plot="$plot $SL with lines lc rgb '#000000' lw 1.5 dt 3 title 'SL'"
  echo "${plot%,}"
} > "$D/fig_quality.gp"
rm -f "$D"/quality_*.tmp
render fig_quality 5 3.4

# ---- the IMDB main comparison: paired gains over PPO -------------------------------------------
awk -F, 'NR > 1 && $1 == "imdb" && $2 == "reward" && $4 == "ppo" { n++; printf "%d %s %s %s %s %s\n", n - 1, $3, $6, $8, $9, $5 }' "$A/gains_main.csv" > "$D/main_gains.dat"
{
  echo "# fig_main_gains.gp: IMDB-sim, reference condition (the SL policy as guide): each"
  echo "# algorithm's final validation reward minus PPO's, paired by seed; 95% t interval."
  echo "# Data: main_gains.dat: index algo mean lo hi n"
  echo "$STYLE"
  echo "set ylabel 'gain over PPO (final reward)'"
  echo "set xrange [-0.5:*]; set offsets 0, 0.5, graph 0.1, graph 0.1"
  echo "set xtics ($(awk '{ n = $2 == "ppopp" ? "PPO++" : $2 == "aggrevated" ? "AggreVaTeD" : $2 == "lols" ? "LOLS" : $2 == "d2lols" ? "D2LOLS" : $2
                             printf "%s\"%s\" %d", (NR > 1 ? ", " : ""), n, $1 }' "$D/main_gains.dat"))"
  echo "plot 0 with lines lc rgb '#888888' lw 1 dt 2 notitle, 'main_gains.dat' using 1:3:4:5 with yerrorbars lt 2 pt 7 ps 1.2 notitle"
} > "$D/fig_main_gains.gp"
render fig_main_gains 4 3

# ---- TL;DR over-optimisation: proxy and gold against sqrt(KL) ----------------------------------
# groups of tldr/ (the reference condition) and, when it exists, overopt/ (PPO without the KL
# penalty): one data file per group, named by the analysis and the group's algorithm
for an in tldr overopt; do
  [ -f "$A/$an/curves.csv" ] || continue
  awk -F, -v an="$an" 'NR > 1 && ($2 == "reward" || $2 == "gold" || $2 == "kl") {
      g = $1; if (match(g, /algo=[a-z0-9]+/)) g = substr(g, RSTART + 5, RLENGTH - 5)
      V[g, $3, $2] = $8; G[g] = 1; I[g, $3] = 1 }
    END { for (g in G) { f = D "/overopt_" an "_" g ".dat"; printf "# %s, group %s: iteration sqrt_kl proxy gold\n", an, g > f; close(f)
            for (k in I) { split(k, x, SUBSEP); if (x[1] != g) continue; kl = V[g, x[2], "kl"]; if (kl < 0) kl = 0
              printf "%s %.6g %s %s\n", x[2], sqrt(kl), V[g, x[2], "reward"], V[g, x[2], "gold"] | ("sort -n >> " f) }
            close("sort -n >> " f) } }' D="$D" "$A/$an/curves.csv"
done
{
  echo "# fig_overopt.gp: TL;DR-sim, along training: the proxy reward model's score (solid) and"
  echo "# the gold utility (dashed) against sqrt(KL to pi_ref), IQM over seeds at each evaluation."
  echo "# Data: overopt_ANALYSIS_GROUP.dat: iteration sqrt_kl proxy gold (ANALYSIS tldr: the"
  echo "# reference condition, kl.beta .002; overopt: PPO with kl.beta 0)"
  echo "$STYLE"
  echo "set xlabel 'sqrt(KL to pi_ref)  (sqrt nats)'; set ylabel 'validation score (normalised)'"
  echo "set offsets graph 0.02, graph 0.02, graph 0.05, graph 0.05"
  plot="plot"; k=1
  for f in "$D"/overopt_tldr_*.dat "$D"/overopt_overopt_*.dat; do
    [ -f "$f" ] || continue
    b=$(basename "$f" .dat); g=${b##*_}
    case $b in overopt_overopt_*) lab="$(name "$g"), no KL penalty" ;; *) lab=$(name "$g") ;; esac
    plot="$plot '$b.dat' using 2:3 with linespoints lt $k title '$lab: proxy', '$b.dat' using 2:4 with linespoints lt $k dt 2 pt 6 title '$lab: gold',"
    k=$((k + 1))
  done
  echo "${plot%,}"
} > "$D/fig_overopt.gp"
render fig_overopt 5 3.4
echo "figures: $D/fig_{map,quality,main_gains,overopt}.{gp,pdf,png}"
