# The paper's number scripts on a small fixture with known answers: paper/gains.sh (paired
# differences and their t intervals) and paper/numbers.sh (macros, tables, the verdicts of
# P1-P8 and of the map), and their errors on missing input. Needs no run logs: the fixture is
# the CSVs `rlgf analyze` would write.
. tests/lib.sh
A=$TMP/analysis; B=$TMP/build
mkdir -p "$B"
H_RUNS="group,file,seed,complete,metric,final"
H_FINAL="group,metric,n_runs,last_k,mean,std,iqm,ci_lo,ci_hi,guide,pi_ref"
H_CURVES="group,metric,iteration,tokens,n_runs,mean,std,iqm,ci_lo,ci_hi"
H_PI="group_x,group_y,metric,n_x,n_y,p,ci_lo,ci_hi"
mk() { mkdir -p "$A/$1"; echo "$H_RUNS" > "$A/$1/runs.csv"; echo "$H_FINAL" > "$A/$1/final.csv"
       echo "$H_CURVES" > "$A/$1/curves.csv"; echo "$H_PI" > "$A/$1/prob_improvement.csv"; }
run() { echo "$2,/r/$3.h5,$4,1,$5,$6" >> "$A/$1/runs.csv"; }          # analysis group name seed metric value
fin() { echo "$2,$3,3,1,$4,0.01,$4,$5,$6,$7,$8" >> "$A/$1/final.csv"; }  # analysis group metric iqm lo hi guide sl
for d in imdb commongen tldr beta tau map; do mk $d; done

# IMDB main: PPO .70/.71/.72; PPO++ +.19/.20/.21 (mean .2, sd .01: t interval .2 +- 4.303 * .01 / sqrt 3)
# at less KL; AggreVaTeD -.05/-.05/-.06; LOLS in between; D2LOLS = PPO++ +.01/.02/.03 (not resolved)
p=(0.70 0.71 0.72)
for s in 0 1 2; do
  b=${p[$s]}
  add() { run imdb "$1" "algo=$1__tau=-1__seed=$s" $s reward "$(awk -v b="$b" -v d="$2" 'BEGIN { printf "%.6f", b + d }')"; run imdb "$1" "algo=$1__tau=-1__seed=$s" $s kl "$3"; }
  add ppo 0 10; add ppopp "0.$((19 + s))" 9
  add aggrevated "$(awk -v s=$s 'BEGIN { print s == 2 ? -0.06 : -0.05 }')" 8
  add lols "$(awk -v s=$s 'BEGIN { print s == 1 ? 0.06 : 0.05 }')" 9
  add d2lols "$(awk -v s=$s 'BEGIN { print 0.2 + s / 50 }')" 9.5
