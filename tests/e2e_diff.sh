# rlgf diff: identical runs are equal (exit 0, also across thread counts and with timing logged);
# runs that differ in one key name the key and the first differing iteration, trajectory, token
# and dataset (exit 1); a killed-and-resumed run equals its uninterrupted twin (exit 0); --tol;
# bad input exits 2 with a message naming the file. (The 1-ulp and NaN cases of --tol are in
# tests/test_diff.c, on hand-made logs.)
. tests/lib.sh
# diff_rc NAME WANT CMD...: CMD must exit WANT; its stdout is kept in $TMP/diff.out
diff_rc() {
  local name=$1 want=$2; shift 2
  "$@" >$TMP/diff.out 2>$TMP/diff.err; local rc=$?
  [ $rc -eq $want ] && ok "$name" || fail "$name" "exit $rc, expected $want: $(head -3 $TMP/diff.err)"
}
# has NAME PATTERN: the last diff's stdout matches PATTERN (extended regex)
has() {
  grep -qE -- "$2" $TMP/diff.out && ok "$1" || fail "$1" "output lacks /$2/: $(head -30 $TMP/diff.out)"
}
# bad NAME PATTERN CMD...: exit 2 and PATTERN on stderr
bad() {
  local name=$1 pattern=$2; shift 2
  "$@" >/dev/null 2>$TMP/diff.err; local rc=$?
  [ $rc -eq 2 ] && grep -qE -- "$pattern" $TMP/diff.err && { ok "$name"; echo "   -> $(head -1 $TMP/diff.err)"; } \
    || fail "$name" "exit $rc (expected 2), stderr: $(head -2 $TMP/diff.err)"
}

base="configs/imdb_small.ini iterations=2 cache_dir=$TMP/cache --quiet"
check run-a $RLGF train $base out=$TMP/a.h5
check run-b-threads-2 $RLGF train $base threads=2 log.timing=true out=$TMP/b.h5
check run-lr $RLGF train $base ppo.lr=0.002 out=$TMP/lr.h5
check run-seed $RLGF train $base seed=1 out=$TMP/seed.h5

diff_rc identical-exit-0 0 $RLGF diff $TMP/a.h5 $TMP/b.h5
has identical-says-equal "^result: equal \(bitwise\)"
has identical-config-equal "^config: equal"

diff_rc lr-exit-1 1 $RLGF diff $TMP/a.h5 $TMP/lr.h5
echo "   -> $(grep -A1 '^config:' $TMP/diff.out | tail -1)"
has lr-config-key "^config: 1 key differs"
has lr-config-values "^  ppo.lr  A: '0.001'   B: '0.002'"
# the learning rate first shows in iteration 0's update; the first token that differs is sampled
# by the updated policy at the evaluation after iteration 0
has lr-first-difference "^  /iterations/lr at iteration 0 \(row 0\)"
has lr-first-token "^  /trajectories/token at evaluation at iteration 1 \(validation split, learner\), trajectory [0-9]+ of 8 \(row [0-9]+\), prompt [0-9]+, token [0-9]+"
has lr-values-full-precision "A: 0.0010000000474974513 \(0x1.0624dep-10\)"
has lr-table "^  /trajectories/token +[0-9]+ +512 "
has lr-result "^result: A and B differ"

diff_rc seed-exit-1 1 $RLGF diff $TMP/a.h5 $TMP/seed.h5 --max 2
has seed-config-key "^  seed  A: '0'   B: '1'"
has seed-attribute "^  seed +A: 0   B: 1"
has seed-first-token "^  /trajectories/token at evaluation at iteration 0 \(validation split, learner\), trajectory 0 of 8 \(row 0\), prompt 0, token 0 \(token row 0\)"
has seed-max-2 "^first differences in run order \(2 of [0-9]+ differing elements\)"

# a run killed after iteration 2 and resumed against the uninterrupted run; the partial file of
# the killed run against it differs in 'complete' and in the rows it lacks
long="configs/imdb_small.ini iterations=4 checkpoint.every=2 cache_dir=$TMP/cache --quiet"
check run-full $RLGF train $long out=$TMP/full.h5
( RLGF_KILL_AFTER=2 $RLGF train $long out=$TMP/k.h5 ) >/dev/null 2>&1 # (a subshell: no "Killed" notice)
cp $TMP/k.h5.partial $TMP/killed.h5 2>/dev/null
check resume $RLGF train $long out=$TMP/k.h5 --resume
diff_rc resumed-twin-exit-0 0 $RLGF diff $TMP/full.h5 $TMP/k.h5
has resumed-twin-equal "^result: equal \(bitwise\)"
diff_rc killed-partial-exit-1 1 $RLGF diff $TMP/full.h5 $TMP/killed.h5
has killed-complete "^  complete  A: 1   B: 0"
has killed-rows "rows: A has 4 iterations, [0-9]+ trajectories, [0-9]+ tokens, [0-9]+ evaluations; B has 3,"
has killed-first "^  /trajectories/token at iteration 3, training batch, trajectory 0 of 8 .*token 0"

# --tol: equal runs stay equal, a differing config still differs, floats within the tolerance pass
diff_rc tol-identical 0 $RLGF diff $TMP/a.h5 $TMP/b.h5 --tol 1e-6,1e-12
has tol-says-within "^result: equal within --tol"
diff_rc tol-config-still-differs 1 $RLGF diff $TMP/a.h5 $TMP/lr.h5 --tol 10
has tol-no-float-row "^  /iterations/lr +0 +2 "
has tol-tokens-exact "^  /trajectories/token +[1-9][0-9]* +512 "

# bad input: exit 2, the file named
bad missing-file "nope.h5" $RLGF diff $TMP/a.h5 $TMP/nope.h5
echo "not hdf5" >$TMP/garbage.h5
bad garbage-file "garbage.h5.*not an HDF5 file" $RLGF diff $TMP/garbage.h5 $TMP/a.h5
head -c 20000 $TMP/a.h5 >$TMP/truncated.h5
bad truncated-file "truncated.h5" $RLGF diff $TMP/a.h5 $TMP/truncated.h5
sl=$(ls $TMP/cache/*.h5 | head -1)
bad not-a-run-log "$(basename $sl).*not an rlgf run log" $RLGF diff $TMP/a.h5 $sl
bad directory "is a directory" $RLGF diff $TMP $TMP/a.h5
bad one-argument "usage: rlgf diff" $RLGF diff $TMP/a.h5
bad bad-tol "--tol 'abc'" $RLGF diff $TMP/a.h5 $TMP/b.h5 --tol abc
bad bad-max "--max '0'" $RLGF diff $TMP/a.h5 $TMP/b.h5 --max 0
bad unknown-option "unknown option '--fast'" $RLGF diff $TMP/a.h5 $TMP/b.h5 --fast
for f in tests/fuzz/regressions/runlog/*; do
  [ -e "$f" ] || continue
  bad "fuzz-$(basename $f | cut -c1-14)" "$(basename $f)" $RLGF diff $TMP/a.h5 "$f"
done
$RLGF diff --help >$TMP/diff.out 2>&1 && grep -q -- "--tol REL\[,ABS\]" $TMP/diff.out && grep -q "exit status" $TMP/diff.out \
  && ok help || fail help "$(head -3 $TMP/diff.out)"
