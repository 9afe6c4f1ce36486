# The cost of a resumed run, from `rlgf sweep`'s manifest to paper/appendix.sh's tables: a run
# continued from its checkpoint is charged its earlier processes (the manifest adds the failed
# row's wall_s and cpu_s), or, when those are unknown (the sweep itself was killed), the manifest
# says "-" and the appendix uses the run log's /timing sums marked as lower bounds. Plus
# digests.tsv (every run's own digest) and a log without /timing.
. tests/lib.sh
spec=$TMP/app.ini
printf '[sweep]\nbase = configs/imdb_small.ini\nout_dir = %s\nset = iterations=40, checkpoint.every=2, log.timing=true, cache_dir=%s\n[axes]\nseed = 0, 1, 2\n' \
  $TMP/app $TMP/cache > $spec
M=$TMP/app/manifest.tsv
col() { awk -F'\t' -v r="seed=$2" -v c=$3 '$1 == r { print $c }' "$1"; } # manifest run column
# seed 0 runs uninterrupted. Seeds 1 and 2 die by SIGKILL after their 38th iteration (the last
# checkpoint is after the 36th): the sweep records them as failed with their processes' figures.
check sweep-seed0 $RLGF sweep $spec --task 0
RLGF_KILL_AFTER=37 $RLGF sweep $spec --jobs 1 --resume >/dev/null 2>&1
[ "$(col $M 1 3)" = failed ] && [ "$(col $M 1 4)" = 137 ] && ok killed-row || fail killed-row "$(cat $M)"
killed_cpu=$(col $M 1 7); killed_wall=$(col $M 1 5)
# seed 2 as a killed sweep leaves it: "running", figures unknown
awk -F'\t' 'BEGIN { OFS = "\t" } $1 == "seed=2" { $3 = "running"; $4 = "-"; $5 = "-"; $7 = "-" } { print }' $M > $M.x && mv $M.x $M
check sweep-resume $RLGF sweep $spec --jobs 1 --resume
[ "$(grep -c 'continuing from its checkpoint' $TMP/out)" = 2 ] && ok resumed-from-checkpoint || fail resumed-from-checkpoint "$(cat $TMP/out)"

# the logged CPU column: one row per iteration, each a positive number
rows() { h5dump -d /timing/$2 "$TMP/app/seed=$1.h5" | awk '/DATA \{/ { d = 1; next } d && /\}/ { d = 0 } d { sub(/^[^:]*:/, ""); n = split($0, x, ","); for (i = 1; i <= n; i++) if (x[i] ~ /[0-9]/) print x[i] + 0 }'; }
logged() { rows $1 $2 | awk '{ t += $1 } END { printf "%.3f", t }'; }
for s in 0 1 2; do
  [ "$(rows $s cpu_seconds | awk '$1 > 0' | wc -l)" = 40 ] && ok "cpu-seconds-rows-$s" || fail "cpu-seconds-rows-$s" "$(rows $s cpu_seconds | tr '\n' ' ')"
done
# the manifest: seed 1 is charged the killed process and the resumed one (more than either, and
# more than its 40 logged iterations); seed 2's earlier process is unknown, so its figures are "-"
awk -v c="$(col $M 1 7)" -v k="$killed_cpu" -v w="$(col $M 1 5)" -v kw="$killed_wall" -v l="$(logged 1 cpu_seconds)" \
  'BEGIN { exit !(k > 0 && c > k && w > kw && c + 0.005 >= l) }' \
  && ok manifest-carries-killed-process || fail manifest-carries-killed-process "cpu $(col $M 1 7) (killed $killed_cpu), wall $(col $M 1 5) (killed $killed_wall), logged $(logged 1 cpu_seconds)"
[ "$(col $M 2 3)" = ok ] && [ "$(col $M 2 5)" = - ] && [ "$(col $M 2 7)" = - ] && ok manifest-unknown-is-dash \
  || fail manifest-unknown-is-dash "$(grep seed=2 $M)"

