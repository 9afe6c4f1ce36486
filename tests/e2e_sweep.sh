# rlgf sweep: a 2 algorithms x 2 seeds sweep on IMDB-sim (test size) gives the same run-log
# digests serially, with --jobs 2, under `mpirun -np 2 ... --mpi` (when OpenMPI is installed) and
# as Slurm array tasks; a sweep killed part-way finishes with --resume, which runs only the
# unfinished runs and ends with the digests of an uninterrupted sweep; Ctrl-C stops cleanly;
# bad specs fail with messages naming the spec line.
. tests/lib.sh

# spec FILE OUT_DIR ITERATIONS CACHE [seed-first]: the 2 x 2 sweep (axes algo, seed; or seed, algo)
spec() {
  local axes="algo = ppo, ppopp
seed = 0, 1"
  [ -n "${5:-}" ] && axes="seed = 0, 1
algo = ppo, ppopp"
  cat > "$1" <<EOF
[sweep]
base = configs/imdb_small.ini
out_dir = $2
set = iterations=$3, cache_dir=$4
[axes]
$axes
EOF
}
# run name (as algo=A__seed=S) -> digest, sorted, from a manifest
digests() { tail -n +2 "$1" | awk -F'\t' '$3 == "ok" { print $1, $6 }' | sed -E 's/^seed=([0-9]+)__algo=([a-z]+)/algo=\2__seed=\1/' | sort; }
same_digests() { # NAME REF_MANIFEST MANIFEST
  local a b; a=$(digests "$2"); b=$(digests "$3")
  if [ "$(printf '%s\n' "$a" | grep -c .)" -eq 4 ] && [ "$a" = "$b" ]; then ok "$1"
  else fail "$1" "$(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -6)"; fi
}
complete_logs() { ls "$1" 2>/dev/null | grep -E '^algo=[a-z]+__seed=[0-9]\.h5$' | sort; }

# --- the same digests serially, with --jobs 2 and under MPI (each with a cold SL cache, so runs
# sharing an SL checkpoint also exercise the cache lock) ---
spec $TMP/serial.ini $TMP/serial 3 $TMP/cache1
spec $TMP/jobs2.ini $TMP/jobs2 3 $TMP/cache2
check dry-run sh -c "$RLGF sweep $TMP/serial.ini --dry-run | grep -A4 '^index' | awk 'NR>1{print \$3}' | tr '\n' ' ' | grep -qx 'algo=ppo__seed=0 algo=ppo__seed=1 algo=ppopp__seed=0 algo=ppopp__seed=1 '"
check serial $RLGF sweep $TMP/serial.ini --jobs 1
check jobs2 $RLGF sweep $TMP/jobs2.ini --jobs 2
same_digests jobs2-same-digests $TMP/serial/manifest.tsv $TMP/jobs2/manifest.tsv
# a sweep's run is the run `rlgf train` makes with the same overrides
$RLGF train configs/imdb_small.ini iterations=3 algo=ppopp seed=1 cache_dir=$TMP/cache1 out=$TMP/direct.h5 --quiet
d=$($RLGF digest $TMP/direct.h5 | cut -d' ' -f1)
if [ -n "$d" ] && grep -q "^algo=ppopp__seed=1	.*	ok	0	.*	$d	[0-9.]*\$" $TMP/serial/manifest.tsv; then ok train-same-digest
else fail train-same-digest "digest $d not in $(grep ppopp__seed=1 $TMP/serial/manifest.tsv)"; fi
# the manifest's last column is each run's CPU time (wait4), a positive number for a run that ran
awk -F'\t' 'NR == 1 { ok = $7 == "cpu_s"; next } { ok = ok && $7 > 0 } END { exit !ok }' $TMP/serial/manifest.tsv \
  && ok manifest-cpu-seconds || fail manifest-cpu-seconds "$(cut -f1,5,7 $TMP/serial/manifest.tsv)"
if command -v mpirun >/dev/null 2>&1; then
  # seed first: rank 0 gets both ppo runs, rank 1 both ppopp runs, so the two ranks share each SL
  # checkpoint (cold cache) and the cache lock works across processes
  spec $TMP/mpi.ini $TMP/mpi 3 $TMP/cache3 seed-first
  check mpi-sweep mpirun --allow-run-as-root --oversubscribe -np 2 $RLGF sweep --mpi $TMP/mpi.ini
  [ -f $TMP/mpi/manifest.rank0.tsv ] && [ -f $TMP/mpi/manifest.rank1.tsv ] && ok mpi-rank-parts || fail mpi-rank-parts "$(ls $TMP/mpi)"
  check mpi-merge $RLGF sweep $TMP/mpi.ini --merge
  same_digests mpi-same-digests $TMP/serial/manifest.tsv $TMP/mpi/manifest.tsv
else
  echo "skip mpi: mpirun not found (Debian: apt-get install openmpi-bin)"
fi
expect_fail mpi-without-launcher "no MPI rank in the environment" env -u OMPI_COMM_WORLD_RANK -u PMI_RANK -u PMIX_RANK $RLGF sweep --mpi $TMP/serial.ini

