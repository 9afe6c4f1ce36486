# paper/appendix.sh, the reproducibility appendix, on a real two-run sweep: every run's digest and
# overrides in digests.tsv, and a CPU cost that counts all of a resumed run's iterations (the
# manifest's cpu_s sees only the process that finished it; the run log's /timing/cpu_seconds keeps
# a row for every iteration, those before the checkpoint included).
. tests/lib.sh
spec=$TMP/app.ini
printf '[sweep]\nbase = configs/imdb_small.ini\nout_dir = %s\nset = iterations=40, checkpoint.every=2, log.timing=true, cache_dir=%s\n[axes]\nseed = 0, 1\n' \
  $TMP/app $TMP/cache > $spec
# seed 1 dies by SIGKILL after iteration 37 (its last checkpoint is after iteration 36); --resume
# finishes it in a process that runs 3 iterations: its cpu_s is less than its 40 logged ones
check sweep-seed0 $RLGF sweep $spec --task 0
RLGF_KILL_AFTER=37 $RLGF sweep $spec --jobs 1 --resume >/dev/null 2>&1
check sweep-resume $RLGF sweep $spec --jobs 1 --resume
grep -q "continuing from its checkpoint" $TMP/out && ok resumed-from-checkpoint || fail resumed-from-checkpoint "$(cat $TMP/out)"

# the logged CPU column: one row per iteration, each a positive number
rows() { h5dump -d /timing/$2 "$TMP/app/seed=$1.h5" | awk '/DATA \{/ { d = 1; next } d && /\}/ { d = 0 } d { sub(/^[^:]*:/, ""); n = split($0, x, ","); for (i = 1; i <= n; i++) if (x[i] ~ /[0-9]/) print x[i] + 0 }'; }
for s in 0 1; do
  [ "$(rows $s cpu_seconds | awk '$1 > 0' | wc -l)" = 40 ] && ok "cpu-seconds-rows-$s" || fail "cpu-seconds-rows-$s" "$(rows $s cpu_seconds | tr '\n' ' ')"
done

check appendix sh paper/appendix.sh $TMP $TMP/build app
[ "$(tail -n +2 $TMP/digests.tsv | wc -l)" = 2 ] && ok digests-two-runs || fail digests-two-runs "$(cat $TMP/digests.tsv)"
# every digest in digests.tsv is the run's own
for s in 0 1; do
  want=$($RLGF digest $TMP/app/seed=$s.h5 | cut -d' ' -f1)
  got=$(awk -F'\t' -v r="seed=$s" '$2 == r { print $3 }' $TMP/digests.tsv)
  [ -n "$want" ] && [ "$got" = "$want" ] && ok "digest-$s" || fail "digest-$s" "$got != $want"
done
cpu_of() { awk -F'\t' -v r="seed=$1" '$2 == r { print $5 }' $TMP/digests.tsv; }
manifest_cpu() { awk -F'\t' -v r="seed=$1" '$1 == r { print $7 }' $TMP/app/manifest.tsv; }
logged() { rows $1 cpu_seconds | awk '{ t += $1 } END { printf "%.3f", t }'; }
# the uninterrupted run: its process's CPU (SL and the start evaluations included) is at least
# what its iterations logged, and is what the appendix reports
awk -v c="$(cpu_of 0)" -v m="$(manifest_cpu 0)" -v l="$(logged 0)" 'BEGIN { exit !(c == m && m + 0 >= l + 0) }' \
  && ok cpu-uninterrupted || fail cpu-uninterrupted "appendix $(cpu_of 0), manifest $(manifest_cpu 0), logged $(logged 0)"
# the resumed run: its logged iterations, more than the manifest's last process
awk -v c="$(cpu_of 1)" -v m="$(manifest_cpu 1)" -v l="$(logged 1)" 'BEGIN { exit !(c == l && l + 0 > m + 0) }' \
  && ok cpu-resumed || fail cpu-resumed "appendix $(cpu_of 1), manifest $(manifest_cpu 1), logged $(logged 1)"
grep -q '^all runs & 2 & [0-9]' $TMP/build/appendix_cost.tex && ok cost-table || fail cost-table "$(grep 'all runs' $TMP/build/appendix_cost.tex)"

# a run log without /timing (here only its /eval group; as from an older rlgf or log.timing=false):
# the manifest's figure stands
printf 'run\toverrides\tstatus\texit_code\twall_s\tdigest\tcpu_s\nseed=0\tseed=0\tok\t0\t1.5\tabc\t7.25\n' > $TMP/old.tsv
mkdir -p $TMP/old/s && cp $TMP/old.tsv $TMP/old/s/manifest.tsv && h5copy -i $TMP/app/seed=0.h5 -o $TMP/old/s/seed=0.h5 -s /eval -d /eval
check appendix-old-log sh paper/appendix.sh $TMP/old $TMP/oldbuild s
[ "$(awk -F'\t' 'NR == 2 { print $5 }' $TMP/old/digests.tsv)" = 7.25 ] && ok cpu-old-log || fail cpu-old-log "$(cat $TMP/old/digests.tsv)"
expect_fail appendix-missing-manifest "missing .*nope/manifest.tsv" sh paper/appendix.sh $TMP $TMP/build nope
# and its wall time: at least its logged iterations' (the manifest's wall_s is the last process's)
wall1=$(awk -F'\t' '$2 == "seed=1" { print $4 }' $TMP/digests.tsv)
awk -v w="$wall1" -v l="$(rows 1 iteration_seconds | awk '{ t += $1 } END { print t }')" 'BEGIN { exit !(w + 0 >= l - 0.001) }' \
  && ok wall-resumed || fail wall-resumed "appendix $wall1 s"