check appendix sh paper/appendix.sh $TMP $TMP/build app
D=$TMP/digests.tsv
[ "$(tail -n +2 $D | wc -l)" = 3 ] && ok digests-three-runs || fail digests-three-runs "$(cat $D)"
for s in 0 1 2; do
  want=$($RLGF digest $TMP/app/seed=$s.h5 | cut -d' ' -f1)
  got=$(awk -F'\t' -v r="seed=$s" '$2 == r { print $3 }' $D)
  [ -n "$want" ] && [ "$got" = "$want" ] && ok "digest-$s" || fail "digest-$s" "$got != $want"
done
dcol() { awk -F'\t' -v r="seed=$1" -v c=$2 '$2 == r { print $c }' $D; } # digests.tsv: 4 wall, 5 cpu, 7 lower bound
# seeds 0 and 1: the manifest's figures, not lower bounds
for s in 0 1; do
  [ "$(dcol $s 5)" = "$(col $M $s 7)" ] && [ "$(dcol $s 4)" = "$(col $M $s 5)" ] && [ "$(dcol $s 7)" = 0 ] \
    && ok "appendix-manifest-figures-$s" || fail "appendix-manifest-figures-$s" "$(grep "seed=$s" $D | cut -f4,5,7)"
done
# seed 2: the log's sums, marked as lower bounds, in digests.tsv and in both tables
[ "$(dcol 2 5)" = "$(logged 2 cpu_seconds)" ] && [ "$(dcol 2 4)" = "$(logged 2 iteration_seconds)" ] && [ "$(dcol 2 7)" = 1 ] \
  && ok appendix-logged-lower-bound || fail appendix-logged-lower-bound "$(grep seed=2 $D | cut -f4,5,7); logged $(logged 2 cpu_seconds)"
grep -q 'seed=2} & .* & $\\geq$[0-9]* & $\\geq$[0-9]* \\\\' $TMP/build/appendix_runs.tex && ok runs-table-marks-lower-bound \
  || fail runs-table-marks-lower-bound "$(grep 'seed=2' $TMP/build/appendix_runs.tex)"
grep -q '^all runs & 3 & \$\\geq\$[0-9.]* & \$\\geq\$[0-9.]* & ' $TMP/build/appendix_cost.tex && ok cost-table-marks-lower-bound \
  || fail cost-table-marks-lower-bound "$(grep 'all runs' $TMP/build/appendix_cost.tex)"
grep -qF '\newcommand{\CostLowerBoundRuns}{1}' $TMP/build/cost.tex && ok cost-lower-bound-count || fail cost-lower-bound-count "$(cat $TMP/build/cost.tex)"

# a log with /timing/iteration_seconds but no cpu_seconds (an older rlgf): the manifest's CPU stands
printf 'run\toverrides\tstatus\texit_code\twall_s\tdigest\tcpu_s\nseed=0\tseed=0\tok\t0\t99.5\tabc\t7.25\n' > $TMP/old.tsv
mkdir -p $TMP/old/s && cp $TMP/old.tsv $TMP/old/s/manifest.tsv
h5copy -i $TMP/app/seed=0.h5 -o $TMP/old/s/seed=0.h5 -s /timing/iteration_seconds -d /timing/iteration_seconds -p
check appendix-old-log sh paper/appendix.sh $TMP/old $TMP/oldbuild s
[ "$(awk -F'\t' 'NR == 2 { print $4, $5, $7 }' $TMP/old/digests.tsv)" = "99.5 7.25 0" ] && ok old-log-manifest-figures \
  || fail old-log-manifest-figures "$(cat $TMP/old/digests.tsv)"
grep -qF '\newcommand{\CostLowerBoundRuns}{0}' $TMP/oldbuild/cost.tex && ok old-log-no-lower-bound || fail old-log-no-lower-bound "$(cat $TMP/oldbuild/cost.tex)"
expect_fail appendix-missing-manifest "missing .*nope/manifest.tsv" sh paper/appendix.sh $TMP $TMP/build nope
