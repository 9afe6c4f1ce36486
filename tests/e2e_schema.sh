# One owner of the run-log layout: README's schema section is exactly `rlgf schema`, every run log
# the algorithms write (incl. timing and a diverged run) passes `rlgf schema --check`, and a log
# with a dataset the schema does not know fails it, naming the dataset.
. tests/lib.sh
readme=$(sed -n '/^<!-- schema:begin/,/^<!-- schema:end/p' README.md | sed '1d;$d')
if [ "$readme" = "$($RLGF schema)" ]; then ok readme-is-schema
else fail readme-is-schema "README's schema section differs from \`rlgf schema\` (regenerate it: see the markers)"; fi

toy="configs/toy_match.ini cache_dir=$TMP/c iterations=2 --quiet"
for a in sl ppo ppopp aggrevated lols d2lols; do
  check run-$a $RLGF train $toy algo=$a out=$TMP/$a.h5 log.timing=true
  check schema-$a $RLGF schema --check $TMP/$a.h5
done
env RLGF_NAN_AT=1 $RLGF train $toy out=$TMP/nan.h5 >/dev/null 2>&1
check schema-diverged $RLGF schema --check $TMP/nan.h5

cp $TMP/ppo.h5 $TMP/extra.h5
h5copy -i $TMP/ppo.h5 -o $TMP/extra.h5 -s /iterations/lr -d /iterations/learning_rate >/dev/null 2>&1
$RLGF schema --check $TMP/extra.h5 >"$TMP/o" 2>"$TMP/e"; rc=$?
if [ $rc -eq 1 ] && grep -q "/iterations/learning_rate (float64) is not in the schema" "$TMP/e"; then ok unknown-column-fails; echo "   -> $(head -1 "$TMP/e")"
else fail unknown-column-fails "exit $rc: $(head -2 "$TMP/e")"; fi
expect_fail schema-bad-file "cannot open|No such file|not an HDF5" $RLGF schema --check $TMP/none.h5

# the readers' column names: every literal in the library is a column of the table
check reader-names-in-schema tools/check_schema_names.sh $RLGF
printf 'static const char *c = "eval/reward_maen";\n' > $TMP/typo.c
expect_fail reader-typo-caught 'eval/reward_maen.*not a column' tools/check_schema_names.sh $RLGF $TMP/typo.c
printf 'int f(void) { return h5log_read_attr(p, "complete", &v, &e); }\n' > $TMP/attr.c
expect_fail attr-literal-caught 'root attribute named by a literal' tools/check_schema_names.sh $RLGF $TMP/attr.c
