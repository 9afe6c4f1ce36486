#!/usr/bin/env bash
# make paper: runs the reproduction sweeps (paper/sweeps/*.ini), analyses them with `rlgf analyze`,
# computes the paired gains over PPO and the extra figures (paper/gains.sh, paper/figures.sh),
# the reproducibility appendix (paper/appendix.sh), turns the tables into LaTeX macros
# (paper/numbers.sh -> paper/build/numbers.tex) and builds paper/build/rlgf.pdf with pdflatex.
# SCALE=small (default, sized for <= 45 min on 2 cores), SCALE=full (the reference budgets, sized
# for 2.5 h on 2 cores), SCALE=tiny (a smoke test of the whole pipeline, a few minutes). The sizes
# of each scale and what they cost are in paper/README.md. An interrupted `make paper` continues
# where it stopped (`rlgf sweep --resume`).
set -euo pipefail
SCALE=${SCALE:-small}
JOBS=${JOBS:-2}

# ---- LaTeX from Debian, only what is missing (booktabs is in texlive-latex-recommended) --------
need=()
command -v pdflatex >/dev/null || need+=(texlive-latex-base)
dpkg-query -W -f='${Status}' texlive-latex-recommended 2>/dev/null | grep -q "install ok installed" \
  || need+=(texlive-latex-recommended)
if [ ${#need[@]} -gt 0 ]; then
  echo "paper: installing missing Debian packages: ${need[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "paper: cannot install ${need[*]}: not root and no sudo." >&2
    echo "       Ask an administrator to run: apt-get install ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show texlive-latex-recommended >/dev/null 2>&1; then $SUDO apt-get update -qq || true; fi
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; then
    echo "paper: apt-get failed to install: ${need[*]}" >&2
    echo "       Check the network/proxy and run: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

# ---- scale ---------------------------------------------------------------------------------------
# M_*: the IMDB main comparison (reference condition: the SL policy as guide); P_*: the IMDB
# difficulty x guide-quality map, which also holds the guide-quality ablation (t = 0) and the
# beta/tau ablations' budget; C_*: CommonGen; T_*: TL;DR. *_IT iterations, *_TR trajectories,
# *_MB minibatch (epochs: the base configs' 5 / 4 / 4, the reference's), *_EV evaluation period,
# *_SEEDS seeds; TAU_* D2LOLS's switch (20/50 of the run, as the reference); LAST final score =
# mean of the last LAST evaluations; PROMPTS validation prompts per evaluation.
case "$SCALE" in
  tiny)
    PROMPTS=8; LAST=1
    M_IT=2;   M_TR=8;   M_MB=4;  M_EV=1;  M_SEEDS=0..1; TAU_M=1
    P_IT=2;   P_TR=8;   P_MB=4;  P_EV=1;  P_SEEDS=0..1; TAU_P=1; QS="0, 1"; TS="0, 0.9"
    BETAS="0.6, 1"; TAUS="2"; Q_ABL=1
    C_IT=2;   C_TR=8;   C_MB=4;  C_EV=1;  C_SEEDS=0..1; TAU_C=1; CG_ALGOS="ppo, ppopp"
    T_IT=2;   T_TR=8;   T_MB=4;  T_EV=1;  T_SEEDS=0..1; TAU_T=1; TL_ALGOS="ppo, ppopp" ;;
  small)
    PROMPTS=128; LAST=3
    M_IT=25;  M_TR=112; M_MB=28; M_EV=5;  M_SEEDS=0..9; TAU_M=10
    P_IT=10;  P_TR=112; P_MB=28; P_EV=2;  P_SEEDS=0..2; TAU_P=4; QS="0, 0.5, 1"; TS="0, 0.9"
    BETAS="0.6, 1"; TAUS="8"; Q_ABL=0.5
    C_IT=50;  C_TR=128; C_MB=32; C_EV=10; C_SEEDS=0..2; TAU_C=10; CG_ALGOS="ppo, ppopp"
    T_IT=30;  T_TR=128; T_MB=32; T_EV=6;  T_SEEDS=0..2; TAU_T=6;  TL_ALGOS="ppo, ppopp" ;;
  full)
    PROMPTS=128; LAST=3
    M_IT=50;  M_TR=112; M_MB=28; M_EV=5;  M_SEEDS=0..9; TAU_M=20
    P_IT=20;  P_TR=112; P_MB=28; P_EV=4;  P_SEEDS=0..3; TAU_P=8; QS="0, 0.25, 0.5, 0.75, 1"; TS="0, 0.8, 0.9"
    BETAS="0.2, 0.6, 1"; TAUS="4, 16"; Q_ABL=0.5
    C_IT=500; C_TR=128; C_MB=32; C_EV=50; C_SEEDS=0..2; TAU_C=100; CG_ALGOS="ppo, ppopp, aggrevated, d2lols"
    T_IT=500; T_TR=128; T_MB=32; T_EV=50; T_SEEDS=0..2; TAU_T=100; TL_ALGOS="ppo, ppopp" ;;
  *) echo "paper: SCALE must be tiny, small or full (got '$SCALE')" >&2; exit 2 ;;
