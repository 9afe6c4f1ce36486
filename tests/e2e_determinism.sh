# The determinism contract: same config and seed => byte-identical run log; threads=1 and
# threads=2 => the same digest; a committed golden digest pins the bits of a small config.
. tests/lib.sh
small="configs/imdb_small.ini cache_dir=$TMP/cache --quiet"
check run-a $RLGF train $small out=$TMP/a.h5
check run-b $RLGF train $small out=$TMP/b.h5
check run-threads2 $RLGF train $small out=$TMP/c.h5 threads=2
check run-timing $RLGF train $small out=$TMP/d.h5 log.timing=true
if cmp -s $TMP/a.h5 $TMP/b.h5; then ok byte-identical-files; else fail byte-identical-files "a.h5 and b.h5 differ"; fi
da=$($RLGF digest $TMP/a.h5 | cut -d' ' -f1)
dc=$($RLGF digest $TMP/c.h5 | cut -d' ' -f1)
dd=$($RLGF digest $TMP/d.h5 | cut -d' ' -f1)
echo "   digest threads=1: $da"
echo "   digest threads=2: $dc"
[ -n "$da" ] && [ "$da" = "$dc" ] && ok threads-same-digest || fail threads-same-digest "$da != $dc"
[ "$da" = "$dd" ] && ok timing-outside-digest || fail timing-outside-digest "timing changed the digest"
golden=$(cat tests/golden/imdb_small.digest)
[ "$da" = "$golden" ] && ok golden-digest || fail golden-digest "got $da, golden $golden (regenerate only on purpose: tests/golden/README.md)"
check info $RLGF info $TMP/a.h5
grep -q "complete" "$TMP/out" && ok info-says-complete || fail info-says-complete "$(head -5 $TMP/out)"
check h5dump-reads h5dump -H $TMP/a.h5
