#!/usr/bin/env bash
# make paper: runs the reproduction sweeps (paper/sweeps/*.ini), analyses them with `rlgf analyze`,
# turns the generated tables into LaTeX macros (paper/numbers.sh -> paper/build/numbers.tex) and
# builds paper/build/rlgf.pdf with pdflatex. SCALE=small (default, sized for <= 45 min on 2 cores),
# SCALE=full (the larger study), SCALE=tiny (a smoke test of the whole pipeline, a few minutes).
# An interrupted `make paper` continues where it stopped (`rlgf sweep --resume`).
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

# ---- scale: iterations, trajectories per iteration, seeds, D2LOLS switch points ---------------
case "$SCALE" in
  tiny)  ITERS=2;  TRAJ=8;  MB=4;  EVERY=1; EPROMPTS=8;  SEEDS=0..1; TAU=1;  TAUS="2" ;;
  small) ITERS=6;  TRAJ=32; MB=8;  EVERY=2; EPROMPTS=32; SEEDS=0..4; TAU=2;  TAUS="4, 6" ;;
  full)  ITERS=30; TRAJ=64; MB=16; EVERY=5; EPROMPTS=32; SEEDS=0..9; TAU=12; TAUS="4, 20, 30" ;;
  *) echo "paper: SCALE must be tiny, small or full (got '$SCALE')" >&2; exit 2 ;;
esac
NSEEDS=$(( ${SEEDS#*..} - ${SEEDS%..*} + 1 ))
SET="iterations=$ITERS, trajectories=$TRAJ, ppo.minibatch=$MB, eval.every=$EVERY, eval.prompts=$EPROMPTS, eval.test_prompts=0, save_policy=false, threads=1"
R=results/paper/$SCALE
mkdir -p "$R/sweeps" paper/build
start=$(date +%s)

# ---- sweeps --------------------------------------------------------------------------------------
SPECS="imdb_main commongen_main tldr_main imdb_beta imdb_tau"
for s in $SPECS; do
  sed -e "s|@OUT@|$R|g" -e "s|@SET@|$SET|g" -e "s|@SEEDS@|$SEEDS|g" -e "s|@TAUS@|$TAUS|g" \
      -e "s|@TAU@|$TAU|g" -e "s|@ITERS@|$ITERS|g" "paper/sweeps/$s.ini" > "$R/sweeps/$s.ini"
done
for s in $SPECS; do
  echo "== paper ($SCALE): sweep $s ($(./rlgf sweep "$R/sweeps/$s.ini" --dry-run | head -n1 | sed 's/.*: \([0-9]*\) runs.*/\1/') runs, $JOBS at a time)"
  ./rlgf sweep "$R/sweeps/$s.ini" --jobs "$JOBS" --resume
done
tsweep=$(date +%s)

# ---- analysis ------------------------------------------------------------------------------------
A=$R/analysis
rm -rf "$A"; mkdir -p "$A"
an() { local out=$1; shift; ./rlgf analyze "$@" -o "$A/$out" > "$A/$out.txt"; }
an imdb      "$R"/imdb_main/*guide.quality=0.5__*.h5
an commongen "$R"/commongen_main
an tldr      "$R"/tldr_main
an guide     "$R"/imdb_main/algo=ppo__*.h5 "$R"/imdb_main/algo=ppopp__*.h5 \
             "$R"/imdb_main/algo=aggrevated__*.h5 "$R"/imdb_main/algo=d2lols__*.h5
an beta      "$R"/imdb_beta
an tau       "$R"/imdb_main/algo=d2lols__guide.quality=0.5__*.h5 "$R"/imdb_tau
tanalysis=$(date +%s)

# ---- LaTeX ---------------------------------------------------------------------------------------
B=paper/build
rm -rf "$B"; mkdir -p "$B/fig"
for t in imdb commongen tldr; do
  cp "$A/$t/final.tex" "$B/final_$t.tex"
  cp "$A/$t/fig_reward_iter.pdf" "$B/fig/reward_iter_$t.pdf"
  cp "$A/$t/fig_tradeoff.pdf" "$B/fig/tradeoff_$t.pdf"
done
cp "$A/guide/fig_final_vs_guide_quality.pdf" "$B/fig/final_vs_q.pdf"
cp "$A/beta/fig_final_vs_beta.pdf" "$B/fig/final_vs_beta.pdf"
cp "$A/tau/fig_final_vs_tau.pdf" "$B/fig/final_vs_tau.pdf"
cat > "$B/scale.tex" <<EOF
\\newcommand{\\Scale}{$SCALE}
\\newcommand{\\Iters}{$ITERS}
\\newcommand{\\Traj}{$TRAJ}
\\newcommand{\\Minibatch}{$MB}
\\newcommand{\\EvalEvery}{$EVERY}
\\newcommand{\\EvalPrompts}{$EPROMPTS}
\\newcommand{\\Seeds}{$NSEEDS}
\\newcommand{\\TauMain}{$TAU}
\\newcommand{\\TauValues}{$TAUS}
\\newcommand{\\RunMinutes}{$(cat "$R"/*/manifest.tsv | awk -F'\t' '$3 == "ok" { s += $5 } END { printf "%.0f", s / 60 }')}
\\newcommand{\\NRuns}{$(cat "$R"/*/manifest.tsv | grep -c '	ok	' || true)}
\\newcommand{\\Version}{$(./rlgf --version 2>/dev/null | head -n1 | sed -e 's/^rlgf //' -e 's/[_&%#$]/\\&/g' || echo unknown)}
EOF
paper/numbers.sh "$A" "$B" "$EVERY"
cp paper/rlgf.tex "$B/rlgf.tex"
( cd "$B" && for i in 1 2; do
    pdflatex -interaction=nonstopmode -halt-on-error rlgf.tex > pdflatex.log 2>&1 \
      || { tail -n 30 pdflatex.log >&2; echo "paper: pdflatex failed, see $B/pdflatex.log" >&2; exit 1; }
  done )
end=$(date +%s)
echo "paper ($SCALE): sweeps $((tsweep - start)) s, analysis $((tanalysis - tsweep)) s, LaTeX $((end - tanalysis)) s"
echo "paper: $B/rlgf.pdf   (runs: $R/, analysis: $A/, numbers: $B/numbers.tex)"
