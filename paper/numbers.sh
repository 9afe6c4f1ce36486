#!/bin/sh
# paper/numbers.sh ANALYSIS_DIR BUILD_DIR EVAL_EVERY
# Reads the tables `rlgf analyze` wrote (final.csv, curves.csv, prob_improvement.csv of the
# analyses imdb, commongen, tldr, guide, beta, tau under ANALYSIS_DIR) and writes
#   BUILD_DIR/numbers.tex   one macro per number: \N{key} prints it (keys below), and the verdict
#                           sentences of the predictions P1-P8, computed from the same numbers;
#   BUILD_DIR/table_TASK.tex  a compact results table per task (reward, KL, a task metric, P(>PPO)).
# Plain POSIX sh + awk (Debian always has both). Every number in paper/rlgf.tex comes from here.
# Keys: TASK:ALGO:METRIC (IQM of the final score), ...:lo / ...:hi (95% CI), TASK:SL:METRIC and
# TASK:guide:METRIC (levels), TASK:ALGO:early (IQM reward at the first evaluation after 0),
# TASK:X>Y (P(X > Y) of the final reward, with :lo/:hi), q:ALGO:Q:reward, q:guide:Q:reward,
# b:BETA:reward, b:X>Y, tau:TAU:reward; ALGO in ppo ppopp aggrevated lols d2lols.
set -eu
A=$1; B=$2; EVERY=$3
for l in imdb commongen tldr guide beta tau; do
  for f in final curves prob_improvement; do
    [ -f "$A/$l/$f.csv" ] || { echo "numbers.sh: missing $A/$l/$f.csv" >&2; exit 1; }
    tail -n +2 "$A/$l/$f.csv" | sed "s/^/$f|$l|/"
  done