esac
nseeds() { echo $(( ${1#*..} - ${1%..*} + 1 )); }
set_for() { # iterations trajectories minibatch eval.every
  echo "iterations=$1, trajectories=$2, ppo.minibatch=$3, eval.every=$4, eval.prompts=$PROMPTS, eval.test_prompts=0, save_policy=false, threads=1, log.timing=true"
}
SET_M=$(set_for $M_IT $M_TR $M_MB $M_EV); SET_P=$(set_for $P_IT $P_TR $P_MB $P_EV)
SET_C=$(set_for $C_IT $C_TR $C_MB $C_EV); SET_T=$(set_for $T_IT $T_TR $T_MB $T_EV)
list() { echo "$1" | tr -d ' ' | tr ',' ' '; }
# exclusion lines the templates cannot spell for every scale
EXCLUDE_PPO_Q=""; first=1
for q in $(list "$QS"); do [ $first = 1 ] && { first=0; continue; }; EXCLUDE_PPO_Q+="algo = ppo, guide.quality = $q"$'\n'; done
EXCLUDE_ABL="algo = ppopp, beta = -1"$'\n'"algo = d2lols, tau = -1"$'\n'
for b in $(list "$BETAS"); do EXCLUDE_ABL+="algo = d2lols, beta = $b"$'\n'; done
for t in $(list "$TAUS"); do EXCLUDE_ABL+="algo = ppopp, tau = $t"$'\n'; done
tau_excl() { # algos tau: every algo but d2lols at tau, d2lols at -1
  local out="" a
  for a in $(list "$1"); do if [ "$a" = d2lols ]; then out+="algo = d2lols, tau = -1"$'\n'; else out+="algo = $a, tau = $2"$'\n'; fi; done
  printf '%s' "$out"
}
EXCLUDE_CG=$(tau_excl "$CG_ALGOS" $TAU_C); EXCLUDE_TL=$(tau_excl "$TL_ALGOS" $TAU_T)

R=results/paper/$SCALE
mkdir -p "$R/sweeps" paper/build
start=$(date +%s)

# ---- sweeps --------------------------------------------------------------------------------------
SPECS="imdb_main imdb_map imdb_ablations commongen_main tldr_main tldr_overopt"
fill() { # template -> filled spec (every @NAME@ by the shell variable NAME; multi-line ones too)
  OUT=$R SEEDS_M=$M_SEEDS SEEDS_P=$P_SEEDS SEEDS_C=$C_SEEDS SEEDS_T=$T_SEEDS ITERS_M=$M_IT ITERS_P=$P_IT \
  ITERS_C=$C_IT ITERS_T=$T_IT SET_M=$SET_M SET_P=$SET_P SET_C=$SET_C SET_T=$SET_T TAU_M=$TAU_M TAU_P=$TAU_P \
  TAU_C=$TAU_C TAU_T=$TAU_T QS=$QS TS=$TS BETAS=$BETAS TAUS=$TAUS Q_ABL=$Q_ABL CG_ALGOS=$CG_ALGOS \
  TL_ALGOS=$TL_ALGOS EXCLUDE_PPO_Q=$EXCLUDE_PPO_Q EXCLUDE_ABL=$EXCLUDE_ABL EXCLUDE_CG=$EXCLUDE_CG \
  EXCLUDE_TL=$EXCLUDE_TL awk '{
      while (match($0, /@[A-Z_]+@/)) {
        k = substr($0, RSTART + 1, RLENGTH - 2)
        if (!(k in ENVIRON)) { print "paper: " FILENAME ": unknown field @" k "@" > "/dev/stderr"; exit 2 }
        $0 = substr($0, 1, RSTART - 1) ENVIRON[k] substr($0, RSTART + RLENGTH)
      }
      print
    }' "$1"
}
for s in $SPECS; do fill "paper/sweeps/$s.ini" > "$R/sweeps/$s.ini"; done
if [ "${PAPER_DRY_RUN:-0}" = 1 ]; then # PAPER_DRY_RUN=1: what would run, then stop
  for s in $SPECS; do ./rlgf sweep "$R/sweeps/$s.ini" --dry-run | head -n 1 || true; done
  exit 0
fi
for s in $SPECS; do
  n=$(./rlgf sweep "$R/sweeps/$s.ini" --dry-run | sed -n '1s/.*: \([0-9]*\) runs.*/\1/p')
  echo "== paper ($SCALE): sweep $s ($n runs, $JOBS at a time)"
  ./rlgf sweep "$R/sweeps/$s.ini" --jobs "$JOBS" --resume
done
tsweep=$(date +%s)

# ---- analysis ------------------------------------------------------------------------------------
A=$R/analysis
rm -rf "$A"; mkdir -p "$A"
an() { local out=$1; shift; ./rlgf analyze --last "$LAST" "$@" -o "$A/$out" > "$A/$out.txt"; }
an imdb      "$R"/imdb_main
an map       "$R"/imdb_map --no-plots
an commongen "$R"/commongen_main
an tldr      "$R"/tldr_main
an overopt   "$R"/tldr_overopt
an beta      "$R"/imdb_ablations/algo=ppopp__*.h5
an tau       "$R"/imdb_map/algo=d2lols__imdb.threshold=0__guide.quality=${Q_ABL}__*.h5 "$R"/imdb_ablations/algo=d2lols__*.h5
paper/gains.sh "$A"
tanalysis=$(date +%s)

# ---- LaTeX ---------------------------------------------------------------------------------------
B=paper/build
rm -rf "$B"; mkdir -p "$B/fig"
for t in imdb commongen tldr; do
  cp "$A/$t/final.tex" "$B/final_$t.tex"
  cp "$A/$t/fig_reward_iter.pdf" "$B/fig/reward_iter_$t.pdf"
  cp "$A/$t/fig_tradeoff.pdf" "$B/fig/tradeoff_$t.pdf"
done
cp "$A/beta/fig_final_vs_beta.pdf" "$B/fig/final_vs_beta.pdf"
cp "$A/tau/fig_final_vs_tau.pdf" "$B/fig/final_vs_tau.pdf"
paper/figures.sh "$A" "$B/fig"
paper/appendix.sh "$R" "$B" "$SPECS"
cat > "$B/scale.tex" <<EOF
\\newcommand{\\Scale}{$SCALE}
\\newcommand{\\Prompts}{$PROMPTS}
\\newcommand{\\LastK}{$LAST}
\\newcommand{\\MIters}{$M_IT}\\newcommand{\\MTraj}{$M_TR}\\newcommand{\\MMinibatch}{$M_MB}\\newcommand{\\MEvery}{$M_EV}\\newcommand{\\MSeeds}{$(nseeds $M_SEEDS)}\\newcommand{\\TauMain}{$TAU_M}
\\newcommand{\\PIters}{$P_IT}\\newcommand{\\PTraj}{$P_TR}\\newcommand{\\PMinibatch}{$P_MB}\\newcommand{\\PEvery}{$P_EV}\\newcommand{\\PSeeds}{$(nseeds $P_SEEDS)}\\newcommand{\\TauMap}{$TAU_P}
\\newcommand{\\Qs}{$QS}\\newcommand{\\Ts}{$TS}\\newcommand{\\Betas}{$BETAS}\\newcommand{\\TauValues}{$TAUS}\\newcommand{\\QAbl}{$Q_ABL}
\\newcommand{\\CIters}{$C_IT}\\newcommand{\\CTraj}{$C_TR}\\newcommand{\\CMinibatch}{$C_MB}\\newcommand{\\CSeeds}{$(nseeds $C_SEEDS)}\\newcommand{\\TauCG}{$TAU_C}\\newcommand{\\CGAlgos}{$CG_ALGOS}
\\newcommand{\\TIters}{$T_IT}\\newcommand{\\TTraj}{$T_TR}\\newcommand{\\TMinibatch}{$T_MB}\\newcommand{\\TSeeds}{$(nseeds $T_SEEDS)}\\newcommand{\\TauTL}{$TAU_T}\\newcommand{\\TLAlgos}{$TL_ALGOS}
\\newcommand{\\Version}{$(./rlgf --version 2>/dev/null | head -n1 | sed -e 's/^rlgf //' -e 's/[_&%#$]/\\&/g' || echo unknown)}
EOF
paper/numbers.sh "$A" "$B" "$M_EV"
cp paper/rlgf.tex "$B/rlgf.tex"
( cd "$B" && for i in 1 2; do
    pdflatex -interaction=nonstopmode -halt-on-error rlgf.tex > pdflatex.log 2>&1 \
      || { tail -n 30 pdflatex.log >&2; echo "paper: pdflatex failed, see $B/pdflatex.log" >&2; exit 1; }
  done )
cp "$B/rlgf.pdf" "$R/rlgf.pdf" # paper/build is shared by the scales; each keeps its own copy
end=$(date +%s)
echo "paper ($SCALE): sweeps $((tsweep - start)) s, analysis $((tanalysis - tsweep)) s, figures and LaTeX $((end - tanalysis)) s"
echo "paper: $B/rlgf.pdf (also $R/rlgf.pdf)   (runs: $R/, analysis: $A/, numbers: $B/numbers.tex)"
