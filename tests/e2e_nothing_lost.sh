# Nothing lost, nothing silently wrong (issue 10): every case is an exit code, a message, and
# the digest (or bytes) of the earlier result before and after.
. tests/lib.sh
R=$(cd "$(dirname "$RLGF")" && pwd)/$(basename "$RLGF")
C=$TMP/cache
small="configs/imdb_small.ini cache_dir=$C --quiet"
dig() { $RLGF digest "$1" 2>/dev/null | cut -d' ' -f1; }
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
# expect NAME RC PATTERN CMD...: CMD exits with RC and prints PATTERN on stderr
expect() {
  local name=$1 want=$2 pattern=$3; shift 3
  "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
  if [ $rc -ne "$want" ]; then fail "$name" "exit $rc, expected $want: $(head -3 "$TMP/err")"; return; fi
  if grep -qE -- "$pattern" "$TMP/err"; then ok "$name"; echo "   -> $(grep -E -- "$pattern" "$TMP/err" | head -1)"
  else fail "$name" "stderr lacks /$pattern/: $(head -3 "$TMP/err")"; fi
}
same() { [ -n "$2" ] && [ "$2" = "$3" ] && ok "$1" || fail "$1" "'$2' != '$3'"; }
# one eval/ row as text: every column except who, all digits (%.17g)
evrow() {
  for d in $(h5ls "$1/eval" | awk '{print $1}' | grep -v '^who$'); do
    printf '%s=' "$d"
    h5dump -m %.17g -y -w 0 -d "/eval/$d" "$1" | sed -n '/DATA {/{n;p}' | tr -d ' ' | cut -d, -f$(( $2 + 1 ))
  done
}

# --- 1. never overwrite or share a result ---
check first-run $RLGF train $small out=$TMP/a.h5
da=$(dig $TMP/a.h5)
expect refuse-existing-out 1 "a.h5' exists \(a finished run log\): not replacing it; use --force" $RLGF train $small out=$TMP/a.h5 ppo.lr=0.002
same existing-out-unchanged "$da" "$(dig $TMP/a.h5)"
check force-replaces $RLGF train $small out=$TMP/a.h5 --force
same force-same-bits "$da" "$(dig $TMP/a.h5)"
expect resume-and-force 2 "--resume and --force exclude each other" $RLGF train $small out=$TMP/a.h5 --force --resume
# the default name carries the config hash: two ppo.lr runs of one seed get two files
mkdir -p $TMP/cwd
( cd $TMP/cwd && $R train "$OLDPWD/configs/imdb_small.ini" cache_dir=$C --quiet ppo.lr=0.001 &&
  $R train "$OLDPWD/configs/imdb_small.ini" cache_dir=$C --quiet ppo.lr=0.002 ) >/dev/null 2>&1
n=$(ls $TMP/cwd/results/imdb-ppo-s0-*.h5 2>/dev/null | grep -vc policy)
[ "$n" = 2 ] && ok default-names-differ || fail default-names-differ "$(ls $TMP/cwd/results)"
# a second run on the same out stops at once, naming the first; the first ends as if alone
$RLGF train $small iterations=80 out=$TMP/lock.h5 2>$TMP/lock1.err & p1=$!
for _ in $(seq 400); do [ -e $TMP/lock.h5.partial ] && break; sleep 0.02; done
expect concurrent-run-refused 1 "lock.h5' is being written by another run \(pid $p1 on" $RLGF train $small iterations=80 out=$TMP/lock.h5
wait $p1; rc1=$?
check lock-reference $RLGF train $small iterations=80 out=$TMP/lockref.h5
[ $rc1 -eq 0 ] && [ ! -e $TMP/lock.h5.lock ] && ok first-run-unharmed || fail first-run-unharmed "rc $rc1: $(cat $TMP/lock1.err)"
same first-run-same-bits "$(dig $TMP/lockref.h5)" "$(dig $TMP/lock.h5)"
# export-minari into a non-empty directory
check export $RLGF export-minari $TMP/a.h5 $TMP/mn
m1=$(sha $TMP/mn/data/main_data.hdf5)
expect export-refuses-nonempty 1 "mn' is not empty .*--force" $RLGF export-minari $TMP/lockref.h5 $TMP/mn
same export-unchanged "$m1" "$(sha $TMP/mn/data/main_data.hdf5)"
check export-force $RLGF export-minari $TMP/a.h5 $TMP/mn --force

