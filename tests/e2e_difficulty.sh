# The difficulty knobs end to end: the SL policy's validation reward falls as imdb.threshold
# rises (the documented direction), the other metrics do not move, the SL checkpoint is shared
# across thresholds (trained once), and bad values are refused naming key and value. And the
# reference's guide sampling (guide.top_p_mass=top_k) reaches the guide: its samples change,
# and without top-k the two rules are one.
. tests/lib.sh
C=$TMP/cache
sl_run() { $RLGF train configs/imdb_small.ini algo=sl eval.prompts=64 eval.test_prompts=0 save_policy=false \
             cache_dir=$C imdb.threshold=$1 out=$TMP/t$1.h5 2>&1; }
sl_run 0 > $TMP/o0
check "threshold 0: SL trained once" grep -q "SL: training" $TMP/o0
sl_run 0.5 > $TMP/o5; sl_run 0.8 > $TMP/o8
check "threshold .5, .8: the same SL checkpoint from the cache" bash -c "! grep -q 'SL: training' $TMP/o5 && ! grep -q 'SL: training' $TMP/o8"
# the learner's iteration-0 validation row of `rlgf info`'s eval table: reward_mean is column 4,
# true_sentiment_mean column 9
row() { $RLGF info $TMP/t$1.h5 | awk '$1 == 0 && $2 == "validation" && $3 == "learner" { print $'$2' }'; }
r0=$(row 0 4); r5=$(row 0.5 4); r8=$(row 0.8 4)
echo "   SL validation reward at t = 0, .5, .8: $r0 $r5 $r8"
check "the SL policy's reward falls as the threshold rises" awk -v a="$r0" -v b="$r5" -v c="$r8" 'BEGIN { exit !(a > b && b > c && c >= 0) }'
check "true sentiment does not move" test "$(row 0 9)" = "$(row 0.8 9)"
expect_fail "imdb.threshold = 1 is refused" "imdb.threshold.*'1'.*\[0, 0.99\]" $RLGF config configs/imdb_small.ini imdb.threshold=1
expect_fail "a knob of another task is refused" "tldr.min_coverage = 0.5 is the difficulty of task = tldr only \(task = imdb\)" \
  $RLGF config configs/imdb_small.ini tldr.min_coverage=0.5
expect_fail "commongen.min_coverage = 2 is refused" "commongen.min_coverage.*'2'" $RLGF config configs/commongen.ini commongen.min_coverage=2
expect_fail "guide.top_p_mass takes full or top_k" "guide.top_p_mass.*'topk'.*full \| top_k" $RLGF config configs/imdb_small.ini guide.top_p_mass=topk
# the guide's evaluation row (who = guide) under both top-p rules
g() { $RLGF train configs/imdb_small.ini algo=sl guide.quality=0 eval.prompts=64 eval.test_prompts=0 save_policy=false \
        cache_dir=$C out=$TMP/g$1.h5 --quiet --force "${@:2}" && $RLGF info $TMP/g$1.h5 | awk '$1 == 0 && $3 == "guide" { print $4, $5 }'; }
gf=$(g full guide.top_p_mass=full); gk=$(g topk guide.top_p_mass=top_k)
gf0=$(g full0 guide.top_p_mass=full guide.top_k=0); gk0=$(g topk0 guide.top_p_mass=top_k guide.top_k=0)
echo "   guide reward, output ppl: full $gf; top_k $gk"
check "top_p_mass=top_k changes the guide's samples (top-k 50, top-p .92)" test "$gf" != "$gk"
check "without top-k the two rules are the same" test "$gf0" = "$gk0"
