# Checkpoint and resume: a run killed by SIGKILL at several points and resumed with --resume ends
# with the same run log as an uninterrupted run (same digest, and the same bytes).
. tests/lib.sh
base="configs/imdb_small.ini iterations=7 checkpoint.every=2 cache_dir=$TMP/cache --quiet"
check uninterrupted $RLGF train $base out=$TMP/full.h5
want=$($RLGF digest $TMP/full.h5 | cut -d' ' -f1)
for k in 0 1 2 3 5; do
  RLGF_KILL_AFTER=$k $RLGF train $base out=$TMP/k$k.h5 >/dev/null 2>&1
  rc=$?
  [ $rc -eq 137 ] && [ ! -e $TMP/k$k.h5 ] && [ -e $TMP/k$k.h5.partial ] && ok "killed-after-$k" \
    || fail "killed-after-$k" "exit $rc, files: $(ls $TMP | tr '\n' ' ')"
  check "partial-readable-$k" h5dump -H $TMP/k$k.h5.partial
  check "resume-$k" $RLGF train $base out=$TMP/k$k.h5 --resume
  got=$($RLGF digest $TMP/k$k.h5 2>/dev/null | cut -d' ' -f1)
  [ -n "$got" ] && [ "$got" = "$want" ] && ok "same-digest-$k" || fail "same-digest-$k" "$got != $want"
  cmp -s $TMP/full.h5 $TMP/k$k.h5 && ok "same-bytes-$k" || fail "same-bytes-$k" "files differ (digests equal: $([ "$got" = "$want" ] && echo yes || echo no))"
  [ ! -e $TMP/k$k.resume.h5 ] && ok "resume-point-removed-$k" || fail "resume-point-removed-$k" "$TMP/k$k.resume.h5 left"
done
# resuming a complete run does nothing; a changed config is refused
check resume-complete $RLGF train $base out=$TMP/full.h5 --resume
RLGF_KILL_AFTER=3 $RLGF train $base out=$TMP/cfg.h5 >/dev/null 2>&1
expect_fail resume-other-config "another config" $RLGF train $base out=$TMP/cfg.h5 ppo.lr=0.5 --resume
# kills at arbitrary moments (mid-iteration, mid-checkpoint, mid-flush): whenever the kill lands,
# resuming gives the uninterrupted run's digest
long="configs/imdb_small.ini iterations=40 checkpoint.every=3 cache_dir=$TMP/cache --quiet"
check uninterrupted-long $RLGF train $long out=$TMP/long.h5
want=$($RLGF digest $TMP/long.h5 | cut -d' ' -f1)
for delay in 0.4 0.9 1.5; do
  timeout -s KILL $delay $RLGF train $long out=$TMP/t$delay.h5 >/dev/null 2>&1
  echo "   killed after ${delay}s: $(ls $TMP | grep "^t$delay" | tr '\n' ' ')"
  check "resume-after-${delay}s" $RLGF train $long out=$TMP/t$delay.h5 --resume
  got=$($RLGF digest $TMP/t$delay.h5 2>/dev/null | cut -d' ' -f1)
  [ "$got" = "$want" ] && ok "same-digest-after-${delay}s" || fail "same-digest-after-${delay}s" "$got != $want"
  cmp -s $TMP/long.h5 $TMP/t$delay.h5 && ok "same-bytes-after-${delay}s" || fail "same-bytes-after-${delay}s" "files differ"
done
