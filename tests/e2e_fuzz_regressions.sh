# Inputs the fuzzers found (tests/fuzz/regressions/): each must now end in a clean error or a
# normal result, never a crash. Run logs go through `rlgf info` and `rlgf digest`; score inputs are
# split at the first 0xFF byte into the hypothesis and references files, as the harness does.
. tests/lib.sh
for f in tests/fuzz/regressions/runlog/*; do
  [ -e "$f" ] || continue
  for cmd in info digest; do
    $RLGF $cmd "$f" >/dev/null 2>$TMP/err; rc=$?
    [ $rc -eq 1 ] && grep -q "$(basename $f)" $TMP/err && ok "runlog-$cmd-$(basename $f | cut -c1-14)" \
      || fail "runlog-$cmd-$(basename $f)" "exit $rc: $(head -2 $TMP/err)"
  done
done
for f in tests/fuzz/regressions/score/*; do
  [ -e "$f" ] || continue
  python3 -c "import sys; d=open(sys.argv[1],'rb').read(); i=d.find(b'\xff'); open(sys.argv[2],'wb').write(d if i<0 else d[:i]); open(sys.argv[3],'wb').write(b'' if i<0 else d[i+1:])" "$f" $TMP/h $TMP/r
  $RLGF score --hyp $TMP/h --refs $TMP/r --per-line >/dev/null 2>$TMP/err; rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 2 ] && ok "score-$(basename $f | cut -c1-14)" || fail "score-$(basename $f)" "exit $rc: $(head -2 $TMP/err)"
done
