# The command line: help and errors.
. tests/lib.sh
check help "$RLGF" --help
expect_fail unknown-command "unknown command 'frobnicate'" "$RLGF" frobnicate

# rlgf bench: both thread counts (interleaved; exit 0 only if they end with the same weights), the
# medians of --reps iterations, the line tools/bench.sh reads
if $RLGF bench configs/imdb_small.ini --reps 3 >$TMP/bench 2>$TMP/bench.err && grep -q '^1 ' $TMP/bench \
   && grep -q '^2 .*vs 1 thread' $TMP/bench && grep -q 'medians of 3 iterations' $TMP/bench \
   && grep -q 'interleaved, each rep from the same weights' $TMP/bench \
   && [ "$(grep -c '^BENCH threads=[12] .*iteration_s=' $TMP/bench.err)" = 2 ]; then ok bench
else fail bench "$(head -5 $TMP/bench $TMP/bench.err)"; fi
expect_fail bench-threads "needs a thread count from 1 to 256" "$RLGF" bench configs/imdb_small.ini --threads 0

# every algorithm runs end to end on IMDB-sim and its run log passes `rlgf info`, which shows the
# guide's and pi_ref's evaluation rows
for a in sl ppo ppopp aggrevated lols d2lols; do
  check "train-$a" $RLGF train configs/imdb_small.ini algo=$a cache_dir=$TMP/cache out=$TMP/$a.h5 --quiet
  if $RLGF info $TMP/$a.h5 > $TMP/info 2>&1 && grep -q "complete:  *yes" $TMP/info && grep -q " guide " $TMP/info \
     && grep -q "pi_ref" $TMP/info; then ok "info-$a"; else fail "info-$a" "$(head -3 $TMP/info)"; fi
done
# the critic-free algorithms, with a group of 2 completions per prompt, unguided and guided
for a in grpo rloo reinforce remax guidebase; do
  check "train-$a" $RLGF train configs/imdb_small.ini algo=$a group.size=2 cache_dir=$TMP/cache out=$TMP/$a.h5 --quiet
  check "train-$a-guided" $RLGF train configs/imdb_small.ini algo=$a group.size=2 beta=0.6 cache_dir=$TMP/cache out=$TMP/$a-g.h5 --quiet
done
expect_fail group-not-dividing "trajectories = 8 is not a multiple of group.size = 3" $RLGF train configs/imdb_small.ini algo=grpo group.size=3
[ -f $TMP/ppo.policy.h5 ] && ok final-policy-saved || fail final-policy-saved "no $TMP/ppo.policy.h5"
# a saved policy serves as a guide
check checkpoint-guide $RLGF train configs/imdb_small.ini algo=ppopp guide.type=checkpoint guide.path=$TMP/ppo.policy.h5 cache_dir=$TMP/cache out=$TMP/ck.h5 --quiet
expect_fail guide-missing-path "guide.type = checkpoint needs guide.path" $RLGF train configs/imdb_small.ini guide.type=checkpoint
expect_fail guide-bad-file "guide.path.*nope.h5" $RLGF train configs/imdb_small.ini cache_dir=$TMP/cache out=$TMP/x.h5 guide.path=$TMP/nope.h5
check config-list-has-guide sh -c "$RLGF config --list | grep -q guide.quality"

# the other two tasks run end to end with PPO and a guided algorithm
for t in commongen tldr; do
  for a in ppo ppopp; do
    check "train-$t-$a" $RLGF train configs/${t}_small.ini algo=$a cache_dir=$TMP/cache out=$TMP/$t-$a.h5 --quiet
  done
done
