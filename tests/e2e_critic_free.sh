# The critic-free algorithms in a sweep's analysis: PPO, GRPO, RLOO, ReMax x 2 seeds of imdb_small
# with 2 completions per prompt; `rlgf analyze` compares all four algorithms in one table, and
# every run log carries the group id and the estimator's baseline of each trajectory.
. tests/lib.sh
R="$TMP/runs"; mkdir -p "$R"
base="configs/imdb_small.ini cache_dir=$TMP/cache group.size=2 --quiet"
train_all() {
  for a in ppo grpo rloo remax; do for s in 0 1; do
    $RLGF train $base algo=$a seed=$s out="$R/$a-s$s.h5" || return 1
  done; done
}
check train-4x2 train_all
check analyze $RLGF analyze "$R" -o "$TMP/a"
groups_right() {
  for a in ppo grpo rloo remax; do
    awk -F, -v g=$a 'NR > 1 && $1 == g && $2 == "reward" { found = 1 } END { exit !found }' "$TMP/a/final.csv" \
      || { echo "no $a row"; cat "$TMP/a/final.csv"; return 1; }
  done
  [ "$(awk -F, 'NR > 1 && $2 == "reward"' "$TMP/a/final.csv" | wc -l)" -eq 4 ] || return 1
  for a in ppo grpo rloo remax; do grep -q "$a" "$TMP/a/final.md" || return 1; done
}
check four-algorithms-one-table groups_right
columns_there() {
  for c in group baseline; do
    h5dump -H -d /trajectories/$c "$R/grpo-s0.h5" >/dev/null 2>&1 || { echo "no /trajectories/$c"; return 1; }
  done
  # group ids of the first training batch (rows 24-31, after 3 x 8 evaluation rows): 0 0 1 1 2 2 3 3
  h5dump -d /trajectories/group -s 24 -c 8 "$R/grpo-s0.h5" | tr -s ' ,' '\n' | grep -E '^[0-9-]+$' | tail -8 | tr '\n' ' ' \
    | grep -q '^0 0 1 1 2 2 3 3 $' || { h5dump -d /trajectories/group -s 24 -c 8 "$R/grpo-s0.h5"; return 1; }
}
check group-and-baseline-logged columns_there
first_batch_is_training() {
  h5dump -d /trajectories/eval -s 24 -c 8 "$R/grpo-s0.h5" | tr -s ' ,' '\n' | grep -E '^[0-9-]+$' | tail -8 | tr '\n' ' ' \
    | grep -q '^0 0 0 0 0 0 0 0 $'
}
check rows-24-31-are-training first_batch_is_training
# every new knob at once, guided, with ReMax's greedy baselines: the same digest for 1 and 2
# threads, and after a kill and --resume
knobs="algo=remax group.size=4 beta=0.6 kl.placement=loss kl.estimator=k3 loss.agg=seq_mean_token_sum_norm ppo.clip_high=0.28 checkpoint.every=1"
same_digest_threads() {
  $RLGF train $base $knobs threads=1 out="$TMP/t1.h5" && $RLGF train $base $knobs threads=2 out="$TMP/t2.h5" || return 1
  [ "$($RLGF digest "$TMP/t1.h5" | cut -d' ' -f1)" = "$($RLGF digest "$TMP/t2.h5" | cut -d' ' -f1)" ]
}
check knobs-threads-1-vs-2 same_digest_threads
same_digest_resume() {
  RLGF_KILL_AFTER=1 $RLGF train $base $knobs out="$TMP/r.h5" 2>/dev/null
  $RLGF train $base $knobs out="$TMP/r.h5" --resume || return 1
  [ "$($RLGF digest "$TMP/t1.h5" | cut -d' ' -f1)" = "$($RLGF digest "$TMP/r.h5" | cut -d' ' -f1)" ]
}
check knobs-kill-and-resume same_digest_resume
