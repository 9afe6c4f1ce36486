# The conformance kit (README, "Checking your own implementation"): `rlgf conformance export`
# writes byte-identical files that h5dump opens and refuses a non-empty DIR; the checker passes
# on rlgf's own answers, on an independent numpy implementation and (when python3-torch is
# installed) on the PyTorch adapter, and FAILS, naming the case and the element, on each
# deliberately broken implementation in tests/conformance_broken.py.
. tests/lib.sh
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
CHECK="$PY tools/conformance_check.py"
K=$TMP/kit
check export $RLGF conformance export $K
check export-again $RLGF conformance export $TMP/kit2
same=1
for f in $K/*.h5; do cmp -s "$f" "$TMP/kit2/$(basename "$f")" || { same=0; echo "   differs: $(basename "$f")"; }; done
[ $same = 1 ] && [ "$(ls $K/*.h5 | wc -l)" -eq 11 ] && ok byte-identical-exports || fail byte-identical-exports "see above"
expect_fail refuses-non-empty-dir "not empty" $RLGF conformance export $K
check force-replaces $RLGF conformance export $K --force
cmp -s $K/gae.h5 $TMP/kit2/gae.h5 && ok force-same-bytes || fail force-same-bytes "gae.h5 changed"
allh5=1
for f in $K/*.h5; do h5dump -H "$f" >/dev/null 2>&1 || { allh5=0; echo "   h5dump failed on $f"; }; done
[ $allh5 = 1 ] && ok h5dump-opens-every-family || fail h5dump-opens-every-family "see above"
if ! $PY -c 'import h5py, numpy' 2>/dev/null; then
  fail checker "$PY has no h5py/numpy (Debian: python3-h5py python3-numpy; make deps installs them)"
  exit 0
fi
check checker-rlgf-own-answers $CHECK $K --outputs $K --strict
check checker-numpy-implementation $CHECK $K --adapter tools/conformance_numpy_adapter.py:adapter --strict --write-outputs $TMP/outs
check checker-outputs-dir $CHECK $K --outputs $TMP/outs --strict
expect_fail checker-bad-kit "No such file|no .h5 files" $CHECK $TMP/nonexistent-$$ --outputs $K

# each broken variant: exit 1 and the FAIL line names the family/case and the quantity[element]
broken() {  # NAME PATTERN...
  local name=$1; shift
  $CHECK $K --adapter tests/conformance_broken.py:$name -q -v >"$TMP/b.out" 2>&1; local rc=$?
  if [ $rc -ne 1 ]; then fail "broken-$name" "checker exit $rc (expected 1): $(tail -2 "$TMP/b.out")"; return; fi
  for pat in "$@"; do
    grep -qF -- "$pat" "$TMP/b.out" || { fail "broken-$name" "output lacks '$pat': $(head -3 "$TMP/b.out")"; return; }
  done
  ok "broken-$name"; echo "   -> $(grep -F -- "$1" "$TMP/b.out" | head -1 | cut -c1-150)"; echo "   -> $(tail -1 "$TMP/b.out")"
}
broken padding_not_masked "FAIL ppo_policy_loss/pg_unclipped: policy_loss" "value_loss/vf_unclipped: grad_value[0,0]" "FAIL entropy/entropy_padded"
broken per_sequence_mean "FAIL ppo_policy_loss/pg_tril_no_adv_norm: policy_loss" "ppo_policy_loss/pg_unclipped: grad_logp[0,0]" "FAIL value_loss/vf_unclipped"
broken value_clip_wrong_target "FAIL value_loss/vf_clipped: value_loss" "value_loss/vf_clipped: grad_value[0,4]"
broken ratio_against_ref "FAIL ppo_policy_loss/pg_unclipped: policy_loss" "ppo_policy_loss/pg_clipped: grad_logp[0,0]"
broken gae_leaks_padding "FAIL gae/gae_gamma099_lambda095: advantage[1,0]" "FAIL gae/gae_kl_in_reward: advantage[1,0]"
broken returns_from_normalised_advantages "FAIL ppo_step/step_ppo_norm_adv: returns[0,0]"
# the issue-13 kinds: KL estimator, group statistics, loss aggregation
broken k3_for_k1 "FAIL kl/kl_k1: kl[0,0]" "kl/kl_k1: grad_kl[0,0]" "FAIL loss_agg/kl_loss_k1: kl_loss" "FAIL critic_free/grpo_scale_group: reward[0,0]"
broken group_stats_over_batch "FAIL critic_free/grpo_scale_group: baseline[0]" "critic_free/grpo_scale_group: advantage[0,0]" "FAIL critic_free/grpo_equal_rewards_group"
broken agg_modes_swapped "FAIL loss_agg/agg_token_mean: policy_loss" "loss_agg/agg_seq_mean_token_mean: grad_logp[0,0]"
# and the bug-free parts of a broken implementation still pass: the checker blames only the bug
$CHECK $K --adapter tests/conformance_broken.py:value_clip_wrong_target -q >"$TMP/b.out" 2>&1
grep -q "vf_unclipped" "$TMP/b.out" && fail broken-blames-only-the-bug "vf_unclipped failed too" || ok broken-blames-only-the-bug
$CHECK $K --adapter tests/conformance_broken.py:group_stats_over_batch -q >"$TMP/b.out" 2>&1
grep -qE "rloo|reinforce|remax|kl/|loss_agg/" "$TMP/b.out" && fail broken-group-stats-blames-only-grpo "$(grep FAIL "$TMP/b.out" | grep -v grpo | head -1)" || ok broken-group-stats-blames-only-grpo

if $PY -c 'import torch' 2>/dev/null; then
  check checker-torch-adapter $CHECK $K --adapter tools/conformance_torch_adapter.py:adapter
  tail -1 "$TMP/out" | sed 's/^/   /'
else
  echo "   skip checker-torch-adapter: python3-torch is not installed (make conformance-torch installs it and runs this)"
fi
