# Helpers for the end-to-end scripts. `ok NAME` / `fail NAME WHY` print one result line each;
# `expect_fail NAME PATTERN CMD...` runs CMD, which must exit non-zero and print PATTERN on stderr.
RLGF=${RLGF:-./rlgf}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
check() { local name=$1; shift; if "$@" >"$TMP/out" 2>&1; then ok "$name"; else fail "$name" "$(tail -5 "$TMP/out")"; fi; }
expect_fail() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
  if [ $rc -eq 0 ]; then fail "$name" "exit 0 (expected an error)"; return; fi
  if grep -qE -- "$pattern" "$TMP/err"; then ok "$name"; echo "   -> $(head -1 "$TMP/err")"
  else fail "$name" "stderr lacks /$pattern/: $(head -3 "$TMP/err")"; fi
}
