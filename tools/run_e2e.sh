#!/usr/bin/env bash
# Runs the end-to-end test scripts tests/e2e_*.sh from the repository root. Each script runs
# checks through tests/lib.sh (check NAME CMD...) and prints one line per check; this runner
# ends with "e2e: N passed, N failed".
set -u
passed=0; failed=0
for s in tests/e2e_*.sh; do
  echo "== $s"
  out=$(bash "$s" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | grep -c '^ok ')
  f=$(printf '%s\n' "$out" | grep -c '^FAIL ')
  passed=$((passed + p)); failed=$((failed + f))
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); echo "FAIL $s exited $rc"; fi
done
echo "e2e: $passed passed, $failed failed"
[ $failed -eq 0 ]