# --- Slurm: the job-array script, and its tasks run one run each, resume-safe ---
spec $TMP/slurm.ini $TMP/slurm 3 $TMP/cache1
check slurm-script $RLGF sweep $TMP/slurm.ini --slurm
if grep -q '^#SBATCH --array=0-3$' $TMP/slurm/sweep.sbatch && grep -q -- '--task "\$SLURM_ARRAY_TASK_ID"' $TMP/slurm/sweep.sbatch
then ok slurm-array; else fail slurm-array "$(grep -E 'array|task' $TMP/slurm/sweep.sbatch)"; fi
check slurm-task-1 env SLURM_ARRAY_TASK_ID=1 bash $TMP/slurm/sweep.sbatch
check slurm-task-1-again sh -c "SLURM_ARRAY_TASK_ID=1 bash $TMP/slurm/sweep.sbatch 2>&1 | grep -q 'is complete; nothing to do'"
[ "$(complete_logs $TMP/slurm)" = "algo=ppo__seed=1.h5" ] && ok slurm-task-ran-one || fail slurm-task-ran-one "$(complete_logs $TMP/slurm)"
check slurm-resume-array sh -c "$RLGF sweep $TMP/slurm.ini --slurm --resume >/dev/null && grep -q '^#SBATCH --array=0,2-3\$' $TMP/slurm/sweep.sbatch"
# a spec edited after the script was written: the task refuses
sed -i 's/iterations=3/iterations=4/' $TMP/slurm.ini
expect_fail slurm-spec-changed "has changed since the job script was written" env SLURM_ARRAY_TASK_ID=0 bash $TMP/slurm/sweep.sbatch

# --- kill -9 part-way, then --resume runs only the unfinished runs ---
spec $TMP/kill.ini $TMP/kill 30 $TMP/cache1
$RLGF sweep $TMP/kill.ini --jobs 1 2>$TMP/kill.err &
pid=$!
for _ in $(seq 600); do [ "$(complete_logs $TMP/kill | wc -l)" -ge 2 ] && break; sleep 0.05; done
kids=$(ps -o pid= --ppid $pid)
kill -9 $pid; wait $pid 2>/dev/null
# its runs die with it (PR_SET_PDEATHSIG); a zombie waiting for init to reap it counts as dead
alive_kids() { local k out=""; for k in $kids; do ps -o stat= -p $k 2>/dev/null | grep -qv Z && out="$out $k"; done; echo "$out"; }
for _ in $(seq 60); do [ -z "$(alive_kids)" ] && break; sleep 0.05; done
alive=$(alive_kids)
[ -z "$alive" ] && ok killed-sweep-takes-its-runs || fail killed-sweep-takes-its-runs "still running:$alive"
for k in $alive; do kill -9 $k 2>/dev/null; done
before=$(complete_logs $TMP/kill)
n_before=$(printf '%s\n' "$before" | grep -c .)
if [ "$n_before" -ge 1 ] && [ "$n_before" -lt 4 ]; then ok killed-part-way; else fail killed-part-way "$n_before runs complete"; fi
stamps=$(cd $TMP/kill && for f in $before; do stat -c '%n %Y.%y' "$f"; done)
expect_fail no-resume-refuses "already have complete logs.*--resume" $RLGF sweep $TMP/kill.ini
check resume $RLGF sweep $TMP/kill.ini --resume --jobs 2
ran=$(grep -o 'start  [^ ]*' $TMP/out | cut -c8- | sort)
expected=$(cd $TMP/kill && for n in algo=ppo__seed=0 algo=ppo__seed=1 algo=ppopp__seed=0 algo=ppopp__seed=1; do [ -f $n.h5 ] && ! printf '%s\n' "$before" | grep -qx "$n.h5" && echo $n; done | sort)
if [ -n "$ran" ] && [ "$ran" = "$expected" ]; then ok resume-ran-only-unfinished
else fail resume-ran-only-unfinished "ran: $(echo $ran) expected: $(echo $expected)"; fi
[ "$(cd $TMP/kill && for f in $before; do stat -c '%n %Y.%y' "$f"; done)" = "$stamps" ] && ok resume-kept-finished-logs || fail resume-kept-finished-logs "modification times changed"
[ "$(tail -n +2 $TMP/kill/manifest.tsv | cut -f3 | sort | uniq -c | tr -s ' ')" = " 4 ok" ] && ok resume-manifest-all-ok || fail resume-manifest-all-ok "$(cut -f1,3 $TMP/kill/manifest.tsv)"
check resume-again-runs-nothing sh -c "$RLGF sweep $TMP/kill.ini --resume 2>&1 | grep -q '0 to run'"
# the interrupted-then-resumed sweep has the digests of an uninterrupted one
spec $TMP/ref.ini $TMP/ref 30 $TMP/cache1
check uninterrupted $RLGF sweep $TMP/ref.ini --jobs 2
same_digests resume-same-digests $TMP/ref/manifest.tsv $TMP/kill/manifest.tsv

