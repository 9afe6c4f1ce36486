#!/usr/bin/env bash
# make demo: SL then PPO on IMDB-sim (a few minutes on 2 cores), then SL vs PPO on the validation
# split. The SL checkpoint is cached in results/cache, so a second `make demo` skips SL.
set -euo pipefail
mkdir -p results/demo
out=results/demo/imdb-ppo.h5
echo "== rlgf demo: SL then PPO on IMDB-sim (configs/imdb.ini, demo-sized: 20 iterations x 32 trajectories)"
./rlgf train configs/imdb.ini iterations=20 trajectories=32 ppo.minibatch=8 eval.every=5 threads=2 out=$out
echo
echo "== SL (start of RL) vs PPO (end) on the validation split"
./rlgf summary $out
echo
echo "reward: hidden sentiment classifier P(positive); output ppl: perplexity of the generated text under"
echo "the hidden world LM (fluency); ref ppl: perplexity of held-out reference reviews under the policy"
echo "(drift); KL to ref: summed per-token log-ratio to pi_ref (the SL policy)."
echo "run log: $out   (rlgf info $out; digest: $(./rlgf digest $out | cut -d' ' -f1 | cut -c1-16)...)"
