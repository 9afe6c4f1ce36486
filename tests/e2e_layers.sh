# The layering rule of ARCHITECTURE.md holds (tools/check_layers.sh), and the check can fail: on a
# copy of the tree, a lower layer including a higher one, and a new exit() in library code, are
# each caught, naming the file and line.
. tests/lib.sh
check layers-hold tools/check_layers.sh
head -1 "$TMP/out" | sed 's/^/   /'

copy=$TMP/tree
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy" 2>/dev/null
(cd "$copy" && git init -q && git add -A >/dev/null 2>&1)
echo '#include "../run/train.h"' >> "$copy/sim/nn/gpt.c"
(cd "$copy" && git add -A >/dev/null 2>&1)
if (cd "$copy" && tools/check_layers.sh) >"$TMP/o2" 2>&1; then fail upward-include-caught "exit 0"
elif grep -q "sim/nn/gpt.c:.*sim/nn may not include sim/run" "$TMP/o2"; then ok upward-include-caught; echo "   -> $(grep 'may not' "$TMP/o2" | head -1)"
else fail upward-include-caught "$(head -3 "$TMP/o2")"; fi
git -C "$copy" checkout -q -- sim/nn/gpt.c
printf 'void rlgf_bad_(void) { exit(1); }\n' >> "$copy/envs/world.c"
(cd "$copy" && git add -A >/dev/null 2>&1)
if (cd "$copy" && tools/check_layers.sh) >"$TMP/o3" 2>&1; then fail library-exit-caught "exit 0"
elif grep -q "envs/world.c:.*exit" "$TMP/o3"; then ok library-exit-caught; echo "   -> $(grep 'envs/world.c' "$TMP/o3" | head -1)"
else fail library-exit-caught "$(head -3 "$TMP/o3")"; fi
