#!/bin/sh
# paper/gains.sh ANALYSIS_DIR
# Paired differences between algorithms, from the per-run final scores `rlgf analyze` wrote
# (runs.csv: group, file, seed, complete, metric, final; final = the mean of a run's last K
# validation evaluations). A run's settings are read from its sweep name (the file name: key=value
# pairs joined by "__"). Two runs with the same seed share the SL policy (pi_ref), the guide's base
# and the validation prompts, so the difference d_s = final(X, s) - final(Y, s) removes what the
# seed does to both. Every difference is summarised by the mean of d over the seeds both have,
# with its 95% Student-t interval mean +- t(n-1) sd / sqrt(n) (NaN bounds for n < 2). A t interval
# needs no random numbers, so it does not depend on the awk implementation's rand().
#
#   gains_main.csv  task, metric, x, y, n, mean, sd, lo, hi    analyses imdb, commongen, tldr;
#                   metrics reward and kl (and gold for tldr); pairs (X, ppo) for every X, and
#                   (d2lols, ppopp), (lols, ppopp), (lols, aggrevated), (aggrevated, ppopp)
#   gains_map.csv   x, y, t, q, n, mean, sd, lo, hi            analysis map (reward): (X, ppo) with
#                   PPO's run of the same seed and difficulty t (PPO ignores the guide), and
#                   (d2lols, ppopp) at the same (t, q)
#   levels_map.csv  algo, t, q, n, mean, sd, lo, hi            the final reward itself (PPO: q "-")
#   drops_map.csv   algo, t, qhi, qlo, n, mean, sd, lo, hi     level(qhi) - level(qlo), same seed:
#                   how much an algorithm loses when the guide goes from the best to the worst q
#   dropdiff_map.csv x, y, t, n, mean, sd, lo, hi              drop(X) - drop(Y), same seed
#   guide_map.csv   t, q, guide, sl                            the guide's and SL's levels (mean
#                   over the map analysis's groups of that cell: final.csv's guide, pi_ref)
# POSIX sh + awk.
set -eu
A=$1
for f in "$A/imdb/runs.csv" "$A/map/runs.csv" "$A/map/final.csv"; do
  [ -f "$f" ] || { echo "gains.sh: missing $f" >&2; exit 1; }
done