done
for a in ppo:0.71 ppopp:0.91 aggrevated:0.657 lols:0.763 d2lols:0.93; do
  fin imdb "${a%:*}" reward "${a#*:}" "$(awk -v x="${a#*:}" 'BEGIN { print x - 0.01 }')" "$(awk -v x="${a#*:}" 'BEGIN { print x + 0.01 }')" 0.72 0.70
  fin imdb "${a%:*}" kl 10 9 11 NaN 0
  echo "${a%:*},reward,1,100,3,0.8,0.01,0.8,0.79,0.81" >> "$A/imdb/curves.csv"
done
sed -i 's/^aggrevated,reward,1,100,3,0.8,0.01,0.8,0.79,0.81/aggrevated,reward,1,100,3,0.9,0.01,0.9,0.89,0.91/' "$A/imdb/curves.csv"
# TL;DR's PPO++ gains .0019/.003/.0041: significant by a lower bound of +.00027 (t interval)
tl=(1.0019 1.003 1.0041)
for t in commongen tldr; do
  for s in 0 1 2; do
    run $t ppo "algo=ppo__seed=$s" $s reward 1
    run $t ppopp "algo=ppopp__seed=$s" $s reward "$([ $t = tldr ] && echo ${tl[$s]} || echo 1.$s)"
  done
  fin $t ppo reward 1 0.9 1.1 1.2 0.8; fin $t ppopp reward 1.1 1 1.2 1.2 0.8
done
for a in ppo ppopp; do for it in 0 1 2; do for m in reward:0.$it gold:0.$((3 - it)) kl:$((it * it)); do
  echo "$a,${m%:*},$it,100,3,${m#*:},0.1,${m#*:},0,1" >> "$A/tldr/curves.csv"; done; done; done
# beta: P(beta=.6 > beta=1) = .9 [.6, 1]
fin beta beta=0.6 reward 0.8 0.78 0.82 0.9 0.7; fin beta beta=1 reward 0.7 0.68 0.72 0.9 0.7
echo "beta=0.6,beta=1,reward,3,3,0.9,0.6,1" >> "$A/beta/prob_improvement.csv"
fin tau tau=4 reward 0.8 0.78 0.82 0.9 0.7
# the map: t in {0, .9}, q in {0, 1}; PPO .8 / .1; everything within noise of PPO except PPO++ at
# (.9, 1): +.3; AggreVaTeD drops by .2 from q = 1 to 0, PPO++ and D2LOLS by about 0
for s in 0 1 2; do
  e=$(awk -v s=$s 'BEGIN { printf "%.3f", (s - 1) / 100 }')
  for t in 0 0.9; do
    base=$( [ $t = 0 ] && echo 0.8 || echo 0.1 )
    run map "algo=ppo imdb.threshold=$t" "algo=ppo__imdb.threshold=${t}__guide.quality=0__tau=-1__seed=$s" $s reward $base
    for a in ppopp aggrevated d2lols; do for q in 0 1; do
      g=$e
      [ $a = ppopp ] && [ $t = 0.9 ] && [ $q = 1 ] && g=$(awk -v e=$e 'BEGIN { print 0.3 + e }')
      [ $a = aggrevated ] && [ $q = 0 ] && g=$(awk -v e=$e 'BEGIN { print -0.2 + e / 2 }')
      [ $a = d2lols ] && tau=4 || tau=-1
      run map "algo=$a" "algo=${a}__imdb.threshold=${t}__guide.quality=${q}__tau=${tau}__seed=$s" $s reward "$(awk -v b=$base -v g=$g 'BEGIN { print b + g }')"
    done; done
  done
done
for t in 0 0.9; do for q in 0 1; do
  fin map "algo=ppopp guide.quality=$q imdb.threshold=$t tau=-1" reward 0.5 0.4 0.6 "$(awk -v q=$q -v t=$t 'BEGIN { print (t > 0 ? 0.3 : 0.7) + q / 4 }')" 0.7
done; done

check "gains.sh runs on the fixture" paper/gains.sh "$A"
check "PPO++ - PPO: mean .2, t interval [.1752, .2248]" \
  awk -F, '$1 == "imdb" && $2 == "reward" && $3 == "ppopp" && $4 == "ppo" { f = ($5 == 3 && $6 > 0.19999 && $6 < 0.20001 && $8 > 0.1751 && $8 < 0.1753 && $9 > 0.2247 && $9 < 0.2249) } END { exit !f }' "$A/gains_main.csv"
check "map gain of PPO++ at (.9, 1) is +.3 and significant" \
  awk -F, '$1 == "ppopp" && $2 == "ppo" && $3 == 0.9 && $4 == 1 { f = ($6 > 0.2999 && $6 < 0.3001 && $8 > 0) } END { exit !f }' "$A/gains_map.csv"
check "map: AggreVaTeD's drop minus PPO++'s is about .2" \
  awk -F, '$1 == "aggrevated" && $2 == "ppopp" && $3 == 0 { f = ($5 > 0.19 && $5 < 0.21 && $7 > 0) } END { exit !f }' "$A/dropdiff_map.csv"
check "guide level per cell" grep -qx "0.9,1,0.55,0.7" "$A/guide_map.csv"
check "numbers.sh runs on the fixture" paper/numbers.sh "$A" "$B" 1
N=$B/numbers.tex
has() { grep -qF -- "$1" "$N"; }
check "P1: learners above the SL-level guide in IMDB" has 'rlgfV@P1\endcsname{partly supported: in 1 of the 3 tasks'
check "P3 supported (P(.6 > 1) above 1/2)" has 'rlgfV@P3short\endcsname{supported}'
check "P5 not resolved (D2LOLS - PPO++ interval contains 0)" has 'rlgfV@P5short\endcsname{consistent, not resolved}'
check "P6 supported (LOLS significantly between)" has 'rlgfV@P6short\endcsname{supported}'
check "P7: AggreVaTeD drops most at t = 0, PPO++ at t = .9" has 'second partly supported}'
check "P8 supported for IMDB: PPO++ more reward at less KL" has 'IMDB: PPO++, LOLS, D2LOLS;'
check "map verdict names the cell (0.9, 1) for PPO++" has 'PPO++ ends significantly above PPO in 1 cells (t, q): (0.9, 1);'
check "map verdict: AggreVaTeD below PPO at q = 0" has 'AggreVaTeD ends significantly above PPO in 0 cells (t, q): none; significantly below in 2: (0, 0), (0.9, 0)'
check "gains sentence, IMDB: each guided algorithm, those above and below PPO" \
  has 'rlgfV@gains:imdb\endcsname{PPO++ +0.200 [+0.175, +0.225], AggreVaTeD -0.053 ['
check "gains sentence, IMDB: the summary" has '(significantly above PPO: PPO++, LOLS, D2LOLS; below: AggreVaTeD)}'
check "gains sentence, CommonGen: only what was run, nothing resolved" \
  has 'rlgfV@gains:commongen\endcsname{PPO++ +0.100 [-0.148, +0.348] (significantly above PPO: none; below: none)}'
check "a lower bound near 0 keeps the digits that show it is not 0" \
  has 'rlgfV@gains:tldr\endcsname{PPO++ +0.003 [+0.0003, +0.006] (significantly above PPO: PPO++; below: none)}'
check "a paired interval macro" has 'rlgfN@g:imdb:reward:ppopp-ppo:ci\endcsname{+0.200 [+0.175, +0.225]}'
check "the map table bolds the significant cell" grep -qF '\textbf{+0.300}' "$B/table_map.tex"
check "the IMDB table has the paired gain" grep -qF 'PPO++ & 0.910' "$B/table_imdb.tex"
check "figures.sh draws the map, P7, the IMDB gains and TL;DR's over-optimisation" \
  bash -c "paper/figures.sh '$A' '$TMP/fig' > /dev/null && for f in fig_map fig_quality fig_main_gains fig_overopt; do [ -s '$TMP/fig/'\$f.pdf ] && [ -s '$A/figures/'\$f.png ] || exit 1; done"
check "the over-optimisation data: sqrt(KL) 0, 1, 2 with proxy and gold" \
  bash -c "awk 'NR > 1 { s = s \$2 \":\" \$3 \":\" \$4 \" \" } END { exit s != \"0:0.0:0.3 1:0.1:0.2 2:0.2:0.1 \" }' '$A/figures/overopt_tldr_ppo.dat'"
check "the map figure has one line per difficulty" grep -q "title 't = 0.9'" "$A/figures/fig_map.gp"
rm "$A/map/runs.csv"
expect_fail "gains.sh names a missing input" "gains.sh: missing .*map/runs.csv" paper/gains.sh "$A"
rm "$A/gains_map.csv"
expect_fail "numbers.sh names a missing input" "numbers.sh: missing .*gains_map.csv" paper/numbers.sh "$A" "$B" 1