done | awk -F'|' -v B="$B" -v EVERY="$EVERY" '
function num(x) { return (x == "NaN" || x == "" || x == "nan" || x == "-nan") ? "" : x + 0 }
function fmt(x,   a) {
  if (x == "") return "--"
  a = x < 0 ? -x : x
  if (a >= 100) return sprintf("%.0f", x)
  if (a >= 10) return sprintf("%.1f", x)
  if (a >= 1) return sprintf("%.2f", x)
  return sprintf("%.3f", x)
}
function fp(x) { return x == "" ? "--" : sprintf("%.2f", x) }
# group name -> "ALGO" plus ":value" of the ablation key (guide.quality, beta or tau)
function gkey(g, label,   n, t, i, k, v, algo, ab) {
  algo = (label == "beta") ? "ppopp" : (label == "tau") ? "d2lols" : ""
  ab = ""
  n = split(g, t, " ")
  for (i = 1; i <= n; i++) {
    if (index(t[i], "=") == 0) { algo = t[i]; continue }
    k = substr(t[i], 1, index(t[i], "=") - 1); v = substr(t[i], index(t[i], "=") + 1)
    if (k == "algo") algo = v
    if ((label == "guide" && k == "guide.quality") || (label == "beta" && k == "beta") || (label == "tau" && k == "tau"))
      ab = sprintf("%g", v + 0)
  }
  if (label == "beta") return ab
  if (label == "tau") return ab
  if (label == "guide") return algo ":" ab
  return algo
}
function short(p, s) { printf "\\expandafter\\def\\csname rlgfV@%sshort\\endcsname{%s}\n", p, s > out }
function put(k, v) { V[k] = v }
function has(k) { return (k in V) && V[k] != "" }
{
  kind = $1; label = $2; n = split($3, c, ",")
  pre = (label == "guide") ? "q" : (label == "beta") ? "b" : label
  if (kind == "final") {
    g = gkey(c[1], label); m = c[2]
    put(pre ":" g ":" m, num(c[7])); put(pre ":" g ":" m ":lo", num(c[8])); put(pre ":" g ":" m ":hi", num(c[9]))
    put(pre ":" g ":" m ":n", c[3]); put(pre ":" g ":" m ":mean", num(c[5]))
    if (label == "guide") { split(g, gq, ":"); put("q:guide:" gq[2] ":" m, num(c[10])); put("q:SL:" gq[2] ":" m, num(c[11])) }
    else { put(pre ":guide:" m, num(c[10])); put(pre ":SL:" m, num(c[11])) }
    if (label == "guide" && m == "reward") { split(g, gq, ":"); Q[gq[2]] = 1 }
    if (label == "beta" && m == "reward") BETAS[g] = 1
    if (label == "tau" && m == "reward") TAUS[g] = 1
  } else if (kind == "curves") {
    if (c[2] == "reward" && c[3] + 0 == EVERY + 0) put(pre ":" gkey(c[1], label) ":early", num(c[8]))
  } else if (kind == "prob_improvement") {
    if (c[3] == "reward") {
      k = pre ":" gkey(c[1], label) ">" gkey(c[2], label)
      put(k, num(c[6])); put(k ":lo", num(c[7])); put(k ":hi", num(c[8]))
    }
  }
}
function task_table(t, metric, mname,   f, a, i, r) {
  f = B "/table_" t ".tex"
  printf "\\begin{tabular}{lllll}\n\\toprule\n" > f
  printf "method & reward & KL to $\\pi_{\\mathrm{ref}}$ & %s & $P(X > \\mathrm{PPO})$ \\\\\n\\midrule\n", mname > f
  printf "SL ($\\pi_{\\mathrm{ref}}$) & %s & %s & %s & \\\\\n", fmt(V[t ":SL:reward"]), fmt(V[t ":SL:kl"]), fmt(V[t ":SL:" metric]) > f
  printf "guide (oracle, $q = 0.5$) & %s & -- & %s & \\\\\n\\midrule\n", fmt(V[t ":guide:reward"]), fmt(V[t ":guide:" metric]) > f
  for (i = 1; i <= NA; i++) {
    a = AL[i]; r = t ":" a ":"
    printf "%s & %s {\\footnotesize[%s, %s]} & %s {\\footnotesize[%s, %s]} & %s & %s \\\\\n", NAME[a],
      fmt(V[r "reward"]), fmt(V[r "reward:lo"]), fmt(V[r "reward:hi"]),
      fmt(V[r "kl"]), fmt(V[r "kl:lo"]), fmt(V[r "kl:hi"]), fmt(V[r metric]),
      (a == "ppo") ? "" : fp(V[t ":" a ">ppo"]) " {\\footnotesize[" fp(V[t ":" a ">ppo:lo"]) ", " fp(V[t ":" a ">ppo:hi"]) "]}" > f
  }
  printf "\\bottomrule\n\\end{tabular}\n" > f
  close(f)
}
# a verdict on P(X > Y): its CI above 1/2, below 1/2, or containing it
function pv(k) {
  if (!has(k ":lo")) return "n/a"
  if (V[k ":lo"] > 0.5) return "higher"
  if (V[k ":hi"] < 0.5) return "lower"
  return "tie"
}
END {
  NA = split("ppo ppopp aggrevated lols d2lols", AL, " ")
  NAME["ppo"] = "PPO"; NAME["ppopp"] = "PPO++"; NAME["aggrevated"] = "AggreVaTeD"; NAME["lols"] = "LOLS"; NAME["d2lols"] = "D2LOLS"
  NT = split("imdb commongen tldr", T, " ")
  TN["imdb"] = "IMDB"; TN["commongen"] = "CommonGen"; TN["tldr"] = "TL;DR"
  task_table("imdb", "true_sentiment", "true sentiment")
  task_table("commongen", "coverage", "concept coverage")
  task_table("tldr", "gold", "gold utility")
  out = B "/numbers.tex"
  print "% Written by paper/numbers.sh from the rlgf analyze tables. \\N{key} prints a number." > out
  print "\\newcommand{\\N}[1]{\\ifcsname rlgfN@#1\\endcsname\\csname rlgfN@#1\\endcsname\\else\\textbf{??}\\PackageWarning{numbers}{no number #1}\\fi}" > out
  print "\\newcommand{\\Vd}[1]{\\ifcsname rlgfV@#1\\endcsname\\csname rlgfV@#1\\endcsname\\else\\textbf{??}\\fi}" > out
  for (k in V) if (k !~ /:n$/) {
    s = (k ~ />/ ) ? fp(V[k]) : fmt(V[k])
    printf "\\expandafter\\def\\csname rlgfN@%s\\endcsname{%s}\n", k, s > out
  }

  # ---- P1: learners end above the (suboptimal) guide
  yes = 0; above = 0; below = 0; tot = 0; txt = ""
  for (i = 1; i <= NT; i++) {
    t = T[i]; G = V[t ":guide:reward"]; best = ""; bv = -1e30; any = 0
    for (j = 1; j <= NA; j++) {
      a = AL[j]; if (!has(t ":" a ":reward")) continue
      tot++
      if (V[t ":" a ":reward:lo"] > G) { above++; any = 1 }
      if (V[t ":" a ":reward:hi"] < G) below++
      if (V[t ":" a ":reward"] > bv) { bv = V[t ":" a ":reward"]; best = a }
    }
    yes += any
    txt = txt sprintf("%s: best %s, %s against the guide%s %s; ", TN[t], NAME[best], fmt(bv), "", fmt(G))
  }
  sub(/; $/, "", txt)
  v = (yes == NT) ? "supported: in every task at least one learner ends with its whole CI above the guide" : \
      (yes > 0) ? sprintf("partly supported: only in %d of the %d tasks does a learner end with its whole CI above the guide", yes, NT) : \
      "not supported: no learner ends with its whole CI above the guide in any task"
  sv = v; sub(/:.*/, "", sv); short("P1", sv)
  printf "\\expandafter\\def\\csname rlgfV@P1\\endcsname{%s. Of the %d (task, learner) pairs, %d end above the guide level and %d below it (95\\%% CI entirely on one side); %s}\n", v, tot, above, below, txt > out

  # ---- P3: beta near 1 hurts PPO++ (beta 1 against the spec value .6)
  k = "b:0.6>1"; r = pv(k)
  v = (r == "higher") ? "supported: $\\beta = 0.6$ beats $\\beta = 1$ (the CI of $P$ lies above $1/2$)" : \
      (r == "lower") ? "contradicted: $\\beta = 1$ beats $\\beta = 0.6$ (the CI of $P$ lies below $1/2$)" : \
      (r == "tie") ? "not resolved by these data: the CI of $P(\\beta{=}0.6 > \\beta{=}1)$ contains $1/2$" : "not tested (no data)"
  sv = v; sub(/:.*/, "", sv); short("P3", sv)
  printf "\\expandafter\\def\\csname rlgfV@P3\\endcsname{%s}\n", v > out

  # ---- P4: AggreVaTeD rises fastest early; plateaus near the guide
  fast = 0; near = 0; txt = ""
  for (i = 1; i <= NT; i++) {
    t = T[i]; e = V[t ":aggrevated:early"]; top = 1
    for (j = 1; j <= NA; j++) { a = AL[j]; if (a == "aggrevated" || a == "d2lols") continue; if (has(t ":" a ":early") && V[t ":" a ":early"] > e) top = 0 }
    fast += top
    G = V[t ":guide:reward"]
    if (V[t ":aggrevated:reward:lo"] <= G && G <= V[t ":aggrevated:reward:hi"]) near++
  }
  printf "\\expandafter\\def\\csname rlgfV@P4\\endcsname{At the first evaluation AggreVaTeD is ahead of PPO, PPO++ and LOLS in %d of %d tasks; its final CI contains the guide level in %d of %d tasks}\n", fast, NT, near, NT > out
  short("P4", (fast == NT) ? "early rise supported" : (fast > 0) ? "early rise partly supported" : "early rise not supported")
  printf "\\expandafter\\def\\csname rlgfV@P4v\\endcsname{%s}\n", (fast == NT) ? "the early-rise half is supported" : (fast > 0) ? "the early-rise half is only partly supported" : "the early-rise half is not supported" > out

  # ---- P5: D2LOLS ends at least as high as PPO++
  ok = 0; hi = 0
  for (i = 1; i <= NT; i++) { r = pv(T[i] ":d2lols>ppopp"); if (r != "lower" && r != "n/a") ok++; if (r == "higher") hi++ }
  short("P5", (ok == NT) ? "consistent" : "not supported")
  printf "\\expandafter\\def\\csname rlgfV@P5\\endcsname{%s: D2LOLS is not significantly below PPO++ in %d of %d tasks and significantly above it in %d}\n", \
    (ok == NT) ? "consistent with the prediction" : "not supported", ok, NT, hi > out

  # ---- P6: LOLS sits between PPO++ and AggreVaTeD
  btw = 0
  for (i = 1; i <= NT; i++) { t = T[i]; x = V[t ":ppopp:reward"]; y = V[t ":aggrevated:reward"]; l = V[t ":lols:reward"]
    if ((x <= l && l <= y) || (y <= l && l <= x)) btw++ }
  short("P6", (btw == NT) ? "supported" : (btw > 0) ? "partly supported" : "not supported")
  printf "\\expandafter\\def\\csname rlgfV@P6\\endcsname{%s: the final IQM of LOLS lies between those of PPO++ and AggreVaTeD in %d of %d tasks}\n", \
    (btw == NT) ? "supported" : (btw > 0) ? "partly supported" : "not supported", btw, NT > out

  # ---- P7: as q falls, PPO++ tends to PPO and AggreVaTeD degrades most
  qmin = ""; qmax = ""
  for (q in Q) { if (!has("q:ppopp:" q ":reward")) continue; if (qmin == "" || q + 0 < qmin + 0) qmin = q; if (qmax == "" || q + 0 > qmax + 0) qmax = q }
  if (qmin != "" && qmin != qmax && has("q:ppo:0.5:reward")) {
    p0 = V["q:ppo:0.5:reward"]
    g1 = V["q:ppopp:" qmin ":reward"] - p0; g2 = V["q:ppopp:" qmax ":reward"] - p0
    a1 = (g1 < 0) ? -g1 : g1; a2 = (g2 < 0) ? -g2 : g2
    worst = ""; wd = -1e30
    split("ppopp aggrevated d2lols", GA, " ")
    for (j = 1; j <= 3; j++) { d = V["q:" GA[j] ":" qmax ":reward"] - V["q:" GA[j] ":" qmin ":reward"]; put("q:" GA[j] ":drop", d); if (d > wd) { wd = d; worst = GA[j] } }
    printf "\\expandafter\\def\\csname rlgfN@q:ppopp:gaplo\\endcsname{%s}\n\\expandafter\\def\\csname rlgfN@q:ppopp:gaphi\\endcsname{%s}\n", fmt(g1), fmt(g2) > out
    for (j = 1; j <= 3; j++) printf "\\expandafter\\def\\csname rlgfN@q:%s:drop\\endcsname{%s}\n", GA[j], fmt(V["q:" GA[j] ":drop"]) > out
    printf "\\expandafter\\def\\csname rlgfN@q:min\\endcsname{%s}\n\\expandafter\\def\\csname rlgfN@q:max\\endcsname{%s}\n", qmin, qmax > out
    short("P7", ((a1 < a2) ? "first half supported" : "first half not supported") ", " ((worst == "aggrevated") ? "second half supported" : "second half not supported"))
    for (j = 1; j <= 3; j++) { printf "\\expandafter\\def\\csname rlgfN@q:%s:min:reward\\endcsname{%s}\n", GA[j], fmt(V["q:" GA[j] ":" qmin ":reward"]) > out
      printf "\\expandafter\\def\\csname rlgfN@q:%s:max:reward\\endcsname{%s}\n", GA[j], fmt(V["q:" GA[j] ":" qmax ":reward"]) > out }
    printf "\\expandafter\\def\\csname rlgfN@q:guide:min:reward\\endcsname{%s}\n", fmt(V["q:guide:" qmin ":reward"]) > out
    printf "\\expandafter\\def\\csname rlgfN@q:guide:max:reward\\endcsname{%s}\n", fmt(V["q:guide:" qmax ":reward"]) > out
    printf "\\expandafter\\def\\csname rlgfV@P7\\endcsname{the first half (PPO++ closer to PPO at low $q$) is %s; the second half (AggreVaTeD degrades most) is %s, the largest drop being %s%s}\n", \
      (a1 < a2) ? "supported" : "not supported", (worst == "aggrevated") ? "supported" : "not supported", NAME[worst], "'"'"'s" > out
  } else { short("P7", "not tested"); printf "\\expandafter\\def\\csname rlgfV@P7\\endcsname{not tested (no guide-quality data)}\n" > out }

  # ---- P8: at equal KL guided methods reach more reward than PPO (final points)
  dom = 0; txt = ""
  for (i = 1; i <= NT; i++) { t = T[i]; d = ""
    for (j = 2; j <= NA; j++) { a = AL[j]; if (V[t ":" a ":reward"] > V[t ":ppo:reward"] && V[t ":" a ":kl"] <= V[t ":ppo:kl"]) d = d (d == "" ? "" : ", ") NAME[a] }
    if (d != "") dom++
    txt = txt sprintf("%s: %s; ", TN[t], (d == "") ? "none" : d) }
  sub(/; $/, "", txt)
  short("P8", (dom == NT) ? "supported" : (dom > 0) ? "partly supported" : "not supported")
  printf "\\expandafter\\def\\csname rlgfV@P8\\endcsname{%s: in %d of %d tasks at least one guided method ends with more reward than PPO at no more KL (%s)}\n", \
    (dom == NT) ? "supported" : (dom > 0) ? "partly supported" : "not supported by the final points", dom, NT, txt > out
  close(out)
}'
echo "numbers: $B/numbers.tex, $B/table_imdb.tex, $B/table_commongen.tex, $B/table_tldr.tex"
