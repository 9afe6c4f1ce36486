#!/bin/sh
# paper/numbers.sh ANALYSIS_DIR BUILD_DIR EVAL_EVERY
# Reads the tables `rlgf analyze` wrote (final.csv, curves.csv, prob_improvement.csv of the
# analyses imdb, commongen, tldr, beta, tau under ANALYSIS_DIR) and those of paper/gains.sh
# (gains_main.csv, gains_map.csv, levels_map.csv, drops_map.csv, dropdiff_map.csv, guide_map.csv),
# and writes
#   BUILD_DIR/numbers.tex      one macro per number, \N{key} prints it (keys below), and the
#                              verdict sentences of the predictions P1-P8 (\Vd{P1}, \Vd{P1short},
#                              ...), computed from the same numbers;
#   BUILD_DIR/table_TASK.tex   a compact results table per task (reward, KL, a task metric, the
#                              paired gain over PPO);
#   BUILD_DIR/table_map.tex    the difficulty x guide-quality map as numbers.
# Plain POSIX sh + awk. Every number in paper/rlgf.tex comes from here or from scale.tex/cost.tex.
# Keys:  TASK:ALGO:METRIC (IQM of the final score over seeds) with :lo/:hi (95% bootstrap CI),
#        TASK:guide:METRIC, TASK:SL:METRIC (levels), TASK:ALGO:early (IQM reward at the first
#        evaluation after 0, :lo/:hi);
#        g:TASK:METRIC:X-Y (paired difference X - Y of the final score, mean over seeds, :lo/:hi
#        its 95% t interval, :n);  m:X-Y:T:Q (the map's paired gains), lv:ALGO:T:Q (levels),
#        gd:T:Q (the guide's level), sl:T, dr:ALGO:T (drop from the best to the worst q),
#        dd:X-Y:T (difference of drops);  b:BETA:reward, b:X>Y (P(X > Y)), tau:TAU:reward.
# ALGO in ppo ppopp aggrevated lols d2lols; a number that is missing prints "--".
set -eu
A=$1; B=$2; EVERY=$3
for l in imdb commongen tldr beta tau; do
  for f in final curves prob_improvement; do
    [ -f "$A/$l/$f.csv" ] || { echo "numbers.sh: missing $A/$l/$f.csv" >&2; exit 1; }
    tail -n +2 "$A/$l/$f.csv" | sed "s/^/$f|$l|/"
  done
done > "$B/.numbers.in"
for f in final curves; do # PPO without the KL penalty on TL;DR, when that sweep ran
  [ -f "$A/overopt/$f.csv" ] && tail -n +2 "$A/overopt/$f.csv" | sed "s/^/$f|overopt|/" >> "$B/.numbers.in"
done
for f in gains_main gains_map levels_map drops_map dropdiff_map guide_map; do
  [ -f "$A/$f.csv" ] || { echo "numbers.sh: missing $A/$f.csv (run paper/gains.sh first)" >&2; exit 1; }
  tail -n +2 "$A/$f.csv" | sed "s/^/$f|-|/"
done >> "$B/.numbers.in"
awk -F'|' -v B="$B" -v EVERY="$EVERY" '
function num(x) { return (x == "NaN" || x == "" || x == "nan" || x == "-nan") ? "" : x + 0 }
function fmt(x,   a) {
  if (x == "") return "--"
  a = x < 0 ? -x : x
  if (a >= 100) return sprintf("%.0f", x)
  if (a >= 10) return sprintf("%.1f", x)
  if (a >= 1) return sprintf("%.2f", x)
  return sprintf("%.3f", x)
}
function fs(x) { return x == "" ? "--" : (x >= 0 ? "+" : "") fmt(x) } # signed
# an interval bound, signed: with the digits it needs not to read as 0 when it is not (a bound of
# +0.0002 decides significance; printed as +0.000 it would look like it did not)
function fb(x,   a, d, u) { if (x == "") return "--"; a = x < 0 ? -x : x
  if (a == 0 || a >= 0.0005) return fs(x)
  d = 4; u = 0.00005; while (a < u && d < 8) { d++; u /= 10 } # down to the first digit not 0
  return (x > 0 ? "+" : "-") sprintf("%." d "f", a) }