# --- 2. divergence is an outcome ---
expect nan-stops-run 1 "diverged at iteration 1: policy_loss is not finite \(log .*nan.h5 marked diverged, complete = 0\)" \
  env RLGF_NAN_AT=1 $RLGF train $small out=$TMP/nan.h5
h5dump -a /diverged -a /complete -a /diverged_quantity $TMP/nan.h5 > $TMP/attrs 2>&1
grep -A5 'ATTRIBUTE "diverged"' $TMP/attrs | grep -q '(0): 1' && grep -A5 'ATTRIBUTE "complete"' $TMP/attrs | grep -q '(0): 0' \
  && grep -q '"policy_loss"' $TMP/attrs && ok log-marked-diverged || fail log-marked-diverged "$(cat $TMP/attrs | head -20)"
expect resume-diverged-is-error 1 "nan.h5' is a run that diverged" env RLGF_NAN_AT=1 $RLGF train $small out=$TMP/nan.h5 --resume
$RLGF info $TMP/nan.h5 | grep -q "diverged: *yes, at iteration 1 (policy_loss" && ok info-shows-diverged || fail info-shows-diverged "$($RLGF info $TMP/nan.h5 | head -4)"
$RLGF summary $TMP/nan.h5 > $TMP/sum
grep -q "DIVERGED (it 1)" $TMP/sum && ! grep -q "end (it" $TMP/sum && ok summary-shows-diverged || fail summary-shows-diverged "$(cat $TMP/sum)"
$RLGF analyze $TMP/a.h5 $TMP/nan.h5 -o $TMP/an --no-plots >$TMP/an.out 2>$TMP/an.err; rc=$?
[ $rc -eq 0 ] && grep -q "nan.h5': DIVERGED (iteration 1: policy_loss not finite): excluded" $TMP/an.err \
  && grep -q "1 run used in 1 group, 1 diverged (excluded)" $TMP/an.out && grep -q "DIVERGED: .*nan.h5" $TMP/an/final.md \
  && ! grep -q "nan.h5" $TMP/an/runs.csv && grep -q "a.h5" $TMP/an/runs.csv \
  && ok analyze-excludes-diverged || fail analyze-excludes-diverged "rc $rc: $(cat $TMP/an.err $TMP/an.out | head -5)"
expect overflow-beta-refused 2 "kl.beta': value '1e308' is out of range" $RLGF train $small kl.beta=1e308 out=$TMP/beta.h5
[ ! -e $TMP/beta.h5 ] && [ ! -e $TMP/beta.h5.partial ] && ok overflow-no-output || fail overflow-no-output "output left"

# --- 3. SL keys, pi_ref row, -0, tasks, summary of SL ---
$RLGF config configs/imdb_small.ini guide.quality=-0 > $TMP/out 2>&1
grep -q "^guide.quality = 0$" $TMP/out && ok neg-zero-canonical || fail neg-zero-canonical "$(grep quality $TMP/out)"
check neg-zero-run $RLGF train $small guide.quality=-0 out=$TMP/q0n.h5
check zero-run $RLGF train $small guide.quality=0 out=$TMP/q0.h5
same neg-zero-same-digest "$(dig $TMP/q0.h5)" "$(dig $TMP/q0n.h5)"
# iteration-0 learner evaluation and pi_ref row: identical in a fresh run
w=$(h5dump -y -w 0 -d /eval/who $TMP/a.h5 | sed -n '/DATA {/{n;p}' | tr -d ' ')
r_learner=$(evrow $TMP/a.h5 0); r_ref=$(evrow $TMP/a.h5 1)
[ "${w:0:4}" = "0,2," ] && [ -n "$r_learner" ] && [ "$r_learner" = "$r_ref" ] && ok piref-row-is-iteration0 \
  || fail piref-row-is-iteration0 "who $w; $r_learner vs $r_ref"
