# Full disk: under a file-size limit (ulimit -f) a run stops with a clear message naming the file
# and the cause and a non-zero exit, and the partial log stays readable with every iteration it
# completed (rlgf checks the room before each iteration: HDF5 flushes are not atomic).
. tests/lib.sh
run() { (ulimit -f 2048; exec $RLGF train configs/imdb_small.ini iterations=300 trajectories=32 \
         checkpoint.every=0 save_policy=false cache_dir=$TMP/cache out=$TMP/full.h5 --quiet); }
$RLGF train configs/imdb_small.ini iterations=1 cache_dir=$TMP/cache out=$TMP/warm.h5 --quiet  # SL cache
run 2>$TMP/err; rc=$?
echo "   -> $(head -c 300 $TMP/err)"
[ $rc -ne 0 ] && ok limit-nonzero-exit || fail limit-nonzero-exit "exit 0"
grep -q "full.h5.partial' would grow past the file-size limit" $TMP/err && ok limit-message || fail limit-message "$(cat $TMP/err)"
[ ! -e $TMP/full.h5 ] && ok no-complete-file || fail no-complete-file "full.h5 exists"
if $RLGF info $TMP/full.h5.partial > $TMP/info 2>&1; then ok partial-readable; else fail partial-readable "$(head -3 $TMP/info)"; fi
n=$(sed -n 's/^iterations: *\([0-9]*\).*/\1/p' $TMP/info)
echo "   partial log: $(grep complete $TMP/info | tr -s ' '), $n iterations, $(stat -c %s $TMP/full.h5.partial) bytes"
[ -n "$n" ] && [ "$n" -gt 10 ] && [ "$n" -lt 300 ] && ok partial-has-iterations || fail partial-has-iterations "iterations: $n"
check partial-h5dump h5dump -d /iterations/reward $TMP/full.h5.partial