function fp(x) { return x == "" ? "--" : sprintf("%.2f", x) }
# group name -> "ALGO" (or the ablation value for beta/tau)
function gkey(g, label,   n, t, i, k, v, algo, ab) {
  algo = (label == "beta") ? "ppopp" : (label == "tau") ? "d2lols" : ""
  ab = ""
  n = split(g, t, " ")
  for (i = 1; i <= n; i++) {
    if (index(t[i], "=") == 0) { algo = t[i]; continue }
    k = substr(t[i], 1, index(t[i], "=") - 1); v = substr(t[i], index(t[i], "=") + 1)
    if (k == "algo") algo = v
    if ((label == "beta" && k == "beta") || (label == "tau" && k == "tau")) ab = sprintf("%g", v + 0)
  }
  if (label == "beta" || label == "tau") return ab
  return algo
}
function put(k, v) { V[k] = v }
function has(k) { return (k in V) && V[k] != "" }
function vd(p, long, short) { printf "\\expandafter\\def\\csname rlgfV@%s\\endcsname{%s}\n\\expandafter\\def\\csname rlgfV@%sshort\\endcsname{%s}\n", p, long, p, short > out }
function nm(k) { printf "\\expandafter\\def\\csname rlgfN@%s\\endcsname{%s}\n", k, V[k] == "" ? "--" : V[k] > out }
# "mean [lo, hi]" of a key with :lo/:hi
function ci(k) { return has(k ":lo") ? sprintf("%s [%s, %s]", fs(V[k]), fb(V[k ":lo"]), fb(V[k ":hi"])) : (has(k) ? fs(V[k]) " (one seed: no interval)" : "--") }
# sign of an interval: 1 above 0, -1 below, 0 contains 0, "" unknown
function sgn(k) { if (!has(k ":lo")) return ""; return V[k ":lo"] > 0 ? 1 : (V[k ":hi"] < 0 ? -1 : 0) }
{
  kind = $1; label = $2; n = split($3, c, ",")
  pre = (label == "beta") ? "b" : label
  if (kind == "final") {
    g = gkey(c[1], label); m = c[2]
    put(pre ":" g ":" m, num(c[7])); put(pre ":" g ":" m ":lo", num(c[8])); put(pre ":" g ":" m ":hi", num(c[9]))
    put(pre ":guide:" m, num(c[10])); put(pre ":SL:" m, num(c[11]))
    if (label == "beta" && m == "reward") BETAS[g] = 1
    if (label == "tau" && m == "reward") TAUS[g] = 1
  } else if (kind == "curves") {
    if (c[2] == "reward" && c[3] + 0 == EVERY + 0) { k = pre ":" gkey(c[1], label) ":early"; put(k, num(c[8])); put(k ":lo", num(c[9])); put(k ":hi", num(c[10])) }
  } else if (kind == "prob_improvement") {
    if (c[3] == "reward") { k = pre ":" gkey(c[1], label) ">" gkey(c[2], label); put(k, num(c[6])); put(k ":lo", num(c[7])); put(k ":hi", num(c[8])) }
  } else if (kind == "gains_main") {
    k = "g:" c[1] ":" c[2] ":" c[3] "-" c[4]; put(k, num(c[6])); put(k ":lo", num(c[8])); put(k ":hi", num(c[9])); put(k ":n", c[5])
  } else if (kind == "gains_map") {
    k = "m:" c[1] "-" c[2] ":" (c[3] + 0) ":" (c[4] + 0); put(k, num(c[6])); put(k ":lo", num(c[8])); put(k ":hi", num(c[9])); put(k ":n", c[5])
    MT[c[3] + 0] = 1; MQ[c[4] + 0] = 1; MA[c[1]] = 1
  } else if (kind == "levels_map") {
    k = "lv:" c[1] ":" (c[2] + 0) ":" (c[3] == "-" ? "-" : c[3] + 0); put(k, num(c[5])); put(k ":lo", num(c[7])); put(k ":hi", num(c[8]))
  } else if (kind == "drops_map") {
    k = "dr:" c[1] ":" (c[2] + 0); put(k, num(c[6])); put(k ":lo", num(c[8])); put(k ":hi", num(c[9])); QHI = c[3] + 0; QLO = c[4] + 0
  } else if (kind == "dropdiff_map") {
    k = "dd:" c[1] "-" c[2] ":" (c[3] + 0); put(k, num(c[5])); put(k ":lo", num(c[7])); put(k ":hi", num(c[8]))
  } else if (kind == "guide_map") {
    put("gd:" (c[1] + 0) ":" (c[2] + 0), num(c[3])); put("sl:" (c[1] + 0), num(c[4]))
  }
}
function sorted(arr, out,   n, k, i, j, x) { n = 0; for (k in arr) out[++n] = k + 0
  for (i = 2; i <= n; i++) { x = out[i]; j = i - 1; while (j > 0 && out[j] > x) { out[j + 1] = out[j]; j-- } out[j + 1] = x }
  return n }