adv=$(h5dump -y -w 0 -d /trajectories/advantage -s 0 -c 3 $TMP/a.h5 | sed -n '/DATA {/{n;p}' | tr -d ' ')
[ "$adv" = "nan,nan,nan" ] && ok eval-advantage-nan || fail eval-advantage-nan "$adv"
# evaluation trajectories are marked: eval = 1 exactly on the validation/test rows (3 iterations x 8
# training trajectories; the rest are evaluations)
ev=$(h5dump -y -w 0 -d /trajectories/eval $TMP/a.h5 | sed -n '/DATA {/{n;p}' | tr -d ' ')
sp=$(h5dump -y -w 0 -d /trajectories/split $TMP/a.h5 | sed -n '/DATA {/{n;p}' | tr -d ' ')
mism=$(paste -d' ' <(echo "$ev" | tr ',' '\n') <(echo "$sp" | tr ',' '\n') | awk '($1 == 1) != ($2 != 0) {n++} END {print n + 0}')
ntrain=$(echo "$ev" | tr ',' '\n' | grep -c '^0$')
[ -n "$ev" ] && [ "$mism" = 0 ] && [ "$ntrain" = 24 ] && ok eval-rows-marked || fail eval-rows-marked "$mism mismatches, $ntrain training rows"
# a sweep of ppo.grad_clip reuses one SL checkpoint: one cache file, one pi_ref row
printf '[sweep]\nbase = configs/imdb_small.ini\nout_dir = %s\nset = cache_dir=%s\n[axes]\nppo.grad_clip = 0, 1, 5\n' $TMP/gc $TMP/gccache > $TMP/gc.ini
$RLGF sweep $TMP/gc.ini --jobs 2 >/dev/null 2>$TMP/gc.err; rc=$?
ncache=$(ls $TMP/gccache | grep -c '^sl-.*\.h5$')
p0=$(evrow "$TMP/gc/ppo.grad_clip=0.h5" 1); p1=$(evrow "$TMP/gc/ppo.grad_clip=1.h5" 1); p5=$(evrow "$TMP/gc/ppo.grad_clip=5.h5" 1)
[ $rc -eq 0 ] && [ "$ncache" = 1 ] && [ -n "$p0" ] && [ "$p0" = "$p1" ] && [ "$p1" = "$p5" ] && ok grad-clip-sweep-one-sl \
  || fail grad-clip-sweep-one-sl "rc $rc, $ncache cache files, $(tail -2 $TMP/gc.err)"
check toy-run $RLGF train configs/toy_match.ini out=$TMP/toy.h5 --quiet
da=$(dig $TMP/a.h5)
expect analyze-refuses-mixed-tasks 2 "runs of different tasks: .*a.h5' is task imdb, .*toy.h5' is task toy_match" \
  $RLGF analyze $TMP/a.h5 $TMP/toy.h5 -o $TMP/mixed --no-plots
same mixed-tasks-input-unchanged "$da" "$(dig $TMP/a.h5)"
check sl-run $RLGF train $small algo=sl out=$TMP/sl.h5
$RLGF summary $TMP/sl.h5 > $TMP/sum
grep -q "sl (it 0)" $TMP/sum && ! grep -q "end (it" $TMP/sum && ok summary-sl-no-end || fail summary-sl-no-end "$(cat $TMP/sum)"

# --- 4. integrity of every file read back ---
flip() { python3 -c "import sys; p,o=sys.argv[1],int(sys.argv[2]); f=open(p,'r+b'); f.seek(o); b=f.read(1); f.seek(o); f.write(bytes([b[0]^0x10]))" "$1" "$2"; }
addr() { h5ls -va "$1/$2" | awk '/Address:/{print $2}'; }
long="$small iterations=4 checkpoint.every=1"
( RLGF_KILL_AFTER=1 $RLGF train $long out=$TMP/r.h5 ) >/dev/null 2>&1
cp $TMP/r.resume.h5 $TMP/r.good
ps=$(sha $TMP/r.h5.partial)
flip $TMP/r.resume.h5 $(( $(addr $TMP/r.resume.h5 models/policy/params) + 1001 ))
expect resume-flip-weights 1 "r.resume.h5: model 'policy': checksum mismatch" $RLGF train $long out=$TMP/r.h5 --resume
cp $TMP/r.good $TMP/r.resume.h5
flip $TMP/r.resume.h5 $(( $(addr $TMP/r.resume.h5 state/blob) + 4000 ))
expect resume-flip-state 1 "r.resume.h5': checksum mismatch" $RLGF train $long out=$TMP/r.h5 --resume
same resume-partial-unchanged "$ps" "$(sha $TMP/r.h5.partial)"
cp $TMP/r.good $TMP/r.resume.h5
check resume-good $RLGF train $long out=$TMP/r.h5 --resume
check resume-reference $RLGF train $long out=$TMP/rref.h5
same resume-good-same-bits "$(dig $TMP/rref.h5)" "$(dig $TMP/r.h5)"
cache=$(ls $C/sl-*.h5 | head -1)
da=$(dig $TMP/a.h5)
flip $cache $(( $(addr $cache models/policy/adam_v) + 99 ))
expect sl-cache-flip-rebuilt 0 "note: SL cache not used, rebuilding it: .*model 'policy': checksum mismatch" $RLGF train $small out=$TMP/c1.h5
same sl-cache-flip-same-bits "$da" "$(dig $TMP/c1.h5)"
# an SL cache of another seed copied under this name
check seed1-run $RLGF train $small seed=1 out=$TMP/s1.h5
for f in $C/sl-*.h5; do [ "$f" != "$cache" ] && cp "$f" "$cache"; done
expect sl-cache-other-config 0 "note: SL cache not used, rebuilding it: .*made with another SL config" $RLGF train $small out=$TMP/c2.h5
same sl-cache-other-same-bits "$da" "$(dig $TMP/c2.h5)"
cp $TMP/a.policy.h5 $TMP/g.policy.h5
flip $TMP/g.policy.h5 $(( $(addr $TMP/g.policy.h5 models/policy/params) + 8 ))
expect guide-policy-flip 1 "guide.path: .*g.policy.h5: model 'policy': checksum mismatch" $RLGF train $small guide.path=$TMP/g.policy.h5 out=$TMP/g.h5

