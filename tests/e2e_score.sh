# `rlgf score`: corpus output, --per-line, --metric, and malformed input (error naming the file
# and line, exit code 2).
. tests/lib.sh
H="$TMP/H.txt"; R="$TMP/R.txt"
printf '5 6 7 8\n9 10 13\n\n1 2 3 1\n' > "$H"
printf '5 6 7 8 | 5 6 9\n9 10 11 | 12\n4 5\n1 2 3 4 5\n' > "$R"
ALL="bleu4 rouge1 rouge2 rougeL meteor cider_d spice_f1 distinct1 distinct2 repetition"

# Corpus output: one `name value` line per metric, in order, values numbers.
corpus_lines() {
  $RLGF score --hyp "$H" --refs "$R" > "$TMP/corpus" || return 1
  [ "$(cut -d' ' -f1 "$TMP/corpus" | tr '\n' ' ')" = "$ALL " ] || { cat "$TMP/corpus"; return 1; }
  ! grep -vqE '^[a-zA-Z0-9_]+ -?[0-9]+\.[0-9]+$' "$TMP/corpus"
}
check corpus-has-every-metric corpus_lines

# The --help example, computed by hand: p1..p4 = 6/7, 4/5, 2/3, 1, BP 1 -> (48/105)^(1/4).
help_example() {
  printf '5 6 7 8\n9 10 13\n' > "$TMP/h1"; printf '5 6 7 8 | 5 6 9\n9 10 11 | 12\n' > "$TMP/r1"
  out=$($RLGF score --hyp "$TMP/h1" --refs "$TMP/r1" --metric bleu4,rougeL) || return 1
  [ "$out" = "$(printf 'bleu4 0.822267234\nrougeL 0.833333333')" ] || { echo "$out"; return 1; }
  $RLGF score --help | grep -q 'bleu4 0.822267234'
}
check help-example help_example

# --per-line: a header and one row per hypothesis (4, the empty one included), numbered from 1.
per_line() {
  $RLGF score --hyp "$H" --refs "$R" --per-line > "$TMP/pl" || return 1
  [ "$(wc -l < "$TMP/pl")" -eq 5 ] || { cat "$TMP/pl"; return 1; }
  [ "$(head -1 "$TMP/pl")" = "line $ALL" ] || return 1
  [ "$(cut -d' ' -f1 "$TMP/pl" | tail -4 | tr '\n' ' ')" = "1 2 3 4 " ] || return 1
  # the empty hypothesis (line 3) scores 0 everywhere
  [ "$(sed -n 4p "$TMP/pl" | tr ' ' '\n' | tail -n +2 | sort -u)" = "0.000000000" ]
}
check per-line-rows per_line

# --metric: repeatable and comma lists, output in the fixed order.
metric_filter() {
  out=$($RLGF score --hyp "$H" --refs "$R" --metric cider_d --metric bleu4,repetition) || return 1
  [ "$(echo "$out" | cut -d' ' -f1 | tr '\n' ' ')" = "bleu4 cider_d repetition " ] || { echo "$out"; return 1; }
  [ "$($RLGF score --hyp "$H" --refs "$R" --metric meteor --per-line | head -1)" = "line meteor" ]
}
check metric-filter metric_filter
expect_fail unknown-metric "unknown metric 'bleu' \(valid: bleu4, rouge1, .*repetition\)" \
  $RLGF score --hyp "$H" --refs "$R" --metric bleu

# Malformed input: the error names file and line; exit code 2.
exit2() { "$@" > /dev/null 2>&1; [ $? -eq 2 ]; }
printf '1 2\n3 x4\n' > "$TMP/bad_tok.txt"; printf '1\n2\n' > "$TMP/r2.txt"
expect_fail non-integer-token "bad_tok.txt:2: 'x4' is not a token id" \
  $RLGF score --hyp "$TMP/bad_tok.txt" --refs "$TMP/r2.txt"
check non-integer-token-exit-2 exit2 $RLGF score --hyp "$TMP/bad_tok.txt" --refs "$TMP/r2.txt"
printf '1\n2\n3\n' > "$TMP/h3.txt"; printf '1\n2 | 3\n4 | -5 6\n' > "$TMP/neg.txt"
expect_fail negative-id "neg.txt:3: negative token id '-5'" \
  $RLGF score --hyp "$TMP/h3.txt" --refs "$TMP/neg.txt"
check negative-id-exit-2 exit2 $RLGF score --hyp "$TMP/h3.txt" --refs "$TMP/neg.txt"
expect_fail line-count-mismatch "h3.txt:3: hypothesis without references: .*r2.txt has only 2 lines" \
  $RLGF score --hyp "$TMP/h3.txt" --refs "$TMP/r2.txt"
expect_fail line-count-mismatch-refs "h3.txt:3: references without a hypothesis: .*r2.txt has only 2 lines" \
  $RLGF score --hyp "$TMP/r2.txt" --refs "$TMP/h3.txt"
check line-count-mismatch-exit-2 exit2 $RLGF score --hyp "$TMP/h3.txt" --refs "$TMP/r2.txt"
expect_fail missing-file "cannot open '.*nope.txt'" $RLGF score --hyp "$TMP/nope.txt" --refs "$R"
check missing-file-exit-2 exit2 $RLGF score --hyp "$TMP/nope.txt" --refs "$R"
expect_fail missing-refs-option "--hyp and --refs are required" $RLGF score --hyp "$H"

# --concepts: spice_f1 on concepts only (the worked example of tests/test_metrics.c: 4/7).
concepts() {
  printf '1 5 2 3\n' > "$TMP/hc"; printf '2 1 6 | 1 3 4\n' > "$TMP/rc"; printf '1 2\n3 4\n' > "$TMP/cc"
  out=$($RLGF score --hyp "$TMP/hc" --refs "$TMP/rc" --concepts "$TMP/cc" --metric spice_f1) || return 1
  [ "$out" = "spice_f1 0.571428571" ] || { echo "$out"; return 1; }
}
check concepts-file concepts
