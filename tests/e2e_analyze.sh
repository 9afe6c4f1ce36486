# `rlgf analyze`: 2 algorithms x 3 seeds of imdb_small runs -> CSV, Markdown, LaTeX and figures;
# the group count and n_runs; byte-identical outputs across two analyses; a garbage file, a
# truncated run log and a foreign HDF5 file are rejected by name while the rest still report (a
# model checkpoint is skipped with a note); an
# incomplete run (.partial) is flagged and left out unless --include-incomplete; groups that differ
# in guide.quality are named by it and get the final-reward-against-quality figure.
. tests/lib.sh
R="$TMP/runs"; mkdir -p "$R"
base="configs/imdb_small.ini cache_dir=$TMP/cache --quiet"
train_all() {
  for a in ppo ppopp; do for s in 0 1 2; do
    $RLGF train $base algo=$a seed=$s out="$R/$a-s$s.h5" || return 1
  done; done
}
check train-2x3 train_all

# csv_field FILE GROUP METRIC COLUMN: the value of COLUMN in the row of GROUP and METRIC
csv_field() { awk -F, -v g="$2" -v m="$3" -v c="$4" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $1 == g && $2 == m { print $col[c] }' "$1"; }

A1="$TMP/a1"
check analyze $RLGF analyze "$R" -o "$A1"
have_outputs() {
  for f in curves.csv final.csv runs.csv prob_improvement.csv profiles.csv final.md final.tex \
           fig_reward_iter.gp fig_reward_iter.svg fig_reward_iter.png fig_reward_iter.pdf curve_reward.dat \
           fig_reward_tokens.svg fig_kl_iter.svg fig_tradeoff.svg fig_tradeoff.png fig_profile_reward.svg; do
    [ -s "$A1/$f" ] || { echo "missing or empty: $f"; return 1; }
  done
  head -c 8 "$A1/fig_reward_iter.png" | od -c | grep -q 'P   N   G' || { echo "not a PNG"; return 1; }
  head -c 5 "$A1/fig_reward_iter.pdf" | grep -q '%PDF' || { echo "not a PDF"; return 1; }
  grep -q '<svg' "$A1/fig_reward_iter.svg"
}
check outputs-written have_outputs

groups_right() {
  # two groups named by the only differing key (algo), 3 runs each, on every metric
  [ "$(awk -F, 'NR > 1 && $2 == "reward"' "$A1/final.csv" | wc -l)" -eq 2 ] || { cat "$A1/final.csv"; return 1; }
  [ "$(csv_field "$A1/final.csv" ppo reward n_runs)" = 3 ] || return 1
  [ "$(csv_field "$A1/final.csv" ppopp reward n_runs)" = 3 ] || return 1
  [ "$(awk -F, 'NR > 1 && $3 != 3' "$A1/final.csv" | wc -l)" -eq 0 ] || return 1
  # 4 validation evaluation points (iterations 0..3) per group and metric, tokens from the log
  [ "$(awk -F, 'NR > 1 && $1 == "ppo" && $2 == "reward"' "$A1/curves.csv" | wc -l)" -eq 4 ] || return 1
  [ "$(awk -F, '$1 == "ppo" && $2 == "reward" && $3 == 3 { print $4 }' "$A1/curves.csv")" = 192 ] || return 1
  # the final score is the last point of the curve; IQM lies in its CI
  [ "$(awk -F, '$1 == "ppo" && $2 == "reward" && $3 == 3 { print $8 }' "$A1/curves.csv")" = \
    "$(csv_field "$A1/final.csv" ppo reward iqm)" ] || return 1
  awk -F, 'NR > 1 && $9 != "NaN" && ($8 + 0 < $9 + 0 - 1e-12 || $8 + 0 > $10 + 0 + 1e-12) { bad = 1 } END { exit bad }' \
    "$A1/curves.csv" || return 1
  # P(ppo > ppopp) + P(ppopp > ppo) = 1
  awk -F, 'NR > 1 { s += $6; n++ } END { exit !(n == 2 && s > 0.999999 && s < 1.000001) }' "$A1/prob_improvement.csv" || return 1
  # the tables: a row per group, the guide and SL rows
  grep -q '^| ppo | 3 |' "$A1/final.md" && grep -q '^| ppopp | 3 |' "$A1/final.md" && grep -q '^| guide |' "$A1/final.md" &&
    grep -q '^ppopp & 3 &' "$A1/final.tex" && grep -q 'bottomrule' "$A1/final.tex"
}
check groups-and-n-runs groups_right

A2="$TMP/a2"
$RLGF analyze "$R" -o "$A2" > "$TMP/report2" 2>&1
same_bytes() {
  n=0
  for f in "$A1"/*.csv "$A1"/*.md "$A1"/*.tex "$A1"/*.svg "$A1"/*.dat "$A1"/*.gp "$A1"/*.pdf "$A1"/*.png; do
    cmp -s "$f" "$A2/$(basename "$f")" || { echo "differs: $(basename "$f")"; return 1; }
    n=$((n + 1))
  done
  echo "$n files identical"
  [ $n -gt 20 ]
}
check identical-outputs same_bytes
grep -q 'ppopp' "$TMP/report2" && grep -q '6 runs used in 2 groups' "$TMP/report2" && ok report-on-stdout \
  || fail report-on-stdout "$(head -3 "$TMP/report2")"

# bad inputs: each named on its own error line, exit 1, the rest still analysed
B="$TMP/bad"; mkdir -p "$B"
head -c 4096 /dev/urandom > "$B/garbage.h5"
head -c 20000 "$R/ppo-s0.h5" > "$B/truncated.h5"
h5copy -i "$R/ppo-s0.h5" -o "$B/foreign.h5" -s /eval -d /eval   # HDF5, but no run-log attributes
bad_inputs() {
  $RLGF analyze "$R"/ppo-s?.h5 "$R"/ppopp-s?.h5 "$B/garbage.h5" "$B/truncated.h5" "$B/foreign.h5" "$R/ppo-s0.policy.h5" \
    -o "$TMP/a3" --no-plots > "$TMP/out3" 2> "$TMP/err3"
  rc=$?
  cat "$TMP/err3"
  [ $rc -eq 1 ] || { echo "exit $rc"; return 1; }
  grep -q "garbage.h5'.*not an HDF5 file" "$TMP/err3" || return 1
  grep -q "truncated.h5'.*truncated or damaged" "$TMP/err3" || return 1
  grep -q "foreign.h5'.*not an rlgf run log" "$TMP/err3" || return 1
  grep -q "note: .*ppo-s0.policy.h5'.*checkpoint.*skipped" "$TMP/err3" || return 1
  grep -q '6 runs used in 2 groups, 3 rejected, 1 model checkpoint skipped' "$TMP/out3" || return 1
  [ "$(csv_field "$TMP/a3/final.csv" ppopp reward n_runs)" = 3 ]
}
check bad-files-named-rest-reported bad_inputs

# an incomplete run: flagged, excluded by default, used with --include-incomplete
( RLGF_KILL_AFTER=1 $RLGF train $base algo=ppo seed=3 out="$R/ppo-s3.h5"; : ) >/dev/null 2>&1  # the kill leaves a .partial
partial() {
  [ -e "$R/ppo-s3.h5.partial" ] || { echo "no .partial made"; return 1; }
  $RLGF analyze "$R" -o "$TMP/a4" --no-plots > "$TMP/out4" 2>&1 || { cat "$TMP/out4"; return 1; }
  grep -q "INCOMPLETE.*ppo-s3.h5.partial" "$TMP/out4" || { cat "$TMP/out4"; return 1; }
  [ "$(csv_field "$TMP/a4/final.csv" ppo reward n_runs)" = 3 ] || return 1
  $RLGF analyze "$R" -o "$TMP/a5" --no-plots --include-incomplete > "$TMP/out5" 2>&1 || return 1
  grep -q "INCOMPLETE (complete = 0, included).*ppo-s3.h5.partial" "$TMP/out5" || return 1
  [ "$(csv_field "$TMP/a5/final.csv" ppo reward n_runs)" = 4 ]
}
check partial-flagged-and-excluded partial

# groups named by the differing keys, and the final reward against a numeric key (guide.quality)
quality() {
  Q="$TMP/q"; mkdir -p "$Q"
  for s in 0 1; do
    $RLGF train $base algo=ppopp guide.quality=0.9 seed=$s out="$Q/ppopp-q9-s$s.h5" || return 1
  done
  $RLGF analyze "$R"/ppopp-s?.h5 "$Q" -o "$TMP/aq" > "$TMP/outq" 2>&1 || { cat "$TMP/outq"; return 1; }
  [ "$(csv_field "$TMP/aq/final.csv" guide.quality=0.5 reward n_runs)" = 3 ] || { cat "$TMP/outq"; return 1; }
  [ "$(csv_field "$TMP/aq/final.csv" guide.quality=0.9 reward n_runs)" = 2 ] || return 1
  # each group has its own guide level, so the table has one guide row per group
  grep -q '^| guide (guide.quality=0.9) |' "$TMP/aq/final.md" || return 1
  [ -s "$TMP/aq/fig_final_vs_guide_quality.svg" ] && [ -s "$TMP/aq/fig_final_vs_guide_quality.png" ] &&
    [ "$(grep -c '^0\.[59] ' "$TMP/aq/final_vs_guide_quality.dat")" -eq 4 ]
}
check group-by-guide-quality quality

# --last K and --seed change what they should; --help documents every option
last_k() {
  $RLGF analyze "$R"/ppo-s?.h5 -o "$TMP/a6" --no-plots --last 2 --seed 7 --reps 500 >/dev/null 2>&1 || return 1
  [ "$(csv_field "$TMP/a6/final.csv" ppo reward last_k)" = 2 ] || return 1
  # mean of the last 2 evaluations of each run = mean of the curve's last two means (equal n_runs)
  want=$(awk -F, '$1 == "ppo" && $2 == "reward" && ($3 == 2 || $3 == 3) { s += $6 } END { printf "%.6f", s / 2 }' "$A1/curves.csv")
  got=$(printf '%.6f' "$(csv_field "$TMP/a6/final.csv" ppo reward mean)")
  [ "$want" = "$got" ] || { echo "$want != $got"; return 1; }
}
check last-k last_k
help_text() {
  out=$($RLGF analyze --help) || return 1
  for w in -o --last --seed --reps --include-incomplete --no-plots curves.csv final.csv prob_improvement.csv \
           profiles.csv final.md final.tex fig_tradeoff IQM bootstrap gnuplot; do
    echo "$out" | grep -q -- "$w" || { echo "--help lacks $w"; return 1; }
  done
}
check help help_text
expect_fail no-output-dir 'no output directory' $RLGF analyze "$R"
expect_fail nothing-usable 'no usable run logs' $RLGF analyze "$B/garbage.h5" -o "$TMP/a7"
expect_fail bad-option 'unknown option' $RLGF analyze "$R" -o "$TMP/a8" --bogus