# --- 5. everything checked before the first second of work ---
mkdir -p $TMP/outdir
expect out-is-directory 1 "out = '.*outdir' is a directory" $RLGF train configs/imdb_small.ini cache_dir=$TMP/fresh1 out=$TMP/outdir
[ ! -e $TMP/fresh1 ] && [ -z "$(ls -A $TMP/outdir)" ] && ok out-dir-fails-first || fail out-dir-fails-first "$(ls -A $TMP/outdir $TMP/fresh1 2>&1)"
echo keep > $TMP/afile
expect cache-dir-is-file 1 "cache_dir = '.*afile' is not a directory" $RLGF train configs/imdb_small.ini cache_dir=$TMP/afile out=$TMP/cf.h5
[ "$(cat $TMP/afile)" = keep ] && [ ! -e $TMP/cf.h5.partial ] && ok cache-file-untouched || fail cache-file-untouched "changed"
expect bad-guide-path 1 "guide.path: cannot open checkpoint '.*nope.policy.h5'" $RLGF train configs/imdb_small.ini cache_dir=$TMP/fresh2 guide.path=$TMP/nope.policy.h5 out=$TMP/gp.h5
[ ! -e $TMP/fresh2 ] || [ -z "$(ls -A $TMP/fresh2)" ] && ok bad-guide-before-sl || fail bad-guide-before-sl "SL ran: $(ls $TMP/fresh2)"
expect dev-zero-config 2 "/dev/zero: not a regular file" timeout 20 $RLGF train /dev/zero
printf 'seed = 1\n[ppo]\nlr = 0.01\nepochs = 2\nlr = 0.02\n' > $TMP/dup.ini
expect duplicate-key 2 "dup.ini:5: key 'ppo.lr' is set twice in this file \(first at line 3\)" $RLGF train $TMP/dup.ini
expect memory-estimate 1 "needs about [0-9]+ MiB of memory \(sl.examples = 50000000.*more than the [0-9]+ MiB available" \
  bash -c "ulimit -v 600000; exec $RLGF train configs/imdb_small.ini cache_dir=$TMP/fresh3 sl.examples=50000000 out=$TMP/mem.h5"
# SIGINT during a sweep leaves no *.tmp.PID files (checkpoints are written whole or not at all)
printf '[sweep]\nbase = configs/imdb_small.ini\nout_dir = %s\nset = iterations=400, checkpoint.every=1, cache_dir=%s\n[axes]\nseed = 0, 1\n' $TMP/si $C > $TMP/si.ini
$RLGF sweep $TMP/si.ini --jobs 2 >/dev/null 2>&1 & sp=$!
for _ in $(seq 400); do ls $TMP/si/*.resume.h5 >/dev/null 2>&1 && break; sleep 0.02; done
sleep 1
kill -INT $sp; wait $sp
left=$(ls -a $TMP/si | grep -c '\.tmp\.')
[ "$left" = 0 ] && ls $TMP/si/*.resume.h5 >/dev/null 2>&1 && ok sigint-no-tmp-files || fail sigint-no-tmp-files "$(ls $TMP/si)"
