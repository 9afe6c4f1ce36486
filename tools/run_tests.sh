#!/usr/bin/env bash
# Runs cmocka test binaries from the repository root and ends with one summary line
# "unit: N passed, N failed" (counts of test cases), exiting non-zero if any failed.
set -u
passed=0; failed=0; skipped=0; bad_bins=()
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s).*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' | tail -1)
  k=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${k:-0}))
  if [ $rc -ne 0 ] && [ -z "$f" ]; then failed=$((failed + 1)); bad_bins+=("$t (exit $rc)"); fi
  [ $rc -ne 0 ] && [ -n "$f" ] && bad_bins+=("$t")
done
[ ${#bad_bins[@]} -gt 0 ] && printf 'failing: %s\n' "${bad_bins[*]}"
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ ${#bad_bins[@]} -eq 0 ]
