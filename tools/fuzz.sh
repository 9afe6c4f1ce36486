#!/usr/bin/env bash
# make fuzz: runs each libFuzzer harness for FUZZ_SECONDS from its committed seed corpus
# (tests/fuzz/corpus/NAME, read-only) and writes new inputs to build/fuzz/corpus/NAME. A crash
# leaves crash-* in build/fuzz/ and fails; turn it into a regression input under
# tests/fuzz/regressions/NAME/ (replayed by tests/e2e_fuzz_regressions.sh in make test).
set -u
secs=${FUZZ_SECONDS:-60}
rc=0
for f in "$@"; do
  name=$(basename "$f"); name=${name#fuzz_}
  mkdir -p build/fuzz/corpus/$name
  echo "== fuzz $name for ${secs}s"
  ASAN_OPTIONS=detect_leaks=1 "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build/fuzz/ -print_final_stats=1 build/fuzz/corpus/$name tests/fuzz/corpus/$name \
    2>&1 | grep -E "^#[0-9]+ *DONE|stat::number_of_executed_units|ERROR|SUMMARY|Done" || true
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || { echo "fuzz $name: FINDING (exit $status), see build/fuzz/crash-*"; rc=1; }
done
exit $rc
