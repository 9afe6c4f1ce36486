#!/usr/bin/env bash
# Every run-log column a library file names in a string literal ("eval/reward_mean",
# "/trajectories/logp", ...) is a column of the schema table (`rlgf schema`, sim/store/schema.c):
# readers (analyze, summary, info, diff, the Minari export) that re-type a name the table does not
# have fail here instead of reading nothing at run time. Wildcard rows (`metric_*`, `*_mean`) match
# as shell patterns. Root attributes are named only through the table (schema_attr(ATTR_...)): a
# string literal as the name argument of a run-log attribute call (h5log_read_attr, h5info's
# attr_text, analyze's listing_attr, diff's find_attr on "/", h5log's writes) fails too, when the
# call is on one line; a literal kept in an array or compared with strcmp is not seen. The conformance kit's
# own files (sim/run/conformance.c) are not run logs.
# usage: tools/check_schema_names.sh RLGF_BINARY [FILE.c ...]   (default: the library's sources;
#        exit 1 and one line per unknown name)
set -u
rlgf=${1:-./rlgf}
shift || true
if [ $# -eq 0 ]; then
  set -- $(ls sim/*/*.c analysis/*.c algos/*.c envs/*.c | grep -v '^sim/run/conformance.c$')
fi
cols=$("$rlgf" schema | awk '
  /^\*\*`\/[a-z_]+\/`\*\*/ { g = $0; sub(/^\*\*`\//, "", g); sub(/\/`.*/, "", g); next }
  /^\*\*root/ { g = ""; next }
  /^\| `/ && g != "" { c = $2; gsub(/`/, "", c); print g "/" c }')
[ -n "$cols" ] || { echo "check_schema_names: \`$rlgf schema\` printed no columns" >&2; exit 2; }
bad=0
while IFS=: read -r file name; do
  name=${name#\"}; name=${name%\"}; name=${name#/}
  hit=0
  while read -r c; do
    # shellcheck disable=SC2053
    [[ $name == $c ]] && { hit=1; break; }
  done <<<"$cols"
  [ $hit -eq 1 ] || { echo "$file: \"$name\" is not a column of the run-log schema (rlgf schema)" >&2; bad=1; }
done < <(grep -HoE '"/?(trajectories|eval|iterations)/[a-z_0-9]+"' "$@" | sort -u)
# root attributes by a literal name instead of schema_attr(ATTR_...)
while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  echo "${hit%%:*}: root attribute named by a literal (${hit#*:}): use schema_attr(ATTR_...) (rlgf schema)" >&2
  bad=1
done < <(grep -HoE '(h5log_read_attr|attr_text|listing_attr)\(([^;"(),]|\([^;"()]*\))*,[[:space:]]*"[^"]*"|find_attr\(([^;"(),]|\([^;"()]*\))*,[[:space:]]*"/",[[:space:]]*"[^"]*"|(write_attr|write_str_attr|H5Aopen)\(L->file,[[:space:]]*"[^"]*"' "$@")
exit $bad
