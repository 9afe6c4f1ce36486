#!/usr/bin/env bash
# make demo: SL then PPO on IMDB-sim with SL vs PPO on the validation split, then a small sweep
# (PPO, PPO++, D2LOLS x 3 seeds) analysed into a table and learning curves. A few minutes on 2
# cores; the SL checkpoint is cached in results/cache, so a second `make demo` is faster.
set -euo pipefail
mkdir -p results/demo
out=results/demo/imdb-ppo.h5
echo "== 1/3 SL then PPO on IMDB-sim (configs/imdb.ini, demo-sized: 20 iterations x 32 trajectories)"
./rlgf train configs/imdb.ini iterations=20 trajectories=32 ppo.minibatch=8 eval.every=5 threads=2 out=$out --resume  # a finished log is kept (same bits)
echo
echo "== SL (start of RL) vs PPO (end) on the validation split"
./rlgf summary $out
echo "reward: hidden sentiment classifier P(positive); output ppl: perplexity of the generated text under"
echo "the hidden world LM (fluency); ref ppl: perplexity of held-out reference reviews under the policy"
echo "(drift); KL to ref: summed per-token log-ratio to pi_ref (the SL policy)."
echo
echo "== 2/3 sweep: PPO, PPO++, D2LOLS x 3 seeds (configs/sweeps/demo.ini, 2 runs at a time)"
./rlgf sweep configs/sweeps/demo.ini --jobs 2 --resume
echo
echo "== 3/3 analysis across seeds (IQM and 95% bootstrap CIs)"
./rlgf analyze results/demo/sweep -o results/demo/analysis --no-plots >/dev/null
./rlgf analyze results/demo/sweep -o results/demo/analysis | tail -n 25
echo
echo "table:          results/demo/analysis/final.md"
cat results/demo/analysis/final.md | head -n 8
echo "learning curve: results/demo/analysis/fig_reward_iter.png (.svg, .pdf; gnuplot script beside it)"
echo "run logs:       results/demo/sweep/*.h5 and $out   (rlgf info FILE)"
