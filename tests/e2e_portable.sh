# The bits do not depend on the machine: the golden config gives the golden digest
#  - with glibc told to use the libm/string variants of a CPU without AVX2 and FMA (GLIBC_TUNABLES),
#  - from a clang build (make clang-build, run by `make e2e` before this script; its maths and
#    model-kernel unit tests too),
# and no libm transcendental is called outside sim/base/dmath (tools/check_libm.sh, sources and binary).
. tests/lib.sh
golden=$(cat tests/golden/imdb_small.digest)
small="configs/imdb_small.ini --quiet"
NOFMA='glibc.cpu.hwcaps=-AVX2_Usable,-FMA_Usable,-AVX2,-FMA,-AVX512F_Usable,-AVX512F'

check no-libm-transcendentals tools/check_libm.sh $RLGF
grep -q "no libm" "$TMP/out" || cat "$TMP/out"

check run-no-fma-libm env GLIBC_TUNABLES=$NOFMA $RLGF train $small cache_dir=$TMP/c1 out=$TMP/nofma.h5
d=$($RLGF digest $TMP/nofma.h5 | cut -d' ' -f1)
echo "   digest, glibc without AVX2/FMA variants: $d"
[ "$d" = "$golden" ] && ok no-fma-libm-golden || fail no-fma-libm-golden "got $d, golden $golden"

CLANG_RLGF=build/clang/rlgf
if [ -x "$CLANG_RLGF" ]; then
  check run-clang $CLANG_RLGF train $small cache_dir=$TMP/c2 out=$TMP/clang.h5
  d=$($RLGF digest $TMP/clang.h5 | cut -d' ' -f1)
  echo "   digest, clang build: $d"
  [ "$d" = "$golden" ] && ok clang-golden || fail clang-golden "got $d, golden $golden"
  check run-clang-l2c32 $CLANG_RLGF train $small model.layers=2 model.channels=32 cache_dir=$TMP/c3 out=$TMP/clang2.h5
  d=$($RLGF digest $TMP/clang2.h5 | cut -d' ' -f1)
  [ "$d" = "$(cat tests/golden/imdb_small_l2c32.digest)" ] && ok clang-golden-l2c32 || fail clang-golden-l2c32 "got $d"
  check clang-no-libm tools/check_libm.sh $CLANG_RLGF
  # the maths alone, every function against MPFR and its pinned result bits, compiled by clang
  check clang-dmath-bits env RLGF_SKIP_SLOW=1 build/clang/tests/test_dmath
  # the model's kernels as clang compiles them: gradient checks and every attention instance
  # (SSE2 and AVX2) against the scalar statement of their orders, bit for bit
  check clang-model-kernels build/clang/tests/test_model
else
  fail clang-golden "$CLANG_RLGF missing (make clang-build)"
fi
