# Bad input: each case must exit non-zero, say what is wrong (naming the key, value, file or line)
# and leave no output file that looks complete.
. tests/lib.sh
OUT="$TMP/run.h5"
small="configs/imdb_small.ini cache_dir=$TMP/cache out=$OUT"

expect_fail unknown-key "unknown key 'ppo.lrr' \(did you mean 'ppo.lr'\?\)" $RLGF train $small ppo.lrr=0.1
expect_fail bad-number "ppo.lr.*'abc' is not a number" $RLGF train $small ppo.lr=abc
expect_fail out-of-range "threads.*'0'" $RLGF train $small threads=0
expect_fail bad-choice "algo.*'pop'" $RLGF train $small algo=pop
expect_fail bad-bool "ppo.norm_adv.*'maybe'" $RLGF train $small ppo.norm_adv=maybe
expect_fail missing-file "nope.ini" $RLGF train $TMP/nope.ini
printf 'task = imdb\nthis line is broken\n' > "$TMP/bad.ini"
expect_fail malformed-ini "bad.ini:2" $RLGF train "$TMP/bad.ini"
printf '[ppo]\nlr = fast\n' > "$TMP/bad2.ini"
expect_fail bad-value-in-file "bad2.ini:2: key 'ppo.lr'" $RLGF train "$TMP/bad2.ini"
expect_fail heads-divide-channels "model.heads" $RLGF train $small model.heads=3
expect_fail unwritable-output "/proc/rlgf/run.h5" $RLGF train configs/imdb_small.ini cache_dir=$TMP/cache out=/proc/rlgf/run.h5
expect_fail not-key-value "'=5' is not key=value" $RLGF train $small =5
expect_fail unknown-option "unknown option '--fast'" $RLGF train $small --fast
expect_fail digest-missing "missing.h5" $RLGF digest "$TMP/missing.h5"
echo "not hdf5" > "$TMP/garbage.h5"
expect_fail digest-garbage "garbage.h5" $RLGF digest "$TMP/garbage.h5"
expect_fail info-garbage "garbage.h5" $RLGF info "$TMP/garbage.h5"
if [ -e "$OUT" ]; then fail no-output-left "$OUT exists after failed runs"; else ok no-output-left; fi