function task_table(t, metric, mname,   f, a, i, r, g) {
  f = B "/table_" t ".tex"
  printf "\\begin{tabular}{lllll}\n\\toprule\n" > f
  printf "method & reward & KL to $\\pi_{\\mathrm{ref}}$ & %s & gain over PPO (paired) \\\\\n\\midrule\n", mname > f
  printf "SL ($\\pi_{\\mathrm{ref}}$) & %s & %s & %s & \\\\\n", fmt(V[t ":SL:reward"]), fmt(V[t ":SL:kl"]), fmt(V[t ":SL:" metric]) > f
  printf "guide (SL, nucleus; $q = 0$) & %s & -- & %s & \\\\\n\\midrule\n", fmt(V[t ":guide:reward"]), fmt(V[t ":guide:" metric]) > f
  for (i = 1; i <= NA; i++) {
    a = AL[i]; r = t ":" a ":"
    if (!has(r "reward")) continue
    g = "g:" t ":reward:" a "-ppo"
    printf "%s & %s {\\footnotesize[%s, %s]} & %s {\\footnotesize[%s, %s]} & %s & %s \\\\\n", NAME[a],
      fmt(V[r "reward"]), fmt(V[r "reward:lo"]), fmt(V[r "reward:hi"]),
      fmt(V[r "kl"]), fmt(V[r "kl:lo"]), fmt(V[r "kl:hi"]), fmt(V[r metric]),
      (a == "ppo") ? "" : (sgn(g) != "" && sgn(g) != 0 ? "\\textbf{" fs(V[g]) "}" : fs(V[g])) (has(g ":lo") ? " {\\footnotesize[" fb(V[g ":lo"]) ", " fb(V[g ":hi"]) "]}" : "") > f
  }
  printf "\\bottomrule\n\\end{tabular}\n" > f
  close(f)
}
function cells(x, y, want,   i, j, t, q, k, s, txt, n) { # the (t, q) cells whose gain x-y has sign want
  txt = ""; n = 0
  for (i = 1; i <= NT; i++) for (j = 1; j <= NQ; j++) { t = TT[i]; q = QQ[j]; k = "m:" x "-" y ":" t ":" q
    if (sgn(k) == want) { txt = txt (n ? ", " : "") "(" t ", " q ")"; n++ } }
  NCELLS = n
  return n ? txt : "none"
}
END {
  NA = split("ppo ppopp aggrevated lols d2lols", AL, " ")
  NAME["ppo"] = "PPO"; NAME["ppopp"] = "PPO++"; NAME["aggrevated"] = "AggreVaTeD"; NAME["lols"] = "LOLS"; NAME["d2lols"] = "D2LOLS"
  NTK = split("imdb commongen tldr", TK, " ")
  TN["imdb"] = "IMDB"; TN["commongen"] = "CommonGen"; TN["tldr"] = "TL;DR"
  task_table("imdb", "true_sentiment", "true sentiment")
  task_table("commongen", "coverage", "concept coverage")
  task_table("tldr", "gold", "gold utility")
  NT = sorted(MT, TT); NQ = sorted(MQ, QQ)
  out = B "/numbers.tex"
  print "% Written by paper/numbers.sh from the rlgf analyze and paper/gains.sh tables. \\N{key} prints a number." > out
  print "\\newcommand{\\N}[1]{\\ifcsname rlgfN@#1\\endcsname\\csname rlgfN@#1\\endcsname\\else\\textbf{??}\\PackageWarning{numbers}{no number #1}\\fi}" > out
  print "\\newcommand{\\Vd}[1]{\\ifcsname rlgfV@#1\\endcsname\\csname rlgfV@#1\\endcsname\\else\\textbf{??}\\fi}" > out
  for (k in V) if (k !~ /:n$/) printf "\\expandafter\\def\\csname rlgfN@%s\\endcsname{%s}\n", k, (k ~ />/) ? fp(V[k]) : (k ~ /^(g|m|dr|dd):/ ? fs(V[k]) : fmt(V[k])) > out
  for (k in V) if (k ~ /:lo$/) { b0 = substr(k, 1, length(k) - 3); printf "\\expandafter\\def\\csname rlgfN@%s:ci\\endcsname{%s}\n", b0, ci(b0) > out }
  tl = ""; for (i = 1; i <= NT; i++) tl = tl (i > 1 ? ", " : "") TT[i]
  ql = ""; for (j = 1; j <= NQ; j++) ql = ql (j > 1 ? ", " : "") QQ[j]
  printf "\\def\\MapTs{%s}\\def\\MapQs{%s}\\def\\QHi{%s}\\def\\QLo{%s}\n", tl, ql, QHI, QLO > out

  # ---- the map as a table
  f = B "/table_map.tex"
  printf "\\begin{tabular}{ll%s}\n\\toprule\n & $t$", substr("rrrrrrrrrr", 1, NQ) > f
  for (j = 1; j <= NQ; j++) printf " & $q = %s$", QQ[j] > f
  printf " \\\\\n\\midrule\n" > f
  for (i = 1; i <= NT; i++) { t = TT[i]; printf "guide level & %s", t > f; for (j = 1; j <= NQ; j++) printf " & %s", fmt(V["gd:" t ":" QQ[j]]) > f
    printf " \\\\\n" > f }
  for (i = 1; i <= NT; i++) { t = TT[i]; printf "PPO level & %s & \\multicolumn{%d}{c}{%s}\\\\\n", t, NQ, has("lv:ppo:" t ":-:lo") ? fmt(V["lv:ppo:" t ":-"]) " [" fmt(V["lv:ppo:" t ":-:lo"]) ", " fmt(V["lv:ppo:" t ":-:hi"]) "]" : fmt(V["lv:ppo:" t ":-"]) > f }
  split("ppopp aggrevated d2lols", GA, " ")
  for (a0 = 1; a0 <= 3; a0++) { a = GA[a0]; if (!(a in MA)) continue
    printf "\\midrule\n" > f
    for (i = 1; i <= NT; i++) { t = TT[i]; printf "%s & %s", (i == 1 ? NAME[a] " $-$ PPO" : ""), t > f
      for (j = 1; j <= NQ; j++) { k = "m:" a "-ppo:" t ":" QQ[j]; s = fs(V[k])
        if (sgn(k) == 1 || sgn(k) == -1) s = "\\textbf{" s "}"
        printf " & %s%s", s, has(k ":lo") ? " {\\tiny[" fb(V[k ":lo"]) ", " fb(V[k ":hi"]) "]}" : "" > f }
      printf " \\\\\n" > f }
  }
  printf "\\bottomrule\n\\end{tabular}\n" > f
  close(f)

  # ---- P1: learners end above a suboptimal guide
  above = 0; below = 0; tot = 0; txt = ""; yes = 0
  for (i = 1; i <= NTK; i++) {
    t = TK[i]; G = V[t ":guide:reward"]; best = ""; bv = -1e30; any = 0
    if (G == "") continue
    for (j = 1; j <= NA; j++) {
      a = AL[j]; if (!has(t ":" a ":reward:lo")) continue
      tot++
      if (V[t ":" a ":reward:lo"] > G) { above++; any = 1 }
      if (V[t ":" a ":reward:hi"] < G) below++
      if (V[t ":" a ":reward"] > bv) { bv = V[t ":" a ":reward"]; best = a }
    }
    yes += any
    txt = txt sprintf("%s: best %s %s against the guide'"'"'s %s; ", TN[t], NAME[best], fmt(bv), fmt(G))
  }
  sub(/; $/, "", txt)
  na = 0; nb = 0; ncell = 0; ca = ""; cb = ""
  for (i = 1; i <= NT; i++) for (j = 1; j <= NQ; j++) { t = TT[i]; q = QQ[j]; G = V["gd:" t ":" q]; if (G == "") continue
    ncell++; up = 0; dn = 1; seen = 0
    for (a0 = 1; a0 <= 3; a0++) { k = "lv:" GA[a0] ":" t ":" q; if (!has(k ":lo")) continue; seen = 1
      if (V[k ":lo"] > G) up = 1; if (V[k ":hi"] >= G) dn = 0 }
    if (!seen) { ncell--; continue }
    if (up) { na++; ca = ca (na > 1 ? ", " : "") "(" t ", " q ")" }
    if (dn) { nb++; cb = cb (nb > 1 ? ", " : "") "(" t ", " q ")" } }
  v = (yes == NTK) ? "supported in the reference condition" : (yes > 0) ? sprintf("partly supported: in %d of the %d tasks a learner ends with its whole CI above the guide", yes, NTK) : "not supported in the reference condition"
  vd("P1", sprintf("%s. Main comparisons (the SL policy as guide): of %d (task, learner) pairs, %d end above the guide and %d below it (95\\%% CI entirely on one side); %s. In the map, at least one guided learner ends above the guide (interval entirely above its level) in %d of %d cells (t, q): %s; every guided learner ends below it in %d: %s", v, tot, above, below, txt, na, ncell, na ? ca : "none", nb, nb ? cb : "none"),
     (yes == NTK) ? "supported with the SL guide" : (yes > 0) ? "partly supported" : "not supported")

  # ---- P2
  vd("P2", "not tested: it needs two guides with the same return and different coverage of good states; the oracle guide'"'"'s single knob q moves both together, so the map cannot tell them apart", "not tested")

  # ---- P3: beta near 1 hurts PPO++
  k = "b:0.6>1"
  r = has(k ":lo") ? (V[k ":lo"] > 0.5 ? "higher" : (V[k ":hi"] < 0.5 ? "lower" : "tie")) : "n/a"
  v = (r == "higher") ? "supported: $\\beta = 0.6$ ends above $\\beta = 1$ (the CI of $P$ lies above $1/2$)" : \
      (r == "lower") ? "contradicted: $\\beta = 1$ ends above $\\beta = 0.6$ (the CI of $P$ lies below $1/2$)" : \
      (r == "tie") ? "not resolved: the CI of $P(\\beta{=}0.6 > \\beta{=}1)$ contains $1/2$" : "not tested (no data)"
  vd("P3", sprintf("%s; final reward %s at $\\beta = 0.6$, %s at $\\beta = 1$%s (oracle guide $q = \\QAbl$, $t = 0$, map budget)", v,
     has("b:0.6:reward") ? fmt(V["b:0.6:reward"]) " [" fmt(V["b:0.6:reward:lo"]) ", " fmt(V["b:0.6:reward:hi"]) "]" : "--",
     has("b:1:reward") ? fmt(V["b:1:reward"]) " [" fmt(V["b:1:reward:lo"]) ", " fmt(V["b:1:reward:hi"]) "]" : "--",
     has("b:0.2:reward") ? ", " fmt(V["b:0.2:reward"]) " [" fmt(V["b:0.2:reward:lo"]) ", " fmt(V["b:0.2:reward:hi"]) "] at $\\beta = 0.2$" : ""),
     (r == "higher") ? "supported" : (r == "lower") ? "contradicted" : (r == "tie") ? "not resolved" : "not tested")

  # ---- P4: AggreVaTeD rises fastest early; plateaus near the guide
  fast = 0; sig = 0; near = 0; txt = ""; ntask = 0
  for (i = 1; i <= NTK; i++) { t = TK[i]; if (!has(t ":aggrevated:early")) continue; ntask++
    e = V[t ":aggrevated:early"]; top = 1; stop = 1
    for (j = 1; j <= NA; j++) { a = AL[j]; if (a == "aggrevated" || a == "d2lols" || !has(t ":" a ":early")) continue
      if (V[t ":" a ":early"] > e) top = 0
      if (!(V[t ":aggrevated:early:lo"] > V[t ":" a ":early:hi"])) stop = 0 }
    fast += top; sig += top && stop
    G = V[t ":guide:reward"]
    if (V[t ":aggrevated:reward:lo"] <= G && G <= V[t ":aggrevated:reward:hi"]) near++
    txt = txt sprintf("%s: AggreVaTeD %s at the first evaluation, its final %s against the guide'"'"'s %s, %s PPO++; ", TN[t], fmt(e), fmt(V[t ":aggrevated:reward"]), fmt(G), ci("g:" t ":reward:aggrevated-ppopp")) }
  sub(/; $/, "", txt)
  v = ntask == 0 ? "not tested" : (sig == ntask) ? "the early rise is supported" : (fast > 0) ? sprintf("the early rise is not resolved: AggreVaTeD has the highest first evaluation in %d of %d tasks, with an interval clear of every other algorithm'"'"'s in %d", fast, ntask, sig) : "the early rise is not supported"
  vd("P4", sprintf("%s; its final interval contains the guide'"'"'s level in %d of %d tasks (%s; the last figure is the paired difference to PPO++ with its 95\\%% interval)", v, near, ntask, txt),
     ntask == 0 ? "not tested" : (sig == ntask) ? "early rise supported" : (fast > 0) ? "early rise not resolved" : "early rise not supported")

  # ---- P5: D2LOLS starts like AggreVaTeD and ends at least as high as PPO++
  ok = 0; hi = 0; lo = 0; ntask = 0; txt = ""
  for (i = 1; i <= NTK; i++) { t = TK[i]; k = "g:" t ":reward:d2lols-ppopp"; if (!has(k)) continue; ntask++
    s = sgn(k); if (s != -1) ok++; if (s == 1) hi++; if (s == -1) lo++
    txt = txt sprintf("%s %s; ", TN[t], ci(k)) }
  sub(/; $/, "", txt)
  mc = cells("d2lols", "ppopp", -1); nlo = NCELLS; mh = cells("d2lols", "ppopp", 1); nhi = NCELLS
  v = ntask == 0 ? "not tested" : (hi == ntask) ? "supported" : (ok == ntask) ? "consistent, not resolved" : "not supported"
  vd("P5", sprintf("%s: D2LOLS minus PPO++ (paired, final reward) %s: significantly below PPO++ in %d of %d tasks, significantly above it in %d. In the map D2LOLS ends significantly below PPO++ at (t, q) = %s and significantly above it at %s", \
     v, txt == "" ? "--" : txt, lo, ntask, hi, mc, mh), v)

  # ---- P6: LOLS sits between PPO++ and AggreVaTeD
  btw = 0; out6 = 0; ntask = 0; txt = ""
  for (i = 1; i <= NTK; i++) { t = TK[i]; a1 = "g:" t ":reward:lols-ppopp"; a2 = "g:" t ":reward:lols-aggrevated"; if (!has(a1) || !has(a2)) continue; ntask++
    s1 = sgn(a1); s2 = sgn(a2)
    if (s1 * s2 == -1) btw++
    if ((s1 == 1 && s2 == 1) || (s1 == -1 && s2 == -1)) out6++
    txt = txt sprintf("%s: LOLS minus PPO++ %s, minus AggreVaTeD %s; ", TN[t], ci(a1), ci(a2)) }
  sub(/; $/, "", txt)
  v = ntask == 0 ? "not tested" : (btw == ntask) ? "supported" : (out6 > 0) ? "contradicted" : "not resolved"
  vd("P6", sprintf("%s: LOLS lies significantly between the two in %d of %d tasks and significantly outside both in %d (%s)", v, btw, ntask, out6, txt == "" ? "--" : txt), v)

  # ---- P7: as q falls, PPO++ tends to PPO and AggreVaTeD degrades most
  if (NQ >= 2) {
    txt = ""; first = 0; second = 0
    for (i = 1; i <= NT; i++) { t = TT[i]
      kl = "m:ppopp-ppo:" t ":" QLO; kh = "m:ppopp-ppo:" t ":" QHI
      # first half: PPO++ helps with the best guide and is indistinguishable from PPO with the worst
      if (sgn(kl) == 0 && sgn(kh) == 1) first++
      else if ((sgn(kl) == 1 || sgn(kl) == -1) && (V[kl] < 0 ? -V[kl] : V[kl]) >= (V[kh] < 0 ? -V[kh] : V[kh])) cfirst++
      # second half: AggreVaTeD loses significantly more than PPO++ and D2LOLS
      d1 = sgn("dd:aggrevated-ppopp:" t); d2 = sgn("dd:aggrevated-d2lols:" t)
      if (d1 == 1 && d2 == 1) second++
      else if (d1 == -1 || d2 == -1) csecond++
      txt = txt sprintf("at $t = %s$: PPO++ minus PPO %s at $q = %s$, %s at $q = %s$; drop from $q = %s$ to $q = %s$: PPO++ %s, AggreVaTeD %s, D2LOLS %s; ", t, ci(kl), QLO, ci(kh), QHI, QHI, QLO, ci("dr:ppopp:" t), ci("dr:aggrevated:" t), ci("dr:d2lols:" t)) }
    sub(/; $/, "", txt)
    h1 = (first == NT) ? "supported" : (first > 0) ? "partly supported" : (cfirst > 0) ? "contradicted" : "not resolved"
    h2 = (second == NT) ? "supported" : (second > 0) ? "partly supported" : (csecond > 0) ? "contradicted" : "not resolved"
    vd("P7", sprintf("the first half (PPO++ significantly above PPO with the best guide, not distinguishable from it with the worst) is %s (it holds at %d of %d difficulties, the opposite at %d) and the second (AggreVaTeD loses significantly more than PPO++ and D2LOLS when the guide goes from the best to the worst) is %s (holds at %d of %d, the opposite at %d): %s", h1, first, NT, cfirst, h2, second, NT, csecond, txt),
       "first half " h1 ", second " h2)
  } else vd("P7", "not tested (one guide quality only)", "not tested")

  # ---- P8: at equal KL the guided methods reach more reward than PPO (paired final points)
  dom = 0; fr = 0; ntask = 0; txt = ""; txt2 = ""
  for (i = 1; i <= NTK; i++) { t = TK[i]; d = ""; e = ""; any = 0
    for (j = 2; j <= NA; j++) { a = AL[j]; kr = "g:" t ":reward:" a "-ppo"; kk = "g:" t ":kl:" a "-ppo"; if (!has(kr)) continue; any = 1
      if (sgn(kr) == 1 && sgn(kk) != 1) d = d (d == "" ? "" : ", ") NAME[a]
      else if (sgn(kr) == 0 && sgn(kk) == -1) e = e (e == "" ? "" : ", ") NAME[a] " (KL " fs(V[kk]) ")" }
    if (!any) continue
    ntask++; if (d != "") dom++; if (d == "" && e != "") fr++
    txt = txt sprintf("%s: %s; ", TN[t], d == "" ? "none" : d)
    if (e != "") txt2 = txt2 sprintf("%s: %s; ", TN[t], e) }
  sub(/; $/, "", txt); sub(/; $/, "", txt2)
  v = ntask == 0 ? "not tested" : (dom == ntask) ? "supported" : (dom + fr > 0) ? "partly supported" : "not supported"
  vd("P8", sprintf("%s: in %d of %d tasks at least one guided method ends with significantly more reward than PPO (paired interval above 0) at no significantly higher KL (%s); with no resolved reward difference but significantly less KL (so at or above PPO'"'"'s reward-KL frontier) in %d more (%s)", v, dom, ntask, txt == "" ? "--" : txt, fr, txt2 == "" ? "none" : txt2), v)

  # ---- per task, the paired gain over PPO of every guided algorithm run there, in one sentence
  for (i = 1; i <= NTK; i++) { t = TK[i]; txt = ""; up = ""; dn = ""
    for (j = 2; j <= NA; j++) { a = AL[j]; k = "g:" t ":reward:" a "-ppo"; if (!has(k)) continue
      txt = txt (txt == "" ? "" : ", ") NAME[a] " " ci(k)
      if (sgn(k) == 1) up = up (up == "" ? "" : ", ") NAME[a]; else if (sgn(k) == -1) dn = dn (dn == "" ? "" : ", ") NAME[a] }
    if (txt == "") txt = "no guided algorithm was run"
    else txt = txt sprintf(" (significantly above PPO: %s; below: %s)", up == "" ? "none" : up, dn == "" ? "none" : dn)
    printf "\\expandafter\\def\\csname rlgfV@gains:%s\\endcsname{%s}\n", t, txt > out }

  # ---- resolution: half-widths of the paired intervals (what each study can separate)
  for (i = 1; i <= NTK; i++) { t = TK[i]; mx = ""
    for (j = 2; j <= NA; j++) { k = "g:" t ":reward:" AL[j] "-ppo"; if (!has(k ":lo")) continue
      h = (V[k ":hi"] - V[k ":lo"]) / 2; if (mx == "" || h > mx) mx = h }
    printf "\\expandafter\\def\\csname rlgfN@res:%s\\endcsname{%s}\n", t, fmt(mx) > out }
  nh = 0
  for (k in V) if (k ~ /^m:.*-ppo:.*:lo$/) { b0 = substr(k, 1, length(k) - 3); H[++nh] = (V[b0 ":hi"] - V[k]) / 2 }
  for (i = 2; i <= nh; i++) { x = H[i]; j = i - 1; while (j > 0 && H[j] > x) { H[j + 1] = H[j]; j-- } H[j + 1] = x }
  printf "\\expandafter\\def\\csname rlgfN@res:map\\endcsname{%s}\n\\expandafter\\def\\csname rlgfN@res:map:max\\endcsname{%s}\n", nh ? fmt(H[int((nh + 1) / 2)]) : "--", nh ? fmt(H[nh]) : "--" > out

  # ---- where guidance helps (the map)
  for (a0 = 1; a0 <= 3; a0++) { a = GA[a0]
    up = cells(a, "ppo", 1); nu = NCELLS; dn = cells(a, "ppo", -1); nd = NCELLS; cells(a, "ppo", 0); nz = NCELLS
    printf "\\expandafter\\def\\csname rlgfV@map:%s\\endcsname{%s ends significantly above PPO in %d cells (t, q): %s; significantly below in %d: %s; not resolved in %d}\n", a, NAME[a], nu, up, nd, dn, nz > out }
  close(out)
}' "$B/.numbers.in"
rm -f "$B/.numbers.in"
echo "numbers: $B/numbers.tex, $B/table_{imdb,commongen,tldr,map}.tex"
