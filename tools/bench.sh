#!/usr/bin/env bash
# make bench: one command, one run, side by side, on this machine:
#   1. rlgf's matmul kernel next to OpenBLAS sgemm on the model's own shapes (GFLOP/s, 1 thread);
#   2. rollout, update and whole-iteration time at the reference IMDB budget (configs/imdb.ini with
#      iterations=50 trajectories=112 ppo.minibatch=28, 5 epochs), 1 and 2 threads, peak memory;
#   3. the same model and batch in PyTorch (tools/bench_peer.py, Debian python3-torch) when it is
#      installed (`make bench-peer` installs it), as ratios;
#   4. a larger model (L=4, C=128) so a model-size ablation can be costed;
#   5. the model FLOP utilisation: rlgf bench's GFLOP/s of an iteration against part 1's OpenBLAS
#      rate, and the least time an iteration could take on this core at that rate.
# The targets of issue 11 are printed next to the figures; nothing here is asserted.
set -u
cd "$(dirname "$0")/.."
RLGF=./rlgf
PY=/usr/bin/python3 # Debian's python3-torch lives in the system interpreter
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/kern" "$tmp/peer1" # read at the end even when a part is skipped
ref="configs/imdb.ini trajectories=112 ppo.minibatch=28"

echo "== machine: $(uname -n) $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "   load average now: $(cut -d' ' -f1-3 /proc/loadavg) (timings on a shared machine are noisy)"

echo
echo "== 1. matmul kernels, 1 thread: rlgf kern_gemm vs OpenBLAS sgemm (target: rlgf >= 50% of OpenBLAS)"
if make --no-print-directory -s build/bench_kernels >"$tmp/mk" 2>&1; then
  build/bench_kernels 32 2 512 784 | tee "$tmp/kern" | sed 's/^/   /'
  echo "   larger model (C=128):"
  build/bench_kernels 128 4 512 784 | tail -n +3 | sed 's/^/   /'
else
  echo "   (skipped: could not build build/bench_kernels against OpenBLAS)"; sed 's/^/   /' "$tmp/mk" | tail -5
fi

echo
echo "== 2. reference IMDB budget ($ref), iteration = rollout + update"
$RLGF bench $ref 2>"$tmp/rlgf" | sed 's/^/   /'

echo
echo "== 3. PyTorch peer (same model, batch and update, tools/bench_peer.py)"
if $PY -c 'import torch' 2>/dev/null; then
  for th in 1 2; do $PY tools/bench_peer.py --threads $th >>"$tmp/peer" 2>&1 || echo "   peer failed (threads=$th)"; done
  awk '
    function get(line, key,   a, n, i, kv) { n = split(line, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == key) return kv[2] } return "" }
    FNR == NR { if ($1 == "BENCH") { t = get($0, "threads"); rr[t] = get($0, "rollout_s"); ru[t] = get($0, "update_s"); ri[t] = get($0, "iteration_s") } next }
    $1 == "PEER" { t = get($0, "threads"); pr[t] = get($0, "rollout_s"); pu[t] = get($0, "update_s"); pi[t] = get($0, "iteration_s"); ver = get($0, "torch") }
    END {
      printf "   PyTorch %s, seconds per iteration (rlgf / PyTorch speed-up; target >= 10x):\n", ver
      printf "   %-8s %10s %10s %10s   %10s %10s %10s\n", "threads", "rollout", "update", "iteration", "x rollout", "x update", "x iter"
      for (t = 1; t <= 2; t++) if (t in pi)
        printf "   %-8d %10.3f %10.3f %10.3f   %10.1f %10.1f %10.1f\n", t, pr[t], pu[t], pi[t], pr[t] / rr[t], pu[t] / ru[t], pi[t] / ri[t]
    }' "$tmp/rlgf" "$tmp/peer"
  grep '^PEER .*threads=1 ' "$tmp/peer" | head -1 > "$tmp/peer1"
else
  echo "   (skipped: PyTorch is not installed for $PY; \`make bench-peer\` installs Debian's python3-torch and runs this)"
fi

echo
echo "== 4. larger model: L=4 C=128 heads=4 at the same budget (1 timed iteration)"
$RLGF bench $ref model.layers=4 model.channels=128 model.heads=4 --reps 1 2>/dev/null | tail -n +2 | sed 's/^/   /'

echo
awk '
  function get(line, key,   a, n, i, kv) { n = split(line, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == key) return kv[2] } return "" }
  $1 == "BENCH" { t = get($0, "threads"); it[t] = get($0, "iteration_s"); sp[t] = get($0, "iteration_speedup") }
  $1 == "BENCHFLOPS" { t = get($0, "threads"); gf[t] = get($0, "gflop"); gs[t] = get($0, "gflops") }
  $1 == "all" { blas = $3 }
  $1 == "PEER" { peer = get($0, "iteration_s") }
  END {
    printf "== targets (issue 11): 1-thread iteration <= 0.9 s: %.3f s; 2 threads >= 1.8x: x%.2f (paired); a 50-iteration run ~ %.0f s (1 thread), %.0f s (2)\n", it[1], sp[2] != "" ? sp[2] : it[1] / it[2], 50 * it[1], 50 * it[2]
    if (gf[1] != "" && blas != "") {
      printf "   model FLOP utilisation, 1 thread: %.1f of the %.2f GFLOP of an iteration per second = %.0f%% of OpenBLAS sgemm on the model shapes (%.1f GFLOP/s, part 1)\n", gs[1], gf[1], 100 * gs[1] / blas, blas
      printf "   the iteration can take no less than %.2f s on this core (all of it at sgemm speed, exps and norms free)", gf[1] / blas
      if (peer != "") printf "; 10x the PyTorch peer (%.3f s) would need %.0f%% of sgemm speed", peer, 100 * gf[1] / (peer / 10) / blas
      printf "\n"
    }
  }' "$tmp/rlgf" "$tmp/kern" "$tmp/peer1"