# --- Ctrl-C: stop launching, end the runs, write the manifest, exit 130 ---
spec $TMP/int.ini $TMP/int 30 $TMP/cache1
$RLGF sweep $TMP/int.ini --jobs 1 2>$TMP/int.err &
pid=$!
for _ in $(seq 600); do [ "$(complete_logs $TMP/int | wc -l)" -ge 1 ] && break; sleep 0.05; done
kill -INT $pid; wait $pid; rc=$?
if [ $rc -eq 130 ] && grep -q "interrupted" $TMP/int.err && ! grep -q "	running	" $TMP/int/manifest.tsv \
   && [ "$(complete_logs $TMP/int | wc -l)" -lt 4 ]; then ok sigint
else fail sigint "rc $rc; $(tail -2 $TMP/int.err); $(cut -f1,3 $TMP/int/manifest.tsv)"; fi
# a changed spec does not mix old logs in
sed -i 's/iterations=30/iterations=31/' $TMP/int.ini
expect_fail stale-log-refused "made with another config" $RLGF sweep $TMP/int.ini --resume

# --- a failing run: exit 1, a failed row with its exit code, the run's error on stderr; --resume re-runs it ---
printf '[sweep]\nbase = configs/imdb_small.ini\nout_dir = %s\n[axes]\ncache_dir = %s, /proc/nope\n' $TMP/fail $TMP/cache1 > $TMP/fail.ini
$RLGF sweep $TMP/fail.ini 2>$TMP/fail.err; rc=$?
if [ $rc -eq 1 ] && grep -q "FAILED cache_dir=_proc_nope" $TMP/fail.err && grep -q "cannot create directory '/proc/nope'" $TMP/fail.err \
   && grep -q "^cache_dir=_proc_nope	.*	failed	1	" $TMP/fail/manifest.tsv && [ "$(grep -c '	ok	0	' $TMP/fail/manifest.tsv)" -eq 1 ]
then ok failed-run; else fail failed-run "rc $rc; $(tail -3 $TMP/fail.err)"; fi
$RLGF sweep $TMP/fail.ini --resume 2>$TMP/fail.err; rc=$?
[ $rc -eq 1 ] && [ "$(grep -o 'start  [^ ]*' $TMP/fail.err)" = "start  cache_dir=_proc_nope" ] && ok resume-reruns-failed || fail resume-reruns-failed "rc $rc; $(cat $TMP/fail.err)"

# --- bad specs ---
printf '[sweep]\nbase = configs/imdb_small.ini\n[axes]\nalgo = ppo, ppopp\nsede = 0, 1\n' > $TMP/bad1.ini
expect_fail bad-axis-key "bad1.ini:5: unknown key 'sede' \(did you mean 'seed'" $RLGF sweep $TMP/bad1.ini
printf '[sweep]\nbase = configs/nope.ini\n[axes]\nseed = 0, 1\n' > $TMP/bad2.ini
expect_fail missing-base "bad2.ini:2: base: configs/nope.ini: cannot open config file" $RLGF sweep $TMP/bad2.ini
printf '[sweep]\nbase = configs/imdb_small.ini\n[axes]\nalgo = ppo, pop\n' > $TMP/bad3.ini
expect_fail bad-axis-value "bad3.ini:4: key 'algo': value 'pop'" $RLGF sweep $TMP/bad3.ini --dry-run
expect_fail missing-spec "nope.ini: cannot open sweep spec" $RLGF sweep $TMP/nope.ini
expect_fail bad-option "unknown option '--jbos'" $RLGF sweep $TMP/serial.ini --jbos 2
check example-spec $RLGF sweep configs/sweeps/imdb_small_algo_seed.ini --dry-run

# --- two sweeps on one out_dir at once (the second with --force): they take turns on the run
#     (its lock), neither deletes the other's live files, both succeed, and the log has the bits
#     of a sweep alone ---
printf '[sweep]\nbase = configs/imdb_small.ini\nout_dir = %s\nset = iterations=150, cache_dir=%s\n[axes]\nseed = 0\n' $TMP/two $TMP/cache1 > $TMP/two.ini
printf '[sweep]\nbase = configs/imdb_small.ini\nout_dir = %s\nset = iterations=150, cache_dir=%s\n[axes]\nseed = 0\n' $TMP/alone $TMP/cache1 > $TMP/alone.ini
$RLGF sweep $TMP/alone.ini >/dev/null 2>&1
$RLGF sweep $TMP/two.ini >/dev/null 2>$TMP/two1.err & p1=$!
for _ in $(seq 500); do [ -e $TMP/two/seed=0.h5.partial ] && break; sleep 0.02; done
$RLGF sweep $TMP/two.ini --force >/dev/null 2>$TMP/two2.err; rc2=$?
wait $p1; rc1=$?
d1=$($RLGF digest $TMP/two/seed=0.h5 2>/dev/null | cut -d' ' -f1); d0=$($RLGF digest $TMP/alone/seed=0.h5 2>/dev/null | cut -d' ' -f1)
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ -n "$d1" ] && [ "$d1" = "$d0" ]; then ok two-sweeps-one-dir
else fail two-sweeps-one-dir "first rc $rc1, second rc $rc2, digests $d1 / $d0; $(tail -2 $TMP/two2.err)"; fi
