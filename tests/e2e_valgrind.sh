# The end-to-end path (SL, D2LOLS with both critics and both modes, checkpoints, evaluations, run
# log, digest) runs clean under valgrind memcheck at a tiny size: no invalid access, no use of
# uninitialised values, no definite or indirect leak.
. tests/lib.sh
command -v valgrind >/dev/null || { echo "skip valgrind (not installed)"; exit 0; }
vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
check valgrind-train $vg $RLGF train configs/imdb_small.ini iterations=2 trajectories=4 ppo.minibatch=2 \
  eval.prompts=2 eval.test_prompts=2 algo=d2lols tau=1 checkpoint.every=1 out=$TMP/vg.h5 cache_dir=$TMP/cache --quiet
check valgrind-digest $vg $RLGF digest $TMP/vg.h5
check valgrind-info $vg $RLGF info $TMP/vg.h5
