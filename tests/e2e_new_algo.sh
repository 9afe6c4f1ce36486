# Adding an algorithm touches one new file in algos/ and one line of the registry
# (sim/base/algo_names.h): on a copy of the tree, a PPO++ variant with a fixed beta of .5 is
# added that way, the copy builds, the config registry accepts the name (choices come from the
# registry), and a run trains with it, bit for bit the same as ppopp with beta=0.5.
. tests/lib.sh
copy=$TMP/tree
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy" 2>/dev/null
cat > "$copy/algos/halfbeta.c" <<'C'
/* halfbeta: PPO++ with the roll-in probability fixed at 1/2 (the example of README, "Adding an
 * algorithm"). */
#include "algo.h"

static void halfbeta_iteration(const config_t *cfg, int it, iter_spec_t *spec) {
    (void)it;
    algo_spec_ppopp(cfg, 0.5, CRITIC_LEARNER, spec);
}

const algo_t algo_halfbeta = {"halfbeta", "PPO++ with beta fixed at 0.5", 0, NULL, halfbeta_iteration};
C
sed -i 's/^    X(guidebase)$/    X(guidebase)      \\\n    X(halfbeta)/' "$copy/sim/base/algo_names.h"
if make -C "$copy" -s -j2 rlgf >"$TMP/build.log" 2>&1; then ok new-algo-builds; else fail new-algo-builds "$(tail -5 $TMP/build.log)"; fi
if [ -x "$copy/rlgf" ]; then
  "$copy/rlgf" config --list >"$TMP/list" 2>&1
  grep -q "|guidebase|halfbeta " "$TMP/list" && ok registry-gives-choices || fail registry-gives-choices "$(grep '^algo' $TMP/list)"
  toy="configs/toy_match.ini iterations=3 cache_dir=$TMP/c --quiet"
  check new-algo-trains "$copy/rlgf" train $toy algo=halfbeta out=$TMP/half.h5
  check ppopp-half "$copy/rlgf" train $toy algo=ppopp beta=0.5 out=$TMP/pp.h5
  "$copy/rlgf" diff $TMP/half.h5 $TMP/pp.h5 >"$TMP/diff" 2>&1
  # the same run but for the algo name in the config and its root attribute
  if grep -q "all .* datasets compared: bitwise equal" "$TMP/diff"; then ok new-algo-same-bits-as-ppopp-beta-half
  else fail new-algo-same-bits-as-ppopp-beta-half "$(head -20 $TMP/diff)"; fi
fi
