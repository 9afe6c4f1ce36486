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
# The model's reference shape (2 layers, head size 8: the kernels' unrolled vector paths, a
# non-last layer and the target-NLL pass keeping prompt rows) has its own golden digest.
shape="model.layers=2 model.channels=32"
golden2=$(cat tests/golden/imdb_small_l2c32.digest)
for th in 1 2; do
  check run-shape-t$th $RLGF train $small $shape out=$TMP/s$th.h5 threads=$th
  ds=$($RLGF digest $TMP/s$th.h5 | cut -d' ' -f1)
  [ "$ds" = "$golden2" ] && ok golden-digest-l2c32-threads$th || fail golden-digest-l2c32-threads$th "got $ds, golden $golden2"
done
check run-shape-simd-base env RLGF_SIMD=base $RLGF train $small $shape out=$TMP/s3.h5
ds=$($RLGF digest $TMP/s3.h5 | cut -d' ' -f1)
[ "$ds" = "$golden2" ] && ok golden-digest-l2c32-simd-base || fail golden-digest-l2c32-simd-base "got $ds, golden $golden2"
# The kernels' AVX2 build and the SSE2 baseline give the same bits (fixed-width vectors, no FMA).
check run-simd-base env RLGF_SIMD=base $RLGF train $small out=$TMP/e.h5
de=$($RLGF digest $TMP/e.h5 | cut -d' ' -f1)
[ "$da" = "$de" ] && ok simd-baseline-same-digest || fail simd-baseline-same-digest "RLGF_SIMD=base: $de != $da"
# More blocks than threads in every phase (generation, scoring, 2 update blocks per minibatch, SL):
# threads=1 and 2 still give the same bytes.
multi="trajectories=32 ppo.minibatch=16 eval.prompts=24 sl.batch=24"
check run-blocks-t1 $RLGF train $small $multi out=$TMP/f1.h5
check run-blocks-t2 $RLGF train $small $multi out=$TMP/f2.h5 threads=2
d1=$($RLGF digest $TMP/f1.h5 | cut -d' ' -f1)
d2=$($RLGF digest $TMP/f2.h5 | cut -d' ' -f1)
[ -n "$d1" ] && [ "$d1" = "$d2" ] && ok blocks-threads-same-digest || fail blocks-threads-same-digest "$d1 != $d2"
check info $RLGF info $TMP/a.h5
grep -q "complete" "$TMP/out" && ok info-says-complete || fail info-says-complete "$(head -5 $TMP/out)"
check h5dump-reads h5dump -H $TMP/a.h5