COMMON='
function tq(df,   T) { # two-sided 95% quantile of Student t with df degrees of freedom
  split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086 2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042", T, " ")
  return df <= 30 ? T[df] + 0 : (df <= 60 ? 2.000 : 1.960)
}
function name_kv(path,   b, n, parts, i, eq) { # KV[key] = value from a sweep run name
  split("", KV)
  b = path; sub(/.*\//, "", b); sub(/\.h5(\.partial)?$/, "", b)
  n = split(b, parts, "__")
  for (i = 1; i <= n; i++) { eq = index(parts[i], "="); if (eq) KV[substr(parts[i], 1, eq - 1)] = substr(parts[i], eq + 1) }
}
function acc_reset() { AN = 0; AS = 0; AS2 = 0 }
function acc(d) { AN++; AS += d; AS2 += d * d }
function acc_line(   m, v, sd, h) { # "n,mean,sd,lo,hi" of the accumulated values
  m = AS / AN; v = AN > 1 ? (AS2 - AN * m * m) / (AN - 1) : 0
  if (v < 0) v = 0
  sd = sqrt(v)
  if (AN < 2) return sprintf("%d,%.10g,NaN,NaN,NaN", AN, m)
  h = tq(AN - 1) * sd / sqrt(AN)
  return sprintf("%d,%.10g,%.10g,%.10g,%.10g", AN, m, sd, m - h, m + h)
}'

# ---- the main comparisons, per task
echo "task,metric,x,y,n,mean,sd,lo,hi" > "$A/gains_main.csv"
for task in imdb commongen tldr; do
  [ -f "$A/$task/runs.csv" ] || continue
  awk -F, -v task="$task" "$COMMON"'
  NR > 1 && $4 == 1 && ($5 == "reward" || $5 == "kl" || $5 == "gold") { name_kv($2); F[KV["algo"], $5, $3] = $6; ALG[KV["algo"]] = 1; SEED[$3] = 1; MET[$5] = 1 }
  END {
    np = 0
    split("ppopp aggrevated lols d2lols", O, " ")
    for (i = 1; i <= 4; i++) { X[++np] = O[i]; Y[np] = "ppo" }
    X[++np] = "d2lols"; Y[np] = "ppopp"; X[++np] = "lols"; Y[np] = "ppopp"
    X[++np] = "lols"; Y[np] = "aggrevated"; X[++np] = "aggrevated"; Y[np] = "ppopp"
    split("reward kl gold", M, " ")
    for (k = 1; k <= 3; k++) { m = M[k]; if (!(m in MET)) continue
      for (p = 1; p <= np; p++) { if (!(X[p] in ALG) || !(Y[p] in ALG)) continue
        acc_reset()
        for (s in SEED) if (((X[p], m, s) in F) && ((Y[p], m, s) in F)) acc(F[X[p], m, s] - F[Y[p], m, s])
        if (AN) print task "," m "," X[p] "," Y[p] "," acc_line()
      }
    }
  }' "$A/$task/runs.csv" >> "$A/gains_main.csv"
done

# ---- the map
awk -F, "$COMMON"'
NR > 1 && $4 == 1 && $5 == "reward" {
  name_kv($2); a = KV["algo"]; s = $3; t = ("imdb.threshold" in KV) ? KV["imdb.threshold"] + 0 : 0
  q = ("guide.quality" in KV) ? KV["guide.quality"] + 0 : 0
  if (a == "ppo") { P[t, s] = $6; TT[t] = 1 } else { F[a, t, q, s] = $6; CELL[a, t, q] = 1; QQ[q] = 1; TT[t] = 1; AL[a] = 1 }
  SEED[s] = 1
}
function rank(a) { return a == "ppo" ? 1 : a == "ppopp" ? 2 : a == "aggrevated" ? 3 : a == "d2lols" ? 4 : 9 }
function sorted_num(arr, out,   n, k, i, j, x) { n = 0; for (k in arr) out[++n] = k + 0
  for (i = 2; i <= n; i++) { x = out[i]; j = i - 1; while (j > 0 && out[j] > x) { out[j + 1] = out[j]; j-- } out[j + 1] = x }
  return n }
END {
  nt = sorted_num(TT, T); nq = sorted_num(QQ, Q)
  na = 0; split("ppopp aggrevated d2lols", O, " "); for (i = 1; i <= 3; i++) if (O[i] in AL) AA[++na] = O[i]
  print "x,y,t,q,n,mean,sd,lo,hi" > G; print "algo,t,q,n,mean,sd,lo,hi" > L
  print "algo,t,qhi,qlo,n,mean,sd,lo,hi" > DR; print "x,y,t,n,mean,sd,lo,hi" > DD
  for (i = 1; i <= nt; i++) { t = T[i]; acc_reset(); for (s in SEED) if ((t, s) in P) acc(P[t, s]); if (AN) print "ppo," t ",-," acc_line() > L }
  for (a0 = 1; a0 <= na; a0++) { a = AA[a0]
    for (i = 1; i <= nt; i++) for (j = 1; j <= nq; j++) { t = T[i]; q = Q[j]; if (!((a, t, q) in CELL)) continue
      acc_reset(); for (s in SEED) if ((a, t, q, s) in F) acc(F[a, t, q, s]); if (AN) print a "," t "," q "," acc_line() > L } }
  for (a0 = 1; a0 <= na; a0++) { a = AA[a0]
    for (i = 1; i <= nt; i++) for (j = 1; j <= nq; j++) { t = T[i]; q = Q[j]
      acc_reset(); for (s in SEED) if (((a, t, q, s) in F) && ((t, s) in P)) acc(F[a, t, q, s] - P[t, s]); if (AN) print a ",ppo," t "," q "," acc_line() > G } }
  for (i = 1; i <= nt; i++) for (j = 1; j <= nq; j++) { t = T[i]; q = Q[j]
    acc_reset(); for (s in SEED) if ((("d2lols", t, q, s) in F) && (("ppopp", t, q, s) in F)) acc(F["d2lols", t, q, s] - F["ppopp", t, q, s])
    if (AN) print "d2lols,ppopp," t "," q "," acc_line() > G }
  if (nq >= 2) { qh = Q[nq]; ql = Q[1]
    for (a0 = 1; a0 <= na; a0++) { a = AA[a0]
      for (i = 1; i <= nt; i++) { t = T[i]; acc_reset()
        for (s in SEED) if (((a, t, qh, s) in F) && ((a, t, ql, s) in F)) acc(F[a, t, qh, s] - F[a, t, ql, s])
        if (AN) print a "," t "," qh "," ql "," acc_line() > DR } }
    for (x0 = 1; x0 <= na; x0++) for (y0 = 1; y0 <= na; y0++) { x = AA[x0]; y = AA[y0]; if (x == y) continue
      for (i = 1; i <= nt; i++) { t = T[i]; acc_reset()
        for (s in SEED) if (((x, t, qh, s) in F) && ((x, t, ql, s) in F) && ((y, t, qh, s) in F) && ((y, t, ql, s) in F))
          acc((F[x, t, qh, s] - F[x, t, ql, s]) - (F[y, t, qh, s] - F[y, t, ql, s]))
        if (AN) print x "," y "," t "," acc_line() > DD } }
  }
}' G="$A/gains_map.csv" L="$A/levels_map.csv" DR="$A/drops_map.csv" DD="$A/dropdiff_map.csv" "$A/map/runs.csv"

# ---- the guide's and SL's level per cell (every run evaluates the guide at its start)
{
  echo "t,q,guide,sl"
  awk -F, 'NR > 1 && $2 == "reward" && $10 != "NaN" {
    t = 0; q = ""; n = split($1, w, " ")
    for (i = 1; i <= n; i++) {
      if (w[i] ~ /^imdb\.threshold=/) t = substr(w[i], 16) + 0
      if (w[i] ~ /^guide\.quality=/) q = substr(w[i], 15) + 0
    }
    if (q == "") next
    G[t, q] += $10; S[t, q] += $11; N[t, q]++
  }
  END { for (k in N) { split(k, x, SUBSEP); printf "%s,%s,%.10g,%.10g\n", x[1], x[2], G[k] / N[k], S[k] / N[k] } }' "$A/map/final.csv" |
    sort -t, -k1,1g -k2,2g
} > "$A/guide_map.csv"
echo "gains: $A/{gains_main,gains_map,levels_map,drops_map,dropdiff_map,guide_map}.csv"
